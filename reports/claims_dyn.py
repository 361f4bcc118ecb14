"""CON-3 (order preservation, readings O1/O2), DYN-1, DYN-2 (CLAIMS.md §2–3)."""
from __future__ import annotations

from .claim import Claim, numeric, symbolic

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
_DYN2_STEP = ("On separable data GD with any constant step size in (0, 1/L] (L the Lipschitz constant of the gradient, "
              "FY-4) drives the {loss} loss to exactly zero in finitely many steps, from every start; on non-separable "
              "data it converges to the Bayes predictor.")
_DYN2_UNIT = ("GD with the constant step lr = 1/L = 1 on a free score vector theta in R^n (a linear model on one example, "
              "x = 1) drives the {loss} loss to exactly zero in finitely many steps from every start, at most "
              "ceil(1 - g_0) steps where g_0 = min_Y theta - max_(not Y) theta.")
_UNIT_PARAMS = {"sparsemax": " [any n; exact check n = 2..5]",
                "rankmax": " [reading R1, any n and k, multi-hot y with |Y| = k; exact check n = 2..5, k = 1..3]"}
_DYN2_NOTE = {
    "sparsemax": "free score vector theta0 = (0, 0), y = e_1, lr = 1/2 <= 1/L = 1: L_t = (1/4)^{t+1} > 0 for every t "
                 "(exact: the gradient shrinks by 1 - lr per step on the all-free region), so no finite step count; "
                 "lr = 1 does reach 0 (row sparsemax/lr=1/L); non-separable part holds",
    "entmax": "1.5-entmax, n = 2, theta0 = (0, 0), y = e_1, lr = 1/2: the shortfall obeys s_{t+1} >= s_t (1 - lr s_t / 2) "
              "> 0 for every t (s_0 = 2 < 2/lr), so the loss is positive at every step; the same holds for every "
              "lr > 0 from a start close to the margin; non-separable part holds",
    "rankmax": "k = 2, n = 3, theta0 = 0, y = (1, 1, 0), lr = 1/2: L_t = (1/3)(1/4)^t > 0 for every t (k = 1 is "
               "sparsemax: the same with L_t = (1/4)^{t+1}); lr = 1 does reach 0 (row rankmax/lr=1/L); non-separable "
               "part holds",
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
    from proofs import gd_exact as gde

    for loss in LOSSES:
        if loss == "softmax":
            out.append(Claim("DYN-2", loss, _text(_DYN2, loss), (
                numeric("separable-gd", dyn.separable_dynamics, loss),
                numeric("bayes-convergence", dyn.bayes_convergence, loss)), expected="supported"))
            continue
        # separable-gd: GD on the free vector at lr = 1/2 does not reach exact zero within the step budget
        checks = (numeric("separable-gd", dyn.separable_dynamics, loss, expect="undecided"),
                  numeric("bayes-convergence", dyn.bayes_convergence, loss, expect="holds"))
        # reading: every constant step in (0, 1/L] (FY-4: L = 1 for sparsemax/rankmax, 2^{alpha-2} for entmax)
        out.append(Claim("DYN-2", loss, _DYN2_STEP.format(loss=loss) + _PARAMS[loss],
                         (symbolic("gd-exact", gde.finite_steps_row, loss, expect="fails"), *checks),
                         expected="refuted", note=_DYN2_NOTE[loss]))
    for loss in ("sparsemax", "rankmax"):
        out.append(Claim("DYN-2", f"{loss}/lr=1/L", _DYN2_UNIT.format(loss=loss) + _UNIT_PARAMS[loss], (
            symbolic("unit-step-gap", gde.unit_step_finite, loss),
            numeric("unit-step-exact", gde.unit_step_exact, loss),
        )))
    out.append(Claim("DYN-2", "entmax/lr=1/L",
                     "GD with the constant step lr = 1/L = sqrt(2) (L = 2^{alpha-2}, alpha = 1.5, FY-4) on a free score "
                     "vector (one separable example) drives the 1.5-entmax loss to exactly zero in finitely many steps "
                     "from every start.",
                     (symbolic("gd-exact", gde.entmax_unit_step),), expected="refuted",
                     note="n = 2, theta0 = (1, 0), y = e_1, lr = sqrt(2): the shortfall s_t = 2 - (theta_1 - theta_2) obeys "
                          "s_{t+1} >= s_t (1 - lr s_t / 2) > 0 for every t (s_0 = 1 < 2/lr), so the loss is positive at "
                          "every step"))
    return out
