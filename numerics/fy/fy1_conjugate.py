"""FY-1 numeric check: the stated closed forms of ŷ and Ω* are the argmax and the value of
max_{p ∈ dom Ω} ⟨θ, p⟩ − Ω(p), against an independent cvxpy solve (numerics/cvx.py)."""
from __future__ import annotations

import mpmath
import numpy as np

from audit import Evidence, RunContext, SuiteDefect
from audit.members import member
from losses import get

from .. import cvx
from .common import (
    SETTING_LABELS,
    Found,
    as_tensor,
    grid,
    in_domain,
    min_n,
    mp_feasible,
    mp_objective,
    mp_predict,
    outcome,
    recheck_tol,
    round_tol,
    run_hypothesis,
    single_thread,
    tex_num,
    total_mass,
)
from ..strategies import scores

PTOL = 1e-6  # agreement of ŷ (and of the shifted conjugate) with the cvxpy solve

LABELS = {
    **SETTING_LABELS,
    "cases": "cvxpy solves compared",
    "undecided": "solves not reaching 'optimal' on any setting",
    "undecided_small_gain": "solver points better than the closed form by less than float64 resolves",
    "later_rung": "solves that needed a later solver setting",
    "arbitrated": "disagreements arbitrated by the objective in 50 digits",
    "max_abs_err_pred_vs_mpmath": r"max $|\hat y - \hat y_{\mathrm{mpmath}}|$ (arbitrated cases)",
    "max_abs_err_pred": r"max $|\hat y - \hat y_{\mathrm{cvxpy}}|$",
    "max_abs_err_conj": r"max $|\Omega^* - \Omega^*_{\mathrm{cvxpy}}|$ (shifted scores)",
    "max_abs_err_identity": r"max $|\Omega^*(\theta) - (\langle\theta,\hat y\rangle - \Omega(\hat y))|$",
    "max_abs_err_shift": r"max $|\Omega^*(\theta) - \Omega^*(\theta - m) - m\sum_j \hat y_j|$",
    "solver": "solver",
}


def stated_mp(loss: str, theta: np.ndarray, params: dict) -> tuple[list, list, mpmath.mpf]:
    """(z, ŷ, Ω*) of the stated closed forms at z = θ − max θ in 50 digits: ŷ by bisection on
    the threshold of the stated map (:func:`mp_predict`), Ω* = logsumexp(z) for softmax and
    ⟨z, ŷ⟩ − Ω(ŷ) otherwise (logsumexp is the conjugate of the dense member's g = p log p)."""
    with mpmath.workdps(50):
        z, ref, _ = mp_predict(loss, theta, params)
        claimed = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z)) if member(loss).dense else \
            mp_objective(loss, z, ref, params)
        return z, ref, claimed


def _arbitrate(loss: str, theta: np.ndarray, params: dict, yhat: np.ndarray, conj: float, p: np.ndarray,
               stats: dict) -> str:
    """Decide a disagreement between ``losses/`` and the cvxpy solve by the argmax problem
    itself, in 50-digit mpmath.  The stated formula's ŷ (bisection on its threshold,
    :func:`stated_mp`) and its Ω* (softmax: logsumexp; else the objective at that ŷ) are
    the claim; the solver's p, made exactly feasible, is a competitor:

    * p beats the claimed Ω* by more than float64 can re-check (``recheck_tol``): the stated
      closed form is not the argmax -- ``Found`` (a finding, re-checked from the stored point);
    * p beats it by less: undecided;
    * otherwise the formula is at least as good as the solver's point (an interior point is
      accurate to ~sqrt(gap) only); if ``losses/`` then differs from the formula, ``losses/``
      does not implement the stated map -- :class:`SuiteDefect`; else the solver was off
      ("arbitrated")."""
    with mpmath.workdps(50):
        z, ref, claimed = stated_mp(loss, theta, params)
        q = mp_feasible(loss, p, params)
        gain = mp_objective(loss, z, q, params) - claimed
        tol = recheck_tol(theta, float(claimed))
        if gain > tol:
            raise Found({"theta": theta.tolist(), **params, "point": [float(v) for v in q], "gain": float(gain),
                         "reason": r"a feasible point beats the stated $\Omega^*(\theta)$ by "
                                   f"{tex_num(float(gain))} > {tex_num(tol)}: the stated closed form is not the "
                                   "argmax"})
        if gain > 1e-30 * (1 + abs(claimed)):
            stats["undecided_small_gain"] += 1
            return "undecided"
        e_mp = max(abs(float(a - b)) for a, b in zip(ref, yhat))
        e_cj = abs(float(claimed - conj))
    stats["arbitrated"] += 1
    stats["max_abs_err_pred_vs_mpmath"] = max(stats["max_abs_err_pred_vs_mpmath"], e_mp)
    if e_mp > 1e-9 or e_cj > 1e-9 + round_tol(theta):
        raise SuiteDefect(f"FY-1[{loss}] θ = {theta.tolist()[:6]}…, {params}: losses/ differs from the stated "
                          f"formula (50 digits) by {e_mp:.3g} in ŷ, {e_cj:.3g} in Ω*, while the formula is at least "
                          "as good as the cvxpy point: our implementation, not the claim")
    return "arbitrated"


@single_thread
def cvx_agreement(loss: str, ctx: RunContext) -> Evidence:
    """FY-1: ŷ and the shifted conjugate Ω*(θ − max θ) of ``losses/`` agree with an
    independent cvxpy solve of max_{p ∈ dom Ω} ⟨θ − max θ, p⟩ − Ω(p) on the exact domain
    to :data:`PTOL`; a larger difference is decided by :func:`_arbitrate` (a finding, a
    defect of ours, or an inaccurate solver point).  Ω*(θ) = ⟨θ, ŷ⟩ − Ω(ŷ) with Ω in numpy,
    and Ω*(θ) = Ω*(θ − m) + m·Σŷ, are identities between our own computations: a gap is a
    :class:`SuiteDefect` (so is a prediction outside the domain).

    Clarabel tries the settings of :data:`numerics.cvx.RUNGS` until one reports "optimal"
    (QPs first go to OSQP with polishing; figures ``later_rung``); a case where no setting
    reports "optimal" is undecided."""
    stats = dict(cases=0, undecided=0, undecided_small_gain=0, later_rung=0, arbitrated=0,
                 max_abs_err_pred_vs_mpmath=0.0, max_abs_err_pred=0.0, max_abs_err_conj=0.0,
                 max_abs_err_identity=0.0, max_abs_err_shift=0.0)
    fail: dict | None = None
    n_examples = ctx.budget(25, 200)
    for params in grid(loss):
        L = get(loss, **params)

        def body(theta: np.ndarray, params=params, L=L) -> None:
            m = float(theta.max())
            t = theta - m
            tt = as_tensor(t)[None]
            yhat = L.predict(tt)[0].numpy()
            conj = float(L.conjugate(tt)[0])
            conj_full = float(L.conjugate(as_tensor(theta)[None])[0])
            status = p = value = None
            for rung in range(cvx.N_RUNGS):
                status, p, value = cvx.solve_argmax(loss, theta, rung=rung, **params)
                if status == "optimal":
                    break
            if status != "optimal":
                stats["undecided"] += 1
                return
            stats["cases"] += 1
            stats["later_rung"] += rung > 0
            if not in_domain(yhat, params, round_tol(theta)):
                raise SuiteDefect(f"FY-1[{loss}] {params}: losses/ predicts outside the domain at θ = "
                                  f"{theta.tolist()[:6]}…")
            e_pred = float(np.abs(p - yhat).max())
            e_conj = abs(value - conj)
            e_id = abs(conj - (float(t @ yhat) - cvx.omega_numpy(loss, yhat, **params)))
            e_shift = abs(conj_full - (conj + m * total_mass(params)))
            for key, val in (("max_abs_err_pred", e_pred), ("max_abs_err_conj", e_conj),
                             ("max_abs_err_identity", e_id), ("max_abs_err_shift", e_shift)):
                stats[key] = max(stats[key], val)
            off = e_pred > PTOL or e_conj > PTOL
            if off and _arbitrate(loss, theta, params, yhat, conj, p, stats) == "undecided":
                return
            if e_id > round_tol(theta) or e_shift > round_tol(theta, m):
                raise SuiteDefect(f"FY-1[{loss}] {params}: losses/' Ω* differs from ⟨θ,ŷ⟩ − Ω(ŷ) (numpy) by {e_id:.3g} "
                                  f"or from Ω*(θ − m) + m·Σŷ by {e_shift:.3g} at θ = {theta.tolist()[:6]}…")

        fail = run_hypothesis(scores(min_n(params), 200, salt=ctx.seed), body, n_examples)
        if fail is not None:
            break
    figures = {**stats, "solver": cvx.solver_name(), "settings": grid(loss), "examples_per_setting": n_examples}
    out = outcome(fail, stats["undecided"] + stats["undecided_small_gain"])
    err = max(stats["max_abs_err_pred"], stats["max_abs_err_conj"])
    detail = {
        "holds": f"{stats['cases']} cvxpy solves of " + r"$\max_{p \in \operatorname{dom}\Omega} "
                 r"\langle\theta - \max\theta, p\rangle - \Omega(p)$ agree with the stated closed forms of "
                 rf"$\hat y$ and $\Omega^*$ for {loss} to $10^{{-6}}$ (max error "
                 f"{tex_num(stats['max_abs_err_pred'])} in " + r"$\hat y$, "
                 f"{tex_num(stats['max_abs_err_conj'])} in " + r"$\Omega^*$; "
                 f"{stats['arbitrated']} arbitrated by the objective in 50 digits); "
                 + r"$\Omega^*(\theta) = \langle\theta,\hat y\rangle - \Omega(\hat y)$ and the shift identity "
                 "hold to rounding",
        "undecided": f"{stats['undecided']} cvxpy solves did not reach 'optimal' on any setting; "
                     f"{stats['undecided_small_gain']} solver points beat the closed form by less than float64 "
                     "resolves",
        "fails": (fail or {}).get("reason", ""),
    }[out]
    summary = {
        "holds": f"{stats['cases']} cvxpy solves agree with the closed forms of " + r"$\hat y$ and $\Omega^*$ "
                 f"(max error {tex_num(err, 2)})",
        "undecided": f"{stats['undecided']} solves not optimal, {stats['undecided_small_gain']} solver points "
                     "better by less than float64 resolves: undecided",
        "fails": r"a feasible point beats the stated $\Omega^*$ by "
                 f"{tex_num((fail or {}).get('gain', float('nan')), 2)}: the closed form is not the argmax",
    }[out]
    return Evidence("numeric", f"cvx_agreement[{loss}]", out, detail, figures,
                    None if fail is None else {k: v for k, v in fail.items() if k != "reason"},
                    summary=summary, labels=LABELS)


__all__ = ["cvx_agreement", "stated_mp", "PTOL"]
