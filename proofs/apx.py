"""APX (CLAIMS.md §4) in sympy: bias–variance of the approximate Softmax estimators.

Every public function returns a :class:`Derivation` (some with a numeric by-product in
a tuple).  The estimators are the ones of ``losses/approx.py`` (module docstring):
canonical SSM (proposal q̃ over the negatives, logQ correction), NCE
(Δ_j = θ_j − c − log(k q_j)), HSM reading H2 (tied node scores u = A θ, A = ``Tree.tie``)
and reading H1 (free node scores), RG² and RG×.  ``g = softmax(θ) − e_y`` throughout.

* :func:`decomposition` — E‖g̃ − g‖² = ‖E g̃ − g‖² + E‖g̃ − E g̃‖² (K = 3 outcomes in R²,
  symbolic); a point mass has variance 0.                                     (APX-1)
* :func:`deterministic_variance` — HSM (H2), RG², RG× write g̃ as a function of θ alone
  (n = 3, symbolic θ): variance of the point-mass law is 0.             (APX-1, APX-4)
* :func:`ssm_delta_method` — second-order delta method: E g̃ − g = b1/m + O(1/m²),
  b1 derived by sympy (n = 3 symbolic, printed) and evaluated for any n ≤ 8.  (APX-2)
* :func:`ssm_ideal_unbiased`, :func:`ssm_only_if` — unbiased for every m under
  q̃ ∝ exp θ (exact enumeration, small n, m), and only then (m = 1, n = 3).    (APX-2)
* :func:`nce_limit`, :func:`nce_population` — bias → 0 as k → ∞ iff c = log Z (the
  c = 0 limit is (Z − 1) p); the population minimizer is θ = log p for every k. (APX-3)
* :func:`hsm_tree_dependence` (H2: the two trees of n = 3 give different bias),
  :func:`hsm_h1_tree_free` (H1: every tree fits every p exactly — the tree-dependence
  claim fails for that reading).                                              (APX-4)
* :func:`rg_scale`, :func:`rg_spread`, :func:`rg2_weighted_squared` — bias² near θ = 0
  (series in s for θ = s θ0), with the mean free (fails for RG²), and RG² as a weighted
  squared loss.                                                               (APX-5)
* :func:`sgd_neighbourhood` — the fixed point of s² = (ρ s + η b)² + η² σ², its
  monotonicity in b and σ², and its limits (``proofs/sgd_bound.py``).         (APX-6)
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from .derivation import Derivation, is_zero
from .sgd_bound import neighbourhood_radius

CANONICAL_THETA0 = (sp.Integer(2), sp.Integer(1), sp.Integer(0), sp.Integer(-1), sp.Integer(-2), sp.Rational(1, 2))


# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------
def _mean(outcomes, weights):
    dim = len(outcomes[0])
    return [sp.Add(*[w * v[i] for v, w in zip(outcomes, weights)]) for i in range(dim)]


def _variance(outcomes, weights) -> sp.Expr:
    """E‖g̃ − E g̃‖² of a discrete law (outcome vectors with probabilities)."""
    mu = _mean(outcomes, weights)
    return sp.Add(*[w * sp.Add(*[(vi - mi) ** 2 for vi, mi in zip(v, mu)]) for v, w in zip(outcomes, weights)])


def _softmax(theta):
    e = [sp.exp(t) for t in theta]
    Z = sp.Add(*e)
    return [ei / Z for ei in e]


def _full_grad(theta, y: int):
    p = _softmax(theta)
    return [pj - (1 if j == y else 0) for j, pj in enumerate(p)]


def _rat(v) -> sp.Rational:
    """A float as the exact rational of its shortest decimal representation."""
    return sp.Rational(repr(float(v)))


def _and(*flags):
    """Three-valued AND: False if any is False, None if any is None, else True."""
    if any(f is False for f in flags):
        return False
    if any(f is None for f in flags):
        return None
    return True


def _sq(v) -> sp.Expr:
    return sp.Add(*[vi ** 2 for vi in v])


# --------------------------------------------------------------------------------------
# (1) the decomposition, (2) deterministic estimators
# --------------------------------------------------------------------------------------
def decomposition() -> Derivation:
    """E‖g̃ − g‖² = ‖E g̃ − g‖² + E‖g̃ − E g̃‖² for a discrete estimator (APX-1)."""
    d = Derivation(
        statement="MSE = bias² + variance: E‖g̃ − g‖² = ‖E g̃ − g‖² + E‖g̃ − E g̃‖² for an estimator g̃ "
                  "of g; a deterministic estimator (point mass) has variance exactly 0",
        scope="K = 3 outcomes in R² with symbolic probabilities (w1, w2, 1 − w1 − w2), symbolic outcome "
              "vectors and symbolic g (polynomial identity); the general argument (any law with a finite "
              "second moment) is the cross-term step; point mass: symbolic outcome in R²",
        assumptions=["E‖g̃‖² < ∞", "g is a fixed (non-random) vector"],
    )
    w1, w2 = sp.symbols("w_1 w_2", nonnegative=True)
    W = [w1, w2, 1 - w1 - w2]
    V = [sp.symbols(f"v_{k}1 v_{k}2", real=True) for k in range(1, 4)]
    g = sp.symbols("g_1 g_2", real=True)
    mu = _mean(V, W)
    mse = sp.Add(*[w * _sq([vi - gi for vi, gi in zip(v, g)]) for v, w in zip(V, W)])
    bias2 = _sq([m - gi for m, gi in zip(mu, g)])
    var = _variance(V, W)
    d.step("Outcomes $v_1, v_2, v_3 \\in \\mathbb{R}^2$ with probabilities $w_1, w_2, 1 - w_1 - w_2$; "
           "mean $E\\tilde g$ =", sp.Matrix(mu))
    diff = sp.expand(mse - bias2 - var)
    d.step("Expanding MSE − bias² − variance gives", diff)
    d.step("General argument: $\\tilde g - g = (\\tilde g - E\\tilde g) + (E\\tilde g - g)$; squaring, the "
           "cross term $2\\langle E\\tilde g - g,\\, E[\\tilde g - E\\tilde g]\\rangle = 0$ because "
           "$E[\\tilde g - E\\tilde g] = 0$ and $E\\tilde g - g$ is not random.")
    c = sp.symbols("c_1 c_2", real=True)
    var_point = sp.expand(_variance([c], [sp.Integer(1)]))
    d.step("Point mass at $c$ (weights [1]): variance =", var_point)
    return d.decide(_and(diff == 0, is_zero(var_point)))


def _tree_rationals(tree):
    """(A as sympy rationals, paths, signs) of a losses.approx.Tree."""
    A = sp.Matrix(tree.n - 1, tree.n,
                  lambda i, j: sp.Rational(Fraction(float(tree.tie[i, j])).limit_denominator(10 ** 6)))
    paths, signs = [], []
    for j in range(tree.n):
        depth = int((tree.sign[j] != 0).sum())
        paths.append([int(v) for v in tree.path[j, :depth]])
        signs.append([int(s) for s in tree.sign[j, :depth]])
    return A, paths, signs


def _hsm_h2_grad(tree, theta, y: int):
    """(g̃ = Aᵀ ∂(−log p(y))/∂u with u = A θ, the loss, u) by sympy diff."""
    A, paths, signs = _tree_rationals(tree)
    u = sp.symbols(f"u_0:{tree.n - 1}", real=True)
    loss = -sp.Add(*[sp.log(1 / (1 + sp.exp(-s * u[v]))) for v, s in zip(paths[y], signs[y])])
    du = sp.Matrix([sp.diff(loss, uv) for uv in u])
    uval = A * sp.Matrix(theta)
    sub = dict(zip(u, uval))
    gt = (A.T * du.subs(sub))
    return [sp.simplify(e) for e in gt], loss.subs(sub), list(uval)


def _hsm_reference(tree, theta_num, y: int):
    import torch

    from losses import approx

    t = torch.tensor([[float(v) for v in theta_num]], dtype=torch.float64)
    return approx.hsm_grad(t, torch.tensor([y]), tree)[1][0].tolist()


def _rg_loss(theta, y: int, kind: str):
    n = len(theta)
    mean = sp.Add(*theta) / n
    loss = -theta[y] + sp.log(n) + mean + sp.Add(*[t ** 2 for t in theta]) / (2 * n)
    return loss - mean ** 2 / 2 if kind == "rgx" else loss


def _rg_grad(theta, y: int, kind: str):
    """∇ of the RG loss by sympy diff in free symbols, then evaluated at ``theta``."""
    free = sp.symbols(f"vartheta_0:{len(theta)}", real=True)
    loss = _rg_loss(free, y, kind)
    sub = dict(zip(free, theta))
    return [sp.expand(sp.diff(loss, t).subs(sub)) for t in free]


def deterministic_variance(method: str) -> Derivation:
    """HSM (reading H2), RG², RG×: g̃ is a function of θ only, so the variance is 0."""
    if method not in ("hsm", "rg2", "rgx"):
        raise ValueError(f"method must be 'hsm', 'rg2' or 'rgx', got {method!r}")
    from losses import approx

    n, y = 3, 0
    theta = sp.symbols(f"theta_0:{n}", real=True)
    label = {"hsm": "HSM (reading H2, balanced tree ((0,1),2))", "rg2": "RG²", "rgx": "RG×"}[method]
    d = Derivation(
        statement=f"{label} is deterministic: g̃ contains no random quantity, so E‖g̃ − E g̃‖² = 0",
        scope="n = 3, y = 0, symbolic θ" + (", tree balanced_tree(3) = ((0,1),2); numeric check of the "
                                            "closed form against losses.approx.hsm_grad at θ = (1/2, −1, 1/3)"
                                            if method == "hsm" else ""),
        assumptions=["θ is given (the estimator is evaluated at a fixed score vector)"],
    )
    checks = []
    if method == "hsm":
        tree = approx.balanced_tree(n)
        gt, loss, u = _hsm_h2_grad(tree, theta, y)
        d.step("Node scores $u = A\\theta$ with $A$ = tree.tie:", sp.Matrix(u))
        d.step("$-\\log p(y)$ along the path of y:", loss)
        d.step("$\\tilde g = A^\\top \\partial(-\\log p(y))/\\partial u$ =", sp.Matrix(gt))
        direct = [sp.diff(loss, t) for t in theta]
        same = _and(*[is_zero(a - b) for a, b in zip(gt, direct)])
        d.step("Chain rule check: $\\tilde g - \\partial(-\\log p(y))/\\partial\\theta$ simplifies to 0: "
               f"{same}")
        point = (sp.Rational(1, 2), sp.Integer(-1), sp.Rational(1, 3))
        val = [float(e.subs(dict(zip(theta, point)))) for e in gt]
        ref = _hsm_reference(tree, point, y)
        err = max(abs(a - b) for a, b in zip(val, ref))
        d.step(f"At θ = (1/2, −1, 1/3): sympy g̃ = {[round(v, 12) for v in val]}, losses.approx.hsm_grad = "
               f"{[round(v, 12) for v in ref]} (max |Δ| = {err:.2e})")
        checks += [same, err < 1e-12]
    else:
        gt = _rg_grad(theta, y, method)
        tb = sp.Add(*theta) / n
        closed = [(1 + t) / n - (1 if j == y else 0) for j, t in enumerate(theta)]
        if method == "rgx":
            closed = [c - tb / n for c in closed]
        d.step(f"{label} loss:", _rg_loss(theta, y, method))
        d.step("$\\tilde g = \\nabla_\\theta$ loss =", sp.Matrix(gt))
        same = _and(*[is_zero(a - b) for a, b in zip(gt, closed)])
        d.step("Equals the closed form of losses/approx.py "
               + ("$(1+\\theta)/n - e_y$" if method == "rg2" else "$(1+\\theta-\\bar\\theta)/n - e_y$")
               + f": {same}")
        checks.append(same)
    var = sp.simplify(_variance([gt], [sp.Integer(1)]))
    d.step("Its law is the point mass at $\\tilde g(\\theta)$ (weights [1]); variance =", var)
    checks.append(is_zero(var))
    return d.decide(_and(*checks))


# --------------------------------------------------------------------------------------
# (3) SSM: the delta method
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _ssm_b1_symbolic(r: int):
    """b1 (entry 0 = the positive, 1..r = the negatives) for r negatives, as sympy
    expressions of a = x_y, x_1..x_r, q̃_1..q̃_r, via second derivatives of h."""
    a = sp.Symbol("a", positive=True)
    x = sp.symbols(f"x_1:{r + 1}", positive=True)
    t = sp.symbols(f"qt_1:{r + 1}", positive=True)
    Y = sp.symbols(f"Y_1:{r + 1}", positive=True)
    den = a + sp.Add(*Y)
    h = [a / den - 1] + [Yj / den for Yj in Y]
    S1 = sp.Matrix(r, r, lambda i, k: (x[i] ** 2 / t[i] if i == k else 0) - x[i] * x[k])
    at = dict(zip(Y, x))
    b1 = []
    for hj in h:
        grad = [sp.diff(hj, Yi) for Yi in Y]
        tot = sp.Add(*[sp.diff(grad[i], Y[k]).subs(at) * S1[i, k] for i in range(r) for k in range(r)])
        b1.append(tot / 2)
    return a, x, t, Y, h, S1, b1


def ssm_delta_method(theta, y: int, q) -> tuple[Derivation, list[float]]:
    """Second-order delta method for canonical SSM: E g̃ − g = b1/m + O(1/m²) (APX-2).

    ``theta`` (n ≤ 8 floats), label ``y``, ``q`` a distribution over all n classes
    (conditioned on the negatives, q̃_j = q_j/(1 − q_y)).  Returns (Derivation, b1) with b1
    a list of n floats (entry y included)."""
    theta = [float(v) for v in theta]
    q = [float(v) for v in q]
    n = len(theta)
    if not 2 <= n <= 8:
        raise ValueError(f"theta must have 2 ≤ n ≤ 8 entries, got {n}")
    if len(q) != n:
        raise ValueError(f"q must have n = {n} entries, got {len(q)}")
    if not (isinstance(y, int) and 0 <= y < n):
        raise ValueError(f"y must be a class index in [0, {n - 1}], got {y!r}")
    if any(v < 0 or not math.isfinite(v) for v in q) or abs(sum(q) - 1) > 1e-9:
        raise ValueError("q must be a distribution (non-negative, summing to 1)")
    neg = [j for j in range(n) if j != y]
    if any(q[j] <= 0 for j in neg):
        raise ValueError("q must put positive mass on every negative (a negative with q̃_j = 0 is never "
                         "sampled: E g̃_j = 0 ≠ p_j for every m, no 1/m expansion)")

    d = Derivation(
        statement="Canonical SSM: E g̃ − g = b1/m + O(1/m²) (second-order delta method), with b1 in closed "
                  "form; the entries of b1 sum to 0",
        scope="closed form derived for n = 3 (two negatives) with symbolic x = exp θ (positive) and symbolic "
              f"q̃; the same sympy construction evaluated for n = {n}, y = {y} at the given θ, q "
              "(θ and q as exact decimal rationals, exp evaluated to 40 digits, reported as float64)",
        assumptions=[
            "m negatives i.i.d. from q̃ (with replacement), q̃_j > 0 on every negative",
            "the O(1/m²) remainder: h is smooth with bounded derivatives on Y ≥ 0 (a + ΣY ≥ a > 0) and the "
            "central moments of order ≥ 3 of a multinomial mean are O(1/m²)",
        ],
    )
    d.step("With $x_j = e^{\\theta_j}$, $a = x_y$, $Y_j = \\frac{1}{m}\\sum_k [s_k = j]\\, x_j/\\tilde q_j$ "
           "($j \\ne y$): the SSM weights are $w_0 = a/(a + \\sum Y)$, so "
           "$\\tilde g_y = h_y(Y) = a/(a+\\sum Y) - 1$, $\\tilde g_j = h_j(Y) = Y_j/(a + \\sum Y)$; "
           "$E Y_j = x_j$ and $\\mathrm{Cov}(Y) = \\Sigma_1/m$, "
           "$\\Sigma_1 = \\mathrm{diag}(x_j^2/\\tilde q_j) - x x^\\top$; $h(x) = g$.")
    d.step("Taylor to second order around $Y = x$ and take expectations (the first-order term has mean 0): "
           "$E\\tilde g - g = \\frac{1}{m} b_1 + O(m^{-2})$, "
           "$b_{1,j} = \\tfrac12 \\sum_{i,k} \\partial^2 h_j/\\partial Y_i \\partial Y_k\\,\\Sigma_{1,ik}$.")

    # n = 3 symbolic
    a, x, t, Y, h, S1, b1s = _ssm_b1_symbolic(2)
    b1f = [sp.factor(sp.simplify(e)) for e in b1s]
    d.step("n = 3 (negatives 1, 2): $\\Sigma_1$ =", S1)
    d.step("$b_1$ (entries y, 1, 2) =", sp.Matrix(b1f))
    Z = a + sp.Add(*x)
    V = sp.Add(*S1)
    compact = [a * V / Z ** 3] + [-sp.Add(*S1.row(i)) / Z ** 2 + x[i] * V / Z ** 3 for i in range(2)]
    same = _and(*[is_zero(e - c) for e, c in zip(b1f, compact)])
    d.step("Compact form $b_{1,y} = a V/Z^3$, $b_{1,j} = -(\\Sigma_1 \\mathbf{1})_j/Z^2 + x_j V/Z^3$ "
           f"($V = \\mathbf{{1}}^\\top \\Sigma_1 \\mathbf{{1}}$, $Z = a + \\sum x$) matches: {same}")
    total = sp.simplify(sp.Add(*b1f))
    d.step("Sanity identity $\\sum_j b_{1,j}$ =", total)
    sum_zero = is_zero(total)

    # numeric evaluation for the given configuration
    r = n - 1
    a_r, x_r, t_r, _, _, _, b1r = _ssm_b1_symbolic(r)
    th = [_rat(v) for v in theta]
    qr = [_rat(v) for v in q]
    mass = 1 - qr[y]
    sub = {a_r: sp.exp(th[y]).evalf(40)}
    for i, j in enumerate(neg):
        sub[x_r[i]] = sp.exp(th[j]).evalf(40)
        sub[t_r[i]] = qr[j] / mass
    vals = [sp.N(e.subs(sub), 30) for e in b1r]
    b1 = [0.0] * n
    b1[y] = float(vals[0])
    for i, j in enumerate(neg):
        b1[j] = float(vals[i + 1])
    d.step(f"Evaluated at θ = {theta}, y = {y}, q = {[round(v, 6) for v in q]}: b1 = "
           f"{[float(f'{v:.10g}') for v in b1]} (sum {sum(b1):.2e})")
    return d.decide(_and(same, sum_zero)), b1


def ssm_ideal_unbiased() -> Derivation:
    """Canonical SSM with q̃ ∝ exp θ on the negatives is unbiased for every θ (APX-2, 'if')."""
    from numerics.apx_exact import ssm_ideal_bias_symbolic

    cases = ((3, 1), (3, 2), (3, 3), (4, 1), (4, 2))
    d = Derivation(
        statement="Canonical SSM with the ideal proposal q̃_j = x_j / Σ_{i≠y} x_i (x = exp θ) is unbiased: "
                  "E g̃ = g for every θ",
        scope="y = 0, (n, m) ∈ {(3,1), (3,2), (3,3), (4,1), (4,2)}, symbolic positive x = exp θ, exact "
              "enumeration of every multiset of m negatives (numerics.apx_exact.ssm_ideal_bias_symbolic); "
              "every m by the argument in the steps",
        assumptions=["x_j = exp θ_j > 0"],
    )
    flags = []
    for n, m in cases:
        bias = ssm_ideal_bias_symbolic(n, 0, m)
        z = [is_zero(b) for b in bias]
        d.step(f"n = {n}, m = {m}: E g̃ − g entries simplify to", sp.Matrix([sp.simplify(b) for b in bias]))
        flags += z
    d.step("General m: with $\\tilde q_j = x_j/S$, $S = \\sum_{j\\ne y} x_j$, every corrected logit is "
           "$o_k = \\theta_{s_k} - \\log(m\\tilde q_{s_k}) = \\log(S/m)$ whatever the draw, so "
           "$\\sum_{k\\ge 1} e^{o_k} = S$, $w_0 = x_y/(x_y + S) = p_y$ and $w_k = S/(mZ)$; hence "
           "$\\tilde g_y = p_y - 1 = g_y$ surely and $E\\tilde g_j = E[c_j]\\, S/(mZ) = m\\tilde q_j S/(mZ) = "
           "x_j/Z = p_j$ ($c_j$ = number of draws equal to j).")
    return d.decide(_and(*flags))


def ssm_only_if() -> Derivation:
    """Converse at m = 1, n = 3: the bias of g̃_y vanishes only at q̃ ∝ exp θ (APX-2, 'only if')."""
    d = Derivation(
        statement="Canonical SSM is unbiased only under the ideal proposal: with two negatives and "
                  "q̃ = (t, 1 − t), E g̃_y = g_y iff t = x_1/(x_1 + x_2); a negative with q̃_j = 0 is biased",
        scope="m = 1, n = 3, y = 0, symbolic positive x = exp θ and symbolic t ∈ (0, 1); the q̃_j = 0 case "
              "for any n, m",
        assumptions=["x_j = exp θ_j > 0", "0 < t < 1 for the root analysis"],
    )
    a, x1, x2 = sp.symbols("x_0 x_1 x_2", positive=True)
    tt = sp.Symbol("t", positive=True)
    Z = a + x1 + x2
    # m = 1: draw negative 1 w.p. t (Y_1 = x1/t), negative 2 w.p. 1 − t (Y_2 = x2/(1 − t))
    Eg = tt * (a / (a + x1 / tt) - 1) + (1 - tt) * (a / (a + x2 / (1 - tt)) - 1)
    bias = sp.together(Eg - (a / Z - 1))
    num, den = sp.fraction(sp.factor(bias))
    d.step("$E\\tilde g_y - g_y$ =", sp.factor(bias))
    target = (tt * (x1 + x2) - x1) ** 2
    ratio = sp.factor(sp.cancel(num / target))
    d.step("Numerator / $(t(x_1+x_2) - x_1)^2$ =", ratio)
    poly_ok = not ratio.has(tt)  # numerator = (t-free cofactor) · (t(x1+x2) − x1)²
    roots = sp.solve(sp.Eq(num, 0), tt)
    d.step("Roots in t of the numerator:", sp.Matrix(roots))
    ideal = x1 / (x1 + x2)
    unique_ideal = len(roots) == 1 and is_zero(roots[0] - ideal)
    s = sp.Symbol("s", positive=True)
    R = sp.factor(sp.cancel(bias / target).subs(tt, 1 / (1 + s)))  # t ∈ (0, 1) ⟺ t = 1/(1+s), s > 0
    d.step("bias / $(t(x_1+x_2) - x_1)^2$ with $t = 1/(1+s)$, $s > 0$ (i.e. $0 < t < 1$):", R)
    R_pos = R.is_positive
    d.step(f"positive on 0 < t < 1: {R_pos}; so $E\\tilde g_y - g_y \\ge 0$ with equality iff "
           f"$t = x_1/(x_1+x_2)$ (cofactor free of t: {poly_ok}, unique root is the ideal proposal: "
           f"{unique_ideal})")
    d.step("q̃_j = 0 on a negative j: j is never sampled, so g̃_j = 0 on every draw and E g̃_j = 0, while "
           "g_j = p_j = x_j/Z > 0:")
    pj_pos = (x1 / Z).is_positive
    d.step("$p_1 = x_1/Z$ is positive:", sp.sympify(bool(pj_pos)))
    return d.decide(_and(bool(poly_ok), R_pos, unique_ideal, pj_pos))


# --------------------------------------------------------------------------------------
# (5) NCE
# --------------------------------------------------------------------------------------
def _sig(z):
    return 1 / (1 + sp.exp(-z))


def _nce_mean(theta, q, k, c, y):
    """E g̃ of NCE by linearity, entries as sympy expressions."""
    delta = [t - c - sp.log(k * qj) for t, qj in zip(theta, q)]
    mean = [k * qj * _sig(dj) for qj, dj in zip(q, delta)]
    mean[y] = mean[y] - _sig(-delta[y])
    return mean


def nce_limit(reading: str) -> Derivation:
    """NCE bias as k → ∞: 0 when c = log Z ('c=logZ'), (Z − 1) p when c = 0 ('c=0') (APX-3)."""
    if reading not in ("c=logZ", "c=0"):
        raise ValueError(f"reading must be 'c=logZ' or 'c=0', got {reading!r}")
    k = sp.Symbol("k", positive=True)
    y = 0
    if reading == "c=logZ":
        d = Derivation(
            statement="NCE with c = log Z: E g̃ → g as k → ∞, with bias = O(1/k) (bias² = O(1/k²))",
            scope="per-coordinate formula for any n (symbols p_j, q_j, k > 0, e^{θ_j − c} = p_j); limits "
                  "and 1/k series for n = 3, y = 0 with symbolic x = exp θ (positive) and q (positive)",
            assumptions=["q_j > 0 on every class", "k noise samples i.i.d. from q; E g̃ by linearity"],
        )
        pj, qj, py, qy = sp.symbols("p_j q_j p_y q_y", positive=True)
        dj = sp.log(pj) - sp.log(k * qj)  # θ_j − c − log(k q_j) with e^{θ_j − c} = p_j
        bj = sp.simplify(k * qj * _sig(dj) - pj)
        dy = sp.log(py) - sp.log(k * qy)
        by = sp.simplify(-_sig(-dy) + k * qy * _sig(dy) - (py - 1))
        d.step("$E\\tilde g_j = k q_j \\sigma(\\Delta_j)$ ($j\\ne y$), $E\\tilde g_y = -\\sigma(-\\Delta_y) + "
               "k q_y \\sigma(\\Delta_y)$, $\\Delta_j = \\theta_j - c - \\log(k q_j)$; with c = log Z, "
               "$e^{\\Delta_j} = p_j/(k q_j)$. Bias of a negative coordinate:", bj)
        per_coord = _and(is_zero(bj + pj ** 2 / (pj + k * qj)),
                         is_zero(by - py * (1 - py) / (py + k * qy)))
        d.step("Bias of the label coordinate:", by)
        d.step(f"Matches $-p_j^2/(p_j + k q_j)$ and $p_y(1-p_y)/(p_y + k q_y)$: {per_coord}")
        x = sp.symbols("x_0:3", positive=True)
        q = sp.symbols("q_0:3", positive=True)
        Z = sp.Add(*x)
        theta = [sp.log(v) for v in x]
        mean = _nce_mean(theta, q, k, sp.log(Z), y)
        g = [v / Z - (1 if j == y else 0) for j, v in enumerate(x)]
        bias = [sp.simplify(m_ - g_) for m_, g_ in zip(mean, g)]
        d.step("n = 3 (x = exp θ): bias vector =", sp.Matrix([sp.factor(sp.cancel(b_)) for b_ in bias]))
        lims = [sp.limit(b, k, sp.oo) for b in bias]
        d.step("$\\lim_{k\\to\\infty}$ of each entry:", sp.Matrix(lims))
        eps = sp.Symbol("epsilon", positive=True)
        ser = [sp.series(b.subs(k, 1 / eps), eps, 0, 2).removeO() for b in bias]
        lead = [sp.simplify(s_.coeff(eps, 1)) for s_ in ser]
        const = [sp.simplify(s_.coeff(eps, 0)) for s_ in ser]
        d.step("Series in $\\varepsilon = 1/k$: bias = $\\varepsilon \\cdot$", sp.Matrix(lead))
        d.step("so bias = O(1/k) and bias² = O(1/k²) (the $\\varepsilon^0$ terms are", sp.Matrix(const))
        ok = _and(per_coord, *[is_zero(v) for v in lims], *[is_zero(v) for v in const])
        return d.decide(ok)

    d = Derivation(
        statement="NCE with a wrong fixed normalizer c = 0: the bias does not vanish as k → ∞; its limit is "
                  "(Z − 1) p, nonzero unless Z = Σ exp θ = 1",
        scope="n = 3, y = 0, symbolic x = exp θ (positive) and q (positive) for the limit; the canonical "
              "θ = (2, 1, 0, −1, −2, 1/2) (n = 6) for the value of ‖(Z − 1) p‖²",
        assumptions=["q_j > 0 on every class", "k noise samples i.i.d. from q; E g̃ by linearity"],
    )
    x = sp.symbols("x_0:3", positive=True)
    q = sp.symbols("q_0:3", positive=True)
    Z = sp.Add(*x)
    theta = [sp.log(v) for v in x]
    mean = _nce_mean(theta, q, k, sp.Integer(0), y)
    g = [v / Z - (1 if j == y else 0) for j, v in enumerate(x)]
    bias = [sp.simplify(m_ - g_) for m_, g_ in zip(mean, g)]
    d.step("c = 0, $\\Delta_j = \\theta_j - \\log(k q_j)$: bias vector =",
           sp.Matrix([sp.factor(sp.cancel(b_)) for b_ in bias]))
    lims = [sp.simplify(sp.limit(b, k, sp.oo)) for b in bias]
    d.step("$\\lim_{k\\to\\infty}$ bias =", sp.Matrix(lims))
    form = _and(*[is_zero(l_ - (Z - 1) * v / Z) for l_, v in zip(lims, x)])
    d.step(f"equals $(Z - 1)\\,p$ with $p = x/Z$: {form}; zero iff Z = 1 since p ≠ 0")
    val = _nce_c0_limit_bias2(CANONICAL_THETA0)
    d.step(f"Canonical θ = (2, 1, 0, −1, −2, 1/2): $\\|(Z-1)p\\|^2$ = {val:.6f}")
    nonzero = not is_zero(sp.Add(*[l_ ** 2 for l_ in lims]).subs(dict(zip(x, [sp.E ** 2, sp.E, 1])))) \
        and val > 0
    return d.decide(_and(form, nonzero))


def _nce_c0_limit_bias2(theta) -> float:
    """‖(Z − 1) p‖² for exact θ (the k → ∞ bias² of NCE with c = 0), evaluated to float."""
    th = [sp.nsimplify(v) if not isinstance(v, sp.Basic) else v for v in theta]
    x = [sp.exp(t) for t in th]
    Z = sp.Add(*x)
    return float(sp.N(sp.Add(*[((Z - 1) * v / Z) ** 2 for v in x]), 30))


def nce_population() -> Derivation:
    """Population NCE: the per-class objective is minimized at θ_j = log p_j for every k (APX-3)."""
    d = Derivation(
        statement="The population NCE objective (data p, noise q, k noise samples per datum, c = 0 absorbed "
                  "in θ) is minimized at θ_j = log p_j for every k: the minimizer recovers the data "
                  "distribution",
        scope="one class j, symbolic p_j, q_j, k > 0 (the objective separates over classes, so every n)",
        assumptions=["p_j > 0, q_j > 0", "the expectation over data and noise is exact (population)"],
    )
    th = sp.Symbol("theta_j", real=True)
    p, q, k = sp.symbols("p_j q_j k", positive=True)
    L = sp.log(k * q)
    sp_ = lambda z: sp.log(1 + sp.exp(z))  # noqa: E731 softplus
    J = p * sp_(-(th - L)) + k * q * sp_(th - L)
    d.step("$J_j(\\theta_j)$ =", J)
    dJ = sp.simplify(sp.diff(J, th))
    d.step("$J_j'$ =", dJ)
    sols = sp.solve(sp.Eq(dJ, 0), th)
    d.step("Stationary points:", sp.Matrix(sols))
    unique = len(sols) == 1 and is_zero(sp.expand_log(sols[0] - sp.log(p), force=True))
    d2 = sp.simplify(sp.diff(J, th, 2))
    d.step("$J_j''$ =", d2)
    d2_at = sp.simplify(d2.subs(th, sp.log(p)))
    d.step("$J_j''(\\log p_j)$ =", d2_at)
    pos = d2.is_positive
    d.step(f"$J_j'' > 0$ for every θ (strictly convex): {pos}")
    return d.decide(_and(unique, pos, d2_at.is_positive))


# --------------------------------------------------------------------------------------
# (6) HSM
# --------------------------------------------------------------------------------------
def hsm_tree_dependence() -> Derivation:
    """Reading H2: the bias of tied HSM depends on the tree (n = 3, ((0,1),2) vs (0,(1,2)))."""
    from losses import approx

    n, y = 3, 0
    theta = sp.symbols(f"theta_0:{n}", real=True)
    trees = {"((0,1),2)": approx.balanced_tree(3), "(0,(1,2))": approx.Tree(3, ((1, 2), (0, 3)))}
    d = Derivation(
        statement="HSM reading H2 (tied node scores u = A θ): the estimator g̃, hence its bias, depends on "
                  "the tree",
        scope="n = 3, y = 0, symbolic θ; trees ((0,1),2) = balanced_tree(3) and (0,(1,2)); bias² compared "
              "exactly at θ = (1, −1/2, 0)",
        assumptions=["reading H2: node vector = mean of its leaves' item vectors (Tree.tie)"],
    )
    g = _full_grad(theta, y)
    gts = {}
    for name, tree in trees.items():
        gt, loss, u = _hsm_h2_grad(tree, theta, y)
        gts[name] = gt
        d.step(f"Tree {name}: u =", sp.Matrix(u))
        d.step(f"Tree {name}: $\\tilde g$ =", sp.Matrix(gt))
    diff = [sp.simplify(a - b) for a, b in zip(*gts.values())]
    d.step("Difference of the two estimators:", sp.Matrix(diff))
    not_identical = not all(is_zero(e) for e in diff)
    point = dict(zip(theta, (sp.Integer(1), sp.Rational(-1, 2), sp.Integer(0))))
    b2 = {name: sp.N(_sq([a - b for a, b in zip(gt, g)]).subs(point), 30) for name, gt in gts.items()}
    d.step("bias² at θ = (1, −1/2, 0): " + ", ".join(f"{k_}: {float(v):.10f}" for k_, v in b2.items()))
    gap = abs(b2["((0,1),2)"] - b2["(0,(1,2))"])
    return d.decide(not_identical and bool(gap > 1e-12))


def _h1_fit(tree, p):
    """Node scores u_v = log(P(left)/P(right)) and the model probabilities they give."""
    n = tree.n
    ch = tree.children

    def mass(v):
        return p[v] if v < n else mass(ch[v - n][0]) + mass(ch[v - n][1])

    u = [sp.log(mass(lft) / mass(rgt)) for lft, rgt in ch]
    _, paths, signs = _tree_rationals(tree)
    model = [sp.Mul(*[1 / (1 + sp.exp(-s * u[v])) for v, s in zip(paths[j], signs[j])]) for j in range(n)]
    return u, model


def hsm_h1_tree_free() -> Derivation:
    """Reading H1 (free node scores): every tree fits every full-support p exactly, so the
    best fit's bias does not depend on the tree — the APX-4 tree claim fails for H1."""
    from losses import approx

    d = Derivation(
        statement="HSM's bias depends on the tree (reading H1: node scores are free parameters; compare "
                  "best fits)",
        scope="symbolic full-support p (p_j = w_j/Σw, w_j > 0) for n = 3 (trees ((0,1),2), (0,(1,2))) and "
              "n = 4 (balanced ((0,1),(2,3)) and caterpillar (0,(1,(2,3)))); counterexample evaluated "
              "exactly at p = (1/2, 3/10, 1/5)",
        assumptions=["reading H1: one free score per internal node", "p has full support"],
    )
    trees = {
        3: {"((0,1),2)": approx.balanced_tree(3), "(0,(1,2))": approx.Tree(3, ((1, 2), (0, 3)))},
        4: {"((0,1),(2,3))": approx.balanced_tree(4),
            "(0,(1,(2,3)))": approx.Tree(4, ((2, 3), (1, 4), (0, 5)))},
    }
    exact = []
    for n, group in trees.items():
        w = sp.symbols(f"w_0:{n}", positive=True)
        p = [wj / sp.Add(*w) for wj in w]
        for name, tree in group.items():
            u, model = _h1_fit(tree, p)
            u = [sp.simplify(e) for e in u]
            res = [sp.simplify(mj - pj) for mj, pj in zip(model, p)]
            ok = all(is_zero(r) for r in res)
            exact.append(ok)
            d.step(f"n = {n}, tree {name}: $u_v = \\log(P(\\text{{left}})/P(\\text{{right}}))$ =", sp.Matrix(u))
            d.step(f"model − p simplifies to", sp.Matrix(res))
    d.step("So the best H1 fit reproduces p exactly for every tree (KL = 0), and the H1 model's bias at its "
           "best fit is the same (zero) for every tree: the bias does not depend on the tree.")
    pc = [sp.Rational(1, 2), sp.Rational(3, 10), sp.Rational(1, 5)]
    kls = []
    for name, tree in trees[3].items():
        _, model = _h1_fit(tree, pc)
        kl = sp.simplify(sp.Add(*[pj * sp.log(pj / mj) for pj, mj in zip(pc, model)]))
        kls.append(float(kl))
        d.step(f"p = (1/2, 3/10, 1/5), tree {name}: KL(p ‖ best fit) =", kl)
    tree_free = all(exact) and all(v == 0.0 for v in kls)
    if tree_free:
        d.counterexample = {"p": [float(v) for v in pc], "trees": list(trees[3]), "kl_best_fit": kls}
        return d.decide(False)
    return d.decide(None)


# --------------------------------------------------------------------------------------
# (7) RG
# --------------------------------------------------------------------------------------
def _rg_closed(theta, y, kind):
    n = len(theta)
    tb = sp.Add(*theta) / n
    out = [(1 + t) / n - (1 if j == y else 0) for j, t in enumerate(theta)]
    return [o - tb / n for o in out] if kind == "rgx" else out


def _check_rg(kind):
    if kind not in ("rg2", "rgx"):
        raise ValueError(f"kind must be 'rg2' or 'rgx', got {kind!r}")


def rg_scale(kind: str) -> tuple[Derivation, int, float]:
    """bias²(s) of RG at θ = s θ0 near s = 0: leading power and coefficient (APX-5)."""
    _check_rg(kind)
    s = sp.Symbol("s", positive=True)
    y = 0
    th = [s * v for v in CANONICAL_THETA0]
    n = len(th)
    name = "RG²" if kind == "rg2" else "RG×"
    d = Derivation(
        statement=f"{name}: bias² → 0 as the scores shrink to 0 (θ = s θ0, s → 0), growing with s near 0",
        scope="n = 6, y = 0, θ0 = (2, 1, 0, −1, −2, 1/2) exact, symbolic s > 0 (series at s = 0)",
        assumptions=["g̃ from the RG loss by sympy diff (losses/approx.py closed forms)"],
    )
    gt = _rg_grad(th, y, kind)
    closed_ok = _and(*[is_zero(a - b) for a, b in zip(gt, _rg_closed(th, y, kind))])
    # softmax(s θ0) to O(s^5) by power-series arithmetic: exp(s θ0_j) = T_5(s θ0_j) + O(s^6),
    # 1/D = (1/n) Σ_i (−(D − n)/n)^i with D − n = O(s)
    order = 5

    def trunc(e):
        return sp.Add(*[c_ * s ** k_ for (k_,), c_ in sp.Poly(sp.expand(e), s).terms() if k_ <= order])

    ex = [sp.Add(*[(s * v) ** i / sp.factorial(i) for i in range(order + 1)]) for v in CANONICAL_THETA0]
    D1 = sp.expand(sp.Add(*ex) - n)
    inv, powk = sp.Integer(0), sp.Integer(1)
    for _ in range(order + 1):
        inv = trunc(inv + powk / n)
        powk = trunc(-powk * D1 / n)
    soft = [trunc(e_ * inv) for e_ in ex]
    ser = [trunc(a - (p_ - (1 if j == y else 0))) for j, (a, p_) in enumerate(zip(gt, soft))]
    d.step("Bias entries $\\tilde g - g$ to $O(s^6)$ (power-series arithmetic):", sp.Matrix(ser))
    check = sp.expand(sp.series(gt[y] - _full_grad(th, y)[y], s, 0, order + 1).removeO() - ser[y])
    d.step("Cross-check of the label entry against sympy.series: difference =", check)
    b2 = trunc(sp.Add(*[e ** 2 for e in ser]))
    poly = sp.Poly(b2, s)
    terms = sorted((m[0], c_) for m, c_ in poly.terms() if c_ != 0)
    if not terms:
        d.step("bias² has no term up to $s^5$")
        return d.decide(None), 0, 0.0
    power, coeff = terms[0]
    d.step("bias²(s) = ", sp.Add(*[c_ * s ** k_ for k_, c_ in terms[:3]]) + sp.Order(s ** (order + 1), (s, 0)))
    # continuity at s = 0: the softmax denominator there is Σ exp(0) = n ≠ 0
    den0 = sp.Add(*[sp.exp(t) for t in th]).subs(s, 0)
    lim = sp.simplify(sp.Add(*[(a - b) ** 2 for a, b in zip(gt, _full_grad(th, y))]).subs(s, 0))
    d.step(f"bias² is continuous at s = 0 (softmax denominator at s = 0: {den0} ≠ 0), so "
           "$\\lim_{s\\to 0}$ bias² = bias²(0) =", lim)
    if kind == "rg2":
        d.step("RG² bias is $s\\bar\\theta_0/n \\cdot \\mathbf{1} + O(s^2)$ (first order: $(1 + s\\theta_0)/n$ vs "
               "$(1 + s(\\theta_0 - \\bar\\theta_0))/n$), so the power is 2 when $\\bar\\theta_0 \\ne 0$.")
    else:
        d.step("RG× matches the softmax to first order (it is its second-order Taylor expansion), so the bias "
               "is $O(s^2)$ and bias² is $O(s^4)$.")
    ok = _and(closed_ok, check == 0, den0 != 0, is_zero(lim), bool(power > 0), bool(coeff > 0))
    return d.decide(ok), int(power), float(coeff)


def rg_spread(kind: str) -> Derivation:
    """'bias → 0 as the spread → 0 with the mean free': θ = c 1 + s d (APX-5)."""
    _check_rg(kind)
    n, y = 3, 0
    c = sp.Symbol("c", real=True)
    s = sp.Symbol("s", nonnegative=True)
    d0, d1 = sp.symbols("d_0 d_1", real=True)
    dvec = [d0, d1, -d0 - d1]
    theta = [c + s * v for v in dvec]
    name = "RG²" if kind == "rg2" else "RG×"
    d = Derivation(
        statement=f"{name}: bias → 0 as the score spread (max − min) → 0, with the mean free "
                  "(θ = c·1 + s·d, d zero-mean, s → 0)",
        scope="n = 3, y = 0, symbolic c, s, and zero-mean direction d = (d0, d1, −d0 − d1)",
        assumptions=["g̃ from the RG loss by sympy diff"],
    )
    gt = _rg_grad(theta, y, kind)
    g = _full_grad(theta, y)
    bias = [a - b for a, b in zip(gt, g)]
    at0 = [sp.simplify(b.subs(s, 0)) for b in bias]
    d.step("Bias at s = 0 (θ = c·1):", sp.Matrix(at0))
    b2_0 = sp.simplify(_sq(at0))
    d.step("bias² at s = 0:", b2_0)
    # shift invariance of g and of the RG estimator
    u = sp.symbols(f"u_0:{n}", real=True)
    shift_g = all(is_zero(a - b) for a, b in zip(_full_grad([ui + c for ui in u], y), _full_grad(u, y)))
    shift_gt = [sp.simplify(a - b) for a, b in zip(_rg_grad([ui + c for ui in u], y, kind), _rg_grad(u, y, kind))]
    d.step(f"softmax is shift-invariant: {shift_g}; $\\tilde g(u + c\\mathbf 1) - \\tilde g(u)$ =",
           sp.Matrix(shift_gt))
    if kind == "rgx":
        den = sp.Add(*[sp.exp(t) for t in theta])
        d.step(f"The softmax denominator $\\sum_j e^{{c + s d_j}}$ is positive ({den.is_positive}), so bias² is "
               "continuous in s and $\\lim_{s\\to 0}$ bias² = bias²(s = 0) =", b2_0)
        return d.decide(_and(shift_g, *[is_zero(e) for e in shift_gt], den.is_positive, is_zero(b2_0)))
    # rg2: the c/n offset survives at zero spread
    form = _and(*[is_zero(e - c / n) for e in at0], is_zero(b2_0 - c ** 2 / n))
    d.step(f"bias(s = 0) = (c/n)·1 and bias² = c²/n: {form}")
    cx = [sp.Integer(1)] * n
    b2_cx = sp.nsimplify(sp.simplify(_sq([a - b for a, b in zip(_rg_grad(cx, y, kind), _full_grad(cx, y))])))
    d.step("At θ = (1, 1, 1) (spread 0): bias² =", b2_cx)
    if form is True and not is_zero(b2_cx):
        d.counterexample = {"theta": [1.0, 1.0, 1.0], "y": y, "bias2": float(b2_cx)}
        return d.decide(False)
    return d.decide(None if form is None else True)


def rg2_weighted_squared() -> Derivation:
    """RG² loss = (1/2n) Σ_j (θ_j − r_j)² + log n − (n − 1)/2, r = n e_y − 1 (APX-5)."""
    d = Derivation(
        statement="The RG² loss −θ_y + log n + θ̄ + (1/2n) Σ θ_j² equals the weighted squared loss "
                  "(1/2n) Σ_j (θ_j − r_j)² + log n − (n − 1)/2 with target r = n e_y − 1",
        scope="n = 2..6 with symbolic θ and every label y (polynomial identities); symbolic n with a "
              "symbolic sum (sympy Sum, label split off)",
        assumptions=[],
    )
    flags = []
    for n in range(2, 7):
        th = sp.symbols(f"theta_0:{n}", real=True)
        for y in range(n):
            r = [(n if j == y else 0) - 1 for j in range(n)]
            lhs = _rg_loss(th, y, "rg2")
            rhs = sp.Add(*[(t - rj) ** 2 for t, rj in zip(th, r)]) / (2 * n) + sp.log(n) - sp.Rational(n - 1, 2)
            flags.append(sp.expand(lhs - rhs) == 0)
    d.step(f"n = 2..6, every y: loss − weighted squared form expands to 0 in {sum(flags)}/{len(flags)} cases")
    # symbolic n: split the label term off the sums
    N = sp.Symbol("n", integer=True, positive=True)
    j = sp.Symbol("j", integer=True)
    T = sp.IndexedBase("theta")
    ty = sp.Symbol("theta_y", real=True)
    A = sp.Sum(T[j], (j, 1, N - 1))       # Σ_{j≠y} θ_j (negatives relabelled 1..n−1)
    B = sp.Sum(T[j] ** 2, (j, 1, N - 1))  # Σ_{j≠y} θ_j²
    lhs = -ty + sp.log(N) + (ty + A) / N + (ty ** 2 + B) / (2 * N)
    sq_neg = sp.Sum((T[j] + 1) ** 2, (j, 1, N - 1))
    rhs = ((ty - (N - 1)) ** 2 + sq_neg) / (2 * N) + sp.log(N) - (N - 1) / 2
    rhs_expanded = rhs.subs(sq_neg, sp.expand(sp.Sum(sp.expand((T[j] + 1) ** 2), (j, 1, N - 1)).doit()))
    diff = sp.simplify(sp.expand(lhs - rhs_expanded))
    d.step("Symbolic n: with the label split off, loss − weighted squared form =", diff)
    sym_ok = diff == 0
    d.step(f"Symbolic-n identity closes: {sym_ok}")
    return d.decide(_and(all(flags), sym_ok if sym_ok else None))


# --------------------------------------------------------------------------------------
# (9) SGD neighbourhood
# --------------------------------------------------------------------------------------
def sgd_neighbourhood() -> Derivation:
    """Fixed point of s² = (ρ s + η b)² + η² σ² (ρ = 1 − ημ): s* of proofs/sgd_bound.py,
    increasing in b and σ², with the limits b/μ (σ → 0) and ησ²/(μ(2 − ημ)) (b → 0)."""
    d = Derivation(
        statement="The SGD recursion s_{t+1}² = (ρ s_t + η b)² + η² σ² (ρ = 1 − ημ) has the unique positive "
                  "fixed point s* of proofs/sgd_bound.py; s* increases with the bias b and the variance σ²; "
                  "s* → b/μ as σ → 0 and s*² → ησ²/(μ(2 − ημ)) as b → 0",
        scope="symbolic η, μ, b, σ² > 0 with 0 < ημ < 1 (parametrized ημ = 1/(1 + v), v > 0, so sympy can use "
              "positivity); numeric comparison with neighbourhood_radius at 4 points",
        assumptions=["F μ-strongly convex and L-smooth, η ≤ 2/(μ + L) (the contraction of the gradient "
                     "step, proofs/sgd_bound.py)", "0 < ημ < 1"],
    )
    eta, mu, b, sig2 = sp.symbols("eta mu b sigma2", positive=True)
    rho = 1 - eta * mu
    S = sp.Symbol("S", real=True)
    all_roots = sp.solve(sp.Eq(S ** 2, (rho * S + eta * b) ** 2 + eta ** 2 * sig2), S)
    d.step("Roots of $s^2 = (\\rho s + \\eta b)^2 + \\eta^2\\sigma^2$:", sp.Matrix(all_roots))
    v = sp.Symbol("v", positive=True)
    mu_sub = {mu: 1 / (eta * (1 + v))}  # ημ = 1/(1+v) ∈ (0, 1)
    quad = sp.Poly(sp.expand(S ** 2 - (rho * S + eta * b) ** 2 - eta ** 2 * sig2), S)
    qa, qb, qc = quad.all_coeffs()
    prod = sp.factor(sp.simplify((qc / qa).subs(mu_sub)))
    d.step("Vieta: product of the roots (ημ = 1/(1+v)) =", prod)
    one_positive = prod.is_negative  # roots of opposite signs: exactly one positive root
    signs = [sp.factor(sp.simplify(r.subs(mu_sub))).is_positive for r in all_roots]
    d.step(f"Product negative (exactly one positive root): {one_positive}; root positive by sympy: {signs}")
    pos = [r for r, sg in zip(all_roots, signs) if sg]
    if one_positive is not True or len(pos) != 1:
        d.step("sympy could not single out the positive root")
        return d.decide(None)
    star = pos[0]
    d.step("Positive root $s^*$ =", star)
    ref = (rho * eta * b + sp.sqrt((rho * eta * b) ** 2 + (1 - rho ** 2) * eta ** 2 * (b ** 2 + sig2))) / (1 - rho ** 2)
    same = is_zero(sp.simplify((star - ref).subs(mu_sub)))
    d.step(f"Equals the formula of proofs/sgd_bound.py $[\\rho\\eta b + \\sqrt{{\\rho^2\\eta^2 b^2 + (1-\\rho^2)"
           f"\\eta^2(b^2+\\sigma^2)}}]/(1-\\rho^2)$: {same}")
    pts = [(0.3, 0.5, 0.1, 1.0), (0.0, 2.0, 0.5, 0.7), (1.5, 0.0, 0.05, 3.0), (0.2, 0.04, 0.9, 1.0)]
    errs = []
    for bb, ss, ee, mm in pts:
        sym = float(star.subs({b: bb, sig2: ss, eta: ee, mu: mm}))
        errs.append(abs(sym - neighbourhood_radius(bb, ss, ee, mm)) / max(1.0, abs(sym)))
    d.step(f"neighbourhood_radius vs the sympy root at (b, σ², η, μ) ∈ {pts}: max rel. error {max(errs):.1e}")
    num_ok = max(errs) < 1e-12
    db = sp.factor(sp.simplify(sp.diff(star, b).subs(mu_sub)), deep=True)
    ds = sp.factor(sp.simplify(sp.diff(star, sig2).subs(mu_sub)), deep=True)
    d.step("$\\partial s^*/\\partial b$ (ημ = 1/(1+v)) =", db)
    d.step("$\\partial s^*/\\partial \\sigma^2$ (ημ = 1/(1+v)) =", ds)
    mono = _and(db.is_positive, ds.is_positive)
    d.step(f"both positive: {mono}")
    lim_sigma = sp.simplify(sp.limit(star, sig2, 0))
    lim_b = sp.simplify(sp.limit(star ** 2, b, 0))
    d.step("$\\lim_{\\sigma\\to 0} s^*$ =", lim_sigma)
    d.step("$\\lim_{b\\to 0} s^{*2}$ =", lim_b)
    lims = _and(is_zero(lim_sigma - b / mu), is_zero(lim_b - eta * sig2 / (mu * (2 - eta * mu))))
    return d.decide(_and(same, num_ok, mono, lims))
