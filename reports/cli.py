"""Command line: ``softmax-audit report | bench``.

    softmax-audit report [--profile quick|full] [--out DIR] [--device cpu|cuda|auto] [--seed N] [--only ID ...]
                         [--jobs N | --scheduler ADDRESS] [--fresh] [--no-pdf]
    softmax-audit tune [--jobs N | --scheduler ADDRESS] [--out PATH] [--methods NAME ...] [--data ml-100k|synthetic]
    softmax-audit experiment [--profile quick|full] [--jobs N | --scheduler ADDRESS] [--out PATH] [--fresh]
    softmax-audit audit-loss SPEC [--profile quick|full] [--out DIR] [--seed N] [--jobs N | --scheduler ADDRESS]
                             [--no-pdf] | --list
    softmax-audit recheck [results.json]
    softmax-audit table [results.json]
    softmax-audit data ml-100k [--cache DIR] [--wheel PATH] [--force]
    softmax-audit bench losses [--n 100000] [--batch 256] [--repeats 7]
    softmax-audit bench montecarlo [--n 100000] [--draws 100000] [--repeats 3] [--device cpu|cuda|auto]
    softmax-audit bench recsys [--d 64] [--batch 1024] [--repeats 3] [--device cpu|cuda|auto] [--only METHOD ...]
    softmax-audit bench report [--profile quick|full] [--jobs 2] [--only ID ...] [--goal SECONDS]

``report`` exits 0 when every check ran (whatever the verdicts), 1 when a check crashed,
2 on bad arguments, 130 when interrupted (finished rows are kept; the same command resumes).
Every bad argument, file or path (an unknown ``--only``, a negative ``--seed``, ``--device
cuda`` without a GPU, an ``--out`` that cannot be written or that another report is writing
into, a results.json that is missing or malformed, a corrupt data cache for ``tune``) exits
2 with one line on stderr, before anything is created.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


class UsageError(ValueError):
    """Bad input to the command line: ``main`` prints its one line and exits 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (the usage is one ``--help`` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _nonnegative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda requested but torch.cuda.is_available() is False (no GPU here; "
                         "use --device cpu or auto)")
    return choice


def _cores() -> int:
    """The cores this process may run on: the report's default number of workers."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:      # not on Linux
        return max(1, os.cpu_count() or 1)


def _report(args: argparse.Namespace) -> int:
    from audit import RunContext
    from .execution import Engine
    from .registry import all_claims, select
    from .report import write_report
    from .store import out_lock, writable_folder

    out = Path(args.out)
    try:
        select(all_claims(), args.only)     # an unknown --only: refused before anything is created
        jobs = args.jobs if args.jobs is not None else (1 if args.scheduler else _cores())
        engine = Engine(jobs=jobs, scheduler=args.scheduler)
        if args.device == "cuda" and engine.scheduler is None:
            _device(args.device)            # refused before a cluster starts
        writable_folder(out)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        # the folder's lock first: a report into a busy folder is refused before a cluster starts
        with out_lock(out), engine:
            device = _engine_device(args.device, engine)
            ctx = RunContext(profile=args.profile, seed=args.seed, device=device)
            if _runs_experiment(args.only):
                from numerics.exp.run import preflight

                preflight()     # a stale tuning record is refused before anything runs
            results, crashed = write_report(out, ctx, args.only, pdf=not args.no_pdf, engine=engine,
                                            resume=not args.fresh, lock=False)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished rows are kept in {out / '.resume'}; the same command resumes "
              f"(--fresh starts over)", file=sys.stderr)
        return 130
    counts: dict[str, int] = {}
    for row in results["claims"]:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    print("verdicts: " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())), file=sys.stderr)
    if crashed:
        print("error: at least one check crashed (see 'check crashed' in results.json)", file=sys.stderr)
        return 1
    return 0


def _runs_experiment(only: list[str] | None) -> bool:
    rows = ("EXP-1", "DYN-3", "CPX-2")
    return only is None or any(o.split("[")[0] in rows or any(r.startswith(o) for r in rows) for o in only)


def _results(path: str) -> dict:
    """The results.json at ``path``, its shape checked (``reports/recheck.shape_problems``);
    :class:`UsageError` naming the first problem."""
    import json

    from .recheck import shape_problems

    src = Path(path)
    try:
        results = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"results: cannot read {src}: {exc}") from None
    bad = shape_problems(results)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise UsageError(f"results: {src} is not a results.json: {bad[0]}{more}")
    return results


# what rendering a results.json whose values are not of the contract's types raises
_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def _table(args: argparse.Namespace) -> int:
    from .readme_table import markdown_table

    results = _results(args.results)
    try:
        table = markdown_table(results)
    except _SHAPE_ERRORS as exc:
        raise UsageError(f"results: {args.results}: {_one_line(exc)}") from None
    print(table, end="")
    return 0


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, ValueError) else f"a row of the wrong shape ({type(exc).__name__}: {exc})"
    return " ".join(text.split())[:300]


def _appendix(args: argparse.Namespace) -> int:
    from .report import write_documents
    from .store import out_lock

    results = _results(args.results)
    out = Path(args.out) if args.out else Path(args.results).parent
    try:
        with out_lock(out):
            write_documents(results, out, pdf=not args.no_pdf)
    except RuntimeError as exc:  # pdflatex failed: its log tail is in the message
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except _SHAPE_ERRORS as exc:  # FolderBusy and FolderUnusable are ValueErrors, and say so
        raise UsageError(_one_line(exc) if isinstance(exc, ValueError)
                         else f"results: {args.results}: {_one_line(exc)}") from None
    return 0


def _tune(args: argparse.Namespace) -> int:
    from numerics.recsys.tuning import GRIDS

    from .exp.tune import RECORD, run_tuning

    unknown = sorted(set(args.methods or ()) - set(GRIDS))
    if unknown:
        raise UsageError(f"--methods: no tuning grid for {', '.join(unknown)}; known: {', '.join(sorted(GRIDS))}")
    out = Path(args.out) if args.out else RECORD
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give the record's file path")
    return _record_job(out, args, lambda engine: run_tuning(out, engine, args.methods, data_name=args.data,
                                                             fresh=args.fresh), "configurations")


def _experiment(args: argparse.Namespace) -> int:
    from numerics.exp.record import RECORD

    from .exp.experiment import run_experiment

    out = Path(args.out) if args.out else RECORD
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give the record's file path")
    return _record_job(out, args, lambda engine: run_experiment(out, engine, args.profile, fresh=args.fresh), "runs")


def _record_job(out: Path, args: argparse.Namespace, job, kept: str) -> int:
    """A long, resumable job that writes a committed record at ``out`` (``tune``, ``experiment``)
    on the engine ``args`` name: the folder checked first (the record is written after hours of
    training), exit 2 on a bad input or missing data, 130 when interrupted."""
    from numerics.data import DataError

    from .execution import Engine
    from .store import writable_folder

    try:
        writable_folder(out.parent)
        with Engine(jobs=args.jobs, scheduler=args.scheduler) as engine:
            job(engine)
    except (ValueError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished {kept} are kept; the same command resumes", file=sys.stderr)
        return 130
    return 0


def _engine_device(choice: str, engine) -> str:
    """--device for the machines that run the checks: this one, or the scheduler's workers
    (``auto`` is cuda when some worker declares a GPU; ``cuda`` needs one)."""
    if engine.scheduler is None:
        return _device(choice)
    gpus = engine.gpu_workers()
    if choice == "cuda" and not gpus:
        raise ValueError("--device cuda: no worker of the scheduler declares a GPU; start one worker per GPU "
                         "with `dask worker ADDRESS --nthreads 1 --resources GPU=1`")
    return "cuda" if choice == "cuda" or (choice == "auto" and gpus) else "cpu"


def _bench(args: argparse.Namespace) -> int:
    if args.repeats is None:
        args.repeats = {"losses": 7, "montecarlo": 3, "recsys": 3, "report": 1}[args.what]
    args.batch_given = args.batch is not None
    if args.batch is None:
        args.batch = 256
    if args.what == "losses":
        from numerics.fy.bench_losses import main as bench_losses

        return bench_losses(n=args.n, batch=args.batch, repeats=args.repeats, device=_device(args.device))
    if args.what == "montecarlo":
        from numerics.apx.bench_montecarlo import main as bench_mc

        return bench_mc(n=args.n, draws=args.draws, repeats=args.repeats, device=_device(args.device))
    if args.what == "report":
        from .bench_report import main as bench_report

        return bench_report(profile=args.profile, jobs=args.jobs, only=args.only, goal=args.goal)
    if args.what == "recsys":
        from numerics.recsys.bench import main as bench_recsys

        return bench_recsys(d=args.d, batch=args.batch if args.batch_given else 1024, repeats=args.repeats,
                            device=_device(args.device), methods=args.only)
    raise SystemExit(f"error: unknown benchmark {args.what!r}")


def _data(args: argparse.Namespace) -> int:
    from numerics.data import DataError, fetch_ml100k, load_ml100k

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    try:
        path = fetch_ml100k(args.cache, wheel=args.wheel, force=args.force, log=log)
        data = load_ml100k(path)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: {len(data.users)} interactions, {data.n_users} users, {data.n_items} items")
    return 0


def _audit_loss(args: argparse.Namespace) -> int:
    from audit import RunContext
    from audit.separable import available, resolve

    from .user.audit_loss import write_audit
    from .store import out_lock, writable_folder

    if args.list:
        for name, target in available().items():
            print(f"{name:<16} {target}")
        return 0
    if not args.spec:
        raise UsageError("audit-loss needs a SPEC (package.module:attribute or a registered name; --list shows them)")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))   # a module of the user's beside them resolves, as under python -m
    try:
        loss = resolve(args.spec)
        out = Path(args.out) if args.out else Path("reports/out-audit") / loss.name
        writable_folder(out)
        from .execution import Engine

        with out_lock(out), Engine(jobs=args.jobs, scheduler=args.scheduler) as engine:   # refused before a cluster
            results, crashed = write_audit(out, args.spec, RunContext(profile=args.profile, seed=args.seed),
                                           pdf=not args.no_pdf, engine=engine, lock=False)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("verdicts: " + ", ".join(f"{r['id']}[{r['reading']}] {r['verdict']}" for r in results["claims"]),
          file=sys.stderr)
    return 1 if crashed else 0


def _recheck(args: argparse.Namespace) -> int:
    from .recheck import main as recheck

    return recheck(["recheck", args.results])


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="softmax-audit", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("report", help="run every registered check; write results.json, appendix.tex, appendix.pdf")
    r.add_argument("--profile", choices=("quick", "full"), default="quick",
                   help="check budgets: quick (the experiment on 5 splits) or full (deeper searches; the "
                        "experiment on 10 splits)")
    r.add_argument("--out", default="reports/out", help="output directory (default: reports/out)")
    r.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto", help="torch device for Monte Carlo work")
    r.add_argument("--seed", type=_nonnegative, default=0, help="seed of every random stream (default 0)")
    r.add_argument("--only", nargs="+", metavar="ID", help="claim ids (FY-3), prefixes (FY) or ID[reading]")
    r.add_argument("--no-pdf", action="store_true", help="skip pdflatex")
    r.add_argument("--jobs", type=_positive, default=None, metavar="N",
                   help="run rows on a local Dask cluster of N single-threaded worker processes (default: one per "
                        f"core, {_cores()} here; 1: in this process, no cluster)")
    r.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run rows on a running Dask scheduler, e.g. tcp://host:8786 (see the README)")
    r.add_argument("--fresh", action="store_true",
                   help="discard the finished rows kept in OUT/.resume instead of resuming from them")
    r.set_defaults(func=_report)

    t = sub.add_parser("tune", help="the experiment's equal-budget tuning sweep; writes the tuning record")
    t.add_argument("--out", default=None, help="record path (default numerics/recsys/tuning-ml-100k.json)")
    t.add_argument("--methods", nargs="+", metavar="NAME", help="methods to tune (default: every method with a grid)")
    t.add_argument("--data", choices=("ml-100k", "synthetic"), default="ml-100k",
                   help="ml-100k (default) or a small synthetic set (smoke runs)")
    t.add_argument("--jobs", type=_positive, default=1, metavar="N", help="local Dask workers (default 1: in process)")
    t.add_argument("--scheduler", metavar="ADDRESS", default=None, help="a running Dask scheduler")
    t.add_argument("--fresh", action="store_true", help="discard the finished configurations kept beside the record")
    t.set_defaults(func=_tune)

    e = sub.add_parser("experiment", help="compute every final run of the experiment's design; writes the "
                                          "final-runs record the report reads")
    e.add_argument("--profile", choices=("quick", "full"), default="quick",
                   help="the design: quick (5 splits, default) or full (10 splits)")
    e.add_argument("--out", default=None, help="record path (default numerics/recsys/final-ml-100k.json)")
    e.add_argument("--jobs", type=_positive, default=1, metavar="N", help="local Dask workers (default 1: in process)")
    e.add_argument("--scheduler", metavar="ADDRESS", default=None, help="a running Dask scheduler")
    e.add_argument("--fresh", action="store_true", help="discard the finished runs kept beside the record")
    e.set_defaults(func=_experiment)

    u = sub.add_parser("audit-loss", help="decide the paper's claims for your own separable loss (a SeparableLoss "
                                          "named package.module:attribute or registered in softmax_audit.losses)")
    u.add_argument("spec", nargs="?", default=None, help="package.module:attribute, or a registered loss name")
    u.add_argument("--list", action="store_true", help="list the registered losses and exit")
    u.add_argument("--profile", choices=("quick", "full"), default="quick", help="check budgets (default quick)")
    u.add_argument("--out", default=None, help="output directory (default: reports/out-audit/NAME)")
    u.add_argument("--seed", type=_nonnegative, default=0, help="seed of every random stream (default 0)")
    u.add_argument("--no-pdf", action="store_true", help="skip pdflatex")
    u.add_argument("--jobs", type=_positive, default=1, metavar="N",
                   help="rows on a local Dask cluster of N workers, each resolving SPEC itself (default 1: in process)")
    u.add_argument("--scheduler", metavar="ADDRESS", default=None, help="rows on a running Dask scheduler")
    u.set_defaults(func=_audit_loss)

    c = sub.add_parser("recheck", help="re-check every stored counterexample from results.json alone (numpy only)")
    c.add_argument("results", nargs="?", default="reports/out/results.json", help="path to results.json")
    c.set_defaults(func=_recheck)

    a = sub.add_parser("appendix", help="re-render appendix and evidence records (.tex, .pdf) from a results.json")
    a.add_argument("results", nargs="?", default="reports/out/results.json", help="path to results.json")
    a.add_argument("--out", default=None, help="output directory (default: the results.json's directory)")
    a.add_argument("--no-pdf", action="store_true", help="skip pdflatex")
    a.set_defaults(func=_appendix)

    tb = sub.add_parser("table", help="the README's recommendation-experiment table (Markdown) from results.json")
    tb.add_argument("results", nargs="?", default="reports/out/results.json", help="path to results.json")
    tb.set_defaults(func=_table)

    d = sub.add_parser("data", help="fetch a data set through pip, verify its checksum, cache it")
    d.add_argument("name", choices=("ml-100k",), help="ml-100k: MovieLens-100K from the RecBole 1.2.1 wheel")
    d.add_argument("--cache", type=Path, default=None,
                   help="cache directory (default: $SOFTMAX_AUDIT_CACHE or ~/.cache/softmax-audit)")
    d.add_argument("--wheel", type=Path, default=None, help="a RecBole 1.2.1 wheel already on disk (offline use)")
    d.add_argument("--force", action="store_true", help="replace a cached file that fails its checksum")
    d.set_defaults(func=_data)

    b = sub.add_parser("bench", help="speed benchmarks, ratios measured side by side in one run")
    b.add_argument("what", choices=("losses", "montecarlo", "recsys", "report"),
                   help="losses: sparsemax / 1.5-entmax vs cross-entropy and the entmax package; "
                        "montecarlo: APX Monte Carlo throughput and its growth with the sample count; "
                        "recsys: every MF method's seconds per epoch, ours vs a plain PyTorch reference; "
                        "report: the report's wall time at --jobs 1 and --jobs N, and byte agreement")
    b.add_argument("--n", type=int, default=100_000, help="number of classes (default 100000)")
    b.add_argument("--batch", type=int, default=None,
                   help="batch size (default 256; recsys: interactions per batch of the naive loop, default 1024)")
    b.add_argument("--d", type=int, default=64, help="recsys: factor dimension (default 64)")
    b.add_argument("--draws", type=int, default=100_000, help="montecarlo: estimator draws per configuration (default 100000)")
    b.add_argument("--repeats", type=int, default=None,
                   help="timed repetitions; the median is reported (default 7 for losses, 3 for montecarlo, "
                        "3 for recsys)")
    b.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    b.add_argument("--jobs", type=_positive, default=2, help="report: workers of the local cluster (default 2)")
    b.add_argument("--profile", choices=("quick", "full"), default="quick", help="report: profile (default quick)")
    b.add_argument("--only", nargs="+", metavar="ID", help="report: rows to run (default every row); recsys: "
                                                           "methods to time (default every trained method)")
    b.add_argument("--goal", type=float, default=None, help="report: a wall-time goal in seconds for --jobs N, printed "
                                                            "as met or missed")
    b.set_defaults(func=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
