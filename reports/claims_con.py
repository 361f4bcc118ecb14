"""CON-1 (top-k calibration) and CON-2 (DCG consistency) of the exact FY losses (CLAIMS.md §2).

Planted defects: reports/planted_con.py (and the reversed prediction map of
reports/planted.py)."""
from __future__ import annotations

from .claim import Claim, numeric, share_derivations, symbolic
from .planted import reversed_map

CON_LOSSES = ("softmax", "sparsemax", "entmax", "rankmax")

_CON1 = {
    "softmax": r"Softmax loss is top-$k$ calibrated for every $k < n$: $\inf\{R(\theta) : \theta \text{ not top-}k"
               r"\text{ preserving for } \eta\} > \inf R$ for every $\eta$.",
    "sparsemax": r"Sparsemax loss is top-$k$ calibrated for every $k < n$: $\inf\{R(\theta) : \theta \text{ not top-}k"
                 r"\text{ preserving for } \eta\} > \inf R$ for every $\eta$.",
    "entmax": r"$\alpha$-entmax loss (every $\alpha > 1$; checked on an $\alpha$ grid) is top-$k$ calibrated for every "
              r"$k < n$.",
    "rankmax": r"Rankmax loss (reading R1, fixed $k$; labels are $k$-subsets, top-$k'$ read on the marginal inclusion "
               r"probabilities $P(i \in S)$) is top-$k'$ calibrated for every $k' < n$.",
}

_MAP = {
    "L1": r"label map L1 (summed: the loss on $G(r)/\sum G(r)$ weighted by $\sum G(r)$, $G(r) = 2^r - 1$)",
    "L2": r"label map L2 (normalized: the loss on $y = G(r)/\sum G(r)$ with unit weight, the ListNet form)",
    "multihot": r"the multi-hot label $r \in C_k$ (binary relevance, the same number $k$ of relevant items in every "
                r"draw)",
}
_NAME = {"entmax": r"$\alpha$-entmax ($\alpha$ grid)"}
_EDCG = r"$\mathbb{E}_D[\mathrm{DCG}]$"

_L2_NOTE = ("with the normalized label G(r)/ΣG(r) the Bayes-optimal scores sort E[G(r)/ΣG(r)], not E[G(r)]: "
            "D = {0.4: r = (0,2,0), 0.6: r = (0,0,1)} has E[G] = (0, 1.2, 0.6) but ŷ = (0, 0.4, 0.6), so every "
            "Bayes-optimal ranking puts item 3 above item 2 and loses E[DCG] ≈ 0.2214 (symbolic route, exact); the "
            "numeric route minimizes the L2 risk by cvxpy on hypothesis-drawn laws and finds its own counterexample "
            "(a pair of adjacent gain levels whose half-space reaches inf R), re-checked each run")


def claims() -> list[Claim]:
    from numerics import consistency as num
    from numerics import dcg
    from proofs import consistency as sym

    from . import planted_con as pc

    out: list[Claim] = []
    for loss in CON_LOSSES:
        out.append(Claim("CON-1", loss, _CON1[loss], (
            symbolic("properness", sym.properness, loss, planted=[pc.unweighted_target(loss)]),
            symbolic("halfspace-gap", sym.topk_calibration, loss, planted=[pc.flat_regularizer(loss)]),
            numeric("topk-certificate", num.topk_calibration, loss,
                    planted=[pc.improper_certificate(loss), reversed_map(loss)]),
        )))
    for loss in ("softmax", "sparsemax", "entmax"):
        for m in ("L1", "L2"):
            stmt = (f"{_NAME.get(loss, loss.capitalize())} loss with {_MAP[m]} is "
                    f"DCG-consistent: sorting its Bayes-optimal scores maximizes {_EDCG} for every relevance law $D$ "
                    f"(worst ranking over the minimizer set, ties broken every way).")
            pin = {"expect": "fails"} if m == "L2" else {}
            checks = (
                symbolic("bayes-order", sym.dcg_consistency, loss, m, planted=pc.bayes_order_planted(loss, m), **pin),
                numeric("dcg-enumeration", dcg.dcg_consistency, loss, m, planted=pc.enumeration_planted(loss, m),
                        **pin),
            )
            if m == "L1":
                out.append(Claim("CON-2", f"{loss}/L1", stmt, checks))
            else:
                out.append(Claim("CON-2", f"{loss}/L2", stmt, checks, expected="refuted", note=_L2_NOTE))
    out.append(Claim(
        "CON-2", "rankmax/multihot",
        "Rankmax loss (reading R1, $k$ = number of relevant items) with " + _MAP["multihot"]
        + " is DCG-consistent: sorting its Bayes-optimal scores maximizes " + _EDCG + " for every such $D$. "
        "(Graded relevance is outside this reading: a multi-hot label cannot carry grades.)",
        (
            symbolic("bayes-order", sym.dcg_consistency, "rankmax", "multihot",
                     planted=pc.bayes_order_planted("rankmax", "multihot")),
            numeric("dcg-enumeration", dcg.dcg_consistency, "rankmax", "multihot",
                    planted=pc.enumeration_planted("rankmax", "multihot")),
        )))
    return share_derivations(out)
