"""Run registered checks and assemble results.json rows."""
from __future__ import annotations

import sys
import time
import traceback
from typing import Any, TextIO

from .evidence import Evidence, RunContext, verdict
from .registry import Claim


class CheckCrashed(RuntimeError):
    """A check raised: a defect of the suite, not a finding about the paper."""


def run_claim(claim: Claim, ctx: RunContext, *, raise_errors: bool = True) -> tuple[dict[str, Any], bool]:
    """Run every check of ``claim``.  Returns (row, crashed).

    With ``raise_errors`` (pytest) a crashing check propagates; otherwise (report)
    it is recorded as ``undecided`` with its traceback tail and ``crashed`` is set,
    so the CLI exits non-zero."""
    evidence: list[Evidence] = []
    crashed = False
    for check in claim.checks:
        try:
            ev = check.run(ctx)
        except Exception as exc:  # noqa: BLE001 -- recorded, and the CLI fails
            if raise_errors:
                raise CheckCrashed(f"{claim.key} / {check.name}: {exc!r}") from exc
            crashed = True
            tail = traceback.format_exc().strip().splitlines()[-1]
            ev = Evidence(check.kind, check.name, "undecided", detail=f"check crashed: {tail}")  # type: ignore[arg-type]
        if ev.check != check.name or ev.kind != check.kind:
            ev = Evidence(check.kind, check.name, ev.outcome, ev.detail, ev.figures, ev.counterexample,  # type: ignore[arg-type]
                          ev.steps, ev.assumptions)
        evidence.append(ev)
    row = {
        "id": claim.id,
        "reading": claim.reading,
        "statement": claim.statement,
        "verdict": verdict(evidence),
        "evidence": [e.to_json() for e in evidence],
    }
    return row, crashed


def run_all(claims: list[Claim], ctx: RunContext, progress: TextIO | None = sys.stderr) -> tuple[list[dict], bool]:
    rows, any_crash = [], False
    for i, claim in enumerate(claims, 1):
        t0 = time.perf_counter()
        row, crashed = run_claim(claim, ctx, raise_errors=False)
        any_crash |= crashed
        rows.append(row)
        if progress is not None:
            flag = "  CRASHED" if crashed else ""
            print(f"[{i:>3}/{len(claims)}] {claim.key:<28} {row['verdict']:<13} {time.perf_counter() - t0:6.1f}s{flag}",
                  file=progress, flush=True)
    return rows, any_crash
