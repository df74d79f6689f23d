"""Study metadata attached to every recording and carried into every output row."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import MetadataError

__all__ = ["StudyMeta", "META_COLUMNS"]

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


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, dict, tuple)) else False
    except (TypeError, ValueError):
        return False


def _coerce(name: str, value: Any, source: str, path: str | None) -> Any:
    """Validate and convert one metadata value; raise MetadataError naming the source."""
    if _is_missing(value):
        return None
    where = f"metadata field {name!r} from {source}"
    if name in _FLOAT_FIELDS:
        if isinstance(value, str):
            text = value.strip().lower()
            for suffix in ("mg/kg", "mg_per_kg", "h", "hours", "hr"):
                if text.endswith(suffix):
                    text = text[: -len(suffix)].strip()
                    break
            value = text
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise MetadataError(f"{where} must be a number, got {value!r}", path) from None
        if not math.isfinite(out):
            raise MetadataError(f"{where} must be finite, got {value!r}", path)
        if name == "dose_mg_per_kg" and out < 0:
            raise MetadataError(f"{where} must be >= 0 mg/kg, got {out}", path)
        return out
    if name in _INT_FIELDS:
        try:
            as_float = float(value)
        except (TypeError, ValueError):
            raise MetadataError(f"{where} must be a whole number >= 1, got {value!r}", path) from None
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

    @classmethod
    def from_sources(
        cls,
        sources: Iterable[tuple[str, Mapping[str, Any] | None]],
        path: str | None = None,
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

        Raises
        ------
        MetadataError
            When a value has the wrong type (e.g. a dose that is not a number).
        """
        meta = cls()
        known = {f.name for f in fields(cls)} - {"extras", "sources", "conflicts"}
        for source, mapping in sources:
            if not mapping:
                continue
            if isinstance(mapping, StudyMeta):
                mapping = mapping.to_dict(extras=True)
            for key, raw in mapping.items():
                if key in {"sources", "conflicts"}:
                    continue
                if key == "extras" and isinstance(raw, Mapping):
                    for k2, v2 in raw.items():
                        meta._set_extra(k2, v2, source)
                    continue
                if key in known:
                    value = _coerce(key, raw, source, path)
                    if value is None:
                        continue
                    current = getattr(meta, key)
                    if current is None:
                        setattr(meta, key, value)
                        meta.sources[key] = source
                    elif current != value:
                        meta.conflicts.append(
                            f"{key}: {current!r} from {meta.sources[key]} kept over "
                            f"{value!r} from {source}"
                        )
                else:
                    meta._set_extra(key, raw, source)
        return meta

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
        """The metadata as a flat dict: the :data:`META_COLUMNS` then, optionally, extras."""
        out = {name: getattr(self, name) for name in META_COLUMNS}
        if extras:
            for key, value in self.extras.items():
                out.setdefault(key, value)
        return out

    def columns(self) -> dict[str, Any]:
        """The :data:`META_COLUMNS` only, for tidy output rows."""
        return self.to_dict(extras=False)

    def updated(self, **values: Any) -> StudyMeta:
        """A copy with ``values`` taking priority over the current ones."""
        return StudyMeta.from_sources([("keyword", values), ("previous", self)])
