"""DYN-2 of a user's loss (issue 23 item 4): the verdict table of the five test losses pinned,
every planted defect turning the check for the reason it stands for, the planted truths
holding, and the user path set beside the main registry's DYN-2 rows.

Ground truth from outside the code under test: a loss reaches L = 0 at a finite θ iff its
margin g′(1⁻) − g′(0⁺) is finite (Blondel, Martins & Niculae, JMLR 2020, Prop. 6): sparsemax
1 (Martins & Astudillo 2016), 1.5-entmax 2 (Peters, Niculae & Martins 2019), Tsallis α = 3
½ (g′(p) = (3p² − 1)/6); softmax and binary entropy none (ŷ = softmax(θ) > 0, ŷᵢ = σ(θᵢ − τ)
< 1), nor a sparse g with g′(1⁻) = ∞.  Sparsemax at lr ½ from the all-free region never
reaches exactly zero (L_t = (1/4)^{t+1}, n = 2: the counterexample of DYN-2[sparsemax])."""
import pytest
from planted_run import planted_result
import sympy as sp
import torch

import numerics.user.dyn as num_dyn
from audit import RunContext
from audit.builtin_losses import ENTMAX15, SOFTMAX, SPARSEMAX
from audit.separable import SeparableLoss
from reports.claim import replacing
from reports.user.claims_dyn import dyn2_claim
from reports.registry import by_key
from reports.runner import run_claim, run_planted

P = sp.Symbol("p", positive=True)
TSALLIS3 = SeparableLoss("tsallis-3", (P**3 - P) / 6, P)
BINENT = SeparableLoss("binent", P * sp.log(P) + (1 - P) * sp.log(1 - P), P)
LOSSES = {loss.name: loss for loss in (SOFTMAX, SPARSEMAX, ENTMAX15, TSALLIS3, BINENT)}
# name -> (verdict, the claim, the margin constant); numeric runs only, so supported at most
KNOWN = {"softmax": ("supported", "positive", None), "sparsemax": ("supported", "zero", "1.0"),
         "entmax-1.5": ("supported", "zero", "2.0"), "tsallis-3": ("supported", "zero", "0.5"),
         "binent": ("supported", "positive", None)}


@pytest.fixture(scope="module")
def rows():
    return {name: run_claim(dyn2_claim(loss), RunContext(), planted=False)[0] for name, loss in LOSSES.items()}


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_answers(rows, name):
    row = rows[name]
    verdict, claim, margin = KNOWN[name]
    assert (row["id"], row["reading"], row["verdict"]) == ("DYN-2", f"user:{name}", verdict)
    assert (row["constants"]["claim"], row["constants"]["margin"]) == (claim, margin)
    (ev,) = row["evidence"]
    fig = ev["figures"]
    assert ev["check"] == "separable-gd" and ev["outcome"] == "holds"
    if claim == "positive":                        # no run ever at exactly zero, the loss falling
        assert set(fig["reached_zero"].values()) == {0} and fig["loss_last"] < fig["loss_first"]
        assert fig["underflow_zeros"] == 0 and fig["probes"] == 0
    else:                                          # the one-step probes decided on both sides, exactly
        assert fig["probes_decided"] >= 8 and fig["zeros_exact"] > 0
        assert fig["reached_zero"]["lr 8"] > 0 and fig["most_steps_to_zero"]["lr 8"] == 1


def test_sparsemax_at_lr_half_never_reaches_an_exact_zero(rows):
    """The main row's counterexample (lr ½: the loss shrinks geometrically) seen on the user path:
    no run at lr ½ is at a confirmed zero; float64 rounds two onto the margin, which are not counted."""
    fig = rows["sparsemax"]["evidence"][0]["figures"]
    assert fig["reached_zero"]["lr 0.5"] == 0 and fig["zeros_in_band"] > 0


def test_the_claim_follows_the_margin_not_sparsity():
    """A sparse g with g′(1⁻) = ∞ (g′(0⁺) = −1: zeros in ŷ, but ŷ_y < 1) has no margin: positive."""
    loss = SeparableLoss("sparse-no-margin", P**2 + (1 - P) * sp.log(1 - P), P)
    assert dyn2_claim(loss).constants["claim"] == "positive"


# (loss, defect words, the reason in the crash); every defect crashes the row: the claim is derived
DEFECTS = [
    ("sparsemax", "1 % high", "says L = 0"), ("sparsemax", "1 % low", "says L > 0"),
    ("sparsemax", "without the negatives' fall", "lr_min (1 - 1e-6) reached"),
    ("sparsemax", "smoothed", "the loss rose"), ("sparsemax", "leaking", "says L > 0"),
    ("tsallis-3", "1 % high", "says L = 0"), ("tsallis-3", "leaking", "says L > 0"),
    ("softmax", "finite margin 10", "says L > 0"), ("softmax", "smoothed", "the loss rose"),
    ("softmax", "flushing", "fails the KKT conditions"),
    ("binent", "finite margin 10", "says L > 0"), ("binent", "flushing", "fails the KKT conditions"),
]


@pytest.mark.parametrize("name,defect,words", DEFECTS, ids=[f"{d[0]}-{d[1]}" for d in DEFECTS])
def test_each_planted_defect_turns_the_check_for_its_own_reason(name, defect, words):
    claim = dyn2_claim(LOSSES[name])
    res = planted_result(claim, claim.checks[0], defect)
    assert res.outcome == "crash" and words in res.detail, res.detail


@pytest.mark.parametrize("name", ["tsallis-3", "binent"])
def test_every_row_declares_its_defects_and_a_resolution(name):
    check = dyn2_claim(LOSSES[name]).checks[0]
    zero = name == "tsallis-3"
    assert len(check.planted) == (5 if zero else 3)
    assert ("leaking" if zero else "flushing") in check.resolution.defect


def test_the_planted_truths_hold():
    claim = dyn2_claim(BINENT)
    assert [r.outcome for r in run_planted(claim, claim.checks[0], RunContext(), which="truths")] == ["holds"] * 2


def test_a_certified_float64_underflow_is_undecided_not_a_zero():
    """torch.softmax (which underflows, where the generic map floors at 1e-300) from a start 800
    above the rest: exp(−800) is 0 in float64, ŷ = e_y; the KKT certificate accepts that zero as
    underflow, so the check cannot decide, and does not fail."""
    real = num_dyn._starts

    def far(loss, ctx):
        st = real(loss, ctx)
        st[-1, 0] += 800.0
        return st
    softmax = (num_dyn, "torch_map", lambda facts: lambda theta, k=1: torch.softmax(theta, -1))
    with replacing((num_dyn, "_starts", far), softmax)():
        ev = num_dyn.separable_gd(SOFTMAX, "positive", RunContext())
    assert ev.outcome == "undecided" and ev.figures["underflow_zeros"] > 0 and "underflow" in ev.detail
    with replacing(softmax)():                      # the same map without the far start: no zero, holds
        assert num_dyn.separable_gd(SOFTMAX, "positive", RunContext()).outcome == "holds"


def test_the_user_path_beside_the_main_registry(rows):
    """The main rows claim more and are decided otherwise: DYN-2[sparsemax] and DYN-2[entmax] claim a
    zero after finitely many steps at *every* step in (0, 1/L] from every start, refuted at lr ½;
    DYN-2[softmax] claims the 1/t and log t rates (inconclusive in the quick profile).  The user row
    claims only what is derived for every g: a step ≥ lr_min(θ₀) reaches zero (margin), or no step
    ever does (none), so it is supported for all three, and its runs agree with the main ones."""
    assert [by_key(f"DYN-2[{k}]").expected for k in ("softmax", "sparsemax", "entmax")] == \
        ["inconclusive", "refuted", "refuted"]
    assert by_key("DYN-2[softmax]").expected_full == "supported"
    assert [rows[k]["verdict"] for k in ("softmax", "sparsemax", "entmax-1.5")] == ["supported"] * 3
    assert rows["entmax-1.5"]["evidence"][0]["figures"]["reached_zero"]["lr 0.5"] == 0


def test_bad_claim_is_refused():
    with pytest.raises(ValueError, match="claim"):
        num_dyn.separable_gd(SPARSEMAX, "sometimes", RunContext())


def test_the_one_step_threshold_lands_on_the_margin():
    """lr_min from θ = 0 (ŷ = uniform, n = 5): θ_y rises by lr·4/5, the rest fall by lr/5, so the
    gap after one step is lr: lr_min = m (sparsemax: 1)."""
    th = torch.zeros(1, 5, dtype=torch.float64)
    yh = torch.full_like(th, 0.2)
    assert float(num_dyn.step_threshold(th, yh, 1.0)) == pytest.approx(1.0, rel=1e-15)
