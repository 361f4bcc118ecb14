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
from reports.latex import compile_pdf, render_appendix, render_evidence
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
    d = Derivation(r"$\Omega(p) = \tfrac12\lVert p\rVert^2$ gives $\hat y = \mathrm{proj}_\Delta(\theta)$",
                   scope=r"$n = 2$ with symbolic $\theta$",
                   assumptions=[r"[scope] $\theta \in \mathbb{R}^2$, $\theta_1 \ge \theta_2$",
                                r"$\alpha > 1$ & $\tau \le \max_i \theta_i$"],
                   summary=r"sympy: the closed form of $\hat y$ for $n = 2$")
    d.step(r"Threshold $\tau$ on the 2-simplex:", (t1 + t2 - 1) / 2)
    d.step(r"Closed form of $p_1$ (100% of the mass when $\theta_1 - \theta_2 \ge 1$):",
           sp.Piecewise((1, t1 - t2 >= 1), ((t1 - t2 + 1) / 2, True)))
    d.step("Entmax exponent:", sp.Sum(sp.Max(0, (a - 1) * t1 - sp.Symbol("tau")) ** (1 / (a - 1)), (i, 1, n)))
    d.step("Gradient:", sp.Matrix([[sp.Rational(1, 2), -sp.Rational(1, 2)], [-sp.Rational(1, 2), sp.Rational(1, 2)]]))
    d.step("[sic] Hence the two projections agree.")
    return d.decide(True).evidence("sparsemax-closed-form-n2")


LABELS = {"max_abs_err": r"max $|\hat y - \hat y_{\mathrm{cvxpy}}|$", "cases": "cases", "tol": "tolerance",
          "ratio": r"ratio $\rho$", "negative": "a negative figure", "per_n": r"error per $n$",
          "converged": "converged", "note": "note", "gap": r"risk gap $\Delta$", "n_classes": r"classes $n$",
          "lower": "lower end", "upper": "upper end", "samples": "samples", "seconds": "time (s)",
          "per_m": r"estimate per $m$", "m": "$m$", "est": "estimate", "lo": "lower", "hi": "upper",
          "rank": "rank correlations", "s2_vs_b": r"$s_T^2$ against $b$", "spearman": "Spearman",
          "unmet": "parts of the rule not met"}


def synthetic_results() -> dict:
    sym = _symbolic()
    num = Evidence("numeric", "projection-vs-cvxpy", "holds",
                   detail=r"500 random $\theta \sim N(0, 4^2)$, $n \in \{2, \ldots, 50\}$",
                   summary=r"cvxpy agrees with $\hat y$ on 500 draws", labels=LABELS,
                   figures={"max_abs_err": 3.1e-09, "cases": 500, "tol": 1e-6, "ratio": 0.123456789,
                            "negative": -2.5e-4, "per_n": [1e-9, 2e-9, 3.5e-9], "converged": True, "note": "ok",
                            "per_m": [{"m": 4, "est": 0.0267105, "lo": 0.02, "hi": 0.03},
                                      {"m": 8, "est": 0.0131, "lo": 0.01, "hi": 0.016}],
                            "rank": {"s2_vs_b": {"spearman": 1.0}, "sgd/rg2": {"spearman": 0.5}},
                            "unmet": [r"$R^2 \ge 0.999$ ($R^2 = 0.99838$)"]})
    bad = Evidence("numeric", "ssm-calibration", "fails", detail=r"conditional risk minimizer $\ne \arg\max \eta$",
                   summary=r"counterexample $\eta = (0.5, 0.3, 0.2)$", labels=LABELS,
                   figures={"gap": 0.0371, "n_classes": 3},
                   counterexample={"eta": [0.5, 0.3, 0.2], "theta": [[1.0, -2.5e-07], [3, 4]],
                                   "meta": {"k": 2, "name": "a_b & {c}", "nan": "nan", "nasty": NASTY}})
    und = Evidence("empirical", "mc-interval-%", "undecided", detail=r"99% CI $[-0.01, 0.02]$ straddles 0",
                   summary="the interval straddles 0", labels=LABELS,
                   figures={"lower": -0.01, "upper": 0.02, "samples": 100000, "seconds": 12.3456})
    only_sym = Derivation(r"$\lVert\nabla f\rVert \le 1$", scope="symbolic").decide(True).evidence("lipschitz")
    rows = []
    crash = Evidence("numeric", "margin-eps", "undecided", detail="check crashed: SuiteDefect", summary="crashed")
    for cid, reading, evs in [("FY-3", "sparsemax", [sym, num]),
                              ("CAL-2", "ssm (k = 2)", [num, bad]),
                              ("EXP-1", "α-entmax, α = 1.5", [und]),
                              ("FY-1", "softmax: θ ↦ ∇Ω*(θ)", [only_sym]),
                              ("DYN-2", "sparsemax/lr=1/L", [sym, crash])]:
        rows.append({"id": cid, "reading": reading,
                     "statement": rf"Statement of {cid}: $\sum_j p_j^\alpha \le 1$ and $[\theta - \tau]_+$, 100%",
                     "verdict": verdict(evs, crashed=cid == "DYN-2"), "evidence": [e.to_json() for e in evs]})
    rows[-1]["crash"] = ["margin-eps: the symbolic check margin holds and its scope covers the counterexample of "
                        "margin-eps: two of our routes disagree"]
    for row in rows:
        for ev in row["evidence"]:
            if ev["outcome"] == "holds":
                ev["planted"] = [{"defect": r"map at temperature $1.01$", "outcome": "fails", "role": "defect",
                                  "resolution": True},
                                 {"defect": "a typo'd margin", "outcome": "crash", "role": "defect"}]
            else:
                ev["planted"] = [{"defect": r"the same check on $\alpha \le 2$", "outcome": "holds", "role": "truth"}]
    return {"schema": 1,
            "meta": {"profile": "quick", "seed": 0, "device": "cpu",
                     "versions": {"torch": "2.5.1+cpu", "sympy": sp.__version__, "cvxpy": "1.6.0"},
                     "wallclock": ["EXP-1/seconds"]},
            "claims": rows}


def test_synthetic_results_cover_every_verdict():
    assert {r["verdict"] for r in synthetic_results()["claims"]} == {"verified", "supported", "refuted", "inconclusive",
                                                                    "crashed"}


def test_a_crashed_row_is_listed_first_and_the_demonstrations_are_printed():
    tex = render_appendix(synthetic_results())
    assert tex.index("Crashed rows") < tex.index("What was audited")
    assert "two of our routes disagree" in tex.split("What was audited")[0]
    assert r"\textbf{Resolution}: catches map at temperature $1.01$" in tex
    assert r"\textbf{Planted truth}:" in tex and r"\textbf{Planted defects}:" in tex
    assert "crash (a defect of ours caught)" in tex
    clean = synthetic_results()
    clean["claims"] = clean["claims"][:-1]
    assert "Crashed rows" not in render_appendix(clean)


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
    assert escape("a_b") == r"a{\ttfamily\char95}b" and escape("100%") == r"100\%"
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
    assert a == b and a.encode() == b.encode() and a.isascii()
    assert "\\date{}" in a and "Verified claims of arXiv:2601.22745" in a
    assert "\\begin{longtable}" in a and "\\toprule" in a and "\\midrule" in a and "\\bottomrule" in a
    # the front table: rows in the given order, each linked to its page, every verdict in words
    pos = [a.index(f"\\hyperref[claim-{i}]") for i in range(1, 5)]
    assert pos == sorted(pos) and all(f"\\label{{claim-{i}}}" in a for i in range(1, 5))
    for v in ("verified", "supported", "refuted", "inconclusive"):
        assert f"\\textcolor{{v-{v}}}{{{v}}}" in a
    # what decided a row: its summaries; the failing check of a refuted row, re-checked
    line = next(x for x in a.splitlines() if x.startswith("\\hyperref[claim-2]"))
    assert r"counterexample $\eta = (0.5, 0.3, 0.2)$; re-checked" in line and "cvxpy agrees" not in line
    # mathematics is set as mathematics; prose is escaped
    assert r"$\sum_j p_j^\alpha \le 1$" in a and r"$[\theta - \tau]_+$, 100\%" in a
    assert "textasciicircum" not in a
    # key figures on a claim's page: labelled, %.3g, headline names first, at most three
    assert r"max $|\hat y - \hat y_{\mathrm{cvxpy}}|$ = \ensuremath{3.1\times 10^{-9}}" in a
    keys = next(x for x in a.splitlines() if "max $|\\hat y" in x and "ratio" in x)
    assert keys.count(" = ") == 3 and keys.index("max $") < keys.index("ratio") and "tolerance" not in keys
    # each page links to its complete record in evidence.pdf
    assert r"\href{evidence.pdf#ev-1}" in a
    # the wall-clock figure is marked
    assert r"time (s)\ensuremath{^\dagger}" in render_evidence(results)


def test_evidence_records_are_complete_and_deterministic():
    results = synthetic_results()
    e = render_evidence(results)
    assert e == render_evidence(synthetic_results()) and e.isascii()
    # steps are inserted as mathematics (sympy's LaTeX survives), their words marked text
    assert r"\begin{cases}" in e and r"\sum_{i=1}^{n}" in e and r"\frac{\theta_{1}" in e
    assert r"Closed form of $p_1$ (100\% of the mass" in e
    # the full account, every figure under its label (%.6g), a list of records as a sub-table
    assert r"\ensuremath{0.123457}" not in e and "0.123457" in e
    assert r"estimate per $m$" in e and r"$m$ & estimate & lower & upper \\" in e and "0.0267105" in e
    assert "'est'" not in e and "est:" not in e and "{est:" not in e     # no Python reprs
    # a record's row under its label when it is a field name, as data when it is a value
    assert r"$s_T^2$ against $b$ & 1 \\" in e and r"sgd/rg2 & 0.5 \\" in e
    # a check's marked text among its figures is typeset, not escaped
    assert r"$R^2 \ge 0.999$ ($R^2 = 0.99838$)" in e and "textasciicircum" not in e
    # the counterexample in full, and the way back to the appendix
    assert "{\\char34}eta{\\char34}: [0.5, \\allowbreak{}0.3" in e and r"\href{appendix.pdf#claim-2}" in e
    assert "\\hypertarget{ev-3}" in e


def test_render_changes_with_input():
    """The output is a function of results.json: a changed figure changes the bytes."""
    results = synthetic_results()
    before = render_appendix(results)
    results["claims"][1]["evidence"][0]["figures"]["max_abs_err"] = 4.2e-09
    after = render_appendix(results)
    assert render_evidence(results) != render_evidence(synthetic_results())
    assert before != after and "4.2\\times 10^{-9}" in after


@needs_pdflatex
def test_appendix_compiles(tmp_path):
    results = synthetic_results()
    _png(tmp_path / "figs" / "gap_vs-alpha.png")
    results["figures_files"] = [{"path": "figs/gap_vs-alpha.png", "caption": r"Risk gap vs. $\alpha$", "row": 0},
                                {"path": "missing_plot.pdf", "caption": r"A plot of $\lVert\theta\rVert$ -- not produced",
                                 "row": 1},
                                {"path": "bad name.pdf", "caption": "unusable", "row": 3}]
    pdf = _compile(tmp_path, render_appendix(results), "appendix")
    assert pdf == tmp_path / "appendix.pdf" and pdf.read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "appendix.log").exists() and not (tmp_path / "appendix.aux").exists()
    assert _compile(tmp_path, render_evidence(results), "evidence") == tmp_path / "evidence.pdf"


@needs_pdflatex
def test_empty_results_compile(tmp_path):
    empty = {"schema": 1, "meta": {}, "claims": []}
    assert _compile(tmp_path, render_appendix(empty)) is not None
    assert _compile(tmp_path, render_evidence(empty), "ev") is not None


@needs_pdflatex
def test_broken_step_fails_compilation(tmp_path):
    results = synthetic_results()
    results["claims"][0]["evidence"][0]["steps"].append("Broken: $\\displaystyle \\notamacro x + 1$")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF- of an earlier run")  # must not look current afterwards
    with pytest.raises(RuntimeError, match="pdflatex failed") as info:
        _compile(tmp_path, render_evidence(results), "broken")
    assert "!" in str(info.value)                 # the log tail names the TeX error
    assert (tmp_path / "broken.log").exists() and not (tmp_path / "broken.pdf").exists()
    assert not (tmp_path / "broken.aux").exists() and not list(tmp_path.glob("broken-build.*"))
    # the same directory compiles again once the step is fixed
    results["claims"][0]["evidence"][0]["steps"][-1] = "Fixed: $\\displaystyle x + 1$"
    assert _compile(tmp_path, render_evidence(results), "broken") == tmp_path / "broken.pdf"
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


def test_marked_text_sets_math_as_math_and_prose_as_prose():
    from audit import markup
    from reports.texfmt import marked

    assert marked(r"gap $\hat y_j \ge 0$ at 100% of $n$") == r"gap $\hat y_j \ge 0$ at 100\% of $n$"
    assert marked(r"costs \$5 and $θ ≤ 1$") == r"costs \$5 and $\ensuremath{\theta} \ensuremath{\leq} 1$"
    # text that breaks the rule is set as typewriter text, never half-interpreted
    for bad in ("p^α in prose", "unclosed $x", "θ_j", "a \\macro"):
        assert markup.problems(bad), bad
        out = marked(bad)
        assert out.startswith(r"\texttt{") and _text_mode_safe(out[len(r"\texttt{"):-1]), out
    assert markup.problems(r"$\frac{1}{2$") and not markup.problems(r"literal \$ sign, $x_{i}^{2}$")
    assert markup.visible_length(r"$\hat y_{\mathrm{cvxpy}} \le 1$") == len("x ycvxpy x 1")
