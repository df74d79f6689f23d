"""
.. _tut-tms-eeg:

TMS-EEG: from artifacts to cortical excitability
================================================

A TMS pulse evokes a cortical response, the TMS-evoked potential (TEP), whose peaks
(N15, P30, N45, P60, N100, P180) and global mean field power (GMFP) measure cortical
excitability. Ketamine is expected to change it. But the pulse also produces artifacts
a thousand times larger than the TEP: a millivolt pulse artifact lasting about a
millisecond, then a decay artifact of tens of milliseconds. This tutorial removes them
step by step (TESA's conventions, re-implemented), averages the TEP, finds its peaks and
compares excitability before and after a dose, with bootstrap confidence intervals.

No public TMS-EEG recording with its pulses exists, so everything here is simulated
with :func:`ketephys.simulate.simulate_tms_eeg`, which records the exact TEP it adds.
"""

# %%
# A simulated session
# -------------------
# 16 channels at 5 kHz, 30 pulses 2-2.5 s apart over C3, each with a clipped pulse
# artifact, an exponential decay artifact (time constants 10-20 ms, per channel) and the
# six TEP components on a 1/f background.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import ketephys.tms as kt
from ketephys.simulate import simulate_tms_eeg

pd.set_option("display.width", 120)

pre, truth = simulate_tms_eeg(n_channels=16, n_trials=30, stim_channel="C3", seed=11,
                              meta={"subject": "s01", "session": "baseline"})
print(pre)

# %%
# Finding the pulses
# ------------------
# Without a trigger channel or annotations, :func:`ketephys.tms.find_tms_pulses` finds
# the pulses from the artifact itself: samples where the jump from the previous sample
# exceeds 50 times its typical (robust) size on enough channels at once, something the
# EEG never does.

pulses = kt.find_tms_pulses(pre)
np.testing.assert_allclose(pulses["onset"], truth.pulse_times, atol=1 / pre.sfreq)
print(f"{len(pulses)} pulses found, all within one sample of the truth")

# %%
# Cleaning step by step
# ---------------------
# :func:`ketephys.tms.clean` runs every step in a fixed order and records it in
# ``history``. To see what each step does we run it three times, switching steps on:
#
# 1. cut -2..10 ms around each pulse and interpolate (cubic, from 1 ms either side): the
#    pulse artifact is gone, but the decay artifact remains after 10 ms;
# 2. also fit and subtract the exponential decay *before* interpolating, so the
#    interpolation is anchored on decay-free samples;
# 3. the full pipeline: then downsample to 1 kHz, band-pass 1-100 Hz (zero-phase FIR),
#    cut and re-interpolate -2..15 ms (what the filters smeared from the edges of the first
#    window), and average reference.
#
# Order matters: filtering before the pulse is removed would spread a millivolt step
# over hundreds of milliseconds.

off = dict(resample=None, l_freq=None, h_freq=None, second_pass=None, reference=None)
step1 = kt.clean(pre, decay="none", **off)
step2 = kt.clean(pre, decay="exponential", **off)
cleaned = kt.clean(pre)
for h in cleaned.history:
    print({k: v for k, v in h.items() if k in ("step", "window", "method", "from", "to",
                                                 "l_freq", "h_freq", "channels_corrected")})

stim = pre.ch_names.index("C3")


def average_at(rec, channel, tmin=-0.02, tmax=0.3):
    onsets = truth.pulse_times
    ep, times, _, _ = kt.epoch_pulses(rec, onsets, tmin, tmax, baseline=(-0.02, -0.003),
                                      picks=[rec.ch_names.index(channel)])
    return times, ep.mean(axis=0)[0]


fig, axes = plt.subplots(1, 4, figsize=(13, 3.2), sharex=True)
stages = [("raw", pre), ("1. cut + interpolate", step1.recording),
          ("2. + decay removal", step2.recording), ("3. full pipeline", cleaned.recording)]
for ax, (label, rec) in zip(axes, stages):
    t, y = average_at(rec, "C3")
    ax.plot(t * 1e3, y * 1e6, lw=1, label="average")
    ax.plot(truth.times * 1e3, truth.tep[stim] * 1e6, "k--", lw=0.8, label="true TEP")
    ax.set(title=label, xlabel="ms after pulse", xlim=(-20, 300))
    if label != "raw":
        ax.set_ylim(-20, 20)
axes[0].set_ylabel("C3 (uV)")
axes[-1].legend(fontsize=8)
fig.tight_layout()
plt.show()

t, y = average_at(cleaned.recording, "C3")
true_on_t = np.interp(t, truth.times, truth.tep[stim], left=0.0)
late = (t >= 0.02) & (t <= 0.3)
r = np.corrcoef(y[late], true_on_t[late])[0, 1]
print(f"cleaned average vs true TEP at C3, 20-300 ms: r = {r:.3f}")
assert r > 0.95

# %%
# The TEP, GMFP and peaks
# -----------------------
# :func:`ketephys.tms.tep` cuts -0.5..0.5 s epochs, baseline-corrects them and averages.
# GMFP is the standard deviation across channels at each time (``ddof=0``, as TESA):
# a reference-free measure of the response's overall strength. A peak is a sample more
# extreme than its 5 neighbours on each side within the component's window; when there
# is none the peak is NaN with ``found=False``, never a value read at the nominal
# latency. ``significant`` comes from a sign-flip permutation test over trials.
# With an ROI (here C3 and its neighbours), peaks are also found on the ROI average.
# The simulated P180 is centred on Cz, not under the coil, so it is weak in this ROI;
# GMFP, which looks at every channel, finds it at 190 ms.

roi = ["C3", "FC1", "FC5", "CP1", "CP5"]
result = kt.tep(cleaned, roi=roi, n_permutations=200)
np.testing.assert_allclose(result.gmfp, result.average.std(axis=0, ddof=0))
peaks = result.peaks[result.peaks["channel"].isin(["ROI", "GMFP"])]
print(peaks[["component", "channel", "latency_ms", "amplitude", "found",
             "significant"]].to_string(index=False, float_format="%.3g"))

true_latency = {c: 1e3 * truth.component_at(c)[0] for c in ("N15", "P30", "N45", "P60",
                                                              "N100")}
for comp, lat in true_latency.items():
    found = result.peak(comp, "ROI")
    assert found["found"] and abs(found["latency_ms"] - lat) <= 3, (comp, found["latency_ms"])
print("ROI peak latencies within 3 ms of the simulated ones:", true_latency)

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
ms = result.times * 1e3
ax0.plot(ms, result.average.T * 1e6, color="0.5", lw=0.6)
ax0.plot(ms, result.roi_signal * 1e6, color="C3", lw=1.5, label="ROI average")
for _, p in peaks[(peaks["channel"] == "ROI") & peaks["found"]].iterrows():
    ax0.annotate(p["component"], (p["latency_ms"], p["amplitude"] * 1e6), fontsize=8,
                 xytext=(0, 6), textcoords="offset points", ha="center")
ax0.set(ylabel="uV", title="TEP butterfly (all channels) and ROI", xlim=(-50, 300))
ax0.legend()
ax1.plot(ms, result.gmfp * 1e6, color="k")
ax1.plot(truth.times * 1e3, truth.gmfp * 1e6, "--", color="C1", label="true GMFP")
gp = peaks[(peaks["channel"] == "GMFP") & peaks["found"]]
ax1.plot(gp["latency_ms"], gp["amplitude"] * 1e6, "v", color="C0", label="GMFP peaks")
ax1.set(xlabel="ms after pulse", ylabel="GMFP (uV)")
ax1.legend()
fig.tight_layout()
plt.show()

# %%
# Excitability before and after a dose
# ------------------------------------
# The post-dose session is simulated with every TEP component 1.5 times larger
# (``excitability_scale=1.5``). :func:`ketephys.tms.compare` measures both sessions with
# the same settings -- GMFP areas in three windows and the P30-N45 and N100-P180
# peak-to-peak amplitudes of the ROI -- and resamples the *trials* of each session to
# give bootstrap confidence intervals of each value, their difference and their ratio.
# The CI of the P30-N45 ratio should contain 1.5. GMFP areas also include residual
# background noise, which does not scale, so their ratios need not be exactly 1.5. The
# N100-P180 amplitude of this ROI relies on a P180 that is not significant here (it is
# centred on Cz), so treat it with care: :func:`~ketephys.tms.analyse` flags it
# ``not_significant``.

post, truth_post = simulate_tms_eeg(n_channels=16, n_trials=30, stim_channel="C3",
                                    excitability_scale=1.5, seed=12,
                                    meta={"subject": "s01", "session": "24h"})
post_result = kt.tep(kt.clean(post), roi=roi, n_permutations=0)
comparison = kt.compare(result, post_result, roi=roi, n_boot=200, seed=0)
print(comparison[["measure", "unit", "pre", "post", "ratio", "ratio_ci_low",
                  "ratio_ci_high"]].to_string(index=False, float_format="%.3g"))
p2p = comparison.set_index("measure").loc["p30_n45_amplitude"]
assert p2p["ratio_ci_low"] <= 1.5 <= p2p["ratio_ci_high"]
assert (comparison["ratio_ci_low"] > 1.0).all()  # every measure went up

# %%
# For the batch pipeline
# ----------------------
# :func:`ketephys.tms.analyse` runs pulse finding, cleaning, TEP and the excitability
# summary in one call with documented defaults and returns a tidy feature table, the
# input of the decay analysis (:ref:`tut-decay`). Each row carries the study metadata.

features = kt.analyse(post, roi=roi, tep_options={"n_permutations": 0},
                      peak_channels=["C3"])
show = features[features["channel"].isin(["GMFP", "ROI"])]
print(show[["subject", "session", "measure", "channel", "value", "unit"]].head(8)
      .to_string(index=False))
area = features.query("measure == 'gmfp_area_60_140'")["value"].iloc[0]
ref = comparison.set_index("measure").loc["gmfp_area_60_140", "post"]
assert np.isclose(area, ref, rtol=1e-6)  # same settings, same number
