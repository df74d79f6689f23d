"""Batch pipeline: one validated YAML config -> every recording analysed -> tables, decay
fits and a report, serially, in local processes or on a Dask cluster.

>>> from ketephys.pipeline import load_config, run          # doctest: +SKIP
>>> result = run(load_config("study.yaml"), out="derivatives/ketephys", n_jobs=4)

Local workers are *spawned* processes (no inherited threads or BLAS pools), so a script
that calls :func:`run` with ``n_jobs > 1`` must guard its entry point with
``if __name__ == "__main__":``, as for any ``multiprocessing`` program.
"""

from __future__ import annotations

from .config import PipelineConfig, config_from_dict, example_config, load_config
from .discovery import RecordingSpec, discover
from .runner import RunResult, make_slurm_cluster, run
from .tasks import RecordingTask, TaskResult, run_task

__all__ = [
    "PipelineConfig", "load_config", "config_from_dict", "example_config", "discover",
    "RecordingSpec", "run", "RunResult", "make_slurm_cluster", "RecordingTask",
    "TaskResult", "run_task",
]
