"""Issue 22, items 2, 3, 4, 5 (labels) and 10: extreme scores, rankmax past a spread of
2^53, α-entmax near α = 1, a label tolerance that does not grow with n, a single class.

Every expected value comes from an independent route: exact ``Fraction`` arithmetic for
the Euclidean maps (simplex and capped-simplex projections, by their breakpoints), mpmath
at 50 digits for softmax and α-entmax, ``torch.softmax`` / the ``entmax`` package for n = 1.
"""
from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import torch

from losses import get
from losses.rankmax import capped_projection

mpmath.mp.dps = 50


# ------------------------------------------------------------------ references
def capped_ref(theta: list[Fraction], k: int, cap: bool) -> list[Fraction]:
    """Exact Euclidean projection on {p ≥ 0, Σp = k} (cap False: the simplex for k = 1)
    or on C_k = {p ∈ [0,1]^n, Σp = k}: f(τ) = Σ clip(θ_i − τ) − k is piecewise linear and
    non-increasing; find a root between its breakpoints."""
    hi_clip = (lambda x: min(max(x, Fraction(0)), Fraction(1))) if cap else (lambda x: max(x, Fraction(0)))
    f = lambda t: sum(hi_clip(x - t) for x in theta) - k  # noqa: E731
    pts = sorted(set(theta) | ({x - 1 for x in theta} if cap else set()))
    pts = [pts[0] - k - 1] + pts + [pts[-1] + 1]
    for a, b in zip(pts, pts[1:]):
        fa, fb = f(a), f(b)
        if fa >= 0 >= fb:
            t = a if fa == fb else a + (b - a) * fa / (fa - fb)  # linear on [a, b]
            return [hi_clip(x - t) for x in theta]
    raise AssertionError("no root")


def euclid_loss_ref(theta, y, k, cap):
    """L = Ω*(θ) + Ω(y) − ⟨θ, y⟩ with Ω = ½‖p‖² (− ½ on the simplex), exactly."""
    p = capped_ref(theta, k, cap)
    off = Fraction(0) if cap else Fraction(1, 2)
    omega = lambda q: sum(x * x for x in q) / 2 - off  # noqa: E731
    return sum(a * b for a, b in zip(theta, p)) - omega(p) + omega(y) - sum(a * b for a, b in zip(theta, y))


def softmax_ref(theta):
    th = [mpmath.mpf(float(x)) for x in theta]
    m = max(th)
    z = mpmath.fsum(mpmath.exp(x - m) for x in th)
    return [mpmath.exp(x - m) / z for x in th], m + mpmath.log(z)


def entmax_ref(theta, alpha):
    """ŷ_i = [(α−1)θ_i − τ]_+^{1/(α−1)}, Σŷ = 1, τ by bisection at 50 digits; and Ω(ŷ)."""
    a = mpmath.mpf(alpha)
    m = max(mpmath.mpf(float(x)) for x in theta)
    th = [(a - 1) * (mpmath.mpf(float(x)) - m) for x in theta]  # shifted: 50 digits near 0
    inv = 1 / (a - 1)
    mass = lambda t: mpmath.fsum(max(x - t, 0) ** inv for x in th)  # noqa: E731
    lo, hi = mpmath.mpf(-1), mpmath.mpf(0)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mass(mid) >= 1 else (lo, mid)
    return [max(x - lo, 0) ** inv for x in th]


def tsallis_omega_ref(p, alpha):
    a = mpmath.mpf(alpha)
    return (mpmath.fsum(mpmath.mpf(x) ** a for x in p) - 1) / (a * (a - 1))


def frac(t: torch.Tensor) -> list[Fraction]:
    return [Fraction(float(x)) for x in t]


def rounded(x, dtype) -> float:
    """An exact real rounded to ``dtype`` (±inf past its range, as IEEE rounding does)."""
    try:
        v = float(x)
    except OverflowError:  # past float64's range
        return float("inf") if x > 0 else float("-inf")
    return float(torch.tensor(v, dtype=torch.float64).to(dtype))


BIG = {torch.float32: 3e38, torch.float64: 1e308, torch.float16: 6e4}


# ------------------------------------------------------------------ item 2: extreme scores
def extreme_rows(dtype):
    b = BIG[dtype]
    return [[b, -b], [-b, b, 0.0], [b, -b, 1.0, 0.5], [b, b / 2, -b, -b / 3]]


def label_sets(n):
    half = [0.5, 0.5] + [0.0] * (n - 2)
    spread = [1.0 / n] * n
    return {"onehot": [1.0] + [0.0] * (n - 1), "half": half, "last": [0.0] * (n - 1) + [1.0], "uniform": spread}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("name,cap", [("sparsemax", False), ("rankmax", True)])
def test_euclidean_maps_and_losses_at_the_dtype_range(dtype, name, cap):
    """ŷ and L against exact Fraction arithmetic; HEAD: sparsemax on [[3e38, −3e38]] with
    y = [.5, .5] gave −0.25 (θ − max θ overflowed and was read as a mask)."""
    loss = get(name, k=1) if cap else get(name)
    for row in extreme_rows(dtype):
        theta = torch.tensor([row], dtype=dtype)
        th = frac(theta[0])
        p = loss.predict(theta)[0]
        want = capped_ref(th, 1, cap)
        assert torch.equal(p.double(), torch.tensor([float(x) for x in want]).to(dtype).double()), (row, p)
        for lab in label_sets(len(row)).values():
            y = torch.tensor([lab], dtype=dtype)
            ref = euclid_loss_ref(th, frac(y[0]), 1, cap)
            got = float(loss(theta, y)[0])
            want_l = rounded(ref, dtype)
            assert got == pytest.approx(want_l, rel=4 * torch.finfo(dtype).eps, abs=4 * torch.finfo(dtype).eps), (row, lab)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("k", [2, 3])
def test_rankmax_at_the_dtype_range(dtype, k):
    """Rankmax with k ≥ 2 reads scores far below the maximum: HEAD gave ŷ = [1, 0, 0] on
    [[3e38, −3e38, 0]] (k = 2), summing to 1, not k."""
    loss = get("rankmax", k=k)
    for row in extreme_rows(dtype):
        if len(row) <= k:
            continue
        theta = torch.tensor([row], dtype=dtype)
        th = frac(theta[0])
        p = loss.predict(theta)[0]
        want = torch.tensor([float(x) for x in capped_ref(th, k, True)], dtype=torch.float64)
        assert (p.double() - want).abs().max() <= 4 * torch.finfo(dtype).eps, (row, p, want)
        assert float(p.double().sum()) == pytest.approx(k, abs=8 * torch.finfo(dtype).eps)
        assert bool(((p >= 0) & (p <= 1)).all())
        y = torch.tensor([[1.0] * k + [0.0] * (len(row) - k)], dtype=dtype)
        ref = euclid_loss_ref(th, frac(y[0]), k, True)
        got = float(loss(theta, y)[0])
        assert got == pytest.approx(rounded(ref, dtype), rel=4 * torch.finfo(dtype).eps, abs=1e-3), row


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name,params", [("softmax", {}), ("entmax", {"alpha": 1.5}), ("entmax", {"alpha": 1.2})])
def test_smooth_and_entmax_maps_at_the_dtype_range(dtype, name, params):
    """Softmax (mpmath logsumexp) and α-entmax (mpmath bisection): HEAD gave NaN for
    softmax on [[3e38, −3e38]] with y = [1, 0] (true 0) and inf with y = [.5, .5]."""
    loss = get(name, **params)
    for row in extreme_rows(dtype):
        theta = torch.tensor([row], dtype=dtype)
        p = loss.predict(theta)[0].double()
        if name == "softmax":
            pref, lse = softmax_ref(theta[0].tolist())
        else:
            pref = entmax_ref(theta[0].tolist(), params["alpha"])
        assert (p - torch.tensor([float(x) for x in pref], dtype=torch.float64)).abs().max() <= 4 * torch.finfo(dtype).eps
        assert float(p.sum()) == pytest.approx(1, abs=4 * torch.finfo(dtype).eps)
        for lab in label_sets(len(row)).values():
            y = torch.tensor([lab], dtype=dtype)
            ys = [mpmath.mpf(float(v)) for v in y[0]]
            th = [mpmath.mpf(float(v)) for v in theta[0]]
            inner = mpmath.fsum(a * b for a, b in zip(th, ys))
            if name == "softmax":
                ref = lse + mpmath.fsum(v * mpmath.log(v) for v in ys if v > 0) - inner
            else:
                a = params["alpha"]
                conj = mpmath.fsum(t * q for t, q in zip(th, pref)) - tsallis_omega_ref(pref, a)
                ref = conj + tsallis_omega_ref(ys, a) - inner
            got = float(loss(theta, y)[0])
            assert got == pytest.approx(rounded(ref, dtype), rel=8 * torch.finfo(dtype).eps, abs=1e-6), (row, lab)


@pytest.mark.parametrize("name,params", [("softmax", {}), ("sparsemax", {}), ("entmax", {"alpha": 1.5}),
                                         ("rankmax", {"k": 2})])
def test_extreme_rows_leave_the_other_rows_and_the_gradient_right(name, params):
    """A batch mixing an extreme row with ordinary ones: the ordinary rows' loss is the one
    they have alone, and the gradient of every row is ŷ − y."""
    loss = get(name, **params)
    ordinary = torch.tensor([[0.3, -0.2, 1.0, 0.1]], dtype=torch.float32)
    theta = torch.cat([ordinary, torch.tensor([[3e38, -3e38, 0.0, 1.0]])]).requires_grad_()
    k = params.get("k", 1)
    y = torch.zeros(2, 4)
    y[:, :k] = 1.0 if k > 1 else 0.5
    if k == 1:
        y[:, 1] = 0.5
    out = loss(theta, y)
    assert torch.equal(out[0], loss(ordinary, y[:1])[0])
    out.sum().backward()
    assert torch.allclose(theta.grad, loss.predict(theta.detach()) - y, atol=1e-6)
    assert bool(torch.isfinite(out).all())


# ------------------------------------------------------------------ item 3: rankmax spread 2^53
@pytest.mark.parametrize("dtype,spread", [(torch.float64, 1e16), (torch.float64, 1e300),
                                          (torch.float32, 1e30), (torch.float32, 1e8)])
def test_rankmax_past_the_spread_of_the_mantissa(dtype, spread):
    """HEAD: predict on [[1e16, 0, 0]] (float64, k = 2) gave [1, 0, 0], Σ = 1, not k."""
    g = torch.Generator().manual_seed(5)
    for k in (2, 3):
        loss = get("rankmax", k=k)
        for _ in range(6):
            small = torch.rand(5, generator=g, dtype=torch.float64) * 1.5
            row = torch.cat([torch.tensor([spread], dtype=torch.float64), small]).to(dtype)
            theta = row[torch.randperm(6, generator=g)][None]
            want = torch.tensor([float(x) for x in capped_ref(frac(theta[0]), k, True)], dtype=torch.float64)
            for p in (loss.predict(theta)[0], capped_projection(theta, torch.tensor([k]))[0]):
                assert (p.double() - want).abs().max() <= 8 * torch.finfo(dtype).eps, (theta, p, want)
                assert float(p.double().sum()) == pytest.approx(k, abs=8 * torch.finfo(dtype).eps)
    p = get("rankmax", k=2).predict(torch.tensor([[1e16, 0.0, 0.0]], dtype=torch.float64))
    assert p.tolist() == [[1.0, 0.5, 0.5]]


# ------------------------------------------------------------------ item 4: α → 1
@pytest.mark.parametrize("gap", [1e-15, 1e-12, 1e-9, 1e-6, 1e-3])
def test_entmax_near_alpha_one_against_mpmath(gap):
    """HEAD: at α = 1 + 1e-15 predict was off softmax by 0.0105 (3.5e-6 at 1 + 1e-12)."""
    alpha = 1 + gap
    g = torch.Generator().manual_seed(11)
    theta = torch.randn(4, 7, generator=g, dtype=torch.float64) * 4
    loss = get("entmax", alpha=alpha)
    p = loss.predict(theta)
    y = torch.softmax(torch.randn(4, 7, generator=g, dtype=torch.float64), -1)
    got = loss(theta, y)
    for b in range(4):
        ref = entmax_ref(theta[b].tolist(), alpha)
        assert (p[b] - torch.tensor([float(x) for x in ref], dtype=torch.float64)).abs().max() <= 1e-14
        th = [mpmath.mpf(float(v)) for v in theta[b]]
        ys = [mpmath.mpf(float(v)) for v in y[b]]
        # Ω on Δ in its limit-stable form Σ p(p^{α−1} − 1)/(α(α−1)) (= (Σp^α − 1)/(α(α−1)) when Σp = 1)
        a = mpmath.mpf(alpha)
        om = lambda q: mpmath.fsum(v * mpmath.expm1((a - 1) * mpmath.log(v)) for v in q if v > 0) / (a * (a - 1))  # noqa: E731
        ref_l = mpmath.fsum(t * q for t, q in zip(th, ref)) - om(ref) + om(ys) - mpmath.fsum(t * v for t, v in zip(th, ys))
        assert float(got[b]) == pytest.approx(float(ref_l), abs=1e-12)


def test_entmax_at_the_smallest_alpha_is_softmax_to_rounding():
    theta = torch.tensor([[0.0, 3.0, -1.0, 2.5, 30.0, 29.0]], dtype=torch.float64)
    alpha = 1 + torch.finfo(torch.float64).eps
    assert (get("entmax", alpha=alpha).predict(theta) - torch.softmax(theta, -1)).abs().max() <= 1e-15


# ------------------------------------------------------------------ item 5: labels
@pytest.mark.parametrize("dtype,n", [(torch.float32, 100_000), (torch.float16, 64), (torch.float16, 100_000),
                                     (torch.float32, 1000)])
def test_invalid_labels_refused_at_large_n(dtype, n):
    """HEAD: float32 at n = 1e5 accepted y = [1.04, −0.04, 0, …] (loss −1.96); float16 at
    n = 64 accepted −0.25 (its tolerance was 4·n·ε)."""
    theta = torch.zeros(1, n, dtype=dtype)
    for bad in ([1.04, -0.04], [1.25, -0.25], [1.02, -0.02], [0.95], [0.5, 0.45]):
        y = torch.zeros(1, n, dtype=dtype)
        y[0, : len(bad)] = torch.tensor(bad, dtype=dtype)
        with pytest.raises(ValueError, match="target"):
            get("softmax")(theta, y)
        with pytest.raises(ValueError, match="target"):
            get("sparsemax")(theta, y)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("n", [2, 64, 1000, 100_000])
def test_normalized_labels_accepted(dtype, n):
    """Labels a user makes by normalizing, y = v / v.sum() in the dtype, lie in the domain."""
    g = torch.Generator().manual_seed(n)
    for v in (torch.rand(3, n, generator=g), torch.rand(3, n, generator=g) ** 8, torch.randn(3, n, generator=g).exp()):
        v = (v / n).to(dtype)  # Σv ≤ n·max/n: no overflow of a float16 sum
        y = v / v.sum(-1, keepdim=True)
        assert bool(get("softmax").regularizer.in_domain(y).all()), (dtype, n)
        out = get("softmax")(torch.zeros(3, n, dtype=dtype), y)
        assert bool(torch.isfinite(out).all())
    if n > 3:  # C_k: k labels at 1 / 2k labels at ½ (exact in every dtype)
        y = torch.zeros(2, n, dtype=dtype)
        y[0, :3], y[1, :6] = 1.0, 0.5
        assert bool(get("rankmax", k=3).regularizer.in_domain(y).all())


# ------------------------------------------------------------------ item 10: n = 1
@pytest.mark.parametrize("name,params,ref", [
    ("softmax", {}, lambda t: torch.softmax(t, -1)),
    ("sparsemax", {}, None), ("entmax", {"alpha": 1.5}, None), ("entmax", {"alpha": 1.3}, None),
    ("entmax", {"alpha": 1 + 1e-9}, None), ("rankmax", {"k": 1}, None)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_single_class(name, params, ref, dtype):
    """n = 1: ŷ = 1, loss 0, gradient 0, as torch.softmax and the entmax package
    (HEAD: ValueError)."""
    import entmax

    theta = torch.tensor([[0.3], [-2.0], [1e30]], dtype=dtype, requires_grad=True)
    loss = get(name, **params)
    p = loss.predict(theta.detach())
    package = {"softmax": torch.softmax, "sparsemax": entmax.sparsemax, "entmax": entmax.entmax15}[
        "sparsemax" if name == "rankmax" else name]
    assert torch.equal(p, package(theta.detach(), -1) if name != "softmax" else torch.softmax(theta.detach(), -1))
    assert p.tolist() == [[1.0]] * 3
    for target in (torch.zeros(3, dtype=torch.long), torch.ones(3, 1, dtype=dtype)):
        out = loss(theta, target)
        assert out.tolist() == [0.0] * 3
        (g,) = torch.autograd.grad(out.sum(), theta)
        assert g.tolist() == [[0.0]] * 3
    assert entmax.Entmax15Loss(reduction="none")(theta.detach().float(), torch.zeros(3, dtype=torch.long)).tolist() == [0.0] * 3


def test_rankmax_k_equal_n():
    """k = n: C_n = {1}, one point (as n = 1 for the simplex): ŷ = 1, loss 0."""
    theta = torch.tensor([[0.3, -2.0, 5.0], [1e16, 0.0, 1.0]], dtype=torch.float64, requires_grad=True)
    loss = get("rankmax", k=3)
    assert loss.predict(theta.detach()).tolist() == [[1.0] * 3] * 2
    out = loss(theta, torch.ones(2, 3, dtype=torch.float64))
    assert out.tolist() == [0.0, 0.0]
    (g,) = torch.autograd.grad(out.sum(), theta)
    assert g.abs().max() == 0
    assert capped_projection(theta.detach(), torch.tensor([3, 3])).tolist() == [[1.0] * 3] * 2
    assert get("rankmax", k=1).predict(torch.tensor([[4.0]])).tolist() == [[1.0]]


# ------------------------------------------------------------------ rankmax in half precision
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("row,k", [([1000.0, 0.3, 0.1, 0.0], 2), ([1000.0, 900.0, 0.3, 0.1, 0.0], 3)])
def test_rankmax_in_half_precision_with_a_leading_score(dtype, row, k):
    """Ordinary scores, one far ahead: ŷ ≈ [1, .5, .3, .2] (k = 2).  Found by
    tests/test_fuzz_exact.py; HEAD solved such rows in the frame of the maximum (θ_[k+1] within
    2^10 of it), where θ − max θ loses the free scores in half precision: float16 gave
    [1, .667, .167, .167], bfloat16 [1, .334, .334, .334]."""
    theta = torch.tensor([row], dtype=dtype)
    loss = get("rankmax", k=k)
    th = frac(theta[0])
    want = torch.tensor([float(x) for x in capped_ref(th, k, True)], dtype=torch.float64)
    p = loss.predict(theta)[0].double()
    assert (p - want).abs().max() <= 4 * torch.finfo(dtype).eps, (p, want)
    y = torch.tensor([[1.0] * k + [0.0] * (len(row) - k)], dtype=dtype)
    got = float(loss(theta, y)[0])
    assert got == pytest.approx(rounded(euclid_loss_ref(th, frac(y[0]), k, True), dtype),
                                rel=4 * torch.finfo(dtype).eps, abs=4 * torch.finfo(dtype).eps)
