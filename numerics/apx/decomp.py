"""APX-1, numeric: the bias–variance decomposition on the canonical configuration, the
shrinking with the sample count (sampling methods), zero variance and a positive bias
(deterministic methods).  Exact float64 (numerics/apx/exact.py)."""
from __future__ import annotations

from audit import Evidence, RunContext, SuiteDefect
from losses import approx

from . import exact as X
from . import plain as P
from .common import (
    CANONICAL_LABELS,
    EQ_TOL,
    N,
    Y,
    bv_plot,
    combine,
    nce_c,
    proposal,
    sampling_series,
    single_threaded,
    tex,
)

ZERO_BIAS2 = 1e-20   # wording only: a bias^2 this small is an exact zero in float64 (summary, caption)
ROUTE_TOL = 1e-12    # two exact routes (library enumeration vs plain numpy, or vs the closed form) agree to this
QUANTITY = {"bias2": "bias$^2$", "variance": "variance"}
LABELS = CANONICAL_LABELS | {
    "bias2_exact": "exact bias$^2$", "variance_exact": "exact variance of independent calls",
    "max_rel_mse_minus_bias2_plus_variance":
        "max relative $|\\mathrm{MSE} - (\\mathrm{bias}^2 + \\mathrm{variance})|$ on the canonical grid",
    "max_abs_library_minus_plain": "max $|$library enumeration $-$ plain numpy enumeration$|$ of the mean, "
                                   "bias$^2$ and variance on the canonical grid",
}


def _sub(method: str, reading: str) -> str:
    if method in ("ssm", "nce"):
        return reading.split("/")[-1]
    return "balanced-H2" if method == "hsm" else reading


@single_threaded
def decomposition(method: str, reading: str, ctx: RunContext) -> Evidence:
    """APX-1 for one canonical reading.

    MSE (computed directly, Σ w ‖g̃ − g‖²) against bias² + variance on the canonical grid:
    a mismatch is a defect of ours (the identity is a theorem; the two sides are two of our
    own computations), raised as :class:`SuiteDefect`; so is, for NCE, a mismatch between
    the enumeration and the closed form by linearity, and for SSM a mismatch between the
    library's enumeration (losses.approx) and the plain numpy one (numerics/apx/plain.py,
    written from the formula, sharing no code with the library): the latter pins the
    canonical estimator's moments, so an estimator off in its correction (log((m+1) q̃))
    cannot pass as SSM.  Sampling methods: bias² and variance
    non-increasing along the doubling grid of the sample count, ``fails`` at the first
    increase (stored, re-checked by reports/rechecks/apx.py).  Deterministic methods: the
    variance of independent calls exactly 0 and a positive bias² (there is no sample count
    to spend), ``fails`` otherwise.  The canonical θ, the estimators, proposals, noise and
    normalizers are read at call time (numerics/apx/exact.py)."""
    sub = _sub(method, reading)
    theta = X.canonical_theta()
    figs = X.canonical(method, sub)
    rows_fig = list(zip(figs["bias2"], figs["variance"], figs["mse"]))
    dec_err = max(abs(m - (b + v)) / max(1.0, m) for b, v, m in rows_fig)
    if dec_err > 1e-12:
        raise SuiteDefect(f"APX-1 {reading}: MSE computed directly differs from bias^2 + variance by {dec_err:.3g} "
                          "(relative) on the canonical grid: the exact moments are inconsistent")
    key0 = "m" if method == "ssm" else "k"
    head = ({f"bias2_{key0}=1": figs["bias2"][0], f"variance_{key0}=1": figs["variance"][0],
             f"bias2_{key0}={figs[key0][-1]}": figs["bias2"][-1], f"variance_{key0}={figs[key0][-1]}": figs["variance"][-1]}
            if method in ("ssm", "nce") else {"bias2_exact": figs["bias2"][0], "variance_exact": figs["variance"][0]})
    figures = head | dict(figs) | {"max_rel_mse_minus_bias2_plus_variance": dec_err}
    labels = dict(LABELS)
    if method in ("ssm", "nce"):
        for x in (1, figs[key0][-1]):
            labels[f"bias2_{key0}={x}"] = f"exact bias$^2$ at ${key0} = {x}$"
            labels[f"variance_{key0}={x}"] = f"exact variance at ${key0} = {x}$"
    outs, cx = [], None
    canon = "canonical $\\theta = (" + ", ".join(f"{t:.4g}" for t in theta.tolist()) + f")$, $y = {Y}$, float64"
    if method in ("ssm", "nce"):
        if method == "nce":
            _nce_closed_matches(figs, sub, theta)
        else:
            figures["max_abs_library_minus_plain"] = _ssm_plain_matches(figs, sub, theta)
        key = key0
        xs, rows = sampling_series(method, sub, ctx)
        b2 = [r["bias2"] for r in rows]
        var = [r["variance"] for r in rows]
        figures |= {f"extended_{key}": xs, "extended_bias2": b2, "extended_variance": var}
        q = X.nce_noise(theta) if method == "nce" else proposal(sub, theta)
        for name, seq in (("bias2", b2), ("variance", var)):
            for i in range(len(xs) - 1):
                if seq[i + 1] > seq[i] + EQ_TOL:
                    outs.append("fails")
                    cx = cx or {"shape": "sampling-increase", "method": method, "quantity": name, "count": key,
                                "from": xs[i], "to": xs[i + 1], "value_from": seq[i], "value_to": seq[i + 1],
                                "theta": theta.tolist(), "y": Y, "q": q.tolist(),
                                **({"c": nce_c(sub, theta)} if method == "nce" else {})}
                    break
            else:
                outs.append("holds")
        if cx is None:
            b_txt = ("stays at 0 to float64 rounding" if max(b2) <= ZERO_BIAS2 else
                     f"falls from {tex(b2[0])} to {tex(b2[-1])}")
            seen = (f"neither curve rises from ${key} = 1$ to ${key} = {xs[-1]}$: bias$^2$ {b_txt}, the variance "
                    f"falls from {tex(var[0])} to {tex(var[-1])}")
            b_short = "bias$^2$ = 0 to rounding" if max(b2) <= ZERO_BIAS2 else f"bias$^2$ {tex(b2[0])} to {tex(b2[-1])}"
            summary = (f"bias$^2$ and variance non-increasing over ${key} = 1$ to {xs[-1]} ({b_short}); "
                       "MSE = bias$^2$ + variance")
        else:
            what = QUANTITY[cx["quantity"]]
            seen = (f"the {what} curve rises from {tex(cx['value_from'], 4)} at ${key} = {cx['from']}$ to "
                    f"{tex(cx['value_to'], 4)} at ${key} = {cx['to']}$, so it does not shrink with ${key}$")
            summary = (f"{what} rises from {tex(cx['value_from'], 3)} at ${key} = {cx['from']}$ to "
                       f"{tex(cx['value_to'], 3)} at ${key} = {cx['to']}$ (MSE = bias$^2$ + variance holds)")
        figures["plot"] = bv_plot(
            f"APX-1 {reading}: exact bias$^2$ and variance", key, xs, {"bias$^2$": b2, "variance": var},
            f"APX-1, {reading}: MSE = bias$^2$ + variance, and as a sampling method its bias$^2$ and variance should "
            f"shrink with the sample count ${key}$. Exact values on the doubling grid ({canon}); {seen}.")
        route = ("the closed form by linearity" if method == "nce" else
                 "a plain numpy enumeration written from the formula (no shared code)")
        rule = (f"holds iff MSE (computed directly) = bias$^2$ + variance to $10^{{-12}}$ and the enumeration through "
                f"the library's estimator equals {route} to $10^{{-12}}$ on the canonical grid (else a suite defect), "
                f"and bias$^2$ and variance are non-increasing along ${key} = 1, 2, 4, \\dots, {xs[-1]}$ (exact; "
                f"increases below {tex(EQ_TOL)} count as float64 rounding); fails at the first increase, which is "
                "stored")
    else:
        ok = figs["variance"] == [0.0] and figs["bias2"][0] > 1e-12
        outs.append("holds" if ok else "fails")
        if not ok:
            cx = {"shape": "deterministic", "method": "hsm" if method == "hsm" else reading, "theta": theta.tolist(),
                  "y": Y, "variance": figs["variance"][0], "bias2": figs["bias2"][0],
                  **({"tree": approx.balanced_tree(N).nested()} if method == "hsm" else {})}
        rule = (f"holds iff MSE = bias$^2$ + variance to $10^{{-12}}$, the variance of {X.CALLS} independent calls of "
                "the estimator is exactly 0 (a function of $\\theta$ alone) and bias$^2 > 10^{-12}$ (no sample count "
                "exists that could shrink it)")
        summary = (f"variance exactly 0 over {X.CALLS} calls and bias$^2$ = {tex(figs['bias2'][0], 3)} > 0; "
                   f"MSE = bias$^2$ + variance to {tex(dec_err)}" if ok else
                   f"variance {tex(figs['variance'][0], 3)} and bias$^2$ {tex(figs['bias2'][0], 3)}: not zero "
                   "variance with a positive bias")
    out = combine(outs)
    return Evidence("numeric", "exact-decomposition", out, f"{rule}. {canon[0].upper()}{canon[1:]}.", figures,
                    cx if out == "fails" else None, summary=summary, labels=labels)


def _nce_closed_matches(figs: dict, sub: str, theta) -> None:
    """The NCE enumeration (canonical grid) against the closed form by linearity: two of
    our own routes; a mismatch is a suite defect."""
    q = X.nce_noise(theta)
    for k, b, v in zip(figs["k"], figs["bias2"], figs["variance"]):
        cl = X.nce_exact(theta, Y, q, k, nce_c(sub, theta))
        err = max(abs(cl["bias2"] - b), abs(cl["variance"] - v))
        if err > ROUTE_TOL * max(1.0, cl["variance"] + cl["bias2"]):
            raise SuiteDefect(f"APX-1 nce/{sub}: enumeration and closed form disagree at k = {k} by {err:.3g}")


def _ssm_plain_matches(figs: dict, sub: str, theta) -> float:
    """The SSM enumeration through the library (canonical grid) against the plain numpy
    enumeration of numerics/apx/plain.py: two of our own routes; a mismatch is a suite
    defect.  Returns the largest gap (mean coordinates, bias², variance)."""
    q = proposal(sub, theta)
    worst = 0.0
    for m in figs["m"]:
        lib = X.ssm_exact(theta, Y, q, m)
        plain = P.exact_moments("ssm", theta.numpy(), Y, q.numpy(), m)
        err = max(float(abs(lib["mean"].numpy() - plain["mean"]).max()),
                  *(abs(lib[k] - plain[k]) for k in ("bias2", "variance")))
        if err > ROUTE_TOL * max(1.0, plain["variance"] + plain["bias2"]):
            raise SuiteDefect(f"APX-1 ssm/{sub}: the library's enumeration and the plain numpy one disagree at "
                              f"m = {m} by {err:.3g} (the estimator is not canonical SSM)")
        worst = max(worst, err)
    return worst


__all__ = ["decomposition"]
