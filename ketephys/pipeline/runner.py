"""Run a configuration over every recording: serially, in local processes, or on Dask.

Execution settings never change results: every mode runs the same :func:`run_task` with
one BLAS thread, each recording's rows go through the same cache, and the outputs are
assembled in discovery order.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._parallel import make_pool
from ..errors import ConfigError, KetephysError, MetadataError
from ..features import FEATURE_COLUMNS, flag_montage_changes
from .cache import ResultCache, changed_inputs, input_files, read_views, remove_stale_tmp
from .config import ANALYSERS, PipelineConfig, resolve_analyser_settings
from .discovery import discover
from .lock import OutputFolderError, output_error, output_lock
from .outputs import (
    check_outputs,
    commit_outputs,
    new_run_id,
    package_versions,
    write_outputs,
)
from .tasks import RecordingTask, TaskResult, build_task, resolve_callable, run_task

__all__ = ["run", "RunResult", "make_slurm_cluster", "execute", "run_checked", "fit_problems",
           "OutputFolderError"]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    out_dir : Path
        The output folder.
    features : pandas.DataFrame
        Rows of every recording that succeeded (computed now or from the cache).
    failures : list of dict
        One per failed recording (columns of failures.csv).
    fits : pandas.DataFrame
        decay_fits.csv.
    n_computed, n_cached, n_failed : int
        Recordings analysed by this run, taken from the cache, and failed.
    aborted : bool
        ``on_error: abort`` stopped the run.
    paths : dict
        Output files written: name -> path.
    fit_results : list of (FitConfig, pandas.DataFrame, DecayFit or None)
        Per configured fit: its data table and the fitted model (None when nothing could
        be fitted), for the report.
    keys : dict
        Recording path -> cache key, for the recordings with results.
    cache_dir : Path or None
        The cache folder (result objects of each recording, see :meth:`views_of`).
    repaired : list of str
        Problems of an incomplete output set found in the folder before the run (and
        replaced by it).
    """

    out_dir: Path
    features: Any
    failures: list[dict[str, Any]]
    fits: Any
    n_computed: int = 0
    n_cached: int = 0
    n_failed: int = 0
    aborted: bool = False
    paths: dict[str, Path] = field(default_factory=dict)
    fit_results: list[Any] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    cache_dir: Path | None = None

    def views_of(self, path: str) -> dict[str, Any]:
        """The result objects each analyser computed for one recording (what the report
        draws).

        Parameters
        ----------
        path : str
            The recording's path, as in the ``recording`` column of :attr:`features`.

        Returns
        -------
        dict
            Analyser name -> {view name -> object}; empty when none are stored.
        """
        key = self.keys.get(path)
        if key is None or self.cache_dir is None:
            return {}
        return read_views(self.cache_dir, key)
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No recording failed and the run was not aborted."""
        return self.n_failed == 0 and not self.aborted

    @property
    def fit_problems(self) -> list[str]:
        """One line per decay-fit row that failed or is not identifiable."""
        return fit_problems(self.fits)


def fit_problems(fits) -> list[str]:
    """Rows of a decay-fit table that failed (``error`` set) or are not identifiable.

    Parameters
    ----------
    fits : pandas.DataFrame or None
        decay_fits.csv.

    Returns
    -------
    list of str
        ``"<fit> <group>: <reason>"`` per row.
    """
    if fits is None or len(fits) == 0:
        return []
    out = []
    for _, row in fits.iterrows():
        name = " ".join(str(row[c]) for c in ("fit", "group", "region")
                        if c in row and isinstance(row[c], str))
        error = row.get("error")
        if isinstance(error, str) and error:
            out.append(f"{name}: {error}")
        elif row.get("identifiable") is False or str(row.get("identifiable")) == "False":
            out.append(f"{name}: not identifiable {row.get('identifiability_reason') or ''}"
                       .strip())
    return out


# --------------------------------------------------------------------------- executors
def run_checked(task: RecordingTask, signatures: dict[str, list[int]]) -> TaskResult:
    """:func:`~ketephys.pipeline.tasks.run_task`, then check that the result belongs to
    the hashed bytes: no hashed file changed since it was hashed, and the reader opened
    only hashed files.

    Parameters
    ----------
    task : RecordingTask
        The recording to analyse.
    signatures : dict
        Path -> :func:`~ketephys.pipeline.cache.file_signature` of the task's files when
        they were hashed.

    Returns
    -------
    TaskResult
        The result, or an ``InputFileError`` failure (never cached) when the inputs
        cannot be trusted.
    """
    res = run_task(task)
    if res.ok:
        problem = changed_inputs(signatures, res.files)
        if problem:
            res.rows, res.error_type, res.message = None, "InputFileError", problem
    return res


def _warm_up(targets: tuple[str, ...]) -> None:
    """Import the reader and analysers in a worker before its first recording."""
    for target in targets:
        resolve_callable(target)


def _start_local_pool(cfg: PipelineConfig):
    """A process pool started before discovery, when the run uses local workers.

    Workers are spawned and import the reader and the configured analysers while the
    main process finds and hashes the inputs, so their start-up is not added to the run.
    """
    run_cfg = cfg.run
    if run_cfg.n_jobs <= 1 or run_cfg.scheduler or run_cfg.scheduler_file or run_cfg.cluster:
        return None
    targets = tuple(dict.fromkeys(
        [cfg.inputs.reader] + [ANALYSERS.get(name, name) for analysers in
                               cfg.modalities.values() for name in analysers]))
    pool = make_pool(run_cfg.n_jobs)
    for _ in range(run_cfg.n_jobs):
        pool.submit(_warm_up, targets)
    return pool


def _serial(tasks: list[RecordingTask], sigs: dict[str, dict]) -> Iterator[TaskResult]:
    for task in tasks:
        yield run_checked(task, sigs.get(task.key, {}))


def _processes(tasks: list[RecordingTask], pool, sigs: dict[str, dict]
               ) -> Iterator[TaskResult]:
    from concurrent.futures import as_completed

    futures = [pool.submit(run_checked, t, sigs.get(t.key, {})) for t in tasks]
    try:
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        for fut in futures:  # after an abort: drop what has not started
            fut.cancel()


def make_slurm_cluster(cfg: PipelineConfig):
    """A dask-jobqueue ``SLURMCluster`` configured from ``run.slurm`` (not yet scaled).

    Every worker runs with one BLAS thread (``OMP/OPENBLAS/MKL_NUM_THREADS=1``), as local
    workers do.

    Parameters
    ----------
    cfg : PipelineConfig
        The configuration (``run.slurm``: queue, account, cores, processes, memory,
        walltime, extra directives, log folder).

    Returns
    -------
    dask_jobqueue.SLURMCluster

    Raises
    ------
    ConfigError
        When dask-jobqueue is not installed (``pip install "ketephys[slurm]"``).
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as err:
        raise ConfigError('run.cluster "slurm" needs dask-jobqueue: '
                          'pip install "ketephys[slurm]"') from err
    s = cfg.run.slurm
    kwargs: dict[str, Any] = {
        "cores": s.cores, "processes": s.processes, "memory": s.memory,
        "walltime": s.walltime, "job_extra_directives": list(s.job_extra_directives),
        # one BLAS thread per worker, as locally
        "job_script_prologue": [f"export {v}=1" for v in ("OMP_NUM_THREADS",
                                                          "OPENBLAS_NUM_THREADS",
                                                          "MKL_NUM_THREADS")],
    }
    if s.queue:
        kwargs["queue"] = s.queue
    if s.account:
        kwargs["account"] = s.account
    if s.log_directory:
        kwargs["log_directory"] = str(cfg.resolve(s.log_directory))
    return SLURMCluster(**kwargs)


def _dask(tasks: list[RecordingTask], client, sigs: dict[str, dict]) -> Iterator[TaskResult]:
    from distributed import as_completed

    futures = [client.submit(run_checked, t, sigs.get(t.key, {}),
                             key=f"ketephys-{t.key}-{i}", pure=False)
               for i, t in enumerate(tasks)]
    try:
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        for fut in futures:
            fut.cancel()


def execute(tasks: list[RecordingTask], n_jobs: int = 1, client=None,
            pool=None, signatures: dict[str, dict] | None = None) -> Iterator[TaskResult]:
    """Results of ``tasks`` in completion order: on a Dask ``client``, in a process
    ``pool`` (or a new one of ``n_jobs`` workers), or serially. Every mode runs
    :func:`run_checked`, so the results do not depend on the mode.

    Parameters
    ----------
    tasks : list of RecordingTask
        The recordings to analyse.
    n_jobs : int
        Worker processes of a pool made for these tasks when neither ``client`` nor
        ``pool`` is given (1: serial, in this process).
    client : distributed.Client, optional
        Run on this Dask cluster.
    pool : concurrent.futures.Executor, optional
        Run in this process pool (it is not shut down).
    signatures : dict, optional
        Task key -> {path -> file signature at hashing time} (:func:`run_checked` fails a
        task whose inputs changed since).

    Returns
    -------
    iterator of TaskResult
        One per task as it finishes (serially: in order). Closing it early (an abort)
        cancels the tasks not started.
    """
    sigs = signatures or {}
    if client is not None:
        return _dask(tasks, client, sigs)
    if pool is not None:
        return _processes(tasks, pool, sigs)
    if n_jobs > 1 and len(tasks) > 1:
        return _own_pool(tasks, n_jobs, sigs)
    return _serial(tasks, sigs)


def _own_pool(tasks: list[RecordingTask], n_jobs: int, sigs: dict[str, dict]
              ) -> Iterator[TaskResult]:
    pool = make_pool(min(n_jobs, len(tasks)))
    try:
        yield from _processes(tasks, pool, sigs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _connect(cfg: PipelineConfig):
    """(client, cluster) for the configured Dask target, or (None, None)."""
    run_cfg = cfg.run
    if not (run_cfg.scheduler or run_cfg.scheduler_file or run_cfg.cluster):
        return None, None
    try:
        from distributed import Client
    except ImportError as err:
        raise ConfigError('a Dask scheduler needs dask.distributed: '
                          'pip install "ketephys[dask]"') from err
    if run_cfg.cluster == "slurm":
        cluster = make_slurm_cluster(cfg)
        cluster.scale(jobs=run_cfg.slurm.jobs)
        return Client(cluster), cluster
    try:
        if run_cfg.scheduler_file:
            path = cfg.resolve(run_cfg.scheduler_file)
            if not path.is_file():
                raise ConfigError("Dask scheduler file not found", path)
            return Client(scheduler_file=str(path), timeout="30s"), None
        return Client(run_cfg.scheduler, timeout="30s"), None
    except (OSError, TimeoutError) as err:
        raise ConfigError(f"cannot connect to the Dask scheduler "
                          f"{run_cfg.scheduler or run_cfg.scheduler_file}: {err}") from err


# ------------------------------------------------------------------------------- run
def _progress(total: int, enabled: bool):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[red]{task.fields[failed]} failed"),
                    TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=False)


def run(cfg: PipelineConfig, out: str | os.PathLike | None = None, *,
        n_jobs: int | None = None, scheduler: str | None = None,
        scheduler_file: str | None = None, cluster: str | None = None,
        subjects: list[str] | None = None, sessions: list[str] | None = None,
        force: bool = False, on_error: str | None = None, progress: bool = False,
        report: bool | None = None,
        on_result: Callable[[TaskResult], None] | None = None) -> RunResult:
    """Run a configuration: discover, analyse every recording, fit, write the outputs.

    The output folder is locked for the whole run (a second run into it stops with
    :class:`~ketephys.pipeline.lock.OutputFolderError`); an incomplete output set left by
    an interrupted run is reported and replaced; the new set is committed as a unit
    (``run.json`` written last).

    Parameters
    ----------
    cfg : PipelineConfig
    out : str or path-like, optional
        Output folder (default ``run.out`` relative to the config file).
    n_jobs, scheduler, scheduler_file, cluster, on_error :
        Override the ``run`` section (execution only; results do not depend on them).
    subjects, sessions : list of str, optional
        Process only these.
    force : bool
        Recompute recordings even when cached.
    progress : bool
        Show a progress bar (rich) on stderr.
    report : bool, optional
        Write report.html (default ``report.enabled``).
    on_result : callable, optional
        Called with each :class:`TaskResult` as it arrives (after it is cached).

    Returns
    -------
    RunResult

    Raises
    ------
    OutputFolderError
        The output folder is not usable (not a folder, read-only, full, locked).
    """
    updates = {k: v for k, v in dict(n_jobs=n_jobs, scheduler=scheduler,
                                     scheduler_file=scheduler_file, cluster=cluster,
                                     on_error=on_error).items() if v is not None}
    if updates:
        cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update=updates)})
    out_dir = Path(out) if out is not None else cfg.resolve(cfg.run.out)
    out_dir = out_dir.resolve()
    with output_lock(out_dir):
        repaired = check_outputs(out_dir)
        if repaired:
            log.warning("%s holds an incomplete output set (%s); this run replaces it",
                        out_dir, "; ".join(repaired))
        remove_stale_tmp(out_dir)
        result = _run_locked(cfg, out_dir, subjects=subjects, sessions=sessions,
                             force=force, progress=progress, report=report,
                             on_result=on_result)
        result.repaired = repaired
        return result


def _hash_inputs(specs, cache: ResultCache, cfg: PipelineConfig):
    """Tasks (with their files' signatures) and failures of the discovered recordings."""
    tasks: list[RecordingTask] = []
    sigs: dict[str, dict[str, list[int]]] = {}
    failures: list[dict[str, Any]] = []
    for spec in specs:
        try:
            hashed = [(str(f), *cache.content_hash(f)) for f in input_files(spec.path)]
        except (KetephysError, OSError) as err:
            message = getattr(err, "detail", None) if getattr(err, "path", None) == spec.path \
                else None
            failures.append(_failure(spec.path, spec.modality, spec.meta,
                                     type(err).__name__, message or str(err)))
            continue
        task = build_task(cfg, spec, [(p, h) for p, h, _ in hashed])
        sigs[task.key] = {p: sig for p, _, sig in hashed}
        tasks.append(task)
    return tasks, sigs, failures


def _run_locked(cfg: PipelineConfig, out_dir: Path, *, subjects, sessions, force, progress,
                report, on_result) -> RunResult:
    """The run inside the output lock, as phases: discover -> hash (build tasks) -> plan ->
    execute -> collect -> fit -> write -> report -> commit.

    One :class:`contextlib.ExitStack` owns the executors (local pool, Dask client and
    cluster) from discovery to the end of the decay fits: an error or an interrupt in any
    of those phases aborts them; after the fits they are shut down normally."""
    started = _dt.datetime.now(_dt.timezone.utc)
    cache = _open_cache(out_dir)
    with contextlib.ExitStack() as stack:
        executors = stack.enter_context(_Executors(pool=_start_local_pool(cfg)))
        specs = _discover_specs(cfg, out_dir, subjects, sessions)
        tasks, sigs, failures = _hash_phase(specs, cache, cfg, out_dir)
        todo = _plan(tasks, cache, cfg, force)
        executors.prepare(cfg, todo)
        tally = _Tally(failures=failures, n_cached=len(tasks) - len(todo),
                       done_keys={t.key for t in tasks} - {t.key for t in todo})
        _execute_phase(cfg, out_dir, cache, tasks, todo, sigs, executors, tally,
                       progress=progress, on_result=on_result)
        features = _collect_features(cache, tasks, tally.done_keys)
        fits, fit_results = _fit_phase(features, cfg, executors)
    provenance = _provenance(cfg, started, specs, tasks, tally)
    run_id = provenance["run_id"]
    try:
        paths = write_outputs(out_dir, features, tally.failures, fits, provenance,
                              run_id=run_id)
    except OSError as err:
        raise output_error(err, out_dir, "write the output tables") from err
    result = RunResult(out_dir=out_dir, features=features, failures=tally.failures, fits=fits,
                       n_computed=tally.n_computed, n_cached=tally.n_cached,
                       n_failed=len(tally.failures), aborted=tally.aborted, paths=paths,
                       fit_results=fit_results,
                       keys={t.spec.path: t.key for t in tasks if t.key in tally.done_keys},
                       cache_dir=out_dir / "cache")
    if cfg.report.enabled if report is None else report:
        _report_phase(result, cfg, paths, out_dir)
    try:
        paths["run"] = commit_outputs(out_dir, run_id, paths)
    except OSError as err:
        raise output_error(err, out_dir, "write run.json") from err
    return result


@dataclass
class _Tally:
    """What the execute phase has counted so far (the cached recordings count as done)."""

    failures: list[dict[str, Any]]
    n_cached: int
    done_keys: set[str]
    n_computed: int = 0
    aborted: bool = False


class _Executors:
    """The run's local pool, Dask client and cluster, as one context: leaving it through an
    exception (or an interrupt) aborts them, leaving it normally shuts them down."""

    def __init__(self, pool=None) -> None:
        self.pool = pool
        self.client = None
        self.cluster = None

    def __enter__(self) -> _Executors:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(abort=exc_type is not None)

    def prepare(self, cfg: PipelineConfig, todo: list[RecordingTask]) -> None:
        """Connect to Dask when there is work for it; drop the local pool when there is
        nothing to share out (serial is quicker). One pool serves the recordings and the
        decay fits, so its workers start once."""
        if todo:
            self.client, self.cluster = _connect(cfg)
        if self.pool is not None and max(len(todo), len(cfg.longitudinal.fits)) <= 1:
            _close(None, None, self.pool)
            self.pool = None

    @property
    def submit(self):
        """The submit function the decay fits share out with, or None (serial)."""
        if self.client is not None:
            return self.client.submit
        return self.pool.submit if self.pool else None

    def close(self, abort: bool = False) -> None:
        """Shut down whatever is still open (see :func:`_close`)."""
        client, cluster, pool = self.client, self.cluster, self.pool
        self.client = self.cluster = self.pool = None
        _close(client, cluster, pool, abort=abort)


def _open_cache(out_dir: Path) -> ResultCache:
    try:
        return ResultCache(out_dir / "cache")
    except OSError as err:
        raise output_error(err, out_dir / "cache", "create the cache") from err


def _discover_specs(cfg: PipelineConfig, out_dir: Path, subjects, sessions):
    """Phase *discover*: the recordings to run; any metadata problem stops the run."""
    problems: list[str] = []
    specs = discover(cfg, subjects=subjects, sessions=sessions, exclude=[out_dir],
                     problems=problems)
    if problems:  # bad metadata: nothing runs, every problem is listed
        raise MetadataError(f"{len(problems)} metadata problem(s); nothing was "
                            "analysed:\n  " + "\n  ".join(problems))
    unconfigured = sorted({s.modality for s in specs} - set(cfg.modalities))
    if unconfigured:
        log.warning("no analysers configured for modality %s: those recordings are "
                    "only read", ", ".join(unconfigured))
    return specs


def _hash_phase(specs, cache: ResultCache, cfg: PipelineConfig, out_dir: Path):
    """Phase *hash*: hash the inputs, build the tasks, save the hash index."""
    tasks, sigs, failures = _hash_inputs(specs, cache, cfg)
    try:
        cache.save_index()
    except OSError as err:
        raise output_error(err, out_dir / "cache", "write the hash index") from err
    return tasks, sigs, failures


def _plan(tasks: list[RecordingTask], cache: ResultCache, cfg: PipelineConfig,
          force: bool) -> list[RecordingTask]:
    """Phase *plan*: the tasks to compute (the others come from the cache)."""
    fresh = force or not cfg.run.cache
    todo = [t for t in tasks if fresh or not cache.has(t.key)]
    log.info("%d recordings: %d to compute, %d from the cache", len(tasks), len(todo),
             len(tasks) - len(todo))
    return todo


def _execute_phase(cfg: PipelineConfig, out_dir: Path, cache: ResultCache,
                   tasks: list[RecordingTask], todo: list[RecordingTask], sigs,
                   executors: _Executors, tally: _Tally, *, progress: bool,
                   on_result) -> None:
    """Phase *execute*: run ``todo``, cache each result as it arrives, count it in
    ``tally``; ``on_error: abort`` stops at the first failure."""
    t_run = time.perf_counter()
    bar = _progress(len(tasks), progress)
    with bar:
        job = bar.add_task("recordings", total=len(tasks), completed=tally.n_cached,
                           failed=len(tally.failures))
        results = execute(todo, n_jobs=cfg.run.n_jobs, client=executors.client,
                          pool=executors.pool, signatures=sigs)
        try:
            for res in results:
                _take_result(res, cache, out_dir, tally)
                if on_result is not None:
                    on_result(res)
                bar.update(job, advance=1, failed=len(tally.failures))
                if not res.ok and cfg.run.on_error == "abort":
                    tally.aborted = True
                    log.error("on_error is 'abort': stopping the run")
                    break
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
    log.info("recordings: %.1f s", time.perf_counter() - t_run)


def _take_result(res: TaskResult, cache: ResultCache, out_dir: Path, tally: _Tally) -> None:
    """Cache a successful result or record a failure, and log it."""
    if res.ok:
        try:
            cache.put(res.key, res.rows, res.views)
        except OSError as err:  # disk full: stop; the cache stays valid
            raise output_error(err, out_dir / "cache",
                               f"cache the result of {res.path}") from err
        tally.done_keys.add(res.key)
        tally.n_computed += 1
        log.info("done %s (%.1f s)", res.path, res.seconds)
    else:
        tally.failures.append(_failure(res.path, res.modality, res.meta,
                                       res.error_type, res.message))
        log.error("FAILED %s: %s: %s", res.path, res.error_type, res.message)
    for text in res.warnings:
        log.debug("%s: %s", res.path, text)


def _collect_features(cache: ResultCache, tasks: list[RecordingTask], done_keys: set[str]):
    """Phase *collect*: the feature rows of every done recording, in discovery order."""
    import pandas as pd

    frames = [cache.get(t.key) for t in tasks if t.key in done_keys]
    frames = [f for f in frames if not f.empty]
    features = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(FEATURE_COLUMNS))
    return flag_montage_changes(features)


def _fit_phase(features, cfg: PipelineConfig, executors: _Executors):
    """Phase *fit*: the configured decay fits (on the run's executors), then shut the
    executors down."""
    import pandas as pd

    from .fits import run_fits

    t_fit = time.perf_counter()
    try:
        fits, fit_results = run_fits(features, cfg.longitudinal.fits,
                                     submit=executors.submit) if (
            cfg.longitudinal.fits and not features.empty) else (pd.DataFrame(), [])
    finally:
        executors.close()
    log.info("decay fits: %.1f s", time.perf_counter() - t_fit)
    return fits, fit_results


def _provenance(cfg: PipelineConfig, started, specs, tasks: list[RecordingTask],
                tally: _Tally) -> dict[str, Any]:
    """run.json's content (with a new run id)."""
    run_cfg = cfg.run
    failed_paths = {f["file"] for f in tally.failures}
    task_paths = {t.spec.path for t in tasks}
    return {
        "ketephys_command": " ".join(sys.argv),
        "run_id": new_run_id(),
        "started": started.isoformat(),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "config": cfg.model_dump(mode="json"),
        "analysers": {m: {n: resolve_analyser_settings(n, s) for n, s in a.items()}
                      for m, a in cfg.modalities.items()},
        "config_folder": cfg.base_dir,
        "execution": {"n_jobs": run_cfg.n_jobs, "scheduler": run_cfg.scheduler,
                      "scheduler_file": run_cfg.scheduler_file, "cluster": run_cfg.cluster,
                      "note": "execution settings do not enter cache keys or results"},
        "versions": package_versions(),
        "inputs": [
            {"path": t.spec.path, "modality": t.spec.modality, "cache_key": t.key,
             "files": [{"path": p, "sha256": h} for p, h in t.inputs],
             "status": ("failed" if t.spec.path in failed_paths else
                        "done" if t.key in tally.done_keys else "not run")}
            for t in tasks
        ] + [{"path": f["file"], "modality": f["modality"], "status": "failed", "files": []}
             for f in tally.failures if f["file"] not in task_paths],
        "counts": {"recordings": len(specs), "computed": tally.n_computed,
                   "cached": tally.n_cached, "failed": len(tally.failures),
                   "aborted": tally.aborted},
    }


def _report_phase(result: RunResult, cfg: PipelineConfig, paths: dict[str, Path],
                  out_dir: Path) -> None:
    """Phase *report*: report.html; a problem other than the disk is logged, not raised
    (the tables are written and must not be hidden by it)."""
    from .report import write_report

    try:
        t_rep = time.perf_counter()
        paths["report"] = write_report(result, cfg)
        log.info("report: %.1f s", time.perf_counter() - t_rep)
    except OSError as err:
        raise output_error(err, out_dir, "write report.html") from err
    except Exception as err:  # the tables are written; a report problem must not hide them
        log.error("report.html could not be written: %s: %s", type(err).__name__, err)


def _close(client, cluster, pool, abort: bool = False) -> None:
    """Shut the executors down; ``abort`` (an interrupt or an error) also ends the local
    workers' running tasks, whose results would be dropped anyway."""
    if pool is not None:
        if abort:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()


def _failure(path: str, modality: str, meta: dict, error_type: str | None,
             message: str | None) -> dict[str, Any]:
    return {"file": path, "modality": modality, "subject": meta.get("subject"),
            "session": meta.get("session"), "error_type": error_type, "message": message}
