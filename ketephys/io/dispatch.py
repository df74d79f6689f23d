"""``read(path)`` and ``read_bids(root, ...)``: choose the reader, then attach study metadata.

The reader family comes from :func:`~ketephys.io.formats.detect_format`; the modules below
this one never import it, so the imports of :mod:`ketephys.io` form no cycle.

Readers (one per family) turn a file into a :class:`~ketephys.recording.Recording`:
:mod:`~ketephys.io.eeg` (MNE), :mod:`~ketephys.io.ephys` (Neo), :mod:`~ketephys.io.axona`,
:mod:`~ketephys.io.arrays`, :mod:`~ketephys.io.nwb`. :func:`finish_recording` then applies
the user's channel types, merges metadata from keywords > sidecar > manifest > BIDS tables >
file header, flags NaN/flat channels and, for TMS-EEG, marks the pulses (through the post-read
hook registry of :mod:`ketephys.io.hooks`).

Any failure inside a library becomes a :class:`~ketephys.errors.KetephysError` naming the
file; input files are only ever opened read-only.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._channels import check_typed_names, select_channels
from .._check import check_option
from ..errors import (
    CorruptFileError,
    KetephysError,
    MetadataError,
    MissingCompanionError,
    SettingsError,
    UnsupportedFormatError,
)
from ..meta import StudyMeta
from ..recording import CH_TYPES, Recording, Source
from ..units import SI_UNITS
from ._files import check_readable, sniff_eeglab, unique_paths
from .companions import format_files, metadata_files
from .formats import READ_FORMATS, detect_format
from .hooks import post_read_hook

__all__ = ["read", "read_bids", "info", "detect_format", "finish_recording", "READ_FORMATS",
           "sniff_eeglab", "MODALITIES"]

logger = logging.getLogger(__name__)

#: modality -> ketephys type for voltage channels that the file does not type
MODALITIES = {"eeg": "eeg", "tms-eeg": "eeg", "lfp": "lfp", "fepsp": "field",
              "patch": "vm"}
#: Recordings with at most this many samples are checked for NaN/flat channels at read
#: time (larger ones when ``quality=True``; the check reads every sample).
QUALITY_AUTO_SAMPLES = 5_000_000

def _read_family(fmt: str, path: Path, format: str | None, opts: dict[str, Any]
                 ) -> Recording:
    if fmt in {"edf", "bdf", "brainvision", "eeglab", "fif"}:
        from .eeg import read_mne

        return read_mne(path, fmt, preload=opts["preload"], rename=opts["rename"],
                        retype=opts["rename"], channels=opts["channels"])
    if fmt == "axona":
        from .axona import read_axona

        return read_axona(path, ch_type=MODALITIES.get(opts["modality"] or "lfp", "lfp"))
    if fmt == "array":
        from .arrays import read_array

        return read_array(path, sfreq=opts["sfreq"], ch_names=opts["ch_names"],
                          units=opts["units"], ch_types=opts["ch_types"],
                          sweep_starts=opts["sweep_starts"],
                          default_ch_type=MODALITIES.get(opts["modality"] or "", "misc"))
    if fmt == "nwb" and format is None:
        from .nwb import nwb_notes, read_ketephys_nwb

        notes = nwb_notes(path)
        if notes is not None:
            return read_ketephys_nwb(path, notes)
    from .ephys import read_neo

    io_name = None if format is None or format.lower() in {"neo", "nwb"} else format
    if fmt == "nwb":
        io_name = "NWBIO"
    return read_neo(path, io_name=io_name, units=opts["units"],
                    ch_types=opts["ch_types"] if isinstance(opts["ch_types"], dict) else None,
                    channels=opts["channels"], episodic=opts["episodic"],
                    io_kwargs=opts["neo_kwargs"])


def read(
    path: str | os.PathLike,
    modality: str | None = None,
    meta: dict[str, Any] | StudyMeta | None = None,
    *,
    format: str | None = None,
    manifest: str | os.PathLike | pd.DataFrame | None = None,
    sidecar: bool = True,
    bids: bool = True,
    units: dict[str, str] | str | list[str] | None = None,
    ch_types: dict[str, str] | list[str] | str | None = None,
    channels: list[str] | None = None,
    sfreq: float | None = None,
    ch_names: list[str] | None = None,
    sweep_starts: list[float] | None = None,
    episodic: bool | None = None,
    neo_kwargs: dict[str, Any] | None = None,
    preload: bool = False,
    rename: bool = True,
    quality: bool | str = "auto",
    tms_options: dict[str, Any] | None = None,
    extras: Sequence[str] | None = (),
) -> Recording:
    """Read any supported recording into a :class:`~ketephys.recording.Recording`.

    Parameters
    ----------
    path : path-like
        EDF/BDF, BrainVision ``.vhdr``, EEGLAB ``.set``, FIF, ABF, WinWCP ``.wcp``, Spike2
        ``.smr``/``.smrx``, AxoGraph, NWB, Axona ``.set``/``.eeg*``/``.egf*``, or an array
        (``.npy``, ``.npz``, ``.mat``, ``.csv``) with a ``<stem>.json`` sidecar.
    modality : str, optional
        ``"eeg"``, ``"tms-eeg"``, ``"lfp"``, ``"fepsp"``, ``"patch"``. Sets the type of
        voltage channels the file leaves untyped; ``"tms-eeg"`` also marks the TMS pulses
        (:func:`ketephys.tms.mark_tms_pulses` with ``tms_options``: the post-read hook
        registered in :mod:`ketephys.io.hooks`).
    meta : dict or StudyMeta, optional
        Study metadata; wins over every other source.
    format : str, optional
        Force a reader: ``"edf"``, ``"bdf"``, ``"brainvision"``, ``"eeglab"``, ``"fif"``,
        ``"axona"``, ``"nwb"``, ``"array"``, or a Neo IO name such as ``"NeuralynxIO"``.
    manifest : path-like or DataFrame, optional
        Manifest CSV (or :func:`read_manifest` table) whose row for ``path`` adds metadata.
    sidecar : bool
        Use ``<stem>.json`` beside the file (metadata; channel types and units labels).
    bids : bool
        When the file lies in a BIDS dataset, add metadata from its tables.
    units : dict (or str/list for arrays), optional
        Unit the values of a channel really are in, overriding the file (Neo and array
        files), e.g. ``{"Ipatch": "mV"}``.
    ch_types : dict (or list/str for arrays), optional
        Channel -> ketephys channel type, overriding the reader.
    channels : list of str, optional
        Keep only these channels.
    sfreq : float, optional
        For arrays: the sampling rate in Hz, overriding the sidecar's (required from one
        of them).
    ch_names : list of str, optional
        For arrays: the channel names, overriding the sidecar's.
    sweep_starts : list of float, optional
        For arrays: the start time (s) of each sweep, overriding the sidecar's.
    episodic : bool, optional
        Neo files: force sweeps (True) or one continuous segment (False).
    neo_kwargs : dict, optional
        Extra arguments of the Neo IO (with ``format="RawBinarySignalIO"``, say).
    preload : bool
        MNE files: load all samples now (default: lazily, on demand).
    rename : bool
        MNE files: tidy channel names (``Fc5.`` -> ``Fc5``) and type EOG/EMG/ECG/stim
        channels that MNE types eeg.
    quality : bool or "auto"
        Check for all-NaN / flat channels now (logged; see
        :meth:`Recording.quality_flags`). ``"auto"``: only for recordings already in memory
        or of at most :data:`QUALITY_AUTO_SAMPLES` samples.
    tms_options : dict, optional
        Keywords for :func:`ketephys.tms.mark_tms_pulses`, the
        post-read hook of :mod:`ketephys.io.hooks` (``modality="tms-eeg"``).
    extras : sequence of str or None
        Metadata names besides the study fields that ``meta``, the sidecar and the
        manifest may give (e.g. ``["sex", "age"]``); any other name is a
        :class:`~ketephys.errors.MetadataError` with a suggestion (``meta={"hours": 24}``
        suggests ``hours_since_dose``). ``None`` accepts any name as an extra. A sidecar
        may declare the extras it carries itself (``"extras": ["sex"]``, as
        :func:`ketephys.io.write` does).

    Returns
    -------
    Recording

    Raises
    ------
    KetephysError
        Every failure, naming the file: ``UnsupportedFormatError``, ``CorruptFileError``
        (empty, truncated, wrong content), ``MissingCompanionError`` (``.fdt``, BrainVision
        data, Axona ``.set``), ``MetadataError`` (sidecar, sampling rate, sweep times),
        ``UnitError``.
    """
    path = check_readable(path)
    if path.is_dir():
        raise UnsupportedFormatError("is a folder; for a BIDS dataset use read_bids(root, "
                                     "subject=...)", path)
    if modality is not None:
        check_option("modality", modality, MODALITIES, path)
    opts = {"preload": preload, "rename": rename, "sfreq": sfreq, "ch_names": ch_names,
            "units": units, "ch_types": ch_types, "sweep_starts": sweep_starts,
            "channels": channels, "episodic": episodic, "modality": modality,
            "neo_kwargs": neo_kwargs}
    try:
        fmt, target = detect_format(path, format)
        rec = _read_family(fmt, target, format, opts)
    except KetephysError:
        raise
    except MemoryError as exc:
        raise CorruptFileError("its header asks for more memory than there is (corrupt "
                               "header?)", path) from exc
    except Exception as exc:  # a library failed in a way the readers did not foresee
        raise CorruptFileError(f"cannot read it: {type(exc).__name__}: {exc}", path) from exc
    if fmt not in {"array", "neo"}:
        if units is not None:
            raise SettingsError("units= overrides apply to Neo and array files; this file's "
                                "reader already gives SI units", path)
    return finish_recording(
        rec, path, modality=modality, meta=meta, manifest=manifest, sidecar=sidecar,
        bids=bids, ch_types=ch_types if fmt not in {"array", "neo"} else None,
        channels=channels if fmt in {"axona", "array", "nwb"} else None, quality=quality,
        tms_options=tms_options, extras=extras)


def finish_recording(
    rec: Recording,
    path: Path,
    modality: str | None = None,
    meta: dict[str, Any] | StudyMeta | None = None,
    manifest: str | os.PathLike | pd.DataFrame | None = None,
    sidecar: bool = True,
    bids: bool | dict[str, Any] = True,
    ch_types: dict[str, str] | None = None,
    channels: list[str] | None = None,
    quality: bool | str = "auto",
    tms_options: dict[str, Any] | None = None,
    extras: Sequence[str] | None = None,
) -> Recording:
    """The steps every reader shares: sidecar labels and user overrides, channel pick,
    metadata merge, channel quality and, for TMS-EEG, pulse marking.

    Parameters
    ----------
    rec : Recording
        What a reader returned (changed in place where possible).
    path : Path
        The file read.
    modality : str, optional
        As in :func:`read`: checked against the channels, set on the recording; for
        Neo files ``"lfp"``/``"patch"`` retype the volt ``field`` channels (``lfp``/``vm``)
        unless ``ch_types`` is given; ``"tms-eeg"`` runs the post-read hook.
    meta : dict or StudyMeta, optional
        Study metadata; wins over every other source.
    manifest : path-like or DataFrame, optional
        Manifest whose row for ``path`` adds metadata.
    sidecar : bool
        Use ``<stem>.json`` (channel types and unit labels of files other than arrays,
        and metadata).
    bids : bool or dict
        True: add the metadata of the BIDS tables of ``path``'s dataset; a dict: that
        metadata (source ``"bids"``, as :func:`read_bids` gives it); False: none.
    ch_types : dict, list or str, optional
        Channel types overriding the reader's (a str: every channel).
    channels : list of str, optional
        Keep only these channels (for readers that do not pick themselves).
    quality : bool or "auto"
        As in :func:`read`.
    tms_options : dict, optional
        Keywords of the post-read hook.
    extras : sequence of str or None
        Extra metadata names allowed, as in :func:`read`.

    Returns
    -------
    Recording
        With ``source.files`` set (every file read, main first) and ``reader_flags``
        (channel -> reader flags, see :mod:`ketephys.io.flags`; empty when none).

    Raises
    ------
    CorruptFileError
        When the recording holds no sample or its samples cannot be read.
    MetadataError
        When ``channels`` or ``ch_types`` name a channel the file does not have, a label
        is unknown, or metadata sources have a wrong value or an unknown key.
    """
    from .flags import reader_flags_of
    from .sidecar import read_sidecar

    _check_has_samples(rec, path)
    content = read_sidecar(path) if sidecar else None
    _apply_labels(rec, content, ch_types, modality, path)
    flags = reader_flags_of(rec)
    if channels:
        select_channels(rec.ch_names, channels, path)
        rec = rec.pick(list(channels))
    if modality in MODALITIES:
        from .modality import check_modality

        check_modality(rec, modality, path)
    rec.meta = _merged_meta(rec, path, meta, content, manifest, bids, extras)
    if modality is not None:
        rec.modality = modality
    for note in rec.meta.conflicts:
        logger.warning("%s: metadata sources disagree: %s", path, note)
    _record_files(rec, path, sidecar, bids is True)
    _check_quality(rec, path, quality)
    rec = _run_post_read_hook(rec, modality, tms_options, path)
    rec.reader_flags = {ch: flags[ch] for ch in rec.ch_names if ch in flags}
    return rec


def _check_has_samples(rec: Recording, path: Path) -> None:
    if rec.n_times == 0 or rec.n_channels == 0:
        raise CorruptFileError(
            f"holds no samples: {rec.n_channels} channels x {rec.n_times} time points"
            + (f" x {rec.n_sweeps} sweeps" if rec.is_episodic else ""), path)


def _apply_labels(rec: Recording, content: dict[str, Any] | None, ch_types: Any,
                  modality: str | None, path: Path) -> None:
    """Channel labels, lowest priority first: the sidecar's (not for arrays, whose reader
    used them), the user's ``ch_types``, and the modality's type for the volt ``field``
    channels of Neo files (``lfp``, ``vm``) when the user typed none."""
    if content and rec.source.format not in {"array"}:
        _apply_sidecar_labels(rec, content, path)
    if ch_types:
        _apply_ch_types(rec, ch_types, path)
    from_neo = rec.source.reader.startswith("neo.io") or rec.source.format == "nwb"
    if modality in MODALITIES and from_neo:
        target = MODALITIES[modality]
        if target in {"lfp", "vm"} and not ch_types:
            rec.ch_types = [target if (t == "field" and u == "V") else t
                            for t, u in zip(rec.ch_types, rec.units)]


def _run_post_read_hook(rec: Recording, modality: str | None,
                        tms_options: dict[str, Any] | None, path: Path) -> Recording:
    """The documented post-read registry (io/hooks.py): TMS pulse marking for tms-eeg."""
    try:
        hook = post_read_hook(modality)
    except ImportError as exc:
        raise KetephysError(f"post-read step of modality {modality!r} (TMS pulse marking) "
                            f"is not available: {exc}", path) from exc
    return rec if hook is None else hook(rec, **(tms_options or {}))


def _merged_meta(rec: Recording, path: Path, meta: Any, content: dict[str, Any] | None,
                 manifest: Any, bids: bool | dict[str, Any],
                 extras: Sequence[str] | None) -> StudyMeta:
    """The study metadata from every source, highest priority first: keyword, sidecar,
    manifest, BIDS tables, the file header."""
    from .sidecar import sidecar_meta

    sources: list[tuple[str, Any]] = [("keyword", meta), ("sidecar", sidecar_meta(content))]
    if manifest is not None:
        from .manifest import manifest_meta

        sources.append(("manifest", manifest_meta(manifest, path)))
    if isinstance(bids, dict):
        sources.append(("bids", bids))
    elif bids:
        from .bids import bids_meta_for_file

        sources.append(("bids", bids_meta_for_file(path)))
    sources.append(("file", rec.meta.to_dict(extras=True)))
    declared = content.get("extras") if content else None
    if extras is not None and isinstance(declared, list):
        # a sidecar written by ketephys declares the extra metadata it carries
        extras = [*extras, *(str(d) for d in declared)]
    return StudyMeta.from_sources(sources, path=str(path), extras=extras)


def _record_files(rec: Recording, path: Path, sidecar: bool, bids: bool) -> None:
    """Complete ``rec.source.files`` with the metadata files read for ``path``."""
    main = rec.source.files or (rec.source.path or str(path),)
    files = unique_paths([*main, *metadata_files(path, sidecar, bids)])
    rec.source = dataclasses.replace(rec.source, files=tuple(str(f) for f in files))


def _apply_sidecar_labels(rec: Recording, content: dict[str, Any], path: Path) -> None:
    """Channel types and SI unit labels from a sidecar whose ch_names match the file."""
    names = content.get("ch_names")
    if not isinstance(names, list) or [str(n) for n in names] != rec.ch_names:
        return
    types = content.get("ch_types")
    if isinstance(types, list) and len(types) == rec.n_channels:
        bad = sorted({str(t) for t in types} - set(CH_TYPES))
        if bad:
            raise MetadataError(f"sidecar ch_types {bad} unknown; use {CH_TYPES}", path)
        rec.ch_types = [str(t) for t in types]
    units = content.get("units")
    if isinstance(units, list) and len(units) == rec.n_channels:
        rec.units = [str(u) if str(u) in SI_UNITS else old for u, old in zip(units, rec.units)]


def _apply_ch_types(rec: Recording, ch_types: Any, path: Path) -> None:
    if isinstance(ch_types, str):
        ch_types = {n: ch_types for n in rec.ch_names}
    elif not isinstance(ch_types, dict):
        ch_types = dict(zip(rec.ch_names, ch_types))
    check_typed_names(ch_types, rec.ch_names, path)
    for kind in ch_types.values():
        check_option("channel type", str(kind), CH_TYPES, path)
    rec.ch_types = [str(ch_types.get(n, t)) for n, t in zip(rec.ch_names, rec.ch_types)]


def _check_quality(rec: Recording, path: Path, quality: bool | str) -> None:
    if quality is False:
        return
    size = rec.n_sweeps * rec.n_channels * rec.n_times
    if quality == "auto" and rec.is_lazy and size > QUALITY_AUTO_SAMPLES:
        return
    try:
        flags = rec.quality_flags()
    except KetephysError:
        raise
    except Exception as exc:
        raise CorruptFileError(f"its samples cannot be read: {type(exc).__name__}: {exc}",
                               path) from exc
    for name, what in flags.items():
        logger.warning("%s: channel %s is %s", path, name, " and ".join(what))


def info(path: str | os.PathLike, **options: Any) -> dict[str, Any]:
    """A summary of a recording without loading its samples (for ``ketephys info FILE``).

    Parameters
    ----------
    path : path-like
        Any file :func:`read` reads.
    **options
        Passed to :func:`read`.

    Returns
    -------
    dict
        ``path``, ``format``, ``reader``, ``channels`` (name, type, unit per channel),
        ``sfreq_hz``, ``n_times``, ``duration_s`` (per sweep), ``n_sweeps``,
        ``sweep_starts_s`` (first, last), ``n_events``, ``event_counts``, ``metadata``,
        ``metadata_sources``, ``metadata_conflicts``, ``files`` (every file read),
        ``reader_flags`` (channel -> flags, see :mod:`ketephys.io.flags`).
    """
    options.setdefault("quality", False)
    rec = read(path, **options)
    counts = rec.events["description"].value_counts().to_dict() if len(rec.events) else {}
    out = {
        "path": str(path),
        "format": rec.source.format,
        "reader": rec.source.reader,
        "n_channels": rec.n_channels,
        "channels": [{"name": n, "type": t, "unit": u}
                     for n, t, u in zip(rec.ch_names, rec.ch_types, rec.units)],
        "sfreq_hz": rec.sfreq,
        "n_times": rec.n_times,
        "duration_s": rec.duration,
        "n_sweeps": rec.n_sweeps,
        "episodic": rec.is_episodic,
        "sweep_starts_s": None if rec.sweep_starts is None else [
            float(rec.sweep_starts[0]), float(rec.sweep_starts[-1])],
        "n_events": int(len(rec.events)),
        "event_counts": {str(k): int(v) for k, v in counts.items()},
        "metadata": {k: v for k, v in rec.meta.to_dict(extras=True).items() if v is not None},
        "metadata_sources": dict(rec.meta.sources),
        "metadata_conflicts": list(rec.meta.conflicts),
        "files": list(rec.source.files),
        "reader_flags": {k: list(v) for k, v in getattr(rec, "reader_flags", {}).items()},
    }
    return out


def read_bids(
    root: str | os.PathLike,
    subject: str,
    session: str | None = None,
    task: str | None = None,
    run: str | int | None = None,
    datatype: str | None = None,
    acquisition: str | None = None,
    modality: str | None = None,
    meta: dict[str, Any] | None = None,
    *,
    ch_types: dict[str, str] | None = None,
    channels: list[str] | None = None,
    manifest: str | os.PathLike | pd.DataFrame | None = None,
    quality: bool | str = "auto",
    tms_options: dict[str, Any] | None = None,
) -> Recording:
    """Read one recording of a BIDS dataset with mne-bids.

    Parameters
    ----------
    root : path-like
        BIDS root folder.
    subject, session, task, run, datatype, acquisition
        BIDS entities (labels without the ``sub-``/``ses-`` prefixes); ``datatype``
        defaults to what mne-bids finds (``eeg``, ``ieeg``...).
    modality : str, optional
        As in :func:`ketephys.io.read` (``"tms-eeg"`` also marks the TMS pulses).
    meta : dict, optional
        Metadata that takes priority over the BIDS tables.
    ch_types, channels, manifest, quality, tms_options
        As in :func:`ketephys.io.read`.

    Returns
    -------
    Recording
        Study metadata from participants.tsv and the sessions table (source ``"bids"``).
    """
    from mne_bids import BIDSPath, read_raw_bids

    from .bids import bids_file_companions
    from .eeg import recording_from_mne

    root = Path(root)
    if modality is not None:
        check_option("modality", modality, MODALITIES, root)
    if not root.is_dir():
        raise KetephysError("BIDS root folder does not exist", root)
    bp = BIDSPath(root=root, subject=subject, session=session, task=task, run=run,
                  datatype=datatype, acquisition=acquisition)
    matches = [m for m in bp.match(ignore_json=True, ignore_nosub=True)
               if m.suffix in {"eeg", "ieeg", "meg", "emg"} and m.extension not in
               {".json", ".tsv", ".fdt", ".eeg", ".vmrk"}]
    if not matches:
        raise MissingCompanionError(
            f"no recording for sub-{subject}"
            + (f" ses-{session}" if session else "") + (f" task-{task}" if task else "")
            + " in the dataset", root)
    if len(matches) > 1:
        raise KetephysError(
            f"{len(matches)} recordings match; narrow with task/run/datatype: "
            f"{[m.basename for m in matches]}", root)
    found = matches[0]
    try:
        raw = read_raw_bids(found, verbose="error")
    except KetephysError:
        raise
    except FileNotFoundError as exc:
        raise MissingCompanionError(f"a file it needs is missing: {exc}", found.fpath) from exc
    except Exception as exc:
        raise CorruptFileError(f"mne-bids cannot read it: {type(exc).__name__}: {exc}",
                               found.fpath) from exc
    fpath = Path(found.fpath)
    fmt = {".vhdr": "brainvision", ".set": "eeglab", ".fif": "fif"}.get(fpath.suffix.lower(),
                                                                        "edf")
    files = unique_paths([*format_files(fpath, fmt),
                          *bids_file_companions(fpath, str(found.suffix))])
    rec = recording_from_mne(raw, Source(str(fpath), "bids", "mne_bids.read_raw_bids",
                                         tuple(str(f) for f in files)))
    return finish_recording(rec, Path(found.fpath), modality=modality, meta=meta,
                            manifest=manifest, ch_types=ch_types, channels=channels,
                            quality=quality, tms_options=tms_options)
