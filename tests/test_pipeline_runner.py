"""Batch runner: identical results in every execution mode, failure isolation, resume.

Uses the tiny reader/analyser of ``pipeline_plugins`` (value = mean square x scale,
known exactly), so these tests exercise the machinery, not an analyser.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipeline_plugins import (
    make_study,
    subprocess_env,
    tiny_config,
    write_yaml,
)

from ketephys.cli import main
from ketephys.errors import ConfigError
from ketephys.pipeline import config_from_dict, run


def _digests(paths):
    return {p: (hashlib.sha256(Path(p).read_bytes()).hexdigest(), os.stat(p).st_mtime_ns)
            for p in paths}


def test_values_are_right_and_metadata_from_pattern(tmp_path):
    files = make_study(tmp_path / "raw", n_good=4)
    res = run(config_from_dict(tiny_config(tmp_path / "raw"), base_dir=tmp_path),
              out=tmp_path / "out")
    assert res.ok and res.n_computed == 4
    feats = res.features
    assert len(feats) == 4 * 2  # two channels each
    row = feats[(feats["recording"] == str(files[0].resolve())) & (feats["channel"] == "C1")]
    expected = 2.0 * np.mean(np.load(files[0])[1] ** 2)
    assert row["value"].item() == pytest.approx(expected, rel=1e-12)
    assert row["subject"].item() == "s00" and row["region"].item() == "pfc"
    assert row["hours_since_dose"].item() == 0.0
    on_disk = pd.read_parquet(tmp_path / "out" / "features.parquet")
    pd.testing.assert_frame_equal(on_disk, feats)
    csv = pd.read_csv(tmp_path / "out" / "features.csv")
    assert np.allclose(csv["value"], feats["value"], rtol=1e-12)
    prov = __import__("json").loads((tmp_path / "out" / "provenance.json").read_text())
    assert {i["path"] for i in prov["inputs"]} == {str(f.resolve()) for f in files}
    assert all(len(i["files"][0]["sha256"]) == 64 for i in prov["inputs"])
    assert prov["versions"]["ketephys"]
    assert prov["config"]["modalities"]


def test_serial_and_process_pool_give_identical_outputs(tmp_path):
    make_study(tmp_path / "raw", n_good=6)
    cfg = config_from_dict(tiny_config(tmp_path / "raw"), base_dir=tmp_path)
    serial = run(cfg, out=tmp_path / "serial")
    pool = run(cfg, out=tmp_path / "pool", n_jobs=2)
    assert pool.n_computed == 6
    pd.testing.assert_frame_equal(serial.features, pool.features)
    a = pd.read_parquet(tmp_path / "serial" / "features.parquet")
    b = pd.read_parquet(tmp_path / "pool" / "features.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "serial" / "features.csv").read_bytes() == \
        (tmp_path / "pool" / "features.csv").read_bytes()


def test_ten_good_three_corrupt_exit_status_one(tmp_path, capsys):
    files = make_study(tmp_path / "raw", n_good=10, n_corrupt=3)
    before = _digests(files)
    cfg = write_yaml(tiny_config(tmp_path / "raw"), tmp_path / "cfg.yaml")
    status = main(["run", str(cfg), "--out", str(tmp_path / "out"), "-q"])
    assert status == 1
    feats = pd.read_parquet(tmp_path / "out" / "features.parquet")
    assert feats["recording"].nunique() == 10
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert len(failures) == 3
    assert set(failures["error_type"]) == {"CorruptFileError"}
    assert all(Path(f).name.startswith("bad") for f in failures["file"])
    assert failures["message"].str.contains("not a valid .npy").all()
    assert _digests(files) == before  # inputs never modified


def test_abort_stops_at_first_failure(tmp_path):
    make_study(tmp_path / "raw", n_good=0, n_corrupt=2)
    make_study(tmp_path / "raw", n_good=3)
    cfg = config_from_dict(tiny_config(tmp_path / "raw", on_error="abort"), base_dir=tmp_path)
    res = run(cfg, out=tmp_path / "out")
    # sorted order: bad00 first -> stops there
    assert res.aborted and res.n_failed == 1 and res.n_computed == 0
    assert not res.ok


def test_cache_key_ignores_execution_but_not_analysis_settings(tmp_path, monkeypatch):
    files = make_study(tmp_path / "raw", n_good=4)
    calls = tmp_path / "calls"
    calls.mkdir()
    monkeypatch.setenv("KETEPHYS_TEST_CALL_LOG", str(calls))
    data = tiny_config(tmp_path / "raw")
    cfg = config_from_dict(data, base_dir=tmp_path)
    out = tmp_path / "out"
    first = run(cfg, out=out)
    assert first.n_computed == 4 and len(list(calls.iterdir())) == 4
    again = run(cfg, out=out, n_jobs=2)  # execution settings: still cached
    assert again.n_cached == 4 and again.n_computed == 0
    assert len(list(calls.iterdir())) == 4
    pd.testing.assert_frame_equal(first.features, again.features)
    forced = run(cfg, out=out, force=True)
    assert forced.n_computed == 4 and len(list(calls.iterdir())) == 8
    # an analysis setting changes the key
    data["modalities"]["lfp"]["pipeline_plugins:tiny_analyse"]["scale"] = 3.0
    changed = run(config_from_dict(data, base_dir=tmp_path), out=out)
    assert changed.n_computed == 4
    assert np.allclose(changed.features["value"] / first.features["value"], 1.5)
    # new content in one file: only that one is recomputed
    np.save(files[0], np.ones((2, 200)))
    os.utime(files[0], ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    edited = run(config_from_dict(data, base_dir=tmp_path), out=out)
    assert edited.n_computed == 1 and edited.n_cached == 3


def test_interrupted_run_resumes_without_recomputing(tmp_path):
    """A serial run killed while it analyses the 4th recording (held there by the analyser
    until the kill, so no timing decides how far it got) resumes with the other 5 only."""
    n, n_done = 8, 3
    files = sorted(p.resolve() for p in make_study(tmp_path / "raw", n_good=n))
    data = tiny_config(tmp_path / "raw")
    cfg = write_yaml(data, tmp_path / "cfg.yaml")
    out = tmp_path / "out"
    calls, gate = tmp_path / "calls", tmp_path / "gate"
    calls.mkdir()
    gate.mkdir()
    env = {**subprocess_env(), "KETEPHYS_TEST_CALL_LOG": str(calls)}
    held_env = {**env, "KETEPHYS_TEST_HOLD": f"{files[n_done].name}:{gate}"}
    cmd = [sys.executable, "-m", "ketephys", "run", str(cfg), "--out", str(out), "-q"]
    proc = subprocess.Popen(cmd, env=held_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # a bound for a stuck run, not a timing
        while not (gate / "holding").exists():
            if proc.poll() is not None:
                pytest.fail(f"run ended before it reached {files[n_done].name}: "
                            f"{proc.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail(f"run did not reach {files[n_done].name} in 120 s")
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    cache = out / "cache"
    assert len(list(cache.glob("*.parquet"))) == n_done  # serial: 3 cached, 4th held
    first_calls = {p.name.split(".npy")[0] for p in calls.iterdir()}
    assert first_calls == {f.stem for f in files[:n_done + 1]}
    for p in calls.iterdir():
        p.unlink()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rerun_calls = {p.name.split(".npy")[0] for p in calls.iterdir()}
    assert rerun_calls == {f.stem for f in files[n_done:]}  # only the unfinished ones
    feats = pd.read_parquet(out / "features.parquet")
    assert feats["recording"].nunique() == n
    # same values as an uninterrupted run
    clean = run(config_from_dict(data, base_dir=tmp_path), out=tmp_path / "clean")
    pd.testing.assert_frame_equal(clean.features, feats)


def test_missing_input_folder_is_a_clear_error(tmp_path, capsys):
    cfg = write_yaml(tiny_config(tmp_path / "nowhere"), tmp_path / "cfg.yaml")
    with pytest.raises(ConfigError, match="input folder does not exist"):
        run(config_from_dict(tiny_config(tmp_path / "nowhere"), base_dir=tmp_path))
    assert main(["run", str(cfg), "-q"]) == 2
    err = capsys.readouterr().err
    assert "input folder does not exist" in err and str(tmp_path / "nowhere") in err
