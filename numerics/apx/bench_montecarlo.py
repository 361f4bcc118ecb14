"""``softmax-audit bench montecarlo``: throughput of the APX Monte Carlo
(numerics/apx/montecarlo.py) and how its time grows with the sample count.

Configuration: the large-n problem of the APX rows (``montecarlo.large_problem``,
Zipf popularity, default n = 100,000), canonical SSM with the popularity proposal and
NCE with c = log Z.  Two sweeps, each timed as the median of ``repeats`` runs:
(a) samples per draw m ∈ {1, 4, 16, 64, 256} at a fixed number of draws R, and
(b) draws R ∈ {R/4, R/2, R, 2R} at m = 16.  Printed: seconds, score evaluations per
second (R·(m + 1) gathered scores), and the fitted log-log exponents of time in m and
in R (1 means linear; the per-configuration O(n) set-up makes small m look sub-linear).
"""
from __future__ import annotations

import math
import statistics
import time

import torch


def _fit(xs, ts) -> float:
    lx = [math.log(x) for x in xs]
    ly = [math.log(t) for t in ts]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def main(n: int = 100_000, draws: int = 100_000, repeats: int = 3, device: str = "cpu", seed: int = 0) -> int:
    from numerics.apx import montecarlo as MC

    if n < 3 or draws < 40 or repeats < 1:
        raise SystemExit("error: need --n ≥ 3, --draws ≥ 40, --repeats ≥ 1")
    theta, y, props = MC.large_problem(n, seed, device=device)
    c = float(torch.logsumexp(theta, 0))

    def run(method: str, m: int, R: int) -> tuple[float, int]:
        times, evals = [], 0
        for r in range(repeats):
            gen = MC.device_generator(device, seed + r)
            t0 = time.perf_counter()
            res = MC.estimate(method, theta, y, props["popularity"], m, draws=R, c=c, generator=gen)
            times.append(time.perf_counter() - t0)
            evals = res.score_evaluations
        return statistics.median(times), evals

    print(f"Monte Carlo benchmark: n = {n}, device {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {repeats}")
    for method in ("ssm", "nce"):
        print(f"\n{method}: (a) samples per draw m at R = {draws} draws")
        ms, ts = [1, 4, 16, 64, 256], []
        for m in ms:
            t, ev = run(method, m, draws)
            ts.append(t)
            print(f"  m = {m:4d}: {t:8.3f} s  {ev / t:12.3e} score evaluations/s")
        print(f"  time ~ m^{_fit(ms, ts):.2f} over m = 1..256 (m^{_fit(ms[-3:], ts[-3:]):.2f} over m = 16..256)")
        print(f"{method}: (b) draws R at m = 16")
        Rs, ts = [draws // 4, draws // 2, draws, 2 * draws], []
        for R in Rs:
            t, ev = run(method, 16, R)
            ts.append(t)
            print(f"  R = {R:8d}: {t:8.3f} s  {ev / t:12.3e} score evaluations/s")
        print(f"  time ~ R^{_fit(Rs, ts):.2f}")
    return 0
