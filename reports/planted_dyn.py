"""Planted defects of the CON-3 / DYN-1 / DYN-2 checks (reports/claims_dyn.py): wrong
inputs of the same shape as the real ones, each of which must turn its check.

* :func:`quantized` -- a prediction map rounded to multiples of q (and renormalized):
  strictly ordered scores get tied values, small probabilities become exactly 0;
* :func:`reversed_softmax_map` -- the symbolic softmax map at −θ (a sign error);
* :func:`short_gd_runner` -- GD runs of the DYN checks at a short horizon, uncached, so
  a patched map can be run cheaply (the real runs are long and shared by DYN-1 and DYN-2);
* :func:`fabricated_runs` -- GD run records of the same shape whose loss decays like
  t^{-2} (softmax) or never reaches exactly zero (sparse losses): what a GD with a wrong
  schedule or a wrong map would record.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Callable

import numpy as np
import sympy as sp
import torch
from torch import Tensor

from losses import regularizers as regs

from .claim import Planted, patched
from .planted import solve_patch


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


def reversed_softmax_map(ti, tj, R) -> tuple[sp.Expr, sp.Expr]:
    """(ŷ_i, ŷ_j) of softmax evaluated at −θ (the scores' order reversed)."""
    from proofs.order import softmax_map

    a, b = softmax_map(ti, tj, R)
    sub = {ti: -ti, tj: -tj}
    return a.subs(sub, simultaneous=True), b.subs(sub, simultaneous=True)


def short_gd_runner(T: int) -> Callable[..., dict]:
    """``runner(name, params, setting, ctx)`` for the DYN checks: GD at horizon ``T``, not cached."""
    from numerics import gd_runs
    from numerics.threads import one_thread

    def runner(name: str, params: dict, setting: str, ctx) -> dict:
        seed = ctx.seed * 1_000_003 + (11 if setting == "free" else 12)
        with one_thread():
            return gd_runs.gd(name, params, setting, T, seed)

    return runner


def fabricated_runs(kind: str) -> Callable[..., dict]:
    """Run records of the shape gd_runs.gd returns: ``"t^-2"`` (loss 3/t², norm 2 + log t),
    ``"never-zero"`` (loss 1e-3 + 1/t, never exactly 0, every negative keeps a gradient) or
    ``"gradient-zeros"`` (as never-zero, but a quarter of the negatives at exactly zero
    gradient after step 10)."""
    if kind not in ("t^-2", "never-zero", "gradient-zeros"):
        raise ValueError(f"kind must be 't^-2', 'never-zero' or 'gradient-zeros', got {kind!r}")

    def runner(name: str, params: dict, setting: str, ctx) -> dict:
        T = 20_000 if name == "softmax" else 1_000
        t = np.unique(np.round(np.logspace(0, np.log10(T), 300))).astype(int)
        loss = 3.0 / t.astype(float) ** 2 if kind == "t^-2" else 1e-3 + 1.0 / t
        frac = torch.ones(T, dtype=torch.float64)
        if kind == "gradient-zeros":
            frac[10:] = 0.75
        return {"frac": frac, "t": t, "loss": loss, "norm": 2 + np.log(t),
                "route": {}, "zero_at": None, "max_gap": 1.0, "T": T, "steps": T}

    return runner


def with_patch(patch: Callable[[], AbstractContextManager], fn: Callable, *args, **kw) -> Callable:
    """``run=`` of a Planted that installs ``patch`` around ``fn(*args, ctx, **kw)``."""
    def run(ctx):
        with patch():
            return fn(*args, ctx, **kw)

    return run


__all__ = ["quantized", "reversed_softmax_map", "short_gd_runner", "fabricated_runs", "with_patch"]
