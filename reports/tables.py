"""Two overview tables of the appendix, drawn from results.json rows alone: the
per-epoch complexity (CPX-1) and the recommendation experiment (EXP-1).  Each is
empty when its rows did not run.  Wall-clock values carry the dagger mark, in the
header and in every cell, so a line that shows one says so."""
from __future__ import annotations

from typing import Any, Mapping

from .texfmt import _is_number, _is_wallclock, _num, _verdict, escape

DAGGER = r"\ensuremath{^\dagger}"


def _figs(row: Mapping[str, Any]) -> dict:
    out: dict = {}
    for ev in row.get("evidence") or []:
        out.update(ev.get("figures") or {})
    return out


def _cell(v: Any, spec: str = ".3f") -> str:
    return _num(v, spec) if _is_number(v) else "--"


def _float(v: Any) -> Any:
    return float(v) if _is_number(v) else v


def _mark(key: str, wall: set[str], cid: str) -> str:
    return DAGGER if _is_wallclock(key, wall, cid) else ""


def _table(title: str, intro: str, cols: str, header: str, body: list[str]) -> list[str]:
    """A section with one booktabs table scaled to the text width."""
    return [rf"\section{{{title}}}", intro, r"\begin{center}\small\resizebox{\linewidth}{!}{%",
            rf"\begin{{tabular}}{{@{{}}{cols}@{{}}}}", r"\toprule", header + r" \\", r"\midrule",
            *body, r"\bottomrule", r"\end{tabular}}", r"\end{center}", ""]


def complexity_table(claims: list[Mapping[str, Any]], wall: set[str]) -> list[str]:
    rows = [r for r in claims if r.get("id") == "CPX-1"]
    if not rows:
        return []
    body = []
    for row in rows:
        f = _figs(row)
        cells = [escape(row.get("reading", "")), escape(f.get("claimed", ""))]
        for var in ("n", "d", "m"):
            cells += [_cell(f.get(f"flops_exponent_{var}_top")), _cell(f.get(f"claimed_exponent_{var}_top"))]
        cells += [_cell(f.get("exponent_n"), ".2f") + _mark("exponent_n", wall, "CPX-1"), _verdict(row.get("verdict"))]
        body.append(" & ".join(cells) + r" \\")
    return _table("Per-epoch complexity (CPX-1)",
                  r"Local log--log exponents over the top pair of each grid: counted operations vs the claimed "
                  r"expression (unit constants); the fitted wall-clock exponent in $n$ is shown for comparison.",
                  "llrrrrrrrl",
                  r"method & claimed & $n$ counted & $n$ claimed & $d$ counted & $d$ claimed & $m$ counted & "
                  rf"$m$ claimed & $n$ time{_mark('exponent_n', wall, 'CPX-1')} & verdict", body)


def experiment_table(claims: list[Mapping[str, Any]], wall: set[str]) -> list[str]:
    rows = [r for r in claims if r.get("id") == "EXP-1"]
    if not rows:
        return []
    body = []
    for row in rows:
        f = _figs(row)
        ci = f.get("ndcg@20_seed_ci95") or []
        ci_txt = f"[{_cell(ci[0])}, {_cell(ci[1])}]" if len(ci) == 2 else "--"
        body.append(" & ".join([escape(row.get("reading", "")), _cell(f.get("ndcg@10"), ".4f"),
                                _cell(f.get("ndcg@20"), ".4f"), ci_txt, _cell(f.get("recall@20"), ".4f"),
                                _cell(_float(f.get("flops_per_epoch")), ".3g"),
                                _cell(f.get("epoch_s"), ".3f") + _mark("epoch_s", wall, "EXP-1"),
                                _verdict(row.get("verdict"))]) + r" \\")
    data = escape(_figs(rows[0]).get("dataset", "?"))
    return _table("Recommendation experiment (EXP-1)",
                  rf"Test metrics on {data}, mean over the seeds (NDCG@20 with its 95\% interval over the seeds); "
                  r"counted operations and wall-clock seconds per training epoch; the verdict is the row's predicted "
                  r"place against softmax (EXP-1).", "lrrrrrrl",
                  r"method & NDCG@10 & NDCG@20 & 95\% (seeds) & Recall@20 & operations/epoch & "
                  rf"s/epoch{_mark('epoch_s', wall, 'EXP-1')} & verdict", body)
