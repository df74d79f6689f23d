"""Names of a package that are imported on first use.

``import ketephys`` and ``ketephys --help`` must not pull in pandas, scipy, MNE or Neo, so
the packages expose their public names through a module ``__getattr__`` (PEP 562) built
here, instead of importing every submodule up front.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, where: Mapping[str, str | None]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` that import names when first asked for.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : mapping
        Public name -> the submodule (relative to ``package``) that defines it, or None
        when the name is itself a submodule.
    """

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = where[name]
        if module is None:
            return import_module(f".{name}", package)
        return getattr(import_module(f".{module}", package), name)

    def __dir__() -> list[str]:
        import sys

        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
