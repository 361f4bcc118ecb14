"""Hessian of Ω* = Jacobian of ŷ (FY-2 convexity, FY-4 smoothness), and its PSD-ness.

The stated Hessian is one form for every loss, δ_li w_l − w_l w_i / W with the loss's
weights w (softmax p with W = Σp = 1; sparsemax / rankmax 1 on the free set, W = |F|;
entmax s = ŷ^{2−α} on the support, W = Σs).  A candidate form
(:data:`proofs.fy.identities.HessianForm`) is checked against the Jacobian of the KKT
solution on a region of symbolic size (proofs/fy/identities.py) and on every KKT pattern of
small n, and its quadratic form against the weighted variance Σ w (x − x̄)² ≥ 0."""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from audit.members import member

from ..derivation import Derivation, agree
from .identities import HessianForm, jacobian_identity, psd_identity, stated_form
from ..kkt import ALPHA, Case, Candidate, all_true, cases, check_loss, decide_zero, eq

SIZES = {"softmax": (2, 3, 4), "sparsemax": (2, 3, 4), "entmax": (4,), "rankmax": (2, 3, 4)}


def weights(case: Case) -> list:
    """w with J_ŷ = diag(w) − w wᵀ/Σw: p (softmax), 1 on S / F (sparsemax, rankmax),
    s_i = ŷ_i^{2−α} on S (entmax); 0 elsewhere: w_i = 1/g''(ŷ_i) on the free set."""
    L = member(case.loss)
    if L.dense:
        return list(case.yhat)
    if L.tsallis:
        return [case.yhat[i] ** (2 - ALPHA) if i in case.free else sp.S.Zero for i in range(case.n)]
    return [sp.S.One if i in case.free else sp.S.Zero for i in range(case.n)]


def _wsum(case: Case, w: list) -> sp.Expr:
    return sp.S.One if member(case.loss).dense else sum(w)  # w = ŷ on the full support: Σw = 1


def form_on_case(candidate: HessianForm) -> Candidate:
    """The candidate form as an n × n matrix on a concrete case (zero where w = 0)."""
    def build(case: Case) -> sp.Matrix:
        w = weights(case)
        W = _wsum(case, w)
        if W == 0:  # rankmax with no free coordinate: ŷ locally constant
            return sp.zeros(case.n, case.n)
        return sp.Matrix(case.n, case.n, lambda i, j: candidate(sp.S.One if i == j else sp.S.Zero, w[i], w[j], W)
                         if w[i] != 0 and w[j] != 0 else sp.S.Zero)
    return build


def stated_hessian(case: Case) -> sp.Matrix:
    """The Hessian as stated: diag(p) − ppᵀ; I_S − 11ᵀ/|S|; diag(s) − ssᵀ/Σs; I_F − 11ᵀ/|F|."""
    return form_on_case(stated_form)(case)


def jacobian(case: Case) -> sp.Matrix:
    """J_ji = dŷ_j/dθ_i on the case's region (entmax: τ(θ) by implicit differentiation)."""
    return sp.Matrix(case.n, case.n, lambda j, i: case.d(case.yhat[j], i))


def check_hessian(loss: str, candidate: Candidate, sizes=None) -> bool | None:
    """Decide J_ŷ(θ) == candidate(case) on every case of the concrete sizes."""
    check_loss(loss)
    res = []
    for case in cases(loss, sizes or SIZES[loss]):
        J, C = jacobian(case), sp.Matrix(candidate(case))
        if C.shape != J.shape:
            return False
        for j in range(case.n):
            for i in range(case.n):
                res.append(decide_zero(case, J[j, i] - C[j, i]))
                if res[-1] is False:
                    return False
    return all_true(res)


def _weighted_squares_nonneg(n: int = 4) -> bool | None:
    w = sp.symbols(f"w_1:{n + 1}", nonnegative=True)
    x = sp.symbols(f"x_1:{n + 1}", real=True)
    m = sp.Symbol("m", real=True)
    return sp.Add(*[wi * (xi - m) ** 2 for wi, xi in zip(w, x)]).is_nonnegative


_STATED = {
    "softmax": r"\nabla^2\Omega^*(\theta)=\operatorname{diag}(p)-pp^\top",
    "sparsemax": r"\nabla^2\Omega^*(\theta)=I_S-\tfrac{1}{|S|}\mathbf 1_S\mathbf 1_S^\top",
    "entmax": r"\nabla^2\Omega^*(\theta)=\operatorname{diag}(s)-\frac{ss^\top}{\sum_j s_j},\ s_i=\hat y_i^{\,2-\alpha}\ (i\in S)",
    "rankmax": r"\nabla^2\Omega^*(\theta)=I_F-\tfrac{1}{|F|}\mathbf 1_F\mathbf 1_F^\top",
}
_SCOPE = ("Jacobian symbolic in the support / free-set size (generic coordinates $l, i \\in F$, sympy sums{a}); "
          "PSD by the weighted-variance identity for positive weights on a block of symbolic size; "
          "cross-checked entrywise on every KKT pattern of {sizes} with symbolic $\\theta$")
_STATEMENT = {
    "softmax": r"$\nabla^2\Omega^*(\theta) = J_{\mathrm{softmax}} = \operatorname{diag}(p) - pp^\top$, PSD",
    "sparsemax": r"$\nabla^2\Omega^*(\theta) = I_S - \mathbf{1}\mathbf{1}^\top/|S|$ on the support (0 elsewhere), PSD",
    "entmax": r"$\nabla^2\Omega^*(\theta) = \operatorname{diag}(s) - ss^\top/\sum_j s_j$ with "
              r"$s_i = \hat y_i^{2-\alpha}$ on the support (0 elsewhere), PSD",
    "rankmax": r"$\nabla^2\Omega^*(\theta) = I_F - \mathbf{1}\mathbf{1}^\top/|F|$ on the free set "
               r"$F = \{i : 0 < \hat y_i < 1\}$ (0 elsewhere), PSD",
}


def _build_hessian(loss: str, candidate: HessianForm) -> Derivation:
    L = member(loss)
    sizes = "$n = 4$, supports of size 1..4" if L.tsallis else \
        "$n = 2, 3, 4$" + (r", every $k \in [1, n-1]$" if L.capped else "")
    d = Derivation(
        statement=_STATEMENT[loss],
        scope=_SCOPE.format(a=r" and $\alpha > 1$, $\tau(\theta)$ implicit" if L.tsallis else "", sizes=sizes),
        assumptions=[r"$\theta \in \mathbb{R}^n$ finite",
                     r"$\theta$ in the interior of a region with fixed KKT pattern ($\hat y$ is piecewise smooth; "
                     r"on region boundaries the one-sided Jacobians are these forms)",
                     r"$\hat y$ is constant on $U$ and $Z$, and $\hat y_F$ does not depend on $\theta_U$, $\theta_Z$ "
                     r"(the mass constraint sums over $F$)"],
    )
    wl, wi, W = sp.symbols("w_l w_i W", positive=True)
    d.step(r"Candidate entry, with the loss's weights $w$ and $W = \sum_F w$:",
           eq(r"H_{li}", candidate(sp.Symbol(r"\delta_{li}"), wl, wi, W)))
    if L.tsallis:
        d.assumptions.append(r"$\alpha > 1$ (symbolic)")
        d.step(r"Differentiating the normalisation $\sum_S \hat y_j(\theta, \tau(\theta)) = 1$ implicitly:",
               r"\frac{\partial\tau}{\partial\theta_i}=\frac{(\alpha-1)\,s_i}{\sum_{j\in S}s_j},\quad s_i=\hat y_i^{\,2-\alpha}")
    gen = jacobian_identity(loss, candidate)
    d.step(r"$d\hat y_l/d\theta_i - H_{li}$ on a free set of symbolic size (sympy, Kronecker delta $\delta_{li}$): "
           + {True: "simplifies to 0", False: "does not vanish", None: "undecided"}[gen.ok], _STATED[loss])
    if gen.ok is False:
        return d.decide(False)
    if not L.tsallis:  # an explicit Jacobian to show; the Tsallis one carries the implicit τ
        c = next(c for c in cases(loss, (3,)) if len(c.free) >= 2)
        d.step(r"Jacobian of the KKT solution $\hat y(\theta)$ ($n = 3$, free set "
               f"$\\{{{', '.join(str(i + 1) for i in c.free)}\\}}$):",
               jacobian(c))
    match = check_hessian(loss, form_on_case(candidate))
    agree(f"hessian({loss})", gen.ok, match)
    d.step(r"Cross-check: $J_{\hat y} - H = 0$ entrywise on every KKT pattern of the stated sizes: "
           + ("holds" if match else "fails" if match is False else "undecided") + ".")
    psd = psd_identity(loss, candidate)
    nonneg = _weighted_squares_nonneg()
    d.step(r"Quadratic form as a weighted variance on a block of symbolic size (sympy), non-negative since $w \ge 0$:",
           r"x^\top H x=\sum_i w_i(x_i-\bar x)^2\ \ge 0,\quad \bar x=\frac{\sum_i w_ix_i}{\sum_i w_i}")
    return d.decide(all_true([gen.ok, match, psd.ok, nonneg]))


@lru_cache(maxsize=None)
def _hessian(loss: str, form: HessianForm) -> Derivation:
    return _build_hessian(loss, form)


_hessian.keep_across_planted = True  # type: ignore[attr-defined]  # reads no losses/ code; keyed by the form


def hessian(loss: str) -> Derivation:
    """Hessian of Ω* (= Jacobian of ŷ) and its positive semidefiniteness, deciding the
    stated entry form this module reads (``stated_form``: δ_li w_l − w_l w_i/W; looked up at
    call time, so a slip in it is what the derivation decides)."""
    check_loss(loss)
    return copy.deepcopy(_hessian(loss, stated_form))
