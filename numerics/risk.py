"""Conditional-risk minimizers of the exact Fenchel–Young losses (cvxpy), with label laws.

For an FY loss ``L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩`` and any label law with E[w] > 0,

    R(θ) = E[w · L(θ; y)] = E[w] · (Ω*(θ) − ⟨θ, q⟩) + const,     q = E[w y] / E[w],

so every label law reduces to a *target mean* q in dom Ω, and (where a minimizer exists)
the minimizers satisfy ŷ(θ*) = q (properness; Blondel, Martins & Niculae 2020, Prop. 4).
This module computes the infimum and a minimizer from the *scores* side with cvxpy
(route A), independently of that identity, and offers the dual 1-D route (route B)

    inf_{θ_i ≤ θ_j} Ω*(θ) − ⟨θ, q⟩ = −min_{0 ≤ μ ≤ μ_max} Ω(q + μ(e_j − e_i))

(Fenchel–Rockafellar duality; the constraint is one linear inequality, so strong duality
holds), which the certificate uses as a cross-check.

**Ω* in cvxpy (route A).**  Dualizing only the mass constraint Σp = s of the argmax,

    Ω*(θ) = min_τ  s·τ + Σ_i f*(θ_i − τ) + c_Ω,

with f the one-dimensional part of Ω on p_i ≥ 0 (and p_i ≤ 1 for rankmax):

| loss      | s | f*(u)                                               | c_Ω            |
|-----------|---|-----------------------------------------------------|----------------|
| softmax   | 1 | (``log_sum_exp`` is used directly)                  | 0              |
| sparsemax | 1 | ½ pos(u)²                                           | ½              |
| entmax α  | 1 | (α−1)^β/α · pos(u)^β,  β = α/(α−1)                  | 1/(α(α−1))     |
| rankmax k | k | ½ huber(pos(u), 1)  (= u²/2 on [0,1], u − ½ above)  | 0              |
| flat      | 1 | Ω ≡ 0 on Δ: Ω*(θ) = max θ (an *improper* test loss) | 0              |

The joint problem over (θ, τ) is convex.  Because s is fixed, R(θ + c1) = R(θ): the
problem is solved on the box −B ≤ θ ≤ 0 (B = 30, then 25 and 20 when Clarabel is not optimal), which loses nothing for the
losses with a minimizer inside the box, and for softmax with zeros in q (the infimum is
*not attained*: θ_j → −∞ on the zero set) changes the infimum by at most n·e^{−B}
(≲ 1e-8 at B = 20).  Such cases are flagged ``attained = False`` and counted by the callers.

Label laws (``target_mean``): classification y ∼ η → q = η; ranking r ∼ D with gains
G(r) = 2^r − 1 and the maps of CLAIMS.md §2: ``L1`` (summed: weight ΣG(r), label
G(r)/ΣG(r)) → q = E[G(r)] / E[ΣG(r)]; ``L2`` (normalized, unit weight) →
q = E[G(r)/ΣG(r)]; ``multihot`` (rankmax, r ∈ {0,1}^n with |r| = k fixed) → q = E[r].
Targets are computed in exact rationals (``fractions.Fraction``).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

import cvxpy as cp
import numpy as np
from scipy.optimize import minimize_scalar

#: box half-width on the scores (shift-normalized: −BOX ≤ θ ≤ 0); a second, smaller box is
#: (and third) are tried when Clarabel is not "optimal" on the first (softmax with zeros in q is badly
#: conditioned at the box face).  Softmax bias from the box: ≤ n·e^{−BOX}.
BOXES = (30.0, 25.0, 20.0)
BOX = BOXES[0]
#: solver tolerance rungs (Clarabel gap / feasibility); values are then accurate to ~1e-9
SOLVER_TOLS = (1e-10, 1e-8)


# --------------------------------------------------------------------------------------
# losses as (Ω numpy, Ω* cvxpy, ŷ)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LossSpec:
    """One FY loss for the risk programs: name, parameters, total mass s, an upper cap on
    p (1 for rankmax), Ω in numpy and Ω* as a cvxpy expression builder."""

    name: str
    params: tuple = ()
    mass: float = 1.0
    cap: float = math.inf
    proper: bool = True  # False only for deliberately improper test losses

    @property
    def key(self) -> tuple:
        return (self.name, self.params)

    @property
    def label(self) -> str:
        return self.name + "".join(f"[{k}={v}]" for k, v in self.params)

    def param(self, name: str):
        return dict(self.params)[name]

    # Ω on its domain (numpy, independent of losses/)
    def omega(self, p: np.ndarray) -> float:
        p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
        if self.name == "softmax":
            nz = p[p > 0]
            return float(np.sum(nz * np.log(nz)))
        if self.name == "sparsemax":
            return float(0.5 * p @ p - 0.5)
        if self.name == "entmax":
            a = float(self.param("alpha"))
            return float((np.sum(p ** a) - 1.0) / (a * (a - 1.0)))
        if self.name == "rankmax":
            return float(0.5 * p @ p)
        if self.name == "flat":
            return 0.0
        raise ValueError(f"unknown loss {self.name!r}")

    # Ω*(θ) as a convex cvxpy expression (possibly with an auxiliary variable τ)
    def conjugate_expr(self, theta: cp.Variable) -> cp.Expression:
        if self.name == "softmax":
            return cp.log_sum_exp(theta)
        if self.name == "flat":
            return cp.max(theta)
        tau = cp.Variable()
        u = cp.pos(theta - tau)
        if self.name == "sparsemax":
            return tau + 0.5 * cp.sum_squares(u) + 0.5
        if self.name == "entmax":
            a = float(self.param("alpha"))
            b = a / (a - 1.0)
            c = (a - 1.0) ** b / a
            return tau + c * cp.sum(cp.power(u, b)) + 1.0 / (a * (a - 1.0))
        if self.name == "rankmax":
            return self.mass * tau + 0.5 * cp.sum(cp.huber(u, 1.0))
        raise ValueError(f"unknown loss {self.name!r}")

    def predict(self, theta: np.ndarray) -> np.ndarray:
        """ŷ(θ) from the project's implementation (losses/), for the properness cross-check."""
        import torch

        from losses import get

        t = torch.as_tensor(np.asarray(theta, dtype=np.float64))
        if self.name == "flat":
            raise ValueError("the flat test loss has no single-valued prediction map")
        return get(self.name, **dict(self.params)).predict(t).numpy()


def spec(loss: str | LossSpec, **params) -> LossSpec:
    """A :class:`LossSpec` by name: softmax, sparsemax, entmax (alpha), rankmax (k), or the
    improper ``flat`` test loss (Ω ≡ 0 on Δ, i.e. the perceptron-like max θ − ⟨θ, y⟩)."""
    if isinstance(loss, LossSpec):
        return loss
    if loss in ("softmax", "sparsemax", "flat"):
        if params:
            raise ValueError(f"{loss} takes no parameters, got {sorted(params)}")
        return LossSpec(loss, proper=(loss != "flat"))
    if loss == "entmax":
        a = float(params.get("alpha", 1.5))
        if not a > 1:
            raise ValueError(f"alpha must be > 1, got {a}")
        return LossSpec("entmax", (("alpha", a),))
    if loss == "rankmax":
        k = params.get("k")
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"rankmax needs an integer k ≥ 1, got {k!r}")
        return LossSpec("rankmax", (("k", k),), mass=float(k), cap=1.0)
    raise ValueError(f"loss must be softmax, sparsemax, entmax, rankmax or flat, got {loss!r}")


# --------------------------------------------------------------------------------------
# route A: the risk program in the scores (cvxpy, DPP-cached per loss and n)
# --------------------------------------------------------------------------------------
@dataclass
class _Program:
    prob: cp.Problem
    theta: cp.Variable
    q: cp.Parameter
    a: cp.Parameter  # half-space a·θ ≤ 0 (a = 0: unconstrained)


_CACHE: dict[tuple, _Program] = {}


def _program(sp_: LossSpec, n: int, box: float) -> _Program:
    key = (sp_.key, n, box)
    if key not in _CACHE:
        theta = cp.Variable(n)
        q = cp.Parameter(n)
        a = cp.Parameter(n)
        obj = sp_.conjugate_expr(theta) - q @ theta
        cons = [theta <= 0, theta >= -box, a @ theta <= 0]
        _CACHE[key] = _Program(cp.Problem(cp.Minimize(obj), cons), theta, q, a)
    return _CACHE[key]


@dataclass
class RiskSolution:
    """``value`` = inf (Ω*(θ) − ⟨θ, q⟩) over the (half-)space, ``theta`` a minimizer in the
    box, ``status`` the solver status (only "optimal" is trusted), ``attained`` False when
    the box is active (softmax with zeros in q: the infimum is approached, not attained)."""

    status: str
    value: float | None
    theta: np.ndarray | None
    attained: bool = True

    @property
    def ok(self) -> bool:
        return self.status == "optimal" and self.value is not None


def solve_risk(loss: str | LossSpec, q: Sequence, pair: tuple[int, int] | None = None, **params) -> RiskSolution:
    """min_θ Ω*(θ) − ⟨θ, q⟩ (optionally s.t. θ_i ≤ θ_j for ``pair = (i, j)``) by cvxpy/Clarabel.

    The conditional risk of any label law with target mean q is E[w]·(this) + const."""
    sp_ = spec(loss, **params)
    q = np.asarray([float(x) for x in q], dtype=np.float64)
    n = q.size
    a = np.zeros(n)
    if pair is not None:
        i, j = pair
        a[i], a[j] = 1.0, -1.0
    status = "not_run"
    for box in BOXES:
        prog = _program(sp_, n, box)
        prog.q.value = q
        prog.a.value = a
        for tol in SOLVER_TOLS:  # a tight rung first; a looser one only if Clarabel is not "optimal"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    prog.prob.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol,
                                    tol_feas=tol, tol_ktratio=max(1e-8, 100 * tol), max_iter=300)
                status = str(prog.prob.status)
            except cp.error.SolverError as exc:
                status = f"solver_error: {exc}"
            if status == "optimal":
                break
        if status == "optimal":
            break
    if not status.startswith("optimal") and not status.startswith("solver_error"):
        return RiskSolution(status, None, None, False)
    if status.startswith("solver_error"):
        return RiskSolution(status, None, None, False)
    if prog.theta.value is None or prog.prob.value is None:
        return RiskSolution(str(prog.prob.status), None, None, False)
    th = np.asarray(prog.theta.value, dtype=np.float64)
    th = th - th.max()
    # softmax's minimizer exists iff q > 0 (log q); otherwise θ_j → −∞ on {q_j = 0}
    attained = not (sp_.name == "softmax" and bool(np.any(q <= 0)))
    return RiskSolution(status, float(prog.prob.value), th, attained)


# --------------------------------------------------------------------------------------
# route B: the dual 1-D problem
# --------------------------------------------------------------------------------------
def dual_halfspace_value(loss: str | LossSpec, q: Sequence, pair: tuple[int, int], **params) -> float:
    """inf_{θ_i ≤ θ_j} Ω*(θ) − ⟨θ, q⟩ = −min_{0 ≤ μ ≤ μ_max} Ω(q + μ(e_j − e_i)),
    μ_max = min(q_i, cap − q_j), by bounded scalar minimization (scipy) -- no cvxpy."""
    sp_ = spec(loss, **params)
    q = np.asarray([float(x) for x in q], dtype=np.float64)
    i, j = pair
    mu_max = min(q[i], sp_.cap - q[j])
    if mu_max <= 0:
        return -sp_.omega(q)

    def f(mu: float) -> float:
        p = q.copy()
        p[i] -= mu
        p[j] += mu
        return sp_.omega(p)

    res = minimize_scalar(f, bounds=(0.0, mu_max), method="bounded", options={"xatol": 1e-12})
    best = min(float(res.fun), f(0.0), f(mu_max), f(0.5 * max(0.0, q[i] - q[j])) if q[i] > q[j] else math.inf)
    return -best


def inf_risk_value(loss: str | LossSpec, q: Sequence, **params) -> float:
    """inf_θ Ω*(θ) − ⟨θ, q⟩ = −Ω(q) for q in dom Ω (Fenchel–Moreau)."""
    sp_ = spec(loss, **params)
    return -sp_.omega(np.asarray([float(x) for x in q]))


# --------------------------------------------------------------------------------------
# Bayes-optimal scores with the properness cross-check
# --------------------------------------------------------------------------------------
@dataclass
class BayesScores:
    status: str
    theta: np.ndarray | None
    value: float | None
    attained: bool
    properness_err: float  # max |ŷ(θ*) − q| (on q's support when not attained); nan if no θ*
    value_err: float  # |value − (−Ω(q))|

    @property
    def ok(self) -> bool:
        return self.status == "optimal" and self.theta is not None


def bayes_scores(loss: str | LossSpec, q: Sequence, **params) -> BayesScores:
    """Minimize the conditional risk with target mean q (cvxpy) and cross-check the
    minimizer against properness ŷ(θ*) = q and the value against −Ω(q)."""
    sp_ = spec(loss, **params)
    qf = np.asarray([float(x) for x in q])
    sol = solve_risk(sp_, qf)
    if sol.theta is None:
        return BayesScores(sol.status, None, None, False, math.nan, math.nan)
    yhat = sp_.predict(sol.theta) if sp_.proper else qf
    err = float(np.max(np.abs(yhat - qf)))
    verr = abs(sol.value - inf_risk_value(sp_, qf))
    return BayesScores(sol.status, sol.theta, sol.value, sol.attained, err, verr)


# --------------------------------------------------------------------------------------
# label laws → target mean (exact rationals)
# --------------------------------------------------------------------------------------
def gains(r: Sequence[int]) -> list[int]:
    """G(r) = 2^r − 1."""
    return [2 ** int(x) - 1 for x in r]


def target_mean(D: Sequence[tuple], label_map: str) -> list[Fraction]:
    """Target mean q of a ranking label law.  ``D``: pairs (p, r) with p a probability
    (Fraction or int weights -- normalized here) and r a relevance vector.

    ``L1``: E[G(r)] / E[ΣG(r)];  ``L2``: E[G(r)/ΣG(r)];  ``multihot``: E[r] (r binary, |r| = k)."""
    if not D:
        raise ValueError("D must have at least one atom")
    total = sum(Fraction(p) for p, _ in D)
    n = len(D[0][1])
    if label_map == "L1":
        num = [Fraction(0)] * n
        den = Fraction(0)
        for p, r in D:
            g = gains(r)
            num = [a + Fraction(p) / total * b for a, b in zip(num, g)]
            den += Fraction(p) / total * sum(g)
        if den == 0:
            raise ValueError("L1 needs E[ΣG(r)] > 0")
        return [a / den for a in num]
    if label_map == "L2":
        out = [Fraction(0)] * n
        for p, r in D:
            g = gains(r)
            s = sum(g)
            if s == 0:
                raise ValueError("L2 needs ΣG(r) > 0 for every r in D's support")
            out = [a + Fraction(p) / total * Fraction(b, s) for a, b in zip(out, g)]
        return out
    if label_map == "multihot":
        ks = {sum(1 for x in r if x) for _, r in D}
        if len(ks) != 1 or any(x not in (0, 1) for _, r in D for x in r):
            raise ValueError("multihot needs binary r with the same number k of relevant items in every atom")
        out = [Fraction(0)] * n
        for p, r in D:
            out = [a + Fraction(p) / total * int(b) for a, b in zip(out, r)]
        return out
    raise ValueError(f"label_map must be L1, L2 or multihot, got {label_map!r}")


def expected_gains(D: Sequence[tuple]) -> list[Fraction]:
    """E_D[G(r)] per item (exact)."""
    total = sum(Fraction(p) for p, _ in D)
    n = len(D[0][1])
    out = [Fraction(0)] * n
    for p, r in D:
        out = [a + Fraction(p) / total * b for a, b in zip(out, gains(r))]
    return out
