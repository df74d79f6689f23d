"""Manifest CSV: one row per recording file, a ``path`` column plus metadata columns.

Relative paths are resolved against the CSV's folder, so a study folder can move.

Example ``manifest.csv``::

    path,subject,session,region,condition,dose_mg_per_kg,hours_since_dose
    rat01/day1.abf,rat01,d1,CA1,ketamine,10,24
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import MetadataError

__all__ = ["read_manifest", "manifest_meta"]


def read_manifest(csv: str | os.PathLike) -> pd.DataFrame:
    """Read a manifest CSV.

    Parameters
    ----------
    csv : path-like
        The manifest; must have a ``path`` column.

    Returns
    -------
    DataFrame
        The table with ``path`` made absolute (relative paths resolved against the
        CSV's folder).

    Raises
    ------
    MetadataError
        When the file cannot be read, has no ``path`` column, or lists a path twice.
    """
    csv = Path(csv)
    try:
        table = pd.read_csv(csv, dtype={"subject": str, "session": str, "genotype": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise MetadataError(f"cannot read the manifest: {exc}", csv) from exc
    if "path" not in table.columns:
        raise MetadataError(f"the manifest has no 'path' column; columns are {list(table)}", csv)
    if table["path"].isna().any():
        row = int(table.index[table["path"].isna()][0]) + 2
        raise MetadataError(f"empty path on line {row}", csv)
    base = csv.resolve().parent
    table["path"] = [str(_resolve(p, base)) for p in table["path"].astype(str)]
    dup = table["path"][table["path"].duplicated()]
    if len(dup):
        raise MetadataError(f"path listed twice: {dup.iloc[0]}", csv)
    return table


def _resolve(path: str, base: Path) -> Path:
    p = Path(os.path.expanduser(path.strip()))
    return (p if p.is_absolute() else base / p).resolve()


def manifest_meta(manifest: str | os.PathLike | pd.DataFrame, path: str | os.PathLike
                  ) -> dict[str, Any]:
    """Metadata of the manifest row of a recording.

    Parameters
    ----------
    manifest : path-like or DataFrame
        A manifest CSV, or a table from :func:`read_manifest` (absolute ``path`` column).
    path : path-like
        The recording, matched by its resolved absolute path.

    Returns
    -------
    dict
        The row's non-empty columns other than ``path``; empty when the file is not listed.
    """
    table = manifest if isinstance(manifest, pd.DataFrame) else read_manifest(manifest)
    target = str(Path(path).resolve())
    rows = table[table["path"].astype(str) == target]
    if rows.empty:
        return {}
    row = rows.iloc[0].drop(labels=["path"])
    return {k: v for k, v in row.items() if not pd.isna(v)}
