"""Batch entry point: one TMS-EEG recording -> tidy excitability rows.

``analyse(rec)`` finds the pulses when none are in the events, cleans
(:func:`ketephys.tms.clean`), averages (:func:`ketephys.tms.tep`) and summarises
(:mod:`ketephys.tms.excitability`), returning a :func:`ketephys.features.feature_table`
with modality ``"tms-eeg"``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pandas as pd

from .._docs import fill_doc
from ..features import AnalysisOutput, feature_table
from ..recording import Recording
from .clean import clean
from .excitability import excitability_rows
from .settings import TMSAnalysis
from .tep import tep

__all__ = ["analyse", "compute"]

logger = logging.getLogger(__name__)

@fill_doc
def analyse(rec: Recording, settings: TMSAnalysis | dict | None = None,
            **kwargs: Any) -> pd.DataFrame:
    """Excitability summary of one TMS-EEG recording as a tidy feature table.

    The entry point of scripts and the batch alike: ``ketephys run`` calls it with the
    config's ``modalities: tms-eeg: tms:`` settings.

    Parameters
    ----------
    rec : Recording
        Continuous TMS-EEG (pulses in events, a trigger channel, or visible artifacts).
    %(tms_analysis_parameters)s

    Returns
    -------
    pandas.DataFrame
        Feature table: measures ``gmfp_area_15_60``, ``gmfp_area_60_140``,
        ``gmfp_area_140_250`` (V*s), ``p30_n45_amplitude``, ``n100_p180_amplitude`` (V),
        ``<component>_latency_ms`` (ms) / ``<component>_amplitude`` (V) for GMFP and ROI,
        ``n_trials``; extra columns ``n_trials`` and ``p_value``.
    """
    return compute(rec, settings, **kwargs).features


@fill_doc
def compute(rec: Recording, settings: TMSAnalysis | dict | None = None,
            **kwargs: Any) -> AnalysisOutput:
    """:func:`analyse`'s rows together with the TEP they came from (``views["tep"]``,
    without its single trials), as the batch stores them for the report.

    Parameters
    ----------
    rec : Recording
        Continuous TMS-EEG, as :func:`analyse` takes it.
    %(tms_analysis_parameters)s

    Returns
    -------
    AnalysisOutput
        ``features`` (the table :func:`analyse` returns) and ``views``.
    """
    s = TMSAnalysis.resolve(settings, path=rec.source.path, **kwargs)
    t_opts = dict(s.tep_options)
    if s.roi is not None:
        t_opts["roi"] = list(s.roi)
    cleaned = clean(rec, find_options=s.find_options, **s.clean_options)
    result = tep(cleaned, **t_opts)
    rows = excitability_rows(result, s.peak_channels)
    if result.counts.get("n_close_pulses"):  # tep() warned; every row says so too
        for r in rows:
            r["flags"] = [*r.get("flags", []), "close_pulses"]
    table = feature_table(rows, recording=rec, modality="tms-eeg", settings=s.to_dict())
    return AnalysisOutput(table, {"tep": replace(result, epochs=None)})
