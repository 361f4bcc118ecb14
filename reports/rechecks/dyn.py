"""Re-checks of DYN-2 counterexamples: constant-step GD never reaches exactly zero loss
(exact rationals and rational intervals; numpy only).

Every re-check reads the row's constants (results.json ``constants``, typed in the registry
from the statement), never the counterexample's own copy of them: which re-check a check's
counterexample gets (``recheck``), the step size of a reading lr = 1/L (``lr``) or the range
(0, ``lr_max``] a refuted reading "any constant step in (0, 1/L]" quantifies over, the
variants it covers (``k``, ``alpha``), the rate band and the interval's level (softmax).  A
stored figure the re-check prints is compared with its recomputation."""
from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

from .maps import _t_quantile, capped_projection_exact, entmax


def _capped_loss(theta, p, y) -> Fraction:
    return (sum(a * b for a, b in zip(theta, p)) - sum(q * q for q in p) / 2 + sum(v * v for v in y) / 2
            - sum(a * b for a, b in zip(theta, y)))


def _recheck_dyn2_projection(cx: dict, loss: str, constants: dict) -> tuple[bool, str]:
    """Sparsemax / rankmax: theta0 lies in the all-free region (yhat = theta - tau 1), 0 < lr < 1 and lr <= lr_max (the
    row's 1/L), yhat_0 != y; exact GD reproduces the stored L_0..L_T and yhat_t = y + (1 - lr)^t (yhat_0 - y) at each of
    those steps.  That last identity is the induction: sum(theta) and tau are invariant, the gradient shrinks by
    (1 - lr), and the convex combination of y and yhat_0 stays in [0,1]^n, so L_t = L_0 (1 - lr)^(2t) > 0 for every t,
    never exactly 0.  The stored loss ratio is compared with (1 - lr)^2."""
    k = int(cx["k"])
    th = [Fraction(x) for x in cx["theta0"]]
    y = [Fraction(v) for v in cx["y"]]
    lr = Fraction(cx["lr"])
    lr_max = Fraction(str(constants["lr_max"]))
    n = len(th)
    tau0 = (sum(th) - k) / n
    p0 = capped_projection_exact(th, k)
    free = p0 == [t - tau0 for t in th]
    in_row = k in [int(v) for v in constants.get("k", [1])] and (loss == "rankmax" or k == 1)
    ok = 0 < lr < 1 and lr <= lr_max and in_row and free and p0 != y and sum(y) == k
    ok &= "loss_ratio" not in cx or Fraction(cx["loss_ratio"]) == (1 - lr) ** 2
    L0 = _capped_loss(th, p0, y)
    got = []
    for t in range(len(cx["losses"])):
        p = capped_projection_exact(th, k)
        L = _capped_loss(th, p, y)
        got.append(L)
        ok &= L == Fraction(cx["losses"][t]) and L == L0 * (1 - lr) ** (2 * t) and L > 0
        ok &= p == [b + (1 - lr) ** t * (a - b) for a, b in zip(p0, y)]
        th = [a - lr * (q - b) for a, q, b in zip(th, p, y)]
    return bool(ok), (f"{loss} k={k} theta0={cx['theta0']} lr={cx['lr']} (row: 0 < lr <= {lr_max}): all-free start="
                      f"{free}, L_0..L_{len(got) - 1} = {[str(x) for x in got]} (ratio (1-lr)^2 = {(1 - lr) ** 2})")


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


def _entmax15_loss(s: float) -> float:
    """The 1.5-entmax loss (n = 2, label e_y) at shortfall s in (0, 4): -v^2 (2 - s) - (4/3)(u^3 + v^3 - 1) with
    v = (sqrt(1 + s - s^2/4) - 1 + s/2)/2 and u = v + (2 - s)/2."""
    v = (math.sqrt(1 + s - s * s / 4) - 1 + s / 2) / 2
    u = v + (2 - s) / 2
    return -v * v * (2 - s) - 4 / 3 * (u ** 3 + v ** 3 - 1)


def _recheck_dyn2_entmax(cx: dict, constants: dict) -> tuple[bool, str]:
    """1.5-entmax, n = 2: with u = sqrt(yhat_1), v = sqrt(yhat_2), u^2 + v^2 = 1 and 2u - 2v = theta_1 - theta_2, so
    v(s) = (sqrt(1 + s - s^2/4) - 1 + s/2)/2 with the shortfall s = 2 - (theta_y - theta_other), and GD gives
    s' = s - 2 lr v(s)^2.  Since (1 + s/2)^2 - (1 + s - s^2/4) = s^2/2 >= 0, v <= s/2 and s' >= s (1 - lr s / 2);
    v > 0 on (0, 4).  So 0 < s0 < min(4, 2/lr) gives 0 < s_t <= s0 for every t (loss > 0 at every step).
    Checked here: the step is the row's (lr = 1/L) or lies in the row's (0, lr_max]; that condition exactly; the stored
    s0, C and losses against their recomputation; the closed form against bisection entmax at theta0; 60 steps of the
    recurrence in rational interval arithmetic (lower bounds > 0, decreasing, containing the stored values);
    200 float64 GD steps with the bisection map (shortfall stays positive)."""
    alpha = float(constants["alpha"])
    if alpha != 1.5 or float(cx.get("alpha", 0)) != alpha or len(cx["theta0"]) != 2:
        return False, f"unsupported entmax counterexample (row alpha = {alpha}): {cx}"
    yi = int(cx["y"])
    th = [Fraction(str(x)) for x in cx["theta0"]]
    if "lr" in constants:  # reading lr = 1/L: the row's step, which the counterexample must have been made at
        lr_lo, lr_hi, lr2 = _parse_lr(constants["lr"])
        if _parse_lr(cx["lr"])[2] != lr2:
            return False, f"1.5-entmax: the counterexample's lr = {cx['lr']} is not the row's {constants['lr']}"
    else:  # reading "any constant step in (0, lr_max]": the counterexample's step must lie there
        lr_lo, lr_hi, lr2 = _parse_lr(cx["lr"])
        if not (lr_lo > 0 and lr2 <= _parse_lr(constants["lr_max"])[2]):
            return False, f"1.5-entmax: lr = {cx['lr']} outside the row's (0, {constants['lr_max']}]"
    s0 = 2 - (th[yi] - th[1 - yi])
    cond = 0 < s0 < 4 and lr_lo > 0 and lr2 * s0 * s0 < 4  # lr * s0 < 2, i.e. s0 < 1/(lr C) with C = 1/2
    if not cond:
        return False, f"1.5-entmax theta0={cx['theta0']} lr={cx['lr']}: s0={s0} violates 0 < s0 < min(4, 2/lr)"
    stored_ok = Fraction(str(cx.get("s0", s0))) == s0 and Fraction(str(cx.get("C", "1/2"))) == Fraction(1, 2)
    for s_txt, l_txt in zip(cx.get("shortfall_first_steps", []), cx.get("losses_first_steps", [])):
        stored_ok &= abs(_entmax15_loss(float(s_txt)) - float(l_txt)) <= 1e-9 * (1 + abs(float(l_txt)))
    if not stored_ok:
        return False, f"1.5-entmax theta0={cx['theta0']}: stored s0, C or losses differ from their recomputation"
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


def _recheck_dyn2_unit_runs(cx: dict, loss: str, constants: dict) -> tuple[bool, str]:
    """Failed runs of the lr = 1/L check: exact GD at the row's lr (not the run's stored one, which must equal it)
    reproduces the stored losses, bound ceil(1 - g_0) and first zero, and each run misses exact zero within its bound,
    or lets the loss increase, or leaves zero again."""
    lr = Fraction(str(constants["lr"]))
    bad = 0
    for r in cx["runs"]:
        th = [Fraction(x) for x in r["theta0"]]
        y = [Fraction(v) for v in r["y"]]
        k = int(r["k"])
        g0 = min(t for t, v in zip(th, y) if v) - max(t for t, v in zip(th, y) if not v)
        bound = 0 if g0 >= 1 else math.ceil(1 - g0)
        Ls = []
        for _ in range(len(r["losses"])):
            p = capped_projection_exact(th, k)
            Ls.append(_capped_loss(th, p, y))
            th = [a - lr * (q - b) for a, q, b in zip(th, p, y)]
        first = next((t for t, L in enumerate(Ls) if L == 0), None)
        violates = (first is None or first > bound or any(L != 0 for L in Ls[first:])
                    or any(b > a for a, b in zip(Ls, Ls[1:])))
        same = ([str(x) for x in Ls] == [str(Fraction(x)) for x in r["losses"]] and int(r["bound"]) == bound
                and r.get("first_zero") == first and Fraction(str(r.get("lr", lr))) == lr
                and (loss == "rankmax" or k == 1))
        bad += not (violates and same)
    return bad == 0, (f"{len(cx['runs']) - bad} of {len(cx['runs'])} stored failing runs reproduced exactly at the row's "
                      f"lr = {lr}")


def _recheck_dyn2_rate(cx: dict, constants: dict) -> tuple[bool, str]:
    """Softmax: the stored recorded losses L(t) over the last decade, refitted by least squares
    log L = c + s log t with a t-interval of s at the row's level (own OLS and t quantile): the interval must lie
    entirely outside the row's band ("about 1/t" refuted on that run).  The band and level come from the row's
    constants (a stored copy must equal them); a stored exponent and interval must equal the refit."""
    t = np.asarray(cx["t"], dtype=np.float64)
    L = np.asarray(cx["loss"], dtype=np.float64)
    lo_b, hi_b = (float(v) for v in constants["rate_band"])
    level = float(constants["level"])
    if [float(v) for v in cx.get("band", [lo_b, hi_b])] != [lo_b, hi_b] or float(cx.get("level", level)) != level:
        return False, f"rate counterexample made under band {cx.get('band')} / level {cx.get('level')}, not the row's"
    if t.shape != L.shape or t.size < 4 or np.any(L <= 0) or np.any(t <= 0):
        return False, "rate counterexample: malformed series"
    x, y = np.log(t), np.log(L)
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    b = float(((x - xm) * (y - ym)).sum() / sxx)
    res = y - (ym - b * xm) - b * x
    se = math.sqrt(float((res ** 2).sum()) / (t.size - 2) / sxx)
    q = _t_quantile(0.5 + level / 2, t.size - 2)
    lo, hi = b - q * se, b + q * se
    close = lambda u, v: abs(float(u) - v) <= 1e-9 * (1 + abs(v))  # noqa: E731
    stored = (close(cx.get("exponent", b), b) and close((cx.get("ci") or [lo, hi])[0], lo)
              and close((cx.get("ci") or [lo, hi])[1], hi))
    ok = (hi < lo_b or lo > hi_b) and stored
    return bool(ok), (f"{cx.get('setting', '?')}: exponent {b:.4g}, {level:.4%} interval [{lo:.4g}, {hi:.4g}] vs band "
                      f"[{lo_b}, {hi_b}]: outside = {hi < lo_b or lo > hi_b}; stored fit reproduced = {stored}")


def recheck_dyn2(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """DYN-2: GD with a constant step size does not reach exactly zero loss in finitely many steps;
    softmax: the loss does not decay about like 1/t (refitted from the stored series).  The re-check a
    check's counterexample gets is the row's (``constants["recheck"][check]``), never the counterexample's shape."""
    constants = constants or {}
    kind = (constants.get("recheck") or {}).get(check)
    loss = reading.split("/")[0]
    if kind == "rate" and loss == "softmax":
        return _recheck_dyn2_rate(cx, constants)
    if kind == "unit-runs" and loss in ("sparsemax", "rankmax"):
        return _recheck_dyn2_unit_runs(cx, loss, constants)
    if kind == "projection" and loss in ("sparsemax", "rankmax"):
        return _recheck_dyn2_projection(cx, loss, constants)
    if kind == "entmax-shortfall" and loss == "entmax":
        return _recheck_dyn2_entmax(cx, constants)
    return False, f"no DYN-2 re-check {kind!r} for check {check!r} of reading {reading!r}"


#: claim id -> re-check(counterexample, reading, constants, check) -> (re-checked?, message)
RECHECKERS = {"DYN-2": recheck_dyn2}
