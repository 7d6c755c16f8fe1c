"""Descriptive statistics of an interaction table."""

from __future__ import annotations

import pandas as pd

from recstudy.data.paper_shape import PAPER_A_SHAPE

# Paper A reports only the shape of its data (STUDY.md); its degree statistics are unknown.
PAPER_A_STATS: dict[str, float | None] = {
    "users": PAPER_A_SHAPE["users"],
    "items": PAPER_A_SHAPE["items"],
    "interactions": PAPER_A_SHAPE["interactions"],
    "sparsity %": 98.94,
}

STAT_ROWS = (
    "users", "items", "interactions", "sparsity %",
    "per user: min", "per user: median", "per user: max",
    "per item: min", "per item: median", "per item: max",
)


def dataset_statistics(df: pd.DataFrame) -> dict[str, float]:
    """Users, items, interactions, sparsity (%), and min/median/max interactions per user and per item."""
    per_user = df.groupby("user").size()
    per_item = df.groupby("item").size()
    n_users, n_items, n = len(per_user), len(per_item), len(df)
    return {
        "users": n_users,
        "items": n_items,
        "interactions": n,
        "sparsity %": round(100.0 * (1.0 - n / (n_users * n_items)), 2),
        "per user: min": int(per_user.min()),
        "per user: median": float(per_user.median()),
        "per user: max": int(per_user.max()),
        "per item: min": int(per_item.min()),
        "per item: median": float(per_item.median()),
        "per item: max": int(per_item.max()),
    }


def statistics_table(datasets: dict[str, pd.DataFrame], *, with_paper_a: bool = True) -> pd.DataFrame:
    """One column per dataset (plus Paper A's reported numbers), one row per statistic."""
    columns = {name: dataset_statistics(df) for name, df in datasets.items()}
    if with_paper_a:
        columns["Paper A (reported)"] = PAPER_A_STATS
    # object columns so counts stay integers beside fractional values; unknown values print as "n/a".
    tidy = {
        name: pd.Series({k: int(v) if float(v).is_integer() else v for k, v in col.items()}, dtype=object)
        for name, col in columns.items()
    }
    return pd.DataFrame(tidy).reindex(list(STAT_ROWS)).fillna("n/a")
