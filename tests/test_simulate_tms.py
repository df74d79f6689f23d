"""The TMS-EEG simulator puts exactly what its truth says into the recording."""

from __future__ import annotations

import numpy as np
import pytest

from ketephys.simulate.tms import DEFAULT_COMPONENTS, component_waveform, simulate_tms_eeg


@pytest.fixture(scope="module")
def clean_sim():
    # no noise, no artifacts: the recording is the TEP template at every pulse
    return simulate_tms_eeg(n_channels=12, n_trials=5, sfreq=1000.0, noise=0.0,
                            pulse_artifact=False, decay_artifact=False, seed=1)


def test_components_peak_exactly_at_their_latency(clean_sim):
    _, truth = clean_sim
    t = truth.times
    for comp in DEFAULT_COMPONENTS:
        w = component_waveform(t, comp)
        assert w.max() == pytest.approx(1.0)
        assert t[np.argmax(w)] == pytest.approx(comp.latency)
        lat, amp = truth.component_at(comp.name)
        # at the centre electrode the summed TEP equals the component amplitude at its latency
        c = truth.components
        ch = c[(c.component == comp.name) & c.center].channel.iloc[0]
        i = list(truth.components.channel.unique()).index(ch)
        k = int(round(lat * 1000))
        assert truth.tep[i, k] == pytest.approx(amp, rel=1e-12)
        seg = truth.tep[i, k - 3:k + 4] * np.sign(amp)  # a strict local extreme
        assert np.argmax(seg) == 3


def test_tep_is_in_the_data_and_gmfp_truth(clean_sim):
    rec, truth = clean_sim
    n = truth.tep.shape[1]
    for p in truth.pulse_samples:
        np.testing.assert_allclose(rec.data[:, p:p + n], truth.tep, atol=1e-18)
    np.testing.assert_allclose(truth.gmfp, truth.tep.std(axis=0, ddof=0))
    # topographies are zero-mean: average reference leaves the TEP unchanged
    np.testing.assert_allclose(truth.tep.mean(axis=0), 0, atol=1e-18)


def test_pulses_isi_seed_and_scale():
    kw = dict(n_channels=6, n_trials=20, sfreq=1000.0, isi=(2.0, 2.5))
    a, ta = simulate_tms_eeg(seed=3, **kw)
    b, tb = simulate_tms_eeg(seed=3, **kw)
    np.testing.assert_array_equal(a.data, b.data)
    gaps = np.diff(ta.pulse_times)
    assert gaps.min() >= 2.0 - 1e-3 and gaps.max() <= 2.5 + 1e-3
    _, ts = simulate_tms_eeg(seed=3, excitability_scale=1.5, **kw)
    np.testing.assert_allclose(ts.tep, 1.5 * ta.tep)
    # the pulse artifact starts at the pulse sample, on every channel, and is huge
    p = ta.pulse_samples[0]
    assert np.all(np.abs(a.data[:, p]) > 100 * np.abs(a.data[:, p - 50:p - 1]).max())


def test_trigger_channel_and_annotations():
    rec, truth = simulate_tms_eeg(n_channels=4, n_trials=5, sfreq=1000.0, seed=0,
                                  trigger_channel=True, annotate=True)
    assert rec.ch_types[-1] == "stim" and rec.ch_names[-1] == "TRIG"
    trig = rec.data[-1]
    rising = np.flatnonzero((trig[1:] > 0.5) & (trig[:-1] <= 0.5)) + 1
    np.testing.assert_array_equal(rising, truth.pulse_samples)
    np.testing.assert_allclose(rec.events.onset, truth.pulse_times)
    assert set(rec.events.description) == {"tms_pulse"}


def test_muscle_and_line_noise_options():
    kw = dict(n_channels=8, n_trials=4, sfreq=2000.0, noise=0.0, pulse_artifact=False,
              decay_artifact=False, components=[])
    rec, truth = simulate_tms_eeg(muscle=True, seed=0, **kw)
    p = truth.pulse_samples[0]
    burst = rec.data[0, p:p + 60]  # C3 (at the coil): a ~70 Hz burst within 30 ms
    assert 20e-6 < np.abs(burst).max() < 80e-6
    assert np.abs(rec.data[0, p + 60:p + 400]).max() == 0.0
    spec = np.abs(np.fft.rfft(rec.data[0, p:p + 200]))
    f = np.fft.rfftfreq(200, 1 / 2000.0)
    assert 50 <= f[np.argmax(spec)] <= 90
    quiet, _ = simulate_tms_eeg(line_freq=50.0, line_amplitude=2e-6, seed=0, **kw)
    x = quiet.data[1, :4000]
    spec = np.abs(np.fft.rfft(x)) / len(x) * 2
    f = np.fft.rfftfreq(len(x), 1 / 2000.0)
    assert f[np.argmax(spec)] == pytest.approx(50.0)
    assert spec.max() == pytest.approx(2e-6, rel=0.05)
