"""Protocols are leak-free, leave-last-out picks the latest, the microsoft/recommenders split is theirs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstudy.data.interactions import IndexedInteractions
from recstudy.data.protocols import PROTOCOLS, make_split, validation_split
from recstudy.data.splits import stratified_split_mask


@pytest.fixture(scope="module")
def ml100k_indexed(ml100k) -> IndexedInteractions:
    return IndexedInteractions.from_frame(ml100k)


def _codes(users, items, n_items):
    return set((np.asarray(users) * n_items + np.asarray(items)).tolist())


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_no_test_pair_in_training_or_validation(ml100k_indexed, protocol):
    split = make_split(ml100k_indexed, protocol, seed=3)
    train = _codes(*split.train_pairs, split.n_items)
    test = _codes(*split.test_pairs, split.n_items)
    assert not train & test
    assert len(train) + len(test) == len(ml100k_indexed)  # MovieLens-100K has no repeated pair
    val = validation_split(split)
    val_train, val_test = _codes(*val.train_pairs, val.n_items), _codes(*val.test_pairs, val.n_items)
    assert val_train | val_test == train  # carved from training only
    assert not (val_train | val_test) & test
    assert not val_train & val_test and len(val_test) > 0


def test_repeated_pairs_count_once_and_never_straddle_the_split():
    frame = pd.DataFrame({"user": [1] * 6 + [2] * 5, "item": [1, 1, 2, 3, 4, 5, 1, 2, 3, 3, 4],
                          "rating": 1.0, "timestamp": np.arange(11)})
    data = IndexedInteractions.from_frame(frame)
    for protocol in PROTOCOLS:
        split = make_split(data, protocol, seed=0)
        assert not _codes(*split.train_pairs, data.n_items) & _codes(*split.test_pairs, data.n_items)
        assert len(split.train_users) + len(split.test_users) == 9


def test_leave_last_out_holds_out_each_users_latest(ml100k_indexed):
    data = ml100k_indexed
    split = make_split(data, "leave-last-out")
    assert len(split.test_users) == data.n_users
    table = pd.DataFrame({"u": data.users, "i": data.items, "t": data.timestamps})
    test = pd.DataFrame({"u": split.test_users, "i": split.test_items}).merge(table, on=["u", "i"])
    assert (test.set_index("u").t.sort_index() == table.groupby("u").t.max().sort_index()).all()
    val = validation_split(split)  # the latest of what training keeps
    train = pd.DataFrame({"u": split.train_users, "t": split.train_timestamps})
    assert len(val.test_users) == data.n_users
    val_times = pd.DataFrame({"u": val.test_users, "i": val.test_items}).merge(table, on=["u", "i"]).set_index("u").t
    assert (val_times.sort_index() == train.groupby("u").t.max().sort_index()).all()


def test_holdout_is_about_a_fifth_per_user_and_seeded(ml100k_indexed):
    a, b, c = (make_split(ml100k_indexed, "holdout", seed=s) for s in (1, 1, 2))
    share = pd.Series(np.r_[np.zeros(len(a.train_users)), np.ones(len(a.test_users))]).groupby(
        np.r_[a.train_users, a.test_users]).mean()
    assert share.between(0.15, 0.25).all()
    assert np.array_equal(a.test_items, b.test_items) and not np.array_equal(a.test_items, c.test_items)


def test_ms_protocol_is_fixed_75_25_per_item(ml100k_indexed):
    a, b = make_split(ml100k_indexed, "ms-recommenders", seed=0), make_split(ml100k_indexed, "ms-recommenders", seed=9)
    assert np.array_equal(a.test_items, b.test_items) and np.array_equal(a.test_users, b.test_users)
    assert len(a.test_users) / len(ml100k_indexed) == pytest.approx(0.25, abs=0.01)


def test_ms_protocol_resampled_per_seed_keeps_seed_0_as_the_benchmark_split(ml100k_indexed):
    from recstudy.data.protocols import tuning_overlap, validation_split

    fixed = make_split(ml100k_indexed, "ms-recommenders", seed=0)
    zero = make_split(ml100k_indexed, "ms-recommenders", seed=0, resample_fixed=True)
    three = make_split(ml100k_indexed, "ms-recommenders", seed=3, resample_fixed=True)
    assert np.array_equal(fixed.test_items, zero.test_items) and np.array_equal(fixed.test_users, zero.test_users)
    assert not np.array_equal(zero.test_users, three.test_users)
    assert len(three.test_users) == len(zero.test_users)  # the same per-item 75/25 shape, other rows
    # tuning on seed 0's validation split never scores seed 0's test pairs, but does score some of seed 3's
    tuning = validation_split(zero)
    assert tuning_overlap(tuning, zero)["validation targets in tuning"] == 0.0
    assert tuning_overlap(tuning, zero)["training pairs in tuning"] == 0.0
    assert 0.0 < tuning_overlap(tuning, three)["validation targets in tuning"] < 0.5


def test_stratified_mask_reproduces_recommenders_procedure():
    # their python_stratified_split: per group, DataFrame.sample(frac=1, random_state=42), first round(0.75 n) train
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"item": rng.integers(0, 15, 300)})
    expected = pd.Series(False, index=frame.index)
    for _, group in frame.groupby("item"):
        shuffled = group.sample(frac=1, random_state=42)
        expected.loc[shuffled.index[round(0.75 * len(shuffled)):]] = True
    np.testing.assert_array_equal(stratified_split_mask(frame["item"].to_numpy(), 0.75, 42), expected.to_numpy())


def test_bad_protocol_inputs_name_the_problem(ml100k_indexed):
    with pytest.raises(ValueError, match="unknown protocol"):
        make_split(ml100k_indexed, "random")
    frame = pd.DataFrame({"user": [1, 1, 2, 2], "item": [1, 2, 1, 2], "rating": 1.0, "timestamp": -1})
    with pytest.raises(ValueError, match="timestamp"):
        make_split(IndexedInteractions.from_frame(frame), "leave-last-out")
    with pytest.raises(ValueError, match="train_ratio"):
        stratified_split_mask(np.zeros(3), 1.5)
