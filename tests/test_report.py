"""The report contract: results.json schema, determinism, the CLI, the PDF."""
import json
import shutil
import subprocess
import sys

import pytest

from audit import VERDICTS, Evidence
from reports.bench_report import mask_wallclock
from reports.claim import verdict

# one pytest-xdist worker for the whole module: its module-scoped fixtures are computed once
pytestmark = pytest.mark.xdist_group("report-runs")

# cheap rows, one of them refuted
ONLY = ["FY-3[softmax]", "FY-3[sparsemax]", "FY-3[entmax]", "FY-3[rankmax]", "FY-4[entmax[alpha>2]]"]


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "reports.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    outs = []
    for i in range(2):
        out = tmp_path_factory.mktemp(f"run{i}")
        proc = _cli("report", "--profile", "quick", "--seed", "3", "--out", str(out), "--only", *ONLY,
                    *(["--no-pdf", "--jobs", "1"] if i else []))   # the default (a worker per core), then in process
        assert proc.returncode == 0, proc.stderr
        outs.append((out, proc))
    return outs


def test_results_json_follows_the_contract(two_runs):
    out, proc = two_runs[0]
    res = json.loads((out / "results.json").read_text())
    assert res["schema"] == 1
    assert res["meta"]["profile"] == "quick" and res["meta"]["seed"] == 3 and res["meta"]["device"] in ("cpu", "cuda")
    assert {"torch", "sympy", "cvxpy"} <= set(res["meta"]["versions"])
    assert isinstance(res["meta"]["wallclock"], list)
    ids = {(r["id"], r["reading"]) for r in res["claims"]}
    assert ("FY-3", "softmax") in ids and ("FY-4", "entmax[alpha>2]") in ids and len(ids) == 5
    for row in res["claims"]:
        assert {"id", "reading", "statement", "scope", "verdict", "evidence"} <= set(row) <= {
            "id", "reading", "statement", "scope", "verdict", "evidence", "constants", "crash"}
        assert isinstance(row["scope"], str) and row["scope"].strip()   # the limits of its evidence (issue 24)
        assert "crash" not in row and row["verdict"] != "crashed"
        assert row["verdict"] in VERDICTS
        for ev in row["evidence"]:
            assert ev["kind"] in ("symbolic", "numeric", "empirical") and ev["outcome"] in ("holds", "fails", "undecided")
    refuted = [r for r in res["claims"] if r["reading"] == "entmax[alpha>2]"][0]
    assert refuted["verdict"] == "refuted"
    assert any("counterexample" in e for e in refuted["evidence"])
    assert "[  5/5]" in proc.stderr  # progress on stderr
    # every check shown able to give both answers: the held ones to fail, the others to hold
    meta = res["meta"]
    assert meta["checks"] == meta["checks_shown_to_fail"] + meta["checks_shown_to_hold"] == 10
    assert meta["checks_shown_to_hold"] == 2  # FY-4[entmax[alpha>2]]: both checks, on alpha <= 2


def test_same_seed_gives_byte_identical_json_and_tex(two_runs):
    (a, _), (b, _) = two_runs
    assert (a / "results.json").read_bytes() == (b / "results.json").read_bytes()
    assert (a / "appendix.tex").read_bytes() == (b / "appendix.tex").read_bytes()
    assert (a / "evidence.tex").read_bytes() == (b / "evidence.tex").read_bytes()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH (.ci/run installs TeX Live)")
def test_appendix_compiles_with_plain_pdflatex(two_runs):
    out, _ = two_runs[0]
    pdf = out / "appendix.pdf"
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    assert "no-shell-escape" not in (out / "appendix.tex").read_text()


@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
                    reason="pdflatex or pdftotext not on PATH (the bootstrap installs both)")
def test_real_rows_read_back_without_escaper_artefacts(two_runs, tmp_path):
    """The real report's PDFs as a reader sees them (tests/test_pdf_text.py): the appendix as
    written; the evidence records re-rendered without counterexamples (data, printed as JSON)."""
    from reports.latex import compile_pdf, render_evidence
    from test_pdf_text import artefacts, pdf_text, without_counterexamples

    out, _ = two_runs[0]
    assert (out / "evidence.pdf").exists() and (out / "evidence.tex").exists()
    body = pdf_text(out / "appendix.pdf")
    assert artefacts(body) == [] and "What decided it" in body
    ev = tmp_path / "evidence.tex"
    ev.write_text(render_evidence(without_counterexamples(json.loads((out / "results.json").read_text()))))
    assert artefacts(pdf_text(compile_pdf(ev))) == []


def test_appendix_command_re_renders_the_documents_from_results_json(two_runs, tmp_path):
    out, _ = two_runs[0]
    (tmp_path / "results.json").write_bytes((out / "results.json").read_bytes())
    proc = _cli("appendix", str(tmp_path / "results.json"), "--no-pdf")
    assert proc.returncode == 0, proc.stderr
    for name in ("appendix.tex", "evidence.tex"):   # the bytes the report wrote
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()
    assert not (tmp_path / "appendix.pdf").exists()
    (tmp_path / "bad.json").write_text("[1, 2]")
    bad = _cli("appendix", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "not a results.json" in bad.stderr
    assert _cli("appendix", str(tmp_path / "missing.json")).returncode == 2


def test_cli_rejects_unknown_claim_ids(tmp_path):
    proc = _cli("report", "--out", str(tmp_path), "--only", "NOPE-9")
    assert proc.returncode == 2 and "matched no claim" in proc.stderr


def test_cli_fails_when_a_check_crashes(tmp_path, monkeypatch):
    from reports import report
    from reports.claim import Check, Claim

    def boom(ctx):
        raise RuntimeError("deliberate")

    claim = Claim("FY-0", "test", "a crashing check", (Check("boom", "numeric", boom),))
    monkeypatch.setattr(report, "all_claims", lambda: [claim])
    results, crashed = report.write_report(tmp_path, report.RunContext(), pdf=False)
    row = results["claims"][0]
    assert crashed and row["verdict"] == "crashed" and "deliberate" in row["crash"][0]
    assert "deliberate" in row["evidence"][0]["detail"]
    assert results["meta"]["checks_shown_to_fail"] + results["meta"]["checks_shown_to_hold"] == 0  # shows nothing


@pytest.mark.parametrize(
    "outcomes,expected",
    [
        ([("symbolic", "holds"), ("numeric", "holds")], "verified"),
        ([("numeric", "holds")], "supported"),
        ([("symbolic", "holds"), ("numeric", "undecided")], "inconclusive"),
        ([("symbolic", "holds"), ("numeric", "fails", {"theta": [0]})], "refuted"),
        ([("symbolic", "holds", None, "n = 2 only"), ("numeric", "holds")], "supported"),  # partial symbolic scope
        ([("symbolic", "fails", {"theta": [0]}), ("numeric", "undecided")], "refuted"),
        ([], "inconclusive"),
    ],
)
def test_verdict_rules(outcomes, expected):
    ev = [Evidence(o[0], "c", o[1], counterexample=o[2] if len(o) > 2 else None, scope_gap=o[3] if len(o) > 3 else "")
          for o in outcomes]
    assert verdict(ev) == expected


def test_recheck_reproduces_stored_counterexamples_and_rejects_tampered_ones(two_runs, tmp_path):
    out, _ = two_runs[0]
    proc = _cli("recheck", str(out / "results.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 counterexample(s), 2 re-checked" in proc.stdout
    res = json.loads((out / "results.json").read_text())
    for row in res["claims"]:
        for ev in row["evidence"]:
            if ev.get("counterexample"):
                ev["counterexample"]["theta"] = [0.0, 1.0, 5.0]  # a sparse support: λ_max ≤ 1 there
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(res))
    proc = _cli("recheck", str(bad))
    assert proc.returncode == 1 and "FAILED" in proc.stdout
    # a refuted row whose counterexamples were removed does not re-check either
    res = json.loads((out / "results.json").read_text())
    for row in res["claims"]:
        for ev in row["evidence"]:
            ev.pop("counterexample", None)
    bad.write_text(json.dumps(res))
    proc = _cli("recheck", str(bad))
    assert proc.returncode == 1 and "fails without a stored counterexample" in proc.stdout
    # nor a row that crashed; and a file that is not a results.json is a usage error (exit 2)
    res = json.loads((out / "results.json").read_text())
    res["claims"][0]["verdict"] = "crashed"
    bad.write_text(json.dumps(res))
    assert _cli("recheck", str(bad)).returncode == 1
    for junk in ("not json", json.dumps({"claims": 3})):
        bad.write_text(junk)
        proc = _cli("recheck", str(bad))
        assert proc.returncode == 2 and "not a readable results.json" in proc.stderr
    assert _cli("recheck", str(tmp_path / "missing.json")).returncode == 2


@pytest.mark.heavy
def test_measured_rows_are_deterministic_apart_from_wallclock(tmp_path):
    """A row that measures time (CPX-1): two fresh processes, same seed, give the same
    results.json once the keys in meta.wallclock are masked, and an appendix that differs
    only in the values marked as wall-clock.  (The experiment's rows, which measure epoch
    seconds too, would train MovieLens-100K twice here: their runs' determinism is
    tests/test_exp_checks.py's, their wall-clock marks tests/test_latex.py's.)"""
    only = ["CPX-1[softmax]"]
    # the two processes run side by side (they share nothing; the test is their agreement)
    procs = [subprocess.Popen([sys.executable, "-m", "reports.cli", "report", "--profile", "quick", "--out",
                               str(tmp_path / f"run{i}"), "--no-pdf", "--jobs", "1", "--only", *only],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]
    runs = []
    for i, proc in enumerate(procs):
        _, err = proc.communicate()
        assert proc.returncode == 0, err
        out = tmp_path / f"run{i}"
        runs.append((json.loads((out / "results.json").read_text()), (out / "appendix.tex").read_text()))
    (a, ta), (b, tb) = runs
    assert {"epoch_s", "exponent_n"} <= set(a["meta"]["wallclock"])
    assert any("exponent_n" in (ev.get("figures") or {}) for row in a["claims"] for ev in row["evidence"])
    assert mask_wallclock(a) == mask_wallclock(b)
    la, lb = ta.splitlines(), tb.splitlines()
    assert len(la) == len(lb)
    # a line may differ only where it shows a wall-clock figure (marked with a dagger)
    assert all(x == y or ("\\dagger" in x and "\\dagger" in y) for x, y in zip(la, lb))
