"""Item side information (title, genres, release year) aligned with a data set's item indices.

Only the models that need it read it (3D-CNN: titles and genres; MFGAN: factor
discriminators). It comes from the same verified source as the ratings: MovieLens-100K's
item file (``data/ml-100k/items.tsv``, written by ``make data``) for "ml-100k" and the
paper-shaped subsample drawn from it. A log without it (a user's own CSV, the Amazon
Video Games file, which holds ids only) gives None, and a model that needs it refuses
to be built with :class:`MissingSideInfo` naming the data set, so it is skipped, never
fed invented features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recstudy.data.interactions import DataError


class MissingSideInfo(DataError):
    """A model needs item side information that the data set does not have."""


@dataclass(frozen=True)
class ItemSideInfo:
    """Row i describes ``item_ids[i]`` (original ids); :meth:`aligned` reorders rows to item indices."""

    item_ids: np.ndarray  # (n,) original item id of each row
    titles: tuple[str, ...]  # (n,) titles ("" when unknown)
    genres: np.ndarray  # (n, G) float32 0/1 genre indicators
    genre_names: tuple[str, ...]  # (G,)
    years: np.ndarray  # (n,) float release year, NaN when unknown

    def __post_init__(self) -> None:
        n = len(self.item_ids)
        if not (len(self.titles) == n and self.genres.shape == (n, len(self.genre_names)) and len(self.years) == n):
            raise ValueError("item side information: titles, genres and years must have one row per item id")

    @classmethod
    def from_movielens_items(cls, items: pd.DataFrame) -> "ItemSideInfo":
        """From the item table of :func:`recstudy.data.movielens.load_movielens_items` (genres "|"-separated)."""
        from recstudy.data.movielens import GENRES

        genre_sets = items["genres"].fillna("").str.split("|")
        genres = np.array([[g in set(row) for g in GENRES] for row in genre_sets], dtype=np.float32)
        years = pd.to_numeric(items["year"], errors="coerce").to_numpy(dtype=float)
        return cls(items["item"].to_numpy(np.int64), tuple(items["title"].fillna("").astype(str)), genres, GENRES, years)

    def aligned(self, item_ids: np.ndarray) -> "ItemSideInfo":
        """The rows for ``item_ids`` in that order (item index i -> ``item_ids[i]``); an id without a row is an error."""
        position = pd.Series(np.arange(len(self.item_ids)), index=self.item_ids)
        missing = np.setdiff1d(item_ids, self.item_ids)
        if len(missing):
            raise DataError(f"item side information has no row for {len(missing)} item id(s), e.g. {missing[:3].tolist()}")
        rows = position.loc[item_ids].to_numpy()
        return ItemSideInfo(np.asarray(item_ids), tuple(self.titles[r] for r in rows), self.genres[rows],
                            self.genre_names, self.years[rows])


def item_side_info(dataset: str) -> ItemSideInfo | None:
    """The side information of a named data set, or None for a data set that has none."""
    if dataset in ("ml-100k", "paper-shaped"):
        from recstudy.data.movielens import load_movielens_items

        return ItemSideInfo.from_movielens_items(load_movielens_items())
    return None


def require_side_info(data_side: ItemSideInfo | None, model: str, dataset: str = "this data set") -> ItemSideInfo:
    """``data_side`` or a :class:`MissingSideInfo` that says which model needs it and which data lacks it."""
    if data_side is None:
        raise MissingSideInfo(f"{model} needs item side information (titles, genres, years); {dataset} has none, "
                              f"so {model} is skipped")
    return data_side
