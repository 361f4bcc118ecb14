"""EXP-1, DYN-3 and CPX-2: the recommendation experiment (CLAIMS.md §3, §5, §6).

Every row is empirical (no symbolic route exists for an NDCG ordering), so ``supported``
is the best verdict a row can get.  The predictions below were fixed from the theory
before the measurement: softmax (exact, strictly order preserving, consistent for
ranking) on top; every WOP loss and every approximation below it; popularity below
every learned model.  The quick profile runs on synthetic data, the full profile on
MovieLens-100K; the ``_FULL`` table records where the full profile's verdict differs.
"""
from __future__ import annotations

from .claim import Claim, empirical

_PRED = {
    "softmax": "softmax is at the top: its test NDCG@20 is significantly higher than every other method's (a "
               "method not separated from it leaves the row undecided)",
    "popularity": "the popularity ranking is significantly below every learned model",
}
_WHY = {
    "sparsemax": "a WOP loss (CON-3) whose gradient reaches only the support (DYN-1)",
    "entmax-1.5": "a WOP loss (CON-3) whose gradient reaches only the support (DYN-1)",
    "rankmax": "a WOP loss (CON-3) whose gradient reaches only the support (DYN-1)",
    "ssm/uniform": "a biased, noisy estimate of the softmax gradient (APX-2)",
    "ssm/popularity": "a biased, noisy estimate of the softmax gradient (APX-2)",
    "nce": "a biased estimate of the softmax gradient at finite k (APX-3)",
    "hsm": "a tree-dependent, biased surrogate (APX-4)",
    "rg2/als": "a Taylor approximation of the softmax loss with a bias that does not vanish (APX-5)",
    "rg2/sgd": "a Taylor approximation of the softmax loss with a bias that does not vanish (APX-5)",
}
_SETUP = ("Matrix factorization (d = 64 on MovieLens-100K; the quick profile uses seeded synthetic data), per-user "
          "80/20 train/test split, 10% of training held out for early stopping, 3 seeds, full ranking with training "
          "items masked.")


def _expect(cid: str, reading: str) -> dict:
    # every row reads the one trained experiment (numerics.exp_checks.results): one task
    return {"expected": "supported", **_EXPECT.get((cid, reading), {}), "shares": "experiment", "on_device": True}


def claims() -> list[Claim]:
    from numerics import exp_checks as E
    from numerics.recsys.methods import METHODS

    from . import planted_exp as PE

    rows = []
    for m in METHODS:
        pred = _PRED.get(m) or f"{m} ({_WHY[m]}) has a significantly lower test NDCG@20 than exact softmax"
        rows.append(Claim("EXP-1", m, f"{_SETUP} Prediction: {pred}.",
                          (empirical("ndcg-ordering", E.exp_ordering, m, planted=[PE.exp1(m)], statistical=True),),
                          **_expect("EXP-1", m)))
    rows.append(Claim("DYN-3", "sop-vs-wop",
                      f"{_SETUP} Prediction: the SOP softmax has a significantly higher test NDCG@20 than each WOP "
                      "loss (sparsemax, 1.5-entmax, rankmax).",
                      (empirical("sop-vs-wop", E.sop_ahead_of_wop, planted=[PE.dyn3()], statistical=True),),
                      **_expect("DYN-3", "sop-vs-wop")))
    for reading, text in (
            ("softmax-undominated", "Softmax lies on the accuracy-cost frontier: every method that is cheaper per "
                                    "epoch (counted operations) has a significantly lower test NDCG@20 (one that is "
                                    "cheaper and significantly more accurate refutes it; one not separated leaves it "
                                    "undecided)."),
            ("approximations-cheaper", "Every approximation (SSM uniform/popularity, NCE, HSM, RG² by ALS and by SGD) "
                                       "costs fewer counted operations per training epoch than exact softmax, as "
                                       "implemented and trained in the experiment (one score row and one softmax per "
                                       "user, serving all of its interactions)."),
            ("approximations-cheaper/per-interaction",
             "Every approximation costs fewer counted operations per training epoch than exact softmax computed per "
             "interaction (one score row per training interaction, the O(N n d) cost model of CPX-1; counted on the "
             "plain PyTorch loop of 'softmax-audit bench recsys').")):
        rows.append(Claim("CPX-2", reading, f"{_SETUP} {text}",
                          (empirical("frontier", E.frontier, reading, planted=[PE.cpx2(reading)],
                                     statistical=reading == "softmax-undominated"),),
                          **_expect("CPX-2", reading)))
    return rows


_SYN = "quick profile, synthetic data (popularity-dominated; d = 16)"
_ML = "full profile, MovieLens-100K"
#: registered verdicts other than "supported", per profile (quick, full), with the reason
_EXPECT: dict[tuple[str, str], dict] = {
    ("EXP-1", "softmax"): dict(
        expected="refuted", note=f"{_SYN}: hsm, rg2/als, rg2/sgd and popularity have a significantly higher NDCG@20",
        expected_full="refuted", note_full=f"{_ML}: ssm/uniform (+0.014), rg2/als (+0.065) and rg2/sgd (+0.050) have "
                                           "a significantly higher NDCG@20 than softmax (0.342)"),
    **{("EXP-1", m): dict(expected="inconclusive", note=f"{_SYN}: not separated from softmax", expected_full="supported")
       for m in ("sparsemax", "entmax-1.5", "rankmax", "ssm/popularity")},
    ("EXP-1", "ssm/uniform"): dict(
        expected="inconclusive", note=f"{_SYN}: not separated from softmax",
        expected_full="refuted", note_full=f"{_ML}: NDCG@20 0.356 vs softmax 0.342, interval (+0.007, +0.020)"),
    ("EXP-1", "nce"): dict(expected="inconclusive", note=f"{_SYN}: not separated from softmax",
                           expected_full="inconclusive", note_full=f"{_ML}: not separated from softmax (0.343 vs 0.342)"),
    ("EXP-1", "hsm"): dict(expected="refuted", note=f"{_SYN}: hsm significantly above softmax",
                           expected_full="supported"),
    **{("EXP-1", m): dict(expected="refuted", note=f"{_SYN}: {m} significantly above softmax",
                          expected_full="refuted", note_full=f"{_ML}: {m} significantly above softmax "
                                                             f"({'0.407' if m == 'rg2/als' else '0.392'} vs 0.342)")
       for m in ("rg2/als", "rg2/sgd")},
    ("EXP-1", "popularity"): dict(
        expected="refuted", note=f"{_SYN}: popularity significantly above 8 learned models",
        # issue 10 §6: the row's share of the budget (0.004/15) split over its 10 comparisons
        # is stricter than the former 0.01/41 per comparison, under which this row was supported
        expected_full="inconclusive", note_full=f"{_ML}: sparsemax (0.230) not separated from popularity (0.212): "
                                                "difference +0.019, interval (-0.002, +0.040) at level 1 - 0.004/150"),
    ("DYN-3", "sop-vs-wop"): dict(expected="inconclusive", note=f"{_SYN}: the WOP losses are not separated from softmax",
                                  expected_full="supported"),
    ("CPX-2", "softmax-undominated"): dict(
        expected="refuted", note=f"{_SYN}: hsm, rg2/als and rg2/sgd are cheaper and significantly more accurate",
        expected_full="refuted", note_full=f"{_ML}: rg2/als costs 0.34x softmax's operations per epoch and is more "
                                           "accurate (0.407 vs 0.342)"),
    ("CPX-2", "approximations-cheaper"): dict(
        expected="refuted", note=f"{_SYN}: SSM and NCE cost more operations per epoch than the per-user exact softmax",
        expected_full="refuted", note_full=f"{_ML}: SSM and NCE (m = 32) cost 1.7x, HSM 1.18x and RG2-SGD 1.06x the "
                                           "operations per epoch of the per-user exact softmax"),
}
