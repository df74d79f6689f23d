"""Unit strings to SI: every reader converts at load time with :func:`si_scale`."""

from __future__ import annotations

from .errors import UnitError

__all__ = ["si_scale", "SI_UNITS"]

#: Base units a channel may carry once converted ("" is dimensionless).
SI_UNITS = ("V", "A", "Ohm", "F", "S", "K", "")

_PREFIX = {
    "": 1.0,
    "k": 1e3,
    "m": 1e-3,
    "u": 1e-6,
    "µ": 1e-6,
    "μ": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
    "M": 1e6,
    "G": 1e9,
}
_BASE = {
    "v": "V",
    "volt": "V",
    "volts": "V",
    "a": "A",
    "amp": "A",
    "amps": "A",
    "ampere": "A",
    "ohm": "Ohm",
    "ω": "Ohm",
    "Ω": "Ohm",
    "f": "F",
    "s": "S",
    "siemens": "S",
    "k": "K",
}
_DIMENSIONLESS = {"", "dimensionless", "none", "au", "a.u.", "arb", "arbitrary", "counts", "1"}


def si_scale(unit: str, path: str | None = None) -> tuple[str, float]:
    """Return the SI base unit of ``unit`` and the factor that converts values to it.

    Parameters
    ----------
    unit : str
        A unit as written by a file or a user: ``"mV"``, ``"mv"`` (WinWCP), ``"uV"``,
        ``"µV"``, ``"pA"``, ``"nA"``, ``"V"``, ``"MOhm"``, ``"dimensionless"``...
        Case is respected for the prefix when it matters (``"mV"`` vs ``"MV"``) except for
        all-lowercase strings, which writers such as WinWCP use for millivolts.
    path : str, optional
        File named in the error message.

    Returns
    -------
    base : str
        One of :data:`SI_UNITS`.
    factor : float
        Multiply values in ``unit`` by this to obtain ``base``.

    Raises
    ------
    UnitError
        When the string is not a known unit.
    """
    if not isinstance(unit, str):
        raise UnitError(f"unit must be a string, got {unit!r}", path)
    text = unit.strip()
    if text.lower() in _DIMENSIONLESS:
        return "", 1.0
    # exact base first (V, A, Ohm, ...)
    low = text.lower()
    if low in _BASE and (len(text) > 1 or text in {"V", "A", "v", "a", "S", "F", "K"}):
        return _BASE[low], 1.0
    prefix, rest = text[0], text[1:]
    if prefix in _PREFIX and rest.lower() in _BASE and rest:
        base = _BASE[rest.lower()]
        if prefix == "M" and base in {"V", "A"} and rest.islower():
            # "Mv"/"Ma" would be odd; treat as mega only for Ohm/S
            raise UnitError(f"ambiguous unit {unit!r}; write mV or MV explicitly", path)
        return base, _PREFIX[prefix]
    if prefix.lower() in _PREFIX and rest.lower() in _BASE and text.islower():
        # all-lowercase writers: "mv", "uv", "pa", "na"
        return _BASE[rest.lower()], _PREFIX[prefix.lower()]
    raise UnitError(f"unknown unit {unit!r} (expected e.g. V, mV, uV, pA, nA, MOhm)", path)
