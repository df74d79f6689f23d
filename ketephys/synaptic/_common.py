"""Pieces shared by the fEPSP and patch-clamp measures: stimuli, polarity, table layout."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from ..errors import AnalysisError
from ..features import settings_hash
from ..meta import META_COLUMNS
from ..recording import Recording
from .artifacts import find_stimuli

STIM_EVENT_NAMES = ("stimulus", "stim")


def sweeps_of(rec: Recording, ch: int) -> np.ndarray:
    """``(n_sweeps, n_times)`` of one channel (a continuous recording is one sweep)."""
    data = rec.get_data([ch])
    return data[:, 0, :] if data.ndim == 3 else data


def sweep_starts(rec: Recording) -> np.ndarray:
    return rec.sweep_starts if rec.is_episodic else np.zeros(1)


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along the last axis (edges averaged over what exists)."""
    if width <= 1:
        return np.array(x, float)
    x = np.asarray(x, float)
    c = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    lo, hi, count = _window_bounds(x.shape[-1], width)
    return (c[..., hi] - c[..., lo]) / count


@lru_cache(maxsize=128)
def _window_bounds(n: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and past-the-end sample of each centred window, and its length (read-only)."""
    h = width // 2
    hi = np.minimum(np.arange(n) + h + 1, n)
    lo = np.maximum(np.arange(n) - h, 0)
    count = hi - lo
    for a in (lo, hi, count):
        a.flags.writeable = False
    return lo, hi, count


@lru_cache(maxsize=256)
def odd_width(seconds: float, sfreq: float) -> int:
    w = max(1, int(round(seconds * sfreq)))
    return w if w % 2 else w + 1


def stimulus_table(rec: Recording, y: np.ndarray, stim_times: Sequence[float] | None,
                   exclude: list[tuple[float, float]] | None = None,
                   detect: dict | None = None) -> pd.DataFrame:
    """Stimuli of every sweep: given times, else the rising edges of the first ``stim``
    channel, else ``stimulus`` events, else the artifacts detected in ``y``; artifact ends
    come from the detection when an artifact lies within 0.5 ms, else 0.5 ms after."""
    found = find_stimuli(y, rec.sfreq, exclude=exclude, **(detect or {}))
    given: dict[int, list[float]] | None = None
    stim_ch = [i for i, t in enumerate(rec.ch_types) if t == "stim"]
    if stim_times is None and stim_ch:
        given = stim_channel_times(sweeps_of(rec, stim_ch[0]), rec.sfreq)
    if stim_times is not None:
        times = sorted(float(t) for t in np.atleast_1d(stim_times))
        given = {s: times for s in range(y.shape[0])}
    elif given is None and len(rec.events):
        ev = rec.events[rec.events["description"].str.lower().isin(STIM_EVENT_NAMES)]
        if len(ev):
            given = {}
            for _, r in ev.iterrows():
                sweeps = range(y.shape[0]) if pd.isna(r["sweep"]) else [int(r["sweep"])]
                for s in sweeps:
                    given.setdefault(s, []).append(float(r["onset"]))
    if given is None:
        return found
    rows = []
    f_sweep = found["sweep"].to_numpy(int)
    f_time = found["stim_time"].to_numpy(float)
    f_end = found["artifact_end"].to_numpy(float)
    f_clip = found["clipped"].to_numpy(bool)
    order = np.argsort(f_sweep, kind="stable")  # detections of a sweep, in table order
    f_sorted = f_sweep[order]
    for s, times in given.items():
        det = order[np.searchsorted(f_sorted, s, "left"):np.searchsorted(f_sorted, s, "right")]
        for k, t in enumerate(sorted(times), start=1):
            near = det[np.abs(f_time[det] - t) <= 5e-4]
            if near.size:
                end, clipped = float(f_end[near[0]]), bool(f_clip[near[0]])
            else:
                end, clipped = t + 5e-4, False
            rows.append({"sweep": s, "stimulus": k, "stim_time": t, "artifact_end": end,
                         "clipped": clipped})
    return pd.DataFrame(rows, columns=found.columns)


def stim_channel_times(x: np.ndarray, sfreq: float) -> dict[int, list[float]]:
    """Rising edges (through half the channel's range) of a stimulus/trigger channel."""
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    if hi <= lo:
        return {}
    high = x > (lo + hi) / 2
    out: dict[int, list[float]] = {}
    for s in range(x.shape[0]):
        edges = np.flatnonzero(high[s, 1:] & ~high[s, :-1]) + 1
        if high[s, 0]:
            edges = np.r_[0, edges]
        if edges.size:
            out[s] = [e / sfreq for e in edges]
    return out


def detect_polarity(y: np.ndarray, stims: pd.DataFrame, sfreq: float, baseline_window: float,
                    response_window: float) -> int:
    """Sign of the response in the mean sweep: the first deflection beyond half the largest."""
    first = stims[stims["stimulus"] == 1]
    if first.empty:
        return -1
    t0 = float(first["stim_time"].median())
    t_end = float(first["artifact_end"].median())
    i0, ia = int(round(t0 * sfreq)), int(round(t_end * sfreq))
    i1 = min(y.shape[1], i0 + int(round(response_window * sfreq)))
    later = stims[(stims["stimulus"] == 2)]
    if len(later):
        i1 = min(i1, int(round((float(later["stim_time"].median()) - 2e-4) * sfreq)))
    mean = y[np.unique(first["sweep"].to_numpy())].mean(axis=0)
    b0 = max(0, i0 - int(round(baseline_window * sfreq)))
    dev = mean[ia:i1] - mean[b0:i0].mean() if i0 > b0 else mean[ia:i1] - mean[ia]
    if dev.size == 0:
        return -1
    big = np.flatnonzero(np.abs(dev) >= 0.5 * np.abs(dev).max())
    return 1 if dev[big[0]] > 0 else -1


#: Values of the ``polarity`` setting of :func:`~ketephys.synaptic.fepsp` and
#: :func:`~ketephys.synaptic.psc`.
POLARITIES = ("auto", "negative", "positive", -1, 1)


def resolve_polarity(polarity: str | int, y: np.ndarray, stims: pd.DataFrame,
                     sfreq: float, baseline_window: float, response_window: float,
                     path: str | None = None) -> int:
    """-1 or 1: the ``polarity`` given, or detected on the sweeps ``y`` (``"auto"``,
    :func:`detect_polarity`); a :class:`~ketephys.errors.SettingsError` for any other
    value (naming ``path``)."""
    check_option("polarity", polarity, POLARITIES, path)
    if polarity == "auto":
        return detect_polarity(y, stims, sfreq, baseline_window, response_window)
    return -1 if polarity in ("negative", -1) else 1


def channel_stimuli(rec: Recording, ch: int, stim_times: Sequence[float] | None,
                    polarity: str | int, baseline_window: float, response_window: float,
                    exclude: list[tuple[float, float]] | None = None,
                    missing: str = "stimulus") -> tuple[np.ndarray, pd.DataFrame, int]:
    """What the fEPSP and whole-cell measures start from on channel ``ch``.

    Returns the channel's sweeps ``(n_sweeps, n_times)``, its stimulus table
    (:func:`stimulus_table`, sorted by sweep and time) and the response's polarity
    (:func:`resolve_polarity`, detected on the unsorted table). An
    :class:`~ketephys.errors.AnalysisError` ``"no <missing> found on channel ..."`` when
    there is no stimulus.
    """
    path = rec.source.path
    y = sweeps_of(rec, ch)
    stims = stimulus_table(rec, y, stim_times, exclude=exclude)
    if stims.empty:
        raise AnalysisError(f"no {missing} found on channel {rec.ch_names[ch]!r}; pass "
                            "stim_times=[...]", path)
    pol = resolve_polarity(polarity, y, stims, rec.sfreq, baseline_window, response_window,
                           path)
    return y, stims.sort_values(["sweep", "stim_time"]), pol


def pick_channel(rec: Recording, channel: str | int | None, types: Sequence[str],
                 what: str) -> list[int]:
    """Channel indices to analyse: the given one(s), or every channel of ``types``."""
    if channel is not None:
        return [int(i) for i in rec.pick_indices(channel)]
    idx = [i for i, t in enumerate(rec.ch_types) if t in types]
    if not idx:
        raise AnalysisError(
            f"no {what} channel: channel types are {dict(zip(rec.ch_names, rec.ch_types))}; "
            "pass channel=...", rec.source.path)
    return idx


def assemble(rows: list[dict[str, Any]], rec: Recording, modality: str,
             settings: dict[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    """Detail table: study metadata, recording, modality, the measures, settings hash."""
    meta = rec.meta.columns()
    frame = pd.DataFrame(rows, columns=list(columns))
    lead = {**meta, "recording": rec.source.path, "modality": modality}
    for k, (name, value) in enumerate(lead.items()):
        frame.insert(k, name, [value] * len(frame))
    frame["settings_hash"] = settings_hash(settings)
    return frame


LEAD_COLUMNS = (*META_COLUMNS, "recording", "modality")
