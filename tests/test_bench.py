"""The benchmark command runs and reports every method side by side (speed targets are
read from its output, never asserted in a unit test)."""
import subprocess
import sys


def test_bench_losses_runs_and_compares_side_by_side():
    proc = subprocess.run([sys.executable, "-m", "reports.cli", "bench", "losses", "--n", "3000", "--batch", "8",
                           "--repeats", "1"], capture_output=True, text=True)
    # exit 1 may mean a target missed at this toy size, so a crash is told apart by stderr
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr and "error:" not in proc.stderr, proc.stderr
    out = proc.stdout
    for name in ("cross_entropy (torch)", "sparsemax (ours)", "entmax-1.5 (ours)", "sparsemax (entmax pkg, k=64)",
                 "rankmax k=5 (ours)", "rankmax k=50 (ours)", "rankmax k=50 (entmax pkg, budget_bisect)"):
        assert name in out
    assert out.count("target ") == 4 and "× cross-entropy" in out


def test_bench_montecarlo_prints_throughput_and_growth():
    proc = subprocess.run([sys.executable, "-m", "reports.cli", "bench", "montecarlo", "--n", "2000", "--draws", "400",
                           "--repeats", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("score evaluations/s") == 2 * (5 + 4)
    assert "time ~ m^" in out and "time ~ R^" in out


def test_bench_recsys_times_ours_and_the_naive_loop(tmp_path):
    # an empty cache and no wheel: offline → the synthetic stand-in of ML-100K's shape; a tiny d keeps it fast
    env = {**__import__("os").environ, "SOFTMAX_AUDIT_CACHE": str(tmp_path), "PIP_NO_INDEX": "1"}
    proc = subprocess.run([sys.executable, "-m", "reports.cli", "bench", "recsys", "--d", "4", "--repeats", "1"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    out = proc.stdout
    assert "synthetic data of its shape" in out and "naive / ours = " in out and "round 1: naive" in out
    # without MovieLens-100K there are no final runs to time, and the printout says so
    assert "refits: not timed" in out


def test_bench_report_times_both_engines_and_compares_their_bytes():
    proc = subprocess.run([sys.executable, "-m", "reports.cli", "bench", "report", "--jobs", "2", "--only", "FY-3[softmax]",
                           "--goal", "600"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "--jobs 1" in out and "speed-up" in out and "identical (wall-clock figures masked)" in out
    assert "goal --jobs 2 <= 600 s: met" in out


def test_same_report_tells_a_changed_row_apart(tmp_path):
    import json

    from reports.bench_report import same_report

    row = {"id": "X-1", "reading": "r", "evidence": [{"figures": {"epoch_s": 1.0, "ndcg": 0.3}}]}
    for name, epoch, ndcg in (("a", 1.0, 0.3), ("b", 9.0, 0.3), ("c", 1.0, 0.4)):
        (tmp_path / name).mkdir()
        r = {"meta": {"wallclock": ["epoch_s"]}, "claims": [json.loads(json.dumps(row))]}
        r["claims"][0]["evidence"][0]["figures"] = {"epoch_s": epoch, "ndcg": ndcg}
        (tmp_path / name / "results.json").write_text(json.dumps(r))
        (tmp_path / name / "appendix.tex").write_text(f"t = {epoch}$^\\dagger$\n")
    assert same_report(tmp_path / "a", tmp_path / "b")[0]              # only a wall-clock figure moved
    ok, why = same_report(tmp_path / "a", tmp_path / "c")
    assert not ok and "X-1[r]" in why
