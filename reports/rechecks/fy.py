"""Re-checks of FY counterexamples (numpy and fractions only; the maps of .maps).

Every ``fails`` an FY check can produce is re-checked here from the stored JSON alone, with
this package's own prediction maps (bisection / sort / exact rational projection), never
the suite's.  A counterexample that does not re-check is a defect of the suite (the runner
turns it into a crash).  Shapes (reading = the row's loss, ``entmax[alpha>2]`` for the
α > 2 reading; ``alpha`` / ``k`` stored with θ):

* FY-1 ``{theta, point, gain}``: ``point``, made feasible here, beats the stated Ω*(θ)
  (softmax: logsumexp; else ⟨θ, ŷ⟩ − Ω(ŷ) at the stated ŷ) in the argmax objective;
* FY-2 ``{property, theta, y, …}``: the FY loss L(θ; y) = f(ŷ) − f(y), f(q) = ⟨θ, q⟩ − Ω(q),
  violates ``nonnegative`` (L < 0), ``positive`` (L ≈ 0 with y ≠ ŷ), ``strong_convexity``
  (L < σ/2‖y − ŷ‖²), ``convexity`` (midpoint, ``direction``, ``t``), ``gradient`` (central
  differences of L with step ``h`` against ŷ − y) or ``shift`` (L(θ + c1) ≠ L(θ), ``c``);
* FY-3 ``{theta, y, side}``, against the row's margin μ (constants ``margin``: sparsemax
  and rankmax 1, softmax none; entmax ``margin_times_alpha_minus_1``: μ = 1/(α−1)): ``plus``
  -- the gap min_{Y} θ − max_{not Y} θ is ≥ μ, yet ŷ(θ) ≠ y; ``minus`` -- the gap is < μ,
  yet ŷ(θ) = y; ``softmax`` -- L(θ; e_y) ≤ 0.  Decided exactly in rationals: the gap, the
  projection for sparsemax / rankmax, the KKT certificate of the vertex for entmax (e_y is
  the argmax iff θ_y − θ_j ≥ g'(1) − g'(0) = 1/(α−1) for all j ≠ y, with g(x) =
  x^α/(α(α−1)) the generator of Ω);
* FY-4 ``{theta, lambda_max}``: λ_max of the symmetrized central-difference Jacobian of
  the map exceeds the row's stated constant (constants ``lipschitz``: softmax ½, sparsemax /
  rankmax 1; entmax ``lipschitz_base`` ** (α + ``lipschitz_alpha_offset``) = 2^{α−2}; for
  α > 2 ``lipschitz_upper``, the upper end 1 of "between ½ and 1"), and the stored
  ``lambda_max`` is that recomputed value (a tampered figure does not re-check).

The constants come from the row (results.json ``constants``, typed in the registry from the
statement), never from the counterexample: one made under a typo'd constant of the suite
does not re-check.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .maps import capped_projection_exact, jacobian_lambda_max, np_predict

EPS = float(np.finfo(np.float64).eps)


def _loss_params(cx: dict, reading: str) -> tuple[str, float | None, int | None]:
    loss = reading.split("[")[0]
    if loss not in ("softmax", "sparsemax", "entmax", "rankmax"):
        raise ValueError(f"reading {reading!r} names no FY loss")
    alpha = float(cx["alpha"]) if loss == "entmax" else None
    k = int(cx.get("k", 1)) if loss == "rankmax" else None
    return loss, alpha, k


def _predict(loss: str, z: np.ndarray, alpha, k) -> np.ndarray:
    p = np_predict(loss, z, alpha=alpha, k=k)
    return p / p.sum() if loss == "entmax" else p


def _omega(loss: str, q: np.ndarray, alpha, k) -> float:
    if loss == "softmax":
        nz = q[q > 0]
        return float(np.sum(nz * np.log(nz)))
    if loss == "entmax":
        return float((np.sum(np.clip(q, 0, None) ** alpha) - 1) / (alpha * (alpha - 1)))
    return float(0.5 * q @ q - (0.5 if loss == "sparsemax" else 0.0))


def _f(loss: str, z: np.ndarray, q: np.ndarray, alpha, k) -> float:
    """The argmax objective ⟨z, q⟩ − Ω(q)."""
    return float(z @ q) - _omega(loss, q, alpha, k)


def _loss(loss: str, theta: np.ndarray, y: np.ndarray, alpha, k) -> tuple[float, np.ndarray]:
    """(L(θ; y), ŷ) with L = f(ŷ) − f(y) on the shifted scores (Σŷ = Σy, so the shift cancels)."""
    z = theta - theta.max()
    p = _predict(loss, z, alpha, k)
    return _f(loss, z, p, alpha, k) - _f(loss, z, y, alpha, k), p


def _tol(theta: np.ndarray) -> float:
    """Float64 resolution of an FY loss from θ: n terms of size ptp θ weighed by scores of
    size ptp θ (as numerics/fy/common.py's loss tolerance, with a factor 4 to spare)."""
    n = theta.size
    return 64 * (n + 1) * EPS * (1.0 + float(np.ptp(theta))) ** 2


def recheck_fy1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-1: the stored point, made feasible, beats the stated Ω*(θ) by more than float64 rounding."""
    loss, alpha, k = _loss_params(cx, reading)
    theta = np.asarray(cx["theta"], dtype=np.float64)
    z = theta - theta.max()
    yhat = _predict(loss, z, alpha, k)
    claimed = float(np.log(np.exp(z).sum())) if loss == "softmax" else _f(loss, z, yhat, alpha, k)
    q = np.clip(np.asarray(cx["point"], dtype=np.float64), 0, None)
    q = np_predict("rankmax", q, k=k) if loss == "rankmax" else q / q.sum()  # a point of the exact domain
    gain = _f(loss, z, q, alpha, k) - claimed
    tol = 0.5 * (1e-9 * (1 + abs(claimed)) + 64 * (theta.size + 1) * EPS * (1 + float(np.ptp(theta))))
    where = f"{loss} {cx.get('alpha', cx.get('k', ''))}"
    return bool(gain > tol), f"{where}: the point beats the stated Ω* by {gain:.3g} (tol {tol:.3g})"


def recheck_fy2(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-2: the stored property violation, with this package's own loss."""
    loss, alpha, k = _loss_params(cx, reading)
    prop = cx["property"]
    theta = np.asarray(cx["theta"], dtype=np.float64)
    y = np.asarray(cx["y"], dtype=np.float64)
    L0, p = _loss(loss, theta, y, alpha, k)
    tol = _tol(theta)
    if prop == "nonnegative":
        return bool(L0 < -tol), f"L(θ; y) = {L0:.6g} (tol {tol:.3g})"
    if prop == "positive":
        far = float(np.abs(y - p).max())
        return bool(far >= 1e-3 and L0 <= tol), f"L(θ; y) = {L0:.6g} with ‖y − ŷ‖∞ = {far:.3g}"
    if prop == "strong_convexity":
        if loss == "entmax" and alpha > 2:
            return False, "Tsallis with α > 2 has no strong-convexity bound"
        d = y - p
        bound = 0.5 * (np.abs(d).sum() ** 2 if loss == "softmax" else float(d @ d))
        return bool(L0 < bound - tol), f"L(θ; y) = {L0:.9g} against σ/2‖y − ŷ‖² = {bound:.9g}"
    if prop == "convexity":
        d = np.asarray(cx["direction"], dtype=np.float64)
        t1, t2 = cx["t"]
        a, b = theta + t1 * d, theta + t2 * d
        la, lb, lm = (_loss(loss, x, y, alpha, k)[0] for x in (a, b, (a + b) / 2))
        viol = lm - (la + lb) / 2
        slack = max(1e-9 * (1 + abs(lm)), _tol(np.concatenate([a, b])))
        return bool(viol > slack), f"midpoint excess {viol:.3g} (slack {slack:.3g})"
    if prop == "gradient":
        h = float(cx["h"])
        eye = np.eye(theta.size)
        fd = np.array([(_loss(loss, theta + h * e, y, alpha, k)[0] - _loss(loss, theta - h * e, y, alpha, k)[0])
                       / (2 * h) for e in eye])
        err = float(np.abs(fd - (p - y)).max())
        tol_fd = 1e-6 + 4 * EPS * (theta.size * (1 + float(np.ptp(theta))) ** 2 + abs(L0)) / h
        return bool(err > tol_fd), f"central differences differ from ŷ − y by {err:.3g} (tol {tol_fd:.3g})"
    if prop == "shift":
        c = float(cx["c"])
        Lc, _ = _loss(loss, theta + c, y, alpha, k)
        err = abs(Lc - L0)
        tol_c = tol + 64 * (theta.size + 1) * EPS * (1 + float(np.ptp(theta)) + abs(c))
        return bool(err > tol_c), f"L(θ + {c:g}·1; y) − L(θ; y) = {err:.3g} (tol {tol_c:.3g})"
    raise ValueError(f"unknown FY-2 property {prop!r}")


def _vertex_is_argmax(loss: str, theta: list[Fraction], y: list[int], alpha, k) -> bool:
    """Exactly: is the vertex y (one-hot, multi-hot for rankmax) the argmax at θ?"""
    if loss in ("sparsemax", "rankmax"):
        return capped_projection_exact(theta, k or 1) == [Fraction(v) for v in y]
    a = Fraction(alpha)  # entmax: KKT certificate of e_y, g'(1) − g'(0) = 1/(α − 1)
    top = y.index(1)
    return all(theta[top] - t >= 1 / (a - 1) for j, t in enumerate(theta) if j != top)


def _row_margin(loss: str, alpha, constants: dict) -> Fraction | None:
    """The row's margin μ, exactly (a constant may be stored as a number or a fraction string)."""
    if loss == "entmax":
        return Fraction(constants["margin_times_alpha_minus_1"]) / (Fraction(alpha) - 1)
    m = constants["margin"]
    return None if m is None else Fraction(m)


def recheck_fy3(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-3, against the row's margin μ: plus -- gap ≥ μ and ŷ ≠ y; minus -- gap < μ and ŷ = y;
    softmax (a row stating no margin) -- L(θ; e_y) ≤ 0 at a finite θ."""
    loss, alpha, k = _loss_params(cx, reading)
    constants = dict(constants or {})
    side = cx["side"]
    mu = _row_margin(loss, alpha, constants)
    if loss == "softmax" or side == "softmax":
        if mu is not None or loss != "softmax":
            return False, f"a softmax-side counterexample for a row stating margin {mu} ({loss})"
        theta = np.asarray(cx["theta"], dtype=np.float64)
        yi = int(np.argmax(cx["y"]))
        L = float(np.log1p(np.exp(np.delete(theta, yi) - theta[yi]).sum()))
        return bool(L <= 0), f"softmax L(θ; e_y) = {L:.6g} at a finite θ"
    if mu is None:
        return False, f"{loss}: the row states no margin"
    theta = [Fraction(float(v)) for v in cx["theta"]]
    y = [int(round(float(v))) for v in cx["y"]]
    is_y = _vertex_is_argmax(loss, theta, y, alpha, k)
    gap = min(t for t, v in zip(theta, y) if v) - max(t for t, v in zip(theta, y) if not v)
    where = f"gap {float(gap):.9g} {'≥' if gap >= mu else '<'} the row's margin {float(mu):.9g}"
    if side == "plus":  # the claim says ŷ = y at a gap ≥ μ
        return bool(gap >= mu and not is_y), f"{where}: ŷ {'=' if is_y else '≠'} y (the claim says ŷ = y there)"
    if side == "minus":  # the claim says ŷ ≠ y at a gap < μ
        return bool(gap < mu and is_y), f"{where}: ŷ {'=' if is_y else '≠'} y (the claim says ŷ ≠ y there)"
    raise ValueError(f"unknown FY-3 side {side!r}")


def _row_constant(loss: str, alpha, constants: dict) -> float:
    """The row's stated Lipschitz constant (or, for α > 2, upper bound) at the counterexample's α."""
    if "lipschitz_upper" in constants:
        return float(Fraction(constants["lipschitz_upper"]))
    if loss == "entmax":
        base, offset = Fraction(constants["lipschitz_base"]), Fraction(constants["lipschitz_alpha_offset"])
        return float(base) ** (float(alpha) + float(offset))
    return float(Fraction(constants["lipschitz"]))


def recheck_fy4(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-4: λ_max(J_ŷ(θ)) at the stored θ exceeds the row's stated constant (for
    entmax[alpha>2]: the upper end 1 of "between ½ and 1"), and equals the stored λ_max."""
    loss, alpha, k = _loss_params(cx, reading)
    stated = _row_constant(loss, alpha, dict(constants or {}))
    lam = jacobian_lambda_max(lambda t: _predict(loss, t, alpha, k), np.asarray(cx["theta"], dtype=np.float64))
    stored = float(cx["lambda_max"])
    same = abs(stored - lam) <= 1e-6 * max(1.0, abs(lam)) ** 2
    where = f"{reading} {cx.get('alpha', cx.get('k', ''))}, θ = {cx['theta']}"
    return bool(lam > stated + 1e-7 and same), (
        f"{where}: λ_max = {lam:.9g} (stored {stored:.9g}: {'the same' if same else 'NOT the recomputed value'}), "
        f"stated {stated:.9g}")


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {"FY-1": recheck_fy1, "FY-2": recheck_fy2, "FY-3": recheck_fy3, "FY-4": recheck_fy4}
