"""Non-trained item-item baselines for the MF experiment: EASE and item kNN.

Both score a user by a linear map of its binary training row: with ``X`` the (U, n)
training matrix (``X_ui = 1`` iff (u, i) is a training pair, duplicates once) and an
item-item weight matrix ``W`` (n, n), the scores are ``θ_u = x_u W``, i.e. ``X W``.
Training items are not masked here: :func:`.metrics.evaluate` masks them itself (the
same convention as the ``popularity`` baseline of :mod:`.methods`).

**EASE** (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW):

    B = argmin_B ||X − X B||_F² + λ ||B||_F²   subject to   diag(B) = 0.

With ``G = XᵀX`` the Lagrangian ``||X − XB||² + λ||B||² + 2 μᵀ diag(B)`` is stationary at
``(G + λI) B = G − diag(μ)``, so ``B = I − P diag(μ + λ)`` with ``P = (G + λI)⁻¹``; the
constraint ``B_jj = 0`` gives ``μ_j + λ = 1 / P_jj``, hence the closed form

    B = I − P diag(1 / diag(P)),   i.e.  B_ij = −P_ij / P_jj (i ≠ j),  B_jj = 0.

Column j of B is the ridge regression of item j's column on the other items' columns.
Cost: one n × n Cholesky factorization, ``O(U n² + n³)``.

**Item kNN** (Sarwar, Karypis, Konstan & Riedl 2001, "Item-based collaborative
filtering recommendation algorithms", WWW; the shrunk cosine of Koren 2008 / the
``shrink`` of common item-kNN implementations):

    S_ij = x_i · x_j / (||x_i|| ||x_j|| + shrink)   over the item columns x_i of X,

``S_jj = 0``; column j keeps its k largest entries among the other items ``i ≠ j`` (ties
broken by the lower item index, deterministically) and zeros elsewhere.  An item without
interactions has ``x_i = 0`` and zero similarity to every item (the 0/0 of ``shrink = 0``
is defined as 0).  Scores ``X S``: item j scores ``Σ_{i ∈ I_u} S_ij``, the summed
similarity of j to the user's training items among those of which it is a k-neighbour.

For a held-out evaluation fit on the split whose test items are scored: e.g. with
:func:`.split.holdout`, ``EASE(lam).fit(outer)`` reads outer's training pairs only.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .split import Split

__all__ = ["train_matrix", "ease_item_weights", "itemknn_item_weights", "EASE", "ItemKNN"]


def _check_matrix(X: Tensor) -> None:
    if not isinstance(X, Tensor):
        raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
    if X.dim() != 2:
        raise ValueError(f"X must be 2-D (n_users, n_items), got shape {tuple(X.shape)}")
    if X.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"X must be float32 or float64, got {X.dtype}")
    if not bool(torch.isfinite(X).all()):
        raise ValueError("X must be finite (found NaN or ±inf)")


def _positive_real(name: str, v, *, allow_zero: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{name} must be a real number, got {v!r}")
    v = float(v)
    ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        raise ValueError(f"{name} must be finite and {'≥' if allow_zero else '>'} 0, got {v!r}")
    return v


def train_matrix(sp: Split, dtype: torch.dtype = torch.float64) -> Tensor:
    """The binary (n_users, n_items) matrix of ``sp``'s training pairs (a pair listed
    more than once counts once)."""
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    X = torch.zeros(sp.n_users, sp.n_items, dtype=dtype)
    X[sp.train_users.long(), sp.train_items.long()] = 1.0
    return X


def ease_item_weights(X: Tensor, lam: float) -> Tensor:
    """EASE's B = I − P diag(1/diag P), P = (XᵀX + λI)⁻¹ (Steck 2019); (n, n) in X's dtype
    (solved in float64), exact zeros on the diagonal."""
    lam = _positive_real("lam", lam)
    _check_matrix(X)
    X64 = X.to(torch.float64)
    A = X64.T @ X64
    A.diagonal().add_(lam)
    P = torch.cholesky_inverse(torch.linalg.cholesky(A))
    P = 0.5 * (P + P.T)
    B = -P / P.diagonal()[None, :]
    B.diagonal().zero_()
    return B.to(X.dtype)


def itemknn_item_weights(X: Tensor, k: int, shrink: float = 0.0) -> Tensor:
    """Item kNN's S (n, n): shrunk cosine similarity of X's columns, zero diagonal, each
    column j keeping its k largest entries over items i ≠ j (ties: lower i first)."""
    _check_matrix(X)
    n = X.shape[1]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n - 1:
        raise ValueError(f"k must be an integer in [1, n_items − 1] = [1, {n - 1}], got {k!r}")
    shrink = _positive_real("shrink", shrink, allow_zero=True)
    X64 = X.to(torch.float64)
    dot = X64.T @ X64                                               # (n, n)
    norm = X64.square().sum(0).sqrt()                               # (n,)
    den = norm[:, None] * norm[None, :] + shrink
    S = torch.where(den > 0, dot / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(den))
    S.diagonal().fill_(-math.inf)                                   # never a neighbour of itself
    # stable descending sort down each column: equal similarities keep ascending item order
    order = torch.argsort(S, dim=0, descending=True, stable=True)[:k]   # (k, n)
    keep = torch.zeros_like(S, dtype=torch.bool).scatter_(0, order, True)
    S = torch.where(keep, S, torch.zeros_like(S))
    S.diagonal().zero_()
    return S.to(X.dtype)


class _ItemItem:
    """A fitted item-item baseline: ``scores(users) = X[users] @ W`` (training items not
    masked; :func:`.metrics.evaluate` masks them).  The instance is itself a score_fn."""

    name = "?"
    X: Tensor | None = None
    W: Tensor | None = None

    def _weights(self, X: Tensor) -> Tensor:
        raise NotImplementedError

    def fit(self, sp: Split, dtype: torch.dtype = torch.float64, device="cpu") -> "_ItemItem":
        """Build X from ``sp``'s training pairs and the weights from X; returns self."""
        X = train_matrix(sp, dtype)
        self.W = self._weights(X).to(device)
        self.X = X.to(device)
        return self

    def scores(self, users: Tensor) -> Tensor:
        """(len(users), n_items) scores on the fitted matrix's device and dtype."""
        if self.W is None:
            raise RuntimeError(f"{type(self).__name__}.fit(split) must be called before scores()")
        users = users.to(self.X.device).long()
        return self.X.index_select(0, users) @ self.W

    __call__ = scores


class EASE(_ItemItem):
    """EASE (Steck 2019) with ridge ``lam``: ``EASE(lam).fit(sp)`` then ``scores(users)``."""

    name = "ease"

    def __init__(self, lam: float):
        self.lam = _positive_real("lam", lam)

    def _weights(self, X: Tensor) -> Tensor:
        return ease_item_weights(X, self.lam)


class ItemKNN(_ItemItem):
    """Item kNN (Sarwar et al. 2001), ``k`` neighbours per item, cosine shrunk by ``shrink``."""

    name = "itemknn"

    def __init__(self, k: int, shrink: float = 0.0):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        self.k = k
        self.shrink = _positive_real("shrink", shrink, allow_zero=True)

    def _weights(self, X: Tensor) -> Tensor:
        return itemknn_item_weights(X, self.k, self.shrink)
