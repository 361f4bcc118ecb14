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
import math
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = ["escape", "render_appendix", "compile_pdf"]

TITLE = "Verified claims of arXiv:2601.22745"
KEY_FIGURES = 3          # at most this many numbers per row in the summary table
KEY_FORMAT = ".3g"       # summary table
DETAIL_FORMAT = ".6g"    # per-evidence figure tables
LIST_ITEMS = 8           # list-valued figures: first items shown
CX_CHARS = 4000          # counterexample value: characters shown before truncation

# --------------------------------------------------------------------------- escaping

_ASCII_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\textquotedblright{}",   # OT1 slot 34: a straight quote in cmtt, ” in cmr
}

# the same characters inside \ttfamily: cmtt has every ASCII glyph at its own slot
_TT_SPECIALS = {c: r"{\char%d}" % ord(c) for c in "\\{}^_~<>|\"'`-"}
_TT_SPECIALS.update({"$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%"})

# math symbols: valid both in text (\ensuremath) and inside math
_MATH = {
    # Greek
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
    "ϵ": r"\epsilon", "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta",
    "ι": r"\iota", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu", "µ": r"\mu", "ν": r"\nu",
    "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "ς": r"\varsigma", "τ": r"\tau",
    "υ": r"\upsilon", "φ": r"\phi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "Γ": r"\Gamma", "Δ": r"\Delta", "∆": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda",
    "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi",
    "Ω": r"\Omega",
    # relations
    "≤": r"\leq", "≥": r"\geq", "≦": r"\leq", "≧": r"\geq", "≠": r"\neq", "≈": r"\approx",
    "≃": r"\simeq", "≅": r"\cong", "≡": r"\equiv", "≪": r"\ll", "≫": r"\gg", "∝": r"\propto",
    "∼": r"\sim", "≺": r"\prec", "≻": r"\succ", "⪯": r"\preceq", "⪰": r"\succeq",
    "≼": r"\preceq", "≽": r"\succeq", "∈": r"\in", "∉": r"\notin", "∋": r"\ni",
    "⊂": r"\subset", "⊃": r"\supset", "⊆": r"\subseteq", "⊇": r"\supseteq", "⊊": r"\subsetneq",
    "∣": r"\mid", "∤": r"\nmid", "⊥": r"\perp", "∥": r"\parallel", "≔": r":=",
    # arrows
    "→": r"\to", "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow",
    "⇐": r"\Leftarrow", "⇔": r"\Leftrightarrow", "⟹": r"\Longrightarrow",
    "⟸": r"\Longleftarrow", "⟺": r"\Longleftrightarrow", "⟶": r"\longrightarrow",
    "↦": r"\mapsto", "↑": r"\uparrow", "↓": r"\downarrow", "↗": r"\nearrow", "↘": r"\searrow",
    # operators
    "±": r"\pm", "∓": r"\mp", "×": r"\times", "÷": r"\div", "·": r"\cdot", "⋅": r"\cdot",
    "∗": r"\ast", "∘": r"\circ", "∙": r"\bullet", "⊙": r"\odot", "⊗": r"\otimes",
    "⊕": r"\oplus", "∪": r"\cup", "∩": r"\cap", "∖": r"\setminus", "∧": r"\wedge",
    "∨": r"\vee", "¬": r"\neg", "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "√": r"\surd",
    "∂": r"\partial", "∇": r"\nabla", "∀": r"\forall", "∃": r"\exists", "∄": r"\nexists",
    "∅": r"\emptyset", "∞": r"\infty", "ℓ": r"\ell", "⊤": r"\top", "†": r"\dagger",
    "‡": r"\ddagger", "′": r"\prime", "″": r"\prime\prime", "°": r"^{\circ}",
    "−": r"-", "‖": r"\|", "⟨": r"\langle", "⟩": r"\rangle", "〈": r"\langle", "〉": r"\rangle",
    "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor", "⌋": r"\rfloor", "⋯": r"\cdots",
    "⋮": r"\vdots", "⋱": r"\ddots", "∎": r"\blacksquare", "□": r"\square", "★": r"\star",
    "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}",
    "ℂ": r"\mathbb{C}", "𝔼": r"\mathbb{E}", "ℙ": r"\mathbb{P}", "𝟙": r"\mathbf{1}",
    "ℋ": r"\mathcal{H}", "ℒ": r"\mathcal{L}", "ℰ": r"\mathcal{E}", "ℱ": r"\mathcal{F}",
    # super- and subscripts
    "⁰": "^{0}", "¹": "^{1}", "²": "^{2}", "³": "^{3}", "⁴": "^{4}", "⁵": "^{5}", "⁶": "^{6}",
    "⁷": "^{7}", "⁸": "^{8}", "⁹": "^{9}", "⁺": "^{+}", "⁻": "^{-}", "⁼": "^{=}", "ⁿ": "^{n}",
    "ⁱ": "^{i}", "ᵀ": r"^{\top}", "ᵗ": "^{t}", "ᵏ": "^{k}", "⋆": "^{*}",
    "₀": "_{0}", "₁": "_{1}", "₂": "_{2}", "₃": "_{3}", "₄": "_{4}", "₅": "_{5}", "₆": "_{6}",
    "₇": "_{7}", "₈": "_{8}", "₉": "_{9}", "₊": "_{+}", "₋": "_{-}", "ᵢ": "_{i}", "ⱼ": "_{j}",
    "ₖ": "_{k}", "ₙ": "_{n}", "ₘ": "_{m}", "ₜ": "_{t}", "ₓ": "_{x}",
}

# text-only symbols
_TEXT = {
    "–": "--", "—": "---", "‐": "-", "‑": "-", "‒": "--", "…": r"\ldots{}",
    "‘": "`", "’": "'", "‚": ",", "“": "``", "”": "''", "„": ",,", "«": "<<", "»": ">>",
    "\u00a0": r"\nobreakspace{}", "\u2009": r"\,", "\u202f": r"\,", "\u2002": " ", "\u2003": r"\quad{}",
    "\u200b": "", "\ufeff": "", "§": r"\S{}", "¶": r"\P{}", "©": r"\copyright{}",
    "ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "ø": r"\o{}", "Ø": r"\O{}", "å": r"\aa{}",
    "Å": r"\AA{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}",
    "•": r"\textbullet{}", "⁄": "/", "✓": "ok", "✗": "x",
}

# combining marks (after NFD): math accents for notation, text accents for names
_MATH_ACCENTS = {"\u0302": r"\hat", "\u0303": r"\tilde", "\u0304": r"\bar", "\u0305": r"\bar",
                 "\u0307": r"\dot", "\u20d7": r"\vec", "\u0306": r"\breve", "\u030c": r"\check"}
_TEXT_ACCENTS = {"\u0301": r"\'", "\u0300": r"\`", "\u0308": r"\"", "\u0327": r"\c",
                 "\u030a": r"\r", "\u030b": r"\H", "\u0328": r"\k"}
_GREEK_NAMES = {c: m.lstrip("\\") for c, m in _MATH.items()
                if unicodedata.category(c) in ("Ll", "Lu") and m.startswith("\\") and m[1:].isalpha()}


def _base(ch: str, tt: bool) -> tuple[str, bool]:
    """(LaTeX for one NFD base character, is-math)."""
    if ch in _MATH:
        return _MATH[ch], True
    if ch < "\x80":
        if ch in "\t\n\r\f\v":
            return " ", False
        if ch < " " or ch == "\x7f":
            return "", False
        table = _TT_SPECIALS if tt else _ASCII_SPECIALS
        return table.get(ch, ch), False
    if ch in _TEXT:
        return _TEXT[ch], False
    compat = unicodedata.normalize("NFKD", ch)           # 𝑥 → x, ﬁ → fi, ½ → 1⁄2
    if compat != ch and all(c < "\x80" or c in _MATH or c in _TEXT for c in compat):
        parts = [_base(c, tt) for c in compat]
        return "".join(p for p, _ in parts), any(m for _, m in parts)
    return "?", False


def _convert(text: str, tt: bool = False) -> str:
    """Plain text → LaTeX text-mode (pure ASCII).  Characters of the tables are
    taken as they are (so ≠ and ∉ are not split into = and a slash); any other is
    decomposed into base + combining marks, which become accents."""
    out: list[str] = []
    chars: list[str] = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch < "\x80" or ch in _MATH or ch in _TEXT:
            chars.append(ch)
        else:                                   # ŷ → y + combining hat, é → e + acute
            chars.extend(unicodedata.normalize("NFD", ch))
    i, n = 0, len(chars)
    while i < n:
        latex, is_math = _base(chars[i], tt)
        i += 1
        # combining marks that follow apply to this base character
        while i < n and unicodedata.combining(chars[i]):
            mark = chars[i]
            i += 1
            mathable = is_math or (len(latex) == 1 and latex.isalnum()) or latex in "=<>"
            if mark == "\u0338" and mathable:    # combining long solidus: negation
                latex, is_math = r"\not " + latex, True
            elif mark in _MATH_ACCENTS and mathable:
                latex, is_math = f"{_MATH_ACCENTS[mark]}{{{latex}}}", True
            elif mark in _TEXT_ACCENTS and not is_math:
                latex = f"{_TEXT_ACCENTS[mark]}{{{latex}}}"
            # unknown marks are dropped
        if is_math:
            out.append(r"\ensuremath{" + latex + "}")
        else:
            # break the TeX ligatures -- `` '' ,, << >> !` ?` so plain text prints as typed
            if latex in ("-", "`", "'", ",", "!", "?") and i < n and chars[i] in "-`'<>,":
                latex += "{}"
            out.append(latex)
    return re.sub(r" {2,}", " ", "".join(out))


def escape(text: Any) -> str:
    """Plain text → LaTeX that compiles under plain pdflatex, in text mode.

    Escapes ``\\ { } $ & # ^ _ % ~ < > | "``, maps the Unicode of our statements
    (Greek letters, ≤ ≥ ≠ ⟨ ⟩ ∈ ⇒ ⟺ → ∞ ‖ · − × ∑, ², ŷ = y + combining hat, …) to
    LaTeX macros, turns newlines and tabs into spaces, drops control characters, and
    writes ``?`` for any other non-ASCII character.  The result is pure ASCII."""
    return _convert(str(text))


def _tt(text: Any) -> str:
    """Plain text for a ``\\ttfamily`` context (straight quotes, real braces)."""
    return _convert(str(text), tt=True)


def _math_raw(latex: str) -> str:
    """Raw LaTeX (math) with non-ASCII characters mapped to macros."""
    if latex.isascii():
        return latex
    out = []
    for ch in unicodedata.normalize("NFC", latex):
        if ch < "\x80":
            out.append(ch)
        elif ch in _MATH:  # \ensuremath: steps may go back to text after their math
            out.append(r"\ensuremath{" + _MATH[ch] + "}")
        else:
            out.append(escape(ch))
    return "".join(out)


def _step(step: str) -> str:
    """One derivation step: plain words (escaped), then the math from the first ``$`` raw."""
    head, dollar, tail = str(step).partition("$")
    return escape(head) + (_math_raw(dollar + tail) if dollar else "")


def _pdfstring(text: Any) -> str:
    """An ASCII-only, macro-free version for PDF bookmarks."""
    out = []
    for ch in unicodedata.normalize("NFKD", str(text)):
        if ch in _GREEK_NAMES:
            out.append(_GREEK_NAMES[ch])
        elif ch.isascii() and (ch.isalnum() or ch in " .,;:=+-*/()[]'!?@"):
            out.append(ch)
        elif not unicodedata.combining(ch):
            out.append(" ")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _ident(name: Any) -> str:
    """A check or figure name in typewriter type, breakable after underscores."""
    return r"\texttt{" + _tt(name).replace(r"{\char95}", r"{\char95}\allowbreak{}") + "}"


# --------------------------------------------------------------------------- numbers

def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _special_float(x: Any) -> str | None:
    s = str(x).strip().lower()
    if s in ("nan", "+nan", "-nan"):
        return r"\textsc{nan}"
    if s in ("inf", "+inf", "infinity"):
        return r"\ensuremath{\infty}"
    if s in ("-inf", "-infinity"):
        return r"\ensuremath{-\infty}"
    return None


def _num(x: int | float, spec: str) -> str:
    """A number with a fixed format; exponents as ×10^k, a true minus sign."""
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return _special_float(repr(x)) or "?"
    s = str(x) if isinstance(x, int) else format(x, spec)
    mant, _, exp = s.partition("e")
    if exp:
        k = int(exp)
        body = (rf"10^{{{k}}}" if mant in ("1", "-1") else rf"{mant}\times 10^{{{k}}}")
        if mant == "-1":
            body = "-" + body
        return r"\ensuremath{" + body + "}"
    return r"\ensuremath{" + s + "}" if s.startswith("-") else s


def _value(v: Any, spec: str) -> str:
    """Any JSON figure value, compactly."""
    if isinstance(v, bool):
        return r"\texttt{true}" if v else r"\texttt{false}"
    if v is None:
        return r"\texttt{null}"
    if _is_number(v):
        return _num(v, spec)
    if isinstance(v, str):
        return _special_float(v) or escape(v)
    if isinstance(v, list):
        items = [_value(e, spec) for e in v[:LIST_ITEMS]]
        if len(v) > LIST_ITEMS:
            items.append(rf"\ldots{{}} ({len(v)} items)")
        return "[" + r", \allowbreak{}".join(items) + "]"
    if isinstance(v, Mapping):
        return r"\{" + r", \allowbreak{}".join(f"{_ident(k)}: {_value(e, spec)}" for k, e in v.items()) + r"\}"
    return escape(v)


# --------------------------------------------------------------------------- document parts

_VERDICT_COLOURS = {
    "verified": "0.0,0.45,0.0",
    "supported": "0.0,0.25,0.65",
    "refuted": "0.75,0.0,0.0",
    "inconclusive": "0.75,0.45,0.0",
}
_OUTCOME_COLOURS = {"holds": "verified", "fails": "refuted", "undecided": "inconclusive"}
_LEGEND = (
    ("verified", "symbolic and numeric evidence agree: every check holds."),
    ("supported", "every check holds, but only numeric/empirical (or only symbolic) evidence exists."),
    ("refuted", "a check fails and a counterexample is stored (shown below; re-checked each run)."),
    ("inconclusive", "a check is undecided: solver not optimal, budget spent, or an interval "
                     "straddles the threshold — never counted as a pass."),
)


def _verdict(v: Any) -> str:
    v = str(v)
    if v in _VERDICT_COLOURS:
        return rf"\textbf{{\textcolor{{v-{v}}}{{{v}}}}}"
    return rf"\textbf{{{escape(v)}}}"


def _outcome(o: Any) -> str:
    o = str(o)
    if o in _OUTCOME_COLOURS:
        return rf"\textbf{{\textcolor{{v-{_OUTCOME_COLOURS[o]}}}{{{o}}}}}"
    return rf"\textbf{{{escape(o)}}}"


def _wallclock(meta: Mapping[str, Any]) -> set[str]:
    keys = meta.get("wallclock") or []
    return {str(k) for k in keys} if isinstance(keys, list) else set()


def _is_wallclock(key: str, wall: set[str], claim_id: str = "") -> bool:
    """``meta.wallclock`` lists figure keys, bare (``seconds``) or qualified by the
    claim id (``EXP-1/seconds``, ``EXP-1.seconds``, ``EXP-1:seconds``)."""
    if key in wall:
        return True
    return bool(claim_id) and any(w.startswith(claim_id) and re.split(r"[/.:]", w)[-1] == key for w in wall)


#: Figure names that carry a finding (errors, gaps, constants, rates); shown first in the summary.
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
    from .tables import complexity_table, experiment_table

    out += [""] + _summary_table(claims, wall) + [""]
    out += complexity_table(claims, wall) + experiment_table(claims, wall)
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
    longtable widths and references settle.  Returns the PDF path; ``None`` when
    pdflatex is not on PATH.  On failure raises ``RuntimeError`` with the tail of the
    log, and keeps only the ``.log`` (no stale PDF, no half-written ``.aux``) next to
    the source; on success the auxiliary files, the log included, are removed."""
    exe = shutil.which("pdflatex")
    if exe is None:
        return None
    tex_path = Path(tex_path).resolve()
    workdir, stem = tex_path.parent, tex_path.stem
    pdf, log = workdir / f"{stem}.pdf", workdir / f"{stem}.log"
    _clean_aux(workdir, stem, keep_log=False)          # a stale .aux of a broken run breaks the next one
    pdf.unlink(missing_ok=True)
    cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
           "-file-line-error", tex_path.name]
    for run in range(3):
        try:
            proc = subprocess.run(cmd, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            pdf.unlink(missing_ok=True)
            _clean_aux(workdir, stem, keep_log=True)
            raise RuntimeError(f"pdflatex timed out after {timeout}s on {tex_path}\n{_tail(log)}") from exc
        if proc.returncode != 0 or not pdf.exists():
            pdf.unlink(missing_ok=True)
            _clean_aux(workdir, stem, keep_log=True)
            tail = _tail(log) or proc.stdout.decode("utf-8", "replace")[-3000:]
            raise RuntimeError(f"pdflatex failed on {tex_path} (exit {proc.returncode}); "
                               f"log kept at {log}\n--- log tail ---\n{tail}")
        if run >= 1 and "Rerun to get" not in _read(log) and "Rerun LaTeX" not in _read(log):
            break
    _clean_aux(workdir, stem, keep_log=False)
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
