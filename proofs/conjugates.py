"""FY-1 (conjugates Ω* and ŷ = ∇Ω* from the KKT conditions) and the symbolic part of
FY-2 (∇L = ŷ − y, shift invariance, L ≥ 0 with equality iff y = ŷ, convexity)."""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from .derivation import Derivation
from .kkt import (eq, ALPHA, TAU, Case, Candidate, all_true, cases, check_loss, decide_zero,
                  generator, omega)

SIZES = {"softmax": (2, 3, 4), "sparsemax": (2, 3, 4), "entmax": (4,), "rankmax": (2, 3, 4)}
PROP_SIZES = {"softmax": (2, 3), "sparsemax": (2, 3), "entmax": (3,), "rankmax": (2, 3)}


# -- the derived closed forms of Ω* on a region -----------------------------------------
def derived_conjugate(case: Case) -> sp.Expr:
    """Ω* on the case's region, in closed form (entmax: in θ and the implicit τ(θ))."""
    th, F, U = case.theta, case.free, case.upper
    if case.loss == "softmax":
        return sp.log(sum(sp.exp(t) for t in th))
    if case.loss == "entmax":
        a = ALPHA
        inner = sum(th[i] * case.yhat[i] for i in F)
        # Σ p^α = Σ p·p^{α−1} = (α−1)⟨θ,p⟩ − τ on Σp = 1
        return (a - 1) / a * inner + (1 + TAU) / (a * (a - 1))
    A = sum((th[i] for i in F), sp.S.Zero)
    B = sum((th[i] ** 2 for i in F), sp.S.Zero)
    m = case.k - len(U)
    out = sum((th[i] for i in U), sp.S.Zero) - sp.Rational(len(U), 2)
    if F:
        out += B / 2 - (A - m) ** 2 / (2 * len(F))
    if case.loss == "sparsemax":
        out += sp.Rational(1, 2)
    return out


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


# -- symbolic-size pieces ---------------------------------------------------------------
def _softmax_symbolic_n() -> bool | None:
    """Per coordinate, with Z = Σ_j e^{θ_j} > 0: θ_i − log p_i = log Z, so
    Ω* = Σ_i p_i (θ_i − log p_i) = log Z · Σ p_i = log Z (symbolic in n)."""
    t = sp.Symbol("theta_i", real=True)
    Z = sp.Symbol("Z", positive=True)
    p = sp.exp(t) / Z
    return decide_zero(None, sp.expand_log(t - sp.log(p), force=True) - sp.log(Z))


def _quadratic_symbolic_size() -> tuple[bool | None, sp.Expr]:
    """Sparsemax/rankmax with symbolic free-set size f, capped count u and mass k:
    with A = Σ_F θ, B = Σ_F θ², τ = (A − (k−u))/f, Ω* = Σ_U θ − u/2 + B/2 − (A−(k−u))²/(2f);
    d/dθ_i (chain rule ∂A/∂θ_i = 1, ∂B/∂θ_i = 2θ_i) equals θ_i − τ for i ∈ F."""
    A, B, t = sp.symbols("A B theta_i", real=True)
    f, u, k = sp.symbols("f u k", positive=True)
    tau = (A - (k - u)) / f
    conj = B / 2 - (A - (k - u)) ** 2 / (2 * f)
    grad = sp.diff(conj, A) + sp.diff(conj, B) * 2 * t
    # value: Σ_F θ(θ−τ) − ½Σ_F (θ−τ)² = B − τA − ½(B − 2τA + fτ²)
    value = B - tau * A - (B - 2 * tau * A + f * tau**2) / 2
    ok = all_true([decide_zero(None, grad - (t - tau)), decide_zero(None, value - conj)])
    return ok, conj


def _entmax_symbolic_support() -> bool | None:
    """On S, θ_j − Ω'(p_j) = τ/(α−1) for every j, so by the envelope argument
    dΩ*/dθ_i = p_i + τ/(α−1) · d(Σ_S p)/dθ_i = p_i (symbolic in |S| and α)."""
    P = sp.Symbol("P_j", positive=True)
    th = (P ** (ALPHA - 1) + TAU) / (ALPHA - 1)
    return decide_zero(None, th - P ** (ALPHA - 1) / (ALPHA - 1) - TAU / (ALPHA - 1))


_SCOPE = {
    "softmax": "symbolic in n for Ω* = logsumexp (per-coordinate identity with Z = Σe^θ); "
               "n = 2, 3, 4 with symbolic θ for the full identity and ∇Ω* = softmax",
    "sparsemax": "symbolic support size s (sums A = Σ_S θ, B = Σ_S θ²); and n = 2, 3, 4 with "
                 "symbolic θ on every support pattern",
    "entmax": "symbolic α and symbolic θ, τ(θ) implicit; n = 4 with support S = {1..s}, s = 1, 2, 3, 4 "
              "(every support pattern of n ≤ 4 up to a permutation of coordinates); plus the "
              "per-coordinate envelope identity, symbolic in |S| and α",
    "rankmax": "symbolic free-set size f, capped count u and k (sums A, B); and n = 2, 3, 4, "
               "every k ∈ [1, n−1], every (U, F, Z) pattern, symbolic θ",
}


@lru_cache(maxsize=None)
def _conjugate(loss: str) -> Derivation:
    d = Derivation(
        statement={
            "softmax": "Ω(p) = Σ p log p on Δ: KKT gives ŷ = softmax(θ), Ω* = logsumexp(θ) = ⟨θ,ŷ⟩ − Ω(ŷ), ∇Ω* = ŷ",
            "sparsemax": "Ω(p) = ½‖p‖² − ½ on Δ: KKT gives ŷ = [θ − τ]_+, τ = (Σ_S θ − 1)/|S|; "
                         "Ω* = ½Σ_S θ² − (Σ_S θ − 1)²/(2|S|) + ½ = ⟨θ,ŷ⟩ − Ω(ŷ), ∇Ω* = ŷ",
            "entmax": "Ω = Tsallis α-entropy on Δ: KKT gives ŷ = [(α−1)θ − τ]_+^{1/(α−1)} with Σŷ = 1; "
                      "Ω* = ((α−1)/α)⟨θ,ŷ⟩ + (1+τ)/(α(α−1)) = ⟨θ,ŷ⟩ − Ω(ŷ), ∇Ω* = ŷ",
            "rankmax": "Ω(p) = ½‖p‖² on C_k: KKT gives ŷ = clip(θ − τ, 0, 1); "
                       "Ω* = Σ_U θ − |U|/2 + ½Σ_F θ² − (Σ_F θ − k + |U|)²/(2|F|) = ⟨θ,ŷ⟩ − Ω(ŷ), ∇Ω* = ŷ",
        }[loss],
        scope=_SCOPE[loss],
        assumptions=["θ ∈ R^n finite"],
    )
    a = ALPHA
    if loss == "softmax":
        d.assumptions.append("full support (Ω' = log p + 1 → −∞ at 0 forces p > 0)")
        t, lam = sp.symbols("theta_i lambda", real=True)
        p = sp.Symbol("p_i", positive=True)
        d.step("Stationarity of the Lagrangian in p_i:", sp.Eq(t - sp.log(p) - 1 - lam, 0))
        c = next(iter(cases(loss, (3,))))
        d.step("Solving it and Σp = 1 with sympy (n = 3):", eq(r"\hat y_1", c.yhat[0]))
        d.step("Value at the KKT point simplifies to logsumexp:",
               eq(r"\Omega^*(\theta)", sp.simplify(sp.expand_log(_fenchel_value(c), force=True))))
        sym = _softmax_symbolic_n()
        d.step("For any n, with Z = Σ_j e^{θ_j}: θ_i − log p_i = log Z, hence",
               r"\Omega^*(\theta)=\sum_i p_i(\theta_i-\log p_i)=\log Z")
    elif loss in ("sparsemax", "rankmax"):
        if loss == "rankmax":
            d.assumptions += ["1 ≤ k ≤ n − 1", "pattern (U, F, Z) fixed: ŷ = 1 on U, 0 < ŷ < 1 on F, ŷ = 0 on Z"]
            d.step("Lagrangian with box multipliers μ_i, ν_i ≥ 0:",
                   r"\langle\theta,p\rangle-\tfrac12\|p\|^2-\lambda(\textstyle\sum p-k)+\sum\mu_i p_i-\sum\nu_i(p_i-1)")
        else:
            d.assumptions.append("support S fixed, |S| = s ≥ 1")
            d.step("Lagrangian with multipliers μ_i ≥ 0 for p_i ≥ 0:",
                   r"\langle\theta,p\rangle-\tfrac12\|p\|^2+\tfrac12-\lambda(\textstyle\sum p-1)+\sum\mu_i p_i")
        d.step("Stationarity on the free set gives p_i = θ_i − λ; off it μ_i = λ − θ_i ≥ 0 (or ν_i = θ_i − 1 − λ ≥ 0):",
               r"\hat y_i=\theta_i-\tau,\quad \tau=\lambda")
        c = next(c for c in cases(loss, (3,)) if len(c.free) == 2)
        d.step(f"sympy solve on F = {{{', '.join(str(i + 1) for i in c.free)}}}, n = 3, k = {c.k}:",
               eq(r"\tau", c.lam))
        sym, conj = _quadratic_symbolic_size()
        d.step("Symbolic free-set size f (A = Σ_F θ, B = Σ_F θ², u = |U|):",
               eq(r"\Omega^*_F", conj))
        d.step("Chain rule (∂A/∂θ_i = 1, ∂B/∂θ_i = 2θ_i) gives ∂Ω*/∂θ_i = θ_i − τ = ŷ_i on F, 1 on U, 0 on Z.")
    else:
        d.assumptions += ["α > 1 (symbolic)", "support S fixed, |S| = s ≥ 1", "τ = τ(θ) defined implicitly by Σ_S ŷ = 1"]
        t, lam = sp.symbols("theta_i lambda", real=True)
        p = sp.Symbol("p_i", positive=True)
        d.step("Stationarity on S:", sp.Eq(t - p ** (a - 1) / (a - 1) - lam, 0))
        c = next(x for x in cases(loss, (2,)) if len(x.free) == 2)
        d.step("Solved for p_i^{α−1} (linear) with τ = (α−1)λ:", eq(r"\hat y_1", c.yhat[0]))
        d.step("On Σp = 1, Σ p^α = Σ p·p^{α−1} = (α−1)⟨θ,p⟩ − τ, so",
               eq(r"\Omega^*(\theta)", derived_conjugate(c).subs(
                   sum(c.theta[i] * c.yhat[i] for i in c.free), sp.Symbol("IP"))).replace(
                   r"\text{IP}", r"\langle\theta,\hat y\rangle").replace("IP", r"\langle\theta,\hat y\rangle"))
        d.step("Implicit differentiation of G(θ, τ) = Σ_S ŷ − 1 = 0:",
               r"\frac{\partial\tau}{\partial\theta_i}=-\frac{\partial G/\partial\theta_i}{\partial G/\partial\tau}")
        sym = _entmax_symbolic_support()
        d.step("Envelope identity on S (symbolic in |S|): θ_j − Ω'(ŷ_j) = τ/(α−1) for all j ∈ S, so",
               r"\frac{d\Omega^*}{d\theta_i}=\hat y_i+\frac{\tau}{\alpha-1}\,\frac{d}{d\theta_i}\sum_{j\in S}\hat y_j=\hat y_i")
    conc = check_conjugate(loss, derived_conjugate)
    d.step("sympy: Ω*(θ) − (⟨θ,ŷ⟩ − Ω(ŷ)) and ∂Ω*/∂θ_i − ŷ_i simplify to 0 on every pattern of the stated sizes:",
           eq(r"\nabla\Omega^*(\theta)-\hat y", 0) if conc else r"\text{not zero}")
    return d.decide(all_true([sym, conc]))


def conjugate(loss: str) -> Derivation:
    """FY-1: Ω* and ŷ = ∇Ω* from the KKT conditions."""
    return copy.deepcopy(_conjugate(check_loss(loss)))


# -- FY-2 --------------------------------------------------------------------------------
def _bregman_identity(case: Case) -> bool | None:
    """L(θ; y) = Σ_i [g(y_i) − g(ŷ_i) − g'(ŷ_i)(y_i − ŷ_i)] + Σ_Z μ_i y_i + Σ_U ν_i (1 − y_i)
    for every y with Σy = k (y_n eliminated)."""
    n, loss = case.n, case.loss
    y = sp.symbols(f"y_1:{n + 1}", positive=True)
    x = sp.Symbol("x", positive=True)
    g = generator(loss, x)
    gp = sp.diff(g, x)
    L = derived_conjugate(case) + omega(loss, y) - sum(t * yi for t, yi in zip(case.theta, y))
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


def _shift(case: Case) -> bool | None:
    """Ω*(θ + c1) = Ω*(θ) + c·k (entmax: τ(θ + c1) = τ(θ) + (α−1)c, checked on G)."""
    c = sp.Symbol("c", real=True)
    conj = derived_conjugate(case)
    sub = {t: t + c for t in case.theta}
    res = []
    if case.tau is not None:
        sub[TAU] = TAU + (ALPHA - 1) * c
        res.append(decide_zero(case, case.constraint.subs(sub, simultaneous=True) - case.constraint))
    res.append(decide_zero(case, conj.subs(sub, simultaneous=True) - conj - c * case.k))
    return all_true(res)


def _gradient(case: Case) -> bool | None:
    y = sp.symbols(f"y_1:{case.n + 1}", real=True)
    L = derived_conjugate(case) - sum(t * yi for t, yi in zip(case.theta, y))  # + Ω(y), constant in θ
    return all_true(decide_zero(case, case.d(L, i) - (case.yhat[i] - y[i])) for i in range(case.n))


@lru_cache(maxsize=None)
def _loss_properties(loss: str) -> Derivation:
    from .hessians import hessian  # convexity = PSD Hessian of Ω*

    d = Derivation(
        statement=f"{loss}: L(θ;y) = Ω*(θ) + Ω(y) − ⟨θ,y⟩ has ∇_θL = ŷ − y, L(θ + c1; y) = L(θ; y), "
                  "L ≥ 0 with L = 0 ⟺ y = ŷ(θ), and L is convex in θ",
        scope=("n = 3, support S = {1..s}, s = 1, 2, 3 (every pattern up to permutation), symbolic θ, y, α"
               if loss == "entmax" else
               f"n = 2, 3 with symbolic θ, y on every KKT pattern"
               f"{' (every k ∈ [1, n−1])' if loss == 'rankmax' else ''}") + f"; convexity from hessian('{loss}')",
        assumptions=["θ ∈ R^n finite", f"y ∈ dom Ω ({'C_k' if loss == 'rankmax' else 'Δ'}), so Σy = Σŷ"],
    )
    cs = list(cases(loss, PROP_SIZES[loss]))
    grad = all_true(_gradient(c) for c in cs)
    d.step("Gradient: differentiating the derived Ω* (FY-1) minus ⟨θ, y⟩:",
           r"\nabla_\theta L=\hat y(\theta)-y")
    shift = all_true(_shift(c) for c in cs)
    d.step("Shift: Ω*(θ + c1) = Ω*(θ) + c·Σŷ, and Σŷ = Σy, so",
           r"L(\theta+c\mathbf 1;y)-L(\theta;y)=c\,(\textstyle\sum\hat y-\sum y)=0")
    breg = all_true(_bregman_identity(c) for c in cs)
    d.step("Fenchel–Young gap as a Bregman divergence of g plus multiplier terms (sympy identity, Σy = Σŷ):",
           r"L(\theta;y)=\sum_i\big[g(y_i)-g(\hat y_i)-g'(\hat y_i)(y_i-\hat y_i)\big]+\sum_{Z}\mu_i y_i+\sum_{U}\nu_i(1-y_i)")
    x = sp.Symbol("x", positive=True)
    g2 = sp.simplify(sp.diff(generator(loss, x), x, 2))
    conv_g = g2.is_positive
    d.step("g is strictly convex on (0, ∞), so each Bregman term is ≥ 0 and = 0 only at y_i = ŷ_i:",
           eq("g''(x)", g2))
    mu, yy = sp.Symbol("mu", nonnegative=True), sp.Symbol("y", nonnegative=True)
    w = sp.Symbol("w", nonnegative=True)  # w = 1 − y_i ≥ 0 on U
    mult_sign = all_true([(mu * yy).is_nonnegative, (mu * w).is_nonnegative])
    d.step("Multipliers μ_i, ν_i ≥ 0 (KKT) and 0 ≤ y_i ≤ 1 make the last sums ≥ 0; hence",
           r"L(\theta;y)\ge0,\qquad L(\theta;y)=0\iff y=\hat y(\theta)")
    h = hessian(loss)
    d.step(f"Convexity: ∇²_θ L = ∇²Ω* = J_ŷ is PSD (hessian('{loss}'): {h.decision}).")
    return d.decide(all_true([grad, shift, breg, conv_g, mult_sign, h.decision == "holds" or
                              (None if h.decision == "undecided" else False)]))


def loss_properties(loss: str) -> Derivation:
    """FY-2 (symbolic part)."""
    return copy.deepcopy(_loss_properties(check_loss(loss)))
