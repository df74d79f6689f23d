"""Plain arrays: ``.npy`` (memory-mapped), ``.npz``, ``.mat``, ``.csv`` with a JSON sidecar.

Arrays carry no sampling rate, names or units, so these come from ``<stem>.json`` (see
:mod:`ketephys.io.sidecar`) or from keywords, which take priority. ``sfreq`` is required;
``units`` defaults to volts. Layout: 1-D is one channel; 2-D is ``(n_channels, n_times)``
(or ``(n_times, n_channels)`` when ``ch_names`` matches the second axis only, as in a CSV);
3-D is ``(n_sweeps, n_channels, n_times)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError, KetephysError, MetadataError
from ..recording import Recording, Source, release_mapped_pages
from ..units import si_scale
from .sidecar import read_sidecar

__all__ = ["read_array", "ScaledArray", "ARRAY_FORMATS"]

ARRAY_FORMATS = (".npy", ".npz", ".mat", ".csv")


class ScaledArray:
    """Lazy view of an integer or non-SI array (e.g. a memory map) times per-channel
    factors; ``read(picks, start, stop)`` scales only the block asked for."""

    def __init__(self, raw: Any, factors: np.ndarray):
        self._raw = raw
        self.factors = np.asarray(factors, dtype=float)
        self.shape = raw.shape
        self.ndim = raw.ndim
        self.dtype = np.dtype(np.float64)

    def read(self, picks: Any, start: int, stop: int) -> np.ndarray:
        picks = np.asarray(picks, dtype=int)
        if self.ndim == 3:
            block = np.asarray(self._raw[:, picks, start:stop], dtype=float)  # a copy
            block *= self.factors[picks][np.newaxis, :, np.newaxis]
        else:
            block = np.asarray(self._raw[picks, start:stop], dtype=float)  # a copy
            block *= self.factors[picks][:, np.newaxis]
        release_mapped_pages(self._raw)
        return block

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.read(np.arange(self.shape[-2]), 0, self.shape[-1])
        return out if dtype is None else out.astype(dtype, copy=False)


def _load(path: Path, ext: str, side: dict[str, Any]) -> tuple[Any, list[str] | None]:
    """The raw array (a memory map for .npy) and column names when the file has them."""
    key = side.get("data_key") or side.get("variable")
    if ext == ".npy":
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False), None
        except ValueError as exc:
            if "pickle" in str(exc).lower():
                raise CorruptFileError("the .npy holds Python objects, not numbers; "
                                       "ketephys never unpickles files", path) from None
            raise
    if ext == ".npz":
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            return np.asarray(z[_choose(names, key, path)]), None
    if ext == ".mat":
        from pymatreader import read_mat

        content = {k: v for k, v in read_mat(str(path)).items() if not k.startswith("__")}
        arrays = [k for k, v in content.items()
                  if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.number)]
        return np.asarray(content[_choose(arrays, key, path)]), None
    import pandas as pd

    frame = pd.read_csv(path)
    if frame.shape[1] and all(str(c).replace(".", "").replace("-", "").isdigit()
                              for c in frame.columns):
        frame = pd.read_csv(path, header=None)
        names = None
    else:
        names = [str(c) for c in frame.columns]
    time_cols = [i for i, c in enumerate(names or []) if c.lower() in {"time", "t", "time_s"}]
    if time_cols:
        frame = frame.drop(columns=[frame.columns[i] for i in time_cols])
        names = [n for i, n in enumerate(names) if i not in time_cols]
    if not all(np.issubdtype(t, np.number) for t in frame.dtypes):
        raise CorruptFileError("the CSV has non-numeric columns besides 'time'", path)
    return frame.to_numpy(dtype=float).T, names


def _choose(names: list[str], key: str | None, path: Path) -> str:
    if key is not None:
        if key not in names:
            raise MetadataError(f"array {key!r} (sidecar data_key) not in the file; it has "
                                f"{names}", path)
        return key
    if "data" in names:
        return "data"
    if len(names) == 1:
        return names[0]
    raise MetadataError(f"the file holds several arrays {names}; name one with data_key in "
                        "the sidecar", path)


def read_array(
    path: str | Path,
    sfreq: float | None = None,
    ch_names: list[str] | None = None,
    units: str | list[str] | dict[str, str] | None = None,
    ch_types: list[str] | dict[str, str] | str | None = None,
    sweep_starts: list[float] | None = None,
    default_ch_type: str = "misc",
) -> Recording:
    """Read a plain array file with its JSON sidecar.

    Parameters
    ----------
    path : path-like
        ``.npy``, ``.npz``, ``.mat`` or ``.csv``.
    sfreq, ch_names, units, ch_types, sweep_starts
        Override the sidecar. ``units`` is the unit of the stored values (``"mV"``...);
        values are scaled to SI (lazily for a memory-mapped ``.npy``).
    default_ch_type : str
        Type of channels neither the sidecar nor ``ch_types`` types.

    Returns
    -------
    Recording
        Study metadata from the sidecar is set with source ``"sidecar"``.

    Raises
    ------
    MetadataError
        When ``sfreq`` is given neither as keyword nor in the sidecar, naming the field.
    """
    path = Path(path)
    ext = path.suffix.lower()
    side = read_sidecar(path, required=sfreq is None) or {}
    if sfreq is None:
        if "sfreq" not in side:
            raise MetadataError(
                f"sidecar {path.with_suffix('.json').name} lacks the required field 'sfreq' "
                "(sampling rate in Hz)", path)
        sfreq = side["sfreq"]
    try:
        raw, file_names = _load(path, ext, side)
    except KetephysError:
        raise
    except Exception as exc:
        raise CorruptFileError(f"cannot read it as {ext}: {type(exc).__name__}: {exc}",
                               path) from None
    if raw.dtype.kind not in "iuf":
        raise CorruptFileError(f"array dtype {raw.dtype} is not numeric", path)
    if raw.ndim == 1:
        raw = raw[np.newaxis, :]
    if raw.ndim not in (2, 3):
        raise CorruptFileError(f"array of shape {raw.shape}: expected 1, 2 or 3 dimensions",
                               path)
    names = ch_names or side.get("ch_names") or file_names
    if names is not None and raw.ndim == 2 and len(names) == raw.shape[0] != raw.shape[1]:
        pass
    elif names is not None and raw.ndim == 2 and len(names) == raw.shape[1]:
        raw = raw.T  # (n_times, n_channels): a view, no copy
    n_ch = raw.shape[-2]
    names = [f"ch{i}" for i in range(n_ch)] if names is None else [str(n) for n in names]
    if len(names) != n_ch:
        raise MetadataError(f"{len(names)} ch_names for {n_ch} channels of shape {raw.shape}",
                            path)
    unit_list = _per_channel(units if units is not None else side.get("units", "V"), names,
                             "units", path, default="V")
    type_list = _per_channel(ch_types if ch_types is not None else side.get("ch_types"),
                             names, "ch_types", path, default=default_ch_type)
    conv = [si_scale(u, str(path)) for u in unit_list]
    factors = np.array([f for _, f in conv])
    if raw.dtype.kind == "f" and np.all(factors == 1.0):
        data: Any = raw  # float in SI already: keep the memory map as it is
    else:
        data = ScaledArray(raw, factors)
    starts = sweep_starts if sweep_starts is not None else side.get("sweep_starts")
    if raw.ndim == 2 and starts is not None:
        raise MetadataError("sweep_starts given for a 2-D (continuous) array", path)
    fmt = {".npy": "npy", ".npz": "npz", ".mat": "mat", ".csv": "csv"}[ext]
    return Recording(data, sfreq, names, ch_types=type_list, units=[b for b, _ in conv],
                     sweep_starts=starts, events=side.get("events"), meta=None,
                     source=Source(str(path), fmt, f"ketephys.io.arrays ({fmt})",
                                   (str(path),)))


def _per_channel(value: Any, names: list[str], field: str, path: Path, default: str
                 ) -> list[str]:
    if value is None:
        return [default] * len(names)
    if isinstance(value, str):
        return [value] * len(names)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise MetadataError(f"{field} names channels {unknown} that are not in {names}",
                                path)
        return [str(value.get(n, default)) for n in names]
    value = [str(v) for v in value]
    if len(value) != len(names):
        raise MetadataError(f"{len(value)} {field} for {len(names)} channels", path)
    return value

