"""numerics/opcount.py: the cost model on known cases, and determinism."""
import math

import pytest
import torch

from numerics.opcount import Count, OpCounter, count


def _total(fn, **kw) -> Count:
    return count(fn, **kw)[1]


@pytest.mark.parametrize("a,b,c", [(3, 4, 5), (1, 7, 2), (16, 32, 64)])
def test_mm_is_two_multiply_adds_per_output_term(a, b, c):
    x, y = torch.randn(a, b), torch.randn(b, c)
    r = _total(lambda: x @ y)
    assert r.by_op == {"aten.mm": 2 * a * b * c} and r.total == 2 * a * b * c


def test_addmm_bmm_and_einsum():
    x, y, z = torch.randn(3, 4), torch.randn(4, 5), torch.randn(3, 5)
    assert _total(lambda: torch.addmm(z, x, y)).total == 2 * 3 * 4 * 5  # torch's formula: the add is free
    bx, by = torch.randn(6, 3, 4), torch.randn(6, 4, 5)
    assert _total(lambda: torch.bmm(bx, by)).by_op["aten.bmm"] == 2 * 6 * 3 * 4 * 5
    h, V = torch.randn(8, 16), torch.randn(8, 10, 16)
    r = _total(lambda: torch.einsum("bd,bmd->bm", h, V))  # lowers to bmm; the rest are views
    assert r.total == 2 * 8 * 10 * 16 and set(r.by_op) >= {"aten.bmm"}


def test_sort_topk_kthvalue_searchsorted_multinomial():
    x = torch.randn(4, 100)
    assert _total(lambda: x.sort(-1)).total == round(400 * math.log2(100))
    assert _total(lambda: x.sort(0)).total == round(400 * math.log2(4))
    # linear-time selection + sorting the k results; "sort" model: a full sort of the row
    assert _total(lambda: x.topk(5)).total == round(400 + 20 * math.log2(5))
    assert _total(lambda: x.topk(5), topk="sort").total == round(400 * math.log2(100))
    assert _total(lambda: x.kthvalue(3, -1)).total == 400
    s = torch.arange(64.0).expand(4, 64).contiguous()
    v = torch.randn(4, 10)
    assert _total(lambda: torch.searchsorted(s, v)).total == round(40 * math.log2(64))
    p = torch.full((50,), 1 / 50, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    assert _total(lambda: torch.multinomial(p, 7, replacement=True, generator=g)).total == round(50 + 7 * math.log2(50))


def test_elementwise_and_reductions_count_one_per_element():
    x, row = torch.randn(7, 9), torch.randn(1, 9)
    assert _total(lambda: x.exp()).total == 63
    assert _total(lambda: x + row).total == 63  # broadcast: the larger side
    assert _total(lambda: x.sum()).total == 63
    assert _total(lambda: torch.logsumexp(x, -1)).total == 63
    r = _total(lambda: torch.softmax(x, -1))
    assert r.total == 63 and "aten._softmax" in r.default_ops


def test_memory_ops_are_free():
    x = torch.randn(6, 5)
    idx = torch.tensor([0, 2, 4])

    def block():
        a = torch.zeros(6, 5)
        b = x.clone().view(30).view(6, 5).t().contiguous()
        c = torch.cat([x, x]).expand(2, 12, 5)
        d = x[idx].index_select(0, torch.tensor([1])).gather(1, torch.zeros(1, 2, dtype=torch.long))
        a.copy_(x)
        a.fill_(1.0)
        e = torch.stack([x, x]).masked_fill(torch.zeros(2, 6, 5, dtype=torch.bool), 0.0)
        f = torch.zeros(6, 5).scatter(1, torch.zeros(6, 1, dtype=torch.long), 1.0)
        return b, c, d, e, f

    r = _total(block)
    assert r.total == 0, r.by_op


def test_linalg_textbook_counts():
    d, k, batch = 6, 4, 5
    A = torch.randn(batch, d, d, dtype=torch.float64)
    A = A @ A.transpose(1, 2) + d * torch.eye(d, dtype=torch.float64)
    b_vec = torch.randn(batch, d, dtype=torch.float64)
    assert _total(lambda: torch.linalg.solve(A, b_vec)).total == round(batch * (2 * d ** 3 / 3 + 2 * d * d))
    B1 = torch.randn(d, k, dtype=torch.float64)
    assert _total(lambda: torch.linalg.solve(A[0], B1)).total == round(2 * d ** 3 / 3 + 2 * d * d * k)
    assert _total(lambda: torch.linalg.cholesky(A)).total == round(batch * d ** 3 / 3)
    assert _total(lambda: torch.linalg.inv(A)).total == batch * 2 * d ** 3
    L = torch.linalg.cholesky(A[0])
    assert _total(lambda: torch.cholesky_solve(B1, L)).total == 2 * d * d * k


def test_accumulating_scatters_count_their_source():
    src = torch.randn(10, 3)
    idx = torch.randint(0, 4, (10,))
    assert _total(lambda: torch.zeros(4, 3).index_add_(0, idx, src)).total == 30
    assert _total(lambda: torch.zeros(4, 3).scatter_add(0, idx[:, None].expand(10, 3), src)).total == 30
    assert _total(lambda: torch.zeros(4, 3).index_put_((idx,), src, accumulate=True)).total == 30
    assert _total(lambda: torch.zeros(4, 3).index_put_((idx,), src, accumulate=False)).total == 0


def test_backward_is_counted():
    """θ = P Qᵀ forward (2 B n d) and its two backward matmuls (2 × 2 B n d)."""
    P = torch.randn(4, 8, requires_grad=True)
    Q = torch.randn(20, 8, requires_grad=True)

    def step():
        theta = P @ Q.T
        torch.autograd.grad(theta.sum(), [P, Q])

    assert _total(step).by_op["aten.mm"] == 3 * 2 * 4 * 20 * 8


def test_counts_are_deterministic_across_runs():
    """A seeded block with data-dependent control flow (sparse top-K slices, a sampler
    with rejection) gives identical per-operator counts on every run."""
    from numerics.recsys.methods import Batch, make

    def run(name):
        g = torch.Generator().manual_seed(3)
        n, B = 200, 16
        pop = torch.floor(n / torch.arange(1, n + 1, dtype=torch.float64))
        meth = make(name, m=8)
        params = meth.init(B, n, 8, pop, g)
        ar = torch.arange(B)
        batch = Batch(ar, torch.ones(B), ar, torch.multinomial(pop / pop.sum(), B, replacement=True, generator=g))

        def step():
            loss, _ = meth.batch_loss(params, batch, torch.Generator().manual_seed(5))
            torch.autograd.grad(loss, [p for p in params.values() if p.requires_grad])

        return _total(step)

    for name in ("sparsemax", "rankmax", "ssm/popularity", "hsm"):
        a, b = run(name), run(name)
        assert a == b and a.total > 0


def test_bad_topk_model_is_rejected():
    with pytest.raises(ValueError, match="topk"):
        OpCounter(topk="heap")


def test_top_lists_largest_first():
    x, y = torch.randn(30, 30), torch.randn(30, 30)
    r = _total(lambda: (x @ y).exp())
    assert r.top(1) == [("aten.mm", 2 * 30 ** 3)]
