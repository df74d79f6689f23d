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

from .._docs import fill_doc
from ..errors import AnalysisError
from ..features import AnalysisOutput, feature_table
from ..recording import Recording
from ..settings import check_keywords
from .bandpower import band_peak_check, band_power_rows
from .bands import band_neighbourhood, peak_outside_band, resolve_band
from .coherence import _PER_SEGMENT, coherence_rows, cross_from_accumulated
from .fft import SpectralSettings, accumulate
from .psd import spectrum_from_accumulated
from .settings import SpectralAnalysis

__all__ = ["features", "analyse", "compute", "spectral_rows"]


def _frange(sfreq: float, bands: Sequence[Any], total_band: tuple[float, float] | None,
            aperiodic: str | None, fit_range: tuple[float, float] | None,
            relative: bool = True, modality: str | None = None) -> tuple[float, float]:
    nyq = sfreq / 2
    his = [resolve_band(b, modality)[2] for b in bands]
    los = [resolve_band(b, modality)[1] for b in bands]
    if relative or not bands:
        tb = total_band or (1.0, min(100.0, nyq))
        los, his = [*los, tb[0]], [*his, tb[1]]
    fmin, fmax = min(los), max(his)
    if aperiodic:
        fr = fit_range or (1.0, min(150.0, 0.8 * nyq))
        fmin, fmax = min(fmin, fr[0]), max(fmax, fr[1])
    return max(0.0, fmin), min(fmax, nyq)


@check_keywords(renamed={"baseline": "baseline_recording"})
@fill_doc
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
    baseline_recording: Recording | None = None,
    views: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of band powers (and aperiodic parameters) and coherence from one pass.

    Parameters
    ----------
    rec : Recording
        The recording analysed.
    settings : SpectralSettings
        How the spectra are estimated.
    %(bands)s
    %(kinds)s
    %(aperiodic)s
    %(coherence_band)s
    %(pairs)s
    %(measures)s
    %(line_freq)s
    %(total_band)s
    %(fit_range)s
    %(picks)s
    start, stop : int
        Sample range analysed (``stop=None``: to the end).
    add_mean : bool
        Add ``channel="mean"`` rows (and pair means).
    %(baseline_recording)s
    views : dict, optional
        Receives the ``"spectrum"`` (and ``"cross"``) the rows were computed from.

    Returns
    -------
    rows : list of dict
        Feature rows.
    settings : dict
        The estimation settings and the marker settings used (for the feature table).
    """
    picks = rec.default_picks() if picks is None else picks
    fmin, fmax = _frange(rec.sfreq, bands, total_band, aperiodic, fit_range,
                         relative="relative" in kinds, modality=rec.modality)
    base_spec = _baseline_spectrum(rec, baseline_recording, settings, picks, fmin, fmax) \
        if "db" in kinds else None
    cb = None
    if coherence_band is not None:
        _, lo, hi = resolve_band(coherence_band, rec.modality)
        cb = (lo, hi)
        # the PSD covers the band's neighbourhood too (peak_outside_band check)
        near_lo, near_hi = band_neighbourhood(lo, hi)
        fmin = max(0.0, min(fmin, near_lo))
        fmax = min(rec.sfreq / 2, max(fmax, near_hi))
    per_seg = any(m.lower() in _PER_SEGMENT for m in measures)
    acc = accumulate(rec, settings, picks=picks, fmin=fmin, fmax=fmax, cross_band=cb,
                     per_segment=per_seg, start=start, stop=stop)
    spectrum = spectrum_from_accumulated(acc, rec)
    if views is not None:
        views["spectrum"] = spectrum
    rows, fits = _band_rows(spectrum, bands, kinds, aperiodic, line_freq, base_spec,
                            total_band, fit_range)
    if fits is not None:
        rows.extend(_aperiodic_rows(spectrum, fits))
    if add_mean:
        rows.extend(_channel_means(rows))
    if cb is not None and len(spectrum.ch_names) > 1:
        cross = cross_from_accumulated(acc)
        if views is not None:
            views["cross"] = cross
        peak = peak_outside_band(spectrum.freqs, spectrum.psd, *cb)
        for m in measures:
            rows.extend(coherence_rows(cross, coherence_band, pairs, m.lower(), add_mean,
                                       peak_hz=peak))
    sett = dict(acc.settings)
    sett.update(bands=[list(resolve_band(b, rec.modality)[1:]) for b in bands],
                kinds=list(kinds),
                aperiodic=aperiodic, coherence_band=list(cb) if cb else None,
                pairs=pairs if isinstance(pairs, str) else repr(pairs),
                measures=list(measures), line_freq=line_freq, total_band=total_band,
                fit_range=fit_range)
    return rows, sett


def _baseline_spectrum(rec: Recording, baseline: Recording | None,
                       settings: SpectralSettings, picks: Any, fmin: float, fmax: float):
    """The spectrum of ``baseline`` for kind ``"db"`` (same settings, channels by name)."""
    if baseline is None:
        raise AnalysisError("kind 'db' needs a baseline recording (baseline_recording=...)",
                            rec.source.path)
    names = [rec.ch_names[i] for i in rec.pick_indices(picks)]
    return spectrum_from_accumulated(
        accumulate(baseline, settings, picks=names, fmin=fmin, fmax=fmax), baseline)


def _band_rows(spectrum, bands: Sequence[Any], kinds: Sequence[str], aperiodic: str | None,
               line_freq: Any, base_spec, total_band, fit_range
               ) -> tuple[list[dict[str, Any]], list | None]:
    """Band-power rows of every band, correction and kind; the aperiodic fits (made once,
    reused by every band) or None."""
    rows: list[dict[str, Any]] = []
    fits = None
    for band in bands:
        peak = band_peak_check(spectrum, band)  # once per band, whatever the kinds
        for corrected in ((False, True) if aperiodic else (False,)):
            for kind in kinds:
                r, f = band_power_rows(spectrum, band, kind, aperiodic if corrected else None,
                                       line_freq, base_spec, total_band, fit_range,
                                       fits=fits if corrected else None, peak=peak)
                if corrected:
                    fits = f
                rows.extend(r)
    return rows, fits


def _aperiodic_rows(spectrum, fits: list) -> list[dict[str, Any]]:
    """Rows of the aperiodic exponent, offset (and knee) of every channel."""
    rows = []
    for ch, fit in zip(spectrum.ch_names, fits):
        base = {"channel": ch, "unit": "1", "flags": [], "k": spectrum.k,
                "aperiodic_mode": fit.mode}
        rows.append({**base, "measure": "aperiodic_exponent", "value": fit.exponent})
        rows.append({**base, "measure": "aperiodic_offset", "value": fit.offset,
                     "unit": "log10(V^2/Hz)"})
        if fit.knee is not None:
            rows.append({**base, "measure": "aperiodic_knee", "value": fit.knee,
                         "unit": "Hz^exponent"})
    return rows


#: Channel flags that keep a channel out of the mean rows.
_EXCLUDING_FLAGS = {"flat", "all_nan", "has_nan"}


def _channel_means(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``channel="mean"`` row per measure.

    Channels flagged flat or NaN, and non-finite values, are left out; the mean row
    names them in ``excluded`` (and gets ``channels_excluded``), lists the channels it
    averaged in ``channels`` and carries the union of their flags.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["measure"], []).append(r)
    means = []
    for measure, rs in out.items():
        used = [r for r in rs if not _EXCLUDING_FLAGS & set(r.get("flags", []))
                and np.isfinite(r["value"])]
        if not used:
            continue
        vals = np.array([r["value"] for r in used], float)
        flags = sorted({f for r in used for f in r.get("flags", [])})
        excluded = [r["channel"] for r in rs if r not in used]
        if excluded:
            flags.append("channels_excluded")
        row = {k: v for k, v in rs[0].items() if k in _MEAN_CARRIED}
        row.update(measure=measure, channel="mean", value=float(vals.mean()),
                   unit=rs[0]["unit"], flags=flags, n_channels=int(vals.size),
                   channels=";".join(str(r["channel"]) for r in used),
                   excluded=";".join(str(c) for c in excluded))
        means.append(row)
    return means


#: Columns of the per-channel rows that the mean row keeps (same for every channel).
_MEAN_CARRIED = ("k", "band_lo", "band_hi", "band_hi_effective", "n_segments", "method",
                 "line_freq", "peak_hz")


def _run(rec: Recording, s: SpectralAnalysis, baseline_recording: Recording | None,
         add_mean: bool) -> AnalysisOutput:
    engine = SpectralSettings(method=s.method, seg_len=s.seg_len, overlap=s.overlap,
                              window=s.window, bandwidth=s.bandwidth, precision=s.precision,
                              reject=s.reject, reject_by_annotation=s.reject_by_annotation)
    views: dict[str, Any] = {}
    rows, _ = spectral_rows(rec, engine, s.bands, s.kinds, s.aperiodic, s.coherence_band,
                            s.pairs, s.measures(), s.line_freq, s.total_band, s.fit_range,
                            s.picks, add_mean=add_mean, baseline_recording=baseline_recording,
                            views=views)
    sett = s.to_dict()
    if baseline_recording is not None:
        sett["baseline"] = baseline_recording.source.path or "in-memory recording"
    return AnalysisOutput(feature_table(rows, rec, rec.modality, sett), views)


def _settings_keywords() -> Any:
    """A stand-in signature (recording first) whose keywords are the settings of
    :class:`SpectralAnalysis`, so :func:`~ketephys.settings.check_keywords` accepts them
    in ``**kwargs`` (and names the renamed ones)."""
    import inspect

    def keywords(rec: Recording, **_: Any) -> None:
        """Signature only."""

    params = [inspect.Parameter("rec", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=f.default)
               for n, f in SpectralAnalysis.model_fields.items()]
    keywords.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return keywords


#: Former names of the parameters of :func:`analyse`, :func:`features`, :func:`compute`.
_RENAMED = {"baseline": "baseline_recording"}


@check_keywords(_settings_keywords, renamed=_RENAMED)
@fill_doc
def features(rec: Recording, settings: SpectralAnalysis | dict | None = None,
             baseline_recording: Recording | None = None, **kwargs: Any) -> pd.DataFrame:
    """Band powers and coherence of a recording from one pass of FFTs, per channel and
    pair only (no mean rows).

    Takes the same settings as :func:`analyse` (one declaration,
    :class:`~ketephys.spectral.settings.SpectralAnalysis`); the per-channel and per-pair
    rows are identical to :func:`analyse`'s.

    Parameters
    ----------
    rec : Recording
        Continuous EEG/LFP.
    %(analysis_parameters)s

    Returns
    -------
    pandas.DataFrame
        One feature table: band-power (and aperiodic) rows per channel and coherence rows
        per pair (those have ``ch_a``/``ch_b``).
    """
    s = SpectralAnalysis.resolve(settings, path=rec.source.path, **kwargs)
    return _run(rec, s, baseline_recording, add_mean=False).features


@check_keywords(_settings_keywords, renamed=_RENAMED)
@fill_doc
def analyse(rec: Recording, settings: SpectralAnalysis | dict | None = None,
            baseline_recording: Recording | None = None, **kwargs: Any) -> pd.DataFrame:
    """Per-recording spectral summary: the entry point of scripts and the batch alike.

    ``ketephys run`` calls this function with the settings of the config's
    ``modalities: <modality>: spectral:`` section, so a script calling it with the same
    settings on the same file gets the same rows.

    Parameters
    ----------
    rec : Recording
        Continuous EEG/LFP. Channels default to the modality's signal channels
        (:meth:`~ketephys.Recording.default_picks`: EEG channels of an EEG recording,
        LFP channels of an LFP recording; never stim/misc/EOG/ECG/EMG).
    %(analysis_parameters)s

    Returns
    -------
    pandas.DataFrame
        Feature table: per channel (and ``channel="mean"``, over unflagged channels)
        band powers and aperiodic parameters; per pair ``"A-B"`` (and ``"mean"`` or
        ``"PFC-HPC"``) coherence, with ``k`` = segments x tapers and the band edges
        used (``band_lo``, ``band_hi``, ``band_hi_effective``).
    """
    return compute(rec, settings, baseline_recording, **kwargs).features


@check_keywords(_settings_keywords, renamed=_RENAMED)
@fill_doc
def compute(rec: Recording, settings: SpectralAnalysis | dict | None = None,
            baseline_recording: Recording | None = None, **kwargs: Any) -> AnalysisOutput:
    """:func:`analyse`'s rows together with the spectrum and cross-spectrum they came from
    (``views``: ``"spectrum"``, ``"cross"``), as the batch stores them for the report.

    Parameters
    ----------
    rec : Recording
        Continuous EEG/LFP.
    %(analysis_parameters)s

    Returns
    -------
    AnalysisOutput
        ``features`` (the table :func:`analyse` returns) and ``views``.
    """
    s = SpectralAnalysis.resolve(settings, path=rec.source.path, **kwargs)
    return _run(rec, s, baseline_recording, add_mean=True)
