"""Profile-likelihood confidence intervals with small-sample (F / t) calibration.

A parameter is fixed at a value and everything else re-estimated; the interval is the
set of values where the increase of the objective stays below a critical value. All
grid points of all profiled parameters are one batch for the estimator, then the two
crossings of each parameter are refined together (Illinois regula falsi).

Calibration
-----------
Pooled least squares (no random effects): the F test of nested models, exactly as
lmfit's ``conf_interval``: ``(RSS(theta)/RSS_min - 1) (n - p) <= F_{1, n-p}(level)``.

Population fit: the increase of the penalised objective
``sum r^2/sigma^2 + sum eta^2/omega^2`` (variances held at their estimates) is compared
with ``F_{1, df}(level) = t_{df}^2`` where ``df = N_subjects - p_fixed`` (the population
parameters are informed by N subjects, not by all observations); the chi-square(1)
cut-off under-covers at N = 20.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fit import ParamMap, State, lm_fit

__all__ = ["ProfileInterval", "profile_intervals", "critical_value"]

_Z = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 20.0, 50.0])
_MAX_LOG_OFFSET = np.log(1e4)


@dataclass
class ProfileInterval:
    """Profile interval of one beta entry on its estimation scale.

    ``lower``/``upper`` are -inf/+inf when the profile stays below the critical value
    up to the parameter's bound or the grid's end (``flat_lower``/``flat_upper``).
    ``edge_lower``/``edge_upper`` are True when the profile first exceeds the critical
    value only at the outermost searched value on that side (offset ``log(1e4)`` for a
    log parameter, 50 standard errors otherwise, or the parameter's bound): the bound
    then is an artefact of where the search stopped, not a property of the data.

    Attributes
    ----------
    name : str
        The ``beta`` entry (e.g. ``"log_tau"``).
    estimate : float
        Its estimate.
    lower, upper : float
        The interval's bounds on the estimation scale (``exp`` of them for tau).
    flat_lower, flat_upper : bool
        The profile never reached the critical value on that side (bound infinite).
    critical : float
        The critical value of the profile statistic (F or t^2 calibrated).
    grid : ndarray
        The values profiled, increasing.
    profile : ndarray
        The profile statistic at ``grid``.
    edge_lower, edge_upper : bool
        The critical value was first exceeded only at the outermost value searched.
    """

    name: str
    estimate: float
    lower: float
    upper: float
    flat_lower: bool
    flat_upper: bool
    critical: float
    grid: np.ndarray
    profile: np.ndarray
    edge_lower: bool = False
    edge_upper: bool = False


def critical_value(level: float, random_effects: bool, n_obs: int, n_subjects: int,
                   n_free: int) -> tuple[float, int]:
    """Critical value of the profile statistic and its denominator degrees of freedom.

    Parameters
    ----------
    level : float
        Confidence level.
    random_effects : bool
        Population fit (the degrees of freedom count subjects) or pooled least squares
        (they count observations).
    n_obs, n_subjects : int
        Observations and subjects of the group.
    n_free : int
        Free fixed effects.

    Returns
    -------
    critical : float
        The ``level`` quantile of ``F(1, df)`` (= ``t_df^2``).
    df : int
        ``n_subjects - n_free`` (population) or ``n_obs - n_free`` (pooled), at least 1.
    """
    from scipy.special import fdtri

    df = (n_subjects if random_effects else n_obs) - n_free
    df = max(int(df), 1)
    return float(fdtri(1, df, level)), df


def _statistic(obj: np.ndarray, obj_min: float, random_effects: bool, df: int) -> np.ndarray:
    if random_effects:
        return obj - obj_min
    return (obj / obj_min - 1.0) * df


def profile_intervals(pm: ParamMap, data: dict, st: State, names: list[str],
                      fixed: np.ndarray, se: np.ndarray, level: float = 0.95,
                      random_effects: bool = True, n_refine: int = 30,
                      tol: float = 1e-7) -> dict[str, ProfileInterval]:
    """Profile intervals of the beta entries ``names`` around the estimate ``st`` (B = 1).

    Parameters
    ----------
    pm : ParamMap
        The fitted model's parameter map.
    data : dict of ndarray
        The group's data, batch size 1 (:meth:`GroupData.take`).
    st : State
        The fit (batch size 1, with ``objective``).
    names : list of str
        Entries of ``pm.beta_names`` to profile.
    fixed : bool array (p,)
        Entries held fixed in the fit itself (e.g. E0 with change-from-baseline data).
    se : array (p,)
        Approximate standard errors, used only to lay out the grid.
    level : float
        Confidence level.
    random_effects : bool
        Calibration of a population fit (penalised objective vs ``t^2`` with subject
        degrees of freedom) or of pooled least squares (the F test of nested models).
    n_refine : int
        Most regula falsi steps refining each crossing.
    tol : float
        A crossing is refined until the statistic is within ``tol * critical`` of the
        critical value or the bracket is narrower than ``tol``.

    Returns
    -------
    dict of str to ProfileInterval
        One interval per name.
    """
    n_free = int((~fixed).sum())
    crit, df = critical_value(level, random_effects, int(data["mask"].sum()),
                              data["mask"].shape[1], n_free)
    obj_min = float(st.objective[0])
    idx = [pm.beta_names.index(n) for n in names]
    # ---- grid, all parameters and both sides in one batch
    values, owners, sides, ranks, rows = _profile_grid(pm, st, se, idx)
    n_b = len(values)
    fixed_b = np.repeat(fixed[None], n_b, 0).copy()
    fixed_b[np.arange(n_b), rows] = True
    start = State(np.repeat(st.beta, n_b, 0), np.repeat(st.eta, n_b, 0),
                  np.repeat(st.omega, n_b, 0), np.repeat(st.sigma, n_b, 0))
    start.beta[np.arange(n_b), rows] = values
    bdata = {key: np.repeat(val, n_b, 0) for key, val in data.items()}
    res = lm_fit(pm, bdata, start, fixed=fixed_b, max_iter=200, tol=1e-11)
    stat = _statistic(res.objective, obj_min, random_effects, df)
    brackets, bounds, edges = _first_crossings(st, idx, values, owners, sides, ranks, stat,
                                               crit)
    if brackets:
        refined = _refine(pm, data, st, res, brackets, fixed, crit, obj_min, random_effects, df,
                          n_refine, tol)
        for (i, side, *_), v in zip(brackets, refined):
            bounds[i][side] = v
    out: dict[str, ProfileInterval] = {}
    for i, k in enumerate(idx):
        sel = np.where(owners == i)[0]
        order = np.argsort(values[sel])
        lo, hi = bounds[i][-1], bounds[i][1]
        out[names[i]] = ProfileInterval(
            name=names[i], estimate=float(st.beta[0, k]),
            lower=-np.inf if lo is None else float(lo), upper=np.inf if hi is None else float(hi),
            flat_lower=lo is None, flat_upper=hi is None, critical=crit,
            grid=values[sel][order], profile=stat[sel][order],
            edge_lower=edges.get((i, -1), False), edge_upper=edges.get((i, 1), False))
    return out


def _profile_grid(pm, st, se, idx):
    """The profile grid of every parameter ``idx`` on both sides of its estimate:
    values, and per value its parameter's position in ``idx``, side, rank from the
    estimate and column in beta."""
    p = st.beta.shape[1]
    rows, values, owners, sides, ranks = [], [], [], [], []
    for i, k in enumerate(idx):
        scale = se[k] if np.isfinite(se[k]) and se[k] > 0 else 0.1
        offsets = _Z * scale
        if pm.beta_names[k].startswith(("log_", "logit_")):
            offsets = np.minimum(offsets, _MAX_LOG_OFFSET)
        for side in (-1, 1):
            for r, off in enumerate(offsets):
                val = st.beta[0, k] + side * off
                val = float(pm.clip(np.array([[val if j == k else st.beta[0, j]
                                               for j in range(p)]]))[0, k])
                values.append(val)
                owners.append(i)
                sides.append(side)
                ranks.append(r)
                rows.append(k)
    owners, sides, ranks, rows = map(np.array, (owners, sides, ranks, rows))
    return np.array(values), owners, sides, ranks, rows


def _first_crossings(st, idx, values, owners, sides, ranks, stat, crit):
    """Per parameter and side, the first grid value whose statistic exceeds ``crit``
    (None: flat), whether it is the outermost value searched (edge), and the brackets
    ``(name index, side, inner value, outer value, g_in, g_out, state row, column)`` to
    refine."""
    brackets = []
    bounds: dict[int, dict[int, float | None]] = {}
    edges: dict[tuple[int, int], bool] = {}
    for i, k in enumerate(idx):
        bounds[i] = {}
        for side in (-1, 1):
            sel = np.where((owners == i) & (sides == side))[0]
            sel = sel[np.argsort(ranks[sel])]
            g = stat[sel]
            cross = np.where(g > crit)[0]
            if cross.size == 0:
                bounds[i][side] = None
                continue
            j = cross[0]
            edges[i, side] = bool(values[sel[j]] == values[sel[-1]])
            inner_val = st.beta[0, k] if j == 0 else values[sel[j - 1]]
            inner_g = 0.0 if j == 0 else g[j - 1]
            inner_row = -1 if j == 0 else sel[j - 1]
            brackets.append((i, side, inner_val, values[sel[j]], inner_g, g[j], inner_row, k))
            bounds[i][side] = values[sel[j]]
    return brackets, bounds, edges


def _refine(pm, data, st, res, brackets, fixed, crit, obj_min, random_effects, df, n_iter, tol):
    """Illinois regula falsi on every bracket at once."""
    n_b = len(brackets)
    k = np.array([b[7] for b in brackets])
    a = np.array([b[2] for b in brackets], float)
    c = np.array([b[3] for b in brackets], float)
    ga = np.array([b[4] for b in brackets], float) - crit
    gc = np.array([b[5] for b in brackets], float) - crit
    rows = np.array([b[6] for b in brackets])
    beta0 = np.where(rows[:, None] >= 0, res.beta[np.maximum(rows, 0)], st.beta)
    eta0 = np.where(rows[:, None, None] >= 0, res.eta[np.maximum(rows, 0)], st.eta)
    fixed_b = np.repeat(fixed[None], n_b, 0).copy()
    fixed_b[np.arange(n_b), k] = True
    bdata = {key: np.repeat(val, n_b, 0) for key, val in data.items()}
    side_a = np.zeros(n_b, int)
    x = a.copy()
    for _ in range(n_iter):
        x = np.where(gc != ga, c - gc * (c - a) / (gc - ga), 0.5 * (a + c))
        start = State(beta0.copy(), eta0.copy(), np.repeat(st.omega, n_b, 0),
                      np.repeat(st.sigma, n_b, 0))
        start.beta[np.arange(n_b), k] = x
        r = lm_fit(pm, bdata, start, fixed=fixed_b, max_iter=200, tol=1e-12)
        gx = _statistic(r.objective, obj_min, random_effects, df) - crit
        same = np.sign(gx) == np.sign(gc)
        # Illinois: halve the retained end's value when the same end is kept twice
        a_new = np.where(same, a, c)
        ga_new = np.where(same, np.where(side_a == 1, ga / 2, ga), gc)
        side_a = np.where(same, 1, 0)
        c, gc, a, ga = x, gx, a_new, ga_new
        beta0 = np.where((gx < 0)[:, None], r.beta, beta0)
        eta0 = np.where((gx < 0)[:, None, None], r.eta, eta0)
        if np.all((np.abs(gx) < tol * max(crit, 1.0)) | (np.abs(c - a) < tol)):
            break
    return x
