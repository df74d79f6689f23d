"""The decay kernels and :class:`DecayModel` (defined in :mod:`ketephys.decay_models`).

They live below both :mod:`ketephys.longitudinal` (which fits them) and
:mod:`ketephys.simulate` (which draws ground truth from them), so the simulator does not
import the fitting layer. This module keeps the historical import path.
"""

from __future__ import annotations

from ..decay_models import (
    KERNELS,
    VARIANTS,
    DecayModel,
    bateman_kernel,
    bateman_peak,
    exponential_kernel,
)

__all__ = ["exponential_kernel", "bateman_kernel", "bateman_peak", "DecayModel", "KERNELS",
           "VARIANTS"]
