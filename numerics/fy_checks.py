"""Numeric checks of the Fenchel–Young claims FY-1 … FY-4 (CLAIMS.md §1).

Each check takes the loss name (``softmax``, ``sparsemax``, ``entmax``, ``rankmax``) and a
:class:`~audit.RunContext`, and returns one :class:`~audit.Evidence`
(kind ``numeric``).  Checks are deterministic functions of the context: hypothesis runs
derandomized (the run seed is mixed into the generated data through ``salt``), every
other random draw comes from ``ctx.generator(salt)``.

Outcome rules shared by all checks:

* ``fails`` -- a counted violation, with the first violating input as counterexample
  (hypothesis' shrink phase is off: a failure is reported as found, which keeps the
  checks fast and their counterexamples reproducible);
* ``undecided`` -- no violation, but a solver did not report ``optimal`` (cvxpy) or an
  input could not be decided in float64; the count is in the figures;
* ``holds`` -- neither.

Parameter grids: entmax α ∈ :data:`ENTMAX_ALPHAS`; rankmax k ∈ :data:`RANKMAX_KS`
restricted to k ≤ n − 1.
"""
from __future__ import annotations

import functools
import itertools
import math
from typing import Any, Callable

import mpmath
import numpy as np
import torch
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

from losses import get
from audit import Evidence, RunContext

from . import cvx
from .strategies import capped_points, scores, simplex_points

LOSSES = ("softmax", "sparsemax", "entmax", "rankmax")
ENTMAX_ALPHAS = (1.25, 1.5, 1.75, 2.5)
RANKMAX_KS = (1, 2, 3)
SMOOTH_ALPHAS = {"le2": (1.25, 1.5, 1.75, 2.0), "gt2": (2.5, 3.0)}
EPS = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------- helpers
def _single_thread(fn):
    """Run a check with one intra-op torch thread, restoring the previous setting.

    The checks make thousands of tiny torch calls; on small CPU quotas the default
    thread pool costs ~10 ms per call (measured: torch.softmax on a 12×6 tensor, 12 ms
    with 2 threads vs 6 µs with 1).  Results do not depend on the thread count."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper


class _Found(Exception):
    """Raised inside a hypothesis body to stop at the first violation; carries it."""

    def __init__(self, payload: dict):
        super().__init__(payload.get("reason", "violation"))
        self.payload = payload


def _grid(loss: str) -> list[dict]:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if loss == "entmax":
        return [{"alpha": a} for a in ENTMAX_ALPHAS]
    if loss == "rankmax":
        return [{"k": k} for k in RANKMAX_KS]
    return [{}]


def _min_n(params: dict) -> int:
    return max(2, params.get("k", 1) + 1)


def _mass(params: dict) -> float:
    return float(params.get("k", 1))


def _run_hypothesis(strategy: st.SearchStrategy, body: Callable[[Any], None], n_examples: int) -> dict | None:
    """Run ``body`` on ``n_examples`` derandomized examples; the first ``_Found`` stops it."""

    @settings(derandomize=True, database=None, max_examples=n_examples, deadline=None,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False)
    @given(strategy)
    def inner(x):
        body(x)

    try:
        inner()
    except _Found as found:
        return found.payload
    return None


def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def _round_tol(theta: np.ndarray, extra: float = 0.0) -> float:
    """Float64 rounding scale of an FY loss computed from θ: sums of n terms of size ptp θ."""
    n = theta.shape[-1]
    return 16 * (n + 1) * EPS * (1.0 + float(np.ptp(theta)) + abs(extra))


def _loss_tol(theta: np.ndarray) -> float:
    """Rounding scale of a loss *value* compared with a bound in ŷ: the entries of ŷ are
    differences of numbers of size ptp θ (absolute error ~ ε·ptp θ each), and the loss
    weighs them by scores of size ptp θ, so the error grows like ε·ptp(θ)², not ε·ptp θ
    (found by the full profile: θ with one entry 5277 put L 4.8e-9 below the
    strong-convexity bound ½‖y − ŷ‖², which holds exactly)."""
    return _round_tol(theta) * (1.0 + float(np.ptp(theta)))


def _in_domain(p: np.ndarray, params: dict, tol: float) -> bool:
    ok = bool(np.all(p >= -tol)) and abs(float(p.sum()) - _mass(params)) <= tol
    if "k" in params:
        ok = ok and bool(np.all(p <= 1 + tol))
    return ok


def _outcome(fail: dict | None, undecided: int) -> str:
    if fail is not None:
        return "fails"
    return "undecided" if undecided else "holds"


def _label(loss: str, params: dict) -> str:
    return loss + "".join(f", {k}={v}" for k, v in params.items())


# ------------------------------------------------------------------------------ FY-1
@_single_thread
def cvx_agreement(loss: str, ctx: RunContext) -> Evidence:
    """FY-1: ŷ and the shifted conjugate Ω*(θ − max θ) of ``losses/`` agree with an
    independent cvxpy solve of max_{p ∈ dom Ω} ⟨θ − max θ, p⟩ − Ω(p) on the exact domain,
    and Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) with Ω evaluated in numpy (not by ``losses/``).

    Tolerances: conjugate 1e-6, ŷ 1e-6 on every case.  Clarabel tries the settings of
    :data:`numerics.cvx.RUNGS` until one reports "optimal" (QPs first go to OSQP with
    polishing); an interior point's p is only accurate to about sqrt(gap) at degenerate
    points, so a ŷ difference above 1e-6 is arbitrated by a 50-digit bisection, which ours
    must match to 1e-9 (figures: ``later_rung``, ``arbitrated``).  A case where no setting
    reports "optimal" is undecided."""
    stats = dict(cases=0, undecided=0, later_rung=0, arbitrated=0, max_abs_err_pred_vs_mpmath=0.0,
                 max_abs_err_pred=0.0, max_abs_err_conj=0.0,
                 max_abs_err_identity=0.0, max_abs_err_shift=0.0)
    fail: dict | None = None
    n_examples = ctx.budget(25, 200)
    for params in _grid(loss):
        L = get(loss, **params)

        def body(theta: np.ndarray, params=params, L=L) -> None:
            m = float(theta.max())
            t = theta - m
            n = theta.shape[0]
            tt = _t(t)[None]
            yhat = L.predict(tt)[0].numpy()
            conj = float(L.conjugate(tt)[0])
            conj_full = float(L.conjugate(_t(theta)[None])[0])
            status = p = value = None
            for rung in range(cvx.N_RUNGS):
                status, p, value = cvx.solve_argmax(loss, theta, rung=rung, **params)
                if status == "optimal":
                    break
            if status != "optimal":
                stats["undecided"] += 1
                return
            stats["cases"] += 1
            stats["later_rung"] += rung > 0
            ptol = 1e-6
            rtol = _round_tol(theta)
            e_pred = float(np.abs(p - yhat).max())
            e_conj = abs(value - conj)
            e_id = abs(conj - (float(t @ yhat) - cvx.omega_numpy(loss, yhat, **params)))
            e_shift = abs(conj_full - (conj + m * _mass(params)))
            for key, val in (("max_abs_err_pred", e_pred), ("max_abs_err_conj", e_conj),
                             ("max_abs_err_identity", e_id), ("max_abs_err_shift", e_shift)):
                stats[key] = max(stats[key], val)
            reason = None
            if not _in_domain(yhat, params, _round_tol(theta)):
                reason = "prediction outside the domain"
            elif e_pred > ptol:
                # an interior-point argmax is only accurate to ~sqrt(gap) at degenerate points
                # (an entry on the support boundary); a 50-digit bisection decides who is off
                with mpmath.workdps(50):
                    ref = np.array([float(v) for v in _mp_predict(loss, theta, params)[1]])
                e_mp = float(np.abs(ref - yhat).max())
                stats["arbitrated"] += 1
                stats["max_abs_err_pred_vs_mpmath"] = max(stats["max_abs_err_pred_vs_mpmath"], e_mp)
                if e_mp > 1e-9:
                    reason = (f"prediction differs from the cvxpy argmax by {e_pred:.3g} > {ptol:.1g} "
                              f"and from a 50-digit bisection by {e_mp:.3g} > 1e-9")
            elif e_conj > 1e-6:
                reason = f"shifted conjugate differs from the cvxpy optimum by {e_conj:.3g} > 1e-6"
            elif e_id > rtol:
                reason = f"Ω*(θ) ≠ ⟨θ,ŷ⟩ − Ω(ŷ): gap {e_id:.3g} > {rtol:.3g}"
            elif e_shift > _round_tol(theta, m):
                reason = f"Ω*(θ) ≠ Ω*(θ − m) + m·Σp: gap {e_shift:.3g}"
            if reason:
                raise _Found({"theta": theta.tolist(), **params, "reason": reason,
                              "prediction": yhat.tolist(), "cvxpy_argmax": p.tolist()})

        fail = _run_hypothesis(scores(_min_n(params), 200, salt=ctx.seed), body, n_examples)
        if fail is not None:
            break
    figures = {**stats, "solver": cvx.solver_name(), "settings": _grid(loss), "examples_per_setting": n_examples}
    outcome = _outcome(fail, stats["undecided"])
    detail = {
        "holds": f"{stats['cases']} cvxpy solves agree with losses/ for {loss}",
        "undecided": f"{stats['undecided']} cvxpy solves did not reach 'optimal' on any tolerance rung",
        "fails": (fail or {}).get("reason", ""),
    }[outcome]
    return Evidence("numeric", f"cvx_agreement[{loss}]", outcome, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"})


# ------------------------------------------------------------------------------ FY-2
def _vertices(n: int, params: dict, rng: np.random.Generator, limit: int = 24) -> np.ndarray:
    """One-hot vertices of Δ, or multi-hot vertices of C_k (all, or a random sample)."""
    k = params.get("k", 1)
    combos = math.comb(n, k)
    if combos <= limit:
        idx = list(itertools.combinations(range(n), k))
    else:
        idx = [tuple(rng.choice(n, k, replace=False)) for _ in range(limit)]
    out = np.zeros((len(idx), n))
    for r, c in enumerate(idx):
        out[r, list(c)] = 1.0
    return out


def _strong_convexity(loss: str, params: dict) -> tuple[float, str] | None:
    """(σ, norm) with Ω σ-strongly convex on its domain w.r.t. the norm, so that
    L(θ; y) ≥ σ/2 ‖y − ŷ‖² (Blondel et al. 2020, Prop. 3).  Tsallis with α ≤ 2 has
    Ω'' = p^{α−2} ≥ 1 on [0, 1]; for α > 2 no such bound (None)."""
    if loss == "softmax":
        return 1.0, "l1"  # Pinsker
    if loss == "entmax" and params["alpha"] > 2:
        return None
    return 1.0, "l2"


def _pattern(p: torch.Tensor, capped: bool) -> torch.Tensor:
    pat = p > 0
    return torch.cat([pat, p < 1], -1) if capped else pat


def _generic(L, theta: torch.Tensor, h: float, capped: bool) -> torch.Tensor:
    """Rows of θ (B, n) whose support pattern (and capped set) is unchanged by ±10h moves
    of each coordinate: central differences of step h stay on one smooth piece."""
    B, n = theta.shape
    eye = torch.eye(n, dtype=theta.dtype)
    moved = torch.cat([theta[:, None] + 10 * h * eye, theta[:, None] - 10 * h * eye], 1)  # (B, 2n, n)
    p0 = _pattern(L.predict(theta), capped)
    pm = _pattern(L.predict(moved.reshape(-1, n)), capped).reshape(B, 2 * n, -1)
    return (pm == p0[:, None]).all(-1).all(-1)


@_single_thread
def loss_properties(loss: str, ctx: RunContext) -> Evidence:
    """FY-2: L ≥ 0; L(θ; ŷ) = 0; L(θ; y) ≥ σ/2‖y − ŷ‖² (so L > 0 for y ≠ ŷ) on random
    labels and on every vertex e_y (multi-hot for rankmax); convexity along random lines
    (midpoint inequality, slack max(1e-9(1+|L|), rounding)); ∇L = ŷ − y by the backward
    pass, by central finite differences and by ``torch.autograd.gradcheck`` at points
    away from support changes; L(θ + c1; y) = L(θ; y).  Class-index targets agree with
    one-hot label vectors."""
    stats = dict(cases=0, min_loss=math.inf, max_abs_loss_at_prediction=0.0, min_strict_loss=math.inf,
                 max_convexity_violation=-math.inf, max_abs_err_backward=0.0, max_abs_err_fd=0.0,
                 fd_points=0, skipped_nongeneric=0, gradchecks=0, max_abs_err_shift=0.0,
                 max_abs_err_index_target=0.0)
    fail: dict | None = None
    n_examples = ctx.budget(10, 150)
    h = 1e-6
    for params in _grid(loss):
        L = get(loss, **params)
        capped = "k" in params
        sc = _strong_convexity(loss, params)

        @st.composite
        def case(draw, params=params):
            theta = draw(scores(_min_n(params), 24, salt=ctx.seed))
            n = theta.shape[0]
            pts = capped_points(n, params["k"], salt=ctx.seed) if capped else simplex_points(n, salt=ctx.seed)
            ys = np.stack([draw(pts) for _ in range(3)])
            return theta, ys, draw(st.integers(0, 2**32 - 1))

        def body(arg, params=params, L=L, capped=capped, sc=sc) -> None:
            theta, ys, seed = arg
            rng = np.random.default_rng([seed, ctx.seed])
            n = theta.shape[0]
            rtol = _loss_tol(theta)
            th = _t(theta)[None]
            yhat = L.predict(th)[0].numpy()
            stats["cases"] += 1

            def found(reason: str, **extra) -> None:
                raise _Found({"theta": theta.tolist(), **params, "reason": reason, **extra})

            if not _in_domain(yhat, params, _round_tol(theta)):
                found("prediction outside the domain", prediction=yhat.tolist())
            # L(θ; ŷ) = 0
            l_hat = float(L(th, _t(yhat)[None])[0])
            stats["max_abs_loss_at_prediction"] = max(stats["max_abs_loss_at_prediction"], abs(l_hat))
            if abs(l_hat) > rtol:
                found(f"L(θ; ŷ) = {l_hat:.3g} ≠ 0", y=yhat.tolist())
            # L ≥ 0 and the strong-convexity lower bound, random labels and vertices
            Y = np.concatenate([ys, _vertices(n, params, rng)])
            Lv = L(th.expand(len(Y), n), _t(Y)).numpy()
            stats["min_loss"] = min(stats["min_loss"], float(Lv.min()))
            for y, lv in zip(Y, Lv):
                if lv < -rtol:
                    found(f"L(θ; y) = {lv:.3g} < 0", y=y.tolist())
                d = y - yhat
                if np.abs(d).max() >= 1e-3:
                    stats["min_strict_loss"] = min(stats["min_strict_loss"], float(lv))
                    if not lv > rtol:
                        found(f"L(θ; y) = {lv:.3g} not > 0 although ‖y − ŷ‖∞ ≥ 1e-3", y=y.tolist())
                if sc is not None:
                    bound = 0.5 * sc[0] * (np.abs(d).sum() ** 2 if sc[1] == "l1" else float(d @ d))
                    if lv < bound - rtol:
                        found(f"L(θ; y) = {lv:.6g} below the strong-convexity bound {bound:.6g}", y=y.tolist())
            if not capped or params["k"] == 1:
                j = torch.as_tensor(rng.integers(0, n, 4))
                li = L(th.expand(4, n), j).numpy()
                lo = L(th.expand(4, n), torch.nn.functional.one_hot(j, n).double()).numpy()
                err = float(np.abs(li - lo).max())
                stats["max_abs_err_index_target"] = max(stats["max_abs_err_index_target"], err)
                if err > rtol:
                    found(f"class-index target and one-hot vector give losses {err:.3g} apart")
            # convexity along random lines, midpoint inequality
            y = _t(ys[:1]).expand(8, n)
            d = _t(rng.normal(0, 1, (8, n)) * rng.choice([0.1, 1.0, 10.0], (8, 1)))
            t1, t2 = _t(rng.uniform(-2, 2, (8, 1))), _t(rng.uniform(-2, 2, (8, 1)))
            a, b = th + t1 * d, th + t2 * d
            la, lb, lm = L(a, y), L(b, y), L((a + b) / 2, y)
            viol = (lm - (la + lb) / 2).numpy()
            slack = np.maximum(1e-9 * (1 + np.abs(lm.numpy())), _round_tol(theta, float(d.abs().max()) * 2))
            stats["max_convexity_violation"] = max(stats["max_convexity_violation"], float(viol.max()))
            if (viol > slack).any():
                i = int(np.argmax(viol - slack))
                found(f"midpoint convexity violated by {viol[i]:.3g}", y=ys[0].tolist(),
                      direction=d[i].tolist(), t=[float(t1[i]), float(t2[i])])
            # gradient: backward pass = ŷ − y
            yv = _t(ys[:1])
            thg = th.clone().requires_grad_(True)
            L(thg, yv).sum().backward()
            g_ref = yhat - ys[0]
            err = float(np.abs(thg.grad[0].numpy() - g_ref).max())
            stats["max_abs_err_backward"] = max(stats["max_abs_err_backward"], err)
            if err > 64 * EPS:
                found(f"backward pass differs from ŷ − y by {err:.3g}", y=ys[0].tolist())
            # central differences and gradcheck at generic points only
            # a loss value carries rounding ~ n ε ptp(θ)² (``_loss_tol``); divided by h it can swamp the
            # difference quotient, and such a point says nothing about the gradient: skipped and counted
            fd_round = 4 * EPS * (n * (1 + float(np.ptp(theta))) ** 2 + abs(float(L(th, yv)[0]))) / h
            if not bool(_generic(L, th, h, capped)[0]):
                stats["skipped_nongeneric"] += 1
            elif fd_round > 1e-2:
                stats["skipped_rounding"] = stats.get("skipped_rounding", 0) + 1
            else:
                stats["fd_points"] += 1
                eye = torch.eye(n, dtype=torch.float64)
                lp = L(th + h * eye, yv.expand(n, n))
                lm_ = L(th - h * eye, yv.expand(n, n))
                fd = ((lp - lm_) / (2 * h)).numpy()
                err = float(np.abs(fd - g_ref).max())
                tol = 1e-6 + fd_round
                stats["max_abs_err_fd"] = max(stats["max_abs_err_fd"], err)
                if err > tol:
                    found(f"central differences differ from ŷ − y by {err:.3g} > {tol:.3g}", y=ys[0].tolist())
                if n <= 12 and np.abs(theta).max() <= 100:
                    stats["gradchecks"] += 1
                    ok = torch.autograd.gradcheck(lambda x: L(x, yv), (th.clone().requires_grad_(True),),
                                                  eps=h, atol=1e-5, rtol=1e-4, raise_exception=False,
                                                  fast_mode=True)
                    if not ok:
                        found("torch.autograd.gradcheck failed", y=ys[0].tolist())
            # shift invariance
            cs = _t([1.5, -1e3, float(rng.uniform(-1e4, 1e4))])[:, None]
            ls = L(th + cs, yv.expand(3, n)).numpy()
            l0 = float(L(th, yv)[0])
            errs = np.abs(ls - l0)
            stats["max_abs_err_shift"] = max(stats["max_abs_err_shift"], float(errs.max()))
            for c, e in zip(cs[:, 0].tolist(), errs):
                if e > _round_tol(theta, c) + _loss_tol(theta):  # both evaluations carry the ptp(θ)² rounding
                    found(f"L(θ + c1; y) − L(θ; y) = {e:.3g} for c = {c:g}", y=ys[0].tolist(), c=c)

        fail = _run_hypothesis(case(), body, n_examples)
        if fail is not None:
            break
    figures = {**stats, "settings": _grid(loss), "examples_per_setting": n_examples}
    outcome = _outcome(fail, 0)
    detail = (fail or {}).get("reason") or (
        f"{stats['cases']} score vectors × labels: L ≥ 0, L(θ;ŷ)=0, strong-convexity lower bound, "
        f"convexity, ∇L = ŷ − y ({stats['fd_points']} finite-difference points, {stats['gradchecks']} gradchecks), "
        f"shift invariance")
    return Evidence("numeric", f"loss_properties[{loss}]", outcome, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"})


# ------------------------------------------------------------------------------ FY-3
MARGINS = {"sparsemax": lambda p: 1.0, "entmax": lambda p: 1.0 / (p["alpha"] - 1.0), "rankmax": lambda p: 1.0}


def _mp_predict(loss: str, theta: np.ndarray, params: dict, dps: int = 50):
    """ŷ in mpmath (``dps`` digits) by bisection on the threshold, in the shifted frame
    z = θ − max θ.  Returns (z, p, Ω) with Ω a function on mpmath vectors.  Independent of
    losses/ and of cvxpy: the arbiter when the two disagree."""
    with mpmath.workdps(dps):
        m = max(mpmath.mpf(float(v)) for v in theta)
        z = [mpmath.mpf(float(v)) - m for v in theta]
        if loss == "softmax":
            e = [mpmath.exp(zi) for zi in z]
            s = mpmath.fsum(e)
            return z, [ei / s for ei in e], lambda q: mpmath.fsum(qi * mpmath.log(qi) for qi in q if qi > 0)
        if loss == "rankmax":
            k = params["k"]

            def mass(tau):
                return mpmath.fsum(min(max(zi - tau, 0), 1) for zi in z)

            lo, hi = min(z) - 1, max(z)
            for _ in range(int(dps * 3.4) + 20):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if mass(mid) >= k else (lo, mid)
            p = [min(max(zi - lo, 0), 1) for zi in z]
            return z, p, lambda q: mpmath.fsum(qi * qi for qi in q) / 2
        a = mpmath.mpf(params.get("alpha", 2))
        x = [(a - 1) * zi for zi in z]
        inv = 1 / (a - 1)

        def mass(tau):
            return mpmath.fsum(max(xi - tau, 0) ** inv for xi in x)

        lo, hi = mpmath.mpf(-1), mpmath.mpf(0)
        for _ in range(int(dps * 3.4) + 20):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mass(mid) >= 1 else (lo, mid)
        p = [max(xi - lo, 0) ** inv for xi in x]
        s = mpmath.fsum(p)
        return z, [pi / s for pi in p], lambda q: (mpmath.fsum(qi ** a for qi in q) - 1) / (a * (a - 1))


def _mp_loss(loss: str, theta: np.ndarray, y: np.ndarray, params: dict, dps: int = 50) -> mpmath.mpf:
    """The FY loss in mpmath: ⟨z, p⟩ − Ω(p) − ⟨z, y⟩ + Ω(y) with p from :func:`_mp_predict`."""
    with mpmath.workdps(dps):
        z, p, om = _mp_predict(loss, theta, params, dps)
        yy = [mpmath.mpf(float(v)) for v in y]
        inner_y = mpmath.fsum(zi * yi for zi, yi in zip(z, yy))
        return mpmath.fsum(zi * pi for zi, pi in zip(z, p)) - om(p) - inner_y + om(yy)


@_single_thread
def margin_check(loss: str, ctx: RunContext) -> Evidence:
    """FY-3: with margin μ (sparsemax 1, α-entmax 1/(α−1), rankmax 1 for a multi-hot y of
    size k, margin = min over labelled − max over the rest), scores whose margin is μ + ε
    give L == 0.0 exactly (float64) and ŷ == y; margin μ − ε gives ŷ ≠ y and L > 0,
    checked against a 50-digit mpmath evaluation of the loss.  Near the margin the loss
    is O(ε^{α/(α−1)}) (e.g. ~1e-33 for α = 1.25, ε = 1e-6), below what an O(1)-term
    float64 formula resolves: such cases ("unresolved_in_float64") require ŷ ≠ y, |L| within
    rounding of the exact value, and the exact value > 0; they never count as a pass of
    "L > 0 in float64" and are reported.

    Softmax (no margin): L > 0 at margins up to 30 (and equal to the exact log-sum-exp to
    rounding); the figures also report the largest margin at which the float64 loss of
    ``losses/`` is still > 0 for n = 2 and where log1p(e^{−m}) itself underflows (~745):
    beyond those only the symbolic proof speaks."""
    g = ctx.generator(3)
    reps = ctx.budget(2, 12)
    stats = dict(cases=0, zero_side_cases=0, positive_side_cases=0, unresolved_in_float64=0,
                 min_positive_loss_at_mu_minus_eps=math.inf, max_abs_err_vs_mpmath=0.0)
    fail: dict | None = None

    def check_case(L, params, theta, y, side, eps):
        nonlocal fail
        n = theta.shape[0]
        th = _t(theta)[None]
        yhat = L.predict(th)[0].numpy()
        lv = float(L(th, _t(y)[None])[0])
        stats["cases"] += 1
        ce = {"theta": theta.tolist(), "y": y.tolist(), **params, "side": side, "eps": eps, "loss": lv}
        if side == "plus":
            stats["zero_side_cases"] += 1
            if not (lv == 0.0 and np.array_equal(yhat, y)):
                return {**ce, "reason": f"margin μ+{eps:g}: loss {lv!r} (must be exactly 0.0), ŷ == y: "
                                        f"{bool(np.array_equal(yhat, y))}", "prediction": yhat.tolist()}
            return None
        stats["positive_side_cases"] += 1
        ref = _mp_loss(loss, theta, y, params)
        res = _round_tol(theta)
        err = abs(float(mpmath.mpf(lv) - ref))
        stats["max_abs_err_vs_mpmath"] = max(stats["max_abs_err_vs_mpmath"], err)
        if lv > 0:
            stats["min_positive_loss_at_mu_minus_eps"] = min(stats["min_positive_loss_at_mu_minus_eps"], lv)
        if not ref > 0:
            return {**ce, "reason": f"exact loss {mpmath.nstr(ref, 5)} not > 0 below the margin"}
        if err > res:
            return {**ce, "reason": f"float64 loss {lv!r} differs from the exact {mpmath.nstr(ref, 8)} by {err:.3g}"}
        if np.array_equal(yhat, y):
            return {**ce, "reason": "ŷ == y below the margin"}
        if ref > 2 * res:
            if not lv > 0:
                return {**ce, "reason": f"loss {lv!r} not > 0 below the margin (exact {mpmath.nstr(ref, 5)})"}
        else:
            stats["unresolved_in_float64"] += 1
        return None

    if loss == "softmax":
        L = get("softmax")
        for n, m, _ in itertools.product((2, 3, 10, 50), (0.5, 1.0, 5.0, 10.0, 20.0, 30.0), range(reps)):
            others = torch.randn(n - 1, generator=g, dtype=torch.float64).numpy() * 3
            theta = np.concatenate([[others.max() + m], others])
            y = np.zeros(n)
            y[0] = 1.0
            fail = check_case_softmax(L, theta, y, stats)
            if fail:
                break
        # float64 reach of the library's loss, n = 2, θ = (m, 0)
        margins = np.arange(30.0, 801.0, 0.5)
        th = _t(np.stack([margins, np.zeros_like(margins)], 1))
        lv = L(th, torch.zeros(len(margins), dtype=torch.long)).numpy()
        pos = margins[lv > 0]
        figures = {**{k: stats[k] for k in ("cases", "min_positive_loss_at_mu_minus_eps", "max_abs_err_vs_mpmath")},
                   "margins": [0.5, 1.0, 5.0, 10.0, 20.0, 30.0],
                   "library_loss_positive_up_to_margin": float(pos.max()) if pos.size else None,
                   "log1p_exp_representable_up_to_margin": float(-math.log(np.nextafter(0, 1))),
                   }
        outcome = _outcome(fail, 0)
        detail = (fail or {}).get("reason") or (
            "softmax has no margin: L > 0 at margins ≤ 30 and equal to the exact value to rounding; the "
            f"float64 loss of losses/ stays > 0 up to margin {figures['library_loss_positive_up_to_margin']} "
            "(log1p form; e^-m itself underflows beyond ≈ 745); the symbolic proof covers all finite θ")
        return Evidence("numeric", "margin_check[softmax]", outcome, detail, figures,
                        None if fail is None else {k: v for k, v in fail.items() if k != "reason"})

    mismatched_attr = []
    for params in _grid(loss):
        mu = MARGINS[loss](params)
        L = get(loss, **params)
        if L.margin is None or abs(L.margin - mu) > 1e-15:
            mismatched_attr.append({**params, "library_margin": L.margin, "claimed": mu})
        k = params.get("k", 1)
        cases = itertools.product(ctx.budget((2, 3, 10), (2, 3, 5, 10, 40)), (1e-3, 1e-6), ("plus", "minus"), range(reps))
        for n, eps, side, r in cases:
            if n < k + 1:
                continue
            scale = (0.1, 1.0, 100.0)[r % 3]
            vals = torch.randn(n, generator=g, dtype=torch.float64).numpy() * scale
            perm = torch.randperm(n, generator=g).numpy()
            lab, rest = perm[:k], perm[k:]
            base = vals[rest].max() + (mu + eps if side == "plus" else mu - eps)
            theta = vals.copy()
            theta[lab] = base + np.abs(torch.randn(k, generator=g, dtype=torch.float64).numpy())
            theta[lab[0]] = base
            realized = theta[lab].min() - theta[rest].max()
            if abs(realized - (mu + eps if side == "plus" else mu - eps)) > 1e-9:
                raise AssertionError(f"margin construction off: {realized} for μ={mu}, ε={eps}")
            y = np.zeros(n)
            y[lab] = 1.0
            fail = check_case(L, params, theta, y, side, eps)
            if fail:
                break
        if fail:
            break
    if fail is None and mismatched_attr:
        fail = {"reason": "the loss's margin attribute differs from the claimed margin", "mismatch": mismatched_attr,
                "theta": [], **_grid(loss)[0]}
    figures = {**stats, "settings": _grid(loss), "eps": [1e-3, 1e-6], "n": list(ctx.budget((2, 3, 10), (2, 3, 5, 10, 40))),
               "margins": {str(p.get("alpha", p.get("k", ""))): MARGINS[loss](p) for p in _grid(loss)}}
    outcome = _outcome(fail, 0)
    detail = (fail or {}).get("reason") or (
        f"L == 0.0 and ŷ == y at margin μ+ε; ŷ ≠ y and L > 0 (exact, 50 digits) at μ−ε; "
        f"{stats['unresolved_in_float64']} of {stats['positive_side_cases']} μ−ε losses are below float64 resolution")
    return Evidence("numeric", f"margin_check[{loss}]", outcome, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"})


def check_case_softmax(L, theta: np.ndarray, y: np.ndarray, stats: dict) -> dict | None:
    lv = float(L(_t(theta)[None], _t(y)[None])[0])
    ref = _mp_loss("softmax", theta, y, {})
    err = abs(float(mpmath.mpf(lv) - ref))
    stats["cases"] += 1
    stats["max_abs_err_vs_mpmath"] = max(stats["max_abs_err_vs_mpmath"], err)
    if lv > 0:
        stats["min_positive_loss_at_mu_minus_eps"] = min(stats["min_positive_loss_at_mu_minus_eps"], lv)
    if not lv > 0 or err > _round_tol(theta):
        return {"theta": theta.tolist(), "y": y.tolist(), "loss": lv,
                "reason": f"softmax loss {lv!r} not > 0 or off the exact {mpmath.nstr(ref, 8)}"}
    return None


# ------------------------------------------------------------------------------ FY-4
def _fd_jacobian(L, theta: torch.Tensor, h: float) -> torch.Tensor:
    """Central-difference Jacobian of ``predict`` at each row of θ (B, n): (B, n, n), J[b, i, j] = ∂ŷ_i/∂θ_j."""
    B, n = theta.shape
    eye = torch.eye(n, dtype=theta.dtype)
    pts = torch.cat([theta[:, None] + h * eye, theta[:, None] - h * eye], 1).reshape(-1, n)
    p = L.predict(pts).reshape(B, 2, n, n)  # [b, sign, j, i]
    return ((p[:, 0] - p[:, 1]) / (2 * h)).transpose(1, 2)


def _lam(J: torch.Tensor) -> torch.Tensor:
    return torch.linalg.eigvalsh((J + J.transpose(1, 2)) / 2)[:, -1]


def _closed_jacobian(loss: str, params: dict, p: torch.Tensor) -> torch.Tensor:
    """J_ŷ from the closed forms: softmax diag(p) − ppᵀ; α-entmax diag(s) − ssᵀ/Σs with
    s = p^{2−α} on the support (α = 2: sparsemax); rankmax I_F − 1_F1_Fᵀ/|F| on the free set."""
    if loss == "softmax":
        return torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    if loss == "rankmax":
        s = ((p > 0) & (p < 1)).to(p.dtype)
    else:
        a = params.get("alpha", 2.0)
        s = torch.where(p > 0, p.clamp_min(1e-300) ** (2 - a), torch.zeros_like(p))
    tot = s.sum(-1, keepdim=True)[:, :, None].clamp_min(1e-300)
    return torch.diag_embed(s) - s[:, :, None] * s[:, None, :] / tot


def _claimed_constant(loss: str, params: dict) -> float:
    if loss == "softmax":
        return 0.5
    if loss == "entmax":
        return 2.0 ** (params["alpha"] - 2.0)
    return 1.0


@_single_thread
def smoothness_check(loss: str, ctx: RunContext, alpha_range: str = "le2") -> Evidence:
    """FY-4: sup_θ λ_max(J_ŷ(θ)) estimated from central-difference Jacobians of ``predict``
    (step 1e-6, float64) at points whose support pattern is stable under ±1e-5 moves,
    cross-checked against the closed-form Jacobian (|Δλ| ≤ 1e-6), maximized by random
    search then Nelder–Mead for n = 2 … 6.  Claimed: softmax ½, sparsemax 1, rankmax 1,
    α-entmax 2^{α−2} (alpha_range "le2": α ∈ 1.25, 1.5, 1.75, 2).  Holds if claimed − 1e-3
    ≤ max found ≤ claimed + 1e-6.

    alpha_range "gt2" (α ∈ 2.5, 3) tests "the α-entmax constant lies in [½, 1]": uniform θ
    on n = 3 gives λ_max = 3^{α−2} > 1, a counterexample; the figures add p = (1−2δ, δ, δ),
    where λ_max = δ^{2−α} grows without bound (ŷ is not Lipschitz for α > 2)."""
    from scipy.optimize import minimize

    if alpha_range not in SMOOTH_ALPHAS:
        raise ValueError(f"alpha_range must be 'le2' or 'gt2', got {alpha_range!r}")
    if alpha_range == "gt2" and loss != "entmax":
        raise ValueError("alpha_range='gt2' applies to entmax only")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    grid = [{"alpha": a} for a in SMOOTH_ALPHAS[alpha_range]] if loss == "entmax" else _grid(loss)
    h = 1e-6
    g = ctx.generator(4)
    n_random = ctx.budget(256, 2048)
    n_starts, nm_iter = ctx.budget(1, 4), ctx.budget(40, 300)
    nm_max_n = ctx.budget(3, 6)  # the suprema sit at n = 2; quick refines only n ≤ 3
    per: dict[str, dict] = {}
    fail: dict | None = None
    max_fd_vs_closed = 0.0

    def lam_at(L, params, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(λ_FD, λ_closed, generic mask) at rows of θ."""
        capped = "k" in params
        J = _fd_jacobian(L, theta, h)
        Jc = _closed_jacobian(loss, params, L.predict(theta))
        return _lam(J), _lam(Jc), _generic(L, theta, h, capped)

    for params in grid:
        L = get(loss if loss != "entmax" or params["alpha"] != 2.0 else "entmax", **params)
        best = {"lambda_max": -math.inf}
        for n in range(2, 7):
            if n < _min_n(params):
                continue
            scales = torch.tensor([0.05, 0.3, 1.0, 3.0], dtype=torch.float64)
            sc = scales[torch.randint(0, 4, (n_random, 1), generator=g)]
            theta = torch.randn(n_random, n, generator=g, dtype=torch.float64) * sc
            lf, lc, gen = lam_at(L, params, theta)
            diff = (lf - lc).abs()[gen]
            if gen.any():
                max_fd_vs_closed = max(max_fd_vs_closed, float(diff.max()))
                # FD truncation grows with the curvature, which is unbounded for α > 2
                bad = ((lf - lc).abs() > 1e-6 * lc.abs().clamp_min(1) ** 2) & gen
                if bad.any() and fail is None:
                    i = int(bad.nonzero()[0])
                    fail = {"theta": theta[i].tolist(), **params, "n": n, "lambda_fd": float(lf[i]),
                            "lambda_closed": float(lc[i]),
                            "reason": "finite-difference Jacobian of predict differs from the closed form"}
            lg = torch.where(gen, lf, torch.full_like(lf, -math.inf))
            order = torch.argsort(lg, descending=True)[:n_starts]
            cands = [(float(lg[i]), theta[i]) for i in order if math.isfinite(float(lg[i]))]
            for lam0, th0 in (list(cands) if n <= nm_max_n else []):
                res = minimize(lambda v: -float(_lam(_fd_jacobian(L, torch.as_tensor(v)[None], h))[0]),
                               th0.numpy(), method="Nelder-Mead",
                               options={"maxiter": nm_iter, "xatol": 1e-9, "fatol": 1e-12})
                tv = torch.as_tensor(res.x)[None]
                lf2, lc2, gen2 = lam_at(L, params, tv)
                if bool(gen2[0]):
                    cands.append((float(lf2[0]), tv[0]))
                    max_fd_vs_closed = max(max_fd_vs_closed, float((lf2 - lc2).abs()[0]))
            for lam_v, tv in cands:
                if lam_v > best["lambda_max"]:
                    best = {"lambda_max": lam_v, "n": n, "theta": tv.tolist()}
        entry = {"max_found": best["lambda_max"], "argmax_n": best.get("n"), "argmax_theta": best.get("theta")}
        if alpha_range == "le2":
            claimed = _claimed_constant(loss, params)
            entry["claimed"] = claimed
            if fail is None and not (claimed - 1e-3 <= best["lambda_max"] <= claimed + 1e-6):
                fail = {"theta": best.get("theta"), **params, "n": best.get("n"), "lambda_max": best["lambda_max"],
                        "claimed": claimed,
                        "reason": f"max λ found {best['lambda_max']:.9g} outside [{claimed - 1e-3:.6g}, {claimed + 1e-6:.9g}]"}
        else:
            a = params["alpha"]
            uni = torch.zeros(1, 3, dtype=torch.float64)
            lu, lcu, gu = lam_at(L, params, uni)
            entry["uniform_n3"] = {"lambda_max": float(lu[0]), "closed": float(lcu[0]), "expected": 3.0 ** (a - 2)}
            fam = {}
            for delta in (1e-2, 1e-3):
                p = np.array([1 - 2 * delta, delta, delta])
                th = torch.as_tensor(p ** (a - 1) / (a - 1))[None]  # τ = 0: (α−1)θ_i = p_i^{α−1}
                lf_, lc_, g_ = lam_at(L, params, th)
                fam[str(delta)] = {"lambda_fd": float(lf_[0]), "closed": float(lc_[0]), "generic": bool(g_[0]),
                                   "expected_delta_pow": delta ** (2 - a)}
            entry["boundary_family"] = fam
            if fail is None and bool(gu[0]) and float(lu[0]) > 1 + 1e-6:
                fail = {"alpha": a, "n": 3, "theta": uni[0].tolist(), "lambda_max": float(lu[0]),
                        "reason": f"λ_max(J) = {float(lu[0]):.6g} > 1 at uniform θ, n = 3 (α = {a})"}
        per[_label(loss, params)] = entry
    figures = {"per_setting": per, "max_abs_err_fd_vs_closed": max_fd_vs_closed, "random_points_per_n": n_random,
               "nelder_mead_starts": n_starts, "fd_step": h, "n_range": [2, 6]}
    if alpha_range == "gt2":
        if fail is None:
            outcome, detail = "holds", "no θ with λ_max > 1 found (the [½, 1] claim survived)"
        elif "lambda_max" in fail and "claimed" not in fail and "lambda_closed" not in fail:
            outcome, detail = "fails", fail["reason"] + "; λ_max is unbounded near support changes for α > 2"
        else:
            outcome, detail = "fails", fail["reason"]
    else:
        outcome = _outcome(fail, 0)
        detail = (fail or {}).get("reason") or "sup λ_max(J_ŷ) matches the claimed constant: " + ", ".join(
            f"{k}: {v['max_found']:.7g} (claimed {v['claimed']:.7g})" for k, v in per.items())
    return Evidence("numeric", f"smoothness_check[{loss},{alpha_range}]", outcome, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"})


# --------------------------------------------------------------- differential vs entmax
@_single_thread
def entmax_differential(loss: str, ctx: RunContext) -> Evidence:
    """Differential test against the deep-spin ``entmax`` package (v1.3): predictions,
    losses (class-index targets) and gradients agree to 1e-8 in float64.

    Conventions: the package's ``omega`` is the Tsallis *entropy* H(p) = (1 − Σp^α)/(α(α−1))
    = −Ω(p) and its loss is H(ŷ) + ⟨ŷ − e_y, θ⟩ = Ω*(θ) − θ_y + Ω(e_y) because Ω(e_y) = 0
    for Tsallis and for ½‖p‖² − ½: no constant offset; the figures report the largest
    signed difference so an offset would show.  α = 1.5 uses ``entmax15``; other α
    ``entmax_bisect`` with 80 iterations; sparsemax ``sparsemax``."""
    import entmax as em

    if loss not in ("sparsemax", "entmax"):
        raise ValueError(f"entmax_differential covers 'sparsemax' and 'entmax', got {loss!r}")
    g = ctx.generator(5)
    grid = [{}] if loss == "sparsemax" else [{"alpha": a} for a in ENTMAX_ALPHAS]
    batches: list[tuple[str, torch.Tensor]] = []
    for n in ctx.budget((2, 3, 10, 100), (2, 3, 5, 10, 50, 100, 1000, 5000)):
        for s in ctx.budget((0.1, 10.0), (0.1, 1.0, 10.0)):
            batches.append((f"normal(n={n},s={s})", torch.randn(16, n, generator=g, dtype=torch.float64) * s))
    for n in (2, 5, 50):
        batches.append((f"ties(n={n})", torch.randint(-3, 4, (16, n), generator=g).double() * 0.5))
    batches.append(("equal(n=2)", torch.zeros(2, 2, dtype=torch.float64)))
    batches.append(("equal(n=7)", torch.full((2, 7), 3.25, dtype=torch.float64)))
    batches.append(("huge(n=50)", (torch.rand(8, 50, generator=g, dtype=torch.float64) * 2 - 1) * 1e4))
    batches.append(("normal(n=100000)", torch.randn(2, 100_000, generator=g, dtype=torch.float64)))
    stats = dict(cases=0, max_abs_err_pred=0.0, max_abs_err_loss=0.0, max_abs_err_grad=0.0,
                 max_signed_loss_offset=0.0, nonfinite_reference=0)
    fail: dict | None = None
    for params in grid:
        a = params.get("alpha", 2.0)
        L = get(loss, **params)
        if loss == "sparsemax":
            ref_p, ref_l = em.sparsemax, em.sparsemax_loss
        elif a == 1.5:
            ref_p, ref_l = em.entmax15, em.entmax15_loss
        else:
            ref_p = lambda x, a=a: em.entmax_bisect(x, alpha=a, n_iter=80)  # noqa: E731
            ref_l = lambda x, t, a=a: em.entmax_bisect_loss(x, t, alpha=a, n_iter=80)  # noqa: E731
        for name, theta in batches:
            B, n = theta.shape
            target = torch.randint(0, n, (B,), generator=g)
            ours_p = L.predict(theta)
            th1 = theta.clone().requires_grad_(True)
            ours_l = L(th1, target)
            ours_l.sum().backward()
            with torch.no_grad():
                theirs_p = ref_p(theta.clone(), dim=-1) if loss != "entmax" or a == 1.5 else ref_p(theta.clone())
            th2 = theta.clone().requires_grad_(True)
            theirs_l = ref_l(th2, target)
            theirs_l.sum().backward()
            stats["cases"] += B
            if not (torch.isfinite(theirs_p).all() and torch.isfinite(theirs_l).all() and torch.isfinite(th2.grad).all()):
                stats["nonfinite_reference"] += 1
                continue
            ep = float((ours_p - theirs_p).abs().max())
            el = float(((ours_l - theirs_l).abs() / ours_l.abs().clamp_min(1)).max().detach())
            eg = float((th1.grad - th2.grad).abs().max())
            off = (ours_l - theirs_l).detach()
            stats["max_abs_err_pred"] = max(stats["max_abs_err_pred"], ep)
            stats["max_abs_err_loss"] = max(stats["max_abs_err_loss"], el)
            stats["max_abs_err_grad"] = max(stats["max_abs_err_grad"], eg)
            if abs(float(off[off.abs().argmax()])) > abs(stats["max_signed_loss_offset"]):
                stats["max_signed_loss_offset"] = float(off[off.abs().argmax()])
            worst = max(ep, el, eg)
            if worst > 1e-8 and fail is None:
                i = int(((ours_p - theirs_p).abs().amax(-1) + (ours_l - theirs_l).detach().abs()).argmax())
                fail = {"theta": theta[i].tolist() if n <= 1000 else f"{name} row {i} (seed {ctx.seed})",
                        "target": int(target[i]), **params,
                        "reason": f"{name}: prediction/loss/gradient differ by {ep:.3g}/{el:.3g}/{eg:.3g} > 1e-8"}
    figures = {**stats, "settings": grid, "batches": [b[0] for b in batches], "bisect_iterations": 80}
    outcome = _outcome(fail, stats["nonfinite_reference"])
    detail = (fail or {}).get("reason") or (
        f"agree with the entmax package to 1e-8 (loss error relative to max(1,|L|)); "
        f"largest signed loss difference {stats['max_signed_loss_offset']:.3g}: no constant offset")
    if outcome == "undecided":
        detail = f"the entmax package returned non-finite values on {stats['nonfinite_reference']} batches"
    return Evidence("numeric", f"entmax_differential[{loss}]", outcome, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"})


__all__ = ["cvx_agreement", "loss_properties", "margin_check", "smoothness_check", "entmax_differential",
           "ENTMAX_ALPHAS", "RANKMAX_KS", "SMOOTH_ALPHAS"]
