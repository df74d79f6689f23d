"""The output folder of a run (BIDS-derivatives-like), every file written atomically.

=====================  ==========================================================
file                   content
=====================  ==========================================================
``features.parquet``   tidy feature rows of every recording, with study metadata
``features.csv``       the same as CSV
``decay_fits.csv``     one row per fit x group (tau, CI, half-life, model, flags)
``failures.csv``       file, modality, error type and message of each failure
``provenance.json``    resolved config, package versions, every input with its hash
``report.html``        self-contained report (figures embedded)
``dataset_description.json``  BIDS derivatives description
``run.json``           written last: the run id and the sha256 of every file above
=====================  ==========================================================

The set is committed as a unit: ``run.json`` is removed before the first table is
replaced and written after the last one, and every table's provenance carries the same
``run_id``. A folder without ``run.json``, or whose files do not have the hashes it lists,
is a mixed or interrupted set: :func:`check_outputs` says so, ``ketephys run`` reports it
and the run rewrites the whole set.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

from .cache import arrow_safe, atomic_write  # noqa: F401  (arrow_safe re-exported)

__all__ = ["arrow_safe", "write_table", "write_json", "package_versions",
           "FAILURE_COLUMNS", "write_outputs", "commit_outputs", "check_outputs",
           "OUTPUT_FILES", "RUN_FILE", "new_run_id"]

#: The tables and files of one output set (report.html is added when written).
OUTPUT_FILES = ("features.parquet", "features.csv", "failures.csv", "decay_fits.csv",
                "provenance.json", "dataset_description.json")
#: Written last; lists the run id and the hash of every file of the set.
RUN_FILE = "run.json"

#: Columns of failures.csv.
FAILURE_COLUMNS = ("file", "modality", "subject", "session", "error_type", "message")

_PACKAGES = ("ketephys", "numpy", "scipy", "pandas", "mne", "neo", "elephant", "specparam",
             "mne-connectivity", "pyarrow", "pydantic", "pyyaml", "dask", "distributed",
             "dask-jobqueue", "matplotlib", "pynwb", "edfio", "pybv")


def write_table(frame, path: str | os.PathLike) -> Path:
    """Write a DataFrame atomically as ``.parquet`` or ``.csv`` (by extension).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; written without its index (object columns of mixed types become
        text in Parquet).
    path : str or path-like
        ``.parquet`` for Parquet, anything else for CSV.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if path.suffix == ".parquet":
        with atomic_write(path, "wb") as fh:
            arrow_safe(frame).to_parquet(fh, index=False)
    else:
        with atomic_write(path, "w") as fh:
            frame.to_csv(fh, index=False)
    return path


def write_json(content: Any, path: str | os.PathLike) -> Path:
    """Write JSON atomically (indented, keys sorted).

    Parameters
    ----------
    content : object
        JSON-serialisable content; other values (paths, timestamps) are written as
        ``str(value)``.
    path : str or path-like
        The file.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    with atomic_write(path, "w") as fh:
        json.dump(content, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
    return path


def package_versions() -> dict[str, str | None]:
    """Installed versions of ketephys and the packages its results depend on.

    Returns
    -------
    dict
        Package name -> version (None when not installed), plus ``python`` and
        ``platform``.
    """
    out: dict[str, str | None] = {"python": sys.version.split()[0],
                                  "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def new_run_id() -> str:
    """A fresh run id (UTC time and a random part).

    Returns
    -------
    str
        E.g. ``"20260101T120000Z-1a2b3c4d"``.
    """
    import datetime as _dt

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{uuid.uuid4().hex[:8]}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_outputs(out_dir: str | os.PathLike) -> list[str]:
    """Problems of the output set in ``out_dir`` (empty when it is complete or absent).

    Parameters
    ----------
    out_dir : str or path-like
        The output folder.

    Returns
    -------
    list of str
        E.g. ``"run.json is missing: an interrupted or mixed output set"`` or
        ``"features.csv is not the file run 2026...-ab12 wrote"``.
    """
    out_dir = Path(out_dir)
    present = [n for n in (*OUTPUT_FILES, "report.html") if (out_dir / n).is_file()]
    run_path = out_dir / RUN_FILE
    if not run_path.is_file():
        return ([f"{RUN_FILE} is missing while {', '.join(present)} exist: an interrupted "
                 "or mixed output set"] if present else [])
    try:
        stamp = json.loads(run_path.read_text())
        files = dict(stamp["files"])
        run_id = stamp["run_id"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [f"{RUN_FILE} is unreadable ({err}): an interrupted output set"]
    problems = []
    for name, digest in files.items():
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{name} of run {run_id} is missing")
        elif _sha256(path) != digest:
            problems.append(f"{name} is not the file run {run_id} wrote")
    problems += [f"{name} is not part of run {run_id}" for name in present
                 if name not in files]
    return problems


def write_outputs(out_dir: Path, features, failures, fits, provenance: dict,
                  run_id: str | None = None) -> dict[str, Path]:
    """Write the tables and provenance of a run.

    ``run.json`` is removed first, so until :func:`commit_outputs` the folder reads as
    incomplete; ``provenance["run_id"]`` is set to ``run_id``.

    Parameters
    ----------
    out_dir : Path
        The output folder (created when missing).
    features : pandas.DataFrame
        Feature rows (features.parquet and features.csv).
    failures : list of dict
        One per failed recording, keys :data:`FAILURE_COLUMNS` (failures.csv).
    fits : pandas.DataFrame
        decay_fits.csv.
    provenance : dict
        provenance.json's content.
    run_id : str, optional
        The run's id (default a new one, :func:`new_run_id`).

    Returns
    -------
    dict
        Name (``features_parquet``, ``features_csv``, ``failures``, ``decay_fits``,
        ``provenance``, ``dataset_description``) -> path written.
    """
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RUN_FILE).unlink(missing_ok=True)
    provenance = {**provenance, "run_id": run_id or new_run_id()}
    paths = {
        "features_parquet": write_table(features, out_dir / "features.parquet"),
        "features_csv": write_table(features, out_dir / "features.csv"),
        "failures": write_table(pd.DataFrame(failures, columns=list(FAILURE_COLUMNS)),
                                out_dir / "failures.csv"),
        "decay_fits": write_table(fits, out_dir / "decay_fits.csv"),
        "provenance": write_json(provenance, out_dir / "provenance.json"),
    }
    paths["dataset_description"] = write_json(
        {"Name": "ketephys features", "BIDSVersion": "1.9.0", "DatasetType": "derivative",
         "GeneratedBy": [{"Name": "ketephys", "Version": package_versions()["ketephys"]}]},
        out_dir / "dataset_description.json")
    return paths


def commit_outputs(out_dir: Path, run_id: str, paths: dict[str, Path]) -> Path:
    """Write ``run.json`` (last): the run id and the sha256 of every file in ``paths``.

    A stale ``report.html`` of an earlier run (this run wrote none) is removed first, so
    the folder holds one run's files only.

    Parameters
    ----------
    out_dir : Path
        The output folder.
    run_id : str
        The id the tables' provenance carries.
    paths : dict
        Name -> path of every file of the set (:func:`write_outputs`, and ``report``
        when report.html was written).

    Returns
    -------
    Path
        The path of ``run.json``.
    """
    if "report" not in paths:
        (out_dir / "report.html").unlink(missing_ok=True)
    files = {Path(p).name: _sha256(Path(p)) for p in paths.values()}
    return write_json({"run_id": run_id, "complete": True, "files": files},
                      out_dir / RUN_FILE)
