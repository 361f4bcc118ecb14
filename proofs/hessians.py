"""Hessian of Ω* = Jacobian of ŷ (FY-2 convexity, FY-4 smoothness), and its PSD-ness.

The stated Hessian is one form for every loss, δ_li w_l − w_l w_i / W with the loss's
weights w (softmax p with W = Σp = 1; sparsemax / rankmax 1 on the free set, W = |F|;
entmax s = ŷ^{2−α} on the support, W = Σs).  A candidate form
(:data:`proofs.fy_generic.HessianForm`) is checked against the Jacobian of the KKT
solution on a region of symbolic size (proofs/fy_generic.py) and on every KKT pattern of
small n, and its quadratic form against the weighted variance Σ w (x − x̄)² ≥ 0."""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from .derivation import Derivation, agree
from .fy_generic import HessianForm, jacobian_identity, psd_identity, stated_form
from .kkt import ALPHA, Case, Candidate, all_true, cases, check_loss, decide_zero, eq

SIZES = {"softmax": (2, 3, 4), "sparsemax": (2, 3, 4), "entmax": (4,), "rankmax": (2, 3, 4)}


def weights(case: Case) -> list:
    """w with J_ŷ = diag(w) − w wᵀ/Σw: p (softmax), 1 on S / F (sparsemax, rankmax),
    s_i = ŷ_i^{2−α} on S (entmax); 0 elsewhere."""
    if case.loss == "softmax":
        return list(case.yhat)
    if case.loss == "entmax":
        return [case.yhat[i] ** (2 - ALPHA) if i in case.free else sp.S.Zero for i in range(case.n)]
    return [sp.S.One if i in case.free else sp.S.Zero for i in range(case.n)]


def _wsum(case: Case, w: list) -> sp.Expr:
    return sp.S.One if case.loss == "softmax" else sum(w)


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
_SCOPE = ("Jacobian symbolic in the support / free-set size (generic coordinates l, i ∈ F, sympy sums{a}); "
          "PSD by the weighted-variance identity for positive weights on a block of symbolic size; "
          "cross-checked entrywise on every KKT pattern of {sizes} with symbolic θ")


def _build_hessian(loss: str, candidate: HessianForm) -> Derivation:
    sizes = "n = 4, supports of size 1..4" if loss == "entmax" else \
        "n = 2, 3, 4" + (", every k ∈ [1, n−1]" if loss == "rankmax" else "")
    d = Derivation(
        statement={
            "softmax": "∇²Ω*(θ) = J_softmax = diag(p) − ppᵀ, PSD",
            "sparsemax": "∇²Ω*(θ) = I_S − 11ᵀ/|S| on the support (0 elsewhere), PSD",
            "entmax": "∇²Ω*(θ) = diag(s) − ssᵀ/Σs with s_i = ŷ_i^{2−α} on the support (0 elsewhere), PSD",
            "rankmax": "∇²Ω*(θ) = I_F − 11ᵀ/|F| on the free set F = {0 < ŷ_i < 1} (0 elsewhere), PSD",
        }[loss],
        scope=_SCOPE.format(a=" and α > 1, τ(θ) implicit" if loss == "entmax" else "", sizes=sizes),
        assumptions=["θ ∈ R^n finite", "θ in the interior of a region with fixed KKT pattern "
                     "(ŷ is piecewise smooth; on region boundaries the one-sided Jacobians are these forms)",
                     "ŷ is constant on U and Z, and ŷ_F does not depend on θ_U, θ_Z (the mass constraint sums over F)"],
    )
    wl, wi, W = sp.symbols("w_l w_i W", positive=True)
    d.step("Candidate entry, with the loss's weights w and W = Σ_F w:",
           eq(r"H_{li}", candidate(sp.Symbol(r"\delta_{li}"), wl, wi, W)))
    if loss == "entmax":
        d.assumptions.append("α > 1 (symbolic)")
        d.step("Differentiating the normalisation Σ_S ŷ_j(θ, τ(θ)) = 1 implicitly:",
               r"\frac{\partial\tau}{\partial\theta_i}=\frac{(\alpha-1)\,s_i}{\sum_{j\in S}s_j},\quad s_i=\hat y_i^{\,2-\alpha}")
    gen = jacobian_identity(loss, candidate)
    d.step("dŷ_l/dθ_i − H_li on a free set of symbolic size (sympy, KroneckerDelta δ_li): "
           + {True: "simplifies to 0", False: "does not vanish", None: "undecided"}[gen.ok], _STATED[loss])
    if gen.ok is False:
        return d.decide(False)
    if loss != "entmax":
        c = next(c for c in cases(loss, (3,)) if len(c.free) >= 2)
        d.step(f"Jacobian of the KKT solution ŷ(θ) (n = 3, free set {{{', '.join(str(i + 1) for i in c.free)}}}):",
               jacobian(c))
    match = check_hessian(loss, form_on_case(candidate))
    agree(f"hessian({loss})", gen.ok, match)
    d.step("Cross-check: J_ŷ − H = 0 entrywise on every KKT pattern of the stated sizes: "
           + ("holds" if match else "fails" if match is False else "undecided") + ".")
    psd = psd_identity(loss, candidate)
    nonneg = _weighted_squares_nonneg()
    d.step("Quadratic form as a weighted variance on a block of symbolic size (sympy), non-negative since w ≥ 0:",
           r"x^\top H x=\sum_i w_i(x_i-\bar x)^2\ \ge 0,\quad \bar x=\frac{\sum_i w_ix_i}{\sum_i w_i}")
    return d.decide(all_true([gen.ok, match, psd.ok, nonneg]))


@lru_cache(maxsize=None)
def _hessian(loss: str) -> Derivation:
    return _build_hessian(loss, stated_form)


_hessian.keep_across_planted = True  # type: ignore[attr-defined]  # reads no losses/ code


def hessian(loss: str, candidate: HessianForm | None = None) -> Derivation:
    """Hessian of Ω* (= Jacobian of ŷ) and its positive semidefiniteness; ``candidate``
    (δ_li, w_l, w_i, W) → entry replaces the stated form δ_li w_l − w_l w_i/W."""
    check_loss(loss)
    if candidate is None:
        return copy.deepcopy(_hessian(loss))
    return _build_hessian(loss, candidate)
