"""Re-checks of EXP-1 / DYN-3 / CPX-2 counterexamples from the stored per-user differences
(numpy only)."""
from __future__ import annotations

import math

import numpy as np

from .maps import _t_quantile


def recheck_exp(cx: dict, reading: str = "") -> tuple[bool, str]:
    """EXP-1, DYN-3, CPX-2: a paired comparison whose interval lies on the stored side of 0,
    recomputed from the per-user differences; or per-epoch operation counts."""
    msgs = []
    for name, c in (cx.get("comparisons") or {}).items():
        d = np.asarray(c["per_user_diff"], dtype=np.float64)
        if d.size < 100:
            return False, f"{name}: only {d.size} users (the t expansion needs df ≥ 100)"
        half = _t_quantile(0.5 + float(cx["level"]) / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
        lo, hi = d.mean() - half, d.mean() + half
        ok = lo > 0 if c["side"] == "above 0" else hi < 0
        if not ok:
            return False, f"{name}: recomputed interval [{lo:.5f}, {hi:.5f}] is not {c['side']}"
        msgs.append(f"{name} [{lo:.4f}, {hi:.4f}]")
    flops = cx.get("flops_per_epoch")
    if flops and not cx.get("comparisons"):
        dearer = [m for m, f in flops.items() if m != "softmax" and f >= flops["softmax"]]
        if not dearer:
            return False, "no method costs at least as much as softmax"
        msgs.append(f"{', '.join(dearer)} >= softmax ({flops['softmax']:.3g} operations per epoch)")
    return (True, "; ".join(msgs)) if msgs else (False, "nothing to re-check")


#: claim id -> re-check(counterexample, reading) -> (re-checked?, message)
RECHECKERS = {"EXP-1": recheck_exp, "DYN-3": recheck_exp, "CPX-2": recheck_exp}
