"""Re-checks of CPX-1 counterexamples from the stored counts alone (stdlib: math, fractions).

What defines the claim comes from the row's ``constants`` (typed in the registry from the
statement, reports/cpx/claims.py), never from the counterexample: ``claimed_terms`` (the
claimed per-epoch cost, a sum of unit-constant terms ``Π x^k``, times ``log x`` where the
claim has one), ``tol`` (the statement's tolerance above the O(·) band), ``rechecks`` (which
re-check each check's counterexample gets) and, for a derived cost, ``per_epoch`` (how a
traced unit gives the per-epoch cost).  Every stored number a message prints is recomputed
and compared.

* ``counted-exponent``: the counted local log–log exponent between two consecutive grid
  points must exceed the largest local exponent of the claim's terms between them (the most
  an O(·) bound with unknown positive constants allows) by more than ``tol``; the stored
  exponent, band, unit-constant exponent and tolerance must be the recomputed ones.
* ``derived-cost``: the traced counts are re-interpolated (exact rationals, Gaussian
  elimination on each axis' Vandermonde system), the interpolant must reproduce the
  held-out counts exactly, and along the certificate's ray (its variables all = t, the
  others fixed) the per-epoch cost must have a higher degree in t than the claim, with a
  positive leading coefficient; the stored degrees and leading coefficient must be the
  recomputed ones.
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

#: relative agreement of a stored float figure with its recomputation
RTOL = 1e-9


def _terms(constants: dict) -> list[tuple[dict, str | None]]:
    """The row's claimed terms as (powers, log variable or None), validated."""
    terms = constants["claimed_terms"]
    if not isinstance(terms, list) or not terms:
        raise ValueError("the row's constants give no claimed terms")
    out = []
    for t in terms:
        powers, log = dict(t["powers"]), t.get("log")
        if not all(isinstance(k, str) and isinstance(e, int) and e >= 0 for k, e in powers.items()):
            raise ValueError(f"a claimed term's powers must be non-negative integers, got {powers}")
        out.append((powers, log))
    return out


def _close(stored, value: float) -> bool:
    return isinstance(stored, (int, float)) and math.isclose(float(stored), value, rel_tol=RTOL, abs_tol=RTOL)


def _term_exponent(term, var: str, x0: float, x1: float) -> float:
    """Local exponent in ``var`` of one claimed term (the other variables cancel)."""
    powers, log_var = term
    e = powers.get(var, 0)
    if log_var == var:
        return e + math.log(math.log(x1) / math.log(x0)) / math.log(x1 / x0)
    return float(e)


def _claimed_value(terms, point: dict) -> float:
    """The claimed cost with unit constants at ``point`` (natural logs)."""
    return sum(math.prod(float(point[v]) ** e for v, e in powers.items()) * (math.log(float(point[log])) if log else 1)
               for powers, log in terms)


def recheck_counted_exponent(cx: dict, method: str, constants: dict) -> tuple[bool, str]:
    terms, tol = _terms(constants), float(constants["tol"])
    var = cx["variable"]
    grid, counts = [float(x) for x in cx["grid"]], [float(c) for c in cx["flops_per_interaction"]]
    x0, x1 = (float(x) for x in cx["pair"])
    if len(grid) != len(counts) or x0 not in grid or grid.index(x0) + 1 >= len(grid) or grid[grid.index(x0) + 1] != x1:
        return False, f"pair {cx['pair']} is not two consecutive points of the grid {cx['grid']}"
    if x0 <= 1 or min(counts) <= 0:
        return False, "grid points must exceed 1 and counts be positive"
    i = grid.index(x0)
    s = math.log(counts[i + 1] / counts[i]) / math.log(x1 / x0)
    band = [min(_term_exponent(t, var, x0, x1) for t in terms), max(_term_exponent(t, var, x0, x1) for t in terms)]
    fixed = {k: float(v) for k, v in cx["fixed"].items()}
    c0, c1 = _claimed_value(terms, fixed | {var: x0}), _claimed_value(terms, fixed | {var: x1})
    unit = math.log(c1 / c0) / math.log(x1 / x0)
    for name, stored, value in (("counted exponent", cx["fitted"], s), ("band's lower end", cx["claimed_band"][0],
                                band[0]), ("band's upper end", cx["claimed_band"][1], band[1]),
                                ("unit-constant exponent", cx["claimed"], unit), ("tolerance", cx["tol"], tol)):
        if not _close(stored, value):
            return False, f"{method}: the stored {name} {stored!r} is not the recomputed {value:.6g} (claim and " \
                          "tolerance from the row's constants)"
    hi = band[1]
    if s <= hi + tol:
        return False, f"{method}: counted exponent in {var} {s:.4f} is within the claim's {hi:.4f} + {tol}"
    return True, f"{method}: counted exponent in {var} between {x0:g} and {x1:g} is {s:.4f} > {hi:.4f} + {tol}"


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


def recheck_derived_cost(cx: dict, method: str, constants: dict) -> tuple[bool, str]:
    terms, per_epoch = _terms(constants), constants["per_epoch"]
    if any(log for _, log in terms):
        return False, f"{method}: its claim has a log term; a derived cost re-checks only polynomial claims"
    if per_epoch not in ("N*count/B", "count"):
        return False, f"the row's per-epoch form {per_epoch!r} is unknown"
    if cx["per_epoch"] != per_epoch:
        return False, f"the stored per-epoch form {cx['per_epoch']!r} is not the row's {per_epoch!r}"
    variables = list(cx["variables"])
    grid = {v: [int(x) for x in cx["grid"][v]] for v in variables}
    counts = [Fraction(c) for c in cx["counts"]]
    if len(counts) != math.prod(len(grid[v]) for v in variables):
        return False, "the number of counts does not match the grid"
    poly = _interpolate(variables, grid, counts)

    def value(point: dict) -> Fraction:
        return sum((c * math.prod(Fraction(point[v]) ** e for v, e in zip(variables, ex)) for ex, c in poly.items()),
                   Fraction(0))

    if len(cx["heldout"]) != len(cx["heldout_counts"]) or not cx["heldout"]:
        return False, "the held-out points and counts do not pair up"
    for p, c in zip(cx["heldout"], cx["heldout_counts"]):
        if value(p) != Fraction(c):
            return False, f"the interpolant misses the held-out count at {p}: the counts are not that polynomial"
    cert = cx["certificate"]
    ray, fixed = list(cert["variables"]), Fraction(int(cert["fixed_value"]))
    if not ray or fixed < 1:
        return False, "the certificate names no variable, or fixes the others below 1"
    by_deg: dict[int, Fraction] = {}
    for ex, c in poly.items():
        e = dict(zip(variables, ex))
        if per_epoch == "N*count/B":
            e["N"], e["B"] = e.get("N", 0) + 1, e.get("B", 0) - 1
        deg = sum(e.get(v, 0) for v in ray)
        rest = math.prod(fixed ** k for u, k in e.items() if u not in ray)
        by_deg[deg] = by_deg.get(deg, Fraction(0)) + c * rest
    by_deg = {k: x for k, x in by_deg.items() if x != 0}
    claim_deg = max(sum(powers.get(v, 0) for v in ray) for powers, _ in terms)
    top = max(by_deg) if by_deg else None
    along = " = ".join(ray) + f" = t (others at {fixed})"
    if top is None or top <= claim_deg or by_deg[top] <= 0:
        return False, f"{method}: along {along} the per-epoch cost has degree {top}, the claim {claim_deg}: " \
                      "no faster growth"
    for name, stored, recomputed in (("degree", cert.get("degree"), top), ("claimed degree", cert.get("claimed_degree"),
                                     claim_deg), ("leading coefficient", cert.get("leading"), by_deg[top])):
        if stored is None or Fraction(str(stored)) != recomputed:
            return False, f"{method}: the certificate's stored {name} {stored!r} is not the recomputed {recomputed}"
    return True, f"{method}: along {along} the per-epoch cost has degree {top} > the claim's {claim_deg} " \
                 f"(leading coefficient {by_deg[top]})"


_RECHECKS = {"counted-exponent": recheck_counted_exponent, "derived-cost": recheck_derived_cost}


def recheck_cpx1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """Dispatch on the row's constants (which re-check the check ``check`` gets), never on the
    counterexample's own ``kind``; the counterexample must be about the row's method."""
    constants = constants or {}
    if not reading or cx.get("method") != reading:
        return False, f"the counterexample is about {cx.get('method')!r}, the row about {reading!r}"
    kind = (constants.get("rechecks") or {}).get(check)
    if kind not in _RECHECKS:
        return False, f"the row's constants name no CPX-1 re-check for the check {check!r}"
    if cx.get("kind") != kind:
        return False, f"the check {check!r} stores a {cx.get('kind')!r} counterexample, the row re-checks it as {kind!r}"
    return _RECHECKS[kind](cx, reading, constants)
