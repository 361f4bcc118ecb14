"""``softmax-audit audit-loss SPEC``: the suite's rows decided for a user's loss (issue 23 §5).

The spec is resolved (audit/separable.py: ``pkg.mod:attr`` or a name in the entry-point
group ``softmax_audit.losses``), the facts of proofs/user/facts.py are derived, and the rows
of reports/user/claims.py run through the same runner as the report's: results.json with
rows keyed ``ID[user:NAME]`` and ``meta.subject`` (the spec, its domain, the sha256 of g,
the providing package and its version, the table of derived facts), then the appendix.
"""
from __future__ import annotations

import contextlib

import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from audit import RunContext
from audit.separable import SeparableLoss, resolve

from ..execution import Engine, Task
from ..report import SCHEMA, dumps, false_alarm_budget, write_documents
from ..runner import run_all, shown
from ..store import atomic_write_text, out_lock


def _provider(spec: str, loss: SeparableLoss) -> dict[str, str | None]:
    """The distribution that provides the loss, and its version (None when it is not installed
    as one: a module on the path)."""
    module = spec.split(":")[0] if ":" in spec else metadata.entry_points(group="softmax_audit.losses")[spec].module
    top = module.split(".")[0]
    dists = metadata.packages_distributions().get(top, [])
    if not dists:
        return {"module": module, "distribution": None, "version": None}
    return {"module": module, "distribution": dists[0], "version": metadata.version(dists[0])}


def sha256(loss: SeparableLoss) -> str:
    """The subject's hash: of g's canonical text (:meth:`SeparableLoss.expression`)."""
    return hashlib.sha256(loss.expression().encode()).hexdigest()


def subject(spec: str, loss: SeparableLoss) -> dict[str, Any]:
    """``meta.subject``: what was audited, precisely enough to refuse a changed spec."""
    from proofs.user.facts import derive

    expr = loss.expression()
    import sympy as sp

    p = sp.Symbol("p", positive=True)
    return {"spec": spec, "name": loss.name, "domain": loss.domain, "expression": expr,
            "latex": sp.latex(loss.g.subs(loss.x, p)), "sha256": sha256(loss), **_provider(spec, loss),
            "stated": {k: None if getattr(loss, k) is None else str(getattr(loss, k)) for k in ("margin", "lipschitz")},
            "facts": [{"fact": f, "value": v, "how": how} for f, v, how in derive(loss).table()]}


def run_user_row(spec: str, key: str, ctx: RunContext, planted: bool) -> list[tuple[dict[str, Any], bool, float]]:
    """One row of the loss ``spec`` names, as a task of the execution layer: the worker
    resolves the spec itself (a spec string travels; the loss, with its callables, does not)."""
    from .claims import user_claims
    from ..runner import run_rows

    return run_rows([c for c in user_claims(resolve(spec)) if c.key == key], ctx, planted)


def _run_on(engine: Engine, spec: str, claims: list, ctx: RunContext, progress) -> tuple[list[dict], bool]:
    """The rows on a cluster, one task each, assembled in the claims' order."""
    from ..runner import lost_row

    rows: dict[str, dict] = {}
    crashed = False

    def done(task: Task, result, seconds: float) -> None:
        nonlocal crashed
        for row, crash, _ in result:
            rows[task.key] = json.loads(json.dumps(row))
            crashed |= crash
            if progress is not None:
                print(f"{task.key:<28} {row['verdict']:<13} {seconds:6.1f}s", file=progress, flush=True)

    def lost(task: Task, exc: BaseException) -> None:
        nonlocal crashed
        crashed = True
        rows[task.key] = lost_row(next(c for c in claims if c.key == task.key), exc)

    if progress is not None:
        print(f"running {len(claims)} row(s) {engine.describe()}", file=progress, flush=True)
    engine.run([Task(c.key, run_user_row, (spec, c.key, ctx, True)) for c in claims], done, lost)
    return [rows[c.key] for c in claims], crashed


def audit(spec: str, ctx: RunContext, progress=sys.stderr, engine: Engine | None = None) -> tuple[dict[str, Any], bool]:
    """(results, crashed) for the loss ``spec`` names; ``ValueError`` for a spec that does not
    resolve or a g outside the conditions (before any row runs).  On a cluster (``engine``
    not in process) each row is a task whose worker resolves the spec; the bytes are those
    of an in-process run (every row's randomness comes from the seed and the row)."""
    from .claims import user_claims

    loss = resolve(spec)
    claims = user_claims(loss)
    if engine is None or engine.in_process:
        rows, crashed = run_all(claims, ctx, progress=progress)
    else:
        rows, crashed = _run_on(engine, spec, claims, ctx, progress)
    meta = {"profile": ctx.profile, "seed": ctx.seed, "device": ctx.device, "subject": subject(spec, loss),
            "checks": sum(shown(r)[0] for r in rows), "checks_shown_to_fail": sum(shown(r)[1] for r in rows),
            "checks_shown_to_hold": sum(shown(r)[2] for r in rows), "false_alarm": false_alarm_budget(),
            "wallclock": []}
    return {"schema": SCHEMA, "meta": meta, "claims": rows}, crashed


def write_audit(out: Path, spec: str, ctx: RunContext, pdf: bool = True,
                engine: Engine | None = None, lock: bool = True) -> tuple[dict[str, Any], bool]:
    """``out/results.json`` and the documents of :func:`audit`, written atomically under the
    folder's lock (``lock=False``: the caller holds it)."""
    with (out_lock(out) if lock else contextlib.nullcontext(out)):
        results, crashed = audit(spec, ctx, engine=engine)
        atomic_write_text(out / "results.json", dumps(results))
        print(f"wrote {out / 'results.json'}", file=sys.stderr)
        write_documents(results, out, None, pdf)
    return results, crashed
