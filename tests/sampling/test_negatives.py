"""The negative sampler: exact counts, never a positive, never a duplicate, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from recstudy.data.pairs import cell_codes
from recstudy.sampling.negatives import negative_count, popularity_weights, sample_negatives


def _positives(rng, n_users=30, n_items=40, n=300):
    codes = rng.choice(n_users * n_items, size=n, replace=False)
    return codes // n_items, codes % n_items


@pytest.mark.parametrize("n", [1, 250, 600, 0.5, 1.5, 2.0])
def test_exact_count_no_positive_no_duplicate(n):
    rng = np.random.default_rng(1)
    pos = _positives(rng)
    users, items = sample_negatives(30, 40, pos, n, rng)
    expected = n if isinstance(n, int) else round(n * 300)
    assert len(users) == len(items) == expected
    codes = cell_codes(users, items, 40)
    assert len(np.unique(codes)) == expected
    assert not np.isin(codes, cell_codes(*pos, 40)).any()
    assert users.min() >= 0 and users.max() < 30 and items.min() >= 0 and items.max() < 40


def test_dense_request_takes_every_free_cell_and_exclude_is_respected():
    rng = np.random.default_rng(2)
    pos = _positives(rng)
    everything = sample_negatives(30, 40, pos, 30 * 40 - 300, rng)
    assert len(np.unique(cell_codes(*everything, 40))) == 900
    with pytest.raises(ValueError, match="cannot draw 901 negatives"):
        sample_negatives(30, 40, pos, 901, rng)
    excluded = (everything[0][:100], everything[1][:100])
    users, items = sample_negatives(30, 40, pos, 800, rng, exclude=excluded)
    assert not np.isin(cell_codes(users, items, 40), cell_codes(*excluded, 40)).any()


def test_same_seed_same_draw_and_bad_n_is_refused():
    pos = _positives(np.random.default_rng(3))
    a = sample_negatives(30, 40, pos, 100, 7)
    b = sample_negatives(30, 40, pos, 100, 7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert negative_count(3000, 2000) == 3000 and negative_count(1.5, 2000) == 3000
    for bad in (-1, -0.5, True, "2x", float("nan")):
        with pytest.raises(ValueError):
            negative_count(bad, 10)
    with pytest.raises(ValueError, match="must lie in"):
        sample_negatives(3, 3, (np.array([3]), np.array([0])), 1, 0)


def test_popularity_weighted_draws_follow_the_weights():
    rng = np.random.default_rng(4)
    pos = (np.array([0, 1, 2]), np.array([0, 0, 1]))
    weights = np.array([0.0, 1.0, 9.0, 0.0, 0.0])
    users, items = sample_negatives(400, 5, pos, 600, rng, item_weights=weights)
    codes = cell_codes(users, items, 5)
    assert len(np.unique(codes)) == 600 and not np.isin(codes, cell_codes(*pos, 5)).any()
    assert set(np.unique(items)) <= {1, 2}
    assert (items == 2).mean() > 0.6  # item 2 weighs 9x item 1 (less than 0.9: draws are without replacement)
    assert np.allclose(popularity_weights(np.array([0, 0, 0, 0, 2]), 3, exponent=0.5), [2.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="item_weights"):
        sample_negatives(4, 5, pos, 2, rng, item_weights=np.ones(4))
