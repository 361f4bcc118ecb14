"""Comparisons of the recommendation experiment, decided at the split level over the
plausible configurations of both methods (issue 21; the rows are ``exp_checks.py``).

Split level.  For a configuration a of method A and b of method B, each split s gives the
paired difference ``D_s = NDCG@20_a(s) − NDCG@20_b(s)`` (each a mean over the split's test
users; one training seed per split, so the split is the unit of replication and carries
the data variance and the training noise together).  The comparison of the pair is the
Student-t interval of the mean of the D_s (df = splits − 1) at the experiment's level.

Tuning uncertainty by intersection–union (Berger 1982).  Each method comes with its
plausible set (``recsys/plausible.py``: the configurations validation cannot tell from its
selection).  "A above B" is decided only when the interval of EVERY pair (a, b) of plausible
configurations lies above 0 (and "A below B" when every one lies below): the rejection region
of an intersection–union test is the intersection of the pairs' rejection regions, so it
keeps the pairs' level without any further share of the false-alarm budget.  When the pairs
disagree, the comparison is undecided; when the selections' pair alone would have decided it,
it is *sensitive to tuning*, and the pair that disagrees is named.

Equivalence (TOST, Schuirmann 1987).  An undecided comparison is ``equivalent`` within
±:data:`MARGIN` when every pair's interval lies inside (−MARGIN, MARGIN) -- the two one-sided
tests at (1 − level)/2 each, again intersected over the pairs -- and ``undetermined``
otherwise (the data cannot tell a small difference from none).  The margin is fixed before
the run.

References.  R. L. Berger, "Multiparameter hypothesis testing and acceptance sampling",
Technometrics 24 (1982).  D. J. Schuirmann, "A comparison of the two one-sided tests
procedure and the power approach for assessing the equivalence of average
bioavailability", J. Pharmacokinet. Biopharm. 15 (1987).
"""
from __future__ import annotations

from typing import Callable

from ..recsys.runlevel import paired_run_differences, run_level_interval

KEY = "ndcg@20"
#: the equivalence margin of NDCG@20 (fixed before the run; issue 21 §6)
MARGIN = 0.005


def sign(c: dict) -> int:
    """+1: the interval lies above 0, −1: below 0, 0: it covers 0."""
    return 1 if c["lo"] > 0 else (-1 if c["hi"] < 0 else 0)


def pair(runs_a: dict, runs_b: dict, level: float) -> dict:
    """The split-level interval of one pair of configurations from their runs
    ``{(split, seed): RunResult}``: ``{"diff", "lo", "hi", "df", "runs", "run_diff"}``."""
    ma = {k: r.mean(KEY) for k, r in runs_a.items()}
    mb = {k: r.mean(KEY) for k, r in runs_b.items()}
    diffs = paired_run_differences(ma, mb)
    iv = run_level_interval(diffs, level)
    return {"diff": iv.mean, "lo": iv.lo, "hi": iv.hi, "df": iv.df, "runs": [f"{s}/{t}" for s, t in sorted(ma)],
            "run_diff": [round(float(x), 12) for x in diffs]}


def compare(ex: dict, a: str, b: str, level: float) -> dict:
    """A − B over every pair of plausible configurations (module docstring).  The keys of
    the selections' pair (``diff``, ``lo``, ``hi``, ``df``, ``runs``, ``run_diff``), and
    ``sign`` (the intersection–union decision), ``selected_sign``, ``pairs`` (every pair:
    ``a``, ``b`` configurations and its interval), ``flip`` (the first pair that disagrees
    with a decided selection pair, or None) and ``equivalence`` (``equivalent`` /
    ``undetermined`` for an undecided comparison, else None)."""
    pairs = []
    for ca in ex["plausible"][a]:
        for cb in ex["plausible"][b]:
            pairs.append({"a": ca["config"], "b": cb["config"]} | pair(ca["runs"], cb["runs"], level))
    signs = [sign(p) for p in pairs]
    common = signs[0] if all(s == signs[0] for s in signs) else 0
    flip = None
    if signs[0] != 0 and common == 0:
        flip = next(p | {"sign": s} for p, s in zip(pairs, signs) if s != signs[0])
    equivalence = None
    if common == 0:
        equivalence = "equivalent" if all(-MARGIN < p["lo"] and p["hi"] < MARGIN for p in pairs) else "undetermined"
    sel = {k: pairs[0][k] for k in ("diff", "lo", "hi", "df", "runs", "run_diff")}
    return sel | {"methods": (a, b), "sign": common, "selected_sign": signs[0], "pairs": pairs, "flip": flip,
                  "equivalence": equivalence}


def decide(comps: dict[str, dict], rule: Callable[[dict[str, int]], str]) -> tuple[str, str]:
    """``(outcome, selected_outcome)``: the row's ``rule`` on the intersection–union signs,
    and on the selections' pairs alone (they differ when the row is sensitive to tuning)."""
    return (rule({k: v["sign"] for k, v in comps.items()}),
            rule({k: v["selected_sign"] for k, v in comps.items()}))
