"""FY-1 … FY-4: the exact family as Fenchel–Young losses (CLAIMS.md §1)."""
from __future__ import annotations

from .claim import Claim, numeric, share_derivations, symbolic, wrong_derivation, wrong_input

FY_LOSSES = ("softmax", "sparsemax", "entmax", "rankmax")

_FY_READING_NOTE = {
    "softmax": "Ω(p) = Σ p log p on the simplex",
    "sparsemax": "Ω(p) = ½‖p‖² − ½ on the simplex",
    "entmax": "Tsallis Ω(p) = (Σ p^α − 1)/(α(α−1)) on the simplex, α > 1",
    "rankmax": "Ω(p) = ½‖p‖² on C_k = {p ∈ [0,1]^n : Σp = k} (reading R1, fixed scale)",
}

_FY1 = {
    "softmax": "ŷ = softmax(θ) and Ω* = logsumexp follow from the KKT conditions; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
    "sparsemax": "ŷ = [θ − τ]_+ (Euclidean projection on the simplex) follows from the KKT conditions; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
    "entmax": "ŷ = [(α−1)θ − τ]_+^{1/(α−1)} follows from the KKT conditions for every α > 1; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
    "rankmax": "ŷ = clip(θ − τ, 0, 1) (Euclidean projection on C_k) follows from the KKT conditions; Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) and ∇Ω* = ŷ.",
}
_FY2 = "L(θ; y) ≥ 0; L = 0 ⟺ y = ŷ(θ); L is convex in θ; ∇_θ L = ŷ(θ) − y; L(θ + c·1; y) = L(θ; y)."
_FY3 = {
    "softmax": "Softmax has no separation margin: L(θ; e_y) > 0 for every finite θ.",
    "sparsemax": "L(θ; e_y) = 0 ⟺ θ_y ≥ max_{j≠y} θ_j + 1 (margin 1).",
    "entmax": "α-entmax has margin 1/(α−1): L(θ; e_y) = 0 ⟺ θ_y ≥ max_{j≠y} θ_j + 1/(α−1).",
    "rankmax": "Rankmax has margin 1: for a multi-hot y with k labels, L(θ; y) = 0 ⟺ min_{i∈Y} θ_i ≥ max_{j∉Y} θ_j + 1 (k = 1: the sparsemax margin).",
}
_ENTMAX_FY4_NOTE = ("symbolic: two-point and uniform supports only (sup λ_max = 2^{α−2} derived there for every "
                    "α ∈ (1, 2]); supports with three or more distinct values rest on the numeric search")
_FY4 = {
    "softmax": "∇L is Lipschitz with constant sup_θ λ_max(J_ŷ(θ)) = ½ for softmax.",
    "sparsemax": "∇L is Lipschitz with constant sup_θ λ_max(J_ŷ(θ)) = 1 for sparsemax.",
    "entmax": "For 1 < α ≤ 2, α-entmax's ∇L is Lipschitz with constant 2^{α−2}, between softmax's ½ and sparsemax's 1.",
    "rankmax": "∇L is Lipschitz with constant sup_θ λ_max(J_ŷ(θ)) = 1 for rankmax.",
    "entmax[alpha>2]": "The claim 'α-entmax's constant lies between softmax's ½ and sparsemax's 1' read for every α > 1 (the family's stated range), here α > 2.",
}


def claims() -> list[Claim]:
    from numerics import fy_checks as num
    from proofs import fy as sym

    from . import planted_fy as pf
    from .planted import tempered

    out: list[Claim] = []
    for loss in FY_LOSSES:
        tail = f" [{_FY_READING_NOTE[loss]}]"
        slip, cand = pf.CONJUGATE_SLIPS[loss]
        out.append(Claim("FY-1", loss, _FY1[loss] + tail, (
            symbolic("kkt-conjugate", sym.conjugate, loss,
                     planted=[wrong_derivation(slip, sym.conjugate, loss, candidate=cand)]),
            numeric("cvxpy-argmax", num.cvx_agreement, loss, planted=[tempered(loss), pf.tempered_formula(loss)]),
        )))
    for loss in FY_LOSSES:
        tail = f" [{_FY_READING_NOTE[loss]}]"
        slip, cand = pf.CONJUGATE_SLIPS[loss]
        hslip, hcand = pf.HESSIAN_SLIPS[loss]
        out.append(Claim("FY-2", loss, _FY2 + tail, (
            symbolic("fy-gradient-shift-convexity", sym.loss_properties, loss,
                     planted=[wrong_derivation(slip, sym.loss_properties, loss, candidate=cand)]),
            symbolic("hessian-psd", sym.hessian, loss,
                     planted=[wrong_derivation(hslip, sym.hessian, loss, candidate=hcand)]),
            numeric("properties", num.loss_properties, loss, planted=[pf.tempered_formula(loss)]),
        )))
    for loss in FY_LOSSES:
        mslip, mval = pf.MARGIN_SLIPS[loss]
        num_planted = pf.flushed_softmax() if loss == "softmax" else wrong_input(
            "claimed margin 1 % high", num.margin_check, loss, claimed=pf.scaled(num.MARGINS[loss], 1.01))
        out.append(Claim("FY-3", loss, _FY3[loss], (
            symbolic("margin", sym.margin, loss, planted=[wrong_derivation(mslip, sym.margin, loss, claimed=mval)]),
            numeric("margin-eps", num.margin_check, loss, planted=[num_planted]),
        )))
    for loss in FY_LOSSES:
        lslip, lval = pf.LIPSCHITZ_SLIPS[loss]
        out.append(Claim("FY-4", loss, _FY4[loss], (
            symbolic("lipschitz-constant", sym.smoothness, loss,
                     planted=[wrong_derivation(lslip, sym.smoothness, loss, claimed=lval)]),
            numeric("jacobian-eigen-search", num.smoothness_check, loss, planted=[wrong_input(
                "claimed constant 1 % low", num.smoothness_check, loss,
                claimed=pf.scaled(num.claimed_constant, 0.99))]),
        ), **({"expected": "supported", "note": _ENTMAX_FY4_NOTE} if loss == "entmax" else {})))
    gslip, gval = pf.LIPSCHITZ_SLIPS["entmax[alpha>2]"]
    out.append(Claim(
        "FY-4", "entmax[alpha>2]", _FY4["entmax[alpha>2]"],
        (
            symbolic("lipschitz-constant", sym.smoothness, "entmax", "gt2", expect="fails",
                     planted=[wrong_derivation(gslip, sym.smoothness, "entmax", "gt2", claimed=gval)]),
            numeric("jacobian-eigen-search", num.smoothness_check, "entmax", alpha_range="gt2", expect="fails",
                    planted=[wrong_input(gslip, num.smoothness_check, "entmax", alpha_range="gt2",
                                         claimed=lambda loss, p: 2.0 ** (p["alpha"] - 2.0))]),
        ),
        expected="refuted",
        note="for α > 2 the uniform support of size m gives λ_max = m^{α−2} > 1 (e.g. α = 3, θ = 0 ∈ R³: λ_max = 3)",
    ))
    return share_derivations(out)
