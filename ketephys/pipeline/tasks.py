"""One recording -> feature rows: read it, run the analysers configured for its modality.

A :class:`RecordingTask` declares its inputs (the file and its companions, with their
content hashes) and its settings; its :attr:`~RecordingTask.key` is what the cache stores
the output under. :func:`run_task` never raises: a failure comes back as a
:class:`TaskResult` with the error's type and message, so one bad file cannot stop a batch.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..features import FEATURE_COLUMNS, AnalysisOutput, settings_hash
from .config import ANALYSERS, PipelineConfig, resolve_analyser_settings, resolve_callable
from .discovery import RecordingSpec

__all__ = ["RecordingTask", "TaskResult", "run_task", "build_task", "resolve_callable"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordingTask:
    """Everything a worker needs to process one recording (picklable, no open files).

    Attributes
    ----------
    spec : RecordingSpec
        The recording (path, modality, metadata).
    analysers : tuple of tuple
        One ``(name, target, settings)`` triple per analyser: ``name`` fills the
        ``analyser`` column of its rows, ``target`` is ``'module:function'`` and the
        ``settings`` dict is passed as keywords.
    reader : str
        ``'module:function'`` reading the file.
    read_options : dict
        Keywords for the reader (``inputs.read_options`` of the modality).
    inputs : tuple of tuple
        The files this task reads, one ``(path, sha256)`` pair each (the path as a string
        and the hex digest of the file's content).
    key : str
        Cache key: hash of the inputs' content and the analysis settings.
    """

    spec: RecordingSpec
    analysers: tuple[tuple[str, str, dict[str, Any]], ...]
    reader: str
    read_options: dict[str, Any]
    inputs: tuple[tuple[str, str], ...] = ()
    key: str = ""


@dataclass
class TaskResult:
    """What a worker sends back: rows, or the failure.

    Attributes
    ----------
    key : str
        The task's cache key.
    path, modality : str
        The recording.
    rows : pandas.DataFrame or None
        Feature rows of every analyser (with ``analyser`` and the declared extra
        columns); None on failure.
    error_type, message, detail : str or None
        On failure: the exception's class name, its message (without the file name when
        it is the recording's) and the traceback; None on success.
    seconds, cpu_seconds : float
        Wall-clock and CPU time of the task (s).
    meta : dict
        The recording's metadata (for failures.csv).
    warnings : list of str
        ``"<Category>: <message>"`` of every warning raised while reading and analysing.
    views : dict
        Analyser name -> its compact result objects (for the report), when it gave any.
    files : tuple of str
        Every file the reader reports it opened (``rec.source.files``).
    """

    key: str
    path: str
    modality: str
    rows: Any = None
    error_type: str | None = None
    message: str | None = None
    detail: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: analyser name -> its compact result objects (for the report), when it gave any
    views: dict[str, Any] = field(default_factory=dict)
    #: every file the reader reports it opened (``rec.source.files``)
    files: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the task succeeded."""
        return self.error_type is None


def build_task(cfg: PipelineConfig, spec: RecordingSpec,
               hashes: list[tuple[str, str]]) -> RecordingTask:
    """The task of one recording, with its cache key.

    The key hashes the recording's path, the names and content hashes of its files, its
    metadata and declared extras, the analysers of its modality with their resolved
    settings (defaults filled in), the reader, its options for the modality and the
    ketephys version. Execution settings (``run``), the report, the decay fits and the
    other modalities' settings do not enter it.

    Parameters
    ----------
    cfg : PipelineConfig
        The configuration.
    spec : RecordingSpec
        The recording.
    hashes : list of (str, str)
        ``(path, sha256)`` of the recording's files, the main file first.

    Returns
    -------
    RecordingTask
        With its :attr:`~RecordingTask.key`.

    Raises
    ------
    SettingsError
        A bad analyser setting (named by its key path).
    """
    from pathlib import Path

    from .._version import __version__

    analysers = tuple(
        (name, ANALYSERS.get(name, name),
         resolve_analyser_settings(name, settings, f"modalities.{spec.modality}.{name}"))
        for name, settings in cfg.modalities.get(spec.modality, {}).items()
    )
    read_options = dict(cfg.inputs.read_options.get(spec.modality, {}))
    key_material = {
        "path": spec.path,  # the rows name the file, so a moved file is a new entry
        "content": [[Path(p).name, h] for p, h in hashes],
        "modality": spec.modality,
        "meta": spec.meta,
        "extras": list(spec.extras),
        "analysers": [[n, t, s] for n, t, s in analysers],
        "reader": cfg.inputs.reader,
        "read_options": read_options,
        "ketephys": __version__,
    }
    return RecordingTask(spec=spec, analysers=analysers, reader=cfg.inputs.reader,
                         read_options=read_options, inputs=tuple(hashes),
                         key=settings_hash(key_material))


def run_task(task: RecordingTask) -> TaskResult:
    """Read one recording and run its analysers, with one BLAS thread.

    Parameters
    ----------
    task : RecordingTask
        The recording, its reader and its analysers (resolved by name in this process).

    Returns
    -------
    TaskResult
        ``rows`` is the concatenated feature table of every analyser; on failure
        ``error_type``/``message`` say why (the error is logged, never raised).
    """
    from .._parallel import single_blas_thread

    spec = task.spec
    t0 = time.perf_counter()
    c0 = time.process_time()
    result = TaskResult(key=task.key, path=spec.path, modality=spec.modality,
                        meta=dict(spec.meta))
    caught: list[Any] = []
    try:
        import pandas as pd

        # library warnings are kept with the result (logged by the driver, -vv), not
        # printed by every worker
        with single_blas_thread(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reader = resolve_callable(task.reader)
            rec = reader(spec.path, modality=spec.modality, meta=spec.study_meta(),
                         **task.read_options)
            frames = []
            for name, target, settings in task.analysers:
                func = resolve_callable(target)
                frame = func(rec, **settings)
                if isinstance(frame, AnalysisOutput):  # built-ins: rows + report views
                    result.views[name] = frame.views
                    frame = frame.features
                if not isinstance(frame, pd.DataFrame):
                    raise TypeError(f"analyser {name!r} returned {type(frame).__name__}, "
                                    "not a feature table")
                missing = [c for c in FEATURE_COLUMNS if c not in frame.columns]
                if missing:
                    raise TypeError(f"analyser {name!r} output lacks columns {missing}")
                frame = frame.copy()
                frame["modality"] = frame["modality"].fillna(spec.modality)
                frame["analyser"] = name
                frames.append(frame)
        if frames:
            rows = pd.concat(frames, ignore_index=True)
        else:
            rows = pd.DataFrame(columns=[*FEATURE_COLUMNS, "analyser"])
        for name in spec.extras:  # declared extra metadata columns (inputs.extra_columns)
            rows[name] = rec.meta.extras.get(name)
        result.rows = rows
        source = getattr(rec, "source", None)
        result.files = tuple(str(f) for f in getattr(source, "files", ()) or ())
    except Exception as err:  # isolate every failure: recorded, never raised
        result.error_type = type(err).__name__
        # failures.csv has the file in its own column: keep the message without it
        same_file = getattr(err, "path", None) == spec.path
        result.message = (err.detail if same_file else str(err)).strip() or repr(err)
        result.detail = traceback.format_exc()
        log.debug("%s failed:\n%s", spec.path, result.detail)
    result.warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught or []})
    result.seconds = time.perf_counter() - t0
    result.cpu_seconds = time.process_time() - c0
    return result
