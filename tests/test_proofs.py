"""Symbolic derivations of FY-1 … FY-4 (proofs/)."""
import numpy as np
import pytest
import sympy as sp

from proofs.derivation import Derivation
from proofs.fy.api import (LOSSES, check_conjugate, check_hessian, check_margin, check_smoothness, conjugate,
                       derived_conjugate, entmax_lipschitz, hessian, loss_properties, margin, smoothness,
                       stated_hessian)

FUNCS = [conjugate, loss_properties, hessian, margin, smoothness]


def _well_formed(d):
    assert isinstance(d, Derivation)
    assert d.steps and all(isinstance(s, str) and s for s in d.steps)
    assert d.statement and d.scope


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
def test_derivations_hold(fn, loss):
    d = fn(loss)
    _well_formed(d)
    assert d.decision == "holds", (fn.__name__, loss, d.steps)
    assert d.counterexample is None


def test_entmax_gt2_fails_with_computed_counterexample():
    d = smoothness("entmax", "gt2")
    _well_formed(d)
    assert d.decision == "fails"
    ce = d.counterexample
    assert ce["alpha"] == 3 and ce["n"] == 3 and ce["theta"] == [0, 0, 0]
    # independent numeric re-check: θ = 0 → ŷ uniform, s = p^{2−α}
    p = np.full(3, 1 / 3)
    s = p ** (2 - 3)
    J = np.diag(s) - np.outer(s, s) / s.sum()
    assert ce["lambda_max"] == pytest.approx(np.linalg.eigvalsh(J).max())


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
def test_unknown_loss(fn):
    with pytest.raises(ValueError, match="hingemax"):
        fn("hingemax")


def test_bad_alpha_range():
    with pytest.raises(ValueError, match="alpha_range"):
        smoothness("entmax", "lt1")


def test_margin_values_in_statement():
    assert r"m = \frac{1}{\alpha - 1}" in margin("entmax").statement
    assert "m = 1$" in margin("sparsemax").statement


# -- the decision procedures refute wrong candidates ----------------------------------
def test_wrong_hessians_fail():
    # softmax: diag(p) without the rank-one correction
    assert check_hessian("softmax", lambda c: sp.diag(*c.yhat), sizes=(2,)) is False
    # sparsemax: the identity on the support, no centring
    assert check_hessian("sparsemax", lambda c: sp.diag(*[1 if i in c.free else 0 for i in range(c.n)]),
                         sizes=(2, 3)) is False
    # entmax: normalising the rank-one term by |S| instead of Σs
    def wrong(c):
        w = [c.yhat[i] ** (2 - sp.Symbol("alpha", positive=True)) if i in c.free else 0 for i in range(c.n)]
        return sp.diag(*w) - sp.Matrix(w) * sp.Matrix([w]) / len(c.free)
    assert check_hessian("entmax", wrong, sizes=(2,)) is False
    # and the right ones hold on the same code path
    assert check_hessian("softmax", stated_hessian, sizes=(2,)) is True
    assert check_hessian("rankmax", stated_hessian, sizes=(3,)) is True


def test_wrong_conjugates_fail():
    assert check_conjugate("sparsemax", lambda c: sum(t**2 for t in c.theta) / 2, sizes=(2,)) is False
    assert check_conjugate("softmax", lambda c: sp.Max(*c.theta), sizes=(2,)) is False
    assert check_conjugate("softmax", lambda c: derived_conjugate(c) + 1, sizes=(2,)) is False
    assert check_conjugate("rankmax", derived_conjugate, sizes=(3,)) is True


def test_wrong_margins_fail():
    assert check_margin("sparsemax", 2) is False
    assert check_margin("sparsemax", sp.Rational(1, 2)) is False
    assert check_margin("entmax", 1) is False  # 1 is the margin only at α = 2
    assert check_margin("rankmax", 2) is False
    assert check_margin("softmax", 10) is False  # no finite margin
    assert check_margin("sparsemax", 1) is True


def test_wrong_smoothness_constants_fail():
    assert check_smoothness("softmax", 1) is False
    assert check_smoothness("softmax", sp.Rational(1, 4)) is False
    assert check_smoothness("entmax", 1) is False
    assert check_smoothness("entmax", "2**(alpha - 2)") is True


@pytest.mark.parametrize("alpha", [1.25, 1.5, 1.75, 2.0])
def test_entmax_constant_matches_numpy(alpha):
    p = np.array([0.5, 0.5])
    s = p ** (2 - alpha)
    J = np.diag(s) - np.outer(s, s) / s.sum()
    lam = np.linalg.eigvalsh(J).max()
    assert entmax_lipschitz(alpha) == pytest.approx(lam, rel=1e-12)
    assert 0.5 < entmax_lipschitz(alpha) <= 1.0


# -- symbolic in n: the generic identities (proofs/fy/identities.py) can fail -------------------
from proofs.fy import identities as G  # noqa: E402
from proofs.kkt import ALPHA, TAU  # noqa: E402


@pytest.mark.parametrize("loss", LOSSES)
def test_generic_identities_fail_on_a_shifted_conjugate(loss):
    """(That they hold on the derived closed form is part of test_derivations_hold.)"""
    off = lambda l, s: G.closed_form(l, s) + sp.Rational(1, 3)  # noqa: E731
    assert next(v.ok for _, v in G.conjugate_identities(loss, off)) is False  # the value identity
    assert next(v.ok for _, v in G.loss_identities(loss, off)) is False  # L(θ; ŷ) ≠ 0: the Bregman sum


def test_entmax_envelope_is_symbolic_in_the_support_and_can_fail():
    """FY-1 entmax, symbolic in |S| and α: dΩ*/dθ_i = ŷ_i through τ(θ).  A τ-coefficient slip
    passes the value at no point and breaks the gradient identity."""
    a = ALPHA
    slip = lambda l, s: (a - 1) / a * s["D"] + (1 + 2 * TAU) / (a * (a - 1))  # noqa: E731
    res = dict(G.conjugate_identities("entmax", slip))  # every identity, not stopping at the first failure
    assert res["∂Ω*/∂θ_i = ŷ_i, i ∈ F"].ok is False and res["∂Ω*/∂θ_i = ŷ_i, i ∈ Z"].ok is True


@pytest.mark.parametrize("loss", LOSSES)
def test_generic_jacobian_fails_on_a_wrong_sign(loss):
    assert G.jacobian_identity(loss, lambda d, wl, wi, W: d * wl + wl * wi / W).ok is False


def test_generic_projection_and_variance_identities():
    assert G.idempotent_identity().ok is True and G.variance_identity().ok is True
    assert G.idempotent_identity(lambda d, wl, wi, W: d * wl - 2 * wl * wi / W).ok is False


# -- the stated inputs of the derivations, read at call time ---------------------------------
import proofs.fy.conjugates as C  # noqa: E402
import proofs.fy.hessians as H  # noqa: E402
import proofs.fy.margins as M  # noqa: E402
import proofs.fy.smoothness as S  # noqa: E402


def _stated(monkeypatch, mod, loss, value):
    monkeypatch.setattr(mod, "STATED", {**mod.STATED, loss: value})


def test_stated_margins_and_constants_are_decided(monkeypatch):
    """A typo in a table the derivations read (proofs.fy.margins.STATED, proofs.fy.smoothness.STATED)
    is what they decide, through the real call (no cached result of the true table survives)."""
    for loss, value, decision in (("sparsemax", sp.Rational(101, 100), "fails"), ("softmax", 10, "fails")):
        with monkeypatch.context() as m:
            _stated(m, M, loss, value)
            assert margin(loss).decision == decision
        assert margin(loss).decision == "holds"  # the true table again
    for loss, value, decision in (("softmax", sp.Rational(1, 4), "fails"),
                                  ("softmax", 1, "undecided"),  # above the supremum: no finite witness
                                  ("entmax", "alpha/2", "undecided")):
        with monkeypatch.context() as m:
            _stated(m, S, loss, value)
            assert smoothness(loss).decision == decision
        assert smoothness(loss).decision == "holds"


def test_a_slip_in_the_closed_form_or_the_hessian_form_is_decided(monkeypatch):
    """The closed form of Ω* (proofs.fy.conjugates.closed_form) and the stated Hessian entry
    (proofs.fy.hessians.stated_form) are read at call time: a slip there fails the derivation."""
    orig = C.closed_form
    monkeypatch.setattr(C, "closed_form", lambda loss, s: orig(loss, s) + sp.Rational(1, 2))
    assert conjugate("sparsemax").decision == "fails"
    assert loss_properties("sparsemax").decision == "fails"
    monkeypatch.setattr(C, "closed_form", orig)
    monkeypatch.setattr(H, "stated_form", lambda d, wl, wi, W: d * wl + wl * wi / W)
    assert hessian("softmax").decision == "fails"
    monkeypatch.setattr(H, "stated_form", G.stated_form)
    assert conjugate("sparsemax").decision == "holds" and hessian("softmax").decision == "holds"


def test_entmax_smoothness_names_its_scope_gap():
    d = smoothness("entmax")
    assert d.decision == "holds" and "two-point and uniform" in d.gap
    assert d.evidence("x").scope_gap == d.gap


def test_entmax_gt2_can_hold_with_the_true_uniform_value(monkeypatch):
    """The refuted α > 2 reading is not rigged: a stated bound λ_max ≤ m^{α−2} on the uniform supports
    holds (with its own gap), the α ≤ 2 formula 2^{α−2} carried over still fails."""
    monkeypatch.setattr(S, "GT2_UPPER", "m**(alpha - 2)")
    d = smoothness("entmax", "gt2")
    assert d.decision == "holds" and "uniform supports only" in d.gap
    monkeypatch.setattr(S, "GT2_UPPER", "2**(alpha - 2)")
    assert smoothness("entmax", "gt2").decision == "fails"


def test_omega_takes_a_zero_entry_at_g_of_zero_plus():
    """A zero entry of p contributes lim_{x→0⁺} g(x), not 0 by assumption (issue 23: omega skipped
    zero entries): with g = x log x + 1, Ω(1, 0) = g(1) + g(0⁺) = 1 + 1."""
    from proofs import kkt

    kkt.generator_at_zero.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(kkt, "generator", lambda loss, x: x * sp.log(x) + 1)
            assert kkt.omega("softmax", [sp.Integer(1), sp.Integer(0)]) == 2
    finally:
        kkt.generator_at_zero.cache_clear()
    assert kkt.omega("softmax", [sp.Integer(1), sp.Integer(0)]) == 0
