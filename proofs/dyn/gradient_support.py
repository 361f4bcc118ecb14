"""DYN-1 symbolically: which negative classes get a gradient (CLAIMS.md §3).

The gradient is not typed: it is the derivative of FY-1's derived conjugate Ω*
(proofs/fy/conjugates.py ``derived_conjugate``, on every KKT pattern of proofs/kkt.py) minus
⟨θ, y⟩, i.e. FY-2's gradient, and on a negative class j (y_j = 0) it is ∂Ω*/∂θ_j.

* softmax: Ω* = log(e^{θ_j} + R) with R > 0 the sum of the other exponentials (any n), so
  ∂L/∂θ_j = e^{θ_j}/(e^{θ_j} + R) > 0 at every finite θ; checked also on FY-1's derived
  Ω* for n = 2, 3, 4.
* sparse losses: on each KKT pattern (free F, capped U, zero Z) sympy decides, for every
  coordinate j, ∂Ω*/∂θ_j = 0 on Z, = ŷ_j (not identically 0) on F, = 1 on U, with the
  total derivative through the implicit threshold for entmax.  So the zero-gradient set of
  the negatives is exactly the complement of the support of ŷ.  Patterns of n = 2, 3, 4
  (every k < n for rankmax; entmax n = 4, every support size, symbolic α).  For any n the
  same holds because a pattern's KKT system (the stationarity rows of F, the mass
  constraint Σ_F p + |U| = k) contains no θ_j with j ∈ Z, so ŷ and Ω* on the region do not
  depend on θ_Z; sympy checks that structural fact on every pattern it solves.

The conjugate is looked up at call time (``softmax_conjugate``, ``derived_conjugate`` of
this module), so a wrong Ω* candidate -- e.g. the conjugate of a smeared map -- enters as a
bug would, and must make the derivation fail.
"""
from __future__ import annotations

from typing import Callable

import sympy as sp

from audit.members import member

from ..fy.conjugates import derived_conjugate
from ..derivation import Derivation
from ..kkt import Case, all_true, cases, decide_zero

SIZES = {"sparsemax": (2, 3, 4), "rankmax": (2, 3, 4), "entmax": (4,), "softmax": (2, 3, 4)}


def softmax_conjugate(tj: sp.Expr, R: sp.Expr) -> sp.Expr:
    """Ω* = logsumexp written with one coordinate θ_j and R = Σ_{k≠j} e^{θ_k} > 0."""
    return sp.log(sp.exp(tj) + R)


def _softmax(conjugate: Callable, derived: Callable[[Case], sp.Expr]) -> Derivation:
    d = Derivation(r"Softmax gives every negative class a non-zero gradient at every finite $\theta$: "
                   r"$\partial L/\partial\theta_j = \hat y_j = e^{\theta_j}/\sum_k e^{\theta_k} > 0$",
                   r"symbolic in $n$ ($R$ = sum of the other exponentials, $R > 0$); FY-1's derived conjugate for "
                   r"$n = 2, 3, 4$",
                   [r"$L(\theta; y) = \Omega^*(\theta) + \Omega(y) - \langle\theta, y\rangle$, $y_j = 0$ for a negative "
                    r"$j$", r"$\theta$ finite"])
    tj = sp.Symbol("theta_j", real=True)
    R = sp.Symbol("R", positive=True)
    g = sp.simplify(sp.diff(conjugate(tj, R), tj))
    d.step(r"$\partial L/\partial\theta_j = \partial\Omega^*/\partial\theta_j$ for $j \notin y$:", g)
    pos = g.is_positive
    d.step(f"positive for every real $\\theta_j$ and $R > 0$ (sympy): {pos}")
    res = []
    for case in cases("softmax", SIZES["softmax"]):
        conj = derived(case)
        for j in range(case.n):
            gj = case.d(conj, j)
            res.append(decide_zero(case, gj - case.yhat[j]))
            res.append(sp.simplify(case.yhat[j]).is_positive)
    agree = all_true(r if r is not None else None for r in res)
    d.step(r"on FY-1's derived $\Omega^*$ ($n = 2, 3, 4$): $\partial\Omega^*/\partial\theta_j = \hat y_j = "
           r"e^{\theta_j}/\sum_k e^{\theta_k} > 0$: " + str(agree))
    return d.decide(all_true([pos, agree]))


def _structure(case: Case) -> bool:
    """ŷ and λ on the region contain no θ_j, j ∈ Z (the KKT system of F and U does not)."""
    zs = {case.theta[j] for j in case.zero}
    exprs = list(case.yhat) + [case.lam] + ([case.constraint] if case.constraint is not None else [])
    return not any(sp.sympify(e).free_symbols & zs for e in exprs)


def _sparse(loss: str, derived: Callable[[Case], sp.Expr]) -> Derivation:
    L = member(loss)
    sizes = SIZES[loss]
    d = Derivation(f"{loss}: a negative class gets exactly zero gradient iff it is outside the support of "
                   r"$\hat y$ (and a non-zero gradient inside it)",
                   r"every KKT pattern for $n \in \{" + ", ".join(map(str, sizes)) + r"\}$"
                   + (" and every $k < n$" if L.capped else "")  # the mass k is a parameter
                   + (r", symbolic $\alpha$" if L.tsallis else "")
                   + "; any $n$ by the structure of the KKT system (checked on every pattern solved)",
                   [r"$L(\theta; y) = \Omega^*(\theta) + \Omega(y) - \langle\theta, y\rangle$, $y_j = 0$ for a negative "
                    r"$j$ (FY-2)",
                    r"$\Omega^*$ and $\hat y$ on each pattern from FY-1 (proofs/kkt.py, proofs/fy/conjugates.py)"],
                   summary=f"{loss}: a negative class gets zero gradient exactly when it is outside the support of "
                           r"$\hat y$")
    zero_ok, free_ok, cap_ok, nonzero, struct = [], [], [], [], []
    npat = 0
    for case in cases(loss, sizes):
        npat += 1
        conj = derived(case)
        struct.append(_structure(case))
        for j in range(case.n):
            gj = case.d(conj, j)
            if j in case.zero:
                zero_ok.append(decide_zero(case, gj))
            elif j in case.upper:
                cap_ok.append(decide_zero(case, gj - 1))
            else:
                free_ok.append(decide_zero(case, gj - case.yhat[j]))
                # not identically 0: non-zero at the region's generic exact point
                val = sp.N(sp.sympify(case.yhat[j]).subs(case.point()), 30)
                nonzero.append(bool(val.is_number and abs(complex(val)) > 1e-20) or None)
            if free_ok and free_ok[-1] is False or zero_ok and zero_ok[-1] is False or cap_ok and cap_ok[-1] is False:
                break  # a refuted identity decides the derivation (fails)
        else:
            continue
        break
    dL = r"$\partial L/\partial\theta_j"
    d.step(f"{npat} KKT patterns; on each, " + r"$\partial\Omega^*/\partial\theta_j$ by sympy (total derivative "
           r"through the implicit threshold for entmax) of FY-1's derived $\Omega^*$")
    d.step(r"$j \in Z$ ($\hat y_j = 0$): " + dL + f" = 0$ on every pattern: {all_true(zero_ok)}")
    d.step(r"$j \in F$ ($0 < \hat y_j < \mathrm{cap}$): " + dL + r" = \hat y_j$, not identically 0: "
           + f"{all_true(free_ok)}, {all_true(nonzero)}")
    if L.capped:  # only on C_k can a negative sit at the cap 1
        d.step(r"$j \in U$ ($\hat y_j = 1$): " + dL + f" = 1$ on a negative: {all_true(cap_ok)}")
    d.step(r"$\hat y$, $\lambda$ (and $\tau$'s constraint) on each pattern contain no $\theta_Z$: " + str(all(struct))
           + r"; so for any $n$ the region's $\Omega^*$ does not depend on $\theta_Z$ and the zero-gradient "
           "negatives are exactly those outside the support")
    d.decide(all_true([all_true(zero_ok), all_true(free_ok), all_true(cap_ok or [True]), all_true(nonzero),
                       all(struct)]))
    if d.decision == "holds":
        d.summary = (f"{loss}: on {npat} KKT patterns, " + dL + r" = 0$ exactly for $\hat y_j = 0$ and "
                     + dL + r" = \hat y_j$ on the support")
    return d


def gradient_support(loss: str) -> Derivation:
    """DYN-1 on the conjugates of this module: softmax, ``softmax_conjugate`` (θ_j, R) → Ω*;
    sparse, ``derived_conjugate`` Case → Ω* on the pattern (FY-1's derived conjugate)."""
    try:
        L = member(loss)
    except ValueError:
        raise ValueError(f"loss must be one of softmax, sparsemax, entmax, rankmax, got {loss!r}") from None
    if L.dense:  # full support: every negative's gradient is ŷ_j > 0 (Ω* = logsumexp, the dense member's)
        return _softmax(softmax_conjugate, derived_conjugate)
    return _sparse(L.name, derived_conjugate)


def smeared_conjugate(eps=sp.Rational(1, 1000)) -> Callable[[Case], sp.Expr]:
    """Ω* of the map (1 − ε)ŷ + ε·mass/n (a sparse map made dense): (1 − ε)Ω* + (ε·mass/n)Σθ
    (FY-1's conjugate read from proofs.fy.conjugates, so that it survives a patch of this module's)."""
    from ..fy import conjugates

    def conj(case: Case) -> sp.Expr:
        return (1 - eps) * conjugates.derived_conjugate(case) + eps * case.k * sum(case.theta) / case.n

    return conj


__all__ = ["gradient_support", "softmax_conjugate", "smeared_conjugate", "SIZES"]
