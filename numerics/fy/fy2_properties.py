"""FY-2 numeric check: L ≥ 0, L = 0 ⟺ y = ŷ, convexity, ∇L = ŷ − y and shift invariance
of the FY losses of ``losses/``, on hypothesis-drawn scores and labels.

Which disagreements are findings and which are ours (issue 10 §4): the claim's properties
-- L ≥ 0, L > 0 off the prediction (through the strong-convexity bound), midpoint
convexity, central differences of the loss *value* against ŷ − y, L(θ + c1) = L(θ) -- give
``fails`` with a counterexample that reports/rechecks/fy.py re-checks with its own maps.
Comparisons between our own routes -- the prediction in the domain, L(θ; ŷ) = 0 (exact by
how the loss is computed), the backward pass against ŷ − y (the backward *is* ŷ − y),
autograd's gradcheck (the same comparison as the finite differences, after they passed),
class-index targets against one-hot vectors -- raise :class:`audit.SuiteDefect`.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from hypothesis import strategies as st

from audit import Evidence, RunContext, SuiteDefect
from audit.members import member
from losses import get

from .common import (
    EPS,
    SETTING_LABELS,
    Found,
    as_tensor,
    grid,
    in_domain,
    loss_tol,
    min_n,
    outcome,
    round_tol,
    run_hypothesis,
    single_thread,
    tex_num,
)
from ..strategies import capped_points, scores, simplex_points

LABELS = {
    **SETTING_LABELS,
    "cases": "score vectors drawn",
    "min_loss": r"min $L(\theta; y)$",
    "max_abs_loss_at_prediction": r"max $|L(\theta; \hat y)|$",
    "min_strict_loss": r"min $L(\theta; y)$ over labels with $\lVert y - \hat y\rVert_\infty \ge 10^{-3}$",
    "max_convexity_violation": "max midpoint-convexity violation (negative: none)",
    "max_abs_err_backward": r"max $|\mathrm{backward} - (\hat y - y)|$",
    "max_abs_err_fd": r"max $|\text{central difference} - (\hat y - y)|$",
    "fd_points": "finite-difference points",
    "skipped_nongeneric": "points skipped: support changes within the step",
    "skipped_rounding": "points skipped: loss rounding swamps the difference quotient",
    "gradchecks": "torch gradcheck runs",
    "max_abs_err_shift": r"max $|L(\theta + c\mathbf{1}; y) - L(\theta; y)|$",
    "max_abs_err_index_target": "max loss difference, class-index against one-hot target",
}
#: the property a counterexample violates, in words
PROPERTY = {"nonnegative": r"$L \ge 0$", "positive": r"$L > 0$ off the prediction",
            "strong_convexity": "the strong-convexity lower bound", "convexity": "midpoint convexity",
            "gradient": r"$\nabla L = \hat y - y$", "shift": "shift invariance"}

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
    L = member(loss)
    if L.dense:
        return 1.0, "l1"  # Pinsker: the dense member's Σ p log p is 1-strongly convex in ‖·‖₁
    if L.tsallis and params["alpha"] > 2:
        return None
    return 1.0, "l2"


def _pattern(p: torch.Tensor, capped: bool) -> torch.Tensor:
    pat = p > 0
    return torch.cat([pat, p < 1], -1) if capped else pat


def generic_points(L, theta: torch.Tensor, h: float, capped: bool) -> torch.Tensor:
    """Rows of θ (B, n) whose support pattern (and capped set) is unchanged by ±10h moves
    of each coordinate: central differences of step h stay on one smooth piece."""
    B, n = theta.shape
    eye = torch.eye(n, dtype=theta.dtype)
    moved = torch.cat([theta[:, None] + 10 * h * eye, theta[:, None] - 10 * h * eye], 1)  # (B, 2n, n)
    p0 = _pattern(L.predict(theta), capped)
    pm = _pattern(L.predict(moved.reshape(-1, n)), capped).reshape(B, 2 * n, -1)
    return (pm == p0[:, None]).all(-1).all(-1)


@single_thread
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
    for params in grid(loss):
        L = get(loss, **params)
        capped = "k" in params
        sc = _strong_convexity(loss, params)

        @st.composite
        def case(draw, params=params):
            theta = draw(scores(min_n(params), 24, salt=ctx.seed))
            n = theta.shape[0]
            pts = capped_points(n, params["k"], salt=ctx.seed) if capped else simplex_points(n, salt=ctx.seed)
            ys = np.stack([draw(pts) for _ in range(3)])
            return theta, ys, draw(st.integers(0, 2**32 - 1))

        def body(arg, params=params, L=L, capped=capped, sc=sc) -> None:
            theta, ys, seed = arg
            rng = np.random.default_rng([seed, ctx.seed])
            n = theta.shape[0]
            rtol = loss_tol(theta)
            th = as_tensor(theta)[None]
            yhat = L.predict(th)[0].numpy()
            stats["cases"] += 1

            def found(prop: str, reason: str, **extra) -> None:  # a finding: re-checked from the stored data
                raise Found({"property": prop, "theta": theta.tolist(), **params, "reason": reason, **extra})

            def ours(reason: str) -> None:  # two of our own routes disagree
                raise SuiteDefect(f"FY-2[{loss}] {params} θ = {theta.tolist()[:6]}…: {reason}")

            if not in_domain(yhat, params, round_tol(theta)):
                ours("losses/ predicts outside the domain")
            # L(θ; ŷ) = 0
            l_hat = float(L(th, as_tensor(yhat)[None])[0])
            stats["max_abs_loss_at_prediction"] = max(stats["max_abs_loss_at_prediction"], abs(l_hat))
            if abs(l_hat) > rtol:
                ours(f"L(θ; ŷ) = {l_hat:.3g} ≠ 0, but the loss is ⟨θ − m, ŷ − y⟩ − Ω(ŷ) + Ω(y), exactly 0 at y = ŷ")
            # L ≥ 0 and the strong-convexity lower bound, random labels and vertices
            Y = np.concatenate([ys, _vertices(n, params, rng)])
            Lv = L(th.expand(len(Y), n), as_tensor(Y)).numpy()
            stats["min_loss"] = min(stats["min_loss"], float(Lv.min()))
            for y, lv in zip(Y, Lv):
                if lv < -rtol:
                    found("nonnegative", r"$L(\theta; y)$ = " + f"{tex_num(lv)} < 0", y=y.tolist())
                d = y - yhat
                if np.abs(d).max() >= 1e-3:
                    stats["min_strict_loss"] = min(stats["min_strict_loss"], float(lv))
                    if not lv > rtol:
                        found("positive", r"$L(\theta; y)$ = " + f"{tex_num(lv)} not > 0 although "
                              r"$\lVert y - \hat y\rVert_\infty \ge 10^{-3}$", y=y.tolist())
                if sc is not None:
                    bound = 0.5 * sc[0] * (np.abs(d).sum() ** 2 if sc[1] == "l1" else float(d @ d))
                    if lv < bound - rtol:
                        found("strong_convexity", r"$L(\theta; y)$ = " + f"{tex_num(lv, 6)} below the "
                              f"strong-convexity bound {tex_num(bound, 6)}", y=y.tolist())
            # convexity along random lines, midpoint inequality
            y = as_tensor(ys[:1]).expand(8, n)
            d = as_tensor(rng.normal(0, 1, (8, n)) * rng.choice([0.1, 1.0, 10.0], (8, 1)))
            t1, t2 = as_tensor(rng.uniform(-2, 2, (8, 1))), as_tensor(rng.uniform(-2, 2, (8, 1)))
            a, b = th + t1 * d, th + t2 * d
            la, lb, lm = L(a, y), L(b, y), L((a + b) / 2, y)
            viol = (lm - (la + lb) / 2).numpy()
            slack = np.maximum(1e-9 * (1 + np.abs(lm.numpy())), round_tol(theta, float(d.abs().max()) * 2))
            stats["max_convexity_violation"] = max(stats["max_convexity_violation"], float(viol.max()))
            if (viol > slack).any():
                i = int(np.argmax(viol - slack))
                found("convexity", f"midpoint convexity violated by {tex_num(float(viol[i]))}", y=ys[0].tolist(),
                      direction=d[i].tolist(), t=[float(t1[i]), float(t2[i])])
            # gradient: backward pass = ŷ − y
            yv = as_tensor(ys[:1])
            thg = th.clone().requires_grad_(True)
            L(thg, yv).sum().backward()
            g_ref = yhat - ys[0]
            err = float(np.abs(thg.grad[0].numpy() - g_ref).max())
            stats["max_abs_err_backward"] = max(stats["max_abs_err_backward"], err)
            if err > 64 * EPS:
                ours(f"the backward pass differs from ŷ − y by {err:.3g} (it is defined as ŷ − y)")
            # central differences and gradcheck at generic points only
            # a loss value carries rounding ~ n ε ptp(θ)² (``loss_tol``); divided by h it can swamp the
            # difference quotient, and such a point says nothing about the gradient: skipped and counted
            fd_round = 4 * EPS * (n * (1 + float(np.ptp(theta))) ** 2 + abs(float(L(th, yv)[0]))) / h
            if not bool(generic_points(L, th, h, capped)[0]):
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
                    found("gradient", r"central differences differ from $\hat y - y$ by "
                          f"{tex_num(err)} > {tex_num(tol)}",
                          y=ys[0].tolist(), h=h)
                if n <= 12 and np.abs(theta).max() <= 100:
                    stats["gradchecks"] += 1
                    ok = torch.autograd.gradcheck(lambda x: L(x, yv), (th.clone().requires_grad_(True),),
                                                  eps=h, atol=1e-5, rtol=1e-4, raise_exception=False,
                                                  fast_mode=True)
                    if not ok:
                        ours("torch.autograd.gradcheck failed where the finite differences agreed with ŷ − y")
            # shift invariance
            cs = as_tensor([1.5, -1e3, float(rng.uniform(-1e4, 1e4))])[:, None]
            ls = L(th + cs, yv.expand(3, n)).numpy()
            l0 = float(L(th, yv)[0])
            errs = np.abs(ls - l0)
            stats["max_abs_err_shift"] = max(stats["max_abs_err_shift"], float(errs.max()))
            for c, e in zip(cs[:, 0].tolist(), errs):
                if e > round_tol(theta, c) + loss_tol(theta):  # both evaluations carry the ptp(θ)² rounding
                    found("shift", r"$|L(\theta + c\mathbf{1}; y) - L(\theta; y)|$ = "
                          f"{tex_num(float(e))} for $c$ = {tex_num(c, 6)}", y=ys[0].tolist(), c=c)

            # our own two target paths, after the properties (a wrong map shows there first)
            if not capped or params["k"] == 1:
                j = torch.as_tensor(rng.integers(0, n, 4))
                li = L(th.expand(4, n), j).numpy()
                lo = L(th.expand(4, n), torch.nn.functional.one_hot(j, n).double()).numpy()
                err = float(np.abs(li - lo).max())
                stats["max_abs_err_index_target"] = max(stats["max_abs_err_index_target"], err)
                if err > rtol:
                    ours(f"class-index target and one-hot vector give losses {err:.3g} apart")

        fail = run_hypothesis(case(), body, n_examples)
        if fail is not None:
            break
    figures = {**stats, "settings": grid(loss), "examples_per_setting": n_examples}
    out = outcome(fail, 0)
    detail = (fail or {}).get("reason") or (
        f"{stats['cases']} score vectors " + r"$\times$ labels (random, and every vertex): $L \ge 0$, "
        r"$L(\theta;\hat y) = 0$, the strong-convexity lower bound $L(\theta; y) \ge \tfrac{\sigma}{2}"
        r"\lVert y - \hat y\rVert^2$, midpoint convexity, $\nabla L = \hat y - y$ "
        f"({stats['fd_points']} finite-difference points, max error {tex_num(stats['max_abs_err_fd'])}; "
        f"{stats['gradchecks']} gradchecks), shift invariance")
    if fail is None:
        summary = (f"{stats['cases']} score vectors: " + r"$L \ge 0$, convexity, $\nabla L = \hat y - y$ "
                   f"(max FD error {tex_num(stats['max_abs_err_fd'], 2)}), shift invariance all hold")
    else:
        summary = f"{PROPERTY.get(fail.get('property'), 'a property')} violated at a drawn " + r"$\theta$ " \
                  "(counterexample stored)"
    return Evidence("numeric", f"loss_properties[{loss}]", out, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"},
                    summary=summary, labels=LABELS)


__all__ = ["loss_properties", "generic_points"]
