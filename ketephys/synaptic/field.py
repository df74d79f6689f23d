"""Field-EPSP measures, one row per sweep, channel and stimulus.

For each stimulus (from ``stim_times``, ``stimulus`` events, or detected artifacts, see
:mod:`ketephys.synaptic.artifacts`):

* **baseline**: mean of ``baseline_window`` s ending ``baseline_gap`` s before the stimulus
  (after the previous artifact); ``noise_sd`` is the SD of those samples about their least-squares line;
* the **response window** runs from the end of the artifact to ``response_window`` s after
  the stimulus (or the next stimulus);
* **amplitude** (V, signed): the extreme, in the response's direction, of the trace smoothed
  over ``peak_smooth`` s, minus the baseline;
* **slope** (V/s, signed) with its least-squares standard error: ``"20-80"``, ``"10-90"``,
  ``"20-90"`` (samples on the final rise between those fractions of the amplitude,
  located on the trace smoothed over ``smooth`` s, fitted on raw samples), ``"window"``
  (``slope_window_s=(start, stop)`` s after the stimulus; default 1 ms from the foot of the final
  rise -- the last local minimum of the 0.3 ms-smoothed trace before 50 % -- of the mean
  sweep of the sweep's pathway and stimulus, else the volley's second peak or the 10 %
  point), ``"max"`` (the steepest ``max_window``
  (1 ms) window, located on the trace smoothed over that width, fitted on raw samples) or
  ``"best-fit"`` (brainwash: the 0.7 ms window where a line fits best, just after the
  volley);
  ``slope_start``/``slope_stop`` are the first and last fitted samples (s from the sweep
  start) so any fit can be reproduced exactly;
* **onset_latency** (s): where the slope line crosses the baseline, after the stimulus;
* **fibre volley** (peak-trough-peak): the largest deflection in the response's direction
  between the artifact end and the last time the response was below 10 % before its rise,
  measured from the line joining the two flanking opposite peaks (each level the mean of the
  raw samples within 0.1 ms) to the trough (vertex of a parabola through the raw samples
  within 0.2 ms); the trough is the largest deflection, or, when the foot of a large
  fEPSP rises above the volley before its 10 % point, the most prominent bump (standing
  highest above the lowest points on both sides); ``volley_latency`` is the trough
  sample after the stimulus;
* **population spike** (tangent method): the deepest dip against the response's direction
  below the line joining the highest response peak before it and the highest after it
  (each standing above the dip by more than the threshold), when deeper than 5 noise SDs
  and 5 % of the amplitude;
* **where the points are placed** (``cursors``): on every sweep (``"per-sweep"``, the
  default of :func:`fepsp`) or once per pathway and stimulus on the mean sweep
  (``"fixed"``, the default of :func:`~ketephys.synaptic.ltp`; see
  :mod:`ketephys.synaptic.cursors`); ``definitions`` measures with another tool's
  definitions (:mod:`ketephys.synaptic.presets`);
* **flags**: ``clipped_artifact``, ``no_response`` (amplitude < ``k_response`` noise SDs),
  ``volley_missing``, ``slope_few_samples`` (< 3 samples), ``slope_at_artifact`` (the rise
  starts before the artifact ended).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._check import check_option
from .._docs import fill_doc
from ..errors import AnalysisError
from ..recording import Recording
from ..settings import check_keywords
from ._common import (
    assemble,
    channel_stimuli,
    moving_average,
    odd_width,
    pick_channel,
    sweep_starts,
)
from .cursors import (
    CURSOR_OFFSETS,
    cursor_row,
    cursor_table,
    group_labels,
    measure_at_cursors,
    plateau_span,
)
from .presets import CURSOR_MODES, get_preset
from .slope import SLOPE_FRACTIONS, best_fit_span, fit_line, fraction_span, max_slope_span

#: The slope definitions of :func:`fepsp` (``slope=``).
SLOPE_DEFINITIONS = (*SLOPE_FRACTIONS, "window", "max", "best-fit")

__all__ = ["fepsp", "FEPSP_COLUMNS", "measure_response"]

#: Detail columns of :func:`fepsp` (after the study metadata, ``recording``, ``modality``).
FEPSP_COLUMNS = (
    "channel", "sweep", "stimulus", "sweep_start", "time", "stim_time", "artifact_end",
    "polarity", "baseline", "noise_sd", "amplitude", "peak_latency", "slope", "slope_se",
    "slope_start", "slope_stop", "slope_n", "slope_definition", "onset_latency",
    "volley_amplitude", "volley_latency", "pop_spike_amplitude", "pop_spike_latency", "flags",
)


def _response_traces(y: np.ndarray, base: np.ndarray, polarity: int, i_art: int,
                     i_stop: int, w_smooth: int, w_peak: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of ``y`` in the response's direction about their baselines, and that trace
    smoothed over ``w_smooth`` and ``w_peak`` samples within ``i_art:i_stop`` (0 outside:
    never smoothed across an artifact)."""
    dev = polarity * (y - base[:, None])
    dev_s = np.zeros_like(dev)
    dev_p = np.zeros_like(dev)
    dev_s[:, i_art:i_stop] = moving_average(dev[:, i_art:i_stop], w_smooth)
    dev_p[:, i_art:i_stop] = moving_average(dev[:, i_art:i_stop], w_peak)
    return dev, dev_s, dev_p


def _base_bounds(base_span: tuple[int, int], i_stim: int) -> tuple[int, int]:
    """Baseline samples actually used: before the stimulus, at least one sample."""
    b0, b1 = max(min(base_span[0], i_stim - 1), 0), min(base_span[1], i_stim)
    return (b0, b1) if b1 > b0 else (i_stim, i_stim + 1)


def _pop_spike(dev_s: np.ndarray, i0: int, i1: int, threshold: float
               ) -> tuple[float, int] | None:
    """Tangent-method dip below the response between the highest response peak before it
    and the highest after it."""
    seg = dev_s[i0:i1]
    n = seg.size
    if n < 5:
        return None
    idx = np.arange(n)
    left = np.maximum.accumulate(seg)
    i_left = np.maximum.accumulate(np.where(seg == left, idx, 0))
    rev = seg[::-1]
    right_rev = np.maximum.accumulate(rev)
    pos = np.maximum.accumulate(np.where(rev == right_rev, idx, 0))
    right = right_rev[::-1]
    i_right = (n - 1 - pos)[::-1]
    ok = (i_left < idx) & (i_right > idx)
    ok &= (np.minimum(left, right) - seg) > threshold  # both flanks clear of the dip
    if not ok.any():
        return None
    span = np.where(ok, i_right - i_left, 1)
    line = left + (right - left) * (idx - i_left) / span
    depth = np.where(ok, line - seg, -np.inf)
    j = int(np.argmax(depth))
    return (float(depth[j]), i0 + j) if depth[j] > threshold else None


def _level_mean(raw: np.ndarray, k: int, half: int) -> float:
    """Mean of ``raw`` within ``half`` samples of ``k`` (bit-identical to ``.mean()``)."""
    part = raw[max(k - half, 0):k + half + 1]
    return float(np.add.reduce(part) / part.size)


@lru_cache(maxsize=64)
def _parabola_solver(first: int, stop: int) -> np.ndarray:
    """``(3, n)`` least-squares solver of ``c2 x^2 + c1 x + c0`` on ``x = first..stop-1``
    (the same coefficients as ``numpy.polyfit(x, y, 2)``, computed once per window)."""
    x = np.arange(first, stop, dtype=float)
    return np.linalg.pinv(np.vander(x, 3))


def baseline_stats(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and noise SD (about the least-squares line, ``ddof=2``) of each row of
    ``segments`` ``(n_rows, n)``; noise is NaN for ``n <= 3``."""
    seg = np.atleast_2d(np.asarray(segments, float))
    n = seg.shape[1]
    mean = seg.mean(axis=1)
    if n <= 3:
        return mean, np.full(mean.shape, np.nan)
    k = np.arange(n) - (n - 1) / 2.0
    centred = seg - mean[:, None]
    slope = centred @ k / (k @ k)
    resid = centred - slope[:, None] * k
    return mean, np.sqrt(np.einsum("ij,ij->i", resid, resid) / (n - 2))


def _volley_at(seg: np.ndarray, raw: np.ndarray, sfreq: float, iv: int
               ) -> tuple[float, int, int, int] | None:
    """Peak-trough-peak depth with the trough at ``iv``: flanking peaks are the lowest
    points of ``seg`` before and after it (None when ``iv`` is not between them); returns
    ``(depth, trough, second peak, first peak)``."""
    if not 0 < iv < seg.size - 1:
        return None
    p1 = int(np.argmin(seg[:iv + 1]))
    p2 = iv + int(np.argmin(seg[iv:]))
    if not p1 < iv < p2:
        return None
    # levels as means of the raw samples within +-0.1 ms: picking single extreme samples
    # would bias the depth up by the noise
    h = max(1, int(round(1e-4 * sfreq)))
    v1, v2, vt = (_level_mean(raw, k, h) for k in (p1, p2, iv))
    # the trough: vertex of a parabola through the raw samples within 0.2 ms
    h2 = max(2, int(round(2e-4 * sfreq)))
    lo_k, hi_k = max(iv - h2, 0), min(iv + h2 + 1, raw.size)
    if hi_k - lo_k >= 4:
        c2, c1, c0 = _parabola_solver(lo_k - iv, hi_k - iv) @ raw[lo_k:hi_k]
        if c2 < 0 and abs(c1 / (2 * c2)) <= h2:
            vt = float(c0 - c1 ** 2 / (4 * c2))
    tangent = v1 + (v2 - v1) * (iv - p1) / (p2 - p1)
    return float(vt - tangent), iv, p2, p1


def _volley(seg: np.ndarray, raw: np.ndarray, sfreq: float, threshold: float
            ) -> tuple[float, int, int, int] | None:
    """Fibre volley in ``seg`` (smoothed response-direction trace from the artifact end to
    the 10 % point; ``raw`` unsmoothed): ``(depth, trough, second peak, first peak)`` or
    None.

    The trough is the highest sample; when that is not a peak-trough-peak deeper than
    ``threshold`` (a large fEPSP's foot, rising to 10 % of its amplitude, can stand
    higher than the volley at the end of the span), it is the sample that stands highest
    above the lowest points on *both* sides (the most prominent bump).
    """
    first = _volley_at(seg, raw, sfreq, int(np.argmax(seg)))
    if first is not None and first[0] > threshold:
        return first
    drop_left = seg - np.minimum.accumulate(seg)
    drop_right = seg - np.minimum.accumulate(seg[::-1])[::-1]
    iv = int(np.argmax(np.minimum(drop_left, drop_right)))
    alt = _volley_at(seg, raw, sfreq, iv)
    return alt if alt is not None and alt[0] > threshold else None


def _m_shape(dev: np.ndarray) -> tuple[int, int, int] | None:
    """brainwash's fibre volley in ``dev`` (response direction up): the right-most pair of
    consecutive lows (found with a prominence halved from 1 mV until two exist) with a
    high between them and the right low no lower than the left; ``(low, high, low)``."""
    from scipy.signal import find_peaks

    prom = 1e-3
    lows = np.array([], int)
    while lows.size < 2 and prom > 1e-6:
        lows, _ = find_peaks(-dev, prominence=prom)
        prom /= 2
    highs, _ = find_peaks(dev, prominence=prom)
    for k in range(lows.size - 1, 0, -1):
        p1, p2 = int(lows[k - 1]), int(lows[k])
        between = highs[(highs > p1) & (highs < p2)]
        if between.size and dev[p2] >= dev[p1]:
            return p1, int(between[0]), p2
    return None


def _rise_foot(dev_p: np.ndarray, i_first: int, i_half: int) -> int | None:
    """Last local minimum of ``dev_p`` between ``i_first`` and ``i_half`` (where the final
    rise crosses 50 %): the foot of the rise, after any fibre volley."""
    seg = dev_p[i_first:i_half + 1]
    if seg.size < 3:
        return None
    low = np.flatnonzero((seg[1:-1] <= seg[:-2]) & (seg[1:-1] < seg[2:]))
    return i_first + 1 + int(low[-1]) if low.size else None


@check_keywords(renamed={"window": "slope_window_s", "baseline": "base_stats"})
@fill_doc
def measure_response(
    y: np.ndarray, sfreq: float, i_stim: int, i_art: int, i_stop: int,
    base_span: tuple[int, int],
    polarity: int, slope: str = "20-80", slope_window_s: tuple[float, float] | None = None,
    smooth: float = 1e-4, peak_smooth: float = 3e-4, max_window: float = 1e-3,
    k_response: float = 4.0, *, base_stats: tuple[float, float] | None = None,
    traces: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_smooth: bool = True, max_search: tuple[float, float] | None = None,
    fit_width: float = 7e-4, fit_search: float = 0.25, volley_reference: str = "flanks",
) -> dict[str, Any]:
    """Measure one evoked field response in one sweep (see the module docstring).

    Parameters
    ----------
    y : ndarray
        The sweep (V).
    sfreq : float
        Sampling rate (Hz).
    i_stim, i_art, i_stop : int
        Stimulus sample, first sample after the artifact, end of the response window
        (exclusive).
    base_span : (int, int)
        First and last (exclusive) baseline samples.
    polarity : {-1, 1}
        Direction of the response.
    slope : {"20-80", "10-90", "20-90", "window", "max", "best-fit"}
        Slope definition (see the module docstring).
    slope_window_s : (float, float), optional
        For ``slope="window"``: start and stop (s after the stimulus); default 1 ms from
        the foot of the rise. Renamed from ``window`` in 0.2.
    smooth, peak_smooth : float
        Moving-average widths (s) used to locate crossings/volley and to find and
        measure the peak.
    max_window : float
        Width (s) of the sliding window of ``slope="max"``.
    %(k_response)s
    base_stats : (float, float), optional
        Baseline mean and noise SD of ``base_span`` already computed (with
        :func:`baseline_stats`, as :func:`fepsp` does for all sweeps at once). Renamed
        from ``baseline`` in 0.2.
    traces : (ndarray, ndarray, ndarray), optional
        The response-direction trace and its two smoothed versions already computed
        (with :func:`_response_traces`, for many sweeps at once).
    max_smooth, max_search, fit_width, fit_search, volley_reference
        See :func:`fepsp`.

    Returns
    -------
    dict
        The detail columns for this response (times in s from the sweep start except
        latencies, which are from the stimulus), and ``"_cursors"``: the sample offsets
        from ``i_stim`` of the points used (see :data:`~.cursors.CURSOR_OFFSETS`).
    """
    flags: list[str] = []
    if base_stats is None:
        # SD about a line, so a sloping tail (trains) is not counted as noise
        b0, b1 = _base_bounds(base_span, i_stim)
        m, sd = baseline_stats(y[None, b0:b1])
        base_stats = (float(m[0]), float(sd[0]))
    base, noise = float(base_stats[0]), float(base_stats[1])
    lo_i, hi_i = i_art, i_stop  # never smooth across an artifact
    w_pk = odd_width(peak_smooth, sfreq)
    if traces is None:
        dev, dev_s, dev_p = (a[0] for a in _response_traces(
            y[None], np.array([base]), polarity, i_art, i_stop, odd_width(smooth, sfreq),
            odd_width(peak_smooth, sfreq)))
    else:
        dev, dev_s, dev_p = traces
    out: dict[str, Any] = {"baseline": base, "noise_sd": noise, "polarity": polarity}
    if i_stop - i_art < 3:
        raise AnalysisError(f"response window of {i_stop - i_art} samples after the artifact")
    ip = i_art + int(np.argmax(dev_p[i_art:i_stop]))
    amp = float(dev_p[ip])
    out["amplitude"] = polarity * amp
    out["peak_latency"] = (ip - i_stim) / sfreq
    if not np.isfinite(noise) or amp < k_response * noise or amp <= 0:
        flags.append("no_response")
    amp_pos = max(amp, np.finfo(float).tiny)
    # the 10 % point bounds the volley search and the default window
    s10, _, _ = fraction_span(dev_s, i_art, ip, amp_pos, 0.1, 0.9)
    # fibre volley: peak-trough-peak between the artifact end and the rise
    vol = _find_volley(y, dev, dev_s, sfreq, i_stim, i_art, i_stop, s10, polarity, noise,
                       smooth, volley_reference)
    if vol.missing:
        flags.append("volley_missing")
    out["volley_amplitude"] = vol.amplitude
    out["volley_latency"] = vol.latency
    trace = _Rise(y=y, dev=dev, dev_s=dev_s, dev_p=dev_p, sfreq=sfreq, i_stim=i_stim,
                  i_art=i_art, i_stop=i_stop, ip=ip, amp_pos=amp_pos, s10=s10)
    a, b = _slope_span(trace, vol, slope, slope_window_s, max_window, max_smooth, max_search,
                       fit_width, fit_search, flags)
    n = b - a + 1
    if n < 3:
        flags.append("slope_few_samples")
    m, c, se = (fit_line(np.arange(a, b + 1) / sfreq, y[a:b + 1]) if n >= 2
                else (np.nan, np.nan, np.nan))
    out.update(slope=m, slope_se=se, slope_start=a / sfreq, slope_stop=b / sfreq, slope_n=n)
    onset = (base - c) / m if np.isfinite(m) and m != 0 else float("nan")
    out["onset_latency"] = onset - i_stim / sfreq
    # population spike after the rise
    pthr = max(5 * noise / np.sqrt(odd_width(peak_smooth, sfreq)) if np.isfinite(noise)
               else 0.0, 0.05 * amp_pos)
    ps = _pop_spike(dev_p, s10, i_stop, pthr)
    out["pop_spike_amplitude"] = ps[0] if ps else float("nan")
    out["pop_spike_latency"] = (ps[1] - i_stim) / sfreq if ps else float("nan")
    out["flags"] = ";".join(flags)
    b0, b1 = _base_bounds(base_span, i_stim)
    out["_cursors"] = dict(
        baseline_start=b0 - i_stim, baseline_stop=b1 - 1 - i_stim,
        volley_peak1=_offset(vol.first_peak, i_stim), volley_trough=_offset(vol.trough, i_stim),
        volley_peak2=_offset(vol.second_peak, i_stim),
        slope_start=a - i_stim, slope_stop=b - i_stim, amplitude_time=ip - i_stim,
        amplitude_start=max(ip - w_pk // 2, lo_i) - i_stim,
        amplitude_stop=min(ip + w_pk // 2, hi_i - 1) - i_stim)
    return out


def _offset(i: int | None, i_stim: int) -> float | int:
    """Sample offset of ``i`` from the stimulus; NaN when there is no such point."""
    return float("nan") if i is None else i - i_stim


class _Volley(NamedTuple):
    """The fibre volley of one response: amplitude (signed) and latency (s), samples of
    its first peak, trough and second peak (None when not found), and whether it is
    missing (flagged)."""

    amplitude: float
    latency: float
    first_peak: int | None
    trough: int | None
    second_peak: int | None
    missing: bool


class _Rise(NamedTuple):
    """One response's sweep, response-direction traces and landmarks (samples)."""

    y: np.ndarray
    dev: np.ndarray
    dev_s: np.ndarray
    dev_p: np.ndarray
    sfreq: float
    i_stim: int
    i_art: int
    i_stop: int
    ip: int
    amp_pos: float
    s10: int


def _find_volley(y: np.ndarray, dev: np.ndarray, dev_s: np.ndarray, sfreq: float,
                 i_stim: int, i_art: int, i_stop: int, s10: int, polarity: int,
                 noise: float, smooth: float, volley_reference: str) -> _Volley:
    """The fibre volley: peak-trough-peak between the artifact end and the rise."""
    nan = float("nan")
    if volley_reference == "baseline":
        # brainwash: the right-most M-shape 0.5-5.5 ms after the stimulus, depth from the
        # baseline at the trough sample
        lo_v = max(i_art, i_stim + int(round(5e-4 * sfreq)))
        m_shape = _m_shape(dev[lo_v:min(lo_v + int(round(5e-3 * sfreq)), i_stop)])
        if m_shape is None:  # brainwash's fallback: the sample 0.7 ms after the stimulus
            iv = min(i_stim + int(round(7e-4 * sfreq)), y.size - 1)
            return _Volley(polarity * float(dev[iv]), nan, None, iv, None, True)
        p1, iv, p2 = (lo_v + k for k in m_shape)
        vol_amp = polarity * float(dev[iv])
        return _Volley(vol_amp, (iv - i_stim) / sfreq, p1, iv, p2, not np.isfinite(vol_amp))
    if s10 - i_art >= 3:
        thr = 3 * noise / np.sqrt(odd_width(smooth, sfreq)) if np.isfinite(noise) else 0
        found = _volley(dev_s[i_art:s10], dev[i_art:s10], sfreq, thr)
        if found is not None:
            depth, iv, p2, p1 = found
            vol_amp = polarity * depth
            return _Volley(vol_amp, (i_art + iv - i_stim) / sfreq, i_art + p1, i_art + iv,
                           i_art + p2, not np.isfinite(vol_amp))
    return _Volley(nan, nan, None, None, None, True)


def _slope_span(r: _Rise, vol: _Volley, slope: str, window_s: tuple[float, float] | None,
                max_window: float, max_smooth: bool, max_search: tuple[float, float] | None,
                fit_width: float, fit_search: float, flags: list[str]) -> tuple[int, int]:
    """First and last samples of the slope fit for the definition ``slope``."""
    check_option("slope", slope, SLOPE_DEFINITIONS)
    if slope in SLOPE_FRACTIONS:
        lo, hi = SLOPE_FRACTIONS[slope]
        a, b, at_art = fraction_span(r.dev_s, r.i_art, r.ip, r.amp_pos, lo, hi)
        if at_art:
            flags.append("slope_at_artifact")
        return a, b
    if slope == "window":
        return _window_span(r, vol, window_s)
    if slope == "max":
        return _max_span(r, max_window, max_smooth, max_search)
    return _best_fit_span(r, vol, fit_width, fit_search)


def _window_span(r: _Rise, vol: _Volley, window_s: tuple[float, float] | None
                 ) -> tuple[int, int]:
    """``slope="window"``: the given window after the stimulus, else 1 ms from the rise's
    foot (from the volley's second peak, else the 10 % point)."""
    sfreq = r.sfreq
    if window_s is None:
        second = vol.second_peak
        a = _rise_foot(r.dev_p, second if second is not None else r.i_art,
                       fraction_span(r.dev_p, r.i_art, r.ip, r.amp_pos, 0.5, 0.9)[0])
        if a is None:
            a = second if second is not None else r.s10
        b = a + int(round(1e-3 * sfreq)) - 1
    else:
        a = r.i_stim + int(round(window_s[0] * sfreq))
        b = r.i_stim + int(round(window_s[1] * sfreq)) - 1
    return a, min(b, r.y.size - 1)


def _max_span(r: _Rise, max_window: float, max_smooth: bool,
              max_search: tuple[float, float] | None) -> tuple[int, int]:
    """``slope="max"``: the steepest window of ``max_window`` s."""
    sfreq, lo_i, hi_i = r.sfreq, r.i_art, r.i_stop
    # locate on a trace smoothed over the window width: the selection then hardly
    # follows the noise (raw-sample fits of the steepest noisy window are biased up)
    dev_m = (moving_average(r.dev[lo_i:hi_i], odd_width(max_window, sfreq)) if max_smooth
             else r.dev[lo_i:hi_i])
    first, last = r.i_art, r.ip
    if max_search is not None:  # a fixed search range after the stimulus (WinLTP)
        first = max(r.i_art, r.i_stim + int(round(max_search[0] * sfreq)))
        last = max(first, min(hi_i - 1, r.i_stim + int(round(max_search[1] * sfreq))))
    a, b = max_slope_span(dev_m, first - lo_i, last - lo_i,
                          max(2, int(round(max_window * sfreq)) + 1))
    return a + lo_i, b + lo_i


def _best_fit_span(r: _Rise, vol: _Volley, fit_width: float, fit_search: float
                   ) -> tuple[int, int]:
    """``slope="best-fit"`` (brainwash): R² of n-sample lines on the rise from the
    volley's second peak, smoothed by a first-order Savitzky-Golay filter over n samples
    (odd)."""
    from scipy.signal import savgol_filter

    n_sel = max(3, int(round(fit_width * r.sfreq)))
    if vol.second_peak is None:  # brainwash's fallback: 2 ms after the stimulus
        a = r.i_stim + int(round(2e-3 * r.sfreq))
        return a, min(a + n_sel, r.y.size - 1)
    start = vol.second_peak
    part = r.dev[start:min(r.ip + n_sel, r.i_stop)]
    n_sg = min(n_sel if n_sel % 2 else n_sel - 1, part.size - (1 - part.size % 2))
    dev_f = savgol_filter(part, n_sg, 1) if n_sg > 1 else part
    a, b = best_fit_span(dev_f, 0, r.ip - start, n_sel + 1, n_sel, fit_search)
    return a + start, min(b + start, r.y.size - 1)


@check_keywords(renamed={"window": "slope_window_s"})
@fill_doc
def fepsp(
    rec: Recording,
    channel: str | int | Sequence[str | int] | None = None,
    polarity: str | int = "auto",
    slope: str | None = None,
    slope_window_s: tuple[float, float] | None = None,
    stim_times: Sequence[float] | None = None,
    baseline_window: float | None = None,
    baseline_gap: float | None = None,
    response_window: float = 0.02,
    smooth: float | None = None,
    peak_smooth: float | None = None,
    max_window: float | None = None,
    k_response: float = 4.0,
    *,
    definitions: str = "ketephys",
    cursors: str | pd.DataFrame | None = None,
    cursor_groups: Any = "auto",
    cursor_sweeps: Sequence[int] | None = None,
    max_smooth: bool | None = None,
    max_search: tuple[float, float] | None = None,
    fit_width: float | None = None,
    fit_search: float | None = None,
    volley_reference: str | None = None,
    amplitude_plateau: float | None = None,
) -> pd.DataFrame:
    """Field-EPSP measures of every sweep, channel and stimulus.

    Keywords left at ``None`` take the value of the ``definitions`` preset
    (:mod:`ketephys.synaptic.presets`; the values below are ketephys's own).

    Parameters
    ----------
    rec : Recording
        Episodic (or one continuous sweep) field recording, in V.
    channel : str, int or list, optional
        Channels to measure; default every ``field``/``lfp`` channel.
    %(polarity)s
    slope : {"20-80", "10-90", "20-90", "window", "max", "best-fit"}, optional
        Slope definition (see the module docstring); default ``"20-80"``.
    slope_window_s : (float, float), optional
        For ``slope="window"``: start and stop (s after the stimulus). Without it the 1 ms
        window is placed once per cursor group (pathway) and stimulus, on the group's mean
        sweep, from the volley's second peak (else the 10 % point), and applied to every
        sweep of the group. Renamed from ``window`` in 0.2.
    %(stim_times)s
    baseline_window, baseline_gap : float, optional
        Pre-stimulus baseline length (default 2 ms) and the gap between its end and the
        stimulus (default 0.3 ms; the artifact may begin slightly before the detected
        stimulus).
    %(response_window)s
    smooth, peak_smooth : float, optional
        Moving-average widths (s) used to locate crossings/volley (default 0.1 ms) and to
        find and measure the peak (default 0.3 ms; 0 = the single extreme sample).
    max_window : float, optional
        Width of the sliding window of ``slope="max"`` (default 1 ms).
    %(k_response)s
    definitions : {"ketephys", "brainwash", "winltp"}
        Measurement definitions of a tool (:mod:`ketephys.synaptic.presets`).
    cursors : {"per-sweep", "fixed"}, DataFrame or None
        ``"per-sweep"``: measurement points found on every sweep; ``"fixed"``: found once
        per cursor group and stimulus on the group's mean sweep and applied to every sweep
        (:mod:`ketephys.synaptic.cursors`); a cursor table (``table.attrs["cursors"]`` of
        an earlier run): measure at those times. Default: the preset's (ketephys
        ``"per-sweep"``, brainwash ``"fixed"``).
    cursor_groups : "auto", "all", "parity", sequence or mapping
        Sweeps sharing cursors (see :mod:`~ketephys.synaptic.cursors`); default ``"auto"``
        (even/odd sweeps apart when they are two pathways).
    cursor_sweeps : sequence of int, optional
        Sweeps averaged to place fixed cursors (e.g. the baseline); default all sweeps of
        each group.
    max_smooth : bool, optional
        ``slope="max"``: locate the steepest window on the trace smoothed over its width
        (default True) or on the raw samples (WinLTP).
    max_search : (float, float), optional
        ``slope="max"``: search the window only between these times after the stimulus
        (default: from the artifact end to the peak).
    fit_width, fit_search : float, optional
        ``slope="best-fit"``: window width (default 0.7 ms) and the fraction of the rise
        (volley's second peak to the peak) searched for its start (default 0.25).
    volley_reference : {"flanks", "baseline"}, optional
        Fibre-volley depth from the line joining its two flanking peaks (default) or from
        the pre-stimulus baseline (brainwash).
    amplitude_plateau : float, optional
        Fixed cursors: the amplitude is the mean over the run of samples about the mean
        sweep's peak where it stays within this fraction of its peak (default 0.1; 0 = the
        ``peak_smooth`` width, as brainwash).

    Returns
    -------
    pandas.DataFrame
        The study metadata columns, ``recording``, ``modality`` (``"fepsp"``), then
        :data:`FEPSP_COLUMNS` and ``settings_hash``. ``time`` is ``sweep_start +
        stim_time`` (s from the recording start). Amplitudes in V and slopes in V/s carry
        the response's sign. With fixed cursors (or a placed ``slope_window_s``)
        ``table.attrs["cursors"]`` holds the cursor table
        (:data:`~ketephys.synaptic.cursors.CURSOR_COLUMNS`) and ``cursor_group`` is
        added after ``flags``.
    """
    opt = _fepsp_options(definitions, dict(
        slope=slope, baseline_window=baseline_window, baseline_gap=baseline_gap,
        smooth=smooth, peak_smooth=peak_smooth, max_window=max_window, max_smooth=max_smooth,
        max_search=max_search, fit_width=fit_width, fit_search=fit_search,
        volley_reference=volley_reference, amplitude_plateau=amplitude_plateau))
    table_given = isinstance(cursors, pd.DataFrame)
    mode = "fixed" if table_given else (get_preset(definitions).cursors if cursors is None
                                        else cursors)
    check_option("cursors", mode, CURSOR_MODES)
    slope = opt["slope"]
    settings = dict(slope=slope, slope_window_s=slope_window_s, polarity=polarity, stim_times=stim_times,
                    baseline_window=opt["baseline_window"], baseline_gap=opt["baseline_gap"],
                    response_window=response_window, smooth=opt["smooth"],
                    peak_smooth=opt["peak_smooth"], max_window=opt["max_window"],
                    k_response=k_response, definitions=definitions,
                    cursors=mode if not table_given else "given",
                    cursor_groups=cursor_groups if isinstance(cursor_groups, str) else "given",
                    cursor_sweeps=None if cursor_sweeps is None else sorted(
                        int(v) for v in cursor_sweeps),
                    **{k: opt[k] for k in ("max_smooth", "max_search", "fit_width",
                                           "fit_search", "volley_reference",
                                           "amplitude_plateau")})
    run = _FepspRun(
        rec=rec, opt=opt, slope_window_s=slope_window_s, response_window=response_window,
        k_response=k_response, mode=mode, cursors=cursors if table_given else None,
        cursor_groups=cursor_groups, cursor_sweeps=cursor_sweeps, definitions=definitions,
        use_cursors=mode == "fixed" or (slope == "window" and slope_window_s is None),
        starts=sweep_starts(rec))
    rows = []
    cursor_rows: list[dict[str, Any]] = []
    for ch in pick_channel(rec, channel, ("field", "lfp"), "field-potential"):
        ch_rows, ch_cursors = _fepsp_channel(run, ch, polarity, stim_times)
        rows.extend(ch_rows)
        cursor_rows += ch_cursors
    columns = FEPSP_COLUMNS + (("cursor_group",) if run.use_cursors else ())
    table = assemble(rows, rec, "fepsp", settings, columns)
    if run.use_cursors:
        table.attrs["cursors"] = cursor_table(cursor_rows)
    return table


def _fepsp_options(definitions: str, given: dict[str, Any]) -> dict[str, Any]:
    """The measurement settings of :func:`fepsp`: those given, the others from the
    ``definitions`` preset."""
    preset = get_preset(definitions)
    opt = {k: (preset.settings[k] if v is None else v) for k, v in given.items()}
    check_option("slope", opt["slope"], SLOPE_DEFINITIONS)
    check_option("volley_reference", opt["volley_reference"], ("flanks", "baseline"))
    return opt


@dataclass
class _FepspRun:
    """The settings one :func:`fepsp` call measures every channel with."""

    rec: Recording
    opt: dict[str, Any]
    slope_window_s: tuple[float, float] | None
    response_window: float
    k_response: float
    mode: str
    cursors: pd.DataFrame | None
    cursor_groups: Any
    cursor_sweeps: Sequence[int] | None
    definitions: str
    use_cursors: bool
    starts: np.ndarray

    @property
    def extra(self) -> dict[str, Any]:
        return {k: self.opt[k] for k in ("max_smooth", "max_search", "fit_width",
                                         "fit_search", "volley_reference")}


class _StimColumns(NamedTuple):
    """A channel's stimulus table columns, sorted by sweep and stimulus time."""

    stim_time: np.ndarray
    artifact_end: np.ndarray
    clipped: np.ndarray


def _stimulus_spans(st_all: np.ndarray, end_all: np.ndarray, sw_all: np.ndarray, sf: float,
                    n_times: int, response_window: float, baseline_gap: float,
                    baseline_window: float) -> list[tuple]:
    """Per stimulus: sweep, index in it, row, and samples (stimulus, artifact end, stop
    of the response window, baseline bounds)."""
    spans = []
    for s in np.unique(sw_all):
        sel = np.flatnonzero(sw_all == s)
        st, ends = st_all[sel], end_all[sel]
        for k in range(sel.size):
            i_stim = int(round(st[k] * sf))
            i_art = int(round(ends[k] * sf))
            nxt = st[k + 1] - 2e-4 if k + 1 < len(st) else np.inf
            i_stop = int(min(round(min(st[k] + response_window, nxt) * sf), n_times))
            prev_end = ends[k - 1] if k else 0.0
            i_b0 = int(round(max(st[k] - baseline_gap - baseline_window, prev_end) * sf))
            i_b1 = max(i_b0 + 2, int(round((st[k] - baseline_gap) * sf)))
            spans.append((int(s), k, sel[k], i_stim, i_art, i_stop,
                          _base_bounds((i_b0, i_b1), i_stim)))
    return spans


def _span_baselines(y: np.ndarray, spans: list[tuple]) -> dict[int, tuple[float, float]]:
    """Baseline mean and noise SD of every stimulus, computed at once for the rows
    sharing the same baseline span."""
    base_of: dict[int, tuple[float, float]] = {}
    by_span: dict[tuple[int, int], list[int]] = {}
    for j, sp in enumerate(spans):
        by_span.setdefault(sp[6], []).append(j)
    for (b0, b1), js in by_span.items():
        mean, sd = baseline_stats(y[[spans[j][0] for j in js], b0:b1])
        base_of.update({j: (float(m), float(v)) for j, m, v in zip(js, mean, sd)})
    return base_of


def _fepsp_channel(run: _FepspRun, ch: int, polarity: str | int,
                   stim_times: Sequence[float] | None) -> tuple[list[dict], list[dict]]:
    """Rows of every sweep and stimulus of channel ``ch``, and its cursor rows."""
    rec, opt, sf = run.rec, run.opt, run.rec.sfreq
    y, stims, pol = channel_stimuli(rec, ch, stim_times, polarity, opt["baseline_window"],
                                    run.response_window, missing="stimulus artifact")
    cols = _StimColumns(stim_time=stims["stim_time"].to_numpy(float),
                        artifact_end=stims["artifact_end"].to_numpy(float),
                        clipped=stims["clipped"].to_numpy(bool))
    spans = _stimulus_spans(cols.stim_time, cols.artifact_end, stims["sweep"].to_numpy(int),
                            sf, y.shape[1], run.response_window, opt["baseline_gap"],
                            opt["baseline_window"])
    results, kept = _measure_spans(run, ch, y, pol, spans, cols)
    cursor_rows: list[dict[str, Any]] = []
    if run.use_cursors:
        cursor_rows = _apply_cursors(
            y, sf, spans, results, kept, rec.ch_names[ch], pol, run.cursor_groups,
            run.cursor_sweeps, run.cursors,
            "slope" if run.mode == "per-sweep" else "all",
            dict(slope=opt["slope"], smooth=opt["smooth"], peak_smooth=opt["peak_smooth"],
                 max_window=opt["max_window"], k_response=run.k_response,
                 amplitude_plateau=opt["amplitude_plateau"], **run.extra),
            run.definitions, run.k_response)
    return [results[j] for j in range(len(spans))], cursor_rows


def _measure_spans(run: _FepspRun, ch: int, y: np.ndarray, pol: int, spans: list[tuple],
                   cols: _StimColumns) -> tuple[dict[int, dict], dict[int, np.ndarray]]:
    """:func:`measure_response` of every stimulus; the response traces of stimuli sharing
    a response window are made at once, in blocks of bounded size (each block measured
    before the next is made). Also the response-direction traces kept for the cursors."""
    opt, sf = run.opt, run.rec.sfreq
    base_of = _span_baselines(y, spans)
    by_window: dict[tuple[int, int], list[int]] = {}
    for j, sp in enumerate(spans):
        by_window.setdefault((sp[4], sp[5]), []).append(j)
    block = max(1, 2_000_000 // max(y.shape[1], 1))
    w_s, w_p = odd_width(opt["smooth"], sf), odd_width(opt["peak_smooth"], sf)
    results: dict[int, dict[str, Any]] = {}
    kept: dict[int, np.ndarray] = {}
    for (i_art, i_stop), js in by_window.items():
        for at in range(0, len(js), block):
            part = js[at:at + block]
            dev, dev_s, dev_p = _response_traces(
                y[[spans[j][0] for j in part]], np.array([base_of[j][0] for j in part]),
                pol, i_art, i_stop, w_s, w_p)
            for r, j in enumerate(part):
                results[j] = _measure_span(run, ch, y, pol, spans[j], base_of[j],
                                           (dev[r], dev_s[r], dev_p[r]), cols)
                if run.use_cursors:
                    kept[j] = dev[r]
    return results, kept


def _measure_span(run: _FepspRun, ch: int, y: np.ndarray, pol: int, span: tuple,
                  baseline: tuple[float, float], traces: tuple, cols: _StimColumns
                  ) -> dict[str, Any]:
    """One stimulus's row: :func:`measure_response` and the identifying columns."""
    rec, opt, sf = run.rec, run.opt, run.rec.sfreq
    s, k, row, i_stim, i_art, i_stop, bspan = span
    slope = opt["slope"]
    try:
        res = measure_response(
            y[s], sf, i_stim, i_art, i_stop, bspan, pol, slope, run.slope_window_s,
            opt["smooth"], opt["peak_smooth"], opt["max_window"], run.k_response,
            base_stats=baseline, traces=traces, **run.extra)
    except AnalysisError as err:
        raise AnalysisError(f"channel {rec.ch_names[ch]!r}, sweep {s}, "
                            f"stimulus {k + 1}: {err.detail}", rec.source.path) from err
    if cols.clipped[row]:
        res["flags"] = ";".join(filter(None, [res["flags"], "clipped_artifact"]))
    res.update(channel=rec.ch_names[ch], sweep=s, stimulus=k + 1,
               sweep_start=float(run.starts[s]), stim_time=float(cols.stim_time[row]),
               time=float(run.starts[s] + cols.stim_time[row]),
               artifact_end=float(cols.artifact_end[row]), slope_definition=slope)
    return res


def _apply_cursors(y: np.ndarray, sf: float, spans: list[tuple], results: dict[int, dict],
                   kept: dict[int, np.ndarray], channel: str,
                   pol: int, groups_spec: Any, cursor_sweeps: Sequence[int] | None,
                   given: pd.DataFrame | None, what: str, measure_kw: dict[str, Any],
                   definitions: str, k_response: float) -> list[dict[str, Any]]:
    """Place cursors per group and stimulus on the group's mean sweep (or take them from
    ``given``) and re-measure every sweep of the group at them (``what="slope"``: only the
    slope). Updates ``results`` in place; returns the cursor-table rows."""
    first = [j for j, sp in enumerate(spans) if sp[1] == 0]
    sweeps = np.array([spans[j][0] for j in first], int)
    measures = {m: np.array([results[j][m] for j in first], float)
                for m in ("amplitude", "slope")}
    labels = group_labels(groups_spec, sweeps, measures)
    chosen = None if cursor_sweeps is None else {int(v) for v in cursor_sweeps}
    members: dict[tuple[str, int], list[int]] = {}
    for j, sp in enumerate(spans):
        members.setdefault((labels.get(sp[0], "unassigned"), sp[1]), []).append(j)
    out = []
    for (label, k), js in members.items():
        if given is not None:
            row = _given_cursors(given, channel, label, k)
            if row is None:
                _per_sweep_fallback(results, js, label)
                continue
            off = _given_offsets(row, sf)
            out.append(row)
        else:
            use = [j for j in js if chosen is None or spans[j][0] in chosen] or js
            off = _place(y, sf, [spans[j] for j in use], pol, measure_kw)
            out.append(cursor_row(off, sf, channel=channel, group=label, stimulus=k + 1,
                                  n_sweeps=len(use), polarity=pol, definitions=definitions))
        for j in js:
            _measure_at(y, kept[j], sf, spans[j], results[j], off, pol, label, measure_kw,
                        what, k_response)
    return out


def _given_cursors(given: pd.DataFrame, channel: str, label: str, k: int
                   ) -> dict[str, Any] | None:
    """The row of the cursor table ``given`` for this channel, group and stimulus
    (index ``k``), or None."""
    hit = given[(given["channel"] == channel) & (given["group"].astype(str) == label)
                & (given["stimulus"] == k + 1)]
    return None if hit.empty else hit.iloc[0].to_dict()


def _given_offsets(row: dict[str, Any], sf: float) -> dict[str, float]:
    """Cursor times (s from the stimulus) of a cursor-table row as whole-sample offsets
    (NaN stays NaN)."""
    off = {key: (row[key] * sf if np.isfinite(row[key]) else np.nan) for key in CURSOR_OFFSETS}
    return {key: (float(round(v)) if np.isfinite(v) else v) for key, v in off.items()}


def _per_sweep_fallback(results: dict[int, dict], js: list[int], label: str) -> None:
    """No cursors for this group: keep the per-sweep values, flagged."""
    for j in js:
        results[j]["flags"] = ";".join(filter(None, [results[j]["flags"],
                                                     "cursors_per_sweep"]))
        results[j]["cursor_group"] = label


def _measure_at(y: np.ndarray, dev: np.ndarray, sf: float, span: tuple, res: dict[str, Any],
                off: dict[str, float], pol: int, label: str, measure_kw: dict[str, Any],
                what: str, k_response: float) -> None:
    """Re-measure one response at the cursors ``off`` (in place); with ``what="all"`` its
    ``no_response`` (and, for a baseline-referenced volley, ``volley_missing``) flags are
    decided again on the new values."""
    s, _, _, i_stim, _, _, _ = span
    res.update(measure_at_cursors(y[s], dev, sf, i_stim, off, pol, res["baseline"],
                                  measure_kw["volley_reference"], what))
    res["cursor_group"] = label
    if what != "all":
        return
    fixed_volley = measure_kw["volley_reference"] == "baseline"
    drop = ("no_response", "volley_missing") if fixed_volley else ("no_response",)
    flags = [f for f in res["flags"].split(";") if f and f not in drop]
    amp = pol * res["amplitude"]
    noise = res["noise_sd"]
    if not np.isfinite(noise) or amp < k_response * noise or amp <= 0:
        flags.append("no_response")
    if fixed_volley and not np.isfinite(off["volley_peak2"]):
        flags.append("volley_missing")  # the mean had no volley: fallback time
    res["flags"] = ";".join(flags)


def _place(y: np.ndarray, sf: float, spans: list[tuple], pol: int,
           measure_kw: dict[str, Any]) -> dict[str, float]:
    """Cursor offsets (samples from the stimulus) found on the mean of the sweeps of
    ``spans`` (each aligned on its own stimulus)."""
    rel = np.array([(sp[3], sp[4] - sp[3], sp[5] - sp[3], sp[6][0] - sp[3], sp[6][1] - sp[3])
                    for sp in spans])
    pre = int(-rel[:, 3].max())             # baseline start offset every sweep has
    post = int(rel[:, 2].min())             # response end every sweep has
    i_art = int(np.median(rel[:, 1]))
    b1 = int(np.median(rel[:, 4]))
    seg = np.stack([y[sp[0], sp[3] - pre:sp[3] + post] for sp in spans]).mean(axis=0)
    res = measure_response(seg, sf, pre, pre + i_art, pre + post, (0, pre + b1), pol,
                           measure_kw["slope"], None, measure_kw["smooth"],
                           measure_kw["peak_smooth"], measure_kw["max_window"],
                           measure_kw["k_response"],
                           **{k: measure_kw[k] for k in ("max_smooth", "max_search",
                                                          "fit_width", "fit_search",
                                                          "volley_reference")})
    off = {k: float(v) for k, v in res["_cursors"].items()}
    plateau = measure_kw["amplitude_plateau"]
    if plateau:
        # the amplitude averaged over the peak's plateau: the fixed point is then not
        # where one sweep's noise happens to peak, and averages many samples
        dev = pol * (seg - res["baseline"])
        ip = pre + int(off["amplitude_time"])
        a0, a1 = plateau_span(dev, ip, plateau, pre + i_art, pre + post)
        off["amplitude_start"] = float(min(a0 - pre, off["amplitude_start"]))
        off["amplitude_stop"] = float(max(a1 - pre, off["amplitude_stop"]))
    return off
