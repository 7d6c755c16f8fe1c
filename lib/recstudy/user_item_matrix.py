"""The binary user x item matrix that the neighbourhood and ALS baselines work on."""

from __future__ import annotations

import numpy as np
import torch


def check_pairs(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate (user, item) index arrays against the matrix shape; return them as int64 arrays."""
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    if users.shape != items.shape or users.ndim != 1:
        raise ValueError(f"users and items must be 1-D arrays of equal length, got shapes {users.shape} and {items.shape}")
    if n_users <= 0 or n_items <= 0:
        raise ValueError(f"n_users and n_items must be positive, got {n_users} and {n_items}")
    if len(users) == 0:
        raise ValueError("no training interactions given")
    if users.min() < 0 or users.max() >= n_users:
        raise ValueError(f"user indices must lie in [0, {n_users}), got [{users.min()}, {users.max()}]")
    if items.min() < 0 or items.max() >= n_items:
        raise ValueError(f"item indices must lie in [0, {n_items}), got [{items.min()}, {items.max()}]")
    return users, items


def dense_interactions(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, device: str = "cpu") -> torch.Tensor:
    """Float32 (n_users, n_items) matrix with 1 where the user interacted with the item (repeats count once)."""
    users, items = check_pairs(users, items, n_users, n_items)
    matrix = torch.zeros(n_users, n_items, dtype=torch.float32, device=device)
    matrix[torch.as_tensor(users, device=device), torch.as_tensor(items, device=device)] = 1.0
    return matrix
