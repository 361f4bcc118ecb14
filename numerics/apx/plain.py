"""Plain reference implementations of the sampling estimators (SSM, NCE), independent of
``losses/``: numpy, one Python loop over the draws, written from the formulas of
CLAIMS.md §4 rather than from the library's kernels.

They exist so that the Monte Carlo of ``numerics/apx/montecarlo.py`` (library kernels on
torch samples) is compared with a ground truth that shares none of its code: exact
moments by enumerating every multiset of draws (:func:`exact_moments`) through
:func:`ssm_draw` / :func:`nce_draw`.  Slow on purpose (clarity over speed): meant for
n ≤ 8 and a few hundred to a few thousand multisets.

- **SSM** (canonical, Blanc & Rendle 2018): q̃_j = q_j/(1 − q_y) on j ≠ y; logits
  o_0 = θ_y, o_k = θ_{s_k} − log(m q̃_{s_k}); w = softmax(o);
  g̃ = (w_0 − 1) e_y + Σ_k w_k e_{s_k}.
- **NCE** (Gutmann & Hyvärinen 2010): Δ_j = θ_j − c − log(k q_j);
  g̃ = −σ(−Δ_y) e_y + Σ_i σ(Δ_{s_i}) e_{s_i}.
"""
from __future__ import annotations

import itertools
import math

import numpy as np


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def ssm_draw(theta, y: int, q, samples) -> np.ndarray:
    """g̃ of canonical SSM for one draw of negatives ``samples`` (a sequence of class indices)."""
    theta, q = np.asarray(theta, float), np.asarray(q, float)
    m = len(samples)
    qt = q / (1.0 - q[y])
    logits = [theta[y]]
    for s in samples:
        if s == y:
            raise ValueError("samples must be negatives (≠ y) for canonical SSM")
        logits.append(theta[s] - math.log(m * qt[s]))
    top = max(logits)
    e = [math.exp(o - top) for o in logits]
    tot = sum(e)
    g = np.zeros(theta.size)
    g[y] += e[0] / tot - 1.0
    for s, ek in zip(samples, e[1:]):
        g[s] += ek / tot
    return g


def nce_draw(theta, y: int, q, samples, c: float) -> np.ndarray:
    """g̃ of NCE for one draw of k noise samples ``samples`` and normalizer ``c``."""
    theta, q = np.asarray(theta, float), np.asarray(q, float)
    k = len(samples)
    g = np.zeros(theta.size)
    g[y] -= _sigmoid(-(theta[y] - c - math.log(k * q[y])))
    for s in samples:
        g[s] += _sigmoid(theta[s] - c - math.log(k * q[s]))
    return g


def exact_moments(method: str, theta, y: int, q, m: int, c: float | None = None) -> dict:
    """Exact mean, bias², variance, MSE and E‖g̃‖² of SSM (m negatives from q conditioned
    on j ≠ y) or NCE (k = m noise samples from q, normalizer c), by enumerating every
    multiset of draws with its multinomial probability m!/Π c_j! · Π p_j^{c_j}."""
    theta, q = np.asarray(theta, float), np.asarray(q, float)
    q = q / q.sum()  # the ground truth of the float64-normalized proposal (as numerics/apx/exact.py)
    n = theta.size
    if method == "ssm":
        draw_p = q.copy()
        draw_p[y] = 0.0
        draw_p /= draw_p.sum()

        def one(s):
            return ssm_draw(theta, y, q, s)
    elif method == "nce":
        if c is None:
            raise ValueError("c is required for NCE")
        draw_p = q / q.sum()

        def one(s):
            return nce_draw(theta, y, draw_p, s, c)
    else:
        raise ValueError(f"method must be 'ssm' or 'nce', got {method!r}")
    support = [j for j in range(n) if draw_p[j] > 0]
    grads, weights = [], []
    for combo in itertools.combinations_with_replacement(support, m):
        counts = {j: combo.count(j) for j in set(combo)}
        logw = math.lgamma(m + 1) + sum(cj * math.log(draw_p[j]) - math.lgamma(cj + 1) for j, cj in counts.items())
        weights.append(math.exp(logw))
        grads.append(one(combo))
    G, w = np.array(grads), np.array(weights)
    e = np.exp(theta - theta.max())
    g = e / e.sum()
    g[y] -= 1.0
    mean = w @ G
    return {"mean": mean, "bias2": float(((mean - g) ** 2).sum()),
            "variance": float(w @ ((G - mean) ** 2).sum(1)), "mse": float(w @ ((G - g) ** 2).sum(1)),
            "second_moment": float(w @ (G * G).sum(1)), "total_weight": float(w.sum()), "outcomes": len(w)}
