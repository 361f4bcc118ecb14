"""APX-3 in sympy: NCE's bias as k → ∞ and its population minimizer.

NCE (losses/approx.py): k noise samples from q, Δ_j = θ_j − c − log(k q_j); by linearity
E g̃_j = k q_j σ(Δ_j) (j ≠ y) and E g̃_y = −σ(−Δ_y) + k q_y σ(Δ_y).  Every coordinate has
the same form, so the derivations below are per coordinate: they hold for every n.
"""
from __future__ import annotations

import sympy as sp

from .common import CANONICAL_THETA0, and3, sig, vanishes
from ..derivation import Derivation, is_zero

READINGS = ("c=logZ", "c=0")


def _limits(c_of_Z):
    """Per coordinate, with x_j = e^{θ_j} and Z = Σ x: the k → ∞ limit of E g̃ and of the bias,
    for the normalizer c = c_of_Z(Z)."""
    k = sp.Symbol("k", positive=True)
    xj, xy, Z, qj, qy = sp.symbols("x_j x_y Z q_j q_y", positive=True)
    c = c_of_Z(Z)
    dj = sp.log(xj) - c - sp.log(k * qj)
    dy = sp.log(xy) - c - sp.log(k * qy)
    mean_j = k * qj * sig(dj)
    mean_y = -sig(-dy) + k * qy * sig(dy)
    lim_j = sp.simplify(sp.limit(mean_j, k, sp.oo))
    lim_y = sp.simplify(sp.limit(mean_y, k, sp.oo))
    bias_j = sp.simplify(lim_j - xj / Z)
    bias_y = sp.simplify(lim_y - (xy / Z - 1))
    return k, (xj, xy, Z, qj, qy), (mean_j, mean_y), (lim_j, lim_y), (bias_j, bias_y)


def _canonical_limit_bias2(c_of_Z) -> tuple[float, float]:
    """(‖lim bias‖², c) at the canonical θ, from the per-coordinate limit e^{θ − c} − p."""
    th = [sp.nsimplify(v) for v in CANONICAL_THETA0]
    x = [sp.exp(t) for t in th]
    Z = sp.Add(*x)
    c = c_of_Z(Z)
    return float(sp.N(sp.Add(*[(xi * sp.exp(-c) - xi / Z) ** 2 for xi in x]), 30)), float(sp.N(c, 30))


def normalizer(reading: str, Z):
    """NCE's normalizer c of a reading as a function of the partition function Z:
    log Z ('c=logZ') or the fixed 0 ('c=0')."""
    if reading not in READINGS:
        raise ValueError(f"reading must be 'c=logZ' or 'c=0', got {reading!r}")
    return sp.log(Z) if reading == "c=logZ" else sp.Integer(0)


def noise_weight(k, q):
    """The weight of the noise term of the population NCE objective: k q."""
    return k * q


def nce_limit(reading: str) -> Derivation:
    """NCE bias as k → ∞: 0 when c = log Z ('c=logZ'), (Z e^{−c} − 1) p ≠ 0 for the fixed
    c = 0 ('c=0') (APX-3).  The normalizer is :func:`normalizer` (looked up at call time)."""
    if reading not in READINGS:
        raise ValueError(f"reading must be 'c=logZ' or 'c=0', got {reading!r}")

    def c_of_Z(Z):
        return normalizer(reading, Z)
    logz = reading == "c=logZ"
    d = Derivation(
        statement=(r"NCE with $c = \log Z$: $\mathbb{E}\tilde g \to g$ as $k \to \infty$, with "
                   r"$\mathrm{bias} = O(1/k)$ ($\mathrm{bias}^2 = O(1/k^2)$)" if logz else
                   r"NCE with a wrong fixed normalizer $c = 0$: the bias does not vanish as $k \to \infty$; its "
                   r"limit is $(Z - 1)\,p$, nonzero unless $Z = \sum_j \exp\theta_j = 1$"),
        summary=("" if logz else
                 r"NCE with $c = 0$: the bias tends to $(Z - 1)\,p \ne 0$ as $k \to \infty$ (it does not vanish)"),
        scope=r"per coordinate with symbols $x_j = e^{\theta_j}$, $Z$, $q_j$, $k > 0$, so every $n$ and every noise "
              r"$q$ with full support; the canonical $\theta = (2, 1, 0, -1, -2, 1/2)$ ($n = 6$) for the value of "
              "the limit",
        assumptions=["$q_j > 0$ on every class", r"$k$ noise samples i.i.d. from $q$; $\mathbb{E}\tilde g$ by "
                     "linearity"],
    )
    k, (xj, xy, Z, qj, qy), (mean_j, mean_y), (lim_j, lim_y), (bias_j, bias_y) = _limits(c_of_Z)
    d.step("$\\mathbb{E}\\tilde g_j = k q_j \\sigma(\\Delta_j)$ ($j\\ne y$), $\\mathbb{E}\\tilde g_y = "
           "-\\sigma(-\\Delta_y) + k q_y \\sigma(\\Delta_y)$, $\\Delta_j = \\theta_j - c - \\log(k q_j)$, $c$ =",
           c_of_Z(Z))
    d.step("$\\lim_{k\\to\\infty} \\mathbb{E}\\tilde g_j$ =", lim_j)
    d.step("$\\lim_{k\\to\\infty} \\mathbb{E}\\tilde g_y$ =", lim_y)
    d.step("Limit bias of a negative coordinate ($p_j = x_j/Z$):", bias_j)
    d.step("Limit bias of the label coordinate:", bias_y)
    form = and3(is_zero(bias_j - (Z * sp.exp(-c_of_Z(Z)) - 1) * xj / Z),
                is_zero(bias_y - (Z * sp.exp(-c_of_Z(Z)) - 1) * xy / Z))
    d.step(f"Both equal $(Z e^{{-c}} - 1)\\,p$: {form}")
    val, c_val = _canonical_limit_bias2(c_of_Z)
    d.step(f"Canonical $\\theta$: $\\|\\lim \\mathrm{{bias}}\\|^2$ = {val:.10g} ($c$ = {c_val:.6g})")
    ok = form
    if logz:
        vanish = and3(vanishes(bias_j), vanishes(bias_y))
        if vanish:
            eps = sp.Symbol("epsilon", positive=True)
            lead = []
            for b_ in (mean_j - xj / Z, mean_y - (xy / Z - 1)):
                ser = sp.series(sp.simplify(b_.subs(k, 1 / eps)), eps, 0, 2).removeO()
                lead.append((sp.simplify(ser.coeff(eps, 0)), sp.simplify(ser.coeff(eps, 1))))
            d.step("Series in $\\varepsilon = 1/k$ (constant, linear coefficient) per coordinate:",
                   sp.Matrix([list(t) for t in lead]))
            rate = and3(*[is_zero(c0) for c0, _ in lead])
            d.step(f"constant terms vanish, so $\\mathrm{{bias}} = O(1/k)$ and $\\mathrm{{bias}}^2 = O(1/k^2)$: {rate}")
            ok = and3(ok, rate)
        else:
            ok = and3(ok, vanish)
        claim_fails = vanish is False and val > 1e-12
    else:
        d.step(f"nonzero at the canonical $\\theta$ ($Z \\ne 1$): {val > 1e-12}")
        ok = and3(ok, val > 1e-12)
        claim_fails = form is True and val <= 1e-12
    if claim_fails:
        d.counterexample = {"shape": "nce-limit", "theta": [float(v) for v in CANONICAL_THETA0], "y": 0,
                            "c": c_val, "limit_bias2": val}
        return d.decide(False)
    return d.decide(None if ok is False else ok)


def nce_population() -> Derivation:
    """Population NCE: the per-class objective is minimized at θ_j = log p_j for every k (APX-3).
    The noise term is weighted by :func:`noise_weight` (looked up at call time)."""
    d = Derivation(
        statement=r"The population NCE objective (data $p$, noise $q$, $k$ noise samples per datum, $c = 0$ absorbed "
                  r"in $\theta$) is minimized at $\theta_j = \log p_j$ for every $k$: the minimizer recovers the data "
                  "distribution",
        summary=r"The population NCE objective is minimized at $\theta_j = \log p_j$ for every $k$: it recovers the "
                "data distribution",
        scope=r"one class $j$, symbolic $p_j$, $q_j$, $k > 0$ (the objective separates over classes, so every $n$)",
        assumptions=["$p_j > 0$, $q_j > 0$", "the expectation over data and noise is exact (population)"],
    )
    th = sp.Symbol("theta_j", real=True)
    p, q, k = sp.symbols("p_j q_j k", positive=True)
    w = noise_weight(k, q)
    L = sp.log(k * q)
    sp_ = lambda z: sp.log(1 + sp.exp(z))  # noqa: E731 softplus
    J = p * sp_(-(th - L)) + w * sp_(th - L)
    d.step("$J_j(\\theta_j)$ =", J)
    dJ = sp.simplify(sp.diff(J, th))
    d.step("$J_j'$ =", dJ)
    sols = sp.solve(sp.Eq(dJ, 0), th)
    d.step("Stationary points:", sp.Matrix(sols))
    d2 = sp.simplify(sp.diff(J, th, 2))
    d.step("$J_j''$ =", d2)
    pos = d2.is_positive
    d.step(f"$J_j'' > 0$ for every $\\theta$ (strictly convex, so a stationary point is the minimizer): {pos}")
    if len(sols) != 1:
        return d.decide(None)
    unique = vanishes(sp.expand_log(sols[0] - sp.log(p), force=True))
    d.step(f"The minimizer is $\\log p_j$: {unique}")
    if unique is False and pos:
        pt = {p: sp.Rational(3, 10), q: sp.Rational(1, 5), k: 4}
        d.counterexample = {"shape": "nce-population", "p": [0.3, 0.7], "q": [0.2, 0.8], "k": 4,
                            "theta": [float(sp.N(sols[0].subs(pt), 20)), float(sp.N(sols[0].subs(
                                {p: sp.Rational(7, 10), q: sp.Rational(4, 5), k: 4}), 20))]}
        return d.decide(False)
    return d.decide(True if unique and pos else None)
