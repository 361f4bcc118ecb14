"""Numeric checks of FY-1 … FY-3 under rankmax reading R2 (losses/rankmax.py, Kong et al. 2020).

The torch implementation (``get("rankmax", k=k, scale=READING)``) against an exact route in
rationals: the scale a(θ, y) from its definition in closed form (:func:`exact_scale`), the
projection on C_k from its breakpoints (:func:`exact_projection`), and the loss
L_{C_k}(aθ; y) from them; and, for FY-1, an independent cvxpy solve of
max_{p ∈ C_k} ⟨θ, p⟩ − Ω_a(p).  As in numerics/fy/common.py: a violation of the claim is
``fails`` with a counterexample re-checked by reports/rechecks/r2.py; the torch loss off the
exact route is ours (:class:`audit.SuiteDefect`).

The reading under test is :data:`READING` ("adaptive": R2; "fixed": a = 1, R1), read at call time,
and the stated Ω_a is :data:`STATED_OMEGA_A` (reports/r2/planted.py patches them).

Exact scale (proofs/fy/rankmax_r2.py for the facts): with m the lowest label score and
d_j = (θ_j − m)_+, the lowest label keeps mass at scale a = 1/ε iff Σ_j min(d_j/ε, 1) < k; if
fewer than k scores exceed m that holds for every ε and a = A, otherwise a = min(A, 1/ε*) with
Σ_j min(d_j/ε*, 1) = k, linear in 1/ε between consecutive d's.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from audit import Evidence, RunContext, SuiteDefect
from losses import get

from .common import EPS, single_thread, tex_num

READING = "adaptive"
CAP = 1000  # the cap A of the scale the rows state (losses/rankmax.py's a_max)
#: the stated Ω_a(p) = ‖p‖²/(2a), as a function of p (numpy) and a
STATED_OMEGA_A = lambda p, a: float(np.dot(p, p)) / (2 * a)  # noqa: E731
KS = (1, 2, 3)
MARGIN = 1  # the margin FY-3 states
SIZES = (2, 3, 4, 6)


# ----------------------------------------------------------------------------- exact route
def _fr(v) -> Fraction:
    """A float as the rational it is; a rational as it is (an exact midpoint stays exact)."""
    return v if isinstance(v, Fraction) else Fraction(float(v))


def exact_projection(phi: list[Fraction], k: int) -> list[Fraction]:
    """Π_{C_k}(φ) exactly: τ with Σ clip(φ_j − τ, 0, 1) = k, linear between the breakpoints φ_j, φ_j − 1."""
    def mass(tau):
        return sum(min(max(v - tau, 0), 1) for v in phi)
    pts = sorted({v for v in phi} | {v - 1 for v in phi})
    for lo, hi in zip(pts, pts[1:]):
        mlo, mhi = mass(lo), mass(hi)
        if mhi <= k <= mlo:
            tau = lo if mlo == mhi else lo + (mlo - k) * (hi - lo) / (mlo - mhi)
            return [min(max(v - tau, 0), 1) for v in phi]
    raise ValueError(f"no threshold for k = {k} on {len(phi)} scores")


def exact_scale(theta: list[Fraction], y: list, k: int, cap=CAP) -> Fraction:
    """a(θ, y) of reading R2 (module docstring); a = 1 under the fixed reading."""
    if READING == "fixed":
        return Fraction(1)
    m = min(v for v, w in zip(theta, y) if w > 0)
    d = sorted((max(v - m, 0) for v in theta), reverse=True)
    if sum(1 for v in d if v > 0) < k:
        return Fraction(cap)
    for r in range(k):  # r scores capped at 1: r + Σ_{j ≥ r} d_j / ε = k
        eps = sum(d[r:]) / (k - r)
        if eps >= d[r] and (r == 0 or eps <= d[r - 1]):
            return min(Fraction(cap), 1 / eps)
    raise SuiteDefect(f"R2: no scale solves the threshold equation at θ = {[float(v) for v in theta]}, k = {k}")


def exact_loss(theta, y, k: int) -> Fraction:
    """L_{C_k}(aθ; y) at a = exact_scale, in rationals."""
    th = [_fr(v) for v in theta]
    yy = [_fr(v) for v in y]
    a = exact_scale(th, yy, k)
    phi = [a * v for v in th]
    p = exact_projection(phi, k)
    dot = lambda u, v: sum(x * z for x, z in zip(u, v))  # noqa: E731
    return dot(phi, p) - dot(p, p) / 2 + dot(yy, yy) / 2 - dot(phi, yy)


def _torch(theta: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float, np.ndarray]:
    """(loss, scale, ŷ = Π(aθ)) of the torch implementation."""
    L = get("rankmax", k=k, scale=READING)
    th = torch.as_tensor(theta, dtype=torch.float64)[None]
    yy = torch.as_tensor(y, dtype=torch.float64)[None]
    if READING == "fixed":
        a = 1.0
    else:
        if float(L.a_max) != CAP:
            raise SuiteDefect(f"R2: losses/ caps the scale at {L.a_max}, the rows state {CAP}")
        a = float(L.scale(th, yy)[0, 0])
    return float(L(th, yy)[0]), a, L.predict(th * a)[0].numpy()


def _tol(theta: np.ndarray, a: float) -> float:
    return 64 * (theta.size + 1) * EPS * (1.0 + a * float(np.ptp(theta))) ** 2


def _agree(theta, y, k, where: str) -> tuple[float, float, np.ndarray, Fraction]:
    """The torch loss and scale against the exact route; a disagreement is ours."""
    lv, a, yhat = _torch(theta, y, k)
    ax = exact_scale([_fr(v) for v in theta], list(y), k)
    lx = exact_loss(theta, y, k)
    # the bisection of losses/ stops within ~2^-40 of log a; the label's mass is O(a·ε) there
    if abs(a - float(ax)) > 1e-9 * float(ax) or abs(lv - float(lx)) > _tol(theta, a) + 1e-8 * (1 + abs(float(lx))):
        raise SuiteDefect(f"{where}: losses/ gives a = {a!r}, L = {lv!r}; the exact route a = {float(ax)!r}, "
                          f"L = {float(lx)!r} at θ = {theta.tolist()}, y = {y.tolist()}, k = {k}")
    return lv, a, yhat, lx


def _cases(ctx: RunContext, salt: int, per: tuple[int, int]):
    """(θ, y, k) drawn per (n, k): scores at spreads 0.001 (inside the cap: a = A), 1 and 10."""
    g = ctx.generator(salt)
    for n in SIZES:
        for k in KS:
            if k >= n:
                continue
            for r in range(ctx.budget(*per)):
                scale = (1e-3, 1.0, 10.0)[r % 3]
                theta = torch.randn(n, generator=g, dtype=torch.float64).numpy() * scale
                y = np.zeros(n)
                y[torch.randperm(n, generator=g).numpy()[:k]] = 1.0
                yield theta, y, k


LABELS = {"cases": "score vectors checked", "max_abs_err_pred": r"max $|\hat y - \hat y_{\mathrm{cvxpy}}|$",
          "max_abs_err_loss": r"max $|L_{R2} - a\,L_{\Omega_a}|$ (cvxpy)", "undecided": "solves not optimal",
          "scales": r"range of the scale $a(\theta, y)$", "sizes": "$n$", "ks": "$k$"}


@single_thread
def conjugate_check(ctx: RunContext) -> Evidence:
    """FY-1 under R2: at the example's scale a, the torch loss equals a·L_{Ω_a}(θ; y) and its map
    Π(aθ) is the argmax of max_{C_k} ⟨θ, p⟩ − Ω_a(p), solved by cvxpy (Clarabel); the scale itself
    is the exact one.  A cvxpy point beating the stated map by more than rounding is ``fails``."""
    import cvxpy as cp

    stats = dict(cases=0, max_abs_err_pred=0.0, max_abs_err_loss=0.0, undecided=0)
    scales = [float("inf"), 0.0]
    fail = None
    for theta, y, k in _cases(ctx, 11, (2, 6)):
        lv, a, yhat, _ = _agree(theta, y, k, "FY-1[rankmax/R2]")
        scales = [min(scales[0], a), max(scales[1], a)]
        t = theta - theta.max()  # shift invariant on C_k: the problem at θ − max θ, value + k·max θ
        p = cp.Variable(theta.size)
        prob = cp.Problem(cp.Maximize(t @ p - cp.sum_squares(p) / (2 * a)), [p >= 0, p <= 1, cp.sum(p) == k])
        try:  # OSQP's polish solves the KKT system on the active set (numerics/cvx.py); else Clarabel
            prob.solve(solver=cp.OSQP, eps_abs=1e-12, eps_rel=1e-12, polishing=True, max_iter=200_000)
        except cp.error.SolverError:
            prob.solve(solver=cp.CLARABEL)
        stats["cases"] += 1
        if prob.status != "optimal" or p.value is None:
            stats["undecided"] += 1
            continue
        q = np.clip(np.asarray(p.value), 0, 1)
        f = lambda v: float(theta @ v) - STATED_OMEGA_A(v, a)  # noqa: E731
        gain = f(q) - f(yhat)
        if gain > 1e-7 * (1 + abs(f(yhat))):
            fail = {"theta": theta.tolist(), "y": y.tolist(), "k": k, "a": a, "point": q.tolist(), "gain": gain,
                    "reason": r"a point of $C_k$ beats $\Pi_{C_k}(a\theta)$ on $\langle\theta, p\rangle - "
                              r"\Omega_a(p)$ by " + tex_num(gain)}
            break
        # ŷ against the exact projection (tight); the solver's point only competes (interior points
        # are accurate to about the square root of their gap)
        exact = np.array([float(v) for v in exact_projection([Fraction(a) * _fr(v) for v in theta], k)])
        err_x = float(np.abs(exact - yhat).max())
        ident = a * (f(yhat) + STATED_OMEGA_A(y, a) - float(theta @ y))
        err_l = abs(lv - ident)
        stats["max_abs_err_pred"] = max(stats["max_abs_err_pred"], float(np.abs(q - yhat).max()))
        stats["max_abs_err_loss"] = max(stats["max_abs_err_loss"], err_l)
        if err_x > 1e-9 or err_l > 1e-7 * (1 + abs(lv)) + _tol(theta, a):
            raise SuiteDefect(f"FY-1[rankmax/R2]: at θ = {theta.tolist()}, k = {k}, a = {a}: ŷ off the exact "
                              f"projection by {err_x:.3g}, L off a·L_Ωa by {err_l:.3g}")
    out = "fails" if fail else ("undecided" if stats["undecided"] else "holds")
    summary = (fail or {}).get("reason") or (
        f"{stats['cases']} cases: " + r"$L_{R2} = a\,L_{\Omega_a}$ and $\hat y = $ cvxpy argmax to "
        + tex_num(max(stats["max_abs_err_pred"], stats["max_abs_err_loss"])) + r", exact $a(\theta, y)$")
    detail = summary + (r"; scales $a$ from " + tex_num(scales[0]) + " to " + tex_num(scales[1]) if not fail else "")
    figures = {**stats, "scales": scales, "sizes": list(SIZES), "ks": list(KS)}
    return Evidence("numeric", "cvxpy-fixed-scale", out, detail, figures,
                    None if fail is None else {k_: v for k_, v in fail.items() if k_ != "reason"},
                    summary=summary, labels=LABELS)


PLABELS = {"cases": "score vectors checked", "pairs": "pairs tested for midpoint convexity",
           "convexity_violations": "midpoints above the chord (exact)",
           "gradient_mismatches": r"one-sided exact slopes both off $\hat y - y$ by $> 10^{-3}$",
           "negative": "losses below 0", "shift_mismatches": "shifts changing the loss",
           "zero_mismatches": r"cases with $L = 0$ not matching $y = \hat y$", "sizes": "$n$", "ks": "$k$"}


@single_thread
def properties_check(ctx: RunContext) -> Evidence:
    """FY-2 under R2 on drawn (θ, y): L ≥ 0, L = 0 ⟺ y = Π(aθ), shift invariance, midpoint convexity
    on pairs (θ, θ') with the same label (exact loss), and ∇_θ L = Π(aθ) − y against exact one-sided
    slopes of the loss.  The first midpoint above the chord is the counterexample."""
    stats = dict(cases=0, pairs=0, convexity_violations=0, gradient_mismatches=0, negative=0, shift_mismatches=0,
                 zero_mismatches=0)
    fail = None
    h = Fraction(1, 10 ** 7)
    prev = None
    for theta, y, k in _cases(ctx, 12, (3, 8)):
        lv, a, yhat, lx = _agree(theta, y, k, "FY-2[rankmax/R2]")
        stats["cases"] += 1
        stats["negative"] += lx < 0
        ls = float(exact_loss(theta + 3.25, y, k))
        stats["shift_mismatches"] += abs(ls - float(lx)) > _tol(theta, a) + 1e-9
        stats["zero_mismatches"] += (lx == 0) != bool(np.abs(yhat - y).max() <= 1e-12)
        # exact one-sided slopes along each coordinate against the claimed gradient ŷ − y
        for j in range(theta.size):
            e = np.zeros(theta.size)
            e[j] = float(h)
            up = (exact_loss(theta + e, y, k) - lx) / h
            down = (lx - exact_loss(theta - e, y, k)) / h
            want = yhat[j] - y[j]
            if abs(float(up) - want) > 1e-3 and abs(float(down) - want) > 1e-3:
                stats["gradient_mismatches"] += 1
                break
        # the pair: this θ and the previous one of the same (n, k), with this label
        if prev is not None and prev[0].size == theta.size and prev[2] == k and fail is None:
            other = prev[0]
            stats["pairs"] += 1
            # the exact midpoint: a float64 (θ + θ')/2 is rounded, and at 1e-16 a convex loss can sit above its chord
            mid = [(_fr(u) + _fr(v)) / 2 for u, v in zip(theta, other)]
            l_o, l_m = exact_loss(other, y, k), exact_loss(mid, y, k)
            if l_m > (lx + l_o) / 2:
                stats["convexity_violations"] += 1
                fail = {"theta_a": theta.tolist(), "theta_b": other.tolist(), "y": y.tolist(), "k": k,
                        "a_max": CAP, "values": [float(lx), float(l_o), float(l_m)],
                        "reason": r"$L_{R2}$ at the midpoint exceeds the mean of the ends by "
                                  + tex_num(float(l_m - (lx + l_o) / 2)) + r": not convex in $\theta$"}
        prev = (theta, y, k)
    bad = stats["negative"] or stats["shift_mismatches"] or stats["zero_mismatches"]
    if bad:  # these follow from FY at aθ for every reading: a miss is a defect of ours
        raise SuiteDefect(f"FY-2[rankmax/R2]: the parts that hold at φ = aθ failed: {stats}")
    if fail is None and stats["gradient_mismatches"]:
        raise SuiteDefect(f"FY-2[rankmax/R2]: gradient mismatches without a convexity counterexample: {stats}")
    out = "fails" if fail else "holds"
    summary = (fail or {}).get("reason") or (
        f"{stats['cases']} cases, {stats['pairs']} pairs: " + r"$L \ge 0$, shift invariant, convex on pairs, "
        r"$\nabla L = \hat y - y$ (exact slopes)")
    detail = summary + (f"; besides, {stats['gradient_mismatches']} of {stats['cases']} cases have exact one-sided "
                        r"slopes off $\hat y - y$; $L \ge 0$, $L = 0 \iff y = \hat y$ and the shift invariance hold "
                        f"on all {stats['cases']}" if fail else "")
    figures = {**stats, "sizes": list(SIZES), "ks": list(KS)}
    return Evidence("numeric", "exact-vs-torch", out, detail, figures,
                    None if fail is None else {k_: v for k_, v in fail.items() if k_ != "reason"},
                    summary=summary, labels=PLABELS)


MLABELS = {"cases": "score vectors checked", "margin": r"stated margin $\mu$",
           "zero_below_margin": r"cases with $L = 0$ at a gap below $\mu$",
           "positive_above_margin": r"cases with $L > 0$ at a gap $\ge \mu$",
           "zero_from_gap": r"smallest gap with $L = 0$ found (bisection, $n = 2$, $k = 1$)", "gaps": "gaps tested"}
GAPS = (0.25, 0.5, 0.999, 1.001, 2.0)


@single_thread
def margin_check(ctx: RunContext) -> Evidence:
    """FY-3 under R2: scores with gap g = min_Y θ − max_{not Y} θ at :data:`GAPS` around the stated
    margin μ = :data:`MARGIN`; L = 0 (torch, confirmed exact) at g < μ, or L > 0 at g ≥ μ, is ``fails``.  The figures
    give the gap from which L = 0 (bisection on n = 2, k = 1, exact loss)."""
    margin = float(MARGIN)
    g = ctx.generator(13)
    stats = dict(cases=0, zero_below_margin=0, positive_above_margin=0)
    fail = None
    for n in SIZES:
        for k in KS:
            if k >= n:
                continue
            for gap in GAPS:
                for _ in range(ctx.budget(1, 3)):
                    perm = torch.randperm(n, generator=g).numpy()
                    lab, rest = perm[:k], perm[k:]
                    theta = torch.randn(n, generator=g, dtype=torch.float64).numpy()
                    base = theta[rest].max() + gap
                    theta[lab] = base + np.abs(torch.randn(k, generator=g, dtype=torch.float64).numpy())
                    theta[lab[0]] = base
                    y = np.zeros(n)
                    y[lab] = 1.0
                    real_gap = float(theta[lab].min() - theta[rest].max())
                    lv, a, _, lx = _agree(theta, y, k, "FY-3[rankmax/R2]")
                    stats["cases"] += 1
                    below = real_gap < margin
                    if below and lx == 0:
                        stats["zero_below_margin"] += 1
                        fail = fail or {"theta": theta.tolist(), "y": y.tolist(), "k": k, "gap": real_gap,
                                        "a_max": CAP, "loss": lv,
                                        "reason": f"$L_{{R2}} = 0$ at gap {real_gap:.4g} below the margin "
                                                  f"{margin:g}"}
                    if not below and lx > 0:
                        stats["positive_above_margin"] += 1
                        fail = fail or {"theta": theta.tolist(), "y": y.tolist(), "k": k, "gap": real_gap,
                                        "a_max": CAP, "loss": lv,
                                        "reason": f"$L_{{R2}} > 0$ at gap {real_gap:.4g}, above the margin "
                                                  f"{margin:g}"}
    lo, hi = Fraction(0), Fraction(4)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if exact_loss(np.array([float(mid), 0.0]), np.array([1.0, 0.0]), 1) == 0 else (mid, hi)
    zero_from = float(hi)
    out = "fails" if fail else "holds"
    summary = (f"{fail['reason']}; " + r"$L = 0$ from gap " + tex_num(zero_from) if fail else
               f"{stats['cases']} cases: " + r"$L = 0$ exactly at gaps $\ge \mu$ = " + f"{margin:g}, " + r"$L > 0$ "
               "below")
    detail = summary + (f"; {stats['zero_below_margin']} of {stats['cases']} cases have zero loss below the margin, "
                        f"{stats['positive_above_margin']} a positive loss above it")
    figures = {**stats, "margin": margin, "zero_from_gap": zero_from, "gaps": list(GAPS)}
    return Evidence("numeric", "gap-scan", out, detail, figures,
                    None if fail is None else {k_: v for k_, v in fail.items() if k_ != "reason"},
                    summary=summary, labels=MLABELS)


__all__ = ["READING", "CAP", "STATED_OMEGA_A", "exact_scale", "exact_projection", "exact_loss",
           "conjugate_check", "properties_check", "margin_check"]
