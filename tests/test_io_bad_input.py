"""Bad input: every failure is a KetephysError naming the file and the problem; nothing
is modified. Property-based tests damage written and real files one kind of damage at a
time (truncated header, truncated data, wrong signature, bad sampling rate, bad sidecar,
missing companion) and assert the exact error class of each kind and the file named;
an undirected mutation test asks only that nothing but a KetephysError escapes.

Every file is made inside pytest's tmp_path/tmp_path_factory folders."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
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


def test_truncated_edf_real(tmp_path, shared_file):
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
def test_truncated_neo_files(tmp_path, name, shared_file):
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


def test_truncated_brainvision_data_real(tmp_path, shared_file):
    path = _copy_with_companions(shared_file("eeg", "testbva.vhdr"), tmp_path)
    _truncate(tmp_path / "testbva.dat", 0.5)
    with pytest.raises(CorruptFileError, match="header promises 2112 samples"):
        read(path)


def test_truncated_axona(tmp_path, write_axona_trial):
    write_axona_trial(tmp_path)
    _truncate(tmp_path / "trial.eeg2", 0.5)
    with pytest.raises(CorruptFileError, match=r"trial\.eeg2: truncated: the header promises "
                                              "5000 samples"):
        read(tmp_path / "trial.set")


def test_truncated_axona_real(tmp_path, shared_file):
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


def test_set_without_fdt_real(tmp_path, shared_file):
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


def test_axona_without_set(tmp_path, write_axona_trial):
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


def test_bad_sampling_rate_axona(tmp_path, write_axona_trial):
    write_axona_trial(tmp_path, sfreq=0.0)
    with pytest.raises(CorruptFileError, match="sample_rate must be positive"):
        read(tmp_path / "trial.set")


def test_unknown_unit(tmp_path):
    path = _npy(tmp_path, {"sfreq": 100, "units": ["mV", "furlongs"]})
    with pytest.raises(UnitError, match=r"x\.npy: unknown unit 'furlongs'"):
        read(path)


def test_unknown_unit_override_neo(shared_file):
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


# ---------------------------------------------------------------- damage, one kind at a time
# Seeds: small files the writer makes (always) and real recordings (when ../shared/data is
# present). Each test applies one kind of damage to a fresh copy, at a place and with
# bytes that hypothesis chooses, and asserts the KetephysError subclass that kind of
# damage must raise (exactly that class) and that the message names the damaged file.

#: seed -> file in ../shared/data
REAL_SEEDS = {
    "edf-real": ("eeg", "test_edf_overlapping_annotations.edf"),
    "bdf-real": ("eeg", "multiple_annotation_chans.bdf"),
    "vhdr-real": ("eeg", "testbva.vhdr"),
    "eeglab-real": ("eeg", "eeglab_data.set"),
    "axona-real": ("lfp", "axona_rat_mec_hpc", "83812141.eeg"),
    "abf-real": ("fepsp", "2022_07_01_0012.abf"),
    "abf-patch-real": ("patch", "f1.abf"),
    "wcp-real": ("fepsp", "example2_002.wcp"),
}
#: seed -> file name the writer makes (``trial.eeg``: the Axona trial writer)
WRITTEN_SEEDS = {"edf": "w.edf", "bdf": "w.bdf", "vhdr": "w.vhdr", "npy": "w.npy",
                 "npz": "w.npz", "fif": "w.fif", "fif-epochs": "e.fif", "nwb": "e.nwb",
                 "axona": "trial.eeg"}
_EDF = ("edf", "bdf", "edf-real", "bdf-real")
_EXAMPLES = int(os.environ.get("KETEPHYS_FUZZ_EXAMPLES", "8"))
_FUZZ = settings(max_examples=_EXAMPLES, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow],
                 derandomize="KETEPHYS_FUZZ_EXAMPLES" not in os.environ)  # fixed in CI


@pytest.fixture(scope="session")
def written_seeds(tmp_path_factory, write_axona_trial) -> dict[str, Path]:
    """The written seed files, each in its own folder of a session tmp folder."""
    rec = Recording(np.random.default_rng(0).normal(scale=20e-6, size=(2, 500)), 100.0,
                    ["E0", "E1"], ch_types=["eeg"] * 2, meta={"subject": "s1"})
    ep = Recording(np.random.default_rng(2).normal(size=(3, 2, 50)), 1000.0, ["f", "i"],
                   ch_types=["field", "im"], units=["V", "A"], sweep_starts=[0, 1, 2.5])
    root = tmp_path_factory.mktemp("damage-seeds")
    seeds = {}
    for seed, name in WRITTEN_SEEDS.items():
        folder = root / seed
        folder.mkdir()
        if seed == "axona":
            write_axona_trial(folder, n=1000)
        else:
            write(ep if name.startswith("e.") else rec, folder / name)
        seeds[seed] = folder / name
    return seeds


@pytest.fixture
def fresh_copy(tmp_path, written_seeds, shared_file):
    """``fresh_copy(seed)``: a writable copy of the seed and its companions in a new folder
    of ``tmp_path`` (the previous copy is removed); real seeds skip when absent."""
    made: list[Path] = []

    def copy(seed: str) -> Path:
        src = written_seeds[seed] if seed in written_seeds else shared_file(*REAL_SEEDS[seed])
        if made:
            shutil.rmtree(made[-1].parent)
        made.append(_copy_with_companions(src, tmp_path / f"copy{len(made)}"))
        return made[-1]

    return copy


def _raises_exactly(expected: type[KetephysError], path: Path, *names: str) -> str:
    """Read ``path``; assert it raises exactly ``expected`` (not a sibling class or the
    base class) with every one of ``names`` in the message; return the message."""
    with pytest.raises(KetephysError) as err:
        read(path)
    message = str(err.value)
    assert type(err.value) is expected, f"{type(err.value).__name__}: {message}"
    for name in names:
        assert name in message, f"{name!r} not named in: {message}"
    return message


def _cut(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def _poke(path: Path, offset: int, value: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset:offset + len(value)] = value
    path.write_bytes(bytes(raw))


def _edf_header_end(path: Path) -> int:
    return int(path.read_bytes()[184:192])  # "number of bytes in header record"


def _npy_header_end(path: Path) -> int:
    return 10 + int.from_bytes(path.read_bytes()[8:10], "little")  # format 1.0


def _axona_data_start(path: Path) -> int:
    return path.read_bytes().index(b"data_start") + len(b"data_start")


def _vhdr_channels_start(path: Path) -> int:
    """Offset of the last ``ChN=`` line: a cut before it loses at least one channel."""
    text = path.read_bytes()
    return text.rindex(b"\nCh") + 1


def _vhdr_after_companions(path: Path) -> int:
    """Offset just after the DataFile/MarkerFile lines (a cut inside them names another,
    missing, file: a MissingCompanionError, tested below)."""
    text = path.read_bytes()
    return max(text.index(b"\n", text.index(key)) for key in (b"DataFile=", b"MarkerFile="))


#: seed -> (first, last) byte offsets at which cutting the file leaves its header incomplete
HEADER_CUTS = {
    **{seed: lambda p: (1, _edf_header_end(p) - 1) for seed in _EDF},
    "npy": lambda p: (1, _npy_header_end(p) - 1),
    "axona": lambda p: (1, _axona_data_start(p) - 1),
    "axona-real": lambda p: (1, _axona_data_start(p) - 1),
    "vhdr": lambda p: (_vhdr_after_companions(p), _vhdr_channels_start(p)),
    "vhdr-real": lambda p: (_vhdr_after_companions(p), _vhdr_channels_start(p)),
    "abf-real": lambda p: (1, 511),        # the 512-byte ABF2 header block
    "abf-patch-real": lambda p: (1, 511),
    "wcp-real": lambda p: (1, 1023),       # NBH=1024 header bytes
}


@pytest.mark.parametrize("seed", sorted(HEADER_CUTS))
def test_truncated_header_is_corrupt(seed, fresh_copy):
    @_FUZZ
    @given(st.data())
    def check(data):
        path = fresh_copy(seed)
        first, last = HEADER_CUTS[seed](path)
        _cut(path, data.draw(st.integers(first, last), label="bytes kept"))
        _raises_exactly(CorruptFileError, path, path.name)

    check()


def _frames(path: Path, data_file: Path) -> tuple[int, int]:
    """(bytes per multiplexed frame, frames) of a BrainVision data file."""
    from ketephys.io.companions import vhdr_entries

    entries = vhdr_entries(path)
    width = {"INT_16": 2, "IEEE_FLOAT_32": 4}[entries["BinaryFormat"].upper()]
    frame = width * int(entries["NumberOfChannels"])
    return frame, data_file.stat().st_size // frame


def _axona_samples_end(path: Path) -> int:
    raw = path.read_bytes()
    end = raw.rfind(b"\r\ndata_end")
    return end if end > 0 else len(raw)


def _cut_data(seed: str, path: Path, data) -> Path:
    """Cut the file holding the samples inside its sample bytes; returns that file."""
    draw = lambda lo, hi: data.draw(st.integers(lo, hi), label="bytes kept")  # noqa: E731
    if seed in _EDF:
        _cut(path, draw(_edf_header_end(path) + 1, path.stat().st_size - 1))
    elif seed == "npy":
        _cut(path, draw(_npy_header_end(path) + 1, path.stat().st_size - 1))
    elif seed.startswith("axona"):
        _cut(path, draw(_axona_data_start(path), _axona_samples_end(path) - 1))
    elif seed.startswith("vhdr"):  # a recorder that stops writes whole frames
        target = next(p for p in path.parent.iterdir() if p.suffix in {".eeg", ".dat"})
        frame, n_frames = _frames(path, target)
        _cut(target, frame * draw(1, n_frames - 1))
        return target
    elif seed == "eeglab-real":
        target = path.with_suffix(".fdt")
        _cut(target, draw(1, target.stat().st_size - 1))
        return target
    elif seed.startswith("abf"):
        # ABF sections are padded to 512-byte blocks: a cut inside the last block's padding
        # leaves every sample (the file still reads faithfully), so cut a whole block or more
        _cut(path, draw(HEADER_CUTS[seed](path)[1] + 1, path.stat().st_size - 512))
    elif seed.startswith("wcp"):
        _cut(path, draw(HEADER_CUTS[seed](path)[1] + 1, path.stat().st_size - 1))
    else:  # fif, nwb: no fixed header; cut anywhere
        _cut(path, draw(1, path.stat().st_size - 1))
    return path


DATA_CUT_SEEDS = [*_EDF, "npy", "axona", "axona-real", "vhdr", "vhdr-real", "eeglab-real",
                  "abf-real", "abf-patch-real", "wcp-real", "fif", "fif-epochs", "nwb"]


@pytest.mark.parametrize("seed", DATA_CUT_SEEDS)
def test_truncated_data_is_corrupt(seed, fresh_copy):
    @_FUZZ
    @given(st.data())
    def check(data):
        path = fresh_copy(seed)
        target = _cut_data(seed, path, data)
        _raises_exactly(CorruptFileError, path, path.name, target.name)

    check()


#: seed -> (offset, the file's signature bytes there, other valid signatures)
SIGNATURES = {
    **{seed: (0, 8, (b"0       ", b"\xffBIOSEMI")) for seed in _EDF},
    "npy": (0, 6, (b"\x93NUMPY",)),
    "npz": (0, 4, (b"PK\x03\x04", b"PK\x05\x06")),
    "fif": (0, 4, (b"\x00\x00\x00\x64",)),       # FIFF_FILE_ID, the first tag
    "fif-epochs": (0, 4, (b"\x00\x00\x00\x64",)),
    "nwb": (0, 8, (b"\x89HDF\r\n\x1a\n",)),
    "axona": (0, 10, (b"trial_date",)),
    "axona-real": (0, 10, (b"trial_date",)),
    "eeglab-real": (0, 6, (b"MATLAB",)),
    "abf-real": (0, 4, (b"ABF2", b"ABF ")),
    "abf-patch-real": (0, 4, (b"ABF2", b"ABF ")),
    "wcp-real": (0, 4, (b"VER=",)),
}


@pytest.mark.parametrize("seed", sorted(SIGNATURES))
def test_wrong_signature_is_corrupt(seed, fresh_copy):
    offset, size, valid = SIGNATURES[seed]
    bad_bytes = st.binary(min_size=size, max_size=size).filter(
        lambda b: not any(b.startswith(v[:size]) or v.startswith(b) for v in valid)
        and b.strip(b" \x00") != b"0")  # EDF readers accept a version "0" padded anyhow

    @_FUZZ
    @given(bad_bytes)
    def check(signature):
        path = fresh_copy(seed)
        _poke(path, offset, signature)
        _raises_exactly(CorruptFileError, path, path.name)

    check()


@pytest.mark.parametrize("seed", ["vhdr", "vhdr-real"])
def test_wrong_brainvision_identification_line_is_corrupt(seed, fresh_copy):
    lines = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=60)

    @_FUZZ
    @given(lines.filter(lambda t: "brain" not in t.lower()))
    def check(first_line):
        path = fresh_copy(seed)
        text = path.read_bytes()
        path.write_bytes(first_line.encode("latin-1") + text[text.index(b"\n"):])
        _raises_exactly(CorruptFileError, path, path.name)

    check()


def _set_rate(seed: str, path: Path, value: str) -> Path:
    """Write ``value`` where the seed keeps its sampling rate; returns that file."""
    if seed in _EDF:  # the record duration (s) sets every signal's rate
        _poke(path, 244, value.encode().ljust(8)[:8])
        return path
    if seed.startswith("vhdr"):
        text = re.sub(rb"SamplingInterval=[^\r\n]*", b"SamplingInterval=" + value.encode(),
                      path.read_bytes(), count=1)
        path.write_bytes(text)
        return path
    if seed.startswith("axona"):
        text = re.sub(rb"sample_rate [^\r\n]*", b"sample_rate " + value.encode() + b" hz",
                      path.read_bytes(), count=1)
        path.write_bytes(text)
        return path
    side = path.with_suffix(".json")  # arrays: the sidecar
    fields = json.loads(side.read_text())
    fields["sfreq"] = float(value) if value in {"0", "-250", "nan"} else value
    side.write_text(json.dumps(fields))
    return side


_RATE_VALUES = {"zero": "0", "negative": "-250", "nan": "nan", "text": "fast", "blank": ""}
_RATE_EXPECTED = {**{seed: CorruptFileError for seed in (*_EDF, "vhdr", "vhdr-real", "axona",
                                                          "axona-real")},
                  "npy": MetadataError, "npz": MetadataError}


@pytest.mark.parametrize("seed, kind", [(seed, kind) for seed in _RATE_EXPECTED
                                        for kind in _RATE_VALUES])
def test_bad_sampling_rate_names_the_file_holding_it(seed, kind, fresh_copy):
    """A header rate is a corrupt header (CorruptFileError); a sidecar rate is metadata
    (MetadataError)."""
    path = fresh_copy(seed)
    holder = _set_rate(seed, path, _RATE_VALUES[kind])
    _raises_exactly(_RATE_EXPECTED[seed], path, path.name, holder.name)


_not_json = st.text(max_size=40).filter(lambda t: not _parses(t))
_not_an_object = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=10),
                           st.lists(st.integers(), max_size=3)).map(json.dumps)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("seed", ["edf", "bdf", "vhdr", "npy", "npz"])
def test_bad_sidecar_is_metadata_error(seed, fresh_copy):
    wrong_field = st.sampled_from([("ch_names", 5), ("ch_names", "E0"), ("sfreq", [100]),
                                   ("ch_types", {"E0": 3}), ("units", 7)])

    @_FUZZ
    @given(st.one_of(_not_json, _not_an_object, wrong_field))
    def check(damage):
        path = fresh_copy(seed)
        side = path.with_suffix(".json")
        if isinstance(damage, tuple):
            fields = json.loads(side.read_text())
            fields[damage[0]] = damage[1]
            damage = json.dumps(fields)
        side.write_text(damage)
        _raises_exactly(MetadataError, path, side.name)

    check()


@pytest.mark.parametrize("seed, missing", [
    ("vhdr", ".eeg"), ("vhdr", ".vmrk"), ("vhdr-real", ".dat"), ("vhdr-real", ".vmrk"),
    ("axona", ".set"), ("axona-real", ".set"), ("eeglab-real", ".fdt")])
def test_missing_companion_names_it(seed, missing, fresh_copy):
    path = fresh_copy(seed)
    path.with_suffix(missing).unlink()
    _raises_exactly(MissingCompanionError, path, path.name, path.with_suffix(missing).name)


# ---------------------------------------------------------------- undirected mutations
# Random bytes anywhere in the first 4 kB, and random cuts: the damage has no kind, so the
# test asks only that whatever read() raises is a KetephysError naming the file (the
# tests above ask for the class each kind of damage must raise).
_MUTATED_SEEDS = sorted([*WRITTEN_SEEDS, *REAL_SEEDS])


@pytest.mark.parametrize("seed", _MUTATED_SEEDS)
def test_mutated_headers_raise_only_ketephys_errors(seed, fresh_copy):
    edits = st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), min_size=1,
                     max_size=8)

    @_FUZZ
    @given(edits, st.one_of(st.none(), st.floats(0.0, 1.0)))
    def check(edits, cut):
        path = fresh_copy(seed)
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
            assert path.name in str(err)
        else:
            assert isinstance(rec, Recording)

    check()
