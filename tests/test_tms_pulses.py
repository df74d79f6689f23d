"""TMS pulse finding: from the artifact, a trigger channel or annotations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketephys import Recording
from ketephys.errors import AnalysisError
from ketephys.simulate.tms import simulate_tms_eeg
from ketephys.tms.pulses import find_tms_pulses, mark_tms_pulses


@pytest.fixture(scope="module")
def sim():
    return simulate_tms_eeg(n_channels=16, n_trials=30, sfreq=5000.0, seed=11,
                            trigger_channel=True)


def _samples(frame, sfreq):
    return np.round(frame["onset"].to_numpy() * sfreq).astype(int)


def test_artifact_matches_truth_to_one_sample(sim):
    rec, truth = sim
    # small chunks: pulses straddling a chunk boundary are still found once
    found = find_tms_pulses(rec, method="artifact", chunk_seconds=7.3)
    assert found.attrs["pulse_source"] == "artifact"
    s = _samples(found, rec.sfreq)
    assert len(s) == len(truth.pulse_samples)
    assert np.abs(s - truth.pulse_samples).max() <= 1
    assert set(found["description"]) == {"tms_pulse"}


def test_trigger_channel_is_exact(sim):
    rec, truth = sim
    for kw in ({}, {"trigger_channel": "TRIG"}, {"method": "trigger", "chunk_seconds": 3.1}):
        found = find_tms_pulses(rec, **kw)
        assert found.attrs["pulse_source"] == "trigger"
        np.testing.assert_array_equal(_samples(found, rec.sfreq), truth.pulse_samples)


def test_annotations_and_min_interval():
    rec, truth = simulate_tms_eeg(n_channels=4, n_trials=6, sfreq=1000.0, seed=2,
                                  pulse_artifact=False, decay_artifact=False)
    ev = pd.DataFrame({"onset": list(truth.pulse_times) + [truth.pulse_times[2] + 0.1, 0.3],
                       "duration": 0.0,
                       "description": ["TMS"] * 6 + ["TMS", "button"]})
    rec.events = Recording(np.zeros((1, 1)), 1.0, ["x"], events=ev).events
    found = find_tms_pulses(rec)  # auto: descriptions containing "tms"
    assert found.attrs["pulse_source"] == "annotation"
    np.testing.assert_allclose(found["onset"], truth.pulse_times)  # the echo 100 ms later merged
    only_button = find_tms_pulses(rec, annotation="button", min_interval=0.01)
    np.testing.assert_allclose(only_button["onset"], [0.3])


def test_mark_tms_pulses_adds_events_without_touching_input(sim):
    rec, truth = sim
    before = rec.events.copy()
    marked = mark_tms_pulses(rec, method="artifact")
    pd.testing.assert_frame_equal(rec.events, before)
    pulses = marked.events[marked.events.description == "tms_pulse"]
    assert len(pulses) == len(truth.pulse_samples)
    assert str(marked.events["sweep"].dtype) == "Int64"
    # already marked: kept as they are
    again = mark_tms_pulses(marked)
    pd.testing.assert_frame_equal(again.events, marked.events)


def test_no_pulse_and_bad_input_raise():
    rng = np.random.default_rng(0)
    quiet = Recording(rng.standard_normal((8, 5000)) * 1e-5, 1000.0,
                      [f"E{i}" for i in range(8)], ch_types=["eeg"] * 8)
    with pytest.raises(AnalysisError, match="no TMS pulse"):
        find_tms_pulses(quiet)
    with pytest.raises(AnalysisError, match="method"):
        find_tms_pulses(quiet, method="magic")
    sweeps = Recording(np.zeros((2, 3, 100)), 1000.0, ["a", "b", "c"])
    with pytest.raises(AnalysisError, match="continuous"):
        find_tms_pulses(sweeps)
    flat = Recording(np.zeros((2, 100)), 1000.0, ["E", "T"], ch_types=["eeg", "stim"])
    with pytest.raises(AnalysisError, match="flat"):
        find_tms_pulses(flat)
