"""FY-4 numeric check: sup_θ λ_max(J_ŷ(θ)) by random search and Nelder–Mead over
central-difference Jacobians of ``losses/``' prediction map.

Findings (``fails``, re-checked by reports/rechecks/fy.py with its own map and Jacobian):
a θ with λ_max above the claimed constant.  A search that does not reach the claimed
constant is ``undecided`` (a supremum is not refuted from below by a finite search).
Ours (:class:`audit.SuiteDefect`): the finite-difference Jacobian of ``predict`` off the
closed-form Jacobian diag(w) − wwᵀ/Σw of the same ŷ; or the Jacobian that autograd gives
through ``predict`` (``losses/``' own closed-form backward, ``Regularizer.vjp``) off that
closed form -- three routes to one matrix.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.members import member
from losses import get

from .fy2_properties import generic_points
from .common import LOSSES, SMOOTH_ALPHAS, grid, label, min_n, outcome, single_thread, tex_num, tex_setting

_LAM = r"$\lambda_{\max}(J_{\hat y})$"
LABELS = {
    "per_setting": "by parameter setting",
    "max_found": r"largest $\lambda_{\max}(J_{\hat y})$ found",
    "argmax_n": "$n$ where it was found",
    "argmax_theta": r"$\theta$ where it was found",
    "claimed": "claimed constant",
    "uniform_n3": r"uniform $\theta$, $n = 3$",
    "lambda_max": r"$\lambda_{\max}$ (finite differences)",
    "closed": r"$\lambda_{\max}$ (closed-form Jacobian)",
    "expected": r"expected $3^{\alpha-2}$",
    "claimed_upper": "claimed upper bound",
    "boundary_family": r"$p = (1-2\delta, \delta, \delta)$, by $\delta$",
    "lambda_fd": r"$\lambda_{\max}$ (finite differences)",
    "generic": "support pattern stable under the step",
    "expected_delta_pow": r"expected $\delta^{2-\alpha}$",
    "max_abs_err_fd_vs_closed": r"max $|\lambda_{\max}^{\mathrm{FD}} - \lambda_{\max}^{\mathrm{closed}}|$",
    "max_abs_err_autograd_vs_closed": "max entry error, autograd Jacobian against the closed form",
    "random_points_per_n": "random points per $n$",
    "nelder_mead_starts": "Nelder-Mead starts per $n$",
    "fd_step": "finite-difference step",
    "n_range": "range of $n$",
    "settings_not_reaching_claimed": "settings whose search stays below the claimed constant",
}

def _fd_jacobian(L, theta: torch.Tensor, h: float) -> torch.Tensor:
    """Central-difference Jacobian of ``predict`` at each row of θ (B, n): (B, n, n), J[b, i, j] = ∂ŷ_i/∂θ_j."""
    B, n = theta.shape
    eye = torch.eye(n, dtype=theta.dtype)
    pts = torch.cat([theta[:, None] + h * eye, theta[:, None] - h * eye], 1).reshape(-1, n)
    p = L.predict(pts).reshape(B, 2, n, n)  # [b, sign, j, i]
    return ((p[:, 0] - p[:, 1]) / (2 * h)).transpose(1, 2)


def _autograd_jacobian(L, theta: torch.Tensor) -> torch.Tensor:
    """J[b, i, j] = ∂ŷ_i/∂θ_j through the backward of the differentiable map (one vector-
    Jacobian product per output coordinate; rows are independent)."""
    t = theta.detach().clone().requires_grad_(True)
    p = L.predict(t)
    rows = [torch.autograd.grad(p[:, i].sum(), t, retain_graph=True)[0] for i in range(theta.shape[1])]
    return torch.stack(rows, 1)


def _lam(J: torch.Tensor) -> torch.Tensor:
    return torch.linalg.eigvalsh((J + J.transpose(1, 2)) / 2)[:, -1]


def _closed_jacobian(loss: str, params: dict, p: torch.Tensor) -> torch.Tensor:
    """J_ŷ from the closed forms: softmax diag(p) − ppᵀ; α-entmax diag(s) − ssᵀ/Σs with
    s = p^{2−α} on the support (α = 2: sparsemax); rankmax I_F − 1_F1_Fᵀ/|F| on the free set."""
    L = member(loss)
    if L.dense:  # the closed form of the dense member's g = p log p
        return torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    if L.capped:  # entries at the cap 1 are as fixed as those at 0
        s = ((p > 0) & (p < 1)).to(p.dtype)
    else:
        a = params.get("alpha", 2.0)
        s = torch.where(p > 0, p.clamp_min(1e-300) ** (2 - a), torch.zeros_like(p))
    tot = s.sum(-1, keepdim=True)[:, :, None].clamp_min(1e-300)
    return torch.diag_embed(s) - s[:, :, None] * s[:, None, :] / tot


def claimed_constant(loss: str, params: dict) -> float:
    """The constant each FY-4 row states: softmax ½, sparsemax and rankmax 1, α-entmax 2^{α−2}."""
    L = member(loss)
    if L.dense:
        return 0.5
    if L.tsallis:
        return 2.0 ** (params["alpha"] - 2.0)
    return 1.0


def gt2_upper(loss: str, params: dict) -> float:
    """For α > 2 the row reads the claim "between softmax's ½ and sparsemax's 1": upper bound 1."""
    return 1.0


@single_thread
def smoothness_check(loss: str, ctx: RunContext, alpha_range: str = "le2") -> Evidence:
    """FY-4: sup_θ λ_max(J_ŷ(θ)) estimated from central-difference Jacobians of ``predict``
    (step 1e-6, float64) at points whose support pattern is stable under ±1e-5 moves,
    cross-checked against the closed-form Jacobian (|Δλ| ≤ 1e-6·max(1, λ)², else a
    :class:`SuiteDefect`), maximized by random search then Nelder–Mead for n = 2 … 6.

    alpha_range "le2" (α ∈ 1.25, 1.5, 1.75, 2 for entmax): the claimed constant is
    :func:`claimed_constant` (softmax ½, sparsemax 1, rankmax 1, α-entmax 2^{α−2}), read at
    call time, as are the α grids (:data:`SMOOTH_ALPHAS`).
    fails: a θ with λ_max > claimed + 1e-6 (stored for re-checking); undecided: the largest
    λ_max found is below claimed − 1e-3; holds otherwise.

    alpha_range "gt2" (α ∈ 2.5, 3) tests the claimed upper bound (:func:`gt2_upper`, 1: "the
    α-entmax constant lies in [½, 1]") at uniform θ on n = 3, where λ_max = 3^{α−2}; the figures add
    p = (1−2δ, δ, δ), where λ_max = δ^{2−α} grows without bound (ŷ is not Lipschitz for α > 2)."""
    from scipy.optimize import minimize

    if alpha_range not in SMOOTH_ALPHAS:
        raise ValueError(f"alpha_range must be 'le2' or 'gt2', got {alpha_range!r}")
    M = member(loss) if loss in LOSSES else None  # an unknown name is refused below, after the α range
    if alpha_range == "gt2" and not (M is not None and M.tsallis):
        raise ValueError("alpha_range='gt2' applies to entmax only")
    if M is None:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    claimed = claimed_constant if alpha_range == "le2" else gt2_upper
    settings = [{"alpha": a} for a in SMOOTH_ALPHAS[alpha_range]] if M.tsallis else grid(loss)
    h = 1e-6
    g = ctx.generator(4)
    n_random = ctx.budget(256, 2048)
    n_starts, nm_iter = ctx.budget(1, 4), ctx.budget(40, 300)
    nm_max_n = ctx.budget(3, 6)  # the suprema sit at n = 2; quick refines only n ≤ 3
    per: dict[str, dict] = {}
    fail: dict | None = None
    undecided = 0
    max_fd_vs_closed = max_autograd_vs_closed = 0.0

    def lam_at(L, params, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(λ_FD, λ_closed, generic mask) at rows of θ; FD against the closed form is ours."""
        nonlocal max_fd_vs_closed, max_autograd_vs_closed
        J = _fd_jacobian(L, theta, h)
        Jc = _closed_jacobian(loss, params, L.predict(theta))
        ad = float((_autograd_jacobian(L, theta) - Jc).abs().max())
        max_autograd_vs_closed = max(max_autograd_vs_closed, ad)
        if ad > 1e-9 * max(1.0, float(Jc.abs().max())):
            raise SuiteDefect(f"FY-4[{loss}] {params}: autograd through predict (losses' closed-form backward) and "
                              f"the closed-form Jacobian differ by {ad:.3g}")
        lf, lc, gen = _lam(J), _lam(Jc), generic_points(L, theta, h, "k" in params)
        if gen.any():
            max_fd_vs_closed = max(max_fd_vs_closed, float((lf - lc).abs()[gen].max()))
            # FD truncation grows with the curvature, which is unbounded for α > 2
            bad = ((lf - lc).abs() > 1e-6 * lc.abs().clamp_min(1) ** 2) & gen
            if bad.any():
                i = int(bad.nonzero()[0])
                raise SuiteDefect(f"FY-4[{loss}] {params}: the finite-difference Jacobian of predict gives λ_max = "
                                  f"{float(lf[i]):.9g}, the closed form {float(lc[i]):.9g}, at θ = {theta[i].tolist()}")
        return lf, lc, gen

    for params in settings:
        L = get(loss, **params)
        c = float(claimed(loss, params))
        if alpha_range == "gt2":
            a = params["alpha"]
            uni = torch.zeros(1, 3, dtype=torch.float64)
            lu, lcu, gu = lam_at(L, params, uni)
            entry = {"uniform_n3": {"lambda_max": float(lu[0]), "closed": float(lcu[0]), "expected": 3.0 ** (a - 2)},
                     "claimed_upper": c}
            fam = {}
            for delta in (1e-2, 1e-3):
                p = np.array([1 - 2 * delta, delta, delta])
                th = torch.as_tensor(p ** (a - 1) / (a - 1))[None]  # τ = 0: (α−1)θ_i = p_i^{α−1}
                lf_, lc_, g_ = lam_at(L, params, th)
                fam[str(delta)] = {"lambda_fd": float(lf_[0]), "closed": float(lc_[0]), "generic": bool(g_[0]),
                                   "expected_delta_pow": delta ** (2 - a)}
            entry["boundary_family"] = fam
            per[label(loss, params)] = entry
            if bool(gu[0]) and float(lu[0]) > c + 1e-6:
                fail = {"alpha": a, "n": 3, "theta": uni[0].tolist(), "lambda_max": float(lu[0]), "claimed": c,
                        "reason": r"$\lambda_{\max}(J)$ = " + f"{float(lu[0]):.6g} > {c:.6g} at uniform "
                                  r"$\theta$, $n = 3$ " + f"($\\alpha$ = {a}); " + r"$\lambda_{\max}$ is "
                                  r"unbounded near support changes for $\alpha > 2$"}
                break
            continue
        best = {"lambda_max": -math.inf}
        for n in range(2, 7):
            if n < min_n(params):
                continue
            scales = torch.tensor([0.05, 0.3, 1.0, 3.0], dtype=torch.float64)
            sc = scales[torch.randint(0, 4, (n_random, 1), generator=g)]
            theta = torch.randn(n_random, n, generator=g, dtype=torch.float64) * sc
            lf, lc, gen = lam_at(L, params, theta)
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
            for lam_v, tv in cands:
                if lam_v > best["lambda_max"]:
                    best = {"lambda_max": lam_v, "n": n, "theta": tv.tolist()}
        per[label(loss, params)] = {"max_found": best["lambda_max"], "argmax_n": best.get("n"),
                                    "argmax_theta": best.get("theta"), "claimed": c}
        if best["lambda_max"] > c + 1e-6:
            fail = {"theta": best.get("theta"), **params, "n": best.get("n"), "lambda_max": best["lambda_max"],
                    "claimed": c, "reason": f"{_LAM} = {best['lambda_max']:.9g} > claimed {c:.9g} at a " + r"$\theta$ "
                                            f"found ($n$ = {best.get('n')}, {tex_setting(loss, params)})"}
            break
        undecided += best["lambda_max"] < c - 1e-3
    figures = {"per_setting": per, "max_abs_err_fd_vs_closed": max_fd_vs_closed,
               "max_abs_err_autograd_vs_closed": max_autograd_vs_closed, "random_points_per_n": n_random,
               "nelder_mead_starts": n_starts, "fd_step": h, "n_range": [2, 6],
               "settings_not_reaching_claimed": undecided}
    out = outcome(fail, undecided)
    if alpha_range == "gt2":
        detail = (fail or {}).get("reason") or (
            r"no $\theta$ with $\lambda_{\max}$ above the claimed upper bound at uniform $\theta$, $n = 3$ "
            "(" + ", ".join(f"{tex_setting(loss, p)}: {per[label(loss, p)]['uniform_n3']['lambda_max']:.4g}"
                            for p in settings) + ")")
        if fail:
            summary = (r"uniform $\theta$, $n = 3$, " + f"$\\alpha$ = {fail['alpha']}: " + r"$\lambda_{\max}$ = "
                       f"{fail['lambda_max']:.4g} > claimed bound {fail['claimed']:.3g}")
        else:
            summary = r"uniform $\theta$, $n = 3$: $\lambda_{\max}$ within the claimed bound in every setting"
    else:
        method = (f"random search ({n_random} points per $n$, $n = 2, \\dots, 6$) then Nelder-Mead over "
                  r"central-difference Jacobians (step $10^{-6}$), cross-checked against the closed form: ")
        detail = (fail or {}).get("reason") or method + (
            f"the search did not reach the claimed constant in {undecided} setting(s): " if undecided else
            r"$\sup_\theta \lambda_{\max}(J_{\hat y})$ matches the claimed constant: ") + ", ".join(
            f"{tex_setting(loss, p)}: {per[label(loss, p)]['max_found']:.7g} "
            f"(claimed {per[label(loss, p)]['claimed']:.7g})" for p in settings if label(loss, p) in per)
        gap = max((abs(v["max_found"] - v["claimed"]) for v in per.values()), default=float("nan"))
        if fail:
            summary = f"{_LAM} = {fail['lambda_max']:.6g} > claimed {fail['claimed']:.6g} at a " + r"$\theta$ found"
        elif undecided:
            summary = f"the search for {_LAM} stays below the claimed constant in {undecided} of {len(per)} settings"
        else:
            summary = (f"the search for the sup of {_LAM} reaches the claimed constant in {len(per)} setting(s) "
                       f"(max gap {tex_num(gap, 2)})")
    return Evidence("numeric", f"smoothness_check[{loss},{alpha_range}]", out, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"},
                    summary=summary, labels=LABELS)


__all__ = ["smoothness_check", "claimed_constant", "gt2_upper"]
