"""The final runs of the recommendation experiment (issue 12): the tuning record's
selected configurations, refitted on several splits and training seeds.

Protocol (fixed before any test metric is seen).  The tuning sweep (``tuning.py``,
``softmax-audit tune``) selected one configuration per method, and with it an epoch count
(the best validation epoch of that configuration on the tuning split; ALS: sweeps).  A
final run is one (method, split seed, training seed): the selected configuration trained
on the split's whole training part (training + validation) for the selected epoch count,
then tested once on the split's test part (:func:`.train.refit`).  EASE and item kNN are
fitted in closed form on the same training part; popularity counts it.

Tuning uncertainty (issue 21): every configuration of a method that validation cannot
tell from its selection (the plausible set, ``plausible.py``, from the record's per-user
validation scores) is refitted the same way, each with its own epoch count from the record;
a verdict must come out the same for every plausible configuration (``numerics/exp/decide.py``).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from . import tuning as T
from .runs import CALIBRATION, calibration_model, configured, split_of

#: the committed tuning record (``softmax-audit tune`` writes it)
RECORD = Path(__file__).resolve().parent / "tuning-ml-100k.json"


def load_record(path: Path = RECORD) -> dict[str, Any]:
    """The tuning record; ``ValueError`` naming ``softmax-audit tune`` when it is missing."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"no tuning record at {path}; run `softmax-audit tune` to make it") from None


def entry(record: dict[str, Any], method: str, config: dict[str, Any]) -> dict[str, Any]:
    """The record's scored entry of ``config`` (its validation score, best epoch, cap flag)."""
    for e in record["methods"][method]["configurations"]:
        if e["config"] == config:
            return e
    raise ValueError(f"{method}: configuration {config} is not in the tuning record")


def selection(record: dict[str, Any], method: str, path: Path | None = None) -> dict[str, Any]:
    """``{"config", "epochs", "at_cap", "on_edge", "valid_ndcg@20", "plausible"}`` of
    ``method``: its selection, and its plausible set (:func:`plausible_set`, the selection
    first); no configuration and no epochs for popularity."""
    if method not in record["methods"]:
        only = {"config": {}, "epochs": None, "at_cap": False, "valid_ndcg@20": None}
        return only | {"on_edge": [], "plausible": [only]}
    m = record["methods"][method]
    e = entry(record, method, m["selected"])
    return {"config": m["selected"], "epochs": e.get("best_epoch"), "at_cap": bool(e.get("at_cap", False)),
            "on_edge": list(m.get("selected_on_edge", [])), "valid_ndcg@20": e["valid_ndcg@20"],
            "plausible": plausible_set(record, method, path)}


def plausible_set(record: dict[str, Any], method: str, path: Path | None = None) -> list[dict[str, Any]]:
    """The configurations of ``method`` that validation cannot tell from its selection
    (``plausible.py`` on the record's per-user validation scores), the selection first, then
    by validation score: ``[{"config", "epochs", "at_cap", "valid_ndcg@20", "bound"}]``."""
    from .plausible import plausible

    m = record["methods"][method]
    entries = m["configurations"]
    scores = _per_user(json.dumps(record.get("per_user"), sort_keys=True), str(path or RECORD))
    p = plausible(scores[[e["row"] for e in entries]])
    members = sorted(p.members, key=lambda c: (entries[c]["config"] != m["selected"], -p.mean[c], c))
    if entries[members[0]]["config"] != m["selected"]:
        raise ValueError(f"{method}: the record's selection {m['selected']} is not in its plausible set")
    return [{"config": entries[c]["config"], "epochs": entries[c].get("best_epoch"),
             "at_cap": bool(entries[c].get("at_cap", False)), "valid_ndcg@20": entries[c]["valid_ndcg@20"],
             "bound": p.bound[c]} for c in members]


@functools.lru_cache(maxsize=2)
def _per_user(meta: str, path: str):
    """The record's per-user validation array (cached by its metadata and place)."""
    return T.load_per_user({"per_user": json.loads(meta)}, Path(path))


def final_run(method: str, config: dict[str, Any], epochs: int | None, data_name: str, split_seed: int, seed: int,
              cfg=None, device: str = "cpu"):
    """One final run (module docstring): a :class:`.train.RunResult` with the test metrics.
    One intra-op thread, wherever it runs: a float reduction's bits then do not depend on
    the machine's or the worker's thread count, so results never depend on ``--jobs``."""
    from ..threads import one_thread
    from .metrics import evaluate
    from .train import Config, RunResult, refit

    cfg = cfg or Config()
    outer, _ = split_of(data_name, split_seed)
    with one_thread():
        if method in CALIBRATION:
            return RunResult(method, seed, evaluate(calibration_model(method, config).fit(outer), outer))
        return refit(method, outer, configured(cfg, method, config), seed, epochs or 0, device)
