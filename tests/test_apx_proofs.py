"""APX derivations (proofs/apx/api.py): decisions, and independent numeric checks of what they derive
(exact enumeration, closed forms at huge k, float64 slopes, the library estimators)."""
from __future__ import annotations

import itertools
import math
import random
from functools import lru_cache

import numpy as np
import pytest
import sympy as sp
import torch

from losses import approx as A
from numerics.apx import exact as X
from proofs.apx import api as apx
from proofs.apx.common import hsm_h2_grad
from proofs.apx.sgd_bound import neighbourhood_radius, radius_after

TH = list(X.CANONICAL_THETA)


# ---------------------------------------------------------------- cached derivations (each runs once)
@lru_cache(maxsize=None)
def _d(name, *args):
    return getattr(apx, name)(*args)


def _dec(r):
    return (r[0] if isinstance(r, tuple) else r).decision


def test_every_derivation_is_well_formed():
    calls = [("decomposition",), ("ssm_ideal_moments",), ("deterministic_variance", "hsm"), ("deterministic_variance", "rg2"),
             ("deterministic_variance", "rgx"), ("ssm_ideal_unbiased",), ("ssm_only_if",), ("nce_limit", "c=logZ"),
             ("nce_limit", "c=0"), ("nce_population",), ("hsm_tree_dependence",), ("hsm_h1_tree_free",),
             ("rg_scale", "rg2"), ("rg_scale", "rgx"), ("rg_spread", "rg2"), ("rg_spread", "rgx"),
             ("rg2_weighted_squared",), ("sgd_neighbourhood",)]
    for c in calls:
        r = _d(*c)
        d = r[0] if isinstance(r, tuple) else r
        assert d.scope and d.statement and len(d.steps) >= 2, c
        assert d.decision in ("holds", "fails"), (c, d.decision)
        if d.decision == "fails":
            assert d.counterexample, c
        ev = d.evidence(f"apx:{c}")
        assert ev.kind == "symbolic" and ev.outcome == d.decision


# ---------------------------------------------------------------- (1) decomposition
def test_decomposition_holds_and_matches_exact_moments():
    assert _dec(_d("decomposition")) == "holds"
    rng = np.random.default_rng(0)
    grads = torch.tensor(rng.normal(size=(7, 4)))
    w = torch.tensor(rng.dirichlet(np.ones(7)))
    g = torch.tensor(rng.normal(size=4))
    mom = X.moments(grads, w, g)
    mse_direct = float(w @ ((grads - g) ** 2).sum(-1))
    assert mom["mse"] == pytest.approx(mse_direct, rel=1e-12)
    assert mom["bias2"] > 0 and mom["variance"] > 0


# ---------------------------------------------------------------- (2) deterministic estimators
@pytest.mark.parametrize("method", ["hsm", "rg2", "rgx"])
def test_deterministic_variance_holds(method):
    assert _dec(_d("deterministic_variance", method)) == "holds"


def test_hsm_h2_sympy_derivative_matches_library_at_random_points():
    theta = sp.symbols("theta_0:3", real=True)
    rng = random.Random(5)
    for tree in (A.balanced_tree(3), A.Tree(3, ((1, 2), (0, 3)))):
        for y in range(3):
            gt, _, _ = hsm_h2_grad(tree, theta, y)
            for _ in range(3):
                pt = [sp.Rational(rng.randint(-30, 30), rng.randint(1, 9)) for _ in range(3)]
                sym = [float(e.subs(dict(zip(theta, pt)))) for e in gt]
                ref = A.hsm_grad(torch.tensor([[float(v) for v in pt]], dtype=torch.float64),
                                 torch.tensor([y]), tree)[1][0].tolist()
                assert sym == pytest.approx(ref, abs=1e-12)
    # and the library's variance is exactly 0 for the deterministic methods
    assert X.hsm_exact(TH, 0, A.balanced_tree(6))["variance"] == 0.0
    assert X.rg_exact(TH, 0, "rgx")["variance"] == 0.0


# ---------------------------------------------------------------- (3) SSM delta method
def _one_draw(theta, y, q):
    """(x = e^θ, negatives, x on them, a = x_y, Z, Σ1): the one-draw covariance
    Σ1 = diag(x²/q̃) − xxᵀ of the SSM importance weights over the negatives, float64."""
    x = np.exp(np.asarray(theta, float))
    neg = [j for j in range(len(x)) if j != y]
    qt = np.asarray(q, float)[neg] / (1 - q[y])
    xn = x[neg]
    return x, neg, xn, x[y], x.sum(), np.diag(xn ** 2 / qt) - np.outer(xn, xn)


def _b1_closed(theta, y, q):
    """Closed form b1_y = aV/Z³, b1_j = −(Σ1 1)_j/Z² + x_j V/Z³ in float64 (independent of sympy)."""
    x, neg, xn, a, Z, S1 = _one_draw(theta, y, q)
    n = len(x)
    V = S1.sum()
    b1 = np.zeros(n)
    b1[y] = a * V / Z ** 3
    b1[neg] = -S1.sum(1) / Z ** 2 + xn * V / Z ** 3
    return b1


def _ssm_moments_by_counts(theta, y, q, m):
    """Exact E g̃ of canonical SSM over every multiset of m negatives, enumerated here with
    itertools (bars positions), independently of numerics.apx.exact.count_vectors, each
    multiset passed through losses.approx.ssm_grad."""
    t = torch.tensor(theta, dtype=torch.float64)
    n = t.shape[0]
    neg = [j for j in range(n) if j != y]
    r = len(neg)
    qt = torch.tensor(q, dtype=torch.float64)[neg] / (1 - q[y])
    rows, logw = [], []
    for bars in itertools.combinations(range(m + r - 1), r - 1):
        cuts = (-1,) + bars + (m + r - 1,)
        counts = [cuts[i + 1] - cuts[i] - 1 for i in range(r)]
        rows.append([neg[i] for i, c in enumerate(counts) for _ in range(c)])
        logw.append(math.lgamma(m + 1) + sum(c * math.log(float(qt[i])) - math.lgamma(c + 1)
                                             for i, c in enumerate(counts)))
    seqs = torch.tensor(rows)
    w = torch.exp(torch.tensor(logw, dtype=torch.float64))
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-10)
    M = seqs.shape[0]
    _, grads = A.ssm_grad(t.expand(M, -1), torch.tensor([y]).expand(M), seqs, torch.tensor(q, dtype=torch.float64))
    return w @ grads


def test_ssm_delta_method_b1_matches_exact_enumeration():
    q = [1 / 6] * 6
    d, b1, v1 = _d("ssm_delta_method", tuple(TH), 0, tuple(q))
    assert d.decision == "holds"
    assert len(b1) == 6 and abs(sum(b1)) < 1e-12
    assert b1 == pytest.approx(_b1_closed(TH, 0, q).tolist(), abs=1e-14)
    g = X.full_grad(TH, 0)
    qt = torch.tensor(q, dtype=torch.float64)
    errs = []
    for m in (2, 4, 8, 16, 32):
        mean = X.ssm_exact(TH, 0, qt, m)["mean"]
        if m == 16:  # the library's enumeration against an independent one
            assert mean.tolist() == pytest.approx(_ssm_moments_by_counts(TH, 0, q, m).tolist(), abs=1e-14)
        errs.append(float(torch.linalg.norm(m * (mean - g) - torch.tensor(b1))))
    ratios = [b / a for a, b in zip(errs, errs[1:])]
    assert errs[0] < 0.05 and errs[-1] < 1e-3, errs
    assert all(r <= 0.6 for r in ratios), (errs, ratios)


def _v1_closed(theta, y, q):
    """v1 = tr(J Σ1 Jᵀ) in float64: J_y = −a/Z² 1ᵀ, J_j = e_j/Z − x_j/Z² 1ᵀ (independent of sympy)."""
    _, neg, xn, a, Z, S1 = _one_draw(theta, y, q)
    J = np.vstack([-a / Z ** 2 * np.ones(len(neg)), np.eye(len(neg)) / Z - np.outer(xn, np.ones(len(neg))) / Z ** 2])
    return float(np.trace(J @ S1 @ J.T))


def test_ssm_delta_method_v1_matches_closed_form_and_enumeration():
    q = [1 / 6] * 6
    _, _, v1 = _d("ssm_delta_method", tuple(TH), 0, tuple(q))
    assert v1 == pytest.approx(_v1_closed(TH, 0, q), rel=1e-12)
    qt = torch.tensor(q, dtype=torch.float64)
    rel = [abs(m * X.ssm_exact(TH, 0, qt, m)["variance"] - v1) / v1 for m in (8, 16, 32)]
    assert rel[-1] < 2e-3 and rel[0] < 1e-2, rel


def test_ssm_delta_method_rejects_a_covariance_that_is_not_the_draws(monkeypatch):
    from audit import SuiteDefect
    from proofs.apx import ssm as apx_ssm

    def poisson(x, t):
        return sp.Matrix(len(x), len(x), lambda i, k: x[i] ** 2 / t[i] if i == k else 0)

    monkeypatch.setattr(apx_ssm, "typed_sigma1", poisson)  # read by ssm_delta_method at call time
    with pytest.raises(SuiteDefect, match="categorical"):
        apx.ssm_delta_method(TH, 0, [1 / 6] * 6)


def test_ssm_ideal_moments_variance_formula_matches_enumeration(monkeypatch):
    assert _dec(_d("ssm_ideal_moments")) == "holds"
    for theta, y in ((TH, 0), ([0.3, -1.2, 2.0, 0.7, -0.1], 2)):
        t = torch.tensor(theta, dtype=torch.float64)
        q = A.ideal_proposal(t[None], torch.tensor([y]))[0]
        x = np.exp(np.asarray(theta))
        S, Z = x.sum() - x[y], x.sum()
        Q2 = float((q ** 2).sum())
        for m in (1, 2, 5):
            want = (S / Z) ** 2 * (1 - Q2) / m
            assert X.ssm_exact(t, y, q, m)["variance"] == pytest.approx(want, rel=1e-12)
    from proofs.apx import ssm as apx_ssm

    # a tempered proposal (q~ prop. to exp(theta/2)): the corrected logit depends on the draw
    monkeypatch.setattr(apx_ssm, "ideal_weight", lambda x: x ** sp.Rational(1, 2))
    d = apx.ssm_ideal_moments()
    assert d.decision == "fails" and d.counterexample["shape"] == "ssm-iff"


def test_ssm_delta_method_other_configuration_and_bad_input():
    theta, y = [0.4, -1.2, 0.9, 0.0], 2
    q = [0.1, 0.5, 0.15, 0.25]
    d, b1, v1 = apx.ssm_delta_method(theta, y, q)
    assert d.decision == "holds"
    assert b1 == pytest.approx(_b1_closed(theta, y, q).tolist(), abs=1e-14)
    assert v1 == pytest.approx(_v1_closed(theta, y, q), rel=1e-12)
    # the 1/m error still shrinks for a non-uniform proposal (exact, library enumeration)
    g = X.full_grad(theta, y)
    errs = [float(torch.linalg.norm(m * (X.ssm_exact(theta, y, torch.tensor(q, dtype=torch.float64), m)["mean"] - g)
                                    - torch.tensor(b1))) for m in (4, 8, 16)]
    assert errs[1] / errs[0] <= 0.6 and errs[2] / errs[1] <= 0.6, errs
    with pytest.raises(ValueError):
        apx.ssm_delta_method([0.0, 1.0, 2.0], 0, [0.5, 0.5, 0.0])
    with pytest.raises(ValueError):
        apx.ssm_delta_method([0.0] * 9, 0, [1 / 9] * 9)


# ---------------------------------------------------------------- (4) SSM ideal proposal
def test_ssm_ideal_and_only_if():
    assert _dec(_d("ssm_ideal_unbiased")) == "holds"
    assert _dec(_d("ssm_only_if")) == "holds"
    theta = [0.3, 1.1, -0.4]
    x = np.exp(theta)
    g = X.full_grad(theta, 0)
    ideal = x[1] / (x[1] + x[2])
    for t in (0.1, 0.4, ideal, 0.8):
        q = torch.tensor([0.0, t, 1 - t], dtype=torch.float64)
        b = float(X.ssm_exact(theta, 0, q, 1)["mean"][0] - g[0])
        if t == ideal:
            assert abs(b) < 1e-14
        else:
            assert b > 1e-6  # the derivation's sign: E g̃_y − g_y ≥ 0, zero only at the ideal t


# ---------------------------------------------------------------- (5) NCE
def test_nce_limit_c_logz_holds_and_per_coordinate_formula():
    assert _dec(_d("nce_limit", "c=logZ")) == "holds"
    t = torch.tensor(TH, dtype=torch.float64)
    p = torch.softmax(t, 0)
    c = float(torch.logsumexp(t, 0))
    q = torch.tensor([0.1, 0.3, 0.2, 0.15, 0.05, 0.2], dtype=torch.float64)
    for k in (1, 7, 100):
        mean = X.nce_exact(TH, 0, q, k, c)["mean"]
        bias = mean - X.full_grad(TH, 0)
        want = -p ** 2 / (p + k * q)
        want[0] = p[0] * (1 - p[0]) / (p[0] + k * q[0])
        assert bias.tolist() == pytest.approx(want.tolist(), abs=1e-13)
    b_a = X.nce_exact(TH, 0, q, 2 ** 10, c)["bias2"]
    b_b = X.nce_exact(TH, 0, q, 2 ** 11, c)["bias2"]
    assert 0.2 < b_b / b_a < 0.3  # bias² = O(1/k²)


def test_nce_limit_c0_matches_closed_form_at_huge_k():
    assert _dec(_d("nce_limit", "c=0")) == "holds"
    t0 = np.asarray(TH)
    lim = float((((np.exp(t0).sum() - 1) * np.exp(t0) / np.exp(t0).sum()) ** 2).sum())  # ‖(Z − 1) p‖²
    assert lim == pytest.approx(56.30, abs=5e-3)
    assert any(f"{lim:.10g}"[:8] in s_ for s_ in _d("nce_limit", "c=0").steps)
    q = A.uniform_proposal(6)
    huge = X.nce_exact(TH, 0, q, 2 ** 20, 0.0)["bias2"]
    assert huge == pytest.approx(lim, rel=1e-4)
    # and the limit vector is (Z − 1) p
    t = torch.tensor(TH, dtype=torch.float64)
    Z = float(torch.exp(t).sum())
    mean = X.nce_exact(TH, 0, q, 2 ** 30, 0.0)["mean"]
    assert (mean - X.full_grad(TH, 0)).tolist() == pytest.approx(((Z - 1) * torch.softmax(t, 0)).tolist(), rel=1e-6)


def test_nce_population_minimizer_is_log_p():
    from scipy.optimize import minimize_scalar

    assert _dec(_d("nce_population")) == "holds"
    rng = np.random.default_rng(1)
    for _ in range(6):
        p, q, k = rng.uniform(0.01, 1), rng.uniform(0.01, 1), float(rng.integers(1, 50))
        L = math.log(k * q)

        def J(th):
            return p * np.logaddexp(0, -(th - L)) + k * q * np.logaddexp(0, th - L)

        res = minimize_scalar(J, bracket=(-20, 0, 20), tol=1e-12)
        assert res.x == pytest.approx(math.log(p), abs=1e-5)


# ---------------------------------------------------------------- (6) HSM
def test_hsm_tree_dependence_h2():
    d = _d("hsm_tree_dependence")
    assert d.decision == "holds"
    th = [1.0, -0.5, 0.0]
    b_bal = X.hsm_exact(th, 0, A.balanced_tree(3))["bias2"]
    b_oth = X.hsm_exact(th, 0, A.Tree(3, ((1, 2), (0, 3))))["bias2"]
    assert abs(b_bal - b_oth) > 0.1
    assert any(f"{b_bal:.10f}" in s for s in d.steps) and any(f"{b_oth:.10f}" in s for s in d.steps)


def test_hsm_h1_every_tree_fits_exactly():
    d = _d("hsm_h1_tree_free")
    assert d.decision == "fails"
    assert d.counterexample == {"shape": "hsm-h1", "p": [0.5, 0.3, 0.2], "trees": ["((0,1),2)", "(0,(1,2))"],
                                "kl_best_fit": [0.0, 0.0]}
    # numeric: the node scores log(P(left)/P(right)) reproduce p through the library's H1 model
    rng = np.random.default_rng(2)
    p = torch.tensor(rng.dirichlet(np.ones(5)), dtype=torch.float64)
    for tree in (A.balanced_tree(5), A.huffman_tree(p), A.Tree(5, ((3, 4), (2, 5), (1, 6), (0, 7)))):
        u, _ = apx.h1_fit(tree, [float(v) for v in p])
        u = torch.tensor([[float(e) for e in u]], dtype=torch.float64)
        assert torch.exp(A.hsm_log_probs(u, tree))[0].tolist() == pytest.approx(p.tolist(), abs=1e-14)


def test_apx4_derivations_read_their_estimator_and_fit_at_call_time(monkeypatch):
    """The planted inputs of APX-4 enter through the attributes the derivations look up: a
    fit constrained so that the best fits differ by tree makes the H1 derivation hold, a
    tree-blind one leaves it undecided; an estimator that ignores the tree refutes H2's."""
    from proofs.apx import hsm as PH
    from reports.apx import planted as W

    with monkeypatch.context() as mp:
        mp.setattr(PH, "h1_fit", W.h1_frozen_root_fit)          # root split frozen at 1/2
        assert PH.hsm_h1_tree_free().decision == "holds"
        mp.setattr(PH, "h1_fit", W.h1_count_fit)                # the same (wrong) fit for both trees
        assert PH.hsm_h1_tree_free().decision == "undecided"
    monkeypatch.setattr(PH, "hsm_h2_grad", W.h1_fit_sympy)
    d = PH.hsm_tree_dependence()
    assert d.decision == "fails" and d.counterexample["shape"] == "hsm-trees"


def test_apx5_apx6_derivations_read_their_constants_at_call_time(monkeypatch):
    from audit import SuiteDefect
    from proofs.apx import rg as PR
    from proofs.apx import sgd_bound
    from reports.apx import planted as W

    with monkeypatch.context() as mp:                          # RGx's coefficients in RG^2's entry
        mp.setattr(PR, "RG_COEFFS", {**PR.RG_COEFFS, "rg2": (1, 1, 1)})
        assert _dec(apx.rg_spread("rg2")) == "holds"
        mp.setattr(PR, "RG_COEFFS", {**PR.RG_COEFFS, "rg2": (0, 1, 0)})
        d, _, _ = apx.rg_scale("rg2")
        assert d.decision == "fails" and d.counterexample["coeffs"] == [0.0, 1.0, 0.0]
    with monkeypatch.context() as mp:
        mp.setattr(PR, "squared_target", W.sympy_target_without_ones)
        assert _dec(apx.rg2_weighted_squared()) == "fails"
    monkeypatch.setattr(sgd_bound, "neighbourhood_radius", W.sum_of_limits)
    with pytest.raises(SuiteDefect, match="not the fixed point"):
        apx.sgd_neighbourhood()


# ---------------------------------------------------------------- (7) RG
@pytest.mark.parametrize("kind,power", [("rg2", 2), ("rgx", 4)])
def test_rg_scale_power_matches_float64_slope(kind, power):
    d, pw, coeff = _d("rg_scale", kind)
    assert d.decision == "holds" and pw == power and coeff > 0
    if kind == "rg2":
        assert coeff == pytest.approx(1 / 864, rel=1e-12)  # (θ̄0)²/n = (1/12)²/6
    th0 = np.asarray(TH)
    b = {s: X.rg_exact((s * th0).tolist(), 0, kind)["bias2"] for s in (1e-2, 1e-3)}
    slope = math.log(b[1e-2] / b[1e-3]) / math.log(10)
    assert slope == pytest.approx(power, abs=0.05)
    assert b[1e-3] / 1e-3 ** power == pytest.approx(coeff, rel=2e-2)


def test_rg_spread():
    d2 = _d("rg_spread", "rg2")
    assert d2.decision == "fails"
    assert d2.counterexample["theta"] == [1.0, 1.0, 1.0] and d2.counterexample["bias2"] == pytest.approx(1 / 3)
    assert X.rg_exact([1.0, 1.0, 1.0], 0, "rg2")["bias2"] == pytest.approx(1 / 3, rel=1e-12)
    assert _dec(_d("rg_spread", "rgx")) == "holds"
    for c in (-3.0, 0.7, 5.0):
        assert X.rg_exact([c] * 3, 0, "rgx")["bias2"] < 1e-28
        assert X.rg_exact([c] * 3, 0, "rg2")["bias2"] == pytest.approx(c * c / 3, rel=1e-12)


def test_rg2_is_a_weighted_squared_loss():
    assert _dec(_d("rg2_weighted_squared")) == "holds"
    g = torch.Generator().manual_seed(0)
    n = 9  # outside the symbolic n = 2..6 sweep
    theta = torch.randn(4, n, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 3, 8, 5])
    r = n * torch.nn.functional.one_hot(y, n).double() - 1
    want = ((theta - r) ** 2).sum(-1) / (2 * n) + math.log(n) - (n - 1) / 2
    assert A.rg_loss(theta, y, "rg2").tolist() == pytest.approx(want.tolist(), abs=1e-12)


# ---------------------------------------------------------------- (9) SGD neighbourhood
def test_sgd_neighbourhood():
    assert _dec(_d("sgd_neighbourhood")) == "holds"
    for b, s2, eta, mu in ((0.3, 0.5, 0.1, 1.0), (0.05, 2.0, 0.2, 2.0), (1.0, 0.0, 0.01, 5.0)):
        r = neighbourhood_radius(b, s2, eta, mu)
        assert radius_after(20000, 10.0, b, s2, eta, mu) == pytest.approx(r, rel=1e-9)
        assert neighbourhood_radius(b * 1.1 + 0.01, s2, eta, mu) > r
        assert neighbourhood_radius(b, s2 * 1.1 + 0.01, eta, mu) > r
    assert neighbourhood_radius(0.4, 0.0, 0.1, 2.0) == pytest.approx(0.4 / 2.0, rel=1e-12)
    assert neighbourhood_radius(0.0, 0.3, 0.1, 2.0) ** 2 == pytest.approx(0.1 * 0.3 / (2.0 * (2 - 0.2)), rel=1e-12)
