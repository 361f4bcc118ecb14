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
* O2: numerics/con/order_bayes.py (minimizers found by GD/Newton and by cvxpy, not built).
"""
from __future__ import annotations

import mpmath
import torch

from losses import get
from audit import Evidence, RunContext
from audit.members import member

# the labels are shared with order_bayes.py, which order.py calls: a module of their own, no cycle
from .order_labels import LABELS, _variant_label  # noqa: F401

DT = torch.float64


def variants(loss: str, ctx: RunContext) -> list[tuple[dict, dict]]:
    """(get-kwargs, witness extras) for the loss in this profile: a grid of the Tsallis α,
    two masses k of C_k, else the loss alone."""
    try:
        L = member(loss)
    except ValueError:
        raise ValueError(f"loss must be one of softmax, sparsemax, entmax, rankmax, got {loss!r}") from None
    if L.tsallis:
        alphas = (1.5, 2.5) if ctx.profile == "quick" else (1.25, 1.5, 2.5, 3.0)
        return [({"alpha": a}, {"alpha": a}) for a in alphas]
    if L.capped:
        return [({"k": k}, {"k": k}) for k in (1, 2)]
    return [({}, {})]


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
    detail = (r"WOP: no ordered pair with $\hat y_i < \hat y_j$; not SOP: a pair with $\theta_i > \theta_j$ and "
              r"$\hat y_i = \hat y_j$ exactly (float64); random scores (unit, $\times 3$, $\times 300$), near-ties, "
              "ties, targeted")
    labels = {**LABELS, **{k: _variant_label(k) for k in figures}}
    pairs = sum(f["ordered_pairs"] for f in figures.values())
    if wop_violation is not None:
        viol = sum(f["wop_violations"] for f in figures.values())
        summary = rf"WOP violated: {viol} of {pairs} ordered pairs have $\theta_i > \theta_j$ but $\hat y_i < \hat y_j$"
        return Evidence("numeric", "order-search", "fails", "WOP violated. " + detail, figures, wop_violation,
                        summary=summary, labels=labels)
    if witness is None:
        summary = f"no WOP violation in {pairs} ordered pairs, but no SOP witness (exact tie) found"
        return Evidence("numeric", "order-search", "undecided", "no SOP witness found. " + detail, figures,
                        summary=summary, labels=labels)
    figures["sop_witness"] = witness
    gap = witness["theta"][witness["i"]] - witness["theta"][witness["j"]]
    summary = (f"no WOP violation in {pairs} ordered pairs; SOP witness: $\\hat y_i = \\hat y_j$ with "
               f"$\\theta_i - \\theta_j = {gap:.3g}$")
    return Evidence("numeric", "order-search", "holds", detail, figures, summary=summary, labels=labels)


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
    detail = (r"$\theta_i > \theta_j \Rightarrow \hat y_i > \hat y_j$ on float64-resolvable pairs "
              r"($\theta_{\max} - \theta_j \le 700$, gap $> 10^{-12}$ relative); log-space identity "
              r"$\log\hat y_i - \log\hat y_j = \theta_i - \theta_j$ on all pairs; float64 ties (underflow) re-checked "
              "in 60-digit mpmath")
    summary = (f"{figures['violations_resolvable']} of {figures['resolvable_pairs']} resolvable pairs out of order; "
               f"log-identity error {figures['max_rel_log_identity_error']:.2g}; {strict_mp}/{checked} ties strict at 60 "
               "digits")
    if bad.any():
        b, i, j = bad.nonzero()[0].tolist()
        return Evidence("numeric", "order-search", "fails", detail, figures,
                        {"theta": theta[b].tolist(), "i": i, "j": j, "yhat": y[b].tolist()}, summary=summary,
                        labels=LABELS)
    ok = float(log_err.max()) <= 1e-9 and strict_mp == checked
    return Evidence("numeric", "order-search", "holds" if ok else "undecided", detail, figures, summary=summary,
                    labels=LABELS)


def order_preservation(loss: str, reading: str, ctx: RunContext) -> Evidence:
    if reading not in ("O1", "O2"):
        raise ValueError(f"reading must be 'O1' or 'O2', got {reading!r}")
    from .order_bayes import o2_softmax, o2_sparse
    from ..threads import one_thread  # small tensors in step loops

    vs = variants(loss, ctx)  # validates the name
    with one_thread():
        if member(loss).dense:  # full support: SOP is the claim, on its own route
            return _o1_softmax(ctx) if reading == "O1" else o2_softmax(ctx)
        return _o1_sparse(loss, ctx) if reading == "O1" else o2_sparse(loss, vs, ctx)
