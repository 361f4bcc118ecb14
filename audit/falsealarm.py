"""The suite's false-alarm budget: one family-wise level for every statistical decision
of a run, split explicitly before any measurement (Bonferroni).

A statistical decision is one whose outcome depends on random draws, or that is taken by a
confidence interval: the Monte Carlo intervals of APX-2/APX-3, the confidence bounds of
APX-6, the paired comparisons of the recommendation experiment (EXP-1, DYN-3, CPX-2), and
the regression intervals of DYN-2[softmax]'s rate rule (a t-interval over a deterministic GD
curve: its level is a decision threshold like any other, so it draws on the budget too).  Deterministic computations (exact
enumeration, symbolic derivations, gradient descent on fixed data, counted operations)
have no false alarms and take no share.

Each statistical check receives its share as ``RunContext.alpha`` from the runner and
splits it further over its own interval decisions (Bonferroni again), so the probability
that *any* statistical decision of a run is wrong is at most :data:`FAMILY`.  The table is
keyed by (claim id, reading, check name) and is printed in the appendix; a test checks
that every statistical check of the registry has a share and that the shares sum to at
most :data:`FAMILY`.
"""
from __future__ import annotations

FAMILY = 0.01

_EXP_METHODS = ("softmax", "sparsemax", "entmax-1.5", "rankmax", "ssm/uniform", "ssm/popularity", "nce", "hsm",
                "rg2/als", "rg2/als-authors", "rg2/sgd", "popularity")

#: rows whose decisions are intervals of one shared family, each interval computed once and
#: read by every row that needs it: the pool is split over the family's distinct comparisons
#: (numerics/exp/checks.py, Bonferroni over 21 comparisons), so it counts once in the total
POOLS: dict[str, float] = {"experiment": 0.004}
POOLED: dict[tuple[str, str, str], str] = {
    **{("EXP-1", m, "ndcg-ordering"): "experiment" for m in _EXP_METHODS},
    ("DYN-3", "sop-vs-wop", "sop-vs-wop"): "experiment",
    ("CPX-2", "softmax-undominated", "frontier"): "experiment",
}

#: (claim id, reading, check) -> share of FAMILY.  Monte Carlo agreement and rates (4 checks)
#: 0.001 each; APX-6 0.001 and DYN-2[softmax]'s rate intervals 0.001 (issue 24: APX-6 had 0.002,
#: halved so that DYN-2's intervals fit in the family); the experiment's pool 0.004 for its 14
#: statistical rows (the two CPX-2 "approximations-cheaper" rows compare counted operations:
#: deterministic, no share).
SHARES: dict[tuple[str, str, str], float] = {
    ("APX-2", "ssm/uniform", "mc-vs-exact"): 0.001,
    ("APX-3", "nce/c=logZ", "mc-vs-exact"): 0.001,
    ("APX-2", "ssm/popularity@n=100000", "mc-rate-n100000"): 0.001,
    ("APX-2", "ssm/uniform@n=100000", "mc-rate-n100000"): 0.001,
    ("APX-6", "sgd", "sgd-neighbourhood"): 0.001,
    ("DYN-2", "softmax", "separable-gd"): 0.001,
    **{key: POOLS[pool] for key, pool in POOLED.items()},
}


def total() -> float:
    """The suite's spent budget: every unpooled share, and each pool once."""
    return sum(a for k, a in SHARES.items() if k not in POOLED) + sum(POOLS.values())


def share(claim_id: str, reading: str, check: str) -> float:
    """The family-wise level given to one statistical check."""
    try:
        return SHARES[(claim_id, reading, check)]
    except KeyError:
        raise KeyError(f"{claim_id}[{reading}] {check}: a statistical check without a share of the "
                       f"false-alarm budget (audit/falsealarm.py)") from None
