"""Sampling estimators of the Softmax gradient: proposals, samplers, SSM and NCE
(definitions in the module docstring of losses/approx.py, which re-exports every name)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import ArgumentTypeError, scan_scores
from .approx_common import (_check_2d, _check_count, _check_distribution, _check_float_tensor, _check_real,
                            _check_samples, _check_unmasked_samples, check_labels, restrict_proposal)


# ---------------------------------------------------------------- proposals and sampling
def uniform_proposal(n: int, *, dtype=torch.float64, device=None) -> Tensor:
    """Uniform over the n classes (for canonical SSM: uniform over the negatives)."""
    n = _check_count(n, "n")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ArgumentTypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    return torch.full((n,), 1.0 / n, dtype=dtype, device=device)


def unigram_proposal(counts: Tensor, power: float = 1.0) -> Tensor:
    """Popularity proposal ``q_j ∝ counts_j^power`` (power 0.75 is word2vec's choice,
    Mikolov et al. 2013).

    ``counts``: a 1-D tensor of finite, non-negative frequencies (integer or floating, not
    bool) with a positive total; integer counts give a float64 q, floating counts a q in
    their dtype.  ``power``: a finite real.  power > 0 favours popular classes and gives a
    zero count zero mass; power = 0 is uniform over all n classes (``c⁰ = 1``, torch's
    convention for c = 0 too); power < 0 favours rare classes and needs every count > 0
    (a zero count would get the weight ``0^power = ∞``).  When the weights ``c^power``
    overflow or underflow the dtype, q is formed in float64 as
    ``exp(power (log c − log c*)) / Σ``, c* the count of largest weight: the same q in exact
    arithmetic, to a relative ``|power log(c/c*)|·eps`` (the condition number of ``c^power``)."""
    if not isinstance(counts, Tensor):
        raise ArgumentTypeError(f"counts must be a 1-D torch.Tensor of class frequencies, got {type(counts).__name__}")
    if counts.dtype == torch.bool or counts.is_complex():
        raise ArgumentTypeError(f"counts must hold real class frequencies, got dtype {counts.dtype}")
    if counts.dim() != 1:
        raise ValueError(f"counts must be a 1-D tensor of class frequencies, got shape {tuple(counts.shape)}")
    p = _check_real(power, "power")
    counts = counts.double() if not counts.is_floating_point() else counts
    if not bool(torch.isfinite(counts).all()) or bool((counts < 0).any()):
        raise ValueError("counts must be finite and non-negative")
    if not bool((counts > 0).any()):
        raise ValueError("counts must have positive total mass")
    if p < 0 and bool((counts == 0).any()):
        raise ValueError(f"power = {power!r} < 0 gives a zero count infinite weight (0^power = ∞): counts must be "
                         "positive for a negative power (add a pseudo-count, e.g. counts + 1)")
    w = counts ** power if power != 1.0 else counts
    total = w.sum()
    if bool(torch.isfinite(total)) and float(total) >= torch.finfo(w.dtype).tiny:
        return w / total
    # c^power overflowed (to inf, or its sum did) or underflowed below the normal range
    # (float16 counts can overflow for power 0 too: 0⁰ = 1 is kept there)
    lc = torch.log(counts.double())                     # −inf at a zero count, whose weight is 0 for power > 0
    ref = lc.max() if p > 0 else lc[counts > 0].min()   # log c*: every exponent below is ≤ 0, none overflows
    w = torch.exp(p * (lc - ref)) if p != 0 else torch.ones_like(lc)
    return (w / w.sum()).to(counts.dtype)


def mixture_proposal(q1: Tensor, q2: Tensor, weight: float) -> Tensor:
    """``weight · q1 + (1 − weight) · q2`` for weight in [0, 1]."""
    if not (0.0 <= _check_real(weight, "weight") <= 1.0):
        raise ValueError(f"weight must lie in [0, 1], got {weight!r}")
    for name, q in (("q1", q1), ("q2", q2)):
        _check_float_tensor(q, name)
        _check_distribution(q, name)
    if q1.shape != q2.shape:
        raise ValueError(f"q1 and q2 must have the same shape, got {tuple(q1.shape)} and {tuple(q2.shape)}")
    return weight * q1 + (1 - weight) * q2


def ideal_proposal(theta: Tensor, y: Tensor | None = None) -> Tensor:
    """``q ∝ exp θ`` (B, n); with ``y``, restricted to the negatives (``q_y = 0``); zero on
    masked classes (θ = −inf)."""
    scan_scores(theta)
    if y is None:
        return torch.softmax(theta, -1)
    theta, y = _check_2d(theta, y)
    return torch.softmax(theta.scatter(-1, y[:, None], float("-inf")), -1)


def negative_proposal(q: Tensor, theta: Tensor, y: Tensor, name: str = "q") -> Tensor:
    """The canonical SSM proposal ``q̃ = q`` conditioned on j ≠ y and on the row's unmasked
    classes: (B, n), zero at y and where θ = −inf."""
    theta, y = _check_2d(theta, y)
    q = restrict_proposal(q, theta, name)
    qt = q.scatter(-1, y[:, None], 0.0)
    mass = qt.sum(-1, keepdim=True)
    if bool((mass <= 0).any()):
        raise ValueError(f"{name} puts zero mass on every negative class of some row; SSM cannot sample a negative")
    return qt / mass


def sample(q: Tensor, m: int, generator: torch.Generator | None = None, *, batch: int | None = None,
           exclude: Tensor | None = None) -> Tensor:
    """m i.i.d. draws with replacement from q: (B, m) class indices.

    ``q`` (n,) or (B, n).  ``exclude`` (B,) draws from q conditioned on j ≠ exclude_b (the
    canonical SSM proposal over the negatives).  ``batch`` sets B for a shared (n,) q."""
    m = _check_count(m, "m")
    _check_float_tensor(q, "q")
    if q.dim() not in (1, 2):
        raise ValueError(f"q must have shape (n,) or (B, n), got {tuple(q.shape)}")
    if q.shape[-1] > 2 ** 24:      # torch.multinomial's limit on the number of categories
        raise ValueError(f"q has n = {q.shape[-1]} classes; the sampler takes at most 2^24")
    _check_distribution(q, "q")
    if batch is not None:
        batch = _check_count(batch, "batch", least=0)
    if exclude is not None and not isinstance(exclude, Tensor):
        raise ArgumentTypeError(f"exclude must be a torch.Tensor of class indices, got {type(exclude).__name__}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ArgumentTypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    B = q.shape[0] if q.dim() == 2 else (exclude.shape[0] if exclude is not None and exclude.dim() else
                                         (batch if batch is not None else 1))
    w = q.expand(B, q.shape[-1]) if q.dim() == 1 else q
    if batch is not None and batch != B:
        raise ValueError(f"batch = {batch} does not match q's rows {B}")
    if exclude is not None:
        exclude = check_labels(exclude, w, "exclude")
        w = w.scatter(-1, exclude[:, None].to(w.device), 0.0)
        if bool((w.sum(-1) <= 0).any()):
            raise ValueError("q puts zero mass on every class outside exclude for some row")
    return torch.multinomial(w, m, replacement=True, generator=generator)


# ---------------------------------------------------------------- SSM
def ssm_kernel(o_pos: Tensor, o_neg: Tensor) -> tuple[Tensor, Tensor]:
    """The SSM estimator on gathered logits, shared by :func:`ssm_grad` and the Monte Carlo.

    ``o_pos`` (B, 1) the corrected positive logit, ``o_neg`` (B, m) the corrected sample
    logits (−∞ for removed accidental hits) → (loss (B,), values (B, 1 + m)): the sparse
    gradient ``g̃ = (w_0 − 1) e_y + Σ_k w_k e_{s_k}`` at the indices ``[y, s_1 … s_m]``."""
    o = torch.cat([o_pos, o_neg], -1)
    lse = torch.logsumexp(o, -1, keepdim=True)
    w = torch.exp(o - lse)
    return (lse - o_pos)[:, 0], torch.cat([w[:, :1] - 1, w[:, 1:]], -1)


def _mass_at(q: Tensor, y: Tensor, samples: Tensor, why: str) -> tuple[Tensor, Tensor]:
    """(q_y (B, 1), q at the samples (B, m)), both positive: each enters a log."""
    qy, qs = q.gather(-1, y[:, None]), q.gather(-1, samples)
    if bool((qy <= 0).any()):
        raise ValueError(f"q has zero mass on the label y; {why}")
    if bool((qs <= 0).any()):
        raise ValueError("samples contain a class of zero proposal mass (log q = −∞)")
    return qy, qs


def _ssm_logits(theta, y, samples, q, variant, remove_accidental_hits):
    if not isinstance(variant, str) or variant not in ("canonical", "tf"):
        raise ValueError(f"variant must be 'canonical' or 'tf', got {variant!r}")
    if not isinstance(remove_accidental_hits, bool):
        raise ArgumentTypeError(f"remove_accidental_hits must be a bool, got {type(remove_accidental_hits).__name__}")
    theta, y = _check_2d(theta, y)
    samples = _check_samples(samples, theta)
    _check_unmasked_samples(samples, theta)
    m = samples.shape[1]
    pos = theta.gather(-1, y[:, None])                                     # (B, 1)
    neg = theta.gather(-1, samples)                                        # (B, m)
    if variant == "canonical":
        qt = negative_proposal(q, theta, y)
        if bool((samples == y[:, None]).any()):
            raise ValueError("samples contain the label y; canonical SSM draws negatives only (use variant='tf')")
        qs = qt.gather(-1, samples)
        if bool((qs <= 0).any()):
            raise ValueError("samples contain a class of zero proposal mass (log q̃ = −∞)")
        return theta, y, samples, pos, neg - torch.log(m * qs)
    qy, qs = _mass_at(restrict_proposal(q, theta), y, samples, "the TF-style SSM corrects the positive by log(m q_y)")
    on = neg - torch.log(m * qs)
    if remove_accidental_hits:
        on = on.masked_fill(samples == y[:, None], float("-inf"))
    return theta, y, samples, pos - torch.log(m * qy), on


def ssm_loss(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor, *, variant: str = "canonical",
             remove_accidental_hits: bool = True) -> Tensor:
    """Sampled-softmax loss ``−o_0 + logsumexp(o)`` (B,); see the module docstring."""
    _, _, _, o_pos, o_neg = _ssm_logits(theta, y, samples, q, variant, remove_accidental_hits)
    return torch.logsumexp(torch.cat([o_pos, o_neg], -1), -1) - o_pos[:, 0]


def ssm_grad(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor, *, variant: str = "canonical",
             remove_accidental_hits: bool = True) -> tuple[Tensor, Tensor]:
    """(loss (B,), g̃ (B, n)) with ``g̃ = (w_0 − 1) e_y + Σ_k w_k e_{s_k}``, w = softmax(o)."""
    theta, y, samples, o_pos, o_neg = _ssm_logits(theta, y, samples, q, variant, remove_accidental_hits)
    loss, vals = ssm_kernel(o_pos, o_neg)
    return loss, densify(torch.cat([y[:, None], samples], -1), vals, theta.shape[1])


def densify(index: Tensor, values: Tensor, n: int) -> Tensor:
    """Sparse rows (B, K) of (index, value) pairs, repeated indices summed → dense (B, n)."""
    return torch.zeros(index.shape[0], n, dtype=values.dtype, device=values.device).scatter_add_(-1, index, values)


# ---------------------------------------------------------------- NCE
def nce_kernel(d_pos: Tensor, d_neg: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The NCE estimator on gathered ``Δ`` (shared by :func:`nce_grad` and the Monte Carlo):
    ``d_pos`` (B, 1), ``d_neg`` (B, k) → (loss (B,), values (B, 1 + k) of the sparse
    ``g̃ = −σ(−Δ_y) e_y + Σ_i σ(Δ_{s_i}) e_{s_i}`` at ``[y, s_1 … s_k]``, ∂loss/∂c (B,))."""
    loss = F.softplus(-d_pos[:, 0]) + F.softplus(d_neg).sum(-1)
    a = torch.sigmoid(-d_pos)                                               # 1 − σ(Δ_y)
    b = torch.sigmoid(d_neg)
    return loss, torch.cat([-a, b], -1), a[:, 0] - b.sum(-1)


def _nce_parts(theta, y, samples, q, c):
    theta, y = _check_2d(theta, y)
    samples = _check_samples(samples, theta)
    _check_unmasked_samples(samples, theta)
    k = samples.shape[1]
    qy, qs = _mass_at(restrict_proposal(q, theta), y, samples, "NCE needs log(k q_y)")
    c = check_normalizer(c, theta)
    d_pos = theta.gather(-1, y[:, None]) - c - torch.log(k * qy)            # (B, 1)
    d_neg = theta.gather(-1, samples) - c - torch.log(k * qs)               # (B, k)
    return theta, y, samples, d_pos, d_neg


def check_normalizer(c, theta: Tensor) -> Tensor:
    """NCE's c: a scalar or one per row, finite → broadcastable (1, 1) or (B, 1)."""
    if isinstance(c, bool) or (isinstance(c, Tensor) and (c.dtype == torch.bool or c.is_complex())):
        raise ArgumentTypeError(f"c must be a real number or a real tensor, got {c!r}")
    try:
        c = torch.as_tensor(c, dtype=theta.dtype, device=theta.device)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ArgumentTypeError(f"c must be a real number or a real tensor, got {type(c).__name__} ({e})") from None
    if c.dim() > 1 or (c.dim() == 1 and c.shape[0] != theta.shape[0]):
        raise ValueError(f"c must be a scalar or have shape ({theta.shape[0]},), got {tuple(c.shape)}")
    if not bool(torch.isfinite(c).all()):
        raise ValueError("c must be finite")
    return c.reshape(-1, 1)


def nce_loss(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor, c: float | Tensor = 0.0) -> Tensor:
    """``−log σ(Δ_y) − Σ_i log(1 − σ(Δ_{s_i}))`` (B,), ``Δ_j = θ_j − c − log(k q_j)``."""
    _, _, _, d_pos, d_neg = _nce_parts(theta, y, samples, q, c)
    return F.softplus(-d_pos[:, 0]) + F.softplus(d_neg).sum(-1)


def nce_grad(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor,
             c: float | Tensor = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """(loss (B,), g̃ (B, n), ∂loss/∂c (B,)); ``g̃ = −σ(−Δ_y) e_y + Σ_i σ(Δ_{s_i}) e_{s_i}``."""
    theta, y, samples, d_pos, d_neg = _nce_parts(theta, y, samples, q, c)
    loss, vals, dc = nce_kernel(d_pos, d_neg)
    return loss, densify(torch.cat([y[:, None], samples], -1), vals, theta.shape[1]), dc
