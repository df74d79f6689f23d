"""Readers refuse or flag what they cannot read faithfully (issue 12; reliability cases R*).

Every damaged file is built in ``tmp_path`` from a real file in ../shared/data or from a
file written here; the real files are never modified.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from ketephys import CorruptFileError, KetephysError, MetadataError
from ketephys.io import read

# ------------------------------------------------------------------ EDF helpers


def write_edf(path: Path, n_records: int = 10, reserved: str = "", annot: list[bytes] | None = None,
              n_signals: int = 2, spr: int = 100, duration: str = "1", header_records: str | None = None,
              bdf: bool = False) -> Path:
    """A small EDF/BDF: ``n_signals`` sines of ``spr`` samples per record (+ an
    annotation signal when ``annot`` gives one TAL per record)."""
    width = 3 if bdf else 2
    labels = [f"S{i}" for i in range(n_signals)]
    spr_list = [spr] * n_signals
    if annot is not None:
        labels.append("BDF Annotations" if bdf else "EDF Annotations")
        spr_list.append(30)
    ns = len(labels)

    def field(values, width_):
        return b"".join(str(v).ljust(width_)[:width_].encode("latin-1") for v in values)

    head = (("\xffBIOSEMI" if bdf else "0").ljust(8).encode("latin-1")
            + b"X".ljust(80) + b"X".ljust(80) + b"01.01.20" + b"00.00.00"
            + str(256 * (ns + 1)).ljust(8).encode() + reserved.ljust(44).encode()
            + (header_records or str(n_records)).ljust(8).encode() + duration.ljust(8).encode()
            + str(ns).ljust(4).encode())
    is_annot = [lab.endswith("Annotations") for lab in labels]
    head += field(labels, 16) + field([""] * ns, 80)
    head += field(["" if a else "uV" for a in is_annot], 8)
    head += field([-1 if a else -3200 for a in is_annot], 8)
    head += field([1 if a else 3200 for a in is_annot], 8)
    dmin, dmax = (-8388608, 8388607) if bdf else (-32768, 32767)
    head += field([dmin] * ns, 8) + field([dmax] * ns, 8)
    head += field([""] * ns, 80) + field(spr_list, 8) + field([""] * ns, 32)
    assert len(head) == 256 * (ns + 1)
    t = np.arange(n_records * spr) / spr
    body = bytearray()
    for r in range(n_records):
        for i in range(n_signals):
            vals = (10000 * np.sin(2 * np.pi * (3 + i) * t[r * spr:(r + 1) * spr])).astype("<i4")
            raw = vals.astype("<i4").tobytes()
            body += b"".join(raw[k:k + width] for k in range(0, len(raw), 4))
        if annot is not None:
            body += annot[r].ljust(30 * width, b"\x00")
    path.write_bytes(head + bytes(body))
    return path


def _set_signal_field(buf: bytearray, offset: int, sig: int, value: str) -> None:
    ns = int(buf[252:256])
    o = 256 + offset * ns + 8 * sig
    buf[o:o + 8] = str(value).ljust(8).encode()


def _real_edf(tmp_path: Path, name: str, edit, shared_file) -> Path:
    src = shared_file("eeg", "test_edf_overlapping_annotations.edf")
    buf = bytearray(src.read_bytes())
    edit(buf)
    out = tmp_path / name
    out.write_bytes(buf)
    return out


# ------------------------------------------------------------------ EDF scaling (R5, R6)

def test_edf_zero_digital_range_is_an_error(tmp_path, shared_file):
    """R6: digital min == max on one channel was read 65 534x too large."""
    def edit(b):
        _set_signal_field(b, 120, 1, "0")
        _set_signal_field(b, 128, 1, "0")
    path = _real_edf(tmp_path, "dig.edf", edit, shared_file)
    with pytest.raises(CorruptFileError) as err:
        read(path)
    msg = str(err.value)
    assert "dig.edf" in msg and "Fc3." in msg and "digital" in msg


def test_edf_zero_physical_range_is_an_error(tmp_path, shared_file):
    """R5: physical min == max on one channel was read with its variation x 0.006."""
    def edit(b):
        ns = int(b[252:256])
        pmax = b[256 + 112 * ns + 8:256 + 112 * ns + 16].decode().strip()
        _set_signal_field(b, 104, 1, pmax)
    path = _real_edf(tmp_path, "phys.edf", edit, shared_file)
    with pytest.raises(CorruptFileError) as err:
        read(path)
    assert "phys.edf" in str(err.value) and "Fc3." in str(err.value)
    assert "physical" in str(err.value)


def test_edf_zero_range_in_crafted_file(tmp_path):
    path = write_edf(tmp_path / "c.edf")
    buf = bytearray(path.read_bytes())
    _set_signal_field(buf, 104, 0, "100")
    _set_signal_field(buf, 112, 0, "100")
    path.write_bytes(buf)
    with pytest.raises(CorruptFileError, match=r"c\.edf.*'S0'.*physical"):
        read(path)


# ------------------------------------------------------------------ time base (R15, R3, R4)

def test_edf_record_duration_zero(tmp_path):
    """R15: a record duration of 0 was read as MNE's assumed 1 s."""
    path = write_edf(tmp_path / "d0.edf", duration="0")
    with pytest.raises(CorruptFileError, match=r"d0\.edf.*record duration is 0"):
        read(path)


@pytest.mark.parametrize("declared", ["0", "5", "12"])
def test_edf_record_count_disagrees_with_size(tmp_path, declared):
    """R3, R4: a header record count that disagrees with the file size (MNE resolved it
    silently from the size)."""
    path = write_edf(tmp_path / f"n{declared}.edf", header_records=declared)
    with pytest.raises(CorruptFileError) as err:
        read(path)
    assert f"n{declared}.edf" in str(err.value)
    assert "records" in str(err.value)


def test_edf_unknown_record_count_still_reads(tmp_path, caplog):
    """R1, R2: -1 (unknown) is inferred from the size; stray bytes are logged."""
    path = write_edf(tmp_path / "m1.edf", header_records="-1")
    assert read(path).n_times == 1000
    with open(path, "ab") as fh:
        fh.write(b"abc")
    with caplog.at_level(logging.WARNING):
        rec = read(path)
    assert rec.n_times == 1000 and "3 bytes after the last whole data record" in caplog.text


# ------------------------------------------------------------------ discontinuous (R12-R14)

def _tals(onsets):
    return [f"+{o}\x14\x14\x00".encode() for o in onsets]


@pytest.mark.parametrize(("reserved", "bdf"), [("EDF+D", False), ("EDF+C", False),
                                                ("BDF+D", True)])
def test_edf_plus_gaps_are_kept(tmp_path, reserved, bdf):
    """R12-R14: a 5 s gap after record 5 was joined back to back without a word, and an
    annotation after the gap was misplaced or dropped."""
    ext = ".bdf" if bdf else ".edf"
    tals = _tals([0, 1, 2, 3, 4, 10, 11, 12, 13, 14])
    tals[7] = b"+12\x14\x14\x00+12.5\x14stim\x14\x00"
    path = write_edf(tmp_path / f"gap{ext}", reserved=reserved, bdf=bdf, annot=tals)
    rec = read(path)
    assert rec.n_times == 1500 and rec.duration == 15.0  # the real time base
    gaps = rec.events[rec.events["description"] == "BAD_gap"]
    assert gaps[["onset", "duration"]].values.tolist() == [[5.0, 5.0]]
    stim = rec.events[rec.events["description"] == "stim"]
    assert stim["onset"].tolist() == [12.5]
    data = rec.get_data()
    assert np.isnan(data[:, 500:1000]).all() and np.isfinite(data[:, :500]).all()
    assert np.isfinite(data[:, 1000:]).all()
    # the samples after the gap are the file's records 5..9 (sine of the real time 10..15 s)
    plain = write_edf(tmp_path / f"plain{ext}", bdf=bdf)
    np.testing.assert_array_equal(data[:, 1000:], read(plain).get_data()[:, 500:])
    assert rec.reader_flags == {"S0": ["discontinuous"], "S1": ["discontinuous"]}
    # a continuous EDF+ stays unflagged
    ok = write_edf(tmp_path / f"ok{ext}", reserved=reserved, bdf=bdf, annot=_tals(range(10)))
    rec = read(ok)
    assert rec.reader_flags == {} and "BAD_gap" not in set(rec.events["description"])
    assert rec.n_times == 1000


def test_edf_plus_overlapping_records_are_an_error(tmp_path):
    path = write_edf(tmp_path / "back.edf", reserved="EDF+D",
                     annot=_tals([0, 1, 2, 3, 4, 4.5, 6, 7, 8, 9]))
    with pytest.raises(CorruptFileError, match=r"back\.edf.*record 5 .*overlap"):
        read(path)


def test_spectral_segmenter_skips_bad_gap(tmp_path):
    """The spectral segmenter drops segments that span a BAD_gap join (duration 0)."""
    from ketephys.spectral.fft import SpectralSettings, accumulate, bad_intervals

    path = write_edf(tmp_path / "gap.edf", reserved="EDF+D",
                     annot=_tals([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]))
    rec = read(path)
    assert bad_intervals(rec).tolist() == [[500, 1000]]
    settings = SpectralSettings(seg_len=1.0, overlap=0.5)
    with_gap = accumulate(rec, settings)
    assert with_gap.n_rejected >= 1 and np.isfinite(with_gap.psd_sum).all()
    kept = accumulate(rec, SpectralSettings(seg_len=1.0, overlap=0.5,
                                            reject_by_annotation=False))
    assert kept.n_rejected == 0 and kept.n_segments == with_gap.n_segments + with_gap.n_rejected


# ------------------------------------------------------------------ misc

def test_real_edf_reads_unflagged(tmp_path, shared_file):
    path = shared_file("eeg", "test_edf_overlapping_annotations.edf")
    rec = read(path)
    assert rec.sfreq == 128.0 and rec.n_channels == 64 and rec.reader_flags == {}


def test_library_warning_is_never_dropped(tmp_path, caplog, shared_file):
    """A BrainVision copy: MNE's coordinate notes are harmless; nothing is swallowed."""
    src = shared_file("eeg", "testbva.vhdr").parent
    for name in ("testbva.vhdr", "testbva.vmrk", "testbva.dat"):
        shutil.copy(src / name, tmp_path / name)
    with caplog.at_level(logging.INFO, logger="ketephys.io"):
        rec = read(tmp_path / "testbva.vhdr")
    assert rec.reader_flags == {}
    assert "No coordinate information" in caplog.text


def test_resolve_warnings_fatal_and_flag():
    from ketephys.io.flags import resolve_warnings

    with pytest.raises(CorruptFileError, match="x.edf: MNE cannot read it faithfully"):
        resolve_warnings(["Scaling factor will not be defined in: A"], "x.edf", "MNE")
    assert resolve_warnings(["odd thing about channel 'A1'"], "x.edf", "MNE",
                            ["A1", "A2"]) == {"A1": ["reader_warning"]}
    assert isinstance(CorruptFileError("a", "b"), KetephysError)


# ------------------------------------------------------------------ BrainVision (R23-R26)

def _bv_copy(tmp_path: Path, edit_header, shared_file) -> Path:
    src = shared_file("eeg", "testbva.vhdr").parent
    shutil.copy(src / "testbva.dat", tmp_path / "x.dat")
    (tmp_path / "x.vmrk").write_text(
        (src / "testbva.vmrk").read_text(encoding="latin-1").replace("testbva.dat", "x.dat"),
        encoding="latin-1")
    text = (src / "testbva.vhdr").read_text(encoding="latin-1")
    text = text.replace("DataFile=testbva.dat", "DataFile=x.dat").replace(
        "MarkerFile=testbva.vmrk", "MarkerFile=x.vmrk")
    (tmp_path / "x.vhdr").write_text(edit_header(text), encoding="latin-1")
    return tmp_path / "x.vhdr"


def _drop_channels(text: str, keep: int) -> str:
    lines = [ln for ln in text.splitlines()
             if not (ln.startswith("Ch") and "=" in ln and ln[2:ln.index("=")].isdigit()
                     and int(ln[2:ln.index("=")]) > keep)]
    return "\n".join(lines).replace("NumberOfChannels=32", f"NumberOfChannels={keep}")


@pytest.mark.parametrize(("case", "edit", "words"), [
    ("R23", lambda t: t.replace("BinaryFormat=IEEE_FLOAT_32", "BinaryFormat=INT_16"),
     ["INT_16", "270336", "4 bytes"]),
    ("R24", lambda t: _drop_channels(t, 16), ["NumberOfChannels=16", "32 channels"]),
    ("R26", lambda t: _drop_channels(t, 31), ["NumberOfChannels=31", "not a whole number"]),
    ("R30", lambda t: t.replace("DataPoints=2112", "DataPoints=1000"), ["DataPoints=1000"]),
])
def test_brainvision_header_contradicting_data_size(tmp_path, case, edit, words, shared_file):
    path = _bv_copy(tmp_path, edit, shared_file)
    with pytest.raises(CorruptFileError) as err:
        read(path)
    msg = str(err.value)
    assert "x.vhdr" in msg and "x.dat" in msg
    for w in words:
        assert w in msg, (case, msg)


def test_brainvision_sampling_interval_zero(tmp_path, shared_file):
    """R31: SamplingInterval=0 gave 'float division by zero'."""
    path = _bv_copy(tmp_path, lambda t: t.replace("SamplingInterval=5000",
                                                  "SamplingInterval=0"), shared_file)
    with pytest.raises(CorruptFileError, match=r"x\.vhdr: SamplingInterval='0'"):
        read(path)


def test_brainvision_copy_still_reads(tmp_path, shared_file):
    rec = read(_bv_copy(tmp_path, lambda t: t, shared_file))
    assert rec.n_channels == 32 and rec.sfreq == 200.0 and rec.n_times == 2112


# ------------------------------------------------------------------ sidecars (R51-R72)

def _npy_with_sidecar(tmp_path: Path, side_text: str, shape=(2, 1000)) -> Path:
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    (tmp_path / "x.json").write_text(side_text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("case", "side", "field"), [
    ("R51", '{"sfreq": true, "units": "V"}', "sfreq"),
    ("R51", '{"sfreq": 100, "units": "V", "hours_since_dose": true}', "hours_since_dose"),
    ("R51", '{"sfreq": 100, "units": "V", "dose_mg_per_kg": false}', "dose_mg_per_kg"),
    ("R51", '{"sfreq": 100, "units": "V", "infusion": true}', "infusion"),
    ("R51", '{"sfreq": 100, "units": "V", "meta": {"infusion": true}}', "meta"),
    ("R60", '{"sfreq": 100, "units": "V", "ch_names": "ab"}', "ch_names"),
    ("R62", '{"sfreq": 100, "units": 5}', "units"),
    ("R63", '{"sfreq": 100, "units": "V", "sweep_starts": "0,1"}', "sweep_starts"),
    ("R65", '{"sfreq": 100, "units": "V", "events": {"onset": ["x"], '
            '"description": ["a"]}}', "events"),
    ("R66", '{"sfreq": 100, "units": "V", "events": {"onset": [1, 2], '
            '"description": ["a"]}}', "events"),
    ("R67", '{"sfreq": 100, "units": "V", "events": {"onset": [-5, 1e6], '
            '"description": ["a", "b"]}}', "events"),
    ("R68", '{"sfreq": 100, "units": "V", "meta": "x"}', "meta"),
    ("R72", '{"sfreq": 1000, "sfreq": 10, "units": "V"}', "sfreq"),
])
def test_sidecar_field_errors_name_the_field(tmp_path, case, side, field):
    path = _npy_with_sidecar(tmp_path, side)
    with pytest.raises(KetephysError) as err:
        read(path)
    msg = str(err.value)
    assert "x." in msg and repr(field)[1:-1] in msg, (case, msg)
    assert isinstance(err.value, (MetadataError,)), (case, type(err.value))


def test_overlapping_sweeps_are_an_error(tmp_path):
    """R64: 1 s sweeps starting 0.1 s apart were accepted."""
    path = _npy_with_sidecar(tmp_path, '{"sfreq": 1000, "units": "V", '
                                       '"sweep_starts": [0, 0.1, 0.2]}', shape=(3, 1, 1000))
    with pytest.raises(MetadataError, match=r"x\.npy: sweep_starts: .*overlap"):
        read(path)


def test_sidecar_events_as_records_and_meta_pass_through(tmp_path):
    path = _npy_with_sidecar(tmp_path, '{"sfreq": 100, "units": "mV", "ch_names": ["a", "b"],'
                                       ' "events": [{"onset": 1.5, "description": "stim"}],'
                                       ' "subject": "rat01", "meta": {"sex": "F"}}')
    with pytest.raises(MetadataError, match="unknown metadata key 'sex' from sidecar"):
        read(path)  # undeclared extra metadata
    rec = read(path, extras=["sex"])
    assert rec.events["onset"].tolist() == [1.5] and rec.meta.subject == "rat01"
    assert rec.meta.extras["sex"] == "F" and rec.units == ["V", "V"]
    assert rec.reader_flags == {}


# ------------------------------------------------------------------ CSV (R74-R78)

@pytest.mark.parametrize(("text", "words"), [
    ("a,b,c\nfoo,bar,baz\n", ["non-numeric", "'a'"]),                      # R74
    ("It was a dark and stormy night.\nNo numbers here.\n", ["non-numeric"]),  # R74
    ("A,B\n1,2\n3,x\n", ["non-numeric", "'B'", "'x'"]),                      # R75
    ("A,B\n", ["no data rows"]),                                             # R76
    ("A,B\n1,5,2,5\n", ["separator"]),
])
def test_csv_that_is_not_numbers(tmp_path, text, words):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(CorruptFileError) as err:
        read(path, sfreq=100, units="V")
    msg = str(err.value)
    assert "t.csv" in msg and "TypeError" not in msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize(("text", "expected"), [
    ("A;B\n1,5;2,5\n3,5;4,5\n", [[1.5, 3.5], [2.5, 4.5]]),   # R78
    ("A\tB\n1,5\t2,5\n3,5\t4,5\n", [[1.5, 3.5], [2.5, 4.5]]),
    ("time,A,B\n0,1.5,2.5\n0.01,3.5,4.5\n", [[1.5, 3.5], [2.5, 4.5]]),
    ("1.5 2.5\n3.5 4.5\n", [[1.5, 3.5], [2.5, 4.5]]),
])
def test_csv_dialects(tmp_path, text, expected):
    path = tmp_path / "d.csv"
    path.write_text(text)
    rec = read(path, sfreq=100, units="V")
    np.testing.assert_allclose(rec.get_data(), expected)


# ------------------------------------------------------------------ units, empty files

def test_array_without_units_is_flagged(tmp_path, caplog):
    path = tmp_path / "u.npy"
    np.save(path, np.ones((2, 100)) * np.arange(100))
    with caplog.at_level(logging.WARNING):
        rec = read(path, sfreq=100)
    assert rec.reader_flags == {"ch0": ["unit_assumed"], "ch1": ["unit_assumed"]}
    assert "u.npy: channel ch0 flagged unit_assumed" in caplog.text
    assert read(path, sfreq=100, units="mV").reader_flags == {}
    part = read(path, sfreq=100, units={"ch0": "mV"})
    assert part.reader_flags == {"ch1": ["unit_assumed"]} and part.units == ["V", "V"]


def test_real_unitless_npy_is_flagged(caplog, shared_file):
    """new-user finding 11: int16 hc2 samples (-3870..2736) were taken as volts silently."""
    with caplog.at_level(logging.WARNING):
        rec = read(shared_file("lfp", "npy", "rat_hippocampus_hc2.npy"), sfreq=1000,
                   modality="lfp")
    assert rec.reader_flags == {"ch0": ["unit_assumed"]}
    assert "ADC counts?" in caplog.text and "rat_hippocampus_hc2.npy" in caplog.text


def test_units_for_a_channel_that_does_not_exist(tmp_path, shared_file):
    path = tmp_path / "u.npy"
    np.save(path, np.ones((2, 100)))
    with pytest.raises(MetadataError, match=r"u\.npy: units names channels \['CA9'\].*ch0"):
        read(path, sfreq=100, units={"CA9": "mV"})
    abf = shared_file("fepsp", "2022_07_01_0012.abf")
    with pytest.raises(MetadataError, match=r"0012\.abf: units= names channels \['Vm'\]"
                                            r".*\['Ipatch'\]"):
        read(abf, units={"Vm": "mV"})
    rec = read(abf, units="mV")  # one string: every channel
    assert rec.units == ["V"] and 1e-5 < float(np.abs(rec.data).max()) < 1e-1


@pytest.mark.parametrize("shape", [(2, 0), (0, 100), (3, 2, 0)])
def test_empty_arrays(tmp_path, shape):
    """R45, R46: empty arrays were read (and failed later in the analysers)."""
    path = tmp_path / "e.npy"
    np.save(path, np.zeros(shape))
    with pytest.raises(CorruptFileError, match=r"e\.npy: .*holds no samples"):
        read(path, sfreq=100, units="V")


def test_empty_abf(tmp_path, shared_file):
    """R37: an ABF with 0 samples read as n_times 0 and crashed the analyser."""
    import struct

    buf = bytearray(shared_file("fepsp", "2022_07_01_0012.abf").read_bytes())
    buf[244:252] = struct.pack("<q", 0)  # DataSection entries
    buf[324:332] = struct.pack("<q", 0)  # SynchArraySection entries
    path = tmp_path / "empty.abf"
    path.write_bytes(buf)
    with pytest.raises(CorruptFileError, match=r"empty\.abf: holds no samples"):
        read(path)


def test_edf_without_samples(tmp_path):
    """R11: every signal at 0 samples per record."""
    path = write_edf(tmp_path / "z.edf", spr=0)
    with pytest.raises(CorruptFileError, match=r"z\.edf: holds no samples"):
        read(path)


# ------------------------------------------------------------------ wrong modality

@pytest.mark.parametrize(("rel", "modality", "words"), [
    ("fepsp/example2_001.wcp", "eeg",
     ["9 sweeps of 0.202 s with one field channel", "an fEPSP recording given as eeg?"]),
    ("fepsp/2022_07_01_0012.abf", "lfp", ["240 sweeps", "an fEPSP recording given as lfp?"]),
    ("eeg/test_edf_overlapping_annotations.edf", "fepsp",
     ["124 s of continuous data with 64 eeg channels", "an EEG recording given as fepsp?"]),
    ("patch/f1.abf", "eeg", ["10 sweeps of 2.5 s", "a patch-clamp recording given as eeg?"]),
    ("patch/f1.abf", "fepsp", ["2 im and 2 misc channels (CH1: im, CH2: im, IN 2: misc",
                               "a patch-clamp recording given as fepsp?"]),
    ("lfp/axona_rat_mec_hpc/83812141.set", "fepsp",
     ["1201 s of continuous data", "an LFP recording given as fepsp?"]),
    ("eeg/testbva.vhdr", "patch", ["needs a channel of type vm or im"]),
])
def test_wrong_modality_says_what_the_file_looks_like(rel, modality, words, shared_file):
    path = shared_file(*rel.split("/"))
    with pytest.raises(MetadataError) as err:
        read(path, modality=modality)
    msg = str(err.value)
    assert path.name in msg
    for w in words:
        assert w in msg, msg


def test_wrong_modality_arrays(tmp_path):
    path = tmp_path / "sw.npy"
    np.save(path, np.zeros((5, 1, 200)) + np.arange(200))
    with pytest.raises(MetadataError, match=r"sw\.npy: 5 sweeps of 0\.2 s with one lfp "
                                            r"channel: an fEPSP recording given as lfp\?"):
        read(path, sfreq=1000, units="V", modality="lfp")
    assert read(path, sfreq=1000, units="V", modality="fepsp").n_sweeps == 5


def test_patch_auxiliary_dc_inputs_are_misc(shared_file):
    """f1.abf: IN 2 / IN 3 are ~3 V DC auxiliary inputs labelled mV, not field channels."""
    rec = read(shared_file("patch", "f1.abf"), modality="patch")
    assert rec.ch_types == ["im", "im", "misc", "misc"]
    assert rec.reader_flags == {"IN 2": ["aux_dc"], "IN 3": ["aux_dc"]}
    kept = read(shared_file("patch", "f1.abf"), ch_types={"IN 2": "field"})
    assert kept.ch_types[2] == "field" and "IN 2" not in kept.reader_flags
    fepsp = read(shared_file("fepsp", "2022_07_01_0012.abf"), modality="fepsp")
    assert fepsp.ch_types == ["field"] and fepsp.reader_flags == {}


def test_brainvision_marker_before_the_start(tmp_path, shared_file):
    """R33: a .vmrk marker at position -50 was dropped silently."""
    path = _bv_copy(tmp_path, lambda t: t, shared_file)
    vmrk = tmp_path / "x.vmrk"
    lines = vmrk.read_text(encoding="latin-1").splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Mk2="))
    f = lines[i].split(",")
    f[2] = "-50"
    lines[i] = ",".join(f)
    vmrk.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(CorruptFileError, match=r"x\.vmrk: marker Mk2 is at position -50"):
        read(path)


def test_edf_signal_without_samples_is_flagged(tmp_path):
    """R10: a signal with 0 samples per record comes back as zeros: flag it."""
    path = write_edf(tmp_path / "one0.edf")
    buf = bytearray(path.read_bytes())
    # give S1 0 samples per record and drop its bytes from every record
    ns, spr, n_rec = 2, 100, 10
    _set_signal_field(buf, 216, 1, "0")
    head, body = bytes(buf[:256 * (ns + 1)]), bytes(buf[256 * (ns + 1):])
    rec_bytes = ns * spr * 2
    body = b"".join(body[r * rec_bytes:r * rec_bytes + spr * 2] for r in range(n_rec))
    path.write_bytes(head + body)
    rec = read(path)
    assert rec.reader_flags == {"S1": ["no_samples"]}


def test_brainvision_channel_count_and_entries_disagree(tmp_path, shared_file):
    """R28: NumberOfChannels=32 with 31 Ch entries gave an MNE message suggesting an
    MNE-only option."""
    path = _bv_copy(tmp_path, lambda t: "\n".join(
        ln for ln in t.splitlines() if not ln.startswith("Ch32=")), shared_file)
    with pytest.raises(CorruptFileError,
                       match=r"x\.vhdr: NumberOfChannels=32 but \[Channel Infos\] lists 31"):
        read(path)


# ------------------------------------------------------------------ library warnings

def test_fatal_mne_warning_becomes_an_error(tmp_path, monkeypatch, shared_file):
    """Any MNE warning meaning 'the scaling is a guess' fails the read, whatever format."""
    import mne

    original = mne.io.read_raw_brainvision

    def warning_reader(*args, **kwargs):
        from mne.utils import warn

        raw = original(*args, **kwargs)
        warn("Scaling factor will not be defined in the following channels:\nFp1")
        return raw

    monkeypatch.setattr(mne.io, "read_raw_brainvision", warning_reader)
    with pytest.raises(CorruptFileError, match=r"x\.vhdr: MNE cannot read it faithfully: "
                                               r"Scaling factor"):
        read(_bv_copy(tmp_path, lambda t: t, shared_file))


def test_neo_warning_is_logged_and_flags_its_channel(monkeypatch, caplog, shared_file):
    """Neo's warnings were silenced; now they are logged and flag the channel they name."""
    import warnings

    import neo

    original = neo.rawio.axonrawio.AxonRawIO._parse_header

    def noisy(self):
        original(self)
        warnings.warn("channel 'Ipatch' has an odd gain", UserWarning, stacklevel=1)

    monkeypatch.setattr(neo.rawio.axonrawio.AxonRawIO, "_parse_header", noisy)
    with caplog.at_level(logging.WARNING):
        rec = read(shared_file("fepsp", "2022_07_01_0012.abf"))
    assert rec.reader_flags == {"Ipatch": ["reader_warning"]}
    assert "Neo warns: channel 'Ipatch' has an odd gain" in caplog.text
