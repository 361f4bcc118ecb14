"""The EXP-1 / DYN-3 / CPX-2 decisions on planted experiment outcomes: each can hold, fail
(with a counterexample that reports/recheck.py re-verifies from the JSON alone) or stay
undecided; none can only pass.  Run-level inference sees the spread between runs; the
sensitivity analysis turns a verdict that a neighbouring configuration flips.  The
re-checkers reject stored non-counterexamples."""
import json
from dataclasses import replace

import pytest
import torch

from audit import RunContext
from audit.falsealarm import POOLS
from numerics import exp_checks as E
from numerics.exp_run import PER_INTERACTION
from numerics.recsys.methods import METHODS
from reports.planted_exp import swapped, theory_shaped
from reports.recheck import recheck_one

CTX = RunContext(alpha=POOLS["experiment"])


def _ex(levels: dict[str, float] | None = None, flops: dict | None = None,
        run_offsets: dict[str, list[float]] | None = None) -> dict:
    """The theory-shaped outcome, with some methods' per-user NDCG shifted (``levels``) and
    some methods' runs shifted one by one (``run_offsets``, in sorted run order)."""
    ex = theory_shaped(CTX)
    runs = {}
    for m, rs in ex["runs"].items():
        runs[m] = {}
        for i, (k, r) in enumerate(sorted(rs.items())):
            shift = (levels or {}).get(m, 0.0) + ((run_offsets or {}).get(m) or [0.0] * len(rs))[i]
            runs[m][k] = replace(r, per_user={key: (v + shift).clamp(0, 1) for key, v in r.per_user.items()})
    return ex | {"runs": runs, "flops": ex["flops"] | (flops or {})}


def _neighbour(ex: dict, method: str, shift: float, config: dict) -> dict:
    """``ex`` with one neighbouring configuration of ``method`` run on the first split with
    the first seed: its run is the selection's shifted by ``shift``."""
    first = (min(ex["splits"]), min(ex["seeds"]))
    runs = {first: replace(ex["runs"][method][first],
                           per_user={key: v + shift for key, v in ex["runs"][method][first].per_user.items()})}
    return ex | {"neighbours": {**ex.get("neighbours", {}), method: [{"config": config, "runs": runs}]}}


def _stored(ev):
    return json.loads(json.dumps(ev.to_json()))["counterexample"]


def _recheck(cid, reading, ev):
    return recheck_one(cid, reading, _stored(ev))


def test_theory_shaped_outcome_holds_everywhere():
    ex = theory_shaped(CTX)
    for m in METHODS:
        assert E.exp_ordering(m, CTX, ex=ex).outcome == "holds", m
    assert E.sop_ahead_of_wop(CTX, ex=ex).outcome == "holds"
    for r in ("softmax-undominated", "approximations-cheaper", "approximations-cheaper/per-interaction"):
        assert E.frontier(r, CTX, ex=ex).outcome == "holds", r


def test_a_method_above_softmax_refutes_and_rechecks():
    ex = _ex({"rankmax": 0.2, "hsm": 0.2})
    ev = E.exp_ordering("rankmax", CTX, ex=ex)
    assert ev.outcome == "fails" and _recheck("EXP-1", "rankmax", ev)[0]
    top = E.exp_ordering("softmax", CTX, ex=ex)
    assert top.outcome == "fails" and set(top.counterexample["comparisons"]) == {"softmax-rankmax", "softmax-hsm"}
    assert _recheck("EXP-1", "softmax", top)[0]
    dyn = E.sop_ahead_of_wop(CTX, ex=ex)
    assert dyn.outcome == "fails" and _recheck("DYN-3", "sop-vs-wop", dyn)[0]
    dom = E.frontier("softmax-undominated", CTX, ex=ex)  # hsm is cheaper and better
    assert dom.outcome == "fails" and list(dom.counterexample["comparisons"]) == ["hsm-softmax"]
    assert _recheck("CPX-2", "softmax-undominated", dom)[0]


def test_a_tie_is_undecided():
    ex = _ex({"nce": 0.1})  # nce level with softmax; cheaper in the planted counts
    assert E.exp_ordering("nce", CTX, ex=ex).outcome == "undecided"
    assert E.exp_ordering("softmax", CTX, ex=ex).outcome == "undecided"  # "at the top" is not earned by a tie
    assert E.frontier("softmax-undominated", CTX, ex=ex).outcome == "undecided"


def test_popularity_above_a_model_refutes():
    ev = E.exp_ordering("popularity", CTX, ex=_ex({"sparsemax": -0.25}))
    assert ev.outcome == "fails" and "sparsemax-popularity" in ev.counterexample["comparisons"]
    assert _recheck("EXP-1", "popularity", ev)[0]


@pytest.mark.parametrize("reading,ref", [("approximations-cheaper", "softmax"),
                                         ("approximations-cheaper/per-interaction", PER_INTERACTION)])
def test_a_dearer_approximation_refutes_cheaper(reading, ref):
    ex = swapped(theory_shaped(CTX), ref, "nce", what="flops")
    ev = E.frontier(reading, CTX, ex=ex)
    assert ev.outcome == "fails" and "nce" in ev.detail and _recheck("CPX-2", reading, ev)[0]


def test_every_interval_is_at_one_level_over_the_distinct_comparisons():
    # softmax against the 11 others, popularity against the 10 other learned models
    assert E.N_COMPARISONS == 21
    ex = theory_shaped(CTX)
    for ev in (E.exp_ordering("softmax", CTX, ex=ex), E.exp_ordering("popularity", CTX, ex=ex),
               E.exp_ordering("nce", CTX, ex=ex), E.sop_ahead_of_wop(CTX, ex=ex),
               E.frontier("softmax-undominated", CTX, ex=ex)):
        assert ev.figures["level"] == pytest.approx(1 - CTX.alpha / 21)
    with pytest.raises(ValueError, match="alpha"):
        E.level(RunContext(alpha=0.0))
    with pytest.raises(ValueError, match="registered comparisons"):
        E.compare(ex, "ease", "softmax", 0.99)    # calibration baselines are in no comparison


def test_a_wider_share_separates_what_a_narrow_one_does_not():
    """The same planted difference: separated at a generous level, not at a strict one --
    the level is what the experiment's share of the budget sets."""
    ex = _ex({"ssm/uniform": 0.1 - 0.004})
    loose, strict = RunContext(alpha=0.2), RunContext(alpha=1e-9)
    assert E.exp_ordering("ssm/uniform", loose, ex=ex).outcome == "holds"
    assert E.exp_ordering("ssm/uniform", strict, ex=ex).outcome == "undecided"


def test_the_spread_between_runs_enters_the_interval():
    """A +0.014 edge of ssm/uniform over softmax that scatters by about ±0.01 from run to run:
    the per-user interval of the former protocol (users pooled over runs) excludes 0, the
    run-level interval does not -- the defect the run level removes."""
    scatter = [0.012, -0.008, 0.01, -0.011, 0.009, -0.01, 0.011, -0.009, -0.004]
    ex = _ex({"ssm/uniform": 0.1 + 0.014}, run_offsets={"ssm/uniform": scatter})
    c = E.compare(ex, "softmax", "ssm/uniform", E.level(CTX))
    assert c["per_user_95"][1] < 0                      # per users: "significant"
    assert c["lo"] < 0 < c["hi"] and c["df"] == 8       # per runs: not separated
    assert E.exp_ordering("ssm/uniform", CTX, ex=ex).outcome == "undecided"
    steady = E.compare(_ex({"ssm/uniform": 0.1 + 0.014}), "softmax", "ssm/uniform", E.level(CTX))
    assert steady["hi"] < 0                             # without the scatter it is separated


def test_a_verdict_a_neighbour_flips_is_sensitive_to_tuning():
    ex = _ex({"rankmax": -0.05})                        # EXP-1[rankmax] holds: 0.05 below softmax
    assert E.exp_ordering("rankmax", CTX, ex=ex).outcome == "holds"
    flip = _neighbour(ex, "rankmax", 0.3, {"lr": 0.01, "weight_decay": 3.0})
    ev = E.exp_ordering("rankmax", CTX, ex=flip)
    assert ev.outcome == "undecided" and ev.detail.startswith("sensitive to tuning")
    assert "rankmax" in ev.detail and "weight decay 3" in ev.detail
    assert ev.figures["sensitivity"][0]["outcome"] == "fails"
    # the same neighbour of softmax moves softmax up: nothing flips
    calm = _neighbour(ex, "softmax", 0.01, {"lr": 0.03, "weight_decay": 1.0})
    ev = E.exp_ordering("rankmax", CTX, ex=calm)
    assert ev.outcome == "holds" and ev.figures["sensitivity"] == []


def test_a_refutation_a_neighbour_flips_is_sensitive_too():
    ex = _neighbour(_ex({"rankmax": 0.2}), "softmax", 0.3, {"lr": 0.03, "weight_decay": 1.0})
    ev = E.exp_ordering("rankmax", CTX, ex=ex)
    assert ev.outcome == "undecided" and ev.counterexample is None and "sensitive to tuning" in ev.detail


# ------------------------------------------------------------------ re-checkers reject non-counterexamples
def _fails_cx():
    return _stored(E.exp_ordering("rankmax", CTX, ex=_ex({"rankmax": 0.2})))


def test_recheck_rejects_a_tampered_side():
    cx = _fails_cx()
    cx["comparisons"]["softmax-rankmax"]["side"] = "above 0"
    assert not recheck_one("EXP-1", "rankmax", cx)[0]


def test_recheck_rejects_a_comparison_that_straddles_0():
    cx = _fails_cx()
    d = cx["comparisons"]["softmax-rankmax"]["run_diff"]
    cx["comparisons"]["softmax-rankmax"]["run_diff"] = [x - sum(d) / len(d) for x in d]  # mean 0
    ok, msg = recheck_one("EXP-1", "rankmax", cx)
    assert not ok and "not below 0" in msg


def test_recheck_rejects_too_few_runs():
    cx = _fails_cx()
    cx["comparisons"]["softmax-rankmax"]["run_diff"] = cx["comparisons"]["softmax-rankmax"]["run_diff"][:1]
    ok, msg = recheck_one("EXP-1", "rankmax", cx)
    assert not ok and "runs" in msg


def test_recheck_rejects_the_prediction_holding():
    """softmax above sparsemax is what EXP-1[sparsemax] predicts: not a counterexample."""
    ex = theory_shaped(CTX)
    c = E.compare(ex, "softmax", "sparsemax", E.level(CTX))
    cx = {"level": E.level(CTX), "comparisons": {"softmax-sparsemax": {"side": "above 0", "run_diff": c["run_diff"]}}}
    assert not recheck_one("EXP-1", "sparsemax", cx)[0]
    cx["comparisons"]["softmax-sparsemax"]["side"] = "below 0"
    assert not recheck_one("EXP-1", "sparsemax", cx)[0]


def test_recheck_rejects_a_comparison_of_another_row_and_a_low_level():
    cx = _fails_cx()
    assert not recheck_one("EXP-1", "nce", cx)[0]      # stored softmax-rankmax under EXP-1[nce]
    cx["level"] = 0.5
    assert not recheck_one("EXP-1", "rankmax", cx)[0]


def test_recheck_rejects_a_dominating_method_stored_as_dearer():
    ev = E.frontier("softmax-undominated", CTX, ex=_ex({"hsm": 0.2}))
    cx = _stored(ev)
    assert recheck_one("CPX-2", "softmax-undominated", cx)[0]
    cx["flops_per_epoch"]["hsm"] = cx["flops_per_epoch"]["softmax"] * 2
    ok, msg = recheck_one("CPX-2", "softmax-undominated", cx)
    assert not ok and "not cheaper" in msg


def test_recheck_rejects_every_approximation_cheaper():
    cx = {"reference": "softmax", "flops_per_epoch": {"softmax": 10.0, "nce": 9.0, "hsm": 3.0}}
    assert not recheck_one("CPX-2", "approximations-cheaper", cx)[0]
    cx["flops_per_epoch"]["nce"] = 10.0
    assert recheck_one("CPX-2", "approximations-cheaper", cx)[0]


def test_dyn3_recheck_rejects_a_non_wop_comparison():
    ev = E.sop_ahead_of_wop(CTX, ex=_ex({"rankmax": 0.2}))
    cx = _stored(ev)
    assert recheck_one("DYN-3", "sop-vs-wop", cx)[0]
    cx["comparisons"] = {"softmax-hsm": cx["comparisons"]["softmax-rankmax"]}
    assert not recheck_one("DYN-3", "sop-vs-wop", cx)[0]


def test_the_rechecks_t_quantile_is_the_t_distributions():
    from scipy import stats

    from reports.rechecks.exp import t_quantile

    for df in (1, 2, 3, 8, 9, 30):
        for lev in (0.95, 1 - 0.004 / 21):
            assert t_quantile(lev, df) == pytest.approx(stats.t.isf((1 - lev) / 2, df), rel=1e-9)


def test_missing_data_is_undecided_and_tried_once(monkeypatch):
    from numerics import exp_run
    from numerics.data import DataError

    calls = []

    def offline(*key):
        calls.append(key)
        raise DataError("could not download recbole==1.2.1 (offline)")

    monkeypatch.setattr(exp_run, "results", offline)
    monkeypatch.setattr(E, "_UNAVAILABLE", {})
    ctx = RunContext(profile="full", seed=7)
    for ev in (E.exp_ordering("softmax", ctx), E.sop_ahead_of_wop(ctx), E.frontier("softmax-undominated", ctx)):
        assert ev.outcome == "undecided" and "MovieLens-100K unavailable" in ev.detail and "offline" in ev.detail
    assert calls == [("full", 7, "cpu")]


def test_a_stale_record_is_refused_naming_tune(monkeypatch, tmp_path):
    from numerics import exp_run
    from numerics.recsys import final as F

    stale = json.loads(F.RECORD.read_text())
    stale["methods"]["softmax"]["grid"]["lr"] = [1.0]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(stale))
    monkeypatch.setattr(F, "RECORD", path)
    monkeypatch.setattr(F.load_record, "__defaults__", (path,))
    with pytest.raises(ValueError, match="softmax-audit tune"):
        exp_run.preflight()
    from reports import cli

    ran = []
    monkeypatch.setattr("reports.report.write_report", lambda *a, **k: ran.append(a))
    assert cli.main(["report", "--out", str(tmp_path / "out"), "--only", "EXP-1", "--no-pdf"]) == 2
    assert not ran                                       # refused before anything ran


def test_the_experiment_tables_are_drawn_from_the_rows_alone():
    from reports.readme_table import markdown_table
    from reports.tables import PUBLISHED, calibration_table, experiment_table, grids_table

    ex = theory_shaped(CTX)
    rows = [json.loads(json.dumps({"id": "EXP-1", "reading": m, "verdict": "supported",
                                   "evidence": [E.exp_ordering(m, CTX, ex=ex).to_json()]})) for m in METHODS]
    md = markdown_table({"claims": rows}).splitlines()
    assert len(md) == 2 + len(METHODS) + 2                      # header, methods, EASE and item kNN
    softmax = E.method_figures(ex, "softmax")
    assert md[2].startswith(f"| softmax | {softmax['ndcg@10']:.3f} | {softmax['ndcg@20']:.3f} [")
    assert md[-2].startswith("| item kNN (calibration)") or md[-1].startswith("| item kNN (calibration)")
    tex = "\n".join(calibration_table(rows))
    assert all(f"{v:.3f}" in tex for v in PUBLISHED["ndcg@10"].values()) and "EASE" in tex
    assert tex.count(r"$\in$") == 0 and "\n".join(grids_table(rows)).count(r"$\in$") == \
        sum(len(g) for g in E.GRIDS.values())   # every grid axis printed, in evidence.pdf
    assert len([x for x in experiment_table(rows, set()) if x.endswith(r"\\")]) == len(METHODS) + 1
    with pytest.raises(ValueError, match="softmax-audit report"):
        markdown_table({"claims": []})


@pytest.mark.parametrize("method,config,epochs", [("softmax", {"lr": 0.01, "weight_decay": 1.0}, 2),
                                                  ("ssm/uniform", {"lr": 0.01, "weight_decay": 1.0}, 1),
                                                  ("rg2/als-authors", {"lam": 0.1, "alpha": 0.005}, 1),
                                                  ("itemknn", {"k": 20, "shrink": 10.0}, None)])
def test_a_final_run_is_bitwise_deterministic_whatever_the_threads(method, config, epochs):
    """Same run twice, once with the caller at 2 intra-op threads: identical per-user bits
    (a final run pins one thread), so results never depend on --jobs."""
    from numerics.recsys.final import final_run

    before = torch.get_num_threads()
    a = final_run(method, config, epochs, "synthetic", 0, 3)
    torch.set_num_threads(2)
    try:
        b = final_run(method, config, epochs, "synthetic", 0, 3)
    finally:
        torch.set_num_threads(before)
    for key in ("ndcg@10", "ndcg@20", "recall@20"):
        assert torch.equal(a.per_user[key], b.per_user[key]), key
