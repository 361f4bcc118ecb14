"""Per-loss branches left (issue 23 item 7): comparisons of a value with a built-in loss's
name (``== "rankmax"``, ``in ("softmax", "entmax")``) and dictionary entries keyed by one,
counted in the AST of every module of losses/, proofs/, numerics/ and reports/, per package.
Run from the repository root: ``python scripts/count_branches.py``.

The totals are split by what the name stands for there (:func:`kind`): a *loss* (a branch the
loss's properties should replace, audit/members.py), a training *method* of the experiment
(EXP and CPX claims are about softmax the method, beside ssm/uniform or hsm), the outside
*re-checker* (reports/rechecks: its own route per loss by design, importing nothing of the
suite), or the *resolver* that turns a name into the torch loss (losses.get)."""
from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

NAMES = {"softmax", "sparsemax", "entmax", "entmax-1.5", "rankmax"}


def _named(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(isinstance(e, ast.Constant) and e.value in NAMES for e in node.elts)
    return False


def count(path: Path) -> tuple[int, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    branches = entries = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(_named(x) for x in [node.left, *node.comparators]):
            branches += 1
        elif isinstance(node, ast.Dict):
            entries += sum(isinstance(k, ast.Constant) and k.value in NAMES for k in node.keys)
    return branches, entries


#: where a built-in's name stands for something other than a loss value (module docstring)
_METHOD = ("numerics/exp/", "numerics/cpx/", "numerics/recsys/", "proofs/cpx/", "reports/exp/", "reports/cpx/",
           "reports/tables.py", "reports/readme_table.py")
_RECHECK = ("reports/rechecks/",)
_RESOLVER = ("losses/__init__.py",)


def kind(rel: str) -> str:
    for prefixes, what in ((_METHOD, "method"), (_RECHECK, "re-checker"), (_RESOLVER, "resolver")):
        if rel.startswith(prefixes):
            return what
    return "loss"


def main(root: Path) -> None:
    b, e, kb, ke = Counter(), Counter(), Counter(), Counter()
    for top in ("losses", "proofs", "numerics", "reports"):
        for p in sorted((root / top).rglob("*.py")):
            rel = p.relative_to(root)
            parts = rel.parts
            group = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
            nb, ne = count(p)
            b[group] += nb
            e[group] += ne
            kb[kind(rel.as_posix())] += nb
            ke[kind(rel.as_posix())] += ne
    for g in sorted(set(b) | set(e)):
        print(f"{g:<20} {b[g]:4d} branches {e[g]:4d} dict entries")
    print(f"{'total':<20} {sum(b.values()):4d} branches {sum(e.values()):4d} dict entries")
    for k, label in (("loss", "a loss value"), ("method", "a training method"), ("re-checker", "in the re-checker"),
                     ("resolver", "in the resolver")):
        print(f"  {label + ':':<22} {kb[k]:4d} branches {ke[k]:4d} dict entries")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd())
