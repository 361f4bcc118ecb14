"""Numeric DYN-2 of a user's separable loss on the capped simplex C_k (issue 23 §4): does GD on
separable data with a k-hot label reach *exactly* zero loss in finitely many steps?  The
simplex route (numerics/user/dyn.py) carried to C_k = {0 ≤ p ≤ 1, Σp = k}, on the capped
map (numerics/user/capped.py ``capped_map``, looked up at call time, where a planted
defect replaces it), the margin the suite derives on C_k (:func:`derived_margin`,
proofs/user/capped.py) and the simplex's GD step (``separable_dyn.training_gradient``).

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
(numerics/separable_capped_con.kkt_certificate, g′ and θ only): else ours, if it does an
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

from fractions import Fraction

import numpy as np
import sympy as sp
import torch

import proofs.user.capped as sym_cap
from audit import Evidence, RunContext, SuiteDefect
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from . import capped as num_cap
from . import dyn as num_dyn
from .capped_con import kkt_certificate
from .fy import conjugate, omega_np
from ..threads import one_thread

DT = torch.float64
CASES = ((1, 5), (2, 5), (3, 6))
KS = [k for k, _ in CASES]
LRS, STEPS, DEEP, UNIT = num_dyn.LRS, num_dyn.STEPS, num_dyn.DEEP, num_dyn.UNIT
DELTA, BAND, ROUND = num_dyn.DELTA, num_dyn.BAND, num_dyn.ROUND
SALT = 329
LABELS = {**num_dyn.LABELS, "cases_k": "$(k, n)$ pairs", "runs": "GD runs (all $(k, n)$)",
          "reached_zero": "runs at exactly zero loss (confirmed), per $k$ and step size",
          "most_steps_to_zero": "most steps to exactly zero loss, per $k$ and step size",
          "slope_last_decade": r"slope of $\log L$ against $\log t$ over the last decade, lr $\frac12$, per $k$ "
                               "(measured, no rate claimed)",
          "labelled_at_cap": r"iterates with a labelled class at the cap $\hat y_i = 1$ and $L > 0$, per $k$",
          "label_outside_dom": r"the loss compared ($\Omega(\mathbf 1_Y) = +\infty$: $L = +\infty$ at every $\theta$)"}


def derived_margin(loss: SeparableLoss) -> sp.Expr | None:
    """The margin on C_k the suite derives (proofs/user/capped.py), None for "none"."""
    m = sym_cap.capped_facts(loss)["margin"][0]
    return None if m == sp.oo else m


def step_threshold(theta: torch.Tensor, yhat: torch.Tensor, k: int, m: float) -> torch.Tensor:
    """lr_min(θ) per row (module docstring): max over pairs i < k ≤ j below the margin of
    (m − θᵢ + θⱼ)/(1 − ŷᵢ + ŷⱼ); a pair at the cap and at 0 is at the margin and left out."""
    num = m - (theta[:, :k, None] - theta[:, None, k:])
    den = 1 - yhat[:, :k, None] + yhat[:, None, k:]
    ratio = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), torch.full_like(num, float("-inf")))
    return ratio.flatten(1).amax(-1)


def _gap(theta: torch.Tensor, k: int) -> torch.Tensor:
    return theta[:, :k].amin(-1) - theta[:, k:].amax(-1)


def _at_least(gap: Fraction, m: sp.Expr) -> bool:
    """gap ≥ m decided exactly (sympy evaluates an irrational m to the digits it needs)."""
    return bool(sp.Rational(gap.numerator, gap.denominator) >= m)


def _exact_gap(row: list, k: int) -> Fraction:
    fr = [Fraction(float(v)) for v in row]
    return min(fr[:k]) - max(fr[k:])


def _starts(loss: SeparableLoss, k: int, n: int, ctx: RunContext) -> torch.Tensor:
    g1 = sp.lambdify(loss.x, derive(loss).g1, "numpy")
    q = np.asarray(DEEP)[:, None]
    target = np.concatenate([np.repeat(1 - (n - k) * q / k, k, 1), np.repeat(q, n - k, 1)], 1)
    with np.errstate(all="ignore"):
        deep = torch.as_tensor(np.asarray(g1(target), dtype=float) + np.zeros_like(target), dtype=DT)
    unit = 0.5 * torch.randn(UNIT, n, generator=ctx.generator(salt=SALT + 7 * k + n), dtype=DT)
    return torch.cat([unit, deep])


class _Loss:
    """L(θ; 1_Y) = Ω*(θ) + Ω(1_Y) − Σ_Y θᵢ from the map's ŷ, and its rounding allowance: 64 ε per
    unit of its terms, plus (max|θ| + |g′(k/n)|) ≥ |τ| times ŷ's mass defect (∂L/∂ŷᵢ = τ on the
    support).  Ω(1_Y) = +∞: L − Ω(1_Y) instead, −∞ exactly where ŷ = 1_Y (module docstring)."""

    def __init__(self, loss: SeparableLoss, k: int, n: int):
        self.loss, self.k, self.n = loss, k, n
        label = np.r_[np.ones(k), np.zeros(n - k)]
        omega = float(omega_np(loss, label))
        self.finite_label = bool(np.isfinite(omega))
        self.omega_y = omega if self.finite_label else 0.0
        grid = np.concatenate([[0.0, 1.0], np.linspace(1e-6, 1 - 1e-6, 101)])
        vals = np.abs(omega_np(loss, grid[:, None]))
        self.gmax = 1 + float(vals[np.isfinite(vals)].max())
        with np.errstate(all="ignore"):
            self.gk = abs(float(sp.lambdify(loss.x, derive(loss).g1, "numpy")(k / n)))

    def __call__(self, theta: torch.Tensor, yhat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, n = self.k, self.n
        value = conjugate(lambda _: yhat, self.loss, theta) + self.omega_y - theta[:, :k].sum(-1)
        big = theta.abs().amax(-1)
        tol = (ROUND * (1 + 2 * n * big + 2 * n * self.gmax + abs(self.omega_y))
               + 4 * (1 + big + self.gk) * (yhat.sum(-1) - k).abs())
        bad = ~torch.isfinite(value) | ~torch.isfinite(tol)
        if not self.finite_label:
            bad &= ~(_at_label(yhat, k) & torch.isneginf(value))
        if bool(bad.any()):
            b = int(bad.nonzero()[0])
            raise SuiteDefect(f"{self.loss.name}: the loss compared on C_k, {float(value[b])}, or its rounding "
                              f"allowance is not finite at k = {k}, theta = {theta[b].tolist()}")
        return value, tol


def _at_label(yhat: torch.Tensor, k: int) -> torch.Tensor:
    return (yhat[:, :k] == 1).all(-1) & (yhat[:, k:] == 0).all(-1)


def _compare(zero, theta, k, m, stats, where) -> None:
    """The map's zeros against γ ≥ m outside the band; SuiteDefect on a mismatch."""
    gap = _gap(theta, k)
    far = (gap - m).abs() > BAND * (1 + theta.abs().amax(-1))
    bad = far & (zero != (gap >= m))
    stats["compared"] += int(far.sum())
    stats["in_band"] += int((~far).sum())
    if bad.any():
        b = int(bad.nonzero()[0])
        raise SuiteDefect(f"{where}: the map's support says L {'=' if zero[b] else '>'} 0 at k = {k}, theta = "
                          f"{theta[b].tolist()} but its gap {float(gap[b]):.12g} is {'below' if zero[b] else 'past'} "
                          f"the margin {m:.12g}: the map, the margin and FY-3 on C_k disagree")


def _runs(loss, fmap, lossfn, starts, k, m, T, stats) -> dict:
    """GD at every lr of LRS from every start, one batch; the rules checked at every step."""
    B = starts.shape[0]
    theta = starts.repeat(len(LRS), 1)
    lr = torch.tensor(LRS, dtype=DT).repeat_interleave(B)
    y = torch.zeros_like(theta)
    y[:, :k] = 1.0
    first = torch.full((theta.shape[0],), -1, dtype=torch.long)
    losses, prev = [], None
    for t in range(T + 1):
        yhat = fmap(theta, k)
        zero = (yhat == y).all(-1)
        L, tol = lossfn(theta, yhat)
        if lossfn.finite_label and (zero & (L.abs() > tol)).any():
            b = int((zero & (L.abs() > tol)).nonzero()[0])
            raise SuiteDefect(f"{loss.name}: y-hat = 1_Y but the torch loss is {float(L[b]):.3g} at k = {k}, theta "
                              f"= {theta[b].tolist()}: the map and the loss disagree")
        if ((first >= 0) & ~zero).any():
            raise SuiteDefect(f"{loss.name}: GD left exactly zero loss at k = {k} (the gradient there is not 0)")
        if m is not None:
            _compare(zero, theta, k, m, stats, f"{loss.name}, k = {k}, GD step {t}")
        elif zero.any():
            rows = zero.nonzero().flatten()
            bad = kkt_certificate(loss, theta[rows].numpy(), yhat[rows].numpy(), k, {})[0]
            if bad.any():
                b = int(rows[int(np.argmax(bad))])
                raise SuiteDefect(f"{loss.name}: a zero of the map that fails the KKT conditions on C_k (no margin: "
                                  f"L > 0 at every finite theta): y-hat = 1_Y at k = {k}, theta = {theta[b].tolist()}")
            stats["underflow_zeros"] += len(rows)
        first = torch.where((first < 0) & zero, torch.full_like(first, t), first)
        stats["labelled_at_cap"][f"k = {k}"] += int(((yhat[:, :k] == 1).any(-1) & ~zero).sum())
        if prev is not None:
            cx = _monotone(prev, (theta, L, tol), k, t)
            if cx is not None:
                return {"fails": cx}
        losses.append(L)
        prev = (theta, L, tol, yhat, lr)
        theta = theta - lr[:, None] * num_dyn.training_gradient(yhat, y)
    return {"first": first, "loss": torch.stack(losses), "theta": theta, "lr": lr}


def _monotone(prev, now, k, t) -> dict | None:
    """L never rises; γ rises by at least lr (min_Y (1 − ŷᵢ) + min_{∉Y} ŷⱼ).  A counterexample, or None."""
    th0, L0, tol0, yhat0, lr = prev
    th1, L1, tol1 = now
    # L − Ω(1_Y) = −∞ at a zero (Ω(1_Y) = +∞) stays there: no rise (and not ∞ − ∞)
    rise = torch.where(torch.isneginf(L1), float("-inf"), L1 - L0 - tol0 - tol1)
    bound = _gap(th0, k) + lr * ((1 - yhat0[:, :k]).amin(-1) + yhat0[:, k:].amin(-1))
    short = bound - _gap(th1, k) - ROUND * (1 + th0.abs().amax(-1) + th1.abs().amax(-1))
    for what, bad in (("the loss rose", rise > 0),
                      ("the gap fell short of gap + lr (min_Y (1 - yhat_i) + min_notY yhat_j)", short > 0)):
        if bad.any():
            b = int(bad.nonzero()[0])
            return {"what": what, "k": k, "step": t, "lr": float(lr[b]), "theta_before": th0[b].tolist(),
                    "theta_after": th1[b].tolist(), "loss_before": float(L0[b]), "loss_after": float(L1[b])}
    return None


def _probes(loss, fmap, starts, k, m_expr, m, stats) -> dict | None:
    """One step at lr_min (1 ± DELTA) from each start with L > 0.  A counterexample, or None."""
    y = torch.zeros_like(starts)
    y[:, :k] = 1.0
    y0 = fmap(starts, k)
    live = ~(y0 == y).all(-1)
    th, yh, y = starts[live], y0[live], y[live]
    den = 1 - yh[:, :k, None] + yh[:, None, k:]
    below = (th[:, :k, None] - th[:, None, k:]) < m - BAND * (1 + th.abs().amax(-1))[:, None, None]
    if bool((below & (den <= 0)).any()):
        b = int((below & (den <= 0)).flatten(1).any(-1).nonzero()[0])
        raise SuiteDefect(f"{loss.name}: the map puts a labelled class at 1 and a negative at 0 whose scores are "
                          f"closer than the margin, k = {k}, theta = {th[b].tolist()}: the map and FY-3 disagree")
    lr_min = step_threshold(th, yh, k, m)
    out = {}
    for sign, want in ((1, True), (-1, False)):
        lr = lr_min * (1 + sign * DELTA)
        th1 = th - lr[:, None] * num_dyn.training_gradient(yh, y)
        zero = (fmap(th1, k) == y).all(-1)
        _compare(zero, th1, k, m, stats, f"{loss.name}, one step at lr_min (1 {'+' if sign > 0 else '-'} 1e-6)")
        far = ((_gap(th1, k) - m).abs() > BAND * (1 + th1.abs().amax(-1))).tolist()
        stats["probes"] += len(far)
        for b in [i for i, f in enumerate(far) if f]:
            exact = _at_least(_exact_gap(th1[b].tolist(), k), m_expr)
            stats["probes_decided"] += 1
            if exact != bool(zero[b]):
                raise SuiteDefect(f"{loss.name}: one-step probe at k = {k}, theta = {th1[b].tolist()}: the map says "
                                  f"L {'=' if zero[b] else '>'} 0, exact arithmetic says the gap is "
                                  f"{'past' if exact else 'below'} the margin")
            if exact != want and not out:
                out = {"what": f"one step at lr_min (1 {'+' if sign > 0 else '-'} 1e-6) "
                               f"{'did not reach' if want else 'reached'} zero loss",
                       "k": k, "theta0": th[b].tolist(), "lr": float(lr[b]), "theta1": th1[b].tolist()}
    return out or None


def _confirm_zeros(loss, theta, hit, k, m_expr, m, stats) -> torch.Tensor:
    """Runs whose zero is confirmed in exact arithmetic (within the band of m: not counted)."""
    out = torch.zeros_like(hit)
    for b in hit.nonzero().flatten().tolist():          # ≤ 24 rows per case, once
        row = theta[b].tolist()
        gap = _exact_gap(row, k)
        if abs(float(gap) - m) <= BAND * (1 + max(abs(v) for v in row)):
            stats["zeros_in_band"] += 1
            continue
        if not _at_least(gap, m_expr):
            raise SuiteDefect(f"{loss.name}: GD reached y-hat = 1_Y at k = {k}, theta = {row} whose exact gap is "
                              "below the margin")
        out[b] = True
    stats["zeros_exact"] += int(out.sum())
    return out


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
    stats = dict.fromkeys(("compared", "in_band", "zeros_exact", "zeros_in_band", "probes", "probes_decided",
                           "underflow_zeros"), 0)
    stats["labelled_at_cap"] = {f"k = {k}": 0 for k, _ in CASES}
    figures: dict = {"claim": claim, "margin": m, "runs": 0, "steps": T, "lrs": list(LRS), "starts": [UNIT, len(DEEP)],
                     "cases_k": [list(c) for c in CASES], "reached_zero": {}, "most_steps_to_zero": {}}
    falls, firsts, losses, outside = True, [], {}, False
    for k, n in CASES:
        starts = _starts(loss, k, n, ctx)
        B = starts.shape[0]
        figures["runs"] += B * len(LRS)
        lossfn = _Loss(loss, k, n)
        outside |= not lossfn.finite_label
        r = _runs(loss, fmap, lossfn, starts, k, m, T, stats)
        cx = r.get("fails")
        if cx is None and m is not None:
            cx = _probes(loss, fmap, starts, k, m_expr, m, stats)
        if cx is not None:
            figures.update(stats)
            return Evidence("numeric", "separable-gd", "fails", _DETAIL, figures, cx, labels=LABELS,
                            summary=f"GD on $C_k$ contradicts the derived dynamics: {cx['what']}")
        first = r["first"]
        confirmed = (_confirm_zeros(loss, r["theta"], first >= 0, k, m_expr, m, stats) if m is not None
                     else torch.zeros_like(first, dtype=torch.bool))
        if claim == "positive" and bool(confirmed.any()):   # a zero confirmed against a margin the check read
            b = int(confirmed.nonzero()[0])
            cx = {"what": "GD reached exactly zero loss", "k": k, "step": int(first[b]), "lr": float(r["lr"][b]),
                  "theta": r["theta"][b].tolist()}
            figures.update(stats)
            return Evidence("numeric", "separable-gd", "fails", _DETAIL, figures, cx, labels=LABELS,
                            summary=f"GD on $C_k$ reached exactly zero loss at $k = {k}$ after {int(first[b])} steps")
        per_lr = torch.where(confirmed, first, -1).reshape(len(LRS), B)
        for i, lr in enumerate(LRS):
            key = f"k = {k}, lr {lr:g}"
            figures["reached_zero"][key] = int((per_lr[i] >= 0).sum())
            figures["most_steps_to_zero"][key] = int(per_lr[i].max()) if (per_lr[i] >= 0).any() else None
        L = r["loss"]
        unit = (torch.arange(len(LRS) * B) % B) < UNIT
        falls &= bool((L[-1][unit] < L[0][unit] - 1e-12 * (1 + L[0][unit].abs())).all())
        losses[k] = (L, unit, B)
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
    ts = np.arange(T + 1)
    last = ts >= max(T // 10, 1)
    slopes = {}
    for k, (L, unit, B) in losses.items():
        mean = L[last][:, unit & (torch.arange(L.shape[1]) < B)].mean(-1).numpy()
        slopes[f"k = {k}"] = (float(np.polyfit(np.log(ts[last]), np.log(mean), 1)[0])
                              if not outside and (mean > 0).all() else None)
    first = max(float(L[0][u].max()) for L, u, _ in losses.values())
    final = max(float(L[-1][u].max()) for L, u, _ in losses.values())
    figures.update({"loss_first": first, "loss_last": final, "slope_last_decade": slopes})
    detail = _DETAIL
    if outside:
        figures["label_outside_dom"] = "L - Omega(1_Y)"
        detail = (r"$\Omega(\mathbf 1_Y) = +\infty$ ($g(1^-) = \infty$): $L = +\infty$ at every $\theta$, so the rules "
                  r"compare $L - \Omega(\mathbf 1_Y) = \Omega^*(\theta) - \sum_{i \in Y} \theta_i$. " + _DETAIL)
    if stats["underflow_zeros"]:
        return Evidence("numeric", "separable-gd", "undecided", "float64 underflow. " + detail, figures,
                        labels=LABELS, summary=f"{stats['underflow_zeros']} iterates at $\\hat y = \\mathbf 1_Y$ in "
                                               "float64, certified as underflow: a positive loss float64 cannot show")
    what = "the loss" if not outside else r"$L - \Omega(\mathbf 1_Y)$ ($L = +\infty$)"
    ks = ", ".join(map(str, losses))
    summary = (f"on $C_k$, $k \\in \\{{{ks}\\}}$: no GD iterate at zero loss ({figures['runs']} runs, {T} steps)"
               f"; {what} never rises and falls from at most {first:.3g} to at most {final:.3g}")
    return Evidence("numeric", "separable-gd", "holds" if falls else "undecided",
                    ("" if falls else "the loss did not fall beyond rounding. ") + detail, figures, labels=LABELS,
                    summary=summary)


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
