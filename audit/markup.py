"""Marked text: the one rule for every human-readable string a claim or a check authors.

A statement, an evidence's summary and detail, a derivation's assumptions and steps, a
scope gap, a planted defect, a figure label and a plot caption are *marked text*: prose
with inline LaTeX mathematics between ``$…$`` (amsmath/amssymb; ``\\$`` is a literal dollar
sign).  The appendix sets the prose through the text escaper and the mathematics as
mathematics, so nothing mathematical goes through the escaper:

* prose holds no ``^``, ``_`` or backslash (other than ``\\$``) and none of the Unicode
  mathematical characters (Greek letters, relations, arrows, operators, super- and
  subscripts, the minus sign): each belongs between dollars (``$\\hat y_j > 0$``);
* mathematics is LaTeX for inline math mode; Unicode mathematical characters inside it
  are accepted (the writer maps them to macros), so ``$θ ≤ 1$`` and ``$\\theta \\le 1$``
  print alike.

:func:`problems` states what breaks the rule; the runner turns a problem in a check's
evidence into a defect of the suite (reports/runner.py), so a malformed string can never
reach the PDF as escaper artefacts (a caret printed as text, ``p ˆα``, ``θ j``)."""
from __future__ import annotations

import re
import unicodedata

#: a one-line summary stays within this many visible characters (front table of the appendix)
SUMMARY_CHARS = 110

# Unicode that is mathematics, not prose: these characters must sit between dollars
_MATH_CATEGORIES = ("Sm",)
_MATH_EXTRA = set("αβγδεϵζηθϑικλμµνξπρσςτυφϕχψωΓΔ∆ΘΛΞΠΣΥΦΨΩ"
                  "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼ⁿⁱᵀᵗᵏ₀₁₂₃₄₅₆₇₈₉₊₋ᵢⱼₖₙₘₜₓ"
                  "ℝℕℤℚℂ𝔼ℙ𝟙ℋℒℰℱℓ∂∇∀∃∄∅∞⊤⊥′″·‖⟨⟩⌈⌉⌊⌋⋯⋮⋱†‡∎★")


def _is_math_char(ch: str) -> bool:
    if ch in _MATH_EXTRA:
        return True
    if unicodedata.category(ch) in _MATH_CATEGORIES and ch not in "+<=>|~¬°":
        return True
    base = unicodedata.normalize("NFD", ch)
    return len(base) > 1 and base[0].isascii() and base[0].isalpha() and unicodedata.combining(base[1]) \
        and base[1] in "\u0302\u0303\u0304\u0305\u0307\u20d7\u0306\u030c\u0338"  # ŷ, ȳ: accents of notation


def split(text: str) -> list[tuple[bool, str]]:
    """``text`` as ``(is_math, piece)`` pieces; raises ``ValueError`` on an unclosed ``$``."""
    out: list[tuple[bool, str]] = []
    buf: list[str] = []
    math = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "$" and not math:
            buf.append("$")           # a literal dollar sign in prose
            i += 2
            continue
        if c == "\\" and math and i + 1 < n:
            buf.append(text[i:i + 2])  # \$ \{ \\ inside math stay as they are
            i += 2
            continue
        if c == "$":
            if buf or math:
                out.append((math, "".join(buf)))
            buf, math = [], not math
            i += 1
            continue
        buf.append(c)
        i += 1
    if math:
        raise ValueError(f"unclosed $ in marked text: {text!r}")
    if buf:
        out.append((False, "".join(buf)))
    return out


def problems(text: str) -> list[str]:
    """What breaks the marked-text rule in ``text`` (empty: none)."""
    try:
        pieces = split(text)
    except ValueError as exc:
        return [str(exc)]
    found = []
    for is_math, piece in pieces:
        if is_math:
            if not piece.strip():
                found.append("empty $ $")
            if piece.count("{") - piece.count("\\{") != piece.count("}") - piece.count("\\}"):
                found.append(f"unbalanced braces in ${piece}$")
            continue
        for c in "^_\\":
            if c in piece:
                found.append(f"{c!r} in prose {piece.strip()[:60]!r}: put it between $…$")
        bad = sorted({c for c in piece if _is_math_char(c)})
        if bad:
            found.append(f"mathematics {''.join(bad)!r} in prose {piece.strip()[:60]!r}: put it between $…$")
    return found


def visible_length(text: str) -> int:
    """Roughly how many characters ``text`` prints as: a macro counts one, braces, dollars,
    ``^`` and ``_`` none."""
    t = re.sub(r"\\(?:left|right|displaystyle|mathrm|operatorname|text|mathbf|mathcal)\b", "", text)
    t = re.sub(r"\\[A-Za-z]+", "x", t)
    return len(re.sub(r"[{}$^_\\]", "", t))


def fit_line(*candidates: str) -> str:
    """The first candidate that fits one line of the appendix's front table
    (:data:`SUMMARY_CHARS`), longest wording first; the last one otherwise."""
    for text in candidates:
        if visible_length(text) <= SUMMARY_CHARS:
            return text
    return candidates[-1]


__all__ = ["split", "problems", "visible_length", "fit_line", "SUMMARY_CHARS"]
