"""Numeric CON-3 (readings O1, O2) and DYN-1 of a user's separable loss (issue 23 §4), on the
generic map of numerics/user/map.py (looked up here at call time as ``torch_map``, where
a planted defect replaces it).  The claim under test is the suite's derived one ("SOP" when
g′(0⁺) = −∞, else "WOP": weakly, not strictly); a contradiction is a disagreement of our own
routes (reports/user/claims_con.py turns it into a crash).  Decision rules, stated before
searching:

* O1 (:func:`order_search`): random θ (numerics/con/order.py's kinds: unit, ×3, ×300, near-ties,
  ties, targeted), n = 5.  fails on a pair θᵢ > θⱼ with ŷⱼ − ŷᵢ > 10⁻¹²·ŷⱼ (beyond rounding).
  WOP: holds iff in addition an exact tie ŷᵢ = ŷⱼ with θᵢ − θⱼ ≥ 0.01 (every score within 30
  of the top) survives rounding θ to 4 decimals (the witness); undecided otherwise.  SOP: every
  float64 tie θᵢ > θⱼ, ŷᵢ = ŷⱼ (up to 10, nearest the top first) is re-evaluated at 60 digits
  (mpmath: G by bisection on g′(e^v) = u over v ∈ [−5000, 0], τ from the map's largest entry);
  a tie that float64 resolves there (both values ≥ 2⁻¹⁰⁰⁰, relative difference > 10⁻¹²) fails,
  any other is an underflow artefact, reported.
* O2 (:func:`minimizer_order`): minimizers are found, never built.  WOP: GD θ ← θ − ½(ŷ(θ) − η)
  on targets η with a positive tie and two zeros (numerics/con/order_bayes.py's targets) from random
  starts; every point θ is an exact minimizer of L(·; η′), η′ = ŷ(θ) (FY-2; ŷ certified by
  :func:`kkt_certificate`, else a defect of ours), so it fails on
  η′ᵢ − η′ⱼ > 10⁻⁹ with θᵢ < θⱼ, holds iff a point splits a tie η′ᵢ = η′ⱼ by θᵢ − θⱼ ≥ 0.01
  (re-computed after rounding θ), else undecided.  SOP: interior η with ties, Newton roots
  (order_bayes.newton_roots) certified by δ = ‖ŷ − η‖∞ ≤ 10⁻¹²; θᵢ − θⱼ = g′(ŷᵢ) − g′(ŷⱼ) is read
  within the radius rᵢⱼ = ρ(ηᵢ) + ρ(ηⱼ) + 10⁻¹²(1 + max|θ|), ρ(a) = max_± |g′(a ± δ) − g′(a)|:
  fails if a resolvable strict pair is out of order or a tie is split by more than rᵢⱼ; and η
  with two zeros, GD (step 1/sup s) as a minimizing sequence: the loss positive and falling
  from T/4 to T, the zero coordinates (relative to the top) falling and below every support
  coordinate; undecided if a root is not certified or a rule is not met.
* DYN-1 (:func:`negative_gradients`): GD (step ½; quick 20 steps, full 1500) on free scores θ ∈ R⁵
  with label class 0 from small and from spread starts; per step the fraction of negatives whose
  training gradient ŷⱼ − yⱼ is non-zero.  Independent route at every step: the KKT certificate of
  the map's output (:func:`kkt_certificate`: g′ and θ only), which puts its zeros exactly where
  θⱼ − τ ≤ g′(0⁺) (a dense loss: only below float64's underflow); a row that fails it is a defect
  of ours.  Dense: holds iff the fraction is 1 throughout.  Sparse: holds iff some negative gets
  exactly zero gradient (the statement is not vacuous on these runs); undecided otherwise.
"""
from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from ..con.order import _scores
from ..con.order_bayes import newton_roots, targets
from .fy import conjugate, omega_np
from .map import torch_map
from ..threads import one_thread

DT = torch.float64
N = 5
LABELS = {"cases": "score vectors", "ordered_pairs": r"ordered pairs $\theta_i > \theta_j$",
          "wop_violations": r"pairs with $\hat y_i < \hat y_j$ beyond rounding",
          "float64_ties": r"float64 ties $\hat y_i = \hat y_j$", "ties_rechecked_mpmath60": "ties re-checked at 60 digits",
          "ties_resolvable": "ties float64 should resolve", "sop_witness": r"witness ($\theta_i > \theta_j$, "
          r"$\hat y_i = \hat y_j$)", "claim": "claim under test", "points": "minimizers found",
          "tie_splits": "tie splits", "certified": r"roots certified ($\delta \le 10^{-12}$)",
          "max_delta": r"largest $\delta$", "max_tie_gap": r"largest $|\theta_i - \theta_j|$ on a tie",
          "unresolvable": "strict pairs not resolvable", "zeros": r"$\eta$ with zeros (GD)",
          "steps": "GD steps", "lr": "GD step size", "loss_T": "largest loss at $T$", "loss_T4": "largest loss at $T/4$",
          "zero_coords_falling": "zero coordinates fall from $T/4$ to $T$",
          "zero_coords_below": "zero coordinates below the support", "runs": "GD runs",
          "frac_min": "smallest fraction of negatives with a gradient", "frac_last": "fraction at the last step",
          "kkt_rows": "rows certified by the KKT conditions", "on_support_compared": "support entries compared",
          "zeros_certified": "zeros certified off the support"}
RES = 1e-9
#: float64 ties re-evaluated at 60 digits, and the halvings of v = log q there (5000/2^80 < 10^-20)
MP_TIES, MP_HALVINGS = 10, 80
SPLIT = 0.01
CERT = 1e-12


def _single_threaded(fn):
    """One intra-op thread: these are Python loops over small tensors (numerics/threads.py)."""
    @functools.wraps(fn)
    def call(*args, **kw):
        with one_thread():
            return fn(*args, **kw)
    return call


def _fmap(loss: SeparableLoss):
    return torch_map(derive(loss))


# --------------------------------------------------------------------------------------
# O1
# --------------------------------------------------------------------------------------
def _g_mp(loss: SeparableLoss):
    """G(u) at 60 digits by bisection on g′(e^v) = u, v ∈ [−5000, 0] (module docstring)."""
    f = derive(loss)
    g1 = sp.lambdify(loss.x, f.g1, "mpmath")
    lo, hi = f["g'(0+)"].value, f["g'(1-)"].value

    def G(u):
        if hi != sp.oo and u >= mpmath.mpf(float(hi)):
            return mpmath.mpf(1)
        if lo != -sp.oo and u <= mpmath.mpf(float(lo)):
            return mpmath.mpf(0)
        a, b = mpmath.mpf(-5000), mpmath.mpf(0)
        for _ in range(MP_HALVINGS):
            m = (a + b) / 2
            if g1(mpmath.exp(m)) < u:
                a = m
            else:
                b = m
        return mpmath.exp((a + b) / 2)
    return G


@_single_threaded
def order_search(loss: SeparableLoss, claim: str, ctx: RunContext) -> Evidence:
    """CON-3 O1's numeric route (module docstring)."""
    fmap = _fmap(loss)
    g = ctx.generator(salt=305)
    theta = _scores(N, ctx.budget(200, 2000), g)
    y = fmap(theta)
    gt = theta[:, :, None] > theta[:, None, :]
    yi, yj = y[:, :, None], y[:, None, :]
    lt = gt & (yj - yi > 1e-12 * yj)
    eq = gt & (yi == yj)
    figures: dict = {"claim": claim, "cases": theta.shape[0], "ordered_pairs": int(gt.sum()),
                     "wop_violations": int(lt.sum()), "float64_ties": int(eq.sum())}
    if lt.any():
        b, i, j = lt.nonzero()[0].tolist()
        cx = {"theta": theta[b].tolist(), "i": i, "j": j, "yhat": y[b].tolist()}
        return Evidence("numeric", "order-search", "fails", _O1_DETAIL, figures, cx, labels=LABELS,
                        summary=f"WOP violated: {int(lt.sum())} ordered pairs with $\\hat y_i < \\hat y_j$")
    if claim == "WOP":
        for b, i, j in eq.nonzero().tolist()[:200]:
            th = torch.round(theta[b] * 1e4) / 1e4     # what results.json stores must re-check by itself
            yy = fmap(th[None])[0]
            if th[i] - th[j] >= SPLIT and float(th.max() - th[j]) <= 30 and yy[i] == yy[j]:
                figures["sop_witness"] = {"theta": th.tolist(), "i": i, "j": j, "yhat": yy.tolist()}
                gap = float(th[i] - th[j])
                return Evidence("numeric", "order-search", "holds", _O1_DETAIL, figures, labels=LABELS,
                                summary=f"no WOP violation in {figures['ordered_pairs']} ordered pairs; witness "
                                        f"$\\hat y_i = \\hat y_j$ with $\\theta_i - \\theta_j = {gap:.3g}$")
        return Evidence("numeric", "order-search", "undecided", "no exact tie found. " + _O1_DETAIL, figures,
                        labels=LABELS,
                        summary=f"no WOP violation in {figures['ordered_pairs']} ordered pairs, but no exact tie found")
    G = _g_mp(loss)
    g1 = sp.lambdify(loss.x, derive(loss).g1, "math")
    ties = eq.nonzero().tolist()
    ties.sort(key=lambda t: float(theta[t[0], t[2]] - theta[t[0]].max()), reverse=True)   # nearest the top first
    resolvable = []
    with mpmath.workdps(60):           # a local precision: the global one is left as it was
        for b, i, j in ties[:MP_TIES]:
            k = int(y[b].argmax())
            tau = float(theta[b, k]) - g1(min(max(float(y[b, k]), 1e-300), 1 - 2**-52))   # inside g′'s domain
            vi, vj = (G(mpmath.mpf(float(theta[b, c])) - mpmath.mpf(tau)) for c in (i, j))
            if vj >= mpmath.mpf(2) ** -1000 and vi / vj - 1 > mpmath.mpf(10) ** -12:
                resolvable.append((b, i, j))
    figures["ties_rechecked_mpmath60"], figures["ties_resolvable"] = min(len(ties), MP_TIES), len(resolvable)
    if resolvable:
        b, i, j = resolvable[0]
        cx = {"theta": theta[b].tolist(), "i": i, "j": j, "yhat": y[b].tolist()}
        return Evidence("numeric", "order-search", "fails", _O1_DETAIL, figures, cx, labels=LABELS,
                        summary=f"{len(resolvable)} float64 ties that 60 digits resolve: not SOP as computed")
    return Evidence("numeric", "order-search", "holds", _O1_DETAIL, figures, labels=LABELS,
                    summary=f"no pair out of order in {figures['ordered_pairs']} ordered pairs; "
                            f"{figures['ties_rechecked_mpmath60']} float64 ties all underflow at 60 digits")


_O1_DETAIL = (r"the generic map (bisection on $\tau$) on random scores (unit, $\times 3$, $\times 300$), near-ties, ties "
              r"and targeted ones, $n = 5$; WOP: no pair $\theta_i > \theta_j$ with $\hat y_i < \hat y_j$ beyond "
              r"$10^{-12}$ relative; not SOP: an exact tie with $\theta_i - \theta_j \ge 0.01$; SOP: float64 ties "
              "re-evaluated at 60 digits, those float64 could resolve counted against it")


# --------------------------------------------------------------------------------------
# O2
# --------------------------------------------------------------------------------------
def _loss_value(fmap, loss: SeparableLoss, theta: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
    """L(θ; η) = Ω*(θ) + Ω(η) − ⟨θ, η⟩ through the map."""
    return conjugate(fmap, loss, theta) + torch.as_tensor(omega_np(loss, eta.numpy())) - (theta * eta).sum(-1)


def _wop_points(loss: SeparableLoss, fmap, ctx: RunContext, figures: dict) -> Evidence:
    g = ctx.generator(salt=306)
    E, starts, T = ctx.budget(4, 12), ctx.budget(8, 32), ctx.budget(20, 400)
    et = targets(E, g).repeat_interleave(starts, 0)
    th = 2.0 * torch.randn(et.shape, generator=g, dtype=DT)
    for _ in range(T):
        th = th - 0.5 * (fmap(th) - et)
    yp = fmap(th)
    # each point minimizes L(·; ŷ(θ)) (FY-2) when ŷ is the argmax: certified by the KKT conditions
    if kkt_certificate(loss, th.numpy(), yp.numpy(), {}).any():
        raise SuiteDefect(f"{loss.name}: the map's output at a GD point fails the KKT conditions")
    d = th[:, :, None] - th[:, None, :]
    viol = ((yp[:, :, None] - yp[:, None, :]) > RES) & (d < 0)
    split = (yp[:, :, None] == yp[:, None, :]) & (d >= SPLIT)
    figures.update({"points": th.shape[0], "steps": T, "lr": 0.5, "wop_violations": int(viol.sum()),
                    "tie_splits": int(split.sum())})
    if viol.any():
        b, i, j = viol.nonzero()[0].tolist()
        cx = {"theta": th[b].tolist(), "eta": yp[b].tolist(), "i": i, "j": j}
        return Evidence("numeric", "bayes-minimizer-order", "fails", _O2_DETAIL, figures, cx, labels=LABELS,
                        summary=f"WOP violated at {int(viol.sum())} minimizer pairs")
    for b, i, j in split.nonzero().tolist()[:200]:
        t4 = torch.round(th[b] * 1e4) / 1e4
        y4 = fmap(t4[None])[0]
        if t4[i] - t4[j] >= SPLIT and y4[i] == y4[j]:
            figures["sop_witness"] = {"theta": t4.tolist(), "eta": y4.tolist(), "i": i, "j": j}
            return Evidence("numeric", "bayes-minimizer-order", "holds", _O2_DETAIL, figures, labels=LABELS,
                            summary=f"no WOP violation at {th.shape[0]} minimizers; a tie $\\eta_i = \\eta_j$ split "
                                    f"by $\\theta_i - \\theta_j = {float(t4[i] - t4[j]):.3g}$")
    return Evidence("numeric", "bayes-minimizer-order", "undecided", "no tie split found. " + _O2_DETAIL, figures,
                    labels=LABELS, summary=f"no WOP violation at {th.shape[0]} minimizers, but no tie split found")


def _radius(loss: SeparableLoss, eta: torch.Tensor, delta: torch.Tensor, th: torch.Tensor) -> torch.Tensor:
    g1 = sp.lambdify(loss.x, derive(loss).g1, "numpy")
    e, dl = eta.numpy(), delta.numpy()[:, None]
    with np.errstate(all="ignore"):
        rho = np.maximum(np.abs(g1(np.clip(e + dl, 1e-300, 1)) - g1(e)), np.abs(g1(np.clip(e - dl, 1e-300, 1)) - g1(e)))
    rho = torch.as_tensor(np.nan_to_num(rho, nan=np.inf, posinf=np.inf))
    fl = 1e-12 * (1 + th.abs().amax(-1))
    return rho[:, :, None] + rho[:, None, :] + fl[:, None, None]


def _read(loss, th, eta, delta) -> dict:
    r = _radius(loss, eta, delta, th)
    g1 = sp.lambdify(loss.x, derive(loss).g1, "numpy")
    ge = torch.as_tensor(g1(eta.numpy()))
    d = th[:, :, None] - th[:, None, :]
    strict = eta[:, :, None] > eta[:, None, :]
    tie = (eta[:, :, None] == eta[:, None, :]) & ~torch.eye(th.shape[1], dtype=torch.bool)
    resolvable = strict & ((ge[:, :, None] - ge[:, None, :]) > r)
    return {"bad_order": resolvable & (d <= 0), "bad_tie": tie & (d.abs() > r), "unresolvable": strict & ~resolvable,
            "max_tie_gap": float(d[tie].abs().max()) if tie.any() else 0.0}


def _sop_points(loss: SeparableLoss, fmap, ctx: RunContext, figures: dict) -> Evidence:
    g = ctx.generator(salt=307)
    B = ctx.budget(32, 128)
    eta = targets(B, g, zeros=False)
    th = newton_roots(fmap, eta, torch.randn(B, N, generator=g, dtype=DT), iters=ctx.budget(20, 60))
    delta = (fmap(th) - eta).abs().amax(-1)
    rd = _read(loss, th, eta, delta)
    figures.update({"cases": B, "certified": int((delta <= CERT).sum()), "max_delta": float(delta.max()),
                    "max_tie_gap": rd["max_tie_gap"], "unresolvable": int(rd["unresolvable"].sum())})
    certified = bool((delta <= CERT).all())
    for key, what in (("bad_order", "has $\\eta_i > \\eta_j$ but $\\theta_i \\le \\theta_j$"),
                      ("bad_tie", "splits a tie $\\eta_i = \\eta_j$ beyond its radius")):
        if rd[key].any() and certified:
            b, i, j = rd[key].nonzero()[0].tolist()
            cx = {"theta": th[b].tolist(), "eta": eta[b].tolist(), "i": i, "j": j, "delta": float(delta[b])}
            return Evidence("numeric", "bayes-minimizer-order", "fails", _O2_DETAIL, figures, cx, labels=LABELS,
                            summary=f"a certified minimizer {what}")
    zeros = _zeros_part(loss, fmap, ctx, g)
    figures["zeros"] = zeros
    ok = certified and not rd["unresolvable"].any() and zeros.pop("ok")
    summary = (f"{figures['certified']}/{B} roots certified, ties within their radius (gap "
               f"{rd['max_tie_gap']:.2g}); zeros of $\\eta$: " + ("the zero coordinates fall together below the support"
                                                                 if zeros["zero_coords_falling"] and
                                                                 zeros["zero_coords_below"] else "rule not met"))
    why = "" if ok else "a root not certified, a strict pair not resolvable or a rule on the zeros not met. "
    return Evidence("numeric", "bayes-minimizer-order", "holds" if ok else "undecided", why + _O2_DETAIL, figures,
                    labels=LABELS, summary=summary)


def _zeros_part(loss: SeparableLoss, fmap, ctx: RunContext, g: torch.Generator) -> dict:
    B, T = ctx.budget(8, 64), ctx.budget(40, 4000)
    hi = derive(loss)["Lipschitz <="].value
    lr = 1.0 / float(hi) if hi is not None and hi != sp.oo else 0.5
    ez = targets(B, g)                  # a positive tie and two zeros
    pos = ez > 0
    th = torch.randn(B, N, generator=g, dtype=DT)
    quarter = None
    for t in range(1, T + 1):
        th = th - lr * (fmap(th) - ez)
        if t == T // 4:
            quarter = th.clone()
    L_T, L_q = _loss_value(fmap, loss, th, ez), _loss_value(fmap, loss, quarter, ez)
    nz = lambda x: (x - x.amax(-1, keepdim=True))[~pos].reshape(B, -1)   # noqa: E731
    S = int(pos[0].sum())
    tS = th[pos].reshape(B, S)
    yS = fmap(th)[pos].reshape(B, S)
    rd = _read(loss, tS, ez[pos].reshape(B, S), (yS - ez[pos].reshape(B, S)).abs().amax(-1))
    out = {"cases": B, "steps": T, "lr": lr, "loss_T": float(L_T.max()), "loss_T4": float(L_q.max()),
           "zero_coords_falling": bool((nz(th) < nz(quarter)).all()),
           "zero_coords_below": bool((th[~pos].reshape(B, -1).amax(-1) < tS.amin(-1)).all())}
    out["ok"] = (bool((L_T > 0).all()) and bool((L_T < L_q).all()) and out["zero_coords_falling"]
                 and out["zero_coords_below"] and not rd["bad_order"].any() and not rd["bad_tie"].any())
    return out


@_single_threaded
def minimizer_order(loss: SeparableLoss, claim: str, ctx: RunContext) -> Evidence:
    """CON-3 O2's numeric route (module docstring)."""
    figures: dict = {"claim": claim}
    fmap = _fmap(loss)
    return _wop_points(loss, fmap, ctx, figures) if claim == "WOP" else _sop_points(loss, fmap, ctx, figures)


_O2_DETAIL = (r"minimizers found through the generic map: WOP, GD from random starts to targets with a tie and zeros "
              r"(each point an exact minimizer of $L(\cdot; \hat y(\theta))$), a tie split $\ge 0.01$ the witness; "
              r"SOP, certified Newton roots read within $r_{ij} = \rho(\eta_i) + \rho(\eta_j)$, "
              r"$\rho(a) = \max_\pm |g'(a \pm \delta) - g'(a)|$, and GD on $\eta$ with zeros as a minimizing sequence")


# --------------------------------------------------------------------------------------
# DYN-1
# --------------------------------------------------------------------------------------
RESOLVE = 1e-4      # support entries in [RESOLVE, 1 − RESOLVE] are compared (g′ well conditioned there)
KKT_TOL = 1e-8      # |g′(ŷᵢ) − θᵢ + τ| on them, relative to 1 + |τ|
OFF_TOL = 1e-6      # θⱼ − τ ≤ g′(0⁺) where ŷⱼ = 0, relative to 1 + |τ| (τ read from an entry near 1)
#: |Σŷ − 1|: the entries next to a clip end, not compared one by one, carry τ's rounding amplified by
#: G′ = 1/g″, unbounded where g″ → 0 at an end (Tsallis 3: G(g′(0⁺) + δ) = √(2δ), so τ's 10⁻¹⁶ gives 10⁻⁸)
MASS_TOL = 1e-6


def kkt_certificate(loss: SeparableLoss, theta: np.ndarray, yhat: np.ndarray, stats: dict) -> np.ndarray:
    """Rows (B,) where ŷ is NOT argmax_{p ∈ Δ} ⟨θ, p⟩ − Σ g(pᵢ) by its KKT conditions (Boyd &
    Vandenberghe 2004, §5.5.3): Σŷ = 1; one τ with g′(ŷᵢ) = θᵢ − τ on the support (entries in
    [RESOLVE, 1 − RESOLVE], τ their median; else τ from the largest entry, or θ_max − g′(1⁻) at a
    vertex); θⱼ − τ ≤ g′(0⁺) where ŷⱼ = 0 (a dense loss: below g′ at float64's smallest positive
    number, so that only an underflow is a zero).  Uses g′ and θ only, not the map's G."""
    f = derive(loss)
    g1 = sp.lambdify(loss.x, f.g1, "numpy")
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    with np.errstate(all="ignore"):
        lo = float(d0) if d0 != -sp.oo else float(g1(np.float64(2.0**-1074)))
        cmp = (yhat >= RESOLVE) & (yhat <= 1 - RESOLVE)
        est = np.where(cmp, theta - g1(np.where(cmp, yhat, 0.5)), np.nan)
        k = yhat.argmax(1)
        top = yhat[np.arange(len(yhat)), k]
        at_vertex = (top == 1) & (d1 != sp.oo)
        fallback = theta[np.arange(len(yhat)), k] - np.where(
            at_vertex, float(d1) if d1 != sp.oo else 0.0, g1(np.clip(top, 1e-300, 1 - 2.0**-52)))
        tau = np.where(cmp.any(1), np.nanmedian(np.where(cmp.any(1)[:, None], est, 0.0), axis=1), fallback)
        dev = np.nan_to_num(np.abs(est - tau[:, None]), nan=0.0).max(1)
    scale = 1 + np.abs(tau)
    off = yhat == 0
    bad = ((np.abs(yhat.sum(1) - 1) > MASS_TOL) | (dev > KKT_TOL * scale)
           | (off & (theta - tau[:, None] > lo + OFF_TOL * scale[:, None])).any(1))
    stats["kkt_rows"] = stats.get("kkt_rows", 0) + len(yhat)
    stats["on_support_compared"] = stats.get("on_support_compared", 0) + int(cmp.sum())
    stats["zeros_certified"] = stats.get("zeros_certified", 0) + int((off & ~bad[:, None]).sum())
    return bad


@_single_threaded
def negative_gradients(loss: SeparableLoss, dense: bool, ctx: RunContext) -> Evidence:
    """DYN-1's numeric route (module docstring)."""
    fmap = _fmap(loss)
    g = ctx.generator(salt=308)
    T = ctx.budget(20, 1500)
    W = torch.cat([0.1 * torch.randn(4, N, generator=g, dtype=DT), 10 * torch.randn(4, N, generator=g, dtype=DT)])
    y = torch.zeros_like(W)
    y[:, 0] = 1.0
    stats: dict = {}
    fracs = []
    for _ in range(T):
        yhat = fmap(W)
        bad = kkt_certificate(loss, W.numpy(), yhat.numpy(), stats)
        if bad.any():
            b = int(np.argmax(bad))
            raise SuiteDefect(f"{loss.name}: the map's output at a GD step fails the KKT conditions (theta = "
                              f"{W[b].tolist()}, yhat = {yhat[b].tolist()}): the map and the certificate disagree")
        zero = (yhat - y == 0)[:, 1:]
        fracs.append(1 - float(zero.sum()) / zero.numel())
        W = W - 0.5 * (yhat - y)
    fr = np.asarray(fracs)
    figures = {"runs": 1, "steps": T, "lr": 0.5, "frac_min": float(fr.min()), "frac_last": float(fr[-1]), **stats}
    if dense:
        ok = bool((fr == 1).all())
        summary = (f"every negative keeps a non-zero gradient at every step ({T} steps, 8 starts)" if ok else
                   f"fraction of negatives with a gradient as low as {fr.min():.3g} (float64 underflow)")
    else:
        ok = bool((fr < 1).any())
        summary = (f"fraction of negatives with a gradient falls to {fr.min():.3g}; zeros = off-support "
                   f"({stats['zeros_certified']} certified)" if ok else
                   "every negative keeps a non-zero gradient: no zero gradient observed")
    detail = (f"GD (step 0.5, {T} steps) on free scores, $n = {N}$, label class 0, 8 starts (scales 0.1 and 10); "
              "independent route: the KKT certificate of the map's output at every step (its zeros exactly where "
              "$\\theta_j - \\tau \\le g'(0^+)$; for a dense loss only below float64's underflow)")
    why = "" if ok else ("float64 underflow. " if dense else "no zero gradient observed. ")
    return Evidence("numeric", "negative-gradient-fraction", "holds" if ok else "undecided", why + detail, figures,
                    summary=summary, labels=LABELS)


__all__ = ["order_search", "minimizer_order", "negative_gradients"]
