"""Plan a study: the expected precision of a visit schedule, before anyone is dosed.

A :class:`StudyDesign` names, per region, the decay model that :func:`fit_decay` will fit
(:class:`RegionModel`: tau, amplitude, between-subject SDs of log A and log tau,
baseline and residual SD, covariate effects), the post-dose visit times, and the arms
(subjects per dose / genotype / infusion course). :func:`region_fim` gives the population
Fisher information of each region's fit, :func:`expected_precision` the expected SE of
log tau, 95 % CI of tau and the covariate effects, and :func:`expected_power` the power
of a Wald test of a log-tau difference (two regions, two doses, Met vs Val).

Approximation (first order, FO, as in PFIM / PopED)
---------------------------------------------------
The parameterisation is :func:`fit_decay`'s (:class:`~ketephys.longitudinal.fit.ParamMap`):
fixed effects ``beta`` (``log_A``, ``log_tau``, their covariate coefficients, ``E0`` when
the baseline is estimated, ``logit_rise`` for the Bateman kernel) and variance components
``omega^2`` of the random effects on (E0, log A, log tau) and ``sigma^2``. A subject's
observations are linearised around the random effects at 0::

    y_i ~ N(f(t; beta, x_i), V_i),   V_i = Z_i Omega Z_i' + sigma^2 I,   Z_i = df/deta

and the subject's information is the Gaussian one,
``M_beta = J' V^-1 J`` and ``M_(a,b) = 1/2 tr(V^-1 dV/da V^-1 dV/db)`` for the variance
components. The population matrix is ``sum over arms n_arm M_arm``. By default the
matrix is block diagonal (Retout & Mentre 2003; the ``1/2 tr(...)`` terms in ``beta``
that come from ``V`` depending on ``beta`` are dropped, as is the ``beta`` x variance
block): that matches the precision that the FOCE-type fit reaches. ``block_diagonal=False``
gives the full FO matrix, with ``dV/dbeta`` by central differences.

With ``baseline_mode="pre-dose"`` (the fit's default) each subject's pre-dose mean is
subtracted; the post-dose changes then share one error ``-mean(baseline noise)``,
which is exactly a random baseline with SD ``residual_sd / sqrt(n_baseline)``: the
baseline SD between subjects cancels. Regions are fitted separately, so their matrices
are independent; estimates of two regions in the same subjects are independent under
the simulator's model (independent random effects per region).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .._check import check_option
from ..errors import AnalysisError
from ..settings import check_keywords
from .design import BASELINE_MODES
from .fit import ParamMap, _beta_jacobian
from .models import KERNELS, DecayModel

__all__ = ["RegionModel", "Arm", "StudyDesign", "Comparison", "RegionInformation",
           "region_fim", "region_fims", "expected_precision", "expected_power", "wald_power",
           "regions_from_scenario", "regions_from_fit", "fit_dose_reference", "split_schedule"]

#: Fit covariate arguments of fit_decay -> the names of the columns they create.
_COV_NAMES = {"dose": "log_dose", "genotype": "met_carrier"}


@dataclass(frozen=True)
class RegionModel:
    """The decay model expected in one region (typical subject at ``dose_ref``, Val/Val).

    Parameters
    ----------
    name : str
    tau_h : float
        Decay time constant (h), > 0.
    amplitude : float
        Peak change (marker units; the sign is the direction of the effect).
    sd_log_amplitude, sd_log_tau : float
        Between-subject SDs of log A and log tau.
    baseline_sd : float
        Between-subject SD of the baseline (used when the baseline is estimated).
    residual_sd : float
        Visit-to-visit measurement SD, > 0.
    kernel : {"exponential", "bateman"}
    rise_fraction : float
        ``tau_rise / tau`` of the Bateman kernel, in (0, 1).
    dose_amp_exponent, dose_tau_exponent : float
        Power-law effects of dose on A and tau (log-scale coefficients of log(D / D_ref)).
    log_met_amp, log_met_tau : float
        Log-scale effects of being a BDNF Met carrier on A and tau.
    """

    name: str
    tau_h: float
    amplitude: float
    sd_log_amplitude: float = 0.2
    sd_log_tau: float = 0.25
    baseline_sd: float = 0.05
    residual_sd: float = 0.04
    kernel: str = "exponential"
    rise_fraction: float = 0.1
    dose_amp_exponent: float = 0.0
    dose_tau_exponent: float = 0.0
    log_met_amp: float = 0.0
    log_met_tau: float = 0.0

    def __post_init__(self) -> None:
        where = f"region {self.name!r}"
        if not (np.isfinite(self.tau_h) and self.tau_h > 0):
            raise AnalysisError(f"{where}: tau_h must be a finite number > 0, got {self.tau_h}")
        if not (np.isfinite(self.amplitude) and self.amplitude != 0):
            raise AnalysisError(f"{where}: amplitude must be finite and non-zero, "
                                f"got {self.amplitude}")
        for name in ("sd_log_amplitude", "sd_log_tau", "baseline_sd"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise AnalysisError(f"{where}: {name} must be >= 0, got {v}")
        if not (np.isfinite(self.residual_sd) and self.residual_sd > 0):
            raise AnalysisError(f"{where}: residual_sd must be > 0, got {self.residual_sd}")
        check_option(f"{where}: kernel", self.kernel, KERNELS)
        if not 0 < self.rise_fraction < 1:
            raise AnalysisError(f"{where}: rise_fraction must be in (0, 1), "
                                f"got {self.rise_fraction}")


@dataclass(frozen=True)
class Arm:
    """A group of subjects with the same dose, genotype, dose course (and visits).

    Parameters
    ----------
    name : str
    n_subjects : int
    dose_mg_per_kg : float
    met_carrier : bool
        BDNF Val66Met Met carriers (True) or Val/Val (False).
    infusions : sequence of (t_h, relative_dose)
        Dose course, times since the first dose (default one dose at 0).
    times : sequence of float, optional
        This arm's own post-dose visit hours (default: the design's).
    """

    name: str = "all"
    n_subjects: int = 20
    dose_mg_per_kg: float = 0.5
    met_carrier: bool = False
    infusions: tuple[tuple[float, float], ...] = ((0.0, 1.0),)
    times: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "infusions",
                           tuple((float(t), float(d)) for t, d in self.infusions))
        if self.times is not None:
            object.__setattr__(self, "times", tuple(float(t) for t in self.times))
        if int(self.n_subjects) != self.n_subjects or self.n_subjects < 1:
            raise AnalysisError(f"arm {self.name!r}: n_subjects must be a whole number >= 1, "
                                f"got {self.n_subjects}")
        if not (np.isfinite(self.dose_mg_per_kg) and self.dose_mg_per_kg > 0):
            raise AnalysisError(f"arm {self.name!r}: dose_mg_per_kg must be > 0")
        ts = [t for t, _ in self.infusions]
        if not ts or min(ts) != 0.0 or any(d <= 0 for _, d in self.infusions):
            raise AnalysisError(f"arm {self.name!r}: infusions need a first dose at t_h = 0 "
                                "and relative doses > 0")


def _check_times(times: Sequence[float], where: str) -> tuple[float, ...]:
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise AnalysisError(f"{where}: visit times must be a non-empty list of finite hours")
    if np.any(t <= 0):
        raise AnalysisError(f"{where}: post-dose visit times must be > 0 h after the dose, got "
                            f"{t[t <= 0].tolist()} (the pre-dose baseline is counted by "
                            "n_baseline, not listed)")
    if np.unique(t).size != t.size:
        raise AnalysisError(f"{where}: visit times repeat: {sorted(t.tolist())}")
    return tuple(np.sort(t).tolist())


@dataclass(frozen=True)
class StudyDesign:
    """Regions, visit times and arms of a planned study.

    Parameters
    ----------
    regions : sequence of RegionModel
    times : sequence of float
        Post-dose visit hours shared by the arms (each > 0).
    arms : sequence of Arm
    n_baseline : int
        Pre-dose visits per subject (at -1, -2, ... h).
    dose_ref_mg_per_kg : float
        Dose at which the regions' ``tau_h`` and ``amplitude`` are given.
    baseline_mode : {"pre-dose", "estimate"}
        How the fit obtains each subject's baseline level, as in :func:`fit_decay`
        (called ``baseline`` before ketephys 0.2; the old name raises
        :class:`~ketephys.errors.SettingsError`).
    random_effects : bool
        Population fit (True) or pooled least squares (False), as in :func:`fit_decay`.
    """

    regions: tuple[RegionModel, ...]
    times: tuple[float, ...] = (2.0, 24.0, 72.0, 168.0, 336.0)
    arms: tuple[Arm, ...] = (Arm(),)
    n_baseline: int = 1
    dose_ref_mg_per_kg: float = 0.5
    baseline_mode: str = "pre-dose"
    random_effects: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "arms", tuple(self.arms))
        if not self.regions:
            raise AnalysisError("a design needs at least one region")
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise AnalysisError(f"region names repeat: {names}")
        if not self.arms or len({a.name for a in self.arms}) != len(self.arms):
            raise AnalysisError("a design needs at least one arm, with distinct names")
        object.__setattr__(self, "times", _check_times(self.times, "design"))
        for arm in self.arms:
            if arm.times is not None:
                _check_times(arm.times, f"arm {arm.name!r}")
        check_option("baseline_mode", self.baseline_mode, BASELINE_MODES)
        if self.baseline_mode == "pre-dose" and self.n_baseline < 1:
            raise AnalysisError("baseline_mode='pre-dose' needs n_baseline >= 1 pre-dose visit")
        if not self.dose_ref_mg_per_kg > 0:
            raise AnalysisError("dose_ref_mg_per_kg must be > 0")
        for region in self.regions:
            need = self.n_required_visits(region)
            for arm in self.arms:
                n = len(self.arm_times(arm))
                if n < need:
                    raise AnalysisError(
                        f"arm {arm.name!r}: {n} post-dose visits for region {region.name!r}, "
                        f"fewer than the {need} parameters each subject's curve needs "
                        f"({region.kernel} kernel{', random effects' if self.random_effects else ''})")

    # ------------------------------------------------------------------ helpers
    def n_required_visits(self, region: RegionModel) -> int:
        """Post-dose visits a subject needs: the kernel's parameters (+1 for the population).

        Parameters
        ----------
        region : RegionModel
            The region (its kernel).

        Returns
        -------
        int
            2 (exponential) or 3 (Bateman), +1 with ``baseline_mode="estimate"``, +1 with
            random effects.
        """
        n = 3 if region.kernel == "bateman" else 2
        return n + int(self.baseline_mode == "estimate") + int(self.random_effects)

    def arm_times(self, arm: Arm) -> tuple[float, ...]:
        """An arm's post-dose visit hours.

        Parameters
        ----------
        arm : Arm
            One of the design's arms.

        Returns
        -------
        tuple of float
            The arm's own ``times``, else the design's.
        """
        return self.times if arm.times is None else arm.times

    @property
    def n_subjects(self) -> int:
        return int(sum(a.n_subjects for a in self.arms))

    @property
    def covariates(self) -> tuple[str, ...]:
        """The ``covariates`` argument of :func:`fit_decay` the arms call for."""
        out = []
        if len({a.dose_mg_per_kg for a in self.arms}) > 1:
            out.append("dose")
        if len({a.met_carrier for a in self.arms}) > 1:
            out.append("genotype")
        return tuple(out)

    @property
    def fit_dose_ref(self) -> float:
        """The reference dose :func:`fit_decay` will use: the most common (smallest on ties)."""
        counts: dict[float, int] = {}
        for a in self.arms:
            counts[a.dose_mg_per_kg] = counts.get(a.dose_mg_per_kg, 0) + a.n_subjects
        top = max(counts.values())
        return min(d for d, c in counts.items() if c == top)

    @property
    def reference_met(self) -> bool:
        """Genotype of the fit's reference subject (Val/Val unless every arm is Met)."""
        return "genotype" not in self.covariates and all(a.met_carrier for a in self.arms)

    def reference_tau(self, region: RegionModel) -> float:
        """tau (h) of the fit's reference subject (reference dose and genotype).

        Parameters
        ----------
        region : RegionModel
            The region.

        Returns
        -------
        float
            The region's ``tau_h`` moved from ``dose_ref_mg_per_kg`` to the fit's
            reference dose (:attr:`fit_dose_ref`) and genotype.
        """
        return float(np.exp(_intercepts(self, region)[1]))

    def with_times(self, times: Sequence[float]) -> StudyDesign:
        """The same design with other shared visit times.

        Parameters
        ----------
        times : sequence of float
            Post-dose visit hours (each > 0).

        Returns
        -------
        StudyDesign
        """
        return replace(self, times=tuple(times))

    def with_n(self, n_per_arm: int | Sequence[int]) -> StudyDesign:
        """The same design with other arm sizes.

        Parameters
        ----------
        n_per_arm : int or sequence of int
            Subjects in every arm, or one number per arm.

        Returns
        -------
        StudyDesign
        """
        ns = np.broadcast_to(np.asarray(n_per_arm), (len(self.arms),))
        return replace(self, arms=tuple(replace(a, n_subjects=int(n))
                                        for a, n in zip(self.arms, ns)))

    def baseline_times(self) -> tuple[float, ...]:
        """The pre-dose visit hours: -1, -2, ... (``n_baseline`` of them).

        Returns
        -------
        tuple of float
        """
        return tuple(-float(k) for k in range(1, self.n_baseline + 1))


# the dataclass's constructor: a former field name is an error naming the new one
StudyDesign.__init__ = check_keywords(  # type: ignore[method-assign]
    renamed={"baseline": "baseline_mode"})(StudyDesign.__init__)


def split_schedule(schedule: Sequence[float]) -> tuple[tuple[float, ...], int]:
    """Split a simulator-style schedule into what :class:`StudyDesign` takes.

    Parameters
    ----------
    schedule : sequence of float
        Visit hours, negative = pre-dose (e.g.
        :data:`~ketephys.simulate.markers.DEFAULT_SCHEDULE`).

    Returns
    -------
    times : tuple of float
        The visits at hours >= 0.
    n_baseline : int
        The number of pre-dose visits.
    """
    s = np.asarray(schedule, dtype=float)
    return tuple(s[s >= 0].tolist()), int(np.sum(s < 0))


@dataclass(frozen=True)
class Comparison:
    """A log-tau difference to detect: ``log tau(a) - log tau(b)``.

    Parameters
    ----------
    kind : {"regions", "dose", "genotype"}
        Two regions (``a``, ``b`` region names); two doses in ``region`` (``a``, ``b`` in
        mg/kg, from the dose covariate's effect on log tau); Met carriers vs Val/Val in
        ``region`` (the Met effect on log tau).
    a, b : str or float
    region : str, optional
        For ``"dose"`` and ``"genotype"``.
    difference : float, optional
        The log-tau difference to detect (default: the one the region models imply).
    alpha : float
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: tau(a) > tau(b).
    """

    kind: str
    a: Any = None
    b: Any = None
    region: str | None = None
    difference: float | None = None
    alpha: float = 0.05
    alternative: str = "two-sided"

    def __post_init__(self) -> None:
        check_option("comparison kind", self.kind, ("regions", "dose", "genotype"))
        check_option("alternative", self.alternative, ("two-sided", "greater", "less"))
        if not 0 < self.alpha < 1:
            raise AnalysisError(f"alpha must be in (0, 1), got {self.alpha}")

    @property
    def label(self) -> str:
        if self.kind == "regions":
            return f"tau {self.a} vs {self.b}"
        if self.kind == "dose":
            return f"{self.region}: tau at {self.a:g} vs {self.b:g} mg/kg"
        return f"{self.region}: tau Met vs Val"


@dataclass
class RegionInformation:
    """Population Fisher information of one region's fit.

    Attributes
    ----------
    region : str
        The region's name.
    names : list of str
        Free fixed effects (``fit_decay`` names) then variance components
        (``omega2_E0``, ``omega2_log_A``, ``omega2_log_tau``, ``sigma2``).
    values : ndarray
        The parameter values the matrix is evaluated at.
    matrix : ndarray (P, P)
        The population Fisher information, in the order of ``names``.
    n_beta : int
        How many of ``names`` are fixed effects (the first ones).
    """

    region: str
    names: list[str]
    values: np.ndarray
    matrix: np.ndarray
    n_beta: int = field(default=0)

    @property
    def covariance(self) -> np.ndarray:
        return _safe_inverse(self.matrix, self.region)

    def se(self, name: str) -> float:
        """Expected standard error of one parameter.

        Parameters
        ----------
        name : str
            One of :attr:`names`, e.g. ``"log_tau"`` (its SE is the relative SE of tau).

        Returns
        -------
        float
            ``sqrt`` of the diagonal entry of the inverse information.

        Raises
        ------
        AnalysisError
            When the information matrix is singular.
        """
        k = self.names.index(name)
        return float(np.sqrt(self.covariance[k, k]))

    def log_det(self) -> float:
        """Log determinant of the information matrix (the D criterion).

        Returns
        -------
        float
            ``log det(matrix)``, or ``-inf`` when it is not positive.
        """
        sign, ld = np.linalg.slogdet(self.matrix)
        return float(ld) if sign > 0 else -np.inf


def _safe_inverse(m: np.ndarray, region: str) -> np.ndarray:
    w = np.linalg.eigvalsh(0.5 * (m + m.T))
    if w.min() <= w.max() * 1e-13:
        raise AnalysisError(f"region {region!r}: the design cannot estimate every parameter "
                            "(singular information matrix): add visits or spread them out")
    return np.linalg.inv(m)


# ---------------------------------------------------------------------- the model
def _param_map(design: StudyDesign, region: RegionModel) -> ParamMap:
    model = DecayModel(kernel=region.kernel, sign=float(np.sign(region.amplitude)))
    covs = tuple(_COV_NAMES[c] for c in design.covariates)
    random = ("E0", "log_A", "log_tau") if design.random_effects else ()
    return ParamMap(model, covariates=covs, random=random,
                    fixed_e0=design.baseline_mode == "pre-dose")


def _intercepts(design: StudyDesign, region: RegionModel) -> tuple[float, float]:
    """(log A, log tau) of the fit's reference subject."""
    shift = np.log(design.fit_dose_ref / design.dose_ref_mg_per_kg)
    met = float(design.reference_met)
    return (float(np.log(abs(region.amplitude)) + region.dose_amp_exponent * shift
                  + region.log_met_amp * met),
            float(np.log(region.tau_h) + region.dose_tau_exponent * shift
                  + region.log_met_tau * met))


def _beta(design: StudyDesign, region: RegionModel, pm: ParamMap) -> np.ndarray:
    log_a, log_tau = _intercepts(design, region)
    values = {"E0": 0.0, "log_A": log_a, "log_tau": log_tau,
              "logit_rise": float(np.log(region.rise_fraction / (1 - region.rise_fraction))),
              "log_A:log_dose": region.dose_amp_exponent,
              "log_tau:log_dose": region.dose_tau_exponent,
              "log_A:met_carrier": region.log_met_amp,
              "log_tau:met_carrier": region.log_met_tau}
    return np.array([values[n] for n in pm.beta_names])


def _omega(design: StudyDesign, region: RegionModel) -> np.ndarray:
    if not design.random_effects:
        return np.zeros(0)
    base = (region.residual_sd / np.sqrt(design.n_baseline)
            if design.baseline_mode == "pre-dose" else region.baseline_sd)
    # a zero SD would make the variance component's information infinite: floor it as
    # the fit does (_omega_floor), far below any SD that matters
    return np.maximum([base, region.sd_log_amplitude, region.sd_log_tau], 1e-3)


def _arm_arrays(design: StudyDesign, arm_sizes: Sequence[float] | None) -> dict[str, np.ndarray]:
    """The arms as padded arrays (A, V) / (A, J) with masks, and their sizes (A,)."""
    times = []
    for arm in design.arms:
        t = np.asarray(design.arm_times(arm))
        if design.baseline_mode == "estimate":
            t = np.concatenate([design.baseline_times(), t])
        times.append(t)
    n_arm, n_v = len(times), max(t.size for t in times)
    n_j = max(len(a.infusions) for a in design.arms)
    out = {"t": np.ones((n_arm, n_v)), "mask": np.zeros((n_arm, n_v), bool),
           "dose_t": np.zeros((n_arm, n_j)), "dose_amt": np.ones((n_arm, n_j)),
           "dose_mask": np.zeros((n_arm, n_j), bool),
           "X": np.zeros((n_arm, len(design.covariates)))}
    for i, (arm, t) in enumerate(zip(design.arms, times)):
        out["t"][i, :t.size], out["mask"][i, :t.size] = t, True
        inf = np.asarray(arm.infusions)
        out["dose_t"][i, :len(inf)] = inf[:, 0]
        out["dose_amt"][i, :len(inf)] = arm.dose_mg_per_kg * inf[:, 1]
        out["dose_mask"][i, :len(inf)] = True
        for c, name in enumerate(design.covariates):
            out["X"][i, c] = (np.log(arm.dose_mg_per_kg / design.fit_dose_ref) if name == "dose"
                              else float(arm.met_carrier))
    out["sizes"] = np.asarray([a.n_subjects for a in design.arms] if arm_sizes is None
                              else arm_sizes, float)
    return out


def _jacobians(pm: ParamMap, B: np.ndarray, arr: dict[str, np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray]:
    """d mean / d beta (R, A, V, p) and d f / d eta (R, A, V, q) at eta = 0, for R
    parameter vectors ``B`` (R, p) and the A arms; padded visits give zero rows."""
    R, A = B.shape[0], arr["t"].shape[0]
    P = np.einsum("amp,rp->ram", pm.design(arr["X"]), B)
    shape = (R, A)
    _, JP = pm.model.evaluate(np.broadcast_to(arr["t"], (*shape, arr["t"].shape[1])), P,
                              *(np.broadcast_to(arr[k], (*shape, arr[k].shape[1]))
                                for k in ("dose_t", "dose_amt", "dose_mask")))
    JP = JP * arr["mask"][None, :, :, None]
    X = np.broadcast_to(arr["X"], (R, *arr["X"].shape))
    return _beta_jacobian(pm, JP, X), JP[..., pm.re_index]


def _variance(Z: np.ndarray, omega: np.ndarray, sigma: np.ndarray, mask: np.ndarray
              ) -> np.ndarray:
    """``Z Omega Z' + sigma^2 I`` (R, A, V, V); padded visits get an inert unit variance."""
    V = np.einsum("ravq,rq,rawq->ravw", Z, omega**2, Z)
    diag = np.where(mask, sigma[:, None, None] ** 2, 1.0)
    return V + diag[..., None] * np.eye(mask.shape[-1])


def _trace_products(Wa: np.ndarray, Wb: np.ndarray) -> np.ndarray:
    """``1/2 tr(W_k W_l)`` for stacks (R, A, K, V, V) x (R, A, L, V, V) -> (R, A, K, L)."""
    return 0.5 * np.einsum("rakij,ralji->rakl", Wa, Wb)


def _fim_group(design: StudyDesign, regions: Sequence[RegionModel],
               arr: dict[str, np.ndarray], block_diagonal: bool) -> list[RegionInformation]:
    """Population FIMs of regions sharing a kernel (one batched model evaluation).

    The information does not depend on the sign of the effect (it enters the Jacobians
    as a common factor), so the regions share one parameter map.
    """
    pm = _param_map(design, regions[0])
    B = np.stack([_beta(design, r, pm) for r in regions])
    free = np.array([not (n == "E0" and pm.fixed_e0) for n in pm.beta_names])
    omega = np.stack([_omega(design, r) for r in regions])
    sigma = np.array([r.residual_sd for r in regions])
    mask = np.broadcast_to(arr["mask"], (len(regions), *arr["mask"].shape))
    Jb, Z = _jacobians(pm, B, arr)
    Jb = Jb[..., free]
    Vi = np.linalg.inv(_variance(Z, omega, sigma, mask))
    # dV/d omega_k^2 = z_k z_k', dV/d sigma^2 = diag(mask); W = V^-1 dV
    VZ = Vi @ Z
    W = np.concatenate([np.einsum("ravk,rawk->rakvw", VZ, Z),
                        (Vi * mask[..., None, :])[:, :, None]], axis=2)
    n_b, n_v = int(free.sum()), W.shape[2]
    M = np.zeros((*Z.shape[:2], n_b + n_v, n_b + n_v))
    M[..., :n_b, :n_b] = np.einsum("ravi,ravw,rawj->raij", Jb, Vi, Jb)
    M[..., n_b:, n_b:] = _trace_products(W, W)
    if not block_diagonal and pm.n_re:
        Wb = Vi[:, :, None] @ _dV_dbeta(pm, B, arr, omega, sigma, mask, np.flatnonzero(free))
        M[..., :n_b, :n_b] += _trace_products(Wb, Wb)
        M[..., :n_b, n_b:] = _trace_products(Wb, W)
        M[..., n_b:, :n_b] = np.swapaxes(M[..., :n_b, n_b:], -1, -2)
    total = np.einsum("a,raij->rij", arr["sizes"], M)
    names = [n for n, f in zip(pm.beta_names, free) if f] + [
        f"omega2_{n}" for n in pm.random] + ["sigma2"]
    return [RegionInformation(r.name, names, np.concatenate([B[k, free], omega[k]**2,
                                                             [sigma[k]**2]]),
                              total[k], n_beta=n_b) for k, r in enumerate(regions)]


def _dV_dbeta(pm: ParamMap, B: np.ndarray, arr: dict, omega: np.ndarray, sigma: np.ndarray,
              mask: np.ndarray, idx: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """dV / d beta_k (R, A, K, V, V) by central differences of the analytic Jacobian."""
    out = []
    for k in idx:
        step = np.zeros(B.shape[1])
        step[k] = h
        vp = _variance(_jacobians(pm, B + step, arr)[1], omega, sigma, mask)
        vm = _variance(_jacobians(pm, B - step, arr)[1], omega, sigma, mask)
        out.append((vp - vm) / (2 * h))
    return np.stack(out, axis=2)


def region_fims(design: StudyDesign, block_diagonal: bool = True,
                arm_sizes: Sequence[float] | None = None) -> dict[str, RegionInformation]:
    """Population Fisher information (FO) of every region's fit under ``design``.

    Parameters
    ----------
    design : StudyDesign
    block_diagonal : bool
        Block-diagonal FO matrix (default, see the module docstring) or the full FO
        matrix (with the ``beta`` x variance block; ``dV/dbeta`` by central differences).
    arm_sizes : sequence of float, optional
        Subjects per arm instead of the arms' ``n_subjects`` (continuous values allowed:
        the allocation optimiser uses them).

    Returns
    -------
    dict
        Region name -> :class:`RegionInformation`.
    """
    arr = _arm_arrays(design, arm_sizes)
    out: dict[str, RegionInformation] = {}
    for kernel in KERNELS:
        group = [r for r in design.regions if r.kernel == kernel]
        if group:
            out.update((i.region, i) for i in _fim_group(design, group, arr, block_diagonal))
    return {r.name: out[r.name] for r in design.regions}


def region_fim(design: StudyDesign, region: RegionModel | str,
               block_diagonal: bool = True, arm_sizes: Sequence[float] | None = None
               ) -> RegionInformation:
    """Population Fisher information (FO) of one region's fit; see :func:`region_fims`.

    Parameters
    ----------
    design : StudyDesign
        The design.
    region : RegionModel or str
        The region (or its name).
    block_diagonal : bool
        Block-diagonal FO matrix (default) or the full one.
    arm_sizes : sequence of float, optional
        Subjects per arm instead of the arms' ``n_subjects``.

    Returns
    -------
    RegionInformation
    """
    if isinstance(region, str):
        region = _find_region(design, region)
    arr = _arm_arrays(design, arm_sizes)
    return _fim_group(design, [region], arr, block_diagonal)[0]


def _find_region(design: StudyDesign, name: str) -> RegionModel:
    for r in design.regions:
        if r.name == name:
            return r
    raise AnalysisError(f"no region {name!r} in the design (regions: "
                        f"{[r.name for r in design.regions]})")


# ---------------------------------------------------------------------- precision
def expected_precision(design: StudyDesign, level: float = 0.95) -> pd.DataFrame:
    """Expected precision of each region's tau (and covariate effects) under ``design``.

    Parameters
    ----------
    design : StudyDesign
        The design.
    level : float
        Confidence level of the expected Wald intervals.

    Returns
    -------
    DataFrame
        One row per region: ``tau_h`` (reference subject), ``se_log_tau`` (the relative
        SE of tau to first order), ``ci_low_h`` / ``ci_high_h`` (expected Wald interval
        ``tau exp(-+ z se)``), ``ci_ratio`` (upper / lower), ``se_sd_log_tau`` (SE of the
        between-subject SD of log tau, delta method) and ``se_<effect>`` for the
        covariate effects on log tau.
    """
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    infos = region_fims(design)
    for region in design.regions:
        info = infos[region.name]
        cov = info.covariance
        k = info.names.index("log_tau")
        se = float(np.sqrt(cov[k, k]))
        tau = design.reference_tau(region)
        row = {"region": region.name, "tau_h": tau, "se_log_tau": se,
               "ci_low_h": tau * np.exp(-z * se), "ci_high_h": tau * np.exp(z * se),
               "ci_ratio": float(np.exp(2 * z * se)), "n_subjects": design.n_subjects,
               "n_visits": len(design.times)}
        if "omega2_log_tau" in info.names:
            j = info.names.index("omega2_log_tau")
            # d omega / d omega^2 = 1 / (2 omega)
            row["se_sd_log_tau"] = float(np.sqrt(cov[j, j]) / (2 * np.sqrt(info.values[j])))
        for name in info.names:
            if name.startswith("log_tau:"):
                row[f"se_{name}"] = info.se(name)
        rows.append(row)
    return pd.DataFrame(rows)


def _comparison_terms(design: StudyDesign, comp: Comparison) -> tuple[float, float]:
    """(expected log-tau difference, its SE) for a comparison."""
    if comp.kind == "regions":
        ra, rb = _find_region(design, comp.a), _find_region(design, comp.b)
        se = float(np.hypot(region_fim(design, ra).se("log_tau"),
                            region_fim(design, rb).se("log_tau")))
        diff = np.log(design.reference_tau(ra)) - np.log(design.reference_tau(rb))
    else:
        if comp.region is None:
            raise AnalysisError(f"a {comp.kind!r} comparison needs region=")
        region = _find_region(design, comp.region)
        need = "dose" if comp.kind == "dose" else "genotype"
        if need not in design.covariates:
            raise AnalysisError(f"a {comp.kind!r} comparison needs arms that differ in "
                                f"{need} (the design's arms: "
                                f"{[(a.name, a.dose_mg_per_kg, a.met_carrier) for a in design.arms]})")
        name = f"log_tau:{_COV_NAMES[need]}"
        se_coef = region_fim(design, region).se(name)
        if comp.kind == "dose":
            if comp.a is None or comp.b is None or min(comp.a, comp.b) <= 0:
                raise AnalysisError("a 'dose' comparison needs two doses a, b > 0 (mg/kg)")
            scale = float(np.log(comp.a / comp.b))
            diff, se = region.dose_tau_exponent * scale, se_coef * abs(scale)
        else:
            diff, se = region.log_met_tau, se_coef
    if comp.difference is not None:
        diff = float(comp.difference)
    return float(diff), float(se)


def wald_power(diff: float | np.ndarray, se: float | np.ndarray, alpha: float = 0.05,
               alternative: str = "two-sided") -> np.ndarray:
    """Power of a Wald z test of a difference ``diff`` estimated with standard error ``se``.

    Parameters
    ----------
    diff : float or ndarray
        True difference (e.g. of log tau).
    se : float or ndarray
        Standard error of its estimate.
    alpha : float
        Significance level.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: the test rejects for a large positive estimate.

    Returns
    -------
    ndarray
        The power (same shape as ``diff`` and ``se`` broadcast).
    """
    from scipy import stats

    ncp = np.asarray(diff, float) / np.asarray(se, float)
    if alternative == "greater":
        return stats.norm.sf(stats.norm.isf(alpha) - ncp)
    if alternative == "less":
        return stats.norm.cdf(-stats.norm.isf(alpha) - ncp)
    c = stats.norm.isf(alpha / 2)
    return stats.norm.sf(c - ncp) + stats.norm.cdf(-c - ncp)


def expected_power(design: StudyDesign, comparisons: Sequence[Comparison]) -> pd.DataFrame:
    """Expected power of Wald tests on log-tau differences.

    Parameters
    ----------
    design : StudyDesign
        The design.
    comparisons : sequence of Comparison
        The tests.

    Returns
    -------
    DataFrame
        One row per comparison: ``comparison``, ``log_ratio`` (the difference to detect),
        ``se_log_ratio``, ``power``, ``alpha``, ``alternative``.
    """
    rows = []
    for comp in comparisons:
        diff, se = _comparison_terms(design, comp)
        rows.append({"comparison": comp.label, "log_ratio": diff, "ratio": float(np.exp(diff)),
                     "se_log_ratio": se,
                     "power": float(wald_power(diff, se, comp.alpha, comp.alternative)),
                     "alpha": comp.alpha, "alternative": comp.alternative})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- sources
def regions_from_scenario(scenario: str | Mapping[str, Any] = "default",
                          regions: Sequence[str] | None = None) -> tuple[RegionModel, ...]:
    """Region models from a marker scenario of :mod:`ketephys.simulate.markers`.

    The ``"default"`` scenario is the seed article's (:ref:`science-region-time-courses`):
    hippocampus fastest (tau 36 h), PFC several days (108 h), striatum ~2 weeks
    (204 h); dose ``tau ~ D^-0.4``, Met carriers 30 % shorter.

    Parameters
    ----------
    scenario : str or mapping
        A scenario name or a scenario mapping (see
        :func:`~ketephys.simulate.markers.simulate_marker_study`).
    regions : sequence of str, optional
        Only these regions (default: all of the scenario's).

    Returns
    -------
    tuple of RegionModel
        One per region, with the scenario's SDs, kernel and covariate effects.

    Raises
    ------
    AnalysisError
        When a region is not in the scenario.
    """
    from ..simulate.markers import _resolve_scenario

    sc = _resolve_scenario(scenario)
    names = list(sc["regions"]) if regions is None else list(regions)
    out = []
    for name in names:
        if name not in sc["regions"]:
            raise AnalysisError(f"region {name!r} is not in the scenario "
                                f"({sorted(sc['regions'])})")
        reg = sc["regions"][name]
        out.append(RegionModel(
            name=name, tau_h=reg["tau_h"], amplitude=reg["A"],
            sd_log_amplitude=sc["bsv_sd_amplitude"], sd_log_tau=sc["bsv_sd_tau"],
            baseline_sd=sc["baseline_sd"], residual_sd=sc["noise_sd"], kernel=sc["kernel"],
            rise_fraction=sc["rise_fraction"], dose_amp_exponent=sc["dose_amp_exponent"],
            dose_tau_exponent=sc["dose_tau_exponent"],
            log_met_amp=float(np.log(sc["met_amp_factor"])),
            log_met_tau=float(np.log(sc["met_tau_factor"]))))
    return tuple(out)


def _residual_sd(g: Any) -> float:
    if g.random_effects:
        return float(g.state.sigma[0])
    # the pooled fit runs at sigma = 1, so its objective is the residual sum of squares
    dof = max(g.data.n_obs - int((~g.fixed).sum()), 1)
    return float(np.sqrt(g.state.objective[0] / dof))


def fit_dose_reference(fit: Any, default: float = 0.5) -> float:
    """The reference dose (mg/kg) of a fit with a dose covariate (else ``default``).

    Parameters
    ----------
    fit : DecayFit
        A pilot fit.
    default : float
        The dose to return when the fit has no dose covariate.

    Returns
    -------
    float
    """
    for cov in fit.covariates:
        if cov.kind == "log_ratio":
            return float(cov.reference)
    return float(default)


def regions_from_fit(fit: Any) -> tuple[RegionModel, ...]:
    """Region models from a pilot :class:`~ketephys.longitudinal.DecayFit`.

    tau and the amplitude are the fit's reference-subject values; the between-subject
    and residual SDs and the covariate effects on log A / log tau are the estimates (a
    pooled fit gives no between-subject SDs: they are set to 0). The fit's reference
    dose is the ``dose_ref_mg_per_kg`` to plan with (:func:`fit_dose_reference`).

    Parameters
    ----------
    fit : DecayFit
        A pilot fit (one group per region; the region is the last key).

    Returns
    -------
    tuple of RegionModel
        One per fitted group.
    """
    out = []
    for g in fit.groups:
        beta = g.beta
        d = g.derived()
        sds = dict(zip(g.pm.random, g.state.omega[0])) if g.random_effects else {}
        kw = {"dose_amp_exponent": beta.get("log_A:log_dose", 0.0),
              "dose_tau_exponent": beta.get("log_tau:log_dose", 0.0),
              "log_met_amp": beta.get("log_A:met_carrier", 0.0),
              "log_met_tau": beta.get("log_tau:met_carrier", 0.0)}
        if g.pm.model.kernel == "bateman":
            kw["rise_fraction"] = float(1.0 / (1.0 + np.exp(-beta["logit_rise"])))
        out.append(RegionModel(
            name=str(g.key[-1]), tau_h=d["tau_h"], amplitude=d["A"],
            sd_log_amplitude=float(sds.get("log_A", 0.0)),
            sd_log_tau=float(sds.get("log_tau", 0.0)),
            baseline_sd=float(sds.get("E0", 0.0)), residual_sd=_residual_sd(g),
            kernel=g.pm.model.kernel, **{k: float(v) for k, v in kw.items()}))
    return tuple(out)
