"""MNE <-> Recording conversion: the one place that turns an MNE ``Raw`` or ``Epochs``
into the arrays, channel names, SI units and types of a
:class:`~ketephys.recording.Recording`, and a recording back into MNE objects.

Shared by :meth:`Recording.from_mne <ketephys.recording.Recording.from_mne>` /
:meth:`~ketephys.recording.Recording.to_mne` and the MNE readers of :mod:`ketephys.io.eeg`
(``read`` of EDF/BDF, BrainVision, EEGLAB, FIF and ``read_bids``), so a file read by
``read`` and an object converted by hand get the same channels, units, types, events and
error messages. The channel selection check is the one of every reader
(:func:`ketephys._channels.select_channels`), so "channel not in the file" is the same
:class:`~ketephys.errors.MetadataError` whichever library read the file.

Like :mod:`ketephys._neo` it sits beside ``recording.py`` in the base layer and never
imports it: it returns the constructor's keywords and the recording builds itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._bridge import read_note, write_note
from ._channels import select_channels
from ._source import Source
from .meta import StudyMeta

__all__ = ["TO_MNE_TYPE", "FROM_MNE_TYPE", "MNESlicer", "to_mne", "mne_parts",
           "pick_mne_channels", "file_subject"]

#: ketephys channel type -> MNE channel type
TO_MNE_TYPE = {
    "eeg": "eeg", "eog": "eog", "emg": "emg", "ecg": "ecg", "lfp": "seeg",
    "field": "misc", "vm": "misc", "im": "misc", "stim": "stim", "misc": "misc",
}
#: MNE channel type -> ketephys channel type, for objects that MNE made (others: misc)
FROM_MNE_TYPE = {
    "eeg": "eeg", "eog": "eog", "emg": "emg", "ecg": "ecg", "seeg": "lfp", "ecog": "lfp",
    "dbs": "lfp", "stim": "stim",
}


class MNESlicer:
    """Lazy ``(n_channels, n_times)`` view of an MNE Raw that was not preloaded:
    ``read(picks, start, stop)`` asks MNE for just that block (in SI units)."""

    def __init__(self, raw: Any):
        self._raw = raw
        self.shape = (len(raw.ch_names), raw.n_times)
        self.dtype = np.dtype(np.float64)
        self.ndim = 2

    def read(self, picks: np.ndarray, start: int, stop: int) -> np.ndarray:
        return self._raw.get_data(picks=picks, start=start, stop=stop)

    def __array__(self, dtype=None, copy=None):
        # load in place (MNE's preload path, no second copy); the array is shared
        self._raw.load_data(verbose="error")
        data = self._raw._data
        return data if dtype is None else data.astype(dtype, copy=False)


# --------------------------------------------------------------------- Recording -> MNE
def _mne_info(rec: Any) -> Any:
    """MNE ``Info`` of ``rec``: MNE channel types, FIFF units, the ketephys note."""
    import mne
    from mne.io.constants import FIFF

    info = mne.create_info(rec.ch_names, rec.sfreq,
                           [TO_MNE_TYPE[t] for t in rec.ch_types], verbose=False)
    fiff_unit = {"V": FIFF.FIFF_UNIT_V, "A": FIFF.FIFF_UNIT_A, "": FIFF.FIFF_UNIT_NONE}
    with info._unlock():
        for ch, unit in zip(info["chs"], rec.units):
            if unit in fiff_unit:
                ch["unit"] = fiff_unit[unit]
        info["description"] = write_note(rec, with_events=rec.is_episodic)
    return info


def to_mne(rec: Any) -> Any:
    """Recording ``rec`` as ``mne.io.RawArray`` (continuous; events as annotations) or
    ``mne.EpochsArray`` (episodic; one epoch per sweep, events in the note)."""
    import mne

    info = _mne_info(rec)
    if rec.is_episodic:
        n = rec.n_sweeps
        ev = np.column_stack([np.arange(n), np.zeros(n, int), np.ones(n, int)])
        return mne.EpochsArray(rec.data, info, events=ev, tmin=0.0, verbose=False)
    raw = mne.io.RawArray(rec.data, info, verbose=False)
    if len(rec.events):
        raw.set_annotations(mne.Annotations(
            rec.events["onset"].to_numpy(float), rec.events["duration"].to_numpy(float),
            rec.events["description"].to_numpy(str)))
    return raw


# --------------------------------------------------------------------- MNE -> Recording
def _types_and_units(inst: Any, stored: dict[str, Any]) -> tuple[list[str], list[str]]:
    """ketephys channel types and SI units: the stored ones, else from MNE's types and
    FIFF unit codes (V, A, else "")."""
    from mne.io.constants import FIFF

    if "ch_types" in stored:
        return stored["ch_types"], stored["units"]
    ch_types = [FROM_MNE_TYPE.get(t, "misc") for t in inst.get_channel_types()]
    units = []
    for ch in inst.info["chs"]:
        code = int(ch["unit"])
        units.append("V" if code == FIFF.FIFF_UNIT_V else
                     "A" if code == FIFF.FIFF_UNIT_A else "")
    return ch_types, units


def _source_of(inst: Any, stored: dict[str, Any]) -> Source:
    """The stored source, else the file MNE read (or none) with reader ``from_mne``."""
    if "source" in stored:
        return Source(*stored["source"])
    fnames = getattr(inst, "filenames", None) or [None]
    return Source(None if fnames[0] is None else str(fnames[0]), "mne",
                  "ketephys.Recording.from_mne")


def _epochs_parts(inst: Any, stored: dict[str, Any]) -> dict[str, Any]:
    """Samples, sweep starts (event time + ``tmin``) and events of MNE Epochs."""
    if "sweep_starts" in stored:
        starts = np.asarray(stored["sweep_starts"], float)
    else:
        first = getattr(inst, "_first_samp", 0) or 0
        starts = (inst.events[:, 0] - first) / inst.info["sfreq"] + inst.tmin
    return {"data": inst.get_data(copy=True), "sweep_starts": starts,
            "events": stored.get("events")}


def _raw_parts(inst: Any) -> dict[str, Any]:
    """Samples (lazy unless preloaded) and annotations, from the first sample, of a Raw."""
    ann = inst.annotations
    onset = np.asarray(ann.onset, float)
    if ann.orig_time is not None:
        onset = onset - inst.first_time
    events = pd.DataFrame({"onset": onset, "duration": np.asarray(ann.duration, float),
                           "description": list(ann.description)})
    return {"data": inst._data if inst.preload else MNESlicer(inst), "events": events}


def mne_parts(inst: Any, meta: StudyMeta | dict | None = None, source: Source | None = None,
              modality: str | None = None) -> dict[str, Any]:
    """The keywords of :class:`~ketephys.recording.Recording` for an MNE ``Raw`` or
    ``Epochs``; see :meth:`Recording.from_mne <ketephys.recording.Recording.from_mne>` for
    the parameters."""
    import mne

    stored = read_note(inst.info.get("description") or "")
    ch_types, units = _types_and_units(inst, stored)
    if source is None:
        source = _source_of(inst, stored)
    merged = StudyMeta.from_sources([("keyword", meta), ("stored", stored.get("meta"))],
                                    path=source.path)
    parts = (_epochs_parts(inst, stored) if isinstance(inst, mne.BaseEpochs)
             else _raw_parts(inst))
    return {**parts, "sfreq": inst.info["sfreq"], "ch_names": inst.ch_names,
            "ch_types": ch_types, "units": units, "meta": merged, "source": source,
            "modality": modality or stored.get("modality")}


def pick_mne_channels(inst: Any, channels: Sequence[str] | None, path: str | None) -> None:
    """Keep only ``channels`` of ``inst``, in place and lazily (the others are never
    read), after the same check as the Neo readers (MetadataError naming the missing
    channels and listing the file's)."""
    if channels:
        select_channels(inst.ch_names, channels, path)
        inst.pick(list(channels), verbose="error")


def file_subject(inst: Any) -> str | None:
    """The subject id the file header gives (EDF patient id, ``his_id``), or None when
    absent or anonymous (``"X"``)."""
    subj = inst.info.get("subject_info") or {}
    if subj.get("his_id") and str(subj["his_id"]).strip() not in {"X", ""}:
        return str(subj["his_id"])
    return None
