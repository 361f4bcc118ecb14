"""The sort-free exact paths of issue 21 against independent references: the whole-row
sparsemax / 1.5-entmax / capped-simplex solvers (losses/projections.py) against the sort
algorithms they replace and the peer library ``entmax``; the authors' RG²-ALS Gram
matrices (chunked batched products) against the plain per-interaction sum; and the
stable top-K of the metrics against the stable argsort on tie-heavy scores."""
import pytest
import torch

from losses import get, projections as proj
from losses.rankmax import capped_projection
from numerics.recsys import metrics
from numerics.recsys.rg2_authors import RG2Authors, _gram_chunks


def _rows(seed, B=12, n=300):
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(B, n, generator=g, dtype=torch.float64)
    theta *= torch.logspace(-3, 3, B, dtype=torch.float64)[:, None]   # supports from the whole row to one entry
    theta[0] = 0.25                                                     # all tied
    theta[1, : n // 3] = theta[1, 0]                                    # a block of ties
    theta[2] = torch.round(theta[2] * 4) / 4                            # many ties everywhere
    return theta


def _dense(v, idx, n):
    return torch.zeros(v.shape[0], n, dtype=v.dtype).scatter_add_(-1, idx, v)


@pytest.mark.parametrize("rows,solver", [(proj.simplex_rows, proj.simplex_threshold),
                                         (proj.entmax15_rows, proj.entmax15_threshold)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_solvers_equal_the_sort_algorithms(rows, solver, seed):
    theta = _rows(seed)
    theta[3, ::7] = float("-inf")                                       # masked classes
    z = theta - theta.amax(-1, keepdim=True)
    _, p, done = rows(z)
    assert bool(done.all())
    v, idx, _, _ = proj.solve_topk(theta, solver, theta.shape[1])      # the sort algorithm on the whole row
    assert torch.allclose(p, _dense(v, idx, theta.shape[1]), atol=1e-14, rtol=0)
    assert bool((p[3, ::7] == 0).all())


@pytest.mark.parametrize("name,alpha", [("sparsemax", 2.0), ("entmax", 1.5)])
def test_losses_match_the_entmax_library_and_fall_back_when_a_row_is_not_accepted(name, alpha, monkeypatch):
    entmax = pytest.importorskip("entmax")
    theta = _rows(4, B=16, n=500)
    loss = get(name) if name == "sparsemax" else get(name, alpha=alpha)
    peer = entmax.sparsemax(theta, dim=-1) if name == "sparsemax" else entmax.entmax15(theta, dim=-1)
    assert torch.allclose(loss.predict(theta), peer, atol=1e-12, rtol=0)
    # a row solver that accepts nothing leaves every row to the sort algorithm: same answer
    fast = proj.ROW_SOLVERS[proj.simplex_threshold if name == "sparsemax" else proj.entmax15_threshold]
    monkeypatch.setitem(proj.ROW_SOLVERS, proj.simplex_threshold if name == "sparsemax" else proj.entmax15_threshold,
                        lambda z: (lambda t, p, d: (t, p, torch.zeros_like(d)))(*fast(z)))
    assert torch.allclose(loss.predict(theta), peer, atol=1e-12, rtol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_capped_rows_equal_the_breakpoint_algorithm(seed):
    theta = _rows(seed, B=12, n=200)
    k = torch.tensor([1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 150, 199], dtype=torch.float64)
    top, idx = theta.sort(-1, descending=True)
    ref = torch.zeros_like(theta).scatter_(-1, idx, proj.capped_threshold(k[:, None])(top - top[:, :1])[1])
    _, p, done = proj.capped_rows(k[:, None])(theta - theta.amax(-1, keepdim=True))
    assert bool(done.all())
    # both round τ relative to the row's scale (rows up to |θ| = 1e3 here)
    tol = 1e-13 * (1 + theta.abs().amax(-1))
    assert bool(((p - ref).abs().amax(-1) <= tol).all())
    assert bool(((capped_projection(theta, k) - ref).abs().amax(-1) <= tol).all())
    assert torch.allclose(p.sum(-1), k, atol=1e-9)


def test_capped_rows_do_not_cycle_between_two_pieces():
    # a row where undamped Newton alternates between two pieces forever (found on trained
    # MovieLens scores): the strict bracket must end it
    g = torch.Generator().manual_seed(5)
    theta = torch.randn(64, 1682, generator=g, dtype=torch.float64) * 30
    k = torch.randint(1, 400, (64,), generator=g).double()
    _, p, done = proj.capped_rows(k[:, None])(theta - theta.amax(-1, keepdim=True))
    assert bool(done.all()) and torch.allclose(p.sum(-1), k, atol=1e-9)


def test_gram_chunks_equal_the_per_interaction_sum():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(11, 4, generator=g, dtype=torch.float64)
    rows = torch.randint(0, 9, (60,), generator=g)
    rows[rows == 3] = 4                                                # a row with no pairs
    cols = torch.randint(0, 11, (60,), generator=g)
    cols[:5] = cols[0]
    rows[:5] = rows[0]                                                  # duplicated pairs count twice
    ref = torch.zeros(9, 4, 4, dtype=torch.float64)
    for r, c in zip(rows.tolist(), cols.tolist()):
        ref[r] += torch.outer(A[c], A[c])
    got = torch.zeros_like(ref)
    for group, gram in _gram_chunks(A, rows, cols, 9, chunk=2):
        got[group] = gram
    assert torch.allclose(got, ref, atol=1e-12)


def test_als_authors_steps_equal_the_dense_solve():
    g = torch.Generator().manual_seed(1)
    U, n, d = 13, 10, 3
    users = torch.randint(0, U, (70,), generator=g)
    items = torch.randint(0, n, (70,), generator=g)
    P = torch.randn(U, d, generator=g, dtype=torch.float64)
    Q = torch.randn(n, d, generator=g, dtype=torch.float64)
    meth = RG2Authors(lam=0.3, alpha=0.7)
    c = torch.bincount(users, minlength=U).double()
    w = c / (2 * n)
    A = torch.stack([w[u] * Q.T @ Q + 0.7 * Q[items[users == u]].T @ Q[items[users == u]]
                     + 0.3 * (c[u] / 2 + 0.7 * n + 1) * torch.eye(d, dtype=torch.float64) for u in range(U)])
    b = torch.stack([-w[u] * Q.sum(0) + 1.2 * Q[items[users == u]].sum(0) for u in range(U)])
    assert torch.allclose(meth.user_step(P, Q, users, items), torch.linalg.solve(A, b), atol=1e-12)


@pytest.mark.parametrize("K", [1, 5, 20, 40])
def test_stable_topk_equals_the_stable_argsort_on_ties(K):
    g = torch.Generator().manual_seed(K)
    s = torch.randint(0, 4, (30, 40), generator=g).double()            # integer scores: mostly ties
    s[torch.rand(30, 40, generator=g) < 0.3] = float("-inf")            # masked training items
    s[0] = float("-inf")
    s[0, 7] = 1.0                                                       # fewer finite scores than K
    s[1] = 2.0                                                          # all tied
    want = torch.argsort(s, dim=-1, descending=True, stable=True)[:, :K]
    assert torch.equal(metrics._stable_topk(s, K), want)
    pop = torch.tensor([5.0, 3, 5, 1, 3, 5, 0, 3])[None].expand(3, -1)  # popularity: ties between items
    assert torch.equal(metrics._stable_topk(pop, 5), torch.argsort(pop, dim=-1, descending=True, stable=True)[:, :5])
