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
