"""Band power: absolute, relative, dB against a baseline, and aperiodic-corrected.

Band power is ``sum(PSD[lo <= f <= hi]) * df`` (V^2), not Simpson's rule and not the
mean density. Relative power divides by the power in ``total_band`` (default 1 Hz to
``min(100, fmax)``). ``"db"`` is ``10 log10(power / baseline power)`` with the baseline
computed with the same settings. With ``aperiodic="fixed"`` or ``"knee"`` the line noise
(and harmonics, +-2 Hz) is interpolated, specparam's aperiodic fit is subtracted, and the
corrected power is ``sum(PSD - aperiodic) * df`` over the band (not clipped at zero, so
it is unbiased when there is no oscillation).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from .._docs import fill_doc
from ..errors import AnalysisError
from ..features import feature_table
from ..recording import Recording
from ..settings import check_keywords
from .aperiodic import AperiodicFit, fit_aperiodic, interpolate_line_noise
from .bands import peak_outside_band, resolve_band
from .preprocess import channel_flags, detect_line_noise
from .psd import Spectrum, psd

__all__ = ["band_power", "band_power_rows", "KINDS"]

KINDS = ("absolute", "relative", "db")

logger = logging.getLogger(__name__)


def _where(spectrum: Spectrum) -> str:
    rec = getattr(spectrum, "recording", None)
    path = None if rec is None else rec.source.path
    return path or "in-memory recording"


def _resolve_line(spectrum: Spectrum, line_freq: Any) -> float | None:
    if line_freq == "auto":
        return detect_line_noise(spectrum)
    return None if line_freq is None else float(line_freq)


def _band_sum(spectrum: Spectrum, p: np.ndarray, lo: float, hi: float) -> np.ndarray:
    mask = (spectrum.freqs >= lo) & (spectrum.freqs <= hi)
    if not mask.any():
        raise AnalysisError(f"no PSD bin in {lo:g}-{hi:g} Hz (spectrum covers "
                            f"{spectrum.freqs[0]:g}-{spectrum.freqs[-1]:g} Hz)")
    return p[:, mask].sum(axis=1) * spectrum.df


def _powers(spectrum: Spectrum, lo: float, hi: float, aperiodic: str | None,
            line_freq: float | None, fits: list[AperiodicFit] | None,
            fit_range: tuple[float, float] | None) -> tuple[np.ndarray, list | None]:
    if aperiodic is None:
        return _band_sum(spectrum, spectrum.psd, lo, hi), None
    if fits is None:
        if fit_range is None:  # from the sampling rate, not the range the PSD was kept
            fit_range = (1.0, min(150.0, 0.8 * spectrum.settings["sfreq"] / 2))
        fits = fit_aperiodic(spectrum.freqs, spectrum.psd, aperiodic, fit_range, line_freq)
    clean = interpolate_line_noise(spectrum.freqs, spectrum.psd, line_freq)
    # the aperiodic model only inside the band (it is undefined at 0 Hz in fixed mode)
    inside = (spectrum.freqs >= lo) & (spectrum.freqs <= hi)
    resid = np.zeros_like(clean)
    resid[:, inside] = clean[:, inside] - np.vstack(
        [fit.psd(spectrum.freqs[inside]) for fit in fits])
    return _band_sum(spectrum, resid, lo, hi), fits


def band_peak_check(spectrum: Spectrum, band: str | tuple[float, float]) -> float | None:
    """:func:`~ketephys.spectral.bands.peak_outside_band` for ``band`` on ``spectrum``,
    with a warning naming the peak when there is one.

    Returns
    -------
    float or None
        The peak frequency (Hz) outside the band, or None.
    """
    name, lo, hi = resolve_band(band, spectrum.settings.get("modality"))
    peak = peak_outside_band(spectrum.freqs, spectrum.psd, lo, hi)
    if peak is not None:
        logger.warning("%s: the strongest peak near the %s band (%g-%g Hz) is at %.3g Hz, "
                       "outside the band; rows flagged 'peak_outside_band'",
                       _where(spectrum), name, lo, hi, peak)
    return peak


@check_keywords(renamed={"baseline": "baseline_spectrum"})
@fill_doc
def band_power_rows(
    spectrum: Spectrum,
    band: str | tuple[float, float] = "gamma",
    kind: str = "absolute",
    aperiodic: str | None = None,
    line_freq: Any = None,
    baseline_spectrum: Spectrum | None = None,
    total_band: tuple[float, float] | None = None,
    fit_range: tuple[float, float] | None = None,
    fits: list[AperiodicFit] | None = None,
    baseline_fits: list[AperiodicFit] | None = None,
    peak: float | None | str = "check",
) -> tuple[list[dict[str, Any]], list[AperiodicFit] | None]:
    """Rows (one per channel) of a band power and the aperiodic fits used (reusable).

    Parameters
    ----------
    spectrum : Spectrum
        The PSD the power is summed from.
    band : str or (lo, hi)
        Preset (``"gamma"`` = 30-80 Hz...) or Hz, edges inclusive.
    kind : {"absolute", "relative", "db"}
        V^2; fraction of the power in ``total_band``; dB against ``baseline_spectrum``.
    %(aperiodic)s
    %(line_freq)s
    baseline_spectrum : Spectrum, optional
        Needed for ``kind="db"``: the baseline's PSD (same settings; channels matched by
        name).
    %(total_band)s
    %(fit_range)s
    fits, baseline_fits : list of AperiodicFit, optional
        Aperiodic fits already made on ``spectrum`` (and on the baseline), one per
        channel; None: fitted here.
    peak : float, None or "check"
        :func:`band_peak_check`'s answer when the caller already has it (one check and
        one warning per band, whatever the kinds); ``"check"`` makes it here.

    Returns
    -------
    rows : list of dict
        One feature row per channel.
    fits : list of AperiodicFit or None
        The aperiodic fits used (None without ``aperiodic``), to reuse for other kinds.

    Raises
    ------
    SettingsError
        An unknown ``kind`` or ``aperiodic`` mode.
    AnalysisError
        No PSD bin in the band, or ``kind="db"`` without a usable baseline.
    """
    check_option("kind", kind, KINDS)
    check_option("aperiodic", aperiodic, (None, "fixed", "knee", "auto"))
    name, lo, hi = resolve_band(band, spectrum.settings.get("modality"))
    if peak == "check":
        peak = band_peak_check(spectrum, band)
    line = _resolve_line(spectrum, line_freq)
    power, fits = _powers(spectrum, lo, hi, aperiodic, line, fits, fit_range)
    measure = f"{name}_power" + ("_aperiodic_corrected" if aperiodic else "")
    values, units, suffix = _kind_values(spectrum, power, kind, lo, hi, aperiodic, line_freq,
                                         baseline_spectrum, total_band, fit_range,
                                         baseline_fits)
    measure += suffix
    qflags = channel_flags(spectrum)
    nyquist = spectrum.settings.get("sfreq", np.inf) / 2
    top = min(nyquist, float(spectrum.freqs[-1]) + spectrum.df)
    common = []
    if spectrum.k < 10:
        common.append("few_segments")
    if hi > top:
        common.append("band_truncated")  # band reaches beyond Nyquist or fmax
    if peak is not None:
        common.append("peak_outside_band")
    line_in_band = line is not None and not aperiodic and any(
        lo - 2 <= h * line <= hi + 2 for h in range(1, int(hi // line) + 2))
    rows = []
    for i, ch in enumerate(spectrum.ch_names):
        v = float(values[i])
        flags = list(qflags[ch]) + common
        if not np.isfinite(v):
            flags.append("undefined_value")
        if line_in_band:
            flags.append("line_noise_in_band")  # absolute power includes the line
        row = {"measure": measure, "channel": ch, "value": v, "unit": units[i],
               "flags": flags, "band_lo": lo, "band_hi": hi,
               "band_hi_effective": min(hi, top), "k": spectrum.k,
               "n_segments": spectrum.n_segments, "n_rejected": spectrum.n_rejected,
               "method": spectrum.settings.get("method")}
        if line is not None:
            row["line_freq"] = line
        if peak is not None:
            row["peak_hz"] = peak
        if fits is not None:
            fit = fits[i]
            row.update(aperiodic_offset=fit.offset, aperiodic_exponent=fit.exponent,
                       aperiodic_knee=fit.knee, aperiodic_mode=fit.mode)
        rows.append(row)
    return rows, fits


def _kind_values(spectrum: Spectrum, power: np.ndarray, kind: str, lo: float, hi: float,
                 aperiodic: str | None, line_freq: Any, baseline: Spectrum | None,
                 total_band: tuple[float, float] | None,
                 fit_range: tuple[float, float] | None,
                 baseline_fits: list[AperiodicFit] | None
                 ) -> tuple[np.ndarray, list[str], str]:
    """Values, units and measure-name suffix of band ``power`` for ``kind``: absolute,
    relative to the total band, or dB against the baseline's power in the same band."""
    if kind == "absolute":
        return power, [u.replace("/Hz", "") for u in
                       (spectrum.units or ["V^2/Hz"] * len(power))], ""
    if kind == "relative":
        tb = total_band or (1.0, min(100.0, float(spectrum.freqs[-1])))
        return power / _band_sum(spectrum, spectrum.psd, *tb), ["1"] * len(power), \
            "_relative"
    if baseline is None:
        raise AnalysisError("kind='db' needs a baseline spectrum or recording")
    missing = [c for c in spectrum.ch_names if c not in baseline.ch_names]
    if missing:
        raise AnalysisError(f"baseline lacks channels {missing}")
    order = [baseline.ch_names.index(c) for c in spectrum.ch_names]
    base_line = _resolve_line(baseline, line_freq)
    bpow, _ = _powers(baseline, lo, hi, aperiodic, base_line, baseline_fits, fit_range)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = 10.0 * np.log10(power / bpow[order])
    return values, ["dB"] * len(power), "_db"


@check_keywords(lambda: psd, renamed={"baseline": "baseline_recording"})
@fill_doc
def band_power(
    rec: Recording | Spectrum,
    band: str | tuple[float, float] = "gamma",
    kind: str = "absolute",
    aperiodic: str | None = None,
    line_freq: Any = None,
    baseline_recording: Recording | Spectrum | None = None,
    total_band: tuple[float, float] | None = None,
    fit_range: tuple[float, float] | None = None,
    **psd_kwargs: Any,
) -> pd.DataFrame:
    """Band power per channel as a tidy feature table.

    Parameters
    ----------
    rec : Recording, Spectrum or CrossSpectrum
        A recording (its PSD is computed with ``psd_kwargs``), a spectrum, or the result
        of :func:`~ketephys.spectral.cross_spectrum` (its PSD, from the same FFTs as the
        coherence).
    band : str or (lo, hi)
        Preset (``"gamma"`` = 30-80 Hz...) or Hz, edges inclusive.
    kind : {"absolute", "relative", "db"}
        V^2; fraction of the power in ``total_band``; dB against ``baseline_recording``.
    aperiodic : {None, "fixed", "knee", "auto"}
        Subtract specparam's aperiodic fit (use ``"knee"`` when the spectrum bends;
        ``"auto"`` keeps the knee model only when a knee is found, see
        :func:`~ketephys.spectral.aperiodic.fit_aperiodic`). Rows
        then carry ``aperiodic_offset`` (log10 V^2/Hz), ``aperiodic_exponent`` and
        ``aperiodic_knee``.
    %(line_freq)s
    baseline_recording : Recording or Spectrum, optional
        Needed for ``kind="db"``: a recording (analysed with the same ``psd_kwargs``) or
        its spectrum. Renamed from ``baseline`` in 0.2.
    %(total_band)s
    %(fit_range)s
    **psd_kwargs
        Passed to :func:`~ketephys.spectral.psd.psd` (method, seg_len, overlap, picks...).

    Returns
    -------
    pandas.DataFrame
        One row per channel; measure ``"{band}_power"`` (+ ``_aperiodic_corrected``,
        ``_relative``, ``_db``).
    """
    if getattr(rec, "spectrum", None) is not None:  # a CrossSpectrum: its PSD
        rec = rec.spectrum
    spectrum = rec if isinstance(rec, Spectrum) else psd(rec, **psd_kwargs)
    base = baseline_recording
    if isinstance(baseline_recording, Recording):
        base = psd(baseline_recording, **psd_kwargs)
    rows, _ = band_power_rows(spectrum, band, kind, aperiodic, line_freq, base, total_band,
                              fit_range)
    sett = dict(spectrum.settings)
    sett.update(band=list(resolve_band(band, spectrum.settings.get("modality"))[1:]),
                kind=kind, aperiodic=aperiodic,
                line_freq=line_freq, total_band=total_band, fit_range=fit_range)
    recording = spectrum.recording
    modality = None if recording is None else recording.modality
    return feature_table(rows, recording=recording, modality=modality, settings=sett)
