"""Re-checks of APX counterexamples (numpy only; the estimators are re-implemented in
reports/rechecks/apx_estimators.py).  Each counterexample names its ``shape``; the
re-check recomputes the property from the stored inputs and accepts only a genuine
counterexample to the row's statement."""
from __future__ import annotations

import math

import numpy as np

from . import apx_estimators as E

ZERO, POSITIVE = 1e-20, 1e-12   # a bias² at or below ZERO is 0; above POSITIVE it is resolved


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _law(cx, reading):
    V, w, g = (np.array(cx[k], np.float64) for k in ("outcomes", "weights", "g"))
    mean = w @ V
    mse = float(w @ ((V - g) ** 2).sum(1))
    b2, var = float(((mean - g) ** 2).sum()), float(w @ ((V - mean) ** 2).sum(1))
    return (not _close(mse, b2 + var)), f"MSE {mse:.12g} vs bias^2 + variance {b2 + var:.12g}"


def _increase(cx, reading):
    theta, q, y = np.array(cx["theta"], np.float64), np.array(cx["q"], np.float64), int(cx["y"])
    idx = 0 if cx["quantity"] == "bias2" else 1
    if cx["method"] == "ssm":
        a, b = (E.ssm_moments(theta, y, q, int(cx[k]))[idx] for k in ("from", "to"))
    else:
        a, b = (E.nce_moments(theta, y, q, int(cx[k]), float(cx["c"]))[idx] for k in ("from", "to"))
    ok = int(cx["to"]) > int(cx["from"]) and b > a and _close(a, cx["value_from"]) and _close(b, cx["value_to"])
    return ok, f"{cx['quantity']} at {cx['count']} = {cx['from']}: {a:.6g} -> {cx['to']}: {b:.6g}"


def _deterministic_bias2(cx) -> float:
    theta, y = np.array(cx["theta"], np.float64), int(cx["y"])
    gt = (E.hsm_h2_grad(theta, y, E.parse_tree(cx["tree"])) if cx["method"] == "hsm"
          else E.rg_grad(theta, y, cx["method"]))
    return float(((gt - E.softmax_grad(theta, y)) ** 2).sum())


def _deterministic(cx, reading):
    b2 = _deterministic_bias2(cx)
    return b2 <= POSITIVE, f"{cx['method']} at the stored theta: bias^2 = {b2:.6g} (a positive bias is claimed)"


def _point_mass(cx, reading):
    return False, (f"{cx['method']} is a closed-form function of theta: its law is a point mass, variance 0 "
                   "(a stored law of several outcomes is not the estimator's)")


def _ssm_iff(cx, reading):
    theta, q, y, m = np.array(cx["theta"], np.float64), np.array(cx["q"], np.float64), int(cx["y"]), int(cx["m"])
    b2, _ = E.ssm_moments(theta, y, q, m)
    neg = [j for j in range(theta.size) if j != y]
    ideal = np.exp(theta[neg] - theta[neg].max())
    ideal /= ideal.sum()
    is_ideal = bool(np.allclose(q[neg] / q[neg].sum(), ideal, rtol=1e-9, atol=0))
    if ZERO < b2 <= POSITIVE:
        return False, f"bias^2 = {b2:.3g} at m = {m}: neither resolved zero nor positive"
    unbiased = b2 <= ZERO
    return unbiased != is_ideal, (f"m = {m}: bias^2 = {b2:.3g}, proposal prop. to exp(theta) on the negatives: "
                                  f"{is_ideal} (the claim: unbiased iff ideal)")


def _nce_limit(cx, reading):
    theta, c = np.array(cx["theta"], np.float64), float(cx["c"])
    p = np.exp(theta - theta.max())
    p /= p.sum()
    lim = float(((np.exp(theta - c) - p) ** 2).sum())      # ‖(Z e^{−c} − 1) p‖²
    claim_vanishes = "c=logZ" in reading
    logz = float(theta.max() + np.log(np.exp(theta - theta.max()).sum()))
    right_c = abs(c - logz) <= 1e-9 * max(1.0, abs(logz)) if claim_vanishes else c == 0.0
    if not right_c:
        return False, f"c = {c:.9g} is not the reading's normalizer ({reading}; log Z = {logz:.9g})"
    vanishes = lim <= POSITIVE
    return vanishes != claim_vanishes, f"c = {c:.6g}: k -> infinity limit of bias^2 = {lim:.6g}"


def _nce_population(cx, reading):
    p, q, k, th = (np.array(cx[key], np.float64) for key in ("p", "q", "k", "theta"))

    def J(t):
        off = np.log(k * q)
        return float(np.sum(p * np.logaddexp(0, -(t - off)) + k * q * np.logaddexp(0, t - off)))

    gap = J(np.log(p)) - J(th)
    return gap > 1e-9, f"J(log p) - J(theta) = {gap:.3g} (theta beats log p iff > 0)"


def _hsm_trees(cx, reading):
    theta, y = np.array(cx["theta"], np.float64), int(cx["y"])
    trees = [E.parse_tree(t) for t in cx["trees"]]
    b2 = [float(((E.hsm_h2_grad(theta, y, t) - E.softmax_grad(theta, y)) ** 2).sum()) for t in trees]
    distinct = E.clusters(trees[0]) != E.clusters(trees[1])
    return distinct and abs(b2[0] - b2[1]) <= POSITIVE, f"H2 bias^2 per tree {b2} (distinct clusters: {distinct})"


def _h1(cx, reading):
    p = np.array(cx["p"], dtype=np.float64)
    p = p / p.sum()  # the stored p is rounded to 12 digits
    kls = [float((p * np.log(p / E.hsm_ratio_fit(E.parse_tree(t), p))).sum()) for t in cx["trees"]]
    ok = len(kls) >= 2 and max(abs(v) for v in kls) <= 1e-12
    return ok, f"p={[round(v, 4) for v in cx['p']]}: KL of the ratio fit per tree {kls}"


def _rg_scale(cx, reading):
    theta0, y, kind = np.array(cx["theta0"], np.float64), int(cx["y"]), cx["kind"]
    ss = [0.0] + [10 ** (-3 + 0.25 * i) for i in range(13)]
    b2 = [float(((E.rg_grad(s * theta0, y, kind) - E.softmax_grad(s * theta0, y)) ** 2).sum()) for s in ss]
    vanishes = b2[0] <= ZERO
    increasing = all(b2[i + 1] > b2[i] for i in range(1, len(b2) - 1))
    return not (vanishes and increasing), f"{kind}: bias^2 at s = 0 is {b2[0]:.3g}, increasing on the grid: {increasing}"


def _rg_spread(cx, reading):
    theta, y, kind = np.array(cx["theta"], np.float64), int(cx["y"]), cx["kind"]
    b2 = float(((E.rg_grad(theta, y, kind) - E.softmax_grad(theta, y)) ** 2).sum())
    spread = float(theta.max() - theta.min())
    ok = spread <= 1e-5 and b2 >= 1e-6 and abs(b2 - float(cx["bias2"])) <= 1e-9 * (1 + b2)
    return ok, f"theta spread {spread:.3g}: {kind} bias^2 = {b2:.6g} (stored {cx['bias2']})"


def _rg2_squared(cx, reading):
    theta, y = np.array(cx["theta"], np.float64), int(cx["y"])
    n = theta.size
    r = -np.ones(n)
    r[y] += n
    sq = float(((theta - r) ** 2).sum() / (2 * n) + math.log(n) - (n - 1) / 2)
    loss = E.rg2_loss(theta, y)
    return not _close(loss, sq), f"RG^2 loss {loss:.12g} vs weighted squared form {sq:.12g}"


def _sgd_bound(cx, reading):
    """A deterministic estimator's full-batch run, re-run here in numpy from the stored data:
    its bias b measured along this run and at W*, the bound from b (σ² = 0), against
    ‖W_T − W*‖²."""
    X = np.array(cx["X"], np.float64)
    L = float(cx["lam"]) + 0.5 * float(np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1])
    if not float(cx["eta"]) <= 2.0 / (float(cx["mu"]) + L) * (1 + 1e-12):
        return False, f"step eta = {cx['eta']:.6g} exceeds 2/(mu + L) = {2 / (cx['mu'] + L):.6g}: outside the bound's assumptions"
    run = E.sgd_run(cx)
    if run is None:
        return False, f"{cx.get('estimator')}: not a deterministic estimator; its run cannot be re-run from stored data"
    s2_T, b = run
    r = E.radius_after(cx["T"], cx["s0"], b, 0.0, cx["eta"], cx["mu"])
    bound2 = (r + float(cx["slack"])) ** 2
    ok = s2_T > bound2 and _close(s2_T, float(cx["s2_T"]), 1e-6)
    return ok, (f"{cx['estimator']}: re-run ||W_T - W*||^2 = {s2_T:.6g} (stored {cx['s2_T']:.6g}), bias along the run "
                f"b = {b:.6g}, bound {bound2:.6g}")


def _sgd_radius(cx, reading):
    def rad(b, s2, eta=float(cx["eta"]), mu=float(cx["mu"])):
        rho = 1 - eta * mu
        den = 1 - rho * rho
        return (rho * eta * b + math.sqrt((rho * eta * b) ** 2 + den * eta * eta * (b * b + s2))) / den

    (b1, b2), (s1, s2) = cx["b"], cx["sigma2"]
    grows = rad(b2, s1) > rad(b1, s1) and rad(b1, s2) > rad(b1, s1)
    return not grows, f"the fixed-point radius grows with b and sigma^2: {grows}"


SHAPES = {"law-decomposition": _law, "sampling-increase": _increase, "deterministic": _deterministic,
          "point-mass": _point_mass, "ssm-iff": _ssm_iff, "nce-limit": _nce_limit, "nce-population": _nce_population,
          "hsm-trees": _hsm_trees, "rg-scale": _rg_scale, "rg-spread": _rg_spread, "rg2-squared": _rg2_squared,
          "sgd-bound": _sgd_bound, "sgd-radius": _sgd_radius}


def recheck_apx(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """Dispatch on the counterexample's ``shape`` (the H1 best fit of APX-4 is stored as
    {p, trees, kl_best_fit})."""
    shape = cx.get("shape")
    if shape is None and "trees" in cx and "p" in cx:
        return _h1(cx, reading)
    fn = SHAPES.get(shape)
    if fn is None:
        return False, f"unrecognized APX counterexample (shape {shape!r}, keys {sorted(cx)})"
    return fn(cx, reading)


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {f"APX-{i}": recheck_apx for i in range(1, 7)}
