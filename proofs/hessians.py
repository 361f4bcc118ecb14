"""Hessian of Ω* = Jacobian of ŷ (FY-2 convexity, FY-4 smoothness), and its PSD-ness."""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from .derivation import Derivation
from .kkt import ALPHA, TAU, Case, Candidate, all_true, cases, check_loss, decide_zero

SIZES = {"softmax": (2, 3, 4), "sparsemax": (2, 3, 4), "entmax": (4,), "rankmax": (2, 3, 4)}


def weights(case: Case) -> list:
    """w with J_ŷ = diag(w) − w wᵀ/Σw: p (softmax), 1 on S / F (sparsemax, rankmax),
    s_i = ŷ_i^{2−α} on S (entmax); 0 elsewhere."""
    if case.loss == "softmax":
        return list(case.yhat)
    if case.loss == "entmax":
        return [case.yhat[i] ** (2 - ALPHA) if i in case.free else sp.S.Zero for i in range(case.n)]
    return [sp.S.One if i in case.free else sp.S.Zero for i in range(case.n)]


def stated_hessian(case: Case) -> sp.Matrix:
    """The Hessian as stated: diag(p) − ppᵀ; I_S − 11ᵀ/|S|; diag(s) − ssᵀ/Σs; I_F − 11ᵀ/|F|."""
    w = weights(case)
    n = case.n
    if case.loss == "softmax":
        return sp.Matrix(n, n, lambda i, j: (w[i] if i == j else 0) - w[i] * w[j])
    W = sum(w)
    if W == 0:  # rankmax with no free coordinate: ŷ locally constant
        return sp.zeros(n, n)
    return sp.Matrix(n, n, lambda i, j: (w[i] if i == j else 0) - w[i] * w[j] / W)


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


def _psd_identity(n: int, normalised: bool) -> bool | None:
    """xᵀ(diag(w) − wwᵀ/Σw)x = Σ w_i (x_i − x̄)², x̄ = Σ w_i x_i / Σ w_i, for weights w > 0
    (every stated form has this shape: w = p with Σp = 1 for softmax, w = 1 on S / F,
    w = s for entmax; zero weights drop out)."""
    x = sp.symbols(f"x_1:{n + 1}", real=True)
    if normalised:  # softmax: w = p, Σp = 1
        p = sp.symbols(f"p_1:{n}", positive=True)
        w, W = list(p) + [1 - sum(p)], 1
        H = sp.diag(*w) - sp.Matrix(w) * sp.Matrix([w])
    else:
        w = list(sp.symbols(f"w_1:{n + 1}", positive=True))
        W = sum(w)
        H = sp.diag(*w) - sp.Matrix(w) * sp.Matrix([w]) / W
    xbar = sum(wi * xi for wi, xi in zip(w, x)) / W
    xv = sp.Matrix(x)
    quad = (xv.T * H * xv)[0, 0]
    return decide_zero(None, quad - sum(wi * (xi - xbar) ** 2 for wi, xi in zip(w, x)))


def _weighted_squares_nonneg(n: int = 4) -> bool | None:
    w = sp.symbols(f"w_1:{n + 1}", nonnegative=True)
    x = sp.symbols(f"x_1:{n + 1}", real=True)
    m = sp.Symbol("m", real=True)
    return sp.Add(*[wi * (xi - m) ** 2 for wi, xi in zip(w, x)]).is_nonnegative


def _entmax_implicit_symbolic() -> tuple[bool | None, sp.Expr]:
    """Generic coordinates i ≠ j ∈ S, σ = Σ_S s: G = Σ_S p − 1, ∂G/∂θ_i = s_i,
    ∂G/∂τ = −σ/(α−1) ⇒ dτ/dθ_i = (α−1)s_i/σ; dp_j/dθ_i = δ_ij s_j − s_j s_i/σ."""
    ti, tj = sp.symbols("theta_i theta_j", real=True)
    sig = sp.Symbol("sigma", positive=True)
    a = ALPHA
    pi = ((a - 1) * ti - TAU) ** (1 / (a - 1))
    pj = ((a - 1) * tj - TAU) ** (1 / (a - 1))
    Pi, Pj = sp.symbols("P_i P_j", positive=True)
    sub = {ti: (Pi ** (a - 1) + TAU) / (a - 1), tj: (Pj ** (a - 1) + TAU) / (a - 1)}
    si, sj = Pi ** (2 - a), Pj ** (2 - a)
    G_ti = sp.diff(pi, ti).subs(sub)
    G_tau_term = sp.diff(pj, TAU).subs(sub)  # one summand of ∂G/∂τ = Σ_j ∂p_j/∂τ
    ok1 = decide_zero(None, sp.expand(G_ti - si))
    ok2 = decide_zero(None, sp.expand(G_tau_term + sj / (a - 1)))
    dtau = -si / (-sig / (a - 1))
    Jji = sp.diff(pj, tj).subs(sub) * 0 + sp.diff(pj, TAU).subs(sub) * dtau  # i ≠ j
    ok3 = decide_zero(None, sp.expand(Jji + sj * si / sig))
    Jii = sp.diff(pi, ti).subs(sub) + sp.diff(pi, TAU).subs(sub) * dtau
    ok4 = decide_zero(None, sp.expand(Jii - (si - si * si / sig)))
    return all_true([ok1, ok2, ok3, ok4]), sp.simplify(dtau)


_STATED = {
    "softmax": r"\nabla^2\Omega^*(\theta)=\operatorname{diag}(p)-pp^\top",
    "sparsemax": r"\nabla^2\Omega^*(\theta)=I_S-\tfrac{1}{|S|}\mathbf 1_S\mathbf 1_S^\top",
    "entmax": r"\nabla^2\Omega^*(\theta)=\operatorname{diag}(s)-\frac{ss^\top}{\sum_j s_j},\ s_i=\hat y_i^{\,2-\alpha}\ (i\in S)",
    "rankmax": r"\nabla^2\Omega^*(\theta)=I_F-\tfrac{1}{|F|}\mathbf 1_F\mathbf 1_F^\top",
}
_SCOPE = {
    "softmax": "n = 2, 3, 4 with symbolic θ (PSD identity for n = 2, 3, 4 with symbolic p, Σp = 1)",
    "sparsemax": "n = 2, 3, 4 with symbolic θ, every support pattern; eigenvalues for |S| = 1..4",
    "entmax": "symbolic α; implicit differentiation symbolic in |S| (generic coordinates, σ = Σs); "
              "full Jacobian for n = 4, support S = {1..s}, s = 1..4 (every pattern of n ≤ 4 up to permutation)",
    "rankmax": "n = 2, 3, 4, every k ∈ [1, n−1], every (U, F, Z) pattern, symbolic θ; eigenvalues for |F| = 1..4",
}


@lru_cache(maxsize=None)
def _hessian(loss: str) -> Derivation:
    d = Derivation(
        statement={
            "softmax": "∇²Ω*(θ) = J_softmax = diag(p) − ppᵀ, PSD",
            "sparsemax": "∇²Ω*(θ) = I_S − 11ᵀ/|S| on the support (0 elsewhere), PSD",
            "entmax": "∇²Ω*(θ) = diag(s) − ssᵀ/Σs with s_i = ŷ_i^{2−α} on the support (0 elsewhere), PSD",
            "rankmax": "∇²Ω*(θ) = I_F − 11ᵀ/|F| on the free set F = {0 < ŷ_i < 1} (0 elsewhere), PSD",
        }[loss],
        scope=_SCOPE[loss] + "; PSD by the weighted-variance identity for symbolic weights w > 0, n ≤ 4",
        assumptions=["θ ∈ R^n finite", "θ in the interior of a region with fixed KKT pattern "
                     "(ŷ is piecewise smooth; on region boundaries the one-sided Jacobians are these forms)"],
    )
    if loss == "entmax":
        d.assumptions.append("α > 1 (symbolic)")
        ok_sym, dtau = _entmax_implicit_symbolic()
        d.step("Differentiating the normalisation Σ_S ŷ_j(θ, τ(θ)) = 1 implicitly:",
               r"\frac{\partial\tau}{\partial\theta_i}=\frac{(\alpha-1)\,s_i}{\sum_{j\in S}s_j},\quad s_i=\hat y_i^{\,2-\alpha}")
        d.step("so, with ∂ŷ_j/∂θ_i = δ_ij s_j and ∂ŷ_j/∂τ = −s_j/(α−1):",
               r"\frac{d\hat y_j}{d\theta_i}=\delta_{ij}s_j-\frac{s_is_j}{\sum_{l\in S}s_l}")
    else:
        ok_sym = True
        c = next(c for c in cases(loss, (3,)) if len(c.free) >= 2)
        d.step(f"Jacobian of the KKT solution ŷ(θ) (n = 3, free set {{{', '.join(str(i + 1) for i in c.free)}}}):",
               jacobian(c))
    match = check_hessian(loss, stated_hessian)
    d.step("sympy: J_ŷ − (stated form) = 0 entrywise on every case of the stated sizes:", _STATED[loss])
    ident = all_true(_psd_identity(n, loss == "softmax") for n in range(1 if loss != "softmax" else 2, 5))
    nonneg = _weighted_squares_nonneg()
    d.step("Quadratic form as a weighted variance (sympy identity), non-negative since w ≥ 0:",
           r"x^\top\nabla^2\Omega^*x=\sum_i w_i(x_i-\bar x)^2\ \ge 0,\quad \bar x=\frac{\sum_i w_ix_i}{\sum_i w_i}")
    eig = True
    if loss in ("sparsemax", "rankmax"):
        evs = {}
        for s in range(1, 5):
            M = sp.eye(s) - sp.ones(s, s) / s
            evs[s] = M.eigenvals()
            eig = eig and all(ev >= 0 for ev in evs[s])
        d.step("Eigenvalues of I_s − 11ᵀ/s (sympy, s = 1..4, as {value: multiplicity}):",
               r",\ ".join(f"s={s}:" + sp.latex(v) for s, v in evs.items()))
    return d.decide(all_true([ok_sym, match, ident, nonneg, eig]))


def hessian(loss: str) -> Derivation:
    """Hessian of Ω* (= Jacobian of ŷ) and its positive semidefiniteness."""
    return copy.deepcopy(_hessian(check_loss(loss)))
