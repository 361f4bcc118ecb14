"""The committed record of the experiment's final runs (issue 21): what each run of the
design measured, so that a report need not retrain 245 (quick) or 521 (full) models to
decide EXP-1, DYN-3 and CPX-2.

What it is.  ``numerics/recsys/final-ml-100k.json`` holds, per final run (one method,
plausible configuration, split seed and training seed of ``exp_run``'s design, keyed as
``exp_run`` keys its work), the test metrics' means over the test users (NDCG@10, NDCG@20,
Recall@20, each the float32 mean as torch computes it, stored exactly), the epoch count
it ran, its gradient fraction, and its wall seconds per epoch (a figure, never a decision).
``softmax-audit experiment`` computes every run of a profile's design through the execution
layer and writes it.

When it is used.  Only for runs of the record's own identity (:func:`identity`): the
scoring code (``code_identity.scoring_version``: the losses, the data, the training code),
the source of the final run, the tuning record's bytes and the data's sha256.  Any change
to how a run is computed makes the record stale, and a stale record is never read: every
run is then computed, and a test (``tests/test_exp_record.py``) fails until the record is
remade.  Runs of another seed (``--seed``) or device are always computed.

How it is checked every time it is used.  A fixed sample, one run per method
(:func:`verification_keys`: the selection on split ``i mod S`` for the ``i``-th method), is
recomputed and compared with the record exactly (every stored field except the wall
seconds).  When one differs (a machine whose floating-point kernels differ from the one
that made the record, or a tampered record) nothing of the record is used: every run is
computed here, and the rows say so.  The rows always state where their runs came from.
"""
from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..recsys import final as F

RECORD = Path(__file__).resolve().parents[1] / "recsys" / "final-ml-100k.json"
METRICS = ("ndcg@10", "ndcg@20", "recall@20")
#: the fields of a run compared bit for bit (the wall seconds are a measurement of the machine)
COMPARED = ("means", "best_epoch", "grad_frac")


@dataclass(frozen=True)
class RecordedRun:
    """One final run as the record (or a run summarised as the record stores it) gives it:
    the interface the checks read of a run (``mean``, ``grad_frac``, ``epoch_s``)."""
    method: str
    seed: int
    means: dict
    best_epoch: int
    grad_frac: float | None
    epoch_s: float

    def mean(self, key: str) -> float:
        return self.means[key]


def summary(result) -> dict[str, Any]:
    """A :class:`.recsys.train.RunResult` as the record stores it (JSON-able, exact)."""
    return {"means": {k: float(result.per_user[k].mean()) for k in METRICS}, "best_epoch": int(result.best_epoch),
            "grad_frac": None if result.grad_frac is None else float(result.grad_frac),
            "epoch_s": float(result.epoch_s)}


def summarised_run(method: str, config: dict[str, Any], epochs: int | None, data_name: str, split_seed: int,
                   seed: int, cfg=None, device: str = "cpu") -> dict[str, Any]:
    """One final run (``recsys.final.final_run``), summarised (:func:`summary`): the unit of
    work of the experiment, small enough to ship from a worker."""
    return summary(F.final_run(method, config, epochs, data_name, split_seed, seed, cfg, device))


def as_run(method: str, seed: int, stored: dict[str, Any]) -> RecordedRun:
    return RecordedRun(method, seed, dict(stored["means"]), stored["best_epoch"], stored["grad_frac"],
                       stored["epoch_s"])


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two summarised runs equal in every compared field (exact float equality)."""
    return all(a.get(k) == b.get(k) for k in COMPARED)


def identity(tuning_path: Path, data_sha256: str) -> dict[str, str]:
    """What the record's runs are a function of (module docstring)."""
    from ..code_identity import scoring_version

    final = inspect.getsource(F.final_run) + inspect.getsource(summary) + inspect.getsource(summarised_run)
    return {"scoring_version": scoring_version(), "final_run_sha256": hashlib.sha256(final.encode()).hexdigest(),
            "tuning_record_sha256": hashlib.sha256(Path(tuning_path).read_bytes()).hexdigest(),
            "data_sha256": data_sha256}


def load(path: Path = RECORD) -> dict[str, Any] | None:
    """The record at ``path``, or None when there is none; ``ValueError`` when it is not one."""
    try:
        record = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path} is not a final-runs record ({exc}); run `softmax-audit experiment`") from None
    if not (isinstance(record, dict) and isinstance(record.get("runs"), dict) and isinstance(record.get("identity"), dict)):
        raise ValueError(f"{path} is not a final-runs record; run `softmax-audit experiment`")
    return record


def stale(record: dict[str, Any] | None, ident: dict[str, str]) -> str | None:
    """Why ``record`` cannot be used for runs of identity ``ident`` (None when it can)."""
    if record is None:
        return "there is no record"
    diff = [k for k in sorted(ident) if record["identity"].get(k) != ident[k]]
    return f"its {', '.join(d.replace('_', ' ') for d in diff)} differ(s) from today's" if diff else None


def build(runs: dict[str, dict[str, Any]], ident: dict[str, str], design: dict[str, Any]) -> dict[str, Any]:
    """The record of ``runs`` (key -> summarised run), sorted by key."""
    return {"what": "final runs of the recommendation experiment (numerics/exp/record.py); "
                    "written by `softmax-audit experiment`",
            "identity": dict(ident), "design": design, "metrics": list(METRICS),
            "runs": {k: runs[k] for k in sorted(runs)}}


def verification_keys(selection_runs: dict[str, list[str]]) -> list[str]:
    """One run per method (module docstring): ``selection_runs`` maps each method, in a fixed
    order, to the keys of its selection's runs in design order."""
    return [keys[i % len(keys)] for i, (_, keys) in enumerate(selection_runs.items()) if keys]
