"""Removing the TMS pulse window and interpolating across it (TESA's definition).

Samples from ``remove[0]`` to ``remove[1]`` seconds around each pulse (both ends included)
are replaced, per channel, from the samples in ``fit_window`` seconds on either side of the
removed window (at least two samples each side):

* ``"cubic"`` (default): piecewise cubic Hermite interpolation (PCHIP) through those
  samples. It is shape-preserving: the bridge never leaves the range of the samples it is
  anchored on, so nothing of the artifact (or of noise) is amplified into the window.
* ``"polynomial"``: one cubic polynomial fitted by least squares to those samples (TESA's
  cubic). With only ~1 ms of noisy data either side it can overshoot by several uV in the
  middle of a 17 ms window at 1 kHz, which is why it is not the default.
* ``"linear"``: a straight line fitted to the same samples; ``"constant"``: their mean.
"""

from __future__ import annotations

import numpy as np

from .._check import check_option
from ..errors import AnalysisError

__all__ = ["pulse_windows", "interpolate_windows", "INTERP_METHODS"]

INTERP_METHODS = ("cubic", "polynomial", "linear", "constant")
#: Fewest samples used on each side of a window.
MIN_FIT_SAMPLES = 2


def pulse_windows(pulse_samples: np.ndarray, sfreq: float,
                  remove: tuple[float, float]) -> np.ndarray:
    """The samples removed around each pulse.

    Parameters
    ----------
    pulse_samples : ndarray of int
        Pulse onsets (samples).
    sfreq : float
        Sampling rate (Hz).
    remove : (float, float)
        Start and stop of the removed span (s relative to each pulse).

    Returns
    -------
    ndarray of int, shape (n_pulses, 2)
        First and last sample (inclusive) of each removed window.

    Raises
    ------
    AnalysisError
        ``remove`` runs backwards.
    """
    if remove[1] < remove[0]:
        raise AnalysisError(f"removal window {remove} must run forwards in time")
    p = np.asarray(pulse_samples, int)
    return np.column_stack([p + int(np.floor(remove[0] * sfreq + 1e-9)),
                            p + int(np.ceil(remove[1] * sfreq - 1e-9))])


def interpolate_windows(data: np.ndarray, windows: np.ndarray, sfreq: float,
                        interp: str = "cubic", fit_window: float = 0.001) -> list[int]:
    """Replace each window of ``data`` (``(n_channels, n_times)``, modified in place).

    Parameters
    ----------
    data : ndarray
        Continuous data, changed in place.
    windows : ndarray
        ``(n, 2)`` inclusive first/last samples from :func:`pulse_windows`.
    sfreq : float
        Sampling rate (Hz).
    interp : {"cubic", "linear", "constant"}
        Interpolation method.
    fit_window : float
        Seconds of data on each side used for the fit (at least 2 samples).

    Returns
    -------
    list of int
        Indices of windows that could not be interpolated (too close to an edge of the
        recording); they are left unchanged.
    """
    check_option("interp", interp, INTERP_METHODS)
    n_fit = max(MIN_FIT_SAMPLES, int(round(fit_window * sfreq)))
    n_times = data.shape[1]
    skipped = []
    degree = {"cubic": 3, "polynomial": 3, "linear": 1, "constant": 0}[interp]
    for k, (a, b) in enumerate(np.asarray(windows, int)):
        if a - n_fit < 0 or b + n_fit >= n_times:
            skipped.append(k)
            continue
        x_fit = np.concatenate([np.arange(a - n_fit, a), np.arange(b + 1, b + 1 + n_fit)])
        centre = 0.5 * (a + b)
        half = max(0.5 * (b - a) + n_fit, 1.0)
        u = (x_fit - centre) / half  # well-conditioned abscissa in [-1, 1]
        u_in = (np.arange(a, b + 1) - centre) / half
        y = data[:, x_fit].T  # (n_points, n_channels)
        if interp == "cubic":
            from scipy.interpolate import PchipInterpolator

            data[:, a:b + 1] = PchipInterpolator(u, y, axis=0)(u_in).T
            continue
        coef = np.polynomial.polynomial.polyfit(u, y, degree)  # (degree+1, n_channels)
        data[:, a:b + 1] = np.polynomial.polynomial.polyval(u_in, coef)
    return skipped
