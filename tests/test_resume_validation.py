"""Resumed rows (issue 22, items 7 and 8): a row read back from ``OUT/.resume/`` is
validated as a fresh one is (reports/resume.py) and recomputed when it is not valid; the
experiment's rows are keyed by the data and the tuning record they read, and a row computed
while MovieLens-100K was unavailable is never resumed."""
import json
import shutil
from dataclasses import replace

import pytest

from audit import Evidence, RunContext
from reports import report, runner
from reports.claim import Check, Claim
from reports.registry import all_claims, select
from reports.store import RESUME_DIR

# one pytest-xdist worker for the whole module: its module-scoped fixture is computed once
pytestmark = pytest.mark.xdist_group("resume-validation")

# cheap rows: one verified, one refuted with counterexamples (both with planted runs)
ONLY = ["FY-1[softmax]", "CON-2[softmax/L2]"]
CTX = RunContext(seed=0)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished")
    report.write_report(out, CTX, ONLY, pdf=False)
    return out


def _stored(out, key):
    """(path, stored object) of the resume file of ``key``."""
    for f in (out / RESUME_DIR).glob("*.json"):
        obj = json.loads(f.read_text())
        if obj.get("key") == key:
            return f, obj
    raise AssertionError(f"no resume file for {key}")


def _rerun(finished, tmp_path, monkeypatch, edit=None, key=None):
    """Copy the finished run, apply ``edit`` to the stored row of ``key`` as a user with a
    text editor would, and run the same report again: (results, rows run, stderr)."""
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    if edit is not None:
        path, obj = _stored(out, key)
        edit(obj["result"])
        path.write_text(json.dumps(obj))
    calls = []
    real = runner.run_claim
    monkeypatch.setattr(runner, "run_claim", lambda claim, ctx, **kw: (calls.append(claim.key), real(claim, ctx, **kw))[1])
    results, crashed = report.write_report(out, CTX, ONLY, pdf=False)
    assert not crashed
    return out, calls


def _row(results_path, key):
    res = json.loads(results_path.read_text())
    return next(r for r in res["claims"] if f"{r['id']}[{r['reading']}]" == key)


def test_an_untouched_row_resumes(finished, tmp_path, monkeypatch):
    out, calls = _rerun(finished, tmp_path, monkeypatch)
    assert calls == []
    assert (out / "results.json").read_bytes() == (finished / "results.json").read_bytes()


def test_a_resumed_row_keeps_its_scope(finished, tmp_path, monkeypatch):
    """The scope a resumed row publishes is the registry's (issue 24 item 2), as a fresh row's is."""
    out, calls = _rerun(finished, tmp_path, monkeypatch)
    assert calls == []
    for key in ONLY:
        assert _row(out / "results.json", key)["scope"] == select(all_claims(), [key])[0].scope != ""


def _fy1_refuted(row):
    """FY-1[softmax] flipped to refuted, its numeric check to fails, with no counterexample."""
    row["verdict"] = "refuted"
    row["evidence"][1]["outcome"] = "fails"


def _con2_verified(row):
    """CON-2[softmax/L2] flipped to verified, consistently: every outcome holds, no
    counterexample, no planted truths (a holding check shows its planted defects: none)."""
    row["verdict"] = "verified"
    for ev in row["evidence"]:
        ev["outcome"] = "holds"
        ev.pop("counterexample", None)
        ev["planted"] = []


@pytest.mark.parametrize("key,edit", [("FY-1[softmax]", _fy1_refuted), ("CON-2[softmax/L2]", _con2_verified)])
def test_a_tampered_row_is_recomputed_never_published(finished, tmp_path, monkeypatch, capfd, key, edit):
    out, calls = _rerun(finished, tmp_path, monkeypatch, edit, key)
    assert calls == [key]                                        # recomputed; the other row resumed
    assert (out / "results.json").read_bytes() == (finished / "results.json").read_bytes()
    assert _row(out / "results.json", key)["verdict"] == _row(finished / "results.json", key)["verdict"]
    err = capfd.readouterr().err
    assert f"resume: {key}: the stored row is not trusted" in err and "recomputing it" in err


# ------------------------------------------------------------------ each rule, on the stored rows
def _variants():
    def verdict_only(key, v):
        return key, lambda r: r.__setitem__("verdict", v)

    def cx_moved(r):
        ev = next(e for e in r["evidence"] if "counterexample" in e)
        ev["counterexample"] = json.loads(json.dumps(ev["counterexample"]).replace("0.", "0.1", 1))

    def planted_outcome(r):
        r["evidence"][0]["planted"][0]["outcome"] = "error"

    def no_planted(r):
        r["evidence"][0].pop("planted")

    def statement(r):
        r["statement"] = "Something else entirely."

    def scope_widened(r):
        r["scope"] = "every $n$ and every $\\theta$"

    def scope_dropped(r):
        r.pop("scope")

    def constants(r):
        r["constants"]["gain_base"] = 3

    def prose_caret(r):
        r["evidence"][0]["summary"] = "p^alpha holds"

    def figure_unlabelled(r):
        r["evidence"][1].setdefault("figures", {})["extra"] = 1.0

    def swapped(r):
        r["evidence"].reverse()

    def extra_key(r):
        r["crash"] = []

    def crashed(r):
        r["verdict"] = "crashed"

    def not_a_row(r):
        r.clear()

    given = "is not the row its evidence gives"
    return [(*verdict_only("FY-1[softmax]", "supported"), f"{given} .differs in verdict"),
            (*verdict_only("CON-2[softmax/L2]", "inconclusive"), f"{given} .differs in verdict"),
            ("FY-1[softmax]", _fy1_refuted, "'fails' without a counterexample"),
            ("CON-2[softmax/L2]", _con2_verified, "departs from its registered outcomes"),
            ("CON-2[softmax/L2]", cx_moved, "the counterexample does not re-check"),
            ("FY-1[softmax]", planted_outcome, "a planted run is not the registry's or has no possible outcome"),
            ("FY-1[softmax]", no_planted, "its planted runs are not the 1 the registry declares"),
            ("FY-1[softmax]", statement, f"{given} .differs in statement"),
            ("FY-1[softmax]", scope_widened, f"{given} .differs in scope"),
            ("CON-2[softmax/L2]", scope_dropped, f"{given} .differs in scope"),
            ("CON-2[softmax/L2]", constants, f"{given} .differs in constants"),
            ("FY-1[softmax]", prose_caret, "marked-text rule.*'\\^' in prose"),
            ("FY-1[softmax]", figure_unlabelled, "figures without a label"),
            ("CON-2[softmax/L2]", swapped, "is not the registry's check 'bayes-order'"),
            ("FY-1[softmax]", extra_key, f"{given} .differs in crash"),
            ("FY-1[softmax]", crashed, f"{given} .differs in verdict"),
            ("FY-1[softmax]", not_a_row, "not one entry for each of the registry's 2 checks")]


@pytest.mark.parametrize("key,edit,rule", _variants())
def test_every_rule_of_a_fresh_row_holds_for_a_resumed_one(finished, key, edit, rule):
    from reports.resume import validated

    claim = select(all_claims(), [key])[0]
    _, obj = _stored(finished, key)
    good = obj["result"]
    assert validated(claim, json.loads(json.dumps(good)), CTX.profile, planted=True) == good
    bad = json.loads(json.dumps(good))
    edit(bad)
    with pytest.raises(Exception, match=rule):   # ValueError, TypeError or SuiteDefect, naming the rule
        validated(claim, bad, CTX.profile, planted=True)


# ------------------------------------------------------------------ item 8: the data a row read
@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A MovieLens-100K cache of our own (nothing is downloaded): ``corrupt()`` writes a file
    that fails its checksum, ``repair()`` one the data module verifies."""
    from numerics import data as D

    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setattr(D, "cache_dir", lambda: folder)
    target = folder / D.FILE_NAME
    real_sha = D.sha256

    class Cache:
        def corrupt(self):
            target.write_text("not the ratings\n")

        def repair(self):
            target.write_text("the ratings, as the data module will verify them\n")
            repaired = real_sha(target)
            monkeypatch.setattr(D, "sha256", lambda p: D.INTER_SHA256 if real_sha(p) == repaired else real_sha(p))

    return Cache()


def _experiment_rows():
    # the experiment's prepared work (its training runs) is not what these tests are about
    return [replace(c, prepare=None, prime=None) for c in select(all_claims(), ["EXP-1[softmax]", "EXP-1[nce]"])]


def test_rows_of_an_unavailable_data_set_are_never_resumed(cache, tmp_path, monkeypatch):
    from numerics.exp import checks as exp_checks

    monkeypatch.setattr(exp_checks, "_UNAVAILABLE", {})
    monkeypatch.setattr(report, "all_claims", _experiment_rows)
    cache.corrupt()
    out = tmp_path / "out"
    results, _ = report.write_report(out, CTX, pdf=False)
    assert [r["verdict"] for r in results["claims"]] == ["inconclusive"] * 2
    assert all("MovieLens-100K unavailable" in e["summary"] for r in results["claims"] for e in r["evidence"])
    cache.repair()
    calls = []

    def the_experiment_runs(claim, ctx, **kw):
        calls.append(claim.key)
        return {"id": claim.id, "reading": claim.reading, "statement": claim.statement, "verdict": "supported",
                "evidence": []}, False

    monkeypatch.setattr(runner, "run_claim", the_experiment_runs)
    report.write_report(out, CTX, pdf=False)
    assert calls == ["EXP-1[softmax]", "EXP-1[nce]"]        # nothing resumed: the experiment runs


def _experiment_like():
    """A row of the experiment's group (``shares="experiment"``) that reads nothing heavy."""
    ev = Evidence("empirical", "c", "holds", summary="the row's one check holds")
    return [Claim("EXP-9", "test", "A row of the experiment.", (Check("c", "empirical", lambda ctx: ev),),
                  expected="supported", shares="experiment")]


def test_an_experiment_row_is_keyed_by_the_data_and_the_tuning_record(cache, tmp_path, monkeypatch):
    from numerics.recsys import final as F

    monkeypatch.setattr(report, "all_claims", _experiment_like)
    calls = []
    real = runner.run_claim
    monkeypatch.setattr(runner, "run_claim", lambda claim, ctx, **kw: (calls.append(claim.key), real(claim, ctx, **kw))[1])
    out = tmp_path / "out"
    cache.repair()
    report.write_report(out, CTX, pdf=False)
    report.write_report(out, CTX, pdf=False)
    assert calls == ["EXP-9[test]"]                          # verified data: kept, and resumed
    record = tmp_path / "record.json"                        # the tuning record edited: recomputed
    record.write_bytes(F.RECORD.read_bytes() + b"\n")
    monkeypatch.setattr(F, "RECORD", record)
    report.write_report(out, CTX, pdf=False)
    assert calls == ["EXP-9[test]"] * 2
    cache.corrupt()                                          # the data gone: recomputed, and not kept
    report.write_report(out, CTX, pdf=False)
    report.write_report(out, CTX, pdf=False)
    assert calls == ["EXP-9[test]"] * 4
