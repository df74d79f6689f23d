"""Simulation-estimation: does :func:`fit_decay` recover what was simulated?

Each study is drawn with :func:`ketephys.simulate.markers.simulate_marker_study` and fitted
with :func:`ketephys.longitudinal.fit_decay`; the estimates are compared with the truth
to give, per parameter, the relative bias, the RMSE and the coverage of the 95 %
intervals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_random_state
from ..simulate.markers import DEFAULT_SCHEDULE, simulate_marker_study
from .decay import fit_decay

__all__ = ["recovery_study", "RecoveryResult"]

logger = logging.getLogger(__name__)

#: Fixed-effect names of the fit -> truth keys of the simulator.
_EFFECT_TRUTH = {
    "log_A:log_dose": "dose_amp_exponent",
    "log_tau:log_dose": "dose_tau_exponent",
    "log_A:met_carrier": "log_met_amp",
    "log_tau:met_carrier": "log_met_tau",
}


@dataclass
class RecoveryResult:
    """Outcome of a simulation-estimation study.

    Attributes
    ----------
    summary : DataFrame
        One row per (group, parameter): ``true``, ``mean_estimate``, ``relative_bias``
        (mean estimate / true - 1; NaN when the truth is 0), ``bias``, ``rmse``,
        ``relative_rmse``, ``coverage`` (fraction of 95 % intervals containing the truth;
        NaN without intervals), ``n_valid`` and ``n_identifiable``.
    estimates : DataFrame
        Per study, group and parameter: ``true``, ``estimate``, ``ci_low``, ``ci_high``,
        ``identifiable``.
    """

    summary: pd.DataFrame
    estimates: pd.DataFrame

    def ordering_fraction(self, order: Sequence[str] = ("STR", "PFC", "HPC")) -> float:
        """Fraction of studies whose estimated taus are in ``order`` (longest first).

        Parameters
        ----------
        order : sequence of str
            Group names, from the longest expected tau to the shortest.

        Returns
        -------
        float
            The fraction of studies with ``tau(order[0]) > tau(order[1]) > ...``.
        """
        tau = self.estimates[self.estimates["parameter"] == "tau_h"].pivot(
            index="study", columns="group", values="estimate")
        ok = np.ones(len(tau), bool)
        for a, b in zip(order[:-1], order[1:]):
            ok &= (tau[a] > tau[b]).to_numpy()
        return float(ok.mean())

    def sign_fraction(self, parameter: str) -> float:
        """Fraction of (study, group) estimates of ``parameter`` with the true sign.

        Parameters
        ----------
        parameter : str
            A parameter of :attr:`estimates` (e.g. ``"log_tau:log_dose"``).

        Returns
        -------
        float
        """
        e = self.estimates[self.estimates["parameter"] == parameter]
        return float(np.mean(np.sign(e["estimate"]) == np.sign(e["true"])))


def recovery_study(
    scenario: str | Mapping[str, Any] = "default",
    n_studies: int = 200,
    n_subjects: int = 20,
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    seed: int | np.random.Generator | None = None,
    doses: float | Sequence[float] = (0.5,),
    genotype_fraction_met: float | None = None,
    covariates: Sequence[str] = (),
    ci: str = "profile",
    **fit_kwargs: Any,
) -> RecoveryResult:
    """Simulate ``n_studies`` studies, fit each and summarise bias, RMSE and CI coverage.

    Parameters
    ----------
    scenario : str or dict
        Marker scenario (see :func:`ketephys.simulate.markers.simulate_marker_study`).
    n_studies, n_subjects : int
        Simulated studies, and subjects per study.
    schedule : sequence of float
        Visit hours.
    seed : int, Generator or None
        Seed (or generator) of the simulations and of the fits' bootstraps.
    doses, genotype_fraction_met : float or sequence of float, float or None
        Passed to the simulator (per-subject doses, fraction of Met carriers).
    covariates : sequence of str
        Passed to :func:`fit_decay` (e.g. ``("dose", "genotype")``).
    ci : str
        Interval method of :func:`fit_decay` used for coverage.
    **fit_kwargs
        Other :func:`fit_decay` arguments.

    Returns
    -------
    RecoveryResult
        The per-study estimates and their summary (bias, RMSE, coverage).
    """
    rng = check_random_state(seed)
    rows = []
    for study in range(n_studies):
        table, truth = simulate_marker_study(scenario, n_subjects=n_subjects, regions=None,
                                             schedule=schedule, doses=doses,
                                             genotype_fraction_met=genotype_fraction_met,
                                             seed=rng)
        fit = fit_decay(table, covariates=covariates, ci=ci, seed=rng, **fit_kwargs)
        summ = fit.summary()
        eff = fit.effects()
        for g in fit.groups:
            name = g.key[-1]
            reg = truth["regions"][name]
            s = summ[summ[fit.key_names[-1]] == name].iloc[0]
            e = eff[eff[fit.key_names[-1]] == name].set_index("parameter")
            lo = s.get("tau_ci_low_h", np.nan)
            hi = s.get("tau_ci_high_h", np.nan)
            base = {"study": study, "group": name, "identifiable": bool(s["identifiable"])}
            rows.append({**base, "parameter": "tau_h", "true": reg["tau_h"],
                         "estimate": s["tau_h"], "ci_low": lo, "ci_high": hi})
            a_ci = (np.exp(e.loc["log_A", "ci_low"]), np.exp(e.loc["log_A", "ci_high"])) if (
                "log_A" in e.index) else (np.nan, np.nan)
            if "boot_ci_low" in e.columns and not np.isfinite(a_ci[0]):
                a_ci = (np.exp(e.loc["log_A", "boot_ci_low"]), np.exp(e.loc["log_A",
                                                                          "boot_ci_high"]))
            rows.append({**base, "parameter": "A", "true": abs(reg["A"]),
                         "estimate": abs(s["peak_effect"]), "ci_low": a_ci[0],
                         "ci_high": a_ci[1]})
            if g.random_effects:
                for par, key in (("bsv_sd_log_tau", "bsv_sd_tau"),
                                 ("bsv_sd_log_amplitude", "bsv_sd_amplitude"),
                                 ("residual_sd", "noise_sd")):
                    rows.append({**base, "parameter": par, "true": truth[key],
                                 "estimate": s[par], "ci_low": np.nan, "ci_high": np.nan})
            for par, key in _EFFECT_TRUTH.items():
                if par in e.index:
                    lo_col = "ci_low" if np.isfinite(e.loc[par, "ci_low"]) else "boot_ci_low"
                    hi_col = lo_col.replace("low", "high")
                    rows.append({**base, "parameter": par, "true": truth[key],
                                 "estimate": e.loc[par, "estimate"],
                                 "ci_low": e.loc[par, lo_col], "ci_high": e.loc[par, hi_col]})
        logger.info("recovery study %d/%d done", study + 1, n_studies)
    est = pd.DataFrame(rows)
    return RecoveryResult(summary=_summarise(est), estimates=est)


def _summarise(est: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (group, par), e in est.groupby(["group", "parameter"], sort=False):
        true = float(e["true"].iloc[0])
        x = e["estimate"].to_numpy(float)
        ok = np.isfinite(x)
        mean = float(np.mean(x[ok])) if ok.any() else np.nan
        has_ci = np.isfinite(e["ci_low"]).any() or np.isfinite(e["ci_high"]).any()
        cover = ((e["ci_low"].fillna(-np.inf) <= true) & (true <= e["ci_high"].fillna(np.inf)))
        out.append({
            "group": group, "parameter": par, "true": true, "mean_estimate": mean,
            "relative_bias": mean / true - 1.0 if true != 0 else np.nan,
            "bias": mean - true,
            "rmse": float(np.sqrt(np.mean((x[ok] - true) ** 2))) if ok.any() else np.nan,
            "relative_rmse": float(np.sqrt(np.mean((x[ok] / true - 1) ** 2))) if (
                ok.any() and true != 0) else np.nan,
            "coverage": float(cover[ok].mean()) if has_ci and ok.any() else np.nan,
            "n_valid": int(ok.sum()),
            "n_identifiable": int(e["identifiable"].sum()),
        })
    return pd.DataFrame(out)
