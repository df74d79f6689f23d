"""``plan_study``: the whole planning answer in one call (what ``ketephys plan`` prints).

Expected precision of the current schedule, the optimal schedule under the constraints,
power of the planned comparisons for both, the sample size for a target, and optionally
the simulation check of the recommended design, with a figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .optimal_design import (
    SampleSize,
    ScheduleConstraints,
    ScheduleOptimum,
    optimise_schedule,
    sample_size,
)
from .plan_check import DesignCheck, simulate_design
from .planning import Comparison, StudyDesign, expected_power, expected_precision

__all__ = ["plan_study", "StudyPlan"]


@dataclass
class StudyPlan:
    """The result of :func:`plan_study`.

    Attributes
    ----------
    current, recommended : StudyDesign
    optimum : ScheduleOptimum or None
        None when no optimisation was asked for (``optimise=False``).
    precision : DataFrame
        Per region and design (``"current"``, ``"recommended"``): tau, SE of log tau,
        expected 95 % CI.
    power : DataFrame
        Per comparison and design: expected power.
    sample_size : SampleSize or None
        For the recommended schedule.
    check : DesignCheck or None
        Simulated next to predicted precision of the recommended design.
    """

    current: StudyDesign
    recommended: StudyDesign
    optimum: ScheduleOptimum | None
    precision: pd.DataFrame
    power: pd.DataFrame
    sample_size: SampleSize | None = None
    check: DesignCheck | None = None

    def plot(self, n_points: int = 300):
        """Expected tau CIs per region (current vs recommended) and the decay curves with
        the visit times marked.

        Parameters
        ----------
        n_points : int
            Time points of each drawn curve.

        Returns
        -------
        matplotlib.figure.Figure
            Two panels: the CIs (log tau axis) and the typical subject's curves.
        """
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        regions = list(dict.fromkeys(self.precision["region"]))
        for j, (label, colour) in enumerate((("current", "0.45"), ("recommended", "C3"))):
            p = self.precision[self.precision["design"] == label].set_index("region")
            if p.empty:
                continue
            y = np.arange(len(regions)) + (0.15 if j else -0.15)
            tau = p.loc[regions, "tau_h"].to_numpy()
            err = np.vstack([tau - p.loc[regions, "ci_low_h"], p.loc[regions, "ci_high_h"] - tau])
            ax1.errorbar(tau, y, xerr=err, fmt="o", color=colour, capsize=4, label=label)
        ax1.set_yticks(np.arange(len(regions)), regions)
        ax1.set_xscale("log")
        ax1.set_xlabel("tau (h), expected 95 % CI")
        ax1.legend(loc="best", fontsize=8)
        ax1.set_title(f"N = {self.recommended.n_subjects}")
        t_max = max(self.current.times[-1], self.recommended.times[-1]) * 1.05
        t = np.linspace(0, t_max, n_points)
        for k, region in enumerate(self.recommended.regions):
            tau = self.recommended.reference_tau(region)
            if region.kernel == "bateman":
                from .models import bateman_kernel

                q = np.log(region.rise_fraction / (1 - region.rise_fraction))
                curve = bateman_kernel(t, np.log(tau), q)[0]
            else:
                curve = np.exp(-t / tau)
            ax2.plot(t, curve, color=f"C{k}", label=f"{region.name} (tau {tau:.0f} h)")
        for x in self.current.times:
            ax2.axvline(x, color="0.6", ls=":", lw=1)
        for x in self.recommended.times:
            ax2.axvline(x, color="C3", ls="--", lw=1)
        ax2.plot([], [], color="0.6", ls=":", label="current visits")
        ax2.plot([], [], color="C3", ls="--", label="recommended visits")
        ax2.set_xlabel("hours since dose")
        ax2.set_ylabel("change / peak change")
        ax2.legend(fontsize=8)
        fig.tight_layout()
        return fig

    def to_text(self) -> str:
        """Plain-text report: schedules, expected CIs, power, sample size, check.

        Returns
        -------
        str
            What ``ketephys plan`` prints.
        """
        lines = [f"current schedule (h):     {_fmt_times(self.current.times)}"]
        if self.optimum is not None:
            lines.append(f"recommended schedule (h): {_fmt_times(self.recommended.times)}   "
                         f"[{self.optimum.criterion}: {self.optimum.current_value:.4g} -> "
                         f"{self.optimum.value:.4g}; {self.optimum.seconds:.1f} s]")
            if len(self.recommended.arms) > 1:
                lines.append("recommended arms: " + ", ".join(
                    f"{a.name} n={a.n_subjects}" for a in self.recommended.arms))
        cols = ["region", "design", "tau_h", "se_log_tau", "ci_low_h", "ci_high_h"]
        lines += ["", "expected precision (Wald, FO Fisher information):",
                  self.precision[cols].to_string(index=False, float_format="%.3f")]
        if not self.power.empty:
            lines += ["", "expected power (Wald test on the log-tau difference):",
                      self.power.to_string(index=False, float_format="%.3f")]
        if self.sample_size is not None:
            ss = self.sample_size
            lines += ["", f"sample size ({ss.target}): "
                      + (f"{ss.n_per_arm} per arm" if ss.n_per_arm else "not reached")]
        if self.check is not None:
            lines += ["", "simulation check of the recommended design:",
                      self.check.precision[["region", "predicted_se_log_tau",
                                            "empirical_sd_log_tau", "empirical_sd_mc_error",
                                            "coverage"]].to_string(index=False,
                                                                   float_format="%.3f")]
            if not self.check.power.empty:
                lines.append(self.check.power.to_string(index=False, float_format="%.3f"))
        return "\n".join(lines)


def _fmt_times(times: Sequence[float]) -> str:
    return ", ".join(f"{t:.1f}" if t < 48 else f"{t:.1f} (d{t / 24:.1f})" for t in times)


def plan_study(
    design: StudyDesign,
    constraints: ScheduleConstraints | None = None,
    criterion: str = "mean_rse_tau",
    comparisons: Sequence[Comparison] = (),
    optimise: bool = True,
    allocation: bool = False,
    max_rse: float | None = None,
    target_power: float | None = None,
    n_simulations: int = 0,
    n_starts: int = 8,
    seed: int | None = 0,
) -> StudyPlan:
    """Plan a study: current vs optimal schedule, precision, power, sample size, check.

    Parameters
    ----------
    design : StudyDesign
        Regions, arms and the current schedule.
    constraints : ScheduleConstraints, optional
        For the optimisation (see :func:`optimise_schedule`).
    criterion : {"D", "mean_rse_tau", "max_rse_tau"}
    comparisons : sequence of Comparison
    optimise, allocation : bool
        Optimise the visit times (and the arm sizes).
    max_rse, target_power : float, optional
        Sample-size target: SE of log tau in every region, or the power of the first
        comparison.
    n_simulations : int
        Simulated studies checking the recommended design (0: no check).
    n_starts, seed :
        Of the optimiser; ``seed`` also seeds the simulation.

    Returns
    -------
    StudyPlan
    """
    optimum = None
    recommended = design
    if optimise:
        optimum = optimise_schedule(design, constraints, criterion=criterion,
                                    allocation=allocation, n_starts=n_starts, seed=seed)
        recommended = optimum.design
    prec, power = [], []
    for label, d in (("current", design), ("recommended", recommended)):
        if label == "recommended" and optimum is None:
            break
        prec.append(expected_precision(d).assign(design=label))
        if comparisons:
            power.append(expected_power(d, comparisons).assign(design=label))
    size = None
    if target_power is not None and comparisons:
        size = sample_size(recommended, comparison=comparisons[0], power=target_power)
    elif max_rse is not None:
        size = sample_size(recommended, max_rse=max_rse)
    check = None
    if n_simulations:
        check = simulate_design(recommended, n_studies=n_simulations, seed=seed,
                                comparisons=comparisons)
    return StudyPlan(design, recommended, optimum, pd.concat(prec, ignore_index=True),
                     pd.concat(power, ignore_index=True) if power else pd.DataFrame(),
                     size, check)
