"""FY-3: separation margins. L(θ; y) = 0 ⟺ ŷ(θ) = y (FY-2), so the margin is the
smallest score gap at which the one-hot (multi-hot for rankmax) KKT pattern is feasible."""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from audit import SuiteDefect
from audit.members import member

from .conjugates import derived_conjugate
from ..derivation import Derivation
from ..kkt import eq, ALPHA, TAU, all_true, check_loss, decide_zero, omega, solve_case

GAP = sp.Symbol("g", real=True)  # θ_y − θ_j
EPS = sp.Symbol("epsilon", positive=True)


def _gap_multiplier(loss: str):
    """(multiplier whose sign decides the pattern, as a function of the gap g; L on the pattern).

    sparsemax / entmax: support {y}, j off it: μ_j = λ − θ_j ≥ 0.
    rankmax: Y = upper set, j ∉ Y: ν_i + μ_j = (θ_i − 1 − λ) + (λ − θ_j) ≥ 0 for every pair
    i ∈ Y, j ∉ Y is exactly the condition that some λ makes every multiplier ≥ 0."""
    mem = member(loss)  # ``L`` names the loss value here
    if mem.capped:
        c = solve_case(loss, 4, (), (0, 1), (2, 3), k=2)  # k = 2, Y = {1, 2}
        i, j = 0, 2
        comb = c.mult[i] + c.mult[j]
        comb = comb.subs(c.theta[j], c.theta[i] - GAP)
        y = [1 if t in c.upper else 0 for t in range(c.n)]
    else:
        c = solve_case(loss, 2, (0,), (), (1,))
        lam = c.lam
        if mem.tsallis:  # Σ_S ŷ = 1 on S = {y}, solved for τ
            (tau,) = sp.solve(c.constraint, TAU)
            lam = lam.subs(TAU, tau)
        comb = (lam - c.theta[1]).subs(c.theta[1], c.theta[0] - GAP)
        y = [1, 0]
    conj = derived_conjugate(c)
    if mem.tsallis:
        conj = conj.subs(TAU, tau)
    L = conj + omega(loss, y) - sum(t * yi for t, yi in zip(c.theta, y))
    return sp.simplify(comb), L, c


def check_margin(loss: str, m) -> bool | None:
    """Decide that ``m`` is the separation margin: at gap g = m the label's KKT pattern is
    feasible with a vanishing multiplier (so g ≥ m is exactly feasibility) and L = 0 there,
    while every gap g = m − ε < m is infeasible.  Softmax: L(θ; e_y) at gap m, other scores
    equal, is decided non-zero, so no finite m is a margin."""
    check_loss(loss)
    m = sp.sympify(m)
    if member(loss).dense:  # full support, so ŷ ≠ e_y; the L below is that of g = p log p, the one dense member
        n = 3
        th = sp.symbols(f"theta_1:{n + 1}", real=True)
        L = sp.log(sum(sp.exp(t) for t in th)) - th[0]
        Lm = L.subs({th[0]: m, th[1]: 0, th[2]: 0})
        return decide_zero(None, Lm)
    comb, L, c = _gap_multiplier(loss)
    at_m = decide_zero(None, comb.subs(GAP, m))
    a1 = sp.Symbol("a", positive=True)  # α = 1 + a, a > 0, for sign decisions
    below = sp.simplify(comb.subs(GAP, m - EPS).subs(ALPHA, 1 + a1)).is_negative
    zero_L = decide_zero(c, L)
    return all_true([at_m, below, zero_L])


_STMT = {
    "sparsemax": r"$L(\theta; e_y) = 0 \iff \theta_y \ge \max_{j \ne y} \theta_j + 1$ (margin 1)",
    "entmax": r"$L(\theta; e_y) = 0 \iff \theta_y \ge \max_{j \ne y} \theta_j + 1/(\alpha-1)$ "
              r"(margin $1/(\alpha-1)$, symbolic in $\alpha$)",
    "rankmax": r"rankmax ($k = 1$) margin 1; for general $k$ and multi-hot $y$ with support $Y$, $|Y| = k$: "
               r"$\hat y = y$ ($L = 0$) $\iff \min_{i \in Y} \theta_i \ge \max_{j \notin Y} \theta_j + 1$ (margin 1)",
    "softmax": r"softmax has no separation margin: "
               r"$L(\theta; e_y) = \log(1 + \sum_{j \ne y} \exp(\theta_j - \theta_y)) > 0$ for every finite $\theta$",
}
_SUMMARY = {  # one line: the statements (with the derived and claimed margins appended) run longer
    "sparsemax": r"$L(\theta; e_y) = 0 \iff \theta_y \ge \max_{j \ne y} \theta_j + m$ with derived margin",
    "entmax": r"$L(\theta; e_y) = 0 \iff \theta_y \ge \max_{j \ne y} \theta_j + m$ with derived margin",
    "rankmax": r"$\hat y = y \iff \min_{i \in Y} \theta_i \ge \max_{j \notin Y} \theta_j + m$ with derived margin",
}
_FINITE = r"$\theta \in \mathbb{R}^n$ finite"


#: the margin each row states (CLAIMS.md FY-3), read by :func:`margin` at call time; softmax: none
STATED = {"softmax": None, "sparsemax": sp.S.One, "rankmax": sp.S.One, "entmax": 1 / (ALPHA - 1)}
_WITNESS_ALPHA = sp.Rational(3, 2)  # where an α-dependent margin is evaluated for a numeric witness


def _witness(loss: str, claimed: sp.Expr, derived: sp.Expr) -> dict | None:
    """A score vector between the claimed and the derived margin, as the numeric check
    stores it (re-checked by reports/rechecks/fy.py): above a too-small claimed margin the
    claim says ŷ = y but ŷ ≠ y ("plus"); below a too-large one the claim says ŷ ≠ y but
    ŷ = y ("minus").  n = 2 (rankmax: n = 3, k = 2), label first; α = 3/2 where α enters."""
    sub = {ALPHA: _WITNESS_ALPHA}
    c, m = sp.nsimplify(claimed.subs(sub)), derived.subs(sub)
    if not (c.is_number and m.is_number) or c == m:
        return None
    gap = (c + m) / 2
    side = "plus" if c < m else "minus"
    mem = member(loss)
    params = {"alpha": float(_WITNESS_ALPHA)} if mem.tsallis else {"k": 2} if mem.capped else {}
    g = float(gap)
    theta, y = ([g, g, 0.0], [1.0, 1.0, 0.0]) if mem.capped else ([g, 0.0], [1.0, 0.0])
    return {"theta": theta, "y": y, **params, "side": side, "eps": float(abs(c - gap)), "claimed_margin": float(c),
            "source": "symbolic"}


def _build_margin(loss: str, claimed) -> Derivation:
    d = Derivation(statement=_STMT[loss], scope="", assumptions=[_FINITE])
    mem = member(loss)
    if mem.dense:  # no margin; the steps below are those of g = p log p, the one dense member
        if claimed is not None:  # a finite margin claimed for softmax: L must vanish at that gap
            d.statement = f"softmax has separation margin ${sp.latex(sp.sympify(claimed))}$"
            d.scope = r"$n = 3$ with symbolic $\theta$ at the claimed gap, other scores equal"
            ok = check_margin(loss, claimed)
            d.step(r"$L(\theta; e_y)$ at the claimed gap, other scores 0 (sympy):",
                   r"\log\left(1+(n-1)e^{-m}\right)" + (r"=0" if ok else r"\ne0"))
            return d.decide(ok)
        d.scope = (r"symbolic in $n$ ($S = \sum_{j \ne y} e^{\theta_j - \theta_y} > 0$ as a symbol); $n = 2, 3, 4$ "
                   r"with symbolic $\theta$")
        d.assumptions.append(r"$\Omega(e_y) = 0$")
        res = []
        for n in (2, 3, 4):
            th = sp.symbols(f"theta_1:{n + 1}", real=True)
            L = sp.log(sum(sp.exp(t) for t in th)) - th[0]  # Ω* + Ω(e_1) − θ_1
            form = sp.log(1 + sum(sp.exp(t - th[0]) for t in th[1:]))
            res.append(decide_zero(None, sp.simplify(sp.exp(L) - sp.exp(form))))
            res.append(form.is_positive)
        d.step(r"$L(\theta; e_y) = \operatorname{logsumexp}(\theta) - \theta_y$ rewritten (sympy, $n = 2, 3, 4$):",
               eq("L", form))
        S = sp.Symbol("S", positive=True)
        res.append(sp.log(1 + S).is_positive)
        d.step(r"$S = \sum_{j \ne y} e^{\theta_j - \theta_y} > 0$ for finite $\theta$, and sympy decides "
               r"($\texttt{is\_positive}$):", r"\log(1+S)>0")
        d.step(r"so $\hat y \ne e_y$ and $L > 0$ at every finite $\theta$: no finite gap gives zero loss.")
        return d.decide(all_true(res))
    claimed = sp.sympify(claimed, locals={"alpha": ALPHA})
    comb, L, c = _gap_multiplier(loss)
    (m,) = sp.solve(sp.Eq(comb, 0), GAP)
    if mem.capped:
        d.scope = (r"symbolic in $\theta$ for a generic pair $i \in Y$, $j \notin Y$ (any $n$, $k$): $\lambda$ cancels "
                   r"from $\nu_i + \mu_j$; shown on $n = 4$, $k = 2$; $k = 1$ is the sparsemax case with the cap "
                   "inactive")
        d.assumptions += [r"$y$ multi-hot with $|Y| = k$, $1 \le k \le n - 1$",
                          r"pattern $U = Y$, $F = \emptyset$, $Z = [n] \setminus Y$"]
        d.step(r"KKT of $\hat y = y$: $\nu_i = \theta_i - 1 - \lambda \ge 0$ on $Y$, "
               r"$\mu_j = \lambda - \theta_j \ge 0$ off $Y$; some $\lambda$ exists iff for all pairs",
               r"\nu_i+\mu_j=" + sp.latex(comb.subs(GAP, sp.Symbol("g"))) + r",\quad g=\theta_i-\theta_j")
    else:
        d.scope = (r"symbolic in $\theta$" + (r" and $\alpha$" if mem.tsallis else "") +
                   r" for the pair $(y, j)$, $j \ne y$ generic, so any $n$")
        d.assumptions += [r"$y$ one-hot $e_y$", r"support $S = \{y\}$"] + (
            [r"$\alpha > 1$ (symbolic)"] if mem.tsallis else [])
        d.step(r"KKT on $S = \{y\}$: $\sum_S \hat y = 1$ fixes the multiplier; off-support multiplier at gap "
               r"$g = \theta_y - \theta_j$:",
               eq(r"\mu_j", comb))
    d.step(r"The pattern is feasible iff the multiplier is $\ge 0$; sympy solves its boundary:", sp.Eq(GAP, m))
    d.step(r"On the pattern the loss vanishes ($\Omega^*$ from FY-1):", eq("L", sp.simplify(L)))
    d.step(r"Below the margin ($g = m - \varepsilon$, $\varepsilon > 0$) the multiplier is negative, so "
           r"$\hat y \ne y$ and $L > 0$ (FY-2).")
    margins = f"$m = {sp.latex(sp.simplify(m))}$ (claimed ${sp.latex(claimed)}$)"
    d.statement += "; derived margin " + margins
    d.summary = f"{_SUMMARY[loss]} {margins}"
    ok = check_margin(loss, claimed)
    same = decide_zero(None, m - claimed)
    if None not in (ok, same) and ok != same:  # two routes of ours decide "is the claimed margin the margin?"
        raise SuiteDefect(f"FY-3 margin({loss}): check_margin says {ok}, the derived margin {sp.sstr(m)} against the "
                          f"claimed {sp.sstr(claimed)} says {same}")
    d.step(r"The claimed margin against the derived one ($\texttt{check\_margin}$: feasible with a vanishing "
           "multiplier at the claimed gap, infeasible just below it):", sp.Eq(sp.Symbol("m_claimed"), claimed))
    out = all_true([ok, same])
    if out is False:
        d.counterexample = _witness(loss, claimed, m)
    return d.decide(out)


@lru_cache(maxsize=None)
def _margin(loss: str, claimed) -> Derivation:
    return _build_margin(loss, claimed)


_margin.keep_across_planted = True  # type: ignore[attr-defined]  # reads no losses/ code; keyed by the margin


def margin(loss: str) -> Derivation:
    """FY-3: the separation margin, derived from the KKT conditions and compared with the
    margin the row states (:data:`STATED`, looked up at call time; for softmax a finite
    stated margin is tested against "no margin")."""
    check_loss(loss)
    return copy.deepcopy(_margin(loss, STATED[loss]))
