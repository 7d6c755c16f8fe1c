"""Drawing unobserved (user, item) cells as negatives, vectorised.

Cells are coded by :func:`recstudy.data.pairs.cell_codes`, so "is this cell a
positive?" is one ``np.isin`` over sorted codes, and duplicates go with
``np.unique``. Draws are made in rounds of candidates; each round keeps the
first occurrence of every new, allowed cell in draw order, so the result is a
uniform sample without replacement of the allowed cells (or, with weights, a
weighted sample without replacement).
"""

from __future__ import annotations

import numpy as np
import torch

from recstudy.data.pairs import cell_codes, check_pairs

Pairs = tuple[np.ndarray, np.ndarray]


def negative_count(n: int | float, n_positives: int) -> int:
    """``n`` as a number of negatives: an int is a count, a float a ratio of ``n_positives`` (1.5 -> 1.5x).

    >>> negative_count(3000, 2000), negative_count(1.5, 2000)
    (3000, 3000)
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, float, np.integer, np.floating)):
        raise ValueError(f"n must be an int (a count) or a float (a ratio of the positives), got {n!r}")
    if isinstance(n, (int, np.integer)):
        if n < 0:
            raise ValueError(f"the number of negatives must be non-negative, got {n}")
        return int(n)
    if not np.isfinite(n) or n < 0:
        raise ValueError(f"the negative ratio must be a non-negative finite float, got {n}")
    return int(round(float(n) * n_positives))


def _check_pairs(pairs: Pairs | None, n_users: int, n_items: int, name: str) -> np.ndarray:
    if pairs is None:
        return np.zeros(0, dtype=np.int64)
    return cell_codes(*check_pairs(*pairs, n_users, n_items, name=name, allow_empty=True), n_items)


def sample_negatives(
    n_users: int,
    n_items: int,
    positives: Pairs,
    n: int | float,
    rng: np.random.Generator | int,
    *,
    exclude: Pairs | None = None,
    item_weights: np.ndarray | None = None,
) -> Pairs:
    """Draw ``n`` distinct cells that are neither in ``positives`` nor in ``exclude``.

    ``n`` is a count (int) or a ratio of ``len(positives)`` (float; see
    :func:`negative_count`). ``rng`` is a NumPy generator or a seed. Cells are
    uniform over the allowed ones unless ``item_weights`` (one non-negative weight
    per item, e.g. item popularity ** 0.75) is given: then users are uniform and
    items are drawn in proportion to their weight, without replacement of cells.
    Returns (users, items) int64 arrays in draw order. Raises ValueError if fewer
    than ``n`` cells are allowed.
    """
    if n_users <= 0 or n_items <= 0:
        raise ValueError(f"n_users and n_items must be positive, got {n_users}, {n_items}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    forbidden = np.unique(
        np.concatenate([_check_pairs(positives, n_users, n_items, "positives"), _check_pairs(exclude, n_users, n_items, "exclude")])
    )
    count = negative_count(n, len(positives[0]))
    n_cells = n_users * n_items
    if item_weights is not None:
        item_weights = np.asarray(item_weights, dtype=np.float64)
        if item_weights.shape != (n_items,) or (item_weights < 0).any() or not np.isfinite(item_weights).all():
            raise ValueError(f"item_weights must be {n_items} finite non-negative numbers")
        if item_weights.sum() <= 0:
            raise ValueError("item_weights sum to zero")
        allowed_items = item_weights > 0
        allowed_cells = n_users * int(allowed_items.sum()) - int(allowed_items[forbidden % n_items].sum())
    else:
        allowed_cells = n_cells - len(forbidden)
    if count > allowed_cells:
        raise ValueError(
            f"cannot draw {count} negatives: only {allowed_cells} of the {n_users} x {n_items} cells are unobserved and allowed"
        )
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if item_weights is None and count > allowed_cells // 2:
        # Dense request: rejection would waste most draws; enumerate the allowed cells instead.
        free = np.setdiff1d(np.arange(n_cells, dtype=np.int64), forbidden, assume_unique=True)
        chosen = rng.choice(free, size=count, replace=False)
        return chosen // n_items, chosen % n_items

    probabilities = None if item_weights is None else item_weights / item_weights.sum()
    chosen = np.zeros(0, dtype=np.int64)
    while len(chosen) < count:
        need = count - len(chosen)
        # Oversample by the expected rejection rate plus a margin, so one round almost always suffices.
        size = int(need * n_cells / max(allowed_cells - len(chosen), 1) * 1.1) + 64
        if probabilities is None:
            candidates = rng.integers(0, n_cells, size=size, dtype=np.int64)
        else:
            candidates = cell_codes(rng.integers(0, n_users, size=size), rng.choice(n_items, size=size, p=probabilities), n_items)
        candidates = candidates[~np.isin(candidates, forbidden) & ~np.isin(candidates, chosen)]
        _, first = np.unique(candidates, return_index=True)
        fresh = candidates[np.sort(first)]  # distinct, in draw order
        chosen = np.concatenate([chosen, fresh[:need]])
    return chosen // n_items, chosen % n_items


def popularity_weights(items: np.ndarray, n_items: int, exponent: float = 0.75) -> np.ndarray:
    """Item weights ``count(item) ** exponent`` from the positives' items (word2vec's 0.75 by default)."""
    counts = np.bincount(np.asarray(items, dtype=np.int64), minlength=n_items).astype(np.float64)
    return counts**exponent


def sample_unobserved_items(
    users: torch.Tensor, positive_keys: torch.Tensor, n_items: int, generator: torch.Generator, max_rounds: int = 20
) -> torch.Tensor:
    """One item per entry of ``users``, uniform among the items the user has no positive with.

    ``positive_keys`` is the sorted tensor of the cell codes of all positives.
    Draws are redrawn where they hit a positive (at most ``max_rounds`` times; a user with
    almost every item positive may keep a positive after that, which the loss tolerates).
    Draws come from ``generator`` on its own device and move to the users' device, so a CPU
    generator serves CUDA tensors too (the same seed gives the same draws on any device).
    """
    def draw(size) -> torch.Tensor:
        return torch.randint(n_items, size, generator=generator, device=generator.device).to(users.device)

    items = draw(users.shape)
    for _ in range(max_rounds):
        keys = cell_codes(users, items, n_items)
        where = torch.searchsorted(positive_keys, keys).clamp_max(len(positive_keys) - 1)
        hit = positive_keys[where] == keys
        if not hit.any():
            break
        items[hit] = draw((int(hit.sum()),))
    return items
