"""The coherence family between channel pairs, from one pass over the recording.

Definitions (``S_ab`` = cross-spectrum in scipy's convention ``E[conj(X_a) X_b]``,
averaged over segments and tapers; ``K`` = segments x tapers):

* coherency ``C_ab = S_ab / sqrt(S_aa S_bb)``;
* ``"msc"``: magnitude-squared coherence ``|C|^2`` (``scipy.signal.coherence``, Elephant);
  for uncoupled signals its expectation is about ``1 / K``;
* ``"coh"``: ``|C|`` (what mne-connectivity calls ``coh``);
* ``"imcoh"``: ``Im(C)`` with scipy's sign: the phase of ``S_ab`` is
  ``phase(b) - phase(a)``, so ``Im(C_ab) < 0`` when channel ``b`` lags ``a``.
  mne-connectivity's ``imcoh`` for seed ``a`` and target ``b`` has the opposite sign
  (its cross-spectrum is ``X_a conj(X_b)``);
* ``"wpli"``: weighted phase-lag index (Vinck et al. 2011),
  ``|sum_s Im S_ab,s| / sum_s |Im S_ab,s|`` over segments ``s`` (each segment's
  cross-spectrum averaged over its tapers first, as mne-connectivity);
* ``"plv"``: phase-locking value ``|mean_s S_ab,s / |S_ab,s||``.

A band value is the mean of the per-bin measure over the bins with
``lo <= f <= hi`` (mne-connectivity's ``faverage=True``): so the band MSC is the mean of
per-bin MSC, not the square of the band-mean ``coh``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from .._docs import fill_doc
from .._result import ResultMixin, channel_indices
from ..errors import AnalysisError
from ..features import feature_table
from ..recording import Recording
from ..settings import check_keywords
from .bands import band_neighbourhood, peak_outside_band, resolve_band
from .fft import Accumulated, SpectralSettings, accumulate

__all__ = ["CrossSpectrum", "coherence", "coherence_rows", "resolve_pairs", "MEASURES",
           "cross_from_accumulated", "cross_spectrum"]

#: Coherence measures and the unit of their values.
MEASURES = {"msc": "1", "coh": "1", "imcoh": "1", "wpli": "1", "plv": "1"}
_PER_SEGMENT = {"wpli", "plv"}


@fill_doc
@dataclass(repr=False)
class CrossSpectrum(ResultMixin):
    """Cross-spectral matrix over a few band bins (mean over segments and tapers).

    Shares the result surface: :meth:`get_data`, :meth:`to_data_frame`, :meth:`plot`,
    :meth:`copy` and a short repr.

    Attributes
    ----------
    freqs : ndarray (n_freqs,)
        The band bins (Hz).
    csd : ndarray (n_freqs, n_channels, n_channels), complex
        ``S_ab = E[conj(X_a) X_b]`` in V^2/Hz, one-sided; the diagonal is the PSD.
    im_sum, abs_im_sum, phase_sum : ndarray or None
        Per-segment sums for wPLI and PLV.
    ch_names : list of str
        Channels, in the order of the matrix rows and columns.
    n_segments, n_tapers, n_rejected : int
        Segments averaged, tapers per segment, segments dropped.
    settings : dict
        Estimation settings (as :attr:`Spectrum.settings <ketephys.spectral.psd.Spectrum>`).
    spectrum : Spectrum or None
        The PSD from the same FFTs (made by :func:`cross_spectrum`, for band powers).
    """

    freqs: np.ndarray
    csd: np.ndarray
    ch_names: list[str]
    n_segments: int
    n_tapers: int
    n_rejected: int = 0
    im_sum: np.ndarray | None = None
    abs_im_sum: np.ndarray | None = None
    phase_sum: np.ndarray | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    spectrum: Any = None

    @property
    def k(self) -> int:
        """Segments x tapers (the 1/K bias floor of MSC)."""
        return int(self.n_segments * self.n_tapers)

    def measure(self, measure: str = "msc") -> np.ndarray:
        """A coherence measure per band bin and channel pair.

        Parameters
        ----------
        measure : {"msc", "coh", "imcoh", "wpli", "plv"}
            See :data:`MEASURES` and the module docstring (case-insensitive).

        Returns
        -------
        ndarray, shape (n_freqs, n_channels, n_channels)
            Unitless; NaN for a pair with a flat channel.

        Raises
        ------
        SettingsError
            An unknown measure.
        AnalysisError
            ``"wpli"``/``"plv"`` without per-segment sums.
        """
        measure = check_option("measure", measure.lower(), MEASURES)
        if measure in _PER_SEGMENT:
            if self.im_sum is None:
                raise AnalysisError(f"{measure} needs per-segment cross-spectra; compute "
                                    "with per_segment=True")
            if measure == "wpli":
                den = self.abs_im_sum
                with np.errstate(invalid="ignore", divide="ignore"):
                    out = np.where(den > 0, np.abs(self.im_sum) / np.where(den > 0, den, 1),
                                   0.0)
                return out
            return np.abs(self.phase_sum) / self.n_segments
        diag = np.real(np.einsum("fii->fi", self.csd))
        norm = np.sqrt(diag[:, :, None] * diag[:, None, :])
        norm[norm == 0] = np.nan  # flat channel: coherence undefined (NaN), flagged
        c = self.csd / norm
        if measure == "msc":
            return c.real ** 2 + c.imag ** 2
        if measure == "coh":
            return np.abs(c)
        return c.imag

    def get_data(self, measure: str | None = None, picks: Any = None) -> np.ndarray:
        """The cross-spectra, or a coherence measure, per band bin.

        Parameters
        ----------
        measure : str, optional
            None: the complex CSD (V^2/Hz); else one of :data:`MEASURES` (unitless).
        picks : str, int or list, optional
            Channels (default all); rows and columns of the matrix.

        Returns
        -------
        ndarray, shape (n_freqs, n_picks, n_picks)
        """
        idx = channel_indices(self.ch_names, picks)
        values = self.csd if measure is None else self.measure(measure)
        return values[:, idx][:, :, idx]

    def to_data_frame(self, measure: str | None = None) -> pd.DataFrame:
        """One row per band bin and ordered channel pair.

        Parameters
        ----------
        measure : str, optional
            None: columns ``csd_real``, ``csd_imag`` (V^2/Hz); else ``value`` of that
            measure (see :data:`MEASURES`).

        Returns
        -------
        pandas.DataFrame
            ``freq`` (Hz), ``ch_a``, ``ch_b``, the values and ``unit``.
        """
        vals = self.get_data(measure)
        n_f, n = vals.shape[:2]
        out = pd.DataFrame({"freq": np.repeat(self.freqs, n * n),
                            "ch_a": np.tile(np.repeat(self.ch_names, n), n_f),
                            "ch_b": np.tile(self.ch_names, n * n_f)})
        if measure is None:
            out["csd_real"], out["csd_imag"] = vals.real.ravel(), vals.imag.ravel()
            out["unit"] = "V^2/Hz"
        else:
            out["value"], out["unit"] = vals.ravel(), MEASURES[measure.lower()]
        return out

    def plot(self, measure: str = "msc", kind: str = "matrix",
             pairs: Sequence[tuple[str, str]] | None = None, show: bool | None = None
             ) -> Any:
        """Coherence matrix (mean over the band bins) or per-pair spectra.

        Parameters
        ----------
        measure : str
            One of :data:`MEASURES`.
        kind : {"matrix", "pairs"}
        pairs : list of (str, str), optional
            Pairs for ``kind="pairs"``.
        %(show)s

        Returns
        -------
        matplotlib.figure.Figure
            With more than 32 channels only every k-th tick is labelled (said in the title).
        """
        from ..viz.spectral import plot_cross_spectrum

        return plot_cross_spectrum(self, measure, kind, pairs, show)

    def _repr_parts(self) -> list[str]:
        f = self.freqs
        span = f"{f.min():g}-{f.max():g} Hz" if f.size else "no bins"
        return [f"{len(self.ch_names)} ch", f"{f.size} bins {span}", "CSD V^2/Hz",
                f"K={self.k}", f"per-segment sums {'yes' if self.im_sum is not None else 'no'}",
                f"method {self.settings.get('method', '?')}"]


def cross_from_accumulated(acc: Accumulated) -> CrossSpectrum:
    """The mean cross-spectrum of an :class:`~ketephys.spectral.fft.Accumulated`.

    Parameters
    ----------
    acc : Accumulated
        Sums of an :func:`~ketephys.spectral.fft.accumulate` pass made with a
        ``cross_band``.

    Returns
    -------
    CrossSpectrum
        Without ``spectrum`` (set it from the same ``acc`` when needed).

    Raises
    ------
    AnalysisError
        ``acc`` holds no cross-spectrum.
    """
    if acc.csd_sum is None:
        raise AnalysisError("no cross-spectrum was accumulated (cross_band not given)")
    sett = dict(acc.settings)
    sett["sfreq"] = acc.sfreq
    return CrossSpectrum(freqs=acc.cross_freqs, csd=acc.csd_sum / acc.n_segments,
                         ch_names=acc.ch_names, n_segments=acc.n_segments,
                         n_tapers=acc.n_tapers, n_rejected=acc.n_rejected,
                         im_sum=acc.im_sum, abs_im_sum=acc.abs_im_sum,
                         phase_sum=acc.phase_sum, settings=sett)


def resolve_pairs(ch_names: Sequence[str], pairs: Any = "all"
                  ) -> tuple[list[tuple[int, int]], list[tuple[str | None, str | None]]]:
    """Channel index pairs and, for a region mapping, the region of each side.

    Parameters
    ----------
    ch_names : sequence of str
        The analysed channels (indices refer to this order).
    pairs : "all", list of (a, b) or {region: [channels]}
        ``"all"``: every unordered pair once (``i < j`` in channel order), no self-pairs.
        A list of ``(a, b)`` names or indices: those pairs, in that order.
        A mapping ``{"PFC": [...], "HPC": [...]}``: every pair between channels of two
        different regions (regions in the mapping's order).

    Returns
    -------
    pairs : list of (int, int)
        Channel indices of each pair.
    regions : list of (str or None, str or None)
        The regions of each pair's channels (None unless ``pairs`` is a mapping).

    Raises
    ------
    AnalysisError
        An unknown channel, a self-pair, or a string other than ``"all"``.
    """
    names = list(ch_names)

    def index(c: Any) -> int:
        if isinstance(c, (int, np.integer)):
            return int(c)
        if c not in names:
            raise AnalysisError(f"pair channel {c!r} is not among the analysed channels "
                                f"{names}")
        return names.index(c)

    if isinstance(pairs, str):
        if pairs != "all":
            raise AnalysisError(f"pairs must be 'all', a list of pairs or a region "
                                f"mapping, got {pairs!r}")
        out = list(combinations(range(len(names)), 2))
        return out, [(None, None)] * len(out)
    if isinstance(pairs, Mapping):
        regions = [(r, [index(c) for c in chans]) for r, chans in pairs.items()]
        out, regs = [], []
        for (ra, ca), (rb, cb) in combinations(regions, 2):
            for a in ca:
                for b in cb:
                    if a != b:
                        out.append((a, b))
                        regs.append((ra, rb))
        return out, regs
    out = []
    for p in pairs:
        a, b = p
        ia, ib = index(a), index(b)
        if ia == ib:
            raise AnalysisError(f"pair ({a!r}, {b!r}) is a self-pair")
        out.append((ia, ib))
    return out, [(None, None)] * len(out)


@fill_doc
def coherence_rows(cross: CrossSpectrum, band: str | tuple[float, float] = "theta",
                   pairs: Any = "all", measure: str = "msc",
                   add_mean: bool = False, peak_hz: float | None = None
                   ) -> list[dict[str, Any]]:
    """Feature rows (one per pair) of a band-averaged coherence measure.

    A pair with a flat channel (:func:`~ketephys.spectral.preprocess.flat_mask` on the
    band power) has value NaN and the flag ``flat_channel``; it is left out of the mean
    rows, which name the channels they left out (``excluded``).

    Parameters
    ----------
    cross : CrossSpectrum
        The cross-spectrum (its bins must cover ``band``).
    band : str or (lo, hi)
        Band averaged (name resolved for the recording's modality, or Hz, inclusive).
    %(pairs)s
    measure : {"msc", "coh", "imcoh", "wpli", "plv"}
        The measure (see :data:`MEASURES`).
    add_mean : bool
        Add mean rows over the pairs (``"mean"``, or one per region pair).
    peak_hz : float, optional
        The peak outside the band (from
        :func:`~ketephys.spectral.bands.peak_outside_band`): every row gets the flag
        ``peak_outside_band`` and the column ``peak_hz``.

    Returns
    -------
    list of dict
        Feature rows (``measure``, ``channel`` ``"A-B"``, ``value``, ``unit``, ``flags``,
        ``ch_a``, ``ch_b``, band edges, ``k``...).

    Raises
    ------
    AnalysisError
        No cross-spectrum bin inside the band.
    """
    from .preprocess import flat_mask

    name, lo, hi = resolve_band(band, cross.settings.get("modality"))
    fmask = (cross.freqs >= lo) & (cross.freqs <= hi)
    if not fmask.any():
        raise AnalysisError(f"no cross-spectrum bin in {name} ({lo:g}-{hi:g} Hz); "
                            f"bins are {cross.freqs.round(3).tolist()}")
    with np.errstate(invalid="ignore", divide="ignore"):
        per_bin = cross.measure(measure)[fmask]
    vals = per_bin.mean(axis=0)
    idx, regions = resolve_pairs(cross.ch_names, pairs)
    flat = flat_mask(np.real(np.einsum("fii->fi", cross.csd[fmask])))
    rows = []
    k = cross.k
    common = ["few_segments"] if k < 10 else []
    if peak_hz is not None:
        common.append("peak_outside_band")
    top = float(cross.freqs[fmask].max())
    edges = {"band_lo": lo, "band_hi": hi, "band_hi_effective": min(hi, top),
             "n_bins": int(fmask.sum()), "k": k, "n_segments": cross.n_segments,
             "n_tapers": cross.n_tapers}
    if peak_hz is not None:
        edges["peak_hz"] = peak_hz
    unit = MEASURES[measure]
    for (a, b), (ra, rb) in zip(idx, regions):
        bad = bool(flat[a] or flat[b])
        row = {"measure": f"{name}_{measure}",
               "channel": f"{cross.ch_names[a]}-{cross.ch_names[b]}",
               "value": float("nan") if bad else float(vals[a, b]), "unit": unit,
               "flags": common + (["flat_channel"] if bad else []),
               "ch_a": cross.ch_names[a], "ch_b": cross.ch_names[b], **edges,
               "method": cross.settings.get("method")}
        if ra is not None:
            row.update(region_a=ra, region_b=rb)
        rows.append(row)
    if add_mean and rows:
        rows.extend(_pair_means(rows, flat, cross.ch_names, common, edges, unit))
    return rows


def _pair_means(rows: list[dict[str, Any]], flat: np.ndarray, ch_names: Sequence[str],
                common: list[str], edges: dict[str, Any], unit: str) -> list[dict[str, Any]]:
    """Mean rows over pairs (``"mean"``, or one per region pair), flat pairs left out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        key = f"{r['region_a']}-{r['region_b']}" if "region_a" in r else "mean"
        groups.setdefault(key, []).append(r)
    excluded = [c for c, f in zip(ch_names, flat) if f]
    out = []
    for key, rs in groups.items():
        v = np.array([r["value"] for r in rs], float)
        used = sorted({c for r, x in zip(rs, v) if np.isfinite(x)
                       for c in (r["ch_a"], r["ch_b"])})
        v = v[np.isfinite(v)]
        flags = sorted({f for r in rs for f in r["flags"] if f != "flat_channel"})
        if len(v) < len(rs):
            flags.append("channels_excluded")
        out.append({"measure": rs[0]["measure"], "channel": key,
                    "value": float(v.mean()) if v.size else float("nan"), "unit": unit,
                    "flags": flags or list(common), **edges, "n_pairs": int(v.size),
                    "channels": ";".join(used), "excluded": ";".join(excluded)})
    return out


@check_keywords()
@fill_doc
def cross_spectrum(
    rec: Recording,
    band: str | tuple[float, float] = "theta",
    picks: Any = None,
    *,
    fmin: float | None = None,
    fmax: float | None = None,
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    window: Any = "hann",
    bandwidth: float | None = None,
    precision: str = "float64",
    reject: float | None = None,
    reject_by_annotation: bool = True,
    per_segment: bool = False,
) -> CrossSpectrum:
    """One pass of FFTs giving the cross-spectrum over a band and the PSD around it.

    Give the result to :func:`coherence` and to
    :func:`~ketephys.spectral.band_power` (both accept it) to compute band powers and
    coherence from the same segment FFTs, as the batch does::

        cs = spectral.cross_spectrum(rec, band="theta")
        gamma = spectral.band_power(cs, band="gamma")
        theta = spectral.coherence(cs, band="theta")

    Parameters
    ----------
    rec : Recording
        Channels default to the modality's signal channels
        (:meth:`~ketephys.Recording.default_picks`).
    band : str or (lo, hi)
        Cross-spectrum band (resolved for the recording's modality).
    %(picks)s
    fmin, fmax : float, optional
        PSD range (default 1 Hz to ``min(150, 0.8 Nyquist) + 10`` Hz: the aperiodic fit
        range with room for its line-noise interpolation; widened to cover the band's
        neighbourhood).
    %(method)s
    %(seg_len)s
    %(overlap)s
    %(window)s
    %(bandwidth)s
    %(precision)s
    %(reject)s
    %(reject_by_annotation)s
    per_segment : bool
        Keep per-segment sums (needed by ``"wpli"`` and ``"plv"``).

    Returns
    -------
    CrossSpectrum
        With ``.spectrum``, the :class:`~ketephys.spectral.psd.Spectrum` of the same FFTs.
    """
    from .psd import spectrum_from_accumulated

    _, lo, hi = resolve_band(band, rec.modality)
    nyq = rec.sfreq / 2
    lo_n, hi_n = band_neighbourhood(lo, hi)
    f0 = min(1.0 if fmin is None else fmin, max(lo_n, 0.0))
    # default top: the aperiodic fit's (min(150, 0.8 Nyquist)) plus room for the line-noise
    # interpolation at its edge, so band powers equal those of psd(rec) over all bins
    top = min(150.0, 0.8 * nyq) + 10.0 if fmax is None else fmax
    f1 = min(max(top, hi_n), nyq)
    settings = SpectralSettings(method=method, seg_len=seg_len, overlap=overlap,
                                window=window, bandwidth=bandwidth, precision=precision,
                                reject=reject, reject_by_annotation=reject_by_annotation)
    acc = accumulate(rec, settings, picks=picks, fmin=f0, fmax=f1, cross_band=(lo, hi),
                     per_segment=per_segment)
    cross = cross_from_accumulated(acc)
    cross.spectrum = spectrum_from_accumulated(acc, rec)
    return cross


@check_keywords()
@fill_doc
def coherence(
    rec: Recording | CrossSpectrum,
    band: str | tuple[float, float] = "theta",
    pairs: Any = "all",
    measure: str = "msc",
    picks: Any = None,
    *,
    add_mean: bool = False,
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    window: Any = "hann",
    bandwidth: float | None = None,
    precision: str = "float64",
    reject: float | None = None,
    reject_by_annotation: bool = True,
) -> pd.DataFrame:
    """Band-averaged coherence between channel pairs as a tidy feature table.

    Parameters
    ----------
    rec : Recording or CrossSpectrum
        A recording (its cross-spectrum is computed with the settings below, per-segment
        sums when ``measure`` needs them), or the result of :func:`cross_spectrum` (the
        estimation settings are then those it was made with).
    band : str or (lo, hi)
        Preset name or Hz (edges inclusive).
    %(pairs)s
    measure : {"msc", "coh", "imcoh", "wpli", "plv"}
        See the module docstring; ``"msc"`` is ``|C|^2`` (scipy's convention).
    %(picks)s
    add_mean : bool
        Add the mean over pairs (channel ``"mean"``, or ``"PFC-HPC"`` per region pair).
    %(method)s
    %(seg_len)s
    %(overlap)s
    %(window)s
    %(bandwidth)s
    %(precision)s
    %(reject)s
    %(reject_by_annotation)s

    Returns
    -------
    pandas.DataFrame
        One row per pair: measure ``"{band}_{measure}"``, channel ``"A-B"``, value, and
        ``k`` (segments x tapers), ``n_bins``, band edges.
    """
    if not isinstance(rec, CrossSpectrum):
        rec = cross_spectrum(rec, band, method=method, seg_len=seg_len, overlap=overlap,
                             window=window, bandwidth=bandwidth, picks=picks, reject=reject,
                             reject_by_annotation=reject_by_annotation, precision=precision,
                             per_segment=measure.lower() in _PER_SEGMENT)
    cross, sett = rec, dict(rec.settings)
    recording = None if cross.spectrum is None else cross.spectrum.recording
    name, lo, hi = resolve_band(band, cross.settings.get("modality"))
    sett.update(band=[lo, hi], measure=measure, pairs=pairs if isinstance(pairs, str)
                else repr(pairs))
    peak = None
    if cross.spectrum is not None:
        peak = peak_outside_band(cross.spectrum.freqs, cross.spectrum.psd, lo, hi)
    rows = coherence_rows(cross, (lo, hi), pairs, measure, add_mean, peak_hz=peak)
    for r in rows:
        r["measure"] = f"{name}_{measure}"
    modality = None if recording is None else recording.modality
    return feature_table(rows, recording=recording, modality=modality, settings=sett)
