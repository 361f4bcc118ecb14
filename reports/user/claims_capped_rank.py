"""The CON-1 and CON-2 rows of a user's loss on the capped simplex C_k (issue 23 §4):
``CON-1[user:NAME]`` and ``CON-2[user:NAME/multihot]`` for a :class:`~audit.separable.SeparableLoss`
with domain "capped", through the same runner and verdict words as the simplex rows
(reports/user/claims_rank.py), read as the main registry's CON-1[rankmax] and
CON-2[rankmax/multihot] (reports/con/claims.py): labels are k-subsets, their multi-hot vectors in
C_k, η = E 1_S the marginal inclusion probabilities, R = L(·; η) + const.

The claims are derived (proofs/user/capped_rank.py), theorems for every admissible g whose
k-hot labels lie in dom Ω (g(1⁻) finite): top-k′ calibrated for every k′ < n and label size k
(the simplex's half-space gap g(a) + g(b) − 2g((a + b)/2) > 0, the cap leaving the averaged pair
feasible, a = 1 by continuity), and DCG-consistent with the multi-hot label (Bayes scores g′(η)
inside, ones at or above g′(1⁻), zeros at or below g′(0⁺); the minimizer set splits only ties of
η, which have equal E[G]).  A check contradicting them is a disagreement of our own routes: the
row crashes (``_derived``), never refutes.  Where g(1⁻) = +∞ every k-hot label has L ≡ +∞ and the
readings do not apply: both checks say so, undecided, and the row is inconclusive.

Planted defects enter where a bug would, by a patch of the attribute the real code looks up: the
half-space minimizer moved off the midpoint (``proofs.user.rank.kkt_point``, both CON-1
routes), the Bayes scores with the sign flipped (``proofs.user.rank.bayes_score``, both
CON-2 routes), the multi-hot label built with the item ids off by one
(``numerics.con.labels.LABEL_MAPS``, CON-2's numeric route: its Bayes points are proper, their order
wrong), the cap ignored (the map's value past g′(1⁻), ``proofs.user.capped.coordinate``, in
both derivations -- under it FY-2's premise, recomputed in the check, crashes first; the torch map
clamping below only, ``SeparableMap._at``, on CON-2's numeric route; planted where this g has a
cap, the latter where G is in closed form), and the capped map reversed or, as the resolution,
tempered by 1.01 (``numerics.user.capped.capped_map``).
Planted truths: rankmax (Kong et al. 2020; the main registry's verified rows) on every check,
its numeric routes at every k of their cases.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

import numerics.user.capped_rank as num_cr
import proofs.user.capped as sym_cap
import proofs.user.capped_rank as sym_cr
import proofs.user.rank as sym_rank
from audit.builtin_losses import RANKMAX
from audit.separable import SeparableLoss
from losses.separable import SeparableMap
from numerics.con import labels as lab
from proofs.user.facts import derive
from proofs.user.capped_con import fy2_premise

from ..claim import Check, Claim, Planted, patched, replacing
from .claims_capped import _uncapped_at, _uncapped_coordinate
from .claims_capped_con import _map_patch
from .claims_con import _derived
from .claims_rank import _MOVED
from .planted import _reversed, _tempered

NOTE = "a user's loss: no registered verdict"
_CASES = ", ".join(f"({k}, {n})" for k, n in num_cr.CASES)
SCOPE = (r"the capped simplex $C_k$, $\Omega(p) = \sum_i g(p_i)$ with the given $g$, $k$-subset labels; symbolic: "
         r"every $n$, $k$ and $k' < n$; numeric: $(k, n) \in \{" + _CASES + r"\}$")
_CON1_SCOPE = SCOPE + r", marginals of subset laws, every pair $\eta_i > \eta_j$, certified Newton solves"
_CON2_SCOPE = SCOPE + r", binary relevance laws of 1 to 3 atoms, every permutation"
_RANKMAX = "rankmax on $C_k$, every $k$ (Kong et al. 2020; the main registry's verified row)"


def _has_cap(loss: SeparableLoss) -> bool:
    return "cap" in sym_cap.regions(loss)




def _cap_defects(loss: SeparableLoss, numeric: bool) -> tuple[Planted, ...]:
    """The cap ignored, where this g has one: in the derivation's map value, or (numeric) in the torch
    map, where G is in closed form (an implicit G, by bisection on (0, 1), stops at 1 by itself)."""
    if not _has_cap(loss):
        return ()
    if not numeric:
        return (patched("the cap ignored: the map's value $G(\\theta_i - \\tau)$ past $g'(1^-)$",
                        replacing((sym_cap, "coordinate", _uncapped_coordinate))),)
    if derive(loss)["(g')^(-1)(t)"].value is None:
        return ()
    return (patched("the cap ignored: the map clamps $\\theta_i - \\tau$ below only",
                    replacing((SeparableMap, "_at", _uncapped_at))),)


def _map_defects() -> tuple[Planted, ...]:
    return (patched("the capped map reversed (scores negated)", _map_patch(_reversed)),
            patched("the capped map tempered by 1.01 (scores divided by 1.01)", _map_patch(_tempered),
                    resolution=True))


def _expected(loss: SeparableLoss) -> str:
    return "verified" if sym_cr.labels_in_domain(loss) else "inconclusive"


def _outside(loss: SeparableLoss) -> str:
    return "" if sym_cr.labels_in_domain(loss) else (
        " Here $g(1^-) = +\\infty$: every $k$-hot label lies outside $\\operatorname{dom}\\Omega$ ($L \\equiv "
        "+\\infty$), so the reading does not apply.")


def _gap(loss: SeparableLoss):
    return lambda ctx: sym_cr.topk_calibration(loss, fy2_premise(loss)).evidence("halfspace-gap")


def _order(loss: SeparableLoss):
    return lambda ctx: sym_cr.dcg_consistency(loss, fy2_premise(loss)).evidence("bayes-order")


def _con1(loss: SeparableLoss) -> Claim:
    checks = (
        Check("halfspace-gap", "symbolic", _gap(loss), planted=(_MOVED, *_cap_defects(loss, False)),
              truths=(Planted(_RANKMAX, truth=True, run=_gap(RANKMAX)),)),
        Check("topk-certificate", "numeric", lambda ctx: _derived(num_cr.topk_certificate(loss, ctx)),
              planted=(_MOVED, *_map_defects()),
              truths=(Planted(_RANKMAX, truth=True, run=lambda ctx: num_cr.topk_certificate(RANKMAX, ctx)),)),
    )
    statement = (f"{loss.name} on $C_k$ (labels $k$-subsets $S$, the multi-hot $\\mathbf 1_S \\in C_k$; top-$k'$ read "
                 "on the marginal inclusion probabilities $\\eta_i = P(i \\in S)$) is top-$k'$ calibrated for every "
                 "$k' < n$ and every $k$: $\\inf\\{R(\\theta) : \\theta$ not top-$k'$ preserving for $\\eta\\} > "
                 "\\inf R$ for every $\\eta \\in C_k$ (derived by the suite: each half-space $\\theta_i \\le "
                 "\\theta_j$ with $\\eta_i > \\eta_j$ stays $g(\\eta_i) + g(\\eta_j) - 2g((\\eta_i + \\eta_j)/2) > 0$ "
                 "above $\\inf R$; the cap leaves the averaged pair feasible)." + _outside(loss))
    return Claim("CON-1", f"user:{loss.name}", statement, checks, expected=_expected(loss), note=NOTE,
                 constants={"tree": loss.tree(), "k": num_cr.KS, "loss_k": "label size"}, scope=_CON1_SCOPE)


def _flipped_score(loss, q):
    return -sp.diff(loss.g, loss.x).subs(loss.x, q)


_FLIPPED = patched(r"the Bayes scores with the sign flipped ($\theta^*_i - \tau = -g'(\eta_i)$)",
                   replacing((sym_rank, "bayes_score", _flipped_score)))


@dataclass(frozen=True)
class _Rolled(lab.LabelMap):
    """The multi-hot label built with the item ids off by one: yᵢ = r_{i+1} (an index bug where the
    label is assembled; still a point of C_k, but of the wrong items)."""

    def atoms(self, D):
        return [(c, y[1:] + y[:1]) for c, y in super().atoms(D)]


_ROLLED = patched("the multi-hot label built with the item ids off by one ($y_i = r_{i+1}$)",
                  replacing((lab, "LABEL_MAPS", {**lab.LABEL_MAPS, "multihot": _Rolled(
                      "multihot", weighted=False, normalized=False, label_gain=int, binary=True)})))


def _con2(loss: SeparableLoss) -> Claim:
    checks = (
        Check("bayes-order", "symbolic", _order(loss), planted=(_FLIPPED, *_cap_defects(loss, False)),
              truths=(Planted(_RANKMAX, truth=True, run=_order(RANKMAX)),)),
        Check("dcg-enumeration", "numeric", lambda ctx: _derived(num_cr.dcg_enumeration(loss, ctx)),
              planted=(_FLIPPED, _ROLLED, *_cap_defects(loss, True), *_map_defects()),
              truths=(Planted(_RANKMAX, truth=True, run=lambda ctx: num_cr.dcg_enumeration(RANKMAX, ctx)),)),
    )
    statement = (f"{loss.name} on $C_k$ ($k$ = number of relevant items) with the multi-hot label $r \\in C_k$ (binary "
                 "relevance, the same $k$ in every draw) is DCG-consistent: sorting its Bayes-optimal scores maximizes "
                 r"$\mathbb{E}_D[\mathrm{DCG}]$ for every such $D$ (worst ranking over the minimizer set, ties at the "
                 "cap and at 0 broken every way; derived by the suite: the Bayes scores are $g'(\\eta)$ inside, at or "
                 "above $g'(1^-)$ at ones, at or below $g'(0^+)$ at zeros)." + _outside(loss))
    constants = {"tree": loss.tree(), "label_map": "multihot", "gain_base": 2, "k": num_cr.KS,
                 "loss_k": "relevant items"}
    return Claim("CON-2", f"user:{loss.name}/multihot", statement, checks, expected=_expected(loss), note=NOTE,
                 constants=constants, scope=_CON2_SCOPE)


def capped_rank_claims(loss: SeparableLoss) -> list[Claim]:
    """CON-1 and CON-2 (multi-hot) of ``loss`` on C_k."""
    if not loss.capped:
        raise ValueError(f"loss must have domain 'capped', got {loss.domain!r}")
    return [_con1(loss), _con2(loss)]


__all__ = ["capped_rank_claims"]
