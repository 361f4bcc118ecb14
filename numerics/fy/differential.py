"""Differential test of our sparsemax / entmax against the deep-spin ``entmax`` package:
two implementations of the same maps, so a disagreement is a defect of one of them
(:class:`audit.SuiteDefect`), never a finding about the paper.  Not a registered check
(tests/test_numerics_fy.py runs it)."""
from __future__ import annotations

import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.members import member
from losses import get

from .common import ENTMAX_ALPHAS, LOSSES, SETTING_LABELS, outcome, single_thread, tex_num

LABELS = {
    **SETTING_LABELS,
    "cases": "score vectors compared",
    "max_abs_err_pred": r"max $|\hat y - \hat y_{\mathrm{entmax}}|$",
    "max_abs_err_loss": r"max loss difference relative to $\max(1, |L|)$",
    "max_abs_err_grad": "max gradient difference",
    "max_signed_loss_offset": "largest signed loss difference",
    "nonfinite_reference": "batches where the package returned non-finite values",
    "batches": "score batches",
    "bisect_iterations": "bisection iterations of the package",
}


@single_thread
def entmax_differential(loss: str, ctx: RunContext) -> Evidence:
    """Differential test against the deep-spin ``entmax`` package (v1.3): predictions,
    losses (class-index targets) and gradients agree to 1e-8 in float64.

    Conventions: the package's ``omega`` is the Tsallis *entropy* H(p) = (1 − Σp^α)/(α(α−1))
    = −Ω(p) and its loss is H(ŷ) + ⟨ŷ − e_y, θ⟩ = Ω*(θ) − θ_y + Ω(e_y) because Ω(e_y) = 0
    for Tsallis and for ½‖p‖² − ½: no constant offset; the figures report the largest
    signed difference so an offset would show.  α = 1.5 uses ``entmax15``; other α
    ``entmax_bisect`` with 80 iterations; sparsemax ``sparsemax``."""
    import entmax as em

    # the package's maps are the Tsallis family on Δ (sparsemax is α = 2): no dense member, no cap
    M = member(loss) if loss in LOSSES else None
    if M is None or M.dense or M.capped:
        raise ValueError(f"entmax_differential covers 'sparsemax' and 'entmax', got {loss!r}")
    g = ctx.generator(5)
    grid = [{"alpha": a} for a in ENTMAX_ALPHAS] if M.tsallis else [{}]
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
    for params in grid:
        a = params.get("alpha", 2.0)
        L = get(loss, **params)
        if not M.tsallis:
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
                theirs_p = ref_p(theta.clone(), dim=-1) if not M.tsallis or a == 1.5 else ref_p(theta.clone())
            th2 = theta.clone().requires_grad_(True)
            theirs_l = ref_l(th2, target)
            theirs_l.sum().backward()
            stats["cases"] += B
            finite = torch.isfinite(theirs_p).all() and torch.isfinite(theirs_l).all() and torch.isfinite(th2.grad).all()
            if not finite:
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
            if worst > 1e-8:
                i = int(((ours_p - theirs_p).abs().amax(-1) + (ours_l - theirs_l).detach().abs()).argmax())
                raise SuiteDefect(f"entmax_differential[{loss}] {params} {name} row {i} (seed {ctx.seed}): prediction/"
                                  f"loss/gradient differ from the entmax package by {ep:.3g}/{el:.3g}/{eg:.3g} > 1e-8")
    figures = {**stats, "settings": grid, "batches": [b[0] for b in batches], "bisect_iterations": 80}
    out = outcome(None, stats["nonfinite_reference"])
    detail = (
        f"predictions, losses and gradients of {stats['cases']} score vectors agree with the entmax package to "
        r"$10^{-8}$ (loss error relative to $\max(1, |L|)$); largest signed loss difference "
        f"{tex_num(stats['max_signed_loss_offset'])}: no constant offset")
    summary = (f"{stats['cases']} score vectors agree with the entmax package (max prediction error "
               f"{tex_num(stats['max_abs_err_pred'], 2)}, no loss offset)")
    if out == "undecided":
        detail = f"the entmax package returned non-finite values on {stats['nonfinite_reference']} batches"
        summary = detail
    return Evidence("numeric", f"entmax_differential[{loss}]", out, detail, figures, summary=summary, labels=LABELS)


__all__ = ["entmax_differential"]
