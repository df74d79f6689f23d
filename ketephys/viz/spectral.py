"""Figures of :class:`~ketephys.spectral.Spectrum` and
:class:`~ketephys.spectral.CrossSpectrum`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._check import check_option
from .._docs import fill_doc
from .._result import finish_figure
from ._util import MAX_LABELS, label_channels, log_frequency_axis, subplots

__all__ = ["plot_spectrum", "plot_cross_spectrum"]

_BAND_COLOURS = ("#f0a500", "#3a6ea5", "#1d7a38", "#b3261e", "#7b3fa0")


@fill_doc
def plot_spectrum(spec: Any, picks: Sequence[str] | None = None, average: bool = False,
                  bands: Mapping[str, tuple[float, float]] | None = None,
                  show: bool | None = None) -> Any:
    """PSD per channel (or their mean) on log-log axes, bands shaded.

    Parameters
    ----------
    spec : Spectrum
    picks : list of str, optional
        Channel names (default all).
    average : bool
        Draw the mean over the picked channels (with the range between the 5th and 95th
        percentile across channels shaded) instead of one line per channel.
    bands : dict, optional
        ``name -> (lo, hi)`` Hz to shade.
    %(show)s

    %(returns_figure)s
    """
    names = list(spec.ch_names if picks is None else picks)
    data = spec.get_data(picks=names)
    units = spec.units or ["V^2/Hz"] * len(spec.ch_names)
    unit_set = sorted({units[spec.ch_names.index(c)] for c in names})
    freqs = np.asarray(spec.freqs, float)
    keep = freqs > 0  # log axis
    fig, axes = subplots(figsize=(6.0, 3.8))
    ax = axes[0, 0]
    if average or len(names) > 12:
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanpercentile(data, [5, 95], axis=0)
        ax.fill_between(freqs[keep], lo[keep], hi[keep], color="0.8",
                        label=f"5-95 % over {len(names)} channels")
        ax.plot(freqs[keep], np.nanmean(data, axis=0)[keep], color="k", lw=1.2,
                label="channel mean")
    else:
        for row, name in zip(data, names):
            ax.plot(freqs[keep], row[keep], lw=0.8, label=name)
    log_frequency_axis(ax, float(freqs[keep].min()), float(freqs.max()))
    ax.set_yscale("log")
    for (name, (b_lo, b_hi)), colour in zip((bands or {}).items(), _BAND_COLOURS):
        cut = f", data end at {freqs.max():g} Hz" if b_hi > freqs.max() else ""
        ax.axvspan(b_lo, min(b_hi, freqs.max()), color=colour, alpha=0.15,
                   label=f"{name} {b_lo:g}-{b_hi:g} Hz{cut}")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"PSD ({', '.join(unit_set).replace('^2', '²')})")
    method = spec.settings.get("method", "")
    ax.set_title(f"{method} PSD, {len(names)} channel{'s' * (len(names) != 1)}, "
                 f"K = {spec.k}", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2 if len(ax.get_lines()) > 6 else 1)
    return finish_figure(fig, show)


@fill_doc
def plot_cross_spectrum(cross: Any, measure: str = "msc", kind: str = "matrix",
                        pairs: Sequence[tuple[str, str]] | None = None,
                        show: bool | None = None) -> Any:
    """Coherence of a cross-spectrum: the channel x channel matrix (mean over the band
    bins) or the per-bin values of a few pairs.

    Parameters
    ----------
    cross : CrossSpectrum
    measure : {"msc", "coh", "imcoh", "wpli", "plv"}
    kind : {"matrix", "pairs"}
    pairs : list of (str, str), optional
        For ``kind="pairs"`` (default: the first channel with each of up to 8 others).
    %(show)s

    %(returns_figure)s

    Raises
    ------
    SettingsError
        When ``kind`` is neither ``"matrix"`` nor ``"pairs"``.
    """
    check_option("kind", kind, ("matrix", "pairs"))
    values = cross.measure(measure)
    names = list(cross.ch_names)
    freqs = np.asarray(cross.freqs, float)
    band = f"{freqs.min():g}-{freqs.max():g} Hz" if freqs.size else "no bins"
    if kind == "matrix":
        mat = values.mean(axis=0)
        side = float(np.clip(3.0 + 0.06 * len(names), 4.0, 9.0))
        fig, axes = subplots(figsize=(side + 1.0, side))
        ax = axes[0, 0]
        signed = measure == "imcoh"
        im = ax.imshow(mat, vmin=-1 if signed else 0, vmax=1,
                       cmap="RdBu_r" if signed else "magma")
        thinned = label_channels(ax, names)
        fig.colorbar(im, ax=ax, fraction=0.046, label=f"{measure} (unitless)")
        note = (f" (1 label in {int(np.ceil(len(names) / MAX_LABELS))})" if thinned
                else "")
        ax.set_title(f"{measure}, mean over {freqs.size} bins {band}{note}", fontsize=9)
        ax.set_xlabel("channel")
        ax.set_ylabel("channel")
        return finish_figure(fig, show)
    if pairs is None:
        pairs = [(names[0], b) for b in names[1:9]]
    fig, axes = subplots(figsize=(6.0, 3.6))
    ax = axes[0, 0]
    for a, b in pairs:
        i, j = names.index(a), names.index(b)
        ax.plot(freqs, values[:, i, j], "o-", ms=3, lw=1, label=f"{a}-{b}")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"{measure} (unitless)")
    ax.set_title(f"{measure} per pair, {band}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return finish_figure(fig, show)
