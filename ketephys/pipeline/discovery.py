"""Find the recordings of a study: a BIDS root, a manifest CSV, or a glob with a pattern.

Each finder returns :class:`RecordingSpec` objects (a file, its modality and the metadata
known before reading it), sorted by path so every execution mode sees the same order.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, KetephysError, MetadataError
from ..meta import META_COLUMNS, StudyMeta, check_keys, check_value
from .config import MODALITIES, PipelineConfig

__all__ = ["RecordingSpec", "discover", "from_manifest", "from_glob", "from_bids",
           "pattern_regex"]

log = logging.getLogger(__name__)

# file extensions that are the main file of a recording (companions are found beside them)
_BIDS_MAIN = (".edf", ".bdf", ".vhdr", ".set", ".fif", ".nwb", ".npy", ".npz")


@dataclass(frozen=True)
class RecordingSpec:
    """One recording to process.

    Attributes
    ----------
    path : str
        Absolute path of the main file.
    modality : str
        One of :data:`~ketephys.pipeline.config.MODALITIES`.
    meta : dict
        Metadata known before reading (manifest columns, BIDS tables, file-name fields,
        config ``inputs.metadata``), passed to the reader.
    origin : str
        ``"manifest"``, ``"bids"`` or ``"glob"``.
    extras : tuple of str
        Declared extra metadata names (``inputs.extra_columns``): allowed in the sidecar
        and carried into the feature rows as columns.
    """

    path: str
    modality: str
    meta: dict[str, Any] = field(default_factory=dict)
    origin: str = "glob"
    extras: tuple[str, ...] = ()

    def study_meta(self) -> StudyMeta:
        """The metadata to give the reader: checked values and the declared extras (the
        reader then refuses sidecar ``meta`` keys that are neither).

        Returns
        -------
        StudyMeta
            :attr:`meta` as a study-metadata record (source: :attr:`origin`).
        """
        names = [*self.extras, *(k for k in self.meta if k not in META_COLUMNS)]
        return StudyMeta.from_sources([(self.origin, self.meta)], extras=names)


def discover(cfg: PipelineConfig, subjects: list[str] | None = None,
             sessions: list[str] | None = None, exclude: list[Path] | tuple = (),
             problems: list[str] | None = None) -> list[RecordingSpec]:
    """The recordings a configuration names, filtered by subject and session.

    Every metadata value (manifest cells, pattern fields, ``inputs.metadata``) is checked
    here, before anything is read, and named by its source (manifest file and row).

    Parameters
    ----------
    cfg : PipelineConfig
        The configuration: its ``inputs`` section says where the recordings are (one of
        ``manifest``, ``bids``, ``glob``) and which to keep.
    subjects, sessions : list of str, optional
        Keep only these (command-line filters; they add to ``inputs.subjects/sessions``).
        ``sub-``/``ses-`` prefixes are ignored.
    exclude : list of Path, optional
        Output folders: the files a run writes there (its top level and ``cache/``) are
        never inputs. Sub-folders stay visible (the demo keeps its study in ``data/``).
    problems : list, optional
        When given, every metadata problem is appended to it (one line each) and the
        recording is left out; otherwise the first one is raised.

    Returns
    -------
    list of RecordingSpec
        Sorted by path, each with ``inputs.metadata`` under its own metadata.

    Raises
    ------
    ConfigError
        When the input folder/file does not exist or nothing is found.
    MetadataError
        A bad or unknown metadata value (when ``problems`` is not given).
    """
    inp = cfg.inputs
    extras = tuple(inp.extra_columns)
    sink: list[str] = [] if problems is None else problems
    base_meta = _checked_values(inp.metadata, extras, "config inputs.metadata",
                                cfg.base_dir, sink)
    specs = _specs_of_source(cfg, extras, sink)
    if problems is None and sink:
        raise MetadataError(sink[0])
    specs = [RecordingSpec(s.path, s.modality, {**base_meta, **s.meta}, s.origin, extras)
             for s in specs]
    specs = _without_outputs(specs, exclude)
    keep_sub = _as_set(subjects) | _as_set(inp.subjects)
    keep_ses = _as_set(sessions) | _as_set(inp.sessions)
    specs = _with_labels(specs, "subject", keep_sub)
    specs = _with_labels(specs, "session", keep_ses)
    if not specs and not sink:
        raise ConfigError("no recordings found (after the subject/session filters)"
                          if (keep_sub or keep_ses) else "no recordings found",
                          inp.manifest or inp.bids or inp.glob)
    log.info("found %d recordings", len(specs))
    return sorted(specs, key=lambda s: s.path)


def _specs_of_source(cfg: PipelineConfig, extras: tuple[str, ...], sink: list[str]
                     ) -> list[RecordingSpec]:
    """The recordings of the one input source the configuration names (manifest, BIDS
    root or glob); metadata problems go to ``sink``."""
    inp = cfg.inputs
    if inp.manifest:
        return from_manifest(cfg.resolve(inp.manifest), default_modality=inp.modality,
                             extras=extras, problems=sink)
    if inp.bids:
        return _checked_bids(cfg.resolve(inp.bids), inp.bids_modalities, sink)
    return from_glob(inp.glob, base=Path(cfg.base_dir), pattern=inp.pattern,
                     modality=inp.modality, extras=extras, problems=sink)


def _checked_bids(root: Path, datatypes: dict[str, str], sink: list[str]
                  ) -> list[RecordingSpec]:
    """:func:`from_bids` with the values of metadata fields checked: a recording with a
    bad one is left out (its problems go to ``sink``). BIDS tables may carry any other
    column; those are kept as they are."""
    specs = []
    for s in from_bids(root, datatypes):
        n_before = len(sink)
        values = {k: v for k, v in s.meta.items() if k not in META_COLUMNS}
        values.update(_checked_values({k: v for k, v in s.meta.items()
                                       if k in META_COLUMNS}, (), "BIDS tables",
                                      s.path, sink))
        if len(sink) == n_before:
            specs.append(RecordingSpec(s.path, s.modality, values, s.origin))
    return specs


def _without_outputs(specs: list[RecordingSpec], exclude: list[Path] | tuple
                     ) -> list[RecordingSpec]:
    """``specs`` without the files a run writes into one of the ``exclude`` folders."""
    for folder in exclude:
        inside = [s for s in specs if _within(s.path, folder)]
        if inside:
            log.info("%d files written by ketephys into the output folder %s are not "
                     "inputs", len(inside), folder)
            specs = [s for s in specs if not _within(s.path, folder)]
    return specs


def _with_labels(specs: list[RecordingSpec], field_name: str, keep: set[str]
                 ) -> list[RecordingSpec]:
    """The recordings whose ``subject``/``session`` label is in ``keep`` (all when empty)."""
    if not keep:
        return specs
    return [s for s in specs if _label(s.meta.get(field_name)) in keep]


def _within(path: str, folder: Path) -> bool:
    """Whether ``path`` is one of the files a run writes into the output ``folder``."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
    except ValueError:
        return False
    return len(rel.parts) == 1 or rel.parts[0] == "cache"


def _checked_values(values: dict[str, Any], extras: tuple[str, ...], source: str,
                    path: Any, problems: list[str]) -> dict[str, Any]:
    """``values`` with every key and value checked (problems appended, bad ones left out)."""
    out = {}
    for key, raw in values.items():
        try:
            check_keys([key], extras, source, path)
            value = check_value(key, raw, source, path)
        except KetephysError as err:
            problems.append(str(err))
            continue
        if value is not None:
            out[key] = value
    return out


def _as_set(values: list[str] | None) -> set[str]:
    return {_label(v) for v in values or []}


def _label(value: Any) -> str:
    text = "" if value is None else str(value)
    for prefix in ("sub-", "ses-"):
        text = text.removeprefix(prefix)
    return text


def _check_modality(modality: Any, where: str, path: Any) -> str:
    if modality not in MODALITIES:
        raise MetadataError(f"{where}: modality {modality!r} is not one of "
                            f"{', '.join(MODALITIES)}", path)
    return str(modality)


def from_manifest(path: Path, default_modality: str | None = None,
                  extras: tuple[str, ...] = (), problems: list[str] | None = None
                  ) -> list[RecordingSpec]:
    """Recordings listed in a manifest CSV.

    The CSV has a ``path`` column (relative to the CSV's folder, or absolute), an optional
    ``modality`` column and metadata columns (:data:`~ketephys.meta.META_COLUMNS` and the
    declared ``extras``). Every cell is read as text (subject ``"02"`` stays ``"02"``) and
    checked with its row number; empty cells are missing values. Paths are not resolved:
    a symbolic link is reported under the name the manifest gives.

    Parameters
    ----------
    path : Path
        The manifest CSV.
    default_modality : str, optional
        Modality of the rows whose ``modality`` cell is empty (or of every row without a
        ``modality`` column); one of :data:`~ketephys.pipeline.config.MODALITIES`.
    extras : tuple of str
        Declared extra metadata columns (``inputs.extra_columns``) allowed besides
        :data:`~ketephys.meta.META_COLUMNS`.
    problems : list, optional
        When given, every problem of a column or row is appended to it (one line each)
        and its row left out; otherwise the first one is raised.

    Returns
    -------
    list of RecordingSpec
        One per good row, in the order of the CSV (``origin="manifest"``).

    Raises
    ------
    ConfigError
        When the CSV is missing or unreadable, or has no ``path`` column.
    MetadataError
        The first bad column or value (when ``problems`` is None; otherwise every one is
        appended to ``problems`` and its row left out).
    """
    table = _read_manifest(path)
    sink: list[str] = [] if problems is None else problems
    columns = [c for c in table.columns if c not in ("path", "modality")]
    good_columns = _known_columns(columns, extras, path, sink)
    base = path.resolve().parent
    specs = []
    seen: dict[str, int] = {}
    for i, row in enumerate(table.to_dict("records")):
        spec = _manifest_row(row, i + 2, path, base, seen, default_modality, good_columns,
                             sink)
        if spec is not None:
            specs.append(spec)
    if problems is None and sink:
        raise MetadataError(sink[0])
    return specs


def _read_manifest(path: Path) -> Any:
    """The manifest as a DataFrame of text cells (empty cells are ``""``)."""
    import pandas as pd

    if not path.is_file():
        raise ConfigError("manifest CSV not found", path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ConfigError(f"cannot read the manifest: {exc}", path) from exc
    if "path" not in table.columns:
        raise ConfigError(f"the manifest has no 'path' column; columns are {list(table)}",
                          path)
    return table


def _known_columns(columns: list[str], extras: tuple[str, ...], path: Path,
                   sink: list[str]) -> list[str]:
    """The metadata columns that are metadata fields or declared extras (a problem is
    appended to ``sink`` for each other one)."""
    good = []
    for col in columns:
        try:
            check_keys([col], extras, "manifest", path)
        except MetadataError as err:
            sink.append(str(err))
            continue
        good.append(col)
    return good


def _manifest_row(row: dict[str, str], line: int, path: Path, base: Path,
                  seen: dict[str, int], default_modality: str | None, columns: list[str],
                  sink: list[str]) -> RecordingSpec | None:
    """The recording of one manifest row (``line``: its line in the CSV), or None when the
    row has a problem (each one appended to ``sink``). ``seen`` maps the absolute paths
    listed so far to their line, to report a path listed twice."""
    where = f"manifest row {line}"
    n_before = len(sink)
    file = row["path"].strip()
    if not file:
        sink.append(str(MetadataError(f"{where}: empty path", path)))
        return None
    full = os.path.abspath(os.path.join(base, os.path.expanduser(file)))
    if full in seen:
        sink.append(str(MetadataError(f"{where}: path {file!r} is already listed on "
                                      f"row {seen[full]}", path)))
    seen.setdefault(full, line)
    modality = row.get("modality", "").strip() or default_modality
    if modality is None:
        sink.append(str(ConfigError(f"{where}: no modality (add a 'modality' column or "
                                    "inputs.modality)", path)))
    else:
        try:
            _check_modality(modality, where, path)
        except MetadataError as err:
            sink.append(str(err))
    values = _checked_cells(row, columns, where, path, sink)
    if len(sink) != n_before:
        return None
    return RecordingSpec(full, modality, values, "manifest")


def _checked_cells(row: dict[str, str], columns: list[str], where: str, path: Path,
                   sink: list[str]) -> dict[str, Any]:
    """The checked, non-missing values of a row's metadata ``columns`` (a problem is
    appended to ``sink`` for each bad one)."""
    values = {}
    for col in columns:
        try:
            value = check_value(col, row[col], where, path)
        except MetadataError as err:
            sink.append(str(err))
            continue
        if value is not None:
            values[col] = value
    return values


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Compile a ``{field}`` pattern into a regex with one named group per field.

    Parameters
    ----------
    pattern : str
        E.g. ``'{subject}_{region}_{hours_since_dose}h.abf'``. A field matches one or more
        characters other than a path separator (as few as possible); a field used twice
        must match the same text both times; ``*`` matches anything; everything else
        matches itself.

    Returns
    -------
    re.Pattern
        Matches a whole name (or relative path); ``m.groupdict()`` holds the fields.
    """
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", pattern)
    seen: set[str] = set()
    out = []
    for part in parts:
        m = re.fullmatch(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", part)
        if m:
            name = m.group(1)
            if name in seen:
                out.append(f"(?P={name})")
            else:
                seen.add(name)
                out.append(f"(?P<{name}>[^/\\\\]+?)")
        else:
            out.append(".*".join(re.escape(p) for p in part.split("*")))
    return re.compile("".join(out) + r"\Z")


def from_glob(glob: str, base: Path, pattern: str | None = None,
              modality: str | None = None, extras: tuple[str, ...] = (),
              problems: list[str] | None = None) -> list[RecordingSpec]:
    """Files matching ``glob`` (relative to ``base``), with metadata from ``pattern``.

    The pattern is matched against the file name, or against the path relative to the
    glob's fixed folder when it contains ``/``. Files that do not match are skipped with
    a warning. Matches that are not regular files (FIFOs, devices, sockets, dangling links,
    symlink loops, folders with a file-like suffix) are kept: the run reports each one in
    failures.csv instead of skipping it silently. Pattern fields must be metadata fields
    or declared ``extras``; their values are checked.

    Parameters
    ----------
    glob : str
        Shell-style pattern of the files (``*``, ``?``, ``[...]``, ``**`` for any
        sub-folders); ``~`` is expanded. A path without a wildcard names one file.
    base : Path
        Folder a relative ``glob`` starts from (the configuration file's folder).
    pattern : str, optional
        ``{field}`` pattern of the file names (see :func:`pattern_regex`), e.g.
        ``'{subject}_{region}_{hours_since_dose}h.abf'``; a ``{modality}`` field gives the
        modality of each file.
    modality : str, optional
        Modality of every file (needed unless the pattern has ``{modality}``).
    extras : tuple of str
        Declared extra metadata names allowed as pattern fields.
    problems : list, optional
        When given, every metadata problem is appended to it (one line each) and its file
        left out; otherwise the first one is raised.

    Returns
    -------
    list of RecordingSpec
        One per matching file, sorted by path (``origin="glob"``).

    Raises
    ------
    ConfigError
        When the glob's fixed folder does not exist, or no modality is known.
    MetadataError
        The first bad pattern field or value (when ``problems`` is None).
    """
    fixed, rest = _split_glob(glob, base)
    files = [fixed] if not rest else sorted(p for p in fixed.glob(rest) if _candidate(p))
    sink: list[str] = [] if problems is None else problems
    regex = _checked_pattern(pattern, extras, glob, sink)
    if pattern and regex is None:  # a pattern with unknown fields: no file is kept
        files = []
    specs = []
    for file in files:
        spec = _glob_spec(file, fixed, regex, pattern, modality, glob, sink)
        if spec is not None:
            specs.append(spec)
    if problems is None and sink:
        raise MetadataError(sink[0])
    return specs


def _split_glob(glob: str, base: Path) -> tuple[Path, str]:
    """The glob's fixed leading folder (checked to exist) and the wildcard rest."""
    pat = Path(os.path.expanduser(glob))
    root = pat if pat.is_absolute() else base / pat
    anchor = Path(root.anchor)
    parts = root.relative_to(anchor).parts
    fixed = anchor
    i = 0
    while i < len(parts) and not any(c in parts[i] for c in "*?["):
        fixed = fixed / parts[i]
        i += 1
    rest = "/".join(parts[i:])
    if not fixed.exists() or (rest and not fixed.is_dir()):
        raise ConfigError(f"input folder does not exist: {fixed}", glob)
    return fixed, rest


def _checked_pattern(pattern: str | None, extras: tuple[str, ...], glob: str,
                     sink: list[str]) -> re.Pattern[str] | None:
    """The compiled ``pattern``, or None without one or when a field is neither a metadata
    field nor a declared extra (its problem appended to ``sink``)."""
    if not pattern:
        return None
    regex = pattern_regex(pattern)
    try:
        check_keys([f for f in regex.groupindex if f != "modality"], extras,
                   "inputs.pattern", glob)
    except MetadataError as err:
        sink.append(str(err))
        return None
    return regex


def _glob_spec(file: Path, fixed: Path, regex: re.Pattern[str] | None,
               pattern: str | None, modality: str | None, glob: str, sink: list[str]
               ) -> RecordingSpec | None:
    """The recording of one matched file, or None when it does not match the pattern
    (warned) or a pattern value is bad (appended to ``sink``)."""
    meta: dict[str, Any] = {}
    if regex is not None:
        target = file.name if "/" not in pattern else file.relative_to(fixed).as_posix()
        m = regex.match(target)
        if not m:
            log.warning("%s does not match the pattern %r: skipped", file, pattern)
            return None
        meta = dict(m.groupdict())
    mod = meta.pop("modality", None) or modality
    try:
        meta = {k: check_value(k, v, f"inputs.pattern field {k!r}", file)
                for k, v in meta.items()}
    except MetadataError as err:
        sink.append(str(err))
        return None
    if mod is None:
        raise ConfigError("inputs.modality is needed with inputs.glob (or put "
                          "{modality} in inputs.pattern)", glob)
    return RecordingSpec(os.path.abspath(file), _check_modality(mod, "glob", file), meta,
                         "glob")


def _candidate(path: Path) -> bool:
    """A glob match that is an input: anything but a plain folder (a folder named like a
    file, ``x.edf/``, is kept so that it is reported)."""
    try:
        if path.is_dir():
            return bool(path.suffix)
    except OSError:
        return True
    return True


def from_bids(root: Path, datatypes: dict[str, str]) -> list[RecordingSpec]:
    """Recordings of a BIDS dataset: one per data file in ``sub-*/[ses-*/]<datatype>/``.

    Sessions are visits (``session`` = the ``ses-`` label). Metadata come from
    ``participants.tsv`` (per subject) and ``sub-<label>_sessions.tsv`` (per session, e.g.
    ``hours_since_dose``, ``dose_mg_per_kg``); the ``acq-`` entity, when present and no
    table gives a region, is taken as the region.

    Parameters
    ----------
    root : Path
        The BIDS root folder (a missing ``dataset_description.json`` is only warned about).
    datatypes : dict
        BIDS datatype folder -> modality, e.g. ``{"eeg": "eeg", "ieeg": "lfp"}``; a file
        whose ``task-`` label contains ``tms`` is ``"tms-eeg"``.

    Returns
    -------
    list of RecordingSpec
        One per data file (``.edf``, ``.bdf``, ``.vhdr``, ``.set``, ``.fif``, ``.nwb``,
        ``.npy``, ``.npz``), by subject then datatype then path (``origin="bids"``). The
        metadata values are not checked here (:func:`discover` does it).

    Raises
    ------
    ConfigError
        When ``root`` is not a folder.
    """
    from ..io.bids import bids_meta

    if not root.is_dir():
        raise ConfigError("BIDS root folder does not exist", root)
    if not (root / "dataset_description.json").is_file():
        log.warning("%s has no dataset_description.json; reading it as BIDS anyway", root)
    specs = []
    for sub_dir in sorted(root.glob("sub-*")):
        if not sub_dir.is_dir():
            continue
        subject = _label(sub_dir.name)
        for datatype, modality in datatypes.items():
            for file in sorted(sub_dir.glob(f"**/{datatype}/*")):
                if file.suffix.lower() not in _BIDS_MAIN or file.name.startswith("."):
                    continue
                entities = dict(e.split("-", 1) for e in file.stem.split("_") if "-" in e)
                # participants.tsv and sub-*_sessions.tsv, read by the io module
                meta: dict[str, Any] = bids_meta(root, subject, entities.get("ses"))
                if "acq" in entities and "region" not in meta:
                    meta["region"] = entities["acq"]
                mod = "tms-eeg" if "tms" in entities.get("task", "").lower() else modality
                specs.append(RecordingSpec(str(file.resolve()), mod, meta, "bids"))
    return specs
