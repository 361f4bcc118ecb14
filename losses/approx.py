"""Approximate Softmax: SSM, NCE, HSM and RG (CLAIMS.md §4, APX).

Every method returns, for scores ``theta`` (B, n) and labels ``y`` (B,), its per-example
loss (B,) and its **score-gradient estimate** ``g̃`` (B, n): the gradient of the method's
own loss w.r.t. θ, an estimate of the full-softmax gradient ``g = softmax(θ) − e_y``
(:func:`softmax_grad`).  The losses are plain torch expressions, so autograd through
them (e.g. into user and item embeddings of an MF model, θ = U Vᵀ) gives the same
``g̃``; the closed forms here are what the bias–variance ground truth
(``numerics/apx_exact.py``) and Monte Carlo share.

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

Bad input raises ``ValueError`` naming the argument.
"""
from __future__ import annotations

import functools
import heapq
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import check_index_target, check_scores, domain_tol

__all__ = [
    "softmax_grad", "sample", "uniform_proposal", "unigram_proposal", "mixture_proposal",
    "ideal_proposal", "negative_proposal", "check_proposal", "ssm_loss", "ssm_grad", "nce_loss",
    "nce_grad", "Tree", "balanced_tree", "huffman_tree", "hsm_log_probs", "hsm_loss",
    "hsm_node_grad", "hsm_grad", "rg_loss", "rg_grad", "scores_at", "ssm_kernel", "nce_kernel",
    "densify", "check_normalizer",
]


# ---------------------------------------------------------------- shared pieces
def softmax_grad(theta: Tensor, y: Tensor) -> Tensor:
    """The full-softmax score gradient ``g = softmax(θ) − e_y`` (B, n)."""
    check_scores(theta)
    check_index_target(y, theta, "y")
    g = torch.softmax(theta, -1)
    return g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))


def scores_at(user: Tensor, items: Tensor, index: Tensor) -> Tensor:
    """MF scores ``⟨user_b, items_{index[b, …]}⟩`` for gathered indices only.

    ``user`` (B, d), ``items`` (n, d), ``index`` (B, …) → (B, …); the sampled losses need
    the scores of y and of the samples, not all n (``θ = user @ items.T`` for the
    full-score forms).  Differentiable in ``user`` and ``items``."""
    return torch.einsum("bd,b...d->b...", user, items[index])


def _check_2d(theta: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    check_scores(theta)
    if theta.dim() != 2:
        raise ValueError(f"theta must have shape (B, n), got {tuple(theta.shape)}")
    check_index_target(y, theta, "y")
    return theta, y


def check_proposal(q: Tensor, theta: Tensor, name: str = "q") -> Tensor:
    """A distribution over the n classes, (n,) or (B, n), cast to θ's dtype/device → (B, n)."""
    if not isinstance(q, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(q).__name__}")
    if not q.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {q.dtype}")
    B, n = theta.shape
    if q.shape not in ((n,), (B, n)):
        raise ValueError(f"{name} must have shape ({n},) or ({B}, {n}), got {tuple(q.shape)}")
    _check_distribution(q, name)
    return q.to(device=theta.device, dtype=theta.dtype).expand(B, n)


def _check_distribution(q: Tensor, name: str) -> None:
    if not bool(torch.isfinite(q).all()):
        raise ValueError(f"{name} is not a distribution: it contains NaN or infinite entries")
    if bool((q < 0).any()):
        raise ValueError(f"{name} is not a distribution: it has negative entries")
    s = q.sum(-1)
    tol = domain_tol(q.dtype, q.shape[-1])
    if bool(((s - 1).abs() > tol).any()):
        raise ValueError(f"{name} is not a distribution: its entries sum to {s.min().item():.6g}…{s.max().item():.6g}, not 1")


def _check_samples(samples: Tensor, theta: Tensor, name: str = "samples") -> Tensor:
    if not isinstance(samples, Tensor) or samples.is_floating_point() or samples.is_complex() or samples.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor of class indices (B, m)")
    B, n = theta.shape
    if samples.dim() != 2 or samples.shape[0] != B:
        raise ValueError(f"{name} must have shape ({B}, m), got {tuple(samples.shape)}")
    if samples.shape[1] < 1:
        raise ValueError(f"{name} must hold m ≥ 1 samples per row, got m = {samples.shape[1]}")
    if int(samples.min()) < 0 or int(samples.max()) >= n:
        raise ValueError(f"{name} has class indices outside [0, {n - 1}]")
    return samples.to(theta.device)


def _check_count(m, name: str) -> int:
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"{name} must be an integer ≥ 1, got {m!r}")
    return m


# ---------------------------------------------------------------- proposals and sampling
def uniform_proposal(n: int, *, dtype=torch.float64, device=None) -> Tensor:
    """Uniform over the n classes (for canonical SSM: uniform over the negatives)."""
    _check_count(n, "n")
    return torch.full((n,), 1.0 / n, dtype=dtype, device=device)


def unigram_proposal(counts: Tensor, power: float = 1.0) -> Tensor:
    """Popularity proposal ``q_j ∝ counts_j^power`` (power 0.75 is the word2vec choice)."""
    if not isinstance(counts, Tensor) or counts.dim() != 1:
        raise ValueError("counts must be a 1-D tensor of class frequencies")
    counts = counts.double() if not counts.is_floating_point() else counts
    if not bool(torch.isfinite(counts).all()) or bool((counts < 0).any()):
        raise ValueError("counts must be finite and non-negative")
    w = counts ** power if power != 1.0 else counts
    if not float(w.sum()) > 0:
        raise ValueError("counts must have positive total mass")
    return w / w.sum()


def mixture_proposal(q1: Tensor, q2: Tensor, weight: float) -> Tensor:
    """``weight · q1 + (1 − weight) · q2`` for weight in [0, 1]."""
    if not (0.0 <= float(weight) <= 1.0):
        raise ValueError(f"weight must lie in [0, 1], got {weight!r}")
    for name, q in (("q1", q1), ("q2", q2)):
        if not isinstance(q, Tensor) or not q.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor")
        _check_distribution(q, name)
    if q1.shape != q2.shape:
        raise ValueError(f"q1 and q2 must have the same shape, got {tuple(q1.shape)} and {tuple(q2.shape)}")
    return weight * q1 + (1 - weight) * q2


def ideal_proposal(theta: Tensor, y: Tensor | None = None) -> Tensor:
    """``q ∝ exp θ`` (B, n); with ``y``, restricted to the negatives (``q_y = 0``)."""
    check_scores(theta)
    if y is None:
        return torch.softmax(theta, -1)
    _check_2d(theta, y)
    return torch.softmax(theta.scatter(-1, y[:, None], float("-inf")), -1)


def negative_proposal(q: Tensor, theta: Tensor, y: Tensor, name: str = "q") -> Tensor:
    """The canonical SSM proposal ``q̃ = q`` conditioned on j ≠ y: (B, n), zero at y."""
    q = check_proposal(q, theta, name)
    qt = q.scatter(-1, y[:, None], 0.0)
    mass = qt.sum(-1, keepdim=True)
    if bool((mass <= 0).any()):
        raise ValueError(f"{name} puts zero mass on every negative class of some row; SSM cannot sample a negative")
    return qt / mass


def sample(q: Tensor, m: int, generator: torch.Generator | None = None, *, batch: int | None = None,
           exclude: Tensor | None = None) -> Tensor:
    """m i.i.d. draws with replacement from q: (B, m) class indices.

    ``q`` (n,) or (B, n).  ``exclude`` (B,) draws from q conditioned on j ≠ exclude_b (the
    canonical SSM proposal over the negatives).  ``batch`` sets B for a shared (n,) q."""
    _check_count(m, "m")
    if not isinstance(q, Tensor) or not q.is_floating_point() or q.dim() not in (1, 2):
        raise ValueError("q must be a floating-point tensor of shape (n,) or (B, n)")
    _check_distribution(q, "q")
    B = q.shape[0] if q.dim() == 2 else (exclude.shape[0] if exclude is not None else (batch or 1))
    w = q.expand(B, q.shape[-1]) if q.dim() == 1 else q
    if batch is not None and batch != B:
        raise ValueError(f"batch = {batch} does not match q's rows {B}")
    if exclude is not None:
        if exclude.shape != (B,):
            raise ValueError(f"exclude must have shape ({B},), got {tuple(exclude.shape)}")
        w = w.scatter(-1, exclude[:, None].to(w.device), 0.0)
        if bool((w.sum(-1) <= 0).any()):
            raise ValueError("q puts zero mass on every class outside exclude for some row")
    return torch.multinomial(w, m, replacement=True, generator=generator)


# ---------------------------------------------------------------- SSM
def ssm_kernel(o_pos: Tensor, o_neg: Tensor) -> tuple[Tensor, Tensor]:
    """The SSM estimator on gathered logits, shared by :func:`ssm_grad` and the Monte Carlo.

    ``o_pos`` (B, 1) the corrected positive logit, ``o_neg`` (B, m) the corrected sample
    logits (−∞ for removed accidental hits) → (loss (B,), values (B, 1 + m)): the sparse
    gradient ``g̃ = (w_0 − 1) e_y + Σ_k w_k e_{s_k}`` at the indices ``[y, s_1 … s_m]``."""
    o = torch.cat([o_pos, o_neg], -1)
    lse = torch.logsumexp(o, -1, keepdim=True)
    w = torch.exp(o - lse)
    return (lse - o_pos)[:, 0], torch.cat([w[:, :1] - 1, w[:, 1:]], -1)


def _ssm_logits(theta, y, samples, q, variant, remove_accidental_hits):
    theta, y = _check_2d(theta, y)
    samples = _check_samples(samples, theta)
    m = samples.shape[1]
    pos = theta.gather(-1, y[:, None])                                     # (B, 1)
    neg = theta.gather(-1, samples)                                        # (B, m)
    if variant == "canonical":
        qt = negative_proposal(q, theta, y)
        if bool((samples == y[:, None]).any()):
            raise ValueError("samples contain the label y; canonical SSM draws negatives only (use variant='tf')")
        qs = qt.gather(-1, samples)
        if bool((qs <= 0).any()):
            raise ValueError("samples contain a class of zero proposal mass (log q̃ = −∞)")
        return theta, y, samples, pos, neg - torch.log(m * qs)
    if variant == "tf":
        q = check_proposal(q, theta)
        qy = q.gather(-1, y[:, None])
        if bool((qy <= 0).any()):
            raise ValueError("q has zero mass on the label y; the TF-style SSM corrects the positive by log(m q_y)")
        qs = q.gather(-1, samples)
        if bool((qs <= 0).any()):
            raise ValueError("samples contain a class of zero proposal mass (log q = −∞)")
        on = neg - torch.log(m * qs)
        if remove_accidental_hits:
            on = on.masked_fill(samples == y[:, None], float("-inf"))
        return theta, y, samples, pos - torch.log(m * qy), on
    raise ValueError(f"variant must be 'canonical' or 'tf', got {variant!r}")


def ssm_loss(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor, *, variant: str = "canonical",
             remove_accidental_hits: bool = True) -> Tensor:
    """Sampled-softmax loss ``−o_0 + logsumexp(o)`` (B,); see the module docstring."""
    _, _, _, o_pos, o_neg = _ssm_logits(theta, y, samples, q, variant, remove_accidental_hits)
    return torch.logsumexp(torch.cat([o_pos, o_neg], -1), -1) - o_pos[:, 0]


def ssm_grad(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor, *, variant: str = "canonical",
             remove_accidental_hits: bool = True) -> tuple[Tensor, Tensor]:
    """(loss (B,), g̃ (B, n)) with ``g̃ = (w_0 − 1) e_y + Σ_k w_k e_{s_k}``, w = softmax(o)."""
    theta, y, samples, o_pos, o_neg = _ssm_logits(theta, y, samples, q, variant, remove_accidental_hits)
    loss, vals = ssm_kernel(o_pos, o_neg)
    return loss, densify(torch.cat([y[:, None], samples], -1), vals, theta.shape[1])


def densify(index: Tensor, values: Tensor, n: int) -> Tensor:
    """Sparse rows (B, K) of (index, value) pairs, repeated indices summed → dense (B, n)."""
    return torch.zeros(index.shape[0], n, dtype=values.dtype, device=values.device).scatter_add_(-1, index, values)


# ---------------------------------------------------------------- NCE
def nce_kernel(d_pos: Tensor, d_neg: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The NCE estimator on gathered ``Δ`` (shared by :func:`nce_grad` and the Monte Carlo):
    ``d_pos`` (B, 1), ``d_neg`` (B, k) → (loss (B,), values (B, 1 + k) of the sparse
    ``g̃ = −σ(−Δ_y) e_y + Σ_i σ(Δ_{s_i}) e_{s_i}`` at ``[y, s_1 … s_k]``, ∂loss/∂c (B,))."""
    loss = F.softplus(-d_pos[:, 0]) + F.softplus(d_neg).sum(-1)
    a = torch.sigmoid(-d_pos)                                               # 1 − σ(Δ_y)
    b = torch.sigmoid(d_neg)
    return loss, torch.cat([-a, b], -1), a[:, 0] - b.sum(-1)


def _nce_parts(theta, y, samples, q, c):
    theta, y = _check_2d(theta, y)
    samples = _check_samples(samples, theta)
    q = check_proposal(q, theta)
    k = samples.shape[1]
    qy = q.gather(-1, y[:, None])
    if bool((qy <= 0).any()):
        raise ValueError("q has zero mass on the label y; NCE needs log(k q_y)")
    qs = q.gather(-1, samples)
    if bool((qs <= 0).any()):
        raise ValueError("samples contain a class of zero noise mass (log q = −∞)")
    c = check_normalizer(c, theta)
    d_pos = theta.gather(-1, y[:, None]) - c - torch.log(k * qy)            # (B, 1)
    d_neg = theta.gather(-1, samples) - c - torch.log(k * qs)               # (B, k)
    return theta, y, samples, d_pos, d_neg


def check_normalizer(c, theta: Tensor) -> Tensor:
    """NCE's c: a scalar or one per row, finite → broadcastable (1, 1) or (B, 1)."""
    c = torch.as_tensor(c, dtype=theta.dtype, device=theta.device)
    if c.dim() > 1 or (c.dim() == 1 and c.shape[0] != theta.shape[0]):
        raise ValueError(f"c must be a scalar or have shape ({theta.shape[0]},), got {tuple(c.shape)}")
    if not bool(torch.isfinite(c).all()):
        raise ValueError("c must be finite")
    return c.reshape(-1, 1)


def nce_loss(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor, c: float | Tensor = 0.0) -> Tensor:
    """``−log σ(Δ_y) − Σ_i log(1 − σ(Δ_{s_i}))`` (B,), ``Δ_j = θ_j − c − log(k q_j)``."""
    _, _, _, d_pos, d_neg = _nce_parts(theta, y, samples, q, c)
    return F.softplus(-d_pos[:, 0]) + F.softplus(d_neg).sum(-1)


def nce_grad(theta: Tensor, y: Tensor, samples: Tensor, q: Tensor,
             c: float | Tensor = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """(loss (B,), g̃ (B, n), ∂loss/∂c (B,)); ``g̃ = −σ(−Δ_y) e_y + Σ_i σ(Δ_{s_i}) e_{s_i}``."""
    theta, y, samples, d_pos, d_neg = _nce_parts(theta, y, samples, q, c)
    loss, vals, dc = nce_kernel(d_pos, d_neg)
    return loss, densify(torch.cat([y[:, None], samples], -1), vals, theta.shape[1]), dc


# ---------------------------------------------------------------- HSM
@dataclass(frozen=True)
class Tree:
    """A full binary tree over the n classes.

    Nodes 0 … n−1 are the leaves (classes), n … 2n−2 the internal nodes; ``children[i]``
    is the (left, right) pair of internal node n + i.  Internal node n + i owns score
    ``u[..., i]``.  Validation: n − 1 internal nodes, every leaf exactly once, every
    internal node but one (the root) exactly once, everything reachable from the root."""

    n: int
    children: tuple[tuple[int, int], ...]
    root: int = field(init=False)
    path: Tensor = field(init=False, repr=False)      # (n, D) internal-node index (0 … n−2), 0-padded
    sign: Tensor = field(init=False, repr=False)      # (n, D) +1 left, −1 right, 0 padding

    def __post_init__(self):
        n = self.n
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an integer ≥ 2, got {n!r}")
        ch = [tuple(int(a) for a in pair) for pair in self.children]
        if len(ch) != n - 1 or any(len(p) != 2 for p in ch):
            raise ValueError(f"children must list n − 1 = {n - 1} (left, right) pairs, got {len(ch)}")
        flat = [a for p in ch for a in p]
        if any(a < 0 or a > 2 * n - 2 for a in flat):
            raise ValueError(f"children refer to nodes outside [0, {2 * n - 2}]")
        seen = [0] * (2 * n - 1)
        for a in flat:
            seen[a] += 1
        missing = [j for j in range(n) if seen[j] == 0]
        dup = [j for j in range(2 * n - 1) if seen[j] > 1]
        if dup:
            raise ValueError(f"children: nodes {dup} appear more than once (duplicate leaves or shared subtrees)")
        if missing:
            raise ValueError(f"children: the tree is missing leaves {missing}")
        roots = [v for v in range(n, 2 * n - 1) if seen[v] == 0]
        if len(roots) != 1:
            raise ValueError(f"children: expected exactly one root, got {roots}")
        root = roots[0]
        parent: dict[int, tuple[int, float]] = {}
        for i, (l, r) in enumerate(ch):
            parent[l] = (i, 1.0)
            parent[r] = (i, -1.0)
        # reachability (rules out cycles detached from the root)
        reach, stack = set(), [root]
        while stack:
            v = stack.pop()
            if v in reach:
                raise ValueError("children: the node graph has a cycle")
            reach.add(v)
            if v >= n:
                stack.extend(ch[v - n])
        if len(reach) != 2 * n - 1:
            raise ValueError("children: some nodes are not reachable from the root (a cycle)")
        paths, signs = [], []
        for j in range(n):
            p, s, v = [], [], j
            while v != root:
                i, sg = parent[v]
                p.append(i)
                s.append(sg)
                v = n + i
            paths.append(p[::-1])
            signs.append(s[::-1])
        D = max(len(p) for p in paths)
        path = torch.tensor([p + [0] * (D - len(p)) for p in paths], dtype=torch.long)
        sign = torch.tensor([s + [0.0] * (D - len(s)) for s in signs], dtype=torch.float64)
        object.__setattr__(self, "children", tuple(ch))
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "sign", sign)

    @functools.cached_property
    def tie(self) -> Tensor:
        """(n−1, n) ``A_{vj} = 1/|leaves(v)|`` for j under v (reading H2), built on first use:
        it is dense, 8 n² bytes, and only H2 needs it."""
        tie = torch.zeros(self.n - 1, self.n, dtype=torch.float64)
        live = self.sign != 0
        tie[self.path[live], torch.arange(self.n)[:, None].expand_as(self.path)[live]] = 1.0
        return tie / tie.sum(-1, keepdim=True)

    def depth(self) -> Tensor:
        """Path length of each leaf (n,)."""
        return (self.sign != 0).sum(-1)


def balanced_tree(n: int) -> Tree:
    """Balanced tree over classes 0 … n−1 in index order: a range of size s splits into
    its first ⌈s/2⌉ classes (left) and the rest (right); internal nodes are numbered in
    post-order, so the root is node 2n − 2."""
    _check_count(n, "n")
    if n < 2:
        raise ValueError(f"n must be ≥ 2, got {n}")
    children: list[tuple[int, int]] = []

    def build(lo: int, hi: int) -> int:
        if hi - lo == 1:
            return lo
        mid = lo + (hi - lo + 1) // 2
        left, right = build(lo, mid), build(mid, hi)
        children.append((left, right))
        return n + len(children) - 1

    build(0, n)
    return Tree(n, tuple(children))


def huffman_tree(freq: Tensor) -> Tree:
    """Huffman tree by class frequency: repeatedly merge the two lightest nodes (ties
    broken by creation order; the lighter becomes the left child).  Frequent classes get
    short paths."""
    if not isinstance(freq, Tensor) or freq.dim() != 1 or freq.shape[0] < 2:
        raise ValueError("freq must be a 1-D tensor over n ≥ 2 classes")
    f = freq.double()
    if not bool(torch.isfinite(f).all()) or bool((f < 0).any()):
        raise ValueError("freq must be finite and non-negative")
    n = f.shape[0]
    heap = [(float(f[j]), j, j) for j in range(n)]
    heapq.heapify(heap)
    children: list[tuple[int, int]] = []
    order = n
    while len(heap) > 1:
        wa, _, a = heapq.heappop(heap)
        wb, _, b = heapq.heappop(heap)
        children.append((a, b))
        node = n + len(children) - 1
        heapq.heappush(heap, (wa + wb, order, node))
        order += 1
    return Tree(n, tuple(children))


def _check_tree(tree) -> Tree:
    if not isinstance(tree, Tree):
        raise ValueError(f"tree must be a Tree, got {type(tree).__name__}")
    return tree


def _check_nodes(u: Tensor, tree: Tree) -> Tensor:
    if not isinstance(u, Tensor) or not u.is_floating_point() or u.dim() != 2 or u.shape[1] != tree.n - 1:
        raise ValueError(f"u must be a floating tensor of shape (B, {tree.n - 1}) (one score per internal node)")
    if not bool(torch.isfinite(u).all()):
        raise ValueError("u contains NaN or infinite entries")
    return u


def hsm_log_probs(u: Tensor, tree: Tree) -> Tensor:
    """``log p(j)`` for every leaf j: (B, n) from node scores u (B, n − 1)."""
    tree = _check_tree(tree)
    u = _check_nodes(u, tree)
    sign = tree.sign.to(device=u.device, dtype=u.dtype)
    path = tree.path.to(u.device)
    return (F.logsigmoid(sign * u[:, path]) * (sign != 0)).sum(-1)


def _hsm_path(u, y, tree):
    sign = tree.sign.to(device=u.device, dtype=u.dtype)[y]                   # (B, D)
    path = tree.path.to(u.device)[y]
    return path, sign


def hsm_loss(u: Tensor, y: Tensor, tree: Tree) -> Tensor:
    """Reading H1: ``−log p(y) = Σ_{v ∈ path(y)} softplus(∓u_v)`` (B,) from node scores u."""
    tree = _check_tree(tree)
    u = _check_nodes(u, tree)
    check_index_target(y, u[:, :1].expand(-1, tree.n), "y")
    path, sign = _hsm_path(u, y, tree)
    return (F.softplus(-sign * u.gather(-1, path)) * (sign != 0)).sum(-1)


def hsm_node_grad(u: Tensor, y: Tensor, tree: Tree) -> tuple[Tensor, Tensor]:
    """Reading H1: (loss (B,), ∂loss/∂u (B, n − 1)), ``∂/∂u_v = ∓σ(∓u_v)`` on path(y)."""
    loss = hsm_loss(u, y, tree)
    path, sign = _hsm_path(u, y, tree)
    d = -sign * torch.sigmoid(-sign * u.gather(-1, path))
    return loss, torch.zeros_like(u).scatter_add_(-1, path, d)


def hsm_grad(theta: Tensor, y: Tensor, tree: Tree) -> tuple[Tensor, Tensor]:
    """Reading H2 (tied): ``u = A θ`` with A = ``tree.tie``; (loss (B,), g̃ = Aᵀ ∂loss/∂u (B, n)).

    For an MF model, ``θ = h Wᵀ`` and node vectors ``A W`` give the same u = h (A W)ᵀ."""
    theta, y = _check_2d(theta, y)
    tree = _check_tree(tree)
    if theta.shape[1] != tree.n:
        raise ValueError(f"tree has {tree.n} leaves but theta has n = {theta.shape[1]}")
    A = tree.tie.to(device=theta.device, dtype=theta.dtype)
    loss, du = hsm_node_grad(theta @ A.T, y, tree)
    return loss, du @ A


# ---------------------------------------------------------------- RG
def _check_kind(kind: str) -> str:
    if kind not in ("rg2", "rgx"):
        raise ValueError(f"kind must be 'rg2' or 'rgx', got {kind!r}")
    return kind


def rg_loss(theta: Tensor, y: Tensor, kind: str = "rg2") -> Tensor:
    """RG² or RG× loss (B,); the exact polynomials are in the module docstring."""
    theta, y = _check_2d(theta, y)
    _check_kind(kind)
    n = theta.shape[1]
    mean = theta.mean(-1)
    loss = -theta.gather(-1, y[:, None])[:, 0] + math.log(n) + mean + (theta * theta).sum(-1) / (2 * n)
    return loss - 0.5 * mean * mean if kind == "rgx" else loss


def rg_grad(theta: Tensor, y: Tensor, kind: str = "rg2") -> tuple[Tensor, Tensor]:
    """(loss, g̃): RG² ``(1 + θ)/n − e_y``; RG× ``(1 + θ − θ̄)/n − e_y``."""
    loss = rg_loss(theta, y, kind)
    n = theta.shape[1]
    g = (1 + theta) / n
    if kind == "rgx":
        g = g - theta.mean(-1, keepdim=True) / n
    return loss, g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))
