"""One entry point from a notebook's ``dataset`` parameter to a verified canonical table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recstudy.config import DEFAULT_SEED
from recstudy.data.interactions import canonical_checksum, load_interactions
from recstudy.data.movielens import load_movielens_100k
from recstudy.data.paper_shape import paper_shaped_subsample

DATASETS = ("ml-100k", "paper-shaped", "amazon-video", "ml-1m")
# How reports name the data sets in their text.
DISPLAY_NAMES = {"ml-100k": "MovieLens-100K", "paper-shaped": "the paper-shaped set", "amazon-video": "Amazon Video Games",
                 "ml-1m": "MovieLens-1M"}
# Named data sets whose "timestamp" is only each user's line order (the file has no dates).
ORDER_ONLY_DATASETS = ("amazon-video",)


LOG_OPTIONS = ("user_col", "item_col", "rating_col", "timestamp_col", "sep", "encoding")


def log_options(spec: str) -> tuple[str, dict[str, str]]:
    """A log's path and its loader options from ``path?item_col=sku&sep=;`` (``make DATA=... ITEM_COL=sku``)."""
    from urllib.parse import parse_qsl

    path, _, query = spec.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    unknown = sorted(set(options) - set(LOG_OPTIONS))
    if unknown:
        raise ValueError(f"{spec}: unknown loader option(s) {unknown}; the options are {list(LOG_OPTIONS)}")
    return path, options


def display_name(name: str) -> str:
    """The name of data set ``name`` in a report's text: "MovieLens-100K", or a log's file name."""
    return DISPLAY_NAMES.get(name) or Path(name.partition("?")[0]).name


def load_dataset(name: str, *, subsample_seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, str]:
    """The canonical table for ``name`` and its SHA-256.

    ``name`` is "ml-100k" (all 100,000 ratings), "paper-shaped" (Paper A's
    407 x 462 x 2,000 shape drawn from MovieLens-100K with ``subsample_seed``),
    "amazon-video" (the SASRec authors' Amazon Video Games file: 31,013 users, 23,715
    items, 287,107 interactions in each user's time order, fetched and verified by
    :mod:`recstudy.data.amazon`), "ml-1m" (MovieLens-1M from GroupLens, MD5-verified, see
    :mod:`recstudy.data.movielens_1m`) or the path of a CSV/TSV interaction log (see
    :func:`recstudy.data.interactions.load_interactions`), optionally followed by loader
    options as in ``my_log.csv?item_col=sku&sep=;`` (:func:`log_options`).
    """
    if name == "ml-100k":
        table = load_movielens_100k()
    elif name == "paper-shaped":
        table = paper_shaped_subsample(load_movielens_100k(), seed=subsample_seed)
    elif name == "amazon-video":
        from recstudy.data.amazon import load_amazon_video_games

        table = load_amazon_video_games()
    elif name == "ml-1m":
        from recstudy.data.movielens_1m import load_movielens_1m

        table = load_movielens_1m()
    elif Path(log_path := name.partition("?")[0]).suffix.lower() in (".csv", ".tsv", ".txt") or Path(log_path).exists():
        path, options = log_options(name)
        table, _ = load_interactions(path, **options)
    else:
        raise ValueError(f"unknown dataset {name!r}: use one of {list(DATASETS)} or the path of a CSV/TSV file")
    return table, canonical_checksum(table)
