"""One run at a time per output folder, and the errors of an unusable output folder.

:func:`output_lock` takes an exclusive, non-blocking ``flock`` on ``<out>/.ketephys.lock``
for the whole run (cache and outputs). A second run into the same folder stops at once
with :class:`OutputFolderError` naming the process that holds it; it does not wait. The
lock is released by the kernel when the holder exits, however it exits, so a killed run
never leaves a stale lock.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import KetephysError

__all__ = ["OutputFolderError", "output_lock", "output_error", "LOCK_NAME"]

#: Lock file inside the output folder.
LOCK_NAME = ".ketephys.lock"


class OutputFolderError(KetephysError):
    """The output folder cannot be used: not a folder, not writable, the disk is full, or
    another run holds its lock (``ketephys run`` exit status 4)."""

    #: exit status of the ``ketephys`` command for this error
    exit_status = 4


def output_error(err: OSError, path: str | os.PathLike, doing: str) -> OutputFolderError:
    """A one-line :class:`OutputFolderError` for an ``OSError`` met in the output folder.

    Parameters
    ----------
    err : OSError
        The error; its ``errno`` picks the reason (no space, quota, read-only, permission,
        not a folder, exists), else its ``strerror``.
    path : str or path-like
        The file or folder concerned, named in the message.
    doing : str
        What failed, completing "cannot ...", e.g. ``"write the output tables"``.

    Returns
    -------
    OutputFolderError
        To be raised by the caller (``from err``).
    """
    reasons = {errno.ENOSPC: "no space left on the device",
               errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "the file system is read-only",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.ENOTDIR: "a path component is a file, not a folder",
               errno.EEXIST: "a file of that name exists"}
    reason = reasons.get(err.errno, err.strerror or str(err))
    return OutputFolderError(f"cannot {doing}: {reason} (finished recordings stay cached; "
                             "fix this and rerun)", path)


@contextmanager
def output_lock(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Create ``out_dir`` and hold its run lock for the duration of the block.

    The lock file records the holder's process id, named to a second run.

    Parameters
    ----------
    out_dir : str or path-like
        The output folder (created with its parents when missing).

    Yields
    ------
    Path
        ``out_dir``.

    Raises
    ------
    OutputFolderError
        When the folder cannot be created or written, or another run holds the lock.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        raise output_error(err, out_dir, "use the output folder") from err
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            fcntl = None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as err:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                raise OutputFolderError(
                    f"another ketephys run (pid {holder}) is writing to this output folder; "
                    "wait for it to finish or choose another --out", out_dir) from err
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError:
            pass
        yield out_dir
    finally:
        os.close(fd)  # releases the flock
