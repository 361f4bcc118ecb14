"""Numeric FY-1 and FY-2 of a user's separable loss (issue 23 §4), on the generic map of
numerics/user/map.py.

FY-1 (:func:`argmax_check`): the map (the suite's, or the author's ``torch_map``) and the
conjugate Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) against an independent solve of max_{p ∈ Δ} ⟨θ, p⟩ − Ω(p):
with the author's DCP form of Ω, cvxpy; always, a primal solve by nested bisection in numpy
(τ outside; inside, the concave 1-D problem max_{q ∈ [0,1]} tq − g(q) by bisection on g′, no
use of the derived (g′)⁻¹) with a duality-gap certificate: the normalised point is feasible
(a lower bound P on the maximum) and τ + Σᵢ maxᵩ[(θᵢ − τ)q − g(q)] is Lagrange's upper bound D
(Boyd & Vandenberghe 2004, §5.2).  The certified interval [P, D] must hold Ω* and the map's
objective.  A disagreement of the suite's own map or conjugate with it is a defect of ours
(:class:`audit.SuiteDefect`); the author's map is refuted by a feasible point that beats it,
re-checked by reports/rechecks/user.py.

FY-2 (:func:`properties_check`): L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩ through the suite's map
and conjugate: L ≥ 0, L(θ; ŷ) = 0, L > 0 for y away from ŷ, the autograd gradient (the map's
closed-form backward) and central differences both equal to ŷ − y, shift invariance and
midpoint convexity.  These are theorems for every strictly convex Ω (proofs/user/fy.py):
a violation is a defect of ours, never a finding.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from .map import torch_map

SIZES = (2, 3, 6)
SCALES = (1.0, 4.0, 16.0)      # 16: a dense map's entries reach e^-30, far below float16's 2^-24
TAU_HALVINGS, Q_HALVINGS = 200, 64
GAP = 1e-11                    # the certificate's D − P, relative to 1 + |D|
YTOL = 1e-10                   # |ŷ − p_ref| of the suite's map (bisection to float64, both sides)
VTOL = 1e-10                   # Ω* inside [P, D] up to this, relative to 1 + |D|
GAIN = 1e-8                    # a feasible point beating the author's map by more: refuted (far above rounding)
LABELS = {"cases": "score vectors solved", "max_err_map": r"max $|\hat y - p_{\mathrm{ref}}|$",
          "max_err_conj": r"max distance of $\Omega^*$ from the certified $[P, D]$", "max_gap": "max certified gap $D - P$",
          "uncertified": "solves without a certificate", "cvxpy": "cvxpy solves of the author's DCP form",
          "map": "map under test"}


def _np(expr: sp.Expr, x: sp.Symbol):
    f = sp.lambdify(x, expr, "numpy")
    return lambda z: np.asarray(f(z), dtype=float) + np.zeros_like(z)


def _ends(loss: SeparableLoss) -> tuple[float, float]:
    """g(0⁺) and g(1⁻) (the values at the ends of a coordinate)."""
    x = loss.x
    return float(sp.limit(loss.g, x, 0, "+")), float(sp.limit(loss.g, x, 1, "-"))


def omega_np(loss: SeparableLoss, p: np.ndarray) -> np.ndarray:
    """Ω(p) = Σ g(pᵢ) along the last axis, g(0⁺) and g(1⁻) at the ends."""
    g0, g1 = _ends(loss)
    gf = _np(loss.g, loss.x)
    with np.errstate(all="ignore"):
        inner = gf(np.clip(p, 1e-300, 1 - 1e-16))
    return np.where(p <= 0, g0, np.where(p >= 1, g1, inner)).sum(-1)


def tau_bracket(loss: SeparableLoss, theta: np.ndarray, k: int = 1):
    """(τ₋, τ₊, q) of the primal solve on {0 ≤ p ≤ 1, Σp = k} (k = 1: the simplex; numerics/user/capped.py
    for k ≥ 2): q(t) = argmax_{q ∈ [0, 1]} tq − g(q) by bisection on g′ (no use of the derived
    G), and τ bisected until the masses Σ q(θᵢ − τ₋) ≥ k ≥ Σ q(θᵢ − τ₊) bracket k."""
    f = derive(loss)
    g1 = _np(f.g1, loss.x)
    lo, hi = float(f["g'(0+)"].value), float(f["g'(1-)"].value)

    def q_of(t: np.ndarray) -> np.ndarray:
        a, b = np.zeros_like(t), np.ones_like(t)
        for _ in range(Q_HALVINGS):
            mid = (a + b) / 2
            with np.errstate(all="ignore"):
                below = g1(mid) < t
            a, b = np.where(below, mid, a), np.where(below, b, mid)
        return np.where(t <= lo, 0.0, np.where(t >= hi, 1.0, (a + b) / 2))

    n = theta.shape[1]
    with np.errstate(all="ignore"):
        gk = float(g1(np.array(k / n)))
    t_lo, t_hi = theta.min(1) - gk, theta.max(1) - gk          # every q ≥ k/n (mass ≥ k), resp. ≤ k/n
    for _ in range(TAU_HALVINGS):
        mid = (t_lo + t_hi) / 2
        over = q_of(theta - mid[:, None]).sum(1) >= k
        t_lo, t_hi = np.where(over, mid, t_lo), np.where(over, t_hi, mid)
    return t_lo, t_hi, q_of


def reference(loss: SeparableLoss, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, P, D) for each row of θ (B, n): the primal solve by nested bisection (:func:`tau_bracket`),
    the objective P at the feasible p and Lagrange's bound D (module docstring)."""
    t_lo, _, q_of = tau_bracket(loss, theta)
    q = q_of(theta - t_lo[:, None])
    p = q / q.sum(1, keepdims=True)
    P = (theta * p).sum(1) - omega_np(loss, p)
    D = t_lo + ((theta - t_lo[:, None]) * q).sum(1) - omega_np(loss, q)
    return p, P, D


def conjugate(fmap, loss: SeparableLoss, theta: torch.Tensor) -> torch.Tensor:
    """Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) through the map (differentiable: ∇ = ŷ + Jᵀ(θ − g′(ŷ)) = ŷ)."""
    y = fmap(theta)
    g0, g1 = _ends(loss)
    gf = sp.lambdify(loss.x, loss.g, "torch")
    inside = (y > 0) & (y < 1)
    safe = torch.where(inside, y, torch.full_like(y, 0.5))      # no NaN in the branch not taken, nor its gradient
    vals = torch.where(inside, gf(safe) + torch.zeros_like(y), torch.where(y <= 0, g0 + 0 * y, g1 + 0 * y))
    return (theta * y).sum(-1) - vals.sum(-1)


def map_under_test(loss: SeparableLoss, facts):
    """The map FY-1 tests: the author's ``torch_map`` when given, else the suite's."""
    return loss.torch_map if loss.torch_map is not None else torch_map(facts)


def _thetas(ctx: RunContext, n: int, salt: int) -> np.ndarray:
    g = ctx.generator(salt=salt)
    per = ctx.budget(8, 40)
    return torch.cat([torch.randn(per, n, generator=g, dtype=torch.float64) * s for s in SCALES]).numpy()


def certified(stats: dict, P: np.ndarray, D: np.ndarray, conj: np.ndarray, y: np.ndarray,
              p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows certified by a duality gap ≤ GAP·(1 + |D|), Ω*'s distance outside [P, D] over that scale, the
    map's max error against the primal point p), with ``stats`` (cases, uncertified, max_gap, max_err_conj,
    max_err_map) updated over the certified rows; shared by the simplex and the capped simplex routes."""
    scale = 1 + np.abs(D)
    ok = (D - P) <= GAP * scale
    stats["uncertified"] += int((~ok).sum())
    stats["cases"] += int(ok.sum())
    stats["max_gap"] = max(stats["max_gap"], float((D - P)[ok].max(initial=0.0)))
    off = np.maximum(P - conj, conj - D) / scale
    stats["max_err_conj"] = max(stats["max_err_conj"], float(off[ok].max(initial=0.0)))
    err = np.abs(y - p).max(1)
    stats["max_err_map"] = max(stats["max_err_map"], float(err[ok].max(initial=0.0)))
    return ok, off, err


def argmax_check(loss: SeparableLoss, ctx: RunContext) -> Evidence:
    """FY-1's numeric route (module docstring)."""
    facts = derive(loss)
    ours = torch_map(facts)
    stated = loss.torch_map is not None
    fmap = map_under_test(loss, facts)
    stats = {"cases": 0, "max_err_map": 0.0, "max_err_conj": 0.0, "max_gap": 0.0, "uncertified": 0, "cvxpy": 0,
             "map": "the author's" if stated else "the suite's (bisection on $\\tau$)"}
    found = None
    for n in SIZES:
        theta = _thetas(ctx, n, 5 + n)
        p, P, D = reference(loss, theta)
        if loss.dcp_omega is not None:
            p = _cvx_agrees(loss, theta, p, stats)
        tt = torch.from_numpy(theta)
        conj = conjugate(ours, loss, tt).detach().numpy()
        y = fmap(tt).detach().double().numpy()
        obj = (theta * y).sum(1) - omega_np(loss, np.clip(y, 0, None))
        ok, off_c, err = certified(stats, P, D, conj, y, p)
        scale = 1 + np.abs(D)
        if bool((ok & (off_c > VTOL)).any()):
            i = int(np.argmax(np.where(ok, off_c, -1)))
            raise SuiteDefect(f"{loss.name}: the suite's Omega*(theta) = {conj[i]:.15g} lies outside the certified "
                              f"[{P[i]:.15g}, {D[i]:.15g}] at theta = {theta[i].tolist()}")
        bad = ok & (err > YTOL)
        if bool(bad.any()):
            i = int(np.argmax(np.where(bad, err, -1)))
            if not stated:
                raise SuiteDefect(f"{loss.name}: the suite's map differs from the certified primal solve by "
                                  f"{err[i]:.3g} at theta = {theta[i].tolist()}")
            feasible = bool(y[i].min() >= 0 and abs(y[i].sum() - 1) <= 1e-12)
            gain = float(P[i] - obj[i])
            if found is None and (not feasible or gain > GAIN * scale[i]):
                found = {"theta": theta[i].tolist(), "yhat": y[i].tolist(), "point": p[i].tolist(),
                         "side": "beats" if feasible else "infeasible", "gain": gain}
    figures = dict(stats)
    where = "" if found is None else ("a feasible point beats the author's map by " + f"{found['gain']:.3g}"
                                      if found["side"] == "beats" else "the author's map leaves the simplex")
    if found is not None:
        outcome, summary = "fails", where
    elif stats["uncertified"]:
        outcome, summary = "undecided", f"{stats['uncertified']} primal solves without a certificate"
    else:
        outcome = "holds"
        summary = (f"{stats['cases']} certified primal solves agree with {stats['map']} map (max "
                   f"{stats['max_err_map']:.2g}) and $\\Omega^*$")
    detail = ("the map and $\\Omega^* = \\langle\\theta, \\hat y\\rangle - \\Omega(\\hat y)$ against a primal solve by "
              "nested bisection with a duality-gap certificate $D - P \\le 10^{-11}$"
              + (" and cvxpy on the author's DCP form" if loss.dcp_omega is not None else "")
              + f" on {stats['cases']} score vectors ($n \\in \\{{2, 3, 6\\}}$, scales 1, 4, 16)")
    return Evidence("numeric", "certified-argmax", outcome, detail=detail, summary=summary, figures=figures,
                    labels=LABELS, counterexample=found)


def _cvx_agrees(loss: SeparableLoss, theta: np.ndarray, p: np.ndarray, stats: dict) -> np.ndarray:
    """cvxpy on the author's DCP Ω: where it reaches 'optimal' its point must agree with the
    certified solve to 10⁻⁵ (an interior point's accuracy); else our two references disagree."""
    import cvxpy as cp

    for i, th in enumerate(theta):
        v = cp.Variable(th.shape[0])
        prob = cp.Problem(cp.Maximize(th @ v - loss.dcp_omega(v)), [v >= 0, cp.sum(v) == 1])
        try:
            prob.solve(solver=cp.CLARABEL)
        except cp.SolverError:
            continue
        if prob.status != "optimal":
            continue
        stats["cvxpy"] += 1
        if float(np.abs(v.value - p[i]).max()) > 1e-5:
            raise SuiteDefect(f"{loss.name}: cvxpy on the author's DCP form and the certified solve disagree at "
                              f"theta = {th.tolist()}")
    return p


PROP_LABELS = {"cases": "(theta, y) pairs", "labels_outside_dom": r"labels with $\Omega(y) = +\infty$, left out", "max_grad_err": r"max $|\nabla L - (\hat y - y)|$ (autograd)",
               "max_fd_err": r"max $|\nabla L - (\hat y - y)|$ (central differences)",
               "min_loss": "smallest $L$", "max_loss_at_yhat": r"max $|L(\theta; \hat y)|$",
               "max_shift_err": r"max $|L(\theta + c\mathbf 1) - L(\theta)|$",
               "max_midpoint_excess": "max midpoint-convexity excess"}
TOL = 1e-9


def value_properties(L, th, y, yhat, lv, st, defect, finite) -> None:
    """FY-2's value properties at the pairs (θ, y) with L(θ; y) = ``lv`` (the simplex's and C_k's
    routes share them): L ≥ 0 and L > 0 away from ŷ, shift invariance L(θ + c1) = L(θ) and midpoint
    convexity; ``defect(what, value, theta)`` raises, ``finite(what, t, theta)`` refuses a
    non-finite value (a nan would compare false and pass)."""
    st["min_loss"] = min(st["min_loss"], float(lv.min()))
    far = (y - yhat).abs().amax(1) >= 0.05
    if bool((lv < -TOL).any()) or bool((far & (lv <= 1e-12)).any()):
        defect("L < 0, or L = 0 at y away from yhat", float(lv.min()), th[int(lv.argmin())])
    for c in (-3.0, 5.0):
        se = (L(th + c, y) - lv).abs().detach()
        st["max_shift_err"] = max(st["max_shift_err"], float(se.max()))
        if float(se.max()) > TOL * (1 + abs(c)) * 10:
            defect("L(theta + c1) != L(theta)", float(se.max()), th[int(se.argmax())])
    other = th.roll(1, 0)
    excess = (L((th + other) / 2, y) - (lv + L(other, y).detach()) / 2).detach()
    finite("the midpoint excess", excess, th)
    st["max_midpoint_excess"] = max(st["max_midpoint_excess"], float(excess.max()))
    if float(excess.max()) > TOL:
        defect("midpoint convexity violated", float(excess.max()), th[int(excess.argmax())])


def reporters(loss: SeparableLoss, at: str = ""):
    """(defect, finite) of FY-2's numeric checks: ``defect(what, value, θ)`` raises
    :class:`SuiteDefect` naming the loss, ``at`` (where on the domain, e.g. "k = 2 on C_k, ")
    and θ; ``finite(what, t, θ)`` raises it at the first row of ``t`` that is not finite."""
    def defect(what: str, value: float, th: torch.Tensor) -> None:
        raise SuiteDefect(f"{loss.name}: FY-2 {what} ({value:.3g}) at {at}theta = {th.tolist()}")

    def finite(what: str, t: torch.Tensor, th: torch.Tensor) -> None:
        # a nan compares false and would pass every bound: a non-finite value is ours to explain
        bad = ~torch.isfinite(t.detach()).reshape(t.shape[0], -1).all(1)
        if bool(bad.any()):
            defect(f"{what} is not finite", float("nan"), th[int(bad.nonzero()[0, 0])])

    return defect, finite


def gradient_checks(L, th_all: torch.Tensor, yhat_all: torch.Tensor, labels, loss: SeparableLoss, st: dict,
                    defect, finite) -> None:
    """FY-2 at one batch of scores, on the simplex and on C_k alike: L(θ; ŷ) = 0, then for each
    label batch ∇L = ŷ − y by autograd and by central differences (every θ ± h eⱼ in one batch:
    one solve of the map instead of 2n), and :func:`value_properties`.  A label with Ω(y) = +∞
    (g(1⁻) = ∞ makes every vertex one) has L = +∞ for every θ: outside FY-2's statement, it is
    counted and left out rather than compared as nan.  ``defect`` and ``finite`` raise the
    caller's :class:`SuiteDefect`."""
    n = th_all.shape[1]
    at = L(th_all, yhat_all).abs()
    finite("L(theta; yhat)", at, th_all)
    st["max_loss_at_yhat"] = max(st["max_loss_at_yhat"], float(at.max()))
    if float(at.max()) > TOL:
        defect("L(theta; yhat) != 0", float(at.max()), th_all[int(at.argmax())])
    for y in labels:
        inside = torch.from_numpy(np.isfinite(omega_np(loss, y.numpy())))
        st["labels_outside_dom"] += int((~inside).sum())
        if not bool(inside.any()):
            continue
        th, y, yhat = th_all[inside], y[inside], yhat_all[inside]
        st["cases"] += int(inside.sum())
        t = th.clone().requires_grad_(True)
        lv = L(t, y)
        (grad,) = torch.autograd.grad(lv.sum(), t)
        finite("L", lv, th)
        finite("the gradient", grad, th)
        want = yhat - y
        ge = (grad - want).abs().amax(1)
        st["max_grad_err"] = max(st["max_grad_err"], float(ge.max()))
        if not float(ge.max()) <= 1e-8:                         # NaN too
            defect("autograd gradient != yhat - y", float(ge.max()), th[int(ge.nan_to_num(1.0).argmax())])
        h, eye = 1e-6, torch.eye(n, dtype=th.dtype)
        ys = y.repeat(n, 1)                                     # row j·B + b: θ_b ± h e_j
        plus = L((th[None] + h * eye[:, None]).reshape(-1, n), ys).reshape(n, -1)
        minus = L((th[None] - h * eye[:, None]).reshape(-1, n), ys).reshape(n, -1)
        fd = ((plus - minus) / (2 * h)).T.detach()
        finite("the central differences", fd, th)
        fe = (fd - want).abs().amax(1)
        st["max_fd_err"] = max(st["max_fd_err"], float(fe.max()))
        if not float(fe.max()) <= 1e-5:
            defect("central-difference gradient != yhat - y", float(fe.max()), th[int(fe.nan_to_num(1.0).argmax())])
        value_properties(L, th, y, yhat, lv.detach(), st, defect, finite)


def properties_check(loss: SeparableLoss, ctx: RunContext) -> Evidence:
    """FY-2's numeric route (module docstring)."""
    fmap = torch_map(derive(loss))
    gen = ctx.generator(salt=6)
    st = {"cases": 0, "max_grad_err": 0.0, "max_fd_err": 0.0, "min_loss": float("inf"), "max_loss_at_yhat": 0.0,
          "max_shift_err": 0.0, "max_midpoint_excess": 0.0}

    def L(th: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return conjugate(fmap, loss, th) + torch.from_numpy(omega_np(loss, y.detach().numpy())) - (th * y).sum(-1)

    defect, finite = reporters(loss)
    per = ctx.budget(10, 60)
    st["labels_outside_dom"] = 0
    for n in SIZES:
        th = torch.randn(per, n, generator=gen, dtype=torch.float64) * 3
        e = torch.randn(per, n, generator=gen, dtype=torch.float64)
        ys = [torch.nn.functional.one_hot(torch.randint(n, (per,), generator=gen), n).double(),
              torch.softmax(e, -1)]
        yhat = fmap(th).detach()
        gradient_checks(L, th, yhat, ys, loss, st, defect, finite)
    return properties_evidence(st, "", "the suite's map and $\\Omega^*$ on random $\\theta$ (scale 3) with one-hot and "
                               "interior $y$, $n \\in \\{2, 3, 6\\}$", PROP_LABELS)


def properties_evidence(st: dict, on: str, sample: str, labels: dict) -> Evidence:
    """FY-2's evidence once :func:`gradient_checks` passed everywhere: ``on`` names the domain
    in the summary (" on $C_k$"), ``sample`` the scores and labels run."""
    summary = (f"{st['cases']} pairs{on}: $L \\ge 0$, $L(\\theta; \\hat y) = 0$, $\\nabla L = \\hat y - y$ (autograd "
               f"{st['max_grad_err']:.1e}, differences {st['max_fd_err']:.1e}), shift and midpoint convexity")
    detail = (sample + "; gradient by the map's closed-form backward and by central differences"
              + (f"; {st['labels_outside_dom']} labels with $\\Omega(y) = +\\infty$ (outside the statement: "
                 "$L = +\\infty$ for every $\\theta$) left out" if st["labels_outside_dom"] else ""))
    return Evidence("numeric", "loss-properties", "holds", detail=detail, summary=summary, figures=st, labels=labels)
