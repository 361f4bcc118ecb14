"""Numeric checks of a user's separable loss (issue 23 §4), on the generic map of
numerics/user/map.py.

FY-3 (:func:`margin_boundary`): around the row's margin μ (stated by the user, or derived),
score vectors with θ_y − max_{j≠y} θ_j = μ(1 ± ε) for several n and random other scores:
ŷ = e_y exactly on the upper side and ŷ ≠ e_y on the lower.  A row stating no margin is
checked at gaps up to 40 (softmax's smallest ŷ_j there, e^{−40}, and binary entropy's, about
e^{−20}, are well inside float64): ŷ ≠ e_y at each.  Findings carry ``{theta, y, side}`` for reports/rechecks/user.py.
"""
from __future__ import annotations

import sympy as sp
import torch

from audit import Evidence, RunContext
from audit.separable import SeparableLoss
from proofs.user.facts import derive

from .map import torch_map

#: relative distance of the tested gaps from the margin: well inside the 1 % a stated margin may be off by
EPS = 1e-3
SIZES = (2, 3, 6)
#: gaps of a row stating no margin
NO_MARGIN_GAPS = (1.0, 5.0, 10.0, 20.0, 40.0)
LABELS = {"cases": "score vectors checked", "eps": r"relative distance $\varepsilon$ of the gaps from $\mu$",
          "margin": r"margin $\mu$ under test", "sizes": "$n$ tested", "gaps": "gaps tested"}


def _is_vertex(y: torch.Tensor, iy: int) -> torch.Tensor:
    """Rows where ŷ is exactly e_{iy}."""
    others = torch.cat([y[:, :iy], y[:, iy + 1:]], 1)
    return (y[:, iy] == 1) & (others == 0).all(1)


def margin_boundary(loss: SeparableLoss, margin: sp.Expr | None, ctx: RunContext) -> Evidence:
    """FY-3's numeric route for ``loss`` at the row's margin (None: no margin)."""
    fmap = torch_map(derive(loss))
    g = ctx.generator(salt=3)
    per = ctx.budget(40, 400)
    cases, found = 0, None
    if margin is None:
        for n in SIZES:
            rest = torch.rand(len(NO_MARGIN_GAPS), n - 1, generator=g, dtype=torch.float64) * 2 - 2
            top = rest.max(1, keepdim=True).values + torch.tensor(NO_MARGIN_GAPS, dtype=torch.float64)[:, None]
            theta = torch.cat([top, rest], 1)
            hit = _is_vertex(fmap(theta), 0)
            cases += theta.shape[0]
            if bool(hit.any()) and found is None:
                found = {"theta": theta[hit][0].tolist(), "y": [1] + [0] * (n - 1), "side": "nomargin"}
        figures = {"cases": cases, "sizes": list(SIZES), "gaps": list(NO_MARGIN_GAPS)}
        summary = f"$\\hat y \\ne e_y$ at gaps up to {NO_MARGIN_GAPS[-1]:g} ($n \\in \\{{2, 3, 6\\}}$)"
    else:
        mu = float(margin)
        for n in SIZES:
            rest = torch.rand(per, n - 1, generator=g, dtype=torch.float64) * 4 - 2
            for side, factor in (("plus", 1 + EPS), ("minus", 1 - EPS)):
                theta = torch.cat([rest.max(1, keepdim=True).values + mu * factor, rest], 1)
                vertex = _is_vertex(fmap(theta), 0)
                wrong = ~vertex if side == "plus" else vertex
                cases += per
                if bool(wrong.any()) and found is None:
                    found = {"theta": theta[wrong][0].tolist(), "y": [1] + [0] * (n - 1), "side": side}
        figures = {"cases": cases, "eps": EPS, "margin": mu, "sizes": list(SIZES)}
        summary = (f"$\\hat y = e_y$ at gap $\\mu(1 + \\varepsilon)$, $\\ne e_y$ at $\\mu(1 - \\varepsilon)$, "
                   f"$\\mu = {mu:.6g}$, $\\varepsilon = 10^{{-3}}$, {cases} cases")
    where = None if found is None else f"the {found['side']} side at $n = {len(found['y'])}$"
    detail = (f"the generic map (bisection on $\\tau$) on {cases} score vectors; "
              + ("every one as the claim says" if found is None else f"contradicted on {where}"))
    return Evidence("numeric", "margin-boundary", "holds" if found is None else "fails", detail=detail,
                    summary=summary if found is None else f"contradicted on {where}",
                    figures=figures, labels=LABELS, counterexample=found)


#: the construction's a = 2^{-j} (two equal entries a; n = 2 for a = ½), down to 2⁻¹² as on C_k: a supremum
#: of s at 0⁺ approached linearly is reached to 10⁻³ there (g = −log(1 − p) + p²: s(a) ≈ ⅓ − 2a/9, 2.6·10⁻³
#: short of ⅓ at 2⁻⁸, 1.6·10⁻⁴ at 2⁻¹²); one approached more slowly stays undecided, as it should
CONSTRUCTION = tuple(range(1, 13))
FD_STEP = 1e-6
#: at the construction, the step is also kept below 10⁻³ of θ's distance g′(a) − g′(0⁺) to the support's edge
FD_EDGE = 1e-3
#: our two routes (central differences of the map, s(a) = 1/g″(a)) agree to this, relative
AGREE = 1e-5
ATTAINED = 1e-3
UNBOUNDED = 100.0


def constant_outcome(best: float, c: float) -> tuple[str, str]:
    """FY-4's rule for a stated constant c against the largest λ_max found (the simplex and C_k):
    ``fails`` when one exceeds c beyond :data:`AGREE` (the caller stores where), ``holds`` when
    c is reached within :data:`ATTAINED`, else ``undecided`` (the search may have missed it)."""
    if best > c * (1 + AGREE) + 1e-12:
        return "fails", f"$\\lambda_{{\\max}} = {best:.6g}$ found, above the claimed {c:.6g}"
    if best >= c * (1 - ATTAINED):
        return "holds", f"largest $\\lambda_{{\\max}}$ found {best:.6g}: the claimed {c:.6g} attained"
    return "undecided", f"largest $\\lambda_{{\\max}}$ found {best:.6g}, below the claimed {c:.6g}"
JAC_LABELS = {"cases": "score vectors searched", "largest": r"largest $\lambda_{\max}$ found",
              "claimed": "constant under test", "construction": r"$\lambda_{\max}$ at two equal entries $a = 2^{-j}$",
              "upper": "upper end of the derived bracket"}


def _fd_lambda(fmap, theta: torch.Tensor, step: float = FD_STEP) -> tuple[torch.Tensor, torch.Tensor]:
    """(λ_max of the symmetrized central-difference Jacobian, ŷ) for each row of θ (B, n):
    2n calls of the map on the whole batch, no loop over rows."""
    n = theta.shape[1]
    eye = torch.eye(n, dtype=theta.dtype) * step
    cols = [(fmap(theta + eye[j]) - fmap(theta - eye[j])) / (2 * step) for j in range(n)]
    J = torch.stack(cols, 2)                                    # J[b, i, j] = ∂ŷ_i/∂θ_j
    return torch.linalg.eigvalsh((J + J.transpose(1, 2)) / 2)[:, -1], fmap(theta)


def jacobian_search(loss: SeparableLoss, constant: sp.Expr | None, ctx: RunContext) -> Evidence:
    """FY-4's numeric route for ``loss``: λ_max of the map's central-difference Jacobian on
    random θ (n = 3, 5; scales 0.3, 1, 3) and on the two-equal-entries construction, along
    whose e₁ − e₂ the finite differences must reproduce the eigenvalue s(a) = 1/g″(a) (to 10⁻⁵:
    otherwise our map and our derivation disagree, a defect of ours).  A finite claimed constant fails if a
    larger λ is found, holds if one within 10⁻³ of it is found (attained), else stays undecided;
    "no finite constant" holds once λ ≥ 100 (s(2⁻¹²) = 4096 for Tsallis α = 3); without a claim, the search must
    stay below the derived bracket's upper end and reach its lower end."""
    from audit import SuiteDefect

    facts = derive(loss)
    fmap = torch_map(facts)
    g1 = sp.lambdify(loss.x, facts.g1, "math")
    s_of = sp.lambdify(loss.x, facts.s, "math")
    d0 = facts["g'(0+)"].value
    lam_c = []
    for j in CONSTRUCTION:
        a = 2.0**-j
        th = [g1(a), g1(a)] + ([] if j == 1 else [g1(1 - 2 * a)])
        step = FD_STEP if d0 == -sp.oo else min(FD_STEP, FD_EDGE * (g1(a) - float(d0)))
        theta = torch.tensor([th], dtype=torch.float64)
        lam, _ = _fd_lambda(fmap, theta, step)
        v = torch.zeros_like(theta)
        v[0, 0], v[0, 1] = 1.0, -1.0                              # e₁ − e₂: its Rayleigh quotient is s(a)
        along = float(((fmap(theta + step * v) - fmap(theta - step * v)) / (2 * step) * v).sum() / 2)
        want = s_of(a)
        if abs(along - want) > AGREE * max(1.0, abs(want)):
            raise SuiteDefect(f"{loss.name}: the map's Jacobian at two equal entries a = 2^-{j} has Rayleigh "
                              f"quotient {along:.9g} along e1 - e2; the derivation gives s(a) = {want:.9g}")
        lam_c.append(float(lam[0]))
    g = ctx.generator(salt=4)
    per = ctx.budget(100, 1000)
    best, best_row, cases = max(lam_c), None, len(lam_c)
    for n in (3, 5):
        for scale in (0.3, 1.0, 3.0):
            theta = torch.randn(per, n, generator=g, dtype=torch.float64) * scale
            lam, y = _fd_lambda(fmap, theta)
            cases += per
            i = int(lam.argmax())
            if float(lam[i]) > best:
                best, best_row = float(lam[i]), (theta[i].tolist(), y[i].tolist())
    hi = facts["Lipschitz <="].value
    lo = facts["Lipschitz >= (n >= 3)"].value
    figures = {"cases": cases, "largest": best, "construction": lam_c,
               "claimed": "none" if constant is None else str(constant), "upper": str(hi)}
    found = None
    if constant is None:
        ok = (hi == sp.oo or best <= float(hi) * (1 + AGREE)) and (lo == sp.oo or best >= float(lo) * (1 - ATTAINED))
        outcome = "holds" if ok else "undecided"
        summary = f"largest $\\lambda_{{\\max}}$ found {best:.6g}, inside the bracket" if ok else \
            f"largest $\\lambda_{{\\max}}$ found {best:.6g} does not reach the bracket"
    elif constant == sp.oo:
        outcome = "holds" if best >= UNBOUNDED else "undecided"
        summary = f"$\\lambda_{{\\max}}$ reaches {best:.3g} (two equal entries down to $a = 2^{{-{CONSTRUCTION[-1]}}}$)"
    else:
        c = float(constant)
        outcome, summary = constant_outcome(best, c)
        if outcome == "fails":
            if best_row is None:     # the construction's point
                j = CONSTRUCTION[max(range(len(lam_c)), key=lam_c.__getitem__)]
                a = 2.0**-j
                th = [g1(a), g1(a)] + ([] if j == 1 else [g1(1 - 2 * a)])
                best_row = (th, [a, a] + ([] if j == 1 else [1 - 2 * a]))
            found = {"theta": best_row[0], "yhat": best_row[1], "lambda_max": best}
    detail = (f"central differences (step $10^{{-6}}$) of the generic map on {cases} score vectors, and the "
              f"construction's eigenvalue reproduced to {AGREE:g}")
    return Evidence("numeric", "jacobian-search", outcome, detail=detail, summary=summary, figures=figures,
                    labels=JAC_LABELS, counterexample=found)
