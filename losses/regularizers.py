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
from ._checks import check_alpha, domain_tol


@dataclass
class Solution:
    """ŷ for a batch (B, n): its non-zero part ``values`` at columns ``index``
    (``index`` None means dense), the row shift ``m`` = max θ, and Ω*(θ − m)."""

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

    def vjp(self, p: Tensor, g: Tensor) -> Tensor:
        """``J_ŷ(θ)ᵀ g`` from ŷ = ``p`` alone (the Jacobian is symmetric, so this is also
        the JVP); closed forms per map, never autograd through a sort or a bisection."""
        raise NotImplementedError

    # -- domain -------------------------------------------------------------------------
    def in_domain(self, y: Tensor, stats: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor:
        """Row mask: y ≥ 0, y ≤ cap, Σy = mass, within a dtype-aware tolerance; ``stats``
        = row-wise (min, max, sum) when already computed."""
        tol = domain_tol(y.dtype, y.shape[-1])
        lo, hi, total = stats if stats is not None else (y.amin(-1), y.amax(-1), y.sum(-1))
        ok = (lo >= -tol) & ((total - self.mass).abs() <= tol * max(1.0, self.mass))
        if math.isfinite(self._cap):
            ok = ok & (hi <= self._cap + tol)
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

    α = 1.5 and α = 2 use exact sort algorithms; other α bisection."""

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
        s = torch.where(p > 0, p.clamp_min(0).pow(2 - self.alpha), torch.zeros_like(p))
        return s * g - s * (s * g).sum(-1, keepdim=True) / s.sum(-1, keepdim=True)

    def _solver(self) -> proj.Solver:
        if self.alpha == 2:
            return proj.simplex_threshold
        if self.alpha == 1.5:
            return proj.entmax15_threshold
        return proj.tsallis_bisect_threshold(self.alpha)

    def _omega(self, p: Tensor) -> Tensor:
        a = self.alpha
        q = p.clamp_min(0)
        # p^1.5 as p·√p: a third of pow's time on the CPU, the same to an ulp
        return ((q * q.sqrt() if a == 1.5 else q.pow(a)).sum(-1) - 1) / (a * (a - 1))

    def _omega_dense(self, p: Tensor) -> Tensor:
        return self._omega(p)


class CappedSquare(SquaredNorm):
    """Ω(p) = ½‖p‖² on C_k = {p ∈ [0,1]^n : Σp = k}; ŷ = Euclidean projection on C_k
    (rankmax, reading R1 of CLAIMS.md).  k = 1 is sparsemax."""

    name = "rankmax"
    margin = 1.0
    _cap = 1.0

    def __init__(self, k: int):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an integer ≥ 1, got {k!r}")
        self.k = k
        self.mass = float(k)
        # the free set of a projection on C_k holds several times k entries for spread-out
        # scores: start the slice there rather than pay for a second top-K
        self.k0 = max(64, 8 * k)

    def params(self) -> dict:
        return {"k": self.k}

    def check_n(self, n: int) -> None:
        if not 1 <= self.k <= n - 1:
            raise ValueError(f"k must lie in [1, n − 1] = [1, {n - 1}] for n = {n}, got k = {self.k}")

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

    def _omega(self, p: Tensor) -> Tensor:
        return 0.5 * (p * p).sum(-1)

    def _omega_dense(self, p: Tensor) -> Tensor:
        return 0.5 * (p.unsqueeze(1) @ p.unsqueeze(2)).reshape(-1)

    def omega_vertex(self, theta: Tensor) -> float:
        return 0.5  # one-hot labels are in C_k only for k = 1
