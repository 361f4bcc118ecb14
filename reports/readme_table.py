"""``softmax-audit table``: the README's table of the recommendation experiment, in
Markdown, drawn from a results.json alone (so the README's figures are regenerated, never
typed)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from .tables import _figs

_NAMES = {"entmax-1.5": "1.5-entmax", "ssm/uniform": "SSM uniform", "ssm/popularity": "SSM popularity",
          "nce": "NCE", "hsm": "HSM", "rg2/als": "RG² ALS", "rg2/als-authors": "RG² ALS (authors' form)",
          "rg2/sgd": "RG² SGD", "ease": "EASE", "itemknn": "item kNN"}


def _f(v: Any, spec: str = ".3f") -> str:
    return format(v, spec) if isinstance(v, (int, float)) and not isinstance(v, bool) else "–"


def _ops(v: Any) -> str:
    if not isinstance(v, (int, float)) or not v:
        return "–"
    mant, exp = f"{float(v):.2e}".split("e")
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    return f"{float(mant):.2g}·10{str(int(exp)).translate(sup)}"


def _config(c: Any) -> str:
    if not isinstance(c, Mapping) or not c:
        return "–"
    short = {"weight_decay": "wd", "lam": "λ", "alpha": "α"}
    return ", ".join(f"{short.get(k, k)} {v:g}" for k, v in c.items())


def markdown_table(results: Mapping[str, Any]) -> str:
    """One line per method: NDCG@10, NDCG@20 with its 95 % interval over splits, Recall@20,
    selected configuration, the size of its plausible set and epochs, counted operations per epoch and to the selected
    model, the EXP-1 verdict; then the calibration baselines."""
    rows = [r for r in results.get("claims", []) if r.get("id") == "EXP-1"]
    if not rows:
        raise ValueError("results has no EXP-1 rows; run `softmax-audit report` first")
    lines = ["| method | NDCG@10 | NDCG@20 (95 % over splits) | Recall@20 | selected | plausible | epochs | "
             "operations / epoch | operations to selection | EXP-1 verdict |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        f = _figs(row)
        ci = f.get("ndcg@20_run_ci95") or []
        nd = _f(f.get("ndcg@20")) + (f" [{_f(ci[0])}, {_f(ci[1])}]" if len(ci) == 2 else "")
        ep = f.get("selected_epochs")
        ep_txt = "–" if ep is None else f"{ep}" + (" (cap)" if f.get("selected_at_epoch_cap") else "")
        verdict = row.get("verdict", "?")
        plaus = f.get("plausible_set")
        n_plaus = str(len(plaus)) if isinstance(plaus, list) else "–"
        lines.append(f"| {_NAMES.get(row['reading'], row['reading'])} | {_f(f.get('ndcg@10'))} | {nd} | "
                     f"{_f(f.get('recall@20'))} | {_config(f.get('selected'))} | {n_plaus} | {ep_txt} | "
                     f"{_ops(f.get('flops_per_epoch'))} | {_ops(f.get('flops_to_selection'))} | "
                     f"{'**' + verdict + '**' if verdict == 'refuted' else verdict} |")
    top = next((r for r in rows if r.get("reading") == "softmax"), None)
    for m, v in (_figs(top).get("calibration") or {}).items() if top else ():
        if m in ("ease", "itemknn"):
            lines.append(f"| {_NAMES[m]} (calibration) | {_f(v.get('ndcg@10'))} | {_f(v.get('ndcg@20'))} | "
                         f"{_f(v.get('recall@20'))} | {_config(v.get('selected'))} | – | – | – | – | – |")
    return "\n".join(lines) + "\n"


def main(path: str) -> int:
    print(markdown_table(json.loads(Path(path).read_text())), end="")
    return 0
