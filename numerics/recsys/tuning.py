"""The equal-budget tuning of the recommendation experiment (issue 12): grids, one
configuration's validation score, selection, and the tuning record.

Every tuned method gets the same budget, :data:`BUDGET` configurations, from the grids
below (the one place they are stated; the appendix prints them):

* gradient-trained methods: Adam's learning rate × decoupled weight decay (AdamW,
  Loshchilov & Hutter 2019, on every parameter; 0 is plain Adam);
* ``rg2/als``: its ridge λ (16 values);
* ``ease``: its ridge λ (Steck 2019); ``itemknn``: neighbourhood size × shrinkage;
* ``popularity`` has nothing to tune.

The same d, m, epoch cap and patience hold for all (:class:`~.train.Config`).  A
configuration is scored by validation NDCG@20 on the tuning split (``holdout(data,
split_seed)``: validation carved from that split's training part, the test part never
looked at) with one training seed.  The selection is the best score, ties to the earlier
grid point.  A selection on an edge of its grid is flagged (:func:`on_edge`), and a
gradient run whose best epoch is the cap is flagged too (``at_cap``).
"""
from __future__ import annotations

import functools
import itertools
import json
from dataclasses import replace
from typing import Any

GRADIENT = ("softmax", "sparsemax", "entmax-1.5", "rankmax", "ssm/uniform", "ssm/popularity", "nce", "hsm",
            "rg2/sgd")
BUDGET = 16

GRIDS: dict[str, dict[str, tuple]] = {
    **{m: {"lr": (1e-3, 3e-3, 1e-2, 3e-2), "weight_decay": (0.0, 0.01, 0.1, 1.0)} for m in GRADIENT},
    "rg2/als": {"lam": (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
                        10000.0)},
    "ease": {"lam": (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0,
                     50000.0, 100000.0)},
    "itemknn": {"k": (5, 10, 20, 50, 100, 200, 400, 800), "shrink": (0.0, 10.0)},
}


def configurations(method: str) -> list[dict[str, Any]]:
    """Every configuration of ``method``'s grid, in grid order (last axis fastest)."""
    if method not in GRIDS:
        raise ValueError(f"method must be one of {sorted(GRIDS)}, got {method!r}")
    axes = GRIDS[method]
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def on_edge(method: str, config: dict[str, Any]) -> list[str]:
    """The axes on which ``config`` sits at the first or last grid value (an optimum
    there may lie outside the grid: extend that method's grid and record it)."""
    return [axis for axis, values in GRIDS[method].items() if len(values) > 1 and config[axis] in (values[0], values[-1])]


def select(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """The entry with the best ``valid_ndcg@20``; ties go to the earlier entry (grid order)."""
    if not scores:
        raise ValueError("scores must not be empty")
    best = max(range(len(scores)), key=lambda i: (scores[i]["valid_ndcg@20"], -i))
    return scores[best]


def config_key(method: str, config: dict[str, Any]) -> str:
    """A stable task key of (method, configuration)."""
    return f"{method}|{json.dumps(config, sort_keys=True)}"


@functools.lru_cache(maxsize=2)
def _split(data_name: str, split_seed: int):
    from .. import data as D
    from .split import holdout

    data = D.load_ml100k(D.fetch_ml100k(log=lambda m: None)) if data_name == "ml-100k" else \
        D.synthetic(n_users=120, n_items=90, per_user=15, d=6, zipf=0.5, seed=0)
    return holdout(data, split_seed)


def score_configuration(method: str, config: dict[str, Any], data_name: str, split_seed: int, seed: int,
                        cfg=None) -> dict[str, Any]:
    """Validation NDCG@20 of one configuration on the tuning split (a task of ``softmax-audit
    tune``); ``data_name`` is ``ml-100k`` or ``synthetic`` (tests)."""
    from .baselines import EASE, ItemKNN
    from .metrics import evaluate
    from .train import Config, train

    cfg = cfg or Config()
    outer, inner = _split(data_name, split_seed)
    out: dict[str, Any] = {"config": config}
    if method in ("ease", "itemknn"):
        model = EASE(config["lam"]) if method == "ease" else ItemKNN(config["k"], config["shrink"])
        out["valid_ndcg@20"] = float(evaluate(model.fit(inner), inner)["ndcg@20"].mean())
        return out
    if method == "rg2/als":
        run_cfg = replace(cfg, als_lams=(float(config["lam"]),))
    elif method in GRADIENT:
        run_cfg = replace(cfg, lr=float(config["lr"]), weight_decay=float(config["weight_decay"]))
    else:
        raise ValueError(f"method must be one of {sorted(GRIDS)}, got {method!r}")
    res = train(method, outer, inner, run_cfg, seed, test=False)
    out["valid_ndcg@20"] = max(nd for _, nd in res.curve)
    out["best_epoch"] = res.best_epoch
    cap = run_cfg.als_sweeps if method == "rg2/als" else run_cfg.epochs
    out["at_cap"] = res.best_epoch >= cap
    return out


def build_record(scores: dict[str, list[dict[str, Any]]], *, data_sha256: str, code_version: str,
                 tuning_split: int, tuning_seed: int, splits: list[int], seeds: list[int]) -> dict[str, Any]:
    """The tuning record (``numerics/recsys/tuning-ml-100k.json``): per method its grid,
    every configuration's validation score, the selection and its edge flags."""
    methods = {}
    for method in sorted(scores):
        entries = scores[method]
        if [e["config"] for e in entries] != configurations(method):
            raise ValueError(f"scores of {method} do not cover its grid in grid order")
        chosen = select(entries)
        methods[method] = {"grid": {k: list(v) for k, v in GRIDS[method].items()}, "configurations": entries,
                           "selected": chosen["config"], "selected_on_edge": on_edge(method, chosen["config"])}
    return {"data_sha256": data_sha256, "code_version": code_version, "tuning_split": tuning_split,
            "tuning_seed": tuning_seed, "splits": list(splits), "seeds": list(seeds), "budget": BUDGET,
            "methods": methods}


def check_record(record: dict[str, Any], data_sha256: str) -> None:
    """Raise ``ValueError`` naming ``softmax-audit tune`` if ``record`` does not match
    today's grids and data."""
    def stale(why: str) -> ValueError:
        return ValueError(f"the tuning record is stale ({why}); run `softmax-audit tune` to remake it")

    if record.get("data_sha256") != data_sha256:
        raise stale(f"data sha256 {record.get('data_sha256')!r}, expected {data_sha256!r}")
    if set(record.get("methods", {})) != set(GRIDS):
        raise stale(f"methods {sorted(record.get('methods', {}))}, expected {sorted(GRIDS)}")
    for method, entry in record["methods"].items():
        if entry.get("grid") != {k: list(v) for k, v in GRIDS[method].items()}:
            raise stale(f"the grid of {method} changed")
        if entry.get("selected") not in configurations(method):
            raise stale(f"the selection of {method} is not a point of its grid")
