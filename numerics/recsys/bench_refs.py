"""Plain-PyTorch reference steps of every trained MF method (``softmax-audit bench recsys``).

Each reference computes the SAME estimator as its :mod:`.methods` counterpart -- the same
per-batch objective (values equal up to rounding; tests/test_recsys_fast.py checks it on
shared samples), the same sampling distribution, the same batches -- written the way a
PyTorch user would write it first, with none of our shortcuts:

- **softmax**: ``θ = P[users] Qᵀ``, ``Σ_u c_u logsumexp(θ_u) − Σ θ_{ui}``;
- **sparsemax / 1.5-entmax**: the sort-based closed forms on the full row (Martins &
  Astudillo 2016, Alg. 1; Peters, Niculae & Martins 2019, Alg. 2), the Fenchel–Young loss
  ``c_u Ω*(θ_u) − Σ θ_{ui}`` with ŷ held fixed (its gradient ŷ − y, as every FY-loss
  implementation does), Ω the Gini / Tsallis-1.5 entropy of losses/regularizers.py;
- **rankmax**: ŷ = clip(θ − τ, 0, 1) with Σ ŷ = k by plain bisection on τ in float64
  (⌈log2(range / 1e-12)⌉ halvings), the capped loss ``⟨θ, ŷ⟩ − ½‖ŷ‖² + ½ k − Σ θ_{ui}``;
- **SSM**: negatives by ``torch.randint`` / ``torch.multinomial``, hits of the positive
  redrawn; the (N_b, 1 + m, d) item vectors gathered by indexing, scores by ``einsum``,
  ``logsumexp`` of the logQ-corrected logits;
- **NCE**: noise by ``torch.multinomial``, gathered scores, ``binary_cross_entropy_with_logits``
  on ``Δ = θ − c − log(k q)`` with targets (1, 0, …, 0);
- **HSM**: the (N_b, D, d) path node vectors gathered by indexing, ``softplus(−sign · u)``;
- **RG² (gradient)**: the per-interaction loss on the full score rows ``θ = P[users] Qᵀ``;
- **RG²-ALS** (both forms): each sweep's exact user and item solves with the rating matrix
  held dense (U, n), every Gram and right-hand side a dense product, ``torch.linalg.solve``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .methods import Batch, Method


class Reference:
    """A reference step with the interface :func:`.train.sgd_epoch` drives: ``batch_loss``
    returns (loss, None); ALS references have ``als_epoch``.  ``meth`` is the initialized
    :class:`.methods.Method` whose data (proposal q, tree, m, λ, α) it reads."""

    def __init__(self, meth: Method):
        self.meth, self.name, self.kind = meth, meth.name, meth.kind

    def batch_loss(self, params: dict[str, Tensor], batch: Batch, generator: torch.Generator):
        return _LOSSES[self.name](self.meth, params, batch, generator), None

    def als_epoch(self, params, users: Tensor, items: Tensor, n_users: int, n_items: int) -> None:
        (_als_authors if self.name == "rg2/als-authors" else _als)(self.meth, params, users, items, n_users, n_items)


def _scores(params, batch: Batch) -> Tensor:
    return params["user"][batch.users] @ params["item"].T


def _softmax(meth, params, batch, gen):
    theta = _scores(params, batch)
    return (batch.counts.to(theta.dtype) * torch.logsumexp(theta, -1)).sum() - theta[batch.rows, batch.items].sum()


def sparsemax(theta: Tensor) -> Tensor:
    """Euclidean projection of each row on the simplex, sort-based (Martins & Astudillo 2016)."""
    z, _ = torch.sort(theta, -1, descending=True)
    k = torch.arange(1, theta.shape[-1] + 1, dtype=theta.dtype, device=theta.device)
    cum = z.cumsum(-1) - 1
    support = (z - cum / k > 0).sum(-1, keepdim=True)
    tau = cum.gather(-1, support - 1) / support.to(theta.dtype)
    return (theta - tau).clamp_min(0)


def entmax15(theta: Tensor) -> Tensor:
    """1.5-entmax of each row, sort-based exact (Peters, Niculae & Martins 2019, Alg. 2)."""
    x = (theta - theta.amax(-1, keepdim=True)) / 2
    z, _ = torch.sort(x, -1, descending=True)
    k = torch.arange(1, theta.shape[-1] + 1, dtype=theta.dtype, device=theta.device)
    mean = z.cumsum(-1) / k
    mean_sq = (z * z).cumsum(-1) / k
    delta = (1 - k * (mean_sq - mean * mean)) / k
    tau = mean - delta.clamp_min(0).sqrt()
    support = (tau <= z).sum(-1, keepdim=True)
    return (x - tau.gather(-1, support - 1)).clamp_min(0) ** 2


def _fy(predict, omega):
    def loss(meth, params, batch, gen):
        theta = _scores(params, batch)
        p = predict(theta.detach())
        conj = (theta * p).sum(-1) - omega(p)                                   # Ω*(θ), ŷ held fixed
        return (batch.counts.to(theta.dtype) * conj).sum() - theta[batch.rows, batch.items].sum()
    return loss


def capped_bisection(theta: Tensor, k: Tensor, tol: float = 1e-12) -> Tensor:
    """clip(θ − τ, 0, 1) with Σ = k per row, τ by bisection on [min θ − 1, max θ] in float64."""
    t = theta.double()
    lo, hi = t.amin(-1, keepdim=True) - 1, t.amax(-1, keepdim=True)
    kk = k.double()[:, None]
    for _ in range(max(1, math.ceil(math.log2(float((hi - lo).max()) / tol)))):
        mid = (lo + hi) / 2
        over = (t - mid).clamp(0, 1).sum(-1, keepdim=True) > kk                 # τ too low
        lo, hi = torch.where(over, mid, lo), torch.where(over, hi, mid)
    return (t - (lo + hi) / 2).clamp(0, 1).to(theta.dtype)


def _rankmax(meth, params, batch, gen):
    theta = _scores(params, batch)
    p = capped_bisection(theta.detach(), batch.counts)
    conj = (theta * p).sum(-1) - 0.5 * (p * p).sum(-1)
    return conj.sum() + 0.5 * batch.counts.to(theta.dtype).sum() - theta[batch.rows, batch.items].sum()


def _gathered(params, batch: Batch, cols: Tensor, table: str = "item") -> Tensor:
    h = params["user"][batch.users[batch.rows]]                                  # (N_b, d)
    return torch.einsum("bd,bkd->bk", h, params[table][cols])                    # (N_b, K)


def _negatives(draw, items: Tensor, m: int) -> Tensor:
    """m draws per row, a draw equal to the row's positive redrawn."""
    s = draw((items.shape[0], m))
    hit = s == items[:, None]
    while bool(hit.any()):
        s[hit] = draw((int(hit.sum()),))
        hit = s == items[:, None]
    return s


def _ssm(meth, params, batch, gen):
    n, m, items = meth.n, meth.m, batch.items
    if meth.proposal == "uniform":
        neg = _negatives(lambda shape: torch.randint(n, shape, generator=gen, device=items.device), items, m)
    else:
        neg = _negatives(lambda shape: torch.multinomial(meth.q, math.prod(shape), replacement=True,
                                                         generator=gen).view(shape), items, m)
    s = _gathered(params, batch, torch.cat([items[:, None], neg], 1))
    q_neg = meth.q[neg] / (1 - meth.q[items])[:, None]                           # q conditioned on j ≠ i
    o = torch.cat([s[:, :1], s[:, 1:] - torch.log(m * q_neg).to(s.dtype)], 1)
    return (torch.logsumexp(o, -1) - o[:, 0]).sum()


def _nce(meth, params, batch, gen):
    N, m, items = batch.size, meth.m, batch.items
    noise = torch.multinomial(meth.q, N * m, replacement=True, generator=gen).view(N, m)
    cols = torch.cat([items[:, None], noise], 1)
    logits = _gathered(params, batch, cols) - params["c"] - torch.log(m * meth.q[cols]).to(params["user"].dtype)
    target = torch.zeros_like(logits)
    target[:, 0] = 1
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum")


def _hsm(meth, params, batch, gen):
    path, sign = meth.path[batch.items], meth.sign[batch.items]
    u = _gathered(params, batch, path, "node")
    return (F.softplus(-sign * u) * (sign != 0)).sum()


def _rg2(meth, params, batch, gen):
    theta = _scores(params, batch)
    n = theta.shape[1]
    per_user = math.log(n) + theta.mean(-1) + (theta * theta).sum(-1) / (2 * n)
    return (batch.counts.to(theta.dtype) * per_user).sum() - theta[batch.rows, batch.items].sum()


def _dense_ratings(users, items, n_users, n_items) -> Tensor:
    R = torch.zeros(n_users, n_items, dtype=torch.float64, device=users.device)
    return R.index_put_((users, items), torch.ones_like(users, dtype=torch.float64), accumulate=True)


@torch.no_grad()
def _als(meth, params, users, items, n_users, n_items):
    """rg2/als: p_u = ((c_u/n) QᵀQ + λI)⁻¹ (R_u Q − c_u q̄), then q_j = (H/n + λI)⁻¹ (R_jᵀ P − Σ_u c_u p_u / n)."""
    P, Q, lam, n = params["user"], params["item"], meth.lam, n_items
    R = _dense_ratings(users, items, n_users, n_items)
    Qd = Q.double()
    eye = torch.eye(Q.shape[1], dtype=torch.float64, device=Q.device)
    c = R.sum(1)
    Pd = torch.linalg.solve(c[:, None, None] / n * (Qd.T @ Qd) + lam * eye, R @ Qd - c[:, None] * Qd.mean(0))
    H = Pd.T @ (c[:, None] * Pd)
    Qn = torch.linalg.solve(H / n + lam * eye, (R.T @ Pd - (c[:, None] * Pd).sum(0) / n).T).T
    P.copy_(Pd.to(P.dtype))
    Q.copy_(Qn.to(Q.dtype))


@torch.no_grad()
def _als_authors(meth, params, users, items, n_users, n_items):
    """rg2/als-authors (rg2_authors.py): the user then the item normal equations, every
    per-user (per-item) α-Gram Σ q_i q_iᵀ as the dense product R · vec(q qᵀ)."""
    P, Q, lam, a = params["user"], params["item"], meth.lam, meth.alpha
    R = _dense_ratings(users, items, n_users, n_items)
    Qd, U, (n, d) = Q.double(), n_users, Q.shape
    eye = torch.eye(d, dtype=torch.float64, device=Q.device)
    c = R.sum(1)
    w = c / (2 * n)
    outer_q = (Qd[:, :, None] * Qd[:, None, :]).reshape(n, d * d)
    A = w[:, None, None] * (Qd.T @ Qd) + a * (R @ outer_q).view(U, d, d) + (lam * (c / 2 + a * n + 1))[:, None, None] * eye
    Pd = torch.linalg.solve(A, -w[:, None] * Qd.sum(0) + (0.5 + a) * (R @ Qd))
    outer_p = (Pd[:, :, None] * Pd[:, None, :]).reshape(U, d * d)
    A = (Pd * w[:, None]).T @ Pd + lam * (w.sum() + a * U) * eye + a * (R.T @ outer_p).view(n, d, d)
    Qn = torch.linalg.solve(A, -(w[:, None] * Pd).sum(0) + (0.5 + a) * (R.T @ Pd))
    P.copy_(Pd.to(P.dtype))
    Q.copy_(Qn.to(Q.dtype))


_LOSSES = {
    "softmax": _softmax,
    "sparsemax": _fy(sparsemax, lambda p: 0.5 * (p * p).sum(-1) - 0.5),
    "entmax-1.5": _fy(entmax15, lambda p: (p.pow(1.5).sum(-1) - 1) / 0.75),
    "rankmax": _rankmax, "ssm/uniform": _ssm, "ssm/popularity": _ssm, "nce": _nce, "hsm": _hsm, "rg2/sgd": _rg2,
}

__all__ = ["Reference", "sparsemax", "entmax15", "capped_bisection"]
