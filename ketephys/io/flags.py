"""Per-channel reader flags and the capture of library warnings.

A reader that can read a channel only "with care" (a unit assumed, a time base joined over
a gap, a library warning about it) flags it instead of failing. Flags live, until
:class:`~ketephys.recording.Recording` gets its own store, in the plain attribute
``rec.reader_flags = {channel: [flag, ...]}``, which :func:`ketephys.io.read` always sets
(an empty dict when nothing was flagged). Each flag is also logged as a warning naming the
file and channel when it is added.

Library warnings (MNE's ``warnings.warn``, Neo's logger) are captured by
:func:`captured_warnings` while a file is opened and then passed through
:func:`resolve_warnings`: those meaning the numbers cannot be right become a
:class:`~ketephys.errors.CorruptFileError`, the others a logged warning (and a flag on the
channels they name). None is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import CorruptFileError

__all__ = ["add_reader_flag", "reader_flags_of", "captured_warnings", "resolve_warnings",
           "FATAL_WARNINGS"]

logger = logging.getLogger("ketephys.io")

#: Library warning patterns after which the samples cannot be trusted (-> error)
FATAL_WARNINGS = (
    re.compile(r"scaling factor will not be defined", re.I),
    re.compile(r"physical range is not defined", re.I),
    re.compile(r"incorrect for record length", re.I),
    re.compile(r"number of records from the header does not match", re.I),
)
#: Library warnings that say nothing about the samples (logged at INFO only)
_HARMLESS = (
    re.compile(r"contain different (highpass|lowpass) filters", re.I),
    re.compile(r"highpass cutoff frequency .* greater than lowpass", re.I),
    re.compile(r"invalid (patient information|measurement date)", re.I),
    re.compile(r"stim_channel='auto'", re.I),
    re.compile(r"no coordinate information found for channels", re.I),
    re.compile(r"not setting positions of \d+ \w+ channels found in montage", re.I),
    re.compile(r"not conform(s|ing)? to the EDF\+? (standard|specification).*(date|name)",
               re.I),
)


def add_reader_flag(rec: Any, channel: str, flag: str, path: str | Path | None,
                    why: str) -> None:
    """Flag a channel of a recording and log why as a warning.

    Parameters
    ----------
    rec : Recording
        The recording (its ``reader_flags`` is created when missing).
    channel : str
        The channel name.
    flag : str
        The flag (``unit_assumed``, ``discontinuous``, ``aux_dc``...); added once.
    path : path-like or None
        The file, for the log line.
    why : str
        What the reader found, for the log line.
    """
    flags = rec.__dict__.setdefault("reader_flags", {})
    if flag not in flags.setdefault(channel, []):
        flags[channel].append(flag)
        logger.warning("%s: channel %s flagged %s: %s", path, channel, flag, why)


def reader_flags_of(rec: Any) -> dict[str, list[str]]:
    """The reader flags of a recording.

    Parameters
    ----------
    rec : Recording
        Any recording.

    Returns
    -------
    dict of str to list of str
        Channel -> flags, a copy; empty when none were set.
    """
    return {k: list(v) for k, v in getattr(rec, "reader_flags", {}).items()}


_CAPTURE_LOCK = threading.RLock()


class _NeoLogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Collect the text of every Python warning and every Neo log record of level WARNING
    or above raised inside the block (they are not shown; pass them to
    :func:`resolve_warnings`).

    The warning filters are process-wide, so blocks in different threads take turns (a
    lock): one thread's block never restores the filters inside another's.

    Yields
    ------
    list of str
        The messages, filled while the block runs.
    """
    with _CAPTURE_LOCK:
        with _capture() as messages:
            yield messages


@contextlib.contextmanager
def _capture() -> Iterator[list[str]]:
    messages: list[str] = []
    neo_log = logging.getLogger("Neo")
    handler = _NeoLogCapture()
    old_level, old_propagate = neo_log.level, neo_log.propagate
    neo_log.addHandler(handler)
    neo_log.setLevel(logging.WARNING)
    neo_log.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
    finally:
        neo_log.removeHandler(handler)
        neo_log.setLevel(old_level)
        neo_log.propagate = old_propagate
        messages.extend(str(w.message) for w in caught)
        messages.extend(handler.messages)


def resolve_warnings(messages: Iterable[str], path: str | Path, library: str,
                     channels: Iterable[str] = (), ignore: Iterable[re.Pattern] = ()
                     ) -> dict[str, list[str]]:
    """Turn captured library warnings into errors, logged warnings and channel flags.

    Parameters
    ----------
    messages : iterable of str
        From :func:`captured_warnings`.
    path : path-like
        The file read (named in errors and log lines).
    library : str
        ``"MNE"`` or ``"Neo"`` (for the messages).
    channels : iterable of str
        Channel names of the file: a warning naming some of them flags those channels.
    ignore : iterable of compiled patterns
        Warnings the caller has already handled itself.

    Returns
    -------
    dict
        Channel -> ``["reader_warning"]`` for channels named by a non-fatal warning.

    Raises
    ------
    CorruptFileError
        For a warning matching :data:`FATAL_WARNINGS`.
    """
    names = [c for c in channels if c.strip()]
    flagged: dict[str, list[str]] = {}
    for text in dict.fromkeys(messages):  # each distinct message once
        if any(p.search(text) for p in ignore):
            continue
        one_line = " ".join(text.split())
        if any(p.search(text) for p in FATAL_WARNINGS):
            raise CorruptFileError(f"{library} cannot read it faithfully: {one_line}", path)
        if any(p.search(text) for p in _HARMLESS):
            logger.info("%s: %s: %s", path, library, one_line)
            continue
        logger.warning("%s: %s warns: %s", path, library, one_line)
        for name in names:
            if re.search(rf"(^|[\s,:'\"]){re.escape(name.strip())}($|[\s,.:'\"])", text):
                flagged.setdefault(name, ["reader_warning"])
    return flagged
