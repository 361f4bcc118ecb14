"""CON-1 and CON-2, symbolic parts (sympy).  Every derivation takes the loss under test and
reads its regularizer Ω from the FY derivations (:func:`proofs.kkt.omega`), and its
premises -- ∇Ω* = ŷ (FY-1) and L ≥ 0 with L = 0 ⟺ y = ŷ(θ), convexity (FY-2) -- from
:func:`proofs.fy.api.conjugate` and :func:`proofs.fy.api.loss_properties`, whose decisions must
hold and whose scope gaps carry over (``Derivation.gap``).

* :func:`properness` -- per coordinate and symbolic in the number m of atoms of the label
  law: ∂/∂θ_i Σ_a c_a L(θ; y_a) = (Σ c)(ŷ_i(θ) − q_i), q = Σ c y / Σ c, for any Ω*; with
  FY-2 the risk minimizers are exactly {θ : ŷ(θ) = q} and inf R = −(Σ c)Ω(q) + const.
* :func:`order_premise` -- ŷ is weakly order preserving: Ω separable with one generator φ
  (checked on Ω itself) makes Ω, and so Ω*, permutation symmetric; ∇Ω* = ŷ (FY-1) is
  monotone (Ω* convex, FY-2), and against the swapped point P_ij θ the monotonicity reads
  2(ŷ_i − ŷ_j)(θ_i − θ_j) ≥ 0 (sympy identity); θ_i = θ_j gives ŷ_i = ŷ_j.  Hence
  ŷ_i > ŷ_j ⇒ θ_i > θ_j, for every n.
* :func:`topk_calibration` -- the half-space gap φ(a) + φ(b) − 2φ((a+b)/2) (η_i = a > η_j = b
  ≥ 0), from the dual identity and the stationarity of μ* = (a−b)/2, is > 0 because φ'' > 0
  (strict Jensen; φ continuous at 0 covers b = 0); with the covering lemma this is top-k
  calibration for every k < n.
* :func:`dcg_consistency` -- L1 and multihot: properness gives ŷ(θ*) = q with E[G] an
  increasing affine function of q (the link between the label gains and the metric's gains
  G(r) = 2^r − 1 is checked, symbolic in the grade r); the order premise makes every sorting
  of every minimizer sort E[G], optimal by the rearrangement inequality (discounts strictly
  decreasing, checked).  L2: ŷ = E[G/ΣG] and an exact law where the orders flip → fails,
  with that counterexample.

A premise that does not hold (or a link that is not increasing affine) leaves the claim
undecided: the argument does not apply, which is not a counterexample.

What the derivations read, each looked up at call time (so a bug there -- or a planted
defect, reports/con/planted.py -- enters the derivation the way it would): Ω from
``kkt_omega`` (:func:`proofs.kkt.omega`), the target mean from :func:`weighted_mean`, and
the label maps from :data:`LABEL_MAPS` (weight, label, label gain of each map).  The CON-2
derivation is driven by the map's definition, not its name: a map whose target q is
proportional to E[ℓ] (L1: weights Σℓ(r); multihot: unnormalized labels) goes through the
gain link, any other (L2) through the exhibited law.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import sympy as sp

from audit.members import member

from ..derivation import Derivation, is_zero
from ..kkt import ALPHA, LOSSES, omega as kkt_omega

_T = sp.Symbol("t", positive=True)  # α = 1 + t, t > 0
_EDCG = r"$\mathbb{E}_D[\mathrm{DCG}]$"


def _check(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    return loss


def _alpha_gt_1(expr: sp.Expr) -> sp.Expr:
    return sp.simplify(sp.sympify(expr).subs(ALPHA, 1 + _T))


def _all(results) -> bool | None:
    results = list(results)
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


# --------------------------------------------------------------------------------------
# premises from this loss's FY derivations
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def fy_premises(loss: str) -> tuple[tuple[str, str, str, str], ...]:
    """(claim, decision, scope, gap) of FY-1 (kkt-conjugate: ∇Ω* = ŷ) and FY-2 (L ≥ 0,
    L = 0 ⟺ y = ŷ, convexity, ∇L = ŷ − y) for ``loss``.  Kept across planted runs: it reads
    only sympy derivations, which no planted defect patches."""
    from ..fy.api import conjugate, loss_properties

    c, p = conjugate(_check(loss)), loss_properties(loss)
    return (("FY-1", c.decision, c.scope, c.gap), ("FY-2", p.decision, p.scope, p.gap))


fy_premises.keep_across_planted = True  # type: ignore[attr-defined]


def _premises(d: Derivation, loss: str) -> bool | None:
    """Record FY-1 / FY-2 as premises of ``d`` (decisions, scopes; gaps carry over)."""
    out = []
    gaps = []
    for claim, decision, scope, gap in fy_premises(loss):
        what = (r"$\nabla\Omega^* = \hat y$, the map derived from the KKT conditions" if claim == "FY-1" else
                r"$L(\theta; y) \ge 0$ with equality iff $y = \hat y(\theta)$, $L$ convex in $\theta$, "
                r"$\nabla_\theta L = \hat y - y$")
        d.step(f"Premise {claim}[{loss}] ({what}): {decision} [scope: {scope}]"
               + (f" [gap: {gap}]" if gap else ""))
        d.assumptions.append(f"{claim}[{loss}] holds (proofs.fy.api, derived, not assumed): {what}")
        out.append(True if decision == "holds" else (False if decision == "fails" else None))
        if gap:
            gaps.append(f"premise {claim}[{loss}]: {gap}")
    if gaps:
        d.gap = "; ".join(filter(None, [d.gap, *gaps]))
    return _all(out)


def separable(loss: str, n: int = 4) -> tuple[bool | None, sp.Expr]:
    """(Ω(p) = Σ_i φ(p_i) + Ω(0) with one generator φ(x) = Ω(x, 0, …) − Ω(0), checked with
    symbolic p ∈ R^n_{>0}; φ), Ω = ``kkt_omega(loss, ·)``.  One generator for every
    coordinate makes Ω permutation symmetric for every n."""
    def om(p):
        return kkt_omega(loss, p)
    p = sp.symbols(f"p_1:{n + 1}", positive=True)
    x = sp.Symbol("x", positive=True)
    zero = sp.sympify(om([sp.S.Zero] * n))
    phi = sp.simplify(om([x] + [sp.S.Zero] * (n - 1)) - zero)
    res = sp.expand(sp.sympify(om(list(p))) - zero - sum(phi.subs(x, v) for v in p))
    return (True if res == 0 else is_zero(res)), phi


# --------------------------------------------------------------------------------------
# properness and the order premise
# --------------------------------------------------------------------------------------
_A, _M = sp.symbols("a m", integer=True, positive=True)
_C, _Y = sp.IndexedBase("c", positive=True), sp.IndexedBase("y")


def _linear_sums(expr: sp.Expr) -> sp.Expr:
    """Sums over the atoms split into sums of monomials, factors free of the index pulled out."""
    def split(s: sp.Sum) -> sp.Expr:
        out = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(s.function)):
            coeff, dep = term.as_independent(_A, as_Add=False)
            out += coeff * sp.Sum(dep, *s.limits)
        return out

    return sp.expand(sp.expand(expr).replace(lambda e: isinstance(e, sp.Sum), split))


def atom_symbols() -> tuple[sp.Symbol, sp.Symbol, sp.IndexedBase, sp.IndexedBase]:
    """(a, m, c, y): the atom index, the number of atoms, the weights c_a and the i-th label
    coordinates y_a of :func:`properness` (to state a target in them)."""
    return _A, _M, _C, _Y


def weighted_mean() -> sp.Expr:
    """q_i = Σ_a c_a y_{a,i} / Σ_a c_a (m atoms, symbolic)."""
    return sp.Sum(_C[_A] * _Y[_A], (_A, 1, _M)) / sp.Sum(_C[_A], (_A, 1, _M))


def _risk_gradient(d: Derivation, target: sp.Expr) -> bool | None:
    """∂R/∂θ_i − (Σ c)(ŷ_i − q_i) for R = Σ_a c_a (Ω*(θ) + Ω(y_a) − ⟨θ, y_a⟩), per coordinate:
    ⟨θ, y_a⟩ = θ_i y_{a,i} + (terms free of θ_i), Ω* a function of θ_i (other coordinates fixed)."""
    t = sp.Symbol("theta_i", real=True)
    rest, om = sp.IndexedBase("rho"), sp.IndexedBase("Omega_y")
    conj = sp.Function("Omega^*")(t)  # sympy prints this name as \Omega^{*} (never an internal name in print)
    R = sp.Sum(_C[_A] * (conj + om[_A] - t * _Y[_A] - rest[_A]), (_A, 1, _M))
    grad = sp.diff(R, t)
    expect = sp.Sum(_C[_A], (_A, 1, _M)) * (sp.diff(conj, t) - target)
    diff = _linear_sums(grad - expect)
    d.step(r"$\partial R/\partial\theta_i$ for $R(\theta) = \sum_{a=1}^{m} c_a L(\theta; y_a)$, per coordinate "
           r"(symbolic $m$):", grad)
    d.step(r"minus $(\sum_a c_a)(\hat y_i(\theta) - q_i)$, $\hat y_i = \partial\Omega^*/\partial\theta_i$, $q_i =$",
           target)
    d.step("simplifies to", diff)
    return True if diff == 0 else None


def properness(loss: str) -> Derivation:
    """For this FY loss and any weighted label law (weights c_a ≥ 0, labels y_a ∈ dom Ω),
    the risk minimizers are exactly the θ with ŷ(θ) = q, q = Σ c y / Σ c (the claimed q_i
    is :func:`weighted_mean`)."""
    d = Derivation(
        loss + r": for any label law (weights $c_a \ge 0$, labels $y_a \in \operatorname{dom}\Omega$), "
        r"$\nabla R(\theta) = (\sum c)(\hat y(\theta) - q)$, $q = \sum c y/\sum c \in \operatorname{dom}\Omega$; "
        r"$R(\theta) = (\sum c) L(\theta; q) + \mathrm{const}$, so the conditional-risk minimizers are exactly the "
        r"$\theta$ with $\hat y(\theta) = q$ (where one exists) and "
        r"$\inf R = -(\sum c)\Omega(q) + \mathrm{const}$.",
        r"symbolic in $n$ (per coordinate) and in the number $m$ of atoms; premises FY-1, FY-2 of this loss",
        assumptions=[r"$L(\theta; y) = \Omega^*(\theta) + \Omega(y) - \langle \theta, y\rangle$ (Blondel et al. 2020)",
                     r"$\sum_a c_a > 0$", r"$\operatorname{dom}\Omega$ convex, so $q \in \operatorname{dom}\Omega$"],
        summary=loss + r": for any label law the risk minimizers are exactly the $\theta$ with $\hat y(\theta) = q$, "
        r"$q = \sum c y/\sum c$")
    ident = _risk_gradient(d, weighted_mean())
    prem = _premises(d, loss)
    d.step(r"With $\nabla\Omega^* = \hat y$ (FY-1) the gradient vanishes exactly where $\hat y(\theta) = q$; "
           r"$R = (\sum c) L(\theta; q) + \mathrm{const}$ and $L(\theta; q) \ge 0$ with equality iff "
           r"$\hat y(\theta) = q$ (FY-2): these are the minimizers, $\inf R = \mathrm{const} - (\sum c)\Omega(q)$.")
    ok = _all([ident, prem])
    return d.decide(True if ok else None)


def order_premise(d: Derivation, loss: str) -> bool | None:
    """Add to ``d`` the derivation that ŷ = ∇Ω* is weakly order preserving (module docstring)."""
    sep, phi = separable(loss)
    d.step(r"$\Omega$ from the FY derivations is separable with one generator, "
           r"$\varphi(x) = \Omega(x, 0, \dots) - \Omega(0) =$", phi)
    d.step(r"$\Omega(p) - \sum_i \varphi(p_i) - \Omega(0) = 0$ for symbolic $p$ ($n = 4$): "
           + ("checked" if sep else "NOT established")
           + r"; one generator for every coordinate makes $\Omega$, its domain ($\Delta$, $C_k$) and so $\Omega^*$ "
           r"permutation symmetric, for every $n$: $\Omega^*(P\theta) = \Omega^*(\theta)$, "
           r"$\hat y(P\theta) = P\hat y(\theta)$")
    yi, yj, ti, tj = sp.symbols("yhat_i yhat_j theta_i theta_j", real=True)
    # ⟨ŷ(θ) − ŷ(θ'), θ − θ'⟩ with θ' = P_ij θ, ŷ(θ') = P_ij ŷ(θ): only coordinates i, j differ
    mono = (yi - yj) * (ti - tj) + (yj - yi) * (tj - ti)
    swap = sp.expand(mono - 2 * (yi - yj) * (ti - tj)) == 0
    d.step(r"$\Omega^*$ convex (FY-2) $\Rightarrow$ $\nabla\Omega^* = \hat y$ (FY-1) monotone; against "
           r"$\theta' = P_{ij}\theta$ the monotonicity "
           r"$\langle \hat y(\theta) - \hat y(\theta'), \theta - \theta'\rangle \ge 0$ is", sp.factor(mono))
    d.step(r"so $(\hat y_i - \hat y_j)(\theta_i - \theta_j) \ge 0$, and $\theta_i = \theta_j$ gives "
           r"$P_{ij}\theta = \theta$, $\hat y_i = \hat y_j$: hence $\hat y_i > \hat y_j \Rightarrow "
           r"\theta_i > \theta_j$ (weak order preservation), for every $n$.")
    return _all([sep, swap])


# --------------------------------------------------------------------------------------
# CON-1
# --------------------------------------------------------------------------------------
def topk_calibration(loss: str) -> Derivation:
    """CON-1 by strict Jensen on the half-spaces of the covering lemma (Ω: this loss's,
    from the FY derivations, ``kkt_omega``)."""
    L = member(_check(loss))
    d = Derivation(
        loss + r": every half-space $\theta_i \le \theta_j$ with $\eta_i > \eta_j$ has conditional-risk infimum "
        r"strictly above $\inf R$, so " + loss + r" is top-$k$ calibrated for every $k < n$ (properness + strictly "
        r"convex separable $\Omega$).",
        r"symbolic in $a = \eta_i > b = \eta_j \ge 0$ ($b = 0$ by continuity of $\varphi$ at 0)"
        + (r" and $\alpha > 1$" if L.tsallis else "")
        + (r"; rankmax: $\eta$ = marginals in $C_k$, $a, b \in [0, 1]$" if L.capped else "")
        + r"; every $n$ and $k < n$ through the covering lemma",
        assumptions=[
            r"$\Omega(p) = \sum_i \varphi(p_i) + \mathrm{const}$ on its domain (checked below on the FY derivations' "
            r"$\Omega$)",
            r"duality: $\inf_{\theta_i \le \theta_j} \Omega^*(\theta) - \langle \theta, \eta\rangle = "
            r"-\min_{\mu \ge 0} \Omega(\eta + \mu(e_j - e_i))$ (one linear constraint: strong duality); "
            r"$\inf R = -\Omega(\eta)$ (properness, the row's properness check)",
            r"$a - b > 0$" + (r"; $\alpha > 1$" if L.tsallis else ""),
        ],
        summary=loss + r": each half-space $\theta_i \le \theta_j$, $\eta_i > \eta_j$, stays above $\inf R$: "
        r"top-$k$ calibrated for every $k < n$")
    sep, phi_x = separable(loss)
    x = sp.Symbol("x", positive=True)
    phi = sp.Lambda(x, phi_x)
    d.step(r"Generator of $\Omega$ (from the FY derivations): $\varphi(x) =$", phi_x)
    d.step(r"$\Omega(p) - \sum_i \varphi(p_i)$ is constant (symbolic $p$, $n = 4$): "
           + ("checked" if sep else "NOT established"))
    a, b, mu = sp.symbols("a b mu", positive=True)
    h = phi(a - mu) + phi(b + mu)
    hp = sp.diff(h, mu)
    stat = is_zero(hp.subs(mu, (a - b) / 2))
    d.step(r"$h(\mu) = \varphi(\eta_i - \mu) + \varphi(\eta_j + \mu)$; $h'(\mu) =$", hp)
    d.step(r"$h'((\eta_i - \eta_j)/2) = 0$ (checked):", sp.simplify(hp.subs(mu, (a - b) / 2)))
    phi2 = sp.simplify(sp.diff(phi_x, x, 2))
    d.step(r"$\varphi''(x) =$", phi2)
    # α symbolic: signs and limits are decided at α = 1 + t, t > 0
    pos = _alpha_gt_1(phi2).is_positive if L.tsallis else phi2.is_positive
    at0 = _alpha_gt_1(sp.limit(phi_x, x, 0, "+")) if L.tsallis else sp.limit(phi_x, x, 0, "+")
    d.step(r"$\varphi(0^+) =$", at0)
    cont = bool(at0.is_finite)
    gap = sp.simplify(phi(a) + phi(b) - 2 * phi((a + b) / 2))
    d.step(r"Gap of the half-space, $\Omega(\eta) - \Omega(\bar\eta)$ with $\eta_i, \eta_j$ replaced by their "
           r"average in $\bar\eta$:", gap)
    d.step(r"$\varphi'' > 0$ on $(0, \infty)$ and $\varphi$ continuous at 0 $\Rightarrow$ $\varphi$ strictly convex "
           r"on $[0, \infty)$: $h$ is strictly convex, $\mu^*$ its unique minimizer, and the gap is positive by strict "
           r"Jensen ($a \ne b$, $b = 0$ included); the averaged point stays in the domain (for rankmax in $[0, 1]$).")
    d.step(r"Covering lemma (counting): if $\eta_i > \eta_{[k+1]}$ and $\theta_i \le \theta_{[k+1]}$, the $k + 1$ "
           r"largest $\theta$ other than or including $i$ all lie at or above $\theta_i$, while at most $k - 1$ items "
           r"other than $i$ have $\eta \ge \eta_i$; so some $j$ with $\eta_j < \eta_i$ has $\theta_j \ge \theta_i$, "
           r"i.e. $\theta$ lies in the half-space of $(i, j) \in P_k$.  The clause $\eta_i < \eta_{[k]}$ is "
           r"symmetric.  Hence $\inf\{R : \theta \text{ not top-}k\text{ preserving}\} \ge \inf R + "
           r"\min \mathrm{gap} > \inf R$, for every $k < n$ and every $\eta$ (exact ties give no violating pair).")
    ok = _all([sep, stat, pos, cont])
    return d.decide(True if ok else None)


# --------------------------------------------------------------------------------------
# CON-2
# --------------------------------------------------------------------------------------
def dcg_gain(r):
    """The DCG gain G(r) = 2^r − 1 (also the label gain of L1 and L2)."""
    return 2 ** r - 1


def relevance(r):
    """The multi-hot label gain ℓ(r) = r (binary relevance)."""
    return r


@dataclass(frozen=True)
class LabelMap:
    """How a relevance vector r becomes a weighted label (c_a, y_a) in the derivation:
    label gain ℓ, weight Σℓ(r) (``weighted``) or 1, label ℓ(r)/Σℓ(r) (``normalized``) or
    ℓ(r); ``binary``: r ∈ {0, 1}^n with a fixed number k of ones (the label lies in C_k)."""

    weighted: bool
    normalized: bool
    gain: Callable
    binary: bool = False


#: the label maps of CLAIMS.md §2, looked up by name at call time
LABEL_MAPS = {
    "L1": LabelMap(weighted=True, normalized=True, gain=dcg_gain),
    "L2": LabelMap(weighted=False, normalized=True, gain=dcg_gain),
    "multihot": LabelMap(weighted=False, normalized=False, gain=relevance, binary=True),
}


def _dcg(g, order):
    return sum(sp.Rational(1) * g[i] / sp.log(pos + 2, 2) for pos, i in enumerate(order))


def _gain_link(d: Derivation, label_gain: Callable, binary: bool) -> bool | None:
    """E[G] increasing affine in E[ℓ]: G(r) = A + B·ℓ(r), B > 0, on the grades (symbolic r ≥ 0;
    binary: r ∈ {0, 1})."""
    r = sp.Symbol("r", integer=True, nonnegative=True)
    l0, l1 = sp.sympify(label_gain(sp.S.Zero)), sp.sympify(label_gain(sp.S.One))
    if l1 == l0:
        d.step(r"The label gain is constant on $\{0, 1\}$: the labels carry no relevance.")
        return None
    B = sp.nsimplify((dcg_gain(1) - dcg_gain(0)) / (l1 - l0))
    A = sp.nsimplify(dcg_gain(0) - B * l0)
    d.step(r"Metric gain $G(r) = 2^r - 1$ against the label gain $\ell(r) =$", sp.sympify(label_gain(r)))
    d.step(rf"$G = A + B\,\ell$ on $r \in \{{0, 1\}}$: $A = {sp.latex(A)}$, $B = {sp.latex(B)}$; $B > 0$: "
           f"{bool(B > 0)}")
    if binary:
        inside = all(0 <= v <= 1 for v in (l0, l1))
        d.step(r"Labels $\ell(r) \in [0, 1]$ for $r \in \{0, 1\}$ (a fixed number of them, so the label lies in "
               rf"$C_k = \operatorname{{dom}}\Omega$): {inside}")
        return True if (B > 0 and inside) else None
    res = sp.simplify(dcg_gain(r) - A - B * sp.sympify(label_gain(r)))
    d.step(r"residual $G(r) - A - B\,\ell(r)$ for every grade $r \ge 0$ (symbolic):", res)
    return True if (res == 0 and B > 0) else None


def _map_atoms(lm: LabelMap, weight: sp.Expr, total: sp.Expr, ell: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(c_a, y_a) of one atom with probability ``weight``, label gains ``ell`` summing to ``total``."""
    return weight * (total if lm.weighted else 1), (ell / total if lm.normalized else ell)


def _target_block(d: Derivation, label_map: str, lm: LabelMap) -> bool:
    """The label law's target q = Σ c y/Σ c under the map, and whether (Σ c)·q_i = E[ℓ_i]
    identically (symbolic in the atoms): q proportional to E[ℓ], with a factor free of i."""
    p, w, ell = sp.IndexedBase("p", positive=True), sp.IndexedBase("W", positive=True), sp.IndexedBase("ell")
    c, y = _map_atoms(lm, p[_A], w[_A], ell[_A])
    q = sp.Sum(c * y, (_A, 1, _M)) / sp.Sum(c, (_A, 1, _M))
    prop = _linear_sums(sp.Sum(c * y, (_A, 1, _M)) - sp.Sum(p[_A] * ell[_A], (_A, 1, _M))) == 0
    d.step(f"Label map {label_map}: weights $c_a$ and labels $y_a$ ($W_a = \\sum_j \\ell_j(r_a)$) give the target "
           r"$q_i = \sum_a c_a y_{a,i}/\sum_a c_a$ =", sp.simplify(q))
    d.step(r"$(\sum_a c_a)\, q_i - \mathbb{E}[\ell_i]$ vanishes identically, so $q \propto \mathbb{E}[\ell]$: "
           + ("checked" if prop else r"NO ($q$ is not proportional to $\mathbb{E}[\ell]$)"))
    return prop


def dcg_consistency(loss: str, label_map: str) -> Derivation:
    """CON-2 for one loss and label map (the map's weight, label and label gain ℓ from
    :data:`LABEL_MAPS`; Ω from the FY derivations)."""
    _check(loss)
    if label_map not in ("L1", "L2", "multihot"):
        raise ValueError(f"label_map must be L1, L2 or multihot, got {label_map!r}")
    lm = LABEL_MAPS[label_map]
    d = Derivation(
        f"{loss}/{label_map}: sorting the Bayes-optimal scores (every minimizer, ties broken every way) maximizes "
        + _EDCG + " for every $D$.",
        r"symbolic in $n$ (per coordinate) and in the number of atoms of $D$"
        + (r"; binary $r$ with $|r| = k$" if lm.binary else r"; every grade $r \ge 0$") + "; the L2 counterexample in "
        "exact rationals; premises FY-1, FY-2 of this loss",
        assumptions=[r"$G(r) = 2^r - 1$, DCG discount $1/\log_2(1 + \mathrm{pos})$"],
        summary=f"{loss}/{label_map}: sorting any Bayes-optimal scores (any tie-break) maximizes " + _EDCG
        + " for every $D$")
    ok_prop = _risk_gradient(d, weighted_mean())
    proportional = _target_block(d, label_map, lm)
    prem = _premises(d, loss)
    ok_wop = order_premise(d, loss)
    u = sp.Symbol("u", positive=True)
    ddisc = sp.simplify(sp.diff(1 / sp.log(1 + u, 2), u))
    dec = ddisc.is_negative
    d.step(r"The discount $1/\log_2(1 + u)$ strictly decreases: $d/du =$", ddisc)
    premises = _all([ok_prop, prem, ok_wop, dec])
    if proportional:
        link = _gain_link(d, lm.gain, lm.binary)
        d.step(r"So $\hat y(\theta^*) = q$ with $\mathbb{E}[G]_i = A + B c\, q_i$ ($c = \sum_a c_a > 0$; $B > 0$): "
               r"$q_i > q_j \Leftrightarrow \mathbb{E}[G]_i > \mathbb{E}[G]_j$.  By the "
               r"order premise every minimizer has $\theta^*_i > \theta^*_j$ whenever $q_i > q_j$, so every sorting of "
               r"$\theta^*$ (any tie-break) sorts $\mathbb{E}[G]$ non-increasingly, and $\mathbb{E}[\mathrm{DCG}(\pi)] "
               r"= \sum_{\mathrm{pos}} \mathbb{E}[G_{\pi(\mathrm{pos})}]/\log_2(1 + \mathrm{pos})$ is maximized by "
               r"exactly those orders (rearrangement, discounts strictly decreasing).")
        if member(loss).dense:  # full support: a zero of q is approached, never attained
            d.step(r"Softmax with $\mathbb{E}[G]_j = 0$ ($q_j = 0$): the minimizer is not attained; along a minimizing "
                   r"sequence $\theta_j \to -\infty$ below every item with $q > 0$, and items with $q_j = 0$ tie in "
                   r"$\mathbb{E}[G] = A$ as well.")
        return d.decide(True if _all([premises, link]) else None)
    return _counterexample(d, loss, lm, premises)


def _counterexample(d: Derivation, loss: str, lm: LabelMap, premises: bool | None) -> Derivation:
    """A map whose target is not proportional to E[ℓ] (L2): the exhibited law, in exact rationals."""
    n = 3
    D = [(sp.Rational(2, 5), (0, 2, 0)), (sp.Rational(3, 5), (0, 0, 1))]
    EG = [sum(pa * dcg_gain(sp.Integer(r[i])) for pa, r in D) for i in range(n)]
    cy = []
    for pa, r in D:
        ell = [sp.sympify(lm.gain(sp.Integer(v))) for v in r]
        cy.append(_map_atoms(lm, pa, sum(ell), sp.Matrix(ell)))
    q = list(sum((c * y for c, y in cy), sp.zeros(n, 1)) / sum(c for c, _ in cy))
    d.step(r"Law $D = \{2/5: r = (0,2,0),\ 3/5: r = (0,0,1)\}$: $\mathbb{E}[G] =$", sp.Matrix(EG))
    d.step(r"and the Bayes-optimal prediction $\hat y = q = \sum_a c_a y_a/\sum_a c_a =$", sp.Matrix(q))
    order_q = sorted(range(n), key=lambda i: -q[i])
    order_g = sorted(range(n), key=lambda i: -EG[i])
    loss_dcg = sp.nsimplify(_dcg(EG, order_g) - _dcg(EG, order_q))
    d.step(r"$\mathbb{E}[\mathrm{DCG}]$ of the $\mathbb{E}[G]$-order minus $\mathbb{E}[\mathrm{DCG}]$ of the "
           r"$\hat y$-order (items 1-based):", loss_dcg)
    positive = sp.simplify(loss_dcg).is_positive
    L = member(loss)
    # ∇Ω(q) = g′(q) up to a shift: log q is that of the dense member's g = p log p
    if L.dense:
        theta = [sp.log(v) if v > 0 else -sp.oo for v in q]
    elif L.tsallis:
        al = sp.Rational(3, 2)
        theta = [v ** (al - 1) / (al - 1) for v in q]
    else:
        theta = list(q)
    d.step(r"Bayes-optimal scores ($\nabla\Omega(q)$; softmax: $\theta_1 \to -\infty$, not attained"
           + (r", $\alpha = 3/2$" if L.tsallis else "") + "):", sp.Matrix(theta))
    flip = q[1] < q[2] and EG[1] > EG[2]
    d.step(r"$q_2 < q_3$ but $\mathbb{E}[G]_2 > \mathbb{E}[G]_3$; by the order premise "
           r"($\hat y_i < \hat y_j \Rightarrow \theta_i < \theta_j$) EVERY minimizer ranks item 3 strictly above "
           r"item 2: DCG-suboptimal (items counted from 1; the stored pair counts from 0: $(1, 2)$).")
    if premises is not True or positive is None or not flip:
        d.step("(a premise or the exhibited law does not hold: nothing decided)")
        return d.decide(None)
    if not positive:
        return d.decide(None)
    d.counterexample = {"D": [{"p": float(pa), "r": list(r)} for pa, r in D],
                        "theta": [float(t) for t in theta], "pair": [1, 2], "regret": float(loss_dcg),
                        **({"alpha": 1.5} if L.tsallis else {})}
    # items counted from 1 in print, as in the steps; the stored pair counts from 0 (Python indices)
    d.summary = (r"$D = \{2/5: (0,2,0),\ 3/5: (0,0,1)\}$: every minimizer ranks item 3 over 2 (from 1), "
                 rf"losing {float(loss_dcg):.4g} of $\mathbb{{E}}[\mathrm{{DCG}}]$")
    return d.decide(False)


__all__ = ["properness", "order_premise", "separable", "fy_premises", "topk_calibration", "dcg_consistency",
           "weighted_mean", "atom_symbols", "LabelMap", "LABEL_MAPS", "dcg_gain", "relevance"]
