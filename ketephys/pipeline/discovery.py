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

from ..errors import ConfigError, MetadataError
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
    """

    path: str
    modality: str
    meta: dict[str, Any] = field(default_factory=dict)
    origin: str = "glob"


def discover(cfg: PipelineConfig, subjects: list[str] | None = None,
             sessions: list[str] | None = None) -> list[RecordingSpec]:
    """The recordings a configuration names, filtered by subject and session.

    Parameters
    ----------
    cfg : PipelineConfig
    subjects, sessions : list of str, optional
        Keep only these (command-line filters; they add to ``inputs.subjects/sessions``).

    Raises
    ------
    ConfigError
        When the input folder/file does not exist or nothing is found.
    """
    inp = cfg.inputs
    if inp.manifest:
        specs = from_manifest(cfg.resolve(inp.manifest), default_modality=inp.modality)
    elif inp.bids:
        specs = from_bids(cfg.resolve(inp.bids), inp.bids_modalities)
    else:
        specs = from_glob(inp.glob, base=Path(cfg.base_dir), pattern=inp.pattern,
                          modality=inp.modality)
    if inp.metadata:
        specs = [RecordingSpec(s.path, s.modality, {**inp.metadata, **s.meta}, s.origin)
                 for s in specs]
    keep_sub = _as_set(subjects) | _as_set(inp.subjects)
    keep_ses = _as_set(sessions) | _as_set(inp.sessions)
    if keep_sub:
        specs = [s for s in specs if _label(s.meta.get("subject")) in keep_sub]
    if keep_ses:
        specs = [s for s in specs if _label(s.meta.get("session")) in keep_ses]
    if not specs:
        raise ConfigError("no recordings found (after the subject/session filters)"
                          if (keep_sub or keep_ses) else "no recordings found",
                          inp.manifest or inp.bids or inp.glob)
    log.info("found %d recordings", len(specs))
    return sorted(specs, key=lambda s: s.path)


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


def from_manifest(path: Path, default_modality: str | None = None) -> list[RecordingSpec]:
    """Recordings listed in a manifest CSV.

    The CSV has a ``path`` column (relative to the CSV's folder, or absolute), an optional
    ``modality`` column and any metadata columns (``subject``, ``region``,
    ``hours_since_dose``...). Empty cells are missing values.
    """
    import pandas as pd

    from ..io import read_manifest

    if not path.is_file():
        raise ConfigError("manifest CSV not found", path)
    table = read_manifest(path)
    specs = []
    for i, row in table.iterrows():
        values = {k: v for k, v in row.items() if not (pd.isna(v) or v == "")}
        file = values.pop("path")
        modality = values.pop("modality", default_modality)
        if modality is None:
            raise ConfigError(f"row {i + 2}: no modality (add a 'modality' column or "
                              "inputs.modality)", path)
        _check_modality(modality, f"row {i + 2}", path)
        specs.append(RecordingSpec(str(file), modality, values, "manifest"))
    return specs


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Compile a ``{field}`` pattern (``'{subject}_{region}_{hours_since_dose}h.abf'``)
    into a regex with one named group per field; ``*`` matches anything."""
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
              modality: str | None = None) -> list[RecordingSpec]:
    """Files matching ``glob`` (relative to ``base``), with metadata from ``pattern``.

    The pattern is matched against the file name, or against the path relative to the
    glob's fixed folder when it contains ``/``. Files that do not match are skipped with
    a warning.
    """
    pat = Path(os.path.expanduser(glob))
    root = pat if pat.is_absolute() else base / pat
    # fixed leading folder of the glob
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
    files = [fixed] if not rest else sorted(p for p in fixed.glob(rest) if p.is_file())
    regex = pattern_regex(pattern) if pattern else None
    specs = []
    for file in files:
        meta: dict[str, Any] = {}
        if regex is not None:
            target = file.name if "/" not in pattern else file.relative_to(fixed).as_posix()
            m = regex.match(target)
            if not m:
                log.warning("%s does not match the pattern %r: skipped", file, pattern)
                continue
            meta = dict(m.groupdict())
        mod = meta.pop("modality", None) or modality
        if mod is None:
            raise ConfigError("inputs.modality is needed with inputs.glob (or put "
                              "{modality} in inputs.pattern)", glob)
        specs.append(RecordingSpec(str(file.resolve()), _check_modality(mod, "glob", file),
                                   meta, "glob"))
    return specs


def from_bids(root: Path, datatypes: dict[str, str]) -> list[RecordingSpec]:
    """Recordings of a BIDS dataset: one per data file in ``sub-*/[ses-*/]<datatype>/``.

    Sessions are visits (``session`` = the ``ses-`` label). Metadata come from
    ``participants.tsv`` (per subject) and ``sub-<label>_sessions.tsv`` (per session, e.g.
    ``hours_since_dose``, ``dose_mg_per_kg``); the ``acq-`` entity, when present and no
    table gives a region, is taken as the region.
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
