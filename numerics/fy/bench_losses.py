"""``softmax-audit bench losses``: forward+backward time of the sparse FY losses against
torch's cross-entropy and the ``entmax`` package, measured side by side in one run.

Targets: at n = 100,000, batch 256, float32, the sparsemax and 1.5-entmax losses each take
at most 2× cross-entropy (issue 2), rankmax with k = 5 and k = 50 multi-hot labels at most
1.5× (issue 14), and each no more than the ``entmax`` package's fastest setting (full sort,
or partial sort with ``k`` ∈ {16, 64, 256}; for rankmax its ``budget_bisect`` projection on
C_k inside the same Fenchel–Young loss, ⟨θ, ŷ − y⟩ − ½‖ŷ‖² + ½‖y‖² with gradient ŷ − y).

Method: scores θ ~ N(0, 1), labels uniform; every round times each method once, in the
same order, on a fresh leaf copy of θ; the median over rounds is reported.  Interleaving
the methods within a round means slow drift of the machine hits all of them alike.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def _timer(device: str) -> Callable[[], float]:
    if device.startswith("cuda"):
        def now() -> float:
            torch.cuda.synchronize()
            return time.perf_counter()
        return now
    return time.perf_counter


def main(n: int = 100_000, batch: int = 256, repeats: int = 7, device: str = "cpu", seed: int = 0) -> int:
    from losses import get

    if n < 2 or batch < 1 or repeats < 1:
        raise SystemExit("error: need --n ≥ 2, --batch ≥ 1, --repeats ≥ 1")
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(batch, n, generator=g).to(device)
    y = torch.randint(0, n, (batch,), generator=g).to(device)
    sparsemax, entmax15 = get("sparsemax"), get("entmax", alpha=1.5)
    rank_k = (5, 50)
    rankmax = {k: get("rankmax", k=k) for k in rank_k}
    multihot = {k: _multihot(batch, n, k, g).to(device) for k in rank_k}

    methods: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "cross_entropy (torch)": lambda t: torch.nn.functional.cross_entropy(t, y, reduction="none"),
        "sparsemax (ours)": lambda t: sparsemax(t, y),
        "entmax-1.5 (ours)": lambda t: entmax15(t, y),
        **{f"rankmax k={k} (ours)": (lambda t, k=k: rankmax[k](t, multihot[k])) for k in rank_k},
    }
    try:
        import entmax as pkg
    except ImportError:
        pkg = None
        print("note: the `entmax` package is not installed (pip install -e '.[dev]'); comparing with cross-entropy only")
    if pkg is not None:
        for k in (None, 16, 64, 256):
            tag = "full sort" if k is None else f"k={k}"
            methods[f"sparsemax (entmax pkg, {tag})"] = lambda t, k=k: pkg.sparsemax_loss(t, y, k=k)
            methods[f"entmax-1.5 (entmax pkg, {tag})"] = lambda t, k=k: pkg.entmax15_loss(t, y, k=k)
        for k in rank_k:
            methods[f"rankmax k={k} (entmax pkg, budget_bisect)"] = (
                lambda t, k=k: _fy_capped_loss(pkg.budget_bisect(t.detach(), k), t, multihot[k]))
        # the two implementations must agree before their speed is compared
        with torch.no_grad():
            for ours, theirs in (("sparsemax (ours)", "sparsemax (entmax pkg, k=64)"),
                                 ("entmax-1.5 (ours)", "entmax-1.5 (entmax pkg, k=64)"),
                                 *((f"rankmax k={k} (ours)", f"rankmax k={k} (entmax pkg, budget_bisect)")
                                   for k in rank_k)):
                a, b = methods[ours](theta), methods[theirs](theta)
                err = float((a - b).abs().max())
                if err > 1e-3 * (1 + float(a.abs().max())):
                    raise SystemExit(f"error: {ours} and {theirs} disagree by {err:g}")

    now = _timer(device)
    times: dict[str, list[float]] = {name: [] for name in methods}
    for r in range(repeats + 1):  # round 0 warms up
        for name, fn in methods.items():
            leaf = theta.clone().requires_grad_(True)
            t0 = now()
            fn(leaf).sum().backward()
            dt = now() - t0
            if r:
                times[name].append(dt)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    ce = med["cross_entropy (torch)"]
    print(f"bench losses: n={n}, batch={batch}, float32, device={device}, threads={torch.get_num_threads()}, "
          f"median of {repeats} interleaved rounds, forward+backward")
    print(f"{'method':<34} {'seconds':>9} {'× cross-entropy':>16}")
    for name, t in med.items():
        print(f"{name:<34} {t:9.4f} {t / ce:16.2f}")

    ok = True
    targets = [("sparsemax (ours)", "sparsemax (entmax pkg", 2.0), ("entmax-1.5 (ours)", "entmax-1.5 (entmax pkg", 2.0),
               *((f"rankmax k={k} (ours)", f"rankmax k={k} (entmax pkg", 1.5) for k in rank_k)]
    for ours, family, cap in targets:
        ratio = med[ours] / ce
        line = f"target {ours}: {ratio:.2f}× cross-entropy (≤ {cap:.2f})"
        ok &= ratio <= cap
        theirs = {k: v for k, v in med.items() if k.startswith(family)}
        if theirs:
            best = min(theirs, key=theirs.get)
            rel = med[ours] / theirs[best]
            ok &= rel <= 1.0
            line += f"; {rel:.2f}× the package's fastest setting [{best[len(family) + 2:-1]}] (≤ 1.00)"
        print(line + ("  OK" if ratio <= cap and (not theirs or rel <= 1.0) else "  MISSED"))
    return 0 if ok else 1


def _multihot(batch: int, n: int, k: int, g: torch.Generator) -> torch.Tensor:
    """k distinct labels per row, as a float32 multi-hot matrix (a point of C_k)."""
    idx = torch.rand(batch, n, generator=g).topk(k, dim=-1).indices
    return torch.zeros(batch, n).scatter_(-1, idx, 1.0)


def _fy_capped_loss(p: torch.Tensor, theta: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The rankmax FY loss from a given projection p = Π_{C_k}(θ) (held constant, so the
    gradient is p − y): ⟨θ, p − y⟩ − ½‖p‖² + ½‖y‖²."""
    return (theta * (p - y)).sum(-1) - 0.5 * (p * p).sum(-1) + 0.5 * (y * y).sum(-1)
