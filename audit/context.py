"""The context a check runs in: profile (budgets), seed, device."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

import torch

from .falsealarm import FAMILY


@dataclass(frozen=True)
class RunContext:
    """What a check may depend on: the profile (budgets), the seed, the device.

    Checks must be deterministic functions of this context."""

    profile: Literal["quick", "full"] = "quick"
    seed: int = 0
    device: str = "cpu"
    extra: Mapping[str, Any] = field(default_factory=dict)
    # family-wise false-alarm level of a statistical check: the runner passes each check its
    # share of the suite's budget (audit/falsealarm.py); a check called on its own gets all of it
    alpha: float = FAMILY

    def budget(self, quick: int, full: int) -> int:
        """Example/sample budget for the current profile."""
        return quick if self.profile == "quick" else full

    def generator(self, salt: int = 0) -> torch.Generator:
        """A torch generator seeded from the run seed and a per-check salt, so checks
        do not share (and perturb) one random stream."""
        g = torch.Generator(device="cpu")
        g.manual_seed(self.seed * 1_000_003 + salt)
        return g
