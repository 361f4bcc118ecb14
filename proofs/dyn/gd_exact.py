"""DYN-2 (sparse part) in exact arithmetic: does gradient descent with a constant step
size reach *exactly* zero loss in finitely many steps?

Setting: GD θ_{t+1} = θ_t − lr (ŷ(θ_t) − y) on a free score vector θ ∈ R^n, label y (one-hot;
multi-hot, |Y| = k, for rankmax): the linear model on one example with x = 1 (separable), with
FY-4's L = 1 for sparsemax and rankmax, L = 2^{α−2} = 1/√2 for 1.5-entmax.

Three derivations, each returning a :class:`Derivation`:

* :func:`sparse_finite_steps` (sparsemax; rankmax, any k): on the "all-free" region
  R = {θ : 0 ≤ θ − τ1 ≤ 1, τ = (Σθ − k)/n} the projection is ŷ = θ − τ1, GD keeps Σθ
  (hence τ) fixed, and the gradient obeys g_{t+1} = (1 − lr) g_t, so
  L_t = ½ (1 − lr)^{2t} ‖ŷ_0 − y‖²: positive for every t when lr ∈ (0, 1), zero
  after one step when lr = 1 = 1/L.  Symbolic in θ and lr (identities checked with
  sympy for n = 2, 3, 4 and every k < n), rsolve in t; the losses L_0..L_5 of the
  counterexample come from an exact Fraction GD loop and must equal the closed form.
* :func:`unit_step_finite` (sparsemax, rankmax, lr = 1/L = 1, every start, any n, k):
  θ − ŷ(θ) moves each coordinate towards τ by at most 1, which gives a case analysis in
  which every step either reaches the margin (gap min_Y θ − max_{¬Y} θ ≥ 1, so L = 0 by
  FY-3) or raises the gap by more than 1: zero loss after at most ⌈1 − g_0⌉ steps.
  :func:`unit_step_exact` is the numeric side: exact Fraction GD from random rational
  starts must reach exactly zero within that bound and stay there.
* :func:`entmax15_never_zero` (1.5-entmax, n = 2, every lr > 0): the closed form
  2√p₀ − 2√p₁ = θ₀ − θ₁ gives the shortfall recurrence s_{t+1} = s_t − lr h(s_t) with
  0 < h(s) ≤ C s², C = lim h/s² = ½ (derived), so s_t stays in (0, s_0] for every t
  once 0 < s_0 < min(4, 1/(lr C)): the loss never reaches exactly zero, for any step size;
  a step so large that s_1 ≤ 0 jumps past the margin (zero loss after one step: holds).
"""
from __future__ import annotations

import math
import random
from fractions import Fraction as Fr
from functools import lru_cache

import sympy as sp

from audit import Evidence, RunContext
from audit.members import member

from ..derivation import Derivation, is_zero
from ..kkt import all_true, eq

LR = sp.Symbol("eta", positive=True)  # step size (LaTeX η)
TT = sp.Symbol("t", integer=True, nonnegative=True)
S = sp.Symbol("s", positive=True)  # margin shortfall
N_STEPS = 5  # counterexample losses L_0..L_5

# the steps the rows are decided at, read at call time (a typo'd step enters here as in real code); 1/L = 1 for
# sparsemax and rankmax, sqrt(2) for 1.5-entmax (FY-4).  Reading "any step in (0, 1/L]": each counterexample's step
ROW_STEPS = {"sparsemax": sp.Rational(1, 2), "rankmax": sp.Rational(1, 2), "entmax": sp.Rational(1, 2)}
ROW_STARTS = {"entmax": (0, 0)}
ENTMAX_UNIT_STEP, ENTMAX_UNIT_START = sp.sqrt(2), (1, 0)  # reading lr = 1/L of 1.5-entmax
UNIT_STEP, UNIT_STEP_RUNS = sp.Integer(1), Fr(1)  # lr = 1/L of sparsemax / rankmax: the argument, the exact runs


def free_region_factor(eta):
    """The per-step factor of the gradient on R that :func:`sparse_finite_steps` states (checked by sympy)."""
    return 1 - eta


# -- exact projections and losses (Fractions) ------------------------------------------
def project_capped(theta, k: int = 1) -> list[Fr]:
    """Exact Euclidean projection of rational θ on C_k = {p ∈ [0,1]^n : Σp = k}
    (k = 1: the simplex, i.e. sparsemax), by enumerating the active sets in sorted order:
    U (p = 1) the a largest, F (p = θ − τ) the next f, Z (p = 0) the rest; the KKT
    conditions are linear, so τ and p are rational.  The projection is unique, so the
    first feasible pattern is it."""
    th = [Fr(x) for x in theta]
    n = len(th)
    if not 1 <= k <= n - 1:
        raise ValueError(f"need 1 <= k <= n-1, got k={k}, n={n}")
    order = sorted(range(n), key=lambda i: -th[i])
    for a in range(k + 1):
        for f in range(n - a + 1):
            U, F, Z = order[:a], order[a:a + f], order[a + f:]
            if f == 0:
                if a != k or th[U[-1]] - 1 < th[Z[0]]:
                    continue
                return [Fr(1) if i in U else Fr(0) for i in range(n)]
            tau = (sum(th[i] for i in F) + a - k) / f
            if all(0 <= th[i] - tau <= 1 for i in F) and all(th[i] - tau >= 1 for i in U) \
                    and all(th[i] - tau <= 0 for i in Z):
                p = [Fr(0)] * n
                for i in U:
                    p[i] = Fr(1)
                for i in F:
                    p[i] = th[i] - tau
                return p
    raise AssertionError(f"no feasible KKT pattern for theta={theta}, k={k}")  # pragma: no cover


def loss_capped(theta, y, k: int = 1) -> Fr:
    """L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩ with Ω = ½‖p‖² on C_k (sparsemax for k = 1: the
    constant −½ of the simplex regularizer cancels)."""
    th = [Fr(x) for x in theta]
    p = project_capped(th, k)
    conj = sum(a * b for a, b in zip(th, p)) - sum(q * q for q in p) / 2
    return conj + sum(Fr(v) ** 2 for v in y) / 2 - sum(a * Fr(b) for a, b in zip(th, y))


def gd_exact(theta0, y, lr, k: int = 1, steps: int = N_STEPS) -> tuple[list[list[Fr]], list[Fr]]:
    """Exact GD θ ← θ − lr (ŷ(θ) − y); returns the iterates θ_0..θ_steps and losses L_0..L_steps."""
    lr = Fr(lr)
    th = [Fr(x) for x in theta0]
    ys = [Fr(v) for v in y]
    thetas, losses = [th], [loss_capped(th, ys, k)]
    for _ in range(steps):
        p = project_capped(th, k)
        th = [a - lr * (q - b) for a, q, b in zip(th, p, ys)]
        thetas.append(th)
        losses.append(loss_capped(th, ys, k))
    return thetas, losses


def gap(theta, y) -> Fr:
    """min_{i∈Y} θ_i − max_{j∉Y} θ_j; L = 0 ⟺ gap ≥ 1 (FY-3, margin 1)."""
    return min(t for t, v in zip(theta, y) if v) - max(t for t, v in zip(theta, y) if not v)


def _fr(x: Fr) -> str:
    return str(Fr(x))


# -- (1) sparsemax / rankmax, constant lr ∈ (0, 1]: the all-free region ----------------
def _poly_zero(expr) -> bool:
    """A polynomial identity: zero iff its expanded form is 0 (decided, never None)."""
    return sp.expand(expr) == 0


@lru_cache(maxsize=64)
def _free_region_identities(n: int, k: int, ratio) -> tuple[bool, bool, bool]:
    """Symbolic θ ∈ R^n on R (ŷ = θ − τ1, τ = (Σθ − k)/n), label y = 1 on the first k:
    (a) Σ of the update is 0, so τ(θ − lr g) = τ(θ); (b) g(θ − lr g(θ)) = ratio · g(θ);
    (c) L(θ; y) = ½‖ŷ − y‖² on R (Ω*(θ) = ⟨θ,ŷ⟩ − ½‖ŷ‖²)."""
    th = sp.symbols(f"theta_1:{n + 1}", real=True)
    y = [1] * k + [0] * (n - k)

    def yhat(v):
        tau = (sum(v) - k) / sp.Integer(n)
        return [vi - tau for vi in v]

    p = yhat(th)
    g = [pi - yi for pi, yi in zip(p, y)]
    new = [ti - LR * gi for ti, gi in zip(th, g)]
    a = _poly_zero(sum(new) - sum(th))
    g2 = [pi - yi for pi, yi in zip(yhat(new), y)]
    b = all(_poly_zero(x - ratio * gi) for x, gi in zip(g2, g))
    L = sum(t * q for t, q in zip(th, p)) - sum(q**2 for q in p) / 2 + sp.Rational(k, 2) - sum(th[:k])
    c = _poly_zero(L - sum(gi**2 for gi in g) / 2)
    return a, b, c


@lru_cache(maxsize=32)
def sparse_finite_steps(loss: str = "sparsemax", lr=sp.Rational(1, 2), k: int = 1, n: int = 2) -> Derivation:
    """Decide "GD at constant step ``lr`` from θ0 = 0 reaches exactly zero loss in finitely
    many steps" for sparsemax (k = 1) / rankmax (multi-hot y, |Y| = k), lr ∈ (0, 1].

    The per-step factor of the gradient on R is the one :func:`free_region_factor` states
    (1 − lr); a wrong one is rejected by sympy and the derivation is undecided."""
    L = member(loss)  # a quadratic g: ŷ is the projection on the simplex, or on C_k when capped (any k)
    if not L.quadratic or (not L.capped and k != 1) or not 1 <= k < n:
        raise ValueError(f"bad loss/k/n: {loss}, k={k}, n={n}")
    lr = sp.nsimplify(lr)
    if not (0 < lr <= 1):
        raise ValueError("lr must lie in (0, 1/L] = (0, 1]")
    ratio = free_region_factor(LR)
    lab = "$e_1$" if k == 1 else r"$\mathbf{1}_Y$, $Y = \{" + ", ".join(str(i) for i in range(1, k + 1)) + r"\}$"
    kpart = f" ($k = {k}$)" if L.capped else ""
    lr_tex = sp.latex(lr)
    d = Derivation(
        statement=(f"{loss}{kpart}: GD with constant step $\\mathrm{{lr}} = {lr_tex}$ on the free score vector "
                   f"$\\theta \\in \\mathbb{{R}}^{n}$, label {lab}, from $\\theta_0 = 0$ reaches exactly zero loss in "
                   "finitely many steps"),
        scope=(r"symbolic in $\theta$ and the step $\eta$ on the all-free region "
               r"$R = \{\theta : 0 \le \theta - \tau\mathbf{1} \le 1\}$, any $n$ and $k$ (sympy identities for "
               r"$n = 2, 3, 4$ and every $k < n$); rsolve in $t$; decision at the concrete "
               f"$\\mathrm{{lr}} = {lr_tex}$, $n = {n}$, $k = {k}$, $\\theta_0 = 0$; $L_0, \\dots, L_{N_STEPS}$ by "
               "exact Fraction GD"),
        assumptions=["free score vector = linear model on one example with $x = 1$ (separable data)",
                     r"constant step $\eta \in (0, 1/L]$, $L = 1$ (FY-4: $\nabla L$ is 1-Lipschitz)",
                     "exact arithmetic"],
        summary=(f"{loss}{kpart}: GD at $\\mathrm{{lr}} = {lr_tex}$ from $\\theta_0 = 0$ reaches exactly zero loss "
                 "in finitely many steps"),
    )
    checks = []
    for nn in (2, 3, 4):
        for kk in range(1, nn):
            checks.extend(_free_region_identities(nn, kk, ratio))
    ok_ident = all_true(checks)
    d.step(r"On $R$ the projection is free in every coordinate: $\hat y = \theta - \tau\mathbf{1}$ with",
           r"\tau = \frac{1}{n}\Big(\sum_i\theta_i-k\Big)")
    d.step(r"The gradient $g = \hat y - y$ sums to $k - k = 0$, so GD keeps $\sum_i \theta_i$ and $\tau$ fixed; "
           r"sympy (symbolic $\theta$, $n = 2, 3, 4$, all $k < n$) verifies",
           eq(r"g(\theta-\eta g(\theta))", ratio * sp.Symbol("g(\\theta)")))
    f = sp.Function("g")
    sol = sp.rsolve(f(TT + 1) - ratio * f(TT), f(TT), {f(0): sp.Symbol("g_0")})
    d.step("rsolve of the recurrence:", sp.Eq(f(TT), sol))
    d.step(r"Hence $\hat y_t = y + (1 - \eta)^t (\hat y_0 - y)$, a convex combination of $y$ and "
           r"$\hat y_0 \in [0,1]^n$ for $\eta \in (0, 1]$: the iterates stay in $R$ (induction on $t$), and for "
           r"every pair $i \in Y$, $j \notin Y$ the margin shortfall $s = 1 - (\theta_i - \theta_j) = "
           r"\hat y_j - \hat y_i + 1$ obeys", r"s_{t+1} = (1-\eta)\,s_t")
    d.step(r"On $R$, $L(\theta; y) = \tfrac12 \lVert\hat y - y\rVert^2$ (sympy), so",
           r"L_t = \tfrac12(1-\eta)^{2t}\,\|\hat y_0-y\|^2")
    if ok_ident is not True or sol is None or not is_zero(sp.simplify(sol - sp.Symbol("g_0") * (1 - LR) ** TT)):
        d.step("A stated identity or the recurrence did not check: undecided.")
        return d.decide(None)
    # the concrete start θ0 = 0 ∈ R: ŷ_0 = (k/n) 1
    y = [1] * k + [0] * (n - k)
    p0 = [sp.Rational(k, n)] * n
    L0 = sum((a - b) ** 2 for a, b in zip(p0, y)) / 2
    closed = [L0 * (1 - lr) ** (2 * t) for t in range(N_STEPS + 1)]
    _, exact = gd_exact([0] * n, y, Fr(int(lr.p), int(lr.q)), k, N_STEPS)
    same = all(sp.Rational(e.numerator, e.denominator) == c for e, c in zip(exact, closed))
    d.step(r"$\theta_0 = 0$ lies in $R$ ($\hat y_0 = (k/n)\mathbf{1} = " + f"{k}/{n}" + r"\cdot\mathbf{1}$, strictly "
           r"inside $[0,1]^n$), and $\lVert\hat y_0 - y\rVert^2/2 =$", sp.latex(L0))
    d.step(r"Exact Fraction GD gives $L_0, \dots, L_5 = " + ", ".join(_fr(e) for e in exact) + "$"
           + ("; equal to the closed form." if same else "; NOT equal to the closed form."))
    if not same:
        return d.decide(None)
    Lt = L0 * (1 - lr) ** (2 * TT)
    if lr < 1:
        pos = Lt.is_positive
        d.step(f"At $\\eta = {lr_tex} < 1$ the closed form is positive for every integer $t \\ge 0$ (sympy: {pos}):",
               eq("L_t", Lt))
        d.step("so the loss never reaches exactly 0 in finitely many steps, although it tends to 0 geometrically.")
        d.counterexample = {"loss": loss, "k": k, "theta0": ["0"] * n, "y": y, "lr": str(lr),
                            "losses": [_fr(e) for e in exact], "loss_ratio": str((1 - lr) ** 2),
                            "closed_form": f"L_t = {L0} * ({(1 - lr) ** 2})^t > 0 for all t"}
        if pos:
            d.summary = (f"{loss}{kpart}, $\\mathrm{{lr}} = {lr_tex}$: $L_t = {sp.latex(L0)}\\,"
                         f"({sp.latex((1 - lr) ** 2)})^t > 0$ for every $t$: exact zero loss is never reached")
        return d.decide(False if pos else None)
    zero = is_zero(Lt.subs(TT, 1))
    d.step(r"At $\eta = 1 = 1/L$ the closed form gives $L_1 = 0$ from every start in $R$: zero loss after one step "
           "(starts outside $R$: see the reading lr=1/L).")
    d.decide(all_true([zero, exact[1] == 0]))
    if d.decision == "holds":
        d.summary = f"{loss}{kpart}, $\\mathrm{{lr}} = 1 = 1/L$: $L_1 = 0$ from every start in $R$ (zero loss after one step)"
    return d


# -- (2) sparsemax / rankmax, lr = 1/L = 1, every start, any n, k ----------------------
def _unit_step_cases(lr) -> list[tuple[str, bool | None]]:
    """The sympy-checked inequalities of the unit-step argument (τ the threshold of ŷ(θ),
    nonnegative/positive symbols parametrize each case); ``lr`` is the step of the update
    θ' = θ − lr (ŷ − y) (:data:`UNIT_STEP`, 1 = 1/L: the argument fails at another step)."""
    lr = sp.nsimplify(lr)
    tau = sp.Symbol("tau", real=True)
    dl, m_, M_ = sp.symbols("delta m M", real=True)
    a, b, c, w = sp.symbols("a b c w", positive=True)
    z = sp.Symbol("z", nonnegative=True)
    out = []
    # coordinate update θ' = θ − ŷ + y, per case of ŷ_i = clip(θ_i − τ, 0, 1)
    lab = {  # (θ_i, ŷ_i) per case; i ∈ Y: θ' = θ − ŷ + 1 ≥ min(θ + 1, τ + 1)
        "Z": (tau - z, 0), "F": (tau + 1 / (1 + w), 1 / (1 + w)), "U": (tau + 1 + z, 1)}
    for name, (th, yh) in lab.items():
        new = th - lr * (yh - 1)
        out.append((f"labelled, case ${name}$: $\\theta' \\ge \\min(\\theta + 1, \\tau + 1)$",
                    sp.simplify(new - sp.Min(th + 1, tau + 1)).is_nonnegative))
        new_u = th - lr * yh  # j ∉ Y: θ' = θ − ŷ ≤ max(θ − 1, τ)
        out.append((f"unlabelled, case ${name}$: $\\theta' \\le \\max(\\theta - 1, \\tau)$",
                    sp.simplify(sp.Max(th - 1, tau) - new_u).is_nonnegative))
    g = m_ - M_
    lo, hi = (m_ + 1, tau + 1), (M_ - 1, tau)  # new gap ≥ min(lo) − max(hi)

    def combos(sub, c, strict):
        """min(lo) − max(hi) − c > 0 (or ≥ 0) ⟺ every pair (P ∈ lo, Q ∈ hi) has P − Q − c > 0 (≥ 0)."""
        vals = [sp.simplify((P - Q - c).subs(sub)) for P in lo for Q in hi]
        return all_true([v.is_positive if strict else v.is_nonnegative for v in vals])

    # case A: m < τ (so M > τ by Σŷ = k)
    out.append((r"case A ($m < \tau < M$): $\min(m+1, \tau+1) - \max(M-1, \tau) > g + 1$",
                combos({tau: m_ + a, M_: m_ + a + b}, g + 1, True)))
    # case B: τ ≤ m < τ + 1 < M
    out.append((r"case B ($\tau \le m < \tau+1 < M$): $\min(m+1, \tau+1) - \max(M-1, \tau) > g + 1$",
                combos({m_: tau + z / (1 + z), M_: tau + 1 + c}, g + 1, True)))
    # case C: m ≥ τ, M ≤ τ + 1
    out.append((r"case C ($m \ge \tau$, $M \le \tau+1$): $\min(m+1, \tau+1) - \max(M-1, \tau) \ge 1$",
                combos({m_: tau + z, M_: tau + 1 - dl**2}, 1, False)))
    return out


@lru_cache(maxsize=8)
def unit_step_finite(loss: str = "sparsemax") -> Derivation:
    """lr = 1/L = 1 (:data:`UNIT_STEP`): exactly zero loss after at most ⌈1 − g_0⌉ steps
    from every start (the argument run at another step does not hold)."""
    L = member(loss)  # the clip(θ − τ, 0, 1) argument is that of the projection (a quadratic g)
    if not L.quadratic:
        raise ValueError(loss)
    lr = UNIT_STEP
    step = "1/L = 1" if lr == 1 else sp.latex(sp.nsimplify(lr))
    d = Derivation(
        statement=(f"{loss}: GD with constant step $\\mathrm{{lr}} = {step}$ on the free score vector reaches exactly "
                   r"zero loss in finitely many steps from every start $\theta_0 \in \mathbb{R}^n$, at most "
                   r"$\lceil 1 - g_0 \rceil$ steps where "
                   r"$g_0 = \min_{i \in Y} \theta_{0,i} - \max_{j \notin Y} \theta_{0,j} < 1$"),
        scope=(r"symbolic: any $n \ge 2$"
               + (r", any $k \in [1, n-1]$ and multi-hot $y$ with $|Y| = k$" if L.capped else ", $k = 1$")
               + "; the per-case inequalities are checked by sympy with parametrized symbols, the case split "
                 r"and the support lemma ($\sum_i \hat y_i = k$) are stated"),
        assumptions=["free score vector = linear model on one example with $x = 1$", "$L = 1$ (FY-4)",
                     r"margin: $L(\theta; y) = 0 \iff$ gap $\ge 1$ (FY-3)", "exact arithmetic"],
        summary=(f"{loss}: GD at $\\mathrm{{lr}} = {step}$ reaches exactly zero loss from every start, within "
                 r"$\lceil 1 - g_0 \rceil$ steps"),
    )
    res = _unit_step_cases(lr)
    d.step(r"With $\hat y_i = \operatorname{clip}(\theta_i - \tau, 0, 1)$ the step is $\theta' = \theta - \hat y + y$. "
           r"Per case of $\hat y_i$ (sympy):")
    for text, ok in res:
        d.step(f"{text}: {ok}")
    d.step(r"Let $m = \min_Y \theta$, $M = \max_{\neg Y} \theta$, $g = m - M$. Case A ($m < \tau$): some $i \in Y$ has "
           r"$\hat y_i = 0$, so $\sum_{\neg Y} \hat y \ge 1$ and $M > \tau$. Case B ($m \ge \tau$, $M > \tau + 1$): "
           r"some $j \notin Y$ has $\hat y_j = 1$, so some $i \in Y$ has $\hat y_i < 1$ and $m < \tau + 1$. "
           r"Case C ($m \ge \tau$, $M \le \tau + 1$): the new gap is $\ge 1$.")
    d.step(r"So every step from $g < 1$ either reaches $g' \ge 1$ ($L = 0$, FY-3; then $\hat y = y$, the gradient "
           r"vanishes and $\theta$ stays) or raises the gap by more than 1:", r"g_t \ge 1 \text{ for some } t \le \lceil 1-g_0\rceil")
    return d.decide(all_true([ok for _, ok in res]))


def unit_step_exact(loss: str, ctx: RunContext) -> Evidence:
    """Numeric side of the lr = 1/L reading: exact Fraction GD at lr = 1 (:data:`UNIT_STEP_RUNS`)
    from random rational starts (n = 2..5; k = 1 for sparsemax, k ∈ {1, 2, 3} ∩ [1, n−1] for
    rankmax) must reach L = 0 exactly within ⌈1 − g_0⌉ steps (0 if g_0 ≥ 1), never increase
    the loss, and stay at 0."""
    lr, capped = Fr(UNIT_STEP_RUNS), member(loss).capped  # the mass k is a parameter of C_k only
    rng = random.Random(ctx.seed * 1_000_003 + 31)
    runs = ctx.budget(150, 1500)
    worst, fails, max_steps = None, [], 0
    for r in range(runs):
        n = rng.randint(2, 5)
        k = rng.randint(1, min(3, n - 1)) if capped else 1
        scale = rng.choice([1, 3, 10])
        th0 = [Fr(rng.randint(-12 * scale, 12 * scale), rng.randint(1, 7)) for _ in range(n)]
        y = [1] * k + [0] * (n - k)
        rng.shuffle(y)
        g0 = gap(th0, y)
        bound = 0 if g0 >= 1 else math.ceil(1 - g0)
        ths, Ls = gd_exact(th0, y, lr, k, bound + 2)
        first = next((t for t, L in enumerate(Ls) if L == 0), None)
        ok = (first is not None and first <= bound and all(L == 0 for L in Ls[first:])
              and all(b <= a for a, b in zip(Ls, Ls[1:])))
        if first is not None:
            max_steps = max(max_steps, first)
        if not ok:
            fails.append({"theta0": [_fr(x) for x in th0], "y": y, "k": k, "lr": _fr(lr), "bound": bound, "first_zero": first,
                          "losses": [_fr(x) for x in Ls]})
        elif worst is None or first > worst["steps"]:
            worst = {"theta0": [_fr(x) for x in th0], "y": y, "k": k, "steps": first, "bound": bound}
    detail = (f"$\\mathrm{{lr}} = {_fr(lr)}$ ($1/L = 1$), exact Fraction GD from {runs} random rational starts "
              r"($n = 2, \dots, 5$, scores up to $\pm 120$); holds iff every run reaches $L = 0$ exactly within "
              r"$\lceil 1 - g_0 \rceil$ steps, the loss never increases and stays 0")
    figures = {"runs": runs, "max_steps_to_zero": max_steps, "slowest_start": worst, "failures": len(fails)}
    if fails:
        summary = (f"{len(fails)} of {runs} exact GD runs at $\\mathrm{{lr}} = {_fr(lr)}$ miss exactly zero loss within "
                   r"$\lceil 1 - g_0 \rceil$ steps")
        return Evidence("numeric", "unit-step-exact", "fails", detail, figures, {"runs": fails[:5]},
                        summary=summary, labels=UNIT_STEP_LABELS)
    summary = (f"all {runs} exact GD runs at $\\mathrm{{lr}} = {_fr(lr)}$ reach exactly zero loss within "
               rf"$\lceil 1 - g_0 \rceil$ steps (at most {max_steps})")
    return Evidence("numeric", "unit-step-exact", "holds", detail, figures, summary=summary, labels=UNIT_STEP_LABELS)


UNIT_STEP_LABELS = {"runs": "exact GD runs", "max_steps_to_zero": "most steps to exactly zero loss", "y": "label $y$",
                    "slowest_start": "slowest start", "theta0": r"start $\theta_0$", "k": "$k = |Y|$",
                    "steps": "steps to exactly zero loss", "bound": r"bound $\lceil 1 - g_0 \rceil$", "failures": "runs that break the rule"}


# -- (3) 1.5-entmax, n = 2: the shortfall never reaches 0, for any lr ------------------
def _entmax15_closed_form():
    """(v(s), u(s), h(s), L(s)) for n = 2, y = e_0, d = θ₀ − θ₁ = 2 − s, both in the support."""
    u, v, dd = sp.symbols("u v d", real=True)
    sols = sp.solve([u**2 + v**2 - 1, 2 * u - 2 * v - dd], [u, v], dict=True)
    # the branch with u + v > 0 (both square roots nonnegative): test at d = 0
    sol = next(x for x in sols if (x[u] + x[v]).subs(dd, 0) > 0)
    us, vs = sp.simplify(sol[u].subs(dd, 2 - S)), sp.simplify(sol[v].subs(dd, 2 - S))
    h = 2 * vs**2  # gradient (−ŷ₁, ŷ₁): d grows by 2 lr ŷ₁, so s_{t+1} = s_t − lr h(s_t)
    L = -vs**2 * (2 - S) - sp.Rational(4, 3) * (us**3 + vs**3 - 1)  # Ω* + Ω(e_0) − θ₀, Tsallis α = 3/2
    return us, vs, h, L, sols


@lru_cache(maxsize=8)
def entmax15_never_zero(lr=sp.Rational(1, 2), theta0=(0, 0)) -> Derivation:
    """Decide "GD with step ``lr`` on 1.5-entmax (n = 2, y = e_0) from ``theta0`` reaches exactly zero loss in
    finitely many steps": fails (counterexample) when 0 < s_0 < min(4, 1/(lr C)), holds when s_1 ≤ 0."""
    lr = sp.nsimplify(lr)
    th0 = [sp.nsimplify(x) for x in theta0]
    lr_tex = sp.latex(lr)
    start = f"$\\theta_0 = ({sp.latex(th0[0])}, {sp.latex(th0[1])})$"
    d = Derivation(
        statement=(f"1.5-entmax: GD with constant step $\\mathrm{{lr}} = {lr_tex}$ on the free score vector "
                   f"$\\theta \\in \\mathbb{{R}}^2$, label $e_1$, from {start} reaches exactly zero loss in finitely "
                   "many steps"),
        scope=(r"$n = 2$, symbolic in the shortfall $s \in (0, 4)$ and the step $\eta > 0$ (sympy: closed form, "
               r"series, $C = \lim h/s^2$, global bound, positivity); concrete start for the decision"),
        assumptions=[r"$\alpha = 3/2$, $\hat y = [\theta/2 - \tau]_+^2$, margin $1/(\alpha-1) = 2$ (FY-3)",
                     "free score vector = linear model on one example with $x = 1$ (separable data)",
                     r"any constant step $\eta > 0$ (covers $(0, 1/L]$, $L = 2^{\alpha-2} = 1/\sqrt{2}$, FY-4)",
                     "exact arithmetic"],
        summary=(f"1.5-entmax: GD at $\\mathrm{{lr}} = {lr_tex}$ from {start} reaches exactly zero loss in finitely "
                 "many steps"),
    )
    us, vs, h, L, sols = _entmax15_closed_form()
    tau = sp.Symbol("tau")
    t0, t1 = sp.symbols("theta_0 theta_1", real=True)
    d.step(r"Both classes in the support: $\sqrt{\hat y_i} = \theta_i/2 - \tau$, so with $u = \sqrt{\hat y_0}$, "
           r"$v = \sqrt{\hat y_1}$: $u^2 + v^2 = 1$ and $2u - 2v = \theta_0 - \theta_1 = d$; sympy solves (branch "
           r"$u + v > 0$), with the shortfall $s = 2 - d$:",
           eq("v(s)", vs))
    # KKT check: τ = θ₀/2 − u makes θ₁/2 − τ = v when θ₀ − θ₁ = 2 − s
    kkt = is_zero(sp.simplify((t1 / 2 - (t0 / 2 - us)).subs(t1, t0 - (2 - S)) - vs))
    norm = is_zero(sp.simplify(us**2 + vs**2 - 1))
    # v > 0 on (0, 4): (1 + s − s²/4) − (1 − s/2)² = s(4 − s)/2
    rad = 1 + S - S**2 / 4
    v_pos = is_zero(sp.simplify(vs - (sp.sqrt(rad) - 1 + S / 2) / 2))
    diff_pos = sp.factor(sp.expand(rad - (1 - S / 2) ** 2))
    d.step(r"$v(s) = (\sqrt{1 + s - s^2/4} - 1 + s/2)/2 > 0$ on $(0, 4)$, since", eq(r"(1+s-\tfrac{s^2}{4})-(1-\tfrac s2)^2", diff_pos))
    d.step(r"The gradient is $\hat y - e_1 = (-\hat y_1, \hat y_1)$, so $d$ grows by $2\eta \hat y_1$ and the "
           "shortfall obeys",
           r"s_{t+1} = s_t-\eta\,h(s_t),\quad h(s)=2v(s)^2")
    ser = sp.series(h, S, 0, 4).removeO()
    C = sp.limit(h / S**2, S, 0)
    d.step("Near the margin $h$ is quadratic (sympy series), so the step shrinks like $s^2$:", eq("h(s)", ser) + r"+O(s^4)")
    d.step(r"$C = \lim_{s \to 0} h(s)/s^2$ (sympy):", eq("C", C))
    # global bound h ≤ C s² on (0, 4) for C = 1/2: v ≤ s/2 ⟺ √rad ≤ 1 + s/2 ⟺ (1 + s/2)² − rad ≥ 0
    gap_sq = sp.expand((1 + S / 2) ** 2 - rad)
    bound_ok = all_true([is_zero(C - sp.Rational(1, 2)), sp.simplify(gap_sq).is_nonnegative])
    d.step(r"and $h(s) \le C s^2$ on all of $(0, 4)$: $v \le s/2$ because", eq(r"(1+\tfrac s2)^2-(1+s-\tfrac{s^2}{4})", gap_sq))
    d.step(r"Induction: if $0 < s_t \le s_0 < \min(4, 1/(\eta C))$ then", r"s_{t+1}\ge s_t(1-\eta C s_t)>0,\quad s_{t+1}<s_t")
    d.step(r"so $s_t \in (0, s_0]$ for every $t$: $\hat y_1 = v(s_t)^2 > 0$, $\hat y \ne e_1$ and $L > 0$ (FY-2) at "
           r"every step. For every $\eta > 0$ such starts exist ($s_0$ small enough): no step size gives finite-time "
           "zero loss.")
    lser = sp.series(L, S, 0, 5).removeO()
    d.step(r"The loss on the path (Tsallis $\Omega$, sympy series):", eq("L(s)", lser) + r"+O(s^5)")
    s0 = 2 - (th0[0] - th0[1])
    cond = bool(s0 > 0) and bool(s0 < 4) and bool(s0 < 1 / (lr * C))  # concrete numbers: decided exactly
    d.step(r"Concrete start: $s_0 = 2 - (\theta_{0,0} - \theta_{0,1}) = " + sp.latex(s0) + r"$; condition "
           r"$0 < s_0 < \min(4, 1/(\eta C)) = \min(4, " + sp.latex(sp.nsimplify(1 / (lr * C))) + f")$: {cond}")
    ok_all = all_true([kkt, norm, v_pos, bound_ok, len(sols) == 2])
    if ok_all is True and not cond and bool(s0 > 0) and bool(s0 < 4):
        # a step large enough that the first update jumps past the margin: zero loss after one step
        s1 = sp.simplify(s0 - lr * h.subs(S, s0))
        past = s1.is_nonpositive
        d.step(r"The first step from $s_0 \in (0, 4)$ (both classes in the support):", eq("s_1", s1) + r" \le 0" * bool(past))
        if past:
            d.step(r"so $\theta_{1,0} - \theta_{1,1} = 2 - s_1 \ge 2 = 1/(\alpha - 1)$, the margin: $\hat y = e_1$, $L = 0$ "
                   r"(FY-3); the gradient $\hat y - e_1$ then vanishes and $\theta$ stays: zero loss from step 1 on.")
            d.summary = (f"1.5-entmax, $\\mathrm{{lr}} = {lr_tex}$, $s_0 = {sp.latex(s0)}$: the first step jumps past the "
                         f"margin ($s_1 = {sp.latex(s1)} \\le 0$): exactly zero loss after one step")
            return d.decide(True)
    if ok_all is not True or not cond:
        d.step("A derivation step did not check or the start violates the condition: undecided.")
        return d.decide(None)
    # corroboration: 40-digit iteration of the exact recurrence (not part of the proof)
    hs = sp.lambdify(S, h, "mpmath")
    import mpmath
    with mpmath.workdps(40):
        s, traj, lv = mpmath.mpf(sp.N(s0, 40)), [], sp.lambdify(S, L, "mpmath")
        lr_mp = mpmath.mpf(sp.N(lr, 40))
        for _ in range(N_STEPS + 1):
            traj.append((mpmath.nstr(s, 20), mpmath.nstr(lv(s), 20)))
            s = s - lr_mp * hs(s)
    d.step(r"40-digit iteration (corroboration): $s_0, \dots, s_" + str(N_STEPS) + " = " + ", ".join(a for a, _ in traj)
           + "$")
    d.summary = (f"1.5-entmax, $\\mathrm{{lr}} = {lr_tex}$, $s_0 = {sp.latex(s0)}$: the shortfall stays in $(0, s_0]$, "
                 "so $L > 0$ at every step")
    d.counterexample = {"loss": "entmax", "alpha": 1.5, "theta0": [sp.sstr(x) for x in th0], "y": 0,
                        "lr": sp.sstr(lr), "s0": sp.sstr(s0), "C": sp.sstr(C),
                        "condition": "0 < s0 < min(4, 1/(lr*C))",
                        "shortfall_first_steps": [a for a, _ in traj], "losses_first_steps": [b for _, b in traj]}
    return d.decide(False)


# -- registry helpers ------------------------------------------------------------------
def finite_steps_row(loss: str) -> Derivation:
    """The counterexample for the reading "any constant step in (0, 1/L]" of each sparse loss."""
    L = member(loss)
    if L.quadratic:  # on C_k the row's counterexample takes the mass k = 2 of n = 3
        return sparse_finite_steps(L.name, ROW_STEPS[L.name], *((2, 3) if L.capped else (1, 2)))
    if L.tsallis:  # the closed form of α = 3/2 (2√p₀ − 2√p₁ = θ₀ − θ₁) decides the row
        return entmax15_never_zero(ROW_STEPS[L.name], ROW_STARTS[L.name])
    raise ValueError(loss)


def entmax_unit_step() -> Derivation:
    """1.5-entmax at lr = 1/L = √2 (L = 2^{α−2}, FY-4) from θ0 = (1, 0): s_0 = 1 < √2 = 1/(lr C)."""
    return entmax15_never_zero(ENTMAX_UNIT_STEP, ENTMAX_UNIT_START)


__all__ = ["project_capped", "loss_capped", "gd_exact", "gap", "sparse_finite_steps", "unit_step_finite",
           "unit_step_exact", "entmax15_never_zero", "finite_steps_row", "entmax_unit_step", "free_region_factor",
           "ROW_STEPS", "ROW_STARTS", "ENTMAX_UNIT_STEP", "ENTMAX_UNIT_START", "UNIT_STEP", "UNIT_STEP_RUNS"]