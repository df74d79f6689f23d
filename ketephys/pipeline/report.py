"""A self-contained ``report.html``: tables and figures (base64 PNG) in one file.

Sections: run summary; per region and measure, the data with the fitted decay curve and
its confidence band, and the decay table; per modality the typical views (PSD per visit
and coherence matrices for EEG/LFP, TEP butterfly + GMFP with peaks for TMS-EEG, LTP time
courses for field EPSPs), drawn from one recording per visit; failures; provenance.
A view that cannot be drawn is replaced by a note saying why; it never stops the report.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cache import atomic_write

__all__ = ["write_report", "figure_html"]

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


def figure_html(fig: Any, caption: str = "") -> str:
    """A matplotlib figure as an ``<figure>`` with the PNG embedded (base64); closes it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=85)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">' \
           f"{cap}</figure>"


def _table_html(frame, max_rows: int = 200, floatfmt: str = "{:.4g}") -> str:
    if frame is None or len(frame) == 0:
        return "<p>(none)</p>"
    shown = frame.head(max_rows)
    out = '<div style="overflow-x:auto">' + shown.to_html(
        index=False, na_rep="", border=0, escape=True,
        float_format=lambda v: floatfmt.format(v)) + "</div>"
    if len(frame) > max_rows:
        out += f"<p>({len(frame) - max_rows} more rows in the CSV)</p>"
    return out


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _safe(title: str, build: Callable[[], str]) -> str:
    try:
        return build()
    except Exception as err:  # one view failing must not stop the report
        log.warning("report: %s not drawn: %s: %s", title, type(err).__name__, err)
        return _note(f"{title}: not drawn ({type(err).__name__}: {err})")


# ------------------------------------------------------------------------ decay fits
def _decay_section(result: Any) -> str:
    parts = []
    if result.fits is not None and len(result.fits):
        keep = [c for c in ("fit", "region", "group", "model", "tau_h", "tau_ci_low_h",
                            "tau_ci_high_h", "half_life_h", "half_life_ci_low_h",
                            "half_life_ci_high_h", "peak_effect", "n_subjects", "n_obs",
                            "identifiable", "identifiability_reason", "error")
                if c in result.fits.columns]
        parts.append("<p>Time constants in hours with their 95 % confidence intervals; "
                     "every column is in <code>decay_fits.csv</code>.</p>")
        parts.append(_table_html(result.fits[keep]))
    else:
        parts.append("<p>No decay fits configured.</p>")
    for fit_cfg, data, fitted in result.fit_results:
        title = fit_cfg.measure + (f" ({fit_cfg.modality})" if fit_cfg.modality else "")
        parts.append(f"<h3>{html.escape(title)}</h3>")
        parts.append(_safe(f"decay figure {title}",
                           lambda f=fit_cfg, d=data, r=fitted: _decay_figures(f, d, r)))
    return "".join(parts)


def _decay_figures(fit_cfg: Any, data: Any, fitted: Any) -> str:
    """The fit's own figure (data per subject, typical curve, CI band, one panel per
    group); without a fit, the data alone."""
    caption = (f"{fit_cfg.measure}: data per subject (grey), fitted typical decay and its "
               f"95 % confidence band, per {fit_cfg.group}")
    if fitted is not None:
        fig = fitted.plot()
        unit = data["unit"].dropna().iloc[0] if data["unit"].notna().any() else ""
        for ax in fig.axes:
            if unit and ax.get_ylabel():
                ax.set_ylabel(f"{ax.get_ylabel()} ({unit})")
        return f'<div class="figs">{figure_html(fig, caption)}</div>'
    import matplotlib.pyplot as plt

    groups = sorted(data[fit_cfg.group].dropna().unique()) if fit_cfg.group in data else [None]
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.2), squeeze=False)
    for ax, level in zip(axes[0], groups):
        sub = data if level is None else data[data[fit_cfg.group] == level]
        for _, subj in sub.groupby("subject", dropna=False):
            subj = subj.sort_values("hours_since_dose")
            ax.plot(subj["hours_since_dose"], subj["value"], "o-", color="0.5", ms=3, lw=0.6)
        ax.set_title(str(level), fontsize=9)
        ax.set_xlabel("hours since dose")
    axes[0][0].set_ylabel(fit_cfg.measure)
    fig.tight_layout()
    return f'<div class="figs">{figure_html(fig, fit_cfg.measure + ": data (no fit)")}</div>'


# ---------------------------------------------------------------- modality views
def _one_per_visit(features, modality: str, max_visits: int = 8):
    """(hours, session, path) of one recording per visit (first subject/region)."""
    rows = features[features["modality"] == modality]
    if rows.empty:
        return []
    first = rows.sort_values(["subject", "region", "recording"]).drop_duplicates("recording")
    region = first["region"].dropna().iloc[0] if first["region"].notna().any() else None
    subject = first["subject"].dropna().iloc[0] if first["subject"].notna().any() else None
    if region is not None:
        first = first[first["region"] == region]
    if subject is not None:
        first = first[first["subject"] == subject]
    first = first.sort_values("hours_since_dose").drop_duplicates("hours_since_dose")
    return list(zip(first["hours_since_dose"], first["session"], first["recording"]))[
        :max_visits]


def _read(cfg: Any, path: str, modality: str):
    from .tasks import resolve_callable

    reader = resolve_callable(cfg.inputs.reader)
    options = dict(cfg.inputs.read_options.get(modality, {}))
    return reader(path, modality=modality, meta=None, **options)


def _psd_view(result: Any, cfg: Any, modality: str) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    from ..spectral import psd

    visits = _one_per_visit(result.features, modality)
    if not visits:
        return ""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    cmap = plt.get_cmap("viridis")
    who = ""
    for i, (hours, session, path) in enumerate(visits):
        rec = _read(cfg, path, modality)
        spec = psd(rec, fmin=1.0, fmax=min(150.0, rec.sfreq / 2))
        ax.loglog(spec.freqs, np.mean(spec.psd, axis=0), color=cmap(i / max(1, len(visits) - 1)),
                  label=f"{session or ''} ({hours:g} h)")
        who = f"{rec.meta.subject or ''} {rec.meta.region or ''}"
    ax.axvspan(30, 80, color="#f0a500", alpha=0.15, label="gamma 30-80 Hz")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD (V²/Hz), mean over channels")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return figure_html(fig, f"{modality.upper()} PSD per visit ({who.strip()}; Welch, 2 s Hann)")


def _coherence_view(result: Any, modality: str) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    f = result.features
    rows = f[(f["modality"] == modality) & f["measure"].astype(str).str.endswith("_msc")
             & f["channel"].astype(str).str.contains("-")]
    rows = rows[rows["channel"] != "mean"]
    if rows.empty:
        return ""
    measure = sorted(rows["measure"].unique())[0]
    rows = rows[rows["measure"] == measure]
    visits = sorted(rows["hours_since_dose"].dropna().unique())
    show = [v for v in (visits[0], visits[1] if len(visits) > 1 else None) if v is not None]
    fig, axes = plt.subplots(1, len(show), figsize=(3.6 * len(show), 3.2), squeeze=False)
    for ax, hours in zip(axes[0], show):
        sub = rows[rows["hours_since_dose"] == hours]
        pairs = sub.groupby("channel")["value"].mean()
        names = sorted({p.split("-")[0] for p in pairs.index} | {p.split("-")[1]
                                                                for p in pairs.index})
        mat = np.full((len(names), len(names)), np.nan)
        for pair, val in pairs.items():
            a, b = pair.split("-")[:2]
            i, j = names.index(a), names.index(b)
            mat[i, j] = mat[j, i] = val
        im = ax.imshow(mat, vmin=0, vmax=1, cmap="magma")
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"{hours:g} h", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return figure_html(fig, f"{modality.upper()} {measure} (magnitude-squared coherence) "
                            "per channel pair, mean over recordings, baseline and first "
                            "post-dose visit")


def _tms_view(result: Any, cfg: Any) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    from .. import tms

    visits = _one_per_visit(result.features, "tms-eeg")
    if not visits:
        return ""
    figs = []
    for hours, session, path in visits[:2]:
        rec = _read(cfg, path, "tms-eeg")
        res = tms.tep(tms.clean(rec), tmin=-0.1, tmax=0.35, baseline=(-0.1, -0.01),
                      n_permutations=0)
        times_ms = np.asarray(res.times) * 1e3
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(5.5, 4.6), sharex=True)
        a1.plot(times_ms, res.average.T * 1e6, lw=0.6)
        a1.set_ylabel("TEP (µV)")
        a2.plot(times_ms, res.gmfp * 1e6, color="k", lw=1)
        peaks = res.peaks[(res.peaks["channel"] == "GMFP") & res.peaks["found"].astype(bool)]
        a2.plot(peaks["latency_ms"], peaks["amplitude"] * 1e6, "v", color="#b3261e")
        for _, p in peaks.iterrows():
            a2.annotate(str(p["component"]), (p["latency_ms"], p["amplitude"] * 1e6),
                        textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7)
        a2.set_ylabel("GMFP (µV)")
        a2.set_xlabel("time after pulse (ms)")
        for ax in (a1, a2):
            ax.axvline(0, color="0.5", lw=0.8)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        figs.append(figure_html(fig, f"TEP butterfly (all channels) and GMFP with its "
                                     f"peaks, {rec.meta.subject or ''} {session} "
                                     f"({hours:g} h), {res.n_trials} pulses"))
    return "".join(figs)


def _ltp_view(result: Any, cfg: Any) -> str:
    import matplotlib.pyplot as plt

    from ..synaptic import ltp

    visits = _one_per_visit(result.features, "fepsp", max_visits=4)
    if not visits:
        return ""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    cmap = plt.get_cmap("viridis")
    for i, (hours, session, path) in enumerate(visits):
        rec = _read(cfg, path, "fepsp")
        course = ltp(rec).time_course
        ax.plot(course["bin_centre_min"], course["mean_pct"], "o-", ms=2.5,
                color=cmap(i / max(1, len(visits) - 1)), label=f"{session} ({hours:g} h)")
    ax.axhline(100, color="0.5", lw=0.8)
    ax.axvspan(50, 60, color="#f0a500", alpha=0.15, label="LTP window 50-60 min")
    ax.set_xlabel("minutes from induction")
    ax.set_ylabel("fEPSP slope (% of baseline)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return figure_html(fig, "LTP time course per visit (one slice per visit)")


def _views_section(result: Any, cfg: Any) -> str:
    mods = sorted(result.features["modality"].dropna().unique()) if len(result.features) \
        else []
    parts = []
    for mod in mods:
        parts.append(f"<h3>{html.escape(mod)}</h3><div class='figs'>")
        if mod in ("eeg", "lfp"):
            parts.append(_safe(f"{mod} PSD per visit", lambda m=mod: _psd_view(result, cfg, m)))
            parts.append(_safe(f"{mod} coherence", lambda m=mod: _coherence_view(result, m)))
        elif mod == "tms-eeg":
            parts.append(_safe("TEP butterfly", lambda: _tms_view(result, cfg)))
        elif mod == "fepsp":
            parts.append(_safe("LTP time course", lambda: _ltp_view(result, cfg)))
        parts.append("</div>")
    return "".join(parts)


def _summary_table(features):
    """Mean value per modality, measure, region and visit (channel 'mean' rows when
    present)."""
    import pandas as pd

    if features is None or features.empty:
        return pd.DataFrame()
    f = features.copy()
    f["value"] = pd.to_numeric(f["value"], errors="coerce")
    has_mean = f.groupby(["modality", "measure"])["channel"].transform(
        lambda c: (c.astype(str) == "mean").any())
    f = f[~has_mean | (f["channel"].astype(str) == "mean")]
    table = (f.groupby(["modality", "measure", "region", "hours_since_dose"], dropna=False)
             ["value"].mean().unstack("hours_since_dose").reset_index())
    table.columns = [c if isinstance(c, str) else f"{c:g} h" for c in table.columns]
    return table


# ---------------------------------------------------------------------------- main
def write_report(result: Any, cfg: Any, path: str | Path | None = None) -> Path:
    """Write ``report.html`` for a finished run (atomically); returns its path."""
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
    if cfg.report.views:
        body += ["<h2>Per-modality views</h2>", _safe("views",
                                                      lambda: _views_section(result, cfg))]
    body += ["<h2>Summary of measures (mean per visit)</h2>",
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
