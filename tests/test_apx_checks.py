"""The APX numeric checks: their independent ground truth, and that they turn -- for the
reason they check -- on wrong inputs (the planted defects of reports/planted_apx.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from audit import RunContext, SuiteDefect
from losses import approx as A
from numerics import apx_checks as N
from numerics import apx_exact as X
from numerics import apx_plain as P
from reports import planted_apx as W
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


# ------------------------------------------------------------------ APX-1
def test_decomposition_crashes_when_the_ground_truth_mse_is_not_bias2_plus_variance():
    with pytest.raises(SuiteDefect, match="MSE computed directly"):
        N.decomposition("nce", "nce/c=logZ", CTX, exact=W.nce_exact_uncentred)


def test_decomposition_without_logq_fails_and_the_outside_recheck_rejects_it():
    ev = N.decomposition("ssm", "ssm/uniform", CTX, exact=W.ssm_exact_without_logq)
    assert ev.outcome == "fails" and ev.counterexample["shape"] == "sampling-increase"
    assert ev.counterexample["quantity"] == "bias2"                       # the bias grows with m
    assert not recheck_apx(ev.counterexample, "ssm/uniform")[0]           # the real SSM's does not


def test_deterministic_estimators_with_randomness_fail():
    ev = N.decomposition("rg", "rg2", CTX, exact=lambda t, y, k: X.rg_exact(t, y, k, grad=W.rg_sampled_mean()))
    assert ev.outcome == "fails" and ev.figures["variance"][0] > 0
    ev = N.decomposition("hsm", "hsm/balanced-H2", CTX,
                         exact=lambda t, y, tree: X.hsm_exact(t, y, tree, grad=W.random_tree_hsm()))
    assert ev.outcome == "fails" and not recheck_apx(ev.counterexample, "hsm/balanced-H2")[0]


# ------------------------------------------------------------------ APX-2 / APX-3 Monte Carlo
def test_mc_agreement_is_an_equivalence_test():
    ev = N.mc_agreement("ssm", "uniform", CTX)
    assert ev.outcome == "holds"
    assert all(r["max_abs_interval_end_over_margin"] < 0.8 for r in ev.figures["rows"])
    assert ev.figures["interval_decisions"] == 4 * (6 + 4)
    with pytest.raises(SuiteDefect, match="disagrees"):
        N.mc_agreement("ssm", "uniform", CTX, sampler=W.shifted_sampler)
    # an interval that straddles the margin shows no equivalence: undecided, never holds
    from numerics.apx_mc import _classify

    assert _classify(-0.01, 0.01, 0.02) == "inside" and _classify(0.03, 0.05, 0.02) == "outside"
    assert _classify(-0.03, 0.01, 0.02) == "straddles" == _classify(0.01, 0.03, 0.02)


def test_mc_rate_plugin_bias_turns_the_check_through_the_slope():
    ev = N.mc_rate_large("popularity", RunContext(alpha=0.001))
    assert ev.outcome == "holds" and len(ev.figures["slopes_bias2"]) == 2 == len(ev.figures["slopes_variance"])
    bad = N.mc_rate_large("popularity", RunContext(alpha=0.001), correct_bias2=False)
    assert bad.outcome == "undecided"
    top = bad.figures["slopes_bias2"][-1]
    assert top["upper"] > -1.75 and top["se"] < 0.1                      # shallow and resolved, not just wide


# ------------------------------------------------------------------ APX-3, APX-4, APX-5
def test_nce_rate_with_a_wrong_normalizer_fails_but_is_not_a_counterexample_to_the_reading():
    ev = N.nce_rate("c=logZ", CTX, c=float(torch.logsumexp(TH, 0)) + 0.1)
    assert ev.outcome == "fails" and ev.counterexample["limit_bias2"] > 1e-3
    ok, msg = recheck_apx(ev.counterexample, "nce/c=logZ")
    assert not ok and "normalizer" in msg


def test_tree_clusters_ignore_child_order():
    a = A.Tree(3, ((0, 1), (3, 2)))
    b = A.Tree(3, ((1, 0), (2, 3)))
    c = A.Tree(3, ((1, 2), (0, 3)))
    assert N._clusters(a) == N._clusters(b) != N._clusters(c)
    assert a.nested() == "((0,1),2)" and b.nested() == "(2,(1,0))"


def test_a_tree_blind_hsm_estimator_fails_and_is_rejected_outside():
    ev = N.hsm_trees(CTX, exact=W.hsm_exact_h1_fit)
    assert ev.outcome == "fails" and ev.counterexample["shape"] == "hsm-trees"
    assert not recheck_apx(ev.counterexample, "hsm/H2")[0]


def test_rg_with_a_wrong_coefficient_fails_and_is_rejected_outside():
    ev = N.rg_scale("rgx", CTX, grad=W.rg_grad_coeffs(0, 1, 1))
    assert ev.outcome == "fails" and ev.counterexample["bias2_at_0"] > 0.1
    assert not recheck_apx(ev.counterexample, "rgx/scale")[0]
    ev = N.rg_spread("rgx", CTX, grad=W.rg_grad_coeffs(1, 1, 0.5))
    assert ev.outcome == "fails" and not recheck_apx(ev.counterexample, "rgx/spread")[0]
    ev = N.rg2_squared(CTX, label_target=lambda n: n)
    assert ev.outcome == "fails" and not recheck_apx(ev.counterexample, "rg2/squared-loss")[0]
