"""Train/test splits as boolean masks over interaction rows (True = test).

Masks keep the splits independent of how rows are stored: slice any aligned
arrays (users, items, timestamps, ...) with ``mask`` and ``~mask``.
"""

from __future__ import annotations

import numpy as np


def per_user_holdout_mask(users: np.ndarray, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Hold out ``round(test_fraction * n_u)`` random interactions of each user u.

    A user keeps at least one training interaction, so users with a single
    interaction have none held out.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    users = np.asarray(users)
    n = len(users)
    # Order rows by user, randomly within a user; position within the user's block decides.
    order = np.lexsort((rng.random(n), users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, counts)
    n_test = np.minimum(np.floor(test_fraction * counts + 0.5), counts - 1).astype(np.int64)
    mask = np.zeros(n, dtype=bool)
    mask[order] = position < np.repeat(n_test, counts)
    return mask


def leave_last_out_mask(users: np.ndarray, timestamps: np.ndarray, n: int = 1) -> np.ndarray:
    """Mark each user's latest ``n`` interactions (by timestamp; equal timestamps keep row order).

    A user with ``n`` or fewer interactions keeps one for training.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    users, timestamps = np.asarray(users), np.asarray(timestamps)
    rows = len(users)
    order = np.lexsort((np.arange(rows), timestamps, users))  # stable: ties by row order
    sorted_users = users[order]
    ends = np.flatnonzero(np.r_[sorted_users[1:] != sorted_users[:-1], True])
    starts = np.r_[0, ends[:-1] + 1]
    counts = ends - starts + 1
    from_end = np.repeat(ends, counts) - np.arange(rows)  # 0 for the latest
    mask = np.zeros(rows, dtype=bool)
    mask[order] = from_end < np.repeat(np.minimum(n, counts - 1), counts)
    return mask


def stratified_split_mask(groups: np.ndarray, train_ratio: float = 0.75, seed: int = 42) -> np.ndarray:
    """microsoft/recommenders' ``python_stratified_split`` as a test mask (True = test).

    Their procedure: within each group (the rows of one user, or of one item, in row
    order) shuffle with ``DataFrame.sample(frac=1, random_state=seed)``, which is
    ``numpy.random.RandomState(seed).permutation(n)`` for a group of n rows, and keep
    the first ``round(train_ratio * n)`` shuffled rows for training. The same seed is
    used for every group, so groups of equal size share one permutation.
    """
    if not 0.0 < train_ratio < 1.0:
        raise ValueError(f"train_ratio must be strictly between 0 and 1, got {train_ratio}")
    groups = np.asarray(groups)
    rows = len(groups)
    order = np.argsort(groups, kind="stable")  # row order kept within a group
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]) if rows else np.array([], dtype=np.int64)
    counts = np.diff(np.r_[starts, rows])
    position = np.arange(rows) - np.repeat(starts, counts)  # position of each sorted row in its group
    shuffled_position = np.empty(rows, dtype=np.int64)
    for size in np.unique(counts):
        # where each of the group's rows lands after RandomState(seed).permutation(size)
        landing = np.argsort(np.random.RandomState(seed).permutation(size))
        in_groups_of_size = np.repeat(counts == size, counts)
        shuffled_position[in_groups_of_size] = landing[position[in_groups_of_size]]
    # Python's round (half to even), as their np.split at round(ratio * n) uses
    n_train = np.array([round(train_ratio * c) for c in counts], dtype=np.int64)
    mask = np.zeros(rows, dtype=bool)
    mask[order] = shuffled_position >= np.repeat(n_train, counts)
    return mask
