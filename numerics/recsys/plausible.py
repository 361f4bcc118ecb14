"""Plausible configurations of a tuned method: every configuration that validation cannot
tell from the best, by multiple comparisons with the best (Hsu 1996; issue 21 §3).

Data.  One method's tuning record holds, for each of its k configurations c and each of S
tuning seeds s, the per-user validation NDCG@20 ``X[c, s, u]`` (u over the U validation
users, the same users for every configuration).  Let ``v_c = mean_s X[c, s]`` (per user)
and ``μ̂_c = mean_u v_c``.

Noise.  A paired difference of two configurations on the same users has two sources of
noise: the users (``var_u(v_c − v_j) / U``) and the training seed, which moves a whole
run's mean.  The seed variance of one run's mean, ``τ²``, is pooled over the method's
configurations from the spread of their seed means ``m_{cs} = mean_u X[c, s]``:
``τ̂² = (1/k) Σ_c var_s(m_{cs})`` (ddof 1; k (S − 1) degrees of freedom); a seed average
has variance ``τ²/S``.  So ``se²_{cj} = var_u(v_c − v_j)/U + 2 τ̂²/S``.

Rule (Hsu's constrained MCB).  The upper bound of ``μ_c − max_{j≠c} μ_j`` is
``D⁺_c = min_{j≠c} (μ̂_c − μ̂_j + q se_{cj})``; c is plausible (possibly the best) when
``D⁺_c > 0``, i.e. when no other configuration is significantly above it, one-sided, at
simultaneous level ``1 − α``.  The best configuration is always plausible.  Hsu's constant
q is the one-sided Dunnett quantile of k − 1 comparisons; we use its Bonferroni bound
``q = Φ⁻¹(1 − α/(k − 1))`` (normal: U is in the hundreds), which is larger, so the set can
only grow: conservative for verdicts that must hold over the whole set.  α =
:data:`ALPHA`, stated before the run (issue 21).

Reference.  J. C. Hsu, "Multiple Comparisons: Theory and Methods", Chapman & Hall 1996,
§4.1 (multiple comparisons with the best).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: the simultaneous level of the plausible sets is 1 − ALPHA (fixed before the sweep)
ALPHA = 0.05


@dataclass(frozen=True)
class Plausible:
    members: tuple[int, ...]     # indices of the plausible configurations, best first, then by mean
    best: int
    q: float                     # the one-sided critical value
    tau2: float                  # pooled seed variance of one run's mean validation NDCG@20
    mean: tuple[float, ...]      # μ̂_c
    bound: tuple[float, ...]     # D⁺_c (the best's is +inf when k = 1)


def plausible(scores: np.ndarray, alpha: float = ALPHA) -> Plausible:
    """The plausible configurations of one method (module docstring) from its per-user
    validation scores ``scores`` of shape (k configurations, S ≥ 2 seeds, U users)."""
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"scores must have shape (configurations, seeds, users), got {x.shape}")
    k, S, U = x.shape
    if k < 1 or S < 2 or U < 2:
        raise ValueError(f"scores needs ≥ 1 configuration, ≥ 2 seeds and ≥ 2 users, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("scores has non-finite values")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    v = x.mean(axis=1)                                   # (k, U)
    mu = v.mean(axis=1)
    tau2 = float(x.mean(axis=2).var(axis=1, ddof=1).mean())
    best = int(np.argmax(mu))                            # ties: the earlier configuration
    if k == 1:
        return Plausible((0,), 0, math.inf, tau2, (float(mu[0]),), (math.inf,))
    q = float(stats.norm.isf(alpha / (k - 1)))
    diff = v[:, None, :] - v[None, :, :]                 # (k, k, U), small: k ≤ a few dozen
    se = np.sqrt(diff.var(axis=2, ddof=1) / U + 2 * tau2 / S)
    gap = mu[:, None] - mu[None, :] + q * se
    np.fill_diagonal(gap, np.inf)
    bound = gap.min(axis=1)
    members = [c for c in sorted(range(k), key=lambda c: (c != best, -mu[c], c)) if bound[c] > 0]
    return Plausible(tuple(members), best, q, tau2, tuple(float(m) for m in mu), tuple(float(b) for b in bound))
