"""A self-contained ``report.html``: tables and figures (base64 PNG) in one file.

Sections: run summary; per region and measure, the data with the fitted decay curve and
its confidence band, and the decay table; per modality the typical views (PSD per visit
and coherence matrices for EEG/LFP, TEP butterfly + GMFP with peaks for TMS-EEG, LTP time
courses for field EPSPs), drawn from one recording per visit; failures; provenance.
A view that cannot be drawn is replaced by a note saying why; it never stops the report.
"""

from __future__ import annotations

import datetime as _dt
import html
import logging
from pathlib import Path
from typing import Any

from .cache import atomic_write
from .report_html import (
    ViewUnavailable,
    _hours,
    _safe,
    _table_html,
    figure_html,
)
from .report_views import coherence_figure, ltp_figure, psd_figure
from .report_views import views_section as _views_section

__all__ = ["write_report", "figure_html", "psd_figure", "coherence_figure", "ltp_figure",
           "ViewUnavailable"]

log = logging.getLogger(__name__)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1200px;color:#222;line-height:1.4;padding:0 1em}
h1{border-bottom:3px solid #3a6ea5;padding-bottom:.2em}h2{color:#3a6ea5;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#eef3f8}td:first-child,th:first-child{text-align:left}
.figs{display:flex;flex-wrap:wrap;gap:1em}.figs figure{margin:0}
figcaption{font-size:.85em;color:#555;max-width:560px}
.note{color:#8a5a00;background:#fff7e6;padding:.4em .8em;border-left:4px solid #f0a500}
.ok{color:#1d7a38}.bad{color:#b3261e}code{background:#f4f4f4;padding:0 .2em}
"""


def _units_by_measure(features: Any) -> dict[tuple[Any, Any], str]:
    """(modality, measure) -> unit, from the feature table's ``unit`` column."""
    if features is None or features.empty or "unit" not in features.columns:
        return {}
    f = features.dropna(subset=["measure"])
    first = f.groupby(["modality", "measure"], dropna=False)["unit"].agg(
        lambda u: ";".join(sorted({str(x) for x in u.dropna()})))
    return {k: v or "unitless" for k, v in first.items()}


# ------------------------------------------------------------------------ decay fits
def _decay_table(result: Any):
    """decay_fits.csv for the reader: trust markers first after the names, the unit,
    no effect sizes of fits that are not identifiable."""
    fits = result.fits.copy()
    units = {}
    for fit_cfg, data, _ in result.fit_results:
        if len(data) and "unit" in data.columns and data["unit"].notna().any():
            units[fit_cfg.measure] = ";".join(sorted(set(data["unit"].dropna().astype(str))))
    if "measure" in fits.columns:
        fits["unit"] = fits["measure"].map(units).fillna("")
    if "error" in fits.columns and "identifiable" in fits.columns:
        failed = fits["error"].notna() & fits["error"].astype(str).ne("")
        fits["identifiable"] = fits["identifiable"].astype(object)
        fits.loc[failed, "identifiable"] = "no fit"
        if "identifiability_reason" in fits.columns:
            fits["identifiability_reason"] = fits["identifiability_reason"].astype(object)
            fits.loc[failed, "identifiability_reason"] = (  # the reader's words only
                fits.loc[failed, "error"].astype(str).str.replace(r"^\w+Error: ", "",
                                                                    regex=True))
    if "identifiable" in fits.columns and "peak_effect" in fits.columns:
        bad = fits["identifiable"].eq(False)
        fits["peak_effect"] = ["not identifiable" if b else f"{v:.4g}"
                               for b, v in zip(bad, fits["peak_effect"])]
    keep = [c for c in ("fit", "region", "group", "identifiable", "identifiability_reason",
                        "model", "tau_h", "tau_ci_low_h", "tau_ci_high_h", "half_life_h",
                        "half_life_ci_low_h", "half_life_ci_high_h", "peak_effect", "unit",
                        "n_subjects", "n_obs")
            if c in fits.columns]
    if "error" in fits.columns and "identifiability_reason" not in fits.columns:
        keep.append("error")  # (a failed fit's error is its reason otherwise)
    return fits[keep]


def _decay_section(result: Any) -> str:
    parts = []
    if result.fits is not None and len(result.fits):
        parts.append("<p>Time constants in hours with their 95 % confidence intervals; "
                     "<code>peak_effect</code> in the measure's unit; every column is in "
                     "<code>decay_fits.csv</code>. A tau marked not identifiable is not a "
                     "result: the reason says why.</p>")
        parts.append(_table_html(_decay_table(result), wrap=("identifiability_reason",
                                                              "error")))
    else:
        parts.append("<p>No decay fits configured.</p>")
    if result.fits is not None and "tau_h" in result.fits and result.fits["tau_h"].notna().any():
        parts.append(_safe("tau comparison", lambda: _taus_figure(result.fits)))
    for fit_cfg, data, fit in result.fit_results:
        title = fit_cfg.measure + (f" ({fit_cfg.modality})" if fit_cfg.modality else "")
        parts.append(f"<h3>{html.escape(title)}</h3>")
        parts.append(_safe(f"decay figure {title}",
                           lambda f=fit_cfg, d=data, r=fit: _decay_figures(
                               f, d, r, result.features)))
    return "".join(parts)


def _taus_figure(fits: Any) -> str:
    """One forest plot of every fit's tau with its CI (rows: fit x region)."""
    from ..viz.longitudinal import plot_tau_table

    fig = plot_tau_table(fits, ["fit", "region", "group"], show=False)
    return figure_html(fig, "tau with its 95 % CI per measure and region (log scale); "
                            "hollow: not identifiable")


def _available(features: Any, modality: str | None) -> str:
    if features is None or features.empty:
        return "the feature table is empty"
    f = features if not modality else features[features["modality"] == modality]
    names = sorted(f["measure"].dropna().astype(str).unique())
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"available{f' for {modality}' if modality else ''}: {shown or 'none'}"


def _decay_figures(fit_cfg: Any, data: Any, fitted: Any, features: Any = None) -> str:
    """The fit's own figure (data per subject, typical curve, CI band, one panel per
    group); without a fit, the data alone; without data, why."""
    if data is None or len(data) == 0:
        raise ViewUnavailable(f"no rows for measure {fit_cfg.measure!r}; "
                              + _available(features, fit_cfg.modality))
    if "hours_since_dose" not in data or data["hours_since_dose"].isna().all():
        raise ViewUnavailable(f"the rows of {fit_cfg.measure!r} have no hours_since_dose "
                              "(a manifest column or file-name field)")
    caption = (f"{fit_cfg.measure}: data per subject (grey), fitted typical decay and its "
               f"95 % confidence band, per {fit_cfg.group}")
    if fitted is not None:
        summary = fitted.summary()
        cols = [c for c in ("region", "group", "tau_h", "tau_ci_low_h", "tau_ci_high_h",
                            "identifiable") if c in summary.columns]
        data = {"kind": "decay", "measure": fit_cfg.measure, "modality": fit_cfg.modality,
                "taus": summary[cols].to_dict("list")}
        return f'<div class="figs">{figure_html(fitted.plot(show=False), caption, data)}</div>'
    import matplotlib.pyplot as plt

    groups = sorted(data[fit_cfg.group].dropna().unique()) if fit_cfg.group in data else [None]
    groups = groups or [None]
    unit = ";".join(sorted(set(data["unit"].dropna().astype(str)))) if "unit" in data else ""
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.2), squeeze=False)
    for ax, level in zip(axes[0], groups):
        sub = data if level is None else data[data[fit_cfg.group] == level]
        for _, subj in sub.groupby("subject", dropna=False):
            subj = subj.sort_values("hours_since_dose")
            ax.plot(subj["hours_since_dose"], subj["value"], "o-", color="0.5", ms=3, lw=0.6)
        ax.set_title(str(level if level is not None else "all"), fontsize=9)
        ax.set_xlabel("hours since dose")
    axes[0][0].set_ylabel(f"{fit_cfg.measure} ({unit})" if unit else fit_cfg.measure)
    fig.tight_layout()
    caption = f"{fit_cfg.measure}: data (the fit failed; see the table)"
    return f'<div class="figs">{figure_html(fig, caption)}</div>'


# ---------------------------------------------------------------- modality views
def _summary_table(features):
    """Mean value per modality, measure, region and visit (channel 'mean' rows when
    present), with the measure's unit."""
    import pandas as pd

    if features is None or features.empty:
        return pd.DataFrame()
    f = features.copy()
    f["value"] = pd.to_numeric(f["value"], errors="coerce")
    has_mean = f.groupby(["modality", "measure"])["channel"].transform(
        lambda c: (c.astype(str) == "mean").any())
    f = f[~has_mean | (f["channel"].astype(str) == "mean")]
    f["hours_since_dose"] = pd.to_numeric(f["hours_since_dose"], errors="coerce")
    table = (f.groupby(["modality", "measure", "region", "hours_since_dose"], dropna=False)
             ["value"].mean().unstack("hours_since_dose").reset_index())
    table.columns = [c if isinstance(c, str) else _hours(c) for c in table.columns]
    units = _units_by_measure(features)
    table.insert(2, "unit", [units.get((m, x), "") for m, x in
                             zip(table["modality"], table["measure"])])
    return table


# ---------------------------------------------------------------------------- main
def write_report(result: Any, cfg: Any, path: str | Path | None = None) -> Path:
    """Write ``report.html`` for a finished run (atomically).

    The report holds the decay fits, the per-modality views (when ``report.views``), a
    summary of every measure per visit and the failures; figures are embedded PNGs, so
    the file stands alone. A section that cannot be drawn is replaced by a note.

    Parameters
    ----------
    result : RunResult
        The finished run.
    cfg : PipelineConfig
        Its configuration (``report.title``, ``report.views``, ``study``).
    path : str or Path, optional
        Where to write (default ``report.html`` in the run's output folder).

    Returns
    -------
    Path
        The file written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    path = Path(path) if path is not None else result.out_dir / "report.html"
    title = cfg.report.title or cfg.study
    n_rec = result.features["recording"].nunique() if len(result.features) else 0
    status = (f'<span class="ok">all {n_rec} recordings analysed</span>' if result.ok else
              f'<span class="bad">{result.n_failed} recordings failed</span>'
              f"{' (run aborted)' if result.aborted else ''}")
    body = [
        f"<h1>{html.escape(title)}: ketephys report</h1>",
        f"<p>{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M UTC}. "
        f"{n_rec} recordings with results ({result.n_computed} computed now, "
        f"{result.n_cached} from the cache); {status}. Tables: <code>features.csv</code>, "
        "<code>decay_fits.csv</code>, <code>failures.csv</code>; provenance in "
        "<code>provenance.json</code>.</p>",
        "<h2>Decay per region and measure</h2>",
        _safe("decay fits", lambda: _decay_section(result)),
    ]
    views = _safe("views", lambda: _views_section(result, cfg)) if cfg.report.views else ""
    if views:  # no heading over nothing
        body += ["<h2>Per-modality views</h2>", views]
    body += ["<h2>Summary of measures (mean per visit, in the unit shown)</h2>",
             _safe("summary table", lambda: _table_html(_summary_table(result.features)))]
    if result.failures:
        import pandas as pd

        body += ["<h2>Failures</h2>", _table_html(pd.DataFrame(result.failures))]
    text = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}: ketephys report</title><style>{_CSS}</style>"
            "</head><body>" + "".join(body) + "</body></html>")
    with atomic_write(path, "w") as fh:
        fh.write(text)
    return path
