"""Figures of a :class:`~ketephys.Recording`: stacked continuous traces, or an overlay of
sweeps with the stimulus marks."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._docs import fill_doc
from .._result import finish_figure
from ._util import scaled, subplots

__all__ = ["plot_recording", "gui_backend"]

_MAX_CONTINUOUS = 20
_MAX_EPISODIC = 4


def gui_backend() -> bool:
    """Whether matplotlib draws to a window.

    Returns
    -------
    bool
        True for an interactive backend; False for Agg, PDF, PS, SVG, PGF, Cairo, the
        template backend and inline (notebook) backends.
    """
    import matplotlib

    backend = matplotlib.get_backend().lower()
    return not (backend in ("agg", "pdf", "ps", "svg", "pgf", "cairo", "template")
                or "inline" in backend)


@fill_doc
def plot_recording(rec: Any, picks: Any = None, start: float = 0.0,
                   duration: float = 10.0, n_sweeps: int = 20,
                   show: bool | None = None) -> Any:
    """A static view of a recording.

    Continuous data: up to 20 channels stacked over ``duration`` s from ``start``.
    Episodic data: one panel per channel (up to 4), the sweeps overlaid, stimuli marked.

    Parameters
    ----------
    rec : Recording
    picks : str, int or list, optional
        Channels (default: the first 20 continuous / 4 episodic channels that are not
        ``stim``).
    start, duration : float
        Seconds shown (continuous data).
    n_sweeps : int
        Most sweeps overlaid (evenly spaced over the recording).
    %(show)s

    %(returns_figure)s
    """
    limit = _MAX_EPISODIC if rec.is_episodic else _MAX_CONTINUOUS
    if picks is None:
        idx = [i for i, t in enumerate(rec.ch_types) if t != "stim"][:limit] or [0]
    else:
        idx = [int(i) for i in rec.pick_indices(picks)]
    names = [rec.ch_names[i] for i in idx]
    where = rec.source.path.rsplit("/", 1)[-1] if rec.source.path else "recording"
    if rec.is_episodic:
        return _plot_sweeps(rec, idx, names, n_sweeps, where, show)
    s0 = int(round(start * rec.sfreq))
    s1 = min(rec.n_times, s0 + int(round(duration * rec.sfreq)))
    data = rec.get_data(idx, s0, s1)
    t = (s0 + np.arange(data.shape[1])) / rec.sfreq
    fig, axes = subplots(figsize=(8.0, 1.0 + 0.35 * len(idx)))
    ax = axes[0, 0]
    step = _stacked_traces(ax, rec, idx, t, data)
    ev = rec.events
    inside = ev[(ev["onset"] >= t[0]) & (ev["onset"] <= t[-1])] if len(t) else ev.iloc[:0]
    for onset in inside["onset"].to_numpy(float)[:200]:
        ax.axvline(onset, color="#3a6ea5", lw=0.6, alpha=0.6)
    ax.set_yticks(-np.arange(len(idx)) * step, names, fontsize=7 if len(idx) <= 16 else 6)
    ax.set_xlim(t[0], t[-1]) if len(t) > 1 else None
    units = sorted({rec.units[i] or "a.u." for i in idx})
    f, u = scaled([step], units[0]) if len(units) == 1 else (1.0, "/".join(units))
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"channel (spacing {step * f:.3g} {u})")
    ax.set_title(f"{where}: {len(idx)} of {rec.n_channels} channels, "
                 f"{t[-1] - t[0] if len(t) else 0:.3g} s of {rec.n_times / rec.sfreq:.4g} s"
                 + (f"; {len(inside)} events (blue)" if len(inside) else ""), fontsize=9)
    return finish_figure(fig, show)


def _stacked_traces(ax: Any, rec: Any, idx: list[int], t: np.ndarray, data: np.ndarray
                    ) -> float:
    """Draw the channels median-centred and stacked (stimulus channels in red); returns
    the spacing (2.5 x the median 99th percentile of the absolute centred values)."""
    centred = data - np.nanmedian(data, axis=1, keepdims=True)
    spread = np.nanpercentile(np.abs(centred), 99, axis=1)
    step = float(np.nanmedian(spread[spread > 0])) * 2.5 if (spread > 0).any() else 1.0
    for k, row in enumerate(centred):
        ax.plot(t, row - k * step, lw=0.5, color="k" if rec.ch_types[idx[k]] != "stim"
                else "#b3261e")
    return step


def _stim_times(rec: Any) -> np.ndarray:
    """Stimulus times in a sweep (s): ``stim*`` events, else the rising edges of the
    first ``stim`` channel in the first sweep."""
    ev = rec.events
    rows = ev[ev["description"].astype(str).str.contains("stim", case=False)]
    if len(rows):
        return np.unique(np.round(rows["onset"].to_numpy(float), 6))
    stim = [i for i, t in enumerate(rec.ch_types) if t == "stim"]
    if not stim:
        return np.array([])
    x = rec.get_data([stim[0]])[0, 0]
    lo, hi = float(np.min(x)), float(np.max(x))
    if hi <= lo:
        return np.array([])
    above = x > (lo + hi) / 2
    return (np.flatnonzero(above[1:] & ~above[:-1]) + 1) / rec.sfreq


def _plot_sweeps(rec: Any, idx: list[int], names: list[str], n_sweeps: int, where: str,
                 show: bool | None) -> Any:
    data = rec.get_data(idx)  # (n_sweeps, n_picks, n_times)
    which = np.unique(np.linspace(0, rec.n_sweeps - 1, min(n_sweeps, rec.n_sweeps)).astype(int))
    t = rec.times * 1e3
    fig, axes = subplots(len(idx), 1, figsize=(7.0, 1.2 + 2.0 * len(idx)), sharex=True)
    cmap = __import__("matplotlib").colormaps["viridis"]
    stims = _stim_times(rec)
    for k, (ax, name) in enumerate(zip(axes[:, 0], names)):
        f, u = scaled(data[:, k], rec.units[idx[k]] or "a.u.")
        for j, s in enumerate(which):
            ax.plot(t, data[s, k] * f, lw=0.5, color=cmap(j / max(1, len(which) - 1)))
        for st in stims:
            ax.axvline(st * 1e3, color="#b3261e", ls=":", lw=1)
        ax.set_ylabel(f"{name} ({u})")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time in sweep (ms)")
    axes[0, 0].set_title(f"{where}: {len(which)} of {rec.n_sweeps} sweeps (colour: sweep "
                         "order)" + ("; stimuli dotted" if len(stims) else ""), fontsize=9)
    return finish_figure(fig, show)
