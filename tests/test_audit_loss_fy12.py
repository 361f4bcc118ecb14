"""FY-1 and FY-2 of a user's loss (issue 23 items 4–5), ``recheck`` refusing a changed spec, and
``audit-loss --jobs``.

Ground truth from outside the code under test: softmax's closed form (torch.softmax) as a
correct author's map, softmax given as binary entropy's map as a wrong one (binary entropy's
map is σ(θᵢ − τ), not softmax); the planted defects must crash the rows for the reason
they stand for (two of our routes disagree), never pass."""
import json
from pathlib import Path

import pytest
import sympy as sp
import torch

from audit import RunContext, SuiteDefect
from audit.separable import SeparableLoss
from reports.user.claims import STATED_SOFTMAX, user_claims
from reports.recheck import main as recheck_main
from reports.recheck import recheck_results
from reports.runner import clear_caches, run_claim

P = sp.Symbol("p", positive=True)
BINENT_G = P * sp.log(P) + (1 - P) * sp.log(1 - P)


def _softmax_map(theta, k=1):
    return torch.softmax(theta, -1)


#: binary entropy with softmax stated as its map: wrong (its map is σ(θᵢ − τ))
BINENT_SOFTMAX_MAP = SeparableLoss("binent-softmax-map", BINENT_G, P, torch_map=_softmax_map)


def _row(loss, i, planted=False):
    return run_claim(user_claims(loss)[i], RunContext(), raise_errors=True, planted=planted)[0]


def test_a_correct_stated_map_is_verified():
    row = _row(STATED_SOFTMAX, 0)
    assert row["verdict"] == "verified"
    assert row["evidence"][1]["figures"]["map"] == "the author's"


def test_a_wrong_stated_map_is_refuted_and_the_point_that_beats_it_rechecks_outside():
    row = _row(BINENT_SOFTMAX_MAP, 0)
    assert row["verdict"] == "refuted"
    ev = {e["check"]: e for e in row["evidence"]}
    assert ev["conjugate-kkt"]["outcome"] == "holds" and ev["certified-argmax"]["outcome"] == "fails"
    cx = ev["certified-argmax"]["counterexample"]
    assert cx["side"] == "beats" and cx["gain"] > 1e-3
    results = json.loads(json.dumps({"claims": [row]}))
    assert recheck_results(results)[1:3] == (1, 1)
    tampered = json.loads(json.dumps(results))                     # a tampered figure: the stored gain
    tampered["claims"][0]["evidence"][1]["counterexample"]["gain"] = cx["gain"] * 1.01
    assert recheck_results(tampered)[2] == 0
    typo = json.loads(json.dumps(results))                         # a typo'd constant in g: p log p + (1-p) log(1-p) -> 2 p log p + ...
    typo["claims"][0]["constants"]["tree"] = ["*", ["q", "2"], typo["claims"][0]["constants"]["tree"]]
    assert recheck_results(typo)[2] == 0
    swapped = json.loads(json.dumps(results))                      # the map's point and the better one swapped
    c = swapped["claims"][0]["evidence"][1]["counterexample"]
    c["yhat"], c["point"] = c["point"], c["yhat"]
    assert recheck_results(swapped)[2] == 0


@pytest.mark.parametrize("i,check,defect,words", [
    (0, "conjugate-kkt", "off by a constant", "differs from the dual route"),
    (0, "certified-argmax", "tempered", "differs from the certified primal solve"),
    (0, "certified-argmax", "flushed", "differs from the certified primal solve"),
    (0, "certified-argmax", "reversed", "differs from the certified primal solve"),
    (0, "certified-argmax", "off by a constant", "outside the certified"),
    (1, "bregman-hessian", "wrong sign", "differs from implicit differentiation"),
    (1, "loss-properties", "sign flipped", "autograd gradient"),
    (1, "loss-properties", "off by a constant", "L(theta; yhat) != 0"),
])
def test_each_planted_defect_crashes_the_check_for_its_own_reason(i, check, defect, words):
    from audit.builtin_losses import SOFTMAX

    claim = user_claims(SOFTMAX)[i]
    chk = next(c for c in claim.checks if c.name == check)
    planted = next(p for p in chk.planted if defect in p.defect)
    clear_caches()
    try:
        with pytest.raises(SuiteDefect, match=words.replace("(", r"\(").replace(")", r"\)")):
            chk.run_planted(planted, RunContext())
    finally:
        clear_caches()


def test_recheck_refuses_results_whose_spec_now_names_another_loss(tmp_path, capsys, monkeypatch):
    from reports.user.audit_loss import subject

    import test_audit_loss as here

    results = {"schema": 1, "meta": {"subject": subject("test_audit_loss:BINENT", here.BINENT)}, "claims": []}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    assert recheck_main(["recheck", str(path)]) == 0
    monkeypatch.setattr(here, "BINENT", SeparableLoss("binent", P * sp.log(P) + (1 - P) * sp.log(1 - P) + P**2, P))
    assert recheck_main(["recheck", str(path)]) == 1
    assert "now resolves to a different loss" in capsys.readouterr().err
    results["meta"]["subject"]["spec"] = "test_audit_loss:GONE"
    path.write_text(json.dumps(results))
    assert recheck_main(["recheck", str(path)]) == 1
    assert "does not resolve now" in capsys.readouterr().err


@pytest.mark.xdist_group("dask-cluster")
def test_audit_loss_on_a_local_cluster_gives_the_bytes_of_an_in_process_run():
    from reports.user.audit_loss import audit
    from reports.execution import Engine
    from reports.report import dumps

    spec = "sparsemax"
    alone, _ = audit(spec, RunContext(seed=3), progress=None)
    with Engine(jobs=2) as engine:
        spread, crashed = audit(spec, RunContext(seed=3), progress=None, engine=engine)
    assert not crashed and dumps(spread) == dumps(alone)
