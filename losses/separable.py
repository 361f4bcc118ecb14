"""The prediction map of any separable regulariser, by bisection on τ (issue 23 §3).

For Ω(p) = Σᵢ g(pᵢ) on {0 ≤ p ≤ 1, Σp = k} (k = 1: the simplex), the maximizer of
⟨θ, p⟩ − Ω(p) is ŷᵢ = G(clip(θᵢ − τ, g′(0⁺), g′(1⁻))) with G = (g′)⁻¹ and τ the root of the
decreasing function φ(τ) = Σᵢ ŷᵢ(τ) − k (Blondel, Martins & Niculae, JMLR 2020, §4; the
KKT conditions are in proofs/user/facts.py).  On the support 0 < ŷᵢ < 1 the Jacobian is
J = diag(s) − ssᵀ/Σs with s = 1/g″(ŷ) (s = 0 off it), which the backward applies.

The map is given its pieces as torch callables (``proofs.user.facts`` derives them from g
and ``numerics.user.map`` lambdifies them), so this module stays free of sympy.
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
#: halvings of the bracket on τ: its width is at most the spread of the scores (SeparableMap.solve), so
#: below 2^16 for |θ| ≤ 1e4, and it ends below 2^-48, under the float64 spacing of scores of that size
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

    def _over(self, safe: Tensor, t: Tensor, mask: Tensor | None, k: int) -> Tensor:
        """φ(t) ≥ 0, i.e. Σᵢ ŷᵢ(t) ≥ k, per row."""
        y = self._at(safe - t, mask)
        # the capped entries counted as integers: k ≥ 2 capped mass plus 1 − ulp would round up to k
        cap = (y >= 1).sum(-1, keepdim=True)
        return torch.where(y < 1, y, 0.0).sum(-1, keepdim=True) >= k - cap

    def lower_bound(self, ranked: Tensor, k: int) -> Tensor:
        """max over r = k + 1 … n of θ₍ᵣ₎ − g′(k/r) (``ranked``: the scores in decreasing order,
        masked ones −inf, so an r beyond the unmasked count gives −inf), lowered a little
        against rounding; −inf where n = k.  At each, the r largest classes are at least k/r."""
        n = ranked.shape[-1]
        if n <= k:
            return torch.full_like(ranked[..., :1], float("-inf"))
        r = torch.arange(k + 1, n + 1, dtype=ranked.dtype, device=ranked.device)
        bound = ranked[..., k:] - self.gprime(k / r)
        return (bound - (1 + bound.abs()) * 2.0**-20).amax(-1, keepdim=True)

    def solve(self, theta: Tensor, k: int) -> Tensor:
        """ŷ in float64 (no autograd): bisection on τ over a bracket where φ changes sign,
        keeping φ(t_lo) ≥ 0 > φ(t_hi).

        The bracket: at τ = max θ − g′(k/m) every class is at most k/m, so φ ≤ 0 (t_hi).  At
        τ = θ₍ᵣ₎ − g′(k/r), with θ₍ᵣ₎ the r-th largest score and k ≤ r ≤ m, the r largest
        classes are each at least k/r, so φ ≥ 0; t_lo is the largest of these lower bounds
        (:meth:`lower_bound` for r > k).  r = k alone (the k largest at g′(1⁻)) gives a width
        of about g′(1⁻) − g′(k/m), unbounded when g′(1⁻) = ∞: at the clip end g′(1 − ε) of a
        pole 1/(1 − p), 4.5·10¹⁵, the :data:`HALVINGS` left τ only to 2⁻¹², ŷ off by 10⁻⁵.
        With r = m as well, the width is at most the spread max θ − min θ of the unmasked
        scores, whatever g′ does at its ends."""
        th = theta.detach().double()
        mask = torch.isneginf(th)
        mask = mask if bool(mask.any()) else None
        live = th if mask is None else th.masked_fill(mask, float("-inf"))
        m = (~mask).sum(-1, keepdim=True).double() if mask is not None else torch.full_like(th[..., :1], th.shape[-1])
        if mask is not None and bool((m < k).any()):
            raise ValueError(f"theta has a row with fewer than k = {k} unmasked classes")
        ranked = live.sort(dim=-1, descending=True).values               # masked classes (−inf) last
        top = ranked[..., k - 1:k]                                        # the k-th largest score
        # r = k: the k largest at G(hi) ≈ 1, lowered a little below top − hi, so that they are past
        # hi in spite of rounding; τ_hi: every class at most k/m, so φ ≤ 0
        t_lo = top - self.hi - (1 + (top - self.hi).abs()) * 2.0**-20
        t_hi = ranked[..., :1] - self.gprime((k / m).clamp(max=1.0))
        safe = th if mask is None else th.masked_fill(mask, 0.0)
        bound = self.lower_bound(ranked, k)
        better = bound > t_lo
        if bool(better.any()):      # kept only where φ ≥ 0 is confirmed there: the bracket never rests on rounding
            ok = better & self._over(safe, torch.where(better, bound, t_lo), mask, k)
            t_lo = torch.where(ok, bound, t_lo)
        t_lo = torch.minimum(t_lo, t_hi)
        for _ in range(HALVINGS):
            mid = (t_lo + t_hi) / 2
            over = self._over(safe, mid, mask, k)
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
