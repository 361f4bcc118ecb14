"""The equal-budget tuning of the recommendation experiment (issue 12): grids, one
configuration's validation score, selection, and the tuning record.

Every tuned method gets the same budget, :data:`BUDGET` configurations, from the grids
below (the one place they are stated; the appendix prints them):

* gradient-trained methods: Adam's learning rate × decoupled weight decay (AdamW,
  Loshchilov & Hutter 2019, on every parameter; 0 is plain Adam);
* ``rg2/als``: its ridge λ (20 values); ``rg2/als-authors``: ridge λ × positive weight α;
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

import itertools
import json
from typing import Any

GRADIENT = ("softmax", "sparsemax", "entmax-1.5", "rankmax", "ssm/uniform", "ssm/popularity", "nce", "hsm",
            "rg2/sgd")
ALS = ("rg2/als", "rg2/als-authors")
BUDGET = 20

#: the grids, one place.  History (the first record, 16 configurations): lr 1e-3 ran into
#: the epoch cap for most methods and was never selected, and 7 of 9 gradient methods
#: selected the largest weight decay (1.0), so the grid moved one decade up in lr and
#: widened in weight decay; RG²-ALS's ridge peaked at 10 and is sampled more densely there.
GRIDS: dict[str, dict[str, tuple]] = {
    **{m: {"lr": (3e-3, 1e-2, 3e-2, 1e-1), "weight_decay": (0.0, 0.3, 1.0, 3.0, 10.0)} for m in GRADIENT},
    "rg2/als": {"lam": (0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 70.0, 100.0, 200.0,
                        500.0, 1000.0, 5000.0, 10000.0)},
    # the authors' configuration files: alpha 0.005 and lambda 0.1 (ML-10M), 0.01 / 0.001 elsewhere
    "rg2/als-authors": {"lam": (0.01, 0.03, 0.1, 0.3, 1.0), "alpha": (0.0, 0.001, 0.005, 0.02)},
    "ease": {"lam": (10.0, 20.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 1000.0,
                     1500.0, 2000.0, 3000.0, 5000.0, 10000.0, 20000.0, 50000.0)},
    "itemknn": {"k": (20, 50, 100, 200, 400), "shrink": (0.0, 10.0, 30.0, 100.0)},
}


#: a grid moved off an edge (issue 12 §1: "extend that method's grid and record it"): the
#: method's grid slides one step along the axis whose edge its selection sat on, keeping its
#: 20 configurations (the far end, scored and recorded before the move, leaves it), so the
#: budget stays equal; applied to :data:`GRIDS` below and copied into the record
_LR3, _LR1 = (3e-3, 1e-2, 3e-2, 1e-1), (1e-3, 3e-3, 1e-2, 3e-2)
_WD0, _WD1 = (0.0, 0.3, 1.0, 3.0, 10.0), (0.3, 1.0, 3.0, 10.0, 30.0)
_FIRST = "in the first sweep of this grid"
GRID_HISTORY: dict[str, list[dict[str, Any]]] = {
    "nce": [{"from": {"lr": _LR3}, "to": {"lr": _LR1}, "why": f"selected lr 3e-3, the lowest, {_FIRST}"}],
    "rankmax": [{"from": {"lr": _LR3}, "to": {"lr": _LR1}, "why": f"selected lr 3e-3, the lowest, {_FIRST}"}],
    "sparsemax": [{"from": {"lr": _LR3, "weight_decay": _WD0}, "to": {"lr": _LR1, "weight_decay": _WD1},
                   "why": f"selected lr 3e-3 (the lowest) and weight decay 10 (the largest) {_FIRST}"}],
    "rg2/als-authors": [{"from": {"alpha": (0.0, 0.001, 0.005, 0.02)}, "to": {"alpha": (0.001, 0.005, 0.02, 0.1)},
                         "why": f"selected alpha 0.02, the largest, {_FIRST}"}],
}
for _m, _moves in GRID_HISTORY.items():
    for _move in _moves:
        GRIDS[_m] = GRIDS[_m] | _move["to"]


def configurations(method: str) -> list[dict[str, Any]]:
    """Every configuration of ``method``'s grid, in grid order (last axis fastest)."""
    if method not in GRIDS:
        raise ValueError(f"method must be one of {sorted(GRIDS)}, got {method!r}")
    axes = GRIDS[method]
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def earlier_grids(method: str) -> list[dict[str, tuple]]:
    """The grids ``method`` had before each move of :data:`GRID_HISTORY`, latest first."""
    grid, out = dict(GRIDS[method]), []
    for move in reversed(GRID_HISTORY.get(method, [])):
        if any(tuple(grid[axis]) != tuple(v) for axis, v in move["to"].items()):
            raise ValueError(f"GRID_HISTORY of {method}: a move to {move['to']} but the grid is {grid}")
        grid = grid | {axis: tuple(v) for axis, v in move["from"].items()}
        out.append(grid)
    return out


def moved_out(method: str) -> list[dict[str, Any]]:
    """The configurations scored on an earlier grid that a move took out of the current one
    (they stay in the record, under ``scored_before_move``)."""
    now, out = configurations(method), []
    for grid in earlier_grids(method):
        for values in itertools.product(*grid.values()):
            c = dict(zip(grid, values))
            if c not in now and c not in out:
                out.append(c)
    return out


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


def score_configuration(method: str, config: dict[str, Any], data_name: str, split_seed: int, seed: int,
                        cfg=None) -> dict[str, Any]:
    """Validation NDCG@20 of one configuration on the tuning split (a task of ``softmax-audit
    tune``); ``data_name`` is ``ml-100k`` or ``synthetic`` (tests)."""
    from .final import CALIBRATION, calibration_model, configured, split_of
    from .metrics import evaluate
    from .train import Config, train

    cfg = cfg or Config()
    outer, inner = split_of(data_name, split_seed)
    out: dict[str, Any] = {"config": config}
    if method in CALIBRATION:
        out["valid_ndcg@20"] = float(evaluate(calibration_model(method, config).fit(inner), inner)["ndcg@20"].mean())
        return out
    if method not in (*ALS, *GRADIENT):
        raise ValueError(f"method must be one of {sorted(GRIDS)}, got {method!r}")
    run_cfg = configured(cfg, method, config)
    res = train(method, outer, inner, run_cfg, seed, test=False)
    out["valid_ndcg@20"] = max(nd for _, nd in res.curve)
    out["best_epoch"] = res.best_epoch
    out["at_cap"] = res.best_epoch >= run_cfg.epochs
    return out


def build_record(scores: dict[str, list[dict[str, Any]]], *, data_sha256: str, code_version: str,
                 tuning_split: int, tuning_seed: int, splits: list[int], seeds: list[int],
                 before_move: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The tuning record (``numerics/recsys/tuning-ml-100k.json``): per method its grid,
    every configuration's validation score, the selection and its edge flags."""
    methods = {}
    for method in sorted(scores):
        entries = scores[method]
        if [e["config"] for e in entries] != configurations(method):
            raise ValueError(f"scores of {method} do not cover its grid in grid order")
        chosen = select(entries)
        methods[method] = {"grid": {k: list(v) for k, v in GRIDS[method].items()}, "configurations": entries,
                           "selected": chosen["config"], "selected_on_edge": on_edge(method, chosen["config"]),
                           "grid_history": _history_json(method),
                           "scored_before_move": (before_move or {}).get(method, [])}
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
        if entry.get("grid_history", []) != _history_json(method):
            raise stale(f"the grid history of {method} changed")
        if entry.get("selected") not in configurations(method):
            raise stale(f"the selection of {method} is not a point of its grid")


def _history_json(method: str) -> list[dict[str, Any]]:
    return [{"from": {a: list(v) for a, v in m["from"].items()}, "to": {a: list(v) for a, v in m["to"].items()},
             "why": m["why"]} for m in GRID_HISTORY.get(method, [])]
