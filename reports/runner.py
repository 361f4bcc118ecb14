"""Run registered checks and their planted defects; assemble results.json rows.

The runner enforces the rules that keep a defect of the suite from being printed as a
finding about the paper:

* a check that raises -- :class:`audit.SuiteDefect` (two of our own routes disagree) or
  any other exception -- is a crash (:class:`CheckCrashed`; the CLI exits 1), recorded as
  ``undecided``, never as a verdict;
* a ``fails`` must carry a counterexample, and that counterexample must re-check from
  its stored JSON alone with reports/recheck.py (numpy only, outside the suite); a
  stored witness (``figures.sop_witness``) likewise.  Otherwise it is a crash.

Planted defects (reports/claim.py) run after the row's real checks; each must turn its
check (``fails``, ``undecided``, or a :class:`~audit.SuiteDefect` raised on the wrong
input).  Results computed under a planted defect never survive it: the functools caches
of ``losses/`` and ``numerics/`` are cleared after each planted run, and those of
``proofs/`` too after (and before) a patched one, so that it computes under its patch;
caches marked ``keep_across_planted`` are kept (keyed by everything they read; no
planted defect patches what they read).
"""
from __future__ import annotations

import json
import sys
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence, TextIO

from audit import Evidence, RunContext, SuiteDefect, markup
from audit.evidence import PLOT_KEYS, as_stored
from audit.falsealarm import share

from .claim import Check, Claim, verdict
from .execution import Engine, Task
from .recheck import WITNESS_KEY, recheck_one, recheck_witness

# a planted run may leave results computed under its wrong input in these packages' caches;
# proofs/ is sympy over its arguments, reached only by patched (not by run=) planted defects
_PATCHABLE = ("losses", "numerics")
_ALL_OURS = ("losses", "numerics", "proofs")


class CheckCrashed(RuntimeError):
    """A check raised or broke a rule of the runner: a defect of the suite, not a finding
    about the paper."""


@dataclass(frozen=True)
class PlantedResult:
    """What a check gave on one planted defect or planted truth.  ``outcome``: holds, fails
    (its counterexample re-checked against the row's constants, as a real one is), undecided,
    crash (the check raised :class:`SuiteDefect`, or its ``fails`` carried no counterexample
    or one that does not re-check: what the real run turns into a crash, never a ``fails``),
    or error (the planted input itself is broken)."""

    defect: str
    outcome: str
    detail: str = ""
    truth: bool = False
    resolution: bool = False

    @property
    def turned(self) -> bool:
        """A planted defect turned its check: it did not hold (and did not break)."""
        return not self.truth and self.outcome in ("fails", "undecided", "crash")

    @property
    def held(self) -> bool:
        """A planted truth made its check hold."""
        return self.truth and self.outcome == "holds"

    @property
    def shown(self) -> bool:
        return self.held if self.truth else self.turned

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"defect": self.defect, "outcome": self.outcome,
                               "role": "truth" if self.truth else "defect"}
        if self.resolution:
            out["resolution"] = True
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "PlantedResult":
        return cls(str(d.get("defect", "")), str(d.get("outcome", "")), truth=d.get("role") == "truth",
                   resolution=bool(d.get("resolution")))


def check_context(claim: Claim, check: Check, ctx: RunContext) -> RunContext:
    """The context a check runs in: a statistical check gets its share of the budget."""
    return replace(ctx, alpha=share(claim.id, claim.reading, check.name)) if check.statistical else ctx


def _stored(x: Any) -> Any:
    """As results.json stores it."""
    return json.loads(json.dumps(as_stored(x)))


#: the summary of a crashed check (its traceback is the detail, printed in evidence.pdf)
CRASHED = "the check crashed: a defect of the suite, never a verdict"


def text_problems(ev: Evidence) -> list[str]:
    """Where ``ev``'s text breaks the marked-text rule (audit/markup.py), or a figure has no
    label, or the summary is missing.  (A summary longer than one line of the front table
    only costs room: tests/test_claims.py holds it to ``markup.SUMMARY_CHARS``.)"""
    found = []
    texts = [("summary", ev.summary), ("detail", ev.detail), ("scope_gap", ev.scope_gap)]
    texts += [(f"assumptions[{i}]", a) for i, a in enumerate(ev.assumptions)]
    texts += [(f"steps[{i}]", s) for i, s in enumerate(ev.steps)]
    labels = dict(ev.labels or {})
    texts += [(f"labels[{k}]", v) for k, v in labels.items()]
    figures = ev.figures or {}
    for key in PLOT_KEYS:
        if isinstance(figures.get(key), Mapping):
            texts.append((f"{key}.caption", str(figures[key].get("caption", ""))))
            if not figures[key].get("caption"):
                found.append(f"{key}: no caption")
    for where, text in texts:
        found += [f"{where}: {p}" for p in markup.problems(str(text))]
    if not ev.summary.strip():
        found.append("no summary")
    unlabelled = [k for k in figures if k not in PLOT_KEYS and k not in labels]
    if unlabelled:
        found.append(f"figures without a label: {unlabelled}")
    return found


def audit_evidence(claim: Claim, ev: Evidence) -> None:
    """Raise :class:`SuiteDefect` where ``ev`` breaks a rule (module docstring)."""
    bad = text_problems(ev)
    if bad:
        raise SuiteDefect(f"{claim.key} / {ev.check}: its text breaks the marked-text rule (audit/markup.py): "
                          + "; ".join(bad))
    if ev.outcome == "fails":
        if ev.counterexample is None:
            raise SuiteDefect(f"{claim.key} / {ev.check}: 'fails' without a counterexample")
        ok, msg = recheck_one(claim.id, claim.reading, _stored(ev.counterexample), _stored(claim.constants),
                              ev.check)
        if not ok:
            raise SuiteDefect(f"{claim.key} / {ev.check}: the counterexample does not re-check "
                              f"(reports/recheck.py): {msg}")
    witness = (ev.figures or {}).get(WITNESS_KEY)
    if witness is not None:
        ok, msg = recheck_witness(claim.id, claim.reading, _stored(witness), _stored(claim.constants))
        if not ok:
            raise SuiteDefect(f"{claim.key} / {ev.check}: the stored witness does not re-check: {msg}")


def run_check(claim: Claim, check: Check, ctx: RunContext) -> Evidence:
    """One check, its evidence normalized (name, kind, declared scope gap) and audited."""
    ev = check.run(check_context(claim, check, ctx))
    gap = ev.scope_gap or check.scope_gap
    if ev.check != check.name or ev.kind != check.kind or gap != ev.scope_gap:
        ev = replace(ev, check=check.name, kind=check.kind, scope_gap=gap)
    audit_evidence(claim, ev)
    return ev


def clear_caches(packages: tuple[str, ...] = _ALL_OURS) -> None:
    """Clear the functools caches of our packages (see the module docstring)."""
    for name, mod in list(sys.modules.items()):
        if mod is None or name.split(".")[0] not in packages:
            continue
        for obj in list(vars(mod).values()):
            if (callable(getattr(obj, "cache_clear", None)) and getattr(obj, "__module__", None) == name
                    and not getattr(obj, "keep_across_planted", False)):
                obj.cache_clear()


def _classify(claim: Claim, ev: Evidence) -> tuple[str, str]:
    """(outcome, detail) of a planted run's evidence, audited as a real one is."""
    if ev.outcome != "fails":
        return ev.outcome, ev.detail[:200]
    try:
        audit_evidence(claim, ev)
    except SuiteDefect as exc:
        return "crash", str(exc)[:200]
    return "fails", ev.detail[:200]


def run_planted(claim: Claim, check: Check, ctx: RunContext, *, raise_errors: bool = True,
                which: str = "both") -> list[PlantedResult]:
    """Run the planted defects (``which="defects"``), the planted truths (``"truths"``) or
    both of ``check``.  An exception other than :class:`SuiteDefect` is a defect of the
    planted input itself: raised with ``raise_errors``, else recorded as ``error``."""
    if which not in ("both", "defects", "truths"):
        raise ValueError(f"which must be 'both', 'defects' or 'truths', got {which!r}")
    items = ((check.planted if which != "truths" else ()) + (check.truths if which != "defects" else ()))
    out = []
    cctx = check_context(claim, check, ctx)
    for p in items:
        if p.patch is not None:  # a patched implementation must not meet results cached without it
            clear_caches()
        try:
            ev = check.run_planted(p, cctx)
            if ev.check != check.name or ev.kind != check.kind:
                ev = replace(ev, check=check.name, kind=check.kind)
            outcome, detail = _classify(claim, ev)
        except SuiteDefect as exc:
            outcome, detail = "crash", str(exc)[:200]
        except Exception as exc:  # noqa: BLE001
            if raise_errors:
                raise
            outcome, detail = "error", repr(exc)[:200]
        finally:
            clear_caches(_ALL_OURS if p.patch is not None else _PATCHABLE)
        out.append(PlantedResult(p.defect, outcome, detail, truth=p.truth, resolution=p.resolution))
    return out


def disagreements(claim: Claim, evidence: Sequence[Evidence]) -> list[str]:
    """Where a holding symbolic check covers another check's counterexample (``Check.covers``):
    two of our own routes disagree, a defect of the suite (never a refutation)."""
    by_name = {c.name: c for c in claim.checks}
    out = []
    for ev in evidence:
        if ev.outcome != "fails" or ev.counterexample is None:
            continue
        cx = _stored(ev.counterexample)
        for other in evidence:
            check = by_name.get(other.check)
            if other is ev or other.outcome != "holds" or check is None:
                continue
            if check.scope_covers(ev.check, cx):
                out.append(f"{claim.key}: the symbolic check {other.check} holds and its scope covers the "
                           f"counterexample of {ev.check}: two of our routes disagree")
    return out


def run_claim(claim: Claim, ctx: RunContext, *, raise_errors: bool = True,
              planted: bool = False) -> tuple[dict[str, Any], bool]:
    """Run every check of ``claim`` (and, with ``planted``, every planted defect after
    them).  Returns (row, crashed).

    With ``raise_errors`` (pytest) a crash propagates as :class:`CheckCrashed`; otherwise
    (report) it is recorded as ``undecided`` with its reason and ``crashed`` is set, so
    the CLI exits non-zero."""
    evidence: list[Evidence] = []
    crashed = False
    reasons: list[str] = []
    for check in claim.checks:
        try:
            ev = run_check(claim, check, ctx)
        except Exception as exc:  # noqa: BLE001 -- recorded, and the CLI fails
            if raise_errors:
                raise CheckCrashed(f"{claim.key} / {check.name}: {exc!r}") from exc
            crashed = True
            tail = traceback.format_exc().strip().splitlines()[-1]
            reasons.append(f"{check.name}: {tail}"[:300])
            ev = Evidence(check.kind, check.name, "undecided", detail=f"check crashed: {tail}",
                          summary=CRASHED)
        evidence.append(ev)
    clash = disagreements(claim, evidence)
    if clash:
        if raise_errors:
            raise CheckCrashed("; ".join(clash))
        crashed = True
        reasons += clash
    rows = [e.to_json() for e in evidence]
    if planted:
        for check, ev, ev_json in zip(claim.checks, evidence, rows):
            if ev.summary == CRASHED:
                continue  # a crashed check shows nothing either way
            # a check that held is shown able to fail; one that did not, able to hold
            res = run_planted(claim, check, ctx, raise_errors=raise_errors,
                              which="defects" if ev.outcome == "holds" else "truths")
            crashed |= any(r.outcome == "error" for r in res)
            reasons += [f"{check.name}: planted input {r.defect[:80]!r} broke: {r.detail}"
                        for r in res if r.outcome == "error"]
            ev_json["planted"] = [r.to_json() for r in res]
    return assemble(claim, rows, verdict(evidence, crashed), reasons if crashed else None), crashed


def assemble(claim: Claim, evidence: list[dict[str, Any]], verdict_: str,
             crash: list[str] | None = None) -> dict[str, Any]:
    """A results.json row of ``claim`` from its evidence entries and verdict (the contract's
    fields, in its order): what a fresh row is, and what a resumed row must be
    (reports/resume.py)."""
    row = {"id": claim.id, "reading": claim.reading, "statement": claim.statement}
    if claim.scope:  # the limits of the evidence, from the registry (a resumed row gets it from there too)
        row["scope"] = claim.scope
    row |= {"verdict": verdict_, "evidence": evidence}
    if claim.constants:
        row["constants"] = _stored(claim.constants)
    if crash is not None:
        row["crash"] = crash
    return row


def shown(row: dict[str, Any]) -> tuple[int, int, int]:
    """(checks, checks shown to fail, checks shown to hold) of a row: a check that held for
    real counts as shown to fail when it declares defects and every one turned it; a check
    that failed or stayed undecided counts as shown to hold when it declares truths and every
    one made it hold.  A crashed check counts as neither."""
    evs = row["evidence"]
    fail = hold = 0
    for e in evs:
        items = [PlantedResult.from_json(p) for p in e.get("planted") or []]
        if e.get("summary") == CRASHED:
            continue
        if e["outcome"] == "holds":
            defects = [p for p in items if not p.truth]
            fail += bool(defects) and all(p.turned for p in defects)
        else:
            truths = [p for p in items if p.truth]
            hold += bool(truths) and all(p.held for p in truths)
    return len(evs), fail, hold


def run_rows(claims: Sequence[Claim], ctx: RunContext, planted: bool) -> list[tuple[dict[str, Any], bool, float]]:
    """(row, crashed, seconds) of each claim, in order: the body of one task."""
    out = []
    for claim in claims:
        t0 = time.perf_counter()
        row, crashed = run_claim(claim, ctx, raise_errors=False, planted=planted)
        out.append((row, crashed, time.perf_counter() - t0))
    return out


def run_keys(keys: tuple[str, ...], ctx: RunContext, planted: bool) -> list[tuple[dict[str, Any], bool, float]]:
    """:func:`run_rows` on registry rows named by key: what a worker runs (a worker
    rebuilds the registry; claims hold closures, keys travel)."""
    import warnings

    from .registry import by_key

    # hypothesis compares the global `random` state before and after a draw; on a Dask
    # worker the worker's own threads move it, so the warning would blame our strategies
    # (in process, where they run alone, it never fires)
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
    return run_rows([by_key(k) for k in keys], ctx, planted)


def run_rows_primed(claims: Sequence[Claim], ctx: RunContext, planted: bool,
                    outputs: dict) -> list[tuple[dict[str, Any], bool, float]]:
    """:func:`run_rows` after handing the group its prepared work (``Claim.prime``)."""
    claims[0].prime(ctx, outputs)
    return run_rows(claims, ctx, planted)


def run_keys_primed(keys: tuple[str, ...], ctx: RunContext, planted: bool,
                    outputs: dict) -> list[tuple[dict[str, Any], bool, float]]:
    """:func:`run_keys` after handing the group its prepared work (``Claim.prime``)."""
    from .registry import by_key

    by_key(keys[0]).prime(ctx, outputs)
    return run_keys(keys, ctx, planted)


def plan(claims: Sequence[Claim], ctx: RunContext, planted: bool,
         by_reference: bool) -> list[tuple[Task, tuple[Claim, ...]]]:
    """(task, its claims): one task per row, except rows that share an in-process cache
    (``Claim.shares``): one task for the group, placed first (the longest work).
    ``by_reference``: the task carries the claims themselves (in process) instead of their
    keys (a worker rebuilds them)."""
    groups: dict[str, list[Claim]] = {}
    for c in claims:
        groups.setdefault(c.shares or f"row:{c.key}", []).append(c)
    out = []
    for name, members in groups.items():
        args = (tuple(members) if by_reference else tuple(c.key for c in members), ctx, planted)
        task = Task(name, run_rows if by_reference else run_keys, args,
                    gpu=ctx.device == "cuda" and any(c.on_device for c in members),
                    priority=1 if len(members) > 1 else 0)
        out.append((task, tuple(members)))
    return sorted(out, key=lambda tm: -tm[0].priority)  # stable: registry order within a priority


def lost_row(claim: Claim, exc: BaseException) -> dict[str, Any]:
    """The row of a claim whose task the engine lost (a worker died twice): a crash."""
    ev = [Evidence(c.kind, c.name, "undecided", detail=f"check crashed: task lost by the engine: {exc!r}"[:300],
                   summary=CRASHED)
          for c in claim.checks]
    return assemble(claim, [e.to_json() for e in ev], verdict(ev, crashed=True),
                    [f"task lost by the engine: {exc!r}"[:300]])


def run_all(claims: list[Claim], ctx: RunContext, progress: TextIO | None = sys.stderr,
            planted: bool = True, engine: Engine | None = None,
            store=None) -> tuple[list[dict], bool]:
    """Every row of ``claims`` (in their order, whatever order they finish in) and whether
    any crashed.  Rows found in ``store`` are reused once they pass the rules of a fresh row
    (reports/resume.py; one that does not is recomputed); every row that finishes without a
    crash is stored at once, so an interrupted run resumes where it stopped.  ``store`` is a
    ``reports.resume.RowStore`` (which imports this module, so it is not imported here)."""
    engine = engine or Engine()
    by_key = {c.key: c for c in claims}
    rows: dict[str, dict[str, Any]] = {}
    any_crash = False
    total = len(claims)

    def line(key: str, row: dict, tail: str) -> None:
        if progress is not None:
            print(f"[{len(rows):>3}/{total}] {key:<28} {row['verdict']:<13} {tail}", file=progress, flush=True)

    if store is not None:
        for c in claims:
            if (row := store.resumed(c)) is not None:
                rows[c.key] = row
                line(c.key, row, "  resumed")
    todo = [c for c in claims if c.key not in rows]
    if progress is not None and rows:
        print(f"resumed {len(rows)} finished row(s) from {store.dir}; {len(todo)} to run "
              f"(--fresh recomputes every row)", file=progress, flush=True)

    def done(task: Task, result, _seconds: float) -> None:
        nonlocal any_crash
        for row, crashed, secs in result:
            key = f"{row['id']}[{row['reading']}]"
            row = json.loads(json.dumps(row))  # as a resumed row reads back
            rows[key] = row
            any_crash |= crashed
            if store is not None and not crashed:
                store.keep(by_key[key], row)
            n, fail, hold = shown(row)
            line(key, row, f"{secs:6.1f}s" + (f"  {fail + hold}/{n} shown both ways" if planted else "")
                 + ("  CRASHED" if crashed else ""))

    tasks = plan(todo, ctx, planted, by_reference=engine.in_process)
    members = {task.key: group for task, group in tasks}

    def lost(task: Task, exc: BaseException) -> None:
        nonlocal any_crash
        any_crash = True
        for c in members[task.key]:
            rows[c.key] = lost_row(c, exc)
            line(c.key, rows[c.key], f"  LOST ({type(exc).__name__})  CRASHED")

    # phase 1: the rows without prepared work, and after them every group's prepared work (many
    # short tasks: they fill the workers around the long rows); phase 2: the groups, handed
    # their work
    deferred = {t.key: t for t, g in tasks if g[0].prepare is not None}
    work: list[Task] = []
    owner: dict[str, tuple[str, str]] = {}     # work task key -> (its group, its key in the group)
    for key, task in deferred.items():
        for k, fn, args in members[key][0].prepare(ctx):
            work.append(Task(f"{key}|{k}", fn, args, gpu=task.gpu))
            owner[work[-1].key] = (key, k)
    prepared: dict[str, dict] = {key: {} for key in deferred}
    failed: dict[str, BaseException] = {}
    n_work = len(work)

    def done_any(task: Task, result, seconds: float) -> None:
        if task.key in members:
            return done(task, result, seconds)
        group, unit = owner[task.key]
        prepared[group][unit] = result
        if progress is not None:
            print(f"  [work {sum(map(len, prepared.values())):>3}/{n_work}] {task.key[:70]:<70} {seconds:6.1f}s",
                  file=progress, flush=True)

    def lost_any(task: Task, exc: BaseException) -> None:
        if task.key in members:
            return lost(task, exc)
        failed.setdefault(owner[task.key][0], exc)

    if tasks:
        if progress is not None and not engine.in_process:
            print(f"running {len(todo)} row(s) {engine.describe()}", file=progress, flush=True)
        engine.run([t for t, _ in tasks if t.key not in deferred] + work, done_any, lost_any)
        second = []
        for key, task in deferred.items():
            if key in failed:
                lost(task, failed[key])
                continue
            fn = run_rows_primed if engine.in_process else run_keys_primed
            second.append(replace(task, fn=fn, args=(*task.args, prepared[key])))
        engine.run(second, done, lost)
    return [rows[c.key] for c in claims], any_crash
