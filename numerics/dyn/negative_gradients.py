"""DYN-1: which negative classes receive a gradient during training (CLAIMS.md §3).

Measured on the GD runs of numerics/dyn/gd_runs.py ((a) free scores, (b) separable linear
model): per step, the fraction of negatives (classes outside the label) whose training
gradient ŷ_j − y_j is non-zero.  At the recorded steps the zero pattern is re-measured by
an independent route, backward differences of the loss value (gd_runs.fd_route); a
disagreement of the two routes is a defect of the suite (SuiteDefect), never a finding.

Decision rules (stated before measuring):

* softmax: holds iff the fraction is 1 at every step of (a) and (b).  A zero training
  gradient whose log-space value θ_j − logsumexp θ is below −700 is float64 underflow,
  not a zero of the loss's gradient: the check is then undecided (cannot be resolved in
  float64); any other zero is a defect of the suite (gd_runs).
* sparse losses: the zero-gradient set of the negatives is exactly the complement of the
  support of ŷ (training gradient, and the independent route at every recorded step);
  holds iff in addition some negative gets exactly zero gradient at some step (fraction
  < 1: the statement is not vacuous on these runs); undecided otherwise.  The fraction
  falls to exactly 0 once every example has its margin; the trajectory is reported.
"""
from __future__ import annotations

import numpy as np

from audit import Evidence, RunContext
from audit.members import member

from . import gd_runs
from .series import curve


LABELS = {
    "steps": "GD steps", "frac_first": "fraction at the first step", "frac_min": "smallest fraction",
    "frac_last": "fraction at the last step", "frac_mean": "mean fraction over the steps",
    "max_score_gap": r"largest score gap $\max_j \theta_j - \min_j \theta_j$",
    "independent_route": "independent route (backward differences of the loss value)",
    "recorded_steps": "recorded steps compared", "off_support_compared": "off-support negatives compared",
    "on_support_compared": "on-support negatives compared",
    "near_threshold_not_compared": r"negatives with $0 < \hat y_j < 10^{-4}$, not compared",
    "underflow_not_compared": "float64 underflows, not compared",
    "max_abs_difference_off_support": "largest $|D_j|$ off the support",
    "max_rel_err_log_space": "largest relative error against the log-space route",
    "first_step_all_negatives_zero": "first step with every negative at zero gradient",
    "outcome": "outcome of the run",
}


def negative_gradients(loss: str, ctx: RunContext) -> Evidence:
    """DYN-1 on the GD runs of ``gd_runs.run(name, params, setting, ctx)``."""
    # a dense map (full support) has no zeros to count: its rule, plot and summary are of the
    # smallest negative gradient; a sparse map's are of the fraction of negatives with one
    dense = member(loss).dense
    figures: dict = {}
    labels = dict(LABELS)
    series: dict = {}
    outcomes = []
    for label, params in gd_runs.variants(loss, ctx):
        for setting in ("free", "separable"):
            r = gd_runs.run(label.split("(")[0], params, setting, ctx)
            frac = np.asarray(r["frac"], dtype=np.float64)
            entry = {"steps": len(frac), "frac_first": float(frac[0]), "frac_min": float(frac.min()),
                     "frac_last": float(frac[-1]), "frac_mean": float(frac.mean()), "max_score_gap": r["max_gap"],
                     "independent_route": r["route"]}
            if dense:
                o = "holds" if bool(np.all(frac == 1.0)) else "undecided"  # zeros reaching here are underflow
            else:
                o = "holds" if bool((frac < 1.0).any()) else "undecided"
                fz = np.nonzero(frac == 0.0)[0]
                entry["first_step_all_negatives_zero"] = int(fz[0]) if len(fz) else None
            entry["outcome"] = o
            outcomes.append(o)
            figures[f"{label}/{setting}"] = entry
            labels[f"{label}/{setting}"] = f"{gd_runs.variant_text(label)}, {gd_runs.SETTING_TEXT[setting]}"
            # softmax's fraction is 1 throughout (a constant says nothing a sentence cannot): its plot
            # shows how far from 0 the smallest negative gradient stays
            series[f"{label} ({setting})"] = (curve(r, "min_log_neg") if dense else curve(r, "frac"))
    runs = dict(figures)
    if dense:
        caption = ("DYN-1 claims softmax gives every negative class a non-zero gradient at every finite $\\theta$; "
                   "the fraction of negatives with one is 1 at every step of every run (summary). Plotted: the "
                   "smallest such gradient, $\\min_j \\log \\hat y_j$ over the negatives of every example "
                   "($\\log \\hat y_j = \\theta_j - \\log\\sum_k e^{\\theta_k}$), per recorded GD step: it falls "
                   "as the scores separate but stays finite, far above float64's underflow near $-745$.")
    else:
        # say where each plotted run ends: a run reaches 0 only once every example has its margin, and the
        # separable runs stop above 0 (issue 24: "to 0" was printed for curves that end at 0.02)
        ends = "; ".join(f"{labels[k]}: {v['frac_last']:.3g}" for k, v in runs.items())
        caption = (f"DYN-1 claims {loss} gives exactly zero gradient to every class outside the support of "
                   f"$\\hat y$: each curve is one GD run's fraction per step; it falls below 1 and reaches 0 only "
                   f"once every example has its margin. Last values: {ends}.")
    figures["plot"] = {"title": (f"DYN-1 {loss}: smallest negative gradient" if dense else
                                 f"DYN-1 {loss}: fraction of negatives with non-zero gradient"), "caption": caption,
                       "xlabel": "GD step $t$", "logx": True, "logy": False, "series": series,
                       "ylabel": r"$\min_j \log \hat y_j$ (negatives)" if dense else "fraction of negatives"}
    if dense:
        rule = ("holds iff the fraction equals 1 at every step of (a) free scores and (b) separable linear model; "
                "undecided if a zero is float64 underflow (log-space value below $-700$)")
    else:
        rule = (r"holds iff the negatives with zero gradient are exactly those outside the support of $\hat y$ "
                "(training gradient; backward differences of the loss value at every recorded step) and some "
                "negative gets exactly zero gradient at some step (fraction < 1); undecided if none does")
    detail = (f"{rule}; lr = {gd_runs.LR}, $n = {gd_runs.N_CLASSES}$, float64; independent route: backward "
              f"differences ($h = 10^{{{round(np.log10(gd_runs.H_FD))}}}$) of the loss value, a mismatch is a "
              "defect of the suite.")
    out = "holds" if all(o == "holds" for o in outcomes) else "undecided"
    fmin = min(v["frac_min"] for v in runs.values())
    steps = max(v["steps"] for v in runs.values())
    compared = sum(v["independent_route"].get("off_support_compared", 0)
                   + v["independent_route"].get("on_support_compared", 0) for v in runs.values())
    if dense:
        summary = (f"every negative keeps a non-zero gradient at every step of {len(runs)} GD runs (up to {steps} "
                   "steps)" if out == "holds" else
                   f"fraction of negatives with a non-zero gradient drops as low as {fmin:.3g} in {len(runs)} GD runs "
                   "(float64 underflow)")
    else:
        summary = (_one_line(f"ends at {_span(runs)} in {len(runs)} GD runs; zeros = off-support", compared)
                   if out == "holds" else
                   f"every negative keeps a non-zero gradient in all {len(runs)} GD runs: no zero gradient observed")
    return Evidence("numeric", "negative-gradient-fraction", out, detail, figures, summary=summary, labels=labels)


def _one_line(tail: str, compared: int) -> str:
    """The sparse summary within one line of the front table (markup.SUMMARY_CHARS), shortened
    in steps: a two-value span and a six-digit count do not fit the long wording."""
    from audit.markup import fit_line

    return fit_line(f"non-zero-gradient fraction of negatives {tail} ({compared} checks)",
                    f"fraction of negatives with a gradient {tail} ({compared} checks)",
                    f"fraction of negatives with a gradient {tail}")


def _span(runs: dict) -> str:
    """The runs' last fractions as printed: one value when they agree, else smallest to largest
    (the min over runs alone read as if every run fell that far)."""
    lo, hi = (f"{f(v['frac_last'] for v in runs.values()):.3g}" for f in (min, max))
    return lo if lo == hi else f"{lo} to {hi}"


__all__ = ["negative_gradients"]
