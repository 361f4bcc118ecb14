"""``softmax-audit report``: run the registry, write results.json, appendix.tex and appendix.pdf."""
from __future__ import annotations

import contextlib

import json
import sys
from pathlib import Path
from typing import Any

from audit import RunContext
from .execution import Engine
from .provenance import versions
from .registry import all_claims, select
from .runner import run_all, shown
from .resume import RowStore
from .store import atomic_write_text, out_lock

SCHEMA = 1


def wallclock_keys() -> list[str]:
    """Figure keys holding wall-clock measurements, from the modules that produce them."""
    from numerics.cpx import complexity
    from numerics.exp import checks as exp_checks

    return sorted(set(complexity.WALLCLOCK_KEYS) | set(exp_checks.WALLCLOCK_KEYS))


def false_alarm_budget() -> dict[str, Any]:
    """The suite's family-wise false-alarm budget and each statistical check's share."""
    from audit.falsealarm import FAMILY, POOLED, POOLS, SHARES, total

    return {"family": FAMILY, "rule": "Bonferroni", "spent": total(), "pools": dict(POOLS),
            "shares": [{"id": c, "reading": r, "check": k, "alpha": a, **({"pool": POOLED[(c, r, k)]}
                                                                           if (c, r, k) in POOLED else {})}
                       for (c, r, k), a in SHARES.items()]}


def build_results(ctx: RunContext, only: list[str] | None = None, engine: Engine | None = None,
                  store: RowStore | None = None) -> tuple[dict[str, Any], bool]:
    claims = select(all_claims(), only)
    rows, crashed = run_all(claims, ctx, engine=engine, store=store)
    meta = {
        "profile": ctx.profile,
        "seed": ctx.seed,
        "device": ctx.device,
        "versions": versions(),
        # keys of figures that are wall-clock measurements (masked by the determinism test)
        "wallclock": wallclock_keys(),
        # checks run; those that held and whose every planted defect turned them; those that
        # failed or stayed undecided and that held on every planted truth (together: every
        # check, unless one crashed)
        "checks": sum(shown(r)[0] for r in rows),
        "checks_shown_to_fail": sum(shown(r)[1] for r in rows),
        "checks_shown_to_hold": sum(shown(r)[2] for r in rows),
        "false_alarm": false_alarm_budget(),
    }
    return {"schema": SCHEMA, "meta": meta, "claims": rows}, crashed


def dumps(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"


def write_documents(results: dict, out: Path, engine: Engine | None = None, pdf: bool = True) -> list[Path]:
    """From a results dict: the figures, ``appendix.tex`` and ``evidence.tex`` and, when
    pdflatex is on PATH and ``pdf``, their PDFs, each written atomically into ``out``.  A PDF
    this call does not write is removed, never left looking current beside a new .tex.
    Returns the PDFs written."""
    from .latex import compile_pdf, render_appendix, render_evidence
    from .plots import render_plots

    figures = render_plots(results, out, engine)
    full = {**results, "figures_files": figures} if figures else results
    docs = [(out / "appendix.tex", render_appendix(full)), (out / "evidence.tex", render_evidence(full))]
    for path, text in docs:
        atomic_write_text(path, text)
    print(f"wrote {', '.join(str(p) for p, _ in docs)}", file=sys.stderr)
    made = []
    for path, _ in docs:
        pdf_path = compile_pdf(path) if pdf else None
        if pdf_path is None:
            path.with_suffix(".pdf").unlink(missing_ok=True)
        else:
            made.append(pdf_path)
    print(f"wrote {', '.join(map(str, made))}" if made else ("pdflatex not on PATH: " if pdf else "--no-pdf: ")
          + "no PDF written", file=sys.stderr)
    return made


def write_report(out: Path, ctx: RunContext, only: list[str] | None = None, pdf: bool = True,
                 engine: Engine | None = None, resume: bool = True, lock: bool = True) -> tuple[dict, bool]:
    """Write ``out/results.json``, then the documents (:func:`write_documents`): appendix
    and evidence records, .tex and, when pdflatex is on PATH, .pdf.  Finished rows are kept
    under ``out/.resume`` (reports/store.py) and, with ``resume``, reused once they pass the
    rules of a fresh row (reports/resume.py); without it they are discarded first.  ``out``
    is locked for the whole run (``store.out_lock``: a second report into it is refused);
    an ``only`` that matches no claim is refused before anything is created.  ``lock=False``:
    the caller already holds the lock (the CLI takes it before it starts a cluster).  Returns
    (results, crashed)."""
    select(all_claims(), only)
    with (out_lock(out) if lock else contextlib.nullcontext(out)):
        store = RowStore(out, ctx, planted=True)
        if not resume:
            store.clear()
        store.prune()  # rows of other code versions can never be reused
        results, crashed = build_results(ctx, only, engine=engine, store=store)
        atomic_write_text(out / "results.json", dumps(results))
        print(f"wrote {out / 'results.json'}", file=sys.stderr)
        write_documents(results, out, engine, pdf)
    return results, crashed
