"""CPX-1: the claimed costs and their orderings (proofs/complexity.py), the local-exponent
functions, and the numeric decision (numerics/complexity.py), including planted defects."""
import json
import math

import pytest
import sympy as sp

from numerics import complexity as X
from proofs import complexity as P
from audit import RunContext

N, U, n, d, m = P.N, P.U, P.n, P.d, P.m


# ------------------------------------------------------------------ the table
def test_cost_table():
    assert P.cost("softmax") == N * n * d
    assert P.cost("hsm") == N * d * sp.log(n)
    assert P.cost("rg2/als") == N * d ** 2 + (U + n) * d ** 3
    for s in P.SAMPLED:
        assert P.cost(s) == N * m * d
    for s in P.SPARSE:
        assert sp.expand(P.cost(s, "sort") - N * n * d - N * n * sp.log(n)) == 0
        assert P.cost(s, "linear") == N * n * d
    assert P.claimed_string("rankmax") == "N n (d + log n)" and P.claimed_string("rankmax", "linear") == "N n d"


@pytest.mark.parametrize("bad", [dict(method="adam"), dict(method="softmax", selection="heap")])
def test_cost_rejects_bad_names(bad):
    with pytest.raises(ValueError, match=next(iter(bad)) if "selection" not in bad else "selection"):
        P.cost(**bad)


# ------------------------------------------------------------------ local exponents
def test_local_exponent_of_monomials_is_the_power():
    assert P.local_exponent("softmax", "n", 1e3, 1e5, {"N": 7, "d": 3}) == pytest.approx(1, abs=1e-12)
    assert P.local_exponent("softmax", "d", 16, 128, {"N": 1, "n": 10}) == pytest.approx(1, abs=1e-12)
    assert P.local_exponent("ssm/uniform", "n", 1e3, 1e5, {"N": 1, "d": 3, "m": 4}) == pytest.approx(0, abs=1e-12)
    assert P.local_exponent("rg2/als", "d", 2, 4, {"N": 0.001, "U": 1e9, "n": 1}) == pytest.approx(3, abs=1e-6)


@pytest.mark.parametrize("x0,x1", [(1e3, 3e3), (3e4, 1e5), (10, 11)])
def test_local_exponent_hsm_is_loglog(x0, x1):
    want = math.log(math.log(x1) / math.log(x0)) / math.log(x1 / x0)
    assert P.local_exponent("hsm", "n", x0, x1, {"N": 1, "d": 8}) == pytest.approx(want, rel=1e-12)


def test_band_contains_every_choice_of_constants():
    """The local exponent of a·N n d + b·N n log n lies in the band for any a, b > 0."""
    fixed = {"N": 1, "d": 16}
    lo, hi = P.exponent_band("sparsemax", "n", 3e4, 1e5, fixed)
    assert lo == pytest.approx(1)
    assert hi == pytest.approx(1 + math.log(math.log(1e5) / math.log(3e4)) / math.log(1e5 / 3e4))
    for a, b in [(1, 1), (1e-6, 1), (1, 1e-6), (5, 0.3)]:
        costs = {"sparsemax": a * N * n * d + b * N * n * sp.log(n)}
        e = P.local_exponent("sparsemax", "n", 3e4, 1e5, fixed, costs=costs)
        assert lo - 1e-12 <= e <= hi + 1e-12
    assert P.exponent_band("softmax", "n", 1e3, 1e4, {"N": 1, "d": 4}) == pytest.approx((1.0, 1.0))
    assert P.exponent_band("rg2/als", "n", 1e3, 1e4, {"N": 1, "U": 1, "d": 4}) == pytest.approx((0.0, 1.0))


@pytest.mark.parametrize("kw,match", [
    (dict(method="softmax", var="q", x0=1, x1=2, fixed={"N": 1, "d": 1}), "var"),
    (dict(method="softmax", var="n", x0=2, x1=2, fixed={"N": 1, "d": 1}), "x0"),
    (dict(method="softmax", var="n", x0=1, x1=2, fixed={"N": 1}), "fixed"),
    (dict(method="softmax", var="n", x0=1, x1=2, fixed={"N": 1, "d": -1}), "fixed"),
])
def test_local_exponent_rejects_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        P.local_exponent(**kw)


# ------------------------------------------------------------------ derivations
@pytest.mark.parametrize("derive", [P.hsm_vs_softmax, P.sampled_vs_softmax, P.sparse_vs_softmax, P.als_vs_softmax,
                                    P.hsm_vs_sampled, P.ordering])
def test_derivations_hold(derive):
    D = derive()
    assert D.decision == "holds", D.steps
    assert D.steps and all(isinstance(s, str) for s in D.steps)


@pytest.mark.parametrize("derive,costs", [
    (P.hsm_vs_softmax, {"hsm": N * n * d * sp.log(n)}),                  # HSM as dear as a sorted softmax
    (P.sampled_vs_softmax, {"ssm/uniform": N * m * d * n}),              # sampled cost growing with n
    (P.sparse_vs_softmax, {"sparsemax": N * n * (d + n)}),                # a quadratic "sort"
    (P.als_vs_softmax, {"rg2/als": N * d ** 3 + (U + n) * d ** 3}),      # limit d²/N would be wrong
    (P.hsm_vs_sampled, {"hsm": N * d * n}),
    (P.ordering, {"hsm": N * n * d}),                                     # HSM no longer below softmax
])
def test_derivations_can_fail(derive, costs):
    assert derive(costs=costs).decision == "fails"


def test_row_derivations_cover_every_method():
    for meth in P.METHODS:
        assert P.row_derivations(meth)
    with pytest.raises(ValueError, match="method"):
        P.row_derivations("popularity")


# ------------------------------------------------------------------ the numeric decision
GRID = [1_000, 3_000, 10_000, 30_000, 100_000]


def test_decision_holds_on_counts_with_the_claimed_growth():
    counts = [7.0 * x * 32 + 11 * x * math.log2(x) + 500 for x in GRID]  # sort-based sparse with other constants
    out, figs, cx = X.decide_variable("sparsemax", "n", GRID, counts, {"N": 1, "d": 32})
    assert out == "holds" and cx is None and figs["tight_n"]
    out, figs, _ = X.decide_variable("rg2/als", "n", GRID, [1e6 + 5 * x for x in GRID], {"N": 2e4, "U": 1e3, "d": 32})
    assert out == "holds"


def test_planted_quadratic_counts_fail_with_a_counterexample():
    counts = [3.0 * x * x for x in GRID]
    out, figs, cx = X.decide_variable("softmax", "n", GRID, counts, {"N": 1, "d": 32},
                                      by_op=[{"aten.mm": c, "aten.exp": 1.0} for c in counts])
    assert out == "fails"
    assert cx["method"] == "softmax" and cx["variable"] == "n" and cx["pair"] == [1_000, 3_000]
    assert cx["fitted"] == pytest.approx(2) and cx["claimed"] == pytest.approx(1)
    assert list(cx["fastest_growing_ops"])[0] == "aten.mm"
    assert figs["flops_exponent_n"] == pytest.approx(2) and figs["flops_exponent_n_ci"] == pytest.approx([2, 2])


def test_planted_n_dependence_of_a_sampled_method_fails_and_slower_growth_is_not_tight():
    out, _, cx = X.decide_variable("ssm/uniform", "n", GRID, [100.0 + x for x in GRID], {"N": 1, "d": 32, "m": 32})
    assert out == "fails" and cx["variable"] == "n"
    out, figs, _ = X.decide_variable("softmax", "d", [16, 32, 64, 128], [100.0] * 4, {"N": 1, "n": 3000})
    assert out == "holds" and not figs["tight_d"]  # cheaper than claimed: the bound holds, not tight
    assert not figs["matches_unit_constants_d"]


def test_decision_rejects_bad_input():
    with pytest.raises(ValueError, match="xs"):
        X.decide_variable("softmax", "n", [3, 1], [1, 2], {"N": 1, "d": 1})
    with pytest.raises(ValueError, match="counts"):
        X.decide_variable("softmax", "n", [1, 3], [0, 2], {"N": 1, "d": 1})
    with pytest.raises(ValueError, match="profile"):
        X.grid("softmax", "n", "huge")


def test_fit_slope_of_a_power_law():
    s, ci = X.fit_slope([1, 2, 4, 8], [3 * x ** 1.5 for x in (1, 2, 4, 8)])
    assert s == pytest.approx(1.5) and ci == pytest.approx([1.5, 1.5])
    s, ci = X.fit_slope([1, 10, 100], [1, 12, 90])
    assert ci[0] < s < ci[1]


def test_measure_point_counts_are_deterministic():
    a = X.measure_point("entmax-1.5", 300, 8, 4, repeats=1)
    b = X.measure_point("entmax-1.5", 300, 8, 4, repeats=1)
    assert a["flops"] == b["flops"] and a["by_op"] == b["by_op"]
    c = X.measure_point("rg2/als", 200, 4, 4, repeats=1, seed=1)
    assert c["per"] == X.ALS_INTERACTIONS and c["flops"] > 0
    with pytest.raises(ValueError, match="n must"):
        X.measure_point("softmax", 0, 8, 4)


def test_wall_clock_stays_in_wallclock_keys(monkeypatch):
    """Two measurements that differ only in their seconds give evidence that differs only
    in WALLCLOCK_KEYS, and no outcome or detail text depends on time."""

    def fake(power):
        def pts(xs, f):
            return {"x": list(xs), "points": [{"flops": f(x), "by_op": {"aten.mm": f(x)}, "default_ops": [],
                                               "seconds": 1e-6 * x ** power * (1 + 0.1 * (i % 2)), "per": 1}
                                              for i, x in enumerate(xs)]}
        return {meth: {"n": pts(GRID[:4], lambda x: 64.0 * x), "d": pts([16, 32, 64, 128], lambda x: 3000.0 * x),
                       "m": pts([8, 32, 128], lambda x: 5.0 * x) if meth in P.SAMPLED else {"x": [], "points": []}}
                for meth in X.METHODS}

    def run(method, power):
        monkeypatch.setattr(X, "measurements", lambda *a: fake(power))
        monkeypatch.setattr(X, "method_measurements", lambda meth, *a: fake(power)[meth])
        return X.cpx1(method, RunContext()).to_json()

    for method in ("softmax", "nce"):
        a, b = run(method, 0.9), run(method, 0.4)
        assert a["outcome"] == b["outcome"] and a["detail"] == b["detail"]
        differ = {k for k in a["figures"] if a["figures"][k] != b["figures"][k]}
        assert differ and differ <= set(X.WALLCLOCK_KEYS)
    a = run("softmax", 0.9)
    assert {"exponent_n", "claimed", "plot"} <= set(a["figures"])


# ------------------------------------------------------------------ the implementation's cost, derived
from fractions import Fraction  # noqa: E402

from numerics import cost_derivation as CD  # noqa: E402
from reports.recheck import recheck_one  # noqa: E402


def test_interpolation_recovers_a_known_polynomial_exactly():
    grid = {"x": (1, 2, 4), "y": (3, 5)}
    f = lambda x, y: Fraction(2, 3) * x * x * y - 7 * y + 5  # noqa: E731
    vals = [f(x, y) for x in grid["x"] for y in grid["y"]]
    poly = CD.interpolate(("x", "y"), grid, vals)
    assert poly == {(2, 1): Fraction(2, 3), (0, 1): Fraction(-7), (0, 0): Fraction(5)}
    assert CD.evaluate(poly, ("x", "y"), {"x": 10, "y": 11}) == f(10, 11)
    with pytest.raises(ValueError, match="values"):
        CD.interpolate(("x", "y"), grid, vals[:-1])


def test_domination_and_growth_certificate():
    claim = ({"N": 1, "n": 1, "d": 1},)
    assert CD.dominated({"N": 1, "d": 1}, claim) and CD.dominated({"N": 1, "B": -1}, claim)
    assert not CD.dominated({"N": 1, "n": 2}, claim) and not CD.dominated({"B": 1}, claim)
    mons = {(("N", 1), ("d", 1), ("n", 1)): Fraction(6), (("N", 1), ("n", 2)): Fraction(1)}
    cert = CD.growth_certificate(mons, claim)
    assert cert["variables"] == ["n"] and cert["degree"] == 2 and cert["claimed_degree"] == 1
    assert CD.growth_certificate({(("N", 1), ("d", 1), ("n", 1)): Fraction(6)}, claim) is None


@pytest.mark.parametrize("method", list(CD.SPECS))
def test_derived_cost_holds_and_reproduces_the_measured_count(method):
    D = CD.derive_cost(method)
    assert D.decision == "holds", D.steps
    # the derived count at the numeric check's base point is the measured one (held out)
    assert "Reproduces the exact count at the held-out sizes: True" in D.steps


def test_softmax_count_is_the_measured_per_interaction_count():
    """The softmax count 6Bnd + Bd + 17Bn + 10B + 6 (numerics/opcount.py rules), at B = 32,
    n = 1000, d = 32, is the per-interaction count the numeric check measures."""
    spec = CD.SPECS["softmax"]
    poly = CD.interpolate(spec.variables, spec.grid, CD.traced("softmax")["grid"])
    assert poly == {(1, 1, 1): 6, (1, 0, 1): 1, (1, 1, 0): 17, (1, 0, 0): 10, (0, 0, 0): 6}
    measured = X.measure_point("softmax", 1000, 32, 32, repeats=1)["flops"]
    assert CD.evaluate(poly, spec.variables, {"B": 32, "n": 1000, "d": 32}) / 32 == Fraction(measured)


@pytest.mark.parametrize("method,extra", [
    ("softmax", lambda p: p["B"] * p["n"] ** 2),       # the softmax Jacobian materialized
    ("rg2/als", lambda p: 2 * p["n"] ** 2 * p["d"]),   # the Gram matrix transposed
    ("rg2/als", lambda p: p["N"] * p["n"]),             # a dense N x n pass
])
def test_derived_cost_fails_on_planted_counts_and_the_counterexample_rechecks(method, extra):
    D = CD.derive_cost(method, extra=("planted", extra))
    assert D.decision == "fails"
    cx = json.loads(json.dumps(D.counterexample))
    ok, msg = recheck_one("CPX-1", method, cx)
    assert ok, msg


def test_derived_cost_is_undecided_when_the_degree_bound_is_exceeded():
    D = CD.derive_cost("softmax", extra=("cubic", lambda p: p["n"] ** 3))  # degree 3 > the bound 2
    assert D.decision == "undecided" and "held-out sizes: False" in D.steps[-1]


def test_derived_cost_recheck_rejects_non_counterexamples():
    D = CD.derive_cost("softmax", extra=("planted", lambda p: p["B"] * p["n"] ** 2))
    cx = json.loads(json.dumps(D.counterexample))
    real = CD.traced("softmax")
    honest = cx | {"counts": [str(c) for c in real["grid"]], "heldout_counts": [str(c) for c in real["heldout"]]}
    ok, msg = recheck_one("CPX-1", "softmax", honest)  # the real counts grow like the claim
    assert not ok and "no faster growth" in msg
    tampered = cx | {"heldout_counts": [str(Fraction(c) + 1) for c in cx["heldout_counts"]]}
    assert not recheck_one("CPX-1", "softmax", tampered)[0]  # not the polynomial the grid gives
    assert not recheck_one("CPX-1", "rg2/als", cx)[0]  # about softmax, stored under another row


def test_counted_exponent_recheck():
    counts = [3.0 * x * x for x in GRID]
    out, _, cx = X.decide_variable("softmax", "n", GRID, counts, {"N": 1, "d": 32})
    cx = json.loads(json.dumps(cx))
    assert out == "fails" and recheck_one("CPX-1", "softmax", cx)[0]
    # a count within the sort-based band of a sparse map is not a counterexample
    sparse = cx | {"method": "sparsemax", "flops_per_interaction": [x * (32 + math.log2(x)) for x in GRID]}
    ok, msg = recheck_one("CPX-1", "sparsemax", sparse)
    assert not ok and "within the claim" in msg
    # nor a sampled method whose count does not grow with n
    flat = cx | {"method": "nce", "flops_per_interaction": [8000.0 + 0.001 * x for x in GRID]}
    assert not recheck_one("CPX-1", "nce", flat)[0]
    assert not recheck_one("CPX-1", "softmax", cx | {"pair": [1_000, 10_000]})[0]  # not consecutive


# ------------------------------------------------------------------ planted defects of the CPX-1 rows
def test_every_cpx1_planted_defect_turns_its_check():
    """tests/test_planted.py runs them all; here the outcome each must give: fails for the
    derived and counted routes (with a counterexample), a suite defect for the claimed
    formulas (a wrong table contradicts our own stated relations)."""
    from audit import SuiteDefect
    from reports.claims_cpx import claims

    ctx = RunContext()
    for claim in claims():
        for check in claim.checks:
            for p in check.planted:
                if check.name in ("derived-cost", "counted-flops-exponents"):
                    ev = check.run_planted(p, ctx)
                    assert ev.outcome == "fails" and ev.counterexample, (claim.key, check.name)
                    assert recheck_one("CPX-1", claim.reading, json.loads(json.dumps(ev.counterexample)))[0]
                else:
                    with pytest.raises(SuiteDefect):
                        check.run_planted(p, ctx)
