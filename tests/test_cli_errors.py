"""The command line on bad input (issue 22, item 9): every bad argument, file or path exits
2 with one line on stderr (never a traceback, never exit 1, the code of a crashed check) and
before anything is created; one report at a time writes into an ``--out``; two PDF builds
of one document never share a file."""
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from reports import cli

ROOT = Path(__file__).resolve().parent.parent
CHEAP = ["--only", "FY-3[softmax]", "--no-pdf", "--jobs", "1"]   # in process: no cluster for a refusal


def _main(argv, capsys):
    """(exit status, stderr lines) of ``softmax-audit ARGV`` run in this process."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:   # argparse exits
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.splitlines()


def _refused(argv, capsys, *words):
    code, lines = _main(argv, capsys)
    assert code == 2 and len(lines) == 1, lines
    for w in words:
        assert w in lines[0], lines
    return lines[0]


def _results(tmp_path, claims, name="results.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"schema": 1, "meta": {}, "claims": claims}))
    return path


ROW = {"id": "FY-3", "reading": "softmax", "statement": "A statement.", "verdict": "supported",
       "evidence": [{"kind": "numeric", "check": "c", "outcome": "holds", "summary": "it holds"}]}


# ------------------------------------------------------------------ files: recheck, appendix, table
@pytest.mark.parametrize("content", ["{not json", json.dumps({"claims": [[1]]}),
                                     json.dumps({"claims": [{"id": "FY-1", "evidence": [3]}]}),
                                     json.dumps({"claims": [dict(ROW, evidence=[{"outcome": "fails", "check": "c",
                                                                                 "kind": "numeric",
                                                                                 "counterexample": 3}])]})])
def test_recheck_of_a_malformed_file(tmp_path, capsys, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    _refused(["recheck", bad], capsys, str(bad), "not a readable results.json")


def test_recheck_of_a_missing_file(tmp_path, capsys):
    _refused(["recheck", tmp_path / "missing.json"], capsys, "missing.json")
    _refused(["recheck", tmp_path], capsys, "Is a directory")


@pytest.mark.parametrize("command", ["appendix", "table"])
@pytest.mark.parametrize("row,problem", [
    ({k: v for k, v in ROW.items() if k != "evidence"}, "has no list of evidence"),
    ({k: v for k, v in ROW.items() if k != "statement"}, "has no 'statement' string"),
    (dict(ROW, verdict="great"), "has verdict 'great'"),
    (dict(ROW, evidence=[dict(ROW["evidence"][0], figures=3)]), "figures is not an object"),
    (5, "claims[0] is a int, not an object"),
])
def test_appendix_and_table_on_a_row_of_the_wrong_shape(tmp_path, capsys, command, row, problem):
    path = _results(tmp_path, [row])
    _refused([command, path, *(["--no-pdf"] if command == "appendix" else [])], capsys, problem, str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]      # nothing written


def test_appendix_into_an_unusable_out(tmp_path, capsys):
    path = _results(tmp_path, [ROW])
    _refused(["appendix", path, "--no-pdf", "--out", path], capsys, "is not a directory")


# ------------------------------------------------------------------ report: arguments and --out
def test_an_unknown_only_is_refused_before_anything_is_created(tmp_path, capsys):
    out = tmp_path / "out"
    _refused(["report", "--out", out, "--only", "NOPE-9", "--no-pdf"], capsys, "matched no claim")
    assert not out.exists()


def test_a_negative_seed_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    _refused(["report", "--out", out, "--seed", "-1", *CHEAP], capsys, "--seed", "non-negative")
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: --device cuda is valid")
def test_device_cuda_without_a_gpu(tmp_path, capsys):
    out = tmp_path / "out"
    _refused(["report", "--out", out, "--device", "cuda", *CHEAP], capsys, "--device cuda")
    assert not out.exists()
    _refused(["bench", "losses", "--device", "cuda"], capsys, "--device cuda")


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory this process cannot write into: a chmod'ed one, or (root ignores modes)
    /sys, which not even root writes files into."""
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    if not Path("/sys").is_dir():
        pytest.skip("running as root without /sys: no directory root cannot write into")
    yield Path("/sys")


def test_an_out_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "a-file"
    f.write_text("x")
    _refused(["report", "--out", f, *CHEAP], capsys, "is not a directory")


def test_an_out_that_is_read_only(read_only_dir, capsys):
    _refused(["report", "--out", read_only_dir, *CHEAP], capsys, "cannot write into", str(read_only_dir))


# ------------------------------------------------------------------ tune on a corrupt data cache
def test_tune_on_a_corrupt_cache(tmp_path, capsys, monkeypatch):
    from numerics import data as D

    monkeypatch.setattr(D, "cache_dir", lambda: tmp_path)
    (tmp_path / D.FILE_NAME).write_text("not the ratings\n")
    _refused(["tune", "--methods", "softmax", "--out", tmp_path / "record.json"], capsys, "corrupt", "--force")
    assert not (tmp_path / "record.json").exists() and not (tmp_path / "record.json.resume").exists()


def test_tune_with_an_unknown_method(tmp_path, capsys):
    _refused(["tune", "--methods", "nope", "--out", tmp_path / "record.json"], capsys, "--methods", "nope")


# ------------------------------------------------------------------ the lock on --out
_HOLD = ("import sys; from pathlib import Path; from reports.store import out_lock\n"
         "with out_lock(Path(sys.argv[1])):\n    print('held', flush=True); sys.stdin.read()\n")


def _holder(out):
    """A process that holds ``out``'s lock until its stdin closes (or it is killed)."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(out)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_report_into_the_same_out_is_refused(tmp_path, capsys, monkeypatch):
    from reports.execution import Engine

    out = tmp_path / "out"
    first = _holder(out)
    try:
        line = _refused(["report", "--out", out, *CHEAP], capsys, "in use by another report", f"pid {first.pid}")
        assert "--out" in line

        def no_cluster(self):
            raise AssertionError("a cluster started for a report the lock refuses")
        monkeypatch.setattr(Engine, "__enter__", no_cluster)     # refused before any cluster starts
        _refused(["report", "--out", out, "--only", "FY-3[softmax]", "--no-pdf", "--jobs", "2"], capsys, "in use")
        _refused(["audit-loss", "softmax", "--out", out, "--no-pdf", "--jobs", "2"], capsys, "in use")
        _refused(["appendix", _results(tmp_path, [ROW]), "--no-pdf", "--out", out], capsys, "in use")
        assert sorted(p.name for p in out.iterdir()) == [".lock"]              # nothing written
    finally:
        first.stdin.close()
        first.wait(timeout=60)
    assert not (out / ".lock").exists()                                     # released on the way out


def test_the_lock_of_a_dead_report_is_taken_over(tmp_path):
    from reports.store import out_lock

    out = tmp_path / "out"
    first = _holder(out)
    first.send_signal(signal.SIGKILL)          # dies holding it: no clean-up ran
    first.wait(timeout=60)
    stale = json.loads((out / ".lock").read_text())
    assert stale["pid"] == first.pid
    with out_lock(out):
        assert json.loads((out / ".lock").read_text())["pid"] == os.getpid()


def test_without_flock_the_pid_in_the_lock_decides(tmp_path, monkeypatch):
    """On a file system without flock: a lock naming a live process on this host holds;
    one naming a dead process is taken over."""
    import fcntl
    import socket

    from reports.store import FolderBusy, out_lock

    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    out = tmp_path / "out"
    out.mkdir()
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        (out / ".lock").write_text(json.dumps({"pid": alive.pid, "host": socket.gethostname()}))
        with pytest.raises(FolderBusy, match=f"pid {alive.pid}"):
            with out_lock(out):
                pass
    finally:
        alive.stdin.close()
        alive.wait(timeout=60)
    with out_lock(out):                        # the same pid, now dead
        assert json.loads((out / ".lock").read_text())["pid"] == os.getpid()


# ------------------------------------------------------------------ a unique PDF build
def test_two_builds_of_one_document_never_share_a_file(tmp_path, monkeypatch):
    """A stand-in pdflatex that, while building the first document, lets a second build of
    the same .tex run to the end (two reports into one folder, interleaved): each build
    must find its own PDF (with a fixed job name in the folder, the second build's clean-up
    takes the first's)."""
    from reports import latex

    tex = tmp_path / "appendix.tex"
    tex.write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    builds = []

    def pdflatex(cmd, cwd, **kw):
        opts = dict(a[1:].split("=", 1) for a in cmd if a.startswith("-") and "=" in a)
        where = Path(opts.get("output-directory", cwd))
        job = opts.get("jobname", Path(cmd[-1]).stem)
        builds.append(where)
        if len(builds) == 1:   # the second report's build runs inside the first one's
            assert latex.compile_pdf(tex) == tmp_path / "appendix.pdf"
        (where / f"{job}.log").write_text("log\n")
        (where / f"{job}.pdf").write_bytes(b"%PDF- built in " + str(where).encode())
        return subprocess.CompletedProcess(cmd, 0, b"", b"")

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/pdflatex")
    monkeypatch.setattr(latex.subprocess, "run", pdflatex)
    assert latex.compile_pdf(tex) == tmp_path / "appendix.pdf"
    assert (tmp_path / "appendix.pdf").read_bytes().startswith(b"%PDF-")
    assert len(set(builds)) == 2                        # two private build directories
    assert sorted(p.name for p in tmp_path.iterdir()) == ["appendix.pdf", "appendix.tex"]
