"""numerics/recsys/runlevel.py: run-level intervals for comparing recommenders.

Every check is paired with a planted defect (the per-user pooled t-interval, a z quantile,
df = n, a users-only bootstrap, a double-counted Bonferroni m) that the same assertion
would reject, so none of them passes vacuously."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from numerics.recsys import runlevel as RL
from numerics.recsys.runlevel import (Interval, bonferroni_levels, decide, hierarchical_bootstrap_interval,
                                      paired_run_differences, run_level_interval)

FIXED = np.array([0.012, 0.019, 0.008, 0.021, 0.015, 0.011, 0.017, 0.009, 0.014])
EXP_SOFTMAX_SHARE = 0.004 / 15      # audit/falsealarm.py SHARES[("EXP-1", "softmax", "ndcg-ordering")]
OTHERS = ("sparsemax", "entmax-1.5", "rankmax", "ssm/uniform", "ssm/popularity", "nce", "hsm",
          "rg2/als", "rg2/sgd", "popularity")


def pooled_t(values: np.ndarray, level: float) -> tuple[float, float]:
    """The per-user interval the run level replaces: every user of every run as one sample."""
    v = np.ravel(values)
    return stats.t.interval(level, v.size - 1, loc=v.mean(), scale=stats.sem(v))


def width(iv) -> float:
    return iv.hi - iv.lo if isinstance(iv, Interval) else iv[1] - iv[0]


# ------------------------------------------------------------------ Student-t interval
@pytest.mark.parametrize("level", [0.95, 1 - EXP_SOFTMAX_SHARE / 10])
def test_t_interval_matches_scipy(level):
    iv = run_level_interval(FIXED, level)
    n = FIXED.size
    lo, hi = stats.t.interval(level, n - 1, loc=FIXED.mean(), scale=FIXED.std(ddof=1) / math.sqrt(n))
    assert (iv.lo, iv.hi) == pytest.approx((lo, hi), rel=1e-9, abs=1e-12)
    assert (iv.mean, iv.df, iv.n_runs, iv.level) == (pytest.approx(FIXED.mean()), n - 1, n, level)
    # planted: df = n (or a z quantile) is further from scipy's df = n - 1 interval than the tolerance
    lo_n, hi_n = stats.t.interval(level, n, loc=FIXED.mean(), scale=FIXED.std(ddof=1) / math.sqrt(n))
    assert (lo_n, hi_n) != pytest.approx((lo, hi), rel=1e-6)


def test_t_interval_coverage_with_between_run_noise():
    """2000 seeded experiments of 9 runs x 200 users: true difference 0.01, between-run SD
    0.006, per-user SD 0.05.  The run-level 95 % interval covers the truth in 93.5-96.5 %
    (about +-3 binomial SDs).  The same band rejects a z quantile (about 91 %) and the
    per-user pooled interval, which ignores the between-run variance (about 68 %)."""
    rng = np.random.Generator(np.random.PCG64(20210101))
    exps, runs, users, delta = 2000, 9, 200, 0.01
    per_user = (delta + 0.006 * rng.standard_normal((exps, runs, 1))
                + 0.05 * rng.standard_normal((exps, runs, users)))
    diffs = per_user.mean(axis=2)
    ivs = [run_level_interval(d, 0.95) for d in diffs]
    cover = np.mean([iv.lo <= delta <= iv.hi for iv in ivs])
    assert 0.935 <= cover <= 0.965, cover

    se = diffs.std(axis=1, ddof=1) / math.sqrt(runs)
    z_cover = np.mean(np.abs(diffs.mean(axis=1) - delta) <= stats.norm.isf(0.025) * se)
    flat = per_user.reshape(exps, -1)
    pooled_se = flat.std(axis=1, ddof=1) / math.sqrt(flat.shape[1])
    pooled_cover = np.mean(np.abs(flat.mean(axis=1) - delta) <= stats.t.isf(0.025, flat.shape[1] - 1) * pooled_se)
    assert not 0.935 <= z_cover <= 0.965, z_cover
    assert pooled_cover < 0.85, pooled_cover


def test_motivating_case_run_level_undecided_where_per_user_is_significant():
    """3 splits x 3 seeds, 943 users per split (MovieLens-100K's count), per-user SD 0.15.
    The run differences have mean exactly +0.014 and SD exactly 0.006.  At the Bonferroni
    level of EXP-1[softmax] (its share 0.004/15 over 10 comparisons) the run-level interval
    straddles 0 (t_{8} quantile 8.56 x 0.002 > 0.014), while the per-user pooled interval,
    with its standard error 0.15 / sqrt(8487), excludes it."""
    rng = np.random.Generator(np.random.PCG64(943))
    keys = [(split, seed) for split in range(3) for seed in range(3)]
    eff = rng.standard_normal(len(keys))
    eff = 0.014 + 0.006 * (eff - eff.mean()) / eff.std(ddof=1)
    per_user, a, b = {}, {}, {}
    for k, e in zip(keys, eff):
        noise = 0.15 * rng.standard_normal(943)
        per_user[k] = e + noise - noise.mean()          # the run's mean difference is exactly e
        b[k] = 0.30 + 0.02 * rng.standard_normal()
        a[k] = b[k] + per_user[k].mean()
    diffs = paired_run_differences(a, b)
    assert diffs.mean() == pytest.approx(0.014, abs=1e-12)
    assert diffs.std(ddof=1) == pytest.approx(0.006, abs=1e-12)

    level, m = bonferroni_levels(EXP_SOFTMAX_SHARE, [("softmax", o) for o in OTHERS])
    assert m == 10
    iv = run_level_interval(diffs, level)
    assert iv.lo < 0 < iv.hi and decide(iv) == "undecided"
    lo, hi = pooled_t(np.concatenate([per_user[k] for k in keys]), level)
    assert lo > 0, (lo, hi)
    # the same runs without the correction (one comparison) are separated: the verdict
    # turns on the between-run spread at the level the budget allows, not on the users
    assert decide(run_level_interval(diffs, 1 - EXP_SOFTMAX_SHARE)) == "A>B"


# ------------------------------------------------------------------ two-stage bootstrap
def _runs(rng, n_runs, users, between, noise_sd=1.0, centred=False):
    eff = between * rng.standard_normal(n_runs)
    out = {}
    for r in range(n_runs):
        e = noise_sd * rng.standard_normal(users)
        out[(r // 3, r % 3)] = eff[r] + (e - e.mean() if centred else e)
    return out


def _analytic_sd(per_user, resample_users=True):
    """SD of the bootstrap statistic, exactly (module docstring)."""
    runs = [np.asarray(per_user[k]) for k in sorted(per_user)]
    means = np.array([u.mean() for u in runs])
    within = np.mean([u.var() / u.size for u in runs]) if resample_users else 0.0
    return math.sqrt((means.var() + within) / len(runs))


def test_bootstrap_deterministic_per_seed_and_block_independent(monkeypatch):
    pu = _runs(np.random.Generator(np.random.PCG64(1)), 9, 300, 0.3)
    a = hierarchical_bootstrap_interval(pu, 0.95, 2000, seed=7)
    assert a == hierarchical_bootstrap_interval(pu, 0.95, 2000, seed=7)
    b = hierarchical_bootstrap_interval(pu, 0.95, 2000, seed=8)
    assert (a.lo, a.hi) != (b.lo, b.hi)
    assert a.lo < a.mean < a.hi and (a.df, a.n_runs) == (None, 9)
    monkeypatch.setattr(RL, "_BLOCK", 1000)               # many small blocks: the same draws
    assert hierarchical_bootstrap_interval(pu, 0.95, 2000, seed=7) == a


def test_bootstrap_widens_with_between_run_variance():
    """The same users (each run's deviations from its mean), run means set to 0, 1 and 3
    times fixed offsets, so the between-run variance grows as c^2: the width grows.  A
    users-only bootstrap (the planted defect) does not see the offsets at all."""
    rng = np.random.Generator(np.random.PCG64(2))
    users = _runs(rng, 9, 300, 0.0, centred=True)            # within-run variance 1/300 per run mean
    offsets = np.linspace(-1.0, 1.0, 9) / np.linspace(-1.0, 1.0, 9).std()   # SD 1: c^2 * 0.0025 between runs
    widths, planted = [], []
    for c in (0.0, 1.0, 3.0):
        pu = {k: u + 0.05 * c * o for (k, u), o in zip(sorted(users.items()), offsets)}
        widths.append(width(hierarchical_bootstrap_interval(pu, 0.95, 2000, seed=3)))
        g = np.random.Generator(np.random.PCG64(3))
        stat = np.mean([u[g.integers(0, u.size, (2000, u.size))].mean(axis=1) for u in pu.values()], axis=0)
        planted.append(np.subtract(*np.quantile(stat, [0.975, 0.025])))
    assert widths[0] < widths[1] < widths[2] and widths[2] > 2 * widths[0], widths
    assert planted[2] == pytest.approx(planted[0], rel=1e-9)


def test_bootstrap_zero_between_run_variance_approaches_pooled_width():
    """Run means exactly equal (no between-run variance in the data), 9 runs x 1000 users:
    the 95 % bootstrap width is within 5 % of the per-user pooled t-interval's."""
    pu = _runs(np.random.Generator(np.random.PCG64(4)), 9, 1000, 0.0, centred=True)
    boot = hierarchical_bootstrap_interval(pu, 0.95, 4000, seed=5)
    pooled = pooled_t(np.concatenate(list(pu.values())), 0.95)
    assert width(boot) / width(pooled) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("resample_users", [True, False])
def test_bootstrap_variance_is_the_two_stage_formula(resample_users):
    """Independent users, no run effect: the run means still scatter by the user noise, and
    resampling users adds that noise once more.  The width matches the exact bootstrap SD
    (module docstring) within 5 %; two-stage is wider than the pooled interval (the
    conservative double count, about sqrt(2 - 1/R)), runs-only close to it."""
    pu = _runs(np.random.Generator(np.random.PCG64(6)), 30, 400, 0.0)
    boot = hierarchical_bootstrap_interval(pu, 0.95, 4000, seed=9, resample_users=resample_users)
    assert width(boot) / (2 * stats.norm.isf(0.025) * _analytic_sd(pu, resample_users)) == pytest.approx(1, abs=0.05)
    ratio = width(boot) / width(pooled_t(np.concatenate(list(pu.values())), 0.95))
    assert ratio > 1.15 if resample_users else 0.7 < ratio < 1.15, ratio


# ------------------------------------------------------------------ Bonferroni and decisions
def test_bonferroni_counts_distinct_unordered_pairs():
    comps = [("softmax", "nce"), ("nce", "softmax"), ("softmax", "hsm"), ("softmax", "hsm"), ("hsm", "nce")]
    level, m = bonferroni_levels(0.01, iter(comps))
    assert (level, m) == (pytest.approx(1 - 0.01 / 3), 3)
    # planted double counts: every entry, or both orders as distinct; neither is the answer
    assert len(comps) != m and len(set(comps)) != m


@pytest.mark.parametrize("lo,hi,want", [(0.001, 0.02, "A>B"), (-0.02, -0.001, "A<B"), (-0.01, 0.01, "undecided"),
                                        (0.0, 0.01, "undecided"), (-0.01, 0.0, "undecided")])
def test_decide(lo, hi, want):
    assert decide(Interval((lo + hi) / 2, lo, hi, 0.95, 8, 9, "run-level t")) == want


# ------------------------------------------------------------------ bad inputs
def test_paired_run_differences_sorted_and_validated():
    a = {(1, 0): 0.31, (0, 1): 0.30, (0, 0): 0.29}
    b = {(0, 0): 0.28, (1, 0): 0.30, (0, 1): 0.27}
    assert paired_run_differences(a, b) == pytest.approx([0.01, 0.03, 0.01])
    with pytest.raises(ValueError, match="only in a"):
        paired_run_differences(a, {k: v for k, v in b.items() if k != (1, 0)})
    with pytest.raises(ValueError, match="at least 2 runs"):
        paired_run_differences({(0, 0): 0.3}, {(0, 0): 0.2})
    with pytest.raises(ValueError, match="^a has non-finite"):
        paired_run_differences({**a, (0, 0): float("nan")}, b)
    with pytest.raises(ValueError, match="^b has non-finite"):
        paired_run_differences(a, {**b, (0, 1): float("inf")})


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, float("nan")])
def test_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        run_level_interval(FIXED, level)
    with pytest.raises(ValueError, match="level"):
        hierarchical_bootstrap_interval({(0, 0): FIXED, (0, 1): FIXED}, level, 100, 0)
    with pytest.raises(ValueError, match="family_alpha"):
        bonferroni_levels(level, [("a", "b")])


def test_bad_runs():
    with pytest.raises(ValueError, match="at least 2"):
        run_level_interval(FIXED[:1], 0.95)
    with pytest.raises(ValueError, match="non-finite"):
        run_level_interval(np.array([0.01, np.nan, 0.02]), 0.95)
    with pytest.raises(ValueError, match="at least 2 runs"):
        hierarchical_bootstrap_interval({(0, 0): FIXED}, 0.95, 100, 0)
    with pytest.raises(ValueError, match=r"per_user\[\(0, 1\)\] has non-finite"):
        hierarchical_bootstrap_interval({(0, 0): FIXED, (0, 1): np.array([0.1, np.nan])}, 0.95, 100, 0)
    with pytest.raises(ValueError, match="no draw in a tail"):           # 1 - 2.7e-5 needs 75 000 draws
        hierarchical_bootstrap_interval({(0, 0): FIXED, (0, 1): FIXED}, 1 - EXP_SOFTMAX_SHARE / 10, 10_000, 0)
    with pytest.raises(ValueError, match="itself"):
        bonferroni_levels(0.05, [("softmax", "softmax")])
    with pytest.raises(ValueError, match="empty"):
        bonferroni_levels(0.05, [])
