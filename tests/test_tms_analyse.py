"""Batch summary, pre/post comparison and TMS-evoked oscillations."""

from __future__ import annotations

import numpy as np
import pytest

from ketephys.errors import SettingsError
from ketephys.features import FEATURE_COLUMNS
from ketephys.simulate.tms import simulate_tms_eeg
from ketephys.tms import analyse, clean, compare, evoked_oscillations, tep
from ketephys.tms.gmfp import area

ROI = ["C3", "FC1", "FC5"]


@pytest.fixture(scope="module")
def pair():
    meta = {"subject": "s1", "session": "pre", "dose_mg_per_kg": 0.5}
    pre, t_pre = simulate_tms_eeg(n_channels=12, n_trials=60, sfreq=1000.0, seed=21, meta=meta)
    post, t_post = simulate_tms_eeg(n_channels=12, n_trials=60, sfreq=1000.0, seed=22,
                                    excitability_scale=1.6, meta={**meta, "session": "post"})
    return pre, t_pre, post, t_post


def test_analyse_rows(pair):
    pre, truth, _, _ = pair
    df = analyse(pre, roi=ROI, peak_channels=["C3"])
    assert list(df.columns[: len(FEATURE_COLUMNS)]) == list(FEATURE_COLUMNS)
    assert set(df["modality"]) == {"tms-eeg"} and set(df["subject"]) == {"s1"}
    assert df["settings_hash"].nunique() == 1
    m = df.set_index(["measure", "channel"])["value"]
    for name in ("gmfp_area_15_60", "gmfp_area_60_140", "gmfp_area_140_250"):
        assert m[(name, "GMFP")] > 0
    assert df.loc[df.measure == "n_trials", "value"].item() == 60
    # peak-to-peak from the peaks table of the same TEP
    res = tep(clean(pre), roi=ROI)
    p30 = res.peak("P30", "C3").amplitude
    n45 = res.peak("N45", "C3").amplitude
    assert m[("p30_n45_amplitude", "C3")] == pytest.approx(p30 - n45)
    assert m[("gmfp_area_60_140", "GMFP")] == pytest.approx(
        float(area(res.gmfp, res.times, 0.060, 0.140)))
    # and near the simulated truth (P30 - N45 at C3 = 6 + 8 uV)
    lat30, a30 = truth.component_at("P30", "C3")
    lat45, a45 = truth.component_at("N45", "C3")
    assert m[("p30_n45_amplitude", "C3")] == pytest.approx(a30 - a45, rel=0.10)
    assert (df.loc[df.measure == "p30_latency", "unit"] == "ms").all()


def test_analyse_flags_missing_peaks():
    rec, _ = simulate_tms_eeg(n_channels=8, n_trials=30, sfreq=1000.0, seed=3, components=[])
    df = analyse(rec, peak_channels=["C3"], tep_options={"n_permutations": 200})
    p2p = df[df.measure.isin(["p30_n45_amplitude", "n100_p180_amplitude"])]
    # with no TEP, any peak-to-peak is either missing or flagged not significant, never clean
    assert (p2p["qc_flags"] != "").all()
    missing = p2p["qc_flags"].str.contains("peak_not_found")
    assert p2p.loc[missing, "value"].isna().all()
    assert p2p.loc[~missing, "value"].notna().all()


def test_compare_pre_post(pair):
    pre, _, post, _ = pair
    out = compare(pre, post, roi=ROI, n_boot=150, ci=0.99, seed=1)
    assert list(out.measure) == ["gmfp_area_15_60", "gmfp_area_60_140", "gmfp_area_140_250",
                                 "p30_n45_amplitude", "n100_p180_amplitude"]
    for r in out.itertuples():
        # a change is detected (no change, ratio 1, is outside the CI) and the ratio is near
        # the simulated 1.6 (99 % CIs); GMFP is a standard deviation, so residual noise adds to it in
        # quadrature and pulls GMFP ratios a little towards 1 (not a sampling error the CI
        # covers), while peak-to-peak amplitudes are unbiased and their CI covers 1.6
        assert r.ratio_ci_low > 1.0, r
        assert r.ratio_ci_low <= r.ratio <= r.ratio_ci_high
        if r.measure.startswith("gmfp"):
            assert abs(r.ratio / 1.6 - 1) <= 0.10, r
        else:
            assert r.ratio_ci_low <= 1.6 <= r.ratio_ci_high, r
        assert r.difference_ci_low > 0
        assert r.pre_ci_low <= r.pre <= r.pre_ci_high
    assert (out.n_trials_pre == 60).all() and (out.n_boot == 150).all()


def test_evoked_oscillation_natural_frequency_and_mne():
    from mne.time_frequency import tfr_array_morlet

    rec, _ = simulate_tms_eeg(n_channels=8, n_trials=40, sfreq=1000.0, seed=4, components=[],
                              oscillation=(20.0, 6e-6))
    cleaned = clean(rec)
    freqs = np.arange(6.0, 41.0, 2.0)
    res = evoked_oscillations(cleaned, freqs=freqs, roi=["C3", "FC1"])
    assert res.natural_frequency["C3"] == pytest.approx(20.0, abs=2.0)
    assert res.natural_frequency["ROI"] == pytest.approx(20.0, abs=2.0)
    bands = res.bands[res.bands.channel == "C3"].set_index("band")["value"]
    assert bands["beta"] > 3.0  # dB above baseline
    assert bands["beta"] > bands["theta"] and bands["beta"] > bands["gamma"]
    # the dB map is MNE's trial-averaged Morlet power over the same epochs, baseline ratio
    from ketephys.tms import epoch_pulses
    from ketephys.tms.clean import pulse_onsets

    rec_c = cleaned.recording
    ep, times, _, _ = epoch_pulses(rec_c, pulse_onsets(rec_c), -1.0, 1.0, None)
    cyc = np.maximum(3.0, freqs / 2)
    p = tfr_array_morlet(ep, rec_c.sfreq, freqs, n_cycles=cyc, output="avg_power",
                         verbose=False)
    keep = (times >= -0.5 - 1e-9) & (times <= 0.5 + 1e-9)
    p = p[:, :, keep]
    base = (times[keep] >= -0.4 - 1e-9) & (times[keep] <= -0.1 + 1e-9)
    db = 10 * np.log10(p / p[:, :, base].mean(axis=2, keepdims=True))
    np.testing.assert_allclose(res.power_db, db, rtol=1e-10, atol=1e-10)


def test_oscillation_summary_span_is_no_longer_called_window():
    # ``window`` means only the spectral taper in ketephys: the post-pulse span averaged
    # for the band summaries is ``summary_s``
    rec, _ = simulate_tms_eeg(n_channels=4, n_trials=5, sfreq=1000.0, seed=4, components=[])
    with pytest.raises(SettingsError, match="'window' of evoked_oscillations\\(\\) was "
                                            "renamed 'summary_s'"):
        evoked_oscillations(rec, window=(0.02, 0.3))
