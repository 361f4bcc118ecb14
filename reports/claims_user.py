"""The rows of a user's loss (issue 23 §4): ``FY-3[user:NAME]`` and ``FY-4[user:NAME]`` for any
:class:`~audit.separable.SeparableLoss` on the simplex, with the same runner, planted defects,
re-checker (reports/rechecks/user.py) and verdict words as the built-in rows.

FY-4 tests the author's stated Lipschitz constant of ∇L, else the derived one where the
bracket of proofs/separable.py is tight (or "none" where it is infinite), else the bracket
itself.  Planted: the constant 1 % low (or 10 for a loss with none, or 1 % below the bracket)
for the derivation; the map sharpened by 1.01 for the finite-difference search (it breaks the
agreement with s(a) at the construction: a crash, as a disagreement of our routes is).

The claim under test is the loss author's stated margin when they give one, else the margin
the suite derives (g′(1⁻) − g′(0⁺), or none); the symbolic route decides it against the
one-sided limits of g′, the numeric route probes the generic map around it.  Planted
defects are generic: the stated or derived margin 1 % high (or a finite margin claimed where
there is none) for the derivation; the map tempered by 1.01 (or, for a loss without margin,
flushing probabilities below 2⁻²⁴ to 0, as a float16 kernel does) for the numeric
route.  Planted truths run the same checks on sparsemax (margin 1, Martins & Astudillo 2016)
and softmax (no margin).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sympy as sp
import torch

import numerics.separable_checks as sep_checks
from audit.builtin_losses import SOFTMAX, SPARSEMAX
from audit.separable import SeparableLoss
from proofs.separable import derive, margin_derivation, smoothness_derivation

from audit import Evidence, SuiteDefect

from .claim import Check, Claim, Planted, patched

TEMPER = sp.Rational(101, 100)
FLUSH = 2.0**-24   # float16's smallest positive value


def _margin(loss: SeparableLoss) -> tuple[sp.Expr | None, bool]:
    """(the margin under test, None for "none"; whether the author stated it)."""
    if loss.margin is not None:
        return (None if loss.margin == sp.oo else loss.margin), True
    m = derive(loss)["margin"].value
    return (None if m == sp.oo else m), False


@contextmanager
def _wrapped_map(wrap) -> Iterator[None]:
    """The generic map of numerics/separable_map.py with a defect wrapped around it, where
    the numeric check takes it."""
    real = sep_checks.torch_map
    sep_checks.torch_map = lambda facts: wrap(real(facts))
    try:
        yield
    finally:
        sep_checks.torch_map = real


def _ours(ev: Evidence, stated: bool, what: str) -> Evidence:
    """A check of a value the suite derived (no statement of the author's): contradicting it
    means two of our own routes disagree (the derivation and the check), a defect of ours,
    never a finding about the loss."""
    if not stated and ev.outcome == "fails":
        raise SuiteDefect(f"{ev.check}: the {what} the suite derived is contradicted by its own check: {ev.summary}")
    return ev


def _tempered(fmap):
    return lambda theta, k=1: fmap(theta / float(TEMPER), k)


def _flushed(fmap):
    def call(theta, k=1):
        y = fmap(theta, k)
        y = torch.where(y < FLUSH, torch.zeros_like(y), y)
        return y / y.sum(-1, keepdim=True)
    return call


def _fy3(loss: SeparableLoss) -> Claim:
    margin, stated = _margin(loss)
    whose = "stated by the loss's author" if stated else "derived by the suite as $g'(1^-) - g'(0^+)$"
    if margin is None:
        statement = (f"{loss.name} has no separation margin ({whose}): $L(\\theta; e_y) > 0$ for every finite "
                     f"$\\theta$.")
        wrong = sp.Integer(10)
        sym_defect = "a finite margin 10 claimed for it"
        num_defect = Planted("probabilities below $2^{-24}$ flushed to 0 in the map (as a float16 kernel does)",
                             patch=lambda: _wrapped_map(_flushed))
    else:
        statement = (f"{loss.name} has separation margin $m = {sp.latex(margin)}$ ({whose}): "
                     f"$L(\\theta; e_y) = 0 \\iff \\theta_y \\ge \\max_{{j \\ne y}} \\theta_j + m$.")
        wrong = margin * TEMPER
        sym_defect = "the margin 1 % high"
        num_defect = patched("the map tempered by 1.01 (scores divided by 1.01)", lambda: _wrapped_map(_tempered),
                             resolution=True)
    truth_loss, truth_margin = (SOFTMAX, None) if margin is None else (SPARSEMAX, sp.Integer(1))
    checks = (
        Check("margin-derivation", "symbolic",
              lambda ctx: _ours(margin_derivation(loss, margin).evidence("margin-derivation"), stated, "margin"),
              planted=(Planted(sym_defect, run=lambda ctx: margin_derivation(loss, wrong).evidence("planted")),),
              truths=(Planted(f"{truth_loss.name}'s known margin ({'none' if truth_margin is None else 1})",
                              run=lambda ctx: margin_derivation(truth_loss, truth_margin).evidence("planted"),
                              truth=True),)),
        Check("margin-boundary", "numeric",
              lambda ctx: _ours(sep_checks.margin_boundary(loss, margin, ctx), stated, "margin"),
              planted=(num_defect,),
              truths=(Planted(f"{truth_loss.name}'s known margin", truth=True,
                              run=lambda ctx: sep_checks.margin_boundary(truth_loss, truth_margin, ctx)),)),
    )
    constants = {"margin": None if margin is None else repr(float(margin)), "tree": loss.tree()}
    return Claim("FY-3", f"user:{loss.name}", statement, checks, expected="verified",
                 note="a user's loss: no registered verdict", constants=constants)


def _sharpened(fmap):
    return lambda theta, k=1: fmap(theta * float(TEMPER), k)


def _fy4(loss: SeparableLoss) -> Claim:
    facts = derive(loss)
    lo, hi = facts["Lipschitz >= (n >= 3)"].value, facts["Lipschitz <="].value
    stated = loss.lipschitz is not None
    if stated:
        constant, whose = loss.lipschitz, "stated by the loss's author"
    else:
        tight = lo is not None and hi is not None and (lo == hi or sp.simplify(hi - lo) == 0)
        constant, whose = (lo if tight else None), "derived by the suite"
    sup = r"$\sup_\theta \lambda_{\max}(J_{\hat y}(\theta))$"
    if constant is None:
        statement = (f"$\\nabla_\\theta L$ of {loss.name} is Lipschitz with constant {sup} in "
                     f"$[{sp.latex(lo)}, {sp.latex(hi)}]$ ({whose}).")
        wrong, bound = lo * sp.Rational(99, 100), hi
    elif constant == sp.oo:
        statement = (f"$\\nabla_\\theta L$ of {loss.name} is not Lipschitz for $n \\ge 3$: {sup} $= \\infty$ "
                     f"({whose}).")
        wrong, bound = sp.Integer(10), sp.oo
    else:
        statement = (f"$\\nabla_\\theta L$ of {loss.name} is Lipschitz with constant {sup} $= {sp.latex(constant)}$ "
                     f"({whose}).")
        wrong, bound = constant * sp.Rational(99, 100), constant
    checks = (
        Check("lipschitz-bracket", "symbolic",
              lambda ctx: _ours(smoothness_derivation(loss, constant).evidence("lipschitz-bracket"), stated, "constant"),
              planted=(Planted(f"the constant claimed as ${sp.latex(wrong)}$",
                               run=lambda ctx: smoothness_derivation(loss, wrong).evidence("planted")),),
              truths=(Planted("sparsemax's known constant 1", truth=True,
                              run=lambda ctx: smoothness_derivation(SPARSEMAX, sp.Integer(1)).evidence("planted")),)),
        Check("jacobian-search", "numeric",
              lambda ctx: _ours(sep_checks.jacobian_search(loss, constant, ctx), stated, "constant"),
              planted=(patched("the map sharpened by 1.01 (scores times 1.01)", lambda: _wrapped_map(_sharpened),
                               resolution=True),),
              truths=(Planted("sparsemax's known constant 1", truth=True,
                              run=lambda ctx: sep_checks.jacobian_search(SPARSEMAX, sp.Integer(1), ctx)),)),
    )
    constants = {"bound": "inf" if bound in (None, sp.oo) else repr(float(bound)), "tree": loss.tree()}
    return Claim("FY-4", f"user:{loss.name}", statement, checks, expected="verified",
                 note="a user's loss: no registered verdict", constants=constants)


def user_claims(loss: SeparableLoss) -> list[Claim]:
    """The rows decided for ``loss`` (so far FY-3 and FY-4, on the simplex)."""
    derive(loss)                                   # refuses a g outside the conditions before any row runs
    if loss.domain != "simplex":
        return []
    return [_fy3(loss), _fy4(loss)]
