"""APX-1 in sympy: the bias–variance decomposition, and the deterministic estimators
(HSM reading H2, RG², RG×) have variance exactly 0 and a positive bias."""
from __future__ import annotations

import sympy as sp

from audit import SuiteDefect

from .common import CANONICAL_THETA0, CANONICAL_Y, and3, full_grad, hsm_h2_grad, mean, sq, variance
from .rg import rg_grad_expr
from ..derivation import Derivation, is_zero


def _at_target(outcomes, weights, g) -> sp.Expr:
    return sp.Add(*[w * sq([vi - gi for vi, gi in zip(v, g)]) for v, w in zip(outcomes, weights)])


def decomposition() -> Derivation:
    """E‖g̃ − g‖² = ‖E g̃ − g‖² + E‖g̃ − E g̃‖² for a discrete estimator (APX-1).

    The variance functional decomposed is :func:`proofs.apx.common.variance` (centred at
    the mean), looked up in this module at call time."""
    var_fn = variance
    d = Derivation(
        statement=r"$\mathrm{MSE} = \mathrm{bias}^2 + \mathrm{variance}$: $\mathbb{E}\lVert \tilde g - g \rVert^2 = "
                  r"\lVert \mathbb{E}\tilde g - g \rVert^2 + \mathbb{E}\lVert \tilde g - \mathbb{E}\tilde g \rVert^2$ "
                  r"for an estimator $\tilde g$ of $g$; a deterministic estimator (point mass) has variance exactly 0",
        summary=r"$\mathrm{MSE} = \mathrm{bias}^2 + \mathrm{variance}$ for every estimator $\tilde g$ of $g$; "
                "a point mass has variance exactly 0",
        scope=r"$K = 3$ outcomes in $\mathbb{R}^2$ with symbolic probabilities $(w_1, w_2, 1 - w_1 - w_2)$, symbolic "
              r"outcome vectors and symbolic $g$ (polynomial identity); the general argument (any law with a finite "
              r"second moment) is the cross-term step; point mass: symbolic outcome in $\mathbb{R}^2$",
        assumptions=[r"$\mathbb{E}\lVert \tilde g \rVert^2 < \infty$", "$g$ is a fixed (non-random) vector"],
    )
    w1, w2 = sp.symbols("w_1 w_2", nonnegative=True)
    W = [w1, w2, 1 - w1 - w2]
    V = [sp.symbols(f"v_{k}1 v_{k}2", real=True) for k in range(1, 4)]
    g = sp.symbols("g_1 g_2", real=True)
    mu = mean(V, W)
    mse = _at_target(V, W, g)
    bias2 = sq([m - gi for m, gi in zip(mu, g)])
    var = var_fn(V, W, g)
    d.step("Outcomes $v_1, v_2, v_3 \\in \\mathbb{R}^2$ with probabilities $w_1, w_2, 1 - w_1 - w_2$; "
           "mean $\\mathbb{E}\\tilde g$ =", sp.Matrix(mu))
    diff = sp.expand(mse - bias2 - var)
    d.step("Expanding $\\mathrm{MSE} - \\mathrm{bias}^2 - \\mathrm{variance}$ gives", diff)
    d.step("General argument: $\\tilde g - g = (\\tilde g - \\mathbb{E}\\tilde g) + (\\mathbb{E}\\tilde g - g)$; "
           "squaring, the cross term $2\\langle \\mathbb{E}\\tilde g - g,\\, \\mathbb{E}[\\tilde g - "
           "\\mathbb{E}\\tilde g]\\rangle = 0$ because $\\mathbb{E}[\\tilde g - \\mathbb{E}\\tilde g] = 0$ and "
           "$\\mathbb{E}\\tilde g - g$ is not random.")
    c = sp.symbols("c_1 c_2", real=True)
    var_point = sp.expand(var_fn([c], [sp.Integer(1)], g))
    d.step("Point mass at $c$ (weights [1]): variance =", var_point)
    ok = and3(diff == 0, is_zero(var_point))
    if ok is False:
        # a concrete law on which the candidate decomposition fails (re-checked in numpy)
        pt = {w1: sp.Rational(1, 5), w2: sp.Rational(3, 10), g[0]: sp.Rational(1, 2), g[1]: sp.Rational(1, 2),
              V[0][0]: 1, V[0][1]: 0, V[1][0]: 0, V[1][1]: 2, V[2][0]: -1, V[2][1]: 1}
        d.counterexample = {"shape": "law-decomposition",
                            "outcomes": [[float(x.subs(pt)) for x in v] for v in V],
                            "weights": [float(x.subs(pt)) for x in W], "g": [float(x.subs(pt)) for x in g],
                            "claimed_variance": float(var.subs(pt))}
    return d.decide(ok)


# --------------------------------------------------------------------------------------
# deterministic estimators
# --------------------------------------------------------------------------------------
_LABEL = {"hsm": "HSM (reading H2, balanced tree ((0,1),2)|((3,4),5))", "rg2": "RG$^2$", "rgx": r"RG$\times$"}
_SHORT = {"hsm": "HSM (reading H2, balanced tree)"}  # for the one-line summary


def estimator_expr(method: str, theta, y: int):
    """g̃ of a deterministic method as sympy expressions of ``theta`` (n = 6 for HSM: the
    canonical balanced tree)."""
    if method == "hsm":
        from losses import approx

        return hsm_h2_grad(approx.balanced_tree(len(theta)), theta, y, simplify=False)[0]
    return rg_grad_expr(theta, y, method)


def _library(method: str, point, y: int) -> list[float]:
    import torch

    from losses import approx

    t = torch.tensor([[float(v) for v in point]], dtype=torch.float64)
    if method == "hsm":
        return approx.hsm_grad(t, torch.tensor([y]), approx.balanced_tree(len(point)))[1][0].tolist()
    return approx.rg_grad(t, torch.tensor([y]), method)[1][0].tolist()


def estimator_law(method: str, theta, y: int) -> list:
    """The law of g̃ of a deterministic method as [(probability, vector)]: g̃ is a
    closed-form function of θ (:func:`estimator_expr`), so its law is the point mass there."""
    return [(sp.Integer(1), estimator_expr(method, theta, y))]


def deterministic_variance(method: str) -> Derivation:
    """HSM (reading H2), RG², RG×: g̃ is a function of θ alone, so its law is a point mass
    with variance 0; at the canonical θ (n = 6) its bias² is positive.

    The law is :func:`estimator_law` (looked up at call time); the estimator itself
    (:func:`estimator_expr`) is checked against losses.approx at a rational point."""
    if method not in _LABEL:
        raise ValueError(f"method must be 'hsm', 'rg2' or 'rgx', got {method!r}")
    n, y = len(CANONICAL_THETA0), CANONICAL_Y
    theta = sp.symbols(f"theta_0:{n}", real=True)
    label = _LABEL[method]
    d = Derivation(
        statement=label + r" is deterministic ($\tilde g$ contains no random quantity, so "
                  r"$\mathbb{E}\lVert \tilde g - \mathbb{E}\tilde g \rVert^2 = 0$) and its bias$^2$ is positive at "
                  r"the canonical $\theta$",
        summary=_SHORT.get(method, label) + r" is deterministic (variance 0), with a positive bias$^2$ at the "
                                            r"canonical $\theta$",
        scope=r"$n = 6$, $y = 0$, symbolic $\theta$ (the estimator as a closed-form function of $\theta$; the "
              r"point-mass argument holds for every $n$); bias$^2$ exactly at the canonical "
              r"$\theta = (2, 1, 0, -1, -2, 1/2)$",
        assumptions=[r"$\theta$ is given (the estimator is evaluated at a fixed score vector)"],
    )
    gt = estimator_expr(method, theta, y)
    d.step("$\\tilde g(\\theta)$ (sympy, from the loss) =", sp.Matrix(gt))
    point = (sp.Rational(1, 2), sp.Integer(-1), sp.Rational(1, 3), sp.Integer(2), sp.Rational(-3, 4), sp.Integer(0))
    sym = [float(e.subs(dict(zip(theta, point)))) for e in gt]
    ref = _library(method, point, y)
    err = max(abs(a - b) for a, b in zip(sym, ref))
    d.step("At $\\theta = (" + ", ".join(str(v) for v in point) + ")$: sympy $\\tilde g$ against losses.approx "
           f"(max $|\\Delta|$ = {err:.2e})")
    if err > 1e-12:
        raise SuiteDefect(f"APX-1 {method}: the sympy estimator and losses.approx differ by {err:.3g}")
    outcomes = estimator_law(method, theta, y)
    W = [w for w, _ in outcomes]
    Vs = [v for _, v in outcomes]
    d.step("Law of $\\tilde g$ (weights):", sp.Matrix(W))
    at = dict(zip(theta, CANONICAL_THETA0))
    var = variance(Vs, W)
    var_canon = float(sp.N(var.subs(at), 30))
    if var_canon > 1e-20:  # positive at the canonical θ: not identically 0
        d.step(f"Variance of the law at the canonical $\\theta$: {var_canon:.6g}")
        var_zero = False
    else:
        d.step("Variance of the law =", var)
        var_zero = is_zero(var)
    mu = [sp.N(e.subs(at), 30) for e in mean(Vs, W)]
    b2 = sp.N(sq([m - gg for m, gg in zip(mu, [sp.N(v, 30) for v in full_grad(CANONICAL_THETA0, y)])]), 30)
    d.step(f"At the canonical $\\theta$: bias$^2$ = {float(b2):.12g}")
    pos = bool(b2 > 1e-12)
    theta_f = [float(v) for v in CANONICAL_THETA0]
    if var_zero is False:
        d.counterexample = {"shape": "point-mass", "method": method, "theta": theta_f, "y": y,
                            "outcomes": [[float(sp.N(e.subs(at), 20)) for e in v] for v in Vs],
                            "weights": [float(w) for w in W]}
    elif not pos:
        from losses import approx

        d.counterexample = {"shape": "deterministic", "method": method, "theta": theta_f, "y": y,
                            "bias2": float(b2), "variance": 0.0,
                            **({"tree": approx.balanced_tree(n).nested()} if method == "hsm" else {})}
    return d.decide(and3(var_zero, pos))
