"""Longitudinal decay fits: how long does each region's change last?

:func:`fit_decay` fits a return-to-baseline model (mono-exponential, or rise-then-decay)
per region to per-visit markers, as a population model with log-normal between-subject
variability on amplitude and tau and covariates on the log scale, with profile-likelihood
(F / t calibrated) and subject-bootstrap intervals. :func:`recovery_study` checks the
estimator by simulation-estimation. :func:`plan_study` plans a study from the same model:
expected precision of tau per region (population Fisher information), optimal visit
times, power and sample size, checked by simulation (:func:`simulate_design`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .decay import fit_decay, fit_decay_by_group
    from .design import BASELINE_MODES, COVARIATE_COLUMNS
    from .models import DecayModel, bateman_kernel, exponential_kernel
    from .optimal_design import ScheduleConstraints, optimise_schedule, sample_size
    from .plan import StudyPlan, plan_study
    from .plan_check import simulate_design
    from .planning import (
        Arm,
        Comparison,
        RegionModel,
        StudyDesign,
        expected_power,
        expected_precision,
        region_fim,
    )
    from .recovery import RecoveryResult, recovery_study
    from .result import DecayFit, GroupFit, compare_models

_WHERE = {"fit_decay": "decay", "fit_decay_by_group": "decay", "DecayModel": "models",
          "bateman_kernel": "models", "exponential_kernel": "models",
          "COVARIATE_COLUMNS": "design", "BASELINE_MODES": "design", "RecoveryResult": "recovery",
          "recovery_study": "recovery", "DecayFit": "result", "GroupFit": "result",
          "compare_models": "result", "plan_study": "plan", "StudyPlan": "plan",
          "StudyDesign": "planning", "RegionModel": "planning", "Arm": "planning",
          "Comparison": "planning", "expected_precision": "planning",
          "expected_power": "planning", "region_fim": "planning",
          "ScheduleConstraints": "optimal_design", "optimise_schedule": "optimal_design",
          "sample_size": "optimal_design", "simulate_design": "plan_check"}

__all__ = ["fit_decay", "fit_decay_by_group", "DecayFit", "GroupFit", "compare_models",
           "COVARIATE_COLUMNS", "BASELINE_MODES", "DecayModel", "exponential_kernel", "bateman_kernel", "recovery_study", "RecoveryResult",
           "plan_study", "StudyPlan", "StudyDesign", "RegionModel", "Arm", "Comparison",
           "expected_precision", "expected_power", "region_fim", "ScheduleConstraints",
           "optimise_schedule", "sample_size", "simulate_design"]


# loaded on first use, so `ketephys --help` (which registers `ketephys fit` from
# ketephys.longitudinal.cli) does not import pandas and scipy
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
