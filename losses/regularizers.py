"""The exact Softmax family, each loss defined once by its regularizer (Ω, domain, ŷ).

Fenchel–Young loss (Blondel, Martins & Niculae, JMLR 2020, Def. 2):
``L_Ω(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩`` with ``ŷ_Ω(θ) = ∇Ω*(θ) = argmax_{p ∈ dom Ω} ⟨θ,p⟩ − Ω(p)``.

| regularizer  | Ω on its domain                         | ŷ                                   |
|--------------|-----------------------------------------|-------------------------------------|
| Shannon      | Σ p log p on Δ                          | softmax(θ), Ω* = logsumexp          |
| SquaredNorm  | ½‖p‖² − ½ on Δ                          | [θ − τ]_+  (sparsemax)              |
| Tsallis(α)   | (Σ p^α − 1)/(α(α−1)) on Δ               | [(α−1)θ − τ]_+^{1/(α−1)} (entmax)   |
| CappedSquare | ½‖p‖² on C_k = {p∈[0,1]ⁿ : Σp = k}      | clip(θ − τ, 0, 1)  (rankmax)        |

Each regularizer solves the argmax once (:meth:`Regularizer.solve`) and everything
else -- prediction, conjugate, loss, gradient -- is read off that :class:`Solution`.
Because every domain has a fixed total mass ``s`` (1 or k), ``Ω*(θ + c1) = Ω*(θ) + c·s``;
solutions are computed for ``θ − max θ`` and shifted back, which is what keeps
|θ| = 1e4 in float32 exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from . import projections as proj
from ._checks import LABEL_ULPS, check_alpha, check_k, label_sum64, label_tol


@dataclass
class Solution:
    """ŷ for a batch (B, n): its non-zero part ``values`` at columns ``index``
    (``index`` None means dense), the row shift ``m`` (a score of the row: max θ, or
    θ_[k] for a rankmax row solved far from its maximum), and Ω*(θ − m)."""

    values: Tensor
    index: Tensor | None
    shift: Tensor  # (B, 1), input dtype
    conj_shifted: Tensor  # (B,)
    n: int

    def dense(self, dtype: torch.dtype) -> Tensor:
        if self.index is None:
            return self.values.to(dtype)
        out = torch.zeros(self.values.shape[0], self.n, dtype=dtype, device=self.values.device)
        # scatter_add: padded slices repeat a column with zero mass, which must not overwrite
        return out.scatter_add_(-1, self.index, self.values.to(dtype))


class Regularizer:
    """Base class. Subclasses set ``name``, ``mass`` and ``margin`` and implement
    :meth:`solve`, :meth:`_omega` (Ω on a row, no domain check) and ``_cap`` (upper
    bound of an entry: ∞ on Δ, 1 on C_k)."""

    name: str = "?"
    mass: float = 1.0  # Σ p over the domain
    margin: float | None = None  # separation margin of FY-3 (None: no margin)
    _cap: float = math.inf

    def solve(self, theta: Tensor) -> Solution:  # theta: (B, n), validated
        raise NotImplementedError

    def solve_batch(self, theta: Tensor) -> Solution:
        """:meth:`solve` where only a batch's summed loss and ŷ are used (training), so a
        single row's accuracy at a wide margin does not matter; a map with a cheaper form
        for that use overrides it."""
        return self.solve(theta)

    def _omega(self, p: Tensor) -> Tensor:
        raise NotImplementedError

    def _omega_dense(self, p: Tensor) -> Tensor:
        """Ω on long dense rows (labels of the loss); the Euclidean maps use one pass."""
        return self._omega(p)

    def params(self) -> dict:
        return {}

    def omega_grad(self, y: Tensor) -> Tensor:
        """∇Ω(y) of Ω's formula, differentiable (the label gradient of the loss, fy_grad.py)."""
        raise NotImplementedError

    def vjp(self, p: Tensor, g: Tensor) -> Tensor:
        """``J_ŷ(θ)ᵀ g`` from ŷ = ``p`` alone (the Jacobian is symmetric, so this is also
        the JVP); closed forms per map, never autograd through a sort or a bisection."""
        raise NotImplementedError

    # -- domain -------------------------------------------------------------------------
    def in_domain(self, y: Tensor, stats: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor:
        """Row mask: y ≥ 0, y ≤ cap, Σy = mass, to the rounding of y's dtype (a bound that
        does not grow with n, :func:`~losses._checks.label_tol`); ``stats`` = row-wise
        (min, max, sum) when already computed."""
        lo, hi, total = stats if stats is not None else (y.amin(-1), y.amax(-1), y.sum(-1))
        entry, tol_sum = label_tol(y.dtype, y.shape[-1], self.mass)  # the bound: _checks.label_tol
        ok = (lo >= -entry) & ((label_sum64(y, total) - self.mass).abs() <= tol_sum)
        if math.isfinite(self._cap):
            ok = ok & (hi <= self._cap + LABEL_ULPS * torch.finfo(y.dtype).eps)
        return ok

    def check_target(self, y: Tensor, name: str = "target", stats: tuple[Tensor, Tensor, Tensor] | None = None) -> None:
        if not bool(self.in_domain(y, stats).all()):
            where = "C_k = {p ∈ [0,1]^n : Σp = k}" if math.isfinite(self._cap) else "the simplex"
            raise ValueError(f"{name} has label vectors outside the domain of {self.name} ({where}, k = {self.mass:g})"
                             if math.isfinite(self._cap) else f"{name} has label vectors outside {where}")

    def omega(self, p: Tensor) -> Tensor:
        """Ω(p) row-wise; ``ValueError`` if a row is outside the domain (where Ω = +∞)."""
        self.check_target(p, "p")
        return self._omega(p.clamp_min(0))

    def omega_vertex(self, theta: Tensor) -> Tensor | float:
        """Ω(e_y) for a one-hot label (same for every y)."""
        n = theta.shape[-1]
        e = torch.zeros(1, n, dtype=torch.float64)
        e[0, 0] = 1.0
        return float(self._omega(e)[0])


class Shannon(Regularizer):
    """Negative Shannon entropy Ω(p) = Σ p log p on Δ; ŷ = softmax, Ω* = logsumexp."""

    name = "softmax"

    def solve(self, theta: Tensor) -> Solution:
        # Ω*(θ − m) = log Σ exp(θ_j − m) = log1p(Σ_{j ≠ j*} exp(θ_j − m)), j* one argmax: the
        # log1p form keeps L(θ; e_y) = log1p(·) accurate when θ_y leads by a wide margin
        # (logsumexp − θ_y rounds to 0 beyond a margin of ≈ 36 in float64), and one exp
        # pass serves both Ω* and ŷ.
        m, arg = theta.max(-1, keepdim=True)
        e = torch.exp(theta - m)
        rest = e.sum(-1) - 1  # exact enough for ŷ; the loss uses the masked sum below
        tail = e.scatter(-1, arg, 0.0).sum(-1)
        p = e / (1 + rest)[:, None]
        return Solution(p, None, m, torch.log1p(tail), theta.shape[-1])

    def solve_batch(self, theta: Tensor) -> Solution:
        # one exp pass, no argmax and no tail sum: Ω*(θ − m) = log Σ exp(θ_j − m)
        m = theta.amax(-1, keepdim=True)
        p = torch.exp(theta - m)
        total = p.sum(-1, keepdim=True)
        return Solution(p.div_(total), None, m, total.log().squeeze(-1), theta.shape[-1])

    def omega_grad(self, y: Tensor) -> Tensor:
        """log y + 1 (−inf at y_i = 0: the entropy's one-sided slope)."""
        return torch.log(y.clamp_min(0)) + 1

    def _omega(self, p: Tensor) -> Tensor:
        return torch.special.xlogy(p, p).sum(-1)

    def vjp(self, p: Tensor, g: Tensor) -> Tensor:
        """J = diag(p) − ppᵀ."""
        return p * (g - (p * g).sum(-1, keepdim=True))


class SquaredNorm(Regularizer):
    """Ω(p) = ½‖p‖² − ½ on Δ; ŷ = Euclidean projection on Δ (sparsemax)."""

    name = "sparsemax"
    margin = 1.0
    k0 = 16
    # a masked score (−inf) in the top-K slice is solved as (smallest finite score of the
    # slice − gap): a gap above the map's margin puts it below every threshold τ the row
    # can have (τ ≥ max θ − margin; rankmax: τ ≥ θ_[k+1] − 1 with θ_[k+1] in the slice), so
    # it gets exactly zero mass, as if the class were dropped (projections.solve_topk)
    mask_gap = 2.0

    def _solver(self) -> proj.Solver:
        return proj.simplex_threshold

    def solve(self, theta: Tensor) -> Solution:
        solver = self._solver()
        rows = proj.ROW_SOLVERS.get(solver)
        if rows is not None and theta.shape[0]:
            # sort-free on whole rows (exact; projections.py): ŷ dense, Ω*(θ − m) = ⟨θ − m, ŷ⟩ − Ω(ŷ)
            values, shift, z = proj.solve_rows(theta, rows, solver, self.k0, self.mask_gap)
            conj = torch.linalg.vecdot(z, values) - self._omega(values)
            return Solution(values, None, shift, conj, theta.shape[-1])
        values, index, shift, _ = proj.solve_topk(theta, solver, self.k0, self.mask_gap)
        # ⟨θ − m, ŷ⟩ needs only the slice; a masked entry (−inf) has ŷ = 0 and adds 0, not −inf · 0
        top = (theta.gather(-1, index) - shift).double().nan_to_num(neginf=0.0)
        conj = (top * values).sum(-1) - self._omega(values)
        return Solution(values, index, shift, conj, theta.shape[-1])

    def omega_grad(self, y: Tensor) -> Tensor:
        """y (sparsemax, and rankmax through CappedSquare)."""
        return y

    def _omega(self, p: Tensor) -> Tensor:
        return 0.5 * (p * p).sum(-1) - 0.5

    def _omega_dense(self, p: Tensor) -> Tensor:
        return 0.5 * (p.unsqueeze(1) @ p.unsqueeze(2)).reshape(-1) - 0.5

    def vjp(self, p: Tensor, g: Tensor) -> Tensor:
        """J = diag(s) − ssᵀ/|S|, s the indicator of the support (Martins & Astudillo 2016)."""
        s = (p > 0).to(g.dtype)
        return s * (g - (s * g).sum(-1, keepdim=True) / s.sum(-1, keepdim=True))


class Tsallis(SquaredNorm):
    """Tsallis α-entropy Ω(p) = (Σ p^α − 1)/(α(α−1)) on Δ, α > 1; ŷ = α-entmax.

    α = 1.5 and α = 2 use exact sort algorithms; other α bisection, in the form that
    tends to softmax for α − 1 < ``projections.NEAR_SOFTMAX`` (there Ω is summed as
    Σ p·expm1((α−1) log p)/(α(α−1)), its limit Σ p log p as α → 1)."""

    name = "entmax"
    k0 = 64

    def __init__(self, alpha: float = 1.5):
        self.alpha = check_alpha(alpha)
        if self.alpha == 1:
            raise ValueError("alpha must be > 1 for Tsallis; alpha = 1 is the Shannon (softmax) regularizer")
        self.margin = 1.0 / (self.alpha - 1)
        self.mask_gap = 1.0 + self.margin

    def params(self) -> dict:
        return {"alpha": self.alpha}

    def vjp(self, p: Tensor, g: Tensor) -> Tensor:
        """J = diag(s) − ssᵀ/Σs with s_i = ŷ_i^{2−α} on the support, 0 off it (Peters,
        Niculae & Martins 2019, Prop. 1)."""
        # pow at a safe base off the support: its derivative there (∞ for α < 2) would
        # meet where's zero gradient as ∞ · 0 = NaN in a double backward
        pos = p > 0
        s = torch.where(pos, torch.where(pos, p, 1.0).pow(2 - self.alpha), torch.zeros_like(p))
        return s * g - s * (s * g).sum(-1, keepdim=True) / s.sum(-1, keepdim=True)

    def _solver(self) -> proj.Solver:
        if self.alpha == 2:
            return proj.simplex_threshold
        if self.alpha == 1.5:
            return proj.entmax15_threshold
        if self.alpha - 1 < proj.NEAR_SOFTMAX:
            return proj.tsallis_log_threshold(self.alpha)
        return proj.tsallis_bisect_threshold(self.alpha)

    def omega_grad(self, y: Tensor) -> Tensor:
        """y^{α−1}/(α−1)."""
        return y.clamp_min(0).pow(self.alpha - 1) / (self.alpha - 1)

    def _omega(self, p: Tensor) -> Tensor:
        a = self.alpha
        q = p.clamp_min(0)
        if a - 1 < proj.NEAR_SOFTMAX:
            # Σ p^α − 1 = Σ p (p^{α−1} − 1) on Δ, each term p·expm1((α−1) log p) accurate
            # where Σ p^α − 1 cancels to (α−1)·Σ p log p (p = 0: 0 · expm1(−inf) = 0)
            return (q * torch.expm1((a - 1) * q.log())).sum(-1) / (a * (a - 1))
        # p^1.5 as p·√p: a third of pow's time on the CPU, the same to an ulp
        return ((q * q.sqrt() if a == 1.5 else q.pow(a)).sum(-1) - 1) / (a * (a - 1))

    def _omega_dense(self, p: Tensor) -> Tensor:
        return self._omega(p)


# Distance below the maximum (in units of the map's unit cap) past which CappedSquare
# re-solves a row in the frame of θ_[k]: within it the free entries' θ − max θ are off by
# at most ε·FAR/2 (float64: 2^15, 3.6e-12, beyond the |θ| ≤ 1e4 of the report's profiles,
# whose results stay bit for bit; float32: 2^10, 3.1e-5), the accuracy of ŷ there; past it
# the new frame is exact to a few ε whatever the spread.  float16 and bfloat16 (ε of 1e-3
# and 8e-3) have no room: ε·FAR/2 would reach the cap at FAR = 2^10 (the fuzz of issue 22:
# float16 [1000, .3, .1, 0] with k = 2 gave [1, .67, .17, .17], not [1, .5, .3, .2]), so a
# row is re-solved as soon as its (k+1)-th score lies one unit below the maximum.
def far(dtype: torch.dtype) -> float:
    if dtype == torch.float64:
        return 2.0 ** 15
    return 2.0 ** 10 if dtype == torch.float32 else 1.0


def _widen(values: Tensor, index: Tensor, K: int, into_values: Tensor | None = None,
           into_index: Tensor | None = None, rows: Tensor | None = None) -> tuple[Tensor, Tensor] | Tensor:
    """A slice widened to K columns of zero mass (its first column repeated, the padding
    convention of projections.solve_topk); with ``into_*``, written over ``rows`` of those
    (already K wide) and the merged (values, index) returned."""
    pad = K - values.shape[1]
    if pad:
        values = torch.nn.functional.pad(values, (0, pad))
        index = torch.cat([index, index[:, :1].expand(-1, pad)], -1)
    if into_values is None:
        return values, index
    into_values, into_index = into_values.clone(), into_index.clone()
    into_values[rows], into_index[rows] = values, index
    return into_values, into_index


class CappedSquare(SquaredNorm):
    """Ω(p) = ½‖p‖² on C_k = {p ∈ [0,1]^n : Σp = k}; ŷ = Euclidean projection on C_k
    (rankmax, reading R1 of CLAIMS.md).  k = 1 is sparsemax."""

    name = "rankmax"
    margin = 1.0
    _cap = 1.0

    def __init__(self, k: int):
        self.k = k = check_k(k)
        self.mass = float(k)
        # the free set of a projection on C_k holds several times k entries for spread-out
        # scores: start the slice there rather than pay for a second top-K
        self.k0 = max(64, 8 * k)

    def params(self) -> dict:
        return {"k": self.k}

    def check_n(self, n: int) -> None:
        """1 ≤ k ≤ n; k = n is the one-point domain C_n = {1} (ŷ = 1, loss 0), as n = 1 is Δ's."""
        if not 1 <= self.k <= n:
            raise ValueError(f"k must lie in [1, n] = [1, {n}] for n = {n}, got k = {self.k}")

    def check_masked(self, masked: Tensor | None, name: str = "theta") -> None:
        """A row needs at least k unmasked classes to carry mass k."""
        if masked is not None and bool(((~masked).sum(-1) < self.k).any()):
            raise ValueError(f"{name} has a row with fewer than k = {self.k} unmasked (finite) scores")

    def vjp(self, p: Tensor, g: Tensor) -> Tensor:
        """J = diag(s) − ssᵀ/|F|, s the indicator of the free set F = {0 < ŷ_i < 1};
        zero when no entry is free."""
        s = ((p > 0) & (p < 1)).to(g.dtype)
        return s * (g - (s * g).sum(-1, keepdim=True) / s.sum(-1, keepdim=True).clamp_min(1))

    def _solver(self) -> proj.Solver:
        return proj.capped_threshold(self.k)

    def solve(self, theta: Tensor) -> Solution:
        """The projection on the top-K slice shifted by the maximum (as sparsemax); a row
        whose (k+1)-th score lies more than :func:`far` below its maximum (free entries
        that far from the maximum lose precision in θ − max θ: past a spread of 2^53 in
        float64 the unit cap is not resolved at all; or θ − max θ overflowed) is solved again in
        the frame of its k-th largest score (``projections.capped_frame``), exact there."""
        B, n = theta.shape
        if self.k == n:  # C_n = {1}
            values = torch.ones(B, n, dtype=torch.float64, device=theta.device)
            shift = theta.amax(-1, keepdim=True)
            conj = (theta.double() - shift.double()).sum(-1) - self._omega(values)
            return Solution(values, None, shift, conj, n)
        solver = self._solver()
        values, index, shift, tau = proj.solve_topk(theta, solver, self.k0, self.mask_gap)
        top = (theta.gather(-1, index) - shift).double()
        # τ ≥ θ_[k+1] − 1 − max θ (the slice is sorted, k < n ≤ its width): when θ_[k+1] is
        # within far() of the maximum, so is every entry the projection reads
        lim = far(theta.dtype)
        redo = ~(top[:, self.k] >= -lim) | ~(tau[:, 0].abs() <= lim + 1)
        top = top.nan_to_num(neginf=0.0)
        conj = (top * values).sum(-1) - self._omega(values)
        if bool(redo.any()):
            rows = redo.nonzero().flatten()
            v, i, s, _ = proj.solve_topk(theta[rows], solver, self.k0, self.mask_gap, ref=self.k - 1)
            # ŷ = 0 where θ − θ_[k] is −inf (masked, or overflowed far below τ)
            top = (theta[rows].gather(-1, i).double() - s.double()).nan_to_num(neginf=0.0)
            K = max(values.shape[1], v.shape[1])
            values, index = _widen(values, index, K)
            values, index = _widen(v, i, K, values, index, rows)
            shift, conj = shift.clone(), conj.clone()
            shift[rows], conj[rows] = s, (top * v).sum(-1) - self._omega(v)
        return Solution(values, index, shift, conj, n)

    def _omega(self, p: Tensor) -> Tensor:
        return 0.5 * (p * p).sum(-1)

    def _omega_dense(self, p: Tensor) -> Tensor:
        return 0.5 * (p.unsqueeze(1) @ p.unsqueeze(2)).reshape(-1)

    def omega_vertex(self, theta: Tensor) -> float:
        return 0.5  # one-hot labels are in C_k only for k = 1
