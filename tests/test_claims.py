"""Every registered claim × reading is a test (ARCHITECTURE.md, "Conventions").

The test asserts the registered verdict in both directions: a verified/supported reading
must come out as registered; a refuted reading runs as ``xfail(strict=True,
raises=ClaimRefuted)`` and an inconclusive one as ``xfail(strict=True,
raises=ClaimInconclusive)``, so a row whose verdict changes either way turns the run red
until it is re-registered.  Before a row may xfail, the outcome of each of its checks must
match the one pinned in the registry (Claim.pinned): a refuted row whose other checks
change raises a plain AssertionError, which the xfail does not accept.
"""
import json

import pytest

from audit import OUTCOMES, REGISTRABLE, markup
from reports.claim import PASSING
from reports.registry import all_claims
from reports.runner import run_claim

from exec_helpers import prepare_on_every_core


class ClaimRefuted(AssertionError):
    pass


class ClaimInconclusive(AssertionError):
    pass


def _param(claim, profile):
    marks = [pytest.mark.heavy] if claim.heavy else []
    if claim.shares:  # rows that read one in-process cache run on one pytest-xdist worker (--dist loadgroup)
        marks.append(pytest.mark.xdist_group(claim.shares))
    expected, note = claim.expectation(profile)
    if expected == "refuted":
        marks.append(pytest.mark.xfail(strict=True, raises=ClaimRefuted, reason=f"refuted: {note}"))
    elif expected == "inconclusive":
        marks.append(pytest.mark.xfail(strict=True, raises=ClaimInconclusive, reason=f"inconclusive: {note}"))
    return pytest.param(claim, id=claim.key, marks=marks)


def pytest_generate_tests(metafunc):
    # the registered verdict may depend on the profile (Claim.expected_full), so the marks are
    # made here, where the --profile option is known
    if "claim" in metafunc.fixturenames:
        profile = metafunc.config.getoption("--profile")
        metafunc.parametrize("claim", [_param(c, profile) for c in all_claims()])


def test_claim(claim, ctx):
    prepare_on_every_core(claim, ctx)
    row, _ = run_claim(claim, ctx, raise_errors=True)
    found = row["verdict"]
    outcomes = {e["check"]: e["outcome"] for e in row["evidence"]}
    pinned = claim.pinned(ctx.profile)
    assert outcomes == pinned, f"{claim.key}: check outcomes {outcomes}, pinned {pinned}"
    long = [e["summary"] for e in row["evidence"] if markup.visible_length(e.get("summary", "")) > markup.SUMMARY_CHARS]
    assert not long, f"{claim.key}: summaries longer than one line of the appendix's front table: {long}"
    bad = [e for e in row["evidence"] if e["outcome"] != "holds"]
    if found == "refuted":
        cx = [e.get("counterexample") for e in bad if e.get("counterexample") is not None]
        raise ClaimRefuted(f"{claim.key} refuted; counterexample(s): {json.dumps(cx)[:400]}")
    if found == "inconclusive":
        raise ClaimInconclusive(f"{claim.key} inconclusive: {[(e['check'], e.get('detail', '')[:200]) for e in bad]}")
    expected, _ = claim.expectation(ctx.profile)
    assert found == expected, f"{claim.key}: verdict {found}, registered {expected}"


def test_registry_keys_are_unique_and_every_claim_is_registered_consistently():
    claims = all_claims()
    keys = [c.key for c in claims]
    assert len(keys) == len(set(keys))
    for c in claims:
        assert c.checks, c.key
        names = [ch.name for ch in c.checks]
        assert len(names) == len(set(names)), f"{c.key}: check names must be unique within a row"
        for profile in ("quick", "full"):
            expected, note = c.expectation(profile)
            assert expected in REGISTRABLE
            assert expected in PASSING or note, f"{c.key}: a non-passing expectation needs a note"
            pins = c.pinned(profile)
            assert set(pins.values()) <= set(OUTCOMES)
            if expected in PASSING:
                assert set(pins.values()) == {"holds"}, f"{c.key}: a passing row pins every check to holds"
            elif expected == "refuted":
                assert "fails" in pins.values(), f"{c.key}: a refuted row pins at least one check to fails"
            else:
                assert "undecided" in pins.values() and "fails" not in pins.values(), c.key
            if expected == "verified":
                kinds = {ch.kind for ch in c.checks}
                assert "symbolic" in kinds and kinds & {"numeric", "empirical"}, \
                    f"{c.key}: verified needs a symbolic and an independent numeric route"


def test_every_statistical_check_has_a_share_of_one_false_alarm_budget():
    from audit.falsealarm import FAMILY, POOLED, POOLS, SHARES, total

    stat = {(c.id, c.reading, ch.name) for c in all_claims() for ch in c.checks if ch.statistical}
    assert stat == set(SHARES), f"statistical checks without a share: {stat - set(SHARES)}; " \
                                f"shares of no statistical check: {set(SHARES) - stat}"
    assert total() <= FAMILY * (1 + 1e-12) and min(SHARES.values()) > 0
    # a pooled row draws on its pool, which counts once: the rows must hold the pool's value
    assert all(SHARES[k] == POOLS[p] for k, p in POOLED.items()) and set(POOLED) <= set(SHARES)


@pytest.mark.parametrize("prefix", ["FY", "CON", "DYN", "APX", "CPX", "EXP"])
def test_registry_text_is_marked_text(prefix):
    """Statements, domains, scopes and planted defects follow the marked-text rule (audit/markup.py):
    mathematics between dollars, so the appendix typesets it instead of escaping it.  (A
    check's own text is held to the rule by the runner, on every run.)"""
    from audit import markup

    bad = []
    for c in all_claims():
        if not c.id.startswith(prefix):
            continue
        texts = [("statement", c.statement), ("domain", c.domain), ("scope", c.scope)]
        texts += [(f"{ch.name} planted", p.defect) for ch in c.checks for p in ch.planted]
        bad += [f"{c.key} {where}: {p}" for where, t in texts for p in markup.problems(t)]
    assert not bad, "\n".join(bad[:40])
