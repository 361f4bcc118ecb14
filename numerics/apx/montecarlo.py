"""Monte Carlo bias², variance and MSE of the sampling estimators (SSM, NCE), at scale.

For one example (θ ∈ ℝⁿ, label y) the estimator ``g̃`` of ``g = softmax(θ) − e_y`` is
drawn R times independently (R = ``draws``).  Each draw is sparse: values at the indices
``[y, s_1 … s_m]`` from the same kernels as the dense forms (:func:`losses.approx.ssm_kernel`,
:func:`losses.approx.nce_kernel`), so nothing of size R × n is ever formed and the cost
is O(n + R m log m) per configuration (one sort per draw to merge repeated indices).
Everything is vectorized over draws, in chunks; the device is θ's (CUDA when given).

Estimates (float64 accumulators), with ``ḡ = (1/R) Σ_r g̃_r``:

- ``second_moment`` ``E‖g̃‖²``: the mean of ``‖g̃_r‖²``, CLT standard error;
- ``mse`` ``E‖g̃ − g‖²``: the mean of ``‖g̃_r − g‖²``, CLT standard error;
- ``variance`` ``E‖g̃ − E g̃‖²``: ``V̂ = (Σ_r ‖g̃_r‖² − R ‖ḡ‖²)/(R − 1)`` (unbiased);
- ``bias2`` ``‖E g̃ − g‖²``: ``‖ḡ − g‖² − V̂/R`` (unbiased: it is the U-statistic
  ``Σ_{r≠s} ⟨g̃_r − g, g̃_s − g⟩ / (R(R − 1))``, so it can be slightly negative);
- ``mean`` (n,) and its per-coordinate standard errors.

``variance`` and ``bias2`` get delete-a-group jackknife standard errors over
``groups`` independent groups of draws, and Student-t intervals with ``groups − 1``
degrees of freedom; ``mse``, ``second_moment`` and the mean coordinates CLT standard
errors over the R draws and Student-t intervals with ``R − 1`` degrees of freedom.
:func:`accumulate` keeps the raw sums (:class:`Sums`), :func:`summarize` turns them into
estimates at a level, so a caller can re-summarize one run at another level.  The level is the
caller's (``level``); callers that compare many intervals split their error budget
(Bonferroni).  Caveat, stated rather than hidden: when the bias is exactly zero the
bias² U-statistic is a degenerate (chi-square-like, right-skewed) statistic and its
symmetric interval is only approximate; a zero bias is tested on the mean vector
coordinates instead, whose CLT intervals are exact to first order.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor

from losses import approx

METHODS = ("ssm", "nce")
MAX_CHUNK_SLOTS = 1 << 22  # draws × (m + 1) per vectorized chunk: ~32 MiB of float64 values


@dataclass(frozen=True)
class Interval:
    est: float
    se: float
    lo: float
    hi: float

    df: int | None = None  # degrees of freedom of the t quantile

    def contains(self, x: float) -> bool:
        return self.lo <= x <= self.hi

    def to_json(self) -> dict:
        return {"est": self.est, "se": self.se, "lo": self.lo, "hi": self.hi, "df": self.df}


@dataclass(frozen=True)
class MCResult:
    method: str
    m: int
    draws: int
    level: float
    bias2: Interval
    variance: Interval
    mse: Interval
    second_moment: Interval
    mean: Tensor          # (n,) float64, on the CPU
    mean_se: Tensor       # (n,)
    seconds: float
    score_evaluations: int  # draws × (m + 1) scores gathered


def t_quantile(p: float, df: int) -> float:
    """Student-t quantile with ``df`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(p, df))


def _prepare(method, theta, y, q, m, c, variant):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(theta, Tensor) or not theta.is_floating_point() or theta.dim() != 1:
        raise ValueError("theta must be a floating-point tensor of shape (n,)")
    if not bool(torch.isfinite(theta).all()):
        raise ValueError("theta contains NaN or infinite entries")
    n = theta.shape[0]
    if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < n:
        raise ValueError(f"y must be a class index in [0, {n - 1}], got {y!r}")
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be an integer ≥ 1, got {m!r}")
    if not isinstance(q, Tensor) or not q.is_floating_point() or q.shape != (n,):
        raise ValueError(f"q must be a floating-point tensor of shape ({n},)")
    approx._check_distribution(q, "q")
    q = q.to(device=theta.device, dtype=theta.dtype)
    q = q / q.sum()
    if method == "ssm":
        if variant != "canonical":
            raise ValueError("the Monte Carlo implements the canonical SSM only (variant='canonical')")
        draw = q.clone()
        draw[y] = 0.0
        if not float(draw.sum()) > 0:
            raise ValueError("q puts zero mass on every negative class; SSM cannot sample a negative")
        draw = draw / draw.sum()
        logq = torch.log(draw.clamp_min(torch.finfo(draw.dtype).tiny))
        pos = theta[y].reshape(1, 1)
        return draw, (lambda s: approx.ssm_kernel(pos.expand(s.shape[0], 1),
                                                  theta[s] - math.log(m) - logq[s])[1])
    if c is None:
        raise ValueError("NCE needs the normalizer c (a float; log Z for the unbiased-in-the-limit reading)")
    if not math.isfinite(float(c)):
        raise ValueError(f"c must be finite, got {c!r}")
    if not float(q[y]) > 0:
        raise ValueError("q has zero mass on the label y; NCE needs log(k q_y)")
    logq = torch.log(q.clamp_min(torch.finfo(q.dtype).tiny))
    d_pos = (theta[y] - float(c) - math.log(m) - logq[y]).reshape(1, 1)
    return q, (lambda s: approx.nce_kernel(d_pos.expand(s.shape[0], 1),
                                           theta[s] - float(c) - math.log(m) - logq[s])[1])


def _merged_squares(index: Tensor, values: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per row, merge repeated indices: returns the sorted index (R, K), the merged value
    at the last slot of each run of equal indices (0 elsewhere), and ‖g̃_r‖² (R,)."""
    idx, perm = index.sort(-1)
    v = values.gather(-1, perm)
    cs = v.cumsum(-1)
    K = idx.shape[1]
    last = torch.ones_like(idx, dtype=torch.bool)
    last[:, :-1] = idx[:, 1:] != idx[:, :-1]
    pos = torch.arange(K, device=idx.device).expand_as(idx)
    lastpos = torch.where(last, pos, torch.full_like(pos, -1))
    prev = torch.cat([torch.full_like(pos[:, :1], -1), lastpos[:, :-1]], -1).cummax(-1).values
    prev_cs = torch.where(prev >= 0, cs.gather(-1, prev.clamp_min(0)), torch.zeros_like(cs))
    merged = torch.where(last, cs - prev_cs, torch.zeros_like(cs))
    return idx, merged, (merged * merged).sum(-1)


@dataclass(frozen=True)
class Sums:
    """Raw per-group accumulators of one Monte Carlo run (float64, on the CPU), from which
    :func:`summarize` builds every estimate: ``S1`` (groups, n) Σ g̃_r per group, ``S2``
    (n,) Σ g̃_r² per coordinate, ``Q`` (groups,) Σ ‖g̃_r‖² per group, ``QQ`` Σ ‖g̃_r‖⁴,
    ``D``/``DD`` Σ ‖g̃_r − g‖² and Σ ‖g̃_r − g‖⁴; ``g`` the full-softmax gradient."""

    method: str
    m: int
    draws: int
    groups: int
    g: Tensor
    S1: Tensor
    S2: Tensor
    Q: Tensor
    QQ: float
    D: float
    DD: float
    seconds: float


def draw(q: Tensor, count: int, generator: torch.Generator | None) -> Tensor:
    """The sampler: ``count`` i.i.d. class indices from ``q`` (read by :func:`accumulate` at
    call time)."""
    return torch.multinomial(q, count, replacement=True, generator=generator)


def bias2_estimate(mean: Tensor, g: Tensor, variance: Tensor, count: int) -> Tensor:
    """The unbiased bias² estimate ``‖ḡ − g‖² − V̂/R`` from the mean of ``count`` draws and
    their unbiased variance V̂ (the U-statistic of the module docstring; read by
    :func:`summarize` at call time)."""
    return ((mean - g) ** 2).sum(-1) - variance / count


def accumulate(method: str, theta: Tensor, y: int, q: Tensor, m: int, *, draws: int, c: float | None = None,
               variant: str = "canonical", groups: int = 20, generator: torch.Generator | None = None,
               chunk: int | None = None) -> Sums:
    """Draw the estimator ``draws`` times (rounded up to a multiple of ``groups``) and keep
    the sums of :class:`Sums`; the draws come from :func:`draw` (i.i.d. from the proposal)."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ValueError(f"draws must be an integer ≥ 2, got {draws!r}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 2:
        raise ValueError(f"groups must be an integer ≥ 2, got {groups!r}")
    draw_q, kernel = _prepare(method, theta, y, q, m, c, variant)
    dev, n = theta.device, theta.shape[0]
    per_group = -(-draws // groups)
    R = per_group * groups
    chunk = chunk or max(1, min(per_group, MAX_CHUNK_SLOTS // (m + 1)))
    g = torch.softmax(theta.double(), 0)
    g[y] -= 1.0
    g2 = float(g @ g)
    S1 = torch.zeros(groups, n, dtype=torch.float64, device=dev)
    S2 = torch.zeros(n, dtype=torch.float64, device=dev)
    Q = torch.zeros(groups, dtype=torch.float64, device=dev)      # Σ ‖g̃_r‖² per group
    sums = torch.zeros(3, dtype=torch.float64, device=dev)         # Σ Q_r², Σ D_r, Σ D_r²
    ycol = torch.full((1, 1), y, dtype=torch.long, device=dev)
    t0 = time.perf_counter()
    for j in range(groups):
        done = 0
        while done < per_group:
            r = min(chunk, per_group - done)
            s = draw(draw_q, r * m, generator).view(r, m)
            vals = kernel(s).double()
            index = torch.cat([ycol.expand(r, 1), s], -1)
            idx, merged, qr = _merged_squares(index, vals)
            dr = qr - 2.0 * (vals * g[index]).sum(-1) + g2
            S1[j].index_add_(0, index.reshape(-1), vals.reshape(-1))
            S2.index_add_(0, idx.reshape(-1), (merged * merged).reshape(-1))
            Q[j] += qr.sum()
            sums += torch.stack([(qr * qr).sum(), dr.sum(), (dr * dr).sum()])
            done += r
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - t0
    qq, d, dd = (float(x) for x in sums)
    return Sums(method, m, R, groups, g.cpu(), S1.cpu(), S2.cpu(), Q.cpu(), qq, d, dd, seconds)


def summarize(s: Sums, level: float = 0.95) -> MCResult:
    """Estimates and intervals at ``level`` from the sums (module docstring); bias² by
    :func:`bias2_estimate`."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    R, groups, per_group, g = s.draws, s.groups, s.draws // s.groups, s.g

    def moments(s1: Tensor, qsum: Tensor, count: int) -> tuple[Tensor, Tensor]:
        mean = s1 / count
        var = (qsum - count * (mean * mean).sum(-1)) / (count - 1)
        bias2 = bias2_estimate(mean, g, var, count)
        return bias2, var

    S1t, Qt = s.S1.sum(0), s.Q.sum()
    bias2, var = (float(x) for x in moments(S1t, Qt, R))
    loo_b, loo_v = moments(S1t[None] - s.S1, Qt - s.Q, R - per_group)      # leave one group out
    jk = (groups - 1) / groups
    se_b = math.sqrt(jk * float(((loo_b - loo_b.mean()) ** 2).sum()))
    se_v = math.sqrt(jk * float(((loo_v - loo_v.mean()) ** 2).sum()))
    t_groups = t_quantile(0.5 + level / 2, groups - 1)
    t_draws = t_quantile(0.5 + level / 2, R - 1)
    m2 = float(Qt) / R
    se_m2 = math.sqrt(max(s.QQ / R - m2 * m2, 0.0) / R)
    mse = s.D / R
    se_mse = math.sqrt(max(s.DD / R - mse * mse, 0.0) / R)
    mean = S1t / R
    mean_se = ((s.S2 / R - mean * mean).clamp_min(0.0) / R).sqrt()
    return MCResult(
        method=s.method, m=s.m, draws=R, level=level,
        bias2=Interval(bias2, se_b, bias2 - t_groups * se_b, bias2 + t_groups * se_b, groups - 1),
        variance=Interval(var, se_v, var - t_groups * se_v, var + t_groups * se_v, groups - 1),
        mse=Interval(mse, se_mse, mse - t_draws * se_mse, mse + t_draws * se_mse, R - 1),
        second_moment=Interval(m2, se_m2, m2 - t_draws * se_m2, m2 + t_draws * se_m2, R - 1),
        mean=mean, mean_se=mean_se, seconds=s.seconds, score_evaluations=R * (s.m + 1))


def estimate(method: str, theta: Tensor, y: int, q: Tensor, m: int, *, draws: int, c: float | None = None,
             variant: str = "canonical", groups: int = 20, level: float = 0.95,
             generator: torch.Generator | None = None, chunk: int | None = None) -> MCResult:
    """Monte Carlo moments of the SSM (canonical, proposal q conditioned on the negatives)
    or NCE (noise q, k = m samples, normalizer c) estimator at (θ, y); see the module
    docstring.  ``draws`` is rounded up to a multiple of ``groups``.  ``generator`` must
    live on θ's device (a CPU generator for CPU θ)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    return summarize(accumulate(method, theta, y, q, m, draws=draws, c=c, variant=variant, groups=groups,
                                generator=generator, chunk=chunk), level)


def large_problem(n: int, seed: int, *, device: str | torch.device = "cpu", dtype=torch.float64):
    """The large-n configuration of the APX Monte Carlo: Zipf item popularity
    ``pop_j ∝ (j + 1)^{−1.1}``, scores that follow popularity with noise,
    ``θ_j = 0.5 log(n pop_j) + 0.5 ε_j`` (ε standard normal, seeded), and the label
    y = the class at the popularity median (index n // 2).  Returns
    (θ, y, {"uniform": q, "popularity": q})."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"n must be an integer ≥ 3, got {n!r}")
    g = torch.Generator().manual_seed(seed)
    pop = (torch.arange(1, n + 1, dtype=torch.float64)) ** -1.1
    pop = pop / pop.sum()
    theta = 0.5 * torch.log(n * pop) + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
    props = {"uniform": approx.uniform_proposal(n, dtype=torch.float64), "popularity": pop}
    to = dict(device=device, dtype=dtype)
    return theta.to(**to), n // 2, {k: v.to(**to) for k, v in props.items()}


def device_generator(device: str | torch.device, seed: int) -> torch.Generator:
    """A seeded generator on ``device`` (torch.multinomial needs one on θ's device)."""
    g = torch.Generator(device=torch.device(device))
    g.manual_seed(seed)
    return g
