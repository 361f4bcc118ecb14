"""Numeric CON-3 (O1, O2) and DYN-1 of a separable loss on the capped simplex C_k (issue 23 §4),
on the generic map called with k, as numerics/user/capped.py hands it out (``capped_map``,
where a planted defect replaces it).  The claim under test is the derived one
(proofs/user/capped_con.py): ``m``, the largest k at which the reading is strictly order
preserving (0: none; ``oo``: every k), and for DYN-1 which classes lose their gradient.  A
contradiction is a disagreement of our own routes (reports/user/claims_capped_con.py crashes).
k enters as the pairs (k, n) of :data:`CASES`, n = k + 3, where every regime's witness fits.

Independent route everywhere: :func:`kkt_certificate`, the KKT conditions on C_k from g′ and θ
alone (Σŷ = k; one τ with g′(ŷᵢ) = θᵢ − τ on the support; θᵢ − τ ≤ g′(0⁺) at 0 -- for
g′(0⁺) = −∞ only below float64's underflow --; θᵢ − τ ≥ g′(1⁻) at 1 -- for g′(1⁻) = ∞ only
where ŷᵢ rounds to 1), and the interval it leaves τ in.  A tie is *in a flat piece* when both
coordinates lie 10⁻³ inside the same one of this g (at 0 or at the cap) for every τ of that
interval: an exact tie, not a rounding.  Decision rules, stated before searching:

* O1 (:func:`order_search`): random θ of several kinds (unit, ×3, ×300, near-ties, ties, two
  scores far above and two far below the rest).  fails on θᵢ > θⱼ with ŷⱼ − ŷᵢ > 10⁻¹²ŷⱼ.  At
  k > m, holds iff a tie ŷᵢ = ŷⱼ, θᵢ − θⱼ ≥ 0.01, in a flat piece survives rounding θ to 4
  decimals, else undecided.  At k ≤ m such a tie fails; every other float64 tie (up to 10) is
  re-evaluated at 60 digits (numerics/user/con.py's G; τ from the largest entry strictly
  between the map's clamp values, else the largest): one that 60 digits resolve fails.
* O2 (:func:`minimizer_order`): at k ≤ m, k = 1, the simplex route (``_sop_points``: certified
  Newton roots, GD on η with zeros); k ≥ 2 (g′(1⁻) = ∞), certified Newton roots at interior η
  with ties read within their radius, and GD toward η with two ones and two zeros: the loss
  falling, the ones' u = θ − τ rising, the zeros' falling, ones above the rest above the zeros.
  At k > m: GD from starts biased to η's pattern (two ones at k ≥ 2, two zeros); every point is
  an exact minimizer of L(·; η′), η′ = ŷ(θ) (FY-2, certified): a pair η′ᵢ − η′ⱼ > 10⁻⁹ with
  θᵢ < θⱼ is a defect of ours; holds iff a tie splits by ≥ 0.01 in a flat piece (as O1).  The
  limit case (g′(0⁺) = −∞, g′(1⁻) finite, k = 2) evaluates the derivation's sequence
  θᵗ = (g′(1⁻) + 1, g′(1⁻), −t, −t, −t) through the map: holds iff L(θᵗ; η) falls, to below 10⁻⁶
  of its start over t = 2, 4, 8, 16, with ŷ₁ = 1, ŷ₂ < 1, θ₁ − θ₂ = 1 (a sequence built, not found).
  A singular Newton Jacobian leaves its k undecided.
* DYN-1 (:func:`gradient_fractions`): GD (step ½) on free scores with label 1_Y, Y the first k
  classes, 12 starts (scales 0.1 and 3; 3 with the negatives 40 lower), every step certified.
  Negatives: dense, holds iff every one keeps a gradient (a zero: underflow, undecided; fails
  where g′(0⁺) is finite, the zero then exact); sparse, iff some loses it.  Labelled classes:
  capped, iff some reaches ŷᵢ = 1 (a dense map's rows with k entries at 1 are float64 rounding,
  counted apart); uncapped, iff none does (a 1 is rounding, undecided; fails where g′(1⁻) is
  finite).
"""
from __future__ import annotations

import functools
from dataclasses import replace

import mpmath
import numpy as np
import sympy as sp
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from . import capped as num_cap
from . import con as num_con
from ..con.order_bayes import _perm_rows, newton_roots
from .fy import conjugate, omega_np
from ..threads import one_thread

DT = torch.float64
CASES = ((1, 4), (2, 5), (3, 6))
KS = [k for k, _ in CASES]
SPLIT, RES, SLACK, CERT = num_con.SPLIT, num_con.RES, 1e-3, num_con.CERT
RESOLVE, KKT_TOL, OFF_TOL, MASS_TOL = num_con.RESOLVE, num_con.KKT_TOL, num_con.OFF_TOL, num_con.MASS_TOL
LIMIT_T = (2, 4, 8, 16)
INNER = (1e-290, 1 - 2.0**-50)
LABELS = {**num_con.LABELS, "cases_k": "$(k, n)$ pairs", "witnesses": "witnesses on $C_k$, one per $k$ (KKT-certified)",
          "sop_witness": r"witnesses on $C_k$ ($\theta_i > \theta_j$, $\hat y_i = \hat y_j$; re-checked outside)",
          "claim_m": "largest $k$ with SOP under test", "by_k": "by $k$", "caps_certified": "ones certified at the cap",
          "labelled_zero": "labelled classes with zero gradient at the cap (steps summed)",
          "float64_vertices": "labelled ones of a dense map at $k$ entries equal to 1 (rounding)",
          "limit": "the derivation's sequence at $k = 2$", "losses": "$L(\\theta^t; \\eta)$",
          "gap": "$\\theta_1 - \\theta_2$", "ones_rising": "ones rise", "sop_k1": "$k = 1$: the simplex route",
          "certificate": "KKT certificates on $C_k$"}


def _fmap(loss: SeparableLoss):
    return num_cap.capped_map(derive(loss))


@functools.lru_cache(maxsize=32)
def _ends(loss: SeparableLoss):
    """(g′ numpy, effective lower end, effective upper end): an infinite end replaced by g′ where
    float64 rounds ŷ to 0 (2⁻¹⁰⁷⁴) or to 1 (1 − 2⁻⁵⁰)."""
    f = derive(loss)
    g1 = sp.lambdify(loss.x, f.g1, "numpy")
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    with np.errstate(all="ignore"):
        lo = float(d0) if d0 != -sp.oo else float(g1(np.float64(2.0**-1074)))
        hi = float(d1) if d1 != sp.oo else float(g1(np.float64(1 - 2.0**-50)))
    return g1, lo, hi, d0 != -sp.oo, d1 != sp.oo


def kkt_certificate(loss: SeparableLoss, theta: np.ndarray, yhat: np.ndarray, k: int,
                    stats: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows where ŷ is NOT argmax_{p ∈ C_k} ⟨θ, p⟩ − Σ g(pᵢ) by its KKT conditions, u = θ − τ,
    and the interval [τ₋, τ₊] the output leaves τ in).  τ is pinned by the median of θᵢ − g′(ŷᵢ)
    on entries in [10⁻⁴, 1 − 10⁻⁴], else by the largest entry strictly between the map's clamp
    value at 0 and 1 − 10⁻⁴ (g′ well conditioned there), to 10⁻⁶(1 + |τ|); otherwise only the
    flat entries bound it (τ ≥ θⱼ − g′(0⁺) at 0, τ ≤ θᵢ − g′(1⁻) at 1; a dense map's clamped
    entries and those within 10⁻⁴ of 1 likewise), and u is read at the middle."""
    g1, lo, hi, _, _ = _ends(loss)
    r = np.arange(len(yhat))
    with np.errstate(all="ignore"):
        cmp = (yhat >= RESOLVE) & (yhat <= 1 - RESOLVE)
        est = np.where(cmp, theta - g1(np.where(cmp, yhat, 0.5)), np.nan)
        zero, cap = yhat == 0, yhat == 1
        pin = (yhat > INNER[0]) & (yhat <= 1 - RESOLVE)
        kp = np.where(pin, yhat, -1.0).argmax(1)
        from_pin = theta[r, kp] - g1(np.where(pin.any(1), yhat[r, kp], 0.5))
        low_like = zero | ((yhat > 0) & (yhat <= INNER[0]))         # u at most g′ at the map's clamp
        high_like = cap | ((yhat > 1 - RESOLVE) & (yhat < 1))       # u at least g′(1 − 10⁻⁴)
        low_end = np.where(zero, lo, float(g1(np.float64(INNER[0]))))
        high_end = np.where(cap, hi, float(g1(np.float64(1 - RESOLVE))))
        below = np.where(low_like, theta - low_end, -np.inf).max(1)
        above = np.where(high_like, theta - high_end, np.inf).min(1)
        med = np.nanmedian(np.where(cmp.any(1)[:, None], est, 0.0), axis=1)
        pinned = cmp.any(1) | pin.any(1)
        point = np.where(cmp.any(1), med, from_pin)
        flat = np.where(np.isfinite(below) & np.isfinite(above), (below + above) / 2,
                        np.where(np.isfinite(below), below, above))
        tau = np.where(pinned, point, flat)
        dev = np.nan_to_num(np.abs(est - tau[:, None]), nan=0.0).max(1)
    scale = 1 + np.abs(tau)
    t_lo = np.where(pinned, tau - 1e-6 * scale, below)
    t_hi = np.where(pinned, tau + 1e-6 * scale, above)
    u = theta - tau[:, None]
    s2 = scale[:, None]
    bad = ((np.abs(yhat.sum(1) - k) > MASS_TOL) | (dev > KKT_TOL * scale) | (yhat < 0).any(1) | (yhat > 1).any(1)
           | (zero & (u > lo + OFF_TOL * s2)).any(1) | (cap & (u < hi - OFF_TOL * s2)).any(1)
           | (t_lo > t_hi + OFF_TOL * scale))
    good = ~bad[:, None]
    for key, v in (("kkt_rows", len(yhat)), ("on_support_compared", int(cmp.sum())),
                   ("zeros_certified", int((zero & good).sum())), ("caps_certified", int((cap & good).sum()))):
        stats[key] = stats.get(key, 0) + v
    return bad, u, t_lo, t_hi


def _checked(loss, fmap, theta: torch.Tensor, k: int, stats: dict, where: str):
    """(ŷ, u) with every row certified; a row that fails is a disagreement of our routes."""
    y = fmap(theta, k)
    bad, u, _, _ = kkt_certificate(loss, theta.numpy(), y.numpy(), k, stats)
    if bad.any():
        b = int(np.argmax(bad))
        raise SuiteDefect(f"{loss.name}: the map's output {where} at k = {k} fails the KKT conditions on C_k (theta = "
                          f"{theta[b].tolist()}, yhat = {y[b].tolist()}): the map and the certificate disagree")
    return y, u


def _in_flat(loss, theta: np.ndarray, t_lo: float, t_hi: float, i: int, j: int) -> str | None:
    """The flat piece (this g's own) both coordinates lie 10⁻³ inside for every τ in [τ₋, τ₊], or None."""
    _, lo, hi, has_lo, has_hi = _ends(loss)
    if has_lo and max(theta[i], theta[j]) - t_lo <= lo - SLACK:
        return "0"
    if has_hi and min(theta[i], theta[j]) - t_hi >= hi + SLACK:
        return "cap"
    return None


def _split(loss, fmap, theta: torch.Tensor, y: torch.Tensor, k: int, eta: bool) -> dict | None:
    """A certified tie ŷᵢ = ŷⱼ with θᵢ − θⱼ ≥ 0.01 in a flat piece, re-found after rounding θ to 4
    decimals (what results.json stores must re-check by itself)."""
    cand = (y[:, :, None] == y[:, None, :]) & ((theta[:, :, None] - theta[:, None, :]) >= SPLIT)
    bad, _, t_lo, t_hi = kkt_certificate(loss, theta.numpy(), y.numpy(), k, {})
    _, lo, hi, has_lo, has_hi = _ends(loss)
    big = torch.maximum(theta[:, :, None], theta[:, None, :]) - torch.as_tensor(t_lo)[:, None, None]
    small = torch.minimum(theta[:, :, None], theta[:, None, :]) - torch.as_tensor(t_hi)[:, None, None]
    flat = ((big <= lo - SLACK) & has_lo) | ((small >= hi + SLACK) & has_hi)
    cand &= flat & ~torch.as_tensor(bad)[:, None, None]       # a first pass on the unrounded rows
    for b, i, j in cand.nonzero().tolist()[:200]:
        th = torch.round(theta[b] * 1e4) / 1e4
        yy = fmap(th[None], k)
        bad, _, t_lo, t_hi = kkt_certificate(loss, th[None].numpy(), yy.numpy(), k, {})
        piece = None if bad[0] else _in_flat(loss, th.numpy(), float(t_lo[0]), float(t_hi[0]), i, j)
        if th[i] - th[j] >= SPLIT and yy[0, i] == yy[0, j] and piece is not None:
            out = {"theta": th.tolist(), "i": i, "j": j, ("eta" if eta else "yhat"): yy[0].tolist()}
            return out | {"k": k, "flat": piece}
    return None


def _store(figures: dict, k: int, w: dict) -> None:
    """A witness (found at a k > m, where the claim is not SOP) goes where the outside re-checker
    reads it, ``sop_witness`` as ``{"witnesses": [{theta, i, j, yhat | eta, k}, …]}``
    (reports/rechecks/user.py: each by the KKT conditions on C_k), and with the flat piece it
    lies in under ``witnesses``."""
    figures.setdefault("sop_witness", {"witnesses": []})["witnesses"].append(
        {key: v for key, v in w.items() if key != "flat"})
    figures.setdefault("witnesses", {})[str(k)] = w


def _reference(y: torch.Tensor) -> int:
    """The entry τ is read from: the largest strictly between the map's clamp values (G at
    g′(10⁻³⁰⁰) and g′(1 − 2⁻⁵²) where an end is infinite: not the scores' own values), else the
    largest (the simplex route's choice)."""
    inner = torch.where((y > INNER[0]) & (y < INNER[1]), y, -1.0)
    return int(inner.argmax()) if float(inner.max()) > 0 else int(y.argmax())


def _draw(n: int, B: int, g: torch.Generator) -> torch.Tensor:
    parts = [s * torch.randn(B, n, generator=g, dtype=DT) for s in (1.0, 3.0, 300.0)]
    base = torch.randn(B, n, generator=g, dtype=DT)
    near, tie, flat = base.clone(), base.clone(), base.clone()
    near[:, 1] = near[:, 0] - torch.rand(B, generator=g, dtype=DT) * 1e-9
    tie[:, 2] = tie[:, 3]
    top, bot = base.amax(1), base.amin(1)
    flat[:, 0] = top + 6 + 3 * torch.rand(B, generator=g, dtype=DT)       # two far above the rest
    flat[:, 1] = top + 5
    flat[:, -1] = bot - 6 - 3 * torch.rand(B, generator=g, dtype=DT)      # two far below
    flat[:, -2] = bot - 5
    return torch.cat([*parts, near, tie, flat])


def order_search(loss: SeparableLoss, m, ctx: RunContext, cases=CASES) -> Evidence:
    """CON-3 O1 on C_k (module docstring)."""
    with one_thread():
        return _order_search(loss, m, ctx, cases)


def _order_search(loss, m, ctx, cases) -> Evidence:
    fmap = _fmap(loss)
    g = ctx.generator(salt=311)
    g1 = sp.lambdify(loss.x, derive(loss).g1, "math")
    G = num_con._g_mp(loss)
    figures: dict = {"claim_m": str(m), "cases_k": [list(c) for c in cases], "by_k": {}}
    missing = []
    for k, n in cases:
        theta = _draw(n, ctx.budget(200, 2000), g)
        y = fmap(theta, k)              # ordering and ties read off the map; witnesses certified one by one
        gt = theta[:, :, None] > theta[:, None, :]
        yi, yj = y[:, :, None], y[:, None, :]
        lt, eq = gt & (yj - yi > 1e-12 * yj), gt & (yi == yj)
        fk = figures["by_k"][str(k)] = {"cases": theta.shape[0], "ordered_pairs": int(gt.sum()),
                                         "wop_violations": int(lt.sum()), "float64_ties": int(eq.sum())}
        if lt.any():
            b, i, j = lt.nonzero()[0].tolist()
            cx = {"theta": theta[b].tolist(), "i": i, "j": j, "yhat": y[b].tolist(), "k": k}
            return Evidence("numeric", "order-search", "fails", _O1, figures, cx, labels=LABELS,
                            summary=f"WOP violated at $k = {k}$: {int(lt.sum())} pairs with $\\hat y_i < \\hat y_j$")
        if k > m:
            w = _split(loss, fmap, theta, y, k, eta=False)
            if w is None:
                missing.append(k)
            else:
                _store(figures, k, w)
            continue
        genuine = _split(loss, fmap, theta, y, k, eta=False)     # both inside one flat piece: SOP is refuted
        if genuine is not None:
            cx = {key: v for key, v in genuine.items() if key != "flat"}
            return Evidence("numeric", "order-search", "fails", _O1, figures, cx, labels=LABELS,
                            summary=f"a certified tie at $k = {k}$ in a flat piece ({genuine['flat']}): not SOP")
        ties = eq.nonzero().tolist()
        ties.sort(key=lambda t: float(theta[t[0], t[2]] - theta[t[0]].max()), reverse=True)
        resolvable = []
        with mpmath.workdps(60):
            for b, i, j in ties[:num_con.MP_TIES]:
                r = _reference(y[b])
                tau = float(theta[b, r]) - g1(min(max(float(y[b, r]), 1e-300), 1 - 2**-52))
                vi, vj = (G(mpmath.mpf(float(theta[b, c])) - mpmath.mpf(tau)) for c in (i, j))
                if vj >= mpmath.mpf(2) ** -1000 and vi / vj - 1 > mpmath.mpf(10) ** -12:
                    resolvable.append((b, i, j))
        fk["ties_rechecked_mpmath60"], fk["ties_resolvable"] = min(len(ties), num_con.MP_TIES), len(resolvable)
        if resolvable:
            b, i, j = resolvable[0]
            cx = {"theta": theta[b].tolist(), "i": i, "j": j, "yhat": y[b].tolist(), "k": k}
            return Evidence("numeric", "order-search", "fails", _O1, figures, cx, labels=LABELS,
                            summary=f"{len(resolvable)} float64 ties at $k = {k}$ that 60 digits resolve: not SOP")
    if missing:
        return Evidence("numeric", "order-search", "undecided", f"no certified tie at k = {missing}. " + _O1, figures,
                        labels=LABELS, summary=f"no WOP violation, but no certified tie found at $k \\in {missing}$")
    parts = ([f"certified ties at $k = {', '.join(str(k) for k, _ in cases if k > m)}$"] if any(k > m for k, _ in cases)
             else []) + (["float64 ties at the SOP $k$ all rounding"] if any(k <= m for k, _ in cases) else [])
    return Evidence("numeric", "order-search", "holds", _O1, figures, labels=LABELS,
                    summary="no WOP violation; " + "; ".join(parts))


_O1 = ("the generic map on $C_k$, $(k, n) = (1, 4), (2, 5), (3, 6)$, on random, tied and near-tied scores and scores "
       "far above or below the rest; WOP: no $\\theta_i > \\theta_j$ with $\\hat y_i < \\hat y_j$; not SOP at $k$: a "
       "certified tie $\\hat y_i = \\hat y_j$ in a flat piece with $\\theta_i - \\theta_j \\ge 0.01$; SOP at $k$: "
       "float64 ties re-evaluated at 60 digits")


def _targets(E: int, n: int, k: int, g: torch.Generator) -> torch.Tensor:
    """η ∈ C_k: two ones (k ≥ 2), two zeros, the rest mass k − ones with a positive tie; permuted."""
    ones = 2 if k >= 2 else 0
    free = n - 2 - ones
    lv = 0.5 + torch.rand(E, free, generator=g, dtype=DT)
    if free >= 2:
        lv[:, 1] = lv[:, 0]
    e = (k - ones) * lv / lv.sum(-1, keepdim=True)
    return _perm_rows(torch.cat([torch.ones(E, ones, dtype=DT), e, torch.zeros(E, 2, dtype=DT)], 1), g)


def _split_points(loss, fmap, k, n, ctx, g, figures) -> bool:
    E, starts, T = ctx.budget(4, 12), ctx.budget(4, 16), ctx.budget(20, 400)
    et = _targets(E, n, k, g).repeat_interleave(starts, 0)
    th = 2 * torch.randn(et.shape, generator=g, dtype=DT) + 4 * (2 * et - 1) * ((et == 0) | (et == 1))
    for _ in range(T):
        th = th - 0.5 * (fmap(th, k) - et)
    yp, _ = _checked(loss, fmap, th, k, figures.setdefault("certificate", {}), "at a GD point")
    d = th[:, :, None] - th[:, None, :]
    viol = ((yp[:, :, None] - yp[:, None, :]) > RES) & (d < 0)
    figures["by_k"][str(k)] = {"points": th.shape[0], "steps": T, "wop_violations": int(viol.sum())}
    if viol.any():
        b, i, j = viol.nonzero()[0].tolist()
        raise SuiteDefect(f"{loss.name}: a certified minimizer at k = {k} has eta'_i > eta'_j but theta_i < theta_j "
                          f"(theta = {th[b].tolist()}, i = {i}, j = {j}): WOP is derived for every k")
    w = _split(loss, fmap, th, yp, k, eta=True)
    if w is not None:
        _store(figures, k, w)
    return w is not None


def _limit_split(loss, fmap, ctx, figures) -> bool:
    """k = 2, n = 5: the derivation's sequence through the map (module docstring)."""
    d1 = float(derive(loss)["g'(1-)"].value)
    eta = torch.tensor([[1.0, 1.0, 0.0, 0.0, 0.0]], dtype=DT)
    at2 = lambda th: fmap(th, 2)    # noqa: E731
    losses, ok = [], True
    for t in LIMIT_T:
        th = torch.tensor([[d1 + 1, d1, -t, -t, -t]], dtype=DT)
        y, _ = _checked(loss, fmap, th, 2, figures.setdefault("certificate", {}), "on the sequence")
        losses.append(float(conjugate(at2, loss, th) + torch.as_tensor(omega_np(loss, eta.numpy())) - (th * eta).sum()))
        ok = ok and bool(y[0, 0] == 1) and bool(y[0, 1] < 1) and float(th[0, 0] - th[0, 1]) == 1.0
    falling = all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 1e-6 * losses[0]
    figures["limit"] = {"losses": losses, "gap": 1.0}
    return ok and falling


def _sop_k(loss, fmap, k, n, ctx, g, figures) -> bool:
    """k ≥ 2 with g′(1⁻) = ∞ (module docstring): certified Newton roots, then GD with ones and zeros."""
    B = ctx.budget(16, 64)
    lv = 1 + 0.5 * torch.rand(B, n, generator=g, dtype=DT)
    lv[:, 1] = lv[:, 0]
    lv[:, 2] = lv[:, 0] * (1.2 + 0.2 * torch.rand(B, generator=g, dtype=DT))
    eta = _perm_rows(k * lv / lv.sum(-1, keepdim=True), g)
    try:
        th = newton_roots(lambda t: fmap(t, k), eta, torch.randn(B, n, generator=g, dtype=DT), iters=ctx.budget(20, 60))
    except torch.linalg.LinAlgError:    # a singular Jacobian (a coordinate at an end): no certified root
        figures["by_k"][str(k)] = {"certified": 0, "cases": B}
        return False
    delta = (fmap(th, k) - eta).abs().amax(-1)
    rd = num_con._read(loss, th, eta, delta)
    certified = bool((delta <= CERT).all())
    if certified and (rd["bad_order"].any() or rd["bad_tie"].any()):
        b = int((rd["bad_order"] | rd["bad_tie"]).any(-1).any(-1).nonzero()[0])
        raise SuiteDefect(f"{loss.name}: a certified root at k = {k} is out of order or splits a tie beyond its radius "
                          f"(theta = {th[b].tolist()}, eta = {eta[b].tolist()})")
    ez = _targets(B, n, k, g)
    T = ctx.budget(40, 4000)
    w = torch.randn(B, n, generator=g, dtype=DT)
    quarter = None
    for t in range(1, T + 1):
        w = w - 0.5 * (fmap(w, k) - ez)
        if t == T // 4:
            quarter = w.clone()
    cert = figures.setdefault("certificate", {})
    (_, uq), (_, ut) = (_checked(loss, fmap, x, k, cert, "on the minimizing sequence") for x in (quarter, w))
    L = [conjugate(lambda x: fmap(x, k), loss, x) + torch.as_tensor(omega_np(loss, ez.numpy())) - (x * ez).sum(-1)
         for x in (quarter, w)]
    one, zero, mid = (ez == 1).numpy(), (ez == 0).numpy(), ((ez > 0) & (ez < 1)).numpy()
    rising = bool((np.where(one, ut - uq, np.inf) > 0).all()) and bool((np.where(zero, ut - uq, -np.inf) < 0).all())
    lo1 = np.where(one, ut, np.inf).min(1)
    order = (lo1 > np.where(mid | zero, ut, -np.inf).max(1)).all() and \
        (np.where(mid, ut, np.inf).min(1) > np.where(zero, ut, -np.inf).max(1)).all()
    falling = bool(((L[1] > 0) & (L[1] < L[0])).all())
    figures["by_k"][str(k)] = {"certified": int((delta <= CERT).sum()), "cases": B, "max_delta": float(delta.max()),
                               "unresolvable": int(rd["unresolvable"].sum()), "ones_rising": rising,
                               "loss_T": float(L[1].max()), "loss_T4": float(L[0].max())}
    return certified and not rd["unresolvable"].any() and rising and bool(order) and falling


def minimizer_order(loss: SeparableLoss, m, ctx: RunContext, cases=CASES) -> Evidence:
    """CON-3 O2 on C_k (module docstring)."""
    with one_thread():
        fmap = _fmap(loss)
        g = ctx.generator(salt=312)
        d0, d1 = (derive(loss)[e].value for e in ("g'(0+)", "g'(1-)"))
        figures: dict = {"claim_m": str(m), "cases_k": [list(c) for c in cases], "by_k": {}}
        missing = []
        for k, n in cases:
            if k <= m and k == 1:             # C_1 is the simplex: its route, on the same g and this map
                twin = replace(loss, domain="simplex")
                try:
                    ev = num_con._sop_points(twin, fmap, ctx, sub := {"claim": "SOP"})
                except torch.linalg.LinAlgError:    # a singular Jacobian: no certified root
                    ev = Evidence("numeric", "bayes-minimizer-order", "undecided", "Newton: a singular Jacobian")
                    sub = {}
                figures["sop_k1"] = sub
                ok = ev.outcome == "holds"
                if ev.outcome == "fails":
                    raise SuiteDefect(f"{loss.name}: O2 at k = 1 (the simplex route) contradicts SOP: {ev.summary}")
            elif k <= m:
                ok = _sop_k(loss, fmap, k, n, ctx, g, figures)
            elif k == 2 and d0 == -sp.oo and d1 != sp.oo:
                ok = _limit_split(loss, fmap, ctx, figures)
            else:
                ok = _split_points(loss, fmap, k, n, ctx, g, figures)
            if not ok:
                missing.append(k)
    if missing:
        return Evidence("numeric", "bayes-minimizer-order", "undecided", f"rule not met at k = {missing}. " + _O2,
                        figures, labels=LABELS, summary=f"no WOP violation; the rule not met at $k \\in {missing}$")
    return Evidence("numeric", "bayes-minimizer-order", "holds", _O2, figures, labels=LABELS,
                    summary=f"every rule met at $k = 1, 2, 3$: a certified split where not SOP, order kept where SOP")


_O2 = ("minimizers through the generic map on $C_k$, $(k, n) = (1, 4), (2, 5), (3, 6)$: where not SOP, GD points (each "
       "an exact minimizer of $L(\\cdot; \\hat y(\\theta))$) with a certified tie split $\\ge 0.01$ in a flat piece, "
       "or at $k = 2$ with a finite cap and $g'(0^+) = -\\infty$ the derivation's minimizing sequence; where SOP, the "
       "simplex route at $k = 1$, certified Newton roots and GD with ones and zeros at $k \\ge 2$")


def gradient_fractions(loss: SeparableLoss, dense: bool, capped: bool, ctx: RunContext, cases=CASES) -> Evidence:
    """DYN-1 on C_k (module docstring)."""
    with one_thread():
        fmap = _fmap(loss)
        g = ctx.generator(salt=313)
        T = ctx.budget(20, 1500)
        stats: dict = {}
        fr, pos, vertex, first = [], 0, 0, {}
        for k, n in cases:
            y = torch.zeros(12, n, dtype=DT)
            y[:, :k] = 1.0
            W = torch.cat([s * torch.randn(4, n, generator=g, dtype=DT) for s in (0.1, 3.0, 3.0)])
            W[8:] -= 40 * (1 - y[8:])                  # negatives far below: zeros, and entries under 2^-24
            for _ in range(T):
                yhat, _ = _checked(loss, fmap, W, k, stats, "at a GD step")
                zero = yhat - y == 0
                fr.append(1 - float(zero[:, k:].sum()) / zero[:, k:].numel())
                pos += int(zero[:, :k].sum())
                real = zero[:, :k] & ((yhat == 1).sum(-1, keepdim=True) < k) if dense else zero[:, :k]
                for side, z in (("negative", zero[:, k:]), ("labelled", real)):
                    if side not in first and z.any():
                        b, i = z.nonzero()[0].tolist()
                        first[side] = {"theta": W[b].tolist(), "yhat": yhat[b].tolist(), "k": k,
                                       "i": i + (k if side == "negative" else 0)}
                if dense:   # k entries at 1 with the rest positive: the rest's mass below float64's resolution
                    vertex += int(zero[:, :k][(yhat == 1).sum(-1) >= k].sum())
                W = W - 0.5 * (yhat - y)
    fr = np.asarray(fr)
    at_cap = pos - vertex
    figures = {"runs": len(cases) * 12, "steps": T, "lr": 0.5, "frac_min": float(fr.min()), "frac_last": float(fr[-1]),
               "labelled_zero": at_cap, "float64_vertices": vertex, "cases_k": [list(c) for c in cases], **stats}
    neg_ok = bool((fr == 1).all()) if dense else bool((fr < 1).any())
    pos_ok = at_cap > 0 if capped else pos == 0
    _, _, _, has_lo, has_hi = _ends(loss)
    # a zero the claim rules out, where this g has the flat piece that makes it exact: the claim is refuted
    cx = (first["negative"] if dense and not neg_ok and has_lo else
          first["labelled"] if not capped and not pos_ok and has_hi else None)
    if cx is not None:
        return Evidence("numeric", "negative-gradient-fraction", "fails", "a certified exact zero the claim rules out",
                        {"cases_k": [list(c) for c in cases], **stats}, cx, labels=LABELS,
                        summary=f"a certified exact zero gradient at $k = {cx['k']}$ that the claim rules out")
    why = [] if neg_ok else ["float64 underflow" if dense else "no negative lost its gradient"]
    why += [] if pos_ok else ["no labelled class reached the cap" if capped else "a labelled class rounded to 1"]
    summary = (("every negative keeps a gradient" if dense else f"negatives with a gradient down to {fr.min():.3g}")
               + (f"; {at_cap} labelled zeros, all at the cap" if capped else "; no labelled class at zero gradient")
               + f" ({len(cases)} $(k, n)$, {T} steps)")
    detail = (f"GD (step 0.5, {T} steps) on free scores with a $k$-hot label at $(k, n) = (1, 4), (2, 5), (3, 6)$, 12 "
              "starts (scales 0.1 and 3, and 3 with the negatives 40 lower); every step certified by the KKT "
              "conditions on $C_k$ (zeros exactly where $\\theta_j - \\tau \\le g'(0^+)$, ones exactly where "
              "$\\theta_i - \\tau \\ge g'(1^-)$); a dense map with $k$ entries at 1 (the rest below float64's "
              "resolution) is counted apart")
    return Evidence("numeric", "negative-gradient-fraction", "holds" if neg_ok and pos_ok else "undecided",
                    ("; ".join(why) + ". " if why else "") + detail, figures, summary=summary, labels=LABELS)


__all__ = ["order_search", "minimizer_order", "gradient_fractions", "kkt_certificate", "CASES", "KS"]
