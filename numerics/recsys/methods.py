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
- **SSM** (canonical, logQ-corrected, ``losses.approx.ssm_kernel``): m negatives per
  interaction i.i.d. from the proposal conditioned on j ≠ i, uniform or popularity
  (train counts + 1);  **NCE** (``nce_kernel``): k = m noise items per interaction
  from the popularity distribution, a learned normalizer c (Gutmann & Hyvärinen 2010);
  cost ``O(N m d)``;
- **HSM** (Morin & Bengio 2005, reading H1 of APX-4): free node vectors on the
  Huffman tree of training popularity (word2vec's choice); cost ``O(N d log n)``;
- **RG²** (Pu et al. 2025): ``ℓ = −θ_{ui} + log n + θ̄_u + (1/2n) Σ_j θ_{uj}²``.
  Because ``Σ_j θ_{uj}² = p_uᵀ G p_u`` with ``G = QᵀQ`` and ``θ̄_u = p_u·q̄``, the
  per-user sum is a quadratic in p_u (and in each q_j): ``rg2/sgd`` trains it by
  gradient in ``O(N d + (U + n) d²)``; ``rg2/als`` (the paper's solver) alternates
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

from losses import approx, get
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
    def __init__(self, name: str, **kw):
        super().__init__(**kw)
        self.name = name
        self.loss = get("softmax") if name == "softmax" else (
            get("sparsemax") if name == "sparsemax" else get("entmax", alpha=1.5))

    def positives(self, batch: Batch) -> Tensor:
        """The positive item of each interaction of ``batch`` (N_b,): its own training item,
        the label source of the linear term ``Σ_{i ∈ I_u} θ_{ui}``."""
        return batch.items

    def batch_loss(self, params, batch, generator):
        theta = rows_of(params["user"], batch.users) @ params["item"].T        # (B, n)
        td = theta.detach()
        sol = self.loss.solve(td)
        conj = (sol.conj_shifted + sol.shift.squeeze(-1).to(sol.conj_shifted.dtype)).to(theta.dtype)
        if sol.index is None:                                                   # dense ŷ (softmax)
            p = sol.values.to(theta.dtype)
            conj = conj + ((theta - td) * p).sum(-1)
            support = p > 0
        else:                                                                   # ŷ on its slice
            vals = sol.values.to(theta.dtype)
            conj = conj + ((theta.gather(-1, sol.index) - td.gather(-1, sol.index)) * vals).sum(-1)
            support = torch.zeros_like(td, dtype=torch.bool).scatter_(-1, sol.index, sol.values > 0)
        pos = theta[batch.rows, self.positives(batch)]
        loss = (batch.counts.to(theta.dtype) * conj).sum() - pos.sum()
        return loss, _grad_frac(support, batch)


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
    pos = torch.zeros_like(support).index_put_((batch.rows, batch.items), torch.ones_like(batch.rows, dtype=torch.bool))
    negatives = B * n - int(pos.sum())
    return float((support & ~pos).sum()) / max(negatives, 1)


# ------------------------------------------------------------------ sampled losses
def _gathered_scores(h: Tensor, items: Tensor, pos: Tensor, samples: Tensor) -> Tensor:
    """Scores ``[θ_{u,i}, θ_{u,s_1} … θ_{u,s_m}]`` (N_b, 1 + m) from ONE lookup of the item
    table: two lookups would sum two dense (n, d) gradients per batch, an O(n d) term per
    step that breaks the O(N m d) cost (CPX-1 caught it)."""
    return torch.einsum("bd,bkd->bk", h, rows_of(items, torch.cat([pos[:, None], samples], 1)))


def _draw(q: Tensor, exclude: Tensor, m: int, generator: torch.Generator) -> Tensor:
    """m draws per row from q (n,) conditioned on j ≠ exclude_b, by rejection: a draw that
    hits exclude_b is redrawn (no (N_b, n) matrix is formed)."""
    N = exclude.shape[0]
    s = torch.multinomial(q, N * m, replacement=True, generator=generator).view(N, m)
    hit = s == exclude[:, None]
    while bool(hit.any()):
        s[hit] = torch.multinomial(q, int(hit.sum()), replacement=True, generator=generator)
        hit = s == exclude[:, None]
    return s


class SSM(Method):
    """Canonical SSM: ``o_0 = θ_{ui}``, ``o_k = θ_{u s_k} − log(m q̃_{s_k})``, q̃ = q on j ≠ i."""

    def __init__(self, proposal: str, **kw):
        super().__init__(**kw)
        self.proposal, self.name = proposal, f"ssm/{proposal}"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        params = super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        self.q = (approx.uniform_proposal(n_items, device=device) if self.proposal == "uniform"
                  else approx.unigram_proposal(self.counts + 1))
        return params

    def batch_loss(self, params, batch, generator):
        h = rows_of(params["user"], batch.users[batch.rows])                    # (N_b, d)
        neg = _draw(self.q, batch.items, self.m, generator)                     # (N_b, m)
        q_neg = self.q[neg] / (1 - self.q[batch.items])[:, None]
        s = _gathered_scores(h, params["item"], batch.items, neg)
        loss, _ = approx.ssm_kernel(s[:, :1], s[:, 1:] - torch.log(self.m * q_neg).to(h.dtype))
        return loss.sum(), None


class NCE(Method):
    """NCE: k = m noise items from the popularity distribution, learned normalizer c."""

    name = "nce"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        params = super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        self.q = approx.unigram_proposal(self.counts + 1)
        params["c"] = torch.tensor(math.log(n_items), dtype=dtype, device=device).requires_grad_()
        return params

    def batch_loss(self, params, batch, generator):
        h = rows_of(params["user"], batch.users[batch.rows])
        N = batch.size
        noise = torch.multinomial(self.q, N * self.m, replacement=True, generator=generator).view(N, self.m)
        logkq = torch.log(self.m * self.q)
        c = params["c"]
        s = _gathered_scores(h, params["item"], batch.items, noise)
        d_pos = s[:, :1] - c - logkq[batch.items][:, None].to(h.dtype)
        d_neg = s[:, 1:] - c - logkq[noise].to(h.dtype)
        loss, _, _ = approx.nce_kernel(d_pos, d_neg)
        return loss.sum(), None


class HSM(Method):
    """HSM, free node vectors (reading H1), Huffman tree of training popularity."""

    name = "hsm"

    def init(self, n_users, n_items, d, item_counts, generator, device="cpu", dtype=torch.float32):
        params = super().init(n_users, n_items, d, item_counts, generator, device, dtype)
        tree = approx.huffman_tree(self.counts.cpu())
        self.path, self.sign = tree.path.to(device), tree.sign.to(device=device, dtype=dtype)
        params["node"] = _normal((n_items - 1, d), generator, device, dtype)
        del params["item"]
        return params

    def batch_loss(self, params, batch, generator):
        h = rows_of(params["user"], batch.users[batch.rows])                    # (N_b, d)
        path, sign = self.path[batch.items], self.sign[batch.items]             # (N_b, D)
        u = torch.einsum("bd,bkd->bk", h, rows_of(params["node"], path))
        return (torch.nn.functional.softplus(-sign * u) * (sign != 0)).sum(), None

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
        n = Q.shape[0]
        c = batch.counts.to(P.dtype)
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


def make(name: str, m: int = 64, lam: float = 1.0, alpha: float = 0.0) -> Method:
    """The method by name (one of :data:`METHODS`); ``m`` samples per interaction for
    SSM/NCE, ``lam`` the ridge of RG²-ALS, ``alpha`` the positive weight of the authors'
    form (``rg2_authors.py``)."""
    if name in ("softmax", "sparsemax", "entmax-1.5"):
        return ExactFY(name, m=m, lam=lam)
    if name == "rg2/als-authors":
        from .rg2_authors import RG2Authors   # it subclasses Method: imported here, not at the top

        return RG2Authors(m=m, lam=lam, alpha=alpha)
    table = {"rankmax": lambda: Rankmax(m=m, lam=lam), "ssm/uniform": lambda: SSM("uniform", m=m, lam=lam),
             "ssm/popularity": lambda: SSM("popularity", m=m, lam=lam), "nce": lambda: NCE(m=m, lam=lam),
             "hsm": lambda: HSM(m=m, lam=lam), "rg2/als": lambda: RG2("als", m=m, lam=lam),
             "rg2/sgd": lambda: RG2("sgd", m=m, lam=lam), "popularity": lambda: Popularity(m=m, lam=lam)}
    if name not in table:
        raise ValueError(f"name must be one of {METHODS}, got {name!r}")
    if m < 1:
        raise ValueError(f"m must be ≥ 1, got {m}")
    return table[name]()
