"""Input validation shared by every loss: bad input raises ``ValueError`` naming the argument."""
from __future__ import annotations

import torch
from torch import Tensor


def _check_shape(theta: Tensor, name: str) -> None:
    if not isinstance(theta, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.dim() < 1:
        raise ValueError(f"{name} must have at least one dimension (..., n), got a scalar")
    if theta.shape[-1] < 2:
        raise ValueError(f"{name} must have n ≥ 2 classes in its last dimension, got shape {tuple(theta.shape)}")


def scan_scores(theta: Tensor, name: str = "theta") -> Tensor | None:
    """Validate scores (..., n), n ≥ 2, floating point, where −inf marks a masked class
    (zero probability, as in ``torch.softmax``); NaN and +inf are errors and every row
    needs one finite entry.  Returns the mask (θ = −inf), or None when every entry is
    finite -- decided by one reduction (a finite sum has finite terms); the mask is
    built only when there is one."""
    _check_shape(theta, name)
    if bool(torch.isfinite(theta.sum())):
        return None
    if bool(torch.isnan(theta).any()) or bool(torch.isposinf(theta).any()):
        raise ValueError(f"{name} contains NaN or +inf entries (−inf marks a masked class)")
    masked = torch.isneginf(theta)
    if not bool(masked.any()):
        return None  # the sum overflowed; every entry is finite
    if not bool((~masked).any(-1).all()):
        raise ValueError(f"{name} has a row whose every entry is −inf (masked): a row needs one finite score")
    return masked


def check_scores(theta: Tensor, name: str = "theta") -> Tensor:
    """Scores (..., n), n ≥ 2, floating point, every entry finite (no masks)."""
    _check_shape(theta, name)
    if not bool(torch.isfinite(theta.sum())) and not bool(torch.isfinite(theta).all()):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return theta


def domain_tol(dtype: torch.dtype, n: int) -> float:
    """Tolerance for 'y lies in the domain': rounding of a sum of n entries."""
    eps = torch.finfo(dtype).eps
    return max(eps ** 0.5, 4 * n * eps)


def check_index_target(target: Tensor, theta: Tensor, name: str = "target") -> Tensor:
    if target.dtype in (torch.bool,) or target.is_floating_point() or target.is_complex():
        raise ValueError(f"{name} as class indices must be an integer tensor, got {target.dtype}")
    if tuple(target.shape) != tuple(theta.shape[:-1]):
        raise ValueError(
            f"{name} has shape {tuple(target.shape)}; class indices must have shape {tuple(theta.shape[:-1])}"
        )
    n = theta.shape[-1]
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= n):
        raise ValueError(f"{name} has class indices outside [0, {n - 1}]")
    return target


def check_vector_target(target: Tensor, theta: Tensor, name: str = "target") -> tuple[Tensor, Tensor, Tensor]:
    """Label vectors of θ's shape with finite entries.  Returns the row-wise (min, max,
    sum), from which the domain check is read (two passes over the labels in all)."""
    if not target.is_floating_point():
        raise ValueError(f"{name} as label vectors must be floating point, got {target.dtype}")
    if tuple(target.shape) != tuple(theta.shape):
        raise ValueError(f"{name} has shape {tuple(target.shape)}; label vectors must match theta {tuple(theta.shape)}")
    # amin and amax separately: on the CPU, two reductions are faster than one aminmax
    total = target.sum(-1)
    lo, hi = (target.amin(-1), target.amax(-1)) if target.numel() else (total, total)
    if not bool((torch.isfinite(lo) & torch.isfinite(hi) & torch.isfinite(total)).all()):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return lo, hi, total


def check_alpha(alpha: float) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a real number > 1 (or exactly 1 for softmax), got {alpha!r}") from None
    if not (a == a) or a == float("inf") or a < 1:
        raise ValueError(f"alpha must be a real number > 1 (or exactly 1 for softmax), got {alpha!r}")
    return a
