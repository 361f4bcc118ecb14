"""The outside re-checker of APX counterexamples (reports/rechecks/apx.py) can reject: every
shape a check can store is tried on a non-counterexample (it must be rejected), and on the
genuine counterexamples of the refuted rows (accepted).  The re-check a counterexample gets
and the values that define the claim (theta, y, q, c, the method, the tree) come from the
row's constants (results.json ``constants``), never from the counterexample: one made under
a typo'd constant, one with a tampered stored figure, and one stored under a row whose
constants name another re-check are each rejected."""
from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np
import pytest

from reports.rechecks import apx_estimators as E
from reports.rechecks.apx import recheck_apx

TH = [2.0, 1.0, 0.0, -1.0, -2.0, 0.5]
LOGZ = float(np.log(np.exp(TH).sum()))
UNIFORM_NEG = [0.0] + [0.2] * 5
UNIFORM = [1 / 6] * 6
BALANCED6 = "(((0,1),2),((3,4),5))"


@lru_cache(maxsize=None)
def _rows() -> dict:
    """Every APX row's constants as results.json stores them (reports/apx/claims.py)."""
    from reports.apx.claims import claims

    return {c.key: json.loads(json.dumps(dict(c.constants))) for c in claims()}


def _rc(cx: dict, key: str, check: str, **change) -> tuple[bool, str]:
    """Re-check ``cx`` as a counterexample of ``check`` of row ``key`` (its constants, with
    ``change``), as the runner and ``softmax-audit recheck`` do (reports/recheck.py)."""
    from reports.recheck import recheck_one

    return recheck_one(key.split("[")[0], key[key.index("[") + 1:-1], json.loads(json.dumps(cx)),
                       _rows()[key] | change, check)


def _ideal_q(theta, y):
    x = np.exp(np.asarray(theta))
    x[y] = 0.0
    return (x / x.sum()).tolist()


def _rising(c=LOGZ, quantity="variance", k=(1, 2)) -> dict:
    idx = 0 if quantity == "bias2" else 1
    a, b = (E.nce_moments(np.array(TH), 0, np.full(6, 1 / 6), kk, c)[idx] for kk in k)
    return {"shape": "sampling-increase", "method": "nce", "quantity": quantity, "count": "k", "from": k[0],
            "to": k[1], "value_from": a, "value_to": b, "theta": TH, "y": 0, "q": UNIFORM, "c": c}


def _real(key: str) -> dict:
    """The counterexample the registered check exact-decomposition stores for ``key`` (as
    results.json stores it), under whatever is patched at the time."""
    from audit import RunContext
    from numerics.apx import checks as N
    from reports.runner import _stored

    ev = N.decomposition("nce", key[key.index("[") + 1:-1], RunContext(alpha=0.001))
    assert ev.outcome == "fails"
    return _stored(ev.counterexample)


# ------------------------------------------------------------------------------ accepted
def test_genuine_counterexamples_are_accepted():
    assert _rc(_rising(), "APX-1[nce/c=logZ]", "exact-decomposition")[0]
    assert _rc(_rising(0.0, "bias2"), "APX-1[nce/c=0]", "exact-decomposition")[0]
    p = [0.5, 0.3, 0.2]  # Z = 1: c = 0 is then the right normalizer and the bias vanishes
    vanishing = {"shape": "nce-limit", "theta": np.log(p).tolist(), "y": 0, "c": 0.0, "limit_bias2": 0.0}
    assert _rc(vanishing, "APX-3[nce/c=0]", "closed-form-rate")[0]
    assert _rc(vanishing, "APX-3[nce/c=0]", "nce-limit")[0]


@pytest.mark.parametrize("key", ["APX-1[nce/c=logZ]", "APX-1[nce/c=0]"])
def test_the_real_counterexamples_recheck(key):
    ok, msg = _rc(_real(key), key, "exact-decomposition")
    assert ok, msg


# ------------------------------------------------------------------------------ (a) the row's constants decide
def test_a_counterexample_made_under_a_typod_normalizer_is_rejected(monkeypatch):
    """Our normalizer off by 0.1 (log Z + 0.1): the variance still rises from k = 1 to 2, but
    not at the row's c, so the stored rise is not a counterexample to the row."""
    from numerics.apx import exact as X
    from reports.apx import planted as W

    monkeypatch.setattr(X, "canonical_c", W.normalizer_numeric(0.1))
    cx = _real("APX-1[nce/c=logZ]")
    assert cx["c"] == pytest.approx(LOGZ + 0.1)
    ok, msg = _rc(cx, "APX-1[nce/c=logZ]", "exact-decomposition")
    assert not ok and "normalizer" in msg
    assert not _rc(_rising(LOGZ + 0.1), "APX-1[nce/c=logZ]", "exact-decomposition")[0]
    assert not _rc(_rising(0.0, "bias2"), "APX-1[nce/c=logZ]", "exact-decomposition")[0]   # c = 0 under logZ's row
    assert not _rc(_rising(), "APX-1[nce/c=logZ]", "exact-decomposition", c=0)[0]          # the row says c = 0
    near = {"shape": "nce-limit", "theta": TH, "y": 0, "c": LOGZ - 1e-6, "limit_bias2": 3.7e-13}
    ok, msg = _rc(near, "APX-3[nce/c=0]", "closed-form-rate")                               # c is not the row's 0
    assert not ok and "normalizer" in msg


@pytest.mark.filterwarnings("ignore:divide by zero")  # the ideal proposal puts 0 on y: NCE's log(k q_y) = -inf
def test_a_counterexample_made_under_another_proposal_is_rejected(monkeypatch):
    import torch

    from numerics.apx import exact as X

    other = np.array([1.0, 5, 3, 9, 2, 4]) / 24
    monkeypatch.setattr(X, "nce_noise", lambda theta: torch.tensor(other, dtype=torch.float64))
    cx = _real("APX-1[nce/c=0]")
    ok, msg = _rc(cx, "APX-1[nce/c=0]", "exact-decomposition")
    assert not ok and "proposal" in msg
    # a genuine rise at the stored q is still not one at the row's q
    a, b = (E.nce_moments(np.array(TH), 0, other, k, 0.0)[0] for k in (1, 2))
    assert b > a
    made = _rising(0.0, "bias2") | {"q": other.tolist(), "value_from": a, "value_to": b}
    assert not _rc(made, "APX-1[nce/c=0]", "exact-decomposition")[0]
    assert not _rc(_rising(), "APX-1[nce/c=logZ]", "exact-decomposition", q="ideal")[0]   # the row names another q


def test_a_counterexample_at_another_configuration_or_method_is_rejected():
    cx = _rising()
    assert not _rc(cx | {"theta": [2.0, 1.0, 0.0, -1.0, -2.0, 0.6]}, "APX-1[nce/c=logZ]", "exact-decomposition")[0]
    assert not _rc(cx | {"y": 1}, "APX-1[nce/c=logZ]", "exact-decomposition")[0]
    assert not _rc(cx | {"method": "ssm", "count": "m"}, "APX-1[nce/c=logZ]", "exact-decomposition")[0]
    det = {"shape": "deterministic", "method": "rg2", "theta": TH, "y": 0, "bias2": 0.0, "variance": 0.0}
    assert not _rc(det | {"method": "rgx"}, "APX-1[rg2]", "exact-decomposition")[0]


# ------------------------------------------------------------------------------ (b) tampered figures
@pytest.mark.parametrize("field,factor", [("value_to", 1.01), ("value_from", 0.99), ("value_to", 1 + 1e-6)])
def test_a_tampered_stored_figure_is_rejected(field, factor):
    cx = _real("APX-1[nce/c=logZ]")
    assert _rc(cx, "APX-1[nce/c=logZ]", "exact-decomposition")[0]
    ok, msg = _rc(cx | {field: cx[field] * factor}, "APX-1[nce/c=logZ]", "exact-decomposition")
    assert not ok and "stored" in msg


def test_tampered_limits_biases_and_gaps_are_rejected():
    p = [0.5, 0.3, 0.2]
    vanishing = {"shape": "nce-limit", "theta": np.log(p).tolist(), "y": 0, "c": 0.0, "limit_bias2": 0.0}
    ok, msg = _rc(vanishing | {"limit_bias2": 1e-3}, "APX-3[nce/c=0]", "closed-form-rate")
    assert not ok and "stored limit" in msg
    b2 = float(((E.hsm_h2_grad(np.array(TH), 0, E.parse_tree(BALANCED6)) - E.softmax_grad(np.array(TH), 0)) ** 2).sum())
    det = {"shape": "deterministic", "method": "hsm", "theta": TH, "y": 0, "bias2": b2, "variance": 0.0,
           "tree": BALANCED6}
    ok, msg = _rc(det, "APX-1[hsm/balanced-H2]", "exact-decomposition")
    assert not ok and "stored" not in msg                                 # a positive bias: no counterexample
    assert "stored bias^2" in _rc(det | {"bias2": 0.0}, "APX-1[hsm/balanced-H2]", "exact-decomposition")[1]
    assert "stored variance" in _rc(det | {"variance": 1e-33}, "APX-1[hsm/balanced-H2]", "exact-decomposition")[1]
    assert "tree" in _rc(det | {"tree": "(((0,1),2),(3,(4,5)))"}, "APX-1[hsm/balanced-H2]", "exact-decomposition")[1]


# ------------------------------------------------------------------------------ dispatch on the row's constants
def test_a_counterexample_stored_under_a_row_that_names_another_recheck_is_rejected():
    cx = _real("APX-1[nce/c=logZ]")
    ok, msg = _rc(cx, "APX-3[nce/c=logZ]", "closed-form-rate")         # that row's check names nce-limit
    assert not ok and "name the re-check" in msg
    # the counterexample's own shape never picks the re-check: without it, the row's re-check reads it
    bare = {k: v for k, v in cx.items() if k != "shape"}
    assert _rc(bare, "APX-1[nce/c=logZ]", "exact-decomposition")[0]
    assert not _rc(bare, "APX-3[nce/c=logZ]", "closed-form-rate")[0]
    vanishing = {"shape": "nce-limit", "theta": np.log([0.5, 0.3, 0.2]).tolist(), "y": 0, "c": 0.0,
                 "limit_bias2": 0.0}
    assert not _rc(vanishing, "APX-1[nce/c=0]", "exact-decomposition")[0]   # genuine as nce-limit, not here
    assert not _rc(cx, "APX-1[nce/c=logZ]", "decomposition")[0]              # the row's re-check of that check differs
    assert not _rc(cx, "APX-3[nce/c=logZ]", "mc-vs-exact")[0]                # a check the row names no re-check for
    assert not _rc(cx, "APX-1[nce/c=logZ]", "exact-decomposition", recheck={})[0]
    assert not recheck_apx(cx, "nce/c=logZ")[0]                               # no constants at all


# ------------------------------------------------------------------------------ rejected
def test_a_law_that_decomposes_is_rejected():
    cx = {"shape": "law-decomposition", "outcomes": [[1, 0], [0, 2], [-1, 1]], "weights": [0.2, 0.3, 0.5],
          "g": [0.5, 0.5]}
    assert not _rc(cx, "APX-1[ssm/uniform]", "decomposition")[0]


def test_a_decreasing_series_is_rejected():
    b1, b2 = (E.ssm_moments(np.array(TH), 0, np.array(UNIFORM_NEG), m)[0] for m in (1, 2))
    cx = {"shape": "sampling-increase", "method": "ssm", "quantity": "bias2", "count": "m", "from": 1, "to": 2,
          "value_from": b1, "value_to": b2, "theta": TH, "y": 0, "q": UNIFORM}
    assert b2 < b1 and not _rc(cx, "APX-1[ssm/uniform]", "exact-decomposition")[0]
    swapped = cx | {"value_from": b2, "value_to": b1, "from": 2, "to": 1}
    assert not _rc(swapped, "APX-1[ssm/uniform]", "exact-decomposition")[0]


def test_a_positive_deterministic_bias_and_a_point_mass_are_rejected():
    for key, extra in (("APX-1[rg2]", {}), ("APX-1[rgx]", {}), ("APX-1[hsm/balanced-H2]", {"tree": BALANCED6})):
        method = _rows()[key]["method"]
        cx = {"shape": "deterministic", "method": method, "theta": TH, "y": 0, "bias2": 0.0, "variance": 0.0} | extra
        assert not _rc(cx, key, "exact-decomposition")[0], key
        assert not _rc(cx, key, "deterministic-variance")[0], key
    law = {"shape": "point-mass", "method": "rg2", "theta": TH, "y": 0, "outcomes": [[0.0] * 6, [1.0] * 6],
           "weights": [0.5, 0.5]}
    assert not _rc(law, "APX-1[rg2]", "deterministic-variance")[0]


def test_ssm_iff_rejects_the_ideal_unbiased_and_the_non_ideal_biased():
    ideal = {"shape": "ssm-iff", "theta": TH, "y": 0, "q": _ideal_q(TH, 0), "m": 3}
    assert not _rc(ideal, "APX-2[ssm/ideal]", "exact-ideal-proposal")[0]
    uniform = {"shape": "ssm-iff", "theta": TH, "y": 0, "q": UNIFORM_NEG, "m": 2}
    assert not _rc(uniform, "APX-2[ssm/ideal]", "exact-ideal-proposal")[0]
    ok, msg = _rc(uniform, "APX-1[ssm/ideal]", "ideal-moments-in-m")        # not the row's (ideal) proposal
    assert not ok and "proposal" in msg


def test_nce_limit_rejects_the_right_and_the_wrong_normalizer():
    right = {"shape": "nce-limit", "theta": TH, "y": 0, "c": LOGZ, "limit_bias2": 0.0}
    assert not _rc(right, "APX-3[nce/c=logZ]", "closed-form-rate")[0]      # the bias does vanish
    off = right | {"c": LOGZ + 0.1, "limit_bias2": 0.0034}
    ok, msg = _rc(off, "APX-3[nce/c=logZ]", "closed-form-rate")
    assert not ok and "normalizer" in msg                                   # not the reading's c
    c0 = {"shape": "nce-limit", "theta": TH, "y": 0, "c": 0.0, "limit_bias2": 56.3}
    assert not _rc(c0, "APX-3[nce/c=0]", "closed-form-rate")[0]            # Z != 1: it does not vanish


def test_nce_population_rejects_log_p_and_a_theta_optimal_for_another_noise_weight():
    from scipy.optimize import minimize

    p, q = np.array([0.3, 0.7]), np.array([0.2, 0.8])
    cx = {"shape": "nce-population", "p": p.tolist(), "q": q.tolist(), "k": 4, "theta": np.log(p).tolist()}
    assert not _rc(cx, "APX-3[nce/population]", "population-stationarity")[0]
    assert not _rc(cx | {"theta": [0.18, 1.03]}, "APX-3[nce/population]", "population-cvxpy")[0]   # a worse theta
    off = np.log(4 * q)

    def J(t, w):
        return float(np.sum(p * np.logaddexp(0, -(t - off)) + w * 4 * q * np.logaddexp(0, t - off)))

    th = minimize(lambda t: J(t, 1.01), np.log(p), method="BFGS", options={"gtol": 1e-12}).x
    assert J(np.log(p), 1.01) - J(th, 1.01) > 1e-9                         # beats log p under 1.01 k q ...
    made = cx | {"theta": th.tolist(), "J_log_p_minus_J_theta": J(np.log(p), 1.01) - J(th, 1.01)}
    assert not _rc(made, "APX-3[nce/population]", "population-cvxpy")[0]  # ... not under the row's k q
    assert not _rc(made, "APX-3[nce/population]", "population-cvxpy", noise_weight="1.01 k q")[0]
    genuine = cx | {"theta": [math.log(0.3) + 0.0, math.log(0.7)]}           # log p itself: gap 0, rejected
    assert not _rc(genuine, "APX-3[nce/population]", "population-cvxpy")[0]


# ------------------------------------------------ APX-4/5/6: the row's constants decide
def _apx(key: str) -> dict:
    """The constants of an APX-4/5/6 row (reports/apx/claims.py), as results.json stores them."""
    import json

    from reports.apx.claims import claims

    return json.loads(json.dumps(next(dict(c.constants) for c in claims() if c.key == key)))


def _stored(cx: dict) -> dict:
    import json

    from audit.evidence import as_stored

    return json.loads(json.dumps(as_stored(cx)))


def _h1_counterexamples() -> dict:
    from audit import RunContext
    from numerics.apx import hsm as apx_hsm
    from proofs.apx import hsm as PH

    return {"h1-tree-free": _stored(PH.hsm_h1_tree_free().counterexample),
            "h1-best-fit": _stored(apx_hsm.hsm_h1_fit(RunContext()).counterexample)}


def test_real_apx4_h1_and_apx5_spread_counterexamples_recheck_and_tampered_ones_do_not():
    from audit import RunContext
    from numerics.apx import rg as apx_rg
    from proofs.apx import rg as PR

    h1 = _apx("APX-4[hsm/H1]")
    for check, cx in _h1_counterexamples().items():
        assert recheck_apx(cx, "hsm/H1", h1, check)[0], check                          # (c) the real ones
        assert not recheck_apx(cx | {"kl_best_fit": [0.5, 0.0]}, "hsm/H1", h1, check)[0]   # (b) a tampered KL
        same = cx | {"trees": [cx["trees"][0], cx["trees"][0]], "kl_best_fit": cx["kl_best_fit"]}
        assert not recheck_apx(same, "hsm/H1", h1, check)[0]                            # one tree twice
        assert not recheck_apx(cx, "hsm/H1", h1 | {"recheck": {check: "hsm-trees"}}, check)[0]
        assert not recheck_apx(cx, "hsm/H1", h1, "exact-tree-bias")[0]                  # not a check of the row
    assert not recheck_apx({"shape": "hsm-h1", "p": [0.5, 0.3, 0.2], "trees": ["((0,1),2)"], "kl_best_fit": [0.0]},
                           "hsm/H1", h1, "h1-tree-free")[0]
    rg2 = _apx("APX-5[rg2/spread]")
    real = {"spread-limit": _stored(PR.rg_spread("rg2").counterexample),
            "exact-spread": _stored(apx_rg.rg_spread("rg2", RunContext()).counterexample)}
    for check, cx in real.items():
        assert recheck_apx(cx, "rg2/spread", rg2, check)[0], check                      # (c)
        assert not recheck_apx(cx | {"bias2": 1.01 * cx["bias2"]}, "rg2/spread", rg2, check)[0]     # (b)
        assert not recheck_apx(cx | {"spread": cx["spread"] + 1e-3}, "rg2/spread", rg2, check)[0]  # (b)
        # (a) the row's coefficients decide: under RGx's (shift invariant) the bias vanishes
        assert not recheck_apx(cx, "rg2/spread", rg2 | {"coeffs": [1, 1, 1]}, check)[0]
        assert not recheck_apx(cx | {"kind": "rgx"}, "rg2/spread", rg2, check)[0]
        if cx["spread"] > 0:                                                 # a spread above the row's bound
            assert not recheck_apx(cx, "rg2/spread", rg2 | {"spread_at_most": 0.5 * cx["spread"]}, check)[0]


def test_apx5_counterexamples_made_under_a_typod_constant_do_not_recheck(monkeypatch):
    """(a) Our coefficient table, estimator or squared form typo'd: the check fails, and the
    counterexample does not re-check against the row's constants -- though it does against
    constants carrying the same typo (the re-check reads the row's, not the check's)."""
    from audit import RunContext
    from losses import approx
    from numerics.apx import rg as apx_rg
    from proofs.apx import rg as PR
    from reports.apx import planted as W

    ctx = RunContext()
    with monkeypatch.context() as mp:                                   # RGx's interaction 1 % low
        mp.setattr(approx, "rg_grad", W.rg_grad_coeffs(1, 1, 0.99))
        cx = _stored(apx_rg.rg_spread("rgx", ctx).counterexample)
    row = _apx("APX-5[rgx/spread]")
    assert not recheck_apx(cx, "rgx/spread", row, "exact-spread")[0]
    assert recheck_apx(cx, "rgx/spread", row | {"coeffs": [1, 1, 0.99]}, "exact-spread")[0]
    with monkeypatch.context() as mp:                                   # the mean-score term dropped
        mp.setattr(PR, "RG_COEFFS", {**PR.RG_COEFFS, "rgx": (0, 1, 1)})
        sym = _stored(PR.rg_scale("rgx")[0].counterexample)
        mp.setattr(approx, "rg_grad", W.rg_grad_coeffs(0, 1, 1))
        num = _stored(apx_rg.rg_scale("rgx", ctx).counterexample)
    row = _apx("APX-5[rgx/scale]")
    for check, cx in (("series-in-s", sym), ("exact-scale-series", num)):
        assert not recheck_apx(cx, "rgx/scale", row, check)[0], check
        assert recheck_apx(cx, "rgx/scale", row | {"coeffs": [0, 1, 1]}, check)[0], check
        if "bias2" in cx:                                               # (b) a tampered series
            assert not recheck_apx(cx | {"bias2": cx["bias2"][::-1]}, "rgx/scale", row | {"coeffs": [0, 1, 1]},
                                   check)[0]
    assert not recheck_apx(num | {"bias2_at_0": 0.0}, "rgx/scale", row | {"coeffs": [0, 1, 1]}, "exact-scale-series")[0]
    with monkeypatch.context() as mp:                                   # the target's -1 dropped
        mp.setattr(apx_rg, "squared_target", W.squared_target_without_ones)
        cx = _stored(apx_rg.rg2_squared(ctx).counterexample)
    row = _apx("APX-5[rg2/squared-loss]")
    assert not recheck_apx(cx, "rg2/squared-loss", row, "squared-loss-identity")[0]
    typo = row | {"squared_form": {"n_e_y": 1, "ones": 0, "log_n": 1, "n_minus_1": -0.5}}
    assert recheck_apx(cx, "rg2/squared-loss", typo, "squared-loss-identity")[0]
    assert not recheck_apx(cx | {"loss": cx["loss"] + 0.1}, "rg2/squared-loss", typo, "squared-loss-identity")[0]
    assert not recheck_apx(cx | {"squared": cx["squared"] + 0.1}, "rg2/squared-loss", typo,
                           "squared-loss-identity")[0]


def test_apx4_tree_counterexamples_follow_the_row(monkeypatch):
    from audit import RunContext
    from losses import approx
    from numerics.apx import hsm as apx_hsm
    from reports.apx import planted as W

    row = _apx("APX-4[hsm/H2]")
    cx = {"shape": "hsm-trees", "theta": [1.0, -0.5, 0.0], "y": 0, "trees": ["((0,1),2)", "(0,(1,2))"],
          "bias2": [0.1, 0.1]}
    assert not recheck_apx(cx, "hsm/H2", row, "tree-dependence")[0]      # the trees' H2 bias differs
    same = cx | {"trees": ["((0,1),2)", "((1,0),2)"]}                    # child order only: not distinct trees
    b2 = [float(((E.hsm_h2_grad(np.array(cx["theta"]), 0, E.parse_tree(t)) - E.softmax_grad(
        np.array(cx["theta"]), 0)) ** 2).sum()) for t in same["trees"]]
    assert not recheck_apx(same | {"bias2": b2}, "hsm/H2", row, "tree-dependence")[0]
    monkeypatch.setattr(approx, "hsm_grad", W.hsm_grad_tree_ignored)      # (a) the estimator ignores its tree
    bad = _stored(apx_hsm.hsm_trees(RunContext()).counterexample)
    ok, msg = recheck_apx(bad, "hsm/H2", row, "exact-tree-bias")
    assert not ok and "differs from the recomputed" in msg               # (b) its stored bias^2 is not H2's


def _sgd_cx(estimator="rg2", eta_scale=1.0, lam=0.05):
    """A full-batch run's data as the APX-6 check stores it (N = 24), every figure recomputed
    consistently in numpy: the run stays inside its bound (the theorem)."""
    rng = np.random.default_rng(0)
    N, d, n, T = 24, 3, 4, 30
    X = rng.normal(size=(N, d))
    y = rng.integers(0, n, size=N)
    L = lam + 0.5 * float(np.linalg.eigvalsh(X.T @ X / N)[-1])
    W = np.zeros((d, n))  # W* by full-batch steps to the rounding floor
    for _ in range(6000):
        G = np.stack([E.softmax_grad(t, int(k)) for t, k in zip(X @ W, y)])
        W = W - (1 / L) * (X.T @ G / N + lam * W)
    cx = {"shape": "sgd-bound", "estimator": estimator, "T": T, "X": X.tolist(), "y": y.tolist(), "W_star": W.tolist(),
          "tree": "((0,1),(2,3))", "eta": eta_scale / L, "mu": lam, "lam": lam, "sigma2": 0.0}
    run = E.sgd_run(cx, eta_scale / L, lam)
    if run is None:
        return cx
    s2, b = run
    w = float(np.linalg.norm(W))
    eps = E.sgd_grad_norm(X, y, W, lam) / lam
    slack = eps + 1e-12 * (1 + w)
    bound2 = (E.radius_after(T, w + eps, b, 0.0, eta_scale / L, lam) + slack) ** 2
    return cx | {"b": b, "s0": w + eps, "slack": slack, "s2_T": s2, "s2_T_lcb": s2, "bound2": bound2}


def test_sgd_bound_recomputes_from_the_row_and_compares_every_figure():
    row = _apx("APX-6[sgd]")
    cx = _sgd_cx("rg2")
    ok, msg = recheck_apx(cx, "sgd", row, "sgd-neighbourhood")
    assert not ok and "differs" not in msg and "not the row's" not in msg   # consistent, but inside its bound
    for key, factor in (("b", 0.0), ("s2_T", 1e3), ("s2_T_lcb", 1e3), ("bound2", 1e-3), ("s0", 0.5), ("slack", 1e6)):
        ok, msg = recheck_apx(cx | {key: cx[key] * factor}, "sgd", row, "sgd-neighbourhood")   # (b) tampered
        assert not ok and f"stored {key}" in msg, key
    # (a) a run made under a typo'd step or ridge: stored eta/lam are not the row's, and the re-run uses the row's
    for bad in (_sgd_cx("rg2", eta_scale=1.5), _sgd_cx("rg2", lam=0.06)):
        ok, msg = recheck_apx(bad, "sgd", row, "sgd-neighbourhood")
        assert not ok and "not the row's" in msg
    assert not recheck_apx(cx, "sgd", row | {"lambda": 0.06}, "sgd-neighbourhood")[0]
    assert not recheck_apx(cx, "sgd", row | {"step": "2/L"}, "sgd-neighbourhood")[0]
    assert not recheck_apx(_sgd_cx("ssm/uniform m=4"), "sgd", row, "sgd-neighbourhood")[0]   # not re-runnable


def test_sgd_radius_and_unknown_shapes_are_rejected():
    row = _apx("APX-6[sgd]")
    cx = {"shape": "sgd-radius", "eta": 0.1, "mu": 1.0, "b": [0.3, 0.6], "sigma2": [0.5, 1.0]}
    assert not recheck_apx(cx, "sgd", row, "neighbourhood-fixed-point")[0]                # it does grow
    assert not recheck_apx(cx | {"b": [0.6, 0.3]}, "sgd", row, "neighbourhood-fixed-point")[0]   # b not increasing
    assert not recheck_apx(cx | {"eta": 2.0}, "sgd", row, "neighbourhood-fixed-point")[0]       # eta mu >= 1
    assert not recheck_apx(cx, "sgd", row, "sgd-neighbourhood")[0]                            # the other check's
    assert not recheck_apx({"shape": "nonsense"}, "sgd")[0]
    assert not recheck_apx({"figures": {"x": 1}}, "ssm/uniform")[0]


def test_numpy_estimators_match_the_library():
    import torch

    from losses import approx

    th = torch.tensor(TH, dtype=torch.float64)
    for kind, co in (("rg2", (1, 1, 0)), ("rgx", (1, 1, 1))):
        lib = approx.rg_grad(th[None], torch.tensor([2]), kind)[1][0].tolist()
        assert E.rg_grad(np.array(TH), 2, kind) == pytest.approx(lib, abs=1e-14)
        assert E.rg_grad_coeffs(np.array(TH), 2, *co) == pytest.approx(lib, abs=1e-14)
        assert E.rg_loss_coeffs(np.array(TH), 2, *co) == pytest.approx(
            float(approx.rg_loss(th[None], torch.tensor([2]), kind)[0]), abs=1e-13)
    tree = approx.balanced_tree(6)
    lib = approx.hsm_grad(th[None], torch.tensor([4]), tree)[1][0].tolist()
    assert E.hsm_h2_grad(np.array(TH), 4, E.parse_tree("(((0,1),2),((3,4),5))")) == pytest.approx(lib, abs=1e-14)
    from numerics.apx import exact as X

    q = approx.uniform_proposal(6)
    for m in (1, 3):
        ex = X.ssm_exact(th, 0, q, m)
        assert E.ssm_moments(np.array(TH), 0, q.numpy(), m) == pytest.approx((ex["bias2"], ex["variance"]), rel=1e-12)
    assert math.isclose(E.nce_moments(np.array(TH), 0, np.full(6, 1 / 6), 3, 0.2)[0],
                        X.nce_exact(th, 0, q, 3, 0.2)["bias2"], rel_tol=1e-12)
