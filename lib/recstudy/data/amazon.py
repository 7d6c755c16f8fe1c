"""Amazon Video Games as preprocessed by the SASRec authors: fetch, verify, cache, parse.

The SASRec paper (Kang & McAuley, ICDM 2018) reports its results on ``Video.txt`` of
its repository: Amazon "Video Games" reviews with users and items of fewer than 5
interactions removed, ids remapped from 1, one interaction ``user item`` per line,
each user's lines in time order (no timestamps, no ratings). 31,013 users, 23,715
items, 287,107 interactions.

Sources, tried in this order by :func:`fetch_amazon_video_games` when no verified
cache exists:

1. the public raw file on GitHub (:data:`VIDEO_GAMES_URL`, a short timeout);
2. a copy the user placed in ``data/downloads/Video.txt``;
3. the offline copy beside the project,
   ``PROJECT_ROOT.parent / "shared" / "datasets" / "amazon-video-games" / "Video.txt"``.

Every source must match :data:`VIDEO_GAMES_SHA256` (the SHA-256 of the file's bytes);
the verified file is cached as ``data/amazon-video-games/Video.txt``. The data is
never committed.

:func:`load_amazon_video_games` returns the canonical table (see
:mod:`recstudy.data.interactions`): ``user`` and ``item`` are the file's ids,
``rating`` is 1.0, and ``timestamp`` is the line's position within the user's history
(0, 1, 2, ...), so that time order is file order and no two interactions of a user tie.

Run as ``python -m recstudy.data.amazon`` to fetch into the cache.
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from recstudy.config import DATA_DIR, PROJECT_ROOT
from recstudy.data.interactions import CANONICAL_COLUMNS, DataError, fetch_command

FILE_NAME = "Video.txt"
VIDEO_GAMES_URL = "https://raw.githubusercontent.com/kang205/SASRec/master/data/Video.txt"
VIDEO_GAMES_COMMIT = "e3738967fddab206d6eeb4fda433e7a7034dd8b1"  # kang205/SASRec commit holding data/Video.txt
VIDEO_GAMES_SHA256 = "b7376fe24430743f411dc7f567285657b2adb3f74361cc7ba0aee94f3024b651"
# What the file holds (the SASRec paper's Table II and ../shared/datasets/README.md).
VIDEO_GAMES_SHAPE = {"users": 31_013, "items": 23_715, "interactions": 287_107}


def cache_dir(data_dir: Path | None = None) -> Path:
    return Path(data_dir or DATA_DIR) / "amazon-video-games"


def shared_copy() -> Path:
    """Where the offline copy lies on machines without network (beside the project, never inside it)."""
    return PROJECT_ROOT.parent / "shared" / "datasets" / "amazon-video-games" / FILE_NAME


def sha256_bytes(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def parse_video_txt(payload: bytes | str, source: str = FILE_NAME) -> pd.DataFrame:
    """The canonical table of a ``user item`` file (one interaction per line, each user's lines in time order).

    ``timestamp`` is the position of the line among the user's lines (0-based), so the
    time order is the file order with no ties; ``rating`` is 1.0. Raises
    :class:`DataError` naming ``source`` and the line for a malformed line.
    """
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise DataError(f"{source}: the file is empty (expected lines `user item`)")
    try:
        raw = np.loadtxt(io.StringIO(text), dtype=np.int64, ndmin=2)
    except ValueError:
        raw = None
    if raw is None or raw.shape[1] != 2:
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if len(fields) != 2 or not all(f.lstrip("-").isdigit() for f in fields):
                raise DataError(f"{source}: line {number}: expected two integer ids `user item`, got {line!r}")
        raise DataError(f"{source}: cannot parse the file as lines of `user item`")
    table = pd.DataFrame({"user": raw[:, 0], "item": raw[:, 1]})
    table["rating"] = 1.0
    table["timestamp"] = table.groupby("user", sort=False).cumcount().astype(np.int64)
    return table.loc[:, list(CANONICAL_COLUMNS)]


def verify_bytes(payload: bytes, source: str, expected: str = VIDEO_GAMES_SHA256) -> str:
    """Check the SHA-256 of the file's bytes; return it. Raises :class:`DataError` naming ``source`` and the fix."""
    checksum = sha256_bytes(payload)
    if checksum != expected:
        raise DataError(
            f"{FILE_NAME} from {source} has sha256 {checksum}, expected {expected}: the file is corrupt, "
            f"truncated or a different version. Delete it and fetch again, or place the file from "
            f"{VIDEO_GAMES_URL} (repository kang205/SASRec, commit {VIDEO_GAMES_COMMIT}) in data/downloads/."
        )
    return checksum


def _download(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _sources(data_dir: Path | None, url: str | None, timeout: float, offline_copy: Path | None):
    if url:
        yield f"{url}", lambda: _download(url, timeout)
    downloads = Path(data_dir or DATA_DIR) / "downloads" / FILE_NAME
    for path in (downloads, offline_copy if offline_copy is not None else shared_copy()):
        yield f"local file {path}", (lambda p=path: _read_existing(p))


def _read_existing(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return path.read_bytes()


def _write_atomic(payload: bytes, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def fetch_amazon_video_games(
    data_dir: Path | None = None, *, url: str | None = VIDEO_GAMES_URL, timeout: float = 5.0,
    offline_copy: Path | None = None, expected_sha256: str = VIDEO_GAMES_SHA256, force: bool = False,
    verbose: bool = False,
) -> Path:
    """Fetch, verify and cache ``Video.txt``; return the cached file's path.

    A verified cache is reused unless ``force``. Otherwise the public URL is tried
    (``timeout`` seconds; ``url=None`` skips it), then ``data/downloads/Video.txt``,
    then the offline copy (:func:`shared_copy` unless ``offline_copy`` is given).
    Raises :class:`DataError` naming every source tried and why it failed, and the fix.
    """
    target = cache_dir(data_dir) / FILE_NAME
    if target.is_file() and not force:
        verify_bytes(target.read_bytes(), f"the cache {target} (delete it to fetch again)", expected_sha256)
        return target
    failures = []
    for name, fetch in _sources(data_dir, url, timeout, offline_copy):
        if verbose:
            print(f"Amazon Video Games: trying {name} ...", flush=True)
        try:
            payload = fetch()
            checksum = verify_bytes(payload, name, expected_sha256)
        except (OSError, DataError, ValueError) as err:  # URLError and timeouts are OSErrors
            failures.append(f"  - {name}: {type(err).__name__}: {err}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        (target.parent / "SOURCE.txt").write_text(f"source: {name}\nsha256: {checksum}\n")
        _write_atomic(payload, target)  # last: its presence means the cache is complete
        if verbose:
            print(f"Amazon Video Games: verified sha256 {checksum[:12]}..., cached in {target}")
        return target
    raise DataError(
        f"could not obtain the Amazon Video Games file {FILE_NAME}. Tried:\n" + "\n".join(failures) + "\n"
        f"Fix: connect to the internet, or download {VIDEO_GAMES_URL} (sha256 {expected_sha256}) and place it "
        f"at {Path(data_dir or DATA_DIR) / 'downloads' / FILE_NAME}, then run again."
    )


def load_amazon_video_games(data_dir: Path | None = None, **fetch_options) -> pd.DataFrame:
    """The verified canonical table of the SASRec authors' Amazon Video Games file (287,107 rows).

    Fetches into the cache first if needed (see :func:`fetch_amazon_video_games`, whose
    keyword options are passed on).
    """
    path = fetch_amazon_video_games(data_dir, **fetch_options)
    return parse_video_txt(path.read_bytes(), str(path))


def main(argv: list[str] | None = None) -> int:
    return fetch_command(lambda **options: fetch_amazon_video_games(verbose=True, **options),
                         "Fetch and verify the SASRec authors' Amazon Video Games file.", "GitHub", 5.0, argv)


if __name__ == "__main__":
    raise SystemExit(main())
