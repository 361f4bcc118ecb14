"""What a result is a function of, besides its inputs: the code and the libraries."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

_VERSIONED = ("torch", "sympy", "cvxpy", "clarabel", "numpy", "scipy", "hypothesis")
_PACKAGES = ("audit", "losses", "proofs", "numerics", "reports")


def versions() -> dict[str, str]:
    """Versions of the libraries the checks call (results.json ``meta.versions``)."""
    out = {}
    for pkg in _VERSIONED:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


@lru_cache(maxsize=1)
def code_version() -> str:
    """sha256 of every ``.py`` file of our packages (by path and content) and of
    :func:`versions`: a result computed by other code or other libraries never passes for
    one of this code."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for pkg in _PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(json.dumps(versions(), sort_keys=True).encode())
    return h.hexdigest()


#: what a tuning score is a function of: the losses, the data, the training code -- not the
#: grids (tuning.py), the final runs, the statistics or the report
_SCORING = ("losses", "numerics/data.py", "numerics/threads.py", "numerics/recsys")
_NOT_SCORING = ("numerics/recsys/tuning.py", "numerics/recsys/final.py", "numerics/recsys/runlevel.py",
                "numerics/recsys/plausible.py", "numerics/recsys/bench_refs.py",
                "numerics/recsys/bench.py",
                "losses/separable.py")   # the map of a user's loss (audit-loss): no training imports it


@lru_cache(maxsize=1)
def scoring_version() -> str:
    """sha256 of the code a tuning score depends on (:data:`_SCORING`, and the source of
    ``tuning.score_configuration`` and ``final.configured``/``final.split_of``) and of
    :func:`versions`: the tuning sweep's resume key, so that moving a grid reuses every
    configuration already scored while any change to how one is scored recomputes it."""
    import inspect

    from numerics.recsys import final, tuning

    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for entry in _SCORING:
        path = root / entry
        for f in sorted(path.rglob("*.py") if path.is_dir() else [path]):
            rel = f.relative_to(root).as_posix()
            if rel not in _NOT_SCORING:
                h.update(rel.encode() + b"\0" + f.read_bytes() + b"\0")
    for fn in (tuning.score_configuration, final.configured, final.split_of):
        h.update(inspect.getsource(fn).encode() + b"\0")
    h.update(json.dumps(versions(), sort_keys=True).encode())
    return h.hexdigest()
