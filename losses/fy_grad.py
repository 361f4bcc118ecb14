"""Differentiable derivatives of the Fenchel–Young losses (double backward, label gradients).

The first-order backward of ``L_Ω(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩`` is the closed form
``∇_θ L = ŷ_Ω(θ) − y`` (Blondel, Martins & Niculae, JMLR 2020, Prop. 2); it is computed
from the forward's solution and has no graph.  When a second derivative is asked for
(``create_graph=True``, e.g. ``torch.autograd.functional.hessian``), the same quantities
are rebuilt here from differentiable pieces:

* ŷ(θ) by :class:`MapFunction`, whose backward is the closed-form Jacobian-vector
  product :meth:`Regularizer.vjp` written in torch operations of ŷ and the incoming
  gradient, so autograd differentiates it again through ŷ: ``∇²_θ L = J_ŷ(θ)`` and the
  maps' own second derivatives exist where the map is smooth (softmax, entmax inside a
  support; sparsemax and rankmax are piecewise linear, second derivative 0 off the kinks).
* the label gradient.  L is defined on dom Ω only (Σy = s), so its gradient in y is fixed
  up to a multiple of 1; we return the gradient of the extension
  ``L̃(θ, y) = (Σy/s)·Ω*(θ) + Ω(y) − ⟨θ, y⟩`` (equal to L on dom Ω, invariant under
  θ → θ + c1 for every y, and for softmax exactly ``F.kl_div(F.log_softmax(θ), y)``, i.e.
  torch's soft-target cross-entropy plus Σ y log y):
  ``∂L̃/∂y = ∇Ω(y) − (θ − m) + Ω*(θ − m)/s``, m = max θ (for softmax
  ``log y + 1 − log_softmax(θ)``).  On the boundary, ∇Ω(y) is the one-sided derivative:
  ``−inf`` for Shannon at y_i = 0 (the entropy has infinite slope there), 0 for Tsallis
  and y itself for the Euclidean maps.  A masked class (θ_i = −inf) is not part of the
  problem, so its label gets gradient 0, as its score does.  The mixed second derivative
  is that of L̃ too (``∂²L̃/∂θ∂y = ŷ1ᵀ/s − I``), so the Hessian in (θ, y) is symmetric.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .regularizers import Regularizer, Solution


class MapFunction(torch.autograd.Function):
    """ŷ(θ) with the closed-form Jacobian-vector product of the regularizer; ``sol`` (a
    :class:`Solution` of θ already computed) saves the solve."""

    @staticmethod
    def forward(ctx, theta: Tensor, reg: Regularizer, sol: Solution | None = None) -> Tensor:
        if sol is None:
            p = reg.solve(theta.detach()).dense(theta.dtype)
        else:
            p = sol.dense(theta.dtype)
            if p is sol.values:
                p = p.clone()  # the output gets a grad_fn; the solution's tensor must not
        ctx.save_for_backward(p)
        ctx.reg = reg
        return p

    @staticmethod
    def backward(ctx, g: Tensor):
        (p,) = ctx.saved_tensors
        return ctx.reg.vjp(p, g), None, None


class _ConjFunction(torch.autograd.Function):
    """Ω*(θ − m) with the row shift m held constant: the value from a solution, the
    gradient ŷ(θ) (differentiable in turn)."""

    @staticmethod
    def forward(ctx, theta: Tensor, reg: Regularizer, sol: Solution) -> Tensor:
        ctx.save_for_backward(theta)
        ctx.reg, ctx.sol = reg, sol
        return sol.conj_shifted.to(theta.dtype, copy=True)

    @staticmethod
    def backward(ctx, g: Tensor):
        (theta,) = ctx.saved_tensors
        if torch.is_grad_enabled():
            p = MapFunction.apply(theta, ctx.reg, ctx.sol)
        else:
            p = ctx.sol.dense(theta.dtype)
        return g[:, None] * p, None, None


def omega_grad(reg: Regularizer, y: Tensor) -> Tensor:
    """∇Ω(y) of the formula of Ω (differentiable): the regularizer's own
    :meth:`~losses.regularizers.Regularizer.omega_grad`."""
    return reg.omega_grad(y)


def theta_grad(theta: Tensor, reg: Regularizer, sol: Solution, g: Tensor, index: Tensor | None,
               y: Tensor | None) -> Tensor:
    """g·(ŷ(θ) − y) as a differentiable function of θ, g and y (one-hot y for ``index``),
    in the first-order backward's order of operations (the same values)."""
    dtype = theta.dtype
    gc = g[:, None]
    if index is None:
        grad = y.to(dtype) * (-gc)
    else:
        grad = torch.zeros(g.shape[0], sol.n, dtype=dtype, device=g.device).scatter_add(-1, index[:, None], -gc)
    p = MapFunction.apply(theta, reg, sol)
    grad = grad + p * gc
    if y is not None and y.requires_grad:
        # ∂²L̃/∂y∂θ = ŷ1ᵀ/s − I: the ŷ1ᵀ/s part through a term whose value is exactly 0
        total = y.to(dtype).sum(-1)
        grad = grad + p * (gc * ((total - total.detach()) / reg.mass)[:, None])
    return grad


def label_grad(theta: Tensor, reg: Regularizer, sol: Solution, g: Tensor, y: Tensor,
               masked: Tensor | None) -> Tensor:
    """g·∂L̃/∂y = g·(∇Ω(y) − (θ − m) + Ω*(θ − m)/s), 0 on masked classes; differentiable
    in θ, y and g when grad mode is on (double backward)."""
    dtype = y.dtype
    if torch.is_grad_enabled() and theta.requires_grad:
        conj = _ConjFunction.apply(theta, reg, sol)
    else:
        conj = sol.conj_shifted
    centred = (theta - sol.shift).to(dtype)
    # masked classes: a safe label (no log 0 in the graph) and a finite score; filled with 0 below
    y_safe = y if masked is None else y.masked_fill(masked, 1.0)
    if masked is not None:
        centred = centred.masked_fill(masked, 0.0)
    out = (omega_grad(reg, y_safe) - centred + (conj.to(dtype) / reg.mass)[:, None]) * g.to(dtype)[:, None]
    return out if masked is None else out.masked_fill(masked, 0.0)
