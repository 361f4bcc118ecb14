"""The EXP-1 / DYN-3 / CPX-2 decisions on planted experiment outcomes: each can hold, fail
(with a counterexample that reports/recheck.py re-verifies from the JSON alone) or stay
undecided; none can only pass."""
import json

import pytest
import torch

from numerics import exp_checks as E
from numerics.recsys.methods import METHODS
from numerics.recsys.train import RunResult
from audit import RunContext
from reports.rechecks.exp import recheck_exp

USERS = 400


def _fake(levels: dict[str, float], noise: float = 0.05, flops: dict | None = None) -> dict:
    g = torch.Generator().manual_seed(0)
    base = torch.rand(USERS, generator=g, dtype=torch.float64) * 0.4
    runs = {}
    for m in METHODS:
        runs[m] = []
        for s in range(E.SEEDS):
            per = (base + levels.get(m, 0.0) + noise * torch.randn(USERS, generator=g, dtype=torch.float64)).clamp(0, 1)
            runs[m].append(RunResult(m, s, {"ndcg@10": per, "ndcg@20": per, "recall@20": per}, curve=[(1, 0.1), (2, 0.2)],
                                     epoch_s=0.1, grad_frac=0.5 if m in ("softmax", "sparsemax", "entmax-1.5", "rankmax") else None))
    flops = flops or {m: (10 if m in ("softmax", "sparsemax", "entmax-1.5", "rankmax") else 5) for m in METHODS if m != "popularity"}
    return {"dataset": "planted", "config": None, "runs": runs, "flops": flops}


THEORY = {"softmax": 0.2, "popularity": -0.2}  # softmax on top, every other learned model at 0, popularity below


@pytest.fixture
def planted(monkeypatch):
    def use(ex):
        monkeypatch.setattr(E, "results", lambda *a: ex)
    return use


def _roundtrip(ev):
    cx = json.loads(json.dumps(ev.to_json()))["counterexample"]
    return recheck_exp(cx)


def test_theory_shaped_outcome_holds_everywhere(planted):
    planted(_fake(THEORY))
    ctx = RunContext()
    for m in METHODS:
        assert E.exp_ordering(m, ctx).outcome == "holds", m
    assert E.sop_ahead_of_wop(ctx).outcome == "holds"
    assert E.frontier("softmax-undominated", ctx).outcome == "holds"
    assert E.frontier("approximations-cheaper", ctx).outcome == "holds"


def test_a_method_above_softmax_refutes_and_rechecks(planted):
    planted(_fake({**THEORY, "rankmax": 0.4, "hsm": 0.4}))
    ctx = RunContext()
    ev = E.exp_ordering("rankmax", ctx)
    assert ev.outcome == "fails" and _roundtrip(ev)[0]
    top = E.exp_ordering("softmax", ctx)
    assert top.outcome == "fails" and set(top.counterexample["comparisons"]) == {"softmax-rankmax", "softmax-hsm"}
    assert _roundtrip(top)[0]
    dyn = E.sop_ahead_of_wop(ctx)
    assert dyn.outcome == "fails" and _roundtrip(dyn)[0]
    dom = E.frontier("softmax-undominated", ctx)  # hsm is cheaper (5 < 10) and better
    assert dom.outcome == "fails" and list(dom.counterexample["comparisons"]) == ["hsm-softmax"] and _roundtrip(dom)[0]


def test_a_tie_is_undecided(planted):
    planted(_fake({**THEORY, "nce": 0.2}))  # nce is cheaper than softmax in the planted counts
    ctx = RunContext()
    assert E.exp_ordering("nce", ctx).outcome == "undecided"
    assert E.exp_ordering("softmax", ctx).outcome == "undecided"  # "at the top" is not earned by a tie
    assert E.frontier("softmax-undominated", ctx).outcome == "undecided"


def test_popularity_above_a_model_refutes(planted):
    planted(_fake({**THEORY, "sparsemax": -0.4}))
    ev = E.exp_ordering("popularity", RunContext())
    assert ev.outcome == "fails" and "sparsemax-popularity" in ev.counterexample["comparisons"] and _roundtrip(ev)[0]


def test_a_dearer_approximation_refutes_cheaper(planted):
    flops = {m: 5 for m in METHODS if m != "popularity"} | {"softmax": 10, "nce": 12}
    planted(_fake(THEORY, flops=flops))
    ev = E.frontier("approximations-cheaper", RunContext())
    assert ev.outcome == "fails" and "nce" in ev.detail and _roundtrip(ev)[0]


def test_recheck_rejects_a_tampered_side(planted):
    planted(_fake({**THEORY, "rankmax": 0.4}))
    cx = json.loads(json.dumps(E.exp_ordering("rankmax", RunContext()).to_json()))["counterexample"]
    cx["comparisons"]["softmax-rankmax"]["side"] = "above 0"
    assert not recheck_exp(cx)[0]


def test_paired_interval_covers_the_planted_difference():
    ex = _fake({"softmax": 0.1})
    c = E.paired(ex["runs"]["softmax"], ex["runs"]["sparsemax"], level=0.99)
    assert c["lo"] < 0.1 < c["hi"] and c["users"] == USERS


def test_missing_data_is_undecided_and_tried_once(monkeypatch):
    from numerics.data import DataError

    calls = []

    def offline(*key):
        calls.append(key)
        raise DataError("could not download recbole==1.2.1 (offline)")

    monkeypatch.setattr(E, "results", offline)
    monkeypatch.setattr(E, "_UNAVAILABLE", {})
    ctx = RunContext(profile="full", seed=7)
    for ev in (E.exp_ordering("softmax", ctx), E.sop_ahead_of_wop(ctx), E.frontier("softmax-undominated", ctx)):
        assert ev.outcome == "undecided" and "offline" in ev.detail
    assert calls == [("full", 7, "cpu")]
