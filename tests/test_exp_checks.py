"""The EXP-1 / DYN-3 / CPX-2 decisions on planted experiment outcomes: each can hold, fail
(with a counterexample that reports/recheck.py re-verifies from the JSON alone) or stay
undecided; none can only pass.  The re-checkers reject stored non-counterexamples."""
import json
from dataclasses import replace

import pytest
import torch

from audit import RunContext
from numerics import exp_checks as E
from numerics.recsys.methods import METHODS
from reports.planted_exp import swapped, theory_shaped
from reports.recheck import recheck_one

CTX = RunContext(alpha=0.004 / 15)


def _ex(levels: dict[str, float] | None = None, flops: dict | None = None) -> dict:
    """The theory-shaped outcome, with some methods' per-user NDCG shifted."""
    ex = theory_shaped(CTX)
    runs = {m: [replace(r, per_user={k: (v + (levels or {}).get(m, 0.0)).clamp(0, 1) for k, v in r.per_user.items()})
                for r in rs] for m, rs in ex["runs"].items()}
    return ex | {"runs": runs, "flops": ex["flops"] | (flops or {})}


def _stored(ev):
    return json.loads(json.dumps(ev.to_json()))["counterexample"]


def _recheck(cid, reading, ev):
    return recheck_one(cid, reading, _stored(ev))


def test_theory_shaped_outcome_holds_everywhere():
    ex = theory_shaped(CTX)
    for m in METHODS:
        assert E.exp_ordering(m, CTX, ex=ex).outcome == "holds", m
    assert E.sop_ahead_of_wop(CTX, ex=ex).outcome == "holds"
    for r in ("softmax-undominated", "approximations-cheaper", "approximations-cheaper/per-interaction"):
        assert E.frontier(r, CTX, ex=ex).outcome == "holds", r


def test_a_method_above_softmax_refutes_and_rechecks():
    ex = _ex({"rankmax": 0.2, "hsm": 0.2})
    ev = E.exp_ordering("rankmax", CTX, ex=ex)
    assert ev.outcome == "fails" and _recheck("EXP-1", "rankmax", ev)[0]
    top = E.exp_ordering("softmax", CTX, ex=ex)
    assert top.outcome == "fails" and set(top.counterexample["comparisons"]) == {"softmax-rankmax", "softmax-hsm"}
    assert _recheck("EXP-1", "softmax", top)[0]
    dyn = E.sop_ahead_of_wop(CTX, ex=ex)
    assert dyn.outcome == "fails" and _recheck("DYN-3", "sop-vs-wop", dyn)[0]
    dom = E.frontier("softmax-undominated", CTX, ex=ex)  # hsm is cheaper and better
    assert dom.outcome == "fails" and list(dom.counterexample["comparisons"]) == ["hsm-softmax"]
    assert _recheck("CPX-2", "softmax-undominated", dom)[0]


def test_a_tie_is_undecided():
    ex = _ex({"nce": 0.1})  # nce level with softmax; cheaper in the planted counts
    assert E.exp_ordering("nce", CTX, ex=ex).outcome == "undecided"
    assert E.exp_ordering("softmax", CTX, ex=ex).outcome == "undecided"  # "at the top" is not earned by a tie
    assert E.frontier("softmax-undominated", CTX, ex=ex).outcome == "undecided"


def test_popularity_above_a_model_refutes():
    ev = E.exp_ordering("popularity", CTX, ex=_ex({"sparsemax": -0.25}))
    assert ev.outcome == "fails" and "sparsemax-popularity" in ev.counterexample["comparisons"]
    assert _recheck("EXP-1", "popularity", ev)[0]


@pytest.mark.parametrize("reading,ref", [("approximations-cheaper", "softmax"),
                                         ("approximations-cheaper/per-interaction", E.PER_INTERACTION)])
def test_a_dearer_approximation_refutes_cheaper(reading, ref):
    ex = swapped(theory_shaped(CTX), ref, "nce", what="flops")
    ev = E.frontier(reading, CTX, ex=ex)
    assert ev.outcome == "fails" and "nce" in ev.detail and _recheck("CPX-2", reading, ev)[0]


def test_levels_split_the_checks_share_by_bonferroni():
    ex = theory_shaped(CTX)
    assert E.exp_ordering("softmax", CTX, ex=ex).figures["level"] == pytest.approx(1 - CTX.alpha / 10)
    assert E.exp_ordering("popularity", CTX, ex=ex).figures["level"] == pytest.approx(1 - CTX.alpha / 10)
    assert E.exp_ordering("nce", CTX, ex=ex).figures["level"] == pytest.approx(1 - CTX.alpha)
    assert E.sop_ahead_of_wop(CTX, ex=ex).figures["level"] == pytest.approx(1 - CTX.alpha / 3)
    # six approximations are cheaper than softmax in the theory-shaped counts
    assert E.frontier("softmax-undominated", CTX, ex=ex).figures["level"] == pytest.approx(1 - CTX.alpha / 6)
    with pytest.raises(ValueError, match="alpha"):
        E.level(RunContext(alpha=0.0), 3)


def test_a_wider_share_separates_what_a_narrow_one_does_not():
    """The same planted difference: separated at a generous level, not at a strict one --
    the level is what the check's share of the budget sets."""
    ex = _ex({"ssm/uniform": 0.1 - 0.0035})
    loose, strict = RunContext(alpha=0.2), RunContext(alpha=1e-9)
    assert E.exp_ordering("ssm/uniform", loose, ex=ex).outcome == "holds"
    assert E.exp_ordering("ssm/uniform", strict, ex=ex).outcome == "undecided"


def test_paired_interval_covers_the_planted_difference():
    ex = _ex({"softmax": -0.05})
    c = E.paired(ex["runs"]["softmax"], ex["runs"]["sparsemax"], level=0.99)
    assert c["lo"] < 0.05 < c["hi"] and c["users"] == 200


# ------------------------------------------------------------------ re-checkers reject non-counterexamples
def _fails_cx():
    ev = E.exp_ordering("rankmax", CTX, ex=_ex({"rankmax": 0.2}))
    return _stored(ev)


def test_recheck_rejects_a_tampered_side():
    cx = _fails_cx()
    cx["comparisons"]["softmax-rankmax"]["side"] = "above 0"
    assert not recheck_one("EXP-1", "rankmax", cx)[0]


def test_recheck_rejects_a_comparison_that_straddles_0():
    cx = _fails_cx()
    d = cx["comparisons"]["softmax-rankmax"]["per_user_diff"]
    cx["comparisons"]["softmax-rankmax"]["per_user_diff"] = [x - sum(d) / len(d) for x in d]  # mean 0
    ok, msg = recheck_one("EXP-1", "rankmax", cx)
    assert not ok and "not below 0" in msg


def test_recheck_rejects_the_prediction_holding():
    """softmax above sparsemax is what EXP-1[sparsemax] predicts: not a counterexample."""
    ex = theory_shaped(CTX)
    c = E.paired(ex["runs"]["softmax"], ex["runs"]["sparsemax"], 1 - CTX.alpha)
    cx = {"level": 1 - CTX.alpha, "comparisons": {"softmax-sparsemax": {
        "side": "above 0", "per_user_diff": c["d"].tolist()}}}
    assert not recheck_one("EXP-1", "sparsemax", cx)[0]
    cx["comparisons"]["softmax-sparsemax"]["side"] = "below 0"
    assert not recheck_one("EXP-1", "sparsemax", cx)[0]


def test_recheck_rejects_a_comparison_of_another_row_and_a_low_level():
    cx = _fails_cx()
    assert not recheck_one("EXP-1", "nce", cx)[0]      # stored softmax-rankmax under EXP-1[nce]
    cx["level"] = 0.5
    assert not recheck_one("EXP-1", "rankmax", cx)[0]


def test_recheck_rejects_a_dominating_method_stored_as_dearer():
    ev = E.frontier("softmax-undominated", CTX, ex=_ex({"hsm": 0.2}))
    cx = _stored(ev)
    assert recheck_one("CPX-2", "softmax-undominated", cx)[0]
    cx["flops_per_epoch"]["hsm"] = cx["flops_per_epoch"]["softmax"] * 2
    ok, msg = recheck_one("CPX-2", "softmax-undominated", cx)
    assert not ok and "not cheaper" in msg


def test_recheck_rejects_every_approximation_cheaper():
    cx = {"reference": "softmax", "flops_per_epoch": {"softmax": 10.0, "nce": 9.0, "hsm": 3.0}}
    assert not recheck_one("CPX-2", "approximations-cheaper", cx)[0]
    cx["flops_per_epoch"]["nce"] = 10.0
    assert recheck_one("CPX-2", "approximations-cheaper", cx)[0]


def test_dyn3_recheck_rejects_a_non_wop_comparison():
    ev = E.sop_ahead_of_wop(CTX, ex=_ex({"rankmax": 0.2}))
    cx = _stored(ev)
    assert recheck_one("DYN-3", "sop-vs-wop", cx)[0]
    cx["comparisons"] = {"softmax-hsm": cx["comparisons"]["softmax-rankmax"]}
    assert not recheck_one("DYN-3", "sop-vs-wop", cx)[0]


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
