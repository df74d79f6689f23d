"""ketephys: how long does ketamine-induced neuroplasticity last?

Load EEG, TMS-EEG, LFP, field-EPSP and patch-clamp recordings with their study metadata,
measure plasticity markers, and estimate per-region decay time constants.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import (
    AnalysisError,
    ConfigError,
    CorruptFileError,
    KetephysError,
    MetadataError,
    MissingCompanionError,
    UnitError,
    UnsupportedFormatError,
)
from .features import feature_table, settings_hash
from .meta import META_COLUMNS, StudyMeta
from .recording import Recording, Source

__version__ = "0.1.0"

__all__ = [
    "AnalysisError", "ConfigError", "CorruptFileError", "KetephysError", "MetadataError",
    "MissingCompanionError", "UnitError", "UnsupportedFormatError",
    "Recording", "Source", "StudyMeta", "META_COLUMNS", "feature_table", "settings_hash",
    "read", "read_bids", "io", "spectral", "tms", "synaptic", "longitudinal", "simulate",
    "pipeline", "__version__",
]

_SUBMODULES = {"io", "spectral", "tms", "synaptic", "longitudinal", "simulate", "pipeline"}


def __getattr__(name: str) -> Any:
    # Submodules load on first use so `import ketephys` and `ketephys --help` stay fast.
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    if name in {"read", "read_bids"}:
        return getattr(import_module(".io", __name__), name)
    raise AttributeError(f"module 'ketephys' has no attribute {name!r}")
