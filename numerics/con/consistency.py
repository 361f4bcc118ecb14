"""CON-1 (top-k calibration certificate) -- numeric check.  CON-2 lives in :mod:`numerics.con.dcg`.

Definition (Yang & Koyejo 2020).  θ is top-k preserving for η if η_i > η_[k+1] ⇒ θ_i > θ_[k+1]
and η_i < η_[k] ⇒ θ_i < θ_[k] (:func:`top_k_preserving`); the loss is top-k calibrated if
inf{R(θ) : θ not top-k preserving} > inf R for every η.

Cover.  A counting argument shows that every θ that is *not* top-k preserving lies in a
half-space {θ_i ≤ θ_j} for a pair in

    P_k = {(i, j) : η_i > η_[k+1], η_j < η_i}  ∪  {(i, j) : η_j < η_[k], η_i > η_j},

so  inf{R : θ not top-k preserving} − inf R  ≥  min_{(i,j) ∈ P_k} gap_ij,
gap_ij = inf{R : θ_i ≤ θ_j} − inf R.  Each gap is a convex program (route A, cvxpy in the
scores, :func:`numerics.con.risk.solve_risk`), cross-checked by the dual 1-D program (route B,
:func:`numerics.con.risk.dual_halfspace_value`).  k is *certified* when both routes agree
(|A − B| ≤ :data:`AGREE_TOL`) and every gap, less the route difference, exceeds :data:`GAP_TOL`.

Exact route.  The cover is only a lower bound: a pair of P_k whose gap is 0 does not by
itself exhibit a θ that violates top-k preservation.  When a gap is below ``GAP_TOL / 100``
on both routes, the non-preserving set is solved exactly as the union of the polyhedral
cones (:func:`violating_cones`)

    {θ_t ≥ θ_i, t ∈ T},  |T| = k, T ∌ i, for each i with η_i > η_[k+1]   (then θ_i ≤ θ_[k+1]),
    {θ_t ≤ θ_i, t ∈ T},  |T| = n − k, T ∌ i, for each i with η_i < η_[k]  (then θ_i ≥ θ_[k]),

one cvxpy program each.  A cone whose infimum is within ``GAP_TOL / 100`` of inf R gives a
witness θ (its constraints enforced exactly, which moves θ by the solver's feasibility
tolerance) that is not top-k preserving by the definition: that is a failure, with
counterexample ``{"eta", "k", "theta", "clause", "i", "gap"}`` (+ ``alpha`` / ``label_k``),
re-checked from the stored data by ``reports/rechecks/con.py``.  Cones all above GAP_TOL
certify k by the exact route; anything between is *undecided*.

The loss under test.  At every η the cvxpy minimizer's risk is compared with the risk the
loss implementation (``losses/``) computes there, atom by atom
(:func:`numerics.con.risk.check_transcription`); a mismatch is a defect of the suite
(:class:`audit.SuiteDefect`), not a finding.

η is drawn by hypothesis (seeded by the run seed) on a rational grid (integer counts 0…6
normalized), so exact ties are exact (no violating pair) and distinct values differ by
≥ 1/36.  Rankmax: labels are k-subsets S ∼ a law on subsets, the target is the vector of
marginal inclusion probabilities m_i = P(i ∈ S) ∈ C_k, and top-k' preservation (every
k' < n) is read on m.
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Sequence

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from audit import Evidence, RunContext
from audit.members import member

from . import risk

GAP_TOL = 1e-6  # certificate threshold on a gap (solver values are accurate to ~1e-9)
AGREE_TOL = 1e-6  # |route A − route B| allowed (power cones at α near 1 reach ~2e-7)
GRID = 6  # η counts drawn from 0..GRID

ALPHAS_QUICK = (1.5, 2.5)
ALPHAS_FULL = (1.25, 1.5, 2.0, 2.5, 3.0)

def search_settings(ctx: RunContext, quick: int, full: int, salt: int = 0):
    """Hypothesis as a seeded generator: derandomized from the run seed (and a per-search
    salt), no shrinking (every example costs convex programs), no database."""
    def deco(fn):
        fn = settings(derandomize=True, database=None, max_examples=ctx.budget(quick, full), deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                      print_blob=False)(fn)
        return seed(ctx.seed * 1_000_003 + salt)(fn)
    return deco


class Stop(Exception):
    """Raised inside a hypothesis search to end it at the first decided failure."""


# --------------------------------------------------------------------------------------
# the definition and the cover
# --------------------------------------------------------------------------------------
def _kth(values: Sequence, k: int):
    return sorted(values, reverse=True)[k - 1]


def top_k_preserving(eta: Sequence, theta: Sequence, k: int) -> bool:
    """Yang & Koyejo's definition, verbatim (exact comparisons of the given numbers)."""
    n = len(eta)
    if len(theta) != n or not 1 <= k < n:
        raise ValueError(f"theta must have len(eta) = {n} entries and k must lie in [1, n−1], got k = {k}")
    ek, ek1 = _kth(eta, k), _kth(eta, k + 1)
    tk, tk1 = _kth(theta, k), _kth(theta, k + 1)
    return all((not eta[i] > ek1 or theta[i] > tk1) and (not eta[i] < ek or theta[i] < tk) for i in range(n))


def violating_pairs(eta: Sequence, k: int) -> set[tuple[int, int]]:
    """P_k: pairs (i, j), η_i > η_j, whose half-spaces θ_i ≤ θ_j cover the non-top-k-preserving θ."""
    e = [Fraction(x) for x in eta]
    n = len(e)
    if not 1 <= k < n:
        raise ValueError(f"k must lie in [1, n−1], got {k} for n = {n}")
    ek, ek1 = _kth(e, k), _kth(e, k + 1)
    return {(i, j) for i in range(n) for j in range(n) if e[i] > e[j] and (e[i] > ek1 or e[j] < ek)}


def violating_cones(eta: Sequence, k: int) -> list[tuple[str, int, list[tuple[int, int]]]]:
    """The non-top-k-preserving set as a union of cones (clause, i, rows θ_a ≤ θ_b)."""
    e = [Fraction(x) for x in eta]
    n = len(e)
    ek, ek1 = _kth(e, k), _kth(e, k + 1)
    out = []
    for i in range(n):
        others = [t for t in range(n) if t != i]
        if e[i] > ek1:  # θ_i ≤ θ_[k+1]: k others at or above θ_i
            out += [("A", i, [(i, t) for t in T]) for T in itertools.combinations(others, k)]
        if e[i] < ek:  # θ_i ≥ θ_[k]: n − k others at or below θ_i
            out += [("B", i, [(t, i) for t in T]) for T in itertools.combinations(others, n - k)]
    return out


def _enforce(theta: np.ndarray, clause: str, i: int, rows: list[tuple[int, int]]) -> list[float]:
    """θ with every row of the cone made exact: clause A raises θ_t to θ_i where θ_t < θ_i,
    clause B lowers θ_t to θ_i where θ_t > θ_i (moves of the size of the solver's
    feasibility tolerance)."""
    th = theta.copy()
    for a, b in rows:
        t = b if clause == "A" else a
        th[t] = max(th[t], th[i]) if clause == "A" else min(th[t], th[i])
    return [float(x) for x in th]


# --------------------------------------------------------------------------------------
# one η
# --------------------------------------------------------------------------------------
def _classification_atoms(q: Sequence[Fraction]) -> list[tuple[Fraction, list[Fraction]]]:
    n = len(q)
    return [(w, [Fraction(int(i == y)) for i in range(n)]) for y, w in enumerate(q) if w > 0]


def _exact_k(sp_: risk.LossSpec, q: list[Fraction], k: int, base: risk.RiskSolution) -> dict:
    """inf R over each violating cone of k: a witness (gap ≤ GAP_TOL/100), or a certificate."""
    best, undecided = math.inf, None
    for clause, i, rows in violating_cones(q, k):
        c = risk.solve_risk(sp_, q, rows=rows)
        if not c.ok:
            undecided = f"cone ({clause}, $i = {i}$) solve: {risk.status_text(c.status)}"
            continue
        gap = c.value - base.value
        best = min(best, gap)
        if gap <= GAP_TOL / 100:
            theta = _enforce(c.theta, clause, i, rows)
            if not top_k_preserving(q, theta, k):
                return {"decision": "fails", "gap": gap, "theta": theta, "clause": clause, "i": i}
            undecided = (f"cone ({clause}, $i = {i}$) reaches $\\inf R$ but its $\\theta$ is top-$k$ preserving "
                         f"after rounding")
    if undecided is None and best > GAP_TOL:
        return {"decision": "certified", "gap": best}
    return {"decision": "undecided", "gap": best,
            "why": undecided or f"exact gap {best:.3g} $\\le$ {GAP_TOL:g}"}


def certify_eta(loss: str | risk.LossSpec, eta: Sequence, atoms: Sequence[tuple] | None = None, **params) -> dict:
    """All half-space gaps at η (both routes), the exact route where the cover is not
    enough, and the decision for every k < n.  ``atoms``: the label law (c_a, y_a) behind η
    (default one-hot labels e_y with weight η_y) for the comparison with the loss
    implementation."""
    sp_ = risk.spec(loss, **params)
    q = [Fraction(x) for x in eta]
    n = len(q)
    base = risk.solve_risk(sp_, q)
    ref = risk.inf_risk_value(sp_, q)
    res = {"eta": [float(x) for x in q], "n": n, "pairs": 0, "decision": "certified", "min_gap": math.inf,
           "max_route_diff": 0.0, "k_min_gap": {}, "bad": None, "exact_k": 0}
    if not base.ok:
        res["decision"] = "undecided"
        res["why"] = f"unconstrained solve: {risk.status_text(base.status)}"
        return res
    res["transcription_err"] = risk.check_transcription(sp_, base.theta, base.value,
                                                        atoms if atoms is not None else _classification_atoms(q))
    res["max_route_diff"] = abs(base.value - ref)
    gaps: dict[tuple[int, int], tuple[float, float]] = {}
    for k in range(1, n):
        kmin, zero_gap, why = math.inf, False, None
        for pair in sorted(violating_pairs(q, k)):
            if pair not in gaps:
                c = risk.solve_risk(sp_, q, pair)
                gb = risk.dual_halfspace_value(sp_, q, pair) - ref
                gaps[pair] = ((c.value - base.value) if c.ok else math.nan, gb)
            ga, gb = gaps[pair]
            if math.isnan(ga):
                why = f"half-space solve {pair} not optimal"
                kmin = -math.inf
                continue
            kmin = min(kmin, ga)
            res["max_route_diff"] = max(res["max_route_diff"], abs(ga - gb))
            if max(ga, gb) <= GAP_TOL / 100:
                zero_gap = True
            elif min(ga, gb) - abs(ga - gb) <= GAP_TOL:
                why = (f"gap {min(ga, gb):.3g} (routes $\\pm${abs(ga - gb):.2g}) $\\le$ tolerance {GAP_TOL:g} at "
                       f"pair {pair}, $k = {k}$")
        if zero_gap:  # the cover is not enough: solve the non-preserving set exactly
            res["exact_k"] += 1
            ex = _exact_k(sp_, q, k, base)
            kmin = ex["gap"]
            if ex["decision"] == "fails":
                res["decision"] = "fails"
                res["bad"] = {"eta": res["eta"], "k": k, "theta": ex["theta"], "clause": ex["clause"], "i": ex["i"],
                              "gap": ex["gap"]}
            elif ex["decision"] == "undecided":
                why = ex["why"]
        res["k_min_gap"][k] = kmin
        res["min_gap"] = min(res["min_gap"], kmin)
        if res["decision"] == "fails":
            break
        if why and res["decision"] == "certified":
            res["decision"], res["why"] = "undecided", why
    res["pairs"] = len(gaps)
    if res["decision"] == "certified" and res["max_route_diff"] > AGREE_TOL:
        res["decision"] = "undecided"
        res["why"] = f"routes disagree by {res['max_route_diff']:.3g}"
    return res


# --------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------
@st.composite
def grid_eta(draw, min_n: int = 2, max_n: int = 6):
    """η = c / Σc with integer counts c_i ∈ 0..GRID: exact ties, zeros, near-ties 1/36 apart."""
    n = draw(st.integers(min_n, max_n))
    c = draw(st.lists(st.integers(0, GRID), min_size=n, max_size=n))
    if sum(c) == 0:
        c[0] = 1
    s = sum(c)
    return [Fraction(x, s) for x in c]


@st.composite
def subset_law(draw, min_n: int = 3, max_n: int = 6):
    """A law on k-subsets (1–3 atoms, integer weights 1–4): (k, marginals m ∈ C_k, atoms
    (weight, multi-hot label))."""
    n = draw(st.integers(min_n, max_n))
    k = draw(st.integers(1, n - 1))
    draws = draw(st.lists(st.tuples(st.integers(1, 4), st.permutations(range(n))), min_size=1, max_size=3))
    W = sum(w for w, _ in draws)
    atoms = [(Fraction(w, W), [Fraction(int(i in perm[:k])) for i in range(n)]) for w, perm in draws]
    m = [sum((c * y[i] for c, y in atoms), Fraction(0)) for i in range(n)]
    return k, m, atoms


def _topk_runs(loss: str, ctx: RunContext) -> list[tuple[dict, list]]:
    """(params, certify results) per parameter setting of the loss; ends at the first failure.
    The loss under test for the cvxpy programs is ``risk.spec(loss, ·)``, looked up here."""
    out: list[tuple[dict, list]] = []
    L = member(loss)

    def search(params: dict, strategy, salt: int) -> list:
        found: list[dict] = []

        @search_settings(ctx, 20, 80, salt)
        @given(strategy)
        def run(x):
            if found and found[-1]["decision"] == "fails":  # hypothesis replays the failing example
                raise Stop()
            if L.capped:  # a law on k-subsets: its marginals lie in C_k
                k, m, atoms = x
                r = certify_eta(risk.spec(loss, k=k), m, atoms)
                r["label_k"] = k
            else:
                r = certify_eta(risk.spec(loss, **params), x)
            found.append(r)
            if r["decision"] == "fails":
                raise Stop()

        try:
            run()
        except Stop:
            pass
        return found

    if L.capped:
        return [({}, search({}, subset_law(), 7))]
    grid = [dict(alpha=a) for a in ctx.budget(ALPHAS_QUICK, ALPHAS_FULL)] if L.tsallis else [{}]
    for s, params in enumerate(grid):
        out.append((params, search(params, grid_eta(), s)))
        if any(r["decision"] == "fails" for r in out[-1][1]):
            break
    return out


#: labels of the figures of :func:`topk_calibration` (marked text, audit/markup.py)
LABELS = {
    "min_gap": r"smallest half-space gap $\inf\{R : \theta_i \le \theta_j\} - \inf R$",
    "etas": r"target means $\eta$ drawn",
    "certified": r"$\eta$ certified",
    "undecided": r"$\eta$ undecided",
    "failed": r"$\eta$ failed",
    "pairs": r"violating pairs $(i, j)$ solved",
    "k_values": r"values of $k$ checked",
    "k_values_solved_exactly": r"values of $k$ solved exactly (cone route)",
    "etas_without_violating_pair": r"$\eta$ without a violating pair",
    "etas_with_zeros": r"$\eta$ with a zero entry",
    "max_route_diff": "max difference of the cvxpy and dual routes",
    "max_transcription_err": "max relative error of the implementation's risk against cvxpy",
    "gap_tol": "gap threshold",
    "seed": "run seed",
    "alphas": r"$\alpha$ grid",
    "min_gap_by_alpha": r"smallest half-space gap per $\alpha$",
    "unattained_inf": r"$\eta$ where $\inf R$ is not attained",
}


def topk_calibration(loss: str, ctx: RunContext) -> Evidence:
    """CON-1 certificate for one loss (entmax: on an α grid; rankmax: k-subset labels); the
    loss under test for the cvxpy programs is ``risk.spec(loss, ·)``."""
    L = member(loss)
    runs = _topk_runs(loss, ctx)
    results = [r for _, rs in runs for r in rs]
    fails = [r for r in results if r["decision"] == "fails"]
    undec = [r for r in results if r["decision"] == "undecided"]
    cert = [r for r in results if r["decision"] == "certified"]
    finite = [r["min_gap"] for r in results if math.isfinite(r["min_gap"])]
    figures = {
        "min_gap": min(finite) if finite else None,
        "etas": len(results),
        "certified": len(cert),
        "undecided": len(undec),
        "failed": len(fails),
        "pairs": sum(r["pairs"] for r in results),
        "k_values": sum(r["n"] - 1 for r in results),
        "k_values_solved_exactly": sum(r["exact_k"] for r in results),
        "etas_without_violating_pair": sum(1 for r in results if not math.isfinite(r["min_gap"])),
        "etas_with_zeros": sum(1 for r in results if min(r["eta"]) == 0),
        "max_route_diff": max((r["max_route_diff"] for r in results), default=0.0),
        "max_transcription_err": max((r["transcription_err"] for r in results
                                      if r.get("transcription_err") is not None), default=None),
        "gap_tol": GAP_TOL,
        "seed": ctx.seed,
    }
    if L.tsallis:
        figures["alphas"] = [p["alpha"] for p, _ in runs]
        figures["min_gap_by_alpha"] = {str(p["alpha"]): min((r["min_gap"] for r in rs if math.isfinite(r["min_gap"])),
                                                            default=None) for p, rs in runs}
    if L.dense:  # full support: a zero of η is approached (θ_j → −∞), never attained
        figures["unattained_inf"] = figures["etas_with_zeros"]
    scope = (r"$\eta$ on the grid $c/\sum c$, $c_i \in \{0, \dots, 6\}$, $n \le 6$, every $k < n$" if not L.capped
             else r"$k$-subset label laws (1–3 atoms, weights 1–4), $n \le 6$, top-$k'$ on the marginals "
             r"$m_i = P(i \in S)$, every $k' < n$")
    detail = (r"certificate: every violating pair's half-space gap $\inf\{R : \theta_i \le \theta_j\} - \inf R$ "
              f"(cvxpy, cross-checked by the dual 1-D program) must exceed {GAP_TOL:g}, and where a pair's gap is 0 "
              f"the non-preserving set is solved exactly (one cone per violating pattern); the loss implementation's "
              f"risk at each minimizer agrees with the cvxpy transcription; {scope}; hypothesis seeded by the run "
              f"seed; {len(cert)} certified, {len(undec)} undecided, {len(fails)} failed of {len(results)}")
    if L.dense:
        detail += (f"; {figures['etas_with_zeros']} " + r"$\eta$ have zeros, where $\inf R$ is not attained "
                   r"($\theta_j \to -\infty$; solved on the box $-B \le \theta \le 0$, $B$ in "
                   f"{list(risk.BOXES)}, " + r"bias $\le n e^{-B}$)")
    what = r"$\eta$" if not L.capped else "label laws"
    grid = (r" on $\alpha \in \{" + ", ".join(f"{p['alpha']:g}" for p, _ in runs) + r"\}$") if L.tsallis else ""
    if fails:
        cx = dict(fails[0]["bad"])
        if L.tsallis:
            cx["alpha"] = [p for p, rs in runs if fails[0] in rs][0]["alpha"]
        if L.capped:
            cx["label_k"] = fails[0]["label_k"]
        eta = "(" + ", ".join(f"{x:.2g}" for x in cx["eta"]) + ")"
        summary = (f"counterexample $\\eta = {eta}$: $\\theta$ at $\\inf R$ (gap {cx['gap']:.2g}), not "
                   f"top-{cx['k']} preserving")
        return Evidence("numeric", "topk-certificate", "fails",
                        detail + f"; counterexample: $\\theta$ not top-{cx['k']} preserving with "
                        f"$R(\\theta) - \\inf R$ = {cx['gap']:.3g}",
                        figures, counterexample=cx, summary=summary, labels=LABELS)
    if undec:
        summary = (f"{len(undec)} of {len(results)} {what}{grid} undecided by the half-space gaps, "
                   f"{len(cert)} certified")
        return Evidence("numeric", "topk-certificate", "undecided",
                        detail + f"; first undecided: $\\eta$ = {undec[0]['eta']} ({undec[0].get('why', '')})", figures,
                        summary=summary, labels=LABELS)
    gap = f"{figures['min_gap']:.2g}" if figures["min_gap"] is not None else "none"
    summary = (f"top-$k$ calibration certified at {len(cert)} {what}{grid}, every $k < n$ (smallest gap "
               f"{gap})")
    return Evidence("numeric", "topk-certificate", "holds", detail, figures, summary=summary, labels=LABELS)
