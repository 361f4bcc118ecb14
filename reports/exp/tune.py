"""``softmax-audit tune``: the experiment's equal-budget tuning sweep as tasks of the
execution layer (reports/execution.py), one task per (method, configuration, tuning seed),
resumable.

Finished configurations are kept (atomically) under ``<record>.resume/``, keyed by the
task, the data, the split, the seed, the training settings and the version of the scoring
code (``provenance.scoring_version``, not the whole tree): a sweep that is killed resumes,
and a grid moved off an edge scores only its new points.  The record (numerics/recsys/tuning.py, :func:`build_record`) is
written atomically once every configuration has a score, with its per-user validation
scores beside it (``<record>.valid.npy``, its sha256 in the record).
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from numerics.recsys import tuning as T
from numerics.recsys.final import RECORD
from numerics.recsys.train import Config

from ..execution import Engine, Task
from ..provenance import code_version, scoring_version
from ..store import ResultStore, atomic_write_bytes, atomic_write_text



def _data_sha(data_name: str) -> str:
    from numerics import data as D

    return D.sha256(D.fetch_ml100k(log=lambda m: print(m, file=sys.stderr))) if data_name == "ml-100k" else "synthetic"


def run_tuning(out: Path, engine: Engine, methods: list[str] | None = None, *, data_name: str = "ml-100k",
               split_seed: int = 0, cfg=None, fresh: bool = False, progress=sys.stderr) -> dict[str, Any]:
    """Score every configuration of every method in ``methods`` (default: all with a grid) at
    every tuning seed and write the record to ``out``; returns it."""
    methods = sorted(methods or T.GRIDS)
    seeds = list(T.TUNING_SEEDS)
    data_sha = _data_sha(data_name)
    # keyed by the scoring code, not the whole tree: a moved grid reuses what is scored
    # the cap is not part of the identity: T.reusable decides which runs a new cap leaves as they were
    uncapped = repr(replace(cfg, epochs=0)) if cfg is not None else repr(cfg)
    store = ResultStore(Path(f"{out}.resume"), {"data": data_sha, "split": split_seed, "cfg": uncapped},
                        scoring_version())
    if fresh:
        store.clear()
    store.prune()
    tasks, scores = [], {m: {} for m in methods}
    for method in methods:
        for config in T.configurations(method) + T.moved_out(method):
            for seed in seeds:
                key = f"{T.config_key(method, config)}|seed {seed}"
                if (done := store.get(key)) is not None and T.reusable(done, (cfg or Config()).epochs):
                    scores[method][key] = done
                else:
                    tasks.append(Task(key, T.score_configuration, (method, config, data_name, split_seed, seed, cfg)))
    total, t0 = sum(len(T.configurations(m)) + len(T.moved_out(m)) for m in methods) * len(seeds), time.perf_counter()
    finished = total - len(tasks)
    if progress is not None:
        print(f"tune: {total} run(s) ({len(seeds)} seeds) of {len(methods)} method(s), {finished} resumed, "
              f"{len(tasks)} to run {engine.describe()}", file=progress, flush=True)

    def done(task: Task, result: dict, seconds: float) -> None:
        nonlocal finished
        method = task.args[0]
        store.put(task.key, result)
        scores[method][task.key] = result
        finished += 1
        if progress is not None:
            flag = "  cut by the epoch cap" if result.get("at_cap") else ""
            print(f"[{finished:>4}/{total}] {task.key:<66} valid ndcg@20 {result['valid_ndcg@20']:.4f} "
                  f"{seconds:6.1f}s{flag}", file=progress, flush=True)

    def lost(task: Task, exc: BaseException) -> None:
        raise RuntimeError(f"tuning task {task.key} was lost by the engine: {exc!r}; rerun to resume") from exc

    engine.run(tasks, done, lost)

    def runs(m: str, c: dict) -> list[dict]:
        return [scores[m][f"{T.config_key(m, c)}|seed {s}"] for s in seeds]

    ordered = {m: [runs(m, c) for c in T.configurations(m)] for m in methods}
    before = {m: [runs(m, c) for c in T.moved_out(m)] for m in methods}
    record, array = T.build_record(ordered, data_sha256=data_sha, code_version=code_version(),
                                   tuning_split=split_seed, tuning_seeds=seeds, splits=list(range(10)),
                                   before_move=before)
    atomic_write_bytes(T.per_user_path(Path(out)), T.per_user_bytes(array))
    atomic_write_text(Path(out), json.dumps(record, indent=1, sort_keys=True) + "\n")
    if progress is not None:
        print(f"wrote {out} and {T.per_user_path(Path(out)).name} in {time.perf_counter() - t0:.0f} s", file=progress)
        _print_sets(out, record, progress)
    return record


def _print_sets(out: Path, record: dict[str, Any], progress) -> None:
    """Each method's selection and plausible set (issue 21 §3), and the flags a reader checks."""
    from numerics.recsys.final import plausible_set

    for m, entry in record["methods"].items():
        edge = f"  ON THE EDGE of {', '.join(entry['selected_on_edge'])}" if entry["selected_on_edge"] else ""
        print(f"  {m:<16} selected {json.dumps(entry['selected'], sort_keys=True)}{edge}", file=progress)
        for c in plausible_set(record, m, Path(out)):
            cap = "  CUT BY THE EPOCH CAP" if c["at_cap"] else ""
            print(f"      plausible {json.dumps(c['config'], sort_keys=True):<40} valid ndcg@20 "
                  f"{c['valid_ndcg@20']:.4f}  epochs {c['epochs']}{cap}", file=progress)
