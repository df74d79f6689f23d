"""The fEPSP and patch simulators produce exactly what their truth says."""

from __future__ import annotations

import numpy as np
import pytest

from ketephys.errors import KetephysError
from ketephys.simulate.fepsp import fepsp_waveform, simulate_fepsp_experiment
from ketephys.simulate.patch import _dexp, rise_tau_for, simulate_patch


def test_waveform_linear_segment_has_exact_slope_and_peak():
    a, s, onset = 1e-3, 0.5, 0.002
    t = np.linspace(0, 0.02, 200001)
    w = fepsp_waveform(t, onset, a, s, 0.008)
    # peak value is the amplitude, reached with zero derivative
    assert w.max() == pytest.approx(a, rel=1e-9)
    # between 5 % and 90 % of the amplitude the derivative is exactly the slope
    m = (w > 0.05 * a + 1e-12) & (w < 0.9 * a - 1e-12) & (t < t[np.argmax(w)])
    d = np.gradient(w, t)[m][1:-1]
    np.testing.assert_allclose(d, s, rtol=1e-6)
    # zero before onset and C1 (no jump in the derivative larger than a step allows)
    assert np.all(w[t < onset] == 0)
    assert np.max(np.abs(np.diff(np.gradient(w, t)))) < 0.01 * s


def test_experiment_truth_consistent_and_seeded():
    rec, truth = simulate_fepsp_experiment(n_baseline_min=10, n_post_min=60, seed=4,
                                           ltp_magnitude=1.4, ptp=0.0)
    rec2, _ = simulate_fepsp_experiment(n_baseline_min=10, n_post_min=60, seed=4,
                                        ltp_magnitude=1.4, ptp=0.0)
    np.testing.assert_array_equal(rec.data, rec2.data)
    assert rec.is_episodic and rec.ch_types == ["field"] and rec.units == ["V"]
    assert truth.ltp_magnitude_pct == pytest.approx(140.0)
    gap = np.diff(rec.sweep_starts).max()
    assert gap == pytest.approx(15.0 + 60.0)  # the induction pause
    # noiseless check: a sweep equals artifact + volley + scaled template
    rec0, t0 = simulate_fepsp_experiment(n_baseline_min=2, n_post_min=2, noise_sd=0.0,
                                         seed=1, fibre_volley=0.0, artifact_amplitude=0.0)
    times = rec0.times
    expected = -fepsp_waveform(times, 0.01 + 2.2e-3, 1e-3, 0.5, 0.008)
    np.testing.assert_allclose(rec0.data[0, 0], expected, atol=1e-15)


def test_experiment_options_and_errors():
    rec, truth = simulate_fepsp_experiment(n_baseline_min=2, n_post_min=2, pathways=2,
                                           induction="theta_burst", induction_mode="recorded",
                                           paired_pulse=0.05, seed=1)
    assert truth.induction_sweeps == [8]
    assert set(truth.pathway[truth.factors > 1]) == {1}
    assert truth.stim_times == [0.01, 0.06]
    with pytest.raises(KetephysError, match="same sign"):
        simulate_fepsp_experiment(slope=-0.5, amplitude=1e-3)
    with pytest.raises(KetephysError, match="pathways"):
        simulate_fepsp_experiment(pathways=3)


def test_patch_truth():
    tau_r = rise_tau_for(1e-3, 5e-3)
    t = np.linspace(0, 0.05, 500001)
    w = _dexp(t, tau_r, 5e-3)
    assert w.max() == pytest.approx(1.0, rel=1e-9)
    ip = int(np.argmax(w))
    rise = np.interp(0.9, w[:ip], t[:ip]) - np.interp(0.1, w[:ip], t[:ip])
    assert rise == pytest.approx(1e-3, rel=1e-6)
    rec, truth = simulate_patch(seed=2, rs_change=0.5, noise_sd=0.0)
    assert rec.ch_types == ["im"] and rec.units == ["A"]
    assert truth.rs[-1] == pytest.approx(1.5 * truth.rs[0])
    # the instantaneous test-pulse current is dV / Rs exactly
    i0 = int(round(truth.test_pulse["start"] * rec.sfreq))
    jump = rec.data[0, 0, i0] - rec.data[0, 0, i0 - 1]
    assert jump == pytest.approx(truth.test_pulse["amplitude"] / truth.rs[0], rel=1e-9)
    assert list(rec.events["description"].unique()) == ["test_pulse"]
