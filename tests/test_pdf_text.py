"""What a reader of the PDFs sees: the compiled documents' text, read back with pdftotext,
holds no escaper artefacts -- a caret or backslash printed as text, an underscore between
letters, a macro's name ("textasciicircum").  Mathematics is typeset, so these appear only
where pseudo-math went through the text escaper; the detector is shown to see them.

Scope: the text the suite authors (statements, summaries, details, steps, labels, captions,
tables).  Counterexamples are data, printed whole as JSON in evidence.pdf (their keys may hold
underscores); the evidence document is read back without them."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reports.latex import compile_pdf, render_appendix, render_evidence
from reports.registry import all_claims
from reports.texfmt import escape

from test_latex import synthetic_results

pytestmark = pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
                                reason="pdflatex or pdftotext not on PATH (the bootstrap installs both)")

ARTEFACTS = (
    (re.compile(r"[\^\u02c6]"), "a caret printed as text"),
    # a macro name or a brace after a backslash (a typeset \\setminus reads back as a lone backslash)
    (re.compile(r"\\(?=[A-Za-z{}])"), "a backslash printed as text"),
    (re.compile(r"[^\W\d_]\W?_[^\W\d_]"), "an underscore between letters"),   # ŷ may read back as y + a mark
    (re.compile(r"text(asciicircum|backslash|underscore|asciitilde)|ensuremath|displaystyle"),
     "a macro's name printed as text"),
)


def artefacts(text: str) -> list[str]:
    """Each artefact found, with the line it is on."""
    found = []
    for line in text.splitlines():
        for pattern, what in ARTEFACTS:
            if pattern.search(line):
                found.append(f"{what}: {line.strip()[:120]!r}")
    return found


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _read_back(tmp_path: Path, name: str, tex: str) -> str:
    path = tmp_path / f"{name}.tex"
    path.write_text(tex, encoding="utf-8")
    pdf = compile_pdf(path, timeout=120)
    assert pdf is not None
    return pdf_text(pdf)


def without_counterexamples(results: dict) -> dict:
    rows = [{**r, "evidence": [{k: v for k, v in e.items() if k != "counterexample"} for e in r["evidence"]]}
            for r in results["claims"]]
    return {**results, "claims": rows}


def test_the_detector_sees_what_the_escaper_made_of_pseudo_math(tmp_path):
    """The planted defect of this file's checks: statements typed as Unicode pseudo-math and
    passed through the text escaper, as the appendix printed them before marked text."""
    planted = ["Σ p^α", "[θ − τ]_+", "e^{θ_j}", "max |ŷ − ŷ_cvxpy|"]
    tex = ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath,amssymb}\n"
           "\\begin{document}\n" + "\n\n".join(escape(t) for t in planted) + "\n\\end{document}\n")
    found = artefacts(_read_back(tmp_path, "planted", tex))
    assert any("caret" in f for f in found) and any("underscore" in f for f in found), found
    # the same statements as marked text read back clean
    results = synthetic_results()
    results["claims"][0]["statement"] = r"$\sum p^\alpha$, $[\theta - \tau]_+$, $e^{\theta_j}$"
    assert artefacts(_read_back(tmp_path, "clean", render_appendix(without_counterexamples(results)))) == []


def test_the_documents_read_back_without_artefacts(tmp_path):
    results = without_counterexamples(synthetic_results())
    for name, render in (("appendix", render_appendix), ("evidence", render_evidence)):
        text = _read_back(tmp_path, name, render(results))
        assert artefacts(text) == [], name
        assert "cvxpy agrees with" in text   # a summary, typeset
    assert "re-checked" in pdf_text(tmp_path / "appendix.pdf")


def test_every_registered_statement_reads_back_without_artefacts(tmp_path):
    """Every row's statement and planted defects as the two documents print them (the runner
    holds a check's own text to the same rule on every run)."""
    rows = [{"id": c.id, "reading": c.reading, "statement": c.statement, "verdict": c.expected,
             "evidence": [{"kind": ch.kind, "check": ch.name, "outcome": "holds", "summary": "planted defects:",
                           "planted": [{"defect": p.defect, "outcome": "fails"} for p in ch.planted]}
                          for ch in c.checks]}
            for c in all_claims()]
    results = {"schema": 1, "meta": {"profile": "quick", "seed": 0, "device": "cpu"}, "claims": rows}
    for name, render in (("appendix", render_appendix), ("evidence", render_evidence)):
        found = artefacts(_read_back(tmp_path, name, render(results)))
        assert found == [], f"{name}: " + "\n".join(found[:30])


def _inflated(pdf: Path) -> str:
    """The PDF's bytes with its compressed streams inflated, as Latin-1 text."""
    import zlib

    data = pdf.read_bytes()
    blobs = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            blobs.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return b"".join(blobs).decode("latin-1")


def _link_targets(pdf: Path) -> set[tuple[str, str]]:
    """(file, named destination) of every link to another PDF (GoToR actions)."""
    return set(re.findall(r"/F\s*\(([^)]*)\)\s*/S\s*/GoToR\s*/D\s*\(([^)]*)\)", _inflated(pdf)))


def _dests(pdf: Path) -> set[str]:
    out = subprocess.run(["pdfinfo", "-dests", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].strip('"') for line in out.splitlines() if '"' in line}


def test_each_row_links_to_its_record_and_back(tmp_path):
    """Bookmarked pages, and links between the documents that land on named destinations."""
    results = synthetic_results()
    _read_back(tmp_path, "appendix", render_appendix(results))
    _read_back(tmp_path, "evidence", render_evidence(results))
    body, ev = tmp_path / "appendix.pdf", tmp_path / "evidence.pdf"
    rows = range(1, len(results["claims"]) + 1)
    assert {("evidence.pdf", f"ev-{i}") for i in rows} <= _link_targets(body)
    assert {("appendix.pdf", f"claim-{i}") for i in rows} <= _link_targets(ev)
    assert {f"ev-{i}" for i in rows} <= _dests(ev) and {f"claim-{i}" for i in rows} <= _dests(body)
    assert "/Outlines" in _inflated(body)   # bookmarks
