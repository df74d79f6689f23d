"""The one exception hierarchy of ketephys.

Every error that ketephys raises on purpose is a :class:`KetephysError`. Its message
names the file (when there is one), the field or step, and what was expected, so that a
batch run can write it to ``failures.csv`` and go on.
"""

from __future__ import annotations

import os

__all__ = [
    "KetephysError",
    "UnsupportedFormatError",
    "CorruptFileError",
    "MissingCompanionError",
    "MetadataError",
    "UnitError",
    "AnalysisError",
    "ConfigError",
    "SettingsError",
]


class KetephysError(Exception):
    """Base class of every error ketephys raises on purpose.

    Every subclass takes the same two arguments.

    Parameters
    ----------
    message : str
        What went wrong and what was expected.
    path : str or os.PathLike, optional
        The file concerned; it is put at the front of the message.

    Attributes
    ----------
    path : str or None
        The file concerned (``os.fspath`` of ``path``).
    detail : str
        ``message`` without the file name (``str(err)`` is ``"<path>: <message>"``).
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.path = None if path is None else os.fspath(path)
        self.detail = message
        text = message if self.path is None else f"{self.path}: {message}"
        super().__init__(text)

    def __reduce__(self):  # keep (message, path) through pickling (process pools, Dask)
        return (type(self), (self.detail, self.path))


class UnsupportedFormatError(KetephysError):
    """The file's format is not one ketephys can read."""


class CorruptFileError(KetephysError):
    """The file is empty, truncated or its content does not match its format."""


class MissingCompanionError(KetephysError):
    """A file that the recording needs beside it (``.fdt``, ``.eeg``, ``.set``...) is missing."""


class MetadataError(KetephysError):
    """Study metadata or a sidecar field is missing, of the wrong type, or contradictory."""


class UnitError(KetephysError):
    """A unit string that ketephys cannot convert to SI."""


class AnalysisError(KetephysError):
    """An analyser cannot compute a measure from the data it was given."""


class ConfigError(KetephysError):
    """A batch configuration is invalid."""


class SettingsError(KetephysError, ValueError):
    """An analyser setting is unknown (misspelled) or has a bad value.

    Also a ``ValueError``, as MNE and scikit-learn raise for bad parameter values.
    """
