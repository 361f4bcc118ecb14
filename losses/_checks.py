"""Input validation shared by every loss: bad input raises ``ValueError`` naming the argument."""
from __future__ import annotations

import numbers

import torch
from torch import Tensor


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type.  Also a ``ValueError``: every bad input of the
    package is one, so code that catches ``ValueError`` keeps catching it."""


class DimError(ValueError, IndexError):
    """``dim`` out of range for the scores.  Also an ``IndexError``, the error torch
    raises for the same mistake (like ``numpy.exceptions.AxisError``)."""


def check_dim(dim, ndim: int) -> int:
    """``dim`` an integer in [−ndim, ndim − 1] (a 0-dim tensor has no class dimension)."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise ArgumentTypeError(f"dim must be an integer, got {type(dim).__name__} {dim!r}")
    if ndim and not -ndim <= int(dim) < ndim:
        raise DimError(f"dim = {dim} is out of range for theta with {ndim} dimensions "
                       f"(expected an integer in [{-ndim}, {ndim - 1}])")
    return int(dim)


def _check_shape(theta: Tensor, name: str, min_classes: int = 2) -> None:
    if not isinstance(theta, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.dim() < 1:
        raise ValueError(f"{name} must have at least one dimension (..., n), got a scalar")
    if theta.shape[-1] < min_classes:
        raise ValueError(f"{name} must have n ≥ {min_classes} classes in its last dimension, "
                         f"got shape {tuple(theta.shape)}")


def scan_scores(theta: Tensor, name: str = "theta", min_classes: int = 2) -> Tensor | None:
    """Validate scores (..., n), n ≥ ``min_classes``, floating point, where −inf marks a
    masked class (zero probability, as in ``torch.softmax``); NaN and +inf are errors and
    every row needs one finite entry.  Returns the mask (θ = −inf), or None when every
    entry is finite -- decided by one reduction (a finite sum has finite terms); the mask
    is built only when there is one.  The exact losses take ``min_classes = 1`` (one
    class: ŷ = 1 and a zero loss, as ``torch.softmax`` and the ``entmax`` package)."""
    _check_shape(theta, name, min_classes)
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


def check_scores(theta: Tensor, name: str = "theta", min_classes: int = 2) -> Tensor:
    """Scores (..., n), n ≥ ``min_classes``, floating point, every entry finite (no masks)."""
    _check_shape(theta, name, min_classes)
    if not bool(torch.isfinite(theta.sum())) and not bool(torch.isfinite(theta).all()):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return theta


# A row in the domain, to the rounding of the working precision, with bounds that do not
# grow with n (issue 22):  every y_i ≥ −C·ε·s,  y_i ≤ cap + C·ε,  |Σ y_i − s| ≤ √ε·s,
# s the domain's mass (1 or k), ε the dtype's epsilon, the sum accumulated in float64 (so
# the check adds no rounding of its own).  Why these: an exact row rounded to the dtype
# keeps y_i ≥ 0 and moves its sum by ≤ ε/2·s plus half a subnormal step per entry (≤ 3e-3
# in float16 at n = 1e5), but a row normalized in the working precision carries the
# rounding of the normalizer, which torch's reductions let grow with n (``torch.softmax``
# in float32 at n = 1e5 sums to 1 ± 8e-6, 63 ε): √ε·s (1.5e-8 float64, 3.5e-4 float32,
# 3.1e-2 float16, 8.8e-2 bfloat16) accepts such rows at any n and refuses a row off by a
# fixed amount (y = [1.04, −0.04, 0, …] in float32 at any n).  Entries need no such room:
# a normalized row is non-negative.  Labels and proposals (approx_common) share the rule.
LABEL_ULPS = 8


def mass_tol(dtype: torch.dtype, mass: float = 1.0) -> float:
    """Tolerance on ``|Σ_i y_i − s|`` for a row of ``dtype`` with mass ``s``: ``√ε·s``."""
    return torch.finfo(dtype).eps ** 0.5 * max(1.0, mass)


def label_tol(dtype: torch.dtype, n: int, mass: float) -> tuple[float, float]:
    """(entry tolerance C·ε·s, sum tolerance √ε·s) for labels of ``dtype`` (the rule above;
    ``n`` does not enter)."""
    return LABEL_ULPS * torch.finfo(dtype).eps * max(1.0, mass), mass_tol(dtype, mass)


def check_index_target(target: Tensor, theta: Tensor, name: str = "target") -> Tensor:
    if target.dtype in (torch.bool,) or target.is_floating_point() or target.is_complex():
        raise ArgumentTypeError(f"{name} as class indices must be an integer tensor, got {target.dtype}")
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
    sum), from which the domain check is read (two passes over the labels in all; the
    sum is in the labels' dtype, :func:`label_sum64` gives the one the check uses)."""
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


def label_sum64(y: Tensor, total: Tensor) -> Tensor:
    """Row sums of the labels accumulated in float64 (``total`` itself for float64)."""
    return total if y.dtype == torch.float64 else y.sum(-1, dtype=torch.float64)


def _real_scalar(x, integral: bool) -> bool:
    """A Python/NumPy real (or integer) number, or a 0-dim real (integer) tensor; never a
    bool (True is not α = 1 nor k = 1) nor a string."""
    if isinstance(x, Tensor):
        return x.dim() == 0 and x.dtype != torch.bool and not x.is_complex() and (
            not integral or not x.is_floating_point())
    return not isinstance(x, bool) and isinstance(x, numbers.Integral if integral else numbers.Real)


def check_alpha(alpha) -> float:
    """α of entmax: a real number (int, float, NumPy scalar or 0-dim tensor) ≥ 1."""
    if not _real_scalar(alpha, integral=False):
        raise ArgumentTypeError(f"alpha must be a real number > 1 (or exactly 1 for softmax), "
                                f"got {type(alpha).__name__} {alpha!r}")
    a = float(alpha)
    if not (a == a) or a == float("inf") or a < 1:
        raise ValueError(f"alpha must be a real number > 1 (or exactly 1 for softmax), got {alpha!r}")
    return a


def check_k(k) -> int:
    """k of rankmax: an integer (int, NumPy integer or 0-dim integer tensor) ≥ 1."""
    if not _real_scalar(k, integral=True):
        raise ArgumentTypeError(f"k must be an integer ≥ 1, got {type(k).__name__} {k!r}")
    if int(k) < 1:
        raise ValueError(f"k must be an integer ≥ 1, got {k!r}")
    return int(k)
