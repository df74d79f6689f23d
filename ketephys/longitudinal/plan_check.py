"""Check a planned design by simulation-estimation: predicted next to simulated precision.

:func:`simulate_design` draws ``n_studies`` studies of a :class:`StudyDesign` with the
marker simulator (:func:`ketephys.simulate.markers.simulate_marker_study`, one call per
region and arm, so that every region keeps its own SDs and every arm its own dose,
genotype, dose course and visits), fits each with :func:`fit_decay` exactly as a real
study would be fitted, and tabulates the spread of the log-tau estimates, the fitted
SEs, the CI widths and the rejection rate of the planned comparisons, next to what
:func:`expected_precision` and :func:`expected_power` predicted. It is the per-design
generalisation of :func:`ketephys.longitudinal.recovery_study` (which takes one shared
schedule and one set of SDs for every region).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._check import check_random_state
from ..simulate.markers import simulate_marker_study
from .decay import fit_decay
from .planning import (
    _COV_NAMES,
    Comparison,
    StudyDesign,
    expected_power,
    expected_precision,
)

__all__ = ["simulate_design", "DesignCheck"]

logger = logging.getLogger(__name__)


@dataclass
class DesignCheck:
    """Predicted and simulated precision of one design.

    Attributes
    ----------
    precision : DataFrame
        Per region: ``predicted_se_log_tau``, ``empirical_sd_log_tau`` (SD of the
        estimates over the studies) with its Monte Carlo error ``empirical_sd_mc_error``
        (``sd / sqrt(2 (n - 1))``), ``se_ratio`` (predicted / empirical),
        ``mean_fitted_se_log_tau``, ``predicted_ci_ratio`` and ``mean_ci_ratio``
        (simulated upper / lower CI bound, geometric mean) and ``coverage``.
    power : DataFrame
        Per comparison: ``predicted_power``, ``simulated_power`` (fraction of studies whose
        Wald test rejected, with the fit's own SEs) and its binomial ``mc_error``.
    estimates : DataFrame
        Per study and region: ``log_tau``, ``se_log_tau``, ``ci_low_h``, ``ci_high_h``
        and the log-tau covariate effects with their SEs.
    """

    precision: pd.DataFrame
    power: pd.DataFrame
    estimates: pd.DataFrame


def _scenario(design: StudyDesign, region) -> dict:
    return {"regions": {region.name: {"E0": 1.0, "A": region.amplitude, "tau_h": region.tau_h}},
            "kernel": region.kernel, "rise_fraction": region.rise_fraction,
            "dose_ref_mg_per_kg": design.dose_ref_mg_per_kg,
            "dose_amp_exponent": region.dose_amp_exponent,
            "dose_tau_exponent": region.dose_tau_exponent,
            "met_tau_factor": float(np.exp(region.log_met_tau)),
            "met_amp_factor": float(np.exp(region.log_met_amp)),
            "bsv_sd_amplitude": region.sd_log_amplitude, "bsv_sd_tau": region.sd_log_tau,
            "baseline_sd": region.baseline_sd, "noise_sd": region.residual_sd}


def simulate_study_table(design: StudyDesign, rng: np.random.Generator
                         ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One simulated study of ``design``: the tidy table and the dose-course table."""
    parts, courses = [], []
    for region in design.regions:
        for arm in design.arms:
            schedule = design.baseline_times()[::-1] + design.arm_times(arm)
            tab, _ = simulate_marker_study(
                _scenario(design, region), n_subjects=arm.n_subjects, regions=None,
                schedule=schedule, doses=arm.dose_mg_per_kg, infusions=list(arm.infusions),
                genotype_fraction_met=float(arm.met_carrier), seed=rng)
            tab["subject"] = arm.name + ":" + tab["subject"]
            parts.append(tab)
    table = pd.concat(parts, ignore_index=True)
    if all(len(a.infusions) == 1 for a in design.arms):
        return table, None
    for arm in design.arms:
        for sid in table.loc[table["subject"].str.startswith(arm.name + ":"), "subject"].unique():
            courses += [{"subject": sid, "t_h": t, "dose": arm.dose_mg_per_kg * d}
                        for t, d in arm.infusions]
    return table, pd.DataFrame(courses)


def simulate_design(design: StudyDesign, n_studies: int = 200,
                    seed: int | np.random.Generator | None = 0,
                    comparisons: Sequence[Comparison] = (), ci: str = "none",
                    level: float = 0.95) -> DesignCheck:
    """Simulate and fit ``n_studies`` studies of ``design``; compare with the prediction.

    Parameters
    ----------
    design : StudyDesign
        The design to check.
    n_studies : int
        Simulated studies.
    seed : int, Generator or None
        Seed (or generator) of the simulations and fits (default 0: the same studies
        every call).
    comparisons : sequence of Comparison
        Tests whose simulated power is reported.
    ci : {"none", "profile", "bootstrap", "both"}
        Interval method of :func:`fit_decay`; with ``"none"`` the simulated intervals are
        Wald intervals from the fitted SEs (fast), otherwise the fit's tau intervals.
    level : float
        Confidence level.

    Returns
    -------
    DesignCheck
        Predicted next to simulated precision and power, and the per-study estimates.
    """
    from scipy import stats

    rng = check_random_state(seed)
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for study in range(n_studies):
        table, course = simulate_study_table(design, rng)
        fit = fit_decay(table, covariates=design.covariates, ci=ci,
                        baseline_mode=design.baseline_mode,
                        random_effects=design.random_effects, schedule=course, level=level,
                        seed=rng, n_boot=200)
        summary = fit.summary().set_index("region")
        for g in fit.groups:
            name = str(g.key[-1])
            se = dict(zip(g.pm.beta_names, g.se()))
            lt = float(g.beta["log_tau"])
            lo = summary.loc[name].get("tau_ci_low_h", np.nan)
            hi = summary.loc[name].get("tau_ci_high_h", np.nan)
            if ci == "none" or not (np.isfinite(lo) and np.isfinite(hi)):
                lo, hi = np.exp(lt - z * se["log_tau"]), np.exp(lt + z * se["log_tau"])
            row = {"study": study, "region": name, "log_tau": lt, "se_log_tau": se["log_tau"],
                   "ci_low_h": lo, "ci_high_h": hi}
            for c in design.covariates:
                key = f"log_tau:{_COV_NAMES[c]}"
                row[key], row[f"se_{key}"] = float(g.beta[key]), se[key]
            rows.append(row)
        logger.info("design check: study %d/%d", study + 1, n_studies)
    est = pd.DataFrame(rows)
    return DesignCheck(_precision(design, est, level), _power(design, est, comparisons), est)


def _precision(design: StudyDesign, est: pd.DataFrame, level: float) -> pd.DataFrame:
    pred = expected_precision(design, level).set_index("region")
    out = []
    for region in design.regions:
        e = est[est["region"] == region.name]
        x = e["log_tau"].to_numpy(float)
        n = int(np.isfinite(x).sum())
        sd = float(np.nanstd(x, ddof=1))
        truth = design.reference_tau(region)
        ratio = np.log(e["ci_high_h"] / e["ci_low_h"])
        out.append({
            "region": region.name, "predicted_se_log_tau": pred.loc[region.name, "se_log_tau"],
            "empirical_sd_log_tau": sd, "empirical_sd_mc_error": sd / np.sqrt(2 * (n - 1)),
            "se_ratio": pred.loc[region.name, "se_log_tau"] / sd,
            "mean_fitted_se_log_tau": float(e["se_log_tau"].mean()),
            "predicted_ci_ratio": pred.loc[region.name, "ci_ratio"],
            "mean_ci_ratio": float(np.exp(np.nanmean(ratio))),
            "sd_log_ci_ratio": float(np.nanstd(ratio, ddof=1)),
            "bias_log_tau": float(np.nanmean(x) - np.log(truth)),
            "coverage": float(np.mean((e["ci_low_h"] <= truth) & (truth <= e["ci_high_h"]))),
            "n_studies": n})
    return pd.DataFrame(out)


def _power(design: StudyDesign, est: pd.DataFrame, comparisons: Sequence[Comparison]
           ) -> pd.DataFrame:
    if not comparisons:
        return pd.DataFrame(columns=["comparison", "predicted_power", "simulated_power",
                                     "mc_error"])
    pred = expected_power(design, comparisons)
    out = []
    for comp, (_, p) in zip(comparisons, pred.iterrows()):
        if comp.kind == "regions":
            wide = est.pivot(index="study", columns="region")
            diff = wide["log_tau"][comp.a] - wide["log_tau"][comp.b]
            se = np.hypot(wide["se_log_tau"][comp.a], wide["se_log_tau"][comp.b])
        else:
            key = f"log_tau:{_COV_NAMES['dose' if comp.kind == 'dose' else 'genotype']}"
            e = est[est["region"] == comp.region]
            scale = float(np.log(comp.a / comp.b)) if comp.kind == "dose" else 1.0
            diff, se = e[key] * scale, e[f"se_{key}"] * abs(scale)
        # a study rejects when its own Wald test (the fit's SEs) does
        z = (diff / se).to_numpy(float)
        reject = _rejects(z, comp)
        n = int(np.isfinite(z).sum())
        sim = float(np.mean(reject))
        out.append({"comparison": comp.label, "predicted_power": p["power"],
                    "simulated_power": sim, "mc_error": float(np.sqrt(sim * (1 - sim) / n)),
                    "n_studies": n})
    return pd.DataFrame(out)


def _rejects(z: np.ndarray, comp: Comparison) -> np.ndarray:
    from scipy import stats

    if comp.alternative == "greater":
        return z > stats.norm.isf(comp.alpha)
    if comp.alternative == "less":
        return z < -stats.norm.isf(comp.alpha)
    return np.abs(z) > stats.norm.isf(comp.alpha / 2)

