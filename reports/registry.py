"""The claims registry: one entry per claim × reading, binding statement and checks.

This module is the single source for both ``pytest`` (tests/test_claims.py
parametrizes over :data:`CLAIMS`) and the report (reports/runner.py), so a claim is
never checked in two different ways.

``expected`` records the verdict the suite currently finds.  pytest turns red the
moment a verdict changes in either direction: a ``refuted`` reading runs as
``xfail(strict=True)``, an ``inconclusive`` one as ``xfail(strict=False)``
(ARCHITECTURE.md, "Conventions").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from .evidence import Evidence, RunContext


@dataclass(frozen=True)
class Check:
    name: str
    kind: str  # symbolic | numeric | empirical
    run: Callable[[RunContext], Evidence]
    heavy: bool = False


@dataclass(frozen=True)
class Claim:
    id: str
    reading: str
    statement: str
    checks: tuple[Check, ...]
    expected: str = "verified"
    note: str = ""  # why, when expected is refuted or inconclusive
    heavy: bool = False

    @property
    def key(self) -> str:
        return f"{self.id}[{self.reading}]"


def _symbolic(name: str, derive: Callable[..., object], *args) -> Check:
    """A symbolic check: a proofs/ derivation turned into evidence (``ctx`` unused:
    derivations do not depend on seeds or budgets)."""
    return Check(name, "symbolic", lambda ctx: derive(*args).evidence(name))


def _numeric(name: str, fn: Callable[..., Evidence], *args, heavy: bool = False, **kw) -> Check:
    return Check(name, "numeric", lambda ctx: fn(*args, ctx, **kw), heavy=heavy)


# -- FY: the exact family as Fenchel–Young losses (CLAIMS.md §1) -----------------------------

FY_LOSSES = ("softmax", "sparsemax", "entmax", "rankmax")

_FY_READING_NOTE = {
    "softmax": "Ω(p) = Σ p log p on the simplex",
    "sparsemax": "Ω(p) = ½‖p‖² − ½ on the simplex",
    "entmax": "Tsallis Ω(p) = (Σ p^α − 1)/(α(α−1)) on the simplex, α > 1",
    "rankmax": "Ω(p) = ½‖p‖² on C_k = {p ∈ [0,1]^n : Σp = k} (reading R1, fixed scale)",
}

_FY1 = {
    "softmax": "ŷ = softmax(θ) and Ω* = logsumexp follow from the KKT conditions; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
    "sparsemax": "ŷ = [θ − τ]_+ (Euclidean projection on the simplex) follows from the KKT conditions; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
    "entmax": "ŷ = [(α−1)θ − τ]_+^{1/(α−1)} follows from the KKT conditions for every α > 1; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
    "rankmax": "ŷ = clip(θ − τ, 0, 1) (Euclidean projection on C_k) follows from the KKT conditions; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
}
_FY2 = "L(θ; y) ≥ 0; L = 0 ⟺ y = ŷ(θ); L is convex in θ; ∇_θ L = ŷ(θ) − y; L(θ + c·1; y) = L(θ; y)."
_FY3 = {
    "softmax": "Softmax has no separation margin: L(θ; e_y) > 0 for every finite θ.",
    "sparsemax": "L(θ; e_y) = 0 ⟺ θ_y ≥ max_{j≠y} θ_j + 1 (margin 1).",
    "entmax": "α-entmax has margin 1/(α−1): L(θ; e_y) = 0 ⟺ θ_y ≥ max_{j≠y} θ_j + 1/(α−1).",
    "rankmax": "Rankmax has margin 1: for a multi-hot y with k labels, L(θ; y) = 0 ⟺ min_{i∈Y} θ_i ≥ max_{j∉Y} θ_j + 1 (k = 1: the sparsemax margin).",
}
_FY4 = {
    "softmax": "∇L is Lipschitz with constant sup_θ λ_max(J_ŷ(θ)) = ½ for softmax.",
    "sparsemax": "∇L is Lipschitz with constant sup_θ λ_max(J_ŷ(θ)) = 1 for sparsemax.",
    "entmax": "For 1 < α ≤ 2, α-entmax's ∇L is Lipschitz with constant 2^{α−2}, between softmax's ½ and sparsemax's 1.",
    "rankmax": "∇L is Lipschitz with constant sup_θ λ_max(J_ŷ(θ)) = 1 for rankmax.",
    "entmax[alpha>2]": "The claim 'α-entmax's constant lies between softmax's ½ and sparsemax's 1' read for every α > 1 (the family's stated range), here α > 2.",
}


def _fy_claims() -> list[Claim]:
    from numerics import fy_checks as num
    from proofs import fy as sym

    out: list[Claim] = []
    for loss in FY_LOSSES:
        tail = f" [{_FY_READING_NOTE[loss]}]"
        out.append(Claim("FY-1", loss, _FY1[loss] + tail, (
            _symbolic("kkt-conjugate", sym.conjugate, loss),
            _numeric("cvxpy-argmax", num.cvx_agreement, loss),
        )))
    for loss in FY_LOSSES:
        tail = f" [{_FY_READING_NOTE[loss]}]"
        out.append(Claim("FY-2", loss, _FY2 + tail, (
            _symbolic("fy-gradient-shift-convexity", sym.loss_properties, loss),
            _symbolic("hessian-psd", sym.hessian, loss),
            _numeric("properties", num.loss_properties, loss),
        )))
    for loss in FY_LOSSES:
        out.append(Claim("FY-3", loss, _FY3[loss], (
            _symbolic("margin", sym.margin, loss),
            _numeric("margin-eps", num.margin_check, loss),
        )))
    for loss in FY_LOSSES:
        out.append(Claim("FY-4", loss, _FY4[loss], (
            _symbolic("lipschitz-constant", sym.smoothness, loss),
            _numeric("jacobian-eigen-search", num.smoothness_check, loss),
        )))
    out.append(Claim(
        "FY-4", "entmax[alpha>2]", _FY4["entmax[alpha>2]"],
        (
            _symbolic("lipschitz-constant", sym.smoothness, "entmax", "gt2"),
            _numeric("jacobian-eigen-search", num.smoothness_check, "entmax", alpha_range="gt2"),
        ),
        expected="refuted",
        note="for α > 2 the uniform support of size m gives λ_max = m^{α−2} > 1 (e.g. α = 3, θ = 0 ∈ R³: λ_max = 3)",
    ))
    return out


def all_claims() -> list[Claim]:
    return _fy_claims()


def select(claims: list[Claim], only: list[str] | None) -> list[Claim]:
    """Filter by claim id (``FY-3``), id prefix (``FY``) or ``ID[reading]``."""
    if not only:
        return claims
    keep = [c for c in claims if any(o in (c.id, c.key) or c.id.startswith(o.rstrip("-") + "-") for o in only)]
    if not keep:
        raise ValueError(f"--only matched no claim: {only}; known ids: {sorted({c.id for c in claims})}")
    return keep
