"""Aperiodic correction: the simulated gamma bump is recovered on a knee spectrum with
a 60 Hz line; the exponent is reported."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ketephys.spectral as ks
from ketephys.errors import AnalysisError
from ketephys.simulate.eeg import simulate_eeg


@pytest.fixture(scope="module")
def knee_rec():
    return simulate_eeg(3, 300, 500.0, seed=0, knee=30.0, aperiodic_exponent=2.0,
                        aperiodic_offset=1e-9, gamma_power=3e-11, line_freq=60.0,
                        line_amplitude=20e-6)


def test_corrected_gamma_within_5_percent(knee_rec):
    rec, truth = knee_rec
    table = ks.band_power(rec, "gamma", aperiodic="knee", line_freq="auto")
    assert set(table["measure"]) == {"gamma_power_aperiodic_corrected"}
    assert np.all(table["line_freq"] == 60.0)
    np.testing.assert_allclose(table["value"], truth.gamma_band_power(), rtol=0.05)
    np.testing.assert_allclose(table["aperiodic_exponent"], 2.0, atol=0.1)
    # knee frequency k**(1/exponent) (5.5 Hz) recovered to within a factor 1.5 (the knee
    # parameter itself trades off against the exponent)
    knee_freq = table["aperiodic_knee"] ** (1 / table["aperiodic_exponent"])
    assert np.all(np.abs(np.log(knee_freq / 30.0 ** 0.5)) < np.log(1.5))
    # without interpolating the 60 Hz line the "gamma" would include the line power
    raw = ks.band_power(rec, "gamma", aperiodic="knee", line_freq=None)
    assert np.all(raw["value"] > truth.gamma_band_power() + 0.5 * (20e-6) ** 2 / 2)


def test_fixed_mode_exponent():
    rec, _ = simulate_eeg(2, 120, 500.0, seed=1, aperiodic_exponent=1.2, gamma_power=0.0,
                          theta_power=0.0)
    fits = ks.fit_aperiodic(*_spec(rec), mode="fixed", freq_range=(2, 100))
    for fit in fits:
        assert abs(fit.exponent - 1.2) < 0.05 and abs(fit.offset - (-10)) < 0.1
        assert fit.knee is None


def _spec(rec):
    s = ks.psd(rec, fmin=0.5, fmax=150)
    return s.freqs, s.psd


def test_line_interpolation_is_log_linear():
    f = np.arange(1, 120, 0.5)
    p = f ** -2.0
    spiky = p.copy()
    spiky[np.abs(f - 50) < 0.6] *= 100
    spiky[np.abs(f - 100) < 0.6] *= 100
    np.testing.assert_allclose(ks.interpolate_line_noise(f, spiky, 50.0), p, rtol=1e-9)


def test_flat_spectrum_error():
    f = np.arange(0, 100, 0.5)
    with pytest.raises(AnalysisError, match="flat"):
        ks.fit_aperiodic(f, np.zeros_like(f))


def test_auto_mode_picks_knee_only_when_present(knee_rec):
    rec, _ = knee_rec
    s = ks.psd(rec, fmin=0.5, fmax=200)
    fits = ks.fit_aperiodic(s.freqs, s.psd, mode="auto", line_freq=60.0)
    assert all(f.mode == "knee" for f in fits)
    flat, _ = simulate_eeg(2, 120, 500.0, seed=2, aperiodic_exponent=1.5)
    s2 = ks.psd(flat, fmin=0.5, fmax=200)
    fits2 = ks.fit_aperiodic(s2.freqs, s2.psd, mode="auto", freq_range=(2, 150))
    assert all(f.mode == "fixed" for f in fits2)
    assert all(abs(f.exponent - 1.5) < 0.1 for f in fits2)


def test_line_in_band_flag(knee_rec):
    rec, _ = knee_rec
    t = ks.band_power(rec, "gamma", line_freq="auto")
    assert t["qc_flags"].str.contains("line_noise_in_band").all()
    t2 = ks.band_power(rec, "beta", line_freq="auto")
    assert not t2["qc_flags"].str.contains("line_noise_in_band").any()


def test_aperiodic_psd_not_evaluated_at_0_hz():
    fit = ks.AperiodicFit(offset=-10.0, exponent=1.5, knee=None, mode="fixed",
                          freq_range=(1.0, 100.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        p = fit.psd(np.array([0.0, 1.0, 10.0]))
        assert np.isnan(p[0])
        np.testing.assert_allclose(p[1:], 1e-10 / np.array([1.0, 10.0]) ** 1.5, rtol=1e-12)
        # with a knee the model is finite at 0 Hz
        kfit = ks.AperiodicFit(-10.0, 2.0, 30.0, "knee", (1.0, 100.0))
        assert kfit.psd(np.array([0.0]))[0] == pytest.approx(1e-10 / 30.0)
        # band power with a fixed-mode correction on a spectrum that starts at 0 Hz
        rec, _ = simulate_eeg(2, 60, 500.0, seed=3, aperiodic_exponent=1.2)
        spec = ks.psd(rec)
        assert spec.freqs[0] == 0.0
        table = ks.band_power(rec, "gamma", aperiodic="fixed")
    # the corrected power is the band sum of PSD - aperiodic fit (checked by hand)
    fits = ks.fit_aperiodic(spec.freqs, spec.psd, mode="fixed")
    band = (spec.freqs >= 30) & (spec.freqs <= 80)
    by_hand = [((spec.psd[i] - f.psd(spec.freqs))[band]).sum() * spec.df
               for i, f in enumerate(fits)]
    np.testing.assert_allclose(table["value"], by_hand, rtol=1e-9)
