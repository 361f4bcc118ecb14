"""Planted defects and truths of the FY rows (reports/fy/claims.py) beyond the shared ones of
reports/planted.py.  Each defect enters where a slip of ours would: in the stated input
that a derivation or numeric check reads at call time (patched for the run), or in the map
of ``losses/``.

Symbolic (the stated forms the derivations of proofs/ decide):

* conjugates off by a constant (:data:`CONJUGATE_SLIPS`, in ``proofs.fy.conjugates.closed_form``):
  softmax logsumexp − 1 (the "+1" of Ω'(p) = log p + 1 carried into Ω*), sparsemax without
  the +½ of Ω = ½‖p‖² − ½, entmax with τ/(α(α−1)) for (1 + τ)/(α(α−1)), rankmax with
  sparsemax's +½;
* Hessian forms (:data:`HESSIAN_SLIPS`, in ``proofs.fy.hessians.stated_form``): softmax with
  the rank-one term's sign flipped, the identity on the support without centring
  (sparsemax, rankmax), entmax's ssᵀ not normalized by Σs;
* margins (:data:`MARGIN_SLIPS`, in ``proofs.fy.margins.STATED``): 1.01 for 1, 1/(α−1) + 1/10;
  softmax "margin 10";
* Lipschitz constants (:data:`LIPSCHITZ_SLIPS`, in ``proofs.fy.smoothness.STATED``): softmax ¼
  (the binary logistic σ' ≤ ¼), sparsemax / rankmax ½ (softmax's), entmax α/2 (the straight
  line between ½ and 1).

Numeric: the stated margin 1 % high (``numerics.fy.fy3_margin.MARGINS``), the stated constant
1 % low (``numerics.fy.fy4_smoothness.claimed_constant``); :func:`flushed_softmax` -- a softmax
kernel that flushes probabilities below a threshold to zero (as a low-precision kernel
does), which has a separation margin; and :func:`tempered_formula` -- the *stated* map at
temperature 1.01, in ``losses/`` and in the 50-digit reference of numerics/fy/fy1_conjugate.py
alike (the shared ``tempered`` defect changes ``losses/`` only, which FY-1 rightly reports
as a defect of ours; this one is a wrong claim).

Truths (FY-4[entmax[alpha>2]], refuted): the same checks on α ≤ 2, where the constant lies
in [½, 1]: the symbolic check on the α ≤ 2 range, the numeric one with the α grid of its
α > 2 search moved to α ∈ {1.5, 2}.  :func:`entmax_fy4_covers` is the scope of FY-4[entmax]'s
symbolic supremum as a predicate on counterexamples.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

import numpy as np
import sympy as sp
import torch
from torch import Tensor

import numerics.fy.fy3_margin as fy3
import numerics.fy.fy4_smoothness as fy4
import proofs.fy.conjugates as conjugates
import proofs.fy.hessians as hessians
import proofs.fy.margins as margins
import proofs.fy.smoothness as smoothness
from losses import regularizers as regs
from proofs.fy.api import closed_form
from proofs.kkt import ALPHA

from ..claim import Planted, patched, patched_truth, replacing
from ..planted import solve_patch
from ..rechecks.maps import np_predict

_A = ALPHA

#: loss -> (defect, Ω* closed form in block sums with the slip)
CONJUGATE_SLIPS: dict[str, tuple[str, Callable]] = {
    "softmax": (r"$\Omega^* = \operatorname{logsumexp}(\theta) - 1$ (the $+1$ of $\Omega'(p) = \log p + 1$ carried "
                r"into $\Omega^*$)",
                lambda loss, s: closed_form(loss, s) - 1),
    "sparsemax": (r"$\Omega^*$ without the $+\tfrac12$ of $\Omega = \tfrac12 \lVert p \rVert^2 - \tfrac12$",
                  lambda loss, s: closed_form(loss, s) - sp.Rational(1, 2)),
    "entmax": (r"$\Omega^*$ with $\tau/(\alpha(\alpha-1))$ in place of $(1 + \tau)/(\alpha(\alpha-1))$",
               lambda loss, s: closed_form(loss, s) - 1 / (_A * (_A - 1))),
    "rankmax": (r"$\Omega^*$ with sparsemax's $+\tfrac12$ carried to $C_k$",
                lambda loss, s: closed_form(loss, s) + sp.Rational(1, 2)),
}

#: loss -> (defect, Hessian entry form (δ_li, w_l, w_i, W) → H_li)
HESSIAN_SLIPS: dict[str, tuple[str, Callable]] = {
    "softmax": (r"$\operatorname{diag}(p) + pp^\top$ (rank-one term with the wrong sign)",
                lambda d, wl, wi, W: d * wl + wl * wi / W),
    "sparsemax": (r"$I_S$ without the centring $-\mathbf{1}\mathbf{1}^\top/|S|$", lambda d, wl, wi, W: d * wl),
    "entmax": (r"$\operatorname{diag}(s) - ss^\top$, not normalized by $\sum_j s_j$",
               lambda d, wl, wi, W: d * wl - wl * wi),
    "rankmax": (r"$I_F$ without the centring $-\mathbf{1}\mathbf{1}^\top/|F|$", lambda d, wl, wi, W: d * wl),
}

#: loss -> (defect, stated margin)
MARGIN_SLIPS: dict[str, tuple[str, object]] = {
    "softmax": ("softmax stated to have margin 10", 10),
    "sparsemax": ("margin 1.01 in place of 1", sp.Rational(101, 100)),
    "entmax": (r"margin $1/(\alpha-1) + 1/10$", 1 / (_A - 1) + sp.Rational(1, 10)),
    "rankmax": ("margin 1.01 in place of 1", sp.Rational(101, 100)),
}

#: loss -> (defect, stated constant)
LIPSCHITZ_SLIPS: dict[str, tuple[str, object]] = {
    "softmax": (r"constant $\tfrac14$ (the binary logistic bound $\sigma' \le \tfrac14$)", sp.Rational(1, 4)),
    "sparsemax": (r"constant $\tfrac12$ (softmax's)", sp.Rational(1, 2)),
    "entmax": (r"constant $\alpha/2$ (the straight line from softmax's $\tfrac12$ to sparsemax's 1)", _A / 2),
    "rankmax": (r"constant $\tfrac12$ (softmax's)", sp.Rational(1, 2)),
}


def conjugate_slip(loss: str) -> Planted:
    """The closed form of Ω* that FY-1 / FY-2's derivations decide, with the loss's slip."""
    slip, cand = CONJUGATE_SLIPS[loss]
    form = lambda l_, s_: cand(l_, s_) if l_ == loss else closed_form(l_, s_)  # noqa: E731
    return patched(slip, replacing((conjugates, "closed_form", form)))


def hessian_slip(loss: str) -> Planted:
    """The stated Hessian entry form that the hessian-psd derivation decides, with the loss's slip."""
    slip, form = HESSIAN_SLIPS[loss]
    return patched(slip, replacing((hessians, "stated_form", form)))


def margin_slip(loss: str) -> Planted:
    """The margin the FY-3 derivation reads as the row's (``proofs.fy.margins.STATED``), mistyped."""
    slip, value = MARGIN_SLIPS[loss]
    return patched(slip, replacing((margins, "STATED", {**margins.STATED, loss: value})))


def lipschitz_slip(loss: str) -> Planted:
    """The constant the FY-4 derivation reads as the row's (``proofs.fy.smoothness.STATED``), mistyped."""
    slip, value = LIPSCHITZ_SLIPS[loss]
    return patched(slip, replacing((smoothness, "STATED", {**smoothness.STATED, loss: value})))


def margin_table_typo(loss: str, factor: float = 1.01) -> Planted:
    """The numeric FY-3 check's table of stated margins with the loss's entry ``factor`` times
    the true one (the typo of issue 20: sparsemax 1.01)."""
    return patched(f"stated margin {factor:g} times the true one in the numeric check's table of margins",
                   replacing((fy3, "MARGINS", {**fy3.MARGINS, loss: scaled(fy3.MARGINS[loss], factor)})),
                   resolution=True)


def constant_typo(factor: float = 0.99) -> Planted:
    """The numeric FY-4 check's stated constants, ``factor`` times the true ones."""
    return patched(f"stated constant {factor:g} times the true one in the numeric check",
                   replacing((fy4, "claimed_constant", scaled(fy4.claimed_constant, factor))), resolution=True)


#: why FY-4[entmax[alpha>2]]'s derivation holds on its planted truth (the α ≤ 2 range)
GT2_SYMBOLIC_TRUTH = (r"the same derivation on $1 < \alpha \le 2$, where the constant $2^{\alpha-2}$ lies between "
                      r"$\tfrac12$ and 1")


def gt2_grid_truth() -> Planted:
    """The planted truth of FY-4[entmax[alpha>2]]'s numeric check: its α > 2 search (uniform
    θ on n = 3 against the upper end 1) on the α grid {1.5, 2}, where λ_max = 3^{α−2} ≤ 1."""
    return patched_truth(r"the same search (uniform $\theta$, $n = 3$, against the upper end 1) on the grid "
                         r"$\alpha \in \{1.5, 2\}$, where $\lambda_{\max} = 3^{\alpha-2} \le 1$",
                         replacing((fy4, "SMOOTH_ALPHAS", {**fy4.SMOOTH_ALPHAS, "gt2": (1.5, 2.0)})))


def entmax_fy4_covers(check: str, cx: Mapping) -> bool:
    """The scope of FY-4[entmax]'s symbolic supremum (proofs/fy/smoothness.py: two-point and
    uniform supports, 1 < α ≤ 2) as a predicate on a stored counterexample: its α in
    (1, 2], and its θ's support under α-entmax (numpy, reports/rechecks/maps.py) of at most
    two points, or uniform."""
    try:
        alpha = float(cx["alpha"])
        theta = np.asarray(cx["theta"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        return False
    if not (1 < alpha <= 2) or theta.ndim != 1 or theta.size < 1 or not np.isfinite(theta).all():
        return False
    p = np_predict("entmax", theta, alpha=alpha)
    p = p / p.sum()
    s = p[p > 1e-12]
    return bool(s.size <= 2 or float(s.max() - s.min()) <= 1e-9 * float(s.max()))


def scaled(claimed: Callable, factor: float) -> Callable:
    """A claimed number (a function of the check's parameters) scaled by ``factor``."""
    return lambda *args: factor * claimed(*args)


def flushed_softmax(threshold: float = 1e-6, *, resolution: bool = False) -> Planted:
    """softmax with probabilities below ``threshold`` set to 0 and the rest renormalized: in
    the simplex, equal to softmax to 1e-6, but e_y exactly once the others are small -- a
    map with a separation margin."""
    def wrap(solve, theta: Tensor) -> regs.Solution:
        sol = solve(theta)
        p = sol.dense(sol.values.dtype)
        p = torch.where(p < threshold, torch.zeros_like(p), p)
        sol.values = p / p.sum(-1, keepdim=True)
        sol.index = None
        return sol

    return patched(f"softmax flushing probabilities below {threshold:g} to 0 (renormalized)",
                   solve_patch("softmax", wrap), resolution=resolution)


def tempered_formula(loss: str, t: float = 1.01, *, resolution: bool = False) -> Planted:
    """The stated closed form at temperature ``t``: ŷ(θ/t) in ``losses/`` -- with Ω* and the
    loss computed consistently from it, Ω* = ⟨θ, ŷ⟩ − Ω(ŷ) -- and in FY-1's 50-digit reference,
    so that the claim itself ("the stated ŷ is the argmax, ∇L = ŷ − y") is wrong and the
    FY-1 / FY-2 checks must say ``fails``, not blame our implementation."""
    import numerics.fy.fy1_conjugate as fy1
    from numerics.fy.common import mp_objective

    @contextmanager
    def patch() -> Iterator[None]:
        orig = fy1.stated_mp

        def stated(loss_: str, theta, params: dict):
            z, _, _ = orig(loss_, theta, params)
            _, p, _ = orig(loss_, theta / t, params)
            return z, p, mp_objective(loss_, z, p, params)

        def solve_t(solve, theta: Tensor) -> regs.Solution:  # ŷ(θ/t), Ω* = ⟨θ − m, ŷ⟩ − Ω(ŷ) consistently
            sol = solve(theta / t)
            p = sol.dense(sol.conj_shifted.dtype)
            m = theta.max(-1, keepdim=True).values
            # Ω(ŷ) = ⟨(θ − m)/t, ŷ⟩ − Ω*_t, so ⟨θ − m, ŷ⟩ − Ω(ŷ) = Ω*_t + (1 − 1/t)⟨θ − m, ŷ⟩
            sol.conj_shifted = sol.conj_shifted + (1 - 1 / t) * ((theta - m).to(p.dtype) * p).sum(-1)
            sol.shift = m
            return sol

        fy1.stated_mp = stated
        try:
            with solve_patch(loss, solve_t)():
                yield
        finally:
            fy1.stated_mp = orig

    return patched(f"the stated {loss} map at temperature {t} (losses/ and the 50-digit reference)", patch,
                   resolution=resolution)


__all__ = ["tempered_formula", "CONJUGATE_SLIPS", "HESSIAN_SLIPS", "MARGIN_SLIPS", "LIPSCHITZ_SLIPS", "scaled",
           "flushed_softmax", "conjugate_slip", "hessian_slip", "margin_slip", "lipschitz_slip", "margin_table_typo",
           "constant_typo", "gt2_grid_truth", "GT2_SYMBOLIC_TRUTH", "entmax_fy4_covers"]
