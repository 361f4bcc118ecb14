"""Planted defects and truths of the rankmax reading R2 rows (reports/r2/claims.py).

Each enters where a bug would: the stated Ω_a of the derivation or of the numeric check (a module
attribute read at call time), the scale ``AdaptiveRankmaxLoss.scale`` the torch loss computes,
or the scale rule itself (``proofs.fy.rankmax_r2.SCALE``, ``numerics.fy.rankmax_r2.READING``): set to
the fixed scale a = 1, the loss is rankmax in reading R1, an FY loss in θ, where FY-2 and FY-3 are
known to hold (the R1 rows verify them)."""
from __future__ import annotations

from ..claim import Planted, patched, patched_truth, replacing

_R1_WHY = (r"the scale rule set to the fixed $a = 1$: reading R1, an FY loss in $\theta$ (FY-2, FY-3 verified for "
           r"it)")


def omega_slip_symbolic() -> Planted:
    import proofs.fy.rankmax_r2 as sym
    return patched(r"the stated $\Omega_a$ with the scale on the wrong side, $a\lVert p\rVert^2/2$",
                   replacing((sym, "STATED", {**sym.STATED, "omega_a": lambda q, a: a * q / 2})))


def omega_slip_numeric() -> Planted:
    import numpy as np

    import numerics.fy.rankmax_r2 as num
    return patched(r"the stated $\Omega_a$ with the scale on the wrong side, $a\lVert p\rVert^2/2$",
                   replacing((num, "STATED_OMEGA_A", lambda p, a: a * float(np.dot(p, p)) / 2)))


def scale_off(rel: float, *, resolution: bool = False) -> Planted:
    from losses.rankmax import AdaptiveRankmaxLoss
    orig = AdaptiveRankmaxLoss.scale

    def scale(self, theta, target):
        return orig(self, theta, target) * (1 + rel)

    return patched(f"the scale $a(\\theta, y)$ of losses/ off by a relative {rel:g}",
                   replacing((AdaptiveRankmaxLoss, "scale", scale)), resolution=resolution)


def fixed_scale_symbolic() -> Planted:
    import proofs.fy.rankmax_r2 as sym
    return patched_truth(_R1_WHY, replacing((sym, "SCALE", "fixed")))


def fixed_scale_numeric() -> Planted:
    import numerics.fy.rankmax_r2 as num
    return patched_truth(_R1_WHY, replacing((num, "READING", "fixed")))


def fixed_scale_con_symbolic() -> Planted:
    import proofs.con.rankmax_r2 as sym
    return patched_truth(r"the scale rule set to a fixed $a = A$ for every label: reading R1, an FY loss in $\theta$, "
                         r"whose conditional risk is convex and minimized where $\hat y = \eta$",
                         replacing((sym, "SCALE", "fixed")))
