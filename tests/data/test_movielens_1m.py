"""MovieLens-1M: a small archive in GroupLens' format is verified, parsed, cached; a bad one is named."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from recstudy.data.interactions import DataError
from recstudy.data.movielens_1m import fetch_movielens_1m, load_movielens_1m


def small_zip(ratings: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ml-1m/ratings.dat", ratings)
        archive.writestr("ml-1m/movies.dat", "1::Toy Story (1995)::Animation|Children's\n2::Jumanji (1995)::Adventure\n"
                                             .encode("latin-1"))
    return buffer.getvalue()


RATINGS = "1::1::5::978300760\n1::2::3::978302109\n2::1::4::978301968\n"


def test_a_verified_archive_is_cached_as_the_canonical_table(tmp_path):
    payload = small_zip(RATINGS)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "ml-1m.zip").write_bytes(payload)
    shape = {"users": 2, "items": 2, "interactions": 3}
    table = load_movielens_1m(tmp_path, expected_md5=hashlib.md5(payload).hexdigest(), expected_shape=shape,
                              url="http://127.0.0.1:9/unreachable", timeout=0.5, verbose=False)
    assert list(table.columns) == ["user", "item", "rating", "timestamp"] and len(table) == 3
    assert table.timestamp.min() == 978300760 and (tmp_path / "ml-1m" / "items.tsv").read_text().count("Toy Story") == 1


def test_a_wrong_checksum_or_format_is_refused_with_every_source_named(tmp_path):
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "ml-1m.zip").write_bytes(small_zip(RATINGS))
    with pytest.raises(DataError, match=r"(?s)local file .*MD5 .* is not GroupLens.*GroupLens \(http://127.0.0.1:9"):
        fetch_movielens_1m(tmp_path, url="http://127.0.0.1:9/unreachable", timeout=0.5, verbose=False)
    payload = small_zip("1::1::5\n")
    (tmp_path / "downloads" / "ml-1m.zip").write_bytes(payload)
    with pytest.raises(DataError, match="line 1: expected UserID::MovieID::Rating::Timestamp"):
        fetch_movielens_1m(tmp_path, url="http://127.0.0.1:9/unreachable", timeout=0.5, verbose=False,
                           expected_md5=hashlib.md5(payload).hexdigest())
    assert not (tmp_path / "ml-1m" / "ratings.tsv").exists()  # nothing half written
