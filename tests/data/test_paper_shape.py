"""The paper-shaped subsample: exact shape, coverage, determinism, impossible requests."""

from __future__ import annotations

import pandas as pd
import pytest

from recstudy.data.interactions import DataError
from recstudy.data.paper_shape import paper_shaped_subsample
from recstudy.evaluation.stats import dataset_statistics, statistics_table


@pytest.fixture(scope="module")
def sample(ml100k):
    return paper_shaped_subsample(ml100k, seed=2022)


def test_exact_paper_shape(sample):
    stats = dataset_statistics(sample)
    assert (stats["users"], stats["items"], stats["interactions"]) == (407, 462, 2000)
    assert stats["sparsity %"] == 98.94
    assert stats["per user: min"] >= 1 and stats["per item: min"] >= 1  # everyone keeps a pair
    assert not sample.duplicated(["user", "item"]).any()


def test_rows_come_from_the_source(sample, ml100k):
    merged = sample.merge(ml100k, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_same_seed_same_set_other_seed_other_set(sample, ml100k):
    pd.testing.assert_frame_equal(sample, paper_shaped_subsample(ml100k, seed=2022))
    other = paper_shaped_subsample(ml100k, seed=7)
    assert len(other) == 2000 and not sample.equals(other)


def test_other_shapes(ml100k):
    small = paper_shaped_subsample(ml100k, n_users=30, n_items=40, n_pairs=100, seed=1)
    assert (small.user.nunique(), small.item.nunique(), len(small)) == (30, 40, 100)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"n_users": 0}, "must be positive"),
        ({"n_pairs": 300}, "cannot give each"),
        ({"n_users": 10, "n_items": 10, "n_pairs": 101}, "do not fit"),
        ({"n_users": 5000}, "943 users"),
        ({"n_users": 900, "n_items": 20, "n_pairs": 900}, "only .* users touch|fewer than|reach only"),
    ],
)
def test_impossible_shapes_are_refused(ml100k, kwargs, pattern):
    with pytest.raises(DataError, match=pattern):
        paper_shaped_subsample(ml100k, seed=0, **kwargs)


def test_statistics_table_sets_paper_a_beside(sample):
    table = statistics_table({"paper-shaped": sample})
    assert table.loc["users", "Paper A (reported)"] == 407
    assert table.loc["per user: median", "Paper A (reported)"] == "n/a"
    assert table.loc["interactions", "paper-shaped"] == 2000
