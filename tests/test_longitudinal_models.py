"""Decay kernels: values against closed forms and analytic Jacobians against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from ketephys.longitudinal.models import (
    DecayModel,
    bateman_kernel,
    bateman_peak,
    exponential_kernel,
)

T = np.array([-1.0, 0.0, 0.5, 2.0, 24.0, 72.0, 168.0, 336.0])


def _fd(fun, p, eps=1e-6):
    """Central finite-difference Jacobian of fun(p) -> (..., V) w.r.t. p (..., M)."""
    cols = []
    for k in range(p.shape[-1]):
        dp = np.zeros_like(p)
        dp[..., k] = eps
        cols.append((fun(p + dp) - fun(p - dp)) / (2 * eps))
    return np.stack(cols, -1)


def test_exponential_values_and_derivative():
    k, dk = exponential_kernel(T, np.log(50.0))
    expect = np.where(T >= 0, np.exp(-np.maximum(T, 0) / 50.0), 0.0)
    np.testing.assert_allclose(k, expect, rtol=1e-14)
    fd = (exponential_kernel(T, np.log(50.0) + 1e-6)[0]
          - exponential_kernel(T, np.log(50.0) - 1e-6)[0]) / 2e-6
    np.testing.assert_allclose(dk, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("ratio", [0.02, 0.3, 0.999, 1 - 1e-9])
def test_bateman_matches_textbook_form(ratio):
    tau_d = 40.0
    tau_r = ratio * tau_d
    q = np.log(ratio / (1 - ratio))
    k = bateman_kernel(T, np.log(tau_d), q)[0]
    if ratio < 0.9999:
        textbook = tau_d / (tau_d - tau_r) * (np.exp(-T / tau_d) - np.exp(-T / tau_r))
        np.testing.assert_allclose(k, np.where(T > 0, textbook, 0.0), rtol=1e-10, atol=1e-14)
    else:  # equal-rate limit: (t / tau) exp(-t / tau)
        limit = np.where(T > 0, T / tau_d * np.exp(-T / tau_d), 0.0)
        np.testing.assert_allclose(k, limit, rtol=2e-3, atol=1e-12)


def test_bateman_exact_equal_rate_limit_is_finite_and_smooth():
    k_inf = bateman_kernel(T, np.log(30.0), np.inf)[0]
    np.testing.assert_allclose(k_inf, np.where(T > 0, T / 30 * np.exp(-T / 30), 0), rtol=1e-12)
    k_near = bateman_kernel(T, np.log(30.0), 30.0)[0]  # r = 1 - 1e-13
    np.testing.assert_allclose(k_near, k_inf, rtol=1e-9, atol=1e-15)


def test_bateman_fast_rise_tends_to_exponential():
    k = bateman_kernel(T[T > 1], np.log(60.0), np.log(1e-6))[0]
    np.testing.assert_allclose(k, np.exp(-T[T > 1] / 60.0), rtol=1e-5)


@pytest.mark.parametrize("q", [-3.0, 0.0, 2.0, 12.0, 25.0])
def test_bateman_jacobian_finite_differences(q):
    p = np.array([np.log(45.0), q])
    k, d_tau, d_q = bateman_kernel(T, p[0], p[1])
    fd = _fd(lambda pp: bateman_kernel(T, pp[..., 0], pp[..., 1])[0], p[None])
    np.testing.assert_allclose(d_tau, fd[:, 0], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(d_q, fd[:, 1], rtol=1e-5, atol=1e-8)


def test_bateman_peak_time():
    for tau_d, tau_r in [(40.0, 4.0), (40.0, 39.0), (40.0, 40.0)]:
        t = np.linspace(0.001, 400, 400001)
        q = np.inf if tau_r == tau_d else np.log(tau_r / tau_d / (1 - tau_r / tau_d))
        k = bateman_kernel(t, np.log(tau_d), q)[0]
        assert abs(t[np.argmax(k)] - bateman_peak(tau_d, tau_r)) < 2e-3


@pytest.mark.parametrize("kernel", ["exponential", "bateman"])
@pytest.mark.parametrize("variant,gamma", [("none", False), ("tolerance", True), ("slowing", True)])
def test_superposition_jacobian_finite_differences(kernel, variant, gamma):
    model = DecayModel(kernel=kernel, variant=variant, estimate_gamma=gamma, sign=-1.0)
    rng = np.random.default_rng(0)
    n_sub = 4
    vals = {"E0": 1.0, "log_A": np.log(0.4), "log_tau": np.log(60.0), "logit_rise": -1.0,
            "gamma": 0.7, "log_rho": np.log(0.8), "log_kappa": np.log(1.2)}
    p = np.array([[vals[n] for n in model.param_names]] * n_sub)
    p += rng.normal(0, 0.1, p.shape)
    t = np.tile(np.array([-1.0, 2.0, 24.0, 80.0, 170.0, 400.0, 600.0]), (n_sub, 1))
    dose_t = np.tile([0.0, 72.0, 168.0], (n_sub, 1))
    dose_amt = np.tile([0.5, 1.0, 0.5], (n_sub, 1))
    mask = np.ones(dose_t.shape, bool)
    mask[0, 2] = False  # a subject with a shorter course
    f, jac = model.evaluate(t, p, dose_t, dose_amt, mask)
    fd = _fd(lambda pp: model.evaluate(t, pp, dose_t, dose_amt, mask, jacobian=False)[0], p)
    # fd has shape (N, V, M) because fun returns (N, V) per parameter column
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-8)


def test_superposition_is_sum_of_scaled_single_doses():
    model = DecayModel(kernel="exponential", gamma_fixed=0.5)
    p = np.array([[0.0, np.log(2.0), np.log(48.0)]])
    t = np.array([[1.0, 30.0, 100.0, 200.0]])
    f, _ = model.evaluate(t, p, np.array([[0.0, 72.0]]), np.array([[0.5, 2.0]]))
    single = lambda tt: np.where(tt >= 0, np.exp(-np.maximum(tt, 0) / 48.0), 0)  # noqa: E731
    expect = 2.0 * (single(t) + (2.0 / 0.5) ** 0.5 * single(t - 72.0))
    np.testing.assert_allclose(f, expect, rtol=1e-13)
