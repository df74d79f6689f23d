"""``ketephys config --check``: everything that can be known without analysing.

:func:`check_config` lists EVERY problem, not only the first: the configuration's
metadata (manifest cells with their row, pattern fields, ``inputs.metadata``), each input
(exists, is a regular readable file, not a FIFO/device/folder/symlink loop, its companion
files exist), its header (opened by ``ketephys.io.info``, which reads no samples, with the
metadata and declared extras, so sidecar keys are checked too) and the analyser settings
through the hook ``validate_analysers(cfg) -> list[str]`` when the package provides one.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import KetephysError
from .cache import input_files, regular_file
from .config import PipelineConfig
from .discovery import RecordingSpec, discover

__all__ = ["check_config", "analyser_problems", "HOOK_MODULES"]

#: Modules searched, in order, for ``validate_analysers(cfg) -> list[str]``.
HOOK_MODULES = ("ketephys.pipeline.config", "ketephys.pipeline.settings",
                "ketephys.pipeline.tasks")


def analyser_problems(cfg: PipelineConfig) -> list[str]:
    """Problems of the analyser settings (band names, options) from the settings
    contract's ``validate_analysers(cfg)`` hook.

    Parameters
    ----------
    cfg : PipelineConfig
        The configuration whose ``modalities`` section is checked.

    Returns
    -------
    list of str
        One line per problem, from the first of :data:`HOOK_MODULES` that has the hook;
        empty when none has it or nothing is wrong.
    """
    for name in HOOK_MODULES:
        try:
            module = import_module(name)
        except ImportError:
            continue
        hook = getattr(module, "validate_analysers", None)
        if callable(hook):
            return [str(p) for p in hook(cfg) or []]
    return []


def _input_problems(spec: RecordingSpec, cfg: PipelineConfig, header: bool) -> list[str]:
    try:
        files = input_files(spec.path)
        for f in files:
            regular_file(f)
            if not os.access(f, os.R_OK):
                raise KetephysError("cannot read the file: permission denied", f)
        if header and cfg.inputs.reader == "ketephys.io:read":
            from ..io import info

            options: dict[str, Any] = dict(cfg.inputs.read_options.get(spec.modality, {}))
            info(spec.path, modality=spec.modality, meta=spec.study_meta(), **options)
    except KetephysError as err:
        return [str(err)]
    except OSError as err:
        return [f"{spec.path}: cannot read the file: {err}"]
    return []


def check_config(cfg: PipelineConfig, out: str | os.PathLike | None = None,
                 header: bool = True) -> tuple[list[RecordingSpec], list[str]]:
    """Check a configuration and its inputs without analysing anything.

    Parameters
    ----------
    cfg : PipelineConfig
        The configuration: its inputs are found and checked, its analyser settings
        validated.
    out : str or path-like, optional
        The output folder (default ``run.out``): its files are not inputs.
    header : bool
        Open each input's header (cheap: no samples are read).

    Returns
    -------
    specs : list of RecordingSpec
        The recordings found (with valid metadata).
    problems : list of str
        One line per problem; empty when the run can start.
    """
    out_dir = Path(out) if out is not None else cfg.resolve(cfg.run.out)
    problems: list[str] = []
    try:
        specs = discover(cfg, exclude=[out_dir], problems=problems)
    except KetephysError as err:
        return [], [*problems, str(err)]
    problems += analyser_problems(cfg)
    for spec in specs:
        problems += _input_problems(spec, cfg, header)
    return specs, problems
