"""Hierarchical softmax (HSM): binary trees over the classes, readings H1 (free node scores)
and H2 (tied node scores u = A θ); definitions in losses/approx.py, which re-exports every name."""
from __future__ import annotations

import functools
import heapq
import operator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import ArgumentTypeError
from .approx_common import _check_2d, _check_count, _check_float_tensor, check_labels

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
        n = _check_count(self.n, "n", least=2)
        ch = _check_children(self.children)
        if len(ch) != n - 1:
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
        object.__setattr__(self, "n", n)
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

    def nested(self) -> str:
        """The tree as nested pairs of leaf indices, e.g. '((0,1),2)' (the format stored in
        results.json and read by the outside re-checker)."""
        def walk(v: int) -> str:
            if v < self.n:
                return str(v)
            a, b = self.children[v - self.n]
            return f"({walk(a)},{walk(b)})"
        return walk(self.root)


def _check_children(children) -> list[tuple[int, int]]:
    """(left, right) pairs of integer node indices (int, numpy or 0-d integer tensor; a
    float such as 3.5 or 3.0, a bool or a string is refused, as torch refuses them as
    indices)."""
    try:
        pairs = [tuple(pair) for pair in children]
    except TypeError:
        raise ArgumentTypeError(f"children must be a sequence of (left, right) pairs of node indices, "
                                f"got {children!r}") from None
    bad = [p for p in pairs if len(p) != 2]
    if bad:
        raise ValueError(f"children must be (left, right) pairs, got {bad[0]!r}")
    return [(_node(a), _node(b)) for a, b in pairs]


def _node(a) -> int:
    if isinstance(a, bool) or (isinstance(a, Tensor) and a.dtype == torch.bool):
        raise ArgumentTypeError(f"children: node indices must be integers, got {a!r}")
    try:
        return operator.index(a)
    except TypeError:
        raise ArgumentTypeError(f"children: node indices must be integers, got {type(a).__name__} {a!r}") from None


def balanced_tree(n: int) -> Tree:
    """Balanced tree over classes 0 … n−1 in index order: a range of size s splits into
    its first ⌈s/2⌉ classes (left) and the rest (right); internal nodes are numbered in
    post-order, so the root is node 2n − 2."""
    n = _check_count(n, "n", least=2)
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
    if not isinstance(freq, Tensor) or freq.dtype == torch.bool or freq.is_complex():
        raise ArgumentTypeError(f"freq must be a real torch.Tensor of class frequencies, got "
                                f"{freq.dtype if isinstance(freq, Tensor) else type(freq).__name__}")
    if freq.dim() != 1 or freq.shape[0] < 2:
        raise ValueError(f"freq must be a 1-D tensor over n ≥ 2 classes, got shape {tuple(freq.shape)}")
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
        raise ArgumentTypeError(f"tree must be a Tree, got {type(tree).__name__}")
    return tree


def _check_nodes(u: Tensor, tree: Tree) -> Tensor:
    _check_float_tensor(u, "u")
    if u.dim() != 2 or u.shape[1] != tree.n - 1:
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
    """(path (B, D), sign (B, D)) of each label, after validating u, y (→ int64) and tree."""
    tree = _check_tree(tree)
    u = _check_nodes(u, tree)
    y = check_labels(y, u[:, :1].expand(-1, tree.n), "y")
    sign = tree.sign.to(device=u.device, dtype=u.dtype)[y]                   # (B, D)
    path = tree.path.to(u.device)[y]
    return path, sign


def hsm_loss(u: Tensor, y: Tensor, tree: Tree) -> Tensor:
    """Reading H1: ``−log p(y) = Σ_{v ∈ path(y)} softplus(∓u_v)`` (B,) from node scores u."""
    path, sign = _hsm_path(u, y, tree)
    return (F.softplus(-sign * u.gather(-1, path)) * (sign != 0)).sum(-1)


def hsm_node_grad(u: Tensor, y: Tensor, tree: Tree) -> tuple[Tensor, Tensor]:
    """Reading H1: (loss (B,), ∂loss/∂u (B, n − 1)), ``∂/∂u_v = ∓σ(∓u_v)`` on path(y)."""
    path, sign = _hsm_path(u, y, tree)
    loss = (F.softplus(-sign * u.gather(-1, path)) * (sign != 0)).sum(-1)
    d = -sign * torch.sigmoid(-sign * u.gather(-1, path))
    return loss, torch.zeros_like(u).scatter_add_(-1, path, d)


def hsm_grad(theta: Tensor, y: Tensor, tree: Tree) -> tuple[Tensor, Tensor]:
    """Reading H2 (tied): ``u = A θ`` with A = ``tree.tie``; (loss (B,), g̃ = Aᵀ ∂loss/∂u (B, n)).

    For an MF model, ``θ = h Wᵀ`` and node vectors ``A W`` give the same u = h (A W)ᵀ."""
    theta, y = _check_2d(theta, y)
    if bool(torch.isneginf(theta).any()):
        raise ValueError("theta has masked classes (−inf): HSM's tree normalizes over every leaf, so a class "
                         "cannot be masked by its score; build the tree over the unmasked classes instead")
    tree = _check_tree(tree)
    if theta.shape[1] != tree.n:
        raise ValueError(f"tree has {tree.n} leaves but theta has n = {theta.shape[1]}")
    A = tree.tie.to(device=theta.device, dtype=theta.dtype)
    loss, du = hsm_node_grad(theta @ A.T, y, tree)
    return loss, du @ A
