"""TMS-EEG cleaning: the pulse is removed (not smeared), the decay is removed, every step
is recorded."""

from __future__ import annotations

import numpy as np
import pytest

from ketephys import Recording
from ketephys.errors import AnalysisError, SettingsError
from ketephys.simulate.tms import simulate_tms_eeg
from ketephys.tms import clean
from ketephys.tms.artifact import interpolate_windows, pulse_windows


@pytest.fixture(scope="module")
def sim():
    return simulate_tms_eeg(n_channels=16, n_trials=60, sfreq=2000.0, seed=5)


@pytest.fixture(scope="module")
def cleaned(sim):
    rec, _ = sim
    return clean(rec)


def test_interpolation_reproduces_polynomials():
    sfreq = 1000.0
    t = np.arange(400) / sfreq
    cubic = 1e-6 * (3 - 40 * t + 200 * t**2 - 300 * t**3)
    line = 1e-6 * (2 + 5 * t)
    cases = (("polynomial", cubic), ("cubic", line), ("linear", line),
             ("constant", np.full(400, 7e-6)))
    for method, signal in cases:
        data = np.vstack([signal, 2 * signal])
        spoiled = data.copy()
        win = pulse_windows(np.array([100, 250]), sfreq, (-0.002, 0.010))
        for a, b in win:
            spoiled[:, a:b + 1] = 5e-3  # a huge artifact
        skipped = interpolate_windows(spoiled, win, sfreq, method, fit_window=0.003)
        assert skipped == []
        np.testing.assert_allclose(spoiled, data, rtol=0, atol=1e-15)
    # PCHIP ("cubic") is shape-preserving: the bridge stays inside its anchor samples
    rng = np.random.default_rng(0)
    noisy = rng.standard_normal((3, 400)) * 1e-6
    anchors = np.concatenate([np.arange(96, 98), np.arange(111, 113)])
    interpolate_windows(noisy, pulse_windows(np.array([100]), sfreq, (-0.002, 0.010)), sfreq,
                        "cubic", fit_window=0.002)
    inside = noisy[:, 98:111]
    assert np.all(inside.max(axis=1) <= noisy[:, anchors].max(axis=1) + 1e-18)
    assert np.all(inside.min(axis=1) >= noisy[:, anchors].min(axis=1) - 1e-18)
    with pytest.raises(SettingsError, match="interp"):
        interpolate_windows(data, win, sfreq, "spline")
    # a window too close to the edge is reported, not touched
    edge = data.copy()
    assert interpolate_windows(edge, pulse_windows(np.array([1]), sfreq, (-0.002, 0.01)),
                               sfreq) == [0]
    np.testing.assert_array_equal(edge, data)


def test_pulse_gone_not_smeared(sim, cleaned):
    rec, truth = sim
    out = cleaned.recording
    assert out.sfreq == 1000.0
    assert np.abs(rec.data).max() > 1e-3  # the raw data have mV artifacts ...
    assert np.abs(out.data).max() < 60e-6  # ... the cleaned data none
    sf = out.sfreq
    worst = 0.0
    for p in np.round(truth.pulse_times * sf).astype(int):
        inside = out.data[:, p - 2:p + 16]  # removed window -2..15 ms (both ends)
        around = np.concatenate([out.data[:, p - 22:p - 2], out.data[:, p + 16:p + 36]], axis=1)
        lo, hi = around.min(axis=1), around.max(axis=1)
        excess = np.maximum(inside.max(axis=1) - hi, lo - inside.min(axis=1))
        worst = max(worst, float(excess.max()))
    assert worst <= 0.0, f"interpolated window exceeds neighbouring range by {worst:.2e} V"


def test_history_records_every_step(cleaned):
    steps = [h["step"] for h in cleaned.history]
    assert steps == ["pulses", "decay", "remove_interpolate", "resample", "bandpass",
                     "reference", "second_pass"]
    s = cleaned.settings
    assert s["remove_interpolate"]["window"] == (-0.002, 0.010)
    assert s["second_pass"]["window"] == (-0.002, 0.015)
    assert s["bandpass"]["l_freq"] == 1.0 and s["bandpass"]["h_freq"] == 100.0
    assert s["resample"]["to"] == 1000.0
    assert s["decay"]["channels_corrected"] == 16  # every channel has a decay artifact
    assert s["decay"]["fit_window"] == (0.003, 0.010)
    assert len(cleaned.pulses) == 60
    # average reference: channels sum to zero outside the re-interpolated windows
    out = cleaned.recording
    mask = np.ones(out.n_times, bool)
    for p in np.round(cleaned.pulses * out.sfreq).astype(int):
        mask[p - 2:p + 16] = False
    np.testing.assert_allclose(out.data[:, mask].sum(axis=0), 0, atol=1e-18)


def test_decay_left_in_place_biases_early_peaks(sim, cleaned):
    """The exponential decay removal brings the P30/N45 back; without it they are off."""
    from ketephys.tms import tep

    rec, truth = sim
    kept = tep(cleaned, n_permutations=0)
    raw = tep(clean(rec, decay="none"), n_permutations=0)
    for comp in ("P30", "N45"):
        lat, amp = truth.component_at(comp)
        good = kept.peak(comp, "C3")
        bad = raw.peak(comp, "C3")
        assert abs(good.latency_ms - lat * 1e3) <= 2
        assert abs(good.amplitude / amp - 1) <= 0.10
        err_bad = abs(bad.amplitude / amp - 1) if bad.found else np.inf
        assert err_bad > 3 * abs(good.amplitude / amp - 1)


def test_low_rate_and_options_are_recorded():
    rec, _ = simulate_tms_eeg(n_channels=6, n_trials=10, sfreq=500.0, seed=1, line_freq=50.0,
                              trigger_channel=True)
    res = clean(rec, resample=1000.0, h_freq=300.0, line_freq=50.0, reference=["Cz"],
                interp="linear")
    s = res.settings
    assert s["resample"]["skipped"] is True
    assert s["lowpass"]["skipped"] is True
    assert s["notch"]["freqs"] == [50.0, 100.0, 150.0, 200.0]
    assert s["reference"]["reference"] == ["Cz"]
    assert "TRIG" not in res.recording.ch_names  # stim channel used for pulses, not kept
    np.testing.assert_allclose(res.recording.get_data("Cz"), 0, atol=1e-20)


def test_bad_input():
    rec, _ = simulate_tms_eeg(n_channels=4, n_trials=5, sfreq=1000.0, seed=1, annotate=True)
    with pytest.raises(SettingsError, match="decay must be one of .*'ica'.*got 'magic'"):
        clean(rec, decay="magic")
    with pytest.raises(AnalysisError, match="remove"):
        clean(rec, remove=(0.01, -0.002))
    with pytest.raises(AnalysisError, match="after the pulse"):
        clean(rec, decay_options={"fit_window": (-0.001, 0.01)})
    with pytest.raises(AnalysisError, match="continuous"):
        clean(Recording(np.zeros((2, 3, 100)), 1000.0, ["a", "b", "c"]))
    bad = rec.copy()
    bad.data[0, 10] = np.nan
    with pytest.raises(AnalysisError, match="NaN"):
        clean(bad)


def test_ica_decay_removal():
    """MNE ICA with the exponential-shape rule removes a decay artifact (no TEP here, so the
    residual is what the decay left)."""
    from ketephys.tms import tep

    rec, _ = simulate_tms_eeg(n_channels=10, n_trials=40, sfreq=1000.0, seed=3, components=[],
                              decay_tau=0.015, annotate=True)
    left = {}
    for method in ("none", "ica"):
        res = clean(rec, decay=method, decay_options={"n_components": 6} if method == "ica"
                    else None)
        avg = tep(res, n_permutations=0)
        sel = (avg.times >= 0.016) & (avg.times <= 0.060)
        left[method] = np.abs(avg.average[:, sel]).max()
        if method == "ica":
            assert res.decay.method == "ica" and len(res.decay.corrected) >= 1
            assert res.settings["decay"]["excluded"] == res.decay.corrected
            assert np.all((res.decay.tau > 0.005) & (res.decay.tau < 0.05))
    assert left["none"] > 10e-6  # the decay is clearly there without removal
    assert left["ica"] < 0.05 * left["none"]
