"""Pre/post comparison of excitability with trial-level bootstrap confidence intervals.

Both recordings are cleaned and averaged with the same settings. For each of
``n_boot`` bootstrap draws, the trials of each recording are resampled with replacement,
the averages recomputed and the measures taken from them (GMFP areas; peak-to-peak
amplitudes of the ROI signal, or of ``channel``, with peaks re-found in every draw). The
interval is the percentile interval of the draws (``ci`` level) for the pre value, the post
value, ``post - pre`` and ``post / pre``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_random_state
from .._docs import fill_doc
from .._result import ResultMixin
from ..errors import AnalysisError
from ..recording import Recording
from .clean import CleanResult, clean
from .excitability import GMFP_WINDOWS, PEAK_TO_PEAK, _area_name, excitability_measures
from .gmfp import gmfp, roi_average
from .peaks import DEFAULT_WINDOWS, find_peaks
from .settings import clean_options_model, tep_options_model
from .tep import TEPResult, tep

__all__ = ["compare", "bootstrap_measures", "BootstrapMeasures"]


def _unit(measure: str) -> str:
    return "V*s" if measure.startswith("gmfp_area") else "V"


@fill_doc
@dataclass(repr=False)
class BootstrapMeasures(ResultMixin):
    """Excitability measures of a TEP and their bootstrap draws over trials.

    Attributes
    ----------
    point : dict
        Measure -> value of the full average.
    draws : DataFrame
        ``(n_boot, n_measures)``: the measures of every bootstrap draw.
    n_trials : int
        Trials resampled.
    units : dict
        Measure -> unit (``V*s`` for GMFP areas, ``V`` for amplitudes).
    """

    point: dict[str, float]
    draws: pd.DataFrame
    n_trials: int
    units: dict[str, str] = field(default_factory=dict)

    @property
    def n_boot(self) -> int:
        """Bootstrap draws."""
        return len(self.draws)

    def get_data(self) -> np.ndarray:
        """The draws.

        Returns
        -------
        ndarray, shape (n_boot, n_measures)
            Columns in the order of :attr:`point`.
        """
        return self.draws[list(self.point)].to_numpy(float)

    def to_data_frame(self) -> pd.DataFrame:
        """The draws as a table (one row per draw, one column per measure).

        Returns
        -------
        pandas.DataFrame
        """
        return self.draws[list(self.point)].copy()

    def ci(self, level: float = 0.95) -> pd.DataFrame:
        """Percentile interval of every measure.

        Parameters
        ----------
        level : float
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            ``measure``, ``value`` (full average), ``ci_low``, ``ci_high``, ``unit``.
        """
        q = [100 * (1 - level) / 2, 100 * (1 + level) / 2]
        rows = []
        for m, v in self.point.items():
            x = self.draws[m].to_numpy(float)
            x = x[np.isfinite(x)]
            lo, hi = np.percentile(x, q) if x.size else (np.nan, np.nan)
            rows.append({"measure": m, "value": v, "ci_low": float(lo), "ci_high": float(hi),
                         "unit": self.units.get(m, "")})
        return pd.DataFrame(rows)

    def plot(self, level: float = 0.95, show: bool | None = None) -> Any:
        """Histogram of the draws of every measure with its value and CI.

        Parameters
        ----------
        level : float
            CI level.
        %(show)s

        %(returns_figure)s
        """
        from ..viz.tms import plot_bootstrap

        return plot_bootstrap(self, level, show)

    def _repr_parts(self) -> list[str]:
        return [f"{len(self.point)} measures", f"{self.n_boot} draws over "
                f"{self.n_trials} trials", "units V*s (GMFP areas), V (amplitudes)"]


def _measures(avg: np.ndarray, times: np.ndarray, names: list[str],
              signal_channels: Sequence[str] | None, n_neighbours: int
              ) -> dict[str, float]:
    g = gmfp(avg)
    lookup: dict[tuple[str, str], tuple[float, bool, bool]] = {}
    labels: list[str] = []
    if signal_channels:
        sig = roi_average(avg, names, signal_channels)[None]
        windows = {c: DEFAULT_WINDOWS[c] for pair in PEAK_TO_PEAK.values() for c in pair}
        found = find_peaks(sig, times, windows, n_neighbours)
        for comp, (_, amp) in found.items():
            lookup[(comp, "ROI")] = (float(amp[0]), bool(np.isfinite(amp[0])), True)
        labels = ["ROI"]
    meas = excitability_measures(avg, times, g, lookup, labels)
    return {m: v for (m, _), (v, _) in meas.items()}


def bootstrap_measures(result: TEPResult, signal_channels: Sequence[str] | None = None,
                       n_boot: int = 500, seed: int | np.random.Generator | None = 0,
                       n_neighbours: int = 5) -> BootstrapMeasures:
    """Measures of a TEP and their bootstrap draws over trials.

    Parameters
    ----------
    result : TEPResult
    signal_channels : list of str, optional
        Channels whose signed average gives the peak-to-peak measures.
    n_boot : int
        Draws.
    seed : int, Generator or None
        Random seed.
    n_neighbours : int
        Peak must exceed this many samples on each side.

    Returns
    -------
    BootstrapMeasures
        ``point`` (the measures of the full average) and ``draws`` (a
        ``(n_boot, n_measures)`` table).
    """
    rng = check_random_state(seed)
    ep = result.epochs
    n = len(ep)
    if n < 2:
        raise AnalysisError("a bootstrap over trials needs at least two trials")
    point = _measures(ep.mean(axis=0), result.times, result.ch_names, signal_channels,
                      n_neighbours)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        draws.append(_measures(ep[idx].mean(axis=0), result.times, result.ch_names,
                               signal_channels, n_neighbours))
    return BootstrapMeasures(point, pd.DataFrame(draws, columns=list(point)), int(n),
                             {m: _unit(m) for m in point})


def compare(
    pre: Recording | CleanResult | TEPResult,
    post: Recording | CleanResult | TEPResult,
    roi: Sequence[str] | None = None,
    n_boot: int = 500,
    ci: float = 0.95,
    seed: int = 0,
    clean_options: dict[str, Any] | None = None,
    tep_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Excitability before and after a dose, their difference and bootstrap CIs.

    Parameters
    ----------
    pre, post : Recording, CleanResult or TEPResult
        Baseline and post-dose recordings (raw recordings are cleaned with
        :func:`~ketephys.tms.clean`'s defaults updated by ``clean_options``).
    roi : list of str, optional
        Channels whose signed average gives the peak-to-peak measures (without it only the
        GMFP areas are compared).
    n_boot : int
        Bootstrap draws per recording.
    ci : float
        Confidence level of the percentile intervals.
    seed : int
        Random seed.
    clean_options, tep_options : dict, optional
        Settings for :func:`ketephys.tms.clean` and :func:`ketephys.tms.tep`.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``pre``, ``post``, ``difference`` (post - pre), ``ratio``
        (post / pre), each with ``*_ci_low``/``*_ci_high``; ``unit``, ``n_trials_pre``,
        ``n_trials_post``, ``n_boot``.
    """
    c_opts = clean_options_model().resolve(clean_options, where="clean_options").to_dict()
    t_opts = {**tep_options_model().resolve(tep_options, where="tep_options").to_dict(),
              "n_permutations": 0}

    def as_tep(x: Any) -> TEPResult:
        if isinstance(x, TEPResult):
            return x
        if isinstance(x, Recording):
            x = clean(x, **c_opts)
        return tep(x, **t_opts)

    a, b = as_tep(pre), as_tep(post)
    rng = np.random.default_rng(seed)
    boot_a = bootstrap_measures(a, roi, n_boot, rng)
    boot_b = bootstrap_measures(b, roi, n_boot, rng)
    pa, da, pb, db = boot_a.point, boot_a.draws, boot_b.point, boot_b.draws
    lo_q, hi_q = 100 * (1 - ci) / 2, 100 * (1 + ci) / 2
    rows = []
    for m in pa:
        unit = _unit(m)
        diff = db[m].to_numpy() - da[m].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = db[m].to_numpy() / da[m].to_numpy()
            point_ratio = pb[m] / pa[m] if pa[m] else np.nan

        def q(x: np.ndarray) -> tuple[float, float]:
            x = x[np.isfinite(x)]
            if x.size < 0.9 * n_boot:
                return float("nan"), float("nan")
            lo, hi = np.percentile(x, [lo_q, hi_q])
            return float(lo), float(hi)

        row = {"measure": m, "unit": unit, "pre": pa[m], "post": pb[m],
               "difference": pb[m] - pa[m], "ratio": point_ratio}
        for key, draws in (("pre", da[m].to_numpy()), ("post", db[m].to_numpy()),
                           ("difference", diff), ("ratio", ratio)):
            row[f"{key}_ci_low"], row[f"{key}_ci_high"] = q(draws)
        row.update({"n_trials_pre": a.n_trials, "n_trials_post": b.n_trials,
                    "n_boot": n_boot})
        rows.append(row)
    order = [_area_name(w) for w in GMFP_WINDOWS] + list(PEAK_TO_PEAK)
    frame = pd.DataFrame(rows)
    frame["_o"] = frame["measure"].map({m: i for i, m in enumerate(order)})
    return frame.sort_values("_o").drop(columns="_o").reset_index(drop=True)
