"""The rows of a user's loss (issue 23 §4): ``FY-3[user:NAME]`` and ``FY-4[user:NAME]`` for any
:class:`~audit.separable.SeparableLoss` on the simplex, with the same runner, planted defects,
re-checker (reports/rechecks/user.py) and verdict words as the built-in rows.

FY-4 tests the author's stated Lipschitz constant of ∇L, else the derived one where the
bracket of proofs/user/facts.py is tight (or "none" where it is infinite), else the bracket
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

import numerics.user.checks as sep_checks
import numerics.user.fy as sep_fy
import proofs.user.con as sym_con
import proofs.user.fy as sym_fy
from audit.builtin_losses import SOFTMAX, SPARSEMAX
from audit.separable import SeparableLoss
from losses.separable import SeparableMap
from proofs.user.facts import derive, margin_derivation, smoothness_derivation

from ..claim import Check, Claim, Planted, patched, replacing
from .claims_capped import capped_fy_claims
from .claims_capped_con import capped_con_dyn_claims
from .claims_capped_dyn import capped_dyn2_claim
from .claims_capped_rank import capped_rank_claims
from .claims_con import _ours, con_dyn_claims
from .claims_dyn import dyn2_claim
from .claims_rank import rank_claims
from .planted import TEMPER, _flushed, _sharpened, _tempered

#: the limits every user row's evidence shares (Claim.scope): the simplex and the loss's own g
USER_SCOPE = r"the simplex, $\Omega(p) = \sum_i g(p_i)$ with the given $g$; symbolic: every $n$"


def _margin(loss: SeparableLoss) -> tuple[sp.Expr | None, bool]:
    """(the margin under test, None for "none"; whether the author stated it)."""
    if loss.margin is not None:
        return (None if loss.margin == sp.oo else loss.margin), True
    m = derive(loss)["margin"].value
    return (None if m == sp.oo else m), False


@contextmanager
def _wrapped_map(wrap) -> Iterator[None]:
    """The generic map of numerics/user/map.py with a defect wrapped around it, where
    the numeric check takes it."""
    real = sep_checks.torch_map
    sep_checks.torch_map = lambda facts: wrap(real(facts))
    try:
        yield
    finally:
        sep_checks.torch_map = real



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
                 note="a user's loss: no registered verdict", constants=constants,
                 scope=USER_SCOPE + (r"; numeric: $n \in \{2, 3, 6\}$ at growing gaps" if margin is None
                                     else r"; numeric: $n \in \{2, 3, 6\}$ on both sides of the margin"))


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
                 note="a user's loss: no registered verdict", constants=constants,
                 scope=USER_SCOPE + r"; numeric: random $\theta$, $n \in \{3, 5\}$, and two equal entries")


OFFSET = sp.Rational(1, 100)     # "Ω* off by a constant": per coordinate, so n/100 in all


def _fy1(loss: SeparableLoss) -> Claim:
    stated = loss.torch_map is not None
    whose = "the author's map" if stated else "the map the suite derives"
    statement = (f"For {loss.name}, $\\hat y_i = (g')^{{-1}}(\\operatorname{{clip}}(\\theta_i - \\tau, g'(0^+), "
                 f"g'(1^-)))$ ({whose}) is $\\operatorname{{argmax}}_{{p \\in \\Delta}} \\langle\\theta, p\\rangle - "
                 f"\\Omega(p)$ by the KKT conditions; $\\Omega^*(\\theta) = \\langle\\theta, \\hat y\\rangle - "
                 f"\\Omega(\\hat y)$ and $\\nabla\\Omega^* = \\hat y$.")
    real_term, real_conj, real_map = sym_fy.conjugate_term, sep_fy.conjugate, sep_fy.map_under_test
    dense = not derive(loss).sparse
    # a sparse map's entries are rarely in (0, 2^-24): flushing them is no defect to plant there
    flushed = (patched("probabilities below $2^{-24}$ flushed to 0 in the map (as a float16 kernel does)",
                       replacing((sep_fy, "map_under_test", lambda l, f: _flushed(real_map(l, f)))), resolution=True),
               ) if dense else ()
    tempered = patched("the map tempered by 1.01 (scores divided by 1.01)",
                       replacing((sep_fy, "map_under_test", lambda l, f: _tempered(real_map(l, f)))),
                       resolution=not dense)
    checks = (
        # it derives the suite's map: an author's map that the numeric route refutes is outside its scope
        Check("conjugate-kkt", "symbolic", lambda ctx: sym_fy.conjugate_derivation(loss).evidence("conjugate-kkt"),
              covers=lambda check, cx: not stated,
              planted=(patched("$\\Omega^*$ off by a constant ($10^{-2}$ per coordinate)",
                               replacing((sym_fy, "conjugate_term", lambda t, tau: real_term(t, tau) + OFFSET))),)),
        Check("certified-argmax", "numeric", lambda ctx: sep_fy.argmax_check(loss, ctx),
              planted=(tempered, *flushed,
                       patched("the map reversed (scores negated)",
                               replacing((sep_fy, "map_under_test",
                                          lambda l, f: (lambda m: lambda theta, k=1: m(-theta, k))(real_map(l, f))))),
                       patched("$\\Omega^*$ off by a constant ($10^{-2}$ per coordinate)",
                               replacing((sep_fy, "conjugate", lambda fm, l, th: real_conj(fm, l, th)
                                          + float(OFFSET) * th.shape[-1])))),
              truths=(Planted("softmax's closed form torch.softmax stated as the author's map", truth=True,
                              run=lambda ctx: sep_fy.argmax_check(STATED_SOFTMAX, ctx)),)),
    )
    return Claim("FY-1", f"user:{loss.name}", statement, checks, expected="verified",
                 note="a user's loss: no registered verdict", constants={"tree": loss.tree()},
                 scope=USER_SCOPE + r"; numeric: random $\theta$, $n \in \{2, 3, 6\}$")


def _softmax(theta, k=1):
    return torch.softmax(theta, -1)


STATED_SOFTMAX = SeparableLoss("softmax-stated", SOFTMAX.g, SOFTMAX.x, torch_map=_softmax)


def _rank_one_flipped(self, y, v):
    """SeparableMap.jvp with the rank-one term's sign flipped: diag(s) v + s sᵀv/Σs."""
    return 2 * _diag(self, y, v) - _REAL_JVP(self, y, v)


def _diag(self, y, v):
    inside = (y > 0) & (y < 1)
    s = torch.where(inside, self.weight(torch.where(inside, y, 0.5)), torch.zeros_like(y))
    return s * v


_REAL_JVP = SeparableMap.jvp


def _fy2(loss: SeparableLoss) -> Claim:
    statement = (f"For {loss.name}: $L(\\theta; y) \\ge 0$; $L = 0 \\iff y = \\hat y(\\theta)$; $L$ is convex in "
                 f"$\\theta$; $\\nabla_\\theta L = \\hat y(\\theta) - y$; $L(\\theta + c\\mathbf{{1}}; y) = "
                 f"L(\\theta; y)$.")
    real_entry, real_conj = sym_fy.jacobian_entry, sep_fy.conjugate
    checks = (
        Check("bregman-hessian", "symbolic", lambda ctx: sym_con.fy2_derivation(loss).evidence("bregman-hessian"),
              planted=(patched("the Jacobian's rank-one term with the wrong sign ($+ss^\\top/\\sum s$)",
                               replacing((sym_fy, "jacobian_entry",
                                          lambda si, sj, tot, same: real_entry(si, sj, tot, same)
                                          + 2 * si * sj / tot))),)),
        Check("loss-properties", "numeric", lambda ctx: sep_fy.properties_check(loss, ctx),
              planted=(patched("the map's backward with the rank-one term's sign flipped ($+ss^\\top/\\sum s$)",
                               replacing((SeparableMap, "jvp", _rank_one_flipped)), resolution=True),
                       patched("$\\Omega^*$ off by a constant ($10^{-2}$ per coordinate)",
                               replacing((sep_fy, "conjugate", lambda fm, l, th: real_conj(fm, l, th)
                                          + float(OFFSET) * th.shape[-1]))))),
    )
    return Claim("FY-2", f"user:{loss.name}", statement, checks, expected="verified",
                 note="a user's loss: no registered verdict", constants={"tree": loss.tree()},
                 scope=USER_SCOPE + r"; numeric: random $\theta$ and labels, $n \in \{2, 3, 6\}$")


def capped_claims(loss: SeparableLoss) -> list[Claim]:
    """The rows decided for a loss on C_k, in claim order: FY-1 … FY-4 (claims_user_capped.py), CON-1
    and CON-2 multi-hot (claims_user_capped_rank.py), CON-3 (O1, O2) and DYN-1
    (claims_user_capped_con.py), DYN-2 (claims_user_capped_dyn.py)."""
    return [*capped_fy_claims(loss), *capped_rank_claims(loss), *capped_con_dyn_claims(loss), capped_dyn2_claim(loss)]


def user_claims(loss: SeparableLoss) -> list[Claim]:
    """The rows decided for ``loss``, in claim order: FY-1 … FY-4 (here), CON-1 and CON-2 L1/L2
    (reports/user/claims_rank.py), CON-3 O1/O2 and DYN-1 (reports/user/claims_con.py), DYN-2
    (reports/user/claims_dyn.py) on the simplex; on the capped simplex :func:`capped_claims`."""
    derive(loss)                                   # refuses a g outside the conditions before any row runs
    if loss.capped:
        return capped_claims(loss)
    return [_fy1(loss), _fy2(loss), _fy3(loss), _fy4(loss), *rank_claims(loss), *con_dyn_claims(loss),
            dyn2_claim(loss)]
