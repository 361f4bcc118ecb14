"""Claims and their checks: the entries of the registry (modelled on PyTorch's OpInfo).

A :class:`Claim` is one claim × reading: its statement, its domain, its checks, and the
verdict the suite registers for it (per profile where the two differ).  A :class:`Check`
is one route to a decision (symbolic, numeric or empirical) and declares, next to it:

* ``planted`` -- the :class:`Planted` defects of a check that can hold: the same check,
  with a realistic bug entering the computation it audits where a bug would enter (the
  map, the label source, the sampler, the estimator, the counter, the step size: a patch
  of the upstream attribute, never a keyword that only planting sets).  On each the check
  must not hold.  One of them, for a numeric or empirical check, is its ``resolution``:
  the smallest defect it is shown to catch (a near miss), printed beside it.
* ``truths`` -- the planted truths of a check that can fail or stay undecided: the same
  check, same code path, on an input where the claim is known to hold (the eigen search
  on α ≤ 2, a label map known consistent, a step size the theorem covers, an experiment
  whose claimed order holds by construction).  On each the check must hold.
  tests/test_planted.py runs both kinds; a report runs the defects of the checks that
  held and the truths of the others, and counts ``meta.checks_shown_to_fail`` and
  ``meta.checks_shown_to_hold`` (together: every check).
* ``covers`` -- for a symbolic check, its scope as a predicate on the counterexamples of
  the row's other checks: ``covers(check_name, counterexample)``.  When the symbolic check
  holds and covers a counterexample another check of the row reports, two of our own
  routes disagree: the row crashes (never ``refuted``).  By default a symbolic check
  without a ``scope_gap`` covers every counterexample of its row, one with a gap none.
* ``expect`` -- the outcome the check is pinned to.  Rows registered ``verified`` or
  ``supported`` pin every check to ``holds``; a ``refuted`` or ``inconclusive`` row pins
  each of its checks (single-check rows by their verdict), so a refuted row whose other
  checks change turns pytest red.
* ``statistical`` -- its decision rests on random draws: the runner hands it its share of
  the suite's false-alarm budget as ``ctx.alpha`` (audit/falsealarm.py).
* ``scope_gap`` -- for a symbolic check whose derivation covers only part of the claim's
  domain: the missing part, in words.  The row is then ``supported``, not ``verified``.

A claim also states its ``scope``: one line, marked text, on the limits of the row's evidence as
a whole (one free score vector; $n = 3$ symbolic, $n = 6$ numeric; one ray; binary relevance with
a fixed $k$; a finite grid; the data set and splits), printed beside the verdict on the front line,
on the claim page and in the evidence record (results.json ``scope``).  It says what the evidence
was drawn from, not what the statement claims: where a symbolic derivation covers less than the
statement, the check declares a ``scope_gap`` as well, and that is what moves the verdict.

The verdict of a row follows from its evidence (CLAIMS.md, "Verdicts"):

* ``crashed``      a check raised, broke a rule of the runner, or two of our routes
  disagree (a defect of the suite; the CLI exits 1) -- whatever the other evidence says;
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
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Mapping

from audit import Evidence, Kind, Outcome, RunContext

PASSING = ("verified", "supported")


@dataclass(frozen=True)
class Planted:
    """A deliberately wrong input of the same shape as the real one.

    Either ``run`` -- the check's own routine called on the wrong input (a wrong candidate
    for a derivation, a biased sampler, planted experiment outcomes) -- or ``patch`` -- a
    context manager that installs the wrong input (a loss with a perturbed prediction map)
    around the check's own ``run``."""

    defect: str  # marked text: what is wrong (a defect), or why the claim holds there (a truth)
    run: Callable[[RunContext], Evidence] | None = None
    patch: Callable[[], AbstractContextManager] | None = None
    truth: bool = False       # a planted truth: the check must hold on it
    resolution: bool = False  # the smallest defect the check is shown to catch (a near miss)

    def __post_init__(self) -> None:
        if (self.run is None) == (self.patch is None):
            raise ValueError(f"planted defect {self.defect!r}: give exactly one of run= or patch=")
        if self.truth and self.resolution:
            raise ValueError(f"planted truth {self.defect!r} cannot be a resolution (a near-miss defect)")


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
    truths: tuple[Planted, ...] = ()
    covers: Callable[[str, Mapping], bool] | None = None

    def __post_init__(self) -> None:
        if any(p.truth for p in self.planted) or not all(p.truth for p in self.truths):
            raise ValueError(f"check {self.name!r}: planted defects go in planted=, planted truths in truths=")

    @property
    def resolution(self) -> Planted | None:
        """The near-miss defect the check declares as its resolution, if any."""
        return next((p for p in self.planted if p.resolution), None)

    def scope_covers(self, check: str, counterexample: Mapping) -> bool:
        """Does this (symbolic, holding) check's derivation cover ``counterexample``, reported
        by the row's check ``check``?  (Module docstring, ``covers``.)"""
        if self.kind != "symbolic":
            return False
        if self.covers is not None:
            return bool(self.covers(check, counterexample))
        return not self.scope_gap

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
    # the limits of the row's evidence in one line of marked text (module docstring): every
    # registered row states one (tests/test_claims.py)
    scope: str = ""
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
    # the constants that define the claim (a margin, a step size, a rate band, a proposal, a
    # normalizer, which re-check a counterexample of each check gets), typed here from the
    # statement: stored in the row beside (not inside) its counterexamples, and read by the
    # re-checkers (reports/rechecks/), so that a constant typo'd in our code cannot re-check
    constants: Mapping[str, Any] = field(default_factory=dict)

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


def verdict(evidence: Iterable[Evidence], crashed: bool = False) -> str:
    evidence = list(evidence)
    if crashed:
        return "crashed"
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


# -- constructors used by the claims modules (reports/<family>/claims.py) ----------------
_CHECK_OPTIONS = ("planted", "expect", "expect_full", "statistical", "scope_gap", "heavy", "truths", "covers")


def _split(kw: dict) -> tuple[dict, dict]:
    """(Check options, arguments of the check's function)."""
    opts = {k: kw.pop(k) for k in _CHECK_OPTIONS if k in kw}
    for key in ("planted", "truths"):
        if key in opts:
            opts[key] = tuple(opts[key])
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


def patched(defect: str, patch: Callable[[], AbstractContextManager], *, resolution: bool = False) -> Planted:
    """A planted defect installed around the check's own run (e.g. a loss whose prediction
    map is perturbed); ``resolution``: it is the check's near miss."""
    return Planted(defect, patch=patch, resolution=resolution)


def patched_truth(why: str, patch: Callable[[], AbstractContextManager]) -> Planted:
    """A planted truth installed around the check's own run: the same check on an input
    where the claim is known to hold (``why`` says why)."""
    return Planted(why, patch=patch, truth=True)


def truth_derivation(why: str, derive: Callable[..., object], *args, **kw) -> Planted:
    """A planted truth for a symbolic check: the derivation on an input where the claim holds."""
    return Planted(why, run=lambda ctx: derive(*args, **kw).evidence("planted"), truth=True)


@contextmanager
def _setattrs(changes: tuple[tuple[object, str, object], ...]) -> Iterator[None]:
    saved = [(obj, name, vars(obj).get(name, _MISSING) if hasattr(obj, "__dict__") else getattr(obj, name))
             for obj, name, _ in changes]
    for obj, name, value in changes:
        if not hasattr(obj, name):
            raise AttributeError(f"cannot plant {name!r}: {obj!r} has no such attribute (renamed?)")
        setattr(obj, name, value)
    try:
        yield
    finally:
        for obj, name, old in reversed(saved):
            if old is _MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, old)


_MISSING = object()


def replacing(*changes: tuple[object, str, object]) -> Callable[[], AbstractContextManager]:
    """A patch factory: each ``(module_or_class, attribute, value)`` set for the duration of
    the run and restored after -- how a bug in that attribute would enter the real code
    path (a typo'd constant, a wrong map, a biased sampler).  The attribute must exist."""
    frozen = tuple(changes)
    return lambda: _setattrs(frozen)


__all__ = ["Claim", "Check", "Planted", "verdict", "share_derivations", "symbolic", "numeric", "empirical",
           "patched", "patched_truth", "truth_derivation", "replacing", "PASSING"]
