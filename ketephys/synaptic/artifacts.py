"""Stimulus artifacts found from the trace itself.

An electrical stimulus shows as a jump far faster than any synaptic response: the absolute
first difference of the trace exceeds both ``k_noise`` times the robust noise of the
differences (1.4826 x MAD) and ``rel_threshold`` times the largest jump of the sweep. Jumps
closer than ``merge`` seconds are one artifact. The stimulus time is the first deviating
sample: from the first large jump, walk back while any of the 3 changes before stays above
8 noise SDs (at most ``merge`` s). The artifact ends when the differences have stayed
below ``k_settle`` x noise (and 1 % of the jump threshold) for ``settle`` seconds, at most
``max_duration`` after it began. Samples stuck at the sweep's extreme value (an ADC rail)
inside an artifact mark it ``clipped``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["find_stimuli", "STIMULUS_COLUMNS"]

#: Columns of :func:`find_stimuli`'s table.
STIMULUS_COLUMNS = ("sweep", "stimulus", "stim_time", "artifact_end", "clipped")


def _robust_sd(x: np.ndarray, axis: int = -1) -> np.ndarray:
    med = np.median(x, axis=axis, keepdims=True)
    return 1.4826 * np.median(np.abs(x - med), axis=axis)


def find_stimuli(
    data: np.ndarray,
    sfreq: float,
    k_noise: float = 15.0,
    rel_threshold: float = 0.3,
    merge: float = 5e-4,
    k_settle: float = 5.0,
    settle: float = 2e-4,
    min_interval: float = 2e-3,
    max_duration: float = 2e-3,
    exclude: list[tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Stimulus times and artifact ends in every sweep.

    Parameters
    ----------
    data : ndarray
        ``(n_sweeps, n_times)`` (or ``(n_times,)``) trace of one channel.
    sfreq : float
        Sampling rate (Hz).
    k_noise, rel_threshold : float
        A jump is a sample-to-sample change above ``k_noise`` robust SDs of the changes and
        above ``rel_threshold`` times the largest change of the sweep.
    merge : float
        Jumps closer than this (s) belong to one artifact.
    k_settle, settle : float
        The artifact has ended once changes stay below ``k_settle`` SDs (and 1 % of the
        jump threshold) for ``settle`` s.
    max_duration : float
        An artifact ends at most this long (s) after its start.
    min_interval : float
        Artifacts closer than this (s) to the previous stimulus are ignored.
    exclude : list of (start, stop), optional
        Time ranges (s within a sweep) never searched, e.g. a test pulse.

    Returns
    -------
    pandas.DataFrame
        :data:`STIMULUS_COLUMNS`: ``sweep``, ``stimulus`` (1-based), ``stim_time`` and
        ``artifact_end`` (s from the sweep start), ``clipped`` (bool).
    """
    x = np.atleast_2d(np.asarray(data, float))
    n_sw, n_t = x.shape
    d = np.abs(np.diff(x, axis=1))
    if exclude:
        for a, b in exclude:
            d[:, max(0, int(a * sfreq) - 2):min(n_t - 1, int(np.ceil(b * sfreq)) + 2)] = 0.0
    sd = _robust_sd(d)
    sd = np.where(sd > 0, sd, np.maximum(np.std(d, axis=1), np.finfo(float).tiny))
    thr = np.maximum(k_noise * sd, rel_threshold * d.max(axis=1))
    low = np.maximum(k_settle * sd, 0.01 * thr)
    onset_level = np.maximum(8.0 * sd, 0.01 * thr)
    n_merge = max(1, int(round(merge * sfreq)))
    n_settle = max(1, int(round(settle * sfreq)))
    n_min = max(1, int(round(min_interval * sfreq)))
    lo_rail = x.min(axis=1)
    hi_rail = x.max(axis=1)
    n_max = int(round(max_duration * sfreq))
    hit_sweep, hit_index = np.nonzero(d > thr[:, None])  # every jump, sweep by sweep
    bounds = np.searchsorted(hit_sweep, np.arange(n_sw + 1))
    rows = []
    for s in range(n_sw):
        big = hit_index[bounds[s]:bounds[s + 1]]
        if big.size == 0:
            continue
        groups = ([big] if big[-1] - big[0] <= n_merge  # one artifact (the usual case)
                  else np.split(big, np.flatnonzero(np.diff(big) > n_merge) + 1))
        last_stim = -np.inf
        k = 0
        for g in groups:
            first = int(g[0])
            # the artifact began where the changes first left the noise (not at the
            # largest jump): walk back at most ``merge`` s
            while (first > 0 and g[0] - first < n_merge
                   and d[s, max(0, first - 3):first].max() > onset_level[s]):
                first -= 1
            start = first + 1
            if start - last_stim < n_min:
                continue
            # first index after which n_settle consecutive changes are small; only as far
            # as can matter before the max_duration cap
            span = max(start + n_max - int(g[-1]), 0) + n_settle + 2
            quiet = d[s, g[-1] + 1:g[-1] + 1 + span] < low[s]
            if quiet.size >= n_settle:
                run = np.convolve(quiet.astype(int), np.ones(n_settle, int), "valid")
                ok = np.flatnonzero(run == n_settle)
                end = int(g[-1]) + 1 + (int(ok[0]) if ok.size else n_t)
            else:
                end = n_t - 1
            end = min(end + 1, n_t - 1, start + n_max)
            seg = x[s, start:end + 1]
            clipped = bool(np.count_nonzero(seg == lo_rail[s]) >= 2
                           or np.count_nonzero(seg == hi_rail[s]) >= 2)
            k += 1
            rows.append({"sweep": s, "stimulus": k, "stim_time": start / sfreq,
                         "artifact_end": end / sfreq, "clipped": clipped})
            last_stim = start
    frame = pd.DataFrame(rows, columns=list(STIMULUS_COLUMNS))
    return frame.astype({"sweep": int, "stimulus": int, "stim_time": float,
                         "artifact_end": float, "clipped": bool})
