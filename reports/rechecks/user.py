"""Re-checks of the counterexamples of a user's loss (rows ``ID[user:NAME]``; issue 23).

Python's standard library only (``decimal`` at 100 digits, ``fractions``): the loss's g comes
from the row's constants as the JSON tree of ``audit.separable.SeparableLoss.tree`` (never
from the counterexample, never parsed by ``eval`` or sympy), and g′, g″ are evaluated by
second-order forward differentiation of that tree, a route of its own.

* FY-1 ``{theta, yhat, point, side, gain}``: the author's map at θ against a feasible point
  that beats its objective (:func:`recheck_fy1`).
* FY-3 ``{theta, y, side}`` against the row's margin μ (constants ``margin``: a decimal
  string, or None for "no margin"): whether ŷ(θ) = e_y is decided by the vertex's KKT
  certificate, e_y = argmax ⟨θ, p⟩ − Σ g(pᵢ) iff θ_y − θ_j ≥ g′(1⁻) − g′(0⁺) for every j ≠ y.
  The one-sided limits are g′ at 10⁻⁸⁰ and 1 − 10⁻⁸⁰, taken as infinite when g′ still moves
  by more than 10⁻⁶ (relative) between 10⁻⁶⁰ and 10⁻⁸⁰ (a power δ^r, r ≥ 1/4, moves by
  < 10⁻¹⁵ there; log δ by 46).  ``plus``: gap ≥ μ yet ŷ ≠ y; ``minus``: gap < μ yet ŷ = y;
  ``nomargin``: a row stating no margin, yet ŷ = y at a finite θ.
* CON-3 witnesses (:func:`recheck_sop_witness`): a row claiming WOP, θᵢ > θⱼ with ŷᵢ = ŷⱼ at the
  map's output by the KKT conditions (O2: η := ŷ, a Bayes minimizer).
* FY-4 ``{theta, yhat, lambda_max}`` against the row's ``bound`` (the claimed constant, or the
  upper end of the derived bracket; "inf" when no finite constant is claimed): ŷ is the map's
  output at θ by the KKT conditions (on the simplex; g′(ŷᵢ) = θᵢ − τ on the support, θᵢ − τ ≤
  g′(0⁺) off it), the Jacobian there is diag(s) − ssᵀ/Σs with s = 1/g″(ŷ) on the support
  (implicit differentiation), its largest eigenvalue (numpy) exceeds the bound and matches
  the stored λ_max to 10⁻⁴.
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


def recheck_fy3(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-3 of a user's loss (module docstring)."""
    constants = dict(constants or {})
    d0, d1 = one_sided(constants["tree"])
    theta = [Fraction(str(float(v))) for v in cx["theta"]]
    y = [int(round(float(v))) for v in cx["y"]]
    if sum(y) != 1 or len(y) != len(theta) or len(theta) < 2:
        raise ValueError("theta and a one-hot y of the same length ≥ 2 are needed")
    iy = y.index(1)
    gap = theta[iy] - max(t for i, t in enumerate(theta) if i != iy)
    is_y = d0 is not None and d1 is not None and Decimal(gap.numerator) / Decimal(gap.denominator) >= d1 - d0
    mu = constants.get("margin")
    side = cx["side"]
    shown = f"{reading}: gap {float(gap):.9g}, ŷ {'=' if is_y else '≠'} y (certificate margin " \
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
    """({i: (g, g′, g″) at ŷᵢ} on the support, "") when ŷ is the map's output at θ by the KKT
    conditions on the simplex -- g′(ŷᵢ) = θᵢ − τ with one τ on the support (to 10⁻⁸), θᵢ − τ ≤
    g′(0⁺) where ŷᵢ = 0 --, else (None, why)."""
    with localcontext() as c:
        c.prec = PREC
        duals = {i: _dual(tree, Decimal(repr(v))) for i, v in enumerate(yhat) if v > 0}
        taus = [Decimal(repr(theta[i])) - d[1] for i, d in duals.items()]
        d0, _ = one_sided(tree)
    tau = taus[0]
    if max(abs(t - tau) for t in taus) > Decimal("1e-8") * (1 + abs(tau)):
        return None, "yhat is not the map's output at theta (g'(yhat_i) - theta_i differ on the support)"
    off = [i for i, v in enumerate(yhat) if v == 0]
    if off and (d0 is None or any(Decimal(repr(theta[i])) - tau > d0 + Decimal("1e-8") for i in off)):
        return None, "a zero of yhat where theta_i - tau exceeds g'(0+)"
    return duals, ""


def recheck_fy4(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-4 of a user's loss (module docstring)."""
    import numpy as np

    constants = dict(constants or {})
    bound = constants["bound"]
    tree = constants["tree"]
    theta = [float(v) for v in cx["theta"]]
    yhat = [float(v) for v in cx["yhat"]]
    if len(theta) != len(yhat) or len(theta) < 2 or min(yhat) < 0 or abs(sum(yhat) - 1) > 1e-9:
        return False, f"{reading}: the stored yhat is not a point of the simplex"
    duals, why = _kkt(tree, theta, yhat)
    if duals is None:
        return False, f"{reading}: {why}"
    s = np.zeros(len(yhat))
    for i, d in duals.items():
        s[i] = float(1 / d[2])
    J = np.diag(s) - np.outer(s, s) / s.sum()
    lam = float(np.linalg.eigvalsh(J).max())
    stored = float(cx["lambda_max"])
    same = abs(lam - stored) <= 1e-4 * max(1.0, abs(lam))
    above = bound != "inf" and lam > float(bound) * (1 + 1e-9)
    return bool(above and same), (f"{reading}: lambda_max = {lam:.9g} at theta = {theta} (stored {stored:.9g}: "
                                  f"{'the same' if same else 'NOT the recomputed value'}), the row's bound {bound}")


def _objective(tree: list, theta: list, p: list) -> Decimal:
    """⟨θ, p⟩ − Σ g(pᵢ) at 100 digits; g at an end is its one-sided value (g at 10⁻⁸⁰ from inside)."""
    total = Decimal(0)
    for t, v in zip(theta, p):
        d = Decimal(repr(float(v)))
        at = Decimal("1e-80") if d <= 0 else (1 - Decimal("1e-80") if d >= 1 else d)
        total += Decimal(repr(float(t))) * d - _dual(tree, at)[0]
    return total


def recheck_fy1(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """FY-1 of a user's loss, the author's map against a feasible point: ``beats`` -- the
    stored point is in the simplex and its objective ⟨θ, p⟩ − Ω(p) (g from the row's tree, 100
    digits) exceeds the map's by more than 10⁻⁹ (1 + |objective|), matching the stored gain to
    10⁻⁶; ``infeasible`` -- the map's output has a negative entry or does not sum to 1."""
    constants = dict(constants or {})
    tree = constants["tree"]
    theta = [float(v) for v in cx["theta"]]
    yhat = [float(v) for v in cx["yhat"]]
    if len(theta) != len(yhat) or len(theta) < 2:
        raise ValueError("theta and yhat of the same length >= 2 are needed")
    off = abs(sum(Fraction(repr(v)) for v in yhat) - 1)
    if cx["side"] == "infeasible":
        bad = min(yhat) < 0 or off > Fraction(1, 10**12)
        return bool(bad), f"{reading}: the map's output sums to 1 - {float(off):.3g}, smallest entry {min(yhat):.3g}"
    if cx["side"] != "beats":
        raise ValueError(f"unknown FY-1 side {cx['side']!r}")
    point = [float(v) for v in cx["point"]]
    if len(point) != len(theta) or min(point) < 0 or abs(sum(Fraction(repr(v)) for v in point) - 1) > Fraction(1, 10**12):
        return False, f"{reading}: the stored point is not in the simplex"
    with localcontext() as c:
        c.prec = PREC
        mine, theirs = _objective(tree, theta, point), _objective(tree, theta, yhat)
        gain = mine - theirs
        enough = gain > Decimal("1e-9") * (1 + abs(mine))
        same = abs(gain - Decimal(repr(float(cx["gain"])))) <= Decimal("1e-6") * (abs(gain) + Decimal("1e-12"))
    return bool(enough and same), (f"{reading}: a feasible point beats the map's objective by {float(gain):.9g} at "
                                   f"theta = {theta} (stored {float(cx['gain']):.9g}: "
                                   f"{'the same' if same else 'NOT the recomputed gain'})")


def recheck_sop_witness(w: dict, reading: str = "", constants: dict | None = None,
                        check: str = "") -> tuple[bool, str]:
    """CON-3 of a user's loss: a witness that its map is not strictly order preserving, for a
    row whose ``claim`` is "WOP".  O1 ``{theta, i, j, yhat}``: θᵢ > θⱼ, ŷᵢ = ŷⱼ (to the row's
    ``tie_tolerance``) and ŷ the map's output at θ by the KKT conditions (:func:`_kkt`, g from
    the row's tree).  O2 ``{theta, eta, i, j}``: the same with ŷ := η (so θ minimizes the
    conditional risk of η, FY-2), ηᵢ = ηⱼ, and θᵢ − θⱼ at least the row's ``split``."""
    constants = dict(constants or {})
    if constants.get("claim") != "WOP":
        return False, f"{reading}: a witness against strict order preservation in a row claiming {constants.get('claim')}"
    o2 = reading.endswith("/O2")
    theta = [float(v) for v in w["theta"]]
    yhat = [float(v) for v in w["eta" if o2 else "yhat"]]
    i, j = int(w["i"]), int(w["j"])
    if len(theta) != len(yhat) or len(theta) < 2 or min(yhat) < 0 or abs(sum(yhat) - 1) > 1e-9:
        return False, f"{reading}: the stored {'eta' if o2 else 'yhat'} is not a point of the simplex"
    wide = theta[i] - theta[j] >= (float(constants["split"]) if o2 else 0) and theta[i] > theta[j]
    tie = abs(yhat[i] - yhat[j]) <= float(constants["tie_tolerance"])
    duals, why = _kkt(constants["tree"], theta, yhat)
    shown = (f"{reading}: theta_i - theta_j = {theta[i] - theta[j]:.6g}, yhat_i = {yhat[i]:.6g}, yhat_j = {yhat[j]:.6g}"
             + ("" if duals is not None else f"; {why}"))
    return bool(wide and tie and duals is not None), shown


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
