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
