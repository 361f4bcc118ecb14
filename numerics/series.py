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
    """A curve of a GD run: the per-step fraction on log-spaced steps, or the recorded loss/norm."""
    if key == "frac":
        frac = np.asarray(r["frac"], dtype=np.float64)
        steps = record_steps(len(frac), MAX_POINTS).numpy()
        return series(steps, frac[steps - 1])
    return series(r["t"], r[key], drop_nonpositive=(key == "loss"))


__all__ = ["series", "curve", "MAX_POINTS"]
