"""Complexity gate (issue #13, "a house a newcomer can read").

Every function of ``ketephys/`` has a cyclomatic complexity of at most 20 (radon grade C at
most) and every module a maintainability index of at least 20 (radon grade A), measured
with radon's Python API. There is no allowlist: the last offenders were split in 0.2, so a
function or module crossing a limit fails the gate and names itself; split it into phases
with names that explain themselves.
"""

from __future__ import annotations

from pathlib import Path

# radon is a test dependency (the "test" extra): a missing radon fails the gate, never skips it
import radon.complexity as radon_complexity
import radon.metrics as radon_metrics

PACKAGE = Path(__file__).resolve().parents[1] / "ketephys"

#: Highest cyclomatic complexity allowed (radon grade C).
MAX_COMPLEXITY = 20
#: Lowest maintainability index allowed per module (radon grade A).
MIN_MAINTAINABILITY = 20.0

def _modules() -> list[tuple[str, str]]:
    """(dotted module name, source) of every module of the package."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        out.append((".".join(rel.parts), path.read_text(encoding="utf-8")))
    return out


def _complexities() -> dict[str, int]:
    """Dotted name -> cyclomatic complexity of every function and method."""
    found: dict[str, int] = {}
    for module, source in _modules():
        for block in radon_complexity.cc_visit(source):
            # cc_visit lists classes and, flattened, every function and method
            if hasattr(block, "methods"):  # a class: its methods are listed on their own
                continue
            name = f"{module}.{block.classname}.{block.name}" if block.classname \
                else f"{module}.{block.name}"
            found[name] = max(found.get(name, 0), block.complexity)
    return found


def _maintainability() -> dict[str, float]:
    return {module: radon_metrics.mi_visit(source, multi=True)
            for module, source in _modules()}


def _offenders(measured: dict[str, float], too_bad, unit: str) -> list[str]:
    return [f"{name}: {unit} {value:g} crosses the limit; split it"
            for name, value in sorted(measured.items()) if too_bad(value)]


def test_every_function_has_complexity_at_most_20():
    problems = _offenders(_complexities(), lambda v: v > MAX_COMPLEXITY, "complexity")
    assert not problems, "\n".join(problems)


def test_every_module_has_maintainability_grade_a():
    problems = _offenders(_maintainability(), lambda v: v < MIN_MAINTAINABILITY,
                          "maintainability index")
    assert not problems, "\n".join(problems)


def test_the_gate_measures_a_planted_offender(tmp_path, monkeypatch):
    """A function with 21 branches is measured above the limit and named by the gate."""
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(20))
    (tmp_path / "ketephys").mkdir()
    (tmp_path / "ketephys" / "planted.py").write_text(f"def tangled(x):\n{branches}\n"
                                                      "    return -1\n")
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path / "ketephys")
    measured = _complexities()
    assert measured == {"ketephys.planted.tangled": 21}
    problems = _offenders(measured, lambda v: v > MAX_COMPLEXITY, "complexity")
    assert problems == ["ketephys.planted.tangled: complexity 21 crosses the limit; split it"]
