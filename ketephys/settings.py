"""One declared settings contract per analyser.

Each analyser declares its settings once, as a pydantic model derived from
:class:`AnalyserSettings`. That one declaration is used by

* the Python function (``spectral.analyse(rec, seg_len=4)`` validates through it),
* ``ketephys config --check`` and the batch (the ``modalities:`` section of a config),
* the batch cache key and ``provenance.json`` (the validated settings with every default
  filled in, so ``{}`` and the defaults written out give the same key).

An unknown or misspelled setting is a :class:`~ketephys.errors.SettingsError` naming the
key path with a did-you-mean suggestion; a bad value names the key and what was expected.

Models for options that are passed through to a function (for example the keywords of
:func:`ketephys.tms.clean`) are built from that function's signature by
:func:`model_from_signature`, so the signature is their one declaration.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ._check import suggest
from .errors import SettingsError
from .features import jsonable, settings_hash

__all__ = ["AnalyserSettings", "model_from_signature", "check_keywords", "suggest",
           "settings_problems"]

S = TypeVar("S", bound="AnalyserSettings")


def _messages(err: ValidationError, model: type[BaseModel], where: str) -> list[str]:
    out = []
    for item in err.errors():
        loc = [str(x) for x in item["loc"]]
        path = ".".join([where, *loc] if where else loc)
        if item["type"] == "extra_forbidden":
            fields = _fields_at(model, item["loc"][:-1])
            out.append(f"unknown setting {path!r}{suggest(loc[-1], fields)} "
                       f"(allowed: {', '.join(fields)})")
        else:
            msg = item["msg"].removeprefix("Value error, ")
            out.append(f"{path}: {msg} (got {item.get('input')!r})")
    return out


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    for part in loc:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None)
        sub = next((a for a in (ann, *getattr(ann, "__args__", ())) if isinstance(a, type)
                    and issubclass(a, BaseModel)), None)
        if sub is None:
            return []
        model = sub
    return list(model.model_fields)


class AnalyserSettings(BaseModel):
    """Base of every analyser's settings model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True,
                              validate_default=True)

    @classmethod
    def resolve(cls: type[S], settings: Any = None, path: Any = None, where: str = "",
                **keywords: Any) -> S:
        """Validate settings given as a model, a mapping and/or keywords.

        Parameters
        ----------
        settings : AnalyserSettings, dict or None
            Settings (keywords override them).
        path : str, optional
            The file concerned (named in the error).
        where : str
            Key path prefix for messages, e.g. ``"modalities.eeg.spectral"``.
        **keywords
            Individual settings.

        Returns
        -------
        AnalyserSettings
            The validated settings, every default filled in.

        Raises
        ------
        SettingsError
            Listing every unknown key (with a suggestion) and every invalid value.
        """
        if isinstance(settings, cls) and not keywords:
            return settings
        if isinstance(settings, BaseModel):
            settings = settings.model_dump()
        if settings is not None and not isinstance(settings, Mapping):
            raise SettingsError(f"{where or cls.__name__}: settings must be a mapping of "
                                f"names to values, got {type(settings).__name__}", path)
        values = {**dict(settings or {}), **keywords}
        try:
            return cls(**values)
        except ValidationError as err:
            problems = _messages(err, cls, where)
            raise SettingsError("invalid settings:\n  " + "\n  ".join(problems), path) \
                from err

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (tuples as lists), for tables and hashes.

        Returns
        -------
        dict
            Every setting, defaults included (:func:`~ketephys.features.jsonable`).
        """
        return jsonable(self.model_dump())

    def settings_hash(self) -> str:
        """:func:`~ketephys.features.settings_hash` of :meth:`to_dict` (what the feature rows
        of these settings carry).

        Returns
        -------
        str
            12 hex digits.
        """
        return settings_hash(self.to_dict())


def model_from_signature(name: str, func: Callable[..., Any], skip: int = 1,
                         exclude: tuple[str, ...] = ()) -> type[AnalyserSettings]:
    """A settings model whose fields are ``func``'s keyword parameters.

    Each field has the parameter's annotation (``Any`` when it has none or it cannot be
    resolved) and its default; ``**kwargs`` and the first ``skip`` parameters (the
    recording) are left out, as are ``exclude``.

    Parameters
    ----------
    name : str
        The model's class name (shown in messages).
    func : callable
        The function whose signature declares the settings.
    skip : int
        Leading parameters left out (the recording).
    exclude : tuple of str
        Further parameters left out.

    Returns
    -------
    type
        A subclass of :class:`AnalyserSettings`.
    """
    func = inspect.unwrap(func)
    hints: dict[str, Any] = {}
    try:
        import typing

        hints = typing.get_type_hints(func)
    except Exception:  # an annotation naming a type not importable here: Any
        hints = {}
    fields: dict[str, Any] = {}
    params = list(inspect.signature(func).parameters.values())[skip:]
    for p in params:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in exclude:
            continue
        default = ... if p.default is p.empty else p.default
        fields[p.name] = (hints.get(p.name, Any), default)
    return create_model(name, __base__=AnalyserSettings, **fields)


def check_keywords(*passed_on: Callable[[], Callable[..., Any]],
                   renamed: Mapping[str, str] | None = None):
    """Decorator: an unknown keyword of a function is a :class:`SettingsError` naming it
    with a suggestion, not Python's bare ``TypeError``.

    Parameters
    ----------
    *passed_on : callable
        Callables returning the functions that receive the decorated function's
        ``**kwargs`` (called lazily, so heavy modules load only when needed); their
        keyword parameters are accepted too. The function's own signature is the
        declaration of the rest.
    renamed : mapping of str to str, optional
        Former parameter names -> their new names. Passing a former name raises a
        :class:`SettingsError` saying what it is called now (never silently accepted,
        never silently ignored).

    Notes
    -----
    A (data)class's generated ``__init__`` can be wrapped too
    (``Cls.__init__ = check_keywords(renamed=...)(Cls.__init__)``); its messages then name
    the class, ``Cls()``.

    Returns
    -------
    callable
        The decorator.
    """
    renamed = dict(renamed or {})

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(func)
        # a class's constructor is named by its class: "StudyDesign()", not "__init__()"
        label = (func.__qualname__.removesuffix(".__init__") if func.__name__ == "__init__"
                 else func.__name__)
        own = [n for n, p in sig.parameters.items() if p.kind not in (
            p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if func.__name__ == "__init__":
            own = own[1:]  # self

        @functools.cache
        def allowed() -> list[str]:
            names = list(own)
            for get in passed_on:
                params = inspect.signature(get()).parameters
                names += [n for n, p in list(params.items())[1:] if n not in names
                          and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            return names

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if any(k not in own for k in kwargs):
                names = allowed()
                bad = [k for k in kwargs if k not in names]
                if bad:
                    msgs = [f"setting {k!r} of {label}() was renamed "
                            f"{renamed[k]!r} in ketephys 0.2" if k in renamed else
                            f"unknown setting {k!r} of {label}(){suggest(k, names)}"
                            for k in bad]
                    raise SettingsError("; ".join(msgs) + f" (allowed: {', '.join(names)})")
            return func(*args, **kwargs)

        return checked

    return wrap


def settings_problems(model: type[AnalyserSettings], settings: Any, where: str) -> list[str]:
    """Every problem of ``settings`` against ``model`` as messages (empty when valid).

    Parameters
    ----------
    model : type
        An :class:`AnalyserSettings` subclass.
    settings : mapping or AnalyserSettings or None
        The settings to check.
    where : str
        Key path prefix of the messages, e.g. ``"modalities.eeg.spectral"``.

    Returns
    -------
    list of str
        One message per unknown key (with a suggestion) or invalid value.
    """
    try:
        model.resolve(settings, where=where)
    except SettingsError as err:
        text = err.detail.removeprefix("invalid settings:\n  ")
        return text.split("\n  ")
    return []
