"""Numeric DYN-2 of a user's separable loss on the capped simplex C_k (issue 23 §4): does GD on
separable data with a k-hot label reach *exactly* zero loss in finitely many steps?  The
simplex route (numerics/user/dyn.py) carried to C_k = {0 ≤ p ≤ 1, Σp = k}, on the capped
map (numerics/user/capped.py ``capped_map``, looked up at call time, where a planted
defect replaces it), the margin the suite derives on C_k (:func:`derived_margin`,
proofs/user/capped.py) and the one-step threshold :func:`step_threshold`.  The runs, rules
and probes are the simplex route's, which takes k (the simplex is C_k at k = 1): its GD step
``dyn.training_gradient``, loss ``dyn._Loss`` and ``dyn.gd_case``; what is this route's own is
the map, lr_min over pairs, the KKT certificate on C_k, the gap rule with the negatives' fall,
the cases (k, n) and their seeds, and the figures per k.

Setting: free scores θ ∈ Rⁿ, label y = 1_Y with Y the first k classes (k < n), GD
θ ← θ − lr (ŷ(θ) − 1_Y) at a constant lr; γ(θ) = min_{i∈Y} θᵢ − max_{j∉Y} θⱼ.  Derived by
hand for every admissible g and every k (the claim under test; reports/user/claims_capped_dyn.py):

* every pair gap rises: for i ∈ Y, j ∉ Y one step adds lr (1 − ŷᵢ + ŷⱼ) ≥ 0 to θᵢ − θⱼ
  (ŷ ∈ [0, 1]ⁿ), so γ never falls: γ' ≥ γ + lr (min_{i∈Y} (1 − ŷᵢ) + min_{j∉Y} ŷⱼ).  Unlike
  k = 1 the first term can be 0 (a labelled class at the cap ŷᵢ = 1 gets no gradient, DYN-1
  on C_k), so for a sparse g with a cap γ may stay put; it never falls;
* L never rises, at every lr: ∇L = ŷ − 1_Y is ≤ 0 on Y and ≥ 0 off Y at every θ, so
  d/dλ L(θ − λ lr ∇L(θ)) = −lr ⟨∇L(θ − λ lr ∇L), ∇L(θ)⟩ ≤ 0 (FY-2 on C_k: ∇L = ŷ − y);
* zero loss: L = 0 ⟺ ŷ = 1_Y (FY-2) ⟺ some τ has θᵢ − τ ≥ g′(1⁻) on Y and θⱼ − τ ≤ g′(0⁺)
  off Y ⟺ γ ≥ m = g′(1⁻) − g′(0⁺): every labelled score exceeds every unlabelled one by the
  margin, the same m for every k (FY-3 on C_k; Blondel, Martins & Niculae, JMLR 2020, Prop. 6);
* one step with a finite margin: after it θᵢ − θⱼ + lr (1 − ŷᵢ + ŷⱼ) ≥ m must hold for every
  pair, so L = 0 after the step iff lr ≥ lr_min(θ) = max over pairs with θᵢ − θⱼ < m of
  (m − θᵢ + θⱼ)/(1 − ŷᵢ + ŷⱼ).  Each such denominator is > 0: ŷᵢ = 1 and ŷⱼ = 0 together
  would put θᵢ − τ ≥ g′(1⁻) and θⱼ − τ ≤ g′(0⁺), so θᵢ − θⱼ ≥ m.  A pair already at the
  margin is left out (0/0 where ŷᵢ = 1, ŷⱼ = 0).  k = 1 gives the simplex's threshold.  Example
  (rankmax, k = 2, θ = (1, ½, 0, −1)): ŷ = (1, ¾, ¼, 0) (τ = −¼), pairs (2, 3): ½/½, (1, 3): 0,
  (1, 4): 0/0, so lr_min = 1 and θ − (ŷ − y) = (1, ¾, −¼, −1) has γ = 1 = m.  At θ = 0,
  ŷ = k/n: every denominator is 1, lr_min = m, for every k;
* no margin: g′(0⁺) = −∞ keeps every ŷⱼ > 0 (j ∉ Y), so Σ_Y ŷᵢ < k and ŷ ≠ 1_Y; g′(1⁻) = ∞
  keeps every ŷᵢ < 1.  Either way L > 0 at every finite θ, every k, lr and start.  With
  g′(0⁺) = −∞ and g′(1⁻) finite (the entropy p log p on C_k, g′(1⁻) = 1) up to k − 1
  labelled classes sit at the cap with zero gradient, yet every pair gap rises by at least
  lr ŷⱼ > 0: GD never reaches zero, and at k = 1 it is softmax's GD.  g(1⁻) = ∞ (then also
  g′(1⁻) = ∞) makes Ω(1_Y) = +∞ and L = +∞ at every θ: the rules compare L − Ω(1_Y) =
  Ω*(θ) − Σ_Y θᵢ, whose gradient is the same step (numerics/user/dyn.py does the same).

Runs (float64, seed ``ctx.generator(salt=SALT)``), for each (k, n) of :data:`CASES`: 4 unit
starts 0.5·N(0, 1) and 4 deep ones θ = g′(ŷ*), ŷ* = 1 − (n − k)q/k on Y and q off it, q ∈
``DEEP`` (a sparse g's just short of the margin); GD at each lr of ``LRS`` for ``STEPS`` steps,
one batch per case; with a finite margin one step at lr_min (1 ± 10⁻⁶) from each start with L > 0.

Decision rules (stated before running; those of numerics/user/dyn.py with γ as above):
a zero is ŷ = 1_Y exactly, the torch loss within rounding of 0 there; with a margin every
iterate's γ is compared with m outside the band |γ − m| ≤ 10⁻⁹(1 + max|θ|), and each run's zero
and each probe outside it re-compared exactly (float64 scores as fractions, m by sympy); a
mismatch, a zero GD leaves, or a pair capped and zeroed below the margin is a disagreement of
our routes (``SuiteDefect``).  With no margin a zero must pass the KKT certificate on C_k
(numerics/user/capped_con.py ``kkt_certificate``, g′ and θ only): else ours, if it does an
underflow (undecided).  fails (a crash, reports/user/claims_capped_dyn.py): L rising beyond
rounding, γ short of the bound above, a probe at lr_min (1 + 10⁻⁶) not at zero or one at
lr_min (1 − 10⁻⁶) at zero, or (no margin) a confirmed zero.  Zero claimed: holds iff in
addition some probe is decided; positive: iff no iterate is at zero and every unit start's
loss falls beyond rounding; undecided otherwise.  Measured, not decided: runs at zero and the
most steps they take per lr (which steps below lr_min reach zero is not derived: rankmax at
lr = 1 does within ⌈1 − γ₀⌉ steps, main row DYN-2[rankmax/lr=1/L]; at lr ½ from θ₀ = 0, k = 2,
n = 3, never, DYN-2[rankmax]), and without margin the slope of log L on log t per k.
"""
from __future__ import annotations

import sympy as sp

import proofs.user.capped as sym_cap
from audit import Evidence, RunContext
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from . import capped as num_cap
from . import dyn as num_dyn
from .capped_con import kkt_certificate
from ..threads import one_thread

CASES = ((1, 5), (2, 5), (3, 6))
KS = [k for k, _ in CASES]
LRS, STEPS, DEEP, UNIT = num_dyn.LRS, num_dyn.STEPS, num_dyn.DEEP, num_dyn.UNIT
DELTA, BAND = num_dyn.DELTA, num_dyn.BAND
SALT = 329
LABELS = {**num_dyn.LABELS, "cases_k": "$(k, n)$ pairs", "runs": "GD runs (all $(k, n)$)",
          "reached_zero": "runs at exactly zero loss (confirmed), per $k$ and step size",
          "most_steps_to_zero": "most steps to exactly zero loss, per $k$ and step size",
          "slope_last_decade": r"slope of $\log L$ against $\log t$ over the last decade, lr $\frac12$, per $k$ "
                               "(measured, no rate claimed)",
          "labelled_at_cap": r"iterates with a labelled class at the cap $\hat y_i = 1$ and $L > 0$, per $k$",
          "label_outside_dom": r"the loss compared ($\Omega(\mathbf 1_Y) = +\infty$: $L = +\infty$ at every $\theta$)"}
#: lr_min(θ) per row (module docstring), the attribute this route looks up (planted defects replace it)
step_threshold = num_dyn.pair_threshold


def derived_margin(loss: SeparableLoss) -> sp.Expr | None:
    """The margin on C_k the suite derives (proofs/user/capped.py), None for "none"."""
    m = sym_cap.capped_facts(loss)["margin"][0]
    return None if m == sp.oo else m


def capped_gd(loss: SeparableLoss, claim: str, ctx: RunContext) -> Evidence:
    """DYN-2's numeric route on C_k (module docstring); ``claim`` "zero" (a finite margin) or "positive"."""
    if claim not in ("zero", "positive"):
        raise ValueError(f"claim must be 'zero' or 'positive', got {claim!r}")
    with one_thread():
        return _capped_gd(loss, claim, ctx)


def _capped_gd(loss, claim, ctx) -> Evidence:
    fmap = num_cap.capped_map(derive(loss))
    m_expr = derived_margin(loss)
    m = None if m_expr is None else float(m_expr)
    T = ctx.budget(*STEPS)
    stats = dict.fromkeys(num_dyn.STATS, 0)
    stats["labelled_at_cap"] = {f"k = {k}": 0 for k, _ in CASES}
    figures: dict = {"claim": claim, "margin": m, "runs": 0, "steps": T, "lrs": list(LRS), "starts": [UNIT, len(DEEP)],
                     "cases_k": [list(c) for c in CASES], "reached_zero": {}, "most_steps_to_zero": {}}
    falls, losses, outside = True, {}, False
    for k, n in CASES:
        starts = num_dyn.starts_on(loss, k, n, ctx, SALT + 7 * k + n)
        B = starts.shape[0]
        figures["runs"] += B * len(LRS)
        lossfn = num_dyn._Loss(loss, k, n)
        outside |= not lossfn.finite_label
        route = num_dyn.Route(fmap, lambda th, yh: step_threshold(th, yh, k, m),
                              lambda th, yh: kkt_certificate(loss, th, yh, k, {})[0], True)
        r = num_dyn.gd_case(loss, route, lossfn, starts, k, claim, m_expr, m, T, stats)
        stats["labelled_at_cap"][f"k = {k}"] += r["at_cap"]
        cx = r.get("fails")
        if cx is not None:
            figures.update(stats)
            return Evidence("numeric", "separable-gd", "fails", _DETAIL, figures, cx, labels=LABELS,
                            summary=f"GD on $C_k$ contradicts the derived dynamics at $k = {k}$: {cx['what']}")
        num_dyn.tally(figures, r["first"], B, f"k = {k}, ")
        fell, unit = num_dyn.unit_falls(r["loss"], B)
        falls &= fell
        losses[k] = (r["loss"], unit, B)
    figures.update(stats)
    if claim == "zero":
        ok = stats["probes_decided"] > 0
        ks = ", ".join(map(str, losses))
        at8 = ", ".join(f"$k = {k}$: {figures['reached_zero'][f'k = {k}, lr 8']}/{losses[k][2]}" for k in losses)
        summary = (f"on $C_k$, $k \\in \\{{{ks}\\}}$: one GD step at $\\mathrm{{lr}}_{{\\min}}(1 + 10^{{-6}})$ "
                   f"reaches exactly zero loss and one at $\\mathrm{{lr}}_{{\\min}}(1 - 10^{{-6}})$ does not "
                   f"({stats['probes_decided']} probes, exact); runs at zero within {T} steps at lr 8: {at8}")
        why = "" if ok else "no one-step probe decided (every probe within the band). "
        return Evidence("numeric", "separable-gd", "holds" if ok else "undecided", why + _DETAIL, figures,
                        labels=LABELS, summary=summary)
    return _positive(figures, stats, losses, falls, outside, T)


def _positive(figures, stats, losses, falls, outside, T) -> Evidence:
    """No margin: holds iff no iterate is at zero and every unit start's loss falls."""
    slopes = {f"k = {k}": num_dyn.slope(L, unit, B, T, not outside) for k, (L, unit, B) in losses.items()}
    first = max(float(L[0][u].max()) for L, u, _ in losses.values())
    final = max(float(L[-1][u].max()) for L, u, _ in losses.values())
    figures.update({"loss_first": first, "loss_last": final, "slope_last_decade": slopes})
    detail = _DETAIL
    if outside:
        figures["label_outside_dom"] = "L - Omega(1_Y)"
        detail = (r"$\Omega(\mathbf 1_Y) = +\infty$ ($g(1^-) = \infty$): $L = +\infty$ at every $\theta$, so the rules "
                  r"compare $L - \Omega(\mathbf 1_Y) = \Omega^*(\theta) - \sum_{i \in Y} \theta_i$. " + _DETAIL)
    what = "the loss" if not outside else r"$L - \Omega(\mathbf 1_Y)$ ($L = +\infty$)"
    ks = ", ".join(map(str, losses))
    summary = (f"on $C_k$, $k \\in \\{{{ks}\\}}$: no GD iterate at zero loss ({figures['runs']} runs, {T} steps)"
               f"; {what} never rises and falls from at most {first:.3g} to at most {final:.3g}")
    return num_dyn.positive_verdict(falls, stats, detail, figures, LABELS, summary, r"\mathbf 1_Y")


_DETAIL = (r"GD $\theta \leftarrow \theta - \mathrm{lr}\,(\hat y(\theta) - \mathbf 1_Y)$ on free scores with a $k$-hot "
           r"label, $(k, n) \in \{(1, 5), (2, 5), (3, 6)\}$, 8 starts each (4 at $0.5\,\mathcal N(0, 1)$, 4 at "
           r"$\theta = g'(\hat y^*)$ with negatives $\hat y^*_j \in \{10^{-2}, 10^{-5}, 10^{-9}, 10^{-12}\}$), lr $\in "
           r"\{\frac12, 2, 8\}$; a zero is $\hat y = \mathbf 1_Y$ exactly, compared at every step with "
           r"$\gamma = \min_{i \in Y} \theta_i - \max_{j \notin Y} \theta_j$ against the derived margin outside "
           r"$10^{-9}(1 + \max|\theta|)$ and confirmed in exact arithmetic (no margin: KKT-certified on $C_k$); fails "
           r"if the loss rises, $\gamma$ rises by less than $\mathrm{lr}(\min_Y (1 - \hat y_i) + \min_{\notin Y} "
           r"\hat y_j)$, or one step at $\mathrm{lr}_{\min}(1 \pm 10^{-6})$, $\mathrm{lr}_{\min} = \max_{i \in Y, j "
           r"\notin Y} (m - \theta_i + \theta_j)/(1 - \hat y_i + \hat y_j)$ over the pairs below $m$, lands on the "
           r"wrong side of zero loss")


__all__ = ["capped_gd", "derived_margin", "step_threshold", "CASES", "KS"]
