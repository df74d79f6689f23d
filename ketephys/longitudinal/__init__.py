"""Longitudinal decay fits: how long does each region's change last?

:func:`fit_decay` fits a return-to-baseline model (mono-exponential, or rise-then-decay)
per region to per-visit markers, as a population model with log-normal between-subject
variability on amplitude and tau and covariates on the log scale, with profile-likelihood
(F / t calibrated) and subject-bootstrap intervals. :func:`recovery_study` checks the
estimator by simulation-estimation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .decay import fit_decay
    from .models import DecayModel, bateman_kernel, exponential_kernel
    from .recovery import RecoveryResult, recovery_study
    from .result import DecayFit, GroupFit, compare_models

_WHERE = {"fit_decay": "decay", "DecayModel": "models", "bateman_kernel": "models",
          "exponential_kernel": "models", "RecoveryResult": "recovery",
          "recovery_study": "recovery", "DecayFit": "result", "GroupFit": "result",
          "compare_models": "result"}

__all__ = ["fit_decay", "DecayFit", "GroupFit", "compare_models", "DecayModel",
           "exponential_kernel", "bateman_kernel", "recovery_study", "RecoveryResult"]


# loaded on first use, so `ketephys --help` (which registers `ketephys fit` from
# ketephys.longitudinal.cli) does not import pandas and scipy
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
