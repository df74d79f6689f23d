"""Small argument checks shared by the whole package (a leaf module: it imports only the
error hierarchy).

:func:`check_random_state` turns a ``seed`` keyword into a generator the same way
everywhere; :func:`check_option` is the one "must be one of" check, raising
:class:`~ketephys.errors.SettingsError` with a did-you-mean suggestion.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import SettingsError

__all__ = ["check_random_state", "check_option", "suggest"]


def check_random_state(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A random generator from a ``seed`` argument.

    Callers keep their own default ``seed`` so the numbers they produce do not change.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        A seed, a generator (used as it is, so draws continue its stream), or None
        (fresh entropy).

    Returns
    -------
    numpy.random.Generator
        ``seed`` itself when it is a generator, else ``numpy.random.default_rng(seed)``.
    """
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def suggest(key: Any, allowed: Iterable[Any]) -> str:
    """A did-you-mean hint for a misspelled name.

    Parameters
    ----------
    key : Any
        The name given.
    allowed : iterable
        The valid names.

    Returns
    -------
    str
        ``"; did you mean 'x'?"`` for the closest allowed name (difflib ratio >= 0.6), or
        ``""``.
    """
    close = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_option(name: str, value: Any, allowed: Iterable[Any],
                 path: str | os.PathLike | None = None) -> Any:
    """``value`` when it is one of ``allowed``.

    Parameters
    ----------
    name : str
        The argument's name, as the message shows it.
    value : Any
        The value given.
    allowed : iterable
        The valid values.
    path : str or os.PathLike, optional
        The file concerned, put at the front of the message.

    Returns
    -------
    Any
        ``value``.

    Raises
    ------
    SettingsError
        ``"<name> must be one of <allowed>, got <value>; did you mean ...?"`` (naming
        ``path`` when given).
    """
    allowed = tuple(allowed)
    if value in allowed:
        return value
    raise SettingsError(f"{name} must be one of {allowed}, got {value!r}"
                        f"{suggest(value, allowed)}", path)
