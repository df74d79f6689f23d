"""The batch on a real Dask cluster (scheduler + two worker processes on 127.0.0.1)
gives results identical to the serial run; the SLURM cluster is configured from the
config (dask-jobqueue, optional)."""

from __future__ import annotations

import pandas as pd
import pytest
from pipeline_plugins import make_study, tiny_config, write_yaml

from ketephys.cli import main
from ketephys.errors import ConfigError
from ketephys.pipeline import config_from_dict, make_slurm_cluster, run

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two single-threaded worker processes on 127.0.0.1; the workers'
    scratch space (spill files, locks) is a pytest temporary folder, not the system's."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           local_directory=str(tmp_path_factory.mktemp("dask-workers")))
    try:
        yield cluster
    finally:
        cluster.close()


def test_scheduler_run_identical_to_serial(tmp_path, dask_cluster):
    make_study(tmp_path / "raw", n_good=8, n_corrupt=1)
    cfg_path = write_yaml(tiny_config(tmp_path / "raw"), tmp_path / "cfg.yaml")
    assert main(["run", str(cfg_path), "--out", str(tmp_path / "serial"), "-q"]) == 1
    address = dask_cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    status = main(["run", str(cfg_path), "--out", str(tmp_path / "dask"), "-q",
                   "--scheduler", address])
    assert status == 1  # the corrupt file fails on the cluster too
    a = pd.read_parquet(tmp_path / "serial" / "features.parquet")
    b = pd.read_parquet(tmp_path / "dask" / "features.parquet")
    assert a["recording"].nunique() == 8
    pd.testing.assert_frame_equal(a, b)
    fa = pd.read_csv(tmp_path / "serial" / "failures.csv")
    fb = pd.read_csv(tmp_path / "dask" / "failures.csv")
    pd.testing.assert_frame_equal(fa, fb)
    # the work really ran on the cluster's worker processes
    from distributed import Client

    with Client(address) as client:
        assert len(client.scheduler_info()["workers"]) == 2


def test_scheduler_file_and_unreachable_scheduler(tmp_path, dask_cluster):
    make_study(tmp_path / "raw", n_good=2)
    sched_file = tmp_path / "scheduler.json"
    import json

    sched_file.write_text(json.dumps({"address": dask_cluster.scheduler_address}))
    cfg = config_from_dict(tiny_config(tmp_path / "raw"), base_dir=tmp_path)
    res = run(cfg, out=tmp_path / "out", scheduler_file=str(sched_file))
    assert res.ok and res.n_computed == 2
    with pytest.raises(ConfigError, match="scheduler file not found"):
        run(cfg, out=tmp_path / "o2", scheduler_file=str(tmp_path / "none.json"))


def test_slurm_cluster_configured_from_config(tmp_path):
    pytest.importorskip("dask_jobqueue")
    data = tiny_config(tmp_path)
    data["run"] = {"cluster": "slurm", "slurm": {
        "queue": "gpu-short", "account": "lab42", "cores": 4, "processes": 2,
        "memory": "8GB", "walltime": "02:30:00", "jobs": 3,
        "job_extra_directives": ["--constraint=avx2"]}}
    (tmp_path / "x.npy").write_bytes(b"")
    cfg = config_from_dict(data, base_dir=tmp_path)
    cluster = make_slurm_cluster(cfg)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p gpu-short" in script
    assert "#SBATCH -A lab42" in script
    assert "#SBATCH -t 02:30:00" in script
    assert "#SBATCH --cpus-per-task=4" in script
    assert "#SBATCH --constraint=avx2" in script
    assert "--nworkers 2" in script and "--nthreads 2" in script
    assert "export OMP_NUM_THREADS=1" in script
    assert "--memory-limit 3.73GiB" in script  # 8 GB over 2 worker processes
