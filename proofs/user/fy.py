"""FY-1 and FY-2 derived for any separable regulariser Ω(p) = Σᵢ g(pᵢ) on the simplex (issue 23 §4).

Blondel, Martins & Niculae (JMLR 2020, §3–4): the loss L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩ of
a strictly convex Ω has ∇Ω* = ŷ, L ≥ 0 with equality iff y = ŷ(θ), L convex in θ,
∇_θL = ŷ − y and L(θ + c1; y) = L(θ; y) on the simplex.  Here each step is an identity that
sympy decides with g and G = (g′)⁻¹ as undefined functions, whose one rule is g′(G(t)) = t
(the definition of G), so the identities hold for every admissible g; the facts that make
them apply to this g (g″ > 0 on (0, 1), hence G exists and the argmax is unique; the clip
ends g′(0⁺), g′(1⁻)) come from :func:`proofs.user.facts.derive`.  A fact sympy could not
decide (``beyond sympy``) is shown with its reason and leaves a scope gap (supported at
most).  Every step is per coordinate, with τ = τ(θ) the multiplier of Σŷ = 1 and S = Σⱼ sⱼ
a symbol, so the scope is symbolic in n; a disagreement between two of our routes (the
stated per-coordinate conjugate against the dual route, the stated Jacobian against
implicit differentiation) is a defect of ours (:class:`audit.SuiteDefect`).
"""
from __future__ import annotations

import sympy as sp

from audit import SuiteDefect
from audit.separable import SeparableLoss

from ..derivation import Derivation
from .facts import SYMBOLIC, derive, map_latex

g, G = sp.Function("g"), sp.Function("G")
TI, TJ, C = sp.symbols("theta_i theta_j c", real=True)
TAU = sp.Function("tau")(TI, TJ)          # the multiplier of Σŷ = 1, a function of θ
SI, S = sp.symbols("s_i S", positive=True)
Y = sp.Symbol("y_i", nonnegative=True)


def conjugate_term(theta_i: sp.Expr, tau: sp.Expr) -> sp.Expr:
    """Coordinate i of Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) at ŷᵢ = G(θᵢ − τ): θᵢ G(θᵢ − τ) − g(G(θᵢ − τ))."""
    q = G(theta_i - tau)
    return theta_i * q - g(q)


def jacobian_entry(s_i: sp.Expr, s_j: sp.Expr, total: sp.Expr, same: bool) -> sp.Expr:
    """Entry (i, j) of J = ∂ŷ/∂θ = diag(s) − ssᵀ/Σs on the support, s = 1/g″(ŷ) = G′(θ − τ)."""
    return (s_i if same else 0) - s_i * s_j / total


def _rule(expr: sp.Expr) -> sp.Expr:
    """g′(G(u)) → u, the definition of G, wherever it occurs."""
    for d in expr.atoms(sp.Derivative):
        if len(d.variables) == 1 and d.expr.func == g and d.variables[0] == d.expr.args[0] \
                and getattr(d.variables[0], "func", None) == G:
            expr = expr.subs(d, d.variables[0].args[0])
    return expr


def _zero(expr: sp.Expr) -> bool:
    return sp.simplify(_rule(expr.doit())) == 0


def prose(how: str) -> str:
    """A derived fact's ``how`` (proofs/user/facts.py: plain text such as "beyond sympy:
    (g')^(-1) kept implicit ...") as marked text (audit/markup.py): the inverse's name set as
    mathematics, since a ``^`` in prose breaks the rule, and so is the identity the inverse is
    verified by.  The other ``how`` texts of :func:`proofs.user.facts.derive` (g'' and 1/g''
    in words) are prose already."""
    return how.replace("(g')^(-1)", "$(g')^{-1}$").replace("G(g'(q)) = q", "$G(g'(q)) = q$")


SCOPE = ("symbolic in $n$ and $\\theta$ ($g$, $G = (g')^{-1}$ undefined functions with $g'(G(t)) = t$; $\\tau$ "
         "the multiplier of $\\sum_i \\hat y_i = 1$)")


def base(loss: SeparableLoss, statement: str, scope: str = SCOPE,
         domain: str = "$\\Omega$ on the simplex") -> tuple[Derivation, object]:
    """A FY derivation of ``loss`` opened with what every one rests on, on the simplex or (with
    its scope and domain) on C_k: g″ > 0 on (0, 1) and how it was decided, g′ at the ends, and
    G = (g′)⁻¹ verified or kept implicit; with the derived facts."""
    f = derive(loss)
    how = f["g''>0 on (0,1)"].how
    d = Derivation(statement=statement, scope=scope,
                   assumptions=[f"$g'' > 0$ on $(0, 1)$ ({'symbolic' if how == SYMBOLIC else prose(how)})", domain])
    if how != SYMBOLIC:
        d.gap = f"strict convexity of $g$ rests on a check beyond sympy ({prose(how)})"
    inv = f["(g')^(-1)(t)"]
    lo, hi = f["g'(0+)"].value, f["g'(1-)"].value
    d.step(f"For this $g$: $g'(0^+) = {sp.latex(lo)}$, $g'(1^-) = {sp.latex(hi)}$, and "
           + (f"$G = (g')^{{-1}}$ is verified symbolically (${map_latex(f)}$)." if inv.how == SYMBOLIC and
              inv.value is not None else f"$G = (g')^{{-1}}$ stays implicit ({prose(inv.how)}); it exists because "
                                          "$g'$ is strictly increasing."))
    return d, f


def conjugate_derivation(loss: SeparableLoss) -> Derivation:
    """FY-1: ŷ = G(clip(θ − τ)) is the argmax (KKT) and Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) with ∇Ω* = ŷ.

    Routes: (i) the per-coordinate value of :func:`conjugate_term` against the dual
    Ω*(θ) = min_τ τ + Σᵢ h(θᵢ − τ) with h(t) = max_{q ∈ [0,1]} tq − g(q) = tG(t) − g(G(t)),
    whose stationarity in τ is Σ h′(θᵢ − τ) = 1 and h′ = G (envelope); (ii) ∂/∂θⱼ of the
    per-coordinate terms with τ = τ(θ): δᵢⱼ G(uᵢ) + τ ∂ⱼG(uᵢ), which sums to ŷⱼ since
    Σᵢ ∂ⱼ G(uᵢ) = ∂ⱼ Σᵢ ŷᵢ = 0."""
    d, f = base(loss, f"{loss.name}: $\\hat y_i = (g')^{{-1}}(\\operatorname{{clip}}(\\theta_i - \\tau))$ is the "
                       "argmax of $\\langle\\theta, p\\rangle - \\Omega(p)$ on the simplex, "
                       "$\\Omega^*(\\theta) = \\langle\\theta, \\hat y\\rangle - \\Omega(\\hat y)$ and "
                       "$\\nabla\\Omega^* = \\hat y$")
    lo = f["g'(0+)"].value
    d.step("KKT of the concave problem: $\\theta_i - g'(\\hat y_i) - \\tau + \\mu_i = 0$, $\\mu_i \\ge 0$, "
           "$\\mu_i \\hat y_i = 0$; on the support $\\hat y_i = G(\\theta_i - \\tau)$ ($\\mu_i = 0$), off it "
           f"$\\hat y_i = 0$ with $\\mu_i = {sp.latex(lo)} - (\\theta_i - \\tau) \\ge 0$ (the clip); "
           "$g'' > 0$ makes them sufficient and the argmax unique.")
    t = sp.Symbol("t", real=True)
    h = t * G(t) - g(G(t))
    if not _zero(sp.diff(h, t) - G(t)):
        raise SuiteDefect("the envelope identity h'(t) = G(t) does not reduce to 0")
    d.step("The coordinate conjugate $h(t) = t G(t) - g(G(t))$ has $h'(t) = G(t)$ (envelope), so the dual "
           "$\\min_\\tau \\tau + \\sum_i h(\\theta_i - \\tau)$ is stationary where $\\sum_i G(\\theta_i - \\tau) = 1$.")
    stated = conjugate_term(TI, TAU)
    dual = (h.subs(t, TI - TAU) + TAU * G(TI - TAU))
    if not _zero(stated - dual):
        raise SuiteDefect(f"{loss.name}: the stated coordinate of Omega* differs from the dual route by "
                          f"{sp.simplify(_rule(stated - dual))}")
    d.step("Coordinate by coordinate the stated value equals the dual's, "
           "$\\theta_i G(u_i) - g(G(u_i)) = h(u_i) + \\tau G(u_i)$, $u_i = \\theta_i - \\tau$; summed with "
           "$\\sum_i \\hat y_i = 1$: $\\Omega^*(\\theta) = \\tau + \\sum_i h(u_i)$.")
    for same, wi in ((True, TI), (False, TJ)):
        want = (G(TI - TAU) if same else 0) + TAU * sp.diff(G(TI - TAU), wi)
        if not _zero(sp.diff(stated, wi) - want):
            raise SuiteDefect(f"{loss.name}: d(Omega*_i)/d theta_{'i' if same else 'j'} is not "
                              "delta_ij G(u_i) + tau dG(u_i)")
    d.step("With $\\tau = \\tau(\\theta)$: $\\partial_j [\\theta_i G(u_i) - g(G(u_i))] = \\delta_{ij} G(u_i) + "
           "\\tau\\, \\partial_j G(u_i)$, and $\\sum_i \\partial_j G(u_i) = \\partial_j \\sum_i \\hat y_i = 0$, so",
           sp.Eq(sp.Symbol("\\partial_j \\Omega^*"), sp.Symbol("\\hat y_j")))
    d.summary = (f"$\\hat y = (g')^{{-1}}(\\operatorname{{clip}}(\\theta - \\tau))$, "
                 f"$\\Omega^* = \\langle\\theta, \\hat y\\rangle - \\Omega(\\hat y)$, $\\nabla\\Omega^* = \\hat y$ "
                 f"for {loss.name}, with the dual route agreeing")
    return d.decide(True)


def properties_derivation(loss: SeparableLoss) -> Derivation:
    """FY-2: L ≥ 0 with equality iff y = ŷ (a sum of Bregman terms of g), ∇L = ŷ − y, the
    Hessian J = diag(s) − ssᵀ/Σs positive semidefinite (convexity) with J1 = 0, and
    L(θ + c1; y) = L(θ; y).  The stated J (:func:`jacobian_entry`) is checked against the
    implicit differentiation of ŷᵢ = G(θᵢ − τ(θ)) with Σŷ = 1."""
    d, f = base(loss, f"{loss.name}: $L \\ge 0$; $L = 0 \\iff y = \\hat y(\\theta)$; $L$ convex in $\\theta$; "
                       "$\\nabla_\\theta L = \\hat y - y$; $L(\\theta + c\\mathbf 1; y) = L(\\theta; y)$")
    lo = f["g'(0+)"].value
    q = G(TI - TAU)
    term = TI * q - g(q) + g(Y) - TI * Y
    bregman = g(Y) - g(q) - sp.Subs(sp.Derivative(g(sp.Symbol("z")), sp.Symbol("z")), sp.Symbol("z"), q) * (Y - q)
    if not _zero(term - bregman - TAU * (q - Y)):
        raise SuiteDefect("the per-coordinate Bregman decomposition of L does not reduce to 0")
    d.step("On the support, coordinate $i$ of $L$ is $D_g(y_i, \\hat y_i) + \\tau(\\hat y_i - y_i)$ with the "
           "Bregman term $D_g(a, b) = g(a) - g(b) - g'(b)(a - b)$; the $\\tau$ terms sum to 0 on the simplex.")
    off = ("there is no coordinate off the support ($g'(0^+) = -\\infty$: every $\\hat y_i > 0$)" if lo == -sp.oo else
           "off the support ($\\hat y_i = 0$, $\\theta_i - \\tau \\le g'(0^+) = " + sp.latex(lo) + "$) the term is "
           "$g(y_i) - g(0^+) - (\\theta_i - \\tau) y_i \\ge D_g(y_i, 0^+) \\ge 0$")
    d.step(f"Here {off}.  $g'' > 0$ makes each $D_g \\ge 0$, zero iff $y_i = \\hat y_i$: "
           "$L \\ge 0$ and $L = 0 \\iff y = \\hat y$.")
    # J by implicit differentiation at n = 3: ∂ⱼτ from ∂ⱼ Σₖ G(θₖ − τ) = 0, then ∂ⱼ G(θᵢ − τ(θ))
    th = sp.symbols("theta1:4", real=True)
    tau = sp.Function("tau")(*th)
    u = [t - tau for t in th]
    gp = [sp.Subs(sp.Derivative(G(sp.Symbol("z")), sp.Symbol("z")), sp.Symbol("z"), ui) for ui in u]
    for j in range(3):
        dtau = sp.solve(sp.diff(sum(G(ui) for ui in u), th[j]), sp.diff(tau, th[j]))[0]
        for i in range(3):
            implicit = sp.diff(G(u[i]), th[j]).subs(sp.diff(tau, th[j]), dtau)
            stated = jacobian_entry(gp[i], gp[j], sum(gp), i == j)
            if sp.simplify((implicit - stated).doit()) != 0:
                raise SuiteDefect(f"{loss.name}: the stated Jacobian entry ({i + 1}, {j + 1}) differs from implicit "
                                  "differentiation of G(theta_i - tau(theta)) with sum(yhat) = 1")
    d.step("Implicit differentiation of $\\hat y_i = G(\\theta_i - \\tau(\\theta))$ with "
           "$\\partial_j \\sum_i \\hat y_i = 0$ gives $J = \\partial \\hat y / \\partial\\theta = "
           "\\operatorname{diag}(s) - s s^\\top / S$, $s_i = G'(u_i) = 1/g''(\\hat y_i)$, $S = \\sum s$, "
           "as stated; $\\nabla_\\theta L = \\nabla\\Omega^* - y = \\hat y - y$ (FY-1) and $\\nabla^2 L = J$.")
    if sp.simplify(jacobian_entry(SI, SI, S, True) + (S - SI) * jacobian_entry(SI, 1, S, False)) != 0:
        raise SuiteDefect(f"{loss.name}: the stated Jacobian's rows do not sum to 0 (J1 != 0)")
    d.step("Each row sums to $s_i - s_i S / S = 0$: $J\\mathbf 1 = 0$, so $L(\\theta + c\\mathbf 1; y) - "
           "L(\\theta; y) = c(\\sum \\hat y - \\sum y) = 0$.")
    for n in range(2, 6):
        s = sp.symbols(f"s1:{n + 1}", positive=True)
        v = sp.symbols(f"v1:{n + 1}", real=True)
        tot = sum(s)
        J = sp.Matrix(n, n, lambda i, j: jacobian_entry(s[i], s[j], tot, i == j))
        quad = (sp.Matrix([v]) * J * sp.Matrix(v))[0]
        lagrange = sum(s[i] * s[j] * (v[i] - v[j])**2 for i in range(n) for j in range(i + 1, n)) / tot
        if sp.simplify(quad - lagrange) != 0:
            raise SuiteDefect(f"{loss.name}: v^T J v is not Lagrange's sum of squares at n = {n}")
    d.step("$v^\\top J v = \\sum_{i<j} s_i s_j (v_i - v_j)^2 / S \\ge 0$ (Lagrange's identity; sympy checks it "
           "for $n = 2, \\dots, 5$ with the stated $J$): $J \\succeq 0$ and $L$ is convex in $\\theta$.")
    d.summary = (f"$L = \\sum_i D_g(y_i, \\hat y_i) \\ge 0$, zero iff $y = \\hat y$; $\\nabla L = \\hat y - y$; "
                 f"$\\nabla^2 L = \\operatorname{{diag}}(s) - ss^\\top/\\sum s \\succeq 0$ with "
                 f"$J\\mathbf 1 = 0$ (shift invariance) for {loss.name}")
    return d.decide(True)
