"""APX-6: SGD with approximate-softmax gradients converges to the neighbourhood bound
(numerics/apx/sgd.py)."""
import copy
import math

import pytest
import torch

from losses import approx
from numerics.apx import sgd as apx_sgd
from audit import RunContext

# one pytest-xdist worker for the whole module: its module-scoped fixtures are computed once
pytestmark = pytest.mark.xdist_group("apx-sgd-runs")

QUICK = RunContext(profile="quick", seed=0)


@pytest.fixture(scope="module")
def ev():
    return apx_sgd.sgd_convergence(QUICK)


@pytest.fixture(scope="module")
def rows(ev):
    return ev.figures["estimators"]


def test_quick_holds_and_is_deterministic(ev):
    assert ev.kind == "numeric" and ev.check == "sgd-neighbourhood"
    assert ev.outcome == "holds", ev.detail
    assert ev.counterexample is None
    apx_sgd.measure.cache_clear()          # recompute, not a cache hit
    again = apx_sgd.sgd_convergence(QUICK)
    assert again.to_json() == ev.to_json()


def test_every_estimator_reported_and_within_bound(rows):
    names = [e.name for e in apx_sgd.estimators(10)]
    assert list(rows) == names
    for name, r in rows.items():
        for key in ("b", "sigma2", "s2_T", "s2_T_lcb", "bound2", "subopt"):
            assert math.isfinite(r[key]), (name, key)
        assert r["s2_T_lcb"] <= r["s2_T"] <= r["bound2"], name
        if r["kind"] == "deterministic":
            assert r["sigma2"] == 0.0 and r["replicates"] == 1
        else:
            assert r["sigma2"] > 0 and r["replicates"] == apx_sgd.config_for(QUICK).R
    # unbiased by construction: ideal SSM has b = 0 exactly (closed form), and its σ² ∝ 1/m
    for m in (1, 4, 16):
        assert rows[f"ssm/ideal m={m}"]["b"] < 1e-12
    s1, s16 = rows["ssm/ideal m=1"]["sigma2"], rows["ssm/ideal m=16"]["sigma2"]
    assert 12 < s1 / s16 < 20
    # the sampled biases shrink with the sample count
    assert rows["ssm/uniform m=1"]["b_point"] > rows["ssm/uniform m=16"]["b_point"]
    assert rows["nce/c=logZ k=4"]["b"] > rows["nce/c=logZ k=16"]["b"]


def test_exact_estimator_reaches_w_star(rows):
    r = rows["exact"]
    assert r["b"] == 0.0 and r["sigma2"] == 0.0
    assert r["s2_T"] < 1e-12
    assert abs(r["subopt"]) < 1e-12


def test_deterministic_bias_leaves_a_floor_below_the_bound(rows):
    r = rows["rg2"]
    assert r["b"] > 0 and r["sigma2"] == 0.0
    dist, bound = math.sqrt(r["s2_T"]), math.sqrt(r["bound2"])
    assert dist <= bound
    assert dist >= 0.1 * bound          # a bias-driven floor, not just rounding
    assert dist > 1e-2
    assert r["subopt"] > 1e-4
    # rg2 and rgx coincide on this run (W 1 = 0 is preserved from W_0 = 0)
    assert rows["rgx"]["s2_T"] == pytest.approx(r["s2_T"], rel=1e-9)


def test_crosscheck_agrees(ev):
    xc = ev.figures["crosscheck"]
    assert set(xc) == set(apx_sgd.CROSSCHECKED)
    assert all(v["agree"] for v in xc.values()), xc


def test_fit_rank_and_plot(ev):
    f = ev.figures
    fit = f["fit_s2_T"]
    assert set(fit["coef"]) == {"b2", "eta_sigma2"} and all(c >= 0 for c in fit["coef"].values())
    assert 0 <= fit["r2"] <= 1
    setup = f["setup"]
    assert fit["theory"]["b2"] == pytest.approx(1 / setup["mu"] ** 2)
    assert fit["theory"]["eta_sigma2"] == pytest.approx(1 / (setup["mu"] * (2 - setup["eta"] * setup["mu"])))
    assert f["rank"]["s2_T_vs_sigma2_unbiased"]["spearman"] == pytest.approx(1.0)
    plot = f["plot"]
    assert plot["logy"] is True and set(plot["series"]) == set(f["estimators"])
    for s in plot["series"].values():
        assert len(s["x"]) == len(s["y"]) and s["x"][0] == 0 and s["x"][-1] == setup["T"]


def test_planted_failure_gives_counterexample(ev, rows):
    setup = ev.figures["setup"]
    kw = dict(eta=setup["eta"], mu=setup["mu"], T=setup["T"], seed=0, N=setup["N"], n=setup["n"], d=setup["d"])
    assert apx_sgd.decide(rows, **kw) == ("holds", None)
    bad = copy.deepcopy(dict(rows))
    bad["rg2"]["s2_T"] = bad["rg2"]["s2_T_lcb"] = 2.0 * bad["rg2"]["bound2"]
    outcome, cex = apx_sgd.decide(bad, **kw, data={"X": [[0.0]]})
    assert outcome == "fails"
    assert cex["estimator"] == "rg2" and cex["s2_T"] > cex["bound2"] and cex["X"] == [[0.0]]
    assert {"shape", "estimator", "eta", "mu", "b", "sigma2", "s2_T", "bound2", "T", "s0", "slack", "seed"} <= set(cex)
    # a stochastic estimator's run cannot be re-run from stored data: alone it is undecided
    sto = copy.deepcopy(dict(rows))
    sto["ssm/uniform m=1"]["s2_T_lcb"] = 2.0 * sto["ssm/uniform m=1"]["bound2"]
    assert apx_sgd.decide(sto, **kw) == ("undecided", None)
    nan = copy.deepcopy(dict(rows))
    nan["exact"]["bound2"] = float("nan")
    assert apx_sgd.decide(nan, **kw)[0] == "undecided"
    assert apx_sgd.decide({}, **kw)[0] == "undecided"


def test_bias_measured_at_the_start_fails_and_the_outside_recheck_rejects_it(ev, monkeypatch):
    from reports.apx.claims import claims
    from reports.apx.planted import moments_at_start
    from reports.rechecks.apx import recheck_apx

    monkeypatch.setattr(apx_sgd, "_moments", moments_at_start)      # the planted defect: b at W_0 only
    bad = apx_sgd.sgd_convergence(QUICK)
    assert bad.outcome == "fails" and bad.counterexample["estimator"] in ("rg2", "rgx")
    assert bad.counterexample["b"] < 1e-12 < ev.figures["estimators"]["rg2"]["b"]   # RG is exact at theta = 0
    row = next(c for c in claims() if c.key == "APX-6[sgd]")
    ok, msg = recheck_apx(json_round_trip(bad.counterexample), "sgd", json_round_trip(row.constants),
                          "sgd-neighbourhood")
    assert not ok and "bias along the run" in msg and "stored b" in msg   # the re-run measures b along the run


def test_moments_are_read_along_the_whole_run(ev):
    """b and σ² of a row are the maxima over every measurement (each step, or each checkpoint
    for Monte Carlo, and W*), not over a part of them."""
    meas = apx_sgd.measure(apx_sgd.config_for(QUICK), QUICK.seed)
    for name, r in meas["rows"].items():
        got = ev.figures["estimators"][name]
        if "mc" in r:
            assert got["sigma2_point"] == max(mc["sigma2"] for _, mc in r["mc"])
        else:
            assert got["b"] == max(r["b_trace"] + [r["at_W_star"][0]])
            assert got["sigma2"] == max(r["sigma2_trace"] + [r["at_W_star"][1]])


def json_round_trip(x):
    import json

    from audit.evidence import as_stored

    return json.loads(json.dumps(as_stored(x)))


def test_false_alarm_level_is_the_context_share_and_split(ev):
    from dataclasses import replace

    setup = ev.figures["setup"]
    assert setup["alpha"] == QUICK.alpha
    assert setup["alpha_s"] + setup["alpha_m"] + setup["alpha_crosscheck"] == pytest.approx(QUICK.alpha)
    tight = apx_sgd.sgd_convergence(replace(QUICK, alpha=0.002))
    r0, r1 = ev.figures["estimators"]["ssm/uniform m=4"], tight.figures["estimators"]["ssm/uniform m=4"]
    assert r1["s2_T_lcb"] < r0["s2_T_lcb"] and r1["b"] > r0["b"]      # a smaller level widens both bounds
    assert r1["s2_T"] == r0["s2_T"]                                   # the measurement itself is the same


def test_crosscheck_disagreement_is_a_suite_defect():
    from audit import SuiteDefect

    meas = apx_sgd.measure(apx_sgd.config_for(QUICK), 0)
    broken = dict(meas) | {"crosscheck": {k: v | {"sigma2_mc": 3 * v["sigma2_exact"]}
                                          for k, v in meas["crosscheck"].items()}}
    with pytest.raises(SuiteDefect, match="disagree"):
        apx_sgd._evidence(broken, apx_sgd.config_for(QUICK), QUICK)


def test_bad_inputs():
    with pytest.raises(ValueError, match="profile"):
        apx_sgd.sgd_convergence(RunContext(profile="medium"))
    with pytest.raises(ValueError, match="profile"):
        apx_sgd.config_for(RunContext(profile="slow"))
    ok = dict(N=32, d=3, n=5, T=40, R=4, S=16)
    for key, val in (("N", 1), ("n", 2), ("T", 3), ("R", 1), ("S", 0), ("d", 2.5), ("N", True)):
        with pytest.raises(ValueError, match=key):
            apx_sgd.Config(**(ok | {key: val}))
    for key, val in (("lam", 0.0), ("lam", float("nan")), ("teacher", -1.0)):
        with pytest.raises(ValueError, match=key):
            apx_sgd.Config(**ok, **{key: val})
    with pytest.raises(ValueError, match="config"):
        apx_sgd.sgd_convergence(QUICK, config={"N": 32})


def test_small_config_runs():
    ev = apx_sgd.sgd_convergence(QUICK, apx_sgd.Config(N=48, d=3, n=5, T=60, R=4, S=32))
    assert ev.outcome in ("holds", "undecided")
    assert ev.figures["setup"]["n"] == 5 and len(ev.figures["estimators"]) == 12


@pytest.mark.parametrize("n", [5, 10])
def test_fast_path_matches_library_estimators(n):
    with apx_sgd.one_thread():
        _fast_path_matches_library(n)


def _fast_path_matches_library(n):
    g = torch.Generator().manual_seed(3)
    B = 32
    theta = 2 * torch.randn(B, n, generator=g, dtype=torch.float64)
    y = torch.randint(0, n, (B,), generator=g)
    for est in apx_sgd.estimators(n):
        s = None if est.sampler is None else est.sampler(theta, y, g)
        if s is not None:
            assert s.shape[0] == B and int(s.min()) >= 0 and int(s.max()) < n
            if est.name.startswith("ssm"):
                assert not bool((s == y[:, None]).any()), est.name
        fast, lib = est.fast(theta, y, s), est.library(theta, y, s)
        assert torch.allclose(fast, lib, rtol=0, atol=1e-13), est.name
        if est.moments is not None:   # closed-form mean agrees with the Monte Carlo mean
            S = 2000
            draws = est.draw(theta.repeat(S, 1), y.repeat(S), g).view(S, B, n)
            mean, var = est.moments(theta, y)
            se = torch.sqrt(var / S)[:, None]          # each coordinate's variance ≤ the total
            assert bool(((draws.mean(0) - mean).abs() <= 6 * se + 1e-12).all()), est.name
            d2 = ((draws - draws.mean(0)) ** 2).sum(-1)                   # (S, B)
            tol = 6 * d2.std(0) / math.sqrt(S) + 1e-12
            assert bool(((d2.mean(0) - var).abs() <= tol).all()), est.name
            assert float(d2.mean(0).sum() / var.sum()) == pytest.approx(1.0, abs=0.03), est.name


def test_samplers_have_the_right_law():
    g = torch.Generator().manual_seed(5)
    n, B, m = 6, 4, 20000
    y = torch.tensor([0, 2, 5, 3])
    s = apx_sgd.sample_uniform_negatives(y, n, m, g)
    freq = torch.nn.functional.one_hot(s, n).double().mean(1)                 # (B, n)
    target = torch.full((B, n), 1 / (n - 1), dtype=torch.float64).scatter(-1, y[:, None], 0.0)
    assert bool(((freq - target).abs() < 5 * math.sqrt(0.2 * 0.8 / m)).all())
    theta = torch.tensor([[2.0, 1.0, 0.0, -1.0, -2.0, 0.5]] * B, dtype=torch.float64)
    q = approx.ideal_proposal(theta, y)
    s = apx_sgd.sample_rows(q, m, g)
    freq = torch.nn.functional.one_hot(s, n).double().mean(1)
    assert bool(((freq - q).abs() <= 5 * torch.sqrt(q * (1 - q) / m) + 1e-12).all())
    assert not bool((s == y[:, None]).any())


def test_thread_setting_restored():
    before = torch.get_num_threads()
    apx_sgd.sgd_convergence(QUICK, apx_sgd.Config(N=16, d=2, n=4, T=20, R=2, S=4))
    assert torch.get_num_threads() == before


def test_hessian_smoothness_and_optimum():
    cfg = apx_sgd.Config(N=40, d=3, n=4, T=20, R=2, S=4)
    pb = apx_sgd.make_problem(cfg, torch.Generator().manual_seed(2))
    W = 0.3 * torch.randn(cfg.d, cfg.n, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    H = torch.autograd.functional.hessian(lambda w: apx_sgd.objective(pb, w.view(cfg.d, cfg.n)), W.reshape(-1))
    assert torch.allclose(apx_sgd._hessian(pb, W), H, atol=1e-12)
    ev = torch.linalg.eigvalsh(H)
    assert float(ev[0]) >= pb.mu - 1e-12 and float(ev[-1]) <= pb.L + 1e-12     # μ ≤ ∇²F ≤ L
    assert 0 < pb.eta * pb.mu < 1 and pb.eta <= 2 / (pb.mu + pb.L)
    W_star, sol = apx_sgd.solve_optimum(pb)
    assert sol["converged"] and float(apx_sgd.full_gradient(pb, W_star).norm()) < 1e-10
