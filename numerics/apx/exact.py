"""Exact bias–variance ground truth for the approximate Softmax methods (APX).

For one example (θ ∈ ℝⁿ, label y) and an estimator ``g̃`` of ``g = softmax(θ) − e_y``:
``bias² = ‖E g̃ − g‖²``, ``variance = E‖g̃ − E g̃‖²``, ``MSE = bias² + variance``.

- Sampling methods (SSM, NCE): both estimators are symmetric in their samples, so the
  expectation over m i.i.d. draws is a finite sum over **multisets** (count vectors c
  with Σ c = m over the proposal's support) with multinomial weights
  ``m!/Π c_j! · Π q_j^{c_j}`` — C(m + r − 1, r − 1) terms (495 for m = 8 over r = 5
  negatives).  Each multiset goes through the estimator itself (``losses.approx``) as one
  row of a batch: enumeration and Monte Carlo share that code path.  ``mode="sequences"``
  enumerates all r^m ordered sequences instead (weights Π q), as a cross-check.
- NCE also has a closed form by linearity (its samples enter additively):
  ``E g̃ = −σ(−Δ_y) e_y + k q ⊙ σ(Δ)``, ``Var = k (Σ_j q_j σ(Δ_j)² − Σ_j q_j² σ(Δ_j)²)``.
- HSM and RG are deterministic: their variance is computed from ``CALLS`` independent
  calls of the estimator (0 exactly when the calls agree), not assumed.

Every estimator, proposal and normalizer is looked up at call time (``approx.ssm_grad``,
:func:`nce_noise`, :func:`canonical_c`, :data:`CANONICAL_THETA`, ...), so a planted defect
or truth (reports/apx/planted.py) enters by patching that attribute, as a bug would.

Everything is float64.  :func:`canonical` computes the canonical configuration of the
issue (θ = (2, 1, 0, −1, −2, 0.5), y = 0).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from losses import approx

CANONICAL_THETA = (2.0, 1.0, 0.0, -1.0, -2.0, 0.5)
CANONICAL_Y = 0
CANONICAL_M = (1, 2, 4, 8)
CANONICAL_K = (1, 2, 4, 8, 16)


def moments(grads: Tensor, weights: Tensor, g: Tensor) -> dict:
    """Exact moments of a discrete estimator: rows ``grads`` (M, n) with probabilities
    ``weights`` (M,) → mean (n,), bias2, variance, and mse computed directly as
    ``Σ w ‖g̃ − g‖²`` (not as their sum, so the decomposition can be checked), total weight."""
    grads, weights, g = grads.double(), weights.double(), g.double()
    mean = weights @ grads
    dev = grads - mean
    var = float(weights @ (dev * dev).sum(-1))
    bias2 = float(((mean - g) ** 2).sum())
    err = grads - g
    mse = float(weights @ (err * err).sum(-1))
    return {"mean": mean, "bias2": bias2, "variance": var, "mse": mse, "total_weight": float(weights.sum())}


def count_vectors(r: int, m: int) -> Tensor:
    """Every way to put m draws into r classes: (C(m + r − 1, r − 1), r) count vectors,
    built class by class (stars and bars), in lexicographic order."""
    counts = torch.zeros(1, 0, dtype=torch.long)
    left = torch.tensor([m])
    for _ in range(r - 1):
        reps = left + 1
        counts = counts.repeat_interleave(reps, 0)
        start = torch.cumsum(reps, 0) - reps
        c = torch.arange(int(reps.sum())) - start.repeat_interleave(reps)
        left = left.repeat_interleave(reps) - c
        counts = torch.cat([counts, c[:, None]], 1)
    return torch.cat([counts, left[:, None]], 1)


def multisets(q: Tensor, m: int, mode: str = "multisets") -> tuple[Tensor, Tensor]:
    """All outcomes of m i.i.d. draws from ``q`` (n,) restricted to its support.

    ``mode="multisets"``: sorted representatives (M, m) and multinomial probabilities (M,);
    ``mode="sequences"``: all ordered sequences (r^m, m) and products of q."""
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be an integer ≥ 1, got {m!r}")
    q = _dist(q)
    support = torch.nonzero(q > 0).flatten()
    if mode == "multisets":
        counts_s = count_vectors(support.numel(), m)
        seqs = torch.repeat_interleave(support.repeat(counts_s.shape[0]), counts_s.flatten()).view(-1, m)
        counts = torch.zeros(seqs.shape[0], q.shape[0], dtype=torch.float64)
        counts[:, support] = counts_s.double()
        logw = math.lgamma(m + 1) - torch.lgamma(counts + 1).sum(-1) + (counts * torch.log(q.clamp_min(1e-300))).sum(-1)
        return seqs, torch.exp(logw)
    if mode == "sequences":
        seqs = torch.cartesian_prod(*([support] * m)).reshape(-1, m)
        return seqs, q[seqs].prod(-1)
    raise ValueError(f"mode must be 'multisets' or 'sequences', got {mode!r}")


def _dist(q: Tensor) -> Tensor:
    """Check q in its own dtype, then renormalize in float64 (the ground truth is exact
    for the float64 version of q)."""
    if not isinstance(q, Tensor) or not q.is_floating_point() or q.dim() != 1:
        raise ValueError("q must be a floating-point tensor of shape (n,)")
    approx._check_distribution(q, "q")
    q = q.double()
    return q / q.sum()


def _vec(theta) -> Tensor:
    t = torch.as_tensor(theta, dtype=torch.float64)
    if t.dim() != 1:
        raise ValueError(f"theta must be one score vector (n,), got shape {tuple(t.shape)}")
    return t


def full_grad(theta, y: int) -> Tensor:
    t = _vec(theta)
    return approx.softmax_grad(t[None], torch.tensor([y]))[0]


def ssm_exact(theta, y: int, q: Tensor, m: int, *, variant: str = "canonical", mode: str = "multisets") -> dict:
    """Exact moments of the SSM estimator (canonical or TF-style) for proposal ``q`` (n,):
    every outcome goes through :func:`losses.approx.ssm_grad` (looked up at call time)."""
    t = _vec(theta)
    yy = torch.tensor([y])
    q = _dist(q)
    if variant == "canonical":
        draw = approx.negative_proposal(q, t[None], yy)[0]
    else:
        approx.check_proposal(q, t[None])
        draw = q
    seqs, w = multisets(draw, m, mode)
    M = seqs.shape[0]
    _, grads = approx.ssm_grad(t.expand(M, -1), yy.expand(M), seqs, q, variant=variant)
    return moments(grads, w, full_grad(t, y))


def nce_exact(theta, y: int, q: Tensor, k: int, c: float, *, mode: str = "closed") -> dict:
    """Exact moments of the NCE estimator: ``mode="closed"`` by linearity (any k),
    ``"multisets"``/``"sequences"`` by enumeration through ``approx.nce_grad``."""
    t = _vec(theta)
    q = _dist(q)
    approx.check_proposal(q, t[None])
    if mode == "closed":
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an integer ≥ 1, got {k!r}")
        if not float(q[y]) > 0:
            raise ValueError("q has zero mass on the label y; NCE needs log(k q_y)")
        sup = q > 0
        delta = torch.where(sup, t - c - torch.log(k * q.clamp_min(1e-300)), torch.zeros_like(t))
        s = torch.where(sup, torch.sigmoid(delta), torch.zeros_like(t))
        mean = k * q * s
        mean[y] -= torch.sigmoid(-delta[y])
        var = k * float((q * s * s).sum() - ((q * s) ** 2).sum())
        g = full_grad(t, y)
        bias2 = float(((mean - g) ** 2).sum())
        return {"mean": mean, "bias2": bias2, "variance": var, "mse": bias2 + var, "total_weight": 1.0}
    seqs, w = multisets(q, k, mode)
    M = seqs.shape[0]
    _, grads, _ = approx.nce_grad(t.expand(M, -1), torch.tensor([y]).expand(M), seqs, q, c)
    return moments(grads, w, full_grad(t, y))


CALLS = 3  # independent evaluations of a deterministic estimator (module docstring)


def _deterministic(t: Tensor, y: int, call) -> dict:
    """Moments of the empirical law of ``CALLS`` independent calls of an estimator that
    claims to be deterministic: the variance is computed, not assumed (it is 0 exactly
    when every call returns the same g̃)."""
    grads = torch.cat([call() for _ in range(CALLS)], 0)
    if all(torch.equal(grads[0], r) for r in grads[1:]):  # one outcome: the point mass (variance exactly 0)
        return moments(grads[:1], torch.ones(1, dtype=torch.float64), full_grad(t, y))
    return moments(grads, torch.full((CALLS,), 1.0 / CALLS, dtype=torch.float64), full_grad(t, y))


def hsm_exact(theta, y: int, tree: approx.Tree) -> dict:
    """Reading H2 (tied, ``u = tree.tie @ θ``), deterministic: every call goes through
    :func:`losses.approx.hsm_grad` (looked up at call time)."""
    t = _vec(theta)
    return _deterministic(t, y, lambda: approx.hsm_grad(t[None], torch.tensor([y]), tree)[1])


def rg_exact(theta, y: int, kind: str) -> dict:
    """RG² / RG×, deterministic: every call goes through :func:`losses.approx.rg_grad`
    (looked up at call time)."""
    t = _vec(theta)
    return _deterministic(t, y, lambda: approx.rg_grad(t[None], torch.tensor([y]), kind)[1])


def _figures(key: str | None, xs, rows: list[dict], reading: str) -> dict:
    out = {"reading": reading} | ({key: list(xs)} if key else {})
    return out | {
        "bias2": [float(r["bias2"]) for r in rows],
        "variance": [float(r["variance"]) for r in rows],
        "mse": [float(r["mse"]) for r in rows],
    }


def canonical_proposal(reading: str, theta: Tensor, y: int) -> Tensor:
    """The proposal q (n,) of an SSM reading: 'uniform' (over the classes; canonical SSM
    conditions it on the negatives) or 'ideal' (∝ exp θ on the negatives)."""
    if reading == "uniform":
        return approx.uniform_proposal(theta.shape[0])
    if reading == "ideal":
        return approx.ideal_proposal(theta[None], torch.tensor([y]))[0]
    raise ValueError(f"reading for ssm must be 'uniform' or 'ideal', got {reading!r}")


def canonical_theta() -> Tensor:
    """The canonical score vector :data:`CANONICAL_THETA` as a float64 tensor (read at call time)."""
    return torch.tensor(CANONICAL_THETA, dtype=torch.float64)


def nce_noise(theta: Tensor) -> Tensor:
    """NCE's noise distribution in the canonical readings: uniform over all n classes."""
    return approx.uniform_proposal(theta.shape[0])


def canonical_c(reading: str, theta: Tensor) -> float:
    """NCE's normalizer of a reading: 'c=logZ' (log Σ exp θ) or 'c=0'."""
    if reading == "c=logZ":
        return float(torch.logsumexp(theta, 0))
    if reading == "c=0":
        return 0.0
    raise ValueError(f"reading for nce must be 'c=logZ' or 'c=0', got {reading!r}")


def canonical(method: str, reading: str) -> dict:
    """The canonical configuration θ = (2, 1, 0, −1, −2, 0.5), y = 0 (n = 6).

    ``("ssm", "uniform")``: canonical SSM, q uniform over the 5 negatives, m ∈ {1, 2, 4, 8};
    ``("ssm", "ideal")``: q̃ ∝ exp θ on the negatives (bias² computed, not assumed);
    ``("nce", "c=logZ")`` / ``("nce", "c=0")``: noise uniform over all 6 classes,
    k ∈ {1, 2, 4, 8, 16}, by enumeration of every multiset (so the MSE is computed
    directly; the closed form by linearity carries the long series);
    ``("hsm", "balanced-H2")``: :func:`losses.approx.balanced_tree` (6) = ((0, 1), 2) | ((3, 4), 5),
    reading H2 with user vector θ and item vectors the standard basis e_j (so leaf scores
    are θ_j and node scores are the mean of θ over the node's leaves);
    ``("rg", "rg2")`` / ``("rg", "rgx")``.
    Returns {"reading", "m" or "k" (sampling methods), "bias2", "variance", "mse"} with
    float64 lists; deterministic methods give one-element lists."""
    t = canonical_theta()
    y, n = CANONICAL_Y, t.shape[0]
    name = f"{method}/{reading}"
    if method == "ssm":
        q = canonical_proposal(reading, t, y)
        return _figures("m", CANONICAL_M, [ssm_exact(t, y, q, m) for m in CANONICAL_M], name)
    if method == "nce":
        c = canonical_c(reading, t)
        q = nce_noise(t)
        return _figures("k", CANONICAL_K, [nce_exact(t, y, q, k, c, mode="multisets") for k in CANONICAL_K], name)
    if method == "hsm":
        if reading != "balanced-H2":
            raise ValueError(f"reading for hsm must be 'balanced-H2', got {reading!r}")
        return _figures(None, (), [hsm_exact(t, y, approx.balanced_tree(n))], name)
    if method == "rg":
        if reading not in ("rg2", "rgx"):
            raise ValueError(f"reading for rg must be 'rg2' or 'rgx', got {reading!r}")
        return _figures(None, (), [rg_exact(t, y, reading)], name)
    raise ValueError(f"method must be 'ssm', 'nce', 'hsm' or 'rg', got {method!r}")
