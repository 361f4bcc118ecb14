"""Sums over a symbolic index set: the FY identities for every n at once.

A KKT region of θ-space splits the coordinates into blocks (CLAIMS.md §1, proofs/kkt.py):
the free set F = {1..f} (0 < ŷ < cap; the support S of the simplex losses), the capped
set U = {f+1..f+u} (ŷ = 1, rankmax only) and the zero set Z = {f+u+1..f+u+z}.  With f, u,
z *symbols*, a sympy ``Sum`` over a block is a sum over a set of symbolic size, and

* differentiation by a generic coordinate θ_i goes through the sum
  (d/dθ_i Σ_j h(θ_j) = Σ_j δ_ij h'(θ_j), sympy's KroneckerDelta), then the block of i is
  fixed by evaluating the resulting ``Piecewise`` conditions at a representative index of
  that block (f for F: 1 ≤ f ≤ f; f + 1 for U; f + u + 1 for Z);
* a sum is *linear*: each summand is split into its j-free factor and a j-dependent part,
  and the few sums that the constraints fix (Σ_S ŷ = 1, Σ_F ŷ = k − u, Σ y = k) are replaced
  by their values; what remains are independent symbols.

Nothing here assumes a particular n: an identity that simplifies to 0 here holds for every
block size, which is what "symbolic in n" means in the scopes of proofs/fy/conjugates.py,
proofs/fy/hessians.py and proofs/fy/smoothness.py.  An identity that does not simplify is
evaluated at a generic rational point (sums and block values as independent symbols): a
non-zero value refutes it (``False``), otherwise it is undecided (``None``).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .kkt import ALPHA, TAU

J = sp.Symbol("j", integer=True, positive=True)  # summation index
I = sp.Symbol("i", integer=True, positive=True)  # a generic coordinate
L2 = sp.Symbol("l", integer=True, positive=True)  # a second generic coordinate (Jacobian entries)
F, U, Z = sp.symbols("f u z", integer=True, positive=True)  # block sizes (a block in use is non-empty)
K = sp.Symbol("k", integer=True, positive=True)  # total mass Σŷ = k (rankmax)
THETA = sp.IndexedBase("theta", real=True)
Q = sp.IndexedBase("q", positive=True)  # ŷ on the free set, in canonical variables
NU = sp.IndexedBase("nu", nonnegative=True)  # multipliers of ŷ ≤ 1 on U
MU = sp.IndexedBase("mu", nonnegative=True)  # multipliers of ŷ ≥ 0 on Z
YV = sp.IndexedBase("y", nonnegative=True)  # a label vector in dom Ω
LAMBDA = sp.Symbol("lambda", real=True)  # multiplier of Σp = k

BLOCKS = {"F": (1, F), "U": (F + 1, F + U), "Z": (F + U + 1, F + U + Z)}
_REP = {"F": F, "U": F + 1, "Z": F + U + 1}


def block_sum(expr: sp.Expr, block: str) -> sp.Sum:
    """Σ_{j ∈ block} expr (expr in the summation index :data:`J`)."""
    lo, hi = BLOCKS[block]
    return sp.Sum(expr, (J, lo, hi))


def _block_of(limits) -> str | None:
    (_, lo, hi), = limits
    for name, (a, b) in BLOCKS.items():
        if sp.simplify(lo - a) == 0 and sp.simplify(hi - b) == 0:
            return name
    return None


def resolve(expr: sp.Expr, where: dict[sp.Symbol, str]) -> sp.Expr | None:
    """Fix the branch of every ``Piecewise`` from the blocks of the free indices
    (``where``: index symbol → block).  Returns None when a condition stays undecided."""
    undecided = []

    def pick(pw: sp.Piecewise) -> sp.Expr:
        for val, cond in pw.args:
            c = cond.subs({s: _REP[b] for s, b in where.items()})
            c = sp.simplify(c) if c not in (sp.true, sp.false) else c
            if c == sp.true:
                return val
            if c != sp.false:
                undecided.append(cond)
                return pw
        return sp.S.Zero

    out = expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)
    return None if undecided else out


def d(expr: sp.Expr, i: sp.Symbol, where: dict[sp.Symbol, str], constraint: sp.Expr | None = None) -> sp.Expr | None:
    """Total derivative d expr / dθ_i with i in its block; with ``constraint`` G(θ, τ) = 0,
    τ = τ(θ) is differentiated implicitly: dτ/dθ_i = −(∂G/∂θ_i)/(∂G/∂τ)."""
    out = sp.diff(expr, THETA[i])
    if constraint is not None and expr.has(TAU):
        out += sp.diff(expr, TAU) * (-sp.diff(constraint, THETA[i]) / sp.diff(constraint, TAU))
    return resolve(out.doit(), where)


def map_sums(expr: sp.Expr, fn) -> sp.Expr:
    """Apply ``fn(summand, block)`` to the summand of every block sum."""
    return expr.replace(lambda e: isinstance(e, sp.Sum),
                        lambda e: sp.Sum(fn(e.function, _block_of(e.limits)), *e.limits))


def tidy(expr: sp.Expr) -> sp.Expr:
    """Powers of positive symbols merged and their exponents cancelled
    (q^{α/(α−1)}/q^{1/(α−1)} = q; (q^{α−1})^{1/(α−1)} = q)."""
    e = expr
    for _ in range(2):
        e = sp.powsimp(sp.powdenest(sp.powsimp(e, force=True), force=True), force=True)
        e = e.replace(lambda x: isinstance(x, sp.Pow) and not x.exp.is_Number,
                      lambda x: sp.Pow(sp.factor(sp.cancel(x.base)) if x.base.is_Add else x.base,
                                       sp.factor(sp.cancel(x.exp))))
    return e


def expand_keep_powers(expr: sp.Expr) -> sp.Expr:
    """``sp.expand`` that leaves the bases of symbolic powers alone (((α−1)θ_j − τ)^{1/(α−1)}
    stays a power of one polynomial, which canonical variables turn into q_j)."""
    pows = sorted(expr.atoms(sp.Pow), key=sp.default_sort_key)
    keep = {p: sp.Dummy() for p in pows if not p.exp.is_Number and p.base.is_Add}
    return sp.expand(expr.xreplace(keep)).xreplace({v: k for k, v in keep.items()})


def linear(expr: sp.Expr, known: dict | None = None) -> sp.Expr:
    """Split every sum by linearity, innermost first: the factors of a summand free of
    its index come out, Σ_{j∈B} 1 = |B|, and each remaining sum is re-indexed by
    :data:`J` (so equal sums compare equal).  Then the ``known`` sums are replaced."""
    def split(s: sp.Sum) -> sp.Expr:
        (var, lo, hi), = s.limits
        out = sp.S.Zero
        for term in sp.Add.make_args(expand_keep_powers(tidy(walk(s.function)))):
            term = sp.expand_power_exp(sp.factor_terms(term))  # e^{a+θ_j} = e^a·e^{θ_j}
            ind, dep = term.as_independent(var, as_Add=False)
            dep = tidy(dep)  # q_j²·q_j^{−α} = q_j^{2−α}
            out += ind * (hi - lo + 1) if dep == 1 else ind * sp.Sum(dep.xreplace({var: J}), (J, lo, hi))
        return out

    def walk(e: sp.Expr) -> sp.Expr:
        if isinstance(e, sp.Sum):
            return split(e)
        if not e.args or not e.has(sp.Sum):
            return e
        return e.func(*[walk(a) for a in e.args])

    out = walk(expr)
    return out.xreplace(known) if known else out


@dataclass
class Verdict:
    """Outcome of one generic identity: ``ok`` (True/False/None) and the residual."""

    ok: bool | None
    residual: sp.Expr


def decide(expr: sp.Expr | None) -> Verdict:
    """True if ``expr`` simplifies to 0; False if it is non-zero at a generic rational
    point (remaining sums and indexed values as independent positive symbols)."""
    if expr is None:
        return Verdict(None, sp.nan)
    e = sp.simplify(expr)
    if e == 0:
        return Verdict(True, e)
    sums = sorted(e.atoms(sp.Sum), key=sp.default_sort_key)
    e2 = e.xreplace({s: sp.Rational(7 + 3 * n, 5 + n) for n, s in enumerate(sums)})
    idx = sorted(e2.atoms(sp.Indexed), key=sp.default_sort_key)
    pt = {x: sp.Rational(2 + n, 11 + 2 * n) for n, x in enumerate(idx)}
    pt.update({ALPHA: sp.Rational(3, 2), TAU: sp.Rational(-1, 3), LAMBDA: sp.Rational(1, 5),
               F: 3, U: 2, Z: 2, K: 6})
    free = [s for s in e2.free_symbols if s not in pt]
    pt.update({s: sp.Rational(3 + n, 7 + n) for n, s in enumerate(sorted(free, key=sp.default_sort_key))})
    val = sp.N(e2.xreplace(pt).doit(), 30)
    if val.is_number and abs(complex(val)) > 1e-20:
        return Verdict(False, e)
    return Verdict(None, e)


__all__ = ["J", "I", "L2", "F", "U", "Z", "K", "THETA", "Q", "NU", "MU", "YV", "LAMBDA", "BLOCKS",
           "block_sum", "resolve", "d", "map_sums", "linear", "decide", "Verdict"]
