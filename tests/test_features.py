"""Tidy feature tables and the settings hash shared by every analyser."""

from __future__ import annotations

import numpy as np

from ketephys import Recording, feature_table, settings_hash
from ketephys.features import FEATURE_COLUMNS
from ketephys.recording import Source


def test_settings_hash_is_order_and_type_stable():
    a = settings_hash({"band": (30, 80), "seg_len": 2.0, "n": np.int64(3)})
    b = settings_hash({"n": 3, "seg_len": 2.0, "band": [30, 80]})
    assert a == b and len(a) == 12
    assert settings_hash({"band": (30, 81)}) != settings_hash({"band": (30, 80)})


def test_feature_table_carries_metadata_and_order():
    rec = Recording.from_array(
        np.zeros((2, 10)), 100.0, ["a", "b"],
        meta={"subject": "s1", "region": "PFC", "hours_since_dose": 24, "dose_mg_per_kg": 0.5},
        source=Source("/x/s1_PFC_24h.edf", "edf", "mne"))
    rows = [{"measure": "gamma_power", "channel": "a", "value": 1e-12, "unit": "V^2",
             "flags": ["flat", "", "flat"], "k_segments": 5},
            {"measure": "gamma_power", "channel": "b", "value": 2e-12, "unit": "V^2"}]
    table = feature_table(rows, rec, modality="eeg", settings={"band": (30, 80)})
    assert list(table.columns[: len(FEATURE_COLUMNS)]) == list(FEATURE_COLUMNS)
    assert list(table.columns[len(FEATURE_COLUMNS):]) == ["k_segments"]
    assert table["subject"].tolist() == ["s1", "s1"]
    assert table["hours_since_dose"].tolist() == [24.0, 24.0]
    assert table["recording"].iloc[0] == "/x/s1_PFC_24h.edf"
    assert table["qc_flags"].tolist() == ["flat", ""]
    assert table["settings_hash"].nunique() == 1
    assert table["settings_hash"].iloc[0] == settings_hash({"band": (30, 80)})


def test_empty_feature_table_has_columns():
    table = feature_table([])
    assert list(table.columns) == list(FEATURE_COLUMNS) and len(table) == 0
