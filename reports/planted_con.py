"""Planted defects of the CON-1 / CON-2 checks: wrong inputs of the same shape as the real
ones, each turning its check because of the property the check is about.

* an improper surrogate for the cvxpy programs: Ω ≡ 0 on the domain (Ω* = max θ, the
  multiclass perceptron; on C_k the sum of the k largest scores) -- its risk is minimized
  by constant scores, which neither preserve the top k nor rank by gain;
* a regularizer that is not strictly convex (Ω ≡ 0) or not permutation symmetric (per-item
  weights 1, 2, …, n, e.g. a popularity prior folded into Ω) for the symbolic routes;
* a conditional risk with its weights dropped (L1 without the factor ΣG(r): the L2 risk),
  labels built from the wrong gains (linear gains r where DCG uses 2^r − 1; the multi-hot
  label of the non-relevant items, 1 − r), and a target mean without its weights;
* the loss implementation with its prediction map reversed (reports/planted.py), which the
  numeric checks compare with their cvxpy transcription.
"""
from __future__ import annotations

import sympy as sp

from numerics import consistency as topk
from numerics import dcg
from numerics import labels as lab
from numerics import risk
from proofs import consistency as sym
from proofs.kkt import generator

from .claim import Planted, wrong_derivation, wrong_input
from .planted import reversed_map

_FLAT = (r"improper surrogate: $\Omega \equiv 0$ on the domain ($\max \theta - \langle \theta, y\rangle$, the "
         r"multiclass perceptron; on $C_k$ the sum of the $k$ largest scores) in the risk programs")


def flat_spec(**params) -> risk.LossSpec:
    """The improper flat loss on the same domain (k kept for rankmax, α ignored)."""
    return risk.spec("flat", **({"k": params["k"]} if "k" in params else {}))


def _item_weighted(loss: str):
    def omega(p):
        return sum((i + 1) * generator(loss, x) for i, x in enumerate(p) if x != 0)
    return omega


# -- CON-1 --------------------------------------------------------------------------------
def unweighted_target(loss: str) -> Planted:
    a, m, _, y = sym.atom_symbols()
    return wrong_derivation(r"target mean without its weights: $q_i = \sum_a y_{a,i} / m$ in place of "
                            r"$\sum_a c_a y_{a,i} / \sum_a c_a$",
                            sym.properness, loss, target=sp.Sum(y[a], (a, 1, m)) / m)


def flat_regularizer(loss: str) -> Planted:
    return wrong_derivation(r"$\Omega \equiv 0$ on the domain (no strictly convex regularizer: the perceptron)",
                            sym.topk_calibration, loss, omega=lambda p: sp.S.Zero)


def improper_certificate(loss: str) -> Planted:
    return wrong_input(_FLAT, topk.topk_calibration, loss, spec_of=flat_spec)


# -- CON-2 --------------------------------------------------------------------------------
L1_UNWEIGHTED = lab.LabelMap("L1 without its weights ΣG(r)", weighted=False, normalized=True)
L1_LINEAR = lab.LabelMap("L1 with linear label gains r", weighted=True, normalized=True, label_gain=int)
MULTIHOT_COMPLEMENT = lab.LabelMap("multihot of the non-relevant items 1 − r", weighted=False, normalized=False,
                                   label_gain=lambda r: 1 - int(r), binary=True)


def bayes_order_planted(loss: str, label_map: str) -> list[Planted]:
    out = [wrong_derivation(r"$\Omega$ with per-item weights $1, 2, \dots, n$ (not permutation symmetric: $\hat y$ is "
                            r"not order preserving)", sym.dcg_consistency, loss, label_map, omega=_item_weighted(loss))]
    if label_map == "L1":
        out.insert(0, wrong_derivation(r"labels built from linear gains $\ell(r) = r$ while DCG uses $2^r - 1$",
                                       sym.dcg_consistency, loss, label_map, label_gain=lambda r: r))
    if label_map == "multihot":
        out.insert(0, wrong_derivation("the multi-hot label of the non-relevant items, $1 - r$ (a decreasing gain)",
                                       sym.dcg_consistency, loss, label_map, label_gain=lambda r: 1 - r))
    return out


def enumeration_planted(loss: str, label_map: str) -> list[Planted]:
    out = [wrong_input(_FLAT, dcg.dcg_consistency, loss, label_map, spec_of=flat_spec), reversed_map(loss)]
    if label_map == "L1":
        out[:0] = [wrong_input(r"the L1 risk without its weights $\sum G(r)$", dcg.dcg_consistency, loss, label_map,
                               labels=L1_UNWEIGHTED),
                   wrong_input("labels built from linear gains $r$ while DCG uses $2^r - 1$", dcg.dcg_consistency, loss,
                               label_map, labels=L1_LINEAR)]
    if label_map == "multihot":
        out.insert(0, wrong_input("the multi-hot label of the non-relevant items, $1 - r$ (a decreasing gain)",
                                  dcg.dcg_consistency, loss, label_map, labels=MULTIHOT_COMPLEMENT))
    return out


__all__ = ["flat_spec", "unweighted_target", "flat_regularizer", "improper_certificate",
           "bayes_order_planted", "enumeration_planted", "L1_UNWEIGHTED", "L1_LINEAR", "MULTIHOT_COMPLEMENT"]
