"""Measurement definitions of other fEPSP tools, so numbers can be compared with theirs.

``fepsp(..., definitions=NAME)`` measures with the definitions of the tool ``NAME``; every
setting a preset fixes can still be overridden by passing it explicitly.

``"ketephys"`` (default)
    Measurement points placed on every sweep (``cursors="per-sweep"``); baseline 2 ms
    ending 0.3 ms before the stimulus; amplitude = extreme of the trace smoothed over
    0.3 ms; slope 20-80 % of the amplitude; fibre volley peak-trough-peak.
``"brainwash"``
    brainwash 0.16 (github.com/matoloa/brainwash, ``analysis_v3``), re-implemented from
    its definitions: all times are found once on the mean sweep (of each pathway when
    the recording is split into even/odd sweeps) and applied unchanged to every sweep
    (``cursors="fixed"``). Baseline = mean of 2 to 1 ms before the stimulus; fEPSP
    amplitude = the single sample at the fEPSP trough of the mean (no smoothing,
    ``peak_smooth=0``); slope = least-squares line over a 0.7 ms window on the raw
    samples (both ends included: 8 samples at 10 kHz), the window starting where a
    0.7 ms (7 samples at 10 kHz) line fits the mean best (largest R²) after a 0.7 ms
    moving average (brainwash: Savitzky-Golay, order 1), searched over the first 25 % of
    the samples from the volley's second peak to the fEPSP trough
    (``slope="best-fit"``); fibre volley = the single sample at the volley trough
    minus the baseline (not peak-trough-peak). brainwash reports amplitudes and slopes
    sign-inverted (a negative-going fEPSP gives positive numbers); ketephys tables keep
    the sign of the voltage, so brainwash's numbers are ``-amplitude`` and ``-slope``.
    Differences that remain: brainwash takes the stimulus time as one sample before the
    negative artifact peak of the mean sweep (ketephys: the detected artifact onset) and
    finds the volley and trough with ``scipy.signal.find_peaks`` prominence searches
    (ketephys: its own volley finder and the extreme of the mean).
``"winltp"``
    WinLTP (winltp.com manual, section 4.11): its default slope is the *maximum slope*:
    the steepest 1 ms least-squares line, stepped every 0.1 ms (every sample at
    10 kHz) between a begin and an end time after the pulse, selected on the unfiltered
    trace (``slope="max"``, ``max_window=1e-3``, ``max_smooth=False``,
    ``max_search=(2e-3, 8e-3)`` -- the 2 to 8 ms range is the manual's example, the
    program leaves it to the user). WinLTP measures every sweep (or every online
    average of sweeps) on its own (``cursors="per-sweep"``). Its baseline ("__ to __ ms
    before pulse") and peak search fields have no documented defaults, so they stay at
    ketephys's values; how many points WinLTP averages at the peak is not documented
    in the manual pages found, so the amplitude stays ketephys's (0.3 ms smoothing).
    WinLTP picks the largest slope of either sign; ketephys takes the steepest in the
    response's direction (the same for any fEPSP above the noise).

Clampfit: its cursor statistics (baseline region, peak search region, smoothing points,
slope between cursors) could not be found in a readable form (only the cover pages of the
pCLAMP user guides are available to us), so no ``"clampfit"`` preset is offered rather than
an invented one; ``cursors="fixed"`` with ``slope="window"`` and an explicit
``slope_window_s`` is the cursor-style measurement of any such tool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._check import check_option

__all__ = ["Preset", "PRESETS", "get_preset", "CURSOR_MODES"]

#: Valid ``cursors`` values (besides a cursor table from an earlier run).
CURSOR_MODES = ("per-sweep", "fixed")


@dataclass(frozen=True)
class Preset:
    """One tool's measurement definitions.

    Attributes
    ----------
    name : str
    cursors : {"per-sweep", "fixed"}
        Where the tool places its measurement points.
    settings : dict
        Values of :func:`~ketephys.synaptic.fepsp` keywords (``slope``,
        ``baseline_window``, ``baseline_gap``, ``peak_smooth``, ``max_window``,
        ``max_smooth``, ``max_search``, ``fit_width``, ``fit_search``,
        ``volley_reference``, ``amplitude_plateau``).
    sign : str
        How the tool signs its numbers (ketephys tables always keep the voltage's sign).
    source : str
        Where the definitions come from.
    """

    name: str
    cursors: str
    settings: dict[str, Any] = field(default_factory=dict)
    sign: str = "signed like the voltage"
    source: str = ""


#: Settings every preset starts from (ketephys's own definitions).
BASE_SETTINGS: dict[str, Any] = dict(
    slope="20-80", baseline_window=2e-3, baseline_gap=3e-4, smooth=1e-4, peak_smooth=3e-4,
    max_window=1e-3, max_smooth=True, max_search=None, fit_width=7e-4, fit_search=0.25,
    volley_reference="flanks", amplitude_plateau=0.1)

PRESETS: dict[str, Preset] = {
    "ketephys": Preset("ketephys", "per-sweep", dict(BASE_SETTINGS),
                       source="ketephys.synaptic.field"),
    "brainwash": Preset(
        "brainwash", "fixed",
        {**BASE_SETTINGS, "slope": "best-fit", "baseline_window": 1e-3, "baseline_gap": 1e-3,
         "peak_smooth": 0.0, "fit_width": 7e-4, "fit_search": 0.25,
         "volley_reference": "baseline", "amplitude_plateau": 0.0},
        sign="inverted (EPSP_amp = -(v - baseline), EPSP_slope = -slope)",
        source="github.com/matoloa/brainwash v0.16.3, src/brainwash/analysis_v3.py "
               "(find_timepoints, build_dfoutput) and parse.py (build_dfmean, zeroSweeps)"),
    "winltp": Preset(
        "winltp", "per-sweep",
        {**BASE_SETTINGS, "slope": "max", "max_window": 1e-3, "max_smooth": False,
         "max_search": (2e-3, 8e-3)},
        sign="signed like the voltage",
        source="WinLTP manual section 4.11 (Slope, Maximum Slope); winltp.com/MaxSlope.html"),
}


def get_preset(definitions: str) -> Preset:
    """The preset called ``definitions``.

    Parameters
    ----------
    definitions : {"ketephys", "brainwash", "winltp"}
        A key of :data:`PRESETS`.

    Returns
    -------
    Preset
        Its cursor mode, settings, sign convention and source.

    Raises
    ------
    SettingsError
        Another name (the message lists the valid ones, with a suggestion).
    """
    return PRESETS[check_option("definitions", definitions, PRESETS)]
