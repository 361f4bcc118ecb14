"""Numeric checks of a user's separable loss (issue 23 §4), on the generic map of
numerics/separable_map.py.

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
from proofs.separable import derive

from .separable_map import torch_map

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
