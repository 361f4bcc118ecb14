"""The DYN-2 row of a user's loss on the capped simplex C_k (issue 23 §4): ``DYN-2[user:NAME]``
for a :class:`~audit.separable.SeparableLoss` with domain "capped", through the same runner and
verdict words as the simplex row (reports/user/claims_dyn.py), as far as it goes generically.

The claim is the suite's derived prediction, carried to k-hot labels 1_Y (derivations by hand
in numerics/user/capped_dyn.py): L = 0 ⟺ every labelled score exceeds every unlabelled one
by m = g′(1⁻) − g′(0⁺), the same m for every k; with m finite one constant step
lr ≥ lr_min(θ₀) = max over pairs i ∈ Y, j ∉ Y below m of (m − θᵢ + θⱼ)/(1 − ŷᵢ + ŷⱼ) reaches
L = 0 and GD stays there; with none (g′(0⁺) = −∞: every negative stays positive, so at most
k − 1 labelled classes reach the cap; or g′(1⁻) = ∞: no labelled class reaches 1) L > 0 at
every step.  Either way every gap θᵢ − θⱼ (i ∈ Y, j ∉ Y) rises by lr (1 − ŷᵢ + ŷⱼ) ≥ 0, so
min_Y θ − max_{∉Y} θ never falls (it may stay put at the cap: a labelled class there has no
gradient), and L never rises.  A theorem for every admissible g, so a contradiction by our own
runs crashes the row (``_derived``), never refutes; numeric runs only: ``supported`` at most.

How it relates to the main registry: DYN-2[rankmax/lr=1/L] (verified) says lr = 1/L = 1 reaches
zero within ⌈1 − γ₀⌉ steps; DYN-2[rankmax] (refuted) claims every lr in (0, 1/L] and fails at
lr ½ (k = 2, n = 3, θ₀ = 0: L_t = (1/3)(1/4)^t).  This row claims neither: a step ≥ lr_min
reaches zero in one step (at θ₀ = 0, lr_min = m = 1: the lr = 1 row's first step), and steps
below lr_min are measured, not decided (rankmax at lr ½ reaches no exact zero here either).

Planted defects enter where a bug would, by a patch of the attribute the check looks up: the
GD step against labels smoothed by 10⁻³ within C_k (``separable_dyn.training_gradient``); with
a margin, the margin read 1 % high or low (``separable_capped_dyn.derived_margin``), the
one-step threshold without the negatives' fall (``separable_capped_dyn.step_threshold``) and
the capped map leaking 10⁻¹² of a rank-weighted point of C_k (no exact 0 or 1: the resolution);
without one, a finite margin 10 read for it and the capped map rounding entries within 2⁻²⁴ of
0 or 1 to them (a false zero: the resolution).  Planted truths: rankmax (margin 1, Kong et al.
2020) and the entropy on C_k (positive: ŷⱼ = e^{θⱼ − τ − 1} > 0 for every k; at k = 1 softmax).
"""
from __future__ import annotations

import sympy as sp
import torch

import numerics.user.capped as num_cap
import numerics.user.capped_dyn as num_cd
import numerics.user.dyn as num_dyn
from audit.builtin_losses import RANKMAX
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from ..claim import Check, Claim, Planted, patched, replacing
from .claims_capped import _flushed_to_ends
from .claims_capped_con import ENTROPY_CAPPED, _leaking
from .claims_con import _derived

OFF = sp.Rational(101, 100)
SMOOTH = 1e-3
SCOPE = (r"the capped simplex $C_k$, $\Omega(p) = \sum_i g(p_i)$ with the given $g$; numeric only: GD on free score "
         r"vectors with a $k$-hot label (one separable example, $x = 1$), $(k, n) \in \{" +
         ", ".join(f"({k}, {n})" for k, n in num_cd.CASES) + r"\}$, 8 starts each, lr $\in \{\frac12, 2, 8\}$, 60 "
         r"steps (quick) / 600 (full)")
_PROBES = r", and one step at $\mathrm{lr}_{\min}(1 \pm 10^{-6})$ from each start"
_NOT_COVERED = ("a user's loss: no registered verdict; numeric runs only (supported at most), k in {1, 2, 3}. Not "
                "covered: which constant steps below lr_min reach zero in more steps (not derived: rankmax at lr = 1 "
                "does within ceil(1 - gap0) steps, row DYN-2[rankmax/lr=1/L], verified; at lr 1/2 it never does, row "
                "DYN-2[rankmax], refuted for its wider reading 'every step in (0, 1/L]', which this row does not "
                "claim); a linear model on many examples; non-separable data; labels other than k-hot; step sizes "
                "other than those run; and, for a loss without margin, the rate (the measured slope of log L on log "
                "t is printed per k, not decided).")


def _statement(loss: SeparableLoss) -> tuple[str, str]:
    """("zero" or "positive", the row's statement)."""
    f = derive(loss)
    m = num_cd.derived_margin(loss)
    d0, d1 = (f[end].value for end in ("g'(0+)", "g'(1-)"))
    why = f"derived by the suite: $g'(0^+) = {sp.latex(d0)}$, $g'(1^-) = {sp.latex(d1)}$"
    gd = (r"GD $\theta \leftarrow \theta - \mathrm{lr}\,(\hat y(\theta) - \mathbf 1_Y)$ on a free score vector with a "
          r"$k$-hot label $\mathbf 1_Y$, every $k < n$")
    always = (r"at every step size each gap $\theta_i - \theta_j$ ($i \in Y$, $j \notin Y$) rises by "
              r"$\mathrm{lr}\,(1 - \hat y_i + \hat y_j) \ge 0$, so $\min_Y \theta - \max_{\notin Y} \theta$ never "
              r"falls, and $L$ never rises")
    if m is None:
        ends = []
        if d0 == -sp.oo:
            ends.append(r"$g'(0^+) = -\infty$ keeps every $\hat y_j > 0$ off $Y$, so at most $k - 1$ labelled classes "
                        r"reach the cap")
        if d1 == sp.oo:
            ends.append(r"$g'(1^-) = \infty$ keeps every $\hat y_i < 1$")
        return "positive", (
            f"On separable data GD keeps the {loss.name} loss on $C_k$ positive at every step, for every $k < n$, "
            f"constant step size and start ({why}: no margin; " + "; ".join(ends) + r"; hence $\hat y \ne \mathbf 1_Y$ "
            f"at every finite $\\theta$); for {gd}, {always}. No rate of decay is claimed.")
    return "zero", (
        f"On separable data GD drives the {loss.name} loss on $C_k$ to exactly zero in finitely many steps ({why}: "
        f"the margin $m = {sp.latex(m)}$ is finite, the same for every $k$): $L = 0$ iff "
        r"$\min_{i \in Y} \theta_i - \max_{j \notin Y} \theta_j \ge m$, and for " + gd + r", from every start with "
        r"$L > 0$ one constant step $\mathrm{lr} \ge \mathrm{lr}_{\min}(\theta_0) = \max_{i \in Y, j \notin Y,\ "
        r"\theta_i - \theta_j < m} (m - \theta_i + \theta_j)/(1 - \hat y_i + \hat y_j)$ reaches $L = 0$, where GD "
        r"stays, and a smaller one does not in that step; " + always + ".")


def _smoothed(yhat, y):
    """The GD step against labels smoothed by 10⁻³ within C_k, (1 − ε) 1_Y + ε k/n: a label bug."""
    k = y.sum(-1, keepdim=True)
    return yhat - ((1 - SMOOTH) * y + SMOOTH * k / y.shape[-1])


def _margin_patch(value):
    real = num_cd.derived_margin
    return replacing((num_cd, "derived_margin", lambda loss: value(real(loss))))


def _map_patch(wrap):
    real = num_cap.capped_map
    return replacing((num_cap, "capped_map", lambda facts: wrap(real(facts))))


def _without_fall(real):
    """lr_min with the negatives' ŷⱼ dropped from the denominators (a step that forgets they fall)."""
    def threshold(theta, yhat, k, m):
        return real(theta, torch.cat([yhat[:, :k], torch.zeros_like(yhat[:, k:])], -1), k, m)
    return threshold


def _defects(claim: str) -> tuple[Planted, ...]:
    smoothed = patched("the GD step against labels smoothed by $10^{-3}$ within $C_k$, $\\hat y - ((1 - 10^{-3}) "
                       "\\mathbf 1_Y + 10^{-3} k/n)$", replacing((num_dyn, "training_gradient", _smoothed)))
    if claim == "zero":
        return (patched("the margin the check reads 1 % high", _margin_patch(lambda m: m * OFF)),
                patched("the margin the check reads 1 % low", _margin_patch(lambda m: m / OFF)),
                patched("the one-step threshold without the negatives' fall, $\\max (m - \\theta_i + \\theta_j)/(1 - "
                        "\\hat y_i)$", replacing((num_cd, "step_threshold", _without_fall(num_cd.step_threshold)))),
                smoothed,
                patched("the capped map leaking $10^{-12}$ of a rank-weighted point of $C_k$ (no exact 0 or 1 left)",
                        _map_patch(_leaking), resolution=True))
    return (patched("a finite margin 10 read for it", _margin_patch(lambda m: sp.Integer(10))), smoothed,
            patched("the capped map rounding entries within $2^{-24}$ of 0 or 1 to them (a low-precision kernel)",
                    _map_patch(_flushed_to_ends), resolution=True))


def capped_dyn2_claim(loss: SeparableLoss) -> Claim:
    """DYN-2 of ``loss`` on C_k: the module docstring."""
    if not loss.capped:
        raise ValueError(f"loss must have domain 'capped', got {loss.domain!r}")
    claim, text = _statement(loss)
    m = num_cd.derived_margin(loss)
    check = Check("separable-gd", "numeric", lambda ctx: _derived(num_cd.capped_gd(loss, claim, ctx)),
                  planted=_defects(claim),
                  truths=(Planted("rankmax's finite-step zero on $C_k$ (margin 1, Kong et al. 2020)", truth=True,
                                  run=lambda ctx: num_cd.capped_gd(RANKMAX, "zero", ctx)),
                          Planted("the entropy's positive loss on $C_k$ ($\\hat y_j = e^{\\theta_j - \\tau - 1} > 0$; "
                                  "softmax at $k = 1$)", truth=True,
                                  run=lambda ctx: num_cd.capped_gd(ENTROPY_CAPPED, "positive", ctx))))
    constants = {"tree": loss.tree(), "claim": claim, "margin": None if m is None else repr(float(m)),
                 "k": num_cd.KS, "lrs": list(num_cd.LRS), "delta": num_cd.DELTA, "band": num_cd.BAND}
    return Claim("DYN-2", f"user:{loss.name}", text, (check,), expected="supported", note=_NOT_COVERED,
                 constants=constants, scope=SCOPE + (_PROBES if claim == "zero" else ""))
