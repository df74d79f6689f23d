"""The import graph of ``ketephys``: no cycle, and no import up the data flow.

Every module of the package is parsed with :mod:`ast`; every ``import`` and ``from ...
import`` statement counts, at top level, inside functions and methods, and under
``if TYPE_CHECKING:`` alike. Relative imports are resolved against the importing module.

Nodes are modules; a package is the node of its ``__init__``. How a name imported from a
package is resolved (the re-export rule):

* ``from P import name`` where ``P.name`` is a module is an edge to ``P.name``;
* otherwise, when ``P/__init__.py`` re-exports ``name`` from a submodule, eagerly
  (``from .sub import name`` at its top level) or lazily (a ``lazy_attributes`` table
  ``{"name": "sub"}``, see ``ketephys/_lazy.py``), the edge goes to ``P.sub``, the module
  that really defines the name;
* otherwise the edge goes to ``P`` itself.

A package ``__init__`` importing its own submodules is an edge like any other (it runs
them), but a submodule importing from its own (ancestor) package is not counted: it is
part of that package, so "``P`` re-exports ``P.x`` and ``P.x`` imports ``P``" is not a
cycle. The lazy tables are not imports, so a package's lazy re-exports never create edges
from the package; only the importers' resolved edges above.

Layers (``LAYERS``, longest matching module prefix wins) follow the data flow of
``docs/design.md``; a module may import its own layer or lower ones, never a higher one:

0. leaves: ``errors``, ``_lazy``, ``_version``, ``_parallel`` (execution helpers: pools and
   BLAS pinning), ``_check`` (shared argument checks), ``_docs`` (shared parameter
   descriptions);
1. base: ``recording``, ``meta``, ``units``, ``features``, ``settings``, ``_result``,
   ``_neo`` and ``_mne`` (the Neo and MNE conversions), the parts of the recording
   (``_channels``, ``_samples``, ``_events``, ``_source``, ``_bridge``),
   ``decay_models`` (kernels used by fits and simulations),
   ``viz`` (plots of results) and the root package ``ketephys`` (it imports only the
   base eagerly; everything else it exports lazily, resolved as above);
2. readers: ``io``;
3. analysers: ``spectral``, ``tms`` (including pulse detection), ``synaptic``; and
   ``simulate`` beside them (it builds Recordings and may use the io writers);
4. ``longitudinal`` (its simulation-estimation harness ``recovery`` may use ``simulate``);
5. ``pipeline``;
6. ``cli``, ``__main__``.

The one sanctioned way up is a documented plug-in registry that names its target as a
``"module:function"`` string resolved at run time (``ketephys/io/hooks.py``: TMS pulse
marking after ``read(modality="tms-eeg")``; ``pipeline.config.resolve_callable``: analysers
and readers named in a config). Such strings are not import statements, so they are not
edges.

The tests keep one habit of their own (``imports_between_test_modules``): no file under
``tests/`` imports a test module (``test_*.py``, ``*_test.py``) or ``conftest``, at top
level or inside a function; shared helpers are fixtures of ``tests/conftest.py``. A
plug-in module that is not a test file, such as ``tests/pipeline_plugins.py`` (configs
name ``pipeline_plugins:tiny_analyse``), may be imported.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ketephys"
TESTS = Path(__file__).resolve().parent

#: module prefix -> layer; a module may import only modules of its layer or below.
LAYERS: dict[str, int] = {
    "ketephys.errors": 0,
    "ketephys._lazy": 0,
    "ketephys._version": 0,
    "ketephys._parallel": 0,
    "ketephys._check": 0,
    "ketephys._docs": 0,
    "ketephys": 1,  # the root package and every base module not listed here
    "ketephys.recording": 1,
    "ketephys.meta": 1,
    "ketephys.units": 1,
    "ketephys.features": 1,
    "ketephys.settings": 1,
    "ketephys._result": 1,
    "ketephys._neo": 1,
    "ketephys._mne": 1,
    "ketephys._channels": 1,
    "ketephys._samples": 1,
    "ketephys._events": 1,
    "ketephys._source": 1,
    "ketephys._bridge": 1,
    "ketephys.decay_models": 1,
    "ketephys.viz": 1,
    "ketephys.io": 2,
    "ketephys.spectral": 3,
    "ketephys.tms": 3,
    "ketephys.synaptic": 3,
    "ketephys.simulate": 3,
    "ketephys.longitudinal": 4,
    "ketephys.pipeline": 5,
    "ketephys.cli": 6,
    "ketephys.__main__": 6,
}

#: Leaf modules: they import nothing from ketephys (beyond other leaves listed here).
LEAVES = ("ketephys._parallel", "ketephys._lazy", "ketephys._version", "ketephys.errors")


# --------------------------------------------------------------------------- the graph
def package_modules(root: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is_package) for every ``.py`` file under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


def _exports(tree: ast.Module, package: str) -> dict[str, str]:
    """Name -> defining submodule of a package ``__init__`` (eager and lazy re-exports)."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{package}.{node.module}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values):
            if (isinstance(key, ast.Constant) and isinstance(key.value, str)
                    and isinstance(value, ast.Constant)
                    and (value.value is None or isinstance(value.value, str))):
                sub = key.value if value.value is None else value.value
                out.setdefault(key.value, f"{package}.{sub}")
    return out


def import_graph(root: Path = PACKAGE) -> dict[str, dict[str, int]]:
    """``{module: {imported module: line}}`` over the package (see the module docstring)."""
    modules = package_modules(root)
    trees = {name: ast.parse(path.read_text(encoding="utf-8"), str(path))
             for name, (path, _) in modules.items()}
    exports = {name: _exports(trees[name], name) for name, (_, pkg) in modules.items() if pkg}
    top = root.name

    def owner(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, (_, is_pkg) in modules.items():
        package = name if is_pkg else name.rpartition(".")[0]
        for node in ast.walk(trees[name]):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for alias in node.names:
                    full = f"{mod}.{alias.name}"
                    if full in modules:
                        targets.append(full)
                    elif mod in exports and alias.name in exports[mod]:
                        targets.append(exports[mod][alias.name])
                    else:
                        targets.append(mod)
            for target in targets:
                if target != top and not target.startswith(top + "."):
                    continue
                dest = owner(target)
                if dest is None or dest == name or name.startswith(dest + "."):
                    continue  # itself, or a submodule importing its own package
                graph[name].setdefault(dest, node.lineno)
    return graph


def find_cycles(graph: dict[str, dict[str, int] | set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer_of(module: str, layers: dict[str, int] = LAYERS) -> int:
    best = max((p for p in layers if module == p or module.startswith(p + ".")), key=len)
    return layers[best]


def upward_edges(graph: dict[str, dict[str, int]], layers: dict[str, int] = LAYERS
                 ) -> list[str]:
    """``"a (layer) -> b (layer), line n"`` for every import of a higher layer."""
    return [f"{a} ({layer_of(a, layers)}) -> {b} ({layer_of(b, layers)}), line {line}"
            for a in sorted(graph) for b, line in sorted(graph[a].items())
            if layer_of(b, layers) > layer_of(a, layers)]


# --------------------------------------------------------------------------- the tests' imports
def _is_test_file(path: Path) -> bool:
    """pytest's default ``python_files``: ``test_*.py`` and ``*_test.py``."""
    return path.stem.startswith("test_") or path.stem.endswith("_test")


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """Every dotted name an import statement may load: ``import a.b`` gives ``a.b``;
    ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a module); ``from . import
    b`` gives ``b``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    prefix = [node.module] if node.module else []
    return prefix + [".".join(prefix + [alias.name]) for alias in node.names]


def imports_between_test_modules(root: Path = TESTS) -> list[str]:
    """``"path:line imports name"`` (path relative to ``root``) for every import, at any
    depth of any ``.py`` file under ``root``, of a test module found under ``root`` or of
    ``conftest``; sorted. Other modules under ``root`` (plug-ins) are not reported."""
    files = sorted(root.rglob("*.py"))
    forbidden = {p.stem for p in files if _is_test_file(p)} | {"conftest"}
    found: set[tuple[str, int, str]] = set()
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported_names(node):
                for part in set(name.split(".")) & forbidden:
                    found.add((path.relative_to(root).as_posix(), node.lineno, part))
    return [f"{path}:{line} imports {name}" for path, line, name in sorted(found)]


# --------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, int]]:
    return import_graph()


def test_the_graph_sees_every_kind_of_import(graph):
    assert len(graph) > 90
    # top level, relative
    assert "ketephys.recording" in graph["ketephys.io.dispatch"]
    # inside a function (simulate_study's process pool)
    assert "ketephys._parallel" in graph["ketephys.simulate.study"]
    # a name re-exported lazily by a package resolves to the defining module
    assert "ketephys.recording" in graph["ketephys.tms.pulses"]
    # the package __init__ imports its submodules eagerly: real edges
    assert "ketephys.tms.pulses" in graph["ketephys.tms"]


def test_no_import_cycle(graph):
    assert find_cycles(graph) == []


def test_no_upward_import(graph):
    assert upward_edges(graph) == []


def test_every_module_has_a_layer(graph):
    assert all(isinstance(layer_of(m), int) for m in graph)
    assert layer_of("ketephys.io.hooks") == 2
    assert layer_of("ketephys.longitudinal.recovery") == 4
    assert layer_of("ketephys") == 1


def test_leaves_import_nothing_from_the_package(graph):
    for leaf in LEAVES:
        assert set(graph[leaf]) <= set(LEAVES), (leaf, graph[leaf])


def test_checks_catch_a_cycle_and_an_upward_edge():
    layers = {"pkg": 0, "pkg.low": 1, "pkg.high": 2}
    clean = {"pkg.high.a": {"pkg.low.b": 1}, "pkg.low.b": {"pkg.c": 1}, "pkg.c": {}}
    assert find_cycles(clean) == [] and upward_edges(clean, layers) == []
    cyclic = {"pkg.high.a": {"pkg.low.b": 1}, "pkg.low.b": {"pkg.c": 1},
              "pkg.c": {"pkg.high.a": 7}}
    assert find_cycles(cyclic) == [["pkg.c", "pkg.high.a", "pkg.low.b"]]
    assert upward_edges(cyclic, layers) == ["pkg.c (0) -> pkg.high.a (2), line 7"]


def test_checks_catch_a_planted_edge_in_the_real_graph(graph):
    # recording.py importing the runner inside a function would be upward and close a
    # cycle (the runner reaches the recording through the readers)
    planted = {m: dict(edges) for m, edges in graph.items()}
    planted["ketephys.recording"]["ketephys.pipeline.runner"] = 1
    assert any({"ketephys.recording", "ketephys.pipeline.runner"} <= set(c)
               for c in find_cycles(planted))
    assert any(e.startswith("ketephys.recording (1) -> ketephys.pipeline.runner (5)")
               for e in upward_edges(planted))


def test_a_function_level_import_is_an_edge(tmp_path):
    pkg = tmp_path / "ketephys"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from .sub.high import g\n    return g\n")
    (pkg / "sub" / "__init__.py").write_text("from .high import g\n")
    (pkg / "sub" / "high.py").write_text("from .. import low\n\ndef g():\n    return low\n")
    g = import_graph(pkg)
    assert g["ketephys.low"] == {"ketephys.sub.high": 2}
    assert g["ketephys.sub"] == {"ketephys.sub.high": 1}
    assert find_cycles(g) == [["ketephys.low", "ketephys.sub.high"]]


def test_no_test_module_imports_another_or_conftest():
    assert imports_between_test_modules() == []


def test_test_import_check_catches_planted_imports(tmp_path):
    (tmp_path / "validation").mkdir()
    files = {
        "conftest.py": "import numpy as np\n",
        "plugins.py": "def tiny():\n    return 1\n",
        "test_a.py": "from plugins import tiny\nimport numpy\n\ndef helper():\n    pass\n",
        "test_b.py": "def test_x():\n    from test_a import helper\n    helper()\n",
        "validation/test_c.py": "from conftest import np\n",
        "validation/test_d.py": "import conftest\nfrom . import test_c\nimport plugins\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert imports_between_test_modules(tmp_path) == [
        "test_b.py:2 imports test_a",
        "validation/test_c.py:1 imports conftest",
        "validation/test_d.py:1 imports conftest",
        "validation/test_d.py:2 imports test_c",
    ]


def test_test_import_check_sees_a_planted_import_in_the_real_tests(tmp_path):
    copy = tmp_path / "tests"
    shutil.copytree(TESTS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    victim = copy / "validation" / "test_real_files.py"
    victim.write_text(victim.read_text(encoding="utf-8")
                      + "\n\ndef _late():\n    from test_io_read import read\n",
                      encoding="utf-8")
    n_lines = len(victim.read_text(encoding="utf-8").splitlines())
    assert imports_between_test_modules(copy) == [
        f"validation/test_real_files.py:{n_lines} imports test_io_read"]
