"""CPX-1: the claimed costs and their orderings (proofs/cpx/complexity.py), the local-exponent
functions, and the numeric decision (numerics/cpx/complexity.py), including planted defects
(each entering the real code path: the claimed table, or the counted step) and the
re-checker's negative tests (reports/rechecks/cost.py, under the row's constants)."""
import json
import math
from dataclasses import replace

import pytest
import sympy as sp

from numerics.cpx import complexity as X
from proofs.cpx import complexity as P
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


def _with_entries(monkeypatch, entries):
    """The claimed table with ``entries`` replaced (as a typo in it would enter)."""
    real = P._table
    monkeypatch.setattr(P, "_table", lambda selection: real(selection) | entries)


def test_band_contains_every_choice_of_constants(monkeypatch):
    """The local exponent of a·N n d + b·N n log n lies in the band for any a, b > 0."""
    fixed = {"N": 1, "d": 16}
    lo, hi = P.exponent_band("sparsemax", "n", 3e4, 1e5, fixed)
    assert lo == pytest.approx(1)
    assert hi == pytest.approx(1 + math.log(math.log(1e5) / math.log(3e4)) / math.log(1e5 / 3e4))
    for a, b in [(1, 1), (1e-6, 1), (1, 1e-6), (5, 0.3)]:
        with monkeypatch.context() as mp:
            _with_entries(mp, {"sparsemax": a * N * n * d + b * N * n * sp.log(n)})
            e = P.local_exponent("sparsemax", "n", 3e4, 1e5, fixed)
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
def test_derivations_can_fail(derive, costs, monkeypatch):
    _with_entries(monkeypatch, costs)
    assert derive().decision == "fails"


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

from numerics.cpx import cost_derivation as CD  # noqa: E402
from reports.cpx.claims import constants  # noqa: E402
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
    """The softmax count 6Bnd + Bd + 13Bn + 10B + 5 (numerics/cpx/opcount.py rules), at B = 32,
    n = 1000, d = 32, is the per-interaction count the numeric check measures.  (12Bn + 1
    before issue 22: the loss's forward now reads the batch once more, a min/max whose
    spread tells whether a row's θ − max θ overflows, plus four scalar operations.)"""
    spec = CD.SPECS["softmax"]
    poly = CD.interpolate(spec.variables, spec.grid, CD.traced("softmax")["grid"])
    assert poly == {(1, 1, 1): 6, (1, 0, 1): 1, (1, 1, 0): 13, (1, 0, 0): 10, (0, 0, 0): 5}
    measured = X.measure_point("softmax", 1000, 32, 32, repeats=1)["flops"]
    assert CD.evaluate(poly, spec.variables, {"B": 32, "n": 1000, "d": 32}) / 32 == Fraction(measured)


def _extra_step(monkeypatch, method, work):
    """The method's counted step doing extra work (work(self, *step args)): how a planted
    defect enters (reports/cpx/planted.py), here as a test's patch."""
    from numerics.recsys import methods as M
    from reports.cpx.planted import _class, doing_extra

    cls_name, attr = _class(method)
    cls = getattr(M, cls_name)
    monkeypatch.setattr(cls, attr, doing_extra(getattr(cls, attr), method, work))


def _reduce(like, numel):
    like.new_zeros(()).expand(numel).sum()


_CONSTANTS = {method: constants(method) for method in X.METHODS}  # the rows' (reports/cpx/claims.py)


def _recheck(method, cx, check="counted-flops-exponents", constants=None):
    return recheck_one("CPX-1", method, json.loads(json.dumps(cx)),
                       json.loads(json.dumps(_CONSTANTS[method] if constants is None else constants)), check)


@pytest.mark.parametrize("method,work", [
    ("softmax", lambda self, params, batch, gen: _reduce(params["user"], batch.size * self.n ** 2)),  # the Jacobian
    ("rg2/als", lambda self, params, users, items, U, n: params["item"] @ params["item"].T),      # Gram transposed
    ("rg2/als", lambda self, params, users, items, U, n: _reduce(params["item"], users.numel() * n)),  # N n
])
def test_derived_cost_fails_on_a_planted_step_and_the_counterexample_rechecks(method, work, monkeypatch):
    real = CD.traced(method)
    with monkeypatch.context() as mp:
        _extra_step(mp, method, work)
        D = CD.derive_cost(method)
        assert D.decision == "fails"
        ok, msg = _recheck(method, D.counterexample, "derived-cost")
        assert ok, msg
    assert CD.traced(method) == real  # the patched trace never reaches a real run


def test_derived_cost_any_coefficient_of_a_term_outside_the_claim_is_caught():
    """The comparison is exact: N n/4 per ALS sweep (a counter off by n/4 per interaction) is
    not O(N d² + (U + n) d³), whatever its coefficient; in softmax's O(N n d) it is."""
    als = {(("N", 1), ("d", 2)): Fraction(1), (("N", 1), ("n", 1)): Fraction(1, 4)}
    cert = CD.growth_certificate(als, CD.SPECS["rg2/als"].claimed)
    assert cert and set(cert["variables"]) == {"N", "n"} and cert["degree"] == 2
    assert CD.dominated({"N": 1, "n": 1}, CD.SPECS["softmax"].claimed)


def test_derived_cost_is_undecided_when_the_degree_bound_is_exceeded(monkeypatch):
    _extra_step(monkeypatch, "softmax", lambda self, params, batch, gen: _reduce(params["user"],
                                                                                 batch.size * params["user"].shape[1] ** 3))
    D = CD.derive_cost("softmax")  # degree 3 in d > the bound 2
    assert D.decision == "undecided" and "held-out sizes: False" in D.steps[-1]


def test_derived_cost_recheck_negative(monkeypatch):
    with monkeypatch.context() as mp:
        _extra_step(mp, "softmax", lambda self, params, batch, gen: _reduce(params["user"], batch.size * self.n ** 2))
        cx = json.loads(json.dumps(CD.derive_cost("softmax").counterexample))
    assert _recheck("softmax", cx, "derived-cost")[0]  # the real-shaped one re-checks
    real = CD.traced("softmax")
    honest = cx | {"counts": [str(c) for c in real["grid"]], "heldout_counts": [str(c) for c in real["heldout"]]}
    ok, msg = _recheck("softmax", honest, "derived-cost")  # the real counts grow like the claim
    assert not ok and "no faster growth" in msg
    tampered = cx | {"heldout_counts": [str(Fraction(c) + 1) for c in cx["heldout_counts"]]}
    assert not _recheck("softmax", tampered, "derived-cost")[0]  # not the polynomial the grid gives
    counts = list(cx["counts"])
    counts[-1] = str(Fraction(counts[-1]) + 1)  # a tampered count: another polynomial, off the held-out counts
    assert not _recheck("softmax", cx | {"counts": counts}, "derived-cost")[0]
    for key, value in (("leading", "7"), ("degree", 3), ("claimed_degree", 0)):  # a tampered printed figure
        ok, msg = _recheck("softmax", cx | {"certificate": cx["certificate"] | {key: value}}, "derived-cost")
        assert not ok and "stored" in msg
    assert not _recheck("rg2/als", cx, "derived-cost")[0]  # about softmax, stored under another row
    assert not _recheck("softmax", cx, "counted-flops-exponents")[0]  # another check's re-check
    assert not _recheck("softmax", cx, "derived-cost", _CONSTANTS["softmax"] | {"per_epoch": "count"})[0]
    # made under a typo'd claim in the suite (n missing from softmax's claimed monomials): the
    # real counts then "outgrow" it along n, but not the claim the row states
    monkeypatch.setitem(CD.SPECS, "softmax", replace(CD.SPECS["softmax"], claimed=({"N": 1, "d": 1},)))
    typo = CD.derive_cost("softmax")
    assert typo.decision == "fails"
    ok, msg = _recheck("softmax", typo.counterexample, "derived-cost")
    assert not ok and "no faster growth" in msg


def test_counted_exponent_recheck_negative(monkeypatch):
    counts = [3.0 * x * x for x in GRID]
    out, _, cx = X.decide_variable("softmax", "n", GRID, counts, {"N": 1, "d": 32})
    assert out == "fails" and _recheck("softmax", cx)[0]  # the real-shaped one re-checks
    tampered = cx | {"flops_per_interaction": [c * (1.05 if i == 1 else 1) for i, c in enumerate(counts)]}
    ok, msg = _recheck("softmax", tampered)  # a tampered stored count: the stored exponent no longer follows
    assert not ok and "counted exponent" in msg
    for key, value in (("fitted", 2.5), ("claimed_band", [1.0, 1.5]), ("claimed", 1.2), ("tol", 0.2)):
        ok, msg = _recheck("softmax", cx | {key: value})  # a tampered printed figure
        assert not ok and "stored" in msg, key
    # a count within the sort-based band of a sparse map is not a counterexample
    sparse = X.decide_variable("sparsemax", "n", GRID, [x * (32 + math.log2(x)) for x in GRID], {"N": 1, "d": 32})
    assert sparse[0] == "holds"
    ok, msg = _recheck("sparsemax", cx | {"method": "sparsemax", "flops_per_interaction": [x * (32 + math.log2(x))
                                                                                          for x in GRID]})
    assert not ok
    assert not _recheck("softmax", cx | {"pair": [1_000, 10_000]})[0]  # not consecutive
    assert not _recheck("softmax", cx, "derived-cost", _CONSTANTS["hsm"])[0]  # the row names no such re-check


def test_counted_exponent_recheck_rejects_a_typod_tolerance(monkeypatch):
    """Made under TOL typo'd to 0.01: an exponent of 1.05 for softmax 'fails'; under the row's
    0.1 it does not, and the stored tolerance is not the row's."""
    monkeypatch.setattr(X, "TOL", 0.01)
    out, _, cx = X.decide_variable("softmax", "n", GRID, [x ** 1.05 for x in GRID], {"N": 1, "d": 32})
    assert out == "fails"
    assert not _recheck("softmax", cx)[0]
    assert not _recheck("softmax", cx | {"tol": 0.1})[0]  # even with the row's tolerance written in


def test_counted_exponent_recheck_rejects_a_typod_claimed_exponent(monkeypatch):
    """Made under the claimed table typo'd (HSM's log n dropped: N d): HSM's real counts grow
    in n faster than 0 + 0.1; under the row's N d log n they do not."""
    _with_entries(monkeypatch, {"hsm": N * d})
    ev = X.cpx1("hsm", RunContext())
    assert ev.outcome == "fails" and ev.counterexample["claimed_band"] == [0.0, 0.0]
    cx = ev.counterexample
    ok, msg = _recheck("hsm", cx)
    assert not ok and "stored" in msg
    monkeypatch.undo()  # the figures the row's claim gives, written in: the exponent is within its band
    x0, x1 = cx["pair"]
    band = list(P.exponent_band("hsm", "n", x0, x1, cx["fixed"]))
    unit = P.local_exponent("hsm", "n", x0, x1, cx["fixed"])
    ok, msg = _recheck("hsm", cx | {"claimed_band": band, "claimed": unit, "tol": 0.1})
    assert not ok and "within the claim" in msg


def test_row_constants_agree_with_the_suites_transcriptions():
    """The registry's constants (typed from the statement) and the suite's table, tolerance and
    per-epoch forms are independent transcriptions of the claim: they agree."""
    sym = {k: sp.Symbol(k, positive=True) for k in "NUndm"}
    for method, c in _CONSTANTS.items():
        expr = sum(sp.Mul(*(sym[v] ** e for v, e in t["powers"].items())) * (sp.log(sym[t["log"]]) if t["log"] else 1)
                   for t in c["claimed_terms"])
        assert sp.expand(expr - P.cost(method).subs({P.SYMBOLS[k]: sym[k] for k in sym})) == 0, method
        assert c["tol"] == X.TOL
        if method in CD.SPECS:
            assert c["per_epoch"] == CD.SPECS[method].per_epoch
            assert [t["powers"] for t in c["claimed_terms"]] == [dict(m) for m in CD.SPECS[method].claimed]


def test_measurement_cache_is_keyed_by_the_implementation():
    """A patched step is counted afresh (never served the real count), and the real count is
    served again once the patch is gone (the cache is kept across planted runs)."""
    from reports.cpx.claims import claims

    ctx = RunContext()
    check = next(k for c in claims() if c.reading == "nce" for k in c.checks if k.name == "counted-flops-exponents")
    real = X.method_measurements("nce", ctx.profile, ctx.seed, ctx.device)
    with check.planted[0].patch():
        planted = X.method_measurements("nce", ctx.profile, ctx.seed, ctx.device)
    again = X.method_measurements("nce", ctx.profile, ctx.seed, ctx.device)
    flops = [[p["flops"] for p in m["n"]["points"]] for m in (real, planted, again)]
    assert flops[0] == flops[2] and again is real
    assert [b - a for a, b in zip(flops[0], flops[1])] == pytest.approx([x / 4 for x in real["n"]["x"]])


def _per_interaction_extra(method, size):
    """The extra operations per interaction of a defect ``size`` times the declared resolution."""
    from reports.cpx.planted import _EXACT_C

    if method in _EXACT_C:
        return lambda n: size * n * n / _EXACT_C[method]
    if method in X.SAMPLED:
        return lambda n: size * n / 4
    if method == "hsm":
        return lambda n: size * n / 8
    return lambda n: size * 2 * n * n / X.ALS_INTERACTIONS


@pytest.mark.parametrize("method", X.METHODS)
def test_resolution_is_a_near_miss(method):
    """The declared resolution turns the counted check; half of it passes, on the quick grid
    (the full grid, reaching n = 10^5, sees smaller ones): the real counts plus the defect's
    extra operations, decided as measured ones."""
    real = X.method_measurements(method, "quick", 0, "cpu")["n"]
    for size, want in ((1, "fails"), (0.5, "holds")):
        f = _per_interaction_extra(method, size)
        counts = [p["flops"] + f(x) for x, p in zip(real["x"], real["points"])]
        assert X.decide_variable(method, "n", real["x"], counts, X.fixed_values(method, "n"))[0] == want, size


# ------------------------------------------------------------------ planted defects of the CPX-1 rows
def test_every_cpx1_planted_defect_turns_its_check():
    """tests/test_planted.py runs them all; here the outcome each must give: fails for the
    derived and counted routes (with a counterexample that re-checks under the row's
    constants), a suite defect for the claimed formulas (a wrong table contradicts our own
    stated relations); a claimed-formula check covers no counterexample of its row."""
    from audit import SuiteDefect
    from reports.cpx.claims import claims

    ctx = RunContext()
    for claim in claims():
        for check in claim.checks:
            for p in check.planted:
                if check.name in ("derived-cost", "counted-flops-exponents"):
                    ev = check.run_planted(p, ctx)
                    assert ev.outcome == "fails" and ev.counterexample, (claim.key, check.name)
                    assert _recheck(claim.reading, ev.counterexample, check.name)[0]
                    formulas = [k for k in claim.checks if k.name not in ("derived-cost", "counted-flops-exponents")]
                    assert not any(k.scope_covers(check.name, ev.counterexample) for k in formulas)
                else:
                    with pytest.raises(SuiteDefect):
                        check.run_planted(p, ctx)
