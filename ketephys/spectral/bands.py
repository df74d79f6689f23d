"""Named frequency bands (Hz, edges inclusive), resolved per modality from one table.

A band name means the same thing in a lab script, the batch and the report, but not the
same thing in every species: rodent hippocampal theta runs faster than human scalp theta.
:data:`BAND_TABLE` is the one documented table; :func:`resolve_band` reads it with the
recording's modality, and every output row carries the edges it used (``band_lo``,
``band_hi``).

==============  ===================  ===================  ===================================
name            human (eeg, tms-eeg) rodent (lfp)         source
==============  ===================  ===================  ===================================
``delta``       1-4                  1-4                  IFCN glossary (Kane et al. 2017)
``theta``       4-8                  6-10                 human: IFCN glossary; rodent
                                                          hippocampal theta 6-10 Hz (Buzsaki
                                                          2002, Neuron 33:325; Colgin 2013,
                                                          Annu Rev Neurosci 36:295)
``alpha``       8-13                 8-13                 IFCN glossary
``beta``        13-30                13-30                IFCN glossary
``gamma``       30-80                30-80                Buzsaki & Wang 2012, Annu Rev
                                                          Neurosci 35:203 (30-90 Hz); 80 Hz
                                                          keeps clear of HFO
``low_gamma``   30-45                30-45
``high_gamma``  60-100               60-100
``hfo``         110-160              110-160              ketamine HFO in rodent LFP (Hunt
                                                          et al. 2006, Biol Psychiatry)
``theta_rodent``6-10                 6-10                 explicit rodent theta, any modality
==============  ===================  ===================  ===================================

Any ``(lo, hi)`` tuple in Hz works too. A recording of unknown modality uses the human
column.
"""

from __future__ import annotations

import numpy as np

from .._check import suggest
from ..errors import AnalysisError

__all__ = ["BANDS", "BAND_TABLE", "RODENT_MODALITIES", "resolve_band", "peak_outside_band",
           "band_neighbourhood"]

#: Human scalp bands (eeg, tms-eeg; the default), in Hz.
BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "theta_rodent": (6.0, 10.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 80.0),
    "low_gamma": (30.0, 45.0),
    "high_gamma": (60.0, 100.0),
    "hfo": (110.0, 160.0),
}
#: Modalities recorded in rodents, whose bands follow the ``"rodent"`` column.
RODENT_MODALITIES = ("lfp", "fepsp", "patch")
#: The band table: species column -> band name -> (lo, hi) in Hz.
BAND_TABLE: dict[str, dict[str, tuple[float, float]]] = {
    "human": BANDS,
    "rodent": {**BANDS, "theta": (6.0, 10.0)},
}


def resolve_band(band: str | tuple[float, float],
                 modality: str | None = None) -> tuple[str, float, float]:
    """Return ``(name, lo, hi)`` for a band name or a ``(lo, hi)`` tuple.

    Parameters
    ----------
    band : str or (lo, hi)
        A name of :data:`BAND_TABLE` (case and spaces ignored) or edges in Hz; a tuple
        is named ``"{lo:g}-{hi:g}Hz"``.
    modality : str, optional
        The recording's modality: rodent modalities (:data:`RODENT_MODALITIES`) read the
        rodent column (theta 6-10 Hz), others the human one (theta 4-8 Hz).

    Returns
    -------
    (name, lo, hi) : (str, float, float)
    """
    if isinstance(band, str):
        table = BAND_TABLE["rodent" if modality in RODENT_MODALITIES else "human"]
        key = band.lower().replace(" ", "_")
        if key not in table:
            raise AnalysisError(f"unknown band {band!r}{suggest(key, table)} (names: {', '.join(table)}; "
                                "or give (lo, hi) in Hz)")
        lo, hi = table[key]
        return key, lo, hi
    try:
        lo, hi = (float(b) for b in band)
    except (TypeError, ValueError) as err:
        raise AnalysisError(f"band must be a band name or (lo, hi) in Hz, got {band!r}") \
            from err
    if not 0 <= lo <= hi:
        raise AnalysisError(f"band needs 0 <= lo <= hi, got ({lo}, {hi})")
    return f"{lo:g}-{hi:g}Hz", lo, hi


def band_neighbourhood(lo: float, hi: float) -> tuple[float, float]:
    """Where :func:`peak_outside_band` looks for a band's peak (the PSD must cover it).

    Parameters
    ----------
    lo, hi : float
        Band edges (Hz).

    Returns
    -------
    (float, float)
        ``(lo - w/2, hi + w/2)`` with ``w = hi - lo`` (Hz; the low end may be negative).
    """
    w = hi - lo
    return lo - w / 2, hi + w / 2


def peak_outside_band(freqs: np.ndarray, psd: np.ndarray, lo: float, hi: float,
                      min_db: float = 3.0) -> float | None:
    """The frequency of the strongest spectral peak near a band when it lies outside it.

    Only rhythm bands are checked: bands at most an octave wide (``hi <= 2 lo``: delta
    from 2 Hz, theta, alpha), not broadband ones such as gamma. Looks in
    ``[lo - w/2, hi + w/2]`` (``w = hi - lo``) at the channel-mean log spectrum
    with its power-law trend removed (a straight line in log-log, the aperiodic part).
    Returns the peak frequency when the strongest peak there stands at least ``min_db``
    above the trend, lies outside ``[lo, hi]`` and is stronger than anything inside;
    ``None`` otherwise (or when the spectrum does not cover the neighbourhood).

    Parameters
    ----------
    freqs : ndarray (n_freqs,)
    psd : ndarray (n_channels, n_freqs) or (n_freqs,)
    lo, hi : float
        Band edges in Hz.
    min_db : float
        How far above the trend a peak must stand (dB).

    Returns
    -------
    float or None
    """
    w = hi - lo
    if lo <= 0 or hi > 2 * lo:
        return None
    near_lo, near_hi = band_neighbourhood(lo, hi)
    sel = (freqs >= max(near_lo, 1e-9)) & (freqs <= near_hi) & (freqs > 0)
    if sel.sum() < 5 or w <= 0:
        return None
    p = np.atleast_2d(np.asarray(psd, float))[:, sel]
    good = np.all(np.isfinite(p), axis=1) & np.all(p > 0, axis=1)
    if not good.any():
        return None
    f = freqs[sel]
    logp = np.log10(p[good]).mean(axis=0)
    logf = np.log10(f)
    slope, icpt = np.polyfit(logf, logp, 1)
    resid = 10.0 * (logp - (slope * logf + icpt))  # dB above the trend
    i = int(np.argmax(resid))
    inside = (f >= lo) & (f <= hi)
    if inside[i] or resid[i] < min_db or i in (0, f.size - 1):
        return None
    if inside.any() and resid[inside].max() >= resid[i]:
        return None
    return float(f[i])
