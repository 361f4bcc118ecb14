"""The committed final-runs record (numerics/exp/record.py): when the experiment takes runs
from it, how it is verified, and that a stale, tampered or non-reproducing record is never
read.  The logic is exercised with a cheap stand-in for a training run (its value a function
of the run's arguments); the committed record itself is checked against today's code and,
in the experiment's worker group, against recomputed runs."""
from __future__ import annotations

import hashlib
import json

import pytest

from numerics.exp import record as R
from numerics.exp import run as X
from numerics.recsys import final as F

@pytest.fixture
def _fresh_cache():
    X.results.cache_clear()
    X._PRIMED.clear()
    yield
    X.results.cache_clear()
    X._PRIMED.clear()


def fake_run(method, config, epochs, data_name, split_seed, seed, cfg=None, device="cpu"):
    """A stand-in for a final run: its figures a function of its arguments (no training)."""
    h = int(hashlib.sha256(json.dumps([method, config, epochs, split_seed, seed], sort_keys=True).encode())
            .hexdigest()[:8], 16)
    x = (h % 10_000) / 20_000
    return {"means": {"ndcg@10": x, "ndcg@20": x + 0.01, "recall@20": x + 0.02}, "best_epoch": epochs or 0,
            "grad_frac": None, "epoch_s": 0.5}


@pytest.fixture
def fake(monkeypatch, tmp_path, _fresh_cache):
    """Training replaced by :func:`fake_run`, the operation counts by a constant, the record
    read from ``tmp_path``; returns the record's path."""
    monkeypatch.setattr(R, "summarised_run", fake_run)
    monkeypatch.setattr(X, "epoch_flops", lambda *a: {"softmax": 1})
    path = tmp_path / "final.json"
    monkeypatch.setattr(R.load, "__defaults__", (path,))
    return path


def write(path, runs, ident=None):
    from numerics import data as D

    ident = ident or R.identity(F.RECORD, D.sha256(D.fetch_ml100k(log=lambda m: None)))
    path.write_text(json.dumps(R.build(runs, ident, {"profiles": ["quick"]})))


def every_run():
    return {k: fn(*args) for k, fn, args in X.design_work("quick", 0, "cpu")}


def test_runs_come_from_a_current_record_after_one_run_per_method_is_verified(fake):
    runs = every_run()
    write(fake, runs)
    work = X.plan("quick", 0, "cpu")
    computed = [k for k, _, _ in work if k != "flops"]
    methods = {k.split("|")[1] for k in runs}
    assert len(computed) == len(methods) == 14          # one per method, the rest from the record
    ex = X.results("quick", 0, "cpu")
    assert ex["source"].startswith(f"{len(runs) - 14} of the {len(runs)} runs from the committed record")
    assert ex["runs"]["softmax"][(0, 0)].mean("ndcg@20") == runs[next(k for k in runs if "softmax|" in k)]["means"]["ndcg@20"]


def test_a_verified_run_that_differs_discards_the_record(fake):
    runs = every_run()
    write(fake, runs)
    verified = X._from_record("quick", 0, "cpu")[1]
    key = next(k for k in verified if k.startswith("run|nce|"))
    tampered = {k: v | ({"means": v["means"] | {"ndcg@20": 0.9}} if k not in verified else {})
                for k, v in runs.items()}
    tampered[key] = runs[key] | {"means": runs[key]["means"] | {"ndcg@20": runs[key]["means"]["ndcg@20"] + 1e-9}}
    write(fake, tampered)
    ex = X.results("quick", 0, "cpu")
    assert ex["source"].startswith(f"all {len(runs)} runs computed in this run (the committed final-runs record "
                                   f"did not reproduce here (run {key}")
    # nothing of the record is used: the planted 0.9 of every other run is gone
    assert all(r.mean("ndcg@20") < 0.9 for m in ex["runs"].values() for r in m.values())


def test_a_stale_record_is_never_read(fake):
    runs = every_run()
    write(fake, {k: v | {"means": v["means"] | {"ndcg@20": 0.9}} for k, v in runs.items()},
          ident={"scoring_version": "older code", "final_run_sha256": "", "tuning_record_sha256": "",
                 "data_sha256": ""})
    assert len([k for k, _, _ in X.plan("quick", 0, "cpu") if k != "flops"]) == len(runs)
    ex = X.results("quick", 0, "cpu")
    assert "stale" in ex["source"] and all(r.mean("ndcg@20") < 0.9 for m in ex["runs"].values() for r in m.values())


def test_another_seed_never_reads_the_record(fake):
    write(fake, every_run())
    assert len([k for k, _, _ in X.plan("quick", 1, "cpu") if k != "flops"]) == len(every_run())


def test_the_command_writes_resumes_and_keeps_a_larger_designs_runs(fake, tmp_path, capsys):
    from reports.execution import Engine
    from reports.exp.experiment import run_experiment

    out = tmp_path / "record.json"
    with Engine(jobs=1) as engine:
        first = run_experiment(out, engine, "quick")
    assert set(first["runs"]) == {k for k, _, _ in X.design_work("quick", 0, "cpu")}
    assert first["runs"] == every_run()
    with Engine(jobs=1) as engine:
        full = run_experiment(out, engine, "full")
        assert "previous record holds 260 of these runs: 260 equal bit for bit, 0 differ" in capsys.readouterr().err
        again = run_experiment(out, engine, "quick")
    assert set(again["runs"]) == set(full["runs"]) > set(first["runs"])
    assert again["design"]["profiles"] == ["full", "quick"]


def test_the_record_compares_every_figure_but_wall_seconds():
    a = fake_run("nce", {"lr": 1}, 3, "ml-100k", 0, 0)
    assert R.same(a, a | {"epoch_s": 9.0})
    assert not R.same(a, a | {"best_epoch": 4})
    assert not R.same(a, a | {"means": a["means"] | {"recall@20": a["means"]["recall@20"] + 2 ** -40}})


def test_the_committed_record_is_current_and_holds_the_quick_design():
    """Remake it with `softmax-audit experiment` after any change to how a run is computed."""
    from numerics import data as D

    record = R.load()
    assert record is not None, "no committed final-runs record: run `softmax-audit experiment`"
    why = R.stale(record, R.identity(F.RECORD, D.sha256(D.fetch_ml100k(log=lambda m: None))))
    assert why is None, f"the committed final-runs record is stale ({why}): run `softmax-audit experiment`"
    assert {k for k, _, _ in X.design_work("quick", 0, "cpu")} <= set(record["runs"])


@pytest.mark.xdist_group("experiment")   # the worker that runs the experiment for the EXP rows: once
def test_the_committed_record_reproduces_here(ctx):
    """The experiment as the EXP rows read it: runs from the record, its sample recomputed
    and equal to it bit for bit."""
    from exec_helpers import prepare_on_every_core
    from reports.registry import by_key

    prepare_on_every_core(by_key("EXP-1[softmax]"), ctx)
    ex = X.results(ctx.profile, ctx.seed, ctx.device)
    assert "from the committed record" in ex["source"] and "equal to it bit for bit" in ex["source"], ex["source"]
