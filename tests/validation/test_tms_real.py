"""The TMS-EEG pipeline on a real EEG recording with pulse times placed by the test.

There is no public TMS-EEG file with pulses (../shared/data/README.md), so real scalp EEG
(EEGLAB tutorial data, 32 channels, 128 Hz) gets "pulses" at jittered times: the whole
pipeline must run and, since nothing was evoked, report no significant TEP peak.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketephys import Recording
from ketephys.errors import AnalysisError
from ketephys.tms import analyse, clean, tep
from ketephys.tms.pulses import find_tms_pulses

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def eeglab_with_pulses(shared_file):
    mne = pytest.importorskip("mne")
    path = shared_file("eeg", "eeglab_data.set")
    raw = mne.io.read_raw_eeglab(path, preload=True, verbose=False)
    rec = Recording.from_mne(raw)
    rng = np.random.default_rng(7)
    onsets = 1.0 + np.cumsum(rng.uniform(2.0, 2.5, 200))
    onsets = onsets[onsets < rec.duration - 1.0]
    pulses = pd.DataFrame({"onset": onsets, "duration": 0.0, "description": "tms_pulse"})
    marked = rec.copy()
    marked.events = Recording(np.zeros((1, 1)), 1.0, ["x"], events=pd.concat(
        [rec.events, pulses], ignore_index=True)).events
    return rec, marked, onsets


def test_no_artifact_no_pulse_found(eeglab_with_pulses):
    rec, _, _ = eeglab_with_pulses
    # real EEG without TMS has no steep deflection on most channels at once
    with pytest.raises(AnalysisError, match="no TMS pulse"):
        find_tms_pulses(rec, method="artifact")


def test_pipeline_runs_and_reports_no_significant_peak(eeglab_with_pulses):
    _, rec, onsets = eeglab_with_pulses
    cleaned = clean(rec)
    steps = cleaned.settings
    assert steps["resample"]["skipped"] is True  # 128 Hz: nothing to downsample
    assert steps["lowpass"]["skipped"] is True  # 100 Hz is above Nyquist (64 Hz)
    assert cleaned.decay.corrected == []  # no TMS, no decay artifact: nothing subtracted
    res = tep(cleaned)
    assert res.n_trials == len(onsets)
    assert res.evoked.data.shape[0] == 32
    pk = res.peaks
    assert not pk["significant"].any(), pk[pk.significant]
    df = analyse(rec)
    assert df.loc[df.measure == "n_trials", "value"].item() == len(onsets)
    p2p = df[df.measure.isin(["p30_n45_amplitude", "n100_p180_amplitude"])]
    assert (p2p["qc_flags"] != "").all()  # every peak-to-peak is missing or not significant
    areas = df[df.measure.str.startswith("gmfp_area")]
    assert len(areas) == 3 and (areas["value"] > 0).all()
