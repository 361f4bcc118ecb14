"""Re-checks of APX counterexamples (numpy only)."""
from __future__ import annotations

import math

import numpy as np

from .maps import _sigmoid


def _nce_moments(theta: np.ndarray, y: int, q: np.ndarray, k: int, c: float) -> tuple[float, float]:
    """Exact bias² and variance of the NCE gradient estimator by linearity (k i.i.d. noise draws)."""
    delta = theta - c - np.log(k * q)
    s = _sigmoid(delta)
    mean = k * q * s
    mean[y] -= _sigmoid(-delta[y])
    e = np.exp(theta - theta.max())
    g = e / e.sum()
    g[y] -= 1.0
    return float(((mean - g) ** 2).sum()), float(k * ((q * s * s).sum() - ((q * s) ** 2).sum()))


def _parse_tree(text: str):
    import ast

    return ast.literal_eval(text)


def _hsm_ratio_fit(tree, p: np.ndarray) -> np.ndarray:
    """Leaf probabilities of the HSM with node scores u_v = log(mass(left)/mass(right))."""
    out = np.zeros_like(p)

    def mass(t):
        return p[t] if isinstance(t, int) else mass(t[0]) + mass(t[1])

    def walk(t, prob):
        if isinstance(t, int):
            out[t] = prob
            return
        u = math.log(mass(t[0]) / mass(t[1]))
        walk(t[0], prob * _sigmoid(u))
        walk(t[1], prob * _sigmoid(-u))

    walk(tree, 1.0)
    return out


def recheck_apx(cx: dict, reading: str) -> tuple[bool, str]:
    """APX: NCE bias²/variance rising with k (APX-1), HSM-H1 exact best fits for every tree (APX-4),
    RG² bias at (near) zero spread (APX-5)."""
    if "quantity" in cx and reading.startswith("nce"):
        theta, q = np.array(cx["theta"], dtype=np.float64), np.array(cx["q"], dtype=np.float64)
        idx = 0 if cx["quantity"] == "bias2" else 1
        a = _nce_moments(theta, cx["y"], q, cx["k_from"], cx["c"])[idx]
        b = _nce_moments(theta, cx["y"], q, cx["k_to"], cx["c"])[idx]
        ok = b > a and abs(a - cx["value_from"]) <= 1e-9 * max(1, a) and abs(b - cx["value_to"]) <= 1e-9 * max(1, b)
        return ok, f"{cx['quantity']} at k={cx['k_from']}: {a:.6g} -> k={cx['k_to']}: {b:.6g}"
    if "trees" in cx and "p" in cx:
        p = np.array(cx["p"], dtype=np.float64)
        p = p / p.sum()  # the stored p is rounded to 12 digits
        kls = [float((p * np.log(p / _hsm_ratio_fit(_parse_tree(t), p))).sum()) for t in cx["trees"]]
        ok = len(kls) >= 2 and max(abs(v) for v in kls) <= 1e-12
        return ok, f"p={[round(v, 4) for v in cx['p']]}: KL of the ratio fit per tree {kls}"
    if reading.startswith("rg2") and "theta" in cx:
        theta = np.array(cx["theta"], dtype=np.float64)
        n, y = theta.size, cx["y"]
        e = np.exp(theta - theta.max())
        g = e / e.sum()
        gt = (1 + theta) / n
        b2 = float(((gt - g) ** 2).sum())
        spread = float(theta.max() - theta.min())
        ok = spread <= 1e-5 and b2 >= 0.1 and abs(b2 - float(cx["bias2"])) <= 1e-9
        return ok, f"theta spread {spread:.3g}: RG^2 bias^2 = {b2:.6g} (stored {cx['bias2']})"
    return False, f"unrecognized APX counterexample keys {sorted(cx)}"


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {"APX-1": recheck_apx, "APX-4": recheck_apx, "APX-5": recheck_apx}
