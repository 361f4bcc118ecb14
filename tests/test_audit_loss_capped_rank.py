"""CON-1 (top-k′ calibration, k-subset labels) and CON-2 (DCG consistency, the multi-hot label) of a
user's loss on the capped simplex C_k (issue 23 §4): rankmax through the user path reproduces the main
registry's CON-1[rankmax] and CON-2[rankmax/multihot] verdicts (verified); the entropy p log p on C_k
gets what the suite derives; every planted defect turns its check for the reason it stands for, the
planted truths hold, and a g with g(1⁻) = +∞ (k-hot labels outside dom Ω) is left inconclusive.

Ground truth from outside the code under test, by hand (labels k-subsets S, η = P(i ∈ S) ∈ C_k,
R = L(·; η) + const since Ω(1_S) = k g(1) + (n − k) g(0) is the same for every S):
* the half-space θᵢ ≤ θⱼ (a = ηᵢ > b = ηⱼ) keeps R at least g(a) + g(b) − 2g((a + b)/2) above inf R; on
  C_k the dual interval is μ ∈ [0, min(a, 1 − b)] and μ* = (a − b)/2 lies in it (1 − b − μ* =
  (2 − a − b)/2 > 0): the simplex's gap, a = 1 included.
  - rankmax, g = p²/2: the gap is (a − b)²/4.  At k = 2, η = (1, ½, ½, 0): pair (1, 4) gives ¼, pairs
    (1, 2) and (2, 4) give 1/16.  Top-k′ calibrated: CON-1 verified (the main row's verdict).
  - entropy on C_k, g = p log p (g(0⁺) = g(1) = 0, g′ = log p + 1, g′(0⁺) = −∞, g′(1⁻) = 1): the gap is
    a log a + b log b − (a + b) log((a + b)/2): at (1, 0) log 2 = 0.693147, at (1, ½)
    ½ log ½ − (3/2) log(3/4) = 0.0849495, at (½, ¼) 0.0424748, at (⅓, 0) (1/3) log 2 = 0.231049.
    All positive (strict convexity): CON-1 verified.
* binary relevance with |r| = k: q = E r = η = E[G(r)] (G(1) = 1).  Bayes points ŷ(θ) = η: θᵢ − τ = g′(ηᵢ)
  inside, ≥ g′(1⁻) at ones, ≤ g′(0⁺) at zeros.
  - rankmax: θ − τ = η inside, ≥ 1 at ones, ≤ 0 at zeros; ŷ = clip(θ − τ, 0, 1): at k = 2,
    θ = (2, ½, ½, −1) gives (1, ½, ½, 0) with τ = 0.  Strictly increasing inside, ones above, zeros below:
    only ties of η split, which carry equal E[G]: CON-2/multihot verified (the main row's verdict).
  - entropy: θ − τ = log η + 1 inside (θ = (2, 1 − log 2, 1 − log 2, −t) at k = 2 gives
    ŷ → (1, ½, ½, 0) with τ → 0 as t → ∞; the one attained at the cap g′(1⁻) = 1, the zero only in the
    limit): CON-2/multihot verified.
* g = −log(1 − p) + p²: g(1⁻) = +∞, so every k-hot label has Ω = +∞ and L ≡ +∞: the readings do not
  apply, both rows inconclusive (never verified, never refuted).
"""
import math

import numpy as np
import pytest
from planted_run import planted_result
import sympy as sp
import torch

import numerics.user.capped_rank as num_cr
import proofs.user.capped_rank as sym_cr
from audit import RunContext
from audit.builtin_losses import RANKMAX, SOFTMAX
from audit.separable import SeparableLoss
from numerics.user import rank as num_rank
from numerics.con.dcg import dcg_regret
from numerics.user.capped import capped_map
from proofs.user.facts import derive
from reports.user.claims import user_claims
from reports.user.claims_capped_con import ENTROPY_CAPPED
from reports.user.claims_capped_rank import capped_rank_claims
from reports.registry import by_key
from reports.runner import run_claim, run_planted

pytestmark = pytest.mark.xdist_group("audit-loss-capped-rank")
MINE = ("CON-1[user:rankmax]", "CON-2[user:rankmax/multihot]")
MAIN = ("CON-1[rankmax]", "CON-2[rankmax/multihot]")
P = sp.Symbol("p", positive=True)
UNBOUNDED = SeparableLoss("unbounded-c", -sp.log(1 - P) + P**2, P, domain="capped")


@pytest.fixture(scope="module")
def rows():
    """The two rows of rankmax (through the user path's dispatch) and of the entropy on C_k."""
    out = {}
    ours = [c for c in user_claims(RANKMAX) if c.key in MINE]
    for c in ours + capped_rank_claims(ENTROPY_CAPPED):
        row, crashed = run_claim(c, RunContext(), planted=False)
        assert not crashed
        out[c.key] = row
    return out


def test_the_dispatch_puts_the_rows_after_fy4_and_before_con3():
    keys = [c.key for c in user_claims(RANKMAX)]
    i = keys.index("FY-4[user:rankmax]")
    assert keys[i + 1:i + 4] == [*MINE, "CON-3[user:rankmax/O1]"]
    with pytest.raises(ValueError, match="loss must have domain 'capped'"):
        capped_rank_claims(SOFTMAX)


@pytest.mark.parametrize("mine,main", zip(MINE, MAIN))
def test_rankmax_through_the_user_path_gives_the_main_registrys_verdicts(rows, mine, main):
    row = rows[mine]
    assert row["verdict"] == by_key(main).expected == "verified"
    assert [e["outcome"] for e in row["evidence"]] == ["holds", "holds"]
    assert row["constants"]["k"] == [1, 2, 3]


def test_the_entropy_on_ck_is_calibrated_and_consistent(rows):
    con1, con2 = rows["CON-1[user:entropy-capped]"], rows["CON-2[user:entropy-capped/multihot]"]
    assert (con1["verdict"], con2["verdict"]) == ("verified", "verified")
    fig = con1["evidence"][1]["figures"]
    # every pair certified, every k; η with a one reached the cap (attained: g'(1-) = 1); no zeros (dense)
    assert fig["certified"] == fig["problems"] > 0 and fig["min_gap"] > 0 and sorted(fig["by_k"]) == ["1", "2", "3"]
    assert fig["etas_with_one"] > 0 and fig["caps_certified"] > 0 and fig["etas_with_zero"] == 0
    fig2 = con2["evidence"][1]["figures"]
    assert fig2["laws_with_one"] > 0 and fig2["laws_with_zero"] > 0 and fig2["max_regret"] == 0.0
    rfig = rows["CON-1[user:rankmax]"]["evidence"][1]["figures"]
    assert rfig["etas_with_one"] > 0 and rfig["etas_with_zero"] > 0 and rfig["etas_with_tie"] > 0


def test_the_hand_computed_gaps():
    eta = np.array([[1.0, 0.5, 0.5, 0.0]] * 3)
    pair = np.array([[0, 3], [0, 1], [1, 3]])
    omega = num_cr._omega_ck(RANKMAX)
    assert num_rank._closed_form(omega, eta, pair, omega(eta)) == pytest.approx([0.25, 1 / 16, 1 / 16], abs=1e-15)
    ent = num_cr._omega_ck(ENTROPY_CAPPED)
    eta2 = np.array([[1.0, 0.0, 0.5, 0.5], [1.0, 0.5, 0.5, 0.0], [0.5, 0.25, 0.25, 1.0]])
    pair2 = np.array([[0, 1], [0, 1], [0, 1]])
    assert num_rank._closed_form(ent, eta2, pair2, ent(eta2)) == pytest.approx(
        [math.log(2), 0.5 * math.log(0.5) - 1.5 * math.log(0.75), 0.0424748], abs=1e-7)
    # the derivation shows the same numbers for the given g (its illustration, at its exact points)
    steps = " ".join(sym_cr.topk_calibration(ENTROPY_CAPPED, "holds").steps)
    assert all(v in steps for v in ("0.0424748", "0.231049", "0.0849495", "0.693147"))
    assert "0.25" in " ".join(sym_cr.topk_calibration(RANKMAX, "holds").steps)
    # Ω is +∞ off C_k: a dual point past the cap is no lower bound
    assert omega(np.array([1.0, 1.0 + 1e-9, 0.0, 0.0])) == np.inf


def test_the_hand_computed_bayes_points():
    rank = capped_map(derive(RANKMAX))
    assert rank(torch.tensor([[2.0, 0.5, 0.5, -1.0]], dtype=torch.float64), 2).tolist() == [[1.0, 0.5, 0.5, 0.0]]
    ext, deep, star = num_cr._points(RANKMAX, np.array([[1.0, 0.5, 0.5, 0.0]]))
    assert ext.tolist() == [[1.0, 0.5, 0.5, 0.0]] and deep.tolist() == [[2.0, 0.5, 0.5, -1.0]]
    ent = capped_map(derive(ENTROPY_CAPPED))
    ext, deep, star = num_cr._points(ENTROPY_CAPPED, np.array([[1.0, 0.5, 0.5, 0.0]]))
    assert ext[0, :3].tolist() == pytest.approx([1.0, 1 - math.log(2), 1 - math.log(2)], abs=1e-15)
    assert deep[0, 0] == 2.0 and ext[0, 3] == deep[0, 3] == pytest.approx(1 + math.log(1e-300))
    y = ent(torch.from_numpy(deep), 2)[0]
    assert y[0] == 1.0 and y[1:3].tolist() == pytest.approx([0.5, 0.5], abs=1e-12) and 0 < y[3] < 1e-290


# (loss, row, check, defect words, outcome, words in the crash / evidence detail)
NUMERIC = [(loss, *d) for loss in (RANKMAX, ENTROPY_CAPPED) for d in (
    (0, "topk-certificate", "moved off the midpoint", "crash", "outside the certified bracket"),
    (0, "topk-certificate", "reversed", "crash", "fails the KKT conditions on C_"),
    (0, "topk-certificate", "tempered", "crash", "fails the KKT conditions on C_"),
    (1, "dcg-enumeration", "sign flipped", "crash", "extreme Bayes point"),
    (1, "dcg-enumeration", "off by one", "crash", "contradicted by its own check"),
    (1, "dcg-enumeration", "cap ignored", "crash", "at the deep Bayes point"),
    (1, "dcg-enumeration", "reversed", "crash", "at the deep Bayes point"),
    (1, "dcg-enumeration", "tempered", "crash", "at the deep Bayes point"),
)]
# the symbolic defects through the runner (the FY-2 premise recomputed under the patch)
SYMBOLIC = [(loss, *d) for loss in (RANKMAX, ENTROPY_CAPPED) for d in (
    (0, "halfspace-gap", "moved off the midpoint", "undecided", ""),
    (0, "halfspace-gap", "cap ignored", "crash", "does not decompose as stated in the cap region"),
    (1, "bayes-order", "sign flipped", "undecided", ""),
    (1, "bayes-order", "cap ignored", "crash", "does not decompose as stated in the cap region"),
)]


def _check(loss, i, name):
    claim = capped_rank_claims(loss)[i]
    return claim, next(c for c in claim.checks if c.name == name)


def test_the_tables_cover_every_planted_defect():
    declared = {(loss.name, i, chk.name, p.defect) for loss in (RANKMAX, ENTROPY_CAPPED)
                for i, c in enumerate(capped_rank_claims(loss)) for chk in c.checks for p in chk.planted}
    listed = {(loss.name, i, name, p.defect) for loss, i, name, words, *_ in NUMERIC + SYMBOLIC
              for p in _check(loss, i, name)[1].planted if words in p.defect}
    assert listed == declared and len(declared) == len(NUMERIC) + len(SYMBOLIC)


@pytest.mark.parametrize("loss,i,check,defect,outcome,words", NUMERIC + SYMBOLIC,
                         ids=[f"{d[0].name}-{d[2]}-{d[3]}" for d in NUMERIC + SYMBOLIC])
def test_each_planted_defect_turns_its_check_for_its_own_reason(loss, i, check, defect, outcome, words):
    claim, chk = _check(loss, i, check)
    res = planted_result(claim, chk, defect)
    assert res.outcome == outcome and words in res.detail


@pytest.mark.parametrize("loss", [RANKMAX, ENTROPY_CAPPED], ids=["rankmax", "entropy"])
@pytest.mark.parametrize("i,check,defect,words", [
    (0, "halfspace-gap", "cap ignored", ": False (attained at the cap)"),
    (1, "bayes-order", "cap ignored", ": False (attained at the cap)"),
    (0, "halfspace-gap", "moved", "$h'(\\mu^*) = 0$ with $g$ undefined: False"),
    (1, "bayes-order", "sign flipped", "at $\\hat y_i = \\eta_i$: False)"),
], ids=["con1-cap", "con2-cap", "con1-moved", "con2-flipped"])
def test_each_symbolic_defect_turns_its_own_step(loss, i, check, defect, words):
    """Entering by the patch the row declares, with the FY-2 premise given as holding (it has its own
    row, and under the cap defect it crashes first: the runner's outcome above)."""
    _, chk = _check(loss, i, check)
    planted = next(p for p in chk.planted if defect in p.defect)
    call = (sym_cr.topk_calibration, sym_cr.dcg_consistency)[i]
    assert call(loss, "holds").decision == "holds"
    with planted.patch():
        d = call(loss, "holds")
    assert d.decision == "undecided" and any(words in s for s in d.steps), d.steps


@pytest.mark.parametrize("i,check", [(0, "halfspace-gap"), (0, "topk-certificate"), (1, "bayes-order"),
                                     (1, "dcg-enumeration")])
def test_the_planted_truths_hold(i, check):
    claim, chk = _check(ENTROPY_CAPPED, i, check)
    res = run_planted(claim, chk, RunContext(), which="truths")
    assert [r.outcome for r in res] == ["holds"]


def test_the_enumeration_can_fail_and_its_counterexample_is_a_real_loss():
    """Under the off-by-one label the Bayes points are proper (of the rolled target) but misordered: the
    route reports the law, and its regret is the one numerics/con/dcg.py computes from the law alone."""
    _, chk = _check(RANKMAX, 1, "dcg-enumeration")
    planted = next(p for p in chk.planted if "off by one" in p.defect)
    with planted.patch():
        ev = num_cr.dcg_enumeration(RANKMAX, RunContext())
    assert ev.outcome == "fails"
    cx = ev.counterexample
    eg = [sum(a["p"] * a["r"][i] for a in cx["D"]) for i in range(len(cx["theta"]))]
    assert dcg_regret(eg, cx["theta"])[0] == pytest.approx(cx["regret"], abs=1e-12) and cx["regret"] > 1e-9
    i, j = cx["pair"]
    assert eg[i] > eg[j] and cx["theta"][i] <= cx["theta"][j]


def test_a_g_infinite_at_one_leaves_both_rows_inconclusive():
    for c in capped_rank_claims(UNBOUNDED):
        assert c.expected == "inconclusive" and "outside" in c.statement
        row, crashed = run_claim(c, RunContext(), planted=False)
        assert not crashed and row["verdict"] == "inconclusive"
        assert [e["outcome"] for e in row["evidence"]] == ["undecided", "undecided"]
    assert not sym_cr.labels_in_domain(UNBOUNDED) and sym_cr.labels_in_domain(ENTROPY_CAPPED)
