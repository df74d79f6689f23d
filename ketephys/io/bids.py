"""Study metadata from the tables of a BIDS dataset (:func:`ketephys.io.read_bids`, in
:mod:`ketephys.io.dispatch`, reads its recordings through mne-bids).

``participants.tsv`` gives per-subject fields (genotype, sex, condition...), and
``sub-<label>/sub-<label>_sessions.tsv`` per-session fields. The time since dose comes from a
numeric sessions column (``hours_since_dose``, or the one numeric column whose name
mentions hours); session labels such as ``ses-24h`` are never parsed for it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import (
    MetadataError,
)

__all__ = ["bids_meta", "bids_meta_for_file", "find_bids_root",
           "bids_table_paths", "bids_tables_for_file", "bids_file_companions"]

logger = logging.getLogger(__name__)

_NA = ["n/a", "N/A", "NA", ""]


def find_bids_root(path: str | os.PathLike, max_up: int = 5) -> Path | None:
    """The BIDS root above a file: the nearest folder holding ``dataset_description.json``.

    Parameters
    ----------
    path : path-like
        A file inside the dataset.
    max_up : int
        How many folders up to look, from the file's own folder.

    Returns
    -------
    Path or None
        The root, or None when none is found within ``max_up`` levels.
    """
    here = Path(path).resolve().parent
    for _ in range(max_up):
        if (here / "dataset_description.json").is_file():
            return here
        if here.parent == here:
            break
        here = here.parent
    return None


def _read_tsv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, sep="\t", na_values=_NA, keep_default_na=False, dtype=str)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise MetadataError(f"cannot read the BIDS table: {exc}", path) from exc


def _row(table: pd.DataFrame | None, column: str, label: str) -> dict[str, Any]:
    if table is None or column not in table:
        return {}
    rows = table[table[column].astype(str) == label]
    if rows.empty:
        return {}
    return {k: v for k, v in rows.iloc[0].drop(labels=[column]).items() if not pd.isna(v)}


def _hours_column(row: dict[str, Any], path: Path) -> dict[str, Any]:
    """Turn the numeric hours column of a sessions row into ``hours_since_dose``."""
    if "hours_since_dose" in row:
        return row
    hourly = [k for k in row if "hour" in k.lower()]
    numeric = []
    for key in hourly:
        try:
            float(row[key])
            numeric.append(key)
        except (TypeError, ValueError):
            continue
    if len(numeric) == 1:
        row = dict(row)
        row["hours_since_dose"] = row.pop(numeric[0])
    elif len(numeric) > 1:
        logger.warning("%s: several hour columns %s; name one 'hours_since_dose'", path,
                       numeric)
    return row


def bids_table_paths(root: str | os.PathLike, subject: str, session: str | None = None
                     ) -> list[Path]:
    """Where the metadata tables of a subject (and session) are, whether they exist or not.

    Parameters
    ----------
    root : path-like
        The BIDS root.
    subject : str
        Subject label without ``sub-``.
    session : str, optional
        Session label without ``ses-``.

    Returns
    -------
    list of Path
        ``participants.tsv`` and, with a session, ``sub-<subject>/sub-<subject>_sessions.tsv``.
    """
    root = Path(root)
    out = [root / "participants.tsv"]
    if session is not None:
        out.append(root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv")
    return out


def bids_meta(root: str | os.PathLike, subject: str, session: str | None = None
              ) -> dict[str, Any]:
    """Study metadata of a subject (and session) from the dataset's tables.

    Parameters
    ----------
    root, subject, session
        As in :func:`bids_table_paths`.

    Returns
    -------
    dict
        ``subject`` (and ``session``), the subject's ``participants.tsv`` columns and the
        session's ``_sessions.tsv`` columns (``n/a`` left out); the one numeric column
        whose name mentions hours becomes ``hours_since_dose``.

    Raises
    ------
    MetadataError
        When a table exists but cannot be read.
    """
    meta: dict[str, Any] = {"subject": subject}
    if session is not None:
        meta["session"] = session
    tables = bids_table_paths(root, subject, session)
    meta.update(_row(_read_tsv(tables[0]), "participant_id", f"sub-{subject}"))
    if session is not None:
        ses = _row(_read_tsv(tables[1]), "session_id", f"ses-{session}")
        meta.update(_hours_column(ses, tables[1]))
    return meta


def _file_entities(path: str | os.PathLike) -> tuple[Path, dict[str, Any]] | None:
    """The BIDS root and entities of a file inside a BIDS dataset (None otherwise)."""
    name = Path(path).name
    if not name.startswith("sub-"):
        return None
    root = find_bids_root(path)
    if root is None:
        return None
    from mne_bids import get_entities_from_fname

    ents = get_entities_from_fname(name, on_error="ignore", verbose="error")
    if not ents.get("subject"):
        return None
    return root, ents


def bids_meta_for_file(path: str | os.PathLike) -> dict[str, Any]:
    """:func:`bids_meta` for a recording file, from the entities in its name.

    Parameters
    ----------
    path : path-like
        A recording file.

    Returns
    -------
    dict
        The metadata; empty when the file is not in a BIDS dataset (no ``sub-`` name or
        no root found).
    """
    found = _file_entities(path)
    if found is None:
        return {}
    root, ents = found
    return bids_meta(root, ents["subject"], ents.get("session"))


def bids_tables_for_file(path: str | os.PathLike) -> list[Path]:
    """The BIDS tables :func:`bids_meta_for_file` reads for a file.

    Parameters
    ----------
    path : path-like
        A recording file.

    Returns
    -------
    list of Path
        As :func:`bids_table_paths`; empty outside a BIDS dataset.
    """
    found = _file_entities(path)
    if found is None:
        return []
    root, ents = found
    return bids_table_paths(root, ents["subject"], ents.get("session"))


_BIDS_SIDE = ("channels.tsv", "events.tsv", "electrodes.tsv", "coordsystem.json")


def bids_file_companions(fpath: Path, suffix: str) -> list[Path]:
    """The sidecars mne-bids reads beside a BIDS recording (those that exist).

    Parameters
    ----------
    fpath : Path
        The recording file.
    suffix : str
        Its BIDS suffix (``"eeg"``, ``"ieeg"``...).

    Returns
    -------
    list of Path
        ``_<suffix>.json``, ``_channels.tsv``, ``_events.tsv``, ``_electrodes.tsv`` and
        ``_coordsystem.json`` sharing its entities, and the subject's (session's)
        ``_scans.tsv``.
    """
    fpath = Path(fpath)
    base = fpath.name.split(f"_{suffix}.")[0]
    names = [f"{base}_{suffix}.json", *(f"{base}_{s}" for s in _BIDS_SIDE)]
    out = [fpath.parent / n for n in names]
    sub = base.split("_")[0]
    ses = next((e for e in base.split("_") if e.startswith("ses-")), None)
    scans_dir = fpath.parent.parent
    out.append(scans_dir / "_".join([sub, *([ses] if ses else []), "scans.tsv"]))
    return [p for p in out if p.is_file()]
