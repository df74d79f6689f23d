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
=====================  ==========================================================
"""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .cache import atomic_write

__all__ = ["arrow_safe", "write_table", "write_json", "package_versions",
           "FAILURE_COLUMNS", "write_outputs"]

#: Columns of failures.csv.
FAILURE_COLUMNS = ("file", "modality", "subject", "session", "error_type", "message")

_PACKAGES = ("ketephys", "numpy", "scipy", "pandas", "mne", "neo", "elephant", "specparam",
             "mne-connectivity", "pyarrow", "pydantic", "pyyaml", "dask", "distributed",
             "dask-jobqueue", "matplotlib", "pynwb", "edfio", "pybv")


def arrow_safe(frame):
    """A copy whose object columns hold one Python type each (mixed ones become text),
    so Parquet can store it."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        values = out[col].dropna()
        kinds = {type(v) for v in values}
        if len(kinds) > 1 or (kinds and not kinds <= {str, bool, int, float}):
            out[col] = out[col].map(lambda v: v if v is None or (isinstance(v, float)
                                                                 and pd.isna(v)) else str(v))
    return out


def write_table(frame, path: str | os.PathLike) -> Path:
    """Write a DataFrame atomically as ``.parquet`` or ``.csv`` (by extension)."""
    path = Path(path)
    if path.suffix == ".parquet":
        with atomic_write(path, "wb") as fh:
            arrow_safe(frame).to_parquet(fh, index=False)
    else:
        with atomic_write(path, "w") as fh:
            frame.to_csv(fh, index=False)
    return path


def write_json(content: Any, path: str | os.PathLike) -> Path:
    """Write JSON atomically (indented, keys sorted)."""
    path = Path(path)
    with atomic_write(path, "w") as fh:
        json.dump(content, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
    return path


def package_versions() -> dict[str, str | None]:
    """Installed versions of ketephys and the packages its results depend on."""
    out: dict[str, str | None] = {"python": sys.version.split()[0],
                                  "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_outputs(out_dir: Path, features, failures, fits, provenance: dict) -> dict[str, Path]:
    """Write the tables and provenance of a run; returns the paths written."""
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "features_parquet": write_table(features, out_dir / "features.parquet"),
        "features_csv": write_table(features, out_dir / "features.csv"),
        "failures": write_table(pd.DataFrame(failures, columns=list(FAILURE_COLUMNS)),
                                out_dir / "failures.csv"),
        "decay_fits": write_table(fits, out_dir / "decay_fits.csv"),
        "provenance": write_json(provenance, out_dir / "provenance.json"),
    }
    write_json({"Name": "ketephys features", "BIDSVersion": "1.9.0",
                "DatasetType": "derivative",
                "GeneratedBy": [{"Name": "ketephys",
                                 "Version": package_versions()["ketephys"]}]},
               out_dir / "dataset_description.json")
    return paths
