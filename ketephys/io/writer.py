"""Write a :class:`~ketephys.recording.Recording` to a file that :func:`ketephys.io.read`
reads back.

The format follows the extension:

========================  ============================================================
``.edf`` / ``.bdf``       MNE export (edfio), 16/24-bit: values are quantised to the
                          channel's digital resolution; + ``<stem>.json`` sidecar
``.vhdr``                 BrainVision via MNE export (pybv; float32), with the number
                          of samples (``DataPoints``) in the header + sidecar
``.fif``                  MNE FIF, double precision; metadata inside the file
``.nwb``                  NWB 2 (pynwb): one TimeSeries per sweep with its real start
                          time, float64, metadata inside the file
``.npy`` / ``.npz``       the SI array (float64) + ``<stem>.json`` sidecar
========================  ============================================================

Every file is written to a temporary name in the target folder and then moved into place,
so a crash never leaves a half-written recording.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._check import suggest
from ..errors import KetephysError, UnsupportedFormatError
from ._files import atomic_folder, atomic_path, suffix_of
from .sidecar import recording_sidecar, write_sidecar

__all__ = ["write", "WRITE_FORMATS", "NWB_MARKER"]

#: Extensions :func:`write` understands.
WRITE_FORMATS = (".edf", ".bdf", ".vhdr", ".fif", ".nwb", ".npy", ".npz")
#: Prefix of the JSON kept in ``NWBFile.notes`` by :func:`write`.
NWB_MARKER = "ketephys-nwb:"


def write(rec: Any, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write ``rec`` to ``path`` in the format given by its extension.

    Parameters
    ----------
    rec : Recording
        The recording (continuous or episodic; EDF, BDF and BrainVision take continuous
        recordings only).
    path : path-like
        Target file: ``.edf``, ``.bdf``, ``.vhdr``, ``.fif``, ``.nwb``, ``.npy``, ``.npz``.
    overwrite : bool
        Replace an existing file (and its sidecar).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UnsupportedFormatError
        For another extension, or an episodic recording to a continuous-only format.
    KetephysError
        When the file exists and ``overwrite`` is False, or the export fails.
    """
    path = Path(path)
    ext = suffix_of(path)
    if ext not in WRITE_FORMATS:
        raise UnsupportedFormatError(
            f"cannot write {ext or 'a file without extension'}; use one of {WRITE_FORMATS}"
            f"{suggest(ext, WRITE_FORMATS)}", path)
    if ext in {".edf", ".bdf", ".vhdr"} and rec.is_episodic:
        raise UnsupportedFormatError(
            f"{ext} holds continuous data only; write episodic recordings to .nwb, .fif, "
            ".npy or .npz", path)
    try:
        if ext in {".edf", ".bdf"}:
            _write_mne_export(rec, path, ext[1:], overwrite)
        elif ext == ".vhdr":
            _write_brainvision(rec, path, overwrite)
        elif ext == ".fif":
            _write_fif(rec, path, overwrite)
        elif ext == ".nwb":
            _write_nwb(rec, path, overwrite)
        else:
            _write_array(rec, path, ext, overwrite)
    except KetephysError:
        raise
    except Exception as exc:  # a library failed: say which file and why
        raise KetephysError(f"could not write {ext} file: {type(exc).__name__}: {exc}",
                            path) from exc
    return path


def _mne_raw_for_export(rec: Any) -> Any:
    raw = rec.to_mne()
    with raw.info._unlock():
        raw.info["description"] = None  # EDF/BV headers cannot hold it; the sidecar does
    return raw


def _write_mne_export(rec: Any, path: Path, fmt: str, overwrite: bool) -> None:
    import mne

    if path.with_suffix(".json").exists() and not overwrite:
        raise KetephysError("sidecar exists; pass overwrite=True to replace it",
                            path.with_suffix(".json"))
    raw = _mne_raw_for_export(rec)
    with atomic_path(path, overwrite) as tmp:
        mne.export.export_raw(tmp, raw, fmt=fmt, overwrite=True, verbose="error")
    write_sidecar(path, recording_sidecar(rec, with_events=False), overwrite=True)


def _write_brainvision(rec: Any, path: Path, overwrite: bool) -> None:
    import mne

    if path.with_suffix(".json").exists() and not overwrite:
        raise KetephysError("sidecar exists; pass overwrite=True to replace it",
                            path.with_suffix(".json"))
    raw = _mne_raw_for_export(rec)
    with atomic_folder(path, [".eeg", ".vmrk"], overwrite) as tmp, warnings.catch_warnings():
        # pybv warns that non-voltage channels are unusual in BrainVision; they round-trip
        warnings.simplefilter("ignore", UserWarning)
        mne.export.export_raw(tmp, raw, fmt="brainvision", overwrite=True, verbose="error")
        _add_data_points(tmp, rec.n_times)
    write_sidecar(path, recording_sidecar(rec, with_events=False), overwrite=True)


def _add_data_points(vhdr: Path, n_times: int) -> None:
    """Write ``DataPoints=n_times`` into the ``[Common Infos]`` of a BrainVision header
    (after ``SamplingInterval``), so a reader can tell a data file cut at a whole frame
    from a shorter recording. The header is UTF-8 (``Codepage=UTF-8``, as pybv writes)."""
    text = vhdr.read_text(encoding="utf-8")
    if "\nDataPoints=" in text:  # a pybv that writes it itself
        return
    key = "\nSamplingInterval="
    at = text.index(key)
    end = text.index("\n", at + len(key))
    newline = "\r\n" if text[end - 1] == "\r" else "\n"
    line = (f"; Number of time points (samples) per channel in the data file{newline}"
            f"DataPoints={n_times}{newline}")
    vhdr.write_text(text[:end + 1] + line + text[end + 1:], encoding="utf-8", newline="")


def _write_fif(rec: Any, path: Path, overwrite: bool) -> None:
    inst = rec.to_mne()
    # MNE checks FIF naming conventions on the name it writes: give the temp file one
    if path.exists() and not overwrite:
        raise KetephysError("file exists; pass overwrite=True to replace it", path)
    tail = "-epo.fif" if rec.is_episodic else "_raw.fif"
    tmp = path.parent / f".{path.stem}.{uuid.uuid4().hex}{tail}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        inst.save(tmp, fmt="double", overwrite=True, verbose="error")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_nwb(rec: Any, path: Path, overwrite: bool) -> None:
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    content = recording_sidecar(rec, with_events=True)
    content["source"] = [rec.source.path, rec.source.format, rec.source.reader]
    subject = rec.meta.subject or "unknown"
    nwb = NWBFile(
        session_description=f"ketephys recording of subject {subject}",
        identifier=uuid.uuid4().hex,
        session_start_time=datetime(2000, 1, 1, tzinfo=timezone.utc),
        notes=NWB_MARKER + json.dumps(content),
    )
    data = rec.data if rec.is_episodic else rec.data[np.newaxis]
    starts = rec.sweep_starts if rec.is_episodic else np.zeros(1)
    unit = rec.units[0] if len(set(rec.units)) == 1 else "mixed (see notes)"
    for s in range(data.shape[0]):
        nwb.add_acquisition(TimeSeries(
            name=f"sweep_{s:05d}",
            data=np.ascontiguousarray(data[s].T, dtype=np.float64),
            unit=unit or "dimensionless",
            starting_time=float(starts[s]),
            rate=float(rec.sfreq),
            description="channels: " + ", ".join(rec.ch_names),
        ))
    with atomic_path(path, overwrite) as tmp:
        with NWBHDF5IO(str(tmp), mode="w") as io:
            io.write(nwb)


def _write_array(rec: Any, path: Path, ext: str, overwrite: bool) -> None:
    if path.with_suffix(".json").exists() and not overwrite:
        raise KetephysError("sidecar exists; pass overwrite=True to replace it",
                            path.with_suffix(".json"))
    with atomic_path(path, overwrite) as tmp:
        if ext == ".npy" and not rec.is_episodic:
            # stream chunk by chunk: a lazy recording is never loaded whole
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float64,
                                            shape=(rec.n_channels, rec.n_times))
            for start, block in rec.iter_chunks(60.0):
                out[:, start:start + block.shape[1]] = block
            out.flush()
            del out
        else:
            with open(tmp, "wb") as fh:
                if ext == ".npy":
                    np.save(fh, np.asarray(rec.data, dtype=np.float64))
                else:
                    np.savez(fh, data=np.asarray(rec.data, dtype=np.float64))
    write_sidecar(path, recording_sidecar(rec, with_events=True), overwrite=True)
