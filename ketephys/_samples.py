"""The samples of a :class:`~ketephys.recording.Recording`: the checks of the data array,
sampling rate and sweep start times its constructor runs, the release of memory-mapped
pages after a read, and the NaN/flat scan behind :meth:`Recording.quality_flags`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .errors import KetephysError, MetadataError

__all__ = ["check_data", "check_sfreq", "check_sweep_starts", "release_mapped_pages",
           "scan_quality"]


def check_data(data: Any, path: str | None) -> Any:
    """``data`` with 2 or 3 dimensions; anything without ``shape``/``ndim`` is made a float
    array first, a memory map or lazy reader is kept as it is."""
    if not hasattr(data, "shape") or not hasattr(data, "ndim"):
        data = np.asarray(data, dtype=float)
    if data.ndim not in (2, 3):
        raise KetephysError(
            f"data must be (n_channels, n_times) or (n_sweeps, n_channels, n_times), "
            f"got shape {tuple(data.shape)}",
            path,
        )
    return data


def check_sfreq(sfreq: Any, path: str | None) -> float:
    """The sampling rate as a finite positive float (Hz); MetadataError otherwise."""
    try:
        sfreq = float(sfreq)
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"sampling rate must be a number, got {sfreq!r}", path) from exc
    if not math.isfinite(sfreq) or sfreq <= 0:
        raise MetadataError(f"sampling rate must be a positive number of Hz, got {sfreq}", path)
    return sfreq


def check_sweep_starts(shape: tuple[int, ...], sfreq: float,
                       sweep_starts: Sequence[float] | np.ndarray | None,
                       path: str | None) -> np.ndarray | None:
    """Sweep start times (s) for data of ``shape``: None for continuous data, else the
    given times (default back to back, ``i * n_times / sfreq``), one per sweep, finite
    and strictly increasing; MetadataError otherwise."""
    if len(shape) == 2:
        if sweep_starts is not None:
            raise MetadataError("sweep_starts given for continuous data", path)
        return None
    n_sw = shape[0]
    if sweep_starts is None:
        starts = np.arange(n_sw) * (shape[2] / sfreq)
    else:
        starts = np.asarray(sweep_starts, dtype=float).ravel()
    if starts.shape != (n_sw,):
        raise MetadataError(f"{starts.size} sweep start times for {n_sw} sweeps", path)
    if not np.all(np.isfinite(starts)):
        raise MetadataError("sweep start times must be finite", path)
    if n_sw > 1 and not np.all(np.diff(starts) > 0):
        i = int(np.argmin(np.diff(starts)))
        raise MetadataError(
            f"sweep start times must increase; sweep {i + 1} starts at "
            f"{starts[i + 1]:.6g} s, not after sweep {i} at {starts[i]:.6g} s", path)
    return starts


def release_mapped_pages(array: Any) -> None:
    """Let the kernel drop the pages of a memory-mapped file that were read so far.

    Pages of a file mapping stay in the process's resident set after they were read, so a
    pass over a days-long memory-mapped recording would grow the RSS with the file's
    length although only one block is held. Readers call this after copying a block out
    of a ``numpy.memmap``; it does nothing for other arrays.

    Parameters
    ----------
    array : array-like
        A block's source array (a ``numpy.memmap`` or anything else).
    """
    import mmap

    mapped = getattr(array, "_mmap", None)
    if mapped is None or not hasattr(mapped, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        mapped.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):  # closed map or a platform that refuses: harmless
        pass


def _flags_of(finite_any: bool, nan_any: bool, flat: bool) -> list[str]:
    flags = []
    if not finite_any:
        flags.append("all_nan")
    elif nan_any:
        flags.append("has_nan")
    if finite_any and flat:
        flags.append("flat")
    return flags


def scan_quality(blocks: Iterable[tuple[int, np.ndarray]], ch_names: Sequence[str]
                 ) -> dict[str, list[str]]:
    """Channel -> ``all_nan``/``has_nan``/``flat`` flags over ``(first_sample, block)``
    blocks of ``(n_channels, n)`` or ``(n_sweeps, n_channels, n)`` samples, holding one
    block at a time; channels without a flag are left out."""
    n = len(ch_names)
    finite_any = np.zeros(n, bool)
    nan_any = np.zeros(n, bool)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    for _, block in blocks:
        x = block if block.ndim == 2 else np.moveaxis(block, 1, 0).reshape(n, -1)
        fin = np.isfinite(x)
        finite_any |= fin.any(axis=1)
        nan_any |= ~fin.all(axis=1)
        with np.errstate(invalid="ignore"):
            lo = np.minimum(lo, np.where(fin, x, np.inf).min(axis=1))
            hi = np.maximum(hi, np.where(fin, x, -np.inf).max(axis=1))
    flags: dict[str, list[str]] = {}
    for i, name in enumerate(ch_names):
        f = _flags_of(bool(finite_any[i]), bool(nan_any[i]), bool(hi[i] - lo[i] == 0))
        if f:
            flags[name] = f
    return flags
