"""Re-checks of CPX-1 counterexamples from the stored counts alone (stdlib: math, fractions).

The claimed costs are transcribed here from CLAIMS.md §5, independently of
proofs/complexity.py: each a sum of unit-constant terms ``Π x^k`` (times ``log n`` where
the claim has one).

* ``counted-exponent``: the counted local log–log exponent between two consecutive grid
  points must exceed the largest local exponent of the claim's terms between them (the most
  an O(·) bound with unknown positive constants allows) by more than :data:`TOL`.
* ``derived-cost``: the traced counts are re-interpolated (exact rationals, Gaussian
  elimination on each axis' Vandermonde system), the interpolant must reproduce the
  held-out counts exactly, and along the certificate's ray (its variables all = t, the
  others fixed) the per-epoch cost must have a higher degree in t than the claim, with a
  positive leading coefficient.
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

#: the rule of the counted-exponent decision, fixed before any measurement (numerics/complexity.py)
TOL = 0.1
_SPARSE = (({"N": 1, "n": 1, "d": 1}, None), ({"N": 1, "n": 1}, "n"))
_SAMPLED = (({"N": 1, "m": 1, "d": 1}, None),)
CLAIMED = {
    "softmax": (({"N": 1, "n": 1, "d": 1}, None),),
    "sparsemax": _SPARSE, "entmax-1.5": _SPARSE, "rankmax": _SPARSE,
    "ssm/uniform": _SAMPLED, "ssm/popularity": _SAMPLED, "nce": _SAMPLED,
    "hsm": (({"N": 1, "d": 1}, "n"),),
    "rg2/als": (({"N": 1, "d": 2}, None), ({"U": 1, "d": 3}, None), ({"n": 1, "d": 3}, None)),
}


def _term_exponent(term, var: str, x0: float, x1: float) -> float:
    """Local exponent in ``var`` of one claimed term (the other variables cancel)."""
    powers, log_var = term
    e = powers.get(var, 0)
    if log_var == var:
        return e + math.log(math.log(x1) / math.log(x0)) / math.log(x1 / x0)
    return float(e)


def recheck_counted_exponent(cx: dict) -> tuple[bool, str]:
    method, var = cx["method"], cx["variable"]
    grid, counts = [float(x) for x in cx["grid"]], [float(c) for c in cx["flops_per_interaction"]]
    x0, x1 = (float(x) for x in cx["pair"])
    if len(grid) != len(counts) or x0 not in grid or grid.index(x0) + 1 >= len(grid) or grid[grid.index(x0) + 1] != x1:
        return False, f"pair {cx['pair']} is not two consecutive points of the grid {cx['grid']}"
    if x0 <= 1 or min(counts) <= 0:
        return False, "grid points must exceed 1 and counts be positive"
    i = grid.index(x0)
    s = math.log(counts[i + 1] / counts[i]) / math.log(x1 / x0)
    hi = max(_term_exponent(t, var, x0, x1) for t in CLAIMED[method])
    if s <= hi + TOL:
        return False, f"{method}: counted exponent in {var} {s:.4f} is within the claim's {hi:.4f} + {TOL}"
    return True, f"{method}: counted exponent in {var} between {x0:g} and {x1:g} is {s:.4f} > {hi:.4f} + {TOL}"


def _solve(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gaussian elimination in exact rationals (a square, non-singular system)."""
    n = len(rows)
    a = [list(r) + [b] for r, b in zip(rows, rhs)]
    for col in range(n):
        piv = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[piv] = a[piv], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
    return [a[i][n] / a[i][i] for i in range(n)]


def _interpolate(variables: list[str], grid: dict, counts: list[Fraction]) -> dict[tuple, Fraction]:
    """Coefficients (exponent tuple → rational) of the tensor-product interpolant."""
    shape = [len(grid[v]) for v in variables]
    vals = dict(zip(itertools.product(*map(range, shape)), counts))
    for axis, v in enumerate(variables):
        xs = [Fraction(int(x)) for x in grid[v]]
        vander = [[x ** k for k in range(len(xs))] for x in xs]
        new = {}
        for rest in itertools.product(*(range(s) for j, s in enumerate(shape) if j != axis)):
            def at(j):
                return rest[:axis] + (j,) + rest[axis:]
            coef = _solve(vander, [vals[at(j)] for j in range(len(xs))])
            for k, c in enumerate(coef):
                new[at(k)] = c
        vals = new
    return {e: c for e, c in vals.items() if c != 0}


def recheck_derived_cost(cx: dict) -> tuple[bool, str]:
    method, variables = cx["method"], list(cx["variables"])
    grid = {v: [int(x) for x in cx["grid"][v]] for v in variables}
    counts = [Fraction(c) for c in cx["counts"]]
    if len(counts) != math.prod(len(grid[v]) for v in variables):
        return False, "the number of counts does not match the grid"
    poly = _interpolate(variables, grid, counts)

    def value(point: dict) -> Fraction:
        return sum((c * math.prod(Fraction(point[v]) ** e for v, e in zip(variables, ex)) for ex, c in poly.items()),
                   Fraction(0))

    for p, c in zip(cx["heldout"], cx["heldout_counts"]):
        if value(p) != Fraction(c):
            return False, f"the interpolant misses the held-out count at {p}: the counts are not that polynomial"
    per_epoch, cert = cx["per_epoch"], cx["certificate"]
    ray, fixed = list(cert["variables"]), Fraction(int(cert["fixed_value"]))
    if not ray:
        return False, "the certificate names no variable"
    by_deg: dict[int, Fraction] = {}
    for ex, c in poly.items():
        e = dict(zip(variables, ex))
        if per_epoch == "N*count/B":
            e["N"], e["B"] = e.get("N", 0) + 1, e.get("B", 0) - 1
        elif per_epoch != "count":
            return False, f"unknown per-epoch form {per_epoch!r}"
        deg = sum(e.get(v, 0) for v in ray)
        rest = math.prod(fixed ** k for u, k in e.items() if u not in ray)
        by_deg[deg] = by_deg.get(deg, Fraction(0)) + c * rest
    by_deg = {k: x for k, x in by_deg.items() if x != 0}
    if any(log for _, log in CLAIMED[method]):
        return False, f"{method}: its claim has a log term; a derived cost re-checks only polynomial claims"
    claim_deg = max(sum(t[0].get(v, 0) for v in ray) for t in CLAIMED[method])
    top = max(by_deg) if by_deg else None
    along = " = ".join(ray) + f" = t (others at {fixed})"
    if top is None or top <= claim_deg or by_deg[top] <= 0:
        return False, f"{method}: along {along} the per-epoch cost has degree {top}, the claim {claim_deg}: " \
                      "no faster growth"
    return True, f"{method}: along {along} the per-epoch cost has degree {top} > the claim's {claim_deg} " \
                 f"(leading coefficient {by_deg[top]})"


def recheck_cpx1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    if cx.get("method") != reading and reading:
        return False, f"the counterexample is about {cx.get('method')!r}, the row about {reading!r}"
    kind = cx.get("kind")
    if kind == "counted-exponent":
        return recheck_counted_exponent(cx)
    if kind == "derived-cost":
        return recheck_derived_cost(cx)
    return False, f"unknown CPX-1 counterexample kind {kind!r}"
