"""Monte Carlo moments (numerics/apx/montecarlo.py) against exact enumeration (numerics/apx/exact.py).

Statistics: the comparisons below use intervals at level 1 − 0.001/K, K the number of
interval decisions in this file (Bonferroni), with fixed seeds; the chance that the
fixed seeds raise a false alarm is below 0.1%."""
from __future__ import annotations

import pytest
import torch

from losses import approx as A
from numerics.apx import exact as X
from numerics.apx import montecarlo as MC

TH = torch.tensor(X.CANONICAL_THETA, dtype=torch.float64)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors in a loop: one intra-op thread (numerics/threads.py)."""
    from numerics.threads import one_thread

    with one_thread():
        yield
# (method, proposal name, sample counts, c)
CASES = [("ssm", "uniform", (1, 3, 8), None), ("ssm", "popular", (2, 5), None), ("ssm", "ideal", (1, 4), None),
         ("nce", "uniform", (1, 4, 16), "logZ"), ("nce", "popular", (2, 8), 0.0)]
K = sum(len(c[2]) for c in CASES) * (6 + 4)
LEVEL = 1 - 0.001 / K


def _q(name):
    if name == "uniform":
        return A.uniform_proposal(6)
    if name == "popular":
        return A.unigram_proposal(torch.tensor([1.0, 5, 3, 9, 2, 4]), power=0.75)
    return A.ideal_proposal(TH[None], torch.tensor([0]))[0]


@pytest.mark.parametrize("method,qname,ms,c", CASES)
def test_monte_carlo_agrees_with_exact(method, qname, ms, c):
    q = _q(qname)
    cc = float(torch.logsumexp(TH, 0)) if c == "logZ" else c
    z = MC.t_quantile(0.5 + LEVEL / 2, 60_000 - 1)  # the mean coordinates: CLT over R draws, R − 1 df
    gen = MC.device_generator("cpu", 1234)
    for m in ms:
        ex = X.ssm_exact(TH, 0, q, m) if method == "ssm" else X.nce_exact(TH, 0, q, m, cc, mode="multisets")
        mc = MC.estimate(method, TH, 0, q, m, c=cc, draws=60_000, level=LEVEL, generator=gen)
        assert mc.draws == 60_000 and mc.score_evaluations == 60_000 * (m + 1)
        zs = (mc.mean - ex["mean"]).abs() / mc.mean_se
        assert float(zs.max()) <= z, (m, zs)
        assert mc.second_moment.contains(float((ex["mean"] ** 2).sum()) + ex["variance"]), m
        assert mc.mse.contains(ex["mse"]), (m, mc.mse, ex["mse"])
        if ex["bias2"] > 1e-20:  # the bias² interval is for a non-degenerate U-statistic (module docstring)
            assert mc.bias2.contains(ex["bias2"]), (m, mc.bias2, ex["bias2"])
            assert mc.variance.contains(ex["variance"]), (m, mc.variance, ex["variance"])
        # the interval is informative, not just wide: a few standard errors of the estimate
        assert mc.variance.hi - mc.variance.lo < 0.1 * ex["variance"]


def test_intervals_use_t_quantiles_with_their_degrees_of_freedom():
    q = _q("uniform")
    r = MC.estimate("ssm", TH, 0, q, 3, draws=4000, groups=10, level=0.99, generator=MC.device_generator("cpu", 5))
    assert r.bias2.df == 9 and r.variance.df == 9 and r.mse.df == r.draws - 1 == r.second_moment.df
    t9 = MC.t_quantile(0.995, 9)
    assert t9 > 3.2  # heavier than the normal 2.576
    assert (r.variance.hi - r.variance.est) == pytest.approx(t9 * r.variance.se, rel=1e-12)
    assert (r.mse.hi - r.mse.est) == pytest.approx(MC.t_quantile(0.995, r.draws - 1) * r.mse.se, rel=1e-12)


def test_summarize_reuses_sums_and_the_plugin_bias_lacks_its_correction(monkeypatch):
    q = _q("popular")
    s = MC.accumulate("ssm", TH, 0, q, 4, draws=3000, groups=10, generator=MC.device_generator("cpu", 9))
    a, b = MC.summarize(s, 0.9), MC.summarize(s, 0.999)
    assert a.bias2.est == b.bias2.est and b.bias2.hi - b.bias2.lo > a.bias2.hi - a.bias2.lo
    with monkeypatch.context() as mp:  # the bias² estimator is read at call time: a plug-in one enters there
        mp.setattr(MC, "bias2_estimate", lambda mean, g, var, count: ((mean - g) ** 2).sum(-1))
        plug = MC.summarize(s, 0.9)
    assert plug.bias2.est == pytest.approx(a.bias2.est + a.variance.est / s.draws, rel=1e-12)
    again = MC.estimate("ssm", TH, 0, q, 4, draws=3000, groups=10, level=0.9, generator=MC.device_generator("cpu", 9))
    assert again.bias2 == a.bias2 and torch.equal(again.mean, a.mean)


def test_the_sampler_is_read_at_call_time(monkeypatch):
    q = _q("uniform")
    seen = []

    def sampler(p, count, generator):
        seen.append((p.clone(), count))
        return torch.multinomial(p, count, replacement=True, generator=generator)

    monkeypatch.setattr(MC, "draw", sampler)
    MC.estimate("ssm", TH, 0, q, 2, draws=200, groups=4, generator=MC.device_generator("cpu", 1))
    assert seen and float(seen[0][0][0]) == 0.0  # canonical SSM draws from q conditioned on the negatives


def test_merged_squares_match_dense_norms():
    g = torch.Generator().manual_seed(3)
    idx = torch.randint(0, 5, (200, 7), generator=g)
    val = torch.randn(200, 7, generator=g, dtype=torch.float64)
    dense = A.densify(idx, val, 5)
    sidx, merged, sq = MC._merged_squares(idx, val)
    torch.testing.assert_close(sq, (dense * dense).sum(-1))
    torch.testing.assert_close(A.densify(sidx, merged, 5), dense)


def test_deterministic_given_seed_and_independent_of_chunking():
    q = _q("popular")
    a = MC.estimate("ssm", TH, 0, q, 4, draws=2000, generator=MC.device_generator("cpu", 7))
    b = MC.estimate("ssm", TH, 0, q, 4, draws=2000, generator=MC.device_generator("cpu", 7))
    assert a.bias2 == b.bias2 and a.variance == b.variance and torch.equal(a.mean, b.mean)


def test_large_n_runs_without_dense_draws():
    theta, y, props = MC.large_problem(100_000, seed=0)
    r = MC.estimate("ssm", theta, y, props["popularity"], 16, draws=2_000, generator=MC.device_generator("cpu", 0))
    assert r.mean.shape == (100_000,) and r.variance.est > 0 and r.mse.est > r.variance.lo
    r = MC.estimate("nce", theta, y, props["uniform"], 4, c=float(torch.logsumexp(theta, 0)), draws=2_000,
                    generator=MC.device_generator("cpu", 0))
    assert r.mse.est > 0


@pytest.mark.parametrize("kw,match", [
    (dict(method="x"), "method"), (dict(theta=torch.tensor([1.0, float("nan"), 0.0])), "theta"),
    (dict(y=3), r"\by\b"), (dict(m=0), r"\bm\b"), (dict(q=torch.tensor([0.5, 0.6, -0.1], dtype=torch.float64)), r"\bq\b"),
    (dict(draws=1), "draws"), (dict(groups=1), "groups"), (dict(level=1.0), "level"),
    (dict(method="nce", c=None), r"\bc\b"), (dict(q=torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)), r"\bq\b"),
])
def test_bad_input(kw, match):
    args = dict(method="ssm", theta=torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64), y=0,
                q=A.uniform_proposal(3), m=2, draws=100, c=0.0)
    args.update(kw)
    method, theta, y, q, m = (args.pop(k) for k in ("method", "theta", "y", "q", "m"))
    with pytest.raises(ValueError, match=match):
        MC.estimate(method, theta, y, q, m, **args)
