"""Re-checks of EXP-1 / DYN-3 / CPX-2 counterexamples from the stored run-level differences
and counted operations (standard library and numpy only), and of CPX-1's from stored counts
(``cost.py``).

What defines the claim comes from the row's ``constants`` (typed in the registry from the
statement, reports/exp/claims.py), never from the counterexample:

* ``rule``: ``intervals`` (run-level intervals), ``dominated`` (intervals and counted
  operations) or ``dearer`` (counted operations);
* ``alpha`` and ``comparisons_in_family``: every interval is at level
  ``1 - alpha / comparisons_in_family`` (the experiment's share of the false-alarm budget,
  audit/falsealarm.py, over its Bonferroni family);
* ``metric``: the metric compared (NDCG@20);
* ``contradicted_by``: each comparison ``"A-B"`` that can contradict the row's prediction,
  with the side of 0 its interval must lie on to contradict it (EXP-1[X] and DYN-3:
  ``softmax-X`` below 0; EXP-1[popularity]: ``X-popularity`` below 0; CPX-2[softmax-
  undominated]: ``X-softmax`` above 0 AND X's stored counted operations below those of
  ``cheaper_than``);
* ``reference`` and ``approximations`` (``dearer``): an approximation whose counted
  operations per epoch are at least the reference's contradicts the row.

A comparison stores its split-level differences D_r of the metric (A − B, one per split,
each with its own training seed), for the selections' pair and for every pair of plausible
configurations (issue 21: a comparison is decided only when every pair is; each pair is
re-checked the same way).  The re-check recomputes the Student-t interval of the mean of the D_r
(df = runs − 1, the quantile from the exact t distribution function for integer df,
:func:`t_quantile`) at the row's level, requires it on the contradicting side, and compares
every stored figure with its recomputation (level, mean difference, both ends, df); for the
counts, the stored reference and every stored ratio.  At least 2 runs are needed.
"""
from __future__ import annotations

import math

import numpy as np

from .cost import recheck_cpx1

MIN_RUNS = 2
#: a recomputed figure matches its stored value within this (relative and absolute) tolerance
RTOL, ATOL = 1e-7, 1e-9


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


def _interval(c: dict, level: float) -> tuple[float, float, float, int]:
    """(mean, lower end, upper end, df) of the run-level t-interval of ``c["run_diff"]``."""
    d = np.asarray(c["run_diff"], dtype=np.float64)
    if d.ndim != 1 or d.size < MIN_RUNS:
        raise ValueError(f"only {d.size} runs (need at least {MIN_RUNS})")
    if not np.all(np.isfinite(d)):
        raise ValueError("non-finite run differences")
    half = t_quantile(level, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half), d.size - 1


def _same(stored, value: float) -> bool:
    return isinstance(stored, (int, float)) and not isinstance(stored, bool) and \
        math.isclose(float(stored), value, rel_tol=RTOL, abs_tol=ATOL)


def row_level(constants: dict) -> float:
    """The level of every interval of the row: ``1 - alpha / comparisons_in_family``."""
    alpha, m = float(constants["alpha"]), int(constants["comparisons_in_family"])
    if not (0 < alpha < 1 and m >= 1):
        raise ValueError(f"the row's constants give no level (alpha {alpha}, comparisons {m})")
    return 1 - alpha / m


def _comparisons(cx: dict, constants: dict) -> tuple[bool, str]:
    """Every stored comparison must be one the row's constants name (with the side that
    contradicts the prediction), its recomputed interval at the row's level must lie on that
    side, and every stored figure must equal its recomputation."""
    level, want = row_level(constants), dict(constants["contradicted_by"])
    if not _same(cx.get("level"), level):
        return False, f"stored level {cx.get('level')!r}, the row's is {level!r}"
    if cx.get("metric") != constants["metric"]:
        return False, f"stored metric {cx.get('metric')!r}, the row compares {constants['metric']!r}"
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
            mean, lo, hi, df = _interval(c, level)
        except (KeyError, ValueError, TypeError) as exc:
            return False, f"{name}: {exc!r}"
        if not (lo > 0 if want[name] == "above 0" else hi < 0):
            return False, f"{name}: recomputed interval [{lo:.5f}, {hi:.5f}] is not {want[name]}"
        for key, value in (("diff", mean), ("lo", lo), ("hi", hi)):
            if not _same(c.get(key), value):
                return False, f"{name}: stored {key} {c.get(key)!r}, recomputed {value!r}"
        if c.get("df") != df or len(c.get("runs") or []) != df + 1:
            return False, f"{name}: stored df {c.get('df')!r} and {len(c.get('runs') or [])} runs, recomputed df {df}"
        ok, why = _pairs(name, c, level, want[name])
        if not ok:
            return False, why
        msgs.append(f"{name} {mean:.4f} in [{lo:.4f}, {hi:.4f}], {why}")
    return True, f"level {level:.6f}: " + "; ".join(msgs)


def _pairs(name: str, c: dict, level: float, side: str) -> tuple[bool, str]:
    """Every stored pair of plausible configurations of a comparison (issue 21: a comparison
    is decided only when every pair is) recomputes on the contradicting side, with its
    stored figures; the selections' pair, stored first, is the comparison's own."""
    pairs = c.get("pairs")
    if not isinstance(pairs, list) or not pairs:
        return False, f"{name}: no pair of plausible configurations stored"
    for i, p in enumerate(pairs):
        try:
            mean, lo, hi, df = _interval(p, level)
        except (KeyError, ValueError, TypeError) as exc:
            return False, f"{name}, pair {i}: {exc!r}"
        if not (lo > 0 if side == "above 0" else hi < 0):
            return False, f"{name}, pair {i} ({p.get('a')} vs {p.get('b')}): recomputed interval [{lo:.5f}, {hi:.5f}] " \
                          f"is not {side}"
        for key, value in (("diff", mean), ("lo", lo), ("hi", hi)):
            if not _same(p.get(key), value):
                return False, f"{name}, pair {i}: stored {key} {p.get(key)!r}, recomputed {value!r}"
        if p.get("df") != df:
            return False, f"{name}, pair {i}: stored df {p.get('df')!r}, recomputed {df}"
    if pairs[0].get("run_diff") != c.get("run_diff"):
        return False, f"{name}: the first stored pair is not the selections' comparison"
    return True, f"all {len(pairs)} plausible pair(s) {side}"


def _dominated(cx: dict, constants: dict) -> tuple[bool, str]:
    """CPX-2[softmax-undominated]: each stored comparison contradicts the row (above 0) and
    its method is cheaper per epoch than ``cheaper_than`` in the stored counts."""
    ok, msg = _comparisons(cx, constants)
    if not ok:
        return ok, msg
    ref = constants["cheaper_than"]
    flops = {k: float(v) for k, v in (cx.get("flops_per_epoch") or {}).items()}
    if ref not in flops:
        return False, f"no counted operations of {ref} stored"
    for name in cx["comparisons"]:
        m = name[: -len(f"-{ref}")] if name.endswith(f"-{ref}") else name
        if m not in flops or not flops[m] < flops[ref]:
            return False, f"{m} is not cheaper than {ref} in the stored counts"
    return True, msg + f" (each cheaper than {ref})"


def _dearer(cx: dict, constants: dict) -> tuple[bool, str]:
    """CPX-2[approximations-cheaper…]: an approximation of the row counted at least the row's
    reference; every stored ratio equals its recomputation."""
    ref, approx = constants["reference"], set(constants["approximations"])
    if cx.get("reference") != ref:
        return False, f"stored reference {cx.get('reference')!r}, the row's is {ref!r}"
    flops = {k: float(v) for k, v in (cx.get("flops_per_epoch") or {}).items()}
    if ref not in flops or not flops[ref] > 0:
        return False, f"no counted operations of the reference {ref} stored"
    others = set(flops) - approx - {ref}
    if others:
        return False, f"{sorted(others)}: not approximations of this row"
    dearer = sorted(m for m in flops if m in approx and flops[m] >= flops[ref])
    if not dearer:
        return False, "no approximation costs at least as much as the reference"
    ratios = cx.get("ratio_to_reference") or {}
    for m in dearer:
        if not _same(ratios.get(m), flops[m] / flops[ref]):
            return False, f"{m}: stored ratio {ratios.get(m)!r}, recomputed {flops[m] / flops[ref]!r}"
    if set(ratios) != set(dearer):
        return False, f"ratios stored for {sorted(ratios)}, dearer {dearer}"
    return True, (f"{', '.join(f'{m} ({flops[m] / flops[ref]:.3g}x)' for m in dearer)} >= {ref} "
                  f"({flops[ref]:.6g} operations per epoch)")


_RULES = {"intervals": _comparisons, "dominated": _dominated, "dearer": _dearer}


def recheck_exp(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """EXP-1, DYN-3 and CPX-2 alike: the rule the row's constants name."""
    constants = constants or {}
    rule = constants.get("rule")
    if rule not in _RULES:
        return False, f"the row states no re-check rule (constants {sorted(constants)})"
    return _RULES[rule](cx, constants)


#: claim id -> re-check(counterexample, reading, constants, check) -> (re-checked?, message)
RECHECKERS = {"EXP-1": recheck_exp, "DYN-3": recheck_exp, "CPX-2": recheck_exp, "CPX-1": recheck_cpx1}
