"""What a result is a function of, besides its inputs: the code and the libraries."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

# the libraries' versions and the scoring code's identity live in numerics (its records are
# keyed by them); re-exported here for the report
from numerics.code_identity import scoring_version, versions  # noqa: F401

_PACKAGES = ("audit", "losses", "proofs", "numerics", "reports")


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
