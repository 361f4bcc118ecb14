"""Issue 24, item 2: scope in every line.

Every registered row states the limits of its evidence (``Claim.scope``: one free score vector,
$n = 3$ symbolic and $n = 6$ numeric, one ray, binary relevance with a fixed $k$, a finite grid,
one data set); the runner writes it into the row (results.json ``scope``), a resumed row gets it
from the registry (tests/test_resume_validation.py tampers with it), and both documents print
it: under the row's line of the Verdicts table, on its claim page and in its evidence record.
The places are cut out of the rendered LaTeX by tests/test_four_places.py's ``places``."""
from __future__ import annotations

import copy

import pytest

from audit import Evidence, RunContext, markup
from reports.claim import Check, Claim
from reports.recheck import shape_problems
from reports.registry import all_claims
from reports.runner import assemble, run_claim
from reports.texfmt import marked
from test_four_places import places

#: a scope is one line of the front table's width or two, never a paragraph
SCOPE_CHARS = 240


def test_every_registered_row_states_the_scope_of_its_evidence():
    bad = []
    for c in all_claims():
        if not c.scope.strip():
            bad.append(f"{c.key}: no scope")
            continue
        bad += [f"{c.key}: {p}" for p in markup.problems(c.scope)]
        if "\n" in c.scope or markup.visible_length(c.scope) > SCOPE_CHARS:
            bad.append(f"{c.key}: the scope is longer than a line or two ({markup.visible_length(c.scope)} chars)")
    assert not bad, "\n".join(bad)


def test_the_scopes_the_issue_names_say_their_limits():
    """The rows issue 24 names: their lines must say the limit a reviewer found missing."""
    by_key = {c.key: c.scope for c in all_claims()}
    assert "one free score vector" in by_key["DYN-2[sparsemax/lr=1/L]"]
    assert "$n = 3$" in by_key["APX-2[ssm/uniform]"] and "$n = 6$" in by_key["APX-2[ssm/uniform]"]
    assert all("one ray" in by_key[f"APX-5[{k}/scale]"] and "$n = 6$" in by_key[f"APX-5[{k}/scale]"]
               for k in ("rg2", "rgx"))
    assert "binary relevance with the same $k$ in every draw" in by_key["CON-2[rankmax/multihot]"]
    assert all("MovieLens-100K" in s and "splits" in s for k, s in by_key.items() if k.startswith("EXP-1["))


def _claim(scope: str) -> Claim:
    ev = Evidence("numeric", "stand-in", "holds", summary="a check that holds", detail="nothing to see")
    return Claim("FY-0", "scoped", "A statement.", (Check("stand-in", "numeric", lambda ctx: ev),), scope=scope)


def test_results_json_carries_the_scope_after_the_statement():
    row, crashed = run_claim(_claim(r"one point, $n = 2$"), RunContext(seed=0))
    assert not crashed and row["scope"] == r"one point, $n = 2$"
    assert list(row)[:4] == ["id", "reading", "statement", "scope"]
    row, _ = run_claim(_claim(""), RunContext(seed=0))   # a row of no registry (a test's) states none
    assert "scope" not in row
    assert assemble(_claim("x"), [], "supported")["scope"] == "x"


def test_the_outside_rechecker_refuses_a_scope_that_is_not_text():
    row = {"id": "FY-0", "reading": "r", "statement": "s", "scope": "one point", "verdict": "supported",
           "evidence": [{"kind": "numeric", "check": "c", "outcome": "holds"}]}
    assert shape_problems({"claims": [row]}) == []
    row["scope"] = ["one point"]
    assert any("scope is not a string" in p for p in shape_problems({"claims": [row]}))


def _registry_results() -> dict:
    """Every registered row with its registry scope and a stand-in check (nothing is computed)."""
    rows = []
    for c in all_claims():
        rows.append({"id": c.id, "reading": c.reading, "statement": c.statement, "scope": c.scope,
                     "verdict": c.expected,
                     "evidence": [{"kind": "numeric", "check": "stand-in", "summary": "a check",
                                   "outcome": {"refuted": "fails", "inconclusive": "undecided"}.get(c.expected,
                                                                                                   "holds")}]})
    return {"schema": 1, "meta": {"profile": "quick", "seed": 0, "device": "cpu"}, "claims": rows}


def test_every_scope_prints_on_the_front_line_the_claim_page_and_the_evidence_record():
    results = _registry_results()
    where = places(results)
    missing, checked = [], 0
    for i, row in enumerate(results["claims"], 1):
        if not row["scope"]:
            continue  # a registry row without one: the test above names it
        checked += 1
        printed = marked(row["scope"])
        if not where[i]["front line"].rstrip().endswith(r"\newline{\emph{Scope:} " + printed + r"} \\"):
            missing.append(f"{row['id']}[{row['reading']}] front line")
        if r"\textbf{Scope of the evidence:} " + printed not in where[i]["claim page"]:
            missing.append(f"{row['id']}[{row['reading']}] claim page")
        if r"\textbf{Scope of the evidence:} " + printed not in where[i]["evidence record"]:
            missing.append(f"{row['id']}[{row['reading']}] evidence record")
    assert checked >= 94 and not missing, "\n".join(missing)


def test_a_row_without_a_scope_prints_none():
    """An older results.json (no ``scope``) still renders, with no empty scope line."""
    results = _registry_results()
    rows = copy.deepcopy(results["claims"][:2])
    for r in rows:
        r.pop("scope")
    where = places({**results, "claims": rows})
    assert all("Scope" not in text for w in where.values() for text in w.values())


@pytest.mark.parametrize("key", ["APX-2[ssm/uniform]", "CON-2[rankmax/multihot]"])
def test_a_changed_scope_changes_every_place(key):
    """The printed scope is the row's own, read from results.json: edit it there and every place
    follows (no place prints the registry's text behind the results' back)."""
    results = _registry_results()
    i, row = next((i, r) for i, r in enumerate(results["claims"], 1) if f"{r['id']}[{r['reading']}]" == key)
    row["scope"] = "a planted scope"
    where = places(results)[i]
    assert all("a planted scope" in where[p] for p in ("front line", "claim page", "evidence record"))
