"""CON-3 (order preservation, readings O1/O2), DYN-1, DYN-2 (CLAIMS.md §2–3)."""
from __future__ import annotations

from .registry import Claim, numeric, symbolic

LOSSES = ("softmax", "sparsemax", "entmax", "rankmax")

_O1 = {
    "softmax": "Reading O1 (prediction map): softmax is strictly order preserving: theta_i > theta_j implies yhat_i > yhat_j for every theta.",
    "sparse": "Reading O1 (prediction map): {loss} is weakly but not strictly order preserving: theta_i > theta_j implies yhat_i >= yhat_j, and some theta has theta_i > theta_j with yhat_i = yhat_j.",
}
_O2 = {
    "softmax": "Reading O2 (Bayes minimizers, after Zhang 2004): every minimizer of the softmax conditional risk (limit of a minimizing sequence, modulo shift, when eta has zeros) has eta_i > eta_j => theta_i > theta_j and eta_i = eta_j => theta_i = theta_j.",
    "sparse": "Reading O2 (Bayes minimizers, after Zhang 2004): every minimizer of the {loss} conditional risk has eta_i > eta_j => theta_i >= theta_j, but some minimizer splits a tie eta_i = eta_j (not SOP).",
}
_DYN1 = {
    "softmax": "Softmax gives every negative class a non-zero gradient at every finite theta (yhat_j > 0); measured: fraction of negatives with non-zero gradient during GD.",
    "sparse": "{loss} gives exactly zero gradient to every class outside the support of yhat; measured: fraction of negatives with non-zero gradient during GD.",
}
_DYN2 = {
    "softmax": "On separable data GD keeps the softmax loss positive, decaying about like 1/t with ||theta|| growing about like log t; on non-separable data it converges to the Bayes predictor.",
    "sparse": "On separable data GD drives the {loss} loss to exactly zero in finitely many steps; on non-separable data it converges to the Bayes predictor.",
}
_PARAMS = {"entmax": " [alpha in {1.5, 2.5} quick; more in full]", "rankmax": " [k in {1, 2}, reading R1]",
           "softmax": "", "sparsemax": ""}


def _text(table: dict, loss: str) -> str:
    return (table["softmax"] if loss == "softmax" else table["sparse"].format(loss=loss)) + _PARAMS[loss]


def claims() -> list[Claim]:
    from numerics import dynamics as dyn
    from numerics.order import order_preservation
    from proofs import order as sym

    out: list[Claim] = []
    for reading, table, derive in (("O1", _O1, sym.order_o1), ("O2", _O2, sym.order_o2)):
        for loss in LOSSES:
            out.append(Claim("CON-3", f"{loss}/{reading}", _text(table, loss), (
                symbolic(f"order-{reading}", derive, loss),
                numeric("order-search" if reading == "O1" else "bayes-minimizer-order",
                        order_preservation, loss, reading),
            )))
    for loss in LOSSES:
        out.append(Claim("DYN-1", loss, _text(_DYN1, loss), (
            symbolic("gradient-support", sym.gradient_support, loss),
            numeric("negative-gradient-fraction", dyn.negative_gradients, loss),
        )))
    for loss in LOSSES:
        expected = "supported" if loss == "softmax" else "inconclusive"
        note = "" if loss == "softmax" else (
            "at lr 0.5 the loss on the separable linear model decays (geometrically for sparsemax/rankmax, like 1/t "
            "for 1.5-entmax near the margin) but is not exactly 0 within the step budget")
        out.append(Claim("DYN-2", loss, _text(_DYN2, loss), (
            numeric("separable-gd", dyn.separable_dynamics, loss),
            numeric("bayes-convergence", dyn.bayes_convergence, loss),
        ), expected=expected, note=note))
    return out
