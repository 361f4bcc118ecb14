"""The LaTeX appendix writer: escaping, determinism, and a real pdflatex compile."""
from __future__ import annotations

import random
import shutil
import struct
import zlib
from pathlib import Path

import pytest
import sympy as sp

from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.derivation import Derivation
from audit import Evidence
from reports.claim import verdict
from reports.latex import compile_pdf, render_appendix
from reports.texfmt import _MATH, _TEXT, escape

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                    reason="pdflatex not on PATH (CI installs TeX Live, so this runs there)")

NASTY = "a_b & 100% {x} \\ ~ ^ # $ θ ≤ ‖p‖² y\u0302 ŷ ⟨θ, η⟩ ∉ ≠ ⟺ → ∞ · − × ∑ Σ ∗ \"q\" -- 漢 \x07 é\nnext"

LATEX_SPECIALS = "\\{}$&#^_%~"
ALL_MAPPED = "".join(sorted(_MATH)) + "".join(sorted(_TEXT))    # every character escape() maps


def _compile(tmp_path: Path, tex: str, name: str = "doc") -> Path | None:
    path = tmp_path / f"{name}.tex"
    path.write_text(tex, encoding="utf-8")
    return compile_pdf(path, timeout=60)


def _png(path: Path) -> None:
    """A 2×2 grey PNG, written without any imaging library."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + b"\x80\x80" for _ in range(2))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _symbolic() -> Evidence:
    """Real sympy.latex output through the project's own Derivation.step."""
    t1, t2, a = sp.symbols("theta_1 theta_2 alpha", real=True)
    i, n = sp.symbols("i n", integer=True, positive=True)
    d = Derivation("Ω(p) = ½‖p‖² gives ŷ = proj_Δ(θ)", scope="n = 2 with symbolic θ",
                   assumptions=["[scope] θ ∈ ℝ², θ₁ ≥ θ₂", "α > 1 & τ ≤ max_i θ_i"])
    d.step("Threshold τ on the 2-simplex:", (t1 + t2 - 1) / 2)
    d.step("Closed form of p_1 (100% of the mass when θ₁ − θ₂ ≥ 1):",
           sp.Piecewise((1, t1 - t2 >= 1), ((t1 - t2 + 1) / 2, True)))
    d.step("Entmax exponent:", sp.Sum(sp.Max(0, (a - 1) * t1 - sp.Symbol("tau")) ** (1 / (a - 1)), (i, 1, n)))
    d.step("Gradient:", sp.Matrix([[sp.Rational(1, 2), -sp.Rational(1, 2)], [-sp.Rational(1, 2), sp.Rational(1, 2)]]))
    d.step("[sic] Hence the two projections agree.")
    return d.decide(True).evidence("sparsemax_closed_form_n2")


def synthetic_results() -> dict:
    sym = _symbolic()
    num = Evidence("numeric", "projection_vs_cvxpy", "holds", detail="500 random θ ~ N(0, 4²), n ∈ {2, …, 50}",
                   figures={"max_abs_err": 3.1e-09, "cases": 500, "tol": 1e-6, "ratio": 0.123456789,
                            "negative": -2.5e-4, "per_n": [1e-9, 2e-9, 3.5e-9], "converged": True, "note": "ok_ok"})
    bad = Evidence("numeric", "ssm_calibration", "fails", detail="conditional risk minimizer ≠ argmax η",
                   figures={"gap": 0.0371, "n_classes": 3},
                   counterexample={"eta": [0.5, 0.3, 0.2], "theta": [[1.0, -2.5e-07], [3, 4]],
                                   "meta": {"k": 2, "name": "a_b & {c}", "nan": "nan", "nasty": NASTY}})
    und = Evidence("empirical", "mc_interval_%", "undecided", detail="99% CI [−0.01, 0.02] straddles 0",
                   figures={"lower": -0.01, "upper": 0.02, "samples": 100000, "seconds": 12.3456})
    only_sym = Derivation("‖∇f‖ ≤ 1", scope="symbolic").decide(True).evidence("lipschitz")
    rows = []
    for cid, reading, evs in [("FY-3", "sparsemax", [sym, num]),
                              ("CAL-2", "ssm (k = 2)", [num, bad]),
                              ("EXP-1", "α-entmax, α = 1.5", [und]),
                              ("FY-1", "softmax: θ ↦ ∇Ω*(θ)", [only_sym])]:
        rows.append({"id": cid, "reading": reading, "statement": f"Statement of {cid}: {NASTY}",
                     "verdict": verdict(evs), "evidence": [e.to_json() for e in evs]})
    return {"schema": 1,
            "meta": {"profile": "quick", "seed": 0, "device": "cpu",
                     "versions": {"torch": "2.5.1+cpu", "sympy": sp.__version__, "cvxpy": "1.6.0"},
                     "wallclock": ["EXP-1/seconds"]},
            "claims": rows}


def test_synthetic_results_cover_every_verdict():
    assert {r["verdict"] for r in synthetic_results()["claims"]} == {"verified", "supported", "refuted", "inconclusive"}


def _text_mode_safe(out: str) -> bool:
    """No raw TeX special outside control sequences and \\ensuremath{...}; braces balance."""
    i, depth = 0, 0
    while i < len(out):
        c = out[i]
        if out.startswith("\\ensuremath{", i):
            j, d = i + len("\\ensuremath{"), 1
            while d:
                d += {"{": 1, "}": -1}.get(out[j], 0) if out[j - 1] != "\\" else 0
                j += 1
            i = j
            continue
        if c == "\\":
            j = i + 1
            while j < len(out) and out[j].isalpha():
                j += 1
            i = max(j, i + 2)
            continue
        if c in "$&#%_^~":
            return False
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
        i += 1
    return depth == 0


@pytest.mark.parametrize("text", [NASTY, LATEX_SPECIALS, "\\end{verbatim} $$ }{", "plain words 1.5"])
def test_escape_leaves_no_raw_specials(text):
    out = escape(text)
    assert out.isascii() and _text_mode_safe(out), out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(ALL_MAPPED + LATEX_SPECIALS)))
def test_escape_property(text):
    out = escape(text)
    assert out.isascii() and "\n" not in out and _text_mode_safe(out)


def test_escape_maps_unicode():
    assert escape("θ ≤ η") == r"\ensuremath{\theta} \ensuremath{\leq} \ensuremath{\eta}"
    assert escape("ŷ") == escape("y\u0302") == r"\ensuremath{\hat{y}}"
    assert escape("‖p‖²") == r"\ensuremath{\|}p\ensuremath{\|}\ensuremath{^{2}}"
    assert escape("∉") == r"\ensuremath{\notin}" and escape("≠") == r"\ensuremath{\neq}"
    assert escape("a_b") == r"a\_b" and escape("100%") == r"100\%"
    assert escape("漢") == "?"


def _soup(n: int = 40, length: int = 120) -> list[str]:
    """Fixed pseudo-random strings of mapped, special and combining characters."""
    rng = random.Random(0)
    pool = ALL_MAPPED + LATEX_SPECIALS + "\u0302\u0303\u0304\u0307\u0338\u20d7\u0301\u0308\u0327" + "ax<>|\"'`-,!? \n漢"
    return ["".join(rng.choice(pool) for _ in range(length)) for _ in range(n)]


@needs_pdflatex
def test_nasty_string_compiles(tmp_path):
    body = "\n\n".join(escape(t) for t in (NASTY, LATEX_SPECIALS, "\\end{verbatim}", "x" * 3 + "–—…“”",
                                            " ".join(ALL_MAPPED), "ŷ θ\u0302 x\u20d7 é ü ñ =\u0338 ½ 𝑥 ﬁ", *_soup()))
    tex = ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath,amssymb}\n"
           "\\begin{document}\n" + body + "\n\\section{" + escape(NASTY) + "}\n\\texttt{" + escape(_soup()[0])
           + "}\\textbf{" + escape(_soup()[1]) + "}\n\\end{document}\n")
    assert _compile(tmp_path, tex).stat().st_size > 1000


def test_render_is_deterministic_and_complete():
    results = synthetic_results()
    a, b = render_appendix(results), render_appendix(synthetic_results())
    assert a == b and a.encode() == b.encode()
    assert a.isascii()
    assert "\\date{}" in a and "Verified claims of arXiv:2601.22745" in a
    assert "\\begin{longtable}" in a and "\\toprule" in a and "\\midrule" in a and "\\bottomrule" in a
    # rows in the given order, every verdict in the table
    pos = [a.index(f"\\hyperref[claim-{i}]") for i in range(1, 5)]
    assert pos == sorted(pos)
    for v in ("verified", "supported", "refuted", "inconclusive"):
        assert f"\\textcolor{{v-{v}}}{{{v}}}" in a
    # key figures use the fixed %.3g format, at most three per row, headline figures (errors,
    # ratios, gaps, ...) first in evidence order, so plain counts like `cases` give way
    assert r"\texttt{max{\char95}\allowbreak{}abs{\char95}\allowbreak{}err}~= \ensuremath{3.1\times 10^{-9}}" in a
    row = next(line for line in a.splitlines() if line.startswith("\\hyperref[claim-1]"))
    assert row.count("~= ") == 3 and "~= 0.123;" in row
    assert row.index("max{") < row.index("ratio") < row.index("cases")  # tol (before ratio) gave way
    assert "tol" not in row
    assert r"\ensuremath{0.123457}" not in a and "0.123457" in a  # detail tables use %.6g
    # steps are inserted raw (sympy's LaTeX survives), their leading words escaped
    assert r"\begin{cases}" in a and r"\sum_{i=1}^{n}" in a and r"\frac{\theta_{1}" in a
    assert r"Closed form of p\_1 (100\% of the mass" in a
    # the wall-clock figure is marked
    assert r"\texttt{seconds}\ensuremath{^\dagger}" in a


def test_render_changes_with_input():
    """The output is a function of results.json: a changed figure changes the bytes."""
    results = synthetic_results()
    before = render_appendix(results)
    results["claims"][1]["evidence"][0]["figures"]["max_abs_err"] = 4.2e-09
    after = render_appendix(results)
    assert before != after and "4.2\\times 10^{-9}" in after


@needs_pdflatex
def test_appendix_compiles(tmp_path):
    results = synthetic_results()
    _png(tmp_path / "figs" / "gap_vs-alpha.png")
    results["figures_files"] = [{"path": "figs/gap_vs-alpha.png", "caption": "Risk gap vs. α"},
                                {"path": "missing_plot.pdf", "caption": "A plot of ‖θ‖ — not produced"},
                                {"path": "bad name.pdf", "caption": "unusable"}]
    pdf = _compile(tmp_path, render_appendix(results), "appendix")
    assert pdf == tmp_path / "appendix.pdf" and pdf.read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "appendix.log").exists() and not (tmp_path / "appendix.aux").exists()


@needs_pdflatex
def test_empty_results_compile(tmp_path):
    assert _compile(tmp_path, render_appendix({"schema": 1, "meta": {}, "claims": []})) is not None


@needs_pdflatex
def test_broken_step_fails_compilation(tmp_path):
    results = synthetic_results()
    results["claims"][0]["evidence"][0]["steps"].append("Unbalanced: $\\displaystyle x + 1")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF- of an earlier run")  # must not look current afterwards
    with pytest.raises(RuntimeError, match="pdflatex failed") as info:
        _compile(tmp_path, render_appendix(results), "broken")
    assert "!" in str(info.value)                 # the log tail names the TeX error
    assert (tmp_path / "broken.log").exists() and not (tmp_path / "broken.pdf").exists()
    assert not (tmp_path / "broken.aux").exists() and not list(tmp_path.glob("broken-build.*"))
    # the same directory compiles again once the step is fixed
    results["claims"][0]["evidence"][0]["steps"][-1] += "$"
    assert _compile(tmp_path, render_appendix(results), "broken") == tmp_path / "broken.pdf"
    assert not (tmp_path / "broken.log").exists()


def test_compile_pdf_without_pdflatex(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    (tmp_path / "x.tex").write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    assert compile_pdf(tmp_path / "x.tex") is None


def test_complexity_and_experiment_tables_come_from_their_rows():
    from reports.latex import render_appendix

    cpx = {"id": "CPX-1", "reading": "ssm/uniform", "statement": "s", "verdict": "verified",
           "evidence": [{"kind": "numeric", "check": "c", "outcome": "holds",
                         "figures": {"claimed": "N m d", "flops_exponent_n_top": 0.0123, "claimed_exponent_n_top": 0.0,
                                     "exponent_n": 0.31}}]}
    exp = {"id": "EXP-1", "reading": "rg2/als", "statement": "s", "verdict": "refuted",
           "evidence": [{"kind": "empirical", "check": "c", "outcome": "fails",
                         "figures": {"dataset": "ml-100k", "ndcg@10": 0.4078, "ndcg@20": 0.4073,
                                     "ndcg@20_run_ci95": [0.4049, 0.4097], "recall@20": 0.3402,
                                     "flops_per_epoch": 225526430, "epoch_s": 0.52}}]}
    base = {"schema": 1, "meta": {"profile": "full", "seed": 0, "device": "cpu", "versions": {},
                                  "wallclock": ["epoch_s", "exponent_n"]}}
    tex = render_appendix({**base, "claims": [cpx, exp]})
    assert r"\section{Per-epoch complexity (CPX-1)}" in tex and r"\section{Recommendation experiment (EXP-1)}" in tex
    assert "0.012" in tex and "0.407" in tex and "[0.405, 0.410]" in tex and "ml-100k" in tex
    assert tex.count(r"^\dagger}") >= 4  # both wall-clock columns are marked, header and cells
    none = render_appendix({**base, "claims": []})
    assert "Per-epoch complexity" not in none and "Recommendation experiment" not in none
