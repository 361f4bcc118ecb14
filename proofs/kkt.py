"""KKT solutions of the prediction map ŷ = argmax_{p ∈ dom Ω} ⟨θ,p⟩ − Ω(p), one support
pattern at a time, and the small sympy helpers every derivation shares.

A :class:`Case` is one region of θ-space: the set of coordinates with 0 < ŷ_i < cap
(the *free* set, called the support S for the simplex losses), the coordinates held
at the cap 1 (rankmax only) and the coordinates at 0.  On such a region ŷ is a smooth
function of θ obtained by solving the stationarity conditions with sympy:

* softmax   θ_i − (log p_i + 1) − λ = 0 for every i, then Σ p = 1 for λ;
* sparsemax θ_i − p_i − λ = 0 on S, then Σ_S p = 1 for λ;
* entmax    θ_i − p_i^{α−1}/(α−1) − λ = 0 on S (linear in q_i = p_i^{α−1}); with
  τ = (α−1)λ this is p_i = ((α−1)θ_i − τ)^{1/(α−1)}; Σ_S p = 1 has no closed form in
  τ, so τ(θ) is kept *implicit* and differentiated by the implicit-function theorem;
* rankmax   θ_i − p_i − λ = 0 on F, p_i = 1 on U, then |U| + Σ_F p = k for λ.

For entmax the identities are checked in *canonical* variables: the support values
P_j = ŷ_j > 0 and τ replace θ_S through θ_j = (P_j^{α−1} + τ)/(α−1), and the last
P is eliminated with Σ P = 1.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import sympy as sp

from audit.members import ALPHA, MEMBERS, member

from .derivation import is_zero

LOSSES = tuple(m.name for m in MEMBERS)

TAU = sp.Symbol("tau", real=True)  # entmax threshold, implicit function of θ
LAM = sp.Symbol("lambda", real=True)  # multiplier of Σp = k (when undetermined)


def eq(lhs: str, rhs) -> str:
    """LaTeX ``lhs = rhs`` with a hand-written left side and a sympy right side."""
    return f"{lhs} = {sp.latex(rhs)}"


def check_loss(loss: str) -> str:
    return member(loss).name


def thetas(n: int) -> tuple[sp.Symbol, ...]:
    return sp.symbols(f"theta_1:{n + 1}", real=True)


def generator(loss: str, x: sp.Expr) -> sp.Expr:
    """Per-coordinate part g of the separable Ω = Σ g(p_i) + const (the member's g)."""
    return member(loss).at(x)


@lru_cache(maxsize=None)
def generator_at_zero(loss: str) -> sp.Expr:
    """g(0⁺) = lim_{x→0⁺} g(x): the value a zero entry contributes (0 log 0 = 0 for softmax);
    taken as a limit, not assumed, so a generator with g(0⁺) ≠ 0 is summed right."""
    t = sp.Symbol("t", positive=True)
    return sp.limit(generator(loss, t), t, 0, "+")


def omega(loss: str, p) -> sp.Expr:
    """Ω(p) on its domain, as in losses/regularizers.py; an entry that is exactly 0 contributes
    g(0⁺) (:func:`generator_at_zero`), where g itself may be undefined (x log x)."""
    g = sum((generator(loss, x) if x != 0 else generator_at_zero(loss) for x in p), sp.S.Zero)
    return g + member(loss).offset


@dataclass
class Case:
    """One region of θ-space with a fixed KKT pattern, and ŷ solved on it."""

    loss: str
    n: int
    k: int  # total mass Σŷ (1 except rankmax)
    theta: tuple
    free: tuple  # 0 < ŷ_i < cap (support S, or free set F for rankmax)
    upper: tuple  # ŷ_i = 1 (rankmax)
    zero: tuple  # ŷ_i = 0
    yhat: tuple  # ŷ in θ (and τ for entmax)
    lam: sp.Expr  # multiplier of Σp = k
    mult: dict  # box multipliers: μ_i = λ − θ_i + g'(0) ≥ 0 on zero, ν_i ≥ 0 on upper
    tau: sp.Symbol | None = None  # implicit threshold (entmax)
    constraint: sp.Expr | None = None  # G(θ, τ) = 0 defines τ(θ)
    P: tuple = ()  # canonical support values (entmax)
    canon: list = field(default_factory=list)  # substitutions θ → canonical

    # -- calculus on the region ----------------------------------------------------
    def d(self, expr: sp.Expr, i: int) -> sp.Expr:
        """Total derivative d/dθ_i on the region (τ = τ(θ) by the implicit-function theorem)."""
        out = sp.diff(expr, self.theta[i])
        if self.tau is not None and expr.has(self.tau):
            G = self.constraint
            dtau = -sp.diff(G, self.theta[i]) / sp.diff(G, self.tau)
            out += sp.diff(expr, self.tau) * dtau
        return out

    def to_canon(self, expr: sp.Expr) -> sp.Expr:
        if not self.canon:
            return expr
        e = sp.powsimp(sp.sympify(expr).subs(self.canon[0]), force=True)
        e = sp.expand(sp.powdenest(e, force=True))  # P·P^{α−1} → P^α before eliminating P_s
        return sp.powsimp(e.subs(self.canon[1]), force=True)

    def point(self) -> dict:
        """A generic rational point of the region's free variables (for exact refutation)."""
        pt = {}
        for j, t in enumerate(self.theta):
            pt[t] = sp.Rational(3 * j + 2, 7 + 2 * j)
        for j, P in enumerate(self.P):
            pt[P] = sp.Rational(1, len(self.P) + 2 + j)
        pt[ALPHA] = sp.Rational(3, 2)
        pt[TAU] = sp.Rational(-1, 3)
        pt[LAM] = sp.Rational(1, 5)
        return pt


def _entmax_zero(case: Case, expr: sp.Expr) -> bool:
    """Canonical variables, then the numerator over a common denominator, expanded;
    the constraint Σ P = 1 is used only if the numerator is not already 0."""
    e = expr.subs(case.canon[0])  # bases (α−1)θ_j − τ become P_j^{α−1} (P_j > 0)
    num = sp.expand(sp.fraction(sp.together(e))[0])
    if num == 0:
        return True
    return sp.expand(num.subs(case.canon[1])) == 0


def decide_zero(case: Case | None, expr: sp.Expr, extra: dict | None = None) -> bool | None:
    """True if ``expr`` simplifies to 0; False if it is non-zero at an exact generic point
    of the region (a witness); None if sympy can decide neither."""
    expr = sp.sympify(expr)
    if case is not None and case.canon:
        if _entmax_zero(case, expr):
            return True
    else:
        if case is not None and member(case.loss).dense:  # e^{θ_i} → E_i > 0: rational functions
            E = sp.symbols(f"E_1:{case.n + 1}", positive=True)
            e = sp.expand_log(expr, force=True).subs({sp.exp(t): e for t, e in zip(case.theta, E)})
            if sp.cancel(sp.together(sp.expand(sp.expand_log(e, force=True)))) == 0:
                return True
        if sp.expand(expr) == 0:
            return True
        if expr.has(sp.log):
            if sp.expand(sp.expand_log(expr, force=True)) == 0:
                return True
        try:
            if sp.cancel(sp.together(expr)) == 0:
                return True
        except (sp.PolynomialError, TypeError):
            pass
        z = is_zero(expr)
        if z:
            return True
    pt = dict(case.point()) if case is not None else {ALPHA: sp.Rational(3, 2), TAU: sp.Rational(-1, 3)}
    if extra:
        pt.update(extra)
    if case is not None and case.canon:  # to canonical variables, then evaluate
        expr = sp.powdenest(sp.powsimp(expr.subs(case.canon[0]), force=True), force=True)
        expr = expr.subs(case.canon[1])
    val = sp.N(expr.subs(pt), 30)
    if val.is_number and abs(complex(val)) > 1e-15:
        return False
    return None


def all_true(results) -> bool | None:
    """Conjunction with 'undecided': False wins, then None, else True."""
    results = list(results)
    if any(r is False for r in results):
        return False
    if any(r is None for r in results):
        return None
    return True


# -- solving the KKT system on one pattern --------------------------------------------
@lru_cache(maxsize=None)
def softmax_stationary() -> sp.Expr:
    """Stationarity θ_i − (log p_i + 1) − λ = 0 solved for p_i (generic θ_i = t)."""
    p = sp.Symbol("p", positive=True)
    lam = sp.Symbol("lambda", real=True)
    (pi,) = sp.solve(sp.Eq(sp.log(p) + 1, sp.Symbol("t") - lam), p)
    return pi


def _solve_softmax(loss: str, n: int) -> Case:
    """g = p log p (the dense member): ŷ = e^θ/Σe^θ on the one pattern, full support."""
    th = thetas(n)
    lam = sp.Symbol("lambda", real=True)
    pi = softmax_stationary()
    ps = [pi.subs(sp.Symbol("t"), t) for t in th]
    w = sp.Symbol("w", positive=True)  # w = e^{−1−λ}: Σp = 1 is linear in w
    (w_sol,) = sp.solve(sum(sp.expand(x.subs(lam, -1 - sp.log(w)), power_exp=True) for x in ps) - 1, w)
    lam_sol = -1 - sp.log(w_sol)  # λ = log Σ e^θ − 1
    yhat = tuple(sp.expand(x.subs(lam, lam_sol), power_exp=True) for x in ps)  # e^{θ_i}/Σe^θ
    return Case(loss, n, 1, th, tuple(range(n)), (), (), yhat, lam_sol, {})


def _solve_linear(loss: str, n: int, k: int, free, upper, zero) -> Case:
    """sparsemax / rankmax: Ω = ½‖p‖² (+const), stationarity θ_i − p_i − λ = 0 on F."""
    th = thetas(n)
    ps = sp.symbols(f"p_1:{n + 1}", real=True)
    lam = sp.Symbol("lambda", real=True)
    eqs = [th[i] - ps[i] - lam for i in free]
    if free:
        eqs.append(sum(ps[i] for i in free) + len(upper) - k)
        (sol,) = sp.solve(eqs, [ps[i] for i in free] + [lam], dict=True)
        lam_sol = sol[lam]
    else:  # every coordinate at a bound: λ is any value in an interval
        sol, lam_sol = {}, LAM
    yhat = []
    for i in range(n):
        yhat.append(sol[ps[i]] if i in free else (sp.S.One if i in upper else sp.S.Zero))
    mult = {i: lam_sol - th[i] for i in zero}  # μ_i ≥ 0
    mult.update({i: th[i] - 1 - lam_sol for i in upper})  # ν_i ≥ 0
    return Case(loss, n, k, th, tuple(free), tuple(upper), tuple(zero), tuple(yhat), lam_sol, mult)


def _solve_entmax(loss: str, n: int, free) -> Case:
    """g = p^α/(α(α − 1)) (the Tsallis member): ŷ on the support with τ implicit."""
    th = thetas(n)
    a = ALPHA
    q = sp.Symbol("q", positive=True)  # q = p^{α−1}
    lam = sp.Symbol("lambda", real=True)
    (q_sol,) = sp.solve(sp.Symbol("t") - q / (a - 1) - lam, q)  # (α−1)(t − λ)
    yhat = []
    for i in range(n):
        if i in free:
            qi = q_sol.subs(sp.Symbol("t"), th[i]).subs(lam, TAU / (a - 1))
            base = (a - 1) * th[i] - TAU  # the same polynomial, kept in this form
            assert sp.cancel(qi - base) == 0
            yhat.append(base ** (1 / (a - 1)))
        else:
            yhat.append(sp.S.Zero)
    G = sum(yhat) - 1
    zero = tuple(i for i in range(n) if i not in free)
    mult = {i: TAU / (a - 1) - th[i] for i in zero}  # μ_i = λ − θ_i ≥ 0 (g'(0) = 0)
    P = sp.symbols(f"P_1:{len(free) + 1}", positive=True)
    sub1 = {th[i]: (P[j] ** (a - 1) + TAU) / (a - 1) for j, i in enumerate(free)}
    sub2 = {P[-1]: 1 - sum(P[:-1])}
    return Case(loss, n, 1, th, tuple(free), (), zero, tuple(yhat), TAU / (a - 1), mult,
                tau=TAU, constraint=G, P=P, canon=[sub1, sub2])


def patterns(loss: str, n: int, k: int = 1):
    """Every KKT pattern (free, upper, zero) of ŷ for n coordinates."""
    idx = range(n)
    L = member(loss)
    if L.dense:
        yield tuple(idx), (), ()
        return
    if not L.capped:
        for s in range(1, n + 1):
            for S in itertools.combinations(idx, s):
                yield S, (), tuple(i for i in idx if i not in S)
        return
    for lab in itertools.product("FUZ", repeat=n):
        F = tuple(i for i in idx if lab[i] == "F")
        U = tuple(i for i in idx if lab[i] == "U")
        Z = tuple(i for i in idx if lab[i] == "Z")
        if (not F and len(U) == k) or (F and 0 < k - len(U) < len(F)):
            yield F, U, Z


_CACHE: dict = {}


def solve_case(loss: str, n: int, free, upper=(), zero=(), k: int = 1) -> Case:
    key = (loss, n, tuple(free), tuple(upper), tuple(zero), k)
    if key not in _CACHE:
        L = member(loss)
        if L.dense:
            _CACHE[key] = _solve_softmax(loss, n)
        elif L.tsallis:
            _CACHE[key] = _solve_entmax(loss, n, tuple(free))
        else:
            _CACHE[key] = _solve_linear(loss, n, k, free, upper, zero)
    return _CACHE[key]


def cases(loss: str, sizes=(2, 3, 4)):
    """All cases of a loss over the concrete sizes (on C_k: every k in [1, n−1])."""
    L = member(loss)
    if L.tsallis:  # one support per size s = 1..n (patterns agree up to permutation)
        for n in sizes:
            for s in range(1, n + 1):
                yield solve_case(loss, n, tuple(range(s)), (), tuple(range(s, n)))
        return
    for n in sizes:
        ks = range(1, n) if L.capped else (1,)
        for k in ks:
            for F, U, Z in patterns(loss, n, k):
                yield solve_case(loss, n, F, U, Z, k)


Candidate = Callable[[Case], object]
