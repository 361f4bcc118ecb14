"""Every check of the registry can fail: each declares at least one planted defect (a
wrong input of the same shape as the real one), and on every one of them the check must
not hold (reports/claim.py, ARCHITECTURE.md "Conventions").  One generic test over the
registry, in the manner of PyTorch's OpInfo."""
import pytest

from reports.registry import all_claims
from reports.runner import run_planted


def _cases():
    for claim in all_claims():
        for check in claim.checks:
            marks = [pytest.mark.heavy] if (check.heavy or claim.heavy) else []
            yield pytest.param(claim, check, id=f"{claim.key}/{check.name}", marks=marks)


def test_every_check_declares_a_planted_defect():
    missing = [f"{c.key}/{ch.name}" for c in all_claims() for ch in c.checks if not ch.planted]
    assert not missing, f"{len(missing)} checks without a planted defect: {missing}"


@pytest.mark.parametrize("claim,check", list(_cases()))
def test_planted_defect_turns_the_check(claim, check, ctx):
    if not check.planted:
        pytest.fail(f"{claim.key}/{check.name} declares no planted defect")
    results = run_planted(claim, check, ctx, raise_errors=True)
    held = [r.defect for r in results if not r.turned]
    assert not held, f"{claim.key}/{check.name} still holds on its planted defect(s): {held}"
