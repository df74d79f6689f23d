"""Property: any JSON value in any sidecar field gives a correct recording or a
KetephysError whose message names the field (never another exception, never a silent
wrong number, and never a value turned into "absent": only JSON null means that)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketephys import KetephysError, MetadataError
from ketephys.io import read

BASE = {"sfreq": 100, "ch_names": ["a", "b"], "units": "mV", "ch_types": "lfp",
        "events": {"onset": [1.0], "description": ["stim"]}, "subject": "rat01",
        "session": "24h", "dose_mg_per_kg": 10, "hours_since_dose": 24, "infusion": 1,
        "meta": {"sex": "F"}}
FIELDS = sorted([*BASE, "sweep_starts", "data_key", "region", "condition", "genotype"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=8)


def _check(field: str, value, rec) -> None:
    """What a successful read must have taken from ``field`` (null means absent)."""
    if value is None:
        return
    if field == "sfreq":
        assert not isinstance(value, bool) and rec.sfreq == float(value)
    elif field == "ch_names":
        assert isinstance(value, list) and rec.ch_names == value
    elif field in {"dose_mg_per_kg", "hours_since_dose", "infusion"}:
        assert not isinstance(value, bool)
        got = getattr(rec.meta, field)
        assert got is not None and math.isfinite(got), (value, got)  # "" is not "absent"
        if isinstance(value, (int, float)):
            assert got == value


def _read_with_sidecar(folder: Path, side: dict):
    """Read an array whose sidecar is ``side``: the recording, or the KetephysError."""
    path = folder / "p.npy"
    np.save(path, np.arange(1000, dtype=np.float32).reshape(2, 500))
    (folder / "p.json").write_text(json.dumps(side), encoding="utf-8")
    try:
        return read(path, extras=["sex"])
    except KetephysError as exc:
        return exc


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_field(tmp_path_factory, field, value):
    out = _read_with_sidecar(tmp_path_factory.mktemp("sidecar"), dict(BASE, **{field: value}))
    if isinstance(out, KetephysError):
        assert field in str(out), (field, value, str(out))
        return
    _check(field, value, out)


@pytest.mark.parametrize("field", ["dose_mg_per_kg", "hours_since_dose", "infusion"])
@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_numeric_field_is_an_error(tmp_path, field, blank):
    """A numeric study field given as a blank string is refused with the field and the
    sidecar named (null is how a sidecar says "not known"), at the top level or in meta."""
    for side in (dict(BASE, **{field: blank}), dict(BASE, meta={field: blank})):
        out = _read_with_sidecar(tmp_path, side)
        assert isinstance(out, MetadataError), out
        assert field in str(out) and "p.json" in str(out)
        assert "empty string" in str(out)


def test_null_numeric_field_is_absent(tmp_path):
    rec = _read_with_sidecar(tmp_path, dict(BASE, dose_mg_per_kg=None))
    assert rec.meta.dose_mg_per_kg is None
