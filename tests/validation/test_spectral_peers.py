"""Identity with the peer libraries on the same input and settings (rtol 1e-8).

* PSD: ``scipy.signal.welch`` and ``mne.time_frequency.psd_array_multitaper``
  (``adaptive=False, normalization="full"``).
* MSC: ``scipy.signal.coherence``, Elephant's ``welch_coherence`` (and its phase), and
  the square of mne-connectivity's ``coh`` in ``fourier`` (numpy.hanning window, one
  segment per epoch) and ``multitaper`` modes (same DPSS tapers).
* imcoh, wPLI, PLV: mne-connectivity's, per bin and band-averaged (``faverage=True``
  is the mean of per-bin values, as ours). mne-connectivity's imcoh for seed ``b`` and
  target ``a`` equals ours for ``(a, b)`` (opposite cross-spectrum convention).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal as ss

import ketephys.spectral as ks
from ketephys.recording import Recording
from ketephys.simulate.eeg import simulate_eeg
from ketephys.spectral.coherence import cross_from_accumulated
from ketephys.spectral.fft import SpectralSettings, accumulate

RTOL = 1e-8
SF = 250.0


@pytest.fixture(scope="module")
def sim():
    rec, _ = simulate_eeg(4, 60, SF, seed=42, theta_channels=[0, 1, 2], theta_coherence=0.5,
                          line_freq=50.0)
    return rec


@pytest.mark.parametrize("seg, overlap, window", [
    (2.0, 0.5, "hann"), (1.0, 0.25, "hamming"), (1.996, 0.5, "hann"), (4.0, 0.0, "hann")])
def test_psd_equals_scipy_welch(sim, seg, overlap, window):
    nper = int(round(seg * SF))
    f, p = ss.welch(sim.data, SF, window=window, nperseg=nper,
                    noverlap=int(np.floor(overlap * nper)))
    s = ks.psd(sim, seg_len=seg, overlap=overlap, window=window)
    np.testing.assert_allclose(s.freqs, f, rtol=1e-12)
    np.testing.assert_allclose(s.psd, p, rtol=RTOL)


@pytest.mark.parametrize("bandwidth", [None, 2.0])
def test_psd_equals_mne_multitaper(sim, bandwidth):
    from mne.time_frequency import psd_array_multitaper

    x = sim.data[:, :5000]
    p, f = psd_array_multitaper(x, SF, fmin=1, fmax=100, bandwidth=bandwidth,
                                adaptive=False, normalization="full", verbose=False)
    s = ks.psd(sim, fmin=1, fmax=100, method="multitaper", seg_len=None, bandwidth=bandwidth,
               stop=20.0)
    np.testing.assert_allclose(s.freqs, f, rtol=1e-12)
    np.testing.assert_allclose(s.psd, p, rtol=RTOL)


def test_msc_equals_scipy_and_elephant(sim):
    from elephant.spectral import welch_coherence

    acc = accumulate(sim, SpectralSettings(), cross_band=(0, SF / 2))
    cross = cross_from_accumulated(acc)
    msc = cross.measure("msc")
    x = sim.data
    for a in range(4):
        for b in range(a + 1, 4):
            f, c = ss.coherence(x[a], x[b], SF, nperseg=500, noverlap=250)
            np.testing.assert_allclose(msc[:, a, b], c, rtol=RTOL)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fe, ce, phase = welch_coherence(x[a], x[b], len_segment=500, overlap=0.5,
                                                fs=SF)
            np.testing.assert_allclose(msc[:, a, b], ce, rtol=RTOL)
            ok = c > 1e-6  # phase is defined where there is coherence
            np.testing.assert_allclose(np.angle(cross.csd[ok, a, b]), phase[ok],
                                       rtol=RTOL, atol=1e-10)
    # band-averaged table value = mean of per-bin scipy MSC over 4..8 Hz inclusive
    f, c = ss.coherence(x[0], x[1], SF, nperseg=500, noverlap=250)
    band = (f >= 4) & (f <= 8)
    assert ks.coherence(sim, "theta").value.iloc[0] == pytest.approx(c[band].mean(),
                                                                     rel=RTOL)


def _epochs(rec, n_ep=30, n_times=500):
    ep = rec.data[:, :n_ep * n_times].reshape(rec.n_channels, n_ep, n_times)
    ep = ep.transpose(1, 0, 2)
    joined = Recording(ep.transpose(1, 0, 2).reshape(rec.n_channels, -1), SF, rec.ch_names,
                       ch_types=rec.ch_types)
    return ep, joined


@pytest.mark.parametrize("mode", ["fourier", "multitaper"])
def test_connectivity_equals_mne_connectivity(sim, mode):
    from mne_connectivity import spectral_connectivity_epochs

    ep, joined = _epochs(sim)
    methods = ["coh", "imcoh", "wpli", "plv"]
    kw = dict(method="multitaper", overlap=0.0) if mode == "multitaper" else \
        dict(window=np.hanning(500), overlap=0.0)
    settings = SpectralSettings(**kw)
    cross = cross_from_accumulated(accumulate(joined, settings, cross_band=(4, 12),
                                              per_segment=True))
    for faverage in (False, True):
        cons = spectral_connectivity_epochs(ep, method=methods, mode=mode, sfreq=SF, fmin=4,
                                            fmax=12, faverage=faverage, verbose=False)
        for meas, con in zip(methods, cons):
            dense = con.get_data(output="dense")  # [seed, target, freq], seed > target
            ours = cross.measure(meas)
            if faverage:
                ours = ours.mean(axis=0, keepdims=True)
            for a in range(4):
                for b in range(a + 1, 4):
                    ref = dense[b, a]
                    np.testing.assert_allclose(ours[:, a, b], ref, rtol=RTOL, atol=1e-12,
                                               err_msg=f"{mode} {meas} {a}-{b}")
                    if meas == "coh" and not faverage:
                        # our MSC is the square of mne-connectivity's coh
                        np.testing.assert_allclose(cross.measure("msc")[:, a, b], ref ** 2,
                                                   rtol=RTOL)
    # the public table with the same settings gives the faverage numbers
    table = ks.coherence(joined, (4, 12), measure="wpli", **kw)
    con = spectral_connectivity_epochs(ep, method="wpli", mode=mode, sfreq=SF, fmin=4,
                                       fmax=12, faverage=True, verbose=False)
    dense = con.get_data(output="dense")
    ref = [dense[b, a, 0] for a in range(4) for b in range(a + 1, 4)]
    np.testing.assert_allclose(table.value, ref, rtol=RTOL)


@pytest.mark.parametrize("measure", ["coh", "imcoh", "wpli", "plv"])
def test_epoched_recording_equals_mne_connectivity_on_epochs(sim, measure):
    # an episodic Recording (epochs as sweeps) with seg_len=None: one segment per epoch,
    # exactly mne-connectivity's input
    from mne_connectivity import spectral_connectivity_epochs

    ep, _ = _epochs(sim)
    erec = Recording(ep, SF, sim.ch_names, ch_types=sim.ch_types)
    table = ks.coherence(erec, (4, 12), measure=measure, method="multitaper", seg_len=None)
    con = spectral_connectivity_epochs(ep, method=measure, mode="multitaper", sfreq=SF,
                                       fmin=4, fmax=12, faverage=True, verbose=False)
    dense = con.get_data(output="dense")
    ref = [dense[b, a, 0] for a in range(4) for b in range(a + 1, 4)]
    np.testing.assert_allclose(table.value, ref, rtol=RTOL, atol=1e-12)
    assert table["k"].iloc[0] == 30 * 7
