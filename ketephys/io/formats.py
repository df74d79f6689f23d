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



def detect_format(path: str | os.PathLike, format: str | None = None) -> tuple[str, Path]:
    """The reader family for ``path`` and the file to give it (a BrainVision ``.eeg``
    data file is read through its ``.vhdr``).

    Families: ``edf``, ``bdf``, ``brainvision``, ``eeglab``, ``fif``, ``axona``, ``neo``,
    ``nwb``, ``array``; ``format`` may force one, or name a Neo IO (``"NeuralynxIO"``).
    """
    path = Path(path)
    if format is not None:
        fmt = format.lower()
        known = {"edf", "bdf", "brainvision", "eeglab", "fif", "axona", "neo", "nwb", "array"}
        return (fmt if fmt in known else "neo"), path
    name = path.name.lower()
    ext = ".fif" if name.endswith(".fif.gz") else path.suffix.lower()
    if ext in {".edf", ".bdf", ".fif", ".vhdr"}:
        return {".vhdr": "brainvision"}.get(ext, ext[1:]), path
    if ext == ".set":
        if sniff_eeglab(path):
            return "eeglab", path
        from .axona import is_axona

        if is_axona(path):
            return "axona", path
        raise CorruptFileError("a .set that is neither EEGLAB (MATLAB/HDF5) nor Axona "
                               "(text starting 'trial_date')", path)
    if _AXONA_EXT.match(ext):
        from .axona import is_axona

        if is_axona(path):
            return "axona", path
        if ext == ".eeg" and path.with_suffix(".vhdr").is_file():
            return "brainvision", path.with_suffix(".vhdr")
        raise CorruptFileError(f"a {ext} file that is neither Axona (header 'trial_date') "
                               "nor the data of a BrainVision .vhdr beside it", path)
    if ext == ".vmrk" and path.with_suffix(".vhdr").is_file():
        return "brainvision", path.with_suffix(".vhdr")
    if ext == ".fdt" and path.with_suffix(".set").is_file():
        return "eeglab", path.with_suffix(".set")
    if ext in {".npy", ".npz", ".mat", ".csv"}:
        return "array", path
    if ext == ".nwb":
        return "nwb", path
    from .ephys import NEO_IOS

    if ext in NEO_IOS:
        return "neo", path
    try:  # any other format a Neo IO claims by extension (.ns5, .rhd, .continuous...)
        import neo

        if list(neo.io.list_candidate_ios(str(path))):
            return "neo", path
    except Exception:
        pass
    raise UnsupportedFormatError(
        f"unknown file type {ext or '(no extension)'}; readable: "
        f"{sorted(READ_FORMATS)} or format='<NeoIOName>' for another Neo format", path)
