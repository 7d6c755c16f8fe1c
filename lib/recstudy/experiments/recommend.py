"""Recommendations a person can read: a user's top-N items with titles and scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from recstudy.data.interactions import IndexedInteractions


@torch.no_grad()
def top_n(
    model: Any, user_id: Any, n: int, items_table: pd.DataFrame, *, data: IndexedInteractions,
    exclude: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The ``n`` best-scored items for the user with original id ``user_id``, best first.

    ``model`` is anything with ``score_all(users) -> (B, n_items)`` over ``data``'s
    indices; ``items_table`` maps original item ids (column ``item``) to ``title``
    and any other columns shown; ``exclude`` holds (user index, item index) pairs
    never recommended, normally the training pairs.
    """
    matches = np.flatnonzero(data.user_ids == user_id)
    if len(matches) == 0:
        raise ValueError(f"unknown user id {user_id!r}")
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if "item" not in items_table.columns:
        raise ValueError(f"items_table needs an 'item' column, it has {list(items_table.columns)}")
    user = int(matches[0])
    scores = model.score_all(torch.tensor([user])).reshape(-1).float().cpu().clone()
    if exclude is not None:
        seen = np.asarray(exclude[1])[np.asarray(exclude[0]) == user]
        scores[torch.as_tensor(seen, dtype=torch.long)] = float("-inf")
    n = min(n, int(torch.isfinite(scores).sum()))
    top = scores.topk(n)
    picked = pd.DataFrame({
        "rank": np.arange(1, n + 1), "item": data.item_ids[top.indices.numpy()], "score": top.values.numpy(),
    })
    return picked.merge(items_table, on="item", how="left")
