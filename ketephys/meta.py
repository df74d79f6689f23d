"""Study metadata attached to every recording and carried into every output row."""

from __future__ import annotations

import difflib
import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import MetadataError

__all__ = ["StudyMeta", "META_COLUMNS", "PRE_DOSE_HOURS", "CHECKED_SOURCES", "check_value",
           "check_keys", "parse_hours", "suggest"]

#: Metadata columns carried, in this order, into every tidy output table.
META_COLUMNS = (
    "subject",
    "session",
    "region",
    "condition",
    "dose_mg_per_kg",
    "infusion",
    "hours_since_dose",
    "genotype",
)

_FLOAT_FIELDS = {"dose_mg_per_kg", "hours_since_dose"}
_INT_FIELDS = {"infusion"}
#: Sources whose keys must be study metadata fields or declared extras (typos are errors);
#: BIDS tables, the file's own header and earlier ``StudyMeta`` objects are trusted.
CHECKED_SOURCES = ("keyword", "sidecar", "manifest")

#: Hours since dose given to a visit written as ``"pre"`` or ``"baseline"``. Any negative
#: time is pre-dose (the decay fits take each subject's rows with time < 0 as baseline);
#: -1 h is the baseline visit of the simulated studies, so both spellings agree.
PRE_DOSE_HOURS = -1.0

_HOUR_UNITS = {"h": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0,
               "d": 24.0, "day": 24.0, "days": 24.0,
               "w": 168.0, "wk": 168.0, "week": 168.0, "weeks": 168.0,
               "min": 1 / 60, "mins": 1 / 60, "minute": 1 / 60, "minutes": 1 / 60}
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
_TIME_RE = re.compile(rf"({_NUMBER})\s*([a-z]*)")
_DOSE_RE = re.compile(rf"({_NUMBER})\s*(?:mg/kg|mg_per_kg)?")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, dict, tuple)) else False
    except (TypeError, ValueError):
        return False


def parse_hours(text: str) -> float | None:
    """Hours since dose from text.

    Accepted: a number (hours), a number with a unit (``"24 h"``, ``"2 hours"``,
    ``"1d"``, ``"3 days"``, ``"120min"``, ``"2 weeks"``), and ``"pre"``/``"baseline"``
    (pre-dose, :data:`PRE_DOSE_HOURS`).

    Parameters
    ----------
    text : str
        The text (case and surrounding spaces ignored).

    Returns
    -------
    float or None
        Hours; None when the text is not one of the forms above.
    """
    text = text.strip().lower()
    if text in ("pre", "pre-dose", "predose", "baseline"):
        return PRE_DOSE_HOURS
    m = _TIME_RE.fullmatch(text)
    if not m or (m.group(2) and m.group(2) not in _HOUR_UNITS):
        return None
    return float(m.group(1)) * _HOUR_UNITS.get(m.group(2), 1.0)


def _number(name: str, value: Any, where: str, path: str | None) -> float:
    if isinstance(value, bool):
        raise MetadataError(f"{where} must be a number, got the boolean {value!r}", path)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+,\d+", text):
            raise MetadataError(f"{where} must be a number, got {value!r} (a decimal comma? "
                                "write it with a point)", path)
        if name == "hours_since_dose":
            out = parse_hours(text)
        else:
            m = _DOSE_RE.fullmatch(text.lower())
            out = float(m.group(1)) if m else None
        if out is None:
            forms = ('"24", "24 h", "2 hours", "1d", "120min", "-1h", "pre"'
                     if name == "hours_since_dose" else '"0.5" or "0.5 mg/kg"')
            raise MetadataError(f"{where} must be a number (e.g. {forms}), got {value!r}",
                                path)
        return out
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"{where} must be a number, got {value!r}", path) from exc


def _coerce(name: str, value: Any, source: str, path: str | None) -> Any:
    """Validate and convert one metadata value; raise MetadataError naming the source."""
    if _is_missing(value):
        return None
    where = f"metadata field {name!r} from {source}"
    if name in _FLOAT_FIELDS:
        out = _number(name, value, where, path)
        if not math.isfinite(out):
            raise MetadataError(f"{where} must be finite, got {value!r}", path)
        if name == "dose_mg_per_kg" and out < 0:
            raise MetadataError(f"{where} must be >= 0 mg/kg, got {out}", path)
        return out
    if name in _INT_FIELDS:
        if isinstance(value, bool):
            raise MetadataError(f"{where} must be a whole number >= 1, got {value!r}", path)
        try:
            as_float = float(value)
        except (TypeError, ValueError) as exc:
            raise MetadataError(f"{where} must be a whole number >= 1, got {value!r}",
                                path) from exc
        if not as_float.is_integer() or as_float < 1:
            raise MetadataError(f"{where} must be a whole number >= 1, got {value!r}", path)
        return int(as_float)
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)
    if not isinstance(value, str):
        raise MetadataError(f"{where} must be text, got {type(value).__name__}", path)
    return value.strip()


def check_value(name: str, value: Any, source: str, path: str | os.PathLike | None = None
                ) -> Any:
    """One metadata value checked and converted as :class:`StudyMeta` stores it.

    Parameters
    ----------
    name : str
        A :data:`META_COLUMNS` field (any other name is returned unchanged: an extra).
    value : object
        The raw value (text from a CSV, a JSON value, a keyword).
    source : str
        Where it came from, named in the error, e.g. ``"manifest row 3"``.
    path : path-like, optional
        File named in the error.

    Returns
    -------
    object
        The converted value, or None when missing.

    Raises
    ------
    MetadataError
        When the value is not of the field's type.
    """
    path = None if path is None else os.fspath(path)
    if name not in META_COLUMNS:
        return None if _is_missing(value) else value
    return _coerce(name, value, source, path)


def suggest(name: str, choices: Iterable[str]) -> str:
    """A did-you-mean hint for a misspelled name.

    Parameters
    ----------
    name : str
        The name given.
    choices : iterable of str
        The names allowed.

    Returns
    -------
    str
        ``"; did you mean 'x'?"`` for the closest choice (by spelling, or a choice that
        starts with the name or begins it, 3 letters at least), or ``""`` when none is close.
    """
    choices = list(choices)
    lower = name.lower()
    close = difflib.get_close_matches(lower, choices, n=1, cutoff=0.6)
    if not close:
        close = [c for c in choices if len(lower) >= 3 and (c.startswith(lower)
                                                              or lower.startswith(c))][:1]
    if not close:
        close = difflib.get_close_matches(lower, choices, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_keys(keys: Iterable[str], extras: Iterable[str], source: str,
               path: str | os.PathLike | None = None) -> None:
    """Raise for any key that is neither a study metadata field nor a declared extra.

    Parameters
    ----------
    keys : iterable of str
        Metadata names as given (manifest columns, sidecar ``meta`` keys, ``meta=`` keys).
    extras : iterable of str
        Declared extra metadata (``inputs.extra_columns`` of a config, ``extras=`` in Python).
    source : str
        Named in the message (``"manifest"``, ``"sidecar"``, ``"keyword meta="``...).
    path : path-like, optional

    Raises
    ------
    MetadataError
        Naming the first unknown key, with a did-you-mean suggestion.
    """
    allowed = set(META_COLUMNS) | set(extras)
    for key in keys:
        if key not in allowed:
            raise MetadataError(
                f"unknown metadata {'column' if source.startswith('manifest') else 'key'} "
                f"{key!r} from {source}{suggest(key, META_COLUMNS)} (declare other metadata "
                "as extras: inputs.extra_columns in a config, extras=[...] in Python)",
                None if path is None else os.fspath(path))


def _declared_extras(sources: list[tuple[str, Any]], extras: Iterable[str] | None
                     ) -> tuple[str, ...] | None:
    """The extra names allowed: ``extras`` plus those declared by StudyMeta sources, in
    order without repeats; None when neither declares any (any key is kept)."""
    declared = None if extras is None else [str(e) for e in extras]
    for _, mapping in sources:
        if isinstance(mapping, StudyMeta) and mapping.declared_extras is not None:
            declared = [*(declared or []), *mapping.declared_extras]
    return None if declared is None else tuple(dict.fromkeys(declared))


@dataclass
class StudyMeta:
    """Who, where and when a recording is: the study design behind it.

    Attributes
    ----------
    subject, session, region, condition, genotype : str or None
        ``condition`` is e.g. ``"ketamine"`` or ``"saline"``; ``genotype`` e.g. ``"Val/Val"``.
    dose_mg_per_kg : float or None
        Dose of the infusion this visit follows, in mg/kg.
    infusion : int or None
        1-based index of that infusion in the schedule.
    hours_since_dose : float or None
        Hours since that infusion started; negative before the first dose.
    extras : dict
        Any other field (``sex``, ``age``, ``bdnf_ng_per_ml``...), kept as given.
    sources : dict
        For each field, where its value came from (``"keyword"``, ``"sidecar"``,
        ``"manifest"``, ``"bids"``, ...).
    conflicts : list of str
        Human-readable notes where two sources disagreed; the higher-priority one won.
    declared_extras : tuple of str or None
        Extra metadata names declared by the user (``extras=``), or None when no check was
        asked for. A metadata object passed on (e.g. as ``meta=`` to a reader) carries
        them: the reader then checks the sidecar's keys against them.
    """

    subject: str | None = None
    session: str | None = None
    region: str | None = None
    condition: str | None = None
    dose_mg_per_kg: float | None = None
    infusion: int | None = None
    hours_since_dose: float | None = None
    genotype: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    declared_extras: tuple[str, ...] | None = None

    @classmethod
    def from_sources(
        cls,
        sources: Iterable[tuple[str, Mapping[str, Any] | None]],
        path: str | None = None,
        extras: Iterable[str] | None = None,
    ) -> StudyMeta:
        """Merge metadata from several sources, highest priority first.

        Parameters
        ----------
        sources : iterable of (name, mapping)
            E.g. ``[("keyword", {...}), ("sidecar", {...}), ("manifest", {...})]``.
            A value from an earlier source wins; a disagreeing later value is recorded in
            :attr:`conflicts` with both sources named.
        path : str, optional
            File named in errors.
        extras : iterable of str, optional
            Extra metadata names allowed, e.g. ``["sex", "age"]``. When given (``[]``
            included), or when a ``StudyMeta`` among the sources has
            :attr:`declared_extras`, every key of the checked sources
            (:data:`CHECKED_SOURCES`: ``keyword``, ``sidecar``, ``manifest``) must be a
            field or a declared extra. None (the default, for in-memory constructors and
            readers' own headers) keeps any key as an extra.

        Returns
        -------
        StudyMeta
            The merged metadata, with :attr:`sources` (field -> source it came from) and
            :attr:`conflicts` filled.

        Raises
        ------
        MetadataError
            When a value has the wrong type (e.g. a dose that is not a number), or a checked
            source has a key that is neither a field nor a declared extra (the message
            suggests the closest field).
        """
        sources = list(sources)
        meta = cls(declared_extras=_declared_extras(sources, extras))
        for source, mapping in sources:
            if not mapping:
                continue
            if isinstance(mapping, StudyMeta):  # already checked: its extras are trusted
                for key, raw in mapping.extras.items():
                    meta._set_extra(key, raw, mapping.sources.get(key, source))
                mapping = mapping.to_dict(extras=False)
            else:
                meta._check_source(source, mapping, path)
            meta._merge(source, mapping, path)
        return meta

    def _check_source(self, source: str, mapping: Any, path: str | None) -> None:
        """A source must be a mapping; a checked source may only name fields or declared
        extras (when extras are declared)."""
        if not isinstance(mapping, Mapping):
            raise MetadataError(f"metadata from {source} must be a mapping of field -> "
                                f"value, got {type(mapping).__name__}", path)
        if source in CHECKED_SOURCES and self.declared_extras is not None:
            check_keys([k for k in mapping if k not in {"sources", "conflicts", "extras"}],
                       self.declared_extras, source, path)

    def _merge(self, source: str, mapping: Mapping[str, Any], path: str | None) -> None:
        """Take the values of ``mapping`` that are not set yet (an ``extras`` mapping's
        entries as extras); record the disagreeing ones in :attr:`conflicts`."""
        for key, raw in mapping.items():
            if key in {"sources", "conflicts"}:
                continue
            if key == "extras" and isinstance(raw, Mapping):
                for k2, v2 in raw.items():
                    self._set_extra(k2, v2, source)
            elif key in META_COLUMNS:
                self._set_field(key, _coerce(key, raw, source, path), source)
            else:
                self._set_extra(key, raw, source)

    def _set_field(self, key: str, value: Any, source: str) -> None:
        if value is None:
            return
        current = getattr(self, key)
        if current is None:
            setattr(self, key, value)
            self.sources[key] = source
        elif current != value:
            self.conflicts.append(
                f"{key}: {current!r} from {self.sources[key]} kept over "
                f"{value!r} from {source}"
            )

    def _set_extra(self, key: str, value: Any, source: str) -> None:
        if _is_missing(value):
            return
        if key not in self.extras:
            self.extras[key] = value
            self.sources[key] = source
        elif self.extras[key] != value:
            self.conflicts.append(
                f"{key}: {self.extras[key]!r} from {self.sources[key]} kept over "
                f"{value!r} from {source}"
            )

    def to_dict(self, extras: bool = True) -> dict[str, Any]:
        """The metadata as a flat dict.

        Parameters
        ----------
        extras : bool
            Add the extra fields after the :data:`META_COLUMNS` (a study field of the same
            name wins).

        Returns
        -------
        dict
            Field -> value (None for unset study fields).
        """
        out = {name: getattr(self, name) for name in META_COLUMNS}
        if extras:
            for key, value in self.extras.items():
                out.setdefault(key, value)
        return out

    def columns(self) -> dict[str, Any]:
        """The :data:`META_COLUMNS` only, for tidy output rows.

        Returns
        -------
        dict
            Study field -> value (None when unset), in :data:`META_COLUMNS` order.
        """
        return self.to_dict(extras=False)

    def updated(self, **values: Any) -> StudyMeta:
        """A copy with some values replaced.

        Parameters
        ----------
        **values
            Fields (or extras) taking priority over the current values.

        Returns
        -------
        StudyMeta
            A new object (this one is unchanged); replaced values are recorded in
            :attr:`conflicts`, the declared extras kept.
        """
        return StudyMeta.from_sources([("keyword", values), ("previous", self)],
                                      extras=self.declared_extras)
