"""Power spectral density of a recording: :func:`psd` and the :class:`Spectrum` result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._result import ResultMixin, channel_indices, compact_recording, short
from ..recording import Recording
from ..settings import check_keywords
from .fft import Accumulated, SpectralSettings, accumulate

__all__ = ["Spectrum", "psd", "spectrum_from_accumulated"]


@fill_doc
@dataclass(repr=False)
class Spectrum(ResultMixin):
    """One-sided PSD per channel.

    The result surface is MNE's: :meth:`get_data`, :meth:`to_data_frame`, :meth:`plot`,
    :meth:`copy` and a short repr.

    Attributes
    ----------
    freqs : ndarray, shape (n_freqs,)
        Hz.
    psd : ndarray, shape (n_channels, n_freqs)
        V^2/Hz (or unit^2/Hz for non-voltage channels), one-sided.
    ch_names : list of str
    n_segments : int
        Segments averaged (after rejection).
    n_tapers : int
        Tapers per segment (1 for Welch).
    n_rejected : int
        Segments dropped (BAD annotations, amplitude threshold).
    settings : dict
        Estimation settings (method, seg_len, overlap, window, bandwidth, nperseg...).
    units : list of str
        Unit of each channel's PSD (``"V^2/Hz"``).
    recording : RecordingInfo or None
        Metadata and source of the recording analysed (a
        :class:`~ketephys._result.RecordingInfo`: no samples, so the result stays small).
    """

    freqs: np.ndarray
    psd: np.ndarray
    ch_names: list[str]
    n_segments: int
    n_tapers: int
    n_rejected: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    units: list[str] = field(default_factory=list)
    recording: Any = None

    def __post_init__(self) -> None:
        self.recording = compact_recording(self.recording)

    @property
    def k(self) -> int:
        """Independent estimates averaged: segments x tapers (overlap ignored)."""
        return int(self.n_segments * self.n_tapers)

    @property
    def df(self) -> float:
        """Frequency resolution (Hz)."""
        return float(self.settings["sfreq"] / self.settings["nperseg"])

    def get_data(self, picks: Any = None, fmin: float | None = None,
                 fmax: float | None = None, return_freqs: bool = False) -> Any:
        """The PSD values (as MNE's ``Spectrum.get_data``).

        Parameters
        ----------
        picks : str, int or list, optional
            Channel names or indices (default all).
        fmin, fmax : float, optional
            Frequency range kept (Hz, inclusive).
        return_freqs : bool
            Also return the frequencies.

        Returns
        -------
        data : ndarray, shape (n_picks, n_freqs)
            In :attr:`units` (V^2/Hz for voltage channels).
        freqs : ndarray
            Only with ``return_freqs=True``.
        """
        keep = np.ones(self.freqs.size, bool)
        if fmin is not None:
            keep &= self.freqs >= fmin
        if fmax is not None:
            keep &= self.freqs <= fmax
        data = self.psd[channel_indices(self.ch_names, picks)][:, keep]
        return (data, self.freqs[keep]) if return_freqs else data

    def to_data_frame(self, long_format: bool = True) -> pd.DataFrame:
        """The PSD as a table.

        Parameters
        ----------
        long_format : bool
            True: one row per channel and frequency (``channel``, ``freq`` in Hz, ``psd``,
            ``unit``, ``k``, ``method``); False: a ``freq`` column and one column per
            channel.

        Returns
        -------
        pandas.DataFrame
        """
        n_ch, n_f = self.psd.shape
        if not long_format:
            wide = pd.DataFrame(self.psd.T, columns=list(self.ch_names))
            wide.insert(0, "freq", self.freqs)
            return wide
        return pd.DataFrame({
            "channel": np.repeat(self.ch_names, n_f),
            "freq": np.tile(self.freqs, n_ch),
            "psd": self.psd.ravel(),
            "unit": np.repeat(self.units or ["V^2/Hz"] * n_ch, n_f),
            "k": self.k,
            "method": self.settings.get("method"),
        })

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`to_data_frame` (the older name, kept for scripts).

        Returns
        -------
        pandas.DataFrame
            One row per channel and frequency.
        """
        return self.to_data_frame()

    def plot(self, picks: Any = None, average: bool = False,
             bands: Any = ("theta", "gamma"), show: bool | None = None) -> Any:
        """PSD per channel (or the channel mean), log axes, bands shaded.

        Parameters
        ----------
        picks : str, int or list, optional
            Channels (default all; more than 12 are drawn as their mean and spread).
        average : bool
            Draw the channel mean even for few channels.
        bands : sequence of str or (lo, hi), or None
            Bands to shade (presets of :data:`~ketephys.spectral.bands.BANDS`).
        %(show)s

        %(returns_figure)s
        """
        from ..viz.spectral import plot_spectrum
        from .bands import resolve_band

        shaded = {n: (lo, hi) for n, lo, hi in map(resolve_band, bands or ())}
        names = [self.ch_names[i] for i in channel_indices(self.ch_names, picks)]
        return plot_spectrum(self, names, average, shaded, show)

    def _repr_parts(self) -> list[str]:
        f = self.freqs
        span = f"{f.min():g}-{f.max():g} Hz" if f.size else "no bins"
        return [f"{self.settings.get('method', '?')} PSD",
                f"{len(self.ch_names)} ch x {f.size} freqs ({span})",
                f"unit {short(sorted(set(self.units)) or ['V^2/Hz'])}",
                f"K={self.k} ({self.n_rejected} rejected)",
                f"from {self.recording!r}" if self.recording is not None else "no source"]


def _psd_units(rec: Recording, names: list[str]) -> list[str]:
    return [f"{rec.units[rec.ch_names.index(c)] or 'a.u.'}^2/Hz" for c in names]


def spectrum_from_accumulated(acc: Accumulated, rec: Recording | None = None) -> Spectrum:
    """The mean PSD of an :class:`~ketephys.spectral.fft.Accumulated`.

    Parameters
    ----------
    acc : Accumulated
        Sums of one :func:`~ketephys.spectral.fft.accumulate` pass.
    rec : Recording, optional
        The recording analysed: gives the units (``unit^2/Hz`` per channel) and is kept
        as the spectrum's compact :attr:`Spectrum.recording`; None: ``V^2/Hz``.

    Returns
    -------
    Spectrum
    """
    sett = dict(acc.settings)
    sett["sfreq"] = acc.sfreq
    units = _psd_units(rec, acc.ch_names) if rec is not None else ["V^2/Hz"] * len(acc.ch_names)
    return Spectrum(freqs=acc.freqs, psd=acc.psd_sum / acc.n_segments, ch_names=acc.ch_names,
                    n_segments=acc.n_segments, n_tapers=acc.n_tapers,
                    n_rejected=acc.n_rejected, settings=sett, units=units, recording=rec)


@check_keywords()
@fill_doc
def psd(
    rec: Recording,
    fmin: float = 0.0,
    fmax: float = np.inf,
    picks: Any = None,
    *,
    start: float | None = None,
    stop: float | None = None,
    method: str = "welch",
    seg_len: float | None = 2.0,
    overlap: float = 0.5,
    window: Any = "hann",
    bandwidth: float | None = None,
    low_bias: bool = True,
    precision: str = "float64",
    reject: float | None = None,
    reject_by_annotation: bool = True,
) -> Spectrum:
    """Power spectral density (V^2/Hz, one-sided), streamed over the recording.

    Welch follows ``scipy.signal.welch`` defaults (periodic Hann window, mean removed per
    segment, ``nperseg = seg_len * sfreq``, ``noverlap = floor(overlap * nperseg)``, no
    padding, mean over segments). ``method="multitaper"`` uses DPSS tapers with
    eigenvalue weights as MNE's ``psd_array_multitaper(adaptive=False,
    normalization="full")``; with ``seg_len=None`` it is that function on the whole span.
    An episodic recording (epochs, sweeps) is segmented within each sweep and never
    across sweeps; ``seg_len=None`` then takes each sweep as one segment (the
    mne-connectivity ``spectral_connectivity_epochs`` semantics).

    Parameters
    ----------
    rec : Recording
        Continuous or episodic recording (may be lazy: it is read in batches).
    fmin, fmax : float
        Frequency range kept (Hz, inclusive).
    %(picks)s
    start, stop : float, optional
        Analyse only this span (s from the recording start).
    %(spectral_settings)s

    Returns
    -------
    Spectrum
        The mean PSD over the segments kept, with the settings used.

    Raises
    ------
    AnalysisError
        No channel picked, segments longer than the span, no frequency bin in the range,
        or every segment rejected.
    SettingsError
        An unknown keyword or a bad value (``method``, ``precision``).
    """
    settings = SpectralSettings(method=method, seg_len=seg_len, overlap=overlap,
                                window=window, bandwidth=bandwidth, low_bias=low_bias,
                                precision=precision, reject=reject,
                                reject_by_annotation=reject_by_annotation)
    s0 = 0 if start is None else int(round(start * rec.sfreq))
    s1 = None if stop is None else int(round(stop * rec.sfreq))
    acc = accumulate(rec, settings, picks=picks, fmin=fmin, fmax=fmax, start=s0, stop=s1)
    return spectrum_from_accumulated(acc, rec)
