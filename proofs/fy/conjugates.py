"""FY-1 (conjugates Ω* and ŷ = ∇Ω* from the KKT conditions) and the symbolic part of
FY-2 (∇L = ŷ − y, shift invariance, L ≥ 0 with equality iff y = ŷ, convexity).

Each derivation has two routes to the same identities:

* **symbolic in n** (proofs/fy/identities.py): on a KKT region whose blocks F, U, Z have
  symbolic sizes, with sympy sums over them -- this is what covers every n (and every k,
  every α > 1);
* **every KKT pattern of small n** (proofs/kkt.py): the region's KKT system solved by
  sympy for n = 2, 3, 4 with symbolic θ -- a cross-check by a different solve.

Both take the same closed form of Ω* (a function of a few block sums,
:func:`proofs.fy.identities.closed_form`, read through this module's ``closed_form``), so a
wrong one -- a conjugate off by a constant, a τ-coefficient slip -- fails on both routes.
"""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from audit.members import member

from ..derivation import Derivation, agree
from .identities import ClosedForm, closed_form, concrete_sums, generic_sums, kkt_solution, conjugate_identities
from .identities import IDENTITY_TEXT, loss_identities
from ..kkt import ALPHA, TAU, Case, Candidate, all_true, cases, check_loss, decide_zero, eq, generator, omega

SIZES = {"softmax": (2, 3, 4), "sparsemax": (2, 3, 4), "entmax": (4,), "rankmax": (2, 3, 4)}
PROP_SIZES = {"softmax": (2, 3), "sparsemax": (2, 3), "entmax": (3,), "rankmax": (2, 3)}


# -- the derived closed forms of Ω* on a region -----------------------------------------
def derived_conjugate(case: Case) -> sp.Expr:
    """Ω* on the case's region, in closed form (entmax: in θ and the implicit τ(θ))."""
    return closed_form(case.loss, concrete_sums(case))


def on_cases(candidate: ClosedForm) -> Candidate:
    """A closed form in block sums, as a candidate on concrete KKT cases."""
    return lambda case: candidate(case.loss, concrete_sums(case))


def _fenchel_value(case: Case) -> sp.Expr:
    """⟨θ, ŷ⟩ − Ω(ŷ), the value of the argmax problem at its KKT point."""
    return sum(t * p for t, p in zip(case.theta, case.yhat)) - omega(case.loss, case.yhat)


def check_conjugate(loss: str, candidate: Candidate, sizes=None) -> bool | None:
    """Decide, on every KKT pattern of the concrete sizes, that ``candidate(case)`` equals
    ⟨θ,ŷ⟩ − Ω(ŷ) and that its gradient (τ = τ(θ) implicit for entmax) equals ŷ."""
    check_loss(loss)
    res = []
    for case in cases(loss, sizes or SIZES[loss]):
        cand = sp.sympify(candidate(case))
        res.append(decide_zero(case, cand - _fenchel_value(case)))
        if res[-1] is False:
            return False
        for i in range(case.n):
            res.append(decide_zero(case, case.d(cand, i) - case.yhat[i]))
            if res[-1] is False:
                return False
    return all_true(res)


def _generic(d: Derivation, identities) -> bool | None:
    """Record each generic identity as a step; stop at the first refuted one."""
    res = []
    for name, v in identities:
        res.append(v.ok)
        d.step(f"{IDENTITY_TEXT[name]} (block sizes symbolic): "
               + {True: "simplifies to 0", False: "does not vanish", None: "undecided"}[v.ok] + ";")
        if v.ok is False:
            break
    return all_true(res)


_GENERIC_SCOPE = ("symbolic in the block sizes $f = |F|$, $u = |U|$, $z = |Z|$ (so every $n${k}){a}, by sympy sums "
                  "over index sets of symbolic size; cross-checked on every KKT pattern of {sizes} with symbolic "
                  "$\\theta$")


def _scope(loss: str, sizes) -> str:
    L = member(loss)
    n = sizes[-1]
    where = f"$n = {n}$, supports of size 1..{n} (every pattern of $n \\le {n}$ up to permutation)" \
        if L.tsallis else \
        f"$n = {', '.join(map(str, sizes))}$" + (r" and every $k \in [1, n-1]$" if L.capped else "")
    return _GENERIC_SCOPE.format(k=", every $k$" if L.capped else "",
                                 a=r" and $\alpha > 1$" if L.tsallis else "", sizes=where)


_CONJ = r"$\Omega^* = \langle\theta,\hat y\rangle - \Omega(\hat y)$ and $\nabla\Omega^* = \hat y$"
_STATEMENT = {
    "softmax": r"$\Omega(p) = \sum_j p_j \log p_j$ on $\Delta$: KKT gives $\hat y = \operatorname{softmax}(\theta)$, "
               r"$\Omega^* = \operatorname{logsumexp}(\theta) = \langle\theta,\hat y\rangle - \Omega(\hat y)$, "
               r"$\nabla\Omega^* = \hat y$",
    "sparsemax": r"$\Omega(p) = \tfrac12\lVert p\rVert^2 - \tfrac12$ on $\Delta$: KKT gives "
                 r"$\hat y = [\theta - \tau]_+$, $\tau = (\sum_S \theta - 1)/|S|$; "
                 r"$\Omega^* = \tfrac12\sum_S \theta^2 - (\sum_S \theta - 1)^2/(2|S|) + \tfrac12 "
                 r"= \langle\theta,\hat y\rangle - \Omega(\hat y)$, $\nabla\Omega^* = \hat y$",
    "entmax": r"$\Omega$ = Tsallis $\alpha$-entropy on $\Delta$: KKT gives "
              r"$\hat y = [(\alpha-1)\theta - \tau]_+^{1/(\alpha-1)}$ with $\sum_j \hat y_j = 1$; "
              r"$\Omega^* = ((\alpha-1)/\alpha)\langle\theta,\hat y\rangle + (1+\tau)/(\alpha(\alpha-1)) "
              r"= \langle\theta,\hat y\rangle - \Omega(\hat y)$, $\nabla\Omega^* = \hat y$",
    "rankmax": r"$\Omega(p) = \tfrac12\lVert p\rVert^2$ on $C_k$: KKT gives "
               r"$\hat y = \operatorname{clip}(\theta - \tau, 0, 1)$; "
               r"$\Omega^* = \sum_U \theta - |U|/2 + \tfrac12\sum_F \theta^2 - (\sum_F \theta - k + |U|)^2/(2|F|) "
               r"= \langle\theta,\hat y\rangle - \Omega(\hat y)$, $\nabla\Omega^* = \hat y$",
}
#: one line each (the statements above run longer than the front table's line)
_SUMMARY = {
    "softmax": r"KKT gives $\hat y = \operatorname{softmax}(\theta)$ and $\Omega^* = \operatorname{logsumexp}$; "
               + _CONJ,
    "sparsemax": r"KKT gives $\hat y = [\theta - \tau]_+$ and $\Omega^*$ in closed form; " + _CONJ,
    "entmax": r"KKT gives $\hat y = [(\alpha-1)\theta - \tau]_+^{1/(\alpha-1)}$ and $\Omega^*$; " + _CONJ,
    "rankmax": r"KKT gives $\hat y = \operatorname{clip}(\theta - \tau, 0, 1)$ and $\Omega^*$; " + _CONJ,
}
_ASSUMPTIONS = {
    "softmax": [r"full support ($\Omega'(p) = \log p + 1 \to -\infty$ at 0 forces $p > 0$)"],
    "sparsemax": [r"support $S = F$ fixed, $|S| = f \ge 1$; off $S$: $\mu_j = \tau - \theta_j \ge 0$, i.e. "
                  r"$\theta_j \le \tau$, which is $[\theta_j - \tau]_+ = 0$"],
    "entmax": [r"$\alpha > 1$ (symbolic)", r"support $S = F$ fixed, $|S| = f \ge 1$",
               r"$\tau = \tau(\theta)$ defined implicitly by $\sum_S \hat y = 1$",
               r"off $S$: $\mu_j = \tau/(\alpha-1) - \theta_j \ge 0$, i.e. $(\alpha-1)\theta_j \le \tau$"],
    "rankmax": [r"$1 \le k \le n - 1$", r"pattern $(U, F, Z)$ fixed: $\hat y = 1$ on $U$, $0 < \hat y < 1$ on $F$, "
                r"$\hat y = 0$ on $Z$; multipliers $\nu_i = \theta_i - 1 - \tau \ge 0$ on $U$, "
                r"$\mu_j = \tau - \theta_j \ge 0$ on $Z$"],
}
_FINITE = r"$\theta \in \mathbb{R}^n$ finite"


def _sums_latex(loss: str) -> dict:
    """The block sums of :func:`proofs.fy.identities.closed_form` as display symbols."""
    L = member(loss)
    if L.dense:
        return {"Z": sp.Symbol(r"Z")}
    if L.tsallis:
        return {"D": sp.Symbol(r"\langle\theta,\hat y\rangle")}
    return {"A": sp.Symbol("A"), "B": sp.Symbol("B"), "f": sp.Symbol("f"), "T": sp.Symbol("T"),
            "u": sp.Symbol("u") if L.capped else 0, "k": sp.Symbol("k") if L.capped else 1}


def _build_conjugate(loss: str, candidate: ClosedForm) -> Derivation:
    d = Derivation(statement=_STATEMENT[loss], scope=_scope(loss, SIZES[loss]),
                   assumptions=[_FINITE] + _ASSUMPTIONS[loss], summary=_SUMMARY[loss])
    t, lam, p = sp.Symbol("theta_j", real=True), sp.Symbol("lambda", real=True), sp.Symbol("p_j", positive=True)
    d.step(r"Stationarity of the Lagrangian on the free set $F$ ($g$: $\Omega = \sum_j g(p_j) + \mathrm{const}$):",
           sp.Eq(t - sp.powsimp(sp.simplify(sp.diff(generator(loss, p), p)), force=True) - lam, 0))
    yhat, how = kkt_solution(loss)
    d.step("Solved by sympy with the mass constraint on a block of symbolic size $f$ (" + "; ".join(how) + "):",
           eq(r"\hat y_i", yhat))
    d.step(r"Closed form of $\Omega^*$ in block sums ($Z = \sum_F e^\theta$; $A = \sum_F \theta$, "
           r"$B = \sum_F \theta^2$, $T = \sum_U \theta$):",
           eq(r"\Omega^*(\theta)", candidate(loss, _sums_latex(loss))))
    if member(loss).tsallis:
        d.step(r"Derivatives through $\tau(\theta)$ by implicit differentiation of "
               r"$G(\theta, \tau) = \sum_{j \in F} \hat y_j - 1 = 0$; sums over $F$ re-expressed in canonical "
               r"variables $q_j = \hat y_j$ ($\sum_j q_j = 1$, $\sum_j q_j^{2-\alpha} = \sigma$):",
               r"\frac{\partial\tau}{\partial\theta_i}=-\frac{\partial G/\partial\theta_i}{\partial G/\partial\tau}")
    gen = _generic(d, conjugate_identities(loss, candidate))
    if gen is False:
        return d.decide(False)
    conc = check_conjugate(loss, on_cases(candidate))
    agree(f"FY-1 conjugate({loss})", gen, conc)
    d.step(r"Cross-check, every KKT pattern of the stated sizes (sympy solve per pattern): "
           r"$\Omega^* - (\langle\theta,\hat y\rangle - \Omega(\hat y))$ and "
           r"$\partial\Omega^*/\partial\theta_i - \hat y_i$",
           eq(r"\nabla\Omega^*(\theta)-\hat y", 0) if conc else r"\text{not zero}")
    return d.decide(all_true([gen, conc]))


@lru_cache(maxsize=None)
def _conjugate(loss: str, form: ClosedForm) -> Derivation:
    return _build_conjugate(loss, form)


# derivations read no losses/ code, and the cache is keyed by the closed form they decide: a
# closed form patched for a planted run (``closed_form`` of this module) is a different key
_conjugate.keep_across_planted = True  # type: ignore[attr-defined]


def conjugate(loss: str) -> Derivation:
    """FY-1: Ω* and ŷ = ∇Ω* from the KKT conditions, deciding the closed form of Ω* this
    module reads (``closed_form``, :func:`proofs.fy.identities.closed_form`; looked up at call
    time, so a slip in it is what the derivation decides)."""
    check_loss(loss)
    return copy.deepcopy(_conjugate(loss, closed_form))


# -- FY-2 --------------------------------------------------------------------------------
def _bregman_identity(case: Case, conj: Candidate) -> bool | None:
    """L(θ; y) = Σ_i [g(y_i) − g(ŷ_i) − g'(ŷ_i)(y_i − ŷ_i)] + Σ_Z μ_i y_i + Σ_U ν_i (1 − y_i)
    for every y with Σy = k (y_n eliminated)."""
    n, loss = case.n, case.loss
    y = sp.symbols(f"y_1:{n + 1}", positive=True)
    x = sp.Symbol("x", positive=True)
    g = generator(loss, x)
    gp = sp.diff(g, x)
    L = conj(case) + omega(loss, y) - sum(t * yi for t, yi in zip(case.theta, y))
    rhs = sp.S.Zero
    for i in range(n):
        p = case.yhat[i]
        if i in case.zero:
            rhs += g.subs(x, y[i]) + case.mult[i] * y[i]  # g(0) = g'(0) = 0
        elif i in case.upper:
            rhs += g.subs(x, y[i]) - g.subs(x, 1) - gp.subs(x, 1) * (y[i] - 1) + case.mult[i] * (1 - y[i])
        else:
            rhs += g.subs(x, y[i]) - g.subs(x, p) - gp.subs(x, p) * (y[i] - p)
    diff = (L - rhs).subs(y[-1], case.k - sum(y[:-1]))
    return decide_zero(case, diff)


def _shift(case: Case, conj: Candidate) -> bool | None:
    """Ω*(θ + c1) = Ω*(θ) + c·k (entmax: τ(θ + c1) = τ(θ) + (α−1)c, checked on G)."""
    c = sp.Symbol("c", real=True)
    cj = sp.sympify(conj(case))
    sub = {t: t + c for t in case.theta}
    res = []
    if case.tau is not None:
        sub[TAU] = TAU + (ALPHA - 1) * c
        res.append(decide_zero(case, case.constraint.subs(sub, simultaneous=True) - case.constraint))
    res.append(decide_zero(case, cj.subs(sub, simultaneous=True) - cj - c * case.k))
    return all_true(res)


def _gradient(case: Case, conj: Candidate) -> bool | None:
    y = sp.symbols(f"y_1:{case.n + 1}", real=True)
    L = conj(case) - sum(t * yi for t, yi in zip(case.theta, y))  # + Ω(y), constant in θ
    return all_true(decide_zero(case, case.d(L, i) - (case.yhat[i] - y[i])) for i in range(case.n))


def _build_loss_properties(loss: str, candidate: ClosedForm) -> Derivation:
    from .hessians import hessian  # convexity = PSD Hessian of Ω*

    L = member(loss)
    d = Derivation(
        statement=f"{loss}: " + r"$L(\theta;y) = \Omega^*(\theta) + \Omega(y) - \langle\theta,y\rangle$ has "
                  r"$\nabla_\theta L = \hat y - y$, $L(\theta + c\mathbf{1}; y) = L(\theta; y)$, $L \ge 0$ with "
                  r"$L = 0 \iff y = \hat y(\theta)$, and $L$ is convex in $\theta$",
        summary=f"{loss}: " + r"$\nabla_\theta L = \hat y - y$, shift invariance, $L \ge 0$ with "
                r"$L = 0 \iff y = \hat y$, $L$ convex",
        scope=_scope(loss, PROP_SIZES[loss]) + f"; convexity from the Hessian derivation of {loss} (hessian-psd)",
        assumptions=[_FINITE, r"$y \in \operatorname{dom}\Omega$ ("
                     + ("$C_k$" if L.capped else r"$\Delta$") + r"), so $\sum_j y_j = \sum_j \hat y_j$"],
    )
    d.step(r"$L$ with the closed form $\Omega^*$ of FY-1 (block sums as there):",
           eq(r"L(\theta;y)", candidate(loss, _sums_latex(loss)) + sp.Symbol(r"\Omega(y)")
              - sp.Symbol(r"\langle\theta,y\rangle")))
    gen = _generic(d, loss_identities(loss, candidate))
    if gen is False:
        return d.decide(False)
    conj = on_cases(candidate)
    cs = list(cases(loss, PROP_SIZES[loss]))
    grad = all_true(_gradient(c, conj) for c in cs)
    shift = all_true(_shift(c, conj) for c in cs)
    breg = all_true(_bregman_identity(c, conj) for c in cs)
    agree(f"FY-2 loss_properties({loss})", gen, all_true([grad, shift, breg]))
    d.step("Cross-check on every KKT pattern of the stated sizes (sympy): the gradient, the shift and the Bregman "
           "identity", r"\nabla_\theta L=\hat y-y,\quad L(\theta+c\mathbf 1;y)=L(\theta;y),\quad "
           r"L=\sum_i\big[g(y_i)-g(\hat y_i)-g'(\hat y_i)(y_i-\hat y_i)\big]+\sum_{Z}\mu_i y_i+\sum_{U}\nu_i(1-y_i)")
    x = sp.Symbol("x", positive=True)
    g2 = sp.simplify(sp.diff(generator(loss, x), x, 2))
    conv_g = g2.subs(ALPHA, 1 + sp.Symbol("a", positive=True)).is_positive if L.tsallis else g2.is_positive
    d.step(r"$g$ is strictly convex on $(0, \infty)$ ($\alpha > 1$), so each Bregman term is $\ge 0$ and $= 0$ only "
           r"at $y_i = \hat y_i$:",
           eq("g''(x)", g2))
    mu, yy = sp.Symbol("mu", nonnegative=True), sp.Symbol("y", nonnegative=True)
    w = sp.Symbol("w", nonnegative=True)  # w = 1 − y_i ≥ 0 on U
    mult_sign = all_true([(mu * yy).is_nonnegative, (mu * w).is_nonnegative])
    d.step(r"Multipliers $\mu_i, \nu_i \ge 0$ (KKT) and $0 \le y_i \le 1$ make the last sums $\ge 0$; hence",
           r"L(\theta;y)\ge0,\qquad L(\theta;y)=0\iff y=\hat y(\theta)")
    h = hessian(loss)
    d.step(r"Convexity: $\nabla^2_\theta L = \nabla^2\Omega^* = J_{\hat y}$ is PSD "
           f"(the Hessian derivation of {loss}: {h.decision}).")
    return d.decide(all_true([gen, grad, shift, breg, conv_g, mult_sign, h.decision == "holds" or
                              (None if h.decision == "undecided" else False)]))


@lru_cache(maxsize=None)
def _loss_properties(loss: str, form: ClosedForm) -> Derivation:
    return _build_loss_properties(loss, form)


_loss_properties.keep_across_planted = True  # type: ignore[attr-defined]  # keyed by the closed form


def loss_properties(loss: str) -> Derivation:
    """FY-2 (symbolic part), on the closed form of Ω* as for :func:`conjugate`."""
    check_loss(loss)
    return copy.deepcopy(_loss_properties(loss, closed_form))


__all__ = ["conjugate", "loss_properties", "check_conjugate", "derived_conjugate", "on_cases", "generic_sums"]
