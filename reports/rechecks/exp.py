"""Re-checks of EXP-1 / DYN-3 / CPX-2 counterexamples from the stored run-level differences
and counted operations (standard library and numpy only), and of CPX-1's from stored counts
(``cost.py``).

A comparison ``"A-B"`` stores its run-level differences D_r of NDCG@20 (A − B, one per
(split, training seed) run), the side of 0 its interval lies on, and the level.  The
re-check recomputes the Student-t interval of the mean of the D_r (df = runs − 1, the
quantile from the exact t distribution function for integer df, :func:`t_quantile`) and
requires that it lies on the side the *row's prediction* is contradicted by -- the side is
not taken from the stored data:

* EXP-1[softmax]: ``softmax-X`` below 0 (X significantly above softmax);
* EXP-1[popularity]: ``X-popularity`` below 0 (popularity above a learned model X);
* EXP-1[X] otherwise, and DYN-3 for X among the WOP losses: ``softmax-X`` below 0;
* CPX-2[softmax-undominated]: ``X-softmax`` above 0 AND X's counted operations per epoch
  below softmax's (cheaper and significantly more accurate);
* CPX-2[approximations-cheaper…]: an approximation whose counted operations per epoch are
  at least the stored reference's (no interval: counts are deterministic).

The level must be at least :data:`MIN_LEVEL` (the suite's family-wise false-alarm budget is
0.01; every decision's level is above 1 − 0.01), and at least 2 runs are needed.
"""
from __future__ import annotations

import math

import numpy as np

from .cost import recheck_cpx1

MIN_LEVEL = 0.99
MIN_RUNS = 2
WOP = ("sparsemax", "entmax-1.5", "rankmax")
APPROX = ("ssm/uniform", "ssm/popularity", "nce", "hsm", "rg2/als", "rg2/als-authors", "rg2/sgd")


def t_coverage(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with integer ``df`` ≥ 1 (the closed finite series in
    θ = atan(t / √df); Abramowitz & Stegun 26.7.3-4)."""
    th = math.atan(t / math.sqrt(df))
    c2, s = math.cos(th) ** 2, math.sin(th)
    if df % 2 == 1:
        term, acc = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            acc += term
        return (2 / math.pi) * (th + (s * math.cos(th) * acc if df > 1 else 0.0))
    term, acc = 1.0, 1.0
    for k in range(1, df // 2):
        term *= c2 * (2 * k - 1) / (2 * k)
        acc += term
    return s * acc


def t_quantile(level: float, df: int) -> float:
    """The t with P(|T| < t) = ``level`` (bisection on :func:`t_coverage`)."""
    lo, hi = 0.0, 1.0
    while t_coverage(hi, df) < level:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_coverage(mid, df) < level else (lo, mid)
    return (lo + hi) / 2


def _interval(c: dict, level: float) -> tuple[float, float]:
    d = np.asarray(c["run_diff"], dtype=np.float64)
    if d.ndim != 1 or d.size < MIN_RUNS:
        raise ValueError(f"only {d.size} runs (need at least {MIN_RUNS})")
    half = t_quantile(level, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return d.mean() - half, d.mean() + half


def _comparisons(cx: dict, want: dict[str, str]) -> tuple[bool, str]:
    """Every stored comparison must be one of ``want`` (name → the side that contradicts
    the prediction) and its recomputed interval must lie on that side."""
    level = float(cx["level"])
    if not MIN_LEVEL <= level < 1:
        return False, f"level {level} is below {MIN_LEVEL}"
    comps = cx.get("comparisons") or {}
    if not comps:
        return False, "no comparison stored"
    msgs = []
    for name, c in comps.items():
        if name not in want:
            return False, f"{name}: not a comparison that can contradict this row's prediction"
        if c.get("side") != want[name]:
            return False, f"{name}: stored side {c.get('side')!r}, the prediction is contradicted {want[name]}"
        try:
            lo, hi = _interval(c, level)
        except (KeyError, ValueError, TypeError) as exc:
            return False, f"{name}: {exc!r}"
        if not (lo > 0 if want[name] == "above 0" else hi < 0):
            return False, f"{name}: recomputed interval [{lo:.5f}, {hi:.5f}] is not {want[name]}"
        msgs.append(f"{name} [{lo:.4f}, {hi:.4f}]")
    return True, "; ".join(msgs)


def recheck_exp1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    if reading == "softmax":
        want = {f"softmax-{m}": "below 0" for m in (*WOP, *APPROX, "popularity")}
    elif reading == "popularity":
        want = {f"{m}-popularity": "below 0" for m in ("softmax", *WOP, *APPROX)}
    else:
        want = {f"softmax-{reading}": "below 0"}
    return _comparisons(cx, want)


def recheck_dyn3(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    return _comparisons(cx, {f"softmax-{w}": "below 0" for w in WOP})


def recheck_cpx2(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    flops = {k: float(v) for k, v in (cx.get("flops_per_epoch") or {}).items()}
    if "softmax" not in flops:
        return False, "no counted operations of softmax stored"
    if reading == "softmax-undominated":
        ok, msg = _comparisons(cx, {f"{m}-softmax": "above 0" for m in (*WOP, *APPROX)})
        if not ok:
            return ok, msg
        for name in cx["comparisons"]:
            m = name[: -len("-softmax")]
            if m not in flops or not flops[m] < flops["softmax"]:
                return False, f"{m} is not cheaper than softmax in the stored counts"
        return True, msg + " (each cheaper than softmax)"
    if reading in ("approximations-cheaper", "approximations-cheaper/per-interaction"):
        dearer = [m for m, f in flops.items() if m in APPROX and f >= flops["softmax"]]
        if not dearer:
            return False, "no approximation costs at least as much as the reference"
        return True, f"{', '.join(dearer)} >= reference ({flops['softmax']:.3g} operations per epoch)"
    return False, f"unknown CPX-2 reading {reading!r}"


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {"EXP-1": recheck_exp1, "DYN-3": recheck_dyn3, "CPX-2": recheck_cpx2, "CPX-1": recheck_cpx1}
