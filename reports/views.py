"""What the two documents show of each row, read from results.json alone.

The appendix (body) prints per row its statement, verdict, the scope of its evidence (on its
front line too) and one line per check (its
summary, up to three labelled key figures, a link to its counterexample, its planted defects)
and the row's plots; evidence.pdf prints the complete record (the full account, every
figure under its label, assumptions, steps, the counterexample whole).  Both take their
text from here, so the two never disagree."""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

from .figtables import figures_block, key_figures
from .texfmt import (_VERDICT_COLOURS, _ident, _num, _outcome, _pdfstring, _tt, _verdict, escape, marked)

CX_CHARS = 4000          # counterexample characters in evidence.pdf, per top-level key
BODY_PDF = "appendix.pdf"
EVIDENCE_PDF = "evidence.pdf"


def _planted_outcome(o: Any, truth: bool) -> str:
    """A planted defect must turn its check (fails with a re-checked counterexample, undecided,
    or the crash the real run makes); a planted truth must make it hold."""
    if truth:
        return _outcome(o) if o == "holds" else r"\textbf{" + escape(o) + r" (NOT held)}"
    if o in ("fails", "undecided"):
        return _outcome(o)
    if o in ("crash", "suite-defect"):
        return r"crash (a defect of ours caught)"
    return r"\textbf{" + escape(o) + r" (NOT turned)}"


def planted(ev: Mapping[str, Any]) -> str:
    """The check's demonstration: its planted defects (a check that held) or its planted
    truths (a check that failed or stayed undecided), each with what the check gave on it."""
    items = ev.get("planted") or []
    if not items:
        return r"\emph{none recorded}"
    defects = [p for p in items if p.get("role") != "truth"]
    truths = [p for p in items if p.get("role") == "truth"]
    parts = []
    for label, group, truth in (("defect", defects, False), ("truth", truths, True)):
        if group:
            name = r"\textbf{Planted " + label + ("s" if len(group) > 1 else "") + "}: "
            parts.append(name + "; ".join(marked(p.get("defect", "?")) + r" $\to$ "
                                          + _planted_outcome(p.get("outcome"), truth) for p in group))
    return ". ".join(parts)


def resolution(ev: Mapping[str, Any]) -> str:
    """The smallest planted defect the check was shown to catch (its resolution), if it names one."""
    near = [p for p in ev.get("planted") or [] if p.get("resolution")]
    return marked(near[0].get("defect", "?")) if near else ""


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "), allow_nan=True)


def counterexample_full(cx: Any) -> str:
    """Escaped JSON, one top-level key per line, breakable after commas."""
    parts = [(_json(str(k)) + ": ", v) for k, v in cx.items()] if isinstance(cx, Mapping) else [("", cx)]
    body = []
    for prefix, v in parts:
        text = _json(v)
        note = ""
        if len(text) > CX_CHARS:
            text, note = text[:CX_CHARS], r" \ldots{} \textrm{(cut; the full value is in results.json)}"
        body.append(_tt(prefix + text).replace(", ", r", \allowbreak{}") + note)
    if isinstance(cx, Mapping):
        body = [r"{\char123}"] + [r"\hspace*{1em}" + b + ("," if j < len(body) - 1 else "")
                                   for j, b in enumerate(body)] + [r"{\char125}"]
    return "\n".join([r"\par\noindent\textbf{Counterexample} (re-checked by \texttt{softmax-audit recheck})",
                      r"\begin{flushleft}\small\ttfamily", " \\\\\n".join(body), r"\end{flushleft}"])


def _summary(ev: Mapping[str, Any]) -> str:
    return marked(ev["summary"]) if ev.get("summary") else marked(ev.get("detail", "")) or r"\emph{no summary}"


def decided(row: Mapping[str, Any]) -> str:
    """A line or two for the front table: the summaries of the evidence that decided the
    verdict -- the failing checks of a refuted row, the undecided ones of an inconclusive
    row, the first symbolic and the first numeric or empirical check of a passing row."""
    evs = row.get("evidence") or []
    v = row.get("verdict")
    if v == "crashed":
        return "; ".join(escape(str(c)) for c in row.get("crash") or []) or r"\emph{crashed}"
    pick = {"refuted": "fails", "inconclusive": "undecided"}.get(str(v))
    if pick:
        chosen = [e for e in evs if e.get("outcome") == pick]
    else:  # a passing row: its first symbolic and first independent route (the rest on its page)
        chosen = ([e for e in evs if e.get("kind") == "symbolic"][:1]
                  + [e for e in evs if e.get("kind") != "symbolic"][:1])
    parts = [_summary(e) for e in chosen or evs]
    if v == "refuted":
        parts[-1] += "; re-checked"
    return "; ".join(parts) if parts else r"\emph{no evidence}"


def _figure(f: Mapping[str, Any]) -> dict[str, str]:
    path = str(f.get("path", "")).replace("\\", "/")
    if re.fullmatch(r"[A-Za-z0-9_./-]+", path) and not path.startswith("-"):
        graphic = (rf"\IfFileExists{{{path}}}{{\includegraphics[width=0.8\linewidth,height=0.18\textheight,"
                   rf"keepaspectratio]{{{path}}}}}{{\fbox{{missing file: {_ident(path)}}}}}")
    else:
        graphic = rf"\fbox{{unusable file name: {_ident(path)}}}"
    return {"graphic": graphic, "caption": marked(f.get("caption", ""))}


#: an opening of whole sentences at least this long that this many statements share verbatim is
#: a protocol: printed once, before the rows, and referred to from each (issue 24 item 4)
PROTOCOL_CHARS = 300
PROTOCOL_ROWS = 3


def _openings(statement: str) -> list[str]:
    """The statement's openings that end a sentence (``". "`` follows) with balanced math."""
    return [statement[:k + 1] for k in range(len(statement) - 1)
            if statement[k] == "." and statement[k + 1] == " " and statement[:k + 1].count("$") % 2 == 0]


def shared_protocols(claims: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each protocol (module constants above) with the claims that state it, in first-use order;
    a statement uses the longest protocol it opens with."""
    counts: dict[str, int] = {}
    for row in claims:
        for head in set(_openings(str(row.get("statement") or ""))):
            counts[head] = counts.get(head, 0) + 1
    found: dict[str, list[str]] = {}
    for row in claims:
        heads = [h for h in _openings(str(row.get("statement") or ""))
                 if len(h) >= PROTOCOL_CHARS and counts[h] >= PROTOCOL_ROWS]
        if heads:
            ids = found.setdefault(max(heads, key=len), [])
            if str(row.get("id")) not in ids:
                ids.append(str(row.get("id")))
    return [{"n": n, "text": text, "marked": marked(text), "ids": ", ".join(escape(i) for i in ids),
             "label": f"protocol-{n}"} for n, (text, ids) in enumerate(found.items(), 1)]


def _statement(text: str, protocols: list[dict[str, Any]]) -> str:
    """The statement as printed: a protocol it opens with replaced by a reference to it."""
    for p in protocols:
        if text.startswith(p["text"] + " "):
            return (rf"\hyperref[{p['label']}]{{\emph{{Protocol~{p['n']}}}}} (stated once, on "
                    rf"page~\pageref{{{p['label']}}}). " + marked(text[len(p["text"]) + 1:]))
    return marked(text)


def row_views(claims: list[Mapping[str, Any]], wall: set[str], files: Iterable[Mapping[str, Any]] = ()
              ) -> list[dict[str, Any]]:
    by_row: dict[int, list] = {}
    for f in files:
        by_row.setdefault(int(f.get("row", -1)), []).append(_figure(f))
    out = []
    protocols = shared_protocols(claims)
    for i, row in enumerate(claims, 1):
        cid, reading = str(row.get("id", "?")), str(row.get("reading", ""))
        evs = []
        for ev in row.get("evidence") or []:
            cx = ev.get("counterexample")
            evs.append({
                "kind": escape(ev.get("kind", "?")), "check": _tt(ev.get("check", "?")),
                "outcome": _outcome(ev.get("outcome")), "summary": _summary(ev),
                "detail": marked(ev["detail"]) if ev.get("detail") else "",
                "scope_gap": marked(ev["scope_gap"]) if ev.get("scope_gap") else "",
                # "supported, not verified" is what a gap does to a row whose checks all hold; in a refuted or
                # inconclusive row another check decides, and the gap only says what the derivation leaves out
                "scope_note": ("supported, not verified" if row.get("verdict") == "supported"
                               else "not covered by the derivation"),
                "planted": planted(ev), "n_planted": len(ev.get("planted") or []), "resolution": resolution(ev),
                "assumptions": [marked(a) for a in ev.get("assumptions") or []],
                "steps": [marked(s) for s in ev.get("steps") or []],
                "key_figures": key_figures(ev, wall, cid),
                "figures": figures_block(ev.get("figures") or {}, ev.get("labels") or {}, wall, cid),
                # the body names it (the summary states it in words) and links to the data
                "counterexample": rf"\href{{{EVIDENCE_PDF}#ev-{i}}}{{{EVIDENCE_PDF}}}" if cx is not None else "",
                "counterexample_full": counterexample_full(cx) if cx is not None else "",
            })
        out.append({
            "i": i, "id": escape(cid), "reading": escape(reading), "verdict": _verdict(row.get("verdict")),
            "pdf_title": f"{_pdfstring(cid)} - {_pdfstring(reading)}" if reading else _pdfstring(cid),
            "statement": _statement(str(row["statement"]), protocols) if row.get("statement") else "",
            "decided": decided(row), "evidence": evs, "figures": by_row.get(i - 1, []),
            # the limits of the row's evidence (Claim.scope): under the front line, on the page, in the record
            "scope": marked(str(row["scope"])) if row.get("scope") else "",
            "crash": [escape(str(c)) for c in row.get("crash") or []],
            "evidence_link": rf"\href{{{EVIDENCE_PDF}#ev-{i}}}{{\small full evidence}}",
            "body_link": rf"\href{{{BODY_PDF}#claim-{i}}}{{\small back to the appendix}}",
        })
    return out


def verdict_counts(claims: list[Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for row in claims:
        counts[str(row.get("verdict"))] = counts.get(str(row.get("verdict")), 0) + 1
    order = [v for v in _VERDICT_COLOURS if v in counts] + sorted(v for v in counts if v not in _VERDICT_COLOURS)
    return ", ".join(f"{_num(counts[v], 'd')} {_verdict(v)}" for v in order)
