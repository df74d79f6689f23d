"""The Recording container, its metadata and its MNE/Neo bridges."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from ketephys import KetephysError, MetadataError, Recording, StudyMeta, UnitError
from ketephys.units import si_scale


@pytest.fixture
def continuous() -> Recording:
    rng = np.random.default_rng(0)
    return Recording.from_array(
        rng.standard_normal((3, 2000)), 500.0, ["Fz", "CA1", "Ipatch"],
        units=["uV", "mV", "pA"], ch_types=["eeg", "lfp", "im"],
        events={"onset": [0.1, 1.5], "duration": [0.0, 0.25], "description": ["tms_pulse", "BAD"]},
        meta={"subject": "s01", "region": "PFC", "dose_mg_per_kg": 0.5,
              "hours_since_dose": -1, "sex": "F"})


@pytest.fixture
def episodic() -> Recording:
    rng = np.random.default_rng(1)
    return Recording.from_array(
        rng.standard_normal((4, 2, 300)), 10_000.0, ["Vm", "Im"], units=["mV", "pA"],
        ch_types=["vm", "im"], sweep_starts=[0.0, 2.5, 5.0, 12.5],
        events={"onset": [0.0066, 0.0066], "sweep": [0, 3], "description": ["stim", "stim"]})


def test_units_convert_to_si(continuous):
    raw = np.random.default_rng(0).standard_normal((3, 2000))
    np.testing.assert_allclose(continuous.data[0], raw[0] * 1e-6, rtol=0, atol=0)
    np.testing.assert_allclose(continuous.data[1], raw[1] * 1e-3, rtol=0, atol=0)
    np.testing.assert_allclose(continuous.data[2], raw[2] * 1e-12, rtol=0, atol=0)
    assert continuous.units == ["V", "V", "A"]


@pytest.mark.parametrize("unit,base,factor", [
    ("mV", "V", 1e-3), ("mv", "V", 1e-3), ("µV", "V", 1e-6), ("uV", "V", 1e-6),
    ("pA", "A", 1e-12), ("nA", "A", 1e-9), ("MOhm", "Ohm", 1e6), ("dimensionless", "", 1.0)])
def test_si_scale(unit, base, factor):
    assert si_scale(unit) == (base, pytest.approx(factor, rel=1e-15))


def test_unknown_unit_is_an_error():
    with pytest.raises(UnitError, match="furlong"):
        Recording.from_array(np.zeros((1, 10)), 100.0, units="furlong")


@pytest.mark.parametrize("sfreq", [0, -5, float("nan"), "fast"])
def test_bad_sampling_rate(sfreq):
    with pytest.raises(MetadataError, match="sampling rate"):
        Recording(np.zeros((1, 10)), sfreq, ["a"])


def test_non_monotonic_sweep_starts_named():
    with pytest.raises(MetadataError, match="sweep 2 starts at 1"):
        Recording(np.zeros((3, 1, 10)), 100.0, ["a"], sweep_starts=[0.0, 2.0, 1.0])


def test_mne_round_trip_exact(continuous):
    back = Recording.from_mne(continuous.to_mne())
    assert np.array_equal(back.data, continuous.data)
    assert back.ch_names == continuous.ch_names
    assert back.ch_types == continuous.ch_types
    assert back.units == continuous.units
    assert back.sfreq == continuous.sfreq
    pd.testing.assert_frame_equal(back.events, continuous.events)
    assert back.meta.to_dict() == continuous.meta.to_dict()


def test_mne_round_trip_episodic(episodic):
    epochs = episodic.to_mne()
    assert len(epochs) == 4
    back = Recording.from_mne(epochs)
    assert np.array_equal(back.data, episodic.data)
    np.testing.assert_array_equal(back.sweep_starts, episodic.sweep_starts)
    pd.testing.assert_frame_equal(back.events, episodic.events)


def test_to_mne_units_for_misc_channels(continuous):
    from mne.io.constants import FIFF

    raw = continuous.to_mne()
    assert raw.get_channel_types() == ["eeg", "seeg", "misc"]
    assert raw.info["chs"][2]["unit"] == FIFF.FIFF_UNIT_A


@pytest.mark.parametrize("fixture", ["continuous", "episodic"])
def test_neo_round_trip_exact(fixture, request):
    rec = request.getfixturevalue(fixture)
    block = rec.to_neo()
    assert len(block.segments) == rec.n_sweeps
    back = Recording.from_neo(block)
    assert np.array_equal(back.data, rec.data)
    assert back.ch_names == rec.ch_names and back.units == rec.units
    assert back.ch_types == rec.ch_types and back.sfreq == rec.sfreq
    pd.testing.assert_frame_equal(back.events, rec.events)
    if rec.is_episodic:
        np.testing.assert_array_equal(back.sweep_starts, rec.sweep_starts)


def test_neo_unit_override():
    import neo
    import quantities as pq

    seg = neo.Segment()
    seg.analogsignals.append(neo.AnalogSignal(np.ones((5, 1)) * 2.0, units="pA",
                                              sampling_rate=1 * pq.kHz, name="Ipatch"))
    block = neo.Block()
    block.segments.append(seg)
    assert Recording.from_neo(block).units == ["A"]
    rec = Recording.from_neo(block, units={"Ipatch": "mV"})
    assert rec.units == ["V"]
    np.testing.assert_allclose(rec.data, 2e-3)


def test_get_data_and_chunks(continuous):
    np.testing.assert_array_equal(continuous.get_data("CA1", 10, 20), continuous.data[1:2, 10:20])
    np.testing.assert_array_equal(continuous.get_data("eeg"), continuous.data[:1])
    blocks = list(continuous.iter_chunks(1.0))
    assert [s for s, _ in blocks] == [0, 500, 1000, 1500]
    np.testing.assert_array_equal(np.hstack([b for _, b in blocks]), continuous.data)


def test_lazy_mne_raw_is_not_loaded(tmp_path, continuous):
    import mne

    fname = tmp_path / "x_raw.fif"
    continuous.to_mne().save(fname, verbose=False)
    raw = mne.io.read_raw_fif(fname, preload=False, verbose=False)
    rec = Recording.from_mne(raw)
    assert rec.is_lazy
    np.testing.assert_allclose(rec.get_data([0], 100, 200), continuous.data[:1, 100:200],
                               rtol=1e-6)  # FIF stores float32
    assert rec.is_lazy


def test_quality_flags():
    data = np.vstack([np.ones(100), np.full(100, np.nan), np.arange(100.0)])
    flags = Recording(data, 100.0, ["flat", "nan", "ok"]).quality_flags()
    assert flags == {"flat": ["flat"], "nan": ["all_nan"]}


def test_metadata_merge_reports_conflicts():
    meta = StudyMeta.from_sources([
        ("keyword", {"subject": "s01", "dose_mg_per_kg": "0.5"}),
        ("sidecar", {"subject": "s02", "region": "HPC", "hours_since_dose": "24h"}),
    ])
    assert meta.subject == "s01" and meta.region == "HPC" and meta.hours_since_dose == 24.0
    assert meta.sources["subject"] == "keyword" and meta.sources["region"] == "sidecar"
    assert meta.conflicts == ["subject: 's01' from keyword kept over 's02' from sidecar"]


@pytest.mark.parametrize("field,value", [("dose_mg_per_kg", "lots"), ("infusion", 0),
                                         ("infusion", 1.5), ("dose_mg_per_kg", -1)])
def test_metadata_types_validated(field, value):
    with pytest.raises(MetadataError, match=field):
        StudyMeta.from_sources([("manifest", {field: value})])


def test_errors_pickle_with_path():
    err = KetephysError("truncated", "/data/x.abf")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == "/data/x.abf: truncated" and back.path == "/data/x.abf"


def test_recording_pickles(episodic):
    back = pickle.loads(pickle.dumps(episodic))
    assert np.array_equal(back.data, episodic.data)


def test_read_and_from_mne_are_one_conversion(tmp_path):
    """A FIF that MNE wrote (no ketephys note) gives the same channels, types, units,
    samples and events through read() and Recording.from_mne (ketephys._mne)."""
    import mne

    import ketephys

    rng = np.random.default_rng(3)
    info = mne.create_info(["Cz", "EOG", "CA1", "aux"], 250.0,
                           ["eeg", "eog", "seeg", "misc"], verbose=False)
    raw = mne.io.RawArray(rng.standard_normal((4, 1000)) * 1e-5, info, verbose=False)
    raw.set_annotations(mne.Annotations([0.5, 2.0], [0.0, 0.3], ["stim", "BAD_x"]))
    path = tmp_path / "x_raw.fif"
    raw.save(path, verbose=False)

    by_hand = Recording.from_mne(mne.io.read_raw_fif(path, verbose=False))
    read = ketephys.read(path, rename=False, bids=False, quality=False)
    assert read.ch_types == by_hand.ch_types == ["eeg", "eog", "lfp", "misc"]
    assert read.units == by_hand.units == ["V", "V", "V", ""]
    np.testing.assert_array_equal(read.get_data(), by_hand.get_data())
    pd.testing.assert_frame_equal(read.events, by_hand.events)
    assert by_hand.events["description"].tolist() == ["stim", "BAD_x"]


def test_events_are_written_out_one_way(continuous, episodic):
    """The sidecar and the MNE/Neo note serialise events with one function
    (ketephys._events.event_columns), and reading the columns back gives the table."""
    from ketephys._bridge import read_note, write_note
    from ketephys._events import as_event_frame, event_columns
    from ketephys.io.sidecar import recording_sidecar

    for rec in (continuous, episodic):
        columns = event_columns(rec.events)
        assert recording_sidecar(rec)["events"] == columns
        assert read_note(write_note(rec, with_events=True))["events"] == columns
        pd.testing.assert_frame_equal(as_event_frame(columns, None), rec.events)
    assert event_columns(continuous.events)["sweep"] == [None, None]
    assert read_note("not a ketephys note") == {}
