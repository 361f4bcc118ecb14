"""Issue 24, item 3: one number in four places.

Every row is printed in three places besides results.json: its line of the front table (and its
verdict in the per-claim summary of page 1), its claim page in appendix.tex, and its evidence
record in evidence.tex.  This test renders both documents from a results dict, cuts them into
those places by their anchors (``claim-i``, ``ev-i``), and checks each place against
results.json, read here by its own parser (the printed text is never compared with the printing
code's output for the same input):

* the verdict: the one word each place prints is the row's ``verdict``;
* the numbers: every decimal the front line prints appears, as printed, on the page and in the
  record, and is a value of the row's record in results.json (a stored number, one of the
  statement's constants, or a number the record's detail states) rounded to the printed digits
  (either way: an interval is printed rounded outwards);
* the inequality: where the statement and a summary (front line, page) relate the same two
  symbols, the summary's relation is one the statement uses for them (``\\ge`` stays ``\\ge``);
* the item indexing: a front line that names items by number says they count from 1, and the
  numbers are the stored (0-based) pair plus 1.

It runs on reports/out/results.json (the morning's quick run; the full run's when that is the
one there) and on a synthetic results dict, on which each kind of tampering must be found.
"""
from __future__ import annotations

import copy
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

from reports.latex import render_appendix, render_evidence

QUICK = Path(__file__).resolve().parents[1] / "reports" / "out" / "results.json"
PLACES = ("front line", "claim page", "evidence record")


# ----------------------------------------------------------------------------- cutting the documents
def _between(text: str, start: str, stop: str) -> str:
    i = text.index(start)
    j = text.find(stop, i + len(start))
    return text[i:] if j < 0 else text[i:j]


def places(results: Mapping[str, Any]) -> dict[int, dict[str, str]]:
    """Per row (1-based, as the anchors count): the text of each place, and the verdict word of
    the per-claim summary on page 1."""
    app, evd = render_appendix(results), render_evidence(results)
    table = _between(app, r"\subsection*{Verdicts}", r"\end{longtable}")
    summary = _between(app, r"\subsection*{The paper's claims", r"\end{longtable}")
    out: dict[int, dict[str, str]] = {}
    n = len(results.get("claims") or [])
    for i in range(1, n + 1):
        line = re.search(r"^\\hyperref\[claim-%d\]\{.*?$" % i, table, re.M)
        page = _between(app, r"\label{claim-%d}" % i, r"\label{claim-%d}" % (i + 1)
                        if i < n else r"\end{document}")
        record = _between(evd, r"\label{ev-%d}" % i, r"\label{ev-%d}" % (i + 1) if i < n else r"\end{document}")
        front = re.search(r"\\hyperref\[claim-%d\]\{(?:[^{}]|\{[^{}]*\})*\}~(\\verdictword\{[a-z]+\}|\\textbf\{[^}]*\})"
                          % i, summary)
        out[i] = {"front line": line.group(0) if line else "", "claim page": page, "evidence record": record,
                  "summary verdict": front.group(1) if front else ""}
    return out


# ----------------------------------------------------------------------------- reading printed text
_VERDICT = re.compile(r"\\textcolor\{v-([a-z]+)\}\{\1\}|\\verdictword\{([a-z]+)\}")


def _printed_verdicts(text: str) -> list[str]:
    return [a or b for a, b in _VERDICT.findall(text)]


def _front_cells(line: str) -> tuple[str, str]:
    """(verdict cell, what-decided-it cell) of a front-table line."""
    cells = line.rstrip().removesuffix(r"\\").split(" & ", 3)
    return (cells[2], cells[3]) if len(cells) == 4 else ("", "")


_NUM = re.compile(r"(?<![\w.{^_])(-?\d+\.\d+)(?:\s*\\times\s*10\^\{?(-?\d+)\}?|e([-+]?\d+))?(\\%|%)?")


def _decimals(tex: str) -> list[tuple[str, float, float]]:
    """(as printed, value, unit of the last printed digit) for each decimal number of a printed text
    (anchors and colours removed; a mantissa times a power of ten read as one number; a percentage as a fraction)."""
    tex = re.sub(r"\\(hyperref|href|label|hypertarget|textcolor|IfFileExists|includegraphics)(\[[^\]]*\])?\{[^}]*\}",
                 " ", tex)
    tex = tex.replace("−", "-").replace(r"{-}", "-")
    out = []
    for m in _NUM.finditer(tex):
        digits = len(m.group(1).split(".")[1])
        power = m.group(2) or m.group(3)
        scale = 10.0 ** int(power) if power else 1.0
        scale /= 100.0 if m.group(4) else 1.0
        out.append((m.group(0), float(m.group(1)) * scale, 10.0 ** -digits * scale))
    return out


def _leaves(x: Any) -> Iterator[float]:
    """Every finite number stored in a results.json value (strings that are numbers included)."""
    if isinstance(x, bool):
        return
    if isinstance(x, (int, float)):
        if math.isfinite(x):
            yield float(x)
    elif isinstance(x, str):
        for m in re.finditer(r"(?:(?<![\w)])-)?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", x):  # a hyphen is no minus
            yield float(m.group(0))
    elif isinstance(x, Mapping):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _leaves(v)


def _differences(x: Any) -> Iterator[float]:
    """Differences of two numbers stored side by side (one small list or dict): a printed gap
    ``theta_i - theta_j`` or ``found - claimed`` that a reader computes from the record."""
    if isinstance(x, Mapping):
        kids = list(x.values())
    elif isinstance(x, (list, tuple)):
        kids = list(x)
    else:
        return
    nums = [float(v) for v in kids if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if 2 <= len(nums) <= 16:
        yield from (a - b for a in nums for b in nums)
    for v in kids:
        yield from _differences(v)


def _row_values(row: Mapping[str, Any]) -> list[float]:
    """The numbers of a row's record in results.json: its reading, statement, scope and constants, its stored
    figures and counterexamples (and differences of two stored side by side), and the numbers its details
    state (those print in the evidence record)."""
    vals = [*_leaves(row.get("reading", "")), *_leaves(row.get("statement", "")), *_leaves(row.get("scope", "")),
            *_leaves(row.get("constants") or {})]
    for ev in row.get("evidence") or []:
        for stored in (ev.get("figures") or {}, ev.get("counterexample")):
            vals += [*_leaves(stored), *_differences(stored)]
        vals += list(_leaves(ev.get("detail", "")))
    return vals


def _printed_in(number: str, text: str) -> bool:
    """The number as printed, as a whole number of the text (not the head of a longer one)."""
    return re.search(r"(?<![\d.])" + re.escape(number) + r"(?![\d])", text) is not None


def _agrees(x: float, unit: float, values: list[float]) -> bool:
    """x is one of the values rounded to its printed digits (to nearest, or outwards for an interval)."""
    tol = unit * (1 + 1e-9) + 1e-12 * abs(x)
    return any(abs(v - x) <= tol for v in values)


_SYMBOL = r"(?:\\hat\s*y|\\theta|\\eta|y|p|q)_\{?[a-z0-9]\}?"
_REL = r"(>|<|\\ge|\\geq|\\le|\\leq|=|\\neq|\\ne)"
_INEQ = re.compile(rf"({_SYMBOL})\s*{_REL}\s*({_SYMBOL})")
_FLIP = {">": "<", "<": ">", r"\ge": r"\le", r"\le": r"\ge", "=": "=", r"\ne": r"\ne"}


def _relations(tex: str) -> dict[tuple[str, str], set[str]]:
    """Each pair of indexed symbols that a text relates, with the relations used (written one way round)."""
    out: dict[tuple[str, str], set[str]] = {}
    for a, rel, b in _INEQ.findall(tex):
        rel = {r"\geq": r"\ge", r"\leq": r"\le", r"\neq": r"\ne"}.get(rel, rel)
        a, b = re.sub(r"[\s{}]", "", a), re.sub(r"[\s{}]", "", b)
        if a > b:
            a, b, rel = b, a, _FLIP[rel]
        out.setdefault((a, b), set()).add(rel)
    return out


_ITEMS = re.compile(r"\bitems? (\d+)(?: (?:over|above|and|at or above) (\d+))")


# ----------------------------------------------------------------------------- the check
def audit_places(results: Mapping[str, Any]) -> tuple[int, list[str]]:
    """(rows x places checked, every mismatch found)."""
    rows = list(results.get("claims") or [])
    where = places(results)
    bad: list[str] = []
    checked = 0
    for i, row in enumerate(rows, 1):
        key = f"{row.get('id')}[{row.get('reading')}]"
        got = where[i]
        v = str(row.get("verdict"))
        verdict_cell, decided = _front_cells(got["front line"])
        # 1. the verdict, in every place (the front line's verdict cell and page 1's summary included)
        seen = {"front line": _printed_verdicts(verdict_cell), "page 1 summary": _printed_verdicts(got["summary verdict"]),
                "claim page": _printed_verdicts(got["claim page"].split(r"\begin{quote}")[0]),
                "evidence record": _printed_verdicts(got["evidence record"].split(r"\begin{quote}")[0])}
        for place, words in seen.items():
            if words != [v]:
                bad.append(f"{key} {place}: verdict {words} where results.json has {v!r}")
        # 2. the front line's numbers: on the page and in the record as printed, and values of the record
        values = _row_values(row)
        for printed, x, unit in _decimals(decided):
            for place in ("claim page", "evidence record"):
                if not _printed_in(printed, got[place]):
                    bad.append(f"{key} {place}: the front line's {printed!r} is not printed here")
            if not _agrees(x, unit, values):
                bad.append(f"{key} front line: {printed!r} is no value of the row's record in results.json "
                           f"(rounded to its digits)")
        # 3. the inequality of the statement, as the summaries state it
        stated = _relations(got["claim page"].split(r"\begin{quote}")[1].split(r"\end{quote}")[0]
                            if r"\begin{quote}" in got["claim page"] else "")
        body = got["claim page"].split(r"\end{quote}")[-1]
        for place, text in (("front line", decided), ("claim page", body)):
            for pair, rels in _relations(text).items():
                if pair in stated and not rels <= stated[pair]:
                    bad.append(f"{key} {place}: {pair[0]} {sorted(rels)} {pair[1]} where the statement has "
                               f"{sorted(stated[pair])}")
        # 4. item numbers: said to count from 1, and the stored 0-based pair plus 1
        pairs = [ev.get("counterexample", {}).get("pair") for ev in row.get("evidence") or []
                 if isinstance(ev.get("counterexample"), Mapping)]
        for summary in re.split(r";\s", decided):
            named = _ITEMS.search(summary)
            if not named:
                continue
            if "from 1" not in summary and "1-based" not in summary:
                bad.append(f"{key} front line: items {named.group(1)}, {named.group(2)} printed without saying they "
                           f"count from 1 (results.json counts from 0)")
            items = {int(named.group(1)), int(named.group(2))}
            if not any(isinstance(p, list) and {int(k) + 1 for k in p} == items for p in pairs):
                bad.append(f"{key} front line: items {sorted(items)} are no stored pair plus 1 ({pairs})")
        checked += len(PLACES) + 1  # the three places and page 1's summary, against results.json
    return checked, bad


# ----------------------------------------------------------------------------- the report on disk
@pytest.mark.skipif(not QUICK.exists(), reason="no reports/out/results.json")
def test_every_place_of_the_quick_report_agrees_with_results_json():
    results = json.loads(QUICK.read_text())
    checked, bad = audit_places(results)
    assert checked == 4 * len(results["claims"])
    assert not bad, f"{len(bad)} mismatches in {checked} row x places:\n" + "\n".join(bad)


# ----------------------------------------------------------------------------- a synthetic report, tampered
def _synthetic() -> dict[str, Any]:
    """Two rows whose values are known here: a refuted order row with a 0-based pair, and a
    supported rate row whose summary rounds a stored figure."""
    order = {"id": "CON-3", "reading": "sparsemax/O2", "verdict": "refuted",
             "statement": r"Every minimizer has $\eta_i > \eta_j \Rightarrow \theta_i \ge \theta_j$.",
             "evidence": [{"kind": "numeric", "check": "bayes-minimizer-order", "outcome": "fails",
                           "summary": r"every minimizer ranks item 3 over 2 (from 1): $\theta_i \ge \theta_j$ broken, "
                                      r"gap 0.2214",
                           "detail": "the pair is stored 0-based", "counterexample": {"pair": [1, 2], "gap": 0.221442},
                           "planted": []}]}
    rate = {"id": "DYN-2", "reading": "softmax", "verdict": "supported",
            "statement": r"The loss decays like $1/t$ (band $[-1.2, -0.8]$).",
            "evidence": [{"kind": "numeric", "check": "separable-gd", "outcome": "holds",
                          "summary": r"99.95% intervals of $s$ in $[-1.0019, -0.9141]$ (band $[-1.2, -0.8]$)",
                          "figures": {"run": {"ci": [-1.001834, -0.914106], "level": 0.9995}}, "planted": []}]}
    return {"schema": "test", "meta": {"profile": "quick", "seed": 0, "device": "cpu"}, "claims": [order, rate]}


def test_the_synthetic_report_agrees_in_every_place():
    checked, bad = audit_places(_synthetic())
    assert checked == 8 and not bad, bad


def _tampered_render(results, place: str, old: str, new: str):
    """audit_places on documents where one place prints ``new`` for ``old`` (the renderers patched)."""
    app, evd = render_appendix(results), render_evidence(results)
    if place == "claim page":
        head, tail = app.split(r"\section{Claims}", 1)
        app = head + r"\section{Claims}" + tail.replace(old, new, 1)
    elif place == "evidence record":
        evd = evd.replace(old, new, 1)
    else:
        head, tail = app.split(r"\subsection*{Verdicts}", 1)
        app = head + r"\subsection*{Verdicts}" + tail.replace(old, new, 1)
    mp = pytest.MonkeyPatch()
    mp.setattr(sys.modules[__name__], "render_appendix", lambda r: app)
    mp.setattr(sys.modules[__name__], "render_evidence", lambda r: evd)
    try:
        return audit_places(results)
    finally:
        mp.undo()


@pytest.mark.parametrize("place, old, new, found", [
    ("claim page", r"\textcolor{v-refuted}{refuted}", r"\textcolor{v-verified}{verified}", "claim page: verdict"),
    ("evidence record", r"\textcolor{v-supported}{supported}", r"\textcolor{v-verified}{verified}",
     "evidence record: verdict"),
    ("front line", r"\textcolor{v-supported}{supported}", r"\textcolor{v-refuted}{refuted}", "front line: verdict"),
    ("evidence record", "-0.9141]", "-0.9172]", "evidence record: the front line's '-0.9141'"),
    ("front line", "-0.9141]", "-0.9172]", "'-0.9172' is no value"),
    ("front line", r"\theta_i \ge \theta_j", r"\theta_i > \theta_j", "front line: \\theta_i ['>'] \\theta_j"),
    ("front line", "(from 1)", "", "without saying they count from 1"),
    ("front line", "item 3 over 2", "item 2 over 1", "no stored pair plus 1"),
])
def test_a_tampered_place_is_found(place, old, new, found):
    results = _synthetic()
    _, bad = _tampered_render(results, place, old, new)
    assert any(found in b for b in bad), (found, bad)


def test_a_summary_that_misrounds_its_figure_is_found():
    """The data side: the stored interval moves, the printed one does not."""
    results = _synthetic()
    results["claims"][1]["evidence"][0]["figures"]["run"]["ci"] = [-1.001834, -0.9166]
    _, bad = audit_places(copy.deepcopy(results))
    assert any("'-0.9141' is no value" in b for b in bad), bad
