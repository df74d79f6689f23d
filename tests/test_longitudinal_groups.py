"""Decay fits per group (new-user finding 5; L3, L11, L12, L13, P31).

One group that cannot be fitted no longer costs the others their tau; its row says why;
``ketephys fit`` and ``ketephys run`` exit with status 3 when a fit failed or is not
identifiable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from ketephys.longitudinal import fit_decay
from ketephys.longitudinal.cli import main as fit_main
from ketephys.longitudinal.decay import fit_decay_by_group
from ketephys.pipeline.config import FitConfig
from ketephys.pipeline.fits import run_fits
from ketephys.pipeline.runner import fit_problems
from ketephys.simulate.markers import simulate_marker_study


@pytest.fixture(scope="module")
def marker():
    table, _ = simulate_marker_study(n_subjects=8, regions=("PFC", "HPC", "STR"), seed=3)
    table["subject"] = table["subject"].str.removeprefix("sub-")
    return table


def test_a_group_with_two_subjects_keeps_the_others_l13(marker):
    few = marker[~((marker["region"] == "STR") & ~marker["subject"].isin(["01", "02"]))]
    summary, fit = fit_decay_by_group(few, ci="none")
    rows = summary.set_index("region")
    assert "at least 3 subjects" in rows.loc["STR", "error"]
    ref = fit_decay(few[few["region"] != "STR"], ci="none").summary().set_index("region")
    np.testing.assert_allclose(rows.loc[["HPC", "PFC"], "tau_h"], ref.loc[["HPC", "PFC"],
                               "tau_h"], rtol=1e-9)
    assert rows.loc[["HPC", "PFC"], "error"].isna().all()
    assert sorted(g.key for g in fit.groups) == [("HPC",), ("PFC",)]


def test_all_groups_fittable_gives_the_joint_fit(marker):
    summary, _ = fit_decay_by_group(marker, ci="none")
    ref = fit_decay(marker, ci="none").summary()
    pd.testing.assert_frame_equal(summary.drop(columns=["error"], errors="ignore")
                                  .reset_index(drop=True), ref.reset_index(drop=True))


def test_times_not_in_hours_are_named_l11(marker, tmp_path, capsys):
    scaled = marker.assign(hours_since_dose=marker["hours_since_dose"] * 1e6)
    summary, fit = fit_decay_by_group(scaled, ci="none")
    assert fit is None and summary["error"].str.contains("not in hours").all()
    path = tmp_path / "ms.csv"
    scaled.to_csv(path, index=False)
    assert fit_main([str(path), "--ci", "none"]) == 3
    captured = capsys.readouterr()
    assert "not in hours" in captured.out and "Traceback" not in captured.err


def test_missing_post_dose_data_says_so_l3(marker):
    cut = marker[~((marker["region"] == "HPC") & (marker["hours_since_dose"] > 0))]
    rows = fit_decay_by_group(cut, ci="none")[0].set_index("region")
    assert "no post-dose data" in rows.loc["HPC", "error"]
    assert "pre-dose visit" not in rows.loc["HPC", "error"]
    assert np.isfinite(rows.loc["PFC", "tau_h"])


def test_fit_keeps_02_and_2_apart_l12(marker, tmp_path):
    t = marker.copy()
    t.loc[t["subject"] == "02", "subject"] = "002"
    t.loc[t["subject"] == "03", "subject"] = "2"
    t.loc[t["subject"] == "002", "subject"] = "02"
    path = tmp_path / "ids.csv"
    t.to_csv(path, index=False)
    out = tmp_path / "fits.csv"
    fit_main([str(path), "--ci", "none", "--out", str(out)])
    assert (pd.read_csv(out)["n_subjects"] == 8).all()


def test_fit_filters_modality_and_where(marker, tmp_path):
    lfp = marker.assign(modality="lfp", channel="mean")
    eeg = marker.assign(modality="eeg", channel="mean", value=marker["value"][::-1].values)
    per_channel = marker.assign(modality="lfp", channel="CA1", value=5.0)
    path = tmp_path / "features.csv"
    pd.concat([lfp, eeg, per_channel]).to_csv(path, index=False)
    out = tmp_path / "fits.csv"
    status = fit_main([str(path), "--ci", "none", "--modality", "lfp", "--where",
                       "channel==mean", "--out", str(out)])
    ref = fit_decay(marker, ci="none").summary()
    assert status == (3 if (~ref["identifiable"]).any() else 0)
    got = pd.read_csv(out).set_index("region")["tau_h"]
    np.testing.assert_allclose(got[ref["region"]], ref["tau_h"], rtol=1e-9)
    assert fit_main([str(path), "--where", "nosuch==1"]) == 2


def test_pipeline_fits_report_each_group(marker):
    features = marker.assign(modality="lfp", channel="mean",
                             recording=marker["subject"] + marker["session"] + marker["region"])
    few = features[~((features["region"] == "STR") & (features["subject"] > "02"))]
    table, results = run_fits(few, [FitConfig(measure="marker", ci="none")])
    rows = table.set_index("region")
    assert np.isfinite(rows.loc["PFC", "tau_h"]) and np.isfinite(rows.loc["HPC", "tau_h"])
    assert "at least 3 subjects" in rows.loc["STR", "error"]
    assert results[0][2] is not None
    problems = fit_problems(table)
    assert any(p.startswith("marker STR: ") for p in problems)


def test_run_exits_3_when_every_fit_fails_p31(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "kp_fit_tiny.py").write_text(
        "import numpy as np\nfrom ketephys import feature_table\n"
        "def analyse(rec):\n    return feature_table([{'measure': 'm', 'channel': 'mean',"
        " 'value': float(np.mean(rec.get_data() ** 2)), 'unit': 'V^2'}], recording=rec,"
        " modality='lfp')\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    rng = np.random.default_rng(0)
    for sub in ("01", "02"):
        for h in (-1, 2, 24):
            name = raw / f"{sub}_PFC_{h}.npy"
            np.save(name, rng.normal(size=(1, 100)))
            name.with_suffix(".json").write_text(json.dumps({"sfreq": 100, "units": "V",
                                                             "ch_types": "lfp"}))
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({
        "inputs": {"glob": "raw/*.npy", "modality": "lfp",
                   "pattern": "{subject}_{region}_{hours_since_dose}.npy"},
        "modalities": {"lfp": {"kp_fit_tiny:analyse": {}}},
        "longitudinal": {"fits": [{"measure": "m", "ci": "none"}]},
        "report": {"enabled": False}}))
    env = {**os.environ, "PYTHONPATH": str(lib)}
    proc = subprocess.run([sys.executable, "-m", "ketephys", "run", str(cfg), "-q"],
                          capture_output=True, text=True, env=env, timeout=240,
                          cwd=str(tmp_path))
    assert proc.returncode == 3, proc.stderr
    fits = pd.read_csv(tmp_path / "derivatives" / "ketephys" / "decay_fits.csv")
    assert "at least 3 subjects" in fits.loc[0, "error"]
