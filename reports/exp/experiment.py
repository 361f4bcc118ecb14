"""``softmax-audit experiment``: every final run of a profile's design computed through the
execution layer (one task per run) and written as the committed final-runs record
(``numerics/exp/record.py``), which the report then reads instead of retraining.

Finished runs are kept (atomically) under ``<record>.resume/``, keyed by the run and the
record's identity (scoring code, final-run code, tuning record, data): a killed run resumes,
and a larger design (``--profile full`` after ``quick``) computes only the runs it adds.
Before the record is replaced, every run the old one shares with the new is compared bit for
bit and the count printed: a record that does not reproduce is visible, never silently
overwritten.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from numerics.exp import record as R

from ..execution import Engine, Task
from ..provenance import scoring_version
from ..store import ResultStore, atomic_write_text


def run_experiment(out: Path, engine: Engine, profile: str = "quick", *, fresh: bool = False,
                   progress=sys.stderr) -> dict[str, Any]:
    """Compute every final run of ``profile``'s design (seed 0, CPU) and write the record to
    ``out``; returns it."""
    from numerics import data as D
    from numerics.exp import run as X
    from numerics.recsys.final import RECORD as TUNING

    ident = R.identity(TUNING, D.sha256(D.fetch_ml100k(log=lambda m: print(m, file=progress))))
    work = X.design_work(profile, 0, "cpu")
    store = ResultStore(Path(f"{out}.resume"), {"identity": ident}, scoring_version())
    if fresh:
        store.clear()
    store.prune()
    runs = {key: got for key, _, _ in work if (got := store.get(key)) is not None}
    tasks = [Task(key, fn, args) for key, fn, args in work if key not in runs]
    t0 = time.perf_counter()
    if progress is not None:
        print(f"experiment: {len(work)} final runs ({profile} design), {len(runs)} resumed, {len(tasks)} to run "
              f"{engine.describe()}", file=progress, flush=True)

    def done(task: Task, result: dict, seconds: float) -> None:
        store.put(task.key, result)
        runs[task.key] = result
        if progress is not None:
            print(f"[{len(runs):>4}/{len(work)}] {task.key:<70} ndcg@20 {result['means']['ndcg@20']:.4f} "
                  f"{seconds:6.1f}s", file=progress, flush=True)

    def lost(task: Task, exc: BaseException) -> None:
        raise RuntimeError(f"final run {task.key} was lost by the engine: {exc!r}; rerun to resume") from exc

    engine.run(tasks, done, lost)
    old = R.load(out) if Path(out).exists() else None
    if old is not None and progress is not None:
        shared = [k for k in runs if k in old["runs"]]
        equal = sum(R.same(runs[k], old["runs"][k]) for k in shared)
        print(f"the previous record holds {len(shared)} of these runs: {equal} equal bit for bit, "
              f"{len(shared) - equal} differ", file=progress)
    profiles = [profile]
    if old is not None and old["identity"] == ident:     # a smaller design never drops a larger one's runs
        runs = old["runs"] | runs
        profiles = sorted(set(old.get("design", {}).get("profiles", [])) | {profile})
    tuning = X.checked_record()
    record = R.build(runs, ident, {"profiles": profiles,
                                   "splits": max((X.design(tuning, p, 0) for p in profiles), key=len)})
    atomic_write_text(Path(out), json.dumps(record, indent=1, sort_keys=True) + "\n")
    if progress is not None:
        print(f"wrote {out} ({len(runs)} runs) in {time.perf_counter() - t0:.0f} s", file=progress)
    return record
