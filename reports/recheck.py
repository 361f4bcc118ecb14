#!/usr/bin/env python3
"""Re-check every counterexample stored in a results.json, from the stored data alone.

    softmax-audit recheck reports/out/results.json
    python reports/recheck.py reports/out/results.json   # the same, with nothing but numpy

Independent of the suite: plain numpy and fractions, no import of losses/, proofs/, numerics/ or
reports/; each prediction map is re-implemented here by bisection on its threshold.
Prints one line per counterexample and exits 1 if any fails to re-check, or if a
claim id has no re-checker.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import sys
from fractions import Fraction

import numpy as np


def entmax(theta: np.ndarray, alpha: float) -> np.ndarray:
    """α-entmax by bisection on τ in Σ [(α−1)θ − τ]_+^{1/(α−1)} = 1 (α = 1: softmax)."""
    theta = np.asarray(theta, dtype=np.float64)
    if alpha == 1:
        e = np.exp(theta - theta.max())
        return e / e.sum()
    x = (alpha - 1) * theta
    lo, hi = x.max() - 1.0, x.max()
    for _ in range(200):
        mid = (lo + hi) / 2
        if (np.clip(x - mid, 0, None) ** (1 / (alpha - 1))).sum() >= 1:
            lo = mid
        else:
            hi = mid
    p = np.clip(x - lo, 0, None) ** (1 / (alpha - 1))
    return p / p.sum()


def jacobian_lambda_max(f, theta: np.ndarray, h: float = 1e-6) -> float:
    """Largest eigenvalue of the symmetrized central-difference Jacobian of f at theta."""
    theta = np.asarray(theta, dtype=np.float64)
    n = theta.size
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        J[:, j] = (f(theta + e) - f(theta - e)) / (2 * h)
    return float(np.linalg.eigvalsh((J + J.T) / 2).max())


def recheck_fy4(cx: dict, reading: str) -> tuple[bool, str]:
    """FY-4 entmax[alpha>2]: λ_max(J_ŷ(θ)) > 1 at the stored θ, refuting 'between ½ and 1'."""
    lam = jacobian_lambda_max(lambda t: entmax(t, cx["alpha"]), np.array(cx["theta"]))
    return lam > 1 + 1e-6, f"alpha={cx['alpha']}, theta={cx['theta']}: lambda_max={lam:.6g} (stored {cx.get('lambda_max')})"


# --------------------------------------------------------------------------------------
# DYN-2: constant-step GD never reaches exactly zero loss (exact rationals / intervals)
# --------------------------------------------------------------------------------------
def capped_projection_exact(theta: list[Fraction], k: int) -> list[Fraction]:
    """Exact projection on {p in [0,1]^n : sum p = k} (k = 1: sparsemax): f(tau) = sum clip(theta - tau, 0, 1)
    is piecewise linear and non-increasing with breakpoints theta_i and theta_i - 1; find the segment where it
    crosses k and solve the linear equation there."""
    bps = sorted(set(theta) | {t - 1 for t in theta})

    def f(tau: Fraction) -> Fraction:
        return sum(min(max(t - tau, Fraction(0)), Fraction(1)) for t in theta)

    for lo, hi in zip(bps, bps[1:]):
        flo, fhi = f(lo), f(hi)
        if fhi <= k <= flo:
            tau = lo if flo == fhi else lo + (flo - k) * (hi - lo) / (flo - fhi)
            return [min(max(t - tau, Fraction(0)), Fraction(1)) for t in theta]
    raise ValueError("no threshold found")


def _capped_loss(theta, p, y) -> Fraction:
    return (sum(a * b for a, b in zip(theta, p)) - sum(q * q for q in p) / 2 + sum(v * v for v in y) / 2
            - sum(a * b for a, b in zip(theta, y)))


def _recheck_dyn2_projection(cx: dict) -> tuple[bool, str]:
    """Sparsemax / rankmax: theta0 lies in the all-free region (yhat = theta - tau 1), 0 < lr < 1 = 1/L, yhat_0 != y;
    exact GD reproduces the stored L_0..L_T and yhat_t = y + (1 - lr)^t (yhat_0 - y) at each of those steps.  That
    last identity is the induction: sum(theta) and tau are invariant, the gradient shrinks by (1 - lr), and the convex
    combination of y and yhat_0 stays in [0,1]^n, so L_t = L_0 (1 - lr)^(2t) > 0 for every t, never exactly 0."""
    k = int(cx["k"])
    th = [Fraction(x) for x in cx["theta0"]]
    y = [Fraction(v) for v in cx["y"]]
    lr = Fraction(cx["lr"])
    n = len(th)
    tau0 = (sum(th) - k) / n
    p0 = capped_projection_exact(th, k)
    free = p0 == [t - tau0 for t in th]
    ok = 0 < lr < 1 and free and p0 != y and sum(y) == k
    L0 = _capped_loss(th, p0, y)
    got = []
    for t in range(len(cx["losses"])):
        p = capped_projection_exact(th, k)
        L = _capped_loss(th, p, y)
        got.append(L)
        ok &= L == Fraction(cx["losses"][t]) and L == L0 * (1 - lr) ** (2 * t) and L > 0
        ok &= p == [b + (1 - lr) ** t * (a - b) for a, b in zip(p0, y)]
        th = [a - lr * (q - b) for a, q, b in zip(th, p, y)]
    return bool(ok), (f"{cx['loss']} k={k} theta0={cx['theta0']} lr={cx['lr']}: all-free start={free}, "
                      f"L_0..L_{len(got) - 1} = {[str(x) for x in got]} (ratio (1-lr)^2 = {(1 - lr) ** 2})")


def _sqrt_bounds(x: Fraction, bits: int = 120) -> tuple[Fraction, Fraction]:
    """Rational lo <= sqrt(x) <= hi, hi - lo = 2^-bits (x >= 0)."""
    scale = 1 << (2 * bits)
    r = math.isqrt(x.numerator * scale // x.denominator)
    return Fraction(r, 1 << bits), Fraction(r + 1, 1 << bits)


def _parse_lr(text: str) -> tuple[Fraction, Fraction, Fraction]:
    """(lo, hi, lr^2) for 'p/q' or 'sqrt(p/q)'."""
    m = re.fullmatch(r"\s*sqrt\(([^)]*)\)\s*", str(text))
    if m:
        q = Fraction(m.group(1))
        lo, hi = _sqrt_bounds(q)
        return lo, hi, q
    v = Fraction(str(text))
    return v, v, v * v


def _v_bounds(s: Fraction) -> tuple[Fraction, Fraction]:
    """sqrt(yhat_2) = v(s) = (sqrt(1 + s - s^2/4) - 1 + s/2)/2 for 1.5-entmax, n = 2, shortfall s (interval)."""
    lo, hi = _sqrt_bounds(1 + s - s * s / 4)
    return max((lo - 1 + s / 2) / 2, Fraction(0)), (hi - 1 + s / 2) / 2


def _round_out(x: Fraction, up: bool, bits: int = 100) -> Fraction:
    q = x * (1 << bits)
    return Fraction(math.ceil(q) if up else math.floor(q), 1 << bits)


def _recheck_dyn2_entmax(cx: dict) -> tuple[bool, str]:
    """1.5-entmax, n = 2: with u = sqrt(yhat_1), v = sqrt(yhat_2), u^2 + v^2 = 1 and 2u - 2v = theta_1 - theta_2, so
    v(s) = (sqrt(1 + s - s^2/4) - 1 + s/2)/2 with the shortfall s = 2 - (theta_y - theta_other), and GD gives
    s' = s - 2 lr v(s)^2.  Since (1 + s/2)^2 - (1 + s - s^2/4) = s^2/2 >= 0, v <= s/2 and s' >= s (1 - lr s / 2);
    v > 0 on (0, 4).  So 0 < s0 < min(4, 2/lr) gives 0 < s_t <= s0 for every t (loss > 0 at every step).
    Checked here: that condition exactly; the closed form against bisection entmax at theta0; 60 steps of the
    recurrence in rational interval arithmetic (lower bounds > 0, decreasing, containing the stored values);
    200 float64 GD steps with the bisection map (shortfall stays positive)."""
    if float(cx.get("alpha", 0)) != 1.5 or len(cx["theta0"]) != 2:
        return False, f"unsupported entmax counterexample {cx}"
    yi = int(cx["y"])
    th = [Fraction(str(x)) for x in cx["theta0"]]
    lr_lo, lr_hi, lr2 = _parse_lr(cx["lr"])
    s0 = 2 - (th[yi] - th[1 - yi])
    cond = 0 < s0 < 4 and lr_lo > 0 and lr2 * s0 * s0 < 4  # lr * s0 < 2, i.e. s0 < 1/(lr C) with C = 1/2
    if not cond:
        return False, f"1.5-entmax theta0={cx['theta0']} lr={cx['lr']}: s0={s0} violates 0 < s0 < min(4, 2/lr)"
    # closed form vs bisection at theta0
    p_bis = entmax(np.array([float(x) for x in th]), 1.5)[1 - yi]
    vlo, vhi = _v_bounds(s0)
    closed_ok = abs(float(vlo) ** 2 - p_bis) < 1e-9
    # interval iteration
    lo = hi = s0
    inter_ok, stored = True, [float(x) for x in cx.get("shortfall_first_steps", [])]
    for t in range(60):
        if t < len(stored):
            inter_ok &= float(lo) - 1e-12 <= stored[t] <= float(hi) + 1e-12
        a_lo, _ = _v_bounds(lo)
        _, b_hi = _v_bounds(hi)
        nlo = _round_out(lo - lr_hi * 2 * b_hi * b_hi, up=False)
        nhi = _round_out(hi - lr_lo * 2 * a_lo * a_lo, up=True)
        inter_ok &= nlo > 0 and nhi < hi
        lo, hi = nlo, nhi
    # float GD with the bisection map
    theta = np.array([float(x) for x in th])
    lr_f = float(lr_lo)
    s_prev, float_ok = float(s0), True
    for _ in range(200):
        p = entmax(theta, 1.5)
        g = p.copy()
        g[yi] -= 1
        theta = theta - lr_f * g
        s = 2 - (theta[yi] - theta[1 - yi])
        float_ok &= 0 < s <= s_prev + 1e-15
        s_prev = s
    ok = bool(cond and closed_ok and inter_ok and float_ok)
    return ok, (f"1.5-entmax theta0={cx['theta0']} lr={cx['lr']}: s0={s0}, 0 < s0 < min(4, 2/lr): {cond}; closed form "
                f"= bisection: {closed_ok}; 60 interval steps positive (s_60 in [{float(lo):.6g}, {float(hi):.6g}]): "
                f"{inter_ok}; 200 float steps, s_200 = {s_prev:.6g} > 0: {float_ok}")


def _recheck_dyn2_unit_runs(cx: dict) -> tuple[bool, str]:
    """Failed runs of the lr = 1/L check: exact GD at the stored lr reproduces the stored losses, and each run
    misses exact zero within its bound ceil(1 - g_0), or lets the loss increase, or leaves zero again."""
    bad = 0
    for r in cx["runs"]:
        th = [Fraction(x) for x in r["theta0"]]
        y = [Fraction(v) for v in r["y"]]
        k, lr, bound = int(r["k"]), Fraction(r.get("lr", "1")), int(r["bound"])
        Ls = []
        for _ in range(len(r["losses"])):
            p = capped_projection_exact(th, k)
            Ls.append(_capped_loss(th, p, y))
            th = [a - lr * (q - b) for a, q, b in zip(th, p, y)]
        first = next((t for t, L in enumerate(Ls) if L == 0), None)
        violates = (first is None or first > bound or any(L != 0 for L in Ls[first:])
                    or any(b > a for a, b in zip(Ls, Ls[1:])))
        bad += not (violates and [str(x) for x in Ls] == [str(Fraction(x)) for x in r["losses"]])
    return bad == 0, f"{len(cx['runs']) - bad} of {len(cx['runs'])} stored failing runs reproduced exactly"


def recheck_dyn2(cx: dict, reading: str = "") -> tuple[bool, str]:
    """DYN-2: GD with a constant step size does not reach exactly zero loss in finitely many steps."""
    if "runs" in cx:
        return _recheck_dyn2_unit_runs(cx)
    loss = cx.get("loss")
    if loss in ("sparsemax", "rankmax"):
        return _recheck_dyn2_projection(cx)
    if loss == "entmax":
        return _recheck_dyn2_entmax(cx)
    return False, f"no DYN-2 re-check for this counterexample shape: keys {sorted(cx)}"


def np_predict(loss: str, theta: np.ndarray, alpha: float | None = None, k: int | None = None) -> np.ndarray:
    """ŷ(θ) by self-contained numpy code (no losses/, no cvxpy)."""
    t = np.asarray(theta, dtype=np.float64)
    if loss == "softmax":
        e = np.exp(t - t.max())
        return e / e.sum()
    if loss == "sparsemax":
        u = np.sort(t)[::-1]
        css = np.cumsum(u) - 1.0
        rho = np.nonzero(u - css / np.arange(1, t.size + 1) > 0)[0][-1]
        return np.maximum(t - css[rho] / (rho + 1), 0.0)

    def bisect(f, lo, hi, target):
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if f(mid) > target else (lo, mid)
        return 0.5 * (lo + hi)

    if loss == "entmax":
        a = float(alpha)
        z = (a - 1) * t
        f = lambda tau: np.sum(np.maximum(z - tau, 0) ** (1 / (a - 1)))  # noqa: E731
        tau = bisect(f, z.max() - 1.0, z.max(), 1.0)
        return np.maximum(z - tau, 0) ** (1 / (a - 1))
    if loss == "rankmax":
        f = lambda tau: np.sum(np.clip(t - tau, 0, 1))  # noqa: E731
        tau = bisect(f, t.min() - 1.0, t.max(), float(k))
        return np.clip(t - tau, 0, 1)
    raise ValueError(f"unknown loss {loss!r}")


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


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def _nce_moments(theta: np.ndarray, y: int, q: np.ndarray, k: int, c: float) -> tuple[float, float]:
    """Exact bias² and variance of the NCE gradient estimator by linearity (k i.i.d. noise draws)."""
    delta = theta - c - np.log(k * q)
    s = _sigmoid(delta)
    mean = k * q * s
    mean[y] -= _sigmoid(-delta[y])
    e = np.exp(theta - theta.max())
    g = e / e.sum()
    g[y] -= 1.0
    return float(((mean - g) ** 2).sum()), float(k * ((q * s * s).sum() - ((q * s) ** 2).sum()))


def _parse_tree(text: str):
    import ast

    return ast.literal_eval(text)


def _hsm_ratio_fit(tree, p: np.ndarray) -> np.ndarray:
    """Leaf probabilities of the HSM with node scores u_v = log(mass(left)/mass(right))."""
    out = np.zeros_like(p)

    def mass(t):
        return p[t] if isinstance(t, int) else mass(t[0]) + mass(t[1])

    def walk(t, prob):
        if isinstance(t, int):
            out[t] = prob
            return
        u = math.log(mass(t[0]) / mass(t[1]))
        walk(t[0], prob * _sigmoid(u))
        walk(t[1], prob * _sigmoid(-u))

    walk(tree, 1.0)
    return out


def recheck_apx(cx: dict, reading: str) -> tuple[bool, str]:
    """APX: NCE bias²/variance rising with k (APX-1), HSM-H1 exact best fits for every tree (APX-4),
    RG² bias at (near) zero spread (APX-5)."""
    if "quantity" in cx and reading.startswith("nce"):
        theta, q = np.array(cx["theta"], dtype=np.float64), np.array(cx["q"], dtype=np.float64)
        idx = 0 if cx["quantity"] == "bias2" else 1
        a = _nce_moments(theta, cx["y"], q, cx["k_from"], cx["c"])[idx]
        b = _nce_moments(theta, cx["y"], q, cx["k_to"], cx["c"])[idx]
        ok = b > a and abs(a - cx["value_from"]) <= 1e-9 * max(1, a) and abs(b - cx["value_to"]) <= 1e-9 * max(1, b)
        return ok, f"{cx['quantity']} at k={cx['k_from']}: {a:.6g} -> k={cx['k_to']}: {b:.6g}"
    if "trees" in cx and "p" in cx:
        p = np.array(cx["p"], dtype=np.float64)
        p = p / p.sum()  # the stored p is rounded to 12 digits
        kls = [float((p * np.log(p / _hsm_ratio_fit(_parse_tree(t), p))).sum()) for t in cx["trees"]]
        ok = len(kls) >= 2 and max(abs(v) for v in kls) <= 1e-12
        return ok, f"p={[round(v, 4) for v in cx['p']]}: KL of the ratio fit per tree {kls}"
    if reading.startswith("rg2") and "theta" in cx:
        theta = np.array(cx["theta"], dtype=np.float64)
        n, y = theta.size, cx["y"]
        e = np.exp(theta - theta.max())
        g = e / e.sum()
        gt = (1 + theta) / n
        b2 = float(((gt - g) ** 2).sum())
        spread = float(theta.max() - theta.min())
        ok = spread <= 1e-5 and b2 >= 0.1 and abs(b2 - float(cx["bias2"])) <= 1e-9
        return ok, f"theta spread {spread:.3g}: RG^2 bias^2 = {b2:.6g} (stored {cx['bias2']})"
    return False, f"unrecognized APX counterexample keys {sorted(cx)}"


def _t_quantile(p: float, df: int) -> float:
    """Student-t quantile: the normal quantile by bisection on math.erfc, then the
    Cornish-Fisher expansion in 1/df (error below 1e-6 for df ≥ 100)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > 1 - p:
            lo = mid
        else:
            hi = mid
    z = (lo + hi) / 2
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def recheck_exp(cx: dict, reading: str = "") -> tuple[bool, str]:
    """EXP-1, DYN-3, CPX-2: a paired comparison whose interval lies on the stored side of 0,
    recomputed from the per-user differences; or per-epoch operation counts."""
    msgs = []
    for name, c in (cx.get("comparisons") or {}).items():
        d = np.asarray(c["per_user_diff"], dtype=np.float64)
        if d.size < 100:
            return False, f"{name}: only {d.size} users (the t expansion needs df ≥ 100)"
        half = _t_quantile(0.5 + float(cx["level"]) / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
        lo, hi = d.mean() - half, d.mean() + half
        ok = lo > 0 if c["side"] == "above 0" else hi < 0
        if not ok:
            return False, f"{name}: recomputed interval [{lo:.5f}, {hi:.5f}] is not {c['side']}"
        msgs.append(f"{name} [{lo:.4f}, {hi:.4f}]")
    flops = cx.get("flops_per_epoch")
    if flops and not cx.get("comparisons"):
        dearer = [m for m, f in flops.items() if m != "softmax" and f >= flops["softmax"]]
        if not dearer:
            return False, "no method costs at least as much as softmax"
        msgs.append(f"{', '.join(dearer)} >= softmax ({flops['softmax']:.3g} operations per epoch)")
    return (True, "; ".join(msgs)) if msgs else (False, "nothing to re-check")


RECHECKERS = {"FY-4": recheck_fy4, "CON-2": recheck_con2, "DYN-2": recheck_dyn2, "APX-1": recheck_apx,
              "APX-4": recheck_apx, "APX-5": recheck_apx, "EXP-1": recheck_exp, "DYN-3": recheck_exp,
              "CPX-2": recheck_exp}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    results = json.load(open(argv[1], encoding="utf-8"))
    bad = 0
    seen = 0
    for row in results["claims"]:
        for ev in row["evidence"]:
            cx = ev.get("counterexample")
            if cx is None:
                continue
            seen += 1
            fn = RECHECKERS.get(row["id"])
            if fn is None:
                print(f"NO RECHECKER {row['id']} [{row['reading']}] {ev['check']}")
                bad += 1
                continue
            ok, msg = fn(cx, row["reading"])
            bad += not ok
            print(f"{'ok    ' if ok else 'FAILED'} {row['id']} [{row['reading']}] {ev['check']}: {msg}")
    # witnesses that confirm a claim by exhibiting a case (e.g. "not strictly order preserving")
    witnesses = wbad = 0
    for row in results["claims"]:
        for ev in row["evidence"]:
            w = (ev.get("figures") or {}).get("sop_witness")
            if w is None:
                continue
            witnesses += 1
            ok, msg = recheck_sop_witness(w, row["reading"])
            wbad += not ok
            print(f"{'ok    ' if ok else 'FAILED'} {row['id']} [{row['reading']}] {ev['check']} (witness): {msg}")
    print(f"{seen} counterexample(s), {seen - bad} re-checked; {witnesses} witness(es), {witnesses - wbad} re-checked")
    return 1 if bad or wbad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
