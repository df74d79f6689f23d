"""Coherence family: known MSC recovered within a K-derived tolerance, pair handling,
sign conventions, the 1/K floor."""

from __future__ import annotations

import numpy as np
import pytest

import ketephys.spectral as ks
from ketephys.errors import AnalysisError, SettingsError
from ketephys.recording import Recording
from ketephys.simulate.eeg import simulate_eeg


def _tolerance(msc: float, k_indep: float, n_bins: int) -> float:
    """4 SD of the band-mean MSC estimate (Carter 1973 variance 2 g(1-g)^2 / K per bin,
    adjacent Hann bins counted as half independent) plus the 1/K bias bound."""
    sd = np.sqrt(2.0 / k_indep) * np.sqrt(msc) * (1 - msc) / np.sqrt(max(n_bins / 2, 1))
    return 4 * sd + (1 - msc) ** 2 / k_indep


@pytest.mark.parametrize("msc, band, coh_band", [
    (0.25, (1.0, 100.0), (0.0, 250.0)),   # flat coherence at every frequency
    (0.5, "theta", (4.0, 8.0)),            # theta-band coherence only
])
def test_known_msc_recovered(msc, band, coh_band):
    rec, truth = simulate_eeg(4, 240, 500.0, seed=11, theta_coherence=msc,
                              coherence_band=coh_band, theta_channels=[0, 1, 2])
    table = ks.coherence(rec, band)
    row = table.set_index("channel")
    k = int(row["k"].iloc[0])
    assert k == 239  # segments x 1 taper; 50 % overlap -> ~K/2 independent
    tol = _tolerance(msc, k / 2, int(row["n_bins"].iloc[0]))
    for pair in ("EEG001-EEG002", "EEG001-EEG003", "EEG002-EEG003"):
        assert abs(row.loc[pair, "value"] - msc) < tol, (pair, row.loc[pair, "value"], tol)
    # uncoupled pairs sit at the ~1/K bias floor
    for pair in ("EEG001-EEG004", "EEG003-EEG004"):
        assert row.loc[pair, "value"] < 4 / (k / 2)
    assert (table["measure"] == f"{ks.resolve_band(band)[0]}_msc").all()


def test_msc_outside_band_is_zero_and_coh_is_sqrt():
    rec, _ = simulate_eeg(2, 120, 500.0, seed=12, theta_coherence=0.64,
                          coherence_band=(4.0, 8.0))
    alpha = ks.coherence(rec, (15, 25)).value.iloc[0]
    assert alpha < 0.05
    per_bin = ks.coherence(rec, (6, 6))  # single bin: coh^2 == msc exactly
    coh = ks.coherence(rec, (6, 6), measure="coh")
    assert abs(coh.value.iloc[0] ** 2 - per_bin.value.iloc[0]) < 1e-12


def test_imcoh_sign_and_wpli_for_a_lag():
    # b lags a by a quarter cycle at 6 Hz: scipy convention, phase(S_ab) = phase(b) -
    # phase(a) < 0, so Im(C_ab) < 0
    sf, f0 = 250.0, 6.0
    t = np.arange(int(120 * sf)) / sf
    rng = np.random.default_rng(0)
    phase = 2 * np.pi * f0 * t + np.cumsum(rng.standard_normal(t.size)) * 0.02
    a = np.sin(phase) + 0.5 * rng.standard_normal(t.size)
    b = np.sin(phase - np.pi / 2) + 0.5 * rng.standard_normal(t.size)
    rec = Recording(np.vstack([a, b]) * 1e-5, sf, ["a", "b"], ch_types=["eeg"] * 2)
    im = ks.coherence(rec, (5, 7), measure="imcoh").value.iloc[0]
    assert im < -0.3
    swapped = ks.coherence(rec, (5, 7), pairs=[("b", "a")], measure="imcoh").value.iloc[0]
    assert swapped == pytest.approx(-im)
    assert ks.coherence(rec, (5, 7), measure="wpli").value.iloc[0] > 0.8
    assert ks.coherence(rec, (5, 7), measure="plv").value.iloc[0] > 0.5


def test_pairs_all_list_and_regions():
    rec, _ = simulate_eeg(4, 20, 250.0, seed=13, ch_names=["P1", "P2", "H1", "H2"])
    allp = ks.coherence(rec)
    assert list(allp["channel"]) == ["P1-P2", "P1-H1", "P1-H2", "P2-H1", "P2-H2", "H1-H2"]
    some = ks.coherence(rec, pairs=[("H2", "P1")])
    assert list(some["channel"]) == ["H2-P1"]
    assert some.value.iloc[0] == pytest.approx(
        allp.set_index("channel").loc["P1-H2", "value"], rel=1e-12)
    reg = ks.coherence(rec, pairs={"PFC": ["P1", "P2"], "HPC": ["H1", "H2"]}, add_mean=True)
    assert list(reg["channel"]) == ["P1-H1", "P1-H2", "P2-H1", "P2-H2", "PFC-HPC"]
    assert reg.value.iloc[-1] == pytest.approx(reg.value.iloc[:4].mean())
    with pytest.raises(AnalysisError, match="self-pair"):
        ks.coherence(rec, pairs=[("P1", "P1")])
    with pytest.raises(AnalysisError, match="not among"):
        ks.coherence(rec, pairs=[("P1", "X")])
    with pytest.raises(SettingsError, match="measure must be one of"):
        ks.coherence(rec, measure="granger")


def test_multitaper_k_counts_tapers():
    rec, _ = simulate_eeg(2, 60, 250.0, seed=14, theta_coherence=0.0)
    t = ks.coherence(rec, method="multitaper", overlap=0.0)
    assert t["k"].iloc[0] == 30 * 7 and t["n_tapers"].iloc[0] == 7
    assert t.value.iloc[0] < 4 / 210 * 2  # floor ~1/K
