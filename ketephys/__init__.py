"""ketephys: how long does ketamine-induced neuroplasticity last?

Load EEG, TMS-EEG, LFP, field-EPSP and patch-clamp recordings with their study metadata,
measure plasticity markers, and estimate per-region decay time constants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
from .errors import (
    AnalysisError,
    ConfigError,
    CorruptFileError,
    KetephysError,
    MetadataError,
    MissingCompanionError,
    SettingsError,
    UnitError,
    UnsupportedFormatError,
)
from .meta import META_COLUMNS, StudyMeta

if TYPE_CHECKING:  # imported on first use: they pull in pandas
    from .features import feature_table, settings_hash
    from .recording import Recording, Source

from ._version import __version__

__all__ = [
    "AnalysisError", "ConfigError", "CorruptFileError", "KetephysError", "MetadataError",
    "MissingCompanionError", "SettingsError", "UnitError", "UnsupportedFormatError",
    "Recording", "Source", "StudyMeta", "META_COLUMNS", "feature_table", "settings_hash",
    "read", "read_bids", "io", "spectral", "tms", "synaptic", "longitudinal", "simulate",
    "pipeline", "__version__",
]

_WHERE: dict[str, str | None] = {
    **dict.fromkeys(("io", "spectral", "tms", "synaptic", "longitudinal", "simulate",
                     "pipeline")),
    "Recording": "recording", "Source": "recording", "feature_table": "features",
    "settings_hash": "features", "read": "io", "read_bids": "io",
}
# Submodules and pandas-backed names load on first use, so `import ketephys` and
# `ketephys --help` stay fast.
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
