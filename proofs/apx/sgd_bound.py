"""The SGD neighbourhood bound behind APX-6 (biased, noisy gradients on a strongly convex F).

Setting: F μ-strongly convex and L-smooth, step η ∈ (0, 2/(μ + L)], iterates
``w_{t+1} = w_t − η g̃(w_t)`` with ``g̃(w) = ∇F(w) + β(w) + ξ``, ``‖β(w)‖ ≤ b`` (bias) and
``E[ξ | w] = 0``, ``E[‖ξ‖² | w] ≤ σ²`` (variance).  The gradient step contracts,
``‖w − η∇F(w) − (w* − η∇F(w*))‖ ≤ (1 − ημ)‖w − w*‖`` (for η ≤ 2/(μ + L)), so with
``s_t = (E‖w_t − w*‖²)^{1/2}`` and ρ = 1 − ημ:

    s_{t+1}² ≤ (ρ s_t + η b)² + η² σ²,

whose right side is increasing in s_t; hence ``limsup s_t ≤ s*``, the positive root of
``s² = (ρ s + η b)² + η² σ²``:

    s* = [ρ η b + sqrt(ρ² η² b² + (1 − ρ²) η² (b² + σ²))] / (1 − ρ²).

Limits: σ = 0 gives s* = b/μ; b = 0 gives s*² = η σ² / (μ (2 − η μ)).
(The symbolic derivation of this root and its monotonicity is ``proofs/apx/sgd.py``.)
"""
from __future__ import annotations

import math


def neighbourhood_radius(b: float, sigma2: float, eta: float, mu: float) -> float:
    """s* above: the bound on limsup (E‖w_t − w*‖²)^{1/2}; needs 0 < η μ < 1, b, σ² ≥ 0."""
    if not (b >= 0 and sigma2 >= 0):
        raise ValueError(f"b and sigma2 must be ≥ 0, got b = {b!r}, sigma2 = {sigma2!r}")
    if not (eta > 0 and mu > 0 and eta * mu < 1):
        raise ValueError(f"need eta > 0, mu > 0 and eta * mu < 1, got eta = {eta!r}, mu = {mu!r}")
    rho = 1.0 - eta * mu
    den = 1.0 - rho * rho
    return (rho * eta * b + math.sqrt((rho * eta * b) ** 2 + den * eta * eta * (b * b + sigma2))) / den


def radius_after(t: int, s0: float, b: float, sigma2: float, eta: float, mu: float) -> float:
    """The bound on s_t after t steps from s_0, by iterating the scalar recursion."""
    rho, s = 1.0 - eta * mu, float(s0)
    for _ in range(int(t)):
        s = math.sqrt((rho * s + eta * b) ** 2 + (eta * eta) * sigma2)
    return s
