"""PyTorch's conventions for the exact family (issue 14): −inf masks a class, the
prediction maps are differentiable with their closed-form Jacobians, and the class
dimension is ``dim``.  Ground truth comes from elsewhere: the same problem with the
masked classes dropped, ``torch.softmax`` / ``F.cross_entropy``, the ``entmax``
package, and finite differences (``gradcheck``)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from losses import get

LOSSES = [("softmax", {}), ("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("entmax", {"alpha": 1.25}),
          ("entmax", {"alpha": 2.5}), ("rankmax", {"k": 1}), ("rankmax", {"k": 2})]
IDS = [n + "".join(f"-{k}{v}" for k, v in kw.items()) for n, kw in LOSSES]
NEG = -math.inf


@st.composite
def masked_case(draw, k: int):
    """Scores (n,) with a mask: at least k + 1 finite entries (the dropped problem needs
    k ≤ n' − 1), at least one masked, scale up to 1e4 (float32 must stay exact)."""
    n = draw(st.integers(k + 2, 10))
    keep = draw(st.integers(k + 1, n - 1))
    scale = draw(st.sampled_from([1.0, 10.0, 1e4]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1, n) * scale
    if draw(st.booleans()):  # ties
        theta[: n // 2] = theta[0]
    masked = np.zeros(n, bool)
    masked[rng.choice(n, n - keep, replace=False)] = True
    return theta, masked


def _label(loss, n, keep_idx, rng, dtype):
    """A target on unmasked classes only: an index (k = 1 maps) or a multi-hot vector."""
    k = loss.regularizer.params().get("k", 1)
    if k == 1:
        return int(rng.choice(keep_idx))
    y = torch.zeros(n, dtype=dtype)
    y[rng.choice(keep_idx, k, replace=False)] = 1
    return y


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_masking_a_class_equals_dropping_it(name, kw, dtype):
    loss = get(name, **kw)
    k = kw.get("k", 1)
    tol = 1e-12 if dtype == torch.float64 else 1e-6

    @settings(max_examples=40, derandomize=True, deadline=None, database=None)
    @given(masked_case(k))
    def prop(case):
        theta, masked = case
        n = theta.size
        keep = np.flatnonzero(~masked)
        full = torch.tensor(np.where(masked, NEG, theta), dtype=dtype)[None]
        part = torch.tensor(theta[keep], dtype=dtype)[None]
        p, p0 = loss.predict(full)[0], loss.predict(part)[0]
        assert bool(torch.isfinite(p).all())
        assert float(p[torch.from_numpy(masked)].abs().max()) == 0.0
        scale = max(1.0, float(np.abs(theta[keep]).max()))
        assert float((p[keep] - p0).abs().max()) <= tol * scale
        rng = np.random.default_rng(n)
        y = _label(loss, n, keep, rng, dtype)
        if isinstance(y, int):
            yf, y0 = torch.tensor([y]), torch.tensor([int(np.searchsorted(keep, y))])
        else:
            yf, y0 = y[None], y[keep][None]
        lf, l0 = loss(full, yf), loss(part, y0)
        assert bool(torch.isfinite(lf).all())
        assert abs(float(lf - l0)) <= tol * scale ** 2 * n
        t = full.clone().requires_grad_(True)
        loss(t, yf).sum().backward()
        assert bool(torch.isfinite(t.grad).all()) and float(t.grad[0, torch.from_numpy(masked)].abs().max()) == 0.0

    prop()


@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_bad_scores_and_labels_on_masked_classes_raise(name, kw):
    loss = get(name, **kw)
    k = kw.get("k", 1)
    theta = torch.randn(2, 5, dtype=torch.float64)
    for bad, what in ((math.nan, "NaN"), (math.inf, r"\+inf")):
        t = theta.clone()
        t[0, 1] = bad
        with pytest.raises(ValueError, match=f"theta.*{what}"):
            loss.predict(t)
    t = theta.clone()
    t[1] = NEG
    with pytest.raises(ValueError, match="theta.*row"):
        loss.predict(t)
    t = theta.clone()
    t[:, 0] = NEG
    if k == 1:
        with pytest.raises(ValueError, match="target.*masked"):
            loss(t, torch.tensor([0, 2]))
    y = torch.zeros(2, 5, dtype=torch.float64)
    y[:, :k] = 1
    with pytest.raises(ValueError, match="target.*masked"):
        loss(t, y)
    if name == "rankmax" and k > 1:
        t = theta.clone()
        t[:, k - 1:] = NEG  # only k − 1 finite scores left: mass k cannot be carried
        with pytest.raises(ValueError, match="fewer than k"):
            loss.predict(t)


def test_softmax_masks_match_torch_and_cross_entropy_with_dim():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 7, 3, generator=g, dtype=torch.float64)
    x[0, 2, 1] = NEG
    x[3, :5, 0] = NEG
    y = torch.randint(0, 7, (4, 3), generator=g)
    y[0, 1], y[3, 0] = 3, 6
    loss = get("softmax")
    assert torch.allclose(loss.predict(x, dim=1), torch.softmax(x, dim=1), atol=1e-15)
    assert torch.allclose(loss(x, y, dim=1), F.cross_entropy(x, y, reduction="none"), atol=1e-12)
    a = x.clone().requires_grad_(True)
    b = x.clone().requires_grad_(True)
    loss(a, y, dim=1).sum().backward()
    F.cross_entropy(b, y, reduction="sum").backward()
    assert torch.allclose(a.grad, b.grad, atol=1e-12)


@pytest.mark.parametrize("name,fn", [("sparsemax", "sparsemax"), ("entmax15", "entmax15")])
def test_sparse_masks_match_the_entmax_package(name, fn):
    pkg = pytest.importorskip("entmax")
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 9, generator=g, dtype=torch.float64) * 3
    x[:, 6:] = NEG
    x[2, :4] = NEG
    ours = get("sparsemax") if name == "sparsemax" else get("entmax", alpha=1.5)
    theirs = getattr(pkg, fn)(x, dim=-1)
    assert torch.allclose(ours.predict(x), theirs, atol=1e-12)
    assert torch.allclose(ours.predict(x.T, dim=0), theirs.T, atol=1e-12)


@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_prediction_maps_pass_gradcheck_in_float64(name, kw):
    loss = get(name, **kw)
    g = torch.Generator().manual_seed(2)
    for scale in (0.5, 3.0):
        theta = (torch.randn(3, 6, generator=g, dtype=torch.float64) * scale).requires_grad_(True)
        assert torch.autograd.gradcheck(loss.predict, (theta,), eps=1e-6, atol=1e-7)
    masked = torch.randn(2, 6, generator=g, dtype=torch.float64)
    masked[:, :2] = NEG
    masked.requires_grad_(True)
    out = loss.predict(masked)
    (grad,) = torch.autograd.grad((out * torch.randn_like(out)).sum(), masked)
    assert bool(torch.isfinite(grad).all()) and float(grad[:, :2].abs().max()) == 0.0


@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_map_jacobian_is_the_closed_form(name, kw):
    """The backward of predict is the stated closed form (and not autograd through a
    solver): J = diag(p) − ppᵀ for softmax, the projection on the free set for the
    Euclidean maps, diag(s) − ssᵀ/Σs with s = p^{2−α} for α-entmax."""
    loss = get(name, **kw)
    theta = torch.tensor([[1.3, 0.2, -0.4, 1.1, 0.05, -2.0]], dtype=torch.float64, requires_grad=True)
    p = loss.predict(theta)[0].detach()
    J = torch.stack([torch.autograd.grad(loss.predict(theta)[0, i], theta)[0][0] for i in range(6)])
    if name == "softmax":
        ref = torch.diag(p) - torch.outer(p, p)
    elif name == "entmax":
        a = kw["alpha"]
        s = torch.where(p > 0, p ** (2 - a), torch.zeros_like(p))
        ref = torch.diag(s) - torch.outer(s, s) / s.sum()
    else:
        s = ((p > 0) & (p < 1)).double()
        ref = torch.diag(s) - torch.outer(s, s) / max(1.0, float(s.sum()))
    assert torch.allclose(J, ref, atol=1e-12)


@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_dim_argument_moves_the_class_dimension(name, kw):
    loss = get(name, **kw)
    k = kw.get("k", 1)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    last = x.movedim(1, -1)
    assert torch.equal(loss.predict(x, dim=1), loss.predict(last).movedim(-1, 1))
    assert torch.equal(loss.conjugate(x, dim=1), loss.conjugate(last))
    y = torch.zeros_like(last)
    y[..., :k] = 1
    assert torch.equal(loss(x, y.movedim(-1, 1), dim=1), loss(last, y))
    if k == 1:
        idx = torch.randint(0, 6, (2, 4), generator=g)
        assert torch.equal(loss(x, idx, dim=1), loss(last, idx))


@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_extreme_float32_scores_with_masks_stay_finite(name, kw):
    loss = get(name, **kw)
    k = kw.get("k", 1)
    x = torch.tensor([[1e4, -1e4, 9999.5, NEG, 0.0, -9999.0]], dtype=torch.float32)
    p = loss.predict(x)
    assert bool(torch.isfinite(p).all()) and float(p[0, 3]) == 0.0
    assert abs(float(p.sum()) - k) <= 1e-5
    y = torch.zeros_like(x)
    y[0, [0, 2][:k]] = 1
    t = x.clone().requires_grad_(True)
    loss(t, y).sum().backward()
    assert bool(torch.isfinite(t.grad).all())


@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_labels_outside_the_prediction_slice_give_the_dense_loss(name, kw):
    """Multi-hot / soft labels far below the top-K slice of ŷ take the dense route
    (Ω*(θ) − ⟨θ, y⟩ + Ω(y)); it must agree with the float64 formula entry by entry, and
    ŷ itself as the label must give exactly 0 (the slice route)."""
    loss = get(name, **kw)
    k = kw.get("k", 1)
    g = torch.Generator().manual_seed(4)
    theta = torch.randn(3, 400, generator=g, dtype=torch.float64) * 2
    y = torch.zeros_like(theta)
    low = theta.argsort(-1)[:, :k + 2]  # the lowest scores: far outside any slice
    y.scatter_(-1, low[:, :k], 1.0)
    if k == 1:
        y[:, low[0, 0]] = 0.0
        y = torch.zeros_like(theta).scatter_(-1, low[:, :2], 0.5)  # a soft label on two classes
    p = loss.predict(theta)
    ref = loss.conjugate(theta) - (theta * y).sum(-1) + loss.regularizer._omega(y)
    assert torch.allclose(loss(theta, y), ref, atol=1e-10)
    assert float(loss(theta, p).abs().max()) == 0.0
