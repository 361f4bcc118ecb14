"""CON-3 (order preservation, readings O1 and O2) and DYN-1 (which negatives get a gradient)
derived for any separable regulariser Ω(p) = Σᵢ g(pᵢ) on the simplex (issue 23 §4).

The KKT conditions of ŷ = argmax_{p ∈ Δ} ⟨θ, p⟩ − Ω(p) (proofs/user/facts.py; Blondel, Martins
& Niculae, JMLR 2020, §4) give ŷᵢ = f(θᵢ − τ) with one threshold τ for every coordinate and
every n, f = G ∘ clip(·, g′(0⁺), g′(1⁻)) and G = (g′)⁻¹.  G is an undefined function here whose
one rule is its derivative, obtained by implicit differentiation of g′(G(t)) = t:
G′(t) = 1/g″(G(t)) > 0 (g″ > 0 on (0, 1) is a derived fact, proofs/user/facts.py).  So

* O1 (Zhang 2004's order preservation of the prediction map): f is non-decreasing, hence
  θᵢ > θⱼ ⇒ ŷᵢ ≥ ŷⱼ (WOP) for every n; f is strictly increasing wherever the clip is inactive.
  If g′(0⁺) = −∞ the lower clip never binds, and the upper one only at ŷᵢ = 1, which would
  leave every other ŷⱼ = 0 < G(anything): so ŷ is strictly order preserving (SOP).  If
  g′(0⁺) is finite, θ = (g′(½), g′(½), g′(0⁺), g′(0⁺) − 1), τ = 0 has ŷ = (½, ½, 0, 0) by its
  KKT certificate: θ₃ > θ₄ with ŷ₃ = ŷ₄ (not SOP).
* O2 (Bayes minimizers): by FY-2 the minimizers of R(·; η) = L(·; η) + const are the θ with
  ŷ(θ) = η, so θᵢ − τ = g′(ηᵢ) on the support: ηᵢ > ηⱼ > 0 ⇒ θᵢ > θⱼ and ties stay tied.  A zero
  of η: with g′(0⁺) finite any θⱼ − τ ≤ g′(0⁺) is a minimizer (ties split: the witness above,
  η = (½, ½, 0, 0)); with g′(0⁺) = −∞ none is attained, and along a minimizing sequence
  (L = Σ D_g(ηᵢ, ŷᵢ) → 0, so ŷ → η) θⱼ − τ = g′(ŷⱼ) → −∞ for every zero: tied at −∞ in the
  extended reals, the support ordered like η (SOP in the limit).
* DYN-1: ∂L/∂θⱼ = ŷⱼ − yⱼ (FY-2), so a negative class gets the gradient f(θⱼ − τ): positive at
  every finite θ when g′(0⁺) = −∞ (G maps into (0, 1)); exactly 0 iff θⱼ − τ ≤ g′(0⁺), i.e.
  off the support, when g′(0⁺) is finite.

What the derivations read is looked up at call time (:func:`coordinate_map`,
:func:`minimizer_score`), so that a wrong input -- a planted defect (reports/user/claims_con.py)
-- enters where a bug would.  Strict convexity decided beyond sympy leaves a scope gap.
"""
from __future__ import annotations

import functools

import sympy as sp

from audit.separable import SeparableLoss

from ..derivation import Derivation
from .facts import SYMBOLIC, derive

U = sp.Symbol("u", real=True)        # θᵢ − τ
Q = sp.Symbol("q", positive=True)    # a value of G, in (0, 1)
W = sp.Symbol("w", positive=True)    # q = w/(1 + w) sweeps (0, 1)


@functools.lru_cache(maxsize=32)
def inverse_function(loss: SeparableLoss) -> tuple[type, sp.Expr]:
    """(G, G′ as an expression in G(t)): G an undefined function of one argument whose
    derivative sympy takes from the implicit differentiation of g′(G(t)) = t."""
    f = derive(loss)
    t = sp.Symbol("t", real=True)
    Gt = sp.Function("G")(t)
    (slope,) = sp.solve(sp.diff(f.g1.subs(loss.x, Gt), t) - 1, sp.diff(Gt, t))
    slope_q = sp.simplify(slope.subs(Gt, Q))

    class G(sp.Function):   # noqa: N801 -- the inverse's usual name
        nargs = 1

        def fdiff(self, argindex=1):
            return slope_q.subs(Q, self)

    return G, slope_q


# sympy over the loss alone, which no planted defect patches: derived once per loss
inverse_function.keep_across_planted = True  # type: ignore[attr-defined]


def coordinate_map(G: type, u: sp.Expr) -> sp.Expr:
    """ŷᵢ as a function of uᵢ = θᵢ − τ on the free interval: G(u)."""
    return G(u)


def minimizer_score(loss: SeparableLoss, eta: sp.Expr) -> sp.Expr:
    """θᵢ − τ at a minimizer of R(·; η) on the support: g′(ηᵢ) (KKT with ŷᵢ = ηᵢ)."""
    f = derive(loss)
    return f.g1.subs(loss.x, eta)


def _positive_on_unit(expr: sp.Expr, s: sp.Expr) -> bool | None:
    """expr(q) > 0 on (0, 1): sympy after q = w/(1 + w); else the convexity fact when expr = s."""
    v = sp.simplify(expr.subs(Q, W / (1 + W))).is_positive
    if v is not None:
        return v
    if sp.simplify(expr - s) == 0:
        return True
    return None


def _base(loss: SeparableLoss, statement: str, scope: str) -> tuple[Derivation, object]:
    f = derive(loss)
    how = f["g''>0 on (0,1)"].how
    d = Derivation(statement=statement, scope=scope,
                   assumptions=[f"$g'' > 0$ on $(0, 1)$ ({'symbolic' if how == SYMBOLIC else how})",
                                "$\\Omega$ on the simplex; $\\hat y_i = G(\\operatorname{clip}(\\theta_i - \\tau, "
                                "g'(0^+), g'(1^-)))$, one threshold $\\tau$ (KKT, FY-1)"])
    if how != SYMBOLIC:
        d.gap = f"strict convexity of $g$ rests on a check beyond sympy ({how})"
    return d, f


def _monotone(d: Derivation, loss: SeparableLoss, f) -> tuple[bool | None, type]:
    """f = coordinate_map ∘ clip non-decreasing on R (and strictly on the free interval)."""
    G, slope = inverse_function(loss)
    s_q = f.s.subs(loss.x, Q)
    d.step("Implicit differentiation of $g'(G(t)) = t$ gives $G'(t)$ in $q = G(t)$:", slope)
    fm = coordinate_map(G, U)
    df = sp.diff(fm, U)
    df_q = df.replace(lambda e: isinstance(e, G), lambda e: Q)
    d.step("The per-coordinate map on the free interval, $f(u) =$", fm.replace(lambda e: isinstance(e, G),
                                                                               lambda e: sp.Function("G")(*e.args)))
    d.step("$f'(u)$ with $q = G(\\cdot) \\in (0, 1)$:", df_q)
    inc = _positive_on_unit(df_q, s_q) if df_q.has(Q) else (df_q.is_positive if df_q.is_number else None)
    if inc is None and sp.simplify(-df_q - s_q) == 0 or df_q.has(Q) and \
            sp.simplify(df_q.subs(Q, W / (1 + W))).is_negative:
        inc = False
    d.step(f"$f' > 0$ on the free interval: {inc}; the clip is non-decreasing and $f$ is continuous at its ends "
           "($G(g'(0^+)) = 0$, $G(g'(1^-)) = 1$), so $f$ is non-decreasing on $\\mathbb R$ and "
           "$\\theta_i > \\theta_j \\Rightarrow \\theta_i - \\tau > \\theta_j - \\tau \\Rightarrow \\hat y_i \\ge "
           "\\hat y_j$, for every $n$ (WOP).")
    return inc, G


def sparse_witness(loss: SeparableLoss) -> tuple[list[sp.Expr], list[sp.Expr], bool]:
    """(θ, ŷ, KKT certified) for θ = (g′(½), g′(½), g′(0⁺), g′(0⁺) − 1), τ = 0: ŷ = (½, ½, 0, 0)
    when g′(0⁺) is finite (module docstring)."""
    f = derive(loss)
    d0 = f["g'(0+)"].value
    half = sp.Rational(1, 2)
    theta = [f.g1.subs(loss.x, half)] * 2 + [d0, d0 - 1]
    yhat = [half, half, sp.S.Zero, sp.S.Zero]
    on = all(sp.simplify(f.g1.subs(loss.x, y) - t) == 0 for t, y in zip(theta[:2], yhat[:2]))
    off = all(sp.simplify(t - d0).is_nonpositive for t in theta[2:])
    inside = sp.simplify(theta[0] - d0).is_positive is True
    return theta, yhat, bool(on and off and inside and sum(yhat) == 1)


def _witness_cx(theta, yhat, eta: bool = False) -> dict:
    out = {"theta": [float(sp.N(t, 30)) for t in theta], "i": 2, "j": 3, "yhat": [float(y) for y in yhat]}
    if eta:
        out["eta"] = out["yhat"]
    return out


def order_o1(loss: SeparableLoss, claim: str) -> Derivation:
    """O1 for ``loss`` against ``claim`` ("SOP": strictly order preserving; "WOP": weakly but not
    strictly): WOP from f non-decreasing, SOP iff g′(0⁺) = −∞ (module docstring)."""
    if claim not in ("SOP", "WOP"):
        raise ValueError(f"claim must be 'SOP' or 'WOP', got {claim!r}")
    what = ("is strictly order preserving: $\\theta_i > \\theta_j \\Rightarrow \\hat y_i > \\hat y_j$" if claim == "SOP"
            else "is weakly but not strictly order preserving: $\\theta_i > \\theta_j \\Rightarrow \\hat y_i \\ge "
                 "\\hat y_j$, and some $\\theta$ has $\\theta_i > \\theta_j$ with $\\hat y_i = \\hat y_j$")
    d, f = _base(loss, f"{loss.name}'s prediction map {what}",
                 "symbolic in $n$ and $\\theta$ ($G = (g')^{-1}$ an undefined function with $G' = 1/g''(G)$)"
                 + ("; exact witness $n = 4$" if claim == "WOP" else ""))
    inc, _ = _monotone(d, loss, f)
    d0 = f["g'(0+)"].value
    d.step(f"$g'(0^+) = {sp.latex(d0)}$.")
    if d0 == -sp.oo:
        d.step("$g'(0^+) = -\\infty$: the lower clip never binds, so every $\\hat y_i = G(\\theta_i - \\tau) > 0$; "
               "the upper clip binds only where $\\hat y_i = 1$, which leaves the other entries 0: impossible for "
               "$n \\ge 2$.  So $\\hat y_i = G(\\theta_i - \\tau)$ with $G$ strictly increasing: SOP.")
        sop = True
    else:
        theta, yhat, cert = sparse_witness(loss)
        d.step("$g'(0^+)$ finite: $\\theta = (g'(\\tfrac12), g'(\\tfrac12), g'(0^+), g'(0^+) - 1)$, $\\tau = 0$ =",
               sp.Matrix(theta).T)
        d.step(f"has $\\hat y = (\\tfrac12, \\tfrac12, 0, 0)$ by its KKT certificate ($g'(\\hat y_i) = \\theta_i$ on "
               f"the support, $\\theta_i \\le g'(0^+)$ off it, $\\sum \\hat y = 1$): {cert}; $\\theta_3 > \\theta_4$ "
               "with $\\hat y_3 = \\hat y_4 = 0$: not SOP.")
        sop = False if cert else None
        if claim == "SOP" and sop is False:
            d.counterexample = _witness_cx(theta, yhat)
    d.summary = (f"{loss.name}: " + ("$\\theta_i > \\theta_j \\Rightarrow \\hat y_i > \\hat y_j$ (SOP), "
                                     "$g'(0^+) = -\\infty$" if sop else
                                     "$\\theta_i > \\theta_j \\Rightarrow \\hat y_i \\ge \\hat y_j$ (WOP), not SOP: "
                                     "$\\hat y$ is flat below $g'(0^+)$"))
    if inc is not True or sop is None:
        return d.decide(None if inc is None or sop is None else False)
    return d.decide(sop if claim == "SOP" else not sop)


def order_o2(loss: SeparableLoss, claim: str, premise: str) -> Derivation:
    """O2 for ``loss`` against ``claim`` (as :func:`order_o1`); ``premise``: the decision of
    FY-2 for this loss (the risk minimizers are the θ with ŷ(θ) = η)."""
    if claim not in ("SOP", "WOP"):
        raise ValueError(f"claim must be 'SOP' or 'WOP', got {claim!r}")
    what = ("$\\eta_i > \\eta_j \\Rightarrow \\theta_i > \\theta_j$ and $\\eta_i = \\eta_j \\Rightarrow \\theta_i = "
            "\\theta_j$ (limits of minimizing sequences, modulo shift, where $\\eta$ has zeros)" if claim == "SOP" else
            "$\\eta_i > \\eta_j \\Rightarrow \\theta_i \\ge \\theta_j$, but some minimizer splits a tie "
            "$\\eta_i = \\eta_j$")
    d, f = _base(loss, f"Every minimizer of {loss.name}'s conditional risk has {what}",
                 "symbolic in $n$ and $\\eta$" + ("; exact witness $n = 4$" if claim == "WOP" else
                                                  "; zeros of $\\eta$ in the extended reals"))
    d.step(f"Premise FY-2[user:{loss.name}] ($R(\\theta; \\eta) = L(\\theta; \\eta) + \\mathrm{{const}}$, $L \\ge 0$ "
           f"with equality iff $\\hat y(\\theta) = \\eta$): {premise}")
    inc, _ = _monotone(d, loss, f)
    ei, ej, dd = sp.symbols("eta_i eta_j d", positive=True)
    score = minimizer_score(loss, ei)
    kkt = sp.simplify(f.g1.subs(loss.x, ei) - score) == 0
    d.step("At a minimizer $\\hat y_i = \\eta_i$; on the support $\\theta_i - \\tau =$", score)
    d.step(f"which is the KKT condition $g'(\\hat y_i) = \\theta_i - \\tau$ at $\\hat y = \\eta$: {kkt}; $g'$ strictly "
           "increasing ($g'' > 0$) gives $\\eta_i > \\eta_j > 0 \\Rightarrow \\theta_i > \\theta_j$, and $\\eta_i = "
           "\\eta_j \\Rightarrow \\theta_i = \\theta_j$ (unique modulo the shift $\\tau$).")
    tie = sp.simplify(score.subs(ei, ej) - minimizer_score(loss, ej)) == 0
    d0 = f["g'(0+)"].value
    if d0 == -sp.oo:
        lim = sp.limit(f.g1, loss.x, 0, "+")
        d.step("$\\eta$ with zeros: every $\\hat y_j > 0$, so no minimizer is attained; on a minimizing sequence "
               "$L = \\sum_i D_g(\\eta_i, \\hat y_i) \\to 0$ (FY-2), so $\\hat y \\to \\eta$ ($g$ strictly convex and "
               "continuous on $[0, 1]$) and $\\theta_j - \\tau = g'(\\hat y_j) \\to$", sp.Eq(
                   sp.Limit(f.g1, loss.x, 0, "+"), lim))
        d.step("for every zero $j$: they tie at $-\\infty$ in the extended reals, the support at $g'(\\eta_i)$, "
               "ordered like $\\eta$: SOP in the limit.")
        sop = lim == -sp.oo
    else:
        theta, yhat, cert = sparse_witness(loss)
        d.step(f"$g'(0^+) = {sp.latex(d0)}$ finite: a zero $\\eta_j = 0$ allows any $\\theta_j - \\tau \\le g'(0^+) < "
               "g'(\\eta_i)$ for $\\eta_i > 0$ (WOP), and ties at 0 split: $\\eta = (\\tfrac12, \\tfrac12, 0, 0)$ is "
               "$\\hat y(\\theta)$ at", sp.Matrix(theta).T)
        d.step(f"(KKT certificate: {cert}), so $\\theta$ minimizes $R(\\cdot; \\eta)$ with $\\eta_3 = \\eta_4$ but "
               "$\\theta_3 > \\theta_4$: not SOP.")
        sop = False if cert else None
        if claim == "SOP" and sop is False:
            d.counterexample = _witness_cx(theta, yhat, eta=True)
    d.summary = (f"{loss.name}: the risk minimizers have " + (
        "$\\theta_i - \\tau = g'(\\eta_i)$, ordered like $\\eta$, ties tied (SOP; zeros at $-\\infty$)" if sop else
        "$\\eta_i > \\eta_j \\Rightarrow \\theta_i \\ge \\theta_j$ (WOP); a tie at 0 can split (not SOP)"))
    ok_premise = premise == "holds"
    if inc is not True or sop is None or not kkt or not tie or not ok_premise:
        return d.decide(None if (inc is None or sop is None or not ok_premise) else False)
    return d.decide(sop if claim == "SOP" else not sop)


def negative_gradient(G: type, u: sp.Expr, lo: sp.Expr) -> sp.Expr:
    """∂L/∂θⱼ of a negative class (yⱼ = 0) at uⱼ = θⱼ − τ below the upper clip: ŷⱼ − 0 (FY-2),
    with ŷⱼ = G(g′(0⁺)) = 0 at and below a finite lower clip ``lo``."""
    return G(u) if lo == -sp.oo else sp.Piecewise((0, u <= lo), (G(u), True))


def gradient_support(loss: SeparableLoss, dense: bool, premise: str) -> Derivation:
    """DYN-1 for ``loss``: ``dense`` -- every negative gets a non-zero gradient at every finite θ;
    else a negative gets exactly zero gradient iff it is outside the support of ŷ (module
    docstring); ``premise``: FY-2's decision (∇L = ŷ − y)."""
    what = ("gives every negative class a non-zero gradient at every finite $\\theta$" if dense else
            "gives exactly zero gradient to every negative class outside the support of $\\hat y$, and a non-zero "
            "one inside it")
    d, f = _base(loss, f"{loss.name} {what}", "symbolic in $n$ and $\\theta$")
    d.step(f"Premise FY-2[user:{loss.name}] ($\\nabla_\\theta L = \\hat y - y$): {premise}; for a negative $j$ "
           "($y_j = 0$) the gradient is $\\hat y_j$, a function of $u_j = \\theta_j - \\tau$ alone.")
    G, _ = inverse_function(loss)
    d0 = f["g'(0+)"].value
    c = sp.Symbol("c", positive=True)
    grad = negative_gradient(G, U, d0)
    to_q = lambda e: e.replace(lambda a: isinstance(a, G), lambda a: Q)   # noqa: E731
    inside = to_q(grad.subs(U, (d0 + c) if d0 != -sp.oo else U))
    d.step("On the support ($u_j > g'(0^+)$, below the upper clip), with $q = G(u_j) \\in (0, 1)$, the gradient is",
           inside)
    pos = sp.simplify(inside.subs(Q, W / (1 + W))).is_positive
    d.step(f"positive: {pos}; $g'(0^+) = {sp.latex(d0)}$.")
    if d0 == -sp.oo:
        d.step("Every $u_j$ is on the support, and no negative reaches the upper clip ($\\hat y_j = 1$ would leave "
               "the label's class at 0): every negative gets a positive gradient at every finite $\\theta$.")
        zero_off = None
        holds = dense
    else:
        below = sp.simplify(to_q(grad.subs(U, d0 - c)))
        at = sp.simplify(to_q(grad.subs(U, d0)))
        zero_off = below == 0 and at == 0
        d.step(f"Off the support ($u_j = g'(0^+) - c$, $c \\ge 0$) the gradient is ${sp.latex(below)}$ "
               f"(at $c = 0$: ${sp.latex(at)}$): exactly 0: {zero_off}.  It depends on $\\theta_j$ through $u_j$ alone, "
               "so the zero-gradient negatives are exactly those outside the support.")
        holds = (not dense) and zero_off
    d.summary = (f"{loss.name}: " + ("$\\partial L/\\partial\\theta_j = \\hat y_j > 0$ for every negative at every "
                                     "finite $\\theta$" if d0 == -sp.oo else
                                     "$\\partial L/\\partial\\theta_j = 0$ exactly off the support of $\\hat y$, "
                                     "$= \\hat y_j > 0$ on it"))
    if pos is None or premise != "holds":
        return d.decide(None)
    return d.decide(bool(pos) and holds)


def fy2_derivation(loss: SeparableLoss) -> Derivation:
    """FY-2 derived for ``loss`` (proofs/user/fy.py), once per loss: the FY-2 row's evidence
    and the premise of O2 and DYN-1 (the risk minimizers are the θ with ŷ(θ) = η; ∇L = ŷ − y)."""
    from . import fy as separable_fy

    return _fy2(loss, separable_fy.jacobian_entry)


@functools.lru_cache(maxsize=32)
def _fy2(loss: SeparableLoss, entry) -> Derivation:
    from .fy import properties_derivation

    return properties_derivation(loss)


# keyed by the Jacobian entry the derivation reads (what FY-2's planted defect patches), so a
# planted run never meets the real result, and the real one survives planted runs
_fy2.keep_across_planted = True  # type: ignore[attr-defined]


def fy2_premise(loss: SeparableLoss) -> str:
    """FY-2's decision for ``loss``: the premise of O2 and DYN-1."""
    return fy2_derivation(loss).decision
