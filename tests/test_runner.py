"""The runner's rules: a defect of the suite is a crash, never a verdict; planted defects
are run and counted; a statistical check gets its share of the false-alarm budget."""
import contextlib
from dataclasses import replace

import pytest

from functools import partial

from audit import Evidence as _Evidence
from audit import RunContext, SuiteDefect
from reports.claim import Check, Claim, Planted, numeric, patched
from reports.runner import CheckCrashed, clear_caches, run_claim, run_planted, shown

# every evidence carries its one-line summary (the runner refuses one without)
Evidence = partial(_Evidence, summary="a test check")
CTX = RunContext()
FY4_CX = {"alpha": 3.0, "theta": [0.0, 0.0, 0.0], "lambda_max": 3.0}  # a real FY-4 [alpha>2] counterexample
FY4_GT2 = {"lipschitz_upper": 1}  # the constant that row states (reports/fy/claims.py)


def _claim(*evidence_fns, cid="FY-4", reading="entmax[alpha>2]"):
    return Claim(cid, reading, "test row", tuple(Check(f"c{i}", "numeric", fn) for i, fn in enumerate(evidence_fns)),
                 expected="refuted", note="test", constants=FY4_GT2)


def test_a_fails_with_a_rechecked_counterexample_refutes():
    row, crashed = run_claim(_claim(lambda ctx: Evidence("numeric", "x", "fails", counterexample=FY4_CX)), CTX)
    assert row["verdict"] == "refuted" and not crashed


@pytest.mark.parametrize("cx", [None, {"alpha": 3.0, "theta": [0.0, 1.0, 5.0]}, {"beta": 1}],
                         ids=["no-counterexample", "not-a-counterexample", "malformed"])
def test_a_fails_that_does_not_recheck_is_a_crash_not_a_refutation(cx):
    claim = _claim(lambda ctx: Evidence("numeric", "x", "fails", counterexample=cx))
    with pytest.raises(CheckCrashed, match="counterexample"):
        run_claim(claim, CTX)
    row, crashed = run_claim(claim, CTX, raise_errors=False)
    assert crashed and row["verdict"] == "crashed"


def test_a_row_without_a_rechecker_cannot_be_refuted():
    claim = _claim(lambda ctx: Evidence("numeric", "x", "fails", counterexample=FY4_CX), cid="XX-1", reading="none")
    with pytest.raises(CheckCrashed, match="no re-checker"):
        run_claim(claim, CTX)


def test_a_disagreement_of_our_own_routes_is_a_crash():
    def defect(ctx):
        raise SuiteDefect("closed-form Jacobian and finite differences disagree")

    row, crashed = run_claim(_claim(defect), CTX, raise_errors=False)
    assert crashed and row["verdict"] == "crashed" and "SuiteDefect" in row["evidence"][0]["detail"]


def test_a_stored_witness_must_recheck():
    bad = {"theta": [1.0, 0.0], "i": 0, "j": 1}  # sparsemax(1, 0) = (1, 0): not tied, not a witness
    claim = Claim("CON-3", "sparsemax/O1", "t", (Check("w", "numeric", lambda ctx: Evidence(
        "numeric", "w", "holds", figures={"sop_witness": bad})),))
    with pytest.raises(CheckCrashed, match="witness"):
        run_claim(claim, CTX)


def test_planted_defects_are_run_and_counted():
    holds = lambda ctx: Evidence("numeric", "x", "holds")  # noqa: E731
    fails = lambda ctx: Evidence("numeric", "x", "fails", counterexample=FY4_CX)  # noqa: E731
    bogus = lambda ctx: Evidence("numeric", "x", "fails", counterexample={"alpha": 3.0, "theta": [0.0, 1.0, 5.0]})  # noqa: E731

    def raises(ctx):
        raise SuiteDefect("routes disagree on the wrong input")

    check = Check("c", "numeric", holds, planted=(Planted("a", run=fails), Planted("b", run=raises),
                                                  Planted("e", run=bogus)))
    blind = Check("d", "numeric", holds, planted=(Planted("c", run=holds),))
    claim = Claim("FY-4", "entmax[alpha>2]", "t", (check, blind), constants=FY4_GT2)
    res = run_planted(claim, check, CTX)
    # a planted fails is re-checked as a real one: one that does not re-check is the crash the real run makes
    assert [r.outcome for r in res] == ["fails", "crash", "crash"] and all(r.turned for r in res)
    row, _ = run_claim(claim, CTX, planted=True)
    assert shown(row) == (2, 1, 0)  # the blind check is not shown able to fail
    assert row["evidence"][1]["planted"] == [{"defect": "c", "outcome": "holds", "role": "defect"}]


def test_a_no_op_planted_defect_or_truth_never_counts():
    """A defect that changes nothing leaves a holding check holding (not turned); on a
    failing or undecided check a defect proves nothing and is not even run, and a no-op
    truth leaves it failing (not held)."""
    holds = lambda ctx: Evidence("numeric", "x", "holds")  # noqa: E731
    fails = lambda ctx: Evidence("numeric", "x", "fails", counterexample=FY4_CX)  # noqa: E731
    undecided = lambda ctx: Evidence("numeric", "x", "undecided")  # noqa: E731
    noop = patched("no-op", lambda: contextlib.nullcontext())
    noop_truth = Planted("no-op truth", patch=lambda: contextlib.nullcontext(), truth=True)
    for real in (holds, fails, undecided):
        check = Check("c", "numeric", real, planted=(noop,), truths=(noop_truth,))
        claim = Claim("FY-4", "entmax[alpha>2]", "t", (check,), expected="refuted", note="t", constants=FY4_GT2)
        row, _ = run_claim(claim, CTX, raise_errors=False, planted=True)
        assert shown(row) == (1, 0, 0), (real, row["evidence"][0]["planted"])
    # and a real truth on a failing check, a real defect on a holding one, do count
    truth = Planted("true here", run=holds, truth=True)
    row, _ = run_claim(Claim("FY-4", "entmax[alpha>2]", "t", (Check("c", "numeric", fails, truths=(truth,)),),
                             expected="refuted", note="t", constants=FY4_GT2), CTX, planted=True)
    assert shown(row) == (1, 0, 1) and row["evidence"][0]["planted"][0]["role"] == "truth"
    row, _ = run_claim(Claim("FY-4", "entmax[alpha>2]", "t", (Check("c", "numeric", holds,
                                                                     planted=(Planted("d", run=undecided),)),),
                             constants=FY4_GT2), CTX, planted=True)
    assert shown(row) == (1, 1, 0)


def test_a_symbolic_check_that_holds_and_covers_a_counterexample_makes_the_row_crash():
    """Two of our own routes disagree: never refuted."""
    sym = Check("s", "symbolic", lambda ctx: Evidence("symbolic", "s", "holds"))
    num = Check("n", "numeric", lambda ctx: Evidence("numeric", "n", "fails", counterexample=FY4_CX))
    claim = Claim("FY-4", "entmax[alpha>2]", "t", (sym, num), expected="refuted", note="t", constants=FY4_GT2)
    with pytest.raises(CheckCrashed, match="two of our routes disagree"):
        run_claim(claim, CTX)
    row, crashed = run_claim(claim, CTX, raise_errors=False)
    assert crashed and row["verdict"] == "crashed" and "covers" in row["crash"][0]
    # a scope gap (or a predicate that excludes it) leaves the counterexample to the row
    for narrow in (replace(sym, scope_gap="two-point supports only"), replace(sym, covers=lambda c, cx: c != "n")):
        row, crashed = run_claim(replace(claim, checks=(narrow, num)), CTX, raise_errors=False)
        assert not crashed and row["verdict"] == "refuted"


def test_a_crashed_row_reads_crashed_whatever_its_other_evidence():
    def boom(ctx):
        raise RuntimeError("bug")

    for other in ("holds", "fails"):
        claim = Claim("FY-4", "entmax[alpha>2]", "t", (
            Check("a", "numeric", lambda ctx, o=other: Evidence("numeric", "a", o, counterexample=FY4_CX)),
            Check("b", "numeric", boom)), expected="refuted", note="t", constants=FY4_GT2)
        row, crashed = run_claim(claim, CTX, raise_errors=False)
        assert crashed and row["verdict"] == "crashed" and row["crash"] and "bug" in row["crash"][0]


def test_a_patched_defect_wraps_the_checks_own_run_and_its_results_do_not_survive():
    import functools

    import numerics

    state = {"wrong": False}

    @functools.lru_cache(maxsize=None)
    def cached_value():
        return -1.0 if state["wrong"] else 1.0

    cached_value.__module__ = "numerics"
    numerics._test_cached_value = cached_value
    try:
        def run(ctx):
            return Evidence("numeric", "c", "holds" if cached_value() > 0 else "undecided")

        class Wrong:
            def __enter__(self):
                state["wrong"] = True

            def __exit__(self, *a):
                state["wrong"] = False

        check = Check("c", "numeric", run, planted=(patched("negative value", Wrong),))
        claim = Claim("FY-1", "softmax", "t", (check,))
        clear_caches()
        assert [r.outcome for r in run_planted(claim, check, CTX)] == ["undecided"]
        assert run(CTX).outcome == "holds"  # the cache filled under the defect was cleared
    finally:
        del numerics._test_cached_value


def test_a_statistical_check_gets_its_share_of_the_budget():
    from audit.falsealarm import SHARES

    seen = {}
    check = numeric("mc-vs-exact", lambda ctx: seen.setdefault("alpha", ctx.alpha) and Evidence("numeric", "x", "holds"),
                    statistical=True, planted=[Planted("none", run=lambda ctx: Evidence("numeric", "x", "fails"))])
    run_claim(Claim("APX-2", "ssm/uniform", "t", (check,)), CTX)
    assert seen["alpha"] == SHARES[("APX-2", "ssm/uniform", "mc-vs-exact")] < CTX.alpha


# ------------------------------------------------------------------ prepared work (Claim.prepare / prime)
_SEEN: dict = {}


def _square(x):
    return x * x


def _prepare(ctx):
    return [(f"sq{i}", _square, (i,)) for i in range(4)]


def _prime(ctx, outputs):
    _SEEN.clear()
    _SEEN.update(outputs)


def _reads_prepared(ctx):
    total = sum(_SEEN.values())
    return Evidence("numeric", "c0", "holds" if total == 0 + 1 + 4 + 9 else "fails",
                    counterexample=None if total == 14 else {"total": total}, figures={"total": total},
                    labels={"total": "sum of the prepared squares"})


def _group():
    return [Claim("XX-1", r, "test row", (Check("c0", "numeric", _reads_prepared),), expected="supported",
                  shares="g", prepare=_prepare, prime=_prime) for r in ("a", "b")]


def test_a_groups_prepared_work_runs_first_and_reaches_its_rows():
    from reports.runner import run_all

    _SEEN.clear()
    rows, crashed = run_all(_group(), CTX, progress=None, planted=False)
    assert not crashed and [r["evidence"][0]["figures"]["total"] for r in rows] == [14, 14]


def test_a_lost_unit_of_prepared_work_is_a_crash_of_the_group(monkeypatch):
    from reports import runner
    from reports.execution import Engine

    def run(self, tasks, on_done, on_lost):
        for t in tasks:
            if t.key.endswith("|sq2"):
                on_lost(t, RuntimeError("worker died"))
            else:
                on_done(t, t.fn(*t.args), 0.0)

    monkeypatch.setattr(Engine, "run", run)
    rows, crashed = runner.run_all(_group(), CTX, progress=None, planted=False)
    assert crashed and all("task lost" in r["evidence"][0]["detail"] for r in rows)


def test_evidence_whose_text_breaks_the_marked_text_rule_is_a_crash():
    """audit/markup.py: pseudo-math in prose, an unlabelled figure or a missing summary is a
    defect of the suite, never printed."""
    for bad in (dict(detail="p^alpha in prose"), dict(figures={"max_err": 1e-9}), dict(summary="")):
        claim = Claim("FY-1", "softmax", "t", (Check("c", "numeric", lambda ctx, bad=bad: Evidence(
            "numeric", "c", "holds", **bad)),), expected="verified")
        with pytest.raises(CheckCrashed, match="marked-text rule"):
            run_claim(claim, CTX)
        row, crashed = run_claim(claim, CTX, raise_errors=False)
        assert crashed and row["verdict"] == "crashed"
    ok = Evidence("numeric", "c", "holds", detail=r"$p^\alpha$ in math", figures={"max_err": 1e-9},
                  labels={"max_err": r"max $|\hat y - y|$"})
    row, crashed = run_claim(Claim("FY-1", "softmax", "t", (Check("c", "numeric", lambda ctx: ok),),
                                   expected="verified"), CTX)
    assert not crashed and row["evidence"][0]["outcome"] == "holds"
