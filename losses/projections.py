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

Large supports make the sort the whole cost, so sparsemax, 1.5-entmax and the per-row
capped projection of rankmax are first solved on whole unsorted rows (:func:`simplex_rows`,
:func:`entmax15_rows`, :func:`capped_rows`: a few O(n) passes, each accepted only when the
closed form of the sort algorithm on a support reproduces that support); a row not
accepted falls back to the sort algorithm above.
"""
from __future__ import annotations

import math
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


def tsallis_log_threshold(alpha: float, n_iter: int = 80) -> Solver:
    """α-entmax for α close to 1 (:data:`NEAR_SOFTMAX`), in the form that tends to softmax:
    ``p_i = [1 + (α−1)(z_i − c)]_+^{1/(α−1)} = exp(log1p((α−1)(z_i − c))/(α−1))``, i.e. the
    threshold of :func:`tsallis_bisect_threshold` written ``τ = (α−1)c − 1``.  There the
    base (α−1)z − τ is 1 + O(α−1) and its rounding, ε relative, is raised to the power
    1/(α−1): the error of log p is ε/(α−1) (0.2 at α = 1 + 1e-15).  Here log p_i =
    log1p(u)/(α−1), u = (α−1)(z_i − c), has an error of a few ε·|z_i − c| for every α.
    Bisection on c over [0, (1 − K^{1−α})/(α−1)] (p_max = 1 and p_max = 1/K: masses ≥ 1
    and ≤ 1), then one renormalization as there.  Returns τ in z's units, c − 1/(α−1)."""
    a1 = alpha - 1

    def probs(z: Tensor, c: Tensor) -> Tensor:
        return torch.exp(torch.log1p((a1 * (z - c)).clamp_min(-1.0)) / a1)  # u ≤ −1: p = 0

    def solve(z: Tensor) -> tuple[Tensor, Tensor]:
        K = z.shape[-1]
        lo = torch.zeros_like(z[..., :1])
        hi = torch.full_like(lo, -math.expm1(-a1 * math.log(K)) / a1)
        for _ in range(n_iter):
            mid = (lo + hi) / 2
            above = probs(z, mid).sum(-1, keepdim=True) >= 1
            lo = torch.where(above, mid, lo)
            hi = torch.where(above, hi, mid)
        p = probs(z, lo)
        return lo - 1 / a1, p / p.sum(-1, keepdim=True)

    return solve


# α − 1 below which α-entmax uses :func:`tsallis_log_threshold`: the plain form's error
# ε/(α−1) in log p is 2.2e-14 there (its bit-for-bit results above it are kept)
NEAR_SOFTMAX = 0.01


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


def capped_frame(top: Tensor, ref: Tensor) -> Tensor:
    """A sorted slice in the frame of θ_[k] (``ref``, B×1), for the capped simplex: there
    τ ∈ [−1, 0) (at τ = −1 the k largest are capped, mass ≥ k; at τ = 0 fewer than k
    are positive), so entries ≥ 1 are capped and entries ≤ −1 get 0 whatever their
    value: clipping to [−2, 2] changes nothing, and removes the overflow of θ − θ_[k]
    (±inf, masks included) and the cancellation of large capped scores in the prefix
    sums.  The free entries lie within 2 of θ_[k], where θ − θ_[k] is exact (Sterbenz)
    or within an ulp of a number below 4: ŷ is accurate whatever the spread of θ."""
    return (top - ref).double().clamp(-2.0, 2.0)


def solve_topk(theta: Tensor, solver: Solver, k0: int, mask_gap: float = 2.0, ref: int = 0
               ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Solve a sparse map on the top-K slice of each row of ``theta`` (B, n).

    Returns ``(values, index, shift, tau)``: ŷ on the slice (float64, B×K), the column
    indices of the slice, the row maxima (input dtype, B×1) and τ for the shifted
    scores (float64, B×1).  Entries of ŷ outside ``index`` are exactly zero.  Masked
    scores (−inf; a row keeps one finite score) sit at the bottom of a row: inside a
    slice they are solved as (smallest finite entry − ``mask_gap``), which the caller
    chooses below every threshold the map can have, so they get exactly zero mass.
    ``ref = k − 1 > 0`` (capped simplex, K ≥ k) shifts by the k-th largest score
    instead of the maximum, in :func:`capped_frame`."""
    B, n = theta.shape
    K = min(n, max(1, k0))
    top, idx = theta.topk(K, dim=-1) if K < n else theta.sort(-1, descending=True)
    shift = top[:, ref:ref + 1]

    def frame(top: Tensor, shift: Tensor) -> Tensor:
        return capped_frame(top, shift) if ref else _unmask((top - shift).double(), mask_gap)

    z = frame(top, shift)
    tau, p = solver(z)
    todo = (p[:, -1] > 0).nonzero().flatten() if K < n else idx.new_zeros(0)
    values, index = p, idx
    while todo.numel():
        K = min(n, 4 * K)
        rows = theta if todo.numel() == B else theta[todo]
        top_r, idx_r = rows.topk(K, dim=-1) if K < n else rows.sort(-1, descending=True)
        tau_r, p_r = solver(frame(top_r, shift[todo]))
        # widen the accepted slices to K columns (zero mass in the new columns) and overwrite the redone rows
        pad = K - values.shape[1]
        values = torch.nn.functional.pad(values, (0, pad))
        index = torch.cat([index, index[:, :1].expand(-1, pad)], -1) if pad else index
        values[todo], index[todo], tau[todo] = p_r, idx_r, tau_r
        still = (p_r[:, -1] > 0) if K < n else torch.zeros_like(p_r[:, -1], dtype=torch.bool)
        todo = todo[still]
    return values, index, shift, tau


# ------------------------------------------------------------------ whole rows, no sort
# The sort above costs O(n log n) per row and dominates when the support is a large part of
# the row (trained recommenders: 950 of 1682 items for sparsemax, 1300 for 1.5-entmax).
# The solvers below find the same threshold from unsorted rows with a few O(n) passes: each
# pass evaluates the map's mass at one τ, and its support S(τ) = {z > τ} gives the closed
# form of τ on that support -- the formula of the sort algorithm for |S| entries.  A row is
# accepted only when the closed form is *consistent*: the support at the closed form is the
# support it was computed from.  Then τ is the exact threshold (the mass equation holds on
# the true support, and its root is unique), whatever the order of the passes.  Rows not
# accepted after ``max_iter`` passes are left to the sort algorithm (:func:`solve_rows`).
RowSolver = Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]  # z (B, n) shifted → (tau, p, done (B,))


def _count(r: Tensor, buf: Tensor) -> Tensor:
    """#{r > 0} per row for r ≥ 0 (sign then sum: a comparison is 3× slower on the CPU)."""
    return torch.sign(r, out=buf).sum(-1, keepdim=True)


def simplex_rows(z: Tensor, max_iter: int = 64) -> tuple[Tensor, Tensor, Tensor]:
    """Sparsemax threshold by Michelot's algorithm (Michelot 1986; Condat 2016, Alg. 2):
    ``τ ← (Σ_{z_i > τ} z_i − 1)/#{z_i > τ}`` from a lower bound of τ*, which stays a lower
    bound and ends when the support stops shrinking; that τ is the closed form of the sort
    algorithm on the support it was computed from.  Start: max(max z − 1, (Σz − 1)/n) (both
    have mass ≥ 1)."""
    B, n = z.shape
    tau = torch.maximum(z.new_full((B, 1), -1.0), (z.sum(-1, keepdim=True) - 1) / n)
    r, buf = torch.empty_like(z), torch.empty_like(z)
    done = torch.zeros(B, 1, dtype=torch.bool, device=z.device)
    k_prev = None
    for _ in range(max_iter):
        torch.sub(z, tau, out=r).clamp_min_(0)
        k = _count(r, buf)
        if k_prev is not None:
            # τ was computed on S_prev and S(τ) = S_prev (supports are nested: equal counts, equal sets)
            done |= k == k_prev
            if bool(done.all()):
                break
        tau = torch.where(done, tau, tau + (r.sum(-1, keepdim=True) - 1) / k)
        k_prev = k
    return tau, r, done[:, 0]


def entmax15_rows(z: Tensor, max_iter: int = 64) -> tuple[Tensor, Tensor, Tensor]:
    """1.5-entmax threshold on x = z/2: Newton's method on the convex, decreasing
    ``f(τ) = Σ [x_i − τ]_+² − 1`` from the lower bound τ = max x − 1, which never overshoots;
    once two iterates have the same support S, the closed form of the sort algorithm on S,
    ``τ_S = mean_S − sqrt((1 − |S| var_S)/|S|)`` (Peters et al. 2019, Alg. 2, written in
    the shifted sums of the pass), is tried and accepted when S(τ_S) = S."""
    x = z / 2
    B = x.shape[0]
    tau = x.new_full((B, 1), -1.0)
    out = torch.zeros_like(tau)
    r, buf = torch.empty_like(x), torch.empty_like(x)
    done = torch.zeros(B, 1, dtype=torch.bool, device=x.device)
    k_prev = None
    step = None
    for _ in range(max_iter):
        torch.sub(x, tau, out=r).clamp_min_(0)
        s1 = r.sum(-1, keepdim=True)
        s2 = torch.linalg.vecdot(r, r).unsqueeze(-1)
        # supports are counted only near the root (a Newton step below 1e-2; far from it the
        # steps halve the distance and the support is still shrinking): saves a pass, changes
        # nothing but when a row is accepted
        near = step is not None and bool(step.masked_fill(done, 0).amax() < 1e-2)
        k = _count(r, buf) if near else None
        if k is not None and k_prev is not None:
            stable = (k == k_prev) & ~done
            if bool(stable.any()):
                # the smaller root of Σ_S (r_i − ρ)² = 1, i.e. τ_S − τ
                cand = tau + (s1 - (s1 * s1 - k * (s2 - 1)).clamp_min(0).sqrt()) / k
                torch.sub(x, cand, out=buf).clamp_min_(0)
                ok = stable & (_count(buf, buf) == k)
                out = torch.where(ok, cand, out)
                done |= ok
                if bool(done.all()):
                    break
        step = (s2 - 1) / (2 * s1)  # Newton (s1 > 0: the top entry is always in S)
        tau = tau + step
        k_prev = k
    return out, torch.sub(x, out).clamp_min_(0).square_(), done[:, 0]


def capped_rows(k: Tensor, max_iter: int = 96) -> RowSolver:
    """The capped-simplex threshold (``k`` (B, 1)): ``f(τ) = Σ clip(z_i − τ, 0, 1) − k`` is
    non-increasing and piecewise linear; at τ its piece has free set F = {0 < z − τ < 1},
    capped set C = {z − τ ≥ 1} and root ``τ + f(τ)/|F|``.  Newton's step on the piece when it
    lands strictly inside the bracket (lo, hi) (f(lo) ≥ 0 ≥ f(hi)), bisection otherwise; a step whose
    landing point has the same (|S|, |C|) as its start (nested sets: the same sets) landed
    on the root of the true piece, exactly.  A flat piece (F = ∅) with |C| = k is a whole
    interval of roots with one ŷ ∈ {0, 1}ⁿ."""
    def solve(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        B, n = z.shape
        kk = k.to(z.dtype)
        lo = torch.where(torch.isneginf(z), 0.0, z).amin(-1, keepdim=True) - 1  # f(lo) = #finite − k ≥ 0
        hi = torch.zeros_like(lo)  # max z = 0: f = −k < 0
        tau = ((torch.where(torch.isneginf(z), 0.0, z).sum(-1, keepdim=True) - kk) / n).clamp(lo, hi)
        r, buf = torch.empty_like(z), torch.empty_like(z)
        done = torch.zeros(B, 1, dtype=torch.bool, device=z.device)
        newton = torch.zeros_like(done)
        a_prev = c_prev = None
        for _ in range(max_iter):
            torch.sub(z, tau, out=r).clamp_(0, 1)
            a = _count(r, buf)
            c = torch.floor(r, out=buf).sum(-1, keepdim=True)  # r = 1 exactly when z − τ ≥ 1
            f = r.sum(-1, keepdim=True) - kk
            free = a - c
            step = tau + f / free.clamp_min(1)
            # a flat piece of roots, a Newton step below τ's rounding (τ is its piece's root), or
            hit = ((free == 0) & (c == kk)) | ((free > 0) & (step == tau))
            if a_prev is not None:  # a Newton step that stayed on its piece
                hit |= newton & (a == a_prev) & (c == c_prev)
            done |= hit
            if bool(done.all()):
                break
            lo = torch.where(f >= 0, torch.maximum(lo, tau), lo)
            hi = torch.where(f <= 0, torch.minimum(hi, tau), hi)
            # strictly inside: Newton on a piecewise-linear f can cycle between two pieces, and
            # a step back onto an evaluated end of the bracket is one
            newton = (free > 0) & (step > lo) & (step < hi)
            tau = torch.where(done, tau, torch.where(newton, step, (lo + hi) / 2))
            a_prev, c_prev = a, c
        return tau, r, done[:, 0]

    return solve


ROW_SOLVERS: dict = {simplex_threshold: simplex_rows, entmax15_threshold: entmax15_rows}


def solve_rows(theta: Tensor, rows: RowSolver, solver: Solver, k0: int, mask_gap: float = 2.0
               ) -> tuple[Tensor, Tensor, Tensor]:
    """A sparse map on whole rows: ``(values (B, n) float64 dense, shift (B, 1) input dtype,
    z = θ − shift in float64 with masked entries 0)``.  Rows the row solver does not accept
    are solved by the sort algorithm on their top-K slice (:func:`solve_topk`)."""
    shift = theta.amax(-1, keepdim=True)
    z = (theta - shift).double()
    _, p, done = rows(z)
    if not bool(done.all()):
        todo = (~done).nonzero().flatten()
        v, idx, _, _ = solve_topk(theta[todo], solver, k0, mask_gap)
        p[todo] = torch.zeros(todo.numel(), z.shape[1], dtype=p.dtype, device=p.device).scatter_add_(-1, idx, v)
    if not bool(torch.isfinite(z.sum())):
        z = z.nan_to_num(neginf=0.0)  # masked: ŷ = 0 there, and ⟨z, ŷ⟩ must not see −inf · 0
    return p, shift, z
