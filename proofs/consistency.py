"""CON-1 and CON-2, symbolic parts (sympy).

* :func:`properness` -- for a generic FY loss (Ω, Ω* undefined sympy functions) and a
  label law with m atoms, E[w L(θ; y)] − E[w]·L(θ; q) does not depend on θ
  (q = E[w y]/E[w]); so the risk minimizers are those of L(θ; q), i.e. ŷ(θ) = q.
* :func:`topk_calibration` -- per loss: the half-space gap
  gap(a, b) = φ(a) + φ(b) − 2φ((a+b)/2)  (Ω = Σφ, η_i = a > η_j = b), from the dual
  identity inf_{θ_i ≤ θ_j} R = −min_μ Ω(η + μ(e_j − e_i)) and the stationarity of μ* = (a−b)/2
  (checked by sympy), is > 0 because φ'' > 0 (decided by sympy under positivity
  assumptions) -- strict Jensen.  With the covering lemma (every non-top-k-preserving θ
  lies in some half-space θ_i ≤ θ_j with η_i > η_j) this is top-k calibration.
* :func:`dcg_consistency` -- L1: ∇ E[w L] = E[ΣG]·ŷ(θ) − E[G] (sympy), so ŷ ∝ E[G]: sorting
  the minimizer sorts E[G] (ties in ŷ are ties in E[G]), optimal by the rearrangement
  inequality → holds.  L2: ŷ = E[G/ΣG]; the law D = {2/5: (0,2,0), 3/5: (0,0,1)} gives
  E[G] = (0, 6/5, 3/5) but ŷ = (0, 2/5, 3/5): the order of items 2, 3 flips, and the exact
  DCG difference is decided by sympy → fails, with that counterexample.  rankmax/multihot
  (binary r, fixed |r| = k): ŷ = E[r] = E[G(r)] → holds.
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, is_zero

_PHI = {
    "softmax": lambda x, a: x * sp.log(x),
    "sparsemax": lambda x, a: x**2 / 2,
    "entmax": lambda x, a: x**a / (a * (a - 1)),
    "rankmax": lambda x, a: x**2 / 2,
}


def properness(n: int = 3, atoms: int = 2) -> Derivation:
    d = Derivation(
        "For an FY loss and any label law (weights w ≥ 0, labels y in dom Ω), E[w L(θ; y)] = E[w]·L(θ; q) + const "
        "with q = E[w y]/E[w]; hence the conditional-risk minimizers are exactly the θ with ŷ(θ) = q (where one exists).",
        f"generic Ω, Ω* (undefined functions), n = {n}, a law with {atoms} atoms, symbolic weights, probabilities, labels",
        assumptions=["L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩ (Blondel et al. 2020)", "E[w] > 0", "∇Ω* = ŷ"])
    th = sp.symbols(f"theta1:{n + 1}", real=True)
    p = sp.symbols(f"p1:{atoms + 1}", positive=True)
    w = sp.symbols(f"w1:{atoms + 1}", positive=True)
    Y = [sp.symbols(f"y{a}_1:{n + 1}", nonnegative=True) for a in range(1, atoms + 1)]
    conj, om = sp.Function("Omegastar"), sp.Function("Omega")
    L = lambda y: conj(*th) + om(*y) - sum(t * v for t, v in zip(th, y))  # noqa: E731
    Ew = sum(pi * wi for pi, wi in zip(p, w))
    q = [sum(pi * wi * y[i] for pi, wi, y in zip(p, w, Y)) / Ew for i in range(n)]
    risk = sum(pi * wi * L(y) for pi, wi, y in zip(p, w, Y))
    diff = risk - Ew * L(q)
    d.step("Risk minus E[w]·L(θ; q):", sp.simplify(diff))
    grads = [sp.simplify(sp.diff(diff, t)) for t in th]
    d.step("Its gradient in θ (must vanish identically):", sp.Matrix(grads))
    ok = all(is_zero(g) for g in grads)
    d.step("So ∇R(θ) = E[w](∇Ω*(θ) − q) = E[w](ŷ(θ) − q): R is minimized exactly where ŷ(θ) = q (convexity of Ω*).")
    return d.decide(ok)


def topk_calibration(loss: str) -> Derivation:
    a, b, mu = sp.symbols("a b mu", positive=True)
    al = sp.Symbol("alpha", positive=True)
    alpha = al if loss == "entmax" else None
    phi = lambda x: _PHI[loss](x, alpha)  # noqa: E731
    d = Derivation(
        f"{loss}: every half-space θ_i ≤ θ_j with η_i > η_j has conditional-risk infimum strictly above inf R, so "
        f"{loss} is top-k calibrated for every k < n (properness + strictly convex separable Ω).",
        "symbolic in a = η_i > b = η_j ≥ 0" + (" and α > 1" if loss == "entmax" else "")
        + ("; rankmax: η = marginals in C_k, a, b ∈ [0, 1]" if loss == "rankmax" else ""),
        assumptions=[
            "Ω(p) = Σ φ(p_i) on its domain (separable, symmetric)",
            "duality: inf_{θ_i ≤ θ_j} Ω*(θ) − ⟨θ, η⟩ = −min_{μ ≥ 0} Ω(η + μ(e_j − e_i)) (one linear constraint: strong duality)",
            "covering lemma: θ not top-k preserving ⇒ θ_i ≤ θ_j for some i, j with η_i > η_j (counting argument)",
            "a − b > 0" + ("; α > 1" if loss == "entmax" else ""),
        ])
    h = phi(a - mu) + phi(b + mu)
    hp = sp.diff(h, mu)
    mu_star = (a - b) / 2
    stat = is_zero(hp.subs(mu, mu_star))
    d.step("h(μ) = φ(η_i − μ) + φ(η_j + μ); h'(μ) =", hp)
    d.step("h'((η_i − η_j)/2) = 0 (checked):", sp.simplify(hp.subs(mu, mu_star)))
    x = sp.Symbol("x", positive=True)
    phi2 = sp.simplify(sp.diff(phi(x), x, 2))
    d.step("φ''(x) =", phi2)
    if loss == "entmax":
        t = sp.Symbol("t", positive=True)  # α = 1 + t
        pos = sp.simplify(phi2.subs(al, 1 + t)).is_positive
    else:
        pos = phi2.is_positive
    gap = sp.simplify(phi(a) + phi(b) - 2 * phi((a + b) / 2))
    d.step("Gap of the half-space: Ω(η) − Ω(η with η_i, η_j averaged) =", gap)
    if loss in ("sparsemax", "rankmax"):
        d.step("which factors as", sp.factor(gap))
    d.step("φ'' > 0 ⇒ h strictly convex, so μ* is its unique minimizer and the gap is positive by strict Jensen "
           "(a ≠ b); the averaged point stays in the domain (for rankmax in [0, 1]).")
    d.step("Every violating pair has a positive gap; the covering lemma gives inf{R : θ not top-k preserving} ≥ "
           "inf R + min gap > inf R, for every k < n and every η (ties give no violating pair).")
    ok = bool(stat) and pos is True
    return d.decide(ok if (stat is not None and pos is not None) else None)


def _dcg(g, order):
    return sum(sp.Rational(1) * g[i] / sp.log(pos + 2, 2) for pos, i in enumerate(order))


def dcg_consistency(loss: str, label_map: str) -> Derivation:
    n, atoms = 3, 2
    d = Derivation(
        f"{loss}/{label_map}: sorting the Bayes-optimal scores maximizes E_D[DCG] for every D.",
        "generic Ω (∇Ω* = ŷ) for the minimizer; n = 3, 2-atom laws with symbolic probabilities and gains for the "
        "gradient; the L2 counterexample with exact rationals",
        assumptions=["G(r) = 2^r − 1, DCG discount 1/log2(1 + pos)",
                     "ŷ is weakly order preserving and strictly increasing in θ_i on its support (so the minimizer's "
                     "order is the order of q, with ties only where q ties)"])
    th = sp.symbols("theta1:4", real=True)
    p = sp.symbols("p1:3", positive=True)
    Gs = [sp.symbols(f"g{a}_1:4", nonnegative=True) for a in range(1, atoms + 1)]
    conj = sp.Function("Omegastar")(*th)
    yhat = [sp.diff(conj, t) for t in th]
    if label_map == "L1":
        # Σ_a p_a ΣG_a · L(θ; G_a/ΣG_a)  (the Ω(y) terms do not depend on θ)
        R = sum(pa * sum(G) * conj - pa * sum(t * g for t, g in zip(th, G)) for pa, G in zip(p, Gs))
        EG = [sum(pa * G[i] for pa, G in zip(p, Gs)) for i in range(n)]
        Ew = sum(pa * sum(G) for pa, G in zip(p, Gs))
        grad = [sp.expand(sp.diff(R, t)) for t in th]
        expect = [sp.expand(Ew * yh - eg) for yh, eg in zip(yhat, EG)]
        ok = all(is_zero(g - e) for g, e in zip(grad, expect))
        d.step("∇R(θ) = E[ΣG(r)]·ŷ(θ) − E[G(r)] (checked):", sp.Matrix(grad))
        d.step("So ŷ(θ*) = E[G]/E[ΣG] ∝ E[G]; ŷ is monotone, so sorting θ* sorts E[G] (ties in ŷ are ties in E[G]), "
               "and E[DCG(π)] = Σ_pos E[G_{π(pos)}]/log2(1+pos) is maximized by that order (rearrangement inequality).")
        return d.decide(ok)
    if label_map == "multihot":
        d.step("Binary r with |r| = k fixed: the label r is in C_k and G(r) = r, so properness gives ŷ(θ*) = E[r] = E[G(r)]; "
               "sorting θ* sorts E[G] (ties: items with ŷ ∈ {0, 1} tie in E[G] too) → DCG-optimal.")
        gb = [sp.Integer(2) ** sp.Integer(v) - 1 for v in (0, 1)]
        ok = gb == [0, 1]
        d.step("G(0) = 0 and G(1) = 1 (checked):", sp.Matrix(gb))
        return d.decide(ok)
    # L2
    R = sum(pa * conj - pa * sum(t * g for t, g in zip(th, G)) / sum(G) for pa, G in zip(p, Gs))
    grad = [sp.diff(R, t) for t in th]
    expect = [sum(p) * yh - sum(pa * G[i] / sum(G) for pa, G in zip(p, Gs)) for i, yh in enumerate(yhat)]
    ok_grad = all(is_zero(g - e) for g, e in zip(grad, expect))
    d.step("∇R(θ) = ŷ(θ) − E[G(r)/ΣG(r)] (checked, unit weights):", sp.Matrix(grad))
    D = [(sp.Rational(2, 5), (0, 2, 0)), (sp.Rational(3, 5), (0, 0, 1))]
    G = [[sp.Integer(2) ** v - 1 for v in r] for _, r in D]
    EG = [sum(pa * g[i] for (pa, _), g in zip(D, G)) for i in range(n)]
    q = [sum(pa * g[i] / sum(g) for (pa, _), g in zip(D, G)) for i in range(n)]
    d.step("Law D = {2/5: r = (0,2,0), 3/5: r = (0,0,1)}: E[G] =", sp.Matrix(EG))
    d.step("and the Bayes-optimal prediction ŷ = E[G/ΣG] =", sp.Matrix(q))
    sorted_q = sorted(range(n), key=lambda i: -q[i])
    sorted_g = sorted(range(n), key=lambda i: -EG[i])
    loss_dcg = sp.nsimplify(_dcg(EG, sorted_g) - _dcg(EG, sorted_q))
    d.step("E[DCG] of the E[G]-order minus E[DCG] of the ŷ-order (items 1-based):", loss_dcg)
    positive = sp.simplify(loss_dcg).is_positive
    # the Bayes-optimal scores ∇Ω(q) for the counterexample (item 1 has q = 0)
    if loss == "softmax":
        theta = [sp.log(v) if v > 0 else -sp.oo for v in q]
    elif loss == "entmax":
        al = sp.Rational(3, 2)
        theta = [v ** (al - 1) / (al - 1) for v in q]
    else:
        theta = list(q)
    d.step("Bayes-optimal scores (∇Ω(q); softmax: θ_1 → −∞, not attained" + (", α = 3/2" if loss == "entmax" else "")
           + "):", sp.Matrix(theta))
    d.step("q_2 < q_3 but E[G]_2 > E[G]_3, and q has no ties among items 2, 3, so EVERY minimizer ranks item 3 "
           "above item 2: DCG-suboptimal.")
    if ok_grad is not True or positive is None:
        return d.decide(None)
    if not positive:
        d.step("(the exhibited law does not separate the orders: nothing decided)")
        return d.decide(None)
    d.counterexample = {"D": [{"p": float(pa), "r": list(r)} for pa, r in D],
                        "theta": [float(t) for t in theta], **({"alpha": 1.5} if loss == "entmax" else {})}
    return d.decide(False)
