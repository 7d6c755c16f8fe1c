import numpy as np
import pandas as pd
import pytest

from recstudy.data.sequences import build_sequences
from recstudy.data.side_info import ItemSideInfo, MissingSideInfo, item_side_info, require_side_info


def _table():
    return pd.DataFrame({"user": [1, 1, 1, 1, 2, 2, 2], "item": [30, 10, 20, 30, 20, 10, 30],
                         "rating": 1.0, "timestamp": [5, 1, 3, 9, 2, 4, 6]})


def _side():
    items = pd.DataFrame({"item": [10, 20, 30, 40], "title": ["a", "b", "c", "d"], "year": ["1990", "unknown", "1995", "2000"],
                          "genres": ["Action|Drama", "Comedy", "", "Drama"]})
    return ItemSideInfo.from_movielens_items(items)


def test_side_info_follows_item_indices():
    data = build_sequences(_table(), max_len=4, item_side=_side())
    side = data.item_side
    assert [side.titles[i] for i in range(data.n_items)] == [{10: "a", 20: "b", 30: "c"}[int(x)] for x in data.item_ids]
    action = side.genre_names.index("Action")
    assert side.genres[list(data.item_ids).index(10), action] == 1.0
    assert np.isnan(side.years[list(data.item_ids).index(20)])


def test_missing_rows_and_missing_side_info_are_refused():
    with pytest.raises(ValueError, match="no row for 1 item"):
        _side().aligned(np.array([10, 99]))
    with pytest.raises(MissingSideInfo, match="3D-CNN needs item side information"):
        require_side_info(None, "3D-CNN", "shop.csv")
    assert item_side_info("amazon-video") is None


def test_input_times_are_aligned_with_input_tokens():
    data = build_sequences(_table(), max_len=4, tie_seed=None)
    # user 1 in time order: 10 (1), 20 (3), 30 (5), 30 (9); test input is the first three
    row = list(data.user_ids).index(1)
    assert data.test_inputs[row].tolist()[-3:] == [t + 1 for t in (list(data.item_ids).index(10), list(data.item_ids).index(20),
                                                                   list(data.item_ids).index(30))]
    assert data.input_times("test")[row].tolist() == [0, 1, 3, 5]
    assert data.input_times("valid")[row].tolist() == [0, 0, 1, 3]
    assert data.train_times.shape == data.train_inputs.shape
    assert ((data.train_times > 0) == (data.train_inputs > 0)).all()
