"""Compare two ``ketephys demo`` output folders: are the numbers the same?

This is the before/after check of a change that must not change results (issue #13: the
demo's ``features.parquet`` and ``decay_fits.csv`` identical to 1e-12). Run the demo with
the code before the change and with the code after it, then compare::

    git worktree add /tmp/ketephys-before <commit before the change>
    (cd /tmp/ketephys-before && python -m ketephys demo --out /tmp/demo-before)
    python -m ketephys demo --out /tmp/demo-after      # from this checkout
    python benchmarks/compare_demo.py /tmp/demo-before /tmp/demo-after

(``python -m ketephys`` run from a checkout's root imports that checkout's package, even
when another copy is installed.) Full usage::

    python benchmarks/compare_demo.py OLD_DIR NEW_DIR [--tol 1e-12] [--ignore COL ...]

What it compares: ``features.parquet`` and ``decay_fits.csv`` of both folders. Rows are
sorted by (recording, analyser, measure, channel, pathway, role) (the key columns a table
has; the other text columns break ties), recording paths made relative to their common
folder (the two runs wrote their data under different output folders). Then every column:
numeric columns must agree to ``tol`` (default 1e-12) relative to the old value,
``|old - new| <= tol * max(1, |old|)``, NaN equal to NaN and NaN against a number a
difference; text columns must be equal. Missing tables, columns or rows are differences.

It prints, per table, "same" or "DIFFERENT", the largest relative difference (and where)
and every problem, and exits 1 when anything differs, else 0.
:func:`compare` is the comparison of two tables (tested in ``tests/test_demo.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

KEYS = ("recording", "analyser", "measure", "channel", "pathway", "role")
TABLES = ("features.parquet", "decay_fits.csv")


def _read(path: Path) -> pd.DataFrame:
    """The table, with the ``recording`` paths made relative to their common folder (the
    two runs wrote their data under different output folders)."""
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if "recording" in frame.columns and frame["recording"].notna().all() and len(frame):
        paths = frame["recording"].astype(str)
        common = os.path.commonpath(list(paths)) if paths.str.startswith("/").all() else ""
        if common:
            frame["recording"] = [os.path.relpath(p, common) for p in paths]
    return frame


def _text(column: pd.Series) -> np.ndarray:
    """A column as strings, missing values as ``"<NA>"`` (so that NaN equals NaN)."""
    return column.astype(object).where(column.notna(), "<NA>").astype(str).to_numpy()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    keys = [c for c in KEYS if c in frame.columns] + [c for c in text if c not in KEYS]
    return frame.iloc[np.lexsort([_text(frame[c]) for c in reversed(keys)])
                      ].reset_index(drop=True)


def compare(old: pd.DataFrame, new: pd.DataFrame, tol: float = 1e-12,
            ignore: tuple[str, ...] = ()) -> tuple[list[str], tuple[float, str]]:
    """Compare two versions of one table, whatever their row order.

    Parameters
    ----------
    old, new : pandas.DataFrame
        The table before and after (as read by :func:`_read`).
    tol : float
        Largest relative difference of a numeric value (relative to ``max(1, |old|)``).
    ignore : tuple of str
        Columns not compared.

    Returns
    -------
    problems : list of str
        One line per differing column (with the count and the largest difference), per
        column present on one side only, or the row counts when they differ; empty when
        the tables agree.
    largest : (float, str)
        The largest relative numeric difference and where it is (``""`` when 0).
    """
    problems: list[str] = []
    largest = (0.0, "")
    cols_old, cols_new = set(old.columns) - set(ignore), set(new.columns) - set(ignore)
    if cols_old != cols_new:
        problems.append(f"columns differ: only old {sorted(cols_old - cols_new)}, "
                        f"only new {sorted(cols_new - cols_old)}")
    if len(old) != len(new):
        return [*problems, f"{len(old)} rows before, {len(new)} after"], largest
    old, new = _sorted(old), _sorted(new)
    for col in sorted(cols_old & cols_new):
        a, b = old[col], new[col]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(float).tolist(), b.to_numpy(float).tolist()
            x, y = np.asarray(x), np.asarray(y)
            both_nan = np.isnan(x) & np.isnan(y)
            diff = np.where(both_nan, 0.0, np.abs(x - y))
            diff = np.where(np.isnan(diff), np.inf, diff)  # NaN on one side only
            scaled = diff / np.maximum(1.0, np.nan_to_num(np.abs(x), nan=1.0))
            i = int(np.argmax(scaled)) if len(scaled) else 0
            if len(scaled) and scaled[i] > largest[0]:
                largest = (float(scaled[i]), f"{col} row {i}: {float(x[i])!r} -> {float(y[i])!r}")
            if len(scaled) and scaled[i] > tol:
                problems.append(f"{col}: {int((scaled > tol).sum())} values differ; largest "
                                f"{float(x[i])!r} -> {float(y[i])!r} (row {i})")
        else:
            sa, sb = _text(a), _text(b)
            bad = np.flatnonzero(sa != sb)
            if bad.size:
                problems.append(f"{col}: {bad.size} values differ; first {sa[bad[0]]!r} -> "
                                f"{sb[bad[0]]!r} (row {bad[0]})")
    return problems, largest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_dir", type=Path)
    parser.add_argument("new_dir", type=Path)
    parser.add_argument("--tol", type=float, default=1e-12)
    parser.add_argument("--ignore", nargs="*", default=[], help="columns not compared")
    args = parser.parse_args(argv)
    failed = False
    for name in TABLES:
        old_path, new_path = args.old_dir / name, args.new_dir / name
        missing = [str(p) for p in (old_path, new_path) if not p.exists()]
        if missing:
            print(f"{name}: missing {missing}")
            failed = True
            continue
        old, new = _read(old_path), _read(new_path)
        problems, (size, where) = compare(old, new, args.tol, tuple(args.ignore))
        status = "DIFFERENT" if problems else "same"
        print(f"{name}: {status} ({len(old)} rows, {old.shape[1]} columns); largest "
              f"relative difference {size:.3g}{' at ' + where if where else ''}")
        for problem in problems:
            print(f"  {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
