"""The CON-3 and DYN-1 rows of a user's loss on the capped simplex C_k (issue 23 §4, §6):
``CON-3[user:NAME/O1]``, ``CON-3[user:NAME/O2]`` and ``DYN-1[user:NAME]`` for a
:class:`~audit.separable.SeparableLoss` with domain "capped", through the same runner, verdict
words and re-checker as the simplex rows (reports/user/claims_con.py).

**The claims are derived, and they depend on k** (proofs/user/capped_con.py): with m the
largest k at which the reading is strictly order preserving,

* g′(0⁺) finite (sparse; rankmax): m = 0 for O1 and O2 -- weakly, not strictly, for every k
  (ties at 0, and at the cap 1 where g′(1⁻) is finite and k ≥ 2): the main registry's
  CON-3[rankmax/O1], CON-3[rankmax/O2] statements, which hold for every k;
* g′(0⁺) = −∞, g′(1⁻) = ∞ (binary entropy): SOP for every k in both readings (O2's ones tie
  at +∞ in u = θ − τ);
* g′(0⁺) = −∞, g′(1⁻) finite (the entropy p log p on C_k, whose cap is g′(1⁻) = 1): O1 is
  SOP for k ≤ 2 only (two coordinates at the cap tie from k = 3 on: at most k − 1 fit), O2 at
  k = 1 only (at k = 2 a minimizing sequence splits two ones of η in its limit).  Not softmax's
  "strictly" beyond those k.

DYN-1: the negatives behave as on the simplex (dense: every one keeps a gradient; sparse: zero
exactly off the support -- the main registry's DYN-1[rankmax]); on C_k a labelled class also
gets exactly zero gradient at the cap ŷᵢ = 1 (ŷᵢ − yᵢ = 0), where g′(1⁻) is finite (dense: at
most k − 1 at a time, none at k = 1).  The main row's "every class outside the support" is
about the negatives, as its measurement says: a labelled class outside the support gets −1.

Each claim is a theorem of the suite's for every admissible g, so a check contradicting it is a
disagreement of our own routes: the row crashes (``_derived``), never refutes.  The witnesses,
one at each k where the row claims no SOP (k > m), are stored where the outside re-checker reads
them (``sop_witness``, each with its k; reports/rechecks/user.py re-checks them by the KKT
conditions on C_k against the row's ``claim`` and ``sop_through_k``).

Planted defects enter where a bug would, by a patch of the attribute the real code looks up:
the simplex rows' (the per-coordinate map reversed, the minimizer's score with its sign
flipped, the negative's gradient flushed or smeared), the cap ignored (the capped map's value
``proofs.user.capped.coordinate``, O1; a labelled class's gradient past g′(1⁻),
``proofs.user.capped_con.labelled_gradient``, DYN-1), and on the numeric routes the capped
map (``numerics.user.capped.capped_map``) reversed, flushing below 2⁻²⁴, biased by 10⁻⁹,
or leaking 10⁻¹² of a rank-weighted point of C_k into every class (no exact 0, 1 or tie left).
Planted truths: rankmax (WOP, zero gradients off the support and at the cap) for every k, and
the entropy at k = 1 (C_1 is the simplex, where it is softmax: SOP).
"""
from __future__ import annotations

import sympy as sp
import torch

import numerics.user.capped as num_cap
import numerics.user.capped_con as num_cc
import proofs.user.capped as sym_cap
import proofs.user.capped_con as sym_cc
import proofs.user.con as sym_con
from audit.builtin_losses import RANKMAX, SOFTMAX
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from ..claim import Check, Claim, Planted, patched, replacing
from .claims_con import _derived
from .planted import FLUSH, LEAK, _biased, _reversed

#: the entropy p log p on C_k (no facts stated): a dense g with a cap, g′(1⁻) = 1; at k = 1 it is softmax
ENTROPY_CAPPED = SeparableLoss("entropy-capped", SOFTMAX.g, SOFTMAX.x, domain="capped")
K1 = ((1, 4),)      # the planted truth's case: C_1 is the simplex, where the entropy is softmax (SOP)
SCOPE = (r"the capped simplex $C_k$, $\Omega(p) = \sum_i g(p_i)$ with the given $g$; symbolic: every $n$ and $k < n$ "
         r"(witnesses exact at $k = 1, 2, 3$); numeric: $(k, n) \in \{"
         + ", ".join(f"({k}, {n})" for k, n in num_cc.CASES) + r"\}$")
NOTE = "a user's loss: no registered verdict"


def _map_patch(wrap):
    """The capped map, as numerics/user/capped.py hands it out, with a defect wrapped around it."""
    real = num_cap.capped_map
    return replacing((num_cap, "capped_map", lambda facts: wrap(real(facts))))


def _flushed(fmap):
    """Entries below 2⁻²⁴ set to 0 (as a float16 kernel does; the mass is left as it comes)."""
    def call(theta, k=1):
        y = fmap(theta, k)
        return torch.where(y < FLUSH, torch.zeros_like(y), y)
    return call


def _leaking(fmap):
    """(1 − ε)ŷ + ε p, p = k (r + 1)/Σ(r + 1) with r the rank of θᵢ in its row: a point of C_k
    (n = k + 3), weakly order preserving, with no exact 0, 1 or tie between different scores left."""
    def call(theta, k=1):
        r = theta.argsort(-1).argsort(-1).to(theta.dtype) + 1
        return (1 - LEAK) * fmap(theta, k) + LEAK * k * r / r.sum(-1, keepdim=True)
    return call


def _facts(loss: SeparableLoss) -> tuple[bool, bool, str]:
    """(dense, capped, how the suite derived it)."""
    d0, d1 = sym_cc.ends(loss)
    why = f"derived by the suite: $g'(0^+) = {sp.latex(d0)}$, $g'(1^-) = {sp.latex(d1)}$"
    return d0 == -sp.oo, d1 != sp.oo, why


_AT_CAP = ", and at the cap 1 for $k \\ge 2$"


def _o1_text(name: str, m, capped: bool, why: str) -> str:
    head = f"Reading O1 (prediction map) on $C_k$, every $k < n$: {name} is "
    if m == sp.oo:
        return head + f"strictly order preserving: $\\theta_i > \\theta_j$ implies $\\hat y_i > \\hat y_j$ ({why})."
    if m == 0:
        return head + ("weakly but not strictly order preserving: $\\theta_i > \\theta_j$ implies $\\hat y_i \\ge "
                       "\\hat y_j$, and for every $k$ some $\\theta$ has $\\theta_i > \\theta_j$ with $\\hat y_i = "
                       f"\\hat y_j$ (at 0{_AT_CAP if capped else ''}; {why}).")
    return head + (f"strictly order preserving for $k \\le {m}$ ($\\theta_i > \\theta_j$ implies $\\hat y_i > \\hat "
                   f"y_j$), and for every $k > {m}$ weakly but not strictly: two coordinates at the cap tie, "
                   f"$\\theta_i > \\theta_j$ with $\\hat y_i = \\hat y_j = 1$ ({why}).")


def _o2_text(name: str, m, capped: bool, why: str) -> str:
    head = (f"Reading O2 (Bayes minimizers, after Zhang 2004; $y$ $k$-hot or in $C_k$, $\\eta = \\mathbb E y$): "
            f"every minimizer of the {name} conditional risk on $C_k$ ")
    sop = ("$\\eta_i > \\eta_j \\Rightarrow \\theta_i > \\theta_j$ and $\\eta_i = \\eta_j \\Rightarrow \\theta_i = "
           "\\theta_j$ (limits in $u = \\theta - \\tau$ where none is attained: zeros tie at $-\\infty$"
           + (", ones at $+\\infty$)" if m == sp.oo else ")"))
    if m == sp.oo:
        return head + f"has {sop}, for every $k$ ({why})."
    if m == 0:
        return head + ("has $\\eta_i > \\eta_j \\Rightarrow \\theta_i \\ge \\theta_j$, but for every $k$ some "
                       f"minimizer splits a tie $\\eta_i = \\eta_j$ (at 0{_AT_CAP if capped else ''}; not SOP; "
                       f"{why}).")
    return head + (f"has {sop} at $k = {m}$ only; for every $k > {m}$ only $\\eta_i > \\eta_j \\Rightarrow \\theta_i "
                   "\\ge \\theta_j$: two ones of $\\eta$ split at the cap ($k \\ge 3$ at an attained minimizer, $k = "
                   f"2$ in the limit of a minimizing sequence; O1 is strict up to $k = 2$; {why}).")


def _constants(loss: SeparableLoss, m) -> dict:
    return {"tree": loss.tree(), "claim": sym_cc.claim_words(m), "sop_through_k": "every k" if m == sp.oo else int(m),
            "tie_tolerance": 0.0, "split": num_cc.SPLIT, "k": num_cc.KS}


def _numeric_defects(dense: bool, o2: bool = False) -> tuple[Planted, ...]:
    rev = patched("the capped map reversed (scores negated)", _map_patch(_reversed))
    if not dense:
        near = patched("the map leaking $10^{-12}$ of a rank-weighted point of $C_k$ into every class (no exact 0, 1 "
                       "or tie left)", _map_patch(_leaking), resolution=True)
    elif o2:
        near = patched("the map biased: the last class's score raised by $10^{-9}$", _map_patch(_biased),
                       resolution=True)
    else:
        near = patched("the map flushing entries below $2^{-24}$ to 0 (as a float16 kernel does)",
                       _map_patch(_flushed), resolution=True)
    return rev, near


def _con3(loss: SeparableLoss, reading: str) -> Claim:
    dense, capped, why = _facts(loss)
    m = sym_cc.sop_through(loss, reading)
    truth_loss, truth_m, truth_cases, truth_words = (
        (ENTROPY_CAPPED, sp.Integer(1), K1, "the entropy at $k = 1$, softmax on the simplex (SOP)") if dense else
        (RANKMAX, sp.Integer(0), num_cc.CASES, "rankmax, WOP for every $k$ (Kong et al. 2020; the main registry)"))
    if reading == "O1":
        real = sym_cap.coordinate
        cap = (patched("the cap ignored: the map's value $G(\\theta_i - \\tau)$ past $g'(1^-)$",
                       replacing((sym_cap, "coordinate", lambda region, u: sym_cap.G(u) if region == "cap" else
                                  real(region, u)))),) if capped else ()
        sym = Check("order-O1", "symbolic", lambda ctx: sym_cc.order_o1(loss, m).evidence("order-O1"),
                    planted=(patched("the per-coordinate map reversed ($f(u) = G(-u)$)",
                                     replacing((sym_con, "coordinate_map", lambda G, u: G(-u)))), *cap))
        name, fn = "order-search", num_cc.order_search
        text = _o1_text(loss.name, m, capped, why)
    else:
        def o2(ctx):
            return sym_cc.order_o2(loss, m, sym_cc.fy2_premise(loss)).evidence("order-O2")
        sym = Check("order-O2", "symbolic", o2,
                    planted=(patched("the minimizer's scores with the sign flipped "
                                     "($\\theta_i - \\tau = -g'(\\eta_i)$)",
                                     replacing((sym_con, "minimizer_score",
                                                lambda l, e: -derive(l).g1.subs(l.x, e)))),))
        name, fn = "bayes-minimizer-order", num_cc.minimizer_order
        text = _o2_text(loss.name, m, capped, why)
    num = Check(name, "numeric", lambda ctx: _derived(fn(loss, m, ctx)),
                planted=_numeric_defects(dense, o2=reading == "O2"),
                truths=(Planted(truth_words, truth=True, run=lambda ctx: fn(truth_loss, truth_m, ctx, truth_cases)),))
    return Claim("CON-3", f"user:{loss.name}/{reading}", text, (sym, num), expected="verified", note=NOTE,
                 constants=_constants(loss, m), scope=SCOPE)


def _dyn1(loss: SeparableLoss) -> Claim:
    dense, capped, why = _facts(loss)
    real = sym_con.negative_gradient
    if dense:
        neg_defect = patched("the negative's gradient flushed to 0 below $2^{-24}$",
                             replacing((sym_con, "negative_gradient", lambda G, u, lo: sp.Piecewise(
                                 (0, real(G, u, lo) < sp.Rational(1, 2**24)), (real(G, u, lo), True)))))
        neg = "every negative class a non-zero gradient at every finite $\\theta$ ($\\hat y_j > 0$)"
    else:
        neg_defect = patched("the negative's gradient smeared: $(1 - 10^{-3})\\,\\hat y_j + 10^{-3}/5$",
                             replacing((sym_con, "negative_gradient", lambda G, u, lo:
                                        (1 - sp.Rational(1, 1000)) * real(G, u, lo) + sp.Rational(1, 5000))))
        neg = "exactly zero gradient to every negative class outside the support of $\\hat y$"
    cap_defect = (patched("the cap ignored: a labelled class's gradient $G(u_i) - 1$ past $g'(1^-)$",
                          replacing((sym_cc, "labelled_gradient", lambda u, hi: sym_cap.G(u) - 1))),) if capped else ()
    pos = ("exactly zero gradient to a labelled class at the cap $\\hat y_i = 1$"
           + (" (at most $k - 1$ at a time, none at $k = 1$)" if dense else "") if capped else
           "a non-zero gradient to every labelled class ($g'(1^-) = \\infty$: no cap)")
    text = (f"On $C_k$ with a $k$-hot label, {loss.name} gives {neg}, and {pos} ({why}); measured: the fractions of "
            "negatives with a gradient and of labelled classes without one during GD.")
    near = (patched("the map leaking $10^{-12}$ of a rank-weighted point of $C_k$ into every class (no exact 0 or 1 "
                    "left)", _map_patch(_leaking), resolution=True) if capped else
            patched("the map flushing entries below $2^{-24}$ to 0 (as a float16 kernel does)", _map_patch(_flushed),
                    resolution=True))
    extra = (patched("the map flushing entries below $2^{-24}$ to 0 (as a float16 kernel does)",
                     _map_patch(_flushed)),) if dense and capped else ()

    def sym(ctx):
        return sym_cc.gradient_support(loss, dense, capped, sym_cc.fy2_premise(loss)).evidence("gradient-support")
    checks = (
        Check("gradient-support", "symbolic", sym, planted=(neg_defect, *cap_defect)),
        Check("negative-gradient-fraction", "numeric",
              lambda ctx: _derived(num_cc.gradient_fractions(loss, dense, capped, ctx)),
              planted=(patched("the capped map reversed (scores negated)", _map_patch(_reversed)), near, *extra),
              truths=(Planted("rankmax's zero gradients off the support and at the cap", truth=True,
                              run=lambda ctx: num_cc.gradient_fractions(RANKMAX, False, True, ctx)),)),
    )
    return Claim("DYN-1", f"user:{loss.name}", text, checks, expected="verified", note=NOTE,
                 constants={"tree": loss.tree(), "k": num_cc.KS, "claim": ("dense" if dense else "sparse")
                            + (", capped" if capped else ", no cap")}, scope=SCOPE)


def capped_con_dyn_claims(loss: SeparableLoss) -> list[Claim]:
    """CON-3 (O1, O2) and DYN-1 of ``loss`` on C_k."""
    if not loss.capped:
        raise ValueError(f"loss must have domain 'capped', got {loss.domain!r}")
    return [_con3(loss, "O1"), _con3(loss, "O2"), _dyn1(loss)]
