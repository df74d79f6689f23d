"""Benchmark: optimising a 3-region, 6-visit schedule (target: under 30 s on 2 cores).

Seed scenario (PFC, HPC, STR), 20 subjects, baseline + 6 post-dose visits between 2 h
and day 14 at least 12 h apart, 8 seeded random starts plus the current schedule, for
each criterion (D, mean and max relative SE of tau). Also times one evaluation of the
population Fisher information of the three regions, and the optimisation of a
two-arm (Val / Met) design with the allocation optimised too.

Wall and CPU time are both printed: on a shared machine the wall time follows the load.

Run: ``python benchmarks/bench_plan.py`` (pins BLAS to one thread).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# benchmark this checkout's ketephys, not whichever one is installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from ketephys.longitudinal.optimal_design import (
        ScheduleConstraints,
        design_criterion,
        optimise_schedule,
    )
    from ketephys.longitudinal.planning import Arm, StudyDesign, regions_from_scenario

    regions = regions_from_scenario("default")
    design = StudyDesign(regions, times=(2.0, 24.0, 72.0, 120.0, 168.0, 336.0),
                         arms=(Arm(n_subjects=20),))
    n = 200
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        design_criterion(design, "mean_rse_tau")
    print(f"one criterion evaluation (3 regions): {1e3 * (time.perf_counter() - t0) / n:.2f} ms "
          f"wall, {1e3 * (time.process_time() - c0) / n:.2f} ms CPU "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    cons = ScheduleConstraints(6, 2.0, 336.0, 12.0)
    for criterion in ("D", "mean_rse_tau", "max_rse_tau"):
        t0, c0 = time.perf_counter(), time.process_time()
        opt = optimise_schedule(design, cons, criterion=criterion, n_starts=8, seed=0)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{criterion:>13}: {wall:5.1f} s wall ({cpu:4.1f} s CPU)  "
              f"{opt.current_value:.4f} -> {opt.value:.4f}  "
              f"times {tuple(round(t, 1) for t in opt.times)}  "
              f"{'OK' if wall < 30 else 'SLOWER THAN 30 s'}")
    arms = (Arm("Val", 10, met_carrier=False), Arm("Met", 10, met_carrier=True))
    two = StudyDesign(regions, times=design.times, arms=arms)
    t0 = time.perf_counter()
    opt = optimise_schedule(two, cons, criterion="D", allocation=True, n_starts=8, seed=0)
    print(f"two arms + allocation (D): {time.perf_counter() - t0:5.1f} s  arms "
          f"{[a.n_subjects for a in opt.design.arms]}")


if __name__ == "__main__":
    main()
