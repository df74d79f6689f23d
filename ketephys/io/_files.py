"""Small file helpers shared by the readers and the writer: atomic writes, read-only checks."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import CorruptFileError, KetephysError

__all__ = ["atomic_path", "atomic_folder", "check_readable", "suffix_of", "unique_paths",
           "sniff_eeglab"]

_HDF5 = b"\x89HDF\r\n\x1a\n"


def suffix_of(path: str | os.PathLike) -> str:
    """Lower-case extension of ``path`` including the dot (``".edf"``)."""
    return Path(path).suffix.lower()


@contextlib.contextmanager
def atomic_path(path: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same extension); move it over ``path`` on
    success, delete it on failure, so a reader never sees a half-written file."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise KetephysError("file exists; pass overwrite=True to replace it", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp" + path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_folder(path: Path, companions: list[str], overwrite: bool) -> Iterator[Path]:
    """For formats made of several files (BrainVision): yield ``tmpdir/<name>`` in a
    temporary folder beside ``path``; on success move every file named ``<stem><ext>`` for
    ``ext`` in ``companions`` into place, the main file last."""
    path = Path(path)
    targets = [path.with_suffix(ext) for ext in companions]
    for target in [*targets, path]:
        if target.exists() and not overwrite:
            raise KetephysError("file exists; pass overwrite=True to replace it", target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        yield tmpdir / path.name
        for target in targets:
            src = tmpdir / target.name
            if src.exists():
                os.replace(src, target)
        os.replace(tmpdir / path.name, path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def check_readable(path: str | os.PathLike) -> Path:
    """``path`` as a Path after checking it is an existing, non-empty file."""
    p = Path(path)
    if not p.exists():
        raise KetephysError("no such file", p)
    if p.is_dir():
        return p
    if p.stat().st_size == 0:
        raise CorruptFileError("the file is empty (0 bytes)", p)
    return p


def unique_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """``paths`` as Paths, in order, without repeats."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p not in out:
            out.append(p)
    return out


def sniff_eeglab(path: Path) -> bool:
    """Whether a file is a MATLAB or HDF5 file, as an EEGLAB ``.set`` is.

    Parameters
    ----------
    path : Path
        Any file.

    Returns
    -------
    bool
        True when the first bytes are a MATLAB header or the HDF5 signature.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    return head.startswith(b"MATLAB") or head == _HDF5
