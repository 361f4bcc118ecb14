"""Resumed rows: validated like fresh ones, and keyed by every input they read.

A row read back from ``OUT/.resume/`` (reports/store.py) is a file anyone can edit.  It is
published only when it passes what the runner (reports/runner.py) demands of a fresh row,
checked against the row's registry entry, not against anything the file says:

* each evidence is the registry's check (name and kind, in order) with its declared scope
  gap, keeps the marked-text rule, and a ``fails`` carries a counterexample that re-checks
  (reports/recheck.py ``recheck_one``) against the registry's constants, as does a stored
  witness (:func:`reports.runner.audit_evidence`); no two of the row's routes disagree
  (:func:`reports.runner.disagreements`);
* its planted runs are the defects (of a check that held) or the truths (of one that did
  not) the registry declares, each with an outcome a kept row can have;
* the row is the one the runner assembles from that evidence (:func:`reports.runner.assemble`:
  statement, scope and constants of the registry, the verdict re-derived by
  :func:`reports.claim.verdict`), key for key -- and that assembled row is what is published;
* its outcomes are those the registry pins for the profile (``Claim.pinned``).  A fresh row
  may depart from them (a finding: pytest turns red); a resumed one that does is recomputed,
  never trusted, since an edit that flips a row consistently (every outcome, the verdict,
  the counterexample gone) passes every rule above.

A row that fails a rule is not published: it is recomputed, and stderr says why.

What a row is keyed by (besides its key, the profile, the seed, the device, planted defects
on or off and the code version, reports/store.py): the experiment's rows (``Claim.shares ==
"experiment"``, numerics/exp/run.py) read MovieLens-100K and the tuning record, so their key
holds the cached data file's sha256 and the record's and its per-user scores' sha256
(:func:`experiment_inputs`).  A row of the experiment is kept only when the data verified
when the run started and still does: a row computed while the data was unavailable says so
(``inconclusive: MovieLens-100K unavailable``), which is the state of a machine, not a
result, and the next run tries again.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping

from audit import Evidence, RunContext, SuiteDefect

from .claim import Claim, verdict
from .runner import CRASHED, PlantedResult, assemble, audit_evidence, disagreements
from .store import ResultStore, row_store

#: the rows that read the trained experiment (and so the data and the tuning record)
EXPERIMENT = "experiment"
_EVIDENCE_KEYS = {"kind", "check", "outcome", "summary", "detail", "figures", "labels", "counterexample",
                  "assumptions", "steps", "scope_gap", "planted"}
#: the outcomes a planted run of a kept row can have ("error" makes the row crash: never kept)
_PLANTED_OUTCOMES = ("holds", "fails", "undecided", "crash")


def _file_sha(path: Path) -> str | None:
    from numerics import data as D

    try:
        return D.sha256(path)
    except OSError:     # absent or unreadable: the rows find no data either
        return None


def experiment_inputs() -> dict[str, Any]:
    """What the experiment's rows read besides the code, as they stand now (nothing is
    fetched): MovieLens-100K's cached file (its sha256, ``None`` when absent) and whether it
    verifies, and the tuning record and its per-user validation scores (their sha256)."""
    from numerics import data as D
    from numerics.recsys import final as F
    from numerics.recsys import tuning as T

    sha = _file_sha(D.cache_dir() / D.FILE_NAME)
    return {"ml-100k": sha, "ml-100k verified": sha == D.INTER_SHA256, "record": _file_sha(F.RECORD),
            "per_user": _file_sha(T.per_user_path(F.RECORD))}


def evidence_from_json(d: Any) -> Evidence:
    """The :class:`Evidence` a results.json evidence entry stores (``ValueError`` or
    ``TypeError`` when it is not one)."""
    if not isinstance(d, Mapping):
        raise TypeError(f"an evidence entry is a {type(d).__name__}, not an object")
    extra = set(d) - _EVIDENCE_KEYS
    if extra:
        raise ValueError(f"unknown evidence fields {sorted(extra)}")
    for k in ("kind", "check", "outcome", "summary", "detail", "scope_gap"):
        if not isinstance(d.get(k, ""), str):
            raise TypeError(f"evidence field {k!r} is not a string")
    for k in ("figures", "labels", "counterexample"):
        if d.get(k) is not None and not isinstance(d[k], Mapping):
            raise TypeError(f"evidence field {k!r} is not an object")
    for k in ("assumptions", "steps"):
        if not (isinstance(d.get(k, []), list) and all(isinstance(s, str) for s in d.get(k, []))):
            raise TypeError(f"evidence field {k!r} is not a list of strings")
    ev = Evidence(d.get("kind"), d.get("check"), d.get("outcome"), detail=d.get("detail", ""),  # type: ignore[arg-type]
                  figures=d.get("figures"), counterexample=d.get("counterexample"),
                  steps=tuple(d.get("steps", ())), assumptions=tuple(d.get("assumptions", ())),
                  scope_gap=d.get("scope_gap", ""), summary=d.get("summary", ""), labels=d.get("labels"))
    if ev.to_json() != {k: v for k, v in d.items() if k != "planted"}:
        raise ValueError("the entry is not as the runner writes evidence")
    return ev


def _planted(claim: Claim, check, ev: Evidence, stored: Any) -> list[dict]:
    """The planted runs of ``ev`` as the runner writes them, checked against the registry."""
    items = check.planted if ev.outcome == "holds" else check.truths
    if not isinstance(stored, list) or len(stored) != len(items):
        raise ValueError(f"{check.name}: its planted runs are not the {len(items)} the registry declares")
    out = []
    for p, d in zip(items, stored):
        if not isinstance(d, Mapping):
            raise TypeError(f"{check.name}: a planted run is not an object")
        r = PlantedResult.from_json(d)
        if (r.defect, r.truth, r.resolution) != (p.defect, p.truth, p.resolution) or r.outcome not in _PLANTED_OUTCOMES \
                or r.to_json() != dict(d):
            raise ValueError(f"{check.name}: a planted run is not the registry's or has no possible outcome")
        out.append(r.to_json())
    return out


def validated(claim: Claim, row: Any, profile: str, planted: bool) -> dict[str, Any]:
    """The row to publish for a resumed ``row`` of ``claim`` (module docstring); raises
    ``ValueError`` (``TypeError``, :class:`SuiteDefect`) saying which rule it breaks."""
    if not isinstance(row, dict):
        raise TypeError("the stored row is not an object")
    stored = row.get("evidence")
    if not isinstance(stored, list) or len(stored) != len(claim.checks):
        raise ValueError(f"its evidence is not one entry for each of the registry's {len(claim.checks)} checks")
    evidence, rows = [], []
    for check, d in zip(claim.checks, stored):
        ev = evidence_from_json(d)
        if (ev.check, ev.kind) != (check.name, check.kind):
            raise ValueError(f"evidence {ev.check!r} ({ev.kind}) is not the registry's check {check.name!r} "
                             f"({check.kind})")
        if ev.summary == CRASHED:
            raise ValueError(f"{check.name}: a crashed check (a crashed row is never kept)")
        if check.scope_gap and not ev.scope_gap:
            raise ValueError(f"{check.name}: the declared scope gap is missing")
        audit_evidence(claim, ev)
        out = ev.to_json()
        if planted:
            out["planted"] = _planted(claim, check, ev, d.get("planted"))
        elif "planted" in d:
            raise ValueError(f"{check.name}: planted runs in a row run without them")
        evidence.append(ev)
        rows.append(out)
    clash = disagreements(claim, evidence)
    if clash:
        raise SuiteDefect("; ".join(clash))
    pins = claim.pinned(profile)
    departs = [f"{e.check} {e.outcome}, registered {pins.get(e.check)}" for e in evidence
               if pins.get(e.check) != e.outcome]
    if departs:
        raise ValueError(f"departs from its registered outcomes ({'; '.join(departs)})")
    rebuilt = assemble(claim, rows, verdict(evidence))
    if rebuilt != row:
        diff = sorted(k for k in set(rebuilt) | set(row) if rebuilt.get(k) != row.get(k))
        raise ValueError(f"is not the row its evidence gives (differs in {', '.join(diff)})")
    return rebuilt


class RowStore:
    """The report's finished rows (reports/store.py ``row_store``), read back only through
    :func:`validated`, and keyed, for the experiment's rows, by :func:`experiment_inputs`."""

    def __init__(self, out: Path, ctx: RunContext, planted: bool, version: str | None = None):
        self.ctx, self.planted = ctx, bool(planted)
        self.rows: ResultStore = row_store(out, ctx, planted, version)
        self.dir = self.rows.dir
        self._at_start: dict[str, Any] | None = None

    def _start(self) -> dict[str, Any]:
        if self._at_start is None:     # the state the run started from, read once
            self._at_start = experiment_inputs()
        return self._at_start

    def _key(self, claim: Claim) -> str:
        if claim.shares != EXPERIMENT:
            return claim.key
        return f"{claim.key}|inputs {sorted(self._start().items())!r}"

    def _say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def resumed(self, claim: Claim) -> dict[str, Any] | None:
        """The stored row of ``claim``, validated (and as the runner assembles it), or
        None: absent, unreadable, or failing a rule (then said on stderr: it is recomputed)."""
        row = self.rows.get(self._key(claim))
        if row is None:
            return None
        try:
            return validated(claim, row, self.ctx.profile, self.planted)
        except Exception as exc:  # noqa: BLE001 -- whatever a stored row breaks, it is recomputed
            self._say(f"resume: {claim.key}: the stored row is not trusted ({type(exc).__name__}: "
                      f"{' '.join(str(exc).split())[:300]}); recomputing it")
            return None

    def keep(self, claim: Claim, row: dict[str, Any]) -> bool:
        """Store a finished row that did not crash; an experiment row only when its data
        verified at the start and still does (module docstring).  Returns whether kept."""
        if claim.shares == EXPERIMENT:
            start = self._start()
            if not start["ml-100k verified"] or experiment_inputs() != start:
                return False
        self.rows.put(self._key(claim), row)
        return True

    def clear(self) -> None:
        self.rows.clear()

    def prune(self) -> int:
        return self.rows.prune()
