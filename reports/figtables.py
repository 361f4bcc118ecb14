"""An evidence's figures as a reader sees them: each key under the label its check declared
(``Evidence.labels``, marked text), scalars in one table, and list- or dict-valued figures
as small sub-tables (records by field, mappings by key) instead of Python reprs.  Values too
large for a page are cut with a pointer to results.json, which holds them whole."""
from __future__ import annotations

from typing import Any, Mapping

from audit import markup
from audit.evidence import PLOT_KEYS

from .texfmt import _ident, _is_number, _is_wallclock, _num, _special_float, escape, marked

DETAIL_FORMAT = ".6g"    # figures in evidence.pdf
KEY_FORMAT = ".3g"       # key figures on a claim's page
KEY_FIGURES = 3          # at most this many per evidence on a claim's page
SUB_ROWS = 16            # rows of a sub-table before the pointer to results.json
LIST_ITEMS = 10          # numbers of a list shown inline
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
    """A short list of scalars inline, ``(a, b, …)``; None when it is not one."""
    if not all(_is_scalar(e) for e in v):
        return None
    items = [scalar(e, spec) for e in v[:LIST_ITEMS]]
    if len(v) > LIST_ITEMS:
        items.append(rf"\ldots{{}} ({len(v)} values)")
    return "(" + r", \allowbreak{}".join(items) + ")"


def _cell(v: Any, spec: str) -> str:
    if _is_scalar(v):
        return scalar(v, spec)
    if isinstance(v, list):
        inline = _inline_list(v, spec)
        if inline is not None:
            return inline
    return r"\emph{nested: see results.json}"


def _subtable(head: list[str], body: list[list[str]], total: int, where: str) -> str:
    cols = "l" + "r" * (len(head) - 1)
    lines = [r"\begin{center}\scriptsize\fitwidth{%",
             rf"\begin{{tabular}}{{@{{}}{cols}@{{}}}}", r"\toprule", " & ".join(head) + r" \\", r"\midrule"]
    lines += [" & ".join(r) + r" \\" for r in body]
    lines += [r"\bottomrule", r"\end{tabular}}"]
    if total > len(body):
        lines.append(rf"\\[0.2em]{{\scriptsize\emph{{first {len(body)} of {total} rows; all in results.json, "
                     rf"{_ident(where)}}}}}")
    lines.append(r"\end{center}")
    return "\n".join(lines)


def structured(key: str, v: Any, labels: Mapping[str, str], spec: str = DETAIL_FORMAT) -> str:
    """A list- or dict-valued figure as a sub-table under its label."""
    title = r"\par\noindent{\small\textbf{" + label(key, labels) + "}}"
    if isinstance(v, list) and v and all(isinstance(e, Mapping) for e in v):
        fields = list(dict.fromkeys(k for e in v for k in e))
        body = [[_cell(e.get(f), spec) for f in fields] for e in v[:SUB_ROWS]]
        return title + "\n" + _subtable([label(f, labels) for f in fields], body, len(v), key)
    if isinstance(v, Mapping) and v and all(isinstance(e, Mapping) for e in v.values()):
        fields = list(dict.fromkeys(k for e in v.values() for k in e))
        items = list(v.items())
        body = [[label(k, labels)] + [_cell(e.get(f), spec) for f in fields] for k, e in items[:SUB_ROWS]]
        return title + "\n" + _subtable([""] + [label(f, labels) for f in fields], body, len(items), key)
    if isinstance(v, Mapping):
        items = list(v.items())
        body = [[label(k, labels), _cell(e, spec)] for k, e in items[:SUB_ROWS]]
        return title + "\n" + _subtable(["", "value"], body, len(items), key)
    if isinstance(v, list) and v and all(isinstance(e, list) for e in v):
        body = [[_num(i, "d")] + [_cell(x, spec) for x in e[:LIST_ITEMS]] for i, e in enumerate(v[:SUB_ROWS])]
        width = max(len(r) for r in body)
        body = [r + [""] * (width - len(r)) for r in body]
        return title + "\n" + _subtable(["row"] + [""] * (width - 1), body, len(v), key)
    return title + " " + _cell(v, spec)


def figures_block(figs: Mapping[str, Any], labels: Mapping[str, str], wall: set[str], claim_id: str) -> str:
    """Every figure of one evidence (evidence.pdf): scalars and short lists in one table,
    then each structured figure as a sub-table; plot data is drawn, not tabulated."""
    flat, nested = [], []
    for k, v in figs.items():
        if k in PLOT_KEYS:
            continue
        mark = DAGGER if _is_wallclock(str(k), wall, claim_id) else ""
        if _is_scalar(v) or (isinstance(v, list) and _inline_list(v, DETAIL_FORMAT) is not None):
            flat.append(f"{label(k, labels)}{mark} & {_cell(v, DETAIL_FORMAT)} \\\\")
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
