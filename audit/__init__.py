"""The vocabulary every check speaks, below ``proofs/`` and ``numerics/``: the evidence a
check returns, the context it runs in, and the suite's false-alarm budget."""
from .context import RunContext
from .evidence import KINDS, OUTCOMES, REGISTRABLE, VERDICTS, Evidence, Kind, Outcome, SuiteDefect

__all__ = ["RunContext", "Evidence", "Kind", "Outcome", "SuiteDefect", "KINDS", "OUTCOMES", "VERDICTS", "REGISTRABLE"]
