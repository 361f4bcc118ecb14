"""numerics/cpx/opcount.py: the cost model on known cases, and determinism."""
import math

import pytest
import torch

from numerics.cpx.opcount import Count, OpCounter, count


def _total(fn, **kw) -> Count:
    return count(fn, **kw)[1]


@pytest.mark.parametrize("a,b,c,want", [(3, 4, 5, 120), (1, 7, 2, 28), (16, 32, 64, 65_536)])
def test_mm_is_two_multiply_adds_per_output_term(a, b, c, want):
    """(a × b)(b × c): a·c outputs, each b multiply-adds: 3·5·4·2 = 120, 1·2·7·2 = 28,
    16·64·32·2 = 65,536."""
    x, y = torch.randn(a, b), torch.randn(b, c)
    r = _total(lambda: x @ y)
    assert r.by_op == {"aten.mm": want} and r.total == want


def test_addmm_bmm_and_einsum():
    x, y, z = torch.randn(3, 4), torch.randn(4, 5), torch.randn(3, 5)
    assert _total(lambda: torch.addmm(z, x, y)).total == 120  # 15 outputs · 4 multiply-adds · 2; the add is free
    bx, by = torch.randn(6, 3, 4), torch.randn(6, 4, 5)
    assert _total(lambda: torch.bmm(bx, by)).by_op["aten.bmm"] == 720  # 6 matrices · 120
    h, V = torch.randn(8, 16), torch.randn(8, 10, 16)
    r = _total(lambda: torch.einsum("bd,bmd->bm", h, V))  # lowers to bmm; the rest are views
    assert r.total == 2560 and set(r.by_op) >= {"aten.bmm"}  # 80 outputs · 16 multiply-adds · 2


# ------------------------------------------------------------------ one hand-counted case per rule
# Each case: (block, operator, count of that operator).  Every count is worked out by hand
# in the comment next to it (sizes chosen so every log2 is an integer, and 3 | d³ where a
# rule has a third), never by the formula the counter uses.
_G = torch.Generator().manual_seed(0)
_X464 = torch.randn(4, 64, generator=_G)
_X83 = torch.randn(8, 3, generator=_G)
_S64 = torch.arange(64.0).expand(4, 64).contiguous()
_V410 = torch.randn(4, 10, generator=_G)
_A3 = torch.eye(3, dtype=torch.float64) * 2 + torch.ones(3, 3, dtype=torch.float64)
_A6 = torch.eye(6, dtype=torch.float64) * 6 + torch.ones(6, 6, dtype=torch.float64)
_A6B = torch.stack([_A6 + i * torch.eye(6, dtype=torch.float64) for i in range(5)])  # (5, 6, 6)
_L6 = torch.linalg.cholesky(_A6)
_LU3, _PIV3 = torch.linalg.lu_factor(_A3)
_B64 = torch.ones(6, 4, dtype=torch.float64)
_B32 = torch.ones(3, 2, dtype=torch.float64)
_IDX = torch.tensor([0, 1, 1])
_SRC3 = torch.tensor([1.0, 2.0, 3.0])
_W53 = torch.randn(5, 3, generator=_G, requires_grad=True)


def _emb_backward():
    out = torch.nn.functional.embedding(torch.tensor([0, 2, 2, 4]), _W53)  # 4 lookups of width 3
    torch.autograd.grad(out, [_W53], torch.ones(4, 3))


RULE_CASES = {
    # sorts: numel · log2(size along dim)
    "sort": (lambda: _X464.sort(-1), "aten.sort", 1536),                               # 256 · log2 64 = 256 · 6
    "sort-dim0-kwargs": (lambda: torch.sort(_X83, dim=0, stable=True), "aten.sort", 72),  # 24 · log2 8 = 24 · 3
    "msort": (lambda: torch.msort(_X83), "aten.sort", 72),                             # composite: a sort along dim 0
    "argsort": (lambda: torch.argsort(_X464, -1), "aten.sort", 1536),                  # composite: a sort
    "topk": (lambda: _X464.topk(8), "aten.topk", 352),                                 # 256 + 32 · log2 8 = 256 + 96
    "topk-dim0": (lambda: _X83.topk(2, dim=0), "aten.topk", 30),                       # 24 + 6 · log2 2
    "kthvalue": (lambda: _V410.kthvalue(3, -1), "aten.kthvalue", 40),                  # 4 · 10
    "median": (lambda: _V410.median(-1), "aten.median", 40),                           # 4 · 10
    "median-all": (lambda: _V410.median(), "aten.median", 40),
    "searchsorted": (lambda: torch.searchsorted(_S64, _V410), "aten.searchsorted", 240),  # 40 · log2 64
    "searchsorted-scalar": (lambda: torch.searchsorted(_S64[0, :8], 3.5), "aten.searchsorted", 3),  # log2 8
    "multinomial": (lambda: torch.multinomial(torch.full((32,), 1 / 32), 8, True, generator=_G),
                    "aten.multinomial", 72),                                             # 32 + 8 · log2 32 = 32 + 40
    "multinomial-2d": (lambda: torch.multinomial(torch.full((3, 16), 1 / 16), 4, True, generator=_G),
                       "aten.multinomial", 96),                                          # 48 + 12 · log2 16
    # products: 2 per multiply-add
    "mv": (lambda: torch.mv(_V410[:3, :4], _V410[0, :4]), "aten.mv", 24),              # 2 · 3 · 4
    "addmv": (lambda: torch.addmv(_V410[0, :3], _V410[:3, :4], _V410[1, :4]), "aten.addmv", 24),
    "dot": (lambda: torch.dot(_V410[0, :5], _V410[1, :5]), "aten.dot", 10),            # 2 · 5
    "vdot": (lambda: torch.vdot(_V410[0, :5], _V410[1, :5]), "aten.vdot", 10),
    "baddbmm": (lambda: torch.baddbmm(torch.zeros(2, 3, 5), torch.ones(2, 3, 4), torch.ones(2, 4, 5)),
                "aten.baddbmm", 240),                                                    # 2 · (2 · 3 · 4 · 5)
    # linear algebra, per d × d matrix and k right-hand sides
    "solve-batch": (lambda: torch.linalg.solve(_A6B, torch.ones(5, 6, dtype=torch.float64)),
                    "aten._linalg_solve_ex", 1080),                                      # 5 · (2·216/3 + 2·36) = 5 · 216
    "solve-matrix": (lambda: torch.linalg.solve(_A6, _B64), "aten._linalg_solve_ex", 432),  # 144 + 2 · 36 · 4
    "solve-right": (lambda: torch.linalg.solve(_A3, torch.ones(5, 3, dtype=torch.float64), left=False),
                    "aten._linalg_solve_ex", 108),                                       # 2·27/3 + 2 · 9 · 5 = 18 + 90
    "lu-factor": (lambda: torch.linalg.lu_factor(_A6B), "aten.linalg_lu_factor_ex", 720),  # 5 · 2·216/3 = 5 · 144
    "lu": (lambda: torch.linalg.lu(_A3), "aten.linalg_lu", 18),                        # 2 · 27 / 3
    "det": (lambda: torch.linalg.det(_A3), "aten._linalg_det", 18),                    # an LU: 2 · 27 / 3
    "lu-solve": (lambda: torch.linalg.lu_solve(_LU3, _PIV3, _B32), "aten.linalg_lu_solve", 36),  # 2 · 9 · 2
    "cholesky": (lambda: torch.linalg.cholesky(_A6B), "aten.linalg_cholesky_ex", 360),  # 5 · 216 / 3
    "cholesky-legacy": (lambda: torch.ops.aten.cholesky(_A6), "aten.cholesky", 72),    # 216 / 3
    "cholesky-solve": (lambda: torch.cholesky_solve(_B64, _L6), "aten.cholesky_solve", 288),  # 2 · 36 · 4
    "inv": (lambda: torch.linalg.inv(_A6), "aten.linalg_inv_ex", 432),                 # 2 · 216
    "triangular-solve": (lambda: torch.ops.aten.triangular_solve(_B64, _L6, False), "aten.triangular_solve", 144),
    "solve-triangular": (lambda: torch.linalg.solve_triangular(_L6, _B64, upper=False),
                         "aten.linalg_solve_triangular", 144),                           # 36 · 4
    "eigh": (lambda: torch.linalg.eigh(_A6B[:3, :4, :4]), "aten._linalg_eigh", 1728),  # 3 · 9 · 64
    "qr-square": (lambda: torch.linalg.qr(_A3), "aten.linalg_qr", 36),                 # 2·3·9 − 2·27/3 = 54 − 18
    "qr-tall": (lambda: torch.linalg.qr(torch.ones(5, 3)), "aten.linalg_qr", 72),      # 2·5·9 − 18 = 90 − 18
    "qr-wide": (lambda: torch.linalg.qr(torch.ones(2, 3, 5)), "aten.linalg_qr", 144),  # 2 · (as 5 × 3) = 2 · 72
    # accumulating scatters: one add per source element
    "scatter-add": (lambda: torch.zeros(4).scatter_add(0, _IDX, _SRC3), "aten.scatter_add", 3),
    "scatter-add_": (lambda: torch.zeros(4).scatter_add_(0, _IDX, _SRC3), "aten.scatter_add_", 3),
    "scatter-reduce": (lambda: torch.zeros(4).scatter_reduce(0, _IDX, _SRC3, "sum"), "aten.scatter_reduce", 3),
    "scatter-reduce_": (lambda: torch.zeros(4).scatter_reduce_(0, _IDX, _SRC3, "sum"), "aten.scatter_reduce_", 3),
    "index-add": (lambda: torch.zeros(4, 2).index_add(0, _IDX, torch.ones(3, 2)), "aten.index_add", 6),  # 3 · 2
    "index-add_": (lambda: torch.zeros(4, 2).index_add_(0, _IDX, torch.ones(3, 2)), "aten.index_add_", 6),
    "index-put": (lambda: torch.zeros(4).index_put((_IDX,), _SRC3, accumulate=True), "aten.index_put", 3),
    "index-put_": (lambda: torch.zeros(4).index_put_((_IDX,), _SRC3, accumulate=True), "aten.index_put_", 3),
    "index-put-impl": (lambda: torch.ops.aten._index_put_impl_(torch.zeros(4), (_IDX,), _SRC3, True),
                       "aten._index_put_impl_", 3),
    "index-put-no-acc": (lambda: torch.zeros(4).index_put_((_IDX,), _SRC3), "aten.index_put_", 0),
    "put": (lambda: torch.zeros(6).put(_IDX, _SRC3, accumulate=True), "aten.put", 3),
    "put_": (lambda: torch.zeros(6).put_(_IDX, _SRC3, accumulate=True), "aten.put_", 3),
    "put-no-acc": (lambda: torch.zeros(6).put_(_IDX, _SRC3), "aten.put_", 0),
    "embedding-backward": (_emb_backward, "aten.embedding_dense_backward", 12),         # 4 lookups · width 3
    "bincount": (lambda: torch.bincount(torch.tensor([0, 1, 1, 5])), "aten.bincount", 4),
    # random draws: one per output element
    "randn": (lambda: torch.randn(3, 4, generator=_G), "aten.randn", 12),
    "randint": (lambda: torch.randint(5, (7,), generator=_G), "aten.randint", 7),
    "randperm": (lambda: torch.randperm(9, generator=_G), "aten.randperm", 9),
    "bernoulli": (lambda: torch.bernoulli(torch.full((6,), 0.5), generator=_G), "aten.bernoulli", 6),
}


@pytest.mark.parametrize("case", list(RULE_CASES))
def test_rule_on_a_hand_counted_case(case):
    fn, op, want = RULE_CASES[case]
    r = _total(fn, topk="select")
    assert r.by_op.get(op) == want, (case, r.by_op)
    assert op not in r.default_ops


def test_topk_sort_model_charges_a_full_sort():
    assert _total(lambda: _X464.topk(8), topk="sort").by_op["aten.topk"] == 1536  # 256 · log2 64


def test_every_special_rule_has_a_hand_counted_case():
    from numerics.cpx.opcount import _SPECIAL

    seen = {op for fn, op, _ in RULE_CASES.values()}
    missing = {f"aten.{k}" for k in _SPECIAL} - seen
    assert not missing, f"rules without a hand-counted case: {sorted(missing)}"


def test_a_factorization_without_a_rule_raises():
    with pytest.raises(NotImplementedError, match="_linalg_svd"):
        _total(lambda: torch.linalg.svd(_A3))


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
    from numerics.recsys.catalog import make
    from numerics.recsys.methods import Batch

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


def test_exact_counter_keeps_thirds_and_refuses_log_terms():
    from fractions import Fraction

    from numerics.cpx.opcount import NotPolynomial

    A = torch.eye(4, dtype=torch.float64) * 3 + torch.ones(4, 4, dtype=torch.float64)
    r = _total(lambda: torch.linalg.cholesky(A), exact=True)
    assert r.total == Fraction(64, 3)                        # 4³/3, not rounded to 21
    assert _total(lambda: torch.linalg.cholesky(A)).total == 21
    with pytest.raises(NotPolynomial, match="sort"):
        _total(lambda: _X464.sort(-1), exact=True)
