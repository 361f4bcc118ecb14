"""CON-3 (O1, O2) and DYN-1 of a user's loss (issue 23 item 4): the planted defects turn each
check for the reason they stand for, the planted truths hold, and the derivations decide the
opposite claim against themselves.

Ground truth from outside the code under test: softmax is strictly order preserving with a
gradient on every class (ŷ = softmax(θ) > 0), sparsemax only weakly, with exact zeros off the
support (Martins & Astudillo 2016; its map at θ = (½, ½, 0, −1) is (½, ½, 0, 0) by hand).
The verdict tables of the five test losses are pinned in tests/test_audit_loss.py."""
import pytest
from planted_run import planted_result

from audit import RunContext, SuiteDefect
from audit.builtin_losses import SOFTMAX, SPARSEMAX
from proofs.user import con as sym_con
from reports.user.claims_con import con_dyn_claims
from reports.runner import run_planted

# (loss, row index, check, defect words, the outcome, the reason in the crash / the evidence)
DEFECTS = [
    (SOFTMAX, 0, "order-search", "flushing", "crash", "ties that 60 digits resolve"),
    (SOFTMAX, 1, "bayes-minimizer-order", "biased", "crash", "splits a tie"),
    (SOFTMAX, 2, "negative-gradient-fraction", "flushing", "crash", "fails the KKT conditions"),
    (SPARSEMAX, 0, "order-search", "reversed", "crash", "WOP violated"),
    (SPARSEMAX, 2, "negative-gradient-fraction", "reversed", "crash", "fails the KKT conditions"),
    (SPARSEMAX, 0, "order-search", "leaking", "undecided", "no exact tie found"),
    (SPARSEMAX, 1, "bayes-minimizer-order", "leaking", "undecided", "no tie split found"),
    (SPARSEMAX, 2, "negative-gradient-fraction", "leaking", "undecided", "no zero gradient observed"),
]


def _check(loss, i, name):
    claim = con_dyn_claims(loss)[i]
    return claim, next(c for c in claim.checks if c.name == name)


@pytest.mark.parametrize("loss,i,check,defect,outcome,words", DEFECTS,
                         ids=[f"{d[0].name}-{d[2]}-{d[3]}" for d in DEFECTS])
def test_each_planted_defect_turns_its_check_for_its_own_reason(loss, i, check, defect, outcome, words):
    claim, chk = _check(loss, i, check)
    res = planted_result(claim, chk, defect)
    assert res.outcome == outcome and words in res.detail


@pytest.mark.parametrize("i,check", [(0, "order-search"), (1, "bayes-minimizer-order"),
                                     (2, "negative-gradient-fraction")])
def test_the_planted_truths_hold(i, check):
    claim, chk = _check(SPARSEMAX, i, check)
    assert [r.outcome for r in run_planted(claim, chk, RunContext(), which="truths")] == ["holds"]


@pytest.mark.parametrize("loss,i,check,defect,call,outcome", [
    (SPARSEMAX, 0, "order-O1", "reversed", lambda: sym_con.order_o1(SPARSEMAX, "WOP"), "fails"),
    (SOFTMAX, 1, "order-O2", "sign flipped", lambda: sym_con.order_o2(SOFTMAX, "SOP", "holds"), "fails"),
    (SOFTMAX, 2, "gradient-support", "flushed", lambda: sym_con.gradient_support(SOFTMAX, True, "holds"), "undecided"),
    (SPARSEMAX, 2, "gradient-support", "smeared", lambda: sym_con.gradient_support(SPARSEMAX, False, "holds"), "fails"),
], ids=["O1-reversed-map", "O2-sign-flipped", "DYN1-flushed", "DYN1-smeared"])
def test_each_planted_derivation_defect_turns_the_derivation(loss, i, check, defect, call, outcome):
    """The derivations' planted inputs, entering by the patch the row declares (the FY-2 premise
    given as holding: it is decided in its own row)."""
    _, chk = _check(loss, i, check)
    planted = next(p for p in chk.planted if defect in p.defect)
    assert call().decision == "holds"
    with planted.patch():
        assert call().decision == outcome


def test_the_derivations_decide_the_opposite_claim_against_themselves():
    # sparsemax claimed SOP: the exact witness is the counterexample, (½, ½, 0, 0) at θ = (½, ½, 0, −1)
    d = sym_con.order_o1(SPARSEMAX, "SOP")
    assert d.decision == "fails"
    assert d.counterexample == {"theta": [0.5, 0.5, 0.0, -1.0], "i": 2, "j": 3, "yhat": [0.5, 0.5, 0.0, 0.0]}
    assert sym_con.order_o2(SPARSEMAX, "SOP", "holds").decision == "fails"
    # softmax claimed WOP-not-SOP: no witness exists, the derivation refuses the claim
    assert sym_con.order_o1(SOFTMAX, "WOP").decision == "fails"
    assert sym_con.gradient_support(SOFTMAX, False, "holds").decision == "fails"
    assert sym_con.gradient_support(SPARSEMAX, True, "holds").decision == "fails"
    # a premise that does not hold leaves the claim undecided, not decided
    assert sym_con.order_o2(SOFTMAX, "SOP", "undecided").decision == "undecided"


def test_a_numeric_route_contradicting_the_derived_claim_crashes_the_row():
    from reports.user.claims_con import _derived
    from audit import Evidence

    with pytest.raises(SuiteDefect, match="contradicted by its own check"):
        _derived(Evidence("numeric", "order-search", "fails", "d", {}, {"theta": [0.0, 1.0]}, summary="s"))
