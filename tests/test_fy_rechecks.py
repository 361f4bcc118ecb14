"""The FY re-checkers (reports/rechecks/fy.py) accept genuine counterexamples and reject
stored non-counterexamples of every shape the FY checks can produce; FY-3 and FY-4 re-check
against the row's constants (reports/fy/claims.py), so a counterexample made under a typo'd
constant of the suite, or a tampered stored figure, does not re-check."""
import numpy as np
import pytest
import sympy as sp

from reports.fy.claims import FY3_CONSTANTS, FY4_CONSTANTS
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
def _c3(loss):
    return FY3_CONSTANTS[loss]


@pytest.mark.parametrize("loss,mu,params", [("sparsemax", 1.0, {}), ("entmax", 2.0, {"alpha": 1.5}),
                                            ("rankmax", 1.0, {"k": 2})])
def test_fy3_accepts_wrong_sides_and_rejects_right_ones(loss, mu, params):
    k = params.get("k", 1)
    y = [1.0] * k + [0.0] * (3 - k) if loss == "rankmax" else [1.0, 0.0, 0.0]

    def theta(gap):
        return [gap] * k + [0.0] * (3 - k) if loss == "rankmax" else [gap, 0.0, -0.5]

    above, below = theta(mu + 1e-3), theta(mu - 1e-3)
    c = _c3(loss)
    assert not recheck_one("FY-3", loss, {"theta": above, "y": y, **params, "side": "plus"}, c)[0]  # ŷ = y there
    assert not recheck_one("FY-3", loss, {"theta": below, "y": y, **params, "side": "minus"}, c)[0]  # ŷ ≠ y there
    # the claim's own sides hold at these points: the side's gap condition fails
    assert not recheck_one("FY-3", loss, {"theta": below, "y": y, **params, "side": "plus"}, c)[0]
    assert not recheck_one("FY-3", loss, {"theta": above, "y": y, **params, "side": "minus"}, c)[0]


@pytest.mark.parametrize("loss,params", [("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("rankmax", {"k": 2})])
def test_fy3_accepts_a_genuine_counterexample_of_a_wrong_stated_margin(loss, params):
    """Were the row's margin wrong -- say stated 1.01 (entmax: 1.01/(α−1)) -- a score vector
    between the true and the stated margin is a counterexample: minus, gap < the stated margin
    and ŷ = y; with a stated margin 0.99, plus, gap ≥ it and ŷ ≠ y."""
    k = params.get("k", 1)
    mu = 2.0 if loss == "entmax" else 1.0
    y = [1.0] * k + [0.0] * (3 - k)
    key = "margin_times_alpha_minus_1" if loss == "entmax" else "margin"
    for factor, side, gap in ((1.01, "minus", 1.005), (0.99, "plus", 0.995)):
        theta = [gap * mu] * k + [0.0] * (3 - k)
        ok, msg = recheck_one("FY-3", loss, {"theta": theta, "y": y, **params, "side": side}, {key: factor})
        assert ok, msg


def test_fy3_rejects_a_counterexample_made_under_a_typod_margin():
    """Issue 20's typo 1: the suite's sparsemax margin typed 1.01.  Its check reports ŷ = y at
    gap 1.005 (side minus): against the row's margin 1 that gap is above the margin, where
    ŷ = y is the claim, so it does not re-check (the old re-checker tested ŷ = y only)."""
    cx = {"theta": [1.005, 0.0, -0.5], "y": [1.0, 0.0, 0.0], "side": "minus", "eps": 0.005, "loss": 0.0}
    ok, msg = recheck_one("FY-3", "sparsemax", cx, _c3("sparsemax"))
    assert not ok and "≥ the row's margin 1" in msg, msg
    assert recheck_one("FY-3", "sparsemax", cx, {"margin": 1.01})[0]  # what a row stating 1.01 would accept
    # entmax α = 1.5: a margin typed 1.01/(α−1) = 2.02, a gap 2.01
    cx = {"theta": [2.01, 0.0], "y": [1.0, 0.0], "alpha": 1.5, "side": "minus"}
    assert not recheck_one("FY-3", "entmax", cx, _c3("entmax"))[0]
    # and a plus made under a margin typed 0.99: gap 0.995 is below the row's margin
    cx = {"theta": [0.995, 0.0, -0.5], "y": [1.0, 0.0, 0.0], "side": "plus"}
    assert not recheck_one("FY-3", "sparsemax", cx, _c3("sparsemax"))[0]


def test_fy3_needs_the_rows_margin():
    cx = {"theta": [0.5, 0.0], "y": [1.0, 0.0], "side": "plus"}
    ok, msg = recheck_one("FY-3", "sparsemax", cx, {})
    assert not ok and "malformed" in msg


def test_fy3_symbolic_witnesses_of_wrong_stated_margins(monkeypatch):
    """The derivation's witness under a mistyped stated margin (proofs.fy.margins.STATED) re-checks
    against a row stating that margin, and not against the row's true one."""
    import proofs.fy.margins as M
    from proofs.fy.api import margin

    for loss, stated, key in (("sparsemax", sp.Rational(101, 100), "margin"),
                              ("entmax", 1 / (M.ALPHA - 1) + sp.Rational(1, 10), None),
                              ("rankmax", sp.Rational(1, 2), "margin")):
        monkeypatch.setattr(M, "STATED", {**M.STATED, loss: stated})
        d = margin(loss)
        assert d.decision == "fails"
        cx = d.counterexample
        assert not recheck_one("FY-3", loss, cx, _c3(loss))[0]
        row = {key: float(stated)} if key else {"margin_times_alpha_minus_1": float(stated.subs(M.ALPHA, 1.5)) / 2}
        ok, msg = recheck_one("FY-3", loss, cx, row)
        assert ok, msg


def test_fy3_softmax_rejects_a_finite_theta():
    cx = {"theta": [30.0, 0.0, -3.0], "y": [1.0, 0.0, 0.0], "side": "softmax"}
    ok, _ = recheck_one("FY-3", "softmax", cx, _c3("softmax"))
    assert not ok
    ok, _ = recheck_one("FY-3", "softmax", {**cx, "theta": [800.0, 0.0, -3.0]}, _c3("softmax"))  # e^{-800} underflows
    assert ok


def test_fy3_rejects_the_claims_own_side():
    ok, msg = recheck_one("FY-3", "sparsemax", {"theta": [0.999, 0.0], "y": [1.0, 0.0], "side": "minus"},
                          _c3("sparsemax"))
    assert not ok, msg  # ŷ ≠ y below the true margin: no counterexample


# -- FY-4 -------------------------------------------------------------------------------
def _c4(reading):
    return FY4_CONSTANTS[reading]


def test_fy4_accepts_the_gt2_counterexamples():
    from proofs.fy.api import smoothness

    for cx in (smoothness("entmax", "gt2").counterexample,
               {"alpha": 2.5, "theta": [0.0, 0.0, 0.0], "lambda_max": 3 ** 0.5},
               {"alpha": 2.5, "theta": [0.0, 0.0], "lambda_max": 2 ** 0.5}):  # two points: 2^{α−2} > 1 too
        ok, msg = recheck_one("FY-4", "entmax[alpha>2]", cx, _c4("entmax[alpha>2]"))
        assert ok, msg


def test_fy4_the_real_counterexamples_recheck_from_the_stored_row():
    """FY-4[entmax[alpha>2]] (refuted): both checks' counterexamples, as results.json stores
    them, re-check against the row's stored constants."""
    import json

    from audit import RunContext
    from reports.fy.claims import claims
    from reports.runner import run_claim

    claim = next(c for c in claims() if c.key == "FY-4[entmax[alpha>2]]")
    row, crashed = run_claim(claim, RunContext(profile="quick"), raise_errors=False)
    row = json.loads(json.dumps(row))
    assert not crashed and row["verdict"] == "refuted" and row["constants"] == {"lipschitz_upper": 1}
    cxs = [e["counterexample"] for e in row["evidence"] if e.get("counterexample")]
    assert len(cxs) == 2
    for cx in cxs:
        ok, msg = recheck_one("FY-4", row["reading"], cx, row["constants"])
        assert ok, msg


def test_fy4_rejects_a_tampered_lambda_max():
    """Issue 20: a stored λ_max tampered 3 → 0.9 used to re-check (it was printed, never compared)."""
    from proofs.fy.api import smoothness

    cx = dict(smoothness("entmax", "gt2").counterexample)
    assert recheck_one("FY-4", "entmax[alpha>2]", cx, _c4("entmax[alpha>2]"))[0]
    for tampered in (0.9, 3.01, 30.0):
        ok, msg = recheck_one("FY-4", "entmax[alpha>2]", {**cx, "lambda_max": tampered}, _c4("entmax[alpha>2]"))
        assert not ok and "NOT the recomputed value" in msg, msg
    ok, msg = recheck_one("FY-4", "entmax[alpha>2]", {k: v for k, v in cx.items() if k != "lambda_max"},
                          _c4("entmax[alpha>2]"))
    assert not ok and "malformed" in msg


def test_fy4_rejects_a_counterexample_made_under_a_typod_constant():
    """A counterexample the numeric check makes when the suite's stated constant is 1 % low
    (softmax 0.495, sparsemax 0.99, entmax 0.99·2^{α−2}): λ_max at the supremum, above the
    typo, within the row's constant."""
    cases = [("softmax", {"theta": [0.0, 0.0], "lambda_max": 0.5, "claimed": 0.495}),
             ("sparsemax", {"theta": [0.0, 0.0, -3.0], "lambda_max": 1.0, "claimed": 0.99}),
             ("rankmax", {"theta": [0.0, 0.0, 0.0, 0.0], "k": 2, "lambda_max": 1.0, "claimed": 0.99}),
             ("entmax", {"theta": [0.0, 0.0], "alpha": 1.5, "lambda_max": 2 ** -0.5, "claimed": 0.99 * 2 ** -0.5})]
    for reading, cx in cases:
        ok, msg = recheck_one("FY-4", reading, cx, _c4(reading))
        assert not ok, msg
        typo = ({"lipschitz_base": 2, "lipschitz_alpha_offset": -2 + float(np.log2(0.99))} if reading == "entmax"
                else {"lipschitz": cx["claimed"]})
        ok, msg = recheck_one("FY-4", reading, cx, typo)  # a row stating the typo
        assert ok, msg


def test_fy4_uses_the_rows_constant_not_a_default():
    cx = {"theta": [0.0, 0.0, 0.0], "alpha": 2.5, "lambda_max": 3 ** 0.5}
    assert not recheck_one("FY-4", "entmax[alpha>2]", cx, {"lipschitz_upper": 2})[0]  # √3 < 2
    ok, msg = recheck_one("FY-4", "entmax[alpha>2]", cx, {})
    assert not ok and "malformed" in msg
    # the entmax form: base ** (α + offset); a row stating 3^{α−2} is not exceeded at the uniform n = 3
    assert not recheck_one("FY-4", "entmax", {"theta": [0.0, 0.0, 0.0], "alpha": 2.5, "lambda_max": 3 ** 0.5},
                           {"lipschitz_base": 3, "lipschitz_alpha_offset": -2})[0]


@pytest.mark.parametrize("reading,cx", [
    ("softmax", {"theta": [0.0, 0.0], "lambda_max": 0.5}),  # the supremum itself, not above it
    ("sparsemax", {"theta": [0.0, 0.0, 0.0], "lambda_max": 1.0}),
    ("rankmax", {"theta": [0.0, 0.0, 0.0, 0.0], "k": 2, "lambda_max": 1.0}),
    ("entmax", {"theta": [0.0, 0.0], "alpha": 1.5, "lambda_max": 2 ** -0.5}),
    ("entmax[alpha>2]", {"theta": [0.0, 0.0, 0.0], "alpha": 1.5, "lambda_max": 3 ** -0.5}),  # λ < 1: no violation
    ("entmax[alpha>2]", {"theta": [5.0, 0.0, 0.0], "alpha": 3.0, "lambda_max": 0.0}),  # support {1}: J = 0
])
def test_fy4_rejects_a_lambda_within_the_stated_constant(reading, cx):
    ok, msg = recheck_one("FY-4", reading, cx, _c4(reading))
    assert not ok, msg


def test_fy4_rejects_a_symbolic_witness_against_a_wrong_claim():
    """A witness built against a wrong claimed constant (¼ for softmax) does not refute the
    row's stated ½: the re-checker uses the row's constant, not the stored one."""
    ok, _ = recheck_one("FY-4", "softmax", {"theta": [0.0, 0.0], "lambda_max": 0.5, "claimed": 0.25}, _c4("softmax"))
    assert not ok


# -- the scope of FY-4[entmax]'s symbolic supremum as a predicate --------------------------
def test_fy4_entmax_covers_two_point_and_uniform_supports_only():
    from reports.fy.planted import entmax_fy4_covers as covers

    assert covers("jacobian-eigen-search", {"theta": [0.3, -0.2], "alpha": 1.5})  # two points
    assert covers("jacobian-eigen-search", {"theta": [0.0, 0.0, 0.0, 0.0], "alpha": 1.25})  # uniform, m = 4
    assert covers("jacobian-eigen-search", {"theta": [0.4, 0.1, -30.0], "alpha": 1.5})  # support of size 2 in n = 3
    assert not covers("jacobian-eigen-search", {"theta": [0.4, 0.1, 0.0], "alpha": 1.5})  # three unequal points
    assert not covers("jacobian-eigen-search", {"theta": [0.0, 0.0, 0.0], "alpha": 3.0})  # α > 2: not derived
    assert not covers("jacobian-eigen-search", {"lambda_max": 3})  # no θ


def test_fy_rechecks_reject_malformed():
    for cid in ("FY-1", "FY-2", "FY-3", "FY-4"):
        ok, msg = recheck_one(cid, "sparsemax", {"figures": {}})
        assert not ok and "malformed" in msg
