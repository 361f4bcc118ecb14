"""CON-2 (DCG consistency) -- numeric check: the conditional risk of the loss under test,
minimized by cvxpy, ranked, and scored by exact E_D[DCG].

For one relevance law D (:mod:`numerics.con.labels`) and one label map, the risk is
R(θ) = Σ_a c_a L(θ; y_a) over the atoms of D (weights c_a = p_a·w_a, labels y_a).  Its
minimizer set M is probed directly, never read off a formula:

1. ``base``: min R by cvxpy (Ω* transcribed in the threshold τ, :mod:`numerics.con.risk`);
   the loss implementation's risk at the minimizer, atom by atom, must agree with the
   transcription (else :class:`audit.SuiteDefect`).
2. E[DCG(π)] = Σ_pos g_{π(pos)} / log2(1 + pos), g = E_D[G(r)]; a ranking is optimal iff it
   sorts g (discounts strictly decrease), so sorting every θ ∈ M, ties broken every way,
   is optimal iff every θ ∈ M has θ_i > θ_j whenever g_i > g_j.  By transitivity it is
   enough to test the pairs (i, j) of adjacent levels of g.
3. Per such pair, the half-space gap inf{R : θ_i ≤ θ_j} − inf R (cvxpy, and the dual 1-D
   route of :func:`numerics.con.risk.dual_halfspace_value`): above :data:`GAP_TOL` on both
   routes the pair is *forced* (every minimizer ranks i above j); below ``GAP_TOL / 100``
   on both it is *free* (a minimizer ties or reverses it: its worst sorting loses DCG);
   between, or routes apart, *undecided*.
4. A free pair is a failure of the reading.  The counterexample is (D, θ) with θ an exact
   Bayes-optimal score vector whose worst sorting loses E[DCG]: ∇Ω(q) for the losses of
   the suite (the cvxpy minimizer is only accurate to ~1e-5 in flat directions, so it is
   stored alongside as ``theta_solver``), re-checked from the stored data alone by
   ``reports/rechecks/con.py``.

The closed-form route is the cross-check, not the decision: for an FY loss, properness and
a weakly order-preserving ŷ (proofs/con/consistency.py) say M = {θ : ŷ(θ) = q}, q = Σ c y / Σ c,
and that a pair is forced iff q_i > q_j.  A cvxpy minimizer with ŷ(θ*) ≠ q (beyond
:data:`PROPER_TOL`) or a pair whose cvxpy decision contradicts q is a disagreement of two
routes of the suite: :class:`audit.SuiteDefect`.  (For an improper loss -- ``risk.spec`` handing
the programs a loss without its Ω, a planted defect -- there is no closed form and no
cross-check.)  The loss under test is ``risk.spec(loss, ·)`` and the label map
``labels.label_map(name)`` (the table ``labels.LABEL_MAPS``), both looked up at call time.

Search.  Hypothesis draws relevance laws (seeded by the run seed; 1–3 atoms, weights 1–4,
binary or graded r ∈ {0,1,2}^n, n ≤ 5 quick / 6 full).  The closed form screens every drawn
law cheaply; the laws it predicts to fail (at most :data:`PREDICTED`) and the first
``20 / 80`` drawn laws are solved by the route above, in that order, until the first
decided failure.  The screen only orders the work: what is reported is the cvxpy decision.
Softmax with q_j = 0 (item j never relevant) has no minimizer (θ_j → −∞); the programs run
on the box −B ≤ θ ≤ 0, the infimum moves by ≤ n·e^{−B}, and such laws are counted.
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache
from fractions import Fraction
from typing import Sequence

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from audit import Evidence, RunContext, SuiteDefect
from audit.markup import SUMMARY_CHARS, visible_length
from audit.members import member

from . import labels as lab
from . import risk
from .consistency import AGREE_TOL, ALPHAS_FULL, ALPHAS_QUICK, GAP_TOL, search_settings

DCG_TOL = 1e-9  # DCG regret threshold (regrets of rational D are 0 or ≫ 1e-6)
#: max |ŷ(θ*) − q| of a cvxpy minimizer.  θ* is accurate only to ~√(value accuracy) in weakly
#: curved directions, so ŷ(θ*) meets q to ~1e-5 (softmax, entmax at α = 1.25: up to 4e-5 in the
#: full profile); 1e-3 keeps a wide margin.  The risk *value*, accurate to ~1e-9, is compared
#: with the loss implementation far tighter (risk.TRANSCRIPTION_TOL, relative 1e-6).
PROPER_TOL = 1e-3
PREDICTED = 3  # laws the closed form predicts to fail that are solved first

# --------------------------------------------------------------------------------------
# exact E[DCG] of every ranking
# --------------------------------------------------------------------------------------
_PERMS: dict[int, np.ndarray] = {}


def permutations(n: int) -> np.ndarray:
    if n not in _PERMS:
        _PERMS[n] = np.array(list(itertools.permutations(range(n))), dtype=np.int64)
    return _PERMS[n]


def discounts(n: int) -> np.ndarray:
    """1 / log2(1 + pos), pos = 1..n."""
    return 1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64))


def dcg_table(g: Sequence[float]) -> np.ndarray:
    """E_D[DCG] of every permutation (rows of :func:`permutations`), given g = E_D[G(r)]:
    E[DCG(π)] = Σ_pos g_{π(pos)} / log2(1 + pos) by linearity."""
    g = np.asarray([float(x) for x in g])
    return g[permutations(g.size)] @ discounts(g.size)


def consistent_mask(scores: Sequence[float], tie_tol: float = 0.0) -> np.ndarray:
    """Permutations that sort ``scores`` in non-increasing order (ties broken every way)."""
    s = np.asarray([float(x) for x in scores])
    sp = s[permutations(s.size)]
    return np.all(sp[:, :-1] >= sp[:, 1:] - tie_tol, axis=1)


def dcg_regret(g: Sequence[float], scores: Sequence[float], tie_tol: float = 0.0) -> tuple[float, float]:
    """(best − worst, best − best) over the rankings consistent with ``scores``."""
    table = dcg_table(g)
    mask = consistent_mask(scores, tie_tol)
    best = float(table.max())
    return best - float(table[mask].min()), best - float(table[mask].max())


def canonical_theta(sp_: risk.LossSpec, q: Sequence) -> list[float] | None:
    """∇Ω(q): an exact Bayes-optimal score vector with ŷ(θ) = q (softmax with q_j = 0:
    −BOX, standing in for the unattained −∞); None for a loss without one."""
    qf = [float(x) for x in q]
    L = sp_.member
    if L is None:
        return None
    # g′(q) up to the shift: log q is that of the dense member's g = p log p
    if L.dense:
        return [math.log(x) if x > 0 else -risk.BOX for x in qf]
    if L.tsallis:
        a = float(sp_.param("alpha"))
        return [x ** (a - 1) / (a - 1) for x in qf]
    return qf  # g = p²/2: the projection of q ∈ dom Ω is q itself


# --------------------------------------------------------------------------------------
# one law
# --------------------------------------------------------------------------------------
def level_pairs(g: Sequence[Fraction]) -> list[tuple[int, int]]:
    """Pairs (i, j) with g_i and g_j on adjacent levels of g, g_i > g_j."""
    levels = sorted(set(g), reverse=True)
    return [(i, j) for hi, lo in zip(levels, levels[1:]) for i in range(len(g)) if g[i] == hi
            for j in range(len(g)) if g[j] == lo]


def _cross_check(sp_: risk.LossSpec, base: risk.RiskSolution, q: list[Fraction]) -> float | None:
    """Properness of the cvxpy minimizer: ŷ(θ*) = q by the loss implementation."""
    if not sp_.proper:
        return None
    err = float(np.max(np.abs(sp_.predict(base.theta) - np.array([float(x) for x in q]))))
    if not err <= PROPER_TOL:
        raise SuiteDefect(f"{sp_.label}: the cvxpy risk minimizer has ŷ(θ*) {err:.3g} away from the target mean "
                          f"q = {[float(x) for x in q]} (properness, tol {PROPER_TOL:g})")
    return err


def decide_law(sp_: risk.LossSpec, lm: lab.LabelMap, D) -> dict:
    """The cvxpy decision for one law (module docstring, steps 1–4)."""
    atoms = lm.atoms(D)
    q, g = lab.target_of(atoms), lab.expected_gains(D)
    res = {"D": D, "q": q, "g": g, "decision": "certified", "solves": 1, "pairs": 0, "min_gap": math.inf,
           "closed_regret": dcg_regret(g, q)[0], "proper_err": None, "transcription_err": None, "why": "",
           "attained": not (sp_.dense and min(q) == 0)}
    base = risk.solve_risk(sp_, q)
    if not base.ok:
        res.update(decision="undecided", why=f"risk minimization: {risk.status_text(base.status)}")
        return res
    res["transcription_err"] = risk.check_transcription(sp_, base.theta, base.value, atoms)
    res["proper_err"] = _cross_check(sp_, base, q)
    ref = risk.inf_risk_value(sp_, q)
    free = None
    for i, j in level_pairs(g):
        c = risk.solve_risk(sp_, q, (i, j))
        res["solves"] += 1
        res["pairs"] += 1
        if not c.ok:
            res.update(decision="undecided", why=f"half-space ({i}, {j}) solve: {risk.status_text(c.status)}")
            continue
        ga, gb = c.value - base.value, risk.dual_halfspace_value(sp_, q, (i, j)) - ref
        res["min_gap"] = min(res["min_gap"], ga)
        if max(ga, gb) <= GAP_TOL / 100:
            state = "free"
        elif min(ga, gb) - abs(ga - gb) > GAP_TOL and abs(ga - gb) <= AGREE_TOL:
            state = "forced"
        else:
            res.update(decision="undecided", why=f"gap {ga:.3g} (dual route {gb:.3g}) at pair ({i}, {j})")
            continue
        if sp_.proper and (state == "forced") != (q[i] > q[j]):
            raise SuiteDefect(f"{sp_.label}, D = {D}: the cvxpy minimizer set calls pair ({i}, {j}) {state} (gap "
                              f"{ga:.3g}, dual {gb:.3g}), the closed form (properness + order preservation) says "
                              f"{'forced' if q[i] > q[j] else 'free'} (q_i = {q[i]}, q_j = {q[j]})")
        if state == "free" and free is None:
            free = (i, j, c)
    if free is not None:
        i, j, c = free
        theta_solver = c.theta.copy()
        theta_solver[i] = min(theta_solver[i], theta_solver[j])  # the half-space made exact
        theta = canonical_theta(sp_, q) if sp_.proper else [float(x) for x in theta_solver]
        regret = dcg_regret(g, theta)[0]
        if not regret > DCG_TOL:
            raise SuiteDefect(f"{sp_.label}, D = {D}: pair ({i}, {j}) is free in the minimizer set, yet the stored "
                              f"Bayes-optimal θ = {theta} loses no DCG")
        res.update(decision="fails", pair=(i, j), theta=theta, theta_solver=[float(x) for x in theta_solver],
                   regret=regret, kind=("tie" if q[i] == q[j] else "strict") if sp_.proper else "improper loss")
    elif sp_.proper and res["decision"] == "certified" and res["closed_regret"] > DCG_TOL:
        raise SuiteDefect(f"{sp_.label}, D = {D}: every tested pair is forced, but sorting q loses "
                          f"{res['closed_regret']:.3g} of E[DCG]")
    return res


# --------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------
@st.composite
def relevance_law(draw, min_n: int = 3, max_n: int = 5, multihot: bool = False):
    """D: 1–3 atoms with integer weights 1–4 over relevance vectors; binary or graded
    {0,1,2} (multihot: binary with the same number k of relevant items)."""
    n = draw(st.integers(min_n, max_n))
    atoms = []
    if multihot:
        k = draw(st.integers(1, n - 1))
        for _ in range(draw(st.integers(1, 3))):
            perm = draw(st.permutations(range(n)))
            atoms.append((draw(st.integers(1, 4)), [1 if i in perm[:k] else 0 for i in range(n)]))
    else:
        top = draw(st.sampled_from((1, 2)))
        for _ in range(draw(st.integers(1, 3))):
            r = draw(st.lists(st.integers(0, top), min_size=n, max_size=n))
            if sum(r) == 0:
                r[-1] = 1
            atoms.append((draw(st.integers(1, 4)), r))
    W = sum(w for w, _ in atoms)
    return [(Fraction(w, W), r) for w, r in atoms]


@lru_cache(maxsize=32)
def _draw_laws(seed: int, profile: str, multihot: bool, max_n: int) -> tuple:
    """The relevance laws of a run (they depend on the seed and the profile only, so every
    check and planted defect of a run sees the same ones; kept across planted runs)."""
    laws: list = []

    @search_settings(RunContext(profile=profile, seed=seed), 200, 600, salt=11)
    @given(relevance_law(max_n=max_n, multihot=multihot))
    def draw(D):
        laws.append(D)

    draw()
    return tuple(laws)


_draw_laws.keep_across_planted = True  # type: ignore[attr-defined]


def _candidates(laws: list, lm: lab.LabelMap, n_solve: int) -> tuple[list, int]:
    """Laws to solve, in order: the closed form's predicted failures first, then the first
    ``n_solve`` drawn; and the number of predicted failures among all drawn."""
    predicted = [D for D in laws if dcg_regret(lab.expected_gains(D), lm.target(D))[0] > DCG_TOL]
    out, seen = [], set()
    for D in predicted[:PREDICTED] + laws[:n_solve]:
        key = repr(D)
        if key not in seen:
            seen.add(key)
            out.append(D)
    return out, len(predicted)


#: labels of the figures of :func:`dcg_consistency` (marked text, audit/markup.py)
LABELS = {
    "laws_drawn": "relevance laws drawn",
    "laws_predicted_to_fail_by_closed_form": "laws the closed form predicts to fail",
    "laws_solved": "laws solved by cvxpy",
    "solves": "cvxpy solves",
    "pairs_tested": r"pairs of adjacent $\mathbb{E}[G]$ levels tested",
    "min_halfspace_gap": r"smallest half-space gap $\inf\{R : \theta_i \le \theta_j\} - \inf R$",
    "max_properness_err": r"max $|\hat y(\theta^*) - q|$ (properness)",
    "max_transcription_err": "max relative error of the implementation's risk against cvxpy",
    "undecided": "laws undecided",
    "unattained_inf": r"laws with $q_j = 0$ (softmax minimizer not attained)",
    "max_n": r"largest $n$",
    "gap_tol": "gap threshold",
    "seed": "run seed",
    "label_map": "label map",
    "alphas": r"$\alpha$ grid",
    "counterexample_regret": r"$\mathbb{E}[\mathrm{DCG}]$ lost by the worst Bayes-optimal ranking",
    "counterexample_kind": "kind of counterexample (strict reversal or tie)",
}


def dcg_consistency(loss: str, label_map: str, ctx: RunContext) -> Evidence:
    """CON-2 for one loss and label map (entmax: α grid; rankmax: multihot labels, k = the
    label's number of relevant items); the loss under test is ``risk.spec(loss, ·)``, the
    label map ``labels.label_map(label_map)``."""
    lm = lab.label_map(label_map)
    L = member(loss)
    alphas = ctx.budget(ALPHAS_QUICK, ALPHAS_FULL) if L.tsallis else None
    param_list = [{"alpha": a} for a in alphas] if alphas else [{}]
    max_n = ctx.budget(5, 6)
    laws = list(_draw_laws(ctx.seed, ctx.profile, lm.binary, max_n))
    todo, n_predicted = _candidates(laws, lm, ctx.budget(20, 80))
    done: list[dict] = []
    failure = None
    for params in param_list:
        for D in todo:
            p = dict(params)
            if L.capped:  # the mass k of C_k: the label's number of relevant items
                p["k"] = int(sum(lm.atoms(D)[0][1]))
            r = decide_law(risk.spec(loss, **p), lm, D)
            r["params"] = p
            done.append(r)
            if r["decision"] == "fails":
                failure = r
                break
        if failure is not None:
            break
    undec = [r for r in done if r["decision"] == "undecided"]
    gaps = [r["min_gap"] for r in done if math.isfinite(r["min_gap"])]
    errs = [r["proper_err"] for r in done if r["proper_err"] is not None]
    terrs = [r["transcription_err"] for r in done if r["transcription_err"] is not None]
    figures = {
        "laws_drawn": len(laws),
        "laws_predicted_to_fail_by_closed_form": n_predicted,
        "laws_solved": len(done),
        "solves": sum(r["solves"] for r in done),
        "pairs_tested": sum(r["pairs"] for r in done),
        "min_halfspace_gap": min(gaps) if gaps else None,
        "max_properness_err": max(errs) if errs else None,
        "max_transcription_err": max(terrs) if terrs else None,
        "undecided": len(undec),
        "unattained_inf": sum(1 for r in done if not r["attained"]),
        "max_n": max_n,
        "gap_tol": GAP_TOL,
        "seed": ctx.seed,
        "label_map": lm.name,
    }
    if alphas:
        figures["alphas"] = list(alphas)
    detail = (f"{len(done)} relevance laws ($n \\le {max_n}$, 1–3 atoms, "
              + (r"binary $r$ with fixed $|r| = k$" if lm.binary else r"binary or graded $r \in \{0,1,2\}^n$")
              + f"; hypothesis seeded by the run seed; the laws the closed form predicts to fail first, {n_predicted} "
              f"of {len(laws)} drawn) solved: the conditional risk " + r"$\sum_a c_a L(\theta; y_a)$ of the loss under "
              r"test minimized by cvxpy (its value checked against the loss implementation), and for every pair of "
              r"adjacent $\mathbb{E}[G]$ levels the half-space gap $\inf\{R : \theta_i \le \theta_j\} - \inf R$ (cvxpy "
              f"and the dual route) decides whether every minimizer ranks the higher-gain item strictly above (gap > "
              f"{GAP_TOL:g}); the WORST ranking over the minimizer set is what counts; cross-checked against "
              + r"properness $\hat y(\theta^*) = q$" + f" (tol {PROPER_TOL:g}) and the order of $q$")
    if figures["unattained_inf"]:
        detail += (f"; {figures['unattained_inf']} laws have an item with $q_j = 0$ where softmax's minimizer is not "
                   r"attained ($\theta_j \to -\infty$; solved on the box $-B \le \theta \le 0$)")
    edcg = r"$\mathbb{E}[\mathrm{DCG}]$"
    grid = (r" on $\alpha \in \{" + ", ".join(f"{a:g}" for a in alphas) + r"\}$") if alphas else ""
    if failure is not None:
        cx = {"D": [{"p": float(pr), "r": list(r)} for pr, r in failure["D"]], "theta": failure["theta"],
              "theta_solver": failure["theta_solver"], "pair": list(failure["pair"]), "regret": failure["regret"]}
        cx.update({key: v for key, v in failure["params"].items()})
        figures.update(counterexample_regret=failure["regret"], counterexample_kind=failure["kind"])
        kind = {"strict": "every minimizer ranks a lower-gain item strictly above a higher-gain one",
                "tie": "a minimizer ties a higher-gain item with a lower-gain one (worst tie-break)"}.get(
            failure["kind"], "a minimizer ties or reverses a higher-gain item with a lower-gain one")
        # items counted from 1 in print and said so: the stored pair counts from 0 (Python indices)
        hi, lo = (x + 1 for x in failure["pair"])  # hi has the higher expected gain
        short = {"strict": f"every minimizer ranks item {lo} above {hi} (from 1)",
                 "tie": f"a minimizer ties items {hi} and {lo} (from 1)"}.get(
            failure["kind"], f"a minimizer ranks item {lo} at or above {hi} (from 1)")
        atoms = len(failure["D"])
        at = f", $\\alpha = {failure['params']['alpha']:g}$" if alphas else ""
        summary = (f"counterexample ($n = {len(failure['q'])}$, {atoms} atom{'s' if atoms > 1 else ''}{at}): {short}, "
                   f"losing {failure['regret']:.3g} of {edcg}")
        if visible_length(summary) > SUMMARY_CHARS:
            summary = summary.replace("counterexample (", "(", 1)
        return Evidence("numeric", "dcg-enumeration", "fails",
                        detail + f"; counterexample: {kind}, pair {failure['pair']} (items 0-based), worst ranking "
                        f"loses {edcg} {failure['regret']:.6g}"
                        + (f" ($\\alpha = {failure['params']['alpha']}$)" if alphas else ""),
                        figures, counterexample=cx, summary=summary, labels=LABELS)
    if undec:
        summary = f"{len(undec)} of {len(done)} relevance laws{grid} undecided by the half-space gaps"
        return Evidence("numeric", "dcg-enumeration", "undecided",
                        detail + f"; {len(undec)} laws undecided, first: {undec[0]['why']}", figures,
                        summary=summary, labels=LABELS)
    summary = (f"{len(done)} relevance laws{grid}: every risk minimizer sorts " + r"$\mathbb{E}[G]$, so its worst "
               f"ranking maximizes {edcg}")
    return Evidence("numeric", "dcg-enumeration", "holds", detail, figures, summary=summary, labels=LABELS)
