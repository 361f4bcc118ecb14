"""Shared parts of the numeric FY checks (numerics/fy/fy1_conjugate.py … fy4_smoothness.py).

Each check takes the loss name (``softmax``, ``sparsemax``, ``entmax``, ``rankmax``) and a
:class:`~audit.RunContext`, and returns one :class:`~audit.Evidence` (kind ``numeric``).
Checks are deterministic functions of the context: hypothesis runs derandomized (the run
seed is mixed into the generated data through ``salt``), every other random draw comes
from ``ctx.generator(salt)``.

Outcome rules shared by all checks (CLAIMS.md "Verdicts", issue 10 §4):

* ``fails`` -- a violation of the claim, with the violating input as counterexample in
  the shape that reports/rechecks/fy.py re-checks from the stored JSON alone (hypothesis'
  shrink phase is off: a failure is reported as found, which keeps the checks fast and
  their counterexamples reproducible);
* :class:`audit.SuiteDefect` (raised) -- two of the suite's own routes disagree
  (``losses/`` against the stated formula evaluated in 50-digit mpmath, the backward pass
  against ŷ − y, a finite-difference Jacobian against the closed form, a loss attribute
  against the claim): a bug of ours, never a finding;
* ``undecided`` -- no violation, but a solver did not report ``optimal`` (cvxpy), a search
  did not reach the claimed value, or an input could not be decided in float64; the count
  is in the figures;
* ``holds`` -- none of these.

Parameter grids: entmax α ∈ :data:`ENTMAX_ALPHAS`; rankmax k ∈ :data:`RANKMAX_KS`
restricted to k ≤ n − 1.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable

import mpmath
import numpy as np
import torch
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

from audit.members import MEMBERS, member

LOSSES = tuple(m.name for m in MEMBERS)
ENTMAX_ALPHAS = (1.25, 1.5, 1.75, 2.5)
RANKMAX_KS = (1, 2, 3)
SMOOTH_ALPHAS = {"le2": (1.25, 1.5, 1.75, 2.0), "gt2": (2.5, 3.0)}
EPS = float(np.finfo(np.float64).eps)


def single_thread(fn):
    """Run a check with one intra-op torch thread, restoring the previous setting.

    The checks make thousands of tiny torch calls; on small CPU quotas the default
    thread pool costs ~10 ms per call (measured: torch.softmax on a 12×6 tensor, 12 ms
    with 2 threads vs 6 µs with 1).  Results do not depend on the thread count."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper


class Found(Exception):
    """Raised inside a hypothesis body to stop at the first violation; carries it."""

    def __init__(self, payload: dict):
        super().__init__(payload.get("reason", "violation"))
        self.payload = payload


def grid(loss: str) -> list[dict]:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    L = member(loss)
    if L.tsallis:
        return [{"alpha": a} for a in ENTMAX_ALPHAS]
    if L.capped:
        return [{"k": k} for k in RANKMAX_KS]
    return [{}]


def min_n(params: dict) -> int:
    return max(2, params.get("k", 1) + 1)


def total_mass(params: dict) -> float:
    return float(params.get("k", 1))


def run_hypothesis(strategy: st.SearchStrategy, body: Callable[[Any], None], n_examples: int) -> dict | None:
    """Run ``body`` on ``n_examples`` derandomized examples; the first ``Found`` stops it."""

    @settings(derandomize=True, database=None, max_examples=n_examples, deadline=None,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False)
    @given(strategy)
    def inner(x):
        body(x)

    try:
        inner()
    except Found as found:
        return found.payload
    return None


def as_tensor(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def round_tol(theta: np.ndarray, extra: float = 0.0) -> float:
    """Float64 rounding scale of an FY loss computed from θ: sums of n terms of size ptp θ."""
    n = theta.shape[-1]
    return 16 * (n + 1) * EPS * (1.0 + float(np.ptp(theta)) + abs(extra))


def loss_tol(theta: np.ndarray) -> float:
    """Rounding scale of a loss *value* compared with a bound in ŷ: the entries of ŷ are
    differences of numbers of size ptp θ (absolute error ~ ε·ptp θ each), and the loss
    weighs them by scores of size ptp θ, so the error grows like ε·ptp(θ)², not ε·ptp θ
    (found by the full profile: θ with one entry 5277 put L 4.8e-9 below the
    strong-convexity bound ½‖y − ŷ‖², which holds exactly)."""
    return round_tol(theta) * (1.0 + float(np.ptp(theta)))


def in_domain(p: np.ndarray, params: dict, tol: float) -> bool:
    ok = bool(np.all(p >= -tol)) and abs(float(p.sum()) - total_mass(params)) <= tol
    if "k" in params:
        ok = ok and bool(np.all(p <= 1 + tol))
    return ok


def outcome(fail: dict | None, undecided: int) -> str:
    if fail is not None:
        return "fails"
    return "undecided" if undecided else "holds"


def label(loss: str, params: dict) -> str:
    return loss + "".join(f", {k}={v}" for k, v in params.items())


# ------------------------------------------------------------------ marked text (audit/markup.py)
_SCI = re.compile(r"^([+-]?[0-9.]+)e([+-]?[0-9]+)$")
_PARAM_TEX = {"alpha": r"\alpha", "k": "k"}

#: labels of the figure keys every FY check shares (``settings`` is a list of parameter dicts)
SETTING_LABELS = {"settings": "parameter settings", "alpha": r"$\alpha$", "k": "$k$ (labels per example)",
                  "examples_per_setting": "hypothesis examples per setting"}


def tex_num(x, digits: int = 3) -> str:
    """A number as marked text: ``1.5e-09`` becomes ``$1.5 \\times 10^{-9}$``, ``0.25`` stays
    ``0.25``; a string (``mpmath.nstr``'s output) is rewritten the same way."""
    s = (x if isinstance(x, str) else f"{x:.{digits}g}").strip()
    if s in ("inf", "+inf", "-inf"):
        return "$-\\infty$" if s.startswith("-") else "$\\infty$"
    m = _SCI.match(s)
    if not m:
        return s
    mant, exp = m.group(1), int(m.group(2))
    if exp == 0:
        return mant
    return f"$10^{{{exp}}}$" if mant in ("1", "1.0") else f"${mant} \\times 10^{{{exp}}}$"


def tex_setting(loss: str, params: dict) -> str:
    """A parameter setting as marked text: ``$\\alpha = 1.5$``, ``$k = 2$``; the loss name without one."""
    if not params:
        return loss
    return ", ".join(f"${_PARAM_TEX.get(k, k)} = {v:g}$" for k, v in params.items())




# ------------------------------------------------------------------ 50-digit references
def mp_predict(loss: str, theta: np.ndarray, params: dict, dps: int = 50):
    """ŷ in mpmath (``dps`` digits) by bisection on the threshold, in the shifted frame
    z = θ − max θ.  Returns (z, p, Ω) with Ω a function on mpmath vectors.  Independent of
    losses/ and of cvxpy: the arbiter when the two disagree.  The dense member's map is the
    closed form of its g = p log p; sparsemax is the Tsallis bisection at α = 2."""
    L = member(loss)
    with mpmath.workdps(dps):
        m = max(mpmath.mpf(float(v)) for v in theta)
        z = [mpmath.mpf(float(v)) - m for v in theta]
        if L.dense:
            e = [mpmath.exp(zi) for zi in z]
            s = mpmath.fsum(e)
            return z, [ei / s for ei in e], lambda q: mpmath.fsum(qi * mpmath.log(qi) for qi in q if qi > 0)
        if L.capped:
            k = params["k"]

            def mass(tau):
                return mpmath.fsum(min(max(zi - tau, 0), 1) for zi in z)

            lo, hi = min(z) - 1, max(z)
            for _ in range(int(dps * 3.4) + 20):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if mass(mid) >= k else (lo, mid)
            p = [min(max(zi - lo, 0), 1) for zi in z]
            return z, p, lambda q: mpmath.fsum(qi * qi for qi in q) / 2
        a = mpmath.mpf(params.get("alpha", 2))
        x = [(a - 1) * zi for zi in z]
        inv = 1 / (a - 1)

        def mass(tau):
            return mpmath.fsum(max(xi - tau, 0) ** inv for xi in x)

        lo, hi = mpmath.mpf(-1), mpmath.mpf(0)
        for _ in range(int(dps * 3.4) + 20):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mass(mid) >= 1 else (lo, mid)
        p = [max(xi - lo, 0) ** inv for xi in x]
        s = mpmath.fsum(p)
        return z, [pi / s for pi in p], lambda q: (mpmath.fsum(qi ** a for qi in q) - 1) / (a * (a - 1))


def mp_loss(loss: str, theta: np.ndarray, y: np.ndarray, params: dict, dps: int = 50) -> mpmath.mpf:
    """The FY loss in mpmath: ⟨z, p⟩ − Ω(p) − ⟨z, y⟩ + Ω(y) with p from :func:`mp_predict`."""
    with mpmath.workdps(dps):
        z, p, om = mp_predict(loss, theta, params, dps)
        yy = [mpmath.mpf(float(v)) for v in y]
        inner_y = mpmath.fsum(zi * yi for zi, yi in zip(z, yy))
        return mpmath.fsum(zi * pi for zi, pi in zip(z, p)) - om(p) - inner_y + om(yy)


def mp_objective(loss: str, z, q, params: dict, dps: int = 50) -> mpmath.mpf:
    """⟨z, q⟩ − Ω(q) in mpmath for a point q of the domain (the argmax problem's objective)."""
    L = member(loss)
    with mpmath.workdps(dps):
        zz = [mpmath.mpf(v) for v in z]
        qq = [mpmath.mpf(v) for v in q]
        inner = mpmath.fsum(a * b for a, b in zip(zz, qq))
        if L.dense:  # the dense member's g = p log p, with 0 log 0 = 0
            return inner - mpmath.fsum(v * mpmath.log(v) for v in qq if v > 0)
        if L.tsallis:
            a = mpmath.mpf(params["alpha"])
            return inner - (mpmath.fsum(v ** a for v in qq) - 1) / (a * (a - 1))
        # Ω = ½‖p‖² + c: c = −½ on Δ (sparsemax), 0 on C_k (rankmax)
        return inner - mpmath.fsum(v * v for v in qq) / 2 - mpmath.mpf(L.offset)


def mp_feasible(loss: str, p: np.ndarray, params: dict, dps: int = 50) -> list:
    """A point of the exact domain next to a solver's p: on Δ clipped at 0 and renormalized;
    on C_k its Euclidean projection (50-digit bisection, shift-invariant)."""
    with mpmath.workdps(dps):
        if member(loss).capped:  # ŷ of ½‖p‖² on C_k at θ = p is that projection
            return mp_predict(loss, np.asarray(p, dtype=np.float64), params, dps)[1]
        q = [max(mpmath.mpf(float(v)), 0) for v in p]
        s = mpmath.fsum(q)
        return [v / s for v in q]


def recheck_tol(theta: np.ndarray, value: float) -> float:
    """The float64 resolution at which an outside re-check (reports/rechecks/fy.py, plain
    numpy) can confirm that a point beats the claimed argmax: 1e-9 relative to the value plus
    the rounding of ⟨θ, p⟩ over n terms of size ptp θ.  A gain below it is undecided."""
    n = theta.shape[-1]
    return 1e-9 * (1.0 + abs(value)) + 64 * (n + 1) * EPS * (1.0 + float(np.ptp(theta)))
