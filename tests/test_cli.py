"""The ``ketephys`` command: help, config, info, simulate, error reporting."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from pipeline_plugins import subprocess_env, tiny_config, write_yaml

from ketephys.cli import build_parser, main


def test_help_is_fast_and_light():
    code = ("import sys; from ketephys.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('mne', 'scipy.signal', 'dask', 'distributed', "
            "'matplotlib.pyplot', 'specparam', 'pynwb') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=subprocess_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    res = subprocess.run([sys.executable, "-m", "ketephys", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0
    for cmd in ("demo", "run", "config", "info", "simulate", "fit"):
        assert cmd in res.stdout


def test_run_options_parse():
    args = build_parser().parse_args(
        ["run", "c.yaml", "--out", "o", "--n-jobs", "3", "--scheduler", "tcp://h:1",
         "--subjects", "01", "02", "--sessions", "d3", "--force", "-v"])
    assert (args.n_jobs, args.scheduler, args.subjects, args.sessions, args.force) == \
        (3, "tcp://h:1", ["01", "02"], ["d3"], True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "c.yaml", "--scheduler", "a",
                                   "--scheduler-file", "b"])


def test_config_example_and_check(tmp_path, capsys):
    assert main(["config", "--example"]) == 0
    text = capsys.readouterr().out
    assert yaml.safe_load(text)["run"]["n_jobs"] == 1
    (tmp_path / "raw").mkdir()
    np.save(tmp_path / "raw" / "a_pfc_2h.npy", np.zeros((1, 10)))
    cfg = write_yaml(tiny_config(tmp_path / "raw"), tmp_path / "cfg.yaml")
    assert main(["config", "--check", str(cfg)]) == 0
    assert "1 recordings found (lfp: 1)" in capsys.readouterr().out


def test_misspelled_key_via_cli(tmp_path, capsys):
    data = tiny_config(tmp_path)
    data["run"] = {"on_eror": "abort"}
    cfg = write_yaml(data, tmp_path / "cfg.yaml")
    assert main(["run", str(cfg), "-q"]) == 2
    err = capsys.readouterr().err
    assert "run.on_eror" in err and "did you mean 'on_error'" in err
    assert str(cfg) in err


def test_config_check_names_the_renamed_fit_key(tmp_path, capsys):
    """``longitudinal.fits[].baseline`` is now ``baseline_mode``: an old config fails the
    check naming the new key (never silently ignored), and the new key reaches the fit."""
    from ketephys.pipeline.config import config_from_dict
    from ketephys.pipeline.fits import fit_one
    from ketephys.simulate.markers import simulate_marker_study

    (tmp_path / "raw").mkdir()
    np.save(tmp_path / "raw" / "a_pfc_2h.npy", np.zeros((1, 10)))
    data = tiny_config(tmp_path / "raw")
    data["longitudinal"] = {"fits": [{"measure": "gamma_power", "baseline": "estimate"}]}
    old = write_yaml(data, tmp_path / "old.yaml")
    assert main(["config", "--check", str(old)]) == 2
    err = capsys.readouterr().err
    assert "longitudinal.fits[0].baseline" in err and "renamed 'baseline_mode'" in err
    data["longitudinal"]["fits"][0] = {"measure": "gamma_power", "baseline_mode": "estimate"}
    new = write_yaml(data, tmp_path / "new.yaml")
    assert main(["config", "--check", str(new)]) == 0
    capsys.readouterr()
    fit = config_from_dict(data, base_dir=tmp_path).longitudinal.fits[0]
    table, _ = simulate_marker_study(n_subjects=6, regions=("PFC",), seed=3)
    summary, _ = fit_one(table, fit.model_copy(update={"ci": "none"}))
    assert summary["baseline_estimated"].tolist() == [True]


def test_info_prints_what_read_sees(tmp_path, capsys):
    from ketephys import Recording
    from ketephys.io import write

    rec = Recording(np.random.default_rng(0).normal(size=(2, 500)) * 1e-6, 250.0,
                    ["Fz", "Cz"], ["eeg", "eeg"], meta={"subject": "07", "region": "PFC"})
    path = write(rec, tmp_path / "x.npy")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "250" in out and "Fz" in out and "subject" in out and "07" in out
    assert main(["info", str(tmp_path / "missing.edf")]) == 2


def test_simulate_writes_study(tmp_path, capsys):
    assert main(["simulate", "--out", str(tmp_path / "study"), "--n-subjects", "1",
                 "-q"]) == 0
    manifest = pd.read_csv(tmp_path / "study" / "manifest.csv")
    # 6 visits x (EEG PFC + LFP 3 regions + TMS PFC + fEPSP HPC)
    assert len(manifest) == 6 * 6
    assert set(manifest["modality"]) == {"eeg", "lfp", "tms-eeg", "fepsp"}
    assert all((tmp_path / "study" / p).is_file() for p in manifest["path"])
    assert (tmp_path / "study" / "truth.json").is_file()


def test_main_restores_the_logging_it_set_up(capsys):
    import logging

    logger = logging.getLogger("ketephys")
    before = (list(logger.handlers), logger.level, logger.propagate)
    assert main(["config", "--example", "-v"]) == 0
    capsys.readouterr()
    # a script, notebook or test that calls main() keeps its own logging afterwards
    assert (list(logger.handlers), logger.level, logger.propagate) == before
