"""Planted defects and planted truths of the CON-1 / CON-2 checks.

Each enters where a bug would: a patch (:func:`~reports.claim.replacing`) of the upstream
attribute the real code looks up at call time, for the duration of the check's run.

* the loss spec factory of the risk programs, ``numerics.con.risk.spec``, handing them an
  improper surrogate: Ω dropped (Ω ≡ 0 on the domain: Ω* = max θ, the multiclass
  perceptron; on C_k the sum of the k largest scores) -- its risk is minimized by constant
  scores, which neither preserve the top k nor rank by gain;
* the regularizer the symbolic routes read, ``proofs.con.consistency.kkt_omega``: Ω ≡ 0 (not
  strictly convex) or Ω with per-item weights 1, 2, …, n (a popularity prior folded into
  Ω: not permutation symmetric);
* the target mean of the properness derivation, ``proofs.con.consistency.weighted_mean``,
  without its weights;
* the label-map tables, ``numerics.con.labels.LABEL_MAPS`` and ``proofs.con.consistency.LABEL_MAPS``:
  L1 without its weights ΣG(r), L1 built from linear gains r (or from gains with one
  level off by 1/2) while DCG uses 2^r − 1, the multi-hot label of the non-relevant items
  1 − r;
* the loss implementation's prediction map (reports/planted.py): reversed, or tempered at
  1.01 -- the near miss of the numeric checks, caught by their comparison of the loss
  implementation with the cvxpy transcription.

Planted truths of the refuted L2 rows: the same checks with the L2 entry of the label-map
table replaced by the summed L1 map (labels G(r)/ΣG(r) weighted by ΣG(r)), under which
DCG consistency holds (the L1 rows verify it).
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import sympy as sp

from numerics.con import labels as lab
from numerics.con import risk
from proofs.con import consistency as sym
from proofs.kkt import generator

from ..claim import Planted, patched, patched_truth, replacing
from ..planted import reversed_map, tempered

_SPEC = risk.spec  # the real factory, captured before any patch


# -- the wrong upstream attributes ---------------------------------------------------------
def flat_spec(loss, **params) -> risk.LossSpec:
    """``risk.spec`` with Ω dropped: every loss transcribed as the improper flat loss on its
    domain (k kept for rankmax, α ignored); a spec already built passes through."""
    if isinstance(loss, risk.LossSpec):
        return loss
    return _SPEC("flat", **({"k": params["k"]} if "k" in params else {}))


def flat_omega(loss: str, p) -> sp.Expr:
    """Ω ≡ 0 on the domain (no strictly convex regularizer: the perceptron)."""
    return sp.S.Zero


def item_weighted_omega(loss: str, p) -> sp.Expr:
    """Ω with per-item weights 1, 2, …, n on the loss's generator."""
    return sum(((i + 1) * generator(loss, x) for i, x in enumerate(p) if x != 0), sp.S.Zero)


def unweighted_mean() -> sp.Expr:
    """q_i = Σ_a y_{a,i} / m: the target mean without its weights c_a."""
    a, m, _, y = sym.atom_symbols()
    return sp.Sum(y[a], (a, 1, m)) / m


def gain_off_by_half(r: int):
    """Label gains 2^r − 1 with level 1 off by 1/2: ℓ = 0, 3/2, 3 on the grades 0, 1, 2."""
    return lab.gain(r) + (Fraction(1, 2) if int(r) == 1 else 0)


L1_UNWEIGHTED = lab.LabelMap("L1 without its weights ΣG(r)", weighted=False, normalized=True)
L1_LINEAR = lab.LabelMap("L1 with linear label gains r", weighted=True, normalized=True, label_gain=int)
L1_OFF_BY_HALF = lab.LabelMap("L1 with label gain ℓ(1) = 3/2", weighted=True, normalized=True,
                              label_gain=gain_off_by_half)
MULTIHOT_COMPLEMENT = lab.LabelMap("multihot of the non-relevant items 1 − r", weighted=False, normalized=False,
                                   label_gain=lambda r: 1 - int(r), binary=True)


def _numeric_map(name: str, entry: lab.LabelMap):
    return replacing((lab, "LABEL_MAPS", {**lab.LABEL_MAPS, name: entry}))


def _symbolic_map(name: str, **changes):
    return replacing((sym, "LABEL_MAPS", {**sym.LABEL_MAPS, name: replace(sym.LABEL_MAPS[name], **changes)}))


_FLAT = (r"improper surrogate: the spec factory of the risk programs drops $\Omega$ ($\Omega \equiv 0$ on the "
         r"domain: $\max \theta - \langle \theta, y\rangle$, the multiclass perceptron; on $C_k$ the sum of the $k$ "
         r"largest scores)")
_ITEM_WEIGHTED = (r"$\Omega$ with per-item weights $1, 2, \dots, n$ (a popularity prior folded into $\Omega$: not "
                  r"permutation symmetric, $\hat y$ not order preserving)")


def improper_spec() -> Planted:
    return patched(_FLAT, replacing((risk, "spec", flat_spec)))


# -- CON-1 --------------------------------------------------------------------------------
def unweighted_target() -> Planted:
    return patched(r"target mean without its weights: $q_i = \sum_a y_{a,i} / m$ in place of "
                   r"$\sum_a c_a y_{a,i} / \sum_a c_a$", replacing((sym, "weighted_mean", unweighted_mean)))


def flat_regularizer() -> Planted:
    return patched(r"$\Omega \equiv 0$ on the domain (no strictly convex regularizer: the perceptron)",
                   replacing((sym, "kkt_omega", flat_omega)))


def certificate_planted(loss: str) -> list[Planted]:
    """topk-certificate: the improper surrogate, the reversed map, and its near miss (the
    map at temperature 1.01)."""
    near = tempered(loss, 1.01)
    return [improper_spec(), reversed_map(loss), replace(near, resolution=True)]


# -- CON-2 --------------------------------------------------------------------------------
def bayes_order_planted(loss: str, label_map: str) -> list[Planted]:
    out = [patched(_ITEM_WEIGHTED, replacing((sym, "kkt_omega", item_weighted_omega)))]
    if label_map == "L1":
        out.insert(0, patched(r"labels built from linear gains $\ell(r) = r$ while DCG uses $2^r - 1$",
                              _symbolic_map("L1", gain=lambda r: r)))
    if label_map == "multihot":
        out.insert(0, patched("the multi-hot label of the non-relevant items, $1 - r$ (a decreasing gain)",
                              _symbolic_map("multihot", gain=lambda r: 1 - r)))
    return out


def enumeration_planted(loss: str, label_map: str) -> list[Planted]:
    out = [improper_spec(), reversed_map(loss)]
    if label_map == "L1":
        out[:0] = [patched(r"the L1 risk without its weights $\sum G(r)$", _numeric_map("L1", L1_UNWEIGHTED)),
                   patched("labels built from linear gains $r$ while DCG uses $2^r - 1$", _numeric_map("L1", L1_LINEAR)),
                   patched(r"label gains $2^r - 1$ with one level off by $1/2$: $\ell(1) = 3/2$ where $G(1) = 1$ "
                           r"($\ell = 0, 3/2, 3$ on the grades $0, 1, 2$)", _numeric_map("L1", L1_OFF_BY_HALF),
                           resolution=True)]
    if label_map == "multihot":
        out.insert(0, patched("the multi-hot label of the non-relevant items, $1 - r$ (a decreasing gain)",
                              _numeric_map("multihot", MULTIHOT_COMPLEMENT)))
        out.append(replace(tempered(loss, 1.01), resolution=True))
    return out


_L1_TRUTH = (r"the L2 entry of the label-map table replaced by the summed map L1 (labels $G(r)/\sum G(r)$ weighted by "
             r"$\sum G(r)$): the target is proportional to $\mathbb{E}[G]$, so sorting the Bayes-optimal scores "
             r"maximizes $\mathbb{E}[\mathrm{DCG}]$")


def l2_truths(check: str) -> list[Planted]:
    """Planted truths of the L2 rows' checks: the L2 entry patched to the summed L1 map."""
    if check == "bayes-order":
        return [patched_truth(_L1_TRUTH, replacing((sym, "LABEL_MAPS", {**sym.LABEL_MAPS,
                                                                         "L2": sym.LABEL_MAPS["L1"]})))]
    return [patched_truth(_L1_TRUTH, _numeric_map("L2", lab.LABEL_MAPS["L1"]))]


__all__ = ["flat_spec", "flat_omega", "item_weighted_omega", "unweighted_mean", "gain_off_by_half", "improper_spec",
           "unweighted_target", "flat_regularizer", "certificate_planted", "bayes_order_planted",
           "enumeration_planted", "l2_truths", "L1_UNWEIGHTED", "L1_LINEAR", "L1_OFF_BY_HALF", "MULTIHOT_COMPLEMENT"]
