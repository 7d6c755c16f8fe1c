"""Item (and user) side information aligned with a data set's indices: the data layer of the content-aware models.

Only the models that need it read it (3D-CNN: titles and genres; MFGAN: genre and
release-year discriminators). It comes from the same verified source as the ratings:

- "ml-100k" and the paper-shaped subsample drawn from it: MovieLens-100K's item file
  (``data/ml-100k/items.tsv``, written by ``make data`` from the archive whose ratings
  match :data:`recstudy.data.movielens.ML100K_SHA256`): title, release year, 19 genres.
- "ml-1m": ``data/ml-1m/items.tsv``, which :func:`recstudy.data.movielens_1m.fetch_movielens_1m`
  writes from ``ml-1m/movies.dat`` of the MD5-verified ``ml-1m.zip`` (the archive itself is
  not kept; the item table derived from it is). Titles there end in "(year)", which is split
  off into the release year; 18 genres (ML-1M has no "unknown" genre).
- Any other log (a user's own CSV, the Amazon Video Games file, which holds ids only)
  gives None, and a model that needs side information refuses to be built with
  :class:`MissingSideInfo` naming the model, so it is skipped, never fed invented features.

A popularity bucket is not side information: it is a function of the training data, so
the model that needs one computes it from what it is trained on (see MFGAN).

:meth:`ItemSideInfo.checksum` (SHA-256 of a canonical text form, independent of row order)
lets a report record exactly which side information a run read.

User side information (:class:`UserSideInfo`: age, gender, occupation of ML-100K's
``u.user``) is parsed here, but the MovieLens-100K cache does not keep the user file yet:
:func:`user_side_info` reads ``data/ml-100k/users.tsv`` once the fetch writes it (see
:func:`parse_movielens_100k_users`) and says so when it is missing.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recstudy.data.interactions import DataError

# ML-1M's movies.dat genres (the 19 of ML-100K without "unknown").
ML1M_GENRES = (
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")


class MissingSideInfo(DataError):
    """A model needs item side information that the data set does not have."""


def _sha256_lines(lines: list[str]) -> str:
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()


def _year_text(year: float) -> str:
    if np.isnan(year):
        return ""
    return str(int(year)) if float(year).is_integer() else repr(float(year))


@dataclass(frozen=True)
class ItemSideInfo:
    """Row i describes ``item_ids[i]`` (original ids); :meth:`aligned` reorders rows to item indices."""

    item_ids: np.ndarray  # (n,) original item id of each row
    titles: tuple[str, ...]  # (n,) titles without the year ("" when unknown)
    genres: np.ndarray  # (n, G) float32 0/1 genre indicators
    genre_names: tuple[str, ...]  # (G,)
    years: np.ndarray  # (n,) float release year, NaN when unknown

    def __post_init__(self) -> None:
        n = len(self.item_ids)
        if not (len(self.titles) == n and self.genres.shape == (n, len(self.genre_names)) and len(self.years) == n):
            raise ValueError("item side information: titles, genres and years must have one row per item id")
        if len(np.unique(self.item_ids)) != n:
            raise ValueError("item side information: an item id has more than one row")

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @classmethod
    def from_movielens_items(cls, items: pd.DataFrame, genre_names: tuple[str, ...] | None = None) -> "ItemSideInfo":
        """From an item table with columns item, title, genres ("|"-separated) and optionally year.

        ``genre_names`` defaults to ML-100K's 19 genres. Without a year column (ML-1M's
        movies.dat) the year is taken from a trailing "(yyyy)" of the title, which is then
        removed. A genre label outside ``genre_names`` is an error, not silently dropped.
        """
        from recstudy.data.movielens import GENRES

        names = tuple(GENRES if genre_names is None else genre_names)
        titles = items["title"].fillna("").astype(str)
        if "year" in items.columns:
            years = pd.to_numeric(items["year"], errors="coerce").to_numpy(dtype=float)
        else:
            parts = titles.str.extract(_TITLE_YEAR)
            years = pd.to_numeric(parts["year"], errors="coerce").to_numpy(dtype=float)
            titles = parts["title"].where(parts["title"].notna(), titles)
        flags = items["genres"].fillna("").astype(str).str.get_dummies(sep="|")
        unknown = sorted(set(flags.columns) - set(names))
        if unknown:
            raise DataError(f"item side information: genre label(s) {unknown} are not among {list(names)}")
        genres = flags.reindex(columns=list(names), fill_value=0).to_numpy(dtype=np.float32).clip(max=1)
        return cls(items["item"].to_numpy(np.int64), tuple(titles), genres, names, years)

    def aligned(self, item_ids: np.ndarray) -> "ItemSideInfo":
        """The rows for ``item_ids`` in that order (item index i -> ``item_ids[i]``); an id without a row is an error."""
        position = pd.Series(np.arange(len(self.item_ids)), index=self.item_ids)
        missing = np.setdiff1d(item_ids, self.item_ids)
        if len(missing):
            raise DataError(f"item side information has no row for {len(missing)} item id(s), e.g. {missing[:3].tolist()}")
        rows = position.loc[item_ids].to_numpy()
        return ItemSideInfo(np.asarray(item_ids), tuple(self.titles[r] for r in rows), self.genres[rows],
                            self.genre_names, self.years[rows])

    def canonical_lines(self) -> list[str]:
        """The canonical text form: a header naming the genres, then one line per item in item-id order.

        Each line is ``id<TAB>title<TAB>year<TAB>genre bits`` (year empty when unknown,
        bits as "0"/"1" in ``genre_names`` order); tabs and newlines in titles become spaces.
        """
        header = "item\ttitle\tyear\t" + "|".join(self.genre_names)
        order = np.argsort(self.item_ids, kind="stable")
        years = pd.Series(self.years[order])
        year_text = years.map(_year_text)
        bits = pd.DataFrame((self.genres[order] > 0.5).astype(np.int8).astype(str)).agg("".join, axis=1) \
            if self.genres.shape[1] else pd.Series([""] * len(order))
        titles = pd.Series(np.asarray(self.titles, dtype=object)[order], dtype=object).str.replace(r"[\t\r\n]", " ", regex=True)
        rows = pd.Series(self.item_ids[order]).astype(str) + "\t" + titles + "\t" + year_text + "\t" + bits
        return [header] + rows.tolist()

    def checksum(self) -> str:
        """SHA-256 of :meth:`canonical_lines` (UTF-8, "\\n"-terminated): the same content gives the same hash in any row order."""
        return _sha256_lines(self.canonical_lines())


@dataclass(frozen=True)
class UserSideInfo:
    """Row i describes ``user_ids[i]``: age (years), gender ("M"/"F"), occupation (ML-100K's 21 names)."""

    user_ids: np.ndarray  # (n,) original user ids
    ages: np.ndarray  # (n,) float
    genders: tuple[str, ...]
    occupations: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.user_ids)
        if not (len(self.ages) == n and len(self.genders) == n and len(self.occupations) == n):
            raise ValueError("user side information: ages, genders and occupations must have one row per user id")
        if len(np.unique(self.user_ids)) != n:
            raise ValueError("user side information: a user id has more than one row")

    @classmethod
    def from_frame(cls, users: pd.DataFrame) -> "UserSideInfo":
        """From a table with columns user, age, gender, occupation (as :func:`parse_movielens_100k_users` gives)."""
        return cls(users["user"].to_numpy(np.int64), pd.to_numeric(users["age"], errors="coerce").to_numpy(float),
                   tuple(users["gender"].astype(str)), tuple(users["occupation"].astype(str)))

    def aligned(self, user_ids: np.ndarray) -> "UserSideInfo":
        """The rows for ``user_ids`` in that order (user index i -> ``user_ids[i]``); an id without a row is an error."""
        position = pd.Series(np.arange(len(self.user_ids)), index=self.user_ids)
        missing = np.setdiff1d(user_ids, self.user_ids)
        if len(missing):
            raise DataError(f"user side information has no row for {len(missing)} user id(s), e.g. {missing[:3].tolist()}")
        rows = position.loc[user_ids].to_numpy()
        return UserSideInfo(np.asarray(user_ids), self.ages[rows], tuple(self.genders[r] for r in rows),
                            tuple(self.occupations[r] for r in rows))

    def occupation_names(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.occupations)))

    def checksum(self) -> str:
        """SHA-256 of ``user<TAB>age<TAB>gender<TAB>occupation`` lines in user-id order (header first)."""
        order = np.argsort(self.user_ids, kind="stable")
        lines = ["user\tage\tgender\toccupation"] + [
            f"{int(self.user_ids[r])}\t{_year_text(self.ages[r])}\t{self.genders[r]}\t{self.occupations[r]}" for r in order]
        return _sha256_lines(lines)


def parse_movielens_100k_users(text: str, source: str = "grouplens") -> pd.DataFrame:
    """The user table (user, age, gender, occupation) from ML-100K's ``u.user`` (``source="grouplens"``,
    ``user|age|gender|occupation|zip``) or the recbole wheel's ``ml-100k.user`` (``source="recbole"``, a
    tab-separated file with typed headers such as ``user_id:token``)."""
    if source == "grouplens":
        raw = pd.read_csv(io.StringIO(text), sep="|", header=None, names=["user", "age", "gender", "occupation", "zip"],
                          dtype=str, keep_default_na=False)
    elif source == "recbole":
        raw = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
        raw.columns = [c.split(":")[0] for c in raw.columns]
        raw = raw.rename(columns={"user_id": "user"})
    else:
        raise ValueError(f"source must be 'grouplens' or 'recbole', got {source!r}")
    missing = {"user", "age", "gender", "occupation"} - set(raw.columns)
    if missing:
        raise DataError(f"ML-100K user file ({source}): missing column(s) {sorted(missing)}")
    return pd.DataFrame({"user": raw["user"].astype(np.int64), "age": raw["age"].astype(np.int64),
                         "gender": raw["gender"], "occupation": raw["occupation"]}).sort_values("user", ignore_index=True)


def _ml1m_items(data_dir: Path | None) -> pd.DataFrame:
    from recstudy.data.movielens_1m import fetch_movielens_1m

    path = fetch_movielens_1m(data_dir, verbose=False) / "items.tsv"  # fetched (MD5-verified) on first use
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: delete {path.parent} and fetch ML-1M again")
    return pd.read_csv(path, sep="\t", dtype={"item": np.int64, "title": str, "genres": str}, keep_default_na=False)


def item_side_info(dataset: str, data_dir: Path | None = None) -> ItemSideInfo | None:
    """The side information of a named data set (rows keyed by original item id), or None for one that has none."""
    if dataset in ("ml-100k", "paper-shaped"):
        from recstudy.data.movielens import load_movielens_items

        return ItemSideInfo.from_movielens_items(load_movielens_items(data_dir))
    if dataset == "ml-1m":
        return ItemSideInfo.from_movielens_items(_ml1m_items(data_dir), ML1M_GENRES)
    return None


def user_side_info(dataset: str, data_dir: Path | None = None) -> UserSideInfo | None:
    """ML-100K's user attributes (also for "paper-shaped"), from ``users.tsv`` in its cache; None for other data sets.

    Raises FileNotFoundError when the cache has no ``users.tsv`` (the fetch of
    :mod:`recstudy.data.movielens` does not write it yet).
    """
    if dataset not in ("ml-100k", "paper-shaped"):
        return None
    from recstudy.data.movielens import cache_dir

    path = cache_dir(data_dir) / "users.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: the MovieLens-100K cache keeps no user file yet "
                                "(the fetch must write it with parse_movielens_100k_users)")
    return UserSideInfo.from_frame(pd.read_csv(path, sep="\t", dtype={"user": np.int64, "gender": str, "occupation": str},
                                               keep_default_na=False))


def require_side_info(data_side: ItemSideInfo | None, model: str, dataset: str = "this data set") -> ItemSideInfo:
    """``data_side`` or a :class:`MissingSideInfo` that says which model needs it and which data lacks it."""
    if data_side is None:
        raise MissingSideInfo(f"{model} needs item side information (titles, genres, years); {dataset} has none, "
                              f"so {model} is skipped")
    return data_side
