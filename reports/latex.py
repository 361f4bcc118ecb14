"""The LaTeX documents: ``results.json`` → ``appendix.tex`` and ``evidence.tex`` (→ PDFs).

``appendix.tex`` is what a reviewer reads: front matter (what was audited, how to read a
verdict, one table of every row in words, each linked to its page), the method, the
overview tables, and one part per row with its key evidence and plots.  ``evidence.tex``
holds the complete records (full accounts, steps, every figure, counterexamples whole),
linked both ways.  The text of both comes from reports/views.py; the layout is in
reports/templates/ (Jinja2, with LaTeX-safe delimiters ``\\VAR{…}`` and ``\\BLOCK{…}``).

Every value printed is read from the results dict; nothing is typed by hand.  Text is
marked text (audit/markup.py): prose through the escaper, mathematics set as mathematics.
The documents are byte-deterministic for the same input (no dates, fixed number formats,
input order kept), pure ASCII, and compile with plain ``pdflatex`` (no shell-escape, only
base/recommended/extra packages, Computer Modern fonts).  A malformed derivation step fails
the compilation (:func:`compile_pdf` raises) instead of being hidden.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import jinja2

from .front import front_matter
from .tables import calibration_table, complexity_table, experiment_table, grids_table
from .texfmt import _LEGEND, _VERDICT_COLOURS, _ident, _num, _pdfstring, _wallclock, escape
from .views import BODY_PDF, EVIDENCE_PDF, row_views, shared_protocols, verdict_counts

__all__ = ["escape", "render_appendix", "render_evidence", "compile_pdf"]

TITLE = "Verified claims of arXiv:2601.22745"
EVIDENCE_TITLE = "Evidence records of the audit of arXiv:2601.22745"
PAPER = {"title": "Is Softmax Loss All You Need? A Principled Analysis of Softmax-family Loss",
         "authors": "Pu, Lian, Chen", "arxiv": "2601.22745"}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        block_start_string=r"\BLOCK{", block_end_string="}", variable_start_string=r"\VAR{",
        variable_end_string="}", comment_start_string=r"\#{", comment_end_string="}",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
        undefined=jinja2.StrictUndefined)


def _common(results: Mapping[str, Any], title: str) -> dict[str, Any]:
    meta = results.get("meta") or {}
    claims = list(results.get("claims") or [])
    wall = _wallclock(meta)
    return {"title": escape(title), "pdftitle": _pdfstring(title), "meta": meta, "claims": claims, "wall": wall,
            "colours": list(_VERDICT_COLOURS.items()), "evidence_pdf": EVIDENCE_PDF, "body_pdf": BODY_PDF,
            "rows": row_views(claims, wall, results.get("figures_files") or []), "protocols": shared_protocols(claims)}


def _false_alarm(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    fa = meta.get("false_alarm")
    if not (isinstance(fa, Mapping) and fa.get("shares")):
        return None
    return {"family": _num(fa["family"], "g"), "rule": escape(fa.get("rule", "")), "n": len(fa["shares"]),
            "spent": _num(fa["spent"], "g") if "spent" in fa else ""}


def render_appendix(results: Mapping[str, Any]) -> str:
    """The complete standalone ``appendix.tex`` for a results.json dict (module docstring).
    Deterministic: the same dict gives the same bytes."""
    ctx = _common(results, TITLE)
    meta, claims, wall = ctx["meta"], ctx["claims"], ctx["wall"]
    versions = meta.get("versions") or {}
    text = _env().get_template("appendix.tex.j2").render(
        **{k: v for k, v in ctx.items() if k != "meta"}, paper={k: escape(v) for k, v in PAPER.items()},
        meta={k: escape(meta.get(k, "unknown")) for k in ("profile", "seed", "device")},
        schema=escape(results.get("schema", "unknown")), n_rows=len(claims), counts=verdict_counts(claims),
        versions=", ".join(f"{escape(k)} {escape(v)}" for k, v in versions.items()) if isinstance(versions, Mapping) else "",
        checks=_num(meta["checks"], "d") if "checks" in meta else "",
        shown=_num(meta.get("checks_shown_to_fail", 0), "d"), shown_hold=_num(meta.get("checks_shown_to_hold", 0), "d"),
        legend=[(v, escape(t)) for v, t in _LEGEND], wallclock=bool(wall), false_alarm=_false_alarm(meta),
        crashed_rows=[r for r, c in zip(ctx["rows"], claims) if c.get("verdict") == "crashed"],
        subject=_subject(meta), front=front_matter(claims),
        overview=["\n".join(t) for t in (complexity_table(claims, wall), experiment_table(claims, wall),
                                          calibration_table(claims)) if t])
    assert text.isascii(), "appendix.tex must be pure ASCII"
    return text


#: how the derived facts of a user's loss (proofs/user/facts.py) are named in print
_FACT_NAMES = {"g''>0 on (0,1)": r"$g'' > 0$ on $(0, 1)$", "g(0+)": "$g(0^+)$", "g'(0+)": "$g'(0^+)$",
               "g'(1-)": "$g'(1^-)$", "(g')^(-1)(t)": "$(g')^{-1}(t)$", "sparse": r"sparse ($\hat y$ can have zeros)",
               "margin": "separation margin", "Lipschitz >= (n >= 3)": r"Lipschitz constant of $\nabla L$, at least "
               r"($n \ge 3$)", "Lipschitz <=": r"Lipschitz constant of $\nabla L$, at most"}


def _subject(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """The section "Proposed loss" of an ``audit-loss`` report (``meta.subject``), or None."""
    sub = meta.get("subject")
    if not isinstance(sub, Mapping):
        return None
    def value(v: str) -> str:   # sympy's LaTeX of an exact value, or a word
        return escape(v) if v in ("none", "not derived", "True", "False") else f"${v}$"
    facts = [(_FACT_NAMES.get(f.get("fact"), escape(f.get("fact", ""))),
              value(str(f.get("value", ""))).replace(r"$\text{True}$", "yes").replace(r"$\text{False}$", "no"),
              escape(f.get("how", ""))) for f in sub.get("facts", []) if isinstance(f, Mapping)]
    provider = sub.get("distribution")
    return {"name": escape(sub.get("name", "")), "spec": escape(sub.get("spec", "")), "g": sub.get("latex", ""),
            "domain": "the simplex" if sub.get("domain") == "simplex" else "the capped simplex $C_k$",
            "sha": escape(str(sub.get("sha256", ""))[:16]),
            "provider": escape(f"{provider} {sub.get('version')}" if provider else f"module {sub.get('module', '')}"),
            "facts": facts}


def _shares_table(meta: Mapping[str, Any]) -> list[str]:
    fa = meta.get("false_alarm")
    if not (isinstance(fa, Mapping) and fa.get("shares")):
        return []
    lines = [r"\section{The false-alarm budget}",
             rf"One family-wise budget of {_num(fa['family'], 'g')} ({escape(fa.get('rule', ''))}); each statistical "
             r"check's share:", r"\begin{center}\small", r"\begin{longtable}{@{}lll r@{}}",
             r"\toprule Claim & Reading & Check & Share \\ \midrule \endhead"]
    lines += [f"{escape(r['id'])} & {escape(r['reading'])} & {_ident(r['check'])} & {_num(r['alpha'], '.3g')}"
              + (f" (pool: {escape(r['pool'])})" if r.get("pool") else "") + r" \\" for r in fa["shares"]]
    return lines + [r"\bottomrule", r"\end{longtable}", r"\end{center}"]


def render_evidence(results: Mapping[str, Any]) -> str:
    """The complete standalone ``evidence.tex``: every row's full record, the false-alarm
    shares and the experiment's tuning grids.  Deterministic."""
    ctx = _common(results, EVIDENCE_TITLE)
    tail = ["\n".join(t) for t in (_shares_table(ctx["meta"]), grids_table(ctx["claims"])) if t]
    text = _env().get_template("evidence.tex.j2").render(**ctx, tail=tail)
    assert text.isascii(), "evidence.tex must be pure ASCII"
    return text


# --------------------------------------------------------------------------- compiling

def compile_pdf(tex_path: Path, timeout: int = 120) -> Path | None:
    """Compile ``tex_path`` with plain pdflatex (no shell-escape) from its directory.

    Runs pdflatex twice (three times when the log still asks for a rerun) so that
    longtable widths and references settle.  It compiles into a private build directory
    (a fresh temporary directory beside the .tex: two builds of one document, by two
    reports, never share an auxiliary file) and moves the finished PDF onto ``<stem>.pdf``
    in one rename, so a reader never opens a half-written PDF.  Returns the PDF path;
    ``None`` when pdflatex is not on PATH.  On failure raises ``RuntimeError`` with the tail
    of the log, removes the previous PDF (it would look current beside a new .tex), and
    keeps only the log, as ``<stem>.log``; the build directory is removed either way."""
    exe = shutil.which("pdflatex")
    if exe is None:
        return None
    tex_path = Path(tex_path).resolve()
    workdir, stem = tex_path.parent, tex_path.stem
    pdf, log = workdir / f"{stem}.pdf", workdir / f"{stem}.log"
    # in the same folder, so that the PDF is renamed (atomically) onto its name
    build = Path(tempfile.mkdtemp(prefix=f".{stem}-build.", dir=workdir))
    built, job_log = build / f"{stem}.pdf", build / f"{stem}.log"
    cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
           "-file-line-error", f"-output-directory={build}", tex_path.name]

    def fail(message: str) -> RuntimeError:
        pdf.unlink(missing_ok=True)
        if job_log.exists():
            os.replace(job_log, log)
        return RuntimeError(f"{message}; log kept at {log}\n--- log tail ---\n{_tail(log)}")

    try:
        for run in range(3):
            try:
                proc = subprocess.run(cmd, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True,
                                      timeout=timeout, check=False)
            except subprocess.TimeoutExpired as exc:
                raise fail(f"pdflatex timed out after {timeout}s on {tex_path}") from exc
            if proc.returncode != 0 or not built.exists():
                if not job_log.exists():
                    job_log.write_bytes(proc.stdout[-3000:])
                raise fail(f"pdflatex failed on {tex_path} (exit {proc.returncode})")
            if run >= 1 and "Rerun to get" not in _read(job_log) and "Rerun LaTeX" not in _read(job_log):
                break
        os.replace(built, pdf)
        log.unlink(missing_ok=True)   # a failed build's log would look current beside the new PDF
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return pdf


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(_read(log).splitlines()[-lines:])
