"""Baselines on hand-computed tiny cases: popularity, item-kNN, Paper A's user CF, weighted MF (ALS), BPR-MF."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics.pairwise import cosine_similarity

from recstudy.models.baselines.bpr_mf import BPRMF, bpr_batches, bpr_loss, train_bpr
from recstudy.sampling.negatives import sample_unobserved_items
from recstudy.models.baselines.item_knn import ItemKNN, cosine_item_similarity, keep_top_neighbours
from recstudy.models.baselines.popularity import MostPopular
from recstudy.models.baselines.user_cf import UserCF
from recstudy.models.baselines.wmf_als import WeightedMF, _conjugate_gradient_side

# 4 users x 5 items
USERS = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3, 3])
ITEMS = np.array([0, 1, 2, 0, 1, 1, 3, 0, 2, 4])


def test_most_popular_ranks_by_distinct_users_and_counts_repeats_once():
    users, items = np.r_[USERS, 2, 2], np.r_[ITEMS, 3, 3]  # user 2 repeats item 3 twice more
    model = MostPopular(4, 5).fit(users, items)
    assert model.item_counts.tolist() == [3, 3, 2, 1, 1]
    scores = model.score_all(torch.tensor([0, 3]))
    assert scores.shape == (2, 5) and torch.equal(scores[0], scores[1])


def test_item_cosine_similarity_by_hand_and_against_sklearn():
    matrix = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    sim = cosine_item_similarity(matrix)
    # items 0 and 1 share users 0 and 3; each has 3 users: 2 / (sqrt 3 * sqrt 3)
    assert sim[0, 1].item() == pytest.approx(2 / 3)
    assert torch.all(sim.diagonal() == 0)
    reference = cosine_similarity(matrix.numpy().T)
    np.fill_diagonal(reference, 0.0)
    np.testing.assert_allclose(sim.numpy(), reference, atol=1e-6)
    shrunk = cosine_item_similarity(matrix, shrink=3.0)
    assert shrunk[0, 1].item() == pytest.approx(2 / 6)


def test_item_knn_scores_sum_similarities_of_the_users_items():
    model = ItemKNN(4, 5, neighbours=None).fit(USERS, ITEMS)
    scores = model.score_all(torch.tensor([1]))  # user 1 has items 0 and 1
    expected = model.similarity[:, 0] + model.similarity[:, 1]
    torch.testing.assert_close(scores[0], expected)
    kept = keep_top_neighbours(torch.tensor([[0.0, 0.75, 0.25, 0.5]]), 2)
    assert kept.tolist() == [[0.0, 0.75, 0.0, 0.5]]


def test_user_cf_matches_paper_a_formula_computed_by_loops():
    model = UserCF(4, 5, neighbours=None).fit(USERS, ITEMS)
    r = np.zeros((4, 5))
    r[USERS, ITEMS] = 1.0
    mean = r.mean(axis=1)
    centred = r - mean[:, None]
    expected = np.zeros((4, 5))
    for i in range(4):
        sims = {j: centred[i] @ centred[j] / (np.linalg.norm(centred[i]) * np.linalg.norm(centred[j])) for j in range(4) if j != i}
        for k in range(5):
            expected[i, k] = mean[i] + sum(s * (r[j, k] - mean[j]) for j, s in sims.items()) / sum(abs(s) for s in sims.values())
    np.testing.assert_allclose(model.score_all(torch.arange(4)).numpy(), expected, atol=1e-5)


def test_weighted_mf_als_lowers_its_objective_every_iteration():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 200), rng.integers(0, 40, 200)
    model = WeightedMF(30, 40, factors=8, reg=0.5, missing_weight=0.1, iterations=6, seed=1).fit(users, items, track_objective=True)
    objectives = np.array(model.objectives)
    assert len(objectives) == 7
    assert np.all(np.diff(objectives) < 0)
    assert model.score_all(torch.tensor([0, 5])).shape == (2, 40)


def test_weighted_mf_objective_and_update_match_the_dense_formulas():
    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 12, 60), rng.integers(0, 15, 60)  # with repeated pairs, which count once
    w, reg = 0.2, 0.7
    model = WeightedMF(12, 15, factors=4, reg=reg, missing_weight=w, iterations=2, seed=0).fit(users, items)
    x, y = model.user_factors.double(), model.item_factors.double()
    matrix = torch.zeros(12, 15, dtype=torch.float64)
    matrix[torch.as_tensor(users), torch.as_tensor(items)] = 1.0
    weights = w + (1 - w) * matrix
    dense = (weights * (matrix - x @ y.T) ** 2).sum() + reg * (x.pow(2).sum() + y.pow(2).sum())
    assert model.objective() == pytest.approx(dense.item(), rel=1e-5)
    # enough conjugate-gradient steps solve each user's weighted ridge system exactly
    updated = _conjugate_gradient_side(model.users, model.items, model.item_factors, model.user_factors, w, reg, steps=20)
    for u in range(12):
        system = (y.T * weights[u]) @ y + reg * torch.eye(4, dtype=torch.float64)
        exact = torch.linalg.solve(system, y.T @ matrix[u])
        np.testing.assert_allclose(updated[u].double().numpy(), exact.numpy(), atol=1e-4)


@pytest.mark.parametrize("bad", [dict(missing_weight=1.0), dict(missing_weight=0.0), dict(factors=0), dict(reg=-1.0)])
def test_weighted_mf_refuses_impossible_parameters(bad):
    with pytest.raises(ValueError):
        WeightedMF(3, 3, **bad)


def test_negative_sampler_never_returns_a_positive():
    gen = torch.Generator().manual_seed(0)
    keys = torch.unique(torch.as_tensor(USERS * 5 + ITEMS))
    users = torch.as_tensor(np.repeat(np.arange(4), 200))
    items = sample_unobserved_items(users, keys, 5, gen)
    assert not torch.isin(users * 5 + items, keys).any()


def test_bpr_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = BPRMF(4, 5, factors=4, init_std=0.1)
    batch = next(iter(bpr_batches(USERS, ITEMS, 5, batch_size=100, device="cpu")(torch.Generator().manual_seed(0))))
    before = bpr_loss(model, batch, reg=1e-3).item()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(5):
        optimizer.zero_grad()
        bpr_loss(model, batch, reg=1e-3).backward()
        optimizer.step()
    assert bpr_loss(model, batch, reg=1e-3).item() < before


def test_bpr_training_ranks_positives_above_negatives():
    torch.manual_seed(0)
    model = BPRMF(4, 5, factors=4, init_std=0.1)
    history = train_bpr(model, USERS, ITEMS, epochs=60, batch_size=4, lr=0.05, reg=0.0, seed=0)
    assert history.losses[-1] < history.losses[0]
    scores = model.score_all(torch.arange(4)).detach()
    positive = torch.zeros(4, 5, dtype=torch.bool)
    positive[USERS, ITEMS] = True
    assert scores[positive].mean() > scores[~positive].mean()
    with pytest.raises(ValueError, match="user indices"):
        train_bpr(model, np.array([7]), np.array([0]), epochs=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_negative_sampler_serves_cuda_tensors_from_a_cpu_generator():
    keys = torch.unique(torch.as_tensor(USERS * 5 + ITEMS)).cuda()
    users = torch.as_tensor(np.repeat(np.arange(4), 50)).cuda()
    on_gpu = sample_unobserved_items(users, keys, 5, torch.Generator().manual_seed(0))
    on_cpu = sample_unobserved_items(users.cpu(), keys.cpu(), 5, torch.Generator().manual_seed(0))
    assert on_gpu.device.type == "cuda" and torch.equal(on_gpu.cpu(), on_cpu)
