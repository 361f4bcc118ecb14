"""The losses/ package against independent references: closed forms, a plain
float64 bisection for the threshold, and autograd; plus the input contract."""
import math

import pytest
import torch

from losses import get

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
SIMPLEX = [("softmax", {}), ("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("entmax", {"alpha": 1.3}),
           ("entmax", {"alpha": 2.0}), ("entmax", {"alpha": 3.0})]
ALL = SIMPLEX + [("rankmax", {"k": 1}), ("rankmax", {"k": 3})]


def reference_predict(name: str, params: dict, theta: torch.Tensor) -> torch.Tensor:
    """ŷ by plain bisection on τ in float64 (200 halvings), independent of losses/projections."""
    x = theta.double()
    if name == "softmax" or (name == "entmax" and params["alpha"] == 1):
        return torch.softmax(x, -1)
    if name == "rankmax":
        f, mass = (lambda t: (x - t).clamp(0, 1)), params["k"]
    else:
        a = params.get("alpha", 2.0)
        f, mass = (lambda t: ((a - 1) * (x - t)).clamp_min(0) ** (1 / (a - 1))), 1
    lo = x.min(-1, keepdim=True).values - 2 * max(1, params.get("k", 1)) - 10
    hi = x.max(-1, keepdim=True).values
    for _ in range(200):
        mid = (lo + hi) / 2
        big = f(mid).sum(-1, keepdim=True) >= mass
        lo, hi = torch.where(big, mid, lo), torch.where(big, hi, mid)
    p = f(lo)
    return p * (mass / p.sum(-1, keepdim=True))


def fy_reference(name, params, theta, y):
    """L = ⟨θ, ŷ − y⟩ − Ω(ŷ) + Ω(y) in float64 from the reference ŷ."""
    loss = get(name, **params)
    p = reference_predict(name, params, theta)
    x = theta.double()
    om = loss.regularizer._omega
    return ((x * (p - y)).sum(-1) - om(p) + om(y))


@pytest.mark.parametrize("name,params", ALL)
@pytest.mark.parametrize("n", [2, 3, 17, 300])
def test_predict_matches_reference(name, params, n):
    if name == "rankmax" and params["k"] >= n:
        pytest.skip("k must be < n")
    g = torch.Generator().manual_seed(n)
    theta = torch.randn(8, n, generator=g, dtype=torch.float64) * torch.tensor([0.01, 0.3, 1, 3, 10, 100, 1e3, 1e4],
                                                                              dtype=torch.float64)[:, None]
    theta[0] = 0.5  # exact ties
    theta[1, : n // 2] = theta[1, 0]  # a block of ties at one value
    p = get(name, **params).predict(theta)
    assert torch.allclose(p, reference_predict(name, params, theta), atol=1e-9, rtol=0)


@pytest.mark.parametrize("name,params", ALL)
def test_large_support_grows_the_slice(name, params):
    """Supports larger than the first top-K slice (64) must be solved exactly too."""
    n = 5000
    theta = torch.linspace(0, 1e-3, n, dtype=torch.float64).repeat(3, 1)
    theta[1] = 0.0
    theta[2, :200] = 7.0
    p = get(name, **params).predict(theta)
    assert torch.allclose(p, reference_predict(name, params, theta), atol=1e-12, rtol=0)


def test_n2_closed_forms():
    t = torch.tensor([[0.3, -0.1], [5.0, 0.0], [0.0, 0.0], [-2.0, -1.5]], dtype=torch.float64)
    d = t[:, 0] - t[:, 1]
    sp = get("sparsemax").predict(t)[:, 0]
    assert torch.allclose(sp, ((d + 1) / 2).clamp(0, 1))
    assert torch.allclose(get("softmax").predict(t)[:, 0], torch.sigmoid(d))
    # entmax-1.5 on two classes: p1 − p2 solves p1 = ((d/2 + τ')...)²; check the defining equations instead
    p = get("entmax", alpha=1.5).predict(t)
    assert torch.allclose(p.sum(-1), torch.ones(4, dtype=torch.float64))
    both = (p > 0).all(-1)
    assert torch.allclose((p[both].sqrt() * 2).diff(dim=-1).squeeze(-1), -d[both])  # 2√p₁ − 2√p₂ = θ₁ − θ₂


@pytest.mark.parametrize("name,params", ALL)
@pytest.mark.parametrize("device", DEVICES)
def test_index_and_vector_targets_agree_and_gradient_is_yhat_minus_y(name, params, device):
    k = params.get("k", 1)
    loss = get(name, **params)
    g = torch.Generator().manual_seed(1)
    theta = (torch.randn(6, 9, generator=g, dtype=torch.float64) * 2).to(device).requires_grad_(True)
    y = torch.zeros(6, 9, dtype=torch.float64, device=device)
    labels = torch.stack([torch.randperm(9, generator=g)[:k] for _ in range(6)]).to(device)
    y.scatter_(1, labels, 1.0)
    L = loss(theta, y)
    (grad,) = torch.autograd.grad(L.sum(), theta)
    assert torch.allclose(grad, loss.predict(theta) - y, atol=1e-12)
    assert torch.allclose(L, fy_reference(name, params, theta.detach(), y).to(device), atol=1e-9)
    if k == 1:
        L2 = loss(theta, labels[:, 0])
        assert torch.allclose(L, L2, atol=1e-12)
        (grad2,) = torch.autograd.grad(L2.sum(), theta)
        assert torch.allclose(grad, grad2, atol=1e-12)


@pytest.mark.parametrize("name,params", SIMPLEX + [("rankmax", {"k": 1})])
def test_extreme_float32_scores(name, params):
    """|θ| up to 1e4 in float32: finite losses and gradients, equal to the float64 result."""
    theta = torch.tensor([[1e4, -1e4, 0.0, 5e3], [1e4, 1e4, 1e4 - 0.5, -1e4], [-1e4, -1e4, -1e4, -1e4],
                          [3.0, 1e4, -1e4, 1e4]], dtype=torch.float32, requires_grad=True)
    y = torch.tensor([1, 2, 0, 3])
    loss = get(name, **params)
    L = loss(theta, y)
    L.sum().backward()
    assert torch.isfinite(L).all() and torch.isfinite(theta.grad).all()
    ref = fy_reference(name, params, theta.detach().double(), torch.nn.functional.one_hot(y, 4).double())
    assert torch.allclose(L.double(), ref, rtol=1e-6, atol=1e-3)
    assert L[2] >= 0 and torch.allclose(L[2].double(), ref[2])


@pytest.mark.parametrize("name,params", ALL)
def test_shapes_and_dtypes(name, params):
    loss = get(name, **params)
    theta = torch.randn(2, 3, 7, dtype=torch.float64)
    p = loss.predict(theta)
    assert p.shape == theta.shape and p.dtype == theta.dtype
    assert torch.allclose(p[1, 2], loss.predict(theta[1, 2]))
    assert torch.allclose(loss.predict(theta.float()).double(), p, atol=1e-6)
    assert loss.conjugate(theta).shape == (2, 3)


def test_all_equal_scores_give_the_barycentre():
    theta = torch.full((1, 10), 3.25)
    for name, params in SIMPLEX:
        assert torch.allclose(get(name, **params).predict(theta), torch.full((1, 10), 0.1))
    assert torch.allclose(get("rankmax", k=4).predict(theta), torch.full((1, 10), 0.4))


def test_entmax_limits():
    theta = torch.randn(4, 12, dtype=torch.float64)
    assert torch.allclose(get("entmax", alpha=1).predict(theta), torch.softmax(theta, -1))
    assert torch.allclose(get("entmax", alpha=2).predict(theta), get("sparsemax").predict(theta))
    assert torch.allclose(get("rankmax", k=1).predict(theta), get("sparsemax").predict(theta))


BAD = [
    (lambda: get("entmax", alpha=0.5), "alpha"),
    (lambda: get("entmax", alpha=float("nan")), "alpha"),
    (lambda: get("entmax", alpha="x"), "alpha"),
    (lambda: get("rankmax"), "k"),
    (lambda: get("rankmax", k=0), "k"),
    (lambda: get("rankmax", k=2.5), "k"),
    (lambda: get("rankmax", k=2, scale="weird"), "scale"),
    (lambda: get("nope"), "name"),
    (lambda: get("softmax", alpha=2), "softmax"),
    (lambda: get("rankmax", k=6).predict(torch.zeros(3, 5)), "k"),
    (lambda: get("sparsemax").predict(torch.tensor([[1.0, float("nan")]])), "theta"),
    (lambda: get("sparsemax").predict(torch.tensor([[1.0, float("inf")]])), "theta"),
    (lambda: get("sparsemax").predict(torch.zeros(3, 0)), "theta"),
    (lambda: get("sparsemax").predict(torch.zeros(3, 4, dtype=torch.long)), "theta"),
    (lambda: get("sparsemax")(torch.zeros(3, 4), torch.tensor([0, 1, 4])), "target"),
    (lambda: get("sparsemax")(torch.zeros(3, 4), torch.tensor([0, -1, 2])), "target"),
    (lambda: get("sparsemax")(torch.zeros(3, 4), torch.tensor([0, 1])), "target"),
    (lambda: get("sparsemax")(torch.zeros(3, 4), torch.full((3, 4), 0.5)), "target"),
    (lambda: get("softmax")(torch.zeros(1, 3), torch.tensor([[1.2, -0.2, 0.0]])), "target"),
    (lambda: get("softmax")(torch.zeros(1, 3), torch.tensor([[float("nan"), 1.0, 0.0]])), "target"),
    (lambda: get("rankmax", k=2)(torch.zeros(1, 4), torch.tensor([[1.5, 0.5, 0.0, 0.0]])), "target"),
    (lambda: get("rankmax", k=2)(torch.zeros(1, 4), torch.tensor([1])), "target"),
    (lambda: get("sparsemax").omega(torch.tensor([[0.5, 0.6]])), "p"),
]


@pytest.mark.parametrize("call,arg", BAD)
def test_bad_input_raises_value_error_naming_the_argument(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()


def test_rankmax_adaptive_scale_r2():
    """R2: the scale is the sharpest one at which every label keeps positive mass."""
    loss = get("rankmax", k=2, scale="adaptive")
    theta = torch.tensor([[3.0, 0.0, 1.0, -1.0, 2.5]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0]], dtype=torch.float64)  # item 2 is only third by score
    a = loss.scale(theta, y)
    r1 = get("rankmax", k=2)
    p_at = r1.predict(theta.detach() * a)
    p_above = r1.predict(theta.detach() * a * 1.001)
    assert p_at[0, 2] >= 0 and p_above[0, 2] == 0  # a is the boundary for the weakest label
    assert r1.predict(theta.detach() * a * 0.999)[0, 2] > 0
    L = loss(theta, y)
    (grad,) = torch.autograd.grad(L.sum(), theta)
    assert torch.allclose(grad, a * (p_at - y), atol=1e-9)
    top = torch.tensor([[1.0, 0.0, 0.0, 0.0, 1.0]], dtype=torch.float64)  # labels are the top 2: scale hits a_max
    assert math.isclose(float(loss.scale(theta, top)), loss.a_max, rel_tol=1e-9)


def test_rankmax_exact_zero_when_labels_clear_the_margin():
    """Regressions: τ on a rounded breakpoint gave ŷ_i = 1 − 1e-12 and L = 7e-9 at margin 4.3;
    the slice-ordered conjugate gave L = −2e-16 when ŷ = y."""
    th = torch.tensor([[3147.270426173861, -11837.084044289595, -2853.187412542514, 5041.383234662204,
                        -2855.5125303687028, -2848.8729357576262]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0, 0, 1, 0, 1]], dtype=torch.float64)
    assert torch.equal(get("rankmax", k=3).predict(th), y)
    assert get("rankmax", k=3)(th, y).item() == 0.0
    th2 = torch.tensor([[-0.01836, 0.98164 + 1e-6, 1.74418]], dtype=torch.float64)
    assert get("rankmax", k=2)(th2, torch.tensor([[0.0, 1, 1]], dtype=torch.float64)).item() == 0.0


def test_softmax_loss_keeps_tiny_values_at_wide_margins():
    """L(θ; e_y) = log1p(Σ_{j≠y} e^{θ_j − θ_y}) stays positive far beyond logsumexp − θ_y's ≈ 36."""
    th = torch.tensor([[40.0, 0.0, 0.0], [700.0, 0.0, -3.0]], dtype=torch.float64)
    L = get("softmax")(th, torch.tensor([0, 0]))
    expect = torch.log1p(torch.exp(-th[:, 0:1] + th[:, 1:]).sum(-1))
    assert (L > 0).all() and torch.allclose(L, expect, rtol=1e-14, atol=0)


def test_rankmax_flat_segment_found_by_counts_not_rounded_mass():
    """Regression: at margin 1 + 1e-3 the rounded mass at z_i − 1 missed the flat segment and
    left ŷ_1 = 4.4e-16 and L = −8.9e-16 (FY-3 rankmax, found by the margin check)."""
    th = torch.tensor([[-0.0751347019464, 0.100338399553, 1.10133839955, 0.061379199789, -0.0167782777837,
                        -0.216147871928, 0.026840630577, 0.000516318635438, -0.142884397796, 2.10851271198]],
                      dtype=torch.float64)
    y = torch.zeros(1, 10, dtype=torch.float64)
    y[0, [2, 9]] = 1.0
    assert torch.equal(get("rankmax", k=2).predict(th), y)
    assert get("rankmax", k=2)(th, y).item() == 0.0
