"""Re-checks of CON-3 witnesses (a sparse map is not strictly order preserving) and
counterexamples (numpy and the standard library only; each map by the re-checker's own
route in maps.py).

Each reads the row's constants (results.json ``constants``), never the stored data's own
idea of them: the resolution of ŷ differences the suite decides on (``resolution``), the
tolerance of a stored tie (``tie_tolerance``), and the variants the row covers (``alpha``
for entmax, ``k`` for rankmax) -- a witness made at another α or k does not belong to the
row.  A stored ŷ (or η = ŷ(θ)) is compared with its recomputation."""
from __future__ import annotations

import math

import numpy as np

from .maps import np_predict

#: agreement required of a stored ŷ with the re-checker's own map (its bisection route)
STORED_YHAT = 1e-9


class _NotInRow(ValueError):
    """A stored witness or counterexample of a variant the row does not cover, or a row without its constants."""


def _params(w: dict, loss: str, constants: dict) -> dict:
    """The map's parameters of a stored witness / counterexample, checked against the row's variants."""
    alpha, k = w.get("alpha"), w.get("k")
    if loss == "entmax":
        if alpha is None or float(alpha) not in [float(a) for a in constants["alpha"]]:
            raise _NotInRow(f"entmax alpha = {alpha} is not one of the row's {constants['alpha']}")
    elif alpha is not None:
        raise _NotInRow(f"{loss} takes no alpha (stored {alpha})")
    if loss == "rankmax":
        if k is None or int(k) not in [int(v) for v in constants["k"]]:
            raise _NotInRow(f"rankmax k = {k} is not one of the row's {constants['k']}")
    elif k is not None:
        raise _NotInRow(f"{loss} takes no k (stored {k})")
    return {"alpha": alpha, "k": k}


def _stored_yhat_ok(w: dict, yhat: np.ndarray) -> bool:
    return "yhat" not in w or float(np.abs(np.asarray(w["yhat"], dtype=np.float64) - yhat).max()) <= STORED_YHAT


def recheck_sop_witness(w: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """CON-3: a witness that a sparse map is not strictly order preserving: θ_i > θ_j yet
    ŷ_i = ŷ_j (O1; to the row's tie tolerance), and for O2 θ is a Bayes minimizer (ŷ(θ) = η) with η_i = η_j."""
    constants = constants or {}
    loss, order = reading.split("/")
    try:
        params = _params(w, loss, constants)
        tol = float(constants["tie_tolerance"])
    except (_NotInRow, KeyError) as exc:
        return False, f"witness not of this row: {exc}"
    theta = np.array(w["theta"], dtype=np.float64)
    i, j = w["i"], w["j"]
    yhat = np_predict(loss, theta, **params)
    ok = theta[i] > theta[j] and abs(yhat[i] - yhat[j]) <= tol and _stored_yhat_ok(w, yhat)
    if order == "O2":
        eta = np.array(w["eta"], dtype=np.float64)
        ok = ok and eta[i] == eta[j] and float(np.abs(yhat - eta).max()) <= STORED_YHAT
    return bool(ok), f"theta={w['theta']}, i={i}, j={j}: yhat_i={yhat[i]:.3g}, yhat_j={yhat[j]:.3g}"


def _log_softmax(theta: np.ndarray) -> np.ndarray:
    m = theta.max()
    return theta - m - math.log(math.fsum(math.exp(v - m) for v in theta))


def _o1(cx: dict, loss: str, constants: dict) -> tuple[bool, str]:
    """θ_i > θ_j with ŷ_i < ŷ_j (sparse: a WOP violation) or ŷ_i ≤ ŷ_j (softmax, compared in
    log space, where log ŷ_i − log ŷ_j = θ_i − θ_j needs no exp that could underflow)."""
    theta = np.array(cx["theta"], dtype=np.float64)
    i, j = int(cx["i"]), int(cx["j"])
    if loss == "softmax":
        ls = _log_softmax(theta)
        ok = theta[i] > theta[j] and ls[i] <= ls[j] and _stored_yhat_ok(cx, np.exp(ls))
        return bool(ok), f"softmax theta_i - theta_j = {theta[i] - theta[j]:.3g}, log yhat_i - log yhat_j = {ls[i] - ls[j]:.3g}"
    y = np_predict(loss, theta, **_params(cx, loss, constants))
    ok = theta[i] > theta[j] and y[j] - y[i] > float(constants["resolution"]) and _stored_yhat_ok(cx, y)
    return bool(ok), f"{loss} theta_i - theta_j = {theta[i] - theta[j]:.3g}, yhat_i - yhat_j = {y[i] - y[j]:.3g}"


def _o2_sparse(cx: dict, loss: str, constants: dict) -> tuple[bool, str]:
    """θ is an exact minimizer of L(·; η) for η = ŷ(θ) (the stored η re-derived), η_i − η_j > the row's resolution
    and θ_i < θ_j: a WOP violation at a Bayes minimizer."""
    theta = np.array(cx["theta"], dtype=np.float64)
    eta = np.array(cx["eta"], dtype=np.float64)
    i, j = int(cx["i"]), int(cx["j"])
    res = float(constants["resolution"])
    y = np_predict(loss, theta, **_params(cx, loss, constants))
    dev = float(np.abs(y - eta).max())
    ok = dev <= res and eta[i] - eta[j] > res and theta[i] < theta[j]
    return bool(ok), (f"{loss}: |yhat(theta) - eta| = {dev:.2g}, eta_i - eta_j = {eta[i] - eta[j]:.3g}, "
                      f"theta_i - theta_j = {theta[i] - theta[j]:.3g}")


def _o2_softmax(cx: dict) -> tuple[bool, str]:
    """A near-stationary θ (δ = ‖softmax(θ) − η‖∞, recomputed) whose order contradicts η beyond
    the radius r_ij = ℓ(δ/η_i) + ℓ(δ/η_j), ℓ(x) = −log(1 − x): for softmax
    |θ_i − θ_j − log(η_i/η_j)| ≤ r_ij, so a genuine counterexample cannot exist; a stored one
    re-checks only if the numbers say so."""
    theta = np.array(cx["theta"], dtype=np.float64)
    eta = np.array(cx["eta"], dtype=np.float64)
    i, j = int(cx["i"]), int(cx["j"])
    delta = float(np.abs(np.exp(_log_softmax(theta)) - eta).max())
    if "delta" in cx and abs(float(cx["delta"]) - delta) > 1e-12:
        return False, f"softmax: stored delta = {cx['delta']} but recomputed {delta:.3g}"
    if not (eta > 0).all() or delta >= 0.5 * eta.min():
        return False, f"softmax: eta not interior or theta not near-stationary (delta = {delta:.3g})"
    ell = lambda x: -math.log1p(-x)  # noqa: E731
    r = ell(delta / eta[i]) + ell(delta / eta[j])
    d = theta[i] - theta[j]
    if cx.get("kind") == "tie":
        ok = eta[i] == eta[j] and abs(d) > r
    else:
        ok = eta[i] > eta[j] and math.log(eta[i] / eta[j]) > r and d <= 0
    return bool(ok), f"softmax {cx.get('kind')}: delta = {delta:.3g}, radius = {r:.3g}, theta_i - theta_j = {d:.3g}"


def recheck_con3(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """CON-3 counterexamples: O1 (θ, i, j), O2 sparse (θ, η = ŷ(θ), i, j), O2 softmax (θ, η, i, j, kind)."""
    constants = constants or {}
    loss, order = reading.split("/")
    try:
        if order == "O1":
            return _o1(cx, loss, constants)
        if order == "O2":
            return _o2_softmax(cx) if loss == "softmax" else _o2_sparse(cx, loss, constants)
    except _NotInRow as exc:
        return False, f"counterexample not of this row: {exc}"
    return False, f"unknown CON-3 reading {reading!r}"


#: claim id -> re-check(counterexample, reading, constants, check) -> (re-checked?, message)
RECHECKERS = {"CON-3": recheck_con3}
