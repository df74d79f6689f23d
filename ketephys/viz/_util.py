"""Helpers shared by the figure modules: unit prefixes, readable channel labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["scaled", "label_channels", "subplots", "MAX_LABELS"]

#: Most channel labels drawn on one axis; more are thinned (every k-th label).
MAX_LABELS = 32

_PREFIXES = ((1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""))


def scaled(values: Any, unit: str) -> tuple[float, str]:
    """A factor and a prefixed unit that put ``values`` (in ``unit``) in a readable range.

    ``V`` with values ~1e-5 gives ``(1e6, "µV")``; squared or compound units and empty
    units are left alone (factor 1).
    """
    if unit not in ("V", "A", "s", "V*s"):
        return 1.0, unit
    arr = np.asarray(values, float)
    arr = arr[np.isfinite(arr)]
    peak = float(np.max(np.abs(arr))) if arr.size else 0.0
    if peak == 0.0:
        return 1.0, unit
    for scale, prefix in _PREFIXES:
        if peak < 1000 * scale:
            return 1.0 / scale, prefix + unit
    return 1.0, unit


def label_channels(ax: Any, names: Sequence[str], axis: str = "both",
                   max_labels: int = MAX_LABELS) -> bool:
    """Channel names as tick labels; with more than ``max_labels`` only every k-th.

    Returns True when labels were thinned (the caller says so in the title or caption).
    """
    n = len(names)
    step = max(1, int(np.ceil(n / max_labels)))
    idx = np.arange(0, n, step)
    labels = [str(names[i]) for i in idx]
    size = 7 if n <= 16 else 6
    if axis in ("x", "both"):
        ax.set_xticks(idx, labels, rotation=90, fontsize=size)
    if axis in ("y", "both"):
        ax.set_yticks(idx, labels, fontsize=size)
    return step > 1


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots`` with a lazy matplotlib import and ``squeeze=False``."""
    import matplotlib.pyplot as plt

    kwargs.setdefault("squeeze", False)
    return plt.subplots(nrows, ncols, **kwargs)


def ylim_without_artifacts(ax: Any, t: np.ndarray, y: np.ndarray, x0: float, x1: float,
                           artifacts: Any) -> None:
    """Set the y-axis from the samples in ``x0..x1`` outside the stimulus artifacts.

    ``artifacts`` is a sequence of ``(start, end)`` times (s, as ``t``); the artifacts are
    then drawn clipped, so the responses fill the axis.
    """
    seen = (t >= x0) & (t <= x1)
    for a, b in artifacts:
        seen &= ~((t >= a - 2e-4) & (t <= b))
    if seen.any():
        lo, hi = float(np.nanmin(y[seen])), float(np.nanmax(y[seen]))
        pad = 0.12 * (hi - lo) or 1.0
        ax.set_ylim(lo - pad, hi + pad)


def log_frequency_axis(ax: Any, fmin: float, fmax: float) -> None:
    """A log frequency axis labelled in plain numbers (1, 2, 5, 10, 20, 50... Hz) without
    the crowded minor labels matplotlib adds over short ranges."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ticks = [m * 10.0 ** e for e in range(-2, 4) for m in (1, 2, 5)]
    ticks = [t for t in ticks if fmin <= t <= fmax]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
