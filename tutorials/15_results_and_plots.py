"""
.. _tut-results:

Results you can work with: get_data, to_data_frame, plot, copy
==============================================================

Every analysis returns one result object, and every result object has the same small
surface, as MNE's ``Spectrum`` and ``Evoked`` do:

* ``get_data()``: the numbers, as a numpy array;
* ``to_data_frame()``: the same numbers as a tidy table, with units;
* ``plot(show=None)``: a :class:`matplotlib.figure.Figure` with labelled axes and units
  (shown only when matplotlib is interactive; pass ``show=False`` in scripts);
* ``copy()``: an independent copy;
* a short ``repr``: what it is, its size, its units and settings, never an array dump.

This tutorial draws each of them on real recordings from ``../shared/data`` when that
folder is there (set ``KETEPHYS_SHARED_DATA`` to point at another copy) and on simulated
recordings otherwise, so it runs anywhere.
"""

# %%
# Where the real recordings are
# -----------------------------

import os
import tempfile
from pathlib import Path

import matplotlib
import numpy as np

import ketephys
from ketephys import spectral, synaptic
from ketephys.io import write
from ketephys.longitudinal import fit_decay
from ketephys.simulate import simulate_eeg, simulate_fepsp_experiment, simulate_patch
from ketephys.simulate.markers import simulate_marker_study

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))


def shared_data() -> Path:
    try:
        root = Path(__file__).resolve().parents[1]
    except NameError:  # running as a notebook
        root = next((d for d in (Path.cwd(), *Path.cwd().parents)
                     if (d / "ketephys").is_dir() and (d / "tutorials").is_dir()), Path.cwd())
    return Path(os.environ.get("KETEPHYS_SHARED_DATA", root.parent / "shared" / "data"))


SHARED = shared_data()
HAVE_SHARED = (SHARED / "eeg" / "eeglab_data.set").is_file()
TMP = Path(tempfile.mkdtemp(prefix="ketephys_results_"))
print("real recordings:", SHARED if HAVE_SHARED else "absent, using simulated files")

# %%
# A recording
# -----------
# ``Recording.plot()`` draws continuous data as stacked traces (MNE's scrolling browser
# instead when a GUI backend is active) and episodic data as an overlay of sweeps.

if HAVE_SHARED:
    eeg = ketephys.read(SHARED / "eeg" / "eeglab_data.set")
else:
    sim, _ = simulate_eeg(n_channels=8, duration=60.0, sfreq=250.0, seed=1)
    write(sim, TMP / "simulated_eeg.edf")
    eeg = ketephys.read(TMP / "simulated_eeg.edf")
print(eeg)
fig = eeg.plot(duration=5.0, show=False)

# %%
# A spectrum
# ----------
# :func:`ketephys.spectral.psd` returns a :class:`~ketephys.spectral.Spectrum`. Its repr
# says how it was estimated; ``get_data`` takes MNE's ``picks``/``fmin``/``fmax``; the
# table has one row per channel and frequency, with the unit.

spec = spectral.psd(eeg, picks="eeg", fmax=60.0)
print(spec)
data, freqs = spec.get_data(fmin=4.0, fmax=8.0, return_freqs=True)
table = spec.to_data_frame()
print(table.head(3).to_string())
theta = table[(table.freq >= 4) & (table.freq <= 8)]
assert np.allclose(theta.pivot(index="channel", columns="freq", values="psd")
                   .loc[spec.ch_names].to_numpy(), data)
fig = spec.plot(show=False)               # every channel's mean and spread, bands shaded
fig = spec.plot(picks=spec.ch_names[:3], show=False)

# %%
# ``copy()`` is independent: scaling the copy leaves the original alone.

doubled = spec.copy()
doubled.psd *= 2
assert np.allclose(doubled.get_data(), 2 * spec.get_data())

# %%
# Results are small: a spectrum keeps the recording's metadata and source, not its
# samples, so a batch can store thousands of them.

print(spec.recording)

# %%
# LTP and one fEPSP sweep
# -----------------------
# :func:`ketephys.synaptic.ltp` returns an :class:`~ketephys.synaptic.LTPResult`:
# ``summary()`` (one row per pathway) and ``magnitude()`` are methods, ``plot()`` draws
# the time course with the baseline, post-tetanic (PTP) and LTP windows, and
# ``plot_sweep()`` one sweep with what was measured on it. The real slice recording has
# no induction in it (a baseline recording), so we give one at 5 min and a 1-5 min
# window.

if HAVE_SHARED:
    fepsp_rec = ketephys.read(SHARED / "fepsp" / "2022_07_01_0012.abf",
                              units={"Ipatch": "mV"}, modality="fepsp")
    ltp_res = synaptic.ltp(fepsp_rec, induction=300.0, baseline_minutes=5.0,
                           window_minutes=(1.0, 5.0))
else:
    fepsp_rec, _ = simulate_fepsp_experiment(n_baseline_min=10.0, n_post_min=60.0, seed=2)
    ltp_res = synaptic.ltp(fepsp_rec)
print(ltp_res)
print(ltp_res.summary()[["pathway", "role", "ltp_magnitude_pct", "ptp_pct"]].round(1))
fig = ltp_res.plot(show=False)
fig = ltp_res.plot_sweep(fepsp_rec, sweep=0, show=False)

# %%
# A PSC train
# -----------
# ``PSCResult.from_recording`` measures with :func:`~ketephys.synaptic.psc` and keeps the
# measured channel's sweeps with the table, so
# the train can be drawn with each response's amplitude.

if HAVE_SHARED:
    cell = ketephys.read(SHARED / "patch" / "f1.abf", modality="patch")
else:
    cell, _ = simulate_patch(n_sweeps=5, seed=3)
psc_res = synaptic.PSCResult.from_recording(cell)
print(psc_res)
amplitudes = psc_res.get_data()       # sweeps x stimuli, in A
print("median amplitude per stimulus (pA):", np.round(1e12 * np.median(amplitudes, 0), 1))
fig = psc_res.plot(show=False)

# %%
# Decay constants and how far to trust them
# -----------------------------------------
# :class:`~ketephys.longitudinal.DecayFit` puts ``identifiable`` and its reason first in
# ``summary()``. A fit whose tau cannot be pinned down by the visits is drawn only over
# the data, labelled "not identifiable", and hollow in the forest plot of tau with its
# CI. Here a simulated study with three regions is joined with one whose decay is
# faster than the first post-dose visit.

table, _ = simulate_marker_study(n_subjects=10, seed=4)
fit = fit_decay(table, ci="profile")
fast, _ = simulate_marker_study("too_fast", n_subjects=20, regions=None, seed=5)
both = fit.copy()
both.groups = fit.groups + fit_decay(fast, ci="profile").groups
print(both)
print(both.summary()[["region", "identifiable", "tau_h", "tau_ci_low_h",
                      "tau_ci_high_h"]].round(3).to_string())
assert not both.summary()["identifiable"].iloc[-1]
fig = both.plot(show=False)
fig = both.plot_taus(show=False)
