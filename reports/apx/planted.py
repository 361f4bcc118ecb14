"""Planted defects and truths of the APX checks (CLAIMS.md §4): wrong (or known-good) inputs
of the same shape as the real ones, entering through the attribute the real code reads at
call time (``replacing``: the estimator in losses.approx, the sampler and bias² estimator
of numerics/apx/montecarlo.py, the noise, normalizer and canonical θ of numerics/apx/exact.py,
the variance functional, law, proposal weight and normalizer of proofs/).  Each defect is a
plausible mistake -- an estimator
without its correction, a biased or shifted sampler, NCE with a wrong normalizer, an HSM
estimator that ignores the tree, an RG expansion with a wrong coefficient, a bias measured
in the wrong place -- and the check must not hold on it because of the property it checks.

Random planted estimators draw from generators seeded here, so planted runs are
deterministic too.
"""
from __future__ import annotations

import math

import sympy as sp
import torch

from losses import approx
from losses import hsm as _hsm
from numerics.apx import exact as X
from numerics.apx import montecarlo as MC
from numerics.apx import rg as NR
from numerics.apx import sgd as NS
from proofs.apx import api as P
from proofs.apx import rg as PR
from proofs.apx.common import hsm_h2_grad

# the real functions that planted patches wrap (bound here, before any patch replaces them)
_MOMENTS = NS._moments            # where numerics/apx/sgd.py reads b and σ², wrapped by moments_at_start
_SQUARED_TARGET = NR.squared_target

# ---------------------------------------------------------------------------------- APX-1
AT_TARGET = r"variance centred at the target $g$, not at the mean $\mathbb{E}\tilde g$"
ULP = ("an estimator whose first coordinate moves by one unit in the last place on every second call (a reduction "
       "whose summation order changes between calls)")
NCE_MODEL_NOISE = (r"noise $q = p = \operatorname{softmax}(\theta)$ with $c = \log Z$: then "
                   r"$\mathbb{E}\tilde g = \frac{k}{k + 1} g$, bias$^2 = \lVert g \rVert^2/(k + 1)^2$ and variance "
                   r"$= k (1 - \lVert p \rVert^2)/(k + 1)^2$, both non-increasing for $k \ge 1$")
NCE_SELF_NORMALIZED = (r"scores given as log-probabilities ($\theta - \log Z$, so $Z = 1$ and the fixed $c = 0$ is "
                       r"$\log Z$) and noise $q = p$: then $\mathbb{E}\tilde g = \frac{k}{k + 1} g$, "
                       r"bias$^2 = \lVert g \rVert^2/(k + 1)^2$ and variance $= k (1 - \lVert p \rVert^2)/(k + 1)^2$, "
                       r"both non-increasing for $k \ge 1$")


def variance_at_target(outcomes, weights, g=None) -> sp.Expr:
    return sp.Add(*[w * sp.Add(*[(vi - gi) ** 2 for vi, gi in zip(v, g)]) for v, w in zip(outcomes, weights)])


def ulp_jitter(grad):
    """A fresh estimator (build one per planted run): ``grad`` (the original, captured here)
    with its first coordinate moved up by one ulp on every second call."""
    calls = [0]

    def jittered(theta, y, *args, **kw):
        loss, g = grad(theta, y, *args, **kw)
        calls[0] += 1
        if calls[0] % 2 == 0:
            g = g.clone()
            g[..., 0] = torch.nextafter(g[..., 0], torch.full_like(g[..., 0], math.inf))
        return loss, g
    return jittered


def model_noise(theta):
    """NCE noise q = softmax(θ) (a planted truth: the model's own distribution)."""
    return torch.softmax(theta, 0)


def self_normalized_theta() -> tuple:
    """The canonical scores as log-probabilities, θ − log Z (Z = 1)."""
    t = torch.tensor(X.CANONICAL_THETA, dtype=torch.float64)
    return tuple((t - torch.logsumexp(t, 0)).tolist())


# ---------------------------------------------------------------------------------- SSM
NO_LOGQ = (r"canonical SSM without its $\log Q$ correction ($o_k = \theta_{s_k}$, not "
           r"$\theta_{s_k} - \log(m \tilde q_{s_k})$)")
OFF_BY_ONE = (r"canonical SSM corrected by $\log((m + 1) \tilde q_{s_k})$ instead of $\log(m \tilde q_{s_k})$ (off by "
              "one sample in its correction)")
TEMPERED = r"proposal $\propto \exp(\theta/2)$ claimed ideal (a tempered proposal, not $\exp(\theta)$)"
TEMPERED_NEAR = r"ideal proposal tempered at 1.01: $\tilde q \propto \exp(\theta/1.01)$ on the negatives"
POISSON_SIGMA1 = (r"one-draw covariance $\operatorname{diag}(x^2/\tilde q)$ without its $-x x^\top$ term (Poisson, "
                  "not multinomial, sampling)")


def ssm_grad_without_logq(theta, y, samples, q, variant: str = "canonical"):
    """Sampled softmax on the raw logits: o_0 = θ_y, o_k = θ_{s_k} (no logQ correction)."""
    pos, neg = theta.gather(-1, y[:, None]), theta.gather(-1, samples)
    loss, vals = approx.ssm_kernel(pos, neg)
    return loss, approx.densify(torch.cat([y[:, None], samples], -1), vals, theta.shape[1])


def ssm_grad_off_by_one(theta, y, samples, q, variant: str = "canonical"):
    """Canonical SSM with o_k = θ_{s_k} − log((m + 1) q̃_{s_k}) (its correction off by one sample)."""
    m = samples.shape[1]
    qt = approx.negative_proposal(q, theta, y).gather(-1, samples)
    pos, neg = theta.gather(-1, y[:, None]), theta.gather(-1, samples)
    loss, vals = approx.ssm_kernel(pos, neg - torch.log((m + 1) * qt))
    return loss, approx.densify(torch.cat([y[:, None], samples], -1), vals, theta.shape[1])


def tempered_ideal(tau: float):
    """The library's ideal proposal at temperature τ: q̃ ∝ exp(θ/τ) on the negatives."""
    ideal = approx.ideal_proposal

    def proposal(theta, y=None):
        return ideal(theta / tau, y)
    return proposal


def tempered_weight(x):
    """The ideal proposal's weight at temperature 2: w(x) = x^{1/2} (q̃ ∝ exp(θ/2))."""
    return x ** sp.Rational(1, 2)


def poisson_sigma1(x, t) -> sp.Matrix:
    r = len(x)
    return sp.Matrix(r, r, lambda i, k: x[i] ** 2 / t[i] if i == k else 0)


# ---------------------------------------------------------------------------------- samplers
SHIFTED = r"Monte Carlo draws shifted by one class ($s \mapsto (s + 1) \bmod n$)"
BIASED = r"Monte Carlo sampler drawing from $\exp(\theta)$-proportional weights instead of the stated proposal"
MIXED_FRACTION = {"ssm": 0.1, "nce": 0.05}   # near misses: about twice the smallest fraction each check resolves


def mixed(method: str) -> str:
    f = round(100 * MIXED_FRACTION[method])
    return (rf"Monte Carlo sampler drawing {f} % of its draws from $\exp(\theta)$-proportional weights ({100 - f} % "
            "from the stated proposal)")

PLUG_IN = r"bias$^2$ estimated by the plug-in $\lVert \bar g - g \rVert^2$ (without its $V/R$ correction)"
HALF_CORRECTION = r"bias$^2$ estimated with half its correction, $\lVert \bar g - g \rVert^2 - V/(2R)$"
POPULARITY_TRUTH = (r"the popularity proposal (Zipf, $q_j \propto (j + 1)^{-1.1}$) in place of the uniform one: "
                    "with it the $O(1/m)$ rates are reached on this grid (the popularity reading holds)")


def shifted_sampler(q, count, generator):
    return (torch.multinomial(q, count, replacement=True, generator=generator) + 1) % q.shape[0]


def biased_sampler(theta, fraction: float = 1.0):
    """Draws from softmax(θ) restricted to q's support with probability ``fraction``, else from q."""
    w = torch.softmax(theta, 0)

    def sampler(q, count, generator):
        ww = torch.where(q > 0, w, torch.zeros_like(w))
        mix = fraction * ww / ww.sum() + (1 - fraction) * q
        return torch.multinomial(mix, count, replacement=True, generator=generator)
    return sampler


def plug_in_bias2(mean, g, variance, count):
    return ((mean - g) ** 2).sum(-1)


def half_corrected_bias2(mean, g, variance, count):
    return ((mean - g) ** 2).sum(-1) - variance / (2 * count)


def popularity_as_uniform():
    """``MC.large_problem`` (the original, captured here) with the popularity proposal under
    the name "uniform"."""
    large_problem = MC.large_problem

    def problem(n, seed, **kw):
        theta, y, props = large_problem(n, seed, **kw)
        return theta, y, props | {"uniform": props["popularity"]}
    return problem


# ---------------------------------------------------------------------------------- NCE
C_OFF = r"NCE with the normalizer off by 0.1 ($c = \log Z + 0.1$)"
C_OFF_NEAR = r"NCE with the normalizer off by 0.01 ($c = \log Z + 0.01$)"
C_LOGZ = r"the fixed normalizer silently set to $\log Z$ ($c = \log Z$, not the stated $c = 0$)"
C_NEAR_LOGZ = (r"the fixed normalizer set to $\log Z - 10^{-6}$ (within $10^{-6}$ of the one that makes the bias "
               "vanish)")
NOISE_WEIGHT = "population NCE objective with the noise term weighted by $q$ instead of $k q$"
NOISE_WEIGHT_NEAR = r"population NCE objective with the noise term weighted by $1.01\,k q$ instead of $k q$ (1 % off)"


def normalizer_numeric(offset: float, reading: str | None = None):
    """numerics.apx.exact.canonical_c (the original, captured here) with log Z + ``offset``
    in place of the normalizer (of ``reading`` only, when given; else of every reading)."""
    canonical_c = X.canonical_c

    def c(r, theta):
        if reading is not None and r != reading:
            return canonical_c(r, theta)
        return float(torch.logsumexp(theta, 0)) + offset
    return c


def normalizer_symbolic(offset):
    """proofs.apx.nce.normalizer replaced by log Z + ``offset`` for every reading."""
    return lambda reading, Z: sp.log(Z) + offset


def noise_weight_without_k(k, q):
    return q


def noise_weight_times(factor):
    return lambda k, q: factor * k * q


# ---------------------------------------------------------------------------------- HSM
# (APX-4: each enters by patching the estimator ``losses.approx.hsm_grad``, the sympy
# estimator / fit ``proofs.apx.hsm.hsm_h2_grad`` / ``h1_fit``, the H1 model
# ``losses.approx.hsm_log_probs`` or the L-BFGS budget ``numerics.apx.hsm.H1_MAX_ITER``)
H1_FIT = (r"HSM estimator that reproduces $\operatorname{softmax}(\theta)$ through each tree (reading H1's exact "
          r"fit, $u_v$ = log of the subtree mass ratio) in place of tied H2 scores: the trees differ in $\tilde g$ by "
          "float64 rounding only")
TREE_IGNORED = "HSM estimator that ignores its tree argument (every call uses the balanced tree)"
COUNT_FIT = r"H1 node scores from the leaf-count ratio $\log(|\mathrm{left}|/|\mathrm{right}|)$, ignoring the target"
STARVED = "L-BFGS iteration budget of the H1 fits set to 2"
RANDOM_TREE = "HSM whose tree is redrawn at every call (balanced, then Huffman, alternately)"
FROZEN_ROOT_FIT = (r"H1 with the root's node score frozen at 0 (its split not learned: each subtree of the root gets "
                   r"mass 1/2), every other score free: the best fit learns each other node's log mass ratio, so it "
                   r"reproduces $p$ only on a tree whose root splits $p$ in halves, at $p = (1/2, 3/10, 1/5)$ the tree "
                   "(0,(1,2)) and not ((0,1),2): the best fits, hence the bias, depend on the tree")
FROZEN_ROOT_MODEL = (r"H1 model with the root's node score frozen at 0 (each subtree of the root gets mass 1/2), every "
                     r"other score free: on a target $p$ the best fit is exact only on a tree whose root splits $p$ in "
                     "halves, so the balanced and the Huffman tree's best fits, hence their bias, differ")


def _root(tree) -> int:
    """The index in u of the root: the internal node that is no node's child."""
    kids = {c for pair in tree.children for c in pair}
    return next(v for v in range(tree.n, 2 * tree.n - 1) if v not in kids) - tree.n


def _masses(tree, p: torch.Tensor) -> list:
    n, ch = tree.n, tree.children

    def mass(v):
        return p[..., v] if v < n else mass(ch[v - n][0]) + mass(ch[v - n][1])
    return [(mass(a), mass(b)) for a, b in ch]


def hsm_grad_h1_fit(theta, y, tree):
    """(None, g̃ = p_u − e_y) with the H1 node scores that reproduce softmax(θ) exactly (the
    signature of :func:`losses.approx.hsm_grad`)."""
    p = torch.softmax(theta, -1)
    u = torch.stack([torch.log(a / b) for a, b in _masses(tree, p)], -1)
    model = torch.exp(approx.hsm_log_probs(u, tree))
    return None, model.scatter_add(-1, y[:, None], -torch.ones_like(model[:, :1]))


def hsm_grad_tree_ignored(theta, y, tree):
    """:func:`losses.hsm.hsm_grad` on the balanced tree whatever tree it is handed."""
    return _hsm.hsm_grad(theta, y, approx.balanced_tree(tree.n))


def h1_count_fit(tree, p):
    n, ch = tree.n, tree.children

    def size(v):
        return 1 if v < n else size(ch[v - n][0]) + size(ch[v - n][1])
    u = [sp.log(sp.Rational(size(a), size(b))) for a, b in ch]
    return u, P.h1_model(tree, u)


def h1_frozen_root_fit(tree, p):
    """The best H1 fit with the root's score fixed at 0: the cross-entropy separates over the
    nodes, so every other node keeps its log mass ratio."""
    ch, n, root = tree.children, tree.n, _root(tree)

    def mass(v):
        return p[v] if v < n else mass(ch[v - n][0]) + mass(ch[v - n][1])
    u = [sp.Integer(0) if v == root else sp.log(mass(a) / mass(b)) for v, (a, b) in enumerate(ch)]
    return u, P.h1_model(tree, u)


def frozen_root_log_probs(u, tree):
    """:func:`losses.hsm.hsm_log_probs` with the root's node score held at 0."""
    keep = torch.ones(u.shape[-1], dtype=u.dtype)
    keep[_root(tree)] = 0.0
    return _hsm.hsm_log_probs(u * keep, tree)


def h1_fit_sympy(tree, theta, y, simplify: bool = True):
    """The symbolic H1 exact fit of softmax(θ) as an estimator, in the signature of
    :func:`proofs.apx.common.hsm_h2_grad` (g̃, loss, u): loss and u are not read."""
    e = [sp.exp(t) for t in theta]
    p = [v / sp.Add(*e) for v in e]
    _, model = P.h1_fit(tree, p)
    return [m - (1 if j == y else 0) for j, m in enumerate(model)], None, None


def random_tree_hsm():
    """A fresh estimator (build one per planted run; it patches ``approx.hsm_grad`` and calls
    the original, captured here): the tree alternates between the given one and the Huffman
    tree of softmax(θ) from call to call."""
    calls = [0]
    hsm_grad = approx.hsm_grad

    def grad(theta, y, tree):
        calls[0] += 1
        pick = tree if calls[0] % 2 else approx.huffman_tree(torch.softmax(theta[0], 0))
        return hsm_grad(theta, y, pick)
    return grad


def random_tree_law(method, theta, y):
    """The law of H2's g̃ (patching ``proofs.apx.decomposition.estimator_law``) when the tree
    is balanced or Huffman (canonical θ) with probability 1/2."""
    import numpy as np

    gt = P.estimator_expr(method, theta, y)
    tree = approx.huffman_tree(torch.softmax(torch.tensor(np.array(P.CANONICAL_THETA0, dtype=float)), 0))
    other = hsm_h2_grad(tree, theta, y, simplify=False)[0]
    return [(sp.Rational(1, 2), gt), (sp.Rational(1, 2), other)]


# ---------------------------------------------------------------------------------- RG
# (APX-5: each enters by patching the coefficient table ``proofs.apx.rg.RG_COEFFS``, the
# estimator ``losses.approx.rg_grad``, or the claimed squared form's target,
# ``proofs.apx.rg.squared_target`` / ``numerics.apx.rg.squared_target``)
SAMPLED_MEAN = (r"RG whose mean-score term is estimated from one uniformly sampled class (gradient $e_s$, not "
                r"$\mathbf{1}/n$)")
NO_LINEAR = r"RG expansion with a wrong first-order coefficient (the mean-score term dropped: $\mathrm{lin} = 0$)"
QUAD_OFF = r"RG expansion with its quadratic coefficient off by 1 % ($\mathrm{quad} = 1.01$)"
HALF_INTERACTION = r"RG expansion with the interaction coefficient halved ($-\tfrac14 \bar\theta^2$)"
INTER_OFF = r"RG$\times$ expansion with its interaction coefficient off by 1 % ($\mathrm{inter} = 0.99$)"
RGX_IN_RG2 = (r"RG$\times$'s coefficients $(1, 1, 1)$ in RG$^2$'s entry: the expansion around the mean score is "
              r"shift invariant ($\tilde g(\theta + t\mathbf{1}) = \tilde g(\theta)$, like the softmax gradient), "
              r"so its bias at $\theta = c\mathbf{1}$ equals that at $\theta = 0$, which is 0: the bias vanishes with "
              "the spread whatever the mean")
LABEL_TARGET = r"weighted squared form with target $r = n e_y$ (the $-\mathbf{1}$ dropped)"
LABEL_NEAR = r"weighted squared form with the label's target off by $10^{-10}$ ($r_y = n - 1 + 10^{-10}$)"


def rg_grad_coeffs(lin, quad, inter):
    """The RG family's score gradient −e_y + lin/n + quad θ/n − inter θ̄/n (proofs/apx/rg.py),
    in the signature of :func:`losses.approx.rg_grad` (whatever the kind)."""
    def grad(theta, y, kind="rg2"):
        n = theta.shape[1]
        g = lin / n + quad * theta / n - inter * theta.mean(-1, keepdim=True) / n
        return None, g.scatter_add(-1, y[:, None], -torch.ones_like(g[:, :1]))
    return grad


def rg_sampled_mean(seed: int = 0):
    """A fresh estimator (build one per planted run, so its draws are reproducible; it
    patches ``approx.rg_grad`` and calls the original, captured here)."""
    gen = torch.Generator().manual_seed(seed)
    rg_grad = approx.rg_grad

    def grad(theta, y, kind="rg2"):
        n = theta.shape[1]
        s = torch.randint(0, n, (theta.shape[0], 1), generator=gen)
        g = rg_grad(theta, y, kind)[1] - 1.0 / n
        return None, g.scatter_add(-1, s, torch.ones_like(g[:, :1]))
    return grad


def rg_sampled_mean_law(method, theta, y):
    """The law of g̃ (patching ``proofs.apx.decomposition.estimator_law``) when the mean-score
    term is the gradient e_s of one uniformly sampled class."""
    gt = P.estimator_expr(method, theta, y)
    n = len(theta)
    return [(sp.Rational(1, n), [e + (1 if j == s else 0) - sp.Rational(1, n) for j, e in enumerate(gt)])
            for s in range(n)]


def rg_coeffs(kind: str, **change) -> tuple:
    lin, quad, inter = PR.RG_COEFFS[kind]
    return (change.get("lin", lin), change.get("quad", quad), change.get("inter", inter))


def rg_table(kind: str, coeffs) -> tuple:
    """A patch of :data:`proofs.apx.rg.RG_COEFFS` with ``kind``'s entry replaced."""
    return (PR, "RG_COEFFS", {**PR.RG_COEFFS, kind: tuple(coeffs)})


def rg_library(coeffs) -> tuple:
    """A patch of :func:`losses.approx.rg_grad` by the family's gradient at ``coeffs``."""
    return (approx, "rg_grad", rg_grad_coeffs(*[float(v) for v in coeffs]))


def sympy_target_without_ones(n, is_label):
    """r_j = n e_y (the derivation's target with the −1 dropped)."""
    return n if is_label else 0


def squared_target_without_ones(theta, y):
    """r = n e_y (the numeric check's target with the −1 dropped)."""
    r = torch.zeros_like(theta)
    r[torch.arange(theta.shape[0]), y] = float(theta.shape[1])
    return r


def squared_target_near(theta, y):
    """r = n e_y − 1 with the label's entry off by 1e-10."""
    r = _SQUARED_TARGET(theta, y)
    r[torch.arange(theta.shape[0]), y] += 1e-10
    return r


# ---------------------------------------------------------------------------------- SGD
# (APX-6: the radius formula ``proofs.apx.sgd_bound.neighbourhood_radius``; where the numeric
# check reads b and σ² from its measurements, ``numerics.apx.sgd._moments``)
SUM_OF_LIMITS = (r"neighbourhood radius taken as $b/\mu + \sqrt{\eta \sigma^2/(\mu (2 - \eta \mu))}$ (the sum of "
                 "its two limits)")
BIAS_AT_START = r"$b$ and $\sigma^2$ measured once, at $W_0$, instead of along the run"


def sum_of_limits(b, sigma2, eta, mu):
    return b / mu + (eta * sigma2 / (mu * (2 - eta * mu))) ** 0.5


def moments_at_start(row, S, delta):
    """:func:`numerics.apx.sgd._moments` reading only the first measurement of the run (W_0)."""
    start = dict(row)
    if "mc" in row:
        start["mc"] = row["mc"][:1]
    else:
        start |= {"b_trace": row["b_trace"][:1], "sigma2_trace": row["sigma2_trace"][:1],
                  "at_W_star": (row["b_trace"][0], row["sigma2_trace"][0])}
    return _MOMENTS(start, S, delta)
