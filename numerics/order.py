"""CON-3: strict (SOP) vs weak (WOP) order preservation, readings O1 and O2 (CLAIMS.md §2).

``order_preservation(loss, reading, ctx)``; the outcome ``holds`` means the paper's
claim for that loss holds: softmax is SOP; a sparse loss is WOP but not SOP, and then
its figures carry the SOP witness ``{"theta", "i", "j"}`` (+ ``"eta"`` for O2, ``"alpha"``
/ ``"k"``) with θ_i > θ_j and ŷ_i = ŷ_j (O1) or η_i = η_j (O2), re-checked each run after
rounding θ to 4 decimals (the stored data re-checks on its own).

Decision rules (stated before searching):

* O1, sparse: holds iff no pair with θ_i > θ_j and ŷ_i < ŷ_j (WOP violation, exact
  float64 comparison) is found AND an SOP witness (θ_i − θ_j ≥ 0.01, ŷ_i = ŷ_j exactly,
  every score within 30 of the top so that no underflow can fake the tie) is found; fails (counterexample) on a WOP violation; undecided if no witness is found.
* O1, softmax: pairs are compared where float64 can resolve them: θ_max − θ_j ≤ 700
  (no underflow of exp) and θ_i − θ_j > 1e-12·(1 + max|θ|) (softmax's relative error
  is a few ulps).  Holds iff no resolvable pair has ŷ_i ≤ ŷ_j, the log-space identity
  log ŷ_i − log ŷ_j = θ_i − θ_j holds to 1e-9·(1+|θ|) on every pair, and every float64
  tie (e.g. θ = (0, −800, −900): both ŷ underflow to 0) re-evaluated with mpmath at 60
  digits is strict.  Such ties are floating-point artefacts, reported, not counterexamples.
* O2, sparse: η with zeros and ties; a minimizer of the conditional risk is any θ with
  L(θ; η) = 0 (FY-2: L ≥ 0, = 0 ⟺ ŷ(θ) = η).  We build θ = ŷ⁻¹ on the support plus
  random scores below the threshold off it, certify L(θ; η) ≤ 1e-12 and ŷ(θ) = η to
  1e-12; holds iff every certified minimizer is WOP (η_i > η_j ⇒ θ_i ≥ θ_j) and some
  minimizer splits a tie (η_i = η_j, θ_i ≠ θ_j).
* O2, softmax: interior η (ties, no zeros): the minimizer log η + c (unique modulo
  shift; Hessian rank n − 1 checked) is certified by ‖softmax(θ*) − η‖ ≤ 1e-12, and GD
  from random starts must reproduce its order (strict gaps where η differs, gaps
  ≤ 1e-3 on ties).  η with zeros: the infimum is unattained (L > 0 at every iterate);
  along GD (a minimizing sequence) the coordinates with η_i > 0 approach
  log(η_i/η_max) (error at T below the error at T/4; convergence is slow) and those with η_i = 0 decrease without bound below them, so the
  limit in the extended reals, normalized by max θ = 0, is log(η/η_max) with −∞ on
  every zero: ties at zero are equal (both −∞).  Finite iterates may keep zero-η
  coordinates apart; that gap is reported.  SOP is read on that limit.
"""
from __future__ import annotations

import mpmath
import torch

from losses import get
from audit import Evidence, RunContext

DT = torch.float64


def variants(loss: str, ctx: RunContext) -> list[tuple[dict, dict]]:
    """(get-kwargs, witness extras) for the loss in this profile."""
    if loss == "softmax":
        return [({}, {})]
    if loss == "sparsemax":
        return [({}, {})]
    if loss == "entmax":
        alphas = (1.5, 2.5) if ctx.profile == "quick" else (1.25, 1.5, 2.5, 3.0)
        return [({"alpha": a}, {"alpha": a}) for a in alphas]
    if loss == "rankmax":
        return [({"k": k}, {"k": k}) for k in (1, 2)]
    raise ValueError(f"loss must be one of softmax, sparsemax, entmax, rankmax, got {loss!r}")


def _predictor(loss: str, params: dict):
    """The prediction map under test (tests monkeypatch this to break it)."""
    return get(loss, **params).predict


def _scores(n: int, B: int, g: torch.Generator) -> torch.Tensor:
    """Random θ of several kinds: unit scale, large spreads, near-ties, exact ties."""
    parts = [torch.randn(B, n, generator=g, dtype=DT),
             3 * torch.randn(B, n, generator=g, dtype=DT),
             300 * torch.randn(B, n, generator=g, dtype=DT)]
    base = torch.randn(B, n, generator=g, dtype=DT)
    near = base.clone()
    near[:, 1] = near[:, 0] - torch.rand(B, generator=g, dtype=DT) * 1e-9
    tie = base.clone()
    tie[:, 2] = tie[:, 3]
    targeted = torch.tensor([[2.0, 0.0, -1.0, -3.0, 0.5], [0.0, -800.0, -900.0, -5.0, -1.0],
                             [3.0, 2.5, 0.0, -0.5, -1.0]], dtype=DT)[:, :n]
    return torch.cat([*parts, near, tie, targeted])


def _pairs(theta: torch.Tensor):
    """Masks (B, n, n) of ordered pairs i ≠ j with θ_i > θ_j."""
    return theta[:, :, None] > theta[:, None, :]


# --------------------------------------------------------------------------------------
def _o1_sparse(loss: str, ctx: RunContext) -> Evidence:
    figures: dict = {}
    witness = None
    wop_violation = None
    g = ctx.generator(301)
    B = ctx.budget(2_000, 20_000)
    for params, extra in variants(loss, ctx):
        predict = _predictor(loss, params)
        n = 5
        theta = _scores(n, B, g)
        y = predict(theta)
        gt = _pairs(theta)
        eq = gt & (y[:, :, None] == y[:, None, :])
        lt = gt & (y[:, :, None] < y[:, None, :])
        key = ",".join(f"{k}={v}" for k, v in extra.items()) or loss
        figures[key] = {"cases": theta.shape[0], "ordered_pairs": int(gt.sum()), "sop_ties": int(eq.sum()),
                        "wop_violations": int(lt.sum())}
        if lt.any() and wop_violation is None:
            b, i, j = lt.nonzero()[0].tolist()
            wop_violation = {"theta": theta[b].tolist(), "i": i, "j": j, "yhat": y[b].tolist(), **extra}
        if witness is None and eq.any():
            for b, i, j in eq.nonzero().tolist()[:200]:
                th = torch.round(theta[b] * 1e4) / 1e4  # what results.json stores must re-check by itself
                yy = predict(th[None])[0]
                # a genuine tie, not a float artefact: a clear gap, and no score so far below the top
                # that exp() could underflow
                clear = th[i] - th[j] >= 0.01 and float(th.max() - th[j]) <= 30
                if clear and yy[i] == yy[j]:
                    witness = {"theta": th.tolist(), "i": i, "j": j, "yhat": yy.tolist(), **extra}
                    break
    detail = ("WOP: no ordered pair with yhat_i < yhat_j; not SOP: a pair with theta_i > theta_j and "
              "yhat_i == yhat_j exactly (float64); random scores (unit, x3, x300), near-ties, ties, targeted")
    if wop_violation is not None:
        return Evidence("numeric", "order-search", "fails", "WOP violated. " + detail, figures, wop_violation)
    if witness is None:
        return Evidence("numeric", "order-search", "undecided", "no SOP witness found. " + detail, figures)
    figures["sop_witness"] = witness
    return Evidence("numeric", "order-search", "holds", detail, figures)


def _o1_softmax(ctx: RunContext) -> Evidence:
    g = ctx.generator(302)
    B = ctx.budget(5_000, 50_000)
    n = 5
    predict = _predictor("softmax", {})
    theta = _scores(n, B, g)
    y = predict(theta)
    gt = _pairs(theta)
    d = theta[:, :, None] - theta[:, None, :]
    # float64 resolves a pair unless θ_j sits so far below the top that exp underflows
    # (θ_max − θ_j > 700) or the gap is below ~1e-12 relative
    below = theta.amax(-1, keepdim=True) - theta  # (B, n)
    scale = 1 + theta.abs().amax(-1)[:, None, None]
    resolvable = gt & (below[:, None, :] <= 700) & (d > 1e-12 * scale)
    bad = resolvable & (y[:, :, None] <= y[:, None, :])
    ls = torch.log_softmax(theta, -1)
    log_err = ((ls[:, :, None] - ls[:, None, :]) - d).abs() / (1 + theta.abs().amax(-1))[:, None, None]
    ties = gt & (y[:, :, None] == y[:, None, :])
    # float64 ties: re-evaluate in 60-digit arithmetic (a handful, not a hot path)
    mpmath.mp.dps = 60
    tie_idx = ties.nonzero().tolist()
    strict_mp = 0
    for b, i, j in tie_idx[:50]:
        th = [mpmath.mpf(float(v)) for v in theta[b]]
        z = mpmath.fsum(mpmath.exp(v) for v in th)
        strict_mp += int(mpmath.exp(th[i]) / z > mpmath.exp(th[j]) / z)
    checked = min(len(tie_idx), 50)
    figures = {"cases": theta.shape[0], "ordered_pairs": int(gt.sum()), "resolvable_pairs": int(resolvable.sum()),
               "violations_resolvable": int(bad.sum()), "max_rel_log_identity_error": float(log_err.max()),
               "float64_ties": len(tie_idx), "ties_rechecked_mpmath60": checked, "ties_strict_in_mpmath": strict_mp}
    detail = ("theta_i > theta_j => yhat_i > yhat_j on float64-resolvable pairs (theta_max - theta_j <= 700, gap > 1e-12 rel.); "
              "log-space identity log yhat_i - log yhat_j = theta_i - theta_j on all pairs; float64 ties (underflow) "
              "re-checked in 60-digit mpmath")
    if bad.any():
        b, i, j = bad.nonzero()[0].tolist()
        return Evidence("numeric", "order-search", "fails", detail, figures,
                        {"theta": theta[b].tolist(), "i": i, "j": j, "yhat": y[b].tolist()})
    ok = float(log_err.max()) <= 1e-9 and strict_mp == checked
    return Evidence("numeric", "order-search", "holds" if ok else "undecided", detail, figures)


# --------------------------------------------------------------------------------------
def _etas(n: int, B: int, g: torch.Generator, mass: float) -> torch.Tensor:
    """η with zeros and ties (rows in Δ, or in C_k for mass k: capped at 1)."""
    e = -torch.log(torch.rand(B, n, generator=g, dtype=DT))
    e[:, 3:] = 0.0  # two zeros (a tie at 0)
    e[:, 1] = e[:, 0]  # a positive tie
    e = e / e.sum(-1, keepdim=True)
    if mass == 1:
        return e
    # C_k: scale up and cap at 1 by water-filling (a few fixed-point rounds)
    p = e * mass
    for _ in range(20):
        p = p.clamp(max=1.0)
        free = (p < 1) & (p > 0)
        deficit = mass - p.sum(-1, keepdim=True)
        p = torch.where(free, p + deficit * p / (p * free).sum(-1, keepdim=True).clamp_min(1e-300), p)
    return p.clamp(max=1.0)


def _sparse_minimizers(loss: str, params: dict, eta: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """θ with ŷ(θ) = η: invert ŷ_i = f(θ_i − τ) on the support (τ = 0), random scores ≤ 0 off it
    (and ≥ 1 on η_i = 1 for rankmax)."""
    if loss == "entmax":
        a = params["alpha"]
        on = eta.clamp_min(0).pow(a - 1) / (a - 1)
    else:
        on = eta.clone()
    off = -3 * torch.rand(eta.shape, generator=g, dtype=DT)
    theta = torch.where(eta > 0, on, off)
    if loss == "rankmax":
        top = eta >= 1
        theta = torch.where(top, 1 + 3 * torch.rand(eta.shape, generator=g, dtype=DT), theta)
    return theta


def _o2_sparse(loss: str, ctx: RunContext) -> Evidence:
    g = ctx.generator(303)
    B = ctx.budget(500, 5_000)
    n = 5
    figures: dict = {}
    witness = None
    violation = None
    uncertified = 0
    for params, extra in variants(loss, ctx):
        mass = float(params.get("k", 1))
        obj = get(loss, **params)
        eta = _etas(n, B, g, mass)
        theta = _sparse_minimizers(loss, params, eta, g)
        yhat = obj.predict(theta)
        L = obj(theta, eta)
        cert = ((yhat - eta).abs().amax(-1) <= 1e-12) & (L.abs() <= 1e-12)
        uncertified += int((~cert).sum())
        th, et = theta[cert], eta[cert]
        gt_eta = et[:, :, None] > et[:, None, :]
        wop_bad = gt_eta & (th[:, :, None] < th[:, None, :])
        split = (et[:, :, None] == et[:, None, :]) & (th[:, :, None] > th[:, None, :])
        key = ",".join(f"{k}={v}" for k, v in extra.items()) or loss
        figures[key] = {"eta_cases": B, "certified_minimizers": int(cert.sum()),
                        "max_loss_at_minimizer": float(L.abs().max()), "wop_violations": int(wop_bad.sum()),
                        "tie_splits": int(split.sum())}
        if wop_bad.any() and violation is None:
            b, i, j = wop_bad.nonzero()[0].tolist()
            violation = {"theta": th[b].tolist(), "eta": et[b].tolist(), "i": i, "j": j, **extra}
        if split.any() and witness is None:
            for b, i, j in split.nonzero().tolist()[:100]:
                t4 = torch.round(th[b] * 1e4) / 1e4
                e4 = et[b]
                # re-certify the rounded θ against the η it now minimizes exactly: ŷ(θ4) (properness)
                y4 = obj.predict(t4[None])[0]
                if t4[i] > t4[j] and y4[i] == y4[j] and float(obj(t4[None], y4[None])[0].abs()) <= 1e-12:
                    witness = {"theta": t4.tolist(), "eta": y4.tolist(), "i": i, "j": j, **extra}
                    break
    figures["uncertified"] = uncertified
    detail = ("minimizers certified by L(theta; eta) <= 1e-12 and yhat(theta) = eta (FY-2/properness); WOP: "
              "eta_i > eta_j => theta_i >= theta_j on every certified minimizer; not SOP: a minimizer with "
              "eta_i = eta_j and theta_i > theta_j (witness eta = yhat(theta) of the stored, rounded theta)")
    if violation is not None:
        return Evidence("numeric", "bayes-minimizer-order", "fails", detail, figures, violation)
    if witness is None or uncertified:
        return Evidence("numeric", "bayes-minimizer-order", "undecided", detail, figures)
    figures["sop_witness"] = witness
    return Evidence("numeric", "bayes-minimizer-order", "holds", detail, figures)


def _o2_softmax(ctx: RunContext) -> Evidence:
    g = ctx.generator(304)
    B = ctx.budget(200, 2_000)
    n = 5
    obj = get("softmax")
    # interior η with ties
    e = -torch.log(torch.rand(B, n, generator=g, dtype=DT))
    e[:, 1] = e[:, 0]
    eta = e / e.sum(-1, keepdim=True)
    star = eta.log()
    cert = float((obj.predict(star) - eta).abs().max())
    p = eta
    H = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    ev = torch.linalg.eigvalsh(H)
    rank_ok = bool((ev[:, 1] > 1e-12).all() and (ev[:, 0].abs() < 1e-12).all())
    theta = torch.randn(B, n, generator=g, dtype=DT)
    for _ in range(ctx.budget(3_000, 6_000)):
        theta = theta - 2.0 * (torch.softmax(theta, -1) - eta)
    dth = theta[:, :, None] - theta[:, None, :]
    deta = star[:, :, None] - star[:, None, :]
    gt = eta[:, :, None] > eta[:, None, :]
    tie = (eta[:, :, None] == eta[:, None, :]) & ~torch.eye(n, dtype=torch.bool)
    strict_ok = bool((dth[gt] > 0.5 * deta[gt]).all())
    tie_gap = float(dth[tie].abs().max())
    # η with zeros (and a tie at zero): GD is a minimizing sequence; the infimum is not attained
    ez = -torch.log(torch.rand(B, n, generator=g, dtype=DT))
    ez[:, 3:] = 0
    ez = ez / ez.sum(-1, keepdim=True)
    th = torch.randn(B, n, generator=g, dtype=DT)
    T = ctx.budget(4_000, 20_000)
    mid_vals = None
    for t in range(1, T + 1):
        th = th - 2.0 * (torch.softmax(th, -1) - ez)
        if t == T // 4:
            mid_vals = (th - th.max(-1, keepdim=True).values).clone()
            mid_err = float(((mid_vals - (ez / ez.amax(-1, keepdim=True)).log())[ez > 0]).abs().max())
    Lz = obj(th, ez)
    norm = th - th.max(-1, keepdim=True).values
    pos = ez > 0
    target = (ez / ez.amax(-1, keepdim=True)).log()
    pos_err = float((norm - target)[pos].abs().max())
    zero_dec = bool((norm[~pos] < mid_vals[~pos]).all())
    zero_below = bool((norm[:, 3:].amax(-1) < norm[:, :3].amin(-1)).all())
    zero_gap = float((norm[:, 3] - norm[:, 4]).abs().max())
    figures = {"interior": {"cases": B, "max_abs_softmax_logeta_minus_eta": cert, "hessian_rank_n_minus_1": rank_ok,
                            "gd_order_strict": strict_ok, "gd_max_tie_gap": tie_gap},
               "with_zeros": {"cases": B, "steps": T, "min_loss_at_end": float(Lz.min()),
                              "max_err_positive_coords_vs_log_eta_ratio": pos_err, "same_at_quarter_horizon": mid_err,
                              "zero_coords_decreasing": zero_dec, "zero_coords_below_positive": zero_below,
                              "min_normalized_zero_coord_at_end": float(norm[~pos].max()),
                              "max_gap_between_tied_zero_coords_at_end": zero_gap}}
    ok = (cert <= 1e-12 and rank_ok and strict_ok and tie_gap <= 1e-3 and float(Lz.min()) > 0
          and pos_err < mid_err and zero_dec and zero_below)
    detail = ("interior eta: minimizer log(eta) + c unique mod shift, order reproduced by GD; eta with zeros: infimum "
              "unattained, limit of GD (normalized max theta = 0) is log(eta/eta_max) with -inf on zeros, so ties at 0 "
              "are equal in the extended reals; finite iterates keep a gap between tied zero coordinates (reported)")
    return Evidence("numeric", "bayes-minimizer-order", "holds" if ok else "fails", detail, figures,
                    None if ok else {"figures": figures})


def order_preservation(loss: str, reading: str, ctx: RunContext) -> Evidence:
    if reading not in ("O1", "O2"):
        raise ValueError(f"reading must be 'O1' or 'O2', got {reading!r}")
    if loss == "softmax":
        if reading == "O1":
            return _o1_softmax(ctx)
        from .threads import one_thread  # small tensors in a step loop

        with one_thread():
            return _o2_softmax(ctx)
    variants(loss, ctx)  # validates the name
    return _o1_sparse(loss, ctx) if reading == "O1" else _o2_sparse(loss, ctx)
