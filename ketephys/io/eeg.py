"""EEG files through MNE: EDF/BDF (EDF+ annotations), BrainVision, EEGLAB, FIF.

The readers are MNE's; this module only checks the file before handing it over (so a
truncated or mismatched file fails with a clear message instead of loading silently short),
tidies channel names and types, and wraps the result in a lazy
:class:`~ketephys.recording.Recording` (``preload=False``: samples are read on demand).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._mne import file_subject, pick_mne_channels
from ..errors import CorruptFileError, KetephysError, MissingCompanionError
from ..recording import Recording, Source
from ._files import sniff_eeglab, unique_paths
from .companions import eeglab_data_file, eeglab_header, format_files, vhdr_entries
from .flags import add_reader_flag, captured_warnings, resolve_warnings

__all__ = ["read_mne", "recording_from_mne", "clean_channel_names", "guess_channel_types", "check_edf_size",
           "check_brainvision", "EEG_FORMATS"]

logger = logging.getLogger(__name__)

#: format name -> (MNE reader name, extensions)
EEG_FORMATS = {
    "edf": ("read_raw_edf", (".edf",)),
    "bdf": ("read_raw_bdf", (".bdf",)),
    "brainvision": ("read_raw_brainvision", (".vhdr",)),
    "eeglab": ("read_raw_eeglab", (".set",)),
    "fif": ("read_raw_fif", (".fif", ".fif.gz")),
}

# Name patterns of non-EEG channels that MNE types "eeg" in EDF/BDF/EEGLAB files.
_TYPE_PATTERNS = (
    ("eog", re.compile(r"(^|[^a-z])(h|v)?eog", re.I)),
    ("emg", re.compile(r"(^|[^a-z])emg", re.I)),
    ("ecg", re.compile(r"(^|[^a-z])(ecg|ekg)", re.I)),
    ("stim", re.compile(r"^(sti\w*|trig\w*|status|marker\w*|events?)$", re.I)),
    ("misc", re.compile(r"^(acc\w*|accel\w*|gyro\w*|resp\w*|temp\w*|photic|light)$", re.I)),
)
_MNE_TYPE_OF = {"eog": "eog", "emg": "emg", "ecg": "ecg", "stim": "stim", "misc": "misc"}


@functools.lru_cache(maxsize=1)
def _standard_names() -> dict[str, str]:
    """Lower-case -> montage spelling of the 10-05 electrode names."""
    import mne

    builtin = mne.channels.get_builtin_montages()
    name = "colin27_1005" if "colin27_1005" in builtin else "standard_1005"
    return {n.lower(): n for n in mne.channels.make_standard_montage(name).ch_names}


def clean_channel_names(names: list[str]) -> dict[str, str]:
    """Renames that tidy EEG channel names.

    Strips spaces and the dot padding of BCI2000 EDF files (``"Fc5."`` -> ``"Fc5"``,
    ``"C3.."`` -> ``"C3"``) and spells 10-05 electrode names as the standard montage
    does (``"FPz"`` -> ``"Fpz"``, ``"FC5"`` unchanged).

    Parameters
    ----------
    names : list of str
        The channel names as the file gives them.

    Returns
    -------
    dict of str to str
        Old name -> new name for the names that change only; empty when two channels
        would end up with one name (then the file's names are kept).
    """
    standard = _standard_names()
    proposal = {}
    for name in names:
        new = name.strip().strip(".").strip()
        new = standard.get(new.lower(), new) if new else name
        if new and new != name:
            proposal[name] = new
    final = [proposal.get(n, n) for n in names]
    if len(set(final)) != len(final):  # a clash: keep the names the file gave
        return {}
    return proposal


def guess_channel_types(names: list[str], types: list[str]) -> dict[str, str]:
    """MNE channel types that the channel names tell better than MNE did.

    Channels MNE typed ``"eeg"`` whose name says otherwise (``EOG1`` -> eog, ``EMG`` ->
    emg, ``ECG``/``EKG`` -> ecg, ``Trigger``/``STI 014`` -> stim, ``acc1`` -> misc), and
    ``"misc"`` channels named EOG/EMG/ECG (BrainVision channels without coordinates).

    Parameters
    ----------
    names : list of str
        Channel names.
    types : list of str
        Their MNE channel types, in the same order.

    Returns
    -------
    dict of str to str
        Channel name -> MNE type, for the channels to retype only.
    """
    out = {}
    for name, kind in zip(names, types):
        if kind not in {"eeg", "misc"}:
            continue
        for new, pattern in _TYPE_PATTERNS:
            if kind == "misc" and new not in {"eog", "emg", "ecg"}:
                continue
            if pattern.search(name.strip()):
                out[name] = _MNE_TYPE_OF[new]
                break
    return out


_EDF_FIELDS = {"label": (0, 16), "pmin": (104, 8), "pmax": (112, 8), "dmin": (120, 8),
               "dmax": (128, 8), "n_samples": (216, 8)}  # offset (x n_signals), width
_ANNOT_LABELS = {"EDF Annotations", "BDF Annotations"}
_MIXED_RATE_WARNING = re.compile(r"mixed sampling frequencies and preload=False", re.I)
_RECORD_COUNT_WARNING = re.compile(r"number of records from the header does not match", re.I)
_OUTSIDE_ANNOTATION_WARNING = re.compile(r"annotation\(s\) that were outside data range",
                                         re.I)
_TAL_ONSET = re.compile(rb"^([+-]\d+(?:\.\d*)?)\x14")


@dataclass
class EdfLayout:
    """What :func:`check_edf_size` learnt from an EDF/BDF header.

    Attributes
    ----------
    gaps : list of (float, float)
        ``(position_s, gap_s)``: where, in the samples MNE returns back to back, the
        EDF+ time-keeping annotations show missing time, and how much.
    start : float
        Time-keeping onset of the first data record (s; EDF+ annotations count from it).
    mixed_rates : bool
        Data signals have different numbers of samples per record.
    n_records_unknown : bool
        The header gives -1 records (MNE infers them from the file size).
    empty_signals : list of str
        Labels of data signals with 0 samples per record (MNE fills them with zeros).
    """

    gaps: list[tuple[float, float]] = field(default_factory=list)
    start: float = 0.0
    empty_signals: list[str] = field(default_factory=list)
    mixed_rates: bool = False
    n_records_unknown: bool = False


class GapPadded:
    """Lazy ``(n_channels, n_times)`` view of a recording whose samples were joined over
    time gaps: the gaps are put back as NaN samples; ``read(picks, start, stop)`` reads
    only the joined samples that fall in the block."""

    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, joined: Recording, gaps: list[tuple[int, int]]):
        self._joined = joined
        self.gaps = sorted(gaps)  # (position in joined samples, gap length in samples)
        self.shape = (joined.n_channels, joined.n_times + sum(g for _, g in self.gaps))

    def _pieces(self) -> list[tuple[int, int, int]]:
        """``(out_start, joined_start, joined_stop)`` of each piece of real samples."""
        out, shift, prev = [], 0, 0
        for pos, gap in [*self.gaps, (self._joined.n_times, 0)]:
            out.append((prev + shift, prev, pos))
            shift += gap
            prev = pos
        return out

    def read(self, picks: Any, start: int, stop: int) -> np.ndarray:
        picks = np.asarray(picks, dtype=int)
        block = np.full((picks.size, max(stop - start, 0)), np.nan)
        for out0, j0, j1 in self._pieces():
            a, b = max(start, out0), min(stop, out0 + (j1 - j0))
            if a < b:
                block[:, a - start:b - start] = self._joined.get_data(
                    picks, j0 + (a - out0), j0 + (b - out0))
        return block

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.read(np.arange(self.shape[0]), 0, self.shape[1])
        return out if dtype is None else out.astype(dtype, copy=False)


def _with_gaps(rec: Recording, layout: EdfLayout, path: Path) -> Recording:
    """``rec`` (samples joined over EDF+ gaps) on its real time base: NaN samples in each
    gap, a ``BAD_gap`` event over it, and the file's annotations at their real times."""
    import mne
    import pandas as pd

    sf = rec.sfreq
    gaps = [(int(round(pos * sf)), int(round(gap * sf))) for pos, gap in layout.gaps]
    with captured_warnings():  # the same file MNE just read; its notes were resolved
        annots = mne.read_annotations(path)
    events = pd.DataFrame({"onset": annots.onset - layout.start,
                           "duration": annots.duration,
                           "description": [str(d) for d in annots.description]})
    shift = 0
    bad = []
    for pos, gap in gaps:
        bad.append({"onset": (pos + shift) / sf, "duration": gap / sf,
                    "description": "BAD_gap"})
        shift += gap
    events = pd.concat([events, pd.DataFrame(bad)], ignore_index=True).sort_values(
        "onset", kind="stable")
    return Recording(GapPadded(rec, gaps), sf, list(rec.ch_names), ch_types=list(rec.ch_types),
                     units=list(rec.units), events=events.reset_index(drop=True),
                     meta=rec.meta, source=rec.source)


def _edf_signal_fields(fh: Any, n_signals: int, path: Path) -> dict[str, list[str]]:
    fh.seek(256)
    block = fh.read(256 * n_signals)
    if len(block) < 256 * n_signals:
        raise CorruptFileError("truncated inside the EDF header", path)
    out = {}
    for key, (off, width) in _EDF_FIELDS.items():
        start = off * n_signals
        out[key] = [block[start + i * width:start + (i + 1) * width].decode("latin-1").strip()
                    for i in range(n_signals)]
    return out


def _check_edf_scaling(fields: dict[str, list[str]], path: Path) -> None:
    """Raise when a data signal's digital or physical range is zero (scaling undefined)."""
    for i, label in enumerate(fields["label"]):
        if label in _ANNOT_LABELS or fields["n_samples"][i] in {"0", ""}:
            continue
        for kind, lo, hi in (("digital", "dmin", "dmax"), ("physical", "pmin", "pmax")):
            try:
                low, high = float(fields[lo][i]), float(fields[hi][i])
            except ValueError:
                continue  # MNE names the unreadable field
            if low == high:
                raise CorruptFileError(
                    f"signal {label!r} has {kind} minimum = maximum ({fields[lo][i]}): its "
                    "scaling to volts is undefined, so its values cannot be read", path)


def check_edf_size(path: Path) -> EdfLayout:
    """Check an EDF/BDF header against its file before MNE reads it.

    Parameters
    ----------
    path : Path
        The ``.edf`` or ``.bdf`` file.

    Returns
    -------
    EdfLayout
        Time gaps of EDF+/BDF+ files (from the time-keeping annotations), mixed rates,
        signals without samples.

    Raises
    ------
    CorruptFileError
        When the file is not an EDF/BDF; is shorter or longer than the header's record
        count (-1, unknown, is accepted); has a record duration that is not a positive
        finite number of seconds (0, negative, NaN); has no data signal with samples; has
        a data signal whose digital or physical range is zero (MNE would read it
        mis-scaled); or EDF+ records that overlap in time.
    """
    head, header_bytes, n_records, fields = _edf_header(path)
    per_record = _samples_per_record(fields, path)
    data_sigs = [n for n, lab in zip(per_record, fields["label"]) if lab not in _ANNOT_LABELS]
    duration = _record_duration(head, data_sigs, path)
    _check_edf_scaling(fields, path)
    width = 3 if head[:8] == b"\xffBIOSEMI" else 2
    layout = EdfLayout(mixed_rates=len({n for n in data_sigs if n}) > 1,
                       n_records_unknown=n_records < 0,
                       empty_signals=[lab for n, lab in zip(per_record, fields["label"])
                                      if n == 0 and lab not in _ANNOT_LABELS])
    record_bytes = sum(per_record) * width
    if record_bytes == 0:
        return layout
    whole = _whole_records(path, header_bytes, n_records, record_bytes)
    reserved = head[192:236].decode("latin-1")
    if reserved.startswith(("EDF+", "BDF+")) and duration and duration > 0:
        layout.start, layout.gaps = _edf_gaps(path, fields["label"], per_record, width,
                                              header_bytes, whole, duration)
    return layout


def _edf_header(path: Path) -> tuple[bytes, int, int, dict[str, list[str]]]:
    """The 256-byte main header, header size, record count and per-signal fields of an
    EDF/BDF, checked: the signature, numeric counts, header size = 256 x (signals + 1)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(256)
        if len(head) < 256:
            raise CorruptFileError(f"truncated: {size} bytes, an EDF/BDF header alone is 256",
                                   path)
        if not (head[:8] == b"0       " or head[:8] == b"\xffBIOSEMI"):
            raise CorruptFileError("not an EDF/BDF file (the first 8 bytes are not the "
                                   "EDF version '0' or the BDF signature)", path)
        try:
            header_bytes = int(head[184:192].decode("ascii").strip())
            n_records = int(head[236:244].decode("ascii").strip())
            n_signals = int(head[252:256].decode("ascii").strip())
        except (UnicodeDecodeError, ValueError) as exc:
            raise CorruptFileError("EDF header fields (header size, record count, signal "
                                   "count) are not numbers", path) from exc
        if n_signals <= 0 or header_bytes != 256 * (n_signals + 1):
            raise CorruptFileError(
                f"EDF header says {n_signals} signals and {header_bytes} header bytes; "
                f"expected {256 * (max(n_signals, 0) + 1)}", path)
        fields = _edf_signal_fields(fh, n_signals, path)
    return head, header_bytes, n_records, fields


def _samples_per_record(fields: dict[str, list[str]], path: Path) -> list[int]:
    """Samples per data record of each signal (CorruptFileError unless whole >= 0)."""
    try:
        per_record = [int(v) for v in fields["n_samples"]]
    except ValueError as exc:
        raise CorruptFileError("EDF 'samples per record' fields are not numbers", path) from exc
    if min(per_record) < 0:
        raise CorruptFileError("EDF header gives a negative number of samples per record",
                               path)
    return per_record


def _record_duration(head: bytes, data_sigs: list[int], path: Path) -> float | None:
    """Seconds per data record (None when unreadable: MNE names the field);
    CorruptFileError for a duration that is not a positive finite number (0, negative,
    NaN, infinite) with samples, or when no data signal has samples."""
    try:
        duration = float(head[244:252].decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        duration = None  # MNE names the field
    if duration == 0 and any(data_sigs):
        raise CorruptFileError("EDF record duration is 0 s: the header gives no time base "
                               "for its signals (MNE would assume 1 s records)", path)
    if duration is not None and not 0 < duration < np.inf and any(data_sigs):
        raise CorruptFileError(
            f"EDF record duration is {head[244:252].decode('ascii').strip()!r} s: it must "
            "be a positive, finite number of seconds (it sets every signal's sampling "
            "rate)", path)
    if not any(data_sigs):
        raise CorruptFileError("holds no samples: every data signal has 0 samples per "
                               "record", path)
    return duration


def _whole_records(path: Path, header_bytes: int, n_records: int, record_bytes: int) -> int:
    """The number of whole data records in the file, which must be the header's count
    (unless -1, unknown); bytes after the last whole record are logged and ignored."""
    size = path.stat().st_size
    whole, extra = divmod(size - header_bytes, record_bytes)
    if n_records >= 0:
        expected = header_bytes + n_records * record_bytes
        if size < expected:
            raise CorruptFileError(
                f"truncated: the header promises {n_records} data records ({expected} "
                f"bytes) but the file has {size} bytes ({100 * size / expected:.0f} %)", path)
        if whole != n_records:
            raise CorruptFileError(
                f"the header says {n_records} data records but the file holds {whole}; "
                "which is right cannot be told (write -1 in the header if the count is "
                "unknown)", path)
    if extra:
        logger.warning("%s: %d bytes after the last whole data record are ignored", path,
                       extra)
    return whole


def _edf_gaps(path: Path, labels: list[str], per_record: list[int], width: int,
              header_bytes: int, n_records: int, duration: float
              ) -> tuple[float, list[tuple[float, float]]]:
    """Onset of the first EDF+ data record and the time gaps between records, from each
    record's time-keeping annotation."""
    tal = [i for i, lab in enumerate(labels) if lab in _ANNOT_LABELS]
    if not tal or n_records < 1:
        return 0.0, []
    start = sum(per_record[:tal[0]]) * width
    stop = start + per_record[tal[0]] * width
    rows = np.memmap(path, dtype=np.uint8, mode="r", offset=header_bytes,
                     shape=(n_records, sum(per_record) * width))
    onsets = []
    for r in range(n_records):
        m = _TAL_ONSET.match(rows[r, start:stop].tobytes())
        if m is None:
            raise CorruptFileError(f"EDF+ data record {r} has no time-keeping annotation",
                                   path)
        onsets.append(float(m.group(1)))
    del rows
    gaps = []
    tol = 1e-6 + duration * 1e-6
    for r in range(1, n_records):
        step = onsets[r] - onsets[r - 1]
        if step < duration - tol:
            raise CorruptFileError(
                f"EDF+ data record {r} starts at {onsets[r]:g} s, before the previous "
                f"record ends ({onsets[r - 1] + duration:g} s): records overlap", path)
        if step > duration + tol:
            gaps.append((r * duration, step - duration))
    return onsets[0], gaps


def check_brainvision(path: Path) -> None:
    """Check a BrainVision header against its files before MNE reads it.

    Parameters
    ----------
    path : Path
        The ``.vhdr`` file.

    Raises
    ------
    MissingCompanionError
        When the data or marker file named in the header is missing.
    CorruptFileError
        When the header names no data file or gives no positive sampling interval; its
        ``NumberOfChannels`` disagrees with ``[Channel Infos]``; or the binary data file
        is empty, not whole multiplexed frames, not the size ``DataPoints`` gives, or
        shorter than the last marker's position.
    """
    entries = vhdr_entries(path)
    _check_vhdr_files(entries, path)
    _check_sampling_interval(entries.get("SamplingInterval", ""), path)
    if entries.get("DataFormat", "BINARY").upper() != "BINARY":
        return
    width = {"INT_16": 2, "UINT_16": 2, "INT_32": 4, "IEEE_FLOAT_32": 4}.get(
        entries.get("BinaryFormat", "INT_16").upper())
    try:
        n_ch = int(entries.get("NumberOfChannels", "0"))
    except ValueError as exc:
        raise CorruptFileError("NumberOfChannels is not a number", path) from exc
    if width is None or n_ch <= 0:
        return  # MNE will name the problem
    listed = _channel_info_count(path)
    if listed is not None and listed != n_ch:
        raise CorruptFileError(f"NumberOfChannels={n_ch} but [Channel Infos] lists {listed} "
                               "channels", path)
    data = path.parent / entries["DataFile"]
    n_frames = _check_vhdr_data_size(data, entries, width, n_ch, path)
    marker = entries.get("MarkerFile")
    if marker:
        last = _last_marker_sample(path.parent / marker)
        if last is not None and last > n_frames:
            raise CorruptFileError(
                f"data file {data.name} is truncated: it holds {n_frames} samples but "
                f"the marker file places a marker at sample {last}", path)


def _check_vhdr_files(entries: dict[str, str], path: Path) -> None:
    """The data file the header must name, and the marker file it may name, exist."""
    for key in ("DataFile", "MarkerFile"):
        name = entries.get(key)
        if key == "DataFile" and not name:
            raise CorruptFileError("the header names no DataFile", path)
        if name and not (path.parent / name).is_file():
            raise MissingCompanionError(f"{key} {name!r} named in the header is missing", path)


def _check_sampling_interval(interval: str, path: Path) -> None:
    """``SamplingInterval`` (µs) must be a positive number."""
    try:
        ok = float(interval) > 0
    except ValueError:
        ok = False
    if not ok:
        raise CorruptFileError(f"SamplingInterval={interval!r}: the sampling interval (in "
                               "µs) must be a positive number", path)


def _check_vhdr_data_size(data: Path, entries: dict[str, str], width: int, n_ch: int,
                          path: Path) -> int:
    """The number of multiplexed frames (time points) in the binary data file, which must
    be non-empty, whole frames of ``n_ch`` x ``width`` bytes and, when the header gives
    ``DataPoints``, exactly that many."""
    size = data.stat().st_size
    if size == 0:
        raise CorruptFileError(f"the data file {data.name} is empty", path)
    frame = width * n_ch
    declared = (f"NumberOfChannels={n_ch}, BinaryFormat="
                f"{entries.get('BinaryFormat', 'INT_16')} ({width} bytes per value)")
    if size % frame:
        raise CorruptFileError(
            f"data file {data.name} does not fit the header: {declared} make frames of "
            f"{frame} bytes, but the file's {size} bytes are not a whole number of them "
            f"({size / frame:.2f} frames); the header is wrong or the file truncated", path)
    points = entries.get("DataPoints", "").strip()
    if not (points.isdigit() and int(points) > 0):
        return size // frame
    expected = int(points) * frame
    if size < expected:
        raise CorruptFileError(
            f"data file {data.name} is truncated: the header promises {points} samples "
            f"x {n_ch} channels ({expected} bytes), the file has {size} bytes", path)
    if size > expected:
        per_point = size / int(points)
        raise CorruptFileError(
            f"data file {data.name} does not fit the header: {declared} and "
            f"DataPoints={points} give {expected} bytes, but the file has {size} "
            f"bytes, i.e. {per_point:g} bytes per time point (e.g. "
            f"{per_point / width:g} channels of {width} bytes, or {n_ch} channels of "
            f"{per_point / n_ch:g} bytes)", path)
    return size // frame


def _channel_info_count(vhdr: Path) -> int | None:
    """Number of ``ChN=`` lines in the ``[Channel Infos]`` section (None without one)."""
    section, count, seen = None, 0, False
    for line in vhdr.read_bytes().decode("latin-1").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.lower()
            seen = seen or section == "[channel infos]"
        elif section == "[channel infos]" and re.match(r"^Ch\d+=", line):
            count += 1
    return count if seen else None


def _last_marker_sample(vmrk: Path) -> int | None:
    """The largest 1-based marker position in a ``.vmrk`` (None when there is none)."""
    try:
        text = vmrk.read_bytes().decode("latin-1")
    except OSError:
        return None
    positions = []
    for line in text.splitlines():
        if re.match(r"^Mk\d+=", line):
            fields = line.split("=", 1)[1].split(",")
            if len(fields) > 2 and re.fullmatch(r"\s*-?\d+\s*", fields[2]):
                if int(fields[2]) < 1:  # MNE would drop it without a word
                    raise CorruptFileError(
                        f"marker {line.split('=', 1)[0]} is at position {fields[2].strip()}; "
                        "positions count from 1", vmrk)
                positions.append(int(fields[2]))
    return max(positions) if positions else None


def check_eeglab(path: Path) -> None:
    """Raise CorruptFileError when a ``.set`` is not a MATLAB/HDF5 file (EEGLAB), or when
    the ``.fdt`` holding its samples is shorter than the ``.set`` says (the message names
    the ``.fdt``). A missing ``.fdt`` is reported from MNE's FileNotFoundError, and a
    ``.set`` that cannot be parsed from MNE's error."""
    if not sniff_eeglab(path):
        raise CorruptFileError("not an EEGLAB .set (neither a MATLAB nor an HDF5 file)", path)
    try:
        header = eeglab_header(path)
        fdt = eeglab_data_file(path, header)
    except CorruptFileError:
        return  # MNE names what it cannot parse
    if fdt is not None and fdt.is_file():
        _check_fdt_size(path, header, fdt)


def _eeglab_dims(eeg: dict[str, Any]) -> tuple[int, int, int] | None:
    """``(nbchan, pnts, trials)`` of an EEGLAB header (None when not whole numbers)."""
    try:
        dims = tuple(float(eeg[key]) for key in ("nbchan", "pnts", "trials"))
    except (KeyError, TypeError, ValueError):
        return None
    if not all(d.is_integer() and d > 0 for d in dims):
        return None
    return int(dims[0]), int(dims[1]), int(dims[2])


def _check_fdt_size(path: Path, header: dict[str, Any], fdt: Path) -> None:
    """CorruptFileError naming ``fdt`` when it holds fewer bytes than the
    channels x time points x trials float32 values the ``.set`` (``header``) declares."""
    dims = _eeglab_dims(header)
    if dims is None:
        return  # MNE names the field
    n_ch, n_times, n_trials = dims
    expected = 4 * n_ch * n_times * n_trials  # EEGLAB data files are float32
    size = fdt.stat().st_size
    if size < expected:
        trials = f" x {n_trials} trials" if n_trials > 1 else ""
        raise CorruptFileError(
            f"data file {fdt.name} is truncated: the .set promises {n_times} samples x "
            f"{n_ch} channels{trials} of float32 ({expected} bytes), the file has {size} "
            f"bytes ({100 * size / expected:.0f} %)", path)


def _open_mne(path: Path, fmt: str, preload: bool) -> Any:
    import mne

    if fmt == "fif":
        try:
            return mne.io.read_raw_fif(path, preload=preload, verbose="warning")
        except ValueError as exc:
            if "epoch" not in str(exc).lower() and "No raw data" not in str(exc):
                raise
            return mne.read_epochs(path, preload=True, verbose="warning")
    reader = getattr(mne.io, EEG_FORMATS[fmt][0])
    return reader(path, preload=preload, verbose="warning")


def read_mne(path: str | Path, fmt: str, preload: bool = False,
             rename: bool = True, retype: bool = True,
             channels: list[str] | None = None) -> Recording:
    """Read an EEG file with MNE into a (lazy) recording.

    Parameters
    ----------
    path : path-like
        ``.edf``, ``.bdf``, ``.vhdr``, ``.set`` (EEGLAB) or ``.fif``.
    fmt : str
        One of :data:`EEG_FORMATS`.
    preload : bool
        Load all samples now (default: read them when asked for).
    rename : bool
        Tidy channel names (:func:`clean_channel_names`).
    retype : bool
        Type EOG/EMG/ECG/stim channels that MNE typed eeg (:func:`guess_channel_types`).
    channels : list of str, optional
        Keep only these channels (names after clean-up); the others are never read.

    Returns
    -------
    Recording
        With ``reader_flags`` (see :mod:`ketephys.io.flags`): ``discontinuous`` on every
        channel of an EDF+/BDF+ file whose records have time gaps (the recording keeps
        the real time base: each gap is NaN samples covered by a ``BAD_gap`` event, so
        spectral segments never span it, and annotations sit at their real times),
        ``no_samples`` on EDF signals without samples, and ``reader_warning`` on channels
        an MNE warning names.

    Raises
    ------
    CorruptFileError
        When MNE could only read the file with a guess (undefined scaling, record length
        or count: see :func:`check_edf_size`, :func:`check_brainvision`), or any MNE
        warning of :data:`~ketephys.io.flags.FATAL_WARNINGS`.
    """
    path = Path(path)
    layout = _check_before_mne(path, fmt)
    preload = preload or layout.mixed_rates  # lazy resampling has edge artifacts
    with captured_warnings() as messages:
        inst = _open_checked(path, fmt, preload)
    ignore = [_MIXED_RATE_WARNING] + ([_RECORD_COUNT_WARNING] if layout.n_records_unknown
                                      else [])
    if layout.gaps:  # annotations after a gap: re-read in true time below
        ignore.append(_OUTSIDE_ANNOTATION_WARNING)
    flags = resolve_warnings(messages, path, "MNE", inst.ch_names, ignore)
    reader = "mne.read_epochs" if fmt == "fif" and not hasattr(inst, "n_times") else (
        "mne.io." + EEG_FORMATS[fmt][0])
    files = _opened_files(path, fmt, inst)
    renamed = clean_channel_names(list(inst.ch_names)) if rename else {}
    rec = recording_from_mne(inst, Source(str(path), fmt, reader, files), rename, retype,
                             channels)
    if layout.gaps:
        rec = _with_gaps(rec, layout, path)
    _flag_channels(rec, flags, layout, renamed, path)
    return rec


def _check_before_mne(path: Path, fmt: str) -> EdfLayout:
    """The checks MNE does not make, per format; the EDF/BDF layout (empty otherwise)."""
    if fmt in {"edf", "bdf"}:
        return check_edf_size(path)
    if fmt == "brainvision":
        check_brainvision(path)
    elif fmt == "eeglab":
        check_eeglab(path)
    return EdfLayout()


def _open_checked(path: Path, fmt: str, preload: bool) -> Any:
    """The file opened with MNE (first and last samples probed when lazy); MNE's failures
    as MissingCompanionError (a file not found) or CorruptFileError."""
    try:
        inst = _open_mne(path, fmt, preload)
        if not preload and hasattr(inst, "n_times") and not inst.preload:
            _probe_ends(inst, path)
    except KetephysError:
        raise
    except FileNotFoundError as exc:
        raise MissingCompanionError(f"a file it needs is missing: {exc}", path) from exc
    except Exception as exc:
        raise CorruptFileError(
            f"MNE cannot read it as {fmt}: {type(exc).__name__}: {exc}", path) from exc
    return inst


def _flag_channels(rec: Recording, flags: dict[str, list[str]], layout: EdfLayout,
                   renamed: dict[str, str], path: Path) -> None:
    """Reader flags: channels an MNE warning named (``renamed``: the file's names ->
    the recording's), EDF signals without samples, every channel of a file with gaps."""
    for name, what in flags.items():
        if renamed.get(name, name) in rec.ch_names:
            add_reader_flag(rec, renamed.get(name, name), what[0], path, "named in an MNE "
                            "warning (see above)")
    for label in layout.empty_signals:
        name = renamed.get(label, label)
        if name in rec.ch_names:
            add_reader_flag(rec, name, "no_samples", path, "the EDF header gives it 0 "
                            "samples per record; MNE returns zeros for it")
    if layout.gaps:
        total = sum(g for _, g in layout.gaps)
        for name in rec.ch_names:
            add_reader_flag(rec, name, "discontinuous", path,
                            f"{len(layout.gaps)} time gap(s) ({total:g} s in all) between "
                            "EDF+ records, kept as NaN samples inside BAD_gap events")


def _opened_files(path: Path, fmt: str, inst: Any) -> tuple[str, ...]:
    """The files of ``path`` from its headers (:func:`~ketephys.io.companions.format_files`),
    plus any data file MNE says it read that the headers did not name."""
    files = format_files(path, fmt)
    for name in getattr(inst, "filenames", ()) or ():
        if name is None:
            continue
        name = Path(name)
        if not any(f.exists() and name.exists() and f.samefile(name) for f in files):
            files.append(name)
    return tuple(str(f) for f in unique_paths(files))


def _probe_ends(raw: Any, path: Path) -> None:
    """Read the first and last sample of a lazily opened Raw, so a file that is cut or
    corrupt inside its data fails now, with its name, rather than later in an analysis."""
    last = raw.n_times - 1
    try:
        for start in sorted({0, max(last, 0)}):
            raw.get_data(start=start, stop=start + 1)
    except Exception as exc:
        raise CorruptFileError(
            f"truncated or corrupt: its samples cannot be read ({type(exc).__name__}: {exc})",
            path) from exc


def recording_from_mne(inst: Any, source: Source, rename: bool = True,
                       retype: bool = True, channels: list[str] | None = None) -> Recording:
    """Tidy an MNE Raw/Epochs read from a file and wrap it, lazily, in a recording.

    The reader-specific steps (channel names, types guessed from names) are done here;
    the conversion itself is the one of :meth:`Recording.from_mne
    <ketephys.recording.Recording.from_mne>` (:mod:`ketephys._mne`).

    Parameters
    ----------
    inst : mne.io.BaseRaw or mne.BaseEpochs
        The object MNE (or mne-bids) read; it is renamed, retyped and picked in place.
    source : Source
        The file(s) read and the reader used.
    rename, retype, channels
        As in :func:`read_mne`.

    Returns
    -------
    Recording
        Lazy unless ``inst`` was preloaded; the EDF patient id, when real, is the header
        ``subject``.

    Raises
    ------
    MetadataError
        When ``channels`` names a channel the file does not have.
    """
    if rename:
        mapping = clean_channel_names(list(inst.ch_names))
        if mapping:
            inst.rename_channels(mapping, verbose="error")
    if retype:
        types = guess_channel_types(list(inst.ch_names), inst.get_channel_types())
        if types:
            inst.set_channel_types(types, on_unit_change="ignore", verbose="error")
    pick_mne_channels(inst, channels, source.path)
    subject = file_subject(inst)
    rec = Recording.from_mne(inst, source=source, meta=None)
    if subject is not None and rec.meta.subject is None:
        rec.meta = rec.meta.updated(subject=subject)
    return rec
