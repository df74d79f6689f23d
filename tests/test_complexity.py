"""Complexity gate (issue #13, "a house a newcomer can read").

Every function of ``ketephys/`` has a cyclomatic complexity of at most 20 (radon grade C at
most) and every module a maintainability index of at least 20 (radon grade A), measured
with radon's Python API.

The allowlists below hold what is not yet split, with its complexity (or maintainability
index) when it was listed. They may only shrink:

* a function or module not listed fails when it crosses the limit;
* a listed function fails when its complexity rises above the listed value (a listed
  module when its index falls below it);
* a listed name fails when it no longer crosses the limit (or no longer exists): remove it
  from the list, so the list stays honest.

Names are dotted: ``package.module.function`` or ``package.module.Class.method``. A module
moved to another place keeps its entries only if they are renamed here too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

radon_complexity = pytest.importorskip("radon.complexity")
radon_metrics = pytest.importorskip("radon.metrics")

PACKAGE = Path(__file__).resolve().parents[1] / "ketephys"

#: Highest cyclomatic complexity allowed (radon grade C).
MAX_COMPLEXITY = 20
#: Lowest maintainability index allowed per module (radon grade A).
MIN_MAINTAINABILITY = 20.0

#: Functions not yet split: name -> complexity when listed (may only go down, then out).
COMPLEXITY_ALLOWLIST: dict[str, int] = {}

#: Modules below the maintainability limit: name -> index when listed (rounded down; may
#: only go up, then out).
MAINTAINABILITY_ALLOWLIST: dict[str, float] = {}


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


def _gate(measured: dict, allowlist: dict, too_bad, worse, unit: str) -> list[str]:
    problems = []
    for name, value in sorted(measured.items()):
        if too_bad(value) and name not in allowlist:
            problems.append(f"{name}: {unit} {value:g} crosses the limit; split it")
    for name, listed in sorted(allowlist.items()):
        if name not in measured:
            problems.append(f"{name} is allowlisted but no longer exists; remove it from "
                            "the allowlist")
        elif not too_bad(measured[name]):
            problems.append(f"{name} is allowlisted but its {unit} is now "
                            f"{measured[name]:g}, within the limit; remove it from the "
                            "allowlist")
        elif worse(measured[name], listed):
            problems.append(f"{name}: {unit} {measured[name]:g} is worse than its "
                            f"allowlisted {listed:g}")
    return problems


def test_every_function_has_complexity_at_most_20():
    problems = _gate(_complexities(), COMPLEXITY_ALLOWLIST,
                     too_bad=lambda v: v > MAX_COMPLEXITY,
                     worse=lambda v, listed: v > listed, unit="complexity")
    assert not problems, "\n".join(problems)


def test_every_module_has_maintainability_grade_a():
    problems = _gate(_maintainability(), MAINTAINABILITY_ALLOWLIST,
                     too_bad=lambda v: v < MIN_MAINTAINABILITY,
                     worse=lambda v, listed: v < listed, unit="maintainability index")
    assert not problems, "\n".join(problems)


def test_the_gate_catches_what_it_should():
    """The gate's own rules on made-up numbers (new offender, worse, fixed, gone)."""
    def gate(measured, allowlist):
        return _gate(measured, allowlist, too_bad=lambda v: v > 20,
                     worse=lambda v, listed: v > listed, unit="complexity")

    assert gate({"a": 5, "b": 25}, {"b": 25}) == []
    assert gate({"a": 21}, {}) and "split it" in gate({"a": 21}, {})[0]
    assert "worse" in gate({"b": 26}, {"b": 25})[0]
    assert "within the limit" in gate({"b": 20}, {"b": 25})[0]
    assert "no longer exists" in gate({}, {"b": 25})[0]
