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
    """``seed`` itself when it is a ``numpy.random.Generator``, else
    ``numpy.random.default_rng(seed)`` (None: fresh entropy).

    Callers keep their own default ``seed`` so the numbers they produce do not change.
    """
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def suggest(key: Any, allowed: Iterable[Any]) -> str:
    """``"; did you mean 'x'?"`` for the closest allowed name, or ``""``."""
    close = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_option(name: str, value: Any, allowed: Iterable[Any],
                 path: str | os.PathLike | None = None) -> Any:
    """``value`` when it is one of ``allowed``.

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
