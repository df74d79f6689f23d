"""One result surface on every result: plot() -> Figure with labelled axes and units,
a short repr without arrays, to_data_frame() that holds the numbers of get_data(),
copy() independent of the original, pickling; plus the trust markers of decay fits."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ketephys import spectral, synaptic, tms
from ketephys.longitudinal import fit_decay
from ketephys.simulate.eeg import simulate_eeg
from ketephys.simulate.fepsp import simulate_fepsp_experiment, simulate_fepsp_io
from ketephys.simulate.markers import simulate_marker_study
from ketephys.simulate.patch import simulate_patch
from ketephys.simulate.tms import simulate_tms_eeg
from ketephys.spectral.coherence import cross_from_accumulated
from ketephys.spectral.fft import SpectralSettings, accumulate


@pytest.fixture(scope="module")
def eeg():
    rec, _ = simulate_eeg(n_channels=4, duration=20.0, sfreq=250.0, seed=0)
    return rec


@pytest.fixture(scope="module")
def tms_results():
    rec, _ = simulate_tms_eeg(n_channels=8, n_trials=20, sfreq=2000.0, seed=0)
    cleaned = tms.clean(rec)
    res = tms.tep(cleaned, tmin=-0.1, tmax=0.3, baseline=(-0.1, -0.01), n_permutations=0,
                  roi=cleaned.recording.ch_names[:3])
    return cleaned, res


def _spectrum(eeg, _):
    s = spectral.psd(eeg, fmax=60.0)
    back = s.to_data_frame().pivot(index="channel", columns="freq", values="psd")
    return s, s.get_data(), back.loc[s.ch_names].to_numpy(), lambda c: c.psd.__imul__(2)


def _cross(eeg, _):
    c = cross_from_accumulated(accumulate(eeg, SpectralSettings(), cross_band=(4.0, 8.0)))
    frame = c.to_data_frame("msc")
    n = len(c.ch_names)
    back = frame["value"].to_numpy().reshape(len(c.freqs), n, n)
    return c, c.get_data("msc"), back, lambda x: x.csd.__imul__(2)


def _tep(_, tms_results):
    res = tms_results[1]
    back = res.to_data_frame(long_format=False)[res.ch_names].to_numpy().T
    return res, res.get_data(), back, lambda x: x.evoked.data.__imul__(2)


def _clean(_, tms_results):
    res = tms_results[0]
    back = res.to_data_frame(stop=500).drop(columns="time").to_numpy().T
    return res, res.get_data(stop=500), back, lambda x: x.recording.data.__imul__(2)


def _bootstrap(_, tms_results):
    res = tms.bootstrap_measures(tms_results[1], tms_results[1].roi, n_boot=10)
    return res, res.get_data(), res.to_data_frame().to_numpy(), \
        lambda x: x.draws.iloc.__setitem__((0, 0), 1e9)


def _ltp(*_):
    rec, _ = simulate_fepsp_experiment(seed=1, n_baseline_min=10.0, n_post_min=60.0)
    res = synaptic.ltp(rec)
    tc = res.to_data_frame()
    return res, res.get_data(), tc[["bin_centre_min", "mean_pct", "sem_pct"]].to_numpy(), \
        lambda x: x.time_course.loc.__setitem__((0, "mean_pct"), -1.0)


def _psc(*_):
    rec, _ = simulate_patch(seed=1, n_sweeps=3, noise_sd=3e-12)
    res = synaptic.PSCResult.from_recording(rec)
    back = res.to_data_frame().pivot(index="sweep", columns="stimulus", values="amplitude")
    return res, res.get_data(), back.to_numpy(), lambda x: x.traces.__imul__(2)


def _io(*_):
    rec, _ = simulate_fepsp_io(seed=1)
    res = synaptic.io_curve(rec, intensity_unit="uA")
    back = res.to_data_frame()[["intensity", "mean", "sem"]].to_numpy()
    return res, res.get_data(), back, lambda x: x.curve.loc.__setitem__((0, "mean"), 9.0)


def _decay(*_):
    table, _ = simulate_marker_study(n_subjects=8, regions=("PFC", "HPC"), seed=3)
    res = fit_decay(table, ci="profile")
    back = res.to_data_frame()[["hours_since_dose", "value"]].to_numpy()
    return res, res.get_data(), back, lambda x: x.groups[0].data.y.__imul__(2)


CASES = {"Spectrum": _spectrum, "CrossSpectrum": _cross, "TEPResult": _tep,
         "CleanResult": _clean, "BootstrapMeasures": _bootstrap, "LTPResult": _ltp,
         "PSCResult": _psc, "IOCurve": _io, "DecayFit": _decay}


@pytest.fixture(scope="module", params=list(CASES))
def case(request, eeg, tms_results):
    return request.param, CASES[request.param](eeg, tms_results)


def test_plot_returns_a_labelled_figure_with_units(case):
    name, (res, *_rest) = case
    fig = res.plot(show=False)
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert axes, name
    for ax in axes:
        assert ax.get_ylabel() or ax.get_xlabel(), name
    labels = " ".join(ax.get_xlabel() + " " + ax.get_ylabel() for ax in fig.axes)
    assert "(" in labels, f"{name}: no unit in the axis labels: {labels}"
    titles = [ax.get_title() for ax in axes] + [fig._suptitle.get_text() if fig._suptitle
                                                else ""]
    assert any(titles), name


def test_repr_is_short_and_has_no_array(case):
    name, (res, *_rest) = case
    text = repr(res)
    assert text.startswith(f"<{name}"), text
    assert len(text) < 500 and "\n" not in text and "array(" not in text, text


def test_to_data_frame_holds_the_numbers_of_get_data(case):
    name, (res, data, back, _) = case
    assert isinstance(res.to_data_frame(), pd.DataFrame)
    np.testing.assert_allclose(np.asarray(back, float), np.asarray(data, float),
                               err_msg=name)


def test_copy_is_independent_and_results_pickle(case):
    name, (res, data, _, mutate) = case
    before = np.array(res.get_data(), copy=True)
    other = res.copy()
    assert type(other) is type(res)
    mutate(other)
    np.testing.assert_array_equal(res.get_data(), before, err_msg=name)
    again = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(again.get_data(), before)


def test_results_keep_no_samples_of_the_recording(eeg):
    s = spectral.psd(eeg)
    assert not hasattr(s.recording, "get_data")
    assert s.recording.meta is eeg.meta and s.recording.ch_names == eeg.ch_names
    assert len(pickle.dumps(s)) < 0.5 * eeg.get_data().nbytes


def test_summary_and_magnitude_are_methods_everywhere():
    rec, truth = simulate_fepsp_experiment(seed=1, n_baseline_min=10.0, n_post_min=60.0)
    res = synaptic.ltp(rec)
    assert isinstance(res.summary(), pd.DataFrame)
    assert res.magnitude() == res.summary().iloc[0]["ltp_magnitude_pct"]
    assert "LTPResult" in repr(res.magnitude)  # a bound method, printed short


def test_recording_plot_continuous_and_episodic(eeg):
    fig = eeg.plot(duration=5.0, show=False)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (s)" and "µV" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == eeg.ch_names
    rec, _ = simulate_patch(seed=1, n_sweeps=3)
    fig = rec.plot(show=False)
    assert fig.axes[0].get_ylabel().endswith("(pA)") or "A)" in fig.axes[0].get_ylabel()
    assert fig.axes[-1].get_xlabel() == "time in sweep (ms)"


@pytest.fixture(scope="module")
def not_identifiable():
    table, _ = simulate_marker_study("too_fast", n_subjects=20, regions=None, seed=5)
    fit = fit_decay(table, ci="profile")
    assert not fit.groups[0].identifiable
    return fit


def test_not_identifiable_plot_stays_within_the_data(not_identifiable):
    fit = not_identifiable
    fig = fit.plot(show=False)
    ax = fig.axes[0]
    y = fit.get_data()[:, 1]
    t = fit.get_data()[:, 0]
    lo, hi = ax.get_ylim()
    span = y.max() - y.min()
    assert y.min() - 0.1 * span <= lo <= y.min() and y.max() <= hi <= y.max() + 0.1 * span
    curve = [line for line in ax.get_lines() if "not identifiable" in str(line.get_label())]
    assert curve, [line.get_label() for line in ax.get_lines()]
    x = curve[0].get_xdata()
    assert x.min() >= t[t > 0].min() - 1e-9 and x.max() <= t.max() + 1e-9
    assert "not identifiable" in ax.get_title()


def test_summary_puts_trust_markers_first(not_identifiable):
    cols = list(not_identifiable.summary().columns)
    assert cols[1:3] == ["identifiable", "identifiability_reason"], cols


def test_forest_plot_draws_unidentifiable_taus_hollow(not_identifiable):
    table, _ = simulate_marker_study(n_subjects=8, regions=("PFC",), seed=3)
    good = fit_decay(table, ci="profile")
    both = good.copy()
    both.groups = good.groups + not_identifiable.groups
    both.key_names = ["region"]
    fig = both.plot_taus(show=False)
    ax = fig.axes[0]
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    faces = [line.get_markerfacecolor() for line in dots]
    assert faces.count("white") == 1 and len(dots) == 2
    assert any("not identifiable" in t.get_text() for t in ax.texts)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "tau (h), log scale"
