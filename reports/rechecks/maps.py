"""Prediction maps and small numeric tools of the outside re-checker, in plain numpy and
fractions (no import of the suite): each map by its own route (bisection on the threshold,
or an exact piecewise-linear solve), not by the suite's code."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def entmax(theta: np.ndarray, alpha: float) -> np.ndarray:
    """α-entmax by bisection on τ in Σ [(α−1)θ − τ]_+^{1/(α−1)} = 1 (α = 1: softmax)."""
    theta = np.asarray(theta, dtype=np.float64)
    if alpha == 1:
        e = np.exp(theta - theta.max())
        return e / e.sum()
    x = (alpha - 1) * theta
    lo, hi = x.max() - 1.0, x.max()
    for _ in range(200):
        mid = (lo + hi) / 2
        if (np.clip(x - mid, 0, None) ** (1 / (alpha - 1))).sum() >= 1:
            lo = mid
        else:
            hi = mid
    p = np.clip(x - lo, 0, None) ** (1 / (alpha - 1))
    return p / p.sum()


def jacobian_lambda_max(f, theta: np.ndarray, h: float = 1e-6) -> float:
    """Largest eigenvalue of the symmetrized central-difference Jacobian of f at theta."""
    theta = np.asarray(theta, dtype=np.float64)
    n = theta.size
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        J[:, j] = (f(theta + e) - f(theta - e)) / (2 * h)
    return float(np.linalg.eigvalsh((J + J.T) / 2).max())


def capped_projection_exact(theta: list[Fraction], k: int) -> list[Fraction]:
    """Exact projection on {p in [0,1]^n : sum p = k} (k = 1: sparsemax): f(tau) = sum clip(theta - tau, 0, 1)
    is piecewise linear and non-increasing with breakpoints theta_i and theta_i - 1; find the segment where it
    crosses k and solve the linear equation there."""
    bps = sorted(set(theta) | {t - 1 for t in theta})

    def f(tau: Fraction) -> Fraction:
        return sum(min(max(t - tau, Fraction(0)), Fraction(1)) for t in theta)

    for lo, hi in zip(bps, bps[1:]):
        flo, fhi = f(lo), f(hi)
        if fhi <= k <= flo:
            tau = lo if flo == fhi else lo + (flo - k) * (hi - lo) / (flo - fhi)
            return [min(max(t - tau, Fraction(0)), Fraction(1)) for t in theta]
    raise ValueError("no threshold found")


def np_predict(loss: str, theta: np.ndarray, alpha: float | None = None, k: int | None = None) -> np.ndarray:
    """ŷ(θ) by self-contained numpy code (no losses/, no cvxpy)."""
    t = np.asarray(theta, dtype=np.float64)
    if loss == "softmax":
        e = np.exp(t - t.max())
        return e / e.sum()
    if loss == "sparsemax":
        u = np.sort(t)[::-1]
        css = np.cumsum(u) - 1.0
        rho = np.nonzero(u - css / np.arange(1, t.size + 1) > 0)[0][-1]
        return np.maximum(t - css[rho] / (rho + 1), 0.0)

    def bisect(f, lo, hi, target):
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if f(mid) > target else (lo, mid)
        return 0.5 * (lo + hi)

    if loss == "entmax":
        a = float(alpha)
        z = (a - 1) * t
        f = lambda tau: np.sum(np.maximum(z - tau, 0) ** (1 / (a - 1)))  # noqa: E731
        tau = bisect(f, z.max() - 1.0, z.max(), 1.0)
        return np.maximum(z - tau, 0) ** (1 / (a - 1))
    if loss == "rankmax":
        f = lambda tau: np.sum(np.clip(t - tau, 0, 1))  # noqa: E731
        tau = bisect(f, t.min() - 1.0, t.max(), float(k))
        return np.clip(t - tau, 0, 1)
    raise ValueError(f"unknown loss {loss!r}")


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def _t_quantile(p: float, df: int) -> float:
    """Student-t quantile: the normal quantile by bisection on math.erfc, then the
    Cornish-Fisher expansion in 1/df (error below 1e-6 for df ≥ 100)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > 1 - p:
            lo = mid
        else:
            hi = mid
    z = (lo + hi) / 2
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
