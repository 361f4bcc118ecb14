"""Independent references for tests/test_fuzz_exact.py, in exact (``fractions.Fraction``)
or 50-digit (mpmath) arithmetic; nothing here calls the library.

* Euclidean maps (sparsemax: the simplex Δ, rankmax: C_k = {p ∈ [0,1]ⁿ : Σp = k}) by the
  exact partition formula (Duchi et al. 2008 for Δ; for C_k a top set at 1, a free set at
  θ − τ and the rest at 0);
* softmax in mpmath; α-entmax ŷ_i = [(α−1)(θ_i − m) − τ]_+^{1/(α−1)} (Peters et al. 2019)
  with τ solved in mpmath;
* Ω in each of its forms, the loss L = ⟨θ − m, ŷ − y⟩ − Ω(ŷ) + Ω(y) and the conjugate
  Ω*(θ) = m·s + ⟨θ − m, ŷ⟩ − Ω(ŷ) (Blondel et al. 2020, s = Σŷ), each with the scale of
  its rounding (the tolerances of tests/test_fuzz_exact.py).
"""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import torch


def to_mp(x) -> mpmath.mpf:
    return mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else mpmath.mpf(x)


def euclid_ref(th: list[float], k: int, cap: bool) -> list[Fraction]:
    """Π(θ) on Δ (cap False, k = 1) or C_k (cap True), −inf entries excluded (ŷ = 0 there):
    the partition of the sorted scores into u entries at 1, f free entries θ_i − τ with
    τ = (Σ_free θ − (k − u))/f, and the rest at 0, the one that is consistent."""
    idx = [i for i, t in enumerate(th) if t != -math.inf]
    z = sorted(((Fraction(th[i]), i) for i in idx), reverse=True)
    N, out = len(z), [Fraction(0)] * len(th)
    for u in range(0, k + 1 if cap else 1):
        for f in range(0, N - u + 1):
            if f == 0:
                if u == k and (u == N or z[u - 1][0] - z[u][0] >= 1):
                    for _, i in z[:u]:
                        out[i] = Fraction(1)
                    return out
                continue
            free = [v for v, _ in z[u:u + f]]
            tau = (sum(free) - (k - u)) / f
            ok = all(0 <= v - tau and (not cap or v - tau <= 1) for v in free)
            ok = ok and (u == 0 or z[u - 1][0] - tau >= 1) and (u + f == N or z[u + f][0] - tau <= 0)
            if ok:
                for v, i in z[:u]:
                    out[i] = Fraction(1)
                for v, i in z[u:u + f]:
                    out[i] = v - tau
                return out
    raise AssertionError(f"no consistent partition for {th}, k = {k}")


def softmax_ref(th: list[float]) -> list[mpmath.mpf]:
    fin = [mpmath.mpf(t) for t in th if t != -math.inf]
    m = max(fin)
    e = [mpmath.exp(mpmath.mpf(t) - m) if t != -math.inf else mpmath.mpf(0) for t in th]
    z = mpmath.fsum(e)
    return [v / z for v in e]


def entmax_ref(th: list[float], alpha: float) -> list[mpmath.mpf]:
    """Σ_i [x_i − τ]_+^b = 1, x_i = (α−1)(θ_i − m), b = 1/(α−1), τ ∈ [−1, 0]: Newton from
    τ = −1 for α ≤ 2 (the sum is convex and decreasing in τ: monotone convergence from the
    left), bisection for α > 2."""
    a = mpmath.mpf(alpha)
    b = 1 / (a - 1)
    m = max(mpmath.mpf(t) for t in th if t != -math.inf)
    x = [(a - 1) * (mpmath.mpf(t) - m) if t != -math.inf else None for t in th]
    xs = [v for v in x if v is not None]
    mass = lambda t: mpmath.fsum((v - t) ** b for v in xs if v > t) - 1  # noqa: E731
    if alpha <= 2:
        tau = mpmath.mpf(-1)
        for _ in range(400):
            g = mass(tau)
            d = b * mpmath.fsum((v - tau) ** (b - 1) for v in xs if v > tau)
            step = g / d
            tau += step
            if step <= mpmath.mpf(10) ** -45:
                break
        else:
            raise AssertionError("entmax reference: no convergence")
    else:
        lo, hi = mpmath.mpf(-1), mpmath.mpf(0)
        for _ in range(160):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mass(mid) >= 0 else (lo, mid)
        tau = lo
    return [(v - tau) ** b if v is not None and v > tau else mpmath.mpf(0) for v in x]


class Ref:
    """The map of a loss spec and its Ω (both forms where there are two), in mpmath."""

    def __init__(self, name: str, alpha: float | None = None, k: int = 1):
        self.name, self.alpha, self.k = name, alpha, k
        self.mass = k if name == "rankmax" else 1

    def map(self, th: list[float]) -> list[mpmath.mpf]:
        if self.name == "softmax" or (self.name == "entmax" and self.alpha == 1):
            return softmax_ref(th)
        if self.name == "entmax":
            return entmax_ref(th, self.alpha)
        return [to_mp(v) for v in euclid_ref(th, self.k, self.name == "rankmax")]

    def omegas(self, p: list) -> list[tuple[mpmath.mpf, mpmath.mpf]]:
        """[(Ω(p), Σ_i p_i |∇Ω(p)_i|)] for each form of Ω."""
        p = [to_mp(v) for v in p]
        pos = [v for v in p if v > 0]
        if self.name == "softmax" or (self.name == "entmax" and self.alpha == 1):
            return [(mpmath.fsum(v * mpmath.log(v) for v in pos), mpmath.fsum(v * abs(mpmath.log(v) + 1) for v in pos))]
        if self.name == "entmax":
            a = mpmath.mpf(self.alpha)
            std = (mpmath.fsum(v ** a for v in pos) - 1) / (a * (a - 1))
            lim = mpmath.fsum(v * mpmath.expm1((a - 1) * mpmath.log(v)) for v in pos) / (a * (a - 1))
            g_std = mpmath.fsum(v ** a for v in pos) / (a - 1)
            g_lim = mpmath.fsum(v * abs(mpmath.expm1((a - 1) * mpmath.log(v)) / (a - 1) + v ** (a - 1) / a) for v in pos)
            return [(std, g_std), (lim, g_lim)]
        sq = mpmath.fsum(v * v for v in p) / 2
        return [(sq - (mpmath.mpf(1) / 2 if self.name == "sparsemax" else 0), 2 * sq)]


def close(got: float, ref: mpmath.mpf, tol: mpmath.mpf, dtype: torch.dtype) -> bool:
    """|got − ref| ≤ tol, or got = ±inf where ref is within tol of the dtype's range."""
    big = mpmath.mpf(torch.finfo(dtype).max)
    if math.isinf(got):
        return (got > 0) == (ref > 0) and abs(ref) + tol >= big
    return not math.isnan(got) and abs(mpmath.mpf(got) - ref) <= tol


def loss_ref(th: list[float], p: list, y: list, ref: Ref) -> list[tuple[mpmath.mpf, mpmath.mpf]]:
    """[(L, scale)] for each form of Ω: L = ⟨θ − m, ŷ − y⟩ − Ω(ŷ) + Ω(y) and the scale of
    its rounding (the tolerances in the docstring of tests/test_fuzz_exact.py)."""
    m = max(t for t in th if t != -math.inf)
    lin = mpmath.fsum((to_mp(Fraction(t)) - m) * (pi - to_mp(yi)) for t, pi, yi in zip(th, p, y) if t != -math.inf)
    weight = mpmath.fsum(abs(mpmath.mpf(t) - m) * (pi + abs(to_mp(yi))) for t, pi, yi in zip(th, p, y) if t != -math.inf)
    out = []
    for (om_p, gp), (om_y, gy) in zip(ref.omegas(p), ref.omegas(y)):
        value = lin - om_p + om_y
        out.append((value, abs(value) + weight + gp + gy + 1))
    return out


def conjugate_ref(th: list[float], p: list, ref: Ref) -> list[tuple[mpmath.mpf, mpmath.mpf]]:
    """[(Ω*(θ), scale)] for each form of Ω: Ω*(θ) = m·s + ⟨θ − m, ŷ⟩ − Ω(ŷ), ŷ = ``p``, and
    the scale of its rounding: |m|·s + |Ω(ŷ)| + Σ_i ŷ_i|∇Ω(ŷ)_i| + Σ_i |θ_i − m| ŷ_i + 1."""
    m = max(mpmath.mpf(t) for t in th if t != -math.inf)
    inner = [(mpmath.mpf(t) - m) * pi for t, pi in zip(th, p) if t != -math.inf]
    return [(m * ref.mass + mpmath.fsum(inner) - om, abs(m) * ref.mass + abs(om) + g + mpmath.fsum(map(abs, inner)) + 1)
            for om, g in ref.omegas(p)]
