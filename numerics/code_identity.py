"""What a computed result is a function of besides its inputs: the libraries' versions and
the source of the code that computes it.  Here (not in ``reports/``) because numerics'
committed records (the experiment's final runs, ``numerics/exp/record.py``) are keyed by it and
``numerics`` never imports ``reports``."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

_VERSIONED = ("torch", "sympy", "cvxpy", "clarabel", "numpy", "scipy", "hypothesis")
#: the libraries a training run calls (torch; numpy for the data and splits): only their
#: versions key the scoring code, so a new sympy or hypothesis leaves the records current
_SCORING_LIBS = ("torch", "numpy")
ROOT = Path(__file__).resolve().parent.parent


def versions() -> dict[str, str]:
    """Versions of the libraries the checks call (results.json ``meta.versions``)."""
    out = {}
    for pkg in _VERSIONED:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


#: what a training run's score is a function of: the losses, the data, the training code --
#: not the grids (tuning.py), the records, the statistics or the report
_SCORING = ("losses", "numerics/data.py", "numerics/threads.py", "numerics/recsys")
_NOT_SCORING = ("numerics/recsys/tuning.py", "numerics/recsys/final.py", "numerics/recsys/runlevel.py",
                "numerics/recsys/plausible.py", "numerics/recsys/bench_refs.py",
                "numerics/recsys/bench.py",
                "losses/separable.py")   # the map of a user's loss (audit-loss): no training imports it


@lru_cache(maxsize=1)
def scoring_version() -> str:
    """sha256 of the code a training run's score depends on (:data:`_SCORING`, and the source
    of ``tuning.score_configuration``) and of the versions of :data:`_SCORING_LIBS`: the tuning
    sweep's and the final runs' resume key and the final-runs record's identity, so that moving a grid reuses every configuration already scored while any
    change to how one is scored recomputes it."""
    import inspect

    from .recsys import tuning

    h = hashlib.sha256()
    for entry in _SCORING:
        path = ROOT / entry
        for f in sorted(path.rglob("*.py") if path.is_dir() else [path]):
            rel = f.relative_to(ROOT).as_posix()
            if rel not in _NOT_SCORING:
                h.update(rel.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(inspect.getsource(tuning.score_configuration).encode() + b"\0")
    h.update(json.dumps({k: v for k, v in versions().items() if k in _SCORING_LIBS}, sort_keys=True).encode())
    return h.hexdigest()
