"""Approximate Softmax estimators (losses/approx.py) and their exact ground truth (numerics/apx/exact.py)."""
from __future__ import annotations

import math
from statistics import NormalDist

import pytest
import torch

from losses import approx as A
from numerics.apx import exact as X

TH = torch.tensor(X.CANONICAL_THETA, dtype=torch.float64)


def _setup(dtype, B=5, n=7, m=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(B, n, generator=g, dtype=torch.float64).to(dtype)
    y = torch.randint(0, n, (B,), generator=g)
    return g, theta, y


def _autograd(fn, theta, *args, **kw):
    t = theta.clone().requires_grad_(True)
    fn(t, *args, **kw).sum().backward()
    return t.grad


def _proposals(theta, y):
    n = theta.shape[1]
    pop = A.unigram_proposal(torch.arange(1, n + 1), power=0.75).to(theta.dtype)
    return {
        "uniform": A.uniform_proposal(n, dtype=theta.dtype),
        "popularity": pop,
        "mixture": A.mixture_proposal(pop, A.uniform_proposal(n, dtype=theta.dtype), 0.3),
        "ideal": A.ideal_proposal(theta, y),
    }


# ------------------------------------------------------------ estimators = autograd of their own losses
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ssm_grad_is_autograd_of_its_loss(dtype):
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-12, rtol=1e-10)
    g, theta, y = _setup(dtype)
    for name, q in _proposals(theta, y).items():
        s = A.sample(q, 6, g, batch=theta.shape[0], exclude=y)
        assert not bool((s == y[:, None]).any())
        loss, gt = A.ssm_grad(theta, y, s, q)
        assert loss.dtype == dtype and gt.dtype == dtype
        torch.testing.assert_close(loss, A.ssm_loss(theta, y, s, q), **tol)
        torch.testing.assert_close(gt, _autograd(A.ssm_loss, theta, y, s, q), **tol, msg=name)
        # TF-style variant: samples over all classes, positive corrected, accidental hits removed
        s_all = A.sample(q if name != "ideal" else A.ideal_proposal(theta), 6, g, batch=theta.shape[0])
        qq = q if name != "ideal" else A.ideal_proposal(theta)
        for rah in (True, False):
            _, gtf = A.ssm_grad(theta, y, s_all, qq, variant="tf", remove_accidental_hits=rah)
            torch.testing.assert_close(gtf, _autograd(A.ssm_loss, theta, y, s_all, qq, variant="tf",
                                                      remove_accidental_hits=rah), **tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_nce_hsm_rg_grads_are_autograd_of_their_losses(dtype):
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-12, rtol=1e-10)
    g, theta, y = _setup(dtype)
    B, n = theta.shape
    q = _proposals(theta, y)["popularity"]
    s = A.sample(q, 5, g, batch=B)
    for c in (0.0, torch.linspace(-1, 1, B, dtype=dtype)):
        _, gt, gc = A.nce_grad(theta, y, s, q, c)
        torch.testing.assert_close(gt, _autograd(A.nce_loss, theta, y, s, q, c), **tol)
        cc = torch.as_tensor(c, dtype=dtype).clone().requires_grad_(True)
        A.nce_loss(theta, y, s, q, cc).sum().backward()
        torch.testing.assert_close(gc if cc.dim() else gc.sum(), cc.grad, **tol)
    for tree in (A.balanced_tree(n), A.huffman_tree(torch.arange(1.0, n + 1))):
        Amat = tree.tie.to(dtype)
        _, gt = A.hsm_grad(theta, y, tree)
        torch.testing.assert_close(gt, _autograd(lambda t: A.hsm_loss(t @ Amat.T, y, tree), theta), **tol)
        u = theta[:, : n - 1]
        _, gu = A.hsm_node_grad(u, y, tree)
        torch.testing.assert_close(gu, _autograd(A.hsm_loss, u, y, tree), **tol)
    for kind in ("rg2", "rgx"):
        _, gt = A.rg_grad(theta, y, kind)
        torch.testing.assert_close(gt, _autograd(A.rg_loss, theta, y, kind), **tol)


def test_mf_form_gathered_scores_give_the_same_loss():
    g = torch.Generator().manual_seed(3)
    U, V = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(9, 3, generator=g, dtype=torch.float64)
    idx = torch.randint(0, 9, (4, 5), generator=g)
    torch.testing.assert_close(A.scores_at(U, V, idx), (U @ V.T).gather(-1, idx))


# ------------------------------------------------------------ exact ground truth
def test_ssm_ideal_proposal_is_unbiased_exactly():
    # float64 enumeration at the canonical point and a random θ: bias² at rounding level
    fig = X.canonical("ssm", "ideal")
    assert all(b < 1e-28 for b in fig["bias2"]) and all(v > 0 for v in fig["variance"])
    th = torch.tensor([0.3, -1.2, 2.0, 0.7, -0.1], dtype=torch.float64)
    for m in (1, 3, 5):
        r = X.ssm_exact(th, 2, A.ideal_proposal(th[None], torch.tensor([2]))[0], m)
        assert r["bias2"] < 1e-28 and abs(r["total_weight"] - 1) < 1e-12
    # exact: symbolic in x_j = exp θ_j, every θ, n = 6, y = 0 (m = 8 takes ~30 s; run by hand)
    from proofs.apx.api import ssm_ideal_bias_symbolic

    for m in (1, 2, 4):
        assert ssm_ideal_bias_symbolic(6, 0, m) == [0] * 6


def test_ssm_non_ideal_is_biased_and_shrinks_with_m():
    fig = X.canonical("ssm", "uniform")
    assert fig["m"] == [1, 2, 4, 8]
    b, v = fig["bias2"], fig["variance"]
    assert all(x > 1e-6 for x in b)
    assert all(b[i + 1] < b[i] for i in range(3)) and all(v[i + 1] < v[i] for i in range(3))


def test_multisets_equal_sequences():
    th = torch.tensor([0.5, -1.0, 1.5, 0.0, 0.2], dtype=torch.float64)
    q = A.unigram_proposal(torch.tensor([5.0, 1.0, 2.0, 3.0, 4.0]))
    for m in (1, 2, 3):
        for variant in ("canonical", "tf"):
            a = X.ssm_exact(th, 1, q, m, variant=variant)
            b = X.ssm_exact(th, 1, q, m, variant=variant, mode="sequences")
            torch.testing.assert_close(a["mean"], b["mean"], atol=1e-14, rtol=0)
            assert a["variance"] == pytest.approx(b["variance"], abs=1e-14)
    seqs, w = X.multisets(torch.tensor([0.2, 0.0, 0.3, 0.1, 0.1, 0.3], dtype=torch.float64), 8)
    assert seqs.shape == (math.comb(12, 4), 8) and abs(float(w.sum()) - 1) < 1e-13


def test_nce_closed_form_equals_enumeration():
    th = TH
    for qname, q in (("uniform", A.uniform_proposal(6)), ("pop", A.unigram_proposal(torch.arange(1.0, 7)))):
        for c in (0.0, float(torch.logsumexp(th, 0)), -0.7):
            for k in (1, 2, 3, 8):
                a = X.nce_exact(th, 0, q, k, c)
                b = X.nce_exact(th, 0, q, k, c, mode="multisets")
                torch.testing.assert_close(a["mean"], b["mean"], atol=1e-13, rtol=0)
                assert a["variance"] == pytest.approx(b["variance"], abs=1e-12)
            s = X.nce_exact(th, 0, q, 2, c, mode="sequences")
            assert s["bias2"] == pytest.approx(X.nce_exact(th, 0, q, 2, c)["bias2"], abs=1e-13)


def test_canonical_figures():
    lz = X.canonical("nce", "c=logZ")
    z0 = X.canonical("nce", "c=0")
    assert lz["k"] == z0["k"] == [1, 2, 4, 8, 16]
    assert all(lz["bias2"][i + 1] < lz["bias2"][i] for i in range(4))          # → 0 with c = log Z
    assert z0["bias2"][-1] > z0["bias2"][0]                                    # does not with c = 0
    for method, reading in (("hsm", "balanced-H2"), ("rg", "rg2"), ("rg", "rgx")):
        fig = X.canonical(method, reading)
        assert fig["variance"] == [0.0] and fig["bias2"][0] > 0
        assert all(isinstance(x, float) for x in fig["bias2"])
    with pytest.raises(ValueError, match="reading"):
        X.canonical("ssm", "popularity")
    with pytest.raises(ValueError, match="method"):
        X.canonical("sgd", "x")


# ------------------------------------------------------------ Monte Carlo vs enumeration (a check that can fail)
def _mc_agrees(grad_fn, exact_mean, n_draws=20000, level=0.999):
    """Every coordinate of the MC mean within z·SE of the exact mean, z Bonferroni-corrected
    so that the n coordinates hold together with probability ≥ level."""
    grads = grad_fn(n_draws)
    mean = grads.mean(0)
    se = grads.std(0, unbiased=True) / math.sqrt(n_draws)
    z = NormalDist().inv_cdf(1 - (1 - level) / (2 * grads.shape[1]))
    dev = (mean - exact_mean).abs()
    return bool((dev <= z * se + 1e-12).all()), dev, z * se


def test_monte_carlo_mean_matches_enumeration_and_rejects_a_wrong_estimator():
    th = torch.tensor([1.0, 0.5, -0.5, 0.0], dtype=torch.float64)
    y, m = 0, 2
    q = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    exact = X.ssm_exact(th, y, q, m)["mean"]
    gen = torch.Generator().manual_seed(0)

    def estimator(q_used):
        def run(N):
            s = A.sample(q, m, gen, exclude=torch.full((N,), y))             # draws from the true proposal
            return A.ssm_grad(th.expand(N, -1), torch.full((N,), y), s, q_used)[1]
        return run

    ok, dev, half = _mc_agrees(estimator(q), exact)
    assert ok, (dev, half)
    # deliberately wrong: logQ correction with the wrong proposal (uniform) for popularity draws
    ok_wrong, dev_w, half_w = _mc_agrees(estimator(A.uniform_proposal(4)), exact)
    assert not ok_wrong, (dev_w, half_w)


# ------------------------------------------------------------ HSM, RG
def test_hsm_probabilities_sum_to_one():
    g = torch.Generator().manual_seed(1)
    for n in (2, 3, 6, 17):
        freq = torch.rand(n, generator=g, dtype=torch.float64) ** 3
        for tree in (A.balanced_tree(n), A.huffman_tree(freq)):
            u = 3 * torch.randn(8, n - 1, generator=g, dtype=torch.float64)
            lp = A.hsm_log_probs(u, tree)
            torch.testing.assert_close(lp.exp().sum(-1), torch.ones(8, dtype=torch.float64), atol=1e-12, rtol=0)
            y = torch.randint(0, n, (8,), generator=g)
            torch.testing.assert_close(A.hsm_loss(u, y, tree), -lp.gather(-1, y[:, None])[:, 0])
    # Huffman: expected depth under the frequencies never exceeds the balanced tree's
    freq = torch.tensor([50.0, 1, 1, 1, 1, 20, 1, 5])
    p = (freq / freq.sum()).double()
    assert float(p @ A.huffman_tree(freq).depth().double()) <= float(p @ A.balanced_tree(8).depth().double())
    assert A.balanced_tree(6).children == ((0, 1), (6, 2), (3, 4), (8, 5), (7, 9))


def test_rg2_is_a_weighted_squared_loss_and_rgx_the_taylor_expansion():
    import sympy as sp

    n = 5
    t = sp.symbols("t0:5", real=True)
    y = 2
    tbar = sp.Add(*t) / n
    rg2 = -t[y] + sp.log(n) + tbar + sp.Add(*[ti**2 for ti in t]) / (2 * n)
    r = [n * (j == y) - 1 for j in range(n)]
    wsl = sp.Add(*[(t[j] - r[j]) ** 2 for j in range(n)]) / (2 * n) + sp.log(n) - sp.Rational(n - 1, 2)
    assert sp.expand(rg2 - wsl) == 0
    rgx = -t[y] + sp.log(n) + tbar + sp.Add(*[(ti - tbar) ** 2 for ti in t]) / (2 * n)
    assert sp.expand(rgx - (rg2 - tbar**2 / 2)) == 0
    # second-order Taylor polynomial of LSE at 0 (symbolically) is RG× + θ_y
    eps = sp.symbols("eps")
    lse = sp.log(sp.Add(*[sp.exp(eps * ti) for ti in t]))
    taylor = sp.series(lse, eps, 0, 3).removeO().subs(eps, 1)
    assert sp.simplify(taylor - (rgx + t[y])) == 0
    # the torch losses are these polynomials
    g = torch.Generator().manual_seed(2)
    th = torch.randn(6, n, generator=g, dtype=torch.float64)
    yy = torch.randint(0, n, (6,), generator=g)
    target = n * torch.nn.functional.one_hot(yy, n).double() - 1
    torch.testing.assert_close(A.rg_loss(th, yy, "rg2"),
                               ((th - target) ** 2).sum(-1) / (2 * n) + math.log(n) - (n - 1) / 2)
    torch.testing.assert_close(A.rg_loss(th, yy, "rgx"), A.rg_loss(th, yy, "rg2") - th.mean(-1) ** 2 / 2)


# ------------------------------------------------------------ bad input
def test_bad_inputs_raise_value_error_naming_the_argument():
    theta = torch.zeros(2, 4, dtype=torch.float64)
    y = torch.tensor([0, 1])
    s = torch.tensor([[1, 2], [2, 3]])
    u = A.uniform_proposal(4)
    cases = [
        (lambda: A.ssm_grad(theta, y, s, torch.tensor([0.5, 0.7, -0.2, 0.0], dtype=torch.float64)), r"\bq\b.*negative"),
        (lambda: A.ssm_grad(theta, y, s, torch.tensor([0.5, 0.5, 0.5, 0.0], dtype=torch.float64)), r"\bq\b.*sum"),
        (lambda: A.ssm_grad(theta, y, s, torch.tensor([float("nan"), 0.5, 0.5, 0.0], dtype=torch.float64)), r"\bq\b.*NaN"),
        (lambda: A.ssm_grad(theta, y, s, torch.tensor([[1.0, 0, 0, 0], [0.25] * 4], dtype=torch.float64)), r"\bq\b.*zero mass"),
        (lambda: A.ssm_grad(theta, y, torch.tensor([[0, 2], [2, 3]]), u), r"samples.*label"),
        (lambda: A.ssm_grad(theta, y, s.new_zeros(2, 0), u), r"samples.*m ≥ 1"),
        (lambda: A.ssm_grad(theta, y, s, u, variant="bogus"), r"variant"),
        (lambda: A.ssm_grad(theta, y, s, torch.tensor([0.0, 0.0, 0.5, 0.5], dtype=torch.float64), variant="tf"), r"\bq\b.*label"),
        (lambda: A.nce_grad(theta, y, s, torch.tensor([0.0, 0.5, 0.25, 0.25], dtype=torch.float64)), r"\bq\b.*label"),
        (lambda: A.nce_grad(theta, y, s.new_zeros(2, 0), u), r"samples"),
        (lambda: A.nce_grad(theta, y, s, u, c=float("nan")), r"\bc\b"),
        (lambda: A.sample(u, 0), r"\bm\b"),
        (lambda: A.sample(u, -3), r"\bm\b"),
        (lambda: A.sample(torch.tensor([0.5, 0.6]), 2), r"\bq\b"),
        (lambda: A.Tree(4, ((0, 1), (4, 2), (5, 6))), r"children.*missing leaves \[3\]"),
        (lambda: A.Tree(4, ((0, 1), (4, 1), (5, 3))), r"children.*more than once"),
        (lambda: A.Tree(3, ((0, 1),)), r"children"),
        (lambda: A.rg_grad(theta, y, "rg3"), r"kind"),
        (lambda: A.rg_grad(theta.fill_(float("nan")), y, "rg2"), r"theta"),
        (lambda: A.hsm_grad(torch.zeros(2, 4, dtype=torch.float64), torch.tensor([0, 4]), A.balanced_tree(4)), r"\by\b"),
        (lambda: A.hsm_grad(torch.zeros(2, 4, dtype=torch.float64), y, A.balanced_tree(5)), r"tree"),
        (lambda: A.huffman_tree(torch.tensor([1.0, -1.0, 2.0])), r"freq"),
        (lambda: A.mixture_proposal(u, u, 1.5), r"weight"),
        (lambda: X.nce_exact(TH, 0, A.uniform_proposal(6), 0, 0.0), r"\bk\b"),
        (lambda: X.multisets(A.uniform_proposal(6), 0), r"\bm\b"),
    ]
    for i, (fn, pat) in enumerate(cases):
        with pytest.raises(ValueError, match=pat):
            fn()
