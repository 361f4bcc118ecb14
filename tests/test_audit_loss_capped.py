"""The FY rows of a user's loss on the capped simplex C_k (issue 23 §1, §4, §6): the built-in rankmax
through ``audit-loss`` reproduces the main registry's FY-1 … FY-4[rankmax] verdicts row for row,
every planted defect turns its check for the reason it stands for, and a wrong stated margin or
constant is refuted at k = 1 with counterexamples the outside re-checker confirms.

Ground truth from outside the code under test: rankmax (Ω = ½‖p‖² on C_k, Kong et al. 2020) has the
Euclidean projection clip(θ − τ, 0, 1) as its map, margin 1 and constant 1 for every k (CLAIMS.md §1,
the main registry's rows); the entropy on C_k has no margin (g′(0⁺) = −∞, Blondel, Martins &
Niculae 2020) and constant sup p = 1 (½ at k = 1, softmax's); Tsallis α = 3 has margin ½ and no
finite constant, binary entropy no margin and constant ¼ (s = p(1 − p), largest at p = ½)."""
import json

import pytest
import sympy as sp
import torch

from audit import RunContext, SuiteDefect
from audit.builtin_losses import RANKMAX, SOFTMAX
from audit.separable import SeparableLoss
from reports.user.audit_loss import audit
from reports.user.claims import user_claims
from reports.user.claims import capped_claims
from reports.recheck import recheck_results
from reports.registry import by_key
from reports.runner import clear_caches, run_claim, shown

P = sp.Symbol("p", positive=True)
pytestmark = pytest.mark.xdist_group("audit-loss-capped")


@pytest.fixture(scope="module")
def rankmax():
    """``audit-loss rankmax`` (the entry-point name), planted runs included."""
    return audit("rankmax", RunContext(), progress=None)


@pytest.mark.parametrize("i", range(4))
def test_rankmax_through_the_user_path_gives_the_main_registrys_verdicts(rankmax, i):
    results, crashed = rankmax
    assert not crashed and results["meta"]["subject"]["domain"] == "capped"
    row = results["claims"][i]
    assert (row["id"], row["reading"]) == (f"FY-{i + 1}", "user:rankmax")
    assert row["verdict"] == by_key(f"FY-{i + 1}[rankmax]").expected == "verified"
    assert row["constants"]["k"] == [1, 2, 3]
    # each check shown able to give both answers: every planted defect turned it
    assert shown(row) == (2, 2, 0)
    assert all(p["outcome"] in ("fails", "undecided", "crash") for e in row["evidence"] for p in e["planted"])


def test_rankmax_margin_1_and_constant_1_for_every_k(rankmax):
    fy3, fy4 = rankmax[0]["claims"][2:4]
    assert fy3["constants"]["margin"] == "1.0" and fy4["constants"]["bound"] == "1.0"
    search = next(e for e in fy4["evidence"] if e["check"] == "jacobian-search")["figures"]
    assert search["largest"] == pytest.approx(1.0, abs=1e-6) and search["construction"][0] == pytest.approx(1.0)


# (row, check, the planted defect's words, the reason it must crash for)
DEFECTS = [
    (0, "conjugate-kkt", "off by a constant", "differs from the dual route in the free region"),
    (0, "conjugate-kkt", "cap ignored", "in the cap region is G"),
    (0, "certified-argmax", "tempered", "differs from the certified primal solve"),
    (0, "certified-argmax", "reversed", "differs from the certified primal solve"),
    (0, "certified-argmax", "cap ignored", "differs from the certified primal solve by .* at k = 2"),
    (0, "certified-argmax", "off by a constant", "outside the certified"),
    (1, "bregman-hessian", "wrong sign", "differs from implicit differentiation on C_k"),
    (1, "bregman-hessian", "cap ignored", "does not decompose as stated in the cap region"),
    (1, "loss-properties", "sign flipped", "autograd gradient"),
    (1, "loss-properties", "off by a constant", r"L\(theta; yhat\) != 0"),
    (1, "loss-properties", "capped coordinates", "autograd gradient .* at k = 2"),
    (2, "margin-boundary", "tempered", "derived is contradicted"),
    (3, "jacobian-search", "sharpened", "Rayleigh quotient"),
]


@pytest.mark.parametrize("i,check,words,reason", DEFECTS)
def test_each_planted_defect_crashes_its_check_for_its_own_reason(i, check, words, reason):
    claim = capped_claims(RANKMAX)[i]
    chk = next(c for c in claim.checks if c.name == check)
    planted = next(p for p in chk.planted if words in p.defect)
    clear_caches()
    try:
        with pytest.raises(SuiteDefect, match=reason):
            chk.run_planted(planted, RunContext())
    finally:
        clear_caches()


def test_the_symbolic_defects_of_fy3_and_fy4_fail_with_a_k1_counterexample():
    for i in (2, 3):
        chk = capped_claims(RANKMAX)[i].checks[0]
        ev = chk.run_planted(chk.planted[0], RunContext())
        assert ev.outcome == "fails" and len(ev.counterexample["theta"]) in (2, 3)


def test_the_generic_map_returns_the_exact_label_at_k_2():
    """The bisection counts capped entries as integers: 1 − ulp + 1 no longer rounds up to k = 2."""
    from numerics.user.map import torch_map
    from proofs.user.facts import derive

    theta = torch.tensor([[1.613171422957091, 2.435326594005286, 0.6121714229570911]], dtype=torch.float64)
    assert torch_map(derive(RANKMAX))(theta, 2).tolist() == [[1.0, 1.0, 0.0]]


def test_a_wrong_stated_margin_is_refuted_at_k_1_and_rechecks_outside():
    loss = SeparableLoss("rankmax-half", P**2 / 2, P, domain="capped", margin=sp.Rational(1, 2))  # the margin is 1
    row, crashed = run_claim(capped_claims(loss)[2], RunContext(), planted=True)
    assert not crashed and row["verdict"] == "refuted"
    assert {e["check"]: e["outcome"] for e in row["evidence"]} == {"margin-derivation": "fails",
                                                                   "margin-boundary": "fails"}
    assert shown(row) == (2, 0, 2)                       # the planted truths (rankmax, margin 1) hold
    results = json.loads(json.dumps({"claims": [row]}))
    assert recheck_results(results)[1:3] == (2, 2)
    results["claims"][0]["constants"]["margin"] = "1.0"  # the true margin: they no longer re-check
    assert recheck_results(results)[2] == 0


def test_a_wrong_stated_constant_is_refuted_at_k_1_and_one_only_k_2_exceeds_too():
    low = SeparableLoss("rankmax-half-l", P**2 / 2, P, domain="capped", lipschitz=sp.Rational(1, 2))
    row, crashed = run_claim(capped_claims(low)[3], RunContext(), planted=True)
    assert not crashed and row["verdict"] == "refuted" and shown(row) == (2, 0, 2)
    results = json.loads(json.dumps({"claims": [row]}))
    assert recheck_results(results)[1:3] == (2, 2)
    # the entropy on C_k: ½ at k = 1, sup p = 1 at k >= 2; 3/4 is exceeded only at k >= 2, where the outside
    # re-checker now reads the record on C_k (the KKT conditions at the stored k)
    mid = SeparableLoss("entropy-c-34", SOFTMAX.g, SOFTMAX.x, domain="capped", lipschitz=sp.Rational(3, 4))
    row, _ = run_claim(capped_claims(mid)[3], RunContext(), planted=False)
    assert row["verdict"] == "refuted"
    found = [e["counterexample"] for e in row["evidence"] if e.get("counterexample")]
    assert found and all(c["k"] >= 2 and c["lambda_max"] > 0.75 for c in found)
    assert recheck_results(json.loads(json.dumps({"claims": [row]})))[1:3] == (len(found), len(found))


def test_the_capped_facts_of_the_named_gs():
    from proofs.user.capped import capped_facts

    def facts(g):
        f = capped_facts(SeparableLoss("x", g, P, domain="capped"))
        return f["margin"][0], f["Lipschitz >= (k = 1, n >= 3)"][0], f["Lipschitz (sup over k, n)"][0]

    assert facts((P**3 - P) / 6) == (sp.Rational(1, 2), sp.oo, sp.oo)
    assert facts(P * sp.log(P) + (1 - P) * sp.log(1 - P)) == (sp.oo, sp.Rational(1, 4), sp.Rational(1, 4))
    assert facts(SOFTMAX.g) == (sp.oo, sp.Rational(1, 2), 1)
    assert facts(RANKMAX.g) == (1, 1, 1)


def test_the_dispatch_and_bad_input():
    assert [c.key for c in user_claims(RANKMAX)] == [f"FY-{i}[user:rankmax]" for i in range(1, 5)] + [
        "CON-1[user:rankmax]", "CON-2[user:rankmax/multihot]", "CON-3[user:rankmax/O1]", "CON-3[user:rankmax/O2]",
        "DYN-1[user:rankmax]", "DYN-2[user:rankmax]"]
    with pytest.raises(ValueError, match="loss must have domain 'capped'"):
        capped_claims(SOFTMAX)
