"""CON-3 / DYN checks can fail, their independent routes agree with the library, and their
witnesses and counterexamples re-check from the stored data alone (and only then)."""
import json

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from audit import RunContext, SuiteDefect
from audit.evidence import _clean
from losses import get
from numerics import dynamics as dyn
from numerics import gd_runs, order, order_bayes, order_cvx
from numerics.negative_gradients import negative_gradients
from reports import planted as pl
from reports.planted_dyn import fabricated_runs
from recheck_script import RECHECK

CTX = RunContext()


def _stored(x):
    return json.loads(json.dumps(_clean(x)))


# -------------------------------------------------------------------- O1
def test_o1_sparse_fails_on_a_non_monotone_map(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: (lambda th: torch.softmax(-th, -1)))
    ev = order.order_preservation("sparsemax", "O1", CTX)
    assert ev.outcome == "fails" and ev.counterexample is not None
    # the real map is monotone: the stored "violation" does not re-check
    assert not RECHECK.order.recheck_con3(_stored(ev.counterexample), "sparsemax/O1")[0]


def test_o1_softmax_fails_on_a_flat_map(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: get("sparsemax").predict)
    ev = order.order_preservation("softmax", "O1", CTX)
    assert ev.outcome == "fails"
    cx = _stored(ev.counterexample)
    assert cx["theta"][cx["i"]] > cx["theta"][cx["j"]]
    assert not RECHECK.order.recheck_con3(cx, "softmax/O1")[0]  # softmax itself separates them


def test_o1_sparse_is_undecided_without_witness(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: (lambda th: torch.softmax(th, -1)))
    assert order.order_preservation("sparsemax", "O1", CTX).outcome == "undecided"


def test_o1_recheck_rejects_non_counterexamples_and_accepts_a_violation_of_its_own_map(monkeypatch):
    ok = RECHECK.order.recheck_con3
    assert not ok({"theta": [2.0, 0.0, -1.0], "i": 0, "j": 1}, "sparsemax/O1")[0]
    assert not ok({"theta": [0.0, 0.5, 1.0], "i": 2, "j": 0, "k": 2}, "rankmax/O1")[0]
    assert not ok({"theta": [0.0, -800.0, -900.0], "i": 1, "j": 2}, "softmax/O1")[0]  # a float64 tie only
    # with a reversed map the same routine accepts: the acceptance path is not dead code
    real = RECHECK.order.np_predict
    monkeypatch.setattr(RECHECK.order, "np_predict", lambda loss, t, **kw: real(loss, -np.asarray(t), **kw))
    assert ok({"theta": [2.0, 0.0, -1.0], "i": 0, "j": 2}, "sparsemax/O1")[0]


# -------------------------------------------------------------------- O2, sparse
@pytest.mark.parametrize("loss, params", [("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("entmax", {"alpha": 2.5}),
                                          ("rankmax", {"k": 1}), ("rankmax", {"k": 2})])
def test_dual_form_of_the_conjugate_matches_the_library(loss, params):
    g = torch.Generator().manual_seed(1)
    theta = 2 * torch.randn(6, 5, generator=g, dtype=torch.float64)
    lib = get(loss, **params).conjugate(theta).numpy()
    th = theta.numpy()
    for r in range(th.shape[0]):
        f = lambda tau: float(order_cvx.dual_conjugate(loss, th[r:r + 1], np.array([tau]), params)[0])  # noqa: E731
        res = minimize_scalar(f, bounds=(th[r].min() - 5, th[r].max() + 1), method="bounded",
                              options={"xatol": 1e-12})
        assert abs(res.fun - lib[r]) < 1e-8, (loss, params, r, res.fun, lib[r])


def test_sublevel_points_are_certified_near_minimizers():
    g = torch.Generator().manual_seed(2)
    eta = order_bayes.targets(2, g).repeat_interleave(3, 0).numpy()
    C = np.random.default_rng(0).standard_normal(eta.shape)
    status, th = order_cvx.sublevel_points("sparsemax", {}, eta, C - C.mean(-1, keepdims=True), 1e-7)
    assert status == "optimal"
    L = get("sparsemax")(torch.tensor(th), torch.tensor(eta))
    assert float(L.max()) <= 2e-7
    assert np.abs(th.sum(-1)).max() < 1e-6 and np.abs(th).max() <= 6 + 1e-6
    with pytest.raises(ValueError, match="eps"):
        order_cvx.sublevel_points("sparsemax", {}, eta, C, 0.0)


def test_o2_sparse_fails_on_a_reversed_map_and_the_stored_violation_needs_a_non_monotone_map(monkeypatch):
    with pl.reversed_map("sparsemax").patch():
        ev = order.order_preservation("sparsemax", "O2", CTX)
    assert ev.outcome == "fails"
    cx = _stored(ev.counterexample)
    assert not RECHECK.order.recheck_con3(cx, "sparsemax/O2")[0]  # the real map: theta is not a minimizer of eta
    real = RECHECK.order.np_predict
    monkeypatch.setattr(RECHECK.order, "np_predict", lambda loss, t, **kw: real(loss, -np.asarray(t), **kw))
    assert RECHECK.order.recheck_con3(cx, "sparsemax/O2")[0]


def test_o2_sparse_recheck_rejects_a_wop_minimizer_and_a_tampered_eta():
    theta = [0.6, 0.1, -1.0, -2.0]
    eta = get("sparsemax").predict(torch.tensor([theta], dtype=torch.float64))[0].tolist()  # (0.75, 0.25, 0, 0)
    ok = RECHECK.order.recheck_con3
    assert not ok({"theta": theta, "eta": eta, "i": 0, "j": 1}, "sparsemax/O2")[0]  # ordered as eta
    assert not ok({"theta": theta, "eta": [0.25, 0.75, 0, 0], "i": 1, "j": 0}, "sparsemax/O2")[0]  # eta != yhat


def test_o2_sparse_is_undecided_when_no_minimizer_splits_a_tie(monkeypatch):
    # a search that only ever returns tie-symmetric points (every zero coordinate at the same score)
    def gd_points(obj, eta, starts, lr, T, g):
        th, et = real(obj, eta, starts, lr, T, g)
        low = th.amin(-1, keepdim=True) - 1
        return torch.where(et == 0, low, th), et

    real = order_bayes._gd_points
    monkeypatch.setattr(order_bayes, "_gd_points", gd_points)
    ev = order_bayes.o2_sparse("sparsemax", [({}, {})], CTX, use_cvx=False)
    assert ev.outcome == "undecided"


def test_stored_witnesses_recheck_and_tampered_ones_do_not():
    for loss in ("sparsemax", "entmax", "rankmax"):
        for reading in ("O1", "O2"):
            w = _stored(order.order_preservation(loss, reading, CTX).figures["sop_witness"])
            assert RECHECK.recheck_witness("CON-3", f"{loss}/{reading}", w)[0]
            i, j = w["i"], w["j"]
            flat = {**w, "theta": [w["theta"][j] if m == i else v for m, v in enumerate(w["theta"])]}
            assert not RECHECK.recheck_witness("CON-3", f"{loss}/{reading}", flat)[0]  # theta_i = theta_j
            if reading == "O2":
                eta = list(w["eta"])
                eta[i] += 1e-3
                assert not RECHECK.recheck_witness("CON-3", f"{loss}/O2", {**w, "eta": eta})[0]


# -------------------------------------------------------------------- O2, softmax
def test_o2_softmax_holds_at_seeds_0_to_3():
    for seed in range(4):
        assert order.order_preservation("softmax", "O2", RunContext(seed=seed)).outcome == "holds", seed


def test_o2_softmax_fails_on_a_reversed_map():
    with pl.reversed_map("softmax").patch():
        ev = order.order_preservation("softmax", "O2", CTX)
    assert ev.outcome == "fails" and ev.counterexample["kind"] == "order"
    assert not RECHECK.order.recheck_con3(_stored(ev.counterexample), "softmax/O2")[0]


def test_o2_softmax_recheck_rejects_certified_minimizers():
    eta = np.array([0.3, 0.3, 0.25, 0.15])
    theta = np.log(eta).tolist()
    ok = RECHECK.order.recheck_con3
    assert not ok({"kind": "tie", "theta": theta, "eta": eta.tolist(), "i": 0, "j": 1}, "softmax/O2")[0]
    assert not ok({"kind": "order", "theta": theta, "eta": eta.tolist(), "i": 0, "j": 2}, "softmax/O2")[0]
    far = [theta[0] + 0.5] + theta[1:]  # not near-stationary: the radius argument does not apply
    assert not ok({"kind": "tie", "theta": far, "eta": eta.tolist(), "i": 0, "j": 1}, "softmax/O2")[0]
    assert not ok({"kind": "tie", "theta": theta, "eta": eta.tolist(), "i": 0, "j": 1}, "softmax/O3")[0]
    assert not RECHECK.recheck_one("CON-3", "softmax/O2", {"theta": theta})[0]  # malformed: no eta


# -------------------------------------------------------------------- DYN-1
def test_fd_route_catches_a_map_that_disagrees_with_the_loss_value():
    loss = get("sparsemax")
    theta = torch.tensor([[2.0, 0.5, -1.0, -3.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0, 0, 0, 0]], dtype=torch.float64)
    stats = {"off_support_compared": 0, "on_support_compared": 0, "near_threshold_not_compared": 0,
             "underflow_not_compared": 0, "max_abs_difference_off_support": 0.0, "max_rel_err_log_space": 0.0}
    gd_runs.fd_route(loss, "sparsemax", theta, y, loss.predict(theta), stats)
    assert stats["off_support_compared"] == 4 and stats["max_abs_difference_off_support"] <= 1e-9
    dense = 0.999 * loss.predict(theta) + 0.0002  # a smeared map: "non-zero" where the loss is flat
    with pytest.raises(SuiteDefect):
        gd_runs.fd_route(loss, "sparsemax", theta, y, dense, stats)


def test_dyn1_sparse_is_undecided_when_no_negative_loses_its_gradient():
    assert negative_gradients("sparsemax", CTX, runner=fabricated_runs("never-zero")).outcome == "undecided"
    assert negative_gradients("softmax", CTX, runner=fabricated_runs("gradient-zeros")).outcome == "undecided"


# -------------------------------------------------------------------- DYN-2 fits and the rate re-check
def test_decay_fit_rejects_slope_minus_two_and_accepts_one_over_t():
    t = np.logspace(2, 4, 60)
    assert dyn.decay_exponent(t, 3.0 / t ** 2)[0] == "fails"
    assert dyn.decay_exponent(t, 3.0 / t)[0] == "holds"
    assert dyn.decay_exponent(t, 3.0 / t ** 1.5)[0] == "fails"


def test_log_growth_rule_is_the_prestated_one():
    t = np.logspace(2, 4, 60)
    assert dyn.R2_FLOOR == 0.999 and r"R^2 \ge 0.999" in dyn.RULE_SOFTMAX
    assert dyn.log_growth(t, 2 + 3 * np.log(t))[0] == "holds"
    out, fig = dyn.log_growth(t, 0.5 * t ** 0.5)
    assert out == "undecided" and fig["rule_parts_not_met"]
    # log t plus a visible log log t term: R^2 below the floor reads undecided, never holds
    out, fig = dyn.log_growth(t, np.log(t) + 8 * np.log(np.log(t)) + 0.2 * np.sin(np.log(t) * 3))
    assert out == "undecided" and "R^2 >= 0.999" in fig["rule_parts_not_met"]


def test_softmax_rate_refutation_is_rechecked_from_the_stored_series():
    ev = dyn.separable_dynamics("softmax", CTX, runner=fabricated_runs("t^-2"))
    assert ev.outcome == "fails"
    cx = _stored(ev.counterexample)
    ok, msg = RECHECK.dyn.recheck_dyn2(cx)
    assert ok, msg
    t = np.asarray(cx["t"], float)
    assert not RECHECK.dyn.recheck_dyn2({**cx, "loss": (3.0 / t).tolist()})[0]  # about 1/t: inside the band
    assert not RECHECK.dyn.recheck_dyn2({**cx, "loss": (1.0 / t ** 1.1).tolist()})[0]
    assert not RECHECK.dyn.recheck_dyn2({**cx, "loss": [1.0, 0.5]})[0]  # malformed


def test_sparse_separable_gd_is_undecided_when_the_loss_never_reaches_zero():
    assert dyn.separable_dynamics("sparsemax", CTX, runner=fabricated_runs("never-zero")).outcome == "undecided"


def test_bayes_convergence_is_undecided_on_miscalibrated_labels():
    ev = dyn.bayes_convergence("softmax", CTX, label_temperature=2.0, steps=400, examples=100)
    assert ev.outcome == "undecided"
    assert dyn.bayes_convergence("softmax", CTX, steps=400, examples=100).outcome == "holds"
