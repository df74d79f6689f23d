"""The per-modality views of ``report.html``, drawn from the results the run computed
(:meth:`~ketephys.pipeline.runner.RunResult.views_of`): PSD per visit and coherence
matrices (EEG/LFP), TEP butterfly with GMFP (TMS-EEG), LTP time course and an fEPSP sweep
(field EPSPs), a PSC train (patch). Nothing is re-analysed; captions state the run's
settings."""

from __future__ import annotations

import html
import os
from typing import Any

from ..spectral.bands import resolve_band
from .report_html import ViewUnavailable, _hours, _note, _safe, figure_html

__all__ = ["psd_figure", "coherence_figure", "ltp_figure", "views_section"]


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
    """PSD per visit, mean over channels, on log-log axes.

    Parameters
    ----------
    spectra : list of (str, Spectrum)
        Visit label and its spectrum, one line each (coloured in order).
    band : (float, float)
        The gamma band shaded (Hz, default 30-80 Hz).

    Returns
    -------
    matplotlib.figure.Figure
    """
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
    """Channel x channel matrices, one panel per visit.

    Parameters
    ----------
    panels : list of (str, pandas.Series)
        Panel title and the values of channel pairs, indexed ``"A-B"``; the matrix is
        symmetric. More than 32 channels get every k-th label.
    measure : str
        Name of the values, shown on the colour bar (e.g. ``"theta_msc"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
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
    """LTP time course per visit (% of baseline against minutes from induction), with the
    50-60 min LTP window shaded.

    Parameters
    ----------
    courses : list of (str, LTPResult)
        Visit label and its LTP result (its ``time_course`` is drawn).
    measure : str
        The fEPSP measure, named on the y axis (default ``"slope"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
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


def views_section(result: Any, cfg: Any) -> str:
    """The report's per-modality figures, drawn from the result objects the run cached
    (one recording per visit): PSD per visit and coherence (EEG, LFP), TEP butterfly
    (TMS-EEG), LTP time course and first sweep (fEPSP), PSC train (patch).

    Parameters
    ----------
    result : RunResult
        The finished run (its features pick the recordings, :meth:`RunResult.views_of`
        gives their result objects).
    cfg : PipelineConfig
        Its configuration.

    Returns
    -------
    str
        HTML, one ``<h3>`` block per modality with figures; a figure that cannot be drawn
        is replaced by a note; empty when no modality has any.
    """
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
