#!/usr/bin/env python3
"""Re-check every counterexample stored in a results.json, from the stored data alone.

    softmax-audit recheck reports/out/results.json
    python reports/recheck.py reports/out/results.json   # the same, with nothing but numpy

Independent of the suite: plain numpy and fractions (``reports/rechecks/``, one module per
claim group), no import of losses/, proofs/, numerics/ or the rest of reports/; each
prediction map is re-implemented there by its own route.  Prints one line per
counterexample and exits 1 if any fails to re-check, or if a claim id has no re-checker.

The runner calls :func:`recheck_one` on every ``fails`` a check reports: a counterexample
that does not re-check is a defect of the suite (a crash), never a refutation.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

try:  # imported as reports.recheck
    from .rechecks import apx, con, dyn, exp, fy, maps, order, r2, user
except ImportError:  # run (or loaded) as a script: python reports/recheck.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from rechecks import apx, con, dyn, exp, fy, maps, order, r2, user  # type: ignore[no-redef]  # noqa: F401

RECHECKERS = {**fy.RECHECKERS, **con.RECHECKERS, **order.RECHECKERS, **dyn.RECHECKERS, **apx.RECHECKERS,
              **exp.RECHECKERS}
#: witnesses that confirm a claim by exhibiting a case (e.g. "not strictly order preserving"),
#: stored under this figure key
WITNESS_KEY = "sop_witness"


#: the contract's values (ARCHITECTURE.md, results.json; as audit/evidence.py, which this
#: script does not import)
VERDICTS = ("verified", "supported", "refuted", "inconclusive", "crashed")
KINDS = ("symbolic", "numeric", "empirical")
OUTCOMES = ("holds", "fails", "undecided")


def _evidence_problems(ev: object, where: str, whole: bool) -> list[str]:
    if not isinstance(ev, dict):
        return [f"{where} is a {type(ev).__name__}, not an object"]
    out = []
    for key, allowed in (("kind", KINDS), ("outcome", OUTCOMES)):
        if (whole or key in ev) and ev.get(key) not in allowed:
            out.append(f"{where} has {key} {ev.get(key)!r}, not one of {', '.join(allowed)}")
    if not isinstance(ev.get("check"), str):
        out.append(f"{where} has no check name")
    out += [f"{where}.{k} is not a string" for k in ("summary", "detail", "scope_gap")
            if k in ev and not isinstance(ev[k], str)]
    out += [f"{where}.{k} is not an object" for k in ("figures", "labels", "counterexample")
            if k in ev and not isinstance(ev[k], dict)]
    out += [f"{where}.{k} is not a list of strings" for k in ("steps", "assumptions")
            if k in ev and not (isinstance(ev[k], list) and all(isinstance(x, str) for x in ev[k]))]
    if "planted" in ev and not (isinstance(ev["planted"], list) and all(isinstance(x, dict) for x in ev["planted"])):
        out.append(f"{where}.planted is not a list of objects")
    return out


def shape_problems(results: object, whole: bool = True) -> list[str]:
    """Where ``results`` departs from the shape of a results.json (ARCHITECTURE.md, the
    contract): each row an object with the string fields ``id``, ``reading``, ``statement``
    (and ``scope``, the limits of its evidence, where present), a ``verdict`` of the contract and a list of ``evidence`` objects (``kind``, ``check``,
    ``outcome``; text fields strings; ``figures``, ``labels``, ``counterexample`` objects).
    Empty when it has that shape.  Not ``whole``: only what a re-check reads must be there
    (``id``, ``reading``, each evidence's ``check``); the rest, where present, is checked."""
    if not isinstance(results, dict):
        return [f"the top level is a {type(results).__name__}, not an object"]
    claims = results.get("claims")
    if not isinstance(claims, list):
        return ["no list of claims"]
    out = [] if isinstance(results.get("meta", {}), dict) else ["meta is not an object"]
    for i, row in enumerate(claims):
        where = f"claims[{i}]"
        if not isinstance(row, dict):
            out.append(f"{where} is a {type(row).__name__}, not an object")
            continue
        if isinstance(row.get("id"), str) and isinstance(row.get("reading"), str):
            where += f" ({row['id']}[{row['reading']}])"
        out += [f"{where} has no {k!r} string" for k in ("id", "reading", "statement")
                if (whole or k != "statement" or k in row) and not isinstance(row.get(k), str)]
        if (whole or "verdict" in row) and row.get("verdict") not in VERDICTS:
            out.append(f"{where} has verdict {row.get('verdict')!r}, not one of {', '.join(VERDICTS)}")
        if "scope" in row and not isinstance(row["scope"], str):
            out.append(f"{where}.scope is not a string")
        if "constants" in row and not isinstance(row["constants"], dict):
            out.append(f"{where}.constants is not an object")
        evidence = row.get("evidence")
        if not isinstance(evidence, list):
            out.append(f"{where} has no list of evidence")
            continue
        for j, ev in enumerate(evidence):
            out += _evidence_problems(ev, f"{where}.evidence[{j}]", whole)
    return out


def recheck_one(claim_id: str, reading: str, cx: dict, constants: dict | None = None,
                check: str = "") -> tuple[bool, str]:
    """(re-checked?, message) for one stored counterexample of a row: ``constants`` are the
    row's own (results.json ``constants``: the margin, step size, band, … the registry states),
    ``check`` the name of the check that reported it."""
    # a user's loss (``ID[user:NAME]``) is re-checked from the g its row carries
    # rankmax reading R2 (``ID[rankmax/R2]``): its own re-checker (the scale a(θ, y) first)
    table = user.RECHECKERS if reading.startswith("user:") else r2.RECHECKERS if r2.is_r2(reading) else RECHECKERS
    fn = table.get(claim_id)
    if fn is None:
        return False, f"no re-checker for {claim_id}"
    try:
        return fn(cx, reading, dict(constants or {}), check)
    except (KeyError, TypeError, ValueError, IndexError) as exc:  # a malformed counterexample does not re-check
        return False, f"malformed counterexample: {exc!r}"


def recheck_witness(claim_id: str, reading: str, w: dict, constants: dict | None = None) -> tuple[bool, str]:
    if claim_id != "CON-3":
        return False, f"no witness re-checker for {claim_id}"
    if reading.startswith("user:"):         # a user's loss: from the g its row carries
        return user.recheck_sop_witness(w, reading, dict(constants or {}))
    return order.recheck_sop_witness(w, reading, dict(constants or {}))


def recheck_results(results: dict) -> tuple[list[tuple[bool, str]], int, int, int, int]:
    """Every line ``(ok, text)`` of a re-check of a results dict, and the counts (counter-
    examples, re-checked, witnesses, re-checked).  Besides each stored counterexample and
    witness: a row whose evidence says ``fails`` without a counterexample, a ``refuted`` row
    with no failing evidence, and a ``crashed`` row each give a failed line."""
    lines: list[tuple[bool, str]] = []
    seen = good = witnesses = wgood = 0
    for row in results["claims"]:
        constants = row.get("constants") or {}
        key = f"{row['id']} [{row['reading']}]"
        if row.get("verdict") == "crashed":
            lines.append((False, f"{key}: the row crashed (a defect of the suite): nothing to re-check"))
        fails = [ev for ev in row["evidence"] if ev.get("outcome") == "fails"]
        if row.get("verdict") == "refuted" and not fails:
            lines.append((False, f"{key}: refuted, but no evidence fails"))
        for ev in row["evidence"]:
            where = f"{key} {ev['check']}"
            cx = ev.get("counterexample")
            if ev.get("outcome") == "fails" and cx is None:
                seen += 1
                lines.append((False, f"{where}: fails without a stored counterexample"))
            elif cx is not None:
                seen += 1
                ok, msg = recheck_one(row["id"], row["reading"], cx, constants, ev["check"])
                good += ok
                lines.append((ok, f"{where}: {msg}"))
            w = (ev.get("figures") or {}).get(WITNESS_KEY)
            if w is not None:
                witnesses += 1
                ok, msg = recheck_witness(row["id"], row["reading"], w, constants)
                wgood += ok
                lines.append((ok, f"{where} (witness): {msg}"))
    return lines, seen, good, witnesses, wgood


def subject_problem(results: dict) -> str | None:
    """For the results of ``audit-loss`` (``meta.subject``): the spec re-resolved now, and a
    refusal when it no longer names the loss that was audited (the sha256 of g's canonical
    text differs, or the spec does not resolve).  None otherwise, and for the main report.
    Only here is the suite imported (audit/separable.py, sympy), since only it resolves a spec."""
    subject = (results.get("meta") or {}).get("subject")
    if not isinstance(subject, dict):
        return None
    import hashlib

    spec, stored = subject.get("spec"), subject.get("sha256")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))     # a module of the user's beside them, as audit-loss resolved it
    try:
        from audit.separable import resolve

        loss = resolve(spec)
    except (ImportError, ValueError) as exc:
        return f"the audited spec {spec!r} does not resolve now ({' '.join(str(exc).split())[:200]})"
    now = hashlib.sha256(loss.expression().encode()).hexdigest()
    if now != stored:
        return (f"the spec {spec!r} now resolves to a different loss (sha256 of g {now[:16]}..., the audited one "
                f"{str(stored)[:16]}...): these results are not about it; rerun audit-loss")
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as fh:
            results = json.load(fh)
        bad = shape_problems(results, whole=False)
        if bad:
            raise ValueError(bad[0] + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
        lines, seen, good, witnesses, wgood = recheck_results(results)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"recheck: {argv[1]} is not a readable results.json: {' '.join(str(exc).split())[:300]}",
              file=sys.stderr)
        return 2
    refused = subject_problem(results)
    if refused is not None:
        print(f"recheck: refused: {refused}", file=sys.stderr)
        return 1
    for ok, text in lines:
        print(f"{'ok    ' if ok else 'FAILED'} {text}")
    print(f"{seen} counterexample(s), {good} re-checked; {witnesses} witness(es), {wgood} re-checked")
    return 0 if all(ok for ok, _ in lines) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
