"""Sampled metrics (the SASRec paper's protocol): candidates, ranks, determinism, a slow reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recstudy.evaluation.sampled import full_score_fn, rank_metrics, sampled_candidates, sampled_metrics, trim_padding


def random_problem(seed=0, n_users=60, n_items=40, max_history=30):
    rng = np.random.default_rng(seed)
    histories = [rng.choice(n_items, rng.integers(2, max_history), replace=False) for _ in range(n_users)]
    targets = np.array([h[-1] for h in histories])
    return np.arange(n_users), targets, histories, n_items


def test_negatives_never_include_the_users_items_or_the_target():
    users, targets, histories, n_items = random_problem()
    histories = [h[:-1] for h in histories]  # the target need not be in the history: it is excluded anyway
    cands = sampled_candidates(targets, histories, n_items, n_negatives=100, seed=3)
    assert cands.shape == (len(users), 101)
    assert (cands[:, 0] == targets).all()
    for row, history in enumerate(histories):
        negatives = cands[row, 1:]
        assert not np.isin(negatives, history).any()
        assert not (negatives == targets[row]).any()
        assert ((negatives >= 0) & (negatives < n_items)).all()


def test_negatives_are_uniform_over_the_allowed_items():
    cands = sampled_candidates(np.array([0]), [np.array([0, 1, 2])], 10, n_negatives=70_000, seed=0)
    counts = np.bincount(cands[0, 1:], minlength=10)
    assert counts[:3].sum() == 0
    assert np.allclose(counts[3:] / 70_000, 1 / 7, atol=0.01)


def test_same_seed_same_candidates_and_another_seed_differs():
    _, targets, histories, n_items = random_problem()
    a = sampled_candidates(targets, histories, n_items, 20, seed=5)
    assert np.array_equal(a, sampled_candidates(targets, histories, n_items, 20, seed=5))
    assert not np.array_equal(a, sampled_candidates(targets, histories, n_items, 20, seed=6))


def test_a_user_with_every_item_cannot_be_sampled():
    with pytest.raises(ValueError, match="all 3 items"):
        sampled_candidates(np.array([0]), [np.array([0, 1, 2])], 3)


def truth_scorer(targets, sign=1.0):
    lookup = torch.as_tensor(targets)
    return lambda users, cands: sign * (cands == lookup[users][:, None]).float()


def test_perfect_scorer_gets_one_and_target_last_gets_zero():
    users, targets, histories, n_items = random_problem()
    best = sampled_metrics(truth_scorer(targets), users, targets, histories, n_items, n_negatives=10, seed=1)
    assert best["sampled_HR@10"] == 1.0 and best["sampled_NDCG@10"] == 1.0 and best["users"] == len(users)
    worst, table = sampled_metrics(truth_scorer(targets, -1.0), users, targets, histories, n_items, n_negatives=10,
                                   seed=1, per_user=True)
    assert worst["sampled_HR@10"] == 0.0 and worst["sampled_NDCG@10"] == 0.0
    assert (table["rank"] == 10).all()
    constant = sampled_metrics(lambda u, c: torch.zeros(c.shape), users, targets, histories, n_items, seed=1)
    assert constant["sampled_HR@10"] == 0.0  # ties count against the target


def slow_metrics(scores, k):
    hr, ndcg = [], []
    for row in scores:
        rank = sum(1 for s in row[1:] if s >= row[0])
        hr.append(1.0 if rank < k else 0.0)
        ndcg.append(1.0 / math.log2(rank + 2) if rank < k else 0.0)
    return np.mean(hr), np.mean(ndcg)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_a_slow_loop_and_does_not_depend_on_blocks(seed):
    users, targets, histories, n_items = random_problem(seed, n_users=80, n_items=300)
    item_scores = torch.from_numpy(np.random.default_rng(seed + 10).normal(size=(len(users), n_items))).float()
    score_fn = lambda u, c: item_scores[u[:, None], c]  # noqa: E731
    got, table = sampled_metrics(score_fn, users, targets, histories, n_items, n_negatives=50, k=5, seed=seed,
                                 per_user=True, batch_size=7)
    cands = sampled_candidates(targets, histories, n_items, 50, seed)
    hr, ndcg = slow_metrics(item_scores.numpy()[users[:, None], cands], 5)
    assert got["sampled_HR@5"] == pytest.approx(hr) and got["sampled_NDCG@5"] == pytest.approx(ndcg)
    order = np.random.default_rng(seed).permutation(len(users))
    shuffled = sampled_metrics(score_fn, users, targets, histories, n_items, n_negatives=50, k=5, seed=seed,
                               per_user=True, batch_size=13, block_order=order)[1]
    assert table.equals(shuffled) and list(table.index) == list(users)
    whole_catalogue = full_score_fn(lambda u: item_scores[u])  # a full-ranking score function, adapted
    assert sampled_metrics(whole_catalogue, users, targets, histories, n_items, n_negatives=50, k=5, seed=seed) == got


def test_rank_metrics_by_hand_and_trim_padding():
    out = rank_metrics(torch.tensor([[0.5, 0.9, 0.1, 0.5], [0.9, 0.1, 0.2, 0.3]]), k=2)
    assert out["rank"].tolist() == [2, 0]  # the tie counts against the target
    assert out["HR@2"].tolist() == [0.0, 1.0] and out["NDCG@2"].tolist() == [0.0, 1.0]
    assert trim_padding(torch.tensor([[0, 0, 3, 4], [0, 0, 0, 5]])).tolist() == [[3, 4], [0, 5]]


def test_evaluate_sampled_on_sequences_matches_full_scores_of_the_model():
    import pandas as pd

    from recstudy.data.sequences import build_sequences
    from recstudy.evaluation.sampled import evaluate_sampled
    from recstudy.models.sequential.sasrec import SASRec

    rng = np.random.default_rng(0)
    rows = [(u, item, t) for u in range(40) for t, item in enumerate(rng.choice(60, rng.integers(3, 15), replace=False))]
    table = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=1.0)
    data = build_sequences(table, max_len=8, windows="last", tie_seed=None)
    torch.manual_seed(0)
    model = SASRec(data.n_items, dim=8, max_len=8, blocks=1, heads=1, dropout=0.0).eval()
    inputs = torch.as_tensor(data.test_inputs)
    users, targets = data.target_pairs("test")
    with torch.no_grad():
        reference = sampled_metrics(full_score_fn(lambda u: model.scores(u, inputs[u])), users, targets, data.sequences,
                                    data.n_items, n_negatives=20, seed=4)
    got = evaluate_sampled(model, data, "test", n_negatives=20, seed=4)  # blocks by length, padding trimmed
    assert got["sampled_NDCG@10"] == pytest.approx(reference["sampled_NDCG@10"], abs=1e-6)
    assert got["sampled_HR@10"] == pytest.approx(reference["sampled_HR@10"], abs=1e-6)
    subset = evaluate_sampled(model, data, "valid", n_negatives=20, seed=4, users=np.array([3, 5, 7]))
    assert subset["users"] == 3
