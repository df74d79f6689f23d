"""The note a recording leaves in the MNE and Neo objects it is converted to.

:meth:`Recording.to_mne <ketephys.recording.Recording.to_mne>` writes it into
``info["description"]`` and :meth:`~ketephys.recording.Recording.to_neo` into the Block's
``annotations["ketephys"]``: a marker followed by JSON with what MNE or Neo cannot hold
(ketephys channel types and units, metadata, source, modality, sweep start times and, for
MNE Epochs, the events). :func:`read_note` gives it back to ``from_mne``/``from_neo``.
"""

from __future__ import annotations

import json
from typing import Any

from ._events import event_columns

__all__ = ["MARKER", "write_note", "read_note"]

#: What a note starts with (so a description written by someone else is not parsed).
MARKER = "ketephys-recording:"


def write_note(rec: Any, with_events: bool) -> str:
    """The note of recording ``rec``: :data:`MARKER` + JSON (events only when
    ``with_events``)."""
    payload: dict[str, Any] = {
        "ch_types": rec.ch_types,
        "units": rec.units,
        "meta": rec.meta.to_dict(extras=True),
        "source": [rec.source.path, rec.source.format, rec.source.reader],
        "modality": rec.modality,
    }
    if rec.sweep_starts is not None:
        payload["sweep_starts"] = [float(s) for s in rec.sweep_starts]
    if with_events:
        payload["events"] = event_columns(rec.events)
    return MARKER + json.dumps(payload, default=str)


def read_note(text: Any) -> dict[str, Any]:
    """The content of a note, or ``{}`` when ``text`` is not a ketephys note."""
    if isinstance(text, str) and text.startswith(MARKER):
        return json.loads(text[len(MARKER):])
    return {}
