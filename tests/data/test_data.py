"""Loading, validation errors, MovieLens sources and checksums."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from recstudy.data import movielens
from recstudy.data.datasets import load_dataset
from recstudy.data.interactions import DataError, IndexedInteractions, canonical_checksum, load_interactions


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the user's own data ------------------------------------------------------

def test_string_ids_csv_with_iso_timestamps(tmp_path):
    rows = "\n".join(f"alice{i % 3},sku-{i},2021-04-{10 + i}T12:00:00Z" for i in range(12))
    df, report = load_interactions(write(tmp_path, "log.csv", "user_id,product_id,time\n" + rows + "\n"))
    assert list(df.columns) == ["user", "item", "rating", "timestamp"]
    assert not pd.api.types.is_numeric_dtype(df.user) and set(df.user) == {"alice0", "alice1", "alice2"}
    assert (df.rating == 1.0).all()  # no rating column: implicit positives
    assert df.timestamp.iloc[0] == pd.Timestamp("2021-04-10T12:00:00Z").timestamp()
    assert report.columns_used == {"user": "user_id", "item": "product_id", "rating": None, "timestamp": "time"}


def test_integer_ids_tsv_and_duplicates_counted(tmp_path):
    rows = [f"{u}\t{i}\t4\t{1000 + i}" for u in range(3) for i in range(5)]
    rows += rows[:4]  # four exact duplicates
    df, report = load_interactions(write(tmp_path, "log.tsv", "user\titem\trating\ttimestamp\n" + "\n".join(rows)))
    assert df.user.dtype == np.int64 and df.item.dtype == np.int64
    assert len(df) == 15 and report.rows_read == 19 and report.duplicates_dropped == 4


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_interactions(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("", r"empty"),
        ("user,item\n", r"header but no rows"),
        ("customer,thing\n1,2\n", r"no user column.*header is \['customer', 'thing'\]"),
        ("user,thing\n1,2\n", r"no item column"),
        ("user,item,timestamp\n" + "1,2,3\n" * 3 + "1,4,yesterday-ish\n", r"line 5, column 'timestamp'.*yesterday-ish"),
        ("user,item,rating\n" + "1,2,5\n" * 2 + "1,3,five\n", r"line 4, column 'rating'.*'five'"),
        ("user,item\n" + "1,2\n" * 3 + ",5\n", r"line 5, column 'user': empty user id"),
        ("user,item\n1,2\n1,3\n", r"only 2 interaction\(s\).*at least 10"),
        ("user,item\n1,2\n1,2,3,4\n", r"malformed"),
    ],
)
def test_bad_input_names_the_problem(tmp_path, text, pattern):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataError, match=pattern) as info:
        load_interactions(path)
    assert "bad.csv" in str(info.value)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match=r"unknown dataset 'ml-20m': use one of \['ml-100k', 'paper-shaped', 'amazon-video', 'ml-1m'\]"):
        load_dataset("ml-20m")


# --- canonical table and MovieLens sources -------------------------------------

def test_checksum_ignores_row_order_and_int_float_ratings():
    df = pd.DataFrame({"user": [2, 1], "item": [5, 7], "rating": [3.0, 4.0], "timestamp": [10, 20]})
    shuffled = df.iloc[::-1].assign(rating=[4, 3])
    assert canonical_checksum(df) == canonical_checksum(shuffled)
    assert canonical_checksum(df) != canonical_checksum(df.assign(rating=[3.0, 5.0]))


RATINGS = [(196, 242, 3, 881250949), (186, 302, 3, 891717742), (22, 377, 1, 878887116)]


def fake_grouplens_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ml-100k/u.data", "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in RATINGS))
        flags = "|".join(["0"] * 3 + ["1"] + ["0"] * 15)
        archive.writestr("ml-100k/u.item", f"242|Kolya (1996)|24-Jan-1997||http://x|{flags}\n267|unknown||||{flags}\n")
    return buffer.getvalue()


def fake_recbole_wheel() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        archive.writestr(movielens.RECBOLE_MEMBER + ".inter", inter + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in reversed(RATINGS)))
        item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        archive.writestr(movielens.RECBOLE_MEMBER + ".item", item + "242\tKolya\t1996\tAnimation\n267\tunkonwn\tunkonwn\tunknown\n")
    return buffer.getvalue()


def test_both_sources_normalise_to_identical_tables():
    gl_ratings, gl_items = movielens.parse_grouplens_zip(fake_grouplens_zip())
    rb_ratings, rb_items = movielens.parse_recbole_wheel(fake_recbole_wheel())
    assert canonical_checksum(gl_ratings) == canonical_checksum(rb_ratings)
    assert gl_items.loc[0, ["item", "title", "year", "genres"]].tolist() == [242, "Kolya", "1996", "Animation"]
    assert rb_items.loc[0, ["item", "title", "year", "genres"]].tolist() == [242, "Kolya", "1996", "Animation"]
    assert gl_items.loc[1, "year"] == rb_items.loc[1, "year"] == "unknown"


def test_wrong_data_fails_the_checksum_and_writes_nothing(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "ml-100k.zip").write_bytes(fake_grouplens_zip())
    with pytest.raises(DataError, match=r"sha256 .*expected 7fd6ef07") as info:
        movielens.fetch_movielens_100k(tmp_path, source="local", verbose=False)
    assert "place ml-100k.zip" in str(info.value)
    assert not (tmp_path / "ml-100k").exists()


def test_no_source_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match=r"(?s)could not obtain MovieLens-100K.*no file in.*make data"):
        movielens.fetch_movielens_100k(tmp_path, source="local", verbose=False)


def test_unknown_source_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown source 'ftp'"):
        movielens.fetch_movielens_100k(tmp_path, source="ftp")


def test_missing_cache_says_make_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="make data"):
        movielens.load_movielens_100k(tmp_path)


def test_real_movielens_is_verified(ml100k):
    assert ml100k.shape == (100_000, 4)
    assert (ml100k.user.nunique(), ml100k.item.nunique()) == (943, 1682)
    assert canonical_checksum(ml100k) == movielens.ML100K_SHA256
    assert set(ml100k.rating.unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    items = movielens.load_movielens_items()
    assert len(items) == 1682 and items.loc[items.item == 1, "title"].item() == "Toy Story"


def test_tampered_cache_is_refused(tmp_path, ml100k):
    cache = tmp_path / "ml-100k"
    cache.mkdir()
    ml100k.assign(rating=ml100k.rating.where(ml100k.index != 0, 5.0 if ml100k.rating[0] != 5 else 4.0)).to_csv(
        cache / "ratings.tsv", sep="\t", index=False
    )
    with pytest.raises(DataError, match="does not match the expected data"):
        movielens.load_movielens_100k(tmp_path)


def test_indexing_is_contiguous_and_reversible(ml100k):
    indexed = IndexedInteractions.from_frame(ml100k)
    assert (indexed.n_users, indexed.n_items, len(indexed)) == (943, 1682, 100_000)
    assert indexed.users.min() == 0 and indexed.users.max() == 942
    np.testing.assert_array_equal(indexed.user_ids[indexed.users], ml100k.user.to_numpy())
    np.testing.assert_array_equal(indexed.item_ids[indexed.items], ml100k.item.to_numpy())


def test_a_log_path_carries_its_loader_options(tmp_path):
    from recstudy.data.datasets import log_options

    log = tmp_path / "events.csv"
    log.write_text("who|what\n" + "".join(f"u{u}|i{i}\n" for u in range(25) for i in range(u % 4, u % 4 + 5)))
    assert log_options(f"{log}?user_col=who&item_col=what&sep=|") == (str(log), {"user_col": "who", "item_col": "what", "sep": "|"})
    table, _ = load_dataset(f"{log}?user_col=who&item_col=what")
    assert table.user.nunique() == 25
    with pytest.raises(ValueError, match=r"unknown loader option\(s\) \['colour'\]"):
        load_dataset(f"{log}?colour=red")
