"""Bad input: every failure is a KetephysError naming the file and the problem; nothing
is modified; a property-based test mutates real and written file headers."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA, shared_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketephys import (
    CorruptFileError,
    KetephysError,
    MetadataError,
    MissingCompanionError,
    Recording,
    UnitError,
    UnsupportedFormatError,
)
from ketephys.io import read, write


def _rec(n_ch=3, n=2500, sfreq=250.0) -> Recording:
    data = np.random.default_rng(0).normal(scale=20e-6, size=(n_ch, n))
    duration = n / sfreq
    return Recording(data, sfreq, [f"E{i}" for i in range(n_ch)], ch_types=["eeg"] * n_ch,
                     events={"onset": [0.1 * duration, 0.725 * duration],
                             "description": ["a", "b"]},
                     meta={"subject": "s1"})


def _copy_with_companions(src: Path, folder: Path) -> Path:
    """Copy ``src`` and every file of the same stem into ``folder`` (writable copies)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in src.parent.glob(src.stem + ".*"):
        shutil.copyfile(f, folder / f.name)
    return folder / src.name


def _truncate(path: Path, fraction: float) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(int(size * fraction))


# ---------------------------------------------------------------- empty and random files
EXTENSIONS = [".edf", ".bdf", ".vhdr", ".set", ".fif", ".abf", ".wcp", ".smr", ".nwb",
              ".npy", ".npz", ".mat", ".csv", ".eeg", ".egf", ".axgd"]


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_empty_file(tmp_path, ext):
    path = tmp_path / f"empty{ext}"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"empty\.\w+: the file is empty"):
        read(path, sfreq=100.0)


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_random_bytes_behind_a_valid_extension(tmp_path, ext):
    path = tmp_path / f"noise{ext}"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (tmp_path / "noise.json").write_text(json.dumps({"sfreq": 100}))
    with pytest.raises(KetephysError) as err:
        read(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, (CorruptFileError, UnsupportedFormatError, MetadataError))


def test_unknown_extension_and_missing_file(tmp_path):
    (tmp_path / "a.xyz").write_bytes(b"abc")
    with pytest.raises(UnsupportedFormatError, match=r"a\.xyz: unknown file type \.xyz"):
        read(tmp_path / "a.xyz")
    with pytest.raises(KetephysError, match="no such file"):
        read(tmp_path / "absent.edf")


# ---------------------------------------------------------------- truncated files
def test_truncated_edf_written(tmp_path):
    path = write(_rec(), tmp_path / "t.edf")
    _truncate(path, 0.37)
    with pytest.raises(CorruptFileError, match=r"t\.edf: truncated: the header promises"):
        read(path)


def test_truncated_edf_real(tmp_path):
    src = shared_file("eeg", "test_edf_overlapping_annotations.edf")
    path = _copy_with_companions(src, tmp_path)
    _truncate(path, 0.37)  # MNE alone would load this silently shorter
    with pytest.raises(CorruptFileError, match=r"truncated: .* \(37 %\)"):
        read(path)


def test_truncated_bdf_written(tmp_path):
    path = write(_rec(), tmp_path / "t.bdf")
    _truncate(path, 0.8)
    with pytest.raises(CorruptFileError, match="truncated"):
        read(path)


@pytest.mark.parametrize("name", ["2022_07_01_0012.abf", "example2_001.wcp"])
def test_truncated_neo_files(tmp_path, name):
    path = _copy_with_companions(shared_file("fepsp", name), tmp_path)
    _truncate(path, 0.5)
    with pytest.raises(CorruptFileError, match=rf"{name}: Neo \w+IO cannot read it "
                                              r"\(truncated or corrupt\)"):
        read(path)


def test_truncated_brainvision_data_written(tmp_path):
    path = write(_rec(), tmp_path / "bv.vhdr")
    _truncate(tmp_path / "bv.eeg", 0.37)
    with pytest.raises(CorruptFileError, match=r"bv\.vhdr: data file bv\.eeg is truncated"):
        read(path)


def test_truncated_brainvision_data_real(tmp_path):
    path = _copy_with_companions(shared_file("eeg", "testbva.vhdr"), tmp_path)
    _truncate(tmp_path / "testbva.dat", 0.5)
    with pytest.raises(CorruptFileError, match="header promises 2112 samples"):
        read(path)


def test_truncated_axona(tmp_path):
    from test_io_read import write_axona_trial

    write_axona_trial(tmp_path)
    _truncate(tmp_path / "trial.eeg2", 0.5)
    with pytest.raises(CorruptFileError, match=r"trial\.eeg2: truncated: the header promises "
                                              "5000 samples"):
        read(tmp_path / "trial.set")


def test_truncated_axona_real(tmp_path):
    src = shared_file("lfp", "axona_rat_mec_hpc", "83812141.set")
    _copy_with_companions(src, tmp_path)
    _truncate(tmp_path / "83812141.eeg3", 0.9)
    with pytest.raises(CorruptFileError, match="83812141.eeg3: truncated"):
        read(tmp_path / "83812141.eeg")


# ---------------------------------------------------------------- missing companions
def _eeglab_set_pointing_to_fdt(folder: Path) -> Path:
    import mne
    import scipy.io as sio

    raw = mne.io.RawArray(np.zeros((2, 500)), mne.create_info(["a", "b"], 100.0, "eeg"),
                          verbose=False)
    mne.export.export_raw(folder / "tmp.set", raw, verbose=False)
    content = {k: v for k, v in sio.loadmat(folder / "tmp.set", appendmat=False).items()
               if not k.startswith("__")}
    content["data"] = "lab.fdt"
    sio.savemat(folder / "lab.set", content, appendmat=False)
    (folder / "tmp.set").unlink()
    return folder / "lab.set"


def test_set_without_fdt(tmp_path):
    path = _eeglab_set_pointing_to_fdt(tmp_path)
    with pytest.raises(MissingCompanionError, match=r"lab\.set: .*fdt"):
        read(path)


def test_set_without_fdt_real(tmp_path):
    src = shared_file("eeg", "eeglab_data.set")
    shutil.copyfile(src, tmp_path / src.name)
    with pytest.raises(MissingCompanionError, match=r"eeglab_data\.set: .*fdt"):
        read(tmp_path / src.name)


def test_vhdr_pointing_to_missing_data(tmp_path):
    path = write(_rec(), tmp_path / "bv.vhdr")
    (tmp_path / "bv.eeg").unlink()
    with pytest.raises(MissingCompanionError, match=r"bv\.vhdr: DataFile 'bv\.eeg' named in "
                                                    "the header is missing"):
        read(path)


def test_axona_without_set(tmp_path):
    from test_io_read import write_axona_trial

    write_axona_trial(tmp_path)
    (tmp_path / "trial.set").unlink()
    with pytest.raises(MissingCompanionError, match=r"trial\.eeg: the trial's \.set file"):
        read(tmp_path / "trial.eeg")


# ---------------------------------------------------------------- metadata problems
def _npy(tmp_path: Path, side: dict | None, shape=(2, 100)) -> Path:
    np.save(tmp_path / "x.npy", np.zeros(shape))
    if side is not None:
        (tmp_path / "x.json").write_text(json.dumps(side))
    return tmp_path / "x.npy"


def test_sidecar_without_sfreq(tmp_path):
    path = _npy(tmp_path, {"ch_names": ["a", "b"]})
    with pytest.raises(MetadataError, match=r"x\.npy: sidecar x\.json lacks the required "
                                            "field 'sfreq'"):
        read(path)


def test_array_without_sidecar(tmp_path):
    path = _npy(tmp_path, None)
    with pytest.raises(MetadataError, match="no JSON sidecar x.json.*'sfreq'"):
        read(path)


def test_broken_sidecar_json(tmp_path):
    path = _npy(tmp_path, None)
    (tmp_path / "x.json").write_text("{sfreq: 100")
    with pytest.raises(MetadataError, match=r"x\.json: sidecar is not valid JSON"):
        read(path)


@pytest.mark.parametrize("sfreq", [0, -250.0, "fast"])
def test_bad_sampling_rate(tmp_path, sfreq):
    path = _npy(tmp_path, {"sfreq": sfreq})
    with pytest.raises(MetadataError, match=r"x\.npy: sampling rate must be"):
        read(path)


def test_bad_sampling_rate_axona(tmp_path):
    from test_io_read import write_axona_trial

    write_axona_trial(tmp_path, sfreq=0.0)
    with pytest.raises(CorruptFileError, match="sample_rate must be positive"):
        read(tmp_path / "trial.set")


def test_unknown_unit(tmp_path):
    path = _npy(tmp_path, {"sfreq": 100, "units": ["mV", "furlongs"]})
    with pytest.raises(UnitError, match=r"x\.npy: unknown unit 'furlongs'"):
        read(path)


def test_unknown_unit_override_neo():
    path = shared_file("fepsp", "2022_07_01_0012.abf")
    with pytest.raises(UnitError, match="unknown unit 'parsecs'"):
        read(path, units={"Ipatch": "parsecs"})


def test_non_monotonic_sweep_starts_array(tmp_path):
    path = _npy(tmp_path, {"sfreq": 100, "sweep_starts": [0.0, 5.0, 3.0]}, shape=(3, 1, 10))
    with pytest.raises(MetadataError, match=r"x\.npy: sweep start times must increase; "
                                            "sweep 2 starts at 3 s"):
        read(path)


def test_non_monotonic_sweep_starts_nwb(tmp_path):
    import h5py

    rec = Recording(np.zeros((3, 1, 10)), 100.0, ["f"], sweep_starts=[0.0, 5.0, 9.0])
    path = write(rec, tmp_path / "s.nwb")
    with h5py.File(path, "r+") as fh:
        fh["acquisition/sweep_00002/starting_time"][()] = 1.0
    with pytest.raises(MetadataError, match=r"s\.nwb: sweep start times must increase"):
        read(path)


# ---------------------------------------------------------------- inputs are never modified
def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.mark.parametrize("ext", [".edf", ".bdf", ".vhdr", ".fif", ".nwb", ".npy", ".npz"])
def test_read_never_modifies_written_files(tmp_path, ext):
    path = write(_rec(), tmp_path / f"r{ext}")
    before = _snapshot(tmp_path)
    rec = read(path)
    assert rec.data.shape == (3, 2500)  # load everything too
    assert _snapshot(tmp_path) == before


def test_read_never_modifies_real_files(shared_data):
    files = [p for p in shared_data.rglob("*") if p.is_file() and p.suffix.lower() in {
        ".edf", ".bdf", ".vhdr", ".set", ".abf", ".wcp", ".eeg"}]
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in shared_data.rglob("*")
              if p.is_file()}
    for path in files:
        read(path).get_data(start=0, stop=10)
    after = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in shared_data.rglob("*")
             if p.is_file()}
    assert after == before


# ---------------------------------------------------------------- property-based mutations
_SEED_DIR = Path(tempfile.mkdtemp(prefix="ketephys-io-seeds-"))
atexit.register(shutil.rmtree, _SEED_DIR, ignore_errors=True)


def _seed_files() -> list[Path]:
    """Files to mutate: ones the writer makes (always) and the real ones (when present)."""
    seeds = []
    rec = _rec(n_ch=2, n=500, sfreq=100.0)
    ep = Recording(np.random.default_rng(2).normal(size=(3, 2, 50)), 1000.0, ["f", "i"],
                   ch_types=["field", "im"], units=["V", "A"], sweep_starts=[0, 1, 2.5])
    for name, r in (("w.edf", rec), ("w.bdf", rec), ("w.vhdr", rec), ("w.fif", rec),
                    ("w.npy", rec), ("e.nwb", ep), ("e.fif", ep)):
        folder = _SEED_DIR / Path(name).suffix[1:] / name.split(".")[0]
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / name).exists():
            write(r, folder / name)
        seeds.append(folder / name)
    from test_io_read import write_axona_trial

    ax = _SEED_DIR / "axona"
    if not ax.exists():
        ax.mkdir()
        write_axona_trial(ax, n=1000)
    seeds.append(ax / "trial.eeg")
    if SHARED_DATA.is_dir():
        for rel in ("eeg/test_edf_overlapping_annotations.edf", "eeg/testbva.vhdr",
                    "eeg/multiple_annotation_chans.bdf", "fepsp/2022_07_01_0012.abf",
                    "fepsp/example2_002.wcp", "patch/f1.abf",
                    "lfp/axona_rat_mec_hpc/83812141.set", "eeg/eeglab_data.set"):
            if (SHARED_DATA / rel).is_file():
                seeds.append(SHARED_DATA / rel)
    return seeds


SEEDS = _seed_files()

# the file of a seed whose header is mutated (BrainVision: the header text)
_mutation = st.tuples(
    st.sampled_from(range(len(SEEDS))),
    st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), min_size=1, max_size=8),
    st.one_of(st.none(), st.floats(0.0, 1.0)),
)


@settings(max_examples=int(os.environ.get("KETEPHYS_FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow],
          derandomize="KETEPHYS_FUZZ_EXAMPLES" not in os.environ)  # fixed in CI, random when exploring
@given(_mutation)
def test_mutated_headers_raise_only_ketephys_errors(case):
    index, edits, cut = case
    seed = SEEDS[index]
    with tempfile.TemporaryDirectory() as tmp:
        path = _copy_with_companions(seed, Path(tmp))
        raw = bytearray(path.read_bytes())
        head = min(len(raw), 4096)
        for pos, value in edits:
            raw[pos % head] = value
        if cut is not None:
            raw = raw[:int(len(raw) * cut)]
        path.write_bytes(bytes(raw))
        try:
            rec = read(path)
        except KetephysError as err:
            assert str(path) in str(err) or Path(tmp).name in str(err)
        else:
            assert isinstance(rec, Recording)
