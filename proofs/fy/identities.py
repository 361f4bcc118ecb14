"""The FY identities of every loss on a KKT region of symbolic size (proofs/generic.py).

For each loss the region has the blocks F (free / support), U (ŷ = 1, rankmax) and Z
(ŷ = 0; none for softmax, whose support is full), each of symbolic size, so every identity
below is decided for all n (and all k for rankmax) at once.  The closed form of Ω* is
written in a few sums over the blocks (:func:`closed_form`): the same function of the
same sums is evaluated on the concrete KKT cases of proofs/kkt.py
(:func:`concrete_sums`) and on the symbolic region (:func:`generic_sums`), so a
candidate closed form is checked by both routes.

* :func:`kkt_solution` -- ŷ on F from stationarity and the mass constraint, solved
  generically (softmax: e^{θ_i}/Σ_F e^θ; sparsemax/rankmax: θ_i − τ with
  τ = (Σ_F θ + u − k)/f; entmax: ((α−1)θ_i − τ)^{1/(α−1)} with τ implicit);
* :func:`conjugate_identities` (FY-1) -- Ω* = ⟨θ, ŷ⟩ − Ω(ŷ) and ∂Ω*/∂θ_i = ŷ_i for i in
  each block (entmax: τ(θ) by implicit differentiation of Σ_F ŷ = 1);
* :func:`loss_identities` (FY-2) -- ∇_θL = ŷ − y, L(θ + c1; y) = L(θ; y), and L equal to
  a sum of Bregman divergences of the generator g plus multiplier terms;
* :func:`jacobian_identity` -- dŷ_l/dθ_i = δ_li w_l − w_l w_i/W (candidate form) on F, and
  :func:`psd_identity`, xᵀ(candidate)x = Σ_F w (x − x̄)² for positive weights.
"""
from __future__ import annotations

from typing import Callable, Iterator

import sympy as sp

from audit.members import member

from ..generic import (
    F,
    I,
    J,
    K,
    L2,
    LAMBDA,
    MU,
    NU,
    Q,
    THETA,
    U,
    YV,
    Verdict,
    block_sum,
    d,
    decide,
    linear,
    map_sums,
    resolve,
    tidy,
)
from ..kkt import ALPHA, TAU, generator

ClosedForm = Callable[[str, dict], sp.Expr]
"""A candidate Ω*: (loss, sums) → expression (sums as in :func:`closed_form`)."""
HessianForm = Callable[[sp.Expr, sp.Expr, sp.Expr, sp.Expr], sp.Expr]
"""A candidate Hessian entry: (δ_li, w_l, w_i, W) → expression."""

ZS, AS, BS, US, SIGMA = sp.symbols("Z_F A_F B_F T_U sigma", positive=True)
C_SHIFT = sp.Symbol("c", real=True)
X = sp.IndexedBase("x", real=True)
W_ = sp.IndexedBase("w", positive=True)
WSUM = sp.Symbol("W", positive=True)


def blocks(loss: str) -> tuple[str, ...]:
    """F always; U where ŷ may sit at the cap 1 (C_k); Z where ŷ can have zeros (g′(0⁺) finite)."""
    L = member(loss)
    return ("F",) + (("U",) if L.capped else ()) + (("Z",) if L.sparse else ())


def _mass(loss: str) -> sp.Expr:
    return K if member(loss).capped else sp.S.One


def _u(loss: str) -> sp.Expr:
    return U if member(loss).capped else sp.S.Zero


# -- the closed form of Ω*, in sums over the blocks -------------------------------------------
def closed_form(loss: str, s: dict) -> sp.Expr:
    """Ω* as derived (FY-1): softmax log Z; sparsemax ½B − (A − 1)²/(2f) + ½;
    rankmax T − u/2 + ½B − (A − (k − u))²/(2f); entmax ((α−1)/α)D + (1 + τ)/(α(α−1)),
    with Z = Σ_F e^θ, A = Σ_F θ, B = Σ_F θ², T = Σ_U θ, D = Σ_F θ ŷ.  The quadratic form
    is one for Δ and C_k (u = 0, k = 1 on Δ); its constant is −c of Ω = Σ g + c."""
    L = member(loss)
    if L.dense:  # the closed form of g = p log p, the one dense member
        return sp.log(s["Z"])
    if L.tsallis:
        a = ALPHA
        return (a - 1) / a * s["D"] + (1 + TAU) / (a * (a - 1))
    out = s["T"] - s["u"] / 2
    if s["f"] != 0:
        out += s["B"] / 2 - (s["A"] - (s["k"] - s["u"])) ** 2 / (2 * s["f"])
    return out - L.offset


def concrete_sums(case) -> dict:
    """The sums of :func:`closed_form` on a concrete KKT case (proofs/kkt.py)."""
    th, Fs, Us = case.theta, case.free, case.upper
    L = member(case.loss)
    if L.dense:
        return {"Z": sum(sp.exp(t) for t in th)}
    if L.tsallis:
        return {"D": sum((th[i] * case.yhat[i] for i in Fs), sp.S.Zero)}
    return {"A": sum((th[i] for i in Fs), sp.S.Zero), "B": sum((th[i] ** 2 for i in Fs), sp.S.Zero),
            "f": len(Fs), "T": sum((th[i] for i in Us), sp.S.Zero), "u": len(Us), "k": case.k}


def _entmax_p(t: sp.Expr) -> sp.Expr:
    return ((ALPHA - 1) * t - TAU) ** (1 / (ALPHA - 1))


def generic_sums(loss: str) -> dict:
    """The sums of :func:`closed_form` as sympy sums over the symbolic blocks."""
    L = member(loss)
    if L.dense:
        return {"Z": block_sum(sp.exp(THETA[J]), "F")}
    if L.tsallis:
        return {"D": block_sum(THETA[J] * _entmax_p(THETA[J]), "F")}
    return {"A": block_sum(THETA[J], "F"), "B": block_sum(THETA[J] ** 2, "F"), "f": F,
            "T": block_sum(THETA[J], "U") if L.capped else sp.S.Zero, "u": _u(loss), "k": _mass(loss)}


def _to_symbols(loss: str) -> dict:
    """Sums of θ replaced by symbols once differentiation is done (none for the Tsallis member:
    its sums stay in θ until :func:`_entmax_canon`)."""
    L = member(loss)
    if L.dense:
        return {block_sum(sp.exp(THETA[J]), "F"): ZS}
    if L.tsallis:
        return {}
    return {block_sum(THETA[J], "F"): AS, block_sum(THETA[J] ** 2, "F"): BS, block_sum(THETA[J], "U"): US}


# -- the KKT solution on the region ---------------------------------------------------------
def omega_const(loss: str) -> sp.Expr:
    """c of Ω = Σ g + c (the constants of losses/regularizers.py)."""
    return member(loss).offset


def _gprime_at(loss: str, v: int) -> sp.Expr:
    """g'(0), g'(1) (α > 1 makes the Tsallis g'(0) = 0)."""
    x = sp.Symbol("x", positive=True)
    if member(loss).tsallis and v == 0:
        return sp.S.Zero
    return sp.diff(generator(loss, x), x).subs(x, v)


def kkt_solution(loss: str) -> tuple[sp.Expr, list[str]]:
    """ŷ_i (i ∈ F) solved from stationarity θ_j − g'(p_j) − λ = 0 on F and the mass
    constraint Σ_F p + u = k, by sympy on the symbolic block (the sum linearized).
    Returns (ŷ_i in θ and the block sums as symbols Z_F / A_F; τ implicit for entmax), steps."""
    p = sp.Symbol("p", positive=True)
    t = sp.Symbol("t", real=True)
    (p_of,) = sp.solve(sp.Eq(t - sp.diff(generator(loss, p), p) - LAMBDA, 0), p)
    if member(loss).tsallis:  # τ = (α−1)λ kept implicit: Σ_F ŷ = 1 has no closed form in τ
        solved = p_of.subs(LAMBDA, TAU / (ALPHA - 1)).subs(t, THETA[I])
        yhat = _entmax_p(THETA[I])  # the same, with its base kept as the polynomial (α−1)θ_i − τ
        if sp.cancel(solved.base - yhat.base) != 0 or sp.simplify(solved.exp - yhat.exp) != 0:
            return sp.nan, [f"stationarity solved to ${sp.latex(solved)}$, not the entmax form"]
        return yhat, [f"$p_i = {sp.latex(p_of)}$ with $t = \\theta_i$; $\\tau = (\\alpha-1)\\lambda$ from "
                      r"$\sum_F \hat y = 1$ (implicit)"]
    mass = linear(block_sum(p_of.subs(t, THETA[J]), "F")) + _u(loss) - _mass(loss)
    mass = mass.xreplace(_to_symbols(loss))
    (lam,) = sp.solve(mass, LAMBDA)
    yhat = sp.expand(p_of.subs(t, THETA[I]).subs(LAMBDA, lam), power_exp=True)
    return sp.simplify(yhat), [f"$p_i = {sp.latex(p_of)}$ with $t = \\theta_i$", f"$\\lambda = {sp.latex(lam)}$"]


def _yhat_block(loss: str, block: str, yhat_f: sp.Expr) -> sp.Expr:
    return {"F": yhat_f, "U": sp.S.One, "Z": sp.S.Zero}[block]


def _entmax_canon(expr: sp.Expr, i_in_f: bool) -> sp.Expr:
    """θ_j = (q_j^{α−1} + τ)/(α−1) on the support (q = ŷ > 0), inside the sums and for θ_i,
    then Σ_F q = 1 and Σ_F q^{2−α} = σ."""
    a = ALPHA

    def canon(e: sp.Expr, var) -> sp.Expr:
        e = e.xreplace({THETA[var]: (Q[var] ** (a - 1) + TAU) / (a - 1)})
        return tidy(sp.expand(tidy(e)))

    e = map_sums(expr, lambda f_, b: canon(f_, J) if b == "F" else f_)
    if i_in_f:
        e = canon(e, I)
    return tidy(linear(e, {block_sum(Q[J], "F"): 1, block_sum(Q[J] ** (2 - a), "F"): SIGMA}))


def _finish(loss: str, expr: sp.Expr | None, i_in_f: bool = True):
    if expr is None:
        return decide(None)
    if member(loss).tsallis:
        return decide(_entmax_canon(expr, i_in_f))
    return decide(linear(expr).xreplace(_to_symbols(loss)))


def _constraint(loss: str) -> sp.Expr | None:
    """Σ_F ŷ = 1 defining the implicit τ(θ) (Tsallis member); None where ŷ is explicit."""
    return block_sum(_entmax_p(THETA[J]), "F") - 1 if member(loss).tsallis else None


def _fenchel_value(loss: str, yhat_f: sp.Expr) -> sp.Expr:
    """⟨θ, ŷ⟩ − Ω(ŷ) on the region: Σ_F (θ ŷ − g(ŷ)) + Σ_U (θ − g(1)) − const."""
    yj = yhat_f.xreplace({THETA[I]: THETA[J]})
    val = block_sum(THETA[J] * yj - generator(loss, yj), "F")
    if "U" in blocks(loss):
        val += block_sum(THETA[J], "U") - U * generator(loss, sp.S.One)
    return val - omega_const(loss)


def conjugate_identities(loss: str, candidate: ClosedForm = closed_form) -> Iterator[tuple[str, Verdict]]:
    """FY-1 on the symbolic region, one (name, verdict) at a time: the candidate Ω* equals
    ⟨θ, ŷ⟩ − Ω(ŷ), and ∂Ω*/∂θ_i = ŷ_i for i in every block (1 on U, 0 on Z)."""
    yhat_f, _ = kkt_solution(loss)
    cand = candidate(loss, generic_sums(loss))
    yield "Ω* = ⟨θ,ŷ⟩ − Ω(ŷ)", _finish(loss, cand - sp.expand_log(_fenchel_value(loss, yhat_f), force=True))
    for b in blocks(loss):
        g = d(cand, I, {I: b}, _constraint(loss))
        res = None if g is None else g - _yhat_block(loss, b, yhat_f)
        yield f"∂Ω*/∂θ_i = ŷ_i, i ∈ {b}", _finish(loss, res, b == "F")


#: the marked text (audit/markup.py) of each identity name the generators above yield (the
#: names stay plain keys: callers and tests look identities up by them)
IDENTITY_TEXT = {
    "Ω* = ⟨θ,ŷ⟩ − Ω(ŷ)": r"$\Omega^* = \langle\theta,\hat y\rangle - \Omega(\hat y)$",
    "L(θ;ŷ) as a Bregman sum": r"$L(\theta;y)$ as a sum of Bregman terms",
    "Σ_F ŷ(θ + c1) = Σ_F ŷ(θ)": r"$\sum_F \hat y(\theta + c\mathbf{1}) = \sum_F \hat y(\theta)$",
    "L(θ + c1; y) = L(θ; y)": r"$L(\theta + c\mathbf{1}; y) = L(\theta; y)$",
    **{f"∂Ω*/∂θ_i = ŷ_i, i ∈ {b}": rf"$\partial\Omega^*/\partial\theta_i = \hat y_i$, $i \in {b}$" for b in "FUZ"},
    **{f"∂L/∂θ_i = ŷ_i − y_i, i ∈ {b}": rf"$\partial L/\partial\theta_i = \hat y_i - y_i$, $i \in {b}$"
       for b in "FUZ"},
}


def _inner_y(bl) -> sp.Expr:
    return sum(block_sum(THETA[J] * YV[J], b) for b in bl)


def _label_mass(loss: str, bl) -> dict:
    """Σ_all y = k (y ∈ dom Ω), solved for the sum over the last block."""
    return {block_sum(YV[J], bl[-1]): _mass(loss) - sum((block_sum(YV[J], b) for b in bl[:-1]), sp.S.Zero)}


def loss_identities(loss: str, candidate: ClosedForm = closed_form) -> Iterator[tuple[str, Verdict]]:
    """FY-2 on the symbolic region for L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩ with the candidate Ω*,
    one (name, verdict) at a time:

    * ∇_θL = ŷ − y on every block;
    * L(θ + c1; y) = L(θ; y) for y in dom Ω (Σy = k); for entmax τ(θ + c1) = τ(θ) + (α−1)c,
      which leaves Σ_F ŷ = 1 unchanged (checked too);
    * in canonical variables (stationarity θ_j = g'(ŷ_j) + λ on F, g'(1) + λ + ν_j on U,
      g'(0) + λ − μ_j on Z, with μ, ν ≥ 0) and Σy = Σŷ,
      L = Σ_F [g(y) − g(ŷ) − g'(ŷ)(y − ŷ)] + Σ_U [g(y) − g(1) − g'(1)(y − 1) + ν(1 − y)]
          + Σ_Z [g(y) − g(0) − g'(0)y + μy]."""
    yhat_f, _ = kkt_solution(loss)
    cand = candidate(loss, generic_sums(loss))
    bl = blocks(loss)
    L = cand - _inner_y(bl)  # + Ω(y), constant in θ
    yield "L(θ;ŷ) as a Bregman sum", _bregman(loss, cand, bl)
    for b in bl:
        g = d(L, I, {I: b}, _constraint(loss))
        yield f"∂L/∂θ_i = ŷ_i − y_i, i ∈ {b}", _finish(
            loss, None if g is None else g - (_yhat_block(loss, b, yhat_f) - YV[I]), b == "F")

    def moved(e: sp.Expr) -> sp.Expr:  # θ → θ + c1, τ → τ + (α−1)c
        e = e.replace(lambda x: isinstance(x, sp.Indexed) and x.base == THETA, lambda x: x + C_SHIFT)
        return e.xreplace({TAU: TAU + (ALPHA - 1) * C_SHIFT})

    if member(loss).tsallis:
        con = _constraint(loss)
        yield "Σ_F ŷ(θ + c1) = Σ_F ŷ(θ)", _finish(loss, moved(con) - con)
    res = linear(moved(L) - L).xreplace(_label_mass(loss, bl))
    yield "L(θ + c1; y) = L(θ; y)", _finish(loss, res)


def _bregman(loss: str, cand: sp.Expr, bl) -> Verdict:
    x = sp.Symbol("x", positive=True)
    g = lambda v: generator(loss, v)  # noqa: E731
    gp = lambda v: sp.diff(generator(loss, x), x).subs(x, v)  # noqa: E731
    canon = {"F": lambda j: gp(Q[j]) + LAMBDA, "U": lambda j: _gprime_at(loss, 1) + LAMBDA + NU[j],
             "Z": lambda j: _gprime_at(loss, 0) + LAMBDA - MU[j]}

    def to_canon(e: sp.Expr) -> sp.Expr:
        e = map_sums(e, lambda f_, b: tidy(sp.expand(tidy(f_.xreplace({THETA[J]: canon[b](J)})))))
        return e.xreplace({TAU: (ALPHA - 1) * LAMBDA}) if member(loss).tsallis else e

    omega_y = sum(block_sum(g(YV[J]), b) for b in bl) + omega_const(loss)
    L = to_canon(cand + omega_y - _inner_y(bl))
    rhs = block_sum(g(YV[J]) - g(Q[J]) - gp(Q[J]) * (YV[J] - Q[J]), "F")
    if "U" in bl:
        rhs += block_sum(g(YV[J]) - g(1) - _gprime_at(loss, 1) * (YV[J] - 1) + NU[J] * (1 - YV[J]), "U")
    if "Z" in bl:  # g(0) = 0 for x²/2 and, with α > 1, for x^α/(α(α−1))
        rhs += block_sum(g(YV[J]) - _gprime_at(loss, 0) * YV[J] + MU[J] * YV[J], "Z")
    known = {block_sum(Q[J], "F"): _mass(loss) - _u(loss), **_label_mass(loss, bl)}
    e = linear(sp.expand_log(L - rhs, force=True), known)
    return decide(linear(sp.expand_log(sp.expand(e), force=True), known))


# -- Jacobian of ŷ and the quadratic form of a candidate Hessian ------------------------------
def stated_form(delta: sp.Expr, wl: sp.Expr, wi: sp.Expr, W: sp.Expr) -> sp.Expr:
    """The stated Hessian entry δ_li w_l − w_l w_i / W."""
    return delta * wl - wl * wi / W


def _weights(loss: str, idx) -> sp.Expr:
    """w_i = 1/g''(ŷ_i): ŷ_i for p log p, ŷ_i^{2−α} for the Tsallis g, 1 for p²/2."""
    L = member(loss)
    if L.dense:
        return sp.exp(THETA[idx]) / ZS
    if L.tsallis:
        return Q[idx] ** (2 - ALPHA)
    return sp.S.One


def _wsum(loss: str) -> sp.Expr:
    """W = Σ_F w: Σŷ = 1 on the full support, σ = Σ_F q^{2−α}, or f = |F| for unit weights."""
    L = member(loss)
    return sp.S.One if L.dense else SIGMA if L.tsallis else F


def jacobian_identity(loss: str, candidate: HessianForm = stated_form) -> object:
    """dŷ_l/dθ_i (l, i ∈ F; ŷ on U and Z is locally constant and ŷ_F does not depend on θ_U,
    θ_Z) equals the candidate entry with the loss's weights."""
    L = member(loss)
    if L.dense:
        yl = sp.exp(THETA[L2]) / block_sum(sp.exp(THETA[J]), "F")
    elif L.tsallis:
        yl = _entmax_p(THETA[L2])
    else:
        yl = THETA[L2] - (block_sum(THETA[J], "F") + _u(loss) - _mass(loss)) / F
    Jli = d(yl, I, {I: "F", L2: "F"}, _constraint(loss))
    if Jli is None:
        return decide(None)
    cand = candidate(sp.KroneckerDelta(L2, I), _weights(loss, L2), _weights(loss, I), _wsum(loss))
    res = Jli - cand
    if L.tsallis:
        return decide(_entmax_canon(res.xreplace({THETA[L2]: (Q[L2] ** (ALPHA - 1) + TAU) / (ALPHA - 1)}), True))
    return decide(linear(res).xreplace(_to_symbols(loss)))


def psd_identity(loss: str, candidate: HessianForm = stated_form) -> Verdict:
    """xᵀHx = Σ_F w_j (x_j − x̄)², x̄ = Σ w x / W, for H_li = candidate(δ_li, w_l, w_i, W) with
    positive weights w on a block of symbolic size, W = Σ w (softmax: w = p, so W = Σp = 1),
    so H ⪰ 0."""
    m = sp.Symbol("m_", integer=True, positive=True)
    W = sp.S.One if member(loss).dense else WSUM
    H = candidate(sp.KroneckerDelta(m, J), W_[m], W_[J], W)
    quad = resolve(sp.Sum(block_sum(X[m] * H * X[J], "F"), (m, 1, F)).doit(), {m: "F"})
    known = {block_sum(W_[J], "F"): W}
    xbar = linear(block_sum(W_[J] * X[J], "F")) / W
    rhs = linear(block_sum(W_[J] * (X[J] - xbar) ** 2, "F"), known)
    return decide(None if quad is None else linear(quad, known) - rhs)


def idempotent_identity(candidate: HessianForm = stated_form) -> Verdict:
    """Sparsemax / rankmax: with unit weights on F (W = f), H_li = candidate(δ_li, 1, 1, f)
    satisfies (H²)_li = Σ_{m∈F} H_lm H_mi = H_li for a block of symbolic size: H is a
    symmetric idempotent (an orthogonal projection), so its eigenvalues lie in {0, 1}."""
    m = sp.Symbol("m_", integer=True, positive=True)
    h = lambda a_, b_: candidate(sp.KroneckerDelta(a_, b_), sp.S.One, sp.S.One, F)  # noqa: E731
    sq = resolve(sp.Sum(h(L2, m) * h(m, I), (m, 1, F)).doit(), {L2: "F", I: "F"})
    return decide(None if sq is None else linear(sq) - h(L2, I))


def variance_identity() -> Verdict:
    """Softmax: xᵀ(diag p − ppᵀ)x = Σ p x² − (Σ p x)² equals Σ p (x − c)² − (Σ p x − c)² for
    every c when Σp = 1 (sums over a block of symbolic size)."""
    p = W_
    c = sp.Symbol("c", real=True)
    var = block_sum(p[J] * X[J] ** 2, "F") - block_sum(p[J] * X[J], "F") ** 2
    shifted = block_sum(p[J] * (X[J] - c) ** 2, "F") - (block_sum(p[J] * X[J], "F") - c) ** 2
    return decide(linear(var - shifted, {block_sum(p[J], "F"): 1}))


__all__ = ["closed_form", "concrete_sums", "generic_sums", "kkt_solution", "conjugate_identities",
           "loss_identities", "jacobian_identity", "psd_identity", "idempotent_identity", "variance_identity",
           "stated_form", "generator", "blocks", "ClosedForm", "HessianForm", "IDENTITY_TEXT"]
