"""RG losses (Pu et al. 2025): second-order Taylor expansions of logsumexp, RG² and RG×
(exact polynomials in the module docstring of losses/approx.py, which re-exports them)."""
from __future__ import annotations

import torch
from torch import Tensor

from .approx_common import _check_masked_2d


def _check_kind(kind: str) -> str:
    if not isinstance(kind, str) or kind not in ("rg2", "rgx"):
        raise ValueError(f"kind must be 'rg2' or 'rgx', got {kind!r}")
    return kind


def _unmasked(theta: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    """(θ with masked entries 0, the number n of unmasked classes per row (B, 1), the mask,
    y as int64): a masked class (θ = −inf) is dropped from the expansion, as if it were
    not there."""
    masked, y = _check_masked_2d(theta, y)
    if masked is None:
        return theta, torch.full_like(theta[:, :1], theta.shape[1]), None, y
    return theta.masked_fill(masked, 0.0), (~masked).sum(-1, keepdim=True).to(theta.dtype), masked, y


def rg_loss(theta: Tensor, y: Tensor, kind: str = "rg2") -> Tensor:
    """RG² or RG× loss (B,) over the unmasked classes; the exact polynomials are in the
    module docstring."""
    _check_kind(kind)
    th, n, masked, y = _unmasked(theta, y)
    mean = th.sum(-1, keepdim=True) / n
    loss = (-th.gather(-1, y[:, None]) + torch.log(n) + mean + (th * th).sum(-1, keepdim=True) / (2 * n))[:, 0]
    loss = loss - 0.5 * mean[:, 0] ** 2 if kind == "rgx" else loss
    if bool(torch.isfinite(loss).all()):
        return loss
    # θ² or Σθ overflowed (|θ| ≳ √max, e.g. 1.8e19 in float32, 256 in float16) though the
    # loss may be finite: those rows are recomputed scaled; the others keep their bits
    return torch.where(torch.isfinite(loss), loss, _rg_loss_scaled(th, n, masked, y, kind))


def _rg_loss_scaled(th: Tensor, n: Tensor, masked: Tensor | None, y: Tensor, kind: str) -> Tensor:
    """The RG loss without overflowing intermediates: ``θ̄ = Σ_j θ_j/n``, and the quadratic
    part as ``Σ_j e_j (2 e_j / n)`` with ``e = θ/2`` (RG²) or ``e = θ/2 − θ̄/2`` (RG×: the
    same polynomial, ``(1/2n) Σ θ² − ½ θ̄² = (1/2n) Σ (θ − θ̄)²``); every factor is finite
    and a product overflows only when its term alone exceeds the dtype, so the loss is
    inf only when it overflows, and autograd's factors stay finite (∂/∂θ_j = (θ_j − θ̄)/n)."""
    mean = (th / n).sum(-1, keepdim=True)
    e = th / 2 - mean / 2 if kind == "rgx" else th / 2
    if masked is not None:
        e = e.masked_fill(masked, 0.0)
    quad = (e * (e * (2 / n))).sum(-1, keepdim=True)
    # the linear part θ̄ − θ_y as 2 h: h is finite where θ̄ − θ_y would overflow.  A finite
    # quadratic part bounds |θ̄ − θ_y| far below the maximum; an infinite one is the loss
    # (inf − inf = NaN otherwise), with the linear part's gradient kept by h − h.detach() = 0
    h = mean / 2 - th.gather(-1, y[:, None]) / 2
    loss = torch.where(torch.isposinf(quad), quad + 2 * (h - h.detach()), 2 * h + torch.log(n) + quad)
    return loss[:, 0]


def rg_grad(theta: Tensor, y: Tensor, kind: str = "rg2") -> tuple[Tensor, Tensor]:
    """(loss, g̃): RG² ``(1 + θ)/n − e_y``; RG× ``(1 + θ − θ̄)/n − e_y`` (0 on masked classes)."""
    loss = rg_loss(theta, y, kind)
    th, n, masked, y = _unmasked(theta, y)
    g = (1 + th) / n
    if kind == "rgx":
        total = th.sum(-1, keepdim=True)
        shift = total / (n * n)                      # θ̄ / n
        if not bool(torch.isfinite(total).all()):    # Σθ overflowed; θ̄ / n = s (Σ θ/s / n) / n does not
            s = th.abs().amax(-1, keepdim=True).clamp_min(1)
            shift = torch.where(torch.isfinite(total), shift, s * ((th / s).sum(-1, keepdim=True) / n) / n)
        g = g - shift
    if masked is not None:
        g = g.masked_fill(masked, 0.0)
    return loss, g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))
