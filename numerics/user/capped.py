"""Numeric FY-1 … FY-4 of a separable loss on the capped simplex C_k (issue 23 §4), on the
generic map of numerics/user/map.py called with k (losses/separable.py solves Σŷ = k by
bisection on τ with the clip at g′(1⁻), the cap).

k enters as the pairs (k, n) of :data:`CASES` (k < n; k = 1 is the simplex); each check runs
on all of them.  The simplex code is reused by calling it: the conjugate Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ)
and Ω are numerics/user/fy.py's (``conjugate``, ``omega_np``), the finite-difference
Jacobian is numerics/user/checks.py's ``_fd_lambda`` with the 2n shifted score vectors in
one batch (:func:`_fd_lambda`).

* FY-1 (:func:`argmax_check`): the suite's map against a primal solve on C_k by nested bisection
  (τ outside; inside, max_{q ∈ [0,1]} tq − g(q) by bisection on g′, no use of the derived G) with
  a duality-gap certificate: the convex combination of the two bracketing points whose mass is
  k is feasible (P, a lower bound on the maximum) and kτ + Σᵢ max_q[(θᵢ − τ)q − g(q)] is
  Lagrange's upper bound D (Boyd & Vandenberghe 2004, §5.2).  The map under test
  (:func:`map_under_test`: the author's ``torch_map(theta, k)`` when given, else the suite's) and
  Ω* (the suite's map) must lie in the certified [P, D].  A disagreement of the suite's own map
  or Ω* is :class:`audit.SuiteDefect`; the author's map is refuted by its output outside C_k or by
  the certified point beating its objective, stored ``{theta, yhat, point, side, gain, k}``.
* FY-2 (:func:`properties_check`): L ≥ 0, L(θ; ŷ) = 0, L > 0 away from ŷ, ∇L = ŷ − y (autograd
  through the map's closed-form backward, and central differences), shift invariance and
  midpoint convexity, on k-hot and interior labels y ∈ C_k: theorems, so a violation is ours.
  A label with Ω(y) = +∞ (g(1⁻) = ∞ makes every k-hot label one, e.g. g = −log(1 − p) + p²)
  has L = +∞ at every θ, outside the statement's dom Ω: counted and left out, as on the simplex
  (numerics/user/fy.py); any other non-finite L, gradient or difference is ours and crashes.
* FY-3 (:func:`margin_boundary`): k-hot labels at the gap μ(1 ± ε) (ŷ = 1_Y exactly above, not
  below), or, for "no margin", gaps up to 40.  The margin does not depend on k
  (proofs/user/capped.py): a violation at k ≥ 2 with none at k = 1 is a disagreement of
  our routes; a violation at k = 1 is stored (one-hot y, ``k`` 1).
* FY-4 (:func:`jacobian_search`): λ_max of the central-difference Jacobian on random θ for every
  case, and the constructions: k = 1, two equal entries a; k = 2, n = 4, ŷ = (a, a, 1 − a, 1 − a),
  whose e₁ − e₂ (e₃ − e₄) Rayleigh quotients must reproduce s(a) (s(1 − a)) to 10⁻⁵.  A point
  above a claimed constant is stored ``{theta, yhat, lambda_max, k}`` (ŷ the map's output): the
  largest at k = 1 where one exceeds there, else the largest at k ≥ 2.

Every stored record states its k; reports/rechecks/user.py re-checks it on C_k by the KKT
conditions.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.evidence import as_stored
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from . import fy as sep_fy
from .checks import AGREE, UNBOUNDED, constant_outcome
from .map import torch_map

#: (k, n) pairs every check runs on: k < n; n = 2k for the k = 2 construction; k = n − 1 the mirror of the simplex
CASES = ((1, 2), (1, 3), (1, 6), (2, 3), (2, 4), (2, 6), (3, 6))
KS = sorted({k for k, _ in CASES})
SCALES = (1.0, 4.0, 16.0)
YTOL, VTOL = sep_fy.YTOL, sep_fy.VTOL


def capped_map(facts):
    """The map every check here runs (planted defects wrap this attribute)."""
    return torch_map(facts)


def _at_k(fmap, k: int):
    """The map with k bound: the simplex code calls ``fmap(theta)``."""
    return lambda theta, _k=1: fmap(theta, k)


def reference(loss: SeparableLoss, theta: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, P, D) for each row of θ (B, n) on C_k (module docstring; τ bracketed by
    ``numerics.user.fy.tau_bracket``)."""
    t_lo, t_hi, q_of = sep_fy.tau_bracket(loss, theta, k)
    q_lo, q_hi = q_of(theta - t_lo[:, None]), q_of(theta - t_hi[:, None])
    m_lo, m_hi = q_lo.sum(1), q_hi.sum(1)
    lam = np.where(m_lo > m_hi, (k - m_hi) / np.where(m_lo > m_hi, m_lo - m_hi, 1.0), 1.0)[:, None]
    p = np.clip(lam, 0, 1) * q_lo + (1 - np.clip(lam, 0, 1)) * q_hi  # in [0,1]^n with mass k
    P = (theta * p).sum(1) - sep_fy.omega_np(loss, p)
    D = k * t_lo + ((theta - t_lo[:, None]) * q_lo).sum(1) - sep_fy.omega_np(loss, q_lo)
    return p, P, D


LABELS = {"cases": "score vectors solved", "max_err_map": r"max $|\hat y - p_{\mathrm{ref}}|$",
          "max_err_conj": r"max distance of $\Omega^*$ from the certified $[P, D]$",
          "max_gap": "max certified gap $D - P$",
          "uncertified": "solves without a certificate", "cases_k": "$(k, n)$ pairs", "map": "map under test"}


def map_under_test(loss: SeparableLoss, facts):
    """The map FY-1 tests on C_k: the author's ``torch_map`` (θ (B, n), k → ŷ) when given, else the
    suite's (planted defects wrap this attribute)."""
    return loss.torch_map if loss.torch_map is not None else capped_map(facts)


def _on_grid(p: list[float], k: int) -> list[float]:
    """p on the decimal grid 10⁻¹² with mass exactly k (the remainder, a few 10⁻¹², on the entry
    farthest from the ends): a point of C_k exactly, in the decimals results.json stores."""
    q = [Fraction(round(v * 10**12), 10**12) for v in p]
    j = max(range(len(q)), key=lambda i: min(q[i], 1 - q[i]))
    q[j] += k - sum(q)
    return [float(v) for v in q]


def _in_ck(y: list[float], k: int) -> bool:
    """Every entry a number in [0, 1], the decimals summing to k within 10⁻¹² (reports/rechecks/user.py's rule)."""
    return all(0 <= v <= 1 for v in y) and abs(sum(Fraction(repr(v)) for v in y) - k) <= Fraction(1, 10**12)


def _stated_counterexample(loss: SeparableLoss, theta: np.ndarray, y: np.ndarray, p: np.ndarray, D: np.ndarray,
                           rows: np.ndarray, k: int) -> dict | None:
    """FY-1's record against the author's map, from the values as results.json stores them (12
    digits, :func:`audit.evidence.as_stored`; the point on the grid, :func:`_on_grid`): among ``rows``
    the first whose output leaves C_k (``infeasible``), else the one where the certified point beats
    the map's objective by the most, if by more than GAIN (1 + |D|) (``beats``); else None."""
    best = None
    for i in np.flatnonzero(rows):
        th = [float(v) for v in as_stored(theta[i])]
        yv = [float(v) for v in as_stored(y[i])]                    # a nan is stored as "nan"
        rec = {"theta": th, "yhat": yv, "point": _on_grid(p[i].tolist(), k), "k": k}
        if not _in_ck(yv, k):
            return rec | {"side": "infeasible", "gain": 0.0}
        pt, yy, tt = np.array(rec["point"]), np.array(yv), np.array(th)
        gain = float((tt * pt).sum() - sep_fy.omega_np(loss, pt) - (tt * yy).sum() + sep_fy.omega_np(loss, yy))
        if gain > sep_fy.GAIN * (1 + abs(D[i])) and (best is None or gain > best["gain"]):
            best = rec | {"side": "beats", "gain": gain}
    return best


def argmax_check(loss: SeparableLoss, ctx: RunContext) -> Evidence:
    """FY-1's numeric route on C_k (module docstring)."""
    facts = derive(loss)
    ours = capped_map(facts)
    stated = loss.torch_map is not None
    fmap = map_under_test(loss, facts)
    st = {"cases": 0, "max_err_map": 0.0, "max_err_conj": 0.0, "max_gap": 0.0, "uncertified": 0,
          "cases_k": [list(c) for c in CASES],
          "map": "the author's" if stated else "the suite's (bisection on $\\tau$)"}
    g = ctx.generator(salt=51)
    per = ctx.budget(6, 40)
    found = None
    for k, n in CASES:
        theta = torch.cat([torch.randn(per, n, generator=g, dtype=torch.float64) * s for s in SCALES]).numpy()
        p, P, D = reference(loss, theta, k)
        tt = torch.from_numpy(theta)
        conj = sep_fy.conjugate(_at_k(ours, k), loss, tt).detach().numpy()
        y = fmap(tt, k).detach().double().numpy()
        ok, off, err = sep_fy.certified(st, P, D, conj, y, p)
        # the suite's map first: a wrong one also moves Ω* = ⟨θ, ŷ⟩ − Ω(ŷ), which is computed through it
        if not stated and bool((ok & (err > YTOL)).any()):
            i = int(np.argmax(np.where(ok, err, -1)))
            raise SuiteDefect(f"{loss.name}: the suite's map on C_k differs from the certified primal solve by "
                              f"{err[i]:.3g} at k = {k}, theta = {theta[i].tolist()}")
        if bool((ok & (off > VTOL)).any()):
            i = int(np.argmax(np.where(ok, off, -1)))
            raise SuiteDefect(f"{loss.name}: the suite's Omega*(theta) = {conj[i]:.15g} lies outside the certified "
                              f"[{P[i]:.15g}, {D[i]:.15g}] at k = {k}, theta = {theta[i].tolist()}")
        if stated and found is None:
            # nan compares false: an entry that is not a number is a wrong map too
            found = _stated_counterexample(loss, theta, y, p, D, ok & ~(err <= YTOL), k)
    if found is not None:
        outcome = "fails"
        summary = (f"a point of $C_{{{found['k']}}}$ beats the author's map by {found['gain']:.3g}"
                   if found["side"] == "beats" else f"the author's map leaves $C_{{{found['k']}}}$")
    elif st["uncertified"]:
        outcome, summary = "undecided", f"{st['uncertified']} primal solves on $C_k$ without a certificate"
    else:
        outcome = "holds"
        summary = (f"{st['cases']} certified primal solves on $C_k$, $k \\in \\{{{', '.join(map(str, KS))}\\}}$, agree "
                   f"with {st['map']} map (max {st['max_err_map']:.2g}) and $\\Omega^*$")
    detail = ("the map and $\\Omega^* = \\langle\\theta, \\hat y\\rangle - \\Omega(\\hat y)$ (the suite's) against a "
              "primal solve on $C_k$ by nested bisection with a duality-gap certificate $D - P \\le 10^{-11}$ on "
              f"{st['cases']} score vectors (scales 1, 4, 16)")
    return Evidence("numeric", "certified-argmax", outcome, detail=detail, summary=summary, figures=st, labels=LABELS,
                    counterexample=found)


PROP_LABELS = dict(sep_fy.PROP_LABELS, cases_k="$(k, n)$ pairs")
TOL = sep_fy.TOL


def _labels(gen: torch.Generator, per: int, n: int, k: int) -> list[torch.Tensor]:
    """k-hot labels (a random k-subset per row) and interior ones, (k-hot + k/n)/2, both in C_k."""
    idx = torch.rand(per, n, generator=gen, dtype=torch.float64).argsort(1)[:, :k]
    khot = torch.zeros(per, n, dtype=torch.float64).scatter_(1, idx, 1.0)
    return [khot, (khot + k / n) / 2]


def properties_check(loss: SeparableLoss, ctx: RunContext) -> Evidence:
    """FY-2's numeric route on C_k (module docstring)."""
    fmap = capped_map(derive(loss))
    gen = ctx.generator(salt=52)
    st = {"cases": 0, "labels_outside_dom": 0, "max_grad_err": 0.0, "max_fd_err": 0.0, "min_loss": float("inf"),
          "max_loss_at_yhat": 0.0, "max_shift_err": 0.0, "max_midpoint_excess": 0.0,
          "cases_k": [list(c) for c in CASES]}
    per = ctx.budget(8, 60)
    for k, n in CASES:
        m = _at_k(fmap, k)

        def L(th: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return sep_fy.conjugate(m, loss, th) + torch.from_numpy(sep_fy.omega_np(loss, y.detach().numpy())) \
                - (th * y).sum(-1)

        defect, finite = sep_fy.reporters(loss, f"k = {k} on C_k, ")
        th = torch.randn(per, n, generator=gen, dtype=torch.float64) * 3
        sep_fy.gradient_checks(L, th, fmap(th, k).detach(), _labels(gen, per, n, k), loss, st, defect, finite)
    return sep_fy.properties_evidence(st, " on $C_k$", "the suite's map on $C_k$ and $\\Omega^*$ on random $\\theta$ "
                                      "(scale 3) with $k$-hot and interior $y \\in C_k$", PROP_LABELS)


EPS = 1e-3
NO_MARGIN_GAPS = (1.0, 5.0, 10.0, 20.0, 40.0)
MARGIN_LABELS = {"cases": "score vectors checked", "eps": r"relative distance $\varepsilon$ of the gaps from $\mu$",
                 "margin": r"margin $\mu$ under test", "gaps": "gaps tested", "cases_k": "$(k, n)$ pairs"}


def _is_label(y: torch.Tensor, k: int) -> torch.Tensor:
    """Rows where ŷ is exactly 1_Y, Y the first k classes."""
    return (y[:, :k] == 1).all(1) & (y[:, k:] == 0).all(1)


def margin_boundary(loss: SeparableLoss, margin: sp.Expr | None, ctx: RunContext) -> Evidence:
    """FY-3's numeric route on C_k at the row's margin (None: no margin); the labelled classes
    are the first k, the smallest of them exactly the gap above the largest other score."""
    fmap = capped_map(derive(loss))
    g = ctx.generator(salt=53)
    per = ctx.budget(30, 300)
    cases, found, later = 0, None, None
    sides = (("nomargin", torch.tensor(NO_MARGIN_GAPS, dtype=torch.float64)),) if margin is None else \
        (("plus", float(margin) * (1 + EPS)), ("minus", float(margin) * (1 - EPS)))
    for k, n in CASES:
        for side, gap in sides:
            rows = len(NO_MARGIN_GAPS) if margin is None else per
            rest = torch.rand(rows, n - k, generator=g, dtype=torch.float64) * 4 - 2
            extra = torch.rand(rows, k, generator=g, dtype=torch.float64) * 2
            extra[:, 0] = 0.0                                    # the smallest label sits exactly at the gap
            top = rest.max(1, keepdim=True).values + (gap[:, None] if margin is None else gap)
            theta = torch.cat([top + extra, rest], 1)
            hit = _is_label(fmap(theta, k), k)
            wrong = ~hit if side == "plus" else hit
            cases += rows
            if bool(wrong.any()):
                if k == 1 and found is None:
                    found = {"theta": theta[wrong][0].tolist(), "y": [1] + [0] * (n - 1), "side": side, "k": 1}
                elif k > 1 and later is None:
                    later = (k, n, side, theta[wrong][0].tolist())
    if later is not None and found is None:
        k, n, side, th = later
        raise SuiteDefect(f"{loss.name}: the margin does not depend on k (proofs/user/capped.py), yet the map "
                          f"contradicts it at k = {k} ({side} side, theta = {th}) and not at k = 1")
    mu = None if margin is None else float(margin)
    figures = {"cases": cases, "cases_k": [list(c) for c in CASES]}
    figures |= {"gaps": list(NO_MARGIN_GAPS)} if margin is None else {"eps": EPS, "margin": mu}
    if found is None:
        summary = (f"$\\hat y \\ne \\mathbf 1_Y$ at gaps up to {NO_MARGIN_GAPS[-1]:g}" if margin is None else
                   f"$\\hat y = \\mathbf 1_Y$ at gap $\\mu(1 + \\varepsilon)$, $\\ne$ at $\\mu(1 - \\varepsilon)$, "
                   f"$\\mu = {mu:.6g}$") + f", $k \\in \\{{{', '.join(map(str, KS))}\\}}$, {cases} cases"
    else:
        summary = f"contradicted on the {found['side']} side at $k = 1$, $n = {len(found['y'])}$"
    detail = (f"the generic map on $C_k$ on {cases} score vectors with $k$-hot labels; "
              + ("every one as the claim says" if found is None else "a counterexample stored at $k = 1$"))
    return Evidence("numeric", "margin-boundary", "holds" if found is None else "fails", detail=detail,
                    summary=summary, figures=figures, labels=MARGIN_LABELS, counterexample=found)


#: a = 2^{-j}: at k = 2 both a and 1 − a, so s near both ends (s(1 − 2^{-12}) reaches a supremum at 1⁻ to 10⁻³)
CONSTRUCTION = tuple(range(1, 13))
FD_STEP, FD_EDGE = 1e-6, 1e-3
JAC_LABELS = {"cases": "score vectors searched", "largest": r"largest $\lambda_{\max}$ found",
              "largest_k1": r"largest $\lambda_{\max}$ found at $k = 1$", "claimed": "constant under test",
              "construction": r"$\lambda_{\max}$ at $k = 2$, $\hat y = (a, a, 1 - a, 1 - a)$, $a = 2^{-j}$",
              "cases_k": "$(k, n)$ pairs"}


def _fd_lambda(fmap, theta: torch.Tensor, k: int, step: float = FD_STEP) -> tuple[torch.Tensor, torch.Tensor]:
    """(λ_max of the symmetrized central-difference Jacobian, ŷ) for each row of θ (B, n) on C_k:
    every θ ± step·eⱼ in one call of the map (row (±, j, b))."""
    B, n = theta.shape
    eye = torch.eye(n, dtype=theta.dtype)[:, None, :] * step
    shifted = torch.cat([theta[None] + eye, theta[None] - eye]).reshape(-1, n)
    y = fmap(torch.cat([shifted, theta]), k)
    plus, minus = y[:n * B].reshape(n, B, n), y[n * B:2 * n * B].reshape(n, B, n)
    J = ((plus - minus) / (2 * step)).permute(1, 2, 0)             # J[b, i, j] = ∂ŷ_i/∂θ_j
    return torch.linalg.eigvalsh((J + J.transpose(1, 2)) / 2)[:, -1], y[2 * n * B:]


def _step(g1, d0, d1, ys) -> float:
    """The difference step: below 10⁻³ of each entry's distance (in θ) to a finite clip end."""
    step = FD_STEP
    for v in ys:
        if d0 != -sp.oo:
            step = min(step, FD_EDGE * (g1(v) - float(d0)))
        if d1 != sp.oo:
            step = min(step, FD_EDGE * (float(d1) - g1(v)))
    return step


def _quotient(fmap, theta: torch.Tensor, k: int, i: int, step: float) -> float:
    """The Rayleigh quotient of the map's central-difference Jacobian along e_i − e_{i+1}."""
    v = torch.zeros_like(theta)
    v[0, i], v[0, i + 1] = 1.0, -1.0
    return float(((fmap(theta + step * v, k) - fmap(theta - step * v, k)) / (2 * step) * v).sum() / 2)


def jacobian_search(loss: SeparableLoss, constant: sp.Expr | None, ctx: RunContext) -> Evidence:
    """FY-4's numeric route on C_k (module docstring); ``constant`` ``oo`` for "not Lipschitz",
    None when none was derived (undecided)."""
    facts = derive(loss)
    fmap = capped_map(facts)
    g1 = sp.lambdify(loss.x, facts.g1, "math")
    s_of = sp.lambdify(loss.x, facts.s, "math")
    d0, d1 = facts["g'(0+)"].value, facts["g'(1-)"].value
    lam_c, best, best_k1, row_k1, row_best = [], 0.0, 0.0, None, None
    for j in CONSTRUCTION:
        a = 2.0**-j
        for k, ys in ((1, [a, a] + ([] if j == 1 else [1 - 2 * a])), (2, [a, a, 1 - a, 1 - a])):
            theta = torch.tensor([[g1(v) for v in ys]], dtype=torch.float64)
            step = _step(g1, d0, d1, ys)
            for i in ((0,) if k == 1 else (0, 2)):
                got, want = _quotient(fmap, theta, k, i, step), s_of(ys[i])
                if abs(got - want) > AGREE * max(1.0, abs(want)):
                    raise SuiteDefect(f"{loss.name}: on C_{k} the map's Jacobian at yhat = {ys} has Rayleigh quotient "
                                      f"{got:.9g} along e{i + 1} - e{i + 2}; the derivation gives s = {want:.9g}")
            lams, yc = _fd_lambda(fmap, theta, k, step)
            lam = float(lams[0])
            if lam > best:
                best, row_best = lam, (theta[0].tolist(), yc[0].tolist(), k)
            if k == 1 and lam > best_k1:
                best_k1, row_k1 = lam, (theta[0].tolist(), yc[0].tolist())
            if k == 2:
                lam_c.append(lam)
    gen = ctx.generator(salt=54)
    per = ctx.budget(60, 600)
    cases = 2 * len(CONSTRUCTION)
    for k, n in CASES:
        for scale in (0.3, 1.0, 3.0):
            theta = torch.randn(per, n, generator=gen, dtype=torch.float64) * scale
            lam, y = _fd_lambda(fmap, theta, k)
            cases += per
            i = int(lam.argmax())
            if float(lam[i]) > best:
                best, row_best = float(lam[i]), (theta[i].tolist(), y[i].tolist(), k)
            if k == 1 and float(lam[i]) > best_k1:
                best_k1, row_k1 = float(lam[i]), (theta[i].tolist(), y[i].tolist())
    figures = {"cases": cases, "largest": best, "largest_k1": best_k1, "construction": lam_c,
               "claimed": "none" if constant is None else str(constant), "cases_k": [list(c) for c in CASES]}
    found = None
    if constant is None:
        outcome, summary = "undecided", f"no derived constant to test; largest $\\lambda_{{\\max}}$ found {best:.6g}"
    elif constant == sp.oo:
        outcome = "holds" if best >= UNBOUNDED else "undecided"
        summary = f"$\\lambda_{{\\max}}$ reaches {best:.3g} ($a$ down to $2^{{-12}}$ at $k = 1, 2$)"
    else:
        c = float(constant)
        outcome, summary = constant_outcome(best, c)
        if outcome == "fails":
            # a point of the simplex (k = 1) where one exceeds, else the largest at k >= 2 (both re-checked outside)
            th, yv, kk, lv = (*row_k1, 1, best_k1) if constant_outcome(best_k1, c)[0] == "fails" else (*row_best, best)
            found = {"theta": th, "yhat": yv, "lambda_max": lv, "k": kk}
            summary = f"$\\lambda_{{\\max}} = {lv:.6g}$ found at $k = {kk}$, above the claimed {c:.6g}"
    detail = (f"central differences of the generic map on $C_k$ on {cases} score vectors, and the constructions' "
              f"eigenvalues $s(a)$ reproduced to {AGREE:g}")
    return Evidence("numeric", "jacobian-search", outcome, detail=detail, summary=summary, figures=figures,
                    labels=JAC_LABELS, counterexample=found)
