"""The FY re-checkers (reports/rechecks/fy.py) accept genuine counterexamples and reject
stored non-counterexamples of every shape the FY checks can produce."""
import numpy as np
import pytest
import sympy as sp

from reports.recheck import recheck_one
from reports.rechecks import fy as R

LOSSES = ("softmax", "sparsemax", "entmax", "rankmax")
THETA = [0.3, -1.0, 0.2]


def _params(loss):
    return {"alpha": 1.5} if loss == "entmax" else {"k": 2} if loss == "rankmax" else {}


def _label(loss):
    return [1.0, 0.5, 0.5] if loss == "rankmax" else [0.2, 0.3, 0.5]


@pytest.fixture
def tempered_maps(monkeypatch):
    """The re-checker's own maps at temperature 1.01: a stated map that is not the argmax,
    to show that a genuine FY-1 / FY-2 violation is accepted."""
    orig = R._predict
    monkeypatch.setattr(R, "_predict", lambda loss, z, alpha, k: orig(loss, np.asarray(z) / 1.01, alpha, k))


# -- FY-1 -------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
def test_fy1_rejects_points_that_do_not_beat_the_argmax(loss):
    z = np.array(THETA) - max(THETA)
    p = R._predict(loss, z, *(_params(loss).get(x) for x in ("alpha", "k")))
    for point in (p, 0.5 * p + 0.5 * np.array(_label(loss))):  # the argmax itself, and a worse point
        ok, msg = recheck_one("FY-1", loss, {"theta": THETA, **_params(loss), "point": point.tolist(), "gain": 1.0})
        assert not ok, msg


@pytest.mark.parametrize("loss", ["sparsemax", "entmax", "rankmax"])  # softmax's stated Ω* is logsumexp itself
def test_fy1_accepts_the_argmax_against_a_wrong_stated_map(loss, tempered_maps):
    from reports.rechecks.maps import np_predict as exact  # the true argmax (the fixture tempered R._predict)

    theta = [0.3, -0.1, 0.2]
    alpha, k = (_params(loss).get(x) for x in ("alpha", "k"))
    z = np.array(theta) - max(theta)
    p = exact(loss, z, alpha=alpha, k=k)
    p = p / p.sum() if loss == "entmax" else p
    ok, msg = recheck_one("FY-1", loss, {"theta": theta, **_params(loss), "point": p.tolist(), "gain": 1.0})
    assert ok, msg


# -- FY-2 -------------------------------------------------------------------------------
EXTRA = {"nonnegative": {}, "positive": {}, "strong_convexity": {}, "convexity": {"direction": [1.0, -1.0, 0.5],
         "t": [-1.0, 1.5]}, "gradient": {"h": 1e-6}, "shift": {"c": 1e3}}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("prop", list(EXTRA))
def test_fy2_rejects_a_point_where_the_property_holds(loss, prop):
    cx = {"property": prop, "theta": THETA, "y": _label(loss), **_params(loss), **EXTRA[prop]}
    ok, msg = recheck_one("FY-2", loss, cx)
    assert not ok, msg


def test_fy2_positive_rejects_the_prediction_itself():
    # ŷ = y: L = 0 is no violation of "L > 0 off the prediction"
    z = np.array(THETA) - max(THETA)
    p = R._predict("sparsemax", z, None, None)
    ok, _ = recheck_one("FY-2", "sparsemax", {"property": "positive", "theta": THETA, "y": p.tolist()})
    assert not ok


@pytest.mark.parametrize("loss", ["softmax", "entmax"])
def test_fy2_accepts_a_gradient_violation_of_a_wrong_stated_map(loss, tempered_maps):
    cx = {"property": "gradient", "theta": [0.3, -0.1, 0.2], "y": _label(loss), **_params(loss), "h": 1e-6}
    ok, msg = recheck_one("FY-2", loss, cx)
    assert ok, msg


def test_fy2_unknown_property_does_not_recheck():
    ok, msg = recheck_one("FY-2", "softmax", {"property": "smoothness", "theta": THETA, "y": _label("softmax")})
    assert not ok and "malformed" in msg


# -- FY-3 -------------------------------------------------------------------------------
@pytest.mark.parametrize("loss,mu,params", [("sparsemax", 1.0, {}), ("entmax", 2.0, {"alpha": 1.5}),
                                            ("rankmax", 1.0, {"k": 2})])
def test_fy3_accepts_wrong_sides_and_rejects_right_ones(loss, mu, params):
    k = params.get("k", 1)
    y = [1.0] * k + [0.0] * (3 - k) if loss == "rankmax" else [1.0, 0.0, 0.0]

    def theta(gap):
        return [gap] * k + [0.0] * (3 - k) if loss == "rankmax" else [gap, 0.0, -0.5]

    above, below = theta(mu + 1e-3), theta(mu - 1e-3)
    assert not recheck_one("FY-3", loss, {"theta": above, "y": y, **params, "side": "plus"})[0]  # ŷ = y there
    assert not recheck_one("FY-3", loss, {"theta": below, "y": y, **params, "side": "minus"})[0]  # ŷ ≠ y there
    assert recheck_one("FY-3", loss, {"theta": below, "y": y, **params, "side": "plus"})[0]  # claims ŷ = y: false
    assert recheck_one("FY-3", loss, {"theta": above, "y": y, **params, "side": "minus"})[0]


def test_fy3_accepts_the_symbolic_witnesses_of_wrong_margins():
    from proofs.fy import margin

    for loss, claimed in (("sparsemax", sp.Rational(101, 100)), ("entmax", "1/(alpha-1)+1/10"),
                          ("rankmax", sp.Rational(1, 2))):
        d = margin(loss, claimed)
        assert d.decision == "fails"
        ok, msg = recheck_one("FY-3", loss, d.counterexample)
        assert ok, msg


def test_fy3_softmax_rejects_a_finite_theta():
    ok, _ = recheck_one("FY-3", "softmax", {"theta": [30.0, 0.0, -3.0], "y": [1.0, 0.0, 0.0], "side": "softmax"})
    assert not ok


# -- FY-4 -------------------------------------------------------------------------------
def test_fy4_accepts_the_gt2_counterexamples():
    from proofs.fy import smoothness

    for cx in (smoothness("entmax", "gt2").counterexample,
               {"alpha": 2.5, "theta": [0.0, 0.0, 0.0], "lambda_max": 3 ** 0.5},
               {"alpha": 2.5, "theta": [0.0, 0.0], "lambda_max": 2 ** 0.5}):  # two points: 2^{α−2} > 1 too
        ok, msg = recheck_one("FY-4", "entmax[alpha>2]", cx)
        assert ok, msg


@pytest.mark.parametrize("reading,cx", [
    ("softmax", {"theta": [0.0, 0.0], "lambda_max": 0.5}),  # the supremum itself, not above it
    ("sparsemax", {"theta": [0.0, 0.0, 0.0], "lambda_max": 1.0}),
    ("rankmax", {"theta": [0.0, 0.0, 0.0, 0.0], "k": 2, "lambda_max": 1.0}),
    ("entmax", {"theta": [0.0, 0.0], "alpha": 1.5, "lambda_max": 2 ** -0.5}),
    ("entmax[alpha>2]", {"theta": [0.0, 0.0, 0.0], "alpha": 1.5, "lambda_max": 3 ** -0.5}),  # λ < 1: no violation
    ("entmax[alpha>2]", {"theta": [5.0, 0.0, 0.0], "alpha": 3.0, "lambda_max": 0.0}),  # support {1}: J = 0
])
def test_fy4_rejects_a_lambda_within_the_stated_constant(reading, cx):
    ok, msg = recheck_one("FY-4", reading, cx)
    assert not ok, msg


def test_fy4_rejects_a_symbolic_witness_against_a_wrong_claim():
    """A witness built against a wrong claimed constant (¼ for softmax) does not refute the
    row's stated ½: the re-checker uses the row's constant, not the stored one."""
    ok, _ = recheck_one("FY-4", "softmax", {"theta": [0.0, 0.0], "lambda_max": 0.5, "claimed": 0.25})
    assert not ok


def test_fy_rechecks_reject_malformed():
    for cid in ("FY-1", "FY-2", "FY-3", "FY-4"):
        ok, msg = recheck_one(cid, "sparsemax", {"figures": {}})
        assert not ok and "malformed" in msg
