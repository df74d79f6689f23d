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

from .._check import check_option
from .._docs import fill_doc
from ..errors import AnalysisError
from ..recording import Recording

__all__ = ["SpectralSettings", "Accumulated", "make_tapers", "segment_starts",
           "bad_intervals", "accumulate"]

_METHODS = ("welch", "multitaper")


@fill_doc
@dataclass(frozen=True)
class SpectralSettings:
    """How spectra are estimated.

    Parameters
    ----------
    %(spectral_settings)s
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
        check_option("method", self.method, _METHODS)
        if not 0.0 <= self.overlap < 1.0:
            raise AnalysisError(f"overlap must be in [0, 1), got {self.overlap}")
        if self.seg_len is not None and self.seg_len <= 0:
            raise AnalysisError(f"seg_len must be > 0 s, got {self.seg_len}")
        check_option("precision", self.precision, ("float64", "float32"))

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain values (for tables and the settings hash).

        Returns
        -------
        dict
            Every field but ``batch_mb``; an array ``window`` becomes
            ``"array[n]"``.
        """
        out = asdict(self)
        if isinstance(self.window, np.ndarray):
            out["window"] = f"array[{self.window.size}]"
        out.pop("batch_mb")
        return out


@dataclass
class Accumulated:
    """Sums over the used segments (divide by ``n_segments`` for means).

    Attributes
    ----------
    freqs : ndarray, shape (n_freqs,)
        Frequencies of the PSD bins (Hz).
    psd_sum : ndarray, shape (n_channels, n_freqs)
        Sum over segments of the one-sided PSD (V^2/Hz per segment).
    cross_freqs : ndarray, shape (n_cross,)
        Frequencies of the cross-spectrum bins (Hz; empty without ``cross_band``).
    csd_sum : ndarray, shape (n_cross, n_channels, n_channels), or None
        Sum over segments of the one-sided cross-spectra (V^2/Hz per segment).
    im_sum, abs_im_sum, phase_sum : ndarray or None
        The per-segment sums wPLI and PLV need (imaginary part, its absolute value, unit
        phase factor of each segment's cross-spectrum).
    n_segments, n_rejected : int
        Segments summed and segments dropped.
    n_tapers : int
        Tapers per segment.
    nperseg : int
        Samples per segment.
    sfreq : float
        Sampling rate (Hz).
    ch_names : list of str
        Channels, in the order of the rows.
    settings : dict
        :meth:`SpectralSettings.to_dict` plus ``nperseg``, ``step``, ``n_tapers`` and
        ``modality``.
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
    """Start samples of the segments (as ``scipy.signal.welch``: no padding).

    Parameters
    ----------
    n_times : int
        Samples of the span.
    nperseg : int
        Samples per segment.
    step : int
        Samples between segment starts.

    Returns
    -------
    ndarray of int64
        Starts of the complete segments (empty when the span is shorter than one).
    """
    if n_times < nperseg:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_times - nperseg + 1, step, dtype=np.int64)


def make_tapers(nperseg: int, sfreq: float, settings: SpectralSettings
                ) -> tuple[np.ndarray, np.ndarray]:
    """Unit-energy tapers and their weights.

    Parameters
    ----------
    nperseg : int
        Samples per segment.
    sfreq : float
        Sampling rate (Hz; converts a multitaper ``bandwidth`` to a half-bandwidth).
    settings : SpectralSettings
        Method, window, bandwidth and ``low_bias``.

    Returns
    -------
    tapers : ndarray, shape (K, nperseg)
        Unit-energy tapers (one Welch window, or the kept DPSS tapers).
    weights : ndarray, shape (K,)
        Weights summing to one (eigenvalue weights for DPSS).

    Raises
    ------
    AnalysisError
        An array window of the wrong length, or a bandwidth below the resolution.
    """
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
    """The spans of events whose description starts with BAD (any case).

    Parameters
    ----------
    rec : Recording
        The recording whose events are read.
    sweep : int, optional
        Only events of this sweep (onsets then count from that sweep's start).

    Returns
    -------
    ndarray of int64, shape (n, 2)
        Start and stop samples (stop at least start + 1).
    """
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
    if a >= 2 and b + 1 <= n // 2:  # inside the one-sided range, away from DC: slices
        return (0.5 * spec[..., a:b]
                - 0.25 * (spec[..., a - 1:b - 1] + spec[..., a + 1:b + 1])) * scale
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


@fill_doc
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
        Continuous or episodic recording (may be lazy).
    settings : SpectralSettings
        How the spectra are estimated.
    %(picks)s
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

    Notes
    -----
    One pass: :func:`_accepted_batches` yields batches of accepted segments (read in
    blocks bounded by ``settings.batch_mb``), :class:`_Transform` tapers and transforms
    each batch once, and the reducers (:class:`_PsdSum`, :class:`_CrossSum`,
    :class:`_PerSegmentSum`) add it to their sums.
    """
    plan = _plan(rec, settings, picks, fmin, fmax, cross_band, per_segment, start, stop)
    psd = _PsdSum(plan)
    cross = _CrossSum(plan) if plan.n_cb else None
    per_seg = _PerSegmentSum(plan) if plan.n_cb and per_segment else None
    transform = _Transform(plan, settings)
    count = _Count()
    for segs in _accepted_batches(rec, plan, settings, count):
        ys = np.empty((plan.n_tap, plan.n_ch, segs.shape[1], plan.n_cb), plan.ctype) \
            if cross is not None else None
        for k, sub, y_cross in transform(segs, want_cross=cross is not None):
            psd.add(sub, None if transform.hann_fast else plan.weights[k])
            if ys is not None:
                ys[k] = y_cross
            del sub, y_cross
        if cross is not None:
            cross.add(ys)
        if per_seg is not None:
            per_seg.add(ys)
    if count.used == 0:
        raise AnalysisError(f"no segment left after rejection ({count.rejected} of "
                            f"{plan.starts.size} segments rejected)", rec.source.path)
    if cross is not None:
        cross.scale()
    sett = settings.to_dict()
    sett.update(nperseg=plan.nperseg, step=plan.step, n_tapers=plan.n_tap,
                modality=rec.modality)
    return Accumulated(
        freqs=plan.freqs_all[plan.psd_idx], psd_sum=psd.result(),
        cross_freqs=plan.freqs_all[plan.cb_idx],
        csd_sum=None if cross is None else cross.csd_sum,
        im_sum=None if per_seg is None else per_seg.im_sum,
        abs_im_sum=None if per_seg is None else per_seg.abs_im_sum,
        phase_sum=None if per_seg is None else per_seg.phase_sum,
        n_segments=count.used, n_rejected=count.rejected, n_tapers=plan.n_tap,
        nperseg=plan.nperseg, sfreq=plan.sfreq,
        ch_names=[rec.ch_names[c] for c in plan.idx], settings=sett)


@dataclass
class _Count:
    """Segments used and rejected so far."""

    used: int = 0
    rejected: int = 0


@dataclass
class _Plan:
    """The geometry of one :func:`accumulate` pass: channels, sample range, segments,
    tapers, frequency bins, precision and batch size."""

    idx: np.ndarray
    start: int
    stop: int
    sfreq: float
    nperseg: int
    step: int
    starts: np.ndarray
    tapers: np.ndarray
    weights: np.ndarray
    freqs_all: np.ndarray
    psd_idx: np.ndarray
    cb_idx: np.ndarray
    dtype: Any
    ctype: Any
    batch: int

    @property
    def n_ch(self) -> int:
        return self.idx.size

    @property
    def n_tap(self) -> int:
        return self.tapers.shape[0]

    @property
    def n_cb(self) -> int:
        return self.cb_idx.size


def _plan(rec: Recording, settings: SpectralSettings, picks: Any, fmin: float, fmax: float,
          cross_band: tuple[float, float] | None, per_segment: bool, start: int,
          stop: int | None) -> _Plan:
    """Check the request against the recording and lay out the pass."""
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
    tapers, weights = make_tapers(nperseg, sf, settings)
    freqs_all = np.fft.rfftfreq(nperseg, 1.0 / sf)
    psd_idx = _band_bins(freqs_all, (fmin, fmax), f"[{fmin}, {fmax}] Hz", sf, nperseg, path)
    cb_idx = np.zeros(0, dtype=int) if cross_band is None else _band_bins(
        freqs_all, cross_band, f"the band {cross_band} Hz", sf, nperseg, path)
    dtype = np.float32 if settings.precision == "float32" else np.float64
    # batch size from the memory budget: block + tapered copy + spectrum per segment
    per_seg = idx.size * (nperseg * (3 * np.dtype(dtype).itemsize) + freqs_all.size * 16)
    if per_segment and cb_idx.size:
        per_seg += cb_idx.size * idx.size * idx.size * 16
    return _Plan(idx=idx, start=start, stop=stop, sfreq=sf, nperseg=nperseg, step=step,
                 starts=segment_starts(n_span, nperseg, step) + start, tapers=tapers,
                 weights=weights, freqs_all=freqs_all, psd_idx=psd_idx, cb_idx=cb_idx,
                 dtype=dtype, ctype=np.complex64 if dtype is np.float32 else np.complex128,
                 batch=max(1, int(settings.batch_mb * 2 ** 20 // per_seg)))


def _band_bins(freqs_all: np.ndarray, band: tuple[float, float], what: str, sf: float,
               nperseg: int, path) -> np.ndarray:
    """Indices of the bins within ``band`` (inclusive); an error when there is none."""
    bins = np.flatnonzero((freqs_all >= band[0]) & (freqs_all <= band[1]))
    if bins.size == 0:
        raise AnalysisError(f"no frequency bin in {what} at resolution "
                            f"{sf / nperseg:.3g} Hz", path)
    return bins


def _accepted_batches(rec: Recording, plan: _Plan, settings: SpectralSettings,
                      count: _Count):
    """Batches ``(n_ch, nb, nperseg)`` of the segments that pass the rejections, read
    batch by batch (episodic data: within each sweep, never across sweeps). Counts the
    used and rejected segments in ``count``."""
    # episodic data (epochs, sweeps): segments within each sweep, never across sweeps
    sweeps: list[int | None] = list(range(rec.n_sweeps)) if rec.is_episodic else [None]
    whole = rec.get_data(plan.idx.tolist(), plan.start, plan.stop) if rec.is_episodic \
        else None
    for sweep in sweeps:
        keep = _annotation_keep(rec, plan, settings, sweep)
        count.rejected += int((~keep).sum())
        for i in range(0, plan.starts.size, plan.batch):
            offs = plan.starts[i:i + plan.batch][keep[i:i + plan.batch]]
            if offs.size == 0:
                continue
            segs = _segments(rec, plan, whole, sweep, offs, plan.dtype)
            if settings.reject is not None:
                ptp = segs.max(axis=-1) - segs.min(axis=-1)        # (n_ch, nb)
                ok = np.all(ptp <= settings.reject, axis=0)
                count.rejected += int((~ok).sum())
                if not ok.all():
                    segs = segs[:, ok]
                if segs.shape[1] == 0:
                    continue
            count.used += segs.shape[1]
            yield segs
            del segs


def _annotation_keep(rec: Recording, plan: _Plan, settings: SpectralSettings,
                     sweep: int | None) -> np.ndarray:
    """Which segments no BAD annotation (of ``sweep`` when episodic) overlaps."""
    keep = np.ones(plan.starts.size, bool)
    if settings.reject_by_annotation:
        for on, off in bad_intervals(rec, sweep):
            keep &= ~((plan.starts < off) & (plan.starts + plan.nperseg > on))
    return keep


def _segments(rec: Recording, plan: _Plan, whole, sweep: int | None, offs: np.ndarray,
              dtype) -> np.ndarray:
    """The segments starting at ``offs`` (absolute samples), as a strided view of one
    block read from ``s0 = offs[0]`` to the end of the last segment."""
    nperseg, start = plan.nperseg, plan.start
    s0 = int(offs[0])
    if whole is None:
        block = rec.get_data(plan.idx.tolist(), s0, int(offs[-1]) + nperseg)
    else:
        block = whole[sweep, :, s0 - start:int(offs[-1]) + nperseg - start]
    block = np.asarray(block, dtype=dtype)
    offs = offs - s0
    view = np.lib.stride_tricks.sliding_window_view(block, nperseg, axis=-1)
    if offs.size == 1 or np.all(np.diff(offs) == plan.step):
        return view[:, offs[0]:offs[-1] + 1:plan.step]              # strided view, no copy
    return view[:, offs]


class _Transform:
    """Tapers and transforms a batch of segments once, keeping the PSD bins and the
    cross-spectrum bins of each taper.

    The mean of a segment is removed in the frequency domain on the kept bins only:
    ``FFT((x - m) v) = FFT(x v) - m FFT(v)`` (exact; saves a pass over the data). A
    periodic Hann window is applied in the frequency domain (3 taps, :func:`_hann_bins`).
    """

    def __init__(self, plan: _Plan, settings: SpectralSettings) -> None:
        from scipy.fft import rfft

        self._rfft = rfft
        self.plan = plan
        # index ranges are contiguous: slices, no fancy-index copies
        self.p0, self.p1 = int(plan.psd_idx[0]), int(plan.psd_idx[-1]) + 1
        self.c0, self.c1 = (int(plan.cb_idx[0]), int(plan.cb_idx[-1]) + 1) if plan.n_cb \
            else (0, 0)
        tap_fft = rfft(plan.tapers, axis=-1)
        self.wp = tap_fft[:, self.p0:self.p1].astype(plan.ctype)
        self.wc = tap_fft[:, self.c0:self.c1].astype(plan.ctype)
        self.tap = plan.tapers.astype(plan.dtype)
        self.sqw = np.sqrt(plan.weights).astype(plan.dtype)
        self.hann_fast = (settings.method == "welch" and isinstance(settings.window, str)
                          and settings.window in ("hann", "hanning"))
        n = plan.nperseg
        self.inv_norm = 1.0 / math.sqrt(float(np.sum(
            (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)) ** 2)))
        self._buf = None

    def __call__(self, segs: np.ndarray, want_cross: bool):
        """Yield ``(k, psd_bins, cross_bins)`` per taper ``k`` (``cross_bins`` already
        times the square root of the taper's weight; None without cross-spectrum)."""
        if self.hann_fast:
            yield self._hann(segs, want_cross)
            return
        means = segs.mean(axis=-1)[..., np.newaxis]                 # (n_ch, nb, 1)
        if self._buf is None or self._buf.shape != segs.shape:
            self._buf = np.empty(segs.shape, self.plan.dtype)
        buf = self._buf
        for k in range(self.plan.n_tap):
            np.multiply(segs, self.tap[k], out=buf)
            spec = self._rfft(buf, axis=-1)                         # (n_ch, nb, n_f)
            sub = spec[..., self.p0:self.p1] - means * self.wp[k]
            y_cross = (spec[..., self.c0:self.c1] - means * self.wc[k]) * self.sqw[k] \
                if want_cross else None
            del spec
            yield k, sub, y_cross

    def _hann(self, segs: np.ndarray, want_cross: bool):
        """Periodic Hann applied in the frequency domain (3 taps) on the kept bins."""
        n = self.plan.nperseg
        spec = self._rfft(segs, axis=-1)
        sub = _hann_bins(spec, self.p0, self.p1, n, self.inv_norm)
        y_cross = _hann_bins(spec, self.c0, self.c1, n, self.inv_norm) if want_cross \
            else None
        return 0, sub, y_cross


class _PsdSum:
    """Reducer: the one-sided PSD summed over segments (V^2/Hz per segment)."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.psd_sum = np.zeros((plan.n_ch, plan.psd_idx.size))

    def add(self, sub: np.ndarray, weight: float | None) -> None:
        """Add one taper's bins ``(n_ch, nb, n_bins)`` summed over the batch's segments
        (times the taper's ``weight``, unless None: a single unit-weight window)."""
        power = np.sum(sub.real ** 2 + sub.imag ** 2, axis=1)
        if weight is None:
            self.psd_sum += power
        else:
            self.psd_sum += weight * power

    def result(self) -> np.ndarray:
        self.psd_sum *= _one_sided_factor(self.plan.psd_idx, self.plan.nperseg) \
            / self.plan.sfreq
        return self.psd_sum


class _CrossSum:
    """Reducer: the cross-spectral matrix over the cross-spectrum bins, summed over tapers
    and segments."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.csd_sum = np.zeros((plan.n_cb, plan.n_ch, plan.n_ch), np.complex128)

    def add(self, ys: np.ndarray) -> None:
        """Add a batch's tapered spectra ``ys`` ``(K, n_ch, nb, n_cb)``."""
        n_tap, n_ch, nb, n_cb = ys.shape
        # (n_cb, n_ch, K * nb) -> conj(Z) @ Z^T : sum over tapers and segments
        z = np.ascontiguousarray(ys.transpose(3, 1, 0, 2)).reshape(n_cb, n_ch, n_tap * nb)
        self.csd_sum += np.matmul(z.conj(), z.transpose(0, 2, 1))

    def scale(self) -> None:
        """One-sided scaling of the summed cross-spectra (V^2/Hz)."""
        cfac = _one_sided_factor(self.plan.cb_idx, self.plan.nperseg) / self.plan.sfreq
        self.csd_sum *= cfac[:, None, None]


class _PerSegmentSum:
    """Reducer: the per-segment sums wPLI and PLV need (imaginary part, its absolute value
    and the unit phase factor of each segment's cross-spectrum)."""

    def __init__(self, plan: _Plan) -> None:
        shape = (plan.n_cb, plan.n_ch, plan.n_ch)
        self.im_sum = np.zeros(shape)
        self.abs_im_sum = np.zeros(shape)
        self.phase_sum = np.zeros(shape, np.complex128)

    def add(self, ys: np.ndarray) -> None:
        """Add a batch's tapered spectra ``ys`` ``(K, n_ch, nb, n_cb)``."""
        # per segment: (n_cb, nb, n_ch, K) -> (n_cb, nb, n_ch, n_ch)
        zs = ys.transpose(3, 2, 1, 0)
        p = np.matmul(zs.conj(), zs.transpose(0, 1, 3, 2)).astype(np.complex128)
        im = p.imag
        self.im_sum += im.sum(axis=1)
        self.abs_im_sum += np.abs(im).sum(axis=1)
        mag = np.abs(p)
        mag[mag == 0] = 1.0
        self.phase_sum += (p / mag).sum(axis=1)
