"""Whole-cell measures against simulated EPSC/EPSP trains and RC test pulses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit

from ketephys import Recording
from ketephys.errors import AnalysisError, SettingsError
from ketephys.simulate.fepsp import simulate_fepsp_io
from ketephys.simulate.patch import simulate_patch
from ketephys.synaptic import analyse, io_curve, measure_test_pulse, psc


def test_epsc_train_amplitudes_rise_decay_ratios():
    rec, truth = simulate_patch(seed=1, n_sweeps=10, noise_sd=3e-12)
    tab = psc(rec)
    assert (tab["modality"] == "patch").all()
    by = tab.groupby("stimulus")
    amp = by["amplitude"].mean().to_numpy()
    # stated tolerances: amplitude 3 %, rise time 5 %, decay tau 5 %, ratios 0.01
    np.testing.assert_allclose(amp, truth.amplitudes, rtol=0.03)
    np.testing.assert_allclose(by["rise_time"].mean(), truth.rise_time, rtol=0.05)
    np.testing.assert_allclose(by["decay_tau"].mean(), truth.decay_tau, rtol=0.05)
    np.testing.assert_allclose(by["ratio_to_first"].mean(), truth.train_ratios, atol=0.01)
    np.testing.assert_allclose(tab["holding"], truth.holding, rtol=0.02)
    assert tab["onset_latency"].mean() == pytest.approx(truth.latency, abs=2e-4)


def test_noiseless_decay_matches_scipy_fit_and_truth():
    rec, truth = simulate_patch(seed=1, n_sweeps=2, noise_sd=0.0)
    tab = psc(rec)
    np.testing.assert_allclose(tab["amplitude"], np.tile(truth.amplitudes, 2), rtol=3e-3)
    np.testing.assert_allclose(tab["rise_time"], truth.rise_time, rtol=1e-2)
    np.testing.assert_allclose(tab["decay_tau"], truth.decay_tau, rtol=1e-2)
    # peer cross-check: scipy curve_fit on the same samples (50 % point to window end)
    y = rec.data[0, 0]
    sf = rec.sfreq
    r = tab.iloc[0]
    i_peak = int(round((r["stim_time"] + r["peak_latency"]) * sf))
    dev = -(y - r["baseline"])
    j0 = i_peak + int(np.flatnonzero(dev[i_peak:] <= 0.5 * -r["amplitude"])[0])
    j1 = int(round((truth.stim_times[1] - 2e-4) * sf))
    tt = np.arange(j1 - j0) / sf
    popt, _ = curve_fit(lambda x, c, a, t: c + a * np.exp(-x / t), tt, dev[j0:j1],
                        p0=(0, dev[j0], 3e-3))
    assert r["decay_tau"] == pytest.approx(popt[2], rel=1e-6)


def test_test_pulse_access_resistance_and_capacitance():
    rec, truth = simulate_patch(seed=3, rs_change=0.5, noise_sd=2e-12)
    tab = psc(rec)
    per = tab.drop_duplicates("sweep")
    np.testing.assert_allclose(per["rs"], truth.rs, rtol=0.03)
    np.testing.assert_allclose(per["rm"], truth.rm, rtol=0.05)
    np.testing.assert_allclose(per["cm"], truth.cm, rtol=0.05)
    changed = per["flags"].str.contains("access_changed").to_numpy()
    expect = np.abs(truth.rs / truth.rs[0] - 1) > 0.2
    # sweeps near the 20 % limit may fall either side of it
    clear = np.abs(np.abs(truth.rs / truth.rs[0] - 1) - 0.2) > 0.03
    np.testing.assert_array_equal(changed[clear], expect[clear])
    # stable access: no flag
    rec2, _ = simulate_patch(seed=3, rs_change=0.0)
    assert not psc(rec2)["flags"].str.contains("access_changed").any()


def test_current_clamp_epsps():
    rec, truth = simulate_patch(seed=4, mode="current_clamp", noise_sd=3e-5)
    tab = psc(rec)
    assert (tab["unit"] == "V").all()
    first = tab[tab["stimulus"] == 1]
    assert first["amplitude"].mean() == pytest.approx(truth.amplitudes[0], rel=0.02)
    assert tab["holding"].mean() == pytest.approx(truth.holding, abs=1e-4)
    tp = measure_test_pulse(rec.data[:, 0], rec.sfreq, **truth.test_pulse, mode="current_clamp")
    np.testing.assert_allclose(tp["rm"], truth.rm, rtol=0.03)
    np.testing.assert_allclose(tp["cm"], truth.cm, rtol=0.05)
    ft = analyse(rec)
    assert "epsp_amplitude" in set(ft["measure"])


def test_analyse_psc_and_errors():
    rec, truth = simulate_patch(seed=5)
    ft = analyse(rec).set_index("measure")
    assert ft.loc["epsc_amplitude", "unit"] == "A"
    assert ft.loc["ppr", "value"] == pytest.approx(truth.train_ratios[1], abs=0.02)
    assert ft.loc["rs", "value"] == pytest.approx(truth.rs.mean(), rel=0.03)
    with pytest.raises(AnalysisError, match="test_pulse needs"):
        psc(rec, test_pulse={"start": 0.02})
    field = Recording(np.zeros((2, 1, 100)), 1000.0, ["x"], ch_types=["misc"])
    with pytest.raises(AnalysisError, match="cannot tell"):
        analyse(field)


def test_io_curve_boltzmann():
    rec, truth = simulate_fepsp_io(seed=1)
    result = io_curve(rec)
    curve, fit = result.curve, result.fit
    assert list(curve["intensity"]) == sorted(set(truth["intensity"]))
    assert fit["i50"] == pytest.approx(truth["i50"], abs=2 * fit["i50_se"] + 1.0)
    assert fit["k"] == pytest.approx(truth["k"], rel=0.1)
    assert fit["top"] == pytest.approx(truth["slope_max"], rel=0.03)
    big = curve[curve["intensity"] >= 60]
    expect = truth["slope_max"] / (1 + np.exp((truth["i50"] - big["intensity"]) / truth["k"]))
    np.testing.assert_allclose(big["mean"], expect, rtol=0.03)


def test_test_pulse_baseline_duration_is_baseline_s():
    # ``baseline`` means a (tmin, tmax) window in ketephys; a duration is ``baseline_s``
    rec, truth = simulate_patch(seed=4, mode="current_clamp", noise_sd=3e-5)
    args = (rec.data[:, 0], rec.sfreq)
    with pytest.raises(SettingsError, match="'baseline' of measure_test_pulse\\(\\) was "
                                            "renamed 'baseline_s'"):
        measure_test_pulse(*args, **truth.test_pulse, mode="current_clamp", baseline=5e-3)
    a = measure_test_pulse(*args, **truth.test_pulse, mode="current_clamp", baseline_s=5e-3)
    b = measure_test_pulse(*args, **truth.test_pulse, mode="current_clamp")
    assert a.equals(b)
    with pytest.raises(SettingsError, match="mode must be one of"):
        measure_test_pulse(*args, **truth.test_pulse, mode="clamp")
    with pytest.raises(SettingsError, match="polarity must be one of"):
        psc(rec, polarity="down")
