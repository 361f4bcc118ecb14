"""The outside re-check of a user's loss on the capped simplex C_k at every k, and FY-1 of an author's
stated map on C_k (issue 23 §4): records state their k and reports/rechecks/user.py re-checks them by
the KKT conditions on C_k; a tampered record (not KKT, a wrong k, a point outside C_k) is refused; an
author's ``torch_map(theta, k)`` is tested by the capped FY-1 row, a correct one verified, a wrong one
refuted at a point the outside re-checker confirms.

Ground truth by hand, from outside the code under test (g′ of each g, the KKT conditions of
argmax_{p ∈ C_k} ⟨θ, p⟩ − Σ g(pᵢ): g′(ŷᵢ) = θᵢ − τ where 0 < ŷᵢ < 1, θᵢ − τ ≤ g′(0⁺) at 0, ≥ g′(1⁻) at 1):

* rankmax, g = p²/2 (g′(0⁺) = 0, g′(1⁻) = 1; Kong et al. 2020): at k = 2, θ = (2, 3/2, −1/2, −2) and
  τ = −1/2 give θ − τ = (5/2, 2, 0, −3/2), so ŷ = (1, 1, 0, 0) (ties at 1 and at 0, not SOP).  Any τ in
  [−1/2, 1/2] certifies it; with θ₃ = 1 instead a zero needs τ ≥ 1 and a one τ ≤ 1/2: no τ, not the map.
  Its objective ⟨θ, p⟩ − ½‖p‖² is 7/2 − 1 = 5/2 there, and 2 + 3/4 − 1/4 − 3/4 = 7/4 at (1, ½, ½, 0):
  the point (1, 1, 0, 0) beats a map returning (1, ½, ½, 0) by 3/4.  Without the cap (the projection on
  2Δ) the map would give (2 − τ) + (3/2 − τ) = 2, τ = 3/4: (5/4, 3/4, 0, 0), outside C_2.
  Margin 1 for every k: at k = 2, θ = (3, 5/2, 3/2, 0) has gap 5/2 − 3/2 = 1, so ŷ = 1_{1,2}.
* the entropy p log p on C_k (g′(q) = 1 + log q, g′(1⁻) = 1, g′(0⁺) = −∞): ŷᵢ = min(1, exp(θᵢ − τ − 1));
  at k = 3, θ = (2, 1, 1 − log 2, 1 − log 2) and τ = 0 give (1, 1, ½, ½) (θ₁ > θ₂ tied at the cap).
  At k = 2, ŷ = (a, a, 1 − a, 1 − a) at θᵢ = 1 + log ŷᵢ (τ = 0) has Jacobian diag(s) − ssᵀ/Σs, s = 1/g″(ŷ)
  = ŷ, Σs = 2, and e₃ − e₄ (sᵀv = 0) an eigenvector of eigenvalue 1 − a, the largest: 3/4 at a = 1/4.
"""
import json
import math

import pytest
import sympy as sp
import torch

import numerics.user.capped as num_cap
from audit import RunContext
from audit.builtin_losses import RANKMAX
from audit.separable import SeparableLoss
from proofs.user.facts import derive
from reports.user.audit_loss import subject
from reports.user.claims import user_claims
from reports.user.claims import capped_claims
from reports.user.claims_capped import STATED_RANKMAX, rankmax_sorted
from reports.user.claims_capped_con import ENTROPY_CAPPED
from reports.cli import main as cli_main
from reports.recheck import recheck_one, recheck_results, recheck_witness
from reports.runner import clear_caches, run_claim, shown

pytestmark = pytest.mark.xdist_group("audit-loss-capped-stated")
L2 = 1 - math.log(2)
RANK, ENT = RANKMAX.tree(), ENTROPY_CAPPED.tree()


def _wop(tree, claim="WOP", m=0):
    return {"tree": tree, "claim": claim, "sop_through_k": m, "tie_tolerance": 0.0, "split": 0.01, "k": [1, 2, 3]}


def test_the_hand_points_recheck_and_their_tampered_forms_do_not():
    rank_w = {"theta": [2.0, 1.5, -0.5, -2.0], "i": 0, "j": 1, "yhat": [1.0, 1.0, 0.0, 0.0], "k": 2}
    ent_w = {"theta": [2.0, 1.0, L2, L2], "i": 0, "j": 1, "yhat": [1.0, 1.0, 0.5, 0.5], "k": 3}
    ent_c = _wop(ENT, "SOP for k <= 2, WOP above", 2)
    assert recheck_witness("CON-3", "user:rankmax/O1", rank_w, _wop(RANK))[0]
    assert recheck_witness("CON-3", "user:e/O1", ent_w, ent_c)[0]
    assert recheck_witness("CON-3", "user:e/O1", {"witnesses": [ent_w]}, ent_c)[0]
    assert recheck_witness("CON-3", "user:rankmax/O2", {**rank_w, "eta": rank_w["yhat"]}, _wop(RANK))[0]
    refused = [
        (rank_w | {"k": 3}, _wop(RANK)),                          # a wrong k: the point sums to 2
        (rank_w | {"k": 4}, _wop(RANK)),                          # not one of the row's k
        (rank_w | {"theta": [2.0, 1.5, 1.0, -2.0]}, _wop(RANK)),  # no tau: not the map's output
        (rank_w | {"yhat": [1.25, 0.75, 0.0, 0.0]}, _wop(RANK)),  # the uncapped map: not in C_2
        (rank_w, _wop(ENT)),                                      # g typo'd: the entropy has no zeros
        (ent_w | {"theta": [2.0, 1.0, L2 + 0.1, L2]}, ent_c),     # the free entries' taus differ
        (ent_w, _wop(ENT, "SOP for k <= 3, WOP above", 3)),       # a row claiming SOP at k = 3
        (ent_w | {"k": 2, "yhat": [1.0, 0.5, 0.25, 0.25]}, ent_c),  # a k where the row claims SOP
        ({"witnesses": [ent_w, ent_w | {"k": 2}]}, ent_c),        # one bad member spoils the list
        ({"witnesses": []}, ent_c),
    ]
    for w, c in refused:
        assert not recheck_witness("CON-3", "user:e/O1", w, c)[0], w
    # FY-1: the point (1, 1, 0, 0) beats (1, 1/2, 1/2, 0) by 3/4; the uncapped map leaves C_2
    beats = {"theta": [2.0, 1.5, -0.5, -2.0], "yhat": [1.0, 0.5, 0.5, 0.0], "point": [1.0, 1.0, 0.0, 0.0],
             "side": "beats", "gain": 0.75, "k": 2}
    fy1 = {"tree": RANK, "k": [1, 2, 3]}
    assert recheck_one("FY-1", "user:r", beats, fy1)[0]
    assert recheck_one("FY-1", "user:r", beats | {"side": "infeasible", "yhat": [1.25, 0.75, 0.0, 0.0]}, fy1)[0]
    for bad in (beats | {"k": 3}, beats | {"gain": 0.8}, beats | {"point": [1.0, 0.5, 0.5, 0.0],
                                                                  "yhat": [1.0, 1.0, 0.0, 0.0]},
                beats | {"point": [1.2, 0.8, 0.0, 0.0]}, beats | {"side": "infeasible"}):
        assert not recheck_one("FY-1", "user:r", bad, fy1)[0], bad
    assert not recheck_one("FY-1", "user:r", beats, {"tree": RANK})[0]      # a simplex row: k = 1 only
    # FY-3 at k = 2: gap 1 with ŷ = 1_Y, against a row claiming margin 3/2 ("minus": gap < m yet ŷ = y)
    fy3 = {"theta": [3.0, 2.5, 1.5, 0.0], "y": [1, 1, 0, 0], "side": "minus", "k": 2}
    assert recheck_one("FY-3", "user:r", fy3, {"tree": RANK, "margin": "1.5", "k": [1, 2, 3]})[0]
    assert not recheck_one("FY-3", "user:r", fy3, {"tree": RANK, "margin": "1.0", "k": [1, 2, 3]})[0]
    assert not recheck_one("FY-3", "user:r", fy3 | {"k": 3}, {"tree": RANK, "margin": "1.5", "k": [1, 2, 3]})[0]
    # FY-4 at k = 2: lambda_max 3/4 at a = 1/4, above a bound 1/2, not above 3/4
    a = 0.25
    fy4 = {"theta": [1 + math.log(v) for v in (a, a, 1 - a, 1 - a)], "yhat": [a, a, 1 - a, 1 - a],
           "lambda_max": 0.75, "k": 2}
    assert recheck_one("FY-4", "user:e", fy4, {"tree": ENT, "bound": "0.5", "k": [1, 2, 3]})[0]
    assert not recheck_one("FY-4", "user:e", fy4, {"tree": ENT, "bound": "0.75", "k": [1, 2, 3]})[0]
    assert not recheck_one("FY-4", "user:e", fy4 | {"lambda_max": 0.8},
                           {"tree": ENT, "bound": "0.5", "k": [1, 2, 3]})[0]
    assert not recheck_one("FY-4", "user:e", fy4 | {"theta": [1 + math.log(a)] * 4},
                           {"tree": ENT, "bound": "0.5", "k": [1, 2, 3]})[0]


def test_the_sorted_closed_form_is_the_suites_map_on_ck():
    """rankmax_sorted (breakpoints sorted) against the generic map (bisection on tau): two routes."""
    assert rankmax_sorted(torch.tensor([[2.0, 1.5, -0.5, -2.0]], dtype=torch.float64), 2).tolist() == \
        [[1.0, 1.0, 0.0, 0.0]]
    fmap = num_cap.capped_map(derive(RANKMAX))
    g = torch.Generator().manual_seed(0)
    for k, n in num_cap.CASES:
        theta = torch.randn(50, n, generator=g, dtype=torch.float64) * 3
        assert (rankmax_sorted(theta, k) - fmap(theta, k)).abs().max() < 1e-12


def _planted_fy1(loss):
    claim = capped_claims(loss)[0]
    return claim, next(c for c in claim.checks if c.name == "certified-argmax")


def test_a_stated_correct_map_is_verified_and_each_defect_of_it_is_caught():
    row, crashed = run_claim(capped_claims(STATED_RANKMAX)[0], RunContext(), planted=True)
    assert not crashed and row["verdict"] == "verified" and shown(row) == (2, 2, 0)
    ev = {e["check"]: e for e in row["evidence"]}
    assert ev["certified-argmax"]["figures"]["map"] == "the author's"
    # the author's map tempered, reversed, or without its cap: refuted (fails, the record re-checked by the
    # runner); Ω* is the suite's own: a crash
    got = {p["defect"].split(" (")[0].split(":")[0]: p["outcome"] for p in ev["certified-argmax"]["planted"]}
    assert got == {"the map tempered by 1.01": "fails", "the map reversed": "fails", "the cap ignored": "fails",
                   "$\\Omega^*$ off by a constant": "crash"}
    _, chk = _planted_fy1(STATED_RANKMAX)
    clear_caches()
    try:
        ev = chk.run_planted(next(p for p in chk.planted if "cap ignored" in p.defect), RunContext())
    finally:
        clear_caches()
    # at k = 1 the defect is the map itself; from k = 2 on k·ŷ(θ/k) passes 1
    cx = ev.counterexample
    assert cx["side"] == "infeasible" and cx["k"] == 2 and max(cx["yhat"]) > 1


def _k2_tempered(theta, k=1):
    """rankmax's closed form, right on the simplex, tempered by 1.01 from k = 2 on."""
    return rankmax_sorted(theta / (1.01 if k > 1 else 1.0), k)


def _uncapped(theta, k=1):
    """The projection on kΔ: the cap forgotten (k·sparsemax(θ/k))."""
    return k * rankmax_sorted(theta / k, 1)


@pytest.mark.parametrize("fmap,side", [(_k2_tempered, "beats"), (_uncapped, "infeasible")])
def test_a_wrong_stated_map_is_refuted_at_k_2_and_its_record_rechecks_outside(fmap, side):
    loss = SeparableLoss(f"rankmax-{side}", RANKMAX.g, RANKMAX.x, domain="capped", torch_map=fmap)
    row, crashed = run_claim(capped_claims(loss)[0], RunContext(), planted=True)
    assert not crashed and row["verdict"] == "refuted"
    ev = {e["check"]: e for e in row["evidence"]}
    assert ev["conjugate-kkt"]["outcome"] == "holds" and ev["certified-argmax"]["outcome"] == "fails"
    assert shown(row) == (2, 1, 1)                  # the two planted truths (rankmax, its closed form) hold
    cx = ev["certified-argmax"]["counterexample"]
    assert cx["k"] == 2 and cx["side"] == side and sum(cx["point"]) == pytest.approx(2.0)
    results = json.loads(json.dumps({"claims": [row]}))
    assert recheck_results(results)[1:3] == (1, 1)
    for change in ({"k": 3}, {"k": 1}, {"gain": cx["gain"] * 1.01} if side == "beats" else {"yhat": cx["point"]}):
        tampered = json.loads(json.dumps(results))
        tampered["claims"][0]["evidence"][1]["counterexample"].update(change)
        assert recheck_results(tampered)[2] == 0, change


def test_a_constant_exceeded_only_at_k_2_is_refuted_there():
    """The entropy on C_k: sup λ_max = ½ at k = 1, → 1 at k ≥ 2; a stated 3/4 is exceeded at k ≥ 2 only."""
    mid = SeparableLoss("entropy-c-34", ENTROPY_CAPPED.g, ENTROPY_CAPPED.x, domain="capped",
                        lipschitz=sp.Rational(3, 4))
    row, crashed = run_claim(capped_claims(mid)[3], RunContext(), planted=False)
    assert not crashed and row["verdict"] == "refuted"
    cx = next(e for e in row["evidence"] if e["check"] == "jacobian-search")["counterexample"]
    assert cx["k"] >= 2 and cx["lambda_max"] > 0.75
    results = json.loads(json.dumps({"claims": [row]}))
    assert recheck_results(results)[1:3] == (1, 1)
    results["claims"][0]["evidence"][1]["counterexample"]["k"] = 1          # at k = 1 the point is not in C_1
    assert recheck_results(results)[2] == 0


@pytest.mark.parametrize("spec,loss,ks", [("rankmax", RANKMAX, [1, 2, 3]),
                                          ("reports.user.claims_capped_con:ENTROPY_CAPPED", ENTROPY_CAPPED, [3])])
def test_recheck_of_an_audit_loss_results_json_confirms_the_witnesses_at_every_k(tmp_path, capsys, spec, loss, ks):
    """The rows ``audit-loss`` writes (DYN-2 left out: it stores nothing), through ``softmax-audit recheck``."""
    rows = [run_claim(c, RunContext(), planted=False)[0] for c in user_claims(loss) if c.id != "DYN-2"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema": 1, "meta": {"subject": subject(spec, loss)}, "claims": rows}))
    assert cli_main(["recheck", str(path)]) == 0
    out = capsys.readouterr().out
    for reading in ("O1", "O2"):
        row = next(r for r in rows if r["reading"] == f"user:{loss.name}/{reading}")
        stored = row["evidence"][1]["figures"]["sop_witness"]["witnesses"]
        assert [w["k"] for w in stored] == ks
    assert out.count("(witness): ") == 2 and "FAILED" not in out
    assert all(f"k = {k}," in out for k in ks)
    row = next(r for r in rows if r["reading"] == f"user:{loss.name}/O1")
    row["evidence"][1]["figures"]["sop_witness"]["witnesses"][-1]["k"] = 1     # a wrong k
    path.write_text(json.dumps({"schema": 1, "meta": {"subject": subject(spec, loss)}, "claims": rows}))
    assert cli_main(["recheck", str(path)]) == 1
