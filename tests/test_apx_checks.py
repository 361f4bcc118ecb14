"""The APX numeric checks: their independent ground truth, and that they turn -- for the
reason they check -- on wrong inputs (the planted defects of reports/apx/planted.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from audit import RunContext, SuiteDefect
from losses import approx as A
from numerics.apx import checks as N
from numerics.apx import exact as X
from numerics.apx import plain as P
from reports.apx import planted as W
from reports.rechecks.apx import recheck_apx

TH = torch.tensor(X.CANONICAL_THETA, dtype=torch.float64)
CTX = RunContext(alpha=0.001)


# ------------------------------------------------------------------ the plain reference
@pytest.mark.parametrize("method,qname,c", [("ssm", "uniform", None), ("ssm", "popular", None),
                                            ("nce", "uniform", "logZ"), ("nce", "popular", 0.3)])
def test_plain_enumeration_matches_the_library(method, qname, c):
    q = A.uniform_proposal(6) if qname == "uniform" else A.unigram_proposal(torch.tensor([1.0, 5, 3, 9, 2, 4]), 0.75)
    cc = float(torch.logsumexp(TH, 0)) if c == "logZ" else c
    for m in (1, 2, 4):
        plain = P.exact_moments(method, TH.numpy(), 0, q.numpy(), m, cc)
        lib = X.ssm_exact(TH, 0, q, m) if method == "ssm" else X.nce_exact(TH, 0, q, m, cc, mode="multisets")
        assert abs(plain["total_weight"] - 1) < 1e-12
        assert plain["mean"] == pytest.approx(lib["mean"].numpy(), abs=1e-14)
        for k in ("bias2", "variance", "mse"):
            assert plain[k] == pytest.approx(lib[k], rel=1e-12, abs=1e-16), (m, k)


def test_plain_draws_follow_the_formulas():
    q = np.full(6, 1 / 6)
    g = P.ssm_draw(TH.numpy(), 0, q, [3, 3, 5])
    lib = A.ssm_grad(TH[None], torch.tensor([0]), torch.tensor([[3, 3, 5]]), torch.tensor(q))[1][0].numpy()
    assert g == pytest.approx(lib, abs=1e-15) and abs(g.sum()) < 1e-15
    g = P.nce_draw(TH.numpy(), 0, q, [1, 0, 4], 0.7)
    lib = A.nce_grad(TH[None], torch.tensor([0]), torch.tensor([[1, 0, 4]]), torch.tensor(q), 0.7)[1][0].numpy()
    assert g == pytest.approx(lib, abs=1e-15)
    with pytest.raises(ValueError, match="negatives"):
        P.ssm_draw(TH.numpy(), 0, q, [0, 2])


def _row(key: str) -> dict:
    """The constants of an APX row (reports/apx/claims.py), as results.json stores them."""
    from reports.apx.claims import claims

    return next(dict(c.constants) for c in claims() if c.key == key)


# ------------------------------------------------------------------ APX-1
def test_decomposition_crashes_when_the_ground_truth_mse_is_not_bias2_plus_variance(monkeypatch):
    moments = X.moments

    def uncentred(grads, weights, g):  # an MSE about 0, not about g
        return moments(grads, weights, g) | {"mse": float(weights.double() @ (grads.double() ** 2).sum(-1))}

    monkeypatch.setattr(X, "moments", uncentred)
    with pytest.raises(SuiteDefect, match="MSE computed directly"):
        N.decomposition("nce", "nce/c=logZ", CTX)


@pytest.mark.parametrize("estimator", [W.ssm_grad_without_logq, W.ssm_grad_off_by_one])
def test_decomposition_pins_the_canonical_ssm_estimator(monkeypatch, estimator):
    """The off-by-one correction log((m+1) q~) keeps bias^2 and variance decreasing in m (the
    monotonicity alone would hold, with a bias^2 several times the true one); the plain numpy
    enumeration, which shares no code with the library, catches it."""
    real = X.canonical("ssm", "uniform")
    monkeypatch.setattr(A, "ssm_grad", estimator)
    wrong = X.canonical("ssm", "uniform")
    if estimator is W.ssm_grad_off_by_one:
        b = wrong["bias2"]
        assert all(b[i + 1] < b[i] for i in range(len(b) - 1))             # still shrinking with m
        assert all(w > 3 * r for w, r in zip(b, real["bias2"]))           # but several times the true bias^2
    with pytest.raises(SuiteDefect, match="plain numpy"):
        N.decomposition("ssm", "ssm/uniform", CTX)


def test_nce_decomposition_holds_with_the_model_as_noise(monkeypatch):
    """The planted truths of APX-1 nce/*: with noise q = p (and Z = 1 for c = 0) bias^2 and
    variance fall with k, by the closed form k/(k+1) g; the real readings fail."""
    assert N.decomposition("nce", "nce/c=logZ", CTX).outcome == "fails"
    monkeypatch.setattr(X, "nce_noise", W.model_noise)
    ev = N.decomposition("nce", "nce/c=logZ", CTX)
    assert ev.outcome == "holds"
    g = X.full_grad(TH, 0)
    k = np.array(ev.figures["extended_k"], dtype=float)
    assert ev.figures["extended_bias2"] == pytest.approx((float(g @ g) / (k + 1) ** 2).tolist(), rel=1e-9)
    assert N.decomposition("nce", "nce/c=0", CTX).outcome == "fails"      # Z != 1: c = 0 is not log Z
    monkeypatch.setattr(X, "CANONICAL_THETA", W.self_normalized_theta())
    assert N.decomposition("nce", "nce/c=0", CTX).outcome == "holds"


def test_deterministic_estimators_with_randomness_fail(monkeypatch):
    monkeypatch.setattr(A, "rg_grad", W.rg_sampled_mean())
    ev = N.decomposition("rg", "rg2", CTX)
    assert ev.outcome == "fails" and ev.figures["variance"][0] > 0
    assert not recheck_apx(ev.counterexample, "rg2", _row("APX-1[rg2]"), "exact-decomposition")[0]
    monkeypatch.setattr(A, "hsm_grad", W.random_tree_hsm())
    ev = N.decomposition("hsm", "hsm/balanced-H2", CTX)
    assert ev.outcome == "fails"
    assert not recheck_apx(ev.counterexample, "hsm/balanced-H2", _row("APX-1[hsm/balanced-H2]"),
                           "exact-decomposition")[0]


def test_a_deterministic_estimator_one_ulp_off_between_calls_fails(monkeypatch):
    monkeypatch.setattr(A, "rg_grad", W.ulp_jitter(A.rg_grad))
    ev = N.decomposition("rg", "rgx", CTX)
    assert ev.outcome == "fails" and 0 < ev.figures["variance"][0] < 1e-30


# ------------------------------------------------------------------ APX-2 / APX-3 Monte Carlo
def test_mc_agreement_is_an_equivalence_test(monkeypatch):
    ev = N.mc_agreement("ssm", "uniform", CTX)
    assert ev.outcome == "holds"
    assert all(r["max_abs_interval_end_over_margin"] < 0.8 for r in ev.figures["rows"])
    assert ev.figures["interval_decisions"] == 4 * (6 + 4)
    from numerics.apx import montecarlo as MC

    with monkeypatch.context() as mp:
        mp.setattr(MC, "draw", W.shifted_sampler)
        with pytest.raises(SuiteDefect, match="disagrees"):
            N.mc_agreement("ssm", "uniform", CTX)
    # an interval that straddles the margin shows no equivalence: undecided, never holds
    from numerics.apx.mc import _classify

    assert _classify(-0.01, 0.01, 0.02) == "inside" and _classify(0.03, 0.05, 0.02) == "outside"
    assert _classify(-0.03, 0.01, 0.02) == "straddles" == _classify(0.01, 0.03, 0.02)


def test_mc_rate_plugin_bias_turns_the_check_through_the_slope(monkeypatch):
    from numerics.apx import montecarlo as MC

    ev = N.mc_rate_large("popularity", RunContext(alpha=0.001))
    assert ev.outcome == "holds" and len(ev.figures["slopes_bias2"]) == 2 == len(ev.figures["slopes_variance"])
    monkeypatch.setattr(MC, "bias2_estimate", W.plug_in_bias2)
    bad = N.mc_rate_large("popularity", RunContext(alpha=0.001))
    assert bad.outcome == "undecided"
    top = bad.figures["slopes_bias2"][-1]
    assert top["upper"] > -1.75 and top["se"] < 0.1                      # shallow and resolved, not just wide


def test_large_sums_are_keyed_by_the_problem(monkeypatch):
    """A proposal patched into the n = 100,000 problem never reads the sums of the real one."""
    from numerics.apx import mc as apx_mc
    from numerics.apx import montecarlo as MC

    theta, _, props = MC.large_problem(apx_mc.LARGE_N, seed=0)
    real = apx_mc.fingerprint(theta, props["uniform"])
    monkeypatch.setattr(MC, "large_problem", W.popularity_as_uniform())
    theta, _, props = MC.large_problem(apx_mc.LARGE_N, seed=0)
    assert apx_mc.fingerprint(theta, props["uniform"]) != real
    with pytest.raises(SuiteDefect, match="does not match its key"):
        apx_mc.large_sums.__wrapped__("uniform", 0, 100, (1,), "cpu", real)


# ------------------------------------------------------------------ APX-3, APX-4, APX-5
def test_nce_rate_with_a_wrong_normalizer_fails_but_is_not_a_counterexample_to_the_reading(monkeypatch):
    monkeypatch.setattr(X, "canonical_c", W.normalizer_numeric(0.1))
    ev = N.nce_rate("c=logZ", CTX)
    assert ev.outcome == "fails" and ev.counterexample["limit_bias2"] > 1e-3
    ok, msg = recheck_apx(ev.counterexample, "nce/c=logZ", _row("APX-3[nce/c=logZ]"), "closed-form-rate")
    assert not ok and "normalizer" in msg


def test_tree_clusters_ignore_child_order():
    a = A.Tree(3, ((0, 1), (3, 2)))
    b = A.Tree(3, ((1, 0), (2, 3)))
    c = A.Tree(3, ((1, 2), (0, 3)))
    assert N._clusters(a) == N._clusters(b) != N._clusters(c)
    assert a.nested() == "((0,1),2)" and b.nested() == "(2,(1,0))"


def test_a_tree_blind_hsm_estimator_fails_and_is_rejected_outside(monkeypatch):
    monkeypatch.setattr(A, "hsm_grad", W.hsm_grad_h1_fit)
    ev = N.hsm_trees(CTX)
    assert ev.outcome == "fails" and ev.counterexample["shape"] == "hsm-trees"
    assert not recheck_apx(ev.counterexample, "hsm/H2", _row("APX-4[hsm/H2]"), "exact-tree-bias")[0]


def test_rg_with_a_wrong_coefficient_fails_and_is_rejected_outside(monkeypatch):
    from numerics.apx import rg as NR

    with monkeypatch.context() as mp:
        mp.setattr(A, "rg_grad", W.rg_grad_coeffs(0, 1, 1))
        ev = N.rg_scale("rgx", CTX)
    assert ev.outcome == "fails" and ev.counterexample["bias2_at_0"] > 0.1
    assert not recheck_apx(ev.counterexample, "rgx/scale", _row("APX-5[rgx/scale]"), "exact-scale-series")[0]
    with monkeypatch.context() as mp:
        mp.setattr(A, "rg_grad", W.rg_grad_coeffs(1, 1, 0.5))
        ev = N.rg_spread("rgx", CTX)
    assert ev.outcome == "fails"
    assert not recheck_apx(ev.counterexample, "rgx/spread", _row("APX-5[rgx/spread]"), "exact-spread")[0]
    with monkeypatch.context() as mp:
        mp.setattr(NR, "squared_target", W.squared_target_without_ones)
        ev = N.rg2_squared(CTX)
    assert ev.outcome == "fails"
    assert not recheck_apx(ev.counterexample, "rg2/squared-loss", _row("APX-5[rg2/squared-loss]"),
                           "squared-loss-identity")[0]
