"""Run-level comparison of two recommenders by test NDCG@20: the t-interval that
``numerics/exp/decide.py`` applies at the split level (one run per split), a two-stage
bootstrap and Bonferroni levels.

Why run level.  A training run r = (split_seed, train_seed) draws a split and an
initialisation, trains and gives a test metric per method.  Methods A and B run on the same
(split, seed) are paired: ``D_r = NDCG_A(r) - NDCG_B(r)``.  The question "is A above B?" is
about E[D], and what a rerun changes is the run, so the unit of replication is the run and
the between-run variance has to enter the interval (Bouthillier et al. 2021).  The old
interval averaged each user's difference over seeds and ran a t-test over users: its
standard error ``s_u / sqrt(n_users)`` shrinks with the number of users and never sees how
much D moves from one run to the next, so a difference of +0.014 over ~1000 users looks
certain even when the runs scatter by 0.006 around it.

Student-t interval (:func:`run_level_interval`).  With n runs, mean D̄ and sample
standard deviation s (ddof 1): ``D̄ ± t_{1-(1-level)/2, n-1} · s / sqrt(n)``.  Exact when
the D_r are i.i.d. normal; it assumes the runs are exchangeable.  Runs sharing a split are
correlated when the split itself moves the difference: if that dominates, average the seeds
of each split first and pass one difference per split (df = n_splits - 1).

Two-stage bootstrap (:func:`hierarchical_bootstrap_interval`; Davison & Hinkley 1997,
§3.8).  Each run holds its users' paired differences d_{r,u}; a draw picks R runs with
replacement, then in each picked run n_r users with replacement; the statistic is the mean
over picked runs of the resampled user means, and the interval is the (1-level)/2 and
(1+level)/2 percentiles of the draws.  Its variance is, exactly,
``Var* = (1/R) [ (1/R) Σ_r (ȳ_r - ȳ)^2 + (1/R) Σ_r s_r^2 / n_r ]``  (s_r^2 with ddof 0):
the spread of the run means already contains the user noise, and resampling users adds it
once more, so with no true between-run variance the interval is wider than the per-user
pooled one by about sqrt(2 - 1/R) (conservative).  Davison & Hinkley recommend resampling
only the first stage when the clusters (here runs) are many: ``resample_users=False``.
A percentile interval needs draws in its tails: at a Bonferroni level 1 - 2.7e-5 that means
at least 1/(1.3e-5) = 75 000 draws, so decisions at such levels belong to the t-interval.

Multiplicity (:func:`bonferroni_levels`).  m distinct unordered comparisons ({A,B} is
{B,A}) at family level alpha: each interval at ``1 - alpha/m``.

References.  X. Bouthillier et al., "Accounting for variance in machine learning
benchmarks", MLSys 2021.  A. C. Davison & D. V. Hinkley, "Bootstrap Methods and their
Application", Cambridge University Press 1997, §3.8 (hierarchical data).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

RunKey = tuple[int, int]
#: most user indices drawn at once for one run (memory bound); the draws do not depend on it
_BLOCK = 1 << 22


@dataclass(frozen=True)
class Interval:
    """An interval for the mean run-level difference A - B."""
    mean: float
    lo: float
    hi: float
    level: float
    df: int | None      # t degrees of freedom; None for the bootstrap
    n_runs: int
    method: str         # "run-level t" or "two-stage bootstrap" / "run bootstrap"


def _check_level(level: float) -> None:
    if not (isinstance(level, numbers.Real) and 0 < level < 1):
        raise ValueError(f"level must lie in (0, 1), got {level!r}")


def paired_run_differences(a: Mapping[RunKey, float], b: Mapping[RunKey, float]) -> np.ndarray:
    """``a[k] - b[k]`` for every run k = (split_seed, train_seed), in sorted key order."""
    ka, kb = set(a), set(b)
    if ka != kb:
        raise ValueError(f"a and b must hold the same runs: only in a {sorted(ka - kb)}, "
                         f"only in b {sorted(kb - ka)}")
    keys = sorted(ka)
    if len(keys) < 2:
        raise ValueError(f"a and b need at least 2 runs, got {len(keys)}")
    vals = {}
    for name, m in (("a", a), ("b", b)):
        vals[name] = np.array([float(m[k]) for k in keys])
        bad = [k for k, v in zip(keys, vals[name]) if not math.isfinite(v)]
        if bad:
            raise ValueError(f"{name} has non-finite values at runs {bad}")
    return vals["a"] - vals["b"]


def run_level_interval(diffs: np.ndarray, level: float) -> Interval:
    """Two-sided Student-t interval (df = n - 1) of the mean of the run differences."""
    _check_level(level)
    d = np.asarray(diffs, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise ValueError(f"diffs must be a 1-D array of at least 2 runs, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("diffs has non-finite values")
    n = d.size
    mean = float(d.mean())
    half = float(stats.t.isf((1 - level) / 2, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, level, n - 1, n, "run-level t")


def hierarchical_bootstrap_interval(per_user: Mapping[RunKey, np.ndarray], level: float, draws: int, seed: int,
                                    *, resample_users: bool = True) -> Interval:
    """Percentile interval of the two-stage bootstrap (module docstring): runs with
    replacement, then users within each picked run with replacement (``resample_users``;
    False resamples runs only).  Deterministic given ``seed`` (``Generator(PCG64(seed))``)."""
    _check_level(level)
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 2:
        raise ValueError(f"draws must be an integer >= 2, got {draws!r}")
    tail = (1 - level) / 2
    if draws * tail < 1:
        raise ValueError(f"draws={draws} leaves no draw in a tail of the level-{level} percentile "
                         f"interval; need at least {math.ceil(1 / tail)}")
    keys = sorted(per_user)
    if len(keys) < 2:
        raise ValueError(f"per_user needs at least 2 runs, got {len(keys)}")
    runs = []
    for k in keys:
        u = np.asarray(per_user[k], dtype=float)
        if u.ndim != 1 or u.size < 1:
            raise ValueError(f"per_user[{k}] must be a non-empty 1-D array, got shape {u.shape}")
        if not np.all(np.isfinite(u)):
            raise ValueError(f"per_user[{k}] has non-finite values")
        runs.append(u)
    n_runs = len(runs)
    means = np.array([u.mean() for u in runs])
    rng = np.random.Generator(np.random.PCG64(seed))
    pick = rng.integers(0, n_runs, size=(draws, n_runs))       # the resampled runs of each draw
    if resample_users:
        total = np.zeros(draws)
        for r, u in enumerate(runs):                            # the handful of runs
            rows = np.nonzero(pick == r)[0]                     # one entry per (draw, slot) that picked r
            sums = np.empty(rows.size)
            step = max(1, _BLOCK // u.size)
            for s in range(0, rows.size, step):                 # blocks of draws, for memory only
                idx = rng.integers(0, u.size, size=(min(step, rows.size - s), u.size))
                sums[s:s + step] = u[idx].mean(axis=1)
            np.add.at(total, rows, sums)
        stat = total / n_runs
    else:
        stat = means[pick].mean(axis=1)
    lo, hi = np.quantile(stat, [tail, 1 - tail])
    return Interval(float(means.mean()), float(lo), float(hi), level, None, n_runs,
                    "two-stage bootstrap" if resample_users else "run bootstrap")


def bonferroni_levels(family_alpha: float, comparisons: Iterable[tuple[str, str]]) -> tuple[float, int]:
    """``(1 - family_alpha / m, m)``, m the number of distinct unordered comparisons."""
    if not (isinstance(family_alpha, numbers.Real) and 0 < family_alpha < 1):
        raise ValueError(f"family_alpha must lie in (0, 1), got {family_alpha!r}")
    distinct = set()
    for c in comparisons:
        if not (isinstance(c, tuple) and len(c) == 2):
            raise ValueError(f"each comparison must be a pair (A, B), got {c!r}")
        if c[0] == c[1]:
            raise ValueError(f"comparison of {c[0]!r} with itself")
        distinct.add(frozenset(c))
    if not distinct:
        raise ValueError("comparisons is empty")
    return 1 - family_alpha / len(distinct), len(distinct)


def decide(interval: Interval) -> str:
    """"A>B" when the whole interval is above 0, "A<B" when below, else "undecided"."""
    if interval.lo > 0:
        return "A>B"
    if interval.hi < 0:
        return "A<B"
    return "undecided"
