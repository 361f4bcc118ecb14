"""Planted defects of the EXP-1 / DYN-3 / CPX-2 checks: experiment outcomes of the real
one's shape, never a training run.

:func:`theory_shaped` builds outcomes as the theory predicts them -- per-user NDCG with
exact softmax on top, every WOP loss and every approximation below it, popularity below
every learned model; approximations cheaper per epoch than exact softmax -- on which
every check of these rows holds (tests/test_exp_checks.py).  Each planted defect is that
outcome with one plausible bookkeeping defect: the results (or the counted operations) of
two methods exchanged.  A check turns on it because the property it checks is now
violated: the exchanged method is above softmax, popularity above a learned model, a
cheaper method more accurate than softmax, an approximation dearer.
"""
from __future__ import annotations

import torch

from audit import RunContext

from .claim import Planted

#: per-user NDCG@20 offsets of the theory-shaped outcome (the rest of the learned models: 0)
_LEVELS = {"softmax": 0.10, "popularity": -0.10}
_NOISE = 0.02


def theory_shaped(ctx: RunContext) -> dict:
    """Outcomes of the experiment's shape (every method × 3 splits × 3 training seeds, per-
    user NDCG@10/20 and Recall@20, selections, counted operations per epoch), shaped as the
    theory predicts; seeded from ``ctx.seed``, as many test users as the profile's data set
    has.  No neighbouring configurations: the sensitivity analysis has tests of its own."""
    from numerics import exp_run as X
    from numerics.recsys.final import CALIBRATION
    from numerics.recsys.methods import EXACT, METHODS
    from numerics.recsys.train import RunResult

    users = ctx.budget(200, 943)
    g = torch.Generator().manual_seed(1_000_003 * ctx.seed + 12)
    base = torch.rand(users, generator=g, dtype=torch.float64) * 0.4 + 0.1
    splits, seeds = [0, 1, 2], [0, 1, 2]
    runs = {}
    for m in (*METHODS, *CALIBRATION):
        runs[m] = {}
        for s in splits:
            for t in seeds:
                noise = _NOISE * torch.randn(users, generator=g, dtype=torch.float64)
                per = (base + _LEVELS.get(m, 0.0) + noise).clamp(0, 1)
                runs[m][(s, t)] = RunResult(m, t, {"ndcg@10": per, "ndcg@20": per, "recall@20": per},
                                            epoch_s=0.0, best_epoch=2, grad_frac=0.5 if m in EXACT else None)
    flops = {m: (10_000 if m in EXACT else 5_000) for m in X.LEARNED} | {X.PER_INTERACTION: 20_000}
    selected = {m: {"config": {}, "epochs": 2, "at_cap": False, "on_edge": [], "valid_ndcg@20": None}
                for m in (*METHODS, *CALIBRATION)}
    return {"dataset": "planted (theory-shaped)", "splits": splits, "seeds": seeds, "selected": selected,
            "runs": runs, "neighbours": {}, "flops": flops}


def swapped(ex: dict, a: str, b: str, what: str = "runs") -> dict:
    """``ex`` with the results (``what="runs"``) or the counted operations (``"flops"``) of
    methods ``a`` and ``b`` exchanged."""
    table = dict(ex[what])
    table[a], table[b] = table[b], table[a]
    return ex | {what: table}


def exchanged(check, a: str, b: str, what: str = "runs") -> Planted:
    """A planted defect for a check ``check(ctx, ex)``: the theory-shaped outcome with the
    results (or counted operations) of ``a`` and ``b`` exchanged."""
    label = "test results" if what == "runs" else "counted operations per epoch"
    return Planted(f"theory-shaped outcome with the {label} of {a} and {b} exchanged",
                   run=lambda ctx: check(ctx, swapped(theory_shaped(ctx), a, b, what)))


def exp1(method: str) -> Planted:
    """EXP-1[method]: softmax exchanged with its neighbour below (sparsemax) for the top row,
    popularity with a learned model, otherwise the method with softmax."""
    from numerics import exp_checks as E

    def check(ctx, ex):
        return E.exp_ordering(method, ctx, ex=ex)

    if method == "softmax":
        return exchanged(check, "softmax", "sparsemax")
    if method == "popularity":
        return exchanged(check, "popularity", "rg2/sgd")
    return exchanged(check, "softmax", method)


def dyn3() -> Planted:
    from numerics import exp_checks as E

    return exchanged(lambda ctx, ex: E.sop_ahead_of_wop(ctx, ex=ex), "softmax", "rankmax")


def cpx2(reading: str) -> Planted:
    """CPX-2: a cheaper method's results exchanged with softmax's (undominated); the counted
    operations of an approximation exchanged with the reference's (cheaper)."""
    from numerics import exp_checks as E

    from numerics.exp_run import PER_INTERACTION

    def check(ctx, ex):
        return E.frontier(reading, ctx, ex=ex)

    if reading == "softmax-undominated":
        return exchanged(check, "softmax", "hsm")
    if reading == "approximations-cheaper":
        return exchanged(check, "softmax", "nce", what="flops")
    return exchanged(check, PER_INTERACTION, "ssm/uniform", what="flops")


__all__ = ["theory_shaped", "swapped", "exchanged", "exp1", "dyn3", "cpx2"]
