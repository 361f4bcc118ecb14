"""CON-3 (order preservation, readings O1/O2), symbolically.

The sparse maps are derived, not typed: the per-coordinate KKT condition of
ŷ = argmax_{p ∈ dom Ω} ⟨θ,p⟩ − Ω(p) for a separable Ω = Σ g(p_i) (proofs/kkt.py, FY-1) is
g'(p_i) = θ_i − λ on the free coordinates, p_i = 0 where θ_i − λ ≤ g'(0), and (rankmax)
p_i = 1 where θ_i − λ ≥ g'(1).  So ŷ_i = f(θ_i − λ) with one threshold λ for every
coordinate and any n, where f = 0 below g'(0), f = (g')⁻¹ between, and 1 above g'(1):

* f is non-decreasing (sympy: (g')⁻¹ has a positive derivative, f is continuous at the
  joins), so θ_i > θ_j ⇒ ŷ_i ≥ ŷ_j for every n (WOP, reading O1);
* f is flat outside the free interval, so an exact rational witness (θ_i > θ_j,
  ŷ_i = ŷ_j, Σŷ = mass checked) shows the map is not SOP;
* reading O2: by FY-2 the minimizers of the conditional risk are exactly the θ with
  ŷ(θ) = η; f non-decreasing gives η_i > η_j ⇒ θ_i > θ_j (contrapositive), and ties at
  the flat values (0, and 1 for rankmax) split: exact witness.

Softmax: ŷ_i/ŷ_j = exp(θ_i − θ_j) for θ_i = θ_j + δ (symbolic in n through R, the sum of the
other exponentials); O2: the stationarity condition solved for θ gives θ* = log η + log Z
(every minimizer, modulo shift), and for η with zeros the decomposition
logsumexp θ = logsumexp θ_S + log(1 + E_Z/E_S) shows the infimum is not attained and
forces θ_j − logsumexp θ_S ≤ log(e^ε − 1) → −∞ on every ε-minimizer as ε → 0.

Every derivation reads its input through a function of this module, looked up at call time
(``derived_free_map``, ``softmax_map``, ``softmax_minimizer``), so that a wrong input --
a planted defect (reports/dyn/claims.py) -- enters where a bug would.
"""
from __future__ import annotations

from typing import Callable

import sympy as sp

from audit.members import MEMBERS, member

from ..derivation import Derivation
from ..kkt import ALPHA, generator

SPARSE = tuple(m.name for m in MEMBERS if m.sparse)
U = sp.Symbol("u", positive=True)  # θ_i − λ on the free interval
S_ALPHA = sp.Symbol("s", positive=True)  # α = 1 + s, s > 0


# --------------------------------------------------------------------------------------
# the per-coordinate map of the sparse losses, from the KKT condition
# --------------------------------------------------------------------------------------
def derived_free_map(loss: str) -> sp.Expr:
    """(g')⁻¹(u) for u on the free interval, solved by sympy from Ω's generator g (kkt.py);
    entmax with α = 1 + s symbolic."""
    x, p = sp.Symbol("x", positive=True), sp.Symbol("p", positive=True)
    gp = sp.diff(generator(loss, x), x).subs(ALPHA, 1 + S_ALPHA)
    sols = sp.solve(sp.Eq(gp.subs(x, p), U), p)
    if len(sols) != 1:
        raise ValueError(f"{loss}: the KKT condition g'(p) = u has {len(sols)} positive solutions")
    return sols[0]


def _flat_values(loss: str) -> tuple[sp.Expr, sp.Expr | None]:
    """(g'(0), g'(1) for rankmax else None): where the free interval starts and ends."""
    x = sp.Symbol("x", positive=True)
    gp = sp.diff(generator(loss, x), x).subs(ALPHA, 1 + S_ALPHA)
    lo = sp.limit(gp, x, 0, "+")
    return lo, (gp.subs(x, 1) if member(loss).capped else None)


def piecewise_map(loss: str, f_free: sp.Expr) -> Callable[[sp.Expr], sp.Expr]:
    """f(u) on all of R: 0 below g'(0), f_free between, 1 above g'(1) (rankmax)."""
    lo, hi = _flat_values(loss)

    def f(u):
        u = sp.sympify(u)
        if (u - lo).is_nonpositive:
            return sp.S.Zero
        if hi is not None and (u - hi).is_nonnegative:
            return sp.S.One
        return sp.simplify(f_free.subs(U, u))

    return f


def monotone_steps(d: Derivation, loss: str, f_free: sp.Expr) -> bool | None:
    """f non-decreasing on R: (g')⁻¹ increasing and f continuous at the joins."""
    lo, hi = _flat_values(loss)
    d.step(r"KKT per coordinate (FY-1): $g'(p_i) = \theta_i - \lambda$ on the free coordinates; $g'(0) =$", lo)
    d.step(r"free part $f(u) = (g')^{-1}(u)$, solved by sympy ($\alpha = 1 + s$ for entmax):", f_free)
    df = sp.simplify(sp.diff(f_free, U))
    inc = df.is_positive
    d.step("$f'(u)$ on the free interval (positive for $u > 0$):", df)
    at0 = sp.limit(f_free, U, 0, "+")
    cont = bool(lo == 0) and sp.simplify(at0) == 0
    d.step("continuity at the lower join: $f(0^+) =$", at0)
    if hi is not None:
        at1 = sp.simplify(f_free.subs(U, hi))
        cont = cont and at1 == 1
        d.step("continuity at the cap: $g'(1) = 1$ and $f(1) =$", at1)
    if inc is None:
        return None
    return bool(inc) and bool(cont)


def _witness(loss: str, param, f) -> tuple[list, list, object]:
    """Exact θ, its ŷ = f(θ − λ) and λ for a sparse map."""
    L = member(loss)
    if L.quadratic and (not L.capped or param == 1):  # g = p²/2 with mass 1
        theta = [sp.Integer(2), sp.Integer(0), sp.Integer(-1)]
        lam = sp.Integer(1)
    elif L.tsallis:
        theta = [1 / S_ALPHA, sp.Integer(0), -1 / S_ALPHA]  # α − 1 = s
        lam = sp.Integer(0)
    else:  # C_k, k ≥ 2: k items saturated at 1, two below the threshold
        theta = [sp.Integer(3)] + [sp.Integer(2)] * (param - 1) + [sp.Integer(0), sp.Integer(-1)]
        lam = sp.Integer(1)
    return theta, [f(t - lam) for t in theta], lam


def sparse_o1(loss: str) -> Derivation:
    """O1 for a sparse map: WOP for every n, not SOP (exact witness); the free part of the
    per-coordinate map is :func:`derived_free_map`'s (from the KKT condition)."""
    params, scope = {"entmax": ([None], r"symbolic in $\alpha = 1 + s$, $s > 0$; any $n$"),
                     "rankmax": ([1, 2, 3], r"any $n$ (WOP); witnesses for $k \in \{1, 2, 3\}$"),
                     "sparsemax": ([None], "any $n$ (WOP); exact rational witness")}[loss]
    L = member(loss)
    d = Derivation(f"{loss}: " + r"$\theta_i > \theta_j$ implies $\hat y_i \ge \hat y_j$ (WOP), but not SOP: "
                   r"$\hat y$ is flat outside its support (and, for rankmax, at the cap 1)", scope,
                   [r"$\hat y_i = f(\theta_i - \lambda)$ with one threshold $\lambda$ (separable $\Omega$, KKT)"],
                   summary=f"{loss}: " + r"$\theta_i > \theta_j \Rightarrow \hat y_i \ge \hat y_j$ (WOP), but not SOP: "
                           r"$\hat y$ is flat outside its support" + (" and at the cap 1" if L.capped else ""))
    f_free = derived_free_map(loss)
    mono = monotone_steps(d, loss, f_free)
    d.step(r"$\theta_i > \theta_j$ gives $\theta_i - \lambda > \theta_j - \lambda$, so $f$ non-decreasing gives "
           r"$\hat y_i \ge \hat y_j$ for every $n$ (WOP)")
    f = piecewise_map(loss, f_free)
    ok = True
    for param in params:
        theta, yhat, lam = _witness(loss, param, f)
        mass = 1 if not L.capped else param
        kkt_ok = sp.simplify(sum(yhat) - mass) == 0
        i, j = len(theta) - 2, len(theta) - 1
        strict = sp.simplify(theta[i] - theta[j]).is_positive
        tie = sp.simplify(yhat[i] - yhat[j]) == 0
        d.step("witness" + ("" if param is None else f" ($k = {param}$)") + r": $\theta =$", sp.Matrix(theta).T)
        d.step(r"$\hat y = f(\theta - \lambda)$, $\lambda = " + sp.latex(lam) + r"$; $\sum_i \hat y_i$ = mass: "
               + f"{kkt_ok}" + r"; $\hat y =$", sp.Matrix(yhat).T)
        ok = ok and kkt_ok and strict is True and tie
    d.step(r"$\theta_i > \theta_j$ with $\hat y_i = \hat y_j$: strict order preservation fails")
    return d.decide(None if mono is None else (mono and ok))


def softmax_map(ti: sp.Expr, tj: sp.Expr, R: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(ŷ_i, ŷ_j) of softmax, the gradient of Ω* = log(e^{θ_i} + e^{θ_j} + R) (FY-1)."""
    conj = sp.log(sp.exp(ti) + sp.exp(tj) + R)
    return sp.diff(conj, ti), sp.diff(conj, tj)


def softmax_o1() -> Derivation:
    """θ_i = θ_j + δ, δ > 0 ⇒ ŷ_i > ŷ_j, symbolic in n (R > 0: the other exponentials), on
    :func:`softmax_map`."""
    d = Derivation(r"Softmax is strictly order preserving: $\theta_i > \theta_j$ implies $\hat y_i > \hat y_j$",
                   r"symbolic in $n$ ($R$ = sum of the other exponentials, $R > 0$)", [r"$\theta$ real, finite"])
    ti, tj = sp.symbols("theta_i theta_j", real=True)
    dl, R = sp.Symbol("delta", positive=True), sp.Symbol("R", positive=True)
    yi, yj = (sp.sympify(v).subs(ti, tj + dl) for v in softmax_map(ti, tj, R))
    d.step(r"$\hat y_i$, $\hat y_j$ as the partial derivatives of $\Omega^*$ ($\theta_i = \theta_j + \delta$):",
           sp.Matrix([yi, yj]).T)
    pos = all(sp.simplify(v).is_positive is True for v in (yi, yj))
    logratio = sp.simplify(sp.expand_log(sp.log(sp.simplify(yi / yj)), force=True))
    d.step(r"both positive; $\log(\hat y_i/\hat y_j) =$", logratio)
    sign = logratio.is_positive
    d.step(r"$\log(\hat y_i/\hat y_j) > 0$, so $\hat y_i > \hat y_j$ whenever $\theta_i > \theta_j$ (SOP)")
    return d.decide(None if sign is None or not pos else bool(sign))


def order_o1(loss: str) -> Derivation:
    return softmax_o1() if member(loss).dense else sparse_o1(loss)


# --------------------------------------------------------------------------------------
# O2: Bayes minimizers
# --------------------------------------------------------------------------------------
def softmax_minimizer(eta_i: sp.Expr, Z: sp.Expr) -> sp.Expr:
    """θ*_i from the stationarity condition e^{θ_i}/Z = η_i (Z = Σ e^θ), solved by sympy."""
    t = sp.Symbol("t", real=True)
    (sol,) = sp.solve(sp.Eq(sp.exp(t) / Z, eta_i), t)
    return sol


def softmax_o2() -> Derivation:
    """Reading O2 for softmax, on the stationary points :func:`softmax_minimizer` solves."""
    d = Derivation(r"Softmax minimizers of the conditional risk are $\theta^* = \log\eta + c$: $\eta_i > \eta_j$ "
                   r"implies $\theta^*_i > \theta^*_j$ and $\eta_i = \eta_j$ implies $\theta^*_i = \theta^*_j$ (SOP); "
                   r"$\eta$ with zeros: every minimizing sequence has its zero coordinates at $-\infty$ (tied) in the "
                   "limit",
                   r"symbolic in $n$; $\eta$ with zeros: extended-real limit of $\varepsilon$-minimizers",
                   [r"$R(\theta; \eta) = L(\theta; \eta) + \mathrm{const}$, convex, gradient "
                    r"$\operatorname{softmax}(\theta) - \eta$ (FY-2)",
                    r"$\sum_i \eta_i = 1$"],
                   summary=r"softmax: the risk minimizers $\theta^* = \log\eta + c$ order like $\eta$, ties included "
                           r"(SOP); zeros of $\eta$ tie at $-\infty$")
    ei, ej, Z, dd = sp.symbols("eta_i eta_j Z d", positive=True)
    th_i, th_j = softmax_minimizer(ei, Z), softmax_minimizer(ej, Z)
    d.step(r"stationarity $e^{\theta_i}/\sum_k e^{\theta_k} = \eta_i$ solved for $\theta_i$ (every stationary "
           "point, any $n$):", th_i)
    # fixed point: e^{θ*_i} = η_i Z for every i, so Σ_j e^{θ*_j} = Z Σ η = Z and softmax(θ*) = η
    fixed = sp.simplify(sp.exp(th_i) - ei * Z) == 0
    d.step(r"$e^{\theta^*_i} = \eta_i Z$ for every $i$, hence $\sum_k e^{\theta^*_k} = Z \sum_k \eta_k = Z$ and "
           r"$\operatorname{softmax}(\theta^*) = \eta$:", sp.exp(th_i))
    gap = sp.simplify(sp.expand_log(th_i.subs(ei, ej * (1 + dd)) - th_j, force=True))
    d.step(r"$\eta_i = \eta_j (1 + d)$, $d > 0$: $\theta^*_i - \theta^*_j =$", gap)
    strict = gap.is_positive
    tie = sp.simplify(th_i.subs(ei, ej) - th_j) == 0
    d.step(r"ties $\eta_i = \eta_j$ give $\theta^*_i - \theta^*_j = 0$: " + str(tie) + r"; unique modulo the shift "
           r"$\log Z$ (each coordinate is solved for alone, $Z$ common)")
    # zeros: logsumexp(θ) = logsumexp(θ_S) + log(1 + E_Z/E_S)
    ES, EZ, eps = sp.symbols("E_S E_Z epsilon", positive=True)
    decomp = sp.simplify(sp.expand_log(sp.log(ES + EZ) - sp.log(ES) - sp.log(1 + EZ / ES), force=True)) == 0
    d.step(r"$\eta$ with zeros on $Z$: $R(\theta) - R^*_S \ge \log\sum_k e^{\theta_k} - \log\sum_{k \in S} "
           r"e^{\theta_k} = \log(1 + E_Z/E_S) > 0$ (sympy identity: " + str(decomp) + r"), so the infimum $R^*_S$ of "
           "the support problem is not attained")
    excess_pos = sp.log(1 + EZ / ES).is_positive
    bound = sp.log(sp.exp(eps) - 1)
    lim = sp.limit(bound, eps, 0, "+")
    d.step(r"an $\varepsilon$-minimizer has $E_Z/E_S \le e^\varepsilon - 1$, so "
           r"$\theta_j - \operatorname{logsumexp}\theta_S \le \log(e^\varepsilon - 1)$ for $j \in Z$, and as "
           r"$\varepsilon \to 0$:",
           sp.Eq(sp.Limit(bound, eps, 0, "+"), lim))
    d.step(r"normalized by $\max_k \theta_k = 0$, the zero coordinates tend to $-\infty$ together (a tie in the "
           r"extended reals) and the support to $\log(\eta_S/\eta_{\max})$ (the support problem's unique minimizer "
           "above): SOP in the limit")
    ok = fixed and strict is True and tie and decomp and excess_pos is True and lim == -sp.oo
    return d.decide(ok if strict is not None else None)


def sparse_o2(loss: str) -> Derivation:
    L = member(loss)
    d = Derivation(f"{loss}: " + r"the minimizers of the conditional risk are the $\theta$ with "
                   r"$\hat y(\theta) = \eta$; every one has $\eta_i > \eta_j \Rightarrow \theta_i \ge \theta_j$ (WOP; "
                   r"the argument below even gives $\theta_i > \theta_j$), "
                   "and ties at a flat value (0; 1 for rankmax) can split (not SOP)",
                   "any $n$ (WOP, from $f$ non-decreasing); exact witness $n = 4$"
                   + (r" ($\alpha = 3/2$)" if L.tsallis else ""),
                   [r"$R(\theta; \eta) = L(\theta; \eta) + \mathrm{const} \ge \mathrm{const}$, with equality iff "
                    r"$\hat y(\theta) = \eta$ (FY-2)",
                    r"$\hat y_i = f(\theta_i - \lambda)$, one threshold (KKT)"],
                   # the statement's inequality (>=), so that the front line states what the row claims
                   summary=f"{loss}: " + r"every risk minimizer has $\eta_i > \eta_j \Rightarrow \theta_i \ge \theta_j$ "
                           "(WOP); a tie at a flat value can split (not SOP)")
    f_free = derived_free_map(loss)
    mono = monotone_steps(d, loss, f_free)
    d.step(r"at a minimizer $f(\theta_i - \lambda) = \eta_i$; if $\eta_i > \eta_j$ then $\theta_i \le \theta_j$ "
           r"would give $f(\theta_i - \lambda) \le f(\theta_j - \lambda)$ ($f$ non-decreasing): so "
           r"$\theta_i > \theta_j$, so $\theta_i \ge \theta_j$ (WOP)")
    sub = {S_ALPHA: sp.Rational(1, 2)} if L.tsallis else {}
    f = piecewise_map(loss, f_free.subs(sub))
    if L.capped:  # k = 2: two ones and two zeros; λ = −1/2
        eta = [1, 1, 0, 0]
        theta = [sp.Integer(2), sp.Rational(3, 2), sp.Rational(-1, 2), sp.Integer(-2)]
        lam = sp.Rational(-1, 2)
    else:
        eta = [sp.Rational(1, 2), sp.Rational(1, 2), 0, 0]
        half = sp.solve(sp.Eq(f_free.subs(sub), sp.Rational(1, 2)), U) if f_free.has(U) else []
        theta = [half[0] if half else sp.Rational(1, 2)] * 2 + [sp.Integer(0), sp.Integer(-1)]
        lam = sp.Integer(0)
    yhat = [sp.simplify(f(t - lam)) for t in theta]
    same = all(sp.simplify(y - e) == 0 for y, e in zip(yhat, eta))
    d.step(r"$\eta =$", sp.Matrix(eta).T)
    d.step(r"$\theta$ ($\lambda = " + sp.latex(lam) + r"$) =", sp.Matrix(theta).T)
    d.step(r"$\hat y(\theta) = f(\theta - \lambda) =$", sp.Matrix(yhat).T)
    split = bool(theta[2] > theta[3]) and eta[2] == eta[3]
    d.step(r"$\hat y(\theta) = \eta$, so $\theta$ minimizes $R$; $\eta_3 = \eta_4$ but $\theta_3 > \theta_4$ "
           "(tie split): not SOP")
    return d.decide(None if mono is None else (mono and same and split))


def order_o2(loss: str) -> Derivation:
    return softmax_o2() if member(loss).dense else sparse_o2(loss)


__all__ = ["derived_free_map", "piecewise_map", "sparse_o1", "softmax_o1", "softmax_map", "order_o1",
           "softmax_minimizer", "softmax_o2", "sparse_o2", "order_o2", "SPARSE", "U", "S_ALPHA"]
