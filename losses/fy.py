"""The generic Fenchel–Young loss: any :class:`~losses.regularizers.Regularizer` makes one.

``L_Ω(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩``, ``∇_θ L = ŷ_Ω(θ) − y`` (Blondel et al. 2020,
Prop. 2).  The backward pass is that formula, not autograd through the solver: it
costs one scatter of ŷ's support (one dense write for softmax).

Computation in shifted coordinates (m = max θ, s = Σ over the domain = Σ y):
``L = Ω*(θ − m) + Ω(y) − ⟨θ − m, y⟩``, exact because ``⟨m1, y⟩ = m·s``.

Conventions of ``torch.nn.functional``: the class dimension is ``dim`` (default −1);
a score of −inf masks its class (ŷ = 0 there for every member of the family, the loss
and its gradient stay finite, the gradient is 0 on masked classes; a label on a masked
class is a ``ValueError``).  :meth:`FenchelYoungLoss.predict` is differentiable: its
backward is the closed-form Jacobian of each map (:meth:`Regularizer.vjp`).
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_index_target, check_vector_target, scan_scores
from .regularizers import CappedSquare, Regularizer, Solution


def _rowdot(a: Tensor, b: Tensor) -> Tensor:
    """Row-wise ⟨a, b⟩ in one pass (a batched matrix product; no (B, n) temporary)."""
    return (a.unsqueeze(1) @ b.unsqueeze(2)).reshape(-1)


def _slice_loss(theta: Tensor, reg: Regularizer, sol: Solution, y: Tensor, y_sum: Tensor) -> tuple[Tensor, Tensor]:
    """L on the slice of ŷ's support, ⟨θ − m, ŷ − y⟩ − Ω(ŷ) + Ω(y), summed entry by entry
    so that y = ŷ gives exactly 0; and the rows where that is the loss: the labels' mass
    on the slice is their whole mass, up to the rounding of the two sums (labels are ≥ 0,
    so mass left outside shows in the sums; mass below their rounding, 8ε·Σy, moves the
    loss by less than its own rounding)."""
    index = sol.index
    # widened rows pad their slice by repeating its first column (mass 0): count it once
    pad = index == index[:, :1]
    pad[:, 0] = False
    y_s = y.gather(-1, index).double().masked_fill(pad, 0.0)
    th_s = (theta.gather(-1, index) - sol.shift).double().nan_to_num(neginf=0.0)  # masked: ŷ = y = 0
    loss = (th_s * (sol.values - y_s)).sum(-1) - reg._omega(sol.values) + reg._omega(y_s)
    tol = 8 * torch.finfo(y.dtype).eps * y_sum.double().clamp_min(1.0)
    return loss, (y_s.sum(-1) - y_sum.double()).abs() <= tol


class _FYFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta: Tensor, reg: Regularizer, index: Tensor | None, y: Tensor | None,
                y_sum: Tensor | None, masked: Tensor | None) -> Tensor:
        sol = reg.solve(theta)
        conj = sol.conj_shifted
        if index is not None:
            # one-hot labels: ⟨θ − m, e_y⟩ = θ_y − m
            inner = (theta.gather(-1, index[:, None]) - sol.shift).squeeze(-1).to(conj.dtype)
            loss = conj - inner + reg.omega_vertex(theta)
        elif sol.index is None:
            # dense ŷ (softmax): L = ⟨θ − m, ŷ − y⟩ − Ω(ŷ) + Ω(y) summed entry by entry, so ŷ = y
            # gives exactly 0; a masked class has ŷ = y = 0 and adds nothing (not −inf · 0)
            yd = y.to(conj.dtype)
            p = sol.dense(conj.dtype)
            centred = theta - sol.shift if masked is None else (theta - sol.shift).masked_fill(masked, 0)
            loss = (centred.to(conj.dtype) * (p - yd)).sum(-1) - reg._omega(p) + reg._omega(yd.clamp_min(0))
        else:
            # sparse ŷ: on ŷ's slice where the labels lie in it (exact, cheap); otherwise
            # L = Ω*(θ − m) − ⟨θ, y⟩ + m·Σy + Ω(y) with two dense passes over the labels
            loss, inside = _slice_loss(theta, reg, sol, y, y_sum)
            if not bool(inside.all()):
                th = theta if masked is None else theta.masked_fill(masked, 0.0)
                dense = (conj - _rowdot(th, y).to(conj.dtype) + (sol.shift[:, 0] * y_sum).to(conj.dtype)
                         + reg._omega_dense(y).to(conj.dtype))
                loss = torch.where(inside, loss, dense)
        ctx.sol, ctx.index, ctx.y = sol, index, y
        return loss.to(theta.dtype)

    @staticmethod
    def backward(ctx, g: Tensor):
        sol: Solution = ctx.sol
        dtype = g.dtype
        if ctx.index is None:
            grad = ctx.y.to(dtype) * (-g[:, None])  # − y, one dense pass; ŷ added below
        else:
            grad = torch.zeros(g.shape[0], sol.n, dtype=dtype, device=g.device)
            grad.scatter_add_(-1, ctx.index[:, None], -g[:, None])
        if sol.index is None:
            grad += sol.values.to(dtype) * g[:, None]
        else:
            grad.scatter_add_(-1, sol.index, sol.values.to(dtype) * g[:, None])
        return grad, None, None, None, None, None


class _MapFunction(torch.autograd.Function):
    """ŷ(θ) with the closed-form Jacobian-vector product of the regularizer."""

    @staticmethod
    def forward(ctx, theta: Tensor, reg: Regularizer) -> Tensor:
        p = reg.solve(theta.detach()).dense(theta.dtype)
        ctx.save_for_backward(p)
        ctx.reg = reg
        return p

    @staticmethod
    def backward(ctx, g: Tensor):
        (p,) = ctx.saved_tensors
        return ctx.reg.vjp(p, g), None


class FenchelYoungLoss(torch.nn.Module):
    """Per-example FY loss of a regularizer, with its prediction map and conjugate.

    ``loss(theta, target, dim=-1)``: ``theta`` with the classes along ``dim``; ``target``
    class indices (θ's shape without ``dim``) or label vectors (θ's shape) in the domain
    of Ω.  Returns losses of θ's shape without ``dim``."""

    def __init__(self, regularizer: Regularizer):
        super().__init__()
        self.regularizer = regularizer

    @property
    def name(self) -> str:
        return self.regularizer.name

    @property
    def margin(self) -> float | None:
        return self.regularizer.margin

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.regularizer.params().items())

    def _prepare(self, theta: Tensor, dim: int) -> tuple[Tensor, Tensor, Tensor | None]:
        """(θ with the classes last, its rows (B, n), the rows' mask or None), validated."""
        if not isinstance(theta, Tensor):
            raise ValueError(f"theta must be a torch.Tensor, got {type(theta).__name__}")
        moved = theta.movedim(dim, -1) if theta.dim() else theta
        masked = scan_scores(moved)
        n = moved.shape[-1]
        flat = moved.reshape(-1, n)
        if masked is not None:
            masked = masked.reshape(-1, n)
        if isinstance(self.regularizer, CappedSquare):
            self.regularizer.check_n(n)
            self.regularizer.check_masked(masked)
        return moved, flat, masked

    def solve(self, theta: Tensor) -> Solution:
        return self.regularizer.solve(self._prepare(theta, -1)[1].detach())

    def solve_batch(self, theta: Tensor) -> Solution:
        """The regularizer's :meth:`~Regularizer.solve_batch` on validated rows (training)."""
        return self.regularizer.solve_batch(self._prepare(theta, -1)[1].detach())

    def predict(self, theta: Tensor, dim: int = -1) -> Tensor:
        """ŷ_Ω(θ) = argmax_{p ∈ dom Ω} ⟨θ,p⟩ − Ω(p) along ``dim``, same shape and dtype as θ;
        differentiable (closed-form Jacobian of the map)."""
        moved, flat, _ = self._prepare(theta, dim)
        return _MapFunction.apply(flat, self.regularizer).reshape(moved.shape).movedim(-1, dim)

    def conjugate(self, theta: Tensor, dim: int = -1) -> Tensor:
        """Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) along ``dim``, computed as Ω*(θ − m) + m·Σŷ (no gradient)."""
        moved, flat, _ = self._prepare(theta, dim)
        sol = self.regularizer.solve(flat.detach())
        out = sol.conj_shifted + sol.shift.squeeze(-1).to(sol.conj_shifted.dtype) * self.regularizer.mass
        return out.to(theta.dtype).reshape(moved.shape[:-1])

    def omega(self, p: Tensor) -> Tensor:
        """Ω(p) row-wise; ValueError outside the domain."""
        check_vector_target(p, p, "p")
        return self.regularizer.omega(p)

    def forward(self, theta: Tensor, target: Tensor, dim: int = -1) -> Tensor:
        if not isinstance(target, Tensor):
            raise ValueError(f"target must be a torch.Tensor, got {type(target).__name__}")
        moved, flat, masked = self._prepare(theta, dim)
        y_sum = index = y = None
        if target.is_floating_point():
            # shapes as seen with the classes last (the same check when dim = −1)
            stats = check_vector_target(target.movedim(dim, -1), moved)
            stats = tuple(s.reshape(-1) for s in stats)
            y = target.movedim(dim, -1).reshape(flat.shape).to(theta.device)
            self.regularizer.check_target(y, stats=stats)
            y_sum = stats[2]
            if masked is not None and bool((masked & (y != 0)).any()):
                raise ValueError("target puts label mass on a masked class (theta = −inf there)")
        else:
            check_index_target(target, moved)
            if isinstance(self.regularizer, CappedSquare) and self.regularizer.k != 1:
                raise ValueError(
                    f"target as class indices is a one-hot label, which lies in C_k only for k = 1 "
                    f"(here k = {self.regularizer.k}); pass multi-hot label vectors"
                )
            index = target.reshape(-1).to(theta.device)
            if masked is not None and bool(masked.gather(-1, index[:, None]).any()):
                raise ValueError("target has a class index on a masked class (theta = −inf there)")
        return _FYFunction.apply(flat, self.regularizer, index, y, y_sum, masked).reshape(moved.shape[:-1])
