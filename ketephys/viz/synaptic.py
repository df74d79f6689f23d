"""Figures of synaptic results: LTP time course, one fEPSP sweep with its measurement
marks, a PSC train with its amplitudes, an input-output curve."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._docs import fill_doc
from .._result import finish_figure
from ._util import scaled, subplots, ylim_without_artifacts

__all__ = ["plot_ltp", "plot_fepsp_sweep", "plot_psc", "plot_io_curve"]


@fill_doc
def plot_ltp(result: Any, show_sweeps: bool = True, show: bool | None = None) -> Any:
    """LTP time course per pathway (% of baseline), with the baseline, PTP and LTP
    windows marked.

    Parameters
    ----------
    result : LTPResult
    show_sweeps : bool
        Draw every sweep (small dots) under the binned means.
    %(show)s

    %(returns_figure)s
    """
    st = result.settings
    fig, axes = subplots(figsize=(8.2, 3.8))
    ax = axes[0, 0]
    roles = dict(zip(result.pathways["pathway"].astype(str), result.pathways["role"]))
    for k, (pw, course) in enumerate(result.time_course.groupby("pathway", sort=True)):
        colour = f"C{k}"
        if show_sweeps:
            sw = result.sweeps[result.sweeps["pathway"].astype(str) == str(pw)]
            ax.plot(sw["time_min"], sw["pct"], ".", ms=2, color=colour, alpha=0.25)
        ax.errorbar(course["bin_centre_min"], course["mean_pct"], yerr=course["sem_pct"],
                    fmt="o", ms=3, lw=0.8, color=colour,
                    label=f"pathway {pw} ({roles.get(str(pw), '')}): "
                          f"{_fmt_pct(result.magnitude(pw))}")
    b = float(st.get("baseline_minutes", 10.0))
    ptp = st.get("ptp_minutes", (0.0, 2.0))
    win = st.get("window_minutes", (50.0, 60.0))
    ax.axvspan(-b, 0, color="0.85", alpha=0.6, label=f"baseline ({b:g} min)")
    ax.axvspan(*ptp, color="#7b3fa0", alpha=0.15, label=f"PTP {ptp[0]:g}-{ptp[1]:g} min")
    ax.axvspan(*win, color="#f0a500", alpha=0.2, label=f"LTP {win[0]:g}-{win[1]:g} min")
    ax.axhline(100, color="0.4", lw=0.8)
    if result.induction_source != "none":
        ax.axvline(0, color="#b3261e", lw=1, ls="--")
    ax.set_xlabel("minutes from induction"
                  + (" (no induction: baseline end)" if result.induction_source == "none"
                     else ""))
    ax.set_ylabel(f"fEPSP {result.measure} (% of baseline)")
    ax.set_title(f"LTP time course, {st.get('bin_minutes', 1):g}-min bins (mean ± SEM); "
                 f"induction {result.induction_source}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish_figure(fig, show)


def _fmt_pct(value: float) -> str:
    return "LTP window empty" if not np.isfinite(value) else f"{value:.0f} %"


@fill_doc
def plot_fepsp_sweep(rec: Any, table: Any, sweep: int = 0, channel: str | None = None,
                     show: bool | None = None) -> Any:
    """One fEPSP sweep with what was measured: baseline, slope segment and fit, amplitude,
    fibre volley and onset.

    Parameters
    ----------
    rec : Recording
        Episodic field recording.
    table : DataFrame
        :func:`~ketephys.synaptic.fepsp` rows of ``rec``.
    sweep : int
        Sweep index.
    channel : str, optional
        Default: the table's first channel.
    %(show)s

    %(returns_figure)s
    """
    channel = str(table["channel"].iloc[0]) if channel is None else channel
    rows = table[(table["sweep"] == sweep) & (table["channel"].astype(str) == channel)]
    y = rec.get_data(picks=[channel])[sweep, 0] if rec.is_episodic else \
        rec.get_data(picks=[channel])[0]
    t = np.arange(y.size) / rec.sfreq
    unit = rec.units[rec.ch_names.index(channel)] or "a.u."
    f, u = scaled(y, unit)
    fig, axes = subplots(figsize=(6.4, 3.8))
    ax = axes[0, 0]
    ax.plot(t * 1e3, y * f, color="0.2", lw=0.8, label="sweep")
    for k, r in enumerate(rows.itertuples()):
        _draw_fepsp_measures(ax, r, t, y, f, rec.sfreq, first=k == 0)
    stim0 = float(rows["stim_time"].min()) if len(rows) else 0.0
    stim_last = float(rows["stim_time"].max()) if len(rows) else 0.0
    x0, x1 = max(0.0, stim0 - 0.005), min(t[-1], stim_last + 0.025)
    ax.set_xlim(x0 * 1e3, x1 * 1e3)
    # the y-axis follows the response, not the stimulus artifact (drawn clipped)
    ylim_without_artifacts(ax, t, y * f, x0, x1, zip(rows["stim_time"], rows["artifact_end"]))
    ax.set_xlabel("time in sweep (ms)")
    ax.set_ylabel(f"{channel} ({u})")
    if len(rows):
        r0 = rows.iloc[0]
        ax.set_title(f"sweep {sweep}, stimulus 1: slope {r0['slope']:.3g} V/s, amplitude "
                     f"{r0['amplitude'] * f:.3g} {u}", fontsize=9)
    else:
        ax.set_title(f"sweep {sweep}: nothing measured on {channel}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return finish_figure(fig, show)


def _draw_fepsp_measures(ax: Any, r: Any, t: np.ndarray, y: np.ndarray, f: float,
                         sfreq: float, first: bool) -> None:
    """Draw one stimulus's measures on the sweep (scaled by ``f``): stimulus, baseline,
    fitted slope, amplitude and fibre volley; legend labels on the ``first`` only."""
    stim = float(r.stim_time)
    ax.axvline(stim * 1e3, color="0.5", ls=":", lw=1, label="stimulus" if first else None)
    base = float(r.baseline)
    end = stim + (float(r.peak_latency) if np.isfinite(r.peak_latency) else 0.01)
    ax.hlines(base * f, (stim - 0.002) * 1e3, (end + 0.001) * 1e3, color="#3a6ea5",
              lw=1, ls="--", label="baseline" if first else None)
    if np.isfinite(r.slope_start) and np.isfinite(r.slope_stop):
        m = (t >= r.slope_start - 1e-9) & (t <= r.slope_stop + 1e-9)
        if m.sum() >= 2:
            coef = np.polyfit(t[m], y[m], 1)
            tt = np.linspace(r.slope_start - 3e-4, r.slope_stop + 3e-4, 20)
            ax.plot(tt * 1e3, np.polyval(coef, tt) * f, color="#b3261e", lw=2,
                    label=f"slope {r.slope_definition}" if first else None)
            ax.plot(t[m] * 1e3, y[m] * f, ".", color="#b3261e", ms=4)
    if np.isfinite(r.amplitude) and np.isfinite(r.peak_latency):
        tp = stim + float(r.peak_latency)
        ax.annotate("", (tp * 1e3, (base + r.amplitude) * f), (tp * 1e3, base * f),
                    arrowprops={"arrowstyle": "<->", "color": "#1d7a38", "lw": 1.5})
        ax.plot([], [], color="#1d7a38", label="amplitude" if first else None)
    if np.isfinite(r.volley_amplitude) and np.isfinite(r.volley_latency):
        tv = stim + float(r.volley_latency)
        iv = min(int(round(tv * sfreq)), y.size - 1)
        ax.plot(tv * 1e3, y[iv] * f, "v", color="#7b3fa0", ms=7,
                label="fibre volley" if first else None)


@fill_doc
def plot_psc(result: Any, sweep: int | None = None, show: bool | None = None) -> Any:
    """A PSC train: the trace (one sweep, or the sweep mean) with each response's
    amplitude marked, and the amplitudes per stimulus across sweeps.

    Parameters
    ----------
    result : PSCResult
    sweep : int, optional
        Sweep to draw (default the mean over sweeps).
    %(show)s

    %(returns_figure)s
    """
    tab = result.table
    trace = result.traces.mean(axis=0) if sweep is None else result.traces[sweep]
    t = np.arange(trace.size) / result.sfreq
    f, u = scaled(trace, result.unit)
    fig, axes = subplots(1, 2, figsize=(9.0, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    ax, ax2 = axes[0]
    ax.plot(t * 1e3, trace * f, color="0.2", lw=0.7)
    rows = tab if sweep is None else tab[tab["sweep"] == sweep]
    per_stim = rows.groupby("stimulus").agg(stim_time=("stim_time", "mean"),
                                            artifact_end=("artifact_end", "mean"),
                                            peak_latency=("peak_latency", "mean"),
                                            baseline=("baseline", "mean"),
                                            amplitude=("amplitude", "mean"))
    for k, r in enumerate(per_stim.itertuples()):
        tp = r.stim_time + r.peak_latency
        ax.annotate("", (tp * 1e3, (r.baseline + r.amplitude) * f), (tp * 1e3, r.baseline * f),
                    arrowprops={"arrowstyle": "<->", "color": "#b3261e", "lw": 1.2})
        ax.axvline(r.stim_time * 1e3, color="0.6", ls=":", lw=0.8,
                   label="stimulus" if k == 0 else None)
    if len(per_stim):
        lo = per_stim["stim_time"].min() - 0.01
        hi = per_stim["stim_time"].max() + 0.06
        x0, x1 = max(lo, 0), min(hi, t[-1])
        ax.set_xlim(x0 * 1e3, x1 * 1e3)
        ylim_without_artifacts(ax, t, trace * f, x0, x1,
                               zip(per_stim["stim_time"], per_stim["artifact_end"]))
    ax.set_xlabel("time in sweep (ms)")
    ax.set_ylabel(f"{result.channel} ({u})")
    ax.set_title(f"mean of {result.traces.shape[0]} sweeps" if sweep is None
                 else f"sweep {sweep}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fa, ua = scaled(tab["amplitude"], result.unit)
    for _, g in tab.groupby("sweep"):
        ax2.plot(g["stimulus"], g["amplitude"] * fa, "-", color="0.7", lw=0.6)
    mean = tab.groupby("stimulus")["amplitude"].agg(["mean", "sem"])
    ax2.errorbar(mean.index, mean["mean"] * fa, yerr=mean["sem"] * fa, fmt="o-",
                 color="#b3261e", label="mean ± SEM")
    ax2.set_xlabel("stimulus in train")
    ax2.set_ylabel(f"amplitude ({ua})")
    ax2.set_xticks(mean.index)
    ax2.set_title("amplitude per stimulus (grey: sweeps)", fontsize=9)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7)
    return finish_figure(fig, show)


@fill_doc
def plot_io_curve(result: Any, show: bool | None = None) -> Any:
    """Input-output curve: every sweep, the mean ± SEM per intensity and the Boltzmann fit.

    Parameters
    ----------
    result : IOCurve
    %(show)s

    %(returns_figure)s
    """
    c = result.curve
    f, u = scaled(result.points["value"], result.unit)
    fig, axes = subplots(figsize=(5.5, 3.8))
    ax = axes[0, 0]
    ax.plot(result.points["intensity"], result.points["value"] * f, ".", color="0.6",
            label="sweeps")
    ax.errorbar(c["intensity"], c["mean"] * f, yerr=c["sem"] * f, fmt="o", color="k",
                label="mean ± SEM")
    p = result.fit
    if np.isfinite(p.get("top", np.nan)):
        x = np.linspace(float(c["intensity"].min()), float(c["intensity"].max()), 200)
        ax.plot(x, f * p["top"] / (1 + np.exp((p["i50"] - x) / p["k"])), color="#b3261e",
                label=f"Boltzmann fit, I50 = {p['i50']:.3g}")
    ax.set_xlabel(f"stimulus intensity ({result.intensity_unit})")
    ax.set_ylabel(f"fEPSP {result.measure} ({u})")
    ax.set_title(f"input-output curve ({len(c)} intensities)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return finish_figure(fig, show)
