"""TMS-EEG analysis: pulse-artifact removal, decay removal, TEPs, peaks, GMFP, TMS-evoked
oscillations and per-recording excitability summaries (TESA's published definitions,
re-implemented on numpy/MNE)."""

from __future__ import annotations

from .analyse import analyse, compute
from .clean import CleanResult, clean
from .compare import BootstrapMeasures, bootstrap_measures, compare
from .excitability import excitability_rows
from .gmfp import area, gmfp, lmfp, roi_average
from .oscillations import DEFAULT_BANDS, OscillationResult, evoked_oscillations
from .peaks import DEFAULT_WINDOWS, find_peaks
from .pulses import PULSE_DESCRIPTION, find_tms_pulses, mark_tms_pulses
from .tep import TEPResult, epoch_pulses, tep

__all__ = [
    "clean", "CleanResult", "tep", "TEPResult", "epoch_pulses", "find_peaks",
    "DEFAULT_WINDOWS", "gmfp", "lmfp", "roi_average", "area", "find_tms_pulses",
    "mark_tms_pulses", "PULSE_DESCRIPTION", "analyse", "compute", "compare", "bootstrap_measures",
    "excitability_rows", "BootstrapMeasures",
    "evoked_oscillations", "OscillationResult", "DEFAULT_BANDS",
]
