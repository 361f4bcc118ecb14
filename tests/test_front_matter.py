"""The appendix's front matter (issue 24, item 1): how the claims were reconstructed, one line per
paper claim with each reading's verdict and origin, and a glossary -- complete for every
registered row, faithful to the results' verdicts, and on page 1."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from audit import markup
from reports import front
from reports.latex import compile_pdf, render_appendix
from reports.registry import all_claims
from reports.texfmt import marked

from test_latex import synthetic_results

REPORT = Path(__file__).resolve().parents[1] / "reports" / "out" / "results.json"
VERDICTS = ("verified", "supported", "refuted", "inconclusive", "crashed")

#: the glossary the issue asks for (issue 24 item 1 and its brief), as the terms print
REQUIRED_TERMS = ("FY", "CON", "DYN", "APX", "CPX", "EXP", "SOP", "WOP", "L1", "L2", "O1", "O2", "H1", "H2", "R1",
                  "R2", "RG$^2$", r"RG$\times$", "KKT", "FD", "SSM", "NCE", "HSM", "NDCG@$k$", "planted defect",
                  "planted truth", "re-checked", "profile", "scope", "scope gap", "counted operations")


def registry_results() -> dict:
    """Every registered row, each with a verdict that is NOT its expected one (cycled through the
    four verdicts other than crashed: crashed rows are listed before the front matter), so a summary
    that printed the registry's expectation instead of the results' would show."""
    rows = []
    for i, c in enumerate(all_claims()):
        v = VERDICTS[(VERDICTS.index(c.expected) + 1 + i % 3) % 4]
        outcome = {"refuted": "fails", "inconclusive": "undecided"}.get(v, "holds")
        rows.append({"id": c.id, "reading": c.reading, "statement": c.statement, "verdict": v,
                     "evidence": [{"kind": "numeric", "check": "stand-in", "outcome": outcome, "summary": "a check"}]})
    return {"schema": 1, "meta": {"profile": "quick", "seed": 0, "device": "cpu"}, "claims": rows}


def _section(tex: str, start: str, end: str) -> str:
    return tex[tex.index(start):tex.index(end)]


def _summary_verdicts(tex: str) -> dict[int, tuple[str, str]]:
    """{row number: (reading as printed, verdict)} read back from the summary's LaTeX."""
    part = _section(tex, r"\subsection*{The paper's claims", r"\subsection*{Glossary}")
    found: dict[int, tuple[str, str]] = {}
    for m in re.finditer(r"\\hyperref\[claim-(\d+)\]\{(.*?)\}~\\verdictword\{(\w+)\}", part):
        assert int(m.group(1)) not in found, f"row {m.group(1)} summarised twice"
        found[int(m.group(1))] = (m.group(2), m.group(3))
    return found


# ----------------------------------------------------------------------------- every row has an entry

def test_every_registered_row_has_a_summary_entry():
    assert front.missing(registry_results()["claims"]) == []


@pytest.mark.skipif(not REPORT.exists(), reason="no report written here (reports/out/results.json)")
def test_every_row_of_the_written_report_has_a_summary_entry():
    assert front.missing(json.loads(REPORT.read_text())["claims"]) == []


def test_a_row_without_an_entry_is_named():
    """The coverage tests above can fail: a new claim id, or a new reading of a known claim."""
    rows = [{"id": "FY-1", "reading": "softmax"}, {"id": "FY-9", "reading": "softmax"},
            {"id": "FY-1", "reading": "softmax/new-reading"}, {"id": "FY-9", "reading": "other"}]
    assert front.missing(rows) == ["FY-9", "FY-9[softmax]", "FY-1[softmax/new-reading]", "FY-9[other]"]


def test_readings_named_by_a_rule():
    """A user's loss (audit-loss rows ``ID[user:NAME]``) and rankmax's reading R2 are covered by
    their rule; a name that merely contains the letters is not."""
    assert "proposed loss" in front.origin_of("FY-3", "user:binary_entropy")
    for reading in ("rankmax/R2", "rankmax-R2", "R2", "rankmax[R2]"):
        assert "Kong et al. 2020" in front.origin_of("FY-1", reading), reading
    for reading in ("rg2", "rankmax/R21", "ssm/uniform@n=100000"):
        assert front.origin_of("FY-1", reading) is None, reading


def test_every_entry_is_marked_text():
    texts = [*front.CLAIM_WORDS.values(), *front.READING_ORIGINS.values(),
             *(o for _, _, o in front.READING_PATTERNS)]
    texts += [x for _, terms in front.GLOSSARY for pair in terms for x in pair]
    bad = {t: markup.problems(t) for t in texts if markup.problems(t)}
    assert bad == {}


def test_flagged_readings_exist():
    """Every reading flagged as one the paper may not intend is a registered row (a renamed row
    would otherwise silently lose its flag)."""
    keys = {(c.id, c.reading) for c in all_claims()}
    assert front.UNINTENDED <= keys, front.UNINTENDED - keys


# ----------------------------------------------------------------------------- what the appendix prints

def test_the_front_matter_is_printed_in_place():
    results = registry_results()
    tex = render_appendix(results)
    assert tex.isascii()
    # placed after "What was audited" and before "How to read a verdict" and the verdict table
    order = [tex.index(s) for s in (r"\subsection*{What was audited}", r"\subsection*{How the claims were read}",
                                     r"\subsection*{The paper's claims", r"\subsection*{Glossary}",
                                     r"\subsection*{How to read a verdict}", r"\subsection*{Verdicts}")]
    assert order == sorted(order)
    # the reconstruction paragraph: text unavailable, reconstructed from the seeds, readings listed, refuted scoped
    para = _section(tex, r"\subsection*{How the claims were read}", r"\subsection*{The paper's claims")
    for phrase in ("full text was not available", r"\textbf{reconstructed}", "abstract", "novelty report",
                   r"\texttt{shared/seeds/}", r"\texttt{shared/CLAIMS.md}", r"Section~\ref{sec-claims}",
                   r"\verdictword{refuted} means that reading is false", "not necessarily that the paper is wrong"):
        assert phrase in para, phrase
    # one line per claim id, in registry order, with its plain words
    summary = _section(tex, r"\subsection*{The paper's claims", r"\subsection*{Glossary}")
    ids = list(dict.fromkeys(c.id for c in all_claims()))
    lines = [summary.index(rf"\textbf{{{cid}}} & {marked(front.CLAIM_WORDS[cid])} &") for cid in ids]
    assert lines == sorted(lines) and len(ids) == len(front.CLAIM_WORDS)
    assert "no summary entry" not in tex


def test_each_readings_verdict_is_the_results_verdict():
    results = registry_results()
    rows = results["claims"]
    printed = _summary_verdicts(render_appendix(results))
    assert sorted(printed) == list(range(1, len(rows) + 1))      # every row once, linked to its page
    for i, (row, claim) in enumerate(zip(rows, all_claims()), 1):
        assert printed[i][1] == row["verdict"] != claim.expected, (row["id"], row["reading"])
    # and they follow the results when the results change
    rows[0]["verdict"] = "refuted" if rows[0]["verdict"] != "refuted" else "verified"
    assert _summary_verdicts(render_appendix(results))[1][1] == rows[0]["verdict"]


def test_readings_the_paper_may_not_intend_are_flagged():
    tex = render_appendix(registry_results())
    summary = _section(tex, r"\subsection*{The paper's claims", r"\subsection*{Glossary}")
    flagged = []
    for line in re.split(r"\\newline|\\\\", summary):     # one group of readings per piece
        if "A reading the paper may not intend" in line:
            flagged += [int(i) for i in re.findall(r"\\hyperref\[claim-(\d+)\]", line)]
    keys = [(c.id, c.reading) for c in all_claims()]
    assert sorted(keys[i - 1] for i in flagged) == sorted(front.UNINTENDED)
    # the five the issue names among them
    for key in [("FY-4", "entmax[alpha>2]"), ("DYN-2", "sparsemax"), ("APX-1", "nce/c=0"), ("APX-4", "hsm/H1"),
                ("CPX-2", "approximations-cheaper")]:
        assert key in front.UNINTENDED


def test_the_glossary_defines_every_required_term():
    tex = render_appendix(registry_results())
    glossary = _section(tex, r"\subsection*{Glossary}", r"\subsection*{How to read a verdict}")
    terms = {t for _, entries in front.GLOSSARY for term, _ in entries for t in term.split(", ")}
    assert set(REQUIRED_TERMS) <= terms, set(REQUIRED_TERMS) - terms
    for _, entries in front.GLOSSARY:
        for term, definition in entries:
            assert rf"\textbf{{{marked(term)}}} {marked(definition)}" in glossary, term


def test_rows_without_an_entry_still_render():
    """The synthetic results of test_latex carry ids and readings of no registry row: the report
    still renders (saying so in place of the entry), and missing() names them."""
    results = synthetic_results()
    tex = render_appendix(results)
    assert tex.isascii() and r"\emph{no summary entry}" in tex
    assert "CAL-2" in front.missing(results["claims"])
    # a crashed row's verdict word is the report's
    printed = _summary_verdicts(tex)
    for i, row in enumerate(results["claims"], 1):
        assert printed[i][1] == row["verdict"]


@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
                    reason="pdflatex or pdftotext not on PATH (the bootstrap installs both)")
def test_the_front_matter_starts_on_page_one(tmp_path):
    path = tmp_path / "appendix.tex"
    path.write_text(render_appendix(registry_results()), encoding="utf-8")
    pdf = compile_pdf(path, timeout=180)
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    for heading in ("What was audited", "How the claims were read", "claims, reading by reading"):
        assert heading in page1, heading
    assert "full text was not available" in page1 and "FY-1" in page1
