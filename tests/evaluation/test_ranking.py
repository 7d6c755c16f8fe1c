"""Full-ranking metrics: hand-computed cases and agreement with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import ndcg_score, roc_auc_score

from recstudy.evaluation.ranking import full_ranking_metrics


def fixed_scores(matrix):
    table = torch.tensor(matrix, dtype=torch.float32)
    return lambda users: table[users]


# --- full-ranking metrics --------------------------------------------------------

def test_hand_computed_case():
    # One user, 6 items. Item 0 is in training (masked); test items are 2 and 4.
    # Ranking of the candidates by score: 1 (0.9), 2 (0.8), 3 (0.7), 4 (0.6), 5 (0.1).
    scores = [[1.0, 0.9, 0.8, 0.7, 0.6, 0.1]]
    m = full_ranking_metrics(fixed_scores(scores), 1, 6, ([0], [0]), ([0, 0], [2, 4]), k=3)
    assert m["HR@3"] == 1.0
    assert m["Precision@3"] == pytest.approx(1 / 3)
    assert m["Recall@3"] == pytest.approx(1 / 2)
    assert m["NDCG@3"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["MRR@3"] == pytest.approx(1 / 2)
    assert m["MAP@3"] == pytest.approx((1 / 2) / 2)  # one hit at rank 2: precision 1/2, over min(2, 3)
    # negatives are 1, 3, 5: item 2 beats 3 and 5 (2 of 3), item 4 beats 5 (1 of 3)
    assert m["AUC"] == pytest.approx(3 / 6)
    assert m["users"] == 1


def test_ties_count_half_in_auc_and_users_without_test_items_are_skipped():
    scores = [[0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]]
    m, per_user = full_ranking_metrics(fixed_scores(scores), 2, 4, ([], []), ([0], [1]), k=2, per_user=True)
    assert m["users"] == 1 and list(per_user.index) == [0]
    assert m["AUC"] == pytest.approx(0.5)


def test_training_items_are_never_ranked():
    scores = [[9.0, 8.0, 1.0, 0.0]]
    m = full_ranking_metrics(fixed_scores(scores), 1, 4, ([0, 0], [0, 1]), ([0], [2]), k=1)
    assert m["HR@1"] == 1.0 and m["MRR@1"] == 1.0 and m["AUC"] == 1.0


def test_agrees_with_scikit_learn_on_random_data():
    rng = np.random.default_rng(0)
    n_users, n_items = 40, 30
    scores = rng.normal(size=(n_users, n_items)).astype(np.float32)
    cells = rng.permutation(n_users * n_items)
    train_cells, test_cells = cells[:300], cells[300:450]
    train = np.divmod(train_cells, n_items)
    test = np.divmod(test_cells, n_items)
    means, per_user = full_ranking_metrics(fixed_scores(scores), n_users, n_items, train, test, k=5, per_user=True, batch_size=7)
    train_set, test_set = set(zip(*train)), set(zip(*test))
    aucs, ndcgs = [], []
    for u in per_user.index:
        candidates = [i for i in range(n_items) if (u, i) not in train_set]
        truth = np.array([(u, i) in test_set for i in candidates], dtype=float)
        cand_scores = scores[u, candidates]
        if 0 < truth.sum() < len(truth):
            aucs.append(roc_auc_score(truth, cand_scores))
        ndcgs.append(ndcg_score(truth[None], cand_scores[None], k=5))
    assert means["AUC"] == pytest.approx(np.mean(aucs), abs=1e-6)
    assert means["NDCG@5"] == pytest.approx(np.mean(ndcgs), abs=1e-6)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="must lie in"):
        full_ranking_metrics(fixed_scores([[0.0, 1.0]]), 1, 2, ([0], [5]), ([0], [1]))
    with pytest.raises(ValueError, match="no user with a test item"):
        full_ranking_metrics(fixed_scores([[0.0, 1.0]]), 1, 2, ([0], [0]), ([], []))
    with pytest.raises(ValueError, match="score_fn returned shape"):
        full_ranking_metrics(lambda u: torch.zeros(len(u), 3), 1, 2, ([], []), ([0], [1]))



@pytest.mark.parametrize("test_per_user", [1, 3, 12])
def test_auc_by_comparison_and_by_sorted_negatives_agree_with_ties_and_masked_test_items(test_per_user, monkeypatch):
    import recstudy.evaluation.ranking as ranking

    rng = np.random.default_rng(test_per_user)
    n_users, n_items = 30, 50
    scores = rng.integers(0, 6, size=(n_users, n_items)).astype(np.float32)  # many ties
    train = np.divmod(rng.permutation(n_users * n_items)[:200], n_items)
    test_cells = np.concatenate([u * n_items + rng.choice(n_items, test_per_user, replace=False) for u in range(n_users)])
    test = np.divmod(np.concatenate([test_cells, train[0][:5] * n_items + train[1][:5]]), n_items)  # some seen as well
    results = []
    for width in (1000, -1):  # every width compared directly; every width looked up in sorted negatives
        monkeypatch.setattr(ranking, "COMPARE_WIDTH", width)
        results.append(full_ranking_metrics(fixed_scores(scores), n_users, n_items, train, test, k=5, per_user=True)[1])
    assert results[0].equals(results[1])


def test_without_auc_the_other_metrics_are_unchanged():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(20, 15)).astype(np.float32)
    train, test = np.divmod(np.arange(0, 300, 7), 15), np.divmod(np.arange(3, 300, 11), 15)
    with_auc = full_ranking_metrics(fixed_scores(scores), 20, 15, train, test, k=4)
    without = full_ranking_metrics(fixed_scores(scores), 20, 15, train, test, k=4, auc=False)
    assert "AUC" not in without and without == {k: v for k, v in with_auc.items() if k != "AUC"}
