"""
.. _tut-loading:

Loading recordings and their study metadata
===========================================

Every analysis in ketephys starts from a :class:`ketephys.Recording`: the samples in SI
units (volts, amperes), the channel names and types, the events, the sweeps of an episodic
recording, and the study metadata (subject, session, region, dose, hours since dose...).
One function, :func:`ketephys.read`, turns any supported file into one.

This tutorial reads one file of each family:

* scalp EEG formats (EEGLAB, EDF, BDF, BrainVision, FIF) through MNE;
* a BIDS dataset, whose ``participants.tsv`` and ``sessions.tsv`` give the metadata;
* TMS-EEG, where the TMS pulses must be found before anything else;
* cellular and rodent formats: ABF and WinWCP (through Neo), Axona, NWB;
* plain arrays (``.npy``) with a JSON sidecar;

then shows where each metadata value came from, and hands the recordings to MNE and Neo.

It uses the real recordings in ``../shared/data`` (beside the repository) when they are
there, and simulated files otherwise, so it runs anywhere. Set the environment variable
``KETEPHYS_SHARED_DATA`` to point at another copy of that folder.
"""

# %%
# Where the real recordings are
# -----------------------------
# The real files are never copied into the repository. We look for them beside it,
# found from this file's location (or, in a notebook where ``__file__`` does not exist,
# from the working directory), unless ``KETEPHYS_SHARED_DATA`` says otherwise.
# Everything we write goes into a temporary folder.

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import ketephys
from ketephys.io import read, read_bids, write


def repository_root() -> Path:
    try:
        return Path(__file__).resolve().parents[1]
    except NameError:  # running as a notebook
        for folder in (Path.cwd(), *Path.cwd().parents):
            if (folder / "ketephys").is_dir() and (folder / "tutorials").is_dir():
                return folder
        return Path.cwd()


SHARED = Path(os.environ.get("KETEPHYS_SHARED_DATA",
                             repository_root().parent / "shared" / "data"))
HAVE_SHARED = SHARED.is_dir()
TMP = Path(tempfile.mkdtemp(prefix="ketephys_loading_"))
print("real recordings:", SHARED if HAVE_SHARED else "absent, using simulated files")

# %%
# Scalp EEG formats
# -----------------
# EEG files are read through MNE, lazily: samples stay on disk until asked for
# (``rec.is_lazy``). ketephys then tidies what MNE leaves as it is in the file: the
# dot-padded channel names of BCI2000 EDFs (``Fc5.`` becomes ``FC5``) and EOG/EMG/ECG or
# trigger channels that the file types as EEG. Units are always SI: a value of
# ``1e-5`` is 10 microvolts.
#
# With the real files we read the EEGLAB tutorial dataset and three other formats.
# Without them we simulate 20 s of 4-channel EEG and write it to EDF, BDF, BrainVision
# and FIF with :func:`ketephys.io.write`, then read each back.

if HAVE_SHARED:
    eeg_files = [SHARED / "eeg" / name for name in (
        "eeglab_data.set", "test_edf_overlapping_annotations.edf",
        "multiple_annotation_chans.bdf", "testbva.vhdr")]
    original = None
else:
    original, _ = ketephys.simulate.simulate_eeg(n_channels=4, duration=20.0, sfreq=256.0,
                                                 ch_names=["Fz", "Cz", "Pz", "Oz"], seed=1)
    eeg_files = [write(original, TMP / f"sim_{ext}.{ext}") for ext in ("edf", "bdf", "vhdr", "fif")]

rows = []
for path in eeg_files:
    rec = read(path)
    rows.append({"file": path.name, "format": rec.source.format, "n_channels": rec.n_channels,
                 "sfreq_hz": rec.sfreq, "duration_s": round(rec.duration, 2),
                 "n_events": len(rec.events), "lazy": rec.is_lazy,
                 "types": ",".join(sorted(set(rec.ch_types)))})
    if original is not None:
        # a round trip through a file format changes the samples by at most its
        # quantisation step (EDF stores 16-bit integers: a step of range / 65535)
        step = np.ptp(original.data) / 65535
        assert np.max(np.abs(rec.data - original.data)) <= step
print(pd.DataFrame(rows).to_string(index=False))

if HAVE_SHARED:
    eeglab = read(SHARED / "eeg" / "eeglab_data.set")
    edf = read(SHARED / "eeg" / "test_edf_overlapping_annotations.edf")
    # README: 32 channels at 128 Hz, 154 events; EDF names were 'Fc5.' in the file
    assert eeglab.n_channels == 32 and eeglab.sfreq == 128.0 and len(eeglab.events) == 154
    assert "FC5" in edf.ch_names and "Fc5." not in edf.ch_names
    print(eeglab)
    print(eeglab.events.head())

# %%
# A BIDS dataset
# --------------
# In a BIDS dataset the study design lives in tables: ``participants.tsv`` (per subject:
# genotype, condition...) and ``sub-XX_sessions.tsv`` (per session). ketephys reads the
# time since dose from a *numeric* sessions column, never from the session label: a
# label such as ``ses-24h`` sorts before ``ses-4h`` as text, a classic source of wrongly
# ordered time courses. We build a two-session dataset with mne-bids.

import mne
from mne_bids import BIDSPath, write_raw_bids

bids_root = TMP / "bids"
for session in ("pre", "24h"):
    sim, _ = ketephys.simulate.simulate_eeg(n_channels=3, duration=10.0, sfreq=256.0,
                                            ch_names=["Fz", "Cz", "Pz"], seed=2)
    edf_path = write(sim, TMP / f"src_{session}.edf")
    raw = mne.io.read_raw_edf(edf_path, verbose="error")
    write_raw_bids(raw, BIDSPath(root=bids_root, subject="01", session=session, task="rest"),
                   overwrite=True, verbose=False)
participants = pd.read_csv(bids_root / "participants.tsv", sep="\t")
participants["genotype"] = "Val/Met"
participants["condition"] = "ketamine"
participants.to_csv(bids_root / "participants.tsv", sep="\t", index=False)
pd.DataFrame({"session_id": ["ses-pre", "ses-24h"], "hours_post_infusion": [-1.0, 24.0],
              "dose_mg_per_kg": [0.5, 0.5]}).to_csv(
    bids_root / "sub-01" / "sub-01_sessions.tsv", sep="\t", index=False)

bids_rec = read_bids(bids_root, subject="01", session="24h", task="rest")
print(bids_rec.meta)
assert bids_rec.meta.hours_since_dose == 24.0 and bids_rec.meta.genotype == "Val/Met"
assert bids_rec.meta.sources["hours_since_dose"] == "bids"

# %%
# TMS-EEG: finding the pulses
# ---------------------------
# No public TMS-EEG recording with its pulses could be found, so this part is always
# simulated (:func:`ketephys.simulate.simulate_tms_eeg`, 20 pulses with a trigger
# channel). ``modality="tms-eeg"`` makes :func:`~ketephys.read` call
# :func:`ketephys.tms.mark_tms_pulses` (registered in :mod:`ketephys.io.hooks`), which adds one ``tms_pulse`` event per pulse,
# here from the trigger channel. Without a trigger the pulses are found from the huge
# artifact itself (``tms_options={}``).

tms, tms_truth = ketephys.simulate.simulate_tms_eeg(n_channels=8, n_trials=20, sfreq=5000.0,
                                                    trigger_channel=True, seed=3)
tms_path = write(tms, TMP / "tms.fif")
tms_rec = read(tms_path, modality="tms-eeg", tms_options={"trigger_channel": "TRIG"})
pulses = tms_rec.events[tms_rec.events["description"] == "tms_pulse"]
print(f"{len(pulses)} pulses found; first at {pulses['onset'].iloc[0]:.4f} s")
np.testing.assert_allclose(pulses["onset"], tms_truth.pulse_times, atol=1 / tms.sfreq)

from_artifact = ketephys.tms.find_tms_pulses(tms.pick([c for c in tms.ch_names if c != "TRIG"]))
np.testing.assert_allclose(from_artifact["onset"], tms_truth.pulse_times, atol=1 / tms.sfreq)
print("the same pulses are found from the artifact alone")

# %%
# Field potentials and patch clamp: ABF, WinWCP, NWB
# --------------------------------------------------
# Cellular recordings are *episodic*: ``data`` has the shape
# ``(n_sweeps, n_channels, n_times)`` and ``sweep_starts`` holds the real start time of
# every sweep (gaps matter for an LTP time course). Files often mislabel their channels:
# the brainwash ABF names its field channel ``Ipatch`` in pA although it holds mV. The
# ``units=`` keyword states what the values really are, and the channel type follows
# (``field``: a field potential in V; ``im``: a current).

if HAVE_SHARED:
    abf = read(SHARED / "fepsp" / "2022_01_24_0000.abf", units={"Ipatch": "mV"})
    wcp = read(SHARED / "fepsp" / "example2_001.wcp")
    patch = read(SHARED / "patch" / "f1.abf", modality="patch")
    for rec in (abf, wcp, patch):
        print(f"{Path(rec.source.path).name:24s} {rec.n_sweeps:4d} sweeps x "
              f"{rec.n_channels} ch, {rec.sfreq:9.1f} Hz, units {rec.units}, "
              f"types {rec.ch_types}")
    assert abf.units == ["V", "V"] and abf.ch_types == ["field", "field"]
    # WinWCP writes its unit 'mv' (lower case): ketephys still returns volts
    assert wcp.units == ["V"] and -1e-3 < np.median(wcp.data.min(axis=-1)) < 0
    assert np.allclose(np.diff(wcp.sweep_starts), 30.0, atol=0.1)  # real sweep times
    assert patch.units[:2] == ["A", "A"] and patch.ch_types[:2] == ["im", "im"]
else:
    print("ABF and WinWCP are read-only formats (ketephys cannot write them): without the "
          "real files only the NWB example below runs")

# NWB (written and read by ketephys) keeps sweeps, units, events and metadata
fepsp_sim, _ = ketephys.simulate.simulate_fepsp_experiment(
    n_baseline_min=2, n_post_min=2, sweep_interval=20.0, seed=4,
    meta={"subject": "rat07", "region": "CA1"})
nwb_rec = read(write(fepsp_sim, TMP / "fepsp.nwb"))
print(nwb_rec)
assert nwb_rec.is_episodic and nwb_rec.n_sweeps == fepsp_sim.n_sweeps
np.testing.assert_allclose(nwb_rec.sweep_starts, fepsp_sim.sweep_starts)
np.testing.assert_array_equal(nwb_rec.data, fepsp_sim.data)
assert nwb_rec.meta.region == "CA1"

# %%
# A first look
# ------------
# ``rec.times`` is the time axis of one sweep (or of the whole continuous recording) and
# ``rec.get_data(picks, start, stop)`` reads only the samples asked for, which is how a
# lazy file is used. Values are in volts, so we multiply by 1e6 (uV) or 1e3 (mV) to plot.

import matplotlib.pyplot as plt

eeg = read(eeg_files[0])
n = int(2 * eeg.sfreq)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.5))
snippet = eeg.get_data(picks=eeg.ch_names[:4], start=0, stop=n)
for i, trace in enumerate(snippet):
    ax0.plot(eeg.times[:n], trace * 1e6 - 60 * i, lw=0.7)
ax0.set(xlabel="time (s)", ylabel="uV (offset per channel)",
        title=f"{eeg_files[0].name}: first 2 s")
ax1.plot(nwb_rec.times * 1e3, nwb_rec.data[:, 0, :].T * 1e3, color="0.3", lw=0.6)
ax1.set(xlabel="time in sweep (ms)", ylabel="mV", ylim=(-3, 3),
        title=f"fEPSP: {nwb_rec.n_sweeps} sweeps overlaid")
fig.tight_layout()
plt.show()

# %%
# Axona and arrays with a sidecar
# -------------------------------
# Axona ``.eeg`` files hold int8 samples; the gain of each channel is in the ``.set``
# file beside them, and ketephys converts to volts with it (memory-mapped: a 20 min
# recording is not loaded). Plain arrays carry no sampling rate, units or names, so a
# JSON *sidecar* with the same stem gives them; it may also carry study metadata.

if HAVE_SHARED:
    axona = read(SHARED / "lfp" / "axona_rat_mec_hpc" / "83812141.set")
    print(axona)
    assert axona.sfreq == 250.0 and axona.n_channels == 3 and axona.is_lazy
    hc2 = read(SHARED / "lfp" / "npy" / "rat_hippocampus_hc2.npy", sfreq=1000.0,
               modality="lfp")
    print(hc2)
    assert hc2.duration == 150.0 and hc2.ch_types == ["lfp"]

arr = np.random.default_rng(5).normal(scale=0.05, size=(2, 5000))  # values in mV
np.save(TMP / "lfp.npy", arr)
(TMP / "lfp.json").write_text(json.dumps({
    "sfreq": 1000, "units": "mV", "ch_names": ["PFC", "HPC"], "ch_types": ["lfp", "lfp"],
    "subject": "rat07", "session": "d1", "dose_mg_per_kg": 10,
    "meta": {"hours_since_dose": 24, "sex": "F"}}))
array_rec = read(TMP / "lfp.npy", extras=["sex"])  # "sex" is not a study field: declare it
np.testing.assert_allclose(array_rec.data, arr * 1e-3)  # mV -> V
print(array_rec, array_rec.meta, sep="\n")

# %%
# Where did each metadata value come from?
# ----------------------------------------
# Metadata can come from several places; ketephys merges them with a fixed priority:
# keyword ``meta=`` > sidecar > manifest CSV > BIDS tables > the file header. Every
# value remembers its source, and disagreements are kept (and logged) rather than
# silently resolved. Here a manifest and a keyword disagree with the sidecar.

(TMP / "manifest.csv").write_text(
    "path,subject,hours_since_dose,genotype\nlfp.npy,rat99,48,Val/Val\n")
merged = read(TMP / "lfp.npy", meta={"region": "PFC"}, manifest=TMP / "manifest.csv",
              extras=["sex"])
print(pd.Series(merged.meta.sources, name="source").to_string())
for note in merged.meta.conflicts:
    print("conflict:", note)
assert merged.meta.subject == "rat07"            # sidecar beats manifest
assert merged.meta.genotype == "Val/Val"         # only the manifest has it
assert merged.meta.sources["region"] == "keyword"

# %%
# Handing over to MNE and Neo
# ---------------------------
# A continuous recording becomes an ``mne.io.RawArray`` (events as annotations), an
# episodic one ``mne.EpochsArray`` (one epoch per sweep); ``to_neo()`` gives a
# ``neo.Block`` with one Segment per sweep. ketephys' types, units, metadata and sweep
# times travel along, so ``Recording.from_mne`` restores them.

raw = tms_rec.to_mne()
print(raw)
epochs = nwb_rec.to_mne()
print(epochs)
back = ketephys.Recording.from_mne(epochs)
np.testing.assert_allclose(back.sweep_starts, nwb_rec.sweep_starts)
assert back.meta.subject == "rat07"
block = nwb_rec.to_neo()
print(f"neo.Block with {len(block.segments)} segments; first signal unit "
      f"{block.segments[0].analogsignals[0].units.dimensionality}")
assert len(block.segments) == nwb_rec.n_sweeps

shutil.rmtree(TMP, ignore_errors=True)
