"""Figures for the appendix, drawn from results.json alone.

A check that wants a figure puts plot data in its evidence::

    figures["plot"] = {"title": str, "xlabel": str, "ylabel": str, "logx": bool, "logy": bool,
                       "series": {label: {"x": [...], "y": [...]}}, "markers": bool}

(``markers``: points instead of lines.)  A figure drawn from wall-clock data goes under
``figures["plot_time"]`` (a key listed in ``meta.wallclock``), so it is never mistaken
for a deterministic one.

:func:`render_plots` draws each one into ``out/fig-<n>.pdf`` and returns the list of
``{"path", "caption"}`` entries the LaTeX writer includes.  Nothing is computed here:
every plotted number is in results.json.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any


PLOT_KEYS = ("plot", "plot_time")


def plot_specs(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for row in results["claims"]:
        for ev in row["evidence"]:
            for key in PLOT_KEYS:
                spec = (ev.get("figures") or {}).get(key)
                if spec:
                    out.append((f"{row['id']} [{row['reading']}], {ev['check']}", spec))
    return out


def render_plots(results: dict[str, Any], out: Path) -> list[dict[str, str]]:
    specs = plot_specs(results)
    if not specs:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for i, (where, spec) in enumerate(specs, 1):
        fig, ax = plt.subplots(figsize=(5.0, 3.2))
        for label, s in spec.get("series", {}).items():
            if spec.get("markers"):
                ax.plot(s["x"], s["y"], label=str(label), marker="o", linestyle="none")
            else:
                ax.plot(s["x"], s["y"], label=str(label), linewidth=1.2)
        if spec.get("logx"):
            ax.set_xscale("log")
        if spec.get("logy"):
            ax.set_yscale("log")
        ax.set_xlabel(spec.get("xlabel", ""))
        ax.set_ylabel(spec.get("ylabel", ""))
        ax.set_title(spec.get("title", ""), fontsize=9)
        if len(spec.get("series", {})) > 1:
            # scatter plots put the legend beside the axes: points can sit anywhere
            ax.legend(fontsize=7, **({"loc": "center left", "bbox_to_anchor": (1.0, 0.5)} if spec.get("markers") else {}))
        fig.tight_layout()
        name = f"fig-{i}.pdf"
        # no CreationDate, so reruns give the same file
        fig.savefig(out / name, metadata={"CreationDate": None, "ModDate": None})
        plt.close(fig)
        files.append({"path": name, "caption": f"{spec.get('title', '')} ({where})"})
    return files
