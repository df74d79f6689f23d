"""Every public callable documents its parameters and its return value (numpydoc).

Public means: a name listed in the ``__all__`` of a module of ``ketephys`` whose dotted
path has no part starting with an underscore, and the public methods of such a class.
For each of them:

* a function or method with parameters (other than ``self``/``cls``, ``*args``,
  ``**kwargs``) has a ``Parameters`` section naming every one of them (``name : type``
  or ``name1, name2 : type``);
* a function or method whose return annotation is not ``None`` has a ``Returns`` (or
  ``Yields``) section;
* a class with constructor parameters names every one of them in its ``Parameters`` or
  ``Attributes`` section (dataclasses and pydantic models list fields as attributes).

The docstring checked is the one Python shows (``inspect.getdoc``), so parameters filled
in from the shared table (:mod:`ketephys._docs`) count. One test a module, so a failure
names the module and lists what is missing.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re

import pytest

import ketephys

_SECTION = re.compile(r"^(?P<title>[A-Z][A-Za-z ]+)\n-{3,}\s*$", re.M)


def _public_modules() -> list[str]:
    names = ["ketephys"]
    for info in pkgutil.walk_packages(ketephys.__path__, "ketephys."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return sorted(names)


def _sections(doc: str) -> dict[str, str]:
    """Section title -> body of a numpydoc docstring."""
    found = list(_SECTION.finditer(doc))
    return {m["title"].strip(): doc[m.end():(found[i + 1].start() if i + 1 < len(found)
                                            else len(doc))]
            for i, m in enumerate(found)}


def _documented(body: str) -> set[str]:
    """Names documented in a Parameters/Attributes section body."""
    names: set[str] = set()
    for line in body.splitlines():
        if not line or line[0].isspace():
            continue
        head = line.split(" : ", 1)[0].strip().rstrip(":")
        for part in head.split(","):
            names.add(part.strip().lstrip("*"))
    return names


def _params(func) -> list[str]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [n for n, p in sig.parameters.items()
            if n not in ("self", "cls") and not n.startswith("_") and p.kind not in skip]


def _returns_value(func) -> bool:
    ann = inspect.signature(func).return_annotation
    return ann is not inspect.Signature.empty and ann not in (None, "None")


def _check_function(name: str, func, problems: list[str]) -> None:
    doc = inspect.getdoc(func) or ""
    sections = _sections(doc)
    params = _params(func)
    if params:
        if "Parameters" not in sections:
            problems.append(f"{name}: no Parameters section ({', '.join(params)})")
        else:
            missing = [p for p in params if p not in _documented(sections["Parameters"])]
            if missing:
                problems.append(f"{name}: Parameters lacks {', '.join(missing)}")
    if _returns_value(func) and not ({"Returns", "Yields"} & set(sections)):
        problems.append(f"{name}: no Returns section")


def _class_params(cls) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")]
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):  # pydantic model
        return [n for n in fields if not n.startswith("_")]
    if "__init__" not in vars(cls):
        return []
    return _params(cls.__init__)


def _check_class(name: str, cls, problems: list[str]) -> None:
    params = _class_params(cls)
    if params:
        doc = (inspect.getdoc(cls) or "")
        init_doc = inspect.getdoc(vars(cls).get("__init__")) if "__init__" in vars(cls) else ""
        sections = {**_sections(init_doc or ""), **_sections(doc)}
        body = sections.get("Parameters", "") + "\n" + sections.get("Attributes", "")
        if not body.strip():
            problems.append(f"{name}: no Parameters/Attributes section ({', '.join(params)})")
        else:
            missing = [p for p in params if p not in _documented(body)]
            if missing:
                problems.append(f"{name}: Parameters/Attributes lacks {', '.join(missing)}")
    for attr, member in vars(cls).items():
        if attr.startswith("_") or not inspect.isfunction(member):
            continue
        _check_function(f"{name}.{attr}", member, problems)
    for attr, member in vars(cls).items():
        if not attr.startswith("_") and isinstance(member, (classmethod, staticmethod)):
            _check_function(f"{name}.{attr}", member.__func__, problems)


def _owned(obj, module: str) -> bool:
    """True when ``obj`` is defined in ``module``, or in a private module and re-exported.

    A public name defined in a public module is checked there, once; one defined in a
    private module (``ketephys._check``) is checked where it is made public.
    """
    home = getattr(obj, "__module__", None) or ""
    return home == module or (home.startswith("ketephys")
                              and any(p.startswith("_") for p in home.split(".")[1:]))


@pytest.mark.parametrize("module", _public_modules())
def test_public_callables_are_documented(module: str) -> None:
    mod = importlib.import_module(module)
    problems: list[str] = []
    for name in getattr(mod, "__all__", ()):
        obj = getattr(mod, name, None)
        if not _owned(obj, module):
            continue
        if inspect.isclass(obj):
            _check_class(f"{module}.{name}", obj, problems)
        elif inspect.isfunction(obj):
            _check_function(f"{module}.{name}", obj, problems)
    assert not problems, "\n".join(problems)


def test_the_check_finds_an_undocumented_parameter() -> None:
    def documented(a: int, b: int) -> int:
        """Add.

        Parameters
        ----------
        a, b : int
            The terms.

        Returns
        -------
        int
        """
        return a + b

    def half(a: int, b: int) -> int:
        """Add.

        Parameters
        ----------
        a : int
            The first term.
        """
        return a + b

    problems: list[str] = []
    _check_function("documented", documented, problems)
    assert problems == []
    _check_function("half", half, problems)
    assert problems == ["half: Parameters lacks b", "half: no Returns section"]
