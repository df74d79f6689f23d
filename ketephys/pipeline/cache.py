"""Per-recording result cache: resume a run without recomputing what is done.

A recording's key is made of the content hash of every file its reader opens (the main
file, its companions and its sidecar, from :func:`input_files`) and of the analysis
settings (reader options, analysers and their settings, the metadata given to the
reader, the ketephys version); execution settings (workers, scheduler) never enter it.

A hash is only trusted for the bytes that were analysed: each file is hashed with its
:func:`file_signature` (size, mtime, ctime, inode, device) taken before and after, and
the worker checks after analysing that every file still has that signature
(:func:`changed_inputs`). A file changed in between makes the recording fail ("changed
while it was analysed"): its result is never stored under the old hash. The quick index
of a rerun skips hashing only when the whole signature is unchanged; ``ctime`` cannot be
set back by a copy, an edit or ``os.utime``.

Only regular files are ever opened: FIFOs, devices, sockets, folders, symlink loops and
dangling links are refused by :func:`regular_file` (no hang on a FIFO or ``/dev/zero``).
Each entry is written atomically (temporary file + rename), so an interrupted run leaves
only whole entries behind; stale temporary files are removed by the next run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import KetephysError

__all__ = ["ResultCache", "file_sha256", "hash_file", "file_signature", "regular_file",
           "input_files", "changed_inputs", "atomic_write",
           "remove_stale_tmp", "InputFileError", "read_views", "views_path"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class InputFileError(KetephysError):
    """An input is not a regular readable file (FIFO, device, folder, symlink loop...), or
    changed while it was hashed or analysed."""


def file_signature(st: os.stat_result) -> list[int]:
    """What an ordinary copy or edit of a file cannot keep the same.

    Parameters
    ----------
    st : os.stat_result
        ``os.stat`` or ``os.fstat`` of the file.

    Returns
    -------
    list of int
        ``[size, mtime_ns, ctime_ns, inode, device]`` (``ctime`` changes on every write
        and on ``os.utime``).
    """
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def regular_file(path: str | os.PathLike) -> os.stat_result:
    """Check that ``path`` is a regular file, without opening it.

    Parameters
    ----------
    path : str or path-like
        The file (symbolic links are followed).

    Returns
    -------
    os.stat_result
        Its ``os.stat``.

    Raises
    ------
    InputFileError
        For a folder, FIFO, device, socket, symlink loop or dangling link.
    """
    try:
        st = os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise InputFileError("symbolic link loop: cannot reach a file", path) from err
        if err.errno == errno.ENOENT and os.path.islink(path):
            raise InputFileError(f"dangling symbolic link to {os.readlink(path)!r}",
                                 path) from err
        if err.errno == errno.ENOENT:
            raise InputFileError("no such file", path) from err
        raise InputFileError(f"cannot read the file: {err}", path) from err
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise InputFileError(f"not a regular file: {kind}", path)
    return st


def hash_file(path: str | os.PathLike) -> tuple[str, list[int]]:
    """SHA-256 of a regular file and its :func:`file_signature`, read in 1 MiB chunks.

    The file is opened read-only and non-blocking; its signature is taken before and after
    reading, so the hash belongs to one version of the file.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    sha256 : str
        Hex digest of the content.
    signature : list of int
        :func:`file_signature` of the hashed version.

    Raises
    ------
    InputFileError
        When it is not a regular file, cannot be read, or changed while being hashed.
    """
    regular_file(path)
    try:  # O_NONBLOCK: a file swapped for a FIFO after the check cannot block the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise InputFileError(f"cannot read the file: {err}", path) from err
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:  # read-only: inputs are never modified
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise InputFileError("not a regular file", path)
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
        after = os.fstat(fd)
    if file_signature(before) != file_signature(after):
        raise InputFileError("the file changed while it was being hashed; rerun", path)
    return digest.hexdigest(), file_signature(after)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a regular file's content (see :func:`hash_file`).

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    str
        Hex digest (64 characters).

    Raises
    ------
    InputFileError
        When it is not a regular file, cannot be read, or changed while being hashed.
    """
    return hash_file(path)[0]


def input_files(path: str | os.PathLike) -> list[Path]:
    """Every file the reader will open for the recording ``path``, main file first:
    ``ketephys.io.files_of`` (from headers only: a BrainVision ``DataFile``/``MarkerFile``
    of any name, the EEGLAB ``.fdt``, every Axona ``.eeg*``, the JSON sidecar...).

    Parameters
    ----------
    path : str or path-like
        Main file of the recording.

    Returns
    -------
    list of Path
        Absolute paths, main file first, each once.

    Raises
    ------
    InputFileError
        When the main file is not a regular file.
    KetephysError
        From ``files_of`` (e.g. a missing companion).
    """
    from ..io import files_of

    regular_file(path)
    out: dict[str, Path] = {}
    for f in [Path(path), *files_of(path)]:
        out.setdefault(os.path.abspath(f), Path(os.path.abspath(f)))
    return list(out.values())


def changed_inputs(signatures: dict[str, list[int]], opened: list[str] | tuple[str, ...] = ()
                   ) -> str | None:
    """Why a finished task's inputs cannot be trusted, or None.

    The device number is left out of the comparison: a Dask worker on another host sees
    the same shared file under another device number.

    Parameters
    ----------
    signatures : dict
        Path -> :func:`file_signature` at hashing time.
    opened : sequence of str
        The files the reader reports it opened (``rec.source.files``).

    Returns
    -------
    str or None
        A message when a hashed file changed since it was hashed, or the reader opened a
        file that was not hashed.
    """
    known = set()
    for path, sig in signatures.items():
        try:
            now = file_signature(os.stat(path))
        except OSError:
            return f"{path} disappeared while the recording was analysed"
        if now[:4] != list(sig)[:4]:
            return (f"{path} changed while the recording was analysed; its result is not "
                    "stored (rerun to analyse the new content)")
        known.add((now[3], now[0]))
    for path in opened:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if (st.st_ino, st.st_size) not in known:
            return (f"the reader opened {path}, which is not among the hashed inputs "
                    f"{sorted(signatures)}; the cache key would not cover it")
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale_tmp(folder: str | os.PathLike) -> int:
    """Remove temporary files (``.<name>.*.tmp``) that an interrupted
    :func:`atomic_write` left in ``folder``; call only while holding the folder's lock.

    Parameters
    ----------
    folder : str or path-like
        The folder (not its sub-folders). A folder that cannot be listed is left alone.

    Returns
    -------
    int
        How many files were removed.
    """
    n = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file(
                follow_symlinks=False):
            try:
                os.unlink(entry.path)
                n += 1
            except OSError:
                pass
    if n:
        log.info("removed %d stale temporary file(s) from %s", n, folder)
    return n


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file beside ``path``; rename it over ``path`` when the block ends
    without error (a reader never sees a half-written file). The file gets the usual
    mode (0666 minus the umask); on an error the temporary file is removed and ``path``
    is left as it was.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder is created when missing.
    mode : {"w", "wb"}
        Text or binary.

    Yields
    ------
    file object
        The open temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def views_path(folder: str | os.PathLike, key: str) -> Path:
    """Where the result objects of cache entry ``key`` are stored.

    Parameters
    ----------
    folder : str or path-like
        The cache folder.
    key : str
        The cache key (:attr:`~ketephys.pipeline.tasks.RecordingTask.key`).

    Returns
    -------
    Path
        ``folder/<key>.views.pkl``.
    """
    return Path(folder) / f"{key}.views.pkl"


def read_views(folder: str | os.PathLike, key: str) -> dict[str, Any]:
    """The analysers' result objects stored with cache entry ``key`` in ``folder`` (empty
    when none were, e.g. an entry of an older ketephys or a plug-in analyser). Reads only
    that file: no index, no clean-up.

    Parameters
    ----------
    folder : str or path-like
        The cache folder.
    key : str
        The cache key.

    Returns
    -------
    dict
        Analyser name -> {view name -> object}; empty when the file is missing or
        unreadable.
    """
    import pickle

    try:
        with open(views_path(folder, key), "rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return {}


class ResultCache:
    """Feature rows of finished recordings, one Parquet file per key, in ``folder``.

    A small index of path -> (:func:`file_signature`, hash) avoids re-reading unchanged
    inputs on a rerun; any change of size, mtime, ctime, inode or device makes the file
    be hashed again.

    Parameters
    ----------
    folder : str or path-like
        The cache folder (created when missing; stale temporary files in it are removed).

    Attributes
    ----------
    folder : Path
        The cache folder.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(self.folder)
        self._index_path = self.folder / "file_hashes.json"
        try:
            self._index: dict[str, Any] = json.loads(self._index_path.read_text())
        except (OSError, ValueError):
            self._index = {}
        self._dirty = False

    # ----------------------------------------------------------------- content hashes
    def content_hash(self, path: str | os.PathLike) -> tuple[str, list[int]]:
        """:func:`hash_file`, remembered: a file whose :func:`file_signature` is the one
        indexed is not read again (:meth:`save_index` keeps new hashes for the next run).

        Parameters
        ----------
        path : str or path-like
            The file; the index is keyed by its absolute path.

        Returns
        -------
        tuple of (str, list of int)
            ``(sha256, signature)`` exactly as :func:`hash_file` returns them.

        Raises
        ------
        InputFileError
            When it is not a regular file; when it is read (not indexed, or changed), also
            as :func:`hash_file` when it cannot be read or changes while being hashed.
        """
        key = os.path.abspath(path)
        sig = file_signature(regular_file(path))
        entry = self._index.get(key)
        if isinstance(entry, dict) and entry.get("signature") == sig:
            return entry["sha256"], sig
        digest, sig = hash_file(path)
        self._index[key] = {"signature": sig, "sha256": digest}
        self._dirty = True
        return digest, sig

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
        """Whether rows are stored under ``key``.

        Parameters
        ----------
        key : str
            The cache key.

        Returns
        -------
        bool
        """
        return self._entry(key).is_file()

    def get(self, key: str):
        """The cached feature rows of ``key``.

        Parameters
        ----------
        key : str
            The cache key (it must be stored, see :meth:`has`).

        Returns
        -------
        pandas.DataFrame
            The rows as :meth:`put` stored them.
        """
        import pandas as pd

        return pd.read_parquet(self._entry(key))

    def put(self, key: str, rows, views: dict[str, Any] | None = None) -> None:
        """Store feature rows atomically, with the analysers' result objects (pickled
        first, so rows never stand without the views they came with).

        Parameters
        ----------
        key : str
            The cache key.
        rows : pandas.DataFrame
            The feature rows (object columns of mixed types are stored as text).
        views : dict, optional
            Analyser name -> {view name -> object}; any older views of ``key`` are removed.
        """
        import pickle

        self._views(key).unlink(missing_ok=True)
        if views:
            with atomic_write(self._views(key), "wb") as fh:
                pickle.dump(views, fh, protocol=pickle.HIGHEST_PROTOCOL)
        with atomic_write(self._entry(key), "wb") as fh:
            arrow_safe(rows).to_parquet(fh, index=False)

    def _views(self, key: str) -> Path:
        return views_path(self.folder, key)

    def get_views(self, key: str) -> dict[str, Any]:
        """The analysers' result objects stored with ``key`` (see :func:`read_views`).

        Parameters
        ----------
        key : str
            The cache key.

        Returns
        -------
        dict
            Analyser name -> {view name -> object}; empty when none are stored.
        """
        return read_views(self.folder, key)

    def drop(self, key: str) -> None:
        """Remove the rows and views of ``key`` (nothing happens when they are missing).

        Parameters
        ----------
        key : str
            The cache key.
        """
        self._entry(key).unlink(missing_ok=True)
        self._views(key).unlink(missing_ok=True)


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
