"""``fit_decay``: how long does each region's change last?"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option, check_random_state
from ..errors import AnalysisError, KetephysError, SettingsError
from ..settings import check_keywords
from .bootstrap import bootstrap_fit, bootstrap_indices
from .design import GroupData, group_keys, prepare_groups, select_value
from .fit import (
    _BOUNDS,
    ParamMap,
    State,
    _objective,
    amplitude_sign,
    beta_covariance,
    em_fit,
    initial_beta,
    laplace_loglik,
    lm_fit,
)
from .models import KERNELS, VARIANTS, DecayModel
from .profile import profile_intervals
from .result import DecayFit, GroupFit

__all__ = ["fit_decay", "fit_decay_by_group", "MAX_HOURS"]

logger = logging.getLogger(__name__)

#: tau longer than this many times the last visit is flagged as not identifiable.
MAX_TAU_FACTOR = 3.0
#: A tau CI whose upper / lower bound ratio exceeds this is flagged as not identifiable.
#: 100-fold (two decades) is wider than the range a typical schedule resolves at all
#: (baseline/2 h/24 h/d3/d7/d14 resolves tau between ~12 h and ~30 d, a 60-fold range;
#: :ref:`science`): such an interval cannot tell an effect of hours from one of weeks, the
#: question the fit is for. Well-determined fits are far below it (N = 20, default
#: scenario: 2-3-fold).
MAX_CI_RATIO = 100.0
#: Post-dose times all above this many hours (11 years) are not hours (ms or s?).
MAX_HOURS = 1e5


@check_keywords(renamed={"baseline": "baseline_mode"})
def fit_decay(
    table: pd.DataFrame,
    value: str = "value",
    time: str = "hours_since_dose",
    subject: str = "subject",
    group: str | Sequence[str] | None = "region",
    model: str = "exponential",
    baseline_mode: str = "pre-dose",
    covariates: Sequence[str] = (),
    random_effects: bool = True,
    ci: str = "profile",
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    measure: str | Sequence[str] | None = None,
    schedule: Any = None,
    variant: str = "none",
    estimate_gamma: bool = False,
    level: float = 0.95,
    path: str | None = None,
) -> DecayFit:
    """Fit the return of a marker to baseline after a dose, per region (or any grouping).

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy table: one row per (subject, group, visit), e.g. the output of the analysers
        (long format with ``measure``/``value``, as :func:`~ketephys.features.feature_table`) or any
        per-visit biomarker (wide). Rows of one subject at one time in one group (e.g.
        the channels of a region) are averaged. A long table with several measures is
        fitted per (measure, group).
    value : str
        Value column, or the name of a measure in a long table's ``measure`` column.
    time : str
        Column of the hours since the (first) dose (negative = pre-dose).
    subject : str
        Column of the subject ids.
    group : str, list of str or None
        Grouping column(s), fitted separately (default ``"region"``).
    model : {"exponential", "bateman", "auto"}
        Mono-exponential return to baseline, rise-then-decay (Bateman, ``tau_rise <
        tau_decay``), or the one with the lower AIC per group.
    baseline_mode : {"pre-dose", "estimate"}
        How each subject's baseline level is obtained. ``"pre-dose"``: subtract each
        subject's pre-dose mean and fit the change (E0 = 0). ``"estimate"``: fit the raw
        values with a baseline parameter E0 (all rows). Called ``baseline`` before
        ketephys 0.2 (the old name raises :class:`~ketephys.errors.SettingsError`).
    covariates : sequence of str
        Subject-level covariates with effects on log A and log tau: ``"dose"`` (log of
        dose / reference dose: a power-law exponent), ``"genotype"`` (Met carrier vs
        non-carrier), ``"infusion"`` (count minus the smallest), ``"condition"`` or any
        column (categorical: indicators vs the most common level; numeric: difference
        from the smallest value).
    random_effects : bool
        Population fit with log-normal random effects on A and tau and a normal random
        baseline (see :mod:`ketephys.longitudinal.fit`); False: ordinary least squares of
        all rows of a group pooled.
    ci : {"profile", "bootstrap", "both", "none"}
        Profile-likelihood intervals (F / t calibrated) and/or a subject-level bootstrap.
    n_boot : int
        Bootstrap replicates (fitted all at once).
    seed : int or Generator, optional
        For the bootstrap.
    measure : str or list of str, optional
        Keep only these measures of a long table.
    schedule : list of (t_h, dose) or DataFrame(subject, t_h, dose), optional
        Repeated-dose course for superposition; ``time`` is then hours since the first
        dose. Default: one dose at time 0.
    variant : {"none", "tolerance", "slowing"}
        Alternative repeated-dose models (compare fits with
        :func:`ketephys.longitudinal.compare_models`).
    estimate_gamma : bool
        Estimate the dose-scaling exponent of the superposition.
    level : float
        Confidence level.
    path : str, optional
        The table's file, named in error messages.

    Returns
    -------
    DecayFit
        One fitted group per region (or grouping key): estimates, intervals,
        identifiability flags; :meth:`DecayFit.summary` is the one-row-per-group table.

    Raises
    ------
    SettingsError
        An unknown or renamed keyword, or a bad option value (``model``, ``variant``,
        ``ci``, ``baseline_mode``), with a suggestion.
    AnalysisError
        When the table cannot be fitted (missing column, no usable subject, too few
        subjects or visits for a population fit).
    """
    check_option("model", model, (*KERNELS, "auto"), path)
    check_option("variant", variant, VARIANTS, path)
    check_option("ci", ci, ("profile", "bootstrap", "both", "none"), path)
    if not 0 < level < 1:
        raise SettingsError(f"level must be in (0, 1), got {level}", path)
    groups, covs, keys = prepare_groups(table, value=value, time=time, subject=subject,
                                        group=group, measure=measure,
                                        baseline_mode=baseline_mode,
                                        covariates=covariates, schedule=schedule, path=path)
    rng = check_random_state(seed)
    kernels = list(KERNELS) if model == "auto" else [model]
    shared_idx = None
    if ci in ("bootstrap", "both") and all(
            np.array_equal(g.subjects, groups[0].subjects) for g in groups):
        shared_idx = bootstrap_indices(groups[0].n_subjects, n_boot, rng)
    fits = []
    cov_names = tuple(c.name for c in covs)
    for gd in groups:
        cands: dict[str, GroupFit] = {}
        for k in ("exponential", "bateman"):
            if k in kernels or (k == "exponential" and "bateman" in kernels):
                cands[k] = _fit_group(gd, k, variant, estimate_gamma, cov_names,
                                      random_effects, baseline_mode == "estimate",
                                      nested=cands.get("exponential"))
        best = min((cands[k] for k in kernels), key=lambda g: g.aic)
        if ci in ("profile", "both"):
            _add_profile(best, level)
        if ci in ("bootstrap", "both"):
            idx = shared_idx if shared_idx is not None else bootstrap_indices(
                gd.n_subjects, n_boot, rng)
            best.boot = bootstrap_fit(best.pm, gd, best.state, best.fixed, idx, random_effects,
                                      omega_floor=_omega_floor(best.pm, gd))
            best.boot_idx = idx
        _flag_identifiability(best, level)
        fits.append(best)
    settings = dict(value=value, time=time, subject=subject, group=group, model=model,
                    baseline_mode=baseline_mode, covariates=tuple(covariates),
                    random_effects=random_effects, ci=ci, n_boot=n_boot, variant=variant,
                    estimate_gamma=estimate_gamma, level=level)
    return DecayFit(groups=fits, key_names=keys, covariates=covs, settings=settings, level=level)


def _group_problem(part: pd.DataFrame, value: str, time: str, label: str) -> str | None:
    """Why the rows of one group cannot be fitted at all, before any fitting."""
    t = pd.to_numeric(part[time], errors="coerce") if time in part.columns else None
    if t is None or value not in part.columns:
        return None  # fit_decay names the missing column
    v = pd.to_numeric(part[value], errors="coerce")
    post = t[(t > 0) & np.isfinite(v) & np.isfinite(t)]
    if post.empty:
        return (f"group {label}: no post-dose data (no row with {time!r} > 0 and a numeric "
                f"{value!r}); the pre-dose rows alone cannot show a decay")
    if (post > MAX_HOURS).all():
        return (f"group {label}: every post-dose {time!r} is above {MAX_HOURS:g} h "
                f"(smallest {post.min():.6g}): the time axis is not in hours (milliseconds "
                "or seconds?); convert it to hours since dose")
    return None


@check_keywords(lambda: fit_decay, renamed={"baseline": "baseline_mode"})
def fit_decay_by_group(table: pd.DataFrame, value: str = "value",
                       time: str = "hours_since_dose",
                       group: str | Sequence[str] | None = "region",
                       measure: str | Sequence[str] | None = None,
                       path: str | None = None, **options: Any
                       ) -> tuple[pd.DataFrame, DecayFit | None]:
    """:func:`fit_decay` in which a group that cannot be fitted does not cost the others.

    Every group is fitted on its own terms: one with too few subjects, no post-dose data
    or a time axis that is not in hours gets a summary row with the reason in ``error``,
    and the other groups keep their results.

    Parameters
    ----------
    table, value, time, group, measure, path
        As :func:`fit_decay`.
    **options
        Further keywords of :func:`fit_decay` (``model``, ``ci``, ``seed``...).

    Returns
    -------
    summary : pandas.DataFrame
        :meth:`DecayFit.summary` rows of the fitted groups and one row with ``error`` per
        group that could not be fitted, in group order.
    fit : DecayFit or None
        The fitted groups (None when none could be fitted).

    Raises
    ------
    SettingsError
        For an unknown or renamed keyword (before anything is fitted).
    KetephysError
        For problems of the whole table (no such column).
    """
    narrowed, value_col, long = select_value(table, value, measure, path)
    keys = group_keys(narrowed, group, long, path)
    parts = [((), narrowed)] if not keys else [
        (k if isinstance(k, tuple) else (k,), part)
        for k, part in narrowed.groupby(keys, dropna=True, sort=True)]
    sub_value = value_col if value_col in narrowed.columns else value
    errors: dict[tuple, str] = {}
    usable = []
    for key, part in parts:
        problem = _group_problem(part, value_col, time, key if keys else "all")
        if problem:
            errors[key] = f"AnalysisError: {problem}"
        else:
            usable.append(part)

    def fit(rows: pd.DataFrame) -> DecayFit:
        return fit_decay(rows, value=sub_value, time=time, group=keys or None,
                         path=path, **options)

    fits = _fit_usable(usable, fit, keys, errors)
    merged = None if not fits else DecayFit(
        groups=[g for f in fits for g in f.groups], key_names=fits[0].key_names,
        covariates=fits[0].covariates, settings=fits[0].settings, level=fits[0].level)
    return _summary_with_errors(merged, errors, keys), merged


#: Failures of one group's fit that must not cost the other groups.
_GROUP_FIT_ERRORS = (KetephysError, np.linalg.LinAlgError, ValueError, FloatingPointError)


def _fit_usable(usable: list[pd.DataFrame], fit, keys: list[str],
                errors: dict[tuple, str]) -> list[DecayFit]:
    """All usable groups in one fit (the usual case: shared bootstrap draws); when that
    fails, one by one, so a group's failure (recorded in ``errors``) costs only itself."""
    if not usable:
        return []
    try:
        return [fit(pd.concat(usable))]
    except _GROUP_FIT_ERRORS:
        pass
    fits = []
    for part in usable:
        key = tuple(part[keys].iloc[0]) if keys else ()
        try:
            fits.append(fit(part))
        except _GROUP_FIT_ERRORS as err:
            text = str(err) if isinstance(err, KetephysError) else (
                f"group {key}: the fit failed numerically ({type(err).__name__}: "
                f"{err}); check the time axis and values")
            errors[key] = f"{type(err).__name__}: {text}"
    return fits


def _summary_with_errors(merged: DecayFit | None, errors: dict[tuple, str],
                         keys: list[str]) -> pd.DataFrame:
    """The fitted groups' summary rows and one ``error`` row per group not fitted, in
    group order."""
    frames = [merged.summary()] if merged is not None else []
    names = keys or ["group"]
    frames += [pd.DataFrame([{**dict(zip(names, key or ("all",))), "error": msg}])
               for key, msg in errors.items()]
    summary = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(summary) and all(n in summary.columns for n in names):
        summary = summary.sort_values(names, kind="stable").reset_index(drop=True)
    return summary


def _omega_floor(pm: ParamMap, gd: GroupData) -> np.ndarray:
    scale = float(np.std(gd.y[gd.mask])) or 1.0
    return np.array([1e-6 * scale if m == "E0" else 1e-3 for m in pm.random])


def _fit_group(gd: GroupData, kernel: str, variant: str, estimate_gamma: bool,
               cov_names: tuple[str, ...], random_effects: bool, estimate_e0: bool,
               nested: GroupFit | None = None) -> GroupFit:
    """Fit one group; a Bateman fit also starts from the exponential fit ``nested``.

    The exponential model is the Bateman model's limit ``tau_rise -> 0``. Starting the
    Bateman fit only from a rise of 5 % of tau can end in a local optimum worse than the
    exponential fit (a negative likelihood-ratio statistic, seen on PFC data simulated
    with an exponential truth). With ``nested`` given, the Bateman fit is also run from
    the exponential estimates with ``logit(tau_rise / tau_decay)`` at its lower bound
    (``tau_rise = 1.4e-11 tau``: the exponential curve to ~1e-11), and that start itself
    is a candidate; the candidate with the highest log-likelihood is kept, so the nested
    likelihood-ratio statistic is >= 0 up to rounding.
    """
    if random_effects and gd.n_subjects < 3:
        raise AnalysisError(f"group {gd.key}: a population fit needs at least 3 subjects "
                            f"(has {gd.n_subjects}); fit the groups one by one with "
                            "fit_decay_by_group (the others keep their fits), or use "
                            "random_effects=False")
    if gd.post_times.size < 2:
        raise AnalysisError(f"group {gd.key}: needs at least two post-dose visit times "
                            f"(has {gd.post_times.tolist()})")
    sign = amplitude_sign(gd.t, gd.y, gd.mask, estimate_e0)
    model = DecayModel(kernel=kernel, variant=variant, estimate_gamma=estimate_gamma, sign=sign)
    pooled = ParamMap(model, covariates=cov_names, random=(), fixed_e0=not estimate_e0)
    beta0 = initial_beta(pooled, gd.t, gd.y, gd.mask, estimate_e0)
    fixed = np.zeros(pooled.n_beta, bool)
    if not estimate_e0:
        fixed[pooled.beta_names.index("E0")] = True
    n = gd.n_subjects
    data = gd.take()
    st = State(beta0[None], np.zeros((1, n, 0)), np.zeros((1, 0)), np.ones(1))
    st = lm_fit(pooled, data, st, fixed=fixed[None], max_iter=500, tol=1e-15)
    if random_effects:
        pm = ParamMap(model, covariates=cov_names, fixed_e0=not estimate_e0)
        rss = float(st.objective[0])
        sigma0 = np.sqrt(rss / max(gd.n_obs, 1))
        omega0 = np.array([[0.5 * sigma0, 0.3, 0.3]])
        st = State(st.beta, np.zeros((1, n, pm.n_re)), omega0, np.array([0.7 * sigma0]))
        st = em_fit(pm, data, st, fixed=fixed[None], omega_floor=_omega_floor(pm, gd))
        if not st.converged[0]:
            logger.warning("group %s: the population fit did not fully converge", gd.key)
    else:
        pm = pooled
    loglik = float(laplace_loglik(pm, data, st)[0])
    if kernel == "bateman" and nested is not None:
        for cand in _from_exponential_limit(pm, gd, data, nested, fixed, random_effects):
            ll = float(laplace_loglik(pm, data, cand)[0])
            if np.isfinite(ll) and ll > loglik:
                st, loglik = cand, ll
    cov = beta_covariance(pm, data, st, fixed[None])[0]
    return GroupFit(key=gd.key, data=gd, pm=pm, state=st, fixed=fixed,
                    random_effects=random_effects, loglik=loglik, cov_beta=cov)


def _from_exponential_limit(pm: ParamMap, gd: GroupData, data: dict, expo: GroupFit,
                            fixed: np.ndarray, random_effects: bool) -> list[State]:
    """Bateman states at the exponential fit (tau_rise -> 0): as is, and refitted from it."""
    k = pm.beta_names.index("logit_rise")
    beta = np.insert(expo.state.beta, k, _BOUNDS["logit_rise"][0], axis=1)
    limit = State(beta, expo.state.eta.copy(), expo.state.omega.copy(),
                  expo.state.sigma.copy())
    limit.objective = _objective(pm, data, limit.beta, limit.eta, limit.omega, limit.sigma)
    limit.converged = expo.state.converged.copy()
    if random_effects:
        refit = em_fit(pm, data, limit, fixed=fixed[None], omega_floor=_omega_floor(pm, gd))
    else:
        refit = lm_fit(pm, data, limit, fixed=fixed[None], max_iter=500, tol=1e-15)
    return [limit, refit]


def _add_profile(g: GroupFit, level: float) -> None:
    names = [n for n in g.pm.beta_names
             if n not in ("logit_rise",) and not g.fixed[g.pm.beta_names.index(n)]]
    g.profile = profile_intervals(g.pm, g.data.take(), g.state, names, g.fixed, g.se(),
                                  level=level, random_effects=g.random_effects)


def _profile_reasons(prof) -> list[str]:
    """Why the profile of log tau bounds tau on neither or one side only (flat, or the
    critical value reached only at the searched range's edge)."""
    reasons = []
    if prof.flat_lower:
        reasons.append("profile flat below the estimate (no lower bound for tau)")
    elif prof.edge_lower:
        reasons.append("profile reaches the critical value only at the edge of the "
                       "searched range below the estimate (no real lower bound for tau)")
    if prof.flat_upper:
        reasons.append("profile flat above the estimate (no upper bound for tau)")
    elif prof.edge_upper:
        reasons.append("profile reaches the critical value only at the edge of the "
                       "searched range above the estimate (no real upper bound for tau)")
    return reasons


def _tau_interval(g: GroupFit, prof, level: float) -> tuple[float, float]:
    """The tau CI (h): from the profile, else bootstrap percentiles (at least 10
    replicates), else NaN."""
    if prof is not None:
        return np.exp(prof.lower), np.exp(prof.upper)
    if g.boot is not None:
        bd = g.boot_derived()
        if bd is not None and bd["tau_h"].size >= 10:
            lo, hi = np.percentile(bd["tau_h"], [100 * (1 - level) / 2, 100 * (1 + level) / 2])
            return lo, hi
    return np.nan, np.nan


def _flag_identifiability(g: GroupFit, level: float = 0.95) -> None:
    """Set ``g.identifiable`` / ``g.reason``: tau is flagged when any rule applies.

    - the profile of log tau never reaches the critical value on a side (flat);
    - it reaches it only at the outermost searched value (the search edge);
    - the tau CI (profile, else bootstrap percentiles) spans more than
      :data:`MAX_CI_RATIO`-fold;
    - tau is shorter than the first post-dose visit or longer than
      :data:`MAX_TAU_FACTOR` x the last one;
    - fewer than two post-dose visit times;
    - no more subjects (population fit; observations for a pooled fit) than free fixed
      effects: the small-sample calibration has no degrees of freedom left, and
      bootstrap replicates of such designs leave the effects at their start values
      (deceptively narrow percentile intervals).
    """
    reasons = []
    tau = g.derived()["tau_h"]
    post = g.data.post_times
    prof = g.profile.get("log_tau")
    if prof is not None:
        reasons += _profile_reasons(prof)
    lo, hi = _tau_interval(g, prof, level)
    if np.isfinite(lo) and np.isfinite(hi) and lo > 0 and hi / lo > MAX_CI_RATIO:
        reasons.append(f"tau CI {lo:.3g}-{hi:.3g} h spans more than {MAX_CI_RATIO:g}-fold")
    if post.size and tau < post.min():
        reasons.append(f"tau {tau:.3g} h is shorter than the first post-dose visit "
                       f"({post.min():g} h)")
    if post.size and tau > MAX_TAU_FACTOR * post.max():
        reasons.append(f"tau {tau:.3g} h is longer than {MAX_TAU_FACTOR:g}x the last visit "
                       f"({post.max():g} h)")
    if post.size < 2:
        reasons.append("fewer than two post-dose visit times")
    n_free = int((~g.fixed).sum())
    n_units = g.data.n_subjects if g.random_effects else g.data.n_obs
    if n_units <= n_free:
        what = "subjects" if g.random_effects else "observations"
        reasons.append(f"{n_units} {what} for {n_free} fixed effects: no degrees of freedom "
                       "left for the intervals (the bootstrap cannot vary what the "
                       "resampled designs do not inform)")
    g.identifiable = not reasons
    g.reason = "; ".join(reasons)
