"""DYN-2 in exact arithmetic (proofs/dyn/gd_exact.py) and its standalone re-checker (reports/recheck.py)."""
import json
import random
import time
from fractions import Fraction as Fr

import pytest
import sympy as sp
import torch

from losses import get
from proofs.dyn import gd_exact as gde
from audit import RunContext
from audit.evidence import as_stored
from recheck_script import RECHECK
from reports.registry import by_key
from reports.runner import run_claim


def _constants(key):
    """A row's constants as results.json stores them."""
    return json.loads(json.dumps(dict(by_key(key).constants)))


def _recheck(key, cx, check="gd-exact", constants=None):
    claim = by_key(key)
    return RECHECK.recheck_one("DYN-2", claim.reading, json.loads(json.dumps(as_stored(cx))),
                               _constants(key) if constants is None else constants, check)



def _stored(d):
    """The counterexample as results.json stores it."""
    return json.loads(json.dumps(as_stored(d.counterexample)))


# -------------------------------------------------------------------- exact primitives
def test_exact_projection_and_loss_match_the_library():
    rng = random.Random(3)
    for _ in range(60):
        n = rng.randint(2, 5)
        k = rng.randint(1, n - 1)
        th = [Fr(rng.randint(-30, 30), rng.randint(1, 6)) for _ in range(n)]
        y = [1] * k + [0] * (n - k)
        rng.shuffle(y)
        loss = get("rankmax", k=k) if k > 1 else get("sparsemax")
        t = torch.tensor([[float(x) for x in th]], dtype=torch.float64)
        yy = torch.tensor([y], dtype=torch.float64)
        p = gde.project_capped(th, k)
        assert sum(p) == k and all(0 <= q <= 1 for q in p)
        assert max(abs(float(a) - b) for a, b in zip(p, loss.predict(t)[0].tolist())) < 1e-12
        assert abs(float(gde.loss_capped(th, y, k)) - float(loss(t, yy)[0])) < 1e-9
        # the standalone re-checker's projection (different algorithm) agrees exactly
        assert RECHECK.maps.capped_projection_exact(th, k) == p


def test_entmax15_closed_form_matches_the_library():
    us, vs, h, L, _ = gde._entmax15_closed_form()
    loss = get("entmax", alpha=1.5)
    for s in (sp.Rational(1, 10), sp.Rational(1, 2), 1, sp.Rational(3, 2), 2, 3):
        t = torch.tensor([[float(2 - s), 0.0]], dtype=torch.float64)
        p1 = float(loss.predict(t)[0, 1])
        assert abs(float(vs.subs(gde.S, s)) ** 2 - p1) < 1e-10
        assert abs(float(L.subs(gde.S, s)) - float(loss(t, torch.tensor([[1.0, 0.0]], dtype=torch.float64))[0])) < 1e-9


# -------------------------------------------------------------------- derivations decide
@pytest.mark.parametrize("loss", ["sparsemax", "rankmax", "entmax"])
def test_constant_step_readings_fail_with_a_counterexample(loss):
    d = gde.finite_steps_row(loss)
    assert d.decision == "fails" and d.counterexample is not None
    ev = d.evidence("gd-exact")
    assert ev.kind == "symbolic" and ev.outcome == "fails"


def test_sparsemax_counterexample_losses_are_the_exact_gd_losses():
    cx = gde.finite_steps_row("sparsemax").counterexample
    assert cx["losses"] == ["1/4", "1/16", "1/64", "1/256", "1/1024", "1/4096"]
    assert cx["theta0"] == ["0", "0"] and cx["y"] == [1, 0] and cx["lr"] == "1/2"
    cx = gde.finite_steps_row("rankmax").counterexample
    assert cx["k"] == 2 and cx["losses"][:3] == ["1/3", "1/12", "1/48"]


def test_unit_step_holds_and_reaches_zero_after_one_step():
    d = gde.sparse_finite_steps("sparsemax", 1, 1, 2)
    assert d.decision == "holds" and d.counterexample is None
    _, Ls = gde.gd_exact([0, 0], [1, 0], 1, 1, 3)
    assert Ls[0] == Fr(1, 4) and Ls[1:] == [0, 0, 0]
    assert gde.sparse_finite_steps("rankmax", 1, 2, 3).decision == "holds"
    for loss in ("sparsemax", "rankmax"):
        assert gde.unit_step_finite(loss).decision == "holds"


def test_entmax_fails_at_lr_one_over_L():
    d = gde.entmax_unit_step()
    assert d.decision == "fails" and d.counterexample["lr"] == "sqrt(2)"


@pytest.fixture
def fresh_derivations():
    """Derivations cached under a patched constant must not outlive the patch."""
    for f in (gde.sparse_finite_steps, gde.unit_step_finite, gde.entmax15_never_zero):
        f.cache_clear()
    yield
    for f in (gde.sparse_finite_steps, gde.unit_step_finite, gde.entmax15_never_zero):
        f.cache_clear()


@pytest.mark.parametrize("ratio", [(1 - gde.LR) ** 2, 1 - gde.LR / 2, 1 - 2 * gde.LR, sp.Integer(1)])
def test_a_wrong_recurrence_is_rejected(ratio, monkeypatch, fresh_derivations):
    monkeypatch.setattr(gde, "free_region_factor", lambda eta: ratio)  # the argument states a wrong factor
    d = gde.sparse_finite_steps("sparsemax", sp.Rational(1, 2), 1, 2)
    assert d.decision == "undecided" and d.counterexample is None
    assert gde.sparse_finite_steps("rankmax", sp.Rational(1, 2), 2, 3).decision == "undecided"


@pytest.mark.parametrize("lr, theta0", [(1, (0, 0)), (sp.Rational(1, 2), (-3, 0)), (sp.Rational(1, 2), (3, 0))])
def test_entmax_argument_is_not_applied_outside_its_condition(lr, theta0):
    # s0 = 2 (= 2/lr at lr 1: not strict, and s1 = 1 > 0), s0 = 5 (> 4: class 2 alone in the support),
    # s0 = -1 (at the margin)
    d = gde.entmax15_never_zero(lr, theta0)
    assert d.decision == "undecided" and d.counterexample is None


@pytest.mark.parametrize("lr, theta0, s1", [(4, (0, 0), -2), (4, (1, 0), sp.sqrt(7) - 3)])
def test_entmax_first_step_past_the_margin_holds(lr, theta0, s1):
    # a step large enough that s1 = s0 - lr h(s0) <= 0: theta_1 reaches the margin 2, so yhat = e_1 and L = 0
    d = gde.entmax15_never_zero(lr, theta0)
    assert d.decision == "holds" and d.counterexample is None
    assert sp.latex(s1) in d.summary
    loss = get("entmax", alpha=1.5)
    t = torch.tensor([[float(x) for x in theta0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    t1 = t - lr * (loss.predict(t) - y)  # one float GD step lands past the margin as well
    assert float(loss(t1, y)[0]) == 0.0


def test_unit_step_numeric_check_holds_and_can_fail(monkeypatch):
    ctx = RunContext()
    ev = gde.unit_step_exact("rankmax", ctx)
    assert ev.outcome == "holds" and ev.figures["failures"] == 0
    monkeypatch.setattr(gde, "UNIT_STEP_RUNS", Fr(1, 2))  # below 1/L the same criteria must fail
    bad = gde.unit_step_exact("sparsemax", ctx)
    assert bad.outcome == "fails" and bad.counterexample["runs"]
    # made at lr = 1/2, stored under the row lr = 1/L = 1: the re-check runs at the row's lr and does not reproduce it
    ok, msg = _recheck("DYN-2[sparsemax/lr=1/L]", bad.counterexample, "unit-step-exact")
    assert not ok, msg
    # under a row whose constant is lr = 1/2 the same runs re-check: the acceptance path is live
    ok, msg = _recheck("DYN-2[sparsemax/lr=1/L]", bad.counterexample, "unit-step-exact",
                       {**_constants("DYN-2[sparsemax/lr=1/L]"), "lr": "1/2"})
    assert ok, msg
    tampered = {"runs": [{**bad.counterexample["runs"][0], "bound": bad.counterexample["runs"][0]["bound"] + 1}]}
    assert not _recheck("DYN-2[sparsemax/lr=1/L]", tampered, "unit-step-exact",
                        {**_constants("DYN-2[sparsemax/lr=1/L]"), "lr": "1/2"})[0]


@pytest.mark.parametrize("key", ["DYN-2[sparsemax/lr=1/L]", "DYN-2[rankmax/lr=1/L]"])
def test_a_typod_unit_step_crashes_the_row(key, monkeypatch):
    """Typo 2 of issue 20: the exact runs at lr = 1/2 under the row lr = 1/L.  Their counterexample does not
    re-check at the row's lr = 1, and the symbolic unit-step-gap check holds and covers it: a crash, never
    `refuted`."""
    ctx = RunContext()
    row, crashed = run_claim(by_key(key), ctx, raise_errors=False)
    assert not crashed and row["verdict"] == "verified"
    monkeypatch.setattr(gde, "UNIT_STEP_RUNS", Fr(1, 2))
    row, crashed = run_claim(by_key(key), ctx, raise_errors=False)
    assert crashed and row["verdict"] == "crashed", row["verdict"]
    assert any("does not re-check" in r for r in row["crash"]), row["crash"]
    outcomes = {e["check"]: e["outcome"] for e in row["evidence"]}
    assert outcomes["unit-step-gap"] == "holds"


def test_derivations_are_fast():
    for f, args in [(gde.sparse_finite_steps, ("sparsemax", sp.Rational(1, 3), 1, 2)),
                    (gde.sparse_finite_steps, ("rankmax", sp.Rational(1, 3), 2, 3)),
                    (gde.unit_step_finite, ("rankmax",)), (gde.entmax15_never_zero, (sp.Rational(1, 3), (0, 0)))]:
        t0 = time.perf_counter()
        f.__wrapped__(*args)
        assert time.perf_counter() - t0 < 3.0, f.__name__


# -------------------------------------------------------------------- the standalone re-checker
ROWS = {"DYN-2[sparsemax]": lambda: gde.finite_steps_row("sparsemax"),
        "DYN-2[rankmax]": lambda: gde.finite_steps_row("rankmax"),
        "DYN-2[entmax]": lambda: gde.finite_steps_row("entmax"), "DYN-2[entmax/lr=1/L]": gde.entmax_unit_step}


@pytest.mark.parametrize("key", list(ROWS))
def test_recheck_reproduces_the_counterexample(key):
    ok, msg = _recheck(key, ROWS[key]().counterexample)
    assert ok, msg
    assert not _recheck(key, ROWS[key]().counterexample, constants={})[0]  # a row without its constants
    assert not _recheck(key, ROWS[key]().counterexample, check="separable-gd")[0]  # not the check's re-check


def test_recheck_rejects_counterexamples_made_under_a_typod_constant(fresh_derivations):
    # any constant step in (0, 1/L]: a counterexample at a step beyond the row's 1/L does not belong to the row
    d = gde.entmax15_never_zero(2, (sp.Rational(3, 2), 0))  # lr = 2 > sqrt(2) = 1/L, s0 = 1/2 < 2/lr
    assert d.decision == "fails"
    assert not _recheck("DYN-2[entmax]", d.counterexample)[0]
    assert _recheck("DYN-2[entmax]", d.counterexample, constants={**_constants("DYN-2[entmax]"), "lr_max": "2"})[0]
    # the reading lr = 1/L = sqrt(2): a counterexample made at lr = 1 is not the row's
    d = gde.entmax15_never_zero(1, (1, 0))
    assert d.decision == "fails" and not _recheck("DYN-2[entmax/lr=1/L]", d.counterexample)[0]
    # sparsemax with 1/L typo'd to 1/4 (a row constant lr_max = 1/4): the counterexample at lr = 1/2 is outside
    assert not _recheck("DYN-2[sparsemax]", ROWS["DYN-2[sparsemax]"]().counterexample,
                        constants={**_constants("DYN-2[sparsemax]"), "lr_max": "1/4"})[0]
    # a rankmax counterexample stored under the sparsemax row (k = 2 is not sparsemax)
    assert not _recheck("DYN-2[sparsemax]", ROWS["DYN-2[rankmax]"]().counterexample)[0]


def test_recheck_rejects_tampered_counterexamples():
    cx = _stored(gde.finite_steps_row("sparsemax"))
    assert not _recheck("DYN-2[sparsemax]", {**cx, "lr": "1"})[0]  # lr = 1 reaches zero after one step
    assert not _recheck("DYN-2[sparsemax]", {**cx, "losses": ["1/4", "1/8"]})[0]
    assert not _recheck("DYN-2[sparsemax]", {**cx, "losses": ["1/4", "1/16", "1/64", "1/256", "1/1024", "1/4097"]})[0]
    assert not _recheck("DYN-2[sparsemax]", {**cx, "loss_ratio": "1/2"})[0]
    assert not _recheck("DYN-2[sparsemax]", {**cx, "theta0": ["0", "5"]})[0]  # not in the all-free region
    ce = _stored(gde.finite_steps_row("entmax"))
    assert not _recheck("DYN-2[entmax]", {**ce, "lr": "1"})[0]  # s0 = 2/lr: the sufficient condition fails
    assert not _recheck("DYN-2[entmax]", {**ce, "theta0": ["-3", "0"]})[0]
    assert not _recheck("DYN-2[entmax]", {**ce, "shortfall_first_steps": ["2.0", "1.4"]})[0]
    assert not _recheck("DYN-2[entmax]", {**ce, "s0": "3/2"})[0]
    losses = list(ce["losses_first_steps"])
    losses[2] = str(float(losses[2]) * 1.001)
    assert not _recheck("DYN-2[entmax]", {**ce, "losses_first_steps": losses})[0]
    assert not _recheck("DYN-2[entmax]", {**ce, "alpha": 2.5})[0]
    assert not RECHECK.dyn.recheck_dyn2({"loss": "softmax"})[0]


def test_recheck_script_main_on_a_results_file(tmp_path, capsys):
    rows = []
    for reading, d in (("sparsemax", gde.finite_steps_row("sparsemax")), ("entmax", gde.finite_steps_row("entmax")),
                       ("rankmax", gde.finite_steps_row("rankmax")), ("entmax/lr=1/L", gde.entmax_unit_step())):
        rows.append({"id": "DYN-2", "reading": reading, "evidence": [d.evidence("gd-exact").to_json()],
                     "constants": _constants(f"DYN-2[{reading}]")})
    f = tmp_path / "results.json"
    f.write_text(json.dumps({"claims": rows}), encoding="utf-8")
    assert RECHECK.main(["recheck.py", str(f)]) == 0
    assert "4 counterexample(s), 4 re-checked" in capsys.readouterr().out


def test_recheck_rejects_unit_step_runs_that_do_reach_zero():
    # runs at lr = 1 reach exactly zero within ceil(1 - g_0) and stay there: stored as "failing" they must not re-check
    runs = []
    for th0, y, k in (([0, 0], [1, 0], 1), (["-7/3", "5/2", "1"], [1, 0, 1], 2), (["3", "-1", "1/2", "0"], [0, 1, 0, 0], 1)):
        th = [Fr(x) for x in th0]
        g0 = gde.gap(th, y)
        bound = 0 if g0 >= 1 else -(-(1 - g0) // 1)
        _, Ls = gde.gd_exact(th, y, 1, k, int(bound) + 2)
        runs.append({"theta0": [str(x) for x in th], "y": y, "k": k, "lr": "1", "bound": int(bound),
                     "first_zero": None, "losses": [str(x) for x in Ls]})
    for r in runs:
        ok, msg = _recheck("DYN-2[sparsemax/lr=1/L]", {"runs": [r]}, "unit-step-exact")
        assert not ok, msg
    # losses not reproduced
    ok, _ = _recheck("DYN-2[sparsemax/lr=1/L]", {"runs": [{**runs[0], "losses": ["1/4", "1/8"]}]}, "unit-step-exact")
    assert not ok
