"""LFP, field-EPSP and patch-clamp files through Neo.

Axon ABF 1/2, WinWCP, Spike2 (``.smr``/``.smrx``), AxoGraph, NWB and any other Neo IO by
name. Episodic files keep their sweeps and real sweep start times (for WinWCP, Neo gives 0
for every record, so the ``TimeRecorded`` field of each record's analysis block is used).
Units are converted to SI here, including WinWCP's lowercase ``mv`` that Neo returns
dimensionless; ``units={"Ipatch": "mV"}`` overrides a mislabelled channel.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CorruptFileError, KetephysError, UnsupportedFormatError
from ..recording import Recording, Source
from ..units import si_scale

__all__ = ["read_neo", "NEO_IOS", "neo_io_class", "winwcp_sweep_starts"]

logger = logging.getLogger(__name__)

#: extension -> Neo IO class name
NEO_IOS = {
    ".abf": "AxonIO",
    ".wcp": "WinWcpIO",
    ".smr": "Spike2IO",
    ".smrx": "CedIO",
    ".axgd": "AxographIO",
    ".axgx": "AxographIO",
    ".nwb": "NWBIO",
}

# messages of Neo's own failures on cut files, made readable
_TRUNCATION_HINTS = ("mmap length is greater than file size", "unpack requires a buffer",
                     "cannot reshape", "buffer is smaller", "not enough", "EOF",
                     "negative dimensions")


def neo_io_class(path: Path, io_name: str | None = None) -> Any:
    """The Neo IO class for ``path``: ``io_name`` (e.g. ``"NeuralynxIO"``) or by extension."""
    import neo

    if io_name is not None:
        name = io_name if io_name.endswith("IO") else io_name + "IO"
        matches = [c for c in neo.io.iolist if c.__name__.lower() == name.lower()]
        if not matches:
            raise UnsupportedFormatError(
                f"Neo has no IO named {io_name!r}; choose one of "
                f"{sorted(c.__name__ for c in neo.io.iolist)}", path)
        return matches[0]
    name = NEO_IOS.get(path.suffix.lower())
    if name is not None:
        return getattr(neo.io, name)
    try:
        candidates = neo.io.get_io_class(str(path)) if hasattr(neo.io, "get_io_class") else None
    except Exception:
        candidates = None
    if candidates is None:
        raise UnsupportedFormatError(
            f"no Neo IO reads {path.suffix!r} files; pass format='<NeoIOName>'", path)
    return candidates


def winwcp_sweep_starts(path: Path) -> np.ndarray | None:
    """Start time (s) of each WinWCP record from its analysis block (``TimeRecorded``),
    read with Neo's own header description; None when the header cannot give them."""
    from neo.rawio.winwcprawio import AnalysisDescription, HeaderReader

    with open(path, "rb") as fh:
        text = fh.read(1024).decode("ascii", errors="replace")
        head = dict(line.split("=", 1) for line in text.split("\r\n") if "=" in line)
        try:
            n_rec, nbd = int(head["NR"]), int(head["NBD"])
        except (KeyError, ValueError):
            return None
        starts = []
        for i in range(n_rec):
            block = HeaderReader(fh, AnalysisDescription).read_f(offset=1024 + i * (512 * nbd + 1024))
            starts.append(float(block["TimeRecorded"]))
    return np.asarray(starts)


def _read_block(io_cls: Any, path: Path, io_kwargs: dict[str, Any] | None = None,
                lazy_continuous: bool = False) -> tuple[Any, Any]:
    """Open the file with Neo; read the block (lazily, as proxies, when the file is one
    continuous segment of a rawio-based IO and ``lazy_continuous``)."""
    kwargs = {"filename": str(path), **(io_kwargs or {})}
    if io_cls.__name__ == "NWBIO":
        kwargs["mode"] = "r"
    neo_log = logging.getLogger("Neo")
    level = neo_log.level
    neo_log.setLevel(logging.ERROR)  # unit strings it cannot parse are handled below
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = io_cls(**kwargs)
            lazy = lazy_continuous and _one_continuous_segment(reader)
            try:
                block = reader.read_block(signal_group_mode="split-all", lazy=lazy)
            except TypeError:
                block = reader.read_block(lazy=lazy)
    finally:
        neo_log.setLevel(level)
    return reader, block


def _one_continuous_segment(reader: Any) -> bool:
    """True for a rawio-based reader holding one block with one segment."""
    try:
        return (hasattr(reader, "get_analogsignal_chunk") and reader.block_count() == 1
                and reader.segment_count(0) == 1)
    except Exception:
        return False


class NeoRawSamples:
    """Lazy ``(n_channels, n_times)`` view of one signal stream of a Neo rawio reader:
    ``read(picks, start, stop)`` asks Neo for just that chunk and scales it to SI."""

    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, reader: Any, stream_index: int, channel_indexes: list[int],
                 factors: list[float]):
        self._reader = reader
        self.stream_index = stream_index
        self.channel_indexes = np.asarray(channel_indexes, dtype=int)
        self.factors = np.asarray(factors, dtype=float)
        self.shape = (len(channel_indexes),
                      int(reader.get_signal_size(0, 0, stream_index=stream_index)))

    def read(self, picks: Any, start: int, stop: int) -> np.ndarray:
        picks = np.asarray(picks, dtype=int)
        if stop <= start or picks.size == 0:
            return np.empty((picks.size, max(stop - start, 0)))
        chans = self.channel_indexes[picks]
        raw = self._reader.get_analogsignal_chunk(0, 0, int(start), int(stop),
                                                  stream_index=self.stream_index,
                                                  channel_indexes=chans)
        vals = self._reader.rescale_signal_raw_to_float(
            raw, dtype="float64", stream_index=self.stream_index, channel_indexes=chans)
        return vals.T * self.factors[picks][:, np.newaxis]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.read(np.arange(self.shape[0]), 0, self.shape[1])
        return out if dtype is None else out.astype(dtype, copy=False)


def _lazy_recording(reader: Any, block: Any, path: Path, io_cls: Any,
                    units: dict[str, str], ch_types: dict[str, str] | None,
                    channels: list[str] | None) -> Recording | None:
    """A lazy recording of a one-segment file whose chosen channels share one stream;
    None when that does not apply (the caller then loads the block)."""
    chans = reader.header["signal_channels"]
    streams = reader.header["signal_streams"]
    names = [str(n) for n in chans["name"]]
    if len(set(names)) != len(names):
        return None
    wanted = names if channels is None else list(channels)
    missing = [c for c in wanted if c not in names]
    if missing:
        raise KetephysError(f"channels {missing} not in the file; it has {names}", path)
    stream_ids = {str(chans["stream_id"][names.index(c)]) for c in wanted}
    if len(stream_ids) != 1:
        return None
    stream_id = stream_ids.pop()
    stream_index = [str(x) for x in streams["id"]].index(stream_id)
    in_stream = [i for i, sid in enumerate(chans["stream_id"]) if str(sid) == stream_id]
    local = [in_stream.index(names.index(c)) for c in wanted]
    si_units, factors, types = [], [], []
    for c in wanted:
        text = units.get(c, str(chans["units"][names.index(c)]))
        try:
            base, factor = si_scale(text, str(path)) if text else ("", 1.0)
        except KetephysError:
            if c in units:
                raise
            logger.warning("%s: channel %s has unit %r that ketephys cannot convert; kept "
                           "dimensionless", path, c, text)
            base, factor = "", 1.0
        si_units.append(base)
        factors.append(factor)
        t = (ch_types or {}).get(c) or ("im" if base == "A" else "field" if base == "V"
                                        else "misc")
        types.append(t)
    sfreq = float(reader.get_signal_sampling_rate(stream_index=stream_index))
    t0 = float(reader.get_signal_t_start(0, 0, stream_index=stream_index))
    events = []
    for obj in list(block.segments[0].events) + list(block.segments[0].epochs):
        loaded = obj.load() if hasattr(obj, "load") else obj
        times = loaded.times.rescale("s").magnitude
        durs = (loaded.durations.rescale("s").magnitude if hasattr(loaded, "durations")
                else np.zeros(len(times)))
        labels = loaded.labels if len(loaded.labels) == len(times) else (
            [loaded.name or "event"] * len(times))
        events += [{"onset": float(t) - t0, "duration": float(d), "description": str(lab)}
                   for t, d, lab in zip(times, durs, labels)]
    return Recording(NeoRawSamples(reader, stream_index, local, factors), sfreq, wanted,
                     ch_types=types, units=si_units, events=pd.DataFrame(events) if events
                     else None, source=Source(str(path), io_cls.__name__.removesuffix(
                         "IO").lower(), f"neo.io.{io_cls.__name__}"))


def _header_units(reader: Any) -> dict[str, str]:
    """Channel name -> unit string as the file writes it (from the Neo rawio header)."""
    header = getattr(reader, "header", None)
    if not header or "signal_channels" not in header:
        return {}
    chans = header["signal_channels"]
    return {str(n): str(u) for n, u in zip(chans["name"], chans["units"])}


def read_neo(
    path: str | Path,
    io_name: str | None = None,
    units: dict[str, str] | None = None,
    ch_types: dict[str, str] | None = None,
    channels: list[str] | None = None,
    episodic: bool | None = None,
    io_kwargs: dict[str, Any] | None = None,
    lazy: bool = True,
) -> Recording:
    """Read a file with Neo into a recording in SI units.

    Parameters
    ----------
    path : path-like
        The file.
    io_name : str, optional
        Neo IO class name (``"AxonIO"``, ``"NeuralynxIO"``...); default from the extension.
    units : dict, optional
        Channel -> unit its values are really in (overrides the file).
    ch_types : dict, optional
        Channel -> ketephys channel type.
    channels : list of str, optional
        Keep only these channels.
    episodic : bool, optional
        Force sweeps or one continuous segment.
    io_kwargs : dict, optional
        Extra arguments of the Neo IO (e.g. ``sampling_rate`` for ``RawBinarySignalIO``).
    lazy : bool
        A file of one continuous segment (Spike2, gap-free ABF...) is read on demand,
        chunk by chunk, through Neo's rawio layer; episodic files are loaded.

    Returns
    -------
    Recording
    """
    path = Path(path)
    io_cls = neo_io_class(path, io_name)
    try:
        reader, block = _read_block(io_cls, path, io_kwargs,
                                    lazy_continuous=lazy and episodic is not True)
    except KetephysError:
        raise
    except FileNotFoundError as exc:
        raise KetephysError(f"a file it needs is missing: {exc}", path) from None
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        hint = "truncated or corrupt" if any(h in str(exc) for h in _TRUNCATION_HINTS) else (
            "corrupt or not this format")
        raise CorruptFileError(f"Neo {io_cls.__name__} cannot read it ({hint}): {text}",
                               path) from None
    if not block.segments or not any(seg.analogsignals for seg in block.segments):
        raise CorruptFileError(f"Neo {io_cls.__name__} finds no analog signal in it (empty, "
                               "corrupt or not this format)", path)
    is_proxy = type(block.segments[0].analogsignals[0]).__name__.endswith("Proxy")
    if is_proxy:
        try:
            rec = _lazy_recording(reader, block, path, io_cls, dict(units or {}), ch_types,
                                  channels)
            if rec is not None:
                rec.get_data(start=0, stop=1)
                rec.get_data(start=rec.n_times - 1, stop=rec.n_times)
                return rec
        except KetephysError:
            raise
        except Exception as exc:
            raise CorruptFileError(f"Neo {io_cls.__name__} cannot read its samples: "
                                   f"{type(exc).__name__}: {exc}", path) from None
        _, block = _read_block(io_cls, path, io_kwargs, lazy_continuous=False)
    if not block.segments or not any(seg.analogsignals for seg in block.segments):
        raise CorruptFileError(f"Neo {io_cls.__name__} finds no analog signal in it (empty, "
                               "corrupt or not this format)", path)
    overrides = dict(units or {})
    # units Neo could not parse (WinWCP "mv" -> dimensionless): take the file's string
    for name, unit in _header_units(reader).items():
        if name in overrides or not unit:
            continue
        sig = _first_signal(block, name)
        if sig is not None and sig.units.dimensionality.string == "dimensionless":
            try:
                si_scale(unit, str(path))
            except KetephysError:
                logger.warning("%s: channel %s has unit %r that ketephys cannot convert; "
                               "kept dimensionless", path, name, unit)
                continue
            overrides[name] = unit
    if io_cls.__name__ == "WinWcpIO" and len(block.segments) > 1:
        _apply_sweep_starts(block, winwcp_sweep_starts(path), path)
    _fill_missing_sweep_starts(block, path)
    source = Source(str(path), io_cls.__name__.removesuffix("IO").lower(),
                    f"neo.io.{io_cls.__name__}")
    return Recording.from_neo(block, units=overrides, channels=channels, ch_types=ch_types,
                              source=source, episodic=episodic)


def _first_signal(block: Any, name: str) -> Any:
    if not block.segments:
        return None
    for sig in block.segments[0].analogsignals:
        if str(sig.name) == name:
            return sig
    return None


def _apply_sweep_starts(block: Any, starts: np.ndarray | None, path: Path) -> None:
    import quantities as pq

    if starts is None or len(starts) != len(block.segments):
        return
    if len(starts) > 1 and np.all(starts == starts[0]):
        return
    for seg, t0 in zip(block.segments, starts):
        for sig in seg.analogsignals:
            sig.t_start = float(t0) * pq.s


def _fill_missing_sweep_starts(block: Any, path: Path) -> None:
    """When a file gives every sweep the same start (no timing stored), place the sweeps
    back to back and say so in the log; different but disordered starts stay an error."""
    import quantities as pq

    segs = block.segments
    if len(segs) < 2 or not segs[0].analogsignals:
        return
    t0 = [float(s.analogsignals[0].t_start.rescale("s").magnitude) for s in segs
          if s.analogsignals]
    if len(t0) == len(segs) and np.all(np.asarray(t0) == t0[0]):
        sig = segs[0].analogsignals[0]
        length = float((sig.shape[0] / sig.sampling_rate).rescale("s").magnitude)
        logger.warning("%s: the file stores no sweep start times; sweeps placed back to back "
                       "every %.6g s", path, length)
        for i, seg in enumerate(segs):
            for s in seg.analogsignals:
                s.t_start = (t0[0] + i * length) * pq.s
