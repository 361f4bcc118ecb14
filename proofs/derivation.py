"""Structured result of a symbolic derivation (never a bare bool)."""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from audit import Evidence, Outcome, SuiteDefect


@dataclass
class Derivation:
    """A statement, its assumptions and scope, the LaTeX steps, and the decision.
    Every text is marked text (audit/markup.py): prose with inline ``$…$`` mathematics.

    ``scope`` says how general the derivation is ("symbolic in n and α",
    "n = 2, 3, 4 with symbolic θ", "α ∈ {5/4, 3/2, 7/4}"), because CLAIMS.md asks
    each derivation to say which."""

    statement: str
    scope: str
    assumptions: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    decision: Outcome = "undecided"
    counterexample: dict | None = None
    # the part of the claim's domain the scope does not cover, in words ("two-point and
    # uniform supports only"); non-empty makes the row supported rather than verified
    gap: str = ""
    # one line, marked text: what the derivation establishes (the appendix's front table);
    # empty: the statement, when it is short enough
    summary: str = ""

    def step(self, text: str, expr: object | None = None) -> None:
        """Record a step: marked-text words (audit/markup.py), optionally followed by a sympy
        expression (or a ready LaTeX string), rendered as display math in the appendix."""
        if expr is None:
            self.steps.append(text)
        else:
            latex = expr if isinstance(expr, str) else sp.latex(expr)
            self.steps.append(f"{text} $\\displaystyle {latex}$")

    def decide(self, ok: bool | None) -> "Derivation":
        """``True`` → holds, ``False`` → fails, ``None`` (sympy could not decide) → undecided."""
        self.decision = "undecided" if ok is None else ("holds" if ok else "fails")
        return self

    def evidence(self, check: str) -> Evidence:
        return Evidence(
            kind="symbolic",
            check=check,
            outcome=self.decision,
            detail=f"{self.statement} (scope: {self.scope})",
            summary=self.summary or self.statement,
            counterexample=self.counterexample,
            steps=tuple(self.steps),
            assumptions=tuple(self.assumptions),
            scope_gap=self.gap,
        )


def is_zero(expr: sp.Expr) -> bool | None:
    """Decide ``expr == 0``: True/False when sympy can, None when it cannot."""
    simplified = sp.simplify(expr)
    if simplified == 0:
        return True
    z = simplified.is_zero
    return z if z is not None else None


def agree(what: str, generic: bool | None, per_pattern: bool | None) -> None:
    """The symbolic-size route and the per-pattern route decide the same identities: if the
    first holds for every block size and the second refutes it on a concrete pattern, one of
    our two derivations is wrong -- a defect of the suite, not a finding."""
    if generic is True and per_pattern is False:
        raise SuiteDefect(f"{what}: the identities hold for symbolic block sizes but fail on a concrete KKT pattern")
