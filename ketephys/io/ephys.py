"""LFP, field-EPSP and patch-clamp files through Neo.

Axon ABF 1/2, WinWCP, Spike2 (``.smr``/``.smrx``), AxoGraph, NWB and any other Neo IO by
name. Episodic files keep their sweeps and real sweep start times (for WinWCP, Neo gives 0
for every record, so the ``TimeRecorded`` field of each record's analysis block is used).
Units are converted to SI here, including WinWCP's lowercase ``mv`` that Neo returns
dimensionless; ``units={"Ipatch": "mV"}`` overrides a mislabelled channel.

Formats with a Neo *rawio* layer (ABF, WinWCP, Spike2, AxoGraph...) are read through it
directly: samples come as raw chunks scaled to SI (a one-segment file stays lazy and is read
chunk by chunk), without building a Neo object per sweep and channel, which is 10-25x
faster for a 240-sweep ABF. Other IOs (NWBIO...) go through ``read_block`` and
:meth:`Recording.from_neo`. Both use the one Neo conversion of :mod:`ketephys._neo` (channel
selection, rates, segments, units and types, with the same messages).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._channels import check_typed_names, select_channels
from .._neo import default_ch_type, is_episodic, one_rate
from ..errors import CorruptFileError, KetephysError, UnsupportedFormatError
from ..recording import Recording, Source
from ..units import si_scale
from .flags import add_reader_flag, captured_warnings, resolve_warnings
from .sidecar_schema import per_channel

__all__ = ["read_neo", "NEO_IOS", "neo_io_class", "winwcp_sweep_starts", "NeoRawSamples"]

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
    """The Neo IO class that reads a file.

    Parameters
    ----------
    path : Path
        The file.
    io_name : str, optional
        A Neo IO name (``"NeuralynxIO"``, or without the ``IO``: ``"Neuralynx"``; any
        case); default: from the extension (:data:`NEO_IOS`), else the first IO Neo
        proposes for it.

    Returns
    -------
    type
        A class of ``neo.io``.

    Raises
    ------
    UnsupportedFormatError
        When Neo has no IO of that name, or none for the extension.
    """
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
        candidates = list(neo.io.list_candidate_ios(str(path)))
    except Exception:
        candidates = []
    if not candidates:
        raise UnsupportedFormatError(
            f"no Neo IO reads {path.suffix!r} files; pass format='<NeoIOName>'", path)
    return candidates[0]


def winwcp_sweep_starts(path: Path) -> np.ndarray | None:
    """The start time of each WinWCP record, from its analysis block (``TimeRecorded``).

    Neo gives 0 for every record; the header is read with Neo's own description.

    Parameters
    ----------
    path : Path
        The ``.wcp`` file.

    Returns
    -------
    numpy.ndarray or None
        Seconds, one per record; None when the header lacks the record count (``NR``) or
        block size (``NBD``).
    """
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


def _open(io_cls: Any, path: Path, io_kwargs: dict[str, Any] | None) -> Any:
    kwargs = {"filename": str(path), **(io_kwargs or {})}
    if io_cls.__name__ == "NWBIO":
        kwargs["mode"] = "r"
    reader = io_cls(**kwargs)
    if hasattr(reader, "parse_header") and getattr(reader, "header", None) is None:
        reader.parse_header()
    return reader


def _read_block(reader: Any) -> Any:
    try:
        return reader.read_block(signal_group_mode="split-all", lazy=False)
    except TypeError:
        return reader.read_block(lazy=False)


def _is_rawio(reader: Any) -> bool:
    return (hasattr(reader, "get_analogsignal_chunk") and getattr(reader, "header", None)
            is not None and reader.block_count() == 1)


class NeoRawSamples:
    """Lazy ``(n_channels, n_times)`` view of one signal stream of a Neo rawio reader:
    ``read(picks, start, stop)`` asks Neo for just that chunk and scales it to SI.

    Parameters
    ----------
    reader : neo.rawio.BaseRawIO
        An opened reader with its header parsed (block 0 is read).
    stream_index : int
        The signal stream.
    channel_indexes : list of int
        The channels' columns in that stream, in recording order.
    factors : list of float
        Per channel, the factor from Neo's float values (in the file's unit) to SI.
    """

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

    def read(self, picks: Any, start: int, stop: int, segment: int = 0) -> np.ndarray:
        """SI samples of channels ``picks`` from ``start`` to ``stop`` of one segment.

        Parameters
        ----------
        picks : array-like of int
            Channel indices of the recording (not of the stream).
        start, stop : int
            Sample range (``stop`` excluded).
        segment : int
            The Neo segment (sweep) to read.

        Returns
        -------
        numpy.ndarray
            Float ``(n_picks, stop - start)``; empty when the range or the picks are.
        """
        picks = np.asarray(picks, dtype=int)
        if stop <= start or picks.size == 0:
            return np.empty((picks.size, max(stop - start, 0)))
        chans = self.channel_indexes[picks]
        raw = self._reader.get_analogsignal_chunk(0, segment, int(start), int(stop),
                                                  stream_index=self.stream_index,
                                                  channel_indexes=chans)
        vals = self._reader.rescale_signal_raw_to_float(
            raw, dtype="float64", stream_index=self.stream_index, channel_indexes=chans)
        return vals.T * self.factors[picks][:, np.newaxis]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.read(np.arange(self.shape[0]), 0, self.shape[1])
        return out if dtype is None else out.astype(dtype, copy=False)


def _unit_of(name: str, text: str, overrides: dict[str, str], path: Path
             ) -> tuple[str, float]:
    """SI base and factor for a channel: the user's override, else the file's string."""
    if name in overrides:
        return si_scale(overrides[name], str(path))
    if not text or text.lower() == "dimensionless":
        return "", 1.0
    try:
        return si_scale(text, str(path))
    except KetephysError:
        logger.warning("%s: channel %s has unit %r that ketephys cannot convert; kept "
                       "dimensionless", path, name, text)
        return "", 1.0


def _unit_overrides(units: Any, reader: Any, path: Path) -> dict[str, str]:
    """``units=`` as ``{channel: unit}`` for the channels of ``reader``'s file."""
    if units is None:
        return {}
    header = getattr(reader, "header", None)
    if header is None or "signal_channels" not in header:
        if isinstance(units, dict):
            return dict(units)
        raise KetephysError("units= as a string or list needs a Neo IO that lists its "
                            "channels; give {channel: unit}", path)
    names = [str(n) for n in header["signal_channels"]["name"]]
    given = per_channel(units, names, "units=", path, default=None)
    return {n: u for n, u in zip(names, given) if u is not None}


def _rawio_events(reader: Any, seg: int, t0: float, sweep: int | None) -> list[dict]:
    out = []
    for ec in range(reader.event_channels_count()):
        if reader.event_count(0, seg, ec) == 0:
            continue
        stamps, durations, labels = reader.get_event_timestamps(0, seg, ec)
        times = reader.rescale_event_timestamp(stamps, dtype="float64", event_channel_index=ec)
        durs = (np.zeros(len(times)) if durations is None else
                reader.rescale_epoch_duration(durations, dtype="float64",
                                              event_channel_index=ec))
        for t, d, lab in zip(times, durs, labels):
            out.append({"onset": float(t) - t0, "duration": float(d),
                        "description": str(lab), "sweep": pd.NA if sweep is None else sweep})
    return out


def _rawio_stream(reader: Any, path: Path, io_cls: Any, channels: list[str] | None
                  ) -> tuple[list[str], int, list[int]] | None:
    """The channels to read (checked: in the file, one rate), the index of their signal
    stream and their columns in it; None when channel names repeat or the channels lie
    in several streams (the caller then uses read_block)."""
    chans = reader.header["signal_channels"]
    names = [str(n) for n in chans["name"]]
    if not names:
        raise CorruptFileError(f"Neo {io_cls.__name__} finds no analog signal in it (empty, "
                               "corrupt or not this format)", path)
    if len(set(names)) != len(names):
        return None
    wanted = select_channels(names, channels, path)
    one_rate({float(chans["sampling_rate"][names.index(c)]) for c in wanted}, path)
    stream_ids = {str(chans["stream_id"][names.index(c)]) for c in wanted}
    if len(stream_ids) != 1:
        return None
    stream_id = stream_ids.pop()
    stream_index = [str(x) for x in reader.header["signal_streams"]["id"]].index(stream_id)
    in_stream = [i for i, sid in enumerate(chans["stream_id"]) if str(sid) == stream_id]
    return wanted, stream_index, [in_stream.index(names.index(c)) for c in wanted]


def _read_rawio(reader: Any, path: Path, io_cls: Any, units: dict[str, str],
                ch_types: dict[str, str] | None, channels: list[str] | None,
                episodic: bool | None, lazy: bool) -> Recording | None:
    """A recording straight from Neo's rawio layer; None when the channels asked for lie
    in streams of different lengths (the caller then uses read_block)."""
    picked = _rawio_stream(reader, path, io_cls, channels)
    if picked is None:
        return None
    wanted, stream_index, local = picked
    chans = reader.header["signal_channels"]
    names = [str(n) for n in chans["name"]]
    conv = [_unit_of(c, str(chans["units"][names.index(c)]), units, path) for c in wanted]
    types = [(ch_types or {}).get(c) or default_ch_type(b) for c, (b, _) in zip(wanted, conv)]
    samples = NeoRawSamples(reader, stream_index, local, [f for _, f in conv])
    sfreq = float(reader.get_signal_sampling_rate(stream_index=stream_index))
    is_ep = is_episodic(reader.segment_count(0), episodic, path)
    labels = {"ch_names": wanted, "ch_types": types, "units": [b for b, _ in conv],
              "meta": _file_clock(reader), "source": _neo_source(path, io_cls)}
    if not is_ep:
        return _rawio_continuous(reader, samples, sfreq, lazy, labels)
    return _rawio_sweeps(reader, samples, sfreq, path, io_cls, labels)


def _rawio_continuous(reader: Any, samples: NeoRawSamples, sfreq: float, lazy: bool,
                      labels: dict[str, Any]) -> Recording:
    """The one segment of a continuous file, lazy unless ``lazy`` is False, with its
    events from the signal's start."""
    t0 = float(reader.get_signal_t_start(0, 0, stream_index=samples.stream_index))
    data: Any = samples if lazy else np.asarray(samples)
    events = _rawio_events(reader, 0, t0, None)
    return Recording(data, sfreq, events=pd.DataFrame(events) if events else None,
                     **labels)


def _rawio_sweep_starts(reader: Any, path: Path, io_cls: Any, stream_index: int,
                        n_seg: int, sweep_s: float) -> np.ndarray:
    """Start time (s) of each segment: Neo's ``t_start``, WinWCP's recorded times when
    Neo gives none, else (all equal) back to back every ``sweep_s``, with a warning."""
    starts = np.array([float(reader.get_signal_t_start(0, s, stream_index=stream_index))
                       for s in range(n_seg)])
    if io_cls.__name__ == "WinWcpIO":
        recorded = winwcp_sweep_starts(path)
        if recorded is not None and len(recorded) == n_seg and not np.all(
                recorded == recorded[0]):
            starts = recorded
    if n_seg > 1 and np.all(starts == starts[0]):
        logger.warning("%s: the file stores no sweep start times; sweeps placed back to back "
                       "every %.6g s", path, sweep_s)
        starts = starts[0] + np.arange(n_seg) * sweep_s
    return starts


def _rawio_sweeps(reader: Any, samples: NeoRawSamples, sfreq: float, path: Path,
                  io_cls: Any, labels: dict[str, Any]) -> Recording:
    """Every segment as a sweep (loaded; cut to the shortest), with sweep start times
    and each segment's events from its own start."""
    stream_index = samples.stream_index
    n_seg = reader.segment_count(0)
    n_t = min(int(reader.get_signal_size(0, s, stream_index=stream_index))
              for s in range(n_seg))
    idx = np.arange(len(labels["ch_names"]))
    sweeps = np.stack([samples.read(idx, 0, n_t, segment=s) for s in range(n_seg)])
    starts = _rawio_sweep_starts(reader, path, io_cls, stream_index, n_seg, n_t / sfreq)
    events = []
    for s in range(n_seg):
        events += _rawio_events(reader, s, float(reader.get_signal_t_start(
            0, s, stream_index=stream_index)), s)
    return Recording(sweeps, sfreq, sweep_starts=starts,
                     events=pd.DataFrame(events) if events else None, **labels)


def _neo_source(path: Path, io_cls: Any) -> Source:
    """The source of a file read by the Neo IO ``io_cls`` (one file: ``path``)."""
    return Source(str(path), io_cls.__name__.removesuffix("IO").lower(),
                  f"neo.io.{io_cls.__name__}", (str(path),))


def _file_clock(reader: Any) -> dict[str, str]:
    """``{"rec_datetime": ISO time}`` when the file header gives its recording start (ABF,
    WinWCP...): joining several files of one experiment on the real clock needs it."""
    try:
        stamp = reader.raw_annotations["blocks"][0].get("rec_datetime")
    except (AttributeError, IndexError, KeyError, TypeError):
        return {}
    return {} if stamp is None else {"rec_datetime": stamp.isoformat()}


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
    units: dict[str, str] | str | list[str] | None = None,
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
    units : dict, str or list, optional
        Unit the values are really in, overriding the file: ``{channel: unit}`` (a channel
        not in the file is an error naming it and listing the channels), one string for
        every channel, or a list in channel order.
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
    with captured_warnings() as messages:
        rec = _read_neo_quiet(path, io_cls, units, ch_types, channels, episodic, io_kwargs,
                              lazy)
    check_typed_names(ch_types, rec.ch_names, path)
    flags = resolve_warnings(messages, path, "Neo", rec.ch_names, [_NEO_UNIT_WARNING])
    for name, what in flags.items():
        add_reader_flag(rec, name, what[0], path, "named in a Neo warning (see above)")
    _type_aux_channels(rec, path, ch_types)
    return rec


#: Neo's note on unit strings it cannot parse: ketephys converts those itself (_unit_of)
_NEO_UNIT_WARNING = re.compile(r'^Units ".*" can not be converted to a quantity')


def _read_neo_quiet(path: Path, io_cls: Any, units: Any, ch_types: dict[str, str] | None,
                    channels: list[str] | None, episodic: bool | None,
                    io_kwargs: dict[str, Any] | None, lazy: bool) -> Recording:
    """:func:`read_neo` without the warning handling (the caller captures them)."""
    try:
        reader = _open(io_cls, path, io_kwargs)
        units = _unit_overrides(units, reader, path)
        rec = None
        if _is_rawio(reader):
            rec = _read_rawio(reader, path, io_cls, units, ch_types, channels, episodic,
                              lazy)
            if rec is not None and rec.n_times == 0:
                raise CorruptFileError(f"holds no samples (Neo {io_cls.__name__} finds "
                                       f"{rec.n_channels} channels x 0 time points)", path)
            if rec is not None and rec.is_lazy:  # a file cut inside its data fails now
                rec.get_data(start=0, stop=1)
                rec.get_data(start=rec.n_times - 1, stop=rec.n_times)
        if rec is not None:
            return rec
        block = _read_block(reader)
    except KetephysError:
        raise
    except FileNotFoundError as exc:
        raise KetephysError(f"a file it needs is missing: {exc}", path) from exc
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        hint = "truncated or corrupt" if any(h in str(exc) for h in _TRUNCATION_HINTS) else (
            "corrupt or not this format")
        raise CorruptFileError(f"Neo {io_cls.__name__} cannot read it ({hint}): {text}",
                               path) from exc
    return _from_block(block, reader, path, io_cls, units, ch_types, channels, episodic)


#: an auxiliary DC input: |median| above this (V), which no physiological potential reaches
AUX_DC_MIN_V = 0.5
#: ... and peak-to-peak below this fraction of |median| (DC-flat: no stimulus, no response)
AUX_DC_MAX_RIPPLE = 0.1
_AUX_PROBE_SAMPLES = 1_000_000


def _type_aux_channels(rec: Recording, path: Path, ch_types: dict[str, str] | None) -> None:
    """Type ``misc`` (flag ``aux_dc``) the volt channels Neo typed ``field`` that are
    auxiliary DC inputs, not potentials: median magnitude > :data:`AUX_DC_MIN_V` and
    peak-to-peak < :data:`AUX_DC_MAX_RIPPLE` x median (e.g. pyABF's f1.abf ``IN 2``/``IN 3``,
    ~3 V DC labelled mV), so no stimulus search runs on them. Channels typed by the user
    are left alone."""
    cands = [i for i, (n, t, u) in enumerate(zip(rec.ch_names, rec.ch_types, rec.units))
             if t == "field" and u == "V" and n not in (ch_types or {})]
    if not cands:
        return
    stop = min(rec.n_times, _AUX_PROBE_SAMPLES)
    block = (rec.data[:, cands] if rec.is_episodic else
             rec.get_data(cands, 0, stop)[np.newaxis])
    types = list(rec.ch_types)
    for j, i in enumerate(cands):
        values = np.asarray(block[:, j], dtype=float)
        if not np.isfinite(values).all():
            continue
        level = abs(float(np.median(values)))
        if level > AUX_DC_MIN_V and float(np.ptp(values)) < AUX_DC_MAX_RIPPLE * level:
            types[i] = "misc"
            add_reader_flag(rec, rec.ch_names[i], "aux_dc", path,
                            f"a DC-flat auxiliary input at {level:.3g} V, typed misc")
    rec.ch_types = types


def _from_block(block: Any, reader: Any, path: Path, io_cls: Any, units: dict[str, str],
                ch_types: dict[str, str] | None, channels: list[str] | None,
                episodic: bool | None) -> Recording:
    """A recording from a loaded Neo block (IOs without a rawio layer)."""
    if not block.segments or not any(seg.analogsignals for seg in block.segments):
        raise CorruptFileError(f"Neo {io_cls.__name__} finds no analog signal in it (empty, "
                               "corrupt or not this format)", path)
    overrides = dict(units)
    for name, unit in _header_units(reader).items():
        if name in overrides or not unit:
            continue
        sig = _first_signal(block, name)
        if sig is not None and sig.units.dimensionality.string == "dimensionless":
            base, factor = _unit_of(name, unit, {}, path)
            if base:
                overrides[name] = unit
    _fill_missing_sweep_starts(block, path)
    source = _neo_source(path, io_cls)
    return Recording.from_neo(block, units=overrides, channels=channels, ch_types=ch_types,
                              source=source, episodic=episodic)


def _first_signal(block: Any, name: str) -> Any:
    if not block.segments:
        return None
    for sig in block.segments[0].analogsignals:
        if str(sig.name) == name:
            return sig
    return None


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
