"""Numeric CON-1 (top-k′ calibration, k-subset labels) and CON-2 (DCG consistency, the multi-hot
label) of a separable loss on the capped simplex C_k (issue 23 §4), on the capped map as
numerics/user/capped.py hands it out (``capped_map``, called with k; a planted defect replaces
it there).  k enters as the pairs (k, n) of :data:`CASES`.  The claims are the derived ones
(proofs/user/capped_rank.py); a contradiction is a disagreement of our own routes
(reports/user/claims_capped_rank.py crashes the row).  Where g(1⁻) = +∞ the k-hot labels lie
outside dom Ω (L ≡ +∞): both routes say so and decide nothing.  Decision rules, stated before
searching:

* CON-1 (:func:`topk_certificate`).  Per case, η = the marginals P(i ∈ S) of a law of k-subsets
  (1, 2, 3, 4 or 6 atoms in turn, weights 1–3, drawn from the run's generator; in every second
  law each atom holds item 1, so η₁ = 1): entries at 1, at 0, and ties occur.  η with an entry at 0 is kept only where
  g′(0⁺) is finite, at 1 only where g′(1⁻) is (else the minimizer is not attained; the
  derivation covers those by the limit); the first ``budget(3, 8)`` kept laws of a pool of 20
  times as many.  Every pair ηᵢ > ηⱼ (exact integer counts) is solved by the simplex route's damped
  Newton on θᵢ = θⱼ (numerics/user/rank.py ``_newton``, the map called with k), with Ω on
  C_k: Σ g(pᵢ) on [0, 1]ⁿ and +∞ off it, so that its dual bound lo = Ω(η) − Ω(η + μ(eⱼ − eᵢ)) is a
  lower bound for every μ ≥ 0 (weak duality on C_k: the cap makes μ > 1 − ηⱼ infeasible, and
  lo = −∞ there).  Certificate: the map's output at the last point passes the KKT conditions on
  C_k (numerics/user/capped_con.py ``kkt_certificate``: g′ and θ alone), hi − lo ≤
  10⁻¹⁰(1 + |Ω(η)|), and the closed form Ω(η) − Ω(η̄) (η̄ with the pair replaced by
  proofs/user/rank.py ``kkt_point``, read at call time) inside [lo, hi] to 10⁻⁹; a failed
  KKT check, hi < lo beyond the tolerance or the closed form outside the bracket is a defect of
  ours.  holds iff every pair is certified with every lo > 10⁻¹², at every k of the cases; fails
  (witness {η, pair, θ, gap, k}) on a certified hi ≤ 10⁻¹²; undecided otherwise.
* CON-2 (:func:`dcg_enumeration`).  Per case, ``budget(40, 160)`` laws of binary relevance with k
  relevant items (1–3 atoms, weights 1–4, each a random k-subset); q = E r = η and E[G] exact
  (numerics/con/labels.py, the multi-hot entry of ``LABEL_MAPS`` read at call time).  The minimizer
  set of R = L(·; η) + const is, modulo τ, uᵢ = g′(ηᵢ) inside, uᵢ ≥ g′(1⁻) at ones, uⱼ ≤ g′(0⁺)
  at zeros.  Two points of it (τ = 0): the *extreme* one, ones at g′(1⁻) and zeros at g′(0⁺)
  exactly -- every ranking of the set is one of its tie-breaks, so its worst tie-break is the
  worst ranking over the set -- and the *deep* one, ones at g′(1⁻) + 1 and zeros at g′(0⁺) − 1
  (inside the flat pieces).  An infinite end is a point of the minimizing sequence instead,
  g′(1 − 2⁻⁴⁰) or g′(10⁻³⁰⁰), both points alike.  Inside, the scores are proofs/user/rank.py
  ``bayes_score`` (read at call time).  The extreme point is certified a Bayes point by the KKT
  conditions on C_k (``kkt_certificate``, g′ and θ alone; through the map its τ is ill-conditioned
  where G′ is unbounded at the end, as for g = (p³ − p)/6 at 0), the deep one through the map,
  ŷ(θ) = η to 10⁻⁹; either failing is a defect of ours.  Every permutation enumerated: the worst ranking sorting
  the extreme point (exact ties every way) against the best E[DCG]; fails on the first law that
  loses more than 10⁻⁹ ({D, θ, pair, regret, k}); holds otherwise.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
import torch

import proofs.user.rank as sym_rank
from audit import Evidence, RunContext, SuiteDefect
from audit.separable import SeparableLoss
from proofs.user.facts import derive
from proofs.user.capped_rank import labels_in_domain

from ..con import labels as lab
from . import capped as num_cap
from . import capped_con as num_cc
from . import rank as num_rank
from .con import _single_threaded

DT = torch.float64
#: (k, n) pairs both routes run on: k = 1 is the simplex; n = 2k the mirror pairs; (3, 6) three ones fit
CASES = ((1, 4), (2, 4), (2, 5), (3, 6))
KS = sorted({k for k, _ in CASES})
ATOMS = (1, 2, 3, 4, 6)        # atoms of the subset laws, in turn: few atoms leave ones, zeros and ties
POOL = 20
FEAS = 1e-12                   # an entry beyond [−FEAS, 1 + FEAS] is off C_k
SEQ_ONE, SEQ_ZERO = 1 - 2.0**-40, 1e-300
CERT, AGREE, GAP_MIN, BAYES_TOL, DCG_TOL = num_rank.CERT, num_rank.AGREE, num_rank.GAP_MIN, num_rank.BAYES_TOL, \
    num_rank.DCG_TOL
LABELS = {**num_rank.LABELS, "cases_k": "$(k, n)$ pairs", "caps_certified": "ones certified at the cap",
          "etas_with_one": r"laws $\eta$ with an entry 1", "etas_with_zero": r"laws $\eta$ with an entry 0",
          "etas_with_tie": r"laws $\eta$ with a tie", "laws_with_one": r"laws with an item relevant in every draw",
          "laws_with_zero": "laws with an item never relevant", "max_regret_deep": r"largest $\mathbb{E}"
          r"[\mathrm{DCG}]$ lost by the worst sorting of the deep point", "by_k": "by $k$"}
_OUTSIDE = ("$g(1^-) = +\\infty$: every $k$-hot label has $\\Omega(\\mathbf 1_S) = +\\infty$ and $L \\equiv +\\infty$; "
            "the reading does not apply")


def _fmap(loss: SeparableLoss):
    return num_cap.capped_map(derive(loss))


def _ends(loss: SeparableLoss) -> tuple[bool, bool]:
    """(an entry 0 attained: g′(0⁺) finite, an entry 1 attained: g′(1⁻) finite)."""
    f = derive(loss)
    return f["g'(0+)"].value != -sp.oo, f["g'(1-)"].value != sp.oo


def _omega_ck(loss: SeparableLoss):
    """Ω on C_k: Σ g(pᵢ) on [0, 1]ⁿ (the ends by their limits), +∞ off it (the mass is kept by
    construction)."""
    om = num_rank._omega(loss)

    def omega(p: np.ndarray) -> np.ndarray:
        off = ((p < -FEAS) | (p > 1 + FEAS)).any(-1)
        return np.where(off, np.inf, om(np.clip(p, 0.0, 1.0)))
    return omega


def _subsets(g: torch.Generator, rows: int, atoms: int, n: int, k: int,
             first: torch.Tensor | None = None) -> torch.Tensor:
    """(rows, atoms, n) multi-hot k-subsets, each uniform, or uniform among those holding item 0 in
    the rows where ``first`` is set (every atom of the law holds it: ηₒ = 1)."""
    u = torch.rand(rows, atoms, n, generator=g, dtype=DT)
    if first is not None:
        u[:, :, 0] = torch.where(first[:, None], -1.0, u[:, :, 0])
    return (u.argsort(-1).argsort(-1) < k).long()


# --------------------------------------------------------------------------------------
# CON-1
# --------------------------------------------------------------------------------------
def _etas(ctx: RunContext, k: int, n: int, zeros: bool, ones: bool, g: torch.Generator):
    """(integer counts (E, n), their totals (E,)): the marginals η = counts/total of subset laws
    (module docstring), the first E admissible ones."""
    E = ctx.budget(3, 8)
    pool = POOL * E
    top = max(ATOMS)
    member = _subsets(g, pool, top, n, k, first=torch.arange(pool) % 2 == 1)
    w = torch.randint(1, 4, (pool, top), generator=g)
    w = w * (torch.arange(top)[None, :] < torch.tensor(ATOMS)[torch.arange(pool) % len(ATOMS)][:, None])
    counts = (member * w[:, :, None]).sum(1)
    total = w.sum(1)
    keep = (counts != counts[:, :1]).any(1)
    if not zeros:
        keep &= (counts > 0).all(1)
    if not ones:
        keep &= (counts < total[:, None]).all(1)
    idx = keep.nonzero()[:, 0][:E]
    return counts[idx], total[idx]


def _case(loss, fmap, omega, ctx, k, n, zeros, ones, g, st, kkt):
    """One (k, n): the Newton solves and their certificates; the first zero gap (a witness) or None."""
    counts, total = _etas(ctx, k, n, zeros, ones, g)
    if len(counts) == 0:
        return None
    b, i, j = (counts[:, :, None] > counts[:, None, :]).nonzero().unbind(-1)
    eta_all = counts.to(DT) / total[:, None].to(DT)
    eta_t, pair_t = eta_all[b], torch.stack([i, j], -1)
    st["etas"] += len(counts)
    st["etas_with_one"] += int((counts == total[:, None]).any(1).sum())
    st["etas_with_zero"] += int((counts == 0).any(1).sum())
    st["etas_with_tie"] += int(((counts[:, :, None] == counts[:, None, :]).sum((1, 2)) > n).sum())
    r = num_rank._newton(lambda th: fmap(th, k), omega, eta_t, pair_t, ctx.budget(40, 80))
    eta, pair, hi = eta_t.numpy(), pair_t.numpy(), r["hi"]
    bad, *_ = num_cc.kkt_certificate(loss, r["theta"], r["y"], k, kkt)
    cert = num_rank.certify_gaps(loss, r, eta, pair, omega, bad, st, where=f" on C_{k}", at=f"k = {k}, ")
    st["by_k"][str(k)] = st["by_k"].get(str(k), 0) + int(cert.sum())
    zero = cert & (hi <= GAP_MIN)
    if zero.any():
        c = int(np.argmax(zero))
        return {"eta": eta[c].tolist(), "pair": pair[c].tolist(), "theta": r["theta"][c].tolist(), "gap": float(hi[c]),
                "k": k}
    return None


@_single_threaded
@torch.no_grad()
def topk_certificate(loss: SeparableLoss, ctx: RunContext) -> Evidence:
    """CON-1's numeric route on C_k (module docstring)."""
    st: dict = {"etas": 0, "etas_with_one": 0, "etas_with_zero": 0, "etas_with_tie": 0, "problems": 0,
                "certified": 0, "iterations": 0, "max_duality_gap": 0.0, "min_gap": float("inf"),
                "max_closed_form_offset": 0.0, "by_k": {}, "cases_k": [list(c) for c in CASES]}
    detail = (r"$\eta$ the marginals of $k$-subset laws on $C_k$, $(k, n) \in \{" + ", ".join(f"({k}, {n})" for k, n
                                                                                             in CASES)
              + r"\}$, every pair $\eta_i > \eta_j$: the FY risk minimized on $\theta_i = \theta_j$ by damped Newton "
              r"through the capped map, certified by the KKT conditions on $C_k$ and a duality gap $hi - lo \le "
              r"10^{-10}(1 + |\Omega(\eta)|)$ against $\Omega(\eta) - \Omega(\eta + \mu(e_j - e_i))$ ($+\infty$ off "
              r"$C_k$); the closed form $\Omega(\eta) - \Omega(\bar\eta)$ must lie in the bracket")
    if not labels_in_domain(loss):
        return Evidence("numeric", "topk-certificate", "undecided", _OUTSIDE + ". " + detail, st, labels=LABELS,
                        summary="$k$-hot labels outside $\\operatorname{dom}\\Omega$: nothing to certify")
    fmap, omega = _fmap(loss), _omega_ck(loss)
    zeros, ones = _ends(loss)
    g = ctx.generator(salt=411)
    kkt: dict = {}
    worst = None
    for k, n in CASES:
        found = _case(loss, fmap, omega, ctx, k, n, zeros, ones, g, st, kkt)
        worst = worst or found
    figures = {**st, **kkt}
    if worst is not None:
        return Evidence("numeric", "topk-certificate", "fails", detail, figures, worst, labels=LABELS,
                        summary=f"a certified half-space gap of {worst['gap']:.3g} at $k = {worst['k']}$")
    missing = [k for k in KS if not st["by_k"].get(str(k))]
    if missing:
        return Evidence("numeric", "topk-certificate", "undecided", f"no admissible law at k = {missing}. " + detail,
                        figures, labels=LABELS, summary=f"no admissible law $\\eta$ drawn at $k \\in {missing}$")
    if st["certified"] < st["problems"] or not st["min_gap"] > GAP_MIN:
        return Evidence("numeric", "topk-certificate", "undecided", "some pairs not certified positive. " + detail,
                        figures, labels=LABELS,
                        summary=f"{st['problems'] - st['certified']} of {st['problems']} pairs on $C_k$ without a "
                                f"certificate; smallest certified lower bound {st['min_gap']:.3g}")
    return Evidence("numeric", "topk-certificate", "holds", detail, figures, labels=LABELS,
                    summary=f"{st['problems']} certified half-space gaps on $C_k$, $k \\in \\{{1, 2, 3\\}}$, the "
                            f"smallest {st['min_gap']:.3g} $> 0$, each the closed form")


# --------------------------------------------------------------------------------------
# CON-2
# --------------------------------------------------------------------------------------
def _laws(ctx: RunContext, k: int, n: int, g: torch.Generator) -> list[list[tuple[Fraction, list[int]]]]:
    """Laws of binary relevance with k relevant items (module docstring)."""
    L = ctx.budget(40, 160)
    atoms = torch.randint(1, 4, (L,), generator=g)
    w = torch.randint(1, 5, (L, 3), generator=g)
    r = _subsets(g, L, 3, n, k)
    return [[(Fraction(int(w[a, b])), [int(x) for x in r[a, b]]) for b in range(int(atoms[a]))] for a in range(L)]


def _points(loss: SeparableLoss, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the extreme point, the deep point, ŷ at both) of the minimizer set at η = q, τ = 0 (module
    docstring); ŷ is η, with a sequence point's 1 − 2⁻⁴⁰ or 10⁻³⁰⁰ where an end is infinite."""
    f = derive(loss)
    score = sp.lambdify(sym_rank.Q, sym_rank.bayes_score(loss, sym_rank.Q), "numpy")
    d0, d1 = f["g'(0+)"].value, f["g'(1-)"].value
    inner = (q > 0) & (q < 1)
    with np.errstate(all="ignore"):
        mid = np.asarray(score(np.where(inner, q, 0.5)), dtype=float) + 0 * q
        one = float(d1) if d1 != sp.oo else float(score(np.float64(SEQ_ONE)))
        zero = float(d0) if d0 != -sp.oo else float(score(np.float64(SEQ_ZERO)))
    push1, push0 = (1.0 if d1 != sp.oo else 0.0), (1.0 if d0 != -sp.oo else 0.0)
    ext = np.where(inner, mid, np.where(q >= 1, one, zero))
    deep = np.where(inner, mid, np.where(q >= 1, one + push1, zero - push0))
    star = np.where(inner, q, np.where(q >= 1, 1.0 if push1 else SEQ_ONE, 0.0 if push0 else SEQ_ZERO))
    return ext, deep, star


def _enumerate(loss, fmap, rows, k, st, kkt):
    """The laws of one (k, n): the extreme point certified by the KKT conditions on C_k (g′ and θ
    alone: at the ends of a flat piece the map's τ is ill-conditioned where G′ is unbounded there),
    properness through the map at the deep point, the regret of the extreme point; the first law
    that loses DCG, or None."""
    q = np.array([[float(v) for v in x[1]] for x in rows])
    eg = np.array([[float(v) for v in x[2]] for x in rows])
    ext, deep, star = _points(loss, q)
    bad, *_ = num_cc.kkt_certificate(loss, ext, star, k, kkt)
    if bad.any():
        b = int(np.argmax(bad))
        raise SuiteDefect(f"{loss.name}: the extreme Bayes point theta* = {ext[b].tolist()} of eta = {q[b].tolist()} "
                          f"fails the KKT conditions on C_{k}")
    err = np.abs(fmap(torch.from_numpy(deep), k).detach().numpy() - q).max(-1)
    st["max_bayes_err"] = max(st["max_bayes_err"], float(np.nan_to_num(err, nan=np.inf).max()))
    if not bool((err <= BAYES_TOL).all()):
        b = int(np.argmax(np.nan_to_num(err, nan=np.inf)))
        raise SuiteDefect(f"{loss.name}: the map on C_{k} at the deep Bayes point theta* = {deep[b].tolist()} is "
                          f"{err[b]:.3g} away from eta = {q[b].tolist()} (properness, tol {BAYES_TOL:g})")
    reg = num_rank._regret(eg, ext)
    st["max_regret"] = max(st["max_regret"], float(reg.max()))
    st["max_regret_deep"] = max(st["max_regret_deep"], float(num_rank._regret(eg, deep).max()))
    if not bool((reg > DCG_TOL).any()):
        return None
    b = int(np.argmax(reg > DCG_TOL))
    th = ext[b]
    bad = (eg[b][:, None] > eg[b][None, :]) & (th[:, None] <= th[None, :])
    i, j = np.unravel_index(np.argmax(np.where(bad, eg[b][:, None] - eg[b][None, :], -1)), bad.shape)
    D = rows[b][0]
    tot = sum(p for p, _ in D)
    return {"D": [{"p": float(p / tot), "r": list(r)} for p, r in D], "theta": th.tolist(), "pair": [int(i), int(j)],
            "regret": float(reg[b]), "k": k}


@_single_threaded
@torch.no_grad()
def dcg_enumeration(loss: SeparableLoss, ctx: RunContext) -> Evidence:
    """CON-2's numeric route on C_k with the multi-hot label (module docstring)."""
    lm = lab.label_map("multihot")
    st: dict = {"laws": 0, "laws_with_one": 0, "laws_with_zero": 0, "max_bayes_err": 0.0, "max_regret": 0.0,
                "max_regret_deep": 0.0, "label_map": lm.name, "max_n": max(n for _, n in CASES),
                "cases_k": [list(c) for c in CASES]}
    detail = (r"laws of binary relevance with $k$ relevant items on $C_k$, $(k, n) \in \{"
              + ", ".join(f"({k}, {n})" for k, n in CASES) + r"\}$, 1 to 3 atoms drawn from the run seed: $q = \eta$ "
              r"and $\mathbb{E}[G]$ exact, two points of the minimizer set (ones at $g'(1^-)$ and zeros at "
              r"$g'(0^+)$, and 1 beyond; sequence points where an end is infinite) confirmed by $\hat y(\theta^*) = "
              r"\eta$ through the capped map (to $10^{-9}$), every permutation enumerated: the worst ranking sorting "
              r"the extreme point (ties every way, so every ranking of the minimizer set) against the best "
              r"$\mathbb{E}[\mathrm{DCG}]$")
    if not labels_in_domain(loss):
        return Evidence("numeric", "dcg-enumeration", "undecided", _OUTSIDE + ". " + detail, st, labels=LABELS,
                        summary="$k$-hot labels outside $\\operatorname{dom}\\Omega$: nothing to enumerate")
    fmap = _fmap(loss)
    g = ctx.generator(salt=412)
    kkt: dict = {}
    found = None
    for k, n in CASES:
        rows = [(D, lm.target(D), lab.expected_gains(D)) for D in _laws(ctx, k, n, g)]
        st["laws"] += len(rows)
        st["laws_with_one"] += sum(1 for _, q, _ in rows if max(q) == 1)
        st["laws_with_zero"] += sum(1 for _, q, _ in rows if min(q) == 0)
        found = found or _enumerate(loss, fmap, rows, k, st, kkt)
    st.update(kkt)
    if found is not None:
        hi, lo = (x + 1 for x in found["pair"])
        return Evidence("numeric", "dcg-enumeration", "fails", detail, st, found, labels=LABELS,
                        summary=f"a law at $k = {found['k']}$ where the worst Bayes ranking puts item {lo} at or above "
                                f"{hi} (from 1), losing {found['regret']:.3g}")
    return Evidence("numeric", "dcg-enumeration", "holds", detail, st, labels=LABELS,
                    summary=f"{st['laws']} multi-hot laws on $C_k$, $k \\in \\{{1, 2, 3\\}}$: the worst ranking over "
                            r"the minimizer set maximizes $\mathbb{E}[\mathrm{DCG}]$")


__all__ = ["CASES", "KS", "topk_certificate", "dcg_enumeration"]
