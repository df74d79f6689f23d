"""The strict schema of JSON sidecars (pydantic), and per-channel field helpers.

:func:`validate_sidecar` checks the types of every data field of a sidecar (and of the
numeric study fields) and returns the content with the data fields normalised; any
problem is a :class:`~ketephys.errors.MetadataError` naming the sidecar file and the
field (``events.onset[2]``). Rules:

- ``sfreq``: a number or a numeric string, finite and > 0; never a boolean.
- ``ch_names``: a list of distinct, non-empty strings (a string ``"ab"`` is refused).
- ``units`` / ``ch_types``: one string for all channels, a list, or an object
  ``{channel: value}``; units must be convertible to SI, types one of ``CH_TYPES``.
- ``sweep_starts``: a list of finite numbers (s).
- ``events``: an object of equal-length lists ``onset`` (required), ``duration``,
  ``description``, ``sweep``, or a list of such objects.
- ``meta``: an object. ``data_key``/``variable``: strings.
- ``dose_mg_per_kg``, ``hours_since_dose``, ``infusion`` (top level or in ``meta``): never
  a boolean nor a blank string (``null`` is "not known"); their values are otherwise
  checked by the metadata layer.
- The JSON may not repeat a key (the last one would win silently).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..errors import KetephysError, MetadataError, UnitError
from ..recording import CH_TYPES
from ..units import si_scale

__all__ = ["validate_sidecar", "load_json_strict", "per_channel", "SidecarModel"]

Number = StrictInt | StrictFloat
PerChannel = StrictStr | list[StrictStr] | dict[str, StrictStr]
#: study fields that are numbers: a JSON boolean there is refused
NUMERIC_META = ("dose_mg_per_kg", "hours_since_dose", "infusion")


def _finite(values: list[float], what: str) -> list[float]:
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise ValueError(f"{what}[{i}] must be finite, got {v!r}")
    return values


class SidecarEvents(BaseModel):
    """``events`` of a sidecar: equal-length lists."""

    model_config = ConfigDict(extra="forbid")
    onset: list[Number]
    duration: list[Number] | None = None
    description: list[StrictStr] | None = None
    sweep: list[StrictInt | None] | None = None

    @model_validator(mode="before")
    @classmethod
    def _records(cls, value: Any) -> Any:
        if isinstance(value, list):  # [{"onset": ..}, ...] -> columns
            if not all(isinstance(v, dict) for v in value):
                raise ValueError("a list of events must hold objects {\"onset\": ...}")
            keys = {k for v in value for k in v}
            return {k: [v.get(k) for v in value] for k in keys} if value else {"onset": []}
        return value

    @model_validator(mode="after")
    def _lengths(self) -> SidecarEvents:
        n = len(self.onset)
        _finite(self.onset, "onset")
        for name in ("duration", "description", "sweep"):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise ValueError(f"{name} has {len(col)} values for {n} onsets")
        if self.duration is not None and any(
                not math.isfinite(d) or d < 0 for d in self.duration):
            raise ValueError("duration values must be finite and >= 0")
        return self


class SidecarModel(BaseModel):
    """The data fields of a sidecar (pydantic); other keys pass through unchanged.

    Attributes
    ----------
    sfreq : number or numeric str, optional
        Sampling rate in Hz (finite, > 0; never a boolean).
    ch_names : list of str, optional
        Distinct, non-empty channel names.
    units, ch_types : str, list of str or dict of str, optional
        Per channel (:func:`per_channel`); units convertible to SI, types of ``CH_TYPES``.
    sweep_starts : list of number, optional
        Sweep start times in s (finite).
    events : SidecarEvents, optional
        Columns ``onset`` (required), ``duration``, ``description``, ``sweep`` of equal
        length, or a list of event objects.
    meta : dict, optional
        Study metadata (any fields, extras included).
    extras : list of str, optional
        Names of the extra metadata the sidecar carries (declared by ketephys' writer).
    data_key, variable : str, optional
        The array to read in a ``.npz``/``.mat`` holding several.
    dose_mg_per_kg, hours_since_dose, infusion : number or str, optional
        Numeric study fields at the top level (never booleans nor blank strings; values
        checked by :mod:`ketephys.meta`).
    """

    model_config = ConfigDict(extra="allow")
    sfreq: Number | StrictStr | None = None
    ch_names: list[StrictStr] | None = None
    units: PerChannel | None = None
    ch_types: PerChannel | None = None
    sweep_starts: list[Number] | None = None
    events: SidecarEvents | None = None
    meta: dict[str, Any] | None = None
    extras: list[StrictStr] | None = None
    data_key: StrictStr | None = None
    variable: StrictStr | None = None
    dose_mg_per_kg: Number | StrictStr | None = None
    hours_since_dose: Number | StrictStr | None = None
    infusion: Number | StrictStr | None = None

    @field_validator("sfreq")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"sampling rate must be a number of Hz, got {value!r}") from None
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"sampling rate must be a finite number of Hz > 0, got {value!r}")
        return rate

    @field_validator("ch_names")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if value is None:
            return None
        if any(not n.strip() for n in value):
            raise ValueError("channel names must not be empty")
        dup = sorted({n for n in value if value.count(n) > 1})
        if dup:
            raise ValueError(f"channel names {dup} are repeated")
        return value

    @field_validator("units")
    @classmethod
    def _units(cls, value: Any) -> Any:
        for unit in _values(value):
            try:
                si_scale(unit)
            except KetephysError as exc:
                raise ValueError(exc.detail) from None
        return value

    @field_validator("ch_types")
    @classmethod
    def _types(cls, value: Any) -> Any:
        bad = sorted(set(_values(value)) - set(CH_TYPES))
        if bad:
            raise ValueError(f"unknown channel types {bad}; use {list(CH_TYPES)}")
        return value

    @field_validator("sweep_starts")
    @classmethod
    def _starts(cls, value: Any) -> Any:
        return None if value is None else _finite(value, "sweep_starts")

    @field_validator(*NUMERIC_META)
    @classmethod
    def _numeric_meta(cls, value: Any, info: ValidationInfo) -> Any:
        _check_numeric_meta(info.field_name, value)
        return value

    @field_validator("meta")
    @classmethod
    def _meta(cls, value: Any) -> Any:
        for key in NUMERIC_META:
            _check_numeric_meta(key, (value or {}).get(key))
        return value


def _check_numeric_meta(key: str, value: Any) -> None:
    """A numeric study field may be a number, a numeric string (checked later by
    :mod:`ketephys.meta`) or null (absent); a boolean or a blank string is refused, so that
    ``""`` never silently means "not known"."""
    if isinstance(value, bool):
        raise ValueError(f"{key} must be a number, not a boolean")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{key} must be a number, got the empty string {value!r} (write "
                         "null, or leave the field out, when it is not known)")


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value.values()) if isinstance(value, dict) else list(value)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MetadataError(f"sidecar field {key!r} appears twice (JSON keys must be "
                                "unique; the last one would win silently)")
        out[key] = value
    return out


def load_json_strict(path: Path) -> Any:
    """Parse a JSON file, refusing repeated keys.

    Parameters
    ----------
    path : Path
        The JSON file.

    Returns
    -------
    object
        The parsed JSON (any JSON type).

    Raises
    ------
    MetadataError
        When a key is repeated in an object (naming the key), the file cannot be opened,
        or it is not valid JSON (UTF-8).
    """
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh, object_pairs_hook=_no_duplicate_keys)
    except MetadataError as exc:
        raise MetadataError(exc.detail, path) from exc
    except PermissionError as exc:
        raise MetadataError(f"sidecar cannot be opened: {exc.strerror}", path) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"sidecar is not valid JSON: {exc}", path) from exc


_EXPECTED = {
    "sfreq": "a number of Hz (or a numeric string; not a boolean)",
    "ch_names": "a list of channel-name strings",
    "units": "a unit string for all channels, a list of them or {channel: unit}",
    "ch_types": "a channel-type string for all channels, a list of them or {channel: type}",
    "sweep_starts": "a list of numbers (s)",
    "events": "an object of equal-length lists onset (numbers, s), duration, description "
              "(strings), sweep (integers)",
    "meta": "an object {...}",
    "data_key": "a string",
    "variable": "a string",
    **dict.fromkeys(NUMERIC_META, "a number or a string (not a boolean)"),
}


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"int", "float", "str", "list[str]", "dict[str,str]"} or (
                isinstance(part, str) and part.startswith(("function-", "constrained-"))):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def validate_sidecar(content: dict[str, Any], path: Path, owner: Path | None = None
                     ) -> dict[str, Any]:
    """Check ``content`` of the sidecar ``path`` against :class:`SidecarModel`.

    Parameters
    ----------
    content : dict
        The parsed JSON object.
    path : Path
        The sidecar file (named in messages).
    owner : Path, optional
        The recording it describes: errors are raised against it (default: ``path``).

    Returns
    -------
    dict
        ``content`` with the data fields normalised (``sfreq`` a float, ``events`` columns).

    Raises
    ------
    MetadataError
        Naming the sidecar and the field (``UnitError`` for a unit that is not known).
    """
    try:
        model = SidecarModel.model_validate(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(first["loc"])
        top = where.split("[")[0].split(".")[0]
        field = f"sidecar {path.name} field {top!r}"
        if first["type"] == "value_error":
            text = f"{first['msg'].removeprefix('Value error, ')} ({field})"
        else:
            text = (f"{field} must be {_EXPECTED.get(top, 'of another type')}, got "
                    f"{_short(first.get('input'))}" + (f" at {where}" if where != top else ""))
        cls = UnitError if top == "units" and text.startswith("unknown unit") else MetadataError
        raise cls(text, owner or path) from exc
    out = dict(content)
    if model.sfreq is not None:
        out["sfreq"] = model.sfreq
    if model.events is not None:
        out["events"] = model.events.model_dump(exclude_none=True)
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def per_channel(value: Any, names: list[str], field: str, path: Path,
                default: str | None) -> list[str | None]:
    """One value per channel from a per-channel field (``units=``, ``ch_types=``).

    Parameters
    ----------
    value : str, list, dict or None
        One string for every channel, a list in channel order, or ``{channel: value}``
        (channels not named get ``default``); None: ``default`` for every channel.
    names : list of str
        The channel names.
    field : str
        The field's name, for messages.
    path : Path
        The file, for messages.
    default : str or None
        The value of channels the field does not give.

    Returns
    -------
    list of str or None
        One value per channel.

    Raises
    ------
    MetadataError
        For a dict naming channels that are not in the file (naming them and listing the
        channels), a list of the wrong length, or a value of another type.
    """
    if value is None:
        return [default] * len(names)
    if isinstance(value, str):
        return [value] * len(names)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise MetadataError(f"{field} names channels {unknown} that are not in the "
                                f"file; its channels are {names}", path)
        return [None if value.get(n, default) is None else str(value.get(n, default))
                for n in names]
    if not isinstance(value, (list, tuple)):
        raise MetadataError(f"{field} must be a string, a list or a {{channel: value}} "
                            f"object, got {type(value).__name__}", path)
    value = [str(v) for v in value]
    if len(value) != len(names):
        raise MetadataError(f"{len(value)} {field} for {len(names)} channels {names}", path)
    return value
