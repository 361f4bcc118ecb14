"""What the suite derives itself for any separable regulariser Ω(p) = Σᵢ g(pᵢ) (issue 23 §3).

For g C² with g″ > 0 on (0, 1) (so strictly convex), g(0⁺) finite, g′(0⁺) ∈ [−∞, ∞) and
g′(1⁻) ∈ (−∞, ∞] (Blondel, Martins & Niculae, JMLR 2020, §4–5):

* the prediction map on the simplex is ŷᵢ = (g′)⁻¹(clip(θᵢ − τ, g′(0⁺), g′(1⁻))), τ fixed by
  Σŷ = 1 (the KKT conditions of max_p ⟨θ, p⟩ − Ω(p): g′(ŷᵢ) = θᵢ − τ on the support, and
  θᵢ − τ ≤ g′(0⁺) where ŷᵢ = 0);
* ŷ can have zeros (the loss is sparse) iff g′(0⁺) is finite;
* the separation margin is g′(1⁻) − g′(0⁺) when both are finite (ibid., Prop. 6), none
  otherwise;
* on the support, the Jacobian of ŷ is J = diag(s) − ssᵀ/Σs with s = 1/g″(ŷ) (implicit
  differentiation of g′(ŷᵢ) = θᵢ − τ and Σŷ = 1).  So the Lipschitz constant of ∇_θL = ŷ − y,
  the largest eigenvalue of J over θ, lies in a bracket: J ⪯ diag(s) bounds it above by
  sup_{(0,1)} s; two equal support entries a (the rest of the mass elsewhere, n ≥ 3) give
  the eigenvector eᵢ − eⱼ with eigenvalue s(a), so sup_{(0,½]} s bounds it below.

Every fact says how it was obtained: ``symbolic`` (sympy decided it exactly), or
``beyond sympy: <reason>`` (then it is no symbolic evidence).  A candidate inverse of g′ is
accepted only once G(g′(q)) = q is verified; otherwise the map keeps (g′)⁻¹ implicit.
A g that violates the conditions is refused with ``ValueError`` naming the condition.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

from audit.separable import SeparableLoss

T = sp.Symbol("t", real=True)      # the argument of (g')^{-1}
Q = sp.Symbol("q", positive=True)  # a coordinate of ŷ, for the inverse's verification
SYMBOLIC = "symbolic"
#: the points a convexity that sympy cannot decide is checked at (then not symbolic evidence)
GRID = 999


@dataclass(frozen=True)
class Fact:
    """One derived fact: its value (a sympy expression, ``oo`` for "none", ``None`` when not
    derived) and how it was obtained."""

    name: str
    value: sp.Expr | None
    how: str = SYMBOLIC
    # a bound or margin that is infinite does not exist ("none"); an infinite g′(1⁻) is ∞
    none_if_infinite: bool = False

    @property
    def symbolic(self) -> bool:
        return self.how == SYMBOLIC and self.value is not None


@dataclass
class Facts:
    """The derived facts of one :class:`SeparableLoss` (module docstring)."""

    loss: SeparableLoss
    g1: sp.Expr                       # g′
    g2: sp.Expr                       # g″
    s: sp.Expr                        # 1/g″, the Jacobian's weight
    facts: dict[str, Fact] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Fact:
        return self.facts[name]

    def add(self, name: str, value: sp.Expr | None, how: str = SYMBOLIC, none_if_infinite: bool = False) -> Fact:
        self.facts[name] = Fact(name, value, how, none_if_infinite)
        return self.facts[name]

    @property
    def sparse(self) -> bool:
        return self["g'(0+)"].value != -sp.oo

    def table(self) -> list[tuple[str, str, str]]:
        """(fact, LaTeX of its value, how) for ``meta.subject`` and the appendix."""
        def tex(f: Fact) -> str:
            if f.value is None:
                return "not derived"
            return "none" if f.none_if_infinite and f.value == sp.oo else sp.latex(f.value)
        return [(f.name, tex(f), f.how) for f in self.facts.values()]


def _limit(expr: sp.Expr, x: sp.Symbol, at: int, side: str, what: str) -> sp.Expr:
    try:
        v = sp.limit(expr, x, at, side)
    except (NotImplementedError, ValueError, TypeError) as exc:
        raise ValueError(f"{what}: sympy cannot take the limit ({exc}); this loss cannot be audited") from None
    if v in (sp.oo, -sp.oo):
        return v
    if not v.is_number or v.is_real is not True or v.has(sp.AccumBounds, sp.Limit, sp.nan, sp.zoo):
        raise ValueError(f"{what} does not exist as an extended real number (sympy gives {v})")
    return sp.nsimplify(v) if v.is_Float else v


def _convexity(g2: sp.Expr, x: sp.Symbol) -> str:
    """How g″ > 0 on (0, 1) was decided; ``ValueError`` with a point where it fails."""
    u = sp.Symbol("u", positive=True)                 # x = u/(1+u) sweeps (0, 1) as u sweeps (0, ∞)
    pos = sp.simplify(g2.subs(x, u / (1 + u))).is_positive
    if pos is True:
        return SYMBOLIC
    try:
        bad = sp.solveset(g2 <= 0, x, sp.Interval.open(0, 1))
    except (NotImplementedError, TypeError, ValueError):
        bad = None
    if bad is sp.S.EmptySet:
        return SYMBOLIC
    if isinstance(bad, (sp.Interval, sp.FiniteSet, sp.Union)) and bad is not sp.S.EmptySet:
        point = bad.inf if isinstance(bad, sp.FiniteSet) else (bad.inf + bad.sup) / 2 if bad.sup.is_finite else bad.inf + 1
        raise ValueError(f"g must be strictly convex on (0, 1) (g'' > 0); g'' <= 0 on {bad}, e.g. at p = {point}")
    for k in range(1, GRID + 1):                       # sympy could not decide: exact points, no proof
        v = sp.N(g2.subs(x, sp.Rational(k, GRID + 1)), 30)
        if not v.is_real or v <= 0:
            raise ValueError(f"g must be strictly convex on (0, 1) (g'' > 0); g''({k}/{GRID + 1}) = {v}")
    return f"beyond sympy: g'' > 0 checked at the {GRID} points k/{GRID + 1} only"


def _inverse(g1: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr | None, str]:
    """A verified (g′)⁻¹ as an expression in t, or None with the reason."""
    target = g1.subs(x, Q)
    try:
        candidates = sp.solve(sp.Eq(target, T), Q)
    except (NotImplementedError, TypeError, ValueError) as exc:
        return None, f"beyond sympy: (g')^(-1) kept implicit (sympy's solve: {type(exc).__name__})"
    for cand in candidates:
        if cand.has(Q) or cand.free_symbols - {T}:
            continue
        back = sp.simplify(cand.subs(T, target) - Q)
        if back == 0:
            return sp.simplify(cand), SYMBOLIC
    return None, "beyond sympy: (g')^(-1) kept implicit (no candidate inverse verified as G(g'(q)) = q)"


def _sup(s: sp.Expr, x: sp.Symbol, interval: sp.Interval) -> tuple[sp.Expr | None, str]:
    try:
        rng = sp.calculus.util.function_range(s, x, interval)
    except (NotImplementedError, TypeError, ValueError) as exc:
        return None, f"beyond sympy: sup of 1/g'' not found ({type(exc).__name__})"
    if rng is sp.S.EmptySet or not hasattr(rng, "sup"):
        return None, "beyond sympy: sup of 1/g'' not found"
    return sp.simplify(rng.sup), SYMBOLIC


@functools.lru_cache(maxsize=32)
def derive(loss: SeparableLoss) -> Facts:
    """Every fact of the module docstring for ``loss``; ``ValueError`` when g violates the
    conditions (strict convexity, g(0⁺) finite, g′(0⁺) < ∞, g′(1⁻) > −∞).  Cached per loss
    (a frozen value): every row and planted run of an audit reads the same facts."""
    x, g = loss.x, loss.g
    g1 = sp.diff(g, x)
    g2 = sp.simplify(sp.diff(g1, x))
    s = sp.simplify(1 / g2)
    f = Facts(loss, g1, g2, s)
    f.add("g''>0 on (0,1)", sp.true, _convexity(g2, x))
    g0 = _limit(g, x, 0, "+", "g(0+)")
    if g0 in (sp.oo, -sp.oo):
        raise ValueError(f"g(0+) must be finite, got {g0}")
    f.add("g(0+)", g0)
    d0 = f.add("g'(0+)", _limit(g1, x, 0, "+", "g'(0+)")).value
    d1 = f.add("g'(1-)", _limit(g1, x, 1, "-", "g'(1-)")).value
    if d0 == sp.oo:
        raise ValueError("g'(0+) must be < +oo: a convex g with g'(0+) = +oo is not C^1 on (0, 1)")
    if d1 == -sp.oo:
        raise ValueError("g'(1-) must be > -oo: a convex g with g'(1-) = -oo is not C^1 on (0, 1)")
    inv, how = _inverse(g1, x)
    f.add("(g')^(-1)(t)", inv, how)
    f.add("sparse", sp.true if d0 != -sp.oo else sp.false)
    if not loss.capped:
        finite = d0.is_finite and d1.is_finite
        f.add("margin", sp.simplify(d1 - d0) if finite else sp.oo, none_if_infinite=True)
        lo, how_lo = _sup(s, x, sp.Interval.Lopen(0, sp.Rational(1, 2)))
        hi, how_hi = _sup(s, x, sp.Interval.open(0, 1))
        f.add("Lipschitz >= (n >= 3)", lo, how_lo, none_if_infinite=True)
        f.add("Lipschitz <=", hi, how_hi, none_if_infinite=True)
    return f


def map_latex(facts: Facts) -> str:
    """ŷᵢ in LaTeX: the verified inverse with the clip, or (g′)⁻¹ kept as a function."""
    lo, hi = facts["g'(0+)"].value, facts["g'(1-)"].value
    arg = r"\theta_i - \tau"
    if lo != -sp.oo or hi != sp.oo:
        arg = rf"\operatorname{{clip}}\left(\theta_i - \tau,\ {sp.latex(lo)},\ {sp.latex(hi)}\right)"
    inv = facts["(g')^(-1)(t)"].value
    if inv is None:
        return rf"\hat y_i = (g')^{{-1}}\left({arg}\right)"
    return r"\hat y_i = " + sp.latex(inv.subs(T, sp.Symbol(r"\tilde t"))) + rf", \quad \tilde t = {arg}"


def _finite(v: sp.Expr) -> bool:
    return v not in (sp.oo, -sp.oo)


def margin_counterexample(candidate: sp.Expr | None, true: sp.Expr) -> dict:
    """A score vector (n = 3, y = e₁) between the claimed margin and the true one, and the
    side of the claim it contradicts (reports/rechecks/user.py): ``plus`` -- gap ≥ claimed
    and ŷ ≠ y; ``minus`` -- gap < claimed and ŷ = y; ``nomargin`` -- ŷ = y at a finite θ."""
    if candidate is None:                                   # "no margin" claimed; the vertex at gap m + 1
        gap, side = true + 1, "nomargin"
    elif not _finite(true) or candidate < true:             # ŷ ≠ y at a gap the claim calls enough
        gap, side = candidate if not _finite(true) else (candidate + true) / 2, "plus"
    else:                                                   # ŷ = y at a gap the claim calls too small
        gap, side = (candidate + true) / 2, "minus"
    return {"theta": [float(gap), 0.0, 0.0], "y": [1, 0, 0], "side": side}


def margin_derivation(loss: SeparableLoss, candidate: sp.Expr | None = None, *,
                      stated: bool = True) -> "Derivation":
    """FY-3 for a separable loss: L(θ; e_y) = 0 ⟺ θ_y − max_{j≠y} θ_j ≥ m, with m the
    candidate (None: the claim that there is no margin).  Decided against
    m* = g′(1⁻) − g′(0⁺): with τ = θ_y − g′(1⁻), ŷ_y = (g′)⁻¹(g′(1⁻)) = 1 and, for j ≠ y,
    θ_j − τ ≤ g′(0⁺) (so ŷ_j = 0) iff the gap is ≥ m*; below it no τ puts every other
    class at 0 while ŷ_y = 1, and the FY loss is 0 only at ŷ = y (Ω strictly convex).
    When either end is infinite, no finite gap gives ŷ = e_y: no margin."""
    from ..derivation import Derivation, is_zero

    f = derive(loss)
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    true = sp.simplify(d1 - d0) if _finite(d0) and _finite(d1) else sp.oo
    claim = "has no separation margin" if candidate is None else f"has separation margin ${sp.latex(candidate)}$"
    d = Derivation(statement=f"{loss.name} {claim}: $L(\\theta; e_y) = 0 \\iff \\theta_y - \\max_{{j \\ne y}} "
                             f"\\theta_j \\ge m$" + (" for no finite $m$" if candidate is None else ""),
                   scope="symbolic in $n$ and $\\theta$ (any $n \\ge 2$)",
                   assumptions=["$g$ is $C^2$ with $g'' > 0$ on $(0, 1)$ (checked)", "$\\Omega$ on the simplex"])
    d.step("The generator's derivative:", sp.Eq(sp.Symbol("g'(p)"), f.g1.subs(loss.x, sp.Symbol("p"))))
    d.step(f"Its one-sided limits: $g'(0^+) = {sp.latex(d0)}$ and $g'(1^-) = {sp.latex(d1)}$.")
    if _finite(true):
        d.step("With $\\tau = \\theta_y - g'(1^-)$: $\\hat y_y = 1$, and $\\hat y_j = 0$ for every $j \\ne y$ iff "
               "$\\theta_y - \\theta_j \\ge g'(1^-) - g'(0^+)$, so the margin is", true)
    else:
        d.step("An infinite end keeps $\\hat y \\ne e_y$ at every finite $\\theta$ "
               "($g'(0^+) = -\\infty$: every $\\hat y_j > 0$; $g'(1^-) = \\infty$: $\\hat y_y < 1$): no margin.")
    d.summary = (f"margin {'none' if not _finite(true) else f'${sp.latex(true)}$'} derived from "
                 f"$g'(1^-) - g'(0^+)$" + ("" if not stated else
                                          f"; the claim: {'none' if candidate is None else f'${sp.latex(candidate)}$'}"))
    ok = (not _finite(true)) if candidate is None else (_finite(true) and is_zero(candidate - true) is True)
    if not ok:
        d.counterexample = margin_counterexample(candidate, true)
    return d.decide(ok)


def smoothness_point(loss: SeparableLoss, above: sp.Expr) -> dict | None:
    """A score vector whose Jacobian has an eigenvalue above ``above``: ŷ = (a, a, 1 − 2a) at
    θ = (g′(a), g′(a), g′(1 − 2a)) (τ = 0; n = 2 and ŷ = (½, ½) for a = ½), eigenvector e₁ − e₂,
    eigenvalue s(a) = 1/g″(a); a taken from the grid 2^{-j}, j = 1 … 30, where s is largest.
    None if no grid point is above."""
    f = derive(loss)
    best = None
    for j in range(1, 31):
        a = sp.Rational(1, 2**j)
        s = f.s.subs(loss.x, a)
        if best is None or sp.N(s - best[1], 30) > 0:
            best = (a, s)
    a, s = best
    if above == sp.oo or sp.N(s - above, 30) <= 0:
        return None
    g1 = lambda v: float(sp.N(f.g1.subs(loss.x, v), 30))       # noqa: E731
    if a == sp.Rational(1, 2):                                   # n = 2: ŷ = (½, ½)
        theta, yhat = [g1(a), g1(a)], [0.5, 0.5]
    else:
        theta, yhat = [g1(a), g1(a), g1(1 - 2 * a)], [float(a), float(a), float(1 - 2 * a)]
    return {"theta": theta, "yhat": yhat, "lambda_max": float(sp.N(s, 30))}


def smoothness_derivation(loss: SeparableLoss, constant: sp.Expr | None) -> "Derivation":
    """FY-4 for a separable loss: sup_θ λ_max(J_ŷ(θ)) against the claimed ``constant``
    (``oo``: not Lipschitz; None: the derived bracket itself), from the bracket of
    :func:`derive` (module docstring).  A constant below the bracket fails at the point of
    :func:`smoothness_point`; one above it is not attained, which a bound shows but no single
    θ does, so it stays undecided; one inside a bracket that is not tight holds with a scope
    gap (the bracket does not pin the constant)."""
    from ..derivation import Derivation

    f = derive(loss)
    lo, hi = f["Lipschitz >= (n >= 3)"].value, f["Lipschitz <="].value
    what = "the bracket below" if constant is None else ("no finite constant" if constant == sp.oo
                                                          else f"the constant ${sp.latex(constant)}$")
    d = Derivation(statement=f"$\\nabla_\\theta L$ of {loss.name}: $\\sup_\\theta \\lambda_{{\\max}}(J_{{\\hat y}}"
                             f"(\\theta))$ is {what}",
                   scope="symbolic in $n \\ge 3$ and $\\theta$",
                   assumptions=["$g$ is $C^2$ with $g'' > 0$ on $(0, 1)$ (checked)", "$\\Omega$ on the simplex"])
    d.step("On the support, $J = \\operatorname{diag}(s) - s s^\\top / \\sum s$ with", sp.Eq(sp.Symbol("s(p)"),
                                                                                         f.s.subs(loss.x, sp.Symbol("p"))))
    d.step("$J \\preceq \\operatorname{diag}(s)$ bounds $\\lambda_{\\max}$ above by $\\sup_{(0,1)} s = "
           f"{sp.latex(hi) if hi is not None else '?'}$; two equal entries $a$ give the eigenvector $e_i - e_j$ with "
           f"eigenvalue $s(a)$, so $\\sup_{{(0, 1/2]}} s = {sp.latex(lo) if lo is not None else '?'}$ is attained.")
    if lo is None or hi is None:
        d.summary = "bracket not derived (beyond sympy)"
        return d.decide(None)
    tight = sp.simplify(hi - lo) == 0 if _finite(hi) else hi == lo
    d.summary = ("no finite constant: $\\sup_{(0, 1/2]} 1/g'' = \\infty$" if lo == sp.oo else
                 f"bracket $[{sp.latex(lo)}, {sp.latex(hi)}]$" if not tight else
                 f"constant ${sp.latex(lo)}$ (the bracket is tight)") + \
        ("" if constant is None else f"; the claim: {'none' if constant == sp.oo else f'${sp.latex(constant)}$'}")
    if constant is None:
        if not tight:
            d.gap = f"the bracket $[{sp.latex(lo)}, {sp.latex(hi)}]$ does not pin the constant"
        return d.decide(True)
    if constant == sp.oo:
        return d.decide(True if lo == sp.oo else None)
    if _finite(lo) and sp.N(constant - lo, 30) < 0 or lo == sp.oo:
        d.counterexample = smoothness_point(loss, constant)
        return d.decide(False if d.counterexample is not None else None)
    if _finite(hi) and sp.N(constant - hi, 30) > 0:
        d.step(f"The claimed constant exceeds the upper bound ${sp.latex(hi)}$: it is not attained.")
        return d.decide(None)
    if not tight:
        d.gap = f"the bracket $[{sp.latex(lo)}, {sp.latex(hi)}]$ contains the claim but does not pin the constant"
    return d.decide(True)
