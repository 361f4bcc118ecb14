"""Unit tests of the CON-1 / CON-2 machinery: each check is shown to be able to fail."""
import itertools
import math
from fractions import Fraction as F

import numpy as np
import pytest

from numerics import consistency as C
from numerics import risk
from audit import RunContext
from reports.rechecks.con import recheck_dcg_counterexample

CTX = RunContext(profile="quick", seed=0)


@pytest.mark.parametrize("loss,params", [("softmax", {}), ("sparsemax", {}), ("entmax", {"alpha": 1.5}),
                                         ("entmax", {"alpha": 2.5})])
def test_risk_minimizer_is_proper_on_random_eta(loss, params):
    rng = np.random.default_rng(3)
    for _ in range(4):
        eta = rng.dirichlet(np.ones(5))
        bs = risk.bayes_scores(loss, eta, **params)
        assert bs.ok and bs.attained
        assert bs.properness_err < 1e-4  # ŷ(θ*) = η
        assert bs.value_err < 1e-7  # inf R = −Ω(η)


def test_rankmax_minimizer_is_proper_and_softmax_zero_is_reported_unattained():
    m = [F(1), F(1, 2), F(1, 2), F(0), F(0)]  # marginals of a k = 2 subset law
    bs = risk.bayes_scores("rankmax", m, k=2)
    assert bs.ok and bs.properness_err < 1e-6
    bs = risk.bayes_scores("softmax", [0.5, 0.5, 0.0])
    assert bs.attained is False and bs.value_err < 1e-7


def test_halfspace_routes_agree_and_match_closed_form():
    eta = [F(1, 2), F(1, 3), F(1, 6)]
    base = risk.solve_risk("sparsemax", eta)
    c = risk.solve_risk("sparsemax", eta, (0, 1))
    gap_a = c.value - base.value
    gap_b = risk.dual_halfspace_value("sparsemax", eta, (0, 1)) - risk.inf_risk_value("sparsemax", eta)
    exact = (1 / 2 - 1 / 3) ** 2 / 4
    assert abs(gap_a - exact) < 1e-8 and abs(gap_b - exact) < 1e-10


def test_violating_pairs_counting():
    eta = [F(1, 2), F(1, 4), F(1, 4), F(0)]
    # the cover of the counting lemma (a superset of what is needed: the bound stays valid)
    assert C.violating_pairs(eta, 1) == {(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)}
    # never a pair inside the tie {1, 2}
    assert all({i, j} != {1, 2} for k in (1, 2, 3) for i, j in C.violating_pairs(eta, k))
    assert C.violating_pairs(eta, 3) == {(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)}
    assert C.violating_pairs([F(1, 2), F(1, 2), F(0)], 1) == {(0, 2), (1, 2)}
    assert C.violating_pairs([F(1, 3)] * 3, 1) == set()


def test_certificate_positive_gap_for_proper_loss():
    r = C.certify_eta("softmax", [F(1, 2), F(1, 3), F(1, 6), F(0)])
    assert r["decision"] == "certified" and r["min_gap"] > C.GAP_TOL


def test_certificate_fails_for_improper_flat_loss():
    # Ω ≡ 0 on Δ: R(θ) = max θ − ⟨θ, η⟩ is minimized by θ = c·1, which violates every pair
    r = C.certify_eta(risk.spec("flat"), [F(1, 2), F(1, 3), F(1, 6)])
    assert r["decision"] == "fails" and abs(r["bad"]["gap"]) < 1e-8
    ev = C.topk_calibration(risk.spec("flat"), CTX)
    assert ev.outcome == "fails" and ev.counterexample is not None


def test_dcg_enumeration_hand_computed():
    g = [1.0, 3.0, 0.0]  # E[G]
    table = C.dcg_table(g)
    best = 3.0 + 1.0 / math.log2(3)
    assert abs(table.max() - best) < 1e-12
    # ranking by scores (3, 1, 2 → items 0, 2, 1): DCG = 1 + 0 + 3/2
    regret, regret_best = C.dcg_regret(g, [3.0, 1.0, 2.0])
    assert abs(regret - (best - 2.5)) < 1e-12 and regret == regret_best
    # tied scores: worst tie-break counts
    regret, regret_best = C.dcg_regret(g, [1.0, 1.0, 0.0])
    assert abs(regret - (best - (1.0 + 3.0 / math.log2(3)))) < 1e-12 and regret_best < 1e-12


def _plain_l2_regret(D):
    """Plain enumeration, no project code: Bayes order of L2 = sort E[G/ΣG]."""
    n = len(D[0][1])
    G = [[2 ** v - 1 for v in r] for _, r in D]
    EG = [sum(p * g[i] for (p, _), g in zip(D, G)) for i in range(n)]
    q = [sum(p * g[i] / sum(g) for (p, _), g in zip(D, G)) for i in range(n)]
    dcg = lambda order: sum(EG[i] / math.log2(pos + 2) for pos, i in enumerate(order))  # noqa: E731
    best = max(dcg(o) for o in itertools.permutations(range(n)))
    bayes = [o for o in itertools.permutations(range(n)) if all(q[o[a]] >= q[o[a + 1]] for a in range(n - 1))]
    return best - min(dcg(o) for o in bayes)


def test_known_l2_counterexample_by_plain_enumeration_and_recheck():
    D = [(0.4, (0, 2, 0)), (0.6, (0, 0, 1))]
    assert _plain_l2_regret(D) > 0.2
    cx = {"D": [{"p": p, "r": list(r)} for p, r in D], "theta": [0.0, 0.4, 0.6]}
    assert recheck_dcg_counterexample(cx, "sparsemax", "L2")
    assert recheck_dcg_counterexample(dict(cx, theta=[-30.0, math.log(0.4), math.log(0.6)]), "softmax", "L2")
    # the recheck can fail: wrong scores are not Bayes-optimal; L1 is consistent here
    assert not recheck_dcg_counterexample(dict(cx, theta=[0.0, 0.6, 0.4]), "sparsemax", "L2")
    q1 = [float(x) for x in risk.target_mean([(F(2, 5), (0, 2, 0)), (F(3, 5), (0, 0, 1))], "L1")]
    assert not recheck_dcg_counterexample(dict(cx, theta=q1), "sparsemax", "L1")


def test_dcg_check_finds_l2_and_passes_l1():
    ev = C.dcg_consistency("sparsemax", "L2", CTX)
    assert ev.outcome == "fails" and recheck_dcg_counterexample(ev.counterexample, "sparsemax", "L2")
    ev = C.dcg_consistency("sparsemax", "L1", CTX)
    assert ev.outcome == "holds"


def test_target_means():
    D = [(F(1, 2), (1, 0, 1)), (F(1, 2), (0, 1, 0))]
    assert risk.target_mean(D, "L1") == [F(1, 3), F(1, 3), F(1, 3)]
    assert risk.target_mean(D, "L2") == [F(1, 4), F(1, 2), F(1, 4)]
    with pytest.raises(ValueError):
        risk.target_mean([(1, (1, 0)), (1, (1, 1))], "multihot")
