"""Every sample configuration validates and runs on simulated data (and on the real
recordings in ../shared/data where one fits); the demo config ships as package data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ketephys.pipeline import load_config, run

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_configs"
NAMES = ["demo", "eeg_bids_gamma_theta", "tms_eeg", "slice_ltp", "rodent_lfp_chronic"]


def _copy(name: str, folder: Path, inputs: dict | None = None, **top) -> Path:
    """The sample config copied into ``folder`` (inputs replaced; serial; no report)."""
    data = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text())
    if inputs is not None:
        data["inputs"] = {**data["inputs"], **inputs}
    data.setdefault("run", {})["n_jobs"] = 1
    data["report"] = {"enabled": False}
    data.update(top)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("name", NAMES)
def test_sample_config_is_valid_and_documented(name, tmp_path):
    text = (SAMPLES / f"{name}.yaml").read_text()
    assert text.count("#") >= 5  # documented with comments
    cfg = load_config(SAMPLES / f"{name}.yaml")
    assert cfg.modalities and cfg.longitudinal.fits


def test_demo_config_is_package_data():
    from importlib.resources import files

    shipped = files("ketephys").joinpath("data", "demo.yaml").read_text()
    assert shipped == (SAMPLES / "demo.yaml").read_text()


def _mean_by_visit(feats, measure, modality):
    rows = feats[(feats["measure"] == measure) & (feats["modality"] == modality)]
    rows = rows[rows["channel"] == "mean"] if (rows["channel"] == "mean").any() else rows
    return rows.groupby("hours_since_dose")["value"].mean()


def test_eeg_bids_config_on_simulated_bids(tmp_path):
    from ketephys.io import write
    from ketephys.simulate.eeg import simulate_eeg

    root = tmp_path / "bids"
    root.mkdir()
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "sim", "BIDSVersion": "1.9.0"}))
    (root / "participants.tsv").write_text(
        "participant_id\tdose_mg_per_kg\tregion\nsub-01\t0.5\tPFC\nsub-02\t1.0\tPFC\n")
    visits = {"base": -1.0, "2h": 2.0, "d3": 72.0}
    gamma = {"base": 1.0, "2h": 1.6, "d3": 1.2}
    seed = 0
    for sub in ("01", "02"):
        lines = ["session_id\thours_since_dose"]
        for ses, hours in visits.items():
            lines.append(f"ses-{ses}\t{hours}")
            rec, _ = simulate_eeg(n_channels=4, duration=20.0, sfreq=250.0,
                                  gamma_power=2e-11 * gamma[ses], filter_seconds=2.0,
                                  ch_names=["Fz", "F3", "F4", "Cz"], seed=seed)
            seed += 1
            folder = root / f"sub-{sub}" / f"ses-{ses}" / "eeg"
            folder.mkdir(parents=True)
            write(rec, folder / f"sub-{sub}_ses-{ses}_task-rest_eeg.edf")
        (root / f"sub-{sub}" / f"sub-{sub}_sessions.tsv").write_text("\n".join(lines) + "\n")
    cfg = load_config(_copy("eeg_bids_gamma_theta", tmp_path))
    res = run(cfg, out=tmp_path / "out")
    assert res.ok, res.failures
    feats = res.features
    assert feats["recording"].nunique() == 6
    assert {"gamma_power", "theta_msc", "theta_wpli", "gamma_power_aperiodic_corrected"} \
        <= set(feats["measure"])
    assert set(feats["session"]) == {"base", "2h", "d3"}
    assert set(feats["region"]) == {"PFC"} and set(feats["condition"]) == {"ketamine"}
    g = _mean_by_visit(feats, "gamma_power", "eeg")
    assert g[2.0] > g[72.0] > g[-1.0]  # follows the simulated gamma


def test_slice_ltp_config_on_simulated_slices(tmp_path):
    from ketephys.io import write
    from ketephys.simulate.fepsp import simulate_fepsp_experiment

    folder = tmp_path / "slices"
    folder.mkdir()
    truth = {}
    for i, (hours, factor) in enumerate([(-1, 1.1), (3, 1.8), (24, 1.5), (72, 1.2)]):
        rec, t = simulate_fepsp_experiment(n_baseline_min=10, n_post_min=60,
                                           sweep_interval=60.0, sweep_duration=0.05,
                                           induction_gap=180.0, ltp_magnitude=factor,
                                           seed=i)
        name = f"rat{i:02d}_CA1_{hours}h.npy"
        write(rec, folder / name)
        truth[float(hours)] = t.ltp_magnitude_pct
    (folder / "rat99_CA1_5h.npy").write_bytes(b"corrupt")
    (folder / "rat99_CA1_5h.json").write_text("{}")
    cfg = load_config(_copy("slice_ltp", tmp_path, {"glob": "slices/*.npy"}))
    res = run(cfg, out=tmp_path / "out")
    assert res.n_failed == 1 and res.n_computed == 4
    got = _mean_by_visit(res.features, "ltp_magnitude_pct", "fepsp")
    for hours, pct in truth.items():
        assert got[hours] == pytest.approx(pct, rel=0.03)
    assert set(res.features["region"]) == {"CA1"}


def test_rodent_lfp_config_on_simulated_study(tmp_path):
    from ketephys.simulate.study import simulate_study

    manifest, truth = simulate_study(tmp_path / "sim", n_subjects=2, modalities=["lfp"],
                                     visits=(-1.0, 2.0, 72.0), seed=3)
    manifest["path"] = "sim/" + manifest["path"]
    manifest.to_csv(tmp_path / "lfp_manifest.csv", index=False)
    res = run(load_config(_copy("rodent_lfp_chronic", tmp_path)), out=tmp_path / "out")
    assert res.ok, res.failures
    feats = res.features
    assert feats["recording"].nunique() == len(manifest) == 2 * 3 * 3
    assert {"gamma_power", "theta_rodent_msc"} <= set(feats["measure"])
    msc = feats[(feats["measure"] == "theta_rodent_msc") & (feats["channel"] == "mean")]
    # simulated rodent-theta coherence 0.7 (bias ~1/K, K = 19 segments)
    assert msc["value"].mean() == pytest.approx(0.7, abs=0.08)
    g = _mean_by_visit(feats, "gamma_power", "lfp")
    assert g[2.0] > g[-1.0]


@pytest.mark.realdata
def test_rodent_lfp_config_on_real_axona(tmp_path, shared_file):
    axona = shared_file("lfp", "axona_rat_mec_hpc", "83812141.set")
    pd.DataFrame([{"path": str(axona), "modality": "lfp", "subject": "rat-83812141",
                   "region": "HPC", "hours_since_dose": -1}]).to_csv(
        tmp_path / "lfp_manifest.csv", index=False)
    res = run(load_config(_copy("rodent_lfp_chronic", tmp_path, longitudinal={"fits": []})),
              out=tmp_path / "out")
    assert res.ok, res.failures
    feats = res.features
    # README: theta-band (6-10 Hz) coherence between .eeg and .eeg3 ~0.8
    pair = feats[(feats["measure"] == "theta_rodent_msc")
                 & feats["channel"].str.contains("1")
                 & feats["channel"].str.contains("3")]
    assert not pair.empty
    assert pair["value"].max() == pytest.approx(0.8, abs=0.1)
    assert np.isfinite(feats["value"].astype(float)).all()


def test_tms_eeg_config_on_simulated_study(tmp_path):
    from ketephys.simulate.study import simulate_study

    manifest, truth = simulate_study(tmp_path / "sim", n_subjects=2, modalities=["tms-eeg"],
                                     visits=(-1.0, 2.0, 72.0), seed=5)
    (tmp_path / "tms").symlink_to(tmp_path / "sim" / "tms-eeg")
    res = run(load_config(_copy("tms_eeg", tmp_path)), out=tmp_path / "out")
    assert res.ok, res.failures
    feats = res.features
    assert feats["recording"].nunique() == len(manifest) == 6
    # metadata from the file-name pattern and from the sidecars
    assert set(feats["subject"]) == {"01", "02"} and set(feats["region"]) == {"PFC"}
    assert set(feats["hours_since_dose"]) == {-1.0, 2.0, 72.0}
    n = feats[feats["measure"] == "n_trials"]["value"].astype(float)
    assert (n == 30).all()
    markers = truth["markers"].assign(path=lambda d: d["path"].str.replace("tms-eeg/", ""))
    area = feats[(feats["measure"] == "gmfp_area_60_140") & (feats["channel"] == "GMFP")]
    area = area.assign(name=area["recording"].map(lambda p: Path(p).name))
    both = area.merge(markers, left_on="name", right_on="path")
    # the TEP scale is the simulated marker: GMFP area follows it
    assert np.corrcoef(both["value"].astype(float), both["marker"])[0, 1] > 0.9


@pytest.mark.realdata
def test_slice_ltp_config_on_real_abf(tmp_path, shared_file):
    abf = shared_file("fepsp", "2022_07_01_0012.abf")
    (tmp_path / "slices").mkdir()
    # a pattern-conforming name for the real file (a link: the file is only read)
    (tmp_path / "slices" / "rat01_CA1_-1h.abf").symlink_to(abf)
    before = abf.stat().st_mtime_ns
    res = run(load_config(_copy("slice_ltp", tmp_path, longitudinal={"fits": []})),
              out=tmp_path / "out")
    assert res.ok, res.failures
    feats = res.features.set_index("measure")
    # README: 240 sweeps, fEPSP ~ -0.25 mV; no induction in the file -> no LTP rows
    assert feats.loc["n_responses", "value"] == 240
    assert feats.loc["fepsp_amplitude_mean", "value"] == pytest.approx(-0.25e-3, rel=0.1)
    assert "ltp_magnitude_pct" not in feats.index
    assert feats.loc["fepsp_amplitude_mean", "subject"] == "rat01"
    assert feats.loc["fepsp_amplitude_mean", "hours_since_dose"] == -1.0
    assert abf.stat().st_mtime_ns == before
