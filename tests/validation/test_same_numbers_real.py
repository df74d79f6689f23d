"""The same real recording gives the same rows through `ketephys run` and through the
documented lab-script calls (`ketephys.read` + `<analyser>.analyse` with the same
settings), and neither analyses a stim/misc/EOG/ECG/EMG channel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ketephys
from ketephys import spectral, synaptic
from ketephys.pipeline import config_from_dict, run

pytestmark = pytest.mark.realdata

#: (file, modality) of every shared recording a sample configuration can analyse.
FILES = [
    ("eeg/eeglab_data.set", "eeg"),
    ("eeg/multiple_annotation_chans.bdf", "eeg"),
    ("eeg/testbva.vhdr", "eeg"),
    ("eeg/test_edf_overlapping_annotations.edf", "eeg"),
    ("lfp/axona_rat_mec_hpc/83812141.set", "lfp"),
    ("fepsp/2022_07_01_0012.abf", "fepsp"),
    ("patch/f1.abf", "patch"),
]
SETTINGS = {
    "eeg": {"spectral": {"aperiodic": None, "kinds": ["absolute", "relative"]}},
    "lfp": {"spectral": {"aperiodic": None}},
    "fepsp": {"synaptic": {"kind": "fepsp"}},
    "patch": {"synaptic": {"kind": "psc"}},
}
READ_OPTIONS = {"fepsp": {"units": {"Ipatch": "mV"}}}
ANALYSER = {"spectral": spectral.analyse, "synaptic": synaptic.analyse}
KEYS = ["measure", "channel", "pathway", "role"]
NON_SIGNAL = {"stim", "misc", "eog", "ecg", "emg"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory, shared_data_root):
    if not all((shared_data_root / f).exists() for f, _ in FILES):
        pytest.skip(f"real recordings in {shared_data_root} are absent")
    folder = tmp_path_factory.mktemp("same-numbers")
    manifest = pd.DataFrame({
        "path": [str(shared_data_root / f) for f, _ in FILES],
        "modality": [m for _, m in FILES],
        "subject": [f"{i:02d}" for i in range(len(FILES))],
        "region": "PFC", "hours_since_dose": 24.0})
    manifest.to_csv(folder / "manifest.csv", index=False)
    cfg = config_from_dict({"inputs": {"manifest": "manifest.csv",
                                       "read_options": READ_OPTIONS},
                            "modalities": SETTINGS, "run": {"n_jobs": 1},
                            "report": {"enabled": False}}, base_dir=folder)
    result = run(cfg, out=folder / "out")
    assert result.n_failed == 0, result.failures
    return result.features


def _keyed(table: pd.DataFrame) -> pd.Series:
    t = table.copy()
    for k in KEYS:
        if k not in t:
            t[k] = None
    t[KEYS] = t[KEYS].astype(str)
    return t.set_index(KEYS)["value"].astype(float).sort_index()


@pytest.mark.parametrize("relpath, modality", FILES)
def test_run_rows_equal_script_rows(batch, relpath, modality, shared_data_root):
    path = str(shared_data_root / relpath)
    rec = ketephys.read(path, modality=modality, **READ_OPTIONS.get(modality, {}))
    assert rec.modality == modality
    (name, settings), = SETTINGS[modality].items()
    script = ANALYSER[name](rec, settings)
    mine = batch[batch["recording"] == path]
    assert len(mine) == len(script) > 0
    a, b = _keyed(mine), _keyed(script)
    assert list(a.index) == list(b.index)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12, equal_nan=True)
    # no auxiliary channel analysed, through either door
    aux = {c for c, t in zip(rec.ch_names, rec.ch_types) if t in NON_SIGNAL}
    for table in (mine, script):
        named = set(table["channel"].dropna())
        parts = {p for c in named for p in str(c).split("-")} | named
        assert not parts & aux, sorted(parts & aux)
        if "channels" in table:
            used = {c for s in table["channels"].dropna() for c in str(s).split(";")}
            assert not used & aux


@pytest.mark.parametrize("relpath, options, modality", [
    ("eeg/eeglab_data.set", {}, "eeg"),
    ("eeg/multiple_annotation_chans.bdf", {}, "eeg"),
    ("eeg/testbva.vhdr", {}, "eeg"),
    ("eeg/test_edf_overlapping_annotations.edf", {}, "eeg"),
    ("lfp/axona_rat_mec_hpc/83812141.set", {}, "lfp"),
    ("fepsp/2022_07_01_0012.abf", {}, "fepsp"),
    ("fepsp/2022_01_24_0000.abf", {}, "fepsp"),
    ("fepsp/example2_001.wcp", {}, "fepsp"),
    ("fepsp/example2_002.wcp", {}, "fepsp"),
    ("patch/f1.abf", {}, "patch"),
    # untyped arrays: unknown until the reader is told
    ("lfp/npy/rat_hippocampus_hc2.npy", {"sfreq": 1000}, None),
    ("lfp/npy/rat_hippocampus_hc2.npy", {"sfreq": 1000, "modality": "lfp"}, "lfp"),
])
def test_modality_of_every_real_file(relpath, options, modality, shared_file):
    path = shared_file(*relpath.split("/"))
    rec = ketephys.read(path, **options)
    assert rec.modality == modality
    assert rec.pick(rec.ch_names[:1]).modality == modality
