"""Simulation-estimation: bias, RMSE and 95 % CI coverage of fit_decay.

The fast test runs 20 single-region studies with looser stated tolerances; the slow
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
    res = recovery_study(sc, n_studies=20, n_subjects=20, seed=101)
    row = res.summary.set_index("parameter").loc["tau_h"]
    # 20 studies: Monte-Carlo SE of the mean is ~2.5 %, of the coverage ~5 %
    assert abs(row["relative_bias"]) < 0.10
    assert 0.80 <= row["coverage"] <= 1.0
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
