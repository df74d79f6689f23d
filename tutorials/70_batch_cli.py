"""
.. _tut-batch:

Batch runs: the command line and a Dask cluster
===============================================

A real study has hundreds of recordings. The ``ketephys`` command runs a whole study
from one YAML configuration: it finds the recordings (a manifest, a BIDS dataset or a
file pattern), analyses each in its own process (or on a Dask cluster), caches every
result so that an interrupted or extended run only computes what is new, makes the
decay fits and writes the tables and an HTML report.

This tutorial runs the EEG part of the quickstart's simulated study
(:ref:`tut-quickstart`) three ways and checks they agree to the last digit:

1. ``ketephys run`` with two local worker processes;
2. the same command again: everything comes from the cache;
3. the Python API on a local Dask cluster (2 worker processes on 127.0.0.1), the way a
   cluster of many machines is used.
"""

# %%
# A study and its configuration
# -----------------------------
# We simulate six subjects' EEG (prefrontal cortex, six visits, two doses) and write a
# configuration file beside the data. Paths in a configuration are relative to the
# configuration file, so a study folder can be moved or shared. ``ketephys config
# --example`` prints a configuration with every option explained.

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

import ketephys
from ketephys.pipeline import load_config, run

pd.set_option("display.width", 130)
pd.set_option("display.max_columns", 20)

workdir = Path(tempfile.mkdtemp(prefix="ketephys_batch_"))
manifest, truth = ketephys.simulate.simulate_study(workdir / "data", n_subjects=6,
                                                   modalities=("eeg",), seed=0)
config = {
    "study": "EEG part of the demo study",
    "inputs": {"manifest": "data/manifest.csv"},
    "modalities": {"eeg": {"spectral": {"aperiodic": None}}},
    "longitudinal": {"fits": [{"measure": "gamma_power", "modality": "eeg",
                               "group": "region", "covariates": ["dose"]}]},
    "run": {"n_jobs": 2},
}
config_path = workdir / "study.yaml"
config_path.write_text(yaml.safe_dump(config, sort_keys=False))
print(config_path.read_text())


def ketephys_cli(*args: str) -> subprocess.CompletedProcess:
    """Run the ``ketephys`` command of this Python (``python -m ketephys.cli``)."""
    proc = subprocess.run([sys.executable, "-m", "ketephys.cli", *args], cwd=workdir,
                          capture_output=True, text=True)
    print(proc.stdout[-2500:])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


ketephys_cli("config", "--check", str(config_path))
ketephys_cli("info", str(workdir / "data" / manifest["path"].iloc[0]))

# %%
# ``ketephys run`` with two worker processes
# ------------------------------------------
# Each recording is one task: read, analyse with the configured settings, cache the
# rows. ``--n-jobs 2`` runs two at a time, each worker with one BLAS thread (more threads
# per worker only make workers fight over the cores). The exit status is 0 when every
# recording succeeded, 1 when any failed (listed in ``failures.csv``; the others still
# run), 2 for a configuration error.

t0 = time.perf_counter()
ketephys_cli("run", str(config_path), "--out", "out_cli", "--n-jobs", "2", "--no-report")
first_seconds = time.perf_counter() - t0
out_cli = workdir / "out_cli"
print(sorted(p.name for p in out_cli.iterdir()))
cli_features = pd.read_csv(out_cli / "features.csv")
cli_fits = pd.read_csv(out_cli / "decay_fits.csv")

# %%
# Run it again: every recording comes from the cache (keyed by the file's content and
# the analysis settings, never by how the run was executed), so only the fits are
# recomputed. Changing a setting in the configuration, or a file, recomputes exactly
# the recordings it affects.

t0 = time.perf_counter()
again = ketephys_cli("run", str(config_path), "--out", "out_cli", "--n-jobs", "2",
                     "--no-report")
second_seconds = time.perf_counter() - t0
print(f"first run {first_seconds:.1f} s, second run {second_seconds:.1f} s")
assert f"from cache {len(manifest)}" in again.stdout.replace("\n", " ")

# %%
# On a Dask cluster
# -----------------
# For many recordings, the same run goes to a Dask cluster: ``ketephys run study.yaml
# --scheduler tcp://host:8786`` (or ``--scheduler-file``, or ``--cluster slurm`` to start
# workers through SLURM with dask-jobqueue). Here we start a local cluster of two worker
# processes on 127.0.0.1 and pass its address to :func:`ketephys.pipeline.run`.
#
# A note on scripts: Dask (like ``--n-jobs``) *spawns* its worker processes by default,
# and a spawned process re-imports the script that started it. A script must then keep
# the cluster under ``if __name__ == "__main__":``. So that this tutorial runs top to
# bottom as a script and as a notebook, we ask Dask to *fork* its workers instead.

import dask
from distributed import Client, LocalCluster

with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}):
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
client = Client(cluster)
print(cluster.scheduler_address, f"{len(client.scheduler_info()['workers'])} workers")
try:
    dask_result = run(load_config(config_path), out=workdir / "out_dask",
                      scheduler=cluster.scheduler_address, report=False)
finally:
    client.close()
    cluster.close()
print(f"Dask: {dask_result.n_computed} recordings computed, {dask_result.n_failed} failed")
assert dask_result.ok and dask_result.n_computed == len(manifest)

# %%
# Same numbers, whatever ran them
# -------------------------------
# Execution settings never change results: the feature values and the decay fits of the
# two-process command-line run and of the Dask run are identical.

key = ["subject", "session", "region", "measure", "channel"]
a = cli_features.sort_values(key).reset_index(drop=True)
b = dask_result.features.sort_values(key).reset_index(drop=True)
pd.testing.assert_series_equal(a["value"], b["value"], check_exact=False, rtol=1e-12)
print(f"{len(a)} feature rows identical")
columns = ["fit", "region", "tau_h", "tau_ci_low_h", "tau_ci_high_h", "identifiable"]
print(pd.concat({"cli": cli_fits[columns], "dask": dask_result.fits[columns]}).round(2))
pd.testing.assert_series_equal(cli_fits["tau_h"], dask_result.fits["tau_h"], rtol=1e-9)
true_tau = truth["regions"]["PFC"]["tau_h"]
row = cli_fits.iloc[0]
print(f"PFC tau {row['tau_h']:.1f} h [{row['tau_ci_low_h']:.1f}, {row['tau_ci_high_h']:.1f}]"
      f", simulated {true_tau} h")
assert row["tau_ci_low_h"] <= true_tau <= row["tau_ci_high_h"]

shutil.rmtree(workdir, ignore_errors=True)
