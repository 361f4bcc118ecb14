"""Rankmax reading R2 (reports/r2/claims.py): the exact routes agree with each other and with the
torch loss; the refuting counterexamples re-check and a wrong one does not; the planted defects
of the verified row turn it; the claims without an R2 row are named in the front matter."""
from fractions import Fraction

import numpy as np
import pytest
import torch

from audit import RunContext, markup
from losses import get
from numerics.fy import rankmax_r2 as num
from proofs.fy import rankmax_r2 as sym
from reports.recheck import recheck_one
from reports.rechecks import r2 as rr


def _draws(count=150, seed=3):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(2, 7))
        k = int(rng.integers(1, n))
        theta = rng.normal(size=n) * rng.choice([1e-3, 1.0, 10.0])
        if rng.random() < 0.3:
            theta = np.round(theta)  # ties, and labels tied with the k-th score
        y = np.zeros(n)
        y[rng.permutation(n)[:k]] = 1.0
        yield theta, y, k


def test_the_two_exact_routes_and_the_torch_loss_agree():
    fr = lambda v: [Fraction(float(x)) for x in v]  # noqa: E731
    L = {k: get("rankmax", k=k, scale="adaptive") for k in range(1, 6)}
    for theta, y, k in _draws():
        a_num = num.exact_scale(fr(theta), list(y), k)
        l_rc, a_rc = rr._loss(fr(theta), fr(y), k, Fraction(1000))
        assert a_num == a_rc and num.exact_loss(theta, y, k) == l_rc, (theta, y, k)
        th, yy = torch.as_tensor(theta)[None], torch.as_tensor(y)[None]
        assert float(L[k].scale(th, yy)[0, 0]) == pytest.approx(float(a_rc), rel=1e-9)
        assert float(L[k](th, yy)[0]) == pytest.approx(float(l_rc), rel=1e-7, abs=1e-9)


def test_the_scale_is_the_cap_on_a_top_label_set_and_puts_a_lower_label_on_the_threshold():
    fr = lambda v: [Fraction(x) for x in v]  # noqa: E731
    assert rr._scale(fr([3, 1, 0]), fr([1, 1, 0]), 2, Fraction(1000)) == 1000
    a = rr._scale(fr([-2, 0]), fr([1, 0]), 1, Fraction(1000))
    assert a == Fraction(1, 2) and rr._proj([a * -2, a * 0], 1) == [0, 1]


def test_the_refuting_counterexamples_recheck_and_a_wrong_one_does_not():
    c = {"a_max": 1000, "margin": 1}
    assert recheck_one("FY-2", "rankmax/R2", sym.properties().counterexample, c)[0]
    assert recheck_one("FY-3", "rankmax/R2", sym.margin().counterexample, c)[0]
    # the convex R1 end: a pair on which the midpoint lies below the chord
    assert not recheck_one("FY-2", "rankmax/R2", {"theta_a": [1, 0], "theta_b": [3, 0], "y": [1, 0], "k": 1}, c)[0]
    # zero loss at the margin itself is what the claim says, not a counterexample
    assert not recheck_one("FY-3", "rankmax/R2", {"theta": [1, 0, -1], "y": [1, 0, 0], "k": 1}, c)[0]
    # the R1 re-checker is not asked: an R2 row without an FY-4 entry has no re-checker
    assert not recheck_one("FY-4", "rankmax/R2", {"theta": [0, 0]}, c)[0]


def test_the_derivations_decide_r1_the_other_way(monkeypatch):
    assert sym.properties().decision == "fails" and sym.margin().decision == "fails"
    monkeypatch.setattr(sym, "SCALE", "fixed")
    assert sym.properties().decision == "holds" and sym.margin().decision == "holds"


def test_the_numeric_checks_are_deterministic():
    ctx = RunContext(profile="quick", seed=0)
    a, b = num.margin_check(ctx), num.margin_check(ctx)
    assert a.to_json() == b.to_json() and a.outcome == "fails"
    assert a.figures["zero_from_gap"] == pytest.approx(1e-3, rel=1e-9)


def test_every_claim_without_an_r2_row_says_why_in_marked_text():
    from reports.r2.claims import NOT_APPLICABLE
    from reports.front import GLOSSARY
    from reports.registry import all_claims

    assert dict(GLOSSARY)["Rankmax reading R2, where it has no row"] == NOT_APPLICABLE
    named = " ".join(t for t, _ in NOT_APPLICABLE)
    with_row = {c.id for c in all_claims() if "R2" in c.reading.split("/")}
    assert with_row == {"FY-1", "FY-2", "FY-3", "CON-1", "CON-2"}
    for cid in {c.id for c in all_claims()} - with_row:
        assert cid in named or cid.split("-")[0] in named, cid
    assert not [p for _, why in NOT_APPLICABLE for p in markup.problems(why)]
