"""The batch configuration: one YAML file, validated by a pydantic schema.

Every key has a documented default; an unknown or misspelled key fails with its path in
the file and a "did you mean" suggestion, before anything runs. Relative input paths are
taken relative to the configuration file. :func:`example_config` is a complete commented
configuration (``ketephys config --example``).
"""

from __future__ import annotations

import difflib
import os
import textwrap
import types
import typing
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .._check import suggest
from ..errors import ConfigError

__all__ = [
    "PipelineConfig", "InputsConfig", "FitConfig", "RunConfig", "SlurmConfig",
    "ReportConfig", "LongitudinalConfig", "load_config", "config_from_dict",
    "example_config", "MODALITIES", "ANALYSERS", "ANALYSER_SETTINGS", "settings_model",
    "resolve_analyser_settings", "validate_analysers",
]

#: Modalities a recording may have; they pick the reader's behaviour and the analysers.
MODALITIES = ("eeg", "lfp", "tms-eeg", "fepsp", "patch")
#: Built-in analysers: name -> "module:function". Any other "package.module:function"
#: taking ``(rec, **settings)`` and returning a feature table may be named instead.
ANALYSERS = {
    "spectral": "ketephys.spectral:compute",
    "tms": "ketephys.tms:compute",
    "synaptic": "ketephys.synaptic:compute",
}
#: The settings declaration of each built-in analyser: name -> "module:model" (a model
#: class, or a function returning one). The same declaration validates a script's
#: keywords, this config, the cache key and provenance.
ANALYSER_SETTINGS = {
    "spectral": "ketephys.spectral.settings:SpectralAnalysis",
    "tms": "ketephys.tms.settings:TMSAnalysis",
    "synaptic": "ketephys.synaptic.settings:synaptic_settings_model",
}


def settings_model(name: str) -> Any:
    """The settings model of a built-in analyser.

    Parameters
    ----------
    name : str
        Analyser name as in the configuration (``"spectral"``, ``"tms"``, ``"synaptic"``,
        or a plug-in's ``"module:function"``).

    Returns
    -------
    type or None
        The settings model class (with ``resolve``), or None for a plug-in.
    """
    from importlib import import_module

    target = ANALYSER_SETTINGS.get(name)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    obj = getattr(import_module(module), attr)
    return obj if isinstance(obj, type) else obj()


def resolve_analyser_settings(name: str, settings: dict[str, Any] | None,
                              where: str = "") -> dict[str, Any]:
    """The validated settings of analyser ``name`` with every default filled in (what the
    analyser runs with, what the cache key hashes and what provenance records).

    Parameters
    ----------
    name : str
        Analyser name (see :func:`settings_model`).
    settings : dict or None
        The settings given in the configuration (None: all defaults).
    where : str
        Key path named in error messages, e.g. ``"modalities.eeg.spectral"``.

    Returns
    -------
    dict
        Every setting with its value; a plug-in's settings as given (a copy).

    Raises
    ------
    SettingsError
        An unknown (misspelled) setting or a bad value, naming its key path.
    """
    model = settings_model(name)
    if model is None:
        return dict(settings or {})
    return model.resolve(settings, where=where).to_dict()


def validate_analysers(cfg: PipelineConfig) -> list[str]:
    """Every problem of the ``modalities:`` section's analyser settings.

    Built-in analysers are checked against their settings model, plug-ins against their
    function's keywords (when it can be imported).

    Parameters
    ----------
    cfg : PipelineConfig
        The configuration.

    Returns
    -------
    list of str
        Unknown keys with a suggestion and bad values, each with its key path; empty when
        every setting is valid.
    """
    from ..settings import settings_problems

    problems = []
    for modality, analysers in cfg.modalities.items():
        for name, settings in analysers.items():
            where = f"modalities.{modality}.{name}"
            model = settings_model(name)
            if model is not None:
                problems += settings_problems(model, settings, where)
            else:
                problems += _plugin_problems(name, settings, where)
    return problems


class _Strict(BaseModel):
    """A configuration section: unknown keys are errors, defaults are validated, and the
    docstring gets an ``Attributes`` section generated from the fields (type, default and
    ``description``), so each setting is described once, in its ``Field``."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__doc__ = (textwrap.dedent(cls.__doc__ or "").strip() + "\n\n"
                       + _attributes_section(cls))


def _attributes_section(model: type[BaseModel]) -> str:
    """A numpydoc ``Attributes`` section of the fields of ``model``."""
    lines = ["Attributes", "----------"]
    for name, info in model.model_fields.items():
        lines.append(f"{name} : {_type_text(info.annotation)}{_default_text(info)}")
        lines += ["    " + line for line in textwrap.wrap(info.description or "", 84)]
    return "\n".join(lines)


def _type_text(annotation: Any) -> str:
    """A field's type as numpydoc writes it: ``int``, ``{'a', 'b'}``, ``str or None``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "{" + ", ".join(repr(a) for a in args) + "}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join("None" if a is type(None) else _type_text(a) for a in args)
    if isinstance(annotation, type) and origin is None:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default_text(info: Any) -> str:
    """``", default <value>"`` of a field; ``""`` when it is required or a whole section
    (whose own defaults are listed with it)."""
    if info.is_required():
        return ""
    factory = info.default_factory
    if factory is None:
        return f", default {info.default!r}"
    if isinstance(factory, type) and issubclass(factory, BaseModel):
        return ""
    return f", default {factory()!r}"


class InputsConfig(_Strict):
    """Where the recordings are. Exactly one of ``bids``, ``manifest`` or ``glob``."""

    bids: str | None = Field(None, description="BIDS root: sessions are visits; metadata "
                             "from participants.tsv and sub-*_sessions.tsv.")
    manifest: str | None = Field(None, description="CSV with a 'path' column (relative to "
                                 "the CSV) and metadata columns (subject, region, "
                                 "hours_since_dose, modality...).")
    glob: str | None = Field(None, description="Glob of files, relative to the config file, "
                             "e.g. 'raw/**/*.abf'.")
    pattern: str | None = Field(None, description="File-name pattern with {field} "
                                "placeholders giving metadata, e.g. "
                                "'{subject}_{region}_{hours_since_dose}h.abf'.")
    modality: str | None = Field(None, description="Modality of every file found (needed "
                                 "for glob unless the pattern has {modality}; default for "
                                 "manifests without a modality column).")
    bids_modalities: dict[str, str] = Field(
        default_factory=lambda: {"eeg": "eeg", "ieeg": "lfp"},
        description="BIDS datatype -> modality; a task label containing 'tms' gives "
                    "'tms-eeg'.")
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="Metadata added to every recording "
                                                 "(lowest priority).")
    extra_columns: list[str] = Field(
        default_factory=list, description="Metadata beyond the study fields (e.g. [sex, "
        "age]) allowed in manifest columns, sidecar 'meta' keys, inputs.metadata and "
        "pattern fields; carried into the feature tables as columns (usable as fit "
        "covariates). Any other unknown name is an error.")
    subjects: list[str] | None = Field(None, description="Only these subjects.")
    sessions: list[str] | None = Field(None, description="Only these sessions (visits).")
    read_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per modality, keyword options for the reader.")
    reader: str = Field("ketephys.io:read", description="Reader 'module:function' called as "
                        "reader(path, modality=..., meta=..., **read_options).")

    @model_validator(mode="after")
    def _one_source(self) -> InputsConfig:
        given = [k for k in ("bids", "manifest", "glob") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of inputs.bids, inputs.manifest, inputs.glob "
                             f"(got {given or 'none'})")
        if self.pattern and not self.glob:
            raise ValueError("inputs.pattern applies to inputs.glob only")
        if self.modality is not None and self.modality not in MODALITIES:
            raise ValueError(_choice_message("inputs.modality", self.modality, MODALITIES))
        from ..meta import META_COLUMNS

        clash = sorted(set(self.extra_columns) & {*META_COLUMNS, "path", "modality"})
        if clash:
            raise ValueError(f"inputs.extra_columns: {clash} are not extras (they are "
                             "built-in columns)")
        return self


class FitConfig(_Strict):
    """One longitudinal decay fit made at the end of the run."""

    #: Keys renamed since an earlier release: old -> new (the old one is an error naming it).
    RENAMED_KEYS: ClassVar[dict[str, str]] = {"baseline": "baseline_mode"}

    measure: str = Field(..., description="Feature 'measure' to fit, e.g. 'gamma_power'.")
    modality: str | None = Field(None, description="Only rows of this modality.")
    channel: str | None = Field(None, description="Only this channel/pair; default: the "
                                "mean over channels per recording.")
    group: str = Field("region", description="Column giving one decay per level.")
    model: Literal["exponential", "bateman", "auto"] = Field(
        "exponential", description="Mono-exponential return to baseline, rise-then-decay "
                                   "(Bateman), or the lower-AIC one per group.")
    baseline_mode: Literal["pre-dose", "estimate"] = Field(
        "pre-dose", description="How each subject's baseline level is obtained: subtract "
                                "its pre-dose mean, or estimate a baseline parameter "
                                "(called 'baseline' before ketephys 0.2).")
    covariates: list[str] = Field(default_factory=list, description="Covariates on log A "
                                  "and log tau: dose, genotype, infusion or any column.")
    random_effects: bool = Field(True, description="Log-normal between-subject random "
                                 "effects on A and tau (False: pooled least squares).")
    ci: Literal["profile", "bootstrap", "both", "none"] = Field(
        "profile", description="Profile-likelihood (F/t calibrated) and/or subject "
                               "bootstrap intervals.")
    n_boot: int = Field(1000, ge=0, description="Bootstrap replicates.")
    seed: int = Field(0, description="Seed of the bootstrap.")
    level: float = Field(0.95, gt=0, lt=1, description="Confidence level.")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="Further keywords for fit_decay.")

    @model_validator(mode="after")
    def _check_modality(self) -> FitConfig:
        if self.modality is not None and self.modality not in MODALITIES:
            raise ValueError(_choice_message("modality", self.modality, MODALITIES))
        return self


class LongitudinalConfig(_Strict):
    """Decay fits to make over the feature table when every recording is done."""

    fits: list[FitConfig] = Field(default_factory=list,
                                  description="Decay fits (default none).")


class SlurmConfig(_Strict):
    """dask-jobqueue SLURMCluster settings (``run.cluster: slurm``)."""

    queue: str | None = Field(None, description="SLURM partition.")
    account: str | None = Field(None, description="SLURM account.")
    cores: int = Field(1, ge=1, description="Cores per job.")
    processes: int = Field(1, ge=1, description="Dask worker processes per job.")
    memory: str = Field("4GB", description="Memory per job.")
    walltime: str = Field("01:00:00", description="Wall time per job.")
    jobs: int = Field(1, ge=1, description="Number of SLURM jobs to start.")
    job_extra_directives: list[str] = Field(default_factory=list,
                                            description="Extra #SBATCH lines.")
    log_directory: str | None = Field(None, description="Where the job logs go.")


class RunConfig(_Strict):
    """Execution settings: they never change results and never enter cache keys."""

    n_jobs: int = Field(1, ge=1, description="Local worker processes (1: serial).")
    scheduler: str | None = Field(None, description="Address of a running Dask scheduler, "
                                  "e.g. tcp://10.0.0.1:8786.")
    scheduler_file: str | None = Field(None, description="Dask scheduler file.")
    cluster: Literal["slurm"] | None = Field(None, description="Start a cluster through "
                                             "dask-jobqueue (pip install ketephys[slurm]).")
    slurm: SlurmConfig = Field(default_factory=SlurmConfig,
                               description="SLURMCluster settings (cluster: slurm).")
    on_error: Literal["continue", "abort"] = Field(
        "continue", description="A failing recording goes to failures.csv and the rest "
                                "continue, or the run stops.")
    cache: bool = Field(True, description="Reuse finished recordings (key: content hash "
                        "+ analysis settings).")
    out: str = Field("derivatives/ketephys", description="Output folder, relative to the "
                     "config file (--out overrides).")


class ReportConfig(_Strict):
    """The self-contained report.html."""

    enabled: bool = Field(True, description="Write report.html.")
    title: str | None = Field(None, description="Report title (default: the study name).")
    views: bool = Field(True, description="Per-modality views (PSDs per visit, TEP "
                        "butterfly...) computed from one recording per visit.")


class PipelineConfig(_Strict):
    """A whole batch run: inputs, analysers per modality, decay fits, execution, report."""

    study: str = Field("study", description="Study name, used in the report.")
    inputs: InputsConfig = Field(..., description="Where the recordings are.")
    modalities: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict,
        description="modality -> analyser name -> settings passed to analyse().")
    longitudinal: LongitudinalConfig = Field(default_factory=LongitudinalConfig,
                                             description="Decay fits made at the end.")
    run: RunConfig = Field(default_factory=RunConfig, description="Execution settings.")
    report: ReportConfig = Field(default_factory=ReportConfig, description="report.html.")
    #: Folder relative paths are resolved against (the config file's folder).
    base_dir: str = Field(".", exclude=True, description="Internal: the config's folder.")

    @model_validator(mode="after")
    def _check_modalities(self) -> PipelineConfig:
        for modality, analysers in self.modalities.items():
            if modality not in MODALITIES:
                raise ValueError(_choice_message(f"modalities.{modality}", modality,
                                                 MODALITIES))
            for name in analysers:
                if name not in ANALYSERS and ":" not in name:
                    raise ValueError(_choice_message(
                        f"modalities.{modality}.{name}", name, tuple(ANALYSERS),
                        extra=" or a 'package.module:function'"))
        return self

    def resolve(self, path: str | os.PathLike | None) -> Path | None:
        """A path of the configuration made absolute.

        Parameters
        ----------
        path : str, path-like or None
            A path as written in the configuration (``~`` is expanded); relative paths
            are relative to the configuration file's folder (``base_dir``).

        Returns
        -------
        Path or None
            The absolute path (None for None).
        """
        if path is None:
            return None
        p = Path(os.path.expanduser(os.fspath(path)))
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()


def _choice_message(path: str, value: Any, choices: tuple[str, ...], extra: str = "") -> str:
    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{path}: {value!r} is not one of {', '.join(choices)}{extra}{hint}"


def _model_of(annotation: Any) -> tuple[str, Any] | None:
    """('model', M) / ('dict', M) / ('list', M) when an annotation holds a model."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found:
                return found
    if origin is list:
        (arg,) = typing.get_args(annotation) or (None,)
        inner = _model_of(arg)
        if inner and inner[0] == "model":
            return ("list", inner[1])
    if origin is dict:
        args = typing.get_args(annotation)
        inner = _model_of(args[1]) if len(args) == 2 else None
        if inner and inner[0] == "model":
            return ("dict", inner[1])
    return None


def _unknown_keys(data: Any, model: type[BaseModel], where: str) -> list[str]:
    """Messages for every key of ``data`` that ``model`` does not know, with suggestions."""
    if not isinstance(data, dict):
        return []
    problems = []
    fields = {name: f for name, f in model.model_fields.items() if name != "base_dir"}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        renamed = getattr(model, "RENAMED_KEYS", {})
        if key in renamed:
            problems.append(f"key {path!r} was renamed {renamed[key]!r} in ketephys 0.2")
            continue
        if key not in fields:
            hint = suggest(key, fields)
            section = where or "the top level"
            problems.append(f"unknown key {path!r} in {section}{hint} "
                            f"(allowed: {', '.join(fields)})")
            continue
        found = _model_of(fields[key].annotation)
        if not found:
            continue
        kind, sub = found
        if kind == "model":
            problems += _unknown_keys(value, sub, path)
        elif kind == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                problems += _unknown_keys(item, sub, f"{path}[{i}]")
        elif kind == "dict" and isinstance(value, dict):
            for k, item in value.items():
                problems += _unknown_keys(item, sub, f"{path}.{k}")
    return problems


def _format_validation(err: ValidationError) -> list[str]:
    out = []
    for item in err.errors():
        loc = ".".join(str(x) for x in item["loc"])
        msg = item["msg"].removeprefix("Value error, ")
        out.append(f"{loc}: {msg}" if loc and not msg.startswith(loc) else msg)
    return out


def config_from_dict(data: dict[str, Any], base_dir: str | os.PathLike = ".",
                     source: str | os.PathLike | None = None) -> PipelineConfig:
    """Validate a configuration given as a dict (the parsed YAML).

    Parameters
    ----------
    data : dict or None
        The configuration (None or ``{}`` fails for the missing ``inputs``).
    base_dir : str or path-like
        Folder relative paths of the configuration are taken from (default the current
        folder; :func:`load_config` gives the file's folder).
    source : str or path-like, optional
        The file the configuration came from, named in error messages.

    Returns
    -------
    PipelineConfig
        The validated configuration with every default filled in.

    Raises
    ------
    ConfigError
        Naming every unknown key with its path and a suggestion, or every invalid value.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"the configuration must be a mapping, got {type(data).__name__}",
                          source)
    problems = _unknown_keys(data, PipelineConfig, "")
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems), source)
    try:
        cfg = PipelineConfig(**data, base_dir=os.fspath(Path(base_dir).resolve()))
    except ValidationError as err:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_format_validation(err)),
                          source) from err
    problems = validate_analysers(cfg)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems), source)
    return cfg


def resolve_callable(target: str) -> Callable[..., Any]:
    """Import ``'package.module:function'`` (the plug-in analyser/reader registry: a
    config names any importable callable, so this never imports ketephys modules above it)."""
    module, _, name = target.partition(":")
    if not name:
        raise ValueError(f"{target!r} is not of the form 'package.module:function'")
    obj: Any = import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _plugin_problems(name: str, settings: dict[str, Any] | None, where: str) -> list[str]:
    """Unknown keywords of a plug-in analyser ``'package.module:function'`` (when it is
    importable and takes no ``**kwargs``)."""
    import inspect

    from ..settings import suggest

    try:
        params = inspect.signature(resolve_callable(name)).parameters
    except Exception:  # not importable yet: checked when the task runs
        return []
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return []
    allowed = list(params)[1:]
    return [f"unknown setting '{where}.{key}'{suggest(key, allowed)} "
            f"(allowed: {', '.join(allowed)})" for key in settings or {} if key not in allowed]


def load_config(path: str | os.PathLike) -> PipelineConfig:
    """Read and validate a YAML configuration file.

    Parameters
    ----------
    path : str or path-like
        The YAML file; relative paths in it are relative to its folder.

    Returns
    -------
    PipelineConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid YAML, or fails the schema.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError("configuration file not found", path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"not valid YAML: {err}", path) from err
    return config_from_dict(data, base_dir=path.parent, source=path)


def example_config() -> str:
    """A complete commented configuration with every key at its default value.

    Returns
    -------
    str
        YAML text (what ``ketephys config --example`` prints).
    """
    from importlib.resources import files

    return files("ketephys").joinpath("data", "example_config.yaml").read_text()
