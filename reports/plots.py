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

import io
import re
from pathlib import Path
from typing import Any

from .execution import Engine, Task
from .store import atomic_write_bytes


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


_SUPERSCRIPT = str.maketrans("0123456789-−.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻·")


def plain_power(label: str) -> str:
    """A log-axis tick label as plain text: ``$\\mathdefault{2\\times10^{-3}}$`` ->
    ``2×10⁻³``.  Matplotlib typesets these through mathtext, and parsing some 600 distinct
    tick labels was two thirds of the appendix's plotting time."""
    m = re.fullmatch(r"\$\\mathdefault\{(.*)\}\$", label)
    if not m:
        return label
    body = m.group(1).replace("\\times", "×").replace("{", "").replace("}", "")
    base, _, exponent = body.partition("^")
    return base + exponent.translate(_SUPERSCRIPT) if exponent else base


def _log_formatter(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    for which, get in (("major", axis.get_major_formatter), ("minor", axis.get_minor_formatter)):
        fmt = get()
        plain = FuncFormatter(lambda x, pos, fmt=fmt: plain_power(fmt(x, pos)))
        plain.set_locs = fmt.set_locs  # the log formatter decides which minor ticks to label from the view
        (axis.set_major_formatter if which == "major" else axis.set_minor_formatter)(plain)


def figure_pdf(spec: dict[str, Any]) -> bytes:
    """One figure as PDF bytes (no CreationDate, so reruns give the same bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    try:
        for label, s in spec.get("series", {}).items():
            if spec.get("markers"):
                ax.plot(s["x"], s["y"], label=str(label), marker="o", linestyle="none")
            else:
                ax.plot(s["x"], s["y"], label=str(label), linewidth=1.2)
        if spec.get("logx"):
            ax.set_xscale("log")
            _log_formatter(ax.xaxis)
        if spec.get("logy"):
            ax.set_yscale("log")
            _log_formatter(ax.yaxis)
        ax.set_xlabel(spec.get("xlabel", ""))
        ax.set_ylabel(spec.get("ylabel", ""))
        ax.set_title(spec.get("title", ""), fontsize=9)
        if len(spec.get("series", {})) > 1:
            # scatter plots put the legend beside the axes: points can sit anywhere
            ax.legend(fontsize=7, **({"loc": "center left", "bbox_to_anchor": (1.0, 0.5)} if spec.get("markers") else {}))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf", metadata={"CreationDate": None, "ModDate": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def render_plots(results: dict[str, Any], out: Path, engine: Engine | None = None) -> list[dict[str, str]]:
    """Draw every figure of ``results`` into ``out/fig-<n>.pdf`` (each written whole),
    as tasks of ``engine`` (default: in this process)."""
    specs = plot_specs(results)
    tasks = [Task(f"fig-{i}", figure_pdf, (spec,)) for i, (_, spec) in enumerate(specs, 1)]

    def lost(task: Task, exc: BaseException) -> None:
        raise RuntimeError(f"figure {task.key} was lost by the engine: {exc!r}") from exc

    (engine or Engine()).run(tasks, lambda task, pdf, _s: atomic_write_bytes(out / f"{task.key}.pdf", pdf), lost)
    for stale in set(out.glob("fig-*.pdf")) - {out / f"{t.key}.pdf" for t in tasks}:
        stale.unlink()  # a figure of an earlier run with more figures
    return [{"path": f"{t.key}.pdf", "caption": f"{spec.get('title', '')} ({where})"}
            for t, (where, spec) in zip(tasks, specs)]
