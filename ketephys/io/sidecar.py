"""JSON sidecars: ``<stem>.json`` beside a recording.

A sidecar describes plain arrays (``sfreq``, ``ch_names``, ``units``, ``ch_types``,
``sweep_starts``, ``events``) and carries study metadata for any file: the fields of
:data:`~ketephys.meta.META_COLUMNS` at the top level, and/or a ``meta`` object with any
fields (extras included).

Example::

    {"sfreq": 1000, "ch_names": ["CA1"], "units": "mV", "ch_types": ["lfp"],
     "subject": "rat01", "meta": {"dose_mg_per_kg": 10, "sex": "F"}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._events import event_columns
from ..errors import MetadataError
from ..meta import META_COLUMNS

__all__ = ["sidecar_path", "read_sidecar", "sidecar_meta", "write_sidecar", "recording_sidecar"]

#: Sidecar keys that describe the data rather than the study.
DATA_KEYS = ("sfreq", "ch_names", "units", "ch_types", "sweep_starts", "events", "meta",
             "data_key", "variable", "time_axis", "scale")


def sidecar_path(path: str | os.PathLike) -> Path:
    """The sidecar of a recording: same folder and stem, extension ``.json``.

    Parameters
    ----------
    path : path-like
        The recording file.

    Returns
    -------
    Path
        ``<stem>.json`` beside it (existing or not).
    """
    return Path(path).with_suffix(".json")


def read_sidecar(path: str | os.PathLike, required: bool = False) -> dict[str, Any] | None:
    """Read the sidecar of the recording ``path``.

    Parameters
    ----------
    path : path-like
        The recording (not the sidecar).
    required : bool
        Raise when the sidecar is absent instead of returning None.

    Returns
    -------
    dict or None
        The content, checked against :mod:`ketephys.io.sidecar_schema` (``sfreq`` a float,
        ``events`` as columns); None when there is no sidecar.

    Raises
    ------
    MetadataError
        When the sidecar is not valid JSON, repeats a key, is not an object, has a field
        of the wrong type (naming the field), or is absent but required.
    """
    side = sidecar_path(path)
    if not side.is_file():
        if required:
            raise MetadataError(
                f"no JSON sidecar {side.name} beside it; it must give at least 'sfreq' "
                "(or pass sfreq=... to read)", path)
        return None
    from .sidecar_schema import load_json_strict, validate_sidecar

    content = load_json_strict(side)
    if not isinstance(content, dict):
        raise MetadataError("sidecar must hold a JSON object {...}", side)
    return validate_sidecar(content, side, Path(path))


def sidecar_meta(content: dict[str, Any] | None) -> dict[str, Any]:
    """Study metadata from a sidecar.

    Parameters
    ----------
    content : dict or None
        A sidecar's content (:func:`read_sidecar`).

    Returns
    -------
    dict
        The top-level :data:`~ketephys.meta.META_COLUMNS`, then the entries of the
        ``meta`` object that are not set at the top level; empty without a sidecar.
    """
    if not content:
        return {}
    out = {k: content[k] for k in META_COLUMNS if k in content}
    nested = content.get("meta")
    if isinstance(nested, dict):
        for key, value in nested.items():
            out.setdefault(key, value)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def recording_sidecar(rec: Any, with_events: bool = True) -> dict[str, Any]:
    """The sidecar content describing a recording, as :func:`ketephys.io.write` writes it.

    Parameters
    ----------
    rec : Recording
        The recording.
    with_events : bool
        Include the events table (as columns of JSON lists).

    Returns
    -------
    dict
        ``sfreq``, ``ch_names``, ``units`` (SI), ``ch_types``, ``sweep_starts`` (episodic),
        ``events``, ``meta`` (the non-missing metadata, JSON-ready) and ``extras`` (the
        extra metadata names, declared so that reading the file back accepts them).
    """
    content: dict[str, Any] = {
        "sfreq": float(rec.sfreq),
        "ch_names": list(rec.ch_names),
        "units": list(rec.units),
        "ch_types": list(rec.ch_types),
    }
    if rec.sweep_starts is not None:
        content["sweep_starts"] = [float(s) for s in rec.sweep_starts]
    if with_events:
        content["events"] = event_columns(rec.events)
    content["meta"] = _jsonable({k: v for k, v in rec.meta.to_dict(extras=True).items()
                                 if v is not None})
    names = [k for k, v in rec.meta.extras.items() if v is not None]
    if names:  # declared, so that reading the file back accepts them
        content["extras"] = names
    return content


def write_sidecar(path: str | os.PathLike, content: dict[str, Any], overwrite: bool) -> Path:
    """Write ``content`` as the sidecar of a recording, atomically.

    Parameters
    ----------
    path : path-like
        The recording file (the sidecar is :func:`sidecar_path` of it).
    content : dict
        The sidecar content; numpy values and missing values (NaN, ``pd.NA`` -> null)
        are made JSON-ready.
    overwrite : bool
        Replace an existing sidecar; otherwise an existing one is an error.

    Returns
    -------
    Path
        The sidecar written.

    Raises
    ------
    KetephysError
        When the sidecar exists and ``overwrite`` is False.
    """
    from ._files import atomic_path

    side = sidecar_path(path)
    with atomic_path(side, overwrite) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(_jsonable(content), fh, indent=1)
    return side
