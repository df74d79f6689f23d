"""A tiny reader and analyser for the pipeline's own tests (not part of the library).

A plug-in module, not a test file: batch configs name its functions
(``pipeline_plugins:tiny_analyse``) as they would a lab's own reader or analyser, and
the pipeline tests import its study builders.

They are importable as ``pipeline_plugins:...`` by worker processes (spawned
processes and Dask workers inherit ``sys.path``; subprocesses get ``PYTHONPATH``).
The analyser's value is known exactly: the mean square of each channel.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from ketephys import Recording, feature_table
from ketephys.errors import CorruptFileError

TESTS_DIR = Path(__file__).resolve().parent


def tiny_read(path, modality=None, meta=None, sfreq=100.0):
    """Read ``<stem>.npy`` (volts, channels x times); metadata from ``meta``."""
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as err:
        raise CorruptFileError(f"not a valid .npy array ({err})", path) from None
    if data.ndim != 2:
        raise CorruptFileError(f"expected a 2-D array, got {data.ndim}-D", path)
    from ketephys.recording import Source

    return Recording(data, sfreq, [f"C{i}" for i in range(data.shape[0])], ["lfp"] * len(data),
                     units="V", meta=meta, source=Source(str(path), "npy", "tiny_read"))


def tiny_analyse(rec, scale=1.0, sleep=0.0, spin=0.0):
    """Mean square of each channel (x scale); ``sleep``/``spin`` seconds of idle/CPU work.

    When ``KETEPHYS_TEST_CALL_LOG`` names a folder, each call leaves a file there. When
    ``KETEPHYS_TEST_HOLD`` is ``<file name>:<folder>``, the call for that file writes
    ``<folder>/holding`` and waits until ``<folder>/release`` exists (see :func:`hold`)."""
    log_dir = os.environ.get("KETEPHYS_TEST_CALL_LOG")
    if log_dir:
        name = Path(rec.source.path).name + f".{os.getpid()}.{time.time_ns()}"
        (Path(log_dir) / name).write_text("")
    held_name, _, gate = os.environ.get("KETEPHYS_TEST_HOLD", "").partition(":")
    if held_name and Path(rec.source.path).name == held_name:
        hold(Path(gate))
    if sleep:
        time.sleep(sleep)
    if spin:
        t_end = time.process_time() + spin
        x = 0.0
        while time.process_time() < t_end:
            x += float(np.sum(np.sqrt(np.arange(2000.0))))
    data = rec.get_data()
    rows = [{"measure": "mean_square", "channel": ch, "value": float(np.mean(d ** 2)) * scale,
             "unit": "V^2"} for ch, d in zip(rec.ch_names, data)]
    return feature_table(rows, recording=rec, modality="lfp",
                         settings={"scale": scale})


def hold(gate: Path, timeout: float = 300.0) -> None:
    """Signal ``gate/holding``, then wait for ``gate/release`` (a test stops the process
    while it waits here: a run interrupted at a known recording, whatever the timing)."""
    (gate / "holding").write_text(str(os.getpid()))
    deadline = time.monotonic() + timeout
    while not (gate / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"nobody released {gate} within {timeout} s")
        time.sleep(0.01)


def make_study(folder: Path, n_good: int = 6, n_corrupt: int = 0, seed: int = 0,
               n_channels: int = 2, n_times: int = 200) -> list[Path]:
    """``n_good`` small arrays named ``{subject}_{region}_{hours}h.npy`` plus corrupt ones."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    regions = ["pfc", "hpc"]
    for i in range(n_good):
        p = folder / f"s{i // 2:02d}_{regions[i % 2]}_{(i % 3) * 24}h.npy"
        np.save(p, rng.normal(scale=1e-5, size=(n_channels, n_times)))
        paths.append(p)
    for j in range(n_corrupt):
        p = folder / f"bad{j:02d}_pfc_0h.npy"
        p.write_bytes(b"this is not a numpy file" * (j + 1))
        paths.append(p)
    return paths


def tiny_config(root: Path, **run) -> dict:
    cfg = {
        "study": "tiny",
        "inputs": {"glob": str(root / "*.npy"),
                   "pattern": "{subject}_{region}_{hours_since_dose}h.npy",
                   "modality": "lfp", "reader": "pipeline_plugins:tiny_read"},
        "modalities": {"lfp": {"pipeline_plugins:tiny_analyse": {"scale": 2.0}}},
        "report": {"enabled": False},
    }
    if run:
        cfg["run"] = run
    return cfg


def write_yaml(cfg: dict, path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    return path


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")])
    return env


def load_json(path: Path):
    return json.loads(Path(path).read_text())
