"""DYN-2 of a user's loss on the capped simplex C_k (issue 23 §4): the verdicts of rankmax and the
entropy on C_k pinned, the one-step threshold against values worked by hand, every planted
defect turning the check for its own reason (on every k, and on k ≥ 2 alone), the planted truths
holding, and the row set beside the main registry's DYN-2[rankmax] rows.

Worked by hand (outside the code under test), with y = 1_Y, Y the first k classes:

* L = 0 ⟺ ŷ = 1_Y ⟺ some τ has θᵢ − τ ≥ g′(1⁻) on Y and θⱼ − τ ≤ g′(0⁺) off Y ⟺
  min_Y θ − max_{∉Y} θ ≥ m = g′(1⁻) − g′(0⁺): rankmax (g = p²/2, g′ = p) m = 1 for every k
  (Kong et al. 2020); the entropy p log p (g′ = 1 + log p: g′(0⁺) = −∞, g′(1⁻) = 1) none.
* One step moves θᵢ − θⱼ (i ∈ Y, j ∉ Y) by lr (1 − ŷᵢ + ŷⱼ) ≥ 0, so L = 0 after it iff
  lr ≥ lr_min = max over the pairs below m of (m − θᵢ + θⱼ)/(1 − ŷᵢ + ŷⱼ).  At θ = 0, ŷ = k/n,
  every denominator is 1: lr_min = m.  Rankmax, k = 2, θ = (1, ½, 0, −1): ŷ = clip(θ − τ, 0, 1)
  with Σŷ = 2 gives τ = −¼, ŷ = (1, ¾, ¼, 0); pairs (1, 3): (1 − 1)/(¼) = 0, (1, 4): 0/0 (at the
  cap and at 0: already 2 ≥ m, left out), (2, 3): (1 − ½)/(1 − ¾ + ¼) = 1, (2, 4): negative; so
  lr_min = 1, and θ − 1·(ŷ − y) = (1, ¾, −¼, −1) has min_Y − max_{∉Y} = ¾ + ¼ = 1: ŷ = (1, 1, 0, 0).
  Without the negatives' fall the (2, 3) denominator is 1 − ¾ = ¼: lr_min would read 2.
* The entropy on C_k: ŷᵢ = min(1, e^{θᵢ − τ − 1}) > 0 (Blondel, Martins & Niculae 2020), so at
  most k − 1 labelled classes reach the cap 1 and L > 0 at every θ; at k = 1 it is softmax (never
  at the cap).  GD at lr ½ on rankmax, k = 2, n = 3, θ₀ = 0 gives L_t = (1/3)(1/4)^t > 0 (main
  row DYN-2[rankmax], refuted for "every step in (0, 1/L]"), while lr = 1 = lr_min(0) reaches 0
  in one step (DYN-2[rankmax/lr=1/L], verified).
"""
import pytest
from planted_run import planted_result
import sympy as sp
import torch

import numerics.user.capped as num_cap
import numerics.user.capped_dyn as num_cd
from audit import RunContext
from audit.builtin_losses import RANKMAX, SPARSEMAX
from audit.separable import SeparableLoss
from proofs.user.facts import derive
from reports.claim import replacing
from reports.user.claims import capped_claims
from reports.user.claims_capped_con import ENTROPY_CAPPED
from reports.user.claims_capped_dyn import capped_dyn2_claim
from reports.registry import by_key
from reports.runner import run_claim, run_planted

P = sp.Symbol("p", positive=True)
LOSSES = {"rankmax": RANKMAX, "entropy-capped": ENTROPY_CAPPED}
KNOWN = {"rankmax": ("zero", "1.0"), "entropy-capped": ("positive", None)}


@pytest.fixture(scope="module")
def rows():
    return {name: run_claim(capped_dyn2_claim(loss), RunContext(), planted=False)[0] for name, loss in LOSSES.items()}


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_answers(rows, name):
    row = rows[name]
    claim, margin = KNOWN[name]
    assert (row["id"], row["reading"], row["verdict"]) == ("DYN-2", f"user:{name}", "supported")
    assert (row["constants"]["claim"], row["constants"]["margin"], row["constants"]["k"]) == (claim, margin, [1, 2, 3])
    (ev,) = row["evidence"]
    fig = ev["figures"]
    assert ev["outcome"] == "holds"
    if claim == "zero":       # probes decided, exact zeros at lr 8 in one step for every k
        assert fig["probes_decided"] >= 8 and fig["zeros_exact"] > 0
        for k in (1, 2, 3):
            assert fig["reached_zero"][f"k = {k}, lr 8"] > 0 and fig["most_steps_to_zero"][f"k = {k}, lr 8"] == 1
    else:                     # never at zero, although labelled classes sit at the cap from k = 2 on
        assert set(fig["reached_zero"].values()) == {0} and fig["loss_last"] < fig["loss_first"]
        assert fig["underflow_zeros"] == 0 and fig["probes"] == 0
        assert fig["labelled_at_cap"]["k = 1"] == 0                       # softmax: never 1
        assert fig["labelled_at_cap"]["k = 2"] > 0 and fig["labelled_at_cap"]["k = 3"] > 0


def test_the_row_is_appended_to_the_capped_dispatch():
    assert capped_claims(RANKMAX)[-1].key == "DYN-2[user:rankmax]"
    with pytest.raises(ValueError, match="loss must have domain 'capped'"):
        capped_dyn2_claim(SPARSEMAX)
    with pytest.raises(ValueError, match="claim"):
        num_cd.capped_gd(RANKMAX, "sometimes", RunContext())


def test_the_margin_does_not_depend_on_the_cap_alone():
    """g = p² + (1 − p) log(1 − p): g′(0⁺) = −1 finite but g′(1⁻) = ∞: no margin, positive."""
    loss = SeparableLoss("sparse-no-cap", P**2 + (1 - P) * sp.log(1 - P), P, domain="capped")
    assert capped_dyn2_claim(loss).constants["claim"] == "positive"


def test_the_one_step_threshold_by_hand():
    th = torch.zeros(3, 6, dtype=torch.float64)
    for k in (1, 2, 3):                                # θ = 0: lr_min = m for every k
        yh = torch.full_like(th[:1], k / 6)
        assert float(num_cd.step_threshold(th[:1], yh, k, 1.0)) == pytest.approx(1.0, rel=1e-15)
    fmap = num_cap.capped_map(derive(RANKMAX))
    th = torch.tensor([[1.0, 0.5, 0.0, -1.0]], dtype=torch.float64)
    yh = torch.tensor([[1.0, 0.75, 0.25, 0.0]], dtype=torch.float64)       # by hand, τ = −¼
    assert fmap(th, 2)[0].tolist() == pytest.approx(yh[0].tolist(), abs=1e-15)
    assert float(num_cd.step_threshold(th, yh, 2, 1.0)) == 1.0
    assert float(num_cd.step_threshold(th, fmap(th, 2), 2, 1.0)) == pytest.approx(1.0, rel=1e-14)
    y = torch.tensor([[1.0, 1.0, 0.0, 0.0]], dtype=torch.float64)
    assert fmap(th - 1.001 * (yh - y), 2).tolist() == y.tolist()           # a step past lr_min reaches zero
    assert fmap(th - 0.999 * (yh - y), 2).tolist() != y.tolist()           # a smaller one does not
    forgot = torch.cat([yh[:, :2], torch.zeros_like(yh[:, 2:])], -1)
    assert float(num_cd.step_threshold(th, forgot, 2, 1.0)) == 2.0


def test_rankmax_at_lr_half_beside_the_main_rows(rows):
    """The main rows: DYN-2[rankmax] (every step in (0, 1/L]) refuted by lr ½, DYN-2[rankmax/lr=1/L]
    verified.  This row claims only the one step ≥ lr_min; at lr ½ it sees no confirmed zero for any k."""
    assert by_key("DYN-2[rankmax]").expected == "refuted"
    assert by_key("DYN-2[rankmax/lr=1/L]").expected == "verified"
    fig = rows["rankmax"]["evidence"][0]["figures"]
    assert [fig["reached_zero"][f"k = {k}, lr 0.5"] for k in (1, 2, 3)] == [0, 0, 0]


# (loss, defect words, the reason in the crash); every defect crashes the row: the claim is derived
DEFECTS = [
    ("rankmax", "1 % high", "says L = 0"), ("rankmax", "1 % low", "says L > 0"),
    ("rankmax", "without the negatives' fall", "lr_min (1 - 1e-6) reached"),
    ("rankmax", "smoothed", "the loss rose"), ("rankmax", "leaking", "says L > 0"),
    ("entropy-capped", "finite margin 10", "says L > 0"), ("entropy-capped", "smoothed", "the loss rose"),
    ("entropy-capped", "rounding entries", "fails the KKT conditions on C_k"),
]


@pytest.mark.parametrize("name,defect,words", DEFECTS, ids=[f"{d[0]}-{d[1]}" for d in DEFECTS])
def test_each_planted_defect_turns_the_check_for_its_own_reason(name, defect, words):
    claim = capped_dyn2_claim(LOSSES[name])
    res = planted_result(claim, claim.checks[0], defect)
    assert res.outcome == "crash" and words in res.detail, res.detail


@pytest.mark.parametrize("name,defect,words", DEFECTS, ids=[f"{d[0]}-{d[1]}" for d in DEFECTS])
def test_each_planted_defect_turns_the_check_at_k_2_and_3_alone(name, defect, words):
    """k = 1 is the simplex: the same defects must turn the check on (k, n) = (2, 5), (3, 6) alone."""
    claim = capped_dyn2_claim(LOSSES[name])
    with replacing((num_cd, "CASES", ((2, 5), (3, 6))))():
        res = planted_result(claim, claim.checks[0], defect)
    assert res.outcome == "crash" and words in res.detail and "k = 1" not in res.detail, res.detail


def test_every_row_declares_its_defects_and_a_resolution():
    zero, positive = (capped_dyn2_claim(LOSSES[n]).checks[0] for n in KNOWN)
    assert (len(zero.planted), len(positive.planted)) == (5, 3)
    assert "leaking" in zero.resolution.defect and "rounding entries" in positive.resolution.defect


def test_the_planted_truths_hold():
    claim = capped_dyn2_claim(RANKMAX)
    assert [r.outcome for r in run_planted(claim, claim.checks[0], RunContext(), which="truths")] == ["holds"] * 2
