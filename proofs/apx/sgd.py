"""APX-6 in sympy: the neighbourhood of SGD with a biased, noisy gradient
(the recursion and its fixed point are in proofs/apx/sgd_bound.py)."""
from __future__ import annotations

import sympy as sp

from audit import SuiteDefect

from .common import and3
from ..derivation import Derivation, is_zero
from . import sgd_bound


def sgd_neighbourhood() -> Derivation:
    """Fixed point of s² = (ρ s + η b)² + η² σ² (ρ = 1 − ημ): s* of proofs/apx/sgd_bound.py,
    increasing in b and σ², with the limits b/μ (σ → 0) and ησ²/(μ(2 − ημ)) (b → 0).

    The radius compared is :func:`proofs.apx.sgd_bound.neighbourhood_radius` (looked up at call
    time, the bound the numeric check uses); that it is not the fixed point is a defect of
    ours (:class:`SuiteDefect`)."""
    radius_fn = sgd_bound.neighbourhood_radius
    d = Derivation(
        statement=r"The SGD recursion $s_{t+1}^2 = (\rho s_t + \eta b)^2 + \eta^2 \sigma^2$ ($\rho = 1 - \eta\mu$) has "
                  r"the unique positive fixed point $s^*$ of $\texttt{proofs/sgd\_bound.py}$; $s^*$ increases with the "
                  r"bias $b$ and the variance $\sigma^2$; $s^* \to b/\mu$ as $\sigma \to 0$ and "
                  r"$s^{*2} \to \eta\sigma^2/(\mu(2 - \eta\mu))$ as $b \to 0$",
        summary=r"The SGD radius $s^*$ grows with $b$ and $\sigma^2$; $s^* \to b/\mu$ as $\sigma \to 0$, "
                r"$s^{*2} \to \eta\sigma^2/(\mu(2 - \eta\mu))$ as $b \to 0$",
        scope=r"symbolic $\eta$, $\mu$, $b$, $\sigma^2 > 0$ with $0 < \eta\mu < 1$ (parametrized "
              r"$\eta\mu = 1/(1 + v)$, $v > 0$, so sympy can use positivity); numeric comparison with "
              r"$\texttt{neighbourhood\_radius}$ at 4 points",
        assumptions=[r"$F$ $\mu$-strongly convex and $L$-smooth, $\eta \le 2/(\mu + L)$ (the contraction of the "
                     r"gradient step, $\texttt{proofs/sgd\_bound.py}$)", r"$0 < \eta\mu < 1$"],
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
    d.step("Vieta: product of the roots ($\\eta\\mu = 1/(1+v)$) =", prod)
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
    d.step("Equals the formula of $\\texttt{proofs/sgd\\_bound.py}$, "
           f"$[\\rho\\eta b + \\sqrt{{\\rho^2\\eta^2 b^2 + (1-\\rho^2)"
           f"\\eta^2(b^2+\\sigma^2)}}]/(1-\\rho^2)$: {same}")
    pts = [(0.3, 0.5, 0.1, 1.0), (0.0, 2.0, 0.5, 0.7), (1.5, 0.0, 0.05, 3.0), (0.2, 0.04, 0.9, 1.0)]
    errs = []
    for bb, ss, ee, mm in pts:
        sym = float(star.subs({b: bb, sig2: ss, eta: ee, mu: mm}))
        errs.append(abs(sym - radius_fn(bb, ss, ee, mm)) / max(1.0, abs(sym)))
    d.step("$\\texttt{neighbourhood\\_radius}$ vs the sympy root at $(b, \\sigma^2, \\eta, \\mu)$ in "
           f"{pts}: max rel. error {max(errs):.1e}")
    if not (same and max(errs) < 1e-12):
        raise SuiteDefect(f"APX-6: the bound of proofs/apx/sgd_bound.py is not the fixed point of the recursion "
                          f"(typed formula equal: {same}, max rel. error {max(errs):.2g})")
    db = sp.factor(sp.simplify(sp.diff(star, b).subs(mu_sub)), deep=True)
    ds = sp.factor(sp.simplify(sp.diff(star, sig2).subs(mu_sub)), deep=True)
    d.step("$\\partial s^*/\\partial b$ ($\\eta\\mu = 1/(1+v)$) =", db)
    d.step("$\\partial s^*/\\partial \\sigma^2$ ($\\eta\\mu = 1/(1+v)$) =", ds)
    mono = and3(db.is_positive, ds.is_positive)
    d.step(f"both positive: {mono}")
    lim_sigma = sp.simplify(sp.limit(star, sig2, 0))
    lim_b = sp.simplify(sp.limit(star ** 2, b, 0))
    d.step("$\\lim_{\\sigma\\to 0} s^*$ =", lim_sigma)
    d.step("$\\lim_{b\\to 0} s^{*2}$ =", lim_b)
    lims = and3(is_zero(lim_sigma - b / mu), is_zero(lim_b - eta * sig2 / (mu * (2 - eta * mu))))
    ok = and3(mono, lims)
    if ok is False:
        d.counterexample = {"shape": "sgd-radius", "eta": 0.1, "mu": 1.0, "b": [0.3, 0.6], "sigma2": [0.5, 1.0]}
    return d.decide(ok)
