"""An evidence's figures as a reader sees them: each key under the label its check declared
(``Evidence.labels``, marked text), scalars in one table, and list- or dict-valued figures
as small sub-tables (records by field, mappings by key) instead of Python reprs.  Every value
is printed whole, at 8 pt or larger: a table too wide for the page is split into column groups,
never shrunk (issue 24 item 4)."""
from __future__ import annotations

import re
from typing import Any, Mapping

from audit import markup
from audit.evidence import PLOT_KEYS

from .texfmt import _is_number, _is_wallclock, _num, _special_float, escape, marked

DETAIL_FORMAT = ".6g"    # figures in evidence.pdf
KEY_FORMAT = ".3g"       # key figures on a claim's page
KEY_FIGURES = 3          # at most this many per evidence on a claim's page
DAGGER = r"\ensuremath{^\dagger}"

# figure names that carry a finding (errors, gaps, constants, rates) come first among the key figures
_HEADLINE = ("err", "gap", "lambda", "regret", "exponent", "slope", "bias", "variance", "mse", "ndcg",
             "recall", "ratio", "steps", "fraction", "margin")


def label(key: Any, labels: Mapping[str, str]) -> str:
    """The declared label of a figure key; an undeclared one (only data keys such as a loss
    name reach here: the runner refuses unlabelled figures) is printed as data."""
    return marked(labels[key]) if key in labels else escape(key)


def scalar(v: Any, spec: str = DETAIL_FORMAT) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return "--"
    if _is_number(v):
        return _num(v, spec)
    if isinstance(v, str):
        if "$" in v and not markup.problems(v):   # a check's marked text among its figures
            return marked(v)
        return _special_float(v) or escape(v)
    return escape(v)


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


def _inline_list(v: list, spec: str) -> str | None:
    """A list of scalars inline, ``(a, b, …)``, every item; None when it is not one."""
    if not all(_is_scalar(e) for e in v):
        return None
    return "(" + r", \allowbreak{}".join(scalar(e, spec) for e in v) + ")"


def _cell(v: Any, spec: str, labels: Mapping[str, str] = {}) -> str:
    """Any value in full (issue 24: evidence.pdf prints the record, never a pointer to
    results.json): a mapping as ``label: value; …`` in brackets, a list item by item."""
    if _is_scalar(v):
        return scalar(v, spec)
    if isinstance(v, Mapping):
        return "[" + r"; \allowbreak{}".join(f"{label(k, labels)}: {_cell(e, spec, labels)}" for k, e in v.items()) + "]"
    if isinstance(v, list):
        inline = _inline_list(v, spec)
        if inline is not None:
            return inline
        return "(" + r", \allowbreak{}".join(_cell(e, spec, labels) for e in v) + ")"
    return escape(v)


#: a table's width budget in characters of 8 pt type (\footnotesize) on the 17 cm text width,
#: less the column separations; a wider table is split into column groups, never shrunk
LINE_CHARS = 100
WRAP_CHARS = 40     # a column whose widest cell is longer wraps in a paragraph column this wide
_SEP_CHARS = 3      # \tabcolsep on both sides of a column, in characters


def visible_chars(tex: str) -> int:
    """About how many characters ``tex`` sets: commands, braces and math shifts removed."""
    text = re.sub(r"\\(?:allowbreak|ensuremath|mathrm|textbf|emph|texttt)\b|\\[a-zA-Z]+\{\}", "", tex)
    text = re.sub(r"\\[a-zA-Z]+", "x", text)
    return len(re.sub(r"[{}$^_]", "", text))


def _column_groups(widths: list[int]) -> list[list[int]]:
    """Columns 1.. split into groups that each fit ``LINE_CHARS`` beside column 0 (the key,
    repeated in every group)."""
    groups: list[list[int]] = [[]]
    used = widths[0] + _SEP_CHARS
    for c, w in enumerate(widths[1:], 1):
        if groups[-1] and used + w + _SEP_CHARS > LINE_CHARS:
            groups.append([])
            used = widths[0] + _SEP_CHARS
        groups[-1].append(c)
        used += w + _SEP_CHARS
    return groups


def split_table(head: list[str], body: list[list[str]], align: str = "") -> str:
    r"""A table at 8 pt in one or more column groups (each repeating the first column, all flush
    left), a long one broken across pages; cells wider than ``WRAP_CHARS`` wrap.  ``align``
    gives each column's ``l``/``r`` (default: ``l`` then ``r``); a rule row of ``body`` is a
    list holding one string that starts with a backslash (``[r"\midrule"]``)."""
    rows = [r for r in body if len(r) == len(head)]
    natural = [max(visible_chars(r[c]) for r in [head, *rows]) for c in range(len(head))]
    widths = [min(w, WRAP_CHARS) for w in natural]
    align = align or "l" + "r" * (len(head) - 1)
    out = []
    for group in _column_groups(widths):
        cols = [0, *group]
        spec = "".join((rf">{{\raggedright\arraybackslash}}p{{{WRAP_CHARS / LINE_CHARS:.2f}\linewidth}}"
                        if natural[c] > WRAP_CHARS else align[c]) for c in cols)
        out += [r"{\footnotesize\setlength{\LTpre}{2pt}\setlength{\LTpost}{4pt}\setlength{\LTleft}{0pt}",
                rf"\begin{{longtable}}{{@{{}}{spec}@{{}}}}", r"\toprule", " & ".join(head[c] for c in cols) + r" \\",
                r"\midrule \endhead"]
        out += [" & ".join(r[c] for c in cols) + r" \\" if len(r) == len(head) else r[0] for r in body]
        out += [r"\bottomrule", r"\end{longtable}}"]
    return "\n".join(out)


def structured(key: str, v: Any, labels: Mapping[str, str], spec: str = DETAIL_FORMAT) -> str:
    """A list- or dict-valued figure as a sub-table under its label, every entry in full."""
    title = r"\par\noindent{\small\textbf{" + label(key, labels) + "}}"
    if isinstance(v, list) and v and all(isinstance(e, Mapping) for e in v):
        fields = list(dict.fromkeys(k for e in v for k in e))
        body = [[_num(i, "d")] + [_cell(e.get(f), spec, labels) for f in fields] for i, e in enumerate(v, 1)]
        return title + "\n" + split_table([""] + [label(f, labels) for f in fields], body)
    if isinstance(v, Mapping) and v and all(isinstance(e, Mapping) for e in v.values()):
        fields = list(dict.fromkeys(k for e in v.values() for k in e))
        body = [[label(k, labels)] + [_cell(e.get(f), spec, labels) for f in fields] for k, e in v.items()]
        return title + "\n" + split_table([""] + [label(f, labels) for f in fields], body)
    if isinstance(v, Mapping):
        body = [[label(k, labels), _cell(e, spec, labels)] for k, e in v.items()]
        return title + "\n" + split_table(["", "value"], body)
    if isinstance(v, list) and v and all(isinstance(e, list) for e in v):
        width = max(len(e) for e in v)
        body = [[_num(i, "d")] + [_cell(x, spec, labels) for x in e] + [""] * (width - len(e)) for i, e in enumerate(v)]
        return title + "\n" + split_table(["row"] + [_num(j, "d") for j in range(width)], body)
    return title + " " + _cell(v, spec, labels)


def figures_block(figs: Mapping[str, Any], labels: Mapping[str, str], wall: set[str], claim_id: str) -> str:
    """Every figure of one evidence (evidence.pdf): scalars and short lists in one table,
    then each structured figure as a sub-table; plot data is drawn, not tabulated."""
    flat, nested = [], []
    for k, v in figs.items():
        if k in PLOT_KEYS:
            continue
        mark = DAGGER if _is_wallclock(str(k), wall, claim_id) else ""
        if _is_scalar(v) or (isinstance(v, list) and _inline_list(v, DETAIL_FORMAT) is not None):
            flat.append(f"{label(k, labels)}{mark} & {_cell(v, DETAIL_FORMAT, labels)} \\\\")
        else:
            nested.append(structured(k, v, labels))
    out = []
    if flat:
        out += [r"\begin{center}\small",
                r"\begin{tabular}{@{}>{\raggedright\arraybackslash}p{0.45\linewidth}>{\raggedright\arraybackslash}p{0.45\linewidth}@{}}",
                r"\toprule Figure & Value \\ \midrule", *flat, r"\bottomrule", r"\end{tabular}", r"\end{center}"]
    return "\n".join(out + nested)


def key_figures(ev: Mapping[str, Any], wall: set[str], claim_id: str) -> str:
    """Up to ``KEY_FIGURES`` numeric figures of an evidence, headline names first, each under
    its label (a claim's page)."""
    labels = ev.get("labels") or {}
    found = [(k, v) for k, v in (ev.get("figures") or {}).items() if _is_number(v) and k in labels]
    head = [kv for kv in found if any(h in kv[0].lower() for h in _HEADLINE)]
    ranked = head + [kv for kv in found if kv not in head]
    parts = [f"{marked(labels[k])}{DAGGER if _is_wallclock(k, wall, claim_id) else ''} = {_num(v, KEY_FORMAT)}"
             for k, v in ranked[:KEY_FIGURES]]
    return "; ".join(parts)
