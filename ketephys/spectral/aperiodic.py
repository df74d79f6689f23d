"""Aperiodic (1/f) component of a spectrum via specparam, with line-noise interpolation.

The aperiodic PSD is ``10**offset / (knee + f**exponent)`` (``knee = 0`` in ``"fixed"``
mode), specparam's model; ``offset`` is reported in log10(V^2/Hz). The fit is done on
the PSD in uV^2/Hz (better conditioned for specparam's defaults) and converted back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .._check import check_option
from ..errors import AnalysisError

__all__ = ["AperiodicFit", "fit_aperiodic", "interpolate_line_noise"]

logger = logging.getLogger(__name__)
_UV2 = 1e12  # V^2 -> uV^2


@dataclass(frozen=True)
class AperiodicFit:
    """specparam aperiodic parameters of one spectrum.

    Attributes
    ----------
    offset : float
        log10 of the aperiodic PSD scale, log10(V^2/Hz).
    exponent : float
    knee : float or None
        specparam knee parameter (``None`` in fixed mode); knee frequency
        ``knee ** (1 / exponent)`` Hz.
    mode : str
    freq_range : (float, float)
    n_peaks : int
        Periodic peaks specparam fitted.
    """

    offset: float
    exponent: float
    knee: float | None
    mode: str
    freq_range: tuple[float, float]
    n_peaks: int = 0

    def psd(self, freqs: np.ndarray) -> np.ndarray:
        """The aperiodic PSD at ``freqs``.

        Parameters
        ----------
        freqs : array_like
            Frequencies (Hz).

        Returns
        -------
        ndarray
            V^2/Hz, shaped as ``freqs``. The model is defined for ``f > 0`` (and at 0 Hz
            with a positive knee); elsewhere (0 Hz in fixed mode, where it is infinite,
            or negative frequencies) it is NaN.
        """
        f = np.asarray(freqs, dtype=float)
        knee = self.knee or 0.0
        ok = (f > 0) | ((f == 0) & (knee > 0))
        out = np.full(f.shape, np.nan)
        out[ok] = 10.0 ** self.offset / (knee + f[ok] ** self.exponent)
        return out

    @property
    def knee_freq(self) -> float | None:
        """Knee frequency in Hz (``knee ** (1/exponent)``), when fitted and positive."""
        if self.knee is None or self.knee <= 0:
            return None
        return float(self.knee ** (1.0 / self.exponent))


def interpolate_line_noise(freqs: np.ndarray, psd: np.ndarray, line_freq: float | None,
                           width: float = 2.0) -> np.ndarray:
    """Replace the bins within ``width`` Hz of the line frequency and its harmonics by a
    straight line in log-log space between the bins just outside (a copy).

    Parameters
    ----------
    freqs : ndarray (n_freqs,)
        Frequencies of the bins (Hz).
    psd : ndarray (..., n_freqs)
        The PSD (V^2/Hz).
    line_freq : float or None
        50 or 60 Hz; ``None`` returns ``psd`` unchanged (a copy).
    width : float
        Half-width of the replaced span (Hz).

    Returns
    -------
    ndarray (..., n_freqs)
        A copy of ``psd`` with the line bins interpolated.
    """
    out = np.array(psd, dtype=float, copy=True)
    if not line_freq:
        return out
    f = np.asarray(freqs, dtype=float)
    h = 1
    while h * line_freq - width <= f[-1]:
        c = h * line_freq
        inside = np.flatnonzero(np.abs(f - c) <= width)
        h += 1
        if inside.size == 0:
            continue
        i0, i1 = inside[0] - 1, inside[-1] + 1
        if i0 < 0 or i1 >= f.size or f[i0] <= 0:
            continue  # line at the edge of the range: leave it
        lf = np.log10(f[[i0, i1]])
        lp = np.log10(np.maximum(out[..., [i0, i1]], np.finfo(float).tiny))
        slope = (lp[..., 1] - lp[..., 0]) / (lf[1] - lf[0])
        new = lp[..., :1] + slope[..., None] * (np.log10(f[inside]) - lf[0])
        out[..., inside] = 10.0 ** new
    return out


def fit_aperiodic(
    freqs: np.ndarray,
    psd: np.ndarray,
    mode: str = "fixed",
    freq_range: tuple[float, float] | None = None,
    line_freq: float | None = None,
    peak_width_limits: tuple[float, float] = (1.0, 25.0),
    max_n_peaks: int = 4,
) -> list[AperiodicFit]:
    """Fit specparam to each row of ``psd`` and return its aperiodic parameters.

    Parameters
    ----------
    freqs : ndarray (n_freqs,)
    psd : ndarray (n_freqs,) or (n_spectra, n_freqs)
        V^2/Hz.
    mode : {"fixed", "knee", "auto"}
        specparam aperiodic mode; use ``"knee"`` when the spectrum bends (LFP, wide
        ranges). ``"auto"`` fits the knee model and keeps it when the fitted knee
        frequency ``knee**(1/exponent)`` lies above 1.5 x the lower end of the fit range
        (a knee below the range cannot be told from a fixed slope); otherwise it refits
        in fixed mode.
    freq_range : (lo, hi), optional
        Fit range (Hz); default from 1 Hz (or the lowest positive bin) to
        ``min(150, 0.8 * max(freqs))``.
    line_freq : float, optional
        Interpolate the line noise and its harmonics before fitting.
    peak_width_limits, max_n_peaks
        specparam settings for the periodic part.

    Returns
    -------
    list of AperiodicFit
    """
    check_option("mode", mode, ("fixed", "knee", "auto"))
    if mode == "auto":
        knee = fit_aperiodic(freqs, psd, "knee", freq_range, line_freq, peak_width_limits,
                             max_n_peaks)
        lo = knee[0].freq_range[0]
        if all((k.knee_freq or 0.0) > 1.5 * lo for k in knee):
            return knee
        return fit_aperiodic(freqs, psd, "fixed", freq_range, line_freq, peak_width_limits,
                             max_n_peaks)
    from specparam import SpectralModel

    f = np.asarray(freqs, dtype=float)
    p = np.atleast_2d(np.asarray(psd, dtype=float))
    if freq_range is None:
        lo = max(1.0, float(f[f > 0][0])) if np.any(f > 0) else 1.0
        freq_range = (lo, min(150.0, 0.8 * float(f[-1])))
    if freq_range[1] <= freq_range[0]:
        raise AnalysisError(f"aperiodic fit range {freq_range} Hz is empty for spectra up "
                            f"to {f[-1]:g} Hz")
    p = interpolate_line_noise(f, p, line_freq)
    out = []
    for row in p:
        if not np.all(np.isfinite(row)) or np.any(row[(f >= freq_range[0])
                                                      & (f <= freq_range[1])] <= 0):
            raise AnalysisError("cannot fit the aperiodic component of a spectrum with "
                                "zero, negative or non-finite power (flat channel?)")
        model = SpectralModel(aperiodic_mode=mode, peak_width_limits=peak_width_limits,
                              max_n_peaks=max_n_peaks, verbose=False)
        model.fit(f, row * _UV2, list(freq_range))
        ap = np.asarray(model.get_params("aperiodic"), dtype=float)
        n_peaks = int(getattr(model.results, "n_peaks", 0) or 0)
        if mode == "knee":
            offset, knee, exponent = ap
        else:
            (offset, exponent), knee = ap, None
        if not np.isfinite(offset):
            raise AnalysisError("specparam did not converge on the aperiodic component")
        out.append(AperiodicFit(offset=float(offset) - np.log10(_UV2),
                                exponent=float(exponent),
                                knee=None if knee is None else float(knee), mode=mode,
                                freq_range=(float(freq_range[0]), float(freq_range[1])),
                                n_peaks=n_peaks))
    return out
