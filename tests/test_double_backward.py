"""Second derivatives and label gradients of the exact FY losses (issue 22, item 1).

The losses' backward is itself differentiable: ``∇²_θ L = J_ŷ(θ)`` (the prediction map's
Jacobian), label vectors that require grad get ``∂L̃/∂y = ∇Ω(y) − θ + Ω*(θ)/s`` (the
extension of L off its domain that torch's soft-target cross-entropy uses; losses/fy_grad.py),
masked classes (θ = −inf) included.  Ground truth from independent routes: finite
differences of the first-order gradient (``gradgradcheck``, ``gradcheck``, central
differences), ``F.cross_entropy`` and ``F.kl_div`` through torch's own autograd.  Scores
are seeded and kept away from the sparse maps' kinks (every class's distance to the
threshold at least 1e-3, far above the 1e-6 steps of the finite differences)."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd import gradcheck, gradgradcheck

from losses import get

D = torch.float64
NEG = -math.inf
LOSSES = [("softmax", {}), ("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("entmax", {"alpha": 1.2}),
          ("entmax", {"alpha": 2.0}), ("rankmax", {"k": 2})]
IDS = [n + "".join(f"-{k}{v}" for k, v in kw.items()) for n, kw in LOSSES]
SPARSE = LOSSES[1:]
SPARSE_IDS = IDS[1:]
# the top-K slice (projections.solve_topk) serves rankmax and α ∉ {1.5, 2} on long rows
SLICED = [("entmax", {"alpha": 1.2}), ("rankmax", {"k": 2})]
SLICED_IDS = ["entmax-alpha1.2", "rankmax-k2"]


def _kink_distance(name: str, kw: dict, theta: Tensor, p: Tensor) -> float:
    """Smallest distance of a finite score to a kink of the map (ŷ_i entering or leaving
    the support, or reaching 1 for rankmax), in the map's own coordinates."""
    fin = torch.isfinite(theta)
    if name == "softmax":
        return math.inf
    if name == "rankmax":
        free = (p > 0) & (p < 1)
        if not bool(free.any(-1).all()):
            return 0.0  # want a free entry in every row (else the Hessian is 0)
        j = torch.where(free, p, -1.0).argmax(-1, keepdim=True)
        tau = theta.gather(-1, j) - p.gather(-1, j)
        d = torch.minimum((theta - tau).abs(), (theta - tau - 1).abs())
    else:
        a = kw.get("alpha", 2.0)
        t = (a - 1) * theta
        j = p.argmax(-1, keepdim=True)
        tau = t.gather(-1, j) - p.gather(-1, j).pow(a - 1)
        d = (t - tau).abs()
    return float(d[fin].min())


def _case(name: str, kw: dict, B: int, n: int, masked: bool, scale: float = 1.0):
    """Seeded scores (B, n) in float64 away from kinks, with at least two classes in the
    support of every row (so the Hessian is not trivially 0), and the row masks."""
    loss = get(name, **kw)
    for seed in range(200):
        g = torch.Generator().manual_seed(seed)
        theta = torch.randn(B, n, generator=g, dtype=D) * scale
        if masked:
            theta[0, 1] = theta[0, n - 2] = NEG
            theta[B - 1, 0] = NEG
        p = loss.predict(theta)
        if bool(((p > 0).sum(-1) >= 2).all()) and _kink_distance(name, kw, theta, p) > 1e-3:
            return loss, theta, torch.isfinite(theta)
    raise AssertionError("no seed away from the kinks")  # pragma: no cover


def _labels(z: Tensor, keep: Tensor, mass: float) -> Tensor:
    """A point of the domain from free parameters z > 0 (zero on masked classes); entries
    stay below 1 for the capped simplex with these sizes."""
    w = z * keep
    return mass * w / w.sum(-1, keepdim=True)


def _z(B: int, n: int, seed: int) -> Tensor:
    g = torch.Generator().manual_seed(1000 + seed)
    return 1.0 + 0.5 * torch.rand(B, n, generator=g, dtype=D)


def _scale(name: str, n: int) -> float:
    # entmax 1.2 is nearly dense at unit scale: on long rows, wider scores keep its support
    # inside the top-K slice
    return 8.0 if name == "entmax" and n > 20 else 1.0


# -- gradgradcheck of every loss -----------------------------------------------------------
def _with_targets(losses, ids):
    """(name, kw, target) for each loss: class indices are one-hot labels, in C_k only for k = 1."""
    return [pytest.param(n, kw, t, id=f"{i}-{t}") for (n, kw), i in zip(losses, ids)
            for t in ("index", "labels", "labels-grad") if not (t == "index" and kw.get("k", 1) != 1)]


def _gradgradcheck_loss(name, kw, target, masked, B, n):
    loss, theta, keep = _case(name, kw, B, n, masked, _scale(name, n))
    mass = float(kw.get("k", 1))
    theta.requires_grad_(True)
    if target == "index":
        idx = torch.where(keep, torch.rand(B, n, generator=torch.Generator().manual_seed(7), dtype=D), -1.0).argmax(-1)
        assert gradgradcheck(lambda t: loss(t, idx), (theta,))
    elif target == "labels":
        z = _z(B, n, 1)
        z[:, 2] = 0.0  # an unlabelled class (boundary of the domain; y is a constant here)
        y = _labels(z, keep, mass)
        assert gradgradcheck(lambda t: loss(t, y), (theta,))
    else:
        z = _z(B, n, 2).requires_grad_(True)
        assert gradgradcheck(lambda t, w: loss(t, _labels(w, keep, mass)), (theta, z))


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("name,kw,target", _with_targets(LOSSES, IDS))
def test_gradgradcheck_loss(name, kw, target, masked):
    _gradgradcheck_loss(name, kw, target, masked, 3, 6)


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("name,kw,target", [p for p in _with_targets(SLICED, SLICED_IDS) if p.values[2] != "labels"])
def test_gradgradcheck_loss_on_the_topk_slice(name, kw, target, masked):
    """Long rows: index targets and label vectors that require grad (which covers θ too)."""
    B, n = 1, 68  # K = 64 columns of the slice
    loss, theta, _ = _case(name, kw, B, n, masked, _scale(name, n))
    sol = loss.solve(theta)
    assert sol.index is not None and sol.index.shape[1] < n  # the sliced path is the one tested
    _gradgradcheck_loss(name, kw, target, masked, B, n)


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_gradgradcheck_predict(name, kw, masked):
    loss, theta, _ = _case(name, kw, 3, 6, masked)
    assert gradgradcheck(loss.predict, (theta.requires_grad_(True),))


# -- label gradient ------------------------------------------------------------------------
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_label_gradient_gradcheck(name, kw, masked):
    loss, theta, keep = _case(name, kw, 3, 6, masked)
    mass = float(kw.get("k", 1))
    z = _z(3, 6, 3).requires_grad_(True)
    assert gradcheck(lambda t, w: loss(t, _labels(w, keep, mass)), (theta.requires_grad_(True), z))


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_softmax_label_gradient_is_torch_kl_div(masked):
    """softmax's L is KL(y ‖ softmax θ) = F.kl_div(F.log_softmax(θ), y); its target gradient
    through torch's autograd is log y + 1 − log_softmax(θ) = (F.cross_entropy's target
    gradient) + log y + 1, and the Hessian in (θ, y) is the same (L̃ of losses/fy_grad.py)."""
    loss, theta, keep = _case("softmax", {}, 4, 7, masked)
    y = _labels(_z(4, 7, 4), keep, 1.0)
    ours = torch.autograd.grad(loss(theta, y.requires_grad_(True)).sum(), y)[0]
    if masked:  # the reference on the unmasked classes only (a masked class is not part of the problem)
        for b in range(4):
            th_b, y_b = theta[b, keep[b]], y[b, keep[b]].detach().requires_grad_(True)
            ref = torch.autograd.grad(F.kl_div(F.log_softmax(th_b, -1), y_b, reduction="sum"), y_b)[0]
            torch.testing.assert_close(ours[b, keep[b]], ref, rtol=0, atol=1e-12)
        assert bool((ours[~keep] == 0).all())
        return
    yk = y.detach().requires_grad_(True)
    ref = torch.autograd.grad(F.kl_div(F.log_softmax(theta, -1), yk, reduction="sum"), yk)[0]
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    ce = torch.autograd.grad(F.cross_entropy(theta, yk, reduction="sum"), yk)[0]
    torch.testing.assert_close(ours - (yk.detach().log() + 1), ce, rtol=0, atol=1e-12)
    f1 = lambda t, w: loss(t, w).sum()
    f2 = lambda t, w: F.kl_div(F.log_softmax(t, -1), w, reduction="sum")
    H1 = torch.autograd.functional.hessian(f1, (theta, y.detach()))
    H2 = torch.autograd.functional.hessian(f2, (theta, y.detach()))
    for r1, r2 in zip(H1, H2):
        for a, b in zip(r1, r2):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name,kw", LOSSES, ids=IDS)
def test_label_gradient_on_the_boundary(name, kw):
    """The stated convention where y_i = 0: Shannon's one-sided slope −inf, Tsallis 0,
    the Euclidean maps y_i = 0; a masked class 0; the other entries as in the interior,
    ∇Ω(y) − (θ − m) + Ω*(θ − m)/s (Ω* from the loss itself: L(θ; y) − Ω(y) + ⟨θ − m, y⟩)."""
    loss, theta, keep = _case(name, kw, 2, 6, True)
    mass = float(kw.get("k", 1))
    z = _z(2, 6, 5)
    z[:, 2] = 0.0  # an unmasked class without label mass
    y = _labels(z, keep, mass).requires_grad_(True)
    L = loss(theta, y)
    gy = torch.autograd.grad(L.sum(), y)[0]
    m = theta.amax(-1, keepdim=True)
    yd = y.detach()
    c = torch.where(keep, theta - m, 0.0)
    conj = L.detach() - loss.omega(yd) + (c * yd).sum(-1)
    if name == "softmax":
        grad_omega = yd.log() + 1
    elif name == "entmax":
        a = kw["alpha"]
        grad_omega = yd.pow(a - 1) / (a - 1)
    else:
        grad_omega = yd
    expect = torch.where(keep, grad_omega - c + conj[:, None] / mass, 0.0)
    assert bool((gy[~keep] == 0).all())
    if name == "softmax":
        assert bool((gy[:, 2] == NEG).all())
    torch.testing.assert_close(gy[:, [0, 3, 4, 5]][keep[:, [0, 3, 4, 5]]],
                               expect[:, [0, 3, 4, 5]][keep[:, [0, 3, 4, 5]]], rtol=0, atol=1e-12)
    if name != "softmax":
        torch.testing.assert_close(gy[:, 2], expect[:, 2], rtol=0, atol=1e-12)


# -- Hessians ------------------------------------------------------------------------------
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("target", ["index", "labels"])
def test_softmax_hessian_is_cross_entropy_hessian(target, masked):
    loss, theta, keep = _case("softmax", {}, 3, 5, masked)
    g = torch.Generator().manual_seed(11)
    idx = torch.where(keep, torch.rand(3, 5, generator=g, dtype=D), -1.0).argmax(-1)
    y = _labels(_z(3, 5, 6), keep, 1.0)
    tgt = idx if target == "index" else y
    H = torch.autograd.functional.hessian(lambda t: loss(t, tgt).sum(), theta)
    assert float(H.abs().max()) > 0.1
    for b in range(3):  # rows are independent; a masked class is dropped from the reference
        k = keep[b]
        t_b = theta[b, k][None]
        tg = (idx[b:b + 1] - (~k[: int(idx[b])]).sum()) if target == "index" else y[b, k][None]
        ref = torch.autograd.functional.hessian(lambda t: F.cross_entropy(t, tg, reduction="sum"), t_b)
        H_b = H[b, :, b, :]
        torch.testing.assert_close(H_b[k][:, k], ref[0, :, 0, :], rtol=0, atol=1e-10)
        assert bool((H_b[~k] == 0).all()) and bool((H_b[:, ~k] == 0).all())
        for c in range(3):
            if c != b:
                assert bool((H[b, :, c, :] == 0).all())


def _grad(loss, theta, tgt):
    t = theta.detach().requires_grad_(True)
    return torch.autograd.grad(loss(t, tgt).sum(), t)[0]


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("shape", [(3, 6), (2, 80)], ids=["short", "long"])
@pytest.mark.parametrize("name,kw", SPARSE, ids=SPARSE_IDS)
def test_hvp_is_finite_difference_of_gradient(name, kw, shape, masked):
    """H v by double backward against (∇L(θ + hv) − ∇L(θ − hv)) / 2h of the first-order
    gradient (the closed form ŷ − y, no graph)."""
    B, n = shape
    loss, theta, keep = _case(name, kw, B, n, masked, _scale(name, n))
    y = _labels(_z(B, n, 8), keep, float(kw.get("k", 1)))
    v = torch.randn(B, n, generator=torch.Generator().manual_seed(9), dtype=D) * keep
    t = theta.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(t, y).sum(), t, create_graph=True)
    (hv,) = torch.autograd.grad(grad, t, grad_outputs=v)
    h = 1e-6
    fd = (_grad(loss, theta + h * v, y) - _grad(loss, theta - h * v, y)) / (2 * h)
    assert bool(torch.isfinite(hv).all()) and float(hv.abs().max()) > 1e-3
    torch.testing.assert_close(hv, fd, rtol=0, atol=1e-7)


@pytest.mark.parametrize("name,kw,target", [p for p in _with_targets(LOSSES, IDS) if p.values[2] != "labels-grad"])
def test_gradient_with_a_graph_has_the_first_order_values(name, kw, target):
    """create_graph=True builds a graph and changes no value of the first-order gradient."""
    for dtype in (torch.float32, torch.float64):
        loss, theta, keep = _case(name, kw, 5, 40, True)
        theta = theta.to(dtype)
        tgt = (keep.to(D).argmax(-1) if target == "index"
               else _labels(_z(5, 40, 10), keep, float(kw.get("k", 1))).to(dtype))
        plain = _grad(loss, theta, tgt)
        t = theta.clone().requires_grad_(True)
        (graph,) = torch.autograd.grad(loss(t, tgt).sum(), t, create_graph=True)
        assert graph.requires_grad
        assert torch.equal(graph.detach(), plain)
