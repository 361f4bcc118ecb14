"""The outside re-checker of APX counterexamples (reports/rechecks/apx.py) can reject: every
shape a check can store is tried on a non-counterexample (it must be rejected), and on the
genuine counterexamples of the refuted rows (accepted)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from reports.rechecks import apx_estimators as E
from reports.rechecks.apx import recheck_apx

TH = [2.0, 1.0, 0.0, -1.0, -2.0, 0.5]
LOGZ = float(np.log(np.exp(TH).sum()))
UNIFORM_NEG = [0.0] + [0.2] * 5


def _ideal_q(theta, y):
    x = np.exp(np.asarray(theta))
    x[y] = 0.0
    return (x / x.sum()).tolist()


# ------------------------------------------------------------------------------ accepted
def test_genuine_counterexamples_are_accepted():
    v1, v2 = E.nce_moments(np.array(TH), 0, np.full(6, 1 / 6), 1, LOGZ)[1], E.nce_moments(
        np.array(TH), 0, np.full(6, 1 / 6), 2, LOGZ)[1]
    rising = {"shape": "sampling-increase", "method": "nce", "quantity": "variance", "count": "k", "from": 1, "to": 2,
              "value_from": v1, "value_to": v2, "theta": TH, "y": 0, "q": [1 / 6] * 6, "c": LOGZ}
    assert recheck_apx(rising, "nce/c=logZ")[0]
    spread = {"shape": "rg-spread", "kind": "rg2", "theta": [1.0, 1.0, 1.0], "y": 0, "bias2": 1 / 3}
    assert recheck_apx(spread, "rg2/spread")[0]
    h1 = {"p": [0.5, 0.3, 0.2], "trees": ["((0,1),2)", "(0,(1,2))"], "kl_best_fit": [0.0, 0.0]}
    assert recheck_apx(h1, "hsm/H1")[0]
    p = [0.5, 0.3, 0.2]  # Z = 1: c = 0 is then the right normalizer and the bias vanishes
    vanishing = {"shape": "nce-limit", "theta": np.log(p).tolist(), "y": 0, "c": 0.0, "limit_bias2": 0.0}
    assert recheck_apx(vanishing, "nce/c=0")[0]


# ------------------------------------------------------------------------------ rejected
def test_a_law_that_decomposes_is_rejected():
    cx = {"shape": "law-decomposition", "outcomes": [[1, 0], [0, 2], [-1, 1]], "weights": [0.2, 0.3, 0.5],
          "g": [0.5, 0.5]}
    assert not recheck_apx(cx, "ssm/uniform")[0]


def test_a_decreasing_series_is_rejected():
    b1, b2 = (E.ssm_moments(np.array(TH), 0, np.array(UNIFORM_NEG), m)[0] for m in (1, 2))
    cx = {"shape": "sampling-increase", "method": "ssm", "quantity": "bias2", "count": "m", "from": 1, "to": 2,
          "value_from": b1, "value_to": b2, "theta": TH, "y": 0, "q": UNIFORM_NEG}
    assert b2 < b1 and not recheck_apx(cx, "ssm/uniform")[0]
    assert not recheck_apx(cx | {"value_from": b2, "value_to": b1, "from": 2, "to": 1}, "ssm/uniform")[0]


def test_a_positive_deterministic_bias_and_a_point_mass_are_rejected():
    for method, extra in (("rg2", {}), ("rgx", {}), ("hsm", {"tree": "(((0,1),2),((3,4),5))"})):
        cx = {"shape": "deterministic", "method": method, "theta": TH, "y": 0, "bias2": 0.0, "variance": 0.0} | extra
        assert not recheck_apx(cx, method)[0], method
    law = {"shape": "point-mass", "method": "rg2", "theta": TH, "y": 0, "outcomes": [[0.0] * 6, [1.0] * 6],
           "weights": [0.5, 0.5]}
    assert not recheck_apx(law, "rg2")[0]


def test_ssm_iff_rejects_the_ideal_unbiased_and_the_non_ideal_biased():
    ideal = {"shape": "ssm-iff", "theta": TH, "y": 0, "q": _ideal_q(TH, 0), "m": 3}
    assert not recheck_apx(ideal, "ssm/ideal")[0]
    uniform = {"shape": "ssm-iff", "theta": TH, "y": 0, "q": UNIFORM_NEG, "m": 2}
    assert not recheck_apx(uniform, "ssm/ideal")[0]


def test_nce_limit_rejects_the_right_and_the_wrong_normalizer():
    right = {"shape": "nce-limit", "theta": TH, "y": 0, "c": LOGZ, "limit_bias2": 0.0}
    assert not recheck_apx(right, "nce/c=logZ")[0]                       # the bias does vanish
    off = right | {"c": LOGZ + 0.1, "limit_bias2": 0.0034}
    assert not recheck_apx(off, "nce/c=logZ")[0]                         # not the reading's c
    c0 = {"shape": "nce-limit", "theta": TH, "y": 0, "c": 0.0, "limit_bias2": 56.3}
    assert not recheck_apx(c0, "nce/c=0")[0]                             # Z != 1: it does not vanish


def test_nce_population_rejects_log_p():
    p, q = [0.3, 0.7], [0.2, 0.8]
    cx = {"shape": "nce-population", "p": p, "q": q, "k": 4, "theta": np.log(p).tolist()}
    assert not recheck_apx(cx, "nce/population")[0]
    assert not recheck_apx(cx | {"theta": [0.18, 1.03]}, "nce/population")[0]   # a worse theta


def test_hsm_trees_rejects_trees_with_different_bias():
    cx = {"shape": "hsm-trees", "theta": [1.0, -0.5, 0.0], "y": 0, "trees": ["((0,1),2)", "(0,(1,2))"],
          "bias2": [0.1, 0.1]}
    assert not recheck_apx(cx, "hsm/H2")[0]
    same = cx | {"trees": ["((0,1),2)", "((1,0),2)"]}                    # child order only: not distinct trees
    assert not recheck_apx(same, "hsm/H2")[0]


def test_h1_rejects_a_single_tree():
    assert not recheck_apx({"p": [0.5, 0.3, 0.2], "trees": ["((0,1),2)"], "kl_best_fit": [0.0]}, "hsm/H1")[0]


def test_rg_rechecks_reject_the_true_rg():
    scale = {"shape": "rg-scale", "kind": "rgx", "theta0": TH, "y": 0}
    assert not recheck_apx(scale, "rgx/scale")[0]
    assert not recheck_apx(scale | {"kind": "rg2"}, "rg2/scale")[0]
    spread = {"shape": "rg-spread", "kind": "rgx", "theta": [1.0, 1.0, 1.0], "y": 0, "bias2": 0.0833}
    assert not recheck_apx(spread, "rgx/spread")[0]
    wide = {"shape": "rg-spread", "kind": "rg2", "theta": [1.0, 0.0, -1.0], "y": 0, "bias2": 0.1}
    assert not recheck_apx(wide, "rg2/spread")[0]
    sq = {"shape": "rg2-squared", "theta": [0.5, -1.0, 2.0], "y": 0, "loss": 0.0, "squared": 1.0}
    assert not recheck_apx(sq, "rg2/squared-loss")[0]


def _sgd_cx(estimator="rg2", eta_scale=1.0):
    rng = np.random.default_rng(0)
    N, d, n, lam, T = 24, 3, 4, 0.05, 30
    X = rng.normal(size=(N, d))
    y = rng.integers(0, n, size=N)
    L = lam + 0.5 * float(np.linalg.eigvalsh(X.T @ X / N)[-1])
    eta = eta_scale / L
    W = np.zeros((d, n))  # W* of the exact estimator by many full-batch steps
    for _ in range(4000):
        G = np.stack([E.softmax_grad(t, int(k)) for t, k in zip(X @ W, y)])
        W = W - (1 / L) * (X.T @ G / N + lam * W)
    return {"shape": "sgd-bound", "estimator": estimator, "eta": eta, "mu": lam, "lam": lam, "b": 0.0, "sigma2": 0.0,
            "T": T, "s0": float(np.linalg.norm(W)), "slack": 1e-9, "X": X.tolist(), "y": y.tolist(),
            "W_star": W.tolist(), "s2_T": 0.0, "s2_T_lcb": 0.0, "bound2": 0.0, "tree": "((0,1),(2,3))"}


def test_sgd_bound_rejects_a_run_inside_its_bound_and_a_step_outside_the_assumptions():
    cx = _sgd_cx("rg2")
    s2, b = E.sgd_run(cx)
    cx |= {"s2_T": s2, "s2_T_lcb": s2, "b": 0.0}                         # a wrong (zero) stored b
    ok, msg = recheck_apx(cx, "sgd")
    assert not ok and "bias along the run" in msg                         # re-measured b puts it inside
    assert not recheck_apx(_sgd_cx("rg2", eta_scale=3.0), "sgd")[0]
    assert not recheck_apx(cx | {"estimator": "ssm/uniform m=4"}, "sgd")[0]  # not re-runnable


def test_sgd_radius_and_unknown_shapes_are_rejected():
    cx = {"shape": "sgd-radius", "eta": 0.1, "mu": 1.0, "b": [0.3, 0.6], "sigma2": [0.5, 1.0]}
    assert not recheck_apx(cx, "sgd")[0]
    assert not recheck_apx({"shape": "nonsense"}, "sgd")[0]
    assert not recheck_apx({"figures": {"x": 1}}, "ssm/uniform")[0]


def test_numpy_estimators_match_the_library():
    import torch

    from losses import approx

    th = torch.tensor(TH, dtype=torch.float64)
    for kind in ("rg2", "rgx"):
        assert E.rg_grad(np.array(TH), 2, kind) == pytest.approx(
            approx.rg_grad(th[None], torch.tensor([2]), kind)[1][0].tolist(), abs=1e-14)
    tree = approx.balanced_tree(6)
    lib = approx.hsm_grad(th[None], torch.tensor([4]), tree)[1][0].tolist()
    assert E.hsm_h2_grad(np.array(TH), 4, E.parse_tree("(((0,1),2),((3,4),5))")) == pytest.approx(lib, abs=1e-14)
    from numerics import apx_exact as X

    q = approx.uniform_proposal(6)
    for m in (1, 3):
        ex = X.ssm_exact(th, 0, q, m)
        assert E.ssm_moments(np.array(TH), 0, q.numpy(), m) == pytest.approx((ex["bias2"], ex["variance"]), rel=1e-12)
    assert math.isclose(E.nce_moments(np.array(TH), 0, np.full(6, 1 / 6), 3, 0.2)[0],
                        X.nce_exact(th, 0, q, 3, 0.2)["bias2"], rel_tol=1e-12)
