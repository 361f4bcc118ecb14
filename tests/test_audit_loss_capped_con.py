"""CON-3 (O1, O2) and DYN-1 of a user's loss on the capped simplex C_k (issue 23 §4, §6): rankmax through
the user path reproduces the main registry's CON-3[rankmax/O1], CON-3[rankmax/O2] and DYN-1[rankmax]
verdicts; the entropy p log p on C_k (a dense g with a cap) gets the k-dependent claims the suite derives;
every planted defect turns its check for the reason it stands for, the planted truths hold, and the
derivations and numeric routes decide the opposite claims against themselves.

Ground truth from outside the code under test, by hand:
* rankmax is clip(θ − τ, 0, 1) on C_k (Kong et al. 2020): at k = 2, θ = (2, 3/2, −1/2, −2) with τ = −1/2
  gives (1, 1, 0, 0) -- ties at 1 and at 0 between different scores (not SOP; the main registry's witness);
* the entropy on C_k is ŷᵢ = min(1, exp(θᵢ − τ − 1)) (g′(q) = log q + 1, g′(1⁻) = 1): at k = 3,
  θ = (2, 1, 1 − log 2, 1 − log 2) gives (1, 1, ½, ½) with τ = 0 -- θ₁ > θ₂ tied at the cap; at k ≤ 2 at
  most k − 1 entries fit at 1 beside positive ones;
* at k = 2, θᵗ = (2, 1, −t, −t, −t) has τ_t = log(1 + 3e^{−t−1}) (ŷ₁ = 1, e^{−τ}(1 + 3e^{−t−1}) = 1), so
  ŷ → (1, 1, 0, 0, 0) while θ₁ − θ₂ = 1: a minimizing sequence of η = (1, 1, 0, 0, 0) whose limit splits a tie.
"""
import math

import pytest
from planted_run import planted_result
import sympy as sp
import torch

import proofs.user.capped_con as sym_cc
from audit import Evidence, RunContext, SuiteDefect
from audit.builtin_losses import RANKMAX, SOFTMAX
from numerics.user import capped_con as num_cc
from numerics.user.capped import capped_map
from proofs.user.facts import derive
from reports.user.claims import user_claims
from reports.user.claims_capped_con import ENTROPY_CAPPED, capped_con_dyn_claims
from reports.user.claims_con import _derived
from reports.registry import by_key
from reports.runner import run_claim, run_planted

pytestmark = pytest.mark.xdist_group("audit-loss-capped-con")
MAIN = ("CON-3[rankmax/O1]", "CON-3[rankmax/O2]", "DYN-1[rankmax]")
MINE = ("CON-3[user:rankmax/O1]", "CON-3[user:rankmax/O2]", "DYN-1[user:rankmax]")


@pytest.fixture(scope="module")
def rows():
    """The three rows of rankmax (through the user path's dispatch) and of the entropy on C_k."""
    out = {}
    ours = [c for c in user_claims(RANKMAX) if c.key in MINE]        # by key: other rows come and go beside them
    for loss, claims in ((RANKMAX, ours), (ENTROPY_CAPPED, capped_con_dyn_claims(ENTROPY_CAPPED))):
        for c in claims:
            row, crashed = run_claim(c, RunContext(), planted=False)
            assert not crashed
            out[c.key] = row
    return out


def test_the_dispatch_appends_the_three_rows():
    keys = [c.key for c in user_claims(RANKMAX)]
    i = keys.index(MINE[0])
    assert keys[i:i + 3] == list(MINE) and keys.index("CON-2[user:rankmax/multihot]") < i
    with pytest.raises(ValueError, match="loss must have domain 'capped'"):
        capped_con_dyn_claims(SOFTMAX)
    with pytest.raises(ValueError, match="reading must be"):
        sym_cc.sop_through(RANKMAX, "O3")


@pytest.mark.parametrize("mine,main", zip(MINE, MAIN))
def test_rankmax_through_the_user_path_gives_the_main_registrys_verdicts(rows, mine, main):
    row = rows[mine]
    assert row["verdict"] == by_key(main).expected == "verified"
    assert [e["outcome"] for e in row["evidence"]] == ["holds", "holds"]
    if mine.startswith("CON-3"):
        # weakly, not strictly, for every k, as the main rows state; the k = 1 witness re-checked outside
        assert row["constants"]["claim"] == "WOP" and row["constants"]["sop_through_k"] == 0
        words = "weakly but not strictly" if "O1" in mine else "splits a tie"
        assert words in row["statement"] and words in by_key(main).statement
        num = row["evidence"][1]["figures"]
        ws = num["sop_witness"]["witnesses"]         # one per k, each re-checked outside on C_k
        assert [w["k"] for w in ws] == [1, 2, 3] and sorted(num["witnesses"]) == ["1", "2", "3"]
        point = ws[0]["yhat" if "O1" in mine else "eta"]
        assert sum(point) == pytest.approx(1.0)   # k = 1: a simplex point
    else:
        assert "outside the support" in row["statement"] and "at the cap" in row["statement"]


def test_the_entropy_on_ck_is_strict_only_for_small_k(rows):
    o1, o2, dyn = (rows[f"{i}[user:entropy-capped{r}]"] for i, r in (("CON-3", "/O1"), ("CON-3", "/O2"), ("DYN-1", "")))
    assert [r["verdict"] for r in (o1, o2, dyn)] == ["verified"] * 3
    # O1 is strict up to k = 2, O2 at k = 1 only: they differ at k = 2
    assert (o1["constants"]["sop_through_k"], o2["constants"]["sop_through_k"]) == (2, 1)
    w = o1["evidence"][1]["figures"]["witnesses"]
    assert list(w) == ["3"] and w["3"]["flat"] == "cap" and w["3"]["yhat"][w["3"]["i"]] == 1.0
    assert [w["k"] for w in o1["evidence"][1]["figures"]["sop_witness"]["witnesses"]] == [3]   # SOP at k <= 2
    lim = o2["evidence"][1]["figures"]["limit"]
    assert lim["gap"] == 1.0 and lim["losses"][-1] < 1e-6 * lim["losses"][0]
    figs = dyn["evidence"][1]["figures"]
    assert figs["frac_min"] == 1.0 and figs["labelled_zero"] > 0 and dyn["constants"]["claim"] == "dense, capped"


def test_the_hand_computed_points():
    rank = capped_map(derive(RANKMAX))
    assert rank(torch.tensor([[2.0, 1.5, -0.5, -2.0]], dtype=torch.float64), 2).tolist() == [[1.0, 1.0, 0.0, 0.0]]
    ent = capped_map(derive(ENTROPY_CAPPED))
    y = ent(torch.tensor([[2.0, 1.0, 1 - math.log(2), 1 - math.log(2)]], dtype=torch.float64), 3)
    assert y[0, :2].tolist() == [1.0, 1.0] and y[0, 2:].tolist() == pytest.approx([0.5, 0.5], abs=1e-12)
    # the derivation's cap witness at k = 3 is that point
    theta, yhat, regions = sym_cc.cap_witness(ENTROPY_CAPPED, 3)
    assert [sp.simplify(t - v) for t, v in zip(theta, [2, 1, 1 - sp.log(2), 1 - sp.log(2)])] == [0] * 4
    assert yhat == [1, 1, sp.Rational(1, 2), sp.Rational(1, 2)] and regions == ["cap", "cap", "free", "free"]
    for t in (2, 8):
        y = ent(torch.tensor([[2.0, 1.0, -t, -t, -t]], dtype=torch.float64), 2)[0]
        tau = math.log(1 + 3 * math.exp(-t - 1))
        want = [math.exp(-tau)] + [math.exp(-t - 1 - tau)] * 3
        assert y[0] == 1.0 and y[1:].tolist() == pytest.approx(want, rel=1e-9)


# (loss, row, check, defect words, outcome, words in the crash / evidence detail)
NUMERIC = [
    (RANKMAX, 0, "order-search", "reversed", "crash", "WOP violated"),
    (RANKMAX, 0, "order-search", "leaking", "undecided", "no certified tie"),
    (RANKMAX, 1, "bayes-minimizer-order", "reversed", "crash", "fails the KKT conditions on C_k"),
    (RANKMAX, 1, "bayes-minimizer-order", "leaking", "undecided", "rule not met at k = [1, 2, 3]"),
    (RANKMAX, 2, "negative-gradient-fraction", "reversed", "crash", "fails the KKT conditions on C_k"),
    (RANKMAX, 2, "negative-gradient-fraction", "leaking", "undecided", "no labelled class reached the cap"),
    (ENTROPY_CAPPED, 0, "order-search", "reversed", "crash", "WOP violated"),
    (ENTROPY_CAPPED, 0, "order-search", "flushing", "crash", "that 60 digits resolve"),
    (ENTROPY_CAPPED, 1, "bayes-minimizer-order", "reversed", "crash", "contradicts SOP"),
    (ENTROPY_CAPPED, 1, "bayes-minimizer-order", "biased", "crash", "splits a tie"),
    (ENTROPY_CAPPED, 2, "negative-gradient-fraction", "reversed", "crash", "fails the KKT conditions on C_k"),
    (ENTROPY_CAPPED, 2, "negative-gradient-fraction", "leaking", "undecided", "no labelled class reached the cap"),
    (ENTROPY_CAPPED, 2, "negative-gradient-fraction", "flushing", "crash", "fails the KKT conditions on C_k"),
]
# (loss, row, check, defect words, the derivation, its decision under the defect, words in its steps)
SYMBOLIC = [
    (RANKMAX, 0, "order-O1", "reversed", lambda l: sym_cc.order_o1(l, 0), "fails",
     "$f' > 0$ on the free interval: False"),
    (RANKMAX, 0, "order-O1", "cap ignored", lambda l: sym_cc.order_o1(l, 0), "undecided",
     "tie at the cap is not certified"),
    (RANKMAX, 1, "order-O2", "sign flipped", lambda l: sym_cc.order_o2(l, 0, "holds"), "fails", "\\eta$: False)"),
    (RANKMAX, 2, "gradient-support", "smeared", lambda l: sym_cc.gradient_support(l, False, True, "holds"), "fails",
     "\\frac{1}{5000}"),
    (RANKMAX, 2, "gradient-support", "cap ignored", lambda l: sym_cc.gradient_support(l, False, True, "holds"), "fails",
     "G{\\left(c + 1 \\right)} - 1"),
    (ENTROPY_CAPPED, 0, "order-O1", "reversed", lambda l: sym_cc.order_o1(l, 2), "fails", "interval: False"),
    (ENTROPY_CAPPED, 0, "order-O1", "cap ignored", lambda l: sym_cc.order_o1(l, 2), "undecided", "not certified at"),
    (ENTROPY_CAPPED, 1, "order-O2", "sign flipped", lambda l: sym_cc.order_o2(l, 1, "holds"), "fails",
     "\\eta$: False)"),
    (ENTROPY_CAPPED, 2, "gradient-support", "flushed", lambda l: sym_cc.gradient_support(l, True, True, "holds"),
     "undecided", "positive: None"),
    (ENTROPY_CAPPED, 2, "gradient-support", "cap ignored", lambda l: sym_cc.gradient_support(l, True, True, "holds"),
     "fails", "G{\\left(c + 1 \\right)} - 1"),
]


def _check(loss, i, name):
    claim = capped_con_dyn_claims(loss)[i]
    return claim, next(c for c in claim.checks if c.name == name)


def test_the_tables_cover_every_planted_defect():
    declared = {(loss.name, i, chk.name, p.defect) for loss in (RANKMAX, ENTROPY_CAPPED)
                for i, c in enumerate(capped_con_dyn_claims(loss)) for chk in c.checks for p in chk.planted}
    listed = {(loss.name, i, name, p.defect) for loss, i, name, words, *_ in NUMERIC + SYMBOLIC
              for p in _check(loss, i, name)[1].planted if words in p.defect}
    assert listed == declared and len(declared) == len(NUMERIC) + len(SYMBOLIC)


@pytest.mark.parametrize("loss,i,check,defect,outcome,words", NUMERIC,
                         ids=[f"{d[0].name}-{d[2]}-{d[3]}" for d in NUMERIC])
def test_each_numeric_defect_turns_its_check_for_its_own_reason(loss, i, check, defect, outcome, words):
    claim, chk = _check(loss, i, check)
    res = planted_result(claim, chk, defect)
    assert res.outcome == outcome and words in res.detail


@pytest.mark.parametrize("loss,i,check,defect,call,outcome,words", SYMBOLIC,
                         ids=[f"{d[0].name}-{d[2]}-{d[3]}" for d in SYMBOLIC])
def test_each_symbolic_defect_turns_its_derivation_for_its_own_reason(loss, i, check, defect, call, outcome, words):
    """Entering by the patch the row declares (the FY-2 premise given as holding: it has its own row)."""
    _, chk = _check(loss, i, check)
    planted = next(p for p in chk.planted if defect in p.defect)
    assert call(loss).decision == "holds"
    with planted.patch():
        d = call(loss)
    assert d.decision == outcome and any(words in s for s in d.steps), d.steps


@pytest.mark.parametrize("loss,i,check", [(RANKMAX, 0, "order-search"), (ENTROPY_CAPPED, 1, "bayes-minimizer-order"),
                                          (ENTROPY_CAPPED, 2, "negative-gradient-fraction")])
def test_the_planted_truths_hold(loss, i, check):
    claim, chk = _check(loss, i, check)
    assert [r.outcome for r in run_planted(claim, chk, RunContext(), which="truths")] == ["holds"]


def test_the_derivations_decide_the_opposite_claims_against_themselves():
    oo = sp.oo
    # rankmax claimed SOP: the k = 1 witness (the simplex's) is the counterexample
    d = sym_cc.order_o1(RANKMAX, oo)
    assert d.decision == "fails" and d.counterexample["yhat"] == [0.5, 0.5, 0.0, 0.0]
    assert [sym_cc.order_o1(ENTROPY_CAPPED, m).decision for m in (0, 1, 2, 3, oo)] == \
        ["fails", "fails", "holds", "fails", "fails"]
    assert [sym_cc.order_o2(ENTROPY_CAPPED, m, "holds").decision for m in (0, 1, 2, oo)] == \
        ["fails", "holds", "fails", "fails"]
    assert sym_cc.gradient_support(ENTROPY_CAPPED, True, False, "holds").decision == "fails"
    assert sym_cc.gradient_support(RANKMAX, True, True, "holds").decision == "fails"
    assert sym_cc.order_o2(RANKMAX, 0, "undecided").decision == "undecided"      # no premise, no decision


def test_a_numeric_route_contradicting_the_derived_claim_fails_and_crashes_the_row():
    ev = num_cc.order_search(ENTROPY_CAPPED, sp.oo, RunContext())              # SOP claimed at k = 3 too
    assert ev.outcome == "fails" and ev.counterexample["k"] == 3
    assert ev.counterexample["yhat"][ev.counterexample["i"]] == ev.counterexample["yhat"][ev.counterexample["j"]] == 1.0
    ev = num_cc.gradient_fractions(ENTROPY_CAPPED, True, False, RunContext())  # "no labelled class at the cap"
    assert ev.outcome == "fails" and ev.counterexample["k"] >= 2
    with pytest.raises(SuiteDefect, match="contradicted by its own check"):
        _derived(Evidence("numeric", "order-search", "fails", "d", {}, {"theta": [0.0, 1.0]}, summary="s"))
