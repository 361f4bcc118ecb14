"""Planted defects and planted truths of the CON-3 / DYN-1 / DYN-2 checks (reports/dyn/claims.py).

Each enters where a bug (or, for a truth, a different real input) would: a patch of the
upstream attribute the real code looks up at call time (reports/claim.py ``replacing``,
reports/planted.py ``solve_patch``), never a keyword of the checked function.

Maps (``solve_patch`` of the loss's regularizer: prediction, conjugate, loss value):

* :func:`quantized` -- ŷ rounded to multiples of q (ties strictly ordered scores, zeros
  small probabilities);
* :func:`flushed` -- a kernel flushing probabilities below a threshold to exactly 0;
* :func:`leaking` -- a sparse map leaking ε of a strictly monotone map into every class
  (in the domain; no exact tie or zero is left);
* :func:`biased` -- a softmax kernel weighting one class by 1 + ε;
* :func:`reversed_softmax_map` -- the symbolic softmax map at −θ (patches proofs/con/order.py).

GD runs (numerics/dyn/gd_runs.py, numerics/dyn/dynamics.py): :func:`growing_step` (a step schedule
growing like t^p), :func:`decoupled_data` (separable data of orthogonal directions, on which
the linear model is a set of free score vectors), :func:`tempered_labels` (a label source
at temperature T).
"""
from __future__ import annotations

import math
from typing import Callable

import sympy as sp
import torch
from torch import Tensor

from losses import regularizers as regs
from proofs.con.order import softmax_map as _softmax_map  # the real map, read before any patch

from ..claim import Planted, patched
from ..planted import solve_patch


def quantized(loss: str, q: float = 1e-3) -> Planted:
    """ŷ rounded to multiples of ``q`` and renormalized to the domain's mass."""
    def wrap(solve, theta: Tensor) -> regs.Solution:
        sol = solve(theta)
        dense = sol.dense(sol.values.dtype)
        mass = dense.sum(-1, keepdim=True)
        r = torch.round(dense / q) * q
        sol.values = r * mass / r.sum(-1, keepdim=True).clamp_min(q)
        sol.index = None
        return sol

    return patched(f"{loss} map quantized to multiples of {q:g} (ties strictly ordered scores, zeros small entries)",
                   solve_patch(loss, wrap))


def _tex(x: float) -> str:
    """1e-13 -> 10^{-13} (inside $...$)."""
    return f"10^{{{round(math.log10(x))}}}"


def flushed(loss: str, below: float = 1e-13, *, resolution: bool = False) -> Planted:
    """A kernel that flushes every probability below ``below`` to exactly 0 (no renormalization)."""
    def wrap(solve, theta: Tensor) -> regs.Solution:
        sol = solve(theta)
        dense = sol.dense(sol.values.dtype)
        sol.values = torch.where(dense < below, torch.zeros_like(dense), dense)
        sol.index = None
        return sol

    return patched(f"{loss} kernel flushing probabilities below ${_tex(below)}$ to exactly 0",
                   solve_patch(loss, wrap), resolution=resolution)


def leaking(loss: str, eps: float = 1e-12, *, resolution: bool = False) -> Planted:
    """(1 − ε)ŷ + ε q with q = k/n + c (softmax(θ) − 1/n), c = (1 − k/n)/(1 − 1/n): q lies in
    the domain (mass k, entries in [0, 1]) and is strictly increasing in θ, so the map stays
    in the domain and weakly order preserving, but no exact tie or zero is left."""
    def wrap(solve, theta: Tensor) -> regs.Solution:
        sol = solve(theta)
        dense = sol.dense(sol.values.dtype)
        n = dense.shape[-1]
        k = dense.sum(-1, keepdim=True)
        c = (1 - k / n) / (1 - 1 / n)
        q = k / n + c * (torch.softmax(theta.to(dense.dtype), -1) - 1 / n)
        sol.values = (1 - eps) * dense + eps * q
        sol.index = None
        return sol

    return patched(f"{loss} map leaking ${_tex(eps)}$ of a strictly increasing map into every class (no exact tie "
                   "or zero left)", solve_patch(loss, wrap), resolution=resolution)


def biased(eps: float = 1e-9, *, resolution: bool = False) -> Planted:
    """Softmax with the last class's weight e^{θ_n} multiplied by 1 + ε (renormalized)."""
    def wrap(solve, theta: Tensor) -> regs.Solution:
        sol = solve(theta)
        dense = sol.dense(sol.values.dtype)
        w = torch.ones(dense.shape[-1], dtype=dense.dtype)
        w[-1] += eps
        b = dense * w
        sol.values = b / b.sum(-1, keepdim=True)
        sol.index = None
        return sol

    return patched(f"softmax kernel weighting the last class by $1 + {_tex(eps)}$ (a relative error of "
                   f"${_tex(eps)}$ on one class)", solve_patch("softmax", wrap), resolution=resolution)


def reversed_softmax_map(ti, tj, R) -> tuple[sp.Expr, sp.Expr]:
    """(ŷ_i, ŷ_j) of softmax evaluated at −θ (the scores' order reversed)."""
    a, b = _softmax_map(ti, tj, R)
    sub = {ti: -ti, tj: -tj}
    return a.subs(sub, simultaneous=True), b.subs(sub, simultaneous=True)


def growing_step(p: float) -> Callable[[int], float]:
    """A GD step schedule LR · t^p (numerics/dyn/gd_runs.py ``step_size``): a schedule bug."""
    from numerics.dyn import gd_runs

    def step(t: int) -> float:
        return gd_runs.LR * t ** p

    return step


def decoupled_data(real: Callable) -> Callable:
    """numerics/dyn/gd_runs.py ``data`` with setting (b) replaced by separable data of orthogonal
    directions: x = 2 e_d (d = 1..DIM+1, each N_SEP/(DIM+1) times), labelled class d (and
    the next k − 1 classes for rankmax).  Then x_d W_{t+1} = x_d W_t − 0.8 lr g_d: the linear
    model is DIM+1 free score vectors from θ_0 = 0, each GD at step 0.8 lr (setting (a))."""
    from numerics.dyn import gd_runs

    def data(name: str, params: dict, setting: str, seed: int):
        if setting != "separable":
            return real(name, params, setting, seed)
        k, n, d = gd_runs.k_of(params), gd_runs.N_CLASSES, gd_runs.DIM + 1
        reps = gd_runs.N_SEP // d
        X = (2 * torch.eye(d, dtype=gd_runs.DT)).repeat(reps, 1)
        Y = torch.zeros(X.shape[0], n, dtype=gd_runs.DT)
        dirs = torch.arange(X.shape[0]) % d
        for j in range(k):
            Y[torch.arange(X.shape[0]), (dirs + j) % n] = 1.0
        return torch.zeros(d, n, dtype=gd_runs.DT), X, Y

    return data


def tempered_labels(T: float) -> Callable:
    """numerics/dyn/dynamics.py ``label_source`` drawing labels from ŷ(x W*/T) instead of ŷ(x W*)."""
    def source(loss, scores: Tensor) -> Tensor:
        return loss.predict(scores / T)

    return source


__all__ = ["quantized", "flushed", "leaking", "biased", "reversed_softmax_map", "growing_step", "decoupled_data",
           "tempered_labels"]
