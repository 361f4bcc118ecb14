"""Hypothesis strategies shared by the numeric checks and the tests.

* :func:`scores` -- score vectors θ (float64 numpy, shape (n,)) mixing ordinary Gaussian
  values at several scales, exact ties, huge spreads (|θ_i| up to 1e4), all-equal
  vectors and the smallest case n = 2.
* :func:`simplex_points` -- label vectors on the simplex Δ_n.
* :func:`capped_points` -- label vectors on the capped simplex C_k = {p ∈ [0,1]^n : Σp = k}.

The bulk values are drawn by a numpy generator seeded from a hypothesis-drawn integer
(and an optional ``salt``, e.g. the run seed), so large vectors are cheap to generate and
every example is reproducible from its ``(kind, n, scale, seed)`` draw.  The structure
(n, kind, scale, number of ties) is drawn by hypothesis itself.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

SCALES = (1e-3, 0.1, 1.0, 3.0, 10.0, 100.0)
KINDS = ("normal", "ties", "huge", "equal", "mixed")


def _rng(seed: int, salt: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(salt) & 0xFFFFFFFF])


def _sizes(min_n: int, max_n: int) -> st.SearchStrategy[int]:
    """Small n is where edge cases live; n = min_n (usually 2) is drawn often."""
    small = min(max_n, max(min_n, 8))
    return st.one_of(st.just(min_n), st.integers(min_n, small), st.integers(min_n, max_n))


def scores(min_n: int = 2, max_n: int = 200, *, salt: int = 0, kinds: tuple[str, ...] = KINDS,
           max_abs: float = 1e4) -> st.SearchStrategy[np.ndarray]:
    """Float64 score vectors θ of length n ∈ [min_n, max_n].

    kinds: ``normal`` N(0, s²) for s in :data:`SCALES`; ``ties`` normal values with a random
    subset replaced by copies of other entries (exact repeats, including the maximum);
    ``huge`` uniform on [−max_abs, max_abs]; ``equal`` all entries equal to one constant;
    ``mixed`` a few entries of size ~max_abs among small ones.  Never NaN/inf."""
    if min_n < 1 or max_n < min_n:
        raise ValueError(f"need 1 ≤ min_n ≤ max_n, got min_n={min_n}, max_n={max_n}")
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"kinds must be drawn from {KINDS}, got {sorted(unknown)}")

    @st.composite
    def build(draw) -> np.ndarray:
        n = draw(_sizes(min_n, max_n))
        kind = draw(st.sampled_from(kinds))
        scale = draw(st.sampled_from(SCALES))
        rng = _rng(draw(st.integers(0, 2**32 - 1)), salt)
        if kind == "normal":
            theta = rng.normal(0.0, scale, n)
        elif kind == "ties":
            theta = np.round(rng.normal(0.0, scale, n), 1) if draw(st.booleans()) else rng.normal(0.0, scale, n)
            n_tied = draw(st.integers(1, max(1, n - 1)))
            src = rng.integers(0, n, n_tied)
            if draw(st.booleans()):  # tie at the top: several copies of the maximum
                src[:] = int(np.argmax(theta))
            theta[rng.choice(n, n_tied, replace=False)] = theta[src]
        elif kind == "huge":
            theta = rng.uniform(-max_abs, max_abs, n)
        elif kind == "equal":
            theta = np.full(n, draw(st.sampled_from((0.0, 1.0, -3.5, max_abs, -max_abs))))
        else:  # mixed
            theta = rng.normal(0.0, scale, n)
            m = draw(st.integers(1, max(1, n // 2)))
            theta[rng.choice(n, m, replace=False)] = rng.choice([-1.0, 1.0], m) * max_abs * rng.uniform(0.5, 1, m)
        return np.clip(theta, -max_abs, max_abs).astype(np.float64)

    return build()


def simplex_points(n: int, *, salt: int = 0) -> st.SearchStrategy[np.ndarray]:
    """Points of Δ_n (float64, entries ≥ 0, sum 1 up to rounding): vertices, the
    barycentre, Dirichlet draws (dense, or on a random support) and two-point mixtures."""

    @st.composite
    def build(draw) -> np.ndarray:
        rng = _rng(draw(st.integers(0, 2**32 - 1)), salt)
        kind = draw(st.sampled_from(("vertex", "uniform", "dirichlet", "sparse", "edge")))
        p = np.zeros(n)
        if kind == "vertex":
            p[draw(st.integers(0, n - 1))] = 1.0
        elif kind == "uniform":
            p[:] = 1.0 / n
        elif kind == "dirichlet":
            p = rng.dirichlet(np.full(n, draw(st.sampled_from((0.1, 1.0, 10.0)))))
        elif kind == "sparse":
            m = draw(st.integers(1, n))
            idx = rng.choice(n, m, replace=False)
            p[idx] = rng.dirichlet(np.ones(m))
        else:
            i, j = rng.choice(n, 2, replace=False) if n > 1 else (0, 0)
            t = draw(st.floats(0.0, 1.0))
            p[i] += t
            p[j] += 1.0 - t
        return p / p.sum()

    return build()


def capped_points(n: int, k: int, *, salt: int = 0) -> st.SearchStrategy[np.ndarray]:
    """Points of C_k = {p ∈ [0,1]^n : Σp = k} (1 ≤ k ≤ n): multi-hot vertices, the
    barycentre k/n, and convex combinations of a few random multi-hot vertices."""
    if not 1 <= k <= n:
        raise ValueError(f"k must lie in [1, n] = [1, {n}], got {k}")

    @st.composite
    def build(draw) -> np.ndarray:
        rng = _rng(draw(st.integers(0, 2**32 - 1)), salt)
        kind = draw(st.sampled_from(("vertex", "uniform", "mixture")))
        if kind == "uniform":
            return np.full(n, k / n)
        m = 1 if kind == "vertex" else draw(st.integers(2, 5))
        w = rng.dirichlet(np.ones(m)) if m > 1 else np.ones(1)
        p = np.zeros(n)
        for wi in w:
            v = np.zeros(n)
            v[rng.choice(n, k, replace=False)] = 1.0
            p += wi * v
        return np.clip(p, 0.0, 1.0)

    return build()
