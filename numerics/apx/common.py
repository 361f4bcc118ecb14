"""Pieces shared by the APX numeric checks (numerics/apx/checks.py lists them): the
canonical configuration, exact series along the sample count, slopes, plot data."""
from __future__ import annotations

import functools
import math

import torch

from . import exact as X
from ..threads import one_thread

EQ_TOL = 1e-14  # float64 rounding of an exact enumeration: |Δ| below this counts as "equal"
THETA = torch.tensor(X.CANONICAL_THETA, dtype=torch.float64)
Y = X.CANONICAL_Y
N = THETA.shape[0]


def single_threaded(fn):
    """Run a check on one intra-op thread (numerics/threads.py: small tensors in loops run
    10-100x slower with two threads on a loaded 2-core machine)."""
    @functools.wraps(fn)
    def wrapper(*args, **kw):
        with one_thread():
            return fn(*args, **kw)
    return wrapper


def combine(outs: list[str]) -> str:
    return "fails" if "fails" in outs else ("undecided" if "undecided" in outs else "holds")


def slope(x0: float, y0: float, x1: float, y1: float) -> float:
    return (math.log(y1) - math.log(y0)) / (math.log(x1) - math.log(x0))


def proposal(reading: str, theta: torch.Tensor | None = None) -> torch.Tensor:
    """The SSM proposal of a canonical reading at ``theta`` (default: the canonical θ, read at call time)."""
    return X.canonical_proposal(reading, X.canonical_theta() if theta is None else theta, Y)


def nce_c(reading: str, theta: torch.Tensor | None = None) -> float:
    """NCE's normalizer of a reading at ``theta`` (default: the canonical θ, read at call time)."""
    return X.canonical_c(reading, X.canonical_theta() if theta is None else theta)


def sampling_series(method: str, reading: str, ctx) -> tuple[list[int], list[dict]]:
    """Exact moments at the canonical θ (read at call time) along an extended doubling grid
    of the sample count: SSM by enumeration (m ≤ 32 quick, 64 full), NCE by its closed form
    (k ≤ 2^20), with the reading's proposal, noise and normalizer."""
    theta = X.canonical_theta()
    if method == "ssm":
        q = proposal(reading, theta)
        ms = [2 ** i for i in range(ctx.budget(6, 7))]
        return ms, [X.ssm_exact(theta, Y, q, m) for m in ms]
    ks = [2 ** i for i in range(21)]
    q, c = X.nce_noise(theta), nce_c(reading, theta)
    return ks, [X.nce_exact(theta, Y, q, k, c) for k in ks]


def tex(x: float, digits: int = 2) -> str:
    """A number as marked text (audit/markup.py): ``0.45``, ``$-2$``, ``$3.1 \\times 10^{-9}$``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return f"${x}$" if x < 0 else str(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("$-\\infty$" if x < 0 else "$\\infty$")
    s = f"{x:.{digits}g}"
    if "e" not in s:
        return f"${s}$" if s.startswith("-") else s
    mant, exp = s.split("e")
    power = f"10^{{{int(exp)}}}"
    if mant in ("1", "-1"):
        return f"${'-' if mant == '-1' else ''}{power}$"
    return f"${mant} \\times {power}$"


def texm(x: float, digits: int = 2) -> str:
    """:func:`tex` without the dollars, to sit inside mathematics: ``3.1 \\times 10^{-9}``."""
    t = tex(x, digits)
    return t[1:-1] if t.startswith("$") else t


#: labels of the figures of numerics.apx.exact.canonical and of the extended series
#: (sampling_series), shared by the APX checks
CANONICAL_LABELS = {
    "reading": "reading", "m": "sample counts $m$ (canonical grid)", "k": "noise counts $k$ (canonical grid)",
    "bias2": "exact bias$^2$ $\\lVert \\mathbb{E}\\tilde g - g \\rVert^2$",
    "variance": "exact variance $\\mathbb{E}\\lVert \\tilde g - \\mathbb{E}\\tilde g \\rVert^2$",
    "mse": "exact MSE $\\mathbb{E}\\lVert \\tilde g - g \\rVert^2$",
    "extended_m": "sample counts $m$ (doubling grid)", "extended_k": "noise counts $k$ (doubling grid)",
    "extended_bias2": "exact bias$^2$ along the doubling grid",
    "extended_variance": "exact variance along the doubling grid",
}


def bv_plot(title: str, key: str, xs, series: dict, caption: str) -> dict:
    """A log-log plot of exact moments against the sample count ``key``; ``caption`` is
    marked text stating the claim and what the reader should see."""
    out = {}
    for label, ys in series.items():
        pts = [(x, y) for x, y in zip(xs, ys) if y > 0]
        out[label] = {"x": [p[0] for p in pts], "y": [p[1] for p in pts]}
    return {"title": title, "xlabel": f"${key}$", "ylabel": "exact value (float64)", "logx": True, "logy": True,
            "series": out, "caption": caption}
