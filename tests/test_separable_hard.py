"""Two g's that the user-loss path (issue 23) once crashed on, pinned against independent truths.

* QUARTIC, g = p⁴/12 + p²/2 (g′ = p³/3 + p, a cubic), and LOGSQ, g = −log(1 − p) + p², are g's
  for which sympy verifies no closed-form (g′)⁻¹: the derivation keeps it implicit and says so.
  That text once printed "(g')^(-1)" as prose, against the marked-text rule (audit/markup.py),
  so FY-1 and FY-2 crashed.  Checked here with the runner's own rule (reports/runner.py
  ``text_problems``), and shown able to fail by planting the old text.
* LOGSQ has g′(1⁻) = ∞ (a pole 1/(1 − p)).  The generic map (losses/separable.py) bracketed τ
  from θ₍ₖ₎ − g′(1 − ε) ≈ −4.5·10¹⁵, so its fixed halvings left ŷ off by ~10⁻⁵ and the
  Jacobian quotient at a = ½ at 0.16665 instead of s(½) = 1/6.  The reference here is
  independent of the suite: g′(q) = t ⟺ 2q² − (2 + t)q + (t − 1) = 0 (multiply by 1 − q), whose
  smaller root is G(t) = ((2 + t) − √(t² − 4t + 12))/4 for t ≥ 1 = g′(0⁺) (checked below by
  g′(G(t)) = t), and τ by bisection of Σ G(θᵢ − τ) = 1, both in 60-digit mpmath.  The old
  bracket is planted back (``SeparableMap.lower_bound`` removed) to show the check catches it.
"""
import mpmath
import pytest
import sympy as sp
import torch

import proofs.user.fy as sym_fy
from audit.markup import problems
from audit.separable import SeparableLoss
from losses.separable import SeparableMap
from numerics.user.map import torch_map
from proofs.user.facts import derive
from reports.runner import text_problems

P = sp.Symbol("p", positive=True)
QUARTIC = SeparableLoss("quartic", P**4 / 12 + P**2 / 2, P)
LOGSQ = SeparableLoss("logsq", -sp.log(1 - P) + P**2, P)
MASKED = float("-inf")
# score vectors for LOGSQ: the crash's own, interior ones, two equal entries at a = ½ (θ = g′(½) = 3), a masked
# class, and scores that push one coordinate to within 10⁻³ … 10⁻⁶ of 1
THETAS = [[-24.46474275599566, 11.711324774881415], [0.5, 0.0, -0.3], [3.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
          [-7.0, 13.0, 0.25, 9.5, -2.0, 12.0], [5.0, MASKED, 0.0], [40.0, 0.0, 0.0], [1e3, 2.0, 0.0, -1.0],
          [1e6, 0.0, 1.0], [1e6, 1e6 - 1, 0.0]]
# |ŷ − reference| ≤ TOL·max(1, |θ|): τ itself is a float64 of the scores' size (θ ~ 10⁶: spacing 1.2·10⁻¹⁰)
TOL = 16 * 2.0**-52


def _reference(theta: list[float]) -> list[float]:
    """ŷ of LOGSQ at θ in 60-digit arithmetic (module docstring)."""
    with mpmath.workdps(60):
        def G(t):
            return mpmath.mpf(0) if t <= 1 else ((2 + t) - mpmath.sqrt(t * t - 4 * t + 12)) / 4

        th = [mpmath.mpf(t) for t in theta if t != MASKED]
        lo, hi = min(th) - 3, max(th) - 1      # every G ≥ ½ at lo (g′(½) = 3), every G = 0 at hi (g′(0⁺) = 1)
        for _ in range(260):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if sum(G(t - mid) for t in th) >= 1 else (lo, mid)
        y = iter(G(t - lo) for t in th)
        return [0.0 if t == MASKED else float(next(y)) for t in theta]


def _errors(fmap) -> list[float]:
    """max |ŷ − reference| per score vector, in units of TOL·max(1, |θ|)."""
    return [max(abs(a - b) for a, b in zip(fmap(torch.tensor([th], dtype=torch.float64))[0].tolist(), _reference(th)))
            / (TOL * max(1.0, *(abs(t) for t in th if t != MASKED))) for th in THETAS]


def _quotient(fmap, theta: list[float], step: float = 1e-6) -> float:
    """The central-difference Rayleigh quotient of the map's Jacobian along e₁ − e₂."""
    t = torch.tensor([theta], dtype=torch.float64)
    v = torch.zeros_like(t)
    v[0, 0], v[0, 1] = 1.0, -1.0
    return float(((fmap(t + step * v) - fmap(t - step * v)) / (2 * step) * v).sum() / 2)


def test_reference_inverse_is_the_inverse():
    with mpmath.workdps(60):
        for q in (mpmath.mpf("1e-9"), mpmath.mpf(1) / 3, mpmath.mpf(1) / 2, 1 - mpmath.mpf("1e-12")):
            t = 1 / (1 - q) + 2 * q
            assert abs(((2 + t) - mpmath.sqrt(t * t - 4 * t + 12)) / 4 - q) < mpmath.mpf("1e-40")


@pytest.mark.parametrize("loss", [QUARTIC, LOGSQ], ids=lambda l: l.name)
def test_implicit_inverse_text_is_marked(loss, monkeypatch):
    f = derive(loss)
    assert f["(g')^(-1)(t)"].value is None               # the case at hand: sympy verifies no inverse
    for fn in (sym_fy.conjugate_derivation, sym_fy.properties_derivation):
        ev = fn(loss).evidence("marked")
        assert ev.outcome == "holds" and text_problems(ev) == [], (fn.__name__, text_problems(ev))
        assert "$(g')^{-1}$ kept implicit" in ev.steps[0]
    assert problems(torch_map(f).inverse_how) == []
    # planted: the fact's text as it was (prose); the rule must catch it where the runner looks
    monkeypatch.setattr(sym_fy, "prose", lambda how: how)
    assert any("'^' in prose" in p for p in text_problems(sym_fy.conjugate_derivation(loss).evidence("planted")))


def _old_bracket(monkeypatch) -> None:
    """Planted: the bracket as it was, t_lo from r = k alone (θ₍ₖ₎ − g′(1 − ε))."""
    monkeypatch.setattr(SeparableMap, "lower_bound", lambda self, ranked, k: torch.full_like(ranked[..., :1], MASKED))


def test_map_matches_high_precision_reference(monkeypatch):
    fmap = torch_map(derive(LOGSQ))
    err = _errors(fmap)
    assert max(err) <= 1, list(zip(THETAS, err))
    near = [1e6, 0.0, 1.0]                                 # 1 − ŷ₁ ≈ 10⁻⁶, to float64's spacing near 1
    one_minus = 1 - float(fmap(torch.tensor([near], dtype=torch.float64))[0, 0])
    assert 1e-7 < one_minus < 1e-5 and abs(one_minus - (1 - _reference(near)[0])) <= 2e-16
    _old_bracket(monkeypatch)
    assert max(_errors(torch_map(derive(LOGSQ)))) > 1e6


def test_jacobian_quotient_is_s_of_a(monkeypatch):
    """Two equal entries a (θ = (g′(a), g′(a), g′(1 − 2a))): along e₁ − e₂ the Jacobian's
    quotient is s(a) = 1/g″(a) = 1/(2 + (1 − a)⁻²), by differences of the map (τ's accuracy)
    and by its closed-form backward."""
    fmap = torch_map(derive(LOGSQ))
    gp = lambda q: 1 / (1 - q) + 2 * q                     # noqa: E731
    for a in (0.5, 0.125, 2.0**-6):
        theta = [gp(a), gp(a)] + ([] if a == 0.5 else [gp(1 - 2 * a)])
        want = 1 / (2 + (1 - a) ** -2)
        assert abs(_quotient(fmap, theta) - want) <= 1e-8, a
        t = torch.tensor([theta], dtype=torch.float64, requires_grad=True)
        v = torch.zeros_like(t)
        v[0, 0], v[0, 1] = 1.0, -1.0
        (jv,) = torch.autograd.grad((fmap(t) * v).sum(), t)
        assert abs(float((jv * v).sum()) / 2 - want) <= 1e-12, a
    _old_bracket(monkeypatch)                              # the reported 0.1666487
    assert abs(_quotient(torch_map(derive(LOGSQ)), [3.0, 3.0]) - 1 / 6) > 1e-6


def test_fy2_leaves_out_labels_with_infinite_omega_and_never_passes_a_nan(monkeypatch):
    """g(1⁻) = ∞ makes L(θ; e_y) = +∞: those labels are counted and left out, not compared as nan; a nan that
    does reach a comparison is ours (it would pass every bound)."""
    import numpy as np

    from audit import RunContext, SuiteDefect
    from audit.builtin_losses import SPARSEMAX
    import numerics.user.fy as num_fy

    ev = num_fy.properties_check(LOGSQ, RunContext())
    assert ev.outcome == "holds" and ev.figures["labels_outside_dom"] == ev.figures["cases"] > 0
    assert num_fy.properties_check(SPARSEMAX, RunContext()).figures["labels_outside_dom"] == 0
    real = num_fy.conjugate
    monkeypatch.setattr(num_fy, "conjugate", lambda fmap, loss, th: real(fmap, loss, th) * np.nan)
    with pytest.raises(SuiteDefect, match="not finite"):
        num_fy.properties_check(SPARSEMAX, RunContext())
