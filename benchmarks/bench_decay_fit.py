"""Benchmark: decay fits with profile CIs and a 1000-replicate subject bootstrap.

Study: 3 regions x 20 subjects x 6 visits (baseline, 2 h, 24 h, d3, d7, d14), default
marker scenario. Times, side by side in one run:

1. ketephys population fit (random effects) + profile CIs + 1000-replicate bootstrap
   (all replicates batched), ``fit_decay(..., ci="both", n_boot=1000)``;
2. ketephys pooled least squares + the same 1000 bootstrap replicates, batched;
3. the peer way for (2): a Python loop of ``scipy.optimize.curve_fit`` refits of the
   pooled model on the same resampled subjects;

and reports the ratio (3) / (2) and the agreement of the two bootstrap intervals.

Run: ``python benchmarks/bench_decay_fit.py`` (pins BLAS to one thread).
"""

from __future__ import annotations

import time

import numpy as np


def _curve_fit_loop(table, idx_by_region, n_boot):
    from scipy.optimize import curve_fit

    def model(t, e0, a, tau):
        with np.errstate(over="ignore"):
            return e0 + a * np.where(t >= 0, np.exp(-np.maximum(t, 0) / tau), 0.0)

    out = {}
    for region, (subjects, idx) in idx_by_region.items():
        sub = table[table.region == region]
        per = {s: sub[sub.subject == s] for s in subjects}
        taus = np.empty(n_boot)
        for b in range(n_boot):
            rows = [per[subjects[i]] for i in idx[b]]
            t = np.concatenate([r.hours_since_dose.to_numpy(float) for r in rows])
            y = np.concatenate([r.value.to_numpy(float) for r in rows])
            try:
                p, _ = curve_fit(model, t, y, p0=[np.median(y), 0.3, 50.0], maxfev=5000)
                taus[b] = p[2]
            except RuntimeError:
                taus[b] = np.nan
        out[region] = taus
    return out


def main(n_boot: int = 1000, seed: int = 0) -> None:
    from ketephys._parallel import single_blas_thread
    from ketephys.longitudinal import fit_decay
    from ketephys.simulate.markers import simulate_marker_study

    table, truth = simulate_marker_study(n_subjects=20, seed=seed)
    with single_blas_thread():
        fit_decay(table.iloc[:60], ci="profile")  # warm imports (scipy.special)
        t0, c0 = time.perf_counter(), time.process_time()
        pop = fit_decay(table, ci="both", n_boot=n_boot, seed=seed)
        t_pop, c_pop = time.perf_counter() - t0, time.process_time() - c0

        t0, c0 = time.perf_counter(), time.process_time()
        pooled = fit_decay(table, random_effects=False, baseline_mode="estimate", ci="bootstrap",
                           n_boot=n_boot, seed=seed)
        t_pooled, c_pooled = time.perf_counter() - t0, time.process_time() - c0

        idx_by_region = {g.key[0]: (list(g.data.subjects), g.boot_idx) for g in pooled.groups}
        t0, c0 = time.perf_counter(), time.process_time()
        loop = _curve_fit_loop(table, idx_by_region, n_boot)
        t_loop, c_loop = time.perf_counter() - t0, time.process_time() - c0

    print(f"study: 3 regions x 20 subjects x 6 visits, {n_boot} bootstrap replicates")
    print("                                          wall (s)   CPU (s)")
    print(f"ketephys population fit + profile + bootstrap : {t_pop:7.2f}  {c_pop:7.2f}")
    print(f"ketephys pooled LS + batched bootstrap        : {t_pooled:7.2f}  {c_pooled:7.2f}")
    print(f"scipy curve_fit loop, same replicates         : {t_loop:7.2f}  {c_loop:7.2f}")
    print(f"ratio curve_fit loop / ketephys batched (CPU) : {c_loop / c_pooled:7.1f} x")
    print(f"ratio curve_fit loop / ketephys population    : {c_loop / c_pop:7.1f} x")
    s = pop.summary().set_index("region")
    sp = pooled.summary().set_index("region")
    for g in pooled.groups:
        r = g.key[0]
        lo, hi = np.nanpercentile(loop[r], [2.5, 97.5])
        print(f"{r}: true tau {truth['regions'][r]['tau_h']:.0f} h | population "
              f"{s.loc[r, 'tau_h']:.1f} [{s.loc[r, 'tau_ci_low_h']:.1f}, "
              f"{s.loc[r, 'tau_ci_high_h']:.1f}] profile, [{s.loc[r, 'tau_boot_ci_low_h']:.1f}, "
              f"{s.loc[r, 'tau_boot_ci_high_h']:.1f}] bootstrap | pooled bootstrap ketephys "
              f"[{sp.loc[r, 'tau_ci_low_h']:.1f}, {sp.loc[r, 'tau_ci_high_h']:.1f}] vs "
              f"curve_fit [{lo:.1f}, {hi:.1f}]")


if __name__ == "__main__":
    main()
