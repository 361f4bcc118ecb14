"""CON-1 (top-k calibration) and CON-2 (DCG consistency, label maps L1 and L2) derived for any
separable regulariser Ω(p) = Σᵢ g(pᵢ) on the simplex (issue 23 §4; CLAIMS.md §2).

Premise FY-2 of the loss (proofs/user/fy.py, via :func:`proofs.user.con.fy2_premise`):
R(θ; η) = L(θ; η) + const, L ≥ 0 with equality iff ŷ(θ) = η, so inf R = −Ω(η) + const
(Fenchel–Moreau) and R − inf R = L(·; η).

* CON-1 (:func:`topk_calibration`, Yang & Koyejo 2020).  Take a pair with a = ηᵢ > b = ηⱼ ≥ 0.
  The half-space H = {θᵢ ≤ θⱼ} has one linear constraint and a strictly feasible point, so
  (Lagrange, strong duality) inf_H L(·; η) = Ω(η) − min_{μ ∈ [0, a]} Ω(η + μ(eⱼ − eᵢ)).  KKT at
  the optimum: ŷ(θ) = η + μ(eⱼ − eᵢ); μ = 0 would give ŷ = η with ŷᵢ > ŷⱼ at θᵢ ≤ θⱼ, against
  the map's weak order preservation (CON-3 O1), so μ > 0, θᵢ = θⱼ by complementary slackness,
  and ŷᵢ = ŷⱼ (ŷ is one function of θₖ − τ per coordinate).  With ŷᵢ + ŷⱼ = a + b this is
  :func:`kkt_point` = ((a + b)/2, (a + b)/2), the other coordinates at η -- also where ηₖ = 0
  and g′(0⁺) is finite (ŷₖ = 0, θₖ − τ ≤ g′(0⁺)); where g′(0⁺) = −∞ and η has zeros the
  infimum is a limit, with the same value (the dual side is attained).  So the gap is
      inf_H R − inf R = Ω(η) − Ω(η̄) = g(a) + g(b) − 2g((a + b)/2)
  (the FY identity at ŷ(θ̄) = η̄ with ⟨θ̄, η̄ − η⟩ = 0, since θ̄ᵢ = θ̄ⱼ and η̄ − η moves mass
  between i and j only).  With m = (a + b)/2, d = (a − b)/2 ∈ (0, m]: F(d) = g(m + d) + g(m − d) −
  2g(m) has F(0) = F′(0) = 0 and F″(t) = g″(m + t) + g″(m − t) > 0 for t ∈ (0, m) (g″ > 0 on
  (0, 1), a derived fact), so F(d) = ∫₀^d (d − t) F″(t) dt > 0, and at d = m (b = 0) by
  continuity (g(0⁺) finite, a derived fact).  The covering lemma (proofs/con/consistency.py) puts
  every non-top-k-preserving θ in such a half-space: top-k calibrated for every k < n.
  g is an undefined function in these steps (sympy); the given g is then substituted to
  show the gap and F″ for it.
* CON-2 (:func:`dcg_consistency`).  By FY-2 and the risk-gradient identity (symbolic in the
  number of atoms, proofs/con/consistency.py) the Bayes scores are the θ with ŷ(θ) = q, q the
  label law's target mean; on the support θᵢ − τ = :func:`bayes_score` = g′(qᵢ), strictly
  increasing in qᵢ (its derivative is g″ > 0); where qⱼ = 0, θⱼ − τ ≤ g′(0⁺) < g′(qᵢ) for qᵢ > 0
  (g′(0⁺) finite), or θⱼ → −∞ along a minimizing sequence (g′(0⁺) = −∞).  So every sorting of
  every Bayes point sorts q.  L1 (labels G/ΣG weighted by ΣG): q ∝ E[G] (the target block of
  proofs/con/consistency.py, read from its table ``LABEL_MAPS``), so it sorts E[G], optimal by
  the rearrangement inequality: consistent.  L2 (unit weights): q = E[G/ΣG]; the law
  D = {2/5: r = (0,0,1), 3/5: r = (1,2,1)} has q = (3/25, 9/25, 13/25) but E[G] = (3/5, 9/5, 1),
  every Bayes point ranks item 3 above item 2 (from 1) and loses E[DCG]: not consistent,
  for every g (an interior law, so the Bayes point is attained for every g).

What the derivations read is looked up at call time (:func:`kkt_point`, :func:`bayes_score`,
``proofs.con.consistency.LABEL_MAPS`` and its target mean), so that a wrong input -- a planted
defect (reports/user/claims_rank.py) -- enters where a bug would.  Strict convexity decided
beyond sympy leaves a scope gap.
"""
from __future__ import annotations

import sympy as sp

from audit.separable import SeparableLoss

from ..con import consistency as con
from ..derivation import Derivation, is_zero
from .facts import SYMBOLIC, derive

A, B = sp.symbols("a b", positive=True)          # ηᵢ > ηⱼ
M, DD, MU = sp.symbols("m d mu", positive=True)  # midpoint, half-difference, the multiplier
Q = sp.Symbol("q", positive=True)                # a coordinate of the target q
W = sp.Symbol("w", positive=True)                # q = w/(1 + w) sweeps (0, 1)
_G = sp.Function("g")                            # the generator, undefined
#: the L2 law of the module docstring: interior (every q > 0), so the Bayes point is attained for every g
L2_LAW = ((sp.Rational(2, 5), (0, 0, 1)), (sp.Rational(3, 5), (1, 2, 1)))


def kkt_point(a: sp.Expr, b: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(ŷᵢ, ŷⱼ) at the minimizer of R over θᵢ ≤ θⱼ: the KKT conditions ŷᵢ = ŷⱼ (θᵢ = θⱼ) and
    ŷᵢ + ŷⱼ = a + b (ŷ = η + μ(eⱼ − eᵢ)), solved by sympy."""
    yi, yj = sp.symbols("yhat_i yhat_j", positive=True)
    (sol,) = sp.solve([sp.Eq(yi, yj), sp.Eq(yi + yj, a + b)], [yi, yj], dict=True)
    return sol[yi], sol[yj]


def bayes_score(loss: SeparableLoss, q: sp.Expr) -> sp.Expr:
    """θᵢ − τ of a Bayes point on the support: g′(qᵢ) (the KKT condition at ŷ = q)."""
    return derive(loss).g1.subs(loss.x, q)


def _base(loss: SeparableLoss, statement: str, scope: str, premise: str) -> tuple[Derivation, object, bool | None]:
    f = derive(loss)
    how = f["g''>0 on (0,1)"].how
    d = Derivation(statement=statement, scope=scope,
                   assumptions=[f"$g'' > 0$ on $(0, 1)$ ({'symbolic' if how == SYMBOLIC else how})",
                                f"$g(0^+) = {sp.latex(f['g(0+)'].value)}$ finite (derived)",
                                "$\\Omega$ on the simplex; $\\hat y_i = G(\\operatorname{clip}(\\theta_i - \\tau, "
                                "g'(0^+), g'(1^-)))$, one threshold $\\tau$ (KKT, FY-1)"])
    if how != SYMBOLIC:
        d.gap = f"strict convexity of $g$ rests on a check beyond sympy ({how})"
    d.step(f"Premise FY-2[user:{loss.name}] ($R(\\theta; \\eta) = L(\\theta; \\eta) + \\mathrm{{const}}$, $L \\ge 0$ "
           f"with equality iff $\\hat y(\\theta) = \\eta$, so $\\inf R = -\\Omega(\\eta) + \\mathrm{{const}}$): "
           f"{premise}")
    return d, f, premise == "holds"


def _gap_identities(d: Derivation) -> tuple[bool, sp.Expr]:
    """KKT point, stationarity of the dual, the FY identity and F″, with g undefined; (all
    checked, the gap as an expression in a, b)."""
    pi, pj = kkt_point(A, B)
    d.step("KKT on $\\theta_i \\le \\theta_j$: $\\hat y(\\theta) = \\eta + \\mu(e_j - e_i)$, $\\mu \\ge 0$; "
           "$\\mu = 0$ would give $\\hat y_i = a > b = \\hat y_j$ at $\\theta_i \\le \\theta_j$, against the map's "
           "weak order preservation (one threshold, a non-decreasing map per coordinate), so $\\mu > 0$, "
           "$\\theta_i = \\theta_j$ (complementary slackness) and $\\hat y_i = \\hat y_j$; with "
           "$\\hat y_i + \\hat y_j = a + b$ (sympy's solve):", sp.Matrix([[pi, pj]]))
    mu_star = sp.simplify(A - pi)
    c = sp.Symbol("c", positive=True)
    inside = bool(sp.simplify(mu_star.subs(A, B + c)).is_positive and sp.simplify(A - mu_star).is_positive)
    d.step(f"$\\mu^* = a - \\hat y_i$ lies in $(0, a)$ for $a > b \\ge 0$: {inside}.")
    h = _G(A - MU) + _G(B + MU)
    stat = is_zero(sp.diff(h, MU).subs(MU, mu_star)) is True
    d.step("$h(\\mu) = g(a - \\mu) + g(b + \\mu)$ (the dual objective on the pair) at "
           "$\\mu^* = a - \\hat y_i =$", mu_star)
    d.step(f"$h'(\\mu^*) = 0$ with $g$ undefined: {stat}; $h'' = g''(a - \\mu) + g''(b + \\mu) > 0$, so "
           "$\\mu^*$ is the dual optimum, in $[0, a]$ (strong duality: one linear constraint, strictly feasible).")
    t = sp.Symbol("t", real=True)
    mass = sp.simplify(t * (pi - A) + t * (pj - B)) == 0
    d.step("At $\\hat y(\\bar\\theta) = \\bar\\eta$ with $\\bar\\theta_i = \\bar\\theta_j = t$: "
           "$L(\\bar\\theta; \\eta) = \\Omega(\\eta) - \\Omega(\\bar\\eta) + "
           "\\langle\\bar\\theta, \\bar\\eta - \\eta\\rangle$ and "
           f"$\\langle\\bar\\theta, \\bar\\eta - \\eta\\rangle = t(\\hat y_i - a) + t(\\hat y_j - b) = 0$: {mass}.")
    gap = _G(A) + _G(B) - _G(pi) - _G(pj)
    d.step("So the half-space gap $\\inf_{\\theta_i \\le \\theta_j} R - \\inf R = "
           "\\Omega(\\eta) - \\Omega(\\bar\\eta) =$", gap)
    F = gap.subs({A: M + DD, B: M - DD}, simultaneous=True)
    f0 = is_zero(F.subs(DD, 0)) is True
    f1 = is_zero(sp.diff(F, DD).subs(DD, 0)) is True
    f2 = is_zero(sp.diff(F, DD, 2) - sp.diff(_G(M + DD), DD, 2) - sp.diff(_G(M - DD), DD, 2)) is True
    d.step(f"With $a = m + d$, $b = m - d$: $F(0) = 0$: {f0}; $F'(0) = 0$: {f1}; "
           f"$F''(d) = g''(m + d) + g''(m - d)$: {f2}, so $F(d) = \\int_0^d (d - t) F''(t)\\,dt > 0$ for "
           "$0 < d < m$ ($m \\pm t \\in (0, 1)$, $g'' > 0$ there), "
           "and at $d = m$ ($b = 0$) by continuity ($g(0^+)$ finite).")
    return inside and stat and mass and f0 and f1 and f2, gap


def _for_the_given_g(d: Derivation, loss: SeparableLoss, gap: sp.Expr) -> bool:
    """The gap and F″ for the loss's g (shown), and the gap at two exact points (one with b = 0)."""
    f = derive(loss)
    x = sp.Symbol("x", positive=True)
    gl = sp.Lambda(x, loss.g.subs(loss.x, x))
    concrete = gap.replace(_G, gl)
    d.step("For the given $g$ the gap is", concrete)
    d.step("and $F''(d) = g''(m + d) + g''(m - d) =$", f.g2.subs(loss.x, M + DD) + f.g2.subs(loss.x, M - DD))
    g0 = f["g(0+)"].value
    vals = []
    for a, b in ((sp.Rational(1, 2), sp.Rational(1, 4)), (sp.Rational(1, 3), sp.S.Zero)):
        at = gap.subs({A: a, B: b}, simultaneous=True).replace(_G, lambda v: g0 if v == 0 else gl(v))
        vals.append(sp.N(at, 30))
    d.step("At $(a, b) = (1/2, 1/4)$ and $(1/3, 0)$ (with $g(0) = g(0^+)$) it is $"
           + "$ and $".join(sp.latex(sp.Float(v, 6)) for v in vals) + "$ (an illustration, not the proof).")
    return all(v > 0 for v in vals)


def topk_calibration(loss: SeparableLoss, premise: str) -> Derivation:
    """CON-1 for ``loss`` (module docstring); ``premise``: FY-2's decision for this loss."""
    d, f, ok_premise = _base(
        loss, f"{loss.name}: every half-space $\\theta_i \\le \\theta_j$ with $\\eta_i > \\eta_j$ has conditional-risk "
              f"infimum $g(\\eta_i) + g(\\eta_j) - 2g((\\eta_i + \\eta_j)/2) > 0$ above $\\inf R$, so {loss.name} is "
              "top-$k$ calibrated for every $k < n$",
        "symbolic in $a = \\eta_i > b = \\eta_j \\ge 0$ with $g$ undefined ($b = 0$ by continuity of $g$ at 0); every "
        "$n$ and $k < n$ through the covering lemma", premise)
    ok, gap = _gap_identities(d)
    shown = _for_the_given_g(d, loss, gap)
    d.step("Covering lemma (proofs/con/consistency.py): a $\\theta$ that is not top-$k$ preserving for $\\eta$ lies in "
           "a half-space $\\theta_i \\le \\theta_j$ with $\\eta_i > \\eta_j$; so $\\inf\\{R : \\theta$ not top-$k$ "
           "preserving$\\} \\ge \\inf R + \\min$ gap $> \\inf R$, for every $k < n$ and every $\\eta$.")
    d.summary = ("each half-space $\\theta_i \\le \\theta_j$, $\\eta_i > \\eta_j$, stays "
                 "$g(\\eta_i) + g(\\eta_j) - 2g(\\bar\\eta) > 0$ above $\\inf R$: top-$k$ calibrated")
    if not ok_premise:
        return d.decide(None)
    return d.decide(True if ok and shown else None)


# --------------------------------------------------------------------------------------
# CON-2
# --------------------------------------------------------------------------------------
def _scores_increasing(d: Derivation, loss: SeparableLoss, f) -> bool | None:
    """bayes_score strictly increasing in q on (0, 1), and below every support score at a zero."""
    score = bayes_score(loss, Q)
    slope = sp.simplify(sp.diff(score, Q))
    d.step("A Bayes point has $\\hat y(\\theta^*) = q$: on the support $\\theta^*_i - \\tau =$", score)
    inc = sp.simplify(slope.subs(Q, W / (1 + W))).is_positive
    if inc is None and sp.simplify(slope - f.g2.subs(loss.x, Q)) == 0:
        inc = True                                   # its derivative is g″: positive by the derived fact
    d.step(f"$d\\theta^*_i/dq_i =$ ${sp.latex(slope)}$ $> 0$ on $(0, 1)$: {inc}; ties in $q$ stay tied (unique "
           "modulo $\\tau$).")
    d0 = f["g'(0+)"].value
    if d0 == -sp.oo:
        d.step("$g'(0^+) = -\\infty$: an item with $q_j = 0$ has no attained score; along a minimizing sequence "
               "$\\theta_j - \\tau = g'(\\hat y_j) \\to -\\infty$, below every item with $q_i > 0$.")
    else:
        d.step(f"$g'(0^+) = {sp.latex(d0)}$: an item with $q_j = 0$ has $\\theta_j - \\tau \\le g'(0^+) < g'(q_i)$ for "
               "every $q_i > 0$ (strictly increasing $g'$).")
    d.step("So every sorting of every Bayes point (ties broken every way) sorts $q$ non-increasingly.")
    return inc


def dcg_consistency(loss: SeparableLoss, label_map: str, premise: str) -> Derivation:
    """CON-2 for ``loss`` with ``label_map`` ("L1" or "L2", its definition read from
    ``proofs.con.consistency.LABEL_MAPS`` at call time); ``premise``: FY-2's decision."""
    if label_map not in ("L1", "L2"):
        raise ValueError(f"label_map must be 'L1' or 'L2', got {label_map!r}")
    lm = con.LABEL_MAPS[label_map]
    edcg = "$\\mathbb{E}_D[\\mathrm{DCG}]$"
    d, f, ok_premise = _base(
        loss, f"{loss.name}/{label_map}: sorting the Bayes-optimal scores (every minimizer, ties broken every way) "
              f"maximizes {edcg} for every $D$",
        "symbolic in $n$ (per coordinate) and in the number of atoms of $D$; every grade $r \\ge 0$; the L2 "
        "counterexample in exact rationals", premise)
    ok_grad = con._risk_gradient(d, con.weighted_mean())
    proportional = con._target_block(d, label_map, lm)
    inc = _scores_increasing(d, loss, f)
    u = sp.Symbol("u", positive=True)
    dec = sp.simplify(sp.diff(1 / sp.log(1 + u, 2), u)).is_negative
    d.step(f"The discount $1/\\log_2(1 + u)$ strictly decreases: {dec}.")
    premises = ok_premise and ok_grad is True and inc is True and dec is True
    if proportional:
        link = con._gain_link(d, lm.gain, lm.binary)
        d.step("So $\\mathbb{E}[G]_i = A + Bc\\,q_i$ ($B > 0$): every sorting of every Bayes point sorts "
               "$\\mathbb{E}[G]$, and the rearrangement inequality makes exactly those orders optimal.")
        d.summary = (f"{loss.name}/{label_map}: the Bayes scores are $g'(q)$ with $q \\propto \\mathbb{{E}}[G]$: "
                     "consistent")
        return d.decide(True if premises and link is True else None)
    return _counterexample(d, loss, lm, premises)


def _counterexample(d: Derivation, loss: SeparableLoss, lm, premises: bool) -> Derivation:
    """A map whose target is not proportional to E[ℓ] (L2): the law :data:`L2_LAW`, exact."""
    n = 3
    EG = [sum(p * con.dcg_gain(sp.Integer(r[i])) for p, r in L2_LAW) for i in range(n)]
    cy = []
    for p, r in L2_LAW:
        ell = [sp.sympify(lm.gain(sp.Integer(v))) for v in r]
        cy.append(con._map_atoms(lm, p, sum(ell), sp.Matrix(ell)))
    q = list(sum((c * y for c, y in cy), sp.zeros(n, 1)) / sum(c for c, _ in cy))
    theta = [sp.simplify(bayes_score(loss, v)) for v in q]
    d.step("Law $D = \\{2/5: r = (0,0,1),\\ 3/5: r = (1,2,1)\\}$: $\\mathbb{E}[G] =$", sp.Matrix(EG))
    d.step("the target $q = \\sum_a c_a y_a/\\sum_a c_a =$", sp.Matrix(q))
    d.step("and the Bayes scores $\\theta^* = g'(q)$ ($\\tau = 0$; every $q_i > 0$, so attained):", sp.Matrix(theta))
    i, j = 1, 2
    below = sp.N(theta[i] - theta[j], 30) < 0
    flip = bool(q[i] < q[j] and EG[i] > EG[j] and below)
    order_q = sorted(range(n), key=lambda k: -q[k])
    order_g = sorted(range(n), key=lambda k: -EG[k])
    regret = sp.nsimplify(con._dcg(EG, order_g) - con._dcg(EG, order_q))
    positive = sp.simplify(regret).is_positive
    d.step(f"$q_2 < q_3$ but $\\mathbb{{E}}[G]_2 > \\mathbb{{E}}[G]_3$, and $\\theta^*_2 < \\theta^*_3$: {flip}; every "
           "Bayes point ranks item 3 above item 2 (from 1; the stored pair counts from 0: $(1, 2)$) and loses", regret)
    if not premises or not flip or not positive:
        d.step("(a premise or the exhibited law does not hold: nothing decided)")
        return d.decide(None)
    d.counterexample = {"D": [{"p": float(p), "r": list(r)} for p, r in L2_LAW],
                        "theta": [float(sp.N(t, 30)) for t in theta], "pair": [i, j], "regret": float(regret)}
    d.summary = (r"$D = \{2/5: (0,0,1),\ 3/5: (1,2,1)\}$: every Bayes point ranks item 3 over 2 (from 1), "
                 rf"losing {float(regret):.4g} of $\mathbb{{E}}[\mathrm{{DCG}}]$")
    return d.decide(False)


__all__ = ["kkt_point", "bayes_score", "topk_calibration", "dcg_consistency", "L2_LAW"]
