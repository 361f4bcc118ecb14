"""Training loop and final runs of the MF recommender (CLAIMS.md §6, EXP-1; issue 12).

Protocol, the same for every method and fixed before any measurement
(``split.holdout``): each user's interactions split 80/20 into train/test, and 10 % of
the training part held out as validation.  :func:`train` is the tuning run: Adam (AdamW
with decoupled weight decay ``cfg.weight_decay`` > 0) at ``cfg.lr``, batches of
``cfg.batch_users`` users with all their training interactions, loss = the batch's sum
divided by its interaction count; RG²-ALS (both forms) alternates exact sweeps instead.
Every method has the same cap of ``cfg.epochs`` epochs (ALS: sweeps) and the same early
stopping on validation NDCG@20 (every ``cfg.eval_every`` epochs, patience
``cfg.patience``), the best validation model restored.  :func:`refit` is the final run:
the selected configuration trained on the whole training part for the selected number of
epochs, then tested once.
"""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import torch
from torch import Tensor

from .catalog import make
from .methods import Batch, Method
from .metrics import evaluate
from .split import Split, batches, holdout


@dataclass(frozen=True)
class Config:
    d: int = 64
    # at most; early stopping on validation NDCG@20.  Raised from 40 to 100 (issue 21: 22
    # configurations of the first record stopped at 40), then to 200: six of the record's
    # configurations at 100 were still improving when the cap cut them (tuning.cut_by_cap)
    epochs: int = 200
    batch_users: int = 64
    lr: float = 1e-2
    m: int = 32                 # samples per interaction (SSM negatives, NCE noise)
    eval_every: int = 2
    patience: int = 3           # evaluations without improvement before stopping
    als_lam: float = 1.0        # the ridge of RG²-ALS (both forms)
    als_alpha: float = 0.0      # the positive weight of the authors' form (rg2_authors.py)
    # decoupled weight decay (AdamW, Loshchilov & Hutter 2019) on every parameter; 0 keeps
    # plain Adam, the optimizer of every run before tuning existed
    weight_decay: float = 0.0


@dataclass
class RunResult:
    method: str
    seed: int
    per_user: dict[str, Tensor]                       # test metrics of the selected model
    curve: list[tuple[int, float]] = field(default_factory=list)   # (epoch, validation ndcg@20)
    epoch_s: float = 0.0                              # median wall seconds per epoch (sweep for ALS)
    best_epoch: int = 0
    grad_frac: float | None = None                    # mean over the last epoch run
    lam: float | None = None                          # the ridge ALS selected
    valid: Tensor | None = None                       # per-user validation ndcg@20 at best_epoch (tuning)

    def mean(self, key: str) -> float:
        return float(self.per_user[key].mean())


class Progress:
    """A one-line progress bar on stderr (redrawn with \\r on a terminal, one line per run
    otherwise, so logs stay readable)."""

    def __init__(self, stream: TextIO | None = sys.stderr, width: int = 24):
        self.stream, self.width = stream, width
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def update(self, label: str, done: int, total: int, note: str = "") -> None:
        if self.stream is None:
            return
        if self.tty:
            fill = int(self.width * done / max(total, 1))
            bar = "#" * fill + "-" * (self.width - fill)
            print(f"\r  {label:<28} [{bar}] {done}/{total} {note}", end="", file=self.stream, flush=True)
            if done >= total:
                print(file=self.stream, flush=True)
        elif done >= total:
            print(f"  {label:<28} {done}/{total} {note}", file=self.stream, flush=True)


def sgd_epoch(meth: Method, params: dict[str, Tensor], sp: Split, batch_users: int, order: torch.Generator,
              draw: torch.Generator, opt: torch.optim.Optimizer, device: str = "cpu") -> list[float]:
    """One epoch of gradient training: the users in ``order``'s random order, ``batch_users``
    at a time, loss = the batch's sum / its interaction count, one optimizer step per batch.
    Returns the batches' gradient fractions (empty where a method has none)."""
    fracs = []
    for b in batches(sp, batch_users, order):
        b = Batch(*(t.to(device) for t in (b.users, b.counts, b.rows, b.items)))
        loss, frac = meth.batch_loss(params, b, draw)
        opt.zero_grad(set_to_none=True)
        (loss / b.size).backward()
        opt.step()
        if frac is not None:
            fracs.append(frac)
    return fracs


def train(name: str, outer: Split, inner: Split, cfg: Config, seed: int, device: str = "cpu",
          progress: Progress | None = None, test: bool = True) -> RunResult:
    """Train one method with one seed on ``inner.train``; select by validation NDCG@20
    (``inner.test``); return the selected model's test metrics on ``outer.test`` (none with
    ``test=False``: tuning selects on validation alone and never looks at the test part)."""
    gen = torch.Generator().manual_seed(seed)
    meth: Method = _make(name, cfg)
    label = f"{name} (seed {seed})"
    res = RunResult(name, seed, {})
    if meth.kind == "fixed":
        params = meth.init(inner.n_users, inner.n_items, cfg.d, inner.item_counts, gen, device=device)
        res.per_user = evaluate(lambda u: meth.scores(params, u.to(device)), outer)
        if progress:
            progress.update(label, 1, 1, f"test ndcg@20 {res.mean('ndcg@20'):.4f}")
        return res
    params = meth.init(inner.n_users, inner.n_items, cfg.d, inner.item_counts, gen, device=device)
    valid = lambda: evaluate(lambda u: meth.scores(params, u.to(device)), inner)["ndcg@20"]  # noqa: E731
    step = _stepper(meth, params, inner, cfg, gen, seed, device)
    best, best_state, since, times, fracs = -1.0, None, 0, [], []
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        fracs = step()
        times.append(time.perf_counter() - t0)
        if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
            per_user = valid()
            nd = float(per_user.mean())
            res.curve.append((epoch, nd))
            if nd > best:
                best, since, res.best_epoch, res.valid = nd, 0, epoch, per_user
                best_state = {k: v.detach().clone() for k, v in params.items()}
            else:
                since += 1
        if progress:
            progress.update(label, epoch, cfg.epochs, f"{statistics.median(times):.3f} s/epoch, valid ndcg@20 "
                            f"{best:.4f} (epoch {res.best_epoch})")
        if since >= cfg.patience:
            if progress:
                progress.update(label, cfg.epochs, cfg.epochs, f"stopped at epoch {epoch}")
            break
    with torch.no_grad():
        for k, v in params.items():
            v.copy_(best_state[k])
    if test:
        res.per_user = evaluate(lambda u: meth.scores(params, u.to(device)), outer)
    res.epoch_s = statistics.median(times)
    res.grad_frac = statistics.fmean(fracs) if fracs else None
    res.lam = cfg.als_lam if meth.kind == "als" else None
    return res


def optimizer(params: dict[str, Tensor], cfg: Config) -> torch.optim.Optimizer:
    """Adam at ``cfg.lr``; AdamW (decoupled weight decay, Loshchilov & Hutter 2019) when
    ``cfg.weight_decay`` > 0."""
    if cfg.weight_decay:
        return torch.optim.AdamW(list(params.values()), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(list(params.values()), lr=cfg.lr)


def _make(name: str, cfg: Config) -> Method:
    return make(name, m=cfg.m, lam=cfg.als_lam, alpha=cfg.als_alpha)


def _stepper(meth: Method, params: dict[str, Tensor], sp: Split, cfg: Config, gen: torch.Generator, seed: int,
             device: str):
    """One training epoch on ``sp.train`` as a call: an ALS sweep (every user's exact
    update, then every item's) or a gradient epoch (:func:`sgd_epoch`), returning the
    epoch's gradient fractions."""
    if meth.kind == "als":
        u_all, i_all = sp.train_users.to(device), sp.train_items.to(device)

        def sweep() -> list[float]:
            meth.als_epoch(params, u_all, i_all, sp.n_users, sp.n_items)
            return []
        return sweep
    opt = optimizer(params, cfg)
    # samples are drawn where the proposal lives (a CUDA generator for CUDA tensors)
    draw = gen if torch.device(device).type == "cpu" else torch.Generator(device=device).manual_seed(seed)
    return lambda: sgd_epoch(meth, params, sp, cfg.batch_users, gen, draw, opt, device)


def refit(name: str, outer: Split, cfg: Config, seed: int, epochs: int, device: str = "cpu") -> RunResult:
    """The final run of a selected configuration (issue 12): train on the whole training
    part ``outer.train`` (training + validation) for exactly ``epochs`` epochs (ALS: sweeps)
    — the epoch count selected on validation — then evaluate once on ``outer.test``.  No
    validation is looked at: there is none left."""
    if epochs < 0 or int(epochs) != epochs:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    gen = torch.Generator().manual_seed(seed)
    meth = _make(name, cfg)
    res = RunResult(name, seed, {}, best_epoch=int(epochs))
    params = meth.init(outer.n_users, outer.n_items, cfg.d, outer.item_counts, gen, device=device)
    if meth.kind != "fixed":
        step = _stepper(meth, params, outer, cfg, gen, seed, device)
        times, fracs = [], []
        for _ in range(int(epochs)):
            t0 = time.perf_counter()
            fracs = step()
            times.append(time.perf_counter() - t0)
        res.epoch_s = statistics.median(times) if times else 0.0
        res.grad_frac = statistics.fmean(fracs) if fracs else None
        res.lam = cfg.als_lam if meth.kind == "als" else None
    with torch.no_grad():
        res.per_user = evaluate(lambda u: meth.scores(params, u.to(device)), outer)
    return res


def experiment(data, cfg: Config, methods: tuple[str, ...], seeds: tuple[int, ...], split_seed: int = 0,
               device: str = "cpu", progress: Progress | None = None) -> dict[str, list[RunResult]]:
    """Every method × seed on one fixed split (``split.holdout(data, split_seed)``); the
    seed drives initialization, batch order and sampling."""
    outer, inner = holdout(data, split_seed)
    return {name: [train(name, outer, inner, cfg, s, device, progress) for s in seeds] for name in methods}
