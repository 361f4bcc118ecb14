"""The data every check produces, and the context it runs in.

An :class:`Evidence` is one check's finding about one claim × reading; the verdict of
the row is derived from its evidence by :func:`verdict` (CLAIMS.md, "Verdicts"):

* ``refuted``      some evidence ``fails`` and carries a counterexample;
* ``inconclusive`` otherwise, some evidence is ``undecided`` (solver not optimal,
  interval straddles, budget spent) -- never counted as a pass;
* ``verified``     every evidence holds, and there is symbolic AND numeric evidence;
* ``supported``    every evidence holds, but one of the two routes is missing.

A ``fails`` without a counterexample is a defect of the check (it must say why),
so it reads ``inconclusive`` rather than ``refuted``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

import torch

Kind = Literal["symbolic", "numeric", "empirical"]
Outcome = Literal["holds", "fails", "undecided"]
KINDS = ("symbolic", "numeric", "empirical")
OUTCOMES = ("holds", "fails", "undecided")
VERDICTS = ("verified", "supported", "refuted", "inconclusive")


def _clean(x: Any) -> Any:
    """JSON-ready copy: tuples → lists, tensors/numpy → Python floats, rounded so
    the last bits of float noise do not break byte-identical reports."""
    if isinstance(x, Mapping):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, torch.Tensor):
        return _clean(x.tolist())
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes)):  # numpy scalars/arrays
        return _clean(x.tolist())
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return str(x)
        return float(f"{x:.12g}")
    return str(x)


@dataclass(frozen=True)
class Evidence:
    """One check's result.  ``steps`` (LaTeX lines) and ``assumptions`` are filled by
    symbolic derivations and printed in the appendix."""

    kind: Kind
    check: str
    outcome: Outcome
    detail: str = ""
    figures: Mapping[str, Any] | None = None
    counterexample: Mapping[str, Any] | None = None
    steps: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "check": self.check, "outcome": self.outcome}
        if self.detail:
            out["detail"] = self.detail
        if self.figures:
            out["figures"] = _clean(self.figures)
        if self.counterexample is not None:
            out["counterexample"] = _clean(self.counterexample)
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        if self.steps:
            out["steps"] = list(self.steps)
        return out


def verdict(evidence: list[Evidence]) -> str:
    if not evidence:
        return "inconclusive"
    if any(e.outcome == "fails" and e.counterexample is not None for e in evidence):
        return "refuted"
    if any(e.outcome != "holds" for e in evidence):
        return "inconclusive"
    kinds = {e.kind for e in evidence}
    if "symbolic" in kinds and kinds & {"numeric", "empirical"}:
        return "verified"
    return "supported"


@dataclass(frozen=True)
class RunContext:
    """What a check may depend on: the profile (budgets), the seed, the device.

    Checks must be deterministic functions of this context."""

    profile: Literal["quick", "full"] = "quick"
    seed: int = 0
    device: str = "cpu"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def budget(self, quick: int, full: int) -> int:
        """Example/sample budget for the current profile."""
        return quick if self.profile == "quick" else full

    def generator(self, salt: int = 0) -> torch.Generator:
        """A torch generator seeded from the run seed and a per-check salt, so checks
        do not share (and perturb) one random stream."""
        g = torch.Generator(device="cpu")
        g.manual_seed(self.seed * 1_000_003 + salt)
        return g
