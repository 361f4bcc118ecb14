"""Planted defects of the FY rows (reports/claims_fy.py) beyond the shared ones of
reports/planted.py: wrong claimed inputs of the FY derivations and numeric checks, each a
plausible slip of the same shape as the real input, and one wrong loss implementation.

Symbolic (a wrong candidate for the decision procedure, :func:`~reports.claim.wrong_derivation`):

* conjugates off by a constant (:data:`CONJUGATE_SLIPS`): softmax logsumexp − 1 (the "+1" of
  Ω'(p) = log p + 1 carried into Ω*), sparsemax without the +½ of Ω = ½‖p‖² − ½, entmax
  with τ/(α(α−1)) for (1 + τ)/(α(α−1)), rankmax with sparsemax's +½;
* Hessian forms (:data:`HESSIAN_SLIPS`): softmax with the rank-one term's sign flipped, the
  identity on the support without centring (sparsemax, rankmax), entmax's ssᵀ not
  normalized by Σs;
* margins (:data:`MARGIN_SLIPS`): 1.01 for 1, 1/(α−1) + 1/10; softmax "margin 10";
* Lipschitz constants (:data:`LIPSCHITZ_SLIPS`): softmax ¼ (the binary logistic σ' ≤ ¼),
  sparsemax / rankmax ½ (softmax's), entmax α/2 (the straight line between ½ and 1), and
  for α > 2 the α ≤ 2 formula 2^{α−2} carried over.

Numeric: the claimed constant 1 % low, the claimed margin 1 % high;
:func:`flushed_softmax` -- a softmax that flushes probabilities below 1e-6 to zero (as a
low-precision kernel does), which has a separation margin; and :func:`tempered_formula` --
the *stated* map at temperature 1.01, in ``losses/`` and in the 50-digit reference of
numerics/fy1_conjugate.py alike (the shared ``tempered`` defect changes ``losses/`` only,
which FY-1 rightly reports as a defect of ours; this one is a wrong claim).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import sympy as sp
import torch
from torch import Tensor

from losses import regularizers as regs
from proofs.fy import closed_form

from .claim import Planted, patched
from .planted import solve_patch

_A = sp.Symbol("alpha", positive=True)

#: loss -> (defect, candidate Ω* in block sums)
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

#: loss -> (defect, claimed margin for proofs.margins.margin, claimed margin for the numeric check)
MARGIN_SLIPS: dict[str, tuple[str, object]] = {
    "softmax": ("softmax claimed to have margin 10", 10),
    "sparsemax": ("margin 1.01 in place of 1", sp.Rational(101, 100)),
    "entmax": (r"margin $1/(\alpha-1) + 1/10$", 1 / (_A - 1) + sp.Rational(1, 10)),
    "rankmax": ("margin 1.01 in place of 1", sp.Rational(101, 100)),
}

#: loss -> (defect, claimed constant)
LIPSCHITZ_SLIPS: dict[str, tuple[str, object]] = {
    "softmax": (r"constant $\tfrac14$ (the binary logistic bound $\sigma' \le \tfrac14$)", sp.Rational(1, 4)),
    "sparsemax": (r"constant $\tfrac12$ (softmax's)", sp.Rational(1, 2)),
    "entmax": (r"constant $\alpha/2$ (the straight line from softmax's $\tfrac12$ to sparsemax's 1)", _A / 2),
    "rankmax": (r"constant $\tfrac12$ (softmax's)", sp.Rational(1, 2)),
    "entmax[alpha>2]": (r"upper bound $2^{\alpha-2}$: the $\alpha \le 2$ constant carried to $\alpha > 2$",
                        2 ** (_A - 2)),
}


def scaled(claimed: Callable, factor: float) -> Callable:
    """A claimed number (a function of the check's parameters) scaled by ``factor``."""
    return lambda *args: factor * claimed(*args)


def flushed_softmax(threshold: float = 1e-6) -> Planted:
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
                   solve_patch("softmax", wrap))


def tempered_formula(loss: str, t: float = 1.01) -> Planted:
    """The stated closed form at temperature ``t``: ŷ(θ/t) in ``losses/`` -- with Ω* and the
    loss computed consistently from it, Ω* = ⟨θ, ŷ⟩ − Ω(ŷ) -- and in FY-1's 50-digit reference,
    so that the claim itself ("the stated ŷ is the argmax, ∇L = ŷ − y") is wrong and the
    FY-1 / FY-2 checks must say ``fails``, not blame our implementation."""
    import numerics.fy1_conjugate as fy1
    from numerics.fy_common import mp_objective

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

    return patched(f"the stated {loss} map at temperature {t} (losses/ and the 50-digit reference)", patch)


__all__ = ["tempered_formula", "CONJUGATE_SLIPS", "HESSIAN_SLIPS", "MARGIN_SLIPS", "LIPSCHITZ_SLIPS", "scaled",
           "flushed_softmax"]
