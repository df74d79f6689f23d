"""Study planning: Fisher information, optimal schedules, sample size, simulation checks.

The information matrix is checked against truths computed here independently of the
package: finite differences of the first-order (FO) marginal log-likelihood written out
in this file, and the Jacobian of ``scipy.optimize.least_squares`` for the pooled model.
The slow tests (``-m slow``) compare predictions with simulation-estimation by
``fit_decay`` over >= 200 simulated studies.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import least_squares

from ketephys.errors import AnalysisError, ConfigError, KetephysError, SettingsError
from ketephys.longitudinal.optimal_design import (
    ScheduleConstraints,
    design_criterion,
    optimise_schedule,
    sample_size,
    working_hours,
)
from ketephys.longitudinal.planning import (
    Arm,
    Comparison,
    RegionModel,
    StudyDesign,
    expected_power,
    expected_precision,
    region_fim,
    regions_from_fit,
    regions_from_scenario,
)

PFC = RegionModel("PFC", tau_h=108.0, amplitude=0.4, sd_log_amplitude=0.2, sd_log_tau=0.25,
                  residual_sd=0.04)


# ------------------------------------------------------------------ independent FO model
def _curve(t, log_a, log_tau, e_b=0.0, e_a=0.0, e_t=0.0):
    """Mono-exponential change from baseline, written out here (not the package's)."""
    return e_b + np.exp(log_a + e_a) * np.exp(-t / np.exp(log_tau + e_t))


def _fo_moments(t, theta, n_baseline=1):
    """Mean and FO covariance of one subject's post-dose changes, by finite differences."""
    log_a, log_tau, w_b, w_a, w_t, s2 = theta
    h = 1e-6
    m = _curve(t, log_a, log_tau)
    Z = np.stack([(_curve(t, log_a, log_tau, **{k: h}) - _curve(t, log_a, log_tau, **{k: -h}))
                  / (2 * h) for k in ("e_b", "e_a", "e_t")], -1)
    V = Z @ np.diag([w_b, w_a, w_t]) @ Z.T + s2 * np.eye(t.size)
    return m, V


def _expected_loglik(theta_hat, theta_true, t):
    """E over y ~ FO(theta_true) of the Gaussian log-likelihood at theta_hat (closed form)."""
    m0, V0 = _fo_moments(t, theta_true)
    m1, V1 = _fo_moments(t, theta_hat)
    Vi = np.linalg.inv(V1)
    d = m0 - m1
    return -0.5 * (np.linalg.slogdet(V1)[1] + np.trace(Vi @ V0) + d @ Vi @ d)


def _fd_hessian(fun, x, rel=1e-3):
    n = x.size
    h = rel * np.maximum(np.abs(x), 1e-2)
    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            def f(a, b, i=i, j=j):
                y = x.copy()
                y[i] += a * h[i]
                y[j] += b * h[j]
                return fun(y)
            H[i, j] = (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * h[i] * h[j])
    return 0.5 * (H + H.T)


def _scaled(m):
    s = 1.0 / np.sqrt(np.diag(m))
    return m * s[:, None] * s[None, :]


# ------------------------------------------------------------------ information matrix
def test_fim_matches_finite_differences_of_the_fo_loglik():
    """Full FO matrix = -Hessian of the expected log-likelihood (finite differences).

    Tolerance: the correlation-scaled matrices agree to 2e-3 and the diagonals to 0.5 %
    (nested central differences, steps 1e-6 inside and 1e-3 relative outside).
    """
    times = np.array([2.0, 24.0, 72.0, 168.0, 336.0])
    n = 12
    design = StudyDesign((PFC,), times=times, arms=(Arm(n_subjects=n),))
    info = region_fim(design, "PFC", block_diagonal=False)
    assert info.names == ["log_A", "log_tau", "omega2_E0", "omega2_log_A", "omega2_log_tau",
                          "sigma2"]
    theta = np.array([np.log(0.4), np.log(108.0), 0.04**2, 0.2**2, 0.25**2, 0.04**2])
    np.testing.assert_allclose(info.values, theta, rtol=1e-12)
    H = -_fd_hessian(lambda x: _expected_loglik(x, theta, times), theta) * n
    np.testing.assert_allclose(np.diag(info.matrix), np.diag(H), rtol=5e-3)
    np.testing.assert_allclose(_scaled(info.matrix), _scaled(H), atol=2e-3)
    # the block-diagonal matrix: same variance block, beta block J' V^-1 J, no cross terms
    bd = region_fim(design, "PFC")
    m, V = _fo_moments(times, theta)
    h = 1e-6
    J = np.stack([(_curve(times, theta[0] + h, theta[1]) - _curve(times, theta[0] - h, theta[1])),
                  (_curve(times, theta[0], theta[1] + h) - _curve(times, theta[0], theta[1] - h))],
                 -1) / (2 * h)
    np.testing.assert_allclose(bd.matrix[:2, :2], n * J.T @ np.linalg.solve(V, J), rtol=1e-6)
    np.testing.assert_allclose(bd.matrix[2:, 2:], info.matrix[2:, 2:], rtol=1e-6)
    assert np.all(bd.matrix[:2, 2:] == 0)


def test_pooled_fim_equals_least_squares_jacobian():
    """Pooled model, two dose arms: FIM = J'J / sigma^2 with J from least_squares.

    least_squares is run on noise-free data of the design (so its solution is the truth)
    with a 3-point finite-difference Jacobian of a model written here; tolerance 1e-5.
    """
    region = RegionModel("X", tau_h=60.0, amplitude=0.5, residual_sd=0.05,
                         dose_amp_exponent=0.5, dose_tau_exponent=-0.4)
    times = np.array([1.0, 6.0, 24.0, 72.0, 200.0])
    arms = (Arm("low", 7, 0.5), Arm("high", 5, 1.0))
    design = StudyDesign((region,), times=times, arms=arms, random_effects=False)
    info = region_fim(design, "X")
    assert info.names == ["log_A", "log_A:log_dose", "log_tau", "log_tau:log_dose", "sigma2"]
    x_dose = np.concatenate([np.full(7 * times.size, 0.0), np.full(5 * times.size, np.log(2.0))])
    tt = np.tile(times, 12)

    def model(p):
        return _curve(tt, p[0] + p[1] * x_dose, p[2] + p[3] * x_dose)

    truth = np.array([np.log(0.5), 0.5, np.log(60.0), -0.4])
    y = model(truth)
    res = least_squares(lambda p: model(p) - y, truth + [0.1, -0.1, 0.2, 0.1], jac="3-point",
                        xtol=1e-15, ftol=1e-15, gtol=1e-15)
    np.testing.assert_allclose(res.x, truth, atol=1e-7)
    exact = res.jac.T @ res.jac / 0.05**2
    np.testing.assert_allclose(info.matrix[:4, :4], exact, rtol=1e-5)
    # sigma^2 information of n Gaussian observations: n / (2 sigma^4)
    np.testing.assert_allclose(info.matrix[4, 4], tt.size / (2 * 0.05**4), rtol=1e-12)


def test_pre_dose_baseline_noise_is_a_random_baseline():
    """Subtracting the mean of k baselines adds a shared error of variance sigma^2 / k."""
    d1 = StudyDesign((PFC,), n_baseline=1)
    d4 = StudyDesign((PFC,), n_baseline=4)
    assert region_fim(d1, "PFC").values[2] == pytest.approx(0.04**2)
    assert region_fim(d4, "PFC").values[2] == pytest.approx(0.04**2 / 4)
    # more baselines -> less shared noise -> tau at least as precise
    assert (expected_precision(d4)["se_log_tau"].iloc[0]
            < expected_precision(d1)["se_log_tau"].iloc[0])


def test_precision_scales_with_n_and_gives_wald_ci():
    regions = regions_from_scenario()
    assert [r.name for r in regions] == ["PFC", "HPC", "STR"]
    d20 = StudyDesign(regions, arms=(Arm(n_subjects=20),))
    d80 = d20.with_n(80)
    p20, p80 = expected_precision(d20), expected_precision(d80)
    np.testing.assert_allclose(p80["se_log_tau"], p20["se_log_tau"] / 2, rtol=1e-10)
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(p20["ci_low_h"], p20["tau_h"] * np.exp(-z * p20["se_log_tau"]))
    np.testing.assert_allclose(p20["tau_h"], [108.0, 36.0, 204.0])


def test_reference_dose_and_covariate_effects():
    """Two dose arms: tau at the fit's reference (the most common dose) and dose power."""
    region = RegionModel("PFC", 108.0, 0.4, dose_tau_exponent=-0.4, dose_amp_exponent=0.5)
    design = StudyDesign((region,), arms=(Arm("lo", 10, 0.5), Arm("hi", 20, 1.0)))
    assert design.covariates == ("dose",)
    assert design.fit_dose_ref == 1.0
    assert design.reference_tau(region) == pytest.approx(108.0 * 2.0**-0.4)
    comp = Comparison("dose", a=1.0, b=0.5, region="PFC")
    row = expected_power(design, [comp]).iloc[0]
    assert row["log_ratio"] == pytest.approx(-0.4 * np.log(2.0))
    se = region_fim(design, "PFC").se("log_tau:log_dose") * np.log(2.0)
    assert row["se_log_ratio"] == pytest.approx(se)
    ncp = row["log_ratio"] / se
    c = stats.norm.isf(0.025)
    assert row["power"] == pytest.approx(stats.norm.cdf(-c - ncp) + stats.norm.sf(c - ncp))


def test_regions_from_pilot_fit():
    from ketephys.longitudinal import fit_decay
    from ketephys.simulate.markers import simulate_marker_study

    table, _ = simulate_marker_study(n_subjects=12, seed=5)
    fit = fit_decay(table, ci="none")
    regions = regions_from_fit(fit)
    for r in regions:
        g = fit[r.name]
        assert r.tau_h == pytest.approx(g.derived()["tau_h"])
        assert r.sd_log_tau == pytest.approx(g.state.omega[0, 2])
        assert r.residual_sd == pytest.approx(g.state.sigma[0])
    # planning from the pilot: the fit's estimates are the design's truth
    design = StudyDesign(regions, arms=(Arm(n_subjects=12),))
    info = region_fim(design, "HPC")
    g = fit["HPC"]
    np.testing.assert_allclose(info.values[:2], g.state.beta[0, 1:3], rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(info.values[3:5]), g.state.omega[0, 1:3], rtol=1e-12)


# ------------------------------------------------------------------ optimisation
def test_d_optimal_two_visits_are_earliest_and_one_tau_later():
    """Analytic truth: for A exp(-t/tau) with constant noise on [t0, T], the D-optimal
    two-point design is {t0, t0 + tau}."""
    region = RegionModel("X", tau_h=50.0, amplitude=1.0, residual_sd=0.1)
    design = StudyDesign((region,), times=(10.0, 300.0), random_effects=False)
    opt = optimise_schedule(design, ScheduleConstraints(2, 4.0, 400.0, 1.0), criterion="D",
                            n_starts=4, seed=1)
    assert opt.times[0] == pytest.approx(4.0, abs=0.05)
    assert opt.times[1] == pytest.approx(54.0, rel=0.01)
    assert opt.value <= opt.current_value


def test_optimiser_respects_windows_and_spacing_and_is_deterministic():
    design = StudyDesign(regions_from_scenario(regions=["STR"]), times=(2.0, 24.0, 72.0, 168.0))
    win = working_hours(336.0, dose_clock_h=9.0, days=[0, 1, 2, 3, 6, 7, 13])
    cons = ScheduleConstraints(4, 1.0, 336.0, 20.0, windows=win)
    a = optimise_schedule(design, cons, n_starts=1, seed=3)
    b = optimise_schedule(design, cons, n_starts=1, seed=3)
    assert a.times == b.times
    t = np.asarray(a.times)
    assert np.all(np.diff(t) >= 20.0 - 1e-9)
    for x in t:
        assert any(lo - 1e-9 <= x <= hi + 1e-9 for lo, hi in win), x
    assert cons.feasible(t)
    # the optimum is no worse than the current schedule (a start) under the criterion
    assert a.value <= design_criterion(design) + 1e-12
    # the comparison table is the two designs' expected precision
    pc = expected_precision(design).set_index("region")["se_log_tau"]
    np.testing.assert_allclose(a.comparison.set_index("region")["current_se_log_tau"], pc)


def test_constraint_map_round_trips():
    cons = ScheduleConstraints(4, 2.0, 300.0, 10.0, windows=((0, 8), (24, 32), (48, 56),
                                                              (160, 300)))
    times = np.array([2.0, 25.0, 50.0, 200.0])
    z = cons.to_z(times)
    np.testing.assert_allclose(cons.to_times(z), times, atol=1e-6)
    assert cons.to_z([2.0, 10.0, 50.0, 200.0]) is None  # 10 h is outside the windows


def test_d_optimal_allocation_of_two_dose_arms_is_near_balanced():
    """Two dose arms with dose effects on every kernel parameter: D-optimality asks for
    about half the subjects in each (each arm informs its own A and tau; only the
    variance components are shared), from a 27 / 3 start."""
    regions = (RegionModel("PFC", 108.0, 0.4, dose_tau_exponent=-0.4),)
    design = StudyDesign(regions, arms=(Arm("lo", 27, 0.5), Arm("hi", 3, 1.0)))
    cons = ScheduleConstraints(5, 2.0, 336.0, 12.0)
    opt = optimise_schedule(design, cons, criterion="D", allocation=True, n_starts=1, seed=0)
    n = [a.n_subjects for a in opt.design.arms]
    assert sum(n) == 30 and abs(n[0] - 15) <= 2, n
    unbalanced = replace(opt.design, arms=design.arms)
    assert opt.value < design_criterion(unbalanced, "D")


# ------------------------------------------------------------------ sample size
def test_sample_size_matches_inverse_square_root_law():
    design = StudyDesign(regions_from_scenario(), times=(2.0, 24.0, 72.0),
                         arms=(Arm(n_subjects=10),))
    se10 = expected_precision(design)["se_log_tau"].max()
    target = 0.08
    expect = int(np.ceil(10 * (se10 / target) ** 2 - 1e-9))
    res = sample_size(design, max_rse=target)
    assert res.n_per_arm == expect
    assert expected_precision(design.with_n(expect))["se_log_tau"].max() <= target
    assert expected_precision(design.with_n(expect - 1))["se_log_tau"].max() > target


def test_sample_size_for_power():
    regions = (RegionModel("PFC", 108.0, 0.4), RegionModel("STR", 140.0, 0.3))
    design = StudyDesign(regions)
    comp = Comparison("regions", "STR", "PFC", alternative="greater")
    res = sample_size(design, comparison=comp, power=0.8)
    n = res.n_per_arm
    p = expected_power(design.with_n(n), [comp])["power"].iloc[0]
    p_less = expected_power(design.with_n(n - 1), [comp])["power"].iloc[0]
    assert p >= 0.8 > p_less
    # one-sided power in closed form from the two regions' SEs
    se = np.hypot(*expected_precision(design.with_n(n))["se_log_tau"])
    assert p == pytest.approx(stats.norm.sf(stats.norm.isf(0.05) - np.log(140 / 108) / se))


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("make, match", [
    (lambda: StudyDesign((PFC,), times=(-1.0, 2.0, 24.0, 72.0)), "must be > 0"),
    (lambda: RegionModel("X", tau_h=0.0, amplitude=1.0), "tau_h"),
    (lambda: RegionModel("X", tau_h=-5.0, amplitude=1.0), "tau_h"),
    (lambda: StudyDesign((PFC,), times=(2.0, 24.0)), "fewer than the 3 parameters"),
    (lambda: ScheduleConstraints(6, 1.0, 48.0, 12.0), "infeasible"),
    (lambda: ScheduleConstraints(3, 1.0, 300.0, 10.0, windows=((0, 5), (24, 30))),
     "infeasible"),
    (lambda: StudyDesign((PFC,), arms=(Arm(n_subjects=0),)), "n_subjects"),
    (lambda: expected_power(StudyDesign((PFC,)), [Comparison("dose", 1.0, 0.5, "PFC")]),
     "differ in dose"),
])
def test_bad_input_raises_analysis_error(make, match):
    with pytest.raises(AnalysisError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: StudyDesign((PFC,), baseline="estimate"),
     r"'baseline' of StudyDesign\(\) was renamed 'baseline_mode'"),
    (lambda: StudyDesign((PFC,), baseline_mode="pre_dose"),
     "baseline_mode must be one of .*did you mean 'pre-dose'"),
    (lambda: RegionModel("X", tau_h=5.0, amplitude=1.0, kernel="batman"),
     "region 'X': kernel must be one of .*did you mean 'bateman'"),
    (lambda: Comparison("region", "STR", "PFC"),
     "comparison kind must be one of .*did you mean 'regions'"),
    (lambda: Comparison("regions", "STR", "PFC", alternative="greatr"),
     "alternative must be one of .*did you mean 'greater'"),
    (lambda: design_criterion(StudyDesign((PFC,)), "mean_rse"), "criterion must be one of"),
    (lambda: optimise_schedule(StudyDesign((PFC,)), criterion="d"), "criterion must be one of"),
])
def test_bad_option_raises_settings_error(make, match):
    """A misnamed or misspelled option is a SettingsError (a ValueError) with a hint."""
    with pytest.raises(SettingsError, match=match):
        make()


def test_baseline_mode_reaches_the_design():
    """Estimating the baseline adds the fixed effect E0: one more visit needed per
    subject, and E0 in the information matrix (subtracting the pre-dose mean fixes it)."""
    pre = StudyDesign((PFC,), n_baseline=2)
    est = replace(pre, baseline_mode="estimate")
    assert est.n_required_visits(PFC) == pre.n_required_visits(PFC) + 1
    assert "E0" in region_fim(est, PFC).names and "E0" not in region_fim(pre, PFC).names


def test_singular_design_is_reported():
    # three visits long after a 1 h decay: no information on tau
    region = RegionModel("FAST", tau_h=1.0, amplitude=0.5)
    with pytest.raises(KetephysError, match="singular"):
        expected_precision(StudyDesign((region,), times=(200.0, 250.0, 300.0)))


def test_cli_bad_yaml_raises_config_error(tmp_path):
    from ketephys.longitudinal.plan_cli import load_plan_config

    path = tmp_path / "plan.yaml"
    path.write_text("regions:\n  PFC: {tau_h: -3, amplitude: 0.4}\n")
    with pytest.raises(ConfigError, match="tau_h"):
        load_plan_config(path)
    path.write_text("regions: {}\nvisits_h: [2, 24]\n")
    with pytest.raises(ConfigError):
        load_plan_config(path)
    path.write_text("regions:\n  PFC: {tau_h: 100, amplitude: 0.4}\nvists_h: [2]\n")
    with pytest.raises(ConfigError, match="vists_h"):
        load_plan_config(path)
    # a bad option value in the file: a ConfigError naming the file, with a suggestion
    path.write_text("scenario: default\ncriterion: max_rse\n")
    with pytest.raises(ConfigError, match="plan.yaml: criterion must be one of .*did you mean"):
        load_plan_config(path)
    path.write_text("scenario: default\ncomparisons: [{kind: region, a: STR, b: PFC}]\n")
    with pytest.raises(ConfigError, match="plan.yaml: comparison kind must be one of"):
        load_plan_config(path)


def test_cli_prints_plan_and_writes_figure(tmp_path, capsys):
    from ketephys.cli import main

    fig = tmp_path / "plan.png"
    code = main(["plan", "--regions", "PFC:108:0.4,STR:204:0.3", "--visits", "2,24,72,168",
                 "--n", "20", "--min-spacing", "24", "--n-starts", "1", "--compare", "STR>PFC",
                 "--figure", str(fig)])
    out = capsys.readouterr().out
    assert code == 0
    assert fig.stat().st_size > 10_000
    regions = (RegionModel("PFC", 108.0, 0.4), RegionModel("STR", 204.0, 0.3))
    design = StudyDesign(regions, times=(2.0, 24.0, 72.0, 168.0))
    pred = expected_precision(design).set_index("region")
    # the current schedule's predicted CI of PFC tau and the power are printed
    assert f"{pred.loc['PFC', 'ci_low_h']:.3f}" in out
    power = expected_power(design, [Comparison("regions", "STR", "PFC", alternative="greater")])
    assert f"{power['power'].iloc[0]:.3f}" in out
    assert "recommended" in out.lower()


# ------------------------------------------------------------------ simulation (slow)
SLOW_STUDIES = 200


def _optimised_design():
    design = StudyDesign(regions_from_scenario())
    return optimise_schedule(design, ScheduleConstraints(5, 2.0, 336.0, 12.0), seed=0).design


@pytest.mark.slow
@pytest.mark.parametrize("name", ["default", "sparse4", "optimised"])
def test_predicted_se_matches_simulation(name):
    from ketephys.longitudinal.plan_check import simulate_design

    regions = regions_from_scenario()
    design = {"default": lambda: StudyDesign(regions),
              "sparse4": lambda: StudyDesign(regions, times=(6.0, 48.0, 168.0)),
              "optimised": _optimised_design}[name]()
    check = simulate_design(design, n_studies=SLOW_STUDIES, seed=11)
    print(f"\n{name} {design.times}\n", check.precision.to_string())
    ratio = check.precision["se_ratio"].to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.2), ratio


@pytest.mark.slow
@pytest.mark.parametrize("n", [20, 40])
def test_predicted_power_matches_simulation(n):
    from ketephys.longitudinal.plan_check import simulate_design

    regions = (RegionModel("PFC", 108.0, 0.4), RegionModel("STR", 140.0, 0.3))
    design = StudyDesign(regions, arms=(Arm(n_subjects=n),))
    comp = Comparison("regions", "STR", "PFC", alternative="greater")
    check = simulate_design(design, n_studies=300, seed=21 + n, comparisons=[comp])
    print(f"\nN = {n}\n", check.power.to_string())
    row = check.power.iloc[0]
    assert abs(row["predicted_power"] - row["simulated_power"]) < 0.05


@pytest.mark.slow
def test_optimised_schedule_ci_width_ratio():
    """Seed scenario: optimised 5 post-dose visits vs 2 h/24 h/d3/d7/d14 (+ baseline):
    ratio of the mean log-width of the profile CIs of tau, with its Monte Carlo error.
    The simulated ratio must agree with the predicted SE ratio within 3 MC errors + 5 %."""
    from ketephys.longitudinal.plan_check import simulate_design

    current = StudyDesign(regions_from_scenario())
    best = _optimised_design()
    a = simulate_design(current, n_studies=SLOW_STUDIES, seed=31, ci="profile")
    b = simulate_design(best, n_studies=SLOW_STUDIES, seed=32, ci="profile")
    pred = expected_precision(best)["se_log_tau"] / expected_precision(current)["se_log_tau"]
    for k, region in enumerate(["PFC", "HPC", "STR"]):
        wa = np.log(a.estimates.query("region == @region").eval("ci_high_h / ci_low_h"))
        wb = np.log(b.estimates.query("region == @region").eval("ci_high_h / ci_low_h"))
        ratio = wb.mean() / wa.mean()
        mc = ratio * np.hypot(wa.std() / wa.mean(), wb.std() / wb.mean()) / np.sqrt(len(wa))
        print(f"\n{region}: optimised {best.times} / default CI log-width = {ratio:.3f} "
              f"+- {mc:.3f} (predicted {pred.iloc[k]:.3f})")
        assert abs(ratio - pred.iloc[k]) < 3 * mc + 0.05
