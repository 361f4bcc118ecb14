"""CON-3 / DYN checks can fail, and their witnesses re-check from the stored data alone."""
import numpy as np
import torch

from losses import get
from numerics import dynamics as dyn
from numerics import order
from audit import RunContext

CTX = RunContext()


def test_o1_sparse_fails_on_a_non_monotone_map(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: (lambda th: torch.softmax(-th, -1)))
    ev = order.order_preservation("sparsemax", "O1", CTX)
    assert ev.outcome == "fails" and ev.counterexample is not None


def test_o1_softmax_fails_on_a_flat_map(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: get("sparsemax").predict)
    ev = order.order_preservation("softmax", "O1", CTX)
    assert ev.outcome == "fails"
    cx = ev.counterexample
    th = torch.tensor(cx["theta"], dtype=torch.float64)
    assert th[cx["i"]] > th[cx["j"]]


def test_o1_sparse_is_undecided_without_witness(monkeypatch):
    monkeypatch.setattr(order, "_predictor", lambda loss, params: (lambda th: torch.softmax(th, -1)))
    ev = order.order_preservation("sparsemax", "O1", CTX)
    assert ev.outcome == "undecided"


def test_stored_witnesses_recheck():
    for loss, params in (("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("rankmax", {"k": 1})):
        ev = order.order_preservation(loss, "O1", CTX)
        w = ev.to_json()["figures"]["sop_witness"]
        p = {k: w[k] for k in ("alpha", "k") if k in w}
        th = torch.tensor(w["theta"], dtype=torch.float64)
        y = get(loss, **p).predict(th[None])[0]
        assert th[w["i"]] > th[w["j"]] and y[w["i"]] == y[w["j"]]
        ev2 = order.order_preservation(loss, "O2", CTX)
        w2 = ev2.to_json()["figures"]["sop_witness"]
        th2 = torch.tensor(w2["theta"], dtype=torch.float64)
        eta = torch.tensor(w2["eta"], dtype=torch.float64)
        obj = get(loss, **{k: w2[k] for k in ("alpha", "k") if k in w2})
        assert float(obj(th2[None], eta[None])[0].abs()) <= 1e-9  # a minimizer: L = 0
        assert eta[w2["i"]] == eta[w2["j"]] and th2[w2["i"]] > th2[w2["j"]]


def test_decay_fit_rejects_slope_minus_two_and_accepts_one_over_t():
    t = np.logspace(2, 4, 60)
    assert dyn.decay_exponent(t, 3.0 / t ** 2)[0] == "fails"
    assert dyn.decay_exponent(t, 3.0 / t)[0] == "holds"
    assert dyn.decay_exponent(t, 3.0 / t ** 1.5)[0] == "fails"


def test_log_growth_rejects_power_law():
    t = np.logspace(2, 4, 60)
    assert dyn.log_growth(t, 2 + 3 * np.log(t))[0] == "holds"
    assert dyn.log_growth(t, 0.5 * t ** 0.5)[0] == "fails"


def test_dyn1_sparse_fails_on_dense_gradients(monkeypatch):
    monkeypatch.setattr(dyn, "_predictor", lambda loss, name: (lambda th: torch.softmax(th, -1)))
    dyn._run_cached.cache_clear()
    try:
        r = dyn.gd("sparsemax", {}, "free", 200, 0)
        assert not r["agree"]  # autograd gradient (sparse) differs from the dense update
    finally:
        dyn._run_cached.cache_clear()
