"""Sequence building: time order, tie-breaking, leave-one-out targets, windows, own logs."""

import numpy as np
import pandas as pd
import pytest

from recstudy.data.datasets import load_dataset
from recstudy.data.sequences import build_sequences, left_pad, time_ordered_sequences, training_windows


def frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


def test_time_order_and_stable_ties():
    # user 7: items given out of time order; items 30 and 10 share a timestamp (row order kept: 30 before 10)
    table = frame([(7, 20, 1.0, 300), (7, 30, 1.0, 100), (7, 10, 1.0, 100), (7, 40, 1.0, 50), (8, 10, 1.0, 5), (8, 20, 1.0, 5), (8, 40, 1.0, 6)])
    sequences, indexed, times = time_ordered_sequences(table)
    assert [list(indexed.item_ids[s]) for s in sequences] == [[40, 30, 10, 20], [10, 20, 40]]
    assert [list(t) for t in times] == [[50, 100, 100, 300], [5, 5, 6]]


def test_seeded_random_tie_order_only_reorders_within_a_timestamp():
    rng = np.random.default_rng(0)
    rows = [(u, int(i), 1.0, int(t)) for u in range(30) for i, t in zip(rng.permutation(40)[:12], np.sort(rng.integers(0, 5, 12)))]
    table = frame(rows)
    orders = {seed: time_ordered_sequences(table, seed) for seed in (0, 1)}
    again, _, _ = time_ordered_sequences(table, 0)
    assert all(np.array_equal(a, b) for a, b in zip(orders[0][0], again))  # same seed, same order
    assert any(not np.array_equal(a, b) for a, b in zip(orders[0][0], orders[1][0]))  # another seed, another order
    for seed, (sequences, indexed, times) in orders.items():
        for user, (seq, ts) in enumerate(zip(sequences, times)):
            assert (np.diff(ts) >= 0).all()  # time order is never broken
            original = table[table.user == indexed.user_ids[user]]
            for stamp in np.unique(ts):  # each timestamp keeps exactly its own items
                assert sorted(indexed.item_ids[seq[ts == stamp]]) == sorted(original[original.timestamp == stamp].item)


def test_tied_targets_are_flagged():
    table = frame([(1, 1, 1.0, 0), (1, 2, 1.0, 1), (1, 3, 1.0, 2), (1, 4, 1.0, 2),  # test target tied with validation
                   (2, 1, 1.0, 0), (2, 2, 1.0, 0), (2, 3, 1.0, 1), (2, 4, 1.0, 2)])  # untied test, untied validation
    data = build_sequences(table, max_len=3, tie_seed=3)
    assert data.test_tied.tolist() == [True, False] and data.valid_tied.tolist() == [False, False]


def test_leave_one_out_targets_inputs_and_exclusions():
    table = frame([(1, i, 1.0, t) for t, i in enumerate([5, 3, 9, 1, 7])] + [(2, i, 1.0, 0) for i in (3, 5, 7)] + [(3, 1, 1.0, 0), (3, 2, 1.0, 0)])
    data = build_sequences(table, max_len=3, tie_seed=None)  # row order within user 2's one timestamp
    assert data.n_users == 2  # user 3 has only two interactions and is dropped
    code = {item: index for index, item in enumerate(data.item_ids)}
    users, valid_items = data.target_pairs("valid")
    _, test_items = data.target_pairs("test")
    assert list(data.item_ids[valid_items]) == [1, 5] and list(data.item_ids[test_items]) == [7, 7]
    # inputs are tokens (index + 1), left-padded, the last max_len items before the target
    assert data.test_inputs[0].tolist() == [code[3] + 1, code[9] + 1, code[1] + 1]
    assert data.valid_inputs[1].tolist() == [0, 0, code[3] + 1]
    ex_users, ex_items = data.excluded_pairs("test")
    assert sorted(data.item_ids[ex_items[ex_users == 0]]) == [1, 3, 5, 9]  # the whole history, not only max_len
    assert sorted(data.item_ids[ex_items[ex_users == 1]]) == [3, 5]
    with pytest.raises(ValueError, match="split"):
        data.target_pairs("train")


def test_windows_cover_every_transition_once():
    seq = np.arange(1, 13)  # 12 tokens -> 11 transitions
    users, inputs, targets = training_windows([seq], max_len=4, windows="all")
    pairs = sorted((int(a), int(b)) for x, y in zip(inputs, targets) for a, b in zip(x, y) if b > 0 and a > 0)
    assert pairs == [(i, i + 1) for i in range(1, 12)]
    assert (targets[:, -1] > 0).all() and len(users) == 3
    _, last_inputs, last_targets = training_windows([seq], max_len=4, windows="last")
    assert last_inputs.tolist() == [[8, 9, 10, 11]] and last_targets.tolist() == [[9, 10, 11, 12]]
    with pytest.raises(ValueError, match="windows"):
        training_windows([seq], 4, windows="some")
    assert left_pad([np.array([1, 2])], 4).tolist() == [[0, 0, 1, 2]]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="max_len"):
        build_sequences(frame([(1, 1, 1.0, 0)] * 3), max_len=1)
    with pytest.raises(ValueError, match="at least 3"):
        build_sequences(frame([(1, 1, 1.0, 0), (1, 2, 1.0, 1)]))


def test_own_timestamped_log(tmp_path):
    path = tmp_path / "log.csv"
    events = [f"u{u},p{(u * 7 + k) % 11},2024-01-{k + 1:02d}" for u in range(4) for k in range(6)]
    path.write_text("\n".join(["customer_id,product_id,event_time"] + events[::-1]) + "\n")  # newest first
    table, _ = load_dataset(str(path))
    data = build_sequences(table, max_len=5)
    assert data.n_users == 4 and data.valid_inputs.shape == (4, 5)
    # user u0's events are p0 ... p5 in date order (the file lists them newest first)
    _, test_items = data.target_pairs("test")
    assert data.item_ids[test_items[0]] == "p5"
    assert data.item_ids[data.valid_inputs[0, -1] - 1] == "p3"
