"""Plain arrays: ``.npy`` (memory-mapped), ``.npz``, ``.mat``, ``.csv`` with a JSON sidecar.

Arrays carry no sampling rate, names or units, so these come from ``<stem>.json`` (see
:mod:`ketephys.io.sidecar`) or from keywords, which take priority. ``sfreq`` is required;
``units`` defaults to volts. Layout: 1-D is one channel; 2-D is ``(n_channels, n_times)``
(or ``(n_times, n_channels)`` when ``ch_names`` matches the second axis only, as in a CSV);
3-D is ``(n_sweeps, n_channels, n_times)``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from .._samples import release_mapped_pages
from ..errors import CorruptFileError, KetephysError, MetadataError
from ..recording import Recording, Source
from ..units import si_scale
from .flags import add_reader_flag
from .sidecar import read_sidecar
from .sidecar_schema import per_channel

__all__ = ["read_array", "ScaledArray", "ARRAY_FORMATS"]

ARRAY_FORMATS = (".npy", ".npz", ".mat", ".csv")


class ScaledArray:
    """Lazy view of an integer or non-SI array (e.g. a memory map) times per-channel
    factors: only the block asked for is read and scaled.

    Parameters
    ----------
    raw : array-like
        The stored samples, ``(n_channels, n_times)`` or ``(n_sweeps, n_channels, n_times)``
        (a ``numpy.memmap`` stays mapped).
    factors : array-like of float
        One factor per channel from the stored unit to SI (e.g. 1e-3 for mV).
    """

    def __init__(self, raw: Any, factors: np.ndarray):
        self._raw = raw
        self.factors = np.asarray(factors, dtype=float)
        self.shape = raw.shape
        self.ndim = raw.ndim
        self.dtype = np.dtype(np.float64)

    def read(self, picks: Any, start: int, stop: int) -> np.ndarray:
        """The samples of channels ``picks`` from ``start`` to ``stop``, in SI units.

        Parameters
        ----------
        picks : array-like of int
            Channel indices.
        start, stop : int
            Sample range (``stop`` excluded), in every sweep of 3-D data.

        Returns
        -------
        numpy.ndarray
            Float ``(n_picks, n)`` (or ``(n_sweeps, n_picks, n)``), a copy; the mapped pages
            read are released afterwards.
        """
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
        _check_npy(path)
        return np.load(path, mmap_mode="r", allow_pickle=False), None
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
    return _load_csv(path)


_NPY_SIGNATURE = b"\x93NUMPY"


def _check_npy(path: Path) -> None:
    """CorruptFileError when ``path`` does not start with the ``.npy`` signature, holds
    Python objects (never unpickled), or holds fewer bytes than its header's shape and
    dtype need. A header that cannot be parsed is left to :func:`numpy.load` (whose
    message names what is wrong)."""
    with open(path, "rb") as fh:
        if fh.read(len(_NPY_SIGNATURE)) != _NPY_SIGNATURE:
            raise CorruptFileError("not a NumPy .npy file: it does not start with the .npy "
                                   "signature (\\x93NUMPY)", path)
        fh.seek(0)
        try:
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)  # 3.0: as 2.0
            shape, _, dtype = read_header(fh)
        except ValueError:
            return
        header_bytes = fh.tell()
    if dtype.hasobject:
        raise CorruptFileError("the .npy holds Python objects, not numbers; ketephys never "
                               "unpickles files", path)
    expected = header_bytes + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    size = path.stat().st_size
    if size < expected:
        raise CorruptFileError(
            f"truncated: the .npy header promises an array of shape {tuple(shape)} and dtype "
            f"{dtype} ({expected} bytes with the header), the file has {size} bytes "
            f"({100 * size / expected:.0f} %)", path)


_CSV_SEPARATORS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+([eE][-+]?\d+)?\s*$")


def _head_lines(path: Path) -> list[str]:
    """The first 50 non-blank lines of a CSV (CorruptFileError when there is none)."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        lines = [ln.rstrip("\r\n") for ln, _ in zip(fh, range(50)) if ln.strip()]
    if not lines:
        raise CorruptFileError("the CSV holds no lines", path)
    return lines


def _even_separators(lines: list[str], path: Path) -> list[str]:
    """The separators among ``, ; tab |`` that split every line into the same number (> 1)
    of fields; ``","`` dropped when another one leaves decimal commas (``1,5``). At most
    one: CorruptFileError when two remain."""
    counts = {sep: {ln.count(sep) for ln in lines} for sep in _CSV_SEPARATORS}
    seps = [sep for sep, c in counts.items() if len(c) == 1 and c.pop() > 0]
    if len(seps) > 1 and "," in seps and any(
            _DECIMAL_COMMA.match(f) for ln in lines[1:] for f in ln.split(seps[1])):
        seps.remove(",")
    if len(seps) > 1:
        raise CorruptFileError(
            f"cannot tell the CSV separator: {' and '.join(map(repr, seps))} both split "
            "every line evenly; save it with one separator", path)
    return seps


def _fallback_separator(lines: list[str], path: Path) -> str:
    """Whitespace when it splits every line alike (> 1 field), else ``","`` for a single
    column; CorruptFileError for ragged rows."""
    if all(len(ln.split()) == len(lines[-1].split()) > 1 for ln in lines[1:]):
        return r"\s+"
    widths = [ln.count(",") + 1 for ln in lines]
    if len(set(widths)) > 1:
        row = next(i for i, w in enumerate(widths) if w != widths[0])
        raise CorruptFileError(
            "cannot tell the CSV layout: no separator among ',' ';' tab '|' splits every "
            f"line into the same number of fields (',' gives {widths[0]} on line 1, "
            f"{widths[row]} on line {row + 1}); ragged rows, or decimal commas with ',' "
            "separators?", path)
    return ","


def _decimal_mark(lines: list[str], sep: str, path: Path) -> str:
    """``","`` when data fields look like ``1,5`` (refused with ``","`` separators), else
    ``"."``."""
    fields = [f for ln in lines[1:] for f in (ln.split(sep) if sep != r"\s+" else ln.split())]
    comma_decimals = sum(bool(_DECIMAL_COMMA.match(f)) for f in fields)
    if comma_decimals and sep == ",":
        raise CorruptFileError("the CSV uses ',' both as separator and (apparently) as "
                               "decimal mark; save it with ';' or tab separators", path)
    return "," if comma_decimals else "."


def csv_dialect(path: Path) -> tuple[str, str]:
    r"""The separator and decimal mark of a numeric CSV, from its first 50 lines.

    Parameters
    ----------
    path : Path
        The ``.csv`` file.

    Returns
    -------
    separator : str
        The one of ``, ; tab |`` that splits every line into the same number (> 1) of
        fields; else ``r"\s+"`` for whitespace-separated numbers, or ``","`` for one
        column.
    decimal : str
        ``","`` when fields look like ``1,5`` and the separator is not a comma, else
        ``"."``.

    Raises
    ------
    CorruptFileError
        When the file has no line, two separators fit, rows are ragged, or ``","`` is both
        separator and decimal mark.
    """
    lines = _head_lines(path)
    seps = _even_separators(lines, path)
    sep = seps[0] if seps else _fallback_separator(lines, path)
    return sep, _decimal_mark(lines, sep, path)


def _load_csv(path: Path) -> tuple[Any, list[str] | None]:
    import pandas as pd

    sep, decimal = csv_dialect(path)
    frame = pd.read_csv(path, sep=sep, decimal=decimal, engine="python",
                        encoding="utf-8-sig")
    if frame.shape[1] and all(_is_number(c) for c in frame.columns):
        frame = pd.read_csv(path, sep=sep, decimal=decimal, header=None, engine="python",
                            encoding="utf-8-sig")
        names = None
    else:
        names = [str(c) for c in frame.columns]
    time_cols = [i for i, c in enumerate(names or []) if c.lower() in {"time", "t", "time_s"}]
    if time_cols:
        frame = frame.drop(columns=[frame.columns[i] for i in time_cols])
        names = [n for i, n in enumerate(names) if i not in time_cols]
    if len(frame) == 0:
        raise CorruptFileError("the CSV has a header line but no data rows", path)
    text = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        col = frame[frame.columns[[str(c) for c in frame.columns].index(text[0])]]
        bad = next((v for v in col if not _is_number(v)), col.iloc[0])
        raise CorruptFileError(
            f"the CSV has non-numeric columns {text} (e.g. {str(bad)[:30]!r}); read with "
            f"separator {sep!r} and decimal mark {decimal!r}", path)
    return frame.to_numpy(dtype=float).T, names


def _is_number(value: Any) -> bool:
    try:
        float(str(value).replace(",", "."))
    except ValueError:
        return False
    return True


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
        Override the sidecar. ``units`` is the unit of the stored values: one string for
        every channel (``"mV"``), a list, or ``{channel: unit}`` (a channel not in the file
        is an error); values are scaled to SI (lazily for a memory-mapped ``.npy``).
    default_ch_type : str
        Type of channels neither the sidecar nor ``ch_types`` types.

    Returns
    -------
    Recording
        Study metadata from the sidecar is set with source ``"sidecar"``. **Units:** an
        array file stores none, so when neither ``units=`` nor the sidecar's ``units``
        gives a channel's unit, its values are taken as volts, the channel gets the reader
        flag ``unit_assumed`` (``rec.reader_flags``, see :mod:`ketephys.io.flags`) and a
        warning is logged. Pass ``units=`` (or write ``units`` in the sidecar) to read
        without the flag.

    Raises
    ------
    MetadataError
        When ``sfreq`` is given neither as keyword nor in the sidecar, when a sidecar
        field has the wrong type (:mod:`~ketephys.io.sidecar_schema`), or sweeps overlap,
        or events lie outside the recording; each naming the field.
    CorruptFileError
        When the array holds no sample or no channel, is not numeric, or a CSV cannot be
        parsed as numbers (naming the separator and decimal mark it detected).
    """
    path = Path(path)
    ext = path.suffix.lower()
    side = _sidecar_with_rate(path, ch_names, sfreq)
    sfreq = side["sfreq"] if sfreq is None else sfreq
    raw, file_names = _load_numeric(path, ext, side)
    names = next((n for n in (ch_names, side.get("ch_names"), file_names) if n is not None),
                 None)
    raw, names = _channels_first(raw, names, ext, path)
    given = per_channel(units if units is not None else side.get("units"), names, "units",
                        path, default=None)
    type_list = per_channel(ch_types if ch_types is not None else side.get("ch_types"),
                            names, "ch_types", path, default=default_ch_type)
    data, si_units = _scaled_to_si(raw, ["V" if u is None else u for u in given], path)
    starts = sweep_starts if sweep_starts is not None else side.get("sweep_starts")
    if raw.ndim == 2 and starts is not None:
        raise MetadataError("sweep_starts given for a 2-D (continuous) array", path)
    _check_timing(starts, side.get("events"), raw.shape, float(sfreq), path)
    fmt = {".npy": "npy", ".npz": "npz", ".mat": "mat", ".csv": "csv"}[ext]
    rec = Recording(data, sfreq, names, ch_types=type_list, units=si_units,
                    sweep_starts=starts, events=side.get("events"), meta=None,
                    source=Source(str(path), fmt, f"ketephys.io.arrays ({fmt})",
                                  (str(path),)))
    _flag_assumed_units(rec, given, raw.dtype, path)
    return rec


def _sidecar_with_rate(path: Path, ch_names: Any, sfreq: Any) -> dict[str, Any]:
    """The sidecar content (``{}`` without one), checked to give ``sfreq`` when the
    keyword does not; MetadataError for a string ``ch_names`` or a boolean ``sfreq``."""
    if isinstance(ch_names, str):
        raise MetadataError(f"ch_names must be a list of names, got the string {ch_names!r}",
                            path)
    if isinstance(sfreq, bool):
        raise MetadataError(f"sfreq must be a number of Hz, got {sfreq!r}", path)
    side = read_sidecar(path, required=sfreq is None) or {}
    if sfreq is None and side.get("sfreq") is None:
        raise MetadataError(
            f"sidecar {path.with_suffix('.json').name} lacks the required field 'sfreq' "
            "(sampling rate in Hz)", path)
    return side


def _load_numeric(path: Path, ext: str, side: dict[str, Any]) -> tuple[Any, list[str] | None]:
    """The stored array, at least 2-D, numeric and non-empty, with the file's column
    names (CSV header); any failure of the loaders is a CorruptFileError."""
    try:
        raw, file_names = _load(path, ext, side)
    except KetephysError:
        raise
    except Exception as exc:
        raise CorruptFileError(f"cannot read it as {ext}: {type(exc).__name__}: {exc}",
                               path) from exc
    if raw.dtype.kind not in "iuf":
        raise CorruptFileError(f"array dtype {raw.dtype} is not numeric", path)
    if raw.ndim == 1:
        raw = raw[np.newaxis, :]
    if raw.ndim not in (2, 3):
        raise CorruptFileError(f"array of shape {raw.shape}: expected 1, 2 or 3 dimensions",
                               path)
    if 0 in raw.shape:
        raise CorruptFileError(f"the array of shape {raw.shape} holds no samples", path)
    return raw, file_names


def _channels_first(raw: Any, names: list[str] | None, ext: str, path: Path
                    ) -> tuple[Any, list[str]]:
    """``raw`` as ``(n_channels, n_times)`` (a 2-D array whose second axis alone matches
    the names is transposed, as a view) and one name per channel (default ``ch0``...)."""
    if ext == ".csv":
        pass  # columns are channels: _load_csv returns (n_channels, n_times)
    elif names is not None and raw.ndim == 2 and len(names) == raw.shape[0] != raw.shape[1]:
        pass
    elif names is not None and raw.ndim == 2 and len(names) == raw.shape[1]:
        raw = raw.T  # (n_times, n_channels): a view, no copy
    n_ch = raw.shape[-2]
    names = [f"ch{i}" for i in range(n_ch)] if names is None else [str(n) for n in names]
    if len(names) != n_ch:
        raise MetadataError(f"{len(names)} ch_names for {n_ch} channels of shape {raw.shape}",
                            path)
    return raw, names


def _scaled_to_si(raw: Any, unit_list: list[str], path: Path) -> tuple[Any, list[str]]:
    """The samples in SI (the array itself when float and already SI, e.g. a memory map
    kept as it is; else a lazy :class:`ScaledArray`) and the SI unit of each channel."""
    conv = [si_scale(u, str(path)) for u in unit_list]
    factors = np.array([f for _, f in conv])
    if raw.dtype.kind == "f" and np.all(factors == 1.0):
        data: Any = raw  # float in SI already: keep the memory map as it is
    else:
        data = ScaledArray(raw, factors)
    return data, [b for b, _ in conv]


def _flag_assumed_units(rec: Recording, given: list[str | None], dtype: np.dtype,
                        path: Path) -> None:
    """Flag ``unit_assumed`` on the channels no unit was given for (taken as V)."""
    counts = " (integer samples: ADC counts?)" if dtype.kind in "iu" else ""
    for name, unit in zip(rec.ch_names, given):
        if unit is None:
            add_reader_flag(rec, name, "unit_assumed", path,
                            f"no unit given (units= or sidecar 'units'); values{counts} "
                            "taken as V")


def _check_timing(starts: Any, events: Any, shape: tuple[int, ...], sfreq: float,
                  path: Path) -> None:
    """Sweeps must not overlap; events of a continuous array must lie inside it."""
    try:
        length = shape[-1] / sfreq
    except (TypeError, ZeroDivisionError):
        return  # the recording names a bad rate
    if starts is not None and len(starts) > 1:
        steps = np.diff(np.asarray(starts, dtype=float))
        short = np.flatnonzero(steps < length * (1 - 1e-9))
        if short.size and np.all(steps > 0):
            i = int(short[0])
            raise MetadataError(
                f"sweep_starts: sweep {i + 1} starts {steps[i]:g} s after sweep {i}, but "
                f"sweeps last {length:g} s ({shape[-1]} samples at sfreq {sfreq:g} Hz): "
                "they would overlap", path)
    if events is not None and len(shape) == 2 and isinstance(events, dict):
        onsets = np.asarray(events.get("onset", []), dtype=float)
        outside = onsets[(onsets < 0) | (onsets > length)]
        if outside.size:
            raise MetadataError(
                f"events: onsets {outside[:5].tolist()} s lie outside the recording "
                f"(0 to {length:g} s: {shape[-1]} samples at sfreq {sfreq:g} Hz)", path)
