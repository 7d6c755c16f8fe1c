"""The canonical interaction table and loading a user's own interaction log.

Every data source in the study ends up as one pandas DataFrame with the columns
``user, item, rating, timestamp`` (:data:`CANONICAL_COLUMNS`):

- ``user``, ``item``: the source's own ids (integers or strings), never re-coded;
- ``rating``: float; 1.0 where the source has no rating (implicit feedback);
- ``timestamp``: int64 seconds since the Unix epoch; -1 where the source has none.

Models need contiguous 0-based indices; :class:`IndexedInteractions` makes them
and keeps the maps back to the original ids.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CANONICAL_COLUMNS: tuple[str, ...] = ("user", "item", "rating", "timestamp")
NO_TIMESTAMP: int = -1

# Accepted header names, compared after normalising: RecBole-style ":type" suffixes such as
# "user_id:token" stripped, lower case, and "_", "-" and spaces removed, so "userId", "user_id",
# "User ID" and "user-id" are one name.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "uid", "customer_id", "client_id", "visitor_id", "member_id", "account_id",
             "influencer", "influencer_id"),
    "item": ("item", "item_id", "iid", "movie_id", "product", "product_id", "sku", "asin", "article_id", "track_id",
             "book_id"),
    "rating": ("rating", "score", "stars", "value", "weight"),
    "timestamp": ("timestamp", "time", "ts", "datetime", "date", "event_time", "created_at", "unix_time"),
}
# Unix timestamps by magnitude: seconds up to 1e11 (the year 5138), milliseconds up to 1e14,
# microseconds beyond; for any date from 1973 to 5138 the three ranges do not overlap.
_MILLISECONDS_FROM, _MICROSECONDS_FROM = 1e11, 1e14
_FUTURE_SLACK_SECONDS = 86_400  # a log's clock may run a little ahead; more than a day is an error


class DataError(ValueError):
    """Input data that cannot be used; the message names the file, row or column and the problem."""


def fetch_command(fetch, description: str, host: str, timeout: float, argv: list[str] | None = None,
                  sources: list[str] | None = None) -> int:
    """The command line of a data set's fetcher (``python -m recstudy.data.<name>``): one line on failure, exit 1.

    ``fetch(timeout=..., force=...)`` (and ``source=...`` when ``sources`` are offered) fetches and verifies.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=description)
    if sources:
        parser.add_argument("--source", default=sources[0], choices=sources)
    parser.add_argument("--timeout", type=float, default=timeout, help=f"seconds to wait for {host}")
    parser.add_argument("--force", action="store_true", help="fetch again even if a verified cache exists")
    args = parser.parse_args(argv)
    try:
        fetch(timeout=args.timeout, force=args.force, **({"source": args.source} if sources else {}))
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def canonical_checksum(df: pd.DataFrame) -> str:
    """SHA-256 of the canonical table serialised as tab-separated text, rows sorted by (user, item, timestamp).

    Two sources that hold the same interactions give the same checksum whatever
    their file format or row order.
    """
    missing = [c for c in CANONICAL_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"not a canonical table: missing column(s) {missing}")
    ordered = df.loc[:, list(CANONICAL_COLUMNS)].sort_values(["user", "item", "timestamp"], kind="stable")
    # Integral ratings are written as integers so 3 and 3.0 hash alike.
    rating = ordered["rating"].to_numpy(dtype=float)
    rating_text = np.where(rating == np.round(rating), np.round(rating).astype(np.int64).astype(str), rating.astype(str))
    text = ordered.assign(rating=rating_text).to_csv(sep="\t", index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _match_column(header: list[str], role: str, explicit: str | None, path: Path) -> str | None:
    if explicit is not None:
        if explicit not in header:
            raise DataError(f"{path}: column {explicit!r} given for {role} is not in the header {header}")
        return explicit
    aliases = {_normalise(alias) for alias in COLUMN_ALIASES[role]}
    matches = [h for h in header if _normalise(h) in aliases]
    if not matches:  # second chance: a qualified name that ends in an alias ("productSku", "shopperUserId")
        matches = [h for h in header if any(_normalise(h).endswith(a) and len(a) >= 3 for a in aliases)]
    if len(matches) > 1:
        raise DataError(f"{path}: columns {matches} could each be the {role} column; pass {role}_col=... to choose")
    return matches[0] if matches else None


def _normalise(name: str) -> str:
    return "".join(ch for ch in name.split(":")[0].strip().lower() if ch not in "_- ")


def _detect_separator(path: Path, sample: str) -> str:
    """The separator sniffed from the first lines (comma, tab, semicolon or pipe), whatever the file's suffix."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {sep: header.count(sep) for sep in (",", "\t", ";", "|")}
        best = max(counts, key=counts.get)
        if counts[best] == 0:
            raise DataError(f"{path}: cannot tell the column separator from the header line {header!r}; "
                            "use comma, tab, semicolon or pipe, or pass sep=...") from None
        return best


def _read_text(path: Path, encoding: str, binary_probe: int = 65536) -> str:
    """The whole file as text, read and decoded once; a binary file or a wrong encoding is a DataError naming the file and line."""
    data = path.read_bytes()
    if b"\x00" in data[:binary_probe]:
        raise DataError(f"{path}: this is a binary file (it contains NUL bytes), not a CSV/TSV text log; "
                        "unpack it first if it is an archive")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: byte 0x{data[err.start]:02x} is not valid {encoding}; "
                        f"save the file as UTF-8 or pass encoding=... (e.g. encoding='latin-1')") from None


def _as_ids(values: pd.Series) -> pd.Series:
    """Integer ids stay integers; anything else becomes stripped strings."""
    as_text = values.astype(str).str.strip()
    numeric = pd.to_numeric(as_text, errors="coerce")
    if numeric.notna().all() and (numeric == np.round(numeric)).all():
        return numeric.astype(np.int64)
    return as_text


def _parse_timestamps(values: pd.Series, path: Path, column: str) -> np.ndarray:
    seconds = _timestamps_in_seconds(values, path, column)
    now = pd.Timestamp.now(tz="UTC").timestamp()
    for bad, problem in ((seconds < 0, "is before 1970 (negative)"), (seconds > now + _FUTURE_SLACK_SECONDS, "is in the future")):
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}: line {row + 2}, column {column!r}: timestamp {values.iloc[row].strip()!r} {problem}")
    return seconds


def _timestamps_in_seconds(values: pd.Series, path: Path, column: str) -> np.ndarray:
    text = values.astype(str).str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().all():
        magnitude = float(np.abs(numeric).max()) if len(numeric) else 0.0
        # Unix seconds, milliseconds or microseconds, told apart by their magnitude (see the constants above).
        divisor = 1_000_000 if magnitude >= _MICROSECONDS_FROM else 1_000 if magnitude >= _MILLISECONDS_FROM else 1
        return (numeric.astype(np.float64) // divisor).astype(np.int64).to_numpy()
    if numeric.notna().mean() >= 0.5:  # a numeric column with a few stray values: always raises below
        bad = numeric.isna().to_numpy()
    else:
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
        bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: line {row + 2}, column {column!r}: cannot parse timestamp {text.iloc[row]!r} "
            f"({int(bad.sum())} unparsable value(s) in all); use Unix seconds or an ISO 8601 date"
        )
    # Unit-independent (pandas 3 may parse at us rather than ns resolution).
    return ((parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_interactions` did to the file, for the notebook to show."""

    path: str
    rows_read: int
    duplicates_dropped: int
    columns_used: dict[str, str | None]


def load_interactions(
    path: str | Path,
    *,
    user_col: str | None = None,
    item_col: str | None = None,
    rating_col: str | None = None,
    timestamp_col: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8",
    min_interactions: int = 10,
) -> tuple[pd.DataFrame, LoadReport]:
    """Load a CSV/TSV interaction log into the canonical table.

    Columns are found by name (see :data:`COLUMN_ALIASES`) unless given. User and
    item ids may be integers or strings. Exact duplicate rows are dropped and
    counted in the returned :class:`LoadReport`.

    The separator (comma, tab, semicolon or pipe) is sniffed unless ``sep`` is given; a
    UTF-8 byte-order mark is accepted; Unix timestamps in seconds, milliseconds or
    microseconds are told apart by magnitude and stored in seconds.

    Raises :class:`FileNotFoundError` for a missing path and :class:`DataError`
    (naming the file, line or column) for a binary file, text not in ``encoding``, an
    empty file, a malformed row, missing or ambiguous columns, empty ids, unparsable
    ratings or timestamps, negative or future timestamps, or fewer than
    ``min_interactions`` rows.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"interaction file not found: {path} (looked in {path.resolve().parent})")
    encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding  # accept a BOM
    text = _read_text(path, encoding)
    if not text.strip():
        raise DataError(f"{path}: the file is empty (expected a header line with user and item columns)")
    sep = sep or _detect_separator(path, "\n".join(text[:65536].splitlines()[:20]))
    try:  # parse the text already decoded rather than reading and decoding the file a second time
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as err:
        raise DataError(f"{path}: malformed file: {err}") from err
    if raw.empty:
        raise DataError(f"{path}: the file has a header but no rows")
    header = list(raw.columns)
    used = {
        "user": _match_column(header, "user", user_col, path),
        "item": _match_column(header, "item", item_col, path),
        "rating": _match_column(header, "rating", rating_col, path),
        "timestamp": _match_column(header, "timestamp", timestamp_col, path),
    }
    claimed = [column for column in used.values() if column is not None]
    for column in {c for c in claimed if claimed.count(c) > 1}:
        roles = [role for role, c in used.items() if c == column]
        raise DataError(f"{path}: column {column!r} could be the {' or the '.join(roles)} column; pass "
                        + " and ".join(f"{role}_col=..." for role in roles) + " to choose")
    for role in ("user", "item"):
        if used[role] is None:
            raise DataError(
                f"{path}: no {role} column; the header is {header}. Name it one of "
                f"{list(COLUMN_ALIASES[role])} or pass {role}_col=..."
            )
    for role in ("user", "item"):
        empty = (raw[used[role]].str.strip() == "").to_numpy()
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise DataError(f"{path}: line {row + 2}, column {used[role]!r}: empty {role} id")

    table = pd.DataFrame({"user": _as_ids(raw[used["user"]]), "item": _as_ids(raw[used["item"]])})
    if used["rating"] is None:
        table["rating"] = 1.0
    else:
        rating = pd.to_numeric(raw[used["rating"]].str.strip(), errors="coerce")
        if rating.isna().any():
            row = int(np.flatnonzero(rating.isna().to_numpy())[0])
            raise DataError(
                f"{path}: line {row + 2}, column {used['rating']!r}: rating {raw[used['rating']].iloc[row]!r} is not a number"
            )
        table["rating"] = rating.astype(float)
    if used["timestamp"] is None:
        table["timestamp"] = np.int64(NO_TIMESTAMP)
    else:
        table["timestamp"] = _parse_timestamps(raw[used["timestamp"]], path, used["timestamp"])

    rows_read = len(table)
    table = table.drop_duplicates(ignore_index=True)
    if len(table) < min_interactions:
        raise DataError(
            f"{path}: only {len(table)} interaction(s) after dropping duplicates; at least {min_interactions} are needed"
        )
    report = LoadReport(str(path), rows_read, rows_read - len(table), used)
    return table, report


@dataclass(frozen=True)
class IndexedInteractions:
    """Interactions with contiguous 0-based user and item indices, as models need them."""

    users: np.ndarray  # int64 user index per interaction
    items: np.ndarray  # int64 item index per interaction
    ratings: np.ndarray  # float64
    timestamps: np.ndarray  # int64 seconds, -1 where unknown
    user_ids: np.ndarray  # original id of each user index
    item_ids: np.ndarray  # original id of each item index

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.users)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "IndexedInteractions":
        """Index a canonical table; ids are numbered in sorted order, so the coding is deterministic."""
        users, user_ids = pd.factorize(df["user"], sort=True)
        items, item_ids = pd.factorize(df["item"], sort=True)
        return cls(
            users=users.astype(np.int64),
            items=items.astype(np.int64),
            ratings=df["rating"].to_numpy(dtype=np.float64),
            timestamps=df["timestamp"].to_numpy(dtype=np.int64),
            user_ids=np.asarray(user_ids),
            item_ids=np.asarray(item_ids),
        )
