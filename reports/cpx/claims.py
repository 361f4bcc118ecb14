"""CPX-1: per-epoch complexity of every method: the claimed formulas ordered in sympy, the
implementation's cost derived where its count is an exact polynomial, and counted FLOPs
on grids (CLAIMS.md §5).

Scope (issue 10 §2/§3).  The claimed-formula derivations (proofs/cpx/complexity.py) speak about
the formulas only.  What the implementation costs for *all* sizes is derived
(numerics/cpx/cost_derivation.py) only where its step is branch-free and log-free: exact
softmax and RG²-ALS, whose rows can be ``verified``.  For the other methods the cost is
counted on the grids, not derived; their claimed-formula checks name that gap, so those
rows read ``supported``.  A claimed-formula check covers no counterexample of its row
(:func:`formulas_only`); the derived cost, without a gap, covers the counted check's, so the
two disagreeing is a crash.  The row's constants (:func:`constants`: the claimed terms, the
tolerance, which re-check each check gets) are what reports/rechecks/cost.py re-checks with.
"""
from __future__ import annotations

from ..claim import Claim, Check, numeric, symbolic

_STATEMENT = ("Per-epoch cost of {method} is $O({claimed})$ ($N$ interactions, $U$ users, $n$ items, $d$ dimensions, "
              "$m$ samples{extra}). Reading: the suite's implementation (numerics/recsys/methods.py), its arithmetic "
              "counted by numerics/cpx/opcount.py, grows in {vars} no faster than the claim on the grids (local log-log "
              r"exponents within the band the $O(\cdot)$ allows, + 0.1){derived}, and the claimed expressions order as "
              "the derivation states.")
_DERIVED = "; its per-epoch cost, derived from exact counts of its traced step, is bounded by the claim for all sizes"
_EXTRA = {"sparsemax": "; sort-based projection; $O(N n d)$ with linear-time selection",
          "entmax-1.5": "; sort-based projection; $O(N n d)$ with linear-time selection",
          "rankmax": "; sort-based projection; $O(N n d)$ with linear-time selection",
          "rg2/als": "; one ALS sweep"}
_NOT_DERIVED = "symbolic: orders the claimed formulas only; the implementation's cost is counted on the grids, not " \
               "derived for all sizes"
#: why the implementation's count is not an exact polynomial (numerics/cpx/cost_derivation.py)
_WHY = {
    "sparse": r"the top-$K$ slice is widened in $\lceil \log_4(n/K_0) \rceil$ rounds (a size-dependent branch) and "
              r"rows are sorted ($\log n$ terms)",
    "ssm": r"rejected samples are redrawn a random number of times, and every draw is a binary search over a "
           r"cumulative distribution recomputed per batch ($O(n)$ per batch and $\log n$ per draw: terms the claim "
           r"omits, small on the grids)",
    "nce": r"every draw is a binary search over a cumulative distribution recomputed per batch ($O(n)$ per batch and "
           r"$\log n$ per draw: terms the claim omits, small on the grids)",
    "hsm": "the padded path length is the depth of the Huffman tree of the item counts (data-dependent)",
}
#: the claimed per-epoch cost of each method, typed from the statement (CLAIMS.md §5), as the row's
#: constants: its terms with unit constants, each {"powers": {symbol: exponent}, "log": the symbol
#: whose natural log multiplies the term, or None}; the re-checker (reports/rechecks/cost.py)
#: computes the O(·) band and the claim's degrees from them, never from a counterexample
def _term(log: str | None = None, **powers: int) -> dict:
    return {"powers": powers, "log": log}


_SORT_BASED = [_term(N=1, n=1, d=1), _term("n", N=1, n=1)]
CLAIMED_TERMS: dict[str, list[dict]] = {
    "softmax": [_term(N=1, n=1, d=1)],
    "sparsemax": _SORT_BASED, "entmax-1.5": _SORT_BASED, "rankmax": _SORT_BASED,
    **{k: [_term(N=1, m=1, d=1)] for k in ("ssm/uniform", "ssm/popularity", "nce")},
    "hsm": [_term("n", N=1, d=1)],
    "rg2/als": [_term(N=1, d=2), _term(U=1, d=3), _term(n=1, d=3)],
}
#: the statement's tolerance on a counted local exponent above the O(·) band
TOL = 0.1
#: how one traced unit gives the per-epoch cost, for the rows whose cost is derived: N/B batches
#: of B interactions (softmax), one sweep (ALS)
PER_EPOCH = {"softmax": "N*count/B", "rg2/als": "count"}


def constants(method: str) -> dict:
    """The row's constants: its claimed terms, the tolerance, which re-check each check's
    counterexample gets, and (derived rows) the per-epoch form of a traced unit."""
    out = {"claimed_terms": CLAIMED_TERMS[method], "tol": TOL,
           "rechecks": {"counted-flops-exponents": "counted-exponent"}}
    if method in PER_EPOCH:
        out["rechecks"]["derived-cost"] = "derived-cost"
        out["per_epoch"] = PER_EPOCH[method]
    return out


def formulas_only(check: str, counterexample) -> bool:
    """The scope of a claimed-formula derivation as a predicate: it orders the claim's formulas,
    so it covers no counterexample about the implementation's counts (counted or derived)."""
    return False


#: registered refutations (none: the first measurement refuted SSM and NCE, through a defect of
#: the suite -- two lookups of the item table summed two dense (n, d) gradients per batch --
#: which methods._gathered_scores fixed)
_NOTES: dict[str, str] = {}


def _gap(method: str) -> str:
    from numerics.cpx.complexity import SAMPLED

    from proofs.cpx.complexity import SPARSE

    key = "sparse" if method in SPARSE else "nce" if method == "nce" else "ssm" if method in SAMPLED else method
    return f"{_NOT_DERIVED} ({_WHY[key]})"


def scope(method: str, derived: bool) -> str:
    """The row's scope (Claim.scope): our implementation's counted operations on finite grids
    (numerics/cpx/complexity.py); the claimed formulas ordered symbolically; the cost derived for
    every size only where ``derived``."""
    from proofs.cpx.complexity import SAMPLED

    grid = r"$n \in \{1000, 3000, 10000\}$, $d \in \{16, \dots, 128\}$"
    grid += r", $m \in \{8, 32, 128\}$" if method in SAMPLED else ""
    grid += r" ($U = 1000$, $N = 20{,}000$)" if method == "rg2/als" else ""
    tail = "cost derived for all sizes from traced counts" if derived else "cost not derived for all sizes"
    return f"the suite's implementation, counted operations on the grids {grid}; formulas ordered symbolically; {tail}"


def claims() -> list[Claim]:
    from numerics.cpx import complexity as X
    from numerics.cpx import cost_derivation as CD
    from proofs.cpx import complexity as P

    from .planted import counted_defects, strict, table_planted, traced_defects

    out = []
    for method in X.METHODS:
        derived = method in CD.SPECS
        gap = "" if derived else _gap(method)
        checks: tuple[Check, ...] = tuple(
            symbolic(name, strict(derive), planted=[table_planted(name, method)], scope_gap=gap, covers=formulas_only)
            for name, derive in P.row_derivations(method))
        if derived:  # no scope gap: it covers every counterexample of the row (a disagreement crashes)
            checks += (symbolic("derived-cost", CD.derive_cost, method, planted=traced_defects(method)),)
        checks += (numeric("counted-flops-exponents", X.cpx1, method, planted=counted_defects(method)),)
        statement = _STATEMENT.format(method=method, claimed=P.claimed_latex(method), extra=_EXTRA.get(method, ""),
                                      vars="$n$, $d$ and $m$" if method in P.SAMPLED else "$n$ and $d$",
                                      derived=_DERIVED if derived else "")
        expected = "refuted" if method in _NOTES else ("verified" if derived else "supported")
        out.append(Claim("CPX-1", method, statement, checks, expected=expected,
                         note=_NOTES.get(method, "" if derived else gap), on_device=True,
                         constants=constants(method), scope=scope(method, derived)))
    return out
