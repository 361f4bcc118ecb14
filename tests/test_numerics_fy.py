"""Numeric FY checks (numerics/fy/fy1_conjugate.py … fy4_smoothness.py): each can fail, and each
tells a finding about the claim (``fails``) from a defect of ours (``SuiteDefect``).
That each registered FY check holds, and turns on its planted defects, is asserted through
the registry (tests/test_claims.py, tests/test_planted.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import RunContext, SuiteDefect
from losses import projections as proj
from losses import regularizers as regs
from numerics import cvx
from numerics.fy import checks as F
from numerics.fy import fy3_margin as M3
from numerics.fy import fy4_smoothness as S4
from numerics.fy.fy4_smoothness import _fd_jacobian, _lam
from numerics.strategies import capped_points, scores, simplex_points

CTX = RunContext(profile="quick")


# ------------------------------------------------------------------ strategies / cvx
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(scores(), st.data())
def test_strategies_shapes_and_domains(theta, data):
    n = theta.shape[0]
    assert theta.dtype == np.float64 and 2 <= n <= 200 and np.isfinite(theta).all()
    p = data.draw(simplex_points(n))
    assert (p >= 0).all() and abs(p.sum() - 1) < 1e-12
    if n >= 2:
        k = data.draw(st.integers(1, n - 1))
        q = data.draw(capped_points(n, k))
        assert (q >= 0).all() and (q <= 1).all() and abs(q.sum() - k) < 1e-9


def test_cvx_reference_on_known_points():
    status, p, v = cvx.solve_argmax("sparsemax", [0.0, 0.0])
    assert status == "optimal" and np.allclose(p, [0.5, 0.5], atol=1e-8) and abs(v - 0.25) < 1e-8
    status, p, v = cvx.solve_argmax("softmax", [1e4, 1e4 - np.log(3)], tol=1e-11)  # the shift keeps it exact
    assert status == "optimal" and np.allclose(p, [0.75, 0.25], atol=1e-6) and abs(v - np.log(4 / 3)) < 1e-8
    status, p, _ = cvx.solve_argmax("rankmax", [3.0, 0.0, 0.5], k=2)
    assert status == "optimal" and np.allclose(p, [1.0, 0.25, 0.75], atol=1e-7)


# ---------------------------------------------------------------------- refutation and oracle
def test_smoothness_gt2_fails_with_recheckable_counterexample():
    ev = F.smoothness_check("entmax", CTX, alpha_range="gt2")
    assert ev.outcome == "fails" and ev.counterexample is not None
    ce = ev.counterexample
    from losses import get
    J = _fd_jacobian(get("entmax", alpha=ce["alpha"]), torch.tensor([ce["theta"]], dtype=torch.float64), 1e-6)
    lam = float(_lam(J)[0])
    assert lam > 1 and abs(lam - ce["lambda_max"]) < 1e-6 and abs(lam - 3 ** (ce["alpha"] - 2)) < 1e-6


def test_smoothness_gt2_can_hold(monkeypatch):
    """The α > 2 check is not rigged to fail: with the true uniform-support value 3^{α−2} as
    the stated bound (the module's ``gt2_upper``, read at call time) at n = 3 it holds."""
    monkeypatch.setattr(S4, "gt2_upper", lambda loss, p: 3.0 ** (p["alpha"] - 2.0))
    ev = F.smoothness_check("entmax", CTX, alpha_range="gt2")
    assert ev.outcome == "holds", ev.detail


def test_smoothness_below_claimed_is_undecided_not_fails(monkeypatch):
    """A search that does not reach the stated constant cannot refute a supremum."""
    monkeypatch.setattr(S4, "claimed_constant", lambda loss, p: 1.01)
    ev = F.smoothness_check("sparsemax", CTX)
    assert ev.outcome == "undecided" and ev.counterexample is None


@pytest.mark.parametrize("loss", ["sparsemax", "entmax"])
def test_entmax_differential_holds(loss):
    ev = F.entmax_differential(loss, CTX)
    assert ev.outcome == "holds", ev.to_json()
    assert abs(ev.figures["max_signed_loss_offset"]) < 1e-8  # no constant offset between conventions


# ------------------------------------------------------------------ falsifiability
@pytest.fixture
def scaled_softmax(monkeypatch):
    """softmax with a 0.999 temperature error in ŷ only: in the simplex, but not the argmax."""
    orig = regs.Shannon.solve

    def solve(self, theta):
        sol = orig(self, theta)
        sol.values = torch.softmax(theta * 0.999, -1)
        return sol

    monkeypatch.setattr(regs.Shannon, "solve", solve)


@pytest.fixture
def shifted_sparsemax(monkeypatch):
    """sparsemax with its threshold moved by 1e-4 (mass ≠ 1)."""
    def threshold(z):
        tau, _ = proj.simplex_threshold(z)
        tau = tau + 1e-4
        return tau, (z - tau).clamp_min(0)

    monkeypatch.setattr(regs.SquaredNorm, "_solver", lambda self: threshold)


@pytest.fixture
def tempered_sparsemax(monkeypatch):
    """sparsemax of θ/1.01: in the simplex, margin 1.01 instead of 1."""
    monkeypatch.setattr(regs.SquaredNorm, "_solver", lambda self: (lambda z: proj.simplex_threshold(z / 1.01)))


@pytest.mark.parametrize("loss,planted", [("softmax", "scaled_softmax"), ("sparsemax", "shifted_sparsemax")])
def test_cvx_agreement_blames_our_implementation(loss, planted, request):
    """losses/ off the stated formula while the formula is the argmax: a defect of ours."""
    request.getfixturevalue(planted)
    with pytest.raises(SuiteDefect, match="FY-1"):
        F.cvx_agreement(loss, CTX)


@pytest.mark.parametrize("loss,planted", [("softmax", "scaled_softmax"), ("sparsemax", "tempered_sparsemax")])
def test_loss_properties_catches_planted_defect(loss, planted, request):
    request.getfixturevalue(planted)
    try:
        ev = F.loss_properties(loss, CTX)
    except SuiteDefect:
        return
    assert ev.outcome == "fails" and "theta" in ev.counterexample and "property" in ev.counterexample


def test_margin_check_blames_a_tempered_sparsemax(tempered_sparsemax):
    """At gap μ + ε the exact loss is 0 (50 digits) but losses/ says otherwise: ours."""
    with pytest.raises(SuiteDefect, match="exact loss is 0"):
        F.margin_check("sparsemax", CTX)


def test_margin_check_fails_on_a_wrong_claimed_margin(monkeypatch):
    """The margin under test is the module's table (read at call time): at 1.01 the check
    reports ŷ = y below it; that counterexample does not re-check against the row's margin 1
    (tests/test_fy_rechecks.py), so the run crashes (test below)."""
    monkeypatch.setitem(M3.MARGINS, "sparsemax", lambda p: 1.01)
    ev = F.margin_check("sparsemax", CTX)
    assert ev.outcome == "fails" and ev.counterexample["side"] == "minus"


def _row(key):
    from reports.fy.claims import claims

    return next(c for c in claims() if c.key == key)


def test_a_typo_in_the_margin_table_crashes_the_row(monkeypatch):
    """Issue 20's typo 1: sparsemax's margin typed 1.01 in numerics/fy/fy3_margin.py.  The numeric
    counterexample does not re-check against the row's margin 1, and the symbolic margin
    (no scope gap) holds: the row crashes, never 'refuted'; with the table intact it is verified."""
    from reports.runner import CheckCrashed, run_claim

    claim = _row("FY-3[sparsemax]")
    row, crashed = run_claim(claim, CTX, raise_errors=False)
    assert row["verdict"] == "verified" and not crashed
    monkeypatch.setitem(M3.MARGINS, "sparsemax", lambda p: 1.01)
    row, crashed = run_claim(claim, CTX, raise_errors=False)
    assert crashed and row["verdict"] == "crashed", row
    assert any("does not re-check" in r for r in row["crash"]), row["crash"]
    with pytest.raises(CheckCrashed):
        run_claim(claim, CTX, raise_errors=True)


def test_a_typo_in_the_margin_table_crashes_through_the_symbolic_route_too(monkeypatch):
    """The second route of item 4: were the counterexample to re-check, the holding symbolic
    margin, which covers it (no scope gap), would make the row crash (reports.runner.disagreements)."""
    from dataclasses import replace

    from reports.runner import disagreements

    claim = _row("FY-3[sparsemax]")
    sym = replace(claim.checks[0].run(CTX), check="margin")
    monkeypatch.setitem(M3.MARGINS, "sparsemax", lambda p: 1.01)
    num = replace(claim.checks[1].run(CTX), check="margin-eps")
    assert sym.outcome == "holds" and num.outcome == "fails"
    clash = disagreements(claim, [sym, num])
    assert clash and "covers the counterexample of margin-eps" in clash[0]


@pytest.mark.parametrize("threshold", [1e-13, 5e-14, 1e-200])
def test_margin_check_catches_a_softmax_flushing_small_probabilities(threshold):
    """Issue 20's surviving near miss: a kernel flushing probabilities below 5e-14 held when
    margins were tested only up to 30; margins up to 600 catch a flush anywhere above
    e^{-600}: the check does not hold (a fails that cannot re-check, or ours)."""
    from reports.fy.planted import flushed_softmax

    with flushed_softmax(threshold).patch():
        try:
            ev = F.margin_check("softmax", CTX)
        except SuiteDefect:
            return
    assert ev.outcome == "fails" and ev.counterexample["loss"] <= 0


def test_smoothness_blames_a_tempered_sparsemax(tempered_sparsemax):
    with pytest.raises(SuiteDefect, match="closed form"):  # Jacobian 1/1.01 ≠ the closed form of the same ŷ
        F.smoothness_check("sparsemax", CTX)


def test_entmax_differential_blames_a_tempered_sparsemax(tempered_sparsemax):
    with pytest.raises(SuiteDefect, match="entmax package"):
        F.entmax_differential("sparsemax", CTX)


def test_cvx_undecided_when_solver_not_optimal(monkeypatch):
    monkeypatch.setattr(cvx, "solve_argmax", lambda *a, **k: ("optimal_inaccurate", None, None))
    ev = F.cvx_agreement("sparsemax", CTX)
    assert ev.outcome == "undecided" and ev.figures["undecided"] == 25 and ev.figures["cases"] == 0


def test_loss_tolerance_covers_the_rounding_of_a_wide_theta():
    """The full profile's false alarm on FY-2[rankmax]: θ with one entry 5277 puts the
    computed loss 4.8e-9 below ½‖y − ŷ‖² (a theorem for Euclidean projections); the loss
    tolerance covers it, the old one did not, and a real gap of 1e-6·ptp² would not pass."""
    from losses import get
    from numerics.fy.common import loss_tol, round_tol

    theta = np.array([-0.000896528047779, 4.01330962135e-05, 5276.78537432, 0.000384008410963, 2.19003803812e-05])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
    loss = get("rankmax", k=2)
    th = torch.tensor(theta)[None]
    yhat = loss.predict(th)[0].numpy()
    gap = float(loss(th, torch.tensor(y)[None])[0]) - 0.5 * float((y - yhat) @ (y - yhat))
    assert round_tol(theta) < -gap <= loss_tol(theta)
    assert 1e-6 * np.ptp(theta) ** 2 > 100 * loss_tol(theta)


def test_fy4_catches_a_wrong_backward_of_the_map(monkeypatch):
    """Autograd through predict (the map's closed-form backward) is a third route to J_ŷ:
    a backward that drops softmax's −ppᵀ term is our defect, raised as such."""
    from audit import SuiteDefect
    from losses.regularizers import Shannon
    from numerics.fy.fy4_smoothness import smoothness_check

    monkeypatch.setattr(Shannon, "vjp", lambda self, p, g: p * g)
    with pytest.raises(SuiteDefect, match="autograd"):
        smoothness_check("softmax", CTX)
