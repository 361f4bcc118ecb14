"""The generic Fenchel–Young loss: any :class:`~losses.regularizers.Regularizer` makes one.

``L_Ω(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩``, ``∇_θ L = ŷ_Ω(θ) − y`` (Blondel et al. 2020,
Prop. 2).  The backward pass is that formula, not autograd through the solver: it
costs one scatter of ŷ's support (one dense write for softmax).

Computation in shifted coordinates (m = max θ, s = Σ over the domain = Σ y):
``L = Ω*(θ − m) + Ω(y) − ⟨θ − m, y⟩``, exact because ``⟨m1, y⟩ = m·s``.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_index_target, check_scores, check_vector_target
from .regularizers import CappedSquare, Regularizer, Solution


class _FYFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta: Tensor, reg: Regularizer, index: Tensor | None, y: Tensor | None) -> Tensor:
        sol = reg.solve(theta)
        conj = sol.conj_shifted
        if index is not None:
            # one-hot labels: ⟨θ − m, e_y⟩ = θ_y − m
            inner = (theta.gather(-1, index[:, None]) - sol.shift).squeeze(-1).to(conj.dtype)
            loss = conj - inner + reg.omega_vertex(theta)
        else:
            # L = ⟨θ − m, ŷ − y⟩ − Ω(ŷ) + Ω(y) on dense rows summed in the same order, so
            # ŷ = y gives exactly 0 (the slice-based Ω* would differ from ⟨θ − m, y⟩ by an ulp)
            yd = y.to(conj.dtype)
            p = sol.dense(conj.dtype)
            inner = ((theta - sol.shift).to(conj.dtype) * (p - yd)).sum(-1)
            loss = inner - reg._omega(p) + reg._omega(yd.clamp_min(0))
        ctx.sol, ctx.index, ctx.y = sol, index, y
        return loss.to(theta.dtype)

    @staticmethod
    def backward(ctx, g: Tensor):
        sol: Solution = ctx.sol
        dtype = g.dtype
        if sol.index is None:
            grad = sol.values.to(dtype) * g[:, None]
        else:
            grad = torch.zeros(g.shape[0], sol.n, dtype=dtype, device=g.device)
            grad.scatter_add_(-1, sol.index, sol.values.to(dtype) * g[:, None])
        if ctx.index is not None:
            grad.scatter_add_(-1, ctx.index[:, None], -g[:, None])
        else:
            grad -= ctx.y.to(dtype) * g[:, None]
        return grad, None, None, None


class FenchelYoungLoss(torch.nn.Module):
    """Per-example FY loss of a regularizer, with its prediction map and conjugate.

    ``loss(theta, target)``: ``theta`` (..., n); ``target`` class indices (...) or
    label vectors (..., n) in the domain of Ω.  Returns losses of shape (...)."""

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

    def _flat(self, theta: Tensor) -> Tensor:
        check_scores(theta)
        if isinstance(self.regularizer, CappedSquare):
            self.regularizer.check_n(theta.shape[-1])
        return theta.reshape(-1, theta.shape[-1])

    def solve(self, theta: Tensor) -> Solution:
        return self.regularizer.solve(self._flat(theta).detach())

    def predict(self, theta: Tensor) -> Tensor:
        """ŷ_Ω(θ) = argmax_{p ∈ dom Ω} ⟨θ,p⟩ − Ω(p), same shape and dtype as θ (no gradient)."""
        return self.solve(theta).dense(theta.dtype).reshape(theta.shape)

    def conjugate(self, theta: Tensor) -> Tensor:
        """Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ), computed as Ω*(θ − m) + m·Σŷ (no gradient)."""
        sol = self.solve(theta)
        out = sol.conj_shifted + sol.shift.squeeze(-1).to(sol.conj_shifted.dtype) * self.regularizer.mass
        return out.to(theta.dtype).reshape(theta.shape[:-1])

    def omega(self, p: Tensor) -> Tensor:
        """Ω(p) row-wise; ValueError outside the domain."""
        check_vector_target(p, p, "p")
        return self.regularizer.omega(p)

    def forward(self, theta: Tensor, target: Tensor) -> Tensor:
        flat = self._flat(theta)
        if not isinstance(target, Tensor):
            raise ValueError(f"target must be a torch.Tensor, got {type(target).__name__}")
        if target.is_floating_point():
            check_vector_target(target, theta)
            self.regularizer.check_target(target)
            index, y = None, target.reshape(flat.shape).to(theta.device)
        else:
            check_index_target(target, theta)
            if isinstance(self.regularizer, CappedSquare) and self.regularizer.k != 1:
                raise ValueError(
                    f"target as class indices is a one-hot label, which lies in C_k only for k = 1 "
                    f"(here k = {self.regularizer.k}); pass multi-hot label vectors"
                )
            index, y = target.reshape(-1).to(theta.device), None
        return _FYFunction.apply(flat, self.regularizer, index, y).reshape(theta.shape[:-1])
