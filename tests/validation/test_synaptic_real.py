"""Synaptic analysers on real recordings from ../shared/data (skipped when absent)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ketephys
from ketephys.synaptic import analyse, fepsp, ltp, psc

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def read_real(shared_file):
    """``read_real("fepsp", "x.abf", **read_options)``: a real recording of
    ../shared/data read quietly (the test is skipped when the file is absent)."""
    def read_quietly(*parts, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ketephys.io.read(shared_file(*parts), **kw)

    return read_quietly


@pytest.mark.parametrize("measure", ["slope", "amplitude"])
def test_semi_real_ltp_scaled_fepsp_recovered(measure, read_real):
    """Real baseline sweeps; from sweep 120 on, the fEPSP of the even-sweep pathway (not the
    artifact, not the volley: samples before 9.0 ms are untouched, a 0.4 ms ramp then
    reaches the full factor) is scaled by 1.5 about each sweep's own pre-stimulus baseline."""
    rec = read_real("fepsp", "2022_07_01_0012.abf")
    assert rec.units == ["V"] and rec.ch_types == ["field"]
    y = rec.data[:, 0, :]
    t = rec.times
    factor = 1.5
    ramp = np.clip((t - 0.009) / 0.0004, 0, 1)
    base_idx = (t >= 0.0047) & (t < 0.0067)          # 2 ms before the 6.7 ms artifact
    post = np.arange(120, rec.n_sweeps, 2)            # even sweeps = one pathway
    base = y[post][:, base_idx].mean(axis=1, keepdims=True)
    scaled = y.copy()
    scaled[post] = base + (y[post] - base) * (1 + (factor - 1) * ramp)
    settings = dict(induction=299.0, baseline_minutes=5, window_minutes=(0, 5),
                    ptp_minutes=(0, 1), measure=measure)
    raw = ltp(rec, **settings)
    res = ltp(rec.copy(data=scaled[:, None, :]), **settings)
    # both pathways found from the data (even/odd responses differ), test = scaled one
    assert res.settings["pathway_method"] == "alternate"
    s = res.summary().set_index("pathway")
    s0 = raw.summary().set_index("pathway")
    assert s.loc["1", "role"] == "test"
    # the unscaled file is not exactly 100 % on these windows (real variability), so the
    # known truth is factor x its raw magnitude; stated tolerance 2 percentage points
    # (fixed cursors, the default: the error is < 0.01 pp for slope and amplitude)
    expected = factor * s0.loc["1", "ltp_magnitude_pct"]
    assert s.loc["1", "ltp_magnitude_pct"] == pytest.approx(expected, abs=2.0)
    assert res.settings["cursors"] == "fixed" and len(res.cursors) == 2
    assert s.loc["2", "ltp_magnitude_pct"] == pytest.approx(s0.loc["2", "ltp_magnitude_pct"],
                                                            abs=1e-9)
    # responses in the expected range: fEPSP ~ -0.2..-0.3 mV, slope ~ -0.1 mV/ms
    tab = fepsp(rec)
    assert -0.4e-3 < tab["amplitude"].median() < -0.15e-3
    assert -0.2 < tab["slope"].median() < -0.05
    np.testing.assert_allclose(tab["stim_time"], 0.0067, atol=1e-4)
    assert tab["flags"].str.contains("clipped_artifact").mean() > 0.5


def test_two_recording_electrodes_separate_pathways(read_real):
    rec = read_real("fepsp", "2022_01_24_0000.abf", units={"Ipatch": "mV"})
    res = ltp(rec, induction=300.0, baseline_minutes=5, window_minutes=(1, 5))
    assert res.settings["pathway_method"] == "responding_channel"
    sw = res.sweeps
    assert set(sw[sw["pathway"] == "Ipatch"]["sweep"] % 2) == {1}    # odd sweeps on ch0
    assert set(sw[sw["pathway"] == "Ipatch2"]["sweep"] % 2) == {0}   # even sweeps on ch1
    assert (sw.groupby("pathway").size() == 120).all()
    # no induction in this file: both pathways stay near baseline
    assert res.summary()["ltp_magnitude_pct"].between(80, 110).all()
    tab = fepsp(rec)
    on = tab[(tab["channel"] == "Ipatch") & (tab["sweep"] % 2 == 1)]
    off = tab[(tab["channel"] == "Ipatch") & (tab["sweep"] % 2 == 0)]
    assert on["amplitude"].abs().median() > 5 * off["amplitude"].abs().median()


@pytest.mark.parametrize("name", ["example2_001.wcp", "example2_002.wcp"])
def test_in_vivo_trains_five_responses(name, read_real):
    rec = read_real("fepsp", name)
    tab = fepsp(rec)
    counts = tab.groupby("sweep")["stimulus"].max()
    assert (counts == 5).all() and len(counts) == rec.n_sweeps
    # 50 Hz: stimuli 20 ms apart
    gaps = tab.sort_values(["sweep", "stimulus"]).groupby("sweep")["stim_time"].diff().dropna()
    np.testing.assert_allclose(gaps, 0.02, atol=5e-4)
    amp = tab["amplitude"].abs()
    assert amp.between(0.1e-3, 2e-3).mean() > 0.9


def test_in_vivo_isoflurane_larger_than_awake(read_real):
    awake = fepsp(read_real("fepsp", "example2_001.wcp"))
    iso = fepsp(read_real("fepsp", "example2_002.wcp"))
    assert iso["amplitude"].abs().mean() > 1.5 * awake["amplitude"].abs().mean()
    assert iso["slope"].abs().mean() > awake["slope"].abs().mean()


def test_patch_f1_five_depressing_epscs(read_real):
    rec = read_real("patch", "f1.abf")
    tab = psc(rec)
    assert tab["channel"].iloc[0] == "CH1" and (tab["unit"] == "A").all()
    counts = tab.groupby("sweep")["stimulus"].max()
    assert (counts == 5).all()
    np.testing.assert_allclose(tab[tab["stimulus"] == 1]["stim_time"], 0.1642, atol=2e-4)
    amp = tab.groupby("stimulus")["amplitude"].mean()
    assert (amp < 0).all()                      # inward EPSCs
    assert amp[2] / amp[1] < 1                   # paired-pulse depression
    assert amp[5] / amp[1] < 0.6                 # the train depresses
    assert -60e-12 < tab["holding"].mean() < -20e-12
    ft = analyse(rec).set_index("measure")
    assert ft.loc["ppr", "value"] < 1
    responding = tab[~tab["flags"].str.contains("no_response") & (tab["stimulus"] == 1)]
    assert ft.loc["epsc_amplitude", "value"] == pytest.approx(responding["amplitude"].mean())


def test_analyse_real_slice_without_induction(read_real):
    rec = read_real("fepsp", "2022_07_01_0012.abf")
    ft = analyse(rec)
    assert (ft["modality"] == "fepsp").all()
    v = ft.set_index("measure")["value"]
    assert -0.2 < v["fepsp_slope_mean"] < -0.05          # V/s (= mV/ms)
    assert "ltp_magnitude_pct" not in v.index              # no pause, no train: no LTP


# brainwash 0.16.3 (analysis_v3.find_events/build_dfoutput) run on this file split into
# even/odd sweeps, as its users analyse two alternating pathways: cursor times (s from the
# stimulus at 6.7 ms) and mean per-sweep values (its sign: positive = negative-going)
_BRAINWASH_0012 = {
    "even": dict(volley_trough=2.0e-3, slope_start=2.9e-3, amplitude_time=5.9e-3,
                 EPSP_amp=0.000214, EPSP_slope=0.126158),
    "odd": dict(volley_trough=2.5e-3, slope_start=3.3e-3, amplitude_time=6.6e-3,
                EPSP_amp=0.000265, EPSP_slope=0.123950),
}


def test_brainwash_definitions_reproduce_brainwash_on_0012(read_real):
    rec = read_real("fepsp", "2022_07_01_0012.abf")
    tab = fepsp(rec, definitions="brainwash")
    cur = tab.attrs["cursors"].set_index("group")
    assert set(cur.index) == {"even", "odd"}   # two pathways found from the data
    for group, ref in _BRAINWASH_0012.items():
        for key in ("volley_trough", "slope_start", "amplitude_time"):
            # brainwash's own times, to the sample (0.1 ms)
            assert cur.loc[group, key] == pytest.approx(ref[key], abs=1e-5)
        rows = tab[tab["cursor_group"] == group]
        # mean agreement with brainwash's numbers: within 3 % (stated target)
        assert -rows["amplitude"].mean() == pytest.approx(ref["EPSP_amp"], rel=0.03)
        assert -rows["slope"].mean() == pytest.approx(ref["EPSP_slope"], rel=0.03)


def _cv(v):
    v = np.asarray(v, float)
    return float(np.std(v) / abs(np.mean(v)))


@pytest.mark.parametrize("name,pathways", [
    ("2022_07_01_0012.abf", {"Ipatch": (0, 1)}),
    ("2022_01_24_0000.abf", {"Ipatch": (1,), "Ipatch2": (0,)}),   # responding parity
])
def test_fixed_cursors_no_noisier_than_per_sweep(name, pathways, read_real):
    rec = read_real("fepsp", name, units={"Ipatch": "mV"})
    per = fepsp(rec, cursors="per-sweep")
    fix = fepsp(rec, cursors="fixed")
    for ch, parities in pathways.items():
        for par in parities:
            sel = [(t["channel"] == ch) & (t["sweep"] % 2 == par) for t in (per, fix)]
            p, f = per[sel[0]], fix[sel[1]]
            # 20-80 % slope: sweep-to-sweep CV no higher (measured 0.11-0.22 vs 0.12-0.38)
            assert _cv(f["slope"]) <= _cv(p["slope"])
            # amplitude: the SD is no higher; the CV within 10 %, because the per-sweep
            # peak is pulled up by each sweep's noise (+8-12 % on these files), which
            # shrinks its CV without making it less noisy
            assert np.std(f["amplitude"]) <= np.std(p["amplitude"])
            assert _cv(f["amplitude"]) <= 1.1 * _cv(p["amplitude"])


def test_window_slope_placed_per_pathway_second_pathway_as_quiet(read_real):
    # the 1 ms window starts at the foot of the rise of each pathway's mean sweep; the
    # second pathway's double volley used to misplace it sweep by sweep (CV 0.65 vs 0.23)
    rec = read_real("fepsp", "2022_07_01_0012.abf")
    tab = fepsp(rec, slope="window")
    cv = {par: _cv(tab[tab["sweep"] % 2 == par]["slope"]) for par in (0, 1)}
    assert max(cv.values()) <= 1.5 * min(cv.values())
    starts = (tab["slope_start"] - tab["stim_time"]).round(6).groupby(tab["sweep"] % 2)
    assert (starts.nunique() == 1).all()
