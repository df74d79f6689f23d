"""The batch run never serves a stale or mixed number (reliability cases P3-P31).

Cache keys cover every file a reader opens and only the bytes analysed; the output set
is committed as a unit under a lock; special files, full disks and unwritable folders
end cleanly with their own exit status. The analyser here is a tiny one written into
``tmp_path`` (mean square of the data, known exactly), so the tests exercise the
machinery; the real files come from ../shared/data (skipped when absent).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ketephys.cli import main
from ketephys.pipeline import config_from_dict, run
from ketephys.pipeline.cache import ResultCache, hash_file, input_files
from ketephys.pipeline.lock import OutputFolderError, output_lock
from ketephys.pipeline.outputs import check_outputs

TINY = '''
import time
import numpy as np
from ketephys import feature_table


def analyse(rec, scale=1.0, sleep=0.0):
    """Mean square of all samples (x scale), after sleeping ``sleep`` seconds."""
    time.sleep(sleep)
    value = float(np.mean(np.asarray(rec.get_data(), float) ** 2)) * scale
    return feature_table([{"measure": "mean_square", "channel": "mean", "value": value,
                           "unit": "V^2"}], recording=rec, modality="lfp",
                         settings={"scale": scale})
'''


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Make ``kp_tiny:analyse`` importable here, in spawned workers and subprocesses."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "kp_tiny.py").write_text(TINY)
    monkeypatch.syspath_prepend(str(lib))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(lib), os.environ.get(
        "PYTHONPATH", "")]))
    return lib


def write_npy(path: Path, data: np.ndarray, sfreq: float = 100.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, data)
    path.with_suffix(".json").write_text(json.dumps({"sfreq": sfreq, "units": "V",
                                                     "ch_types": "lfp"}))
    return path


def npy_study(folder: Path, n: int = 3, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    return [write_npy(folder / f"r{i}.npy", rng.normal(scale=1e-5, size=(2, 300)))
            for i in range(n)]


def manifest_config(tmp_path: Path, rows: list[dict], modality: str = "lfp", **extra
                    ) -> Path:
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.csv", index=False)
    cfg = {"study": "t", "inputs": {"manifest": "manifest.csv", "modality": modality,
                                    **extra.pop("inputs", {})},
           "modalities": {modality: {"kp_tiny:analyse": {"scale": 1.0, **extra.pop(
               "settings", {})}}},
           "report": {"enabled": False}, **extra}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def features(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "features.csv", dtype={"subject": str, "session": str})


def counts(out: Path) -> dict:
    return json.loads((out / "provenance.json").read_text())["counts"]


def scale_floats(path: Path, dtype: str, offset: int = 0, factor: float = 3.0,
                 keep_mtime: bool = True) -> None:
    """Multiply the samples after ``offset`` bytes by ``factor`` (same size), then put
    the modification time back, as ``cp -p``/``rsync -t`` would."""
    st = os.stat(path)
    raw = bytearray(path.read_bytes())
    body = np.frombuffer(bytes(raw[offset:]), dtype=dtype)
    raw[offset:] = (body * factor).astype(dtype).tobytes()
    path.write_bytes(bytes(raw))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


# ------------------------------------------------------------------ B: cache keys
def rerun_after(tmp_path, edit) -> tuple[list[Path], pd.Series, pd.Series]:
    """Run three recordings, apply ``edit(files)``, rerun: (files, values before, after)."""
    files = npy_study(tmp_path / "raw")
    cfg = manifest_config(tmp_path, [{"path": f"raw/{f.name}", "subject": f"0{i}"}
                                     for i, f in enumerate(files)])
    values = []
    for step in (None, edit):
        if step is not None:
            step(files)
        assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "-q"]) == 0
        values.append(features(tmp_path / "o").set_index("subject")["value"])
    return files, values[0], values[1]


def test_same_size_restored_mtime_is_recomputed_p17(tmp_path, tiny):
    files, before, after = rerun_after(  # np.save header: 128 bytes
        tmp_path, lambda files: scale_floats(files[1], "<f8", offset=128, factor=2.0))
    assert counts(tmp_path / "o")["computed"] == 1 and counts(tmp_path / "o")["cached"] == 2
    assert after["01"] == pytest.approx(4 * before["01"], rel=1e-9)
    assert after["00"] == before["00"]
    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    listed = {f["path"]: f["sha256"] for i in prov["inputs"] for f in i["files"]}
    for f in files:  # every input, with the hash of its current bytes
        assert listed[str(f)] == hash_file(f)[0]
        assert listed[str(f.with_suffix(".json"))] == hash_file(f.with_suffix(".json"))[0]


def test_only_the_sidecar_changed_is_recomputed(tmp_path, tiny):
    _, before, after = rerun_after(tmp_path, lambda files: files[2].with_suffix(
        ".json").write_text(json.dumps({"sfreq": 100.0, "units": "mV", "ch_types": "lfp"})))
    assert counts(tmp_path / "o")["computed"] == 1
    assert after["02"] == pytest.approx(1e-6 * before["02"], rel=1e-9)  # mV: x1e-3 squared
    assert after["00"] == before["00"]


def _real_case(tmp_path, kind, shared_file):
    """Copy a real multi-file recording into tmp_path; returns (main file, file to edit,
    dtype, data offset)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    if kind == "eeglab":
        for name in ("eeglab_data.set", "eeglab_data.fdt"):
            shutil.copy(shared_file("eeg", name), raw / name)
        return raw / "eeglab_data.set", raw / "eeglab_data.fdt", "<f4", 0
    if kind == "brainvision":  # P20: data and marker files named unlike the header
        src = shared_file("eeg", "testbva.vhdr")
        shutil.copy(src.with_suffix(".dat"), raw / "raw_data_1.dat")
        (raw / "rec1.vhdr").write_text(src.read_text().replace(
            "DataFile=testbva.dat", "DataFile=raw_data_1.dat").replace(
            "MarkerFile=testbva.vmrk", "MarkerFile=markers_1.vmrk"))
        (raw / "markers_1.vmrk").write_text(src.with_suffix(".vmrk").read_text().replace(
            "testbva.dat", "raw_data_1.dat"))
        return raw / "rec1.vhdr", raw / "raw_data_1.dat", "<f4", 0
    folder = shared_file("lfp", "axona_rat_mec_hpc")
    for f in folder.iterdir():
        shutil.copy(f, raw / f.name)
        os.chmod(raw / f.name, 0o644)
    eeg2 = raw / "83812141.eeg2"
    header_end = eeg2.read_bytes().index(b"data_start") + len(b"data_start")
    return raw / "83812141.set", eeg2, "i1", header_end


@pytest.mark.parametrize("kind", ["eeglab", "brainvision", "axona"])
def test_changing_one_companion_file_recomputes_only_that_recording(tmp_path, tiny, kind,
                                                                    shared_file):
    main_file, edited, dtype, offset = _real_case(tmp_path, kind, shared_file)
    for f in main_file.parent.iterdir():
        os.chmod(f, 0o644)
    assert edited in input_files(main_file)
    modality = "eeg" if kind != "axona" else "lfp"
    write_npy(tmp_path / "sim" / "x.npy",
              np.random.default_rng(1).normal(scale=1e-5, size=(2, 300)))
    cfg = manifest_config(tmp_path, [
        {"path": str(main_file.relative_to(tmp_path)), "modality": modality, "subject": "01"},
        {"path": "sim/x.npy", "modality": "lfp", "subject": "02"}], modality=modality)
    text = yaml.safe_load(cfg.read_text())
    text["modalities"]["lfp"] = {"kp_tiny:analyse": {"scale": 1.0}}
    cfg.write_text(yaml.safe_dump(text))
    out = tmp_path / "o"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    before = features(out).set_index("subject")["value"]
    scale_floats(edited, dtype, offset=offset, factor=2.0 if dtype == "i1" else 3.0)
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    assert counts(out)["computed"] == 1 and counts(out)["cached"] == 1
    after = features(out).set_index("subject")["value"]
    assert after["02"] == before["02"]
    assert after["01"] != pytest.approx(before["01"], rel=1e-3)
    assert main(["run", str(cfg), "--out", str(tmp_path / "fresh"), "-q"]) == 0
    assert features(tmp_path / "fresh").set_index("subject")["value"]["01"] == \
        pytest.approx(after["01"], rel=1e-12)


def test_file_changed_between_hashing_and_reading_is_never_cached_p21(tmp_path, tiny,
                                                                     monkeypatch):
    files = npy_study(tmp_path / "raw", n=2)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{f.name}", "subject": f"0{i}"}
                                     for i, f in enumerate(files)])
    from ketephys.pipeline import runner

    real = runner.run_checked

    def edit_then_run(task, signatures):
        if task.spec.path == str(files[1]):
            scale_floats(files[1], "<f8", offset=128)  # after hashing, before reading
        return real(task, signatures)

    monkeypatch.setattr(runner, "run_checked", edit_then_run)
    res = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=tmp_path),
              out=tmp_path / "o")
    assert res.n_failed == 1 and "changed while the recording was analysed" in \
        res.failures[0]["message"]
    cache = ResultCache(tmp_path / "o" / "cache")
    assert len(list(cache.folder.glob("*.parquet"))) == 1  # only the untouched one
    monkeypatch.setattr(runner, "run_checked", real)
    again = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=tmp_path),
                out=tmp_path / "o")
    assert again.ok and again.n_computed == 1
    truth = float(np.mean(np.load(files[1]) ** 2))
    got = again.features.set_index("subject")["value"]["01"]
    assert got == pytest.approx(truth, rel=1e-12)


def test_reader_opening_an_unhashed_file_fails_loudly(tmp_path, tiny, monkeypatch):
    npy_study(tmp_path / "raw", n=1)
    stray = tmp_path / "raw" / "elsewhere.bin"
    stray.write_bytes(b"x")
    (tiny / "kp_reader.py").write_text(
        "import dataclasses\nfrom ketephys.io import read as _read\n"
        "def read(path, **kw):\n    rec = _read(path, **kw)\n"
        f"    rec.source = dataclasses.replace(rec.source, files=(*rec.source.files, "
        f"{str(stray)!r}))\n    return rec\n")
    cfg = manifest_config(tmp_path, [{"path": "raw/r0.npy", "subject": "01"}],
                          inputs={"reader": "kp_reader:read"})
    res = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=tmp_path),
              out=tmp_path / "o")
    assert res.n_failed == 1 and "not among the hashed inputs" in res.failures[0]["message"]
    assert not list((tmp_path / "o" / "cache").glob("*.parquet"))


# ----------------------------------------------------- E: special files as inputs
def test_special_files_in_a_manifest_are_reported_per_input_p26_p29(tmp_path, tiny):
    good = npy_study(tmp_path / "raw", n=1)[0]
    d = tmp_path / "raw"
    os.mkfifo(d / "fifo.npy")
    os.symlink("loop2.npy", d / "loop1.npy")
    os.symlink("loop1.npy", d / "loop2.npy")
    os.symlink("/dev/zero", d / "zero.npy")
    os.symlink("nonexistent.npy", d / "dangling.npy")
    (d / "folder.npy").mkdir()
    names = ["fifo.npy", "loop1.npy", "zero.npy", "dangling.npy", "folder.npy"]
    cfg = manifest_config(tmp_path, [{"path": f"raw/{good.name}", "subject": "01"}] + [
        {"path": f"raw/{n}", "subject": f"{i + 2:02d}"} for i, n in enumerate(names)])
    code = ("import sys; from ketephys.cli import main; "
            f"sys.exit(main(['run', {str(cfg)!r}, '--out', {str(tmp_path / 'o')!r}, '-q']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    fails = pd.read_csv(tmp_path / "o" / "failures.csv").set_index("file")["message"]
    expect = {"fifo.npy": "FIFO", "loop1.npy": "symbolic link loop",
              "zero.npy": "character device", "dangling.npy": "dangling symbolic link",
              "folder.npy": "a folder"}
    for name, word in expect.items():
        assert word in fails[str(d / name)], fails  # under the manifest's own path
    assert len(features(tmp_path / "o")) == 1
    check = subprocess.run([sys.executable, "-m", "ketephys", "config", "--check", str(cfg)],
                           capture_output=True, text=True, timeout=240)
    assert check.returncode == 2 and "Traceback" not in check.stderr
    for word in expect.values():
        assert word in check.stderr


def test_glob_reports_special_files_instead_of_skipping_them_p24(tmp_path, tiny):
    npy_study(tmp_path / "raw", n=2)
    os.mkfifo(tmp_path / "raw" / "fifo.npy")
    os.symlink("gone.npy", tmp_path / "raw" / "dangling.npy")
    cfg = config_from_dict({"inputs": {"glob": "raw/*.npy", "modality": "lfp"},
                            "modalities": {"lfp": {"kp_tiny:analyse": {}}},
                            "report": {"enabled": False}}, base_dir=tmp_path)
    res = run(cfg, out=tmp_path / "o")
    assert res.n_computed == 2 and res.n_failed == 2
    assert {Path(f["file"]).name for f in res.failures} == {"fifo.npy", "dangling.npy"}


def test_outputs_are_never_discovered_as_inputs_p30(tmp_path, tiny):
    (tiny / "kp_csv.py").write_text(
        "import numpy as np\nfrom ketephys import Recording\n"
        "def read(path, modality=None, meta=None):\n"
        "    data = np.loadtxt(path, delimiter=',', ndmin=2)\n"
        "    return Recording.from_array(data.T, 100.0, ['a', 'b'], ch_types=['lfp', 'lfp'],"
        " units='V', meta=meta)\n")
    rng = np.random.default_rng(0)
    for i in range(2):
        (tmp_path / "raw").mkdir(exist_ok=True)
        np.savetxt(tmp_path / "raw" / f"r{i}.csv", rng.normal(size=(50, 2)), delimiter=",")
    cfg = tmp_path / "study.yaml"
    cfg.write_text(yaml.safe_dump({"inputs": {"glob": "**/*.csv", "modality": "lfp",
                                              "reader": "kp_csv:read"},
                                   "modalities": {"lfp": {"kp_tiny:analyse": {}}},
                                   "report": {"enabled": False}}))
    for _ in range(2):  # default out: derivatives/ketephys beside the config
        assert main(["run", str(cfg), "-q"]) == 0
    assert counts(tmp_path / "derivatives" / "ketephys")["recordings"] == 2


# ------------------------------------------------------------- C: output set
def test_kill_during_the_output_phase_is_reported_and_repaired_p8_p9(tmp_path, tiny,
                                                                     monkeypatch):
    files = npy_study(tmp_path / "raw", n=4)
    rows = [{"path": f"raw/{f.name}", "subject": f"0{i}"} for i, f in enumerate(files)]
    cfg = manifest_config(tmp_path, rows)
    out = tmp_path / "o"
    assert main(["run", str(cfg), "--out", str(out), "--subjects", "00", "01", "-q"]) == 0
    assert check_outputs(out) == []
    from ketephys.pipeline import outputs

    real = outputs.write_table
    calls = []

    def dies_after_first(frame, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as a kill between two tables
        return real(frame, path)

    monkeypatch.setattr(outputs, "write_table", dies_after_first)
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 130
    assert pd.read_parquet(out / "features.parquet")["subject"].nunique() == 4
    assert features(out)["subject"].nunique() == 2  # mixed on disk...
    problems = check_outputs(out)
    assert problems and "run.json is missing" in problems[0]  # ...and detected
    monkeypatch.setattr(outputs, "write_table", real)
    res = run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=tmp_path), out=out)
    assert res.repaired and "run.json is missing" in res.repaired[0]
    assert check_outputs(out) == []
    assert features(out)["subject"].nunique() == 4
    assert counts(out)["cached"] == 4
    stamp = json.loads((out / "run.json").read_text())
    assert json.loads((out / "provenance.json").read_text())["run_id"] == stamp["run_id"]


def test_a_changed_table_is_detected(tmp_path, tiny):
    files = npy_study(tmp_path / "raw", n=1)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{files[0].name}", "subject": "01"}])
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "-q"]) == 0
    (tmp_path / "o" / "decay_fits.csv").write_text("fit\nother run\n")
    assert check_outputs(tmp_path / "o") == ["decay_fits.csv is not the file run "
                                             f"{json.loads((tmp_path / 'o' / 'run.json').read_text())['run_id']} wrote"]


def test_stale_tmp_files_are_removed_and_modes_follow_the_umask_p3(tmp_path, tiny):
    files = npy_study(tmp_path / "raw", n=1)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{files[0].name}", "subject": "01"}])
    out = tmp_path / "o"
    (out / "cache").mkdir(parents=True)
    stale = [out / ".features.csv.abc123.tmp", out / "cache" / ".deadbeef.parquet.x.tmp"]
    for f in stale:
        f.write_bytes(b"")
    old = os.umask(0o022)
    try:
        assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    finally:
        os.umask(old)
    assert not any(f.exists() for f in stale)
    for name in ("features.csv", "features.parquet", "provenance.json", "run.json"):
        assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o644
    assert {stat.S_IMODE(p.stat().st_mode) for p in (out / "cache").iterdir()} == {0o644}


def test_a_second_run_into_a_locked_folder_stops_with_status_4_p11(tmp_path, tiny, capsys):
    files = npy_study(tmp_path / "raw", n=1)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{files[0].name}", "subject": "01"}])
    out = tmp_path / "o"
    code = ("import sys, time; from ketephys.pipeline.lock import output_lock\n"
            f"with output_lock({str(out)!r}):\n    print('locked', flush=True)\n"
            "    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["run", str(cfg), "--out", str(out), "-q"]) == 4
        err = capsys.readouterr().err
        assert f"another ketephys run (pid {holder.pid})" in err
    finally:
        holder.kill()
        holder.wait()
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0  # lock gone with holder
    with output_lock(out):
        with pytest.raises(OutputFolderError, match="another ketephys run"):
            run(config_from_dict(yaml.safe_load(cfg.read_text()), base_dir=tmp_path),
                out=out)


def test_out_is_a_file_or_read_only_gives_status_4_p12_p14(tmp_path, tiny, capsys):
    files = npy_study(tmp_path / "raw", n=1)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{files[0].name}", "subject": "01"}])
    (tmp_path / "afile").write_text("x")
    assert main(["run", str(cfg), "--out", str(tmp_path / "afile"), "-q"]) == 4
    err = capsys.readouterr().err
    assert "output folder error" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    out = tmp_path / "ro"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(out), str(out)],
                          capture_output=True).returncode != 0:
            if subprocess.run(["mount", "--bind", str(out), str(out)],
                              capture_output=True).returncode != 0:
                pytest.skip("cannot make a read-only mount here")
            subprocess.run(["mount", "-o", "remount,ro,bind", str(out)], check=True)
    else:
        for p in [out, *out.rglob("*")]:
            os.chmod(p, 0o555 if p.is_dir() else 0o444)
    try:
        assert main(["run", str(cfg), "--out", str(out), "--force", "-q"]) == 4
        assert "output folder error" in capsys.readouterr().err
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(out)], capture_output=True)
        else:
            for p in [out, *out.rglob("*")]:
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_disk_full_mid_batch_stops_with_status_4_and_a_valid_cache_p15(tmp_path, tiny,
                                                                      monkeypatch, capsys):
    files = npy_study(tmp_path / "raw", n=5)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{f.name}", "subject": f"0{i}"}
                                     for i, f in enumerate(files)])
    real = ResultCache.put
    stored = []

    def fills_up(self, key, rows, views=None):
        if len(stored) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        stored.append(key)
        return real(self, key, rows, views)

    monkeypatch.setattr(ResultCache, "put", fills_up)
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "-q"]) == 4
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "Traceback" not in err
    cache = ResultCache(tmp_path / "o" / "cache")
    assert all(cache.has(k) and len(cache.get(k)) == 1 for k in stored)
    monkeypatch.setattr(ResultCache, "put", real)
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "-q"]) == 0
    assert counts(tmp_path / "o")["cached"] == 2 and counts(tmp_path / "o")["computed"] == 3


def test_disk_full_while_writing_outputs_leaves_a_detected_set_p16(tmp_path, tiny,
                                                                  monkeypatch):
    files = npy_study(tmp_path / "raw", n=2)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{f.name}", "subject": f"0{i}"}
                                     for i, f in enumerate(files)])
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "--subjects", "00", "-q"]) == 0
    from ketephys.pipeline import outputs

    real = outputs.write_json

    def full(content, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs, "write_json", full)
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "-q"]) == 4
    assert check_outputs(tmp_path / "o")  # features new, provenance old: flagged
    monkeypatch.setattr(outputs, "write_json", real)
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "-q"]) == 0
    assert check_outputs(tmp_path / "o") == [] and counts(tmp_path / "o")["recordings"] == 2


def test_real_full_tmpfs_gives_status_4(tmp_path, tiny):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        rng = np.random.default_rng(0)
        files = [write_npy(tmp_path / "raw" / f"r{i}.npy", rng.normal(size=(2, 300)))
                 for i in range(4)]
        (tiny / "kp_big.py").write_text(
            "import numpy as np\nfrom ketephys import feature_table\n"
            "def analyse(rec):\n    return feature_table([{'measure': 'm', 'channel': "
            "str(i), 'value': float(i), 'unit': 'V', 'note': 'x' * 2000} "
            "for i in range(300)], recording=rec, modality='lfp')\n")
        cfg = manifest_config(tmp_path, [{"path": f"raw/{f.name}", "subject": f"0{i}"}
                                         for i, f in enumerate(files)])
        text = yaml.safe_load(cfg.read_text())
        text["modalities"]["lfp"] = {"kp_big:analyse": {}}
        cfg.write_text(yaml.safe_dump(text))
        proc = subprocess.run([sys.executable, "-m", "ketephys", "run", str(cfg), "--out",
                               str(mnt / "o"), "-q"], capture_output=True, text=True,
                              timeout=240)
        assert proc.returncode == 4, proc.stderr
        assert "no space left" in proc.stderr and "Traceback" not in proc.stderr
        assert not list((mnt / "o").rglob("*.tmp"))
        cache = ResultCache(mnt / "o" / "cache")
        for entry in cache.folder.glob("*.parquet"):
            assert len(pd.read_parquet(entry)) == 300  # whole entries only
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


# --------------------------------------------------------- E: signals, workers
def _children(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_the_main_process_leaves_no_worker_p5_p6(tmp_path, tiny, sig):
    import psutil

    files = npy_study(tmp_path / "raw", n=8)
    cfg = manifest_config(tmp_path, [{"path": f"raw/{f.name}", "subject": f"{i:02d}"}
                                     for i, f in enumerate(files)], settings={"sleep": 3.0})
    proc = subprocess.Popen([sys.executable, "-m", "ketephys", "run", str(cfg), "--out",
                             str(tmp_path / "o"), "--n-jobs", "2", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    kids: list = []
    while time.monotonic() < deadline:  # wait for both workers to be busy
        kids = [k for k in _children(proc.pid) if "resource_tracker" not in " ".join(
            k.cmdline() if k.is_running() else [])]
        if len(kids) >= 2 and list((tmp_path / "o" / "cache").glob("file_hashes.json")):
            break
        time.sleep(0.2)
    assert len(kids) >= 2, "the workers never started"
    every = _children(proc.pid)
    os.kill(proc.pid, sig)
    status = proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    alive = every
    while time.monotonic() < deadline:
        alive = [k for k in every if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            break
        time.sleep(0.2)
    for k in alive:  # do not leak them into the rest of the test session
        k.kill()
    assert not alive, f"still running 10 s after {sig.name}: {[k.pid for k in alive]}"
    if sig == signal.SIGTERM:
        assert status == 143
        assert "terminated; finished recordings are cached" in proc.stderr.read()
