"""User-based CF as Paper A describes it: mean-centred, similarity-weighted.

    pred(I, k) = r_I + sum_J sim(I, J) (r_Jk - r_J) / sum_J |sim(I, J)|

over the ``neighbours`` users J most similar to I. On implicit data r_Jk is 1 where J
interacted with k and 0 elsewhere, so r_J is the share of items J interacted with, and
sim is the cosine of the mean-centred rows (Pearson correlation over all items).
"""

from __future__ import annotations

import numpy as np
import torch

from recstudy.models.baselines.item_knn import keep_top_neighbours
from recstudy.data.pairs import dense_interactions


def mean_centred_user_similarity(centred: torch.Tensor) -> torch.Tensor:
    """(n_users, n_users) cosine similarity of mean-centred rows, zero diagonal."""
    norms = centred.norm(dim=1).clamp_min(1e-12)
    sim = (centred @ centred.T) / (norms.unsqueeze(1) * norms.unsqueeze(0))
    sim.fill_diagonal_(0.0)
    return sim


class UserCF:
    # Library defaults: the first configuration every tuning budget tries (recstudy.experiments.tuning).
    defaults: dict = {"neighbours": 50}

    def __init__(self, n_users: int, n_items: int, *, neighbours: int | None = 50, device: str = "cpu") -> None:
        self.n_users, self.n_items, self.device = n_users, n_items, device
        self.neighbours = neighbours

    def fit(self, users: np.ndarray, items: np.ndarray) -> "UserCF":
        matrix = dense_interactions(users, items, self.n_users, self.n_items, self.device)
        user_mean = matrix.mean(dim=1, keepdim=True)
        centred = matrix - user_mean
        sim = keep_top_neighbours(mean_centred_user_similarity(centred), self.neighbours)
        # Paper A's formula, for all users and items at once; a user without neighbours keeps her mean.
        weight = sim.abs().sum(dim=1, keepdim=True).clamp_min(1e-12)
        self.predictions = user_mean + (sim @ centred) / weight
        return self

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.predictions[users.to(self.device)]
