"""Readers and writers: every supported file becomes a :class:`~ketephys.recording.Recording`.

``read(path)`` picks the reader from the file; ``write(rec, path)`` writes by extension.
Names are imported on first use so ``import ketephys.io`` stays fast and does not import
MNE or Neo.
"""

from __future__ import annotations

from .._lazy import lazy_attributes

__all__ = [
    "read", "read_bids", "write", "info", "read_manifest", "manifest_meta",
    "read_axona", "read_neo", "read_array", "read_mne", "read_sidecar", "sidecar_path",
    "find_tms_pulses", "mark_tms_pulses", "READ_FORMATS", "WRITE_FORMATS",
    "detect_format", "bids_meta", "MODALITIES", "files_of",
]

_NAMES = {
    "read": "dispatch",
    "info": "dispatch",
    "READ_FORMATS": "dispatch",
    "detect_format": "dispatch",
    "MODALITIES": "dispatch",
    "bids_meta": "bids",
    "read_bids": "bids",
    "write": "writer",
    "WRITE_FORMATS": "writer",
    "read_manifest": "manifest",
    "manifest_meta": "manifest",
    "read_axona": "axona",
    "read_neo": "ephys",
    "read_array": "arrays",
    "read_mne": "eeg",
    "read_sidecar": "sidecar",
    "sidecar_path": "sidecar",
    "files_of": "companions",
    "find_tms_pulses": "tms",
    "mark_tms_pulses": "tms",
}


__getattr__, __dir__ = lazy_attributes(__name__, _NAMES)
