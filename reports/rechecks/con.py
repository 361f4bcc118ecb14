"""Re-checks of CON counterexamples and witnesses (numpy only)."""
from __future__ import annotations

import itertools
import json

import numpy as np

from .maps import np_predict


def recheck_dcg_counterexample(cx: dict, loss: str, label_map: str) -> bool:
    """Re-check a CON-2 counterexample from its data alone: True iff theta is (approximately)
    Bayes-optimal for D under the loss and map (properness: ŷ(theta) = E[label] within 1e-6)
    AND the worst ranking that sorts theta (exact ties broken every way) has E[DCG] below
    the best permutation's by more than 1e-6."""
    ps = np.array([float(a["p"]) for a in cx["D"]])
    ps = ps / ps.sum()
    R = np.array([a["r"] for a in cx["D"]], dtype=np.float64)
    G = 2.0 ** R - 1.0
    if label_map == "L1":
        target = ps @ G / (ps @ G.sum(1))
    elif label_map == "L2":
        target = ps @ (G / G.sum(1, keepdims=True))
    elif label_map == "multihot":
        target = ps @ R
    else:
        raise ValueError(f"label_map must be L1, L2 or multihot, got {label_map!r}")
    theta = np.array([float(x) for x in cx["theta"]], dtype=np.float64)
    yhat = np_predict(loss, theta, alpha=cx.get("alpha"), k=cx.get("k"))
    bayes = bool(np.max(np.abs(yhat - target)) <= 1e-6)
    g = ps @ G
    n = g.size
    disc = 1.0 / np.log2(np.arange(2, n + 2))
    best = max(float(g[list(p)] @ disc) for p in itertools.permutations(range(n)))
    worst_sorted = min(float(g[list(p)] @ disc) for p in itertools.permutations(range(n))
                       if all(theta[p[a]] >= theta[p[a + 1]] for a in range(n - 1)))
    return bayes and best - worst_sorted > 1e-6


def recheck_con2(cx: dict, reading: str) -> tuple[bool, str]:
    """CON-2: theta is Bayes-optimal for D under the reading's loss and label map, and sorting
    it loses E[DCG] against the best permutation."""
    loss, label_map = reading.split("/")
    ok = recheck_dcg_counterexample(cx, loss, label_map)
    return ok, f"D={json.dumps(cx['D'])}, theta={cx['theta']}"


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {"CON-2": recheck_con2}
