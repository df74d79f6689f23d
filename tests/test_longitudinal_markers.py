"""The study-level marker simulator: table layout and exactly what it says it simulated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketephys.errors import SettingsError
from ketephys.simulate.markers import DEFAULT_SCENARIO, simulate_marker_study

COLUMNS = ["subject", "session", "region", "condition", "dose_mg_per_kg", "infusion",
           "hours_since_dose", "hours_since_last_dose", "genotype", "measure", "value",
           "expected", "unit"]


def test_layout_and_reproducibility():
    a, truth = simulate_marker_study(n_subjects=8, seed=3)
    b, _ = simulate_marker_study(n_subjects=8, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == COLUMNS
    assert len(a) == 8 * 3 * 6
    assert list(a.session.unique()) == ["baseline", "2h", "24h", "d3", "d7", "d14"]
    assert set(a.region) == {"PFC", "HPC", "STR"}
    assert (a.loc[a.hours_since_dose < 0, "infusion"] == 0).all()
    assert (a.loc[a.hours_since_dose > 0, "infusion"] == 1).all()
    assert a.hours_since_last_dose.isna().sum() == 8 * 3
    assert truth["regions"]["HPC"]["tau_h"] < truth["regions"]["PFC"]["tau_h"] < \
        truth["regions"]["STR"]["tau_h"]


def test_expected_values_follow_the_drawn_individual_parameters():
    table, truth = simulate_marker_study(n_subjects=10, doses=(0.5, 1.0),
                                         genotype_fraction_met=0.5, seed=4)
    subj = truth["subjects"].set_index(["subject", "region"])
    for row in table.itertuples():
        p = subj.loc[(row.subject, row.region)]
        t = row.hours_since_dose
        expect = p.E0 + (p.A * np.exp(-t / p.tau_h) if t >= 0 else 0.0)
        assert row.expected == pytest.approx(expect, rel=1e-12)
    # individual taus: typical x dose power law x Met factor x log-normal BSV
    ref = truth["dose_ref_mg_per_kg"]
    pfc = truth["subjects"][truth["subjects"].region == "PFC"]
    typical = (DEFAULT_SCENARIO["regions"]["PFC"]["tau_h"]
               * (pfc.dose_mg_per_kg / ref) ** truth["dose_tau_exponent"]
               * np.where(pfc.genotype == "Val/Met", 0.7, 1.0))
    eta = np.log(pfc.tau_h / typical)
    assert abs(eta.mean()) < 3 * truth["bsv_sd_tau"] / np.sqrt(10)
    assert sorted(table.dose_mg_per_kg.unique()) == [0.5, 1.0]


def test_noise_sd_and_met_fraction_on_a_large_study():
    table, truth = simulate_marker_study(n_subjects=400, regions=("PFC",), noise_sd=0.1,
                                         genotype_fraction_met=0.3, seed=5)
    resid = table.value - table.expected
    assert resid.std() == pytest.approx(0.1, rel=0.05)
    met = table.groupby("subject").genotype.first().eq("Val/Met").mean()
    assert met == pytest.approx(0.3, abs=0.07)


def test_repeated_infusions_superpose():
    course = [(0.0, 1.0), (72.0, 1.0), (168.0, 1.0)]
    table, truth = simulate_marker_study(n_subjects=3, regions=("HPC",), infusions=course,
                                         schedule=(-1.0, 24.0, 100.0, 200.0), seed=6)
    s = truth["subjects"].set_index("subject")
    row = table[(table.subject == "sub-01") & (table.hours_since_dose == 200.0)].iloc[0]
    p = s.loc["sub-01"]
    expect = p.E0 + p.A * sum(np.exp(-(200.0 - t0) / p.tau_h) for t0, _ in course)
    assert row.expected == pytest.approx(expect, rel=1e-12)
    assert row.infusion == 3 and row.hours_since_last_dose == 32.0


def test_bad_scenarios_raise_config_errors():
    with pytest.raises(SettingsError, match="unknown marker scenario"):
        simulate_marker_study("nope")
    with pytest.raises(SettingsError, match="not in the scenario"):
        simulate_marker_study(regions=("CBL",))
    with pytest.raises(SettingsError, match="unknown scenario key"):
        simulate_marker_study({"taus": 1})
    with pytest.raises(SettingsError, match="doses"):
        simulate_marker_study(doses=(0.0,))
