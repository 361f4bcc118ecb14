"""Matrix-factorization objectives, one per member of the Softmax family (CLAIMS.md §5–6).

Model: user vectors ``P`` (U, d), item vectors ``Q`` (n, d), scores ``θ_u = Q p_u``.
A training step sees a :class:`Batch`: some users and all of their training interactions.
Every objective is the sum over the batch's interactions (u, i) of the method's
per-interaction loss ``ℓ(θ_u; i)``, up to an additive constant, computed the cheapest
exact way the method allows:

- **exact FY losses** (softmax, sparsemax, 1.5-entmax): ``Σ_{i ∈ I_u} L_Ω(θ_u; e_i) =
  c_u Ω*(θ_u) − Σ_{i ∈ I_u} θ_{ui} + const`` (Blondel et al. 2020, the loss is
  ``Ω*(θ) + Ω(y) − ⟨θ, y⟩``), so one score row and one prediction map per *user*
  serve all c_u of its interactions: cost ``O(U n d + N)`` per epoch instead of the
  per-interaction ``O(N n d)``; ``∇ = c_u ŷ(θ_u) − Σ_i e_i`` exactly as the sum of the
  per-interaction gradients.  With one interaction per user (CPX-1's cost model) it is
  the per-interaction loss.  Ω* carries its gradient by the envelope theorem:
  value ``Ω*(θ)``, gradient ``ŷ(θ)`` (computed once, sparse for the sparse maps);
- **rankmax**: the multi-label loss of Kong et al. 2020 with the user's training items
  as labels, ``L_{C_k}(θ_u; y_u)``, ``k = c_u`` (``losses.rankmax.capped_projection``):
  one loss per user, not per interaction (with c_u = 1 it is sparsemax);
- **SSM** (canonical, logQ-corrected, ``losses.approx.ssm_kernel``'s estimator): m negatives
  per interaction i.i.d. from the proposal conditioned on j ≠ i, uniform or popularity
  (train counts + 1);  **NCE** (``nce_kernel``'s): k = m noise items per interaction
  from the popularity distribution, a learned normalizer c (Gutmann & Hyvärinen 2010);
  exact O(1) samplers (:func:`uniform_excluding`, :class:`AliasTable`), the (N_b, 1 + m)
  scores by :func:`picked_scores`: cost ``O(N m d)``;
- **HSM** (Morin & Bengio 2005, reading H1 of APX-4): free node vectors on the
  Huffman tree of training popularity (word2vec's choice); cost ``O(N d log n)``;
- **RG²** (Pu et al. 2025): ``ℓ = −θ_{ui} + log n + θ̄_u + (1/2n) Σ_j θ_{uj}²``.
  Because ``Σ_j θ_{uj}² = p_uᵀ G p_u`` with ``G = QᵀQ`` and ``θ̄_u = p_u·q̄``, the
  per-user sum is a quadratic in p_u (and in each q_j): ``rg2/sgd`` trains it by gradient in
  ``O(N d + (U + n) d²)`` (by score rows, O(U n d), if less); ``rg2/als`` (the paper's solver) alternates
  the closed forms ``p_u = ((c_u/n) G + λI)⁻¹ (Σ_{i ∈ I_u} q_i − c_u q̄)`` and
  ``q_j = ((1/n) H + λI)⁻¹ (Σ_{u ∋ j} p_u − (1/n) Σ_u c_u p_u)``,
  ``H = Σ_u c_u p_u p_uᵀ``: ``O(N d + n d² + U d³)`` per sweep;
- **popularity**: the baseline, scores = training counts (nothing to train).

``batch_loss`` returns (loss, grad_frac): grad_frac is the fraction of the batch's
(user, non-positive item) pairs whose score receives a non-zero gradient (DYN-1's
measure); None where it is not defined on a score row (sampled, tree, RG).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from losses import approx
from losses.rankmax import capped_projection

METHODS = ("softmax", "sparsemax", "entmax-1.5", "rankmax", "ssm/uniform", "ssm/popularity", "nce", "hsm",
           "rg2/als", "rg2/als-authors", "rg2/sgd", "popularity")
EXACT = ("softmax", "sparsemax", "entmax-1.5", "rankmax")
INIT_STD = 0.1


@dataclass(frozen=True)
class Batch:
    """Users (B,), their interaction counts in the batch (B,), and the interactions:
    ``rows`` (N_b,) the batch row of each interaction, ``items`` (N_b,) its item."""

    users: Tensor
    counts: Tensor
    rows: Tensor
    items: Tensor

    @property
    def size(self) -> int:
        return int(self.items.shape[0])


def take(table: Tensor, index: Tensor) -> Tensor:
    """``table[index]`` for a 1-D table by ``index_select`` (2–3× faster than advanced
    indexing on CPU for the (N_b, m) sample arrays)."""
    return table.index_select(0, index.reshape(-1)).view(index.shape)


def rows_of(table: Tensor, index: Tensor) -> Tensor:
    """``table[index]`` for a 2-D table and any index shape, by ``index_select``: its
    backward (index_add) is about 3× faster on CPU than advanced indexing's."""
    return table.index_select(0, index.reshape(-1)).view(*index.shape, table.shape[1])


def _normal(shape, gen: torch.Generator, device, dtype) -> Tensor:
    return (torch.randn(*shape, generator=gen, dtype=dtype) * INIT_STD).to(device).requires_grad_()


class Method:
    """Base: an MF model ``θ_u = Q p_u`` trained by gradient on :meth:`batch_loss`."""

    name = "?"
    kind = "sgd"  # sgd | als | fixed

    def __init__(self, m: int = 64, lam: float = 1.0):
        self.m, self.lam = int(m), float(lam)

    def init(self, n_users: int, n_items: int, d: int, item_counts: Tensor, generator: torch.Generator,
             device="cpu", dtype=torch.float32) -> dict[str, Tensor]:
        if n_items < 2 or n_users < 1 or d < 1:
            raise ValueError(f"need n_items ≥ 2, n_users ≥ 1, d ≥ 1, got {n_items}, {n_users}, {d}")
        if item_counts.shape != (n_items,):
            raise ValueError(f"item_counts must have shape ({n_items},), got {tuple(item_counts.shape)}")
        self.n = n_items
        self.counts = item_counts.to(device=device, dtype=torch.float64)
        return {"user": _normal((n_users, d), generator, device, dtype),
                "item": _normal((n_items, d), generator, device, dtype)}

    def scores(self, params: dict[str, Tensor], users: Tensor) -> Tensor:
        return params["user"][users] @ params["item"].T

    def batch_loss(self, params: dict[str, Tensor], batch: Batch, generator: torch.Generator
                   ) -> tuple[Tensor, float | None]:
        raise NotImplementedError


# ------------------------------------------------------------------ exact FY losses
class ExactFY(Method):
    """MF trained on an exact FY loss, given as a value (its regularizer decides everything)."""

    def __init__(self, name: str, loss, **kw):
        super().__init__(**kw)
        self.name, self.loss = name, loss

    def positives(self, batch: Batch) -> Tensor:
        """The positive item of each interaction of ``batch`` (N_b,): its own training item,
        the label source of the linear term ``Σ_{i ∈ I_u} θ_{ui}``."""
        return batch.items

    def batch_loss(self, params, batch, generator):
        theta = rows_of(params["user"], batch.users) @ params["item"].T        # (B, n)
        td, (B, n) = theta.detach(), theta.shape
        flat = batch.rows * n + self.positives(batch)                           # where the θ_{ui} are
        c = batch.counts.to(theta.dtype)
        sol = self.loss.solve_batch(td)   # the map's own solver: dense ŷ or ŷ on a top-K slice
        conj = (sol.conj_shifted + sol.shift.squeeze(-1).to(sol.conj_shifted.dtype)).to(theta.dtype)
        p = sol.values.to(theta.dtype)
        if sol.index is not None:
            conj = conj + ((theta.gather(-1, sol.index) - td.gather(-1, sol.index)) * p).sum(-1)
            support = torch.zeros_like(td, dtype=torch.bool).scatter_(-1, sol.index, sol.values > 0)
            return (c * conj).sum() - take(theta.view(-1), flat).sum(), _grad_frac(support, batch)
        support = p > 0
        # dense ŷ: the gradient w.r.t. θ is c_u ŷ_u − Σ_{i ∈ I_u} e_i (envelope theorem), formed in place
        grad = p.mul_(c[:, None]).view(-1).index_add_(0, flat, torch.full_like(flat, -1, dtype=p.dtype)).view(B, n)
        value = (c * conj).sum() - take(td.view(-1), flat).sum()
        return _Fixed.apply(theta, value, grad), _grad_frac(support, batch)


class _Fixed(torch.autograd.Function):
    """A scalar of θ given its value and its gradient (B, n): one product in the backward."""

    @staticmethod
    def forward(ctx, theta, value, grad):
        ctx.save_for_backward(grad)
        return value.clone()

    @staticmethod
    def backward(ctx, g):
        (grad,) = ctx.saved_tensors
        return g * grad, None, None


class Rankmax(Method):
    name = "rankmax"

    def batch_loss(self, params, batch, generator):
        theta = rows_of(params["user"], batch.users) @ params["item"].T
        td = theta.detach()
        p = capped_projection(td, batch.counts)
        # L_{C_k}(θ; y) = ⟨θ, ŷ⟩ − ½‖ŷ‖² + ½‖y‖² − ⟨θ, y⟩, ŷ held fixed: gradient ŷ − y (envelope)
        conj = (theta * p).sum(-1) - 0.5 * (p * p).sum(-1)
        loss = conj.sum() + 0.5 * batch.counts.to(theta.dtype).sum() - theta[batch.rows, batch.items].sum()
        return loss, _grad_frac(p > 0, batch)


def _grad_frac(support: Tensor, batch: Batch) -> float:
    """Fraction of (user, negative item) pairs with ŷ_j > 0, i.e. a non-zero gradient."""
    B, n = support.shape
    pos = torch.zeros(B * n, dtype=torch.bool, device=support.device).index_fill_(0, batch.rows * n + batch.items, True)
    negatives = B * n - int(torch.count_nonzero(pos))   # count_nonzero: a bool .sum() converts to int64 first
    return float(torch.count_nonzero(support.view(-1) & ~pos)) / max(negatives, 1)


# ------------------------------------------------------------------ sampled losses
#: the dense route of :func:`picked_scores` is taken up to ``B n ≤ DENSE_FACTOR · N_b K``:
#: per multiply-add it runs 20–80× faster on one CPU core than the gather route (measured on
#: ML-100K batches, N_b K ≈ 10⁵, d = 64: 2 ms against 40–150 ms forward + backward), whose
#: (N_b, K, d) operand and its gradient are rebuilt, page-faulted and added back every step
DENSE_FACTOR = 8


def picked_scores(user: Tensor, table: Tensor, users: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """``s[r, k] = user[users[rows[r]]] · table[cols[r, k]]`` (N_b, K) by one of two exact routes:

    - **dense**, when ``B n ≤ DENSE_FACTOR · N_b K`` (B = len(users), n = len(table)):
      ``θ = P_B tableᵀ`` (B, n), then the (N_b, K) entries picked by one flat
      ``index_select`` at ``rows · n + cols`` (backward: one index_add into a (B n) buffer);
    - **gather**: the (N_b, K, d) rows of ``table`` by one ``index_select`` (one lookup: the
      backward sums one sparse (n, d) gradient), times the interaction's user vector.

    Either costs ``O(min(B n, N_b K) d)`` (up to the constant factor), so CPX-1's
    per-interaction O(N m d) and O(N d log n) stay true: with one user per interaction
    (B = N_b) the dense route needs n ≤ DENSE_FACTOR · K, below CPX-1's grids."""
    B, n = users.shape[0], table.shape[0]
    N, K = cols.shape
    if B * n <= DENSE_FACTOR * N * K:
        theta = rows_of(user, users) @ table.T                                      # (B, n)
        flat = (rows[:, None] * n + cols).reshape(-1)
        return theta.reshape(-1).index_select(0, flat).view(N, K)
    h = rows_of(user, users.index_select(0, rows))                                  # (N_b, d)
    # product and sum, not einsum: its bmm copies the (N_b, K, d) operand into a permuted layout
    return (rows_of(table, cols) * h[:, None, :]).sum(-1)


@dataclass(frozen=True)
class AliasTable:
    """Walker's alias table of a distribution q over n classes (Walker 1977; Vose 1991):
    draw k uniform on {0 … n−1} and u uniform on [0, 1); return k if u < prob[k], else
    alias[k].  Class j is drawn with probability
    ``(prob_j + Σ_{k: alias_k = j} (1 − prob_k)) / n = q_j`` (:meth:`implied`), O(1) per draw."""

    prob: Tensor    # (n,) float64
    alias: Tensor   # (n,) long

    def implied(self) -> Tensor:
        """The distribution the table draws from (n,), float64."""
        n = self.prob.shape[0]
        spill = torch.zeros(n, dtype=torch.float64, device=self.prob.device).index_add_(0, self.alias, 1 - self.prob)
        return (self.prob + spill) / n

    def sample(self, shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
        """i.i.d. draws of the given shape (long), on the table's device."""
        n, dev = self.prob.shape[0], self.prob.device
        k = torch.randint(n, shape, generator=generator, device=dev)
        u = torch.rand(shape, generator=generator, device=dev, dtype=torch.float64)
        return torch.where(u < take(self.prob, k), k, take(self.alias, k))


def alias_table(q: Tensor) -> AliasTable:
    """The alias table of ``q`` (n,), built without a loop over classes.

    With w = n q, the "small" classes S (w < 1, in index order) need 1 − w_i from one other
    class, the "large" ones L (w ≥ 1) have w_j − 1 to give.  Vose's sequential fill (each
    small, in order, takes its deficit from the current large; a large whose remainder drops
    below 1 becomes small and takes its own deficit from the next large) has a closed form
    in the cumulative deficits F_i = Σ_{i' ≤ i} (1 − w_{S_i'}) and cumulative excesses
    E_j = Σ_{j' ≤ j} (w_{L_j'} − 1): small i takes from the first large with E_j ≥ F_{i−1};
    large j is exhausted at the first small with F_i > E_j, keeps prob 1 + E_j − F_i and
    takes the rest from large j + 1; a large never exhausted keeps prob 1.  (Large j then
    gives away F_{i*(j)} − F_{i*(j−1)} to smalls and F_{i*(j−1)} − E_{j−1} to large j − 1 and
    keeps 1 + E_j − F_{i*(j)}: w_j in all, so :meth:`AliasTable.implied` is q.)"""
    if not isinstance(q, Tensor) or q.dim() != 1 or q.shape[0] < 1 or not q.is_floating_point():
        raise ValueError("q must be a 1-D floating-point tensor over n ≥ 1 classes")
    q = q.double()
    if not bool(torch.isfinite(q).all()) or bool((q < 0).any()) or abs(float(q.sum()) - 1) > 1e-6:
        raise ValueError("q must be a probability vector: finite, non-negative, summing to 1")
    n = q.shape[0]
    w = q * (n / q.sum())   # a float32 q's rounding off 1 normalized away
    small = (w < 1).nonzero().flatten()
    large = (w >= 1).nonzero().flatten()
    F = torch.cumsum(1 - w[small], 0)
    E = torch.cumsum(w[large] - 1, 0)
    prob = torch.ones(n, dtype=torch.float64, device=q.device)
    alias = torch.arange(n, device=q.device)
    if small.numel():
        start = torch.cat([F.new_zeros(1), F[:-1]])
        j = torch.searchsorted(E, start, side="left").clamp_max(large.numel() - 1)
        prob[small], alias[small] = w[small], large[j]
        i = torch.searchsorted(F, E, side="right")                     # first small with F_i > E_j
        done = (i < small.numel()).nonzero().flatten()
        done = done[done < large.numel() - 1]                          # the last large keeps prob 1 (rounding)
        prob[large[done]] = (1 + E[done] - F[i[done]]).clamp(0, 1)
        alias[large[done]] = large[done + 1]
    return AliasTable(prob, alias)


def uniform_excluding(exclude: Tensor, n: int, m: int, generator: torch.Generator) -> Tensor:
    """m i.i.d. draws per row (N, m), uniform on {0 … n−1} \\ {exclude_r}: ``r`` uniform on
    {0 … n−2}, then ``r + (r ≥ exclude_r)`` (a bijection of {0 … n−2} onto the n − 1 other
    classes, so each has probability exactly 1/(n − 1)); no rejection, no (N, n) matrix."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer ≥ 2, got {n!r}")
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be an integer ≥ 1, got {m!r}")
    if not isinstance(exclude, Tensor) or exclude.dim() != 1 or exclude.is_floating_point():
        raise ValueError("exclude must be a 1-D integer tensor")
    if exclude.numel() and (int(exclude.min()) < 0 or int(exclude.max()) >= n):
        raise ValueError(f"exclude must hold classes in [0, {n - 1}]")
    r = torch.randint(n - 1, (exclude.shape[0], m), generator=generator, device=exclude.device)
    return r + (r >= exclude[:, None]).long()   # adding a bool tensor takes a 7× slower promotion path


class Sampled(Method):
    """SSM and NCE: the proposal q (popularity: train counts + 1) with its alias table and log
    table, built once in :meth:`init`; a batch's loss is :meth:`loss_on` at :meth:`draw`'s samples."""

    proposal = "popularity"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        params = super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        self.q = (approx.uniform_proposal(n_items, device=device) if self.proposal == "uniform"
                  else approx.unigram_proposal(self.counts + 1))
        self.table = alias_table(self.q) if self.proposal != "uniform" else None
        # log(m q_j) in float64, and cast once to the model's dtype: a correction is then a gather
        self.log_mq = math.log(self.m) + torch.log(self.q)
        self.log_mq_t = self.log_mq.to(dtype)
        return params

    def batch_loss(self, params, batch, generator):   # loss_on at the samples (N_b, m) of draw
        return self.loss_on(params, batch, self.draw(batch.items, generator)), None


class SSM(Sampled):
    """Canonical SSM: ``o_0 = θ_{ui}``, ``o_k = θ_{u s_k} − log(m q̃_{s_k})``, q̃ = q on j ≠ i."""

    def __init__(self, proposal: str, **kw):
        super().__init__(**kw)
        self.proposal, self.name = proposal, f"ssm/{proposal}"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        params = super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        self.log_1mq_t = torch.log1p(-self.q).to(dtype)                          # log(1 − q_i)
        return params

    def draw(self, items, generator):
        """m negatives per interaction from q conditioned on j ≠ i: uniform by
        :func:`uniform_excluding`; popularity from the alias table, a draw that hits i
        redrawn (rejection: exact, no (N_b, n) matrix)."""
        if self.table is None:
            return uniform_excluding(items, self.n, self.m, generator)
        s = self.table.sample((items.shape[0], self.m), generator)
        flat = s.view(-1)
        bad = (s == items[:, None]).view(-1).nonzero().squeeze(1)              # flat positions of hits
        while bad.numel():   # redraw the hits only, and check only the redrawn
            new = self.table.sample((bad.numel(),), generator)
            flat.index_copy_(0, bad, new)
            bad = bad[new == items.index_select(0, bad // self.m)]
        return s

    def loss_on(self, params, batch, samples):
        s = picked_scores(params["user"], params["item"], batch.users, batch.rows,
                          torch.cat([batch.items[:, None], samples], 1))          # (N_b, 1 + m)
        # the correction of column k ≥ 1, log(m q̃_{s_k}); 0 on the positive's column 0
        if self.table is None:   # log(m / (n − 1)) for every sample
            corr = torch.full((1, self.m + 1), math.log(self.m / (self.n - 1)), dtype=s.dtype, device=s.device)
            corr[0, 0] = 0
        else:                    # log(m q_s) − log(1 − q_i): two gathers and one subtraction
            corr = torch.cat([torch.zeros_like(s[:, :1]),
                              take(self.log_mq_t, samples) - take(self.log_1mq_t, batch.items)[:, None]], 1)
        # Σ_r logsumexp(o_r) − o_r0 is the cross-entropy of o with target column 0 (whose fused
        # backward is cheaper than logsumexp's and a column slice's)
        return torch.nn.functional.cross_entropy(s - corr, torch.zeros_like(batch.items), reduction="sum")


class NCE(Sampled):
    """NCE: k = m noise items from the popularity distribution, learned normalizer c."""

    name = "nce"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        params = super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        params["c"] = torch.tensor(math.log(n_items), dtype=dtype, device=device).requires_grad_()
        return params

    def draw(self, items, generator):
        """m noise items per interaction from q (the alias table)."""
        return self.table.sample((items.shape[0], self.m), generator)

    def loss_on(self, params, batch, samples):
        cols = torch.cat([batch.items[:, None], samples], 1)                     # (N_b, 1 + m)
        s = picked_scores(params["user"], params["item"], batch.users, batch.rows, cols)
        delta = s - params["c"] - take(self.log_mq_t, cols)                      # Δ_j = θ_j − c − log(k q_j)
        # −log σ(Δ_y) − Σ_i log(1 − σ(Δ_{s_i})) = softplus(−Δ_y) + Σ_i softplus(Δ_{s_i}): one
        # softplus of Δ with column 0 negated
        flip = torch.ones_like(delta[:1])
        flip[0, 0] = -1
        return torch.nn.functional.softplus(delta * flip).sum()


class HSM(Method):
    """HSM, free node vectors (reading H1), Huffman tree of training popularity."""

    name = "hsm"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        params = super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        tree = approx.huffman_tree(self.counts.cpu())
        self.path, self.sign = tree.path.to(device), tree.sign.to(device=device, dtype=dtype)
        self.live = (self.sign != 0).to(dtype)                                    # 0 on the padding
        params["node"] = _normal((n_items - 1, d), generator, device, dtype)
        del params["item"]
        return params

    def batch_loss(self, params, batch, generator):
        # node scores on the interactions' paths (N_b, D): dense route when B (n − 1) ≤ N_b D
        path, sign, live = (rows_of(t, batch.items) for t in (self.path, self.sign, self.live))
        u = picked_scores(params["user"], params["node"], batch.users, batch.rows, path)
        return (torch.nn.functional.softplus(-sign * u) * live).sum(), None

    def scores(self, params, users):
        """log p(j | u) for every item: (B, n), from the node scores (B, n − 1)."""
        s = params["user"][users] @ params["node"].T
        return (torch.nn.functional.logsigmoid(self.sign * s[:, self.path]) * (self.sign != 0)).sum(-1)


# ------------------------------------------------------------------ RG²
class RG2(Method):
    """RG² (see the module docstring); ``als`` or gradient training of the same objective."""

    def __init__(self, solver: str, **kw):
        super().__init__(**kw)
        self.kind, self.name = ("als" if solver == "als" else "sgd"), f"rg2/{solver}"

    def batch_loss(self, params, batch, generator):
        P, Q = rows_of(params["user"], batch.users), params["item"]
        (n, d), B = Q.shape, P.shape[0]
        c = batch.counts.to(P.dtype)
        if B * n <= batch.size + (n + B) * d:   # the score rows cost fewer multiply-adds than the Gram form
            theta = P @ Q.T
            per_user = theta.mean(-1) + (theta * theta).sum(-1) / (2 * n)
            pos = take(theta.view(-1), batch.rows * n + batch.items).sum()
            return (c * (math.log(n) + per_user)).sum() - pos, None
        G = Q.T @ Q
        quad = ((P @ G) * P).sum(-1) / (2 * n)                                  # (1/2n) Σ_j θ_uj²
        mean = P @ Q.mean(0)
        pos = (rows_of(P, batch.rows) * rows_of(Q, batch.items)).sum()
        return (c * (math.log(n) + mean + quad)).sum() - pos, None

    @torch.no_grad()
    def als_epoch(self, params, users: Tensor, items: Tensor, n_users: int, n_items: int) -> None:
        """One sweep: every user's closed form, then every item's (module docstring)."""
        P, Q = params["user"], params["item"]
        d, n, lam = Q.shape[1], n_items, self.lam
        eye = torch.eye(d, dtype=torch.float64, device=Q.device)
        Qd = Q.double()
        c = torch.bincount(users, minlength=n_users).double()
        rhs = torch.zeros(n_users, d, dtype=torch.float64, device=Q.device).index_add_(0, users, Qd[items])
        rhs -= c[:, None] * Qd.mean(0)
        A = (c[:, None, None] / n) * (Qd.T @ Qd) + lam * eye                     # (U, d, d)
        Pd = torch.linalg.solve(A, rhs)
        H = (Pd * c[:, None]).T @ Pd
        rhs_i = torch.zeros(n, d, dtype=torch.float64, device=Q.device).index_add_(0, items, Pd[users])
        rhs_i -= (c[:, None] * Pd).sum(0) / n
        Qn = torch.linalg.solve(H / n + lam * eye, rhs_i.T).T
        P.copy_(Pd.to(P.dtype))
        Q.copy_(Qn.to(Q.dtype))


class Popularity(Method):
    name, kind = "popularity", "fixed"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        return {}

    def scores(self, params, users):
        return self.counts.to(torch.float32)[None, :].expand(users.shape[0], -1)


def naive_softmax_epoch(params: dict[str, Tensor], users: Tensor, items: Tensor, batch: int,
                        generator: torch.Generator, opt: torch.optim.Optimizer) -> None:
    """One epoch of softmax MF written the obvious way: shuffled interactions, ``batch`` at a
    time, ``logits = P[u] Qᵀ`` per interaction, ``cross_entropy``: the O(N n d) cost model of
    CPX-1, and the reference loop of ``softmax-audit bench recsys``."""
    P, Q = params["user"], params["item"]
    perm = torch.randperm(users.numel(), generator=generator).to(users.device)
    for idx in perm.split(batch):
        loss = torch.nn.functional.cross_entropy(P[users[idx]] @ Q.T, items[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
