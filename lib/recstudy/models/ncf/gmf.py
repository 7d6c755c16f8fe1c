"""GMF, generalised matrix factorisation (He et al., "Neural Collaborative Filtering", WWW 2017).

The logit of a (user, item) pair is ``h . (p_u * q_i) + b``: the element-wise
product of the two embeddings weighted by a learned output layer. With ``h`` all
ones it is plain dot-product MF.
"""

from __future__ import annotations

import torch
from torch import nn


class GMF(nn.Module):
    """User and item embeddings of ``factors`` latent factors, element-wise product, linear output."""

    # Library defaults: the first configuration every tuning budget tries (recstudy.experiments.tuning).
    defaults: dict = {"factors": 32, "lr": 5e-3}

    def __init__(self, n_users: int, n_items: int, factors: int = 8, init_std: float = 0.01) -> None:
        super().__init__()
        if min(n_users, n_items, factors) <= 0:
            raise ValueError(f"GMF needs positive n_users, n_items and factors, got {n_users}, {n_items}, {factors}")
        self.n_users, self.n_items, self.factors = n_users, n_items, factors
        self.user_embedding = nn.Embedding(n_users, factors)
        self.item_embedding = nn.Embedding(n_items, factors)
        self.output = nn.Linear(factors, 1)
        # The NCF paper initialises embeddings from N(0, 0.01).
        nn.init.normal_(self.user_embedding.weight, std=init_std)
        nn.init.normal_(self.item_embedding.weight, std=init_std)

    def hidden(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """The last hidden layer, p_u * q_i, (B, factors): what NeuMF concatenates."""
        return self.user_embedding(users) * self.item_embedding(items)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of the pairs (users[b], items[b])."""
        return self.output(self.hidden(users, items)).squeeze(-1)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_items) of every item for each user: one matrix product."""
        weighted_users = self.user_embedding(users) * self.output.weight  # (B, f) * (1, f)
        return weighted_users @ self.item_embedding.weight.T + self.output.bias
