"""Presentation of the two documents (issue 24, item 4): every evidence record printed whole
and never shrunk below 8 pt, the experiment's protocol stated once, "counted operations"
the one printed name of what numerics/cpx/opcount.py counts, and plots that show what their
captions say (no constant plot, error bars over the experiment's splits, axes that hold
every point, reference slopes, a window on series that one axis would squeeze)."""
from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from audit import RunContext
from reports.figtables import LINE_CHARS, split_table, visible_chars
from reports.latex import render_appendix, render_evidence
from reports.plots import figure, is_constant
from reports.registry import all_claims
from reports.texfmt import marked

ROOT = Path(__file__).resolve().parents[1]
SHRINK = re.compile(r"\\resizebox|\\fitwidth\{|\\scriptsize|\\tiny|\\scalebox")


def _body(tex: str) -> str:
    """The document after its preamble (which defines, but does not use, \\fitwidth)."""
    return tex[tex.index(r"\begin{document}"):]


def _results(rows: list[dict]) -> dict:
    return {"schema": 1, "meta": {"profile": "quick", "seed": 0, "device": "cpu"}, "claims": rows}


def _row(cid: str, figures: dict, labels: dict | None = None, statement: str = "a statement") -> dict:
    return {"id": cid, "reading": "r", "statement": statement, "verdict": "verified",
            "evidence": [{"kind": "numeric", "check": "c", "outcome": "holds", "summary": "s",
                          "figures": figures, "labels": labels or {}}]}


# ----------------------------------------------------------------------------- records in full

def _nested_record() -> dict:
    """Values that used to print as "nested: see results.json" or be cut after 10 items or
    16 rows, each number unique so that its presence can be read back."""
    return {
        "runs": {f"run{i}": {"route": {"compared": 7000 + i, "worst": 0.5 + i / 1000}, "ends": [1100 + i, 1200 + i]}
                 for i in range(20)},
        "rows": [{"m": 2000 + i, "mc": {"est": 3000 + i, "lo": 4000 + i}} for i in range(18)],
        "grid": [5000 + i for i in range(33)],
    }


def _printed_numbers(rec) -> set[str]:
    out: set[str] = set()

    def walk(v):
        if isinstance(v, dict):
            for e in v.values():
                walk(e)
        elif isinstance(v, list):
            for e in v:
                walk(e)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.add(f"{v:.6g}")
    walk(rec)
    return out


def test_evidence_prints_every_nested_record_whole_and_unshrunk():
    rec = _nested_record()
    tex = render_evidence(_results([_row("APX-2", rec)]))
    body = _body(tex)
    assert "nested: see results.json" not in body
    assert "all in results.json" not in body and "values)" not in body
    missing = [x for x in sorted(_printed_numbers(rec)) if x not in body]
    assert missing == []
    assert SHRINK.search(body) is None


def test_a_wide_table_is_split_into_groups_that_fit_and_repeat_the_key():
    head = ["key"] + [f"column {j} of a wide table" for j in range(12)]
    body = [[f"row{i}"] + [f"{i}.{j:02d}5" for j in range(12)] for i in range(3)]
    tex = split_table(head, body)
    groups = tex.split(r"\begin{longtable}")[1:]
    assert len(groups) > 1
    for g in groups:
        header = g.split(r"\toprule", 1)[1].split(r"\\", 1)[0]
        cells = [c.strip() for c in header.split("&")]
        assert cells[0] == "key"
        assert sum(visible_chars(c) + 3 for c in cells) <= LINE_CHARS
    for i in range(3):   # every cell once, the key once per group
        assert all(tex.count(f"{i}.{j:02d}5") == 1 for j in range(12))
        assert tex.count(f"row{i}") == len(groups)
    assert SHRINK.search(tex) is None and r"\footnotesize" in tex


def test_a_narrow_table_stays_one_table():
    tex = split_table(["", "value"], [["a", "1"], ["b", "2"]])
    assert tex.count(r"\begin{longtable}") == 1


def test_the_overview_tables_are_not_scaled_down():
    cpx = _row("CPX-1", {"claimed": "N n d", "flops_exponent_n_top": 1.0, "claimed_exponent_n_top": 1.0,
                         "exponent_n": 0.97})
    exp = _row("EXP-1", {"dataset": "ML", "ndcg@10": 0.4, "ndcg@20": 0.41, "ndcg@20_run_ci95": [0.39, 0.43],
                         "recall@20": 0.3, "selected": {"lr": 0.01, "weight_decay": 1e-5}, "plausible_set": [],
                         "selected_epochs": 12, "flops_per_epoch": 6.5e8, "flops_to_selection": 7.8e9,
                         "epoch_s": 0.5})
    body = _body(render_appendix(_results([cpx, exp])))
    assert SHRINK.search(body) is None
    assert "Per-epoch complexity" in body and "Recommendation experiment" in body


# ----------------------------------------------------------------------------- the protocol once

def _registry_results() -> dict:
    return _results([{"id": c.id, "reading": c.reading, "statement": c.statement, "verdict": c.expected,
                      "evidence": [{"kind": "numeric", "check": "stand-in", "summary": "a check",
                                    "outcome": {"refuted": "fails", "inconclusive": "undecided"}.get(c.expected,
                                                                                                   "holds")}]}
                     for c in all_claims()])


def test_the_experiments_protocol_is_printed_once_and_referred_to():
    from reports.exp.claims import _SETUP   # the registered protocol, as the statements open with it

    results = _registry_results()
    sharing = [c for c in results["claims"] if c["statement"].startswith(_SETUP)]
    assert len(sharing) >= 3    # the test's premise: several rows state it
    for render in (render_appendix, render_evidence):
        tex = render(results)
        assert tex.count(marked(_SETUP)) == 1, render.__name__
        assert tex.count(r"\hyperref[protocol-1]{\emph{Protocol~1}}") == len(sharing)
        # each row keeps the rest of its statement
        for c in sharing:
            assert marked(c["statement"][len(_SETUP) + 1:]) in tex


def test_a_statement_shared_by_too_few_rows_is_printed_in_place():
    text = "A long common opening that two rows share. " * 10
    rows = [_row("X-1", {}, statement=text + "Prediction one."), _row("X-2", {}, statement=text + "Prediction two.")]
    tex = render_appendix(_results(rows))
    assert "protocol-1" not in tex and tex.count(marked(text.strip())) == 2


# ----------------------------------------------------------------------------- counted operations

PRINTED_SOURCES = ("numerics/cpx/complexity.py", "numerics/exp/checks.py", "numerics/exp/labels.py", "reports/tables.py",
                   "reports/figtables.py", "reports/views.py", "reports/latex.py")


def _printed_strings(path: Path) -> list[str]:
    """Every string constant of a module (f-string parts included) except docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


@pytest.mark.parametrize("path", PRINTED_SOURCES)
def test_no_flops_in_printed_text(path):
    """What numerics/cpx/opcount.py counts is printed as "counted operations" (defined once, in the
    glossary); figure keys such as ``flops_per_epoch`` are identifiers and stay."""
    found = [s for s in _printed_strings(ROOT / path) if "FLOP" in s]
    assert found == []


def test_no_flops_in_the_templates():
    for t in (ROOT / "reports" / "templates").glob("*.j2"):
        assert "FLOP" not in t.read_text(encoding="utf-8"), t.name


# ----------------------------------------------------------------------------- plots

def test_a_constant_plot_is_recognised():
    assert is_constant({"series": {"a": {"x": [1, 2], "y": [1.0, 1.0]}, "b": {"x": [1], "y": [1.0]}}})
    assert not is_constant({"series": {"a": {"x": [1, 2], "y": [1.0, 0.5]}}})


def test_dyn1_softmax_plots_the_smallest_negative_gradient_not_a_constant():
    from numerics.dyn.negative_gradients import negative_gradients

    ev = negative_gradients("softmax", RunContext())
    spec = ev.figures["plot"]
    assert not is_constant(spec)
    for s in spec["series"].values():
        y = np.array(s["y"])
        # finite, negative (ŷ_j < 1) and above float64's underflow: a non-zero gradient throughout
        assert np.all(np.isfinite(y)) and np.all(y < 0) and np.all(y > math.log(np.finfo(float).tiny))
        assert y[-1] < y[0]    # it falls as the scores separate: the plot shows something


def _fake_experiment(per_split: dict[str, list[float]]) -> dict:
    from numerics.exp.run import LEARNED

    def run(v):
        return SimpleNamespace(mean=lambda key, v=v: v, epoch_s=0.25)
    runs = {m: {(s, s): run(v) for s, v in enumerate(per_split.get(m, [0.4, 0.41, 0.42]))} for m in LEARNED}
    return {"dataset": "MovieLens-100K", "splits": list(range(3)), "runs": runs,
            "flops": {m: 1e8 * (i + 1) for i, m in enumerate(LEARNED)},
            "selected": {m: {"epochs": 10} for m in LEARNED}}


@pytest.mark.parametrize("axis", ["flops", "selection", "time"])
def test_experiment_frontier_plots_carry_per_split_values_and_error_bars(axis):
    from numerics.exp.checks import _frontier_plot

    per_split = {"softmax": [0.43, 0.44, 0.45], "hsm": [0.36, 0.37, 0.38]}
    spec = _frontier_plot(_fake_experiment(per_split), axis)
    for m, vals in per_split.items():
        s = spec["series"][m]
        assert s["y_splits"] == vals
        # independent route: scipy's Student-t interval of the mean over the splits
        lo, hi = stats.t.interval(0.95, len(vals) - 1, loc=np.mean(vals), scale=stats.sem(vals))
        assert s["ylo"][0] == pytest.approx(lo, rel=1e-12) and s["yhi"][0] == pytest.approx(hi, rel=1e-12)
    assert "bars:" in spec["caption"]


def test_every_axis_holds_every_point_and_bar_whole():
    """The clipped-HSM case of Fig. 26: a point far below the rest, with its bar."""
    spec = {"series": {"a": {"x": [6e8], "y": [0.436], "ylo": [0.43], "yhi": [0.44]},
                       "hsm": {"x": [6.4e8], "y": [0.3698], "ylo": [0.36], "yhi": [0.38]}},
            "logx": True, "markers": True}
    import matplotlib.pyplot as plt
    fig = figure(spec)
    try:
        lo, hi = fig.axes[0].get_ylim()
        span = hi - lo
        assert lo < 0.36 - 0.05 * span and hi > 0.44 + 0.05 * span   # a margin beyond every bar's end
    finally:
        plt.close(fig)


def test_right_axis_reference_curves_and_zoom_panel_are_drawn():
    from numerics.dyn.series import reference

    t = [1.0, 10.0, 100.0, 1000.0]
    loss, norm = {"x": t, "y": [1.0, 0.1, 0.01, 0.001]}, {"x": t, "y": [0.1, 2.4, 4.7, 7.0]}
    refs = [reference(loss, "1/t", "1/t", scale=3.0), reference(norm, "log t", "log t", decades=3, axis="right")]
    # the references have the claimed shapes: slope -1 on log-log, linear in log t
    x, y = np.array(refs[0]["x"]), np.array(refs[0]["y"])
    assert np.allclose(np.diff(np.log(y)) / np.diff(np.log(x)), -1.0)
    x, y = np.array(refs[1]["x"]), np.array(refs[1]["y"])
    assert np.allclose(y / np.log(x), 7.0 / math.log(1000.0))
    spec = {"series": {"loss": loss, "norm": norm}, "logx": True, "logy": True, "reference": refs,
            "right": {"ylabel": "norm", "series": ["norm"], "logy": False},
            "zoom": {"ylim": [1e-3, 2.0], "title": "window"}}
    import matplotlib.pyplot as plt
    fig = figure(spec)
    try:
        main, twin = fig.axes[0], next(a for a in fig.axes if a is not fig.axes[0] and a.get_ylabel() == "norm")
        assert twin.get_yscale() == "linear" and main.get_yscale() == "log"
        assert {ln.get_label() for ln in main.get_lines()} >= {"loss", "1/t"}
        assert {ln.get_label() for ln in twin.get_lines()} >= {"norm", "log t"}
        assert any(a.get_title() == "window" and a.get_ylim() == pytest.approx((1e-3, 2.0)) for a in fig.axes)
    finally:
        plt.close(fig)


def test_the_apx6_window_holds_every_plateau():
    from numerics.apx.sgd import _plateau_window

    lo, hi = _plateau_window([0.005, 0.1, 12.0, 0.0])
    assert lo < 0.005 and hi > 12.0 and lo > 0
