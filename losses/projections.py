"""Exact prediction maps of the sparse Fenchel–Young losses, computed on a top-K slice.

Every sparse map has the form ``ŷ_i = f(θ_i − τ)`` with ``f`` non-decreasing and
``f(x) = 0`` for ``x ≤ 0``, so the support of ŷ is a set of largest scores. We take
the ``K`` largest scores (``torch.topk``, O(n) per row), solve for τ on them exactly,
and accept the answer when the K-th entry gets zero mass: then every smaller score
gets zero mass too and τ is the threshold of the full problem.  Rows whose support
does not fit are solved again with ``4K`` (at most ``log₄ n`` rounds, only on those
rows). The small slice is solved in float64 whatever the input dtype, which keeps
|θ| up to 1e4 in float32 accurate.

Solvers, on ``z`` = the slice sorted in decreasing order and shifted so ``z₁ = 0``:

* :func:`simplex_threshold` -- sparsemax, Michelot / Held et al. (sort algorithm of
  Martins & Astudillo 2016, Alg. 1): ``s = max{k : 1 + k z_k > Σ_{j≤k} z_j}``,
  ``τ = (Σ_{j≤s} z_j − 1)/s``.
* :func:`entmax15_threshold` -- 1.5-entmax, sort algorithm of Peters, Niculae &
  Martins 2019 (Alg. 2) on ``x = z/2``: ``τ_k = mean_k − sqrt((1 − k·var_k)/k)``.
* :func:`tsallis_bisect_threshold` -- α-entmax for any α > 1 by bisection on
  ``Σ [(α−1)z − τ]_+^{1/(α−1)} = 1`` over the bracket ``[−1, −K^{1−α}]``.
* :func:`capped_threshold` -- Euclidean projection on ``C_k = {p ∈ [0,1]^n : Σp = k}``
  (rankmax): ``Σ clip(z − τ, 0, 1) = k`` is piecewise linear in τ; we evaluate it at all
  breakpoints ``{z_i, z_i − 1}`` with prefix sums and solve exactly on the active set.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

Solver = Callable[[Tensor], tuple[Tensor, Tensor]]  # z (B,K) desc, shifted → (tau (B,1), p (B,K))


def simplex_threshold(z: Tensor) -> tuple[Tensor, Tensor]:
    K = z.shape[-1]
    k = torch.arange(1, K + 1, dtype=z.dtype, device=z.device)
    cs = z.cumsum(-1)
    support = (1 + k * z > cs).sum(-1, keepdim=True)  # ≥ 1 always (k = 1 holds)
    tau = (cs.gather(-1, support - 1) - 1) / support.to(z.dtype)
    return tau, (z - tau).clamp_min(0)


def entmax15_threshold(z: Tensor) -> tuple[Tensor, Tensor]:
    x = z / 2
    K = x.shape[-1]
    k = torch.arange(1, K + 1, dtype=x.dtype, device=x.device)
    mean = x.cumsum(-1) / k
    mean_sq = (x * x).cumsum(-1) / k
    delta = (1 - k * (mean_sq - mean * mean)) / k
    tau_k = mean - delta.clamp_min(0).sqrt()
    support = (tau_k <= x).sum(-1, keepdim=True)
    tau = tau_k.gather(-1, support - 1)
    return tau, (x - tau).clamp_min(0) ** 2


def tsallis_bisect_threshold(alpha: float, n_iter: int = 80) -> Solver:
    """Bisection in float64 to below machine precision (80 halvings of a bracket of
    width < 1), then one renormalization -- the finish used by entmax_bisect."""

    def solve(z: Tensor) -> tuple[Tensor, Tensor]:
        x = (alpha - 1) * z
        K = x.shape[-1]
        inv = 1.0 / (alpha - 1)
        lo = torch.full_like(x[..., :1], -1.0)
        hi = torch.full_like(x[..., :1], -(K ** (1 - alpha)))
        for _ in range(n_iter):
            mid = (lo + hi) / 2
            mass = (x - mid).clamp_min(0).pow(inv).sum(-1, keepdim=True)
            above = mass >= 1
            lo = torch.where(above, mid, lo)
            hi = torch.where(above, hi, mid)
        p = (x - lo).clamp_min(0).pow(inv)
        return lo / (alpha - 1), p / p.sum(-1, keepdim=True)

    return solve


def capped_threshold(k: "int | Tensor") -> Solver:
    """``k`` an int, or a (B, 1) tensor of per-row capacities (``rankmax.capped_projection``)."""
    def solve(z: Tensor) -> tuple[Tensor, Tensor]:
        B, K = z.shape
        asc = z.flip(-1).contiguous()
        prefix = torch.cat([z.new_zeros(B, 1), z.cumsum(-1)], -1)  # sum of the j largest

        def counts(t: Tensor) -> tuple[Tensor, Tensor]:
            above = K - torch.searchsorted(asc, t, right=True)  # #{z_i > t}
            capped = K - torch.searchsorted(asc, t + 1, right=False)  # #{z_i ≥ t + 1}
            return above, capped

        brk = torch.cat([z, z - 1], -1).sort(-1).values  # ascending
        left, right = brk[:, :-1], brk[:, 1:]  # the 2K − 1 segments between breakpoints
        mid = (left + right) / 2
        # on each segment the active sets are constant; classify them by integer counts at the
        # midpoint, never by comparing a rounded mass with k
        a, c = counts(mid)
        free = a - c
        # a segment where no entry is free and exactly k are capped: every p_i is 0 or 1 and
        # its midpoint keeps z_i − τ away from the 0/1 kinks (a breakpoint z_i − 1 is rounded)
        flat = (free == 0) & (c == k) & (right > left)
        # otherwise the sloped segment whose exact τ = (c + S_a − S_c − k)/free lies inside it
        tau_seg = (c + prefix.gather(-1, a) - prefix.gather(-1, c) - k) / free.clamp_min(1).to(z.dtype)
        miss = torch.maximum(left - tau_seg, tau_seg - right).clamp_min(0)
        miss = torch.where(free > 0, miss, torch.full_like(miss, float("inf")))
        j_slope = miss.argmin(-1, keepdim=True)
        j_flat = flat.to(torch.int8).argmax(-1, keepdim=True)
        tau = torch.where(flat.any(-1, keepdim=True), mid.gather(-1, j_flat), tau_seg.gather(-1, j_slope))
        return tau, (z - tau).clamp(0, 1)

    return solve


def _unmask(z: Tensor, gap: float) -> Tensor:
    """Masked entries (−inf) of a shifted slice replaced by (its smallest finite entry − gap)."""
    masked = torch.isneginf(z)
    if not bool(masked.any()):
        return z
    lowest = z.masked_fill(masked, float("inf")).amin(-1, keepdim=True)
    return torch.where(masked, lowest - gap, z)


def solve_topk(theta: Tensor, solver: Solver, k0: int, mask_gap: float = 2.0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Solve a sparse map on the top-K slice of each row of ``theta`` (B, n).

    Returns ``(values, index, shift, tau)``: ŷ on the slice (float64, B×K), the column
    indices of the slice, the row maxima (input dtype, B×1) and τ for the shifted
    scores (float64, B×1).  Entries of ŷ outside ``index`` are exactly zero.  Masked
    scores (−inf; a row keeps one finite score) sit at the bottom of a row: inside a
    slice they are solved as (smallest finite entry − ``mask_gap``), which the caller
    chooses below every threshold the map can have, so they get exactly zero mass."""
    B, n = theta.shape
    K = min(n, max(1, k0))
    top, idx = theta.topk(K, dim=-1) if K < n else theta.sort(-1, descending=True)
    shift = top[:, :1]
    z = _unmask((top - shift).double(), mask_gap)
    tau, p = solver(z)
    todo = (p[:, -1] > 0).nonzero().flatten() if K < n else idx.new_zeros(0)
    values, index = p, idx
    while todo.numel():
        K = min(n, 4 * K)
        rows = theta if todo.numel() == B else theta[todo]
        top_r, idx_r = rows.topk(K, dim=-1) if K < n else rows.sort(-1, descending=True)
        tau_r, p_r = solver(_unmask((top_r - shift[todo]).double(), mask_gap))
        # widen the accepted slices to K columns (zero mass in the new columns) and overwrite the redone rows
        pad = K - values.shape[1]
        values = torch.nn.functional.pad(values, (0, pad))
        index = torch.cat([index, index[:, :1].expand(-1, pad)], -1) if pad else index
        values[todo], index[todo], tau[todo] = p_r, idx_r, tau_r
        still = (p_r[:, -1] > 0) if K < n else torch.zeros_like(p_r[:, -1], dtype=torch.bool)
        todo = todo[still]
    return values, index, shift, tau
