"""Simulation-estimation: bias, RMSE and 95 % CI coverage of fit_decay.

The fast test runs 100 single-region studies with looser stated tolerances; the slow
tests run >= 200 studies of the default scenario (N = 20, visits baseline/2 h/24 h/d3/
d7/d14) and of taus at both ends of the 24 h - 14 d range, with the issue's tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest

from ketephys.longitudinal import recovery_study

EDGES = {"regions": {"T24": {"E0": 1.0, "A": 0.5, "tau_h": 24.0},
                     "T336": {"E0": 1.0, "A": 0.5, "tau_h": 336.0}}}


def test_recovery_fast():
    sc = {"regions": {"PFC": {"E0": 1.0, "A": 0.4, "tau_h": 108.0}}}
    res = recovery_study(sc, n_studies=100, n_subjects=20, seed=101)
    row = res.summary.set_index("parameter").loc["tau_h"]
    # 100 studies: Monte-Carlo SE of the mean bias ~1 %, of the coverage ~2.2 %.
    assert abs(row["relative_bias"]) < 0.10
    # Coverage of the nominal 95 % CI over 100 studies, bounded on both sides: under
    # Binomial(100, 0.95), P(<= 87 covered) = 0.0015 and P(100 covered) = 0.0059, while
    # intervals twice too wide (true coverage 0.9999) cover all 100 with P = 0.99.
    # Measured 0.91 at seed 101 (0.96, 0.91, 0.93, 0.97 at seeds 102-105).
    assert 0.88 <= row["coverage"] <= 0.99
    assert row["relative_rmse"] < 0.25
    assert row["n_identifiable"] >= 18
    amp = res.summary.set_index("parameter").loc["A"]
    assert abs(amp["relative_bias"]) < 0.10


@pytest.mark.slow
def test_recovery_default_scenario_200_studies():
    res = recovery_study("default", n_studies=200, n_subjects=20, seed=11)
    tau = res.summary[res.summary.parameter == "tau_h"].set_index("group")
    assert np.all(np.abs(tau["relative_bias"]) < 0.05), tau
    assert np.all((tau["coverage"] >= 0.90) & (tau["coverage"] <= 0.98)), tau
    assert res.ordering_fraction(("STR", "PFC", "HPC")) >= 0.95


@pytest.mark.slow
def test_recovery_tau_range_edges_200_studies():
    res = recovery_study(EDGES, n_studies=200, n_subjects=20, seed=12)
    tau = res.summary[res.summary.parameter == "tau_h"].set_index("group")
    assert np.all(np.abs(tau["relative_bias"]) < 0.05), tau
    assert np.all((tau["coverage"] >= 0.90) & (tau["coverage"] <= 0.98)), tau


@pytest.mark.slow
def test_recovery_dose_and_genotype_signs():
    res = recovery_study("default", n_studies=50, n_subjects=20, seed=13, doses=(0.5, 1.0),
                         genotype_fraction_met=0.5, covariates=("dose", "genotype"))
    assert res.sign_fraction("log_tau:log_dose") >= 0.9
    assert res.sign_fraction("log_A:log_dose") >= 0.9
    assert res.sign_fraction("log_tau:met_carrier") >= 0.9
