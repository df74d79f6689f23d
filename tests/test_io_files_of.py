"""files_of(path) lists, from headers only, the files read(path) opens (rec.source.files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import ketephys
from ketephys.io import files_of

REAL = [
    ("eeg/eeglab_data.set", {"eeglab_data.fdt"}),
    ("eeg/testbva.vhdr", {"testbva.vmrk", "testbva.dat"}),
    ("lfp/axona_rat_mec_hpc/83812141.set",
     {"83812141.eeg", "83812141.eeg2", "83812141.eeg3"}),
    ("lfp/axona_rat_mec_hpc/83812141.eeg2",
     {"83812141.set", "83812141.eeg", "83812141.eeg3"}),
    ("fepsp/2022_07_01_0012.abf", set()),
    ("fepsp/2022_01_24_0000.abf", set()),
    ("fepsp/example2_001.wcp", set()),
    ("fepsp/example2_002.wcp", set()),
    ("patch/f1.abf", set()),
    ("eeg/test_edf_overlapping_annotations.edf", set()),
    ("eeg/multiple_annotation_chans.bdf", set()),
]


def _names(paths) -> set[str]:
    return {Path(p).name for p in paths}


@pytest.mark.realdata
@pytest.mark.parametrize(("rel", "companions"), REAL, ids=[r for r, _ in REAL])
def test_files_of_matches_reader(rel, companions, shared_file):
    path = shared_file(*rel.split("/"))
    listed = files_of(path)
    rec = ketephys.read(path, quality=False)
    assert set(listed) == {Path(f) for f in rec.source.files}
    assert listed[0] == path and rec.source.files[0] == str(path)
    assert _names(listed) == {path.name} | companions


@pytest.mark.realdata
def test_brainvision_data_file_with_another_stem(tmp_path, shared_file):
    src = shared_file("eeg", "testbva.vhdr").parent
    shutil.copy(src / "testbva.dat", tmp_path / "raw_data_1.dat")
    vhdr = (src / "testbva.vhdr").read_text(encoding="latin-1")
    vhdr = vhdr.replace("DataFile=testbva.dat", "DataFile=raw_data_1.dat").replace(
        "MarkerFile=testbva.vmrk", "MarkerFile=markers_1.vmrk")
    (tmp_path / "rec1.vhdr").write_text(vhdr, encoding="latin-1")
    vmrk = (src / "testbva.vmrk").read_text(encoding="latin-1")
    (tmp_path / "markers_1.vmrk").write_text(vmrk.replace("testbva.dat", "raw_data_1.dat"),
                                             encoding="latin-1")
    main = tmp_path / "rec1.vhdr"
    assert files_of(main) == [main, tmp_path / "markers_1.vmrk", tmp_path / "raw_data_1.dat"]
    rec = ketephys.read(main, quality=False)
    assert {Path(f) for f in rec.source.files} == set(files_of(main))


def test_array_with_sidecar(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((2, 100), dtype=np.float32))
    assert files_of(path) == [path]
    (tmp_path / "x.json").write_text(json.dumps({"sfreq": 100, "units": "V"}))
    assert files_of(path) == [path, tmp_path / "x.json"]
    rec = ketephys.read(path)
    assert rec.source.files == (str(path), str(tmp_path / "x.json"))
    assert files_of(path, sidecar=False) == [path]


def test_edf_in_bids_lists_tables(tmp_path):
    root = tmp_path / "ds"
    folder = root / "sub-01" / "ses-24h" / "eeg"
    folder.mkdir(parents=True)
    (root / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.8.0"}')
    (root / "participants.tsv").write_text("participant_id\tsex\nsub-01\tF\n")
    (root / "sub-01" / "sub-01_sessions.tsv").write_text(
        "session_id\thours_since_dose\nses-24h\t24\n")
    from ketephys.simulate.eeg import simulate_eeg

    rec = simulate_eeg(n_channels=2, duration=4.0, seed=1)
    rec = rec[0] if isinstance(rec, tuple) else rec
    path = folder / "sub-01_ses-24h_task-rest_eeg.edf"
    ketephys.io.write(rec, path)
    listed = files_of(path)
    assert listed[:1] == [path]
    assert {root / "participants.tsv", root / "sub-01" / "sub-01_sessions.tsv"} <= set(listed)
    back = ketephys.read(path, quality=False)
    assert {Path(f) for f in back.source.files} == set(listed)


def test_files_of_missing_file(tmp_path):
    with pytest.raises(ketephys.KetephysError, match="no such file"):
        files_of(tmp_path / "nope.edf")


def test_read_bids_lists_its_sidecars(bids_dataset):
    rec = ketephys.read_bids(bids_dataset, subject="01", session="24h", task="rest")
    names = _names(rec.source.files)
    assert Path(rec.source.files[0]).name == "sub-01_ses-24h_task-rest_eeg.edf"
    assert {"sub-01_ses-24h_task-rest_eeg.json", "sub-01_ses-24h_task-rest_channels.tsv",
            "participants.tsv", "sub-01_sessions.tsv", "sub-01_ses-24h_scans.tsv"} <= names
    assert all(Path(f).is_file() for f in rec.source.files)


def test_fif_split_parts(tmp_path):
    import mne

    info = mne.create_info(64, 1000.0, "eeg")
    data = np.random.default_rng(0).standard_normal((64, 50000)) * 1e-5
    mne.io.RawArray(data, info, verbose=False).save(tmp_path / "x_raw.fif",
                                                    split_size="10MB", verbose=False)
    listed = files_of(tmp_path / "x_raw.fif")
    assert [p.name for p in listed] == ["x_raw.fif", "x_raw-1.fif"]
    rec = ketephys.read(tmp_path / "x_raw.fif", quality=False)
    assert [Path(f) for f in rec.source.files] == listed and rec.n_times == 50000
