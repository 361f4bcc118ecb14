"""CON-3 (order preservation, readings O1 and O2) and DYN-1 derived for a separable regulariser
Ω(p) = Σᵢ g(pᵢ) on the capped simplex C_k = {p ∈ [0, 1]ⁿ : Σp = k}, 1 ≤ k < n (issue 23 §4, §6).

By the KKT conditions on C_k (proofs/user/capped.py; Blondel, Martins & Niculae, JMLR 2020,
§4) ŷᵢ = f(θᵢ − τ), f = G ∘ clip(·, g′(0⁺), g′(1⁻)), one τ with Σŷ = k: the simplex's map
(proofs/user/con.py) with a second flat piece, ŷᵢ = 1 for uᵢ = θᵢ − τ ≥ g′(1⁻), the cap.
Write d₀ = g′(0⁺), d₁ = g′(1⁻).

* **Counting the cap.**  If d₀ = −∞ every ŷⱼ > 0; c coordinates at the cap leave the other
  n − c ≥ 1 coordinates the mass k − c, each in (0, 1), so 0 < k − c: at most k − 1 coordinates
  are at the cap (none at k = 1).
* **O1** (the prediction map).  f is non-decreasing, so WOP for every k and n (the simplex
  code's step).  A tie θᵢ > θⱼ with ŷᵢ = ŷⱼ needs both in a flat piece: at 0 (d₀ finite; every
  k, n = k + 3: ŷ = (q, …, q, 0, 0), q = k/(k + 1)) or at the cap (d₁ finite; two coordinates at
  1, so k ≥ 3 when d₀ = −∞, k ≥ 2 otherwise; n = k + 1: ŷ = (1, 1, q′, …, q′), q′ = (k−2)/(k−1)).
  So: d₀ finite: WOP, not SOP, for every k; d₀ = −∞ and d₁ = ∞: SOP for every k; d₀ = −∞ and d₁
  finite: **SOP for k ≤ 2 only**, and for every k ≥ 3 two coordinates at the cap tie.
* **O2** (Bayes minimizers; y k-hot or in C_k, η = E y ∈ C_k).  R(θ) = L(θ; η) + const (FY-2 on
  C_k), so the minimizers are the θ with ŷ(θ) = η: uᵢ = g′(ηᵢ) on 0 < ηᵢ < 1, uᵢ ≤ d₀ at ηᵢ = 0,
  uᵢ ≥ d₁ at ηᵢ = 1.  ηᵢ > ηⱼ ⇒ θᵢ > θⱼ wherever attained (WOP); ties at 0 or at 1 split.  Where
  no minimizer is attained (d₀ = −∞ and η has zeros; d₁ = ∞ and η has ones) the limits are taken
  of u = θ − τ in the extended reals (the simplex rows' convention, uⱼ = g′(ŷⱼ)): zeros tie at −∞,
  ones at +∞.  So: d₀ finite: WOP, not SOP, every k; d₀ = −∞, d₁ = ∞: SOP every k; d₀ = −∞, d₁
  finite: **SOP at k = 1 only** -- at k ≥ 3 an attained minimizer splits two ones (the O1 witness,
  η := ŷ), and at k = 2 the minimizing sequence θᵗ = (d₁ + 1, d₁, −t, …, −t), η = (1, 1, 0, …, 0)
  has L(θᵗ; η) → 0 with θ₁ − θ₂ = 1 for every t (the other coordinates → −∞ by the counting
  above), a limit that splits the tie.  O1 and O2 differ at k = 2.  (With ones in η and
  d₁ = ∞, a representative normalised by max θ instead could keep two ones a fixed distance
  apart; the statement names the convention.)
* **DYN-1** (GD on a k-hot label y = 1_Y; ∇L = ŷ − y, FY-2).  A negative j gets ŷⱼ: zero iff
  uⱼ ≤ d₀ (off the support; never when d₀ = −∞) -- the simplex's claim, unchanged.  A labelled
  class i gets ŷᵢ − 1: zero iff uᵢ ≥ d₁ (at the cap; never when d₁ = ∞; when d₀ = −∞ at most
  k − 1 of them and none at k = 1).  The zero-gradient classes are those with ŷⱼ = yⱼ.

Reused by calling: the monotone step, the per-coordinate map and the minimizer's score
(``proofs.user.con``: ``_monotone``, ``coordinate_map``, ``minimizer_score``,
``negative_gradient``) and the capped map's region values (``proofs.user.capped.coordinate``),
so their planted defects reach these rows where a bug would.  :func:`labelled_gradient` is the
one hook of this module.  What is decided for concrete k (1, 2, 3) is exact; the identities in
k (Σŷ = k, q ∈ (0, 1)) are symbolic in k; the rest is the argument above, in the steps.
"""
from __future__ import annotations

import functools

import sympy as sp

from audit.markup import fit_line
from audit.separable import SeparableLoss

from . import capped as sym_cap
from . import con as sym_con
from . import fy as sym_fy
from ..derivation import Derivation
from .facts import SYMBOLIC, derive

K = sp.Symbol("k", positive=True, integer=True)
W = sp.Symbol("w", nonnegative=True)
U = sym_con.U
KS = (1, 2, 3)                          # the k every witness is also certified at, exactly
ON_CK = "$\\Omega$ on $C_k = \\{p \\in [0,1]^n : \\sum_i p_i = k\\}$, $1 \\le k < n$"


def ends(loss: SeparableLoss) -> tuple[sp.Expr, sp.Expr]:
    """(g′(0⁺), g′(1⁻)): where the map's flat pieces begin (``-oo``, ``oo``: none)."""
    f = derive(loss)
    return f["g'(0+)"].value, f["g'(1-)"].value


def sop_through(loss: SeparableLoss, reading: str) -> sp.Expr:
    """The largest k at which ``reading`` ("O1", "O2") is strictly order preserving on C_k:
    0 (at no k), 1, 2 or ``oo`` (every k) -- the module docstring's table."""
    if reading not in ("O1", "O2"):
        raise ValueError(f"reading must be 'O1' or 'O2', got {reading!r}")
    d0, d1 = ends(loss)
    if d0 != -sp.oo:
        return sp.Integer(0)
    if d1 == sp.oo:
        return sp.oo
    return sp.Integer(2 if reading == "O1" else 1)


def claim_words(m: sp.Expr) -> str:
    """The claim of :func:`sop_through`'s value, as the row's constants carry it."""
    return "SOP" if m == sp.oo else "WOP" if m == 0 else f"SOP for k <= {m}, WOP above"


def _sop_latex(m: sp.Expr) -> str:
    return ("SOP for every $k$" if m == sp.oo else "SOP for no $k$" if m == 0 else "SOP at $k = 1$ only" if m == 1 else
            f"SOP for $k \\le {m}$ only")


# -- witnesses: exact points of C_k with θᵢ > θⱼ, ŷᵢ = ŷⱼ in a flat piece ------------------

def zero_witness(loss: SeparableLoss, k: int) -> tuple[list, list, list]:
    """(θ, ŷ, regions), τ = 0, n = k + 3: ŷ = (q, …, q, 0, 0), q = k/(k + 1) (d₀ finite);
    the tie is the last two coordinates.  At k = 1 the simplex's witness."""
    d0, _ = ends(loss)
    g1, x = derive(loss).g1, loss.x
    q = sp.Integer(k) / (k + 1)
    m = k + 1
    return ([g1.subs(x, q)] * m + [d0, d0 - 1], [q] * m + [sp.S.Zero] * 2, ["free"] * m + ["zero"] * 2)


def cap_witness(loss: SeparableLoss, k: int) -> tuple[list, list, list]:
    """(θ, ŷ, regions), τ = 0, n = k + 1: ŷ = (1, 1, q′, …, q′), q′ = (k − 2)/(k − 1) (d₁ finite;
    k ≥ 3, or k = 2 with d₀ finite, where q′ = 0 sits at d₀); the tie is the first two."""
    d0, d1 = ends(loss)
    g1, x = derive(loss).g1, loss.x
    q = (sp.Integer(k) - 2) / (k - 1)
    rest = k - 1
    if q == 0:
        return [d1 + 1, d1, d0], [sp.S.One, sp.S.One, sp.S.Zero], ["cap", "cap", "zero"]
    return ([d1 + 1, d1] + [g1.subs(x, q)] * rest, [sp.S.One] * 2 + [q] * rest, ["cap", "cap"] + ["free"] * rest)


def certify(loss: SeparableLoss, theta: list, yhat: list, regions: list, score=None) -> bool:
    """ŷ is the map's output at θ (τ = 0) by the KKT conditions on C_k, region by region: free,
    g′(ŷᵢ) = θᵢ (``score``, the O2 hook, when given) with 0 < ŷᵢ < 1; at 0, θᵢ ≤ d₀ and the stated
    map's value 0; at the cap, θᵢ ≥ d₁ and its value 1 (``proofs.user.capped.coordinate``);
    Σŷ an integer k < n."""
    d0, d1 = ends(loss)
    g1, x = derive(loss).g1, loss.x
    for t, y, r in zip(theta, yhat, regions):
        if r == "free":
            want = g1.subs(x, y) if score is None else score(loss, y)
            inside = bool(sp.simplify(y).is_positive) and bool(sp.simplify(1 - y).is_positive)
            ok = sp.simplify(want - t) == 0 and inside
        else:
            end, value = (d0, 0) if r == "zero" else (d1, 1)
            past = (end - t) if r == "zero" else (t - end)
            ok = bool(sp.simplify(past).is_nonnegative) and sp.simplify(sym_cap.coordinate(r, t) - value) == 0
        if not ok:
            return False
    mass = sp.simplify(sum(yhat))
    return bool(mass.is_integer and 1 <= mass < len(yhat))


def _identities(d: Derivation, kind: str) -> bool:
    """Σŷ = k and q ∈ (0, 1) for a symbolic k (k ≥ 1 at 0; k = 3 + w at the cap)."""
    if kind == "zero":
        q = K / (K + 1)
        mass, inside = (K + 1) * q - K, [q, 1 - q]
    else:
        q = (K - 2) / (K - 1)
        mass, inside = 2 + (K - 1) * q - K, [e.subs(K, 3 + W) for e in (q, 1 - q)]
    ok = sp.simplify(mass) == 0 and all(sp.simplify(e).is_positive for e in inside)
    lowest = "1" if kind == "zero" else "3"
    d.step(f"Symbolic in $k$: $\\sum_i \\hat y_i - k = {sp.latex(sp.simplify(mass))}$ and $0 < q < 1$ (every "
           f"$k \\ge {lowest}$): {ok}.")
    return ok


def _witnesses(d: Derivation, loss: SeparableLoss, score=None) -> tuple[dict, bool]:
    """{"zero": [k …], "cap": [k …]} of the certified witnesses at k = 1, 2, 3 (each flat piece
    this g has), and whether every one that should exist was certified."""
    d0, d1 = ends(loss)
    found, complete = {}, True
    if d0 != -sp.oo:
        ok = _identities(d, "zero")
        ks = [k for k in KS if certify(loss, *zero_witness(loss, k), score=score)]
        theta, yhat, _ = zero_witness(loss, 1)
        d.step("A tie at 0 ($g'(0^+)$ finite), for every $k$: $n = k + 3$, $\\tau = 0$, $\\hat y = (q, \\dots, q, 0, "
               "0)$ with $k + 1$ entries $q = k/(k+1)$ at $\\theta_i = g'(q)$, and $\\theta_{n-1} = g'(0^+) > "
               "\\theta_n = g'(0^+) - 1$; at $k = 1$, $\\theta =$", sp.Matrix(theta).T)
        d.step(f"certified by the KKT conditions on $C_k$ at $k \\in \\{{1, 2, 3\\}}$: {ks}.")
        found["zero"] = ks
        complete = complete and ok and ks == list(KS)
        if ks != list(KS):
            d.step(f"The tie at 0 is not certified at $k \\in$ {[k for k in KS if k not in ks]}: the stated map does "
                   "not give these points (undecided).")
    if d1 != sp.oo:
        want = [k for k in KS if k >= (3 if d0 == -sp.oo else 2)]
        ok = _identities(d, "cap")
        ks = [k for k in want if certify(loss, *cap_witness(loss, k), score=score)]
        theta, _, _ = cap_witness(loss, 3)
        d.step("A tie at the cap ($g'(1^-)$ finite; two coordinates at 1, so $k \\ge 3$ when $g'(0^+) = -\\infty$, "
               "$k \\ge 2$ otherwise): $n = k + 1$, $\\tau = 0$, $\\hat y = (1, 1, q', \\dots, q')$, $q' = "
               "(k-2)/(k-1)$ at $\\theta_i = g'(q')$, $\\theta_1 = g'(1^-) + 1 > \\theta_2 = g'(1^-)$; at $k = 3$, "
               "$\\theta =$", sp.Matrix(theta).T)
        d.step(f"certified by the KKT conditions on $C_k$ (the stated map's value 1 at the cap) at $k \\in$ {want}: "
               f"{ks}.")
        found["cap"] = ks
        complete = complete and ok and ks == want
        if ks != want:
            d.step(f"The tie at the cap is not certified at $k \\in$ {[k for k in want if k not in ks]}: the stated "
                   "map does not give 1 there (undecided).")
    return found, complete


def _count_cap(d: Derivation, loss: SeparableLoss) -> None:
    d0, d1 = ends(loss)
    if d0 == -sp.oo and d1 != sp.oo:
        d.step("Counting the cap ($g'(0^+) = -\\infty$): every $\\hat y_j > 0$, so $c$ coordinates at 1 leave "
               "$n - c \\ge 1$ coordinates the mass $k - c > 0$: at most $k - 1$ coordinates are at the cap (none "
               "at $k = 1$).")


def _base(loss: SeparableLoss, statement: str, scope: str) -> tuple[Derivation, object]:
    f = derive(loss)
    how = f["g''>0 on (0,1)"].how
    d0, d1 = ends(loss)
    d = Derivation(statement=statement, scope=scope,
                   assumptions=[f"$g'' > 0$ on $(0, 1)$ ({'symbolic' if how == SYMBOLIC else 'beyond sympy'})",
                                ON_CK, "$\\hat y_i = G(\\operatorname{clip}(\\theta_i - \\tau, g'(0^+), g'(1^-)))$, "
                                "one threshold $\\tau$ with $\\sum_i \\hat y_i = k$ (KKT, FY-1 on $C_k$)"])
    if how != SYMBOLIC:
        d.gap = "strict convexity of $g$ rests on a check beyond sympy"
    d.step(f"The flat pieces of the map: $g'(0^+) = {sp.latex(d0)}$, $g'(1^-) = {sp.latex(d1)}$.")
    return d, f


def order_o1(loss: SeparableLoss, m: sp.Expr) -> Derivation:
    """O1 on C_k against the claim "SOP exactly for k ≤ m" (``m`` 0: for no k; ``oo``: every k),
    decided against :func:`sop_through` by the module docstring's argument."""
    d, f = _base(loss, f"{loss.name}'s prediction map on $C_k$ is weakly order preserving for every $k$, and "
                       f"{_sop_latex(m)}", "symbolic in $n$ and $\\theta$; witnesses symbolic in $k$, exact at "
                                          "$k = 1, 2, 3$")
    inc, _ = sym_con._monotone(d, loss, f)
    d.step("The same per-coordinate map on $C_k$: WOP for every $k$ and $n$ (only $\\tau$'s equation changes).")
    d0, d1 = ends(loss)
    _count_cap(d, loss)
    found, complete = _witnesses(d, loss)
    derived = sop_through(loss, "O1")
    if d0 == -sp.oo:
        d.step("$g'(0^+) = -\\infty$: no tie at 0; below the cap $G$ is strictly increasing, and a coordinate at the "
               "cap is above every other; so a tie needs two coordinates at the cap: "
               + ("never ($g'(1^-) = \\infty$): SOP for every $k$." if d1 == sp.oo else
                  "$k \\ge 3$ by the count: SOP for $k \\le 2$, not for $k \\ge 3$."))
    flat = " and at ".join(p for p, e in (("0", d0 != -sp.oo), ("the cap", d1 != sp.oo)) if e)
    d.summary = f"{loss.name} on $C_k$: WOP for every $k$, {_sop_latex(derived)}" + (f" (ties at {flat})" if flat and
                                                                                      derived != sp.oo else "")
    if inc is not True or not complete:
        return d.decide(None if inc is None or not complete else False)
    if m != derived and found.get("zero") and m != 0:
        theta, yhat, _ = zero_witness(loss, 1)
        d.counterexample = sym_con._witness_cx(theta, yhat)
    return d.decide(m == derived)


def _limit_split(d: Derivation, loss: SeparableLoss) -> bool:
    """k = 2, g′(0⁺) = −∞, g′(1⁻) finite: the minimizing sequence of the module docstring."""
    f = derive(loss)
    x, g, g1 = loss.x, loss.g, f.g1
    at0 = sp.limit(x * g1, x, 0, "+")
    g_one = sp.limit(g, x, 1, "-")
    at1 = sp.limit(g_one - g - g1 * (1 - x), x, 1, "-")
    d.step("$k = 2$: $\\eta = (1, 1, 0, \\dots, 0)$ is not attained ($\\hat y_j > 0$), and by the count at most one "
           "coordinate is at the cap.  Take $\\theta^t = (g'(1^-) + 1, g'(1^-), -t, \\dots, -t)$: $\\tau_t \\in (0, "
           "1)$ ($\\sum \\hat y - 2$ is $> 0$ at $\\tau = 0$ and $< 0$ at $\\tau = 1$ for large $t$), $\\hat y_1 = 1$, "
           "$\\hat y_j = G(-t - \\tau_t) \\to 0$ and $\\hat y_2 = 1 - \\sum_{j > 2} \\hat y_j \\to 1$.  "
           "$L(\\theta^t; \\eta)$ is $D_g(1, \\hat y_2) + \\sum_{j > 2} D_g(0, \\hat y_j)$ (the cap's term is 0), with")
    d.step("$\\lim_{q \\to 0^+} q\\,g'(q)$ (so $D_g(0, q) \\to 0$) $=$", at0)
    d.step("$\\lim_{q \\to 1^-} D_g(1, q) =$", at1)
    ok = at0 == 0 and at1 == 0
    d.step(f"both 0: {ok}; so $L \\to 0 = \\inf R - \\mathrm{{const}}$ while $\\theta_1 - \\theta_2 = 1$ for every "
           "$t$: the limit $u = (g'(1^-) + 1, g'(1^-), -\\infty, \\dots)$ splits the tie $\\eta_1 = \\eta_2$.")
    return ok


def order_o2(loss: SeparableLoss, m: sp.Expr, premise: str) -> Derivation:
    """O2 on C_k against "SOP exactly for k ≤ m" (as :func:`order_o1`); ``premise``: FY-2 on C_k's
    decision (the risk minimizers are the θ with ŷ(θ) = η)."""
    statement = (f"Every minimizer of {loss.name}'s conditional risk on $C_k$ (limits of $u = \\theta - \\tau$ in "
                 f"the extended reals where none is attained) has $\\eta_i > \\eta_j \\Rightarrow \\theta_i \\ge "
                 f"\\theta_j$; {_sop_latex(m)}")
    d, f = _base(loss, statement, "symbolic in $n$ and $\\eta$; witnesses symbolic in $k$, exact at $k = 1, 2, 3$; "
                                  "zeros and ones in the extended reals")
    d.step(f"Premise FY-2[user:{loss.name}] on $C_k$ ($R(\\theta; \\eta) = L(\\theta; \\eta) + \\mathrm{{const}}$, "
           f"$L \\ge 0$ with equality iff $\\hat y(\\theta) = \\eta$): {premise}")
    inc, _ = sym_con._monotone(d, loss, f)
    ei = sp.Symbol("eta_i", positive=True)
    score = sym_con.minimizer_score(loss, ei)
    kkt = sp.simplify(f.g1.subs(loss.x, ei) - score) == 0
    d.step("Where $0 < \\eta_i < 1$ a minimizer has $\\theta_i - \\tau =$", score)
    d.step(f"(the KKT condition at $\\hat y = \\eta$: {kkt}); at $\\eta_i = 0$, $\\theta_i - \\tau \\le g'(0^+)$; at "
           "$\\eta_i = 1$, $\\theta_i - \\tau \\ge g'(1^-)$.  So $\\eta_i > \\eta_j \\Rightarrow \\theta_i > "
           "\\theta_j$ at every attained minimizer ($\\ge$ in the limits): WOP for every $k$.")
    d0, d1 = ends(loss)
    _count_cap(d, loss)
    found, complete = _witnesses(d, loss, score=sym_con.minimizer_score)
    d.step("Each witness, with $\\eta := \\hat y(\\theta)$, is a minimizer of $R(\\cdot; \\eta)$ that splits a tie.")
    derived = sop_through(loss, "O2")
    if d0 == -sp.oo:
        d.step("$g'(0^+) = -\\infty$: on a minimizing sequence $\\hat y \\to \\eta$, so the zeros of $\\eta$ have "
               "$u_j = g'(\\hat y_j) \\to -\\infty$ (tied in the extended reals) and $0 < \\eta_i < 1$ has $u_i \\to "
               "g'(\\eta_i)$, ordered like $\\eta$.")
        if d1 == sp.oo:
            d.step("$g'(1^-) = \\infty$: the ones have $u_i = g'(\\hat y_i) \\to +\\infty$, tied: SOP for every $k$ "
                   "(in $u = \\theta - \\tau$; normalised by $\\max_i \\theta_i$ instead, two ones could stay apart).")
        else:
            complete = complete and _limit_split(d, loss)
            d.step("At $k = 1$ $\\eta$ has at most one 1 and the rest is the simplex's SOP; at $k \\ge 3$ the cap "
                   "witness is an attained split: SOP at $k = 1$ only (O1 is SOP up to $k = 2$).")
    d.summary = f"{loss.name} on $C_k$: risk minimizers WOP for every $k$, {_sop_latex(derived)}"
    if inc is not True or not complete or not kkt or premise != "holds":
        return d.decide(None if inc is None or premise != "holds" or (not complete and kkt) else False)
    return d.decide(m == derived)


def labelled_gradient(u: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """∂L/∂θᵢ of a labelled class (yᵢ = 1) at uᵢ = θᵢ − τ at or past the cap g′(1⁻) = ``hi``:
    ŷᵢ − 1 with ŷᵢ the stated map's value there (``proofs.user.capped.coordinate``)."""
    return sym_cap.coordinate("cap", u) - 1


def gradient_support(loss: SeparableLoss, dense: bool, capped: bool, premise: str) -> Derivation:
    """DYN-1 on C_k against the claim (``dense``: every negative keeps a gradient, else exactly
    the off-support ones lose it; ``capped``: a labelled class loses it exactly at the cap, else
    never); ``premise``: FY-2 on C_k's decision (∇L = ŷ − y)."""
    neg = ("every negative class gets a non-zero gradient at every finite $\\theta$" if dense else
           "a negative class gets exactly zero gradient iff it is outside the support of $\\hat y$")
    pos = ("a labelled class gets exactly zero gradient iff it is at the cap $\\hat y_i = 1$" if capped else
           "every labelled class keeps a non-zero gradient")
    d, f = _base(loss, f"On $C_k$ with a $k$-hot label, {loss.name}: {neg}; {pos}", "symbolic in $n$, $k$ and "
                 "$\\theta$")
    d.step(f"Premise FY-2[user:{loss.name}] on $C_k$ ($\\nabla_\\theta L = \\hat y - y$): {premise}; a negative's "
           "gradient is $\\hat y_j$, a labelled class's $\\hat y_i - 1$, each a function of $u = \\theta - \\tau$ "
           "alone.")
    G, _ = sym_con.inverse_function(loss)
    d0, d1 = ends(loss)
    c = sp.Symbol("c", positive=True)
    to_q = lambda e: e.replace(lambda a: isinstance(a, G), lambda a: sym_con.Q)   # noqa: E731
    grad = sym_con.negative_gradient(G, U, d0)
    inside = to_q(grad.subs(U, (d0 + c) if d0 != -sp.oo else U))
    pos_in = sp.simplify(inside.subs(sym_con.Q, sym_con.W / (1 + sym_con.W))).is_positive
    d.step("A negative on the support, $q = G(u_j) \\in (0, 1)$ below the cap (1 at it):", inside)
    if d0 == -sp.oo:
        neg_ok = bool(pos_in) and dense
        d.step(f"positive: {pos_in}; $g'(0^+) = -\\infty$: every negative is on the support.")
    else:
        off = sp.simplify(to_q(grad.subs(U, d0 - c)))
        at = sp.simplify(to_q(grad.subs(U, d0)))
        neg_ok = bool(pos_in) and off == 0 and at == 0 and not dense
        d.step(f"positive: {pos_in}; off the support ($u_j = g'(0^+) - c$, and at $c = 0$): ${sp.latex(off)}$, "
               f"${sp.latex(at)}$.")
    free = sym_con.Q - 1
    d.step("A labelled class below the cap: $\\hat y_i - 1 = q - 1 < 0$ for $q \\in (0, 1)$: "
           f"{sp.simplify(free.subs(sym_con.Q, sym_con.W / (1 + sym_con.W))).is_negative}.")
    if d1 == sp.oo:
        pos_ok = not capped
        d.step("$g'(1^-) = \\infty$: no cap, so every labelled class keeps $\\hat y_i - 1 < 0$.")
    else:
        at_cap = sp.simplify(labelled_gradient(d1 + c, d1))
        pos_ok = capped and at_cap == 0
        count = "; by the count at most $k - 1$ labelled classes at a time, none at $k = 1$."
        d.step(f"At the cap ($u_i = g'(1^-) + c$, $c \\ge 0$): $\\hat y_i - 1 = {sp.latex(at_cap)}$"
               + (count if d0 == -sp.oo else "."))
    which = (("no negative" if d0 == -sp.oo else "negatives off the support") + ", "
             + ("no labelled class" if d1 == sp.oo else "labelled classes at the cap"))
    d.summary = fit_line(f"{loss.name} on $C_k$: zero gradient iff $\\hat y_j = y_j$: {which}",
                         f"zero gradient on $C_k$ iff $\\hat y_j = y_j$: {which}")
    if pos_in is None or premise != "holds":
        return d.decide(None)
    return d.decide(neg_ok and pos_ok)


@functools.lru_cache(maxsize=32)
def _premise(loss: SeparableLoss, entry, coordinate, term) -> str:
    return sym_cap.properties_derivation(loss).decision


# keyed by what FY-2 on C_k reads that a planted defect patches (its own rows' defects): a planted
# run of these rows never meets a result computed under another patch, and the real one survives
_premise.keep_across_planted = True  # type: ignore[attr-defined]


def fy2_premise(loss: SeparableLoss) -> str:
    """FY-2 on C_k's decision for ``loss`` (proofs/user/capped.py): the premise of O2, DYN-1."""
    return _premise(loss, sym_fy.jacobian_entry, sym_cap.coordinate, sym_fy.conjugate_term)
