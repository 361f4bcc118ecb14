"""Gradient-descent runs shared by DYN-1 and DYN-2 (CLAIMS.md §3), float64, fixed seeds,
vectorized over examples and classes (the only Python loop is over GD steps):

(a) *free scores*: a batch of score vectors θ ∈ R^n, each with a fixed label (class 0, or
    the items {0..k−1} for rankmax), θ ← θ − lr ∇L;
(b) *separable*: a linear model θ = x W on synthetic data whose labels are the argmax
    (top-k set for rankmax) of x W*, kept only where the top-1 (top-k) gap of x W* is at
    least ``GAP`` (so a finite W reaches any margin); GD on the mean loss.

Each step uses the training gradient ŷ(θ) − y of the loss under test (what its backward
pass returns; softmax trains with torch.softmax, which must agree with the library's map to
1e-12 relative at every recorded step).  At log-spaced recorded steps the gradient is also measured by an
independent route, backward differences of the library's loss *value*,

    D_j = (L(θ) − L(θ − h e_j)) / h = (1/h) ∫_{θ_j − h}^{θ_j} ∂_j L(θ + (s − θ_j) e_j) ds,

which for a negative class j (y_j = 0) lies in [ŷ_j(θ − h e_j), ŷ_j(θ)] ⊂ [0, ŷ_j(θ)]
because ∂_j L = ŷ_j − y_j and ŷ_j is non-decreasing in θ_j (FY-2, FY-4: the Jacobian of
ŷ is PSD).  So off the support (ŷ_j = 0) D_j = 0 exactly for every h, and on it D_j > 0
whenever ŷ_j is not tiny.  The route agreement is a rule of the suite, not a finding:

* a negative with ŷ_j = 0 and |D_j| > r, or with ŷ_j ≥ ``RESOLVE`` and D_j ∉ (r, ŷ_j + r],
  raises :class:`SuiteDefect` (r = 64 ε_mach (1 + n·ptp θ + |L|) / h, the rounding of
  two loss values divided by h);
* softmax: every negative with ŷ_j < ``RESOLVE`` is compared in log space with
  θ_j − logsumexp(θ) (torch.logsumexp): relative error ≤ 1e-8 where that is above −700,
  else a defect; below −700 float64 underflows and the value is not compared (counted).
  A zero training gradient at any step is re-checked the same way.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch

from audit import RunContext, SuiteDefect
from audit.members import member
from losses import get

from ..threads import one_thread

DT = torch.float64
N_CLASSES = 5
DIM = 4  # features, plus a bias column
LR = 0.5
GAP = 1.0  # minimum top-1 / top-k gap of x W* on the separable data
N_SEP = 100  # separable examples
H_FD = 1e-5  # backward-difference step of the independent gradient route
RESOLVE = 1e-4  # on-support negatives with ŷ_j below this are not compared by differences
LOG_UNDERFLOW = -700.0
#: step budget (quick, full) of the runs: softmax's rate fit needs a long horizon (its last
#: decade is fitted); the sparse runs stop once the loss is exactly zero
HORIZON = {"softmax": (20_000, 200_000), "sparse": (1_000, 5_000)}


def step_size(t: int) -> float:
    """The GD step at step ``t``: the constant ``LR`` (DYN-1/DYN-2 are about constant steps)."""
    return LR


def variants(loss: str, ctx: RunContext) -> list[tuple[str, dict]]:
    """(label, params) pairs checked for a loss in this profile."""
    try:
        L = member(loss)
    except ValueError:
        raise ValueError(f"loss must be one of softmax, sparsemax, entmax, rankmax, got {loss!r}") from None
    if L.tsallis:  # α is a parameter of the family: the runs take one or two of its values
        alphas = (1.5,) if ctx.profile == "quick" else (1.5, 2.5)
        return [(f"{L.name}(alpha={a})", {"alpha": a}) for a in alphas]
    if L.capped:  # the mass k of C_k is a parameter: k = 1 and a multi-hot k = 2
        return [(f"{L.name}(k={k})", {"k": k}) for k in (1, 2)]
    return [(L.name, {})]


def variant_text(label: str) -> str:
    """A variant label as marked text: ``entmax(alpha=1.5)`` -> ``entmax, $\\alpha = 1.5$``."""
    name, _, rest = label.partition("(")
    if not rest:
        return name
    key, _, value = rest.rstrip(")").partition("=")
    sym = "\\alpha" if key == "alpha" else key
    return f"{name}, ${sym} = {value}$"


#: the two separable settings, as marked text
SETTING_TEXT = {"free": "(a) free scores", "separable": "(b) separable linear model"}


def k_of(params: dict) -> int:
    return int(params.get("k", 1))


def record_steps(T: int, m: int = 400) -> torch.Tensor:
    """Log-spaced step indices in [1, T] (unique)."""
    return torch.unique(torch.logspace(0, math.log10(T), m, dtype=DT).round().long().clamp(1, T))


def _labels_from_scores(s: torch.Tensor, k: int) -> torch.Tensor:
    """Multi-hot label of the top-k entries (one-hot for k = 1), float64."""
    y = torch.zeros_like(s)
    return y.scatter_(-1, s.topk(k, -1).indices, 1.0)


def data(name: str, params: dict, setting: str, seed: int) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(initial W, X or None, labels Y) of a setting."""
    k = k_of(params)
    g = torch.Generator().manual_seed(seed)
    n = N_CLASSES
    if setting == "free":
        B = 8
        W = 0.1 * torch.randn(B, n, generator=g, dtype=DT)
        y = torch.zeros(B, n, dtype=DT)
        y[:, :k] = 1.0
        return W, None, y
    if setting == "separable":
        Wstar = torch.randn(DIM + 1, n, generator=g, dtype=DT)
        Xc = torch.cat([torch.randn(40 * N_SEP, DIM, generator=g, dtype=DT), torch.ones(40 * N_SEP, 1, dtype=DT)], -1)
        top = (Xc @ Wstar).topk(k + 1, -1).values
        X = Xc[(top[:, k - 1] - top[:, k]) >= GAP][:N_SEP]
        if X.shape[0] < N_SEP:
            raise RuntimeError("separable data: too few points pass the gap filter")
        return torch.zeros(DIM + 1, n, dtype=DT), X, _labels_from_scores(X @ Wstar, k)
    raise ValueError(f"setting must be 'free' or 'separable', got {setting!r}")


def _log_space(name: str, theta: torch.Tensor, yhat: torch.Tensor, mask: torch.Tensor, stats: dict) -> None:
    """softmax: ŷ_j against exp(θ_j − logsumexp θ) on ``mask`` (see the module docstring); the
    route is the closed form of the dense member's map (g = p log p), none for a sparse one."""
    if not member(name).dense or not mask.any():
        return
    ref = (theta - torch.logsumexp(theta, -1, keepdim=True))[mask]
    got = yhat[mask]
    rep = ref > LOG_UNDERFLOW
    stats["underflow_not_compared"] += int((~rep).sum())
    if rep.any():
        err = float((got[rep] / torch.exp(ref[rep]) - 1).abs().max())
        stats["max_rel_err_log_space"] = max(stats["max_rel_err_log_space"], err)
        if err > 1e-8:
            raise SuiteDefect(f"softmax map vs exp(theta_j - logsumexp(theta)): relative error {err:.3g} on a "
                              "negative (the library's map disagrees with the plain log-space route)")


def fd_route(loss, name: str, theta: torch.Tensor, y: torch.Tensor, yhat: torch.Tensor, stats: dict) -> None:
    """Compare the training gradient's zero pattern on negatives with backward differences
    of the loss value (module docstring); update ``stats``; raise SuiteDefect on a mismatch."""
    B, n = theta.shape
    eye = torch.eye(n, dtype=DT)
    L0 = loss(theta, y)
    L1 = loss((theta[:, None, :] - H_FD * eye).reshape(-1, n), y.repeat_interleave(n, 0)).reshape(B, n)
    D = (L0[:, None] - L1) / H_FD
    ptp = (theta.amax(-1) - theta.amin(-1))
    r = (64 * torch.finfo(DT).eps * (1 + n * ptp + L0.abs()) / H_FD)[:, None]
    neg = y == 0
    off = neg & (yhat == 0)
    on = neg & (yhat >= RESOLVE)
    bad_off = off & (D.abs() > r)
    bad_on = on & ((D <= r) | (D > yhat + r))
    stats["off_support_compared"] += int(off.sum())
    stats["on_support_compared"] += int(on.sum())
    stats["near_threshold_not_compared"] += int((neg & (yhat > 0) & (yhat < RESOLVE)).sum())
    if off.any():
        stats["max_abs_difference_off_support"] = max(stats["max_abs_difference_off_support"], float(D[off].abs().max()))
    if bad_off.any() or bad_on.any():
        b, j = (bad_off | bad_on).nonzero()[0].tolist()
        raise SuiteDefect(f"{name}: training gradient yhat_j - y_j = {float(yhat[b, j]):.3g} but the backward difference "
                          f"of the loss value is {float(D[b, j]):.3g} (rounding bound {float(r[b, 0]):.2g}) on a negative "
                          "class: the library's map and loss value disagree")
    _log_space(name, theta, yhat, neg & (yhat < RESOLVE), stats)


def gd(name: str, params: dict, setting: str, T: int, seed: int, stop_at_zero: bool = True) -> dict:
    """Run GD for one loss variant in setting 'free' or 'separable' (module docstring).

    Returns the per-step fraction of negatives with a non-zero training gradient, the
    recorded losses/norms, the step at which ŷ = y exactly (loss exactly 0, FY-2), the
    largest score gap seen and the statistics of the independent gradient route."""
    loss = get(name, **params)
    W, X, y = data(name, params, setting, seed)
    neg = y == 0
    n_neg = int(neg.sum())
    rec = set(record_steps(T).tolist())
    zeros = []  # per step: negatives with exactly zero training gradient (= ŷ_j, since y_j = 0)
    rec_t, rec_loss, rec_norm, rec_minlog = [], [], [], []
    stats = {"recorded_steps": 0, "off_support_compared": 0, "on_support_compared": 0,
             "near_threshold_not_compared": 0, "underflow_not_compared": 0, "max_abs_difference_off_support": 0.0,
             "max_rel_err_log_space": 0.0}
    max_gap = 0.0
    zero_at, steps_run = None, T
    reg = loss.regularizer  # the hot loop skips predict's input checks (θ is finite float64 here)
    if hasattr(reg, "check_n"):
        reg.check_n(y.shape[-1])
    # softmax trains with torch.softmax (one kernel; the long rate runs are its hot path) and the
    # library's map must agree with it at every recorded step (torch.softmax is the map of the dense
    # member, g = p log p); the other maps are the library's
    fast = member(name).dense
    for t in range(1, T + 1):
        theta = W if X is None else X @ W
        yhat = torch.softmax(theta, -1) if fast else reg.solve(theta).dense(DT)
        grad = yhat - y
        zero_neg = (grad == 0) & neg
        n_zero = int(zero_neg.sum())
        zeros.append(n_zero)
        if fast and n_zero:  # a dense map has no zeros: one here is underflow, checked in log space
            _log_space(name, theta, yhat, zero_neg, stats)
        # ŷ = y exactly ⟺ no negative in the support (ŷ sums to Σy); robust to the last-bit
        # rounding of the positive entries, which the loss value also carries (~1e-16)
        exact = n_zero == n_neg
        if t in rec or exact or t == T:
            if fast:
                lib = loss.predict(theta)
                err = float(((lib - yhat).abs() / yhat.clamp_min(1e-300)).max())
                if err > 1e-12:
                    raise SuiteDefect(f"softmax: the library's map and torch.softmax differ by {err:.3g} (relative)")
            fd_route(loss, name, theta, y, yhat, stats)
            stats["recorded_steps"] += 1
            per = loss(theta, y)
            rec_t.append(t)
            rec_loss.append(float(per.sum() if X is None else per.mean()))
            rec_norm.append(float(W.norm()))
            # the smallest negative gradient in log space (log ŷ_j = θ_j − logsumexp θ): how far from
            # zero (and from float64's underflow) the least-served negative is (DYN-1's plot)
            rec_minlog.append(float((theta - torch.logsumexp(theta, -1, keepdim=True))[neg].min()))
            max_gap = max(max_gap, float((theta.max(-1).values - theta.min(-1).values).max()))
        if exact and zero_at is None:
            zero_at = t - 1  # GD updates made before ŷ = y exactly (loss exactly 0)
            if stop_at_zero:
                steps_run = t
                break
        W = W - step_size(t) * (grad if X is None else X.T @ grad / X.shape[0])
    frac = 1 - torch.tensor(zeros[:steps_run], dtype=DT) / n_neg
    return {"frac": frac, "t": np.array(rec_t), "loss": np.array(rec_loss), "norm": np.array(rec_norm),
            "min_log_neg": np.array(rec_minlog),
            "route": stats, "zero_at": zero_at, "max_gap": max_gap, "T": T, "steps": steps_run}


@functools.lru_cache(maxsize=64)
def _run_cached(name: str, key: tuple, setting: str, T: int, seed: int, impl) -> dict:
    return gd(name, dict(key), setting, T, seed)


# keyed by everything a run reads that a planted input patches (the implementation's solve
# function, the step, the schedule, the data source), so a planted run never meets a run of
# the real code, and the real runs survive planted runs (DYN-1 and DYN-2 share them)
_run_cached.keep_across_planted = True  # type: ignore[attr-defined]


def horizon(name: str, ctx: RunContext) -> int:
    # a dense map never reaches zero loss: its rate fit needs the long horizon
    return ctx.budget(*HORIZON["softmax" if member(name).dense else "sparse"])


def run(name: str, params: dict, setting: str, ctx: RunContext) -> dict:
    T = horizon(name, ctx)
    seed = ctx.seed * 1_000_003 + (11 if setting == "free" else 12)
    impl = (type(get(name, **params).regularizer).solve, LR, step_size, data)
    with one_thread():
        return _run_cached(name, tuple(sorted(params.items())), setting, T, seed, impl)


__all__ = ["variants", "variant_text", "SETTING_TEXT", "k_of", "record_steps", "data", "gd", "run", "horizon", "fd_route", "N_CLASSES", "DIM", "LR",
           "GAP", "N_SEP", "DT", "HORIZON", "step_size"]
