"""A planted defect enters where a bug would enter (issue 20, item 2): through the upstream
attribute it stands for (the map, the label source, the sampler, the estimator, the
counter, the step size), patched for the run -- never through a keyword of a function
under ``losses/``, ``proofs/`` or ``numerics/`` that only planting sets.

Read from the source, not run: every keyword argument passed to one of our functions is
classed as a real use (package code outside the planting constructors) or a planted use
(``reports/planted.py`` and ``reports/<family>/planted.py``, and the calls inside ``Planted(...)``, ``patched(...)``,
``replacing(...)`` and ``truth_derivation(...)``, whose keywords are forwarded to the derivation).
A defaulted parameter with planted uses and no real use is a door that real code never
opens, and fails the test.  Tests' own calls count as neither."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("losses", "proofs", "numerics")
PACKAGE = (*OURS, "reports", "audit")
#: constructors whose keyword arguments are forwarded to the function named in their 2nd argument
FORWARD_PLANTED = {"truth_derivation"}
FORWARD_REAL = {"symbolic", "numeric", "empirical"}
#: calls whose arguments build a planted input: every call inside them is a planted use
PLANTING = {"Planted", "patched", "patched_truth", "replacing", *FORWARD_PLANTED}
CHECK_OPTIONS = {"planted", "expect", "expect_full", "statistical", "scope_gap", "heavy", "truths", "covers"}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _defaulted_params(files) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                pos = a.posonlyargs + a.args
                names = {p.arg for p in pos[len(pos) - len(a.defaults):]} | {p.arg for p in a.kwonlyargs}
                out.setdefault(node.name, set()).update(names)
    return out


class _Uses(ast.NodeVisitor):
    def __init__(self, planted_file: bool):
        self.depth = 1 if planted_file else 0
        self.real: set[tuple[str, str]] = set()
        self.planted: set[tuple[str, str]] = set()

    def _add(self, callee: str | None, keywords, planted: bool) -> None:
        if callee is None:
            return
        for kw in keywords:
            if kw.arg is not None:
                (self.planted if planted else self.real).add((callee, kw.arg))

    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        if name in FORWARD_PLANTED | FORWARD_REAL and len(node.args) >= 2:
            target = _name(node.args[1])
            kws = [k for k in node.keywords if k.arg not in CHECK_OPTIONS]
            self._add(target, kws, planted=name in FORWARD_PLANTED or self.depth > 0)
        else:
            self._add(name, node.keywords, planted=self.depth > 0)
        inside = name in PLANTING
        self.depth += inside
        self.generic_visit(node)
        self.depth -= inside


#: the planted-defect modules: reports/planted.py and one reports/<family>/planted.py per claim family
PLANTED_FILES = {p for p in (ROOT / "reports").rglob("planted*.py")}


def test_the_planted_modules_are_found():
    assert {p.relative_to(ROOT).parent.as_posix() for p in PLANTED_FILES} >= {
        "reports", "reports/fy", "reports/con", "reports/dyn", "reports/apx", "reports/cpx", "reports/exp", "reports/r2"}


def doors() -> list[str]:
    ours = [p for pkg in OURS for p in (ROOT / pkg).rglob("*.py")]
    params = _defaulted_params(ours)
    real: set[tuple[str, str]] = set()
    planted: set[tuple[str, str]] = set()
    for pkg in PACKAGE:
        for path in (ROOT / pkg).rglob("*.py"):
            v = _Uses(planted_file=path in PLANTED_FILES)
            v.visit(ast.parse(path.read_text(encoding="utf-8")))
            real |= v.real
            planted |= v.planted
    return sorted(f"{f}({kw}=...)" for f, kw in planted - real if kw in params.get(f, set()))


def test_no_parameter_of_ours_is_set_only_by_planting():
    found = doors()
    assert not found, ("parameters of losses/, proofs/ or numerics/ that only a planted input sets (patch the "
                       f"upstream attribute instead): {found}")


def test_the_door_finder_sees_a_planted_only_keyword(tmp_path, monkeypatch):
    """The finder is not blind: a keyword passed only from a planted input is reported, one
    also passed by real code is not."""
    src = ("def check(ctx, temperature=1.0, lr=1):\n    pass\n")
    planting = ("from numerics.fake import check\n"
                "a = truth_derivation('tempered', check, temperature=2.0)\n"
                "b = numeric('real', check, lr=2)\n"
                "c = Planted('x', run=lambda ctx: check(ctx, lr=3))\n")
    for pkg in PACKAGE:
        (tmp_path / pkg).mkdir()
    (tmp_path / "numerics" / "fake.py").write_text(src)
    (tmp_path / "reports" / "claims_fake.py").write_text(planting)
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert doors() == ["check(temperature=...)"]
