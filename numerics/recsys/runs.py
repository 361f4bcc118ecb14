"""How one configuration of a method becomes a training run: the method groups, the
configuration applied to the shared :class:`~.train.Config`, the closed-form baselines and
the splits.  Shared by the tuning sweep (``tuning.score_configuration``) and the final runs
(``final.final_run``), so that neither imports the other; part of the scoring code
(``numerics/code_identity.py``): a change here changes every score."""
from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

#: trained by gradient steps: tuned over Adam's learning rate × decoupled weight decay
GRADIENT = ("softmax", "sparsemax", "entmax-1.5", "rankmax", "ssm/uniform", "ssm/popularity", "nce", "hsm",
            "rg2/sgd")
#: trained by alternating least squares: tuned over the ridge (and the authors' positive weight)
ALS = ("rg2/als", "rg2/als-authors")
#: closed-form calibration baselines: in the tables, not in the family's comparisons
CALIBRATION = ("ease", "itemknn")


def calibration_model(method: str, config: dict[str, Any]):
    """The closed-form baseline ``method`` (``ease`` or ``itemknn``) at ``config``, unfitted."""
    from .baselines import EASE, ItemKNN

    return EASE(config["lam"]) if method == "ease" else ItemKNN(config["k"], config["shrink"])


def configured(cfg, method: str, config: dict[str, Any]):
    """``cfg`` with ``method``'s configuration applied (the one mapping tuning and the final
    runs share)."""
    if method in ALS:
        return replace(cfg, als_lam=float(config["lam"]), als_alpha=float(config.get("alpha", 0.0)))
    if method in GRADIENT:
        return replace(cfg, lr=float(config["lr"]), weight_decay=float(config["weight_decay"]))
    return cfg


@functools.lru_cache(maxsize=16)   # every split of the full design, in a worker that runs them in turn
def split_of(data_name: str, split_seed: int):
    """``(outer, inner)`` of ``split.holdout`` on the named data (``ml-100k`` or the small
    ``synthetic`` set of the tests)."""
    from .. import data as D
    from .split import holdout

    data = D.load_ml100k(D.fetch_ml100k(log=lambda m: None)) if data_name == "ml-100k" else \
        D.synthetic(n_users=120, n_items=90, per_user=15, d=6, zipf=0.5, seed=0)
    return holdout(data, split_seed)
