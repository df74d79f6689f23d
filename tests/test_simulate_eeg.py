"""The EEG/LFP simulator produces the spectra and coherence its truth records."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import coherence as sp_coherence
from scipy.signal import welch

from ketephys.errors import KetephysError
from ketephys.simulate.eeg import (
    gaussian_band_power,
    iter_eeg_chunks,
    simulate_eeg,
    simulate_eeg_to_npy,
    simulate_lfp,
)


def test_psd_matches_truth_model():
    rec, truth = simulate_eeg(4, 240, 500.0, seed=1, gamma_power=0.0, theta_power=0.0)
    f, p = welch(rec.data, 500.0, nperseg=1000)
    sel = (f >= 3) & (f <= 200)
    ratio = p[:, sel].mean(axis=0) / truth.aperiodic_psd(f[sel])
    # 4 channels x 239 segments: per-bin SD ~ 3 %; average over bins -> tight
    assert abs(np.mean(ratio) - 1) < 0.01
    assert np.all(np.abs(ratio - 1) < 0.2)


def test_gamma_bump_power_and_line():
    rec, truth = simulate_eeg(3, 300, 500.0, seed=2, gamma_power=[1e-11, 2e-11, 4e-11],
                              line_freq=50.0, line_amplitude=10e-6)
    f, p = welch(rec.data, 500.0, nperseg=1000)
    df = f[1]
    band = (f >= 30) & (f <= 80)
    line = np.abs(f - 50) <= 1.5
    bump = (p[:, band & ~line].sum(1) - truth.aperiodic_psd(f[band & ~line]).sum()) * df
    expected = truth.gamma_band_power((30, 80)) - np.array(
        [gaussian_band_power(g, 40, 5, (48.5, 51.5)) for g in truth.gamma_power])
    np.testing.assert_allclose(bump, expected, rtol=0.08)
    # line: A^2 / 2 above the background in +-1.5 Hz
    bump_density = np.outer(truth.gamma_power, np.exp(-0.5 * ((f[line] - 40) / 5) ** 2)
                            / (5 * np.sqrt(2 * np.pi)))
    line_pow = (p[:, line] - truth.aperiodic_psd(f[line]) - bump_density).sum(1) * df
    assert np.all(np.abs(line_pow / (10e-6 ** 2 / 2) - 1) < 0.05)


@pytest.mark.parametrize("msc, band", [(0.25, (0.0, 250.0)), (0.6, (4.0, 8.0))])
def test_coherence_truth(msc, band):
    rec, truth = simulate_eeg(3, 300, 500.0, seed=3, theta_coherence=msc, coherence_band=band,
                              theta_channels=[0, 1])
    f, c01 = sp_coherence(rec.data[0], rec.data[1], 500.0, nperseg=1000)
    _, c02 = sp_coherence(rec.data[0], rec.data[2], 500.0, nperseg=1000)
    sel = (f >= max(band[0], 1.0)) & (f <= min(band[1], 240.0))
    k = 300 / 2  # independent 2 s segments
    sd = np.sqrt(2 / k) * np.sqrt(msc) * (1 - msc) / np.sqrt(sel.sum() / 2)
    assert abs(c01[sel].mean() - truth.theta_msc("EEG001", "EEG002")) < 4 * sd + 1 / k
    assert c02[sel].mean() < 3 / k
    assert truth.theta_msc("EEG001", "EEG003") == 0.0


def test_seed_determinism_and_types():
    a, _ = simulate_eeg(2, 5, 250.0, seed=7)
    b, _ = simulate_eeg(2, 5, 250.0, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    lfp, truth = simulate_lfp(duration=5, seed=1, region="HPC")
    assert lfp.ch_types == ["lfp"] * 4 and lfp.meta.region == "HPC"
    assert truth.hfo_power and truth.coherence_band == (6.0, 10.0)


def test_chunks_join_seamlessly(tmp_path):
    chunks, truth = iter_eeg_chunks(chunk_seconds=7.0, n_channels=2, duration=120,
                                    sfreq=250.0, seed=4)
    blocks = [b for _, b in chunks]
    assert all(b.shape[1] == 1750 for b in blocks[:-1])
    x = np.concatenate(blocks, axis=1)
    assert x.shape == (2, 30000)
    # a seam would add broadband power; the PSD still follows the model
    f, p = welch(x, 250.0, nperseg=500)
    sel = (f >= 20) & (f <= 100)
    ratio = p[:, sel].mean(0) / (truth.aperiodic_psd(f[sel])
                                 + truth.gamma_power[0] / (5 * np.sqrt(2 * np.pi))
                                 * np.exp(-0.5 * ((f[sel] - 40) / 5) ** 2))
    assert abs(ratio.mean() - 1) < 0.03
    # sample-to-sample steps at the seams are like those elsewhere
    d = np.abs(np.diff(x, axis=1))
    seams = np.arange(1750, 30000, 1750) - 1
    assert d[:, seams].mean() < 3 * d.mean()
    rec, _ = simulate_eeg_to_npy(tmp_path / "long.npy", chunk_seconds=10, n_channels=2,
                                 duration=30, sfreq=250.0, seed=4)
    assert rec.is_lazy and rec.n_times == 7500
    assert (tmp_path / "long.json").exists()


def test_artifacts_and_errors():
    rec, truth = simulate_eeg(2, 60, 250.0, seed=5, artifacts=2, annotate_artifacts=True)
    assert len(truth.artifact_onsets) == 2
    assert list(rec.events["description"]) == ["BAD_artifact"] * 2
    i = int(truth.artifact_onsets[0] * 250 + 0.25 * 250)
    assert abs(rec.data[0, i]) > 300e-6
    with pytest.raises(KetephysError):
        simulate_eeg(2, 5, 250.0, theta_coherence=1.5)
    with pytest.raises(KetephysError):
        simulate_eeg(2, 5, 250.0, theta_channels=["nope"])


def test_channels_outside_theta_group_keep_their_psd():
    # regression: the coherence mixing once removed power from non-theta channels
    rec, truth = simulate_eeg(2, 240, 250.0, seed=8, theta_channels=[0], theta_power=0.0,
                              gamma_power=0.0, theta_coherence=0.9)
    f, p = welch(rec.data, 250.0, nperseg=500)
    sel = (f >= 2) & (f <= 10)
    ratio = p[:, sel] / truth.aperiodic_psd(f[sel])
    np.testing.assert_allclose(ratio.mean(axis=1), 1.0, atol=0.05)


def test_written_file_reads_back(tmp_path):
    import ketephys

    rec, _ = simulate_eeg(2, 4, 250.0, seed=9, path=tmp_path / "sim.npy", region="PFC")
    back = ketephys.io.read(tmp_path / "sim.npy")
    assert back.ch_names == rec.ch_names and back.sfreq == 250.0
    np.testing.assert_allclose(back.get_data(), rec.data, rtol=1e-12)
