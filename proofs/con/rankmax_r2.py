"""CON-2 (DCG consistency, multi-hot labels) under rankmax reading R2, decided exactly on n = 3, k = 1.

Reading R2 (losses/rankmax.py; Kong et al., NeurIPS 2020) scores a label by L_{C_k}(aθ; y) at the
label's own scale a(θ, y) = sup{a ≤ A : Π_{C_k}(aθ)_i > 0 ∀ i ∈ Y}.  With binary relevance and one
relevant item (k = 1, C_1 the simplex, the loss sparsemax's), a relevance law is a vector η (item i
relevant with probability η_i), E[DCG] is maximized exactly by the rankings that sort η, and the
conditional risk is R(θ) = Σ_i η_i L_R2(θ; e_i).  It is not convex in θ (FY-2 under R2), so the
convex certificates of the R1 row do not apply; on n = 3 the risk has a closed form on a few pieces
and its infimum on each ordering of θ is found exactly:

* coordinates: the items at positions 1, 2, 3 of θ (an ordering σ), scores in units of 1/A,
  φ = Aθ = (d₁ + d₂, d₂, 0) + c·1 with gaps d₁, d₂ ≥ 0 (shift invariance drops c);
* the scale of the label at position j, in units of A: s_j = min(1, 1/ε_j) with
  ε_j = Σ_{i<j} (φ_i − φ_j) (k = 1: the lowest label's threshold equation Σ_i min(d_i/ε, 1) = 1
  has ε = Σ_i d_i; numerics/fy/rankmax_r2.py's docstring); s_1 = 1;
* three regions where every label's support is one prefix: (a) d₁ + 2d₂ ≤ 1, (b) d₁ ≤ 1 ≤ d₁ + 2d₂,
  (c) d₁ ≥ 1; the support of Π(s_j φ) at an interior point, the projection by KKT on it, the loss
  by the FY formula ⟨w, p⟩ − ½‖p‖² + ½ − w_j;
* the infimum of the piece: (a) is every label at scale 1, a convex quadratic on a triangle
  (stationary point, else its edges); on (b) and (c) the sign of ∂R/∂d₂ is shown from its factors, so
  the infimum over d₂ is at the lower edge or the limit d₂ → ∞, and the rest is one variable
  (endpoints, a limit at ∞, the real roots of the derivative's numerator).

Decision per law: with I the infimum over all orderings and I_ok over the orderings that sort η
(ties by η's order), I_ok > I means every θ with R(θ) < I_ok inverts a pair with η_i > η_j, so every
minimizing sequence eventually ranks with an inversion and loses E[DCG]: DCG consistency fails.
It holds on the law when I_ok = I and every other ordering's infimum exceeds I (near-optimal θ are
then strictly sorted); otherwise the law is undecided.

The scale rule is :data:`SCALE` ("adaptive": R2; "fixed": every label at a = A, reading R1, where
the risk is the convex FY risk), read at call time (reports/r2/planted.py patches it).
"""
from __future__ import annotations

import functools
import itertools
from fractions import Fraction

import sympy as sp

from audit import SuiteDefect

from ..derivation import Derivation

#: the scale rule: "adaptive" (reading R2) or "fixed" (every label at the cap A, reading R1)
SCALE = "adaptive"
#: the relevance laws decided: item i is the one relevant item with probability η_i (the scope)
LAWS = ((Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)), (Fraction(4, 5), Fraction(1, 20), Fraction(3, 20)),
        (Fraction(7, 10), Fraction(1, 5), Fraction(1, 10)), (Fraction(2, 5), Fraction(7, 20), Fraction(1, 4)))
#: comparisons of algebraic numbers at this many digits (exact sympy numbers, so only ties need care)
DIGITS = 50

d1, d2 = sp.symbols("d_1 d_2", nonnegative=True)
#: name -> ((d₁ low, d₁ high), (d₂ low, d₂ high) as functions of d₁, interior sample points)
REGIONS = {
    "a": ((0, 1), (sp.Integer(0), (1 - d1) / 2), ((sp.Rational(1, 5), sp.Rational(1, 5)),
                                                   (sp.Rational(1, 2), sp.Rational(1, 10)))),
    "b": ((0, 1), ((1 - d1) / 2, sp.oo), ((sp.Rational(1, 2), sp.Integer(1)), (sp.Rational(1, 10), sp.Integer(3)))),
    "c": ((1, sp.oo), (sp.Integer(0), sp.oo), ((sp.Integer(2), sp.Integer(1)), (sp.Integer(3), sp.Rational(1, 7)))),
}
PHI = (d1 + d2, d2, sp.Integer(0))


def _scale(j: int, point: dict) -> sp.Expr:
    """s_j on the region of ``point`` (module docstring); 1 under the fixed rule."""
    if SCALE == "fixed":
        return sp.Integer(1)
    if SCALE != "adaptive":
        raise ValueError(f"SCALE must be 'adaptive' or 'fixed', got {SCALE!r}")
    eps = sum((PHI[i] - PHI[j] for i in range(j)), sp.Integer(0))
    return sp.Integer(1) if eps == 0 or eps.subs(point) <= 1 else 1 / eps


def _support(w: tuple, point: dict) -> int:
    """The size m of the prefix support of the simplex projection of w at ``point``."""
    vals = [sp.nsimplify(v.subs(point)) for v in w]
    return max(m for m in (1, 2, 3) if vals[m - 1] - (sum(vals[:m]) - 1) / m > 0)


def _label_loss(j: int, region: str) -> sp.Expr:
    """L(s_j φ; e_j) on ``region``: one expression in d₁, d₂ (its branches read at two interior points)."""
    choices = set()
    for x1, x2 in REGIONS[region][2]:
        pt = {d1: x1, d2: x2}
        s = _scale(j, pt)
        w = tuple(s * v for v in PHI)
        choices.add((s, _support(w, pt)))
    if len(choices) != 1:
        raise SuiteDefect(f"CON-2[rankmax/R2]: region {region} holds two branches for the label at position {j + 1}")
    (s, m), = choices
    w = tuple(s * v for v in PHI)
    tau = (sum(w[:m]) - 1) / m
    p = [w[i] - tau if i < m else sp.Integer(0) for i in range(3)]
    return sp.simplify(sum(wi * pi for wi, pi in zip(w, p)) - sum(pi ** 2 for pi in p) / 2 + sp.Rational(1, 2) - w[j])


def piece(eta_sigma: tuple, region: str) -> sp.Expr:
    """R on ``region`` for the ordering whose positions carry the weights ``eta_sigma``."""
    losses = _label_losses(region, SCALE, (_scale, _support, _label_loss))
    return sp.expand(sum(sp.Rational(e.numerator, e.denominator) * L for e, L in zip(eta_sigma, losses)))


@functools.lru_cache(maxsize=None)
def _label_losses(region: str, scale: str, code: tuple) -> tuple:
    """The three positions' losses on ``region`` (they do not depend on η or σ), cached under the scale rule
    and the functions that derive them, so a patched one is never answered from the cache."""
    return tuple(code[2](j, region) for j in range(3))


def _sign(expr: sp.Expr) -> int | None:
    """+1 / −1 / 0 when the sign of ``expr`` on d₁, d₂ ≥ 0 follows from its factors, else None."""
    expr = sp.factor(sp.together(expr))
    if expr == 0:
        return 0
    num, den = sp.fraction(expr)
    sign = 1
    for part in (num, den):
        coeff, factors = sp.factor_list(part)
        sign *= 1 if coeff > 0 else -1
        for f, mult in factors:
            if mult % 2 == 0:
                continue
            if f.is_nonnegative:
                continue
            if (-f).is_nonnegative:
                sign = -sign
                continue
            return None
    return sign


def _min_1d(h: sp.Expr, lo, hi) -> tuple[sp.Expr, sp.Expr | None]:
    """(inf of h(d₁) on [lo, hi], the minimizer or None when only a limit at ∞ reaches it)."""
    cands = [(sp.simplify(h.subs(d1, lo)), sp.Integer(lo))]
    if hi == sp.oo:
        cands.append((sp.limit(h, d1, sp.oo), None))
    else:
        cands.append((sp.simplify(h.subs(d1, hi)), sp.Integer(hi)))
    num = sp.numer(sp.together(sp.diff(h, d1)))
    if num != 0:
        for r in sp.Poly(num, d1).real_roots():
            if (r > lo) and (hi == sp.oo or r < hi):
                cands.append((sp.simplify(h.subs(d1, r)), r))
    return min(cands, key=lambda c: sp.N(c[0], DIGITS))


def infimum(eta_sigma: tuple, region: str) -> tuple[sp.Expr, str, bool] | None:
    """(inf of R on ``region`` for this ordering, where it is reached, whether only as d₂ → ∞), None if not
    decided."""
    R = piece(eta_sigma, region)
    (lo1, hi1), (lo2, hi2), _ = REGIONS[region]
    if region == "a":   # every label at scale 1: a quadratic; convex is checked, not assumed
        H = sp.hessian(R, (d1, d2))
        if not (H[0, 0] >= 0 and H.det() >= 0):
            return None
        st = sp.solve([sp.diff(R, d1), sp.diff(R, d2)], [d1, d2], dict=True)
        inside = [s for s in st if s and s[d1] >= 0 and s[d2] >= 0 and s[d1] + 2 * s[d2] <= 1]
        if inside:
            return (sp.simplify(R.subs(inside[0])), rf"$d = ({sp.latex(inside[0][d1])}, {sp.latex(inside[0][d2])})$",
                    False)
        t = sp.Symbol("t", nonnegative=True)
        edges = [(R.subs(d2, 0), d1, 0, 1), (R.subs(d1, 0), d2, 0, sp.Rational(1, 2)),
                 (R.subs({d1: 1 - 2 * t, d2: t}), t, 0, sp.Rational(1, 2))]
        best = min((_min_1d(e.subs(v, d1), a_, b_)[0] for e, v, a_, b_ in edges), key=lambda x: sp.N(x, DIGITS))
        return sp.simplify(best), "an edge of (a)", False
    s = _sign(sp.diff(R, d2))
    if s is None:
        return None
    to_inf = not (s >= 0 or hi2 != sp.oo)
    if not to_inf:
        edge = lo2 if s >= 0 else hi2
        h, where = R.subs(d2, edge), rf"$d_2 = {sp.latex(edge)}$"
    else:
        h, where = sp.limit(R, d2, sp.oo), r"$d_2 \to \infty$"
    val, at = _min_1d(sp.simplify(h), lo1, hi1)
    return val, where + (rf", $d_1 = {sp.latex(at)}$" if at is not None else r", $d_1 \to \infty$"), to_inf


def _sorts(sigma: tuple, eta: tuple) -> bool:
    """Does the ordering σ (σ[j] = item at position j) sort η (η-ties in either order)?"""
    return all(eta[sigma[j]] >= eta[sigma[j + 1]] for j in range(2))


def _orderings(eta: tuple, scale: str) -> dict | str:
    """{ordering σ: (inf of R on its closed cone, region, where)} for the law η under ``scale``, or
    why it is undecided.  Cached (CON-1 and CON-2 read the same infima) under the functions it uses, so a
    patched one (a planted defect) is never answered from the cache."""
    code = tuple(globals()[f] for f in ("_scale", "_support", "_label_loss", "piece", "infimum", "_sign", "_min_1d"))
    return _orderings_cached(eta, scale, code)


@functools.lru_cache(maxsize=None)
def _orderings_cached(eta: tuple, scale: str, code: tuple) -> dict | str:
    per = {}
    for sigma in itertools.permutations(range(3)):
        vals = []
        for region in REGIONS:
            r = infimum(tuple(eta[i] for i in sigma), region)
            if r is None:
                return f"sign of dR/dd2 not shown on {sigma}, {region}"
            vals.append((r[0], region, r[1], r[2]))
        per[sigma] = min(vals, key=lambda v: sp.N(v[0], DIGITS))
    return per


def _num(v) -> sp.Float:
    return sp.N(v, DIGITS)


TOL = sp.Float(10) ** (-(DIGITS - 10))


def decide_law(eta: tuple) -> dict:
    """Infima per ordering and the law's DCG decision: ``holds`` / ``fails`` / ``undecided``."""
    per = _orderings(tuple(eta), SCALE)
    if isinstance(per, str):
        return {"eta": eta, "decision": "undecided", "why": per}
    num = {s: _num(v[0]) for s, v in per.items()}
    best = min(num.values())
    ok = [s for s in per if _sorts(s, eta)]
    i_ok = min(num[s] for s in ok)
    if i_ok - best > TOL:
        decision = "fails"
    elif all(num[s] - best > TOL for s in per if s not in ok):
        decision = "holds"
    else:
        decision = "undecided"
    arg = min(per, key=lambda s: num[s])
    return {"eta": eta, "decision": decision, "per": per, "inf": per[arg][0], "argmin": arg,
            "inf_sorted": min((per[s][0] for s in ok), key=_num),
            "r1_inf": sp.Rational(1, 2) * (1 - sum(sp.Rational(e.numerator, e.denominator) ** 2 for e in eta))}


def required_pairs(eta: tuple, top: int) -> list[tuple[int, int]]:
    """The pairs (i, j) with θ_i > θ_j that top-``top`` preservation asks (Yang & Koyejo 2020): i among η's
    ``top`` largest, j not (η distinct across the boundary, else ``ValueError``)."""
    order = sorted(range(len(eta)), key=lambda i: -eta[i])
    if eta[order[top - 1]] == eta[order[top]]:
        raise ValueError(f"eta ties across its top-{top} boundary: {eta}")
    return [(i, j) for i in order[:top] for j in order[top:]]


def topk_law(eta: tuple, top: int) -> dict:
    """Top-``top`` calibration on the law: inf{R : θ not top-k preserving} is the least infimum over the
    orderings that put some j of a required pair (i, j) at or above i (the closed cones of θ_i ≤ θ_j);
    calibrated iff it exceeds inf R."""
    per = _orderings(tuple(eta), SCALE)
    if isinstance(per, str):
        return {"eta": eta, "top": top, "decision": "undecided", "why": per}
    pairs = required_pairs(eta, top)
    pos = {s: {item: j for j, item in enumerate(s)} for s in per}
    bad = [s for s in per if any(pos[s][j] < pos[s][i] for i, j in pairs)]
    good = [s for s in per if s not in bad]
    best = min(_num(v[0]) for v in per.values())
    i_bad = min(_num(per[s][0]) for s in bad)
    arg = min(per, key=lambda s: _num(per[s][0]))
    return {"eta": eta, "top": top, "pairs": pairs, "per": per, "argmin": arg, "inf": per[arg][0],
            "inf_not_preserving": min((per[s][0] for s in bad), key=_num),
            "inf_preserving": min((per[s][0] for s in good), key=_num),
            "decision": "fails" if i_bad - best <= TOL else "holds"}


def witness(res: dict) -> list[Fraction]:
    """θ (in units of 1/A, up to the factor 1/A) on the best ordering's minimizing path of a failing law:
    the gaps of its infimum, with d₂ = 10⁶ standing in for the limit d₂ → ∞."""
    sigma = res["argmin"]
    val, region, where, to_inf = res["per"][sigma]
    if not to_inf:   # the only failing laws found reach their infimum as d₂ → ∞; any other needs its own witness
        raise SuiteDefect(f"CON R2: no witness for an infimum reached at {where} on {sigma}")
    eta_sigma = tuple(res["eta"][i] for i in sigma)
    R = piece(eta_sigma, region)
    big = sp.Integer(10) ** 6
    h = sp.limit(R, d2, sp.oo)
    _, at = _min_1d(sp.simplify(h), *REGIONS[region][0])
    x1 = sp.nsimplify(sp.N(at, 30), rational=True) if at is not None else big
    phi = [v.subs({d1: x1, d2: big}) for v in PHI]
    theta = [Fraction(0)] * 3
    for j, item in enumerate(sigma):
        theta[item] = Fraction(int(sp.numer(phi[j])), int(sp.denom(phi[j])))
    return theta


def dcg_consistency() -> Derivation:
    """CON-2[rankmax/R2/multihot] on n = 3, k = 1 over :data:`LAWS` (module docstring)."""
    laws = LAWS
    rule = "adaptive (R2)" if SCALE == "adaptive" else "fixed, every label at $a = A$ (R1)"
    d = Derivation(
        statement=r"sorting the Bayes-optimal scores of $R(\theta) = \sum_i \eta_i L_{R2}(\theta; e_i)$ maximizes "
                  r"$\mathbb{E}[\mathrm{DCG}]$ (binary relevance, one relevant item: $k = 1$)",
        scope=r"$n = 3$, $k = 1$, the laws $\eta \in \{" + ", ".join(
            "(" + ", ".join(sp.latex(sp.Rational(e.numerator, e.denominator)) for e in eta) + ")" for eta in laws)
            + r"\}$, exact infima on every ordering",
        assumptions=[r"scale rule: " + rule, r"scores in units of $1/A$: $\varphi = A\theta = (d_1 + d_2, d_2, 0)$ "
                     r"on each ordering, $d_1, d_2 \ge 0$"])
    d.step(r"scales (units of $A$): $s_1 = 1$, $s_2 = \min(1, 1/d_1)$, $s_3 = \min(1, 1/(d_1 + 2d_2))$ under R2 "
           r"($k = 1$: the lowest label's threshold equation gives $\varepsilon = \sum_i (\varphi_i - \varphi_j)_+$); "
           r"regions (a) $d_1 + 2d_2 \le 1$, (b) $d_1 \le 1 \le d_1 + 2d_2$, (c) $d_1 \ge 1$")
    results, decision, cx = [], True, None
    for eta in laws:
        res = decide_law(eta)
        results.append(res)
        tex = "(" + ", ".join(sp.latex(sp.Rational(e.numerator, e.denominator)) for e in eta) + ")"
        if res["decision"] == "undecided":
            d.step(rf"$\eta = {tex}$: undecided (" + res.get("why", "an ordering outside $\\eta$'s order ties the "
                                                         "infimum") + ")")
            decision = None if decision is not False else False
            continue
        sig = res["argmin"]
        d.step(rf"$\eta = {tex}$: $\inf R = {sp.latex(sp.nsimplify(res['inf']))}$ on the ordering "
               + "$" + r" \succeq ".join(f"{i + 1}" for i in sig) + "$ (" + res["per"][sig][2] + ", region "
               + res["per"][sig][1] + rf"); over the orderings that sort $\eta$: "
               rf"${sp.latex(sp.nsimplify(res['inf_sorted']))}$; R1's $\inf = {sp.latex(res['r1_inf'])}$: "
               + res["decision"])
        if res["decision"] == "fails":
            decision = False
            if cx is None:
                theta = witness(res)
                cx = {"eta": [str(e) for e in eta], "theta_A": [str(v) for v in theta], "k": 1,
                      "inf": float(res["inf"]), "inf_sorted": float(res["inf_sorted"]),
                      "ordering": [i + 1 for i in sig],
                      "reason": "every minimizing sequence of the R2 risk inverts a pair with different eta"}
    if decision is False:
        d.counterexample = cx
        d.summary = (r"at $\eta = (" + ", ".join(cx["eta"]) + r")$ ($n = 3$, $k = 1$) only inverted rankings reach "
                     + f"the inf {cx['inf']:.6g} (sorted: {cx['inf_sorted']:.6g})")
    elif decision:
        d.summary = (rf"$n = 3$, $k = 1$: on {len(laws)} laws the infimum is reached only by orderings that sort "
                     r"$\eta$")
    return d.decide(decision)


def topk_calibration() -> Derivation:
    """CON-1[rankmax/R2] on n = 3, k = 1 over :data:`LAWS`: top-k′ calibration for k′ = 1, 2 (Yang & Koyejo
    2020) from the same exact infima per ordering (:func:`topk_law`)."""
    rule = "adaptive (R2)" if SCALE == "adaptive" else "fixed, every label at $a = A$ (R1)"
    d = Derivation(
        statement=r"$\inf\{R(\theta) : \theta \text{ not top-}k'\text{ preserving for } \eta\} > \inf R$ for "
                  r"$k' = 1, 2$, $R(\theta) = \sum_i \eta_i L_{R2}(\theta; e_i)$ (one relevant item: $k = 1$)",
        scope=r"$n = 3$, $k = 1$, $k' \in \{1, 2\}$, the laws of CON-2[rankmax/R2/multihot], exact infima on every "
              r"ordering",
        assumptions=[r"scale rule: " + rule, r"$\theta$ is not top-$k'$ preserving iff $\theta_i \le \theta_j$ for "
                     r"some $i$ among $\eta$'s $k'$ largest and $j$ not: a union of closed cones of orderings"])
    decision, cx = True, None
    for eta in LAWS:
        tex = "(" + ", ".join(sp.latex(sp.Rational(e.numerator, e.denominator)) for e in eta) + ")"
        for top in (1, 2):
            res = topk_law(eta, top)
            if res["decision"] == "undecided":
                d.step(rf"$\eta = {tex}$, $k' = {top}$: undecided ({res['why']})")
                decision = None if decision is not False else False
                continue
            d.step(rf"$\eta = {tex}$, $k' = {top}$: $\inf R = {sp.latex(sp.nsimplify(res['inf']))}$; over "
                   rf"$\theta$ not top-$k'$ preserving ${sp.latex(sp.nsimplify(res['inf_not_preserving']))}$, over "
                   rf"the preserving orderings ${sp.latex(sp.nsimplify(res['inf_preserving']))}$: {res['decision']}")
            if res["decision"] == "fails":
                decision = False
                if cx is None:
                    cx = {"eta": [str(e) for e in eta], "top": top, "theta_A": [str(v) for v in witness(res)],
                          "k": 1, "inf": float(res["inf"]), "inf_preserving": float(res["inf_preserving"]),
                          "reason": f"the risk's infimum is reached by scores that are not top-{top} preserving"}
    if decision is False:
        d.counterexample = cx
        d.summary = (rf"at $\eta = (" + ", ".join(cx["eta"]) + rf")$ ($n = 3$) inf $R$ {cx['inf']:.6g} is reached "
                     rf"off top-{cx['top']} preservation (on it: {cx['inf_preserving']:.6g})")
    elif decision:
        d.summary = rf"$n = 3$, $k = 1$: top-1 and top-2 calibrated on {len(LAWS)} laws (exact infima)"
    return d.decide(decision)


__all__ = ["SCALE", "LAWS", "piece", "infimum", "decide_law", "topk_law", "required_pairs", "witness",
           "dcg_consistency", "topk_calibration"]
