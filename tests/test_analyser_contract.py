"""The analyser contract: one modality on the recording, one channel rule, one band table,
one settings declaration per analyser, one unit convention (issue "Same numbers
everywhere")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import ketephys
from ketephys import spectral, synaptic, tms
from ketephys.errors import AnalysisError, ConfigError, MetadataError, SettingsError
from ketephys.features import check_unit, feature_table
from ketephys.recording import Recording, infer_modality
from ketephys.simulate import simulate_eeg, simulate_fepsp_experiment, simulate_lfp

NON_SIGNAL = {"stim", "misc", "eog", "ecg", "emg"}


# ----------------------------------------------------------------------- modality & labels
def test_modality_inference_rule():
    assert infer_modality(["eeg", "eog"], episodic=False) == "eeg"
    assert infer_modality(["lfp", "eeg"], episodic=False) == "lfp"
    assert infer_modality(["field", "misc"], episodic=True) == "fepsp"
    assert infer_modality(["im", "vm"], episodic=True) == "patch"
    assert infer_modality(["misc"], episodic=False) is None


def test_modality_kept_by_pick_copy_and_bridges():
    rec = Recording.from_array(np.random.default_rng(0).normal(size=(3, 500)), 250.0,
                               ["a", "b", "c"], ch_types=["eeg", "eeg", "stim"],
                               modality="tms-eeg", meta={"subject": "01"})
    assert rec.modality == "tms-eeg"
    assert rec.pick(["a", "b"]).modality == "tms-eeg"
    assert rec.copy().modality == "tms-eeg"
    assert Recording.from_mne(rec.to_mne()).modality == "tms-eeg"
    assert Recording.from_neo(rec.to_neo()).modality == "tms-eeg"
    with pytest.raises(SettingsError, match="did you mean 'eeg'"):
        rec.modality = "eg"


def test_labels_change_only_through_validating_setters():
    rec = Recording.from_array(np.zeros((2, 100)) + np.arange(100), 100.0, ["a", "b"],
                               ch_types=["eeg", "eeg"])
    with pytest.raises(SettingsError, match="channel type must be one of"):
        rec.ch_types = ["bogus", "eeg"]
    with pytest.raises(MetadataError, match="set_channel_types"):
        rec.ch_types[0] = "eog"
    with pytest.raises(MetadataError, match="not an SI base unit"):
        rec.units = ["mV", "V"]
    with pytest.raises(MetadataError, match="set_units"):
        rec.units.append("V")
    with pytest.raises(MetadataError, match="no channel"):
        rec.set_channel_types({"z": "eog"})
    rec.set_channel_types({"b": "eog"})
    assert rec.ch_types == ["eeg", "eog"] and rec.default_picks() == [0]


def test_pick_copies_metadata():
    rec = Recording.from_array(np.ones((2, 10)), 10.0, ["a", "b"], meta={"subject": "01"})
    sub = rec.pick(["a"])
    sub.meta.subject = "02"
    assert rec.meta.subject == "01"


# ----------------------------------------------------------------------- default channels
def _eeg_with_aux(seed: int = 0) -> Recording:
    rec, _ = simulate_eeg(4, 20, 250.0, seed=seed)
    rng = np.random.default_rng(seed)
    aux = np.vstack([rng.normal(0, 1e-3, rec.n_times), rng.normal(0, 1e-4, rec.n_times),
                     (np.arange(rec.n_times) % 250 == 0).astype(float)])
    return Recording(np.vstack([rec.data, aux]), rec.sfreq, [*rec.ch_names, "EOG", "ECG",
                     "TRIG"], ch_types=[*rec.ch_types, "eog", "ecg", "stim"],
                     units=[*rec.units, "V", "V", ""], modality="eeg")


def test_script_calls_use_only_the_modality_channels():
    rec = _eeg_with_aux()
    signal = {c for c, t in zip(rec.ch_names, rec.ch_types) if t == "eeg"}
    gamma = spectral.band_power(rec, band="gamma")
    theta = spectral.coherence(rec, band="theta", pairs="all")
    batch = spectral.analyse(rec, aperiodic=None)
    assert set(gamma.channel) == signal
    assert {c for r in theta.itertuples() for c in (r.ch_a, r.ch_b)} == signal
    per_channel = batch[batch.channel.isin(signal)]
    assert set(batch.channel) - {"mean"} - set(per_channel.channel) == {
        f"{a}-{b}" for a, b in zip(theta.ch_a, theta.ch_b)}
    # the same numbers through both doors (1e-12)
    merged = gamma.merge(batch[batch.measure == "gamma_power"], on="channel")
    np.testing.assert_allclose(merged.value_x, merged.value_y, rtol=1e-12)
    merged = theta.merge(batch[batch.measure == "theta_msc"], on="channel")
    assert len(merged) == len(theta)
    np.testing.assert_allclose(merged.value_x, merged.value_y, rtol=1e-12)


def test_no_signal_channel_says_what_the_recording_has():
    rec = Recording.from_array(np.ones((1, 1000)), 100.0, ["TRIG"], ch_types=["stim"],
                               modality="eeg")
    with pytest.raises(AnalysisError, match=r"TRIG \(stim\)"):
        spectral.psd(rec)


# ----------------------------------------------------------------------- bands per modality
def test_theta_resolves_per_modality():
    assert spectral.resolve_band("theta", "eeg")[1:] == (4.0, 8.0)
    assert spectral.resolve_band("theta", "lfp")[1:] == (6.0, 10.0)
    assert spectral.resolve_band("theta")[1:] == (4.0, 8.0)
    with pytest.raises(AnalysisError, match="did you mean 'gamma'"):
        spectral.resolve_band("gama")


def test_lfp_theta_row_carries_rodent_edges_and_eeg_the_human_ones():
    lfp, _ = simulate_lfp(2, 30, 500.0, seed=2)
    eeg, _ = simulate_eeg(2, 30, 500.0, seed=2)
    assert lfp.modality == "lfp" and eeg.modality == "eeg"
    row_lfp = spectral.coherence(lfp, band="theta").iloc[0]
    row_eeg = spectral.coherence(eeg, band="theta").iloc[0]
    assert (row_lfp.band_lo, row_lfp.band_hi) == (6.0, 10.0)
    assert (row_eeg.band_lo, row_eeg.band_hi) == (4.0, 8.0)


def test_peak_outside_band_is_flagged_and_named(caplog):
    # a 9.25 Hz rhythm (the Axona rat's theta) analysed with the human 4-8 Hz band
    sf, n = 250.0, 250 * 120
    t = np.arange(n) / sf
    rng = np.random.default_rng(3)
    common = np.sin(2 * np.pi * 9.25 * t)
    data = np.vstack([common + rng.normal(0, 0.3, n), common + rng.normal(0, 0.3, n)]) * 1e-5
    rec = Recording(data, sf, ["a", "b"], ch_types=["eeg", "eeg"], modality="eeg")
    with caplog.at_level("WARNING"):
        power = spectral.band_power(rec, band="theta")
    assert all("peak_outside_band" in f for f in power.qc_flags)
    assert power.peak_hz.iloc[0] == pytest.approx(9.25, abs=0.5)
    assert "outside the band" in caplog.text and "theta" in caplog.text
    coh = spectral.coherence(rec, band="theta")
    assert "peak_outside_band" in coh.qc_flags.iloc[0]
    # in its own band (rodent theta 6-10 Hz) the same rhythm is not flagged
    rec.modality = "lfp"
    rec.set_channel_types({"a": "lfp", "b": "lfp"})
    assert not any("peak_outside_band" in f for f in spectral.band_power(rec, "theta").qc_flags)


def test_band_cut_by_nyquist_reports_its_effective_edge():
    rec, _ = simulate_eeg(2, 30, 128.0, seed=4)
    row = spectral.band_power(rec, band="gamma").iloc[0]
    assert row.band_hi == 80.0 and row.band_hi_effective == pytest.approx(64.0)
    assert "band_truncated" in row.qc_flags


# ----------------------------------------------------------------------- flat channels
def test_flat_channel_left_out_of_means_and_never_counted_as_zero_coherence():
    rec, _ = simulate_eeg(4, 60, 250.0, seed=5, theta_coherence=0.5)
    data = rec.data.copy()
    data[3] = 0.37  # stuck at a DC offset: power ~1e-40, not exactly 0 after the FFT
    stuck = Recording(data, rec.sfreq, rec.ch_names, ch_types=rec.ch_types, modality="eeg")
    table = spectral.analyse(stuck, aperiodic=None)
    coh = table[(table.measure == "theta_msc") & (table.channel != "mean")]
    with_flat = coh[coh.ch_a.eq(rec.ch_names[3]) | coh.ch_b.eq(rec.ch_names[3])]
    assert with_flat.value.isna().all() and all("flat_channel" in f for f in with_flat.qc_flags)
    mean = table[(table.measure == "theta_msc") & (table.channel == "mean")].iloc[0]
    assert mean.value == pytest.approx(coh.value.dropna().mean(), rel=1e-12)
    assert mean.excluded == rec.ch_names[3] and "channels_excluded" in mean.qc_flags
    pmean = table[(table.measure == "gamma_power") & (table.channel == "mean")].iloc[0]
    assert rec.ch_names[3] not in pmean.channels.split(";")
    assert pmean.excluded == rec.ch_names[3]


# ----------------------------------------------------------------------- settings contract
@pytest.mark.parametrize("call, key, hint", [
    (lambda r: spectral.analyse(r, seg_lenn=2.0), "seg_lenn", "seg_len"),
    (lambda r: spectral.band_power(r, overlapp=0.5), "overlapp", "overlap"),
    (lambda r: spectral.coherence(r, measur="msc"), "measur", "measure"),
    (lambda r: tms.analyse(r, tep_options={"n_permutation": 0}), "n_permutation",
     "n_permutations"),
    (lambda r: tms.analyse(r, clean_optons={}), "clean_optons", "clean_options"),
    (lambda r: synaptic.analyse(r, baseline_minute=5), "baseline_minute",
     "baseline_minutes"),
    (lambda r: synaptic.fepsp(r, slop="20-80"), "slop", "slope"),
    (lambda r: synaptic.psc(r, rs_change_limt=0.2), "rs_change_limt", "rs_change_limit"),
])
def test_misspelled_setting_fails_with_a_suggestion(call, key, hint):
    rec, _ = simulate_eeg(2, 10, 250.0, seed=6)
    with pytest.raises(SettingsError, match=rf"{key}.*did you mean '{hint}'"):
        call(rec)


def test_misspelled_fit_setting_fails_with_a_suggestion():
    with pytest.raises(SettingsError, match="did you mean 'random_effects'"):
        ketephys.longitudinal.fit_decay(pd.DataFrame(), random_effect=False)


def test_bad_value_names_the_setting():
    rec, _ = simulate_eeg(2, 10, 250.0, seed=6)
    with pytest.raises(SettingsError, match="overlap"):
        spectral.analyse(rec, overlap=1.5)
    with pytest.raises(SettingsError, match="did you mean 'gamma'"):
        spectral.analyse(rec, bands=["gama"])
    assert isinstance(SettingsError("x"), ValueError)


@pytest.mark.parametrize("section, path", [
    ({"eeg": {"spectral": {"seg_lenn": 2}}}, "modalities.eeg.spectral.seg_lenn"),
    ({"eeg": {"spectral": {"bands": ["gama"]}}}, "modalities.eeg.spectral.bands"),
    ({"tms-eeg": {"tms": {"tep_options": {"n_permutation": 0}}}},
     "modalities.tms-eeg.tms.tep_options.n_permutation"),
    ({"fepsp": {"synaptic": {"baseline_minute": 5}}},
     "modalities.fepsp.synaptic.baseline_minute"),
])
def test_config_check_names_the_key_path(tmp_path, section, path):
    from ketephys.cli import main
    from ketephys.pipeline import load_config

    (tmp_path / "m.csv").write_text("path,subject\n")
    cfg = {"inputs": {"manifest": "m.csv"}, "modalities": section}
    file = tmp_path / "study.yaml"
    file.write_text(yaml.safe_dump(cfg))
    parent, key = path.rsplit(".", 1)
    with pytest.raises(ConfigError, match=rf"{parent.replace('.', '[.]')}.*{key}"):
        load_config(file)
    assert main(["config", "--check", str(file)]) == 2


def test_defaults_written_out_give_the_same_cache_key(tmp_path):
    from ketephys.pipeline.config import config_from_dict
    from ketephys.pipeline.discovery import RecordingSpec
    from ketephys.pipeline.tasks import build_task

    spec = RecordingSpec(path=str(tmp_path / "a.edf"), modality="eeg", meta={})
    keys = []
    for settings in ({}, {"seg_len": 2.0, "overlap": 0.5, "bands": ["gamma"]},
                     {"seg_len": 4.0}):
        cfg = config_from_dict({"inputs": {"glob": "*.edf", "modality": "eeg"},
                                "modalities": {"eeg": {"spectral": settings}}}, tmp_path)
        keys.append(build_task(cfg, spec, [(spec.path, "0" * 64)]).key)
    assert keys[0] == keys[1] != keys[2]


# ----------------------------------------------------------------------- units
def test_feature_table_rejects_rows_that_break_the_unit_convention():
    with pytest.raises(AnalysisError, match="must be '%'"):
        feature_table([{"measure": "ltp_magnitude_pct", "value": 1.0, "unit": "1"}])
    with pytest.raises(AnalysisError, match="SI unit"):
        feature_table([{"measure": "latency", "value": 1.0, "unit": "ms"}])
    with pytest.raises(AnalysisError, match="SI unit"):
        feature_table([{"measure": "ratio", "value": 1.0, "unit": ""}])
    assert check_unit("n100_latency_ms", "ms") is None
    assert check_unit("gamma_power", "V^2") is None


def test_every_analyser_row_follows_the_unit_convention():
    eeg, _ = simulate_eeg(3, 20, 250.0, seed=7)
    rec, _ = simulate_fepsp_experiment(n_baseline_min=10, n_post_min=60, sweep_interval=30.0,
                                       seed=8)
    tables = [spectral.analyse(eeg), synaptic.analyse(rec)]
    for table in tables:
        for measure, unit in zip(table.measure, table.unit):
            assert check_unit(measure, unit) is None, (measure, unit)


# ----------------------------------------------------------------------- shared FFTs
def test_cross_spectrum_shares_the_ffts_of_the_two_readme_calls(monkeypatch):
    import importlib

    kc = importlib.import_module("ketephys.spectral.coherence")

    rec, _ = simulate_eeg(4, 60, 250.0, seed=9)
    calls = []
    real = kc.accumulate
    monkeypatch.setattr(kc, "accumulate", lambda *a, **k: calls.append(1) or real(*a, **k))
    cs = spectral.cross_spectrum(rec, band="theta")
    g1 = spectral.band_power(cs, band="gamma", aperiodic="fixed", line_freq=50)
    t1 = spectral.coherence(cs, band="theta", pairs="all", measure="msc")
    assert len(calls) == 1
    g2 = spectral.band_power(rec, band="gamma", aperiodic="fixed", line_freq=50)
    t2 = spectral.coherence(rec, band="theta", pairs="all", measure="msc")
    # the PSDs agree to rounding (segments summed in other batch groupings); the aperiodic
    # fit is an optimiser, which carries that rounding to ~1e-10
    full = spectral.psd(rec)
    keep = np.isin(full.freqs, cs.spectrum.freqs)
    np.testing.assert_allclose(cs.spectrum.psd, full.psd[:, keep], rtol=1e-12)
    np.testing.assert_allclose(g1.value, g2.value, rtol=1e-8)
    np.testing.assert_allclose(t1.value, t2.value, rtol=1e-12)
    assert g1.subject.equals(g2.subject) and g1.recording.equals(g2.recording)


def test_mean_over_another_montage_than_other_visits_is_flagged():
    from ketephys.features import flag_montage_changes

    visits = []
    for i, drop in enumerate([None, None, "EEG003"]):
        rec, _ = simulate_eeg(4, 20, 250.0, seed=10 + i, meta={"subject": "01"})
        if drop:
            rec = rec.pick([c for c in rec.ch_names if c != drop])
        t = spectral.analyse(rec, aperiodic=None, coherence_band=None, kinds=["absolute"])
        t["analyser"] = "spectral"
        visits.append(t)
    other, _ = simulate_eeg(4, 20, 250.0, seed=20, meta={"subject": "02"})
    t = spectral.analyse(other, aperiodic=None, coherence_band=None, kinds=["absolute"])
    t["analyser"] = "spectral"
    table = flag_montage_changes(pd.concat([*visits, t], ignore_index=True))
    means = table[table.channel == "mean"]
    flagged = means.qc_flags.str.contains("montage_changed")
    assert flagged.tolist() == [True, True, True, False]
    assert not table[table.channel != "mean"].qc_flags.str.contains("montage").any()


# ------------------------------------------------------------ shared parameter descriptions
def test_fill_doc_puts_the_shared_description_at_the_placeholder_indent():
    from ketephys._docs import docdict, fill_doc

    @fill_doc
    def f(overlap: float) -> None:
        """Do.

        Parameters
        ----------
        %(overlap)s
        """

    lines = docdict["overlap"].split("\n")
    assert f.__doc__.split("\n")[4:6] == ["        " + lines[0], "        " + lines[1]]


def test_fill_doc_fails_loudly_on_an_unknown_or_inline_placeholder():
    from ketephys._docs import fill_doc

    def unknown():
        """%(overlapp)s"""

    def inline():
        """See %(overlap)s here."""

    with pytest.raises(KeyError, match="overlapp"):
        fill_doc(unknown)
    with pytest.raises(ValueError, match="alone on its line"):
        fill_doc(inline)


def test_analyser_docstrings_have_no_unfilled_placeholder():
    import importlib
    import inspect
    import pkgutil

    left = []
    for package in (spectral, tms, synaptic):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            mod = importlib.import_module(info.name)
            for name, obj in vars(mod).items():
                if getattr(obj, "__module__", None) != info.name:
                    continue
                members = [obj, *vars(obj).values()] if inspect.isclass(obj) else [obj]
                left += [f"{info.name}.{name}" for m in members
                         if "%(" in (getattr(m, "__doc__", None) or "")]
    assert left == []
