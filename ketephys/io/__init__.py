"""Readers and writers: every supported file becomes a :class:`~ketephys.recording.Recording`.

``read(path)`` picks the reader from the file; ``write(rec, path)`` writes by extension.

Two conventions every reader keeps:

- ``rec.source.files``: every file the read opened, main file first (EEGLAB ``.fdt``,
  BrainVision ``.vmrk`` and data file named in the header, Axona ``.set`` + ``.eeg*``, FIF
  split parts, the JSON sidecar, BIDS tables). :func:`files_of` lists the same files from
  the headers alone, before reading, for cache keys.
- ``rec.reader_flags``: a plain attribute ``{channel: [flag, ...]}`` set on every
  recording :func:`read` returns (empty dict when nothing is flagged), until
  :class:`~ketephys.recording.Recording` has a store of its own. A flag means "read, but
  use with care"; each was logged as a warning naming the file and channel. Flags:
  ``unit_assumed`` (an array without units: volts assumed), ``discontinuous`` (EDF+/BDF+
  records with time gaps, marked by ``BAD_gap`` events at the joins), ``reader_warning``
  (a library warning named the channel), ``no_samples`` (an EDF signal with 0 samples per
  record, returned as zeros), ``aux_dc`` (a DC-flat auxiliary channel of a Neo
  file, typed ``misc``). Anything that cannot be read faithfully raises a
  :class:`~ketephys.errors.KetephysError` naming the file instead.

Names are imported on first use so ``import ketephys.io`` stays fast and does not import
MNE or Neo.
"""

from __future__ import annotations

from .._lazy import lazy_attributes

__all__ = [
    "read", "read_bids", "write", "info", "read_manifest", "manifest_meta",
    "read_axona", "read_neo", "read_array", "read_mne", "read_sidecar", "sidecar_path",
    "READ_FORMATS", "WRITE_FORMATS",
    "detect_format", "bids_meta", "MODALITIES", "files_of", "register_post_read",
]

_NAMES = {
    "read": "dispatch",
    "info": "dispatch",
    "READ_FORMATS": "dispatch",
    "detect_format": "dispatch",
    "MODALITIES": "dispatch",
    "bids_meta": "bids",
    "read_bids": "dispatch",
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
    "register_post_read": "hooks",
}


__getattr__, __dir__ = lazy_attributes(__name__, _NAMES)
