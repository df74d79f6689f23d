"""ketephys.io.read: dispatch, arrays + sidecars, Axona, metadata sources, BIDS, info."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from ketephys import MetadataError, Recording
from ketephys.errors import SettingsError
from ketephys.io import info, read, read_bids, read_manifest, write
from ketephys.io.eeg import clean_channel_names, guess_channel_types


def test_axona_scaling_and_lazy_access(tmp_path, write_axona_trial):
    setfile, ints = write_axona_trial(tmp_path)
    for target in (setfile, tmp_path / "trial.eeg", tmp_path / "trial.eeg3"):
        rec = read(target)
        assert rec.ch_names == ["EEG_ch_1", "EEG_ch_2", "EEG_ch_3"]
        assert rec.sfreq == 250.0 and rec.n_times == 5000 and rec.units == ["V"] * 3
        assert rec.ch_types == ["lfp"] * 3 and rec.is_lazy
    volts_per_step = np.array([1500 / g * 1e-3 / 128 for g in (6000, 5000, 2500)])
    block = rec.get_data(["EEG_ch_2"], start=100, stop=200)
    np.testing.assert_array_equal(block[0], ints[1, 100:200] * volts_per_step[1])
    np.testing.assert_array_equal(rec.data, ints * volts_per_step[:, None])
    assert rec.meta.extras["axona_channels"] == {"EEG_ch_1": 4, "EEG_ch_2": 9, "EEG_ch_3": 28}


def test_axona_egf_int16(tmp_path, write_axona_trial):
    _, ints = write_axona_trial(tmp_path, n=4800, sfreq=4800.0, bytes_per_sample=2,
                                egf=True, gains=(1000,), channels=(1,))
    rec = read(tmp_path / "trial.egf")
    assert rec.sfreq == 4800.0 and rec.ch_names == ["EGF_ch_1"]
    np.testing.assert_array_equal(rec.data[0], ints[0] * (1500 / 1000 * 1e-3 / 32768))


# ---------------------------------------------------------------- arrays and sidecars
def test_npy_memory_mapped_with_sidecar(tmp_path):
    data = np.random.default_rng(3).normal(size=(3, 4000))
    np.save(tmp_path / "lfp.npy", data)
    (tmp_path / "lfp.json").write_text(json.dumps({
        "sfreq": 1000, "ch_names": ["a", "b", "c"], "units": "mV", "ch_types": ["lfp"] * 3,
        "subject": "rat02", "meta": {"dose_mg_per_kg": "10 mg/kg", "sex": "M"}}))
    rec = read(tmp_path / "lfp.npy", extras=["sex"])
    assert rec.is_lazy and rec.sfreq == 1000 and rec.units == ["V"] * 3
    np.testing.assert_allclose(rec.get_data(["b"], 10, 20)[0], data[1, 10:20] * 1e-3)
    np.testing.assert_allclose(rec.data, data * 1e-3)
    assert rec.meta.subject == "rat02" and rec.meta.dose_mg_per_kg == 10.0
    assert rec.meta.extras["sex"] == "M" and rec.meta.sources["subject"] == "sidecar"


def test_npy_float_si_stays_a_memmap(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 100)))
    rec = read(tmp_path / "x.npy", sfreq=500.0, modality="lfp")
    assert isinstance(rec._data, np.memmap) and rec.ch_types == ["lfp", "lfp"]


def test_keyword_overrides_sidecar_and_time_major_layout(tmp_path):
    data = np.arange(20.0).reshape(10, 2)  # (n_times, n_channels)
    np.save(tmp_path / "t.npy", data)
    (tmp_path / "t.json").write_text(json.dumps({"sfreq": 100, "ch_names": ["x", "y"]}))
    rec = read(tmp_path / "t.npy", sfreq=200.0, units={"x": "uV", "y": "V"})
    assert rec.sfreq == 200.0 and rec.n_channels == 2 and rec.n_times == 10
    np.testing.assert_allclose(rec.data[0], data[:, 0] * 1e-6)
    np.testing.assert_allclose(rec.data[1], data[:, 1])


def test_int16_array_scaled_lazily(tmp_path):
    ints = np.arange(-500, 500, dtype=np.int16)
    np.save(tmp_path / "hc.npy", ints)
    rec = read(tmp_path / "hc.npy", sfreq=1000, units="uV")
    assert rec.is_lazy and rec.n_channels == 1
    np.testing.assert_allclose(rec.get_data(start=0, stop=3)[0], [-500e-6, -499e-6, -498e-6])


@pytest.mark.parametrize("ext", [".npz", ".mat", ".csv"])
def test_other_array_files(tmp_path, ext):
    data = np.random.default_rng(4).normal(size=(2, 50))
    path = tmp_path / f"a{ext}"
    if ext == ".npz":
        np.savez(path, data=data)
    elif ext == ".mat":
        from scipy.io import savemat

        savemat(path, {"lfp": data})
    else:
        pd.DataFrame({"time": np.arange(50) / 100, "L": data[0], "R": data[1]}).to_csv(
            path, index=False)
    side = {"sfreq": 100.0, "units": "mV"}
    if ext != ".csv":
        side["ch_names"] = ["L", "R"]
    (tmp_path / "a.json").write_text(json.dumps(side))
    rec = read(path)
    assert rec.ch_names == ["L", "R"] and rec.sfreq == 100.0
    np.testing.assert_allclose(rec.data, data * 1e-3, rtol=1e-12)


def test_sidecar_events_and_sweeps(tmp_path):
    np.save(tmp_path / "ep.npy", np.ones((3, 1, 20)))
    (tmp_path / "ep.json").write_text(json.dumps({
        "sfreq": 10.0, "sweep_starts": [0, 5, 11],
        "events": {"onset": [0.1], "description": ["stim"], "sweep": [2]}}))
    rec = read(tmp_path / "ep.npy")
    assert rec.is_episodic and list(rec.sweep_starts) == [0, 5, 11]
    assert rec.events.loc[0, "sweep"] == 2 and rec.events.loc[0, "description"] == "stim"


# ---------------------------------------------------------------- metadata sources
def test_metadata_priority_and_conflicts(tmp_path, caplog):
    rec = Recording(np.zeros((1, 100)), 100.0, ["a"], meta={"subject": "from_file",
                                                            "region": "PFC"})
    path = write(rec, tmp_path / "r.fif")
    (tmp_path / "r.json").write_text(json.dumps({"subject": "side", "session": "s_side",
                                                 "meta": {"condition": "saline"}}))
    pd.DataFrame({"path": ["r.fif"], "subject": ["man"], "session": ["s_man"],
                  "condition": ["ketamine"], "hours_since_dose": [24],
                  "genotype": ["Val/Met"]}).to_csv(tmp_path / "manifest.csv", index=False)
    with caplog.at_level(logging.WARNING):
        out = read(path, meta={"subject": "kw"}, manifest=tmp_path / "manifest.csv")
    m = out.meta
    assert (m.subject, m.session, m.condition) == ("kw", "s_side", "saline")
    assert m.hours_since_dose == 24.0 and m.genotype == "Val/Met" and m.region == "PFC"
    assert m.sources == {"subject": "keyword", "session": "sidecar", "condition": "sidecar",
                         "hours_since_dose": "manifest", "genotype": "manifest",
                         "region": "file"}
    joined = " | ".join(m.conflicts)
    assert "'kw' from keyword kept over 'side' from sidecar" in joined
    assert "'saline' from sidecar kept over 'ketamine' from manifest" in joined
    assert "'kw' from keyword kept over 'from_file' from file" in joined
    assert "metadata sources disagree" in caplog.text


def test_read_manifest_resolves_relative_paths(tmp_path):
    sub = tmp_path / "study"
    sub.mkdir()
    (sub / "m.csv").write_text("path,subject,dose_mg_per_kg\nrat1/a.abf,001,10\n"
                               f"{tmp_path / 'b.edf'},002,\n")
    table = read_manifest(sub / "m.csv")
    assert table["path"].tolist() == [str((sub / "rat1" / "a.abf").resolve()),
                                      str((tmp_path / "b.edf").resolve())]
    assert table["subject"].tolist() == ["001", "002"]  # ids keep their leading zeros
    with pytest.raises(MetadataError, match="no 'path' column"):
        (sub / "bad.csv").write_text("file,subject\na,1\n")
        read_manifest(sub / "bad.csv")


def test_invalid_metadata_names_source(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 10)))
    (tmp_path / "x.json").write_text(json.dumps({"sfreq": 10, "dose_mg_per_kg": "lots"}))
    with pytest.raises(MetadataError, match="dose_mg_per_kg.*from sidecar"):
        read(tmp_path / "x.npy")


# ---------------------------------------------------------------- BIDS
def test_read_bids_with_study_tables(bids_dataset):
    root = bids_dataset
    recs = {s: read_bids(root, subject="01", session=s, task="rest")
            for s in ("pre", "24h", "4h")}
    hours = {s: r.meta.hours_since_dose for s, r in recs.items()}
    # the numeric column orders the sessions, not the labels ("24h" < "4h" as text)
    assert hours == {"pre": -1.0, "24h": 24.0, "4h": 4.0}
    r = recs["24h"]
    assert r.meta.subject == "01" and r.meta.session == "24h"
    assert r.meta.genotype == "Val/Met" and r.meta.condition == "ketamine"
    assert r.meta.dose_mg_per_kg == 0.5 and r.meta.sources["hours_since_dose"] == "bids"
    assert r.ch_types == ["eeg", "eeg", "eog"] and r.sfreq == 256.0
    # reading a file of the dataset directly finds the same tables
    direct = read(root / "sub-01" / "ses-4h" / "eeg" / "sub-01_ses-4h_task-rest_eeg.edf")
    assert direct.meta.hours_since_dose == 4.0 and direct.meta.genotype == "Val/Met"


# ---------------------------------------------------------------- EEG clean-up, options
def test_channel_name_and_type_cleanup():
    names = ["Fc5.", "C3..", "FPz", "EOG1", "HEOG", "EMG_chin", "EKG", "Trigger", "acc1", "O1"]
    mapping = clean_channel_names(names)
    assert mapping == {"Fc5.": "FC5", "C3..": "C3", "FPz": "Fpz"}
    new = guess_channel_types(names, ["eeg"] * len(names))
    assert new == {"EOG1": "eog", "HEOG": "eog", "EMG_chin": "emg", "EKG": "ecg",
                   "Trigger": "stim", "acc1": "misc"}
    assert clean_channel_names(["Cz.", "Cz"]) == {}  # would clash: keep the file's names


def test_ch_types_override_and_unknown_modality(tmp_path):
    rec = Recording(np.zeros((2, 100)), 100.0, ["a", "b"], ch_types=["eeg", "eeg"])
    path = write(rec, tmp_path / "r.fif")
    out = read(path, ch_types={"b": "emg"})
    assert out.ch_types == ["eeg", "emg"]
    with pytest.raises(SettingsError, match="modality must be one of .*got 'meg'"):
        read(path, modality="meg")
    with pytest.raises(MetadataError, match="not in"):
        read(path, ch_types={"zz": "eeg"})
    with pytest.raises(SettingsError, match="units= overrides apply to Neo and array"):
        read(path, units="uV")
    with pytest.raises(SettingsError, match="did you mean 'emg'"):
        read(path, ch_types={"b": "emgg"})


def test_neo_reader_refuses_ch_types_for_a_channel_not_in_the_file(shared_data):
    """A Neo file (real ABF): ``ch_types`` naming a channel the file lacks is the same
    MetadataError as for every other reader (it used to be ignored)."""
    path = shared_data / "fepsp" / "2022_01_24_0000.abf"
    if not path.exists():
        pytest.skip(f"{path} not present")
    with pytest.raises(MetadataError, match=r"ch_types names channels \['nope'\] not in "
                                            r"\['Ipatch', 'Ipatch2'\]") as err:
        read(path, ch_types={"nope": "field"})
    assert str(path) in str(err.value)
    assert read(path, ch_types={"Ipatch2": "misc"}).ch_types[1] == "misc"


@pytest.mark.parametrize("ext", [".fif", ".npy", ".nwb"])
def test_a_channel_not_in_the_file_is_one_error_whatever_the_reader(tmp_path, ext):
    """MNE (.fif), array (.npy) and ketephys NWB files: the same MetadataError and
    message as the Neo readers (ketephys._channels.select_channels)."""
    rec = Recording(np.zeros((2, 100)), 100.0, ["a", "b"], ch_types=["eeg", "eeg"])
    path = write(rec, tmp_path / f"r{ext}")
    with pytest.raises(MetadataError, match=r"channels \['zz'\] not in the file; it has "
                                            r"\['a', 'b'\]") as err:
        read(path, channels=["a", "zz"])
    assert str(path) in str(err.value)


def test_tms_eeg_calls_the_pulse_marker(tmp_path, monkeypatch):
    calls = {}

    def mark_tms_pulses(rec, **kw):
        calls["kw"] = kw
        return rec.copy()

    from ketephys.io import hooks

    monkeypatch.setitem(hooks.POST_READ_HOOKS, "tms-eeg", mark_tms_pulses)
    rec = Recording(np.zeros((1, 100)), 100.0, ["Cz"], ch_types=["eeg"])
    path = write(rec, tmp_path / "t.fif")
    read(path, modality="tms-eeg", tms_options={"trigger_channel": "Cz"})
    assert calls["kw"] == {"trigger_channel": "Cz"}


def test_tms_eeg_marks_real_pulses(tmp_path):
    sfreq = 5000.0
    data = np.random.default_rng(6).normal(scale=5e-6, size=(2, 50_000))
    trig = np.zeros(50_000)
    onsets = [1.0, 3.0, 5.5, 8.0]
    for t in onsets:
        trig[int(t * sfreq):int(t * sfreq) + 5] = 5.0
    rec = Recording(np.vstack([data, trig]), sfreq, ["Cz", "Pz", "TRIG"],
                    ch_types=["eeg", "eeg", "stim"], units=["V", "V", ""])
    path = write(rec, tmp_path / "tms.fif")
    out = read(path, modality="tms-eeg", tms_options={"trigger_channel": "TRIG"})
    pulses = out.events[out.events["description"] == "tms_pulse"]
    np.testing.assert_allclose(pulses["onset"], onsets, atol=1 / sfreq)


def test_info_summary(tmp_path):
    rec = Recording(np.zeros((3, 2, 500)), 1000.0, ["f", "i"], ch_types=["field", "im"],
                    units=["V", "A"], sweep_starts=[0, 2.5, 5.0],
                    events={"onset": [0.01], "description": ["stim"], "sweep": [1]},
                    meta={"subject": "s9"})
    path = write(rec, tmp_path / "e.nwb")
    summary = info(path)
    assert summary["format"] == "nwb" and summary["n_sweeps"] == 3
    assert summary["channels"] == [{"name": "f", "type": "field", "unit": "V"},
                                   {"name": "i", "type": "im", "unit": "A"}]
    assert summary["sfreq_hz"] == 1000.0 and summary["duration_s"] == 0.5
    assert summary["sweep_starts_s"] == [0.0, 5.0]
    assert summary["event_counts"] == {"stim": 1}
    assert summary["metadata"] == {"subject": "s9"}


def test_flat_and_nan_channels_are_flagged_not_fatal(tmp_path, caplog):
    data = np.random.default_rng(7).normal(size=(3, 200))
    data[1] = 0.0
    data[2] = np.nan
    rec = Recording(data, 100.0, ["ok", "flat", "dead"])
    path = write(rec, tmp_path / "q.npy")
    with caplog.at_level(logging.WARNING):
        out = read(path)
    assert out.quality_flags() == {"flat": ["flat"], "dead": ["all_nan"]}
    assert "channel flat is flat" in caplog.text and "channel dead is all_nan" in caplog.text


def test_foreign_nwb_goes_through_neo(tmp_path):
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    nwb = NWBFile(session_description="other lab", identifier="x1",
                  session_start_time=datetime(2020, 1, 1, tzinfo=timezone.utc))
    values = np.arange(2000, dtype=float).reshape(1000, 2)
    nwb.add_acquisition(TimeSeries(name="lfp", data=values, unit="mV", rate=500.0,
                                   starting_time=0.0))
    with NWBHDF5IO(str(tmp_path / "f.nwb"), "w") as io:
        io.write(nwb)
    rec = read(tmp_path / "f.nwb")
    assert rec.source.reader == "neo.io.NWBIO" and rec.sfreq == 500.0
    assert rec.n_channels == 2 and rec.units == ["V", "V"]
    np.testing.assert_allclose(rec.data, values.T * 1e-3)


def test_channels_option_stays_lazy_for_mne_files(tmp_path):
    rec = Recording(np.random.default_rng(8).normal(size=(4, 1000)) * 1e-5, 100.0,
                    ["Fz", "Cz", "Pz", "Oz"], ch_types=["eeg"] * 4)
    path = write(rec, tmp_path / "c.edf")
    out = read(path, channels=["Pz", "Fz"])
    assert out.ch_names == ["Pz", "Fz"] and out.is_lazy
    back = read(path)
    np.testing.assert_array_equal(out.data, back.data[[2, 0]])
    with pytest.raises(MetadataError, match=r"channels \['Xx'\] not in the file"):
        read(path, channels=["Xx"])


def test_tms_pulse_marking_is_the_registered_post_read_hook():
    import ketephys.tms
    import ketephys.tms.pulses as pulses
    from ketephys.io.hooks import post_read_hook

    assert ketephys.tms.find_tms_pulses is pulses.find_tms_pulses
    assert post_read_hook("tms-eeg") is pulses.mark_tms_pulses is ketephys.tms.mark_tms_pulses
    assert post_read_hook("eeg") is None


def test_continuous_neo_file_is_read_lazily(tmp_path):
    ints = np.arange(-3000, 3000, dtype=np.int16).reshape(2000, 3)  # (n_times, n_channels)
    ints.tofile(tmp_path / "x.raw")
    opts = {"dtype": "int16", "sampling_rate": 2000.0, "nb_channel": 3, "signal_gain": 0.5}
    rec = read(tmp_path / "x.raw", format="RawBinarySignalIO", neo_kwargs=opts,
               units={"ch0": "uV", "ch1": "uV", "ch2": "pA"}, channels=["ch2", "ch0"])
    assert rec.is_lazy and rec.ch_names == ["ch2", "ch0"] and rec.units == ["A", "V"]
    assert rec.ch_types == ["im", "field"] and rec.sfreq == 2000.0
    block = rec.get_data(start=100, stop=103)
    np.testing.assert_allclose(block[0], ints[100:103, 2] * 0.5e-12)
    np.testing.assert_allclose(block[1], ints[100:103, 0] * 0.5e-6)
    np.testing.assert_allclose(rec.data[1], ints[:, 0] * 0.5e-6)


def test_brainvision_data_or_marker_file_leads_to_its_header(tmp_path):
    rec = Recording(np.random.default_rng(9).normal(size=(2, 500)) * 1e-5, 100.0,
                    ["Fz", "Cz"], ch_types=["eeg", "eeg"])
    path = write(rec, tmp_path / "bv.vhdr")
    for other in ("bv.eeg", "bv.vmrk"):
        out = read(tmp_path / other)
        assert out.source.path == str(path) and out.source.format == "brainvision"
        np.testing.assert_allclose(out.data, rec.data, rtol=1e-6)


def test_npy_damage_is_named(tmp_path):
    """A .npy without the NumPy signature, or shorter than its header says, is reported
    as such (not as pickled objects or as a failed memory map)."""
    from ketephys import CorruptFileError

    np.save(tmp_path / "x.npy", np.zeros((2, 100)))
    (tmp_path / "x.json").write_text(json.dumps({"sfreq": 100}))
    whole = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "x.npy").write_bytes(b"PK\x03\x04" + whole[4:])
    with pytest.raises(CorruptFileError, match=r"x\.npy: not a NumPy \.npy file"):
        read(tmp_path / "x.npy")
    (tmp_path / "x.npy").write_bytes(whole[:-8])
    with pytest.raises(CorruptFileError, match=r"x\.npy: truncated: the \.npy header promises "
                                               r"an array of shape \(2, 100\) and dtype "
                                               r"float64 \(\d+ bytes with the header\), the "
                                               r"file has \d+ bytes"):
        read(tmp_path / "x.npy")
    np.save(tmp_path / "x.npy", np.array([None, {}]), allow_pickle=True)
    with pytest.raises(CorruptFileError, match="holds Python objects"):
        read(tmp_path / "x.npy")


@pytest.mark.parametrize("first", ["\ufeffBrain Vision Data Exchange Header File Version 1.0",
                                   "BrainVision Data Exchange Header File Version 2.0  ",
                                   "Brain Vision Data Exchange Header File Version 1.0\t"])
def test_vhdr_identification_line_variants_read(tmp_path, first):
    """A BOM before, and spaces after, the identification line are accepted; the
    "BrainVision" spelling and version 2.0 too."""
    rec = Recording(np.zeros((2, 50)), 100.0, ["a", "b"], ch_types=["eeg"] * 2)
    path = write(rec, tmp_path / "bv.vhdr")
    text = path.read_text(encoding="utf-8")
    path.write_text(first + text[text.index("\n"):], encoding="utf-8")
    assert read(path).data.shape == (2, 50)


def test_vhdr_identification_must_be_the_first_line(tmp_path):
    from ketephys import CorruptFileError

    rec = Recording(np.zeros((2, 50)), 100.0, ["a", "b"], ch_types=["eeg"] * 2)
    path = write(rec, tmp_path / "bv.vhdr")
    path.write_text("; a comment\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(CorruptFileError, match=r"bv\.vhdr: not a BrainVision header: the "
                                               r"first line is '; a comment'"):
        read(path)


@pytest.mark.parametrize("duration", [b"-1", b"nan", b"inf"])
def test_edf_record_duration_must_be_positive_and_finite(tmp_path, duration):
    """The record duration (header bytes 244-252, s) sets every signal's rate: one that is
    negative, NaN or infinite is a corrupt header, caught before MNE reads the file."""
    from ketephys import CorruptFileError

    rec = Recording(np.zeros((2, 500)), 100.0, ["a", "b"], ch_types=["eeg"] * 2)
    path = write(rec, tmp_path / "d.edf")
    raw = bytearray(path.read_bytes())
    raw[244:252] = duration.ljust(8)
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptFileError, match=rf"d\.edf: EDF record duration is "
                                               rf"'{duration.decode()}' s: it must be a "
                                               "positive, finite number of seconds"):
        read(path)
