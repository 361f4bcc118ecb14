"""The CON re-checkers (reports/rechecks/con.py) accept stored counterexamples and reject
stored non-counterexamples of the same shape."""
import math

from reports.recheck import recheck_one

L2_LAW = [{"p": 0.4, "r": [0, 2, 0]}, {"p": 0.6, "r": [0, 0, 1]}]


def test_con2_accepts_the_l2_counterexample_for_each_loss():
    for reading, theta, extra in (("sparsemax/L2", [0.0, 0.4, 0.6], {}),
                                  ("softmax/L2", [-30.0, math.log(0.4), math.log(0.6)], {}),
                                  ("entmax/L2", [0.0, 0.4 ** 0.5 / 0.5, 0.6 ** 0.5 / 0.5], {"alpha": 1.5})):
        ok, msg = recheck_one("CON-2", reading, {"D": L2_LAW, "theta": theta, **extra})
        assert ok, msg


def test_con2_rejects_a_theta_that_is_not_bayes_optimal():
    ok, _ = recheck_one("CON-2", "sparsemax/L2", {"D": L2_LAW, "theta": [0.0, 0.6, 0.4]})
    assert not ok
    ok, _ = recheck_one("CON-2", "softmax/L2", {"D": L2_LAW, "theta": [-30.0, math.log(0.45), math.log(0.55)]})
    assert not ok


def test_con2_rejects_bayes_optimal_scores_whose_ranking_is_optimal():
    # L1 on the same law: q ∝ E[G] = (0, 6/5, 3/5), Bayes scores (sparsemax) q = (0, 2/3, 1/3) sort correctly
    ok, _ = recheck_one("CON-2", "sparsemax/L1", {"D": L2_LAW, "theta": [0.0, 2 / 3, 1 / 3]})
    assert not ok
    # L2 on a law where E[G/ΣG] and E[G] agree in order
    law = [{"p": 0.5, "r": [1, 0, 0]}, {"p": 0.5, "r": [1, 1, 0]}]
    ok, _ = recheck_one("CON-2", "sparsemax/L2", {"D": law, "theta": [0.75, 0.25, 0.0]})
    assert not ok
    # multihot: Bayes scores are E[r]; a tie among the zeros costs nothing (zero gains)
    law = [{"p": 0.5, "r": [1, 0, 0, 0]}, {"p": 0.5, "r": [0, 1, 0, 0]}]
    ok, _ = recheck_one("CON-2", "rankmax/multihot", {"D": law, "theta": [0.5, 0.5, 0.0, 0.0], "k": 1})
    assert not ok


def test_con2_rejects_malformed():
    ok, msg = recheck_one("CON-2", "sparsemax/L2", {"D": L2_LAW})
    assert not ok and "malformed" in msg
    ok, _ = recheck_one("CON-2", "sparsemax/L2", {"D": L2_LAW, "theta": [0.0, 0.4]})
    assert not ok


def test_con1_accepts_a_non_preserving_theta_at_the_infimum():
    # sparsemax, η = (1/2 + ε, 1/2 − ε, 0): θ ties items 1 and 2 (not top-1 preserving) and its risk
    # exceeds inf R by the half-space gap (2ε)²/4 = 1e-10, inside the re-checker's 1e-7
    eps = 1e-5
    ok, msg = recheck_one("CON-1", "sparsemax", {"eta": [0.5 + eps, 0.5 - eps, 0.0], "k": 1, "theta": [0.5, 0.5, 0.0]})
    assert ok, msg


def test_con1_rejects_a_top_k_preserving_theta():
    eta = [0.5, 1 / 3, 1 / 6]
    for k in (1, 2):
        ok, msg = recheck_one("CON-1", "sparsemax", {"eta": eta, "k": k, "theta": eta})  # the Bayes scores
        assert not ok and "preserving" in msg
    ok, _ = recheck_one("CON-1", "softmax", {"eta": eta, "k": 1, "theta": [math.log(x) for x in eta]})
    assert not ok


def test_con1_rejects_a_non_preserving_theta_above_the_infimum():
    eta = [0.5, 0.3, 0.2]
    for reading, extra in (("sparsemax", {}), ("softmax", {}), ("entmax", {"alpha": 1.5})):
        ok, msg = recheck_one("CON-1", reading, {"eta": eta, "k": 1, "theta": [0.0, 0.0, 0.0], **extra})
        assert not ok and "R(theta)" in msg, msg
    # rankmax, k-subset marginals in C_2: a tie between the top item and the third costs the gap
    ok, msg = recheck_one("CON-1", "rankmax", {"eta": [1.0, 0.75, 0.25, 0.0], "k": 1, "theta": [0.5, 0.75, 0.5, 0.0],
                                                "label_k": 2})
    assert not ok, msg


def test_con1_rejects_eta_outside_the_domain():
    ok, msg = recheck_one("CON-1", "sparsemax", {"eta": [0.6, 0.6, 0.0], "k": 1, "theta": [0.0, 0.0, 0.0]})
    assert not ok and "domain" in msg
