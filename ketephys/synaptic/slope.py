"""Slope definitions for evoked responses (least-squares lines on raw samples).

All slopes are ordinary least-squares fits of the raw samples against time, so they equal
``numpy.polyfit(t, y, 1)[0]`` on the same samples; the standard error is the usual
``sqrt(SSR / (n - 2) / Sxx)``.

* fraction slopes (``"20-80"``, ``"10-90"``, ``"20-90"``): samples on the final rise to the
  peak between the two fractions of the amplitude;
* ``"window"``: samples in a fixed window after the stimulus;
* ``"max"``: the steepest line over a sliding window (1 ms by default), located on the
  smoothed trace and fitted on the raw samples;
* ``"best-fit"``: a window of fixed width (0.7 ms by default) starting where a line of that
  width fits the smoothed trace best (largest R²), searched over the first part (25 %) of the
  rise from the volley's second peak to the peak (brainwash's EPSP slope).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_line", "fraction_span", "max_slope_span", "best_fit_span", "SLOPE_FRACTIONS"]

#: Fraction pairs of the named slope definitions.
SLOPE_FRACTIONS = {"20-80": (0.2, 0.8), "10-90": (0.1, 0.9), "20-90": (0.2, 0.9)}


def fit_line(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line ``y = slope * t + intercept``.

    Parameters
    ----------
    t : ndarray
        Times (s).
    y : ndarray
        Values (V), as many as ``t``.

    Returns
    -------
    slope, intercept, slope_se : float
        ``slope_se`` is NaN for fewer than three samples.
    """
    t = np.asarray(t, float)
    y = np.asarray(y, float)
    n = t.size
    if n < 2:
        return float("nan"), float("nan"), float("nan")
    tm, ym = np.add.reduce(t) / n, np.add.reduce(y) / n  # bit-identical to .mean()
    dt = t - tm
    sxx = float(dt @ dt)
    slope = float(dt @ (y - ym)) / sxx
    intercept = ym - slope * tm
    if n < 3:
        return slope, float(intercept), float("nan")
    resid = y - (slope * t + intercept)
    se = float(np.sqrt(resid @ resid / (n - 2) / sxx))
    return slope, float(intercept), se


def fraction_span(dev: np.ndarray, i_first: int, i_peak: int, amplitude: float,
                  lo: float, hi: float) -> tuple[int, int, bool]:
    """First and last sample (inclusive) of the final rise between two fractions.

    Parameters
    ----------
    dev : ndarray
        Response in its own direction (positive-going, baseline 0), usually lightly smoothed.
    i_first, i_peak : int
        Earliest usable sample (artifact end) and the peak sample.
    amplitude : float
        Peak value of ``dev`` (> 0).
    lo, hi : float
        Fractions of the amplitude.

    Returns
    -------
    start, stop, hit_first : int, int, bool
        ``hit_first`` is True when the rise never fell below ``lo`` after ``i_first`` (the
        span then starts at ``i_first``).
    """
    below = np.nonzero(dev[i_first:i_peak + 1] < lo * amplitude)[0]
    if below.size:
        start = i_first + int(below[-1]) + 1
        hit_first = False
    else:
        start = i_first
        hit_first = True
    above = np.nonzero(dev[start:i_peak + 1] > hi * amplitude)[0]
    stop = start + int(above[0]) - 1 if above.size else i_peak
    return start, max(stop, start), hit_first


def max_slope_span(dev_smooth: np.ndarray, i_first: int, i_peak: int, width: int
                   ) -> tuple[int, int]:
    """The window with the steepest rise before the peak.

    Parameters
    ----------
    dev_smooth : ndarray
        The response in its own direction, smoothed.
    i_first, i_peak : int
        Earliest usable sample (artifact end) and the peak sample.
    width : int
        Window length (samples).

    Returns
    -------
    (int, int)
        First and last sample of the ``width``-sample window whose least-squares slope
        is largest (the whole range when it is not longer than ``width``).
    """
    seg = dev_smooth[i_first:i_peak + 1]
    if seg.size <= width:
        return i_first, i_peak
    k = np.arange(width, dtype=float)
    k -= k.mean()
    # least-squares slope of every window = correlation with a centred ramp
    slopes = np.correlate(seg, k, mode="valid")
    j = int(np.argmax(slopes))
    return i_first + j, i_first + j + width - 1


def best_fit_span(dev_smooth: np.ndarray, i_first: int, i_peak: int, n_fit: int,
                  n_select: int, search: float) -> tuple[int, int]:
    """The window starting where a line fits the rise best (brainwash's slope).

    Parameters
    ----------
    dev_smooth : ndarray
        The response in its own direction, smoothed.
    i_first, i_peak : int
        First sample searched and the peak sample.
    n_fit : int
        Length of the returned window (samples).
    n_select : int
        Length of the lines compared (samples); the start with the largest R² wins.
    search : float
        Fraction of ``i_first..i_peak`` searched for the start (at least one start).

    Returns
    -------
    (int, int)
        First and last sample of the ``n_fit``-sample window.
    """
    region = i_peak - i_first
    if region < n_select or n_select < 3:
        return i_first, i_first + n_fit - 1
    n_starts = max(1, int(region * search))
    seg = dev_smooth[i_first:i_first + n_starts + n_select - 1]
    win = np.lib.stride_tricks.sliding_window_view(seg, n_select)[:n_starts]
    k = np.arange(n_select, dtype=float)
    k -= k.mean()
    centred = win - win.mean(axis=1, keepdims=True)
    sxy = centred @ k
    syy = np.einsum("ij,ij->i", centred, centred)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(syy > 0, sxy ** 2 / (k @ k) / syy, 0.0)
    j = int(np.argmax(r2))
    return i_first + j, i_first + j + n_fit - 1
