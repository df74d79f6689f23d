"""Time-resolved output equals the whole-recording computation on each window."""

from __future__ import annotations

import numpy as np
import pytest

import ketephys.spectral as ks
from ketephys.errors import AnalysisError, SettingsError
from ketephys.recording import Recording
from ketephys.simulate.eeg import simulate_eeg


@pytest.fixture(scope="module")
def rec():
    return simulate_eeg(3, 95, 250.0, seed=21)[0]


@pytest.mark.parametrize("step", [None, 10.0])
def test_band_power_windows_equal_whole_computation(rec, step):
    tc = ks.band_power_timecourse(rec, "gamma", window_s=30.0, step_s=step)
    starts = sorted(tc["window_start"].unique())
    assert starts == ([0.0, 30.0, 60.0] if step is None else
                      [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    for w0 in starts:
        i0, i1 = int(w0 * 250), int((w0 + 30) * 250)
        crop = Recording(rec.data[:, i0:i1], 250.0, rec.ch_names, ch_types=rec.ch_types)
        whole = ks.band_power(crop, "gamma").value.to_numpy()
        got = tc[tc.window_start == w0].value.to_numpy()
        np.testing.assert_allclose(got, whole, rtol=1e-12)


def test_coherence_windows_equal_whole_computation(rec):
    tc = ks.coherence_timecourse(rec, "theta", window_s=45.0, measure="wpli")
    for w0 in (0.0, 45.0):
        i0, i1 = int(w0 * 250), int((w0 + 45) * 250)
        crop = Recording(rec.data[:, i0:i1], 250.0, rec.ch_names, ch_types=rec.ch_types)
        whole = ks.coherence(crop, "theta", measure="wpli").value.to_numpy()
        np.testing.assert_allclose(tc[tc.window_start == w0].value, whole, rtol=1e-12)
    assert set(tc["measure"]) == {"theta_wpli"}


def test_window_errors(rec):
    with pytest.raises(AnalysisError, match="longer than"):
        ks.band_power_timecourse(rec, window_s=1000.0)
    with pytest.raises(AnalysisError, match="step"):
        ks.band_power_timecourse(rec, window_s=10.0, step_s=0.0)


def test_fully_rejected_window_is_flagged():
    r, _ = simulate_eeg(2, 60, 250.0, seed=22)
    r.events = r.events.iloc[0:0]
    import pandas as pd
    r.events = pd.DataFrame({"onset": [0.0], "duration": [31.0], "description": ["BAD_x"],
                             "sweep": pd.array([pd.NA], dtype="Int64")})
    tc = ks.spectral_timecourse(r, window_s=30.0, coherence_band=None)
    first = tc[tc.window_start == 0.0]
    assert len(first) == 1 and first["qc_flags"].iloc[0] == "all_segments_rejected"
    assert (tc[tc.window_start == 30.0]["measure"] == "gamma_power").all()


@pytest.mark.parametrize("func", [ks.band_power_timecourse, ks.coherence_timecourse,
                                  ks.spectral_timecourse])
@pytest.mark.parametrize("old, new", [("window", "window_s"), ("step", "step_s")])
def test_former_window_names_say_their_new_names(rec, func, old, new):
    # ``window`` is only the spectral taper now: the time window is window_s/step_s
    with pytest.raises(SettingsError, match=rf"'{old}' of {func.__name__}\(\) was renamed "
                                            rf"'{new}'"):
        func(rec, **{old: 30.0})
