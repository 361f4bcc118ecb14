"""The appendix's front matter a reader can stop at (issue 24, item 1): what each paper claim
says in plain words, each reading's verdict and where that reading comes from, and a glossary.

The paper's full text was never available to the suite: every claim is reconstructed from the
abstract and a public novelty report (``../shared/seeds/``) under explicit readings
(``../shared/CLAIMS.md``).  So a verdict is a verdict on a reading, and a reader must see,
beside it, whether the reading follows the literature, the paper's own experiment, or a literal
reading the paper may not intend.  That knowledge is editorial, so it is written here as data
(:data:`CLAIM_WORDS`, :data:`READING_ORIGINS`, :data:`READING_PATTERNS`), taken from CLAIMS.md,
never parsed out of results.json; only the verdicts come from the results.

:func:`missing` names every claim id or reading of a results dict that has no entry:
tests/test_front_matter.py requires it to be empty for every registered row, so a new row cannot
be silently absent from the summary.  The rendering itself tolerates a missing entry (it prints
"no summary entry" in its place) so a report is never lost over it.

Every string is marked text (audit/markup.py): prose, with mathematics between dollars.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from .r2.claims import NOT_APPLICABLE as _R2_NOT_APPLICABLE
from .texfmt import _VERDICT_COLOURS, escape, marked

__all__ = ["CLAIM_WORDS", "READING_ORIGINS", "READING_PATTERNS", "UNINTENDED", "GLOSSARY", "front_matter", "missing",
           "origin_of"]

# ----------------------------------------------------------------------------- what the paper claims

#: per claim id: what the paper claims, in plain words (CLAIMS.md, one sentence each)
CLAIM_WORDS: dict[str, str] = {
    "FY-1": r"Each loss's prediction map $\hat y$ and conjugate $\Omega^*$ (softmax, sparsemax, $\alpha$-entmax, "
            r"rankmax) follow from the KKT conditions of $\max_p \langle\theta, p\rangle - \Omega(p)$.",
    "FY-2": r"Each loss is non-negative, zero exactly when $y = \hat y(\theta)$, convex in the scores, has gradient "
            r"$\hat y(\theta) - y$, and ignores a constant added to every score.",
    "FY-3": r"The sparse losses have a separation margin (zero loss once the true class's score leads every other "
            r"by 1 for sparsemax and rankmax, by $1/(\alpha-1)$ for $\alpha$-entmax); softmax has none.",
    "FY-4": r"Each loss's gradient is Lipschitz in the scores: constant $\tfrac12$ for softmax, 1 for sparsemax and "
            r"rankmax, $\alpha$-entmax in between.",
    "CON-1": r"All four exact losses are top-$k$ calibrated for every $k < n$: minimizing the expected loss puts the "
             r"$k$ most likely classes on top.",
    "CON-2": r"All four are DCG-consistent (in the sense of Cossock & Zhang 2008; Ravikumar, Tewari, Yang 2011): "
             r"sorting the scores that minimize the expected loss maximizes the expected DCG, for every "
             r"distribution of relevance.",
    "CON-3": r"Only softmax is strictly order preserving (SOP); sparsemax, $\alpha$-entmax and rankmax are only "
             r"weakly order preserving (WOP).",
    "DYN-1": r"Softmax gives every negative class a non-zero gradient; the sparse losses give exactly zero gradient "
             r"to every class outside the support of $\hat y$.",
    "DYN-2": r"On separable data gradient descent takes the sparse losses to exactly zero loss in finitely many "
             r"steps, while the softmax loss stays positive, decaying like $1/t$ as $\lVert\theta\rVert$ grows like "
             r"$\log t$; on non-separable data all four reach their Bayes predictors.",
    "DYN-3": r"On the recommendation task the strictly order-preserving softmax ranks ahead (test NDCG) of the "
             r"weakly order-preserving losses.",
    "APX-1": r"The bias–variance decomposition of the gradient's error separates the approximations: the sampling "
             r"methods (SSM, NCE) have a bias and a variance that shrink with the sample count; HSM and RG are "
             r"deterministic, with a bias that more compute does not remove.",
    "APX-2": r"Sampled softmax's bias and variance are $O(1/m)$ in the number of samples $m$, and its bias is zero "
             r"for every $m$ exactly when the proposal is proportional to $\exp(\theta)$ on the negatives.",
    "APX-3": r"NCE's gradient becomes unbiased as the number $k$ of noise samples grows when its normalizer is "
             r"$c = \log Z$, keeps a bias under a wrong fixed $c$, and its population minimizer recovers the data "
             r"distribution for every $k$.",
    "APX-4": r"Hierarchical softmax has zero variance and a bias that depends on the tree (balanced or Huffman).",
    "APX-5": r"The RG losses' bias vanishes as the spread of the scores shrinks and grows with it; RG$^2$ is a "
             r"weighted squared loss.",
    "APX-6": r"SGD with a gradient of bias $b$ and variance $\sigma^2$ on a convex objective converges to a "
             r"neighbourhood of the optimum whose size grows with $b$, at a rate governed by $\sigma^2$.",
    "CPX-1": r"Per-epoch training cost: softmax $O(Nnd)$; sparsemax, $\alpha$-entmax and rankmax "
             r"$O(Nn(d + \log n))$; SSM and NCE $O(Nmd)$; HSM $O(Nd \log n)$; RG$^2$ by ALS "
             r"$O(Nd^2 + (U + n)d^3)$.",
    "CPX-2": r"The family trades accuracy for efficiency: the approximations cost less per epoch, and exact softmax "
             r"lies on the accuracy–cost frontier.",
    "EXP-1": r"In the paper's representative experiment (matrix factorization for top-$K$ recommendation; here "
             r"MovieLens-100K under the protocol of Rendle et al. 2019, Dacrema et al. 2019, Sun et al. 2020: equal "
             r"tuning budgets, several random splits) the methods' NDCG ordering aligns with the theory: exact "
             r"softmax on top, the others below it, all above popularity.",
}

# ----------------------------------------------------------------------------- where each reading comes from

_FY = (r"the four losses as Fenchel–Young losses (Blondel, Martins, Niculae 2020; sparsemax: Martins & Astudillo "
       r"2016; $\alpha$-entmax: Peters, Niculae, Martins 2019; rankmax in reading R1, a fixed $k$)")
_AS_FY1 = "the losses as in FY-1"
_TOPK = (r"top-$k$ calibration as defined by Yang & Koyejo 2020, certified by convex programs; rankmax in "
         r"reading R1, its labels $k$-subsets read through their inclusion probabilities")
_L1 = r"L1, summed: one loss term per relevant item, weighted by its gain (the form EXP-1 trains)"
_L2 = (r"L2, normalized: the gain-normalized label with unit weight (the listwise form of ListNet and of common "
       r"ranking libraries)")
_MULTIHOT = (r"reading R1 with the multi-hot label: binary relevance and the same number $k$ of relevant items in "
             r"every draw")
_O1 = r"O1: order preservation of the prediction map $\hat y(\theta)$"
_O2 = r"O2: order preservation of the minimizers of the expected loss (Bayes minimizers), after Zhang 2004"
_DYN1 = r"the claim as stated, with the gradient $\hat y - y$ of FY-2, measured along gradient descent"
_DYN2_SOFTMAX = r"the stated rates $1/t$ and $\log t$, decided by a fitting rule fixed before the run"
_DYN2_ANY = (r"“any constant step in $(0, 1/L]$, from every start” read literally, since the paper's step-size "
             r"rule is not known")
_DYN2_ONE = r"the narrowest reading: the one step $1/L$ on one free score vector"
_EXP = r"the paper's own experiment (EXP-1's runs)"
_SSM = r"canonical sampled softmax with the $\log Q$ correction (Blanc & Rendle 2018)"
_NCE = r"NCE (Gutmann & Hyvärinen 2010; Mnih & Teh 2012)"
_LARGE = r"the rates at catalogue scale, $n = 100{,}000$ with Zipf popularity, by Monte Carlo"
_CPX1 = (r"the suite's implementation of each method (the code the experiment trains), its counted operations "
         r"fitted over grids of $n$, $d$ and $m$")
_EXP1 = r"the paper's experiment: "

#: per (claim id, reading): where the reading comes from (CLAIMS.md; the literature or the paper's experiment)
READING_ORIGINS: dict[tuple[str, str], str] = {
    **{("FY-1", loss): _FY for loss in ("softmax", "sparsemax", "entmax", "rankmax")},
    **{(cid, loss): _AS_FY1 for cid in ("FY-2", "FY-3") for loss in ("softmax", "sparsemax", "entmax", "rankmax")},
    **{("FY-4", loss): _AS_FY1 for loss in ("softmax", "sparsemax", "rankmax")},
    ("FY-4", "entmax"): (r"$1 < \alpha \le 2$: the part of the family between softmax ($\alpha \to 1$) and "
                         r"sparsemax ($\alpha = 2$), Peters, Niculae, Martins 2019"),
    ("FY-4", "entmax[alpha>2]"): (r"the family's stated range $\alpha > 1$ read literally, here $\alpha > 2$ (the "
                                  r"paper may mean only $\alpha \le 2$)"),
    **{("CON-1", loss): _TOPK for loss in ("softmax", "sparsemax", "entmax", "rankmax")},
    **{("CON-2", f"{loss}/L1"): _L1 for loss in ("softmax", "sparsemax", "entmax")},
    **{("CON-2", f"{loss}/L2"): _L2 for loss in ("softmax", "sparsemax", "entmax")},
    ("CON-2", "rankmax/multihot"): _MULTIHOT,
    **{("CON-3", f"{loss}/O1"): _O1 for loss in ("softmax", "sparsemax", "entmax", "rankmax")},
    **{("CON-3", f"{loss}/O2"): _O2 for loss in ("softmax", "sparsemax", "entmax", "rankmax")},
    **{("DYN-1", loss): _DYN1 for loss in ("softmax", "sparsemax", "entmax", "rankmax")},
    ("DYN-2", "softmax"): _DYN2_SOFTMAX,
    **{("DYN-2", loss): _DYN2_ANY for loss in ("sparsemax", "entmax", "rankmax")},
    **{("DYN-2", f"{loss}/lr=1/L"): _DYN2_ONE for loss in ("sparsemax", "rankmax", "entmax")},
    ("DYN-3", "sop-vs-wop"): _EXP + r": softmax against sparsemax, 1.5-entmax and rankmax on test NDCG@20",
    ("APX-1", "ssm/uniform"): _SSM + r", uniform proposal; “shrink” read as non-increasing in $m$",
    ("APX-1", "ssm/ideal"): _SSM + r", ideal proposal $\propto \exp(\theta)$",
    ("APX-1", "nce/c=logZ"): _NCE + r" with the exact normalizer $c = \log Z$; “shrink” read as non-increasing "
                                    r"in $k$",
    ("APX-1", "nce/c=0"): (r"NCE self-normalized, a fixed $c = 0$ (Mnih & Teh 2012): a case where APX-3 itself "
                           r"expects a bias that does not vanish"),
    ("APX-1", "hsm/balanced-H2"): r"hierarchical softmax (Morin & Bengio 2005), balanced tree, reading H2",
    ("APX-1", "rg2"): r"RG$^2$ of Pu et al. 2025 (the paper's authors)",
    ("APX-1", "rgx"): r"RG$\times$ of Pu et al. 2025 (the paper's authors)",
    ("APX-2", "ssm/uniform"): _SSM + r", uniform proposal, exact at small $n$",
    ("APX-2", "ssm/ideal"): r"the “exactly when” part, after Bengio & Senécal 2008 and Blanc & Rendle 2018",
    ("APX-2", "ssm/popularity@n=100000"): _LARGE,
    ("APX-2", "ssm/uniform@n=100000"): _LARGE,
    ("APX-3", "nce/c=logZ"): _NCE + r" with the exact normalizer",
    ("APX-3", "nce/c=0"): r"the “wrong fixed $c$” case: $c = 0$, self-normalized (Mnih & Teh 2012)",
    ("APX-3", "nce/population"): (r"the population reading of Gutmann & Hyvärinen 2010 (the minimizer, not the "
                                  r"gradient)"),
    ("APX-4", "hsm/H2"): r"reading H2: HSM as an approximation of the softmax over the same item vectors",
    ("APX-4", "hsm/H1"): r"reading H1: free node scores, a different model compared by its best fit",
    ("APX-5", "rg2/scale"): r"spread shrunk along a ray $\theta = s\,\theta_0$, $s \to 0$",
    ("APX-5", "rgx/scale"): r"spread shrunk along a ray $\theta = s\,\theta_0$, $s \to 0$",
    ("APX-5", "rgx/spread"): r"spread ($\max - \min$) shrunk with the mean score left free",
    ("APX-5", "rg2/spread"): r"spread ($\max - \min$) shrunk with the mean score left free",
    ("APX-5", "rg2/squared-loss"): r"the closed form of RG$^2$ in Pu et al. 2025",
    ("APX-6", "sgd"): (r"the abstract's “convergence guarantees” read as the neighbourhood bound of biased SGD, on "
                       r"strongly convex softmax regression"),
    **{("CPX-1", m): _CPX1 for m in ("softmax", "sparsemax", "entmax-1.5", "rankmax", "ssm/uniform",
                                       "ssm/popularity", "nce", "hsm", "rg2/als")},
    ("CPX-2", "softmax-undominated"): _EXP + r": no method both cheaper per epoch and as accurate as softmax",
    ("CPX-2", "approximations-cheaper"): (r"the experiment as trained, against a softmax computed once per user "
                                          r"for all of that user's interactions"),
    ("CPX-2", "approximations-cheaper/per-interaction"): (r"against a softmax computed per interaction, the "
                                                          r"$O(Nnd)$ cost model of CPX-1"),
    ("EXP-1", "softmax"): _EXP1 + r"softmax above every other method",
    **{("EXP-1", m): _EXP1 + r"below softmax, as a WOP loss (CON-3) whose gradient reaches only the support (DYN-1)"
       for m in ("sparsemax", "entmax-1.5", "rankmax")},
    **{("EXP-1", m): _EXP1 + r"below softmax, as a biased approximation (APX-2 to APX-5)"
       for m in ("ssm/uniform", "ssm/popularity", "nce", "hsm", "rg2/als", "rg2/sgd")},
    ("EXP-1", "rg2/als-authors"): _EXP1 + r"below softmax, RG$^2$ in the form of the authors' public code",
    ("EXP-1", "popularity"): _EXP1 + r"the popularity ranking below every learned model (a calibration baseline)",
}

#: (claim id or None for any, pattern over the reading, origin): readings named by a rule, not one by one
#: readings the paper may not intend (a literal or narrow reading): flagged beside their origin in print
UNINTENDED: frozenset[tuple[str, str]] = frozenset({
    ("FY-4", "entmax[alpha>2]"), ("DYN-2", "sparsemax"), ("DYN-2", "entmax"), ("DYN-2", "rankmax"),
    ("APX-1", "nce/c=0"), ("APX-4", "hsm/H1"), ("CPX-2", "approximations-cheaper")})

READING_PATTERNS: tuple[tuple[str | None, re.Pattern[str], str], ...] = (
    (None, re.compile(r"^user:"), r"your proposed loss (softmax-audit audit-loss), decided as the paper's "
                                  r"claim for it; see Proposed loss below"),
    (None, re.compile(r"(^|[/\-\[])R2($|[/\-\]])"),
     r"reading R2 of rankmax (Kong et al. 2020): a per-example scale puts the labelled items in the top $k$"),
)


def origin_of(claim_id: str, reading: str) -> str | None:
    """Where the reading comes from (marked text), or None when neither table names it."""
    hit = READING_ORIGINS.get((claim_id, reading))
    if hit is not None:
        return hit
    for cid, pattern, origin in READING_PATTERNS:
        if (cid is None or cid == claim_id) and pattern.search(reading):
            return origin
    return None


def missing(claims: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every claim id without plain words and every “ID[reading]“ without an origin."""
    out: list[str] = []
    for row in claims:
        cid, reading = str(row.get("id", "")), str(row.get("reading", ""))
        if cid not in CLAIM_WORDS and cid not in out:
            out.append(cid)
        if origin_of(cid, reading) is None:
            out.append(f"{cid}[{reading}]")
    return out


# ----------------------------------------------------------------------------- glossary

#: the glossary: (heading, ((term, plain definition), ...)), marked text, in the order of print
GLOSSARY: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Claim groups", (
        ("FY", r"Fenchel–Young: claims on the losses themselves, $L_\Omega(\theta; y) = \Omega^*(\theta) + "
               r"\Omega(y) - \langle\theta, y\rangle$ for a regularizer $\Omega$."),
        ("CON", "consistency: claims that minimizing the expected loss gives the best classification or ranking."),
        ("DYN", "dynamics: claims on gradients and on how gradient descent converges."),
        ("APX", "approximate softmax: the bias and variance of the cheaper estimates of its gradient."),
        ("CPX", "complexity: the cost of one training epoch."),
        ("EXP", "the paper's representative experiment (top-$K$ recommendation)."),
    )),
    ("Readings", (
        ("SOP, WOP", r"strictly, weakly order preserving: a higher score (or label probability) gives a strictly "
                     r"higher, or at least as high, output."),
        ("L1, L2", r"two ways to turn graded relevance $r$ into a label (CON-2): L1 summed (one term per relevant "
                   r"item, weighted by its gain $2^r - 1$), L2 normalized (the gains divided by their sum, unit "
                   r"weight)."),
        ("O1, O2", r"two readings of order preservation (CON-3): O1 of the prediction map $\hat y(\theta)$, O2 of the "
                   r"minimizers of the expected loss."),
        ("H1, H2", r"two readings of HSM: H1 free node scores (a different model), H2 node vectors the mean of their "
                   r"leaves' item vectors (an approximation of the softmax)."),
        ("R1, R2", r"two readings of rankmax: R1 projects $\theta$ on $C_k = \{p \in [0,1]^n : \sum_j p_j = k\}$ at a "
                   r"fixed $k$; R2 (Kong et al. 2020) projects $a\theta$ with a per-example scale $a$."),
        ("reading", "one precise statement of a claim; a claim can have several, each decided on its own."),
    )),
    ("Rankmax reading R2, where it has no row", _R2_NOT_APPLICABLE),
    ("Methods and measures", (
        ("SSM", r"sampled softmax: the softmax over the positive and $m$ sampled negatives, with the $\log Q$ "
                r"correction."),
        ("NCE", r"noise-contrastive estimation: telling data from $k$ noise samples, with a normalizer $c$."),
        ("HSM", "hierarchical softmax: a product of binary decisions along the class's path in a tree."),
        ("RG$^2$, RG$\\times$", r"the Ranking-Generalizable losses (Pu et al. 2025): a second-order Taylor "
                                r"expansion of logsumexp; RG$\times$ keeps the interaction term, RG$^2$ drops it and "
                                r"becomes a weighted squared loss, solvable by ALS."),
        ("KKT", "Karush–Kuhn–Tucker: the optimality conditions of a constrained problem."),
        ("FD", "finite differences: a numeric derivative, compared with the analytic one."),
        ("NDCG@$k$", r"normalized discounted cumulative gain of the top $k$: DCG, $\sum_{\mathrm{pos}} (2^{r} - 1) / "
                     r"\log_2(1 + \mathrm{pos})$, over its best value (1 for the ideal order)."),
        ("MSE", r"mean squared error of a gradient estimate: $\mathrm{bias}^2 + \mathrm{variance}$."),
        ("MF, ALS", "matrix factorization; alternating least squares."),
        ("GD, SGD", "gradient descent; stochastic gradient descent."),
        ("KL, SSE", "Kullback–Leibler divergence; sum of squared errors."),
        ("BPR, EASE, ItemKNN", "Bayesian personalized ranking; two calibration baselines (a closed-form linear item "
                               "model, item nearest neighbours)."),
        ("Bayes predictor", r"the scores that minimize the expected loss under the label distribution $\eta$."),
        ("notation", r"$\theta$ scores, $\hat y(\theta)$ prediction, $\eta$ label distribution, $n$ classes or items, "
                     r"$m$ or $k$ samples, $N$ interactions, $U$ users, $d$ dimensions."),
    )),
    ("Terms of this report", (
        ("planted defect", "a realistic bug injected into the code a check audits; a check that holds must fail on "
                           "it, which shows it could have failed."),
        ("planted truth", "an input where the claim is known to hold; a check that fails or stays undecided must "
                          "hold on it."),
        ("resolution", "the smallest planted defect a numeric check is shown to catch."),
        ("re-checked", "a counterexample recomputed from results.json alone by an independent script "
                       "(softmax-audit recheck, numpy only)."),
        ("scope", "the limits of a row's evidence (the sizes, points, data and grids it was drawn from), printed "
                  "under its line of the verdict table and on its page."),
        ("scope gap", "the part of a statement a symbolic derivation does not cover; a row with one is at most "
                      "supported."),
        ("profile", "quick or full: the budgets of a run (samples, grids, splits); this run's is printed above."),
        ("counted operations", "arithmetic operations counted on each operator's shapes (2 per multiply-add), the "
                               "same on every machine, unlike timings; the FLOPs of this report."),
        ("false-alarm budget", "one probability of any false statistical decision, shared by every statistical check."),
        ("plausible configuration", "a tuning configuration that validation cannot separate from the best one."),
    )),
)


# ----------------------------------------------------------------------------- the view the template reads

def _verdict_word(v: Any) -> str:
    v = str(v)
    return rf"\verdictword{{{v}}}" if v in _VERDICT_COLOURS else rf"\textbf{{{escape(v)}}}"


def front_matter(claims: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The view of front.tex.j2: per claim id (in registry order, as the rows come) its plain words
    and its readings grouped by origin (in order of first appearance), each reading linked to its
    page (``claim-i``, numbered as views.row_views numbers rows) with its verdict, and a group
    flagged when its readings are ones the paper may not intend; and the glossary."""
    summary: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(claims, 1):
        cid, reading = str(row.get("id", "")), str(row.get("reading", ""))
        entry = by_id.get(cid)
        if entry is None:
            words = CLAIM_WORDS.get(cid)
            entry = by_id[cid] = {"id": escape(cid), "words": marked(words) if words else r"\emph{no summary entry}",
                                  "groups": []}
            summary.append(entry)
        origin = origin_of(cid, reading)
        text = marked(origin) if origin else r"\emph{no summary entry}"
        flag = (cid, reading) in UNINTENDED
        group = next((g for g in entry["groups"] if (g["origin"], g["unintended"]) == (text, flag)), None)
        if group is None:
            group = {"origin": text, "unintended": flag, "readings": []}
            entry["groups"].append(group)
        group["readings"].append({"i": i, "reading": escape(reading), "verdict": _verdict_word(row.get("verdict"))})
    return {"summary": summary,
            "glossary": [(escape(h), [(marked(t), marked(d)) for t, d in terms]) for h, terms in GLOSSARY]}
