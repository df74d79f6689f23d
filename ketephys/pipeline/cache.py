"""Per-recording result cache: resume a run without recomputing what is done.

A recording's key is made of the content hash of its file(s) and of the analysis settings
(reader options, analysers and their settings, the metadata given to the reader, the
ketephys version); execution settings (workers, scheduler) never enter it. Each entry is
written atomically (temporary file + rename), so an interrupted run leaves only whole
entries behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["ResultCache", "file_sha256", "companion_files", "atomic_write"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's content, read in 1 MiB chunks (memory does not grow with size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:  # read-only: inputs are never modified
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def companion_files(path: str | os.PathLike) -> list[Path]:
    """The main file and every file beside it with the same stem (``.vmrk``/``.eeg`` of a
    ``.vhdr``, ``.fdt`` of a ``.set``, the ``.json`` sidecar of an array...): together they
    are the recording's content."""
    path = Path(path)
    if not path.parent.is_dir():
        return [path]
    siblings = [p for p in path.parent.iterdir()
                if p.is_file() and p != path and p.stem == path.stem
                and not p.name.startswith(".")]
    return [path, *sorted(siblings)]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file beside ``path``; rename it over ``path`` when the block ends
    without error (a reader never sees a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ResultCache:
    """Feature rows of finished recordings, one Parquet file per key, in ``folder``.

    A small index of ``(size, mtime)`` -> hash avoids re-reading unchanged inputs on a
    rerun; a changed size or modification time makes the file be hashed again.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._index_path = self.folder / "file_hashes.json"
        try:
            self._index: dict[str, Any] = json.loads(self._index_path.read_text())
        except (OSError, ValueError):
            self._index = {}
        self._dirty = False

    # ----------------------------------------------------------------- content hashes
    def content_hash(self, path: str | os.PathLike) -> str:
        """SHA-256 of one file, from the index when its size and mtime are unchanged."""
        path = Path(path)
        st = path.stat()
        entry = self._index.get(str(path))
        if entry and entry["size"] == st.st_size and entry["mtime_ns"] == st.st_mtime_ns:
            return entry["sha256"]
        digest = file_sha256(path)
        self._index[str(path)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns,
                                  "sha256": digest}
        self._dirty = True
        return digest

    def save_index(self) -> None:
        """Write the hash index (atomically) if it changed."""
        if self._dirty:
            with atomic_write(self._index_path) as fh:
                json.dump(self._index, fh, indent=0, sort_keys=True)
            self._dirty = False

    # ------------------------------------------------------------------ result rows
    def _entry(self, key: str) -> Path:
        return self.folder / f"{key}.parquet"

    def has(self, key: str) -> bool:
        return self._entry(key).is_file()

    def get(self, key: str):
        """The cached feature rows (a DataFrame) of ``key``."""
        import pandas as pd

        return pd.read_parquet(self._entry(key))

    def put(self, key: str, rows) -> None:
        """Store feature rows atomically."""
        from .outputs import arrow_safe

        with atomic_write(self._entry(key), "wb") as fh:
            arrow_safe(rows).to_parquet(fh, index=False)

    def drop(self, key: str) -> None:
        self._entry(key).unlink(missing_ok=True)
