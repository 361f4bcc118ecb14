"""The CON symbolic routes (proofs/consistency.py): they hold on the losses' own Ω and
premises, carry a premise's scope gap, and do not hold on wrong inputs."""
import sympy as sp

from proofs import consistency as S
from proofs.kkt import generator


def _item_weighted(loss):
    return lambda p: sum((i + 1) * generator(loss, x) for i, x in enumerate(p) if x != 0)


def test_separable_reads_the_generator_and_rejects_item_weights():
    ok, phi = S.separable("sparsemax")
    x = sp.Symbol("x", positive=True)
    assert ok is True and sp.simplify(phi - x ** 2 / 2) == 0
    ok, _ = S.separable("sparsemax", _item_weighted("sparsemax"))
    assert ok is not True


def test_properness_holds_and_needs_the_weights():
    assert S.properness("sparsemax").decision == "holds"
    a, m, _, y = S.atom_symbols()
    assert S.properness("sparsemax", target=sp.Sum(y[a], (a, 1, m)) / m).decision != "holds"


def test_halfspace_gap_needs_a_strictly_convex_symmetric_regularizer():
    assert S.topk_calibration("entmax").decision == "holds"  # no premises: cheap
    assert S.topk_calibration("entmax", omega=lambda p: sp.S.Zero).decision != "holds"
    assert S.topk_calibration("rankmax", omega=_item_weighted("rankmax")).decision != "holds"


def test_dcg_routes_need_the_gain_link_and_the_order_premise():
    assert S.dcg_consistency("sparsemax", "L1").decision == "holds"
    assert S.dcg_consistency("sparsemax", "L1", label_gain=lambda r: r).decision == "undecided"
    assert S.dcg_consistency("rankmax", "multihot").decision == "holds"
    assert S.dcg_consistency("rankmax", "multihot", label_gain=lambda r: 1 - r).decision == "undecided"
    # a label outside C_k = dom Ω (properness does not apply)
    assert S.dcg_consistency("rankmax", "multihot", label_gain=lambda r: r + 5).decision == "undecided"
    d = S.dcg_consistency("sparsemax", "L2")
    assert d.decision == "fails" and d.counterexample["D"][0]["r"] == [0, 2, 0]
    assert S.dcg_consistency("sparsemax", "L2", omega=_item_weighted("sparsemax")).decision == "undecided"


def test_a_premise_gap_carries_over_and_a_failed_premise_undecides(monkeypatch):
    real = S.fy_premises("sparsemax")
    gapped = ((real[0][0], "holds", real[0][2], "n ≤ 4 only"), real[1])
    monkeypatch.setattr(S, "fy_premises", lambda loss: gapped)
    d = S.dcg_consistency("sparsemax", "L1")
    assert d.decision == "holds" and "premise FY-1[sparsemax]: n ≤ 4 only" in d.gap
    assert d.evidence("bayes-order").scope_gap == d.gap
    monkeypatch.setattr(S, "fy_premises", lambda loss: ((real[0][0], "undecided", "", ""), real[1]))
    assert S.dcg_consistency("sparsemax", "L1").decision == "undecided"
    assert S.properness("sparsemax").decision == "undecided"
