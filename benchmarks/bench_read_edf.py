"""Read a 64-channel, 10-minute, 1 kHz EDF: ketephys.read vs mne.io.read_raw_edf(preload=True).

Generates the EDF once into benchmarks/_data/ (gitignored), then times, alternately in one
run, (a) MNE reading it with ``preload=True`` and (b) ``ketephys.read(path).data`` (open +
load every sample as a numpy array in volts), and reports medians and the ratio b/a. The
target is a ratio <= 1.2. Also reported: the cost of ``ketephys.read`` alone (lazy: the
header and annotations only).

Run: ``python benchmarks/bench_read_edf.py [--repeats 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "_data"
EDF = DATA / "bench_64ch_10min_1kHz.edf"


def make_edf(path: Path = EDF) -> Path:
    """A 64-channel, 600 s, 1000 Hz EDF of pink-ish noise with a few annotations."""
    if path.exists():
        return path
    from ketephys import Recording
    from ketephys.io import write

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 600_000
    data = np.cumsum(rng.normal(scale=1e-6, size=(64, n)), axis=1)
    data -= data.mean(axis=1, keepdims=True)
    data = np.clip(data, -4e-4, 4e-4)
    rec = Recording(data, 1000.0, [f"EEG{i:02d}" for i in range(64)], ch_types=["eeg"] * 64,
                    events={"onset": np.arange(10.0, 600.0, 30.0),
                            "description": ["marker"] * 20})
    write(rec, path)
    return path


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(repeats: int = 7) -> float:
    import mne

    import ketephys

    path = make_edf()
    ketephys.read(path)  # warm imports and caches for both
    mne.io.read_raw_edf(path, preload=True, verbose="error")
    t_mne, t_kp, t_lazy = [], [], []
    for _ in range(repeats):
        t_mne.append(_time(lambda: mne.io.read_raw_edf(path, preload=True, verbose="error")))
        t_kp.append(_time(lambda: ketephys.read(path).data))
        t_lazy.append(_time(lambda: ketephys.read(path)))
    m_mne, m_kp, m_lazy = (statistics.median(t) for t in (t_mne, t_kp, t_lazy))
    ratio = m_kp / m_mne
    print(f"file: {path.name} ({path.stat().st_size / 2**20:.0f} MiB), {repeats} repeats")
    print(f"mne.io.read_raw_edf(preload=True) : median {m_mne:.3f} s")
    print(f"ketephys.read(path).data           : median {m_kp:.3f} s  (ratio {ratio:.2f})")
    print(f"ketephys.read(path) (lazy open)    : median {m_lazy:.3f} s  "
          f"(ratio {m_lazy / m_mne:.2f})")
    return ratio


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    main(parser.parse_args().repeats)
