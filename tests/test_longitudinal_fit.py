"""fit_decay on simulated studies with known truth: estimates, flags, covariates, prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketephys.errors import AnalysisError, SettingsError
from ketephys.longitudinal import compare_models, fit_decay, fit_decay_by_group
from ketephys.longitudinal.bootstrap import bootstrap_fit
from ketephys.longitudinal.fit import State, lm_fit
from ketephys.longitudinal.models import DecayModel
from ketephys.simulate.markers import simulate_marker_study

SIX = [(0.0, 1.0), (72.0, 1.0), (168.0, 1.0), (240.0, 1.0), (336.0, 1.0), (408.0, 1.0)]


@pytest.fixture(scope="module")
def study():
    return simulate_marker_study(n_subjects=40, seed=7)


@pytest.fixture(scope="module")
def fitted(study):
    table, _ = study
    return fit_decay(table, ci="both", n_boot=300, seed=1)


def test_summary_recovers_simulated_taus(study, fitted):
    _, truth = study
    s = fitted.summary().set_index("region")
    for region, reg in truth["regions"].items():
        row = s.loc[region]
        # N = 40: tau within 20 % of the truth and inside the 95 % profile interval
        assert row["tau_h"] == pytest.approx(reg["tau_h"], rel=0.2)
        assert row["tau_ci_low_h"] < reg["tau_h"] < row["tau_ci_high_h"]
        assert row["tau_boot_ci_low_h"] < row["tau_h"] < row["tau_boot_ci_high_h"]
        assert row["peak_effect"] == pytest.approx(reg["A"], rel=0.2)
        assert row["half_life_h"] == pytest.approx(row["tau_h"] * np.log(2))
        assert row["t10_h"] == pytest.approx(row["tau_h"] * np.log(10))
        assert row["identifiable"]
        assert row["n_subjects"] == 40 and row["n_obs"] == 200
    assert s.loc["STR", "tau_h"] > s.loc["PFC", "tau_h"] > s.loc["HPC", "tau_h"]
    # residual SD: the simulator's noise SD (0.04)
    assert np.allclose(s["residual_sd"], truth["noise_sd"], rtol=0.25)
    assert np.all(np.isfinite(s[["aic", "bic", "loglik", "bsv_sd_log_tau"]]))


def test_compare_regions_ratio(fitted):
    res = fitted.compare("STR", "HPC")
    s = fitted.summary().set_index("region")
    assert res["ratio"] == pytest.approx(s.loc["STR", "tau_h"] / s.loc["HPC", "tau_h"])
    assert 1.0 < res["ci_low"] < res["ratio"] < res["ci_high"]
    assert res["method"] == "paired subject bootstrap"


def test_plot_returns_figure(fitted):
    import matplotlib.figure

    fig = fitted.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert sum(ax.get_visible() for ax in fig.axes) == 3


def test_vectorised_bootstrap_equals_individual_refits(study):
    """Each batched pooled-LS replicate equals fitting that resampled data set on its own."""
    table, _ = study
    fit = fit_decay(table[table.region == "PFC"], random_effects=False, ci="none")
    g = fit.groups[0]
    idx = np.random.default_rng(0).integers(0, g.data.n_subjects, size=(8, g.data.n_subjects))
    boot = bootstrap_fit(g.pm, g.data, g.state, g.fixed, idx, random_effects=False)
    for b in range(len(idx)):
        one = lm_fit(g.pm, g.data.take(idx[b:b + 1]), State(g.state.beta.copy(),
                     g.state.eta, g.state.omega, g.state.sigma), fixed=g.fixed[None],
                     max_iter=500, tol=1e-15)
        np.testing.assert_allclose(boot.beta[b], one.beta[0], rtol=1e-6, atol=1e-9)


def test_long_feature_table_with_channels_and_measure_filter(study):
    table = study[0][lambda d: d.region.isin(["PFC", "HPC"])]
    rows = []
    for ch, off in (("ch1", -0.01), ("ch2", 0.01)):  # two channels per region, averaged
        t = table.copy()
        t["channel"] = ch
        t["value"] = t["value"] + off
        rows.append(t.assign(measure="gamma_power"))
        rows.append(t.assign(measure="theta_coh", value=0.3 + 0 * t["value"]
                             + np.random.default_rng(1).normal(0, 0.01, len(t))))
    long = pd.concat(rows, ignore_index=True)
    direct = fit_decay(table, ci="none").summary().set_index("region")
    by_name = fit_decay(long, value="gamma_power", ci="none").summary().set_index("region")
    by_measure = fit_decay(long, measure="gamma_power", ci="none").summary().set_index("region")
    np.testing.assert_allclose(by_name["tau_h"], direct["tau_h"], rtol=1e-6)
    np.testing.assert_allclose(by_measure["tau_h"], direct["tau_h"], rtol=1e-6)
    both = fit_decay(long, ci="none").summary()
    assert set(both["measure"]) == {"gamma_power", "theta_coh"} and len(both) == 4


def test_wide_biomarker_table_and_custom_columns():
    table, truth = simulate_marker_study(n_subjects=30, regions=("HPC",), seed=4)
    wide = table.rename(columns={"value": "bdnf_ng_ml", "hours_since_dose": "t", "subject": "id"})
    wide = wide.drop(columns=["measure"])
    s = fit_decay(wide, value="bdnf_ng_ml", time="t", subject="id", group=None,
                  ci="profile").summary().iloc[0]
    assert s["tau_ci_low_h"] < truth["regions"]["HPC"]["tau_h"] < s["tau_ci_high_h"]


@pytest.mark.parametrize("scenario,word", [("too_fast", "shorter"), ("too_slow", "longer")])
def test_unidentifiable_taus_are_flagged(scenario, word):
    table, _ = simulate_marker_study(scenario, n_subjects=20, regions=None, seed=5)
    s = fit_decay(table, ci="profile").summary().iloc[0]
    assert not s["identifiable"]
    assert word in s["identifiability_reason"]


def test_dose_and_genotype_effects_have_the_right_sign():
    table, truth = simulate_marker_study(n_subjects=60, regions=("PFC",), doses=(0.5, 1.0),
                                         genotype_fraction_met=0.5, seed=8)
    fit = fit_decay(table, covariates=("dose", "genotype"), ci="profile")
    eff = fit.effects().set_index("parameter")
    # truth: tau ~ D^-0.4, A ~ D^0.5, Met carriers tau x 0.7 (log -0.36)
    assert eff.loc["log_tau:log_dose", "ci_high"] < 0
    assert eff.loc["log_A:log_dose", "ci_low"] > 0
    assert eff.loc["log_tau:met_carrier", "ci_high"] < 0
    for name, key in (("log_tau:log_dose", "dose_tau_exponent"),
                      ("log_A:log_dose", "dose_amp_exponent"),
                      ("log_tau:met_carrier", "log_met_tau")):
        assert eff.loc[name, "ci_low"] < truth[key] < eff.loc[name, "ci_high"]
    # the summary's tau is the reference (0.5 mg/kg, non-carrier) typical value
    s = fit.summary().iloc[0]
    assert s["tau_ci_low_h"] < truth["regions"]["PFC"]["tau_h"] < s["tau_ci_high_h"]


def test_single_dose_fit_predicts_six_infusion_course():
    schedule = (-1.0, 2.0, 24.0, 72.0, 168.0, 336.0)
    single, _ = simulate_marker_study(n_subjects=30, regions=("PFC",), schedule=schedule, seed=9)
    fit = fit_decay(single, ci="bootstrap", n_boot=300, seed=2, baseline_mode="pre-dose")
    visits = (-1.0, 26.0, 98.0, 194.0, 266.0, 362.0, 434.0, 600.0, 800.0)
    course, _ = simulate_marker_study(n_subjects=30, regions=("PFC",), schedule=visits,
                                      infusions=SIX, seed=10)
    base = course[course.hours_since_dose < 0].set_index("subject")["value"]
    post = course[course.hours_since_dose > 0].copy()
    post["change"] = post["value"] - post["subject"].map(base)
    pred = fit.predict(np.array(visits[1:]), schedule=SIX).set_index("hours")
    lo = post["hours_since_dose"].map(pred["pi_low"])
    hi = post["hours_since_dose"].map(pred["pi_high"])
    inside = ((post["change"] >= lo) & (post["change"] <= hi)).mean()
    # 240 observations (30 subjects x 8 visits) against the nominal 95 % band: if they
    # were independent, P(>= 238 inside) = 4e-4 under Binomial(240, 0.95), and a band
    # 1.5x too wide (99.7 %) would hold >= 238 with P = 0.95. Subjects' random effects and
    # the one fit make them dependent: measured 226/240 = 0.942 with these seeds, and
    # 0.78-0.99 (at most 237/240) over 20 other seed triples.
    assert 0.88 <= inside <= 0.99
    # the course accumulates: the predicted effect after the 6th dose exceeds a single dose's
    one = fit.predict(np.array([434.0 - 408.0]))
    assert pred.loc[434.0, "fit"] > 1.3 * one["fit"].iloc[0]
    # and the observed mean change per visit lies inside the 95 % prediction band
    means = post.groupby("hours_since_dose")["change"].mean()
    assert np.all((means >= pred["pi_low"]) & (means <= pred["pi_high"]))


def test_bateman_auto_selection_and_rise():
    sched = (-1.0, 1.0, 3.0, 6.0, 12.0, 24.0, 48.0, 96.0, 168.0, 336.0)
    sc = {"kernel": "bateman", "rise_fraction": 0.25,
          "regions": {"HPC": {"E0": 1.0, "A": 0.6, "tau_h": 48.0}}}
    table, _ = simulate_marker_study(sc, n_subjects=30, regions=None, schedule=sched, seed=11)
    fit = fit_decay(table, model="auto", ci="profile")
    s = fit.summary().iloc[0]
    assert s["model"] == "bateman"
    assert s["tau_ci_low_h"] < 48.0 < s["tau_ci_high_h"]
    assert s["tau_rise_h"] == pytest.approx(12.0, rel=0.35)
    # peak time of the normalised Bateman kernel: ln(td/tr) td tr / (td - tr) = 18.5 h
    assert s["peak_time_h"] == pytest.approx(np.log(4) * 48 * 12 / 36, rel=0.3)
    expo = fit_decay(table, model="exponential", ci="none")
    assert fit.groups[0].aic < expo.groups[0].aic


def test_tolerance_variant_recovered_and_preferred():
    rng = np.random.default_rng(12)
    model = DecayModel(kernel="exponential", variant="tolerance", gamma_fixed=1.0)
    times = np.array([-1.0, 2.0, 24.0, 70.0, 74.0, 96.0, 166.0, 170.0, 200.0, 300.0, 400.0])
    dose_t, dose_a = np.array([[0.0, 72.0, 168.0]]), np.ones((1, 3))
    rows = []
    for i in range(25):
        p = np.array([[1.0, np.log(0.5) + rng.normal(0, 0.1), np.log(60.0), np.log(0.6)]])
        f, _ = model.evaluate(times[None], p, dose_t, dose_a)
        y = f[0] + rng.normal(0, 0.02, times.size)
        rows += [{"subject": f"s{i}", "region": "PFC", "hours_since_dose": t, "value": v}
                 for t, v in zip(times, y)]
    table = pd.DataFrame(rows)
    sched = [(0.0, 1.0), (72.0, 1.0), (168.0, 1.0)]
    plain = fit_decay(table, schedule=sched, ci="none")
    tol = fit_decay(table, schedule=sched, variant="tolerance", ci="profile")
    eff = tol.effects().set_index("parameter")
    assert eff.loc["log_rho", "ci_low"] < np.log(0.6) < eff.loc["log_rho", "ci_high"]
    cmp = compare_models(plain, tol).iloc[0]
    assert cmp["p_value"] < 1e-3 and cmp["preferred"] == "b"


def test_bad_input_raises_ketephys_errors(study):
    table, _ = study
    with pytest.raises(AnalysisError, match="no column 'nope'"):
        fit_decay(table, value="nope")
    with pytest.raises(SettingsError, match="model must be"):
        fit_decay(table, model="gompertz")
    with pytest.raises(AnalysisError, match="pre-dose"):
        fit_decay(table[table.hours_since_dose > 0], baseline_mode="pre-dose")
    with pytest.raises(AnalysisError, match="covariate 'genotype'"):
        fit_decay(table, covariates=("genotype",))  # all Val/Val in this study


def test_baseline_mode_is_the_name_of_how_the_baseline_is_obtained(study):
    """``baseline`` (a time window elsewhere) was renamed ``baseline_mode`` here: the old
    name is an error that names the new one, in fit_decay and in fit_decay_by_group (whose
    other groups would otherwise record it as a per-group failure)."""
    table, _ = study
    pfc = table[table.region == "PFC"]
    for func in (fit_decay, fit_decay_by_group):
        with pytest.raises(SettingsError, match="'baseline' of fit_decay(_by_group)?\\(\\) "
                                                "was renamed 'baseline_mode'"):
            func(pfc, baseline="estimate", ci="none")
    with pytest.raises(SettingsError, match="baseline_mode must be one of .*'estimate'"):
        fit_decay(pfc, baseline_mode="estimated", ci="none")
    # the new name is used, not ignored: estimating E0 fits the raw values
    pre = fit_decay(pfc, baseline_mode="pre-dose", ci="none")
    est = fit_decay(pfc, baseline_mode="estimate", ci="none")
    assert pre["PFC"].pm.fixed_e0 and not est["PFC"].pm.fixed_e0
    assert est.settings["baseline_mode"] == "estimate"
    assert est["PFC"].beta["E0"] == pytest.approx(1.0, abs=0.05)  # simulated E0 = 1


def test_too_few_subjects_or_visits(study):
    table, _ = study
    two = table[table.subject.isin(["sub-01", "sub-02"]) & (table.region == "PFC")]
    with pytest.raises(AnalysisError, match="at least 3 subjects"):
        fit_decay(two)
    one_visit = table[table.hours_since_dose.isin([-1.0, 24.0]) & (table.region == "PFC")]
    with pytest.raises(AnalysisError, match="two post-dose visit"):
        fit_decay(one_visit)


def test_bootstrap_with_few_em_steps_matches_fully_converged(fitted):
    """The default 5 EM steps per replicate give the same tau percentiles as converged EM."""
    g = fitted["PFC"]
    idx = g.boot_idx[:200]
    quick = bootstrap_fit(g.pm, g.data, g.state, g.fixed, idx, True, n_em=5)
    full = bootstrap_fit(g.pm, g.data, g.state, g.fixed, idx, True, n_em=100)
    k = g.pm.beta_names.index("log_tau")
    q = np.percentile(quick.beta[:, k], [2.5, 50, 97.5])
    f = np.percentile(full.beta[:, k], [2.5, 50, 97.5])
    np.testing.assert_allclose(np.exp(q), np.exp(f), rtol=0.02)


def test_infusion_count_covariate():
    """Subjects after their 2nd course decay twice as slowly: log_tau:infusion = log 2."""
    sc1 = {"regions": {"PFC": {"E0": 1.0, "A": 0.4, "tau_h": 60.0}}}
    sc2 = {"regions": {"PFC": {"E0": 1.0, "A": 0.4, "tau_h": 120.0}}}
    a, _ = simulate_marker_study(sc1, n_subjects=20, regions=None, seed=31)
    b, _ = simulate_marker_study(sc2, n_subjects=20, regions=None, seed=32)
    b["subject"] = b["subject"] + "b"
    b.loc[b.hours_since_dose >= 0, "infusion"] = 2
    fit = fit_decay(pd.concat([a, b]), covariates=("infusion",), ci="profile")
    eff = fit.effects().set_index("parameter")
    assert eff.loc["log_tau:infusion", "ci_low"] < np.log(2) < eff.loc["log_tau:infusion",
                                                                       "ci_high"]
    assert fit.summary().iloc[0]["tau_ci_low_h"] < 60 < fit.summary().iloc[0]["tau_ci_high_h"]


def test_decayfit_pickles_for_process_pools(fitted):
    import pickle

    back = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(back.summary(), fitted.summary())
