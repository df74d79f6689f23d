"""Readers and writers: every supported file becomes a :class:`~ketephys.recording.Recording`.

``read(path)`` picks the reader from the file; ``write(rec, path)`` writes by extension.
Names are imported on first use so ``import ketephys.io`` stays fast and does not import
MNE or Neo.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "read", "read_bids", "write", "info", "read_manifest", "manifest_meta",
    "read_axona", "read_neo", "read_array", "read_mne", "read_sidecar", "sidecar_path",
    "find_tms_pulses", "mark_tms_pulses", "READ_FORMATS", "WRITE_FORMATS",
    "detect_format", "bids_meta", "MODALITIES",
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
    "find_tms_pulses": "tms",
    "mark_tms_pulses": "tms",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'ketephys.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
