"""Every registered claim × reading is a test (ARCHITECTURE.md, "Conventions").

The test asserts that the reading holds (verified or supported, as registered).
A reading the suite refutes runs as ``xfail(strict=True, raises=ClaimRefuted)``: it
must keep failing, and only by a re-found counterexample; if it starts to hold the
run turns red.  Inconclusive readings run as ``xfail(strict=False, raises=ClaimInconclusive)``.
"""
import json

import pytest

from reports.registry import all_claims
from reports.runner import run_claim


class ClaimRefuted(AssertionError):
    pass


class ClaimInconclusive(AssertionError):
    pass


def _param(claim, profile):
    marks = [pytest.mark.heavy] if claim.heavy else []
    expected, note = claim.expectation(profile)
    if expected == "refuted":
        marks.append(pytest.mark.xfail(strict=True, raises=ClaimRefuted, reason=f"refuted: {note}"))
    elif expected == "inconclusive":
        marks.append(pytest.mark.xfail(strict=False, raises=ClaimInconclusive, reason=f"inconclusive: {note}"))
    return pytest.param(claim, id=claim.key, marks=marks)


def pytest_generate_tests(metafunc):
    # the registered verdict may depend on the profile (Claim.expected_full), so the marks are
    # made here, where the --profile option is known
    if "claim" in metafunc.fixturenames:
        profile = metafunc.config.getoption("--profile")
        metafunc.parametrize("claim", [_param(c, profile) for c in all_claims()])


def test_claim(claim, ctx):
    row, _ = run_claim(claim, ctx, raise_errors=True)
    found = row["verdict"]
    bad = [e for e in row["evidence"] if e["outcome"] != "holds"]
    if found == "refuted":
        cx = [e.get("counterexample") for e in bad if e.get("counterexample") is not None]
        raise ClaimRefuted(f"{claim.key} refuted; counterexample(s): {json.dumps(cx)[:400]}")
    if found == "inconclusive":
        raise ClaimInconclusive(f"{claim.key} inconclusive: {[(e['check'], e.get('detail', '')[:200]) for e in bad]}")
    expected, _ = claim.expectation(ctx.profile)
    assert found == expected, f"{claim.key}: verdict {found}, registered {expected}"


def test_registry_keys_are_unique_and_every_claim_has_checks():
    claims = all_claims()
    keys = [c.key for c in claims]
    assert len(keys) == len(set(keys))
    for c in claims:
        assert c.checks, c.key
        for profile in ("quick", "full"):
            expected, note = c.expectation(profile)
            assert expected in ("verified", "supported", "refuted", "inconclusive")
            assert expected in ("verified", "supported") or note, f"{c.key}: a non-passing expectation needs a note"
