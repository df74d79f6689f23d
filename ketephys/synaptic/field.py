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
  (``window=(start, stop)`` s after the stimulus; default 1 ms from the volley's second peak
  or, without a volley, from the 10 % point) or ``"max"`` (the steepest ``max_window``
  (1 ms) window, located on the trace smoothed over that width, fitted on raw samples);
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
* **flags**: ``clipped_artifact``, ``no_response`` (amplitude < ``k_response`` noise SDs),
  ``volley_missing``, ``slope_few_samples`` (< 3 samples), ``slope_at_artifact`` (the rise
  starts before the artifact ended).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..recording import Recording
from ..settings import check_keywords
from ._common import (
    assemble,
    detect_polarity,
    moving_average,
    odd_width,
    pick_channel,
    stimulus_table,
    sweep_starts,
    sweeps_of,
)
from .slope import SLOPE_FRACTIONS, fit_line, fraction_span, max_slope_span

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
               ) -> tuple[float, int, int] | None:
    """Peak-trough-peak depth with the trough at ``iv``: flanking peaks are the lowest
    points of ``seg`` before and after it (None when ``iv`` is not between them)."""
    if not 0 < iv < seg.size - 1:
        return None
    p1 = int(np.argmin(seg[:iv + 1]))
    p2 = iv + int(np.argmin(seg[iv:]))
    if not p1 < iv < p2:
        return None
    # levels as means of the raw samples within +-0.1 ms: picking single extreme samples
    # would bias the depth up by the noise
    h = max(1, int(round(1e-4 * sfreq)))

    def level(k: int) -> float:
        part = raw[max(k - h, 0):k + h + 1]
        return float(np.add.reduce(part) / part.size)  # bit-identical to .mean()

    v1, v2, vt = level(p1), level(p2), level(iv)
    # the trough: vertex of a parabola through the raw samples within 0.2 ms
    h2 = max(2, int(round(2e-4 * sfreq)))
    lo_k, hi_k = max(iv - h2, 0), min(iv + h2 + 1, raw.size)
    if hi_k - lo_k >= 4:
        c2, c1, c0 = _parabola_solver(lo_k - iv, hi_k - iv) @ raw[lo_k:hi_k]
        if c2 < 0 and abs(c1 / (2 * c2)) <= h2:
            vt = float(c0 - c1 ** 2 / (4 * c2))
    tangent = v1 + (v2 - v1) * (iv - p1) / (p2 - p1)
    return float(vt - tangent), iv, p2


def _volley(seg: np.ndarray, raw: np.ndarray, sfreq: float, threshold: float
            ) -> tuple[float, int, int] | None:
    """Fibre volley in ``seg`` (smoothed response-direction trace from the artifact end to
    the 10 % point; ``raw`` unsmoothed): ``(depth, trough, second peak)`` or None.

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


def measure_response(
    y: np.ndarray, sfreq: float, i_stim: int, i_art: int, i_stop: int,
    base_span: tuple[int, int],
    polarity: int, slope: str = "20-80", window: tuple[float, float] | None = None,
    smooth: float = 1e-4, peak_smooth: float = 3e-4, max_window: float = 1e-3,
    k_response: float = 4.0, *, baseline: tuple[float, float] | None = None,
    traces: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
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
    baseline : (float, float), optional
        Baseline mean and noise SD of ``base_span`` already computed (with
        :func:`baseline_stats`, as :func:`fepsp` does for all sweeps at once).
    traces : (ndarray, ndarray, ndarray), optional
        The response-direction trace and its two smoothed versions already computed
        (with :func:`_response_traces`, for many sweeps at once).

    Returns
    -------
    dict
        The detail columns for this response (times in s from the sweep start except
        latencies, which are from the stimulus).
    """
    flags: list[str] = []
    if baseline is None:
        # SD about a line, so a sloping tail (trains) is not counted as noise
        b0, b1 = _base_bounds(base_span, i_stim)
        m, sd = baseline_stats(y[None, b0:b1])
        baseline = (float(m[0]), float(sd[0]))
    base, noise = float(baseline[0]), float(baseline[1])
    lo_i, hi_i = i_art, i_stop  # never smooth across an artifact
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
    vol_amp = vol_lat = float("nan")
    v_second_peak = None
    if s10 - i_art >= 3:
        thr = 3 * noise / np.sqrt(odd_width(smooth, sfreq)) if np.isfinite(noise) else 0
        found = _volley(dev_s[i_art:s10], dev[i_art:s10], sfreq, thr)
        if found is not None:
            depth, iv, p2 = found
            vol_amp = polarity * depth
            vol_lat = (i_art + iv - i_stim) / sfreq
            v_second_peak = i_art + p2
    if not np.isfinite(vol_amp):
        flags.append("volley_missing")
    out["volley_amplitude"] = vol_amp
    out["volley_latency"] = vol_lat
    # slope
    if slope in SLOPE_FRACTIONS:
        lo, hi = SLOPE_FRACTIONS[slope]
        a, b, at_art = fraction_span(dev_s, i_art, ip, amp_pos, lo, hi)
        if at_art:
            flags.append("slope_at_artifact")
    elif slope == "window":
        if window is None:
            a = v_second_peak if v_second_peak is not None else s10
            b = a + int(round(1e-3 * sfreq)) - 1
        else:
            a = i_stim + int(round(window[0] * sfreq))
            b = i_stim + int(round(window[1] * sfreq)) - 1
        b = min(b, y.size - 1)
    elif slope == "max":
        # locate on a trace smoothed over the window width: the selection then hardly
        # follows the noise (raw-sample fits of the steepest noisy window are biased up)
        dev_m = moving_average(dev[lo_i:hi_i], odd_width(max_window, sfreq))
        a, b = max_slope_span(dev_m, i_art - lo_i, ip - lo_i,
                              max(2, int(round(max_window * sfreq)) + 1))
        a, b = a + lo_i, b + lo_i
    else:
        raise AnalysisError(f"slope must be one of {list(SLOPE_FRACTIONS)}, 'window' or 'max', "
                            f"got {slope!r}")
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
    return out


@check_keywords()
def fepsp(
    rec: Recording,
    channel: str | int | Sequence[str | int] | None = None,
    polarity: str | int = "auto",
    slope: str = "20-80",
    window: tuple[float, float] | None = None,
    stim_times: Sequence[float] | None = None,
    baseline_window: float = 2e-3,
    baseline_gap: float = 3e-4,
    response_window: float = 0.02,
    smooth: float = 1e-4,
    peak_smooth: float = 3e-4,
    max_window: float = 1e-3,
    k_response: float = 4.0,
) -> pd.DataFrame:
    """Field-EPSP measures of every sweep, channel and stimulus.

    Parameters
    ----------
    rec : Recording
        Episodic (or one continuous sweep) field recording, in V.
    channel : str, int or list, optional
        Channels to measure; default every ``field``/``lfp`` channel.
    polarity : {"auto", "negative", "positive"} or {-1, 1}
        Direction of the fEPSP; ``"auto"`` takes, per channel, the sign of the first
        deflection of the mean sweep beyond half its largest deflection.
    slope : {"20-80", "10-90", "20-90", "window", "max"}
        Slope definition (see the module docstring).
    window : (float, float), optional
        For ``slope="window"``: start and stop (s after the stimulus).
    stim_times : sequence of float, optional
        Stimulus times (s from the sweep start) used in every sweep; default: rising edges
        of the first ``stim`` channel, else ``stimulus`` events, else the artifacts found
        in the trace.
    baseline_window, baseline_gap, response_window : float
        Pre-stimulus baseline length, the gap between its end and the stimulus (the
        artifact may begin slightly before the detected stimulus) and the maximal response
        window (s).
    smooth, peak_smooth : float
        Moving-average widths (s) used to locate crossings/volley and the peak.
    max_window : float
        Width of the sliding window of ``slope="max"`` (s).
    k_response : float
        ``no_response`` when the amplitude is below this many baseline noise SDs.

    Returns
    -------
    pandas.DataFrame
        The study metadata columns, ``recording``, ``modality`` (``"fepsp"``), then
        :data:`FEPSP_COLUMNS` and ``settings_hash``. ``time`` is ``sweep_start +
        stim_time`` (s from the recording start). Amplitudes in V and slopes in V/s carry
        the response's sign.
    """
    settings = dict(slope=slope, window=window, polarity=polarity, stim_times=stim_times,
                    baseline_window=baseline_window, baseline_gap=baseline_gap,
                    response_window=response_window, smooth=smooth, peak_smooth=peak_smooth, max_window=max_window,
                    k_response=k_response)
    path = rec.source.path
    chans = pick_channel(rec, channel, ("field", "lfp"), "field-potential")
    starts = sweep_starts(rec)
    sf = rec.sfreq
    rows = []
    for ch in chans:
        y = sweeps_of(rec, ch)
        stims = stimulus_table(rec, y, stim_times)
        if stims.empty:
            raise AnalysisError(f"no stimulus artifact found on channel {rec.ch_names[ch]!r}; "
                                "pass stim_times=[...]", path)
        if polarity == "auto":
            pol = detect_polarity(y, stims, sf, baseline_window, response_window)
        elif polarity in ("negative", -1):
            pol = -1
        elif polarity in ("positive", 1):
            pol = 1
        else:
            raise AnalysisError(f"polarity must be 'auto', 'negative' or 'positive', "
                                f"got {polarity!r}", path)
        stims = stims.sort_values(["sweep", "stim_time"])
        sw_all = stims["sweep"].to_numpy(int)
        st_all = stims["stim_time"].to_numpy(float)
        end_all = stims["artifact_end"].to_numpy(float)
        clip_all = stims["clipped"].to_numpy(bool)
        spans = []  # per stimulus: sweep, index in it, samples (stim, artifact end, stop, base)
        for s in np.unique(sw_all):
            sel = np.flatnonzero(sw_all == s)
            st, ends = st_all[sel], end_all[sel]
            for k in range(sel.size):
                i_stim = int(round(st[k] * sf))
                i_art = int(round(ends[k] * sf))
                nxt = st[k + 1] - 2e-4 if k + 1 < len(st) else np.inf
                i_stop = int(min(round(min(st[k] + response_window, nxt) * sf), y.shape[1]))
                prev_end = ends[k - 1] if k else 0.0
                i_b0 = int(round(max(st[k] - baseline_gap - baseline_window, prev_end) * sf))
                i_b1 = max(i_b0 + 2, int(round((st[k] - baseline_gap) * sf)))
                spans.append((int(s), k, sel[k], i_stim, i_art, i_stop,
                              _base_bounds((i_b0, i_b1), i_stim)))
        # baselines of all stimuli at once (rows sharing the same span)
        base_of: dict[int, tuple[float, float]] = {}
        by_span: dict[tuple[int, int], list[int]] = {}
        for j, sp in enumerate(spans):
            by_span.setdefault(sp[6], []).append(j)
        for (b0, b1), js in by_span.items():
            mean, sd = baseline_stats(y[[spans[j][0] for j in js], b0:b1])
            base_of.update({j: (float(m), float(v)) for j, m, v in zip(js, mean, sd)})
        # response traces of stimuli sharing a response window at once, in blocks of
        # bounded size (each block measured before the next is made)
        by_window: dict[tuple[int, int], list[int]] = {}
        for j, sp in enumerate(spans):
            by_window.setdefault((sp[4], sp[5]), []).append(j)
        block = max(1, 2_000_000 // max(y.shape[1], 1))
        w_s, w_p = odd_width(smooth, sf), odd_width(peak_smooth, sf)
        results: dict[int, dict[str, Any]] = {}
        for (i_art, i_stop), js in by_window.items():
            for at in range(0, len(js), block):
                part = js[at:at + block]
                dev, dev_s, dev_p = _response_traces(
                    y[[spans[j][0] for j in part]], np.array([base_of[j][0] for j in part]),
                    pol, i_art, i_stop, w_s, w_p)
                for r, j in enumerate(part):
                    s, k, row, i_stim, _, _, bspan = spans[j]
                    try:
                        res = measure_response(
                            y[s], sf, i_stim, i_art, i_stop, bspan, pol, slope, window,
                            smooth, peak_smooth, max_window, k_response,
                            baseline=base_of[j], traces=(dev[r], dev_s[r], dev_p[r]))
                    except AnalysisError as err:
                        raise AnalysisError(f"channel {rec.ch_names[ch]!r}, sweep {s}, "
                                            f"stimulus {k + 1}: {err.detail}", path) from None
                    if clip_all[row]:
                        res["flags"] = ";".join(filter(None, [res["flags"],
                                                              "clipped_artifact"]))
                    res.update(channel=rec.ch_names[ch], sweep=s, stimulus=k + 1,
                               sweep_start=float(starts[s]), stim_time=float(st_all[row]),
                               time=float(starts[s] + st_all[row]),
                               artifact_end=float(end_all[row]), slope_definition=slope)
                    results[j] = res
        rows.extend(results[j] for j in range(len(spans)))
    return assemble(rows, rec, "fepsp", settings, FEPSP_COLUMNS)
