"""NWB files that :func:`ketephys.io.write` made: read back exactly with pynwb.

Other NWB files go through Neo's ``NWBIO`` (:mod:`ketephys.io.ephys`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError
from ..recording import Recording, Source
from .writer import NWB_MARKER

__all__ = ["read_ketephys_nwb", "nwb_notes"]


def nwb_notes(path: Path) -> dict[str, Any] | None:
    """The ketephys description stored in an NWB file's ``general/notes``.

    Parameters
    ----------
    path : Path
        An NWB (HDF5) file.

    Returns
    -------
    dict or None
        The description :func:`ketephys.io.write` stored (sfreq, channels, units, types,
        sweep starts, events, metadata); None for an NWB file written by other software.

    Raises
    ------
    CorruptFileError
        When the file is not readable HDF5, or the description is broken JSON.
    """
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            notes = fh.get("general/notes")
            if notes is None:
                return None
            text = notes[()]
    except OSError as exc:
        raise CorruptFileError(f"not a readable NWB/HDF5 file: {exc}", path) from exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str) or not text.startswith(NWB_MARKER):
        return None
    try:
        return json.loads(text[len(NWB_MARKER):])
    except json.JSONDecodeError as exc:
        raise CorruptFileError(f"ketephys description in the NWB notes is broken: {exc}",
                               path) from exc


def read_ketephys_nwb(path: Path, notes: dict[str, Any]) -> Recording:
    """Read an NWB file written by :func:`ketephys.io.write` (one TimeSeries per sweep).

    Parameters
    ----------
    path : Path
        The NWB file.
    notes : dict
        Its description, from :func:`nwb_notes`.

    Returns
    -------
    Recording
        Episodic when the description has sweep start times, else continuous.

    Raises
    ------
    CorruptFileError
        When the file holds no ``sweep_*`` TimeSeries.
    """
    import h5py

    with h5py.File(path, "r") as fh:
        acq = fh["acquisition"]
        names = sorted(k for k in acq if k.startswith("sweep_"))
        if not names:
            raise CorruptFileError("the NWB file holds no sweep_* TimeSeries", path)
        sweeps, starts = [], []
        for name in names:
            ts = acq[name]
            sweeps.append(np.asarray(ts["data"][()], dtype=np.float64).T)
            starts.append(float(ts["starting_time"][()]))
    episodic = "sweep_starts" in notes
    data = np.stack(sweeps) if episodic else sweeps[0]
    return Recording(data, notes["sfreq"], notes["ch_names"], ch_types=notes["ch_types"],
                     units=notes["units"], sweep_starts=starts if episodic else None,
                     events=notes.get("events"), meta=notes.get("meta"),
                     source=Source(str(path), "nwb", "pynwb (ketephys layout)", (str(path),)))
