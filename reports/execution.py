"""The execution layer: independent tasks, in this process or on Dask distributed.

This is the only module that knows the engine.  A :class:`Task` is a module-level
function and its arguments (a group of registry rows; later a training run of a sweep).
:class:`Engine` runs a list of them and reports each result as it arrives:

* ``Engine()`` (``--jobs 1``): in this process, in list order, no cluster -- the suite's
  behaviour before this layer, torch threads untouched;
* ``Engine(jobs=N)``: a ``LocalCluster`` of N single-threaded worker processes;
* ``Engine(scheduler="tcp://host:8786")``: any running Dask scheduler (``dask
  scheduler`` with ``dask worker`` by hand, dask-jobqueue, Kubernetes, ...).

Results never depend on the engine: a task derives everything random from its arguments
(the run seed and the row key), and the caller assembles results in its own order.  On a
worker each task sets torch's intra-op threads to the threads the worker was given, so N
workers on N cores do not oversubscribe (Dask's nanny already sets OMP/MKL/OpenBLAS to 1).

Failure: an exception inside a task is the task's business (the report records a crash
row).  A worker that dies while running a task is retried once (on a local cluster;
``distributed.scheduler.allowed-failures`` on a scheduler of your own); a second death,
or any other loss of the task, reaches ``on_lost`` -- never a result.  (Dask also counts
a death against a task that was only waiting on that worker; such a task is lost too,
which the report records as a crash and a rerun resumes.)  Ctrl-C (or any
exception) closes the client and the local cluster on the way out.

GPU: a task with ``gpu=True`` asks for the worker resource ``GPU=1``, so one such task
runs per GPU at a time.  A local cluster gives that resource to one worker per visible
GPU (pinned with ``CUDA_VISIBLE_DEVICES``; the other workers see no GPU); workers of your own declare it with
``dask worker ADDRESS --nthreads 1 --resources GPU=1``, one per GPU.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

GPU = "GPU"


@dataclass(frozen=True)
class Task:
    """``fn(*args)``: ``fn`` is importable by name on a worker (a module-level function)."""

    key: str
    fn: Callable[..., Any]
    args: tuple = ()
    gpu: bool = False
    priority: int = 0  # higher first: the long tasks, so that none is left alone at the end


def _on_worker(fn: Callable[..., Any], args: tuple) -> tuple[Any, float]:
    """Run ``fn(*args)`` on a Dask worker with torch limited to the worker's threads."""
    import torch
    from distributed import get_worker

    torch.set_num_threads(max(1, int(get_worker().state.nthreads)))
    t0 = time.perf_counter()
    return fn(*args), time.perf_counter() - t0


@dataclass
class Engine:
    """Where tasks run (module docstring).  Use as a context manager around :meth:`run`."""

    jobs: int = 1
    scheduler: str | None = None
    gpus: int | None = None  # local cluster: GPUs to hand out (default: torch.cuda.device_count())
    connect_timeout: float = 30.0  # seconds to reach a scheduler
    _client: Any = field(default=None, init=False, repr=False)
    _cluster: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.jobs, int) or self.jobs < 1:
            raise ValueError(f"jobs must be a positive integer, got {self.jobs!r}")
        if self.scheduler is not None and self.jobs != 1:
            raise ValueError("jobs and scheduler exclude each other: the scheduler's workers set the parallelism")
        if self.scheduler is not None and not str(self.scheduler).strip():
            raise ValueError("scheduler must be an address such as tcp://host:8786")

    @property
    def in_process(self) -> bool:
        return self.jobs == 1 and self.scheduler is None

    def describe(self) -> str:
        if self.in_process:
            return "in this process"
        if self.scheduler is not None:
            return f"on the Dask scheduler at {self.scheduler}"
        return f"on a local Dask cluster of {self.jobs} single-threaded worker processes"

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> "Engine":
        if self.in_process:
            return self
        import dask
        from distributed import Client, LocalCluster

        try:
            if self.scheduler is not None:
                try:
                    self._client = Client(self.scheduler, timeout=f"{self.connect_timeout}s")
                except (OSError, TimeoutError) as exc:
                    raise ValueError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from exc
            else:
                # a worker that dies running a task: one retry, then the task is lost (KilledWorker);
                # saturation 1: a worker is sent only what it can run now, so a long row never
                # holds a queued one while the other workers are idle
                # the nanny's default worker environment minus MALLOC_TRIM_THRESHOLD_=65536: with it
                # glibc returns the heap to the OS at every large free, and training's (B, n)
                # temporaries are page-faulted back every step (measured: an MF epoch 0.39-0.44 s
                # in a worker against 0.16-0.25 s without; issue 21)
                with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                                      "distributed.scheduler.worker-saturation": 1.0,
                                      "distributed.nanny.pre-spawn-environ": {
                                          "OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}}):
                    # no dashboard; the scheduler's plain HTTP routes on a free port, not 8787
                    self._cluster = LocalCluster(n_workers=0, threads_per_worker=1, processes=True,
                                                 dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                                 silence_logs=logging.ERROR)
                    self._cluster.worker_spec.update(self._local_workers())
                    self._cluster.sync(self._cluster._correct_state)
                self._client = Client(self._cluster)
                self._client.wait_for_workers(self.jobs, timeout=300)
        except BaseException:
            self.close()
            raise
        return self

    def _local_workers(self) -> dict[int, dict]:
        """One spec per worker; the first ``gpus`` workers each own one GPU."""
        gpus = self.gpus
        if gpus is None:
            import torch

            gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        base = self._cluster.new_spec
        specs = {}
        for i in range(self.jobs):
            options = dict(base["options"])
            if i < gpus:
                options["resources"] = {GPU: 1}
            if gpus:  # the others see none: a row that uses the GPU undeclared crashes, never shares one
                options["env"] = {**options.get("env", {}), "CUDA_VISIBLE_DEVICES": str(i) if i < gpus else ""}
            specs[i] = {"cls": base["cls"], "options": options}
        return specs

    def close(self) -> None:
        for obj in (self._client, self._cluster):
            if obj is not None:
                try:
                    obj.close()
                except Exception:  # noqa: BLE001 -- closing on the way out must not mask the cause
                    pass
        self._client = self._cluster = None

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    # -- what the engine offers ---------------------------------------------------------------
    def gpu_workers(self) -> int:
        """Workers that declare the GPU resource (in process: the visible GPUs)."""
        if self.in_process:
            import torch

            return torch.cuda.device_count() if torch.cuda.is_available() else 0
        workers = self._client.scheduler_info(n_workers=-1)["workers"].values()
        return sum(1 for w in workers if (w.get("resources") or {}).get(GPU, 0) >= 1)

    def run(self, tasks: Sequence[Task], on_done: Callable[[Task, Any, float], None],
            on_lost: Callable[[Task, BaseException], None]) -> None:
        """Run every task; ``on_done(task, result, seconds)`` as each finishes (any order
        on a cluster), ``on_lost(task, exc)`` for one the engine could not run."""
        tasks = list(tasks)
        if len({t.key for t in tasks}) != len(tasks):
            raise ValueError("task keys must be unique")
        if self.in_process:
            for t in tasks:
                t0 = time.perf_counter()
                result = t.fn(*t.args)
                on_done(t, result, time.perf_counter() - t0)
            return
        if self._client is None:
            raise RuntimeError("Engine.run on a cluster needs `with Engine(...) as engine:`")
        if any(t.gpu for t in tasks) and self.gpu_workers() == 0:
            raise ValueError("tasks need a GPU but no worker declares one: start one worker per GPU with "
                             "`dask worker ADDRESS --nthreads 1 --resources GPU=1`")
        self._run_on_cluster(tasks, on_done, on_lost)

    def _run_on_cluster(self, tasks: list[Task], on_done, on_lost) -> None:
        from distributed import as_completed

        # a run's own token in every key: two runs sharing one scheduler never share a result
        token = uuid.uuid4().hex[:12]
        by_future = {}
        for t in tasks:
            fut = self._client.submit(_on_worker, t.fn, t.args, key=f"softmax-audit-{token}-{t.key}", pure=False,
                                      retries=1, priority=t.priority,
                                      resources={GPU: 1} if t.gpu else None)
            by_future[fut] = t
        for fut in as_completed(list(by_future)):
            task = by_future.pop(fut)
            try:
                result, seconds = fut.result()
            except Exception as exc:  # noqa: BLE001 -- KilledWorker, a lost connection, ...
                on_lost(task, exc)
            else:
                on_done(task, result, seconds)
            finally:
                fut.release()


def run_tasks(tasks: Iterable[Task], *, jobs: int = 1, scheduler: str | None = None) -> dict[str, Any]:
    """Convenience: ``{task.key: result}``; a lost task raises ``RuntimeError``."""
    out: dict[str, Any] = {}

    def lost(task: Task, exc: BaseException) -> None:
        raise RuntimeError(f"task {task.key} was lost: {exc!r}") from exc

    with Engine(jobs=jobs, scheduler=scheduler) as engine:
        engine.run(list(tasks), lambda t, r, s: out.__setitem__(t.key, r), lost)
    return out
