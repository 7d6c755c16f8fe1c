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


def test_checksum_is_canonical_and_follows_the_content():
    side = _side()
    reordered = side.aligned(np.array([40, 10, 30, 20]))
    assert side.checksum() == reordered.checksum()  # row order does not matter
    assert len(side.checksum()) == 64 and side.canonical_lines()[0].startswith("item\ttitle\tyear\tunknown|Action")
    bits = "".join("1" if g in ("Action", "Drama") else "0" for g in side.genre_names)
    assert side.canonical_lines()[1] == "10\ta\t1990\t" + bits
    items = pd.DataFrame({"item": [10, 20, 30, 40], "title": ["a", "b", "c", "d"], "year": ["1990", "unknown", "1995", "2000"],
                          "genres": ["Action|Drama", "Comedy", "", "Drama"]})
    for column, value in (("title", "a2"), ("year", "1991"), ("genres", "Action")):
        changed = items.copy()
        changed.loc[0, column] = value
        assert ItemSideInfo.from_movielens_items(changed).checksum() != side.checksum(), column
    assert side.aligned(np.array([10, 20])).checksum() != side.checksum()  # a subset is other content


def test_unknown_genre_labels_and_duplicate_rows_are_refused():
    items = pd.DataFrame({"item": [1, 2], "title": ["a", "b"], "year": ["1990", "1991"], "genres": ["Action", "Space Opera"]})
    with pytest.raises(ValueError, match="Space Opera"):
        ItemSideInfo.from_movielens_items(items)
    with pytest.raises(ValueError, match="more than one row"):
        ItemSideInfo.from_movielens_items(items.assign(item=[1, 1], genres=["Action", "Drama"]))


def test_ml100k_side_info_reads_the_cached_item_file(tmp_path):
    cache = tmp_path / "ml-100k"
    cache.mkdir()
    pd.DataFrame({"item": [1, 2], "title": ["Toy Story", "NaN Story"], "year": ["1995", "unknown"],
                  "genres": ["Animation|Children's|Comedy", "unknown"]}).to_csv(cache / "items.tsv", sep="\t", index=False)
    for name in ("ml-100k", "paper-shaped"):
        side = item_side_info(name, tmp_path)
        assert side.titles == ("Toy Story", "NaN Story") and len(side.genre_names) == 19
        assert side.years[0] == 1995 and np.isnan(side.years[1])
        assert side.genres[1, side.genre_names.index("unknown")] == 1.0


def test_ml1m_side_info_comes_from_movies_dat_titles_and_genres(tmp_path):
    from recstudy.data.side_info import ML1M_GENRES

    cache = tmp_path / "ml-1m"
    cache.mkdir()
    # what fetch_movielens_1m writes from ml-1m/movies.dat (its ratings.tsv marks the cache complete)
    pd.DataFrame({"item": [1, 2, 3], "title": ["Toy Story (1995)", "City of Lost Children, The (1995)", "No Year"],
                  "genres": ["Animation|Children's|Comedy", "Adventure|Sci-Fi", ""]}
                 ).to_csv(cache / "items.tsv", sep="\t", index=False)
    (cache / "ratings.tsv").write_text("user\titem\trating\ttimestamp\n")
    side = item_side_info("ml-1m", tmp_path)
    assert side.genre_names == ML1M_GENRES and len(ML1M_GENRES) == 18
    assert side.titles == ("Toy Story", "City of Lost Children, The", "No Year")
    assert side.years[:2].tolist() == [1995.0, 1995.0] and np.isnan(side.years[2])
    assert side.genres[1].sum() == 2 and side.genres[2].sum() == 0
    assert item_side_info("my_log.csv") is None and item_side_info("amazon-video", tmp_path) is None


def test_user_side_info_parses_both_sources_and_aligns(tmp_path):
    from recstudy.data.side_info import UserSideInfo, parse_movielens_100k_users, user_side_info

    grouplens = "2|53|F|other|94043\n1|24|M|technician|85711\n"
    recbole = ("user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
               "1\t24\tM\ttechnician\t85711\n2\t53\tF\tother\t94043\n")
    a, b = parse_movielens_100k_users(grouplens), parse_movielens_100k_users(recbole, "recbole")
    pd.testing.assert_frame_equal(a, b)
    users = UserSideInfo.from_frame(a)
    assert users.user_ids.tolist() == [1, 2] and users.ages.tolist() == [24.0, 53.0] and users.genders == ("M", "F")
    flipped = users.aligned(np.array([2, 1]))
    assert flipped.occupations == ("other", "technician") and flipped.checksum() == users.checksum()
    with pytest.raises(ValueError, match="no row for 1 user"):
        users.aligned(np.array([1, 3]))
    assert user_side_info("amazon-video") is None
    with pytest.raises(FileNotFoundError, match="keeps no user file"):
        user_side_info("ml-100k", tmp_path)
    (tmp_path / "ml-100k").mkdir()
    a.to_csv(tmp_path / "ml-100k" / "users.tsv", sep="\t", index=False)
    assert user_side_info("ml-100k", tmp_path).checksum() == users.checksum()
