"""``softmax-audit bench recsys``: seconds per epoch of softmax MF training, ours vs a
plain PyTorch loop written the obvious way, measured interleaved in one run.

- **naive**: shuffle the N training interactions, batches of ``--batch`` of them,
  ``logits = P[u] @ Qᵀ`` (B, n), ``F.cross_entropy(logits, i)``, Adam step;
- **ours** (``numerics.recsys.methods``): batches of users with all their interactions,
  one score row and one softmax per user serving its c_u interactions (the same sum of
  per-interaction losses and the same gradient), Adam step.

Both train d-dimensional factors on the training split of MovieLens-100K when it is
cached or can be fetched (``softmax-audit data ml-100k``), else on synthetic data of
the same shape (the printout says which).  Epoch times are the median over ``--repeats`` interleaved rounds;
exit status 1 if ours is slower than the naive loop.
"""
from __future__ import annotations

import statistics
import time

import torch


def _data():
    from numerics import data as D

    try:
        return D.load_ml100k(D.fetch_ml100k(log=lambda msg: None))
    except D.DataError as exc:  # offline and not cached: same shape, synthetic
        print(f"MovieLens-100K unavailable ({exc}); using synthetic data of its shape")
        return D.synthetic(n_users=943, n_items=1682, per_user=85, d=16, seed=0)


def main(d: int = 64, batch: int = 1024, repeats: int = 5, device: str = "cpu", seed: int = 0) -> int:
    from .methods import make, naive_softmax_epoch
    from .split import holdout
    from .train import sgd_epoch

    if d < 1 or batch < 1 or repeats < 1:
        raise SystemExit("error: need --d ≥ 1, --batch ≥ 1, --repeats ≥ 1")
    data = _data()
    outer, inner = holdout(data, seed)
    U, n = inner.n_users, inner.n_items
    u_all, i_all = inner.train_users.to(device), inner.train_items.to(device)
    N = u_all.numel()
    gen = torch.Generator().manual_seed(seed)

    # naive: the loop a PyTorch user writes first
    naive = {"user": (torch.randn(U, d, generator=gen) * 0.1).to(device).requires_grad_(),
             "item": (torch.randn(n, d, generator=gen) * 0.1).to(device).requires_grad_()}
    opt_naive = torch.optim.Adam(list(naive.values()), lr=1e-2)

    def naive_epoch():
        naive_softmax_epoch(naive, u_all, i_all, batch, gen, opt_naive)

    meth = make("softmax")
    params = meth.init(U, n, d, inner.item_counts, gen, device=device)
    opt_ours = torch.optim.Adam(list(params.values()), lr=1e-2)

    def ours_epoch():
        sgd_epoch(meth, params, inner, 64, gen, gen, opt_ours, device)

    def timed(fn):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    print(f"recsys benchmark: {data.name}, U = {U}, n = {n}, N = {N} training interactions, d = {d}, "
          f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    naive_epoch(), ours_epoch()  # warm-up
    tn, to = [], []
    for r in range(repeats):
        tn.append(timed(naive_epoch))
        to.append(timed(ours_epoch))
        print(f"  round {r + 1}: naive {tn[-1]:.3f} s, ours {to[-1]:.3f} s", flush=True)
    mn, mo = statistics.median(tn), statistics.median(to)
    print(f"softmax MF epoch: naive (batch {batch} interactions) {mn:.3f} s, ours (64 users per batch) {mo:.3f} s; "
          f"naive / ours = {mn / mo:.2f}")
    if mo > mn:
        print("FAIL: ours is slower than the naive loop")
        return 1
    print("ok: ours is not slower than the naive loop")
    return 0
