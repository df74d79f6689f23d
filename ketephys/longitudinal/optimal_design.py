"""Optimal visit schedules, subject allocation and sample size for a planned study.

:func:`optimise_schedule` moves the post-dose visit times (continuously) to minimise a
criterion of the expected precision (:mod:`ketephys.longitudinal.planning`), under
constraints: number of visits, earliest and latest visit, minimum spacing and optional
allowed windows (working hours, given days). The times are parametrised so that every
trial point is feasible: the allowed windows are laid end to end on an "allowed-time"
axis ``u`` (gaps cut out) and each visit is placed at least ``d`` clock hours after the
previous one plus a share (a sigmoid of an unconstrained number) of the allowed time left
and no later than the latest position from which the remaining visits still fit
(:meth:`ScheduleConstraints.to_times`): every trial point meets the constraints, and
every schedule that meets them (such as the current one, a start) can be reached. Multi-start
L-BFGS-B (on a smooth p-norm stand-in for the max criterion), seeded, plus a start at the
current schedule when it is feasible.

:func:`sample_size` finds the smallest number of subjects per arm reaching a target
(relative SE of tau in every region, or the power of a comparison).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .._check import check_option, check_random_state
from ..errors import AnalysisError
from .planning import (
    Comparison,
    StudyDesign,
    _comparison_terms,
    expected_precision,
    region_fims,
    wald_power,
)

__all__ = ["ScheduleConstraints", "ScheduleOptimum", "optimise_schedule", "design_criterion",
           "working_hours", "sample_size", "SampleSize", "compare_designs", "CRITERIA"]

#: Criteria: D-optimality over all parameters of all regions (minimise -log det / P),
#: mean or max over regions of the SE of log tau (= relative SE of tau).
CRITERIA = ("D", "mean_rse_tau", "max_rse_tau")
_BAD = 1e6


@dataclass(frozen=True)
class ScheduleConstraints:
    """Where post-dose visits may go.

    Parameters
    ----------
    n_visits : int
        Post-dose visits per subject.
    earliest_h, latest_h : float
        First and last allowed visit (hours after the dose).
    min_spacing_h : float
        Minimum time between two visits.
    windows : sequence of (start_h, end_h), optional
        Allowed intervals (hours after the dose), e.g. :func:`working_hours`.
    """

    n_visits: int
    earliest_h: float = 0.5
    latest_h: float = 336.0
    min_spacing_h: float = 1.0
    windows: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        if int(self.n_visits) != self.n_visits or self.n_visits < 1:
            raise AnalysisError(f"n_visits must be a whole number >= 1, got {self.n_visits}")
        if not 0 < self.earliest_h < self.latest_h or not np.isfinite(self.latest_h):
            raise AnalysisError(f"need 0 < earliest_h < latest_h, got {self.earliest_h} and "
                                f"{self.latest_h}")
        if not self.min_spacing_h >= 0:
            raise AnalysisError(f"min_spacing_h must be >= 0, got {self.min_spacing_h}")
        if self.windows is not None:
            win = tuple((float(a), float(b)) for a, b in self.windows)
            if any(not b > a for a, b in win):
                raise AnalysisError(f"each window needs end > start, got {win}")
            object.__setattr__(self, "windows", win)
        if self.segments.size == 0 or self.latest_positions is None:
            raise AnalysisError(
                f"infeasible constraints: {self.n_visits} visits at least "
                f"{self.min_spacing_h:g} h apart do not fit between {self.earliest_h:g} and "
                f"{self.latest_h:g} h" + (" inside the allowed windows" if self.windows else ""))

    # the allowed set, as sorted disjoint segments [a_k, b_k]
    @property
    def segments(self) -> np.ndarray:
        win = self.windows if self.windows is not None else ((self.earliest_h, self.latest_h),)
        seg = sorted((max(a, self.earliest_h), min(b, self.latest_h)) for a, b in win)
        seg = [s for s in seg if s[1] > s[0]]
        merged: list[list[float]] = []
        for a, b in seg:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return np.asarray(merged, float).reshape(-1, 2)

    @property
    def allowed_length(self) -> float:
        seg = self.segments
        return float(np.sum(seg[:, 1] - seg[:, 0]))

    @property
    def latest_positions(self) -> np.ndarray | None:
        """Latest feasible hour of each visit (None when the visits do not fit)."""
        seg = self.segments
        out = np.empty(self.n_visits)
        x = self.latest_h
        for k in reversed(range(self.n_visits)):
            before = np.flatnonzero(seg[:, 0] <= x + 1e-12)
            if before.size == 0:
                return None
            x = min(x, seg[before[-1], 1])
            out[k] = x
            x -= self.min_spacing_h
        return out

    # the map between unconstrained z (n,) and visit hours (n,)
    def to_times(self, z: np.ndarray) -> np.ndarray:
        """Visit hours from unconstrained ``z``: always ordered, spaced and allowed.

        Visit ``k`` goes to the allowed-time coordinate between ``U(t_(k-1) + d)`` and
        ``U(L_k)`` at the fraction ``sigmoid(z_k)`` (``U`` = allowed time before a clock
        hour, ``L_k`` = the latest hour visit ``k`` can have with the later visits still
        fitting, :attr:`latest_positions`); gaps between windows count towards the
        spacing. Every feasible schedule has such a ``z`` (:meth:`to_z`).

        Parameters
        ----------
        z : ndarray, shape (n_visits,)
            Unconstrained numbers (clipped to +-50).

        Returns
        -------
        ndarray, shape (n_visits,)
            Visit hours after the dose, increasing.
        """
        z = np.clip(np.asarray(z, float), -50, 50)
        u_max = [self._unwarp(x) for x in self.latest_positions]
        out = np.empty(self.n_visits)
        u_min = 0.0
        for k in range(self.n_visits):
            u = u_min + max(u_max[k] - u_min, 0.0) / (1.0 + np.exp(-z[k]))
            out[k] = self._warp(u)
            u_min = self._unwarp(out[k] + self.min_spacing_h)
        return out

    def to_z(self, times: Sequence[float]) -> np.ndarray | None:
        """Inverse of :meth:`to_times`.

        Parameters
        ----------
        times : sequence of float
            ``n_visits`` visit hours after the dose (any order).

        Returns
        -------
        ndarray, shape (n_visits,), or None
            The unconstrained numbers giving ``times`` (fractions clipped to 1e-9 from
            the ends), or None when ``times`` break the constraints.
        """
        t = np.sort(np.asarray(times, float))
        if t.size != self.n_visits or not self.feasible(t):
            return None
        u_max = [self._unwarp(x) for x in self.latest_positions]
        z = np.empty(self.n_visits)
        u_min = 0.0
        for k in range(self.n_visits):
            room = u_max[k] - u_min
            frac = np.clip((self._unwarp(t[k]) - u_min) / room, 1e-9, 1 - 1e-9) if room > 0 else 0.5
            z[k] = np.log(frac / (1 - frac))
            u_min = self._unwarp(t[k] + self.min_spacing_h)
        return z

    def feasible(self, times: Sequence[float]) -> bool:
        """Whether a schedule meets the constraints (allowed windows, spacing; 1e-9 h
        tolerance).

        Parameters
        ----------
        times : sequence of float
            Visit hours after the dose (any order).

        Returns
        -------
        bool
        """
        t = np.sort(np.asarray(times, float))
        seg = self.segments
        inside = ((t[:, None] >= seg[None, :, 0] - 1e-9) & (t[:, None] <= seg[None, :, 1] + 1e-9)
                  ).any(1)
        return bool(inside.all() and np.all(np.diff(t) >= self.min_spacing_h - 1e-9))

    def _warp(self, u: float) -> float:
        """Clock hour of allowed-time coordinate ``u``."""
        seg = self.segments
        starts = np.concatenate([[0.0], np.cumsum(seg[:, 1] - seg[:, 0])])
        k = int(np.clip(np.searchsorted(starts, u, side="right") - 1, 0, len(seg) - 1))
        return float(min(seg[k, 0] + (u - starts[k]), seg[k, 1]))

    def _unwarp(self, t: float) -> float:
        """Allowed time between ``earliest_h`` and clock hour ``t``."""
        seg = self.segments
        return float(np.sum(np.clip(t - seg[:, 0], 0.0, seg[:, 1] - seg[:, 0])))


def working_hours(latest_h: float, dose_clock_h: float = 9.0, start_clock_h: float = 9.0,
                  end_clock_h: float = 17.0, days: Sequence[int] | None = None
                  ) -> tuple[tuple[float, float], ...]:
    """Allowed windows (hours after the dose) for visits within working hours.

    Parameters
    ----------
    latest_h : float
        Last hour after the dose to cover.
    dose_clock_h : float
        Clock time of the dose (9.0 = 09:00 on day 0).
    start_clock_h, end_clock_h : float
        Working hours each day.
    days : sequence of int, optional
        Only these days after the dose (0 = the dosing day), e.g. no weekends.

    Returns
    -------
    tuple of (float, float)
        The allowed ``(start_h, end_h)`` windows, hours after the dose, for
        :class:`ScheduleConstraints`.
    """
    n_days = int(np.ceil((latest_h + dose_clock_h) / 24.0)) + 1
    out = []
    for day in range(n_days) if days is None else days:
        a = 24.0 * day + start_clock_h - dose_clock_h
        b = 24.0 * day + end_clock_h - dose_clock_h
        a, b = max(a, 0.0), min(b, latest_h)
        if b > a:
            out.append((a, b))
    return tuple(out)


def design_criterion(design: StudyDesign, criterion: str = "mean_rse_tau",
                     arm_sizes: np.ndarray | None = None) -> float:
    """The value (smaller is better) of ``criterion`` for ``design``.

    Parameters
    ----------
    design : StudyDesign
        The design.
    criterion : {"D", "mean_rse_tau", "max_rse_tau"}
        See :data:`CRITERIA`.
    arm_sizes : ndarray, optional
        Subjects per arm instead of the arms' ``n_subjects`` (continuous values allowed).

    Returns
    -------
    float
        ``-log det(M) / P`` over every region's information matrix (``"D"``), or the
        mean or the max over regions of the expected SE of log tau.

    Raises
    ------
    SettingsError
        When ``criterion`` is not one of :data:`CRITERIA`.
    AnalysisError
        When the design cannot estimate every parameter (singular matrix).
    """
    check_option("criterion", criterion, CRITERIA)
    infos = list(region_fims(design, arm_sizes=arm_sizes).values())
    if criterion == "D":
        n_par = sum(len(i.names) for i in infos)
        return -sum(i.log_det() for i in infos) / n_par
    se = np.array([i.se("log_tau") for i in infos])
    return float(np.mean(se) if criterion == "mean_rse_tau" else np.max(se))


def _smooth_max_criterion(design: StudyDesign, arm_sizes: np.ndarray | None) -> float:
    """A smooth stand-in for the max SE that the gradient optimiser can follow: the
    ``p``-norm mean ``mean(se^p)^(1/p)`` with ``p = 32`` (within 3.5 % of the max for
    three regions, equal to it when one region dominates)."""
    se = np.array([i.se("log_tau") for i in region_fims(design, arm_sizes=arm_sizes).values()])
    return float(np.mean(se**32) ** (1 / 32))


@dataclass
class ScheduleOptimum:
    """The result of :func:`optimise_schedule`.

    Attributes
    ----------
    design : StudyDesign
        The design with the optimal times (and allocation).
    current : StudyDesign
        The design it started from.
    criterion : str
    value, current_value : float
        Criterion of the optimum and of the current design (NaN when the current design
        cannot estimate every parameter).
    comparison : DataFrame
        Per region: expected SE of log tau and CI of tau, current vs optimal, and their
        ratio (optimal / current).
    starts : DataFrame
        Every start's final criterion and times.
    seconds : float
    """

    design: StudyDesign
    current: StudyDesign
    criterion: str
    value: float
    current_value: float
    comparison: pd.DataFrame
    starts: pd.DataFrame = field(repr=False)
    seconds: float = 0.0

    @property
    def times(self) -> tuple[float, ...]:
        return self.design.times


def _round_allocation(total: int, fractions: np.ndarray, minimum: int) -> np.ndarray:
    """Largest-remainder rounding of ``total * fractions`` with at least ``minimum`` each."""
    raw = total * fractions
    n = np.maximum(np.floor(raw).astype(int), minimum)
    while n.sum() > total and (n > minimum).any():
        n[np.argmax(np.where(n > minimum, n - raw, -np.inf))] -= 1
    while n.sum() < total:
        n[np.argmax(raw - n)] += 1
    return n


def optimise_schedule(
    design: StudyDesign,
    constraints: ScheduleConstraints | None = None,
    criterion: str = "mean_rse_tau",
    allocation: bool = False,
    n_starts: int = 8,
    seed: int | np.random.Generator | None = 0,
    min_per_arm: int = 3,
) -> ScheduleOptimum:
    """Optimise the shared post-dose visit times (and optionally the arm sizes).

    Parameters
    ----------
    design : StudyDesign
        Regions, arms and the current visit times (the comparison baseline).
    constraints : ScheduleConstraints, optional
        Default: as many visits as the current schedule, between 0.5 h and the later of
        the current last visit and 336 h, at least 1 h apart.
    criterion : {"D", "mean_rse_tau", "max_rse_tau"}
        What to minimise (see :data:`CRITERIA`).
    allocation : bool
        Also optimise the share of the subjects per arm (total kept; rounded to whole
        subjects, at least ``min_per_arm`` per arm).
    n_starts : int
        Random starts (plus the current schedule when it meets the constraints).
    seed : int, Generator or None
        Seed (or generator) of the random starts (default 0: the same starts every
        call).
    min_per_arm : int
        Fewest subjects an arm may get when the allocation is optimised.

    Returns
    -------
    ScheduleOptimum
        The optimal design, its criterion next to the current one's, the per-region
        comparison and every start's result.
    """
    from scipy.optimize import minimize

    check_option("criterion", criterion, CRITERIA)
    if constraints is None:
        constraints = ScheduleConstraints(len(design.times), 0.5, max(336.0, design.times[-1]))
    n_arms = len(design.arms)
    opt_alloc = allocation and n_arms > 1
    if opt_alloc and design.n_subjects < min_per_arm * n_arms:
        raise AnalysisError(f"{design.n_subjects} subjects cannot give {n_arms} arms "
                            f"{min_per_arm} each")
    # a design with too few visits raises here, before any optimisation
    replace(design, times=tuple(constraints.to_times(np.zeros(constraints.n_visits))))
    t0 = time.perf_counter()

    floor = min_per_arm / design.n_subjects

    def unpack(x: np.ndarray) -> tuple[StudyDesign, np.ndarray | None]:
        d = replace(design, times=tuple(constraints.to_times(x[:constraints.n_visits])))
        if not opt_alloc:
            return d, None
        a = np.append(x[constraints.n_visits:], 0.0)
        e = np.exp(a - a.max())
        return d, design.n_subjects * (floor + (1 - n_arms * floor) * e / e.sum())

    def objective(x: np.ndarray) -> float:
        try:
            d, sizes = unpack(x)
            v = (_smooth_max_criterion(d, sizes) if criterion == "max_rse_tau"
                 else design_criterion(d, criterion, arm_sizes=sizes))
        except AnalysisError:
            return _BAD
        return v if np.isfinite(v) else _BAD

    def _exact(x: np.ndarray) -> float:
        try:
            d, sizes = unpack(x)
            return design_criterion(d, criterion, arm_sizes=sizes)
        except AnalysisError:
            return _BAD

    rng = check_random_state(seed)
    n_x = constraints.n_visits + (n_arms - 1 if opt_alloc else 0)
    starts = [rng.normal(0.0, 1.5, n_x) for _ in range(n_starts)]
    z_cur = constraints.to_z(design.times)
    if z_cur is not None:
        starts.insert(0, np.concatenate([z_cur, np.zeros(n_x - z_cur.size)]))
    results = []
    for x0 in starts:
        res = minimize(objective, x0, method="L-BFGS-B", options={"maxiter": 500})
        results.append((objective(res.x) if criterion != "max_rse_tau" else _exact(res.x),
                        res.x))
    best_val, best_x = min(results, key=lambda r: r[0])
    if best_val >= _BAD:
        raise AnalysisError("no start reached a design that estimates every parameter: relax "
                            "the constraints or add visits")
    best, sizes = unpack(best_x)
    if sizes is not None:
        n = _round_allocation(design.n_subjects, sizes / design.n_subjects, min_per_arm)
        best = replace(best, arms=tuple(replace(a, n_subjects=int(k))
                                        for a, k in zip(design.arms, n)))
    value = design_criterion(best, criterion)
    try:
        current_value = design_criterion(design, criterion)
    except AnalysisError:
        current_value = np.nan
    table = pd.DataFrame([{"start": i, "criterion": v,
                           "times_h": tuple(np.round(constraints.to_times(x[:constraints.n_visits]),
                                                     3))}
                          for i, (v, x) in enumerate(results)])
    return ScheduleOptimum(best, design, criterion, value, current_value,
                           compare_designs(design, best), table, time.perf_counter() - t0)


def compare_designs(current: StudyDesign, other: StudyDesign, level: float = 0.95
                    ) -> pd.DataFrame:
    """Expected precision per region of two designs side by side.

    Parameters
    ----------
    current, other : StudyDesign
        The design compared with, and the other (e.g. optimised) design.
    level : float
        Confidence level of the expected intervals.

    Returns
    -------
    pandas.DataFrame
        Per region: ``tau_h``, ``current_se_log_tau``, ``optimal_se_log_tau`` (of
        ``other``), ``se_ratio`` (other / current) and both designs' expected CI bounds
        (``current_ci_low_h``... ``optimal_ci_high_h``).
    """
    a = expected_precision(current, level).set_index("region")
    b = expected_precision(other, level).set_index("region")
    out = pd.DataFrame({
        "tau_h": b["tau_h"],
        "current_se_log_tau": a["se_log_tau"], "optimal_se_log_tau": b["se_log_tau"],
        "se_ratio": b["se_log_tau"] / a["se_log_tau"],
        "current_ci_low_h": a["ci_low_h"], "current_ci_high_h": a["ci_high_h"],
        "optimal_ci_low_h": b["ci_low_h"], "optimal_ci_high_h": b["ci_high_h"]})
    return out.reset_index()


@dataclass
class SampleSize:
    """The result of :func:`sample_size`.

    Attributes
    ----------
    n_per_arm : int
        Smallest number of subjects per arm reaching the target (``None`` when even
        ``n_max`` does not).
    target : str
    table : DataFrame
        The quantity per candidate N (every N from the minimum to the answer's
        neighbourhood).
    design : StudyDesign or None
        The design with ``n_per_arm`` subjects per arm.
    """

    n_per_arm: int | None
    target: str
    table: pd.DataFrame
    design: StudyDesign | None


def sample_size(design: StudyDesign, max_rse: float | None = 0.2,
                comparison: Comparison | None = None, power: float = 0.8,
                n_min: int | None = None, n_max: int = 2000) -> SampleSize:
    """Smallest N per arm with SE(log tau) <= ``max_rse`` in every region, or ``power``.

    With ``comparison`` given the target is its power (``max_rse`` ignored). The FO
    information grows linearly with N, so the SE falls as ``1 / sqrt(N)``; the search is
    a bisection over whole N on the exact expected values.

    Parameters
    ----------
    design : StudyDesign
        The design (its arms' sizes are replaced).
    max_rse : float
        Target relative SE of tau (SE of log tau), e.g. 0.2.
    comparison : Comparison, optional
        Size for the power of this test instead.
    power : float
        Target power of ``comparison``, in (0, 1).
    n_min, n_max : int
        Range searched (default minimum: 3 per arm with random effects, else 1).

    Returns
    -------
    SampleSize
        The smallest N per arm (None when ``n_max`` does not reach the target), the
        quantity at every N evaluated, and the design with that N.

    Raises
    ------
    AnalysisError
        Without a positive ``max_rse`` or a comparison, or for a power outside (0, 1).
    """
    if comparison is None and not (max_rse and max_rse > 0):
        raise AnalysisError("sample_size needs max_rse > 0 or a comparison")
    if not 0 < power < 1:
        raise AnalysisError(f"power must be in (0, 1), got {power}")
    lo = n_min if n_min is not None else (3 if design.random_effects else 1)

    def quantity(n: int) -> float:
        d = design.with_n(n)
        if comparison is not None:
            diff, se = _comparison_terms(d, comparison)
            return float(wald_power(diff, se, comparison.alpha, comparison.alternative))
        return float(expected_precision(d)["se_log_tau"].max())

    def ok(v: float) -> bool:
        return v >= power if comparison is not None else v <= max_rse

    target = (f"power >= {power:g} ({comparison.label})" if comparison is not None
              else f"SE(log tau) <= {max_rse:g} in every region")
    seen = {}
    hi = n_max
    seen[hi] = quantity(hi)
    if not ok(seen[hi]):
        return SampleSize(None, target, _table(seen), None)
    seen[lo] = quantity(lo)
    if ok(seen[lo]):
        hi = lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        seen[mid] = quantity(mid)
        lo, hi = (lo, mid) if ok(seen[mid]) else (mid, hi)
    for n in (hi - 1, hi + 1):
        if n >= 1 and n not in seen:
            seen[n] = quantity(n)
    return SampleSize(hi, target, _table(seen), design.with_n(hi))


def _table(seen: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame(sorted(seen.items()), columns=["n_per_arm", "value"])

