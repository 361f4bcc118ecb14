"""EXP-1, DYN-3 and CPX-2: decisions on the recommendation experiment (CLAIMS.md §3, §5,
§6; issue 12).  The experiment itself (tuned selections refitted on several splits and
seeds) is :mod:`numerics.exp.run`.

Predictions (stated in the registry before the measurement, from the theory the rows
cite): the exact, strictly order-preserving (SOP) softmax is the most accurate; every
other loss of the family, the weakly order-preserving (WOP) sparse ones and every
approximation (biased estimates of the softmax gradient, APX), is below it; a popularity
ranking is below every learned model.  EASE and item kNN are calibration baselines: in
the tables, in no comparison.

Statistics (``exp_decide.py``).  The split is the unit: on each split s, methods A and B
give ``D_s = NDCG@20_A(s) − NDCG@20_B(s)`` (each a mean over the test users, one training
seed per split); a comparison is the Student-t interval of the mean of the D_s (df =
splits − 1).  Tuning uncertainty enters by intersection–union: a comparison is decided only
when it comes out the same for every pair of plausible configurations of A and B (each refitted
on every split), and a row whose selections alone would decide it but whose plausible pairs
disagree is ``inconclusive: sensitive to tuning``, naming the pair.  An undecided comparison
also gets a TOST result at ±``exp_decide.MARGIN``: ``equivalent`` or ``undetermined``.

Multiplicity.  The rows of the experiment share one family of comparisons: softmax
against every other method (EXP-1[softmax], EXP-1[X], DYN-3, CPX-2) and popularity against
every learned model (EXP-1[popularity]) -- :data:`N_COMPARISONS` distinct unordered pairs,
fixed before any NDCG is seen.  The experiment's share of the suite's false-alarm budget
(``ctx.alpha``, one pool for all its rows, audit/falsealarm.py) is split over them by
Bonferroni: each interval at level ``1 − ctx.alpha / N_COMPARISONS``, computed once and
read by every row that uses it; the intersection over plausible pairs needs no further
share.  "A above B" needs every pair's interval above 0.

Wall-clock figures never enter a decision; per-epoch cost decisions use counted
operations (``numerics.cpx.opcount``), which are deterministic.
"""
from __future__ import annotations

import statistics
from typing import Callable

import numpy as np

from audit import Evidence, RunContext
from audit.markup import fit_line, problems

from . import decide as D
from .run import LEARNED, PER_INTERACTION
from ..recsys.methods import EXACT, METHODS
from ..recsys.runlevel import run_level_interval
from ..recsys.tuning import BUDGET, GRIDS

KEY = "ndcg@20"
WOP = ("sparsemax", "entmax-1.5", "rankmax")
APPROX = ("ssm/uniform", "ssm/popularity", "nce", "hsm", "rg2/als", "rg2/als-authors", "rg2/sgd")
#: the experiment's distinct comparisons (module docstring), fixed before any NDCG is seen
COMPARISONS = frozenset({frozenset(("softmax", o)) for o in METHODS if o != "softmax"}
                        | {frozenset((o, "popularity")) for o in LEARNED})
N_COMPARISONS = len(COMPARISONS)
#: figure keys that hold wall-clock measurements (results.json meta.wallclock)
WALLCLOCK_KEYS = ("epoch_s", "epoch_s_by_method", "plot_time")

# the hyperparameters' names and every figure's label (marked text), in a module of their own
from .labels import HYPER, LABELS  # noqa: E402
from .labels import WOP as _LABELLED_WOP  # noqa: E402

assert _LABELLED_WOP == WOP, "numerics/exp/labels.py labels another set of well-ordered methods"




def _config_text(config) -> str:
    """A configuration as marked text: ``learning rate 0.01, weight decay 3``."""
    if not isinstance(config, dict) or not config:
        return "its default configuration"
    return ", ".join(f"{HYPER.get(k, str(k).replace('_', ' '))} {v:g}" if isinstance(v, (int, float))
                     else f"{HYPER.get(k, str(k).replace('_', ' '))} {v}" for k, v in config.items())


def _plain(text: str) -> str:
    """Foreign text (an exception's message) as marked text: each word that breaks the rule
    set in typewriter type between dollars."""
    def word(w: str) -> str:
        if not problems(w):
            return w
        return r"$\texttt{" + "".join(_TT.get(c, c) for c in w) + "}$"

    return " ".join(word(w) for w in str(text).split(" "))


_TT = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}", "$": r"\$", "%": r"\%",
       "#": r"\#", "&": r"\&", "~": r"\~{}"}


def _iv(c: dict, sign: int = 1) -> str:
    """A comparison's mean difference and interval, of A minus B (``sign`` -1: of B minus A)."""
    lo, hi = (c["lo"], c["hi"]) if sign > 0 else (-c["hi"], -c["lo"])
    return f"NDCG@20 difference {sign * c['diff']:.2g}, interval [{lo:.2g}, {hi:.2g}]"


def _lowest(comps: dict) -> str:
    return f"lowest lower end {min(v['lo'] for v in comps.values()):.2g}"


def level(ctx: RunContext) -> float:
    """The level of every interval of the experiment: Bonferroni over its comparisons."""
    if not 0 < ctx.alpha < 1:
        raise ValueError(f"ctx.alpha must lie in (0, 1), got {ctx.alpha}")
    return 1 - ctx.alpha / N_COMPARISONS


def _means(ex: dict, method: str, key: str = KEY) -> dict:
    return {k: r.mean(key) for k, r in ex["runs"][method].items()}


def compare(ex: dict, a: str, b: str, lev: float) -> dict:
    """A − B at the split level over the plausible configurations (``exp_decide.compare``),
    for one of the experiment's registered comparisons."""
    if frozenset((a, b)) not in COMPARISONS:
        raise ValueError(f"{a}-{b} is not one of the experiment's registered comparisons")
    return D.compare(ex, a, b, lev)


def _sign(c: dict) -> int:
    """The comparison's decision over its plausible pairs: +1 above 0, −1 below, 0 neither."""
    return c["sign"]


def _all_positive(signs: dict[str, int]) -> str:
    """Every comparison above 0: holds; one below: fails; else undecided."""
    return "fails" if any(s < 0 for s in signs.values()) else (
        "undecided" if any(s == 0 for s in signs.values()) else "holds")


def _none_positive(signs: dict[str, int]) -> str:
    """CPX-2[softmax-undominated]: one cheaper method significantly above softmax fails."""
    return "fails" if any(s > 0 for s in signs.values()) else (
        "undecided" if any(s == 0 for s in signs.values()) else "holds")


def _decide(ex: dict, ctx: RunContext, pairs: dict[str, tuple[str, str]],
            rule: Callable[[dict[str, int]], str]) -> tuple[str, dict, list[dict]]:
    """``(outcome, comparisons, flips)``: flips name, for a row that the selections alone
    would decide but the plausible pairs do not, each comparison's disagreeing pair."""
    lev = level(ctx)
    comps = {name: compare(ex, a, b, lev) for name, (a, b) in pairs.items()}
    outcome, selected = D.decide(comps, rule)
    flips = []
    if selected != outcome:
        for name, c in comps.items():
            if c["flip"] is not None:
                a, b = pairs[name]
                flips.append({"comparison": name, "a": a, "b": b, "a_config": c["flip"]["a"],
                              "b_config": c["flip"]["b"], "interval": [c["flip"]["lo"], c["flip"]["hi"]],
                              "selected_outcome": selected})
    return outcome, comps, flips


def _names(comps: dict, sign: int, strip: Callable[[str], str]) -> str:
    return ", ".join(strip(k) for k, v in comps.items() if _sign(v) == sign)


def _pair_text(f: dict) -> str:
    """The disagreeing plausible pair of a flip, as marked text."""
    return f"{f['a']} at {_config_text(f['a_config'])} against {f['b']} at {_config_text(f['b_config'])}"


def _finish(ex: dict, ctx: RunContext, check: str, outcome: str, detail: str, comps: dict, flips: list,
            fig: dict, bad: dict, cx_extra: dict | None = None, summary: str = "") -> Evidence:
    """The evidence of one row; a row that its selections alone would decide but its plausible
    pairs do not (``flips``) says it is sensitive to tuning."""
    involved = sorted({m for v in comps.values() for m in v["methods"]})
    fig = fig | {"dataset": ex["dataset"], "alpha_per_interval": ctx.alpha / N_COMPARISONS, "level": level(ctx),
                 "comparisons_in_family": N_COMPARISONS, "splits": len(ex["splits"]),
                 "runs_from": ex.get("source", "computed in this run"),
                 "comparisons": {k: [v["diff"], v["lo"], v["hi"]] for k, v in comps.items()},
                 "plausible_pairs": {k: len(v["pairs"]) for k, v in comps.items()},
                 "over_plausible_pairs": {k: {1: "above 0", -1: "below 0", 0: "not decided"}[v["sign"]]
                                          for k, v in comps.items()},
                 "equivalence": {k: (f"equivalent within +-{D.MARGIN:g}" if v["equivalence"] == "equivalent"
                                     else "undetermined") for k, v in comps.items() if v["equivalence"]},
                 "plausible_sets": {m: [c["config"] for c in ex["plausible"][m]] for m in involved},
                 "sensitivity": [{"comparison": f["comparison"], "pair": _pair_text(f), "interval": f["interval"],
                                  "outcome_of_selections": f["selected_outcome"]} for f in flips]}
    stat = (f"{ex['dataset']}, {len(ex['splits'])} splits (one training seed each), split-level t-intervals at "
            f"level {level(ctx):.6f} (Bonferroni over the experiment's {N_COMPARISONS} comparisons), decided over "
            "every pair of plausible configurations")
    if flips:
        f = flips[0]
        would = {"holds": "hold", "fails": "fail"}[f["selected_outcome"]]
        return Evidence("empirical", check, "undecided", figures=fig, labels=LABELS,
                        detail=f"sensitive to tuning: with the selections the row would {would}, but with "
                               f"{_pair_text(f)} (both plausible on validation) {f['comparison']} has the interval "
                               f"[{f['interval'][0]:.4f}, {f['interval'][1]:.4f}]; {detail} ({len(flips)} "
                               f"comparison(s) sensitive; {stat})",
                        summary=fit_line(f"sensitive to tuning: the selections would {would}, not {_pair_text(f)}",
                                     f"sensitive to tuning: the selections would {would}, not every plausible "
                                     f"configuration of {f['a']} and {f['b']}"))
    cx = None
    if outcome == "fails":
        keys = ("diff", "lo", "hi", "df", "run_diff")
        cx = {"dataset": ex["dataset"], "metric": KEY, "level": level(ctx),
              "comparisons": {k: {"diff": v["diff"], "lo": v["lo"], "hi": v["hi"], "df": v["df"],
                                  "side": "above 0" if _sign(v) > 0 else "below 0", "runs": v["runs"],
                                  "run_diff": v["run_diff"],
                                  "pairs": [{"a": p["a"], "b": p["b"]} | {q: p[q] for q in keys} for p in v["pairs"]]}
                              for k, v in bad.items()}} | (cx_extra or {})
    return Evidence("empirical", check, outcome, detail=f"{detail} ({stat})", figures=fig, counterexample=cx,
                    summary=summary, labels=LABELS)


def _available(ctx: RunContext) -> dict | Evidence:
    """This context's experiment, as :func:`numerics.exp.run.results` gives it (looked up at
    call time: the one source every check reads, where planted outcomes enter too,
    reports/exp/planted.py); an ``undecided`` evidence when MovieLens-100K cannot be had (no
    substitute data)."""
    from . import run as exp_run
    from ..data import DataError

    key = (ctx.profile, ctx.seed, ctx.device)
    if key not in _UNAVAILABLE:     # remembered: the other rows do not try the download again
        try:
            return exp_run.results(*key)
        except DataError as exc:
            _UNAVAILABLE[key] = str(exc)
    return Evidence("empirical", "experiment", "undecided",
                    detail=f"MovieLens-100K unavailable: {_plain(_UNAVAILABLE[key])}",
                    summary="MovieLens-100K unavailable: nothing decided (no substitute data)")


_UNAVAILABLE: dict[tuple, str] = {}


# ------------------------------------------------------------------ the checks
def exp_ordering(method: str, ctx: RunContext) -> Evidence:
    """EXP-1[method]: the theory's predicted place of ``method`` (module docstring)."""
    ex = _available(ctx)
    if isinstance(ex, Evidence):
        return ex
    if method == "softmax":
        pairs = {f"softmax-{o}": ("softmax", o) for o in METHODS if o != "softmax"}
    elif method == "popularity":
        pairs = {f"{o}-popularity": (o, "popularity") for o in LEARNED}
    else:
        pairs = {f"softmax-{method}": ("softmax", method)}
    outcome, comps, flips = _decide(ex, ctx, pairs, _all_positive)
    if method == "popularity":
        strip = lambda k: k.rsplit("-popularity", 1)[0]  # noqa: E731
        detail = {"fails": f"popularity is significantly above {_names(comps, -1, strip)}",
                  "undecided": f"not separated from popularity: {_names(comps, 0, strip)}",
                  "holds": "every learned model is significantly above popularity"}[outcome]
    else:
        strip = lambda k: k.split("-", 1)[1]  # noqa: E731
        detail = {"fails": f"significantly above softmax: {_names(comps, -1, strip)}",
                  "undecided": f"not separated from softmax: {_names(comps, 0, strip)}",
                  "holds": "softmax is significantly above " + ("every other method" if method == "softmax"
                                                                 else method)}[outcome]
    summary = _ordering_summary(method, outcome, comps)
    fig = method_figures(ex, method)
    if method == "softmax":     # the experiment's calibration and its tuning grids, printed once
        fig |= {"calibration": {m: {k: v for k, v in method_figures(ex, m).items()
                                    if k in ("ndcg@10", "ndcg@20", "recall@20", "selected")}
                                for m in ("popularity", "itemknn", "ease", "softmax") if m in ex["runs"]},
                "tuning_grids": {m: {k: list(v) for k, v in g.items()} for m, g in GRIDS.items()},
                "tuning_budget": BUDGET}
    return _finish(ex, ctx, "ndcg-ordering", outcome, detail, comps, flips, fig,
                   {k: v for k, v in comps.items() if _sign(v) < 0}, summary=summary)


def _ordering_summary(method: str, outcome: str, comps: dict) -> str:
    """EXP-1's one line: the interval of a single comparison, or who is (not) separated."""
    runs, k = len(next(iter(comps.values()))["runs"]), len(comps)  # one run per split
    if len(comps) == 1:
        c = next(iter(comps.values()))
        return {"holds": fit_line(f"softmax significantly above {method}: {_iv(c)} ({runs} splits)",
                              f"softmax significantly above {method} ({runs} splits)"),
                "fails": fit_line(f"{method} significantly above softmax: {_iv(c, -1)} ({runs} splits)",
                              f"{method} significantly above softmax ({runs} splits)"),
                "undecided": fit_line(f"{method} not separated from softmax: NDCG@20 difference in "
                                  f"[{c['lo']:.2g}, {c['hi']:.2g}], across 0 ({runs} splits)",
                                  f"interval straddles 0: {method} not separated from softmax ({runs} splits)")}[outcome]
    if method == "popularity":
        strip = lambda n: n.rsplit("-popularity", 1)[0]  # noqa: E731
        names = {s: [strip(n) for n, v in comps.items() if _sign(v) == s] for s in (-1, 0)}
        return {"holds": fit_line(f"all {k} learned models significantly above popularity ({_lowest(comps)}, "
                              f"{runs} splits)", f"all {k} learned models significantly above popularity"),
                "fails": fit_line(f"popularity significantly above {', '.join(names[-1])} ({runs} splits)",
                              f"popularity significantly above {len(names[-1])} of {k} learned models"),
                "undecided": fit_line(f"not separated from popularity: {', '.join(names[0])} ({runs} splits)",
                                  f"{len(names[0])} of {k} intervals straddle 0: learned models not separated from "
                                  f"popularity ({runs} splits)")}[outcome]
    return _separated_summary(outcome, comps, lambda n: n.split("-", 1)[1], f"all {k} other methods")


def _separated_summary(outcome: str, comps: dict, strip: Callable[[str], str], every: str) -> str:
    """The one line of a row that needs softmax significantly above each of several methods."""
    runs, k = len(next(iter(comps.values()))["runs"]), len(comps)  # one run per split
    names = {s: [strip(n) for n, v in comps.items() if _sign(v) == s] for s in (-1, 0)}
    if outcome == "holds":
        return fit_line(f"softmax significantly above {every} ({_lowest(comps)}, {runs} splits)",
                    f"softmax significantly above {every} ({runs} splits)")
    if outcome == "fails":
        return fit_line(f"significantly above softmax: {', '.join(names[-1])} ({runs} splits)",
                    f"{len(names[-1])} of {k} methods significantly above softmax ({runs} splits)")
    one = len(names[0]) == 1
    return fit_line(f"interval{'' if one else 's'} straddle{'s' if one else ''} 0: {', '.join(names[0])} not separated "
                f"from softmax ({runs} splits)",
                f"{len(names[0])} of {k} intervals straddle 0: not separated from softmax ({runs} splits)")


def sop_ahead_of_wop(ctx: RunContext) -> Evidence:
    """DYN-3: softmax (SOP) significantly above each WOP loss (sparsemax, 1.5-entmax, rankmax)."""
    ex = _available(ctx)
    if isinstance(ex, Evidence):
        return ex
    pairs = {f"softmax-{w}": ("softmax", w) for w in WOP}
    outcome, comps, flips = _decide(ex, ctx, pairs, _all_positive)
    strip = lambda k: k[8:]  # noqa: E731
    detail = {"fails": f"significantly above softmax: {_names(comps, -1, strip)}",
              "undecided": f"not separated from softmax: {_names(comps, 0, strip)}",
              "holds": "softmax significantly above sparsemax, 1.5-entmax and rankmax"}[outcome]
    fig = {**{f"ndcg@20[{m}]": statistics.fmean(_means(ex, m).values()) for m in ("softmax", *WOP)},
           **{f"grad_fraction[{m}]": _grad_frac(ex, m) for m in EXACT}}
    return _finish(ex, ctx, "sop-vs-wop", outcome, detail, comps, flips, fig,
                   {k: v for k, v in comps.items() if _sign(v) < 0},
                   summary=_separated_summary(outcome, comps, strip, "sparsemax, 1.5-entmax and rankmax"))


def frontier(reading: str, ctx: RunContext) -> Evidence:
    """CPX-2.  ``softmax-undominated``: no method both costs fewer counted operations per
    epoch than softmax and is significantly more accurate.  ``approximations-cheaper``:
    every approximation costs fewer counted operations per epoch than exact softmax as
    trained here (one score row per user); ``…/per-interaction``: than exact softmax
    computed per interaction (the O(N n d) model of CPX-1).  The two cheaper readings
    compare deterministic counts: no interval.  The cost to reach the selected model
    (epochs × cost per epoch) is a figure of every reading."""
    ex = _available(ctx)
    if isinstance(ex, Evidence):
        return ex
    flops = ex["flops"]
    epochs = {m: ex["selected"][m]["epochs"] for m in LEARNED}
    fig = {"dataset": ex["dataset"], "flops_per_epoch": dict(flops), "selected_epochs": epochs,
           "flops_to_selection": {m: flops[m] * (epochs[m] or 0) for m in LEARNED},
           "ndcg@20_by_method": {m: statistics.fmean(_means(ex, m).values()) for m in LEARNED},
           "epoch_s_by_method": {m: statistics.median(r.epoch_s for r in ex["runs"][m].values()) for m in LEARNED}}
    if reading == "softmax-undominated":
        # the decisions are the methods cheaper than softmax: fixed by the counts, before any NDCG
        cheaper = [o for o in LEARNED if o != "softmax" and flops[o] < flops["softmax"]]
        fig |= {"cheaper_per_epoch": cheaper, "plot": _frontier_plot(ex, "flops"),
                "plot_selection": _frontier_plot(ex, "selection"), "plot_time": _frontier_plot(ex, "time")}
        if not cheaper:
            return Evidence("empirical", "frontier", "holds", figures=fig, labels=LABELS,
                            detail=f"no method is cheaper per epoch than softmax ({ex['dataset']})",
                            summary="no method is cheaper per epoch than softmax: softmax is undominated")
        pairs = {f"{o}-softmax": (o, "softmax") for o in cheaper}
        outcome, comps, flips = _decide(ex, ctx, pairs, _none_positive)
        strip = lambda k: k[:-8]  # noqa: E731
        detail = {"fails": f"dominated by {_names(comps, 1, strip)} (cheaper per epoch and significantly more "
                           "accurate)",
                  "undecided": f"cheaper per epoch and not separated from softmax: {_names(comps, 0, strip)}",
                  "holds": "every method cheaper per epoch is significantly less accurate than softmax"}[outcome]
        bad = {k: v for k, v in comps.items() if _sign(v) > 0}
        runs, k = len(next(iter(comps.values()))["runs"]), len(comps)  # one run per split
        names = {s: ", ".join(strip(n) for n, v in comps.items() if _sign(v) == s) for s in (1, 0)}
        summary = {
            "holds": fit_line(f"all {k} methods cheaper per epoch than softmax are significantly less accurate "
                          f"({runs} splits)", f"all {k} cheaper methods significantly less accurate ({runs} splits)"),
            "fails": fit_line(f"softmax dominated by {names[1]}: cheaper per epoch, significantly more accurate "
                          f"({runs} splits)", f"softmax dominated by {len(bad)} of {k} cheaper methods ({runs} splits)"),
            "undecided": fit_line(f"cheaper per epoch and not separated from softmax: {names[0]} ({runs} splits)",
                              f"{sum(_sign(v) == 0 for v in comps.values())} of {k} cheaper methods not separated "
                              f"from softmax ({runs} splits)")}[outcome]
        return _finish(ex, ctx, "frontier", outcome, detail + f"; {len(cheaper)} cheaper method(s)", comps, flips,
                       fig, bad, {"flops_per_epoch": {m: flops[m] for m in ("softmax", *(k[:-8] for k in bad))}},
                       summary=summary)
    ref = PER_INTERACTION if reading.endswith("/per-interaction") else "softmax"
    dearer = [m for m in APPROX if flops[m] >= flops[ref]]
    fig["ratio_to_softmax"] = {m: flops[m] / flops[ref] for m in APPROX}
    outcome = "fails" if dearer else "holds"
    what = "per-interaction softmax" if ref == PER_INTERACTION else "softmax (one score row per user)"
    detail = (f"{', '.join(dearer)} cost at least as many operations per epoch as {what}" if dearer
              else f"every approximation costs fewer operations per epoch than {what}")
    # the re-check compares every stored count with the reference's, and each stored ratio
    ratio = fig["ratio_to_softmax"]
    cx = ({"dataset": ex["dataset"], "reference": ref,
           "flops_per_epoch": {ref: flops[ref], **{m: flops[m] for m in dearer}},
           "ratio_to_reference": {m: ratio[m] for m in dearer}} if dearer else None)
    top = max(APPROX, key=lambda m: ratio[m])
    short = "per-interaction softmax" if ref == PER_INTERACTION else "softmax"
    summary = (fit_line(f"{', '.join(dearer)} cost at least as many operations per epoch as {short} (up to "
                    f"{ratio[top]:.3g} times, {top})",
                    f"{', '.join(dearer)} cost at least as many operations per epoch as {short}",
                    f"{len(dearer)} approximations cost at least as many operations per epoch as {short} (up to "
                    f"{ratio[top]:.3g} times)")
               if dearer else
               fit_line(f"every approximation costs fewer operations per epoch than {short} (largest ratio "
                    f"{ratio[top]:.3g}, {top})",
                    f"every approximation cheaper per epoch than {short} (largest ratio {ratio[top]:.3g}, {top})"))
    return Evidence("empirical", "frontier", outcome, detail=detail + f" ({ex['dataset']})", figures=fig,
                    counterexample=cx, summary=summary, labels=LABELS)


# ------------------------------------------------------------------ figures and plots (data only)
def _grad_frac(ex: dict, m: str) -> float | None:
    vals = [r.grad_frac for r in ex["runs"][m].values() if r.grad_frac is not None]
    return statistics.fmean(vals) if vals else None


def method_figures(ex: dict, name: str) -> dict:
    """One method's figures: test metrics (mean over runs, NDCG@20's 95 % interval over
    runs), its selection and the flags of the protocol."""
    fig: dict = {}
    for key in ("ndcg@10", "ndcg@20", "recall@20"):
        vals = list(_means(ex, name, key).values())
        fig[key] = statistics.fmean(vals)
        if key == KEY and len(vals) > 1:
            iv = run_level_interval(np.array(vals), 0.95)
            fig["ndcg@20_run_ci95"] = [iv.lo, iv.hi]
    sel = ex["selected"].get(name, {})
    if name in ex.get("plausible", {}):
        fig["plausible_set"] = [{"config": c["config"], "valid_ndcg@20": c.get("valid_ndcg@20"),
                                 "ndcg@20": statistics.fmean(r.mean(KEY) for r in c["runs"].values())}
                                for c in ex["plausible"][name]]
    fig |= {"selected": sel.get("config"), "selected_epochs": sel.get("epochs"),
            "selected_at_epoch_cap": sel.get("at_cap"), "selected_on_grid_edge": sel.get("on_edge"),
            "epoch_s": statistics.median(r.epoch_s for r in ex["runs"][name].values())}
    if name in ex["flops"]:
        fig["flops_per_epoch"] = ex["flops"][name]
        fig["flops_to_selection"] = ex["flops"][name] * (sel.get("epochs") or 0)
    if (g := _grad_frac(ex, name)) is not None:
        fig["grad_fraction"] = g
    return fig


def _frontier_plot(ex: dict, axis: str) -> dict:
    flops, pts = ex["flops"], {}
    for m in LEARNED:
        x = {"flops": flops[m], "selection": flops[m] * (ex["selected"][m]["epochs"] or 0),
             "time": statistics.median(r.epoch_s for r in ex["runs"][m].values())}[axis]
        per_split = list(_means(ex, m).values())   # the experiment's unit: one mean NDCG@20 per split
        pts[m] = {"x": [x], "y": [statistics.fmean(per_split)], "y_splits": per_split}
        if len(per_split) > 1:
            iv = run_level_interval(np.array(per_split), 0.95)
            pts[m] |= {"ylo": [iv.lo], "yhi": [iv.hi]}
    what = {"flops": "counted operations per epoch", "selection": "counted operations to the selected model",
            "time": "wall-clock seconds per epoch"}[axis]
    caption = {
        "flops": "CPX-2 claims softmax lies on the accuracy-cost frontier: no method to its left (cheaper per epoch) "
                 "should lie significantly above it.",
        "selection": r"The cost to reach each selected model (selected epochs $\times$ counted operations per epoch); "
                     "shown only, it enters no decision.",
        "time": "Wall-clock time per epoch (median over splits) is shown only: the cost decisions use counted "
                "operations."}[axis]
    return {"title": f"Test NDCG@20 vs {what} ({ex['dataset']})", "xlabel": what, "ylabel": "NDCG@20 (test)",
            "caption": f"Test NDCG@20 (mean over splits) against {what}, one point per learned method "
                       f"({ex['dataset']}); bars: 95% Student-t interval of that mean over the {len(ex['splits'])} "
                       "splits (descriptive; the decisions use paired split-level differences). " + caption,
            "logx": True, "logy": False, "series": pts, "markers": True}
