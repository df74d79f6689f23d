"""Decay kernels and the dose-superposition model, with analytic Jacobians (base layer:
used by :mod:`ketephys.longitudinal` to fit and by :mod:`ketephys.simulate` to simulate).

Every function works on numpy arrays of any (broadcastable) shape, so the same code
evaluates one subject, a whole study or a thousand bootstrap replicates at once.

Parameters live on an unconstrained scale:

``E0``
    baseline (additive, in the marker's unit);
``log_A``
    log of the effect amplitude (the sign of the effect is fixed per group, see
    :class:`DecayModel`);
``log_tau``
    log of the decay time constant in hours;
``logit_rise`` (Bateman only)
    ``logit(tau_rise / tau_decay)``, so that ``tau_rise < tau_decay`` always holds;
``gamma``
    dose-scaling exponent, ``s(D) = (D / D_ref) ** gamma``;
``log_rho``
    tolerance (``rho < 1``) or sensitisation (``rho > 1``): the ``j``-th dose (0-based)
    is scaled by ``rho ** j``;
``log_kappa``
    slowing of decay: the ``j``-th dose decays with ``tau * kappa ** j``.

Kernels
-------
exponential
    ``K(t) = exp(-t / tau) H(t)``.
Bateman (rise then decay), normalised so that a very fast rise gives the exponential
    ``K(t) = tau_d / (tau_d - tau_r) (exp(-t/tau_d) - exp(-t/tau_r)) H(t)``, written as
    ``exp(-t/tau_d) (t/tau_r) phi(t d)`` with ``d = 1/tau_r - 1/tau_d`` and
    ``phi(x) = (1 - exp(-x)) / x``, which is exact and smooth through the equal-rate
    limit ``tau_r = tau_d`` where ``K(t) = (t / tau) exp(-t / tau)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "exponential_kernel",
    "bateman_kernel",
    "DecayModel",
    "KERNELS",
    "VARIANTS",
]

KERNELS = ("exponential", "bateman")
VARIANTS = ("none", "tolerance", "slowing")


#: |logit(tau_rise / tau_decay)| beyond which the kernel no longer changes (r ~ 1e-217).
_MAX_LOGIT = 500.0
#: Largest scaled time t / tau evaluated; exp(-u) is exactly 0 long before.
_MAX_U = 1e300


def _scaled_time(t: np.ndarray, log_tau: np.ndarray) -> np.ndarray:
    """``max(t, 0) / tau``, finite for any ``log_tau`` (no overflow warning)."""
    inv_tau = np.exp(np.minimum(-np.asarray(log_tau, dtype=float), 700.0))
    with np.errstate(over="ignore"):
        u = np.maximum(t, 0.0) * inv_tau
    return np.minimum(u, _MAX_U)


def _phi(x: np.ndarray) -> np.ndarray:
    """(1 - exp(-x)) / x, equal to 1 at x = 0."""
    small = np.abs(x) < 1e-8
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - 0.5 * x, -np.expm1(-safe) / safe)


def _x_dlogphi(x: np.ndarray) -> np.ndarray:
    """x phi'(x) / phi(x) = x / expm1(x) - 1, equal to 0 at x = 0."""
    small = np.abs(x) < 1e-8
    safe = np.where(small, 1.0, x)
    big = safe > 700
    ratio = np.where(big, 0.0, np.minimum(safe, 700) / np.expm1(np.minimum(safe, 700)))
    return np.where(small, -0.5 * x, ratio - 1.0)


def exponential_kernel(t: np.ndarray, log_tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mono-exponential kernel and its derivative.

    Parameters
    ----------
    t : array
        Hours since the dose (negative before it).
    log_tau : array
        Log decay time constant (h), broadcastable with ``t``.

    Returns
    -------
    k : array
        ``exp(-t / tau)`` for ``t >= 0``, 0 before the dose.
    dk_dlog_tau : array
        ``k t / tau``.
    """
    t = np.asarray(t, dtype=float)
    u = _scaled_time(t, log_tau)
    k = np.where(t >= 0, np.exp(-u), 0.0)
    return k, k * u


def bateman_kernel(
    t: np.ndarray, log_tau: np.ndarray, logit_rise: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rise-then-decay kernel (normalised Bateman function) and its derivatives.

    Parameters
    ----------
    t : array
        Hours since the dose.
    log_tau : array
        Log decay time constant ``tau_d`` (h).
    logit_rise : array
        ``logit(tau_r / tau_d)``; ``+inf`` is the equal-rate limit.

    Returns
    -------
    k, dk_dlog_tau, dk_dlogit_rise : arrays
    """
    t = np.asarray(t, dtype=float)
    q = np.clip(np.asarray(logit_rise, dtype=float), -_MAX_LOGIT, _MAX_LOGIT)
    u = _scaled_time(t, log_tau)
    r = np.exp(-np.logaddexp(0.0, -q))  # tau_r / tau_d in (0, 1], never 0 after the clip
    one_minus_r = np.exp(-np.logaddexp(0.0, q))  # 1 - r without cancellation
    with np.errstate(over="ignore"):  # x = inf for a vanishing rise is handled below
        x = u * (one_minus_r / r)
    fast = r < 0.5
    # fast rise: (u / r) phi(x) = (1 - exp(-x)) / (1 - r), finite for any x (incl. inf);
    # slow rise (r >= 0.5): u / r <= 2 u and x <= u, both finite
    shape = np.where(fast, -np.expm1(-x) / np.where(fast, one_minus_r, 1.0),
                     (u / np.where(fast, 1.0, r)) * _phi(np.where(fast, 0.0, x)))
    k = np.where(t > 0, np.exp(-u) * shape, 0.0)
    g = _x_dlogphi(x)
    dk_dlog_tau = k * (u - 1.0 - g)
    dk_dlogit = k * (-one_minus_r - g)
    return k, dk_dlog_tau, dk_dlogit


def bateman_peak(tau_d: np.ndarray, tau_r: np.ndarray) -> np.ndarray:
    """Time (h) of the Bateman kernel's maximum; ``tau`` in the equal-rate limit."""
    tau_d = np.asarray(tau_d, dtype=float)
    tau_r = np.asarray(tau_r, dtype=float)
    d = 1.0 / tau_r - 1.0 / tau_d
    close = np.abs(d) * tau_d < 1e-8
    safe = np.where(close, 1.0, d)
    return np.where(close, tau_d, np.log(tau_d / np.where(close, 1.0, tau_r)) / safe)


@dataclass(frozen=True)
class DecayModel:
    """The response to a dose history, with the parameters it estimates.

    ``f(t) = E0 + sign * A * sum_j s_j K(t - t_j; tau_j, ...)`` with
    ``s_j = (D_j / D_1) ** gamma * rho ** j`` and ``tau_j = tau * kappa ** j``
    (``j`` = 0 for the first dose). With a single dose ``f = E0 + sign A K(t)``.

    Parameters
    ----------
    kernel : {"exponential", "bateman"}
    variant : {"none", "tolerance", "slowing"}
        ``"tolerance"`` estimates ``rho`` (tolerance < 1 < sensitisation per dose),
        ``"slowing"`` estimates ``kappa`` (decay slows per dose when > 1).
    estimate_gamma : bool
        Estimate the dose-scaling exponent (needs doses of different sizes within a
        subject's history); otherwise ``gamma`` is held at ``gamma_fixed``.
    gamma_fixed : float
        Value of ``gamma`` when not estimated.
    sign : {+1, -1}
        Direction of the effect (increase or decrease from baseline).
    """

    kernel: str = "exponential"
    variant: str = "none"
    estimate_gamma: bool = False
    gamma_fixed: float = 1.0
    sign: float = 1.0

    @property
    def param_names(self) -> tuple[str, ...]:
        names = ["E0", "log_A", "log_tau"]
        if self.kernel == "bateman":
            names.append("logit_rise")
        if self.estimate_gamma:
            names.append("gamma")
        if self.variant == "tolerance":
            names.append("log_rho")
        elif self.variant == "slowing":
            names.append("log_kappa")
        return tuple(names)

    def index(self, name: str) -> int:
        """Position of a parameter in :attr:`param_names` (the last axis of ``params``).

        Parameters
        ----------
        name : str
            A parameter name, e.g. ``"log_tau"``.

        Returns
        -------
        int
            Its index.

        Raises
        ------
        ValueError
            When the model has no such parameter.
        """
        return self.param_names.index(name)

    def evaluate(
        self,
        t: np.ndarray,
        params: np.ndarray,
        dose_t: np.ndarray | None = None,
        dose_amt: np.ndarray | None = None,
        dose_mask: np.ndarray | None = None,
        jacobian: bool = True,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Model value and Jacobian with respect to the parameters.

        Parameters
        ----------
        t : array (..., V)
            Hours since the first dose.
        params : array (..., n_params)
            Per-subject parameters in :attr:`param_names` order (broadcast over ``V``).
        dose_t, dose_amt, dose_mask : arrays (..., J), optional
            Dose times (h, relative to the first dose), amounts and validity. Default:
            one dose at ``t = 0``.
        jacobian : bool
            Also return ``df/dparams`` of shape ``(..., V, n_params)``.

        Returns
        -------
        f : array (..., V)
        jac : array (..., V, n_params) or None
        """
        names = self.param_names
        t = np.asarray(t, dtype=float)
        p = np.asarray(params, dtype=float)
        if dose_t is None:
            dose_t = np.zeros((*p.shape[:-1], 1))
            dose_amt = np.ones_like(dose_t)
            dose_mask = np.ones(dose_t.shape, dtype=bool)
        dose_t = np.asarray(dose_t, dtype=float)
        dose_amt = np.asarray(dose_amt, dtype=float)
        dose_mask = np.asarray(dose_mask, dtype=bool) if dose_mask is not None else (
            np.ones(dose_t.shape, dtype=bool))
        n_dose = dose_t.shape[-1]
        j = np.arange(n_dose, dtype=float)

        e0 = p[..., 0]
        amp = self.sign * np.exp(p[..., 1])
        log_tau = p[..., 2]
        gamma = p[..., names.index("gamma")] if self.estimate_gamma else np.full(
            p.shape[:-1], self.gamma_fixed)
        log_rho = p[..., names.index("log_rho")] if self.variant == "tolerance" else 0.0
        log_kappa = p[..., names.index("log_kappa")] if self.variant == "slowing" else 0.0

        first = np.where(dose_mask[..., :1], dose_amt[..., :1], 1.0)
        ratio = np.where(dose_mask, dose_amt, first) / first
        log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        # per-dose scale s_j and time constant, shape (..., J)
        log_s = gamma[..., None] * log_ratio + np.asarray(log_rho)[..., None] * j
        s = np.where(dose_mask & (ratio > 0), np.exp(log_s), 0.0)
        log_tau_j = log_tau[..., None] + np.asarray(log_kappa)[..., None] * j

        dt = t[..., :, None] - dose_t[..., None, :]  # (..., V, J)
        if self.kernel == "exponential":
            k, dk_dlt = exponential_kernel(dt, log_tau_j[..., None, :])
        else:
            rise = p[..., names.index("logit_rise")]
            k, dk_dlt, dk_dq = bateman_kernel(dt, log_tau_j[..., None, :], rise[..., None, None])
        sk = s[..., None, :] * k  # (..., V, J)
        resp = sk.sum(-1)
        f = e0[..., None] + amp[..., None] * resp
        if not jacobian:
            return f, None
        jac = np.empty((*f.shape, len(names)))
        jac[..., 0] = 1.0
        jac[..., 1] = amp[..., None] * resp
        sdk = s[..., None, :] * dk_dlt
        jac[..., 2] = amp[..., None] * sdk.sum(-1)
        if self.kernel == "bateman":
            jac[..., names.index("logit_rise")] = amp[..., None] * (s[..., None, :] * dk_dq).sum(-1)
        if self.estimate_gamma:
            jac[..., names.index("gamma")] = amp[..., None] * (sk * log_ratio[..., None, :]).sum(-1)
        if self.variant == "tolerance":
            jac[..., names.index("log_rho")] = amp[..., None] * (sk * j).sum(-1)
        elif self.variant == "slowing":
            jac[..., names.index("log_kappa")] = amp[..., None] * (sdk * j).sum(-1)
        return f, jac
