"""DYN-2 in exact arithmetic (proofs/gd_exact.py) and its standalone re-checker (reports/recheck.py)."""
import json
import random
import time
from fractions import Fraction as Fr

import pytest
import sympy as sp
import torch

from losses import get
from proofs import gd_exact as gde
from audit import RunContext
from audit.evidence import _clean
from recheck_script import RECHECK



def _stored(d):
    """The counterexample as results.json stores it."""
    return json.loads(json.dumps(_clean(d.counterexample)))


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


@pytest.mark.parametrize("ratio", [(1 - gde.LR) ** 2, 1 - gde.LR / 2, 1 - 2 * gde.LR, sp.Integer(1)])
def test_a_wrong_recurrence_is_rejected(ratio):
    d = gde.sparse_finite_steps("sparsemax", sp.Rational(1, 2), 1, 2, ratio)
    assert d.decision == "undecided" and d.counterexample is None
    assert gde.sparse_finite_steps("rankmax", sp.Rational(1, 2), 2, 3, ratio).decision == "undecided"


@pytest.mark.parametrize("lr, theta0", [(1, (0, 0)), (sp.Rational(1, 2), (-3, 0)), (sp.Rational(1, 2), (3, 0)),
                                        (4, (0, 0))])
def test_entmax_argument_is_not_applied_outside_its_condition(lr, theta0):
    # s0 = 2 (= 2/lr at lr 1: not strict), s0 = 5 (> 4: class 2 alone in the support), s0 = -1 (at the margin)
    d = gde.entmax15_never_zero(lr, theta0)
    assert d.decision == "undecided" and d.counterexample is None


def test_unit_step_numeric_check_holds_and_can_fail():
    ctx = RunContext()
    ev = gde.unit_step_exact("rankmax", ctx)
    assert ev.outcome == "holds" and ev.figures["failures"] == 0
    bad = gde.unit_step_exact("sparsemax", ctx, lr=Fr(1, 2))  # below 1/L the same criteria must fail
    assert bad.outcome == "fails" and bad.counterexample["runs"]
    ok, msg = RECHECK.dyn.recheck_dyn2(json.loads(json.dumps(_clean(bad.counterexample))))
    assert ok, msg


def test_derivations_are_fast():
    for f, args in [(gde.sparse_finite_steps, ("sparsemax", sp.Rational(1, 3), 1, 2)),
                    (gde.sparse_finite_steps, ("rankmax", sp.Rational(1, 3), 2, 3)),
                    (gde.unit_step_finite, ("rankmax",)), (gde.entmax15_never_zero, (sp.Rational(1, 3), (0, 0)))]:
        t0 = time.perf_counter()
        f.__wrapped__(*args)
        assert time.perf_counter() - t0 < 3.0, f.__name__


# -------------------------------------------------------------------- the standalone re-checker
@pytest.mark.parametrize("make", [lambda: gde.finite_steps_row("sparsemax"), lambda: gde.finite_steps_row("rankmax"),
                                  lambda: gde.finite_steps_row("entmax"), gde.entmax_unit_step],
                         ids=["sparsemax", "rankmax", "entmax", "entmax-1/L"])
def test_recheck_reproduces_the_counterexample(make):
    ok, msg = RECHECK.dyn.recheck_dyn2(_stored(make()))
    assert ok, msg


def test_recheck_rejects_tampered_counterexamples():
    cx = _stored(gde.finite_steps_row("sparsemax"))
    assert not RECHECK.dyn.recheck_dyn2({**cx, "lr": "1"})[0]  # lr = 1 reaches zero after one step
    assert not RECHECK.dyn.recheck_dyn2({**cx, "losses": ["1/4", "1/8"]})[0]
    assert not RECHECK.dyn.recheck_dyn2({**cx, "theta0": ["0", "5"]})[0]  # not in the all-free region
    ce = _stored(gde.finite_steps_row("entmax"))
    assert not RECHECK.dyn.recheck_dyn2({**ce, "lr": "1"})[0]  # s0 = 2/lr: the sufficient condition fails
    assert not RECHECK.dyn.recheck_dyn2({**ce, "theta0": ["-3", "0"]})[0]
    assert not RECHECK.dyn.recheck_dyn2({**ce, "shortfall_first_steps": ["2.0", "1.4"]})[0]
    assert not RECHECK.dyn.recheck_dyn2({"loss": "softmax"})[0]


def test_recheck_script_main_on_a_results_file(tmp_path, capsys):
    rows = []
    for reading, d in (("sparsemax", gde.finite_steps_row("sparsemax")), ("entmax", gde.finite_steps_row("entmax")),
                       ("rankmax", gde.finite_steps_row("rankmax")), ("entmax/lr=1/L", gde.entmax_unit_step())):
        rows.append({"id": "DYN-2", "reading": reading, "evidence": [d.evidence("gd-exact").to_json()]})
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
        ok, msg = RECHECK.dyn.recheck_dyn2({"runs": [r]})
        assert not ok, msg
    ok, _ = RECHECK.dyn.recheck_dyn2({"runs": [{**runs[0], "losses": ["1/4", "1/8"]}]})  # losses not reproduced
    assert not ok
