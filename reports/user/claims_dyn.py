"""The DYN-2 row of a user's loss (issue 23 §4): ``DYN-2[user:NAME]`` for any
:class:`~audit.separable.SeparableLoss` on the simplex, through the same runner and verdict
words as the built-in rows, as far as it goes generically.

The claim under test is the suite's derived prediction (numerics/user/dyn.py): with a
finite margin m = g′(1⁻) − g′(0⁺), GD on a free score vector reaches exactly zero loss in
finitely many steps (from every start, one step of size ≥ lr_min(θ₀) does it, and GD stays
there); with no margin (g′(0⁺) = −∞, or g′(1⁻) = ∞) the loss stays positive at every step,
for every step size and start.  In both cases the gap never falls and the loss never rises.
It holds for every admissible g, so a contradiction by our own runs is a defect of ours: the
row crashes, never refutes.  Numeric runs only: the row is ``supported`` at most.

Not covered (said in the row's note): which constant steps below lr_min reach zero in more
steps (not derived; sparsemax at lr < 1 and 1.5-entmax near its margin never do, the main
rows DYN-2[sparsemax] and DYN-2[entmax] refute "every step in (0, 1/L]"), a linear model on
many examples, non-separable data, and the rate at which a loss without margin falls.

Planted defects are generic and enter where a bug would, by a patch of the attribute the
check looks up: the training gradient against labels smoothed by 10⁻³ (both kinds); with a
margin, the map leaking 10⁻¹² of softmax into every class (then it never reaches exactly
zero: the resolution), the margin the check reads 1 % high or 1 % low, and the one-step
threshold forgetting that the negatives fall; without one, the map flushing probabilities
below 2⁻²⁴ to 0 (a false zero: the resolution) and a finite margin 10 read for it.  Planted
truths: sparsemax (margin 1) and softmax (none) through the same route.
"""
from __future__ import annotations

import sympy as sp
import torch

import numerics.user.dyn as num_dyn
from audit.builtin_losses import SOFTMAX, SPARSEMAX
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from ..claim import Check, Claim, Planted, patched, replacing
from .claims_con import _derived
from .planted import _flushed, _leaking

OFF = sp.Rational(101, 100)
SMOOTH = 1e-3
#: the limits of the row's evidence (Claim.scope)
SCOPE = (r"the simplex, $\Omega(p) = \sum_i g(p_i)$ with the given $g$; numeric only: GD on free score vectors "
         r"(one separable example, $x = 1$), $n = 5$, 8 starts, lr $\in \{\frac12, 2, 8\}$, 60 steps (quick) / 600 "
         r"(full)")
_PROBES = r", and one step at $\mathrm{lr}_{\min}(1 \pm 10^{-6})$ from each start"
_NOT_COVERED = ("a user's loss: no registered verdict; numeric runs only (supported at most). Not covered: which "
                "constant steps below lr_min reach zero in more steps (not derived: sparsemax at lr < 1 and 1.5-entmax "
                "near its margin never do, rows DYN-2[sparsemax] and DYN-2[entmax]); a linear model on many examples; "
                "non-separable data; step sizes other than those run; and, for a loss without margin, the rate: the "
                "suite derives that the loss never rises, not how fast it falls, which depends on how fast "
                "(g')^(-1)(u) -> 0 as u -> -oo (softmax: about 1/t with ||theta|| about log t, row "
                "DYN-2[softmax]); the measured slope of log L on log t is printed, not decided.")


def _map_patch(wrap):
    """The generic map, as numerics/user/dyn.py looks it up, with a defect wrapped around it."""
    real = num_dyn.torch_map
    return replacing((num_dyn, "torch_map", lambda facts: wrap(real(facts))))


def _margin_patch(value):
    """The margin the check reads (numerics/user/dyn.py ``derived_margin``), replaced."""
    real = num_dyn.derived_margin
    return replacing((num_dyn, "derived_margin", lambda loss: value(real(loss))))


def _statement(loss: SeparableLoss) -> tuple[str, str]:
    """("zero" or "positive", the row's statement)."""
    f = derive(loss)
    m = num_dyn.derived_margin(loss)
    d0, d1 = (sp.latex(f[end].value) for end in ("g'(0+)", "g'(1-)"))
    why = f"derived by the suite: $g'(0^+) = {d0}$, $g'(1^-) = {d1}$"
    gd = (r"GD $\theta \leftarrow \theta - \mathrm{lr}\,(\hat y(\theta) - e_y)$ on a free score vector (a linear model "
          r"on one separable example, $x = 1$)")
    always = (r"at every step size the gap $\theta_y - \max_{j \ne y} \theta_j$ rises by at least "
              r"$\mathrm{lr}\,(1 - \hat y_y)$ and $L$ never rises")
    if sp.limit(loss.g, loss.x, 1, "-") == sp.oo:   # Ω(e_y) = +∞: L ≡ +∞, so the rules read L − Ω(e_y)
        always += (r" (here $g(1^-) = \infty$, so $L \equiv +\infty$ at every $\theta$, and the statements on $L$ are "
                   r"read on $L - \Omega(e_y) = \Omega^*(\theta) - \theta_y$)")
    if m is None:
        return "positive", (
            f"On separable data GD keeps the {loss.name} loss positive at every step, for every constant step size "
            f"and start ({why}: no margin, so $\\hat y \\ne e_y$ at every finite $\\theta$); for {gd}, {always}. No "
            f"rate of decay is claimed.")
    return "zero", (
        f"On separable data GD drives the {loss.name} loss to exactly zero in finitely many steps ({why}: the margin "
        f"$m = {sp.latex(m)}$ is finite): for {gd}, from every start with $L > 0$ one constant step "
        r"$\mathrm{lr} \ge \mathrm{lr}_{\min}(\theta_0) = \max_{j \ne y} (m - \theta_y + \theta_j)/(1 - \hat y_y + "
        r"\hat y_j)$ reaches $L = 0$, where GD stays, and a smaller one does not in that step; " + always + ".")


def _smoothed(yhat, y):
    """The training gradient against labels smoothed by 10⁻³, (1 − ε) y + ε/n: a label bug."""
    return yhat - ((1 - SMOOTH) * y + SMOOTH / y.shape[-1])


def _without_fall(real):
    """lr_min with the negatives' ŷ_j dropped from the denominator (a step that forgets they fall)."""
    def threshold(theta, yhat, m):
        return real(theta, torch.cat([yhat[:, :1], torch.zeros_like(yhat[:, 1:])], -1), m)
    return threshold


def _defects(claim: str) -> tuple[Planted, ...]:
    smoothed = patched("the training gradient against labels smoothed by $10^{-3}$, $\\hat y - ((1 - 10^{-3}) e_y + "
                       "10^{-3}/n)$", replacing((num_dyn, "training_gradient", _smoothed)))
    if claim == "zero":
        return (patched("the margin the check reads 1 % high", _margin_patch(lambda m: m * OFF)),
                patched("the margin the check reads 1 % low", _margin_patch(lambda m: m / OFF)),
                patched("the one-step threshold without the negatives' fall, $\\max_j (m - \\theta_y + \\theta_j)"
                        "/(1 - \\hat y_y)$",
                        replacing((num_dyn, "step_threshold", _without_fall(num_dyn.step_threshold)))),
                smoothed,
                patched("the map leaking $10^{-12}$ of softmax into every class (no exact zero left)",
                        _map_patch(_leaking), resolution=True))
    return (patched("a finite margin 10 read for it", _margin_patch(lambda m: sp.Integer(10))), smoothed,
            patched("the map flushing probabilities below $2^{-24}$ to 0 (as a float16 kernel does)",
                    _map_patch(_flushed), resolution=True))


def dyn2_claim(loss: SeparableLoss) -> Claim:
    """DYN-2 of ``loss`` (on the simplex): the module docstring."""
    claim, text = _statement(loss)
    m = num_dyn.derived_margin(loss)
    check = Check("separable-gd", "numeric", lambda ctx: _derived(num_dyn.separable_gd(loss, claim, ctx)),
                  planted=_defects(claim),
                  truths=(Planted("sparsemax's finite-step zero (margin 1)", truth=True,
                                  run=lambda ctx: num_dyn.separable_gd(SPARSEMAX, "zero", ctx)),
                          Planted("softmax's positive loss (no margin)", truth=True,
                                  run=lambda ctx: num_dyn.separable_gd(SOFTMAX, "positive", ctx))))
    constants = {"tree": loss.tree(), "claim": claim, "margin": None if m is None else repr(float(m)),
                 "lrs": list(num_dyn.LRS), "delta": num_dyn.DELTA, "band": num_dyn.BAND}
    return Claim("DYN-2", f"user:{loss.name}", text, (check,), expected="supported", note=_NOT_COVERED,
                 constants=constants, scope=SCOPE + (_PROBES if claim == "zero" else ""))
