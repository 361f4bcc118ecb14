"""CON-1 and CON-2 (L1, L2) of a user's loss (issue 23 item 4): the pinned verdict table of the
five test losses, the built-ins through this path against the main registry, every planted
defect turning its check for its own reason, every planted truth holding, and the L2
counterexamples re-checking outside while tampered ones do not.

Ground truth from outside the code under test: FY losses with a strictly convex separable Ω are
top-k calibrated (Yang & Koyejo 2020; Blondel, Martins & Niculae 2020), DCG-consistent with the
summed label map and not with the normalized one (the main report's CON-2 rows; Ravikumar,
Tewari & Yang 2011 for the weighting); the sparsemax half-space gap is (a − b)²/4 by hand."""
import json

import pytest
from planted_run import planted_result
import sympy as sp

from audit import RunContext
from audit.builtin_losses import ENTMAX15, SOFTMAX, SPARSEMAX
from audit.separable import SeparableLoss
from reports.user.claims_rank import rank_claims
from reports.recheck import recheck_one
from reports.registry import by_key
from reports.runner import run_claim, run_planted

P = sp.Symbol("p", positive=True)
TSALLIS3 = SeparableLoss("tsallis-3", (P**3 - P) / 6, P)
BINENT = SeparableLoss("binent", P * sp.log(P) + (1 - P) * sp.log(1 - P), P)
LOSSES = {"softmax": SOFTMAX, "sparsemax": SPARSEMAX, "entmax-1.5": ENTMAX15, "tsallis-3": TSALLIS3, "binent": BINENT}
# CON-1, CON-2/L1, CON-2/L2 for every strictly convex g: verified, verified, refuted (both L2 checks fail)
TABLE = ("verified", "verified", "refuted")
pytestmark = pytest.mark.xdist_group("audit-loss-rank")


@pytest.fixture(scope="module")
def rows():
    return {name: [run_claim(c, RunContext(), raise_errors=True)[0] for c in rank_claims(loss)]
            for name, loss in LOSSES.items()}


@pytest.mark.parametrize("name", list(LOSSES))
def test_the_verdict_table(rows, name):
    con1, l1, l2 = rows[name]
    assert [r["id"] + "[" + r["reading"] + "]" for r in rows[name]] == [
        f"CON-1[user:{name}]", f"CON-2[user:{name}/L1]", f"CON-2[user:{name}/L2]"]
    assert (con1["verdict"], l1["verdict"], l2["verdict"]) == TABLE
    assert [e["outcome"] for e in l2["evidence"]] == ["fails", "fails"]
    assert {e["check"] for e in con1["evidence"]} == {"halfspace-gap", "topk-certificate"}
    fig = next(e for e in con1["evidence"] if e["kind"] == "numeric")["figures"]
    assert fig["certified"] == fig["problems"] > 0 and fig["min_gap"] > 0


@pytest.mark.parametrize("name", ["softmax", "sparsemax", "entmax-1.5"])
def test_the_builtins_give_the_main_reports_verdicts(rows, name):
    base = name.split("-")[0]
    con1, l1, l2 = rows[name]
    assert con1["verdict"] == by_key(f"CON-1[{base}]").expected
    assert l1["verdict"] == by_key(f"CON-2[{base}/L1]").expected
    assert l2["verdict"] == by_key(f"CON-2[{base}/L2]").expected


def test_the_sparsemax_gap_is_the_hand_value(rows):
    """g = p²/2: g(a) + g(b) − 2g((a + b)/2) = (a − b)²/4; the certified gaps on the grid are
    multiples of 1/(4·count²), the smallest (1/16)²/4 here."""
    import numpy as np

    from numerics.user import rank as num

    eta = np.array([[0.5, 0.25, 0.25, 0.0], [0.1, 0.2, 0.3, 0.4]])
    pair = np.array([[0, 3], [3, 0]])
    omega = num._omega(SPARSEMAX)
    a, b = eta[[0, 1], pair[:, 0]], eta[[0, 1], pair[:, 1]]
    assert np.allclose(num._closed_form(omega, eta, pair, omega(eta)), (a - b) ** 2 / 4, atol=1e-15)
    fig = next(e for e in rows["sparsemax"][0]["evidence"] if e["kind"] == "numeric")["figures"]
    assert fig["max_closed_form_offset"] < 1e-12


# (loss, row, check, defect words, the outcome, the reason)
DEFECTS = [
    (SPARSEMAX, 0, "halfspace-gap", "moved off the midpoint", "undecided", ""),
    (SPARSEMAX, 0, "topk-certificate", "moved off the midpoint", "crash", "outside the certified bracket"),
    (SPARSEMAX, 0, "topk-certificate", "tempered", "crash", "fails the KKT conditions"),
    (BINENT, 0, "topk-certificate", "tempered", "crash", "fails the KKT conditions"),
    (SPARSEMAX, 1, "bayes-order", "linear gains", "undecided", ""),
    (SPARSEMAX, 1, "bayes-order", "sign flipped", "undecided", ""),
    (SPARSEMAX, 1, "dcg-enumeration", "without its weights", "crash", "contradicted by its own check"),
    (SPARSEMAX, 1, "dcg-enumeration", "reversed", "crash", "properness"),
    (BINENT, 1, "dcg-enumeration", "tempered", "crash", "properness"),
]


def _check(loss, i, name):
    claim = rank_claims(loss)[i]
    return claim, next(c for c in claim.checks if c.name == name)


@pytest.mark.parametrize("loss,i,check,defect,outcome,words", DEFECTS,
                         ids=[f"{d[0].name}-{d[2]}-{d[3].split()[0]}" for d in DEFECTS])
def test_each_planted_defect_turns_its_check_for_its_own_reason(loss, i, check, defect, outcome, words):
    claim, chk = _check(loss, i, check)
    res = planted_result(claim, chk, defect)
    assert res.outcome == outcome and words in res.detail


def test_every_declared_defect_is_pinned_above():
    for i, claim in enumerate(rank_claims(SPARSEMAX)):
        for c in claim.checks:
            for p in c.planted:
                assert any(d[1] == i and d[2] == c.name and d[3] in p.defect for d in DEFECTS), p.defect


@pytest.mark.parametrize("i,check", [(0, "topk-certificate"), (1, "dcg-enumeration"), (2, "bayes-order"),
                                     (2, "dcg-enumeration")])
def test_the_planted_truths_hold(i, check):
    claim, chk = _check(SPARSEMAX, i, check)
    res = run_planted(claim, chk, RunContext(), which="truths")
    assert res and [r.outcome for r in res] == ["holds"] * len(res)


@pytest.mark.parametrize("name", ["binent", "tsallis-3"])
def test_the_l2_counterexamples_recheck_outside_and_tampered_ones_do_not(rows, name):
    l2 = rows[name][2]
    constants = l2["constants"]
    for ev in l2["evidence"]:
        cx = json.loads(json.dumps(ev["counterexample"]))
        assert recheck_one("CON-2", l2["reading"], cx, constants)[0], ev["check"]
        i, j = cx["pair"]
        swapped = [*cx["theta"]]
        swapped[i], swapped[j] = swapped[j], swapped[i]
        for reading, c, x in [(l2["reading"].replace("/L2", "/L1"), {**constants, "label_map": "L1"}, cx),
                              (l2["reading"], constants, {**cx, "theta": swapped}),
                              (l2["reading"], {**constants, "tree": ["*", ["q", "2"], constants["tree"]]}, cx),
                              (l2["reading"], constants, {**cx, "regret": cx["regret"] * 1.01})]:
            assert not recheck_one("CON-2", reading, x, c)[0]


@pytest.mark.parametrize("loss", [SOFTMAX, TSALLIS3], ids=["dense", "sparse"])
def test_a_law_with_an_irrelevant_item_rechecks(loss):
    """q_j = 0: the Bayes score g'(0+) - 1 (sparse) or g'(1e-300) (dense, a point of the minimizing
    sequence) re-checks as a Bayes point; the same score at the support's level does not."""
    import numpy as np

    from numerics.user import rank as num
    from numerics.con.dcg import dcg_regret

    D = [{"p": 0.4, "r": [0, 2, 0, 0]}, {"p": 0.6, "r": [0, 0, 1, 0]}]      # the main report's L2 law, n = 4
    theta = num._scores(loss, np.array([[0.0, 0.4, 0.6, 0.0]]))[0].tolist()
    regret = dcg_regret([0, 1.2, 0.6, 0], theta)[0]
    cx = {"D": D, "theta": theta, "pair": [1, 2], "regret": regret}
    c = {"tree": loss.tree(), "label_map": "L2", "gain_base": 2}
    ok, msg = recheck_one("CON-2", f"user:{loss.name}/L2", cx, c)
    assert ok, msg
    assert not recheck_one("CON-2", f"user:{loss.name}/L2", {**cx, "theta": [theta[1], *theta[1:]]}, c)[0]


def test_a_g_infinite_at_one_says_its_risk_is_read_centred():
    """g = −log(1 − p) + p² has g(1⁻) = +∞, so L(θ; e_y) = +∞ at every θ: CON-1 and CON-2 say they read
    R without its infinite constant (L(θ; η)); a g finite at 1 (binary entropy) says nothing of it."""
    import sympy as sp

    from audit.separable import SeparableLoss
    from reports.user.claims_rank import rank_claims

    p = sp.Symbol("p", positive=True)
    unbounded = SeparableLoss("unbounded", -sp.log(1 - p) + p**2, p)
    binent = SeparableLoss("binent", p * sp.log(p) + (1 - p) * sp.log(1 - p), p)
    assert all("read centred" in c.statement for c in rank_claims(unbounded))
    assert not any("read centred" in c.statement for c in rank_claims(binent))
