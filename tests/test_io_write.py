"""ketephys.io.write round trips through ketephys.io.read, format by format."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ketephys
from ketephys import CorruptFileError, KetephysError, Recording, UnsupportedFormatError
from ketephys.io import read, write


def _continuous() -> Recording:
    rng = np.random.default_rng(1)
    data = rng.normal(scale=20e-6, size=(4, 2500))
    data[3] = np.sin(np.arange(2500) / 10) * 1e-3
    return Recording(
        data, 250.0, ["Fz", "EOG1", "CA1", "ECG"], ch_types=["eeg", "eog", "lfp", "ecg"],
        units="V",
        events={"onset": [1.0, 2.5, 7.25], "duration": [0.0, 0.5, 0.0],
                "description": ["stim", "rest", "stim"]},
        meta={"subject": "rat01", "session": "d1", "region": "CA1", "condition": "ketamine",
              "dose_mg_per_kg": 10, "infusion": 1, "hours_since_dose": 24.0,
              "genotype": "Val/Val", "sex": "F"})


def _episodic() -> Recording:
    rng = np.random.default_rng(2)
    return Recording(
        rng.normal(scale=1e-4, size=(5, 2, 300)), 10_000.0, ["field", "Im"],
        ch_types=["field", "im"], units=["V", "A"],
        sweep_starts=[0.0, 2.5, 5.0, 30.125, 31.0],
        events={"onset": [0.0066, 0.0066], "duration": [0.0002, 0.0002],
                "description": ["stim", "stim"], "sweep": [0, 3]},
        meta={"subject": "slice3", "dose_mg_per_kg": 0.5})


def _check_meta(rec: Recording) -> None:
    m = rec.meta
    assert (m.subject, m.session, m.region, m.condition) == ("rat01", "d1", "CA1", "ketamine")
    assert m.dose_mg_per_kg == 10.0 and m.infusion == 1 and m.hours_since_dose == 24.0
    assert m.genotype == "Val/Val" and m.extras["sex"] == "F"


def _edf_resolution(path) -> np.ndarray:
    """Volts per digital step of each signal, from the EDF/BDF header itself."""
    raw = path.read_bytes()
    ns = int(raw[252:256])
    base = 256

    def field(offset_per, width):
        start = base + ns * offset_per
        return np.array([float(raw[start + i * width:start + (i + 1) * width])
                         for i in range(ns)])

    pmin, pmax = field(104, 8), field(112, 8)
    dmin, dmax = field(120, 8), field(128, 8)
    dims = [raw[base + ns * 96 + i * 8: base + ns * 96 + (i + 1) * 8].decode().strip()
            for i in range(ns)]
    scale = np.array([{"uV": 1e-6, "mV": 1e-3, "V": 1.0}.get(d, 1e-6) for d in dims])
    return (pmax - pmin) / (dmax - dmin) * scale


@pytest.mark.parametrize("ext", [".edf", ".bdf"])
def test_edf_bdf_round_trip_within_digital_resolution(tmp_path, ext):
    rec = _continuous()
    path = write(rec, tmp_path / f"rec{ext}")
    back = read(path)
    step = _edf_resolution(path)[: rec.n_channels]  # then the EDF+ annotation signal
    # EDF stores 16-bit, BDF 24-bit integers: the error is at most half a digital step
    err = np.abs(back.data - rec.data).max(axis=1)
    assert np.all(err <= step * 0.5 + 1e-12), (err, step)
    assert back.ch_names == rec.ch_names and back.ch_types == rec.ch_types
    assert back.sfreq == rec.sfreq and back.units == rec.units
    np.testing.assert_allclose(back.events["onset"], rec.events["onset"], atol=1e-3)
    assert list(back.events["description"]) == list(rec.events["description"])
    _check_meta(back)
    assert back.meta.sources["subject"] == "sidecar"


def test_brainvision_round_trip_float32(tmp_path):
    rec = _continuous()
    path = write(rec, tmp_path / "rec.vhdr")
    assert {p.suffix for p in tmp_path.iterdir()} == {".vhdr", ".vmrk", ".eeg", ".json"}
    back = read(path)
    # pybv writes IEEE float32 in microvolts: relative error <= float32 epsilon
    np.testing.assert_allclose(back.data, rec.data, rtol=2 * np.finfo(np.float32).eps,
                               atol=1e-15)
    assert back.ch_types == rec.ch_types
    np.testing.assert_allclose(back.events["onset"], rec.events["onset"], atol=1 / 250)
    _check_meta(back)


def test_brainvision_header_gives_data_points(tmp_path):
    """The header says how many samples the data file holds (DataPoints in [Common
    Infos]), so a data file cut at a whole frame is an error, not a shorter recording;
    MNE reads the header as it reads pybv's own."""
    import mne

    rec = _continuous()
    path = write(rec, tmp_path / "rec.vhdr")
    lines = path.read_text(encoding="utf-8").splitlines()
    common = lines[lines.index("[Common Infos]"):lines.index("[Binary Infos]")]
    assert common.count(f"DataPoints={rec.n_times}") == 1
    raw = mne.io.read_raw_brainvision(path, preload=True, verbose="error")
    assert raw.n_times == rec.n_times
    np.testing.assert_array_equal(raw.get_data(), read(path).data)
    eeg = tmp_path / "rec.eeg"
    eeg.write_bytes(eeg.read_bytes()[:4 * rec.n_channels * 2000])  # 2000 whole frames
    with pytest.raises(CorruptFileError, match=r"rec\.vhdr: data file rec\.eeg is truncated: "
                                               r"the header promises 2500 samples"):
        read(path)


@pytest.mark.parametrize("ext", [".fif", ".nwb", ".npy", ".npz"])
@pytest.mark.parametrize("kind", ["continuous", "episodic"])
def test_exact_round_trips(tmp_path, ext, kind):
    rec = _continuous() if kind == "continuous" else _episodic()
    path = write(rec, tmp_path / f"rec{ext}")
    back = read(path)
    np.testing.assert_array_equal(back.data, rec.data)
    assert back.sfreq == rec.sfreq
    assert back.ch_names == rec.ch_names and back.ch_types == rec.ch_types
    assert back.units == rec.units
    assert back.is_episodic == rec.is_episodic
    if rec.is_episodic:
        np.testing.assert_array_equal(back.sweep_starts, rec.sweep_starts)
        assert list(back.events["sweep"]) == [0, 3]
    np.testing.assert_allclose(back.events["onset"], rec.events["onset"], atol=1e-12)
    assert list(back.events["description"]) == list(rec.events["description"])
    assert back.meta.to_dict() == rec.meta.to_dict()


def test_npy_sidecar_content(tmp_path):
    rec = _episodic()
    path = write(rec, tmp_path / "sweeps.npy")
    side = json.loads((tmp_path / "sweeps.json").read_text())
    assert side["sfreq"] == 10_000.0 and side["ch_names"] == ["field", "Im"]
    assert side["units"] == ["V", "A"] and side["ch_types"] == ["field", "im"]
    assert side["sweep_starts"] == [0.0, 2.5, 5.0, 30.125, 31.0]
    assert side["events"]["sweep"] == [0, 3]
    assert side["meta"] == {"subject": "slice3", "dose_mg_per_kg": 0.5}
    assert np.load(path).dtype == np.float64


def test_overwrite_protection_and_no_temp_files(tmp_path):
    rec = _continuous()
    path = write(rec, tmp_path / "a.npy")
    before = path.read_bytes()
    with pytest.raises(KetephysError, match="overwrite=True"):
        write(rec.copy(data=rec.data * 2), path)
    assert path.read_bytes() == before
    write(rec.copy(data=rec.data * 2), path, overwrite=True)
    np.testing.assert_array_equal(np.load(path), rec.data * 2)
    for ext in (".edf", ".vhdr", ".fif", ".nwb"):
        write(rec, tmp_path / f"b{ext[1:]}{ext}")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_write_refusals(tmp_path):
    with pytest.raises(UnsupportedFormatError, match="continuous data only"):
        write(_episodic(), tmp_path / "ep.edf")
    with pytest.raises(UnsupportedFormatError, match=r"\.xyz") as err:
        write(_continuous(), tmp_path / "a.xyz")
    assert "did you mean" not in str(err.value)
    with pytest.raises(UnsupportedFormatError, match=r"did you mean '\.edf'"):
        write(_continuous(), tmp_path / "a.ed")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import mne

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mne.export, "export_raw", boom)
    with pytest.raises(KetephysError, match="disk full"):
        write(_continuous(), tmp_path / "x.edf")
    assert list(tmp_path.iterdir()) == []


def test_lazy_write_is_exposed_from_package():
    assert ketephys.io.write is write
    assert callable(ketephys.read)


def test_npy_write_streams_a_lazy_recording(tmp_path):
    data = np.random.default_rng(3).normal(size=(2, 30_000))
    np.save(tmp_path / "src.npy", data)
    (tmp_path / "src.json").write_text(json.dumps({"sfreq": 100.0}))
    lazy = read(tmp_path / "src.npy")
    assert lazy.is_lazy
    out = write(lazy, tmp_path / "copy.npy")  # 300 s in 60 s chunks
    assert lazy.is_lazy  # the source was not loaded whole
    np.testing.assert_array_equal(np.load(out), data)
