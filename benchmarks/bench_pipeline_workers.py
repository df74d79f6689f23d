"""Batch pipeline: wall time of 24 recordings with 1 worker vs 2 worker processes.

Simulates 24 EEG recordings (32 channels, 300 s at 500 Hz, EDF) once into
``benchmarks/_data/pipeline_workers`` and runs the spectral analyser (band power,
aperiodic fit, theta coherence) over them with ``n_jobs=1`` (serial, in this process),
and ``n_jobs=2`` (two spawned worker processes, one BLAS thread each); every run
recomputes (``force=True``) and the outputs are checked identical. Prints the wall
times, the speed-up, the mean time per recording inside the workers and the machine's
load average (on a shared machine other processes take cores and lower the speed-up).

    python benchmarks/bench_pipeline_workers.py [--n 24] [--duration 120]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def make_study(folder: Path, n: int, duration: float, n_channels: int) -> Path:
    from ketephys.io import write
    from ketephys.simulate.eeg import simulate_eeg

    manifest = folder / "manifest.csv"
    stamp = folder / "study.txt"
    wanted = f"{n} {duration} {n_channels}"
    if manifest.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return manifest
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        meta = {"subject": f"s{i // 6:02d}", "region": "PFC",
                "hours_since_dose": [-1, 2, 24, 72, 168, 336][i % 6]}
        rec, _ = simulate_eeg(n_channels=n_channels, duration=duration, sfreq=500.0,
                              gamma_power=2e-11 * (1 + 0.1 * (i % 6)), meta=meta, seed=i)
        name = f"rec{i:02d}.edf"
        write(rec, folder / name, overwrite=True)
        rows.append({"path": name, "modality": "eeg", **meta})
    pd.DataFrame(rows).to_csv(manifest, index=False)
    stamp.write_text(wanted)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--channels", type=int, default=32)
    args = parser.parse_args()

    from ketephys.pipeline import config_from_dict, run

    data = HERE / "_data" / "pipeline_workers"
    t0 = time.perf_counter()
    manifest = make_study(data, args.n, args.duration, args.channels)
    print(f"study: {args.n} EEG recordings, {args.channels} ch x {args.duration:g} s @ 500 Hz "
          f"(prepared in {time.perf_counter() - t0:.1f} s)")
    cfg = config_from_dict({
        "inputs": {"manifest": str(manifest)},
        "modalities": {"eeg": {"spectral": {"aperiodic": "fixed"}}},
        "report": {"enabled": False}}, base_dir=data)
    out_root = HERE / "_out" / "pipeline_workers"
    times, results = {}, {}
    for label, kwargs in (("serial (n_jobs=1)", {"n_jobs": 1}),
                          ("2 worker processes", {"n_jobs": 2})):
        out = out_root / label.split()[0]
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        per_task: list[float] = []
        cpu: list[float] = []
        t = time.perf_counter()
        res = run(cfg, out=out, force=True, on_result=lambda r, a=per_task, c=cpu: (a.append(r.seconds),
                                                          c.append(r.cpu_seconds)),
                  **kwargs)
        times[label] = time.perf_counter() - t
        results[label] = res.features
        assert res.ok and res.n_computed == args.n, res.failures
        print(f"{label:>22}: {times[label]:6.1f} s  (per recording in the worker: "
              f"{sum(per_task) / len(per_task):.2f} s wall, {sum(cpu) / len(cpu):.2f} s CPU; "
              f"load average before: {load:.1f})")
    serial, two = times["serial (n_jobs=1)"], times["2 worker processes"]
    pd.testing.assert_frame_equal(results["serial (n_jobs=1)"],
                                  results["2 worker processes"])
    print(f"speed-up 2 workers vs 1: {serial / two:.2f}x (outputs identical)")


if __name__ == "__main__":
    main()
