"""Reference argmax / conjugate by convex optimization (cvxpy), independent of ``losses/``.

``solve_argmax(loss_name, theta, **params)`` solves

    Ω*(θ̃) = max_{p ∈ dom Ω} ⟨θ̃, p⟩ − Ω(p),     θ̃ = θ − max θ,

on the exact domain, with the regularizer written with cvxpy atoms:

| loss        | Ω                               | domain                         | cone              |
|-------------|---------------------------------|--------------------------------|-------------------|
| ``softmax`` | Σ p log p  (= −Σ entr(p))       | Δ                              | exponential       |
| ``sparsemax``| ½‖p‖² − ½                      | Δ                              | QP (second order) |
| ``entmax``  | (Σ p^α − 1)/(α(α−1)), α > 1     | Δ                              | power             |
| ``rankmax`` | ½‖p‖²                           | C_k = {0 ≤ p ≤ 1, Σp = k}      | QP                |

**Why the shift is exact.**  Every domain has a fixed total mass s = Σp (1 on Δ, k on
C_k), so ⟨θ − c1, p⟩ = ⟨θ, p⟩ − c·s for every feasible p: the objective changes by the
constant c·s, the maximizer is unchanged and Ω*(θ) = Ω*(θ − c1) + c·s.  Solving at
θ̃ = θ − max θ keeps the data in [−ptp θ, 0] with one entry 0, which is what lets an
interior-point solver reach 1e-8 accuracy when |θ| ~ 1e4.  The returned ``value`` is
therefore the *shifted* conjugate Ω*(θ − max θ); compare it with the shifted conjugate
of the implementation under test.

Clarabel is used (tightened tolerances, see :data:`TOL_RUNGS`); SCS only if Clarabel is not installed.  The
solver status is returned as is: callers must treat anything but ``"optimal"`` as
*undecided*, never as agreement.
"""
from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np

from audit.members import Member, member

#: Tolerance rungs (duality gap / feasibility).  At 1e-12 an "optimal" Clarabel answer has
#: ‖p − p*‖∞ ≲ 1e-8 in our measurements but the solver reports "optimal_inaccurate" on
#: about half the power-cone problems; at 1e-11 it reports "optimal" almost always but p
#: is only accurate to a few 1e-6 (an interior point's p error scales like sqrt(gap));
#: 1e-10 is the last resort for the few power-cone problems that stall at 1e-11.
TOL_RUNGS = (1e-12, 1e-11, 1e-10)


def clarabel_opts(tol: float, **extra) -> dict:
    return dict(tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol, tol_ktratio=100 * tol, max_iter=400) | extra


#: Clarabel settings tried in order until one reports "optimal": the tolerance rungs, then two
#: rescue settings for power cones with spreads ~1e4 that stall (in the full profile 11 of 800
#: entmax solves reached none of the tolerance rungs): a larger static regularization, then no
#: equilibration at gap 1e-9.  Their p is less accurate, which the caller must allow for by
#: comparing at its own tolerance (FY-1 arbitrates larger differences with a 50-digit bisection).
RUNGS = tuple(clarabel_opts(t) for t in TOL_RUNGS) + (
    clarabel_opts(1e-10, max_iter=2000, static_regularization_constant=1e-7),
    clarabel_opts(1e-9, max_iter=2000, equilibrate_enable=False),
)
#: Settings per case: the Clarabel rungs, then one SCS solve (a first-order method, a
#: different algorithm) as the last resort before "undecided".
N_RUNGS = len(RUNGS) + 1


def _scs_opts(tol: float) -> dict:
    return dict(eps_abs=tol, eps_rel=tol, max_iters=200_000)


def solver_name() -> str:
    """The solver :func:`solve_argmax` uses: CLARABEL, or SCS when Clarabel is missing."""
    return "CLARABEL" if "CLARABEL" in cp.installed_solvers() else "SCS"


def _member(loss_name: str) -> Member:
    """The member named ``loss_name``; an unknown name keeps this module's refusal text."""
    try:
        return member(loss_name)
    except ValueError:
        raise ValueError(f"loss_name must be softmax, sparsemax, entmax or rankmax, got {loss_name!r}") from None


def omega_numpy(loss_name: str, p: np.ndarray, **params) -> float:
    """Ω(p) in numpy (float64) on the domain -- an implementation independent of ``losses/``."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
    L = _member(loss_name)
    if L.dense:  # the dense member's g = p log p, with 0 log 0 = 0
        nz = p[p > 0]
        return float(np.sum(nz * np.log(nz)))
    if L.tsallis:
        a = float(params["alpha"])
        return float((np.sum(p ** a) - 1.0) / (a * (a - 1.0)))
    return float(0.5 * np.dot(p, p) + float(L.offset))


def _problem(loss_name: str, t: np.ndarray, params: dict) -> tuple[cp.Problem, cp.Variable]:
    n = t.shape[0]
    p = cp.Variable(n)
    L = _member(loss_name)
    if L.dense:  # g = p log p, the only dense member: the exponential cone's entr
        obj = t @ p + cp.sum(cp.entr(p))
        cons = [cp.sum(p) == 1]  # entr's domain gives p ≥ 0
    elif L.tsallis:
        a = float(params["alpha"])
        if not a > 1:
            raise ValueError(f"alpha must be > 1 for the Tsallis program, got {a}")
        obj = t @ p - (cp.sum(cp.power(p, a, approx=False)) - 1.0) / (a * (a - 1.0))
        cons = [p >= 0, cp.sum(p) == 1]
    else:  # g = p²/2: a QP; Ω's constant c only moves the value, so it enters only when c ≠ 0
        obj = t @ p - 0.5 * cp.sum_squares(p)
        if L.offset:
            obj = obj + float(-L.offset)
        if L.capped:  # C_k: the cap 1 and the mass k
            k = int(params["k"])
            if not 1 <= k <= n - 1:
                raise ValueError(f"k must lie in [1, n − 1] = [1, {n - 1}], got {k}")
            cons = [p >= 0, p <= 1, cp.sum(p) == k]
        else:
            cons = [p >= 0, cp.sum(p) == 1]
    return cp.Problem(cp.Maximize(obj), cons), p


def solve_argmax(loss_name: str, theta, *, tol: float | None = None, rung: int = 0, **params) -> tuple[str, np.ndarray | None, float | None]:
    """Solve max_{p ∈ dom Ω} ⟨θ − max θ, p⟩ − Ω(p) with cvxpy.

    Returns ``(status, p, value)``: the cvxpy status string (``"optimal"`` is the only
    one to trust), the maximizer (float64, shape (n,); None if the solver gave none) and
    the optimal value, i.e. the **shifted** conjugate Ω*(θ − max θ) -- add max θ·Σp to
    get Ω*(θ).  ``tol`` is the solver's gap/feasibility tolerance.  ``params``: ``alpha``
    (entmax), ``k`` (rankmax).  A solver error is reported as status ``"solver_error: ..."``.

    The value is the solver's own optimal objective (cvxpy re-evaluating the objective at
    the returned p would give −inf/NaN when an entry is −1e-13, outside entr/power's domain)."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if theta.size < 2 or not np.all(np.isfinite(theta)):
        raise ValueError("theta must be a finite vector with n ≥ 2 entries")
    t = theta - theta.max()
    prob, p = _problem(loss_name, t, params)
    if member(loss_name).quadratic and "OSQP" in cp.installed_solvers():
        # QPs (g = p²/2): OSQP's polish step solves the KKT system on the detected active set, which
        # gives the argmax to ~1e-9 where an interior point stops at ~sqrt(gap); trusted only
        # when the polish succeeded, else the interior-point rungs below decide
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prob.solve(solver=cp.OSQP, eps_abs=1e-12, eps_rel=1e-12, polishing=True, max_iter=200_000)
            info = getattr(prob.solver_stats.extra_stats, "info", None)
            if str(prob.status) == "optimal" and getattr(info, "status_polish", 0) == 1 and p.value is not None:
                return "optimal", np.asarray(p.value, dtype=np.float64), float(prob.solution.opt_val)
        except cp.error.SolverError:
            pass
    name = solver_name() if rung < len(RUNGS) else "SCS"  # the rung past Clarabel's is SCS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "solution may be inaccurate": the status says so
            if name == "CLARABEL":
                prob.solve(solver=cp.CLARABEL, **(RUNGS[rung] if tol is None else clarabel_opts(tol)))
            else:
                prob.solve(solver=cp.SCS, **_scs_opts(1e-9 if tol is None else tol))
    except cp.error.SolverError as exc:
        return f"solver_error: {exc}", None, None
    sol = prob.solution
    if p.value is None or sol is None or sol.opt_val is None:
        return str(prob.status), None, None
    return str(prob.status), np.asarray(p.value, dtype=np.float64), float(sol.opt_val)
