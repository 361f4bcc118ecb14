"""Per-user train/test split and user batches for the MF experiment."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from ..data import Interactions
from .methods import Batch


@dataclass(frozen=True)
class Split:
    """Training and test interactions, each sorted by user (CSR offsets ``*_ptr``)."""

    name: str
    n_users: int
    n_items: int
    train_users: Tensor
    train_items: Tensor
    test_users: Tensor
    test_items: Tensor
    train_ptr: Tensor      # (U + 1,)

    @property
    def item_counts(self) -> Tensor:
        """Training popularity of each item (n,)."""
        return torch.bincount(self.train_items, minlength=self.n_items).double()

    @property
    def user_counts(self) -> Tensor:
        return self.train_ptr[1:] - self.train_ptr[:-1]


def split(data: Interactions, train_frac: float = 0.8, seed: int = 0) -> Split:
    """Per-user random split: each user's interactions in a seeded random order, the first
    ``max(1, round(train_frac · c_u))`` to training and the rest to test (a user with one
    interaction has no test item).  Duplicate (user, item) pairs are merged first."""
    if not 0 < train_frac < 1:
        raise ValueError(f"train_frac must lie in (0, 1), got {train_frac!r}")
    pairs = np.unique(np.stack([data.users, data.items], 1), axis=0)
    if pairs.size == 0:
        raise ValueError("data has no interactions")
    u, i = pairs[:, 0], pairs[:, 1]
    key = np.random.default_rng(seed).random(u.shape[0])
    order = np.lexsort((key, u))
    u, i = u[order], i[order]
    counts = np.bincount(u, minlength=data.n_users)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(u.shape[0]) - start[u]
    n_train = np.maximum(1, np.rint(train_frac * counts)).astype(np.int64)
    train = rank < n_train[u]
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).long()  # noqa: E731
    ptr = np.concatenate([[0], np.cumsum(np.bincount(u[train], minlength=data.n_users))])
    return Split(data.name, data.n_users, data.n_items, t(u[train]), t(i[train]), t(u[~train]), t(i[~train]), t(ptr))


def holdout(data: Interactions, seed: int = 0, test_frac: float = 0.2, valid_frac: float = 0.1) -> tuple[Split, Split]:
    """(outer, inner): ``outer`` the per-user (1 − test_frac)/test_frac split of ``data``;
    ``inner`` splits outer's training part again, valid_frac of each user's interactions
    to validation.  Models train on inner.train, select on inner.test (validation) and
    report on outer.test with every outer training item masked."""
    outer = split(data, 1 - test_frac, seed)
    train = Interactions(data.name, outer.train_users.numpy(), outer.train_items.numpy(), data.n_users, data.n_items)
    return outer, split(train, 1 - valid_frac, seed + 1)


def batches(sp: Split, batch_users: int, generator: torch.Generator) -> Iterator[Batch]:
    """The users with training interactions in a seeded random order, ``batch_users`` at a
    time, each with all of its training interactions (built without a loop over users)."""
    if batch_users < 1:
        raise ValueError(f"batch_users must be ≥ 1, got {batch_users}")
    cnt = sp.user_counts
    active = (cnt > 0).nonzero().flatten()
    perm = active[torch.randperm(active.numel(), generator=generator)]
    for chunk in perm.split(batch_users):
        c = cnt[chunk]
        rows = torch.repeat_interleave(torch.arange(chunk.numel()), c)
        first = torch.repeat_interleave(sp.train_ptr[chunk], c)
        offset = torch.arange(rows.numel()) - torch.repeat_interleave(torch.cumsum(c, 0) - c, c)
        yield Batch(chunk, c.double(), rows, sp.train_items[first + offset])
