"""Tidy feature tables: one measurement per row, with the study metadata carried along.

Every analyser returns its results through :func:`feature_table` so that the columns,
their order and the settings hash are the same everywhere, and the longitudinal module
and the batch pipeline can take any analyser's output as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import AnalysisError
from .meta import META_COLUMNS

__all__ = ["feature_table", "settings_hash", "FEATURE_COLUMNS", "check_unit", "OUTPUT_UNITS",
           "SUFFIX_UNITS", "flag_montage_changes", "AnalysisOutput", "jsonable"]

#: Leading columns of every feature table, in order; analysers may add more after them.
FEATURE_COLUMNS = (*META_COLUMNS, "recording", "modality", "measure", "channel", "value",
                   "unit", "qc_flags", "settings_hash")


#: Units of values in SI (or derived from SI) that a measure without a unit suffix may have.
OUTPUT_UNITS = ("V", "V^2", "V^2/Hz", "V/s", "V*s", "A", "s", "Hz", "Ohm", "F", "1",
                "log10(V^2/Hz)", "Hz^exponent")
#: A measure whose name ends with one of these suffixes has the paired unit (longest first).
SUFFIX_UNITS = (("_pct_per_min", "%/min"), ("_pct_per_h", "%/h"), ("_pct", "%"),
                ("_ms", "ms"), ("_min", "min"), ("_h", "h"), ("_db", "dB"))


@dataclass
class AnalysisOutput:
    """What an analyser's ``compute(rec, settings)`` returns: the feature rows, and the
    compact result objects they were computed from (for the report's figures).

    Attributes
    ----------
    features : pandas.DataFrame
        The feature table (what ``analyse`` returns).
    views : dict
        Picklable result objects without the recording's samples (a
        :class:`~ketephys.spectral.Spectrum`, a TEP, an LTP result, per-sweep tables...),
        stored by the batch beside the rows so that ``report.html`` draws exactly what
        was computed, with the run's settings.
    """

    features: pd.DataFrame
    views: dict[str, Any] = field(default_factory=dict)


def _reader_flags(row: Mapping[str, Any], flags: Mapping[str, list[str]]) -> set[str]:
    """The reader's flags of the channels a row was computed from: its channel, the two
    channels of a pair (``ch_a``/``ch_b``), or the channels a mean averaged."""
    if not flags:
        return set()
    names = [row.get("channel"), row.get("ch_a"), row.get("ch_b")]
    if row.get("channels"):
        names += str(row["channels"]).split(";")
    return {f for n in names if n is not None for f in flags.get(str(n), ())}


def check_unit(measure: str, unit: Any) -> str | None:
    """Why ``(measure, unit)`` breaks the unit convention, or ``None`` when it follows it.

    The convention of every output table: values are in SI units (:data:`OUTPUT_UNITS`;
    dimensionless is ``"1"``), except measures whose name ends with an explicit suffix
    (``_h``, ``_min``, ``_ms``, ``_pct``, ``_pct_per_min``, ``_pct_per_h``, ``_db``), which
    are in that unit (:data:`SUFFIX_UNITS`).

    Parameters
    ----------
    measure : str
        The measure's name, e.g. ``"gamma_power"`` or ``"n100_latency_ms"``.
    unit : str
        The unit its values are in, e.g. ``"V^2"`` or ``"ms"``.

    Returns
    -------
    str or None
        What is wrong and what is expected, or ``None`` when the pair is valid.
    """
    name = str(measure)
    for suffix, expected in SUFFIX_UNITS:
        if name.endswith(suffix):
            if unit != expected:
                return f"measure {name!r} ends with {suffix!r}, so its unit must be " \
                       f"{expected!r}, not {unit!r}"
            return None
    if unit not in OUTPUT_UNITS:
        return (f"measure {name!r} has unit {unit!r}: use an SI unit {OUTPUT_UNITS} "
                "(dimensionless: '1') or name the unit with a suffix "
                f"{[s for s, _ in SUFFIX_UNITS]}")
    return None


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON values: mappings with sorted string keys, tuples as lists,
    sets sorted, numpy arrays and scalars as Python lists and numbers.

    Parameters
    ----------
    value : Any
        Settings or a part of them (nested mappings, sequences, numpy values).

    Returns
    -------
    Any
        The same content in JSON types (other objects are returned as they are).
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set)):
        items = [jsonable(v) for v in value]
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

    Parameters
    ----------
    settings : mapping or None
        The settings (None: no settings, the hash of ``{}``).

    Returns
    -------
    str
        The first 12 hex digits of the SHA-256 of the settings' sorted JSON.
    """
    text = json.dumps(jsonable(dict(settings or {})), sort_keys=True, default=str)
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
        Each with at least ``measure``, ``value`` and ``unit`` (following
        :func:`check_unit`: SI, or the unit its name's suffix says); usually ``channel`` (a
        channel name, a pair ``"A-B"``, an ROI or ``"GMFP"``) and ``flags`` (a list of
        strings or a ``;``-joined string), which becomes the ``qc_flags`` column (named so
        as not to shadow pandas' ``DataFrame.flags``) together with the reader's flags of
        the row's channels (:attr:`Recording.reader_flags`). Any other key becomes a
        column.
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

    Raises
    ------
    AnalysisError
        When a row's unit breaks the convention of :func:`check_unit`.
    """
    meta = recording.meta.columns() if recording is not None else dict.fromkeys(META_COLUMNS)
    rec_name = None
    if recording is not None and recording.source.path:
        rec_name = str(recording.source.path)
    digest = settings_hash(settings)
    reader_flags = getattr(recording, "reader_flags", None) or {}
    out = []
    for row in rows:
        r = dict(meta)
        r.update({"recording": rec_name, "modality": modality, "channel": None,
                  "qc_flags": "", "settings_hash": digest})
        r.update(row)
        flags = r.pop("flags", r.get("qc_flags"))  # analysers' rows say "flags"
        if isinstance(flags, str):
            flags = flags.split(";")
        flags = {str(f) for f in flags or () if f} | _reader_flags(r, reader_flags)
        r["qc_flags"] = ";".join(sorted(flags))
        problem = check_unit(r.get("measure"), r.get("unit"))
        if problem:
            raise AnalysisError(f"feature row breaks the unit convention: {problem}",
                                rec_name)
        out.append(r)
    frame = pd.DataFrame(out)
    if frame.empty:
        frame = pd.DataFrame(columns=list(FEATURE_COLUMNS))
    extra = [c for c in frame.columns if c not in FEATURE_COLUMNS]
    return frame[list(FEATURE_COLUMNS) + extra]


def flag_montage_changes(table: pd.DataFrame) -> pd.DataFrame:
    """Flag channel-mean rows averaged over another channel set than the same subject's
    other visits (``montage_changed``).

    A ``channel="mean"`` row names the channels it averaged in ``channels``; when the
    recordings of one subject (same modality, measure and analyser) average different sets,
    every one of those mean rows gets the flag, since the means are not comparable across
    visits.

    Parameters
    ----------
    table : pandas.DataFrame
        A feature table of several recordings (columns ``subject``, ``channel``,
        ``channels``, ``qc_flags``; ``modality``, ``measure``, ``analyser`` when present).

    Returns
    -------
    pandas.DataFrame
        ``table`` itself when nothing is flagged, else a copy with ``montage_changed``
        added to the ``qc_flags`` of the affected rows.
    """
    if table.empty or "channels" not in table or "subject" not in table:
        return table
    keys = [k for k in ("subject", "modality", "measure", "analyser") if k in table]
    means = table[(table["channel"] == "mean") & table["channels"].notna()]
    if means.empty:
        return table
    n_sets = means.groupby(keys, dropna=False)["channels"].transform("nunique")
    changed = n_sets.index[n_sets.to_numpy() > 1]
    if not len(changed):
        return table
    out = table.copy()
    out.loc[changed, "qc_flags"] = [
        ";".join(sorted({*filter(None, str(f).split(";")), "montage_changed"}))
        for f in out.loc[changed, "qc_flags"].fillna("")]
    return out
