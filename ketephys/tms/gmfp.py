"""Global and local mean field power of a TEP.

* GMFP(t) = standard deviation across channels with **ddof = 0**:
  ``sqrt(mean_i (V_i(t) - mean_j V_j(t))^2)`` (Lehmann & Skrandies; TESA).
* LMFP(t) over an ROI = root mean square across the ROI channels:
  ``sqrt(mean_{i in ROI} V_i(t)^2)``. The signed ROI average (used for peaks with a polarity)
  is :func:`roi_average`.
* Areas are trapezoidal integrals over the samples inside ``[start, stop]`` (V*s).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._docs import fill_doc
from ..errors import AnalysisError

__all__ = ["gmfp", "lmfp", "roi_average", "area", "GMFP_DDOF"]

#: Degrees of freedom used for the GMFP standard deviation.
GMFP_DDOF = 0


def gmfp(data: np.ndarray) -> np.ndarray:
    """Global mean field power: the standard deviation across channels at each time.

    Parameters
    ----------
    data : ndarray, shape (..., n_channels, n_times)
        Evoked data (V).

    Returns
    -------
    ndarray, shape (..., n_times)
        GMFP (V; ``ddof`` = :data:`GMFP_DDOF`).

    Raises
    ------
    AnalysisError
        Fewer than two channels.
    """
    data = np.asarray(data, float)
    if data.shape[-2] < 2:
        raise AnalysisError("GMFP needs at least two channels")
    return data.std(axis=-2, ddof=GMFP_DDOF)


def _roi_idx(ch_names: Sequence[str], roi: Sequence[str]) -> list[int]:
    missing = [c for c in roi if c not in ch_names]
    if missing or not roi:
        raise AnalysisError(f"ROI channels {missing or list(roi)} not found; channels are "
                            f"{list(ch_names)}")
    return [list(ch_names).index(c) for c in roi]


@fill_doc
def lmfp(data: np.ndarray, ch_names: Sequence[str], roi: Sequence[str]) -> np.ndarray:
    """Local mean field power: root mean square across the ROI channels at each time.

    Parameters
    ----------
    %(roi_data)s

    Returns
    -------
    ndarray, shape (..., n_times)
        LMFP (V).

    Raises
    ------
    AnalysisError
        An empty ROI or an ROI channel not in ``ch_names``.
    """
    idx = _roi_idx(ch_names, roi)
    return np.sqrt(np.mean(np.asarray(data, float)[..., idx, :] ** 2, axis=-2))


@fill_doc
def roi_average(data: np.ndarray, ch_names: Sequence[str], roi: Sequence[str]) -> np.ndarray:
    """Signed mean across the ROI channels at each time.

    Parameters
    ----------
    %(roi_data)s

    Returns
    -------
    ndarray, shape (..., n_times)
        The ROI average (V).

    Raises
    ------
    AnalysisError
        An empty ROI or an ROI channel not in ``ch_names``.
    """
    idx = _roi_idx(ch_names, roi)
    return np.asarray(data, float)[..., idx, :].mean(axis=-2)


def area(signal: np.ndarray, times: np.ndarray, start: float, stop: float) -> np.ndarray:
    """Trapezoidal integral of a signal over a time window.

    Parameters
    ----------
    signal : ndarray, shape (..., n_times)
        The signal (e.g. GMFP in V).
    times : ndarray, shape (n_times,)
        Times of the last axis (s).
    start, stop : float
        The window (s, both ends included).

    Returns
    -------
    ndarray or float
        The area (signal unit times s, e.g. V*s), one per leading index.

    Raises
    ------
    AnalysisError
        Fewer than two samples in the window.
    """
    sel = (times >= start - 1e-9) & (times <= stop + 1e-9)
    if sel.sum() < 2:
        raise AnalysisError(f"window {start}-{stop} s holds fewer than two samples")
    return np.trapezoid(np.asarray(signal)[..., sel], times[sel], axis=-1)
