"""CON-3 / DYN checks can fail, their independent routes agree with the library, and their
witnesses and counterexamples re-check from the stored data alone (and only then)."""
import json

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from audit import RunContext, SuiteDefect
from audit.evidence import as_stored
from audit.falsealarm import share
from losses import get
from numerics.dyn import dynamics as dyn
from numerics.dyn import gd_runs
from numerics.con import order, order_bayes, order_cvx
from numerics.dyn.negative_gradients import negative_gradients
from reports import planted as pl
from reports.registry import by_key
from recheck_script import RECHECK

CTX = RunContext()
# DYN-2[softmax]'s separable check is statistical: the runner hands it its share of the budget
SOFTMAX_SEP_CTX = RunContext(alpha=share("DYN-2", "softmax", "separable-gd"))


def _stored(x):
    return json.loads(json.dumps(as_stored(x)))


def _constants(key):
    return json.loads(json.dumps(dict(by_key(key).constants)))


def _con3(cx, reading, constants=None):
    """The CON-3 re-check of a stored counterexample under its row's constants."""
    return RECHECK.order.recheck_con3(_stored(cx), reading,
                                      _constants(f"CON-3[{reading}]") if constants is None else constants)


def _witness(w, reading, constants=None):
    return RECHECK.recheck_witness("CON-3", reading, _stored(w),
                                   _constants(f"CON-3[{reading}]") if constants is None else constants)


def _fabricated_runs(kind):
    """Run records of the shape gd_runs.gd returns (for gd_runs.run): "t^-s" (loss 3/t^s), "never-zero" (loss
    1e-3 + 1/t, never exactly 0, every negative keeps a gradient) or "gradient-zeros" (as never-zero, but a
    quarter of the negatives at exactly zero gradient after step 10)."""
    def runner(name, params, setting, ctx):
        T = 20_000 if name == "softmax" else 1_000
        t = np.unique(np.round(np.logspace(0, np.log10(T), 300))).astype(int)
        loss = 3.0 / t.astype(float) ** float(kind[3:]) if kind.startswith("t^-") else 1e-3 + 1.0 / t
        frac = torch.ones(T, dtype=torch.float64)
        if kind == "gradient-zeros":
            frac[10:] = 0.75
        return {"frac": frac, "t": t, "loss": loss, "norm": 2 + np.log(t), "min_log_neg": -1.0 - np.log(t),
                "route": {}, "zero_at": None, "max_gap": 1.0, "T": T, "steps": T}

    return runner


# -------------------------------------------------------------------- O1
def test_o1_sparse_fails_on_a_non_monotone_map(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: (lambda th: torch.softmax(-th, -1)))
    ev = order.order_preservation("sparsemax", "O1", CTX)
    assert ev.outcome == "fails" and ev.counterexample is not None
    # the real map is monotone: the stored "violation" does not re-check
    assert not _con3(ev.counterexample, "sparsemax/O1")[0]


def test_o1_softmax_fails_on_a_flat_map(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: get("sparsemax").predict)
    ev = order.order_preservation("softmax", "O1", CTX)
    assert ev.outcome == "fails"
    cx = _stored(ev.counterexample)
    assert cx["theta"][cx["i"]] > cx["theta"][cx["j"]]
    assert not _con3(cx, "softmax/O1")[0]  # softmax itself separates them


def test_o1_sparse_is_undecided_without_witness(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: (lambda th: torch.softmax(th, -1)))
    assert order.order_preservation("sparsemax", "O1", CTX).outcome == "undecided"


def test_o1_recheck_rejects_non_counterexamples_and_accepts_a_violation_of_its_own_map(monkeypatch):
    ok = _con3
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
    assert not _con3(cx, "sparsemax/O2")[0]  # the real map: theta is not a minimizer of eta
    real = RECHECK.order.np_predict
    monkeypatch.setattr(RECHECK.order, "np_predict", lambda loss, t, **kw: real(loss, -np.asarray(t), **kw))
    assert _con3(cx, "sparsemax/O2")[0]
    # (a) the row's resolution typo'd to 1 (no difference of eta resolves): the same violation does not re-check
    assert not _con3(cx, "sparsemax/O2", {**_constants("CON-3[sparsemax/O2]"), "resolution": 1.0})[0]
    # (b) a tampered stored figure: eta no longer yhat(theta)
    eta = list(cx["eta"])
    eta[0] += 1e-6
    assert not _con3({**cx, "eta": eta}, "sparsemax/O2")[0]


def test_o2_sparse_recheck_rejects_a_wop_minimizer_and_a_tampered_eta():
    theta = [0.6, 0.1, -1.0, -2.0]
    eta = get("sparsemax").predict(torch.tensor([theta], dtype=torch.float64))[0].tolist()  # (0.75, 0.25, 0, 0)
    ok = _con3
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
            assert _witness(w, f"{loss}/{reading}")[0]  # (c) the real witness re-checks
            assert not _witness(w, f"{loss}/{reading}", {})[0]  # a row without its constants
            i, j = w["i"], w["j"]
            flat = {**w, "theta": [w["theta"][j] if m == i else v for m, v in enumerate(w["theta"])]}
            assert not _witness(flat, f"{loss}/{reading}")[0]  # theta_i = theta_j
            key = "eta" if reading == "O2" else "yhat"
            tampered = list(w[key])
            tampered[i] += 1e-3
            assert not _witness({**w, key: tampered}, f"{loss}/{reading}")[0]  # (b) a stored figure changed


@pytest.mark.parametrize("loss, param, typo", [("entmax", "alpha", 1.51), ("rankmax", "k", 3)])
def test_a_witness_made_under_a_typod_variant_does_not_recheck(loss, param, typo, monkeypatch):
    """(a) A witness made with the map at a typo'd parameter (alpha = 1.51, k = 3) is not one of the row's."""
    real = order.variants
    monkeypatch.setattr(order, "variants", lambda l, ctx: [({param: typo}, {param: typo})] if l == loss else real(l, ctx))
    w = order.order_preservation(loss, "O1", CTX).figures["sop_witness"]
    assert w[param] == typo
    ok, msg = _witness(w, f"{loss}/O1")
    assert not ok and "not one of the row's" in msg
    assert _witness(w, f"{loss}/O1", {**_constants(f"CON-3[{loss}/O1]"), param: [typo]})[0]


# -------------------------------------------------------------------- O2, softmax
def test_o2_softmax_holds_at_seeds_0_to_3():
    for seed in range(4):
        assert order.order_preservation("softmax", "O2", RunContext(seed=seed)).outcome == "holds", seed


def test_o2_softmax_fails_on_a_reversed_map():
    with pl.reversed_map("softmax").patch():
        ev = order.order_preservation("softmax", "O2", CTX)
    assert ev.outcome == "fails" and ev.counterexample["kind"] == "order"
    assert not _con3(ev.counterexample, "softmax/O2")[0]


def test_o2_softmax_recheck_rejects_certified_minimizers():
    eta = np.array([0.3, 0.3, 0.25, 0.15])
    theta = np.log(eta).tolist()
    ok = _con3
    assert not ok({"kind": "tie", "theta": theta, "eta": eta.tolist(), "i": 0, "j": 1}, "softmax/O2")[0]
    assert not ok({"kind": "order", "theta": theta, "eta": eta.tolist(), "i": 0, "j": 2}, "softmax/O2")[0]
    far = [theta[0] + 0.5] + theta[1:]  # not near-stationary: the radius argument does not apply
    assert not ok({"kind": "tie", "theta": far, "eta": eta.tolist(), "i": 0, "j": 1}, "softmax/O2")[0]
    assert not RECHECK.order.recheck_con3({"kind": "tie", "theta": theta, "eta": eta.tolist(), "i": 0, "j": 1},
                                          "softmax/O3", _constants("CON-3[softmax/O2]"))[0]
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


def test_dyn1_sparse_is_undecided_when_no_negative_loses_its_gradient(monkeypatch):
    monkeypatch.setattr(gd_runs, "run", _fabricated_runs("never-zero"))
    assert negative_gradients("sparsemax", CTX).outcome == "undecided"
    monkeypatch.setattr(gd_runs, "run", _fabricated_runs("gradient-zeros"))
    assert negative_gradients("softmax", CTX).outcome == "undecided"


def test_gd_run_cache_is_keyed_by_what_a_planted_input_patches(monkeypatch):
    """A run under a patched step, schedule or data source never meets the real run's cache entry."""
    monkeypatch.setattr(gd_runs, "HORIZON", {"softmax": (50, 50), "sparse": (50, 50)})
    real = gd_runs.run("sparsemax", {}, "separable", CTX)
    assert gd_runs.run("sparsemax", {}, "separable", CTX) is real
    monkeypatch.setattr(gd_runs, "LR", 0.25)
    assert gd_runs.run("sparsemax", {}, "separable", CTX) is not real
    monkeypatch.setattr(gd_runs, "LR", 0.5)
    monkeypatch.setattr(gd_runs, "step_size", lambda t: 0.5)
    assert gd_runs.run("sparsemax", {}, "separable", CTX) is not real


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


def _rate(cx, constants=None):
    return RECHECK.recheck_one("DYN-2", "softmax", _stored(cx),
                               _constants("DYN-2[softmax]") if constants is None else constants, "separable-gd")


def test_softmax_rate_refutation_is_rechecked_from_the_stored_series(monkeypatch):
    monkeypatch.setattr(gd_runs, "run", _fabricated_runs("t^-2"))
    ev = dyn.separable_dynamics("softmax", SOFTMAX_SEP_CTX)
    assert ev.outcome == "fails"
    cx = _stored(ev.counterexample)
    ok, msg = _rate(cx)  # (c) the counterexample re-checks under the row's band
    assert ok, msg
    t = np.asarray(cx["t"], float)
    assert not _rate({**cx, "loss": (3.0 / t).tolist()})[0]  # about 1/t: inside the band
    assert not _rate({**cx, "loss": (1.0 / t ** 1.1).tolist()})[0]
    assert not _rate({**cx, "loss": [1.0, 0.5]})[0]  # malformed
    # (b) a tampered stored figure: one stored loss changed by 1 % (the stored fit is no longer the refit)
    loss = list(cx["loss"])
    loss[len(loss) // 2] *= 1.01
    assert not _rate({**cx, "loss": loss})[0]
    assert not _rate({**cx, "exponent": -1.9})[0]
    # the band and level are the row's: a stored copy that differs, or a row without them, does not re-check
    assert not _rate({**cx, "band": [-2.5, -1.5]})[0]
    assert not _rate(cx, {})[0]
    assert _rate({k: v for k, v in cx.items() if k not in ("band", "level")})[0]


def test_softmax_rate_made_under_a_typod_band_does_not_recheck(monkeypatch):
    """(a) RATE_BAND typo'd to [-1.05, -0.95]: a decay like t^-1.1 'fails' under it, but not under the row's band."""
    monkeypatch.setattr(gd_runs, "run", _fabricated_runs("t^-1.1"))
    monkeypatch.setattr(dyn, "RATE_BAND", (-1.05, -0.95))
    ev = dyn.separable_dynamics("softmax", SOFTMAX_SEP_CTX)
    assert ev.outcome == "fails"
    assert not _rate(ev.counterexample)[0]
    cx = {k: v for k, v in _stored(ev.counterexample).items() if k not in ("band", "level")}
    assert not _rate(cx)[0]  # without the stored band the refit is inside the row's band
    assert _rate(cx, {**_constants("DYN-2[softmax]"), "rate_band": [-1.05, -0.95]})[0]


def test_sparse_separable_gd_is_undecided_when_the_loss_never_reaches_zero(monkeypatch):
    monkeypatch.setattr(gd_runs, "run", _fabricated_runs("never-zero"))
    assert dyn.separable_dynamics("sparsemax", CTX).outcome == "undecided"


def test_bayes_convergence_turns_on_labels_at_temperature_1_05(monkeypatch):
    """The check's resolution on a short run: softmax converges to eta fast (ratio ~1e-3 after 1000 steps); labels
    drawn at temperature 1.05 leave it 2.5 % of the start away from eta (rule: 0.35 %)."""
    from reports.dyn.planted import tempered_labels

    monkeypatch.setattr(dyn, "BAYES_STEPS", {"population": (1000, 1000), "sampled": (200, 200)})
    monkeypatch.setattr(dyn, "BAYES_EXAMPLES", (200, 200))
    dyn._bayes_cached.cache_clear()
    assert dyn.bayes_convergence("softmax", CTX).outcome == "holds"
    monkeypatch.setattr(dyn, "label_source", tempered_labels(1.05))
    ev = dyn.bayes_convergence("softmax", CTX)
    assert ev.outcome == "undecided" and "not met" in ev.summary
    dyn._bayes_cached.cache_clear()


def test_bayes_rule_is_the_prestated_one():
    assert dyn.BAYES_RATIO == 0.0035 and "0.35%" in dyn.RULE_BAYES and "0.35 %" in dyn.__doc__
    assert dyn.BAYES_STEPS == {"population": (8_000, 16_000), "sampled": (1_000, 4_000)}
    assert "8000 GD steps (16000 in the full profile)" in dyn.RULE_BAYES


def test_softmax_rate_level_is_the_rows_share_of_the_false_alarm_budget():
    """DYN-2[softmax]'s rate intervals draw on the budget (issue 24): the level the row states for the
    re-checker is 1 - share/m over its m runs, and the check computes its intervals at that level."""
    from reports.claim import Check

    row = by_key("DYN-2[softmax]")
    sep = next(c for c in row.checks if c.name == "separable-gd")
    assert isinstance(sep, Check) and sep.statistical
    m = 2 * len(list(gd_runs.variants("softmax", SOFTMAX_SEP_CTX)))
    assert row.constants["level"] == pytest.approx(1 - share("DYN-2", "softmax", "separable-gd") / m, abs=0)
    t = np.logspace(2, 4, 60)
    _, fit = dyn.decay_exponent(t, 3.0 / t * (1 + 0.01 * np.sin(np.log(t) * 5)), row.constants["level"])
    _, fit95 = dyn.decay_exponent(t, 3.0 / t * (1 + 0.01 * np.sin(np.log(t) * 5)), 0.95)
    assert fit["level"] == row.constants["level"]
    assert fit["ci"][1] - fit["ci"][0] > fit95["ci"][1] - fit95["ci"][0]  # a stricter level, a wider interval
