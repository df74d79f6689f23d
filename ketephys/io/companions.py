"""Every file a recording is made of, from the headers alone: :func:`files_of`.

A recording can span several files: EEGLAB ``.set`` + ``.fdt``, BrainVision ``.vhdr`` +
``.vmrk`` + data file (named inside the header, possibly with another stem), Axona ``.set``
+ ``.eeg``/``.eeg2``..., a FIF file and its split parts, an array and its JSON sidecar, and
for a file inside a BIDS dataset the ``participants.tsv`` / sessions tables that give its
metadata. :func:`files_of` lists them *without reading any sample*, so a cache can hash
them before reading; :func:`ketephys.io.read` records the same list, main file first, in
``rec.source.files``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import CorruptFileError
from ._files import check_readable, unique_paths
from .axona import axona_channel_files
from .bids import bids_tables_for_file
from .formats import detect_format
from .sidecar import sidecar_path

__all__ = ["files_of", "format_files", "vhdr_entries", "vhdr_companions",
           "eeglab_data_file", "eeglab_header", "fif_split_parts", "metadata_files"]

_SPLIT_BIDS = re.compile(r"_split-(\d+)_")
#: The identification line a BrainVision header starts with: "Brain Vision Data Exchange
#: Header File Version 1.0" (2.0; "BrainVision ..." and the Core/V-Amp variants as MNE
#: accepts them).
_VHDR_ID_LINE = re.compile(
    r"Brain ?Vision( Core| V-Amp)? Data( Exchange)? Header File,? Version \d+\.\d+$")


def vhdr_entries(path: Path) -> dict[str, str]:
    """``key -> value`` of a BrainVision header (first occurrence of each key).

    Parameters
    ----------
    path : Path
        The ``.vhdr`` file.

    Returns
    -------
    dict of str to str
        Every ``key=value`` line outside comments, of every section.

    Raises
    ------
    CorruptFileError
        When the file cannot be read or is not a BrainVision header (its first line,
        after a byte-order mark, is not the identification line).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorruptFileError(f"cannot read the header: {exc}", path) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.removeprefix("\ufeff").removeprefix("\xef\xbb\xbf").splitlines()
    first_line = lines[0].rstrip() if lines else ""  # "\xef\xbb\xbf": a BOM read as Latin-1
    if not _VHDR_ID_LINE.match(first_line):
        raise CorruptFileError(
            f"not a BrainVision header: the first line is {first_line[:80]!r}, not "
            "the identification line 'Brain Vision Data Exchange Header File Version 1.0' "
            "(or 2.0)", path)
    entries: dict[str, str] = {}
    for line in lines:
        if "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            entries.setdefault(key.strip(), value.strip())
    return entries


def vhdr_companions(path: Path) -> list[Path]:
    """The marker and data files a BrainVision header names.

    Parameters
    ----------
    path : Path
        The ``.vhdr`` file.

    Returns
    -------
    list of Path
        ``MarkerFile`` then ``DataFile``, beside the header (those named, existing or not).
    """
    entries = vhdr_entries(path)
    return [path.parent / entries[k] for k in ("MarkerFile", "DataFile") if entries.get(k)]


#: Fields of an EEGLAB ``EEG`` structure left out when only its header is wanted.
_EEGLAB_BULK = ["data", "icaact", "epoch", "event", "urevent", "chanlocs", "urchanlocs",
                "times"]


def eeglab_header(path: Path, keep_data: bool = False) -> dict[str, Any]:
    """The ``EEG`` structure of an EEGLAB ``.set`` without its bulky fields.

    Parameters
    ----------
    path : Path
        The ``.set`` file.
    keep_data : bool
        Also read ``EEG.data`` (the samples, or the data file's name when it is text).

    Returns
    -------
    dict
        The structure's fields (``nbchan``, ``pnts``, ``trials``, ``datfile``...).

    Raises
    ------
    CorruptFileError
        When the ``.set`` cannot be read as MATLAB/HDF5.
    """
    from pymatreader import read_mat

    skip = _EEGLAB_BULK[1:] if keep_data else _EEGLAB_BULK
    try:
        content = read_mat(str(path), ignore_fields=skip)
    except Exception as exc:
        raise CorruptFileError(f"cannot read the EEGLAB .set header: {type(exc).__name__}: "
                               f"{exc}", path) from exc
    return content.get("EEG", content)


def eeglab_data_file(path: Path, header: dict[str, Any] | None = None) -> Path | None:
    """The ``.fdt`` an EEGLAB ``.set`` keeps its samples in.

    The name comes from the ``.set`` (``EEG.datfile``, else ``EEG.data`` when it is text);
    when that file is missing but ``<stem>.fdt`` exists, that one (as MNE does).

    Parameters
    ----------
    path : Path
        The ``.set`` file.
    header : dict, optional
        Its :func:`eeglab_header`, when the caller has read it already.

    Returns
    -------
    Path or None
        The data file (existing or not), or None when the samples are in the ``.set``.

    Raises
    ------
    CorruptFileError
        When the ``.set`` cannot be read as MATLAB/HDF5.
    """
    eeg = eeglab_header(path) if header is None else header
    name = eeg.get("datfile")
    if not isinstance(name, str) or not name.strip():
        name = eeglab_header(path, keep_data=True).get("data")
    if not isinstance(name, str) or not name.strip():
        return None
    named = path.parent / name.strip()
    if not named.is_file() and path.with_suffix(".fdt").is_file():
        return path.with_suffix(".fdt")
    return named


def fif_split_parts(path: Path) -> list[Path]:
    """The split continuation files of a FIF recording that exist beside it.

    Parameters
    ----------
    path : Path
        The first FIF file.

    Returns
    -------
    list of Path
        ``x-1.fif``, ``x-2.fif``... (MNE naming) or ``..._split-02_...`` (BIDS naming),
        in order, up to the first missing one.
    """
    parts = []
    m = _SPLIT_BIDS.search(path.name)
    for i in range(1, 1000):
        if m:
            num = int(m.group(1)) + i
            name = _SPLIT_BIDS.sub(f"_split-{num:0{len(m.group(1))}d}_", path.name, count=1)
        else:
            stem = path.name[:-len(".fif.gz")] if path.name.endswith(".fif.gz") else path.stem
            name = f"{stem}-{i}{path.name[len(stem):]}"
        cand = path.parent / name
        if not cand.is_file():
            break
        parts.append(cand)
    return parts


def format_files(path: Path, fmt: str) -> list[Path]:
    """The files the reader of family ``fmt`` opens for ``path``, main file first.

    Parameters
    ----------
    path : Path
        The file the reader is given (for BrainVision, the ``.vhdr``).
    fmt : str
        Reader family (:func:`ketephys.io.detect_format`).

    Returns
    -------
    list of Path
        ``[path]`` plus, by family: brainvision ``.vmrk`` and data file named in the
        header; eeglab ``.fdt``; fif split parts; axona ``.set`` and channel files.
    """
    path = Path(path)
    if fmt == "brainvision":
        return [path, *vhdr_companions(path)]
    if fmt == "eeglab":
        fdt = eeglab_data_file(path)
        return [path] if fdt is None else [path, fdt]
    if fmt == "fif":
        return [path, *fif_split_parts(path)]
    if fmt == "axona":
        setfile, channels = axona_channel_files(path)
        return unique_paths([path, setfile, *channels])
    return [path]


def metadata_files(path: Path, sidecar: bool = True, bids: bool = True) -> list[Path]:
    """The files read for the metadata of a recording (those that exist).

    Parameters
    ----------
    path : Path
        The recording file.
    sidecar : bool
        Include its JSON sidecar.
    bids : bool
        Include ``participants.tsv`` and the subject's sessions table when the file is in
        a BIDS dataset.

    Returns
    -------
    list of Path
        Sidecar first, then the BIDS tables.
    """
    out = []
    if sidecar and sidecar_path(path).is_file():
        out.append(sidecar_path(path))
    if bids:
        out += [p for p in bids_tables_for_file(path) if p.is_file()]
    return out


def files_of(path: str | os.PathLike, format: str | None = None, *, sidecar: bool = True,
             bids: bool = True) -> list[Path]:
    """Every file :func:`ketephys.io.read` opens for ``path``, found from headers only.

    Parameters
    ----------
    path : path-like
        A recording, as given to :func:`ketephys.io.read`.
    format : str, optional
        As in :func:`ketephys.io.read`.
    sidecar, bids : bool
        As in :func:`ketephys.io.read` (both read metadata files when true).

    Returns
    -------
    list of pathlib.Path
        The main file first (for a BrainVision ``.eeg``/``.vmrk``, the ``.vhdr``), then
        the companions: EEGLAB ``.fdt``; BrainVision ``.vmrk`` and data file named in the
        header; Axona ``.set`` and every ``.eeg*``/``.egf*`` channel file read; FIF split
        parts; the JSON sidecar; BIDS ``participants.tsv`` and sessions table. Paths are
        built from ``path`` (relative stays relative), as in ``rec.source.files``.

    Raises
    ------
    KetephysError
        When ``path`` does not exist, is empty, or its header cannot be parsed.
    """
    path = check_readable(path)
    fmt, target = detect_format(path, format)
    return unique_paths([*format_files(target, fmt), *metadata_files(path, sidecar, bids)])
