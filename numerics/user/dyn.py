"""Numeric DYN-2 of a user's separable loss (issue 23 §4): does gradient descent on separable
data reach *exactly* zero loss in finitely many steps?  On the generic map of
numerics/user/map.py (looked up here at call time as ``torch_map``, where a planted
defect replaces it) and the margin the suite derives (looked up as :func:`derived_margin`).

One code path serves this route and the capped simplex's (numerics/user/capped_dyn.py): the
simplex is C_k = {0 ≤ p ≤ 1, Σp = k} at k = 1, e_c = 1_Y with Y = {c}.  The helpers here take
k, with Y the first k classes, the gap γ = min_{i∈Y} θᵢ − max_{j∉Y} θⱼ, the threshold
:func:`pair_threshold` and the loss L(θ; 1_Y) (derivations for every k in capped_dyn's
docstring); at k = 1 they are what follows.  What the routes do differently they hand over
as a :class:`Route`: the map, lr_min and the KKT certificate (each looked up where a planted
defect replaces it), and the gap rule each states.

Setting: a free score vector θ ∈ Rⁿ with label e_c (c = 0), i.e. a linear model on one
separable example with x = 1; GD θ ← θ − lr (ŷ(θ) − e_c) at a constant step lr.  What the
suite derives for every admissible g (the claim under test; reports/user/claims_dyn.py):

* the gap γ(θ) = θ_c − max_{j≠c} θ_j never falls: θ_c rises by lr (1 − ŷ_c) ≥ 0 and every
  θ_j falls by lr ŷ_j ≥ 0, so γ_{t+1} ≥ γ_t + lr (1 − ŷ_c(θ_t));
* L never rises, for every lr: along the step, d/dλ L(θ − λ lr ∇L(θ)) = −lr ⟨∇L(θ − λ lr ∇L),
  ∇L(θ)⟩ ≤ 0, since ∇L = ŷ − e_c has the sign pattern (≤ 0 at c, ≥ 0 elsewhere) at every θ
  (FY-2: ∇L = ŷ − y);
* L = 0 ⟺ ŷ = e_c (FY-2) ⟺ γ ≥ m with m = g′(1⁻) − g′(0⁺) when both ends are finite
  (FY-3; Blondel, Martins & Niculae, JMLR 2020, Prop. 6); with no margin no finite θ gives
  L = 0, so GD keeps L > 0 at every step, for every step size and start;
* with a finite margin, while L > 0 we have 1 − ŷ_c > 0, so one step of size
  lr ≥ lr_min(θ) = max_{j≠c} (m − θ_c + θ_j) / (1 − ŷ_c + ŷ_j) lifts every θ_c − θ_j to m
  (L = 0 after that step, and ∇L = 0 keeps GD there), and a smaller step leaves some
  θ_c − θ_j below m (L > 0 after that step).

Runs (float64, fixed seed ``ctx.generator(salt=SALT)``): n = 5; 8 starts, 4 unit ones
(0.5·N(0, 1)) and 4 deep ones θ = g′(ŷ*) at ŷ* = (1 − 4q, q, q, q, q), q ∈ ``DEEP`` (two
entries below 2⁻²⁴; for a sparse g these lie just short of the margin); GD at each step of
``LRS`` for ``STEPS`` steps (quick 60, full 600), all 24 runs in one batch; and, with a
finite margin, one step from each start with L > 0 at lr_min (1 ± 10⁻⁶).

Decision rules (stated before running):

* a zero is read off the map's support, ŷ = e_c exactly (FY-2); the torch loss
  Ω*(θ) + Ω(e_c) − θ_c (numerics/user/fy.py ``conjugate``) must be within rounding of 0 there;
* with a finite margin, every iterate's gap is compared with m: outside the band
  |γ − m| ≤ 10⁻⁹ (1 + max|θ|) (the map's resolution of τ) the float64 comparison is exact
  (the rounding of γ and of m is below 2⁻⁵¹ (max|θ| + |m|)), and each run's first zero and
  every one-step probe are re-compared in exact arithmetic (the float64 scores as fractions,
  m as sympy evaluates it); a zero of the map where γ < m, or none where γ ≥ m, is a disagreement of
  our own routes (``SuiteDefect``), and so is a zero GD leaves;
* with no margin, a zero is certified by numerics/user/con.py ``kkt_certificate`` (g′ and θ
  only): an uncertified zero is a defect of ours, a certified one a float64 underflow
  (undecided: a positive loss float64 cannot show; the generic map floors such entries at
  G(g′(10⁻³⁰⁰)), so there only a map that underflows, or a defect, gives a zero);
* Ω(e_c) = +∞ (g(1⁻) = ∞, e.g. g = −log(1 − p) + p²): L(θ; e_c) = +∞ at every θ, so L > 0 holds
  trivially and "L never rises" says nothing; the rules are applied to L − Ω(e_c) = Ω*(θ) − θ_c,
  finite at every θ, whose gradient ŷ − e_c is GD's step (the argument above holds for it
  unchanged); it is unbounded below (no slope of log L is measured) and −∞ exactly where
  ŷ = e_c (L = 0 there, which the map gives only by underflow or a defect: such a zero is
  certified as above).  Any other non-finite value of it is ours: :class:`SuiteDefect`;
* fails (the derived claim contradicted: reports/user/claims_dyn.py turns it into a crash):
  L rising beyond rounding (64 ε per unit of its terms, plus |τ| ≤ max|θ| + |g′(k/n)| times
  ŷ's mass defect, which moves L to first order: some ŷᵢ ≥ k/n and some ŷⱼ ≤ k/n, so
  θⱼ − g′(k/n) ≤ τ ≤ θᵢ − g′(k/n)), γ falling short of γ + lr (1 − ŷ_c) (the rule this route
  states; the C_k route's adds lr min_{j∉Y} ŷⱼ), a probe at lr_min (1 + 10⁻⁶)
  not at zero after its step or one at lr_min (1 − 10⁻⁶) at zero, or (no margin claimed) a
  zero confirmed against a margin the check reads;
* zero claimed: holds iff in addition at least one probe is decided (lands outside the band);
  positive claimed: holds iff no iterate is at zero and the unit starts' loss falls beyond
  rounding within the runs; undecided otherwise.

Measured, not decided: per step size the runs that reach zero and the most steps they take
(which steps below lr_min reach zero in more steps is not derived: sparsemax at lr < 1 and
1.5-entmax near its margin never do, rows DYN-2[sparsemax], DYN-2[entmax]); for a loss that
stays positive, the slope of log L against log t over the last decade at lr ½ (no rate is
derived for a general g; softmax's 1/t is row DYN-2[softmax]).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Callable, NamedTuple

import numpy as np
import sympy as sp
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from .con import kkt_certificate
from .fy import conjugate, omega_np
from .map import torch_map
from ..threads import one_thread

DT = torch.float64
N = 5
LRS = (0.5, 2.0, 8.0)
STEPS = (60, 600)                    # (quick, full)
DEEP = (1e-2, 1e-5, 1e-9, 1e-12)     # ŷ* of the negatives at the deep starts
UNIT = 4                             # unit starts, 0.5·N(0, 1)
DELTA = 1e-6                         # the one-step probes at lr_min (1 ± DELTA)
BAND = 1e-9                          # gaps within BAND (1 + max|θ|) of m are not compared
ROUND = 64 * torch.finfo(DT).eps     # rounding allowance of a loss value, per unit of its terms
SALT = 323
STATS = ("compared", "in_band", "zeros_exact", "zeros_in_band", "probes", "probes_decided", "underflow_zeros")
LABELS = {"claim": "claim under test", "margin": "margin $m$ the check reads", "runs": "GD runs",
          "steps": "GD steps per run", "lrs": "step sizes", "starts": "starts (unit, deep)",
          "compared": r"iterates whose gap was compared with $m$", "in_band": r"iterates within the band of $m$",
          "zeros_exact": "runs whose zero is confirmed in exact arithmetic",
          "zeros_in_band": r"runs at $\hat y = e_c$ within the band of $m$ (rounding onto the margin; not counted)",
          "probes": "one-step probes", "probes_decided": "probes outside the band",
          "reached_zero": "runs at exactly zero loss (confirmed), per step size",
          "most_steps_to_zero": "most steps to exactly zero loss, per step size",
          "underflow_zeros": "certified float64 underflow zeros",
          "loss_first": "largest loss at the unit starts", "loss_last": "largest loss at the last step (unit starts)",
          "slope_last_decade": r"slope of $\log L$ against $\log t$ over the last decade, lr $\frac12$ (measured, "
                               "no rate claimed)",
          "norm_last": r"largest $\lVert\theta\rVert$ at the last step, lr $\frac12$",
          "label_outside_dom": r"the loss compared ($\Omega(e_c) = +\infty$: $L = +\infty$ at every $\theta$)"}


class Route(NamedTuple):
    """What a route (the simplex, C_k) does its own way; the rest is one code path.  Built by its
    driver at call time, from the attributes where planted defects enter."""
    fmap: Callable          # ŷ(θ, k)
    threshold: Callable     # lr_min(θ, ŷ) at this k and margin
    certificate: Callable   # (θ, ŷ) as numpy → the rows that fail the KKT conditions
    negatives_fall: bool    # whether the gap rule counts the negatives' fall, lr min_{j∉Y} ŷⱼ (C_k's states it)


def derived_margin(loss: SeparableLoss) -> sp.Expr | None:
    """The margin the suite derives (proofs/user/facts.py), None for "none"."""
    m = derive(loss)["margin"].value
    return None if m == sp.oo else m


def training_gradient(yhat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∇_θ L(θ; y) = ŷ(θ) − y (FY-2, on Δ and on C_k): what every GD step here moves by."""
    return yhat - y


def pair_threshold(theta: torch.Tensor, yhat: torch.Tensor, k: int, m: float) -> torch.Tensor:
    """lr_min(θ) per row: the max over pairs i < k ≤ j of (m − θᵢ + θⱼ)/(1 − ŷᵢ + ŷⱼ), the least
    step after which every θᵢ − θⱼ is ≥ m (θᵢ rises by lr (1 − ŷᵢ), θⱼ falls by lr ŷⱼ); a pair at
    the cap and at 0 (0/0) is at the margin and left out; 0 at a zero."""
    num = m - (theta[:, :k, None] - theta[:, None, k:])
    den = 1 - yhat[:, :k, None] + yhat[:, None, k:]
    ratio = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), torch.full_like(num, float("-inf")))
    return ratio.flatten(1).amax(-1).clamp_min(0)


def step_threshold(theta: torch.Tensor, yhat: torch.Tensor, m: float) -> torch.Tensor:
    """lr_min(θ) = max_{j≠c} (m − θ_c + θ_j) / (1 − ŷ_c + ŷ_j): :func:`pair_threshold` at k = 1."""
    return pair_threshold(theta, yhat, 1, m)


def starts_on(loss: SeparableLoss, k: int, n: int, ctx: RunContext, salt: int) -> torch.Tensor:
    """(8, n): the unit starts 0.5·N(0, 1) and the deep ones θ = g′(ŷ*), ŷ* = 1 − (n − k)q/k on
    Y and q off it, q ∈ DEEP (k = 1: ŷ* = (1 − (n − 1)q, q, …, q))."""
    g1 = sp.lambdify(loss.x, derive(loss).g1, "numpy")
    q = np.asarray(DEEP)[:, None]
    target = np.concatenate([np.repeat(1 - (n - k) * q / k, k, 1), np.repeat(q, n - k, 1)], 1)
    with np.errstate(all="ignore"):
        deep = torch.as_tensor(np.asarray(g1(target), dtype=float) + np.zeros_like(target), dtype=DT)
    unit = 0.5 * torch.randn(UNIT, n, generator=ctx.generator(salt=salt), dtype=DT)
    return torch.cat([unit, deep])


def _starts(loss: SeparableLoss, ctx: RunContext) -> torch.Tensor:
    """(8, N): the simplex route's starts (module docstring)."""
    return starts_on(loss, 1, N, ctx, SALT)


def _gap(theta: torch.Tensor, k: int = 1) -> torch.Tensor:
    return theta[:, :k].amin(-1) - theta[:, k:].amax(-1)


def _exact_gap(row: list, k: int = 1) -> Fraction:
    fr = [Fraction(float(v)) for v in row]
    return min(fr[:k]) - max(fr[k:])


def _at_least(gap: Fraction, m: sp.Expr) -> bool:
    """gap ≥ m decided exactly (sympy evaluates an irrational m to the digits it needs)."""
    return bool(sp.Rational(gap.numerator, gap.denominator) >= m)


def _label(theta: torch.Tensor, k: int) -> torch.Tensor:
    y = torch.zeros_like(theta)
    y[:, :k] = 1.0
    return y


class _Loss:
    """The torch loss L(θ; 1_Y) = Ω*(θ) + Ω(1_Y) − Σ_Y θᵢ from the map's ŷ (numerics/user/fy.py
    ``conjugate``, handed the ŷ already computed) and its rounding allowance: 64 ε per unit of its
    terms, plus (max|θ| + |g′(k/n)|) ≥ |τ| times ŷ's mass defect (∂L/∂ŷᵢ = τ on the support).
    k = 1: L(θ; e_c) = Ω*(θ) + Ω(e_c) − θ_c."""

    def __init__(self, loss: SeparableLoss, k: int = 1, n: int = N):
        self.loss, self.k, self.n = loss, k, n
        # Ω(1_Y) = +∞ (g(1⁻) = ∞): L = +∞ at every θ, and L − Ω(1_Y) is compared instead (module docstring)
        omega = float(omega_np(loss, np.r_[np.ones(k), np.zeros(n - k)]))
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
        # ŷ off C_k by its mass defect d moves L by τ d to first order, and d is τ's rounding amplified by
        # 1/g″ at a clip end (numerics/user/con.py MASS_TOL)
        tol = (ROUND * (1 + 2 * n * big + 2 * n * self.gmax + abs(self.omega_y))
               + 4 * (1 + big + self.gk) * (yhat.sum(-1) - k).abs())
        bad = ~torch.isfinite(value) | ~torch.isfinite(tol)
        if not self.finite_label:       # at ŷ = 1_Y, L = 0: L − Ω(1_Y) = −∞ there, and only there
            bad &= ~(_at_label(yhat, k) & torch.isneginf(value))
        if bool(bad.any()):
            b = int(bad.nonzero()[0])
            raise SuiteDefect(f"{self.loss.name}: the loss compared, {float(value[b])}, or its rounding allowance, "
                              f"{float(tol[b])}, is not finite at k = {k}, theta = {theta[b].tolist()}: no rule can "
                              "compare it")
        return value, tol


def _at_label(yhat: torch.Tensor, k: int) -> torch.Tensor:
    return (yhat[:, :k] == 1).all(-1) & (yhat[:, k:] == 0).all(-1)


def _compare(zero: torch.Tensor, theta: torch.Tensor, k: int, m: float, stats: dict, where: str) -> None:
    """The map's zeros against γ ≥ m outside the band (module docstring); SuiteDefect on a mismatch."""
    gap = _gap(theta, k)
    far = (gap - m).abs() > BAND * (1 + theta.abs().amax(-1))
    bad = far & (zero != (gap >= m))
    stats["compared"] += int(far.sum())
    stats["in_band"] += int((~far).sum())
    if bad.any():
        b = int(bad.nonzero()[0])
        raise SuiteDefect(f"{where}: the map's support says L {'=' if zero[b] else '>'} 0 at k = {k}, theta = "
                          f"{theta[b].tolist()} but its gap {float(gap[b]):.12g} is {'below' if zero[b] else 'past'} "
                          f"the margin {m:.12g}: the map, the margin and FY-3 disagree")


def _runs(loss, route: Route, lossfn: _Loss, starts, k, m, T, stats) -> dict:
    """GD at every step of LRS from every start, one batch; the rules checked at every step."""
    B = starts.shape[0]
    theta = starts.repeat(len(LRS), 1)
    lr = torch.tensor(LRS, dtype=DT).repeat_interleave(B)
    y = _label(theta, k)
    first = torch.full((theta.shape[0],), -1, dtype=torch.long)
    losses, prev, at_cap = [], None, 0
    for t in range(T + 1):
        yhat = route.fmap(theta, k)
        zero = (yhat == y).all(-1)
        L, tol = lossfn(theta, yhat)
        if lossfn.finite_label and (zero & (L.abs() > tol)).any():
            b = int((zero & (L.abs() > tol)).nonzero()[0])
            raise SuiteDefect(f"{loss.name}: y-hat = 1_Y but the torch loss is {float(L[b]):.3g} (rounding "
                              f"{float(tol[b]):.2g}) at k = {k}, theta = {theta[b].tolist()}: the map and the loss "
                              "disagree")
        if ((first >= 0) & ~zero).any():
            raise SuiteDefect(f"{loss.name}: GD left exactly zero loss at k = {k} (the gradient there is not 0)")
        if m is not None:
            _compare(zero, theta, k, m, stats, f"{loss.name}, GD step {t}")
        elif zero.any():                # no margin: a float64 underflow if the KKT certificate accepts it
            rows = zero.nonzero().flatten()
            bad = route.certificate(theta[rows].numpy(), yhat[rows].numpy())
            if bad.any():
                b = int(rows[int(np.argmax(bad))])
                raise SuiteDefect(f"{loss.name}: a zero of the map that fails the KKT conditions on C_k (no margin: "
                                  f"L > 0 at every finite theta): y-hat = 1_Y at k = {k}, theta = "
                                  f"{theta[b].tolist()}; the map and the certificate disagree")
            stats["underflow_zeros"] += len(rows)
        first = torch.where((first < 0) & zero, torch.full_like(first, t), first)
        at_cap += int(((yhat[:, :k] == 1).any(-1) & ~zero).sum())
        if prev is not None:
            cx = _monotone(loss, prev, (theta, L, tol), t, k, route.negatives_fall)
            if cx is not None:
                return {"fails": cx, "at_cap": at_cap}
        losses.append(L)
        prev = (theta, L, tol, yhat, lr)
        theta = theta - lr[:, None] * training_gradient(yhat, y)
    return {"first": first, "loss": torch.stack(losses), "norm": prev[0].norm(dim=-1), "theta": theta, "lr": lr,
            "at_cap": at_cap}


def _monotone(loss, prev, now, t, k: int = 1, negatives_fall: bool = False) -> dict | None:
    """L never rises; γ rises by at least lr min_Y (1 − ŷᵢ), plus lr min_{j∉Y} ŷⱼ where the route states
    the negatives' fall (module docstring).  A counterexample, or None."""
    th0, L0, tol0, yhat0, lr = prev
    th1, L1, tol1 = now
    # L − Ω(1_Y) = −∞ at a zero (Ω(1_Y) = +∞) stays there: −∞ ≤ −∞ is no rise (and not ∞ − ∞ = nan)
    rise = torch.where(torch.isneginf(L1), float("-inf"), L1 - L0 - tol0 - tol1)
    by = (1 - yhat0[:, :k]).amin(-1)
    if negatives_fall:
        by = by + yhat0[:, k:].amin(-1)
    short = _gap(th0, k) + lr * by - _gap(th1, k) - ROUND * (1 + th0.abs().amax(-1) + th1.abs().amax(-1))
    bound = "gap + lr (min_Y (1 - yhat_i)" + (" + min_notY yhat_j)" if negatives_fall else ")")
    for what, bad in (("the loss rose", rise > 0), (f"the gap fell short of {bound}", short > 0)):
        if bad.any():
            b = int(bad.nonzero()[0])
            return {"what": what, "k": k, "step": t, "lr": float(lr[b]), "theta_before": th0[b].tolist(),
                    "theta_after": th1[b].tolist(), "loss_before": float(L0[b]), "loss_after": float(L1[b])}
    return None


def _probes(loss, route: Route, starts, k, m_expr, m, stats) -> dict | None:
    """One step at lr_min (1 ± DELTA) from each start with L > 0 (module docstring).  A counterexample, or None."""
    y = _label(starts, k)
    y0 = route.fmap(starts, k)
    live = ~(y0 == y).all(-1)                            # the starts with L > 0
    th, yh, y = starts[live], y0[live], y[live]
    den = 1 - yh[:, :k, None] + yh[:, None, k:]
    below = (th[:, :k, None] - th[:, None, k:]) < m - BAND * (1 + th.abs().amax(-1))[:, None, None]
    if bool((below & (den <= 0)).any()):
        b = int((below & (den <= 0)).flatten(1).any(-1).nonzero()[0])
        raise SuiteDefect(f"{loss.name}: the map puts a labelled class at 1 and a negative at 0 whose scores are "
                          f"closer than the margin, k = {k}, theta = {th[b].tolist()}: the map and FY-3 disagree")
    lr_min = route.threshold(th, yh)
    out = {}
    for sign, want in ((1, True), (-1, False)):
        lr = lr_min * (1 + sign * DELTA)
        th1 = th - lr[:, None] * training_gradient(yh, y)
        zero = (route.fmap(th1, k) == y).all(-1)
        _compare(zero, th1, k, m, stats, f"{loss.name}, one step at lr_min (1 {'+' if sign > 0 else '-'} 1e-6)")
        far = ((_gap(th1, k) - m).abs() > BAND * (1 + th1.abs().amax(-1))).tolist()
        stats["probes"] += len(far)
        for b in [i for i, f in enumerate(far) if f]:       # ≤ 8 rows, once: the exact re-comparison
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


def _confirm_zeros(loss, theta: torch.Tensor, hit: torch.Tensor, k: int, m_expr: sp.Expr, m: float,
                   stats: dict) -> torch.Tensor:
    """The runs whose zero is confirmed in exact arithmetic (their last iterate: at a zero the
    gradient is 0, so GD stays at its first one); a zero within the band of m is left
    unconfirmed (a float64 rounding onto the margin, as GD creeping up to it at lr ½ gives)."""
    out = torch.zeros_like(hit)
    for b in hit.nonzero().flatten().tolist():          # ≤ 24 rows, once
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


def gd_case(loss, route: Route, lossfn: _Loss, starts, k, claim, m_expr, m, T, stats) -> dict:
    """One label size k: the GD runs, with a margin the one-step probes, then each run's zero
    confirmed in exact arithmetic (with none, a zero is an underflow).  {"fails": a counterexample,
    …} or the runs with ``first``, each run's first step at a confirmed zero (−1: none)."""
    r = _runs(loss, route, lossfn, starts, k, m, T, stats)
    if "fails" not in r and m is not None:
        cx = _probes(loss, route, starts, k, m_expr, m, stats)
        if cx is not None:
            return {**r, "fails": cx}
    if "fails" in r:
        return r
    confirmed = (_confirm_zeros(loss, r["theta"], r["first"] >= 0, k, m_expr, m, stats) if m is not None
                 else torch.zeros_like(r["first"], dtype=torch.bool))
    if claim == "positive" and bool(confirmed.any()):   # a zero confirmed against a margin the check read
        b = int(confirmed.nonzero()[0])
        r["fails"] = {"what": f"GD reached exactly zero loss after {int(r['first'][b])} steps", "k": k,
                      "step": int(r["first"][b]), "lr": float(r["lr"][b]), "theta": r["theta"][b].tolist()}
    r["first"] = torch.where(confirmed, r["first"], -1)
    return r


def tally(figures: dict, first: torch.Tensor, B: int, key: str = "") -> None:
    """Runs at a confirmed zero and the most steps they took, per step size, into ``figures``."""
    per_lr = first.reshape(len(LRS), B)
    for i, lr in enumerate(LRS):
        figures["reached_zero"][f"{key}lr {lr:g}"] = int((per_lr[i] >= 0).sum())
        figures["most_steps_to_zero"][f"{key}lr {lr:g}"] = int(per_lr[i].max()) if (per_lr[i] >= 0).any() else None


def unit_falls(L: torch.Tensor, B: int) -> tuple[bool, torch.Tensor]:
    """(whether every unit start's loss fell beyond rounding, the unit starts' mask over the runs)."""
    unit = (torch.arange(len(LRS) * B) % B) < UNIT
    return bool((L[-1][unit] < L[0][unit] - 1e-12 * (1 + L[0][unit].abs())).all()), unit


def slope(L: torch.Tensor, unit: torch.Tensor, B: int, T: int, finite: bool) -> float | None:
    """The slope of log L against log t over the last decade at lr ½ (the first B runs), mean of the
    unit starts; None where L − Ω(1_Y) (Ω(1_Y) = +∞, unbounded below) is compared or L is not > 0."""
    ts = np.arange(T + 1)
    last = ts >= max(T // 10, 1)
    mean = L[last][:, unit & (torch.arange(len(LRS) * B) < B)].mean(-1).numpy()
    return float(np.polyfit(np.log(ts[last]), np.log(mean), 1)[0]) if finite and bool((mean > 0).all()) else None


def separable_gd(loss: SeparableLoss, claim: str, ctx: RunContext) -> Evidence:
    """DYN-2's numeric route for a user's loss (module docstring); ``claim`` is "zero" (a finite
    margin: exactly zero loss after finitely many steps) or "positive" (no margin)."""
    if claim not in ("zero", "positive"):
        raise ValueError(f"claim must be 'zero' or 'positive', got {claim!r}")
    with one_thread():              # a Python loop over GD steps on small tensors (numerics/threads.py)
        return _separable_gd(loss, claim, ctx)


def _separable_gd(loss: SeparableLoss, claim: str, ctx: RunContext) -> Evidence:
    m_expr = derived_margin(loss)
    m = None if m_expr is None else float(m_expr)
    route = Route(torch_map(derive(loss)), lambda th, yh: step_threshold(th, yh, m),
                  lambda th, yh: kkt_certificate(loss, th, yh, {}), False)
    T = ctx.budget(*STEPS)
    starts = _starts(loss, ctx)
    B = starts.shape[0]
    stats = dict.fromkeys(STATS, 0)
    figures: dict = {"claim": claim, "margin": None if m is None else m, "runs": B * len(LRS), "steps": T,
                     "lrs": list(LRS), "starts": [UNIT, len(DEEP)]}
    lossfn = _Loss(loss)
    r = gd_case(loss, route, lossfn, starts, 1, claim, m_expr, m, T, stats)
    figures.update(stats)
    cx = r.get("fails")
    if cx is not None:
        return Evidence("numeric", "separable-gd", "fails", _DETAIL, figures, cx, labels=LABELS,
                        summary=f"GD contradicts the derived dynamics: {cx['what']}")
    figures["reached_zero"], figures["most_steps_to_zero"] = {}, {}
    tally(figures, r["first"], B)
    if claim == "zero":
        ok = stats["probes_decided"] > 0
        summary = (f"one GD step at $\\mathrm{{lr}}_{{\\min}}(1 + 10^{{-6}})$ reaches exactly zero loss and one at "
                   f"$\\mathrm{{lr}}_{{\\min}}(1 - 10^{{-6}})$ does not ({stats['probes_decided']} probes, exact); "
                   f"runs at zero within {T} steps: " + ", ".join(f"{k}: {v}/{B}" for k, v in
                                                                figures["reached_zero"].items()))
        why = "" if ok else "no one-step probe decided (no margin read, or every probe within the band). "
        return Evidence("numeric", "separable-gd", "holds" if ok else "undecided", why + _DETAIL, figures,
                        labels=LABELS, summary=summary)
    return _positive(r, lossfn.finite_label, figures, stats, T, B)


def _positive(r: dict, finite: bool, figures: dict, stats: dict, T: int, B: int) -> Evidence:
    """No margin: holds iff no iterate is at zero and the unit starts' loss falls (module docstring)."""
    L = r["loss"]
    falls, unit = unit_falls(L, B)
    s = slope(L, unit, B, T, finite)
    figures.update({"loss_first": float(L[0][unit].max()), "loss_last": float(L[-1][unit].max()),
                    "slope_last_decade": s, "norm_last": float(r["norm"][:B].max())})
    detail = _DETAIL
    if not finite:
        figures["label_outside_dom"] = "L - Omega(e_c)"
        detail = (r"$\Omega(e_c) = +\infty$ ($g(1^-) = \infty$): $L = +\infty$ at every $\theta$, so the rules "
                  r"compare $L - \Omega(e_c) = \Omega^*(\theta) - \theta_c$, the part GD descends. " + _DETAIL)
    what = "the loss" if finite else r"$L = +\infty$ ($\Omega(e_c) = +\infty$); $L - \Omega(e_c)$"
    summary = (f"no GD iterate at zero loss ({B * len(LRS)} runs, {T} steps); {what} never rises and falls from "
               f"{figures['loss_first']:.3g} to {figures['loss_last']:.3g}"
               + ("" if s is None else f"; measured slope of $\\log L$ on $\\log t$ {s:.2f} (no rate claimed)"))
    return positive_verdict(falls, stats, detail, figures, LABELS, summary, "y")


def positive_verdict(falls: bool, stats: dict, detail: str, figures: dict, labels: dict, summary: str,
                     label: str) -> Evidence:
    """No margin: undecided on a certified float64 underflow (at ŷ = ``label``), else holds iff every
    unit start's loss fell beyond rounding."""
    if stats["underflow_zeros"]:
        return Evidence("numeric", "separable-gd", "undecided", "float64 underflow. " + detail, figures,
                        labels=labels, summary=f"{stats['underflow_zeros']} iterates at $\\hat y = {label}$ in "
                                               "float64, certified as underflow: a positive loss float64 cannot show")
    return Evidence("numeric", "separable-gd", "holds" if falls else "undecided",
                    ("" if falls else "the loss did not fall beyond rounding. ") + detail, figures, labels=labels,
                    summary=summary)


_DETAIL = (r"GD $\theta \leftarrow \theta - \mathrm{lr}\,(\hat y(\theta) - e_c)$ on free scores, $n = 5$, 8 starts "
           r"(4 at $0.5\,\mathcal N(0, 1)$, 4 at $\theta = g'(\hat y^*)$ with negatives $\hat y^*_j \in \{10^{-2}, "
           r"10^{-5}, 10^{-9}, 10^{-12}\}$), lr $\in \{\frac12, 2, 8\}$; a zero is $\hat y = e_c$ exactly (the torch "
           r"loss within rounding of 0 there), compared at every step with the gap against the derived margin outside "
           r"$10^{-9}(1 + \max|\theta|)$ and confirmed in exact arithmetic (no margin: KKT-certified); fails if the "
           r"loss rises, the gap falls short of $\gamma + \mathrm{lr}(1 - \hat y_c)$, or one step at "
           r"$\mathrm{lr}_{\min}(1 \pm 10^{-6})$, $\mathrm{lr}_{\min} = \max_{j \ne c} (m - \theta_c + \theta_j)/"
           r"(1 - \hat y_c + \hat y_j)$, lands on the wrong side of zero loss")


__all__ = ["separable_gd", "derived_margin", "training_gradient", "step_threshold", "pair_threshold", "Route",
           "starts_on", "gd_case", "tally", "unit_falls", "slope", "positive_verdict", "LRS", "STEPS", "DELTA", "BAND"]
