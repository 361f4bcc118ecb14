"""Full-ranking top-K metrics with training items masked.

For user u with test items T_u and the ranking of all items not in its training set:
``DCG@K = Σ_{r ≤ K} [item at r ∈ T_u] / log2(r + 1)``, ``NDCG@K = DCG@K / IDCG@K`` with
``IDCG@K = Σ_{r ≤ min(K, |T_u|)} 1 / log2(r + 1)``, and ``Recall@K = |top-K ∩ T_u| / |T_u|``
(Järvelin & Kekäläinen 2002; the convention of RecBole).  Users without test items are
left out.  Ties in the scores are broken by the lower item index (``torch.topk`` on CPU is
not guaranteed stable, so :func:`_stable_topk` orders by (−score, index) explicitly).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .split import Split

KS = (10, 20)


def evaluate(score_fn: Callable[[Tensor], Tensor], sp: Split, chunk: int = 512) -> dict[str, Tensor]:
    """Per-user ``ndcg@10``, ``ndcg@20`` and ``recall@20`` (float64, one entry per user with
    test items, in user order) for scores ``score_fn(users) -> (B, n)``."""
    K = max(KS)
    test_cnt = torch.bincount(sp.test_users, minlength=sp.n_users)
    users = (test_cnt > 0).nonzero().flatten()
    disc = 1.0 / torch.log2(torch.arange(2, K + 2, dtype=torch.float64))
    idcg_cum = disc.cumsum(0)
    out = {f"ndcg@{k}": [] for k in KS} | {"recall@20": []}
    test_ptr = torch.cat([torch.zeros(1, dtype=torch.long), test_cnt.cumsum(0)])
    for ch in users.split(chunk):
        with torch.no_grad():
            s = score_fn(ch).double().cpu()
        B, n = s.shape
        if n != sp.n_items:
            raise ValueError(f"score_fn returned {n} columns for {sp.n_items} items")
        if bool(torch.isnan(s).any()):
            raise ValueError("score_fn returned NaN scores (a ranking needs ordered scores)")
        tr = _rows_of(sp.train_ptr, sp.train_items, ch, n)
        te = _rows_of(test_ptr, sp.test_items, ch, n)
        s = s.masked_fill(tr, float("-inf"))
        top = _stable_topk(s, min(K, n))
        hit = torch.nn.functional.pad(te.gather(-1, top).double(), (0, K - top.shape[1]))   # (B, K)
        t = te.sum(-1).double()
        for k in KS:
            dcg = (hit[:, :k] * disc[:k]).sum(-1)
            idcg = idcg_cum[(t.clamp(max=k) - 1).long()]
            out[f"ndcg@{k}"].append(dcg / idcg)
        out["recall@20"].append(hit[:, :20].sum(-1) / t)
    return {k: torch.cat(v) for k, v in out.items()}


def _rows_of(ptr: Tensor, items: Tensor, users: Tensor, n: int) -> Tensor:
    """Boolean (B, n) membership of each user's items from CSR (ptr, items)."""
    c = ptr[users + 1] - ptr[users]
    rows = torch.repeat_interleave(torch.arange(users.numel()), c)
    idx = torch.repeat_interleave(ptr[users], c) + torch.arange(rows.numel()) - torch.repeat_interleave(c.cumsum(0) - c, c)
    out = torch.zeros(users.numel(), n, dtype=torch.bool)
    out[rows, items[idx]] = True
    return out


def _stable_topk(s: Tensor, K: int) -> Tensor:
    """Indices of the K largest entries per row, ties broken by the lower index: the first K
    of the stable descending argsort, found in O(n) per row.  With v the K-th largest value
    (``topk``), the top K are every entry > v and the lowest-index entries = v up to K in
    all; those K are then ordered by (−score, index) with a stable sort of K entries.
    ``topk`` alone is not enough: on the CPU its order among ties is unspecified, and
    popularity scores are mostly ties."""
    B = s.shape[0]
    v = s.topk(K, dim=-1).values[:, -1:]
    above = s > v
    tied = s == v
    take = above | (tied & (tied.cumsum(-1) <= K - above.sum(-1, keepdim=True)))
    idx = take.nonzero()[:, 1].view(B, K)                      # ascending index within each row
    return idx.gather(-1, torch.argsort(s.gather(-1, idx), dim=-1, descending=True, stable=True))


def summary(per_user: dict[str, Tensor]) -> dict[str, float]:
    return {k: float(v.mean()) for k, v in per_user.items()} | {"users": int(next(iter(per_user.values())).numel())}

