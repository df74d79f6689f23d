"""Real recordings from ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest

import ketephys.spectral as ks
from ketephys.recording import Recording

pytestmark = pytest.mark.realdata


def test_eeglab_alpha_peak_between_10_and_11_hz(shared_file):
    mne = pytest.importorskip("mne")
    path = shared_file("eeg", "eeglab_data.set")
    raw = mne.io.read_raw_eeglab(path, preload=False, verbose=False)
    rec = Recording.from_mne(raw)
    # 8 s segments: 0.125 Hz resolution; the mean spectrum over the scalp channels
    s = ks.psd(rec, fmin=7, fmax=14, seg_len=8.0)
    peak = s.freqs[np.argmax(s.psd.mean(axis=0))]
    assert 10.0 <= peak <= 11.0, peak
    # band-power table of the same recording: alpha dominates 7-14 Hz
    alpha = ks.band_power(rec, "alpha", kind="relative", seg_len=8.0)
    assert alpha["value"].median() > 0.1


def test_axona_rat_theta_peak_and_coherence(shared_file):
    import ketephys

    path = shared_file("lfp", "axona_rat_mec_hpc", "83812141.set")
    rec = ketephys.io.read(path)
    assert rec.sfreq == 250.0 and rec.n_channels == 3
    s = ks.psd(rec, fmin=2, fmax=20, seg_len=4.0)
    peaks = s.freqs[np.argmax(s.psd, axis=1)]
    assert np.all((peaks >= 8) & (peaks <= 10)), peaks
    coh = ks.coherence(rec, "theta_rodent", pairs=[(rec.ch_names[0], rec.ch_names[2])],
                       seg_len=4.0)
    assert coh.value.iloc[0] > 0.6
    assert coh.channel.iloc[0] == f"{rec.ch_names[0]}-{rec.ch_names[2]}"


def test_ketamine_xylazine_olfactory_bulb_hfo(shared_file):
    path = shared_file("lfp", "npy", "rat_olfactory_bulb_ketamine_xylazine.npy")
    x = np.load(path)
    rec = Recording.from_array(x, 1250.0, ["lfp0", "lfp1", "resp", "row3"], units="mV",
                               ch_types=["lfp", "lfp", "misc", "misc"])
    t = ks.band_power(rec, (80, 130), picks=["lfp1", "resp"], seg_len=1.0)
    v = t.set_index("channel")["value"]
    assert v["lfp1"] > 10 * v["resp"]
    s = ks.psd(rec, picks=["lfp1"], fmin=80, fmax=160, seg_len=1.0)
    assert 105 <= s.freqs[np.argmax(s.psd[0])] <= 120  # HFO peak ~113 Hz
