"""MovieLens-1M: fetch from GroupLens (or a copy in ``data/downloads/``), verify, normalise, cache.

The archive ``ml-1m.zip`` must have the MD5 that GroupLens publishes beside it
(:data:`ML1M_ZIP_MD5`) and hold 1,000,209 ratings of 3,706 movies by 6,040 users in
``ml-1m/ratings.dat`` (``UserID::MovieID::Rating::Timestamp``, Unix seconds); the titles
and genres come from ``ml-1m/movies.dat`` (Latin-1). Everything is stored as the study's
canonical table in ``data/ml-1m/``; ``ratings.tsv`` is written last, so its presence
means the cache is complete.

Run as ``python -m recstudy.data.movielens_1m`` to fetch it on its own; ``load_dataset("ml-1m")``
fetches it on first use.
"""

from __future__ import annotations

import hashlib
import io
import sys
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from recstudy.config import DATA_DIR
from recstudy.data.interactions import CANONICAL_COLUMNS, DataError, canonical_checksum
from recstudy.data.movielens import _ratings_frame, _write_atomic

ML1M_URL = "https://files.grouplens.org/datasets/movielens/ml-1m.zip"
ML1M_ZIP_MD5 = "c4d9eecfca2ab87c1945afe126590906"  # published by GroupLens as ml-1m.zip.md5
ML1M_SHAPE = {"users": 6_040, "items": 3_706, "interactions": 1_000_209}
ZIP_NAME = "ml-1m.zip"


def cache_dir(data_dir: Path | None = None) -> Path:
    return Path(data_dir or DATA_DIR) / "ml-1m"


def parse_ml1m_zip(payload: bytes, source: str = ZIP_NAME) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ratings as the canonical table, items: item, title, genres) from an archive in GroupLens' ML-1M format."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        ratings_text = archive.read("ml-1m/ratings.dat").decode("latin-1")
        movies_text = archive.read("ml-1m/movies.dat").decode("latin-1")
    except (zipfile.BadZipFile, KeyError) as err:
        raise DataError(f"{source}: not an ML-1M archive (needs ml-1m/ratings.dat and ml-1m/movies.dat): {err}") from err
    rows = [line.split("::") for line in ratings_text.splitlines() if line.strip()]
    bad = next((n for n, fields in enumerate(rows, start=1) if len(fields) != 4), None)
    if bad is not None:
        raise DataError(f"{source}: ml-1m/ratings.dat line {bad}: expected UserID::MovieID::Rating::Timestamp")
    values = np.asarray(rows, dtype=np.int64)
    ratings = _ratings_frame(values[:, 0], values[:, 1], values[:, 2], values[:, 3])
    movies = [line.split("::") for line in movies_text.splitlines() if line.strip()]
    items = pd.DataFrame({"item": [int(m[0]) for m in movies], "title": [m[1] for m in movies],
                          "genres": [m[2] if len(m) > 2 else "" for m in movies]})
    return ratings, items


def verify_zip(payload: bytes, source: str, expected_md5: str = ML1M_ZIP_MD5) -> None:
    digest = hashlib.md5(payload).hexdigest()
    if digest != expected_md5:
        raise DataError(f"{source}: MD5 {digest} is not GroupLens' {expected_md5} for ml-1m.zip; "
                        "the download is corrupt or another release: delete it and fetch again")


def _download(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def fetch_movielens_1m(data_dir: Path | None = None, *, url: str = ML1M_URL, timeout: float = 15.0,
                       expected_md5: str = ML1M_ZIP_MD5, expected_shape: dict[str, int] | None = ML1M_SHAPE,
                       verbose: bool = True) -> Path:
    """Fetch, verify and cache MovieLens-1M; return the cache directory.

    Sources in order: ``data/downloads/ml-1m.zip`` (for machines without a network), then
    ``url``. Raises :class:`DataError` naming every source tried and why it failed.
    ``expected_md5`` and ``expected_shape`` exist for tests on a small archive.
    """
    target = cache_dir(data_dir)
    if (target / "ratings.tsv").is_file():
        return target
    local = target.parent / "downloads" / ZIP_NAME
    sources = ([(f"local file {local}", local.read_bytes)] if local.is_file() else []) + \
        [(f"GroupLens ({url})", lambda: _download(url, timeout))]
    failures = []
    for name, fetch in sources:
        if verbose:
            print(f"MovieLens-1M: trying {name} ...", flush=True)
        try:
            payload = fetch()
            verify_zip(payload, name, expected_md5)
            ratings, items = parse_ml1m_zip(payload, name)
        except (OSError, DataError, ValueError) as err:
            failures.append(f"  - {name}: {type(err).__name__}: {err}")
            continue
        shape = {"users": ratings.user.nunique(), "items": ratings.item.nunique(), "interactions": len(ratings)}
        if expected_shape is not None and shape != expected_shape:
            failures.append(f"  - {name}: shape {shape}, expected {expected_shape}")
            continue
        target.mkdir(parents=True, exist_ok=True)
        _write_atomic(items.sort_values("item"), target / "items.tsv")
        checksum = canonical_checksum(ratings)
        (target / "SOURCE.txt").write_text(f"source: {name}\nzip md5: {expected_md5}\ntable sha256: {checksum}\n")
        _write_atomic(ratings.sort_values(["user", "item", "timestamp"], kind="stable"), target / "ratings.tsv")
        if verbose:
            print(f"MovieLens-1M: verified (zip md5 {expected_md5[:12]}...), cached in {target}")
        return target
    raise DataError("could not obtain MovieLens-1M. Tried:\n" + "\n".join(failures) + "\n"
                    f"Fix: connect to the internet, or place {ZIP_NAME} from GroupLens in {local.parent}/ and try again.")


def load_movielens_1m(data_dir: Path | None = None, **fetch_options) -> pd.DataFrame:
    """The canonical MovieLens-1M ratings, fetched and verified on first use."""
    path = fetch_movielens_1m(data_dir, **fetch_options) / "ratings.tsv"
    ratings = pd.read_csv(path, sep="\t", dtype={"user": np.int64, "item": np.int64, "rating": np.float64, "timestamp": np.int64})
    if list(ratings.columns) != list(CANONICAL_COLUMNS):
        raise DataError(f"{path}: columns {list(ratings.columns)} are not {list(CANONICAL_COLUMNS)}; delete it and fetch again")
    return ratings


def main(argv: list[str] | None = None) -> int:
    try:
        fetch_movielens_1m()
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
