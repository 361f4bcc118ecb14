"""Re-checks of CON-1 and CON-2 counterexamples from their stored data and the row's
constants alone (numpy and fractions; each prediction map by its own route in :mod:`.maps`).

Row constants (results.json ``constants``, typed in reports/con/claims.py from the
statement) define the claim; nothing that defines it is read from the counterexample:

* ``loss``; ``alphas`` (entmax): the α grid -- a counterexample's α must lie on it;
  ``loss_k`` (rankmax): how the loss's k is fixed -- ``"label size"`` (CON-1: the mass of η)
  or ``"relevant items"`` (CON-2: the number of ones of every multi-hot label); it is read
  off the law, and a stored k must agree with it;
* CON-2 also ``label_map`` (L1: labels G(r)/ΣG(r) weighted by ΣG(r); L2: the same labels
  with unit weight; multihot: the label r itself) and ``gain_base`` (G(r) = gain_base^r − 1).

Every stored figure the message prints is recomputed and compared (a tampered one does not
re-check).

CON-1 ``{"eta", "k", "theta", "gap", "clause", "i"}`` (+ ``alpha``, ``label_k``): θ is NOT
top-k preserving for η (Yang & Koyejo's definition, verbatim; the stored clause A/B holds at
item i) and its conditional risk reaches the infimum: R(θ) − inf R ≤ 1e-7·(1 + |inf R|),
R(θ) = Ω*(θ) − ⟨θ, η⟩, Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) (logsumexp for softmax), inf R = −Ω(η)
(Fenchel–Moreau); the stored gap agrees with R(θ) − inf R.  So the loss is not top-k
calibrated at η, up to that tolerance.

CON-2 ``{"D": [{"p", "r"}], "theta", "regret", "pair"}`` (+ ``alpha``, ``k``,
``theta_solver``): θ is Bayes-optimal for D under the row's loss and label map (properness:
ŷ(θ) = q, q the label law's target mean computed exactly from D and the constants, within
1e-6), the worst ranking that sorts θ (exact ties broken every way) loses more than 1e-6 of
E[DCG] against the best permutation, and that loss is the stored regret; the stored pair
(i, j) has E[G]_i > E[G]_j with θ_i ≤ θ_j; the solver's θ (if stored) meets q within 1e-3
and ties or reverses the pair.
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
FIGURE_TOL = 1e-6  # a stored figure against its recomputation (stored to 12 significant digits)
SOLVER_TOL = 1e-3  # the solver's θ against q (cvxpy minimizers are accurate to ~1e-5 in flat directions)


def _alpha(cx: dict, constants: dict) -> float | None:
    """entmax: the counterexample's α, which must lie on the row's grid; None otherwise."""
    if constants["loss"] != "entmax":
        return None
    a = float(cx["alpha"])
    grid = [float(x) for x in constants["alphas"]]
    if not any(abs(a - g) <= 1e-12 for g in grid):
        raise ValueError(f"alpha = {a} is not on the row's grid {grid}")
    return a


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


def _clause_holds(eta, theta, k: int, clause: str, i: int) -> bool:
    """Clause A at i: η_i > η_[k+1] but θ_i ≤ θ_[k+1]; clause B: η_i < η_[k] but θ_i ≥ θ_[k]."""
    if clause == "A":
        return eta[i] > _kth(eta, k + 1) and theta[i] <= _kth(theta, k + 1)
    if clause == "B":
        return eta[i] < _kth(eta, k) and theta[i] >= _kth(theta, k)
    return False


def recheck_con1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    c = dict(constants or {})
    loss = c["loss"]
    if reading and reading != loss:
        return False, f"the row's constants are those of {loss}, not of the reading {reading!r}"
    eta = [float(x) for x in cx["eta"]]
    theta = [float(x) for x in cx["theta"]]
    k = int(cx["k"])
    n = len(eta)
    alpha = _alpha(cx, c)
    if len(theta) != n or not 1 <= k < n:
        return False, f"theta of length {len(theta)} for n = {n}, or k = {k} outside [1, n−1]"
    if loss == "rankmax":
        if c["loss_k"] != "label size":
            return False, f"unknown rule for rankmax's k: {c['loss_k']!r}"
        mass = int(round(sum(eta)))
        if "label_k" in cx and int(cx["label_k"]) != mass:
            return False, f"stored label_k = {cx['label_k']} but the labels have size {mass} (the mass of eta)"
        cap = 1.0
    else:
        mass, cap = 1, np.inf
    if min(eta) < 0 or max(eta) > cap or abs(sum(eta) - mass) > 1e-9 or not 1 <= mass < n:
        return False, f"eta = {eta} is not in the domain (mass {mass})"
    if top_k_preserving(eta, theta, k):
        return False, f"theta = {theta} is top-{k} preserving for eta = {eta}: not a counterexample"
    clause, i = str(cx["clause"]), int(cx["i"])
    if not (0 <= i < n and _clause_holds(eta, theta, k, clause, i)):
        return False, f"the stored clause {clause} at item {i} does not hold for eta = {eta}, theta = {theta}, k = {k}"
    th, et = np.array(theta), np.array(eta)
    inf_r = -_omega(loss, et, alpha)
    excess = _conjugate(loss, th, alpha, mass if loss == "rankmax" else None) - float(th @ et) - inf_r
    tol = CON1_TOL * (1 + abs(inf_r))
    gap = float(cx["gap"])
    ok = excess <= tol and abs(gap - excess) <= tol
    return bool(ok), (f"eta={eta}, k={k}, theta={theta}: not top-{k} preserving (clause {clause} at item {i}), "
                      f"R(theta) − inf R = {excess:.3g}" + ("" if excess <= tol else f" > {tol:.3g}")
                      + f", stored gap {gap:.3g}" + ("" if abs(gap - excess) <= tol else " (does not match)"))


# --------------------------------------------------------------------------------------
# CON-2
# --------------------------------------------------------------------------------------
#: label map -> (weight ΣG(r) per example?, label G(r)/ΣG(r) (normalized) or r itself)
LABEL_MAPS = {"L1": (True, True), "L2": (False, True), "multihot": (False, False)}


def _target(D: list[tuple[Fraction, list[int]]], label_map: str, base: int) -> list[Fraction]:
    """q = Σ_a c_a y_a / Σ_a c_a, exact, for the row's label map and gains."""
    weighted, normalized = LABEL_MAPS[label_map]
    n = len(D[0][1])
    num, den = [Fraction(0)] * n, Fraction(0)
    for p, r in D:
        if normalized:
            g = [base ** x - 1 for x in r]
            s = sum(g)
            y = [Fraction(v, s) for v in g]
            w = Fraction(s) if weighted else Fraction(1)
        else:
            if any(x not in (0, 1) for x in r):
                raise ValueError("multihot needs binary relevance")
            y, w = [Fraction(x) for x in r], Fraction(1)
        num = [a + p * w * b for a, b in zip(num, y)]
        den += p * w
    return [a / den for a in num]


def _dcg_range(g: np.ndarray, theta: np.ndarray) -> tuple[float, float]:
    """(best E[DCG] over all permutations, worst over those sorting theta, ties every way)."""
    n = g.size
    disc = 1.0 / np.log2(np.arange(2, n + 2))
    perms = list(itertools.permutations(range(n)))
    best = max(float(g[list(p)] @ disc) for p in perms)
    worst = min(float(g[list(p)] @ disc) for p in perms if all(theta[p[a]] >= theta[p[a + 1]] for a in range(n - 1)))
    return best, worst


def recheck_dcg_counterexample(cx: dict, constants: dict) -> tuple[bool, str]:
    """(re-checked?, why not): theta is Bayes-optimal for D under the row's loss and map and
    its worst sorting loses the stored E[DCG] (module docstring)."""
    loss, label_map, base = constants["loss"], constants["label_map"], int(constants["gain_base"])
    D = [(Fraction(a["p"]).limit_denominator(10 ** 6), [int(x) for x in a["r"]]) for a in cx["D"]]
    tot = sum(p for p, _ in D)
    D = [(p / tot, r) for p, r in D]
    target = np.array([float(x) for x in _target(D, label_map, base)])
    theta = np.array([float(x) for x in cx["theta"]], dtype=np.float64)
    if theta.size != target.size:
        return False, f"theta of length {theta.size} for n = {target.size}"
    alpha = _alpha(cx, constants)
    k = None
    if loss == "rankmax":
        if constants["loss_k"] != "relevant items":
            return False, f"unknown rule for rankmax's k: {constants['loss_k']!r}"
        sizes = {sum(r) for _, r in D}
        if len(sizes) != 1:
            return False, f"the multi-hot labels of D have different sizes {sorted(sizes)}"
        k = sizes.pop()
        if "k" in cx and int(cx["k"]) != k:
            return False, f"stored k = {cx['k']} but every label of D has {k} relevant items"
    err = float(np.max(np.abs(np_predict(loss, theta, alpha=alpha, k=k) - target)))
    if not err <= BAYES_TOL:
        return False, f"theta is not Bayes-optimal: |ŷ(theta) − q| = {err:.3g} > {BAYES_TOL:g}"
    g = np.array([float(sum(p * (base ** r[i] - 1) for p, r in D)) for i in range(theta.size)])
    best, worst = _dcg_range(g, theta)
    regret = best - worst
    if not regret > REGRET_TOL:
        return False, f"the worst sorting of theta loses {regret:.3g} of E[DCG]: not a counterexample"
    stored = float(cx["regret"])
    if not abs(stored - regret) <= FIGURE_TOL * (1 + regret):
        return False, f"stored regret {stored:.6g} does not match the recomputed {regret:.6g}"
    i, j = (int(x) for x in cx["pair"])
    if not (g[i] > g[j] and theta[i] <= theta[j]):
        return False, f"the stored pair ({i}, {j}) is not one with E[G]_i > E[G]_j and theta_i ≤ theta_j"
    if "theta_solver" in cx:
        ts = np.array([float(x) for x in cx["theta_solver"]], dtype=np.float64)
        serr = float(np.max(np.abs(np_predict(loss, ts, alpha=alpha, k=k) - target))) if ts.size == g.size else np.inf
        if not (serr <= SOLVER_TOL and ts[i] <= ts[j]):
            return False, f"the stored solver theta is not a minimizer in the pair's half-space (|ŷ − q| = {serr:.3g})"
    return True, f"worst sorting loses {regret:.6g} of E[DCG] (stored {stored:.6g}), pair ({i}, {j})"


def recheck_con2(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """CON-2: theta is Bayes-optimal for D under the row's loss and label map, and sorting it
    loses the stored E[DCG] against the best permutation."""
    c = dict(constants or {})
    if reading and reading != f"{c['loss']}/{c['label_map']}":
        return False, f"the row's constants are those of {c['loss']}/{c['label_map']}, not of the reading {reading!r}"
    ok, why = recheck_dcg_counterexample(cx, c)
    return ok, f"D={json.dumps(cx['D'])}, theta={cx['theta']}: {why}"


#: claim id -> re-check(counterexample, reading, constants, check) -> (re-checked?, message)
RECHECKERS = {"CON-1": recheck_con1, "CON-2": recheck_con2}
