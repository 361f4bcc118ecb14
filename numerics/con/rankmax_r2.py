"""Numeric route of CON-2 under rankmax reading R2 (n = 3, k = 1; proofs/con/rankmax_r2.py for the setting).

The conditional risk R(θ) = Σ_i η_i L_R2(θ; e_i) evaluated by the torch loss (``get("rankmax", k=1,
scale=READING)``, float64) on a grid of every ordering of θ, gaps d₁, d₂ ∈ {0} ∪ [10⁻³, 10³] (d₂ up to
10⁶: the R2 risk keeps falling as the lowest item recedes), in units of 1/A; the best point that
inverts a pair with η_i > η_j and the best point that sorts η are each polished on their ordering (a zoom of shrinking local grids) and re-evaluated in rationals (numerics/rankmax_r2.exact_loss; a disagreement with
torch is ours).  The law fails when the best inverting point beats the best sorting point: a search,
not a certificate (the symbolic route gives the exact infima, and its pieces are cross-checked here:
the closed form off the exact risk at the search's points is ours).

The reading under test is numerics/rankmax_r2.READING (reports/r2/planted.py patches it).
"""
from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import torch

from audit import Evidence, RunContext, SuiteDefect
from losses import get

from ..fy import rankmax_r2 as r2
from ..fy.common import single_thread

ZOOM = 14
D1 = np.concatenate([[0.0], np.logspace(-3, 3, 37)])
D2 = np.concatenate([[0.0], np.logspace(-3, 6, 55)])
LABELS = {"laws": r"laws $\eta$ searched", "points": "risk evaluations (torch)", "failing_laws": "laws that fail",
          "max_piece_err": r"max $|R_{\mathrm{closed\ form}} - R_{\mathrm{exact}}|$ at the polished points",
          "gap": r"best sorted minus best inverting risk (a failing law)",
          "per_law": r"per law $\eta$: the best inverting and the best sorting risk found (exact)",
          "reading": r"scale rule (adaptive: R2)", "a_max": r"cap $A$ of the scale"}


def _theta(sigma, g1, g2) -> np.ndarray:
    """θ·A for gaps (g1, g2) with the items in the order σ (σ[j] = item at position j); rows (N, 3)."""
    phi = np.stack([g1 + g2, g2, np.zeros_like(g1)], -1)
    out = np.empty_like(phi)
    out[:, list(sigma)] = phi
    return out


def _label_losses(theta_A: np.ndarray) -> np.ndarray:
    """L_R2(θ; e_i) for i = 1, 2, 3 at θ = theta_A / A by the torch loss, rows (N, 3)."""
    L = get("rankmax", k=1, scale=r2.READING)
    th = torch.as_tensor(theta_A / r2.CAP, dtype=torch.float64)
    out = []
    for i in range(3):
        y = torch.zeros_like(th)
        y[:, i] = 1
        out.append(L(th, y))
    return torch.stack(out, -1).numpy()


def _risk(theta_A: np.ndarray, eta) -> np.ndarray:
    """R at θ = theta_A / A, rows (N,); ``eta`` one law (3,) or one per row (N, 3)."""
    w = np.asarray([[float(e) for e in row] for row in np.atleast_2d(np.asarray(eta, dtype=object))])
    return (_label_losses(theta_A) * w).sum(-1)


def _exact(theta_A, eta) -> Fraction:
    th = [Fraction(float(v)) / r2.CAP for v in theta_A]
    return sum(Fraction(e) * r2.exact_loss(th, [float(i == j) for j in range(3)], 1) for i, e in enumerate(eta))


def _inverts(theta_A: np.ndarray, eta) -> np.ndarray:
    """Rows (N, 3) → (N,) bool: some pair with η_i > η_j ranked θ_i < θ_j."""
    th = np.atleast_2d(theta_A)
    out = np.zeros(th.shape[0], dtype=bool)
    for i, j in itertools.permutations(range(3), 2):
        if eta[i] > eta[j]:
            out |= th[:, i] < th[:, j]
    return out


def _polish(starts: list) -> list:
    """Zoom from each start (σ, gaps, η) on its ordering: :data:`ZOOM` rounds of an 11 × 11 grid in
    x = log(1 + d) around the best point so far, its half-width shrinking 4× a round; every start's
    candidates in one torch call a round.  Returns the gaps reached, one per start."""
    step = np.linspace(-1.0, 1.0, 11)
    xs = [np.log1p(np.asarray(g, dtype=float)) for _, g, _ in starts]
    width = 0.5
    for _ in range(ZOOM):
        cands, thetas, etas = [], [], []
        for (sigma, _, eta), x in zip(starts, xs):
            c = np.maximum(np.stack(np.meshgrid(x[0] + width * step, x[1] + width * step, indexing="ij"), -1)
                           .reshape(-1, 2), 0.0)
            c = np.vstack([x[None], c])
            cands.append(c)
            thetas.append(_theta(sigma, *np.expm1(c).T))
            etas.extend([eta] * len(c))
        R = _risk(np.vstack(thetas), etas).reshape(len(starts), -1)
        xs = [c[int(np.argmin(r))] for c, r in zip(cands, R)]
        width /= 4
    return [np.expm1(x) for x in xs]


def _piece_err(sigma, gaps, eta, exact: Fraction) -> float:
    """|symbolic closed form − exact risk| at gaps on σ (proofs/rankmax_r2_con.piece)."""
    import sympy as sp

    from proofs.con import rankmax_r2 as sym

    if sym.SCALE != "adaptive" or r2.READING != "adaptive":
        return 0.0   # the fixed readings differ in units (a = 1 here, a = A there): nothing to compare
    x1, x2 = (sp.Rational(Fraction(float(v))) for v in gaps)
    region = "a" if x1 + 2 * x2 <= 1 else ("b" if x1 <= 1 else "c")
    val = sym.piece(tuple(eta[i] for i in sigma), region).subs({sym.d1: x1, sym.d2: x2})
    return abs(float(sp.Rational(val) - sp.Rational(exact)))


def _violates(pairs):
    """Rows (N, 3) → (N,) bool: θ_i ≤ θ_j for some required pair (i, j) (not top-k′ preserving)."""
    def bad(theta_A: np.ndarray, eta) -> np.ndarray:
        th = np.atleast_2d(theta_A)
        out = np.zeros(th.shape[0], dtype=bool)
        for i, j in pairs:
            out |= th[:, i] <= th[:, j]
        return out
    return bad


def _grid(eta: tuple) -> tuple:
    """((σ, θ·A rows, R) for every ordering σ) on the grid: one torch evaluation per law, read by every split
    of it within one check (CON-1's two k′; not cached across calls, so a patched loss is always seen)."""
    g1, g2 = (a.ravel() for a in np.meshgrid(D1, D2, indexing="ij"))
    out = []
    for sigma in itertools.permutations(range(3)):
        th = _theta(sigma, g1, g2)
        out.append((sigma, th, _risk(th, eta)))
    return tuple(out)


def _grid_best(eta, bad_fn, grid: tuple) -> dict:
    """{True: (σ, gaps) of the lowest grid point with ``bad_fn``, False: without}."""
    g1, g2 = (a.ravel() for a in np.meshgrid(D1, D2, indexing="ij"))
    best = {True: (np.inf, None), False: (np.inf, None)}
    for sigma, th, R in grid:
        flags = bad_fn(th, eta)
        for side in (True, False):
            mask = flags == side
            if mask.any():
                j = int(np.flatnonzero(mask)[np.argmin(R[mask])])
                if R[j] < best[side][0]:
                    best[side] = (float(R[j]), (sigma, np.array([g1[j], g2[j]])))
    return {side: b[1] for side, b in best.items()}


def _split_searches(jobs: list, stats: dict) -> list:
    """For each (η, bad_fn, grid): {True: (exact risk, θ·A) of the best point with ``bad_fn``, False: of the
    best without} -- the grid's best on each side, polished by the zoom (all starts together), re-evaluated in
    rationals (torch off the exact risk, or the symbolic piece off it, is ours)."""
    starts, owners = [], []
    for n, (eta, bad_fn, grid) in enumerate(jobs):
        for side, (sigma, g) in _grid_best(eta, bad_fn, grid).items():
            starts.append((sigma, g, eta))
            owners.append((n, side, bad_fn))
    out = [dict() for _ in jobs]
    for (sigma, g0, eta), g, (n, side, bad_fn) in zip(starts, _polish(starts), owners):
        th = _theta(sigma, g[:1], g[1:])[0]
        if bool(bad_fn(th, eta)[0]) != side:   # the polish crossed a tie: keep the grid point
            g = g0
            th = _theta(sigma, g[:1], g[1:])[0]
        ex = _exact(th, eta)
        tv = float(_risk(th[None], eta)[0])
        if abs(tv - float(ex)) > 1e-9 * (1 + abs(float(ex))):
            raise SuiteDefect(f"rankmax R2: torch risk {tv!r} vs exact {float(ex)!r} at θ·A = {th.tolist()}")
        stats["max_piece_err"] = max(stats["max_piece_err"], _piece_err(sigma, g, eta, ex))
        if stats["max_piece_err"] > 1e-9:
            raise SuiteDefect(f"rankmax R2: the symbolic pieces are off the exact risk by {stats['max_piece_err']:.3g}")
        out[n][side] = (ex, th)
    return out


@single_thread
def dcg_check(ctx: RunContext) -> Evidence:
    """CON-2[rankmax/R2/multihot] numerically (module docstring)."""
    from proofs.con.rankmax_r2 import LAWS

    stats = dict(laws=0, points=0, failing_laws=0, max_piece_err=0.0)
    fail, per_law = None, []
    grids = {eta: _grid(tuple(eta)) for eta in LAWS}
    stats["points"] = sum(len(R) for g in grids.values() for _, _, R in g)
    results = _split_searches([(eta, _inverts, grids[eta]) for eta in LAWS], stats)
    for eta, exact in zip(LAWS, results):
        stats["laws"] += 1
        gap = float(exact[False][0] - exact[True][0])
        per_law.append({"eta": [str(e) for e in eta], "best_inverting": float(exact[True][0]),
                        "best_sorted": float(exact[False][0])})
        if exact[True][0] < exact[False][0]:
            stats["failing_laws"] += 1
            if fail is None:
                fail = {"eta": [str(e) for e in eta], "theta_A": [repr(float(v)) for v in exact[True][1]], "k": 1,
                        "inf": float(exact[True][0]), "inf_sorted": float(exact[False][0]), "gap": gap}
    out = "fails" if fail else "holds"
    laws_tex = "; ".join(rf"$\eta = ({', '.join(p['eta'])})$: {p['best_inverting']:.6g} / {p['best_sorted']:.6g}"
                         for p in per_law)
    summary = (rf"at $\eta = ({', '.join(fail['eta'])})$ an inverted ranking's risk {fail['inf']:.6g} beats every "
               rf"sorted one found ({fail['inf_sorted']:.6g}; exact)" if fail else
               rf"on {stats['laws']} laws the lowest risk found sorts $\eta$")
    detail = (summary + f"; grid of {len(D1) * len(D2)} gap pairs on each of the 6 orderings, best inverting / best "
              f"sorted risk after a zoom of {ZOOM} rounds: " + laws_tex + "; a search: the exact infima are the "
              "symbolic route's")
    figures = {**stats, "per_law": per_law, "reading": r2.READING, "a_max": r2.CAP}
    if fail:
        figures["gap"] = fail["gap"]
    return Evidence("numeric", "exact-search", out, detail, figures, fail, summary=summary, labels=LABELS)


TOPK_LABELS = {**LABELS, "failing_laws": r"(law, $k'$) pairs that fail",
               "per_law": r"per law $\eta$ and $k'$: the best risk off and on top-$k'$ preservation found (exact)"}


@single_thread
def topk_check(ctx: RunContext) -> Evidence:
    """CON-1[rankmax/R2]: for k′ = 1, 2 the best point that is not top-k′ preserving against the best that is;
    it fails when the former is lower (then inf over the non-preserving θ is inf R)."""
    from proofs.con.rankmax_r2 import LAWS, required_pairs

    stats = dict(laws=0, points=0, failing_laws=0, max_piece_err=0.0)
    fail, per_law = None, []
    grids = {eta: _grid(tuple(eta)) for eta in LAWS}
    stats["points"] = sum(len(R) for g in grids.values() for _, _, R in g)
    jobs = [(eta, top) for eta in LAWS for top in (1, 2)]
    results = _split_searches([(eta, _violates(required_pairs(eta, top)), grids[eta]) for eta, top in jobs], stats)
    stats["laws"] = len(LAWS)
    for (eta, top), exact in zip(jobs, results):
        per_law.append({"eta": [str(e) for e in eta], "top": top, "best_off": float(exact[True][0]),
                        "best_on": float(exact[False][0])})
        if exact[True][0] < exact[False][0]:
            stats["failing_laws"] += 1
            if fail is None:
                fail = {"eta": [str(e) for e in eta], "top": top, "k": 1,
                        "theta_A": [repr(float(v)) for v in exact[True][1]], "inf": float(exact[True][0]),
                        "inf_preserving": float(exact[False][0])}
    out = "fails" if fail else "holds"
    summary = (rf"at $\eta = ({', '.join(fail['eta'])})$ scores off top-{fail['top']} preservation reach "
               rf"{fail['inf']:.6g}, below all on it found ({fail['inf_preserving']:.6g})" if fail else
               rf"on {stats['laws']} laws, $k' = 1, 2$: the lowest risk found is top-$k'$ preserving")
    rows = "; ".join(rf"$\eta = ({', '.join(p['eta'])})$, $k' = {p['top']}$: {p['best_off']:.6g} / {p['best_on']:.6g}"
                     for p in per_law)
    detail = (summary + f"; the search of CON-2[rankmax/R2/multihot] split by top-$k'$ preservation, best off / on: "
              + rows + "; a search: the exact infima are the symbolic route's")
    figures = {**stats, "per_law": per_law, "reading": r2.READING, "a_max": r2.CAP}
    return Evidence("numeric", "exact-search", out, detail, figures, fail, summary=summary, labels=TOPK_LABELS)


__all__ = ["dcg_check", "topk_check"]
