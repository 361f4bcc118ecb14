"""Curves for the appendix plots of the DYN checks (thinned to at most ``MAX_POINTS``)."""
from __future__ import annotations

import numpy as np

from .gd_runs import record_steps

MAX_POINTS = 200


def series(x, y, drop_nonpositive: bool = False) -> dict:
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if drop_nonpositive:
        keep = y > 0
        x, y = x[keep], y[keep]
    if len(x) > MAX_POINTS:
        idx = np.unique(np.round(np.linspace(0, len(x) - 1, MAX_POINTS)).astype(int))
        x, y = x[idx], y[idx]
    return {"x": x.tolist(), "y": y.tolist()}


def curve(r: dict, key: str) -> dict:
    """A curve of a GD run: the per-step fraction on log-spaced steps, or a recorded series
    (loss, norm, smallest log-gradient of the negatives)."""
    if key == "frac":
        frac = np.asarray(r["frac"], dtype=np.float64)
        steps = record_steps(len(frac), MAX_POINTS).numpy()
        return series(steps, frac[steps - 1])
    return series(r["t"], r[key], drop_nonpositive=(key == "loss"))


def reference(s: dict, rate: str, label: str, decades: float = 2.0, axis: str = "left", scale: float = 1.0) -> dict:
    """A guide curve for a plot's ``"reference"`` list (reports/plots.py): the shape ``rate``
    (``"1/t"``: c/t; ``"log t"``: c log t) through the last point of the series ``s``, over its
    last ``decades`` decades of x, times ``scale`` (a guide beside the data, not on it), so that
    a rate claim can be read off the plot."""
    x1, y1 = float(s["x"][-1]), float(s["y"][-1])
    xs = np.geomspace(max(float(min(v for v in s["x"] if v > 0)), x1 / 10 ** decades), x1, 20)
    if rate == "1/t":
        ys = y1 * x1 / xs
    elif rate == "log t":
        xs = xs[xs > 1]
        ys = y1 * np.log(xs) / np.log(x1)
    else:
        raise ValueError(f"unknown reference rate {rate!r}")
    return {"label": label, "x": xs.tolist(), "y": (scale * ys).tolist(), "axis": axis}


__all__ = ["series", "curve", "reference", "MAX_POINTS"]
