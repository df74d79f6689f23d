"""B2: time-resolved gamma power and theta coherence, per minute, on long recordings.

A 16-channel, 1 kHz continuous recording of 1 h and of 4 h is simulated chunk by chunk
straight into a float32 ``.npy`` with a JSON sidecar (``simulate_eeg_to_npy``, never
holding more than a chunk) in ``benchmarks/_data`` (gitignored). Each worker process
reads it lazily and runs ``ketephys.spectral.spectral_timecourse`` (gamma 30-80 Hz
power per channel and theta 4-8 Hz MSC for all 120 pairs, 60 s windows, Welch 2 s Hann
50 %), one pass of FFTs per window. Reported: wall time, peak RSS (``/usr/bin/time``),
and throughput in samples per second, for both lengths; the peak memory of the 4 h run
should be within 10 % of the 1 h run's.

Two ways of reading the file are measured:

* ``mmap``: ``ketephys.io.read`` (a numpy memory map). Pages of a file mapping that were
  read count in the resident set until the kernel reclaims them, so RSS can grow with
  the file even though the analysis holds only one batch.
* ``pread``: a lazy reader (``read(picks, start, stop)`` with positioned reads) that
  holds nothing but the block asked for; this shows the analysis's own memory.

Usage: ``python benchmarks/bench_spectral_b2.py [--hours 1 4]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
OUT = HERE / "_out"
N_CH, SFREQ = 16, 1000.0


def npy_path(hours: float) -> Path:
    return DATA / f"b2_{N_CH}ch_{hours:g}h_1khz.npy"


def make(hours: float) -> None:
    from ketephys.simulate.eeg import simulate_eeg_to_npy

    DATA.mkdir(parents=True, exist_ok=True)
    simulate_eeg_to_npy(npy_path(hours), chunk_seconds=60.0, ch_types="eeg",
                        dtype=np.float32, seed=2, n_channels=N_CH,
                        duration=hours * 3600.0, sfreq=SFREQ, theta_channels=list(range(8)),
                        theta_coherence=0.5)


class PreadArray:
    """Lazy ``(n_channels, n_times)`` float32 .npy reader using positioned reads."""

    def __init__(self, path: Path):
        probe = np.load(path, mmap_mode="r")  # header only; no data page is touched
        shape, dtype, self._offset = probe.shape, probe.dtype, probe.offset
        assert probe.flags.c_contiguous and len(shape) == 2
        del probe
        self._path = path
        self._itemsize = dtype.itemsize
        self._dtype = dtype
        self.shape = shape
        self.ndim = 2
        self.dtype = np.dtype(np.float64)

    def read(self, picks, start: int, stop: int) -> np.ndarray:
        picks = np.asarray(picks, dtype=int)
        out = np.empty((picks.size, stop - start), dtype=np.float64)
        with open(self._path, "rb") as f:
            for i, ch in enumerate(picks):
                f.seek(self._offset + (int(ch) * self.shape[1] + start) * self._itemsize)
                out[i] = np.fromfile(f, dtype=self._dtype, count=stop - start)
        return out

    def __array__(self, dtype=None, copy=None):
        return self.read(np.arange(self.shape[0]), 0, self.shape[1])


def worker(hours: float, reader: str, out: Path) -> None:
    from ketephys._parallel import single_blas_thread

    t0 = time.perf_counter()
    import ketephys
    import ketephys.spectral as ks
    from ketephys.recording import Recording

    path = npy_path(hours)
    if reader == "mmap":
        rec = ketephys.io.read(path)
    else:
        side = json.loads(path.with_suffix(".json").read_text())
        rec = Recording(PreadArray(path), side["sfreq"], side["ch_names"],
                        ch_types=side["ch_types"], units="V")
    t1 = time.perf_counter()
    with single_blas_thread():
        table = ks.spectral_timecourse(rec, bands=("gamma",), kinds=("absolute",),
                                       coherence_band="theta", measures=("msc",),
                                       window_s=60.0)
    t2 = time.perf_counter()
    n_win = table["window_start"].nunique()
    msc = table.query("measure == 'theta_msc' and channel == 'EEG001-EEG002'")["value"]
    out.write_text(json.dumps({
        "compute_s": t2 - t1, "total_s": t2 - t0, "n_windows": int(n_win),
        "n_rows": len(table), "n_times": rec.n_times,
        "msc_pair_mean": float(msc.mean()),
        "gamma_mean": float(table.query("measure == 'gamma_power'")["value"].mean())}))


def run(args: list[str], stats: Path) -> tuple[float, float]:
    from ketephys._parallel import pin_blas_env

    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), sys.executable,
           str(Path(__file__).resolve()), *args]
    if subprocess.run(cmd, env=pin_blas_env()).returncode != 0:
        raise RuntimeError(f"worker {args} failed")
    wall, rss = stats.read_text().split()[-2:]
    return float(wall), float(rss) / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 4.0])
    ap.add_argument("--readers", nargs="+", default=["pread", "mmap"])
    ap.add_argument("--worker", nargs=2, default=None)
    ap.add_argument("--make", type=float, default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.make is not None:
        make(args.make)
        return
    if args.worker:
        worker(float(args.worker[0]), args.worker[1], Path(args.out))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    for h in args.hours:
        if not npy_path(h).exists():
            wall, rss = run(["--make", str(h)], OUT / "b2_make.time")
            print(f"generated {npy_path(h).name} "
                  f"({npy_path(h).stat().st_size / 2**20:.0f} MiB) in {wall:.1f} s, "
                  f"peak RSS {rss:.0f} MiB", flush=True)
    results = {}
    for reader in args.readers:
        for h in args.hours:
            out = OUT / f"b2_{h:g}h_{reader}.json"
            wall, rss = run(["--worker", str(h), reader, "--out", str(out)],
                            out.with_suffix(".time"))
            res = json.loads(out.read_text())
            res.update(wall_s=wall, peak_rss_mib=rss)
            results[(reader, h)] = res
            sps = res["n_times"] / res["compute_s"]
            print(f"{reader:5s} {h:g} h: wall {wall:7.1f} s, compute {res['compute_s']:7.1f} s, "
                  f"peak RSS {rss:7.1f} MiB, {res['n_windows']} windows, "
                  f"{sps / 1e6:.2f} M samples/s per channel ({sps * N_CH / 1e6:.1f} M "
                  f"channel-samples/s); theta MSC EEG001-EEG002 {res['msc_pair_mean']:.3f}",
                  flush=True)
        if len(args.hours) >= 2:
            r0 = results[(reader, args.hours[0])]["peak_rss_mib"]
            r1 = results[(reader, args.hours[-1])]["peak_rss_mib"]
            print(f"{reader:5s} peak RSS ratio {args.hours[-1]:g} h / {args.hours[0]:g} h = "
                  f"{r1 / r0:.3f}")
    (OUT / "b2_summary.json").write_text(json.dumps(
        {f"{r}_{h:g}h": v for (r, h), v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
