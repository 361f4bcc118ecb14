"""Pieces shared by the approximate Softmax estimators (losses/approx.py): the full-softmax
score gradient they estimate, MF scores at gathered indices, and input validation.

Validation (issue 22): a wrong type raises ``TypeError`` (``ArgumentTypeError``, also a
``ValueError``) and a bad value ``ValueError``, each naming the argument.  Class indices
(labels ``y``, ``samples``, ``exclude``) are integer tensors of any integer dtype (int8 …
int64, uint8, as torch's index tensors), cast to int64 for gather/scatter; bool and
floating point are refused, as are Python lists (``F.cross_entropy`` refuses them too).  An empty batch (B = 0) gives empty per-example
losses (0,), as ``F.cross_entropy(..., reduction="none")``; their mean is NaN, as in torch."""
from __future__ import annotations

import math
import numbers
import operator

import torch
from torch import Tensor

from ._checks import ArgumentTypeError, check_index_target, mass_tol, scan_scores


def softmax_grad(theta: Tensor, y: Tensor) -> Tensor:
    """The full-softmax score gradient ``g = softmax(θ) − e_y`` (B, n); −inf masks a class."""
    theta, y = _check_2d(theta, y)
    g = torch.softmax(theta, -1)
    return g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))


def scores_at(user: Tensor, items: Tensor, index: Tensor) -> Tensor:
    """MF scores ``⟨user_b, items_{index[b, …]}⟩`` for gathered indices only.

    ``user`` (B, d), ``items`` (n, d), ``index`` (B, …) → (B, …); the sampled losses need
    the scores of y and of the samples, not all n (``θ = user @ items.T`` for the
    full-score forms).  Differentiable in ``user`` and ``items``."""
    _check_float_tensor(user, "user")
    _check_float_tensor(items, "items")
    if user.dim() != 2 or items.dim() != 2 or user.shape[1] != items.shape[1]:
        raise ValueError(f"user (B, d) and items (n, d) must share d, got {tuple(user.shape)} and {tuple(items.shape)}")
    if user.dtype != items.dtype:
        raise ArgumentTypeError(f"user and items must share a dtype, got {user.dtype} and {items.dtype}")
    if not isinstance(index, Tensor) or index.dtype == torch.bool or index.is_floating_point() or index.is_complex():
        raise ArgumentTypeError(f"index must be an integer tensor of item indices (B, …), got "
                                f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}")
    if index.dim() < 1 or index.shape[0] != user.shape[0]:
        raise ValueError(f"index must have shape ({user.shape[0]}, …), got {tuple(index.shape)}")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= items.shape[0]):
        raise ValueError(f"index has item indices outside [0, {items.shape[0] - 1}]")
    return torch.einsum("bd,b...d->b...", user, items[index if index.dtype == torch.int64 else index.long()])


def _check_2d(theta: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """(θ, y as int64) after :func:`_check_masked_2d`."""
    _, y = _check_masked_2d(theta, y)
    return theta, y


def _check_masked_2d(theta: Tensor, y: Tensor) -> tuple[Tensor | None, Tensor]:
    """Scores (B, n) (−inf masks a class, as in torch) and labels (B,) on unmasked classes;
    returns (the mask or None, y as int64)."""
    masked = scan_scores(theta)
    if theta.dim() != 2:
        raise ValueError(f"theta must have shape (B, n), got {tuple(theta.shape)}")
    y = check_labels(y, theta, "y")
    if masked is not None and bool(masked.gather(-1, y[:, None]).any()):
        raise ValueError("y has a label on a masked class (theta = −inf there)")
    return masked, y


def check_labels(y, ref: Tensor, name: str = "y") -> Tensor:
    """Class indices of shape ``ref.shape[:-1]`` in [0, n − 1], n = ``ref.shape[-1]``: an
    integer tensor of any integer dtype, returned as int64 (gather and scatter take int64;
    an int64 input is returned as is)."""
    if not isinstance(y, Tensor):
        raise ArgumentTypeError(f"{name} must be a torch.Tensor of class indices, got {type(y).__name__}")
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise ArgumentTypeError(f"{name} as class indices must be an integer tensor, got {y.dtype}")
    check_index_target(y, ref, name)
    return y if y.dtype == torch.int64 else y.long()


def restrict_proposal(q: Tensor, theta: Tensor, name: str = "q") -> Tensor:
    """q conditioned on each row's unmasked classes (θ ≠ −inf): (B, n), zero where masked,
    so a masked class is never sampled (:func:`losses.approx.sample`)."""
    q = check_proposal(q, theta, name)
    masked = scan_scores(theta)
    if masked is None:
        return q
    q = q.masked_fill(masked, 0.0)
    mass = q.sum(-1, keepdim=True)
    if bool((mass <= 0).any()):
        raise ValueError(f"{name} puts zero mass on every unmasked class of some row")
    return q / mass


def _check_unmasked_samples(samples: Tensor, theta: Tensor) -> None:
    if bool(torch.isneginf(theta.gather(-1, samples)).any()):
        raise ValueError("samples contain a masked class (theta = −inf there); draw from "
                         "restrict_proposal(q, theta) or negative_proposal(q, theta, y)")


def check_proposal(q: Tensor, theta: Tensor, name: str = "q") -> Tensor:
    """A distribution over the n classes, (n,) or (B, n), cast to θ's dtype/device → (B, n)."""
    _check_float_tensor(q, name)
    B, n = theta.shape
    if q.shape not in ((n,), (B, n)):
        raise ValueError(f"{name} must have shape ({n},) or ({B}, {n}), got {tuple(q.shape)}")
    _check_distribution(q, name)
    return q.to(device=theta.device, dtype=theta.dtype).expand(B, n)


def _check_float_tensor(q, name: str) -> None:
    if not isinstance(q, Tensor):
        raise ArgumentTypeError(f"{name} must be a torch.Tensor, got {type(q).__name__}")
    if not q.is_floating_point():
        raise ArgumentTypeError(f"{name} must be a floating-point tensor, got dtype {q.dtype}")


def _check_real(x, name: str) -> float:
    """A finite real number (int, float, numpy scalar or a 0-d real tensor; not bool) → float."""
    if isinstance(x, Tensor):
        if x.dim() != 0 or x.dtype == torch.bool or x.is_complex():
            raise ArgumentTypeError(f"{name} must be a real number, got a tensor of shape {tuple(x.shape)} "
                                    f"and dtype {x.dtype}")
    elif isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite real number, got {x!r}")
    return v


def proposal_tol(dtype: torch.dtype) -> float:
    """Tolerance on ``|Σ_j q_j − 1|`` for a proposal stored in ``dtype``: the labels' rule
    (:func:`losses._checks.mass_tol`, ``√eps``: 1.5e-8 float64, 3.5e-4 float32, 3.1e-2
    float16), the same for every n, the sum accumulated in float64."""
    return mass_tol(dtype, 1.0)


def _check_distribution(q: Tensor, name: str) -> None:
    if not bool(torch.isfinite(q).all()):
        raise ValueError(f"{name} is not a distribution: it contains NaN or infinite entries")
    if bool((q < 0).any()):
        raise ValueError(f"{name} is not a distribution: it has negative entries")
    s = q.sum(-1, dtype=torch.float64)
    if bool(((s - 1).abs() > proposal_tol(q.dtype)).any()):
        raise ValueError(f"{name} is not a distribution: its entries sum to {s.min().item():.9g}…"
                         f"{s.max().item():.9g}, not 1 (tolerance {proposal_tol(q.dtype):.2g} for {q.dtype})")


def _check_samples(samples: Tensor, theta: Tensor, name: str = "samples") -> Tensor:
    """Class indices (B, m), m ≥ 1, any integer dtype → int64 on θ's device."""
    if (not isinstance(samples, Tensor) or samples.is_floating_point() or samples.is_complex()
            or samples.dtype == torch.bool):
        raise ArgumentTypeError(f"{name} must be an integer tensor of class indices (B, m), got "
                                f"{samples.dtype if isinstance(samples, Tensor) else type(samples).__name__}")
    B, n = theta.shape
    if samples.dim() != 2 or samples.shape[0] != B:
        raise ValueError(f"{name} must have shape ({B}, m), got {tuple(samples.shape)}")
    if samples.shape[1] < 1:
        raise ValueError(f"{name} must hold m ≥ 1 samples per row, got m = {samples.shape[1]}")
    # an empty batch (B = 0) has no indices to range-check (min() of nothing is an error)
    if samples.numel() and (int(samples.min()) < 0 or int(samples.max()) >= n):
        raise ValueError(f"{name} has class indices outside [0, {n - 1}]")
    return (samples if samples.dtype == torch.int64 else samples.long()).to(theta.device)


def _check_count(m, name: str, least: int = 1) -> int:
    """An integer ≥ ``least`` (int or anything with ``__index__``, e.g. numpy integers; not
    bool, not float)."""
    if isinstance(m, bool) or (isinstance(m, Tensor) and m.dtype == torch.bool):
        raise ArgumentTypeError(f"{name} must be an integer ≥ {least}, got {m!r}")
    try:
        k = operator.index(m)
    except TypeError:
        raise ArgumentTypeError(f"{name} must be an integer ≥ {least}, got {m!r}") from None
    if k < least:
        raise ValueError(f"{name} must be an integer ≥ {least}, got {m!r}")
    return k
