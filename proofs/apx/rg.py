"""APX-5 in sympy: RG² and RG× (second-order Taylor expansions of logsumexp).

Both losses belong to one family, written by its coefficients (lin, quad, inter):

    L(θ; y) = −θ_y + log n + lin·θ̄ + quad·(1/2n) Σ_j θ_j² − inter·½ θ̄²,

RG² = (1, 1, 0) (the interaction term dropped), RG× = (1, 1, 1) (losses/approx.py).  Every
derivation reads the kind's coefficients from :data:`RG_COEFFS` at call time (and the
squared form of RG² from :func:`squared_target` / :func:`squared_constant`), so a planted
defect or truth enters by patching that table or form, as a typo would.

* :func:`rg_scale` -- bias² near θ = 0 along θ = s θ0 (series in s);
* :func:`rg_spread` -- bias at zero spread θ = c 1 with the mean c free, symbolic in n;
* :func:`rg2_weighted_squared` -- RG² as a weighted squared loss.
"""
from __future__ import annotations

import sympy as sp

from audit import SuiteDefect

from .common import CANONICAL_THETA0, and3, full_grad
from ..derivation import Derivation, is_zero

RG_COEFFS = {"rg2": (1, 1, 0), "rgx": (1, 1, 1)}
_NAME = {"rg2": "RG$^2$", "rgx": r"RG$\times$"}


def _coeffs(kind: str, coeffs=None) -> tuple:
    """The kind's (lin, quad, inter) from :data:`RG_COEFFS` (read at call time), or ``coeffs``."""
    if kind not in RG_COEFFS:
        raise ValueError(f"kind must be 'rg2' or 'rgx', got {kind!r}")
    return tuple(sp.nsimplify(c) for c in (RG_COEFFS[kind] if coeffs is None else coeffs))


def rg_loss_expr(theta, y: int, kind: str, coeffs=None) -> sp.Expr:
    """The RG loss of the family above at the sympy scores ``theta``."""
    lin, quad, inter = _coeffs(kind, coeffs)
    n = len(theta)
    mean = sp.Add(*theta) / n
    return -theta[y] + sp.log(n) + lin * mean + quad * sp.Add(*[t ** 2 for t in theta]) / (2 * n) - inter * mean ** 2 / 2


def rg_grad_expr(theta, y: int, kind: str, coeffs=None):
    """∇ of the RG loss by sympy diff in free symbols, then evaluated at ``theta``."""
    free = sp.symbols(f"vartheta_0:{len(theta)}", real=True)
    loss = rg_loss_expr(free, y, kind, coeffs)
    sub = dict(zip(free, theta))
    return [sp.expand(sp.diff(loss, t).subs(sub)) for t in free]


def rg_scale(kind: str) -> tuple[Derivation, int, float]:
    """bias²(s) of RG at θ = s θ0 near s = 0: it vanishes at s = 0 and grows with s (leading
    power and coefficient) (APX-5)."""
    co = _coeffs(kind)
    s = sp.Symbol("s", positive=True)
    y = 0
    th = [s * v for v in CANONICAL_THETA0]
    n = len(th)
    name = _NAME[kind]
    d = Derivation(
        statement=name + r": bias$^2 \to 0$ as the scores shrink to 0 ($\theta = s\,\theta_0$, $s \to 0$), growing "
                         "with $s$ near 0",
        scope=r"$n = 6$, $y = 0$, $\theta_0 = (2, 1, 0, -1, -2, 1/2)$ exact (the reading), symbolic $s > 0$ (series "
              "at $s = 0$)",
        assumptions=[r"$\tilde g$ from the RG loss by sympy diff, coefficients "
                     r"$(\mathrm{lin}, \mathrm{quad}, \mathrm{inter})$ = " + str(co)],
    )
    gt = rg_grad_expr(th, y, kind, co)
    # softmax(s θ0) to O(s^5) by power-series arithmetic: exp(s θ0_j) = T_5(s θ0_j) + O(s^6),
    # 1/D = (1/n) Σ_i (−(D − n)/n)^i with D − n = O(s)
    order = 5

    def trunc(e):
        return sp.Add(*[c_ * s ** k_ for (k_,), c_ in sp.Poly(sp.expand(e), s).terms() if k_ <= order])

    ex = [sp.Add(*[(s * v) ** i / sp.factorial(i) for i in range(order + 1)]) for v in CANONICAL_THETA0]
    D1 = sp.expand(sp.Add(*ex) - n)
    inv, powk = sp.Integer(0), sp.Integer(1)
    for _ in range(order + 1):
        inv = trunc(inv + powk / n)
        powk = trunc(-powk * D1 / n)
    soft = [trunc(e_ * inv) for e_ in ex]
    ser = [trunc(a - (p_ - (1 if j == y else 0))) for j, (a, p_) in enumerate(zip(gt, soft))]
    d.step("Bias entries $\\tilde g - g$ to $O(s^6)$ (power-series arithmetic):", sp.Matrix(ser))
    check = sp.expand(sp.series(gt[y] - full_grad(th, y)[y], s, 0, order + 1).removeO() - ser[y])
    d.step("Cross-check of the label entry against sympy.series: difference =", check)
    if check != 0:
        raise SuiteDefect(f"APX-5 {kind}: the power-series bias and sympy.series disagree: {check}")
    b2 = trunc(sp.Add(*[e ** 2 for e in ser]))
    terms = sorted((m[0], c_) for m, c_ in sp.Poly(b2, s).terms() if c_ != 0)
    if not terms:
        d.step("bias$^2$ has no term up to $s^5$")
        return d.decide(None), 0, 0.0
    power, coeff = terms[0]
    d.step("bias$^2(s)$ =", sp.Add(*[c_ * s ** k_ for k_, c_ in terms[:3]]) + sp.Order(s ** (order + 1), (s, 0)))
    # continuity at s = 0: the softmax denominator there is Σ exp(0) = n ≠ 0
    den0 = sp.Add(*[sp.exp(t) for t in th]).subs(s, 0)
    lim = sp.simplify(sp.Add(*[(a - b) ** 2 for a, b in zip(gt, full_grad(th, y))]).subs(s, 0))
    d.step(f"bias$^2$ is continuous at $s = 0$ (softmax denominator at $s = 0$: ${den0} \\ne 0$), so "
           "$\\lim_{s\\to 0} \\mathrm{bias}^2 = \\mathrm{bias}^2(0)$ =", lim)
    if kind == "rg2":
        d.step("RG$^2$ bias is $s\\bar\\theta_0/n \\cdot \\mathbf{1} + O(s^2)$ (first order: $(1 + s\\theta_0)/n$ vs "
               "$(1 + s(\\theta_0 - \\bar\\theta_0))/n$), so the power is 2 when $\\bar\\theta_0 \\ne 0$.")
    else:
        d.step("RG$\\times$ matches the softmax to first order (it is its second-order Taylor expansion), so the "
               "bias is $O(s^2)$ and bias$^2$ is $O(s^4)$.")
    d.step("The RG estimator is a function of $\\theta$ alone: its law is a point mass, variance 0.")
    vanishes, grows = is_zero(lim), bool(power > 0) and bool(coeff > 0)
    ok = and3(den0 != 0, vanishes, grows)
    if ok is False:
        d.counterexample = {"shape": "rg-scale", "kind": kind, "coeffs": [float(c) for c in co],
                            "theta0": [float(v) for v in CANONICAL_THETA0], "y": y, "bias2_at_0": float(lim),
                            "power": int(power), "coefficient": float(coeff)}
    return d.decide(ok), int(power), float(coeff)


def _bias_at_constant(co, n=None):
    """The bias of the family at θ = c 1 and its shift (θ → θ + t 1) defect, symbolic in n:
    by the chain rule through A = Σ θ_j, B = Σ θ_j² (∂A/∂θ_j = 1, ∂B/∂θ_j = 2 θ_j)."""
    lin, quad, inter = co
    N = sp.Symbol("n", positive=True, integer=True) if n is None else sp.Integer(n)
    c, t, thj, A, B, delta = sp.symbols("c t theta_j A B delta", real=True)
    L_AB = lin * A / N + quad * B / (2 * N) - inter * (A / N) ** 2 / 2        # the part through A and B
    gj = -delta + sp.diff(L_AB, A) + sp.diff(L_AB, B) * 2 * thj              # −θ_y contributes −δ_{jy}
    at_c = gj.subs({thj: c, A: N * c, B: N * c ** 2})
    bias = sp.simplify(at_c - (1 / N - delta))                               # softmax(c 1)_j = 1/n
    shift = sp.simplify(gj.subs({thj: thj + t, A: A + N * t, B: B + 2 * t * A + N * t ** 2}) - gj)
    return N, c, gj, bias, shift


def rg_spread(kind: str) -> Derivation:
    """'bias → 0 as the spread → 0 with the mean free': the bias at θ = c 1, symbolic in n
    and c, and the shift behaviour of g̃ (APX-5)."""
    co = _coeffs(kind)
    name = _NAME[kind]
    d = Derivation(
        statement=name + r": bias $\to 0$ as the score spread ($\max - \min$) $\to 0$, with the mean free",
        scope=r"symbolic $n$ and mean $c$ (chain rule through $A = \sum_j \theta_j$, $B = \sum_j \theta_j^2$), every "
              "label coordinate; cross-checked against sympy diff of the loss at $n = 3$ and $n = 6$",
        assumptions=[r"coefficients $(\mathrm{lin}, \mathrm{quad}, \mathrm{inter})$ = " + str(co),
                     r"continuity: $\tilde g$ is polynomial and softmax has a positive denominator, so "
                     r"$\mathrm{bias}(\theta) \to \mathrm{bias}(c\mathbf{1})$ as $\theta \to c\mathbf{1}$"],
    )
    N, c, gj, bias, shift = _bias_at_constant(co)
    d.step("$\\tilde g_j$ ($\\delta = [j = y]$) =", gj)
    d.step("$\\mathrm{bias}_j$ at $\\theta = c\\mathbf{1}$ ($\\operatorname{softmax}(c\\mathbf{1})_j = 1/n$) =", bias)
    d.step("$\\tilde g_j(\\theta + t\\mathbf 1) - \\tilde g_j(\\theta)$ =", shift)
    for n in (3, 6):  # the chain-rule form against sympy diff of the loss itself
        th = [c] * n
        direct = [sp.simplify(a - b) for a, b in zip(rg_grad_expr(th, 0, kind, co), full_grad(th, 0))]
        via = [sp.simplify(bias.subs({N: n, sp.Symbol("delta", real=True): 1 if j == 0 else 0})) for j in range(n)]
        if not all(is_zero(a - b) for a, b in zip(direct, via)):
            raise SuiteDefect(f"APX-5 {kind}: the symbolic-n bias and sympy diff at n = {n} disagree")
    d.step("At $n = 3$ and $n = 6$ the bias at $\\theta = c\\mathbf{1}$ equals the one from sympy diff of the loss.")
    # identically zero as functions of (n, c, δ) and (n, θ_j, A, t): sympy's canonical form is 0
    b_zero, s_zero = sp.simplify(bias) == 0, sp.simplify(shift) == 0
    if b_zero and s_zero:
        d.step("The bias vanishes at zero spread for every $n$ and $c$, and $\\tilde g$ is shift invariant, so the "
               "limit is uniform in the mean.")
        return d.decide(True)
    if not b_zero:
        b2 = float(sp.N(sp.Add(*[bias.subs({N: 3, c: 1, sp.Symbol("delta", real=True): 1 if j == 0 else 0}) ** 2
                                 for j in range(3)]), 20))
        d.step(f"At $\\theta = (1, 1, 1)$ (spread 0): bias$^2$ = {b2:.12g}")
        if b2 > 0:
            d.counterexample = {"shape": "rg-spread", "kind": kind, "theta": [1.0, 1.0, 1.0], "y": 0, "bias2": b2,
                                "spread": 0.0}
            return d.decide(False)
    return d.decide(None)


def squared_target(n, is_label: bool):
    """r_j of the claimed squared form: r = n e_y − 1."""
    return (n if is_label else 0) - 1


def squared_constant(n):
    """The claimed constant of the squared form: log n − (n − 1)/2."""
    return sp.log(n) - (n - 1) / sp.Integer(2)


def rg2_weighted_squared() -> Derivation:
    """RG² loss = (1/2n) Σ_j (θ_j − r_j)² + const, r = n e_y − 1, const = log n − (n − 1)/2 (APX-5).

    The claimed form is :func:`squared_target` and :func:`squared_constant`, looked up at call
    time (a planted defect patches them with a wrong one)."""
    tgt, cst = squared_target, squared_constant
    d = Derivation(
        statement=r"The RG$^2$ loss $-\theta_y + \log n + \bar\theta + \frac{1}{2n} \sum_j \theta_j^2$ equals the "
                  r"weighted squared loss $\frac{1}{2n} \sum_j (\theta_j - r_j)^2 + \log n - (n - 1)/2$ with target "
                  r"$r = n e_y - \mathbf{1}$",
        summary=r"RG$^2$ is the weighted squared loss $\frac{1}{2n} \lVert \theta - r \rVert^2 + \log n - (n - 1)/2$ "
                r"with $r = n e_y - \mathbf{1}$",
        scope=r"$n = 2, \dots, 6$ with symbolic $\theta$ and every label $y$ (polynomial identities); symbolic $n$ "
              "with a symbolic sum (sympy Sum, label split off)",
        assumptions=[],
    )
    flags, first_bad = [], None
    for n in range(2, 7):
        th = sp.symbols(f"theta_0:{n}", real=True)
        for y in range(n):
            lhs = rg_loss_expr(th, y, "rg2")
            rhs = sp.Add(*[(t - tgt(n, j == y)) ** 2 for j, t in enumerate(th)]) / (2 * n) + cst(n)
            ok = sp.expand(lhs - rhs) == 0
            flags.append(ok)
            if not ok and first_bad is None:
                pt = dict(zip(th, [sp.Rational(1, 2), -1, 2, 0, 1, -2][:n]))
                first_bad = {"shape": "rg2-squared", "theta": [float(v) for v in pt.values()], "y": y,
                             "loss": float(sp.N(lhs.subs(pt), 20)), "squared": float(sp.N(rhs.subs(pt), 20))}
    d.step(f"$n = 2, \\dots, 6$, every $y$: loss minus weighted squared form expands to 0 in "
           f"{sum(flags)}/{len(flags)} cases")
    N = sp.Symbol("n", integer=True, positive=True)
    j = sp.Symbol("j", integer=True)
    T = sp.IndexedBase("theta")
    ty = sp.Symbol("theta_y", real=True)
    A = sp.Sum(T[j], (j, 1, N - 1))       # Σ_{j≠y} θ_j (negatives relabelled 1..n−1)
    B = sp.Sum(T[j] ** 2, (j, 1, N - 1))  # Σ_{j≠y} θ_j²
    lhs = -ty + sp.log(N) + (ty + A) / N + (ty ** 2 + B) / (2 * N)
    r_neg, r_lab = tgt(N, False), tgt(N, True)
    sq_neg = sp.expand(sp.Sum(sp.expand((T[j] - r_neg) ** 2), (j, 1, N - 1)).doit())
    rhs = ((ty - r_lab) ** 2 + sq_neg) / (2 * N) + cst(N)
    diff = sp.simplify(sp.expand(lhs - rhs))
    d.step("Symbolic $n$: with the label split off, loss minus weighted squared form =", diff)
    sym_ok = diff == 0
    d.step(f"Symbolic-$n$ identity closes: {sym_ok}")
    if not all(flags):
        d.counterexample = first_bad
        return d.decide(False)
    return d.decide(True if sym_ok else None)
