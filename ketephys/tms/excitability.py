"""Per-recording cortical-excitability summary from a TEP.

Measures (all from the averaged, baseline-corrected response):

* ``gmfp_area_15_60``, ``gmfp_area_60_140``, ``gmfp_area_140_250``: trapezoidal area of the
  GMFP over those windows (ms after the pulse), V*s, channel ``"GMFP"``;
* ``p30_n45_amplitude`` = amplitude(P30) - amplitude(N45) and ``n100_p180_amplitude`` =
  amplitude(P180) - amplitude(N100), V, per channel and for the ROI (both positive for
  canonical peaks); NaN with the flag ``peak_not_found`` when either peak is missing, and
  the flag ``not_significant`` when either is not significant;
* ``<component>_latency_ms`` (ms) and ``<component>_amplitude`` (V) of the GMFP and ROI peaks;
* ``n_trials``: trials averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .gmfp import area
from .tep import TEPResult

__all__ = ["excitability_rows", "excitability_measures", "GMFP_WINDOWS", "PEAK_TO_PEAK"]

#: GMFP area windows (s).
GMFP_WINDOWS: tuple[tuple[float, float], ...] = ((0.015, 0.060), (0.060, 0.140),
                                                 (0.140, 0.250))
#: Peak-to-peak measures: name -> (positive component, negative component).
PEAK_TO_PEAK: dict[str, tuple[str, str]] = {"p30_n45_amplitude": ("P30", "N45"),
                                            "n100_p180_amplitude": ("P180", "N100")}


def _area_name(win: tuple[float, float]) -> str:
    return f"gmfp_area_{int(round(win[0] * 1e3))}_{int(round(win[1] * 1e3))}"


def excitability_measures(
    average: np.ndarray,
    times: np.ndarray,
    gmfp_signal: np.ndarray,
    peak_lookup: dict[tuple[str, str], tuple[float, bool, bool]],
    labels: Sequence[str],
    gmfp_windows: Sequence[tuple[float, float]] = GMFP_WINDOWS,
) -> dict[tuple[str, str], tuple[float, list[str]]]:
    """The excitability measures of one TEP.

    Parameters
    ----------
    average : ndarray, shape (n_channels, n_times)
        The averaged response (V); kept for callers' symmetry, the measures use
        ``gmfp_signal`` and ``peak_lookup``.
    times : ndarray, shape (n_times,)
        Epoch times (s relative to the pulse).
    gmfp_signal : ndarray, shape (n_times,)
        GMFP of the average (V).
    peak_lookup : dict
        ``(component, channel)`` -> ``(amplitude, found, significant)``.
    labels : sequence of str
        Channels (and ``"ROI"``) whose peak-to-peak measures are made.
    gmfp_windows : sequence of (float, float)
        GMFP area windows (s).

    Returns
    -------
    dict
        ``(measure, channel)`` -> ``(value, flags)``: GMFP areas (V*s, channel
        ``"GMFP"``) and the :data:`PEAK_TO_PEAK` amplitudes (V; NaN with the flag
        ``peak_not_found`` when a component is missing, ``not_significant`` when one is
        not significant).
    """
    out: dict[tuple[str, str], tuple[float, list[str]]] = {}
    for win in gmfp_windows:
        out[(_area_name(win), "GMFP")] = (float(area(gmfp_signal, times, *win)), [])
    for name, (pos, neg) in PEAK_TO_PEAK.items():
        for label in labels:
            a_pos, f_pos, s_pos = peak_lookup.get((pos, label), (np.nan, False, False))
            a_neg, f_neg, s_neg = peak_lookup.get((neg, label), (np.nan, False, False))
            flags = []
            if not (f_pos and f_neg):
                flags.append("peak_not_found")
            elif not (s_pos and s_neg):
                flags.append("not_significant")
            value = float(a_pos - a_neg) if (f_pos and f_neg) else float("nan")
            out[(name, label)] = (value, flags)
    return out


def excitability_rows(result: TEPResult, peak_channels: Sequence[str] | None = None
                      ) -> list[dict[str, Any]]:
    """Tidy rows (measure, channel, value, unit, flags) for :func:`ketephys.features.feature_table`.

    Parameters
    ----------
    result : TEPResult
        From :func:`ketephys.tms.tep`.
    peak_channels : list of str, optional
        Channels whose peak-to-peak measures are reported (default every channel, plus
        ``"ROI"`` when the TEP had one).

    Returns
    -------
    list of dict
        Feature rows: GMFP areas, peak-to-peak amplitudes, the latency and amplitude of
        each component at GMFP and ROI (with ``p_value``), and ``n_trials``.
    """
    pk = result.peaks
    lookup = {(r.component, r.channel): (r.amplitude, bool(r.found), bool(r.significant))
              for r in pk.itertuples()}
    labels = list(result.ch_names if peak_channels is None else peak_channels)
    if result.roi and "ROI" not in labels:
        labels.append("ROI")
    measures = excitability_measures(result.average, result.times, result.gmfp, lookup,
                                     labels)
    rows = []
    for (measure, channel), (value, flags) in measures.items():
        unit = "V*s" if measure.startswith("gmfp_area") else "V"
        rows.append({"measure": measure, "channel": channel, "value": value, "unit": unit,
                     "flags": flags, "n_trials": result.n_trials})
    for r in pk[pk["channel"].isin(["GMFP", "ROI"])].itertuples():
        flags = [] if r.found else ["peak_not_found"]
        if r.found and not r.significant:
            flags.append("not_significant")
        base = r.component.lower()
        rows.append({"measure": f"{base}_latency_ms", "channel": r.channel,
                     "value": r.latency_ms, "unit": "ms", "flags": flags,
                     "n_trials": result.n_trials, "p_value": r.p_value})
        rows.append({"measure": f"{base}_amplitude", "channel": r.channel,
                     "value": r.amplitude, "unit": "V", "flags": flags,
                     "n_trials": result.n_trials, "p_value": r.p_value})
    rows.append({"measure": "n_trials", "channel": None, "value": float(result.n_trials),
                 "unit": "1", "flags": [], "n_trials": result.n_trials})
    return rows

