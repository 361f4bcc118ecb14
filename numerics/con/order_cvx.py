"""CON-3, reading O2: points of the near-minimizer set of a sparse conditional risk, found
by cvxpy independently of ``losses/``.

For an FY loss the conditional risk is R(θ; η) = E_{y∼η} L(θ; y) = L(θ; η) + const
(CLAIMS.md §2), so its near-minimizers are the sublevel set

    S_ε(η) = {θ : L(θ; η) ≤ ε},   L(θ; η) = Ω*(θ) + Ω(η) − ⟨θ, η⟩,   inf L = 0.

Ω* is written through its dual in the threshold τ (the multiplier of Σp = mass; the
inner maximization over each p_i is solved in closed form), jointly convex in (θ, τ):

* sparsemax, Ω = ½‖p‖² − ½ on Δ:       Ω*(θ) = min_τ τ + ½‖[θ − τ]_+‖² + ½;
* rankmax R1, Ω = ½‖p‖² on C_k:         Ω*(θ) = min_τ kτ + Σ_i h(θ_i − τ),
  h(z) = max_{0≤p≤1} zp − p²/2 = huber([z]_+, 1)/2 (0 for z ≤ 0, z²/2 on [0, 1], z − ½ above);
* α-entmax, Ω = (Σp^α − 1)/(α(α−1)) on Δ: Ω*(θ) = min_τ τ + Σ_i ((α−1)[θ_i − τ]_+)^{α/(α−1)}/α
  + 1/(α(α−1))  (the inner argmax is p_i = ((α−1)[θ_i − τ]_+)^{1/(α−1)}, value
  ((α−1)[θ_i − τ]_+)^{α/(α−1)}/α).

So θ ∈ S_ε(η) ⟺ ∃τ: dual(θ, τ) + Ω(η) − ⟨θ, η⟩ ≤ ε, a convex (DCP) constraint.  These
forms are checked against the library's conjugate in tests/test_order_dynamics.py, and
every point found here is certified with the library's loss by the caller (a
disagreement of the two routes is a defect of the suite).

:func:`sublevel_points` maximizes random linear objectives c_r^T θ_r over S_ε(η_r) inside
the box |θ_i| ≤ ``box`` (shift fixed by Σθ = 0: S_ε is invariant under θ + c1).  The rows
are independent, so all of them go into one separable program (one compile, one solve).
"""
from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np

from audit.members import Member, member

from ..cvx import clarabel_opts


def _sparse_member(loss: str) -> Member:
    """The member named ``loss``, which must be sparse: the τ-dual below clips at p_i = 0,
    where a dense ŷ never is."""
    try:
        L = member(loss)
    except ValueError:
        L = None
    if L is None or L.dense:
        raise ValueError(f"loss must be one of sparsemax, entmax, rankmax, got {loss!r}")
    return L


def omega_np(loss: str, eta: np.ndarray, params: dict) -> np.ndarray:
    """Ω(η) row-wise (η in the domain)."""
    L = _sparse_member(loss)
    if L.tsallis:  # (Σ η^α − 1)/(α(α − 1)): Σ g plus the member's offset, at this α
        a = float(params["alpha"])
        return ((eta ** a).sum(-1) - 1) / (a * (a - 1))
    return 0.5 * (eta ** 2).sum(-1) + float(L.offset)  # g = p²/2; the offset is exact in float


def dual_conjugate(loss: str, theta, tau, params: dict):
    """The τ-dual objective of Ω* (a cvxpy expression per row, or a numpy array when
    ``theta``/``tau`` are arrays: its minimum over τ is Ω*(θ))."""
    L = _sparse_member(loss)
    numeric = isinstance(theta, np.ndarray)
    R, n = theta.shape
    if numeric:
        Z = theta - np.asarray(tau, dtype=np.float64).reshape(R, 1)
        pos = np.maximum(Z, 0.0)
        rowsum = lambda x: x.sum(-1)  # noqa: E731
    else:
        Z = theta - cp.reshape(tau, (R, 1), order="C") @ np.ones((1, n))
        pos = cp.pos(Z)
        rowsum = lambda x: cp.sum(x, axis=1)  # noqa: E731
    if L.capped:  # 0 ≤ p_i ≤ 1 makes the inner maximum the Huber function; Σp = k
        k = int(params["k"])
        if numeric:
            h = np.where(pos <= 1, 0.5 * pos ** 2, pos - 0.5)
            return k * tau + rowsum(h)
        return k * tau + rowsum(cp.huber(pos, 1)) / 2
    if L.tsallis:
        a = float(params["alpha"])
        q = a / (a - 1)
        body = (a - 1) * pos
        return tau + rowsum(body ** q if numeric else cp.power(body, q)) / a + 1 / (a * (a - 1))
    return tau + 0.5 * rowsum(pos ** 2 if numeric else cp.square(pos)) + float(-L.offset)  # g = p²/2 on Δ


def sublevel_points(loss: str, params: dict, eta: np.ndarray, directions: np.ndarray, eps: float,
                    box: float = 6.0) -> tuple[str, np.ndarray | None]:
    """For each row r: argmax c_r^T θ over {θ : L(θ; η_r) ≤ ε, |θ_i| ≤ box, Σθ = 0}.

    Returns (solver status, θ of shape (R, n) or None).  Anything but ``"optimal"`` is the
    caller's *undecided*."""
    eta = np.asarray(eta, dtype=np.float64)
    C = np.asarray(directions, dtype=np.float64)
    if eta.shape != C.shape or eta.ndim != 2:
        raise ValueError(f"eta and directions must have the same shape (R, n), got {eta.shape} and {C.shape}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    R, n = eta.shape
    th = cp.Variable((R, n))
    tau = cp.Variable(R)
    risk = dual_conjugate(loss, th, tau, params) + omega_np(loss, eta, params) - cp.sum(cp.multiply(th, eta), axis=1)
    prob = cp.Problem(cp.Maximize(cp.sum(cp.multiply(C, th))),
                      [risk <= eps, cp.abs(th) <= box, cp.sum(th, axis=1) == 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prob.solve(solver=cp.CLARABEL, **clarabel_opts(1e-9))
        except cp.error.SolverError:
            return "solver_error", None
    if prob.status != cp.OPTIMAL or th.value is None:
        return str(prob.status), None
    return "optimal", np.asarray(th.value, dtype=np.float64)


__all__ = ["omega_np", "dual_conjugate", "sublevel_points"]
