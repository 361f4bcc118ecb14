"""Planted defects of the APX checks (CLAIMS.md §4): wrong inputs of the same shape as the
real ones, handed to the checks through their keyword inputs (reports/claim.py,
``wrong_derivation`` / ``wrong_input``).  Each is a plausible mistake -- an estimator
without its correction, a biased or shifted sampler, NCE with a wrong normalizer, an HSM
estimator that ignores the tree, an RG expansion with a wrong coefficient, a bias measured
in the wrong place -- and the check must not hold on it because of the property it checks.

Random planted estimators draw from generators seeded here, so planted runs are
deterministic too.
"""
from __future__ import annotations

import sympy as sp
import torch

from losses import approx
from numerics import apx_exact as X
from proofs import apx as P
from proofs.apx_common import hsm_h2_grad

# ---------------------------------------------------------------------------------- APX-1
AT_TARGET = r"variance centred at the target $g$, not at the mean $\mathbb{E}\tilde g$"


def variance_at_target(outcomes, weights, g) -> sp.Expr:
    return sp.Add(*[w * sp.Add(*[(vi - gi) ** 2 for vi, gi in zip(v, g)]) for v, w in zip(outcomes, weights)])


# ---------------------------------------------------------------------------------- SSM
NO_LOGQ = (r"canonical SSM without its $\log Q$ correction ($o_k = \theta_{s_k}$, not "
           r"$\theta_{s_k} - \log(m \tilde q_{s_k})$)")
TEMPERED = r"proposal $\propto \exp(\theta/2)$ claimed ideal (a tempered proposal, not $\exp(\theta)$)"
POISSON_SIGMA1 = (r"one-draw covariance $\operatorname{diag}(x^2/\tilde q)$ without its $-x x^\top$ term (Poisson, "
                  "not multinomial, sampling)")


def ssm_grad_without_logq(theta, y, samples, q, variant: str = "canonical"):
    """Sampled softmax on the raw logits: o_0 = θ_y, o_k = θ_{s_k} (no logQ correction)."""
    pos, neg = theta.gather(-1, y[:, None]), theta.gather(-1, samples)
    loss, vals = approx.ssm_kernel(pos, neg)
    return loss, approx.densify(torch.cat([y[:, None], samples], -1), vals, theta.shape[1])


def ssm_exact_without_logq(theta, y, q, m, **kw):
    return X.ssm_exact(theta, y, q, m, grad=ssm_grad_without_logq, **kw)


def poisson_sigma1(x, t) -> sp.Matrix:
    r = len(x)
    return sp.Matrix(r, r, lambda i, k: x[i] ** 2 / t[i] if i == k else 0)


# ---------------------------------------------------------------------------------- samplers
SHIFTED = r"Monte Carlo draws shifted by one class ($s \mapsto (s + 1) \bmod n$)"
BIASED = r"Monte Carlo sampler drawing from $\exp(\theta)$-proportional weights instead of the stated proposal"


def shifted_sampler(q, count, generator):
    return (torch.multinomial(q, count, replacement=True, generator=generator) + 1) % q.shape[0]


def biased_sampler(theta):
    w = torch.softmax(theta, 0)

    def sampler(q, count, generator):
        ww = torch.where(q > 0, w, torch.zeros_like(w))
        return torch.multinomial(ww / ww.sum(), count, replacement=True, generator=generator)
    return sampler


# ---------------------------------------------------------------------------------- NCE
UNCENTRED = r"exact ground truth whose MSE is $\mathbb{E}\lVert \tilde g \rVert^2$ (about 0, not about $g$)"
C_OFF = r"NCE with the normalizer off by 0.1 ($c = \log Z + 0.1$)"
C_LOGZ = r"the fixed normalizer silently set to $\log Z$ ($c = \log Z$, not the stated $c = 0$)"
NOISE_WEIGHT = "population NCE objective with the noise term weighted by $q$ instead of $k q$"


def nce_exact_uncentred(theta, y, q, k, c, **kw):
    r = X.nce_exact(theta, y, q, k, c, **kw)
    return r | {"mse": float((r["mean"] ** 2).sum()) + r["variance"]}


# ---------------------------------------------------------------------------------- HSM
H1_FIT = (r"reading H1's exact fit ($u_v$ = log of the subtree mass ratio of $\operatorname{softmax}(\theta)$) in "
          "place of tied H2 scores")
COUNT_FIT = r"H1 node scores from the leaf-count ratio $\log(|\mathrm{left}|/|\mathrm{right}|)$, ignoring the target"
STARVED = "L-BFGS stopped after 2 iterations"
RANDOM_TREE = "HSM whose tree is redrawn at every call (balanced, then Huffman, alternately)"


def _masses(tree, p: torch.Tensor) -> list:
    n, ch = tree.n, tree.children

    def mass(v):
        return p[..., v] if v < n else mass(ch[v - n][0]) + mass(ch[v - n][1])
    return [(mass(a), mass(b)) for a, b in ch]


def hsm_grad_h1_fit(theta, y, tree):
    """g̃ = p_u − e_y with the H1 node scores that reproduce softmax(θ) exactly."""
    p = torch.softmax(theta, -1)
    u = torch.stack([torch.log(a / b) for a, b in _masses(tree, p)], -1)
    model = torch.exp(approx.hsm_log_probs(u, tree))
    return None, model.scatter_add(-1, y[:, None], -torch.ones_like(model[:, :1]))


def hsm_exact_h1_fit(theta, y, tree):
    return X.hsm_exact(theta, y, tree, grad=hsm_grad_h1_fit)


def h1_count_fit(tree, p):
    n, ch = tree.n, tree.children

    def size(v):
        return 1 if v < n else size(ch[v - n][0]) + size(ch[v - n][1])
    u = [sp.log(sp.Rational(size(a), size(b))) for a, b in ch]
    return u, P.h1_model(tree, u)


def h1_fit_sympy(tree, theta, y):
    """The symbolic H1 exact fit of softmax(θ) as an estimator (for the tree-dependence derivation)."""
    e = [sp.exp(t) for t in theta]
    p = [v / sp.Add(*e) for v in e]
    _, model = P.h1_fit(tree, p)
    return [m - (1 if j == y else 0) for j, m in enumerate(model)]


def random_tree_hsm():
    """A fresh estimator (call it once per planted run): the tree alternates between the given
    one and the Huffman tree of softmax(θ) from call to call."""
    calls = [0]

    def grad(theta, y, tree):
        calls[0] += 1
        pick = tree if calls[0] % 2 else approx.huffman_tree(torch.softmax(theta[0], 0))
        return approx.hsm_grad(theta, y, pick)
    return grad


def random_tree_law(theta, y, gt):
    """The law of H2's g̃ when the tree is balanced or Huffman (canonical θ) with probability 1/2."""
    import numpy as np

    tree = approx.huffman_tree(torch.softmax(torch.tensor(np.array(P.CANONICAL_THETA0, dtype=float)), 0))
    other = hsm_h2_grad(tree, theta, y, simplify=False)[0]
    return [(sp.Rational(1, 2), gt), (sp.Rational(1, 2), other)]


# ---------------------------------------------------------------------------------- RG
SAMPLED_MEAN = (r"RG whose mean-score term is estimated from one uniformly sampled class (gradient $e_s$, not "
                r"$\mathbf{1}/n$)")
NO_LINEAR = r"RG expansion with a wrong first-order coefficient (the mean-score term dropped: $\mathrm{lin} = 0$)"
HALF_INTERACTION = r"RG expansion with the interaction coefficient halved ($-\tfrac14 \bar\theta^2$)"
LABEL_TARGET = r"weighted squared form with target $r = n e_y$ (the $-\mathbf{1}$ dropped)"


def rg_grad_coeffs(lin, quad, inter):
    """The RG family's score gradient −e_y + lin/n + quad θ/n − inter θ̄/n (proofs/apx_rg.py)."""
    def grad(theta, y, kind):
        n = theta.shape[1]
        g = lin / n + quad * theta / n - inter * theta.mean(-1, keepdim=True) / n
        return None, g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))
    return grad


def rg_sampled_mean(seed: int = 0):
    """A fresh estimator (call it once per planted run, so its draws are reproducible)."""
    gen = torch.Generator().manual_seed(seed)

    def grad(theta, y, kind):
        n = theta.shape[1]
        s = torch.randint(0, n, (theta.shape[0], 1), generator=gen)
        g = approx.rg_grad(theta, y, kind)[1] - 1.0 / n
        return None, g.scatter_add(-1, s, torch.ones_like(g[:, :1]))
    return grad


def rg_sampled_mean_law(theta, y, gt):
    n = len(theta)
    return [(sp.Rational(1, n), [e + (1 if j == s else 0) - sp.Rational(1, n) for j, e in enumerate(gt)])
            for s in range(n)]


def rg_coeffs(kind: str, **change) -> tuple:
    lin, quad, inter = P.RG_COEFFS[kind]
    return (change.get("lin", lin), change.get("quad", quad), change.get("inter", inter))


# ---------------------------------------------------------------------------------- SGD
SUM_OF_LIMITS = (r"neighbourhood radius taken as $b/\mu + \sqrt{\eta \sigma^2/(\mu (2 - \eta \mu))}$ (the sum of "
                 "its two limits)")
BIAS_AT_START = r"$b$ and $\sigma^2$ measured once, at $W_0$, instead of along the run"


def sum_of_limits(b, sigma2, eta, mu):
    return b / mu + (eta * sigma2 / (mu * (2 - eta * mu))) ** 0.5

