"""CON-2 under rankmax reading R2 (proofs/con/rankmax_r2.py, numerics/con/rankmax_r2.py): the symbolic
pieces are the exact risk, the failing law fails only under the adaptive scale, its counterexample
re-checks and a sorted score vector does not."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from numerics.fy import rankmax_r2 as num
from proofs.con import rankmax_r2 as sym
from reports.recheck import recheck_one

FAILING = (Fraction(4, 5), Fraction(1, 20), Fraction(3, 20))
HOLDING = (Fraction(1, 2), Fraction(3, 10), Fraction(1, 5))


def _exact_risk(theta_A, eta):
    th = [Fraction(v) / num.CAP for v in theta_A]
    return sum(e * num.exact_loss(th, [float(i == j) for j in range(3)], 1) for i, e in enumerate(eta))


@pytest.mark.parametrize("region", ["a", "b", "c"])
def test_each_piece_is_the_exact_risk_of_an_independent_route(region):
    rng = np.random.default_rng(7)
    (lo1, hi1), (lo2, hi2), _ = sym.REGIONS[region]
    for sigma in [(0, 1, 2), (2, 0, 1), (1, 2, 0)]:
        piece = sym.piece(tuple(FAILING[i] for i in sigma), region)
        for _ in range(4):
            x1 = Fraction(int(rng.integers(1, 99)), 100) * (1 if hi1 == 1 else 7) + lo1
            low = sp.Rational(str(lo2.subs(sym.d1, sp.Rational(str(x1)))))
            x2 = Fraction(str(low)) + (Fraction(int(rng.integers(1, 99)), 100) * Fraction(str(hi2.subs(
                sym.d1, sp.Rational(str(x1))) - low)) if hi2 != sp.oo else Fraction(int(rng.integers(1, 400)), 7))
            phi = [x1 + x2, x2, Fraction(0)]
            theta = [Fraction(0)] * 3
            for j, item in enumerate(sigma):
                theta[item] = phi[j]
            want = _exact_risk(theta, FAILING)
            got = piece.subs({sym.d1: sp.Rational(str(x1)), sym.d2: sp.Rational(str(x2))})
            assert sp.Rational(str(want)) == got, (region, sigma, x1, x2)


def test_the_failing_law_fails_under_r2_and_holds_at_a_fixed_scale(monkeypatch):
    res = sym.decide_law(FAILING)
    assert res["decision"] == "fails" and res["argmin"] == (0, 1, 2)
    assert float(res["inf"]) == pytest.approx(0.1595588235294, abs=1e-12)
    assert float(res["inf_sorted"]) == pytest.approx(0.1638157894737, abs=1e-12)
    assert sym.decide_law(HOLDING)["decision"] == "holds"
    monkeypatch.setattr(sym, "SCALE", "fixed")
    fixed = sym.decide_law(FAILING)
    assert fixed["decision"] == "holds" and fixed["inf"] == fixed["r1_inf"] == sp.Rational(67, 400)


def test_the_counterexample_rechecks_and_a_sorted_vector_does_not():
    res = sym.decide_law(FAILING)
    theta = sym.witness(res)
    assert _exact_risk(theta, FAILING) < Fraction(str(sp.nsimplify(res["inf_sorted"])))
    c = {"a_max": num.CAP}
    cx = {"eta": [str(e) for e in FAILING], "theta_A": [str(v) for v in theta], "k": 1,
          "inf_sorted": float(res["inf_sorted"])}
    ok, why = recheck_one("CON-2", "rankmax/R2/multihot", cx, c)
    assert ok, why
    # R1's Bayes point (η itself, in units of 1/A) sorts η: no inversion, and its risk 0.1675 is above the bound
    sorted_cx = {**cx, "theta_A": [str(e) for e in FAILING]}
    assert not recheck_one("CON-2", "rankmax/R2/multihot", sorted_cx, c)[0]


def test_top2_calibration_fails_on_the_same_law_and_its_witness_rechecks(monkeypatch):
    assert sym.topk_law(FAILING, 1)["decision"] == "holds"
    res = sym.topk_law(FAILING, 2)
    assert res["decision"] == "fails" and res["pairs"] == [(0, 1), (2, 1)]
    assert res["inf_not_preserving"] == res["inf"] and float(res["inf_preserving"]) == pytest.approx(0.16381578947, abs=1e-10)
    c = {"a_max": num.CAP}
    cx = {"eta": [str(e) for e in FAILING], "top": 2, "k": 1, "theta_A": [str(v) for v in sym.witness(res)],
          "inf_preserving": float(res["inf_preserving"])}
    ok, why = recheck_one("CON-1", "rankmax/R2", cx, c)
    assert ok, why
    # a top-2 preserving vector (item 3 above item 2) is no counterexample, nor is the same witness read at k' = 1
    assert not recheck_one("CON-1", "rankmax/R2", {**cx, "theta_A": ["2", "0", "1"]}, c)[0]
    assert not recheck_one("CON-1", "rankmax/R2", {**cx, "top": 1}, c)[0]
    monkeypatch.setattr(sym, "SCALE", "fixed")
    assert sym.topk_law(FAILING, 2)["decision"] == "holds"
