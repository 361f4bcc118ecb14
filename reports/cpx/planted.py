"""Planted defects of the CPX-1 checks, each entering where a bug would (issue 20, item 2):

* the claimed-formula derivations (proofs/cpx/complexity.py) read the claimed table
  ``proofs.cpx.complexity._table`` at call time: a planted defect is a wrong entry in it (a typo
  in the transcription of the claim);
* the derived cost (numerics/cpx/cost_derivation.py) and the counted exponents
  (numerics/cpx/complexity.py) count the method's own step: a planted defect makes that step --
  its class's ``batch_loss`` or ``als_epoch`` in numerics/recsys/methods.py -- do extra work,
  which the counter (numerics/cpx/opcount.py) charges like any other operation.  Both caches of
  counts are keyed by the step's implementation (``numerics.cpx.complexity.implementation``), so
  a patched step is counted afresh (only the methods whose class it patches: the grids of one
  to three methods, not the suite's) and a real run is never served a planted count.

Each counted check declares one defect, its resolution: the smallest extra work of its
method's family that it turns on, found on the quick grid, whose pair n = 3000 → 10000 the
full grid shares (so it turns there too; reaching n = 10⁵, the full grid sees smaller
defects still).  On that pair the check turns for an extra
``n²/c`` per interaction below c ≈ 247 (softmax), 91 (sparsemax), 86 (1.5-entmax), 66
(rankmax); ``a·n`` above a ≈ 1/6 (SSM uniform), 1/7 (SSM popularity), 1/7.2 (NCE), 1/10.5
(HSM); and, per ALS sweep, ``k·n²`` above k ≈ 1.31.  A term linear in n (a counter off by
n/4 per interaction) is inside O(N n d) and O((U + n) d³): the exponent check cannot see it
for the exact methods and ALS, and it does not have to (the derived cost of ALS does, see
:func:`traced_defects`).  The extra work is a reduction over a broadcast view (no memory):
its count is exact and it costs about one addition per counted operation.
"""
from __future__ import annotations

import functools
from typing import Callable

import sympy as sp
import torch

from audit import SuiteDefect

from ..claim import Planted, patched, replacing

#: the resolution of each counted check: per method, (marked text, the extra work of one call of
#: the step: work(method_object, *step_args)); the divisors are the largest round ones within a
#: factor 2 of the threshold (module docstring), so half the defect would pass
_EXACT_C = {"softmax": 200, "sparsemax": 64, "entmax-1.5": 64, "rankmax": 50}


def _divide(a: int, b: int) -> int:
    if a % b:
        raise ValueError(f"planted extra work: {a} is not a multiple of {b} (the grid changed?)")
    return a // b


def _reduce(like: torch.Tensor, numel: int) -> None:
    """``numel`` additions: a sum over a broadcast view of one zero (charged ``numel`` by the
    counter's 1-per-element rule; no memory)."""
    like.new_zeros(()).expand(numel).sum()


def doing_extra(real: Callable, method: str, work: Callable[..., None]) -> Callable:
    """The counted step ``real`` that, for ``method``, also does ``work(self, *args)``
    (without gradient): the extra work a wrong implementation does, which the counter charges."""
    @functools.wraps(real)
    def step(self, *args, **kw):
        out = real(self, *args, **kw)
        if self.name == method:
            with torch.no_grad():
                work(self, *args)
        return out

    return step


def _step_with(cls_name: str, attr: str, method: str, work: Callable[..., None]):
    """A patch factory: ``methods.<cls_name>.<attr>`` (the counted step) replaced by
    :func:`doing_extra` of itself."""
    def factory():
        from numerics.recsys import methods as M

        cls = getattr(M, cls_name)
        return replacing((cls, attr, doing_extra(getattr(cls, attr), method, work)))()

    return factory


def _class(method: str) -> tuple[str, str]:
    """(class in numerics/recsys/methods.py, its counted step) of ``method``."""
    from numerics.cpx.complexity import SAMPLED

    if method == "rg2/als":
        return "RG2", "als_epoch"
    if method in SAMPLED:
        return ("NCE" if method == "nce" else "SSM"), "batch_loss"
    return {"rankmax": "Rankmax", "hsm": "HSM"}.get(method, "ExactFY"), "batch_loss"


def _resolution(method: str) -> tuple[str, Callable[..., None]]:
    from numerics.cpx.complexity import SAMPLED

    if method in _EXACT_C:
        c = _EXACT_C[method]
        return (rf"the {method} step also passes over $n^2/{c}$ entries per interaction (an $n \times n/{c}$ slice of "
                "the Jacobian of its prediction map formed in the backward)",
                lambda self, params, batch, gen: _reduce(params["user"], _divide(batch.size * self.n * self.n, c)))
    if method in SAMPLED:
        return (f"{method}: the proposal's cumulative distribution recomputed for every 4 interactions, besides the "
                "batch's own ($n/4$ extra operations per interaction)",
                lambda self, params, batch, gen: torch.cumsum(self.q.expand(_divide(batch.size, 4), -1), -1))
    if method == "hsm":
        return ("hsm: the item counts of the Huffman tree renormalized for every 8 interactions ($n/8$ extra "
                "operations per interaction)",
                lambda self, params, batch, gen: self.counts.expand(_divide(batch.size, 8), -1).sum(-1))
    if method == "rg2/als":
        return (r"ALS: one dense $n \times n$ item-item pass per sweep ($2 n^2$ extra operations per sweep)",
                lambda self, params, users, items, n_users, n_items: _reduce(params["item"], 2 * n_items ** 2))
    raise ValueError(f"no CPX-1 resolution for {method!r}")


def counted_defects(method: str) -> list[Planted]:
    """The planted defects of ``method``'s counted-exponent check: its resolution (module
    docstring), entering its counted step."""
    what, work = _resolution(method)
    return [patched(what, _step_with(*_class(method), method, work), resolution=True)]


def traced_defects(method: str) -> list[Planted]:
    """The planted defects of ``method``'s derived-cost check, entering its traced step.  The
    comparison is exact, so any coefficient of a term outside the claim turns it: for ALS a
    term linear in $N n$ (the counter's n per interaction) does; for softmax it is inside
    O(N n d) (n ≤ n d), so its defect is the Jacobian, n² per interaction.  (The traced sizes
    are small integers, so a defect's extra work must be a whole number of operations at
    every one of them: n/4 per interaction is not, n is.)"""
    if method == "softmax":
        return [patched(r"the $n \times n$ softmax Jacobian materialized in the backward ($n^2$ extra operations per "
                        r"interaction, $B n^2$ per batch)",
                        _step_with("ExactFY", "batch_loss", "softmax",
                                   lambda self, params, batch, gen: _reduce(params["user"],
                                                                            batch.size * self.n * self.n)))]
    if method == "rg2/als":
        return [patched(r"ALS: a dense one-hot row over the $n$ items formed per interaction ($n$ extra operations per "
                        r"interaction, $N n$ per sweep)",
                        _step_with("RG2", "als_epoch", "rg2/als",
                                   lambda self, params, users, items, n_users, n_items:
                                   _reduce(params["item"], users.numel() * n_items))),
                patched(r"ALS: the Gram matrix transposed, $Q Q^\top$ ($n \times n$) formed every sweep ($2 n^2 d$ "
                        "extra operations per sweep)",
                        _step_with("RG2", "als_epoch", "rg2/als",
                                   lambda self, params, users, items, n_users, n_items:
                                   params["item"] @ params["item"].T))]
    raise ValueError(f"no derived cost for {method!r}")


#: wrong claimed tables, per check name
_N, _U, _n, _d, _m = sp.symbols("N U n d m", positive=True)


def wrong_table(check: str, method: str) -> tuple[str, dict]:
    """(what, entries) for a claimed-formula check: a table with one plausible wrong entry."""
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


def table_planted(check: str, method: str) -> Planted:
    """The claimed table (proofs/cpx/complexity.py ``_table``) with one wrong entry, patched."""
    from proofs.cpx import complexity as P

    what, entries = wrong_table(check, method)
    real = P._table

    def wrong(selection: str) -> dict:
        return real(selection) | entries

    return patched(f"claimed table with {what}", replacing((P, "_table", wrong)))


__all__ = ["counted_defects", "traced_defects", "wrong_table", "strict", "table_planted"]
