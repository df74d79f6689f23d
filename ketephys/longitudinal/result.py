"""DecayFit: the result of :func:`ketephys.longitudinal.fit_decay`.

One :class:`GroupFit` per group holds the estimates, the profile intervals and the
bootstrap replicates; :class:`DecayFit` tabulates them (:meth:`DecayFit.summary`,
:meth:`DecayFit.effects`), predicts dose courses (:meth:`DecayFit.predict`), compares
groups (:meth:`DecayFit.compare`) and plots (:meth:`DecayFit.plot`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_random_state
from .._docs import fill_doc
from ..errors import AnalysisError
from .design import Covariate, GroupData
from .fit import ParamMap, State
from .models import DecayModel, bateman_kernel, bateman_peak
from .profile import ProfileInterval

__all__ = ["GroupFit", "DecayFit", "derived_quantities", "compare_models"]

#: The effect has "worn off" when it falls below this fraction of its peak.
WEAR_OFF_FRACTION = 0.1


def derived_quantities(model: DecayModel, beta: np.ndarray, names: list[str]
                       ) -> dict[str, np.ndarray]:
    """Population-typical (reference covariates) quantities from the fixed effects.

    Parameters
    ----------
    model : DecayModel
        The fitted model (kernel and sign).
    beta : ndarray, shape (..., p)
        Fixed effects (batched: e.g. bootstrap replicates).
    names : list of str
        Names of the entries of ``beta`` (:attr:`ParamMap.beta_names`).

    Returns
    -------
    dict of str to ndarray
        ``E0``, ``A`` (signed amplitude), ``tau_h``, ``half_life_h``, ``peak_time_h``,
        ``peak_effect`` and ``t10_h`` (time to fall to :data:`WEAR_OFF_FRACTION` of the
        peak), plus ``tau_rise_h`` for the Bateman kernel; each of shape ``(...)``.
    """
    e0 = beta[..., names.index("E0")]
    amp = model.sign * np.exp(beta[..., names.index("log_A")])
    tau = np.exp(beta[..., names.index("log_tau")])
    out = {"E0": e0, "A": amp, "tau_h": tau, "half_life_h": tau * np.log(2.0)}
    if model.kernel == "exponential":
        out["peak_time_h"] = np.zeros_like(tau)
        out["peak_effect"] = amp
        out["t10_h"] = tau * np.log(1.0 / WEAR_OFF_FRACTION)
        return out
    q = beta[..., names.index("logit_rise")]
    tau_r = tau / (1.0 + np.exp(-q))
    t_peak = bateman_peak(tau, tau_r)
    k_peak = bateman_kernel(t_peak, np.log(tau), q)[0]
    # bisection in log time for K(t) = fraction * K(t_peak), t > t_peak
    lo, hi = np.log(t_peak), np.log(t_peak + 50.0 * tau)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = bateman_kernel(np.exp(mid), np.log(tau), q)[0] > WEAR_OFF_FRACTION * k_peak
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    out.update(tau_rise_h=tau_r, peak_time_h=t_peak, peak_effect=amp * k_peak,
               t10_h=np.exp(0.5 * (lo + hi)))
    return out


@dataclass
class GroupFit:
    """The fit of one group.

    Attributes
    ----------
    key : tuple
        The group's key values (e.g. ``("PFC",)``).
    data : GroupData
        The data fitted.
    pm : ParamMap
        The model's parameter map (names of ``beta``).
    state : State
        The estimates (batch size 1).
    fixed : ndarray of bool, shape (p,)
        Fixed effects held at their start value (E0 with the pre-dose mean subtracted).
    random_effects : bool
        Population fit (True) or pooled least squares.
    loglik : float
        Log-likelihood (Laplace approximation with random effects).
    cov_beta : ndarray, shape (p, p)
        Approximate covariance of ``beta``.
    profile : dict of str to ProfileInterval
        Profile intervals by ``beta`` name (empty without ``ci="profile"``/``"both"``).
    boot : State or None
        The bootstrap replicates' estimates.
    boot_idx : ndarray or None
        Their subject indices, shape (n_boot, n_subjects).
    identifiable : bool
        False when tau cannot be pinned down by these data (``reason`` says why).
    reason : str
        Why tau is not identifiable ("" when it is).
    """

    key: tuple
    data: GroupData
    pm: ParamMap
    state: State
    fixed: np.ndarray
    random_effects: bool
    loglik: float
    cov_beta: np.ndarray
    profile: dict[str, ProfileInterval] = field(default_factory=dict)
    boot: State | None = None
    boot_idx: np.ndarray | None = None
    identifiable: bool = True
    reason: str = ""

    @property
    def n_params(self) -> int:
        k = int((~self.fixed).sum())
        return k + (self.pm.n_re + 1 if self.random_effects else 1)

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self.n_params * np.log(self.data.n_obs) - 2 * self.loglik

    @property
    def beta(self) -> pd.Series:
        return pd.Series(self.state.beta[0], index=self.pm.beta_names)

    def derived(self) -> dict[str, float]:
        """The typical subject's quantities at the estimates.

        Returns
        -------
        dict of str to float
            As :func:`derived_quantities` (``tau_h``, ``half_life_h``, ``peak_effect``...).
        """
        return {k: float(v) for k, v in derived_quantities(
            self.pm.model, self.state.beta[0], self.pm.beta_names).items()}

    def boot_derived(self) -> dict[str, np.ndarray] | None:
        """The typical subject's quantities of every converged bootstrap replicate.

        Returns
        -------
        dict of str to ndarray or None
            As :func:`derived_quantities`, one value per replicate; None without a
            bootstrap.
        """
        if self.boot is None:
            return None
        ok = self.boot.converged
        return derived_quantities(self.pm.model, self.boot.beta[ok], self.pm.beta_names)

    def se(self) -> np.ndarray:
        """Approximate standard errors of ``beta`` (0 for fixed entries).

        Returns
        -------
        ndarray, shape (p,)
            Square roots of the diagonal of :attr:`cov_beta`, estimation scale.
        """
        return np.sqrt(np.maximum(np.diagonal(self.cov_beta), 0.0))


def _nearest_psd(cov: np.ndarray) -> np.ndarray:
    """Symmetrised covariance with negative eigenvalues (rounding, flat directions) set to 0."""
    sym = 0.5 * (cov + cov.T)
    w, v = np.linalg.eigh(sym)
    return (v * np.maximum(w, 0.0)) @ v.T


def _pct(x: np.ndarray, level: float) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size < 10:
        return np.nan, np.nan
    a = 100 * (1 - level) / 2
    lo, hi = np.percentile(x, [a, 100 - a])
    return float(lo), float(hi)


@dataclass
class DecayFit:
    """Per-group decay fits with uncertainty.

    Attributes
    ----------
    groups : list of GroupFit
        One per group, in key order.
    key_names : list of str
        Names of the group key columns (e.g. ``["region"]`` or ``["measure", "region"]``).
    covariates : list of Covariate
        The encoded covariates (shared by the groups).
    settings : dict
        The arguments of :func:`fit_decay`.
    level : float
        Confidence level of the intervals.
    """

    groups: list[GroupFit]
    key_names: list[str]
    covariates: list[Covariate]
    settings: dict[str, Any]
    level: float = 0.95

    # ------------------------------------------------------------------ lookup
    def __getitem__(self, key: Any) -> GroupFit:
        key = key if isinstance(key, tuple) else (key,)
        for g in self.groups:
            if g.key == key or (len(key) == 1 and g.key[-1] == key[0]):
                return g
        raise AnalysisError(f"no group {key!r} in this fit (groups: {[g.key for g in self.groups]})")

    def _key_dict(self, g: GroupFit) -> dict[str, Any]:
        if not self.key_names:
            return {"group": "all"}
        return dict(zip(self.key_names, g.key))

    # ------------------------------------------------------------------ tables
    def summary(self) -> pd.DataFrame:
        """One row per group: tau with CI, half-life, peak, wear-off time, variability, fit.

        Times are in hours, amplitudes in the marker's unit (the change from the pre-dose
        baseline with ``baseline_mode="pre-dose"``); all values are for the typical subject at
        the reference covariates. The CLI, the pipeline and the tutorials read these
        column names: they are a stable interface.

        Returns
        -------
        pandas.DataFrame
            Columns, in order (those marked "optional" are present only when they apply):

            - group key columns (e.g. ``region``; ``measure`` first for a long table
              with several measures; ``group`` = ``"all"`` with ``group=None``);
            - ``identifiable`` and ``identifiability_reason`` (empty when identifiable;
              otherwise why tau is not trusted: a flat profile, a CI spanning many
              folds, tau outside the visit times, too few post-dose visits or
              subjects): first, so a tau is never read without them;
            - ``model``: ``"exponential"`` or ``"bateman"``, ``+tolerance``/``+slowing``
              for the repeated-dose variants;
            - ``tau_h``: decay time constant (h);
            - ``tau_ci_low_h``, ``tau_ci_high_h`` (optional): its CI (profile likelihood; the
              bootstrap percentile interval when ``ci="bootstrap"``; absent with
              ``ci="none"``); +-inf when the profile never reaches the critical value;
            - ``tau_boot_ci_low_h``, ``tau_boot_ci_high_h`` (optional): bootstrap percentile CI
              when ``ci="both"``;
            - ``ci_method``: the ``ci`` argument;
            - ``half_life_h`` (``tau ln 2``) and ``half_life_ci_low_h``,
              ``half_life_ci_high_h`` (optional; profile);
            - ``peak_effect`` (signed, marker unit) and ``peak_time_h`` (0 for the
              exponential);
            - ``t10_h``: time for the effect to fall to 10 % of its peak
              (:data:`WEAR_OFF_FRACTION`) and ``t10_ci_low_h``, ``t10_ci_high_h`` (optional);
            - ``tau_rise_h`` (optional: Bateman);
            - ``baseline`` (estimated E0, or the mean pre-dose value) and
              ``baseline_estimated``;
            - ``bsv_sd_log_amplitude``, ``bsv_sd_log_tau``, ``bsv_sd_baseline``:
              between-subject SDs (log scale for A and tau; NaN without random effects);
            - ``residual_sd``;
            - ``n_subjects``, ``n_obs``, ``loglik``, ``aic``, ``bic``, ``random_effects``;
            - ``n_boot_ok`` (optional): converged bootstrap replicates.
        """
        return pd.DataFrame([self._summary_row(g) for g in self.groups])

    def _summary_row(self, g: GroupFit) -> dict[str, Any]:
        """One group's :meth:`summary` row (its columns in their order)."""
        d = g.derived()
        row: dict[str, Any] = self._key_dict(g)
        row["identifiable"] = g.identifiable
        row["identifiability_reason"] = g.reason
        row["model"] = g.pm.model.kernel + ("" if g.pm.model.variant == "none"
                                            else f"+{g.pm.model.variant}")
        row["tau_h"] = d["tau_h"]
        prof = g.profile.get("log_tau")
        ci = self.settings.get("ci", "profile")
        lo = hi = np.nan
        if prof is not None:
            lo, hi = np.exp(prof.lower), np.exp(prof.upper)
            row["tau_ci_low_h"], row["tau_ci_high_h"] = lo, hi
        bd = g.boot_derived()
        if bd is not None:
            blo, bhi = _pct(bd["tau_h"], self.level)
            if prof is None:
                row["tau_ci_low_h"], row["tau_ci_high_h"] = blo, bhi
            else:
                row["tau_boot_ci_low_h"], row["tau_boot_ci_high_h"] = blo, bhi
        row["ci_method"] = ci
        row["half_life_h"] = d["half_life_h"]
        if prof is not None:
            row["half_life_ci_low_h"], row["half_life_ci_high_h"] = lo * np.log(2), hi * np.log(2)
        row["peak_effect"] = d["peak_effect"]
        row["peak_time_h"] = d["peak_time_h"]
        row["t10_h"] = d["t10_h"]
        if prof is not None and g.pm.model.kernel == "exponential":
            row["t10_ci_low_h"], row["t10_ci_high_h"] = lo * np.log(10), hi * np.log(10)
        elif bd is not None:
            row["t10_ci_low_h"], row["t10_ci_high_h"] = _pct(bd["t10_h"], self.level)
        if "tau_rise_h" in d:
            row["tau_rise_h"] = d["tau_rise_h"]
        row["baseline"] = d["E0"] if not g.pm.fixed_e0 else float(np.nanmean(
            g.data.pre_dose_mean))
        row["baseline_estimated"] = not g.pm.fixed_e0
        row.update(_variability_columns(g))
        row["n_subjects"] = g.data.n_subjects
        row["n_obs"] = g.data.n_obs
        row["loglik"] = g.loglik
        row["aic"] = g.aic
        row["bic"] = g.bic
        row["random_effects"] = g.random_effects
        if g.boot is not None:
            row["n_boot_ok"] = int(g.boot.converged.sum())
        return row

    def effects(self) -> pd.DataFrame:
        """Every fixed effect (estimation scale) per group with its profile / bootstrap CI.

        Returns
        -------
        pandas.DataFrame
            One row per group and free fixed effect: group key columns, ``parameter``,
            ``estimate``, ``se``, ``ci_low``/``ci_high`` (profile; NaN when not
            profiled) and, with a bootstrap, ``boot_ci_low``/``boot_ci_high``.
        """
        rows = []
        for g in self.groups:
            se = g.se()
            for k, name in enumerate(g.pm.beta_names):
                if g.fixed[k]:
                    continue
                row = self._key_dict(g)
                row.update(parameter=name, estimate=float(g.state.beta[0, k]), se=float(se[k]))
                prof = g.profile.get(name)
                row["ci_low"] = prof.lower if prof else np.nan
                row["ci_high"] = prof.upper if prof else np.nan
                if g.boot is not None:
                    row["boot_ci_low"], row["boot_ci_high"] = _pct(
                        g.boot.beta[g.boot.converged, k], self.level)
                rows.append(row)
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ comparisons
    def compare(self, group_a: Any, group_b: Any) -> dict[str, float | str]:
        """Ratio of taus ``tau_a / tau_b`` with a CI.

        With bootstrap replicates drawn on the same subjects for both groups (the default
        when both groups have the same subjects), the percentile interval of the paired
        ratio; otherwise a Wald interval on the log ratio from the profile intervals
        (treating the groups as independent).

        Parameters
        ----------
        group_a, group_b : Any
            Group keys (a tuple, or the last key value such as ``"PFC"``).

        Returns
        -------
        dict
            ``ratio``, ``ci_low``, ``ci_high``, ``p_value`` (of ratio = 1) and ``method``.
        """
        a, b = self[group_a], self[group_b]
        ta, tb = a.derived()["tau_h"], b.derived()["tau_h"]
        ratio = ta / tb
        if (a.boot is not None and b.boot is not None and a.boot_idx is not None
                and b.boot_idx is not None and a.boot_idx.shape == b.boot_idx.shape
                and np.array_equal(a.boot_idx, b.boot_idx)
                and np.array_equal(a.data.subjects, b.data.subjects)):
            ok = a.boot.converged & b.boot.converged
            ka, kb = a.pm.beta_names.index("log_tau"), b.pm.beta_names.index("log_tau")
            r = np.exp(a.boot.beta[ok, ka] - b.boot.beta[ok, kb])
            lo, hi = _pct(r, self.level)
            p = 2 * min(np.mean(r <= 1.0), np.mean(r >= 1.0))
            return {"ratio": ratio, "ci_low": lo, "ci_high": hi, "p_value": float(min(p, 1.0)),
                    "method": "paired subject bootstrap"}
        from scipy import stats

        ses = []
        for g in (a, b):
            prof = g.profile.get("log_tau")
            if prof is None or not np.isfinite(prof.upper - prof.lower):
                k = g.pm.beta_names.index("log_tau")
                ses.append(g.se()[k])
            else:
                ses.append((prof.upper - prof.lower) / (2 * np.sqrt(prof.critical)))
        se = float(np.hypot(*ses))
        z = stats.norm.ppf(0.5 + self.level / 2)
        return {"ratio": ratio, "ci_low": ratio * np.exp(-z * se), "ci_high": ratio * np.exp(z * se),
                "p_value": float(2 * stats.norm.sf(abs(np.log(ratio)) / se)),
                "method": "Wald on log ratio from profile intervals (independent groups)"}

    # ------------------------------------------------------------------ prediction
    def predict(self, times: np.ndarray, schedule: list[tuple[float, float]] | None = None,
                groups: list[Any] | None = None, level: float | None = None,
                n_draws: int = 1000, seed: int | np.random.Generator | None = 0
                ) -> pd.DataFrame:
        """Predict the typical response to a dose course, with confidence and prediction bands.

        Parameters
        ----------
        times : array
            Hours since the first dose of ``schedule``.
        schedule : list of (t_h, dose), optional
            Dose course (default: the single dose of the fit). Doses are scaled by
            ``(D_j / D_1) ** gamma`` with ``gamma`` estimated when the model has it, else
            the dose covariate's effect on log A, else 1 (linear).
        groups : list, optional
            Groups to predict (default all).
        level : float, optional
            Band level (default the fit's level).
        n_draws : int
            Parameter draws when there is no bootstrap (multivariate normal on beta).
        seed : int, Generator or None
            Seed (or generator) of the draws (default 0: the same bands every call).

        Returns
        -------
        pandas.DataFrame
            Group key columns, ``hours``, ``fit`` (typical subject, reference covariates),
            ``ci_low``/``ci_high`` (uncertainty of the typical curve: bootstrap
            percentiles, or normal draws of beta) and ``pi_low``/``pi_high`` (a new
            subject's single observation: adds between-subject variability and residual
            noise). On the fitted scale: change from the pre-dose baseline when the fit
            used ``baseline_mode="pre-dose"``.
        """
        level = self.level if level is None else level
        rng = check_random_state(seed)
        times = np.asarray(times, dtype=float)
        sched = [(0.0, 1.0)] if schedule is None else sorted((float(t), float(d))
                                                             for t, d in schedule)
        dose_t = np.array([s[0] for s in sched])[None]
        dose_amt = np.array([s[1] for s in sched])[None]
        out = []
        for g in (self.groups if groups is None else [self[k] for k in groups]):
            names = g.pm.beta_names
            model = g.pm.model
            gamma = 1.0
            if model.estimate_gamma:
                gamma = float(g.state.beta[0, names.index("gamma")])
            elif "log_A:log_dose" in names:
                gamma = float(g.state.beta[0, names.index("log_A:log_dose")])
            pmod = DecayModel(kernel=model.kernel, variant=model.variant, estimate_gamma=False,
                              gamma_fixed=gamma, sign=model.sign)
            pidx = [names.index(m) for m in model.param_names if m != "gamma"]
            if g.boot is not None and g.boot.converged.sum() >= 20:
                draws = g.boot.beta[g.boot.converged]
            else:
                draws = rng.multivariate_normal(g.state.beta[0], _nearest_psd(g.cov_beta),
                                                size=n_draws, method="eigh",
                                                check_valid="ignore")
            # draws beyond the estimator's parameter bounds are not models it could fit
            draws = g.pm.clip(draws.copy())
            def curve(b: np.ndarray, pidx=pidx, pmod=pmod) -> np.ndarray:
                p = b[:, pidx]
                tt = np.broadcast_to(times, (len(p), times.size))
                return pmod.evaluate(tt, p, np.repeat(dose_t, len(p), 0),
                                     np.repeat(dose_amt, len(p), 0), jacobian=False)[0]
            typical = curve(g.state.beta[:1])[0]
            cur = curve(draws)
            a = 100 * (1 - level) / 2
            ci = np.percentile(cur, [a, 100 - a], axis=0)
            nd = draws.copy()
            if g.random_effects:
                eta = rng.normal(size=(len(nd), g.pm.n_re)) * g.state.omega[0]
                for j, m in enumerate(g.pm.random):
                    nd[:, names.index(m)] += eta[:, j]
                noise = g.state.sigma[0]
            else:
                noise = float(np.sqrt(g.state.objective[0] / max(
                    g.data.n_obs - int((~g.fixed).sum()), 1)))
            new = curve(nd) + rng.normal(size=(len(nd), times.size)) * noise
            pi = np.percentile(new, [a, 100 - a], axis=0)
            frame = pd.DataFrame({"hours": times, "fit": typical, "ci_low": ci[0],
                                  "ci_high": ci[1], "pi_low": pi[0], "pi_high": pi[1]})
            for k, v in reversed(list(self._key_dict(g).items())):
                frame.insert(0, k, v)
            out.append(frame)
        return pd.concat(out, ignore_index=True)

    # ------------------------------------------------------------------ result surface
    def get_data(self) -> np.ndarray:
        """The observations fitted, group after group.

        Returns
        -------
        ndarray, shape (n_obs, 2)
            Hours since dose and value (the change from the pre-dose baseline with
            ``baseline_mode="pre-dose"``), in the order of :meth:`to_data_frame`.
        """
        parts = [np.column_stack([g.data.t[g.data.mask], g.data.y[g.data.mask]])
                 for g in self.groups]
        return np.concatenate(parts) if parts else np.empty((0, 2))

    def to_data_frame(self) -> pd.DataFrame:
        """The observations fitted as a long table.

        Returns
        -------
        pandas.DataFrame
            Group key columns, ``subject``, ``hours_since_dose``, ``value`` and
            ``identifiable`` (of the group's tau).
        """
        frames = []
        for g in self.groups:
            rows, cols = np.nonzero(g.data.mask)
            frame = pd.DataFrame({"subject": g.data.subjects[rows],
                                  "hours_since_dose": g.data.t[rows, cols],
                                  "value": g.data.y[rows, cols],
                                  "identifiable": g.identifiable})
            for k, (name, val) in enumerate(self._key_dict(g).items()):
                frame.insert(k, name, val)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def __repr__(self) -> str:
        keys = ", ".join(" / ".join(map(str, g.key)) or "all" for g in self.groups[:6])
        more = f" +{len(self.groups) - 6}" if len(self.groups) > 6 else ""
        n_bad = sum(not g.identifiable for g in self.groups)
        model = self.groups[0].pm.model.kernel if self.groups else "?"
        text = (f"<DecayFit | {len(self.groups)} groups ({keys}{more}) | model {model} | "
                f"tau in h, CI {self.settings.get('ci', 'profile')} "
                f"{int(self.level * 100)} % | {n_bad} not identifiable>")
        return text if len(text) < 480 else text[:476] + "...>"

    def copy(self) -> DecayFit:
        """An independent (deep) copy.

        Returns
        -------
        DecayFit
        """
        import copy

        return copy.deepcopy(self)

    # ------------------------------------------------------------------ plotting
    @fill_doc
    def plot(self, n_points: int = 200, show_subjects: bool = True,
             show: bool | None = None):
        """Data, fitted typical curve and its confidence band, one panel per group.

        A group whose tau is not identifiable is drawn only over its data's time range,
        with the y-axis set by the data, and labelled "not identifiable".

        Parameters
        ----------
        n_points : int
            Points of the fitted curve.
        show_subjects : bool
            Join each subject's visits with a line.
        %(show)s

        %(returns_figure)s
        """
        from ..viz.longitudinal import plot_decay

        return plot_decay(self, n_points, show_subjects, show)

    @fill_doc
    def plot_taus(self, show: bool | None = None):
        """Forest plot of tau with its CI per group; not-identifiable fits hollow.

        Parameters
        ----------
        %(show)s

        %(returns_figure)s
        """
        from ..viz.longitudinal import plot_taus

        return plot_taus(self, show)


def compare_models(fit_a: DecayFit, fit_b: DecayFit) -> pd.DataFrame:
    """Likelihood-ratio test and AIC/BIC difference of two fits per group.

    ``fit_a`` should be nested in ``fit_b`` for the likelihood-ratio p-value (e.g.
    exponential vs exponential + tolerance); AIC/BIC are valid either way. For
    exponential vs Bateman, ``fit_decay(model="bateman")`` also starts from the
    exponential limit, so ``lr_stat >= 0`` up to rounding; ``tau_rise -> 0`` is on the
    boundary of the parameter space, so the chi-square(1) p-value is conservative (the
    null distribution is closer to a 50:50 mixture of chi-square(0) and chi-square(1)).

    Parameters
    ----------
    fit_a, fit_b : DecayFit
        The simpler and the richer fit of the same groups.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``model_a``, ``model_b``, ``lr_stat``, ``df`` (difference in
        parameters), ``p_value`` (chi-square), ``delta_aic``, ``delta_bic`` (b - a) and
        ``preferred`` (``"a"`` or ``"b"``, by AIC).
    """
    from scipy import stats

    rows = []
    for ga in fit_a.groups:
        gb = fit_b[ga.key]
        lr = 2 * (gb.loglik - ga.loglik)
        ddf = gb.n_params - ga.n_params
        row = fit_a._key_dict(ga)
        row.update(model_a=ga.pm.model.kernel + "+" + ga.pm.model.variant,
                   model_b=gb.pm.model.kernel + "+" + gb.pm.model.variant,
                   lr_stat=lr, df=ddf,
                   p_value=float(stats.chi2.sf(max(lr, 0.0), ddf)) if ddf > 0 else np.nan,
                   delta_aic=gb.aic - ga.aic, delta_bic=gb.bic - ga.bic,
                   preferred="b" if gb.aic < ga.aic else "a")
        rows.append(row)
    return pd.DataFrame(rows)


def _variability_columns(g: GroupFit) -> dict[str, float]:
    """Between-subject SDs (log scale for A and tau; NaN without random effects or for a
    parameter without a random effect) and the residual SD of one group's fit."""
    names = g.pm.random
    om = g.state.omega[0] if g.random_effects else np.full(3, np.nan)

    def bsv(name: str) -> float:
        return float(om[names.index(name)]) if (g.random_effects and name in names) \
            else np.nan

    return {
        "bsv_sd_log_amplitude": bsv("log_A"),
        "bsv_sd_log_tau": bsv("log_tau"),
        "bsv_sd_baseline": bsv("E0"),
        "residual_sd": float(g.state.sigma[0]) if g.random_effects else float(
            np.sqrt(g.state.objective[0] / max(g.data.n_obs - int((~g.fixed).sum()), 1))),
    }
