"""The approximate-Softmax estimators of CLAIMS.md §4 re-implemented for the outside
re-checker: plain numpy, from the formulas, no import of the suite."""
from __future__ import annotations

import ast
import itertools
import math

import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def softmax_grad(theta: np.ndarray, y: int) -> np.ndarray:
    e = np.exp(theta - theta.max())
    g = e / e.sum()
    g[y] -= 1.0
    return g


def ssm_moments(theta, y: int, q, m: int) -> tuple[float, float]:
    """Exact (bias², variance) of canonical SSM: m negatives i.i.d. from q conditioned on
    j ≠ y, logits o_0 = θ_y, o_k = θ_{s_k} − log(m q̃_{s_k}); every multiset of negatives
    (stars and bars) with its multinomial probability."""
    theta, q = np.asarray(theta, np.float64), np.asarray(q, np.float64)
    n = theta.size
    neg = [j for j in range(n) if j != y and q[j] > 0]
    qt = q[neg] / q[neg].sum()
    r = len(neg)
    bars = np.array(list(itertools.combinations(range(m + r - 1), r - 1)), dtype=np.int64).reshape(-1, r - 1)
    cuts = np.hstack([np.full((bars.shape[0], 1), -1), bars, np.full((bars.shape[0], 1), m + r - 1)])
    counts = np.diff(cuts, axis=1) - 1                                     # (M, r), rows sum to m
    lgam = np.vectorize(math.lgamma)
    logw = math.lgamma(m + 1) - lgam(counts + 1).sum(1) + (counts * np.log(qt)).sum(1)
    w = np.exp(logw)
    shift = theta.max()
    a = math.exp(theta[y] - shift)
    Y = counts * (np.exp(theta[neg] - shift) / (m * qt))                   # Σ_k over draws of e^{o_k}, per class
    den = a + Y.sum(1)
    G = np.zeros((counts.shape[0], n))
    G[:, y] = a / den - 1.0
    G[:, neg] = Y / den[:, None]
    g = softmax_grad(theta, y)
    mean = w @ G
    return float(((mean - g) ** 2).sum()), float(w @ ((G - mean) ** 2).sum(1))


def nce_moments(theta, y: int, q, k: int, c: float) -> tuple[float, float]:
    """Exact (bias², variance) of NCE by linearity (k i.i.d. noise draws from q)."""
    theta, q = np.asarray(theta, np.float64), np.asarray(q, np.float64)
    delta = theta - c - np.log(k * q)
    s = sigmoid(delta)
    mean = k * q * s
    mean[y] -= sigmoid(-delta[y])
    g = softmax_grad(theta, y)
    return float(((mean - g) ** 2).sum()), float(k * ((q * s * s).sum() - ((q * s) ** 2).sum()))


def rg_grad(theta, y: int, kind: str) -> np.ndarray:
    """RG² (1 + θ)/n − e_y and RG× (1 + θ − θ̄)/n − e_y: the gradients of
    −θ_y + log n + θ̄ + (1/2n) Σ θ_j² (− ½ θ̄² for RG×)."""
    theta = np.asarray(theta, np.float64)
    n = theta.size
    g = (1.0 + theta) / n
    if kind == "rgx":
        g = g - theta.mean() / n
    elif kind != "rg2":
        raise ValueError(f"kind must be rg2 or rgx, got {kind!r}")
    g[y] -= 1.0
    return g


def rg_grad_coeffs(theta, y: int, lin: float, quad: float, inter: float) -> np.ndarray:
    """The RG family's score gradient −e_y + lin/n + quad θ/n − inter θ̄/n (RG² = (1, 1, 0),
    RG× = (1, 1, 1)): the gradient of −θ_y + log n + lin θ̄ + quad (1/2n) Σ θ_j² − inter ½ θ̄²."""
    theta = np.asarray(theta, np.float64)
    n = theta.size
    g = (lin + quad * theta - inter * theta.mean()) / n
    g[y] -= 1.0
    return g


def rg_loss_coeffs(theta, y: int, lin: float, quad: float, inter: float) -> float:
    """−θ_y + log n + lin θ̄ + quad (1/2n) Σ θ_j² − inter ½ θ̄² (the RG family's loss)."""
    theta = np.asarray(theta, np.float64)
    n, mean = theta.size, float(theta.mean())
    return float(-theta[y] + math.log(n) + lin * mean + quad * (theta ** 2).sum() / (2 * n) - inter * mean ** 2 / 2)


def rg2_loss(theta, y: int) -> float:
    theta = np.asarray(theta, np.float64)
    n = theta.size
    return float(-theta[y] + math.log(n) + theta.mean() + (theta ** 2).sum() / (2 * n))


def parse_tree(text: str):
    """'((0,1),2)' → nested tuples."""
    return ast.literal_eval(text)


def leaves(t) -> list[int]:
    return [t] if isinstance(t, int) else leaves(t[0]) + leaves(t[1])


def clusters(t) -> frozenset:
    if isinstance(t, int):
        return frozenset()
    return frozenset([frozenset(leaves(t))]) | clusters(t[0]) | clusters(t[1])


def hsm_h2_grad(theta, y: int, tree) -> np.ndarray:
    """Reading H2: node score u_v = mean of θ over the leaves under v; −log p(y) =
    Σ_{v on path(y)} −log σ(±u_v) (+ when y is in the left subtree); g̃ = Aᵀ ∂/∂u."""
    theta = np.asarray(theta, np.float64)
    g = np.zeros(theta.size)
    t = tree
    while not isinstance(t, int):
        left, right = t
        under = leaves(t)
        u = theta[under].mean()
        s = 1.0 if y in leaves(left) else -1.0
        g[under] += -s * float(sigmoid(-s * u)) / len(under)
        t = left if s > 0 else right
    return g


def hsm_ratio_fit(tree, p: np.ndarray) -> np.ndarray:
    """Leaf probabilities of the HSM with node scores u_v = log(mass(left)/mass(right))."""
    out = np.zeros_like(p)

    def mass(t):
        return p[t] if isinstance(t, int) else mass(t[0]) + mass(t[1])

    def walk(t, prob):
        if isinstance(t, int):
            out[t] = prob
            return
        u = math.log(mass(t[0]) / mass(t[1]))
        walk(t[0], prob * float(sigmoid(u)))
        walk(t[1], prob * float(sigmoid(-u)))

    walk(tree, 1.0)
    return out


def _det_grad(name: str, theta: np.ndarray, y: np.ndarray, tree) -> np.ndarray | None:
    """Per-example g̃ (N, n) of a deterministic estimator of APX-6, or None."""
    if name == "exact":
        return np.stack([softmax_grad(t, int(yy)) for t, yy in zip(theta, y)])
    if name in ("rg2", "rgx"):
        return np.stack([rg_grad(t, int(yy), name) for t, yy in zip(theta, y)])
    if name.startswith("hsm"):
        return np.stack([hsm_h2_grad(t, int(yy), tree) for t, yy in zip(theta, y)])
    return None


def sgd_grad_norm(X: np.ndarray, y: np.ndarray, W: np.ndarray, lam: float) -> float:
    """‖∇F(W)‖_F of F(W) = (1/N) Σ_i CE(Wᵀ x_i, y_i) + (λ/2)‖W‖²_F."""
    g = np.stack([softmax_grad(t, int(yy)) for t, yy in zip(X @ W, y)])
    return float(np.linalg.norm(X.T @ g / X.shape[0] + lam * W))


def sgd_run(cx: dict, eta: float, lam: float):
    """Full-batch W ← W − η (Xᵀ G̃/N + λ W) from W = 0 for T steps with a deterministic
    estimator's G̃, from the stored data (X, y, W*, T) and the row's step η and ridge λ:
    (‖W_T − W*‖², the bias b = max ‖Xᵀ(g̃ − g)/N‖_F over the run and W*).  None for a
    stochastic estimator."""
    name = cx["estimator"]
    X, y = np.array(cx["X"], np.float64), np.array(cx["y"], np.int64)
    W_star = np.array(cx["W_star"], np.float64)
    tree = parse_tree(cx["tree"]) if "tree" in cx else None
    eta, lam, N = float(eta), float(lam), X.shape[0]
    W = np.zeros_like(W_star)
    b = 0.0
    for t in range(int(cx["T"]) + 2):
        Wt = W if t <= int(cx["T"]) else W_star
        theta = X @ Wt
        gt = _det_grad(name, theta, y, tree)
        if gt is None:
            return None
        g = np.stack([softmax_grad(th, int(yy)) for th, yy in zip(theta, y)])
        b = max(b, float(np.linalg.norm(X.T @ (gt - g) / N)))
        if t < int(cx["T"]):
            W = W - eta * (X.T @ gt / N + lam * W)
        elif t == int(cx["T"]):
            s2 = float(((W - W_star) ** 2).sum())
    return s2, b


def radius_after(t: int, s0: float, b: float, sigma2: float, eta: float, mu: float) -> float:
    """s_{t+1} = sqrt((ρ s_t + η b)² + η² σ²), ρ = 1 − ημ, from s_0 (the SGD bound)."""
    rho, s = 1.0 - eta * mu, float(s0)
    for _ in range(int(t)):
        s = math.sqrt((rho * s + eta * b) ** 2 + eta * eta * sigma2)
    return s
