"""CON-3, reading O2 (Bayes minimizers, after Zhang 2004), numerically.

The conditional risk of an FY loss is R(θ; η) = L(θ; η) + const (CLAIMS.md §2).  Minimizers
are *found*, never built: by gradient descent / Newton from random starts through the
loss under test, and (sparse losses) by cvxpy over the near-minimizer set
(numerics/con/order_cvx.py), maximizing random linear objectives.

**Sparse losses** (decision rule, stated before searching).  Every θ is an exact
minimizer of L(·; η') for η' = ŷ(θ) (FY-2: L(θ; ŷ(θ)) = 0; certified per point with the
library loss, ≤ 1e-12), so every point found is a test point of reading O2 for its own
η', and the search aims the points at targets η with zeros and ties (GD points reach
ŷ(θ) = η; cvxpy points lie in {L(θ; η) ≤ ε}, certified with the library loss ≤ 2ε):

* fails   some point has η'_i − η'_j > 1e-9 and θ_i < θ_j (a WOP violation; the stored
  (θ, η', i, j) re-checks with reports/rechecks/order.py);
* holds   no violation, every cvxpy solve optimal, and some point splits a tie: η'_i = η'_j
  exactly with θ_i − θ_j ≥ 0.01 (the witness, stored rounded to 4 decimals and
  re-certified: η := ŷ(θ) of the stored θ, L(θ; η) ≤ 1e-12);
* undecided otherwise (a solve not optimal, or no tie split found).

**Softmax** (decision rule).  Interior η with ties: Newton from random starts (Jacobian of
the library's ŷ by central differences, step capped at 1 in sup norm) finds θ with
δ = ‖ŷ(θ) − η‖∞; a point is certified if δ ≤ 1e-12.  For softmax log ŷ_i − log ŷ_j =
θ_i − θ_j, so a certified point has |θ_i − θ_j − log(η_i/η_j)| ≤ r_ij with
r_ij = ℓ(δ/η_i) + ℓ(δ/η_j) + 1e-12 (1 + max|θ|), ℓ(x) = −log(1 − x).  fails if a certified
point has η_i > η_j, log(η_i/η_j) > r_ij and θ_i ≤ θ_j, or η_i = η_j and |θ_i − θ_j| > r_ij
(stored θ, η, i, j re-check with their own softmax); holds if every strict pair is
resolvable and ordered and every tie within r_ij; undecided if a point is not
certified or a strict pair is not resolvable.
η with zeros: the infimum is not attained (ŷ > 0); GD with lr = 1/L = 2 from random
starts is a minimizing sequence.  Decided at its end T (and T/4): the support part
q = ŷ_S/Σŷ_S read with the radii above (δ_S = ‖q − η_S‖∞; every strict pair resolvable), the excess
ε_t = L(θ_t; η) − inf L (inf L from a certified Newton minimizer of the restricted
problem on S) is positive and decreasing, every zero coordinate decreases from T/4 to T
and sits below every support coordinate, and the bound θ_j − logsumexp(θ_S) ≤
log(e^ε − 1) of proofs/con/order.py holds (else a defect of the suite): as ε_t → 0 the
zero coordinates tend to −∞ together (a tie in the extended reals, the reading's limit).
"""
from __future__ import annotations

import math

import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.members import member
from losses import get

from .order_labels import LABELS as _ORDER_LABELS
from .order_labels import _variant_label
from .order_cvx import sublevel_points

DT = torch.float64
N = 5
RES = 1e-9  # resolution of η' differences (what the outside re-checker can resolve too)
SPLIT = 0.01  # a tie split must be at least this wide
EPS = 1e-7  # sublevel tolerance of the cvxpy search
CERT = 1e-12  # properness certificate L(θ; ŷ(θ)) and softmax δ

LABELS = {
    **_ORDER_LABELS,
    "sop_witness": r"SOP witness (a minimizer with $\eta_i = \eta_j$, $\theta_i > \theta_j$)",
    "eta": r"$\eta = \hat y(\theta)$",
    # sparse
    "targets": r"targets $\eta$", "gd_points": "GD points", "gd_lr": "GD step size",
    "gd_points_at_target": r"GD points with $\hat y(\theta) = \eta$ (to $10^{-9}$)",
    "gd_wop_violations": "WOP violations (GD points)", "gd_tie_splits": "tie splits (GD points)",
    "max_loss_at_own_yhat": r"largest $L(\theta; \hat y(\theta))$",
    "cvx_status": "cvxpy status", "cvx_points": "cvxpy points",
    "cvx_max_library_loss": r"largest library $L(\theta; \eta)$ at the cvxpy points",
    "cvx_max_abs_yhat_minus_eta": r"largest $|\hat y(\theta) - \eta|$ at the cvxpy points",
    "cvx_wop_violations": "WOP violations (cvxpy points)", "cvx_exact_tie_splits": "exact tie splits (cvxpy points)",
    "cvx_target_tie_splits": r"splits of a tie of the target $\eta$ (cvxpy points)",
    "cvx_widest_target_tie_split": r"widest split of a tie of the target $\eta$",
    # softmax
    "interior": r"interior $\eta$ with ties", "with_zeros": r"$\eta$ with zeros",
    "cases": r"targets $\eta$", "steps": "GD steps",
    "max_delta": r"largest $\delta = \lVert\hat y(\theta) - \eta\rVert_\infty$",
    "certified": r"roots certified ($\delta \le 10^{-12}$)",
    "max_tie_gap": r"largest $|\theta_i - \theta_j|$ on a tie $\eta_i = \eta_j$", "max_radius": r"largest radius $r_{ij}$",
    "unresolvable_strict_pairs": r"strict pairs $\eta_i > \eta_j$ not resolvable",
    "restricted_root_max_delta": r"largest $\delta$ of the roots on the support",
    "max_delta_support": r"largest $\delta_S$ of the support part $q$",
    "min_excess_at_T": "smallest excess risk at $T$", "max_excess_at_T": "largest excess risk at $T$",
    "max_excess_at_T_over_4": "largest excess risk at $T/4$",
    "zero_coords_decreasing": "zero coordinates decrease from $T/4$ to $T$",
    "zero_coords_below_support": "zero coordinates below every support coordinate",
    "max_zero_coord_minus_logsumexp_support": r"largest $\theta_j - \operatorname{logsumexp}\theta_S$, $j \in Z$",
    "max_gap_between_zero_coords_at_T": "largest gap between the zero coordinates at $T$",
    "support_max_tie_gap": "largest tie gap on the support",
    "support_unresolvable_pairs": "support pairs not resolvable",
}


def _perm_rows(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    idx = torch.argsort(torch.rand(x.shape, generator=g, dtype=DT), -1)
    return x.gather(-1, idx)


def targets(E: int, g: torch.Generator, mass: float = 1.0, zeros: bool = True) -> torch.Tensor:
    """η with a positive tie and (``zeros``) two zeros, coordinates permuted; rows in Δ, or
    in C_k for mass k (scaled up and capped at 1 by water-filling: ties at 1 appear)."""
    lv = 0.5 + torch.rand(E, N, generator=g, dtype=DT)
    lv[:, 1] = lv[:, 0]  # a positive tie
    lv[:, 2] = lv[:, 0] * (1.5 + torch.rand(E, generator=g, dtype=DT))  # a strictly larger level
    if zeros:
        lv[:, 3:] = 0.0  # two zeros: a tie at 0
    e = lv / lv.sum(-1, keepdim=True)
    if mass != 1:
        p = e * mass
        for _ in range(30):
            p = p.clamp(max=1.0)
            free = (p < 1) & (p > 0)
            deficit = mass - p.sum(-1, keepdim=True)
            p = torch.where(free, p + deficit * p / (p * free).sum(-1, keepdim=True).clamp_min(1e-300), p)
        e = p.clamp(max=1.0)
    return _perm_rows(e, g)


def _pairs_on(th: torch.Tensor, yp: torch.Tensor):
    """(WOP violations, tie splits) masks (B, n, n) on points θ with η' = ŷ(θ)."""
    gt = (yp[:, :, None] - yp[:, None, :]) > RES
    viol = gt & (th[:, :, None] < th[:, None, :])
    split = (yp[:, :, None] == yp[:, None, :]) & ((th[:, :, None] - th[:, None, :]) >= SPLIT)
    return viol, split


def _certify_properness(obj, th: torch.Tensor, yp: torch.Tensor) -> float:
    Lp = obj(th, yp)
    worst = float(Lp.abs().max())
    if worst > CERT:
        raise SuiteDefect(f"L(theta; yhat(theta)) = {worst:.3g} > {CERT:g}: the library's loss and map disagree "
                          "(FY-2 properness)")
    return worst


def _gd_points(obj, eta: torch.Tensor, starts: int, lr: float, T: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    et = eta.repeat_interleave(starts, 0)
    th = 2.0 * torch.randn(et.shape, generator=g, dtype=DT)
    for _ in range(T):
        th = th - lr * (obj.predict(th) - et)
    return th, et


def _witness(obj, th: torch.Tensor, split: torch.Tensor, extra: dict) -> dict | None:
    for b, i, j in split.nonzero().tolist()[:200]:
        t4 = torch.round(th[b] * 1e4) / 1e4  # what results.json stores must re-check by itself
        y4 = obj.predict(t4[None])[0]
        if t4[i] - t4[j] >= SPLIT and y4[i] == y4[j] and float(obj(t4[None], y4[None])[0].abs()) <= CERT:
            return {"theta": t4.tolist(), "eta": y4.tolist(), "i": i, "j": j, **extra}
    return None


def o2_sparse(loss: str, variants: list[tuple[dict, dict]], ctx: RunContext, use_cvx: bool = True) -> Evidence:
    g = ctx.generator(303)
    E = ctx.budget(4, 12)
    starts = ctx.budget(16, 32)
    K = ctx.budget(24, 64)  # cvxpy directions per target
    figures: dict = {}
    witness = None
    status_bad = []
    for params, extra in variants:
        obj = get(loss, **params)
        key = ",".join(f"{k}={v}" for k, v in extra.items()) or loss
        eta = targets(E, g, float(params.get("k", 1)))
        lr = 1.0 if not member(loss).tsallis else 0.5
        th, et = _gd_points(obj, eta, starts, lr, ctx.budget(200, 400), g)
        yp = obj.predict(th)
        cert = _certify_properness(obj, th, yp)
        viol, split = _pairs_on(th, yp)
        reached = (yp - et).abs().amax(-1) <= RES
        fig = {"targets": E, "gd_points": th.shape[0], "gd_lr": lr, "gd_points_at_target": int(reached.sum()),
               "gd_wop_violations": int(viol.sum()), "gd_tie_splits": int(split.sum()),
               "max_loss_at_own_yhat": cert}
        figures[key] = fig
        if viol.any():
            b, i, j = viol.nonzero()[0].tolist()
            cx = {"theta": th[b].tolist(), "eta": yp[b].tolist(), "i": i, "j": j, "target": et[b].tolist(), **extra}
            return Evidence("numeric", "bayes-minimizer-order", "fails", _DETAIL_SPARSE, figures, cx,
                            summary=_violation_summary(int(viol.sum()), key, "GD"),
                            labels={**LABELS, **{k: _variant_label(k) for k in figures}})
        if witness is None:  # prefer points that reached their target η
            order = torch.argsort((~reached).to(torch.int8), stable=True)
            witness = _witness(obj, th[order], split[order], extra)
        if not use_cvx:
            continue
        etaR = eta.repeat_interleave(K, 0).numpy()
        C = torch.randn(etaR.shape, generator=g, dtype=DT).numpy()
        status, thc = sublevel_points(loss, params, etaR, C - C.mean(-1, keepdims=True), EPS)
        fig["cvx_status"] = status
        if thc is None:
            status_bad.append(key)
            continue
        tc = torch.tensor(thc, dtype=DT)
        Lc = obj(tc, torch.tensor(etaR, dtype=DT))
        fig["cvx_points"] = tc.shape[0]
        fig["cvx_max_library_loss"] = float(Lc.max())
        if float(Lc.max()) > 2 * EPS:
            raise SuiteDefect(f"{key}: cvxpy's dual-form risk <= {EPS:g} but the library loss is {float(Lc.max()):.3g} "
                              f"at the same theta (the two routes to Omega* disagree)")
        ypc = obj.predict(tc)
        fig["cvx_max_abs_yhat_minus_eta"] = float((ypc - torch.tensor(etaR, dtype=DT)).abs().max())
        fig["max_loss_at_own_yhat"] = max(cert, _certify_properness(obj, tc, ypc))
        vc, sc = _pairs_on(tc, ypc)
        fig["cvx_wop_violations"], fig["cvx_exact_tie_splits"] = int(vc.sum()), int(sc.sum())
        # near-minimizers of the target η that split one of its ties (reported; the witness must be exact)
        er = torch.tensor(etaR, dtype=DT)
        dth = tc[:, :, None] - tc[:, None, :]
        tsplit = (er[:, :, None] == er[:, None, :]) & (dth >= SPLIT)
        fig["cvx_target_tie_splits"] = int(tsplit.sum())
        fig["cvx_widest_target_tie_split"] = float(dth[tsplit].max()) if tsplit.any() else 0.0
        if vc.any():
            b, i, j = vc.nonzero()[0].tolist()
            cx = {"theta": tc[b].tolist(), "eta": ypc[b].tolist(), "i": i, "j": j, "target": etaR[b].tolist(), **extra}
            return Evidence("numeric", "bayes-minimizer-order", "fails", _DETAIL_SPARSE, figures, cx,
                            summary=_violation_summary(int(vc.sum()), key, "cvxpy"),
                            labels={**LABELS, **{k: _variant_label(k) for k in figures}})
        if witness is None:
            witness = _witness(obj, tc, sc, extra)
    labels = {**LABELS, **{k: _variant_label(k) for k in figures}}
    npts = sum(f["gd_points"] + f.get("cvx_points", 0) for f in figures.values())
    if status_bad:
        return Evidence("numeric", "bayes-minimizer-order", "undecided",
                        f"cvxpy not optimal for {', '.join(status_bad)}. " + _DETAIL_SPARSE, figures,
                        summary=f"cvxpy not optimal for {', '.join(status_bad)}: undecided", labels=labels)
    if witness is None:
        return Evidence("numeric", "bayes-minimizer-order", "undecided", "no tie split found. " + _DETAIL_SPARSE, figures,
                        summary=f"no WOP violation at {npts} minimizers, but no tie split found", labels=labels)
    figures["sop_witness"] = witness
    gap = witness["theta"][witness["i"]] - witness["theta"][witness["j"]]
    summary = (f"no WOP violation at {npts} minimizers (GD and cvxpy); a tie $\\eta_i = \\eta_j$ split by "
               f"$\\theta_i - \\theta_j = {gap:.3g}$")
    return Evidence("numeric", "bayes-minimizer-order", "holds", _DETAIL_SPARSE, figures, summary=summary, labels=labels)


def _violation_summary(count: int, key: str, route: str) -> str:
    return (rf"WOP violated at {count} {route} minimizer pairs ({_variant_label(key)}): $\eta'_i > \eta'_j$ but "
            r"$\theta_i < \theta_j$")


_DETAIL_SPARSE = (r"minimizers found by GD from random starts and by cvxpy (max of random linear objectives over "
                  r"$\{\theta : L(\theta; \eta) \le 10^{" + str(round(math.log10(EPS))) + r"}\}$ in a box, "
                  r"dual form of $\Omega^*$); every point $\theta$ is an exact minimizer of $L(\cdot; \eta')$ with "
                  r"$\eta' = \hat y(\theta)$ ($L \le 10^{-12}$, library); WOP: "
                  r"$\eta'_i - \eta'_j > 10^{-9} \Rightarrow \theta_i \ge \theta_j$ on every point; not SOP: a point "
                  r"with $\eta'_i = \eta'_j$ and $\theta_i - \theta_j \ge 0.01$ (witness stored rounded, "
                  r"$\eta := \hat y(\theta)$ re-certified)")


# --------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------
def _radius(eta: torch.Tensor, delta: torch.Tensor, th: torch.Tensor) -> torch.Tensor:
    """r_ij of the module docstring, (B, n, n)."""
    x = (delta[:, None] / eta).clamp(max=0.5)
    ell = -torch.log1p(-x)
    fl = 1e-12 * (1 + th.abs().amax(-1))
    return ell[:, :, None] + ell[:, None, :] + fl[:, None, None]


def newton_roots(predict, eta: torch.Tensor, th: torch.Tensor, iters: int = 60, h: float = 1e-6) -> torch.Tensor:
    """Roots of ŷ(θ) = η on Σθ = 0 by damped Newton with a central-difference Jacobian of
    ``predict`` (no assumption on the map's form; step capped at 1 in sup norm)."""
    B, n = th.shape
    ones = torch.ones(n, n, dtype=DT) / n
    eye = torch.eye(n, dtype=DT)
    for _ in range(iters):
        f = predict(th) - eta
        up = predict((th[:, None, :] + h * eye[None]).reshape(-1, n)).reshape(B, n, n)
        dn = predict((th[:, None, :] - h * eye[None]).reshape(-1, n)).reshape(B, n, n)
        J = ((up - dn) / (2 * h)).transpose(1, 2)  # J[b, i, j] = dŷ_i/dθ_j
        step = torch.linalg.solve(J + ones, f.unsqueeze(-1)).squeeze(-1)
        step = step / step.abs().amax(-1, keepdim=True).clamp(min=1.0)
        th = th - step
        th = th - th.mean(-1, keepdim=True)
    return th


def _read_order(th: torch.Tensor, eta: torch.Tensor, delta: torch.Tensor) -> dict:
    r = _radius(eta, delta, th)
    d = th[:, :, None] - th[:, None, :]
    logr = torch.log(eta)[:, :, None] - torch.log(eta)[:, None, :]
    strict = eta[:, :, None] > eta[:, None, :]
    tie = (eta[:, :, None] == eta[:, None, :]) & ~torch.eye(th.shape[1], dtype=torch.bool)
    resolvable = strict & (logr > r)
    return {"bad_order": resolvable & (d <= 0), "bad_tie": tie & (d.abs() > r), "unresolvable": strict & ~resolvable,
            "max_tie_gap": float(d[tie].abs().max()) if tie.any() else 0.0, "max_radius": float(r.max())}


def _cx(th, eta, mask, delta, kind) -> dict:
    b, i, j = mask.nonzero()[0].tolist()
    return {"kind": kind, "theta": th[b].tolist(), "eta": eta[b].tolist(), "i": i, "j": j, "delta": float(delta[b])}


def o2_softmax(ctx: RunContext) -> Evidence:
    g = ctx.generator(304)
    B = ctx.budget(64, 256)
    obj = get("softmax")
    # interior η with ties: certified Newton roots of ŷ(θ) = η
    eta = targets(B, g, zeros=False)
    th = newton_roots(obj.predict, eta, torch.randn(B, N, generator=g, dtype=DT))
    delta = (obj.predict(th) - eta).abs().amax(-1)
    rd = _read_order(th, eta, delta)
    interior = {"cases": B, "max_delta": float(delta.max()), "certified": int((delta <= CERT).sum()),
                "max_tie_gap": rd["max_tie_gap"], "max_radius": rd["max_radius"],
                "unresolvable_strict_pairs": int(rd["unresolvable"].sum())}
    figures: dict = {"interior": interior}
    if rd["bad_order"].any() and bool((delta <= CERT).all()):
        return Evidence("numeric", "bayes-minimizer-order", "fails", _DETAIL_SOFTMAX, figures,
                        _cx(th, eta, rd["bad_order"], delta, "order"), labels=LABELS,
                        summary=(rf"a certified minimizer ($\delta \le 10^{{-12}}$) has $\eta_i > \eta_j$ but "
                                 rf"$\theta_i \le \theta_j$ ({int(rd['bad_order'].sum())} pairs)"))
    if rd["bad_tie"].any() and bool((delta <= CERT).all()):
        return Evidence("numeric", "bayes-minimizer-order", "fails", _DETAIL_SOFTMAX, figures,
                        _cx(th, eta, rd["bad_tie"], delta, "tie"), labels=LABELS,
                        summary=(rf"a certified minimizer splits a tie $\eta_i = \eta_j$ by up to "
                                 rf"{rd['max_tie_gap']:.3g} (radius {rd['max_radius']:.2g})"))
    ok_interior = bool((delta <= CERT).all()) and not rd["unresolvable"].any()
    ok_zeros = _zeros_part(obj, ctx, g, figures)
    outcome = "holds" if ok_interior and ok_zeros else "undecided"
    z = figures["with_zeros"]
    summary = (f"{interior['certified']}/{B} roots certified, tie gaps {rd['max_tie_gap']:.2g}; zeros of "
               f"$\\eta$: final excess {z['max_excess_at_T']:.2g}, "
               + ("zero coordinates fall together" if z["zero_coords_decreasing"] and z["zero_coords_below_support"]
                  else "zero-coordinate rule not met"))
    return Evidence("numeric", "bayes-minimizer-order", outcome, _DETAIL_SOFTMAX, figures, summary=summary,
                    labels=LABELS)


def _zeros_part(obj, ctx: RunContext, g: torch.Generator, figures: dict) -> bool:
    """η with zeros: a GD minimizing sequence read in the extended reals (module docstring)."""
    B = ctx.budget(64, 256)
    ez = targets(B, g)  # support of 3 with a positive tie, two zeros
    pos = ez > 0
    S = pos.sum(-1)[0].item()
    eS = ez[pos].reshape(B, S)
    # inf L on η with zeros = min of the restricted problem (θ_Z → −∞), from certified roots
    thS = newton_roots(obj.predict, eS, torch.zeros(B, S, dtype=DT))
    dS = (obj.predict(thS) - eS).abs().amax(-1)
    inf_L = obj(thS, eS)
    T = ctx.budget(4_000, 20_000)
    th = torch.randn(B, N, generator=g, dtype=DT)
    quarter = None
    for t in range(1, T + 1):
        th = th - 2.0 * (obj.predict(th) - ez)
        if t == T // 4:
            quarter = th.clone()
    ex_T = obj(th, ez) - inf_L
    ex_q = obj(quarter, ez) - inf_L
    p = obj.predict(th)
    pS = p[pos].reshape(B, S)
    q = pS / pS.sum(-1, keepdim=True)
    dq = (q - eS).abs().amax(-1)
    tS = th[pos].reshape(B, S)
    rd = _read_order(tS, eS, dq)
    nz = lambda x: (x - x.amax(-1, keepdim=True))[~pos].reshape(B, -1)  # noqa: E731
    z_T, z_q = nz(th), nz(quarter)
    lseS = torch.logsumexp(tS, -1, keepdim=True)
    zmargin = th[~pos].reshape(B, -1) - lseS  # θ_j − logsumexp(θ_S)
    bound = torch.log(torch.expm1(ex_T.clamp_min(1e-300)))[:, None]
    if bool((zmargin > bound + 1e-9 * (1 + th.abs().amax(-1, keepdim=True))).any()):
        raise SuiteDefect("theta_j - logsumexp(theta_S) above log(e^eps - 1): the library's loss value and map disagree")
    fig = {"cases": B, "steps": T, "restricted_root_max_delta": float(dS.max()), "max_delta_support": float(dq.max()),
           "min_excess_at_T": float(ex_T.min()), "max_excess_at_T": float(ex_T.max()),
           "max_excess_at_T_over_4": float(ex_q.max()), "zero_coords_decreasing": bool((z_T < z_q).all()),
           "zero_coords_below_support": bool((th[~pos].reshape(B, -1).amax(-1) < tS.amin(-1)).all()),
           "max_zero_coord_minus_logsumexp_support": float(zmargin.max()),
           "max_gap_between_zero_coords_at_T": float((z_T[:, 0] - z_T[:, 1]).abs().max()),
           "support_max_tie_gap": rd["max_tie_gap"], "support_unresolvable_pairs": int(rd["unresolvable"].sum())}
    figures["with_zeros"] = fig
    return (bool((dS <= CERT).all()) and not rd["unresolvable"].any()
            and not rd["bad_order"].any() and not rd["bad_tie"].any() and float(ex_T.min()) > 0
            and bool((ex_T < ex_q).all()) and fig["zero_coords_decreasing"] and fig["zero_coords_below_support"])


_DETAIL_SOFTMAX = (r"interior $\eta$ with ties: Newton roots of $\hat y(\theta) = \eta$ (central-difference Jacobian of "
                   r"the library map) certified by $\lVert\hat y - \eta\rVert_\infty \le 10^{-12}$; order read with the "
                   r"radius $r_{ij} = \ell(\delta/\eta_i) + \ell(\delta/\eta_j)$ "
                   r"($\log\hat y_i - \log\hat y_j = \theta_i - \theta_j$): strict pairs ordered, ties within $r_{ij}$. "
                   r"$\eta$ with zeros: GD (lr 2) is a minimizing sequence; excess positive and decreasing, zero "
                   r"coordinates decreasing and below the support, support order read with the radius of "
                   r"$q = \hat y_S/\sum_{k \in S} \hat y_k$; in the extended reals the zero coordinates tend to $-\infty$ "
                   r"together (tie), the support to $\log\eta_S + c$")

__all__ = ["targets", "o2_sparse", "o2_softmax", "newton_roots"]
