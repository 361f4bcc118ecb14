"""The prediction map of any separable regulariser, by bisection on τ (issue 23 §3).

For Ω(p) = Σᵢ g(pᵢ) on {0 ≤ p ≤ 1, Σp = k} (k = 1: the simplex), the maximizer of
⟨θ, p⟩ − Ω(p) is ŷᵢ = G(clip(θᵢ − τ, g′(0⁺), g′(1⁻))) with G = (g′)⁻¹ and τ the root of the
decreasing function φ(τ) = Σᵢ ŷᵢ(τ) − k (Blondel, Martins & Niculae, JMLR 2020, §4; the
KKT conditions are in proofs/separable.py).  On the support 0 < ŷᵢ < 1 the Jacobian is
J = diag(s) − ssᵀ/Σs with s = 1/g″(ŷ) (s = 0 off it), which the backward applies.

The map is given its pieces as torch callables (``proofs.separable`` derives them from g
and ``numerics.separable_map`` lambdifies them), so this module stays free of sympy.
Work is bounded by a fixed count of halvings, never by time: the result is a function of
the input alone.  θ is solved in float64 and returned in its own dtype; −inf entries are
masked classes (ŷ = 0), NaN and +inf are errors.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._checks import check_k, scan_scores

Fn = Callable[[Tensor], Tensor]
#: halvings of the bracket on τ: a width below 2^16 (|θ| ≤ 1e4, |g′| ≤ 800 where G is finite) ends below
#: 2^-48, under the float64 spacing of scores of that size
HALVINGS = 64


class SeparableMap:
    """ŷ(θ) for a separable g, from G = (g′)⁻¹, g′, s = 1/g″ and the clip bounds
    ``lo`` = g′(0⁺) ∈ [−∞, ∞), ``hi`` = g′(1⁻) ∈ (−∞, ∞] (module docstring)."""

    def __init__(self, inverse: Fn, gprime: Fn, weight: Fn, lo: float, hi: float):
        if not (lo < hi):
            raise ValueError(f"need g'(0+) < g'(1-), got lo = {lo}, hi = {hi}")
        self.inverse, self.gprime, self.weight = inverse, gprime, weight
        one = torch.ones((), dtype=torch.float64)
        tiny, near1 = torch.tensor(1e-300, dtype=torch.float64), one - torch.finfo(torch.float64).eps
        # where G stays finite: an infinite end is replaced by g′ at the edge of float64's (0, 1)
        self.lo = float(lo) if lo != float("-inf") else float(gprime(tiny))
        self.hi = float(hi) if hi != float("inf") else float(gprime(near1))
        # G(g′(0⁺)) = 0 and G(g′(1⁻)) = 1 by definition: at a finite end they are set exactly, not
        # left to G's rounding, so a vertex e_y comes out exactly (the margin is a statement about it)
        self.exact_lo, self.exact_hi = lo != float("-inf"), hi != float("inf")

    def _at(self, z: Tensor, mask: Tensor | None) -> Tensor:
        """G(clip(z)) with the masked classes at 0."""
        y = self.inverse(z.clamp(self.lo, self.hi))
        if self.exact_lo:
            y = y.masked_fill(z <= self.lo, 0.0)
        if self.exact_hi:
            y = y.masked_fill(z >= self.hi, 1.0)
        return y if mask is None else y.masked_fill(mask, 0.0)

    def __call__(self, theta: Tensor, k: int = 1) -> Tensor:
        scan_scores(theta, "theta", min_classes=1)
        n = theta.shape[-1]
        k = check_k(k)
        if k > n:
            raise ValueError(f"k = {k} exceeds the number of classes n = {n}")
        return _Solve.apply(theta, self, k)

    def solve(self, theta: Tensor, k: int) -> Tensor:
        """ŷ in float64 (no autograd): bisection on τ over a bracket where φ changes sign,
        keeping φ(t_lo) ≥ 0 > φ(t_hi)."""
        th = theta.detach().double()
        mask = torch.isneginf(th)
        mask = mask if bool(mask.any()) else None
        live = th if mask is None else th.masked_fill(mask, float("-inf"))
        m = (~mask).sum(-1, keepdim=True).double() if mask is not None else torch.full_like(th[..., :1], th.shape[-1])
        if mask is not None and bool((m < k).any()):
            raise ValueError(f"theta has a row with fewer than k = {k} unmasked classes")
        top = live.topk(k, dim=-1).values[..., -1:]                       # the k-th largest score
        # τ_lo: the k largest at G(hi) ≈ 1, so φ ≥ 0; τ_hi: every class at most k/m, so φ ≤ 0
        # lowered a little below top − hi, so that the k largest are past hi in spite of rounding
        t_lo = top - self.hi - (1 + (top - self.hi).abs()) * 2.0**-20
        t_hi = live.max(-1, keepdim=True).values - self.gprime((k / m).clamp(max=1.0))
        t_lo = torch.minimum(t_lo, t_hi)
        safe = th if mask is None else th.masked_fill(mask, 0.0)
        for _ in range(HALVINGS):
            mid = (t_lo + t_hi) / 2
            y = self._at(safe - mid, mask)
            # the capped entries counted as integers: k ≥ 2 capped mass plus 1 − ulp would round up to k
            cap = (y >= 1).sum(-1, keepdim=True)
            over = torch.where(y < 1, y, 0.0).sum(-1, keepdim=True) >= k - cap
            t_lo, t_hi = torch.where(over, mid, t_lo), torch.where(over, t_hi, mid)
        # at t_lo the mass is ≥ k: where the solutions form an interval (ŷ a vertex, or rankmax's
        # caps), its end, where every class below the threshold is exactly 0
        return self._at(safe - t_lo, mask)

    def jvp(self, y: Tensor, v: Tensor) -> Tensor:
        """J v with J = diag(s) − ssᵀ/Σs, s = 1/g″(ŷ) on the support (0 < ŷ < 1), else 0."""
        inside = (y > 0) & (y < 1)
        s = torch.where(inside, self.weight(torch.where(inside, y, 0.5)), torch.zeros_like(y))
        total = s.sum(-1, keepdim=True)
        sv = (s * v).sum(-1, keepdim=True)
        return s * v - s * torch.where(total > 0, sv / torch.where(total > 0, total, 1.0), 0.0)


class _Solve(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta: Tensor, fmap: SeparableMap, k: int) -> Tensor:
        y = fmap.solve(theta, k)
        ctx.fmap = fmap
        ctx.save_for_backward(y)
        return y.to(theta.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (y,) = ctx.saved_tensors
        return ctx.fmap.jvp(y, grad.double()).to(grad.dtype), None, None    # J is symmetric: Jᵀg = Jg
