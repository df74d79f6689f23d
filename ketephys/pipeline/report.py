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
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..spectral.bands import resolve_band
from .cache import atomic_write

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


def figure_html(fig: Any, caption: str = "", data: Any = None) -> str:
    """A matplotlib figure as an ``<figure>`` with the PNG embedded (base64); closes it.

    ``data``, the numbers behind the figure, is embedded beside it as JSON
    (``<script type="application/json" class="figure-data">``) so that anyone can check
    the figure against the run's tables.
    """
    import json

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=85)
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    embedded = ""
    if data is not None:
        text = json.dumps(data, default=_json_default).replace("</", "<\\/")
        embedded = f'<script type="application/json" class="figure-data">{text}</script>'
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{png}">' \
           f"{cap}{embedded}</figure>"


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _table_html(frame, max_rows: int = 200, floatfmt: str = "{:.4g}",
                wrap: tuple[str, ...] = ()) -> str:
    """A table; long-text columns in ``wrap`` are cut to one line with the full text on
    hover, so rows stay one line high and the first columns stay in view."""
    if frame is None or len(frame) == 0:
        return "<p>(none)</p>"
    shown = frame.head(max_rows).copy()
    for col in wrap:
        if col in shown.columns:
            shown[col] = [_cut(v) for v in shown[col]]
    out = '<div style="overflow-x:auto">' + shown.to_html(
        index=False, na_rep="", border=0, escape=False,
        float_format=lambda v: floatfmt.format(v),
        formatters={c: _escape for c in shown.columns if c not in wrap
                    and shown[c].dtype == object}) + "</div>"
    if len(frame) > max_rows:
        out += f"<p>({len(frame) - max_rows} more rows in the CSV)</p>"
    return out


def _escape(value: Any) -> str:
    return "" if value is None or value != value else html.escape(str(value))


def _cut(value: Any, width: int = 60) -> str:
    """A long text shown as its first ``width`` characters, all of it on hover."""
    text = _escape(value)
    if len(text) <= width:
        return text
    return f'<span title="{text}">{text[:width]}&hellip;</span>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


class ViewUnavailable(Exception):
    """A view cannot be drawn; the message says why in the reader's terms."""


def _safe(title: str, build: Callable[[], str]) -> str:
    """``build()``, or a note saying why the view is missing -- never Python error text.

    A :class:`ViewUnavailable` or ketephys error carries a message written for the
    reader; anything else is an internal error: the note says so and the log has the
    traceback.
    """
    from ..errors import KetephysError

    try:
        return build()
    except (ViewUnavailable, KetephysError) as err:
        log.warning("report: %s not drawn: %s", title, err)
        return _note(f"{title}: not drawn: {err}")
    except Exception:  # one view failing must not stop the report
        log.exception("report: %s not drawn", title)
        return _note(f"{title}: not drawn because of an internal error (the log of this "
                     "run has the details; please report it)")


def _hours(value: Any) -> str:
    """``"2 h"`` for a visit, ``"no hours_since_dose"`` when it is missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "no hours_since_dose"
    return "no hours_since_dose" if v != v else f"{v:g} h"


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
            fits.loc[failed, "identifiability_reason"] = fits.loc[failed, "error"]
    if "identifiable" in fits.columns and "peak_effect" in fits.columns:
        bad = fits["identifiable"].eq(False)
        fits["peak_effect"] = ["not identifiable" if b else f"{v:.4g}"
                               for b, v in zip(bad, fits["peak_effect"])]
    keep = [c for c in ("fit", "region", "group", "identifiable", "identifiability_reason",
                        "model", "tau_h", "tau_ci_low_h", "tau_ci_high_h", "half_life_h",
                        "half_life_ci_low_h", "half_life_ci_high_h", "peak_effect", "unit",
                        "n_subjects", "n_obs", "error")
            if c in fits.columns]
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
def _one_per_visit(features, modality: str, max_visits: int = 8):
    """Rows (hours, session, path, subject, region) of one recording per visit of the
    first subject/region."""
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
    timed = first[first["hours_since_dose"].notna()]
    first = (timed.sort_values("hours_since_dose").drop_duplicates("hours_since_dose")
             if len(timed) else first.head(1))
    return list(zip(first["hours_since_dose"], first["session"], first["recording"],
                    first["subject"], first["region"]))[:max_visits]


def _visit_label(hours: Any, session: Any) -> str:
    return " ".join(p for p in (str(session) if session is not None and session == session
                                else "", f"({_hours(hours)})") if p)


def _who(subject: Any, region: Any) -> str:
    parts = [f"subject {subject}" if subject is not None and subject == subject else "",
             str(region) if region is not None and region == region else ""]
    return ", ".join(p for p in parts if p)


def _stored(result: Any, path: str, analyser: str, view: str) -> Any:
    """The result object ``view`` that ``analyser`` computed for ``path`` in this run (or
    the cached run it reused); the report never re-analyses."""
    views = result.views_of(path).get(analyser, {}) if hasattr(result, "views_of") else {}
    obj = views.get(view)
    if obj is None:
        raise ViewUnavailable(
            f"{os.path.basename(path)}: no stored {view} (the {analyser} analyser did not "
            "produce one, or the result was cached by an older ketephys: rerun with "
            "--force to draw it)")
    return obj


def _spectral_caption(spec: Any) -> str:
    s = spec.settings
    how = (f"{s.get('method', 'welch')}, {s.get('seg_len', 0):g} s {s.get('window', '')} "
           f"segments, {100 * s.get('overlap', 0):.0f} % overlap").replace("  ", " ")
    return f"{how}, K = {spec.k}"


def psd_figure(spectra: list[tuple[str, Any]], band: tuple[float, float] = (30.0, 80.0)):
    """PSD per visit, mean over channels: ``spectra`` is ``[(label, Spectrum), ...]``."""
    import matplotlib.pyplot as plt
    import numpy as np

    from ..viz._util import log_frequency_axis

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    cmap = plt.get_cmap("viridis")
    units = set()
    for i, (label, spec) in enumerate(spectra):
        pos = spec.freqs > 0  # log axis
        ax.loglog(spec.freqs[pos], np.mean(spec.get_data(), axis=0)[pos],
                  color=cmap(i / max(1, len(spectra) - 1)), label=label)
        units.update(spec.units or ["V^2/Hz"])
    ax.axvspan(*band, color="#f0a500", alpha=0.15, label=f"gamma {band[0]:g}-{band[1]:g} Hz")
    top = max(float(spec.freqs.max()) for _, spec in spectra) if spectra else band[1]
    log_frequency_axis(ax, 1.0, top)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"PSD ({', '.join(sorted(units)).replace('^2', '²')}), channel mean")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def _psd_view(result: Any, cfg: Any, modality: str) -> str:
    visits = _one_per_visit(result.features, modality)
    if not visits:
        return ""
    spectra, who = [], ""
    for hours, session, path, subject, region in visits:
        spec = _stored(result, path, "spectral", "spectrum")
        spectra.append((_visit_label(hours, session), spec))
        who = _who(subject, region)
    first = spectra[0][1]
    band = resolve_band("gamma", modality)[1:]
    fig = psd_figure(spectra, band)
    data = {"kind": "psd", "band_hz": band, "visits": [
        {"recording": path, "label": label, "channels": spec.ch_names,
         "band_power_channel_mean": _band_mean(spec, *band)}
        for (label, spec), (_, _, path, _, _) in zip(spectra, visits)]}
    return figure_html(fig, f"{modality.upper()} PSD per visit"
                            + (f", {who}" if who else "")
                            + f" (the run's spectra: {len(first.ch_names)} "
                              f"{modality} channels; {_spectral_caption(first)})", data)


def _band_mean(spec: Any, lo: float, hi: float) -> float:
    """Channel-mean band power (sum of PSD bins x df) of a spectrum, unflagged channels."""
    import numpy as np

    from ..spectral.preprocess import flat_mask

    mask = (spec.freqs >= lo) & (spec.freqs <= hi)
    power = spec.psd[:, mask].sum(axis=1) * spec.df
    good = ~flat_mask(spec.psd.sum(axis=1) * spec.df)
    return float(np.mean(power[good]))


def coherence_figure(panels: list[tuple[str, Any]], measure: str):
    """Channel x channel matrices: ``panels`` is ``[(title, Series pair -> value), ...]``
    with pairs named ``"A-B"``; more than 32 channels get every k-th label."""
    import matplotlib.pyplot as plt
    import numpy as np

    from ..viz._util import MAX_LABELS, label_channels

    n_ch = 0
    for _, pairs in panels:
        n_ch = max(n_ch, len({p.split("-")[0] for p in pairs.index}
                             | {p.split("-")[1] for p in pairs.index}))
    side = float(np.clip(3.2 + 0.05 * n_ch, 3.6, 7.5))
    fig, axes = plt.subplots(1, len(panels), figsize=(side * len(panels), side),
                             squeeze=False)
    thinned = False
    for ax, (title, pairs) in zip(axes[0], panels):
        names = sorted({p.split("-")[0] for p in pairs.index}
                       | {p.split("-")[1] for p in pairs.index})
        mat = np.full((len(names), len(names)), np.nan)
        for pair, val in pairs.items():
            a, b = pair.split("-")[:2]
            i, j = names.index(a), names.index(b)
            mat[i, j] = mat[j, i] = val
        im = ax.imshow(mat, vmin=0, vmax=1, cmap="magma")
        thinned |= label_channels(ax, names)
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, label=f"{measure} (unitless)")
    if thinned:
        fig.suptitle(f"{n_ch} channels: 1 label in {int(np.ceil(n_ch / MAX_LABELS))}",
                     fontsize=8)
    fig.tight_layout()
    return fig


def _coherence_view(result: Any, modality: str) -> str:
    f = result.features
    rows = f[(f["modality"] == modality) & f["measure"].astype(str).str.endswith("_msc")
             & f["channel"].astype(str).str.contains("-")]
    rows = rows[rows["channel"] != "mean"]
    if rows.empty:
        return ""
    measure = sorted(rows["measure"].unique())[0]
    rows = rows[rows["measure"] == measure]
    visits = sorted(rows["hours_since_dose"].dropna().unique())
    if visits:
        panels = [(_hours(h), rows[rows["hours_since_dose"] == h].groupby("channel")[
            "value"].mean()) for h in visits[:2]]
        what = "baseline and first post-dose visit"
    else:
        panels = [("all recordings", rows.groupby("channel")["value"].mean())]
        what = "all recordings (no hours_since_dose)"
    fig = coherence_figure(panels, measure)
    return figure_html(fig, f"{modality.upper()} {measure} (magnitude-squared coherence, "
                            f"unitless) per channel pair, mean over recordings, {what}")


def _tms_view(result: Any, cfg: Any) -> str:
    visits = _one_per_visit(result.features, "tms-eeg")
    if not visits:
        return ""
    figs = []
    for hours, session, path, subject, _ in visits[:2]:
        res = _stored(result, path, "tms", "tep")
        who = _who(subject, None)
        t = res.settings
        figs.append(figure_html(res.plot(show=False),
                                f"TEP butterfly (all channels) and GMFP with its peaks, "
                                f"{who + ' ' if who else ''}{_visit_label(hours, session)}, "
                                f"{res.n_trials} pulses (the run's TEP: "
                                f"{1e3 * t.get('tmin', res.times[0]):g} to "
                                f"{1e3 * t.get('tmax', res.times[-1]):g} ms)"))
    return "".join(figs)


def ltp_figure(courses: list[tuple[str, Any]], measure: str = "slope"):
    """LTP time course per visit: ``courses`` is ``[(label, LTPResult), ...]``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    cmap = plt.get_cmap("viridis")
    for i, (label, res) in enumerate(courses):
        course = res.time_course
        ax.plot(course["bin_centre_min"], course["mean_pct"], "o-", ms=2.5,
                color=cmap(i / max(1, len(courses) - 1)), label=label)
    ax.axhline(100, color="0.5", lw=0.8)
    ax.axvspan(50, 60, color="#f0a500", alpha=0.15, label="LTP window 50-60 min")
    ax.set_xlabel("minutes from induction")
    ax.set_ylabel(f"fEPSP {measure} (% of baseline)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _ltp_view(result: Any, cfg: Any) -> str:
    from ..viz.synaptic import plot_fepsp_sweep

    visits = _one_per_visit(result.features, "fepsp", max_visits=4)
    if not visits:
        return ""
    courses, paths = [], []
    for hours, session, path, _, _ in visits:
        res = result.views_of(path).get("synaptic", {}).get("ltp")
        if res is not None:
            courses.append((_visit_label(hours, session), res))
            paths.append(path)
    parts = []
    if courses:
        measure = getattr(courses[0][1], "measure", "slope")
        data = {"kind": "ltp", "courses": [
            {"recording": path, "label": label,
             "bin_centre_min": res.time_course["bin_centre_min"],
             "mean_pct": res.time_course["mean_pct"],
             "ltp_magnitude_pct": res.summary()["ltp_magnitude_pct"]}
            for (label, res), path in zip(courses, paths)]}
        parts.append(figure_html(ltp_figure(courses, measure),
                                 "LTP time course per visit (one slice per visit; the run's "
                                 "LTP results)", data))
    else:
        parts.append(_note("LTP time course: no recording of this study has an LTP "
                           "induction (given or found), so there is no time course; the "
                           "per-visit slope and amplitude are in the summary table"))
    hours, session, path, subject, _ = visits[0]
    sweep = _stored(result, path, "synaptic", "first_sweep")
    table = _stored(result, path, "synaptic", "fepsp")
    who = _who(subject, None)
    parts.append(figure_html(plot_fepsp_sweep(sweep, table[table["sweep"] == 0], 0,
                                              show=False),
                             f"first fEPSP sweep with its measurements, "
                             f"{who + ' ' if who else ''}{_visit_label(hours, session)}"))
    return "".join(parts)


def _psc_view(result: Any, cfg: Any) -> str:
    from ..synaptic.wholecell import PSCResult

    visits = _one_per_visit(result.features, "patch", max_visits=2)
    if not visits:
        return ""
    figs = []
    for hours, session, path, subject, _ in visits:
        sweep = _stored(result, path, "synaptic", "first_sweep")
        table = _stored(result, path, "synaptic", "psc")
        first = table[table["sweep"] == 0]
        channel = str(first["channel"].iloc[0])
        trace = sweep.get_data(picks=[channel])[:, 0].astype("float32")
        res = PSCResult(table=first, traces=trace, sfreq=sweep.sfreq, channel=channel,
                        unit=sweep.units[sweep.ch_names.index(channel)], recording=sweep)
        who = _who(subject, None)
        ppr = table.groupby("stimulus")["amplitude"].mean()
        ratio = (f", paired-pulse ratio {ppr.iloc[1] / ppr.iloc[0]:.2f} (mean of all sweeps)"
                 if len(ppr) > 1 and ppr.iloc[0] else "")
        figs.append(figure_html(res.plot(sweep=0, show=False),
                                f"first sweep's responses with their amplitudes, "
                                f"{who + ' ' if who else ''}{_visit_label(hours, session)}"
                                f"{ratio}"))
    return "".join(figs)


def _views_section(result: Any, cfg: Any) -> str:
    mods = sorted(result.features["modality"].dropna().unique()) if len(result.features) \
        else []
    views = {"eeg": ("PSD per visit", "coherence"), "lfp": ("PSD per visit", "coherence"),
             "tms-eeg": ("TEP butterfly",), "fepsp": ("LTP time course",),
             "patch": ("PSC train",)}
    parts = []
    for mod in mods:
        if mod not in views:
            continue  # no figure for this modality: its numbers are in the summary table
        built = []
        if mod in ("eeg", "lfp"):
            built.append(_safe(f"{mod} PSD per visit", lambda m=mod: _psd_view(result, cfg, m)))
            built.append(_safe(f"{mod} coherence", lambda m=mod: _coherence_view(result, m)))
        elif mod == "tms-eeg":
            built.append(_safe("TEP butterfly", lambda: _tms_view(result, cfg)))
        elif mod == "fepsp":
            built.append(_safe("LTP time course", lambda: _ltp_view(result, cfg)))
        elif mod == "patch":
            built.append(_safe("PSC train", lambda: _psc_view(result, cfg)))
        built = [b for b in built if b]
        if built:
            parts.append(f"<h3>{html.escape(mod)}</h3><div class='figs'>" + "".join(built)
                         + "</div>")
    return "".join(parts)


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
