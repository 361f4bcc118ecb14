"""The fast training paths of numerics/recsys/methods.py (issue 21) against straightforward
independent computations: the picked-score losses of SSM, NCE and HSM (both routes of
``picked_scores``) and their gradients, the exact samplers, the alias table, and the
plain-torch references of ``bench recsys`` (the same objective as ours)."""
import math

import pytest
import torch
import torch.nn.functional as F

from losses import approx
from numerics.recsys import bench_refs as R
from numerics.recsys import methods as M
from numerics.recsys.catalog import make

U, N_ITEMS, D, m = 30, 200, 6, 5
COUNTS = (torch.arange(N_ITEMS) % 11).double() ** 2     # skewed popularity, some zero counts


def _batch(B: int, per_user: int, seed: int = 0) -> M.Batch:
    g = torch.Generator().manual_seed(seed)
    users = torch.randperm(U, generator=g)[:B]
    counts = torch.randint(1, per_user + 1, (B,), generator=g)
    rows = torch.repeat_interleave(torch.arange(B), counts)
    items = torch.randint(N_ITEMS, (rows.numel(),), generator=g)
    return M.Batch(users, counts.double(), rows, items)


# B·n ≤ 8·N_b·K takes the dense route; B users with one interaction each, K ≪ n/8, the gather
DENSE, GATHER = _batch(3, 40), _batch(25, 1)


def _init(name: str, seed: int = 0):
    meth = make(name, m=m)
    params = meth.init(U, N_ITEMS, D, COUNTS, torch.Generator().manual_seed(seed), dtype=torch.float64)
    return meth, params


def _route(batch: M.Batch, n: int, K: int) -> str:
    return "dense" if batch.users.numel() * n <= M.DENSE_FACTOR * batch.size * K else "gather"


def _plain(name: str, meth, params, batch: M.Batch, samples):
    """The loss written straightforwardly: each interaction's user vector dotted with the
    gathered item (node) vectors, the estimator's formula from losses.approx / the paper."""
    h = params["user"][batch.users[batch.rows]]
    if name == "hsm":
        path, sign = meth.path[batch.items], meth.sign[batch.items]
        u = (params["node"][path] * h[:, None, :]).sum(-1)
        return (F.softplus(-sign * u) * (sign != 0)).sum()
    cols = torch.cat([batch.items[:, None], samples], 1)
    s = (params["item"][cols] * h[:, None, :]).sum(-1)
    if name == "nce":
        d = s - params["c"] - torch.log(m * meth.q[cols])
        return approx.nce_kernel(d[:, :1], d[:, 1:])[0].sum()
    q_neg = meth.q[samples] / (1 - meth.q[batch.items])[:, None]
    return approx.ssm_kernel(s[:, :1], s[:, 1:] - torch.log(m * q_neg))[0].sum()


@pytest.mark.parametrize("name", ["ssm/uniform", "ssm/popularity", "nce", "hsm"])
@pytest.mark.parametrize("which", ["dense", "gather"])
def test_fast_batch_losses_and_gradients_equal_the_gathered_computation(name, which):
    batch = DENSE if which == "dense" else GATHER
    meth, params = _init(name)
    K = meth.path.shape[1] if name == "hsm" else m + 1
    assert _route(batch, N_ITEMS - (name == "hsm"), K) == which
    g = torch.Generator().manual_seed(3)
    state = g.get_state()
    loss, frac = meth.batch_loss(params, batch, g)
    assert frac is None
    loss.backward()
    got = {k: v.grad.clone() for k, v in params.items()}
    g.set_state(state)
    samples = None if name == "hsm" else meth.draw(batch.items, g)
    ref = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    want = _plain(name, meth, ref, batch, samples)
    want.backward()
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-12)
    for k in params:
        assert torch.allclose(got[k], ref[k].grad, rtol=1e-10, atol=1e-12), k


@pytest.mark.parametrize("name", ["ssm/uniform", "ssm/popularity", "nce", "hsm"])
def test_fast_losses_equal_the_dense_estimators_of_losses_approx(name):
    """A second route: the estimators of losses.approx on the full score rows θ (N_b, n)."""
    meth, params = _init(name, seed=1)
    batch = DENSE
    g = torch.Generator().manual_seed(4)
    state = g.get_state()
    loss, _ = meth.batch_loss(params, batch, g)
    g.set_state(state)
    if name == "hsm":
        u = params["user"][batch.users][batch.rows] @ params["node"].T
        want = approx.hsm_loss(u, batch.items, approx.huffman_tree(meth.counts)).sum()
    else:
        theta = params["user"][batch.users][batch.rows] @ params["item"].T
        s = meth.draw(batch.items, g)
        want = (approx.nce_loss(theta, batch.items, s, meth.q, c=params["c"]) if name == "nce"
                else approx.ssm_loss(theta, batch.items, s, meth.q)).sum()
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-12)


def test_uniform_excluding_is_a_bijection_onto_the_other_classes_and_never_returns_y():
    n = 7
    for y in range(n):
        # r ↦ r + (r ≥ y) on every r of {0 … n−2}: the n − 1 classes other than y, each once
        r = torch.arange(n - 1)
        assert sorted((r + (r >= y).long()).tolist()) == [j for j in range(n) if j != y]
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n).repeat(500)
    s = M.uniform_excluding(y, n, 40, g)
    assert s.shape == (y.numel(), 40) and not bool((s == y[:, None]).any())
    assert int(s.min()) == 0 and int(s.max()) == n - 1


def test_uniform_excluding_maps_the_generators_draws_exactly():
    """The sampler is ``randint(n − 1)`` shifted past y: the same generator state gives the
    same r, so the output is exactly r + (r ≥ y) (uniformity is then randint's)."""
    g = torch.Generator().manual_seed(5)
    y = torch.tensor([0, 3, 6, 2])
    state = g.get_state()
    s = M.uniform_excluding(y, 7, 9, g)
    g.set_state(state)
    r = torch.randint(6, (4, 9), generator=g)
    assert torch.equal(s, r + (r >= y[:, None]).long())


@pytest.mark.parametrize("bad,match", [(dict(n=1), "n"), (dict(n=2.0), "n"), (dict(m=0), "m"),
                                       (dict(exclude=torch.tensor([0.0])), "exclude"),
                                       (dict(exclude=torch.tensor([5])), "exclude"),
                                       (dict(exclude=torch.tensor([-1])), "exclude")])
def test_uniform_excluding_rejects_bad_input(bad, match):
    kw = dict(exclude=torch.tensor([0, 1]), n=5, m=3, generator=torch.Generator())
    with pytest.raises(ValueError, match=match):
        M.uniform_excluding(**(kw | bad))


@pytest.mark.parametrize("q", [
    torch.full((9,), 1 / 9, dtype=torch.float64),                               # uniform: no small class
    torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64),                     # zero-mass classes
    torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64),                          # a point mass
    torch.tensor([0.2, 0.3, 0.5], dtype=torch.float32),
    approx.unigram_proposal(COUNTS + 1),
    approx.unigram_proposal(torch.tensor([1e6] + [1.0] * 999)),                  # one large feeds every small
    approx.unigram_proposal(torch.rand(5000, generator=torch.Generator().manual_seed(0)) ** 8),
])
def test_alias_table_implies_q_exactly(q):
    t = M.alias_table(q)
    assert bool(((t.prob >= 0) & (t.prob <= 1)).all())
    assert bool(((t.alias >= 0) & (t.alias < q.numel())).all())
    q = q.double() / q.double().sum()
    assert torch.allclose(t.implied(), q, rtol=0, atol=1e-12)
    # independently of implied(): class j's mass = its own column plus what other columns alias to it
    n = q.numel()
    mass = torch.zeros(n, dtype=torch.float64)
    for k in range(n):
        mass[k] += float(t.prob[k]) / n
        mass[int(t.alias[k])] += (1 - float(t.prob[k])) / n
    assert torch.allclose(mass, q, rtol=0, atol=1e-12)


def test_alias_samples_follow_the_table():
    """Draws are k if u < prob[k] else alias[k] for the generator's k and u; a seeded
    frequency check (fixed seed, not flaky) on top."""
    q = approx.unigram_proposal(torch.tensor([5.0, 1.0, 0.0, 2.0, 12.0], dtype=torch.float64))
    t = M.alias_table(q)
    g = torch.Generator().manual_seed(11)
    state = g.get_state()
    s = t.sample((4, 6), g)
    g.set_state(state)
    k = torch.randint(5, (4, 6), generator=g)
    u = torch.rand((4, 6), generator=g, dtype=torch.float64)
    assert torch.equal(s, torch.where(u < t.prob[k], k, t.alias[k]))
    big = t.sample((200_000,), torch.Generator().manual_seed(0))
    freq = torch.bincount(big, minlength=5).double() / big.numel()
    assert int((big == 2).sum()) == 0 and torch.allclose(freq, q, atol=5e-3)


def test_ssm_popularity_negatives_exclude_the_positive_and_follow_the_conditioned_proposal():
    meth, _ = _init("ssm/popularity")
    items = torch.full((20_000,), int(meth.q.argmax()))
    s = meth.draw(items, torch.Generator().manual_seed(2))
    assert not bool((s == items[:, None]).any())
    qt = meth.q.clone()
    qt[items[0]] = 0
    freq = torch.bincount(s.flatten(), minlength=N_ITEMS).double() / s.numel()
    assert torch.allclose(freq, qt / qt.sum(), atol=3e-3)


@pytest.mark.parametrize("bad", [torch.tensor([0.5, 0.6]), torch.tensor([[0.5, 0.5]]), torch.tensor([1, 0]),
                                 torch.tensor([1.5, -0.5]), torch.tensor([float("nan"), 1.0]), [0.5, 0.5]])
def test_alias_table_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="q"):
        M.alias_table(bad)


# ------------------------------------------------------------------ the bench's references
@pytest.mark.parametrize("name", ["softmax", "sparsemax", "entmax-1.5", "rankmax", "rg2/sgd"])
@pytest.mark.parametrize("scale", [1.0, 20.0])
def test_reference_steps_compute_our_objective(name, scale):
    meth, params = _init(name)
    with torch.no_grad():
        params["user"].mul_(scale)
    batch = _batch(6, 30, seed=2)
    ours, _ = meth.batch_loss(params, batch, torch.Generator())
    ours.backward()
    got = {k: v.grad.clone() for k, v in params.items()}
    ref = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    want, _ = R.Reference(meth).batch_loss(ref, batch, torch.Generator())
    want.backward()
    assert float(ours.detach()) == pytest.approx(float(want.detach()), rel=1e-9)
    for k in params:
        assert torch.allclose(got[k], ref[k].grad, rtol=1e-7, atol=1e-9), k


@pytest.mark.parametrize("name", ["ssm/uniform", "ssm/popularity", "nce", "hsm"])
def test_reference_sampled_steps_compute_our_objective_on_their_own_samples(name):
    """The references draw their own samples (torch.randint / multinomial); on a batch the
    loss is a random variable, so compare with our loss_on at the reference's samples."""
    meth, params = _init(name)
    batch = GATHER
    g = torch.Generator().manual_seed(9)
    want, _ = R.Reference(meth).batch_loss(params, batch, g)
    if name == "hsm":
        ours, _ = meth.batch_loss(params, batch, g)
    else:
        g = torch.Generator().manual_seed(9)
        if name == "nce":
            s = torch.multinomial(meth.q, batch.size * m, replacement=True, generator=g).view(-1, m)
        else:
            s = R._negatives((lambda shape: torch.randint(N_ITEMS, shape, generator=g)) if name == "ssm/uniform" else
                             (lambda shape: torch.multinomial(meth.q, math.prod(shape), replacement=True,
                                                              generator=g).view(shape)), batch.items, m)
        ours = meth.loss_on(params, batch, s)
    assert float(ours.detach()) == pytest.approx(float(want.detach()), rel=1e-12)


@pytest.mark.parametrize("name", ["rg2/als", "rg2/als-authors"])
def test_reference_als_sweeps_equal_ours(name):
    meth = make(name, lam=0.5, alpha=0.1)
    start = meth.init(U, N_ITEMS, D, COUNTS, torch.Generator().manual_seed(0), dtype=torch.float64)
    b = _batch(U, 12, seed=4)
    users, items = b.users[b.rows], b.items
    a = {k: v.detach().clone() for k, v in start.items()}
    r = {k: v.detach().clone() for k, v in start.items()}
    meth.als_epoch(a, users, items, U, N_ITEMS)
    R.Reference(meth).als_epoch(r, users, items, U, N_ITEMS)
    for k in a:
        assert torch.allclose(a[k], r[k], rtol=1e-9, atol=1e-11), k
