"""The CON-3 and DYN-1 rows of a user's loss (issue 23 §4): ``CON-3[user:NAME/O1]``,
``CON-3[user:NAME/O2]`` and ``DYN-1[user:NAME]`` for any :class:`~audit.separable.SeparableLoss`
on the simplex, through the same runner, verdict words and re-checker (reports/rechecks/user.py)
as the built-in rows.

The claim under test is the suite's derived one (proofs/user/con.py): strictly order
preserving and a gradient on every negative when g′(0⁺) = −∞; weakly, not strictly, and exactly
zero gradient off the support when g′(0⁺) is finite.  It is a theorem for every admissible g,
so a check that contradicts it is a disagreement of our own routes: the row crashes, never
refutes.  Planted defects are generic and enter where a bug would, by a patch of the attribute
the real code looks up: for the derivations, the per-coordinate map reversed (O1), the
minimizer's scores with the sign flipped (O2), the negative's gradient smeared or flushed
(DYN-1); for the numeric routes, the generic map reversed (scores negated), and as the
resolution, a dense map flushed below 2⁻²⁴ (as a float16 kernel does; O2: the last class's
score raised by 10⁻⁹) or a sparse map leaking 10⁻¹² of softmax into every class (no exact tie
or zero left).  Planted truths: sparsemax (WOP, zero gradient off the support) and
softmax (SOP) on the same numeric routes.
"""
from __future__ import annotations

import sympy as sp

import numerics.user.con as num_con
import proofs.user.con as sym_con
from audit import Evidence, SuiteDefect
from audit.builtin_losses import SOFTMAX, SPARSEMAX
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from ..claim import Check, Claim, Planted, patched, replacing
from .planted import _biased, _flushed, _leaking, _reversed

#: the limits of the rows' evidence (Claim.scope)
SCOPE = r"the simplex, $\Omega(p) = \sum_i g(p_i)$ with the given $g$; symbolic: every $n$"
_NUMERIC_SCOPE = {"O1": r"; numeric: random $\theta$, $n = 5$",
                  "O2": r"; numeric: minimizers found by GD and Newton, $n = 5$",
                  "DYN-1": r"; numeric: GD on free scores, $n = 5$, 8 starts"}


def _derived(ev: Evidence) -> Evidence:
    """The claim is derived by the suite for every admissible g: a check contradicting it means
    two of our own routes disagree, a defect of ours, never a finding about the loss."""
    if ev.outcome == "fails":
        raise SuiteDefect(f"{ev.check}: the suite's derived claim is contradicted by its own check: {ev.summary}")
    return ev


def _ours(ev: Evidence, stated: bool, what: str) -> Evidence:
    """A check of a value the suite derived (no statement of the author's): contradicting it
    means two of our own routes disagree (the derivation and the check), a defect of ours,
    never a finding about the loss; a statement of the author's it contradicts is refuted."""
    if not stated and ev.outcome == "fails":
        raise SuiteDefect(f"{ev.check}: the {what} the suite derived is contradicted by its own check: {ev.summary}")
    return ev


def _map_patch(wrap):
    """The generic map, as numerics/user/con.py looks it up, with a defect wrapped around it."""
    real = num_con.torch_map
    return replacing((num_con, "torch_map", lambda facts: wrap(real(facts))))


def _numeric_defects(dense: bool, o2: bool = False) -> tuple[Planted, ...]:
    near = (patched("the map biased: the last class's score raised by $10^{-9}$", _map_patch(_biased),
                    resolution=True) if dense and o2 else
            patched("the map flushing probabilities below $2^{-24}$ to 0 (as a float16 kernel does)",
                    _map_patch(_flushed), resolution=True) if dense else
            patched("the map leaking $10^{-12}$ of softmax into every class (no exact tie or zero left)",
                    _map_patch(_leaking), resolution=True))
    return (patched("the map reversed (scores negated)", _map_patch(_reversed)), near)


def _claim(loss: SeparableLoss) -> tuple[bool, str, str]:
    """(dense, "SOP" or "WOP", how the suite derived it)."""
    f = derive(loss)
    dense = not f.sparse
    why = "derived by the suite: $g'(0^+) = " + sp.latex(f["g'(0+)"].value) + "$"
    return dense, ("SOP" if dense else "WOP"), why


_O1 = {"SOP": "Reading O1 (prediction map): {name} is strictly order preserving: $\\theta_i > \\theta_j$ implies "
              "$\\hat y_i > \\hat y_j$ for every $\\theta$ ({why}).",
       "WOP": "Reading O1 (prediction map): {name} is weakly but not strictly order preserving: $\\theta_i > \\theta_j$ "
              "implies $\\hat y_i \\ge \\hat y_j$, and some $\\theta$ has $\\theta_i > \\theta_j$ with $\\hat y_i = "
              "\\hat y_j$ ({why})."}
_O2 = {"SOP": "Reading O2 (Bayes minimizers, after Zhang 2004): every minimizer of the {name} conditional risk (limit "
              "of a minimizing sequence, modulo shift, when $\\eta$ has zeros) has $\\eta_i > \\eta_j \\Rightarrow "
              "\\theta_i > \\theta_j$ and $\\eta_i = \\eta_j \\Rightarrow \\theta_i = \\theta_j$ ({why}).",
       "WOP": "Reading O2 (Bayes minimizers, after Zhang 2004): every minimizer of the {name} conditional risk has "
              "$\\eta_i > \\eta_j \\Rightarrow \\theta_i \\ge \\theta_j$, but some minimizer splits a tie "
              "$\\eta_i = \\eta_j$ (not SOP; {why})."}


def _constants(loss: SeparableLoss, claim: str) -> dict:
    return {"tree": loss.tree(), "claim": claim, "tie_tolerance": 0.0, "split": num_con.SPLIT}


def _con3(loss: SeparableLoss, reading: str) -> Claim:
    dense, claim, why = _claim(loss)
    truth_loss, truth_claim = (SOFTMAX, "SOP") if dense else (SPARSEMAX, "WOP")
    if reading == "O1":
        sym = Check("order-O1", "symbolic", lambda ctx: sym_con.order_o1(loss, claim).evidence("order-O1"),
                    planted=(patched("the per-coordinate map reversed ($f(u) = G(-u)$)",
                                     replacing((sym_con, "coordinate_map", lambda G, u: G(-u)))),))
        name, fn = "order-search", num_con.order_search
    else:
        def o2(ctx):
            return sym_con.order_o2(loss, claim, sym_con.fy2_premise(loss)).evidence("order-O2")
        sym = Check("order-O2", "symbolic", o2,
                    planted=(patched("the minimizer's scores with the sign flipped ($\\theta_i - \\tau = -g'(\\eta_i)$)",
                                     replacing((sym_con, "minimizer_score",
                                                lambda l, e: -derive(l).g1.subs(l.x, e)))),))
        name, fn = "bayes-minimizer-order", num_con.minimizer_order
    num = Check(name, "numeric", lambda ctx: _derived(fn(loss, claim, ctx)),
                planted=_numeric_defects(dense, o2=reading == "O2"),
                truths=(Planted(f"{truth_loss.name}'s known order ({truth_claim})", truth=True,
                                run=lambda ctx: fn(truth_loss, truth_claim, ctx)),))
    text = (_O1 if reading == "O1" else _O2)[claim].format(name=loss.name, why=why)
    return Claim("CON-3", f"user:{loss.name}/{reading}", text, (sym, num), expected="verified",
                 note="a user's loss: no registered verdict", constants=_constants(loss, claim),
                 scope=SCOPE + _NUMERIC_SCOPE[reading])


def _dyn1(loss: SeparableLoss) -> Claim:
    dense, claim, why = _claim(loss)
    real = sym_con.negative_gradient
    if dense:
        sym_defect = patched("the negative's gradient flushed to 0 below $2^{-24}$",
                             replacing((sym_con, "negative_gradient", lambda G, u, lo: sp.Piecewise(
                                 (0, real(G, u, lo) < sp.Rational(1, 2**24)), (real(G, u, lo), True)))))
        text = (f"{loss.name} gives every negative class a non-zero gradient at every finite $\\theta$ "
                f"($\\hat y_j > 0$; {why}); measured: fraction of negatives with non-zero gradient during GD.")
    else:
        sym_defect = patched("the negative's gradient smeared: $(1 - 10^{-3})\\,\\hat y_j + 10^{-3}/5$",
                             replacing((sym_con, "negative_gradient", lambda G, u, lo:
                                        (1 - sp.Rational(1, 1000)) * real(G, u, lo) + sp.Rational(1, 5000))))
        text = (f"{loss.name} gives exactly zero gradient to every class outside the support of $\\hat y$ ({why}); "
                "measured: fraction of negatives with non-zero gradient during GD.")

    def sym(ctx):
        return sym_con.gradient_support(loss, dense, sym_con.fy2_premise(loss)).evidence("gradient-support")
    checks = (
        Check("gradient-support", "symbolic", sym, planted=(sym_defect,)),
        Check("negative-gradient-fraction", "numeric",
              lambda ctx: _derived(num_con.negative_gradients(loss, dense, ctx)), planted=_numeric_defects(dense),
              truths=(Planted("sparsemax's zero gradients off the support", truth=True,
                              run=lambda ctx: num_con.negative_gradients(SPARSEMAX, False, ctx)),)),
    )
    return Claim("DYN-1", f"user:{loss.name}", text, checks, expected="verified",
                 note="a user's loss: no registered verdict", constants=_constants(loss, claim),
                 scope=SCOPE + _NUMERIC_SCOPE["DYN-1"])


def con_dyn_claims(loss: SeparableLoss) -> list[Claim]:
    """CON-3 (O1, O2) and DYN-1 of ``loss`` (on the simplex)."""
    return [_con3(loss, "O1"), _con3(loss, "O2"), _dyn1(loss)]
