"""MovieLens-100K: fetch from its home or a PyPI mirror, normalise, verify, cache.

Sources, tried in this order by ``fetch_movielens_100k(source="auto")``:

1. a file the user placed in ``data/downloads/`` (``ml-100k.zip`` or the recbole
   wheel), for machines with no network at all;
2. the GroupLens download (the data's home);
3. the ``recbole==1.2.1`` wheel from PyPI (``pip download --no-deps``), which ships
   the same ratings as ``recbole/dataset_example/ml-100k/ml-100k.inter``.

Every source is normalised to the canonical table (see :mod:`recstudy.data.interactions`)
and must match :data:`ML100K_SHA256`, so all sources give byte-identical data.

Run as ``python -m recstudy.data.movielens`` to fetch into the cache (``make data`` does).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from recstudy.config import DATA_DIR
from recstudy.data.interactions import CANONICAL_COLUMNS, DataError, canonical_checksum, fetch_command

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
RECBOLE_MEMBER = "recbole/dataset_example/ml-100k/ml-100k"

# SHA-256 of the canonical ratings table (see recstudy.data.interactions.canonical_checksum).
ML100K_SHA256 = "7fd6ef07a85b3071b0e7c1bbfd39fb571e6b3d490a0201334cdfeab9d7157019"
ML100K_SHAPE = {"users": 943, "items": 1682, "interactions": 100_000}

GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)


def cache_dir(data_dir: Path | None = None) -> Path:
    return Path(data_dir or DATA_DIR) / "ml-100k"


def _clean_year(year: pd.Series) -> pd.Series:
    """Four-digit years stay; blanks and typos such as recbole's "unkonwn" become "unknown"."""
    return year.fillna("").where(year.fillna("").str.fullmatch(r"\d{4}"), "unknown")


def _ratings_frame(user, item, rating, timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user": np.asarray(user, dtype=np.int64),
            "item": np.asarray(item, dtype=np.int64),
            "rating": np.asarray(rating, dtype=np.float64),
            "timestamp": np.asarray(timestamp, dtype=np.int64),
        }
    )


def parse_grouplens_zip(payload: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings and items from the GroupLens ``ml-100k.zip`` (``u.data``, ``u.item``)."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        data = archive.read("ml-100k/u.data").decode("latin-1")
        item_text = archive.read("ml-100k/u.item").decode("latin-1")
    raw = pd.read_csv(io.StringIO(data), sep="\t", header=None, names=["u", "i", "r", "t"])
    ratings = _ratings_frame(raw.u, raw.i, raw.r, raw.t)
    cols = ["item", "title_year", "release", "video", "url", *GENRES]
    items = pd.read_csv(io.StringIO(item_text), sep="|", header=None, names=cols, dtype=str, keep_default_na=False)
    year = items["title_year"].str.extract(r"\((\d{4})\)\s*$")[0]
    year = year.fillna(items["release"].str[-4:])
    title = items["title_year"].str.replace(r"\s*\(\d{4}\)\s*$", "", regex=True)
    flags = items[list(GENRES)].to_numpy() == "1"
    genres = ["|".join(g for g, on in zip(GENRES, row) if on) for row in flags]
    return ratings, pd.DataFrame(
        {"item": items["item"].astype(np.int64), "title": title, "year": _clean_year(year), "genres": genres}
    )


def parse_recbole_wheel(payload: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings and items from the recbole wheel's ``ml-100k.inter`` and ``ml-100k.item``."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        inter = archive.read(RECBOLE_MEMBER + ".inter").decode("utf-8")
        item_text = archive.read(RECBOLE_MEMBER + ".item").decode("utf-8")
    raw = pd.read_csv(io.StringIO(inter), sep="\t")
    raw.columns = [c.split(":")[0] for c in raw.columns]
    ratings = _ratings_frame(raw.user_id, raw.item_id, raw.rating, raw.timestamp)
    items = pd.read_csv(io.StringIO(item_text), sep="\t", dtype=str, keep_default_na=False)
    items.columns = [c.split(":")[0] for c in items.columns]
    return ratings, pd.DataFrame(
        {
            "item": items["item_id"].astype(np.int64),
            "title": items["movie_title"],
            "year": _clean_year(items["release_year"]),
            "genres": items["class"].str.split().str.join("|"),
        }
    )


def _download_grouplens(timeout: float) -> bytes:
    with urllib.request.urlopen(GROUPLENS_URL, timeout=timeout) as response:
        return response.read()


def _download_recbole_wheel() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, RECBOLE_REQUIREMENT]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise OSError(f"`{' '.join(cmd[2:])}` failed: {done.stderr.strip()[-500:]}")
        wheel = Path(tmp) / RECBOLE_WHEEL
        if not wheel.is_file():
            raise OSError(f"pip download did not produce {RECBOLE_WHEEL} (got {os.listdir(tmp)})")
        return wheel.read_bytes()


def verify_ratings(ratings: pd.DataFrame, source: str) -> str:
    """Check shape and checksum of a normalised ratings table; return the checksum."""
    shape = {"users": ratings.user.nunique(), "items": ratings.item.nunique(), "interactions": len(ratings)}
    checksum = canonical_checksum(ratings)
    if shape != ML100K_SHAPE or checksum != ML100K_SHA256:
        raise DataError(
            f"MovieLens-100K from {source} does not match the expected data: shape {shape} "
            f"(expected {ML100K_SHAPE}), sha256 {checksum} (expected {ML100K_SHA256}). "
            "The download may be corrupt or a different release; delete it and fetch again."
        )
    return checksum


def _sources(source: str, downloads: Path, timeout: float):
    local_zip, local_wheel = downloads / "ml-100k.zip", downloads / RECBOLE_WHEEL
    if source in ("auto", "local"):
        if local_zip.is_file():
            yield f"local file {local_zip}", lambda: parse_grouplens_zip(local_zip.read_bytes())
        if local_wheel.is_file():
            yield f"local file {local_wheel}", lambda: parse_recbole_wheel(local_wheel.read_bytes())
    if source in ("auto", "grouplens"):
        yield f"GroupLens ({GROUPLENS_URL})", lambda: parse_grouplens_zip(_download_grouplens(timeout))
    if source in ("auto", "recbole"):
        yield f"PyPI wheel {RECBOLE_REQUIREMENT}", lambda: parse_recbole_wheel(_download_recbole_wheel())


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    os.replace(tmp, path)


def fetch_movielens_100k(
    data_dir: Path | None = None, *, source: str = "auto", timeout: float = 15.0, force: bool = False, verbose: bool = True
) -> Path:
    """Fetch, normalise, verify and cache MovieLens-100K; return the cache directory.

    ``source`` is "auto", "local", "grouplens" or "recbole". An existing verified
    cache is kept unless ``force``. Raises :class:`DataError` naming every source
    tried and why it failed when none gives the expected data.
    """
    if source not in ("auto", "local", "grouplens", "recbole"):
        raise ValueError(f"unknown source {source!r}: use 'auto', 'local', 'grouplens' or 'recbole'")
    target = cache_dir(data_dir)
    if not force and (target / "ratings.tsv").is_file():
        load_movielens_100k(data_dir)  # verifies the checksum
        return target
    downloads = target.parent / "downloads"
    failures = []
    for name, fetch in _sources(source, downloads, timeout):
        if verbose:
            print(f"MovieLens-100K: trying {name} ...", flush=True)
        try:
            ratings, items = fetch()
            checksum = verify_ratings(ratings, name)
        except (OSError, zipfile.BadZipFile, KeyError, subprocess.SubprocessError, DataError, ValueError) as err:
            failures.append(f"  - {name}: {type(err).__name__}: {err}")
            continue
        target.mkdir(parents=True, exist_ok=True)
        _write_atomic(items.sort_values("item"), target / "items.tsv")
        (target / "SOURCE.txt").write_text(f"source: {name}\nsha256: {checksum}\n")
        # ratings.tsv last: its presence means the cache is complete.
        _write_atomic(ratings.sort_values(["user", "item", "timestamp"], kind="stable"), target / "ratings.tsv")
        if verbose:
            print(f"MovieLens-100K: verified sha256 {checksum[:12]}..., cached in {target}")
        return target
    tried = "\n".join(failures) or f"  - source {source!r}: no file in {downloads}/"
    raise DataError(
        "could not obtain MovieLens-100K. Tried:\n" + tried + "\n"
        f"Fix: connect to the internet (GroupLens or PyPI), or place ml-100k.zip from GroupLens or "
        f"{RECBOLE_WHEEL} from PyPI in {downloads}/ and run `make data` again."
    )


def load_movielens_100k(data_dir: Path | None = None) -> pd.DataFrame:
    """The verified canonical MovieLens-100K ratings (100,000 rows). Run ``make data`` first."""
    path = cache_dir(data_dir) / "ratings.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `make data` (or recstudy.data.movielens.fetch_movielens_100k())")
    ratings = pd.read_csv(path, sep="\t", dtype={"user": np.int64, "item": np.int64, "rating": np.float64, "timestamp": np.int64})
    if list(ratings.columns) != list(CANONICAL_COLUMNS):
        raise DataError(f"{path}: columns {list(ratings.columns)} are not {list(CANONICAL_COLUMNS)}; delete it and run `make data`")
    verify_ratings(ratings, str(path))
    return ratings


def load_movielens_items(data_dir: Path | None = None) -> pd.DataFrame:
    """Item id, title, year and genres ("|"-separated) of the 1,682 movies."""
    path = cache_dir(data_dir) / "items.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `make data`")
    return pd.read_csv(path, sep="\t", dtype={"item": np.int64, "title": str, "year": str, "genres": str}, keep_default_na=False)


def main(argv: list[str] | None = None) -> int:
    return fetch_command(fetch_movielens_100k, "Fetch and verify MovieLens-100K into data/ml-100k/.", "GroupLens", 15.0, argv,
                         sources=["auto", "local", "grouplens", "recbole"])


if __name__ == "__main__":
    raise SystemExit(main())
