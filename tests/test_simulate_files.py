"""Simulated recordings written to real file formats read back as they were simulated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ketephys
from ketephys.io import write
from ketephys.simulate import simulate_fepsp_experiment, simulate_patch, simulate_tms_eeg


def _same_recording(back, rec):
    assert back.ch_names == rec.ch_names and back.units == rec.units
    assert back.sfreq == rec.sfreq and back.data.shape == rec.data.shape


@pytest.mark.parametrize("ext", [".nwb", ".npz"])
def test_fepsp_experiment_reads_back_exactly(tmp_path, ext):
    rec, _ = simulate_fepsp_experiment(n_baseline_min=2.0, n_post_min=2.0, seed=4,
                                       meta={"subject": "r1", "region": "HPC"})
    write(rec, tmp_path / f"slice{ext}")
    back = ketephys.read(tmp_path / f"slice{ext}")
    _same_recording(back, rec)
    np.testing.assert_array_equal(back.data, rec.data)
    np.testing.assert_array_equal(back.sweep_starts, rec.sweep_starts)  # real gaps kept
    assert back.meta.subject == "r1" and back.meta.region == "HPC"


def test_patch_recording_reads_back_exactly(tmp_path):
    rec, _ = simulate_patch(n_sweeps=3, seed=5)
    write(rec, tmp_path / "cell.nwb")
    back = ketephys.read(tmp_path / "cell.nwb")
    _same_recording(back, rec)
    np.testing.assert_array_equal(back.data, rec.data)
    assert back.ch_types == rec.ch_types


def test_tms_eeg_reads_back_with_its_pulses(tmp_path):
    rec, truth = simulate_tms_eeg(n_channels=4, n_trials=5, sfreq=2000.0, seed=6)
    write(rec, tmp_path / "tms.fif")
    back = ketephys.read(tmp_path / "tms.fif", modality="tms-eeg")
    _same_recording(back, rec)
    np.testing.assert_array_equal(back.data, rec.data)  # FIF written in double precision
    pulses = back.events[back.events["description"] == "tms_pulse"]["onset"].to_numpy()
    expected = np.asarray(truth.pulse_samples) / rec.sfreq
    assert len(pulses) == len(expected)
    np.testing.assert_allclose(np.sort(pulses), expected, atol=1.0 / rec.sfreq)
    assert isinstance(back.events, pd.DataFrame)
