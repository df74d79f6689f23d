"""The estimator: batched penalised Gauss-Newton (Levenberg-Marquardt) with EM for variances.

Everything here is batched over a leading axis ``B`` (bootstrap replicates, profile grid
points, or 1 for the plain fit), so one call fits a thousand data sets with numpy array
operations instead of a Python loop of optimiser calls.

Population model (per group)
----------------------------
For subject ``i`` with covariates ``x_i`` the parameters are
``P_i = G(x_i) beta + Z eta_i``: every model parameter has a fixed intercept, ``log_A``
and ``log_tau`` get a coefficient per covariate (effects on the log scale), and
``eta_i = (b_i, eta_A, eta_tau) ~ N(0, diag(omega^2))`` are random effects on the
baseline (additive) and on ``log A`` and ``log tau`` (log-normal between-subject
variability). Observations are ``y = f(t; P_i) + e``, ``e ~ N(0, sigma^2)``.

Estimation (a FOCE-I / Laplace approximation, as in Lindstrom & Bates 1990)
----------------------------------------------------------------------------
1. Given ``omega`` and ``sigma``, ``beta`` and all ``eta_i`` are found jointly as the mode
   of the penalised objective ``sum r^2 / sigma^2 + sum eta^2 / omega^2`` by
   Levenberg-Marquardt; the normal equations have an arrow structure (each subject's
   ``eta_i`` touches only its own rows), solved by a Schur complement on ``beta`` with
   3 x 3 blocks per subject.
2. Given the modes, the variances are updated by the EM step of the model linearised
   at the modes: ``omega_k^2 = mean_i(eta_ik^2 + C_i,kk)`` and
   ``sigma^2 = (RSS + sum_i tr(J_i C_i J_i')) / n`` with
   ``C_i = (J_i' J_i / sigma^2 + Omega^-1)^-1`` the conditional covariance of ``eta_i``.
3. Repeat until the variances change by < 1e-5 (relative) or the log-likelihood by
   < 1e-3 per step (EM crawls when a variance heads for 0; the fixed effects have
   converged long before). The log-likelihood reported (for AIC/BIC and likelihood-ratio
   tests) is the Laplace approximation with the Gauss-Newton Hessian (the FOCE-I
   objective): ``-1/2 sum_i [RSS_i/sigma^2 + eta_i' Omega^-1 eta_i + n_i log(2 pi
   sigma^2) + log det(I + Omega J_i' J_i / sigma^2)]``.

Approximations: the linearisation at the conditional modes (exact for parameters that
enter linearly, such as the baseline) and maximum-likelihood (not REML) variances, which
are biased low by about p/N; the small-sample calibration of the profile intervals
(:mod:`ketephys.longitudinal.profile`) uses ``N - p`` degrees of freedom for that reason.

Without random effects the fit is ordinary nonlinear least squares of all rows of a group
pooled (one parameter set per group).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .models import DecayModel

__all__ = ["ParamMap", "State", "lm_fit", "em_fit", "laplace_loglik", "initial_beta", "amplitude_sign",
           "beta_covariance"]

#: Parameter bounds (unconstrained scale) that keep the kernels finite.
_BOUNDS = {"log_tau": (np.log(1e-3), np.log(1e7)), "log_A": (-60.0, 60.0),
           "logit_rise": (-25.0, 25.0), "log_rho": (-10.0, 10.0), "log_kappa": (-10.0, 10.0),
           "gamma": (-20.0, 20.0)}
_COV_ON = ("log_A", "log_tau")


@dataclass
class ParamMap:
    """How the fixed-effect vector ``beta`` and random effects map to model parameters.

    ``beta`` holds every model parameter's intercept in :attr:`DecayModel.param_names`
    order, each of ``log_A`` and ``log_tau`` followed by one coefficient per covariate
    (named ``"log_tau:log_dose"``...): :attr:`beta_names`.

    Attributes
    ----------
    model : DecayModel
        The kernel, variant and sign of the effect.
    covariates : tuple of str
        Covariate names (columns of ``X``), with effects on ``log_A`` and ``log_tau``.
    random : tuple of str
        Model parameters with a random effect per subject (default E0, log A, log tau;
        empty for a pooled fit).
    fixed_e0 : bool
        E0 held at 0 (the pre-dose mean was subtracted: change-from-baseline data).
    beta_names : list of str
        Names of the entries of ``beta`` (set from the above).
    param_index : dict of str to int
        Model parameter name -> its position in the per-subject parameter vector.
    re_index : ndarray of int
        Positions of the parameters in :attr:`random`.
    """

    model: DecayModel
    covariates: tuple[str, ...] = ()
    random: tuple[str, ...] = ("E0", "log_A", "log_tau")
    fixed_e0: bool = False  # E0 held at 0 (change-from-baseline data)

    def __post_init__(self) -> None:
        names = []
        for m in self.model.param_names:
            names.append(m)
            if m in _COV_ON:
                names += [f"{m}:{c}" for c in self.covariates]
        self.beta_names = names
        self.param_index = {m: i for i, m in enumerate(self.model.param_names)}
        self.re_index = np.array([self.param_index[m] for m in self.random], dtype=int)

    @property
    def n_beta(self) -> int:
        return len(self.beta_names)

    @property
    def n_re(self) -> int:
        return len(self.random)

    def design(self, X: np.ndarray) -> np.ndarray:
        """The design matrices ``G`` mapping ``beta`` to each subject's parameters
        (``P_i = G_i beta + Z eta_i``).

        Parameters
        ----------
        X : ndarray, shape (..., N, k)
            Covariate values per subject (k = ``len(covariates)``).

        Returns
        -------
        ndarray, shape (..., N, n_params, n_beta)
            1 for each parameter's intercept, the covariate values in the coefficient
            columns of ``log_A`` and ``log_tau``.
        """
        n_par = len(self.model.param_names)
        G = np.zeros((*X.shape[:-1], n_par, self.n_beta))
        col = 0
        for m in self.model.param_names:
            i = self.param_index[m]
            G[..., i, col] = 1.0
            col += 1
            if m in _COV_ON:
                for c in range(len(self.covariates)):
                    G[..., i, col] = X[..., c]
                    col += 1
        return G

    def clip(self, beta: np.ndarray) -> np.ndarray:
        """Clip the entries of ``beta`` with bounds (``log_tau``, ``log_A``,
        ``logit_rise``...) to the range that keeps the kernels finite, in place.

        Parameters
        ----------
        beta : ndarray, shape (..., n_beta)
            Fixed effects (batched).

        Returns
        -------
        ndarray
            ``beta`` itself, clipped.
        """
        for name, (lo, hi) in _BOUNDS.items():
            if name in self.beta_names:
                k = self.beta_names.index(name)
                beta[..., k] = np.clip(beta[..., k], lo, hi)
        return beta


@dataclass
class State:
    """Batched estimates of B data sets (the fit, bootstrap replicates, profile points).

    Attributes
    ----------
    beta : ndarray, shape (B, p)
        Fixed effects.
    eta : ndarray, shape (B, N, q)
        Random effects (conditional modes) of the N subjects.
    omega : ndarray, shape (B, q)
        SDs of the random effects.
    sigma : ndarray, shape (B,)
        Residual SD.
    objective : ndarray, shape (B,), optional
        Penalised objective at the estimates (set by the fitters).
    converged : ndarray of bool, shape (B,), optional
        Which data sets converged (set by the fitters).
    """

    beta: np.ndarray
    eta: np.ndarray
    omega: np.ndarray
    sigma: np.ndarray
    objective: np.ndarray = field(default=None)  # type: ignore[assignment]
    converged: np.ndarray = field(default=None)  # type: ignore[assignment]

    def copy(self) -> State:
        """A deep copy (every array copied).

        Returns
        -------
        State
        """
        return State(self.beta.copy(), self.eta.copy(), self.omega.copy(), self.sigma.copy(),
                     None if self.objective is None else self.objective.copy(),
                     None if self.converged is None else self.converged.copy())


def _params(pm: ParamMap, X: np.ndarray, beta: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Per-subject model parameters (B, N, M) from beta, covariates and random effects."""
    G = pm.design(X)
    P = np.einsum("bnmp,bp->bnm", G, beta)
    if pm.n_re:
        P[..., pm.re_index] += eta
    return P


def _predict(pm: ParamMap, data: dict, beta: np.ndarray, eta: np.ndarray,
             jacobian: bool = True):
    P = _params(pm, data["X"], beta, eta)
    # trial steps may overflow; such steps get an infinite objective and are rejected
    with np.errstate(over="ignore", invalid="ignore"):
        return pm.model.evaluate(data["t"], P, data["dose_t"], data["dose_amt"],
                                 data["dose_mask"], jacobian=jacobian)


def _beta_jacobian(pm: ParamMap, JP: np.ndarray, X: np.ndarray) -> np.ndarray:
    """df/dbeta (B, N, V, p) from df/dparams (B, N, V, M) without forming G."""
    cols = []
    for m in pm.model.param_names:
        i = pm.param_index[m]
        cols.append(JP[..., i:i + 1])
        if m in _COV_ON and pm.covariates:
            cols.append(JP[..., i:i + 1] * X[:, :, None, :])
    return np.concatenate(cols, axis=-1)


def _small_inv(M: np.ndarray) -> np.ndarray:
    """Inverse of stacked 1x1, 2x2 or 3x3 matrices in closed form (else numpy)."""
    q = M.shape[-1]
    if q == 1:
        return 1.0 / M
    if q == 2:
        a, b, c, d = M[..., 0, 0], M[..., 0, 1], M[..., 1, 0], M[..., 1, 1]
        det = a * d - b * c
        return np.stack([np.stack([d, -b], -1), np.stack([-c, a], -1)], -2) / det[..., None, None]
    if q == 3:
        a = M
        c00 = a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1]
        c01 = a[..., 0, 2] * a[..., 2, 1] - a[..., 0, 1] * a[..., 2, 2]
        c02 = a[..., 0, 1] * a[..., 1, 2] - a[..., 0, 2] * a[..., 1, 1]
        c10 = a[..., 1, 2] * a[..., 2, 0] - a[..., 1, 0] * a[..., 2, 2]
        c11 = a[..., 0, 0] * a[..., 2, 2] - a[..., 0, 2] * a[..., 2, 0]
        c12 = a[..., 0, 2] * a[..., 1, 0] - a[..., 0, 0] * a[..., 1, 2]
        c20 = a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0]
        c21 = a[..., 0, 1] * a[..., 2, 0] - a[..., 0, 0] * a[..., 2, 1]
        c22 = a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
        det = a[..., 0, 0] * c00 + a[..., 0, 1] * c10 + a[..., 0, 2] * c20
        inv = np.stack([np.stack([c00, c01, c02], -1), np.stack([c10, c11, c12], -1),
                        np.stack([c20, c21, c22], -1)], -2)
        return inv / det[..., None, None]
    return np.linalg.inv(M)


def _objective_from(pm, data, f, eta, omega, sigma):
    r = np.where(data["mask"], data["y"] - f, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        obj = (r * r).sum(axis=(1, 2)) / sigma**2
    if pm.n_re:
        obj = obj + ((eta**2) * (1.0 / omega**2)[:, None, :]).sum(axis=(1, 2))
    return np.where(np.isfinite(obj), obj, np.inf), r


def _objective(pm, data, beta, eta, omega, sigma):
    f, _ = _predict(pm, data, beta, eta, jacobian=False)
    return _objective_from(pm, data, f, eta, omega, sigma)[0]


def _gauss_newton_step(pm: ParamMap, data: dict, st: State, JP: np.ndarray, r: np.ndarray,
                       free: np.ndarray, lam: np.ndarray):
    """Damped Gauss-Newton step of the penalised problem by a Schur complement on beta.

    Returns (delta_beta, delta_eta, S) where S is the (damped) Schur complement, whose
    inverse at ``lam = 0`` is the approximate covariance of the free entries of beta.
    """
    B, p = st.beta.shape
    q = pm.n_re
    mask = data["mask"]
    N, V = mask.shape[1:]
    w = 1.0 / st.sigma**2
    free_pp = free[:, :, None] & free[:, None, :]
    JPm = JP * mask[..., None]
    Jb = _beta_jacobian(pm, JPm, data["X"])
    Jb_flat = Jb.reshape(B, N * V, p)
    Abb = np.matmul(Jb_flat.transpose(0, 2, 1), Jb_flat) * w[:, None, None]
    gb = np.matmul(Jb_flat.transpose(0, 2, 1), r.reshape(B, N * V, 1))[..., 0] * w[:, None]
    Abb = np.where(free_pp, Abb, 0.0)
    gb = np.where(free, gb, 0.0)
    diag = np.diagonal(Abb, axis1=1, axis2=2)
    diag_b = np.maximum(diag, 1e-12 * (1 + np.abs(diag).max(-1, keepdims=True)))
    Abb_d = Abb + np.eye(p) * np.where(free, lam[:, None] * diag_b, 1.0)[:, :, None]
    if not q:
        db = np.linalg.solve(Abb_d, gb[..., None])[..., 0]
        return db, None, Abb_d
    inv_om2 = 1.0 / st.omega**2
    Je = JPm[..., pm.re_index]
    JeT = Je.swapaxes(-1, -2)
    Abe = np.matmul(Jb.swapaxes(-1, -2), Je) * w[:, None, None, None]
    Abe = np.where(free[:, None, :, None], Abe, 0.0)
    D = np.matmul(JeT, Je) * w[:, None, None, None]
    D = D + np.eye(q) * inv_om2[:, None, None, :]
    ge = np.matmul(JeT, r[..., None])[..., 0] * w[:, None, None] - st.eta * inv_om2[:, None, :]
    D_d = D + np.eye(q) * (lam[:, None, None] * np.diagonal(D, axis1=2, axis2=3))[..., None, :]
    Dinv = _small_inv(D_d)
    AD = np.matmul(Abe, Dinv)
    S = Abb_d - np.matmul(AD, Abe.swapaxes(-1, -2)).sum(1)
    rhs = gb - np.matmul(AD, ge[..., None])[..., 0].sum(1)
    db = np.linalg.solve(S, rhs[..., None])[..., 0]
    de = np.matmul(Dinv, (ge - np.matmul(Abe.swapaxes(-1, -2), db[:, None, :, None])[..., 0])[
        ..., None])[..., 0]
    return db, de, S


def beta_covariance(pm: ParamMap, data: dict, st: State, fixed: np.ndarray | None = None
                    ) -> np.ndarray:
    """Approximate covariance of the fixed effects.

    With random effects: the inverse Schur complement of the penalised Hessian
    (``sigma``, ``omega`` at their estimates). Without: ``s^2 (J'J)^-1`` with
    ``s^2 = RSS / (n - p_free)``.

    Parameters
    ----------
    pm : ParamMap
        The parameter map.
    data : dict of ndarray
        Batched data (:meth:`GroupData.take`).
    st : State
        The estimates.
    fixed : ndarray of bool, shape (B, p) or (p,), optional
        Entries of ``beta`` held fixed.

    Returns
    -------
    ndarray, shape (B, p, p)
        The covariance; rows and columns of fixed entries are zero.
    """
    B, p = st.beta.shape
    fixed = np.zeros((B, p), bool) if fixed is None else np.broadcast_to(fixed, (B, p))
    free = ~fixed
    f, JP = _predict(pm, data, st.beta, st.eta)
    r = np.where(data["mask"], data["y"] - f, 0.0)
    _, _, S = _gauss_newton_step(pm, data, st, JP, r, free, np.zeros(B))
    cov = np.linalg.inv(S)
    if not pm.n_re:
        dof = data["mask"].sum(axis=(1, 2)) - free.sum(-1)
        s2 = (r * r).sum(axis=(1, 2)) / np.maximum(dof, 1)
        cov = cov * (s2 / st.sigma**2)[:, None, None]
    return np.where(free[:, :, None] & free[:, None, :], cov, 0.0)


def lm_fit(pm: ParamMap, data: dict, state: State, fixed: np.ndarray | None = None,
           max_iter: int = 100, tol: float = 1e-12, lam0: float = 1e-3) -> State:
    """Minimise the penalised objective over ``beta`` and ``eta`` at fixed variances.

    Parameters
    ----------
    pm : ParamMap
        The parameter map.
    data : dict of ndarray
        Batched data (see :meth:`GroupData.take`).
    state : State
        Start values; ``omega`` and ``sigma`` are held fixed.
    fixed : bool array (B, p), optional
        Entries of ``beta`` held at their start value (profiling, fixed baseline).
    max_iter, tol : int, float
        Iteration cap and relative objective change at which a replicate stops.
    lam0 : float
        Initial Levenberg-Marquardt damping (divided by 5 after an accepted step,
        multiplied by 10 after a rejected one; a replicate stops at 1e12).

    Returns
    -------
    State
        The estimates, with ``objective`` and ``converged`` filled in.
    """
    st = state.copy()
    B, p = st.beta.shape
    q = pm.n_re
    fixed = np.zeros((B, p), bool) if fixed is None else np.broadcast_to(fixed, (B, p))
    f, JP = _predict(pm, data, st.beta, st.eta)
    obj, r = _objective_from(pm, data, f, st.eta, st.omega, st.sigma)
    active = np.isfinite(obj)
    # Work on the still-active replicates only: compact when fewer than 60 % remain.
    idx = np.arange(B)
    w = State(st.beta.copy(), st.eta.copy(), st.omega, st.sigma)
    wd, free, lam, wact, wobj = data, ~fixed, np.full(B, lam0), active.copy(), obj.copy()
    for _ in range(max_iter):
        if not wact.any():
            break
        if wact.mean() < 0.6:
            st.beta[idx], st.eta[idx], obj[idx], active[idx] = w.beta, w.eta, wobj, wact
            keep = wact
            idx = idx[keep]
            w = State(w.beta[keep], w.eta[keep], w.omega[keep], w.sigma[keep])
            wd = {k: v[idx] for k, v in data.items()}
            free, lam, JP, r = free[keep], lam[keep], JP[keep], r[keep]
            wact, wobj = wact[keep], wobj[keep]
        db, de, _ = _gauss_newton_step(pm, wd, w, JP, r, free, lam)
        db = np.where(free, db, 0.0)
        new_beta = pm.clip(w.beta + db)
        new_eta = w.eta + de if q else w.eta
        f_new, JP_new = _predict(pm, wd, new_beta, new_eta)
        new_obj, r_new = _objective_from(pm, wd, f_new, new_eta, w.omega, w.sigma)
        better = wact & (new_obj <= wobj)
        w.beta = np.where(better[:, None], new_beta, w.beta)
        if q:
            w.eta = np.where(better[:, None, None], new_eta, w.eta)
        JP = np.where(better[:, None, None, None], JP_new, JP)
        r = np.where(better[:, None, None], r_new, r)
        change = np.where(better, (wobj - new_obj) / np.maximum(np.abs(wobj), 1e-300), np.inf)
        wobj = np.where(better, new_obj, wobj)
        lam = np.where(better, np.maximum(lam * 0.2, 1e-12), np.minimum(lam * 10.0, 1e12))
        done = (better & (change < tol)) | (lam >= 1e12)
        wact = wact & ~done
    st.beta[idx], st.eta[idx], obj[idx], active[idx] = w.beta, w.eta, wobj, wact
    st.objective = obj
    st.converged = ~active
    return st


def _conditional(pm, data, st):
    """Residuals, eta Jacobian and precision D_i of eta_i at the current modes."""
    f, JP = _predict(pm, data, st.beta, st.eta)
    r = np.where(data["mask"], data["y"] - f, 0.0)
    Je = JP[..., pm.re_index] * data["mask"][..., None]
    w = 1.0 / st.sigma**2
    D = np.matmul(Je.swapaxes(-1, -2), Je) * w[:, None, None, None]
    D = D + np.eye(pm.n_re) / st.omega[:, None, None, :] ** 2
    return r, Je, D


def em_fit(pm: ParamMap, data: dict, state: State, fixed: np.ndarray | None = None,
           max_outer: int = 300, tol: float = 1e-5, inner_iter: int = 3,
           omega_floor: np.ndarray | None = None, final_iter: int = 200,
           ll_tol: float = 1e-3) -> State:
    """Alternate penalised LM (beta, eta) and EM updates of (omega, sigma) to convergence.

    Parameters
    ----------
    pm : ParamMap
        The parameter map (with random effects).
    data : dict of ndarray
        Batched data (:meth:`GroupData.take`).
    state : State
        Start values.
    fixed : ndarray of bool, shape (B, p), optional
        Entries of ``beta`` held at their start value.
    max_outer : int
        Most EM steps.
    tol : float
        A data set stops when no SD changes by more than this (relative, on the log
        scale) in a step.
    inner_iter : int
        LM iterations for (beta, eta) per EM step.
    omega_floor : ndarray, shape (q,), optional
        Lower bounds of the random-effect SDs (default 0).
    final_iter : int
        LM iterations of the final polish at the converged variances.
    ll_tol : float
        A data set also stops when its log-likelihood changes by less than this in a
        step (EM crawls when a variance heads for 0).

    Returns
    -------
    State
        The estimates; ``converged`` is True where both the EM steps and the final
        polish converged.
    """
    st = state.copy()
    n_obs = data["mask"].sum(axis=(1, 2))
    n_sub = data["mask"].shape[1]
    floor = np.zeros(pm.n_re) if omega_floor is None else omega_floor
    done = np.zeros(len(st.sigma), bool)
    prev_ll = np.full(len(st.sigma), -np.inf)
    for _ in range(max_outer):
        st = lm_fit(pm, data, st, fixed=fixed, max_iter=inner_iter)
        r, Je, D = _conditional(pm, data, st)
        C = _small_inv(D)
        ll = _laplace_from(pm, data, st, r, D)
        om2 = (st.eta**2 + np.diagonal(C, axis1=2, axis2=3)).sum(1) / n_sub
        new_om = np.maximum(np.sqrt(om2), floor)
        rss = (r * r).sum(axis=(1, 2))
        trace = (np.matmul(Je, C) * Je).sum(axis=(1, 2, 3))
        new_sig = np.sqrt((rss + trace) / n_obs)
        change = np.maximum(np.abs(np.log(new_om / st.omega)).max(-1),
                            np.abs(np.log(new_sig / st.sigma)))
        keep = done[:, None]
        st.omega = np.where(keep, st.omega, new_om)
        st.sigma = np.where(done, st.sigma, new_sig)
        stalled = np.abs(ll - prev_ll) < ll_tol
        done = done | (change < tol) | stalled | ~np.isfinite(change)
        prev_ll = ll
        if done.all():
            break
    st = lm_fit(pm, data, st, fixed=fixed, max_iter=final_iter)
    st.converged = st.converged & done
    return st


def _laplace_from(pm, data, st, r, D):
    n_obs = data["mask"].sum(axis=(1, 2))
    rss = (r * r).sum(axis=(1, 2))
    logdet = np.log(np.abs(np.linalg.det(D))).sum(1) + data["mask"].shape[1] * np.log(
        st.omega**2).sum(-1)
    pen = ((st.eta**2) * (1.0 / st.omega**2)[:, None, :]).sum(axis=(1, 2))
    return -0.5 * (rss / st.sigma**2 + pen + n_obs * np.log(2 * np.pi * st.sigma**2) + logdet)


def laplace_loglik(pm: ParamMap, data: dict, st: State) -> np.ndarray:
    """Log-likelihood: Laplace (FOCE-I) with random effects, Gaussian ML without.

    Parameters
    ----------
    pm : ParamMap
        The parameter map.
    data : dict of ndarray
        Batched data (:meth:`GroupData.take`).
    st : State
        The estimates.

    Returns
    -------
    ndarray, shape (B,)
        The log-likelihood of each data set (for AIC/BIC and likelihood-ratio tests).
    """
    if not pm.n_re:
        n_obs = data["mask"].sum(axis=(1, 2))
        f, _ = _predict(pm, data, st.beta, st.eta, jacobian=False)
        r = np.where(data["mask"], data["y"] - f, 0.0)
        s2 = (r * r).sum(axis=(1, 2)) / n_obs
        return -0.5 * n_obs * (np.log(2 * np.pi * s2) + 1.0)
    r, _, D = _conditional(pm, data, st)
    return _laplace_from(pm, data, st, r, D)


def initial_beta(pm: ParamMap, t: np.ndarray, y: np.ndarray, mask: np.ndarray,
                 estimate_e0: bool) -> np.ndarray:
    """Pooled start values: grid over tau with linear least squares for (E0, A).

    Parameters
    ----------
    pm : ParamMap
        The parameter map.
    t, y : ndarray, shape (N, V)
        Hours since the dose and values of the group.
    mask : ndarray of bool, shape (N, V)
        Which entries are real visits.
    estimate_e0 : bool
        Fit E0 too (else it is 0).

    Returns
    -------
    ndarray, shape (n_beta,)
        E0, log A and log tau of the best of 120 tau values (0.2 h to 1e5 h, log
        spaced) for a mono-exponential; ``logit_rise`` at a rise of 5 % of tau; the
        other entries (covariate effects, variant parameters) 0.
    """
    tt, yy = t[mask], y[mask]
    taus = np.geomspace(0.2, 1e5, 120)
    k = np.exp(-np.maximum(tt, 0)[None, :] / taus[:, None]) * (tt >= 0)
    best = (np.inf, 0.0, 1.0, taus[0])
    for i, tau in enumerate(taus):
        cols = [k[i]] if not estimate_e0 else [np.ones_like(tt), k[i]]
        M = np.stack(cols, -1)
        coef, *_ = np.linalg.lstsq(M, yy, rcond=None)
        rss = float(np.sum((yy - M @ coef) ** 2))
        if rss < best[0]:
            e0 = coef[0] if estimate_e0 else 0.0
            best = (rss, e0, coef[-1], tau)
    _, e0, amp, tau = best
    beta = np.zeros(pm.n_beta)
    beta[pm.beta_names.index("E0")] = e0
    beta[pm.beta_names.index("log_A")] = np.log(max(abs(amp), 1e-12))
    beta[pm.beta_names.index("log_tau")] = np.log(tau)
    if "logit_rise" in pm.beta_names:
        beta[pm.beta_names.index("logit_rise")] = np.log(0.05 / 0.95)
    return beta


def amplitude_sign(t: np.ndarray, y: np.ndarray, mask: np.ndarray, estimate_e0: bool) -> float:
    """Direction of the effect: sign of the mean early post-dose change.

    Parameters
    ----------
    t, y : ndarray, shape (N, V)
        Hours since the dose and values of the group.
    mask : ndarray of bool, shape (N, V)
        Which entries are real visits.
    estimate_e0 : bool
        The values are raw (the reference is the mean pre-dose value, or the median of
        all values without one); False: they are changes from baseline (reference 0).

    Returns
    -------
    float
        1.0 when the values at the first two post-dose visit times are on average at or
        above the reference, else -1.0 (1.0 without post-dose data).
    """
    post = mask & (t > 0)
    if not post.any():
        return 1.0
    ref = float(np.mean(y[mask & (t < 0)])) if estimate_e0 and (mask & (t < 0)).any() else (
        float(np.median(y[mask])) if estimate_e0 else 0.0)
    times = np.unique(t[post])
    early = post & (t <= times[min(1, times.size - 1)])
    return 1.0 if np.mean(y[early]) - ref >= 0 else -1.0
