"""Unit tests of the CON-1 / CON-2 machinery: each route is shown to be able to fail."""
import itertools
import math
from fractions import Fraction as F

import numpy as np
import pytest

from audit import RunContext, SuiteDefect
from numerics.con import consistency as C
from numerics.con import dcg
from numerics.con import labels as lab
from numerics.con import risk
from reports.con import planted as pc
from reports.con.claims import con2_constants
from reports.planted import reversed_map
from reports.rechecks.con import recheck_dcg_counterexample

CTX = RunContext(profile="quick", seed=0)


def _rechecks(cx, loss, label_map) -> bool:
    return recheck_dcg_counterexample(cx, con2_constants(loss, label_map))[0]


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


def test_cone_program_matches_closed_form():
    # sparsemax, η = (1/2, 1/3, 1/6), cone θ_0 ≤ θ_1, θ_0 ≤ θ_2: the minimizer averages all three
    # coordinates of the target (projection of η on {p_0 ≤ p_1, p_0 ≤ p_2} ∩ Δ = uniform),
    # so the gap is Ω(η) − Ω(uniform) = ½(‖η‖² − 1/3)
    eta = [F(1, 2), F(1, 3), F(1, 6)]
    base = risk.solve_risk("sparsemax", eta)
    c = risk.solve_risk("sparsemax", eta, rows=[(0, 1), (0, 2)])
    exact = 0.5 * (1 / 4 + 1 / 9 + 1 / 36 - 1 / 3)
    assert abs((c.value - base.value) - exact) < 1e-8
    with pytest.raises(ValueError, match="rows"):
        risk.solve_risk("sparsemax", eta, rows=[(0, 1), (0, 2), (1, 2)])


def test_violating_pairs_counting():
    eta = [F(1, 2), F(1, 4), F(1, 4), F(0)]
    # the cover of the counting lemma (a superset of what is needed: the bound stays valid)
    assert C.violating_pairs(eta, 1) == {(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)}
    # never a pair inside the tie {1, 2}
    assert all({i, j} != {1, 2} for k in (1, 2, 3) for i, j in C.violating_pairs(eta, k))
    assert C.violating_pairs(eta, 3) == {(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)}
    assert C.violating_pairs([F(1, 2), F(1, 2), F(0)], 1) == {(0, 2), (1, 2)}
    assert C.violating_pairs([F(1, 3)] * 3, 1) == set()


def test_covering_lemma_and_cones_by_enumeration():
    """Every θ that is not top-k preserving lies in a half-space of P_k and in one of the
    violating cones, and every θ of a cone is not top-k preserving (all weak orders of θ on
    small integer grids)."""
    for eta in ([F(3), F(2), F(2), F(1)], [F(4), F(3), F(2), F(1), F(0)], [F(1), F(1), F(0)]):
        n = len(eta)
        for k in range(1, n):
            pairs, cones = C.violating_pairs(eta, k), C.violating_cones(eta, k)
            for theta in itertools.product(range(3), repeat=n):
                bad = not C.top_k_preserving(eta, theta, k)
                if bad:
                    assert any(theta[i] <= theta[j] for i, j in pairs), (eta, k, theta)
                in_cone = any(all(theta[a] <= theta[b] for a, b in rows) for _, _, rows in cones)
                assert in_cone == bad, (eta, k, theta)


def test_certificate_positive_gap_for_proper_loss():
    r = C.certify_eta("softmax", [F(1, 2), F(1, 3), F(1, 6), F(0)])
    assert r["decision"] == "certified" and r["min_gap"] > C.GAP_TOL and r["transcription_err"] < 1e-9


def test_certificate_fails_for_improper_flat_loss_with_a_true_witness(monkeypatch):
    # Ω ≡ 0 on Δ: R(θ) = max θ − ⟨θ, η⟩ is minimized by θ = c·1, which is not top-k preserving
    eta = [F(1, 2), F(1, 3), F(1, 6)]
    r = C.certify_eta(risk.spec("flat"), eta)
    assert r["decision"] == "fails" and abs(r["bad"]["gap"]) < 1e-8
    assert not C.top_k_preserving(eta, r["bad"]["theta"], r["bad"]["k"])
    monkeypatch.setattr(risk, "spec", pc.flat_spec)  # the spec factory drops Ω: the check's own lookup
    ev = C.topk_calibration("sparsemax", CTX)
    assert ev.outcome == "fails" and ev.counterexample is not None


def test_certificate_is_a_suite_defect_when_the_loss_disagrees_with_its_transcription():
    with reversed_map("sparsemax").patch(), pytest.raises(SuiteDefect, match="transcription"):
        C.certify_eta("sparsemax", [F(1, 2), F(1, 3), F(1, 6)])


def test_dcg_enumeration_hand_computed():
    g = [1.0, 3.0, 0.0]  # E[G]
    table = dcg.dcg_table(g)
    best = 3.0 + 1.0 / math.log2(3)
    assert abs(table.max() - best) < 1e-12
    # ranking by scores (3, 1, 2 → items 0, 2, 1): DCG = 1 + 0 + 3/2
    regret, regret_best = dcg.dcg_regret(g, [3.0, 1.0, 2.0])
    assert abs(regret - (best - 2.5)) < 1e-12 and regret == regret_best
    # tied scores: worst tie-break counts
    regret, regret_best = dcg.dcg_regret(g, [1.0, 1.0, 0.0])
    assert abs(regret - (best - (1.0 + 3.0 / math.log2(3)))) < 1e-12 and regret_best < 1e-12


def test_level_pairs():
    assert dcg.level_pairs([F(3), F(1), F(1), F(0)]) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert dcg.level_pairs([F(1), F(1)]) == []


def _plain_l2_regret(D):
    """Plain enumeration, no project code: Bayes order of L2 = sort E[G/ΣG]."""
    n = len(D[0][1])
    G = [[2 ** v - 1 for v in r] for _, r in D]
    EG = [sum(p * g[i] for (p, _), g in zip(D, G)) for i in range(n)]
    q = [sum(p * g[i] / sum(g) for (p, _), g in zip(D, G)) for i in range(n)]
    dcg_ = lambda order: sum(EG[i] / math.log2(pos + 2) for pos, i in enumerate(order))  # noqa: E731
    best = max(dcg_(o) for o in itertools.permutations(range(n)))
    bayes = [o for o in itertools.permutations(range(n)) if all(q[o[a]] >= q[o[a + 1]] for a in range(n - 1))]
    return best - min(dcg_(o) for o in bayes)


def test_decide_law_on_the_known_l2_law_uses_the_loss():
    D = [(F(2, 5), (0, 2, 0)), (F(3, 5), (0, 0, 1))]
    assert _plain_l2_regret(D) > 0.2
    for loss, params in (("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("softmax", {})):
        r = dcg.decide_law(risk.spec(loss, **params), lab.label_map("L2"), D)
        assert r["decision"] == "fails" and r["kind"] == "strict" and r["pair"] == (1, 2)
        cx = {"D": [{"p": float(p), "r": list(x)} for p, x in D], "theta": r["theta"], "regret": r["regret"],
              "pair": list(r["pair"]), **params}
        assert _rechecks(cx, loss, "L2")
        assert not _rechecks(cx, loss, "L1")  # the same scores are not Bayes-optimal under L1
        r = dcg.decide_law(risk.spec(loss, **params), lab.label_map("L1"), D)
        assert r["decision"] == "certified" and r["closed_regret"] == 0
    # an improper loss: its constant minimizers tie every pair
    r = dcg.decide_law(risk.spec("flat"), lab.label_map("L1"), D)
    assert r["decision"] == "fails"


def test_decide_law_is_a_suite_defect_when_the_map_is_reversed():
    D = [(F(2, 5), (0, 2, 0)), (F(3, 5), (0, 0, 1))]
    with reversed_map("entmax").patch(), pytest.raises(SuiteDefect):
        dcg.decide_law(risk.spec("entmax", alpha=1.5), lab.label_map("L1"), D)


def test_dcg_check_finds_l2_and_passes_l1():
    ev = dcg.dcg_consistency("sparsemax", "L2", CTX)
    assert ev.outcome == "fails" and _rechecks(ev.counterexample, "sparsemax", "L2")
    ev = dcg.dcg_consistency("sparsemax", "L1", CTX)
    assert ev.outcome == "holds" and ev.figures["pairs_tested"] > 20


def test_dcg_check_reads_the_label_map_table(monkeypatch):
    """The label map enters through ``labels.LABEL_MAPS``: the L2 entry replaced by the summed
    map makes the L2 check hold; an L1 entry with one gain level off by 1/2 makes the L1
    check fail, with a counterexample that does not re-check against the row's gains."""
    with monkeypatch.context() as m:
        m.setattr(lab, "LABEL_MAPS", {**lab.LABEL_MAPS, "L2": lab.LABEL_MAPS["L1"]})
        assert dcg.dcg_consistency("sparsemax", "L2", CTX).outcome == "holds"
    with monkeypatch.context() as m:
        m.setattr(lab, "LABEL_MAPS", {**lab.LABEL_MAPS, "L1": pc.L1_OFF_BY_HALF})
        ev = dcg.dcg_consistency("sparsemax", "L1", CTX)
    assert ev.outcome == "fails" and not _rechecks(ev.counterexample, "sparsemax", "L1")


def test_target_means():
    D = [(F(1, 2), (1, 0, 1)), (F(1, 2), (0, 1, 0))]
    assert lab.target_mean(D, "L1") == [F(1, 3), F(1, 3), F(1, 3)]
    assert lab.target_mean(D, "L2") == [F(1, 4), F(1, 2), F(1, 4)]
    with pytest.raises(ValueError):
        lab.target_mean([(1, (1, 0)), (1, (1, 1))], "multihot")
    # the atoms reproduce the weighted risk: L1 weights ΣG(r), L2 unit weights
    atoms = lab.label_map("L1").atoms([(F(1, 2), (2, 0)), (F(1, 2), (0, 1))])
    assert atoms == [(F(3, 2), [F(1), F(0)]), (F(1, 2), [F(0), F(1)])]
