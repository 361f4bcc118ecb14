"""−inf masks for the approximate losses (issue 14): a masked class is never a target and
never sampled, and masking a class equals dropping it (loss and gradient on the rest,
gradient 0 on the masked classes).  Ground truth: the same call on the reduced problem."""
import math

import numpy as np
import pytest
import torch

from losses import approx as A

NEG = -math.inf


def _case(seed: int, n: int = 9, dtype=torch.float64):
    rng = np.random.default_rng(seed)
    theta = torch.tensor(rng.normal(0, 2, (3, n)), dtype=dtype)
    masked = torch.zeros(3, n, dtype=torch.bool)
    masked[0, [1, 4]] = True
    masked[1, [0, 5, 8]] = True
    masked[2, 3] = True
    y = torch.tensor([0, 2, 7])
    return theta, masked, y, rng


def _drop(row: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    return row[keep]


def _remap(index: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Class indices of the full row → indices of the reduced row."""
    pos = torch.cumsum(keep.long(), 0) - 1
    return pos[index]


METHODS = {
    "ssm-canonical": lambda th, y, s, q: A.ssm_grad(th, y, s, q),
    "ssm-tf": lambda th, y, s, q: A.ssm_grad(th, y, s, q, variant="tf"),
    "nce": lambda th, y, s, q: A.nce_grad(th, y, s, q, c=0.3)[:2],
    "rg2": lambda th, y, s, q: A.rg_grad(th, y, "rg2"),
    "rgx": lambda th, y, s, q: A.rg_grad(th, y, "rgx"),
    "softmax": lambda th, y, s, q: (torch.zeros(th.shape[0], dtype=th.dtype), A.softmax_grad(th, y)),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("method", list(METHODS))
def test_masking_equals_dropping_for_the_approximate_losses(method, dtype):
    theta, masked, y, rng = _case(0, dtype=dtype)
    full = theta.masked_fill(masked, NEG)
    q = A.unigram_proposal(torch.tensor(rng.integers(1, 20, theta.shape[1]), dtype=torch.float64))
    qr = A.negative_proposal(q, full, y) if method == "ssm-canonical" else A.restrict_proposal(q, full)
    assert float(qr.masked_select(masked).abs().max()) == 0.0
    g = torch.Generator().manual_seed(1)
    samples = A.sample(qr, 6, g)
    assert not bool(masked.gather(-1, samples).any())  # never sampled
    loss, grad = METHODS[method](full, y, samples, q)
    assert bool(torch.isfinite(loss).all()) and bool(torch.isfinite(grad).all())
    assert float(grad.masked_select(masked).abs().max()) == 0.0
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for b in range(3):
        keep = ~masked[b]
        th = _drop(theta[b], keep)[None]
        yb = _remap(y[b:b + 1], keep)
        sb = _remap(samples[b:b + 1], keep)
        qb = q[keep] / q[keep].sum()
        lb, gb = METHODS[method](th, yb, sb, qb)
        assert abs(float(loss[b] - lb[0])) <= tol * 10
        assert float((grad[b][keep] - gb[0]).abs().max()) <= tol


def test_masked_targets_samples_and_hsm_masks_raise():
    theta, masked, y, rng = _case(1)
    full = theta.masked_fill(masked, NEG)
    q = A.uniform_proposal(theta.shape[1])
    with pytest.raises(ValueError, match="y has a label on a masked class"):
        A.softmax_grad(full, torch.tensor([1, 2, 7]))
    with pytest.raises(ValueError, match="y has a label on a masked class"):
        A.rg_loss(full, torch.tensor([0, 0, 7]))
    bad = torch.tensor([[1, 2], [3, 3], [4, 4]])  # row 0 samples class 1, which is masked
    for fn in (lambda: A.ssm_loss(full, y, bad, q), lambda: A.nce_loss(full, y, bad, q),
               lambda: A.ssm_loss(full, y, bad, q, variant="tf")):
        with pytest.raises(ValueError, match="samples contain a masked class"):
            fn()
    tree = A.balanced_tree(theta.shape[1])
    with pytest.raises(ValueError, match="HSM"):
        A.hsm_grad(full, y, tree)
    nan = theta.clone()
    nan[0, 0] = math.nan
    with pytest.raises(ValueError, match="theta"):
        A.rg_loss(nan, y)
    only_y = torch.full_like(theta, NEG)
    only_y[torch.arange(3), y] = 0.0
    with pytest.raises(ValueError, match="q puts zero mass on every negative"):
        A.negative_proposal(q, only_y, y)  # every negative masked: SSM has nothing to sample
