"""FY-1 … FY-4 derived for a separable regulariser on the capped simplex C_k (issue 23 §1, §4).

C_k = {p ∈ [0, 1]ⁿ : Σp = k} (Kong et al. 2020, reading R1: a fixed integer k, 1 ≤ k < n).
**How k enters.**  A :class:`~audit.separable.SeparableLoss` with domain "capped" carries no k:
its rows quantify over it.  The derivations here are symbolic in n and k (k appears only
through Σŷ = Σy = k); the numeric routes (numerics/user/capped.py) run on the pairs
(k, n) of ``numerics.user.capped.CASES`` (k ∈ {1, 2, 3}, k < n), listed in each row's
constants as ``k``.  At k = 1, C_1 is the simplex.

The KKT conditions of max_{p ∈ C_k} ⟨θ, p⟩ − Σ g(pᵢ) (Blondel, Martins & Niculae, JMLR 2020,
§4) are θᵢ − g′(pᵢ) − τ + μᵢ − νᵢ = 0, μᵢ, νᵢ ≥ 0, μᵢpᵢ = 0, νᵢ(1 − pᵢ) = 0.  With G = (g′)⁻¹
and u = θᵢ − τ each coordinate lies in one of three regions: *zero* (u ≤ g′(0⁺): ŷᵢ = 0,
μᵢ = g′(0⁺) − u), *free* (ŷᵢ = G(u)), *cap* (u ≥ g′(1⁻): ŷᵢ = 1, νᵢ = u − g′(1⁻)); so
ŷᵢ = G(clip(θᵢ − τ, g′(0⁺), g′(1⁻))) with τ fixed by Σŷ = k.  From there:

* Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) = kτ + Σᵢ h(θᵢ − τ), h(t) = max_{q ∈ [0,1]} tq − g(q), and ∇Ω* = ŷ;
* L(θ; y) = Σᵢ [D_g(yᵢ, ŷᵢ) + (multiplier)·(distance to the clip end)] for y ∈ C_k, ≥ 0, zero
  iff y = ŷ; J = ∂ŷ/∂θ = diag(s) − ssᵀ/Σs with s = 1/g″(ŷ) on the free coordinates, s = 0 on
  those at 0 or 1 (implicit differentiation of Σ_free G(θᵢ − τ) = k − #cap);
* the margin: ŷ = 1_Y for a k-hot label iff min_Y θ − max_{∉Y} θ ≥ g′(1⁻) − g′(0⁺), the same
  m for every k (k = 1: the simplex's margin);
* smoothness: J ⪯ diag(s) gives λ_max ≤ sup_{(0,1)} s; for k ≥ 2 the point
  ŷ = (a, a, 1 − a, 1 − a, ½, …, ½) ∈ C_k (n = 2k) has the eigenvector e₁ − e₂ with eigenvalue
  s(a) for every a ∈ (0, 1), so sup over k, n and θ of λ_max is exactly sup_{(0,1)} s; at
  k = 1 only a ≤ ½ is reachable and the simplex's bracket [sup_{(0,½]} s, sup_{(0,1)} s] holds.

The simplex code is reused by calling it: the free coordinate's conjugate term and the
Jacobian entry are those of proofs/user/fy.py (so their planted defects reach these rows
too), g and G are its undefined functions with the rule g′(G(t)) = t.  The ends enter as the
definition of the clip: G(g′(0⁺)) = 0, G(g′(1⁻)) = 1.  A disagreement between two of our routes
(the stated map against the KKT conditions, the stated conjugate against the dual, the stated
Jacobian against implicit differentiation) is :class:`audit.SuiteDefect`.
"""
from __future__ import annotations

import functools

import sympy as sp

from audit import SuiteDefect
from audit.separable import SeparableLoss

from . import fy as sym_fy
from ..derivation import Derivation, is_zero
from .facts import SYMBOLIC, _finite, _sup, derive, margin_counterexample, smoothness_point

g, G = sym_fy.g, sym_fy.G
LO, HI = sp.symbols("g'(0^+) g'(1^-)", real=True)   # the clip ends, generic
W = sp.Symbol("w", nonnegative=True)                   # how far past an end u lies
U = sp.Symbol("u", real=True)
Z = sp.Symbol("z")
YI = sp.Symbol("y_i", nonnegative=True)
SCOPE = ("symbolic in $n$ and $k$ ($g$, $G = (g')^{-1}$ undefined functions with $g'(G(t)) = t$, "
         "$G(g'(0^+)) = 0$, $G(g'(1^-)) = 1$; $\\tau$ the multiplier of $\\sum_i \\hat y_i = k$)")
ON_CK = "$\\Omega$ on $C_k = \\{p \\in [0,1]^n : \\sum_i p_i = k\\}$, $1 \\le k < n$"


def coordinate(region: str, u: sp.Expr) -> sp.Expr:
    """The stated ŷᵢ at u = θᵢ − τ in its region: 0 (zero), G(u) (free), 1 (the cap)."""
    return {"zero": sp.Integer(0), "free": G(u), "cap": sp.Integer(1)}[region]


def conjugate_coordinate(theta_i: sp.Expr, tau: sp.Expr, region: str) -> sp.Expr:
    """Coordinate i of Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ): the simplex code's term on the free region,
    θᵢŷᵢ − g(ŷᵢ) at the stated coordinate elsewhere."""
    if region == "free":
        return sym_fy.conjugate_term(theta_i, tau)
    q = coordinate(region, theta_i - tau)
    return theta_i * q - g(q)


def dual_term(region: str, t: sp.Expr) -> sp.Expr:
    """h(t) = max_{q ∈ [0,1]} tq − g(q) on each region (t − g′(q) is decreasing in q: q = 0 when
    t ≤ g′(0⁺), q = 1 when t ≥ g′(1⁻), else the root G(t)); the independent route."""
    return {"zero": -g(0), "free": t * G(t) - g(G(t)), "cap": t - g(1)}[region]


def _gp(q: sp.Expr) -> sp.Expr:
    return sp.Subs(sp.Derivative(g(Z), Z), Z, q)


def _zero(expr: sp.Expr) -> bool:
    return sym_fy._zero(expr)


def _ends(expr: sp.Expr) -> sp.Expr:
    """G at the clip ends by their definition: G(g′(0⁺)) = 0, G(g′(1⁻)) = 1."""
    return expr.subs({G(LO): 0, G(HI): 1})


def regions(loss: SeparableLoss) -> tuple[str, ...]:
    """The regions a coordinate of this g can be in: no zero region when g′(0⁺) = −∞, no cap
    when g′(1⁻) = ∞."""
    f = derive(loss)
    return tuple(r for r, keep in (("zero", f["g'(0+)"].value != -sp.oo), ("free", True),
                                   ("cap", f["g'(1-)"].value != sp.oo)) if keep)


def _base(loss: SeparableLoss, statement: str) -> tuple[Derivation, object]:
    return sym_fy.base(loss, statement, SCOPE, ON_CK)


def _kkt(region: str) -> None:
    """The stated coordinate satisfies the region's KKT conditions (SuiteDefect otherwise)."""
    if region == "free":
        u = U
        if not _zero(u - _gp(coordinate("free", u)).doit()):
            raise SuiteDefect("the stated free coordinate does not solve g'(y_i) = theta_i - tau")
        return
    u, end, value = (LO - W, LO, 0) if region == "zero" else (HI + W, HI, 1)
    q = _ends(coordinate(region, u))
    if sp.simplify(q - value) != 0:
        raise SuiteDefect(f"the stated coordinate in the {region} region is {q}, not the KKT point {value} "
                          f"(the clip at {'0' if value == 0 else 'the cap 1'})")
    mult = (end - u) if region == "zero" else (u - end)
    if sp.simplify(mult - W) != 0:
        raise SuiteDefect(f"the {region} region's multiplier is not the distance past its end")


@functools.lru_cache(maxsize=16)
def conjugate_derivation(loss: SeparableLoss) -> Derivation:
    """FY-1 on C_k (module docstring): the stated map against the KKT conditions per region;
    the stated conjugate per coordinate against the dual h(u) + τŷᵢ; h′ = ŷᵢ (envelope) and h
    continuous at the clip ends; ∂ⱼΩ* = ŷⱼ with Σᵢ ∂ⱼŷᵢ = ∂ⱼk = 0."""
    d, f = _base(loss, f"{loss.name}: $\\hat y_i = (g')^{{-1}}(\\operatorname{{clip}}(\\theta_i - \\tau, g'(0^+), "
                       "g'(1^-)))$ with $\\sum_i \\hat y_i = k$ is the argmax of $\\langle\\theta, p\\rangle - "
                       "\\Omega(p)$ on $C_k$, $\\Omega^*(\\theta) = \\langle\\theta, \\hat y\\rangle - \\Omega(\\hat y)$ "
                       "and $\\nabla\\Omega^* = \\hat y$, for every $k < n$")
    regs = regions(loss)
    d.step("KKT of the concave problem on $C_k$: $\\theta_i - g'(\\hat y_i) - \\tau + \\mu_i - \\nu_i = 0$, "
           "$\\mu_i, \\nu_i \\ge 0$, $\\mu_i \\hat y_i = 0$, $\\nu_i (1 - \\hat y_i) = 0$; with "
           "$u_i = \\theta_i - \\tau$: "
           "$\\hat y_i = 0$, $\\mu_i = g'(0^+) - u_i$ where $u_i \\le g'(0^+)$; $\\hat y_i = G(u_i)$ between; "
           "$\\hat y_i = 1$ (the cap), $\\nu_i = u_i - g'(1^-)$ where $u_i \\ge g'(1^-)$.  $g'' > 0$ makes them "
           "sufficient and the argmax unique.")
    for r in regs:
        _kkt(r)
    d.step(f"The stated coordinate meets them in each region this $g$ has ({', '.join(regs)}): checked with "
           "$u = g'(0^+) - w$, $u$ free, $u = g'(1^-) + w$, $w \\ge 0$.  $\\sum_i \\hat y_i(\\tau)$ is continuous "
           "and non-increasing from $n$ to $0$, so $\\tau$ with $\\sum_i \\hat y_i = k$ exists for $0 < k < n$.")
    t = sp.Symbol("t", real=True)
    for r in regs:
        if not _zero(sp.diff(dual_term(r, t), t) - coordinate(r, t)):
            raise SuiteDefect(f"{loss.name}: the envelope identity h'(t) = yhat(t) fails in the {r} region")
    for r, end in (("zero", LO), ("cap", HI)):
        if r in regs and sp.simplify(_ends(dual_term("free", end) - dual_term(r, end))) != 0:
            raise SuiteDefect(f"{loss.name}: h is not continuous where the free region meets the {r} region")
    d.step("The coordinate conjugate $h(t) = \\max_{q \\in [0,1]} tq - g(q)$ is $-g(0)$, $tG(t) - g(G(t))$, "
           "$t - g(1)$ on the three regions, continuous at the ends ($G(g'(0^+)) = 0$, $G(g'(1^-)) = 1$) with "
           "$h' = \\hat y_i$ (envelope): the dual $\\min_\\tau k\\tau + \\sum_i h(\\theta_i - \\tau)$ is stationary "
           "where $\\sum_i \\hat y_i = k$.")
    TI, TJ, TAU = sym_fy.TI, sym_fy.TJ, sym_fy.TAU
    for r in regs:
        stated = conjugate_coordinate(TI, TAU, r)
        dual = dual_term(r, TI - TAU) + TAU * coordinate(r, TI - TAU)
        if not _zero(stated - dual):
            raise SuiteDefect(f"{loss.name}: the stated coordinate of Omega* differs from the dual route in the {r} "
                              f"region by {sp.simplify(sym_fy._rule((stated - dual).doit()))}")
        for same, wi in ((True, TI), (False, TJ)):
            q = coordinate(r, TI - TAU)
            want = (q if same else 0) + TAU * sp.diff(q, wi)
            if not _zero(sp.diff(stated, wi) - want):
                raise SuiteDefect(f"{loss.name}: d(Omega*_i)/d theta_{'i' if same else 'j'} is not "
                                  f"delta_ij yhat_i + tau d(yhat_i) in the {r} region")
    d.step("Coordinate by coordinate the stated value equals the dual's, $\\theta_i \\hat y_i - g(\\hat y_i) = "
           "h(u_i) + \\tau \\hat y_i$; summed with $\\sum_i \\hat y_i = k$: $\\Omega^*(\\theta) = k\\tau + "
           "\\sum_i h(u_i)$.  With $\\tau = \\tau(\\theta)$, $\\partial_j[\\theta_i \\hat y_i - g(\\hat y_i)] = "
           "\\delta_{ij}\\hat y_i + \\tau\\,\\partial_j \\hat y_i$ in every region and $\\sum_i \\partial_j \\hat y_i "
           "= \\partial_j k = 0$, so", sp.Eq(sp.Symbol("\\partial_j \\Omega^*"), sp.Symbol("\\hat y_j")))
    d.summary = (f"$\\hat y = (g')^{{-1}}(\\operatorname{{clip}}(\\theta - \\tau))$ with $\\sum \\hat y = k$, "
                 f"$\\Omega^* = k\\tau + \\sum_i h(\\theta_i - \\tau)$, $\\nabla\\Omega^* = \\hat y$ for {loss.name} "
                 "on $C_k$, the dual route agreeing")
    return d.decide(True)


def _decomposition(region: str) -> sp.Expr:
    """Coordinate i of L minus its stated decomposition (0 when the decomposition holds):
    free D_g(y, ŷ) + τ(ŷ − y); zero D_g(y, 0) + (g′(0⁺) − u)y + τ(0 − y); cap D_g(y, 1) +
    (u − g′(1⁻))(1 − y) + τ(1 − y), with D_g(a, b) = g(a) − g(b) − g′(b)(a − b)."""
    TI, TAU = sym_fy.TI, sym_fy.TAU
    u = TI - TAU
    term = conjugate_coordinate(TI, TAU, region) + g(YI) - TI * YI
    if region == "free":
        q = G(u)
        want = g(YI) - g(q) - _gp(q) * (YI - q) + TAU * (q - YI)
    elif region == "zero":
        want = g(YI) - g(0) - LO * YI + (LO - u) * YI + TAU * (0 - YI)
    else:
        want = g(YI) - g(1) - HI * (YI - 1) + (u - HI) * (1 - YI) + TAU * (1 - YI)
    return term - want


def _implicit(free: int, fixed: tuple[int, ...]) -> None:
    """The stated J (sym_fy.jacobian_entry, s = 0 off the free set) against implicit
    differentiation of Σ_free G(θᵢ − τ(θ)) + Σ_fixed ŷᵢ = k, ``fixed`` the values (0 or 1) of
    the coordinates at an end."""
    n = free + len(fixed)
    th = sp.symbols(f"theta1:{n + 1}", real=True)
    tau = sp.Function("tau")(*th)
    K = sp.Symbol("k", positive=True)
    u = [t - tau for t in th]
    q = [G(u[i]) for i in range(free)] + [sp.Integer(v) for v in fixed]
    s = [sp.Subs(sp.Derivative(G(Z), Z), Z, u[i]) for i in range(free)] + [sp.Integer(0)] * len(fixed)
    tot = sum(s[:free])
    for j in range(n):
        dtau = sp.solve(sp.diff(sum(q) - K, th[j]), sp.diff(tau, th[j]))
        dtau = dtau[0] if dtau else sp.Integer(0)       # no τ-dependence on a fixed θⱼ: ∂ⱼτ = 0
        for i in range(n):
            implicit = sp.diff(q[i], th[j]).subs(sp.diff(tau, th[j]), dtau)
            stated = sym_fy.jacobian_entry(s[i], s[j], tot, i == j)
            if sp.simplify((implicit - stated).doit()) != 0:
                raise SuiteDefect(f"the stated Jacobian entry ({i + 1}, {j + 1}) differs from implicit "
                                  f"differentiation on C_k ({free} free coordinates, ends {list(fixed)})")


@functools.lru_cache(maxsize=16)
def properties_derivation(loss: SeparableLoss) -> Derivation:
    """FY-2 on C_k: L ≥ 0 with equality iff y = ŷ (a Bregman term plus a multiplier term per
    coordinate), ∇L = ŷ − y (FY-1), Hessian J ⪰ 0 with J1 = 0, shift invariance (Σŷ = Σy = k)."""
    d, f = _base(loss, f"{loss.name} on $C_k$, every $k < n$ and $y \\in C_k$: $L \\ge 0$; $L = 0 \\iff y = "
                       "\\hat y(\\theta)$; $L$ convex in $\\theta$; $\\nabla_\\theta L = \\hat y - y$; "
                       "$L(\\theta + c\\mathbf 1; y) = L(\\theta; y)$")
    regs = regions(loss)
    for r in regs:
        if not _zero(_decomposition(r)):
            raise SuiteDefect(f"{loss.name}: coordinate i of L does not decompose as stated in the {r} region")
    d.step("Coordinate $i$ of $L$ is, with $D_g(a, b) = g(a) - g(b) - g'(b)(a - b)$: $D_g(y_i, \\hat y_i) + "
           "\\tau(\\hat y_i - y_i)$ on the free region; $D_g(y_i, 0) + (g'(0^+) - u_i) y_i - \\tau y_i$ at 0; "
           "$D_g(y_i, 1) + (u_i - g'(1^-))(1 - y_i) + \\tau(1 - y_i)$ at the cap (identities checked in each "
           f"region this $g$ has: {', '.join(regs)}).  The multiplier terms are $\\ge 0$ ($y_i \\in [0, 1]$), the "
           "$\\tau$ terms sum to $\\tau(\\sum \\hat y - \\sum y) = \\tau(k - k) = 0$, and $g'' > 0$ makes each "
           "$D_g \\ge 0$, zero iff $y_i = \\hat y_i$: $L \\ge 0$, $L = 0 \\iff y = \\hat y$.")
    ends = [v for r, v in (("zero", 0), ("cap", 1)) if r in regs]
    for free in (2, 3):
        _implicit(free, tuple(ends))
    _implicit(2, ())
    d.step("Implicit differentiation of $\\sum_{i \\in F} G(\\theta_i - \\tau(\\theta)) = k - \\#\\{\\hat y_i = 1\\}$ "
           "($F$ the free set; checked with 2 and 3 free coordinates beside one at each end) gives "
           "$J = \\operatorname{diag}(s) - s s^\\top / S$, $s_i = 1/g''(\\hat y_i)$ on $F$, $s_i = 0$ at 0 and at "
           "the cap; $\\nabla_\\theta L = \\nabla\\Omega^* - y = \\hat y - y$ (FY-1) and $\\nabla^2 L = J$.")
    for n in range(2, 5):
        s = sp.symbols(f"s1:{n + 1}", positive=True)
        v = sp.symbols(f"v1:{n + 1}", real=True)
        tot = sum(s)
        J = sp.Matrix(n, n, lambda i, j: sym_fy.jacobian_entry(s[i], s[j], tot, i == j))
        quad = (sp.Matrix([v]) * J * sp.Matrix(v))[0]
        lagrange = sum(s[i] * s[j] * (v[i] - v[j])**2 for i in range(n) for j in range(i + 1, n)) / tot
        if sp.simplify(quad - lagrange) != 0:
            raise SuiteDefect(f"{loss.name}: v^T J v is not Lagrange's sum of squares on a free set of {n}")
        if any(sp.simplify(sum(J[i, :])) != 0 for i in range(n)):
            raise SuiteDefect(f"{loss.name}: the stated Jacobian's rows do not sum to 0 (J1 != 0)")
    d.step("On $F$, $v^\\top J v = \\sum_{i<j} s_i s_j (v_i - v_j)^2 / S \\ge 0$ (Lagrange's identity, $|F| = 2, 3, 4$) "
           "and the rows sum to 0; off $F$ $J$ is 0.  So $J \\succeq 0$ ($L$ convex) and $J\\mathbf 1 = 0$: "
           "$L(\\theta + c\\mathbf 1; y) - L(\\theta; y) = c(\\sum \\hat y - \\sum y) = c(k - k) = 0$.")
    d.summary = (f"$L = \\sum_i [D_g(y_i, \\hat y_i) + \\text{{multiplier terms}}] \\ge 0$, zero iff $y = \\hat y$; "
                 f"$\\nabla L = \\hat y - y$; $\\nabla^2 L = \\operatorname{{diag}}(s) - ss^\\top/\\sum s \\succeq 0$ "
                 f"on the "
                 f"free set, $J\\mathbf 1 = 0$, for {loss.name} on $C_k$")
    return d.decide(True)


# -- FY-3 and FY-4 -------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def capped_facts(loss: SeparableLoss) -> dict[str, tuple[sp.Expr | None, str]]:
    """The capped rows' own facts, name → (value, how): the margin g′(1⁻) − g′(0⁺) (``oo``:
    none), the k = 1 lower end sup_{(0,½]} s and the constant sup_{(0,1)} s (module docstring)."""
    f = derive(loss)
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    margin = sp.simplify(d1 - d0) if _finite(d0) and _finite(d1) else sp.oo
    lo1 = _sup(f.s, loss.x, sp.Interval.Lopen(0, sp.Rational(1, 2)))
    top = _sup(f.s, loss.x, sp.Interval.open(0, 1))
    return {"margin": (margin, SYMBOLIC), "Lipschitz >= (k = 1, n >= 3)": lo1, "Lipschitz (sup over k, n)": top}


def margin_derivation(loss: SeparableLoss, candidate: sp.Expr | None) -> Derivation:
    """FY-3 on C_k: for every k < n and k-hot y = 1_Y, L(θ; y) = 0 ⟺ min_Y θ − max_{∉Y} θ ≥ m,
    m the candidate (None: the claim that there is none), decided against
    m* = g′(1⁻) − g′(0⁺).  A counterexample is given at k = 1 (n = 3, y = e₁), where the
    outside re-checker's vertex certificate applies: the margin does not depend on k."""
    f = derive(loss)
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    true = capped_facts(loss)["margin"][0]
    claim = "has no separation margin" if candidate is None else f"has separation margin ${sp.latex(candidate)}$"
    d = Derivation(statement=f"{loss.name} on $C_k$ {claim}: for every $k < n$ and $k$-hot $y = \\mathbf 1_Y$, "
                             f"$L(\\theta; y) = 0 \\iff \\min_{{i \\in Y}} \\theta_i - \\max_{{j \\notin Y}} \\theta_j "
                             f"\\ge m$" + (" for no finite $m$" if candidate is None else ""),
                   scope="symbolic in $n$, $k$ and $\\theta$",
                   assumptions=["$g$ is $C^2$ with $g'' > 0$ on $(0, 1)$ (checked)", ON_CK])
    d.step(f"The clip ends: $g'(0^+) = {sp.latex(d0)}$, $g'(1^-) = {sp.latex(d1)}$.  $L(\\theta; y) = 0 \\iff "
           "\\hat y = y$ (FY-2), and by the regions of the map (FY-1) $\\hat y = \\mathbf 1_Y$ iff some $\\tau$ has "
           "$\\theta_i - \\tau \\ge g'(1^-)$ on $Y$ and $\\theta_j - \\tau \\le g'(0^+)$ off it.")
    if _finite(true):
        d.step("Such a $\\tau$ exists iff $\\min_Y \\theta - g'(1^-) \\ge \\max_{\\notin Y} \\theta - g'(0^+)$: "
               "the margin, the same for every $k$ ($k = 1$: the simplex's), is", true)
    else:
        d.step("An infinite end leaves no such $\\tau$ at any finite $\\theta$ ($g'(0^+) = -\\infty$: every "
               "$\\hat y_j > 0$; $g'(1^-) = \\infty$: every $\\hat y_i < 1$): no margin, for every $k$.")
    d.summary = (f"margin {'none' if not _finite(true) else f'${sp.latex(true)}$'} for every $k$, from "
                 f"$g'(1^-) - g'(0^+)$; the claim: {'none' if candidate is None else f'${sp.latex(candidate)}$'}")
    ok = (not _finite(true)) if candidate is None else (_finite(true) and is_zero(candidate - true) is True)
    if not ok:
        d.counterexample = margin_counterexample(candidate, true)
    return d.decide(ok)


def smoothness_derivation(loss: SeparableLoss, constant: sp.Expr | None) -> Derivation:
    """FY-4 on C_k: sup over k, n > k and θ of λ_max(J_ŷ(θ)) against ``constant`` (``oo``: not
    Lipschitz), decided against c* = sup_{(0,1)} s (module docstring).  A constant below the k = 1
    lower end fails at the simplex point of :func:`proofs.user.facts.smoothness_point`; one between
    that end and c* is exceeded only at k ≥ 2, where no outside re-checker covers the point yet:
    undecided, saying so; one above c* is not attained: undecided."""
    f = derive(loss)
    facts = capped_facts(loss)
    lo1, how1 = facts["Lipschitz >= (k = 1, n >= 3)"]
    top, how = facts["Lipschitz (sup over k, n)"]
    what = "no finite constant" if constant == sp.oo else f"the constant ${sp.latex(constant)}$"
    d = Derivation(statement=f"$\\nabla_\\theta L$ of {loss.name} on $C_k$: $\\sup_{{k, n, \\theta}} "
                             f"\\lambda_{{\\max}}(J_{{\\hat y}}(\\theta))$ is {what}",
                   scope="symbolic in $k$, $n$ and $\\theta$",
                   assumptions=["$g$ is $C^2$ with $g'' > 0$ on $(0, 1)$ (checked)", ON_CK])
    d.step("On the free set $J = \\operatorname{diag}(s) - ss^\\top/\\sum s$ (0 elsewhere) with",
           sp.Eq(sp.Symbol("s(p)"), f.s.subs(loss.x, sp.Symbol("p"))))
    d.step(f"$J \\preceq \\operatorname{{diag}}(s)$: $\\lambda_{{\\max}} \\le \\sup_{{(0,1)}} s = "
           f"{sp.latex(top) if top is not None else '?'}$.  For $k \\ge 2$, $n = 2k$, $\\hat y = (a, a, 1 - a, 1 - a, "
           "\\tfrac12, \\dots, \\tfrac12) \\in C_k$ is the map's output at $\\theta_i = g'(\\hat y_i)$ ($\\tau = 0$) and "
           "$e_1 - e_2$ has eigenvalue $s(a)$ for every $a \\in (0, 1)$: the supremum is attained in the limit.  At "
           f"$k = 1$ only $a \\le \\tfrac12$ is reachable: $[{sp.latex(lo1) if lo1 is not None else '?'}, "
           f"{sp.latex(top) if top is not None else '?'}]$.")
    if top is None:
        d.summary = f"constant not derived ({sym_fy.prose(how)})"
        return d.decide(None)
    d.summary = (("no finite constant: $\\sup_{(0,1)} 1/g'' = \\infty$" if top == sp.oo else
                  f"constant ${sp.latex(top)}$ over $k$ and $n$ (the bound is attained at $k \\ge 2$)")
                 + f"; the claim: {'none' if constant == sp.oo else f'${sp.latex(constant)}$'}")
    if constant == sp.oo:
        return d.decide(top == sp.oo)
    if top == sp.oo or sp.N(constant - top, 30) < 0:
        if lo1 is not None and (lo1 == sp.oo or sp.N(constant - lo1, 30) < 0):
            d.counterexample = smoothness_point(loss, constant)
            if d.counterexample is not None:
                return d.decide(False)
        d.step("The claim is exceeded only at $k \\ge 2$; the outside re-checker covers points of the simplex "
               "($k = 1$) only, so no counterexample is stored.")
        return d.decide(None)
    if sp.N(constant - top, 30) > 0:
        d.step(f"The claimed constant exceeds the upper bound ${sp.latex(top)}$: it is not attained.")
        return d.decide(None)
    return d.decide(True)
