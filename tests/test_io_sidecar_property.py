"""Property: any JSON value in any sidecar field gives a correct recording or a
KetephysError whose message names the field (never another exception, never a silent
wrong number)."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ketephys import KetephysError
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
        assert got is not None and math.isfinite(got)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_field(field, value):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.npy"
        np.save(path, np.arange(1000, dtype=np.float32).reshape(2, 500))
        side = dict(BASE, **{field: value})
        Path(tmp, "p.json").write_text(json.dumps(side), encoding="utf-8")
        try:
            rec = read(path, extras=["sex"])
        except KetephysError as exc:
            assert field in str(exc), (field, value, str(exc))
            return
        _check(field, value, rec)
