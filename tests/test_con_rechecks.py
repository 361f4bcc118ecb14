"""The CON re-checkers (reports/rechecks/con.py) recompute from the row's constants: they
accept the real counterexamples, and reject stored non-counterexamples of the same shape, a
counterexample made under a typo'd constant (other gains, another map, an α off the grid,
another k, a looser tolerance) and a tampered stored figure."""
import json
import math

import pytest

from audit import RunContext
from numerics.con import dcg
from numerics.con import labels as lab
from proofs.con import consistency as S
from reports.con import planted as pc
from reports.claim import replacing
from reports.con.claims import claims
from reports.recheck import recheck_one
from reports.runner import _stored

CTX = RunContext(profile="quick", seed=0)
ROW = {c.key: c.constants for c in claims()}
L2_LAW = [{"p": 0.4, "r": [0, 2, 0]}, {"p": 0.6, "r": [0, 0, 1]}]
REGRET = 0.22144214785712554  # E[DCG] lost on L2_LAW by the order (item 3, item 2, item 1)


def con2(reading, cx, constants=None):
    return recheck_one("CON-2", reading, _stored(cx), constants or ROW[f"CON-2[{reading}]"], "dcg-enumeration")


def con1(reading, cx, constants=None):
    return recheck_one("CON-1", reading, _stored(cx), constants or ROW[f"CON-1[{reading}]"], "topk-certificate")


def _l2(theta, **extra):
    return {"D": L2_LAW, "theta": theta, "pair": [1, 2], "regret": REGRET, **extra}


@pytest.fixture(scope="module")
def numeric_l2():
    """The real counterexamples of the numeric route (quick profile, seed 0), as stored."""
    return {loss: _stored(dcg.dcg_consistency(loss, "L2", CTX).counterexample)
            for loss in ("softmax", "sparsemax", "entmax")}


# -- CON-2: the real ones re-check -------------------------------------------------------
def test_con2_accepts_the_real_counterexamples(numeric_l2):
    for loss in ("softmax", "sparsemax", "entmax"):
        ok, msg = con2(f"{loss}/L2", numeric_l2[loss])
        assert ok, msg
        d = S.dcg_consistency(loss, "L2")
        ok, msg = con2(f"{loss}/L2", d.counterexample)
        assert d.decision == "fails" and ok, msg
    ok, msg = con2("softmax/L2", _l2([-30.0, math.log(0.4), math.log(0.6)]))
    assert ok, msg


# -- CON-2: made under a typo'd constant ---------------------------------------------------
def test_con2_rejects_a_counterexample_made_with_other_gains():
    """Made by the real check with linear label gains r (or one gain level off by 1/2) where
    the row says 2^r − 1: the scores are Bayes-optimal for the wrong target."""
    for entry in (pc.L1_LINEAR, pc.L1_OFF_BY_HALF):
        with replacing((lab, "LABEL_MAPS", {**lab.LABEL_MAPS, "L1": entry}))():
            ev = dcg.dcg_consistency("sparsemax", "L1", CTX)
        assert ev.outcome == "fails"
        ok, msg = con2("sparsemax/L1", ev.counterexample)
        assert not ok and "not Bayes-optimal" in msg, msg


def test_con2_rejects_a_counterexample_of_another_map(numeric_l2):
    """The L2 counterexamples belong to the L2 rows: under the L1 row's constants (the
    summed map) their scores are not Bayes-optimal."""
    for loss in ("softmax", "sparsemax", "entmax"):
        ok, _ = con2(f"{loss}/L1", numeric_l2[loss])
        assert not ok
    ok, _ = con2("sparsemax/L1", _l2([0.0, 0.4, 0.6]))
    assert not ok


def test_con2_rejects_an_alpha_off_the_grid():
    a = 1.7  # a genuine L2 counterexample at α = 1.7, which the row's grid does not hold
    cx = _l2([x ** (a - 1) / (a - 1) for x in (0.0, 0.4, 0.6)], alpha=a)
    ok, msg = con2("entmax/L2", cx)
    assert not ok and "grid" in msg, msg
    ok, msg = con2("entmax/L2", cx, {**ROW["CON-2[entmax/L2]"], "alphas": [1.5, 1.7]})
    assert ok, msg


def test_con2_rejects_a_multihot_counterexample_made_with_another_k_or_label():
    with replacing((lab, "LABEL_MAPS", {**lab.LABEL_MAPS, "multihot": pc.MULTIHOT_COMPLEMENT}))():
        ev = dcg.dcg_consistency("rankmax", "multihot", CTX)
    assert ev.outcome == "fails"
    ok, _ = con2("rankmax/multihot", ev.counterexample)
    assert not ok
    law = [{"p": 0.5, "r": [1, 1, 0, 0]}, {"p": 0.5, "r": [1, 0, 1, 0]}]
    cx = {"D": law, "theta": [1.0, 0.5, 0.5, 0.0], "k": 3, "pair": [1, 3], "regret": 0.1}
    ok, msg = con2("rankmax/multihot", cx)
    assert not ok and "stored k = 3" in msg, msg


def test_constants_of_another_row_do_not_recheck(numeric_l2):
    """Which claim a counterexample belongs to is the row's: constants of another reading fail."""
    ok, msg = recheck_one("CON-2", "sparsemax/L2", numeric_l2["sparsemax"], ROW["CON-2[entmax/L2]"], "dcg-enumeration")
    assert not ok and "reading" in msg, msg
    ok, msg = recheck_one("CON-1", "sparsemax", _tie(), ROW["CON-1[softmax]"], "topk-certificate")
    assert not ok and "reading" in msg, msg


def test_con2_rejects_other_gains_in_the_constants(numeric_l2):
    """The gains come from the constants: under G(r) = 3^r − 1 the stored law's E[G], its
    regret and possibly its order change, and the stored figures no longer match."""
    ok, _ = con2("sparsemax/L2", _l2([0.0, 0.4, 0.6]), {**ROW["CON-2[sparsemax/L2]"], "gain_base": 3})
    assert not ok


# -- CON-2: a tampered stored figure ---------------------------------------------------------
@pytest.mark.parametrize("field,value", [("regret", lambda v: v * 1.1), ("regret", lambda v: 0.5),
                                         ("pair", lambda v: v[::-1]),
                                         ("theta_solver", lambda v: [x + 0.05 * i for i, x in enumerate(v)])])
def test_con2_rejects_a_tampered_figure(numeric_l2, field, value):
    cx = json.loads(json.dumps(numeric_l2["sparsemax"]))
    cx[field] = value(cx[field])
    ok, msg = con2("sparsemax/L2", cx)
    assert not ok, msg


def test_con2_rejects_a_theta_that_is_not_bayes_optimal():
    ok, _ = con2("sparsemax/L2", _l2([0.0, 0.6, 0.4]))
    assert not ok
    ok, _ = con2("softmax/L2", _l2([-30.0, math.log(0.45), math.log(0.55)]))
    assert not ok


def test_con2_rejects_bayes_optimal_scores_whose_ranking_is_optimal():
    # L1 on the same law: q ∝ E[G] = (0, 6/5, 3/5), Bayes scores (sparsemax) q = (0, 2/3, 1/3) sort correctly
    ok, msg = con2("sparsemax/L1", _l2([0.0, 2 / 3, 1 / 3]))
    assert not ok and "not a counterexample" in msg, msg
    # L2 on a law where E[G/ΣG] and E[G] agree in order
    law = [{"p": 0.5, "r": [1, 0, 0]}, {"p": 0.5, "r": [1, 1, 0]}]
    ok, _ = con2("sparsemax/L2", {"D": law, "theta": [0.75, 0.25, 0.0], "pair": [0, 1], "regret": 0.1})
    assert not ok
    # multihot: Bayes scores are E[r]; a tie among the zeros costs nothing (zero gains)
    law = [{"p": 0.5, "r": [1, 0, 0, 0]}, {"p": 0.5, "r": [0, 1, 0, 0]}]
    ok, _ = con2("rankmax/multihot", {"D": law, "theta": [0.5, 0.5, 0.0, 0.0], "k": 1, "pair": [0, 2], "regret": 0.1})
    assert not ok


def test_con2_rejects_malformed():
    ok, msg = con2("sparsemax/L2", {"D": L2_LAW})
    assert not ok and "malformed" in msg
    ok, _ = con2("sparsemax/L2", _l2([0.0, 0.4]))
    assert not ok
    cx = _l2([0.0, 0.4, 0.6])
    del cx["regret"]
    ok, _ = con2("sparsemax/L2", cx)
    assert not ok


# -- CON-1 ---------------------------------------------------------------------------------------
EPS = 1e-5


def _tie(eps=EPS, **extra):
    """sparsemax, η = (1/2 + ε, 1/2 − ε, 0): θ ties items 1 and 2 (clause A at item 0 for
    k = 1: not top-1 preserving); its risk exceeds inf R by ε²."""
    return {"eta": [0.5 + eps, 0.5 - eps, 0.0], "k": 1, "theta": [0.5, 0.5, 0.0], "clause": "A", "i": 0,
            "gap": eps ** 2, **extra}


def _entmax_tie(a, eps=EPS):
    """entmax at α: θ = ∇Ω(½, ½, 0) ties items 1 and 2; the excess is Ω(η) − Ω(½, ½, 0)."""
    omega = lambda p: (sum(x ** a for x in p) - 1) / (a * (a - 1))  # noqa: E731
    eta = [0.5 + eps, 0.5 - eps, 0.0]
    theta = [0.5 ** (a - 1) / (a - 1)] * 2 + [0.0]
    return {"eta": eta, "k": 1, "theta": theta, "clause": "A", "i": 0, "gap": omega(eta) - omega([0.5, 0.5, 0.0]),
            "alpha": a}


def test_con1_accepts_a_non_preserving_theta_at_the_infimum():
    ok, msg = con1("sparsemax", _tie())
    assert ok, msg
    ok, msg = con1("entmax", _entmax_tie(1.5))
    assert ok, msg


def test_con1_rejects_a_counterexample_made_under_a_typod_constant():
    # a looser tolerance (1e-3 where the re-check allows 1e-7): R(θ) − inf R = 1e-4
    ok, msg = con1("sparsemax", _tie(eps=1e-2))
    assert not ok and "R(theta) − inf R = 0.0001 >" in msg, msg
    # an α the row's grid does not hold
    ok, msg = con1("entmax", _entmax_tie(1.55))
    assert not ok and "grid" in msg, msg
    # rankmax: a stored label size the law does not have
    cx = {"eta": [1.0, 0.5 + EPS, 0.5 - EPS, 0.0], "k": 2, "theta": [1.5, 0.5, 0.5, 0.0], "clause": "A", "i": 1,
          "gap": EPS ** 2, "label_k": 3}
    ok, msg = con1("rankmax", cx)
    assert not ok and "label_k" in msg, msg
    cx["label_k"] = 2
    ok, msg = con1("rankmax", cx)
    assert ok, msg


@pytest.mark.parametrize("field,value", [("gap", 0.5), ("gap", 1e-3), ("clause", "B"), ("i", 1)])
def test_con1_rejects_a_tampered_figure(field, value):
    ok, msg = con1("sparsemax", _tie(**{field: value}))
    assert not ok, msg


def test_con1_rejects_a_top_k_preserving_theta():
    eta = [0.5, 1 / 3, 1 / 6]
    for k in (1, 2):
        ok, msg = con1("sparsemax", {"eta": eta, "k": k, "theta": eta})  # the Bayes scores
        assert not ok and "preserving" in msg
    ok, _ = con1("softmax", {"eta": eta, "k": 1, "theta": [math.log(x) for x in eta]})
    assert not ok


def test_con1_rejects_a_non_preserving_theta_above_the_infimum():
    eta = [0.5, 0.3, 0.2]
    for reading, extra in (("sparsemax", {}), ("softmax", {}), ("entmax", {"alpha": 1.5})):
        ok, msg = con1(reading, {"eta": eta, "k": 1, "theta": [0.0, 0.0, 0.0], "clause": "A", "i": 0, "gap": 0.0,
                                 **extra})
        assert not ok and "R(theta)" in msg, msg
    # rankmax, k-subset marginals in C_2: a tie between the top item and the third costs the gap
    ok, msg = con1("rankmax", {"eta": [1.0, 0.75, 0.25, 0.0], "k": 1, "theta": [0.5, 0.75, 0.5, 0.0], "clause": "A",
                               "i": 0, "gap": 0.0, "label_k": 2})
    assert not ok, msg


def test_con1_rejects_eta_outside_the_domain():
    ok, msg = con1("sparsemax", {"eta": [0.6, 0.6, 0.0], "k": 1, "theta": [0.0, 0.0, 0.0]})
    assert not ok and "domain" in msg
