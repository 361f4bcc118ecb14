"""The generic Fenchel–Young loss: any :class:`~losses.regularizers.Regularizer` makes one.

``L_Ω(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩``, ``∇_θ L = ŷ_Ω(θ) − y`` (Blondel et al. 2020,
Prop. 2).  The backward pass is that formula, not autograd through the solver: it
costs one scatter of ŷ's support (one dense write for softmax).  Under
``create_graph=True``, and for labels that require grad, the backward is rebuilt from
differentiable pieces instead (:mod:`losses.fy_grad`), so second derivatives and label
gradients are exact.

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

from ._checks import ArgumentTypeError, check_dim, check_index_target, check_vector_target, scan_scores
from .regularizers import CappedSquare, Regularizer, Solution
from .fy_grad import MapFunction as _MapFunction, label_grad, theta_grad


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
        # unpacked only for a differentiable backward (fy_grad): the first-order one reads sol
        ctx.save_for_backward(theta, y)
        ctx.reg, ctx.masked = reg, masked
        return loss.to(theta.dtype)

    @staticmethod
    def backward(ctx, g: Tensor):
        sol: Solution = ctx.sol
        grad_y = None
        if ctx.needs_input_grad[3] or torch.is_grad_enabled():
            # a label gradient, or a graph for a higher derivative (create_graph=True)
            theta, y = ctx.saved_tensors
            if ctx.needs_input_grad[3]:
                grad_y = label_grad(theta, ctx.reg, sol, g, y, ctx.masked)
            if torch.is_grad_enabled():
                grad = theta_grad(theta, ctx.reg, sol, g, ctx.index, y) if ctx.needs_input_grad[0] else None
                return grad, None, None, grad_y, None, None
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
        return grad, None, None, grad_y, None, None


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
            raise ArgumentTypeError(f"theta must be a torch.Tensor, got {type(theta).__name__}")
        dim = check_dim(dim, theta.dim())
        moved = theta.movedim(dim, -1) if theta.dim() else theta
        masked = scan_scores(moved, min_classes=1)  # n = 1: ŷ = 1, loss 0 (as torch.softmax)
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
        if not isinstance(p, Tensor):
            raise ArgumentTypeError(f"p must be a torch.Tensor, got {type(p).__name__}")
        check_vector_target(p, p, "p")
        return self.regularizer.omega(p)

    def forward(self, theta: Tensor, target: Tensor, dim: int = -1) -> Tensor:
        if not isinstance(target, Tensor):
            raise ArgumentTypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
        moved, flat, masked = self._prepare(theta, dim)
        y_sum = index = y = None
        if target.is_floating_point():
            if tuple(target.shape) != tuple(theta.shape):
                raise ValueError(f"target has shape {tuple(target.shape)}; label vectors must have theta's shape "
                                 f"{tuple(theta.shape)}")
            # shapes as seen with the classes last (the same check when dim = −1)
            stats = check_vector_target(target.movedim(dim, -1), moved)
            stats = tuple(s.reshape(-1) for s in stats)
            y = target.movedim(dim, -1).reshape(flat.shape).to(theta.device)
            self.regularizer.check_target(y, stats=stats)
            y_sum = stats[2]
            if y.dtype != theta.dtype:
                # labels in θ's dtype, once they are known to lie in the domain (in their own
                # precision): every route of the loss then computes in one dtype
                y = y.to(theta.dtype)
                y_sum = y.sum(-1)
            if masked is not None and bool((masked & (y != 0)).any()):
                raise ValueError("target puts label mass on a masked class (theta = −inf there)")
        else:
            check_index_target(target, moved)
            if isinstance(self.regularizer, CappedSquare) and self.regularizer.k != 1:
                raise ValueError(
                    f"target as class indices is a one-hot label, which lies in C_k only for k = 1 "
                    f"(here k = {self.regularizer.k}); pass multi-hot label vectors"
                )
            index = target.reshape(-1).to(device=theta.device, dtype=torch.long)  # int8…uint8 too
            if masked is not None and bool(masked.gather(-1, index[:, None]).any()):
                raise ValueError("target has a class index on a masked class (theta = −inf there)")
        loss = _FYFunction.apply(flat, self.regularizer, index, y, y_sum, masked)
        far = self._overflow_rows(flat, masked)
        if far is not None:
            loss = loss.index_put((far,), self._wide_loss(flat[far], index, y, masked, far))
        return loss.reshape(moved.shape[:-1])

    def _overflow_rows(self, flat: Tensor, masked: Tensor | None) -> Tensor | None:
        """Rows whose spread max θ − min θ (finite entries) overflows θ's dtype, where the
        shifted scores θ − m of the loss would read ±inf; None when there is none (one
        reduction over the batch decides it)."""
        if not flat.numel():
            return None
        fin = flat if masked is None else flat.detach().masked_fill(masked, 0.0)
        lo, hi = torch.aminmax(fin.detach())
        if bool(torch.isfinite(hi - lo)):
            return None
        far = ~torch.isfinite(fin.detach().amax(-1) - fin.detach().amin(-1))
        return far.nonzero().flatten() if bool(far.any()) else None

    def _wide_loss(self, theta: Tensor, index: Tensor | None, y: Tensor | None,
                   masked: Tensor | None, rows: Tensor) -> Tensor:
        """The loss of rows whose spread overflows θ's dtype.  In float64 (exact for every
        narrower dtype: a spread ≤ 2·3.4e38 is finite there), with scores farther than
        B = max/4 from the row's s-th largest score θ_[s] (s = mass: 1 or k) clipped to
        θ_[s] ± B, which leaves ŷ unchanged (an entry below θ_[s] − B has ŷ = 0, above
        θ_[s] + B ŷ = 1: the thresholds lie within the margin ≤ 1/(α−1) < B of θ_[s]).
        Then L(θ; y) = L(θ'; y) + ⟨θ − θ', ŷ − y⟩, every term of the correction ≥ 0, so its
        overflow means a loss beyond float64 (inf, rounded).  The clipping passes gradients
        straight through (the gradient is ŷ − y at θ and θ' alike)."""
        x = theta.double()
        xd = x.detach()
        s = int(self.regularizer.mass)
        ref = xd.topk(s, dim=-1).values[:, -1:]
        bound = torch.finfo(torch.float64).max / 4
        clipped = xd.clamp(ref - bound, ref + bound)
        moved = (clipped != xd) & torch.isfinite(xd)  # masks (−inf) stay masks
        xc = torch.where(moved, clipped + (x - xd), x)
        m = None if masked is None else masked[rows]
        yr = None if y is None else y[rows].double()
        ir = None if index is None else index[rows]
        loss = _FYFunction.apply(xc, self.regularizer, ir, yr, None if yr is None else yr.sum(-1), m)
        lab = yr if yr is not None else torch.zeros_like(xd).scatter_(-1, ir[:, None], 1.0)
        half = torch.where(moved, xd / 2 - clipped / 2, torch.zeros_like(xd))  # halves: no overflow
        corr = 2 * (half * ((xd > clipped).double() - lab)).sum(-1)
        return (loss + corr).to(theta.dtype)
