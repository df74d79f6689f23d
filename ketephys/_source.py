"""Where a recording came from (:class:`Source`), re-exported by
:mod:`ketephys.recording`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Source"]


@dataclass(frozen=True)
class Source:
    """Where a recording came from.

    Attributes
    ----------
    path : str or None
        The file read (``None`` for data built in memory).
    format : str
        File format, e.g. ``"edf"``, ``"abf"``, ``"axona"``, ``"array"``.
    reader : str
        The reader used, e.g. ``"mne.io.read_raw_edf"``, ``"neo.io.AxonIO"``.
    files : tuple of str
        Every file the reader opened (the main file first: ``.set`` + ``.fdt``,
        ``.vhdr`` + ``.vmrk`` + data, Axona ``.set`` + ``.eeg*``, JSON sidecars...). Empty
        for data built in memory. The batch cache hashes all of them.
    """

    path: str | None = None
    format: str = "array"
    reader: str = "ketephys.Recording.from_array"
    files: tuple[str, ...] = ()
