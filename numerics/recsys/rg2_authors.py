"""RG²-ALS in the form of the authors' public implementation (Pu et al. 2025).

Written from the update formulas of the public repository ``yuanhao53/RG2`` (``rg2.py``):
two things set it apart from ``rg2/als`` (methods.py), whose objective is the per-
interaction RG² loss ``−θ_ui + log n + θ̄_u + (1/2n) Σ_j θ_uj²`` with one ridge λ:

* a weight ``α`` on the observed entries, a squared loss pulling ``θ_ui`` towards 1;
* a frequency-scaled ridge: user ``u`` (``c_u`` training items, ``w_u = c_u / 2n``) is
  shrunk by ``λ (c_u/2 + α n + 1)``, every item by ``λ (Σ_u w_u + α U)``.

Both updates are the exact minimizers, in P and then in Q, of one joint objective

    J(P, Q) = Σ_u [ (w_u/2) Σ_j θ_uj² + w_u Σ_j θ_uj + Σ_{i ∈ I_u} ((α/2) θ_ui² − (½ + α) θ_ui) ]
              + (λ/2) Σ_u (c_u/2 + α n + 1) ‖p_u‖² + (λ/2) (Σ_u w_u + α U) Σ_j ‖q_j‖²,

with ``θ_uj = p_u · q_j``.  Setting ``∂J/∂p_u = 0`` gives the user step

    (w_u QᵀQ + α Σ_{i∈I_u} q_i q_iᵀ + λ (c_u/2 + α n + 1) I) p_u = −w_u Σ_j q_j + (½ + α) Σ_{i∈I_u} q_i,

and ``∂J/∂q_j = 0`` the item step

    (Σ_u w_u p_u p_uᵀ + α Σ_{u∋j} p_u p_uᵀ + λ (Σ_u w_u + α U) I) q_j = −Σ_u w_u p_u + (½ + α) Σ_{u∋j} p_u.

With α = 0 the data term is ½ × the summed RG² loss (up to a constant), so the two forms
differ in the positive weight and the ridge.  Each sweep cannot increase J (exact block
minimization); tests/test_rg2_authors.py checks both stationarity conditions with
autograd on :func:`objective` and the monotone decrease.  Cost per sweep
``O(N d² + (U + n) d³)``: the per-user and per-item ``α`` Gram matrices are built from
the interactions as one sparse × dense product, and the systems are solved batched.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .methods import Method


def objective(P: Tensor, Q: Tensor, users: Tensor, items: Tensor, lam: float, alpha: float) -> Tensor:
    """J(P, Q) of the module docstring (differentiable; the reference the tests use)."""
    n, U = Q.shape[0], P.shape[0]
    c = torch.bincount(users, minlength=U).to(P.dtype)
    w = c / (2 * n)
    theta = P @ Q.T
    pos = (P[users] * Q[items]).sum(-1)
    data = (w * (0.5 * (theta ** 2).sum(1) + theta.sum(1))).sum() + ((alpha / 2) * pos ** 2 - (0.5 + alpha) * pos).sum()
    ridge_u = (lam / 2) * ((c / 2 + alpha * n + 1) * (P ** 2).sum(1)).sum()
    ridge_i = (lam / 2) * (w.sum() + alpha * U) * (Q ** 2).sum()
    return data + ridge_u + ridge_i


def _grams(A: Tensor, rows: Tensor, cols: Tensor, size: int) -> Tensor:
    """``Σ_{(r, c)} a_c a_cᵀ`` gathered per ``r``: (size, d, d), as one sparse × dense
    product ``X · vec(a_c a_cᵀ)`` with X the (size, len(A)) count matrix of the pairs
    (duplicates summed).  The (len(A), d²) outer products are formed once per sweep
    (1682 × 64² doubles on MovieLens-100K); an (N, d, d) tensor per interaction would not fit
    at N = 10⁵, and chunked ``index_add`` of it was 10× slower."""
    d = A.shape[1]
    X = torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.ones(rows.numel(), dtype=A.dtype, device=A.device),
                                (size, A.shape[0]), check_invariants=False).coalesce()
    return torch.sparse.mm(X, (A[:, :, None] * A[:, None, :]).reshape(-1, d * d)).reshape(size, d, d)


class RG2Authors(Method):
    """``rg2/als-authors``: the authors' RG²-ALS (module docstring), ridge ``lam`` and
    positive weight ``alpha`` ≥ 0."""

    kind, name = "als", "rg2/als-authors"

    def __init__(self, m: int = 64, lam: float = 1.0, alpha: float = 0.0):
        super().__init__(m=m, lam=lam)
        if not lam > 0:
            raise ValueError(f"lam must be > 0, got {lam}")
        if not alpha >= 0:
            raise ValueError(f"alpha must be ≥ 0, got {alpha}")
        self.alpha = float(alpha)

    @torch.no_grad()
    def user_step(self, P: Tensor, Q: Tensor, users: Tensor, items: Tensor) -> Tensor:
        """The exact minimizer of J over P (float64)."""
        U, (n, d) = P.shape[0], Q.shape
        a, lam = self.alpha, self.lam
        eye = torch.eye(d, dtype=Q.dtype, device=Q.device)
        c = torch.bincount(users, minlength=U).to(Q.dtype)
        w = c / (2 * n)
        A = w[:, None, None] * (Q.T @ Q) + a * _grams(Q, users, items, U) \
            + (lam * (c / 2 + a * n + 1))[:, None, None] * eye
        pos = torch.zeros(U, d, dtype=Q.dtype, device=Q.device).index_add_(0, users, Q[items])
        b = -w[:, None] * Q.sum(0) + (0.5 + a) * pos
        return torch.linalg.solve(A, b)

    @torch.no_grad()
    def item_step(self, P: Tensor, Q: Tensor, users: Tensor, items: Tensor) -> Tensor:
        """The exact minimizer of J over Q (float64)."""
        U, (n, d) = P.shape[0], Q.shape
        a, lam = self.alpha, self.lam
        eye = torch.eye(d, dtype=P.dtype, device=P.device)
        w = torch.bincount(users, minlength=U).to(P.dtype) / (2 * n)
        shared = (P * w[:, None]).T @ P + lam * (w.sum() + a * U) * eye
        A = shared + a * _grams(P, items, users, n)
        pos = torch.zeros(n, d, dtype=P.dtype, device=P.device).index_add_(0, items, P[users])
        b = -(w[:, None] * P).sum(0) + (0.5 + a) * pos
        return torch.linalg.solve(A, b)

    @torch.no_grad()
    def als_epoch(self, params, users: Tensor, items: Tensor, n_users: int, n_items: int) -> None:
        """One sweep: every user's exact update, then every item's."""
        P, Q = params["user"], params["item"]
        Pd = self.user_step(P.double(), Q.double(), users, items)
        Qd = self.item_step(Pd, Q.double(), users, items)
        P.copy_(Pd.to(P.dtype))
        Q.copy_(Qd.to(Q.dtype))
