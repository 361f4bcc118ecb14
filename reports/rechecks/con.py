"""Re-checks of CON-1 and CON-2 counterexamples from their stored data alone (numpy and
fractions; each prediction map by its own route in :mod:`.maps`).

CON-1 ``{"eta", "k", "theta", …}`` (+ ``alpha``, ``label_k``): θ is NOT top-k preserving
for η (Yang & Koyejo's definition, verbatim) and its conditional risk reaches the infimum:
R(θ) − inf R ≤ 1e-7·(1 + |inf R|), R(θ) = Ω*(θ) − ⟨θ, η⟩, Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ)
(logsumexp for softmax), inf R = −Ω(η) (Fenchel–Moreau).  So the loss is not top-k
calibrated at η, up to that tolerance.

CON-2 ``{"D": [{"p", "r"}], "theta", …}`` (+ ``alpha``, ``k``): θ is Bayes-optimal for D
under the reading's loss and label map (properness: ŷ(θ) = q, q the label law's target
mean computed exactly from D, within 1e-6) and the worst ranking that sorts θ (exact ties
broken every way) loses more than 1e-6 of E[DCG] against the best permutation.
"""
from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np

from .maps import np_predict

CON1_TOL = 1e-7
BAYES_TOL = 1e-6
REGRET_TOL = 1e-6


# --------------------------------------------------------------------------------------
# CON-1
# --------------------------------------------------------------------------------------
def _omega(loss: str, p: np.ndarray, alpha: float | None) -> float:
    p = np.clip(p, 0.0, None)
    if loss == "softmax":
        nz = p[p > 0]
        return float(np.sum(nz * np.log(nz)))
    if loss == "sparsemax":
        return float(0.5 * p @ p - 0.5)
    if loss == "entmax":
        a = float(alpha)
        return float((np.sum(p ** a) - 1.0) / (a * (a - 1.0)))
    if loss == "rankmax":
        return float(0.5 * p @ p)
    raise ValueError(f"unknown loss {loss!r}")


def _conjugate(loss: str, theta: np.ndarray, alpha: float | None, k: int | None) -> float:
    if loss == "softmax":
        m = theta.max()
        return float(m + np.log(np.exp(theta - m).sum()))
    p = np_predict(loss, theta, alpha=alpha, k=k)
    return float(theta @ p) - _omega(loss, p, alpha)


def _kth(v, k: int):
    return sorted(v, reverse=True)[k - 1]


def top_k_preserving(eta, theta, k: int) -> bool:
    """η_i > η_[k+1] ⇒ θ_i > θ_[k+1] and η_i < η_[k] ⇒ θ_i < θ_[k] (Yang & Koyejo 2020)."""
    ek, ek1, tk, tk1 = _kth(eta, k), _kth(eta, k + 1), _kth(theta, k), _kth(theta, k + 1)
    return all((not eta[i] > ek1 or theta[i] > tk1) and (not eta[i] < ek or theta[i] < tk) for i in range(len(eta)))


def recheck_con1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    loss = reading
    eta = [float(x) for x in cx["eta"]]
    theta = [float(x) for x in cx["theta"]]
    k = int(cx["k"])
    n = len(eta)
    mass = int(cx.get("label_k", 1))
    alpha = cx.get("alpha")
    cap = 1.0 if loss == "rankmax" else np.inf
    if len(theta) != n or not 1 <= k < n:
        return False, f"theta of length {len(theta)} for n = {n}, or k = {k} outside [1, n−1]"
    if min(eta) < 0 or max(eta) > cap or abs(sum(eta) - mass) > 1e-9:
        return False, f"eta = {eta} is not in the domain (mass {mass})"
    if top_k_preserving(eta, theta, k):
        return False, f"theta = {theta} is top-{k} preserving for eta = {eta}: not a counterexample"
    th, et = np.array(theta), np.array(eta)
    inf_r = -_omega(loss, et, alpha)
    excess = _conjugate(loss, th, alpha, mass if loss == "rankmax" else None) - float(th @ et) - inf_r
    ok = excess <= CON1_TOL * (1 + abs(inf_r))
    return bool(ok), (f"eta={eta}, k={k}, theta={theta}: not top-{k} preserving, R(theta) − inf R = {excess:.3g}"
                      + ("" if ok else f" > {CON1_TOL:g}"))


# --------------------------------------------------------------------------------------
# CON-2
# --------------------------------------------------------------------------------------
def _target(D: list[tuple[Fraction, list[int]]], label_map: str) -> list[Fraction]:
    """q = Σ_a c_a y_a / Σ_a c_a, exact, for the reading's label map."""
    n = len(D[0][1])
    num, den = [Fraction(0)] * n, Fraction(0)
    for p, r in D:
        g = [2 ** x - 1 for x in r]
        s = sum(g)
        if label_map == "L1":
            w, y = Fraction(s), [Fraction(v, s) for v in g]
        elif label_map == "L2":
            w, y = Fraction(1), [Fraction(v, s) for v in g]
        elif label_map == "multihot":
            if any(x not in (0, 1) for x in r):
                raise ValueError("multihot needs binary relevance")
            w, y = Fraction(1), [Fraction(x) for x in r]
        else:
            raise ValueError(f"label_map must be L1, L2 or multihot, got {label_map!r}")
        num = [a + p * w * b for a, b in zip(num, y)]
        den += p * w
    return [a / den for a in num]


def recheck_dcg_counterexample(cx: dict, loss: str, label_map: str) -> bool:
    """True iff theta is Bayes-optimal for D under the loss and map and its worst sorting
    loses E[DCG] (module docstring)."""
    D = [(Fraction(a["p"]).limit_denominator(10 ** 6), [int(x) for x in a["r"]]) for a in cx["D"]]
    tot = sum(p for p, _ in D)
    D = [(p / tot, r) for p, r in D]
    target = np.array([float(x) for x in _target(D, label_map)])
    theta = np.array([float(x) for x in cx["theta"]], dtype=np.float64)
    if theta.size != target.size:
        return False
    k = cx.get("k")
    if label_map == "multihot" and k != sum(D[0][1]):
        return False
    yhat = np_predict(loss, theta, alpha=cx.get("alpha"), k=k)
    bayes = bool(np.max(np.abs(yhat - target)) <= BAYES_TOL)
    g = np.array([float(sum(p * (2 ** r[i] - 1) for p, r in D)) for i in range(theta.size)])
    n = g.size
    disc = 1.0 / np.log2(np.arange(2, n + 2))
    best = max(float(g[list(p)] @ disc) for p in itertools.permutations(range(n)))
    worst_sorted = min(float(g[list(p)] @ disc) for p in itertools.permutations(range(n))
                       if all(theta[p[a]] >= theta[p[a + 1]] for a in range(n - 1)))
    return bayes and best - worst_sorted > REGRET_TOL


def recheck_con2(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """CON-2: theta is Bayes-optimal for D under the reading's loss and label map, and sorting
    it loses E[DCG] against the best permutation."""
    loss, label_map = reading.split("/")
    ok = recheck_dcg_counterexample(cx, loss, label_map)
    return ok, f"D={json.dumps(cx['D'])}, theta={cx['theta']}"


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {"CON-1": recheck_con1, "CON-2": recheck_con2}
