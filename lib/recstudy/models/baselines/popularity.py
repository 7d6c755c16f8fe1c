"""Most-popular baseline: every user gets the items with the most training interactions."""

from __future__ import annotations

import numpy as np
import torch

from recstudy.data.pairs import cell_codes, check_pairs


class MostPopular:
    """Scores each item by its number of distinct training users; the same ranking for everyone.

    Serves both evaluations: ``score_all(users)`` for the user x item protocols and
    ``scores(users, inputs)`` (which ignores the sequence) for the next-item protocol.
    """

    defaults: dict = {}

    n_parameters = 0

    def __init__(self, n_users: int, n_items: int, device: str = "cpu") -> None:
        self.n_users, self.n_items, self.device = n_users, n_items, device
        self.item_counts = torch.zeros(n_items, device=device)

    def fit(self, users: np.ndarray, items: np.ndarray) -> "MostPopular":
        users, items = check_pairs(users, items, self.n_users, self.n_items)
        keys = np.unique(cell_codes(users, items, self.n_items))  # a repeated pair counts once
        counts = np.bincount(keys % self.n_items, minlength=self.n_items)
        self.item_counts = torch.as_tensor(counts, dtype=torch.float32, device=self.device)
        return self

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.item_counts.unsqueeze(0).expand(len(users), -1)

    def scores(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.score_all(users)
