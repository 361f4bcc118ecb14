"""Re-checks of the counterexamples of a user's loss (rows ``ID[user:NAME]``; issue 23).

Python's standard library only (``decimal`` at 100 digits, ``fractions``): the loss's g comes
from the row's constants as the JSON tree of ``audit.separable.SeparableLoss.tree`` (never
from the counterexample, never parsed by ``eval`` or sympy), and g′, g″ are evaluated by
second-order forward differentiation of that tree, a route of its own.

The domain is the simplex Δ or the capped simplex C_k = {0 ≤ p ≤ 1, Σp = k} (C_1 = Δ).  **k**:
a row on C_k lists its k in ``constants["k"]`` and a record states its own ``k``, one of them
(a record without one is at k = 1; one at another k is refused); a simplex row is at k = 1.  A point
is in C_k when every entry is a finite number in [0, 1] and the exact sum is k (to 10⁻⁹; FY-1
10⁻¹²).  ŷ is *the map's output at θ* when the KKT conditions of argmax_{p ∈ C_k} ⟨θ, p⟩ −
Σ g(pᵢ) hold (:func:`_kkt`): one τ with g′(ŷᵢ) = θᵢ − τ where 0 < ŷᵢ < 1, θᵢ − τ ≤ g′(0⁺)
where ŷᵢ = 0, θᵢ − τ ≥ g′(1⁻) where ŷᵢ = 1 (Boyd & Vandenberghe 2004, §5.5.3; on Δ the
bound p ≤ 1 is implied and these are its own conditions).

* FY-1 ``{theta, yhat, point, side, gain, k}``: the author's map at θ against a point of C_k
  that beats its objective, or its output outside C_k (:func:`recheck_fy1`).
* FY-3 ``{theta, y, side, k}`` against the row's margin μ (constants ``margin``: a decimal
  string, or None for "no margin"): whether ŷ(θ) = y = 1_Y (k-hot) is decided by the vertex's
  KKT certificate, 1_Y = argmax iff min_{i∈Y} θᵢ − max_{j∉Y} θⱼ ≥ g′(1⁻) − g′(0⁺) (a τ between
  the two bounds exists).  The one-sided limits are g′ at 10⁻⁸⁰ and 1 − 10⁻⁸⁰, taken as infinite
  when g′ still moves by more than 10⁻⁶ (relative) between 10⁻⁶⁰ and 10⁻⁸⁰ (a power δ^r,
  r ≥ 1/4, moves by < 10⁻¹⁵ there; log δ by 46).  ``plus``: gap ≥ μ yet ŷ ≠ y; ``minus``:
  gap < μ yet ŷ = y; ``nomargin``: a row stating no margin, yet ŷ = y at a finite θ.
* CON-3 witnesses (:func:`recheck_sop_witness`): at a k where the row claims no strict order
  preservation, θᵢ > θⱼ with ŷᵢ = ŷⱼ at the map's output (O2: η := ŷ, a Bayes minimizer).
* FY-4 ``{theta, yhat, lambda_max, k}`` against the row's ``bound`` (the claimed constant, or
  the upper end of the derived bracket; "inf" when no finite constant is claimed): ŷ is the
  map's output at θ, the Jacobian there is diag(s) − ssᵀ/Σs with s = 1/g″(ŷ) on the free
  entries and 0 at 0 and 1 (implicit differentiation of the KKT conditions), its largest
  eigenvalue (numpy) exceeds the bound and matches the stored λ_max to 10⁻⁴.
"""
from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

PREC = 100
_OPS = {"x", "q", "e", "+", "*", "^", "log", "exp"}


def _dual(tree: list, x: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(g, g′, g″) of the tree at x: forward differentiation to second order."""
    if not isinstance(tree, list) or not tree or tree[0] not in _OPS:
        raise ValueError(f"not an expression tree: {str(tree)[:80]}")
    op, args = tree[0], tree[1:]
    zero = Decimal(0)
    if op == "x":
        return x, Decimal(1), zero
    if op == "q":
        q = Fraction(str(args[0]))
        return Decimal(q.numerator) / Decimal(q.denominator), zero, zero
    if op == "e":
        return Decimal(1).exp(), zero, zero
    parts = [_dual(a, x) for a in args]
    if op == "+":
        return (sum((p[0] for p in parts), zero), sum((p[1] for p in parts), zero), sum((p[2] for p in parts), zero))
    if op == "*":
        v, d1, d2 = parts[0]
        for w, e1, e2 in parts[1:]:
            v, d1, d2 = v * w, d1 * w + v * e1, d2 * w + 2 * d1 * e1 + v * e2
        return v, d1, d2
    if op == "exp":
        (a, a1, a2), = parts
        e = a.exp()
        return e, e * a1, e * (a2 + a1 * a1)
    if op == "log":
        (a, a1, a2), = parts
        return a.ln(), a1 / a, (a2 * a - a1 * a1) / (a * a)
    (b, b1, b2), (c, c1, c2) = parts                                   # "^": b ** c = exp(c log b)
    if c1 == 0 and c2 == 0:
        return b ** c, c * b ** (c - 1) * b1, c * (c - 1) * b ** (c - 2) * b1 * b1 + c * b ** (c - 1) * b2
    lb = (b.ln(), b1 / b, (b2 * b - b1 * b1) / (b * b))
    e = (c * lb[0], c1 * lb[0] + c * lb[1], c2 * lb[0] + 2 * c1 * lb[1] + c * lb[2])
    v = e[0].exp()
    return v, v * e[1], v * (e[2] + e[1] * e[1])


def one_sided(tree: list) -> tuple[Decimal | None, Decimal | None]:
    """g′(0⁺) and g′(1⁻), None where infinite (module docstring)."""
    with localcontext() as c:
        c.prec = PREC
        out = []
        for near in (lambda d: d, lambda d: 1 - d):
            a, b = _dual(tree, near(Decimal("1e-60")))[1], _dual(tree, near(Decimal("1e-80")))[1]
            out.append(b if abs(a - b) <= Decimal("1e-6") * (1 + abs(b)) else None)
        return out[0], out[1]


def _k_of(rec: dict, constants: dict, n: int) -> int:
    """The k a record is at (module docstring, "k"): its ``k``, 1 where it states none (the
    simplex's records, and the symbolic routes' at k = 1); one of the row's ``constants["k"]``
    on C_k, 1 on the simplex (a row without ``k``).  1 ≤ k < n."""
    k = rec.get("k", 1)
    if not isinstance(k, int) or isinstance(k, bool):
        raise ValueError(f"the record's k = {k!r} is not an integer")
    ks = constants.get("k")
    if k not in ([1] if ks is None else [int(v) for v in ks]):
        raise ValueError(f"the record's k = {k} is not one of the row's k "
                         f"({'the simplex' if ks is None else list(ks)})")
    if not 1 <= k < n:
        raise ValueError(f"k = {k} outside 1 <= k < n = {n}")
    return k


def _in_ck(p: list, k: int, tol: Fraction) -> bool:
    """p ∈ C_k = {0 ≤ p ≤ 1, Σp = k}: every entry a number in [0, 1], |Σp − k| ≤ tol (the exact sum
    of the decimals as stored)."""
    if not all(isinstance(v, float) and 0 <= v <= 1 for v in p):      # a nan compares false
        return False
    return abs(sum(Fraction(repr(v)) for v in p) - k) <= tol


def recheck_fy3(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-3 of a user's loss (module docstring)."""
    constants = dict(constants or {})
    d0, d1 = one_sided(constants["tree"])
    theta = [Fraction(str(float(v))) for v in cx["theta"]]
    y = [int(round(float(v))) for v in cx["y"]]
    k = _k_of(cx, constants, len(theta))
    if len(y) != len(theta) or any(v not in (0, 1) for v in y) or sum(y) != k:
        raise ValueError(f"theta and a {k}-hot y of the same length are needed")
    gap = min(t for t, v in zip(theta, y) if v) - max(t for t, v in zip(theta, y) if not v)
    is_y = d0 is not None and d1 is not None and Decimal(gap.numerator) / Decimal(gap.denominator) >= d1 - d0
    mu = constants.get("margin")
    side = cx["side"]
    shown = f"{reading}: k = {k}, gap {float(gap):.9g}, ŷ {'=' if is_y else '≠'} y (certificate margin " \
            f"{'none' if d0 is None or d1 is None else f'{float(d1 - d0):.9g}'})"
    if side == "nomargin":
        return bool(mu is None and is_y), shown + " against a row stating no margin"
    if mu is None:
        return False, shown + f": a {side!r} counterexample for a row stating no margin"
    mu = Fraction(str(mu))
    if side == "plus":
        return bool(gap >= mu and not is_y), shown + f", the row's margin {float(mu):.9g} (the claim: ŷ = y)"
    if side == "minus":
        return bool(gap < mu and is_y), shown + f", the row's margin {float(mu):.9g} (the claim: ŷ ≠ y)"
    raise ValueError(f"unknown FY-3 side {side!r}")


def _kkt(tree: list, theta: list, yhat: list) -> tuple[dict | None, str]:
    """({i: (g, g′, g″) at ŷᵢ} on the free entries 0 < ŷᵢ < 1, "") when ŷ (a point of C_k, the
    caller's check) is the map's output at θ by the KKT conditions on C_k -- one τ with
    g′(ŷᵢ) = θᵢ − τ on the free entries (to 10⁻⁸(1 + |τ|)), θᵢ − τ ≤ g′(0⁺) where ŷᵢ = 0,
    θᵢ − τ ≥ g′(1⁻) where ŷᵢ = 1 (an infinite end admits no entry there); with no free entry,
    the interval [max(θᵢ − g′(0⁺)), min(θᵢ − g′(1⁻))] the ends leave τ in is non-empty (to 10⁻⁸)
    --, else (None, why).  On the simplex (k = 1) p ≤ 1 is implied and the conditions are its own."""
    with localcontext() as c:
        c.prec = PREC
        th = [Decimal(repr(float(t))) for t in theta]
        free = {i: _dual(tree, Decimal(repr(v))) for i, v in enumerate(yhat) if 0 < v < 1}
        d0, d1 = one_sided(tree)
        zeros = [i for i, v in enumerate(yhat) if v == 0]
        ones = [i for i, v in enumerate(yhat) if v == 1]
        if zeros and d0 is None:
            return None, "a zero of yhat where g'(0+) = -inf (the map has none)"
        if ones and d1 is None:
            return None, "an entry 1 of yhat where g'(1-) = +inf (the map has none)"
        lo = max((th[i] - d0 for i in zeros), default=None)             # τ ≥ θᵢ − g′(0⁺) at a zero
        hi = min((th[i] - d1 for i in ones), default=None)              # τ ≤ θᵢ − g′(1⁻) at a one
        if not free:
            if lo is not None and hi is not None and lo > hi + Decimal("1e-8") * (1 + abs(hi)):
                return None, "no tau: a zero's theta_i - g'(0+) exceeds a one's theta_i - g'(1-)"
            return free, ""
        taus = [th[i] - d[1] for i, d in free.items()]
        tau = taus[0]
        tol = Decimal("1e-8") * (1 + abs(tau))
        if max(abs(t - tau) for t in taus) > tol:
            return None, "yhat is not the map's output at theta (g'(yhat_i) - theta_i differ on the free entries)"
        if lo is not None and lo > tau + tol:
            return None, "a zero of yhat where theta_i - tau exceeds g'(0+)"
        if hi is not None and hi < tau - tol:
            return None, "an entry 1 of yhat where theta_i - tau is below g'(1-)"
    return free, ""


def recheck_fy4(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-4 of a user's loss (module docstring)."""
    import numpy as np

    constants = dict(constants or {})
    bound = constants["bound"]
    tree = constants["tree"]
    theta = [float(v) for v in cx["theta"]]
    yhat = [float(v) for v in cx["yhat"]]
    if len(theta) != len(yhat) or len(theta) < 2:
        raise ValueError("theta and yhat of the same length >= 2 are needed")
    k = _k_of(cx, constants, len(theta))
    if not _in_ck(yhat, k, Fraction(1, 10**9)):
        return False, f"{reading}: the stored yhat is not a point of C_{k}"
    duals, why = _kkt(tree, theta, yhat)
    if duals is None:
        return False, f"{reading}: {why} (k = {k})"
    s = np.zeros(len(yhat))
    for i, d in duals.items():
        s[i] = float(1 / d[2])
    J = np.diag(s) - (np.outer(s, s) / s.sum() if s.sum() > 0 else 0)
    lam = float(np.linalg.eigvalsh(J).max())
    stored = float(cx["lambda_max"])
    same = abs(lam - stored) <= 1e-4 * max(1.0, abs(lam))
    above = bound != "inf" and lam > float(bound) * (1 + 1e-9)
    return bool(above and same), (f"{reading}: lambda_max = {lam:.9g} at k = {k}, theta = {theta} (stored "
                                  f"{stored:.9g}: {'the same' if same else 'NOT the recomputed value'}), the row's "
                                  f"bound {bound}")


def _objective(tree: list, theta: list, p: list) -> Decimal:
    """⟨θ, p⟩ − Σ g(pᵢ) at 100 digits; g at an end is its one-sided value (g at 10⁻⁸⁰ from inside)."""
    total = Decimal(0)
    for t, v in zip(theta, p):
        d = Decimal(repr(float(v)))
        at = Decimal("1e-80") if d <= 0 else (1 - Decimal("1e-80") if d >= 1 else d)
        total += Decimal(repr(float(t))) * d - _dual(tree, at)[0]
    return total


def recheck_fy1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-1 of a user's loss, the author's map against a feasible point, at the record's k (C_1 = Δ):
    ``beats`` -- the stored point is in C_k (|Σ − k| ≤ 10⁻¹², the decimals summed exactly) and its
    objective ⟨θ, p⟩ − Ω(p) (g from the row's tree, 100 digits) exceeds the map's by more than
    10⁻⁹ (1 + |objective|), so the map's output is not the argmax over C_k; the stored gain agrees
    to 10⁻⁶ of it plus 10⁻¹² (1 + |objective|) (the suite evaluates it in float64); ``infeasible``
    -- the map's output has an entry outside [0, 1] or does not sum to k (10⁻¹²), while the stored
    point is in C_k (10⁻⁹: it ties the record to its k)."""
    constants = dict(constants or {})
    tree = constants["tree"]
    theta = [float(v) for v in cx["theta"]]
    yhat = [float(v) for v in cx["yhat"]]
    if len(theta) != len(yhat) or len(theta) < 2:
        raise ValueError("theta and yhat of the same length >= 2 are needed")
    k = _k_of(cx, constants, len(theta))
    tol = Fraction(1, 10**12)
    if cx["side"] == "infeasible":
        # the stored point (the certified argmax) ties the record to its k: a record moved to another k is refused
        if not _in_ck([float(v) for v in cx["point"]], k, Fraction(1, 10**9)):
            return False, f"{reading}: the stored point is not in C_{k}: the record is not at k = {k}"
        bad = not _in_ck(yhat, k, tol)
        return bool(bad), (f"{reading}: the map's output at k = {k} has entries in [{min(yhat):.3g}, {max(yhat):.3g}] "
                           f"and sum {sum(yhat):.15g}" + ("" if bad else ": a point of C_k"))
    if cx["side"] != "beats":
        raise ValueError(f"unknown FY-1 side {cx['side']!r}")
    point = [float(v) for v in cx["point"]]
    if len(point) != len(theta) or not _in_ck(point, k, tol):
        return False, f"{reading}: the stored point is not in C_{k}"
    with localcontext() as c:
        c.prec = PREC
        mine, theirs = _objective(tree, theta, point), _objective(tree, theta, yhat)
        gain = mine - theirs
        enough = gain > Decimal("1e-9") * (1 + abs(mine))
        same = abs(gain - Decimal(repr(float(cx["gain"])))) <= Decimal("1e-6") * abs(gain) + Decimal("1e-12") * (
            1 + abs(mine))
    return bool(enough and same), (f"{reading}: a point of C_{k} beats the map's objective by {float(gain):.9g} at "
                                   f"theta = {theta} (stored {float(cx['gain']):.9g}: "
                                   f"{'the same' if same else 'NOT the recomputed gain'})")


def _not_sop_at(constants: dict, k: int) -> bool:
    """Does the row claim that its map is not strictly order preserving at k?  ``claim`` "WOP"
    (at no k), or a capped row's "SOP for k <= m, WOP above" with ``sop_through_k`` m < k."""
    if constants.get("claim") == "WOP":
        return True
    m = constants.get("sop_through_k")
    return "k" in constants and isinstance(m, int) and not isinstance(m, bool) and k > m


def _one_witness(w: dict, reading: str, constants: dict) -> tuple[bool, str]:
    o2 = reading.endswith("/O2")
    theta = [float(v) for v in w["theta"]]
    yhat = [float(v) for v in w["eta" if o2 else "yhat"]]
    i, j = int(w["i"]), int(w["j"])
    if len(theta) != len(yhat) or len(theta) < 2:
        raise ValueError("theta and yhat of the same length >= 2 are needed")
    k = _k_of(w, constants, len(theta))
    if not _not_sop_at(constants, k):
        return False, (f"{reading}: a witness at k = {k} against strict order preservation in a row claiming "
                       f"{constants.get('claim')}")
    if not _in_ck(yhat, k, Fraction(1, 10**9)):
        return False, f"{reading}: the stored {'eta' if o2 else 'yhat'} is not a point of C_{k}"
    wide = theta[i] - theta[j] >= (float(constants["split"]) if o2 else 0) and theta[i] > theta[j]
    tie = abs(yhat[i] - yhat[j]) <= float(constants["tie_tolerance"])
    duals, why = _kkt(constants["tree"], theta, yhat)
    shown = (f"{reading}: k = {k}, theta_i - theta_j = {theta[i] - theta[j]:.6g}, yhat_i = {yhat[i]:.6g}, "
             f"yhat_j = {yhat[j]:.6g}" + ("" if duals is not None else f"; {why}"))
    return bool(wide and tie and duals is not None), shown


def recheck_sop_witness(w: dict, reading: str = "", constants: dict | None = None,
                        check: str = "") -> tuple[bool, str]:
    """CON-3 of a user's loss: a witness that its map is not strictly order preserving at the
    record's k (C_1 = Δ), for a row claiming so there (:func:`_not_sop_at`).  O1
    ``{theta, i, j, yhat, k}``: θᵢ > θⱼ, ŷᵢ = ŷⱼ (to the row's ``tie_tolerance``) and ŷ the
    map's output at θ on C_k by the KKT conditions (:func:`_kkt`, g from the row's tree).  O2
    ``{theta, eta, i, j, k}``: the same with ŷ := η (so θ minimizes the conditional risk of η,
    FY-2), ηᵢ = ηⱼ, and θᵢ − θⱼ at least the row's ``split``.  A row on C_k stores
    ``{"witnesses": [record, …]}``, one per k where it claims no SOP: each must re-check."""
    constants = dict(constants or {})
    try:
        if "witnesses" not in w:
            return _one_witness(w, reading, constants)
        found = [_one_witness(x, reading, constants) for x in w["witnesses"]]
    except (KeyError, TypeError, ValueError, IndexError) as exc:     # a malformed witness does not re-check
        return False, f"{reading}: malformed witness: {exc!r}"
    return bool(found) and all(ok for ok, _ in found), " | ".join(m for _, m in found) or f"{reading}: no witness"


#: claim id -> re-check of a ``[user:NAME]`` row
RECHECKERS = {"FY-1": recheck_fy1, "FY-3": recheck_fy3, "FY-4": recheck_fy4}


def recheck_con2(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """CON-2 of a user's loss ``{D, theta, pair, regret}`` against the row's ``label_map`` (L1 or
    L2), ``gain_base`` and ``tree``: θ is a Bayes point of D -- q exact from D (``rechecks/con.py``),
    one τ with g′(qᵢ) = θᵢ − τ on the support (10⁻⁸ relative, g′ of the tree at 100 digits), and
    θⱼ − τ ≤ g′(0⁺) where qⱼ = 0 (g′(10⁻¹²) where g′(0⁺) = −∞: ŷⱼ ≤ 10⁻¹²) --; the worst ranking
    that sorts θ (exact ties every way) loses more than 10⁻⁶ of E[DCG] against the best, that
    loss is the stored regret, and the stored pair has E[G]ᵢ > E[G]ⱼ with θᵢ ≤ θⱼ."""
    import numpy as np

    from .con import FIGURE_TOL, REGRET_TOL, _dcg_range, _target

    c = dict(constants or {})
    label_map, base, tree = c["label_map"], int(c["gain_base"]), c["tree"]
    if label_map not in ("L1", "L2") or (reading and not reading.endswith(f"/{label_map}")):
        return False, f"{reading}: the row's label map {label_map!r} is not its reading's"
    D = [(Fraction(a["p"]).limit_denominator(10 ** 6), [int(x) for x in a["r"]]) for a in cx["D"]]
    tot = sum(p for p, _ in D)
    D = [(p / tot, r) for p, r in D]
    q = _target(D, label_map, base)
    theta = [float(v) for v in cx["theta"]]
    if len(theta) != len(q) or len(q) < 2:
        return False, f"{reading}: theta of length {len(theta)} for n = {len(q)}"
    with localcontext() as ctx:
        ctx.prec = PREC
        th = [Decimal(repr(v)) for v in theta]
        taus = [th[i] - _dual(tree, Decimal(v.numerator) / Decimal(v.denominator))[1] for i, v in enumerate(q) if v > 0]
        tau = taus[0]
        d0, _ = one_sided(tree)
        floor = d0 + Decimal("1e-8") if d0 is not None else _dual(tree, Decimal("1e-12"))[1]
        one = max(abs(t - tau) for t in taus) <= Decimal("1e-8") * (1 + abs(tau))
        zeros = all(th[i] - tau <= floor for i, v in enumerate(q) if v == 0)
    if not (one and zeros):
        return False, f"{reading}: theta is not a Bayes point of D (q = {[str(v) for v in q]}; KKT conditions fail)"
    g = np.array([float(sum(p * (base ** r[i] - 1) for p, r in D)) for i in range(len(q))])
    best, worst = _dcg_range(g, np.array(theta))
    regret, stored = best - worst, float(cx["regret"])
    i, j = (int(x) for x in cx["pair"])
    ok = (regret > REGRET_TOL and abs(stored - regret) <= FIGURE_TOL * (1 + regret) and g[i] > g[j]
          and theta[i] <= theta[j])
    return bool(ok), (f"{reading}: the worst sorting of the Bayes point loses {regret:.6g} of E[DCG] (stored "
                      f"{stored:.6g}), pair ({i}, {j}) with E[G] {g[i]:.6g} > {g[j]:.6g}")


RECHECKERS["CON-2"] = recheck_con2
