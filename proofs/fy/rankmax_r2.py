"""Rankmax reading R2 (Kong et al., NeurIPS 2020): what the per-example scale changes in FY-1 … FY-3.

Reading R2 (losses/rankmax.py) scores a multi-hot label ``y`` (``k`` labels, the set ``Y``) by

    L_R2(θ; y) = L_{C_k}(a θ; y),   a = a(θ, y) = sup{a ∈ (0, A] : Π_{C_k}(a θ)_i > 0 for every i ∈ Y},

with ``L_{C_k}`` rankmax's FY loss (Ω = ½‖p‖² on C_k) and ``A`` the cap of the scale.  Facts used
below (Blondel, Martins, Niculae, JMLR 2020, §3-4 for the FY ones):

* fixed a > 0: ⟨aθ, p⟩ − ½‖p‖² = a(⟨θ, p⟩ − Ω_a(p)) with Ω_a(p) = ‖p‖²/(2a), so
  L_{C_k}(aθ; y) = a·L_{Ω_a}(θ; y), an FY loss in θ (times a) whose map is Π_{C_k}(aθ): FY-1 holds
  at every fixed scale, by R1's FY-1 at φ = aθ;
* a top-k item of θ has mass under Π_{C_k}(aθ) for every a (if it had none, only the k − 1 items
  above it could carry mass, at most 1 each, < k); so a(θ, y) = A whenever Y is a top-k set;
  otherwise the lowest label sits on the threshold at a = a(θ, y);
* a(θ + c1, y) = a(θ, y), since Π_{C_k}(φ + c1) = Π_{C_k}(φ) (⟨1, p⟩ = k on C_k).

FY-2 and FY-3 are then decided on the case n = 2, k = 1, y = e_1, θ = (t, 0), where the scale is
explicit: a = A for t ≥ −1/A, a = −1/t below (the label on the threshold), so aθ has the score
difference d(t) = A t, or −1; and the loss is f(d(t)) with f the k = 1 rankmax (sparsemax) loss of
e_1 at a difference d: 0 for d ≥ 1, (1 − d)²/4 for |d| ≤ 1, −d for d ≤ −1.

The scale rule under test is :data:`SCALE` ("adaptive": R2; "fixed": a = 1, reading R1), and the
stated forms are :data:`STATED`, both read at call time (reports/r2/planted.py patches them).
"""
from __future__ import annotations

import sympy as sp

from ..derivation import Derivation

#: the scale rule the derivations decide: "adaptive" (reading R2) or "fixed" (a = 1, reading R1)
SCALE = "adaptive"
#: the cap A of the scale the statements name (losses/rankmax.py: a_max = 1000), and the least cap the
#: n = 2 derivations assume (A ≥ 2)
CAP = 1000
#: the stated forms: Ω_a as a function of q = ‖p‖² and a; the stated margin (FY-3)
STATED = {"omega_a": lambda q, a: q / (2 * a), "margin": 1}

A = sp.Symbol("A", positive=True)
a = sp.Symbol("a", positive=True)
t = sp.Symbol("t", real=True)


def _conjugate_identities() -> tuple[list[tuple[str, sp.Expr]], bool | None]:
    """The fixed-scale identities with inner products as symbols (so for every n):
    s = ⟨θ, p⟩, q = ‖p‖², C = Ω*(aθ), r = ‖y‖², u = ⟨θ, y⟩; and the KKT stationarity of
    max ⟨θ, p⟩ − Ω_a(p) on a free coordinate, θ_i − ∂Ω_a/∂p_i − ν = 0."""
    s, q, C, r, u, nu, th, pi = sp.symbols("s q C r u nu theta_i p_i", real=True)
    om = STATED["omega_a"]
    out = [
        (r"objective: $\langle a\theta, p\rangle - \tfrac12\lVert p\rVert^2 - a(\langle\theta, p\rangle - "
         r"\Omega_a(p))$ =", sp.simplify(a * s - q / 2 - a * (s - om(q, a)))),
        (r"loss: $L_{C_k}(a\theta; y) - a\,L_{\Omega_a}(\theta; y)$, with $\Omega_a^*(\theta) = \Omega^*(a\theta)/a$, =",
         sp.simplify(C + r / 2 - a * u - a * (C / a + om(r, a) - u))),
    ]
    # stationarity on a free coordinate: p_i = a(θ_i − ν), i.e. clip(aθ − τ, 0, 1) with τ = aν
    stat = sp.diff(pi * th - om(pi ** 2, a), pi) - nu
    sol = sp.solve(sp.Eq(stat, 0), pi)
    out.append((r"KKT on a free coordinate: $p_i - a(\theta_i - \nu)$ =",
                sp.simplify(sol[0] - a * (th - nu)) if len(sol) == 1 else sp.Integer(1)))
    ok = all(v == 0 for _, v in out)
    return out, ok


def conjugate() -> Derivation:
    """FY-1 under R2: at every fixed scale a > 0, L_{C_k}(aθ; y) = a·L_{Ω_a}(θ; y), Ω_a = ‖p‖²/(2a)
    on C_k, whose map Π_{C_k}(aθ) = clip(aθ − τ, 0, 1) and conjugate Ω_a*(θ) = ⟨θ, ŷ⟩ − Ω_a(ŷ) =
    Ω*(aθ)/a follow from the KKT conditions (R1's FY-1 at φ = aθ; proofs.fy.api.conjugate)."""
    from .api import conjugate as r1_conjugate

    d = Derivation(
        statement=r"at each fixed scale $a > 0$, $L_{C_k}(a\theta; y) = a\,L_{\Omega_a}(\theta; y)$ with "
                  r"$\Omega_a(p) = \lVert p\rVert^2/(2a)$ on $C_k$, map $\operatorname{clip}(a\theta - \tau, 0, 1)$ "
                  r"and $\Omega_a^*(\theta) = \langle\theta, \hat y\rangle - \Omega_a(\hat y) = \Omega^*(a\theta)/a$",
        scope=r"every $n$ and $k$ (inner products as symbols; R1's FY-1 derivation at $\varphi = a\theta$)",
        assumptions=[r"$a > 0$ fixed (the value $a(\theta, y)$ of the example)", r"$1 \le k < n$"],
        summary=r"$L_{R2} = a\,L_{\Omega_a}(\theta; y)$, $\Omega_a = \lVert p\rVert^2/(2a)$: KKT map "
                r"$\operatorname{clip}(a\theta - \tau, 0, 1)$, every $n$, $k$")
    rows, ok = _conjugate_identities()
    for text, expr in rows:
        d.step(text, expr)
    r1 = r1_conjugate("rankmax")
    d.step(r"R1's FY-1 derivation (rankmax, every $n$) at $\varphi = a\theta$: " + r1.decision
           + r"; it gives $\Pi_{C_k}(\varphi) = \operatorname{clip}(\varphi - \tau, 0, 1)$ and "
             r"$\Omega^*(\varphi) = \langle\varphi, \hat y\rangle - \tfrac12\lVert\hat y\rVert^2$, which divided "
             r"by $a$ is the stated $\Omega_a^*(\theta)$")
    d.step(r"the scale depends on the label: $\hat y = \Pi_{C_k}(a(\theta, y)\theta)$ is a map of $(\theta, y)$, not "
           r"of $\theta$ alone; FY-1 holds at each fixed $a$, not for one $\Omega$ in $\theta$")
    return d.decide(bool(ok) and r1.decision == "holds")


# ----------------------------------------------------------------------------- the case n = 2, k = 1

def _f(dd: sp.Expr) -> sp.Expr:
    """The k = 1 rankmax loss of e_1 at the score difference d = φ_1 − φ_2 (KKT of C_1, n = 2)."""
    return sp.Piecewise((-dd, dd <= -1), ((1 - dd) ** 2 / 4, dd <= 1), (0, True))


def _p1(dd: sp.Expr) -> sp.Expr:
    return sp.Piecewise((0, dd <= -1), ((1 + dd) / 2, dd <= 1), (1, True))


def _pieces() -> list[tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]]:
    """(lower, upper, L(t), ŷ_1(t)) on the intervals where L is one polynomial, θ = (t, 0), y = e_1,
    under :data:`SCALE`, for a cap A ≥ 2."""
    if SCALE == "fixed":
        br = [(-sp.oo, sp.Integer(-1)), (sp.Integer(-1), sp.Integer(1)), (sp.Integer(1), sp.oo)]
        d_of = [t, t, t]
    elif SCALE == "adaptive":
        br = [(-sp.oo, -1 / A), (-1 / A, 1 / A), (1 / A, sp.oo)]
        d_of = [sp.Integer(-1), A * t, A * t]  # below −1/A the label sits on the threshold: a = −1/t
    else:
        raise ValueError(f"SCALE must be 'adaptive' or 'fixed', got {SCALE!r}")
    out = []
    for (lo, hi), dd in zip(br, d_of):
        mid = (lo + hi) / 2 if lo.is_finite and hi.is_finite else (hi - 1 if lo == -sp.oo else lo + 1)
        # one branch of f and of ŷ_1 on the piece: the branch at an interior point, A ≥ 2
        dm = dd.subs({t: mid}).subs(A, 2 * CAP)
        L = next(e for e, c in _f(sp.Symbol("d")).args if bool(c.subs(sp.Symbol("d"), dm)))
        P = next(e for e, c in _p1(sp.Symbol("d")).args if bool(c.subs(sp.Symbol("d"), dm)))
        out.append((lo, hi, sp.expand(L.subs(sp.Symbol("d"), dd)), sp.expand(P.subs(sp.Symbol("d"), dd))))
    return out


def _value(x: sp.Expr) -> sp.Expr:
    """L(t) at a point, from :func:`_pieces`, at the stated cap A."""
    for lo, hi, L, _ in _pieces():
        if bool((lo.subs(A, CAP) <= x) & (x <= hi.subs(A, CAP))):
            return L.subs({t: x, A: CAP})
    raise AssertionError(x)


def properties() -> Derivation:
    """FY-2 under R2 on n = 2, k = 1: L ≥ 0, L = 0 ⟺ y = ŷ (ŷ = Π(aθ)) and the shift invariance
    hold (for every n: the FY facts at φ = aθ and a(θ + c1) = a(θ)); convexity in θ and ∇_θ L = ŷ − y
    are decided on the pieces of L(t): second derivative ≥ 0 on each, one-sided derivatives
    non-decreasing at each break, and L'(t) = ŷ_1 − 1 on each."""
    d = Derivation(
        statement=r"$L_{R2}(\theta; y) = L_{C_k}(a(\theta, y)\theta; y)$ is $\ge 0$, zero iff $y = \hat y$, "
                  r"convex in $\theta$, has $\nabla_\theta L_{R2} = \hat y - y$ and is shift invariant "
                  r"($\hat y = \Pi_{C_k}(a\theta)$)",
        scope=r"$n = 2$, $k = 1$, $y = e_1$, $\theta = (t, 0)$, symbolic cap $A \ge 2$; the parts that hold: "
              r"every $n$ (FY at $\varphi = a\theta$)",
        assumptions=[r"scale rule: " + ("adaptive (R2)" if SCALE == "adaptive" else r"fixed, $a = 1$ (R1)")])
    d.step(r"for every $n$: $L_{R2} \ge 0$ and $L_{R2} = 0 \iff y = \Pi_{C_k}(a\theta)$ are FY-2 at "
           r"$\varphi = a\theta$; $\Pi_{C_k}(\varphi + c\mathbf 1) = \Pi_{C_k}(\varphi)$ gives "
           r"$a(\theta + c\mathbf 1, y) = a(\theta, y)$ and the shift invariance")
    pieces = _pieces()
    convex, grad_ok, cx = True, True, None
    for lo, hi, L, P in pieces:
        d.step(rf"on $t \in [{sp.latex(lo)}, {sp.latex(hi)}]$: $L$ =", L)
        if sp.simplify(sp.diff(L, t, 2)).is_nonnegative is False:
            convex = False
        diff = sp.simplify(sp.diff(L, t) - (P - 1))
        if diff != 0:
            grad_ok = False
            d.step(rf"there $\partial L/\partial\theta_1 - (\hat y_1 - 1)$ =", diff)
    for (_, b, L1, _), (_, _, L2, _) in zip(pieces, pieces[1:]):
        left, right = sp.diff(L1, t).subs(t, b), sp.diff(L2, t).subs(t, b)
        jump = sp.simplify((L2 - L1).subs(t, b))
        if jump != 0:
            convex = False
        gap = sp.simplify(right - left)
        d.step(rf"at $t = {sp.latex(b)}$: right minus left derivative =", gap)
        if (gap.subs(A, CAP) < 0) is sp.true:
            convex = False
    if not convex:
        ta, tb = sp.Integer(-2), sp.Integer(1)
        la, lb, lm = _value(ta), _value(tb), _value((ta + tb) / 2)
        d.step(rf"at $A = {CAP}$: $L(-2, 0) = {sp.latex(la)}$, $L(1, 0) = {sp.latex(lb)}$, midpoint "
               rf"$L(-\tfrac12, 0) = {sp.latex(lm)}$")
        if lm > (la + lb) / 2:
            cx = {"theta_a": [-2.0, 0.0], "theta_b": [1.0, 0.0], "y": [1.0, 0.0], "k": 1, "a_max": CAP,
                  "values": [float(la), float(lb), float(lm)],
                  "reason": "the loss at the midpoint exceeds the mean of the ends: not convex in theta"}
    d.step(r"convex in $\theta$: " + ("yes" if convex else "no") + r"; $\nabla_\theta L = \hat y - y$: "
           + ("yes" if grad_ok else r"no (below $t = -1/A$ the loss is flat while $\hat y - y = (-1, 1)$)"))
    d.summary = (r"$n = 2$: $L_{R2}$ is flat (=1) left of $t = -1/A$ then falls: not convex, "
                 r"$\nabla L \ne \hat y - y$" if not (convex and grad_ok) else
                 r"$n = 2$: $L$ convex, $\nabla L = \hat y - y$ on every piece; $\ge 0$, shift invariant")
    if convex and grad_ok:
        return d.decide(True)
    if cx is None:  # the pieces break the claim but the stored triple does not: decide nothing
        return d.decide(None)
    d.counterexample = cx
    return d.decide(False)


def margin() -> Derivation:
    """FY-3 under R2: L_R2(θ; y) = 0 ⟺ min_Y θ ≥ max_{not Y} θ + μ with μ = :data:`STATED` margin,
    decided on n = 2, k = 1 from the pieces of L(t): the zero set of L is t ≥ 1/A under R2
    (t ≥ 1 at a = 1)."""
    mu = sp.nsimplify(STATED["margin"])
    d = Derivation(
        statement=rf"$L_{{R2}}(\theta; y) = 0 \iff \min_{{i \in Y}} \theta_i \ge \max_{{j \notin Y}} \theta_j + "
                  rf"{sp.latex(mu)}$",
        scope=r"$n = 2$, $k = 1$, $y = e_1$, $\theta = (t, 0)$, symbolic cap $A \ge 2$; the zero set for every "
              r"$n$ in words",
        assumptions=[r"scale rule: " + ("adaptive (R2)" if SCALE == "adaptive" else r"fixed, $a = 1$ (R1)")])
    d.step(r"for every $n$: a gap $g = \min_Y \theta - \max_{\bar Y}\theta \ge 0$ makes $Y$ a top-$k$ set, so "
           r"$a = A$ and $L = 0 \iff A g \ge 1$ (R1's margin at $\varphi = A\theta$); for $g < 0$ the lowest "
           r"label has $\hat y_i = 0$ at $a(\theta, y)$, so $L > 0$: the margin in $\theta$ is $1/A$")
    zero_from = None
    for lo, hi, L, _ in _pieces():
        d.step(rf"on $t \in [{sp.latex(lo)}, {sp.latex(hi)}]$: $L$ =", L)
        if L == 0 and zero_from is None:
            zero_from = lo
    d.step(r"zero set of $L$: $t \ge$", zero_from if zero_from is not None else sp.oo)
    holds = zero_from is not None and sp.simplify(zero_from.subs(A, CAP) - mu) == 0
    d.summary = (rf"$n = 2$: $L_{{R2}} = 0 \iff t \ge {sp.latex(zero_from)}$, not the stated margin "
                 rf"${sp.latex(mu)}$" if not holds else rf"$n = 2$: $L = 0 \iff t \ge {sp.latex(mu)}$")
    if holds:
        return d.decide(True)
    g = (zero_from.subs(A, CAP) + mu) / 2 if zero_from is not None and zero_from.subs(A, CAP) < mu else None
    if g is None or _value(g) != 0:
        return d.decide(None)
    d.counterexample = {"theta": [float(g), 0.0], "y": [1.0, 0.0], "k": 1, "a_max": CAP, "gap": float(g),
                        "reason": "zero loss at a score gap below the stated margin"}
    return d.decide(False)


__all__ = ["SCALE", "CAP", "STATED", "conjugate", "properties", "margin"]
