"""Item-based k-nearest-neighbour CF with cosine similarity (Sarwar et al. 2001, implicit form).

score(u, i) = sum over the items j the user interacted with of sim(i, j), where each
item keeps only its ``neighbours`` most similar items (``None`` keeps all). ``shrink``
damps similarities supported by few common users: sim = dot / (|a| |b| + shrink).
"""

from __future__ import annotations

import numpy as np
import torch

from recstudy.data.pairs import dense_interactions


def cosine_item_similarity(matrix: torch.Tensor, shrink: float = 0.0) -> torch.Tensor:
    """(n_items, n_items) cosine similarity of the item columns of a user x item matrix, zero diagonal."""
    if shrink < 0:
        raise ValueError(f"shrink must be >= 0, got {shrink}")
    dot = matrix.T @ matrix
    norms = matrix.norm(dim=0)
    sim = dot / (norms.unsqueeze(1) * norms.unsqueeze(0) + shrink).clamp_min(1e-12)
    sim.fill_diagonal_(0.0)
    return sim


def keep_top_neighbours(sim: torch.Tensor, neighbours: int | None) -> torch.Tensor:
    """Zero all but the ``neighbours`` largest entries of each row (ties broken by torch.topk)."""
    if neighbours is None or neighbours >= sim.shape[1]:
        return sim
    if neighbours <= 0:
        raise ValueError(f"neighbours must be positive or None, got {neighbours}")
    values, index = sim.topk(neighbours, dim=1)
    return torch.zeros_like(sim).scatter_(1, index, values)


class ItemKNN:
    # Library defaults: the first configuration every tuning budget tries (recstudy.experiments.tuning).
    defaults: dict = {"neighbours": 100, "shrink": 0.0}

    def __init__(self, n_users: int, n_items: int, *, neighbours: int | None = 100, shrink: float = 0.0, device: str = "cpu") -> None:
        self.n_users, self.n_items, self.device = n_users, n_items, device
        self.neighbours, self.shrink = neighbours, shrink

    def fit(self, users: np.ndarray, items: np.ndarray) -> "ItemKNN":
        self.matrix = dense_interactions(users, items, self.n_users, self.n_items, self.device)
        # Row i of `similarity` holds item i's neighbours; a user's score for i sums sim(i, j) over her items j.
        self.similarity = keep_top_neighbours(cosine_item_similarity(self.matrix, self.shrink), self.neighbours)
        return self

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.matrix[users.to(self.device)] @ self.similarity.T
