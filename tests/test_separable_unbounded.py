"""A g whose value is +∞ at 1: g = −log(1 − p) + p² (issue 23 §4, a regression).

By hand: g′ = 1/(1 − p) + 2p, g″ = 1/(1 − p)² + 2 > 0; g(0⁺) = 0, g′(0⁺) = 1 (finite: sparse),
g′(1⁻) = +∞ (no cap: ŷᵢ < 1, no margin) and g(1⁻) = +∞.  So Ω(y) = Σ g(yᵢ) = +∞ at every label
with an entry 1: every one-hot / k-hot label is outside dom Ω, and L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩
= +∞ at every θ.  s = 1/g″ = (1 − p)²/(1 + 2(1 − p)²) falls on (0, 1), sup s = s(0⁺) = ⅓, not
attained: s(a) = ⅓ − 2a/9 + O(a²).

* The capped FY-2 row crashed with nan: its central differences took (+∞) − (+∞) at k-hot labels.
  Such a label is outside FY-2's statement (y ∈ dom Ω); it is counted and left out, as on the
  simplex: every k-hot label of the check (8 per (k, n), 7 pairs: 56), none of the interior ones
  (1_Y + k/n)/2, whose largest entry (1 + k/n)/2 < 1.  A non-finite value anywhere else still crashes.
* Simplex FY-4 was inconclusive: the construction (two equal entries a = 2⁻ʲ) stopped at a = 2⁻⁸,
  where s = 0.33246 lies 2.6·10⁻³ below ⅓, outside the 10⁻³ the check calls "attained"; down to
  2⁻¹² (as the capped route goes) s = 0.33328, inside.  Verified now.
* Simplex DYN-2 was inconclusive: L(θ; e_c) = +∞ at every θ, so "the loss falls" compared ∞ with ∞,
  the rise ∞ − ∞ = nan passed silently, and the slope of log L was nan.  GD's step ŷ − e_c is the
  gradient of L − Ω(e_c) = Ω*(θ) − θ_c, finite, never rising; the rules now compare it.  At θ = 0
  (n = 5, ŷ = ⅕ each by symmetry): Ω*(0) = −5 g(⅕) = 5 log(⅘) − ⅕, so L − Ω(e_c) = 5 log(⅘) − ⅕.
"""
import math

import pytest
from planted_run import planted_result
import sympy as sp
import torch

import numerics.user.capped as num_cap
import numerics.user.checks as sep_checks
import numerics.user.dyn as num_dyn
from audit import RunContext, SuiteDefect
from audit.separable import SeparableLoss
from reports.claim import replacing
from reports.user.claims import user_claims
from reports.user.claims_dyn import dyn2_claim
from reports.runner import run_claim

P = sp.Symbol("p", positive=True)
G = -sp.log(1 - P) + P**2
SIMPLEX = SeparableLoss("unbounded", G, P)
CAPPED = SeparableLoss("unbounded-c", G, P, domain="capped")


class _Few(RunContext):
    """A context whose random search is 2 rows per block: here the construction decides FY-4."""

    def budget(self, quick: int, full: int) -> int:
        return 2


@pytest.fixture(scope="module")
def capped_fy2():
    claim = user_claims(CAPPED)[1]
    row, crashed = run_claim(claim, RunContext(), planted=False)
    assert not crashed
    return claim, row


def test_capped_fy2_leaves_out_the_labels_outside_dom_omega(capped_fy2):
    claim, row = capped_fy2
    assert (row["id"], row["verdict"]) == ("FY-2", "verified")
    ev = next(e for e in row["evidence"] if e["check"] == "loss-properties")
    fig = ev["figures"]
    assert ev["outcome"] == "holds" and (fig["labels_outside_dom"], fig["cases"]) == (56, 56)
    assert "56 labels with $\\Omega(y) = +\\infty$" in ev["detail"]
    assert fig["max_fd_err"] <= 1e-5 and fig["max_grad_err"] <= 1e-8 and math.isfinite(fig["min_loss"])


def test_capped_fy2_defects_still_turn_it(capped_fy2):
    claim, _ = capped_fy2
    for words in ("sign flipped", "off by a constant"):
        assert planted_result(claim, claim.checks[1], words).outcome == "crash"


def test_a_non_finite_value_of_ours_still_crashes():
    """A map giving nan on one row (as a 0/0 would): not a label outside dom Ω, so a crash."""
    real = num_cap.capped_map

    def nan_row(facts):
        fmap = real(facts)

        def call(theta, k=1):
            y = fmap(theta, k).clone()
            y[0] = float("nan")
            return y
        return call
    with replacing((num_cap, "capped_map", nan_row))():
        with pytest.raises(SuiteDefect, match="is not finite"):
            num_cap.properties_check(CAPPED, RunContext())


def test_simplex_fy4_reaches_the_supremum_one_third():
    """The construction's old end a = 2⁻⁸ and its new one 2⁻¹² (the range's others cost 10 s here, an
    implicit (g′)⁻¹ by nested bisection): 2⁻⁸ is 2.6·10⁻³ short of ⅓, out of "attained"'s 10⁻³; 2⁻¹² in."""
    assert sep_checks.CONSTRUCTION[-1] == 12
    s = [(1 - 2.0**-j) ** 2 / (1 + 2 * (1 - 2.0**-j) ** 2) for j in (8, 12)]
    with replacing((sep_checks, "CONSTRUCTION", (8, 12)))():
        ev = sep_checks.jacobian_search(SIMPLEX, sp.Rational(1, 3), _Few())
    assert ev.figures["construction"] == pytest.approx(s, rel=1e-5)
    assert ev.figures["construction"][0] < (1 - 1e-3) / 3 <= ev.figures["construction"][1] < 1 / 3
    assert ev.outcome == "holds" and ev.figures["largest"] == pytest.approx(s[1], rel=1e-5)


def test_simplex_dyn2_compares_the_finite_part_of_an_infinite_loss():
    row = run_claim(dyn2_claim(SIMPLEX), RunContext(), planted=False)[0]
    assert (row["verdict"], row["constants"]["claim"]) == ("supported", "positive")
    fig = row["evidence"][0]["figures"]
    assert fig["label_outside_dom"] == "L - Omega(e_c)" and fig["slope_last_decade"] is None
    assert math.isfinite(fig["loss_first"]) and fig["loss_last"] < fig["loss_first"]
    lossfn = num_dyn._Loss(SIMPLEX)
    th = torch.zeros(1, 5, dtype=torch.float64)
    value, tol = lossfn(th, torch.full_like(th, 0.2))
    assert float(value) == pytest.approx(5 * math.log(0.8) - 0.2, abs=1e-14) and float(tol) < 1e-10


def test_simplex_dyn2_flushing_defect_turns_it():
    """The float16-style flush makes ŷ = e_c exactly (L − Ω(e_c) = −∞ there, not a crash of the
    finite check): the zero is then refused by the KKT certificate, as for a finite Ω(e_c)."""
    claim = dyn2_claim(SIMPLEX)
    res = planted_result(claim, claim.checks[0], "flushing")
    assert res.outcome == "crash" and "fails the KKT conditions" in res.detail, res.detail


def test_the_rise_rule_on_minus_infinity():
    """−∞ → −∞ (GD staying at a zero of L) is no rise and no nan; −∞ → finite is a rise (L left 0).
    θ moves as a GD step at lr 1 from ŷ = ⅕ each: θ_c up by ⅘, the others down by ⅕."""
    inf = float("inf")
    th0 = torch.zeros(2, 5, dtype=torch.float64)
    th1 = th0 - (torch.full_like(th0, 0.2) - torch.tensor([1.0, 0, 0, 0, 0], dtype=torch.float64))
    tol = torch.full((2,), 1e-12, dtype=torch.float64)
    prev = (th0, torch.tensor([-inf, 1.0], dtype=torch.float64), tol, torch.full_like(th0, 0.2),
            torch.ones(2, dtype=torch.float64))
    assert num_dyn._monotone(SIMPLEX, prev, (th1, torch.tensor([-inf, -inf], dtype=torch.float64), tol), 1) is None
    cx = num_dyn._monotone(SIMPLEX, prev, (th1, torch.tensor([0.0, -inf], dtype=torch.float64), tol), 1)
    assert cx["what"] == "the loss rose" and (cx["loss_before"], cx["loss_after"]) == (-inf, 0.0)


def test_a_non_finite_finite_part_still_crashes():
    real = num_dyn.conjugate

    def nan_conj(fmap, loss, theta):
        v = real(fmap, loss, theta)
        return torch.where(torch.arange(len(v)) == 0, float("nan"), v)
    with replacing((num_dyn, "conjugate", nan_conj))():
        with pytest.raises(SuiteDefect, match="not finite"):
            num_dyn.separable_gd(SIMPLEX, "positive", RunContext())
