"""APX-6 estimators: a draw of the score-gradient estimate g̃ (B, n) for the SGD loop and,
where available, exact per-example moments; Monte Carlo moments and their upper bounds;
the cross-check of the Monte Carlo against exact moments (numerics/apx/sgd.py)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from scipy import stats

from losses import approx

from .sgd_problem import DT, Problem


@dataclass(frozen=True)
class Estimator:
    """One gradient estimator.

    ``kind``: "deterministic" (σ² = 0), "closed" (stochastic, exact moments in closed
    form) or "mc" (stochastic, moments by Monte Carlo).  ``sampler(theta, y, gen)`` → class
    indices (B, m) (None for deterministic estimators); ``fast(theta, y, samples)`` → g̃
    (B, n) through the library's kernels on gathered logits (``approx.ssm_kernel``,
    ``approx.nce_kernel``, ``approx.densify``) without per-call validation, for the hot
    loop; ``library(theta, y, samples)`` → the same g̃ through the validated public
    estimator (``approx.ssm_grad`` …), which the tests compare with ``fast``;
    ``moments(theta, y)`` → (E g̃ (B, n), E‖g̃ − E g̃‖² (B,)) where exact."""

    name: str
    kind: str
    sampler: Callable | None
    fast: Callable
    library: Callable
    moments: Callable | None = None

    def draw(self, theta: torch.Tensor, y: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        return self.fast(theta, y, None if self.sampler is None else self.sampler(theta, y, gen))


# samplers: exact draws from the proposals of the check, vectorized over rows and samples
def sample_uniform_negatives(y: torch.Tensor, n: int, m: int, gen: torch.Generator) -> torch.Tensor:
    """m i.i.d. draws uniform over the n − 1 classes ≠ y_b: (y + U{1 … n−1}) mod n."""
    return (y[:, None] + torch.randint(1, n, (y.shape[0], m), generator=gen)) % n


def sample_rows(q: torch.Tensor, m: int, gen: torch.Generator) -> torch.Tensor:
    """m i.i.d. draws from each row of q (B, n) by inversion: the first j with
    cdf_j > u · cdf_n, u ~ U[0, 1); a class with q_j = 0 (a flat cdf step) is never drawn."""
    cdf = q.cumsum(-1)
    u = torch.rand(q.shape[0], m, generator=gen, dtype=q.dtype) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_(max=q.shape[1] - 1)


def _gathered(theta, y, samples):
    return theta.gather(-1, y[:, None]), theta.gather(-1, samples), torch.cat([y[:, None], samples], -1)


def _ssm_fast(log_mq):
    """Canonical SSM on gathered logits; ``log_mq(theta, y, samples)`` = log(m q̃_s)."""
    def fast(theta, y, samples):
        pos, neg, idx = _gathered(theta, y, samples)
        _, vals = approx.ssm_kernel(pos, neg - log_mq(theta, y, samples))
        return approx.densify(idx, vals, theta.shape[1])
    return fast


def _ssm_ideal_moments(m: int):
    def mom(theta, y):
        p = torch.softmax(theta, -1)
        py = p.gather(-1, y[:, None])[:, 0]
        qt = approx.ideal_proposal(theta, y)
        # g̃ = (p_y − 1) e_y + ((1 − p_y)/m) c, c ~ Multinomial(m, q̃): unbiased
        return approx.softmax_grad(theta, y), (1 - py) ** 2 * (1 - (qt * qt).sum(-1)) / m
    return mom


def _nce_fast(k: int, n: int):
    lkq = math.log(k / n)                                                   # log(k q_j), q uniform

    def fast(theta, y, samples):
        pos, neg, idx = _gathered(theta, y, samples)
        c = torch.logsumexp(theta, -1, keepdim=True)
        _, vals, _ = approx.nce_kernel(pos - c - lkq, neg - c - lkq)
        return approx.densify(idx, vals, theta.shape[1])
    return fast


def _nce_moments(k: int, q: torch.Tensor):
    def mom(theta, y):
        c = torch.logsumexp(theta, -1, keepdim=True)
        delta = theta - c - torch.log(k * q)
        s = torch.sigmoid(delta)
        mean = k * q * s                                                    # Σ_i E σ(Δ_{s_i}) e_{s_i}
        mean = mean.scatter_add(-1, y[:, None], -torch.sigmoid(-delta.gather(-1, y[:, None])))
        var = k * ((q * s * s).sum(-1) - ((q * s) ** 2).sum(-1))
        return mean, var
    return mom


def estimators(n: int) -> list[Estimator]:
    """The estimators of the check, in report order."""
    q = approx.uniform_proposal(n)
    tree = approx.balanced_tree(n)
    out = [Estimator("exact", "deterministic", None, lambda th, y, s: approx.softmax_grad(th, y),
                     lambda th, y, s: approx.softmax_grad(th, y))]
    for m in (1, 4, 16):
        lmq = math.log(m / (n - 1))                                         # q̃ = 1/(n − 1) on the negatives
        out.append(Estimator(
            f"ssm/uniform m={m}", "mc", lambda th, y, g, m=m: sample_uniform_negatives(y, n, m, g),
            _ssm_fast(lambda th, y, s, lmq=lmq: lmq), lambda th, y, s: approx.ssm_grad(th, y, s, q)[1]))
    for m in (1, 4, 16):
        def lmq_ideal(th, y, s, m=m):
            # log(m q̃_s) with q̃ = softmax of θ over the negatives
            lz = torch.logsumexp(th.scatter(-1, y[:, None], float("-inf")), -1, keepdim=True)
            return math.log(m) + th.gather(-1, s) - lz
        out.append(Estimator(
            f"ssm/ideal m={m}", "closed", lambda th, y, g, m=m: sample_rows(approx.ideal_proposal(th, y), m, g),
            _ssm_fast(lmq_ideal), lambda th, y, s: approx.ssm_grad(th, y, s, approx.ideal_proposal(th, y))[1],
            _ssm_ideal_moments(m)))
    for k in (4, 16):
        out.append(Estimator(
            f"nce/c=logZ k={k}", "closed", lambda th, y, g, k=k: torch.randint(0, n, (y.shape[0], k), generator=g),
            _nce_fast(k, n), lambda th, y, s: approx.nce_grad(th, y, s, q, torch.logsumexp(th, -1))[1],
            _nce_moments(k, q)))
    hsm = lambda th, y, s: approx.hsm_grad(th, y, tree)[1]                  # noqa: E731
    rg2 = lambda th, y, s: approx.rg_grad(th, y, "rg2")[1]                  # noqa: E731
    rgx = lambda th, y, s: approx.rg_grad(th, y, "rgx")[1]                  # noqa: E731
    out += [Estimator("hsm/balanced-H2", "deterministic", None, hsm, hsm),
            Estimator("rg2", "deterministic", None, rg2, rg2),
            Estimator("rgx", "deterministic", None, rgx, rgx)]
    return out


def _exact_moments(est: Estimator, theta, y):
    if est.kind == "deterministic":
        return est.draw(theta, y, None), torch.zeros(theta.shape[0], dtype=DT)
    return est.moments(theta, y)


def _aggregate(pb: Problem, mean, var, g) -> tuple[float, float]:
    """(‖E G̃ − ∇F‖_F, E‖G̃ − E G̃‖²_F) from per-example moments (examples independent)."""
    N = pb.X.shape[0]
    beta = pb.X.T @ (mean - g) / N
    return float(beta.norm()), float(((pb.X * pb.X).sum(-1) * var).sum()) / N ** 2


def mc_moments(pb: Problem, est: Estimator, W: torch.Tensor, S: int, gen: torch.Generator) -> dict:
    """Monte Carlo moments of G̃(W) from S fresh draws per example (one batch of S·N rows).

    Returns ‖β̂‖ (β̂ = (1/N) Σ_i x_i (ḡ_i − g_i)ᵀ), the unbiased b² estimate ‖β̂‖² − σ̂²/S,
    σ̂² = (1/N²) Σ_i ‖x_i‖² v̂_i (v̂_i unbiased) and its standard error."""
    X, y = pb.X, pb.y
    N, n = X.shape[0], pb.n
    theta = X @ W
    gt = est.draw(theta.repeat(S, 1), y.repeat(S), gen).view(S, N, n)
    mean = gt.mean(0)
    dev2 = ((gt - mean) ** 2).sum(-1)                                       # (S, N)
    v = dev2.sum(0) / (S - 1)
    vv = dev2.var(0)
    xn2 = (X * X).sum(-1)
    beta = X.T @ (mean - approx.softmax_grad(theta, y)) / N
    s2 = float((xn2 * v).sum()) / N ** 2
    se = math.sqrt(float((xn2 * xn2 * vv).sum()) / S) / N ** 2
    bn = float(beta.norm())
    return {"beta_norm": bn, "b2_unbiased": bn * bn - s2 / S, "sigma2": s2, "sigma2_se": se, "mean": mean}


def mc_upper(mc: dict, S: int, delta: float) -> tuple[float, float]:
    """(b_ucb, σ²_ucb), each at level 1 − δ (numerics/apx/sgd.py docstring): σ²_ucb with a
    Student-t quantile on S − 1 degrees of freedom (the per-example variances are means
    over S draws), b_ucb by Gaussian concentration of ‖β̂ − β‖."""
    s2u = mc["sigma2"] + float(stats.t.ppf(1 - delta, S - 1)) * mc["sigma2_se"]
    return mc["beta_norm"] + (1 + math.sqrt(2 * math.log(1 / delta))) * math.sqrt(max(s2u, 0.0) / S), s2u


def _enumerate_uniform_m1(pb: Problem, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact moments of canonical SSM, uniform proposal, m = 1: all n − 1 negatives, equally
    likely, through the validated ``approx.ssm_grad``."""
    N, n = theta.shape
    s = ((pb.y[None, :] + torch.arange(1, n)[:, None]) % n).reshape(-1, 1)
    g = approx.ssm_grad(theta.repeat(n - 1, 1), pb.y.repeat(n - 1), s, approx.uniform_proposal(n))[1].view(n - 1, N, n)
    mean = g.mean(0)
    return mean, ((g - mean) ** 2).sum(-1).mean(0)


CROSSCHECKED = ("ssm/uniform m=1", "ssm/ideal m=1", "nce/c=logZ k=4")


def crosscheck_raw(pb: Problem, ests: list[Estimator], W_star: torch.Tensor, S: int, gen: torch.Generator) -> dict:
    """The Monte Carlo routine (as used for uniform SSM) at W* against exact moments:
    uniform SSM m=1 by enumeration, ideal SSM m=1 and NCE k=4 in closed form.  Returns,
    per estimator, the exact σ², the Monte Carlo σ̂² with its standard error, and
    ‖β̂ − β‖ (the decision, at a level, is :func:`crosscheck_agree`)."""
    out = {}
    theta = pb.X @ W_star
    g = approx.softmax_grad(theta, pb.y)
    for est in ests:
        if est.name not in CROSSCHECKED:
            continue
        mean, var = est.moments(theta, pb.y) if est.moments is not None else _enumerate_uniform_m1(pb, theta)
        _, s2 = _aggregate(pb, mean, var, g)
        mc = mc_moments(pb, est, W_star, S, gen)
        dbeta = float((pb.X.T @ (mc["mean"] - mean) / pb.X.shape[0]).norm())
        out[est.name] = {"sigma2_exact": s2, "sigma2_mc": mc["sigma2"], "sigma2_se": mc["sigma2_se"], "mean_gap": dbeta}
    return out


def crosscheck_agree(raw: dict, S: int, alpha: float) -> dict:
    """Each cross-check at family level ``alpha`` over its 2 tests per estimator (Bonferroni):
    agree iff |σ̂² − σ²| ≤ t_{1−a/2, S−1}·se and ‖β̂ − β‖ ≤ (1 + sqrt(2 ln(1/a))) sqrt(σ²/S),
    a = alpha / (2 · estimators)."""
    a = alpha / (2 * max(1, len(raw)))
    tq = float(stats.t.ppf(1 - a / 2, S - 1))
    out = {}
    for name, r in raw.items():
        tol_b = (1 + math.sqrt(2 * math.log(1 / a))) * math.sqrt(r["sigma2_exact"] / S)
        ok = abs(r["sigma2_mc"] - r["sigma2_exact"]) <= tq * r["sigma2_se"] and r["mean_gap"] <= tol_b
        out[name] = r | {"mean_gap_tol": tol_b, "level_per_test": 1 - a, "agree": ok}
    return out
