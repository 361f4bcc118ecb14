"""FY-4: the Lipschitz constant of ∇L = ŷ − y, i.e. sup_θ λ_max(J_ŷ(θ))."""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from audit.members import member

from ..derivation import Derivation
from .hessians import jacobian, stated_hessian
from .identities import idempotent_identity, variance_identity
from ..kkt import eq, ALPHA, TAU, all_true, check_loss, decide_zero, solve_case

ALPHA_RANGES = ("le2", "gt2")
T = sp.Symbol("t", positive=True)  # p = (t, 1 − t)
U = sp.Symbol("u", positive=True)  # u = 1 − t
BETA = sp.Symbol("beta", nonnegative=True)  # β = 2 − α ∈ [0, 1) for 1 < α ≤ 2
M = sp.Symbol("m", positive=True, integer=True)  # uniform support size


def _lmax(matrix: sp.Matrix) -> sp.Expr:
    return sp.Max(*matrix.eigenvals().keys())


def two_point_eigenvalue() -> tuple[bool | None, sp.Expr]:
    """Non-zero eigenvalue of diag(s) − ssᵀ/Σs for two support points (sympy eigenvals)."""
    s1, s2 = sp.symbols("s_1 s_2", positive=True)
    H = sp.Matrix([[s1, 0], [0, s2]]) - sp.Matrix([s1, s2]) * sp.Matrix([[s1, s2]]) / (s1 + s2)
    evs = [sp.simplify(e) for e in H.eigenvals()]
    nz = [e for e in evs if e != 0]
    ok = len(evs) == 2 and 0 in evs and len(nz) == 1
    harm = 2 * s1 * s2 / (s1 + s2)
    return (all_true([ok, decide_zero(None, nz[0] - harm)]) if nz else None), harm


def entmax_two_point_max() -> tuple[bool | None, sp.Expr, list[str]]:
    """max_t of 2 s₁s₂/(s₁+s₂), s = (t^β, (1−t)^β): h = 2/f, f(t) = t^{−β} + (1−t)^{−β}
    is convex (f'' ≥ 0) and f'(½) = 0, so the max is at t = ½: h(½) = 2^{−β} = 2^{α−2}."""
    _, harm = two_point_eigenvalue()
    s1, s2 = sp.symbols("s_1 s_2", positive=True)
    t = sp.Symbol("t", positive=True)
    h = harm.subs({s1: t**BETA, s2: (1 - t) ** BETA})
    f = t ** (-BETA) + (1 - t) ** (-BETA)
    ok_form = decide_zero(None, sp.simplify(h - 2 / f))
    f2 = sp.diff(f, t, 2).subs(1 - t, U)
    convex = sp.simplify(f2).is_nonnegative
    stat = decide_zero(None, sp.diff(f, t).subs(t, sp.Rational(1, 2)))
    hmax = sp.simplify(sp.powsimp((2 / f).subs(t, sp.Rational(1, 2)), force=True))
    ok_val = decide_zero(None, hmax - 2 ** (-BETA))
    steps = [eq("f''(t)", f2), eq(r"h_{\max}", hmax)]
    return all_true([ok_form, convex, stat, ok_val]), hmax.subs(BETA, 2 - ALPHA), steps


def uniform_eigenvalue() -> tuple[bool | None, sp.Expr]:
    """Uniform support of size m: p_i = 1/m, s = m^{α−2}, Σs = m·s, so
    J = s (I − 11ᵀ/m); I − 11ᵀ/m has eigenvalues {0, 1} (sympy for m = 2..5) ⇒ λ_max = m^{α−2}."""
    s = (1 / M) ** (2 - ALPHA)
    diag_entry = s - s * s / (M * s)
    off_entry = -s * s / (M * s)
    ok = all_true([decide_zero(None, diag_entry - s * (1 - 1 / M)), decide_zero(None, off_entry + s / M)])
    evs_ok = all(set((sp.eye(m) - sp.ones(m, m) / m).eigenvals()) == {0, 1} for m in range(2, 6))
    return all_true([ok, evs_ok]), sp.powsimp(sp.expand_power_base(s, force=True), force=True)


def entmax_lipschitz(alpha) -> float:
    """The derived constant 2^{α−2} (two-point support maximum) evaluated at ``alpha``."""
    _, hmax, _ = entmax_two_point_max()
    return float(hmax.subs(ALPHA, sp.nsimplify(alpha)))


def entmax_gt2_counterexample(alpha=3, n=3) -> dict:
    """θ = 0 with α > 2: ŷ is uniform, λ_max(J_ŷ) = n^{α−2} computed by sympy from the KKT case."""
    c = solve_case("entmax", n, tuple(range(n)), (), ())
    a = sp.Integer(alpha)
    sub = {t: 0 for t in c.theta}
    G = c.constraint.subs(sub).subs(ALPHA, a)
    taus = [r for r in sp.solve(G, TAU) if r.is_real]
    tau = taus[0]
    J = jacobian(c).subs(sub).subs(ALPHA, a).subs(TAU, tau)
    J = J.applyfunc(sp.simplify)
    lm = _lmax(J)
    return {"alpha": int(alpha), "n": n, "theta": [0] * n, "tau": sp.nsimplify(tau),
            "lambda_max": int(lm) if lm.is_integer else float(lm)}


def check_smoothness(loss: str, constant, alpha_range: str = "le2") -> bool | None:
    """Decide ``constant`` == the derived Lipschitz constant of ∇L (entmax: symbolic in α)."""
    check_loss(loss)
    constant = sp.sympify(constant, locals={"alpha": ALPHA})
    L = member(loss)
    if L.dense:  # _softmax_sup is the supremum of g = p log p, the one dense member
        derived = _softmax_sup()[1]
    elif L.quadratic:
        derived = _projection_sup(loss)[1]
    else:
        derived = entmax_two_point_max()[1]
    return decide_zero(None, constant - derived)


def _softmax_sup() -> tuple[bool | None, sp.Expr, list[str]]:
    """Two-point p = (t, 1−t): eigenvalue 2t(1−t), max ½ at t = ½ (attained at θ = (0, 0);
    approached as θ_3.. → −∞ for n ≥ 3).  Upper bound for any n, unit x:
    xᵀ(diag p − ppᵀ)x = Var_p(x) ≤ (max x − min x)²/4 ≤ 2/4."""
    t = sp.Symbol("t", real=True)
    H = sp.Matrix([[t, 0], [0, 1 - t]]) - sp.Matrix([t, 1 - t]) * sp.Matrix([[t, 1 - t]])
    evs = [sp.factor(e) for e in H.eigenvals()]
    nz = [e for e in evs if e != 0][0]
    (t_star,) = sp.solve(sp.diff(nz, t), t)
    concave = sp.diff(nz, t, 2).is_negative
    val = nz.subs(t, t_star)
    # Popoviciu: with c = (M+m)/2, Var = Σp(x−c)² − (Σpx − c)² ≤ Σp(x−c)², and ((M−m)/2)² − (x−c)² = (M−x)(x−m)
    x, Mx, mx = sp.symbols("x M m", real=True)
    c = (Mx + mx) / 2
    pop = decide_zero(None, ((Mx - mx) / 2) ** 2 - (x - c) ** 2 - (Mx - x) * (x - mx))
    var_id = variance_identity().ok  # Var_p(x) = Σp(x − c)² − (Σpx − c)², sums of symbolic length
    a, b = sp.symbols("a b", real=True)
    range_bound = decide_zero(None, 2 * (a**2 + b**2) - (a - b) ** 2 - (a + b) ** 2)
    # n = 3 check at p = (½, ½, 0)
    c3 = solve_case("softmax", 3, (0, 1, 2))
    Hh = stated_hessian(c3)
    pt = sp.Matrix(3, 3, lambda i, j: Hh[i, j]).subs({sp.exp(c3.theta[2]): 0, sp.exp(c3.theta[0]): 1,
                                                      sp.exp(c3.theta[1]): 1})
    lm3 = _lmax(pt)
    steps = [eq(r"\lambda_{\max}", nz), sp.latex(sp.Eq(t, t_star)),
             eq(r"\lambda_{\max}(p=(\frac12,\frac12,0))", lm3)]
    ok = all_true([concave, pop, var_id, range_bound, decide_zero(None, lm3 - val)])
    return ok, val, steps


def _projection_sup(loss: str) -> tuple[bool | None, sp.Expr, str]:
    """J = I_F − 11ᵀ/|F| is an orthogonal projection for every |F| (symmetric, and
    idempotent by a sympy sum over a free set of symbolic size): eigenvalues {0, 1}; 1 is
    attained once |F| ≥ 2 (sparsemax θ = (0, 0); rankmax n = 4, k = 2, θ = 0)."""
    if member(loss).capped:  # θ = 0 on C_k: ŷ = k/n, all free (n = 4, k = 2 as in _WITNESS)
        c = solve_case(loss, 4, (0, 1, 2, 3), (), (), k=2)
    else:
        c = solve_case(loss, 2, (0, 1), (), ())
    J = jacobian(c)
    idem = all(decide_zero(None, e) for e in (J * J - J))
    sym = J == J.T
    lm = _lmax(J)
    return all_true([idem, sym, idempotent_identity().ok]), lm, sp.latex(J)


#: the constant each row states (CLAIMS.md FY-4); for α > 2 the claim is the range [½, 1]
STATED = {"softmax": sp.Rational(1, 2), "sparsemax": sp.S.One, "rankmax": sp.S.One, "entmax": 2 ** (ALPHA - 2)}
GT2_UPPER = sp.S.One  # "between softmax's ½ and sparsemax's 1", read for α > 2
_WITNESS = {"softmax": ([0.0, 0.0], {}), "sparsemax": ([0.0, 0.0], {}), "rankmax": ([0.0, 0.0, 0.0, 0.0], {"k": 2}),
            "entmax": ([0.0, 0.0], {"alpha": 1.5})}
ENTMAX_GAP = ("general supports: the symbolic supremum covers two-point and uniform supports only (supports of "
              r"three or more points with unequal $\hat y$ values are searched numerically, not derived)")


_UNIFORM_STEP = (r"Uniform support of size $m$: $J = m^{\alpha-2}(I - \mathbf{1}\mathbf{1}^\top/m)$, so")


def _compare(d: Derivation, loss: str, derived: sp.Expr, claimed: sp.Expr, ok: bool | None) -> Derivation:
    """holds: the claimed constant equals the derived supremum; fails (with a witness θ where
    λ_max = derived supremum > claimed): claimed too small; undecided: claimed larger than
    the derived supremum -- an upper bound is refuted by a proof, not by a finite witness."""
    same = decide_zero(None, claimed - derived)
    d.step("The claimed constant against the derived supremum:", sp.Eq(sp.Symbol("L_claimed"), claimed))
    if ok is not True or same is True:
        return d.decide(all_true([ok, same]))
    at = {ALPHA: sp.Rational(3, 2)}
    c, m = sp.N(claimed.subs(at)), sp.N(derived.subs(at))
    if same is False and c.is_number and m.is_number and c < m:
        theta, params = _WITNESS[loss]
        d.counterexample = {"theta": theta, **params, "lambda_max": float(m), "claimed": float(c), "source": "symbolic"}
        d.step(f"The claimed constant ${sp.latex(claimed)}$ is below the supremum, attained at "
               f"$\\theta = ({', '.join(f'{v:g}' for v in theta)})$"
               + (r" ($\alpha = 3/2$)" if member(loss).tsallis else "") + ".")
        return d.decide(False)
    d.step("The claimed constant is not the derived supremum but not below it either: undecided.")
    return d.decide(None)


def _build_smoothness(loss: str, alpha_range: str, claimed) -> Derivation:
    d = Derivation(statement="", scope="", assumptions=[r"$\theta \in \mathbb{R}^n$ finite",
                                                        r"$y$ fixed in $\operatorname{dom}\Omega$"])
    d.step(r"$\nabla_\theta L = \hat y(\theta) - y$ (FY-2), so the Lipschitz constant of $\nabla L$ is "
           r"$\sup_\theta \lambda_{\max}(J_{\hat y}(\theta))$ ($J_{\hat y}$ symmetric PSD).")
    L = member(loss)
    if L.tsallis and alpha_range == "gt2":
        return _gt2(d, sp.sympify(claimed, locals={"alpha": ALPHA, "m": M}))
    claimed = sp.sympify(claimed, locals={"alpha": ALPHA})
    if L.dense:  # the supremum and the texts below are those of g = p log p, the one dense member
        ok, val, steps = _softmax_sup()
        d.statement = (r"$\nabla L$ is $L$-Lipschitz with "
                       r"$L = \sup_\theta \lambda_{\max}(\operatorname{diag}(p) - pp^\top) = "
                       f"{sp.latex(val)}$, attained at $n = 2$, $\\theta = 0$ and approached as "
                       r"$p \to (\tfrac12, \tfrac12, 0, \dots)$")
        d.summary = (r"$\sup_\theta \lambda_{\max}(\operatorname{diag}(p) - pp^\top) = "
                     f"{sp.latex(val)}$: " + r"$\nabla L$ is Lipschitz with that constant")
        d.scope = (r"upper bound symbolic in $n$ (Popoviciu, the variance identity as sums of symbolic length, "
                   r"$(x_i - x_j)^2 \le 2\lVert x\rVert^2$); two-point supremum symbolic in $t$")
        d.step(r"Two-point $p = (t, 1-t)$: non-zero eigenvalue (sympy)", steps[0])
        d.step("maximised at", steps[1])
        d.step(r"Any $n$, $\lVert x\rVert = 1$: $\operatorname{Var}_p(x) \le (\max x - \min x)^2/4 \le 2/4$ "
               "(sympy identities):",
               r"x^\top(\operatorname{diag}p-pp^\top)x=\operatorname{Var}_p(x)\le\tfrac14(x_i-x_j)^2\le\tfrac12")
        d.step("Check at $n = 3$:", steps[2])
        return _compare(d, loss, val, claimed, ok)
    if L.quadratic:  # g = p²/2: ŷ is a Euclidean projection, J an orthogonal projector
        ok, lm, Jl = _projection_sup(loss)
        d.statement = (f"$\\nabla L$ is $L$-Lipschitz with $L = {sp.latex(lm)}$ ($\\hat y$ is a Euclidean projection; "
                       r"$J_{\hat y} = I_F - \mathbf{1}\mathbf{1}^\top/|F|$)")
        d.scope = (r"$J = I_F - \mathbf{1}\mathbf{1}^\top/|F|$ symmetric idempotent for a free set of symbolic size "
                   r"(the Hessian derivation gives $J$ for every $|F|$); $\hat y$ is continuous and piecewise linear, "
                   "so the piecewise bound is global")
        where = r"$n = 4$, $k = 2$, $\theta = 0$" if L.capped else r"$\theta = (0, 0)$"
        d.step(f"Jacobian at {where} (sympy), idempotent and symmetric:", Jl)
        d.step(r"$(H^2)_{li} = \sum_{m \in F} H_{lm} H_{mi} = H_{li}$ for $|F|$ symbolic (sympy sum), so the "
               "eigenvalues are 0 and 1, and",
               eq(r"\sup_\theta\lambda_{\max}", lm))
        return _compare(d, loss, lm, claimed, ok)
    if alpha_range not in ALPHA_RANGES:
        raise ValueError(f"alpha_range must be one of {ALPHA_RANGES}, got {alpha_range!r}")
    ok2, harm = two_point_eigenvalue()
    okm, hmax, steps = entmax_two_point_max()
    oku, unif = uniform_eigenvalue()
    d.step(r"Two-point support, $s_i = p_i^{2-\alpha}$: eigenvalues of $\operatorname{diag}(s) - ss^\top/\sum_j s_j$ "
           "are 0 and the harmonic mean", eq(r"\lambda", harm))
    d.step(_UNIFORM_STEP, eq(r"\lambda_{\max}", unif))
    d.assumptions.append(r"$1 < \alpha \le 2$ ($\beta = 2 - \alpha \in [0, 1)$)")
    d.scope = (r"symbolic in $\alpha$ (and $t$, $m$) for the two-point supports $p = (t, 1-t)$ and the uniform "
               r"supports of any size $m$; eigenvalues of $I - \mathbf{1}\mathbf{1}^\top/m$ for $m = 2, \dots, 5$")
    d.gap = ENTMAX_GAP
    d.step(r"With $\beta = 2 - \alpha$: $\lambda = 2/f(t)$, $f = t^{-\beta} + (1-t)^{-\beta}$ convex (sympy), "
           r"$f'(\tfrac12) = 0$ ($u = 1 - t$):", steps[0])
    d.step(r"so the two-point maximum is at $t = \tfrac12$:", eq(r"\max_t\lambda", hmax))
    mono = sp.diff(M ** (-BETA), M).is_nonpositive  # m^{α−2} non-increasing in m ≥ 2
    d.step(r"$m^{\alpha-2}$ is non-increasing in $m$ for $\alpha \le 2$, so over uniform supports the max is at "
           "$m = 2$, equal to", hmax)
    inc = sp.diff(hmax, ALPHA).is_positive
    lo = sp.limit(hmax, ALPHA, 1, "+")
    hi = hmax.subs(ALPHA, 2)
    d.step(r"$2^{\alpha-2}$ is increasing in $\alpha$; its values at $\alpha \to 1^+$ and at $\alpha = 2$:",
           sp.Tuple(lo, hi))
    in_range = all_true([inc, decide_zero(None, lo - sp.Rational(1, 2)), decide_zero(None, hi - 1)])
    d.statement = (r"$\alpha$-entmax ($1 < \alpha \le 2$): on two-point and uniform supports "
                   r"$\sup \lambda_{\max}(J_{\hat y}) = 2^{\alpha-2} \in (\tfrac12, 1]$, between softmax's "
                   r"$\tfrac12$ ($\alpha \to 1$) and sparsemax's 1 ($\alpha = 2$); the symbolic part covers the "
                   "two-point and uniform supports only")
    d.summary = (r"$\sup \lambda_{\max}(J_{\hat y}) = 2^{\alpha-2} \in (\tfrac12, 1]$ for $1 < \alpha \le 2$, "
                 "on two-point and uniform supports")
    return _compare(d, loss, hmax, claimed, all_true([ok2, okm, oku, mono, in_range]))


def _gt2(d: Derivation, upper: sp.Expr) -> Derivation:
    """α > 2: the claimed upper bound (default 1, "between ½ and 1"; an expression in α and
    the uniform support size m) against λ_max = m^{α−2} of the uniform support."""
    oku, unif = uniform_eigenvalue()
    d.step(_UNIFORM_STEP, eq(r"\lambda_{\max}", unif))
    d.assumptions.append(r"$\alpha > 2$")
    d.scope = (r"symbolic in $\alpha > 2$ and $m$ for the uniform support of size $m$; concrete counterexample "
               r"$\alpha = 3$, $n = 3$, $\theta = 0$ with $\lambda_{\max}$ from sympy eigenvalues of the "
               "implicit-differentiation Jacobian")
    g = sp.Symbol("gamma", positive=True)  # γ = α − 2 > 0
    q = sp.Symbol("q", nonnegative=True)  # m = 2 + q
    above = (g * sp.log(2 + q)).is_positive  # log m^{α−2} > 0 ⇒ m^{α−2} > 1
    unbounded = sp.limit(M**g, M, sp.oo) == sp.oo
    d.step(r"For $\alpha > 2$ ($\gamma = \alpha - 2 > 0$) and $m \ge 2$: $\log m^{\gamma} = \gamma \log m > 0$, "
           "and", sp.Eq(
        sp.Limit(M ** (ALPHA - 2), M, sp.oo), sp.oo))
    ce = entmax_gt2_counterexample(3, 3)
    d.step(r"Counterexample $\alpha = 3$, $n = 3$, $\theta = 0$: $\tau$ from $\sum_j \hat y_j = 1$, then "
           r"$\lambda_{\max}$ of the Jacobian (sympy):",
           eq(r"\lambda_{\max}", ce["lambda_max"]))
    bound = upper.subs({ALPHA: 3, M: 3})
    d.step(r"Claimed upper bound on $\lambda_{\max}$ (at $\alpha = 3$, $m = 3$):", eq(r"L_{\text{claimed}}", upper))
    d.statement = (r"$\alpha$-entmax with $\alpha > 2$: the constant is NOT between softmax's $\tfrac12$ and "
                   r"sparsemax's 1: the uniform support of size $m$ gives $\lambda_{\max} = m^{\alpha-2} > 1$, "
                   "unbounded in $m$")
    d.summary = (r"$\alpha > 2$: the uniform support of size $m$ gives $\lambda_{\max} = m^{\alpha-2} > 1$, "
                 r"unbounded in $m$; claimed bound $" + sp.latex(upper) + "$")
    derived = all_true([oku, above, unbounded])
    if derived is not True or not bound.is_number:
        return d.decide(None)
    if sp.Integer(ce["lambda_max"]) > bound:
        d.counterexample = {k: (float(v) if isinstance(v, sp.Basic) else v) for k, v in ce.items()}
        return d.decide(False)
    covers = decide_zero(None, sp.simplify(sp.Max(upper - unif, 0) - (upper - unif)))  # upper ≥ m^{α−2}
    d.step(r"The claimed bound is not below $m^{\alpha-2}$ on the uniform supports.")
    d.gap = (r"uniform supports only (near a support change $\lambda_{\max} = \delta^{2-\alpha}$ grows without bound; "
             "not derived here)")
    return d.decide(True if covers is True else None)


@lru_cache(maxsize=None)
def _smoothness(loss: str, alpha_range: str, claimed) -> Derivation:
    return _build_smoothness(loss, alpha_range, claimed)


_smoothness.keep_across_planted = True  # type: ignore[attr-defined]  # reads no losses/ code; keyed by the constant


def smoothness(loss: str, alpha_range: str = "le2") -> Derivation:
    """FY-4: Lipschitz constant of ∇L; ``alpha_range`` ("le2" or "gt2") matters for entmax only.
    The constant decided is the one the row states, looked up at call time: :data:`STATED`
    (an expression in ``alpha`` for entmax), or for entmax "gt2" the stated upper bound
    :data:`GT2_UPPER` (1; an expression in ``alpha`` and the uniform support size ``m``)."""
    check_loss(loss)
    if alpha_range not in ALPHA_RANGES:
        raise ValueError(f"alpha_range must be one of {ALPHA_RANGES}, got {alpha_range!r}")
    claimed = GT2_UPPER if (member(loss).tsallis and alpha_range == "gt2") else STATED[loss]
    return copy.deepcopy(_smoothness(loss, alpha_range, claimed))
