"""The equal-budget tuning (numerics/recsys/tuning.py, reports/exp/tune.py): grids of equal
size, selection and edge flags, a sweep through the execution layer that resumes and gives
the same record in process and on a cluster, and a stale record refused by name."""
import json
from dataclasses import replace

import pytest

from numerics.recsys import tuning as T
from numerics.recsys.train import Config
from reports.execution import Engine
from reports.exp.tune import run_tuning

pytestmark = pytest.mark.xdist_group("dask-cluster")

TINY = Config(d=4, epochs=2, eval_every=1, batch_users=40, m=4)


def test_every_tuned_method_gets_the_same_budget():
    assert {m: len(T.configurations(m)) for m in T.GRIDS} == {m: T.BUDGET for m in T.GRIDS}
    assert set(T.GRADIENT) < set(T.GRIDS) and "popularity" not in T.GRIDS


def test_selection_takes_the_best_and_ties_go_to_the_earlier_point():
    scores = [{"config": {"lam": lam}, "valid_ndcg@20": v} for lam, v in ((1, 0.2), (2, 0.3), (5, 0.3), (10, 0.1))]
    assert T.select(scores)["config"] == {"lam": 2}
    assert T.on_edge("rg2/als", {"lam": 0.1}) == ["lam"] and T.on_edge("rg2/als", {"lam": 10.0}) == []
    assert T.on_edge("rg2/sgd", {"lr": 3e-3, "weight_decay": 1.0}) == ["lr"]
    assert T.on_edge("rg2/sgd", {"lr": 1e-1, "weight_decay": 10.0}) == ["lr", "weight_decay"]
    with pytest.raises(ValueError, match="scores"):
        T.select([])


@pytest.fixture
def small_grids(monkeypatch):
    monkeypatch.setitem(T.GRIDS, "softmax", {"lr": (1e-2, 3e-2), "weight_decay": (0.0, 1e-3)})
    monkeypatch.delitem(T.GRID_HISTORY, "softmax")          # the small grid has no history
    monkeypatch.setitem(T.GRIDS, "ease", {"lam": (1.0, 100.0)})


def test_a_sweep_resumes_and_gives_the_record_of_an_uninterrupted_one(small_grids, tmp_path, monkeypatch):
    out = tmp_path / "record.json"
    real = T.score_configuration
    calls, interrupt = [], [True]

    def flaky(*args):
        calls.append(args[:2])
        if interrupt[0] and len(calls) == 3:
            raise KeyboardInterrupt                                    # Ctrl-C in the third configuration
        return real(*args)

    monkeypatch.setattr(T, "score_configuration", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_tuning(out, Engine(), ["ease", "softmax"], data_name="synthetic", cfg=TINY, progress=None)
    assert not out.exists()
    calls.clear()
    interrupt[0] = False
    record = run_tuning(out, Engine(), ["ease", "softmax"], data_name="synthetic", cfg=TINY, progress=None)
    assert len(calls) == 12 - 2                                        # only what had not finished (6 x 2 seeds)
    fresh = run_tuning(tmp_path / "again.json", Engine(), ["ease", "softmax"], data_name="synthetic", cfg=TINY,
                       progress=None)
    assert record == fresh and json.loads(out.read_text()) == record
    assert T.per_user_path(out).read_bytes() == T.per_user_path(tmp_path / "again.json").read_bytes()
    sm = record["methods"]["softmax"]
    assert len(sm["configurations"]) == 4 and sm["selected"] in T.configurations("softmax")
    assert all("valid_ndcg@20" in e and "at_cap" in e for e in sm["configurations"])
    # per-user validation scores at both seeds, the record's mean their mean
    arr = T.load_per_user(record, out)
    assert arr.shape[:2] == (6, len(T.TUNING_SEEDS)) and record["per_user"]["shape"] == list(arr.shape)
    for e in sm["configurations"]:
        assert e["seeds"] == list(T.TUNING_SEEDS)
        assert e["valid_ndcg@20_by_seed"] == pytest.approx(arr[e["row"]].mean(axis=1).tolist(), abs=1e-6)
        assert e["valid_ndcg@20"] == pytest.approx(sum(e["valid_ndcg@20_by_seed"]) / 2)


def test_a_tampered_per_user_array_is_refused_by_name(small_grids, tmp_path):
    out = tmp_path / "r.json"
    record = run_tuning(out, Engine(), ["ease"], data_name="synthetic", cfg=TINY, progress=None)
    raw = bytearray(T.per_user_path(out).read_bytes())
    raw[-1] ^= 1
    T.per_user_path(out).write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="softmax-audit tune"):
        T.load_per_user(record, out)
    T.per_user_path(out).unlink()
    with pytest.raises(ValueError, match="softmax-audit tune"):
        T.load_per_user(record, out)


def test_a_cluster_gives_the_record_of_an_in_process_sweep(small_grids, tmp_path):
    a = run_tuning(tmp_path / "a.json", Engine(), ["ease", "softmax"], data_name="synthetic", cfg=TINY, progress=None)
    with Engine(jobs=2) as engine:
        b = run_tuning(tmp_path / "b.json", engine, ["ease", "softmax"], data_name="synthetic", cfg=TINY,
                       progress=None)
    assert a == b


def test_a_stale_record_is_refused_by_name(small_grids, tmp_path):
    record = run_tuning(tmp_path / "r.json", Engine(), ["ease"], data_name="synthetic", cfg=TINY, progress=None)
    record = {**record, "methods": {m: record["methods"]["ease"] if m == "ease" else
                                    {"grid": {k: list(v) for k, v in T.GRIDS[m].items()},
                                     "grid_history": T._history_json(m),
                                     "selected": T.configurations(m)[0]} for m in T.GRIDS}}
    T.check_record(record, "synthetic")
    with pytest.raises(ValueError, match="softmax-audit tune"):
        T.check_record(record, "another-sha")
    changed = json.loads(json.dumps(record))
    changed["methods"]["ease"]["grid"]["lam"] = [1.0, 50.0]
    with pytest.raises(ValueError, match="softmax-audit tune"):
        T.check_record(changed, "synthetic")
    moved = json.loads(json.dumps(record))
    moved["methods"]["nce"]["grid_history"] = []          # a record made before nce's grid moved
    with pytest.raises(ValueError, match="grid history of nce"):
        T.check_record(moved, "synthetic")
    one_seed = json.loads(json.dumps(record)) | {"tuning_seeds": [0]}   # a record of the one-seed protocol
    with pytest.raises(ValueError, match="tuning seeds"):
        T.check_record(one_seed, "synthetic")


def test_the_committed_record_matches_todays_grids_and_data():
    from numerics.data import INTER_SHA256
    from numerics.recsys.final import RECORD

    record = json.loads(RECORD.read_text())
    T.check_record(record, INTER_SHA256)
    assert record["budget"] == T.BUDGET and record["tuning_split"] == 0
    for method, entry in record["methods"].items():
        assert len(entry["configurations"]) == T.BUDGET
        assert entry["selected"] == T.select(entry["configurations"])["config"]
        assert entry["selected_on_edge"] == T.on_edge(method, entry["selected"])
        # a grid moved off an edge keeps what it dropped, scored, in the record
        assert [e["config"] for e in entry.get("scored_before_move", [])] == T.moved_out(method)
    # the final runs' design: at least 10 splits (issue 21 §5), per-user scores at 2 seeds
    assert len(record["splits"]) >= 10 and record["tuning_seeds"] == list(T.TUNING_SEEDS)
    arr = T.load_per_user(record, RECORD)
    assert arr.shape[1] == len(T.TUNING_SEEDS)


def test_scoring_a_configuration_never_looks_at_the_test_part(monkeypatch):
    from numerics.recsys import train as train_module

    from numerics.recsys.final import split_of

    outer, inner = split_of("synthetic", 0)
    seen = []
    real = train_module.evaluate
    monkeypatch.setattr(train_module, "evaluate", lambda fn, sp, **kw: (seen.append(sp), real(fn, sp, **kw))[1])
    for method, config in (("softmax", {"lr": 1e-2, "weight_decay": 0.1}), ("rg2/als", {"lam": 10.0})):
        out = T.score_configuration(method, config, "synthetic", 0, 0, TINY)
        assert len(out["per_user"]) == int((inner.test_users.bincount(minlength=inner.n_users) > 0).sum())
    assert seen and all(sp is inner for sp in seen)


def test_a_grid_moved_off_an_edge_keeps_its_size_and_records_what_it_dropped(monkeypatch):
    monkeypatch.setitem(T.GRIDS, "nce", {"lr": (1e-3, 3e-3, 1e-2), "weight_decay": (0.0, 1.0)})
    monkeypatch.setitem(T.GRID_HISTORY, "nce", [{"from": {"lr": (3e-3, 1e-2, 3e-2)}, "to": {"lr": (1e-3, 3e-3, 1e-2)},
                                                 "why": "selected on the lower lr edge"}])
    assert T.moved_out("nce") == [{"lr": 3e-2, "weight_decay": 0.0}, {"lr": 3e-2, "weight_decay": 1.0}]
    assert T.earlier_grids("nce") == [{"lr": (3e-3, 1e-2, 3e-2), "weight_decay": (0.0, 1.0)}]
    assert T.moved_out("rg2/sgd") == []
    monkeypatch.setitem(T.GRID_HISTORY, "nce", [{"from": {"lr": (1.0,)}, "to": {"lr": (9.0,)}, "why": "wrong"}])
    with pytest.raises(ValueError, match="GRID_HISTORY"):
        T.moved_out("nce")


def test_raising_the_cap_rescores_only_the_runs_it_cut(small_grids, tmp_path, monkeypatch):
    """A run that stopped by patience is the same run under a larger cap (its per-user
    scores to the bit), so a sweep under a raised cap resumes it and re-scores only the runs
    the old cap cut."""
    short = replace(TINY, epochs=2, patience=1)
    cfg = {"lr": 1e-2, "weight_decay": 0.0}
    runs = {seed: T.score_configuration("softmax", cfg, "synthetic", 0, seed, short) for seed in (0, 1)}
    longer = replace(short, epochs=30)
    for seed, run in runs.items():
        again = T.score_configuration("softmax", cfg, "synthetic", 0, seed, longer)
        assert run["cap"] == 2 and again["cap"] == 30
        if not run["at_cap"]:                              # stopped by patience: nothing moves
            assert again["per_user"] == run["per_user"] and again["best_epoch"] == run["best_epoch"]
            assert T.reusable(run, 30)
        else:
            assert not T.reusable(run, 30)
        assert T.reusable(run, 2) and not T.reusable(run, 1)
    assert [r["at_cap"] for r in runs.values()] == [False, True]
    assert T.cut_by_cap(2, short) and not T.cut_by_cap(1, short)   # best 1: epoch 2 spends the patience

    out = tmp_path / "record.json"
    run_tuning(out, Engine(), ["softmax"], data_name="synthetic", cfg=short, progress=None)
    cut = {k for k, r in _stored(out).items() if r["at_cap"]}
    assert cut and len(cut) < 8                            # the sweep has runs of both kinds
    calls = []
    real = T.score_configuration
    monkeypatch.setattr(T, "score_configuration", lambda *a: (calls.append(a), real(*a))[1])
    run_tuning(out, Engine(), ["softmax"], data_name="synthetic", cfg=longer, progress=None)
    assert {f"{T.config_key(a[0], a[1])}|seed {a[4]}" for a in calls} == cut


def _stored(out) -> dict:
    from pathlib import Path

    runs = [json.loads(p.read_text()) for p in Path(f"{out}.resume").glob("*.json")]
    return {r["key"]: r["result"] for r in runs}
