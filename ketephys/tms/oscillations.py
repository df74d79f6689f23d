"""TMS-evoked oscillations: trial-averaged Morlet power relative to the pre-pulse baseline.

Power is computed per trial with :func:`mne.time_frequency.tfr_array_morlet` (``n_cycles``
per frequency, default ``max(3, f / 2)``) and averaged over trials (total power: evoked plus
induced). It is expressed in dB relative to the mean power over ``baseline`` at each
frequency and channel: ``10 log10(P(f, t) / mean_baseline P(f))``. Band summaries are the
mean dB over a band's frequencies and the post-pulse span ``summary_s``; the natural frequency of a
channel or ROI is the frequency with the largest mean dB over ``natural_window`` (Rosanova et
al. 2009: the first 200 ms).

Epochs are cut longer than the analysed span (``pad`` seconds each side) so the wavelets
do not reach past the data; the pulse window that cleaning interpolated is part of the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from ..errors import AnalysisError
from ..recording import Recording
from ..settings import check_keywords
from .clean import CleanResult, pulse_onsets
from .tep import epoch_pulses

__all__ = ["evoked_oscillations", "OscillationResult", "DEFAULT_BANDS"]

#: Frequency bands (Hz) summarised after the pulse.
DEFAULT_BANDS: dict[str, tuple[float, float]] = {
    "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}


@dataclass
class OscillationResult:
    """Trial-averaged time-frequency power of a TMS-EEG recording.

    Attributes
    ----------
    power_db : ndarray
        ``(n_channels, n_freqs, n_times)`` dB relative to the baseline.
    power : ndarray
        Same shape, trial-averaged power (V^2).
    freqs, times : ndarray
    ch_names : list of str
    bands : DataFrame
        ``band``, ``channel`` (name or ``"ROI"``), ``value`` (mean dB), ``unit``.
    natural_frequency : dict
        Channel or ``"ROI"`` -> Hz.
    n_trials : int
    settings : dict
    """

    power_db: np.ndarray
    power: np.ndarray
    freqs: np.ndarray
    times: np.ndarray
    ch_names: list[str]
    bands: pd.DataFrame
    natural_frequency: dict[str, float]
    n_trials: int
    settings: dict[str, Any] = field(default_factory=dict)


def _wavelets(sfreq: float, freqs: Any, n_cycles: Any, pad: float, path
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """Frequencies below 0.9 Nyquist (default 4-45 Hz), their wavelet cycles (default
    ``max(3, f / 2)``) and the epoch padding (at least half the longest wavelet)."""
    nyq = sfreq / 2
    freqs = np.arange(4.0, 46.0) if freqs is None else np.asarray(freqs, float)
    freqs = freqs[freqs < nyq * 0.9]
    if freqs.size == 0:
        raise AnalysisError(f"no frequency below Nyquist ({nyq:g} Hz)", path)
    cycles = np.maximum(3.0, freqs / 2.0) if n_cycles is None else np.broadcast_to(
        np.asarray(n_cycles, float), freqs.shape)
    longest = float(np.max(cycles / freqs)) / 2  # half a wavelet, s (sigma-based support)
    return freqs, cycles, longest if pad < longest else pad


def _series(db: np.ndarray, names: list[str], roi: Sequence[str] | None, path
            ) -> dict[str, np.ndarray]:
    """The dB maps of every channel, and of the ROI mean (``"ROI"``) when given."""
    series = {n: db[i] for i, n in enumerate(names)}
    if roi:
        missing = [c for c in roi if c not in names]
        if missing:
            raise AnalysisError(f"ROI channels {missing} not found", path)
        series["ROI"] = db[[names.index(c) for c in roi]].mean(axis=0)
    return series


def _band_rows(series: dict[str, np.ndarray], bands: dict[str, tuple[float, float]],
               freqs: np.ndarray, w: np.ndarray, nw: np.ndarray
               ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Mean dB per band over the window ``w``, and the natural frequency (largest mean
    over the window ``nw``), of every series."""
    rows = []
    natural = {}
    for label, x in series.items():
        for band, (lo, hi) in bands.items():
            fsel = (freqs >= lo) & (freqs <= hi)
            if not fsel.any():
                continue
            rows.append({"band": band, "channel": label,
                         "value": float(np.mean(x[fsel][:, w])), "unit": "dB"})
        natural[label] = float(freqs[int(np.argmax(x[:, nw].mean(axis=1)))])
    return rows, natural


@check_keywords(renamed={"window": "summary_s"})
@fill_doc
def evoked_oscillations(
    rec: Recording | CleanResult,
    freqs: Sequence[float] | np.ndarray | None = None,
    n_cycles: float | Sequence[float] | None = None,
    tmin: float = -0.5,
    tmax: float = 0.5,
    pad: float = 0.5,
    baseline: tuple[float, float] = (-0.4, -0.1),
    summary_s: tuple[float, float] = (0.02, 0.3),
    natural_window: tuple[float, float] = (0.02, 0.2),
    bands: Mapping[str, tuple[float, float]] | None = None,
    roi: Sequence[str] | None = None,
    reject: float | None = None,
    decim: int = 1,
) -> OscillationResult:
    """Trial-averaged Morlet power after each TMS pulse, in dB relative to baseline.

    Parameters
    ----------
    %(tms_rec)s
    freqs : array, optional
        Frequencies (Hz); default 4..45 Hz in 1 Hz steps (capped below Nyquist).
    n_cycles : float or array, optional
        Wavelet cycles; default ``max(3, f / 2)``.
    tmin, tmax : float
        Analysed span (s relative to each pulse).
    pad : float
        Extra data (s) on each side for the wavelets, cut off afterwards.
    baseline : (float, float)
        Baseline window (tmin, tmax in s relative to each pulse) for the dB ratio.
    summary_s : (float, float)
        Post-pulse span (start, stop in s relative to each pulse) averaged for the band
        summaries. Renamed from ``window`` in 0.2.
    natural_window : (float, float)
        Window (s) for the natural frequency.
    bands : dict, optional
        Band name -> (low, high) Hz; default :data:`DEFAULT_BANDS`.
    roi : list of str, optional
        Channels averaged (in dB) into ``"ROI"`` rows and a ROI natural frequency.
    %(epoch_reject)s
    decim : int
        Keep every ``decim``-th time point of the power.

    Returns
    -------
    OscillationResult
    """
    from mne.time_frequency import tfr_array_morlet

    if isinstance(rec, CleanResult):
        rec = rec.recording
    path = rec.source.path
    bands = dict(DEFAULT_BANDS if bands is None else bands)
    freqs, cycles, pad = _wavelets(rec.sfreq, freqs, n_cycles, pad, path)
    picks = [i for i, t in enumerate(rec.ch_types) if t == "eeg"] or [
        i for i, t in enumerate(rec.ch_types) if t != "stim"]
    names = [rec.ch_names[i] for i in picks]
    ep, times, _, _ = epoch_pulses(rec, pulse_onsets(rec), tmin - pad, tmax + pad, None,
                                   reject, picks)
    if len(ep) == 0:
        raise AnalysisError("no epoch for the time-frequency analysis", path)
    power = tfr_array_morlet(ep, rec.sfreq, freqs, n_cycles=cycles, output="avg_power",
                             decim=decim, verbose=False)
    t_p = times[::decim]
    keep = (t_p >= tmin - 1e-9) & (t_p <= tmax + 1e-9)
    power = power[:, :, keep]
    t_p = t_p[keep]
    b = (t_p >= baseline[0] - 1e-9) & (t_p <= baseline[1] + 1e-9)
    if not b.any():
        raise AnalysisError(f"baseline {baseline} outside {tmin}..{tmax} s", path)
    ref = power[:, :, b].mean(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10 * np.log10(power / ref)
    series = _series(db, names, roi, path)
    rows, natural = _band_rows(series, bands, freqs, (t_p >= summary_s[0]) & (t_p <= summary_s[1]),
                               (t_p >= natural_window[0]) & (t_p <= natural_window[1]))
    settings = {"freqs": freqs.tolist(), "n_cycles": np.asarray(cycles).tolist(),
                "baseline": baseline, "summary_s": summary_s, "natural_window": natural_window,
                "bands": bands, "roi": None if roi is None else list(roi), "decim": decim}
    return OscillationResult(db, power, freqs, t_p, names, pd.DataFrame(rows), natural,
                             int(len(ep)), settings)
