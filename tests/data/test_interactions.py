"""Loading anyone's log: header aliases, separators, encodings, binary files, timestamp units, bad timestamps."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from recstudy.data.interactions import DataError, load_interactions

ROWS = [(u, i, 4.0, 978300760 + 60 * (u * 10 + i)) for u in range(1, 4) for i in range(1, 5)]


def write(tmp_path, name, header, rows, sep=",", encoding="utf-8"):
    path = tmp_path / name
    lines = [sep.join(header)] + [sep.join(str(v) for v in row) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_movielens_header_and_case_variants_load_the_same(tmp_path):
    reference, _ = load_interactions(write(tmp_path, "a.csv", ["user", "item", "rating", "timestamp"], ROWS))
    for header in (["userId", "movieId", "rating", "timestamp"], ["UserID", "ItemId", "Rating", "Event_Time"],
                   ["customer_id", "sku", "stars", "created_at"], ["visitor-id", "product id", "score", "ts"]):
        table, report = load_interactions(write(tmp_path, "b.csv", header, ROWS))
        pd.testing.assert_frame_equal(table, reference)
        assert report.columns_used["user"] == header[0]


@pytest.mark.parametrize("sep", [";", "|", "\t"])
def test_separator_is_sniffed_whatever_the_suffix(tmp_path, sep):
    table, _ = load_interactions(write(tmp_path, "log.txt" if sep != ";" else "log.csv", ["userId", "movieId", "rating", "timestamp"], ROWS, sep=sep))
    assert len(table) == len(ROWS) and table.columns.tolist() == ["user", "item", "rating", "timestamp"]


def test_encodings_bom_and_binary_files(tmp_path):
    rows = [(f"usér{u}", i, 4.0, t) for u, i, _, t in ROWS]
    latin = write(tmp_path, "latin.csv", ["user", "item", "rating", "timestamp"], rows, encoding="latin-1")
    with pytest.raises(DataError, match=r"latin\.csv: line 2: byte 0xe9 is not valid utf-8.*encoding="):
        load_interactions(latin)
    table, _ = load_interactions(latin, encoding="latin-1")
    assert table.user.iloc[0] == "usér1"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + write(tmp_path, "plain.csv", ["userId", "movieId", "rating", "timestamp"], ROWS).read_bytes())
    assert load_interactions(bom)[0].user.tolist() == load_interactions(tmp_path / "plain.csv")[0].user.tolist()
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(b"user,item\n" * 20))
    with pytest.raises(DataError, match=r"log\.csv\.gz: this is a binary file"):
        load_interactions(packed)


def test_millisecond_and_microsecond_timestamps_become_seconds(tmp_path):
    header = ["user", "item", "rating", "timestamp"]
    seconds, _ = load_interactions(write(tmp_path, "s.csv", header, ROWS))
    for factor, name in ((1000, "ms.csv"), (1_000_000, "us.csv")):
        table, _ = load_interactions(write(tmp_path, name, header, [(u, i, r, t * factor) for u, i, r, t in ROWS]))
        assert table.timestamp.tolist() == seconds.timestamp.tolist()
    assert seconds.timestamp.min() == 978300760 + 60 * 11  # 2001: seconds stay seconds


@pytest.mark.parametrize("value, problem", [(-5, "negative"), (4102444800, "in the future")])  # 2100-01-01
def test_negative_and_future_timestamps_are_refused_with_the_line(tmp_path, value, problem):
    rows = list(ROWS)
    rows[3] = (*rows[3][:3], value)
    path = write(tmp_path, "bad.csv", ["user", "item", "rating", "timestamp"], rows)
    with pytest.raises(DataError, match=rf"bad\.csv: line 5, column 'timestamp': timestamp '{value}' .*{problem}"):
        load_interactions(path)


def test_two_columns_for_one_role_is_an_ambiguity(tmp_path):
    path = write(tmp_path, "two.csv", ["user_id", "userId", "item"], [(u, u, i) for u, i, _, _ in ROWS])
    with pytest.raises(DataError, match=r"columns \['user_id', 'userId'\] could each be the user column"):
        load_interactions(path)
    table, _ = load_interactions(path, user_col="userId")
    assert len(table) == len(ROWS)


def test_qualified_names_ending_in_an_alias_are_found_and_a_column_is_never_two_roles(tmp_path):
    log = tmp_path / "shop.csv"
    rows = [(f"c{u}", f"SKU-{i}", 1_600_000_000_000 + 1000 * (4 * u + i)) for u in range(3) for i in range(4)]
    log.write_text("customerId;productSku;eventTime\n" + "".join(f"{u};{i};{t}\n" for u, i, t in rows))
    table, _ = load_interactions(log)
    assert len(table) == 12 and table.timestamp.max() == 1_600_000_011  # milliseconds found and converted
    scored = tmp_path / "scored.csv"
    scored.write_text("uid,productId,productRating\n" + "".join(f"{u},{i},3\n" for u in range(3) for i in range(4)))
    table, _ = load_interactions(scored)  # "productRating" ends in an alias of rating only
    assert set(table.rating) == {3.0}
    both = tmp_path / "both.csv"
    both.write_text("user,itemUser\n" + "".join(f"{u},{i}\n" for u in range(3) for i in range(4)))
    with pytest.raises(DataError, match="no item column"):
        load_interactions(both)
