"""``softmax-audit report``: run the registry, write results.json, appendix.tex and appendix.pdf."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from audit import RunContext
from .execution import Engine
from .provenance import versions
from .registry import all_claims, select
from .runner import run_all, shown_to_fail
from .store import ResultStore, atomic_write_text, row_store

SCHEMA = 1


def wallclock_keys() -> list[str]:
    """Figure keys holding wall-clock measurements, from the modules that produce them."""
    from numerics import complexity, exp_checks

    return sorted(set(complexity.WALLCLOCK_KEYS) | set(exp_checks.WALLCLOCK_KEYS))


def false_alarm_budget() -> dict[str, Any]:
    """The suite's family-wise false-alarm budget and each statistical check's share."""
    from audit.falsealarm import FAMILY, POOLED, POOLS, SHARES, total

    return {"family": FAMILY, "rule": "Bonferroni", "spent": total(), "pools": dict(POOLS),
            "shares": [{"id": c, "reading": r, "check": k, "alpha": a, **({"pool": POOLED[(c, r, k)]}
                                                                           if (c, r, k) in POOLED else {})}
                       for (c, r, k), a in SHARES.items()]}


def build_results(ctx: RunContext, only: list[str] | None = None, engine: Engine | None = None,
                  store: ResultStore | None = None) -> tuple[dict[str, Any], bool]:
    claims = select(all_claims(), only)
    rows, crashed = run_all(claims, ctx, engine=engine, store=store)
    meta = {
        "profile": ctx.profile,
        "seed": ctx.seed,
        "device": ctx.device,
        "versions": versions(),
        # keys of figures that are wall-clock measurements (masked by the determinism test)
        "wallclock": wallclock_keys(),
        # checks run, and checks whose every planted defect turned them (fails / undecided)
        "checks": sum(shown_to_fail(r)[0] for r in rows),
        "checks_shown_to_fail": sum(shown_to_fail(r)[1] for r in rows),
        "false_alarm": false_alarm_budget(),
    }
    return {"schema": SCHEMA, "meta": meta, "claims": rows}, crashed


def dumps(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"


def write_report(out: Path, ctx: RunContext, only: list[str] | None = None, pdf: bool = True,
                 engine: Engine | None = None, resume: bool = True) -> tuple[dict, bool]:
    """Write ``out/results.json``, ``out/appendix.tex`` and, when pdflatex is on PATH,
    ``out/appendix.pdf``, each atomically.  Finished rows are kept under ``out/.resume``
    (reports/store.py) and, with ``resume``, reused; without it they are discarded first.
    An appendix.pdf that this run does not write is removed, never left looking current.
    Returns (results, crashed)."""
    from .latex import compile_pdf, render_appendix
    from .plots import render_plots

    out.mkdir(parents=True, exist_ok=True)
    store = row_store(out, ctx, planted=True)
    if not resume:
        store.clear()
    store.prune()  # rows of other code versions can never be reused
    results, crashed = build_results(ctx, only, engine=engine, store=store)
    atomic_write_text(out / "results.json", dumps(results))
    tex = out / "appendix.tex"
    figures = render_plots(results, out, engine)
    atomic_write_text(tex, render_appendix({**results, "figures_files": figures} if figures else results))
    print(f"wrote {out / 'results.json'} and {tex}", file=sys.stderr)
    made = compile_pdf(tex) if pdf else None
    if made is None:
        (out / "appendix.pdf").unlink(missing_ok=True)
    print(f"wrote {made}" if made else ("pdflatex not on PATH: " if pdf else "--no-pdf: ")
          + "appendix.pdf not written", file=sys.stderr)
    return results, crashed
