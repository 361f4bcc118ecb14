"""The MF experiment's building blocks: every objective equals the per-interaction sum of
its loss from ``losses/`` (the independent route), the split and batches cover the data
exactly, the metrics match hand computations, training is deterministic."""
import math
from dataclasses import replace

import pytest
import torch

from losses import approx, get
from losses.rankmax import capped_projection
from numerics.data import synthetic
from numerics.recsys import methods as M
from numerics.recsys.catalog import make
from numerics.recsys.metrics import evaluate
from numerics.recsys.split import Split, batches, holdout, split
from numerics.recsys.train import Config, experiment

U, N_ITEMS, D = 6, 40, 5
USERS = torch.tensor([0, 1, 2, 3])
COUNTS = torch.tensor([1.0, 3.0, 2.0, 1.0])
ROWS = torch.tensor([0, 1, 1, 1, 2, 2, 3])
ITEMS = torch.tensor([3, 5, 7, 9, 0, 39, 12])
BATCH = M.Batch(USERS, COUNTS, ROWS, ITEMS)


def _init(name, seed=0, scale=1.0):
    meth = make(name, m=7)
    g = torch.Generator().manual_seed(seed)
    params = meth.init(U, N_ITEMS, D, torch.arange(N_ITEMS, dtype=torch.float64) % 7 + 1, g, dtype=torch.float64)
    with torch.no_grad():
        params["user"].mul_(scale)
    return meth, params, g


def _grads(params):
    return {k: v.grad.clone() for k, v in params.items()}


@pytest.mark.parametrize("name,ref", [("softmax", get("softmax")), ("sparsemax", get("sparsemax")),
                                      ("entmax-1.5", get("entmax", alpha=1.5))])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_grouped_exact_loss_is_the_per_interaction_sum(name, ref, scale):
    meth, params, g = _init(name, scale=scale)
    loss, frac = meth.batch_loss(params, BATCH, g)
    loss.backward()
    got = _grads(params)
    P = params["user"].detach().clone().requires_grad_()
    Q = params["item"].detach().clone().requires_grad_()
    want = ref(P[USERS][ROWS] @ Q.T, ITEMS).sum()
    want.backward()
    assert float(loss.detach()) == pytest.approx(float(want.detach()), abs=1e-10)
    assert torch.allclose(got["user"], P.grad, atol=1e-12) and torch.allclose(got["item"], Q.grad, atol=1e-12)
    assert 0 < frac <= 1


def test_rankmax_multilabel_matches_the_capped_loss_per_user():
    meth, params, g = _init("rankmax", scale=10.0)
    loss, _ = meth.batch_loss(params, BATCH, g)
    theta = (params["user"][USERS] @ params["item"].T).detach()
    want = 0.0
    for r in range(USERS.numel()):
        y = torch.zeros(N_ITEMS, dtype=torch.float64)
        y[ITEMS[ROWS == r]] = 1
        want += float(get("rankmax", k=int(COUNTS[r]))(theta[r:r + 1], y[None]).sum())
    assert loss.item() == pytest.approx(want, abs=1e-10)


def test_capped_projection_with_per_row_k():
    g = torch.Generator().manual_seed(1)
    theta = torch.randn(5, 300, generator=g, dtype=torch.float64) * 3
    k = torch.tensor([1.0, 2.0, 5.0, 40.0, 150.0])  # 150: the support does not fit the first slice
    p = capped_projection(theta, k)
    for b in range(5):
        assert torch.allclose(p[b], get("rankmax", k=int(k[b])).predict(theta[b:b + 1])[0], atol=1e-12)
    assert torch.allclose(p.sum(-1), k.double(), atol=1e-9)
    for bad in (torch.tensor([0.0] * 5), torch.tensor([1.5] * 5), torch.tensor([301.0] * 5), torch.ones(4)):  # k = n is C_n = {1}
        with pytest.raises(ValueError, match="k"):
            capped_projection(theta, bad)


def test_rg2_sgd_objective_and_als_fixed_point():
    meth, params, g = _init("rg2/sgd")
    loss, _ = meth.batch_loss(params, BATCH, g)
    theta = params["user"][USERS][ROWS] @ params["item"].T
    assert loss.item() == pytest.approx(approx.rg_loss(theta, ITEMS).sum().item(), abs=1e-10)
    # ALS: after a sweep the item step is exact, so ∂(objective + λ/2‖Q‖²)/∂Q = 0
    als, p2, _ = _init("rg2/als")
    als.lam = 0.5
    users = USERS[ROWS]
    als.als_epoch(p2, users, ITEMS, U, N_ITEMS)
    Q = p2["item"].detach().clone().requires_grad_()
    full = M.Batch(torch.arange(U), torch.bincount(users, minlength=U).double(), users, ITEMS)
    obj = meth.batch_loss({"user": p2["user"].detach(), "item": Q}, full, g)[0] + 0.5 * als.lam * (Q * Q).sum()
    obj.backward()
    assert float(Q.grad.abs().max()) < 1e-9
    # ALS is block coordinate descent: the ridge-regularized objective never increases
    def ridge_obj():
        with torch.no_grad():
            P, Q = p2["user"], p2["item"]
            return float(meth.batch_loss(p2, full, g)[0] + 0.5 * als.lam * ((P * P).sum() + (Q * Q).sum()))

    values = [ridge_obj()]
    for _ in range(5):
        als.als_epoch(p2, users, ITEMS, U, N_ITEMS)
        values.append(ridge_obj())
    assert all(b <= a + 1e-9 for a, b in zip(values, values[1:])) and values[-1] < values[0]


def test_hsm_matches_the_tree_loss_and_scores_are_log_probabilities():
    meth, params, g = _init("hsm")
    loss, _ = meth.batch_loss(params, BATCH, g)
    tree = approx.huffman_tree(meth.counts.cpu())
    u = params["user"][USERS][ROWS] @ params["node"].T
    assert float(loss.detach()) == pytest.approx(float(approx.hsm_loss(u, ITEMS, tree).sum().detach()), abs=1e-10)
    s = meth.scores(params, USERS)
    assert torch.allclose(s.exp().sum(-1), torch.ones(4, dtype=torch.float64), atol=1e-12)


def test_ssm_and_nce_match_the_dense_estimators_on_the_same_samples():
    for name in ("ssm/uniform", "ssm/popularity", "nce"):
        meth, params, g = _init(name)
        state = g.get_state()
        loss, _ = meth.batch_loss(params, BATCH, g)
        g.set_state(state)
        samples = meth.draw(ITEMS, g)   # the same samples: draw is what batch_loss draws with
        theta = params["user"][USERS][ROWS] @ params["item"].T
        if name == "nce":
            want = approx.nce_loss(theta, ITEMS, samples, meth.q, c=params["c"]).sum()
        else:
            assert not bool((samples == ITEMS[:, None]).any())
            want = approx.ssm_loss(theta, ITEMS, samples, meth.q).sum()
        assert float(loss.detach()) == pytest.approx(float(want.detach()), abs=1e-9), name


def test_make_rejects_bad_names_and_sizes():
    with pytest.raises(ValueError, match="name"):
        make("softmaxx")
    with pytest.raises(ValueError, match="m"):
        make("ssm/uniform", m=0)
    with pytest.raises(ValueError, match="item_counts"):
        make("softmax").init(3, 5, 2, torch.ones(4), torch.Generator())


def _toy():
    return synthetic(n_users=40, n_items=60, per_user=10, d=4, seed=3)


def test_split_partitions_each_user_and_is_seeded():
    data = _toy()
    sp = split(data, 0.8, seed=5)
    assert sp.train_items.numel() + sp.test_items.numel() == data.users.size
    both = set(zip(sp.train_users.tolist(), sp.train_items.tolist())) | set(zip(sp.test_users.tolist(), sp.test_items.tolist()))
    assert both == set(zip(data.users.tolist(), data.items.tolist()))
    assert torch.equal(sp.user_counts, torch.full((40,), 8))
    again = split(data, 0.8, seed=5)
    assert torch.equal(again.test_items, sp.test_items) and not torch.equal(split(data, 0.8, seed=6).test_items, sp.test_items)
    outer, inner = holdout(data, seed=5)
    assert inner.train_items.numel() + inner.test_items.numel() == outer.train_items.numel()
    with pytest.raises(ValueError, match="train_frac"):
        split(data, 1.0)


def test_batches_cover_every_training_interaction_once():
    sp = split(_toy(), 0.8, seed=0)
    seen = []
    for b in batches(sp, 7, torch.Generator().manual_seed(0)):
        assert torch.equal(torch.bincount(b.rows, minlength=b.users.numel()).double(), b.counts)
        seen += list(zip(b.users[b.rows].tolist(), b.items.tolist()))
    assert sorted(seen) == sorted(zip(sp.train_users.tolist(), sp.train_items.tolist()))


def test_metrics_by_hand():
    # 1 user, 6 items: train {0}, test {2, 4}; scores rank 0 > 1 > 2 > 3 > 4 > 5
    sp = Split("toy", 1, 6, torch.tensor([0]), torch.tensor([0]), torch.tensor([0, 0]), torch.tensor([2, 4]),
                  torch.tensor([0, 1]))
    scores = torch.tensor([[6.0, 5, 4, 3, 2, 1]])
    out = evaluate(lambda u: scores, sp)
    # masked ranking: 1, 2, 3, 4, 5 -> hits at ranks 2 and 4
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert float(out["ndcg@10"][0]) == pytest.approx(dcg / idcg)
    assert float(out["recall@20"][0]) == 1.0
    # ties: equal scores rank by the lower item index
    tie = evaluate(lambda u: torch.zeros(1, 6), sp)
    assert float(tie["ndcg@10"][0]) == pytest.approx(dcg / idcg)


def test_training_is_deterministic_and_learns():
    data = _toy()
    cfg = Config(d=4, epochs=4, batch_users=16, m=4, eval_every=2)
    a = experiment(data, cfg, ("softmax", "ssm/uniform", "rg2/als", "popularity"), (0,))
    b = experiment(data, cfg, ("softmax", "ssm/uniform", "rg2/als", "popularity"), (0,))
    for k in a:
        assert torch.equal(a[k][0].per_user["ndcg@20"], b[k][0].per_user["ndcg@20"])
    assert a["softmax"][0].curve and a["softmax"][0].best_epoch in (2, 4)


def test_refit_trains_the_whole_training_part_for_the_given_epochs_and_tests_once(monkeypatch):
    from numerics.recsys import train as train_module
    from numerics.recsys.split import holdout
    from numerics.recsys.train import refit

    outer, _ = holdout(_toy(), 0)
    cfg = Config(d=4, batch_users=16, m=4, weight_decay=0.1)
    trained, evaluated = [], []
    real_epoch, real_eval = train_module.sgd_epoch, train_module.evaluate
    monkeypatch.setattr(train_module, "sgd_epoch", lambda meth, params, sp, *a, **k: (trained.append(sp),
                                                                                      real_epoch(meth, params, sp, *a, **k))[1])
    monkeypatch.setattr(train_module, "evaluate", lambda fn, sp, **k: (evaluated.append(sp), real_eval(fn, sp, **k))[1])
    a = refit("softmax", outer, cfg, 0, 3)
    assert trained == [outer] * 3 and evaluated == [outer] and a.best_epoch == 3
    b = refit("softmax", outer, cfg, 0, 3)
    assert torch.equal(a.per_user["ndcg@20"], b.per_user["ndcg@20"])
    untrained = refit("softmax", outer, cfg, 0, 0)
    assert not torch.equal(a.per_user["ndcg@20"], untrained.per_user["ndcg@20"])
    als = refit("rg2/als-authors", outer, replace(cfg, als_lam=0.1, als_alpha=0.005), 0, 2)
    assert als.lam == 0.1 and als.best_epoch == 2
    with pytest.raises(ValueError, match="epochs"):
        refit("softmax", outer, cfg, 0, -1)


def test_the_wrong_positive_enters_through_the_exact_losses_label_source():
    """The training defect patches ``ExactFY.positives`` (the label source the loss reads):
    a fixed share of softmax's interactions get another item, the same in every epoch; the
    other exact losses keep theirs."""
    from numerics.recsys.catalog import make
    from numerics.recsys.methods import Batch
    from reports.claim import replacing
    from reports.exp.planted import wrong_positives

    g = torch.Generator().manual_seed(0)
    n_users, n_items = 300, 50
    items = torch.randint(n_items, (6000,), generator=g)
    rows = torch.arange(6000) % n_users
    batch = Batch(torch.arange(n_users), torch.bincount(rows, minlength=n_users), rows, items)
    soft, sparse = make("softmax"), make("sparsemax")
    for meth in (soft, sparse):
        meth.init(n_users, n_items, 4, torch.ones(n_items), g)
    assert torch.equal(soft.positives(batch), items)
    bad = wrong_positives(0.1)
    out = bad(soft, batch)
    assert torch.equal(out, bad(soft, batch)) and out.dtype == items.dtype
    assert 0.07 < (out != items).float().mean() < 0.11 and int(out.max()) < n_items
    assert torch.equal(bad(sparse, batch), items)
    params = soft.init(n_users, n_items, 4, torch.ones(n_items), g)
    clean = torch.autograd.grad(soft.batch_loss(params, batch, g)[0], params["item"])[0]
    with replacing((type(soft), "positives", bad))():
        wrong = torch.autograd.grad(soft.batch_loss(params, batch, g)[0], params["item"])[0]
    assert (clean - wrong).abs().max() > 0.1 * clean.abs().max()     # the loss reads the patched labels
