"""The Amazon Video Games loader: parsing, checksum, sources and cache (on tiny files, no network)."""

from __future__ import annotations

import hashlib
import urllib.error

import numpy as np
import pytest

from recstudy.data import amazon
from recstudy.data.interactions import CANONICAL_COLUMNS, DataError

TINY = b"1 5\n1 3\n1 9\n2 3\n2 7\n2 5\n2 1\n3 9\n3 5\n3 3\n"
TINY_SHA = hashlib.sha256(TINY).hexdigest()


@pytest.fixture()
def no_network(monkeypatch):
    calls = []

    def fail(url, timeout):
        calls.append((url, timeout))
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(amazon, "_download", fail)
    return calls


def test_parse_gives_the_canonical_table_in_file_order():
    table = amazon.parse_video_txt(TINY)
    assert list(table.columns) == list(CANONICAL_COLUMNS)
    assert table.dtypes.to_dict() == {"user": np.int64, "item": np.int64, "rating": np.float64, "timestamp": np.int64}
    assert table["user"].tolist() == [1, 1, 1, 2, 2, 2, 2, 3, 3, 3]
    assert table["item"].tolist() == [5, 3, 9, 3, 7, 5, 1, 9, 5, 3]
    assert table["timestamp"].tolist() == [0, 1, 2, 0, 1, 2, 3, 0, 1, 2]  # position within the user's history
    assert (table["rating"] == 1.0).all()


def test_parse_rejects_a_malformed_line_naming_file_and_line():
    with pytest.raises(DataError, match=r"Video.txt: line 2: expected two integer ids"):
        amazon.parse_video_txt(b"1 5\n1 x\n", "Video.txt")
    with pytest.raises(DataError, match="empty"):
        amazon.parse_video_txt(b"\n", "Video.txt")


def test_checksum_mismatch_raises_naming_the_file(tmp_path, no_network):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "Video.txt").write_bytes(TINY)
    with pytest.raises(DataError) as err:
        amazon.fetch_amazon_video_games(tmp_path, offline_copy=tmp_path / "absent.txt")
    message = str(err.value)
    assert str(downloads / "Video.txt") in message and TINY_SHA in message and amazon.VIDEO_GAMES_SHA256 in message
    assert "Fix:" in message
    assert not (tmp_path / "amazon-video-games" / "Video.txt").exists()  # nothing unverified is cached


def test_offline_copy_is_used_when_the_url_fails_and_then_cached(tmp_path, no_network):
    offline = tmp_path / "shared" / "Video.txt"
    offline.parent.mkdir()
    offline.write_bytes(TINY)
    table = amazon.load_amazon_video_games(tmp_path / "data", offline_copy=offline, expected_sha256=TINY_SHA)
    assert len(no_network) == 1 and no_network[0][0] == amazon.VIDEO_GAMES_URL  # the URL was tried first
    assert len(table) == 10
    cached = tmp_path / "data" / "amazon-video-games" / "Video.txt"
    assert cached.read_bytes() == TINY
    assert str(offline) in (cached.parent / "SOURCE.txt").read_text()
    offline.unlink()  # the verified cache serves later calls
    again = amazon.load_amazon_video_games(tmp_path / "data", offline_copy=offline, expected_sha256=TINY_SHA)
    assert again.equals(table) and len(no_network) == 1


def test_the_url_is_used_when_reachable(tmp_path, monkeypatch):
    monkeypatch.setattr(amazon, "_download", lambda url, timeout: TINY)
    amazon.fetch_amazon_video_games(tmp_path, offline_copy=tmp_path / "absent.txt", expected_sha256=TINY_SHA)
    assert amazon.VIDEO_GAMES_URL in (tmp_path / "amazon-video-games" / "SOURCE.txt").read_text()


def test_a_corrupt_cache_and_a_missing_source_raise_with_the_fix(tmp_path, no_network):
    with pytest.raises(DataError, match=r"(?s)could not obtain.*Tried:.*URLError.*does not exist.*Fix:"):
        amazon.fetch_amazon_video_games(tmp_path, offline_copy=tmp_path / "absent.txt")
    cache = tmp_path / "amazon-video-games"
    cache.mkdir()
    (cache / "Video.txt").write_bytes(TINY[:-4])
    with pytest.raises(DataError, match=r"the cache .*Video.txt \(delete it to fetch again\)"):
        amazon.fetch_amazon_video_games(tmp_path, expected_sha256=TINY_SHA)


def test_the_offline_copy_lies_beside_the_project():
    from recstudy.config import PROJECT_ROOT

    assert amazon.shared_copy() == PROJECT_ROOT.parent / "shared" / "datasets" / "amazon-video-games" / "Video.txt"
