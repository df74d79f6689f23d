"""Execution helpers shared by every parallel code path.

A leaf module: it imports nothing from ketephys, so the pipeline, the simulator and the
benchmarks can all use the same process pool and BLAS pinning.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["single_blas_thread", "pin_blas_env", "exit_with_parent", "make_pool"]

_BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def pin_blas_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``env`` (default a copy of ``os.environ``) with every BLAS pool set to one
    thread, for starting worker processes."""
    out = dict(os.environ if env is None else env)
    for var in _BLAS_VARS:
        out[var] = "1"
    return out


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP pools to one thread inside the block (threadpoolctl).

    Two BLAS threads per worker on two shared cores made a prototype swing between 3 s
    and 36 s; every worker process runs its task inside this.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def exit_with_parent(parent: int | None = None, interval: float = 0.5) -> threading.Thread:
    """Start a daemon thread that ends this (worker) process when its parent dies.

    A process pool's workers otherwise outlive a main process killed by SIGKILL (the OOM
    killer) or SIGTERM and sleep forever. The thread polls ``os.getppid()`` every
    ``interval`` seconds; when the parent is gone the worker is re-parented and the
    thread calls ``os._exit(1)`` (no cleanup: the parent cannot receive results anyway,
    and cache entries are written by the parent only).

    Parameters
    ----------
    parent : int, optional
        The parent's pid as the parent saw it (``os.getpid()`` passed through the pool's
        ``initargs``): a parent that died while the worker was starting is then noticed
        too. Default: ``os.getppid()`` now.
    interval : float
        Seconds between checks.

    Returns
    -------
    threading.Thread
        The started watchdog.
    """
    parent = os.getppid() if parent is None else parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="ketephys-parent-watchdog", daemon=True)
    thread.start()
    return thread


def _init_worker(parent: int | None = None) -> None:
    """Worker process start-up: one BLAS thread for the process's lifetime, and a
    watchdog that ends the worker when the main process ``parent`` dies."""
    exit_with_parent(parent)
    os.environ.update(pin_blas_env({}))
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def make_pool(n_jobs: int):
    """A local process pool of ``n_jobs`` spawned workers, one BLAS thread each."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # spawn: no inherited threads or BLAS pools; workers start with one BLAS thread
    return ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(),))
