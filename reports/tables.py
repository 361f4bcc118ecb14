"""Two overview tables of the appendix, drawn from results.json rows alone: the
per-epoch complexity (CPX-1) and the recommendation experiment (EXP-1).  Each is
empty when its rows did not run.  Wall-clock columns carry the dagger mark."""
from __future__ import annotations

from typing import Any, Mapping

from .latex import _is_number, _is_wallclock, _num, _verdict, escape

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


def complexity_table(claims: list[Mapping[str, Any]], wall: set[str]) -> list[str]:
    rows = [r for r in claims if r.get("id") == "CPX-1"]
    if not rows:
        return []
    lines = [r"\section{Per-epoch complexity (CPX-1)}",
             r"Local log--log exponents over the top pair of each grid: counted operations vs the claimed "
             r"expression (unit constants); the fitted wall-clock exponent in $n$ is shown for comparison.",
             r"\begin{center}\small\resizebox{\linewidth}{!}{%", r"\begin{tabular}{@{}llrrrrrrrl@{}}", r"\toprule",
             r"method & claimed & $n$ counted & $n$ claimed & $d$ counted & $d$ claimed & $m$ counted & $m$ claimed & "
             rf"$n$ time{_mark('exponent_n', wall, 'CPX-1')} & verdict \\", r"\midrule"]
    for row in rows:
        f = _figs(row)
        cells = [escape(row.get("reading", "")), escape(f.get("claimed", ""))]
        for var in ("n", "d", "m"):
            cells += [_cell(f.get(f"flops_exponent_{var}_top")), _cell(f.get(f"claimed_exponent_{var}_top"))]
        cells += [_cell(f.get("exponent_n"), ".2f"), _verdict(row.get("verdict"))]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{center}", ""]
    return lines


def experiment_table(claims: list[Mapping[str, Any]], wall: set[str]) -> list[str]:
    rows = [r for r in claims if r.get("id") == "EXP-1"]
    if not rows:
        return []
    data = escape(_figs(rows[0]).get("dataset", "?"))
    lines = [r"\section{Recommendation experiment (EXP-1)}",
             rf"Test metrics on {data}, mean over the seeds (NDCG@20 with its 95\% interval over the seeds); counted "
             r"operations and wall-clock seconds per training epoch; the verdict is the row's predicted place "
             r"against softmax (EXP-1).",
             r"\begin{center}\small\resizebox{\linewidth}{!}{%", r"\begin{tabular}{@{}lrrrrrrl@{}}", r"\toprule",
             r"method & NDCG@10 & NDCG@20 & 95\% (seeds) & Recall@20 & operations/epoch & "
             rf"s/epoch{_mark('epoch_s', wall, 'EXP-1')} & verdict \\", r"\midrule"]
    for row in rows:
        f = _figs(row)
        ci = f.get("ndcg@20_seed_ci95") or []
        ci_txt = f"[{_cell(ci[0])}, {_cell(ci[1])}]" if len(ci) == 2 else "--"
        lines.append(" & ".join([escape(row.get("reading", "")), _cell(f.get("ndcg@10"), ".4f"),
                                 _cell(f.get("ndcg@20"), ".4f"), ci_txt, _cell(f.get("recall@20"), ".4f"),
                                 _cell(_float(f.get("flops_per_epoch")), ".3g"), _cell(f.get("epoch_s"), ".3f"),
                                 _verdict(row.get("verdict"))]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{center}", ""]
    return lines
