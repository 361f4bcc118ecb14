"""FY-1 … FY-3, CON-1 and CON-2 under rankmax reading R2 (CLAIMS.md §1-2; Kong et al., NeurIPS 2020; losses/rankmax.py).

R2 projects ``aθ`` on C_k with a per-example scale a(θ, y), the largest a ≤ A = 1000 at which every
label keeps mass.  What that changes (proofs/fy/rankmax_r2.py): at each fixed a the loss is a times the
FY loss of Ω_a = ‖p‖²/(2a), so FY-1 holds at fixed a; but a depends on θ and y, so in θ the loss is
not convex, its gradient is not ŷ − y (it is flat wherever the lowest label sits on the threshold),
and its zero set starts at the gap 1/A, not 1.  The expected loss is not convex either, so CON-1 and CON-2 are decided by
an exact piecewise analysis on n = 3, k = 1 (proofs/con/rankmax_r2.py), with a grid search re-evaluated in rationals
beside it (numerics/con/rankmax_r2.py).  Claims that do not apply to R2 say why in
:data:`NOT_APPLICABLE` (printed in the appendix's front matter, reports/front.py)."""
from __future__ import annotations

from ..claim import Claim, numeric, share_derivations, symbolic

_R2 = (r"rankmax reading R2: $L_{R2}(\theta; y) = L_{C_k}(a\theta; y)$ with "
       r"$a = a(\theta, y) = \sup\{a \in (0, A] : \Pi_{C_k}(a\theta)_i > 0 \ \forall i \in Y\}$, $A = 1000$, "
       r"$y$ multi-hot with $k$ labels $Y$")
CONSTANTS = {"a_max": 1000}

_FY1 = (r"At each fixed scale $a > 0$, $L_{R2}(\theta; y) = a\,L_{\Omega_a}(\theta; y)$, where "
        r"$\Omega_a(p) = \lVert p\rVert^2/(2a)$ on $C_k$ has the map $\hat y_a(\theta) = \operatorname{clip}(a\theta "
        r"- \tau, 0, 1)$ and conjugate $\Omega_a^*(\theta) = \langle\theta, \hat y_a\rangle - \Omega_a(\hat y_a) = "
        r"\Omega^*(a\theta)/a$, from the KKT conditions; the map at $a(\theta, y)$ depends on the label. [" + _R2 + "]")
_FY2 = (r"$L_{R2}(\theta; y) \ge 0$; $L_{R2} = 0 \iff y = \hat y$; $L_{R2}$ is convex in $\theta$; "
        r"$\nabla_\theta L_{R2} = \hat y - y$; $L_{R2}(\theta + c\mathbf{1}; y) = L_{R2}(\theta; y)$, with "
        r"$\hat y = \Pi_{C_k}(a(\theta, y)\theta)$. [" + _R2 + "]")
_FY3 = (r"Rankmax under R2 has margin 1: $L_{R2}(\theta; y) = 0 \iff \min_{i \in Y} \theta_i \ge "
        r"\max_{j \notin Y} \theta_j + 1$. [" + _R2 + "]")

_CON2 = (r"Rankmax under R2 with the multi-hot label (binary relevance, the same number $k$ of relevant items in every "
         r"draw) is DCG-consistent: sorting the Bayes-optimal scores of $R(\theta) = \mathbb{E}_D[L_{R2}(\theta; y)]$ "
         r"maximizes $\mathbb{E}_D[\mathrm{DCG}]$ for every such $D$. [" + _R2 + "]")

_CON1 = (r"Rankmax under R2 (labels are $k$-subsets, here one relevant item: $k = 1$) is top-$k'$ calibrated for "
         r"every $k' < n$: $\inf\{R(\theta) : \theta \text{ not top-}k'\text{ preserving for } \eta\} > \inf R$ "
         r"for every $\eta$ (Yang & Koyejo 2020). [" + _R2 + "]")
_CON1_NOTE = ("top-1 calibrated on all four laws, top-2 not: at eta = (4/5, 1/20, 3/20) the risk's infimum 0.159559 is "
              "reached with item 2 (eta 1/20) above item 3 (eta 3/20), i.e. off top-2 preservation, while the "
              "top-2 preserving orderings stay at or above 0.163816 (the same infima as CON-2[rankmax/R2/multihot])")

_FY2_NOTE = ("in θ the R2 loss is not convex and its gradient is not ŷ − y: n = 2, k = 1, y = e_1, θ = (t, 0) gives "
             "L = 1 for t ≤ −1/A (the label on the threshold at a = −1/t), then (1 − At)²/4, then 0; so L(−2, 0) = 1, "
             "L(1, 0) = 0 but L(−1/2, 0) = 1, and the slope is 0 where ŷ − y = (−1, 1) (losses/ backpropagates "
             "a(ŷ − y) with a held fixed, the gradient of neither). L ≥ 0, L = 0 iff y = Π(aθ) and the shift "
             "invariance hold (FY at aθ)")
_FY3_NOTE = ("a label set on top keeps mass at every scale, so a = A = 1000 and L = 0 once A·gap ≥ 1: the margin in θ "
             "is 1/A (0.001), 1 only in aθ; θ = (1/2, 0), y = e_1 has zero loss at gap 1/2 (both routes; the "
             "numeric one finds L = 0 from gap 0.001)")

_CON2_NOTE = ("each label gets its own scale, so a label whose item sits low is scored at the scale where it just "
              "keeps mass and its loss no longer grows with its gap: at eta = (4/5, 1/20, 3/20) (n = 3, k = 1) the risk "
              "falls to 0.159559 by ranking item 2 (eta 1/20) above item 3 (eta 3/20) and letting item 3 recede, while "
              "every ranking that sorts eta stays at or above 0.163816 (R1's Bayes risk is 0.1675): every minimizing "
              "sequence inverts the pair and loses E[DCG]. Three other laws hold. A finding about our reconstruction "
              "of R2 (the sharpest scale at which every label keeps mass, capped at A)")

#: claims of CLAIMS.md with no R2 row, and why (marked text; the appendix's front matter prints them)
NOT_APPLICABLE: tuple[tuple[str, str], ...] = (
    ("FY-4", r"not a claim about R2: $L_{R2}$ is not differentiable in $\theta$ (its slope jumps from 0 to $-A$ at "
             r"$t = -1/A$ in the FY-2 case), and at a fixed scale the constant is $a^2 \le A^2$, fixed by the cap "
             r"rather than by the loss."),
    ("CON-3", r"not a separate claim under R2: reading O1 is the prediction map, which without a label is R1's "
              r"(the scale needs the label), and reading O2's weak order preservation of the Bayes minimizers is, "
              r"with one relevant item, exactly what CON-2[rankmax/R2/multihot] decides (it fails there)."),
    ("DYN, APX, CPX, EXP", r"about softmax and the losses as trained; the experiment trains rankmax in reading R1."),
)


#: the limits of each row's evidence (Claim.scope)
_SCOPE_FY1 = (r"symbolic: every $n$ and $k$ at a fixed scale $a > 0$; numeric: $n \in \{2, 3, 4, 6\}$, "
              r"$k \in \{1, 2, 3\}$, $k < n$, scores at spreads $10^{-3}$, 1 and 10, cap $A = 1000$")
_SCOPE_FY2 = (r"symbolic: the counterexample on $n = 2$, $k = 1$ (the other properties for every $n$); numeric: "
              r"$n \in \{2, 3, 4, 6\}$, $k \in \{1, 2, 3\}$, $k < n$, exact one-sided slopes")
_SCOPE_CON2 = (r"symbolic: exact infima of the risk on every ordering, $n = 3$, $k = 1$, the laws $\eta \in "
               r"\{(\tfrac12, \tfrac3{10}, \tfrac15), (\tfrac45, \tfrac1{20}, \tfrac3{20}), (\tfrac7{10}, \tfrac15, "
               r"\tfrac1{10}), (\tfrac25, \tfrac7{20}, \tfrac14)\}$; numeric: a grid search with exact re-evaluation "
               r"on the same laws, cap $A = 1000$")
_SCOPE_CON1 = (r"$k' \in \{1, 2\}$, $n = 3$, $k = 1$, the four laws of CON-2[rankmax/R2/multihot]; symbolic: exact "
               r"infima on every ordering; numeric: a grid search with exact re-evaluation, cap $A = 1000$")
_SCOPE_FY3 = (r"symbolic: $n = 2$, $k = 1$; numeric: a scan of gaps around 1 on $n \in \{2, 3, 4, 6\}$, "
              r"$k \in \{1, 2, 3\}$, $k < n$, cap $A = 1000$")


def claims() -> list[Claim]:
    from numerics.fy import rankmax_r2 as num
    from numerics.con import rankmax_r2 as num_con
    from proofs.fy import rankmax_r2 as sym
    from proofs.con import rankmax_r2 as sym_con

    from . import planted as pr

    out = [
        Claim("FY-1", "rankmax/R2", _FY1, (
            symbolic("kkt-fixed-scale", sym.conjugate, planted=[pr.omega_slip_symbolic()]),
            numeric("cvxpy-fixed-scale", num.conjugate_check,
                    planted=[pr.omega_slip_numeric(), pr.scale_off(0.1), pr.scale_off(1e-7, resolution=True)]),
        ), constants=CONSTANTS, scope=_SCOPE_FY1),
        Claim("FY-2", "rankmax/R2", _FY2, (
            symbolic("piecewise-n2", sym.properties, expect="fails", truths=[pr.fixed_scale_symbolic()]),
            numeric("exact-vs-torch", num.properties_check, expect="fails", truths=[pr.fixed_scale_numeric()]),
        ), expected="refuted", note=_FY2_NOTE, constants=CONSTANTS, scope=_SCOPE_FY2),
        Claim("FY-3", "rankmax/R2", _FY3, (
            symbolic("margin-n2", sym.margin, expect="fails", truths=[pr.fixed_scale_symbolic()]),
            numeric("gap-scan", num.margin_check, expect="fails", truths=[pr.fixed_scale_numeric()]),
        ), expected="refuted", note=_FY3_NOTE, constants={**CONSTANTS, "margin": 1}, scope=_SCOPE_FY3),
        Claim("CON-1", "rankmax/R2", _CON1, (
            symbolic("exact-infima-n3", sym_con.topk_calibration, expect="fails",
                     truths=[pr.fixed_scale_con_symbolic()]),
            numeric("exact-search", num_con.topk_check, expect="fails", truths=[pr.fixed_scale_numeric()]),
        ), expected="refuted", note=_CON1_NOTE, constants={**CONSTANTS, "loss_k": "label size"}, scope=_SCOPE_CON1),
        Claim("CON-2", "rankmax/R2/multihot", _CON2, (
            symbolic("exact-infima-n3", sym_con.dcg_consistency, expect="fails",
                     truths=[pr.fixed_scale_con_symbolic()]),
            numeric("exact-search", num_con.dcg_check, expect="fails", truths=[pr.fixed_scale_numeric()]),
        ), expected="refuted", note=_CON2_NOTE, constants={**CONSTANTS, "loss_k": "relevant items", "gain_base": 2},
            scope=_SCOPE_CON2),
    ]
    return share_derivations(out)
