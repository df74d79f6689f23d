"""Every real recording in ../shared/data loads as its README says (skipped when absent).

Numbers checked here come from /work/shared/data/README.md (rates, channel counts,
durations, sweep counts, units, quirks) and, for amplitudes, from the physiology: a slice
or in vivo fEPSP is a fraction of a millivolt, i.e. 1e-4 to 1e-3 V in SI.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import ketephys
from ketephys import Recording

pytestmark = pytest.mark.realdata


def _fepsp_amplitude(rec: Recording, sweeps: slice, channel: int, window: tuple[float, float],
                     baseline_end: float) -> float:
    """Negative peak of the mean sweep in ``window`` (s) relative to the pre-stimulus
    median (s before ``baseline_end``), in the recording's units (V)."""
    mean = rec.data[sweeps, channel].mean(axis=0)
    fs = rec.sfreq
    base = np.median(mean[: int(baseline_end * fs)])
    return float(mean[int(window[0] * fs): int(window[1] * fs)].min() - base)


def _round_trips(rec: Recording) -> None:
    """to_mne()/to_neo() and back give the same samples, sweeps and names exactly."""
    back = Recording.from_mne(rec.to_mne())
    np.testing.assert_array_equal(back.data, rec.data)
    assert back.ch_names == rec.ch_names and back.ch_types == rec.ch_types
    assert back.units == rec.units and back.sfreq == rec.sfreq
    neo_back = Recording.from_neo(rec.to_neo())
    np.testing.assert_array_equal(neo_back.data, rec.data)
    assert neo_back.ch_names == rec.ch_names and neo_back.units == rec.units
    if rec.is_episodic:
        np.testing.assert_array_equal(back.sweep_starts, rec.sweep_starts)
        np.testing.assert_array_equal(neo_back.sweep_starts, rec.sweep_starts)


# ---------------------------------------------------------------- EEG
def test_eeglab_tutorial_dataset(shared_file):
    rec = ketephys.read(shared_file("eeg", "eeglab_data.set"))
    assert rec.n_channels == 32 and rec.sfreq == 128.0
    assert rec.duration == pytest.approx(238, abs=0.5)
    assert len(rec.events) == 154
    assert set(rec.events["description"]) == {"square", "rt"}
    types = dict(zip(rec.ch_names, rec.ch_types))
    assert types["EOG1"] == "eog" and types["EOG2"] == "eog"
    assert sum(t == "eeg" for t in rec.ch_types) == 30
    assert "Fpz" in rec.ch_names  # 'FPz' spelled as the standard montage does
    assert set(rec.units) == {"V"}
    from scipy.signal import welch

    f, p = welch(rec.get_data("eeg"), rec.sfreq, nperseg=512)
    band = (f >= 7) & (f <= 13)
    peak = f[band][np.argmax(np.median(p, axis=0)[band])]
    assert 9.5 <= peak <= 11.0  # README: alpha peak ~10.4 Hz
    _round_trips(rec)


def test_edf_dot_padded_names_and_overlapping_annotations(shared_file):
    rec = ketephys.read(shared_file("eeg", "test_edf_overlapping_annotations.edf"))
    assert rec.n_channels == 64 and rec.sfreq == 128.0
    assert rec.duration == pytest.approx(124, abs=0.5)
    assert len(rec.events) == 38 and set(rec.events["description"]) == {"T0", "T1", "T2"}
    assert not any("." in n for n in rec.ch_names)
    assert {"FC5", "C3", "Cz"} <= set(rec.ch_names)
    assert rec.is_lazy  # read on demand
    # the same samples as MNE gives, only renamed
    import mne

    raw = mne.io.read_raw_edf(shared_file("eeg", "test_edf_overlapping_annotations.edf"),
                              preload=True, verbose="error")
    np.testing.assert_array_equal(rec.data, raw.get_data())
    _round_trips(rec)


def test_bdf_with_non_eeg_channels(shared_file):
    rec = ketephys.read(shared_file("eeg", "multiple_annotation_chans.bdf"))
    assert rec.n_channels == 19 and rec.sfreq == 125.0
    assert rec.duration == pytest.approx(247, abs=0.5)
    types = dict(zip(rec.ch_names, rec.ch_types))
    assert (types["EMG"], types["EOG"], types["ECG"], types["Trigger"]) == (
        "emg", "eog", "ecg", "stim")
    assert types["acc1"] == "misc" and types["Fz"] == "eeg"
    assert "flat" in rec.quality_flags()["ECG"]  # README: ECG flat -> a flag, not a crash
    _round_trips(rec)


def test_brainvision_short_file(shared_file):
    rec = ketephys.read(shared_file("eeg", "testbva.vhdr"))
    assert rec.n_channels == 32 and rec.sfreq == 200.0
    assert rec.duration == pytest.approx(10.5, abs=0.1)
    stim = rec.events[rec.events["description"].str.startswith("Stimulus")]
    assert len(stim) == 16
    types = dict(zip(rec.ch_names, rec.ch_types))
    assert (types["Eog"], types["Ekg1"], types["Ekg2"]) == ("eog", "ecg", "ecg")
    assert set(rec.units) == {"V"}
    _round_trips(rec)


# ---------------------------------------------------------------- field EPSPs and patch
def test_abf_field_baseline(shared_file):
    rec = ketephys.read(shared_file("fepsp", "2022_07_01_0012.abf"))
    assert rec.is_episodic and rec.n_sweeps == 240 and rec.n_channels == 1
    assert rec.sfreq == 10_000.0 and rec.duration == pytest.approx(0.1032)
    np.testing.assert_allclose(np.diff(rec.sweep_starts), 2.5)
    assert rec.sweep_starts[-1] == pytest.approx(597.5)  # 10 min
    assert rec.units == ["V"] and rec.ch_types == ["field"]
    amp = _fepsp_amplitude(rec, slice(None), 0, (0.0085, 0.03), 0.006)
    assert -1e-3 < amp < -1e-4  # README: fEPSP ~ -0.25 mV
    assert rec.data.min() == pytest.approx(-0.01, abs=1e-4)  # ADC clips at -10 mV
    _round_trips(rec)


def test_abf_two_electrodes_with_unit_override(shared_file):
    path = shared_file("fepsp", "2022_01_24_0000.abf")
    as_labelled = ketephys.read(path)
    assert as_labelled.units == ["A", "V"]  # ch0 labelled pA in the file
    rec = ketephys.read(path, units={"Ipatch": "mV"})
    assert rec.units == ["V", "V"] and rec.ch_types == ["field", "field"]
    assert rec.n_sweeps == 240 and rec.sfreq == 10_000.0
    np.testing.assert_allclose(rec.data[:, 0], as_labelled.data[:, 0] * 1e-3 / 1e-12)
    # odd sweeps respond on ch0, even sweeps on ch1 (README)
    odd0 = _fepsp_amplitude(rec, slice(1, None, 2), 0, (0.0085, 0.03), 0.006)
    even1 = _fepsp_amplitude(rec, slice(0, None, 2), 1, (0.0085, 0.03), 0.006)
    even0 = _fepsp_amplitude(rec, slice(0, None, 2), 0, (0.0085, 0.03), 0.006)
    assert -1e-3 < odd0 < -1e-4 and -1e-3 < even1 < -1e-4
    assert abs(even0) < abs(odd0) / 5
    _round_trips(rec)


@pytest.mark.parametrize("name,n_sweeps", [("example2_001.wcp", 9), ("example2_002.wcp", 7)])
def test_winwcp_in_volts(name, n_sweeps, shared_file):
    rec = ketephys.read(shared_file("fepsp", name))
    assert rec.n_sweeps == n_sweeps and rec.n_channels == 1 and rec.ch_names == ["Im1"]
    assert rec.sfreq == pytest.approx(100300.9, abs=0.1)
    assert rec.duration == pytest.approx(0.2016, abs=1e-4)
    assert rec.units == ["V"]  # 'mv' in the file, dimensionless from Neo
    # real record times from the file (every ~30 s), not back-to-back sweeps
    assert np.all(np.diff(rec.sweep_starts) == pytest.approx(30.0, abs=0.1))
    amp = _fepsp_amplitude(rec, slice(None), 0, (0.0115, 0.03), 0.0095)
    assert -1e-3 < amp < -1e-4  # volts: fEPSP of a fraction of a mV, not 0.1-1
    _round_trips(rec)


def test_patch_clamp_abf1(shared_file):
    rec = ketephys.read(shared_file("patch", "f1.abf"), modality="patch")
    assert rec.n_channels == 4 and rec.sfreq == 20_000.0 and rec.n_sweeps == 10
    assert rec.duration == pytest.approx(2.5)
    assert rec.ch_names == ["CH1", "CH2", "IN 2", "IN 3"]
    assert rec.units == ["A", "A", "V", "V"] and rec.ch_types[:2] == ["im", "im"]
    aux = np.median(rec.data[:, 2:], axis=(0, 2))
    assert np.all((aux > 2.5) & (aux < 4.0))  # ~3 V DC auxiliary inputs
    _round_trips(rec)


# ---------------------------------------------------------------- LFP
@pytest.mark.parametrize("name", ["83812141.set", "83812141.eeg", "83812141.eeg3"])
def test_axona_trial(name, shared_file):
    from scipy.signal import welch

    rec = ketephys.read(shared_file("lfp", "axona_rat_mec_hpc", name))
    assert rec.n_channels == 3 and rec.sfreq == 250.0 and rec.n_times == 300250
    assert rec.units == ["V"] * 3 and rec.ch_types == ["lfp"] * 3 and rec.is_lazy
    data = rec.data
    rms = np.sqrt(np.mean(data ** 2, axis=1))
    assert np.all((rms > 1e-5) & (rms < 1e-3))  # tens of microvolts, in volts
    f, p = welch(data, rec.sfreq, nperseg=1000)
    peaks = f[np.argmax(p, axis=1)]
    assert np.all((peaks >= 8) & (peaks <= 10))  # theta ~9.25 Hz
    _round_trips(rec)


def test_npy_hippocampus_with_sfreq_keyword(shared_file):
    rec = ketephys.read(shared_file("lfp", "npy", "rat_hippocampus_hc2.npy"), sfreq=1000.0,
                        modality="lfp")
    assert rec.n_channels == 1 and rec.n_times == 150_000 and rec.duration == 150.0
    assert rec.is_lazy and rec.ch_types == ["lfp"]


def test_npy_olfactory_bulb_with_sidecar(tmp_path, shared_file):
    src = shared_file("lfp", "npy", "rat_olfactory_bulb_ketamine_xylazine.npy")
    link = tmp_path / "ob.npy"
    link.symlink_to(src)  # a sidecar needs a folder we may write to; no copy
    (tmp_path / "ob.json").write_text(json.dumps({
        "sfreq": 1250, "units": "mV", "ch_names": ["ob0", "ob1", "resp", "ch3"],
        "ch_types": ["lfp", "lfp", "misc", "misc"], "condition": "ketamine-xylazine"}))
    rec = ketephys.read(link)
    assert rec.n_channels == 4 and rec.n_times == 22720
    assert rec.duration == pytest.approx(18.2, abs=0.05)
    assert rec.units == ["V"] * 4 and rec.meta.condition == "ketamine-xylazine"
    np.testing.assert_allclose(rec.data, np.load(src) * 1e-3)
    from scipy.signal import welch

    f, p = welch(rec.get_data("ob1")[0], rec.sfreq, nperseg=1250)
    band = (f > 60) & (f < 200)
    assert 100 <= f[band][np.argmax(p[band])] <= 125  # README: HFO ~113 Hz on row 1


@pytest.mark.parametrize("name,start", [
    ("fepsp/2022_07_01_0012.abf", "2022-07-01T12:37:57"),
    ("fepsp/example2_001.wcp", "2020-05-12T11:44:11"),
    ("patch/f1.abf", "2018-08-31T15:42:36")])
def test_file_clock_from_header(name, start, shared_file):
    # LTP joins several files of one experiment on these clocks
    rec = ketephys.read(shared_file(*name.split("/")))
    assert rec.meta.extras["rec_datetime"].startswith(start)
    assert rec.meta.sources["rec_datetime"] == "file"


@pytest.mark.parametrize(("rel", "flags"), [
    ("eeg/eeglab_data.set", {}),
    ("eeg/test_edf_overlapping_annotations.edf", {}),
    ("eeg/multiple_annotation_chans.bdf", {}),
    ("eeg/testbva.vhdr", {}),
    ("fepsp/2022_07_01_0012.abf", {}),
    ("fepsp/2022_01_24_0000.abf", {}),
    ("fepsp/example2_001.wcp", {}),
    ("fepsp/example2_002.wcp", {}),
    ("patch/f1.abf", {"IN 2": ["aux_dc"], "IN 3": ["aux_dc"]}),
    ("lfp/axona_rat_mec_hpc/83812141.set", {}),
    ("lfp/npy/rat_olfactory_bulb_ketamine_xylazine.npy",
     {f"ch{i}": ["unit_assumed"] for i in range(4)}),
])
def test_reader_flags_of_real_files(rel, flags, shared_file):
    """No library warning is hidden, and none flags a real file, except what the README
    says: f1.abf's IN 2/IN 3 are DC auxiliary inputs; the .npy files carry no units."""
    path = shared_file(*rel.split("/"))
    rec = ketephys.read(path, sfreq=1250.0) if path.suffix == ".npy" else ketephys.read(path)
    assert rec.reader_flags == flags
