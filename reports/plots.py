"""Figures for the appendix, drawn from results.json alone.

A check that wants a figure puts plot data in its evidence::

    figures["plot"] = {"title": str, "caption": str, "xlabel": str, "ylabel": str, "logx": bool,
                       "logy": bool, "series": {label: {"x": [...], "y": [...]}}, "markers": bool}

(``markers``: points instead of lines.)  Optional, all drawn from the spec's own numbers:

* a series' ``"ylo"``/``"yhi"`` (lists beside ``"y"``): an error bar per point, the interval
  the caption names (on a log axis a lower end at or below 0 is drawn to the axis' foot);
* ``"reference"``: ``[{"label", "x", "y", "axis"}]``, guide curves (a rate's reference slope,
  numerics/series.reference) drawn dashed in grey, on the right axis where ``axis`` says so,
  so that a rate can be read off the plot;
* ``"right"``: ``{"ylabel", "series": [label, ...], "logy"}``, series on a second y axis
  (two quantities of different units never share one axis);
* ``"zoom"``: ``{"ylim": [lo, hi], "xlim": [lo, hi], "title"}``, a second panel beside the
  first on that window (every series legible where some span many more decades).

Every axis holds every point, marker and error bar whole (margins beyond the data).  The caption is marked text (audit/markup.py) stating
the claim and what the reader should see; the runner refuses a plot without one.  Labels
may use matplotlib's mathtext (``"$m$ (samples)"``).  A figure drawn from wall-clock data goes under
``figures["plot_time"]`` (a key listed in ``meta.wallclock``), so it is never mistaken
for a deterministic one.

:func:`render_plots` draws each one into ``out/fig-<n>.pdf`` and returns the list of
``{"path", "caption", "row"}`` entries the LaTeX writer places on each row's page.  Nothing is computed here:
every plotted number is in results.json.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from audit.evidence import PLOT_KEYS

from .execution import Engine, Task
from .store import atomic_write_bytes


def plot_specs(results: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(index of the row, plot spec) of every figure, in row and evidence order."""
    out = []
    for i, row in enumerate(results["claims"]):
        for ev in row["evidence"]:
            for key in PLOT_KEYS:
                spec = (ev.get("figures") or {}).get(key)
                if spec:
                    out.append((i, spec))
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


#: one style for every figure: a distinct colour *and* marker per series (up to 12), so that
#: series stay apart in grey print and for colour-blind readers (Okabe-Ito colours first)
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
           "#882255", "#44AA99", "#999933", "#AA4499")
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">", "h", "p")
MARKS_PER_LINE = 10  # markers drawn along a line series (every point would blot dense curves)


def series_style(i: int, n_points: int, points_only: bool) -> dict[str, Any]:
    """Matplotlib keywords of the ``i``-th series: its colour and marker, and for a line
    series markers at about ``MARKS_PER_LINE`` of its points."""
    style: dict[str, Any] = {"color": COLOURS[i % len(COLOURS)], "marker": MARKERS[i % len(MARKERS)],
                             "markersize": 4.5}
    if points_only:
        style["linestyle"] = "none"
    else:
        style.update(linewidth=1.2, markevery=max(1, n_points // MARKS_PER_LINE))
    return style


def is_constant(spec: dict[str, Any]) -> bool:
    """Whether every series of a plot is one constant value (a plot that shows nothing a
    sentence could not say; issue 24 item 4)."""
    ys = [y for s in (spec.get("series") or {}).values() for y in s.get("y", [])]
    return bool(ys) and len(set(ys)) == 1


def _draw(ax, spec: dict[str, Any], names: list[str], first: int = 0) -> list:
    """The series ``names`` of ``spec`` on ``ax``, styles numbered from ``first``; their
    legend handles, in order."""
    series, handles = spec.get("series", {}), []
    log = ax.get_yscale() == "log"
    for i, label in enumerate(names, first):
        s = series[label]
        style = series_style(i, len(s["x"]), bool(spec.get("markers")))
        if "ylo" not in s or "yhi" not in s:
            handles += ax.plot(s["x"], s["y"], label=str(label), **style)
            continue
        y, foot = s["y"], [log and lo <= 0 for lo in s["ylo"]]
        down = [0.0 if f else yi - lo for yi, lo, f in zip(y, s["ylo"], foot)]
        handles.append(ax.errorbar(s["x"], y, yerr=[down, [hi - yi for yi, hi in zip(y, s["yhi"])]],
                                   label=str(label), capsize=2.5, elinewidth=0.9, **style))
        for xi, yi, f in zip(s["x"], y, foot):
            if f:   # an interval reaching 0 on a log axis: its bar runs to the axis' foot
                ax.annotate("", xy=(xi, 0), xycoords=("data", "axes fraction"), xytext=(xi, yi), textcoords="data",
                            arrowprops={"arrowstyle": "-", "color": style["color"], "linewidth": 0.9})
    return handles


def _axes(ax, spec: dict[str, Any], xlabel: str, ylabel: str, logy: bool) -> None:
    if spec.get("logx"):
        ax.set_xscale("log")
        _log_formatter(ax.xaxis)
        xlabel += " (log)"
    if logy:
        ax.set_yscale("log")
        _log_formatter(ax.yaxis)
        ylabel += " (log)"
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, which="major", linewidth=0.4, alpha=0.4)
    ax.margins(x=0.06, y=0.1)   # a marker or bar at the data's edge is drawn whole


def _panel(ax, spec: dict[str, Any]) -> tuple[list, list]:
    """One panel: the main series, the reference curves, the right-axis series; returns the
    legend's handles and labels in the spec's order."""
    right = spec.get("right") or {}
    on_right = [n for n in right.get("series", []) if n in spec.get("series", {})]
    left = [n for n in spec.get("series", {}) if n not in on_right]
    _axes(ax, spec, spec.get("xlabel", ""), spec.get("ylabel", ""), bool(spec.get("logy")))
    handles = _draw(ax, spec, left)
    twin = None
    if on_right:
        twin = ax.twinx()
        _axes(twin, {"logx": False}, "", right.get("ylabel", ""), bool(right.get("logy", spec.get("logy"))))
        twin.grid(False)
        handles += _draw(twin, spec, on_right, first=len(left))
    for ref in spec.get("reference") or []:
        on = twin if (ref.get("axis") == "right" and twin is not None) else ax
        handles += on.plot(ref["x"], ref["y"], linestyle="--", color="0.45" if on is ax else "0.7", linewidth=1.0,
                           label=str(ref["label"]))
    return handles, [h.get_label() for h in handles]


def figure(spec: dict[str, Any]):
    """The matplotlib figure of one spec (the caller closes it): every series in the style of
    :func:`series_style`, the legend outside the axes on the right, a log axis named as such
    in its label; the options of the module docstring."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    zoom = spec.get("zoom")
    fig, axs = plt.subplots(1, 2 if zoom else 1, figsize=(8.4 if zoom else 6.4, 3.0), squeeze=False)
    ax = axs[0][0]
    handles, labels = _panel(ax, spec)
    if zoom:
        _panel(axs[0][1], spec)
        axs[0][1].set_ylim(*zoom["ylim"])
        if zoom.get("xlim"):
            axs[0][1].set_xlim(*zoom["xlim"])
        axs[0][1].set_title(zoom.get("title", "detail"), fontsize=9)
    if spec.get("title"):
        (fig.suptitle if zoom else ax.set_title)(spec["title"], fontsize=9)
    if handles:   # outside the last panel, clear of a right axis' labels
        axs[0][-1].legend(handles, labels, fontsize=7, loc="upper left", frameon=False, borderaxespad=0.0,
                          bbox_to_anchor=(1.13 if spec.get("right") else 1.01, 1.0))
    fig.tight_layout()
    return fig


def figure_pdf(spec: dict[str, Any]) -> bytes:
    """One figure (:func:`figure`) as PDF bytes (no CreationDate, so reruns give the same bytes)."""
    import matplotlib.pyplot as plt

    fig = figure(spec)
    try:
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
    return [{"path": f"{t.key}.pdf", "caption": spec.get("caption") or spec.get("title", ""), "row": row}
            for t, (row, spec) in zip(tasks, specs)]
