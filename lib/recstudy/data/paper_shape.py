"""A deterministic subsample of an interaction table with exactly Paper A's shape.

Paper A's influencer data is private: 407 influencers, 462 products, 2,000
promotion links (sparsity 98.94%). To run its models under the same data-to-
parameter ratio we draw, from MovieLens-100K, a set of exactly that shape:

1. draw ``n_items`` items uniformly at random;
2. draw ``n_users`` users uniformly among those with at least one interaction with
   the drawn items;
3. swap out drawn items that none of the drawn users touched for undrawn items that
   some drawn user did touch (so every item can keep a pair);
4. cover: walk the induced pairs in a random order and keep the first pair of each
   user and of each item (at most ``n_users + n_items`` pairs), so nobody is empty;
5. fill up to exactly ``n_pairs`` with pairs drawn uniformly from the rest.

Every step draws from one ``numpy.random.Generator(seed)``, so the seed fixes the set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recstudy.data.interactions import DataError

PAPER_A_SHAPE = {"users": 407, "items": 462, "interactions": 2000}


def paper_shaped_subsample(
    df: pd.DataFrame,
    *,
    n_users: int = PAPER_A_SHAPE["users"],
    n_items: int = PAPER_A_SHAPE["items"],
    n_pairs: int = PAPER_A_SHAPE["interactions"],
    seed: int = 0,
) -> pd.DataFrame:
    """Rows of the canonical table ``df`` forming exactly ``n_users`` x ``n_items`` with ``n_pairs`` pairs.

    Every drawn user and item keeps at least one pair. Duplicate (user, item)
    rows count once (the earliest is kept). Raises :class:`DataError` when the
    requested shape is impossible for ``df``.
    """
    if min(n_users, n_items, n_pairs) <= 0:
        raise DataError(f"n_users, n_items and n_pairs must be positive (got {n_users}, {n_items}, {n_pairs})")
    pairs = df.sort_values(["user", "item", "timestamp"], kind="stable").drop_duplicates(["user", "item"])
    all_users, all_items = np.sort(pairs.user.unique()), np.sort(pairs.item.unique())
    if n_users > len(all_users) or n_items > len(all_items):
        raise DataError(
            f"the data has {len(all_users)} users and {len(all_items)} items; cannot draw {n_users} x {n_items}"
        )
    if n_pairs < max(n_users, n_items):
        raise DataError(f"{n_pairs} pairs cannot give each of {n_users} users and {n_items} items a pair")
    if n_pairs > n_users * n_items:
        raise DataError(f"{n_pairs} pairs do not fit in a {n_users} x {n_items} matrix")
    rng = np.random.default_rng(seed)

    items = rng.choice(all_items, size=n_items, replace=False)
    touching = np.sort(pairs.loc[pairs.item.isin(items), "user"].unique())
    if len(touching) < n_users:
        raise DataError(f"only {len(touching)} users touch the drawn items; cannot draw {n_users}")
    users = rng.choice(touching, size=n_users, replace=False)

    by_users = pairs[pairs.user.isin(users)]
    reachable = np.sort(by_users.item.unique())
    untouched = items[~np.isin(items, reachable)]
    if len(untouched):
        spare = reachable[~np.isin(reachable, items)]
        if len(spare) < len(untouched):
            raise DataError(f"the drawn users reach only {len(reachable)} items; cannot keep {n_items}")
        items = np.concatenate([items[np.isin(items, reachable)], rng.choice(spare, size=len(untouched), replace=False)])

    induced = by_users[by_users.item.isin(items)].reset_index(drop=True)
    if len(induced) < n_pairs:
        raise DataError(f"the drawn {n_users} x {n_items} block holds only {len(induced)} pairs, fewer than {n_pairs}")
    order = rng.permutation(len(induced))
    shuffled = induced.iloc[order]
    first_of_user = ~shuffled.user.duplicated().to_numpy()
    first_of_item = ~shuffled.item.duplicated().to_numpy()
    cover = order[first_of_user | first_of_item]
    rest = np.setdiff1d(np.arange(len(induced)), cover)
    fill = rng.choice(rest, size=n_pairs - len(cover), replace=False)
    chosen = induced.iloc[np.concatenate([cover, fill])]
    return chosen.sort_values(["user", "item"], kind="stable").reset_index(drop=True)
