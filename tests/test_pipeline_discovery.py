"""Finding recordings: BIDS root (sessions as visits), manifest CSV, glob + pattern."""

from __future__ import annotations

import pandas as pd
import pytest

from ketephys.errors import ConfigError
from ketephys.pipeline import config_from_dict, discover
from ketephys.pipeline.discovery import pattern_regex


def test_pattern_regex_fields():
    rx = pattern_regex("{subject}_{region}_{hours_since_dose}h.abf")
    m = rx.match("rat07_CA1_24.5h.abf")
    assert m.groupdict() == {"subject": "rat07", "region": "CA1", "hours_since_dose": "24.5"}
    assert rx.match("rat07_CA1_24.5h.wcp") is None
    assert pattern_regex("{subject}/*_{session}.edf").match("s1/x_y_d3.edf")["session"] == "d3"


def test_glob_with_pattern_in_subfolders(tmp_path):
    for sub in ("r1", "r2"):
        (tmp_path / "raw" / sub).mkdir(parents=True)
        for h in (0, 24):
            (tmp_path / "raw" / sub / f"{sub}_HPC_{h}h.abf").write_bytes(b"x")
    (tmp_path / "raw" / "r1" / "notes.abf").write_bytes(b"x")  # does not match: skipped
    cfg = config_from_dict({"inputs": {"glob": "raw/**/*.abf", "modality": "fepsp",
                                       "pattern": "{subject}_{region}_{hours_since_dose}h.abf",
                                       "metadata": {"condition": "ketamine"}}},
                           base_dir=tmp_path)
    specs = discover(cfg)
    assert len(specs) == 4
    assert specs[0].meta == {"condition": "ketamine", "subject": "r1", "region": "HPC",
                             "hours_since_dose": 0.0}
    assert all(s.modality == "fepsp" for s in specs)
    assert [s.meta["subject"] for s in discover(cfg, subjects=["r2"])] == ["r2", "r2"]


def test_manifest_relative_paths_and_modality(tmp_path):
    (tmp_path / "data").mkdir()
    pd.DataFrame({"path": ["a.edf", "b.nwb"], "modality": ["eeg", "lfp"],
                  "subject": ["01", "02"], "hours_since_dose": [2, None]}).to_csv(
        tmp_path / "data" / "manifest.csv", index=False)
    cfg = config_from_dict({"inputs": {"manifest": "data/manifest.csv"}}, base_dir=tmp_path)
    specs = discover(cfg)
    assert [s.path for s in specs] == [str((tmp_path / "data" / n).resolve())
                                       for n in ("a.edf", "b.nwb")]
    assert [s.modality for s in specs] == ["eeg", "lfp"]
    assert specs[0].meta["subject"] == "01" and float(specs[0].meta["hours_since_dose"]) == 2
    assert "hours_since_dose" not in specs[1].meta
    assert [s.path.endswith("b.nwb") for s in discover(cfg, subjects=["02"])] == [True]


def test_bids_sessions_are_visits(tmp_path):
    root = tmp_path / "bids"
    (root).mkdir()
    (root / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.9.0"}')
    (root / "participants.tsv").write_text(
        "participant_id\tgenotype\tdose_mg_per_kg\nsub-01\tVal/Met\t0.5\n")
    sub = root / "sub-01"
    (sub).mkdir()
    (sub / "sub-01_sessions.tsv").write_text(
        "session_id\thours_since_dose\nses-base\t-1\nses-d3\t72\n")
    for ses in ("base", "d3"):
        eeg = sub / f"ses-{ses}" / "eeg"
        eeg.mkdir(parents=True)
        (eeg / f"sub-01_ses-{ses}_task-rest_eeg.vhdr").write_text("x")
        (eeg / f"sub-01_ses-{ses}_task-rest_eeg.eeg").write_text("x")  # companion only
        (eeg / f"sub-01_ses-{ses}_task-tmsM1_eeg.edf").write_text("x")
    cfg = config_from_dict({"inputs": {"bids": "bids"}}, base_dir=tmp_path)
    specs = discover(cfg)
    assert len(specs) == 4
    rest = [s for s in specs if "rest" in s.path]
    assert [s.modality for s in rest] == ["eeg", "eeg"]
    assert {s.modality for s in specs if "tms" in s.path} == {"tms-eeg"}
    d3 = [s for s in rest if s.meta["session"] == "d3"][0]
    assert float(d3.meta["hours_since_dose"]) == 72 and d3.meta["genotype"] == "Val/Met"
    assert d3.meta["subject"] == "01"
    assert len(discover(cfg, sessions=["ses-base"])) == 2


def test_missing_inputs_are_clear(tmp_path):
    cfg = config_from_dict({"inputs": {"bids": "nope"}}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="BIDS root folder does not exist"):
        discover(cfg)
    cfg = config_from_dict({"inputs": {"manifest": "nope.csv"}}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="manifest CSV not found"):
        discover(cfg)
    (tmp_path / "empty").mkdir()
    cfg = config_from_dict({"inputs": {"glob": "empty/*.edf", "modality": "eeg"}},
                           base_dir=tmp_path)
    with pytest.raises(ConfigError, match="no recordings found"):
        discover(cfg)


def test_bids_values_are_checked_and_ids_stay_text(tmp_path):
    root = tmp_path / "bids"
    for sub in ("sub-02", "sub-2"):
        eeg = root / sub / "eeg"
        eeg.mkdir(parents=True)
        (eeg / f"{sub}_task-rest_eeg.edf").write_text("x")
    (root / "participants.tsv").write_text(
        "participant_id\tdose_mg_per_kg\tsex\nsub-02\t0.5\tF\nsub-2\t0,5\tM\n")
    cfg = config_from_dict({"inputs": {"bids": "bids"}}, base_dir=tmp_path)
    problems = []
    specs = discover(cfg, problems=problems)
    assert [s.meta["subject"] for s in specs] == ["02"]
    assert specs[0].meta["dose_mg_per_kg"] == 0.5 and specs[0].meta["sex"] == "F"
    assert len(problems) == 1 and "'dose_mg_per_kg' from BIDS tables" in problems[0]
    assert "sub-2_task-rest_eeg.edf" in problems[0] and "'0,5'" in problems[0]
