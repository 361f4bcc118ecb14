"""LaTeX text primitives of the appendix: escaping plain text (every Unicode symbol of our
statements mapped to a LaTeX macro, the result pure ASCII), numbers and values in fixed
formats, marked text (audit/markup.py) set as LaTeX, and the markup of verdicts and
outcomes.  Shared by the documents' views (views.py, figtables.py, latex.py) and the overview
tables (tables.py)."""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, Mapping

from audit import markup


# --------------------------------------------------------------------------- escaping

_ASCII_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"{\ttfamily\char95}",   # cmr's \_ is a rule that reads back as a space; cmtt has the glyph
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


def marked(text: Any) -> str:
    """Marked text (audit/markup.py) → LaTeX: the prose escaped, the mathematics between
    dollars set as mathematics (its Unicode mapped to macros).  Text that breaks the rule --
    only a crash's traceback can, since the runner refuses such evidence -- is set in
    typewriter type as it is, never half-interpreted."""
    text = str(text)
    if markup.problems(text):
        return r"\texttt{" + _tt(text) + "}"
    return "".join("$" + _math_raw(piece) + "$" if is_math else escape(piece)
                   for is_math, piece in markup.split(text))


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


def _apart(x: float, spec: str) -> str:
    """``format(x, spec)``, with more significant digits where a value strictly between -1 and 1
    would print as 0 or ±1 (a level 0.99981 read as 1 at three digits; issue 24)."""
    s = format(x, spec)
    m = re.fullmatch(r"\.?(\d*)g", spec)
    if m is None or not 0 < abs(x) < 1:
        return s
    digits = int(m.group(1) or 6)
    while float(s) in (0.0, 1.0, -1.0) and digits < 17:
        digits += 1
        s = format(x, f".{digits}g")
    return s


def _num(x: int | float, spec: str) -> str:
    """A number with a fixed format; exponents as ×10^k, a true minus sign."""
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return _special_float(repr(x)) or "?"
    s = str(x) if isinstance(x, int) else _apart(x, spec)
    mant, _, exp = s.partition("e")
    if exp:
        k = int(exp)
        body = (rf"10^{{{k}}}" if mant in ("1", "-1") else rf"{mant}\times 10^{{{k}}}")
        if mant == "-1":
            body = "-" + body
        return r"\ensuremath{" + body + "}"
    return r"\ensuremath{" + s + "}" if s.startswith("-") else s


# --------------------------------------------------------------------------- document parts

_VERDICT_COLOURS = {
    "verified": "0.0,0.45,0.0",
    "supported": "0.0,0.25,0.65",
    "refuted": "0.75,0.0,0.0",
    "inconclusive": "0.75,0.45,0.0",
    "crashed": "0.45,0.0,0.55",
}
_OUTCOME_COLOURS = {"holds": "verified", "fails": "refuted", "undecided": "inconclusive"}
_LEGEND = (
    ("verified", "every check holds, with a symbolic route whose scope covers the statement and an independent "
                 "numeric or empirical one."),
    ("supported", "every check holds, but a route is missing or the symbolic scope covers only part of the "
                  "statement (the row names the missing part)."),
    ("refuted", "a check fails with a counterexample that the outside re-checker re-checks from results.json "
                "(printed whole in evidence.pdf)."),
    ("inconclusive", "a check is undecided (solver not optimal, budget spent, an interval straddles its "
                     "threshold): never counted as a pass."),
    ("crashed", "a defect of the suite, not a finding about the paper: a check raised, or two of the suite's own "
                "routes disagree (a holding derivation covers another check's counterexample); the run exits 1."),
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
