"""Approximate Softmax: SSM, NCE, HSM and RG (CLAIMS.md §4, APX).

Every method returns, for scores ``theta`` (B, n) and labels ``y`` (B,), its per-example
loss (B,) and its **score-gradient estimate** ``g̃`` (B, n): the gradient of the method's
own loss w.r.t. θ, an estimate of the full-softmax gradient ``g = softmax(θ) − e_y``
(:func:`softmax_grad`).  The losses are plain torch expressions, so autograd through
them (e.g. into user and item embeddings of an MF model, θ = U Vᵀ) gives the same
``g̃``; the closed forms here are what the bias–variance ground truth
(``numerics/apx/exact.py``) and Monte Carlo share.

Sampling methods take the samples explicitly, ``samples`` (B, m) of class indices, so
exact enumeration (every multiset with its multinomial weight) and Monte Carlo
(:func:`sample`) go through one code path.  Proposals ``q`` are distributions over all
n classes, shape (n,) or (B, n): :func:`uniform_proposal`, :func:`unigram_proposal`
(popularity, optionally raised to a power), :func:`mixture_proposal`,
:func:`ideal_proposal` (``∝ exp θ``).

- **SSM, canonical** (Blanc & Rendle 2018, with logQ correction): proposal over the
  negatives ``q̃_j = q_j / (1 − q_y)`` for j ≠ y, ``q̃_y = 0``; m negatives i.i.d. with
  replacement; logits ``o_0 = θ_y``, ``o_k = θ_{s_k} − log(m q̃_{s_k})``; loss
  ``−o_0 + log Σ_{k=0}^m exp o_k``.  ``g̃ = (w_0 − 1) e_y + Σ_k w_k e_{s_k}``, w = softmax(o).
  With ``q̃ ∝ exp θ`` on the negatives every ``o_k = log(Z_{−y}/m)``, so
  ``w_0 = p_y`` and ``E g̃ = g`` for every m.
- **SSM, TensorFlow-style** (``variant="tf"``, as ``tf.nn.sampled_softmax_loss`` with
  sampling with replacement): the proposal is q over all classes (samples may hit y), the
  positive is corrected too, ``o_0 = θ_y − log(m q_y)``, ``o_k = θ_{s_k} − log(m q_{s_k})``;
  with ``remove_accidental_hits`` (default) a sample equal to y gets ``o_k = −∞``.
- **NCE** (Gutmann & Hyvärinen 2010; Mnih & Teh 2012): k noise samples from q (all
  classes); ``Δ_j = θ_j − c − log(k q_j)``; loss ``−log σ(Δ_y) − Σ_i log(1 − σ(Δ_{s_i}))``;
  ``g̃ = −(1 − σ(Δ_y)) e_y + Σ_i σ(Δ_{s_i}) e_{s_i}``; ``∂loss/∂c = (1 − σ(Δ_y)) − Σ_i σ(Δ_{s_i})``
  for a learned c; ``c = 0`` is the fixed "self-normalized" reading.
- **HSM** (Morin & Bengio 2005): binary :class:`Tree` (``balanced_tree``, ``huffman_tree``)
  with one score ``u_v`` per internal node; the left child gets ``σ(u_v)``, the right
  ``σ(−u_v)``; ``p(y) = Π_{v ∈ path(y)} σ(±u_v)``, loss ``−log p(y)``.  Reading H1: u free
  (:func:`hsm_node_grad`).  Reading H2 (tied): node vector = mean of its leaves' item
  vectors, so ``u = A θ`` with ``A_{vj} = 1/|leaves(v)|`` for j under v (``Tree.tie``);
  :func:`hsm_grad` gives ``g̃ = Aᵀ ∂loss/∂u``.
- **RG** (Pu et al. 2025, arXiv:2506.09454): second-order Taylor expansion of
  ``LSE(θ) = log Σ_j exp θ_j``.  Around the mean score ``θ̄ 1``:
  ``LSE(θ) ≈ log n + θ̄ + (1/2n) Σ_j (θ_j − θ̄)²``; around 0 the same polynomial reads
  ``log n + θ̄ + (1/2n) Σ_j θ_j² − ½ θ̄²`` (LSE(θ + c1) = LSE(θ) + c, and the Hessian
  ``(I − 11ᵀ/n)/n`` kills 1, so the expansion is the same around every c 1).
  RG×: ``−θ_y + log n + θ̄ + (1/2n) Σ_j θ_j² − ½ θ̄²`` (keeps the interaction term),
  ``g̃ = 1/n + (θ − θ̄ 1)/n − e_y``.
  RG²: drops ``−½ θ̄²``: ``−θ_y + log n + θ̄ + (1/2n) Σ_j θ_j²``, ``g̃ = (1 + θ)/n − e_y``;
  identically ``(1/2n) Σ_j (θ_j − r_j)² + log n − (n − 1)/2`` with target
  ``r = n e_y − 1``: a weighted squared loss (weight 1/(2n) per entry).

Masks (issue 14): a score of −inf masks its class, as in ``torch.softmax``.  A masked class
is never a target (``ValueError``) and never sampled: proposals are conditioned on the
unmasked classes of each row (:func:`restrict_proposal`, :func:`negative_proposal`), and
given samples on a masked class are a ``ValueError``; RG drops masked classes from its
expansion (n counts the unmasked ones).  HSM rejects masks: its tree normalizes over
every leaf.

Bad input raises ``ValueError`` naming the argument; a wrong type ``TypeError`` (which is
also a ``ValueError``), e.g. a Python list of labels, as ``F.cross_entropy``.  Class
indices (y, samples) may have any integer dtype; an empty batch gives empty per-example
losses (0,), as ``F.cross_entropy(..., reduction="none")``.  A proposal is a distribution
to ``|Σ_j q_j − 1| ≤ √eps`` of its dtype, summed in float64, whatever n
(:func:`losses.approx_common.proposal_tol`).

This module lists the names; the code lives by what it holds: losses/approx_common.py
(the full-softmax gradient, MF scores, validation), losses/sampled.py (proposals,
sampling, SSM, NCE), losses/hsm.py (trees, HSM H1/H2), losses/rg.py (RG², RG×).
"""
from __future__ import annotations

from .approx_common import (_check_2d, _check_count, _check_distribution, _check_samples, check_proposal,  # noqa: F401
                            restrict_proposal, scores_at, softmax_grad)
from .hsm import (Tree, balanced_tree, hsm_grad, hsm_log_probs, hsm_loss, hsm_node_grad,  # noqa: F401
                  huffman_tree)
from .rg import rg_grad, rg_loss  # noqa: F401
from .sampled import (check_normalizer, densify, ideal_proposal, mixture_proposal, nce_grad, nce_kernel,  # noqa: F401
                      nce_loss, negative_proposal, sample, ssm_grad, ssm_kernel, ssm_loss, uniform_proposal,
                      unigram_proposal)

__all__ = [
    "softmax_grad", "sample", "uniform_proposal", "unigram_proposal", "mixture_proposal",
    "ideal_proposal", "negative_proposal", "check_proposal", "ssm_loss", "ssm_grad", "nce_loss",
    "nce_grad", "Tree", "balanced_tree", "huffman_tree", "hsm_log_probs", "hsm_loss",
    "hsm_node_grad", "hsm_grad", "rg_loss", "rg_grad", "scores_at", "ssm_kernel", "nce_kernel",
    "densify", "check_normalizer", "restrict_proposal",
]
