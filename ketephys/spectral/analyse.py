"""One pass over a recording for every spectral marker, and the batch-pipeline entry.

:func:`features` reads and transforms the data once: the PSD (for band powers, relative
power and the aperiodic fit) and the cross-spectral matrix over the coherence band come
from the same FFTs. :func:`analyse` is the per-recording summary the pipeline calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..features import feature_table
from ..recording import Recording
from .bandpower import band_power_rows
from .bands import resolve_band
from .coherence import _PER_SEGMENT, coherence_rows, cross_from_accumulated
from .fft import SpectralSettings, accumulate
from .psd import spectrum_from_accumulated

__all__ = ["features", "analyse", "default_picks", "spectral_rows"]


def default_picks(rec: Recording) -> list[int]:
    """EEG and LFP channels when there are any, else every channel but stim."""
    types = [t for t in ("eeg", "lfp") if t in rec.ch_types]
    if types:
        return rec.pick_indices(types).tolist()
    keep = [i for i, t in enumerate(rec.ch_types) if t != "stim"]
    if not keep:
        raise AnalysisError("no channel to analyse (only stim channels)", rec.source.path)
    return keep


def _frange(sfreq: float, bands: Sequence[Any], total_band: tuple[float, float] | None,
            aperiodic: str | None, fit_range: tuple[float, float] | None,
            relative: bool = True) -> tuple[float, float]:
    nyq = sfreq / 2
    his = [resolve_band(b)[2] for b in bands]
    los = [resolve_band(b)[1] for b in bands]
    if relative or not bands:
        tb = total_band or (1.0, min(100.0, nyq))
        los, his = [*los, tb[0]], [*his, tb[1]]
    fmin, fmax = min(los), max(his)
    if aperiodic:
        fr = fit_range or (1.0, min(150.0, 0.8 * nyq))
        fmin, fmax = min(fmin, fr[0]), max(fmax, fr[1])
    return max(0.0, fmin), min(fmax, nyq)


def spectral_rows(
    rec: Recording,
    settings: SpectralSettings,
    bands: Sequence[Any] = ("gamma",),
    kinds: Sequence[str] = ("absolute", "relative"),
    aperiodic: str | None = None,
    coherence_band: Any = "theta",
    pairs: Any = "all",
    measures: Sequence[str] = ("msc",),
    line_freq: Any = None,
    total_band: tuple[float, float] | None = None,
    fit_range: tuple[float, float] | None = None,
    picks: Any = None,
    start: int = 0,
    stop: int | None = None,
    add_mean: bool = True,
    baseline: Recording | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of band powers (and aperiodic parameters) and coherence from one pass.

    ``kinds`` containing ``"db"`` needs ``baseline``, a recording analysed with the same
    settings and channels (matched by name).
    """
    picks = default_picks(rec) if picks is None else picks
    fmin, fmax = _frange(rec.sfreq, bands, total_band, aperiodic, fit_range,
                         relative="relative" in kinds)
    base_spec = None
    if "db" in kinds:
        if baseline is None:
            raise AnalysisError("kind 'db' needs a baseline recording (baseline=...)",
                                rec.source.path)
        names = [rec.ch_names[i] for i in rec.pick_indices(picks)]
        base_spec = spectrum_from_accumulated(
            accumulate(baseline, settings, picks=names, fmin=fmin, fmax=fmax), baseline)
    cb = None
    if coherence_band is not None:
        _, lo, hi = resolve_band(coherence_band)
        cb = (lo, hi)
    per_seg = any(m.lower() in _PER_SEGMENT for m in measures)
    acc = accumulate(rec, settings, picks=picks, fmin=fmin, fmax=fmax, cross_band=cb,
                     per_segment=per_seg, start=start, stop=stop)
    spectrum = spectrum_from_accumulated(acc, rec)
    rows: list[dict[str, Any]] = []
    fits = None
    for band in bands:
        for corrected in ((False, True) if aperiodic else (False,)):
            for kind in kinds:
                r, f = band_power_rows(spectrum, band, kind, aperiodic if corrected else None,
                                       line_freq, base_spec, total_band, fit_range,
                                       fits=fits if corrected else None)
                if corrected:
                    fits = f
                rows.extend(r)
    if fits is not None:
        for ch, fit in zip(spectrum.ch_names, fits):
            base = {"channel": ch, "unit": "", "flags": [], "k": spectrum.k,
                    "aperiodic_mode": fit.mode}
            rows.append({**base, "measure": "aperiodic_exponent", "value": fit.exponent})
            rows.append({**base, "measure": "aperiodic_offset", "value": fit.offset,
                         "unit": "log10(V^2/Hz)"})
            if fit.knee is not None:
                rows.append({**base, "measure": "aperiodic_knee", "value": fit.knee})
    if add_mean:
        rows.extend(_channel_means(rows))
    if cb is not None and len(spectrum.ch_names) > 1:
        cross = cross_from_accumulated(acc)
        for m in measures:
            rows.extend(coherence_rows(cross, coherence_band, pairs, m.lower(), add_mean))
    sett = dict(acc.settings)
    sett.update(bands=[list(resolve_band(b)[1:]) for b in bands], kinds=list(kinds),
                aperiodic=aperiodic, coherence_band=list(cb) if cb else None,
                pairs=pairs if isinstance(pairs, str) else repr(pairs),
                measures=list(measures), line_freq=line_freq, total_band=total_band,
                fit_range=fit_range)
    return rows, sett


def _channel_means(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``channel="mean"`` row per measure (mean over channels, NaN-free values)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["measure"], []).append(r)
    means = []
    for measure, rs in out.items():
        vals = np.array([r["value"] for r in rs if "flat" not in r.get("flags", [])], float)
        vals = vals[np.isfinite(vals)]
        if not vals.size:
            continue
        means.append({"measure": measure, "channel": "mean", "value": float(vals.mean()),
                      "unit": rs[0]["unit"], "flags": [], "n_channels": int(vals.size),
                      "k": rs[0].get("k")})
    return means


def features(
    rec: Recording,
    bands: Sequence[Any] = ("gamma",),
    kinds: Sequence[str] = ("absolute", "relative"),
    aperiodic: str | None = None,
    coherence_band: Any = "theta",
    pairs: Any = "all",
    measures: Sequence[str] = ("msc",),
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    window: Any = "hann",
    bandwidth: float | None = None,
    line_freq: Any = None,
    total_band: tuple[float, float] | None = None,
    fit_range: tuple[float, float] | None = None,
    picks: Any = None,
    reject: float | None = None,
    reject_by_annotation: bool = True,
    precision: str = "float64",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Band powers and coherence of a recording from one pass of FFTs.

    Returns
    -------
    (power_table, coherence_table) : two feature tables
        The first has the band-power (and aperiodic) rows per channel, the second one
        row per pair per coherence measure. See :func:`analyse` for the parameters.
    """
    settings = SpectralSettings(method=method, seg_len=seg_len, overlap=overlap,
                                window=window, bandwidth=bandwidth, precision=precision,
                                reject=reject, reject_by_annotation=reject_by_annotation)
    rows, sett = spectral_rows(rec, settings, bands, kinds, aperiodic, coherence_band, pairs,
                               measures, line_freq, total_band, fit_range, picks,
                               add_mean=False)
    is_coh = [("ch_a" in r) for r in rows]
    modality = "lfp" if "lfp" in rec.ch_types else "eeg"
    power = feature_table([r for r, c in zip(rows, is_coh) if not c], rec, modality, sett)
    coh = feature_table([r for r, c in zip(rows, is_coh) if c], rec, modality, sett)
    return power, coh


def analyse(
    rec: Recording,
    bands: Sequence[Any] = ("gamma",),
    kinds: Sequence[str] = ("absolute", "relative"),
    aperiodic: str | None = "fixed",
    coherence_band: Any = "theta",
    pairs: Any = "all",
    measure: str | Sequence[str] = "msc",
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    bandwidth: float | None = None,
    line_freq: Any = "auto",
    total_band: tuple[float, float] | None = None,
    fit_range: tuple[float, float] | None = None,
    picks: Any = None,
    reject: float | None = None,
    reject_by_annotation: bool = True,
    precision: str = "float64",
    baseline: Recording | None = None,
) -> pd.DataFrame:
    """Per-recording spectral summary for the batch pipeline (one pass of FFTs).

    Parameters
    ----------
    rec : Recording
        Continuous EEG/LFP (picks default to the eeg and lfp channels).
    bands : sequence of str or (lo, hi)
        Band-power bands (default gamma 30-80 Hz).
    kinds : sequence of {"absolute", "relative", "db"}
        ``gamma_power`` (V^2), ``gamma_power_relative`` (fraction of 1-100 Hz) and
        ``gamma_power_db`` (10 log10 of the ratio to ``baseline``'s power).
    aperiodic : {"fixed", "knee", "auto", None}
        Also ``gamma_power_aperiodic_corrected`` and per-channel ``aperiodic_exponent``,
        ``aperiodic_offset`` (and ``aperiodic_knee``) rows from specparam.
    coherence_band : str or (lo, hi) or None
        Coherence band (default theta 4-8 Hz); ``None`` skips coherence.
    pairs : "all", list of pairs or {region: channels}
    measure : str or sequence
        ``"msc"`` (default; ``theta_msc``), ``"coh"``, ``"imcoh"``, ``"wpli"``, ``"plv"``.
    method, seg_len, overlap, bandwidth, reject, reject_by_annotation, precision
        Spectral settings (Welch, 2 s Hann segments, 50 % overlap, float64).
    line_freq : float, "auto" or None
        Line noise interpolated before the aperiodic fit (default: detect 50/60 Hz).
    total_band, fit_range : (lo, hi), optional
        Relative-power denominator and aperiodic fit range.
    picks : channels, optional
    baseline : Recording, optional
        Baseline recording for ``"db"`` (same settings and channel names).

    Returns
    -------
    pandas.DataFrame
        Feature table: per channel (and ``channel="mean"``) band powers and aperiodic
        parameters; per pair ``"A-B"`` (and ``"mean"`` or ``"PFC-HPC"``) coherence, with
        ``k`` = segments x tapers.
    """
    measures = [measure] if isinstance(measure, str) else list(measure)
    settings = SpectralSettings(method=method, seg_len=seg_len, overlap=overlap,
                                bandwidth=bandwidth, precision=precision, reject=reject,
                                reject_by_annotation=reject_by_annotation)
    rows, sett = spectral_rows(rec, settings, bands, kinds, aperiodic, coherence_band, pairs,
                               measures, line_freq, total_band, fit_range, picks,
                               baseline=baseline)
    if baseline is not None:
        sett["baseline"] = baseline.source.path or "in-memory recording"
    modality = "lfp" if "lfp" in rec.ch_types else "eeg"
    return feature_table(rows, rec, modality, sett)
