"""Pieces shared by the approximate Softmax estimators (losses/approx.py): the full-softmax
score gradient they estimate, MF scores at gathered indices, and input validation."""
from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_index_target, domain_tol, scan_scores


def softmax_grad(theta: Tensor, y: Tensor) -> Tensor:
    """The full-softmax score gradient ``g = softmax(θ) − e_y`` (B, n); −inf masks a class."""
    _check_2d(theta, y)
    g = torch.softmax(theta, -1)
    return g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))


def scores_at(user: Tensor, items: Tensor, index: Tensor) -> Tensor:
    """MF scores ``⟨user_b, items_{index[b, …]}⟩`` for gathered indices only.

    ``user`` (B, d), ``items`` (n, d), ``index`` (B, …) → (B, …); the sampled losses need
    the scores of y and of the samples, not all n (``θ = user @ items.T`` for the
    full-score forms).  Differentiable in ``user`` and ``items``."""
    return torch.einsum("bd,b...d->b...", user, items[index])


def _check_2d(theta: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    _check_masked_2d(theta, y)
    return theta, y


def _check_masked_2d(theta: Tensor, y: Tensor) -> Tensor | None:
    """Scores (B, n) (−inf masks a class, as in torch) and labels (B,) on unmasked classes;
    returns the mask or None."""
    masked = scan_scores(theta)
    if theta.dim() != 2:
        raise ValueError(f"theta must have shape (B, n), got {tuple(theta.shape)}")
    check_index_target(y, theta, "y")
    if masked is not None and bool(masked.gather(-1, y[:, None]).any()):
        raise ValueError("y has a label on a masked class (theta = −inf there)")
    return masked


def restrict_proposal(q: Tensor, theta: Tensor, name: str = "q") -> Tensor:
    """q conditioned on each row's unmasked classes (θ ≠ −inf): (B, n), zero where masked,
    so a masked class is never sampled (:func:`losses.approx.sample`)."""
    q = check_proposal(q, theta, name)
    masked = scan_scores(theta)
    if masked is None:
        return q
    q = q.masked_fill(masked, 0.0)
    mass = q.sum(-1, keepdim=True)
    if bool((mass <= 0).any()):
        raise ValueError(f"{name} puts zero mass on every unmasked class of some row")
    return q / mass


def _check_unmasked_samples(samples: Tensor, theta: Tensor) -> None:
    if bool(torch.isneginf(theta.gather(-1, samples)).any()):
        raise ValueError("samples contain a masked class (theta = −inf there); draw from "
                         "restrict_proposal(q, theta) or negative_proposal(q, theta, y)")


def check_proposal(q: Tensor, theta: Tensor, name: str = "q") -> Tensor:
    """A distribution over the n classes, (n,) or (B, n), cast to θ's dtype/device → (B, n)."""
    if not isinstance(q, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(q).__name__}")
    if not q.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {q.dtype}")
    B, n = theta.shape
    if q.shape not in ((n,), (B, n)):
        raise ValueError(f"{name} must have shape ({n},) or ({B}, {n}), got {tuple(q.shape)}")
    _check_distribution(q, name)
    return q.to(device=theta.device, dtype=theta.dtype).expand(B, n)


def _check_distribution(q: Tensor, name: str) -> None:
    if not bool(torch.isfinite(q).all()):
        raise ValueError(f"{name} is not a distribution: it contains NaN or infinite entries")
    if bool((q < 0).any()):
        raise ValueError(f"{name} is not a distribution: it has negative entries")
    s = q.sum(-1)
    tol = domain_tol(q.dtype, q.shape[-1])
    if bool(((s - 1).abs() > tol).any()):
        raise ValueError(f"{name} is not a distribution: its entries sum to {s.min().item():.6g}…{s.max().item():.6g}, not 1")


def _check_samples(samples: Tensor, theta: Tensor, name: str = "samples") -> Tensor:
    if not isinstance(samples, Tensor) or samples.is_floating_point() or samples.is_complex() or samples.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor of class indices (B, m)")
    B, n = theta.shape
    if samples.dim() != 2 or samples.shape[0] != B:
        raise ValueError(f"{name} must have shape ({B}, m), got {tuple(samples.shape)}")
    if samples.shape[1] < 1:
        raise ValueError(f"{name} must hold m ≥ 1 samples per row, got m = {samples.shape[1]}")
    if int(samples.min()) < 0 or int(samples.max()) >= n:
        raise ValueError(f"{name} has class indices outside [0, {n - 1}]")
    return samples.to(theta.device)


def _check_count(m, name: str) -> int:
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"{name} must be an integer ≥ 1, got {m!r}")
    return m
