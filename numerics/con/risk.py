"""Conditional-risk minimizers of the exact Fenchel–Young losses (cvxpy).

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
| flat k    | k | Ω ≡ 0 on C_k: Ω*(θ) = sum of the k largest θ_i      | 0              |

The joint problem over (θ, τ) is convex.  Because s is fixed, R(θ + c1) = R(θ): the
problem is solved on the box −B ≤ θ ≤ 0 (B = 30, then 25 and 20 when Clarabel is not optimal), which loses nothing for the
losses with a minimizer inside the box, and for softmax with zeros in q (the infimum is
*not attained*: θ_j → −∞ on the zero set) changes the infimum by at most n·e^{−B}
(≲ 1e-8 at B = 20).  Such cases are flagged ``attained = False`` and counted by the callers.

Label laws (relevance laws and label maps) live in :mod:`numerics.con.labels`; every law
reduces to weighted labels (c_a, y_a) and the program above with q = Σ c y / Σ c.
:func:`check_transcription` compares the transcribed risk with the loss implementation
under test (``losses/``) at the minimizer: two routes of the suite to one number.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import cvxpy as cp
import numpy as np
from scipy.optimize import minimize_scalar

from audit import SuiteDefect, members

#: box half-width on the scores (shift-normalized: −BOX ≤ θ ≤ 0); a second, smaller box is
#: (and third) are tried when Clarabel is not "optimal" on the first (softmax with zeros in q is badly
#: conditioned at the box face).  Softmax bias from the box: ≤ n·e^{−BOX}.
BOXES = (30.0, 25.0, 20.0)
BOX = BOXES[0]
#: solver tolerance rungs (Clarabel gap / feasibility); values are then accurate to ~1e-9
SOLVER_TOLS = (1e-10, 1e-8)
#: relative agreement of the loss implementation with the cvxpy transcription (values are
#: accurate to ~1e-9)
TRANSCRIPTION_TOL = 1e-6


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

    @property
    def member(self) -> members.Member | None:
        """The paper's loss this spec transcribes (:mod:`audit.members`); ``None`` for the
        improper flat test losses, which are none of them."""
        return None if self.name == "flat" else members.member(self.name)

    @property
    def dense(self) -> bool:
        """ŷ has full support (g′(0⁺) = −∞), so a target q with zeros has no risk minimizer
        (θ_j → −∞); the flat test losses attain their infimum."""
        L = self.member
        return L is not None and L.dense

    # Ω on its domain (numpy, independent of losses/)
    def omega(self, p: np.ndarray) -> float:
        p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
        if self.name == "flat":
            return 0.0
        L = self.member
        if L.dense:  # g = p log p, the only dense member; 0 log 0 = 0
            nz = p[p > 0]
            return float(np.sum(nz * np.log(nz)))
        if L.tsallis:  # (Σ p^α − 1)/(α(α − 1)): Σ g plus the member's offset, at this α
            a = float(self.param("alpha"))
            return float((np.sum(p ** a) - 1.0) / (a * (a - 1.0)))
        return float(0.5 * p @ p + float(L.offset))  # g = p²/2; the offset is exact in float

    # Ω*(θ) as a convex cvxpy expression (possibly with an auxiliary variable τ)
    def conjugate_expr(self, theta: cp.Variable) -> cp.Expression:
        if self.name == "flat":  # Ω ≡ 0 on the domain: Ω* = the sum of the `mass` largest scores
            return cp.max(theta) if self.mass == 1 else cp.sum_largest(theta, int(self.mass))
        L = self.member
        if L.dense:  # log Σ e^θ, the conjugate of g = p log p on Δ (no threshold τ needed)
            return cp.log_sum_exp(theta)
        tau = cp.Variable()
        u = cp.pos(theta - tau)
        if L.tsallis:
            a = float(self.param("alpha"))
            b = a / (a - 1.0)
            c = (a - 1.0) ** b / a
            return tau + c * cp.sum(cp.power(u, b)) + 1.0 / (a * (a - 1.0))
        if L.capped:  # 0 ≤ p_i ≤ 1 makes f* the Huber function; Σp = mass
            return self.mass * tau + 0.5 * cp.sum(cp.huber(u, 1.0))
        return tau + 0.5 * cp.sum_squares(u) + float(-L.offset)  # g = p²/2 on Δ: f*(u) = ½ pos(u)²

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
    improper ``flat`` test loss (Ω ≡ 0 on Δ, i.e. the perceptron-like max θ − ⟨θ, y⟩; with
    ``k``: Ω ≡ 0 on C_k, the sum of the k largest scores minus ⟨θ, y⟩)."""
    if isinstance(loss, LossSpec):
        return loss
    if loss == "flat" and params.get("k", 1) != 1:
        k = params["k"]
        if set(params) != {"k"} or not isinstance(k, int) or k < 1:
            raise ValueError(f"flat takes only an integer k ≥ 1, got {params}")
        return LossSpec("flat", (("k", k),), mass=float(k), cap=1.0, proper=False)
    if loss == "flat":
        params = {key: v for key, v in params.items() if key != "k"}
        if params:
            raise ValueError(f"{loss} takes no parameters, got {sorted(params)}")
        return LossSpec(loss, proper=False)
    try:
        L = members.member(loss)
    except ValueError:
        raise ValueError(f"loss must be softmax, sparsemax, entmax, rankmax or flat, got {loss!r}") from None
    if L.tsallis:  # α is the Tsallis family's parameter
        a = float(params.get("alpha", 1.5))
        if not a > 1:
            raise ValueError(f"alpha must be > 1, got {a}")
        return LossSpec(L.name, (("alpha", a),))
    if L.capped:  # C_k: the mass k is a parameter, and every entry is capped at 1
        k = params.get("k")
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"{L.name} needs an integer k ≥ 1, got {k!r}")
        return LossSpec(L.name, (("k", k),), mass=float(k), cap=1.0)
    if params:
        raise ValueError(f"{loss} takes no parameters, got {sorted(params)}")
    return LossSpec(L.name)


# --------------------------------------------------------------------------------------
# route A: the risk program in the scores (cvxpy, DPP-cached per loss and n)
# --------------------------------------------------------------------------------------
@dataclass
class _Program:
    prob: cp.Problem
    theta: cp.Variable
    q: cp.Parameter
    A: cp.Parameter  # rows a with a·θ ≤ 0 (zero rows: no constraint)


_CACHE: dict[tuple, _Program] = {}


def _program(sp_: LossSpec, n: int, box: float) -> _Program:
    """min Ω*(θ) − ⟨θ, q⟩ s.t. Aθ ≤ 0 on the box −B ≤ θ ≤ 0, with up to n − 1 rows in A
    (one row: a half-space θ_i ≤ θ_j; several: a polyhedral cone such as {θ_t ≥ θ_i, t ∈ T})."""
    key = (sp_.key, n, box)
    if key not in _CACHE:
        theta = cp.Variable(n)
        q = cp.Parameter(n)
        A = cp.Parameter((max(1, n - 1), n))
        obj = sp_.conjugate_expr(theta) - q @ theta
        cons = [theta <= 0, theta >= -box, A @ theta <= 0]
        _CACHE[key] = _Program(cp.Problem(cp.Minimize(obj), cons), theta, q, A)
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


def _rows(n: int, pair: tuple[int, int] | None, rows: Sequence[tuple[int, int]] | None) -> np.ndarray:
    """The constraint matrix of ``θ_i ≤ θ_j`` for each (i, j) (``pair`` is one row)."""
    pairs = list(rows or ()) + ([pair] if pair is not None else [])
    if len(pairs) > max(1, n - 1):
        raise ValueError(f"rows: at most {max(1, n - 1)} constraints θ_i ≤ θ_j for n = {n}, got {len(pairs)}")
    A = np.zeros((max(1, n - 1), n))
    for r, (i, j) in enumerate(pairs):
        if i == j or not (0 <= i < n and 0 <= j < n):
            raise ValueError(f"rows: ({i}, {j}) is not a pair of distinct items of [0, {n})")
        A[r, i], A[r, j] = 1.0, -1.0
    return A


def status_text(status: str) -> str:
    """A solver status (or a solver's error message) as prose of marked text (audit/markup.py):
    ``optimal_inaccurate`` reads "optimal inaccurate"; anything that is not plain ASCII, and
    the characters reserved for mathematics, are replaced."""
    out = str(status).replace("\\", "/").replace("_", " ").replace("^", "**").replace("$", "\\$")
    return "".join(c if c.isascii() and (c.isprintable() or c == " ") else "?" for c in out)


def solve_risk(loss: str | LossSpec, q: Sequence, pair: tuple[int, int] | None = None,
               rows: Sequence[tuple[int, int]] | None = None, **params) -> RiskSolution:
    """min_θ Ω*(θ) − ⟨θ, q⟩ (optionally s.t. θ_i ≤ θ_j for ``pair = (i, j)`` and for every
    (i, j) in ``rows``) by cvxpy/Clarabel.

    The conditional risk of any label law with weights c_a and labels y_a is
    Σ_a c_a L(θ; y_a) = s·(this objective) + Σ_a c_a Ω(y_a), s = Σ_a c_a, q = Σ_a c_a y_a / s:
    the same program up to a positive factor and a constant."""
    sp_ = spec(loss, **params)
    q = np.asarray([float(x) for x in q], dtype=np.float64)
    n = q.size
    A = _rows(n, pair, rows)
    status = "not_run"
    for box in BOXES:
        prog = _program(sp_, n, box)
        prog.q.value = q
        prog.A.value = A
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
    if status != "optimal":
        return RiskSolution(status, None, None, False)
    if prog.theta.value is None or prog.prob.value is None:
        return RiskSolution(str(prog.prob.status), None, None, False)
    th = np.asarray(prog.theta.value, dtype=np.float64)
    th = th - th.max()
    # a dense ŷ meets q only where q > 0 (softmax: θ* = log q); otherwise θ_j → −∞ on {q_j = 0}
    attained = not (sp_.dense and bool(np.any(q <= 0)))
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
# the loss under test: the implementation's risk at a point, against the cvxpy transcription
# --------------------------------------------------------------------------------------
def implementation_risk(sp_: LossSpec, theta: np.ndarray, atoms: Sequence[tuple]) -> float | None:
    """Σ_a c_a L(θ; y_a) computed by the loss implementation under test (``losses.get``),
    atom by atom; ``None`` for a spec without an implementation (the improper test losses)."""
    if not sp_.proper:
        return None
    import torch

    from losses import get

    loss = get(sp_.name, **dict(sp_.params))
    Y = torch.tensor([[float(v) for v in y] for _, y in atoms], dtype=torch.float64)
    c = np.array([float(w) for w, _ in atoms])
    th = torch.as_tensor(np.asarray(theta, dtype=np.float64)).expand(Y.shape[0], -1)
    return float(c @ loss(th, Y).numpy())


def transcribed_risk(sp_: LossSpec, value: float, atoms: Sequence[tuple]) -> float:
    """The same risk from the cvxpy optimum ``value`` of Ω*(θ) − ⟨θ, q⟩ (q = Σ c y / s):
    s·value + Σ_a c_a Ω(y_a), Ω in numpy (``LossSpec.omega``)."""
    s = sum(float(w) for w, _ in atoms)
    return s * value + sum(float(w) * sp_.omega(np.array([float(v) for v in y])) for w, y in atoms)


def check_transcription(sp_: LossSpec, theta: np.ndarray, value: float, atoms: Sequence[tuple],
                        tol: float = TRANSCRIPTION_TOL) -> float | None:
    """|implementation risk − transcribed risk| at the cvxpy minimizer θ, relative to
    1 + |risk|; ``None`` for a spec without an implementation.  Above ``tol`` this raises
    :class:`audit.SuiteDefect`: the cvxpy transcription of Ω* and the loss under test are two
    routes of the suite to the same number (a wrong prediction map, conjugate or loss value
    in ``losses/`` shows up here)."""
    impl = implementation_risk(sp_, theta, atoms)
    if impl is None:
        return None
    ref = transcribed_risk(sp_, value, atoms)
    err = abs(impl - ref) / (1.0 + abs(ref))
    if not err <= tol:
        raise SuiteDefect(f"{sp_.label}: the loss implementation's conditional risk at the cvxpy minimizer is "
                          f"{impl:.12g}, the cvxpy transcription of Ω* gives {ref:.12g} (relative difference "
                          f"{err:.3g} > {tol:g})")
    return err
