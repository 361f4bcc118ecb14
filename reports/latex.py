"""The LaTeX appendix: ``results.json`` → ``appendix.tex`` (→ ``appendix.pdf``).

Every number printed here is read from the results dict; nothing is typed by hand.
The document is byte-deterministic for the same input (no dates, fixed number
formats, input order kept), pure ASCII (all Unicode of our statements is mapped to
LaTeX macros, anything unknown becomes ``?``), and compiles with plain ``pdflatex``
(no shell-escape, only base/recommended/extra packages, Computer Modern fonts).

What is text and what is LaTeX:

* statements, readings, check names, details, assumptions, figure names,
  counterexamples, captions, meta -- plain text, always passed through :func:`escape`;
* the ``steps`` of symbolic evidence -- produced by ``proofs.derivation.Derivation.step``
  as ``"<plain words> $\\displaystyle <sympy.latex>$"``: the words before the first
  ``$`` are escaped like any text, everything from the first ``$`` on is inserted raw
  (only non-ASCII characters in it are mapped to macros).  A malformed step therefore
  fails the compilation (:func:`compile_pdf` raises) instead of being hidden.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable, Mapping

from .tables import calibration_table, complexity_table, experiment_table
from .texfmt import (escape, _tt, _step, _pdfstring, _ident, _is_number, _num, _value, _VERDICT_COLOURS, _LEGEND, _verdict, _outcome, _wallclock, _is_wallclock)

__all__ = ["escape", "render_appendix", "compile_pdf"]

TITLE = "Verified claims of arXiv:2601.22745"
KEY_FIGURES = 3          # at most this many numbers per row in the summary table
KEY_FORMAT = ".3g"       # summary table
DETAIL_FORMAT = ".6g"    # per-evidence figure tables
CX_CHARS = 4000          # counterexample value: characters shown before truncation

_HEADLINE = re.compile(r"err|gap|lambda|regret|exponent|slope|bias|variance|mse|ndcg|recall|ratio|steps|fraction|margin")


def _key_figures(row: Mapping[str, Any], wall: set[str]) -> str:
    """Up to ``KEY_FIGURES`` numeric figures of the row's evidence: headline figures (names
    matching :data:`_HEADLINE`) first, then the rest, each group in evidence order."""
    found = [(k, v) for ev in row.get("evidence") or [] for k, v in (ev.get("figures") or {}).items() if _is_number(v)]
    ranked = [kv for kv in found if _HEADLINE.search(str(kv[0]))] + [kv for kv in found if not _HEADLINE.search(str(kv[0]))]
    out = []
    for k, v in ranked[:KEY_FIGURES]:
        mark = r"\ensuremath{^\dagger}" if _is_wallclock(str(k), wall, str(row.get("id", ""))) else ""
        out.append(f"{_ident(k)}{mark}~= {_num(v, KEY_FORMAT)}")
    return "; ".join(out) if out else "--"


def _header(results: Mapping[str, Any]) -> list[str]:
    meta = results.get("meta") or {}
    claims = results.get("claims") or []
    versions = meta.get("versions") or {}
    lines = [
        r"\section*{Run}",
        r"\begin{tabular}{@{}ll@{}}",
        rf"profile & {escape(meta.get('profile', 'unknown'))} \\",
        rf"seed & {escape(meta.get('seed', 'unknown'))} \\",
        rf"device & {escape(meta.get('device', 'unknown'))} \\",
        rf"schema & {escape(results.get('schema', 'unknown'))} \\",
    ]
    if isinstance(versions, Mapping) and versions:
        vs = ", ".join(f"{escape(k)}~{escape(v)}" for k, v in versions.items())
        lines.append(rf"versions & \parbox[t]{{0.75\linewidth}}{{\raggedright {vs}}} \\")
    lines.append(r"\end{tabular}")
    lines.append("")
    counts: dict[str, int] = {}
    for row in claims:
        counts[str(row.get("verdict"))] = counts.get(str(row.get("verdict")), 0) + 1
    order = [v for v in _VERDICT_COLOURS if v in counts] + sorted(v for v in counts if v not in _VERDICT_COLOURS)
    summary = ", ".join(f"{counts[v]} {_verdict(v)}" for v in order)
    lines.append(rf"\medskip\noindent {len(claims)} rows (claim $\times$ reading)" + (f": {summary}." if summary else "."))
    lines += ["", r"\subsection*{Verdicts}", r"\begin{description}"]
    lines += [rf"\item[{_verdict(v)}] {escape(text)}" for v, text in _LEGEND]
    lines.append(r"\end{description}")
    lines.append(r"Each row's verdict is derived from its evidence; an evidence \emph{outcome} is "
                 + _outcome("holds") + ", " + _outcome("fails") + " or " + _outcome("undecided") + ".")
    if _wallclock(meta):
        lines.append(r"Figures marked~$^\dagger$ are wall-clock measurements and vary between runs.")
    lines += _method(meta)
    return lines


def _method(meta: Mapping[str, Any]) -> list[str]:
    """How a check earns its word: planted defects, and the false-alarm budget."""
    lines = ["", r"\subsection*{Method: every check shown able to fail}"]
    if "checks" in meta:
        lines.append(
            rf"Each check declares at least one planted defect, a deliberately wrong input of the same shape as the "
            rf"real one (a perturbed prediction map, a conjugate off by a constant, an estimator without its "
            rf"correction, \ldots); this run ran every one of them.  Of the {_num(meta['checks'], 'd')} checks of "
            rf"this run, {_num(meta.get('checks_shown_to_fail', 0), 'd')} were shown able to fail: each of their "
            rf"planted defects turned them (fails, undecided, or a suite defect raised).  A "
            rf"\emph{{fails}} counts only with a counterexample that the outside re-checker "
            rf"(\texttt{{softmax-audit recheck}}) re-checks from results.json alone; a disagreement between two of the "
            rf"suite's own routes stops the run as a crash and is never reported as a finding.")
    fa = meta.get("false_alarm")
    if isinstance(fa, Mapping) and fa.get("shares"):
        lines += ["", rf"Statistical decisions share one family-wise false-alarm budget of {_num(fa['family'], 'g')} "
                      rf"({escape(fa.get('rule', ''))}): each statistical check gets the share below and splits it "
                      r"over its own interval decisions.  The rows of a pool (the recommendation experiment) read "
                      r"one family of intervals, each computed once at level $1 - \mathrm{pool}/m$ over the family's "
                      r"$m$ distinct comparisons, so the pool counts once"
                      + (rf" (spent in all: {_num(fa['spent'], 'g')})" if "spent" in fa else "") + ".",
                  r"\begin{center}\small", r"\begin{tabular}{@{}lll r@{}}",
                  r"\toprule Claim & Reading & Check & Share \\ \midrule"]
        lines += [f"{escape(r['id'])} & {escape(r['reading'])} & {_ident(r['check'])} & {_num(r['alpha'], '.3g')}"
                  + (f" (pool: {escape(r['pool'])})" if r.get("pool") else "") + " \\\\" for r in fa["shares"]]
        lines += [r"\bottomrule", r"\end{tabular}", r"\end{center}"]
    return lines


def _summary_table(claims: list[Mapping[str, Any]], wall: set[str]) -> list[str]:
    head = r"\toprule Claim & Reading & Verdict & Key figures \\ \midrule"
    lines = [
        r"\section{Summary}",
        r"{\small",
        r"\begin{longtable}{@{}l>{\raggedright\arraybackslash}p{0.24\linewidth}l"
        r">{\raggedright\arraybackslash}p{0.44\linewidth}@{}}",
        head, r"\endfirsthead",
        r"\multicolumn{4}{@{}l}{\emph{(continued)}} \\ " + head, r"\endhead",
        r"\midrule \multicolumn{4}{r@{}}{\emph{continued on next page}} \\", r"\endfoot",
        r"\bottomrule", r"\endlastfoot",
    ]
    for i, row in enumerate(claims, 1):
        cid = rf"\hyperref[claim-{i}]{{{escape(row.get('id', '?'))}}}"
        lines.append(f"{cid} & {escape(row.get('reading', ''))} & {_verdict(row.get('verdict'))} & "
                     f"{_key_figures(row, wall)} \\\\")
    if not claims:
        lines.append(r"\multicolumn{4}{@{}l}{\emph{no claims in this run}} \\")
    lines += [r"\end{longtable}", "}"]
    return lines


def _figures_table(figs: Mapping[str, Any], wall: set[str], claim_id: str) -> list[str]:
    lines = [r"\begin{center}\small", r"\begin{tabular}{@{}l>{\raggedright\arraybackslash}p{0.55\linewidth}@{}}",
             r"\toprule Figure & Value \\ \midrule"]
    for k, v in figs.items():
        if k in ("plot", "plot_time"):  # the series are drawn in the Figures section; a table of them is noise
            lines.append(r"plot & \emph{series in results.json, drawn under Figures} \\")
            continue
        mark = r"\ensuremath{^\dagger}" if _is_wallclock(str(k), wall, claim_id) else ""
        lines.append(f"{_ident(k)}{mark} & {_value(v, DETAIL_FORMAT)} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{center}"]
    return lines


def _counterexample(cx: Any) -> list[str]:
    """Escaped JSON, one top-level key per line, breakable after commas."""
    if isinstance(cx, Mapping):
        parts = [(json.dumps(str(k), ensure_ascii=False) + ": ", v) for k, v in cx.items()]
    else:
        parts = [("", cx)]
    body = []
    for prefix, v in parts:
        text = json.dumps(v, ensure_ascii=False, separators=(", ", ": "), allow_nan=True)
        note = ""
        if len(text) > CX_CHARS:
            text, note = text[:CX_CHARS], r" \ldots{} \textrm{(truncated; full value in results.json)}"
        body.append(_tt(prefix + text).replace(", ", r", \allowbreak{}") + note)
    if isinstance(cx, Mapping):
        body = [r"{\char123}"] + [r"\hspace*{1em}" + b + ("," if j < len(body) - 1 else "")
                                   for j, b in enumerate(body)] + [r"{\char125}"]
    return [r"\par\noindent\textbf{Counterexample}", r"\begin{flushleft}\small\ttfamily",
            " \\\\\n".join(body), r"\end{flushleft}"]


def _evidence(j: int, ev: Mapping[str, Any], wall: set[str], claim_id: str) -> list[str]:
    lines = [rf"\paragraph{{Evidence {j}: {escape(ev.get('kind', '?'))}.}} "
             rf"{_ident(ev.get('check', '?'))} --- {_outcome(ev.get('outcome'))}."]
    if ev.get("detail"):
        lines.append(escape(ev["detail"]))
    if ev.get("scope_gap"):
        lines.append(r"\par\noindent\textbf{Scope gap} (the row is supported, not verified): "
                     + escape(ev["scope_gap"]) + ".")
    planted = ev.get("planted")
    if planted:
        shown = "; ".join(escape(p.get("defect", "?")) + r" $\to$ " + _planted_outcome(p.get("outcome")) for p in planted)
        lines.append(rf"\par\noindent\textbf{{Planted defect{'s' if len(planted) > 1 else ''}}}: {shown}.")
    lines.append("")
    if ev.get("assumptions"):
        lines += [r"\par\noindent\textbf{Assumptions}", r"\begin{itemize}"]
        lines += [rf"\item{{}} {escape(a)}" for a in ev["assumptions"]]
        lines.append(r"\end{itemize}")
    if ev.get("steps"):
        lines += [r"\par\noindent\textbf{Steps}", r"\begin{enumerate}"]
        lines += [rf"\item{{}} {_step(s)}" for s in ev["steps"]]
        lines.append(r"\end{enumerate}")
    if isinstance(ev.get("figures"), Mapping) and ev["figures"]:
        lines += _figures_table(ev["figures"], wall, claim_id)
    if ev.get("counterexample") is not None:
        lines += _counterexample(ev["counterexample"])
    lines.append("")
    return lines


def _planted_outcome(o: Any) -> str:
    """A planted defect must turn its check: fails / undecided / a suite defect raised."""
    if o in ("fails", "undecided"):
        return _outcome(o) + " (turned)"
    if o == "suite-defect":
        return r"suite defect raised (turned)"
    return r"\textbf{" + escape(o) + r" (NOT turned)}"


def _claim(i: int, row: Mapping[str, Any], wall: set[str]) -> list[str]:
    cid, reading = row.get("id", "?"), row.get("reading", "")
    tex_title = f"{escape(cid)} --- {escape(reading)}" if reading else escape(cid)
    pdf_title = f"{_pdfstring(cid)} - {_pdfstring(reading)}" if reading else _pdfstring(cid)
    lines = [rf"\subsection{{\texorpdfstring{{{tex_title}}}{{{pdf_title}}}}}\label{{claim-{i}}}",
             rf"\noindent\textbf{{Verdict:}} {_verdict(row.get('verdict'))}.", ""]
    if row.get("statement"):
        lines += [r"\begin{quote}", escape(row["statement"]), r"\end{quote}", ""]
    evs = row.get("evidence") or []
    if not evs:
        lines += [r"\emph{No evidence recorded.}", ""]
    for j, ev in enumerate(evs, 1):
        lines += _evidence(j, ev, wall, str(cid))
    return lines


def _figure_files(files: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = [r"\section{Figures}"]
    for f in files:
        path = str(f.get("path", "")).replace("\\", "/")
        caption = escape(f.get("caption", ""))
        if re.fullmatch(r"[A-Za-z0-9_./-]+", path) and not path.startswith("-"):
            graphic = (rf"\IfFileExists{{{path}}}{{\includegraphics[width=\linewidth,height=0.4\textheight,"
                       rf"keepaspectratio]{{{path}}}}}{{\fbox{{missing file: {_ident(path)}}}}}")
        else:
            graphic = rf"\fbox{{unusable file name: {_ident(path)}}}"
        lines += [r"\begin{figure}[htbp]", r"\centering", graphic, rf"\caption{{{caption}}}", r"\end{figure}", ""]
    return lines


_PREAMBLE = r"""\documentclass[10pt,a4paper]{article}
\ifdefined\pdfinfoomitdate \pdfinfoomitdate=1 \fi
\ifdefined\pdftrailerid \pdftrailerid{} \fi
\usepackage[utf8]{inputenc}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{array,booktabs,longtable}
\usepackage{graphicx}
\usepackage[dvipsnames]{xcolor}
%(colours)s
\usepackage[hidelinks,pdftitle={%(pdftitle)s},bookmarksnumbered]{hyperref}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.4em}
\setcounter{secnumdepth}{2}
\allowdisplaybreaks
\emergencystretch=3em
\title{%(title)s}
\author{}
\date{}
\begin{document}
\maketitle
\vspace{-3em}
"""


def render_appendix(results: Mapping[str, Any]) -> str:
    """The complete standalone ``appendix.tex`` for a results.json dict.

    Sections: header (title, run meta, verdict legend), Summary (one booktabs longtable
    row per claim × reading: id, reading, verdict, key figures), the complexity and
    experiment tables when CPX-1 / EXP-1 rows ran (``tables.py``), Claims (one subsection
    per row: statement, every evidence with its detail, assumptions, steps, figures,
    counterexample), and Figures when ``results["figures_files"]`` is given.
    Deterministic: the same dict gives the same bytes."""
    meta = results.get("meta") or {}
    claims = list(results.get("claims") or [])
    wall = _wallclock(meta)
    colours = "\n".join(rf"\definecolor{{v-{v}}}{{rgb}}{{{rgb}}}" for v, rgb in _VERDICT_COLOURS.items())
    out = [_PREAMBLE % {"colours": colours, "title": escape(TITLE), "pdftitle": _pdfstring(TITLE)}]
    out += _header(results)

    out += [""] + _summary_table(claims, wall) + [""]
    out += complexity_table(claims, wall) + experiment_table(claims, wall) + calibration_table(claims)
    out += [r"\section{Claims}", ""]
    for i, row in enumerate(claims, 1):
        out += _claim(i, row, wall)
    files = results.get("figures_files")
    if files:
        out += _figure_files(files)
    out.append(r"\end{document}")
    text = "\n".join(out) + "\n"
    assert text.isascii(), "appendix.tex must be pure ASCII"
    return text


# --------------------------------------------------------------------------- compiling

_AUX_SUFFIXES = (".aux", ".log", ".out", ".toc", ".lof", ".lot")


def compile_pdf(tex_path: Path, timeout: int = 120) -> Path | None:
    """Compile ``tex_path`` with plain pdflatex (no shell-escape) in its directory.

    Runs pdflatex twice (three times when the log still asks for a rerun) so that
    longtable widths and references settle.  It compiles under a build job name and moves
    the finished PDF onto ``<stem>.pdf`` in one rename, so a reader never opens a
    half-written PDF.  Returns the PDF path; ``None`` when pdflatex is not on PATH.  On
    failure raises ``RuntimeError`` with the tail of the log, removes the previous PDF (it
    would look current beside a new .tex), and keeps only the log, as ``<stem>.log``; on
    success the auxiliary files, the log included, are removed."""
    exe = shutil.which("pdflatex")
    if exe is None:
        return None
    tex_path = Path(tex_path).resolve()
    workdir, stem = tex_path.parent, tex_path.stem
    job = f"{stem}-build"
    pdf, built, log, job_log = (workdir / f"{stem}.pdf", workdir / f"{job}.pdf", workdir / f"{stem}.log",
                                workdir / f"{job}.log")
    for name in (stem, job):  # a stale .aux of a broken run breaks the next one
        _clean_aux(workdir, name, keep_log=False)
    built.unlink(missing_ok=True)
    cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
           "-file-line-error", f"-jobname={job}", tex_path.name]

    def fail(message: str) -> RuntimeError:
        pdf.unlink(missing_ok=True)
        built.unlink(missing_ok=True)
        if job_log.exists():
            os.replace(job_log, log)
        _clean_aux(workdir, job, keep_log=False)
        return RuntimeError(f"{message}; log kept at {log}\n--- log tail ---\n{_tail(log)}")

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
    _clean_aux(workdir, job, keep_log=False)
    return pdf


def _clean_aux(workdir: Path, stem: str, keep_log: bool) -> None:
    for suffix in _AUX_SUFFIXES:
        if not (keep_log and suffix == ".log"):
            (workdir / f"{stem}{suffix}").unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(_read(log).splitlines()[-lines:])
