"""Labels of the order-preservation figures (CON-3), shared by ``order.py`` and
``order_bayes.py``."""
from __future__ import annotations

# labels of the figures: the variant keys, the counts, the witness (WITNESS_KEY "sop_witness")
LABELS = {
    "sparsemax": "sparsemax", "entmax": "entmax", "rankmax": "rankmax",
    "cases": "score vectors", "ordered_pairs": r"ordered pairs $\theta_i > \theta_j$",
    "sop_ties": r"pairs with $\hat y_i = \hat y_j$", "wop_violations": r"pairs with $\hat y_i < \hat y_j$",
    "resolvable_pairs": "pairs float64 resolves",
    "violations_resolvable": r"resolvable pairs with $\hat y_i \le \hat y_j$",
    "max_rel_log_identity_error": r"largest relative error of $\log\hat y_i - \log\hat y_j = \theta_i - \theta_j$",
    "float64_ties": r"float64 ties $\hat y_i = \hat y_j$ (underflow)", "ties_rechecked_mpmath60": "ties re-checked at 60 digits",
    "ties_strict_in_mpmath": "ties strict at 60 digits",
    "sop_witness": r"SOP witness ($\theta_i > \theta_j$, $\hat y_i = \hat y_j$)",
    "theta": r"$\theta$", "i": "$i$", "j": "$j$", "yhat": r"$\hat y$", "eta": r"$\eta$", "alpha": r"$\alpha$", "k": "$k$",
}


def _variant_label(key: str) -> str:
    """``alpha=1.5`` -> ``$\\alpha = 1.5$``, ``k=2`` -> ``$k = 2$``, a loss name as it is."""
    if "=" not in key:
        return key
    name, _, value = key.partition("=")
    sym = "\\alpha" if name == "alpha" else name
    return f"${sym} = {value}$"
