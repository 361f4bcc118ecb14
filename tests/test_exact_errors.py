"""Issue 22, item 9 for the exact losses: the promised errors (a ValueError naming the
argument, a TypeError for a wrong type) instead of IndexError / RuntimeError, and inputs
that must simply work (mixed label dtypes, narrow integer class indices)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from losses import get

EXACT = [("softmax", {}), ("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("entmax", {"alpha": 1.3}),
         ("rankmax", {"k": 1}), ("rankmax", {"k": 2}), ("rankmax", {"k": 2, "scale": "adaptive"})]


def _labels(params, shape, dtype=torch.float32):
    y = torch.zeros(shape, dtype=dtype)
    y[..., : params.get("k", 1)] = 1.0
    return y


@pytest.mark.parametrize("name,params", EXACT)
@pytest.mark.parametrize("dim", [2, -3, 5, -7])
def test_dim_out_of_range_is_a_value_error_naming_dim(name, params, dim):
    """HEAD: IndexError from movedim.  Now a ValueError naming dim (also an IndexError,
    as torch raises for the same mistake)."""
    loss = get(name, **params)
    theta = torch.zeros(3, 4)
    for call in (lambda: loss(theta, _labels(params, (3, 4)), dim=dim), lambda: loss.predict(theta, dim=dim),
                 lambda: loss.conjugate(theta, dim=dim)):
        with pytest.raises(ValueError, match="dim") as err:
            call()
        assert isinstance(err.value, IndexError)


@pytest.mark.parametrize("dim", [1.0, True, "1", None])
def test_dim_of_the_wrong_type(dim):
    with pytest.raises(TypeError, match="dim"):
        get("softmax").predict(torch.zeros(2, 3), dim=dim)


@pytest.mark.parametrize("name,params", [("sparsemax", {}), ("entmax", {"alpha": 1.5}), ("entmax", {"alpha": 1.3}),
                                         ("rankmax", {"k": 2}), ("softmax", {})])
def test_float32_scores_with_float64_labels_outside_the_slice(name, params):
    """HEAD: RuntimeError 'expected scalar type Float but found Double' when the labels
    reach outside ŷ's top-K slice.  The labels are cast to θ's dtype after the domain
    check: the loss is the one of (θ, y.to(θ.dtype)), and close to the float64 loss."""
    g = torch.Generator().manual_seed(3)
    theta = torch.randn(4, 300, generator=g) * 5
    k = params.get("k", 1)
    y = torch.full((4, 300), k / 300, dtype=torch.float64)
    loss = get(name, **params)
    got = loss(theta, y)
    assert got.dtype == torch.float32
    assert torch.equal(got, loss(theta, y.float()))
    assert torch.allclose(got.double(), loss(theta.double(), y), rtol=1e-5)
    th = theta.clone().requires_grad_()
    loss(th, y).sum().backward()
    assert th.grad.dtype == torch.float32
    assert torch.allclose(th.grad, loss.predict(theta) - y.float(), atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.int8, torch.int16, torch.int32, torch.uint8, torch.int64])
@pytest.mark.parametrize("name,params", [("softmax", {}), ("sparsemax", {}), ("entmax", {"alpha": 1.5}),
                                         ("rankmax", {"k": 1})])
def test_any_integer_class_index_dtype(name, params, dtype):
    """HEAD: RuntimeError from gather for int8/int16/uint8 targets."""
    g = torch.Generator().manual_seed(1)
    theta = torch.randn(5, 6, generator=g)
    target = torch.tensor([0, 5, 2, 3, 1])
    loss = get(name, **params)
    assert torch.equal(loss(theta, target.to(dtype)), loss(theta, target))
    if name == "softmax":
        assert torch.allclose(loss(theta, target.to(dtype)), torch.nn.functional.cross_entropy(theta, target, reduction="none"))


def test_bool_class_indices_are_a_type_error_naming_target():
    with pytest.raises(TypeError, match="target"):
        get("softmax")(torch.zeros(3, 4), torch.tensor([True, False, True]))


def test_float_class_indices_are_refused_naming_target():
    with pytest.raises(ValueError, match="target"):
        get("softmax")(torch.zeros(3, 4), torch.tensor([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("alpha", ["1.5", True, False, [1.5], None, torch.tensor([1.5, 2.0]), 1.5j])
def test_alpha_of_the_wrong_type(alpha):
    """HEAD: alpha="1.5" was accepted and alpha=True became softmax."""
    with pytest.raises(TypeError, match="alpha"):
        get("entmax", alpha=alpha)


@pytest.mark.parametrize("alpha", [0.5, float("nan"), float("inf"), -1, 0])
def test_alpha_out_of_range(alpha):
    with pytest.raises(ValueError, match="alpha"):
        get("entmax", alpha=alpha)


@pytest.mark.parametrize("alpha", [2, 1.5, np.float64(1.5), np.float32(1.5), torch.tensor(1.5), np.int64(2), 1])
def test_alpha_numbers_accepted(alpha):
    theta = torch.tensor([[0.5, 0.1, -0.3]], dtype=torch.float64)
    want = get("entmax", alpha=float(alpha)).predict(theta)
    assert torch.equal(get("entmax", alpha=alpha).predict(theta), want)


@pytest.mark.parametrize("k", [True, 2.0, "2", 2.5, None, torch.tensor(2.0)])
def test_k_of_the_wrong_type(k):
    with pytest.raises(TypeError if k is not None else ValueError, match="k"):
        get("rankmax", k=k)


@pytest.mark.parametrize("k", [0, -1])
def test_k_out_of_range(k):
    with pytest.raises(ValueError, match="k"):
        get("rankmax", k=k)


def test_k_above_n_is_a_value_error_naming_k():
    with pytest.raises(ValueError, match="k"):
        get("rankmax", k=5).predict(torch.zeros(3, 4))


@pytest.mark.parametrize("k", [np.int64(2), torch.tensor(2), 2])
def test_k_integers_accepted(k):
    theta = torch.tensor([[0.5, 0.1, -0.3]], dtype=torch.float64)
    assert torch.equal(get("rankmax", k=k).predict(theta), get("rankmax", k=2).predict(theta))


def test_omega_of_a_list_is_a_named_error():
    """Found by tests/test_fuzz_exact.py.  HEAD: AttributeError (a list has no
    is_floating_point)."""
    with pytest.raises((TypeError, ValueError), match=r"\bp\b"):
        get("softmax").omega([[0.5, 0.5]])


@pytest.mark.parametrize("theta_shape,target_shape,dim", [((3, 4), (3,), 1), ((2, 3, 4), (2, 3), -3),
                                                          ((2, 3, 4), (2, 3), 2)])
def test_float_target_without_the_class_axis_is_a_value_error_naming_target(theta_shape, target_shape, dim):
    """A float tensor of θ's shape less the class axis (the shape of class indices) is label
    vectors of the wrong shape.  Found by tests/test_fuzz_exact.py; HEAD: IndexError from
    target.movedim(dim, -1) when dim is a number other than -1."""
    with pytest.raises(ValueError, match="target"):
        get("softmax")(torch.zeros(theta_shape), torch.zeros(target_shape), dim=dim)
