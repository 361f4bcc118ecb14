"""Numeric FY checks (numerics/fy_checks.py): each holds where the claim holds, and each
can fail -- a slightly wrong prediction map is caught (no unfalsifiable check)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from losses import projections as proj
from losses import regularizers as regs
from numerics import cvx, fy_checks as F
from numerics.strategies import capped_points, scores, simplex_points
from audit import RunContext

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
# (that each registered FY check holds is asserted by tests/test_claims.py through the registry)
def test_smoothness_gt2_fails_with_recheckable_counterexample():
    ev = F.smoothness_check("entmax", CTX, alpha_range="gt2")
    assert ev.outcome == "fails" and ev.counterexample is not None
    ce = ev.counterexample
    from losses import get
    J = F._fd_jacobian(get("entmax", alpha=ce["alpha"]), torch.tensor([ce["theta"]], dtype=torch.float64), 1e-6)
    lam = float(F._lam(J)[0])
    assert lam > 1 and abs(lam - ce["lambda_max"]) < 1e-6 and abs(lam - 3 ** (ce["alpha"] - 2)) < 1e-6


@pytest.mark.parametrize("loss", ["sparsemax", "entmax"])
def test_entmax_differential_holds(loss):
    ev = F.entmax_differential(loss, CTX)
    assert ev.outcome == "holds", ev.to_json()
    assert abs(ev.figures["max_signed_loss_offset"]) < 1e-8  # no constant offset between conventions


# ------------------------------------------------------------------ falsifiability
@pytest.fixture
def scaled_softmax(monkeypatch):
    """softmax with a 0.999 temperature error: in the simplex, but not the argmax."""
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


@pytest.mark.parametrize("check,loss,planted", [
    ("cvx_agreement", "softmax", "scaled_softmax"), ("cvx_agreement", "sparsemax", "shifted_sparsemax"),
    ("loss_properties", "softmax", "scaled_softmax"), ("loss_properties", "sparsemax", "tempered_sparsemax"),
])
def test_check_catches_planted_defect(check, loss, planted, request):
    request.getfixturevalue(planted)
    ev = getattr(F, check)(loss, CTX)
    assert ev.outcome == "fails" and "theta" in ev.counterexample


def test_margin_check_catches_tempered_sparsemax(tempered_sparsemax):
    ev = F.margin_check("sparsemax", CTX)
    assert ev.outcome == "fails" and ev.counterexample["side"] == "plus"


def test_smoothness_catches_tempered_sparsemax(tempered_sparsemax):
    ev = F.smoothness_check("sparsemax", CTX)  # Jacobian 1/1.01 ≠ closed form, sup 0.99 < 1 − 1e-3
    assert ev.outcome == "fails"


def test_entmax_differential_catches_tempered_sparsemax(tempered_sparsemax):
    ev = F.entmax_differential("sparsemax", CTX)
    assert ev.outcome == "fails" and "theta" in ev.counterexample


def test_cvx_undecided_when_solver_not_optimal(monkeypatch):
    monkeypatch.setattr(cvx, "solve_argmax", lambda *a, **k: ("optimal_inaccurate", None, None))
    ev = F.cvx_agreement("sparsemax", CTX)
    assert ev.outcome == "undecided" and ev.figures["undecided"] == 25 and ev.figures["cases"] == 0


def test_loss_tolerance_covers_the_rounding_of_a_wide_theta():
    """The full profile's false alarm on FY-2[rankmax]: θ with one entry 5277 puts the
    computed loss 4.8e-9 below ½‖y − ŷ‖² (a theorem for Euclidean projections); the loss
    tolerance covers it, the old one did not, and a real gap of 1e-6·ptp² would not pass."""
    import numpy as np
    import torch

    from losses import get
    from numerics.fy_checks import _loss_tol, _round_tol

    theta = np.array([-0.000896528047779, 4.01330962135e-05, 5276.78537432, 0.000384008410963, 2.19003803812e-05])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
    loss = get("rankmax", k=2)
    th = torch.tensor(theta)[None]
    yhat = loss.predict(th)[0].numpy()
    gap = float(loss(th, torch.tensor(y)[None])[0]) - 0.5 * float((y - yhat) @ (y - yhat))
    assert _round_tol(theta) < -gap <= _loss_tol(theta)
    assert 1e-6 * np.ptp(theta) ** 2 > 100 * _loss_tol(theta)
