"""Claims and their checks: the entries of the registry (modelled on PyTorch's OpInfo).

A :class:`Claim` is one claim × reading: its statement, its domain, its checks, and the
verdict the suite registers for it (per profile where the two differ).  A :class:`Check`
is one route to a decision (symbolic, numeric or empirical) and declares, next to it:

* ``planted`` -- at least one :class:`Planted` defect: the same check run on a
  deliberately wrong input of the same shape as the real one (a reversed prediction map,
  a conjugate off by a constant, an estimator without its correction, a minimizer that
  splits a tie, …).  On it the check must not hold.  tests/test_planted.py runs every
  one, and every report runs them too and counts the checks shown able to fail
  (``meta.checks_shown_to_fail``).
* ``expect`` -- the outcome the check is pinned to.  Rows registered ``verified`` or
  ``supported`` pin every check to ``holds``; a ``refuted`` or ``inconclusive`` row pins
  each of its checks (single-check rows by their verdict), so a refuted row whose other
  checks change turns pytest red.
* ``statistical`` -- its decision rests on random draws: the runner hands it its share of
  the suite's false-alarm budget as ``ctx.alpha`` (audit/falsealarm.py).
* ``scope_gap`` -- for a symbolic check whose derivation covers only part of the claim's
  domain: the missing part, in words.  The row is then ``supported``, not ``verified``.

The verdict of a row follows from its evidence (CLAIMS.md, "Verdicts"):

* ``refuted``      some evidence ``fails`` (the runner has re-checked its counterexample
  with reports/recheck.py; a ``fails`` without one, or one that does not re-check, is a
  crash of the suite, never a verdict);
* ``inconclusive`` otherwise some evidence is ``undecided``;
* ``verified``     every evidence holds, there is symbolic AND numeric (or empirical)
  evidence, and no symbolic evidence names a scope gap;
* ``supported``    every evidence holds otherwise (a route missing, or a partial scope).
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping

from audit import Evidence, Kind, Outcome, RunContext

PASSING = ("verified", "supported")


@dataclass(frozen=True)
class Planted:
    """A deliberately wrong input of the same shape as the real one.

    Either ``run`` -- the check's own routine called on the wrong input (a wrong candidate
    for a derivation, a biased sampler, planted experiment outcomes) -- or ``patch`` -- a
    context manager that installs the wrong input (a loss with a perturbed prediction map)
    around the check's own ``run``."""

    defect: str
    run: Callable[[RunContext], Evidence] | None = None
    patch: Callable[[], AbstractContextManager] | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.patch is None):
            raise ValueError(f"planted defect {self.defect!r}: give exactly one of run= or patch=")


@dataclass(frozen=True)
class Check:
    name: str
    kind: Kind
    run: Callable[[RunContext], Evidence]
    planted: tuple[Planted, ...] = ()
    expect: Outcome | None = None
    expect_full: Outcome | None = None
    statistical: bool = False
    scope_gap: str = ""
    heavy: bool = False

    def run_planted(self, planted: Planted, ctx: RunContext) -> Evidence:
        if planted.run is not None:
            return planted.run(ctx)
        with planted.patch():  # type: ignore[misc]
            return self.run(ctx)


@dataclass(frozen=True)
class Claim:
    id: str
    reading: str
    statement: str
    checks: tuple[Check, ...]
    expected: str = "verified"
    note: str = ""  # why, when expected is not a pass (or a pass with a named gap)
    heavy: bool = False
    # where the full profile measures something else (the EXP rows run on synthetic data in
    # the quick profile and on MovieLens-100K in the full one): its verdict and note
    expected_full: str | None = None
    note_full: str = ""
    domain: str = ""  # what the statement quantifies over, when the statement does not say it
    # execution (reports/execution.py): rows with the same ``shares`` run as one task, since
    # they read one in-process cache (the trained experiment); ``on_device`` rows compute on
    # ctx.device, so a CUDA run gives their task a GPU
    shares: str = ""
    on_device: bool = False
    # work the group's rows read, run first as tasks of their own so that it spreads over the
    # workers (the experiment's training runs): ``prepare(ctx)`` lists (key, fn, args);
    # ``prime(ctx, {key: result})`` hands the results to the rows' cache where they run
    prepare: Callable[[RunContext], list] | None = None
    prime: Callable[[RunContext, dict], None] | None = None

    def expectation(self, profile: str) -> tuple[str, str]:
        """(registered verdict, note) for a profile."""
        if profile == "full" and self.expected_full is not None:
            return self.expected_full, self.note_full
        return self.expected, self.note

    def pinned(self, profile: str) -> dict[str, Outcome]:
        """The registered outcome of each check (by name) for a profile."""
        verdict_, _ = self.expectation(profile)
        out: dict[str, Outcome] = {}
        for c in self.checks:
            e = c.expect_full if profile == "full" and c.expect_full is not None else c.expect
            if e is None:
                if verdict_ in PASSING:
                    e = "holds"
                elif len(self.checks) == 1:
                    e = "fails" if verdict_ == "refuted" else "undecided"
                else:
                    raise ValueError(f"{self.key}: a {verdict_} row with several checks pins each check's "
                                     f"outcome (Check.expect)")
            out[c.name] = e
        return out

    @property
    def key(self) -> str:
        return f"{self.id}[{self.reading}]"


def verdict(evidence: Iterable[Evidence]) -> str:
    evidence = list(evidence)
    if not evidence:
        return "inconclusive"
    if any(e.outcome == "fails" for e in evidence):
        return "refuted"
    if any(e.outcome != "holds" for e in evidence):
        return "inconclusive"
    kinds = {e.kind for e in evidence}
    gaps = [e.scope_gap for e in evidence if e.kind == "symbolic" and e.scope_gap]
    if "symbolic" in kinds and kinds & {"numeric", "empirical"} and not gaps:
        return "verified"
    return "supported"


def share_derivations(claims: Iterable[Claim]) -> list[Claim]:
    """Rows about one loss read that loss's symbolic derivations (FY-1/FY-2's Ω*, ŷ and
    Hessians, lru-cached in proofs/): they run as one task per loss, so that a worker
    derives them once (``Claim.shares``)."""
    return [replace(c, shares=f"derivations:{re.split(r'[/[]', c.reading)[0]}") for c in claims]


# -- constructors used by the claims_* modules -------------------------------------------
_CHECK_OPTIONS = ("planted", "expect", "expect_full", "statistical", "scope_gap", "heavy")


def _split(kw: dict) -> tuple[dict, dict]:
    """(Check options, arguments of the check's function)."""
    opts = {k: kw.pop(k) for k in _CHECK_OPTIONS if k in kw}
    if "planted" in opts:
        opts["planted"] = tuple(opts["planted"])
    return opts, kw


def symbolic(name: str, derive: Callable[..., object], *args, **kw) -> Check:
    """A symbolic check: a proofs/ derivation turned into evidence (``ctx`` unused:
    derivations do not depend on seeds or budgets).  Keywords named in
    ``_CHECK_OPTIONS`` are the Check's; the rest go to ``derive``."""
    opts, kw = _split(kw)
    return Check(name, "symbolic", lambda ctx: derive(*args, **kw).evidence(name), **opts)


def numeric(name: str, fn: Callable[..., Evidence], *args, **kw) -> Check:
    """A numeric check ``fn(*args, ctx, **kw)`` (Check options as for :func:`symbolic`)."""
    opts, kw = _split(kw)
    return Check(name, "numeric", lambda ctx: fn(*args, ctx, **kw), **opts)


def empirical(name: str, fn: Callable[..., Evidence], *args, **kw) -> Check:
    """An empirical check ``fn(*args, ctx, **kw)`` (Check options as for :func:`symbolic`)."""
    opts, kw = _split(kw)
    return Check(name, "empirical", lambda ctx: fn(*args, ctx, **kw), **opts)


def wrong_derivation(defect: str, derive: Callable[..., object], *args, **kw) -> Planted:
    """A planted defect for a symbolic check: the derivation run on a wrong input."""
    return Planted(defect, run=lambda ctx: derive(*args, **kw).evidence("planted"))


def wrong_input(defect: str, fn: Callable[..., Evidence], *args, **kw) -> Planted:
    """A planted defect for a numeric check: ``fn(*args, ctx, **kw)`` on a wrong input."""
    return Planted(defect, run=lambda ctx: fn(*args, ctx, **kw))


def patched(defect: str, patch: Callable[[], AbstractContextManager]) -> Planted:
    """A planted defect installed around the check's own run (e.g. a loss whose prediction
    map is perturbed)."""
    return Planted(defect, patch=patch)


__all__ = ["Claim", "Check", "Planted", "verdict", "share_derivations", "symbolic", "numeric", "empirical", "wrong_derivation", "wrong_input",
           "patched", "PASSING"]
