"""RG losses (Pu et al. 2025): second-order Taylor expansions of logsumexp, RG² and RG×
(exact polynomials in the module docstring of losses/approx.py, which re-exports them)."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .approx_common import _check_2d

def _check_kind(kind: str) -> str:
    if kind not in ("rg2", "rgx"):
        raise ValueError(f"kind must be 'rg2' or 'rgx', got {kind!r}")
    return kind


def rg_loss(theta: Tensor, y: Tensor, kind: str = "rg2") -> Tensor:
    """RG² or RG× loss (B,); the exact polynomials are in the module docstring."""
    theta, y = _check_2d(theta, y)
    _check_kind(kind)
    n = theta.shape[1]
    mean = theta.mean(-1)
    loss = -theta.gather(-1, y[:, None])[:, 0] + math.log(n) + mean + (theta * theta).sum(-1) / (2 * n)
    return loss - 0.5 * mean * mean if kind == "rgx" else loss


def rg_grad(theta: Tensor, y: Tensor, kind: str = "rg2") -> tuple[Tensor, Tensor]:
    """(loss, g̃): RG² ``(1 + θ)/n − e_y``; RG× ``(1 + θ − θ̄)/n − e_y``."""
    loss = rg_loss(theta, y, kind)
    n = theta.shape[1]
    g = (1 + theta) / n
    if kind == "rgx":
        g = g - theta.mean(-1, keepdim=True) / n
    return loss, g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))
