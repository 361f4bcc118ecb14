"""FY-3 numeric check: the separation margins, at gaps μ ± ε, in float64 and 50 digits.

Findings (``fails``, re-checked by reports/rechecks/fy.py from the stored θ, y against the
row's margin): ŷ ≠ y or L ≠ 0 at gap μ + ε; ŷ = y or an exact loss ≤ 0 at gap μ − ε; a
softmax loss ≤ 0.  Ours (:class:`audit.SuiteDefect`): the float64 loss or prediction of
``losses/`` off its 50-digit value, the loss's ``margin`` attribute off the claimed margin,
a score vector not built at the intended gap.

The margin under test is the one this module states, :data:`MARGINS` (looked up at call
time: a typo there is what the check tests, and the re-check against the row's own margin
turns it into a crash).
"""
from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import torch

from audit import Evidence, RunContext, SuiteDefect
from audit.members import member
from losses import get

from .common import (
    EPS,
    SETTING_LABELS,
    as_tensor,
    grid,
    mp_loss,
    mp_predict,
    outcome,
    round_tol,
    single_thread,
    tex_num,
)

MARGINS = {"sparsemax": lambda p: 1.0, "entmax": lambda p: 1.0 / (p["alpha"] - 1.0), "rankmax": lambda p: 1.0}
_STATED = {"sparsemax": "1", "entmax": r"$1/(\alpha-1)$", "rankmax": "1"}  # the margin each row states
#: softmax: margins θ_y − max_{j≠y} θ_j tested, up to where float64 still resolves e^{-m} (e^{-708} is
#: the smallest normal number; the largest margin plus the spread of the other scores stays below it)
SOFTMAX_MARGINS = (0.5, 1.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 400.0, 600.0)

LABELS = {
    **SETTING_LABELS,
    "cases": "score vectors checked",
    "zero_side_cases": r"cases at margin $\mu + \varepsilon$",
    "positive_side_cases": r"cases at margin $\mu - \varepsilon$",
    "unresolved_in_float64": r"losses at $\mu - \varepsilon$ below float64 resolution",
    "min_positive_loss_at_mu_minus_eps": r"min positive float64 loss at $\mu - \varepsilon$",
    "max_abs_err_vs_mpmath": "max error of the float64 loss against its 50-digit value",
    "eps": r"$\varepsilon$",
    "n": "$n$ (number of scores)",
    "margins": r"claimed margin $\mu$ by setting",
}
SOFTMAX_LABELS = {
    "cases": "score vectors checked",
    "min_positive_loss_at_mu_minus_eps": "min float64 loss (class-index target)",
    "max_abs_err_vs_mpmath": "max error of the float64 loss (one-hot vector target) against its exact value",
    "max_rel_err_index_loss": "max relative error of the float64 loss (class-index target) against its exact value",
    "max_rel_err_prediction": r"max relative error of the float64 $\hat y$ against its exact value",
    "min_prediction": r"smallest float64 $\hat y_j$ (all $> 0$)",
    "margins": "score margins tested",
    "library_loss_positive_up_to_margin": "largest margin with float64 loss > 0 ($n = 2$)",
    "log1p_exp_representable_up_to_margin": r"margin beyond which $e^{-m}$ underflows",
}


@single_thread
def margin_check(loss: str, ctx: RunContext) -> Evidence:
    """FY-3: with margin μ (sparsemax 1, α-entmax 1/(α−1), rankmax 1 for a multi-hot y of
    size k, margin = min over labelled − max over the rest), scores whose margin is μ + ε
    give L == 0.0 exactly (float64) and ŷ == y; margin μ − ε gives ŷ ≠ y and L > 0,
    checked against a 50-digit mpmath evaluation of the loss.  Near the margin the loss
    is O(ε^{α/(α−1)}) (e.g. ~1e-33 for α = 1.25, ε = 1e-6), below what an O(1)-term
    float64 formula resolves: such cases ("unresolved_in_float64") require ŷ ≠ y, |L| within
    rounding of the exact value, and the exact value > 0; they never count as a pass of
    "L > 0 in float64" and are reported.

    Softmax (no margin), at margins up to 600 (:data:`SOFTMAX_MARGINS`), against the FY loss
    and softmax in mpmath with 50 significant digits of e^{−m} (the working precision grows
    with the margin): ŷ_j > 0 for every j and ŷ equal to its exact value to relative
    rounding (a kernel that flushes small probabilities to 0 is ours); the loss with a
    class-index target (the log1p form of ``losses/``) > 0 and equal to its exact value to
    relative rounding; the loss with a one-hot vector target > 0 up to margin 30 and within
    rounding of its exact value at all margins.  The figures also report the largest margin
    at which the float64 loss is still > 0 for n = 2 and where log1p(e^{−m}) itself
    underflows (~745): beyond those only the symbolic proof speaks.

    The margin under test is :data:`MARGINS`, read at call time."""
    g = ctx.generator(3)
    reps = ctx.budget(2, 12)
    stats = dict(cases=0, zero_side_cases=0, positive_side_cases=0, unresolved_in_float64=0,
                 min_positive_loss_at_mu_minus_eps=math.inf, max_abs_err_vs_mpmath=0.0)
    fail: dict | None = None

    def check_case(L, params, theta, y, side, eps):
        th = as_tensor(theta)[None]
        yhat = L.predict(th)[0].numpy()
        lv = float(L(th, as_tensor(y)[None])[0])
        stats["cases"] += 1
        ce = {"theta": theta.tolist(), "y": y.tolist(), **params, "side": side, "eps": eps, "loss": lv}
        if side == "plus":
            stats["zero_side_cases"] += 1
            if lv == 0.0 and np.array_equal(yhat, y):
                return None
            ref = mp_loss(loss, theta, y, params)  # is it the claim or our float64?
            if ref > 0:
                return {**ce, "reason": f"at margin $\\mu + {tex_num(eps).strip('$')}$ the exact loss is "
                                        f"{tex_num(mpmath.nstr(ref, 5))} > 0 " + r"($\hat y \ne y$)",
                        "prediction": yhat.tolist()}
            raise SuiteDefect(f"FY-3[{loss}] {params}: at margin μ+{eps:g} the exact loss is 0 but losses/ gives "
                              f"{lv!r}, ŷ == y: {bool(np.array_equal(yhat, y))}, at θ = {theta.tolist()[:6]}…")
        stats["positive_side_cases"] += 1
        ref = mp_loss(loss, theta, y, params)
        res = round_tol(theta)
        err = abs(float(mpmath.mpf(lv) - ref))
        stats["max_abs_err_vs_mpmath"] = max(stats["max_abs_err_vs_mpmath"], err)
        if lv > 0:
            stats["min_positive_loss_at_mu_minus_eps"] = min(stats["min_positive_loss_at_mu_minus_eps"], lv)
        if not ref > 0:
            return {**ce, "reason": f"at margin $\\mu - {tex_num(eps).strip('$')}$ the exact loss is "
                                    f"{tex_num(mpmath.nstr(ref, 5))}, not > 0 below the margin"}
        if np.array_equal(yhat, y) or err > res:  # the exact loss is > 0: losses/ lost it
            raise SuiteDefect(f"FY-3[{loss}] {params}: below the margin the exact loss is {mpmath.nstr(ref, 8)} but "
                              f"losses/ gives {lv!r} (ŷ == y: {bool(np.array_equal(yhat, y))}) at θ = "
                              f"{theta.tolist()[:6]}…")
        if ref <= 2 * res:  # float64 cannot resolve the exact loss (above, err ≤ res makes lv > 0 otherwise)
            stats["unresolved_in_float64"] += 1
        return None

    if member(loss).dense:  # full support: the loss never reaches 0, so there is no margin to cross
        L = get(loss)
        stats.update(max_rel_err_index_loss=0.0, max_rel_err_prediction=0.0, min_prediction=math.inf)
        for n, m, _ in itertools.product((2, 3, 10, 50), SOFTMAX_MARGINS, range(reps)):
            others = torch.randn(n - 1, generator=g, dtype=torch.float64).numpy() * 3
            theta = np.concatenate([[others.max() + m], others])
            y = np.zeros(n)
            y[0] = 1.0
            fail = _check_softmax(L, theta, y, stats)
            if fail:
                break
        # float64 reach of the library's loss, n = 2, θ = (m, 0)
        margins = np.arange(30.0, 801.0, 0.5)
        th = as_tensor(np.stack([margins, np.zeros_like(margins)], 1))
        lv = L(th, torch.zeros(len(margins), dtype=torch.long)).numpy()
        pos = margins[lv > 0]
        figures = {**{k: stats[k] for k in ("cases", "min_positive_loss_at_mu_minus_eps", "max_abs_err_vs_mpmath",
                                            "max_rel_err_index_loss", "max_rel_err_prediction", "min_prediction")},
                   "margins": list(SOFTMAX_MARGINS),
                   "library_loss_positive_up_to_margin": float(pos.max()) if pos.size else None,
                   "log1p_exp_representable_up_to_margin": float(-math.log(np.nextafter(0, 1))),
                   }
        out = outcome(fail, 0)
        reach = figures["library_loss_positive_up_to_margin"]
        detail = (fail or {}).get("reason") or (
            f"softmax has no margin: on {stats['cases']} score vectors " + r"($n \in \{2, 3, 10, 50\}$) "
            r"$\hat y_j > 0$ and $L > 0$ at margins up to "
            f"{SOFTMAX_MARGINS[-1]:g}, " + r"$\hat y$ and $L$ equal to their exact values to relative rounding; "
            f"the float64 loss of losses/ stays > 0 up to margin {reach} "
            r"(log1p form; $e^{-m}$ itself underflows beyond $m \approx 745$); the symbolic proof covers all finite "
            r"$\theta$")
        summary = (f"{fail['reason']}" if fail else
                   r"$\hat y_j > 0$, $L > 0$ at all " + f"{stats['cases']} score vectors with margins up to "
                   f"{SOFTMAX_MARGINS[-1]:g}; float64 loss > 0 up to margin {reach}")
        return Evidence("numeric", "margin_check[softmax]", out, detail, figures,
                        None if fail is None else {k: v for k, v in fail.items() if k != "reason"},
                        summary=summary, labels=SOFTMAX_LABELS)

    mismatched_attr = []
    claimed = MARGINS[loss]
    for params in grid(loss):
        mu = float(claimed(params))
        L = get(loss, **params)
        if L.margin is None or abs(L.margin - mu) > 1e-15:
            mismatched_attr.append({**params, "library_margin": L.margin, "claimed": mu})
        k = params.get("k", 1)
        sizes = ctx.budget((2, 3, 10), (2, 3, 5, 10, 40))
        cases = itertools.product(sizes, (1e-3, 1e-6), ("plus", "minus"), range(reps))
        for n, eps, side, r in cases:
            if n < k + 1:
                continue
            scale = (0.1, 1.0, 100.0)[r % 3]
            vals = torch.randn(n, generator=g, dtype=torch.float64).numpy() * scale
            perm = torch.randperm(n, generator=g).numpy()
            lab, rest = perm[:k], perm[k:]
            base = vals[rest].max() + (mu + eps if side == "plus" else mu - eps)
            theta = vals.copy()
            theta[lab] = base + np.abs(torch.randn(k, generator=g, dtype=torch.float64).numpy())
            theta[lab[0]] = base
            realized = theta[lab].min() - theta[rest].max()
            if abs(realized - (mu + eps if side == "plus" else mu - eps)) > 1e-9:
                raise SuiteDefect(f"FY-3[{loss}]: margin construction off: {realized} for μ={mu}, ε={eps}")
            y = np.zeros(n)
            y[lab] = 1.0
            fail = check_case(L, params, theta, y, side, eps)
            if fail:
                break
        if fail:
            break
    if fail is None and mismatched_attr:  # a constant typed into losses/, not evidence about the paper
        raise SuiteDefect(f"FY-3[{loss}]: the loss's margin attribute differs from the claimed margin: "
                          f"{mismatched_attr}")
    figures = {**stats, "settings": grid(loss), "eps": [1e-3, 1e-6],
               "n": list(ctx.budget((2, 3, 10), (2, 3, 5, 10, 40))),
               "margins": {str(p.get("alpha", p.get("k", ""))): float(claimed(p)) for p in grid(loss)}}
    out = outcome(fail, 0)
    stated = _STATED[loss]
    detail = (fail or {}).get("reason") or (
        f"margin $\\mu$ = {stated}, " + r"$\varepsilon \in \{10^{-3}, 10^{-6}\}$: $L = 0$ exactly (float64) and "
        r"$\hat y = y$ at margin $\mu + \varepsilon$ "
        f"({stats['zero_side_cases']} cases); " + r"$\hat y \ne y$ and $L > 0$ (exact, 50 digits) at "
        r"$\mu - \varepsilon$ "
        f"({stats['positive_side_cases']} cases), of which {stats['unresolved_in_float64']} are below float64 "
        "resolution")
    summary = (fail or {}).get("reason") or (
        f"{stats['zero_side_cases']} cases at " + r"$\mu + \varepsilon$ give $L = 0$, "
        f"{stats['positive_side_cases']} at " + r"$\mu - \varepsilon$ give $L > 0$ (margin $\mu$ = "
        f"{stated})")
    return Evidence("numeric", f"margin_check[{loss}]", out, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"},
                    summary=summary, labels=LABELS)


def _check_softmax(L, theta: np.ndarray, y: np.ndarray, stats: dict) -> dict | None:
    """One softmax case (module docstring): ŷ and the loss with a one-hot vector and with a
    class-index target, against the FY loss and softmax in mpmath with 50 digits beyond the
    margin's e^{-m}."""
    n = theta.size
    dps = 50 + int(np.ptp(theta) / math.log(10)) + 5  # 50 significant digits of e^{-ptp θ}
    th = as_tensor(theta)[None]
    lv = float(L(th, as_tensor(y)[None])[0])
    li = float(L(th, torch.as_tensor([int(np.argmax(y))]))[0])
    p = L.predict(th)[0].numpy()
    with mpmath.workdps(dps):
        ref = mp_loss("softmax", theta, y, {}, dps=dps)
        _, pm, _ = mp_predict("softmax", theta, {}, dps=dps)
        err = abs(float(mpmath.mpf(lv) - ref))
        rel_i = abs(float((mpmath.mpf(li) - ref) / ref))
        rel_p = max(abs(float((mpmath.mpf(float(a)) - b) / b)) for a, b in zip(p, pm))
    stats["cases"] += 1
    stats["max_abs_err_vs_mpmath"] = max(stats["max_abs_err_vs_mpmath"], err)
    stats["max_rel_err_index_loss"] = max(stats["max_rel_err_index_loss"], rel_i)
    stats["max_rel_err_prediction"] = max(stats["max_rel_err_prediction"], rel_p)
    stats["min_prediction"] = min(stats["min_prediction"], float(p.min()))
    if li > 0:
        stats["min_positive_loss_at_mu_minus_eps"] = min(stats["min_positive_loss_at_mu_minus_eps"], li)
    margin = float(theta[int(np.argmax(y))] - np.delete(theta, int(np.argmax(y))).max())
    for value, what in ((li, "class-index"), (lv if margin <= 30 else 1.0, "one-hot vector")):
        if not value > 0:
            return {"theta": theta.tolist(), "y": y.tolist(), "loss": value, "side": "softmax",
                    "reason": f"softmax loss ({what} target) {tex_num(value)} not > 0 at a finite " + r"$\theta$ "
                              f"(exact {tex_num(mpmath.nstr(ref, 8))})"}
    # relative rounding of e^{z}, z = θ_j − max θ carrying an error of ε·|θ|, and of n-term sums
    rel_tol = 64 * (n + 1) * EPS * (1.0 + float(np.abs(theta).max()))
    if err > round_tol(theta) or rel_i > rel_tol or rel_p > rel_tol or not bool((p > 0).all()):
        raise SuiteDefect(f"FY-3[softmax]: losses/ off its exact value at margin {margin:g}: loss (one-hot) "
                          f"{lv!r} vs {mpmath.nstr(ref, 8)}, loss (index) relative error {rel_i:.3g}, ŷ relative "
                          f"error {rel_p:.3g} (smallest ŷ_j {float(p.min())!r}), tolerance {rel_tol:.3g}, at θ = "
                          f"{theta.tolist()[:6]}…")
    return None


__all__ = ["margin_check", "MARGINS"]
