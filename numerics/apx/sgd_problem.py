"""APX-6 setup: the softmax-regression problem, its objective, smoothness and optimum
(numerics/apx/sgd.py has the check; its module docstring the setup in words)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from audit import RunContext
from losses import approx

DT = torch.float64
CHECKPOINTS = 10  # Monte Carlo moments at every T/CHECKPOINTS steps (incl. 0 and T) and at W*
NEWTON_TOL = 1e-10


@dataclass(frozen=True)
class Config:
    """Sizes of one run.  ``N`` examples, ``d`` features, ``n`` classes, ridge ``lam``,
    teacher score scale ``teacher``, ``T`` SGD steps, ``R`` replicates per stochastic
    estimator, ``S`` Monte Carlo draws per example and checkpoint."""

    N: int
    d: int
    n: int
    T: int
    R: int
    S: int
    lam: float = 0.05
    teacher: float = 2.0

    def __post_init__(self) -> None:
        for name, lo in (("N", 2), ("d", 1), ("n", 3), ("T", CHECKPOINTS), ("R", 2), ("S", 2)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name} must be an integer ≥ {lo}, got {v!r}")
        for name in ("lam", "teacher"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")


def config_for(ctx: RunContext) -> Config:
    """The profile's sizes: quick N=256, d=8, n=10; full N=512, d=12, n=20."""
    if ctx.profile == "quick":
        return Config(N=256, d=8, n=10, T=250, R=8, S=256)
    if ctx.profile == "full":
        return Config(N=512, d=12, n=20, T=400, R=16, S=512)
    raise ValueError(f"profile must be 'quick' or 'full', got {ctx.profile!r}")


# --------------------------------------------------------------------------------------
# problem, objective, W*
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    X: torch.Tensor      # (N, d)
    y: torch.Tensor      # (N,)
    n: int
    lam: float
    mu: float
    L: float
    eta: float


def make_problem(cfg: Config, gen: torch.Generator) -> Problem:
    X = torch.randn(cfg.N, cfg.d, generator=gen, dtype=DT)
    Wt = torch.randn(cfg.d, cfg.n, generator=gen, dtype=DT) * (cfg.teacher / math.sqrt(cfg.d))
    y = torch.multinomial(torch.softmax(X @ Wt, -1), 1, generator=gen)[:, 0]
    lmax = float(torch.linalg.eigvalsh(X.T @ X / cfg.N)[-1])
    L = cfg.lam + 0.5 * lmax
    return Problem(X, y, cfg.n, float(cfg.lam), float(cfg.lam), L, 1.0 / L)


def objective(pb: Problem, W: torch.Tensor) -> torch.Tensor:
    """F(W) for W (d, n) → scalar tensor, or a stack (R, d, n) → (R,)."""
    theta = pb.X @ W                                                        # (..., N, n)
    ce = torch.logsumexp(theta, -1) - theta.gather(-1, pb.y.expand(theta.shape[:-1])[..., None])[..., 0]
    return ce.mean(-1) + 0.5 * pb.lam * (W * W).sum((-2, -1))


def full_gradient(pb: Problem, W: torch.Tensor) -> torch.Tensor:
    theta = pb.X @ W
    return pb.X.T @ approx.softmax_grad(theta, pb.y) / pb.X.shape[0] + pb.lam * W


def _hessian(pb: Problem, W: torch.Tensor) -> torch.Tensor:
    """∇²F(W) as a (d n) × (d n) matrix (row-major in W):
    (1/N) Σ_i (x_i x_iᵀ) ⊗ (diag p_i − p_i p_iᵀ) + λ I."""
    X, N, d, n = pb.X, pb.X.shape[0], pb.X.shape[1], pb.n
    P = torch.softmax(X @ W, -1)                                             # (N, n)
    Z = (X[:, :, None] * P[:, None, :]).reshape(N, d * n)                   # x_i ⊗ p_i
    H = (-(Z.T @ Z) / N).view(d, n, d, n)
    idx = torch.arange(n)
    H[:, idx, :, idx] += (torch.einsum("ia,ib,ij->ajb", X, X, P) / N).permute(1, 0, 2)
    return H.reshape(d * n, d * n) + pb.lam * torch.eye(d * n, dtype=DT)


def solve_optimum(pb: Problem, max_iter: int = 60) -> tuple[torch.Tensor, dict]:
    """Damped Newton (exact Hessian, Armijo backtracking) from W = 0 to ‖∇F‖_F < NEWTON_TOL,
    then up to three full Newton steps while they reduce ‖∇F‖ (to the rounding floor)."""
    d, n = pb.X.shape[1], pb.n
    W = torch.zeros(d, n, dtype=DT)
    f = float(objective(pb, W))
    gnorm = float("inf")
    it = 0
    for it in range(1, max_iter + 1):
        G = full_gradient(pb, W)
        gnorm = float(G.norm())
        if gnorm < NEWTON_TOL:
            break
        step = torch.linalg.solve(_hessian(pb, W), G.reshape(-1)).view(d, n)
        dec = float((G * step).sum())
        a = 1.0
        while True:
            Wn = W - a * step
            fn = float(objective(pb, Wn))
            if fn <= f - 0.25 * a * dec or a < 1e-8:
                break
            a *= 0.5
        W, f = Wn, fn
    gnorm = float(full_gradient(pb, W).norm())
    for _ in range(3):                                                      # polish: full steps while they help
        if gnorm >= NEWTON_TOL:
            break
        Wn = W - torch.linalg.solve(_hessian(pb, W), full_gradient(pb, W).reshape(-1)).view(d, n)
        gn = float(full_gradient(pb, Wn).norm())
        if not gn < gnorm:
            break
        W, gnorm = Wn, gn
    return W, {"grad_norm": gnorm, "iterations": it, "converged": gnorm < NEWTON_TOL, "F_star": float(objective(pb, W))}
