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
configuration is scored on the tuning split (``holdout(data, split_seed)``: validation
carved from that split's training part, the test part never looked at) with each of the
:data:`TUNING_SEEDS` training seeds: the per-user validation NDCG@20 at each seed's best
epoch is kept (issue 21: a compact float32 array beside the record, its sha256 in the
record), so configurations can be compared paired over users, with the seed noise measured.
A configuration's score is the mean over its seeds; the selection is the best score, ties to
the earlier grid point; the plausible set around it is ``plausible.py``'s.  The epoch count
of a final run is the mean of the seeds' best epochs, rounded up.  A selection on an edge of
its grid is flagged (:func:`on_edge`), and so is a run the epoch cap cut short (``at_cap``:
it reached the cap before its patience ran out, :func:`cut_by_cap`).  A run that stopped
by patience is the same run under any larger cap, so raising the cap re-scores only the
runs it cut (``softmax-audit tune`` resumes the others).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from .runs import ALS, CALIBRATION, GRADIENT, calibration_model, configured, split_of

BUDGET = 20
#: the training seeds every configuration is scored with (their spread is the seed noise)
TUNING_SEEDS = (0, 1)

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
_SECOND = "in the sweep of issue 21 (two seeds, epoch cap 100)"
GRID_HISTORY: dict[str, list[dict[str, Any]]] = {
    "nce": [{"from": {"lr": _LR3}, "to": {"lr": _LR1}, "why": f"selected lr 3e-3, the lowest, {_FIRST}"}],
    "rankmax": [{"from": {"lr": _LR3}, "to": {"lr": _LR1}, "why": f"selected lr 3e-3, the lowest, {_FIRST}"}],
    "sparsemax": [{"from": {"lr": _LR3, "weight_decay": _WD0}, "to": {"lr": _LR1, "weight_decay": _WD1},
                   "why": f"selected lr 3e-3 (the lowest) and weight decay 10 (the largest) {_FIRST}"}],
    "rg2/als-authors": [{"from": {"alpha": (0.0, 0.001, 0.005, 0.02)}, "to": {"alpha": (0.001, 0.005, 0.02, 0.1)},
                         "why": f"selected alpha 0.02, the largest, {_FIRST}"}],
    **{m: [{"from": {"lr": _LR3}, "to": {"lr": _LR1}, "why": f"selected lr 3e-3, the lowest, {_SECOND}"}]
       for m in ("softmax", "entmax-1.5", "ssm/popularity")},
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
    """One configuration with one training seed on the tuning split (a task of
    ``softmax-audit tune``): its validation NDCG@20 (mean and per user, at the best epoch),
    best epoch and cap flag; ``data_name`` is ``ml-100k`` or ``synthetic`` (tests)."""
    from .metrics import evaluate
    from .train import Config, train

    cfg = cfg or Config()
    outer, inner = split_of(data_name, split_seed)
    out: dict[str, Any] = {"config": config, "seed": seed}
    if method in CALIBRATION:
        per_user = evaluate(calibration_model(method, config).fit(inner), inner)["ndcg@20"]
        return out | {"valid_ndcg@20": float(per_user.mean()), "per_user": per_user.tolist()}
    if method not in (*ALS, *GRADIENT):
        raise ValueError(f"method must be one of {sorted(GRIDS)}, got {method!r}")
    run_cfg = configured(cfg, method, config)
    res = train(method, outer, inner, run_cfg, seed, test=False)
    return out | {"valid_ndcg@20": float(res.valid.mean()), "per_user": res.valid.tolist(),
                  "best_epoch": res.best_epoch, "cap": run_cfg.epochs,
                  "at_cap": cut_by_cap(res.best_epoch, run_cfg)}


def cut_by_cap(best_epoch: int, cfg) -> bool:
    """Whether a run with this best epoch ended at the cap ``cfg.epochs`` before ``cfg.patience``
    evaluations without improvement (``cfg.eval_every`` epochs apart) had passed: the cap,
    not early stopping, ended it, and a larger cap could find a later best epoch."""
    return best_epoch + cfg.patience * cfg.eval_every > cfg.epochs


def reusable(stored: dict[str, Any], cap: int) -> bool:
    """Whether a stored score is the score of the same run under the epoch cap ``cap``: it ran
    under that cap, or under a smaller one that did not cut it (the training is deterministic
    and the run stopped by patience before the old cap, so a larger one changes nothing)."""
    if "best_epoch" not in stored:            # the calibration baselines have no epochs
        return True
    return stored.get("cap") == cap or (stored.get("cap", cap + 1) < cap and not stored["at_cap"])


def entry_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A configuration's record entry from its runs at the tuning seeds (in seed order):
    the mean score, the per-seed scores, best epochs and the final runs' epoch count."""
    if not runs or any(r["config"] != runs[0]["config"] for r in runs):
        raise ValueError("runs must be non-empty and of one configuration")
    out = {"config": runs[0]["config"], "valid_ndcg@20": statistics.fmean(r["valid_ndcg@20"] for r in runs),
           "valid_ndcg@20_by_seed": [r["valid_ndcg@20"] for r in runs], "seeds": [r["seed"] for r in runs]}
    if "best_epoch" in runs[0]:
        best = [int(r["best_epoch"]) for r in runs]
        out |= {"best_epoch_by_seed": best, "best_epoch": math.ceil(statistics.fmean(best)),
                "at_cap": any(bool(r["at_cap"]) for r in runs)}
    return out


def per_user_path(record_path: Path) -> Path:
    """Where the per-user validation scores of a record live: beside it, ``.npy``."""
    return Path(record_path).with_suffix(".valid.npy")


def per_user_bytes(array: np.ndarray) -> bytes:
    """The ``.npy`` bytes of ``array`` (deterministic: no timestamps, unlike ``.npz``)."""
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def load_per_user(record: dict[str, Any], record_path: Path) -> np.ndarray:
    """The record's per-user validation scores (rows, seeds, users), checked against the
    sha256 the record holds (``ValueError`` naming ``softmax-audit tune`` otherwise)."""
    meta = record.get("per_user") or {}
    path = per_user_path(record_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"no per-user validation scores at {path}; run `softmax-audit tune` to remake the record") \
            from None
    if hashlib.sha256(raw).hexdigest() != meta.get("sha256"):
        raise ValueError(f"the per-user validation scores at {path} do not match the record's sha256; "
                         "run `softmax-audit tune` to remake the record")
    import io

    arr = np.load(io.BytesIO(raw), allow_pickle=False)
    if list(arr.shape) != list(meta.get("shape", [])):
        raise ValueError(f"per-user validation scores of shape {arr.shape}, the record says {meta.get('shape')}")
    return arr


def build_record(scores: dict[str, list[list[dict[str, Any]]]], *, data_sha256: str, code_version: str,
                 tuning_split: int, tuning_seeds: list[int], splits: list[int],
                 before_move: dict[str, list[list[dict[str, Any]]]] | None = None
                 ) -> tuple[dict[str, Any], np.ndarray]:
    """The tuning record (``numerics/recsys/tuning-ml-100k.json``) and its per-user array:
    per method its grid, every configuration's entry (:func:`entry_of`; ``row`` indexes the
    array), the selection and its edge flags.  ``scores[method]`` lists, in grid order, each
    configuration's runs at ``tuning_seeds``."""
    methods, rows = {}, []
    for method in sorted(scores):
        per_config = scores[method]
        if [runs[0]["config"] for runs in per_config] != configurations(method):
            raise ValueError(f"scores of {method} do not cover its grid in grid order")
        entries = []
        for runs in per_config:
            if [r["seed"] for r in runs] != list(tuning_seeds):
                raise ValueError(f"{method} {runs[0]['config']}: runs at seeds {[r['seed'] for r in runs]}, "
                                 f"expected {list(tuning_seeds)}")
            entries.append(entry_of(runs) | {"row": len(rows)})
            rows.append([r["per_user"] for r in runs])
        chosen = select(entries)
        methods[method] = {"grid": {k: list(v) for k, v in GRIDS[method].items()}, "configurations": entries,
                           "selected": chosen["config"], "selected_on_edge": on_edge(method, chosen["config"]),
                           "grid_history": _history_json(method),
                           "scored_before_move": [entry_of(runs) for runs in (before_move or {}).get(method, [])]}
    lengths = {len(u) for r in rows for u in r}
    if len(lengths) != 1:
        raise ValueError(f"per-user scores of different lengths {sorted(lengths)}: not one validation set")
    array = np.asarray(rows, dtype=np.float32)
    record = {"data_sha256": data_sha256, "code_version": code_version, "tuning_split": tuning_split,
              "tuning_seeds": list(tuning_seeds), "splits": list(splits), "budget": BUDGET, "methods": methods,
              "per_user": {"sha256": hashlib.sha256(per_user_bytes(array)).hexdigest(), "shape": list(array.shape),
                           "dtype": "float32", "metric": "validation ndcg@20 at each seed's best epoch"}}
    return record, array


def check_record(record: dict[str, Any], data_sha256: str) -> None:
    """Raise ``ValueError`` naming ``softmax-audit tune`` if ``record`` does not match
    today's grids and data."""
    def stale(why: str) -> ValueError:
        return ValueError(f"the tuning record is stale ({why}); run `softmax-audit tune` to remake it")

    if record.get("data_sha256") != data_sha256:
        raise stale(f"data sha256 {record.get('data_sha256')!r}, expected {data_sha256!r}")
    if record.get("tuning_seeds") != list(TUNING_SEEDS):
        raise stale(f"tuning seeds {record.get('tuning_seeds')!r}, expected {list(TUNING_SEEDS)}")
    if not isinstance(record.get("per_user"), dict):
        raise stale("it holds no per-user validation scores")
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
