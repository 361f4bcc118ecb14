"""FY-1 … FY-4: the exact family as Fenchel–Young losses (CLAIMS.md §1)."""
from __future__ import annotations

from audit.members import member

from ..claim import Claim, numeric, share_derivations, symbolic, truth_derivation

FY_LOSSES = ("softmax", "sparsemax", "entmax", "rankmax")

_FY_READING_NOTE = {
    "softmax": r"$\Omega(p) = \sum_j p_j \log p_j$ on the simplex",
    "sparsemax": r"$\Omega(p) = \tfrac12 \lVert p \rVert^2 - \tfrac12$ on the simplex",
    "entmax": r"Tsallis $\Omega(p) = (\sum_j p_j^\alpha - 1)/(\alpha(\alpha-1))$ on the simplex, $\alpha > 1$",
    "rankmax": r"$\Omega(p) = \tfrac12 \lVert p \rVert^2$ on $C_k = \{p \in [0,1]^n : \sum_j p_j = k\}$ "
               "(reading R1, fixed scale)",
}

_CONJ = r"$\Omega^*(\theta) = \langle \theta, \hat y \rangle - \Omega(\hat y)$ and $\nabla\Omega^* = \hat y$."
_FY1 = {
    "softmax": r"$\hat y = \operatorname{softmax}(\theta)$ and $\Omega^* = \operatorname{logsumexp}$ follow from "
               r"the KKT conditions; " + _CONJ,
    "sparsemax": r"$\hat y = [\theta - \tau]_+$ (Euclidean projection on the simplex) follows from the KKT "
                 r"conditions; " + _CONJ,
    "entmax": r"$\hat y = [(\alpha-1)\theta - \tau]_+^{1/(\alpha-1)}$ follows from the KKT conditions for every "
              r"$\alpha > 1$; " + _CONJ,
    "rankmax": r"$\hat y = \operatorname{clip}(\theta - \tau, 0, 1)$ (Euclidean projection on $C_k$) follows from "
               r"the KKT conditions; " + _CONJ,
}
_FY2 = (r"$L(\theta; y) \ge 0$; $L = 0 \iff y = \hat y(\theta)$; $L$ is convex in $\theta$; "
        r"$\nabla_\theta L = \hat y(\theta) - y$; $L(\theta + c\mathbf{1}; y) = L(\theta; y)$.")
_FY3 = {
    "softmax": r"Softmax has no separation margin: $L(\theta; e_y) > 0$ for every finite $\theta$.",
    "sparsemax": r"$L(\theta; e_y) = 0 \iff \theta_y \ge \max_{j \ne y} \theta_j + 1$ (margin 1).",
    "entmax": r"$\alpha$-entmax has margin $1/(\alpha-1)$: "
              r"$L(\theta; e_y) = 0 \iff \theta_y \ge \max_{j \ne y} \theta_j + 1/(\alpha-1)$.",
    "rankmax": r"Rankmax has margin 1: for a multi-hot $y$ with $k$ labels, "
               r"$L(\theta; y) = 0 \iff \min_{i \in Y} \theta_i \ge \max_{j \notin Y} \theta_j + 1$ "
               r"($k = 1$: the sparsemax margin).",
}
_ENTMAX_FY4_NOTE = ("symbolic: two-point and uniform supports only (sup λ_max = 2^{α−2} derived there for every "
                    "α ∈ (1, 2]); supports of three or more points with unequal values rest on the numeric search")
_SUP = r"$\sup_\theta \lambda_{\max}(J_{\hat y}(\theta))"
_FY4 = {
    "softmax": r"$\nabla L$ is Lipschitz with constant " + _SUP + r" = \tfrac12$ for softmax.",
    "sparsemax": r"$\nabla L$ is Lipschitz with constant " + _SUP + r" = 1$ for sparsemax.",
    "entmax": r"For $1 < \alpha \le 2$, $\alpha$-entmax's $\nabla L$ is Lipschitz with constant $2^{\alpha-2}$, "
              r"between softmax's $\tfrac12$ and sparsemax's 1.",
    "rankmax": r"$\nabla L$ is Lipschitz with constant " + _SUP + r" = 1$ for rankmax.",
    "entmax[alpha>2]": r"The claim '$\alpha$-entmax's constant lies between softmax's $\tfrac12$ and sparsemax's 1' "
                       r"read for every $\alpha > 1$ (the family's stated range), here $\alpha > 2$.",
}


# -- scope: the limits of each row's evidence (Claim.scope), read off its checks
_SYM_PARAMS = {"softmax": "", "sparsemax": "", "entmax": r" and every $\alpha > 1$", "rankmax": r" and every $k$"}
_NUM_GRID = {"softmax": "", "sparsemax": "", "entmax": r"; $\alpha \in \{1.25, 1.5, 1.75, 2.5\}$",
             "rankmax": r"; $k \in \{1, 2, 3\}$"}
_SCOPE = {
    "FY-1": r"symbolic: every $n$ (KKT blocks of symbolic size){sym}; numeric: cvxpy at hypothesis-drawn $\theta$, "
            r"$n \le 200${grid}",
    "FY-2": r"symbolic: every $n${sym}; numeric: hypothesis-drawn $\theta$ and labels, $n \le 24${grid}",
    "FY-3": r"symbolic: any $n$ (a generic pair){sym}; numeric: $n \in \{2, 3, 10\}$ at the margin "
            r"$\pm 10^{-3}$ and $\pm 10^{-6}${grid}",
    "FY-4": r"symbolic: every $n${sym}; numeric: a search for the supremum, $n = 2, \dots, 6${grid}",
}
_SCOPE_ROW = {
    ("FY-3", "softmax"): r"symbolic: every $n$; numeric: $n \in \{2, 3, 10, 50\}$, margins up to 600 (float64)",
    ("FY-4", "entmax"): r"symbolic: two-point and uniform supports only, every $\alpha \in (1, 2]$; numeric: a search "
                        r"for the supremum, $n = 2, \dots, 6$, four values of $\alpha$",
    ("FY-4", "entmax[alpha>2]"): r"counterexample: uniform $\theta$, $n = 3$ (symbolic at $\alpha = 3$, numeric at "
                                 r"$\alpha = 2.5$); symbolic in $\alpha > 2$ on uniform supports",
}


def scope(cid: str, loss: str) -> str:
    """The row's scope (Claim.scope): the sizes and grids its checks ran on."""
    if (cid, loss) in _SCOPE_ROW:
        return _SCOPE_ROW[cid, loss]
    return _SCOPE[cid].replace("{sym}", _SYM_PARAMS[loss]).replace("{grid}", _NUM_GRID[loss])


#: FY-3: the margin each row states (reports/rechecks/fy.py compares a counterexample's gap with it);
#: entmax's 1/(α−1) as its product with α − 1
FY3_CONSTANTS = {"softmax": {"margin": None}, "sparsemax": {"margin": 1}, "rankmax": {"margin": 1},
                 "entmax": {"margin_times_alpha_minus_1": 1}}
#: FY-4: the constant each row states (entmax: lipschitz_base ** (α + lipschitz_alpha_offset) = 2^{α−2});
#: for α > 2 the upper end 1 of "between softmax's ½ and sparsemax's 1"
FY4_CONSTANTS = {"softmax": {"lipschitz": 0.5}, "sparsemax": {"lipschitz": 1}, "rankmax": {"lipschitz": 1},
                 "entmax": {"lipschitz_base": 2, "lipschitz_alpha_offset": -2},
                 "entmax[alpha>2]": {"lipschitz_upper": 1}}


def claims() -> list[Claim]:
    from numerics.fy import checks as num
    from proofs.fy import api as sym
    from proofs.fy.smoothness import ENTMAX_GAP

    from . import planted as pf
    from ..planted import tempered

    out: list[Claim] = []
    for loss in FY_LOSSES:
        tail = f" [{_FY_READING_NOTE[loss]}]"
        out.append(Claim("FY-1", loss, _FY1[loss] + tail, (
            symbolic("kkt-conjugate", sym.conjugate, loss, planted=[pf.conjugate_slip(loss)]),
            numeric("cvxpy-argmax", num.cvx_agreement, loss,
                    planted=[tempered(loss), pf.tempered_formula(loss, resolution=True)]),
        ), scope=scope("FY-1", loss)))
    for loss in FY_LOSSES:
        tail = f" [{_FY_READING_NOTE[loss]}]"
        out.append(Claim("FY-2", loss, _FY2 + tail, (
            symbolic("fy-gradient-shift-convexity", sym.loss_properties, loss, planted=[pf.conjugate_slip(loss)]),
            symbolic("hessian-psd", sym.hessian, loss, planted=[pf.hessian_slip(loss)]),
            numeric("properties", num.loss_properties, loss, planted=[pf.tempered_formula(loss, resolution=True)]),
        ), scope=scope("FY-2", loss)))
    for loss in FY_LOSSES:
        num_planted = ([pf.flushed_softmax(1e-6), pf.flushed_softmax(1e-13, resolution=True)] if member(loss).dense
                       else [tempered(loss), pf.margin_table_typo(loss)])
        out.append(Claim("FY-3", loss, _FY3[loss], (
            symbolic("margin", sym.margin, loss, planted=[pf.margin_slip(loss)]),
            numeric("margin-eps", num.margin_check, loss, planted=num_planted),
        ), constants=FY3_CONSTANTS[loss], scope=scope("FY-3", loss)))
    for loss in FY_LOSSES:
        gap = {"scope_gap": ENTMAX_GAP, "covers": pf.entmax_fy4_covers} if member(loss).tsallis else {}
        out.append(Claim("FY-4", loss, _FY4[loss], (
            symbolic("lipschitz-constant", sym.smoothness, loss, planted=[pf.lipschitz_slip(loss)], **gap),
            numeric("jacobian-eigen-search", num.smoothness_check, loss, planted=[pf.constant_typo()]),
        ), constants=FY4_CONSTANTS[loss], scope=scope("FY-4", loss),
            **({"expected": "supported", "note": _ENTMAX_FY4_NOTE} if member(loss).tsallis else {})))
    out.append(Claim(
        "FY-4", "entmax[alpha>2]", _FY4["entmax[alpha>2]"],
        (
            symbolic("lipschitz-constant", sym.smoothness, "entmax", "gt2", expect="fails",
                     truths=[truth_derivation(pf.GT2_SYMBOLIC_TRUTH, sym.smoothness, "entmax", "le2")]),
            numeric("jacobian-eigen-search", num.smoothness_check, "entmax", alpha_range="gt2", expect="fails",
                    truths=[pf.gt2_grid_truth()]),
        ),
        expected="refuted",
        note="for α > 2 the uniform support of size m gives λ_max = m^{α−2} > 1 (e.g. α = 3, θ = 0 ∈ R³: λ_max = 3)",
        constants=FY4_CONSTANTS["entmax[alpha>2]"], scope=scope("FY-4", "entmax[alpha>2]"),
    ))
    return share_derivations(out)
