"""The paper's four exact losses as the main rows' subjects: each a :class:`Member`, a value
whose properties the derivations and checks read, instead of asking for its name.

Every member is a separable Fenchel–Young loss, Ω(p) = Σᵢ g(pᵢ) + c on the simplex Δ or on
the capped simplex C_k = {0 ≤ p ≤ 1, Σp = k} (Blondel, Martins & Niculae, JMLR 2020, §4),
and what sets the four apart is a handful of facts about g and the domain:

* ``dense``: g′(0⁺) = −∞, so ŷ has full support (softmax, g = p log p);
* ``tsallis``: g = p^α/(α(α − 1)) with α > 1 symbolic (entmax); on a support S the
  stationarity θᵢ − g′(pᵢ) = λ gives pᵢ = ((α − 1)θᵢ − τ)^{1/(α−1)} with τ = (α − 1)λ, and
  Σ_S p = 1 has no closed form in τ, which is kept implicit;
* otherwise g = p²/2, whose stationarity is linear in p (sparsemax, rankmax);
* ``domain``: ``"capped"`` for rankmax, whose ŷ may sit at the cap 1 and whose mass k is a
  parameter, else ``"simplex"``.

The constants c are those of losses/regularizers.py, so that Ω here is the Ω the torch
losses compute.  A user's loss is an :class:`audit.separable.SeparableLoss` (its g one
expression, its facts derived); the members are the paper's, with α symbolic where the
user path fixes it (``audit.builtin_losses``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import sympy as sp

from .separable import DOMAINS

#: entmax's α, symbolic (> 1 where it matters); the symbol every derivation shares
ALPHA = sp.Symbol("alpha", positive=True)
#: the variable of every member's g
P = sp.Symbol("p", positive=True)


@runtime_checkable
class Regulariser(Protocol):
    """What every loss value answers, a member here or a user's
    :class:`~audit.separable.SeparableLoss`: its name, g as an expression in the positive symbol
    ``x``, the domain, and whether that domain is C_k."""

    name: str
    g: sp.Expr
    x: sp.Symbol
    domain: str

    @property
    def capped(self) -> bool: ...


@dataclass(frozen=True)
class Member:
    """One of the paper's four losses (module docstring): its name (the registry's key and
    the torch loss's name in ``losses.get``), g in ``x`` (α symbolic for the Tsallis member),
    the constant c of Ω = Σ g + c, and its facts; a :class:`Regulariser`."""

    name: str
    g: sp.Expr
    x: sp.Symbol
    offset: sp.Expr
    dense: bool = False
    tsallis: bool = False
    domain: str = "simplex"

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"domain must be one of {DOMAINS}, got {self.domain!r}")
        if self.dense and self.tsallis:
            raise ValueError("a Tsallis member with α > 1 has g′(0⁺) = 0: it cannot be dense")

    @property
    def capped(self) -> bool:
        """ŷ lives on C_k: entries may sit at the cap 1, and the mass k is a parameter."""
        return self.domain == "capped"

    def at(self, value: sp.Expr) -> sp.Expr:
        """g(value)."""
        return self.g.subs(self.x, value)

    @property
    def quadratic(self) -> bool:
        """g = p²/2: stationarity is linear in p, so every KKT pattern solves in closed form."""
        return not (self.dense or self.tsallis)

    @property
    def sparse(self) -> bool:
        """g′(0⁺) is finite: ŷ can have zeros."""
        return not self.dense

    def __str__(self) -> str:
        return self.name


SOFTMAX = Member("softmax", P * sp.log(P), P, sp.S.Zero, dense=True)
SPARSEMAX = Member("sparsemax", P**2 / 2, P, -sp.Rational(1, 2))
ENTMAX = Member("entmax", P**ALPHA / (ALPHA * (ALPHA - 1)), P, -1 / (ALPHA * (ALPHA - 1)), tsallis=True)
RANKMAX = Member("rankmax", P**2 / 2, P, sp.S.Zero, domain="capped")

MEMBERS = (SOFTMAX, SPARSEMAX, ENTMAX, RANKMAX)
_BY_NAME = {m.name: m for m in MEMBERS}


def member(loss: str | Member) -> Member:
    """The member named ``loss`` (a member is returned as it is); ``ValueError`` otherwise."""
    if isinstance(loss, Member):
        return loss
    try:
        return _BY_NAME[loss]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(_BY_NAME)}") from None
