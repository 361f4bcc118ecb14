"""Plausible sets by multiple comparisons with the best (numerics/recsys/plausible.py):
the best is always in; a configuration far below is out; one that validation cannot tell
from the best is in; seed noise widens the set; the rule is Hsu's bound with the stated
Bonferroni constant, recomputed here from its definition."""
import math

import numpy as np
import pytest
from scipy import stats

from numerics.recsys.plausible import ALPHA, plausible


def _scores(means, users=400, seeds=2, user_sd=0.2, seed_sd=0.0, seed=0):
    """(k, S, U) per-user scores: a shared per-user base (so differences are paired), each
    configuration's mean, per-user noise and a per-(configuration, seed) shift."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.1, 0.6, users)
    k = len(means)
    x = base + np.asarray(means)[:, None, None] + user_sd * rng.standard_normal((k, seeds, users)) / 4
    return x + seed_sd * rng.standard_normal((k, seeds, 1))


def test_the_best_is_in_and_a_configuration_far_below_is_out():
    p = plausible(_scores([0.30, 0.10, 0.299]))
    assert p.best == 0 and p.members[0] == 0
    assert 1 not in p.members and 2 in p.members       # 0.001 below: not separable; 0.2 below: separated


def test_the_rule_is_hsus_bound_with_the_bonferroni_constant():
    x = _scores([0.30, 0.295, 0.28, 0.25], seed_sd=0.002, seed=3)
    p = plausible(x)
    k, S, U = x.shape
    assert p.q == pytest.approx(stats.norm.isf(ALPHA / (k - 1)))
    v = x.mean(axis=1)
    mu = v.mean(axis=1)
    tau2 = np.mean([np.var(x[c].mean(axis=1), ddof=1) for c in range(k)])
    assert p.tau2 == pytest.approx(tau2)
    for c in range(k):
        bound = min(mu[c] - mu[j] + p.q * math.sqrt(np.var(v[c] - v[j], ddof=1) / U + 2 * tau2 / S)
                    for j in range(k) if j != c)
        assert p.bound[c] == pytest.approx(bound)
        assert (c in p.members) == (bound > 0)


def test_seed_noise_widens_the_set():
    """The same configuration means, with the two seeds' runs ±0.01 apart (means unchanged):
    the measured seed variance enters every standard error and the set grows."""
    quiet = _scores([0.30, 0.29, 0.28, 0.27], seed=1)
    noisy = quiet + np.array([0.01, -0.01])[None, :, None]
    a, b = plausible(quiet), plausible(noisy)
    assert b.tau2 == pytest.approx(a.tau2 + 2e-4, rel=0.2) and b.mean == pytest.approx(a.mean)
    assert set(a.members) < set(b.members)


def test_one_configuration_is_its_own_set_and_bad_input_is_named():
    assert plausible(_scores([0.3])).members == (0,)
    with pytest.raises(ValueError, match="scores"):
        plausible(np.zeros((3, 1, 10)))                 # one seed: no seed noise to measure
    with pytest.raises(ValueError, match="scores"):
        plausible(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="non-finite"):
        plausible(np.full((2, 2, 5), np.nan))
    with pytest.raises(ValueError, match="alpha"):
        plausible(_scores([0.3, 0.2]), alpha=1.0)
