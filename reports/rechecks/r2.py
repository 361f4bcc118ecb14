"""Re-checks of the rankmax reading R2 rows (FY-1 … FY-3, CON-1, CON-2; readings ``rankmax/R2…``), plain fractions.

R2: L_R2(θ; y) = L_{C_k}(aθ; y) with a = sup{a ∈ (0, A] : Π_{C_k}(aθ)_i > 0 for every label i}
(Kong et al. 2020; losses/rankmax.py).  Own routes, not the suite's: the projection on C_k by its
KKT pattern (top u entries capped at 1, the next f free, τ from Σ = k), and the scale from the
lowest label's threshold equation Σ_j min(d_j/ε, 1) = k solved on the intervals between the
distinct d_j in ascending order.  The cap A and the margin are the row's constants."""
from __future__ import annotations

from fractions import Fraction


def _proj(phi: list[Fraction], k: int) -> list[Fraction]:
    order = sorted(range(len(phi)), key=lambda i: -phi[i])
    z = [phi[i] for i in order]
    n = len(z)
    for u in range(k + 1):
        for f in range(1, n - u + 1):
            tau = (sum(z[u:u + f]) - (k - u)) / f
            ok = all(z[i] - tau >= 1 for i in range(u)) and all(0 <= z[i] - tau <= 1 for i in range(u, u + f)) \
                and all(z[i] - tau <= 0 for i in range(u + f, n))
            if ok:
                out = [Fraction(0)] * n
                for pos, i in enumerate(order):
                    out[i] = min(max(z[pos] - tau, Fraction(0)), Fraction(1))
                return out
    raise ValueError("no KKT pattern of C_k fits")


def _scale(theta: list[Fraction], y: list[Fraction], k: int, cap: Fraction) -> Fraction:
    m = min(t for t, w in zip(theta, y) if w > 0)
    d = [max(t - m, Fraction(0)) for t in theta]
    if sum(1 for v in d if v > 0) < k:
        return cap
    levels = sorted({v for v in d if v > 0})
    for lo, hi in zip([Fraction(0)] + levels, levels + [None]):
        # ε in (lo, hi]: the d ≥ hi are capped at 1, the d ≤ lo enter as d/ε
        capped = 0 if hi is None else sum(1 for v in d if v >= hi)
        free = sum(v for v in d if 0 < v <= lo)
        if capped < k and free > 0:
            eps = free / (k - capped)
            if eps >= lo and (hi is None or eps <= hi):
                return min(cap, 1 / eps)
    raise ValueError("no scale solves the threshold equation")


def _loss(theta: list[Fraction], y: list[Fraction], k: int, cap: Fraction) -> tuple[Fraction, Fraction]:
    a = _scale(theta, y, k, cap)
    phi = [a * t for t in theta]
    p = _proj(phi, k)
    dot = lambda u, v: sum(x * z for x, z in zip(u, v))  # noqa: E731
    return dot(phi, p) - dot(p, p) / 2 + dot(y, y) / 2 - dot(phi, y), a


def _vec(v) -> list[Fraction]:
    return [Fraction(float(x)) for x in v]


def _label(y: list[Fraction], k: int) -> None:
    if sorted(set(y)) != [0, 1] or sum(y) != k or not 1 <= k < len(y):
        raise ValueError(f"y must be multi-hot with k = {k} labels, got {y}")


def recheck_fy1(cx: dict, reading: str, constants: dict, check: str = "") -> tuple[bool, str]:
    """A point of C_k beating Π_{C_k}(aθ) on ⟨θ, p⟩ − ‖p‖²/(2a), a the example's scale."""
    theta, y, k, q = _vec(cx["theta"]), _vec(cx["y"]), int(cx["k"]), _vec(cx["point"])
    _label(y, k)
    a = _scale(theta, y, k, Fraction(constants["a_max"]))
    if any(v < 0 or v > 1 for v in q) or abs(sum(q) - k) > Fraction(1, 10 ** 9):
        return False, "the stored point is not in C_k"
    q = [v * k / sum(q) for v in q] if all(v * k / sum(q) <= 1 for v in q) else q
    p = _proj([a * t for t in theta], k)
    f = lambda v: sum(t * x for t, x in zip(theta, v)) - sum(x * x for x in v) / (2 * a)  # noqa: E731
    gain = f(q) - f(p)
    ok = gain > Fraction(1, 10 ** 9) * (1 + abs(f(p)))
    return ok, f"the point beats the map by {float(gain):.3g} (a = {float(a):.6g})"


def recheck_fy2(cx: dict, reading: str, constants: dict, check: str = "") -> tuple[bool, str]:
    """A midpoint above the chord of θ ↦ L_R2(θ; y)."""
    ta, tb, y, k = _vec(cx["theta_a"]), _vec(cx["theta_b"]), _vec(cx["y"]), int(cx["k"])
    _label(y, k)
    cap = Fraction(constants["a_max"])
    la, lb = _loss(ta, y, k, cap)[0], _loss(tb, y, k, cap)[0]
    lm = _loss([(u + v) / 2 for u, v in zip(ta, tb)], y, k, cap)[0]
    ok = lm > (la + lb) / 2
    return ok, f"L at the ends {float(la):.6g}, {float(lb):.6g}; at the midpoint {float(lm):.6g} (exact)"


def recheck_fy3(cx: dict, reading: str, constants: dict, check: str = "") -> tuple[bool, str]:
    """Zero loss below the row's margin, or a positive loss at or above it."""
    theta, y, k = _vec(cx["theta"]), _vec(cx["y"]), int(cx["k"])
    _label(y, k)
    mu = Fraction(constants["margin"])
    gap = min(t for t, w in zip(theta, y) if w) - max(t for t, w in zip(theta, y) if not w)
    L, a = _loss(theta, y, k, Fraction(constants["a_max"]))
    ok = (L == 0 and gap < mu) or (L > 0 and gap >= mu)
    return ok, f"gap {float(gap):.6g}, margin {float(mu):g}, exact loss {float(L):.6g} at a = {float(a):.6g}"


def _frac(v) -> Fraction:
    """A stored number: a rational's string ("3/17"), a float's repr, or a number."""
    return Fraction(str(v)) if isinstance(v, str) else Fraction(float(v))


def recheck_con2(cx: dict, reading: str, constants: dict, check: str = "") -> tuple[bool, str]:
    """A score vector (units of 1/A) that inverts a pair of the law η, whose exact risk Σ η_i L_R2(θ; e_i)
    lies below the stated infimum over the rankings that sort η, and whose sorting loses E[DCG]."""
    import itertools
    import math

    eta, k = [_frac(v) for v in cx["eta"]], int(cx["k"])
    cap = Fraction(constants["a_max"])
    theta = [_frac(v) / cap for v in cx["theta_A"]]
    n = len(eta)
    if k != 1 or len(theta) != n or sum(eta) != 1 or min(eta) < 0:
        return False, "the stored law is not a distribution over n items with k = 1"
    risk = sum(e * _loss(theta, [Fraction(int(i == j)) for j in range(n)], k, cap)[0] for i, e in enumerate(eta))
    inverted = [(i + 1, j + 1) for i, j in itertools.permutations(range(n), 2) if eta[i] > eta[j] and theta[i] < theta[j]]
    disc = [1 / math.log2(2 + p) for p in range(n)]
    edcg = lambda order: sum(float(eta[i]) * disc[p] for p, i in enumerate(order))  # noqa: E731
    ranked = sorted(range(n), key=lambda i: (-theta[i], eta[i]))   # ties broken against η (worst case)
    best = max(edcg(o) for o in itertools.permutations(range(n)))
    ok = bool(inverted) and risk < _frac(cx["inf_sorted"]) and edcg(ranked) < best
    return ok, (f"exact risk {float(risk):.9g} against {float(_frac(cx['inf_sorted'])):.9g} for the sorting rankings; "
                f"inverted pairs {inverted}; E[DCG] {edcg(ranked):.6g} of the best {best:.6g}")


def recheck_con1(cx: dict, reading: str, constants: dict, check: str = "") -> tuple[bool, str]:
    """A score vector (units of 1/A) that is not top-k′ preserving for η (θ_i ≤ θ_j for some i among η's k′
    largest and j not), with exact risk below the stated infimum over the preserving rankings: then inf over
    the non-preserving θ is inf R, and the loss is not top-k′ calibrated at η."""
    eta, k, top = [_frac(v) for v in cx["eta"]], int(cx["k"]), int(cx["top"])
    cap = Fraction(constants["a_max"])
    theta = [_frac(v) / cap for v in cx["theta_A"]]
    n = len(eta)
    order = sorted(range(n), key=lambda i: -eta[i])
    if k != 1 or len(theta) != n or sum(eta) != 1 or not 1 <= top < n or eta[order[top - 1]] == eta[order[top]]:
        return False, "the stored law, k or k' does not fit the row"
    risk = sum(e * _loss(theta, [Fraction(int(i == j)) for j in range(n)], k, cap)[0] for i, e in enumerate(eta))
    off = [(i + 1, j + 1) for i in order[:top] for j in order[top:] if theta[i] <= theta[j]]
    ok = bool(off) and risk < _frac(cx["inf_preserving"])
    return ok, (f"exact risk {float(risk):.9g} against {float(_frac(cx['inf_preserving'])):.9g} on top-{top} "
                f"preservation; pairs off it {off}")


def is_r2(reading: str) -> bool:
    return reading.split("/")[-1] == "R2" or "/R2/" in reading


#: claim id -> re-check for the rows of reading R2
RECHECKERS = {"FY-1": recheck_fy1, "FY-2": recheck_fy2, "FY-3": recheck_fy3, "CON-1": recheck_con1,
              "CON-2": recheck_con2}
