"""Finding TMS pulses in a recording.

Three sources, tried in this order unless one is asked for:

1. a trigger channel (``trigger_channel=`` a name, or the first channel of type ``stim``):
   each rising crossing of ``threshold`` (default: half-way between the channel's minimum and
   maximum) is a pulse, at the first sample at or above it (exact);
2. annotations/events whose description matches ``annotation`` (a string, compared
   case-insensitively, or a list of them); by default descriptions that are ``tms_pulse``
   or contain ``tms``;
3. the artifact itself: the pulse is a very large, very steep deflection on most channels at
   once. For each EEG channel the sample-to-sample difference is compared with
   ``threshold`` (default 50) times its robust standard deviation (1.4826 x the median
   absolute difference, per chunk); a pulse is where at least ``min_fraction`` of the
   channels jump together, and its onset is the first sample after the jump. Pulses closer
   than ``min_interval`` seconds to the previous one are merged.

The data are read in chunks, so long recordings never load at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..recording import Recording

__all__ = ["find_tms_pulses", "mark_tms_pulses", "PULSE_DESCRIPTION"]

#: Description given to every pulse event.
PULSE_DESCRIPTION = "tms_pulse"


def _frame(onsets: np.ndarray, source: str) -> pd.DataFrame:
    frame = pd.DataFrame({"onset": np.asarray(onsets, float), "duration": 0.0,
                          "description": PULSE_DESCRIPTION})
    frame.attrs["pulse_source"] = source
    return frame


def _merge_close(samples: np.ndarray, min_gap: int) -> np.ndarray:
    """Keep the first of every run of samples closer than ``min_gap`` to the kept one."""
    kept: list[int] = []
    for s in np.sort(samples):
        if not kept or s - kept[-1] >= min_gap:
            kept.append(int(s))
    return np.asarray(kept, dtype=int)


def _from_trigger(rec: Recording, channel: str | int, threshold: float | None,
                  min_gap: int, chunk_seconds: float) -> np.ndarray:
    idx = int(rec.pick_indices(channel)[0])
    if threshold is None:
        lo, hi = np.inf, -np.inf
        for _, block in rec.iter_chunks(chunk_seconds, picks=[idx]):
            lo = min(lo, float(np.nanmin(block)))
            hi = max(hi, float(np.nanmax(block)))
        if not hi > lo:
            raise AnalysisError(f"trigger channel {rec.ch_names[idx]!r} is flat; no pulses",
                                rec.source.path)
        threshold = lo + 0.5 * (hi - lo)
    found = []
    prev_above = None
    for start, block in rec.iter_chunks(chunk_seconds, picks=[idx]):
        above = block[0] >= threshold
        if prev_above is None:
            rising = np.flatnonzero(above[1:] & ~above[:-1]) + 1
            if above[0]:
                rising = np.concatenate([[0], rising])
        else:
            seq = np.concatenate([[prev_above], above])
            rising = np.flatnonzero(seq[1:] & ~seq[:-1])
        found.append(start + rising)
        prev_above = bool(above[-1])
    samples = np.concatenate(found) if found else np.zeros(0, int)
    return _merge_close(samples, min_gap)


def _from_artifact(rec: Recording, threshold: float | None, min_fraction: float,
                   min_gap: int, chunk_seconds: float,
                   picks: Sequence[str | int] | None) -> np.ndarray:
    if picks is None:
        eeg = [i for i, t in enumerate(rec.ch_types) if t == "eeg"]
        picks_idx = eeg or [i for i, t in enumerate(rec.ch_types) if t != "stim"]
    else:
        picks_idx = rec.pick_indices(list(picks)).tolist()
    if not picks_idx:
        raise AnalysisError("no channel to look for TMS pulse artifacts in", rec.source.path)
    k = 50.0 if threshold is None else float(threshold)
    need = max(1, int(np.ceil(min_fraction * len(picks_idx))))
    found = []
    last = None
    for start, block in rec.iter_chunks(chunk_seconds, picks=picks_idx):
        if last is not None:  # keep the jump across the chunk boundary
            block = np.concatenate([last, block], axis=1)
            offset = start - 1
        else:
            offset = start
        last = block[:, -1:]
        if block.shape[1] < 2:
            continue
        d = np.abs(np.diff(block, axis=1))
        scale = 1.4826 * np.median(d, axis=1, keepdims=True)
        mean_d = d.mean(axis=1, keepdims=True)
        scale = np.where(scale > 0, scale, mean_d)  # noise-free data: fall back to the mean
        scale[scale <= 0] = np.inf  # flat channels never vote
        votes = np.sum(d > k * scale, axis=0)
        hits = np.flatnonzero(votes >= need)
        found.append(offset + hits + 1)  # first sample after the jump
    samples = np.concatenate(found) if found else np.zeros(0, int)
    return _merge_close(samples, min_gap)


def _matches(description: str, patterns: Sequence[str] | None) -> bool:
    text = description.lower()
    if patterns is None:
        return text == PULSE_DESCRIPTION or "tms" in text
    return any(text == p.lower() for p in patterns)


def find_tms_pulses(
    rec: Recording,
    trigger_channel: str | int | None = None,
    annotation: str | Sequence[str] | None = None,
    threshold: float | None = None,
    min_interval: float = 0.5,
    method: str = "auto",
    min_fraction: float = 0.5,
    picks: Sequence[str | int] | None = None,
    chunk_seconds: float = 60.0,
) -> pd.DataFrame:
    """Find the TMS pulses of a continuous recording.

    Parameters
    ----------
    rec : Recording
        A continuous recording.
    trigger_channel : str or int, optional
        Channel holding the pulse trigger; implies ``method="trigger"``.
    annotation : str or list of str, optional
        Event description(s) marking pulses; implies ``method="annotation"``.
    threshold : float, optional
        Trigger: level whose rising crossing is a pulse (default half-way between the
        channel's min and max). Artifact: jump size in robust standard deviations of the
        sample-to-sample difference (default 50).
    min_interval : float
        Pulses closer than this (s) to the previous pulse are merged into it.
    method : {"auto", "trigger", "annotation", "artifact"}
        ``"auto"`` uses a trigger channel when one is given or typed ``stim``, else matching
        annotations when there are any, else the artifact.
    min_fraction : float
        Artifact: fraction of channels that must jump together.
    picks : list, optional
        Artifact: channels to use (default the EEG channels).
    chunk_seconds : float
        Length of the blocks read at once.

    Returns
    -------
    pandas.DataFrame
        ``onset`` (s), ``duration`` (0), ``description`` (``"tms_pulse"``); the method used is
        in ``frame.attrs["pulse_source"]``.

    Raises
    ------
    AnalysisError
        For an episodic recording, an unknown method, or when no pulse is found.
    """
    path = rec.source.path
    if rec.is_episodic:
        raise AnalysisError("TMS pulse finding needs a continuous recording, got sweeps", path)
    if method not in ("auto", "trigger", "annotation", "artifact"):
        raise AnalysisError(f"unknown pulse-finding method {method!r}; expected auto, trigger, "
                            "annotation or artifact", path)
    min_gap = max(1, int(round(min_interval * rec.sfreq)))
    patterns = [annotation] if isinstance(annotation, str) else annotation
    if method == "auto":
        if trigger_channel is not None:
            method = "trigger"
        elif annotation is not None:
            method = "annotation"
        elif "stim" in rec.ch_types:
            method = "trigger"
        elif len(rec.events) and rec.events["description"].map(
                lambda d: _matches(str(d), None)).any():
            method = "annotation"
        else:
            method = "artifact"
    if method == "trigger":
        if trigger_channel is None:
            if "stim" not in rec.ch_types:
                raise AnalysisError("no trigger channel given and no channel of type 'stim'",
                                    path)
            trigger_channel = rec.ch_types.index("stim")
        samples = _from_trigger(rec, trigger_channel, threshold, min_gap, chunk_seconds)
        frame = _frame(samples / rec.sfreq, "trigger")
    elif method == "annotation":
        ev = rec.events
        mask = ev["description"].map(lambda d: _matches(str(d), patterns)).to_numpy(bool)
        onsets = np.sort(ev.loc[mask, "onset"].to_numpy(float))
        keep: list[float] = []
        for t in onsets:
            if not keep or t - keep[-1] >= min_interval:
                keep.append(float(t))
        frame = _frame(np.asarray(keep), "annotation")
    else:
        samples = _from_artifact(rec, threshold, min_fraction, min_gap, chunk_seconds, picks)
        frame = _frame(samples / rec.sfreq, "artifact")
    if frame.empty:
        raise AnalysisError(f"no TMS pulse found (method {method!r})", path)
    return frame


def mark_tms_pulses(rec: Recording, replace: bool = False, **kw: Any) -> Recording:
    """A copy of ``rec`` with the pulses of :func:`find_tms_pulses` added to its events.

    Parameters
    ----------
    rec : Recording
        A continuous recording (not modified).
    replace : bool
        When the recording already has ``"tms_pulse"`` events they are kept as they are
        (nothing is searched) unless ``replace`` is True, which drops them and searches.
    **kw
        Passed to :func:`find_tms_pulses`.

    Returns
    -------
    Recording
    """
    has = rec.events["description"] == PULSE_DESCRIPTION
    if has.any() and not replace:
        return rec.copy()
    out = rec.copy()
    out.events = out.events[~has].reset_index(drop=True)
    pulses = find_tms_pulses(out, **kw)
    pulses["sweep"] = pd.Series([pd.NA] * len(pulses), dtype="Int64")
    parts = [f for f in (out.events, pulses[list(out.events.columns[:4])]) if len(f)]
    events = pd.concat(parts, ignore_index=True)
    out.events = events.sort_values("onset", kind="stable").reset_index(drop=True)
    return out
