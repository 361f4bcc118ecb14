"""Re-checks of CON-3 witnesses (a sparse map is not strictly order preserving) and
counterexamples (numpy only)."""
from __future__ import annotations

import numpy as np

from .maps import np_predict


def recheck_sop_witness(w: dict, reading: str) -> tuple[bool, str]:
    """CON-3: a witness that a sparse map is not strictly order preserving: θ_i > θ_j yet
    ŷ_i = ŷ_j (O1), and for O2 θ is a Bayes minimizer (ŷ(θ) = η) with η_i = η_j."""
    loss, order = reading.split("/")
    theta = np.array(w["theta"], dtype=np.float64)
    i, j = w["i"], w["j"]
    yhat = np_predict(loss, theta, alpha=w.get("alpha"), k=w.get("k"))
    ok = theta[i] > theta[j] and abs(yhat[i] - yhat[j]) <= 1e-12
    if order == "O2":
        eta = np.array(w["eta"], dtype=np.float64)
        ok = ok and eta[i] == eta[j] and float(np.abs(yhat - eta).max()) <= 1e-6
    return bool(ok), f"theta={w['theta']}, i={i}, j={j}: yhat_i={yhat[i]:.3g}, yhat_j={yhat[j]:.3g}"


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {}
