"""The execution layer (reports/execution.py) and resumable reports (reports/store.py):
identical bytes for any number of workers, resume after an interruption, a dead worker
retried once and then reported as a crash, GPU tasks only on GPU workers, threads."""
import json
import os

import pytest

from audit import RunContext
from exec_helpers import die, die_once, square, worker_view
from reports import report, runner
from reports.execution import Engine, Task, run_tasks
from reports.store import RESUME_DIR, ResultStore, atomic_write_text, row_store

# one pytest-xdist worker for the whole module: its module-scoped fixtures are computed once
pytestmark = pytest.mark.xdist_group("dask-cluster")

# cheap rows: two share a loss's derivations (one task), one is refuted with a counterexample
ONLY = ["FY-3[softmax]", "FY-4[softmax]", "FY-4[entmax[alpha>2]]", "CON-3[sparsemax/O1]"]


@pytest.fixture(scope="module")
def cluster():
    """One 2-worker LocalCluster for the tests that need workers.  Resources are plain
    labels to Dask, so on a CPU machine the GPU plumbing is tested with a cluster told it
    has one GPU: worker 0 owns it, pinned with CUDA_VISIBLE_DEVICES=0."""
    with Engine(jobs=2, gpus=1) as engine:
        yield engine


def _bytes(out):
    return (out / "results.json").read_bytes(), (out / "appendix.tex").read_bytes()


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("jobs1")
    report.write_report(out, RunContext(seed=5), ONLY, pdf=False)
    return out


def test_a_local_cluster_and_a_scheduler_give_the_bytes_of_an_in_process_run(in_process, cluster, tmp_path):
    a = tmp_path / "jobs2"
    report.write_report(a, RunContext(seed=5), ONLY, pdf=False, engine=cluster)
    scheduler = cluster._cluster.scheduler_address
    b = tmp_path / "scheduler"
    with Engine(scheduler=scheduler) as engine:
        report.write_report(b, RunContext(seed=5), ONLY, pdf=False, engine=engine)
    assert _bytes(a) == _bytes(in_process)
    assert _bytes(b) == _bytes(in_process)
    assert json.loads(_bytes(a)[0])["claims"][2]["verdict"] == "refuted"


def test_an_interrupted_run_resumes_to_the_bytes_of_an_uninterrupted_one(in_process, tmp_path, monkeypatch):
    out = tmp_path / "interrupted"
    calls = []
    real = runner.run_claim

    def interrupted_at_the_third(claim, ctx, **kw):
        calls.append(claim.key)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of a row
        return real(claim, ctx, **kw)

    monkeypatch.setattr(runner, "run_claim", interrupted_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        report.write_report(out, RunContext(seed=5), ONLY, pdf=False)
    assert not (out / "results.json").exists()
    assert len(list((out / RESUME_DIR).glob("*.json"))) == 2          # the two finished rows, nothing else
    assert not list(out.rglob("*.tmp"))
    first = list(calls[:2])
    calls.clear()
    monkeypatch.setattr(runner, "run_claim", lambda claim, ctx, **kw: (calls.append(claim.key), real(claim, ctx, **kw))[1])
    report.write_report(out, RunContext(seed=5), ONLY, pdf=False)
    assert sorted(calls) == sorted(set(ONLY) - set(first))            # only the rows that had not finished
    assert _bytes(out) == _bytes(in_process)
    calls.clear()
    report.write_report(out, RunContext(seed=5), ONLY, pdf=False, resume=False)  # --fresh: every row again
    assert sorted(calls) == sorted(ONLY) and _bytes(out) == _bytes(in_process)


def test_stored_rows_are_keyed_by_what_they_depend_on(tmp_path):
    ctx = RunContext(seed=1)
    base = row_store(tmp_path, ctx, planted=True, version="v1")
    base.put("FY-3[softmax]", {"verdict": "verified"})
    assert base.get("FY-3[softmax]") == {"verdict": "verified"}
    for other in (row_store(tmp_path, RunContext(seed=2), True, "v1"),
                  row_store(tmp_path, RunContext(seed=1, profile="full"), True, "v1"),
                  row_store(tmp_path, RunContext(seed=1, device="cuda"), True, "v1"),
                  row_store(tmp_path, ctx, planted=False, version="v1"),
                  row_store(tmp_path, ctx, planted=True, version="v2")):
        assert other.get("FY-3[softmax]") is None
    base.path("FY-3[softmax]").write_text("{truncated")                 # unreadable: run it again
    assert base.get("FY-3[softmax]") is None
    old, other_seed = row_store(tmp_path, ctx, True, "v0"), row_store(tmp_path, RunContext(seed=2), True, "v1")
    old.put("FY-3[softmax]", {"verdict": "verified"})
    other_seed.put("FY-3[softmax]", {"verdict": "verified"})
    assert base.prune() == 2                                            # the old version's row and the unreadable file
    assert other_seed.get("FY-3[softmax]") == {"verdict": "verified"} and old.get("FY-3[softmax]") is None
    assert ResultStore(tmp_path / "s", {"a": 1}, "v").path("k") != ResultStore(tmp_path / "s", {"a": 2}, "v").path("k")


def test_a_crashed_row_is_not_kept(tmp_path, monkeypatch):
    from reports.claim import Check, Claim

    def boom(ctx):
        raise RuntimeError("deliberate")

    monkeypatch.setattr(report, "all_claims", lambda: [Claim("FY-0", "test", "a crashing check", (Check("boom", "numeric", boom),))])
    _, crashed = report.write_report(tmp_path, RunContext(), pdf=False)
    assert crashed and not list((tmp_path / RESUME_DIR).glob("*.json"))


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "results.json"
    atomic_write_text(path, "old")

    class Unwritable(str):
        def encode(self, *a):
            raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write_text(path, Unwritable("new"))
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_no_pdf_removes_the_previous_runs_pdf(tmp_path):
    (tmp_path / "appendix.pdf").write_bytes(b"%PDF- of an earlier run")
    report.write_report(tmp_path, RunContext(), ["FY-3[softmax]"], pdf=False)
    assert not (tmp_path / "appendix.pdf").exists()


def test_a_lost_task_is_a_crash_never_a_verdict(monkeypatch):
    class LosingEngine(Engine):
        def run(self, tasks, on_done, on_lost):
            for t in tasks:
                on_lost(t, RuntimeError("worker died twice"))

    from reports.registry import all_claims, select

    claims = select(all_claims(), ["FY-3[softmax]", "FY-3[entmax]"])
    rows, crashed = runner.run_all(claims, RunContext(), progress=None, engine=LosingEngine())
    assert crashed
    for row in rows:
        assert row["verdict"] == "crashed" and "task lost" in row["crash"][0]
        assert all(e["outcome"] == "undecided" and "task lost" in e["detail"] for e in row["evidence"])


def test_tasks_run_on_a_cluster_and_report_each_result(cluster):
    assert run_tasks([Task(f"sq{i}", square, (i,)) for i in range(5)]) == {f"sq{i}": i * i for i in range(5)}
    got = {}
    cluster.run([Task(f"sq{i}", square, (i,)) for i in range(5)], lambda t, r, s: got.__setitem__(t.key, r),
                lambda t, e: pytest.fail(f"lost {t.key}: {e!r}"))
    assert got == {f"sq{i}": i * i for i in range(5)}


def test_a_worker_task_uses_the_threads_of_its_worker(cluster):
    got = []
    cluster.run([Task("view", worker_view)], lambda t, r, s: got.append(r), lambda t, e: pytest.fail(repr(e)))
    assert got[0][0] == 1


def test_a_dead_worker_is_retried_once_then_the_task_is_lost(cluster, tmp_path):
    # one at a time: Dask also suspects a task that merely waited on the worker that died
    done, lost = {}, {}
    for task in (Task("once", die_once, (str(tmp_path / "marker"),)), Task("always", die)):
        cluster.run([task], lambda t, r, s: done.__setitem__(t.key, r), lambda t, e: lost.__setitem__(t.key, e))
    assert done == {"once": "survived"}
    assert set(lost) == {"always"} and "KilledWorker" in type(lost["always"]).__name__
    got = []                                                             # the cluster still works afterwards
    cluster.run([Task("sq", square, (3,))], lambda t, r, s: got.append(r), lambda t, e: pytest.fail(repr(e)))
    assert got == [9]


def test_gpu_tasks_go_to_the_worker_that_owns_a_gpu(cluster, monkeypatch):
    assert cluster.gpu_workers() == 1
    seen = []
    cluster.run([Task(f"g{i}", worker_view, gpu=True) for i in range(4)] + [Task("cpu", worker_view)],
                lambda t, r, s: seen.append((t.key, r[1])), lambda t, e: pytest.fail(repr(e)))
    assert sorted(v for k, v in seen if k != "cpu") == ["0"] * 4       # CUDA_VISIBLE_DEVICES of worker 0
    assert dict(seen)["cpu"] in ("0", "")                              # the other worker sees no GPU
    monkeypatch.setattr(Engine, "gpu_workers", lambda self: 0)         # a cluster without one: refused, not hung
    with pytest.raises(ValueError, match="no worker declares"):
        cluster.run([Task("g", worker_view, gpu=True)], lambda *a: None, lambda *a: None)


def test_a_cuda_run_asks_a_gpu_only_for_rows_that_compute_on_the_device():
    from reports.registry import all_claims, select

    claims = select(all_claims(), ["FY-3", "APX-2", "EXP-1"])
    for device, want in (("cpu", set()), ("cuda", {"row:APX-2[ssm/popularity@n=100000]", "row:APX-2[ssm/uniform@n=100000]",
                                                   "experiment"})):
        tasks = runner.plan(claims, RunContext(device=device), True, by_reference=False)
        assert {t.key for t, _ in tasks if t.gpu} == want
    # the groups of rows that share a cache come first (the longest work), the experiment's among them
    groups = [t.key for t, m in tasks if len(m) > 1]
    assert [t.key for t, _ in tasks[:len(groups)]] == groups and "experiment" in groups
    first, members = next((t, m) for t, m in tasks if t.key == "experiment")
    assert len(members) == 12 and first.args[0] == tuple(c.key for c in members)


def test_ctrl_c_closes_the_local_cluster():
    import psutil

    engine = Engine(jobs=2)
    with pytest.raises(KeyboardInterrupt):
        with engine:
            workers = [psutil.Process(pid) for pid in engine._client.run(os.getpid).values()]
            assert len(workers) == 2

            def interrupt(task, result, seconds):
                raise KeyboardInterrupt

            engine.run([Task("sq", square, (2,))], interrupt, lambda t, e: None)
    assert engine._client is None and engine._cluster is None
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive


def test_bad_engine_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="jobs"):
        Engine(jobs=0)
    with pytest.raises(ValueError, match="exclude"):
        Engine(jobs=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler"):
        with Engine(scheduler="tcp://127.0.0.1:9", connect_timeout=2):
            pass
    with pytest.raises(ValueError, match="unique"):
        Engine().run([Task("a", square, (1,)), Task("a", square, (2,))], lambda *a: None, lambda *a: None)


def test_cli_refuses_bad_engine_options(cluster, monkeypatch, capsys):
    from reports import cli

    with pytest.raises(SystemExit) as info:
        cli.main(["report", "--jobs", "0"])
    assert info.value.code == 2
    assert cli.main(["report", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    monkeypatch.setattr(Engine, "gpu_workers", lambda self: 0)
    address = cluster._cluster.scheduler_address
    assert cli.main(["report", "--scheduler", address, "--device", "cuda", "--only", "FY-3[softmax]"]) == 2
    assert "no worker of the scheduler declares a GPU" in capsys.readouterr().err
