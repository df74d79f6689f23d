"""Figures of :class:`~ketephys.longitudinal.DecayFit`: the decay per group and a forest
plot of tau with its confidence interval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._docs import fill_doc
from .._result import finish_figure
from ._util import subplots

__all__ = ["plot_decay", "plot_taus", "plot_tau_table", "group_unit"]


def group_unit(group: Any) -> str:
    """The unit of a group's values, for axis labels.

    Parameters
    ----------
    group : GroupFit
        One group of a :class:`~ketephys.longitudinal.DecayFit`.

    Returns
    -------
    str
        The single value of the fitted rows' ``unit`` column (a feature table's), or
        ``""`` when there is none or the rows mix units.
    """
    raw = getattr(group.data, "raw", None)
    if raw is None or "unit" not in getattr(raw, "columns", ()):
        return ""
    units = raw["unit"].dropna().astype(str).unique()
    return units[0] if len(units) == 1 else ""


def _data_limits(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(y)), float(np.max(y))
    pad = 0.08 * (hi - lo) if hi > lo else (abs(hi) * 0.1 or 1.0)
    return lo - pad, hi + pad


@fill_doc
def plot_decay(fit: Any, n_points: int = 200, show_subjects: bool = True,
               show: bool | None = None) -> Any:
    """Data per subject, the typical fitted curve and its band, one panel per group.

    A group whose tau is not identifiable gets its curve only over the time range of its
    data, a y-axis set by the data (the extrapolated curve cannot dominate) and
    "not identifiable" in its title and legend.

    Parameters
    ----------
    fit : DecayFit
    n_points, show_subjects
        See :meth:`ketephys.longitudinal.DecayFit.plot`.
    %(show)s

    %(returns_figure)s
    """
    n = len(fit.groups)
    ncol = min(n, 3)
    nrow = int(np.ceil(n / ncol))
    fig, axes = subplots(nrow, ncol, figsize=(4.2 * ncol, 3.3 * nrow))
    table = fit.summary()
    for k, (ax, g) in enumerate(zip(axes.ravel(), fit.groups)):
        d = g.data
        t_obs, y_obs = d.t[d.mask], d.y[d.mask]
        tmax = float(t_obs.max()) if t_obs.size else 1.0
        if g.identifiable:
            times = np.linspace(0.0, tmax * 1.05, n_points)
        else:
            t_lo = float(t_obs[t_obs > 0].min()) if (t_obs > 0).any() else 0.0
            times = np.linspace(t_lo, tmax, n_points)
        pred = fit.predict(times, groups=[g.key])
        for i in range(d.n_subjects):
            m = d.mask[i]
            ax.plot(d.t[i, m], d.y[i, m], "o-" if show_subjects else "o", color="0.6",
                    alpha=0.5, ms=3, lw=0.6)
        what = "typical fit" + ("" if g.identifiable else " (not identifiable)")
        ax.fill_between(pred["hours"], pred["ci_low"], pred["ci_high"], color="C0",
                        alpha=0.3 if g.identifiable else 0.12,
                        label=f"{int(fit.level * 100)}% CI")
        ax.plot(pred["hours"], pred["fit"], color="C0", lw=2,
                ls="-" if g.identifiable else "--", label=what)
        if not g.identifiable and y_obs.size:
            ax.set_ylim(*_data_limits(t_obs, y_obs))
        row = table.iloc[k]
        ci = (f" [{row['tau_ci_low_h']:.3g}, {row['tau_ci_high_h']:.3g}]"
              if "tau_ci_low_h" in table.columns else "")
        label = " / ".join(map(str, g.key)) or "all"
        ax.set_title(f"{label}: tau = {row['tau_h']:.3g}{ci} h"
                     + ("" if g.identifiable else "\n(not identifiable)"), fontsize=9,
                     color="k" if g.identifiable else "#b3261e")
        ax.set_xlabel("hours since dose")
        unit = group_unit(g)
        ylabel = "change from baseline" if g.pm.fixed_e0 else "value"
        ax.set_ylabel(f"{ylabel} ({unit.replace('^2', '²')})" if unit else ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return finish_figure(fig, show)


@fill_doc
def plot_taus(fit: Any, show: bool | None = None) -> Any:
    """Forest plot: tau with its confidence interval per group (region x measure).

    Identifiable fits are filled circles; fits that are not identifiable are hollow and
    labelled "not identifiable"; an unbounded CI end is drawn as an arrow to the edge.

    Parameters
    ----------
    fit : DecayFit
    %(show)s

    %(returns_figure)s
    """
    keys = list(fit.key_names) or ["group"]
    return plot_tau_table(fit.summary(), keys, fit.level, show)


@fill_doc
def plot_tau_table(table: Any, label_columns: Sequence[str], level: float = 0.95,
                   show: bool | None = None) -> Any:
    """Forest plot from a table of fits (:meth:`DecayFit.summary` or ``decay_fits.csv``).

    Parameters
    ----------
    table : DataFrame
        ``tau_h``, ``identifiable`` and, when present, ``tau_ci_low_h``/``tau_ci_high_h``;
        rows without a tau are skipped.
    label_columns : list of str
        Columns joined (" / ") into each row's label, e.g. ``["fit", "region"]``.
    level : float
        CI level (for the title).
    %(show)s

    %(returns_figure)s
    """
    table = table[table["tau_h"].notna()].reset_index(drop=True)
    keys = [c for c in label_columns if c in table.columns]
    labels = [" / ".join(str(r[k]) for k in keys) for _, r in table.iterrows()]
    tau = table["tau_h"].to_numpy(float)
    lo = table.get("tau_ci_low_h", table["tau_h"]).to_numpy(float)
    hi = table.get("tau_ci_high_h", table["tau_h"]).to_numpy(float)
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in (tau, lo, hi)])
    x_lo = float(finite.min()) / 2 if finite.size else 0.1
    x_hi = float(finite.max()) * 2 if finite.size else 10.0
    fig, axes = subplots(figsize=(6.0, 1.0 + 0.45 * len(table)))
    ax = axes[0, 0]
    y = np.arange(len(table))[::-1]
    for k, row in enumerate(table.itertuples()):
        ok = bool(getattr(row, "identifiable", True))
        colour = "C0" if ok else "#b3261e"
        a = lo[k] if np.isfinite(lo[k]) and lo[k] > 0 else x_lo
        b = hi[k] if np.isfinite(hi[k]) else x_hi
        ax.plot([a, b], [y[k], y[k]], color=colour, lw=1.5)
        for end, open_end in ((a, not (np.isfinite(lo[k]) and lo[k] > 0)),
                              (b, not np.isfinite(hi[k]))):
            if open_end:
                ax.annotate("", (end, y[k]), (tau[k], y[k]),
                            arrowprops={"arrowstyle": "->", "color": colour})
        ax.plot(tau[k], y[k], "o", ms=7, color=colour,
                mfc=colour if ok else "white", mew=1.5)
        if not ok:
            ax.annotate("not identifiable", (tau[k], y[k]), xytext=(4, 5),
                        textcoords="offset points", ha="left", fontsize=7, color=colour)
    ax.set_xscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.set_xlabel("tau (h), log scale")
    ax.set_title(f"tau with its {int(level * 100)} % CI (hollow: not identifiable)",
                 fontsize=9)
    ax.grid(alpha=0.3, axis="x", which="both")
    return finish_figure(fig, show)
