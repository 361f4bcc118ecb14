"""CON-1 (top-k calibration) and CON-2 (DCG consistency) of the exact FY losses (CLAIMS.md §2).

Planted defects and truths: reports/con/planted.py (and the reversed and tempered prediction
maps of reports/planted.py).  Row constants (read by reports/rechecks/con.py): the loss, its
$\alpha$ grid (entmax), the label map and the gains $G(r) = 2^r - 1$ (CON-2), and how the
rankmax $k$ is fixed (the label's size)."""
from __future__ import annotations

from audit.members import member

from ..claim import Claim, numeric, share_derivations, symbolic

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

#: the α grid of the entmax rows (quick: 1.5, 2.5; full: all five), typed from the statement
ALPHA_GRID = [1.25, 1.5, 2.0, 2.5, 3.0]


def con1_constants(loss: str) -> dict:
    """CON-1: the loss; rankmax's k is the size of its label subsets (the mass of η); the
    α grid of entmax."""
    out: dict = {"loss": loss}
    if member(loss).capped:
        out["loss_k"] = "label size"
    if member(loss).tsallis:
        out["alphas"] = list(ALPHA_GRID)
    return out


def con2_constants(loss: str, label_map: str) -> dict:
    """CON-2: the loss, the label map, the gains G(r) = gain_base^r − 1 (2^r − 1); the α
    grid of entmax; rankmax's k is the number of relevant items of the multi-hot label."""
    out: dict = {"loss": loss, "label_map": label_map, "gain_base": 2}
    if member(loss).tsallis:
        out["alphas"] = list(ALPHA_GRID)
    if member(loss).capped:
        out["loss_k"] = "relevant items"
    return out


_L2_NOTE = ("with the normalized label G(r)/ΣG(r) the Bayes-optimal scores sort E[G(r)/ΣG(r)], not E[G(r)]: "
            "D = {0.4: r = (0,2,0), 0.6: r = (0,0,1)} has E[G] = (0, 1.2, 0.6) but ŷ = (0, 0.4, 0.6), so every "
            "Bayes-optimal ranking puts item 3 above item 2 and loses E[DCG] ≈ 0.2214 (symbolic route, exact); the "
            "numeric route minimizes the L2 risk by cvxpy on hypothesis-drawn laws and finds its own counterexample "
            "(a pair of adjacent gain levels whose half-space reaches inf R), re-checked each run")


# -- scope: the limits of each row's evidence (Claim.scope), read off its checks
_ALPHAS_RUN = r"; numeric $\alpha \in \{1.5, 2.5\}$ (quick), five values (full)"
_CON1_SCOPE = {
    "softmax": r"symbolic: every $n$, $k < n$ and label law; numeric: certificates at $\eta$ on a grid, $n \le 6$",
    "rankmax": r"symbolic: every $n$ and $k' < n$; numeric: certificates for $k$-subset label laws of 1 to 3 atoms, "
               r"$n \le 6$",
}
_CON1_SCOPE["sparsemax"] = _CON1_SCOPE["softmax"]
_CON1_SCOPE["entmax"] = _CON1_SCOPE["softmax"].replace("label law;", r"label law, every $\alpha > 1$;") + _ALPHAS_RUN
_CON2_SCOPE = (r"symbolic: every $n$ and law $D$ (any grades); numeric: hypothesis-drawn laws, $n \le 5$, 1 to 3 atoms, "
               r"grades $r \in \{0, 1, 2\}$")
_CON2_MULTIHOT_SCOPE = (r"binary relevance with the same $k$ in every draw (the reading); symbolic: every $n$ and "
                        r"such $D$; numeric: hypothesis-drawn such laws, $n \le 5$, 1 to 3 atoms")


def claims() -> list[Claim]:
    from numerics.con import consistency as num
    from numerics.con import dcg
    from proofs.con import consistency as sym

    from . import planted as pc

    out: list[Claim] = []
    for loss in CON_LOSSES:
        out.append(Claim("CON-1", loss, _CON1[loss], (
            symbolic("properness", sym.properness, loss, planted=[pc.unweighted_target()]),
            symbolic("halfspace-gap", sym.topk_calibration, loss, planted=[pc.flat_regularizer()]),
            numeric("topk-certificate", num.topk_calibration, loss, planted=pc.certificate_planted(loss)),
        ), constants=con1_constants(loss), scope=_CON1_SCOPE[loss]))
    for loss in ("softmax", "sparsemax", "entmax"):
        for m in ("L1", "L2"):
            stmt = (f"{_NAME.get(loss, loss.capitalize())} loss with {_MAP[m]} is "
                    f"DCG-consistent: sorting its Bayes-optimal scores maximizes {_EDCG} for every relevance law $D$ "
                    f"(worst ranking over the minimizer set, ties broken every way).")
            if m == "L1":  # can hold: planted defects
                sym_opts = {"planted": pc.bayes_order_planted(loss, m)}
                num_opts = {"planted": pc.enumeration_planted(loss, m)}
            else:  # refuted: planted truths (the L2 entry patched to the summed map)
                sym_opts = {"expect": "fails", "truths": pc.l2_truths("bayes-order")}
                num_opts = {"expect": "fails", "truths": pc.l2_truths("dcg-enumeration")}
            checks = (
                symbolic("bayes-order", sym.dcg_consistency, loss, m, **sym_opts),
                numeric("dcg-enumeration", dcg.dcg_consistency, loss, m, **num_opts),
            )
            scope = _CON2_SCOPE + (_ALPHAS_RUN if member(loss).tsallis else "")
            if m == "L1":
                out.append(Claim("CON-2", f"{loss}/L1", stmt, checks, constants=con2_constants(loss, m), scope=scope))
            else:
                out.append(Claim("CON-2", f"{loss}/L2", stmt, checks, expected="refuted", note=_L2_NOTE,
                                 constants=con2_constants(loss, m), scope=scope))
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
        ), constants=con2_constants("rankmax", "multihot"), scope=_CON2_MULTIHOT_SCOPE))
    return share_derivations(out)
