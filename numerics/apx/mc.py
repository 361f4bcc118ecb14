"""APX-2/APX-3, Monte Carlo: agreement with an independent exact ground truth on the
canonical configuration, and the rates at n = 100,000.

Statistics (stated before any run).  Each check is a statistical check of the registry:
it receives its family-wise false-alarm level ``ctx.alpha`` (its share of the suite's
budget, audit/falsealarm.py) and splits it over its own interval decisions (Bonferroni).
Jackknife intervals use Student-t quantiles with ``groups − 1`` degrees of freedom, CLT
intervals over R draws ``R − 1``.

* :func:`mc_agreement` -- **equivalence**, not "no rejection": for each configuration of
  the canonical grid and each quantity (every coordinate of E g̃, E‖g̃‖², MSE, bias²,
  variance), the interval of (Monte Carlo − exact) at level 1 − α/D must lie inside
  ±δ, with the margins δ fixed here (:data:`MARGIN_MEAN`, :data:`MARGIN_REL`,
  :data:`MARGIN_BIAS`).  The exact side is :func:`numerics.apx.plain.exact_moments`: numpy
  loops over the draws of every multiset, written from CLAIMS.md, sharing no code with the
  Monte Carlo (library kernels, torch sampler); the library's own enumeration
  (numerics/apx/exact.py) is compared with it too.  Both sides are our own routes, so a
  disagreement (an interval entirely outside ±δ, or the two enumerations apart by more
  than rounding) is a :class:`SuiteDefect`; an interval that straddles ±δ is undecided.
* :func:`mc_rate_large` -- local log-log slopes of bias² (claimed −2, ‖bias‖ = O(1/m))
  and variance (claimed −1) over the **two** largest consecutive pairs of m; holds iff the
  one-sided upper confidence bound of every slope is ≤ claimed + 0.25; otherwise
  undecided (an O(1/m) rate is asymptotic: a shallower slope on a finite grid is
  pre-asymptotic, never a refutation).
"""
from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.markup import fit_line

from . import exact as X
from . import plain as P
from . import montecarlo as MC
from .common import N, THETA, Y, combine, nce_c, proposal, slope, tex, texm
from ..threads import one_thread

MARGIN_MEAN = 0.02   # δ for each coordinate of E g̃ (the entries of g lie in [−1, 1])
MARGIN_REL = 0.05    # δ for E‖g̃‖², MSE and variance: 5 % of the exact value
MARGIN_BIAS = 0.05   # δ for bias²: 5 % of the exact MSE (bias² itself may be tiny)
GROUPS = 50          # jackknife groups (t quantiles with 49 degrees of freedom)
ENUM_TOL = 1e-12     # library enumeration vs plain enumeration (float64 rounding)

#: labels of the intervals (montecarlo.Interval.to_json) and of the slope records
INTERVAL_LABELS = {"est": "estimate", "se": "standard error", "lo": "lower end", "hi": "upper end",
                   "df": "degrees of freedom of the t quantile"}
QUANTITY = {"bias2": "bias$^2$", "variance": "variance", "mse": "MSE",
            "second_moment": r"$\mathbb{E}\lVert \tilde g \rVert^2$"}
AGREEMENT_LABELS = INTERVAL_LABELS | {
    "draws": "Monte Carlo draws per configuration", "groups": "jackknife groups",
    "alpha": r"family-wise false-alarm level $\alpha$ of the check",
    "interval_decisions": "interval decisions (Bonferroni)", "level_per_interval": "confidence level per interval",
    "margins": r"equivalence margins $\delta$ (fixed before the run)",
    "mean": r"$\delta$ per coordinate of $\mathbb{E}\tilde g$",
    "relative": r"$\delta$ relative to the exact $\mathbb{E}\lVert \tilde g \rVert^2$, MSE and variance",
    "bias2_of_mse": r"$\delta$ for bias$^2$, as a fraction of the exact MSE",
    "rows": "per sample count: exact values and Monte Carlo intervals",
    "x": "sample count ($m$ for SSM, $k$ for NCE)",
    "exact_bias2": "exact bias$^2$ (plain enumeration)", "mc_bias2": "Monte Carlo bias$^2$ (jackknife interval)",
    "exact_variance": "exact variance (plain enumeration)",
    "mc_variance": "Monte Carlo variance (jackknife interval)",
    "exact_mse": "exact MSE (plain enumeration)", "mc_mse": "Monte Carlo MSE (CLT interval)",
    "multisets": "multisets of draws enumerated",
    "max_abs_interval_end_over_margin": r"largest $|\text{interval end}| / \delta$",
    "classes": r"each interval against $\pm\delta$: inside, straddles or outside",
    "straddling": r"intervals straddling $\pm\delta$ (sample count, quantity)",
    "second_moment": QUANTITY["second_moment"], "bias2": "bias$^2$", "variance": "variance", "mse": "MSE",
} | {f"mean[{j}]": rf"$\mathbb{{E}}\tilde g_{{{j}}}$" for j in range(N)}
RATE_LABELS = INTERVAL_LABELS | {
    "n": "number of classes $n$", "y": "label $y$ (the class at the popularity median)", "proposal": "proposal",
    "draws": "Monte Carlo draws per $m$", "m": "sample counts $m$",
    "alpha": r"family-wise false-alarm level $\alpha$ of the check", "slope_decisions": "slope bounds (Bonferroni)",
    "bias2": "Monte Carlo bias$^2$ per $m$ (jackknife interval)",
    "variance": "Monte Carlo variance per $m$ (jackknife interval)", "mse": "Monte Carlo MSE per $m$ (CLT interval)",
    "local_slopes_bias2": "local log-log slopes of bias$^2$ between consecutive $m$",
    "slopes_bias2": "decided slopes of bias$^2$ (two largest pairs of $m$)",
    "local_slopes_variance": "local log-log slopes of the variance between consecutive $m$",
    "slopes_variance": "decided slopes of the variance (two largest pairs of $m$)",
    "m_pair": "pair of $m$", "upper": "one-sided upper confidence bound", "claimed": "claimed slope",
    "rule_upper_bound_at_most": "largest upper bound the rule accepts (claimed slope + 0.25)",
}


def _classify(lo: float, hi: float, delta: float) -> str:
    if -delta <= lo and hi <= delta:
        return "inside"
    if lo > delta or hi < -delta:
        return "outside"
    return "straddles"


def mc_agreement(method: str, reading: str, ctx: RunContext) -> Evidence:
    """Monte Carlo (library kernels, the sampler :func:`numerics.apx.montecarlo.draw`) against
    the plain exact enumeration on the canonical configuration (module docstring)."""
    with one_thread():
        return _mc_agreement(method, reading, ctx)


def _mc_agreement(method: str, reading: str, ctx: RunContext) -> Evidence:
    xs = X.CANONICAL_M if method == "ssm" else X.CANONICAL_K[:4]
    q = X.nce_noise(THETA) if method == "nce" else proposal(reading, THETA)
    c = nce_c(reading, THETA) if method == "nce" else None
    draws = ctx.budget(100_000, 400_000)
    decisions = len(xs) * (N + 4)
    a = ctx.alpha / decisions                      # two-sided, per interval
    level = 1.0 - a
    gen = ctx.generator(41 if method == "ssm" else 43)
    table, verdicts = [], []
    for x in xs:
        plain = P.exact_moments(method, THETA.numpy(), Y, q.numpy(), x, c)
        lib = X.ssm_exact(THETA, Y, q, x) if method == "ssm" else X.nce_exact(THETA, Y, q, x, c, mode="multisets")
        gap = max(float(np.abs(lib["mean"].numpy() - plain["mean"]).max()),
                  *(abs(lib[k] - plain[k]) for k in ("bias2", "variance", "mse")))
        if gap > ENUM_TOL:
            raise SuiteDefect(f"{method}/{reading} x = {x}: the library's exact enumeration and the plain one differ by "
                              f"{gap:.3g}")
        mc = MC.estimate(method, THETA, Y, q, x, c=c, draws=draws, groups=GROUPS, level=level, generator=gen)
        tq = MC.t_quantile(1 - a / 2, mc.draws - 1)
        rows = {}
        for j in range(N):
            d = float(mc.mean[j]) - float(plain["mean"][j])
            h = tq * float(mc.mean_se[j])
            rows[f"mean[{j}]"] = (d - h, d + h, MARGIN_MEAN)
        m2 = plain["second_moment"]
        rows["second_moment"] = (mc.second_moment.lo - m2, mc.second_moment.hi - m2, MARGIN_REL * m2)
        rows["mse"] = (mc.mse.lo - plain["mse"], mc.mse.hi - plain["mse"], MARGIN_REL * plain["mse"])
        if plain["bias2"] > 1e-20:  # a zero bias makes the bias² U-statistic degenerate (montecarlo docstring)
            rows["bias2"] = (mc.bias2.lo - plain["bias2"], mc.bias2.hi - plain["bias2"], MARGIN_BIAS * plain["mse"])
            rows["variance"] = (mc.variance.lo - plain["variance"], mc.variance.hi - plain["variance"],
                                MARGIN_REL * plain["variance"])
        cls = {k: _classify(lo, hi, dl) for k, (lo, hi, dl) in rows.items()}
        verdicts += [(x, k, v) for k, v in cls.items()]
        worst = max(max(abs(lo), abs(hi)) / dl for lo, hi, dl in rows.values())
        table.append({"x": x, "exact_bias2": plain["bias2"], "mc_bias2": mc.bias2.to_json(),
                      "exact_variance": plain["variance"], "mc_variance": mc.variance.to_json(),
                      "exact_mse": plain["mse"], "mc_mse": mc.mse.to_json(), "multisets": plain["outcomes"],
                      "max_abs_interval_end_over_margin": worst, "classes": cls})
    figures = {"draws": draws, "groups": GROUPS, "alpha": ctx.alpha, "interval_decisions": decisions,
               "level_per_interval": level, "margins": {"mean": MARGIN_MEAN, "relative": MARGIN_REL,
                                                        "bias2_of_mse": MARGIN_BIAS}, "rows": table}
    outside = [(x, k) for x, k, v in verdicts if v == "outside"]
    if outside:
        raise SuiteDefect(f"{method}/{reading}: the Monte Carlo disagrees with the exact enumeration beyond the margin "
                          f"at {outside[:6]} (two of our own routes)")
    straddle = [[x, k] for x, k, v in verdicts if v == "straddles"]
    figures["straddling"] = straddle
    detail = (f"equivalence test: torch Monte Carlo ({draws} draws per configuration, {GROUPS} jackknife groups, library "
              r"kernels) against exact enumeration by a plain numpy implementation ($\texttt{numerics/apx\_plain.py}$) "
              f"of {method}/{reading} on the canonical configuration. Every interval of (Monte Carlo - exact) at level "
              f"{level:.7f} (family-wise {tex(ctx.alpha)} over {decisions} intervals, Bonferroni; t quantiles) must lie "
              rf"inside $\pm\delta$: $\delta = {MARGIN_MEAN}$ per mean coordinate, {MARGIN_REL:.0%} of the exact "
              rf"$\mathbb{{E}}\lVert \tilde g \rVert^2$, MSE and variance, {MARGIN_BIAS:.0%} of the exact MSE for "
              "bias$^2$ (margins fixed before the run). Holds iff every interval is inside; an interval outside "
              r"$\pm\delta$ is a defect of the suite (crash); one straddling it is undecided.")
    worst = max(r["max_abs_interval_end_over_margin"] for r in table)
    summary = (f"{len(verdicts) - len(straddle)} of {len(verdicts)} intervals (Monte Carlo - exact, {draws} draws) "
               + (rf"inside $\pm\delta$, {len(straddle)} straddle it" if straddle else
                  rf"inside $\pm\delta$, ends within ${worst:.2g}\,\delta$"))
    return Evidence("numeric", "mc-vs-exact", "undecided" if straddle else "holds", detail, figures, summary=summary,
                    labels=AGREEMENT_LABELS)


# ------------------------------------------------------------------------------ n = 100,000
LARGE_N = 100_000
TOL_SLOPE = 0.25


def large_grid(ctx: RunContext) -> tuple[int, ...]:
    """m grid at n = 100,000, whose two top consecutive pairs carry the decision: (16, 32) and
    (32, 64) quick; (16, 64) and (64, 256) full (400,000 draws resolve bias² at m = 256, and
    a ratio of 4 per pair halves the slopes' standard errors)."""
    return (1, 4, 16, 32, 64) if ctx.profile == "quick" else (1, 4, 16, 64, 256)


def fingerprint(theta: torch.Tensor, q: torch.Tensor) -> str:
    """A digest of the problem's scores and proposal: part of :func:`large_sums`' key."""
    h = hashlib.sha256(theta.detach().cpu().double().numpy().tobytes())
    h.update(q.detach().cpu().double().numpy().tobytes())
    return h.hexdigest()[:32]


@lru_cache(maxsize=2)   # about 200 MB an entry (groups × n per m): a row's own runs reuse it, nothing more
def large_sums(proposal_name: str, seed: int, draws: int, ms: tuple[int, ...], device: str, problem: str) -> tuple:
    """The Monte Carlo sums (montecarlo.Sums) at n = 100,000 for every m of the grid, keyed
    by everything they depend on, the problem itself included (``problem``: the
    :func:`fingerprint` of θ and the proposal from ``MC.large_problem``); kept across
    planted runs: a planted input that changes the problem (a proposal patched in) gets its
    own entry, and one that re-summarizes the sums (a bias² estimator) reads them as they
    are."""
    theta, y, props = MC.large_problem(LARGE_N, seed=seed)
    if fingerprint(theta, props[proposal_name]) != problem:
        raise SuiteDefect(f"large_sums: the problem at n = {LARGE_N} does not match its key (a proposal changed "
                          "between the key and the run)")
    dev = torch.device(device)
    theta, q = theta.to(dev), props[proposal_name].to(dev)
    gen = MC.device_generator(dev, seed * 1_000_003 + 53 + (proposal_name == "uniform"))
    with one_thread():
        return tuple(MC.accumulate("ssm", theta, y, q, m, draws=draws, groups=GROUPS, generator=gen) for m in ms)


large_sums.keep_across_planted = True  # type: ignore[attr-defined]


def mc_rate_large(proposal_name: str, ctx: RunContext) -> Evidence:
    """SSM at n = 100,000 by Monte Carlo: local log-log slopes of bias² and variance over
    the two largest consecutive pairs of m, with one-sided t bounds (delta method on the
    jackknife standard errors); bias² by :func:`numerics.apx.montecarlo.bias2_estimate`."""
    with one_thread():
        return _mc_rate_large(proposal_name, ctx)


def _mc_rate_large(proposal_name: str, ctx: RunContext) -> Evidence:
    ms = large_grid(ctx)
    draws = ctx.budget(100_000, 400_000)
    theta, _, props = MC.large_problem(LARGE_N, seed=ctx.seed)
    sums = large_sums(proposal_name, ctx.seed, draws, ms, str(ctx.device or "cpu"),
                      fingerprint(theta, props[proposal_name]))
    pairs = [(len(ms) - 3, len(ms) - 2), (len(ms) - 2, len(ms) - 1)]
    decisions = 2 * len(pairs)
    a = ctx.alpha / decisions                      # one-sided, per slope bound
    res = [MC.summarize(s, 1.0 - 2 * a) for s in sums]
    figures = {"n": LARGE_N, "y": LARGE_N // 2, "proposal": proposal_name, "draws": draws, "m": list(ms),
               "alpha": ctx.alpha, "slope_decisions": decisions,
               "bias2": [r.bias2.to_json() for r in res], "variance": [r.variance.to_json() for r in res],
               "mse": [r.mse.to_json() for r in res]}
    outs, notes = [], []
    # the rule's thresholds, stored so that the summary's "at most -1.75, -0.75" is a value of the record
    figures["rule_upper_bound_at_most"] = {"bias2": -2.0 + TOL_SLOPE, "variance": -1.0 + TOL_SLOPE}
    for name, claimed in (("bias2", -2.0), ("variance", -1.0)):
        ivs = [getattr(r, name) for r in res]
        figures[f"local_slopes_{name}"] = [slope(ms[i], ivs[i].est, ms[i + 1], ivs[i + 1].est)
                                           for i in range(len(ms) - 1) if ivs[i].est > 0 and ivs[i + 1].est > 0]
        figures[f"slopes_{name}"] = []
        for i, j in pairs:
            u, v = ivs[i], ivs[j]
            if not (u.lo > 0 and v.lo > 0):
                outs.append("undecided")
                notes.append(f"{QUANTITY[name]} at $m = {ms[i]}$ and {ms[j]} not resolved above 0")
                continue
            s = slope(ms[i], u.est, ms[j], v.est)
            se = math.sqrt((u.se / u.est) ** 2 + (v.se / v.est) ** 2) / math.log(ms[j] / ms[i])
            hi = s + MC.t_quantile(1 - a, sums[i].groups - 1) * se
            figures[f"slopes_{name}"].append({"m_pair": [ms[i], ms[j]], "est": s, "se": se, "upper": hi,
                                               "claimed": claimed})
            if hi <= claimed + TOL_SLOPE:
                outs.append("holds")
            else:
                outs.append("undecided")
                notes.append(f"{QUANTITY[name]}: slope {tex(round(s, 3), 4)} over $m = {ms[i]}$ to {ms[j]} (upper bound "
                             f"{tex(round(hi, 3), 4)}) is shallower than ${claimed:g} + {TOL_SLOPE}$")
    out = combine(outs)
    decided = {name: [r["est"] for r in figures[f"slopes_{name}"]] for name in ("bias2", "variance")}
    shown = "; ".join(f"{QUANTITY[k]} " + (", ".join(tex(round(v, 2), 3) for v in vs) if vs else "unresolved")
                      for k, vs in decided.items())
    figures["plot"] = {
        "title": f"APX-2 SSM at $n = {LARGE_N}$, {proposal_name} proposal (Monte Carlo)", "xlabel": "$m$",
        "ylabel": "Monte Carlo estimate", "logx": True, "logy": True,
        # bars: the jackknife intervals the slope decisions read (level 1 - 2a)
        "series": {"bias$^2$": {"x": list(ms), "y": [max(r.bias2.est, 1e-300) for r in res],
                                "ylo": [r.bias2.lo for r in res], "yhi": [r.bias2.hi for r in res]},
                   "variance": {"x": list(ms), "y": [r.variance.est for r in res],
                                "ylo": [r.variance.lo for r in res], "yhi": [r.variance.hi for r in res]}},
        "caption": (f"APX-2 at $n = 100{{,}}000$ (Zipf popularity), {proposal_name} proposal: the claim is "
                    r"$\lVert \mathrm{bias} \rVert = O(1/m)$ and variance $O(1/m)$, so on these log-log axes bias$^2$ "
                    "should end in a line of slope $-2$ and the variance in one of slope $-1$. Monte Carlo estimates, "
                    f"{draws} draws per $m$, with their jackknife intervals over {GROUPS} groups at level "
                    f"$1 - {texm(2 * a, 3)}$ as bars (a bar reaching 0 runs to the axis' foot); local slopes over the two largest pairs of $m$: {shown}"
                    + ("." if out == "holds" else " (shallower than claimed: pre-asymptotic, undecided)."))}
    detail = (f"Monte Carlo at $n = {LARGE_N}$ (Zipf popularity, scores following popularity; "
              r"$\texttt{numerics/montecarlo.large\_problem}$), "
              f"{draws} draws per $m$, $m \\in \\{{{', '.join(map(str, ms))}\\}}$; local log-log slopes of bias$^2$ "
              f"and variance over the two largest consecutive pairs of $m$, each with a one-sided upper bound at level "
              f"$1 - {texm(a, 3)}$ (family-wise {tex(ctx.alpha)} over {decisions} slope bounds, Bonferroni; delta "
              f"method on jackknife standard errors over {GROUPS} groups, t quantiles with {GROUPS - 1} degrees of "
              f"freedom). Holds iff every upper bound is $\\le$ claimed + {TOL_SLOPE} (bias$^2$ claimed $-2$, i.e. "
              r"$\lVert \mathrm{bias} \rVert = O(1/m)$; variance $-1$). An $O(1/m)$ rate is asymptotic, so a "
              "shallower slope on a finite grid is undecided (pre-asymptotic), never a refutation."
              + (" Undecided: " + "; ".join(notes) if notes else ""))
    bounds = f"${-2 + TOL_SLOPE:g}$, ${-1 + TOL_SLOPE:g}$"
    # the measured upper bounds, rounded up (a printed bound never looks steeper than the stored one), beside
    # the rule's thresholds: "upper bounds at most -1.75" read as if -1.75 had been measured (issue 24)
    ub = [max((r["upper"] for r in figures[f"slopes_{k}"]), default=None) for k in ("bias2", "variance")]
    measured = ", ".join(tex(math.ceil(u * 100) / 100, 3) for u in ub if u is not None)
    summary = fit_line(*[f"{lead}{shown}; " + (f"{ub_word} {measured} (rule: at most {bounds})" if out == "holds"
                                                else f"not all resolved below {bounds}")
                         for lead, ub_word in (("top slopes: ", "largest upper bounds"), ("top slopes: ", "upper bounds"),
                                               ("", "upper bounds"))])
    return Evidence("numeric", "mc-rate-n100000", out, detail, figures, summary=summary, labels=RATE_LABELS)


__all__ = ["mc_agreement", "mc_rate_large", "large_sums", "large_grid", "MARGIN_MEAN", "MARGIN_REL", "MARGIN_BIAS"]
