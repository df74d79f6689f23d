"""The one-pass batch summary: names, mean rows, one FFT pass, consistency with the
single-purpose functions."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import ketephys.spectral as ks
from ketephys.errors import AnalysisError, SettingsError
from ketephys.features import FEATURE_COLUMNS
from ketephys.simulate.eeg import simulate_eeg

ka = importlib.import_module("ketephys.spectral.analyse")


@pytest.fixture(scope="module")
def sim():
    return simulate_eeg(4, 120, 500.0, seed=31, line_freq=50.0, theta_channels=[0, 1],
                        region="PFC", meta={"subject": "s1", "hours_since_dose": 24})


def test_analyse_names_units_and_means(sim):
    rec, truth = sim
    table = ks.analyse(rec)
    assert list(table.columns[:len(FEATURE_COLUMNS)]) == list(FEATURE_COLUMNS)
    assert set(table["measure"]) == {
        "gamma_power", "gamma_power_relative", "gamma_power_aperiodic_corrected",
        "gamma_power_aperiodic_corrected_relative", "aperiodic_exponent",
        "aperiodic_offset", "theta_msc"}
    assert (table["subject"] == "s1").all() and (table["region"] == "PFC").all()
    by = table.set_index(["measure", "channel"])["value"]
    assert by["gamma_power", "mean"] == pytest.approx(
        np.mean([by["gamma_power", c] for c in rec.ch_names]))
    assert by["theta_msc", "mean"] == pytest.approx(
        np.mean([v for (m, c), v in by.items() if m == "theta_msc" and c != "mean"]))
    assert table.set_index(["measure", "channel"]).loc[("gamma_power", "EEG001"), "unit"] \
        == "V^2"
    assert table.query("measure == 'gamma_power' and channel != 'mean'")["line_freq"] \
        .eq(50.0).all()
    np.testing.assert_allclose(
        table.query("measure == 'aperiodic_exponent' and channel != 'mean'")["value"],
        1.5, atol=0.15)
    assert by["theta_msc", "EEG001-EEG002"] > 0.3 and by["theta_msc", "EEG003-EEG004"] < 0.05


def test_features_one_pass_matches_separate_calls(sim, monkeypatch):
    rec, _ = sim
    calls = []
    real = ka.accumulate

    def counting(*args, **kwargs):
        calls.append(kwargs.get("cross_band"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ka, "accumulate", counting)
    table = ks.features(rec, aperiodic=None, measure=("msc", "imcoh"))
    assert len(calls) == 1  # PSD and cross-spectra from the same FFTs
    power, coh = table[table.ch_a.isna()], table[table.ch_a.notna()]
    sep_p = ks.band_power(rec, "gamma")
    np.testing.assert_allclose(
        power.query("measure == 'gamma_power'").value, sep_p.value, rtol=1e-12)
    sep_c = ks.coherence(rec, "theta", measure="imcoh")
    np.testing.assert_allclose(coh.query("measure == 'theta_imcoh'").value, sep_c.value,
                               rtol=1e-10, atol=1e-15)


def test_analyse_region_pairs_and_no_coherence(sim):
    rec, _ = sim
    t = ks.analyse(rec, aperiodic=None, pairs={"A": ["EEG001"], "B": ["EEG002", "EEG003"]},
                   measure=["msc", "wpli"])
    coh = t[t.measure.isin(["theta_msc", "theta_wpli"])]
    assert set(coh["channel"]) == {"EEG001-EEG002", "EEG001-EEG003", "A-B"}
    t2 = ks.analyse(rec, aperiodic=None, coherence_band=None, kinds=("absolute",))
    assert set(t2["measure"]) == {"gamma_power"}


def test_analyse_db_against_baseline():
    base, _ = simulate_eeg(3, 60, 500.0, seed=41, gamma_power=1e-11)
    post, _ = simulate_eeg(3, 60, 500.0, seed=42, gamma_power=1e-11, aperiodic_offset=2e-10)
    t = ks.analyse(post, kinds=("db",), aperiodic=None, coherence_band=None,
                   baseline_recording=base).set_index("channel")
    # everything doubled except the bump: 10 log10 of the ratio of gamma powers
    pb = ks.band_power(base, "gamma").set_index("channel")["value"]
    pp = ks.band_power(post, "gamma").set_index("channel")["value"]
    np.testing.assert_allclose(t.loc[pb.index, "value"], 10 * np.log10(pp / pb), rtol=1e-10)
    assert (t["unit"] == "dB").all()
    with pytest.raises(AnalysisError, match="baseline"):
        ks.analyse(post, kinds=("db",), aperiodic=None, coherence_band=None)


@pytest.mark.parametrize("func", [ks.analyse, ks.features, ks.compute, ks.band_power])
def test_baseline_recording_is_the_new_name_of_baseline(sim, func):
    # ``baseline`` means a (tmin, tmax) time window across ketephys; a recording is
    # ``baseline_recording``
    rec, _ = sim
    with pytest.raises(SettingsError, match=r"'baseline' .* renamed 'baseline_recording'"):
        func(rec, baseline=rec)
