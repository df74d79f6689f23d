"""Figures of TMS-EEG results: the TEP (butterfly, GMFP with its peaks, ROI), the cleaned
record around the pulses, and bootstrap distributions of excitability measures."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._docs import fill_doc
from .._result import finish_figure
from ._util import scaled, subplots

__all__ = ["plot_tep", "plot_clean", "plot_bootstrap"]


def _mark_peaks(ax: Any, peaks: Any, channel: str, f: float) -> None:
    rows = peaks[(peaks["channel"] == channel) & peaks["found"].astype(bool)]
    ax.plot(rows["latency_ms"], rows["amplitude"] * f, "v", color="#b3261e", ms=5)
    for r in rows.itertuples():
        ax.annotate(str(r.component), (r.latency_ms, r.amplitude * f), xytext=(0, 4),
                    textcoords="offset points", ha="center", fontsize=7)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.12 * (hi - lo))  # room for the labels


@fill_doc
def plot_tep(result: Any, show: bool | None = None) -> Any:
    """TEP butterfly (every channel), GMFP with its peaks and, with an ROI, the ROI signal
    with its peaks.

    Parameters
    ----------
    result : TEPResult
    %(show)s

    %(returns_figure)s
    """
    times = np.asarray(result.times) * 1e3
    avg = result.average
    f, u = scaled(avg, "V")
    n = 3 if result.roi_signal is not None else 2
    fig, axes = subplots(n, 1, figsize=(6.4, 2.2 * n + 0.6), sharex=True)
    a1, a2 = axes[0, 0], axes[1, 0]
    a1.plot(times, avg.T * f, lw=0.5)
    a1.set_ylabel(f"TEP ({u})")
    a1.set_title(f"TEP, {len(result.ch_names)} channels, {result.n_trials} trials", fontsize=9)
    a2.plot(times, result.gmfp * f, color="k", lw=1)
    _mark_peaks(a2, result.peaks, "GMFP", f)
    a2.set_ylabel(f"GMFP ({u})")
    if n == 3:
        a3 = axes[2, 0]
        a3.plot(times, result.roi_signal * f, color="C0", lw=1, label="ROI mean")
        if result.lmfp is not None:
            a3.plot(times, result.lmfp * f, color="0.5", lw=0.8, label="LMFP")
        _mark_peaks(a3, result.peaks, "ROI", f)
        a3.set_ylabel(f"ROI ({u})")
        a3.set_title("ROI: " + ", ".join(result.roi[:8])
                     + (" ..." if len(result.roi) > 8 else ""), fontsize=8)
        a3.legend(fontsize=7)
    for ax in axes[:, 0]:
        ax.axvline(0, color="0.5", lw=0.8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time after pulse (ms)")
    return finish_figure(fig, show)


@fill_doc
def plot_clean(result: Any, tmin: float = -0.05, tmax: float = 0.15,
               show: bool | None = None) -> Any:
    """The cleaned EEG averaged around the pulses (every channel), with the removal
    windows shaded.

    Parameters
    ----------
    result : CleanResult
    tmin, tmax : float
        Window around the pulses (s).
    %(show)s

    %(returns_figure)s
    """
    rec = result.recording
    sf = rec.sfreq
    i0, i1 = int(round(tmin * sf)), int(round(tmax * sf))
    onsets = np.round(np.asarray(result.pulses) * sf).astype(int)
    onsets = onsets[(onsets + i0 >= 0) & (onsets + i1 < rec.n_times)]
    data = rec.get_data()
    avg = np.mean([data[:, s + i0:s + i1 + 1] for s in onsets], axis=0) if onsets.size \
        else np.zeros((rec.n_channels, i1 - i0 + 1))
    times = np.arange(i0, i1 + 1) / sf * 1e3
    f, u = scaled(avg, "V")
    fig, axes = subplots(figsize=(6.4, 3.6))
    ax = axes[0, 0]
    ax.plot(times, avg.T * f, lw=0.5)
    colours = {"first": "#f0a500", "second": "#7b3fa0"}
    for name, win in result.windows.items():
        if win is not None:
            ax.axvspan(win[0] * 1e3, win[1] * 1e3, color=colours.get(name, "0.7"), alpha=0.2,
                       label=f"{name} removal window")
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel("time after pulse (ms)")
    ax.set_ylabel(f"cleaned EEG ({u})")
    import textwrap

    steps = ", ".join(h["step"] for h in result.history)
    ax.set_title(textwrap.fill(f"mean over {onsets.size} pulses after: {steps}", 80),
                 fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return finish_figure(fig, show)


@fill_doc
def plot_bootstrap(result: Any, level: float = 0.95, show: bool | None = None) -> Any:
    """The bootstrap draws of every measure (histogram), its value and percentile CI.

    Parameters
    ----------
    result : BootstrapMeasures
    level : float
        CI level.
    %(show)s

    %(returns_figure)s
    """
    names = list(result.point)
    ncol = min(3, len(names)) or 1
    nrow = int(np.ceil(len(names) / ncol)) or 1
    fig, axes = subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow))
    ci = result.ci(level).set_index("measure")
    for ax, m in zip(axes.ravel(), names):
        unit = result.units.get(m, "")
        draws = result.draws[m].to_numpy(float)
        f, u = scaled(draws, unit)
        ax.hist(draws[np.isfinite(draws)] * f, bins=30, color="0.7")
        ax.axvline(result.point[m] * f, color="k", lw=1.5, label="full average")
        for edge in ("ci_low", "ci_high"):
            ax.axvline(ci.loc[m, edge] * f, color="#b3261e", ls="--", lw=1)
        ax.set_xlabel(f"{m} ({u})", fontsize=8)
        ax.set_ylabel("draws")
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{result.n_boot} bootstrap draws over trials; dashed: "
                 f"{int(level * 100)} % CI", fontsize=9)
    return finish_figure(fig, show)
