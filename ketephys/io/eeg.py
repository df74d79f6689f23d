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
from pathlib import Path
from typing import Any

from ..errors import CorruptFileError, KetephysError, MetadataError, MissingCompanionError
from ..recording import Recording, Source
from .companions import format_files, unique_paths, vhdr_entries

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
    """Renames that tidy EEG channel names: strip spaces and the dot padding of BCI2000
    EDF files (``"Fc5."`` -> ``"Fc5"``, ``"C3.."`` -> ``"C3"``), and spell 10-05 electrode
    names as the standard montage does (``"FPz"`` -> ``"Fpz"``, ``"FC5"`` unchanged).

    Returns only the names that change, and never two channels onto one name.
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
    """MNE channel types for channels MNE typed ``"eeg"`` whose name says otherwise
    (``EOG1`` -> eog, ``EMG`` -> emg, ``ECG``/``EKG`` -> ecg, ``Trigger``/``STI 014`` ->
    stim, ``acc1`` -> misc), and for ``"misc"`` channels named EOG/EMG/ECG (BrainVision
    channels without coordinates)."""
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


def check_edf_size(path: Path) -> None:
    """Raise CorruptFileError when an EDF/BDF file is not an EDF/BDF or is shorter than its
    header promises (MNE would load a truncated file silently shorter)."""
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
        except (UnicodeDecodeError, ValueError):
            raise CorruptFileError("EDF header fields (header size, record count, signal "
                                   "count) are not numbers", path) from None
        if n_signals <= 0 or header_bytes != 256 * (n_signals + 1):
            raise CorruptFileError(
                f"EDF header says {n_signals} signals and {header_bytes} header bytes; "
                f"expected {256 * (max(n_signals, 0) + 1)}", path)
        fh.seek(256 + n_signals * 216)
        field = fh.read(n_signals * 8)
    if len(field) < n_signals * 8:
        raise CorruptFileError("truncated inside the EDF header", path)
    try:
        per_record = [int(field[i * 8:(i + 1) * 8].decode("ascii").strip())
                      for i in range(n_signals)]
    except (UnicodeDecodeError, ValueError):
        raise CorruptFileError("EDF 'samples per record' fields are not numbers", path) from None
    if min(per_record) < 0:
        raise CorruptFileError("EDF header gives a negative number of samples per record",
                               path)
    width = 3 if head[:8] == b"\xffBIOSEMI" else 2
    if n_records < 0:  # -1: unknown while recording; MNE infers it from the size
        return
    expected = header_bytes + n_records * sum(per_record) * width
    if size < expected:
        raise CorruptFileError(
            f"truncated: the header promises {n_records} data records ({expected} bytes) "
            f"but the file has {size} bytes ({100 * size / expected:.0f} %)", path)


def check_brainvision(path: Path) -> None:
    """Check a ``.vhdr``: its data and marker files exist and the binary data file holds
    as many samples as the header says (``DataPoints``) in whole multiplexed frames."""
    entries = vhdr_entries(path)
    for key in ("DataFile", "MarkerFile"):
        name = entries.get(key)
        if key == "DataFile" and not name:
            raise CorruptFileError("the header names no DataFile", path)
        if name and not (path.parent / name).is_file():
            raise MissingCompanionError(f"{key} {name!r} named in the header is missing", path)
    if entries.get("DataFormat", "BINARY").upper() != "BINARY":
        return
    width = {"INT_16": 2, "UINT_16": 2, "INT_32": 4, "IEEE_FLOAT_32": 4}.get(
        entries.get("BinaryFormat", "INT_16").upper())
    try:
        n_ch = int(entries.get("NumberOfChannels", "0"))
    except ValueError:
        raise CorruptFileError("NumberOfChannels is not a number", path) from None
    if width is None or n_ch <= 0:
        return  # MNE will name the problem
    data = path.parent / entries["DataFile"]
    size = data.stat().st_size
    if size == 0:
        raise CorruptFileError(f"the data file {data.name} is empty", path)
    frame = width * n_ch
    points = entries.get("DataPoints", "").strip()
    if points.isdigit() and int(points) > 0:
        expected = int(points) * frame
        if size < expected:
            raise CorruptFileError(
                f"data file {data.name} is truncated: the header promises {points} samples "
                f"x {n_ch} channels ({expected} bytes), the file has {size} bytes", path)
    elif size % frame:
        raise CorruptFileError(
            f"data file {data.name} is truncated: {size} bytes is not a whole number of "
            f"{n_ch}-channel samples", path)
    marker = entries.get("MarkerFile")
    if marker:
        last = _last_marker_sample(path.parent / marker)
        if last is not None and last > size // frame:
            raise CorruptFileError(
                f"data file {data.name} is truncated: it holds {size // frame} samples but "
                f"the marker file places a marker at sample {last}", path)


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
            if len(fields) > 2 and fields[2].strip().isdigit():
                positions.append(int(fields[2]))
    return max(positions) if positions else None


def check_eeglab(path: Path) -> None:
    """Raise CorruptFileError when a ``.set`` is not a MATLAB/HDF5 file (EEGLAB).
    A missing ``.fdt`` is reported from MNE's FileNotFoundError."""
    from .dispatch import sniff_eeglab

    if not sniff_eeglab(path):
        raise CorruptFileError("not an EEGLAB .set (neither a MATLAB nor an HDF5 file)", path)


def _open_mne(path: Path, fmt: str, preload: bool) -> Any:
    import mne

    if fmt == "fif":
        try:
            return mne.io.read_raw_fif(path, preload=preload, verbose="error")
        except ValueError as exc:
            if "epoch" not in str(exc).lower() and "No raw data" not in str(exc):
                raise
            return mne.read_epochs(path, preload=True, verbose="error")
    reader = getattr(mne.io, EEG_FORMATS[fmt][0])
    return reader(path, preload=preload, verbose="error")


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
    """
    path = Path(path)
    if fmt in {"edf", "bdf"}:
        check_edf_size(path)
    elif fmt == "brainvision":
        check_brainvision(path)
    elif fmt == "eeglab":
        check_eeglab(path)
    try:
        inst = _open_mne(path, fmt, preload)
    except KetephysError:
        raise
    except FileNotFoundError as exc:
        raise MissingCompanionError(f"a file it needs is missing: {exc}", path) from None
    except Exception as exc:
        raise CorruptFileError(
            f"MNE cannot read it as {fmt}: {type(exc).__name__}: {exc}", path) from None
    if not preload and hasattr(inst, "n_times") and not inst.preload:
        _probe_ends(inst, path)
    reader = "mne.read_epochs" if fmt == "fif" and not hasattr(inst, "n_times") else (
        "mne.io." + EEG_FORMATS[fmt][0])
    files = _opened_files(path, fmt, inst)
    return recording_from_mne(inst, Source(str(path), fmt, reader, files), rename, retype,
                              channels)


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
            path) from None


def recording_from_mne(inst: Any, source: Source, rename: bool = True,
                       retype: bool = True, channels: list[str] | None = None) -> Recording:
    """Tidy an MNE Raw/Epochs read from a file (names, types) and wrap it, lazily, in a
    recording; the EDF patient id, when real, becomes the header ``subject``."""
    if rename:
        mapping = clean_channel_names(list(inst.ch_names))
        if mapping:
            inst.rename_channels(mapping, verbose="error")
    if retype:
        types = guess_channel_types(list(inst.ch_names), inst.get_channel_types())
        if types:
            inst.set_channel_types(types, on_unit_change="ignore", verbose="error")
    if channels:
        missing = [c for c in channels if c not in inst.ch_names]
        if missing:
            raise MetadataError(f"channels {missing} not in the file; it has {inst.ch_names}",
                                source.path)
        inst.pick(list(channels), verbose="error")  # lazy: the others are never read
    header: dict[str, Any] = {}
    subj = inst.info.get("subject_info") or {}
    if subj.get("his_id") and str(subj["his_id"]).strip() not in {"X", ""}:
        header["subject"] = str(subj["his_id"])
    rec = Recording.from_mne(inst, source=source, meta=None)
    if header and rec.meta.subject is None:
        rec.meta = rec.meta.updated(**header)
    return rec
