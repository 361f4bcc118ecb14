"""The claims registry: one entry per claim × reading, binding statement and checks.

This module is the single source for both ``pytest`` (tests/test_claims.py
parametrizes over :data:`CLAIMS`) and the report (reports/runner.py), so a claim is
never checked in two different ways.

``expected`` records the verdict the suite currently finds.  pytest turns red the
moment a verdict changes in either direction: a ``refuted`` reading runs as
``xfail(strict=True)``, an ``inconclusive`` one as ``xfail(strict=False)``
(ARCHITECTURE.md, "Conventions").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .evidence import Evidence, RunContext


@dataclass(frozen=True)
class Check:
    name: str
    kind: str  # symbolic | numeric | empirical
    run: Callable[[RunContext], Evidence]
    heavy: bool = False


@dataclass(frozen=True)
class Claim:
    id: str
    reading: str
    statement: str
    checks: tuple[Check, ...]
    expected: str = "verified"
    note: str = ""  # why, when expected is refuted or inconclusive
    heavy: bool = False
    # where the full profile measures something else (the EXP rows run on synthetic data in
    # the quick profile and on MovieLens-100K in the full one): its verdict and note
    expected_full: str | None = None
    note_full: str = ""

    def expectation(self, profile: str) -> tuple[str, str]:
        """(registered verdict, note) for a profile."""
        if profile == "full" and self.expected_full is not None:
            return self.expected_full, self.note_full
        return self.expected, self.note

    @property
    def key(self) -> str:
        return f"{self.id}[{self.reading}]"


def symbolic(name: str, derive: Callable[..., object], *args) -> Check:
    """A symbolic check: a proofs/ derivation turned into evidence (``ctx`` unused:
    derivations do not depend on seeds or budgets)."""
    return Check(name, "symbolic", lambda ctx: derive(*args).evidence(name))


def numeric(name: str, fn: Callable[..., Evidence], *args, heavy: bool = False, **kw) -> Check:
    return Check(name, "numeric", lambda ctx: fn(*args, ctx, **kw), heavy=heavy)


def all_claims() -> list[Claim]:
    """Every registered claim × reading, in report order (one module per claim group)."""
    from . import claims_apx, claims_con, claims_cpx, claims_dyn, claims_exp, claims_fy

    return [*claims_fy.claims(), *claims_con.claims(), *claims_dyn.claims(), *claims_apx.claims(),
            *claims_cpx.claims(), *claims_exp.claims()]


def select(claims: list[Claim], only: list[str] | None) -> list[Claim]:
    """Filter by claim id (``FY-3``), id prefix (``FY``) or ``ID[reading]``."""
    if not only:
        return claims
    keep = [c for c in claims if any(o in (c.id, c.key) or c.id.startswith(o.rstrip("-") + "-") for o in only)]
    if not keep:
        raise ValueError(f"--only matched no claim: {only}; known ids: {sorted({c.id for c in claims})}")
    return keep
