"""Re-checks of FY counterexamples (numpy only)."""
from __future__ import annotations

import numpy as np

from .maps import entmax, jacobian_lambda_max


def recheck_fy4(cx: dict, reading: str) -> tuple[bool, str]:
    """FY-4 entmax[alpha>2]: λ_max(J_ŷ(θ)) > 1 at the stored θ, refuting 'between ½ and 1'."""
    lam = jacobian_lambda_max(lambda t: entmax(t, cx["alpha"]), np.array(cx["theta"]))
    return lam > 1 + 1e-6, f"alpha={cx['alpha']}, theta={cx['theta']}: lambda_max={lam:.6g} (stored {cx.get('lambda_max')})"


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {"FY-4": recheck_fy4}
