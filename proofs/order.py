"""CON-3 (order preservation, readings O1/O2) and DYN-1 (gradient support), symbolically.

Softmax: ∂ŷ_i/∂θ_i = p_i(1 − p_i) > 0 and ŷ_i/ŷ_j = exp(θ_i − θ_j) > 1 for θ_i > θ_j
(symbolic in n, writing R = Σ_{j≠i} e^{θ_j} > 0).  Sparse maps ŷ_i = f(θ_i − τ) with f
non-decreasing: WOP; an exact rational witness (θ_i > θ_j, ŷ_i = ŷ_j = 0, KKT checked)
shows not SOP, and f' = 0 below the threshold (flat outside the support).
O2: ŷ(θ*) = η at a minimizer (properness of FY losses); softmax θ* = log η + c.
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation

SPARSE = ("sparsemax", "entmax", "rankmax")


def _softmax_o1() -> Derivation:
    d = Derivation("Softmax is strictly order preserving: dyhat_i/dtheta_i = p_i(1 - p_i) > 0 and "
                   "theta_i > theta_j implies yhat_i > yhat_j", "symbolic in n (R = sum of the other exponentials)",
                   ["theta real, finite; R = sum_{j != i} exp(theta_j) > 0"])
    ti, tj, R, delta = sp.symbols("theta_i theta_j R delta", real=True)
    Rp, dp = sp.symbols("R delta", positive=True)
    p = sp.exp(ti) / (sp.exp(ti) + Rp)
    dp_dt = sp.simplify(sp.diff(p, ti))
    d.step("p_i = e^{theta_i}/(e^{theta_i} + R), so dp_i/dtheta_i =", dp_dt)
    same = sp.simplify(dp_dt - p * (1 - p)) == 0
    d.step("which equals p_i(1 - p_i): ", sp.Eq(dp_dt, sp.factor(p * (1 - p))))
    pos = dp_dt.is_positive
    ratio = sp.exp(dp)  # yhat_i / yhat_j = exp(theta_i - theta_j), delta = theta_i - theta_j > 0
    x = sp.Symbol("x", real=True)
    incr = sp.diff(sp.exp(x), x).is_positive  # exp strictly increasing, so exp(delta) > exp(0) = 1
    d.step("yhat_i / yhat_j = exp(theta_i - theta_j) = exp(delta) with delta > 0; (exp)' = exp > 0, so exp(delta) > 1:",
           ratio)
    return d.decide(bool(same) and pos is True and incr is True and sp.log(ratio) == dp and dp.is_positive is True)


def _witness(loss: str, param) -> tuple[list, list, object]:
    """Exact θ, its ŷ (KKT-checked), and τ for a sparse map."""
    if loss == "sparsemax" or (loss == "rankmax" and param == 1):
        theta = [sp.Integer(2), sp.Integer(0), sp.Integer(-1)]
        tau = sp.Integer(1)
        yhat = [sp.Max(t - tau, 0) for t in theta]
        return theta, yhat, tau
    if loss == "entmax":
        a = param
        theta = [1 / (a - 1), sp.Integer(0), -1 / (a - 1)]
        tau = sp.Integer(0)
        yhat = [sp.Max((a - 1) * t - tau, 0) ** (1 / (a - 1)) for t in theta]
        return theta, yhat, tau
    k = param  # rankmax, k ≥ 2: k items saturated at 1, two below the threshold
    theta = [sp.Integer(3)] + [sp.Integer(2)] * (k - 1) + [sp.Integer(0), sp.Integer(-1)]
    tau = sp.Integer(1)
    yhat = [sp.Min(sp.Max(t - tau, 0), 1) for t in theta]
    return theta, yhat, tau


def _sparse_o1(loss: str) -> Derivation:
    if loss == "entmax":
        a = 1 + sp.Symbol("s", positive=True)  # alpha = 1 + s, s > 0
        params, scope = [a], "symbolic in alpha = 1 + s, s > 0"
    elif loss == "rankmax":
        params, scope = [1, 2, 3], "k in {1, 2, 3}"
    else:
        params, scope = [None], "exact rationals"
    d = Derivation(f"{loss}: theta_i > theta_j implies yhat_i >= yhat_j (WOP), but not SOP: yhat is flat "
                   "outside its support (and, for rankmax, at the cap 1)", scope,
                   ["yhat_i = f(theta_i - tau) with a common threshold tau"])
    u = sp.Symbol("u", real=True)
    up = sp.Symbol("u", positive=True)
    ok = True
    if loss == "entmax":
        a = params[0]
        f_pos = ((a - 1) * up) ** (1 / (a - 1))
        fp = sp.simplify(sp.diff(f_pos, up))
        d.step("f(u) = [(alpha-1)u]_+^{1/(alpha-1)}; for u > 0, f'(u) =", fp)
        mono = fp.is_nonnegative
        d.step("f'(u) >= 0 for u > 0 (alpha - 1 = s > 0); f(u) = 0 and f'(u) = 0 for u < 0 (flat)")
    else:
        f = sp.Max(u, 0) if loss == "sparsemax" else sp.Min(sp.Max(u, 0), 1)
        fp_neg = sp.diff(f, u).subs(u, sp.Rational(-1, 2))
        fp_pos = sp.diff(f, u).subs(u, sp.Rational(1, 2))
        d.step("f(u) =", f)
        d.step("f'(-1/2) (outside the support) =", fp_neg)
        mono = fp_neg == 0 and fp_pos >= 0
        if loss == "rankmax":
            fp_cap = sp.diff(f, u).subs(u, sp.Rational(3, 2))
            d.step("f'(3/2) (at the cap) =", fp_cap)
            mono = mono and fp_cap == 0
    ok &= bool(mono)
    d.step("theta_i > theta_j gives theta_i - tau > theta_j - tau, so f non-decreasing gives yhat_i >= yhat_j (WOP)")
    for param in params:
        theta, yhat, tau = _witness(loss, param)
        mass = sp.simplify(sum(yhat))
        target = 1 if loss != "rankmax" else param
        kkt = sp.simplify(mass - target) == 0
        i, j = len(theta) - 2, len(theta) - 1
        order = sp.simplify(theta[i] - theta[j])
        strict = order.is_positive
        tie = sp.simplify(yhat[i] - yhat[j]) == 0
        d.step(f"witness{'' if param is None else f' ({param})'}: theta =", sp.Matrix(theta).T)
        d.step("yhat = f(theta - tau), sum yhat equals the domain mass:", sp.Matrix([sp.simplify(v) for v in yhat]).T)
        ok &= bool(kkt) and bool(strict) and bool(tie)
    d.step("theta_i > theta_j with yhat_i = yhat_j: strict order preservation fails")
    return d.decide(ok)


def order_o1(loss: str) -> Derivation:
    return _softmax_o1() if loss == "softmax" else _sparse_o1(loss)


def order_o2(loss: str) -> Derivation:
    """Bayes minimizers: ŷ(θ*) = η (properness).  Softmax: θ* = log η + c, strict; zeros:
    unattained, limit log η with −∞.  Sparse: ties off the support can split."""
    if loss == "softmax":
        d = Derivation("Softmax minimizers of the conditional risk are theta* = log(eta) + c: eta_i > eta_j implies "
                       "theta*_i > theta*_j and eta_i = eta_j implies theta*_i = theta*_j (SOP)",
                       "symbolic in n for the order; eta with zeros: extended-real limit",
                       ["R(theta; eta) = L(theta; eta) + const, gradient softmax(theta) - eta",
                        "eta_i = 0: infimum not attained; minimizing sequences normalized by max theta = 0 "
                        "converge to log(eta/eta_max) in [-inf, 0]^n"])
        e1, e2, S = sp.symbols("eta_1 eta_2 S", positive=True)
        # softmax(log eta) = eta / sum(eta) = eta when sum eta = 1
        eta = sp.symbols("eta_1:4", positive=True)
        sm = [sp.exp(sp.log(x)) / sum(sp.exp(sp.log(y)) for y in eta) for x in eta]
        fixed = all(sp.simplify(s - x / sum(eta)) == 0 for s, x in zip(sm, eta))
        d.step("softmax(log eta)_i = eta_i / sum eta (= eta_i on the simplex), checked for n = 3:", sp.Matrix(sm).T)
        dd = sp.Symbol("d", positive=True)
        gap = sp.expand_log(sp.log(e2 + dd) - sp.log(e2), force=True)
        strict = sp.log(1 + dd / e2).is_positive
        d.step("eta_1 = eta_2 + d, d > 0: theta*_1 - theta*_2 = log(1 + d/eta_2) > 0;", sp.log(1 + dd / e2))
        d.step("ties: log(eta_1) - log(eta_2) = 0 when eta_1 = eta_2; uniqueness mod shift: Hessian "
               "diag(p) - p p^T has kernel span(1) for p > 0")
        d.step("zeros: softmax(theta) > 0 for finite theta, so the infimum is not attained; along a minimizing "
               "sequence normalized by max theta = 0, theta_i -> log(eta_i/eta_max) and theta_j -> -inf for "
               "eta_j = 0: equal (both -inf) in the extended reals, below every positive class")
        return d.decide(bool(fixed) and strict is True and gap is not None)
    d = Derivation(f"{loss}: minimizers of the conditional risk are all theta with yhat(theta) = eta; they are WOP, "
                   "and ties at eta_i = eta_j = 0 can split (not SOP)", "exact rational example, n = 4",
                   ["R(theta; eta) = L(theta; eta) + const >= const, with equality iff yhat(theta) = eta (FY-2)"])
    eta = [sp.Rational(1, 2), sp.Rational(1, 2), 0, 0]
    if loss == "entmax":
        a = sp.Rational(3, 2)
        theta = [sp.Rational(1, 2) ** (a - 1) / (a - 1)] * 2 + [sp.Integer(0), sp.Integer(-1)]
        yhat = [sp.Max((a - 1) * t, 0) ** (1 / (a - 1)) for t in theta]
        scope_note = "alpha = 3/2"
    else:
        theta = [sp.Rational(1, 2), sp.Rational(1, 2), sp.Integer(0), sp.Integer(-1)]
        if loss == "rankmax":  # k = 2: eta in C_2 with two ones and two zeros; tau = -1/2
            eta = [1, 1, 0, 0]
            theta = [sp.Integer(2), sp.Rational(3, 2), sp.Rational(-1, 2), sp.Integer(-2)]
            yhat = [sp.Min(sp.Max(t + sp.Rational(1, 2), 0), 1) for t in theta]
            scope_note = "k = 2"
        else:
            yhat = [sp.Max(t, 0) for t in theta]
            scope_note = "tau = 0"
    d.scope += f" ({scope_note})"
    same = all(sp.simplify(y - e) == 0 for y, e in zip(yhat, eta))
    d.step("eta =", sp.Matrix(eta).T)
    d.step("theta =", sp.Matrix(theta).T)
    d.step("yhat(theta) =", sp.Matrix([sp.simplify(y) for y in yhat]).T)
    split = theta[2] > theta[3] and eta[2] == eta[3]
    wop = all(theta[i] >= theta[j] for i in range(4) for j in range(4) if eta[i] > eta[j])
    d.step("yhat(theta) = eta, so theta minimizes R; eta_3 = eta_4 but theta_3 > theta_4 (tie split); "
           "every eta_i > eta_j has theta_i >= theta_j")
    return d.decide(bool(same) and bool(split) and bool(wop))


def gradient_support(loss: str) -> Derivation:
    """DYN-1: the gradient of L(θ; e_y) on a negative class j is ŷ_j."""
    if loss == "softmax":
        d = Derivation("Softmax gives every negative class a non-zero gradient at every finite theta: "
                       "dL/dtheta_j = yhat_j = exp(theta_j)/sum_k exp(theta_k) > 0", "symbolic in n",
                       ["nabla L = yhat - e_y (FY-2)", "theta finite"])
        tj = sp.Symbol("theta_j", real=True)
        R = sp.Symbol("R", positive=True)
        g = sp.exp(tj) / (sp.exp(tj) + R)
        d.step("dL/dtheta_j for j != y:", g)
        return d.decide(g.is_positive is True)
    d = Derivation(f"{loss}: every negative class outside the support of yhat gets exactly zero gradient",
                   "symbolic threshold tau", ["nabla L = yhat - y (FY-2)", "yhat_j = f(theta_j - tau), f = 0 on u <= 0"])
    t, tau = sp.symbols("theta_j tau", real=True)
    f = sp.Max(t - tau, 0)
    val = f.subs(t, tau - sp.Symbol("c", positive=True))
    d.step("for theta_j = tau - c, c > 0: dL/dtheta_j = yhat_j =", val)
    return d.decide(sp.simplify(val) == 0)
