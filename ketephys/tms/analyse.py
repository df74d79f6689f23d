"""Batch entry point: one TMS-EEG recording -> tidy excitability rows.

``analyse(rec)`` finds the pulses when none are in the events, cleans
(:func:`ketephys.tms.clean`), averages (:func:`ketephys.tms.tep`) and summarises
(:mod:`ketephys.tms.excitability`), returning a :func:`ketephys.features.feature_table`
with modality ``"tms-eeg"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..features import feature_table
from ..recording import Recording
from .clean import clean
from .excitability import excitability_rows
from .tep import tep

__all__ = ["analyse", "DEFAULT_SETTINGS"]

#: Settings used when ``analyse`` is called without keywords.
DEFAULT_SETTINGS: dict[str, Any] = {
    "clean": {"remove": (-0.002, 0.010), "interp": "cubic", "fit_window": 0.001,
              "second_pass": (-0.002, 0.015), "resample": 1000.0, "l_freq": 1.0,
              "h_freq": 100.0, "line_freq": None, "reference": "average",
              "decay": "exponential"},
    "tep": {"tmin": -0.5, "tmax": 0.5, "baseline": (-0.5, -0.01), "reject": None,
            "roi": None, "n_permutations": 500, "alpha": 0.05, "seed": 0},
}


def analyse(
    rec: Recording,
    clean_options: dict[str, Any] | None = None,
    tep_options: dict[str, Any] | None = None,
    find_options: dict[str, Any] | None = None,
    peak_channels: Sequence[str] | None = None,
    roi: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Excitability summary of one TMS-EEG recording as a tidy feature table.

    Parameters
    ----------
    rec : Recording
        Continuous TMS-EEG (pulses in events, a trigger channel, or visible artifacts).
    clean_options : dict, optional
        Overrides of :data:`DEFAULT_SETTINGS` ``["clean"]`` (see :func:`ketephys.tms.clean`).
    tep_options : dict, optional
        Overrides of :data:`DEFAULT_SETTINGS` ``["tep"]`` (see :func:`ketephys.tms.tep`).
    find_options : dict, optional
        Keywords for :func:`ketephys.io.tms.find_tms_pulses` when no pulse is in events.
    peak_channels : list of str, optional
        Channels reported for the peak-to-peak measures (default all).
    roi : list of str, optional
        Region of interest (shortcut for ``tep_options={"roi": ...}``).

    Returns
    -------
    pandas.DataFrame
        Feature table: measures ``gmfp_area_15_60``, ``gmfp_area_60_140``,
        ``gmfp_area_140_250`` (V*s), ``p30_n45_amplitude``, ``n100_p180_amplitude`` (V),
        ``<component>_latency`` (ms) / ``<component>_amplitude`` (V) for GMFP and ROI,
        ``n_trials``; extra columns ``n_trials`` and ``p_value``.
    """
    c_opts = {**DEFAULT_SETTINGS["clean"], **(clean_options or {})}
    t_opts = {**DEFAULT_SETTINGS["tep"], **(tep_options or {})}
    if roi is not None:
        t_opts["roi"] = list(roi)
    cleaned = clean(rec, find_options=find_options, **c_opts)
    result = tep(cleaned, **t_opts)
    rows = excitability_rows(result, peak_channels)
    settings = {"clean": c_opts, "tep": t_opts, "find": dict(find_options or {}),
                "peak_channels": None if peak_channels is None else list(peak_channels)}
    return feature_table(rows, recording=rec, modality="tms-eeg", settings=settings)
