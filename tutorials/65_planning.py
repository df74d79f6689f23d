"""
.. _tut-planning:

Plan the study: which visits, how many subjects?
================================================

Before anyone is dosed: with the visits you can afford, how precisely will the study
pin down each region's decay constant tau, and can it tell the striatum's from the
prefrontal cortex's? :mod:`ketephys.longitudinal` answers from the same population model
that :func:`~ketephys.longitudinal.fit_decay` fits (log-normal between-subject variability
on amplitude and tau, residual noise, covariates on the log scale): its expected Fisher
information (first-order linearisation, as PFIM and PopED use) gives the expected SE of
log tau -- which is the relative SE of tau -- the expected 95 % CI, and the power of a
Wald test on a log-tau difference. An optimiser then moves the visits, a bisection finds
the sample size, and a simulation checks the prediction.

We plan twice: from the seed article's scenario, and from a small pilot study.
"""

# %%
# The seed scenario and the usual schedule
# ----------------------------------------
# :func:`~ketephys.longitudinal.planning.regions_from_scenario` turns the simulator's
# default scenario (science.md, "Region time courses": hippocampus tau 36 h, PFC 108 h,
# striatum 204 h) into one :class:`~ketephys.longitudinal.planning.RegionModel` per region.
# The usual schedule is baseline, 2 h, 24 h, day 3, day 7 and day 14; the baseline is
# subtracted by the fit, so a design lists the post-dose visits and counts the baselines.

import numpy as np
import pandas as pd

from ketephys.longitudinal import fit_decay
from ketephys.longitudinal.optimal_design import (
    ScheduleConstraints,
    optimise_schedule,
    sample_size,
    working_hours,
)
from ketephys.longitudinal.plan import plan_study
from ketephys.longitudinal.plan_check import simulate_design
from ketephys.longitudinal.planning import (
    Arm,
    Comparison,
    StudyDesign,
    expected_power,
    expected_precision,
    regions_from_fit,
    regions_from_scenario,
    split_schedule,
)
from ketephys.simulate.markers import DEFAULT_SCHEDULE, simulate_marker_study

pd.set_option("display.width", 130)

regions = regions_from_scenario("default")
times, n_baseline = split_schedule(DEFAULT_SCHEDULE)
current = StudyDesign(regions, times=times, n_baseline=n_baseline, arms=(Arm(n_subjects=20),))
precision = expected_precision(current)
print(precision[["region", "tau_h", "se_log_tau", "ci_low_h", "ci_high_h"]].round(3))
str_vs_pfc = Comparison("regions", "STR", "PFC", alternative="greater")
print(expected_power(current, [str_vs_pfc]).round(3))
# 20 subjects already give ~10 % relative SE in every region
assert precision["se_log_tau"].max() < 0.12

# %%
# A better schedule under real constraints
# ----------------------------------------
# Five post-dose visits, as now, but only in working hours (09:00-17:00, dosing at 09:00),
# not on the weekend days 4 and 5, at least 20 h apart, the last one by day 14. The
# optimiser minimises the mean relative SE of tau over the regions (``"D"`` and
# ``"max_rse_tau"`` are the alternatives); it starts from the current schedule and from
# seeded random schedules, and every trial schedule meets the constraints.

days = [d for d in range(15) if d % 7 not in (4, 5)]
constraints = ScheduleConstraints(n_visits=5, earliest_h=1.0, latest_h=336.0,
                                  min_spacing_h=20.0,
                                  windows=working_hours(336.0, dose_clock_h=9.0, days=days))
best = optimise_schedule(current, constraints, criterion="mean_rse_tau", n_starts=2, seed=0)
print("current  :", current.times)
print("optimised:", tuple(round(t, 1) for t in best.times), f"({best.seconds:.1f} s)")
print(best.comparison[["region", "current_se_log_tau", "optimal_se_log_tau", "se_ratio"]]
      .round(3))
assert best.value <= best.current_value
assert constraints.feasible(best.times)

# %%
# The gain is modest: a few percent on the SE. The usual schedule is already good for
# taus between a day and a week; moving a visit from day 14 to around day 6-8 helps PFC
# and the striatum, at a small cost for the hippocampus.

# %%
# How many subjects?
# ------------------
# Smallest N per arm for a relative SE of tau below 20 % in every region (a loose target
# here), and for 80 % power to show that Met carriers have shorter PFC effects (a
# two-arm study: Val/Val and Met carriers, 30 % shorter tau in the scenario).

n_rse = sample_size(best.design, max_rse=0.2)
print(n_rse.target, "->", n_rse.n_per_arm, "per arm")
two_arms = StudyDesign(regions, times=best.times,
                       arms=(Arm("Val", 20, met_carrier=False), Arm("Met", 20, met_carrier=True)))
met = Comparison("genotype", region="PFC", alternative="less")
n_met = sample_size(two_arms, comparison=met, power=0.8)
print(n_met.target, "->", n_met.n_per_arm, "per arm")
n = n_met.n_per_arm
print(n_met.table[n_met.table["n_per_arm"].between(n - 2, n + 2)])
p_at = expected_power(two_arms.with_n(n), [met])["power"].iloc[0]
p_below = expected_power(two_arms.with_n(n - 1), [met])["power"].iloc[0]
assert p_at >= 0.8 > p_below

# %%
# Does the prediction hold? A simulation check
# --------------------------------------------
# :func:`~ketephys.longitudinal.plan_check.simulate_design` simulates the design with the
# marker simulator and fits every study with ``fit_decay``, as the real study would be
# fitted. Here only 20 studies (a few seconds); use 200 or more for a real check
# (``tests/test_longitudinal_planning.py -m slow`` does, for three designs).

check = simulate_design(best.design, n_studies=20, seed=1)
print(check.precision[["region", "predicted_se_log_tau", "empirical_sd_log_tau",
                       "empirical_sd_mc_error"]].round(3))
# with 20 studies the empirical SD is known to ~16 %: a loose check
assert np.all(np.abs(check.precision["se_ratio"] - 1) < 0.6)

# %%
# Planning from a pilot study
# ---------------------------
# A pilot of 8 subjects, fitted with ``fit_decay``, gives the region models: its taus,
# between-subject and residual SDs become the planning truth
# (:func:`~ketephys.longitudinal.planning.regions_from_fit`). ``plan_study`` puts it all
# together (and is what ``ketephys plan`` prints); ``plan.plot()`` draws the expected CIs
# and the decay curves with the visits.

pilot_table, pilot_truth = simulate_marker_study(n_subjects=8, seed=7)
pilot = fit_decay(pilot_table, ci="profile")
print(pilot.summary()[["region", "tau_h", "tau_ci_low_h", "tau_ci_high_h"]].round(1))
pilot_regions = regions_from_fit(pilot)
plan = plan_study(StudyDesign(pilot_regions, times=times, arms=(Arm(n_subjects=16),)),
                  ScheduleConstraints(5, 2.0, 336.0, 24.0), comparisons=[str_vs_pfc],
                  max_rse=0.15, n_starts=2, seed=0)
print(plan.to_text())
fig = plan.plot()
for r in pilot_regions:
    assert r.tau_h == pilot[r.name].derived()["tau_h"]
assert plan.sample_size.n_per_arm is not None
assert (expected_precision(plan.sample_size.design)["se_log_tau"] <= 0.15).all()

# %%
# What the numbers mean
# ---------------------
# - ``se_log_tau`` is the expected SE of log tau, i.e. the relative SE of tau; the
#   expected CI is ``tau exp(+-1.96 se)``.
# - The prediction is a first-order approximation of the fitted model; with few subjects
#   (< ~10 per arm) the real fit's intervals are wider than the ML-based prediction and
#   the fitted SEs are a little too small (``simulate_design`` shows both).
# - Power is for a Wald test on the log-tau difference; between regions the estimates
#   are treated as independent (each region is fitted on its own).
