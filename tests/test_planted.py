"""Every check of the registry is shown able to give both answers (reports/claim.py,
ARCHITECTURE.md "Conventions"; issue 20):

* a check that can hold (pinned ``holds`` in some profile) declares planted defects --
  realistic bugs entering where a bug would -- and on every one of them it must not hold
  (fails with a counterexample that re-checks, undecided, or the crash the real run makes);
  a numeric or empirical one names one of them its resolution (its near miss);
* a check that can fail or stay undecided (pinned so in some profile) declares planted
  truths -- the same check on an input where the claim is known to hold -- and on every
  one of them it must hold;
* a symbolic check with a scope gap states its scope as a predicate (``covers``).

Generic tests over the registry, in the manner of PyTorch's OpInfo."""
import pytest

from reports.registry import all_claims
from reports.runner import run_planted


def _can(claim, check) -> tuple[bool, bool]:
    """(can hold, can fail or stay undecided) by its pinned outcomes in the two profiles."""
    pins = {claim.pinned(p)[check.name] for p in ("quick", "full")}
    return "holds" in pins, bool(pins - {"holds"})


def _cases(which: str):
    for claim in all_claims():
        for check in claim.checks:
            can_hold, can_fail = _can(claim, check)
            if (which == "defects" and can_hold) or (which == "truths" and can_fail):
                marks = [pytest.mark.heavy] if (check.heavy or claim.heavy) else []
                yield pytest.param(claim, check, id=f"{claim.key}/{check.name}", marks=marks)


def test_every_check_declares_both_demonstrations_it_needs():
    problems = []
    for claim in all_claims():
        for check in claim.checks:
            where = f"{claim.key}/{check.name}"
            can_hold, can_fail = _can(claim, check)
            if can_hold and not check.planted:
                problems.append(f"{where}: can hold but declares no planted defect")
            if can_fail and not check.truths:
                problems.append(f"{where}: can fail or stay undecided but declares no planted truth")
            near = [p for p in check.planted if p.resolution]
            if can_hold and check.kind != "symbolic" and len(near) != 1:
                problems.append(f"{where}: a {check.kind} check names exactly one planted defect its resolution "
                                f"(found {len(near)})")
            if check.kind == "symbolic" and check.scope_gap and check.covers is None:
                problems.append(f"{where}: a scope gap in words only (declare covers=, the scope as a predicate)")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("claim,check", list(_cases("defects")))
def test_planted_defect_turns_the_check(claim, check, ctx):
    results = run_planted(claim, check, ctx, raise_errors=True, which="defects")
    held = [f"{r.defect} ({r.outcome}: {r.detail[:120]})" for r in results if not r.turned]
    assert results and not held, f"{claim.key}/{check.name} still holds on its planted defect(s): {held}"


@pytest.mark.parametrize("claim,check", list(_cases("truths")))
def test_planted_truth_makes_the_check_hold(claim, check, ctx):
    results = run_planted(claim, check, ctx, raise_errors=True, which="truths")
    missed = [f"{r.defect} ({r.outcome}: {r.detail[:120]})" for r in results if not r.held]
    assert results and not missed, f"{claim.key}/{check.name} does not hold on its planted truth(s): {missed}"
