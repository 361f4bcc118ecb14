"""The generic planted defects of a user's loss (issue 23 §4), one copy for every row of
reports/user/: wrappers of a prediction map ``fmap(theta, k) -> yhat`` that stand for a realistic
bug inside it.  Each row patches the map where its check looks it up (the simplex's generic map,
the capped map, the author's map) with one of these wrapped around it.

* tempered / sharpened: the scores divided / multiplied by 1.01 (a temperature left in);
* reversed: the scores negated (a sign bug);
* flushed: entries below 2⁻²⁴ set to 0 and the rest renormalized (a float16 kernel on the simplex);
* leaking: (1 − 10⁻¹²) ŷ + 10⁻¹² softmax(θ) (no exact tie or zero left);
* biased: the last class's score raised by 10⁻⁹ inside the map.
"""
from __future__ import annotations

import sympy as sp
import torch

TEMPER = sp.Rational(101, 100)
FLUSH = 2.0**-24   # float16's smallest positive value
LEAK = 1e-12
BIAS = 1e-9


def _tempered(fmap):
    return lambda theta, k=1: fmap(theta / float(TEMPER), k)


def _sharpened(fmap):
    return lambda theta, k=1: fmap(theta * float(TEMPER), k)


def _reversed(fmap):
    return lambda theta, k=1: fmap(-theta, k)


def _flushed(fmap):
    def call(theta, k=1):
        y = fmap(theta, k)
        y = torch.where(y < FLUSH, torch.zeros_like(y), y)
        return y / y.sum(-1, keepdim=True)
    return call


def _leaking(fmap):
    """(1 − ε)ŷ + ε softmax(θ): still in the simplex and weakly order preserving, but no exact
    tie or zero left (reports/dyn/planted.py's leaking map, on the generic one)."""
    return lambda theta, k=1: (1 - LEAK) * fmap(theta, k) + LEAK * torch.softmax(theta, -1)


def _biased(fmap):
    """The last class's score raised by 10⁻⁹ inside the map (a bias a minimizer must absorb)."""
    def call(theta, k=1):
        shift = torch.zeros_like(theta)
        shift[..., -1] = BIAS
        return fmap(theta + shift, k)
    return call
