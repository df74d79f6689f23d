"""Per-recording synaptic summary measures for the batch pipeline.

``kind="fepsp"`` (default when the first signal channel is field/LFP), per channel:

=========================  =====  =====================================================
measure                    unit   definition
=========================  =====  =====================================================
``fepsp_slope_mean``       V/s    mean slope of stimulus 1 over sweeps responding
``fepsp_amplitude_mean``   V      mean amplitude of stimulus 1
``fibre_volley_mean``      V      mean volley amplitude (sweeps where it was found)
``onset_latency_mean``     s      mean onset latency
``ppr``                    1      mean slope of stimulus 2 / mean slope of stimulus 1
``ltp_magnitude_pct``      %      only when an induction is given or found (``ltp``)
``ltp_ci_low/high``        %      95 % CI of the magnitude
``ptp_pct``                %      post-tetanic potentiation
``baseline_slope``         V/s    mean baseline of the LTP measure (per pathway)
``baseline_drift_pct_per_min``  %/min
``volley_change_pct``      %
=========================  =====  =====================================================

``kind="psc"`` (default when the first signal channel is im/vm): ``epsc_amplitude`` (A) or ``epsp_amplitude``
(V) (mean of stimulus 1), ``rise_time`` (s), ``decay_tau`` (s), ``ppr``,
``train_ratio_last`` (last / first), ``holding`` (A or V), ``rs``, ``rm`` (Ohm), ``cm``
(F), with the flag ``access_changed`` when any sweep's Rs moved more than 20 %.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..features import feature_table
from ..recording import Recording
from .field import fepsp
from .potentiation import ltp
from .wholecell import psc

__all__ = ["analyse"]

logger = logging.getLogger(__name__)

_FEPSP_KEYS = {"channel", "polarity", "slope", "window", "stim_times", "baseline_window",
               "response_window", "smooth", "peak_smooth", "max_window", "k_response",
               "baseline_gap"}
_LTP_KEYS = {"induction", "baseline_minutes", "measure", "bin_minutes", "window_minutes",
             "ptp_minutes", "pathways", "drift_limit_pct", "volley_limit_pct"}


def _mean(v: pd.Series) -> float:
    v = v.to_numpy(float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _fepsp_rows(rec: Recording, settings: dict[str, Any]) -> list[dict[str, Any]]:
    fkw = {k: v for k, v in settings.items() if k in _FEPSP_KEYS}
    tab = fepsp(rec, **fkw)
    rows: list[dict[str, Any]] = []
    for ch, g in tab.groupby("channel", sort=False):
        resp = g[~g["flags"].str.contains("no_response")]
        s1 = resp[resp["stimulus"] == 1]
        flags = "no_response" if s1.empty else ""
        rows += [
            {"measure": "fepsp_slope_mean", "value": _mean(s1["slope"]), "unit": "V/s"},
            {"measure": "fepsp_amplitude_mean", "value": _mean(s1["amplitude"]), "unit": "V"},
            {"measure": "fibre_volley_mean", "value": _mean(s1["volley_amplitude"]),
             "unit": "V"},
            {"measure": "onset_latency_mean", "value": _mean(s1["onset_latency"]), "unit": "s"},
        ]
        s2 = resp[resp["stimulus"] == 2]
        if len(s2):
            rows.append({"measure": "ppr", "value": _mean(s2["slope"]) / _mean(s1["slope"]),
                         "unit": ""})
        for r in rows[-5:]:
            r.setdefault("channel", ch)
            r.setdefault("flags", flags)
        rows.append({"measure": "n_responses", "value": float(len(s1)), "unit": "",
                     "channel": ch, "flags": flags})
    induction = settings.get("induction", "auto")
    if induction is not None and rec.is_episodic:
        lkw = {k: v for k, v in settings.items() if k in _LTP_KEYS}
        lkw.setdefault("induction", "auto")
        try:
            res = ltp(tab, **lkw)
        except AnalysisError as err:
            logger.info("%s: no LTP summary (%s)", rec.source.path, err.detail)
            return rows
        unit = res.unit
        for _, r in res.summary().iterrows():
            common = {"channel": r["channel"], "pathway": r["pathway"], "role": r["role"],
                      "flags": r["flags"]}
            for name, u in (("ltp_magnitude_pct", "%"), ("ltp_ci_low", "%"),
                            ("ltp_ci_high", "%"), ("ptp_pct", "%"),
                            ("baseline_drift_pct_per_min", "%/min"),
                            ("volley_change_pct", "%")):
                rows.append({"measure": name, "value": float(r[name]), "unit": u, **common})
            rows.append({"measure": f"baseline_{res.measure}", "value": float(
                r["baseline_mean"]), "unit": unit, **common})
    return rows


def _psc_rows(rec: Recording, settings: dict[str, Any]) -> list[dict[str, Any]]:
    tab = psc(rec, **settings)
    ch = tab["channel"].iloc[0]
    unit = tab["unit"].iloc[0]
    resp = tab[~tab["flags"].str.contains("no_response")]
    s1 = resp[resp["stimulus"] == 1]
    flags = "access_changed" if tab["flags"].str.contains("access_changed").any() else ""
    name = "epsc_amplitude" if unit == "A" else "epsp_amplitude"
    rows = [
        {"measure": name, "value": _mean(s1["amplitude"]), "unit": unit},
        {"measure": "rise_time", "value": _mean(s1["rise_time"]), "unit": "s"},
        {"measure": "decay_tau", "value": _mean(s1["decay_tau"]), "unit": "s"},
        {"measure": "holding", "value": _mean(tab.drop_duplicates("sweep")["holding"]),
         "unit": unit},
    ]
    n = int(tab["stimulus"].max())
    if n >= 2:
        a1 = _mean(tab[tab["stimulus"] == 1]["amplitude"])
        rows.append({"measure": "ppr", "value": _mean(tab[tab["stimulus"] == 2]["amplitude"])
                     / a1, "unit": ""})
        rows.append({"measure": "train_ratio_last", "value": _mean(
            tab[tab["stimulus"] == n]["amplitude"]) / a1, "unit": ""})
    per_sweep = tab.drop_duplicates("sweep")
    if per_sweep["rs"].notna().any():
        rows += [{"measure": "rs", "value": _mean(per_sweep["rs"]), "unit": "Ohm"},
                 {"measure": "rm", "value": _mean(per_sweep["rm"]), "unit": "Ohm"},
                 {"measure": "cm", "value": _mean(per_sweep["cm"]), "unit": "F"}]
    for r in rows:
        r.update(channel=ch, flags=flags)
    return rows


def analyse(rec: Recording, kind: str = "auto", **settings: Any) -> pd.DataFrame:
    """Per-recording synaptic summary as a tidy feature table.

    Parameters
    ----------
    rec : Recording
        An fEPSP or whole-cell recording.
    kind : {"auto", "fepsp", "psc"}
        ``"auto"``: by the first channel that is ``field``/``lfp`` (``"fepsp"``) or
        ``im``/``vm`` (``"psc"``); auxiliary channels after it do not matter.
    **settings
        For ``"fepsp"``: :func:`~ketephys.synaptic.fepsp` keywords and
        :func:`~ketephys.synaptic.ltp` keywords (``induction="auto"`` by default; ``None``
        skips LTP); for ``"psc"``: :func:`~ketephys.synaptic.psc` keywords.

    Returns
    -------
    pandas.DataFrame
        :func:`~ketephys.features.feature_table` rows (see the module docstring).
    """
    if kind == "auto":
        first = next((t for t in rec.ch_types if t in ("field", "lfp", "im", "vm")), None)
        if first in ("field", "lfp"):
            kind = "fepsp"
        elif first in ("im", "vm"):
            kind = "psc"
        else:
            raise AnalysisError(f"cannot tell fEPSP from patch: channel types {rec.ch_types}; "
                                "pass kind='fepsp' or kind='psc'", rec.source.path)
    if kind == "fepsp":
        rows = _fepsp_rows(rec, settings)
        modality = "fepsp"
    elif kind == "psc":
        rows = _psc_rows(rec, settings)
        modality = "patch"
    else:
        raise AnalysisError(f"kind must be 'auto', 'fepsp' or 'psc', got {kind!r}",
                            rec.source.path)
    return feature_table(rows, recording=rec, modality=modality,
                         settings={"kind": kind, **settings})
