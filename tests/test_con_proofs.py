"""The CON symbolic routes (proofs/con/consistency.py): they hold on the losses' own Ω and
premises, carry a premise's scope gap, and do not hold when what they read (Ω, the target
mean, the label-map table) is wrong -- patched where the derivations look it up."""
from dataclasses import replace

import sympy as sp

from proofs.con import consistency as S
from reports.con import planted as pc


def _map(monkeypatch, name, **changes):
    monkeypatch.setattr(S, "LABEL_MAPS", {**S.LABEL_MAPS, name: replace(S.LABEL_MAPS[name], **changes)})


def test_separable_reads_the_generator_and_rejects_item_weights(monkeypatch):
    ok, phi = S.separable("sparsemax")
    x = sp.Symbol("x", positive=True)
    assert ok is True and sp.simplify(phi - x ** 2 / 2) == 0
    monkeypatch.setattr(S, "kkt_omega", pc.item_weighted_omega)
    ok, _ = S.separable("sparsemax")
    assert ok is not True


def test_properness_holds_and_needs_the_weights(monkeypatch):
    assert S.properness("sparsemax").decision == "holds"
    monkeypatch.setattr(S, "weighted_mean", pc.unweighted_mean)
    assert S.properness("sparsemax").decision != "holds"


def test_halfspace_gap_needs_a_strictly_convex_symmetric_regularizer(monkeypatch):
    assert S.topk_calibration("entmax").decision == "holds"  # no premises: cheap
    with monkeypatch.context() as m:
        m.setattr(S, "kkt_omega", pc.flat_omega)
        assert S.topk_calibration("entmax").decision != "holds"
    with monkeypatch.context() as m:
        m.setattr(S, "kkt_omega", pc.item_weighted_omega)
        assert S.topk_calibration("rankmax").decision != "holds"


def test_dcg_routes_need_the_gain_link_and_the_order_premise(monkeypatch):
    assert S.dcg_consistency("sparsemax", "L1").decision == "holds"
    assert S.dcg_consistency("rankmax", "multihot").decision == "holds"
    d = S.dcg_consistency("sparsemax", "L2")
    assert d.decision == "fails" and d.counterexample["D"][0]["r"] == [0, 2, 0]
    assert d.counterexample["pair"] == [1, 2] and abs(d.counterexample["regret"] - 0.2214421) < 1e-6
    with monkeypatch.context() as m:
        _map(m, "L1", gain=lambda r: r)
        assert S.dcg_consistency("sparsemax", "L1").decision == "undecided"
    with monkeypatch.context() as m:
        _map(m, "multihot", gain=lambda r: 1 - r)
        assert S.dcg_consistency("rankmax", "multihot").decision == "undecided"
    with monkeypatch.context() as m:  # a label outside C_k = dom Ω (properness does not apply)
        _map(m, "multihot", gain=lambda r: r + 5)
        assert S.dcg_consistency("rankmax", "multihot").decision == "undecided"
    with monkeypatch.context() as m:
        m.setattr(S, "kkt_omega", pc.item_weighted_omega)
        assert S.dcg_consistency("sparsemax", "L2").decision == "undecided"


def test_the_derivation_follows_the_map_definition_not_its_name(monkeypatch):
    """The L2 row's derivation holds once its table entry is the summed map (the planted
    truth), and an L1 entry without its weights fails like L2."""
    with monkeypatch.context() as m:
        m.setattr(S, "LABEL_MAPS", {**S.LABEL_MAPS, "L2": S.LABEL_MAPS["L1"]})
        assert S.dcg_consistency("sparsemax", "L2").decision == "holds"
    with monkeypatch.context() as m:
        _map(m, "L1", weighted=False)
        d = S.dcg_consistency("sparsemax", "L1")
        assert d.decision == "fails" and d.counterexample["theta"] == [0.0, 0.4, 0.6]


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
