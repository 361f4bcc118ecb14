"""``softmax-audit bench report``: the report's wall time in this process and on a local
Dask cluster, side by side in one run, and whether their results agree byte for byte.

Each configuration runs as its own ``softmax-audit report`` process in a fresh output
folder (``--fresh``, ``--no-pdf``): the wall time is what a user waits, imports and
worker start-up included.  The two results.json must be identical once the figures
listed in ``meta.wallclock`` are masked (they are times), and the two appendix.tex may
differ only on lines that show such a figure; otherwise the benchmark exits 1.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def mask_wallclock(results: dict[str, Any]) -> dict[str, Any]:
    """A copy of results.json without the figures listed in ``meta.wallclock``."""
    wall = set(results["meta"]["wallclock"])
    out = json.loads(json.dumps(results))
    for row in out["claims"]:
        for ev in row["evidence"]:
            for k in wall & set(ev.get("figures") or {}):
                del ev["figures"][k]
    return out


def same_report(a: Path, b: Path) -> tuple[bool, str]:
    """Do two report folders agree (wall-clock figures aside)?"""
    ra, rb = (json.loads((d / "results.json").read_text(encoding="utf-8")) for d in (a, b))
    if mask_wallclock(ra) != mask_wallclock(rb):
        rows = [f"{x['id']}[{x['reading']}]" for x, y in zip(mask_wallclock(ra)["claims"], mask_wallclock(rb)["claims"])
                if x != y]
        return False, f"results.json differs in {len(rows)} row(s): {', '.join(rows[:5])}"
    ta, tb = ((d / "appendix.tex").read_text(encoding="utf-8").splitlines() for d in (a, b))
    if len(ta) != len(tb) or any(x != y and not ("\\dagger" in x and "\\dagger" in y) for x, y in zip(ta, tb)):
        return False, "appendix.tex differs outside wall-clock figures"
    return True, "identical (wall-clock figures masked)"


def _run(args: list[str], out: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reports.cli", "report", "--out", str(out), "--fresh", "--no-pdf",
                           *args], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"error: report {' '.join(args)} exited {proc.returncode}\n{proc.stderr[-3000:]}")
    return seconds


def main(profile: str = "quick", jobs: int = 2, only: list[str] | None = None, goal: float | None = None) -> int:
    base = ["--profile", profile, *(["--only", *only] if only else [])]
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        one, many = Path(tmp) / "jobs1", Path(tmp) / f"jobs{jobs}"
        print(f"report --profile {profile}{' --only ' + ' '.join(only) if only else ''}: "
              f"--jobs 1, then --jobs {jobs} (fresh folders, no PDF)", flush=True)
        t1 = _run([*base, "--jobs", "1"], one)
        print(f"  --jobs 1      {t1:7.1f} s", flush=True)
        tn = _run([*base, "--jobs", str(jobs)], many)
        print(f"  --jobs {jobs:<6} {tn:7.1f} s   speed-up {t1 / tn:.2f}x", flush=True)
        ok, why = same_report(one, many)
    print(f"  results: {why}")
    if goal is not None:
        print(f"  goal --jobs {jobs} <= {goal:.0f} s: {'met' if tn <= goal else 'missed'}")
    return 0 if ok else 1
