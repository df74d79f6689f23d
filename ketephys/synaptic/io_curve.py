"""Input-output curves: response size against stimulus intensity, with a Boltzmann fit.

``response = top / (1 + exp((i50 - I) / k))`` is fitted by least squares to every sweep's
value (not to the means), giving ``top``, ``i50``, ``k`` and their standard errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._result import ResultMixin
from ..errors import AnalysisError
from ..recording import Recording
from .field import fepsp

__all__ = ["io_curve", "intensities_from_events", "IOCurve"]

_INTENSITY = re.compile(r"intensity\s*[=:]\s*([-+0-9.eE]+)")
_UNITS = {"slope": "V/s", "amplitude": "V", "volley_amplitude": "V"}


@fill_doc
@dataclass(repr=False)
class IOCurve(ResultMixin):
    """An input-output curve and its Boltzmann fit (:func:`io_curve`).

    Attributes
    ----------
    curve : DataFrame
        Per intensity: ``intensity``, ``n``, ``mean``, ``sem`` (and ``volley_mean``).
    fit : dict
        ``top``, ``i50``, ``k`` and ``top_se``, ``i50_se``, ``k_se`` (NaN if the fit
        failed); ``top`` in :attr:`unit`, ``i50`` and ``k`` in :attr:`intensity_unit`.
    points : DataFrame
        Every sweep: ``intensity``, ``value``, ``volley``.
    measure, unit : str
        The fEPSP measure and its unit (V/s for the slope, V for amplitudes).
    intensity_unit : str
        Unit of the stimulus intensity (``"a.u."`` when unknown).
    settings : dict
        The settings the curve was measured with.
    """

    curve: pd.DataFrame
    fit: dict[str, float]
    points: pd.DataFrame
    measure: str
    unit: str
    intensity_unit: str = "a.u."
    settings: dict[str, Any] = field(default_factory=dict)

    def get_data(self) -> np.ndarray:
        """Mean response per intensity.

        Returns
        -------
        ndarray, shape (n_intensities, 3)
            Intensity, mean and SEM (in :attr:`unit`).
        """
        return self.curve[["intensity", "mean", "sem"]].to_numpy(float)

    def to_data_frame(self) -> pd.DataFrame:
        """The curve (one row per intensity) with ``unit`` and the fit's parameters.

        Returns
        -------
        pandas.DataFrame
        """
        out = self.curve.copy()
        out["unit"] = self.unit
        for key, value in self.fit.items():
            out[f"fit_{key}"] = value
        return out

    def plot(self, show: bool | None = None) -> Any:
        """Sweeps, mean ± SEM per intensity and the Boltzmann fit.

        Parameters
        ----------
        %(show)s

        %(returns_figure)s
        """
        from ..viz.synaptic import plot_io_curve

        return plot_io_curve(self, show)

    def _repr_parts(self) -> list[str]:
        return [f"fEPSP {self.measure} ({self.unit})",
                f"{len(self.curve)} intensities, {len(self.points)} sweeps",
                f"I50 {self.fit.get('i50', float('nan')):.3g} {self.intensity_unit}",
                f"top {self.fit.get('top', float('nan')):.3g} {self.unit}"]


def intensities_from_events(rec: Recording) -> np.ndarray:
    """Per-sweep stimulus intensity from events described ``intensity=<value>``.

    Parameters
    ----------
    rec : Recording
        Episodic recording whose events carry a ``sweep``.

    Returns
    -------
    ndarray, shape (n_sweeps,)
        Intensity of every sweep (the unit of the events).

    Raises
    ------
    AnalysisError
        A sweep without an intensity event.
    """
    out = np.full(rec.n_sweeps, np.nan)
    for _, r in rec.events.iterrows():
        m = _INTENSITY.search(str(r["description"]))
        if m and not pd.isna(r["sweep"]):
            out[int(r["sweep"])] = float(m.group(1))
    if np.isnan(out).any():
        raise AnalysisError("stimulus intensity is not given for every sweep: pass "
                            "intensities=[...] or events 'intensity=<value>'", rec.source.path)
    return out


def io_curve(
    rec_or_table: Recording | pd.DataFrame,
    intensities: Sequence[float] | None = None,
    measure: str = "slope",
    stimulus: int = 1,
    intensity_unit: str = "a.u.",
    **fepsp_settings: Any,
) -> IOCurve:
    """Input-output curve of an fEPSP measure.

    Parameters
    ----------
    rec_or_table : Recording or DataFrame
        A recording (measured with :func:`~ketephys.synaptic.fepsp`) or its table.
    intensities : sequence of float, optional
        Intensity of every sweep (any unit, e.g. uA); default from ``intensity=<v>`` events.
    measure : {"slope", "amplitude", "volley_amplitude"}
    stimulus : int
        Which stimulus of each sweep.
    intensity_unit : str
        Unit of ``intensities`` (for tables and axis labels), e.g. ``"uA"``.

    Returns
    -------
    IOCurve
        ``curve`` (per intensity: ``intensity``, ``n``, ``mean``, ``sem``,
        ``volley_mean``) and ``fit`` (``top``, ``i50``, ``k`` and their standard errors;
        NaN if the fit failed).
    """
    from scipy.optimize import curve_fit

    if isinstance(rec_or_table, Recording):
        tab = fepsp(rec_or_table, **fepsp_settings)
        if intensities is None:
            intensities = intensities_from_events(rec_or_table)
    else:
        tab = rec_or_table
    if intensities is None:
        raise AnalysisError("io_curve needs intensities=[...] for a table")
    tab = tab[tab["stimulus"] == stimulus].sort_values("sweep")
    inten = np.asarray(intensities, float)
    if inten.size != tab["sweep"].max() + 1:
        raise AnalysisError(f"{inten.size} intensities for {tab['sweep'].max() + 1} sweeps")
    x = inten[tab["sweep"].to_numpy(int)]
    y = tab[measure].to_numpy(float)
    frame = pd.DataFrame({"intensity": x, "value": y,
                          "volley": tab["volley_amplitude"].to_numpy(float)})
    curve = frame.groupby("intensity").agg(n=("value", "size"), mean=("value", "mean"),
                                           sem=("value", "sem"),
                                           volley_mean=("volley", "mean")).reset_index()
    fit = dict.fromkeys(("top", "i50", "k", "top_se", "i50_se", "k_se"), float("nan"))
    ok = np.isfinite(y)
    if ok.sum() >= 4:
        top0 = y[ok][np.argmax(np.abs(y[ok]))]
        span = float(np.ptp(x[ok])) or 1.0
        try:
            popt, pcov = curve_fit(lambda i, top, i50, k: top / (1 + np.exp((i50 - i) / k)),
                                   x[ok], y[ok], p0=(top0, float(np.median(x[ok])), span / 8),
                                   maxfev=10000)
            err = np.sqrt(np.diag(pcov))
            fit = {"top": popt[0], "i50": popt[1], "k": popt[2], "top_se": err[0],
                   "i50_se": err[1], "k_se": err[2]}
        except (RuntimeError, ValueError):
            pass
    return IOCurve(curve, {k: float(v) for k, v in fit.items()}, frame, measure,
                   _UNITS.get(measure, ""), intensity_unit,
                   {"measure": measure, "stimulus": stimulus, **fepsp_settings})
