"""One-pass spectral engine: segments, windows/tapers, one rFFT per segment and taper,
accumulation of the PSD and of the cross-spectral matrix for a few band bins.

The recording is read in batches of segments through :meth:`Recording.get_data`, so a
lazy recording is streamed and the memory used does not grow with its duration. For
each batch the segments are de-meaned, tapered and transformed once; the PSD of every
channel is accumulated over the requested frequency range and, for the cross-spectrum
bins only, the all-pairs matrix ``sum_k w_k conj(X_a) X_b`` is accumulated with one
batched matrix product per batch.

Scaling (one-sided, V^2/Hz): every taper is normalised to unit energy and the taper
weights sum to one, so a segment's estimate is ``c(f) * sum_k w_k |FFT(x * v_k)|^2 / fs``
with ``c = 2`` except at DC (and Nyquist for an even length), where ``c = 1``. With one
Hann window this is ``scipy.signal.welch(scaling="density")``; with DPSS tapers weighted by
their eigenvalues it is MNE's ``psd_array_multitaper(adaptive=False,
normalization="full")``.

Cross-spectra follow scipy's convention ``S_ab = E[conj(X_a) X_b]`` (``scipy.signal.csd``),
whose phase sign is opposite to mne-connectivity's ``X_a conj(X_b)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import AnalysisError
from ..recording import Recording

__all__ = ["SpectralSettings", "Accumulated", "make_tapers", "segment_starts",
           "bad_intervals", "accumulate"]

_METHODS = ("welch", "multitaper")


@dataclass(frozen=True)
class SpectralSettings:
    """How spectra are estimated.

    Parameters
    ----------
    method : {"welch", "multitaper"}
        ``"welch"``: one window per segment (``window``). ``"multitaper"``: DPSS tapers per
        segment, weighted by their eigenvalues (non-adaptive), as MNE.
    seg_len : float or None
        Segment length in seconds (default 2 s); ``None`` = one segment over the whole
        recording (or window), as ``mne.time_frequency.psd_array_multitaper`` (this loads
        the whole span).
    overlap : float
        Fraction of overlap between consecutive segments (0 <= overlap < 1).
    window : str, tuple or array
        Welch window, anything ``scipy.signal.get_window`` takes (periodic), or an array of
        ``seg_len * sfreq`` samples (e.g. ``numpy.hanning(n)`` as mne-connectivity's
        ``fourier`` mode).
    bandwidth : float, optional
        Multitaper full bandwidth in Hz (MNE's ``bandwidth``); default a normalised
        half-bandwidth of 4.
    low_bias : bool
        Keep only tapers with eigenvalue > 0.9 (MNE's default).
    precision : {"float64", "float32"}
        Arithmetic of the FFTs; accumulation is always float64/complex128.
    reject : float, optional
        Drop segments whose peak-to-peak amplitude (V) on any picked channel exceeds this.
    reject_by_annotation : bool
        Drop segments overlapping events whose description starts with ``BAD`` (any case).
    batch_mb : float
        Memory budget for one batch of segments (MB).
    """

    method: str = "welch"
    seg_len: float | None = 2.0
    overlap: float = 0.5
    window: Any = "hann"
    bandwidth: float | None = None
    low_bias: bool = True
    precision: str = "float64"
    reject: float | None = None
    reject_by_annotation: bool = True
    batch_mb: float = 48.0

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise AnalysisError(f"method must be one of {_METHODS}, got {self.method!r}")
        if not 0.0 <= self.overlap < 1.0:
            raise AnalysisError(f"overlap must be in [0, 1), got {self.overlap}")
        if self.seg_len is not None and self.seg_len <= 0:
            raise AnalysisError(f"seg_len must be > 0 s, got {self.seg_len}")
        if self.precision not in ("float64", "float32"):
            raise AnalysisError(f"precision must be float64 or float32, got {self.precision!r}")

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain values (for tables and the settings hash)."""
        out = asdict(self)
        if isinstance(self.window, np.ndarray):
            out["window"] = f"array[{self.window.size}]"
        out.pop("batch_mb")
        return out


@dataclass
class Accumulated:
    """Sums over the used segments (divide by ``n_segments`` for means).

    ``psd`` and ``csd`` are already in V^2/Hz per segment (one-sided); ``im_sum``,
    ``abs_im_sum`` and ``phase_sum`` are the per-segment sums that wPLI and PLV need.
    """

    freqs: np.ndarray
    psd_sum: np.ndarray
    cross_freqs: np.ndarray
    csd_sum: np.ndarray | None
    im_sum: np.ndarray | None
    abs_im_sum: np.ndarray | None
    phase_sum: np.ndarray | None
    n_segments: int
    n_rejected: int
    n_tapers: int
    nperseg: int
    sfreq: float
    ch_names: list[str]
    settings: dict[str, Any] = field(default_factory=dict)


def segment_starts(n_times: int, nperseg: int, step: int) -> np.ndarray:
    """Start samples of the segments (as ``scipy.signal.welch``: no padding)."""
    if n_times < nperseg:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_times - nperseg + 1, step, dtype=np.int64)


def make_tapers(nperseg: int, sfreq: float, settings: SpectralSettings
                ) -> tuple[np.ndarray, np.ndarray]:
    """Unit-energy tapers ``(K, nperseg)`` and weights ``(K,)`` summing to one."""
    if settings.method == "welch":
        if isinstance(settings.window, np.ndarray):
            win = np.asarray(settings.window, dtype=float)
            if win.shape != (nperseg,):
                raise AnalysisError(f"window has {win.size} samples, segments {nperseg}")
        elif isinstance(settings.window, str) and settings.window in ("hann", "hanning"):
            # periodic Hann, as scipy.signal.get_window("hann", n) (avoids importing
            # scipy.signal, ~1 s)
            win = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(nperseg) / nperseg)
        else:
            from scipy.signal import get_window

            win = get_window(settings.window, nperseg)
        norm = math.sqrt(float(np.sum(win ** 2)))
        return (win / norm)[np.newaxis], np.ones(1)
    from scipy.signal.windows import dpss

    half_nbw = 4.0 if settings.bandwidth is None else \
        float(settings.bandwidth) * nperseg / (2.0 * sfreq)
    if half_nbw < 0.5:
        raise AnalysisError(f"multitaper bandwidth {settings.bandwidth} Hz is below the "
                            f"resolution {sfreq / nperseg:.3g} Hz of {nperseg}-sample segments")
    kmax = int(2 * half_nbw)
    tapers, eig = dpss(nperseg, half_nbw, kmax, sym=False, norm=2, return_ratios=True)
    tapers, eig = np.atleast_2d(tapers), np.atleast_1d(eig)
    if settings.low_bias:
        keep = eig > 0.9
        if not keep.any():
            keep = eig == eig.max()
        tapers, eig = tapers[keep], eig[keep]
    return tapers, eig / eig.sum()


def bad_intervals(rec: Recording, sweep: int | None = None) -> np.ndarray:
    """``(n, 2)`` start/stop samples of events whose description starts with BAD (of
    ``sweep`` when given: onsets then count from that sweep's start)."""
    ev = rec.events
    if ev is None or not len(ev):
        return np.zeros((0, 2), dtype=np.int64)
    bad = ev[ev["description"].str.upper().str.startswith("BAD")]
    if sweep is not None:
        bad = bad[bad["sweep"].fillna(-1).astype(int) == sweep]
    if not len(bad):
        return np.zeros((0, 2), dtype=np.int64)
    on = np.floor(bad["onset"].to_numpy(float) * rec.sfreq).astype(np.int64)
    off = np.ceil((bad["onset"].to_numpy(float) + bad["duration"].to_numpy(float))
                  * rec.sfreq).astype(np.int64)
    return np.column_stack([on, np.maximum(off, on + 1)])


def _one_sided_factor(freq_idx: np.ndarray, nperseg: int) -> np.ndarray:
    fac = np.full(freq_idx.shape, 2.0)
    fac[freq_idx == 0] = 1.0
    if nperseg % 2 == 0:
        fac[freq_idx == nperseg // 2] = 1.0
    return fac


def _hann_bins(spec: np.ndarray, a: int, b: int, n: int, scale: float) -> np.ndarray:
    """Bins ``a:b`` of the FFT of the de-meaned segment times a unit-energy periodic
    Hann window, from the FFT ``spec`` of the raw segment (last axis).

    The periodic Hann window is ``0.5 - 0.5 cos(2 pi t / n)``, so its product with the
    segment transforms to ``0.5 X[k] - 0.25 (X[k-1] + X[k+1])``; removing the mean zeroes
    ``X[0]``. Bins beyond the one-sided range come from ``X[n-k] = conj(X[k])``.
    """
    k = np.arange(a - 1, b + 1)
    src = np.abs(k)
    over = src > n // 2
    src = np.where(over, n - src, src)
    ext = spec[..., src]
    flip = (k < 0) | over
    if flip.any():
        ext[..., flip] = ext[..., flip].conj()
    ext[..., src == 0] = 0.0
    return (0.5 * ext[..., 1:-1] - 0.25 * (ext[..., :-2] + ext[..., 2:])) * scale


def accumulate(
    rec: Recording,
    settings: SpectralSettings,
    picks: Any = None,
    fmin: float = 0.0,
    fmax: float = np.inf,
    cross_band: tuple[float, float] | None = None,
    per_segment: bool = False,
    start: int = 0,
    stop: int | None = None,
) -> Accumulated:
    """Stream ``rec`` once and accumulate the PSD over ``[fmin, fmax]`` and, when
    ``cross_band`` is given, the cross-spectral matrix over its bins (edges inclusive).

    Parameters
    ----------
    rec : Recording
        Continuous recording (may be lazy).
    settings : SpectralSettings
    picks : channels, optional
    fmin, fmax : float
        PSD frequency range (Hz, inclusive).
    cross_band : (lo, hi), optional
        Frequencies of the cross-spectral matrix (Hz, inclusive).
    per_segment : bool
        Also accumulate the per-segment sums wPLI and PLV need.
    start, stop : int
        Sample range to analyse (segments start at ``start``).

    Returns
    -------
    Accumulated
    """
    path = rec.source.path
    idx = rec.pick_indices(rec.default_picks() if picks is None else picks)
    if idx.size == 0:
        raise AnalysisError("no channels picked", path)
    stop = rec.n_times if stop is None else min(int(stop), rec.n_times)
    start = max(int(start), 0)
    n_span = stop - start
    sf = rec.sfreq
    nperseg = n_span if settings.seg_len is None else int(round(settings.seg_len * sf))
    if nperseg < 2 or nperseg > n_span:
        raise AnalysisError(
            f"segments of {nperseg} samples do not fit {n_span} samples "
            f"({n_span / sf:.3g} s) of data", path)
    # overlap in samples rounds down, as scipy's noverlap = nperseg // 2 for 50 %
    step = max(1, nperseg - int(math.floor(settings.overlap * nperseg)))
    starts = segment_starts(n_span, nperseg, step) + start
    tapers, weights = make_tapers(nperseg, sf, settings)
    n_tap = tapers.shape[0]
    freqs_all = np.fft.rfftfreq(nperseg, 1.0 / sf)
    psd_idx = np.flatnonzero((freqs_all >= fmin) & (freqs_all <= fmax))
    if psd_idx.size == 0:
        raise AnalysisError(f"no frequency bin in [{fmin}, {fmax}] Hz at resolution "
                            f"{sf / nperseg:.3g} Hz", path)
    if cross_band is not None:
        cb_idx = np.flatnonzero((freqs_all >= cross_band[0]) & (freqs_all <= cross_band[1]))
        if cb_idx.size == 0:
            raise AnalysisError(f"no frequency bin in the band {cross_band} Hz at "
                                f"resolution {sf / nperseg:.3g} Hz", path)
    else:
        cb_idx = np.zeros(0, dtype=int)
    # episodic data (epochs, sweeps): segments within each sweep, never across sweeps
    sweeps: list[int | None] = list(range(rec.n_sweeps)) if rec.is_episodic else [None]
    whole = rec.get_data(idx.tolist(), start, stop) if rec.is_episodic else None
    n_rejected = 0

    dtype = np.float32 if settings.precision == "float32" else np.float64
    ctype = np.complex64 if dtype is np.float32 else np.complex128
    tap = tapers.astype(dtype)
    sqw = np.sqrt(weights).astype(dtype)
    n_ch = idx.size
    n_cb = cb_idx.size
    psd_sum = np.zeros((n_ch, psd_idx.size))
    csd_sum = np.zeros((n_cb, n_ch, n_ch), np.complex128) if n_cb else None
    im_sum = abs_im_sum = phase_sum = None
    if n_cb and per_segment:
        im_sum = np.zeros((n_cb, n_ch, n_ch))
        abs_im_sum = np.zeros((n_cb, n_ch, n_ch))
        phase_sum = np.zeros((n_cb, n_ch, n_ch), np.complex128)
    # batch size from the memory budget: block + tapered copy + spectrum per segment
    per_seg = n_ch * (nperseg * (3 * np.dtype(dtype).itemsize) + freqs_all.size * 16)
    if per_segment and n_cb:
        per_seg += n_cb * n_ch * n_ch * 16
    batch = max(1, int(settings.batch_mb * 2 ** 20 // per_seg))
    from scipy.fft import rfft

    # index ranges are contiguous: slices, no fancy-index copies
    p0, p1 = int(psd_idx[0]), int(psd_idx[-1]) + 1
    c0, c1 = (int(cb_idx[0]), int(cb_idx[-1]) + 1) if n_cb else (0, 0)
    # the mean of a segment is removed in the frequency domain on the kept bins only:
    # FFT((x - m) v) = FFT(x v) - m FFT(v) (exact; saves a pass over the data)
    tap_fft = rfft(tapers, axis=-1)
    wp = tap_fft[:, p0:p1].astype(ctype)
    wc = tap_fft[:, c0:c1].astype(ctype)
    hann_fast = (settings.method == "welch" and isinstance(settings.window, str)
                 and settings.window in ("hann", "hanning"))
    inv_norm = 1.0 / math.sqrt(float(np.sum(
        (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(nperseg) / nperseg)) ** 2)))
    n_used = 0
    picks_list = idx.tolist()
    buf = None
    for sweep in sweeps:
        # segments excluded by BAD annotations (of this sweep when episodic)
        keep = np.ones(starts.size, bool)
        if settings.reject_by_annotation:
            for on, off in bad_intervals(rec, sweep):
                keep &= ~((starts < off) & (starts + nperseg > on))
        n_rejected += int((~keep).sum())
        i = 0
        while i < starts.size:
            j = min(i + batch, starts.size)
            sel = keep[i:j]
            offs = starts[i:j][sel]
            i = j
            if offs.size == 0:
                continue
            s0 = int(offs[0])
            if whole is None:
                block = rec.get_data(picks_list, s0, int(offs[-1]) + nperseg)
            else:
                block = whole[sweep, :, s0 - start:int(offs[-1]) + nperseg - start]
            block = np.asarray(block, dtype=dtype)
            offs = offs - s0
            view = np.lib.stride_tricks.sliding_window_view(block, nperseg, axis=-1)
            if offs.size == 1 or np.all(np.diff(offs) == step):
                segs = view[:, offs[0]:offs[-1] + 1:step]          # strided view, no copy
            else:
                segs = view[:, offs]
            if settings.reject is not None:
                ptp = segs.max(axis=-1) - segs.min(axis=-1)        # (n_ch, nb)
                ok = np.all(ptp <= settings.reject, axis=0)
                n_rejected += int((~ok).sum())
                if not ok.all():
                    segs = segs[:, ok]
                if segs.shape[1] == 0:
                    continue
            nb = segs.shape[1]
            n_used += nb
            if not hann_fast:
                means = segs.mean(axis=-1)[..., np.newaxis]        # (n_ch, nb, 1)
                if buf is None or buf.shape != segs.shape:
                    buf = np.empty(segs.shape, dtype)
            ys = np.empty((n_tap, n_ch, nb, n_cb), ctype) if n_cb else None
            if hann_fast:
                # periodic Hann applied in the frequency domain (3 taps) on the kept bins
                spec = rfft(segs, axis=-1)
                sub = _hann_bins(spec, p0, p1, nperseg, inv_norm)
                psd_sum += np.sum(sub.real ** 2 + sub.imag ** 2, axis=1)
                if n_cb:
                    ys[0] = _hann_bins(spec, c0, c1, nperseg, inv_norm)
                del spec, sub
            for k in range(0 if hann_fast else n_tap):
                np.multiply(segs, tap[k], out=buf)
                spec = rfft(buf, axis=-1)                          # (n_ch, nb, n_f)
                sub = spec[..., p0:p1] - means * wp[k]
                psd_sum += weights[k] * np.sum(sub.real ** 2 + sub.imag ** 2, axis=1)
                if n_cb:
                    ys[k] = (spec[..., c0:c1] - means * wc[k]) * sqw[k]
                del spec, sub
            if n_cb:
                # (n_cb, n_ch, K * nb) -> conj(Z) @ Z^T : sum over tapers and segments
                z = np.ascontiguousarray(ys.transpose(3, 1, 0, 2)).reshape(n_cb, n_ch, n_tap * nb)
                csd_sum += np.matmul(z.conj(), z.transpose(0, 2, 1))
                if per_segment:
                    # per segment: (n_cb, nb, n_ch, K) -> (n_cb, nb, n_ch, n_ch)
                    zs = ys.transpose(3, 2, 1, 0)
                    p = np.matmul(zs.conj(), zs.transpose(0, 1, 3, 2)).astype(np.complex128)
                    im = p.imag
                    im_sum += im.sum(axis=1)
                    abs_im_sum += np.abs(im).sum(axis=1)
                    mag = np.abs(p)
                    mag[mag == 0] = 1.0
                    phase_sum += (p / mag).sum(axis=1)
            del segs, block, view
    if n_used == 0:
        raise AnalysisError(f"no segment left after rejection ({n_rejected} of "
                            f"{starts.size} segments rejected)", path)
    fac = _one_sided_factor(psd_idx, nperseg) / sf
    psd_sum *= fac
    if n_cb:
        cfac = _one_sided_factor(cb_idx, nperseg) / sf
        csd_sum *= cfac[:, None, None]
    sett = settings.to_dict()
    sett.update(nperseg=nperseg, step=step, n_tapers=n_tap, modality=rec.modality)
    return Accumulated(
        freqs=freqs_all[psd_idx], psd_sum=psd_sum, cross_freqs=freqs_all[cb_idx],
        csd_sum=csd_sum, im_sum=im_sum, abs_im_sum=abs_im_sum, phase_sum=phase_sum,
        n_segments=n_used, n_rejected=n_rejected, n_tapers=n_tap, nperseg=nperseg,
        sfreq=sf, ch_names=[rec.ch_names[c] for c in idx], settings=sett)
