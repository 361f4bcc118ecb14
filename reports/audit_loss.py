"""``softmax-audit audit-loss SPEC``: the suite's rows decided for a user's loss (issue 23 §5).

The spec is resolved (audit/separable.py: ``pkg.mod:attr`` or a name in the entry-point
group ``softmax_audit.losses``), the facts of proofs/separable.py are derived, and the rows
of reports/claims_user.py run through the same runner as the report's: results.json with
rows keyed ``ID[user:NAME]`` and ``meta.subject`` (the spec, its domain, the sha256 of g,
the providing package and its version, the table of derived facts), then the appendix.
"""
from __future__ import annotations

import hashlib
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from audit import RunContext
from audit.separable import SeparableLoss, resolve

from .report import SCHEMA, dumps, false_alarm_budget, write_documents
from .runner import run_all, shown
from .store import atomic_write_text, out_lock


def _provider(spec: str, loss: SeparableLoss) -> dict[str, str | None]:
    """The distribution that provides the loss, and its version (None when it is not installed
    as one: a module on the path)."""
    module = spec.split(":")[0] if ":" in spec else metadata.entry_points(group="softmax_audit.losses")[spec].module
    top = module.split(".")[0]
    dists = metadata.packages_distributions().get(top, [])
    if not dists:
        return {"module": module, "distribution": None, "version": None}
    return {"module": module, "distribution": dists[0], "version": metadata.version(dists[0])}


def subject(spec: str, loss: SeparableLoss) -> dict[str, Any]:
    """``meta.subject``: what was audited, precisely enough to refuse a changed spec."""
    from proofs.separable import derive

    expr = loss.expression()
    import sympy as sp

    p = sp.Symbol("p", positive=True)
    return {"spec": spec, "name": loss.name, "domain": loss.domain, "expression": expr,
            "latex": sp.latex(loss.g.subs(loss.x, p)),
            "sha256": hashlib.sha256(expr.encode()).hexdigest(), **_provider(spec, loss),
            "stated": {k: None if getattr(loss, k) is None else str(getattr(loss, k)) for k in ("margin", "lipschitz")},
            "facts": [{"fact": f, "value": v, "how": how} for f, v, how in derive(loss).table()]}


def audit(spec: str, ctx: RunContext, progress=sys.stderr) -> tuple[dict[str, Any], bool]:
    """(results, crashed) for the loss ``spec`` names; ``ValueError`` for a spec that does not
    resolve or a g outside the conditions (before any row runs)."""
    from .claims_user import user_claims

    loss = resolve(spec)
    claims = user_claims(loss)
    rows, crashed = run_all(claims, ctx, progress=progress)
    meta = {"profile": ctx.profile, "seed": ctx.seed, "device": ctx.device, "subject": subject(spec, loss),
            "checks": sum(shown(r)[0] for r in rows), "checks_shown_to_fail": sum(shown(r)[1] for r in rows),
            "checks_shown_to_hold": sum(shown(r)[2] for r in rows), "false_alarm": false_alarm_budget(),
            "wallclock": []}
    return {"schema": SCHEMA, "meta": meta, "claims": rows}, crashed


def write_audit(out: Path, spec: str, ctx: RunContext, pdf: bool = True) -> tuple[dict[str, Any], bool]:
    """``out/results.json`` and the documents of :func:`audit`, written atomically under the
    folder's lock."""
    with out_lock(out):
        results, crashed = audit(spec, ctx)
        atomic_write_text(out / "results.json", dumps(results))
        print(f"wrote {out / 'results.json'}", file=sys.stderr)
        write_documents(results, out, None, pdf)
    return results, crashed
