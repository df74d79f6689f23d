"""report.html speaks the reader's language: no Python exception text, no empty
sections, units in every table, trust markers first; the console shows them too."""

from __future__ import annotations

import html
import io
from types import SimpleNamespace

import pandas as pd
from rich.console import Console

from ketephys.cli import _print_run_summary
from ketephys.errors import AnalysisError
from ketephys.pipeline import report
from ketephys.pipeline.config import FitConfig


def _features() -> pd.DataFrame:
    rows = []
    for hours, value in ((-1.0, 1.0), (2.0, 1.5)):
        rows.append({"modality": "fepsp", "measure": "fepsp_slope_mean", "value": value,
                     "unit": "V/s", "channel": "Ipatch", "region": "CA1",
                     "hours_since_dose": hours, "subject": "m1", "session": None,
                     "recording": f"r{hours}.abf"})
        rows.append({"modality": "eeg", "measure": "theta_msc", "value": 0.5,
                     "unit": "", "channel": "mean", "region": "PFC",
                     "hours_since_dose": hours, "subject": "01", "session": None,
                     "recording": f"e{hours}.edf"})
    return pd.DataFrame(rows)


def test_views_never_show_python_exception_text():
    def broken():
        raise IndexError("list index out of range")

    def unavailable():
        raise AnalysisError("no induction found; pass induction=<seconds>", "sub-m1_pre.wcp")

    text = report._safe("eeg coherence", broken)
    assert "IndexError" not in text and "list index" not in text
    assert "internal error" in text
    text = report._safe("LTP time course", unavailable)
    assert "AnalysisError" not in text and "no induction found" in text


def test_decay_view_without_rows_lists_the_measures():
    fit = FitConfig(measure="slope", modality="fepsp")
    empty = _features().iloc[:0]
    text = html.unescape(report._safe(
        "decay figure slope", lambda: report._decay_figures(fit, empty, None, _features())))
    assert "no rows for measure 'slope'" in text and "fepsp_slope_mean" in text
    assert "ValueError" not in text
    no_hours = _features().assign(hours_since_dose=None)
    text = report._safe("decay figure", lambda: report._decay_figures(
        FitConfig(measure="fepsp_slope_mean"), no_hours, None, no_hours))
    assert "no hours_since_dose" in text


def test_summary_table_has_units_and_readable_visits():
    table = report._summary_table(_features())
    assert list(table.columns[:4]) == ["modality", "measure", "unit", "region"]
    units = dict(zip(table["measure"], table["unit"]))
    assert units == {"fepsp_slope_mean": "V/s", "theta_msc": "unitless"}
    assert "-1 h" in table.columns and "2 h" in table.columns


def test_a_view_that_cannot_be_drawn_says_why_under_its_heading():
    # no stored results (e.g. a cache entry of an older ketephys): a note, not an empty
    # heading and not an exception
    result = SimpleNamespace(features=_features().assign(modality="patch"))
    text = report._views_section(result, cfg=None)
    assert text.startswith("<h3>patch</h3>") and "rerun with --force" in text
    assert "Error" not in text


def _fits() -> pd.DataFrame:
    return pd.DataFrame([
        {"fit": "gamma_power/eeg", "measure": "gamma_power", "region": "cortex",
         "tau_h": 0.2, "tau_ci_low_h": 0.0271, "tau_ci_high_h": 12.9, "half_life_h": 0.139,
         "n_subjects": 3, "identifiable": False, "peak_effect": 4.2e-6,
         "identifiability_reason": "tau 0.2 h is shorter than the first post-dose visit"},
        {"fit": "theta_msc/eeg", "measure": "theta_msc", "region": "cortex", "tau_h": 20.0,
         "tau_ci_low_h": 10.0, "tau_ci_high_h": 40.0, "half_life_h": 13.9,
         "n_subjects": 3, "identifiable": True, "peak_effect": 0.1,
         "identifiability_reason": ""}])


def test_decay_table_puts_trust_markers_first_and_hides_absurd_effects():
    data = pd.DataFrame({"unit": ["V^2"], "value": [1.0]})
    result = SimpleNamespace(fits=_fits(), fit_results=[(FitConfig(measure="gamma_power"),
                                                        data, None)])
    table = report._decay_table(result)
    assert list(table.columns[:4]) == ["fit", "region", "identifiable",
                                       "identifiability_reason"]
    assert table.loc[0, "peak_effect"] == "not identifiable"
    assert table.loc[0, "unit"] == "V^2"
    cell = report._table_html(table, wrap=("identifiability_reason",))
    assert "shorter than the first post-dose visit" in cell


def test_console_table_marks_unidentifiable_taus():
    out = io.StringIO()
    result = SimpleNamespace(features=pd.DataFrame({"a": [1]}), n_computed=1, n_cached=0,
                             n_failed=0, fits=_fits(), out_dir="out", paths={})
    _print_run_summary(result, Console(file=out, width=200))
    text = out.getvalue()
    assert "identifiable" in text
    row = next(line for line in text.splitlines() if "gamma_power" in line)
    assert "NO" in row and "shorter than the first" in row  # the reason, cut to a line
    assert "yes" in next(line for line in text.splitlines() if "theta_msc" in line)
