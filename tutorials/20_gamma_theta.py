"""
.. _tut-gamma-theta:

Gamma power and theta coherence
===============================

Two of the markers used to follow ketamine's after-effects come from spectra:

* **gamma power** (30-80 Hz) of scalp EEG or rodent LFP, which ketamine raises acutely;
* **theta coherence** (4-8 Hz in humans, 6-10 Hz in rodents) between regions, e.g.
  prefrontal cortex and hippocampus.

Both are easy to compute and easy to compute *differently*: libraries disagree on PSD
scaling, on what "band power" means, and on whether "coherence" is squared. This tutorial
computes each marker on a simulated recording whose true values are known, shows the
peer libraries' numbers beside ketephys' where the definitions differ, then follows gamma
power over a long rodent recording window by window.
"""

# %%
# A recording with known spectra
# ------------------------------
# :func:`ketephys.simulate.simulate_eeg` draws 2 minutes of 6-channel EEG whose power
# spectral density (PSD) is known exactly: an aperiodic ``1/f**1.5`` background, a
# Gaussian gamma bump at 40 Hz (twice as strong on the last three channels), a theta
# bump shared by the first four channels with a magnitude-squared coherence (MSC) of 0.5
# in 4-8 Hz, and 50 Hz line noise of 20 uV. ``truth`` records all of it.

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.signal as ss

import ketephys
import ketephys.spectral as ks
from ketephys.simulate import simulate_eeg, simulate_lfp

rec, truth = simulate_eeg(
    n_channels=6, duration=120.0, sfreq=500.0, ch_names=["Fz", "F3", "F4", "Cz", "Pz", "Oz"],
    gamma_power=[1e-11] * 3 + [2e-11] * 3, theta_channels=["Fz", "F3", "F4", "Cz"],
    theta_coherence=0.5, line_freq=50.0, line_amplitude=20e-6, seed=7)
print(rec)

# %%
# The PSD
# -------
# ketephys' PSD is one-sided, in V^2/Hz, by Welch's method (2 s Hann segments, 50 %
# overlap) -- exactly ``scipy.signal.welch`` with those settings, which we check. The
# data are streamed in chunks, so a 10-hour recording costs no more memory than this
# one. ``spectrum.k`` is the number of segments averaged: it sets the variance of every
# estimate below (and the bias of coherence).

spectrum = ks.psd(rec)
f_sp, p_sp = ss.welch(rec.data, rec.sfreq, window="hann", nperseg=1000, noverlap=500)
np.testing.assert_allclose(spectrum.psd, p_sp, rtol=1e-8)
print(f"{spectrum.k} segments, resolution {spectrum.df} Hz, unit {spectrum.units[0]}")

# %%
# Gamma power: absolute, relative and aperiodic-corrected
# -------------------------------------------------------
# *Absolute* band power is the sum of the PSD bins in 30-80 Hz times the bin width
# (V^2): the variance of the signal in that band. It includes everything there: the
# gamma bump, the aperiodic background and -- here -- the 50 Hz line noise, whose power
# ``A**2 / 2 = 2e-10 V^2`` dwarfs the gamma bump (1e-11 V^2). *Relative* power divides
# by the 1-100 Hz power. *Aperiodic-corrected* power interpolates the line noise, fits
# the aperiodic component with specparam, and sums what lies above it: the oscillation
# alone, which is what we simulated.

absolute = ks.band_power(spectrum, "gamma")
relative = ks.band_power(spectrum, "gamma", kind="relative")
corrected = ks.band_power(spectrum, "gamma", aperiodic="fixed", line_freq=50.0)

fine = np.linspace(30, 80, 5001)
aperiodic_in_band = np.trapezoid(truth.aperiodic_psd(fine), fine)
line_power = truth.line_amplitude ** 2 / 2
true_absolute = truth.gamma_band_power() + aperiodic_in_band + line_power
table = pd.DataFrame({
    "channel": absolute["channel"],
    "absolute_V2": absolute["value"].to_numpy(), "true_absolute_V2": true_absolute,
    "relative": relative["value"].to_numpy(),
    "corrected_V2": corrected["value"].to_numpy(),
    "true_gamma_V2": truth.gamma_band_power(),
    "fitted_exponent": corrected["aperiodic_exponent"].to_numpy()})
print(table.to_string(index=False, float_format="%.3g"))
np.testing.assert_allclose(table["absolute_V2"], table["true_absolute_V2"], rtol=0.1)
np.testing.assert_allclose(table["corrected_V2"], table["true_gamma_V2"], rtol=0.2)
np.testing.assert_allclose(table["fitted_exponent"], truth.aperiodic_exponent, atol=0.1)

# %%
# Library definitions side by side
# --------------------------------
# The same 30-80 Hz power of ``Fz`` under definitions used elsewhere. MNE's
# ``compute_psd`` uses a Hamming window and 2048-sample segments without overlap by
# default, so its PSD is a different *estimate* of the same density: summed times the
# bin width it agrees with ours within noise. Averaging the PSD over the band (common in
# scripts) gives a *density* in V^2/Hz, about 50 times smaller here (101 bins of 0.5 Hz).
# Simpson's rule weights alternate bins by 4/3 and 2/3, so a narrow peak such as the
# line noise is counted with the weight of whichever bin it falls in: 10 % low here.
# ``scipy.signal.welch(scaling="spectrum")`` returns power per bin (V^2), scaled for
# the height of a sine rather than for density: summed, it overstates broadband power by
# the window's equivalent noise bandwidth (1.5 bins for Hann).

from scipy.integrate import simpson

band = (spectrum.freqs >= 30) & (spectrum.freqs <= 80)
mne_psd = rec.to_mne().compute_psd(fmin=30, fmax=80, picks=["Fz"], verbose=False)
mne_df = mne_psd.freqs[1] - mne_psd.freqs[0]
_, p_spectrum = ss.welch(rec.data[0], rec.sfreq, nperseg=1000, scaling="spectrum")
ours = absolute["value"].iloc[0]
peers = pd.DataFrame([
    ("ketephys: sum(PSD) x df", ours, "V^2"),
    ("MNE compute_psd defaults, sum x df", mne_psd.get_data()[0].sum() * mne_df, "V^2"),
    ("mean PSD over the band", spectrum.psd[0, band].mean(), "V^2/Hz"),
    ("Simpson's rule over the same bins", simpson(spectrum.psd[0, band],
                                                  x=spectrum.freqs[band]), "V^2"),
    ("scipy welch scaling='spectrum', summed", p_spectrum[band].sum(), "V^2 (x ENBW)"),
], columns=["definition", "value", "unit"])
peers["ratio_to_ketephys"] = peers["value"] / ours
print(peers.to_string(index=False, float_format="%.4g"))
assert abs(peers["ratio_to_ketephys"].iloc[1] - 1) < 0.1
assert abs(peers["ratio_to_ketephys"].iloc[2] * 50.5 - 1) < 0.05  # 101 bins x 0.5 Hz
assert abs(peers["ratio_to_ketephys"].iloc[4] - 1.5) < 0.05         # Hann ENBW

# %%
# The spectrum of Fz and Cz with their aperiodic fits: the gamma bump rises above the
# dashed aperiodic line, twice as high on Cz (one of the last three channels), the
# 50 Hz line is a spike that the correction interpolates over, and both channels carry
# the shared theta bump at 6 Hz.

fig, ax = plt.subplots(figsize=(7, 4))
for i, ch in enumerate(rec.ch_names[::3]):
    idx = rec.ch_names.index(ch)
    ax.loglog(spectrum.freqs[1:], spectrum.psd[idx, 1:], label=ch, color=f"C{i}")
    fit = corrected.iloc[idx]
    aperiodic = 10 ** fit["aperiodic_offset"] / spectrum.freqs[1:] ** fit["aperiodic_exponent"]
    ax.loglog(spectrum.freqs[1:], aperiodic, "--", color=f"C{i}", lw=1)
ax.axvspan(30, 80, color="0.9", zorder=0, label="gamma band")
ax.set(xlabel="frequency (Hz)", ylabel="PSD (V$^2$/Hz)", xlim=(1, 200),
       title="Welch PSD and specparam aperiodic fit")
ax.legend()
plt.show()

# %%
# Theta coherence: MSC, ``|C|`` and the 1/K floor
# -----------------------------------------------
# Coherency ``C = E[Sxy] / sqrt(E[Sxx] E[Syy])`` is complex. ketephys reports the
# **magnitude-squared coherence** ``MSC = |C|^2`` (as ``scipy.signal.coherence`` and
# Elephant), averaged over the bins of the band. mne-connectivity's ``"coh"`` is ``|C|``,
# *not squared*: for our true MSC of 0.5 it reads about 0.71.
#
# Coherence is biased upwards: for two unrelated signals the expected MSC is about
# ``1/K`` with K independent segments, so a small value is only meaningful against that
# floor; the table carries ``k`` for that reason.

coh = ks.coherence(rec, "theta", measure="msc")
coupled = coh[coh["ch_a"].isin(truth.theta_channels) & coh["ch_b"].isin(truth.theta_channels)]
uncoupled = coh.drop(coupled.index)
k = int(coh["k"].iloc[0])
print(coh[["channel", "value", "k"]].head(6).to_string(index=False))
print(f"coupled pairs: MSC {coupled['value'].mean():.3f} (true {truth.theta_coherence}); "
      f"uncoupled pairs: {uncoupled['value'].mean():.4f} against 1/K = {1 / k:.4f}")
assert abs(coupled["value"].mean() - truth.theta_coherence) < 0.08
assert coupled["value"].min() > 10 / k          # far above the floor
assert uncoupled["value"].mean() < 3 / k        # at the floor

# %%
# Side by side with mne-connectivity on the same epochs (2 s, ``numpy.hanning``
# window, no overlap, which is its ``"fourier"`` mode): our ``"coh"`` measure equals its
# ``coh``, and our MSC is its square. Their imaginary coherence has the opposite sign to
# scipy's cross-spectrum convention, which ketephys follows (documented in
# :mod:`ketephys.spectral.coherence`).

from mne_connectivity import spectral_connectivity_epochs

n_ep, n_t = 60, 1000
epochs = rec.data[:, :n_ep * n_t].reshape(rec.n_channels, n_ep, n_t).transpose(1, 0, 2)
joined = ketephys.Recording(rec.data[:, :n_ep * n_t], rec.sfreq, rec.ch_names,
                            ch_types=rec.ch_types)
fourier = dict(window=np.hanning(n_t), overlap=0.0)
con = spectral_connectivity_epochs(epochs, method="coh", mode="fourier", sfreq=rec.sfreq,
                                   fmin=4, fmax=8, faverage=True, verbose=False)
theirs = con.get_data(output="dense")[1, 0, 0]                # F3 (seed) - Fz
ours_coh = ks.coherence(joined, "theta", pairs=[("Fz", "F3")], measure="coh", **fourier)
ours_msc = ks.coherence(joined, "theta", pairs=[("Fz", "F3")], measure="msc", **fourier)
print(f"Fz-F3, 4-8 Hz: mne-connectivity coh {theirs:.4f} | ketephys coh "
      f"{ours_coh['value'].iloc[0]:.4f} | ketephys MSC {ours_msc['value'].iloc[0]:.4f}")
np.testing.assert_allclose(ours_coh["value"].iloc[0], theirs, rtol=1e-8)
# the band MSC is the mean of per-bin |C|^2, not the square of the band-mean |C|
assert ours_msc["value"].iloc[0] <= theirs ** 2 + 0.02

# %%
# The coherence spectrum of a coupled and an uncoupled pair (scipy's MSC, identical to
# ketephys' per bin): flat at 0.5 over the shared theta band, at the 1/K floor elsewhere.

f_c, msc_coupled = ss.coherence(rec.get_data("Fz")[0], rec.get_data("F3")[0], rec.sfreq,
                                nperseg=1000)
_, msc_uncoupled = ss.coherence(rec.get_data("Fz")[0], rec.get_data("Oz")[0], rec.sfreq,
                                nperseg=1000)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(f_c, msc_coupled, label="Fz-F3 (shared theta)")
ax.plot(f_c, msc_uncoupled, label="Fz-Oz (independent)")
ax.axhline(1 / k, color="k", ls=":", label="1/K")
ax.axvspan(4, 8, color="0.9", zorder=0)
ax.set(xlim=(0, 30), ylim=(0, 1), xlabel="frequency (Hz)", ylabel="MSC = |C|$^2$")
ax.legend()
plt.show()

# %%
# Gamma over a long rodent recording
# ----------------------------------
# After a dose, gamma rises within minutes. :func:`ketephys.spectral.band_power_timecourse`
# analyses a continuous recording window by window (here 30 s), each window exactly as
# the whole-recording functions would, reading the data in chunks. We simulate a
# 10-minute two-channel rodent LFP whose gamma power triples halfway through (two
# recordings of :func:`~ketephys.simulate.simulate_lfp` joined), so the true ratio of the
# band power after vs before is known.

pre, truth_pre = simulate_lfp(n_channels=2, duration=300.0, gamma_power=2e-10, seed=1)
post, truth_post = simulate_lfp(n_channels=2, duration=300.0, gamma_power=6e-10, seed=2)
lfp = ketephys.Recording(np.concatenate([pre.data, post.data], axis=1), pre.sfreq,
                         pre.ch_names, ch_types=["lfp"] * 2, meta={"region": "PFC"})
course = ks.band_power_timecourse(lfp, "gamma", window_s=30.0)
course["t_mid_min"] = (course["window_start"] + course["window_stop"]) / 120.0
means = course.groupby(course["window_start"] >= 300.0)["value"].mean()


def band_total(t) -> float:
    """True 30-80 Hz power of the simulated LFP: aperiodic + gamma + HFO tail."""
    from ketephys.simulate.eeg import gaussian_band_power

    return (np.trapezoid(t.aperiodic_psd(fine), fine) + t.gamma_band_power()[0]
            + gaussian_band_power(t.hfo_power, t.hfo_freq, t.hfo_width, (30, 80)))


true_ratio = band_total(truth_post) / band_total(truth_pre)
print(f"gamma power after / before: {means[True] / means[False]:.2f} (true {true_ratio:.2f})")
assert abs(means[True] / means[False] / true_ratio - 1) < 0.1

fig, ax = plt.subplots(figsize=(7, 3.5))
for ch, g in course.groupby("channel"):
    ax.plot(g["t_mid_min"], g["value"] * 1e12, "o-", ms=3, label=ch)
ax.axvline(5, color="k", ls="--", label="gamma triples")
ax.set(xlabel="time (min)", ylabel="30-80 Hz power (uV$^2$)", title="30 s windows")
ax.legend()
plt.show()

# %%
# A real rodent recording
# -----------------------
# When ``../shared/data`` is present we run the same time-resolved analysis on a real
# 20-minute Axona recording of a foraging rat (three LFP channels, 250 Hz): rodent theta
# (6-10 Hz) coherence between the channels stays high (about 0.8, as the data's
# description says) in every one-minute window.


def shared_data() -> Path:
    try:
        root = Path(__file__).resolve().parents[1]
    except NameError:  # running as a notebook
        root = next((d for d in (Path.cwd(), *Path.cwd().parents)
                     if (d / "ketephys").is_dir() and (d / "tutorials").is_dir()), Path.cwd())
    return Path(os.environ.get("KETEPHYS_SHARED_DATA", root.parent / "shared" / "data"))


axona_path = shared_data() / "lfp" / "axona_rat_mec_hpc" / "83812141.set"
if axona_path.is_file():
    axona = ketephys.read(axona_path)
    real = ks.spectral_timecourse(axona, bands=("gamma",), kinds=("absolute",),
                                  coherence_band="theta_rodent", window_s=60.0)
    msc = real[real["measure"] == "theta_rodent_msc"]
    summary = msc.groupby("channel")["value"].agg(["mean", "min", "max"])
    print(summary.round(3))
    assert summary.loc["EEG_ch_1-EEG_ch_3", "mean"] > 0.7
    assert msc["value"].min() > 10 / msc["k"].min()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for pair, g in msc.groupby("channel"):
        ax.plot(g["window_start"] / 60, g["value"], "o-", ms=3, label=pair)
    ax.set(xlabel="time (min)", ylabel="6-10 Hz MSC", ylim=(0, 1),
           title=axona_path.name + ": theta coherence per minute")
    ax.legend()
    plt.show()
else:
    print(f"real recording absent ({axona_path}); skipped")
