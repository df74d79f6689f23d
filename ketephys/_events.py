"""The events table of a :class:`~ketephys.recording.Recording`: its columns, how any
user input becomes one, and how it is written out as plain lists.

One definition serves the recording, the MNE/Neo notes (:mod:`ketephys._bridge`) and the
JSON sidecars of :mod:`ketephys.io.sidecar`, so an event table is read and written the same
way everywhere.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .errors import MetadataError

__all__ = ["EVENT_COLUMNS", "as_event_frame", "event_columns"]

#: Columns of :attr:`Recording.events`; ``sweep`` is <NA> for continuous recordings.
EVENT_COLUMNS = ("onset", "duration", "description", "sweep")


def as_event_frame(events: Any, path: str | None) -> pd.DataFrame:
    """``events`` (None, a DataFrame or anything ``pandas.DataFrame`` takes) as an event
    table: the :data:`EVENT_COLUMNS` first (``onset``/``duration`` float seconds,
    ``description`` str, ``sweep`` nullable int), then any other column as given.

    Raises
    ------
    MetadataError
        When a non-empty table has no ``onset`` column.
    """
    if events is None:
        frame = pd.DataFrame({c: [] for c in EVENT_COLUMNS})
    elif isinstance(events, pd.DataFrame):
        frame = events.copy()
    else:
        frame = pd.DataFrame(events)
    if len(frame) and "onset" not in frame:
        raise MetadataError("events need an 'onset' column (seconds)", path)
    for col, default in (("duration", 0.0), ("description", ""), ("sweep", pd.NA)):
        if col not in frame:
            frame[col] = default
    frame["onset"] = frame["onset"].astype(float)
    frame["duration"] = frame["duration"].astype(float)
    frame["description"] = frame["description"].astype(str)
    frame["sweep"] = frame["sweep"].astype("Int64")
    cols = list(EVENT_COLUMNS) + [c for c in frame.columns if c not in EVENT_COLUMNS]
    return frame[cols].reset_index(drop=True)


def event_columns(events: pd.DataFrame) -> dict[str, list]:
    """The :data:`EVENT_COLUMNS` of an event table as JSON-ready lists (float onsets and
    durations in s, str descriptions, int sweeps or None); other columns are left out."""
    return {
        "onset": [float(v) for v in events["onset"]],
        "duration": [float(v) for v in events["duration"]],
        "description": [str(v) for v in events["description"]],
        "sweep": [None if pd.isna(v) else int(v) for v in events["sweep"]],
    }
