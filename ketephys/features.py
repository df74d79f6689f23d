"""Tidy feature tables: one measurement per row, with the study metadata carried along.

Every analyser returns its results through :func:`feature_table` so that the columns,
their order and the settings hash are the same everywhere, and the longitudinal module
and the batch pipeline can take any analyser's output as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .meta import META_COLUMNS

__all__ = ["feature_table", "settings_hash", "FEATURE_COLUMNS"]

#: Leading columns of every feature table, in order; analysers may add more after them.
FEATURE_COLUMNS = (*META_COLUMNS, "recording", "modality", "measure", "channel", "value",
                   "unit", "flags", "settings_hash")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set) else items
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value.is_integer():
        return value  # keep 2.0 distinct from "2.0" but stable
    return value


def settings_hash(settings: Mapping[str, Any] | None) -> str:
    """A short stable hash (12 hex digits) of analysis settings.

    Keys are sorted and values normalised (tuples as lists, numpy scalars as Python
    numbers), so equal settings always give the same hash.
    """
    text = json.dumps(_jsonable(dict(settings or {})), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def feature_table(
    rows: Iterable[Mapping[str, Any]],
    recording: Any | None = None,
    modality: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Assemble analyser rows into a tidy table.

    Parameters
    ----------
    rows : iterable of dict
        Each with at least ``measure``, ``value`` and ``unit``; usually ``channel`` (a
        channel name, a pair ``"A-B"``, an ROI or ``"GMFP"``) and ``flags`` (a list of
        strings or a ``;``-joined string). Any other key becomes a column.
    recording : Recording, optional
        Its metadata columns and file name are added to every row.
    modality : str, optional
        ``"eeg"``, ``"lfp"``, ``"tms-eeg"``, ``"fepsp"``, ``"patch"``...
    settings : dict, optional
        The analysis settings; their :func:`settings_hash` is added to every row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FEATURE_COLUMNS` first, then any extra columns in first-seen order.
    """
    meta = recording.meta.columns() if recording is not None else dict.fromkeys(META_COLUMNS)
    rec_name = None
    if recording is not None and recording.source.path:
        rec_name = str(recording.source.path)
    digest = settings_hash(settings)
    out = []
    for row in rows:
        r = dict(meta)
        r.update({"recording": rec_name, "modality": modality, "channel": None,
                  "flags": "", "settings_hash": digest})
        r.update(row)
        flags = r.get("flags")
        if isinstance(flags, (list, tuple, set)):
            r["flags"] = ";".join(sorted({str(f) for f in flags if f}))
        elif flags is None:
            r["flags"] = ""
        out.append(r)
    frame = pd.DataFrame(out)
    if frame.empty:
        frame = pd.DataFrame(columns=list(FEATURE_COLUMNS))
    extra = [c for c in frame.columns if c not in FEATURE_COLUMNS]
    return frame[list(FEATURE_COLUMNS) + extra]
