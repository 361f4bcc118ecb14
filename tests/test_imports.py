"""Layering: nothing under losses/, proofs/ or numerics/ imports reports/, and no module of
reports/ imports another in a circle (ARCHITECTURE.md; issue 13 broke latex.py <-> tables.py)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path, package: str) -> set[str]:
    """Modules of ``package`` that ``path`` imports, at any depth of the file (lazy imports count)."""
    mod = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    here = mod.rsplit(".", 1)[0] if path.name != "__init__.py" else mod
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n for n in names if n == package or n.startswith(package + ".")}
    return out


def _graph(package: str) -> dict[str, set[str]]:
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (ROOT / package).rglob("*.py")}
    return {m: {n for n in _imports(p, package) if n in files and n != m} for m, p in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_circle_in_reports():
    graph = _graph("reports")
    assert "reports.texfmt" in graph and "reports.latex" in graph
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_sees_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_lower_layers_do_not_import_reports():
    bad = [(p.relative_to(ROOT).as_posix(), sorted(_imports(p, "reports")))
           for pkg in ("losses", "proofs", "numerics", "audit") for p in (ROOT / pkg).rglob("*.py")
           if _imports(p, "reports")]
    assert bad == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle the finder meets, each broken at its closing edge before looking again."""
    graph = {m: set(n) for m, n in graph.items()}
    found = []
    while (c := _cycle(graph)) is not None:
        found.append(c)
        graph[c[-2]].discard(c[-1])
    return found


def test_no_import_circle_in_the_other_packages():
    for package in ("audit", "losses", "proofs", "numerics"):
        assert _cycles(_graph(package)) == [], package
