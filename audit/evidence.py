"""What every check produces: one :class:`Evidence` per check of a claim × reading.

A check decides ``holds``, ``fails`` or ``undecided`` (solver not optimal, interval
straddles, budget spent).  ``fails`` is a finding about the paper and must carry a
counterexample that ``softmax-audit recheck`` re-checks from the stored data alone; a
disagreement between two of the suite's own routes is not a finding but a defect of the
suite, raised as :class:`SuiteDefect` (the runner turns it into a crash, never into
``refuted``).  How a row's verdict follows from its evidence lives with the claims
(``reports/claim.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import torch

Kind = Literal["symbolic", "numeric", "empirical"]
Outcome = Literal["holds", "fails", "undecided"]
KINDS = ("symbolic", "numeric", "empirical")
OUTCOMES = ("holds", "fails", "undecided")
VERDICTS = ("verified", "supported", "refuted", "inconclusive", "crashed")
#: verdicts a registry row may be registered with ("crashed" is a defect of the suite, never registered)
REGISTRABLE = VERDICTS[:4]
#: figure keys that carry plot data (reports/plots.py draws them; ``plot_time`` is wall-clock)
PLOT_KEYS = ("plot", "plot_time")


class SuiteDefect(RuntimeError):
    """Two of the suite's own routes disagree (closed form vs finite differences, a loss
    attribute vs its derivation, autograd vs the defined backward, a heuristic without
    data): a bug of ours, reported as a crash, never as a finding about the paper."""


def as_stored(x: Any) -> Any:
    """A value as results.json stores it (public: a check that stores a record must build it
    from these values, so that the outside re-checker sees what it saw): JSON-ready, tuples →
    lists, tensors/numpy → Python floats, rounded so the last bits of float noise do not break
    byte-identical reports."""
    if isinstance(x, Mapping):
        return {str(k): as_stored(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [as_stored(v) for v in x]
    if isinstance(x, torch.Tensor):
        return as_stored(x.tolist())
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes)):  # numpy scalars/arrays
        return as_stored(x.tolist())
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
    # symbolic evidence whose scope does not cover the claim's domain names the missing part
    # here ("two-point and uniform supports only"); the row then reads supported, not verified
    scope_gap: str = ""
    # marked text (audit/markup.py): one line saying what was compared and what came out, with
    # its key numbers (the appendix's front table and claim pages print it; ``detail`` is the
    # full account, printed in evidence.pdf)
    summary: str = ""
    # marked text: a label for every figure key (unit included, "epoch time (s)"), declared
    # where the check produces the figure; keys of dict-valued figures may be labelled too
    labels: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "check": self.check, "outcome": self.outcome}
        if self.summary:
            out["summary"] = self.summary
        if self.detail:
            out["detail"] = self.detail
        if self.figures:
            out["figures"] = as_stored(self.figures)
        if self.labels:
            out["labels"] = {str(k): str(v) for k, v in self.labels.items()}
        if self.counterexample is not None:
            out["counterexample"] = as_stored(self.counterexample)
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        if self.steps:
            out["steps"] = list(self.steps)
        if self.scope_gap:
            out["scope_gap"] = self.scope_gap
        return out


