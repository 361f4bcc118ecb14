"""Task functions for tests/test_execution.py: importable by name on a Dask worker (a
spawned worker inherits this process's sys.path, tests/ included)."""
import os
from pathlib import Path


def square(x):
    return x * x


def worker_view():
    """What a task sees on its worker: torch's threads and the GPU it was pinned to."""
    import torch

    return torch.get_num_threads(), os.environ.get("CUDA_VISIBLE_DEVICES")


def die():
    """The worker process dies under the task (no exception to catch)."""
    os._exit(17)


def die_once(marker: str):
    """Dies the first time (leaving ``marker``), returns on the retry."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died once")
        os._exit(17)
    return "survived"


_PREPARED: set[tuple] = set()


def prepare_on_every_core(claim, ctx) -> None:
    """Run a claim's prepared work (``Claim.prepare``: the experiment's final runs) as the
    report runs it, on a local Dask cluster of one worker per core, and hand it to the rows
    (``Claim.prime``), once per pytest worker and context.  In place, the runs would hold one
    core for most of the suite while the other pytest worker finishes early; results do not
    depend on where a run ran (tests/test_execution.py)."""
    if claim.prepare is None:
        return
    key = (claim.shares, ctx.profile, ctx.seed, ctx.device)
    if key in _PREPARED:
        return
    from reports.execution import Task, run_tasks

    units = claim.prepare(ctx)
    outputs = run_tasks([Task(k, fn, args) for k, fn, args in units], jobs=max(1, os.cpu_count() or 1))
    claim.prime(ctx, outputs)
    _PREPARED.add(key)
