"""RG losses (Pu et al. 2025): second-order Taylor expansions of logsumexp, RG² and RG×
(exact polynomials in the module docstring of losses/approx.py, which re-exports them)."""
from __future__ import annotations

import torch
from torch import Tensor

from .approx_common import _check_masked_2d


def _check_kind(kind: str) -> str:
    if kind not in ("rg2", "rgx"):
        raise ValueError(f"kind must be 'rg2' or 'rgx', got {kind!r}")
    return kind


def _unmasked(theta: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
    """(θ with masked entries 0, the number n of unmasked classes per row (B, 1), the mask):
    a masked class (θ = −inf) is dropped from the expansion, as if it were not there."""
    masked = _check_masked_2d(theta, y)
    if masked is None:
        return theta, torch.full_like(theta[:, :1], theta.shape[1]), None
    return theta.masked_fill(masked, 0.0), (~masked).sum(-1, keepdim=True).to(theta.dtype), masked


def rg_loss(theta: Tensor, y: Tensor, kind: str = "rg2") -> Tensor:
    """RG² or RG× loss (B,) over the unmasked classes; the exact polynomials are in the
    module docstring."""
    _check_kind(kind)
    th, n, _ = _unmasked(theta, y)
    mean = th.sum(-1, keepdim=True) / n
    loss = (-th.gather(-1, y[:, None]) + torch.log(n) + mean + (th * th).sum(-1, keepdim=True) / (2 * n))[:, 0]
    return loss - 0.5 * mean[:, 0] ** 2 if kind == "rgx" else loss


def rg_grad(theta: Tensor, y: Tensor, kind: str = "rg2") -> tuple[Tensor, Tensor]:
    """(loss, g̃): RG² ``(1 + θ)/n − e_y``; RG× ``(1 + θ − θ̄)/n − e_y`` (0 on masked classes)."""
    loss = rg_loss(theta, y, kind)
    th, n, masked = _unmasked(theta, y)
    g = (1 + th) / n
    if kind == "rgx":
        g = g - th.sum(-1, keepdim=True) / (n * n)
    if masked is not None:
        g = g.masked_fill(masked, 0.0)
    return loss, g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))
