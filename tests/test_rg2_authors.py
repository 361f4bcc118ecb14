"""The authors' RG²-ALS (numerics/recsys/rg2_authors.py): each half-step is the exact
minimizer of the stated joint objective (stationarity by autograd, an independent route),
sweeps never increase it, and a slipped coefficient is caught."""
import pytest
import torch

from numerics.recsys.rg2_authors import RG2Authors, objective

U, N_ITEMS, D = 9, 7, 3


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    users = torch.arange(U).repeat_interleave(3)
    items = torch.stack([torch.randperm(N_ITEMS, generator=g)[:3] for _ in range(U)]).reshape(-1)
    P = torch.randn(U, D, generator=g, dtype=torch.float64) * 0.3
    Q = torch.randn(N_ITEMS, D, generator=g, dtype=torch.float64) * 0.3
    return P, Q, users, items


def _grad(P, Q, users, items, lam, alpha, wrt):
    P, Q = P.clone().requires_grad_(), Q.clone().requires_grad_()
    objective(P, Q, users, items, lam, alpha).backward()
    return (P if wrt == "P" else Q).grad


@pytest.mark.parametrize("lam,alpha", [(0.5, 0.0), (0.1, 2.0), (3.0, 0.7)])
def test_each_half_step_is_stationary_for_the_joint_objective(lam, alpha):
    P, Q, users, items = _data()
    meth = RG2Authors(lam=lam, alpha=alpha)
    assert _grad(P, Q, users, items, lam, alpha, "P").abs().max() > 1e-3    # not stationary before
    P1 = meth.user_step(P, Q, users, items)
    assert _grad(P1, Q, users, items, lam, alpha, "P").abs().max() < 1e-10
    Q1 = meth.item_step(P1, Q, users, items)
    assert _grad(P1, Q1, users, items, lam, alpha, "Q").abs().max() < 1e-10


def test_a_slipped_coefficient_is_not_stationary():
    P, Q, users, items = _data(1)
    wrong = RG2Authors(lam=0.5, alpha=1.0)
    P1 = wrong.user_step(P, Q, users, items)
    # the objective with the positive weight read as (1 + α) instead of (½ + α): the step is no minimizer of it
    P1r = P1.clone().requires_grad_()
    Qr = Q.clone()
    J = objective(P1r, Qr, users, items, 0.5, 1.0) - 0.5 * (P1r[users] * Qr[items]).sum()
    J.backward()
    assert P1r.grad.abs().max() > 1e-3


def test_sweeps_never_increase_the_objective_and_duplicates_count():
    P, Q, users, items = _data(2)
    meth = RG2Authors(lam=0.3, alpha=0.5)
    params = {"user": P.float().clone(), "item": Q.float().clone()}
    values = []
    for _ in range(6):
        meth.als_epoch(params, users, items, U, N_ITEMS)
        values.append(float(objective(params["user"].double(), params["item"].double(), users, items, 0.3, 0.5)))
    assert all(b <= a + 1e-5 for a, b in zip(values, values[1:]))
    assert values[-1] < values[0]


def test_alpha_zero_is_half_the_rg2_data_term():
    # with α = 0 the data term of J is ½ Σ_{(u,i)} [−θ_ui + θ̄_u + (1/2n) Σ_j θ_uj²] (module docstring)
    P, Q, users, items = _data(3)
    theta = P @ Q.T
    rg2 = (-theta[users, items] + theta[users].mean(1) + (theta[users] ** 2).sum(1) / (2 * N_ITEMS)).sum()
    ridge = objective(P, Q, users, items, 1.0, 0.0) - objective(P, Q, users, items, 0.0, 0.0)
    assert float(objective(P, Q, users, items, 0.0, 0.0)) == pytest.approx(0.5 * float(rg2), rel=1e-12)
    assert float(ridge) > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="lam"):
        RG2Authors(lam=0.0)
    with pytest.raises(ValueError, match="alpha"):
        RG2Authors(alpha=-1.0)
