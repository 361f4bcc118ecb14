"""Rankmax reading R2: the capped-simplex projection at an adaptive, per-example scale.

Kong, Krichene, Mayoraz, Rendle & Zhang (NeurIPS 2020) project ``a·θ`` on
``C_k = {p ∈ [0,1]^n : Σp = k}`` with the scale ``a`` (the inverse temperature, i.e. the
Lipschitz constant of the map) chosen per training example "so that the example's labels
occur in the support".  The paper is not reachable from here, so this is our
reconstruction, stated precisely:

    a(θ, y) = sup{ a ∈ (0, a_max] : Π_{C_k}(a θ)_i > 0 for every label i (y_i > 0) },

the sharpest projection that still gives every labelled item mass; it is found by
bisection on log a (the support of Π_{C_k}(aθ) shrinks as a grows).  The loss is
``L_R2(θ; y) = L_{C_k}(a θ; y)`` with ``a`` held constant in the backward pass, so
``∇_θ L_R2 = a (ŷ(aθ) − y)``.  Prediction without a label uses ``a = 1`` (reading R1).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import check_dim
from .fy import FenchelYoungLoss
from .regularizers import CappedSquare


class AdaptiveRankmaxLoss(FenchelYoungLoss):
    reading = "R2"

    def __init__(self, regularizer: CappedSquare, a_max: float = 1e3, n_iter: int = 40):
        super().__init__(regularizer)
        self.a_max, self.n_iter = float(a_max), int(n_iter)

    def scale(self, theta: Tensor, target: Tensor) -> Tensor:
        """The adaptive scale a(θ, y), shape (B, 1), float64, no gradient."""
        flat = self._prepare(theta, -1)[1].detach().double()
        y = target.reshape(flat.shape)
        labelled = y > 0
        lo = torch.full((flat.shape[0], 1), -12.0, dtype=flat.dtype, device=flat.device)  # log a
        hi = torch.full_like(lo, math.log(self.a_max))
        # a·θ must stay finite in θ's dtype: a ≤ max/(2 max|θ|) (only rows near the dtype's range)
        top = flat.abs().amax(-1, keepdim=True)
        cap = torch.finfo(theta.dtype).max / 2 / top
        hi = torch.where(cap < self.a_max, cap.log(), hi)

        def ok(log_a: Tensor) -> Tensor:
            p = self.regularizer.solve(flat * log_a.exp()).dense(flat.dtype)
            return ((p > 0) | ~labelled).all(-1, keepdim=True)

        top_ok = ok(hi)
        for _ in range(self.n_iter):
            mid = (lo + hi) / 2
            good = ok(mid)
            lo, hi = torch.where(good, mid, lo), torch.where(good, hi, mid)
        return torch.where(top_ok, hi, lo).exp()

    def forward(self, theta: Tensor, target: Tensor, dim: int = -1) -> Tensor:
        if not (isinstance(target, Tensor) and target.is_floating_point()):
            raise ValueError("target for adaptive rankmax (R2) must be multi-hot label vectors in C_k")
        if isinstance(theta, Tensor) and theta.dim():
            dim = check_dim(dim, theta.dim())
            theta, target = theta.movedim(dim, -1), target.movedim(dim, -1)
        a = self.scale(theta, target).to(theta.dtype).reshape(*theta.shape[:-1], 1)
        return super().forward(theta * a, target)


def capped_projection(theta: Tensor, k: Tensor) -> Tensor:
    """``Π_{C_{k_b}}(θ_b)`` row by row with a per-row ``k`` (B,): rankmax with
    "k = the number of labels of the example" (Kong et al. 2020), e.g. one row per user
    of a recommender with its training items as labels.

    Solved exactly on whole rows without a sort (``projections.capped_rows``: a few O(n)
    passes, each row with its own k); a row that solver does not accept is solved by the
    breakpoint algorithm on its sorted row (``projections.capped_threshold``).  Returns ŷ
    (B, n) in θ's dtype."""
    from ._checks import check_scores
    from .projections import capped_frame, capped_rows, capped_threshold
    from .regularizers import far as far_of

    theta = check_scores(theta, min_classes=1)
    if theta.dim() != 2:
        raise ValueError(f"theta must have shape (B, n), got {tuple(theta.shape)}")
    B, n = theta.shape
    if not isinstance(k, Tensor) or k.shape != (B,):
        raise ValueError(f"k must be a tensor of shape ({B},) (one capacity per row)")
    kk = k.detach().double().to(theta.device)
    if bool((kk != kk.round()).any()) or bool((kk < 1).any()) or bool((kk > n).any()):
        raise ValueError(f"k must hold integers in [1, n] = [1, {n}]")
    kk = kk[:, None]
    td = theta.detach()
    lim = far_of(theta.dtype)
    tau, out, done = capped_rows(kk)((td - td.amax(-1, keepdim=True)).double())
    if not bool(done.all()):
        redo = (~done).nonzero().flatten()
        top, idx = td[redo].sort(-1, descending=True)
        z = (top - top[:, :1]).double()
        tau_r, p_r = capped_threshold(kk[redo])(z)
        out[redo] = torch.zeros(redo.numel(), n, dtype=out.dtype, device=out.device).scatter_(-1, idx, p_r)
        # the (k+1)-th score within far() of the maximum bounds every entry the projection reads
        kth1 = z.gather(-1, kk[redo].long().clamp_max(n - 1))
        tau = tau.clone()
        tau[redo] = torch.where(kth1 >= -lim, tau_r, torch.full_like(tau_r, float("inf")))
    # rows solved far from their maximum, where θ − max θ loses the free entries (past a
    # spread of 2^53 in float64 it cannot even resolve the unit cap): again in the frame of
    # θ_[k] (regularizers.far, projections.capped_frame); k = n is C_n = {1} (ŷ = 1)
    far = ~(tau[:, 0].abs() <= lim + 1) | (kk[:, 0] == n)
    if bool(far.any()):
        rows = far.nonzero().flatten()
        top, idx = td[rows].sort(-1, descending=True)
        ref = top.gather(-1, kk[rows].long() - 1)
        p_r = capped_threshold(kk[rows])(capped_frame(top, ref))[1]
        out[rows] = torch.zeros(rows.numel(), n, dtype=out.dtype, device=out.device).scatter_(-1, idx, p_r)
    return out.to(theta.dtype)
