"""Preprocessing users expect before spectral analysis.

* :func:`detect_line_noise`: 50 or 60 Hz line noise from a spectrum.
* :func:`channel_flags`: flat channels and channels of extreme variance, from a spectrum
  (no extra pass over the data: the summed PSD is the channel's variance).
* BAD annotations and an amplitude threshold are handled while streaming
  (:class:`~ketephys.spectral.fft.SpectralSettings` ``reject_by_annotation`` and
  ``reject``), segment by segment.
* :func:`notch`: zero-phase notch at the line frequency and harmonics (in memory).
* :func:`rereference`: average or bipolar montage as a lazy recording (streams).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import AnalysisError
from ..recording import Recording
from .psd import Spectrum

__all__ = ["detect_line_noise", "channel_flags", "flat_mask", "notch", "rereference",
           "FLAT_RELATIVE_POWER"]


def detect_line_noise(spectrum: Spectrum, candidates: Sequence[float] = (50.0, 60.0),
                      threshold: float = 5.0) -> float | None:
    """The mains frequency present in a spectrum, or ``None``.

    A candidate is present when the median over channels of the PSD at that frequency
    divided by the median PSD 3-8 Hz either side exceeds ``threshold``; the candidate with
    the largest ratio wins.

    Parameters
    ----------
    spectrum : Spectrum
        A PSD covering the candidates and 8 Hz either side.
    candidates : sequence of float
        Mains frequencies tried (Hz).
    threshold : float
        Smallest peak-to-neighbourhood PSD ratio that counts as line noise.

    Returns
    -------
    float or None
        The line frequency (Hz), or None when no candidate stands out.
    """
    f = spectrum.freqs
    best, best_ratio = None, threshold
    for c in candidates:
        if c > f[-1] or c < f[0]:
            continue
        i = int(np.argmin(np.abs(f - c)))
        around = (np.abs(f - c) >= 3) & (np.abs(f - c) <= 8)
        if not around.any():
            continue
        ref = np.median(spectrum.psd[:, around], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.nanmedian(spectrum.psd[:, i] / ref))
        if np.isfinite(ratio) and ratio > best_ratio:
            best, best_ratio = float(c), ratio
    return best


#: A channel with less than this fraction of the median channel's power is ``flat``.
FLAT_RELATIVE_POWER = 1e-8


def flat_mask(power: np.ndarray) -> np.ndarray:
    """True for channels whose power is negligible against the others'.

    A channel is flat when its power is not finite, is zero, or is below
    :data:`FLAT_RELATIVE_POWER` (-80 dB) times the median power of the channels: a
    channel stuck at a DC offset or a railed amplifier has power ~1e-40 V^2 from
    rounding alone, far below any recorded signal.

    Parameters
    ----------
    power : ndarray (n_channels,) or (n_freqs, n_channels)
        Power per channel (summed over the first axis when 2-D).

    Returns
    -------
    ndarray of bool (n_channels,)
    """
    p = np.asarray(power, float)
    if p.ndim == 2:
        p = p.sum(axis=0)
    bad = ~np.isfinite(p) | ~(p > 0)
    if (~bad).any():
        bad |= p < FLAT_RELATIVE_POWER * np.median(p[~bad])
    return bad


def channel_flags(spectrum: Spectrum, z_threshold: float = 5.0) -> dict[str, list[str]]:
    """Per-channel quality flags from a spectrum.

    Parameters
    ----------
    spectrum : Spectrum
        The PSD (its sum times the bin width is each channel's power in its range).
    z_threshold : float
        ``extreme_variance``: log total power more than this many robust z-scores
        (median absolute deviation) from the median of the channels (needs at least 4
        channels).

    Returns
    -------
    dict of str to list of str
        Channel name -> its flags: ``flat`` (negligible power against the other
        channels, :func:`flat_mask`) and/or ``extreme_variance``.
    """
    total = spectrum.psd.sum(axis=1) * spectrum.df
    flags: dict[str, list[str]] = {c: [] for c in spectrum.ch_names}
    flat = flat_mask(total)
    for c, is_flat in zip(spectrum.ch_names, flat):
        if is_flat:
            flags[c].append("flat")
    ok = ~flat
    if ok.sum() >= 4:
        lt = np.log10(total[ok])
        med = np.median(lt)
        mad = 1.4826 * np.median(np.abs(lt - med))
        if mad > 0:
            z = np.abs(lt - med) / mad
            for c, zz in zip(np.asarray(spectrum.ch_names)[ok], z):
                if zz > z_threshold:
                    flags[str(c)].append("extreme_variance")
    return flags


def notch(rec: Recording, line_freq: float = 50.0, harmonics: bool = True,
          quality: float = 30.0) -> Recording:
    """Zero-phase IIR notch at ``line_freq`` (and harmonics below Nyquist).

    Loads the data (filtering is not chunk-exact); the input is not modified.

    Parameters
    ----------
    rec : Recording
        A continuous recording.
    line_freq : float
        Mains frequency (Hz).
    harmonics : bool
        Also notch every harmonic below Nyquist.
    quality : float
        Quality factor of each notch (``scipy.signal.iirnotch``'s ``Q``).

    Returns
    -------
    Recording
        A filtered in-memory copy (all channels).

    Raises
    ------
    AnalysisError
        An episodic recording.
    """
    from scipy.signal import filtfilt, iirnotch

    if rec.is_episodic:
        raise AnalysisError("notch needs a continuous recording", rec.source.path)
    data = np.array(rec.data, dtype=float, copy=True)
    nyq = rec.sfreq / 2
    freqs = [line_freq * h for h in range(1, int(nyq // line_freq) + 1)] if harmonics \
        else [line_freq]
    for f0 in freqs:
        if f0 >= nyq:
            break
        b, a = iirnotch(f0, quality, rec.sfreq)
        data = filtfilt(b, a, data, axis=-1)
    return rec.copy(data=data)


class _Montage:
    """Lazy ``(n_out, n_times)`` view: ``matrix @ data`` read on demand."""

    def __init__(self, rec: Recording, matrix: np.ndarray, src: np.ndarray):
        self._rec = rec
        self._m = matrix
        self._src = src
        self.shape = (matrix.shape[0], rec.n_times)
        self.dtype = np.dtype(np.float64)
        self.ndim = 2

    def read(self, picks: np.ndarray, start: int, stop: int) -> np.ndarray:
        m = self._m[np.asarray(picks)]
        used = np.flatnonzero(np.any(m != 0, axis=0))
        block = self._rec.get_data(self._src[used].tolist(), start, stop)
        return m[:, used] @ block

    def __array__(self, dtype=None, copy=None):
        return self.read(np.arange(self.shape[0]), 0, self.shape[1])


def rereference(rec: Recording, ref: str | Sequence[tuple[str, str]] = "average",
                picks: Any = None) -> Recording:
    """Average reference, or a bipolar montage, as a lazy recording.

    Parameters
    ----------
    rec : Recording
        A continuous recording.
    ref : "average" or list of (str, str)
        ``"average"``: subtract the mean of the picked channels from each; a list of
        ``(anode, cathode)`` pairs: one channel ``"A-B"`` per pair.
    picks : str, int, list or None
        Channels re-referenced (and available to the pairs); default the eeg/lfp
        channels, else all.

    Returns
    -------
    Recording
        Re-references each block as it is read, so long recordings stream.

    Raises
    ------
    AnalysisError
        An episodic recording, fewer than 2 channels for an average, a pair channel not
        picked, or another string ``ref``.
    """
    if rec.is_episodic:
        raise AnalysisError("rereference needs a continuous recording", rec.source.path)
    if picks is None:
        types = [t for t in ("eeg", "lfp") if t in rec.ch_types]
        src = rec.pick_indices(types) if types else rec.pick_indices(None)
    else:
        src = rec.pick_indices(picks)
    n = src.size
    if isinstance(ref, str):
        if ref != "average":
            raise AnalysisError(f"ref must be 'average' or a list of pairs, got {ref!r}",
                                rec.source.path)
        if n < 2:
            raise AnalysisError("average reference needs at least 2 channels",
                                rec.source.path)
        matrix = np.eye(n) - 1.0 / n
        names = [rec.ch_names[i] for i in src]
    else:
        src_names = [rec.ch_names[i] for i in src]
        matrix = np.zeros((len(ref), n))
        names = []
        for r, (a, b) in enumerate(ref):
            for c, sign in ((a, 1.0), (b, -1.0)):
                if c not in src_names:
                    raise AnalysisError(f"bipolar channel {c!r} not among {src_names}",
                                        rec.source.path)
                matrix[r, src_names.index(c)] = sign
            names.append(f"{a}-{b}")
    types = [rec.ch_types[src[int(np.argmax(np.abs(row)))]] for row in matrix]
    units = [rec.units[src[int(np.argmax(np.abs(row)))]] for row in matrix]
    return Recording(_Montage(rec, matrix, src), rec.sfreq, names, ch_types=types,
                     units=units, events=rec.events.copy(), meta=rec.meta, source=rec.source)
