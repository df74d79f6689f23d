"""Which reader reads a file: :func:`detect_format`, from the extension and the first bytes.

Header sniffing only (no sample is read); :mod:`ketephys.io.dispatch` reads with the
family found here and :mod:`ketephys.io.companions` lists the files it will open.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import CorruptFileError, UnsupportedFormatError
from ._files import sniff_eeglab

__all__ = ["detect_format", "READ_FORMATS"]

#: extension -> reader family (``.eeg`` is Axona or BrainVision data, by content)
READ_FORMATS = {
    ".edf": "edf", ".bdf": "bdf", ".vhdr": "brainvision", ".fif": "fif", ".set": "eeglab/axona",
    ".eeg": "axona", ".egf": "axona", ".abf": "neo", ".wcp": "neo", ".smr": "neo",
    ".smrx": "neo", ".axgd": "neo", ".axgx": "neo", ".nwb": "nwb", ".npy": "array",
    ".npz": "array", ".mat": "array", ".csv": "array",
}
_AXONA_EXT = re.compile(r"^\.(eeg|egf)\d*$", re.I)


def _forced(format: str, path: Path) -> tuple[str, Path]:
    """The family ``format`` names; any name that is not a family is a Neo IO."""
    fmt = format.lower()
    known = {"edf", "bdf", "brainvision", "eeglab", "fif", "axona", "neo", "nwb", "array"}
    return (fmt if fmt in known else "neo"), path


def _dot_set(path: Path) -> tuple[str, Path]:
    """A ``.set`` is EEGLAB (MATLAB/HDF5) or Axona (text); CorruptFileError otherwise."""
    from .axona import is_axona

    if sniff_eeglab(path):
        return "eeglab", path
    if is_axona(path):
        return "axona", path
    raise CorruptFileError("a .set that is neither EEGLAB (MATLAB/HDF5) nor Axona "
                           "(text starting 'trial_date')", path)


def _axona_or_brainvision(path: Path, ext: str) -> tuple[str, Path]:
    """A ``.eeg*``/``.egf*`` is Axona, or (``.eeg``) the data of a BrainVision ``.vhdr``
    beside it, read through the ``.vhdr``; CorruptFileError otherwise."""
    from .axona import is_axona

    if is_axona(path):
        return "axona", path
    if ext == ".eeg" and path.with_suffix(".vhdr").is_file():
        return "brainvision", path.with_suffix(".vhdr")
    raise CorruptFileError(f"a {ext} file that is neither Axona (header 'trial_date') "
                           "nor the data of a BrainVision .vhdr beside it", path)


#: companion extension -> (main file extension, family): read through the main file
_COMPANION_OF = {".vmrk": (".vhdr", "brainvision"), ".fdt": (".set", "eeglab")}
#: extension -> family, for extensions that tell it alone
_FAMILY_OF = {".edf": "edf", ".bdf": "bdf", ".fif": "fif", ".vhdr": "brainvision",
              ".npy": "array", ".npz": "array", ".mat": "array", ".csv": "array",
              ".nwb": "nwb"}


def _neo_claims(path: Path, ext: str) -> bool:
    """True when a Neo IO reads ``ext``: ketephys' table, or any IO claiming it by
    extension (``.ns5``, ``.rhd``, ``.continuous``...)."""
    from .ephys import NEO_IOS

    if ext in NEO_IOS:
        return True
    try:
        import neo

        return bool(list(neo.io.list_candidate_ios(str(path))))
    except Exception:
        return False


def detect_format(path: str | os.PathLike, format: str | None = None) -> tuple[str, Path]:
    """The reader family for a file and the file to give that reader.

    Parameters
    ----------
    path : path-like
        The file given to :func:`~ketephys.io.read`.
    format : str, optional
        Force a family (``edf``, ``bdf``, ``brainvision``, ``eeglab``, ``fif``, ``axona``,
        ``neo``, ``nwb``, ``array``); any other name is taken as a Neo IO
        (``"NeuralynxIO"``) and gives ``neo``.

    Returns
    -------
    family : str
        One of the families above, from ``format`` or else the extension (and, for the
        ambiguous ``.set`` and ``.eeg``, the content).
    target : Path
        The file to read: ``path``, or the main file of a companion (a BrainVision
        ``.eeg``/``.vmrk`` is read through its ``.vhdr``, an EEGLAB ``.fdt`` through its
        ``.set``).

    Raises
    ------
    CorruptFileError
        For a ``.set`` or ``.eeg*`` whose content matches no format that uses the
        extension.
    UnsupportedFormatError
        For an extension no reader handles.
    """
    path = Path(path)
    if format is not None:
        return _forced(format, path)
    name = path.name.lower()
    ext = ".fif" if name.endswith(".fif.gz") else path.suffix.lower()
    if ext == ".set":
        return _dot_set(path)
    if _AXONA_EXT.match(ext):
        return _axona_or_brainvision(path, ext)
    main, family = _COMPANION_OF.get(ext, (None, None))
    if main is not None and path.with_suffix(main).is_file():
        return family, path.with_suffix(main)
    if ext in _FAMILY_OF:
        return _FAMILY_OF[ext], path
    if _neo_claims(path, ext):
        return "neo", path
    raise UnsupportedFormatError(
        f"unknown file type {ext or '(no extension)'}; readable: "
        f"{sorted(READ_FORMATS)} or format='<NeoIOName>' for another Neo format", path)
