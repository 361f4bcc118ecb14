"""CON-3 / DYN-1 derivations (proofs/con/order.py, proofs/dyn/gradient_support.py) hold on the
derived inputs and fail on wrong ones: each input is derived from FY-1's KKT solutions,
not typed, and each derivation can turn."""
import pytest
import sympy as sp

from proofs.dyn import gd_exact as gde
from proofs.dyn import gradient_support as gs
from proofs.con import order as o


def test_free_maps_are_derived_from_the_kkt_condition():
    assert o.derived_free_map("sparsemax") == o.U and o.derived_free_map("rankmax") == o.U
    s = o.S_ALPHA
    assert sp.simplify(o.derived_free_map("entmax") - (s * o.U) ** (1 / s)) == 0  # ((α−1)u)^{1/(α−1)}


@pytest.mark.parametrize("loss", ["softmax", "sparsemax", "entmax", "rankmax"])
def test_derivations_hold_on_the_derived_inputs(loss):
    assert o.order_o1(loss).decision == "holds"
    assert o.order_o2(loss).decision == "holds"
    assert gs.gradient_support(loss).decision == "holds"


@pytest.mark.parametrize("loss", ["sparsemax", "entmax", "rankmax"])
@pytest.mark.parametrize("wrong", [-o.U, sp.exp(o.U), o.U ** 2 - o.U])
def test_sparse_order_derivations_reject_wrong_maps(loss, wrong, monkeypatch):
    # decreasing, discontinuous at the join (f(0+) = 1), non-monotone on the free interval: a wrong map enters
    # where the derivations read it (the module's derived_free_map, looked up at call time)
    monkeypatch.setattr(o, "derived_free_map", lambda loss_: wrong)
    assert o.order_o1(loss).decision != "holds"
    assert o.order_o2(loss).decision != "holds"


def test_softmax_derivations_reject_wrong_inputs(monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(o, "softmax_minimizer", lambda e, Z: 2 * sp.log(e))  # a tempered minimizer
        assert o.order_o2("softmax").decision != "holds"
        m.setattr(o, "softmax_minimizer", lambda e, Z: e)
        assert o.order_o2("softmax").decision != "holds"
        m.setattr(o, "softmax_map", lambda ti, tj, R: (sp.Rational(1, 3), sp.Rational(1, 3)))  # blind to the scores
        assert o.order_o1("softmax").decision != "holds"
        m.setattr(gs, "softmax_conjugate", lambda tj, R: sp.Max(tj, sp.log(R)))
        assert gs.gradient_support("softmax").decision != "holds"
    # restored: the real inputs hold again
    assert o.order_o1("softmax").decision == "holds" and o.order_o2("softmax").decision == "holds"
    assert gs.gradient_support("softmax").decision == "holds"


def test_softmax_minimizer_is_solved_not_typed():
    e, Z = sp.symbols("eta Z", positive=True)
    assert sp.simplify(sp.expand_log(o.softmax_minimizer(e, Z) - sp.log(e) - sp.log(Z), force=True)) == 0


@pytest.mark.parametrize("loss", ["sparsemax", "entmax", "rankmax"])
def test_gradient_support_rejects_a_smeared_conjugate(loss, monkeypatch):
    monkeypatch.setattr(gs, "derived_conjugate", gs.smeared_conjugate())
    assert gs.gradient_support(loss).decision == "fails"


def test_unit_step_argument_fails_at_a_wrong_step(monkeypatch):
    gde.unit_step_finite.cache_clear()
    try:
        monkeypatch.setattr(gde, "UNIT_STEP", sp.Rational(1, 2))
        for loss in ("sparsemax", "rankmax"):
            assert gde.unit_step_finite(loss).decision == "fails"
    finally:
        monkeypatch.undo()
        gde.unit_step_finite.cache_clear()
    assert gde.unit_step_finite("sparsemax").decision == "holds"
