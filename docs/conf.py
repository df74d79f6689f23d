"""Sphinx configuration: the ketephys tutorials as a sphinx-gallery.

Build (sphinx and sphinx-gallery are not runtime dependencies; they are the ``docs``
extra)::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html      # or: make -C docs html
    sphinx-build -W --keep-going -b html -D plot_gallery=0 docs docs/_build/html  # not run

``-W --keep-going`` makes every warning (broken markup in a docstring, an ambiguous
cross-reference, a tutorial that fails) fail the build, after listing all of them; both
builds are clean. Add ``-E`` after changing ``conf.py`` itself: sphinx notices changed
docstrings, not a changed directive.

sphinx-gallery runs every ``tutorials/NN_*.py`` script (about a minute each at most)
and writes the rendered gallery to ``docs/auto_tutorials`` and the site to
``docs/_build/html``; both are generated and not committed. Tutorials that read real
recordings look for ``../shared/data`` beside the repository (or
``$KETEPHYS_SHARED_DATA``) and fall back to simulated files without it. With
``-D plot_gallery=0`` the tutorials are rendered as code without running them (seconds
instead of minutes).

The API reference (``api.rst``) is built by the ``public-api`` directive defined here: for
a module it writes an autosummary table and the autodoc entries of the names in the
module's ``__all__``, so the page follows the code without a hand-kept list of names (and,
for a configuration model such as ``PipelineConfig``, the entries of its nested sections).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import pkgutil
import sys
import typing
from pathlib import Path

import matplotlib
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the repository's ketephys, even if not installed

import ketephys  # noqa: E402

project = "ketephys"
author = "the ketephys developers"
copyright = "ketephys developers, BSD-3-Clause"
release = version = ketephys.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx_gallery.gen_gallery",
]
autodoc_member_order = "bysource"          # the order of the module's __all__
autodoc_typehints = "none"                 # types are in the numpydoc Parameters
autodoc_default_options = {"undoc-members": False, "show-inheritance": True}
autosummary_generate = False               # the tables link to entries on the API page
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
exclude_patterns = ["_build", "auto_tutorials/*.ipynb", "auto_tutorials/*.py.md5"]
default_role = "py:obj"
nitpicky = False
smartquotes_action = "qe"  # quotes and ellipses only: "--out" stays two hyphens, not a dash
html_theme = os.environ.get("KETEPHYS_DOCS_THEME", "alabaster")

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "tutorials"),
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r"/\d\d_",            # execute every numbered tutorial
    "within_subsection_order": "FileNameSortKey",  # 00_quickstart first, then 10, 20...
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "download_all_examples": True,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "write_computation_times": False,  # no sg_execution_times.rst in the source tree
}


def public_names(module_name: str) -> list[str]:
    """Names in ``module.__all__`` that are not submodules (those have their own section)."""
    module = importlib.import_module(module_name)
    return [name for name in getattr(module, "__all__", [])
            if not inspect.ismodule(getattr(module, name, None))]


def _is_constant(obj: object) -> bool:
    return not (inspect.isclass(obj) or callable(obj))


def constant_doc(module_name: str, name: str) -> list[str]:
    """The ``#:`` comment above the assignment of ``module.name``, looked up in the
    module and its submodules (a package re-exports constants defined further down)."""
    module = importlib.import_module(module_name)
    value = getattr(module, name)
    candidates = [module_name]
    if hasattr(module, "__path__"):
        candidates += [m.name for m in pkgutil.walk_packages(module.__path__,
                                                              module_name + ".")]
    for candidate in candidates:
        if getattr(importlib.import_module(candidate), name, None) is not value:
            continue
        lines = ModuleAnalyzer.for_module(candidate).find_attr_docs().get(("", name))
        if lines:
            return [line for line in lines if line.strip()]
    return []


def fields_in_docstring(cls: type) -> list[str]:
    """Members of a dataclass or pydantic model that its docstring already describes
    (under ``Attributes``), so autodoc does not list them a second time; for a pydantic
    model also ``model_config``, pydantic's machinery rather than part of the API."""
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    model_fields = getattr(cls, "model_fields", None)
    if isinstance(model_fields, dict):
        return [*model_fields, "model_config"]
    return []


def config_sections(model: type) -> list[type]:
    """The pydantic models nested in the fields of ``model`` (its sections, theirs...), in
    field order: a configuration's sections are documented with it, since a config file
    sets them even though the classes are not exported."""
    found: list[type] = []

    def visit(cls: type) -> None:
        for field in getattr(cls, "model_fields", {}).values():
            stack = [field.annotation]
            while stack:
                annotation = stack.pop(0)
                if (inspect.isclass(annotation) and hasattr(annotation, "model_fields")
                        and annotation not in found):
                    found.append(annotation)
                    visit(annotation)
                stack += list(typing.get_args(annotation))

    visit(model)
    return found


def _private_module(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


def has_private_mixin(cls: type) -> bool:
    """True for a ketephys class whose public methods partly come from a mixin of a private
    module (``copy`` of the results, from ``ketephys._result.ResultMixin``), and that
    inherits from nothing outside ketephys."""
    ancestors = [b for b in cls.__mro__[1:] if b is not object]
    return (all(b.__module__.startswith("ketephys") for b in ancestors)
            and any(_private_module(b.__module__) for b in ancestors))


def autoclass_lines(qualified_name: str, cls: type) -> list[str]:
    """An ``autoclass`` entry with its methods (also those of a private mixin), leaving out
    the fields its docstring lists."""
    lines = [f".. autoclass:: {qualified_name}", "   :members:"]
    if has_private_mixin(cls):
        lines.append("   :inherited-members:")
    fields = fields_in_docstring(cls)
    if fields:
        lines.append(f"   :exclude-members: {', '.join(fields)}")
    return [*lines, ""]


def public_bases(app, name: str, obj: type, options: dict, bases: list) -> None:
    """``Bases:`` shows no private class: one is replaced by its own bases."""
    shown: list[type] = []
    for base in bases:
        if getattr(base, "__name__", "").startswith("_"):
            shown += [b for b in base.__bases__ if b is not object] or [object]
        else:
            shown.append(base)
    bases[:] = list(dict.fromkeys(shown))


def plain_field_descriptions(app, what: str, name: str, obj: object, options: dict,
                             lines: list[str]) -> None:
    """Escape ``*`` in the ``Attributes`` section a configuration model generates from its
    ``Field`` descriptions: they are plain text (also shown outside the docs), so a glob
    such as ``raw/**/*.abf`` must not start emphasis."""
    if what != "class" or not hasattr(obj, "model_fields") or "Attributes" not in lines:
        return
    start = lines.index("Attributes")
    lines[start:] = [line.replace("*", r"\*") for line in lines[start:]]


class PublicAPI(SphinxDirective):
    """``.. public-api:: ketephys.spectral``: the module's docstring, a summary table of
    its public functions and classes (``__all__``), their autodoc entries (a configuration
    model followed by its nested sections), then its public constants with their ``#:``
    comments."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        names = public_names(module_name)
        constants = [n for n in names if _is_constant(getattr(module, n))]
        callables = [n for n in names if n not in constants]
        lines = [f".. automodule:: {module_name}", "", ".. autosummary::",
                 "   :nosignatures:", ""]
        lines += [f"   {name}" for name in callables]
        lines.append("")
        for name in callables:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                lines += autoclass_lines(f"{module_name}.{name}", obj)
                for section in config_sections(obj):
                    lines += autoclass_lines(f"{section.__module__}.{section.__qualname__}",
                                             section)
            else:
                lines += [f".. autofunction:: {module_name}.{name}", ""]
        if constants:
            lines += [".. rubric:: Constants", ""]
        for name in constants:
            lines += [f".. py:data:: {module_name}.{name}", ""]
            lines += [f"   {line}" for line in constant_doc(module_name, name)]
            lines.append("")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=f"<public-api {module_name}>"),
                                self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("public-api", PublicAPI)
    app.connect("autodoc-process-bases", public_bases)
    # before napoleon (priority 500) turns the Attributes section into directives
    app.connect("autodoc-process-docstring", plain_field_descriptions, priority=100)
