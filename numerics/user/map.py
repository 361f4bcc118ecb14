"""The torch map of a :class:`~audit.separable.SeparableLoss`, from its derived facts
(proofs/user/facts.py): G = (g′)⁻¹, g′ and s = 1/g″ lambdified to torch, handed to the
sympy-free :class:`losses.separable.SeparableMap`.

Where sympy found no verified inverse, G is computed by bisection on q ∈ (0, 1) of the
increasing g′(q) = t (a fixed count of halvings: the result depends on the input alone),
and the map says so (``inverse_how``, marked text: audit/markup.py)."""
from __future__ import annotations

import sympy as sp
import torch
from torch import Tensor

from losses.separable import SeparableMap
from proofs.user.facts import SYMBOLIC, T, Facts
from proofs.user.fy import prose

#: halvings of (0, 1) for an implicit inverse: below float64's resolution
INVERSE_HALVINGS = 64


def _torch_fn(expr: sp.Expr, var: sp.Symbol):
    f = sp.lambdify(var, expr, modules="torch")
    return lambda z: f(z) + torch.zeros_like(z)   # a constant expression still gives z's shape


def _implicit_inverse(gprime):
    def inverse(t: Tensor) -> Tensor:
        lo, hi = torch.zeros_like(t), torch.ones_like(t)
        for _ in range(INVERSE_HALVINGS):
            mid = (lo + hi) / 2
            below = gprime(mid) < t
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        return (lo + hi) / 2
    return inverse


def torch_map(facts: Facts) -> SeparableMap:
    """The prediction map of ``facts.loss`` (float64 inside, the input's dtype out)."""
    x = facts.loss.x
    gprime = _torch_fn(facts.g1, x)
    inv = facts["(g')^(-1)(t)"]
    inverse = _torch_fn(inv.value, T) if inv.value is not None else _implicit_inverse(gprime)
    lo, hi = facts["g'(0+)"].value, facts["g'(1-)"].value
    fmap = SeparableMap(inverse, gprime, _torch_fn(facts.s, x), float(lo), float(hi))
    # marked text, so that evidence may quote it: the fact's (g')^(-1) set as mathematics
    fmap.inverse_how = prose(inv.how if inv.value is not None else inv.how + "; computed by bisection on $g'(q) = t$")
    fmap.symbolic_inverse = inv.how == SYMBOLIC and inv.value is not None
    return fmap
