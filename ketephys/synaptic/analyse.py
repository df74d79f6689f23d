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

from .._docs import fill_doc
from ..errors import AnalysisError
from ..features import AnalysisOutput, feature_table, settings_hash
from ..recording import Recording
from .field import fepsp
from .potentiation import ltp
from .settings import settings_for, synaptic_settings_model
from .wholecell import psc

__all__ = ["analyse", "compute"]

logger = logging.getLogger(__name__)



def _mean(v: pd.Series) -> float:
    v = v.to_numpy(float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


#: fepsp() keywords that ltp() sets itself when it places its cursors.
_LTP_PLACES = ("cursor_groups", "cursor_sweeps")


def _fepsp_rows(rec: Recording, settings: Any
                ) -> tuple[list[dict[str, Any]], Any, pd.DataFrame]:
    """Per-channel fEPSP summary rows, the LTP result when an induction is given or found
    (its rows are built by :meth:`LTPResult.features`, in one place), and the per-sweep
    table."""
    tab = fepsp(rec, **settings_for("fepsp", settings))
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
                         "unit": "1"})
        for r in rows[-5:]:
            r.setdefault("channel", ch)
            r.setdefault("flags", flags)
        rows.append({"measure": "n_responses", "value": float(len(s1)), "unit": "1",
                     "channel": ch, "flags": flags})
    lkw = settings_for("ltp", settings)
    if lkw.get("induction") is None or not rec.is_episodic:
        return rows, None, tab
    # the recording, not the per-sweep table: ltp() places its cursors itself (fixed by
    # default), so the batch's LTP equals synaptic.ltp(rec, same settings)
    passed = {k: v for k, v in settings_for("fepsp", settings).items()
              if k not in lkw and k not in _LTP_PLACES}
    try:
        res = ltp(rec, **lkw, **passed)
    except AnalysisError as err:
        # LTP was asked for (induction given or "auto") but cannot be measured: visible in
        # every row of the recording, never a silent absence
        logger.warning("%s: no LTP summary (%s); rows flagged 'ltp_not_measured'",
                       rec.source.path, err.detail)
        for r in rows:
            r["flags"] = ";".join(filter(None, [r.get("flags", ""), "ltp_not_measured"]))
            r["ltp_not_measured"] = err.detail
        return rows, None, tab
    return rows, res, tab


def _psc_rows(rec: Recording, settings: Any) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    tab = psc(rec, **settings_for("psc", settings))
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
                     / a1, "unit": "1"})
        rows.append({"measure": "train_ratio_last", "value": _mean(
            tab[tab["stimulus"] == n]["amplitude"]) / a1, "unit": "1"})
    per_sweep = tab.drop_duplicates("sweep")
    if per_sweep["rs"].notna().any():
        rows += [{"measure": "rs", "value": _mean(per_sweep["rs"]), "unit": "Ohm"},
                 {"measure": "rm", "value": _mean(per_sweep["rm"]), "unit": "Ohm"},
                 {"measure": "cm", "value": _mean(per_sweep["cm"]), "unit": "F"}]
    for r in rows:
        r.update(channel=ch, flags=flags)
    return rows, tab


@fill_doc
def analyse(rec: Recording, settings: Any = None, **kwargs: Any) -> pd.DataFrame:
    """Per-recording synaptic summary as a tidy feature table.

    The entry point of scripts and the batch alike: ``ketephys run`` calls it with the
    config's ``modalities: fepsp|patch: synaptic:`` settings.

    Parameters
    ----------
    rec : Recording
        An fEPSP or whole-cell recording.
    %(synaptic_analysis_parameters)s

    Returns
    -------
    pandas.DataFrame
        :func:`~ketephys.features.feature_table` rows (see the module docstring).
    """
    return compute(rec, settings, **kwargs).features


@fill_doc
def compute(rec: Recording, settings: Any = None, **kwargs: Any) -> AnalysisOutput:
    """:func:`analyse`'s rows together with what they came from, as the batch stores them
    for the report: ``views["fepsp"]`` or ``views["psc"]`` (the per-sweep table),
    ``views["ltp"]`` (the :class:`~ketephys.synaptic.LTPResult`, when LTP was measured)
    and ``views["first_sweep"]`` (the first sweep, for the measurement figure).

    Parameters
    ----------
    rec : Recording
        An fEPSP or whole-cell recording, as :func:`analyse` takes it.
    %(synaptic_analysis_parameters)s

    Returns
    -------
    AnalysisOutput
        ``features`` (the table :func:`analyse` returns) and ``views``.
    """
    s = synaptic_settings_model().resolve(settings, path=rec.source.path, **kwargs)
    kind = s.kind
    if kind == "auto":
        first = next((t for t in rec.ch_types if t in ("field", "lfp", "im", "vm")), None)
        if first in ("field", "lfp"):
            kind = "fepsp"
        elif first in ("im", "vm"):
            kind = "psc"
        else:
            raise AnalysisError(f"cannot tell fEPSP from patch: channel types {rec.ch_types}; "
                                "pass kind='fepsp' or kind='psc'", rec.source.path)
    sett = s.to_dict()
    first = rec.pick_sweeps([0]) if rec.is_episodic else None
    if kind == "fepsp":
        rows, res, tab = _fepsp_rows(rec, s)
        table = feature_table(rows, recording=rec, modality="fepsp", settings=sett)
        if res is not None:
            extra = res.features(rec)
            extra["settings_hash"] = table["settings_hash"].iloc[0] if len(table) else \
                settings_hash(sett)
            table = pd.concat([table, extra], ignore_index=True)
        return AnalysisOutput(table, {"fepsp": tab, "ltp": res, "first_sweep": first})
    rows, tab = _psc_rows(rec, s)
    return AnalysisOutput(feature_table(rows, recording=rec, modality="patch", settings=sett),
                          {"psc": tab, "first_sweep": first})
