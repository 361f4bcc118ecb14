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
