"""The Softmax family as PyTorch losses.

``get(name, **params)`` returns a loss by name::

    from losses import get
    loss = get("entmax", alpha=1.5)
    loss.predict(theta); loss(theta, target); loss.omega(p); loss.conjugate(theta)

Exact Fenchel–Young losses: ``softmax``, ``sparsemax``, ``entmax`` (``alpha`` > 1;
``alpha = 1`` is softmax, default 1.5), ``rankmax`` (``k`` required; ``scale="fixed"``
is reading R1, ``scale="adaptive"`` reading R2).
"""
from __future__ import annotations

from .fy import FenchelYoungLoss
from .rankmax import AdaptiveRankmaxLoss
from .regularizers import CappedSquare, Regularizer, Shannon, SquaredNorm, Tsallis
from ._checks import check_alpha

EXACT = ("softmax", "sparsemax", "entmax", "rankmax")


def get(name: str, **params) -> FenchelYoungLoss:
    """A loss by name; unknown names or parameters raise ``ValueError``."""
    def take(allowed: dict) -> dict:
        extra = set(params) - set(allowed)
        if extra:
            raise ValueError(f"{name} takes parameters {sorted(allowed) or 'none'}, got unexpected {sorted(extra)}")
        return {**allowed, **params}

    if name == "softmax":
        take({})
        return FenchelYoungLoss(Shannon())
    if name == "sparsemax":
        take({})
        return FenchelYoungLoss(SquaredNorm())
    if name == "entmax":
        alpha = check_alpha(take({"alpha": 1.5})["alpha"])
        return FenchelYoungLoss(Shannon() if alpha == 1 else Tsallis(alpha))
    if name == "rankmax":
        p = take({"k": None, "scale": "fixed"})
        if p["k"] is None:
            raise ValueError("k is required for rankmax (the size of the capped simplex C_k)")
        if p["scale"] == "fixed":
            return FenchelYoungLoss(CappedSquare(p["k"]))
        if p["scale"] == "adaptive":
            return AdaptiveRankmaxLoss(CappedSquare(p["k"]))
        raise ValueError(f"scale must be 'fixed' (reading R1) or 'adaptive' (reading R2), got {p['scale']!r}")
    raise ValueError(f"name must be one of {EXACT}, got {name!r}")


__all__ = ["get", "FenchelYoungLoss", "AdaptiveRankmaxLoss", "Regularizer", "Shannon", "SquaredNorm",
           "Tsallis", "CappedSquare", "EXACT"]
