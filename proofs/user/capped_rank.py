"""CON-1 (top-k′ calibration) and CON-2 (DCG consistency, the multi-hot label) derived for a
separable regulariser Ω(p) = Σᵢ g(pᵢ) on the capped simplex C_k = {p ∈ [0, 1]ⁿ : Σp = k}
(issue 23 §4; CLAIMS.md §2, the readings of the main rows CON-1[rankmax] and
CON-2[rankmax/multihot]).

**Labels and the risk.**  A label is a k-subset S (its multi-hot vector 1_S ∈ C_k, the same k in
every draw); η = E 1_S ∈ C_k is the vector of marginal inclusion probabilities P(i ∈ S), and C_k is
exactly the set of such η (the convex hull of the k-hot vectors).  The FY loss is affine in y up to
Ω(y), and Ω(1_S) = k g(1⁻) + (n − k) g(0⁺) is the same for every S, so
    R(θ) = E_S L(θ; 1_S) = L(θ; η) + const,     inf R = const     (FY-2 on C_k: L ≥ 0, = 0 iff ŷ = η).
This needs g(1⁻) finite: otherwise every k-hot label has Ω(1_S) = +∞, L ≡ +∞, and the reading does
not apply (both derivations then decide nothing; numerics/user/capped_rank.py likewise).
g(1⁻) is finite whenever the cap is (g′(1⁻) < ∞).

* CON-1 (:func:`topk_calibration`).  Take a pair with a = ηᵢ > b = ηⱼ (0 ≤ b < a ≤ 1).  The
  half-space H = {θᵢ ≤ θⱼ}: inf_H L(·; η) = Ω(η) − min_μ Ω(η + μ(eⱼ − eᵢ)) (one linear
  constraint, strictly feasible: strong duality), where now p = η + μ(eⱼ − eᵢ) must stay in C_k:
  μ ∈ [0, min(a, 1 − b)] -- **the cap** shortens the dual interval.  The KKT point is still the
  simplex's (proofs/user/rank.py ``kkt_point``): ŷᵢ = ŷⱼ = (a + b)/2, μ* = (a − b)/2, and
  μ* ≤ 1 − b because 1 − b − μ* = ((1 − a) + (1 − b))/2 > 0; the averaged pair (a + b)/2 lies in
  (0, 1), the free region of the map, whatever the other coordinates.  So the gap is the
  simplex's, g(a) + g(b) − 2g((a + b)/2) > 0 by strict convexity (F″ > 0 strictly inside
  (b, a) ⊂ (0, 1)), now also at **a = 1** (by continuity of g at 1⁻, g(1⁻) finite) beside b = 0.
  **Entries of η at 1 or 0** other than the pair: at the half-space optimum they stay there,
  attained in the cap (θₜ − τ ≥ g′(1⁻), ŷₜ = 1) or zero region (θₜ − τ ≤ g′(0⁺), ŷₜ = 0) where that
  end is finite, as limits where it is infinite (the dual side is attained, the value the
  same).  **Ties** ηᵢ = ηⱼ (two ones, two zeros, or inside) give no violating pair (covering
  lemma, proofs/con/consistency.py), for every k′ < n, whatever the label size k.
* CON-2 (:func:`dcg_consistency`).  Binary relevance with |r| = k: the label is y = r ∈ C_k with
  unit weight (``proofs.con.consistency.LABEL_MAPS["multihot"]``), q = E r = η, and E[G(r)] = η
  (G(1) = 1, G(0) = 0: the gain link).  By FY-2 the Bayes points are the θ with ŷ(θ) = η: on
  0 < ηᵢ < 1, θᵢ − τ = ``bayes_score`` = g′(ηᵢ), strictly increasing (derivative g″ > 0); at ηᵢ = 1,
  θᵢ − τ ≥ g′(1⁻) > g′(q) for every q < 1 (the map's cap value 1 there, read from
  ``proofs.user.capped.coordinate``), or → +∞ on a minimizing sequence when g′(1⁻) = ∞; at
  ηⱼ = 0, θⱼ − τ ≤ g′(0⁺) (value 0) or → −∞.  So every Bayes point ranks ηᵢ > ηⱼ strictly; the
  minimizer set splits the ties at the cap and at 0 every way (and only those), but tied items
  have equal E[G] = η: the worst ranking over the minimizer set, ties broken every way, sorts
  E[G] and is optimal by the rearrangement inequality (discounts strictly decrease).

What the derivations read is looked up at call time (``proofs.user.rank.kkt_point``,
``bayes_score`` and ``_gap_identities``; ``proofs.user.capped.coordinate``;
``proofs.con.consistency.LABEL_MAPS``), so a wrong input -- a planted defect
(reports/user/claims_capped_rank.py) -- enters where a bug would.  g is an undefined function
in the identities, then the given g is substituted.  Strict convexity decided beyond sympy
leaves a scope gap.
"""
from __future__ import annotations

import functools

import sympy as sp

from audit.separable import SeparableLoss

from ..con import consistency as con
from . import capped as sym_cap
from . import rank as sym_rank
from ..derivation import Derivation
from .facts import SYMBOLIC, derive

A, B = sym_rank.A, sym_rank.B
SLACK, DIFF = sp.symbols("s c", positive=True)     # a = 1 − s (or s = 0: a = 1), b = a − c
ON_CK = "$\\Omega$ on $C_k = \\{p \\in [0,1]^n : \\sum_i p_i = k\\}$, $1 \\le k < n$"
#: exact (a, b) where the given g's gap is shown: inside, at b = 0, and the cap's a = 1
POINTS = ((sp.Rational(1, 2), sp.Rational(1, 4)), (sp.Rational(1, 3), sp.S.Zero), (sp.S.One, sp.Rational(1, 2)),
          (sp.S.One, sp.S.Zero))


@functools.lru_cache(maxsize=32)
def g_at_one(loss: SeparableLoss) -> sp.Expr:
    """g(1⁻): finite iff a k-hot label lies in dom Ω (the readings' labels)."""
    return sp.limit(loss.g, loss.x, 1, "-")


def labels_in_domain(loss: SeparableLoss) -> bool:
    """Whether the k-subset labels have Ω(1_S) < ∞ (g(1⁻) finite): else L ≡ +∞ and the reading does
    not apply."""
    v = g_at_one(loss)
    return bool(v.is_finite)


def _base(loss: SeparableLoss, statement: str, scope: str, premise: str) -> tuple[Derivation, object, bool]:
    f = derive(loss)
    how = f["g''>0 on (0,1)"].how
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    d = Derivation(statement=statement, scope=scope,
                   assumptions=[f"$g'' > 0$ on $(0, 1)$ ({'symbolic' if how == SYMBOLIC else 'beyond sympy'})",
                                ON_CK, "$\\hat y_i = G(\\operatorname{clip}(\\theta_i - \\tau, g'(0^+), g'(1^-)))$, "
                                "one threshold $\\tau$ with $\\sum_i \\hat y_i = k$ (KKT, FY-1 on $C_k$)",
                                "labels: $k$-subsets $S$, multi-hot $\\mathbf 1_S \\in C_k$; $\\eta_i = P(i \\in S)$"])
    if how != SYMBOLIC:
        d.gap = "strict convexity of $g$ rests on a check beyond sympy"
    g1 = g_at_one(loss)
    d.step(f"For this $g$: $g(0^+) = {sp.latex(f['g(0+)'].value)}$, $g(1^-) = {sp.latex(g1)}$, "
           f"$g'(0^+) = {sp.latex(d0)}$, $g'(1^-) = {sp.latex(d1)}$.")
    inside = labels_in_domain(loss)
    if not inside:
        d.step("$g(1^-) = +\\infty$: every $k$-hot label has $\\Omega(\\mathbf 1_S) = +\\infty$, so $L(\\theta; "
               "\\mathbf 1_S) = +\\infty$ at every $\\theta$: the reading's conditional risk is $+\\infty$ everywhere "
               "and the claim does not apply (nothing decided).")
    d.step(f"Premise FY-2[user:{loss.name}] on $C_k$ ($L \\ge 0$ with equality iff $\\hat y(\\theta) = y$, "
           f"$\\nabla_\\theta L = \\hat y - y$): {premise}.  $\\Omega(\\mathbf 1_S) = k\\,g(1^-) + (n - k)\\,g(0^+)$ "
           "is the same for every $S$, so $R(\\theta) = \\mathbb E_S L(\\theta; \\mathbf 1_S) = L(\\theta; \\eta) + "
           "\\mathrm{const}$ and $\\inf R = \\mathrm{const}$:")
    ok_grad = con._risk_gradient(d, con.weighted_mean())
    return d, f, inside and premise == "holds" and ok_grad is True


def _attained_ends(d: Derivation, loss: SeparableLoss, f) -> bool:
    """The other coordinates of η at 1 or at 0: the map's value there is η's (the cap's 1, the zero
    region's 0, read from ``proofs.user.capped.coordinate``) where that end is finite."""
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    w = sp.Symbol("w", nonnegative=True)
    ok = True
    if d1 != sp.oo:
        v = sym_cap._ends(sym_cap.coordinate("cap", sym_cap.HI + w))
        one = sp.simplify(v - 1) == 0
        ok = ok and one
        d.step(f"$\\eta_t = 1$, $g'(1^-) = {sp.latex(d1)}$ finite: at $\\theta_t - \\tau = g'(1^-) + w$, "
               f"$w \\ge 0$, the map's value is ${sp.latex(v)}$ $= 1$: {one} (attained at the cap).")
    else:
        d.step("$\\eta_t = 1$, $g'(1^-) = \\infty$: not attained; along a minimizing sequence $\\theta_t - \\tau = "
               "g'(\\hat y_t) \\to +\\infty$ (the dual side is attained, the value the same).")
    if d0 != -sp.oo:
        v = sym_cap._ends(sym_cap.coordinate("zero", sym_cap.LO - w))
        zero = sp.simplify(v) == 0
        ok = ok and zero
        d.step(f"$\\eta_t = 0$, $g'(0^+) = {sp.latex(d0)}$ finite: at $\\theta_t - \\tau = g'(0^+) - w$ the map's "
               f"value is ${sp.latex(v)}$ $= 0$: {zero} (attained).")
    else:
        d.step("$\\eta_t = 0$, $g'(0^+) = -\\infty$: not attained; $\\theta_t - \\tau = g'(\\hat y_t) \\to -\\infty$ "
               "along a minimizing sequence.")
    return ok


def _cap_interval(d: Derivation) -> bool:
    """μ* of ``kkt_point`` inside the C_k dual interval [0, min(a, 1 − b)], the averaged pair in (0, 1)."""
    pi, _ = sym_rank.kkt_point(A, B)
    mu = sp.simplify(A - pi)
    # a < 1 (a = 1 − s) and a = 1, with b = a − c ≥ 0
    subs = ({A: 1 - SLACK, B: 1 - SLACK - DIFF}, {A: sp.S.One, B: 1 - DIFF})
    room = [sp.simplify((1 - B - mu).subs(sub, simultaneous=True)) for sub in subs]
    below = [sp.simplify((1 - pi).subs(sub, simultaneous=True)) for sub in subs]
    inside = all(bool(r.is_positive) for r in room)
    under = all(bool(v.is_positive) for v in below)
    above = bool(sp.simplify(pi.subs(B, 0)).is_positive)
    d.step("The cap: $p = \\eta + \\mu(e_j - e_i) \\in C_k$ needs $\\mu \\le a$ and $\\mu \\le 1 - b$.  With "
           "$a = 1 - s$ ($s > 0$) or $a = 1$, and $b = a - c$ ($c > 0$): $1 - b - \\mu^* =$", sp.Matrix([room]))
    d.step(f"both positive: {inside}; the averaged pair $\\hat y_i = \\hat y_j$ lies in $(0, 1)$ (below 1: {under}; "
           f"above 0 at $b = 0$: {above}), the free region of the map: the cap leaves the simplex's KKT point "
           "feasible, so its gap is the gap on $C_k$.")
    return inside and under and above


def _for_the_given_g(d: Derivation, loss: SeparableLoss, gap: sp.Expr) -> bool:
    """The gap for the loss's g, and at the exact points :data:`POINTS` (ends by continuity)."""
    f = derive(loss)
    x = sp.Symbol("x", positive=True)
    gl = sp.Lambda(x, loss.g.subs(loss.x, x))
    g0, g1 = f["g(0+)"].value, g_at_one(loss)
    d.step("For the given $g$ the gap is", gap.replace(sym_rank._G, gl))
    vals = [sp.N(gap.subs({A: a, B: b}, simultaneous=True).replace(
        sym_rank._G, lambda v: g0 if v == 0 else g1 if v == 1 else gl(v)), 30) for a, b in POINTS]
    d.step("At $(a, b) = " + ",\\ ".join(f"({sp.latex(a)}, {sp.latex(b)})" for a, b in POINTS) + "$ (with $g(0) = "
           "g(0^+)$, $g(1) = g(1^-)$) it is $" + "$, $".join(sp.latex(sp.Float(v, 6)) for v in vals)
           + "$ (an illustration, not the proof).")
    return all(v > 0 for v in vals)


def topk_calibration(loss: SeparableLoss, premise: str) -> Derivation:
    """CON-1 on C_k for ``loss`` (module docstring); ``premise``: FY-2 on C_k's decision."""
    d, f, ok_base = _base(
        loss, f"{loss.name} on $C_k$ with $k$-subset labels: every half-space $\\theta_i \\le \\theta_j$ with "
              f"$\\eta_i > \\eta_j$ has conditional-risk infimum $g(\\eta_i) + g(\\eta_j) - "
              f"2g((\\eta_i + \\eta_j)/2) > 0$ above $\\inf R$, so {loss.name} is top-$k'$ calibrated for every "
              "$k' < n$ and every label size $k$",
        "symbolic in $a = \\eta_i > b = \\eta_j$, $0 \\le b < a \\le 1$, with $g$ undefined ($b = 0$ and $a = 1$ by "
        "continuity of $g$); every $n$, $k$ and $k' < n$ through the covering lemma", premise)
    ok, gap = sym_rank._gap_identities(d)
    cap = _cap_interval(d)
    d.step("$F''(t) = g''(m + t) + g''(m - t) > 0$ for $t \\in (0, d)$ since $m \\pm t \\in (b, a) \\subset (0, 1)$; "
           "$F$ is continuous on $[0, d]$ as $g$ is at $0^+$ and $1^-$ (both finite here), so the gap is positive "
           "at $a = 1$ too.")
    ends = _attained_ends(d, loss, f)
    shown = _for_the_given_g(d, loss, gap) if ok_base else False
    d.step("Covering lemma (proofs/con/consistency.py): a $\\theta$ that is not top-$k'$ preserving for $\\eta$ lies in a "
           "half-space $\\theta_i \\le \\theta_j$ with $\\eta_i > \\eta_j$; exact ties (two ones at the cap, two "
           "zeros, or inside) give no violating pair.  So $\\inf\\{R : \\theta$ not top-$k'$ preserving$\\} \\ge "
           "\\inf R + \\min$ gap $> \\inf R$, for every $k' < n$, every label size $k$ and every $\\eta \\in C_k$.")
    d.summary = ("on $C_k$ each half-space $\\theta_i \\le \\theta_j$, $\\eta_i > \\eta_j$, stays $g(\\eta_i) + "
                 "g(\\eta_j) - 2g(\\bar\\eta) > 0$ above $\\inf R$: top-$k'$ calibrated")
    if not ok_base:
        return d.decide(None)
    return d.decide(True if ok and cap and ends and shown else None)


def _bayes_points(d: Derivation, loss: SeparableLoss, f) -> bool | None:
    """The Bayes scores on (0, 1) strictly increasing and the KKT point; ones above, zeros below."""
    q = sym_rank.Q
    score = sym_rank.bayes_score(loss, q)
    kkt = sp.simplify(f.g1.subs(loss.x, q) - score) == 0
    slope = sp.simplify(sp.diff(score, q))
    inc = sp.simplify(slope.subs(q, sym_rank.W / (1 + sym_rank.W))).is_positive
    if inc is None and sp.simplify(slope - f.g2.subs(loss.x, q)) == 0:
        inc = True                                   # its derivative is g″: positive by the derived fact
    d.step("A Bayes point has $\\hat y(\\theta^*) = \\eta$: on $0 < \\eta_i < 1$, $\\theta^*_i - \\tau =$",
           score.subs(q, sp.Symbol("eta_i", positive=True)))
    d.step(f"(the KKT condition $g'(\\hat y_i) = \\theta_i - \\tau$ at $\\hat y_i = \\eta_i$: {kkt}); its derivative "
           f"${sp.latex(slope)}$ $> 0$ on $(0, 1)$: {inc}; equal $\\eta$ inside $(0, 1)$ stay tied (unique modulo "
           "$\\tau$).")
    ends = _attained_ends(d, loss, f)
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    d.step(f"Ones above, zeros below: $g'(0^+) = {sp.latex(d0)} < g'(q) < g'(1^-) = {sp.latex(d1)}$ for "
           "$q \\in (0, 1)$ ($g'$ strictly increasing), so at every Bayes point (and along every minimizing sequence) "
           "$\\eta_i > \\eta_j \\Rightarrow \\theta^*_i > \\theta^*_j$; the minimizer set leaves exactly the ties at "
           "the cap and at 0 free, split every way.")
    return (inc is True) and kkt and ends


def dcg_consistency(loss: SeparableLoss, premise: str) -> Derivation:
    """CON-2 on C_k with the multi-hot label (module docstring); ``premise``: FY-2 on C_k's decision."""
    lm = con.LABEL_MAPS["multihot"]
    edcg = "$\\mathbb{E}_D[\\mathrm{DCG}]$"
    d, f, ok_base = _base(
        loss, f"{loss.name}/multihot on $C_k$: sorting the Bayes-optimal scores (worst ranking over the minimizer set, "
              f"ties broken every way) maximizes {edcg} for every law $D$ of binary relevance with $k$ relevant items",
        "symbolic in $n$, $k$ (per coordinate) and in the number of atoms of $D$; ties at the cap and at 0 in the "
        "minimizer set, limits where an end is infinite", premise)
    proportional = con._target_block(d, "multihot", lm)
    link = con._gain_link(d, lm.gain, lm.binary) if proportional else None
    d.step("So $q = \\eta$ and $\\mathbb{E}[G(r)]_i = A + B\\,\\eta_i$ with $B > 0$: $\\eta$ orders the expected "
           "gains, tied items having equal ones.")
    order = _bayes_points(d, loss, f)
    u = sp.Symbol("u", positive=True)
    dec = sp.simplify(sp.diff(1 / sp.log(1 + u, 2), u)).is_negative
    d.step(f"The discount $1/\\log_2(1 + u)$ strictly decreases: {dec}.  Every ranking that sorts a Bayes point "
           "(ties broken every way) sorts $\\mathbb{E}[G]$ non-increasingly, optimal by the rearrangement inequality.")
    d.summary = (f"{loss.name}/multihot on $C_k$: Bayes scores $g'(\\eta)$, ones at or above $g'(1^-)$, zeros at or "
                 "below $g'(0^+)$: consistent")
    if not ok_base:
        return d.decide(None)
    return d.decide(True if proportional and link is True and order and dec is True else None)


__all__ = ["topk_calibration", "dcg_consistency", "labels_in_domain", "g_at_one", "POINTS"]
