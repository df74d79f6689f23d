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

from .._result import ResultMixin, channel_indices, fill_doc
from ..errors import AnalysisError
from ..features import feature_table
from ..recording import Recording
from .bands import resolve_band
from .fft import Accumulated, SpectralSettings, accumulate

__all__ = ["CrossSpectrum", "coherence", "coherence_rows", "resolve_pairs", "MEASURES",
           "cross_from_accumulated"]

#: Coherence measures and the unit of their values.
MEASURES = {"msc": "", "coh": "", "imcoh": "", "wpli": "", "plv": ""}
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
    csd : ndarray (n_freqs, n_channels, n_channels), complex
        ``S_ab = E[conj(X_a) X_b]`` in V^2/Hz, one-sided; the diagonal is the PSD.
    im_sum, abs_im_sum, phase_sum : ndarray or None
        Per-segment sums for wPLI and PLV.
    ch_names : list of str
    n_segments, n_tapers, n_rejected : int
    settings : dict
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

    @property
    def k(self) -> int:
        """Segments x tapers (the 1/K bias floor of MSC)."""
        return int(self.n_segments * self.n_tapers)

    def measure(self, measure: str = "msc") -> np.ndarray:
        """Per-bin measure ``(n_freqs, n_channels, n_channels)``."""
        measure = measure.lower()
        if measure not in MEASURES:
            raise AnalysisError(f"measure must be one of {sorted(MEASURES)}, got {measure!r}")
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
        norm[norm == 0] = np.inf  # flat channel: coherence 0, flagged elsewhere
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
    """The mean cross-spectrum of an :class:`~ketephys.spectral.fft.Accumulated`."""
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

    ``"all"``: every unordered pair once (``i < j`` in channel order), no self-pairs.
    A list of ``(a, b)`` names or indices: those pairs, in that order.
    A mapping ``{"PFC": [...], "HPC": [...]}``: every pair between channels of two
    different regions (regions in the mapping's order).
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


def coherence_rows(cross: CrossSpectrum, band: str | tuple[float, float] = "theta",
                   pairs: Any = "all", measure: str = "msc",
                   add_mean: bool = False) -> list[dict[str, Any]]:
    """Feature rows (one per pair) of a band-averaged coherence measure."""
    name, lo, hi = resolve_band(band)
    fmask = (cross.freqs >= lo) & (cross.freqs <= hi)
    if not fmask.any():
        raise AnalysisError(f"no cross-spectrum bin in {name} ({lo:g}-{hi:g} Hz); "
                            f"bins are {cross.freqs.round(3).tolist()}")
    per_bin = cross.measure(measure)[fmask]
    vals = per_bin.mean(axis=0)
    idx, regions = resolve_pairs(cross.ch_names, pairs)
    diag = np.real(np.einsum("fii->fi", cross.csd[fmask]))
    flat = np.any(diag <= 0, axis=0)
    rows = []
    k = cross.k
    fl_k = ["few_segments"] if k < 10 else []
    for (a, b), (ra, rb) in zip(idx, regions):
        flags = list(fl_k) + (["flat_channel"] if flat[a] or flat[b] else [])
        row = {"measure": f"{name}_{measure}", "channel": f"{cross.ch_names[a]}-{cross.ch_names[b]}",
               "value": float(vals[a, b]), "unit": MEASURES[measure], "flags": flags,
               "ch_a": cross.ch_names[a], "ch_b": cross.ch_names[b], "band_lo": lo,
               "band_hi": hi, "n_bins": int(fmask.sum()), "k": k,
               "n_segments": cross.n_segments, "n_tapers": cross.n_tapers,
               "method": cross.settings.get("method")}
        if ra is not None:
            row.update(region_a=ra, region_b=rb)
        rows.append(row)
    if add_mean and rows:
        groups: dict[str, list[float]] = {}
        for r in rows:
            key = f"{r['region_a']}-{r['region_b']}" if "region_a" in r else "mean"
            groups.setdefault(key, []).append(r["value"])
        for key, v in groups.items():
            rows.append({"measure": f"{name}_{measure}", "channel": key,
                         "value": float(np.mean(v)), "unit": MEASURES[measure],
                         "flags": list(fl_k), "band_lo": lo, "band_hi": hi,
                         "n_bins": int(fmask.sum()), "k": k, "n_pairs": len(v),
                         "n_segments": cross.n_segments, "n_tapers": cross.n_tapers})
    return rows


def coherence(
    rec: Recording | CrossSpectrum,
    band: str | tuple[float, float] = "theta",
    pairs: Any = "all",
    measure: str = "msc",
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    window: Any = "hann",
    bandwidth: float | None = None,
    picks: Any = None,
    reject: float | None = None,
    reject_by_annotation: bool = True,
    precision: str = "float64",
    add_mean: bool = False,
) -> pd.DataFrame:
    """Band-averaged coherence between channel pairs as a tidy feature table.

    Parameters
    ----------
    rec : Recording or CrossSpectrum
    band : str or (lo, hi)
        Preset name or Hz (edges inclusive).
    pairs : "all", list of (a, b) or {region: [channels]}
        See :func:`resolve_pairs`.
    measure : {"msc", "coh", "imcoh", "wpli", "plv"}
        See the module docstring; ``"msc"`` is ``|C|^2`` (scipy's convention).
    method, seg_len, overlap, window, bandwidth, reject, reject_by_annotation, precision
        See :class:`~ketephys.spectral.fft.SpectralSettings`.
    picks : channels, optional
    add_mean : bool
        Add the mean over pairs (channel ``"mean"``, or ``"PFC-HPC"`` per region pair).

    Returns
    -------
    pandas.DataFrame
        One row per pair: measure ``"{band}_{measure}"``, channel ``"A-B"``, value, and
        ``k`` (segments x tapers), ``n_bins``, band edges.
    """
    name, lo, hi = resolve_band(band)
    if isinstance(rec, CrossSpectrum):
        cross, recording, sett = rec, None, dict(rec.settings)
    else:
        settings = SpectralSettings(method=method, seg_len=seg_len, overlap=overlap,
                                    window=window, bandwidth=bandwidth, precision=precision,
                                    reject=reject, reject_by_annotation=reject_by_annotation)
        acc = accumulate(rec, settings, picks=picks, fmin=lo, fmax=hi, cross_band=(lo, hi),
                         per_segment=measure.lower() in _PER_SEGMENT)
        cross, recording, sett = cross_from_accumulated(acc), rec, dict(acc.settings)
    sett.update(band=[lo, hi], measure=measure, pairs=pairs if isinstance(pairs, str)
                else repr(pairs))
    rows = coherence_rows(cross, (lo, hi), pairs, measure, add_mean)
    for r in rows:
        r["measure"] = f"{name}_{measure}"
    modality = None
    if recording is not None:
        modality = "lfp" if "lfp" in recording.ch_types else "eeg"
    return feature_table(rows, recording=recording, modality=modality, settings=sett)
