"""B1: gamma power + all-pairs theta coherence of a 64-channel, 10-minute, 1 kHz EDF.

ketephys two ways: the one-pass ``ketephys.spectral.features``, and the README's lab-script
path (``cross_spectrum`` shared by ``band_power`` and ``coherence``); each is one streamed
pass of
Welch FFTs, 2 s Hann, 50 % overlap, gamma 30-80 Hz power and theta 4-8 Hz MSC for all
2016 pairs) against MNE (``read_raw_edf`` + ``compute_psd``) + mne-connectivity
(``spectral_connectivity_epochs(method="coh", mode="multitaper", fmin=4, fmax=8,
faverage=True)`` on 2 s epochs). Each is a whole process (import, read, compute),
run alternately; wall time and that child's peak RSS come from ``os.wait4``.

Numbers where the definitions match are compared in extra (untimed) runs: ketephys
gamma power vs MNE Welch with a Hann window (``compute_psd(window="hann")``), and
ketephys ``coherence(method="multitaper", overlap=0, measure="coh")`` vs the
mne-connectivity ``coh`` of the timed run.

Usage: ``python benchmarks/bench_spectral_b1.py [--runs 3]``; the EDF is generated once
into ``benchmarks/_data`` (gitignored).
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
EDF = DATA / "b1_64ch_10min_1khz.edf"


def make_edf() -> None:
    """Simulate the recording (chunked) and write it as EDF with MNE's exporter."""
    import mne

    from ketephys.simulate.eeg import iter_eeg_chunks

    DATA.mkdir(parents=True, exist_ok=True)
    chunks, truth = iter_eeg_chunks(chunk_seconds=60.0, n_channels=64, duration=600.0,
                                    sfreq=1000.0, theta_channels=list(range(16)),
                                    theta_coherence=0.5, line_freq=50.0, seed=1)
    data = np.concatenate([b for _, b in chunks], axis=1)
    info = mne.create_info(truth.ch_names, 1000.0, "eeg")
    raw = mne.io.RawArray(data, info, verbose=False)
    mne.export.export_raw(EDF, raw, fmt="edf", overwrite=True, verbose=False)


# ----------------------------------------------------------------------------- workers
def worker_ketephys(out: Path, precision: str) -> None:
    from ketephys._parallel import single_blas_thread

    t0 = time.perf_counter()
    import ketephys
    import ketephys.spectral as ks

    with single_blas_thread():
        rec = ketephys.io.read(EDF)
        table = ks.features(rec, bands=["gamma"], kinds=["absolute"], aperiodic=None,
                            coherence_band=(4.0, 8.0), measure="msc", method="welch",
                            seg_len=2.0, overlap=0.5, precision=precision)
    power, coh = table[table["ch_a"].isna()], table[table["ch_a"].notna()]
    res = {"gamma": power["value"].tolist(), "msc": coh["value"].tolist(),
           "pairs": coh["channel"].tolist(), "inner_s": time.perf_counter() - t0,
           "lazy": bool(rec.is_lazy)}
    out.write_text(json.dumps(res))


def worker_ketephys_readme(out: Path) -> None:
    """The README's lab-script path: one cross-spectrum shared by band_power and
    coherence (the same analyses as the MNE composite: absolute gamma, theta MSC)."""
    from ketephys._parallel import single_blas_thread

    t0 = time.perf_counter()
    import ketephys
    from ketephys import spectral

    with single_blas_thread():
        rec = ketephys.read(EDF)
        cs = spectral.cross_spectrum(rec, band=(4.0, 8.0))
        gamma = spectral.band_power(cs, band="gamma")
        theta = spectral.coherence(cs, band=(4.0, 8.0), pairs="all", measure="msc")
    out.write_text(json.dumps({"gamma": gamma["value"].tolist(),
                               "msc": theta["value"].tolist(),
                               "inner_s": time.perf_counter() - t0}))


def worker_ketephys_matched(out: Path) -> None:
    """Untimed: ketephys with mne-connectivity's definitions (multitaper |C|)."""
    import ketephys
    import ketephys.spectral as ks

    rec = ketephys.io.read(EDF)
    coh = ks.coherence(rec, (4.0, 8.0), method="multitaper", overlap=0.0, measure="coh")
    out.write_text(json.dumps({"coh": coh["value"].tolist(),
                               "pairs": coh["channel"].tolist()}))


def worker_mne(out: Path, window: str = "hamming") -> None:
    from ketephys._parallel import single_blas_thread

    t0 = time.perf_counter()
    import mne
    from mne_connectivity import spectral_connectivity_epochs

    with single_blas_thread():
        raw = mne.io.read_raw_edf(EDF, preload=False, verbose=False)
        spec = raw.compute_psd(method="welch", fmin=30.0, fmax=80.0, n_fft=2000,
                               n_per_seg=2000, n_overlap=1000, window=window,
                               verbose=False)
        psd, freqs = spec.get_data(return_freqs=True)
        gamma = psd.sum(axis=1) * (freqs[1] - freqs[0])
        epochs = mne.make_fixed_length_epochs(raw, duration=2.0, preload=True,
                                              verbose=False)
        con = spectral_connectivity_epochs(epochs, method="coh", mode="multitaper",
                                           fmin=4.0, fmax=8.0, faverage=True, verbose=False)
        dense = con.get_data(output="dense")[:, :, 0]
    n = dense.shape[0]
    coh = [float(dense[b, a]) for a in range(n) for b in range(a + 1, n)]
    res = {"gamma": gamma.tolist(), "coh": coh, "inner_s": time.perf_counter() - t0}
    out.write_text(json.dumps(res))


# ----------------------------------------------------------------------------- parent
def run(kind: str, out: Path) -> tuple[float, float]:
    """Run one worker process under ``/usr/bin/time``; return (wall s, peak RSS MiB).

    ``/usr/bin/time`` reports the worker's own maximum resident set (a child forked
    straight from this parent would inherit the parent's high-water mark in
    ``ru_maxrss``).
    """
    from ketephys._parallel import pin_blas_env

    stats = out.with_suffix(".time")
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), sys.executable,
           str(Path(__file__).resolve()), "--worker", kind, "--out", str(out)]
    proc = subprocess.run(cmd, env=pin_blas_env())
    if proc.returncode != 0:
        raise RuntimeError(f"worker {kind} failed ({proc.returncode})")
    wall, rss_kib = stats.read_text().split()[-2:]
    return float(wall), float(rss_kib) / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--worker", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.worker:
        out = Path(args.out)
        if args.worker == "ketephys":
            worker_ketephys(out, "float64")
        elif args.worker == "ketephys32":
            worker_ketephys(out, "float32")
        elif args.worker == "ketephys-readme":
            worker_ketephys_readme(out)
        elif args.worker == "ketephys-matched":
            worker_ketephys_matched(out)
        elif args.worker == "mne":
            worker_mne(out)
        elif args.worker == "mne-hann":
            worker_mne(out, window="hann")
        elif args.worker == "make-edf":
            make_edf()
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if not EDF.exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "make-edf",
                        "--out", str(EDF)], check=True)  # keeps this parent small
        print(f"generated {EDF.name} ({EDF.stat().st_size / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - t0:.1f} s")
    kinds = ["ketephys", "mne", "ketephys-readme", "ketephys32"]
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    for i in range(args.runs):
        for kind in kinds if i % 2 == 0 else kinds[::-1]:  # alternate the order
            wall, rss = run(kind, OUT / f"b1_{kind}.json")
            times[kind].append((wall, rss))
            print(f"run {i + 1} {kind:11s} wall {wall:6.2f} s  peak RSS {rss:7.1f} MiB",
                  flush=True)
    # definition-matched numbers (untimed)
    run("ketephys-matched", OUT / "b1_ketephys-matched.json")
    run("mne-hann", OUT / "b1_mne-hann.json")
    res = {k: json.loads((OUT / f"b1_{k}.json").read_text())
           for k in [*kinds, "ketephys-matched", "mne-hann"]}
    med = {k: (float(np.median([w for w, _ in v])), float(np.median([r for _, r in v])))
           for k, v in times.items()}
    print("\nmedian over runs (whole process: import + read + compute)")
    for k, (w, r) in med.items():
        print(f"  {k:11s} wall {w:6.2f} s  peak RSS {r:7.1f} MiB")
    for k in ("ketephys", "ketephys-readme", "ketephys32"):
        print(f"  {k}/mne: time ratio {med[k][0] / med['mne'][0]:.3f} "
              f"(speed-up {med['mne'][0] / med[k][0]:.2f}x), "
              f"memory ratio {med[k][1] / med['mne'][1]:.3f}")
    g_k = np.array(res["ketephys"]["gamma"])
    g_m = np.array(res["mne-hann"]["gamma"])
    g_32 = np.array(res["ketephys32"]["gamma"])
    c_k = np.array(res["ketephys-matched"]["coh"])
    c_m = np.array(res["mne"]["coh"])
    msc64 = np.array(res["ketephys"]["msc"])
    msc32 = np.array(res["ketephys32"]["msc"])
    g_r = np.array(res["ketephys-readme"]["gamma"])
    msc_r = np.array(res["ketephys-readme"]["msc"])
    print(f"  README path vs one-pass features: gamma max rel "
          f"{np.max(np.abs(g_r / g_k - 1)):.2e}, MSC max abs {np.max(np.abs(msc_r - msc64)):.2e}")
    print("\nnumbers (same definitions)")
    print(f"  gamma power ketephys vs MNE Welch (Hann): max rel diff "
          f"{np.max(np.abs(g_k / g_m - 1)):.2e}")
    print(f"  theta coh |C| ketephys multitaper vs mne-connectivity: max abs diff "
          f"{np.max(np.abs(c_k - c_m)):.2e} over {c_k.size} pairs")
    print(f"  float32 vs float64: gamma max rel {np.max(np.abs(g_32 / g_k - 1)):.2e}, "
          f"MSC max abs {np.max(np.abs(msc32 - msc64)):.2e}")
    print(f"  (MNE default Hamming vs Hann gamma: max rel "
          f"{np.max(np.abs(np.array(res['mne']['gamma']) / g_m - 1)):.2e})")
    summary = {"median": med, "gamma_max_rel": float(np.max(np.abs(g_k / g_m - 1))),
               "coh_max_abs": float(np.max(np.abs(c_k - c_m)))}
    (OUT / "b1_summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
