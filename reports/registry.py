"""The claims registry: every claim × reading, in report order.

This module only lists the claims (one ``claims`` module per claim family, ``reports/<family>/claims.py``); what a claim
and a check are lives in :mod:`reports.claim`.  The list is the single source for both
``pytest`` (tests/test_claims.py, tests/test_planted.py) and the report
(reports/runner.py), so a claim is never checked in two different ways.
"""
from __future__ import annotations

from functools import lru_cache

from .apx import claims as claims_apx
from .con import claims as claims_con
from .cpx import claims as claims_cpx
from .dyn import claims as claims_dyn
from .exp import claims as claims_exp
from .fy import claims as claims_fy
from .r2 import claims as claims_r2
from .claim import Claim


@lru_cache(maxsize=1)
def _claims() -> tuple[Claim, ...]:
    rows = [*claims_fy.claims(), *claims_con.claims(), *claims_dyn.claims(), *claims_apx.claims(),
            *claims_cpx.claims(), *claims_exp.claims()]
    for r in claims_r2.claims():   # each rankmax R2 row right after the last row of its claim
        at = max(i for i, c in enumerate(rows) if c.id == r.id)
        rows.insert(at + 1, r)
    return tuple(rows)


def all_claims() -> list[Claim]:
    """Every registered claim × reading, in report order."""
    return list(_claims())


@lru_cache(maxsize=1)
def _by_key() -> dict[str, Claim]:
    out: dict[str, Claim] = {}
    for c in _claims():
        if c.key in out:
            raise ValueError(f"two registry rows share the key {c.key}")
        out[c.key] = c
    return out


def by_key(key: str) -> Claim:
    """The registry row ``ID[reading]``."""
    try:
        return _by_key()[key]
    except KeyError:
        raise ValueError(f"no registry row has the key {key!r}") from None


def select(claims: list[Claim], only: list[str] | None) -> list[Claim]:
    """Filter by claim id (``FY-3``), id prefix (``FY``) or ``ID[reading]``."""
    if not only:
        return claims
    keep = [c for c in claims if any(o in (c.id, c.key) or c.id.startswith(o.rstrip("-") + "-") for o in only)]
    if not keep:
        raise ValueError(f"--only matched no claim: {only}; known ids: {sorted({c.id for c in claims})}")
    return keep
