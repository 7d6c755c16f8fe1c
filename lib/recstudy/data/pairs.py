"""(user, item) index pairs: the one validator, the one cell encoding, and the binary user x item matrix.

A cell is coded as ``user * n_items + item`` (int64), so "is this pair a positive?" is one
``np.isin`` (or ``torch.searchsorted``) over sorted codes, and duplicates go with ``unique``.
"""

from __future__ import annotations

import numpy as np
import torch


def cell_codes(users: np.ndarray | torch.Tensor, items: np.ndarray | torch.Tensor, n_items: int) -> np.ndarray | torch.Tensor:
    """The int64 code ``user * n_items + item`` of each pair (a tensor for tensors, else a NumPy array)."""
    if isinstance(users, torch.Tensor):
        return users.long() * n_items + torch.as_tensor(items, device=users.device).long()
    return np.asarray(users, dtype=np.int64) * n_items + np.asarray(items, dtype=np.int64)


def check_pairs(
    users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, *, name: str = "pairs", allow_empty: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validate (user, item) index arrays against an ``n_users x n_items`` matrix; return them as int64 arrays.

    ``name`` says which pairs a message is about ("training pairs", "exclude", ...).
    """
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    if users.shape != items.shape or users.ndim != 1:
        raise ValueError(f"{name}: users and items must be 1-D arrays of equal length, got shapes {users.shape} and {items.shape}")
    if n_users <= 0 or n_items <= 0:
        raise ValueError(f"{name}: n_users and n_items must be positive, got {n_users} and {n_items}")
    if len(users) == 0:
        if allow_empty:
            return users, items
        raise ValueError(f"{name}: no interactions given")
    if users.min() < 0 or users.max() >= n_users:
        raise ValueError(f"{name}: user indices must lie in [0, {n_users}), got [{users.min()}, {users.max()}]")
    if items.min() < 0 or items.max() >= n_items:
        raise ValueError(f"{name}: item indices must lie in [0, {n_items}), got [{items.min()}, {items.max()}]")
    return users, items


def dense_interactions(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, device: str = "cpu") -> torch.Tensor:
    """Float32 (n_users, n_items) matrix with 1 where the user interacted with the item (repeats count once)."""
    users, items = check_pairs(users, items, n_users, n_items, name="training pairs")
    matrix = torch.zeros(n_users, n_items, dtype=torch.float32, device=device)
    matrix[torch.as_tensor(users, device=device), torch.as_tensor(items, device=device)] = 1.0
    return matrix
