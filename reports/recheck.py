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
    from .rechecks import apx, con, dyn, exp, fy, maps, order
except ImportError:  # run (or loaded) as a script: python reports/recheck.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from rechecks import apx, con, dyn, exp, fy, maps, order  # type: ignore[no-redef]  # noqa: F401

RECHECKERS = {**fy.RECHECKERS, **con.RECHECKERS, **order.RECHECKERS, **dyn.RECHECKERS, **apx.RECHECKERS,
              **exp.RECHECKERS}
#: witnesses that confirm a claim by exhibiting a case (e.g. "not strictly order preserving"),
#: stored under this figure key
WITNESS_KEY = "sop_witness"


def recheck_one(claim_id: str, reading: str, cx: dict) -> tuple[bool, str]:
    """(re-checked?, message) for one stored counterexample of a row."""
    fn = RECHECKERS.get(claim_id)
    if fn is None:
        return False, f"no re-checker for {claim_id}"
    try:
        return fn(cx, reading)
    except (KeyError, TypeError, ValueError, IndexError) as exc:  # a malformed counterexample does not re-check
        return False, f"malformed counterexample: {exc!r}"


def recheck_witness(claim_id: str, reading: str, w: dict) -> tuple[bool, str]:
    if claim_id != "CON-3":
        return False, f"no witness re-checker for {claim_id}"
    return order.recheck_sop_witness(w, reading)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    results = json.load(open(argv[1], encoding="utf-8"))
    seen = bad = witnesses = wbad = 0
    for row in results["claims"]:
        for ev in row["evidence"]:
            where = f"{row['id']} [{row['reading']}] {ev['check']}"
            cx = ev.get("counterexample")
            if cx is not None:
                seen += 1
                ok, msg = recheck_one(row["id"], row["reading"], cx)
                bad += not ok
                print(f"{'ok    ' if ok else 'FAILED'} {where}: {msg}")
            w = (ev.get("figures") or {}).get(WITNESS_KEY)
            if w is not None:
                witnesses += 1
                ok, msg = recheck_witness(row["id"], row["reading"], w)
                wbad += not ok
                print(f"{'ok    ' if ok else 'FAILED'} {where} (witness): {msg}")
    print(f"{seen} counterexample(s), {seen - bad} re-checked; {witnesses} witness(es), {witnesses - wbad} re-checked")
    return 1 if bad or wbad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
