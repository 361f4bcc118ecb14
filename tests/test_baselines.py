"""EASE and item-kNN baselines (numerics/recsys/baselines.py), each checked by a route
that does not share its code: EASE by the KKT conditions of the constrained problem and
by per-column ridge least squares on the reduced system; item kNN by a plain double loop
over item pairs.  Each comparison is also shown to reject a planted defect."""
import math

import numpy as np
import pytest
import torch

from numerics.data import Interactions, synthetic
from numerics.recsys import metrics
from numerics.recsys.baselines import EASE, ItemKNN, ease_item_weights, itemknn_item_weights, train_matrix
from numerics.recsys.split import Split, holdout, split

LAM = 3.0


def _binary(U, n, seed, p=0.4):
    return torch.from_numpy((np.random.default_rng(seed).random((U, n)) < p).astype(np.float64))


# ------------------------------------------------------------------ EASE: independent routes
def _kkt_violation(X, B, lam):
    """max |∂/∂B_ij (||X − XB||² + λ||B||²)| over i ≠ j, and max |B_jj|."""
    X, B = np.asarray(X, dtype=np.float64), np.asarray(B, dtype=np.float64)
    G = X.T @ X
    grad = 2 * (G + lam * np.eye(G.shape[0])) @ B - 2 * G
    off = ~np.eye(G.shape[0], dtype=bool)
    return float(np.abs(grad[off]).max()), float(np.abs(np.diag(B)).max())


def _ease_bruteforce(X, lam):
    """Column j: argmin_b ||x_j − X_{−j} b||² + λ||b||², by lstsq on [X_{−j}; √λ I] b = [x_j; 0]."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[1]
    B = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        A = np.vstack([X[:, others], math.sqrt(lam) * np.eye(n - 1)])
        y = np.concatenate([X[:, j], np.zeros(n - 1)])
        B[others, j] = np.linalg.lstsq(A, y, rcond=None)[0]
    return B


def _ease_defects(X, lam):
    """Planted wrong B's: the diagonal not removed, λ = 0 inside P, the unconstrained ridge."""
    X = np.asarray(X, dtype=np.float64)
    G, I = X.T @ X, np.eye(X.shape[1])
    P, P0 = np.linalg.inv(G + lam * I), np.linalg.inv(G)
    return {"diagonal kept": -P / np.diag(P)[None, :],
            "lam=0 in P": I - P0 / np.diag(P0)[None, :],
            "unconstrained ridge": np.linalg.solve(G + lam * I, G)}


def test_ease_satisfies_kkt_and_matches_bruteforce_columns():
    X = _binary(12, 7, seed=0)
    assert np.linalg.matrix_rank(X.numpy()) == 7          # so the "lam=0 in P" defect is defined
    B = ease_item_weights(X, LAM)
    assert B.shape == (7, 7) and B.dtype == torch.float64
    grad_off, diag = _kkt_violation(X, B, LAM)
    assert grad_off < 1e-10 and diag == 0.0
    np.testing.assert_allclose(B.numpy(), _ease_bruteforce(X, LAM), rtol=0, atol=1e-10)
    # scores are X B, the same on a float32 X (solved in float64, returned in float32)
    B32 = ease_item_weights(X.float(), LAM)
    assert B32.dtype == torch.float32 and torch.allclose(B32.double(), B, atol=1e-6)


@pytest.mark.parametrize("defect", ["diagonal kept", "lam=0 in P", "unconstrained ridge"])
def test_ease_checks_reject_planted_defects(defect):
    X = _binary(12, 7, seed=0)
    bad = _ease_defects(X, LAM)[defect]
    grad_off, diag = _kkt_violation(X, bad, LAM)
    assert grad_off > 1e-3 or diag > 1e-3
    assert not np.allclose(bad, _ease_bruteforce(X, LAM), rtol=0, atol=1e-6)


def test_ease_brute_force_route_rejects_a_wrong_lambda():
    X = _binary(12, 7, seed=0)
    assert not np.allclose(ease_item_weights(X, LAM).numpy(), _ease_bruteforce(X, 2 * LAM), rtol=0, atol=1e-6)
    assert _kkt_violation(X, ease_item_weights(X, LAM), 2 * LAM)[0] > 1e-3


# ------------------------------------------------------------------ item kNN: double loop
def _knn_bruteforce(X, k, shrink=0.0, tie="low"):
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[1]
    cnt = [sum(v * v for v in X[:, i]) for i in range(n)]
    S = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                den = math.sqrt(cnt[i]) * math.sqrt(cnt[j]) + shrink
                S[i, j] = float(X[:, i] @ X[:, j]) / den if den > 0 else 0.0
    out = np.zeros((n, n))
    for j in range(n):
        cand = sorted((i for i in range(n) if i != j), key=lambda i: (-S[i, j], i if tie == "low" else -i))
        for i in cand[:k]:
            out[i, j] = S[i, j]
    return out


def _knn_matrix(signed=False):
    X = _binary(10, 8, seed=1, p=0.5)
    if signed:                 # centred entries give negative cosines: item j itself (S_jj = 0)
        X = X - 0.25           # must still never take one of its k neighbour slots; quarters keep
                               # every dot product exact, so a tie is a tie whatever the summation
                               # order of the BLAS (with 0.3 one tie split by rounding at 2 threads)
    X[:, 3] = X[:, 2]          # items 2 and 3 identical: equal similarity to every other item
    X[:, 6] = 0.0              # item 6 has no interactions
    return X


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("shrink", [0.0, 1.5])
def test_itemknn_matches_double_loop_for_every_k(shrink, signed):
    X = _knn_matrix(signed)
    tie_decides = False
    for k in range(1, 8):
        S = itemknn_item_weights(X, k, shrink)
        assert torch.isfinite(S).all() and (S.diagonal() == 0).all()
        assert (S[6] == 0).all() and (S[:, 6] == 0).all()
        ref = _knn_bruteforce(X, k, shrink)
        np.testing.assert_allclose(S.numpy(), ref, rtol=0, atol=1e-12)
        assert ((S != 0).sum(0) <= k).all()
        wrong_tie = _knn_bruteforce(X, k, shrink, tie="high")
        tie_decides |= not np.allclose(S.numpy(), wrong_tie, rtol=0, atol=1e-12)
        # a planted off-by-one in k is caught by the comparison
        if k <= 5:   # (k = 6 and 7 agree: the 7th candidate is always the empty item 6)
            assert not np.allclose(_knn_bruteforce(X, k + 1, shrink), S.numpy(), rtol=0, atol=1e-12)
    assert tie_decides          # the tie case is exercised: the other tie rule gives another S


def test_itemknn_tie_goes_to_lower_index_by_hand():
    # items 1 and 2 have the same column, so cos(0, 1) == cos(0, 2) = 2/√6; k = 1 keeps item 1
    X = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 0], [1, 0, 0, 1]], dtype=torch.float64)
    S = itemknn_item_weights(X, 1)
    assert S[1, 0] == pytest.approx(2 / math.sqrt(6)) and S[2, 0] == 0 and S[0, 0] == 0
    assert S[2, 1] == pytest.approx(1.0) and S[1, 2] == pytest.approx(1.0)   # each other's nearest


# ------------------------------------------------------------------ the matrix, the score_fn
def test_train_matrix_is_binary_and_counts_duplicates_once():
    sp = Split("toy", 3, 4, torch.tensor([0, 0, 0, 2]), torch.tensor([1, 1, 3, 0]), torch.tensor([1]),
               torch.tensor([2]), torch.tensor([0, 3, 3, 4]))
    X = train_matrix(sp)
    assert X.dtype == torch.float64 and torch.equal(X, torch.tensor(
        [[0, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=torch.float64))
    assert train_matrix(sp, torch.float32).dtype == torch.float32


def test_fitted_scores_are_X_times_W():
    sp = split(synthetic(n_users=30, n_items=25, per_user=6, d=4, seed=2), 0.8, seed=0)
    X = train_matrix(sp)
    users = torch.tensor([4, 0, 17])
    e, m = EASE(10.0).fit(sp), ItemKNN(5, shrink=2.0).fit(sp)
    assert torch.equal(e(users), X[users] @ ease_item_weights(X, 10.0))
    assert torch.equal(m.scores(users), X[users] @ itemknn_item_weights(X, 5, 2.0))
    with pytest.raises(RuntimeError, match="fit"):
        EASE(1.0).scores(users)


def test_evaluate_on_synthetic_holdout_gives_metrics_in_unit_interval():
    outer, _ = holdout(synthetic(n_users=50, n_items=40, per_user=10, d=4, seed=7), seed=0)
    for model in (EASE(20.0), ItemKNN(10), ItemKNN(39, shrink=5.0)):
        res = metrics.evaluate(model.fit(outer), outer)
        for v in res.values():
            assert v.numel() > 0 and torch.isfinite(v).all() and (v >= 0).all() and (v <= 1).all()


def _blocks(n_blocks=4, size=8, n_users=160, per_user=6, seed=0):
    """User u uses only block u mod n_blocks, picking per_user of its items at random: items
    co-occur within a block and never across, so X, XᵀX, EASE's B and kNN's S are block diagonal."""
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([(u % n_blocks) * size + rng.permutation(size)[:per_user] for u in range(n_users)])
    return Interactions("blocks", users, items.astype(np.int64), n_users, n_blocks * size)


def test_item_item_baselines_beat_random_scores_on_block_cooccurrence():
    sp = split(_blocks(), 0.8, seed=0)          # per user: 5 training items, 1 test item, 2 other unseen
    assert torch.equal(sp.user_counts, torch.full((160,), 5)) and sp.test_items.numel() == 160
    gen = torch.Generator().manual_seed(0)
    rand = metrics.summary(metrics.evaluate(lambda u: torch.rand(u.numel(), sp.n_items, generator=gen), sp))
    block = torch.arange(sp.n_items) // 8
    same, off = block[:, None] == block[None, :], ~torch.eye(sp.n_items, dtype=torch.bool)
    for model in (EASE(100.0), ItemKNN(7)):
        model.fit(sp)
        # the premise, checked: every in-block weight is > 0 and every off-block weight is 0
        # (EASE's can be negative at small lam; kNN's need all 7 block-mates as neighbours)
        assert (model.W[same & off] > 0).all() and (model.W[~same] == 0).all()
        # hence a user's 3 unseen in-block items score > 0 = every off-block item, and the
        # test item, one of those 3, is ranked in the top 3 for every user: certain, not luck
        per_user = metrics.evaluate(model, sp)
        assert (per_user["recall@20"] == 1).all() and (per_user["ndcg@10"] >= 0.5 - 1e-12).all()
        res = metrics.summary(per_user)
        assert res["ndcg@10"] > rand["ndcg@10"] + 0.3 and res["recall@20"] > rand["recall@20"]


# ------------------------------------------------------------------ bad inputs
def test_bad_inputs_raise():
    X = _binary(6, 5, seed=3)
    for lam in (0, 0.0, -1.0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="lam"):
            ease_item_weights(X, lam)
        with pytest.raises(ValueError, match="lam"):
            EASE(lam)
    bad = X.clone()
    bad[2, 3] = float("nan")
    for f in (lambda A: ease_item_weights(A, 1.0), lambda A: itemknn_item_weights(A, 2)):
        with pytest.raises(ValueError, match="finite"):
            f(bad)
        with pytest.raises(ValueError, match="2-D"):
            f(X[0])
    for k in (0, 5, -1, 2.0, True):
        with pytest.raises(ValueError, match="k"):
            itemknn_item_weights(X, k)
    itemknn_item_weights(X, 4)                   # n_items − 1 is allowed
    with pytest.raises(ValueError, match="shrink"):
        itemknn_item_weights(X, 2, shrink=-0.1)
    with pytest.raises(ValueError, match="k"):
        ItemKNN(0)
    sp = split(synthetic(n_users=10, n_items=8, per_user=3, d=2, seed=0), 0.8)
    with pytest.raises(ValueError, match="k"):
        ItemKNN(8).fit(sp)                       # k = n_items, caught when the split is known
