"""Planted defects of the CPX-1 checks: wrong cost tables, wrong traced counts and wrong
measured counts, each of the same shape as the real input and each a plausible mistake of
an implementation (a Jacobian materialized, a Gram matrix transposed, a sampler that
scores every item, a degenerate tree).

* claimed-formula derivations (proofs/complexity.py) get a wrong ``costs`` table;
* the derived-cost derivation (numerics/cost_derivation.py) gets the traced counts plus
  the wrong implementation's extra operations at every traced size;
* the counted-exponent check (numerics/complexity.py) gets the measured counts plus the
  extra operations per interaction at every grid point.  The measurements are the real
  ones, cached (``method_measurements`` is kept across planted runs): nothing is recounted.
"""
from __future__ import annotations

from typing import Callable, Mapping

import sympy as sp

from audit import RunContext, SuiteDefect

from .claim import Planted, wrong_derivation

#: per-interaction extra operations of a plausible wrong implementation, per method family:
#: (what, f(point) with point = {"n", "d", "m"} of a grid point)
_EXTRA: dict[str, tuple[str, Callable[[Mapping[str, float]], float]]] = {
    "exact": (r"the $n \times n$ Jacobian of the prediction map materialized in the backward ($n^2$ per interaction)",
              lambda p: p["n"] ** 2),
    "sampled": ("a sampler that scores every item for its proposal ($2 n d$ per interaction)",
                lambda p: 2 * p["n"] * p["d"]),
    "hsm": ("a degenerate chain tree: paths of length $n - 1$ ($2 d (n - 1)$ per interaction)",
            lambda p: 2 * p["d"] * (p["n"] - 1)),
    "rg2/als": (r"the Gram matrix transposed: $Q Q^\top$ ($n \times n$) formed every sweep ($2 n^2 d$, over $N$ "
                r"interactions)",
                lambda p: 2 * p["n"] ** 2 * p["d"]),
}


def _family(method: str) -> str:
    from numerics.complexity import EXACT, SAMPLED

    return "exact" if method in EXACT else "sampled" if method in SAMPLED else method


def measured_plus(method: str) -> Planted:
    """The measured counts of ``method`` plus a wrong implementation's extra operations."""
    from numerics import complexity as X

    what, f = _EXTRA[_family(method)]
    per = X.ALS_INTERACTIONS if method == "rg2/als" else 1

    def run(ctx: RunContext):
        real = X.method_measurements(method, ctx.profile, ctx.seed, ctx.device)
        data = {}
        for var, g in real.items():
            pts = []
            for x, p in zip(g["x"], g["points"]):
                e = f(X.BASE | {var: x}) / per
                pts.append(p | {"flops": p["flops"] + e, "by_op": dict(p["by_op"]) | {"planted": e}})
            data[var] = {"x": list(g["x"]), "points": pts}
        return X.cpx1(method, ctx, data=data)

    return Planted(f"measured counts plus {what}", run=run)


def traced_plus(method: str) -> Planted:
    """The traced exact counts of ``method`` plus a wrong implementation's extra operations
    (per batch of B interactions for softmax, per sweep for ALS)."""
    from numerics.cost_derivation import derive_cost

    if method == "softmax":
        what, f = (r"the $n \times n$ softmax Jacobian materialized in the backward ($B n^2$ per batch)",
                   lambda p: p["B"] * p["n"] ** 2)
    else:
        what, f = _EXTRA["rg2/als"][0], (lambda p: 2 * p["n"] ** 2 * p["d"])
    return wrong_derivation(f"traced counts plus {what}", derive_cost, method, extra=(what, f))


#: wrong claimed tables, per check name
_N, _U, _n, _d, _m = sp.symbols("N U n d m", positive=True)


def wrong_table(check: str, method: str) -> tuple[str, dict]:
    """(what, costs) for a claimed-formula check: a table with one plausible wrong entry."""
    if check in ("ordering-in-n", "hsm-vs-softmax", "hsm-vs-sampled"):
        return "HSM over a degenerate chain tree: $N d n$", {"hsm": _N * _d * _n}
    if check == "sparse-vs-softmax":
        return f"{method} projected by insertion sort: $N n (d + n)$", {method: _N * _n * (_d + _n)}
    if check == "sampled-vs-softmax":
        return f"{method} with a sampler that scores every item: $N (m + n) d$", {method: _N * (_m + _n) * _d}
    if check == "als-vs-softmax":
        return "ALS with the Gram matrix transposed: $N d^2 + (U + n) d^3 + n^2 d$", \
            {"rg2/als": _N * _d ** 2 + (_U + _n) * _d ** 3 + _n ** 2 * _d}
    raise ValueError(f"check must be a CPX-1 claimed-formula check, got {check!r}")


def strict(derive: Callable[..., object]) -> Callable[..., object]:
    """A claimed-formula derivation whose ``fails`` is a defect of the suite: the formulas
    are the claim's, the relations between them our own statement, so sympy disagreeing
    with the statement means the statement (or the typed table) is wrong -- never a
    finding about the paper (ARCHITECTURE.md: a mismatch of two of our routes)."""
    def run(*args, **kw):
        D = derive(*args, **kw)
        if D.decision == "fails":
            raise SuiteDefect(f"CPX-1 {getattr(derive, '__name__', 'derivation')}: the claimed cost formulas do not "
                              f"order as the derivation states ({D.statement[:120]})")
        return D

    return run


def table_planted(check: str, method: str, derive: Callable[..., object]) -> Planted:
    what, costs = wrong_table(check, method)
    return wrong_derivation(f"claimed table with {what}", strict(derive), costs=costs)


__all__ = ["measured_plus", "traced_plus", "wrong_table", "strict", "table_planted"]
