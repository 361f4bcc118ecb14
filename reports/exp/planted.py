"""Planted inputs of the EXP-1 / DYN-3 / CPX-2 checks (issue 20).

Every check of these rows reads one source, the experiment :func:`numerics.exp.run.results`
gives (looked up at call time by ``numerics.exp.checks``).  A planted input enters there, as
a bug in that loader would: for the run, the attribute is replaced by a loader that returns
other outcomes of the real one's shape.

:func:`theory_shaped` builds outcomes as the theory predicts them -- per-user NDCG with exact
softmax on top, every WOP loss and every approximation below it, popularity below every
learned model; approximations cheaper per epoch than exact softmax -- on which every check
of these rows holds: the planted truth of each check that can fail or stay undecided.  The
planted defects are that outcome with one plausible bookkeeping defect, the results (or the
counted operations) of two methods exchanged (they test the decision rule), and, for the
checks that can hold, a near miss: the smallest defect they are shown to catch.

EXP-1[softmax] has one defect that enters through training (:func:`trained_wrong_positive`):
the exact losses' label source (``numerics.recsys.methods.ExactFY.positives``) hands
softmax's loss a wrong positive for a fraction of the interactions, softmax's runs of the
profile's design are retrained under it (the selected configuration, the design's splits and
seeds), and the check is decided on the experiment with those runs.
"""
from __future__ import annotations

from typing import Callable

import torch

from audit import RunContext

from ..claim import Planted, patched, patched_truth, replacing

#: per-user NDCG@20 offsets of the theory-shaped outcome (the rest of the learned models: 0)
_LEVELS = {"softmax": 0.10, "popularity": -0.10}
_NOISE = 0.02
#: the near miss of EXP-1[popularity]: rg2/sgd this far below popularity (NDCG@20), about
#: above the half-width of the interval on the theory-shaped outcome (about 0.012 with the
#: quick profile's 5 splits of 200 users, 0.002 with the full profile's 10 of 943)
NEAR_BELOW_POPULARITY = 0.02
#: the training defect of EXP-1[softmax]: the fraction of interactions with a wrong positive
WRONG_POSITIVE_FRACTION = 0.1

THEORY = (r"theory-shaped outcome (every method on the profile's splits, one plausible configuration each): per-user NDCG@20 of softmax "
          "0.1 above every other learned model, popularity 0.1 below them (per-user noise of standard deviation "
          "0.02); every approximation half the counted operations per epoch of softmax")


def theory_shaped(ctx: RunContext) -> dict:
    """Outcomes of the experiment's shape (every method on the profile's splits, one training
    seed each; per-user NDCG@10/20 and Recall@20, selections with a plausible set of one,
    counted operations per epoch), shaped as the theory predicts; seeded from ``ctx.seed``,
    as many test users as the profile's data set has."""
    from numerics.exp import run as X
    from numerics.recsys.final import CALIBRATION
    from numerics.recsys.methods import EXACT, METHODS
    from numerics.recsys.train import RunResult

    users = ctx.budget(200, 943)
    g = torch.Generator().manual_seed(1_000_003 * ctx.seed + 12)
    base = torch.rand(users, generator=g, dtype=torch.float64) * 0.4 + 0.1
    design = [(s, s) for s in range(X.DESIGN[ctx.profile])]
    runs = {}
    for m in (*METHODS, *CALIBRATION):
        runs[m] = {}
        for s, t in design:
            noise = _NOISE * torch.randn(users, generator=g, dtype=torch.float64)
            per = (base + _LEVELS.get(m, 0.0) + noise).clamp(0, 1)
            runs[m][(s, t)] = RunResult(m, t, {"ndcg@10": per, "ndcg@20": per, "recall@20": per},
                                        epoch_s=0.0, best_epoch=2, grad_frac=0.5 if m in EXACT else None)
    flops = {m: (10_000 if m in EXACT else 5_000) for m in X.LEARNED} | {X.PER_INTERACTION: 20_000}
    one = {"config": {}, "epochs": 2, "at_cap": False, "valid_ndcg@20": None}
    selected = {m: one | {"on_edge": [], "plausible": [one]} for m in (*METHODS, *CALIBRATION)}
    return {"dataset": "planted (theory-shaped)", "source": "planted: theory-shaped outcomes, no training",
            "splits": [s for s, _ in design], "seeds": [t for _, t in design],
            "selected": selected, "runs": runs, "plausible": {m: [one | {"runs": r}] for m, r in runs.items()},
            "flops": flops}


def swapped(ex: dict, a: str, b: str, what: str = "runs") -> dict:
    """``ex`` with the results (``what="runs"``: of every plausible configuration too) or the
    counted operations (``"flops"``) of methods ``a`` and ``b`` exchanged."""
    out = dict(ex)
    for key in (("runs", "plausible") if what == "runs" else (what,)):
        table = dict(ex[key])
        table[a], table[b] = table[b], table[a]
        out[key] = table
    return out


def shifted(ex: dict, method: str, delta: float) -> dict:
    """``ex`` with ``method``'s per-user metrics moved by ``delta`` (clamped to [0, 1]), in
    every plausible configuration."""
    from dataclasses import replace

    def move(runs: dict) -> dict:
        return {k: replace(r, per_user={key: (v + delta).clamp(0, 1) for key, v in r.per_user.items()})
                for k, r in runs.items()}

    plausible = [c | {"runs": move(c["runs"])} for c in ex["plausible"][method]]
    return ex | {"runs": ex["runs"] | {method: plausible[0]["runs"]}, "plausible": ex["plausible"] | {method: plausible}}


def with_plausible(ex: dict, method: str, config: dict, delta: float) -> dict:
    """``ex`` with a second plausible configuration of ``method``: its selection's runs moved
    by ``delta``."""
    other = shifted(ex, method, delta)["plausible"][method][0] | {"config": config}
    return ex | {"plausible": ex["plausible"] | {method: [*ex["plausible"][method], other]}}


def loader(build: Callable[[RunContext], dict]) -> Callable[[str, int, str], dict]:
    """A stand-in for :func:`numerics.exp.run.results`: the outcomes ``build`` makes for the
    context the check runs in."""
    return lambda profile, seed, device: build(RunContext(profile=profile, seed=seed, device=device))


def _source(build: Callable[[RunContext], dict]):
    """The patch that makes the checks read ``build``'s outcomes: the experiment's loader
    (and the memory of a failed download, which the real loader's rows share) replaced."""
    from numerics.exp import checks as E
    from numerics.exp import run as X

    return replacing((X, "results", loader(build)), (E, "_UNAVAILABLE", {}))


def truth(why: str = THEORY) -> Planted:
    """The planted truth of every check of these rows: the theory-shaped outcome."""
    return patched_truth(why, _source(theory_shaped))


def exchanged(a: str, b: str, what: str = "runs") -> Planted:
    """The theory-shaped outcome with the results (or counted operations) of ``a`` and ``b``
    exchanged."""
    label = "test results" if what == "runs" else "counted operations per epoch"
    return patched(f"theory-shaped outcome with the {label} of {a} and {b} exchanged",
                   _source(lambda ctx: swapped(theory_shaped(ctx), a, b, what)))


def _popularity_near_miss() -> Planted:
    """rg2/sgd lowered to just below popularity (by :data:`NEAR_BELOW_POPULARITY`)."""
    delta = _LEVELS["popularity"] - NEAR_BELOW_POPULARITY
    return patched(f"theory-shaped outcome with the per-user NDCG@20 of rg2/sgd lowered by {-delta:g}, to "
                   f"{NEAR_BELOW_POPULARITY:g} below popularity's (the interval's half-width is about 0.012 in the quick "
                   "profile, 0.002 in the full one)", _source(lambda ctx: shifted(theory_shaped(ctx), "rg2/sgd", delta)),
                   resolution=True)


def _dearer_by_one() -> Planted:
    """ssm/uniform counted one operation per epoch above the per-interaction reference."""
    from numerics.exp.run import PER_INTERACTION

    def build(ctx: RunContext) -> dict:
        ex = theory_shaped(ctx)
        return ex | {"flops": ex["flops"] | {"ssm/uniform": ex["flops"][PER_INTERACTION] + 1}}

    return patched("theory-shaped outcome with the counted operations per epoch of ssm/uniform one above the "
                   "per-interaction softmax's", _source(build), resolution=True)


# ------------------------------------------------------------------ a defect that enters through training
_PRIME = 2_147_483_647


def wrong_positives(fraction: float) -> Callable:
    """A stand-in for ``ExactFY.positives``: softmax's loss takes, for a fixed ``fraction``
    of the interactions (chosen by a hash of user and item, the same in every epoch), a
    uniformly drawn item as the positive; the other exact losses keep theirs."""
    cut = int(fraction * _PRIME)

    def positives(self, batch):
        items = batch.items
        if self.name != "softmax":
            return items
        users = batch.users[batch.rows].long()
        h = (users * 1_000_003 + items.long()) % _PRIME * 48271 % _PRIME
        return torch.where(h < cut, h * 48271 % _PRIME % self.n, items.long()).to(items.dtype)

    return positives


def retrained_softmax(ctx: RunContext, fraction: float = WRONG_POSITIVE_FRACTION) -> dict:
    """The experiment of ``ctx`` with softmax's runs of the design (every plausible
    configuration, every split) retrained under :func:`wrong_positives`; every other run as
    measured."""
    import json

    from numerics.exp import record as R
    from numerics.exp import run as X
    from numerics.recsys.methods import ExactFY

    real = X.results(ctx.profile, ctx.seed, ctx.device)
    work = [(key, fn, args) for key, fn, args in X.design_work(ctx.profile, ctx.seed, ctx.device)
            if key.startswith("run|softmax|")]
    with replacing((ExactFY, "positives", wrong_positives(fraction)))():
        outputs = {(json.dumps(args[1], sort_keys=True), args[4], args[5]): R.as_run("softmax", args[5], fn(*args))
                   for _, fn, args in work}
    plausible = [c | {"runs": {k: outputs[(json.dumps(c["config"], sort_keys=True), *k)] for k in c["runs"]}}
                 for c in real["plausible"]["softmax"]]
    if len(outputs) != sum(len(c["runs"]) for c in plausible):
        raise RuntimeError(f"{len(outputs)} retrained runs are not the experiment's softmax runs")
    return real | {"runs": real["runs"] | {"softmax": plausible[0]["runs"]},
                   "plausible": real["plausible"] | {"softmax": plausible},
                   "source": f"{real['source']}; softmax's {len(outputs)} runs retrained under the planted defect"}


def trained_wrong_positive(check: Callable[[RunContext], object]) -> Planted:
    """EXP-1[softmax]'s defect through training: the check on :func:`retrained_softmax`'s
    experiment, read through the experiment's loader."""
    def run(ctx: RunContext):
        ex = retrained_softmax(ctx)
        with _source(lambda _ctx: ex)():
            return check(ctx)

    return Planted(f"softmax trained with a wrong positive: for {WRONG_POSITIVE_FRACTION:g} of the training "
                   "interactions (a fixed set, by a hash of user and item) its loss takes a uniformly drawn item "
                   "as the positive; softmax's runs of the design retrained, every other run as measured", run=run)


# ------------------------------------------------------------------ per row
def exp1(method: str) -> list[Planted]:
    """EXP-1[method]: softmax exchanged with its neighbour below (sparsemax) for the top row,
    and softmax trained with wrong positives; popularity exchanged with a learned model, and
    its near miss; otherwise the method exchanged with softmax."""
    from numerics.exp import checks as E

    if method == "softmax":
        return [exchanged("softmax", "sparsemax"), trained_wrong_positive(lambda ctx: E.exp_ordering("softmax", ctx)),
                patched("theory-shaped outcome with a second plausible configuration of rankmax (learning rate 0.1), "
                        "0.15 above its selection: above softmax",
                        _source(lambda ctx: with_plausible(theory_shaped(ctx), "rankmax", {"lr": 0.1}, 0.15)))]
    if method == "popularity":
        return [exchanged("popularity", "rg2/sgd"), _popularity_near_miss()]
    return [exchanged("softmax", method), _near_softmax(method)]


#: the near miss of EXP-1[X]: X this far below softmax (NDCG@20), inside the interval's
#: half-width in both profiles (about 0.012 quick, 0.002 full; the theory-shaped gap is 0.1)
NEAR_BELOW_SOFTMAX = 0.001


def _near_softmax(method: str) -> Planted:
    """``method`` raised to just below softmax (by :data:`NEAR_BELOW_SOFTMAX`)."""
    delta = _LEVELS["softmax"] - NEAR_BELOW_SOFTMAX
    return patched(f"theory-shaped outcome with the per-user NDCG@20 of {method} raised by {delta:g}, to "
                   f"{NEAR_BELOW_SOFTMAX:g} below softmax's (inside the interval's half-width)",
                   _source(lambda ctx: shifted(theory_shaped(ctx), method, delta)), resolution=True)


def dyn3() -> list[Planted]:
    return [exchanged("softmax", "rankmax")]


def cpx2(reading: str) -> list[Planted]:
    """CPX-2: a cheaper method's results exchanged with softmax's (undominated); the counted
    operations of an approximation exchanged with the reference's (cheaper), and for the
    per-interaction reading, one approximation counted one operation above it."""
    from numerics.exp.run import PER_INTERACTION

    if reading == "softmax-undominated":
        return [exchanged("softmax", "hsm")]
    if reading == "approximations-cheaper":
        return [exchanged("softmax", "nce", what="flops")]
    return [exchanged(PER_INTERACTION, "ssm/uniform", what="flops"), _dearer_by_one()]


__all__ = ["theory_shaped", "swapped", "shifted", "with_plausible", "loader", "truth", "exchanged", "wrong_positives",
           "retrained_softmax", "trained_wrong_positive", "exp1", "dyn3", "cpx2", "THEORY"]
