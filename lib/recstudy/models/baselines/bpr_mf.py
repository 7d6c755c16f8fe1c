"""BPR matrix factorisation (Rendle et al., UAI 2009): dot product plus item bias, pairwise loss.

Trained with the shared loop :func:`recstudy.training.fit`. Each epoch pairs every
training positive (u, i) with one item j drawn uniformly among those u has not
interacted with (vectorised rejection sampling) and minimises

    -log sigmoid(s(u, i) - s(u, j)) + reg (|p_u|^2 + |q_i|^2 + |q_j|^2 + b_i^2 + b_j^2)

with the L2 penalty on the rows in the batch only, as BPR's SGD does.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from recstudy.training import TrainHistory, fit
from recstudy.data.pairs import cell_codes, check_pairs
from recstudy.sampling.negatives import sample_unobserved_items


class BPRMF(nn.Module):
    # Library defaults: the first configuration every tuning budget tries (recstudy.experiments.tuning).
    defaults: dict = {"factors": 64, "reg": 1e-2, "lr": 5e-3}

    def __init__(self, n_users: int, n_items: int, factors: int = 64, *, init_std: float = 0.01) -> None:
        super().__init__()
        if factors <= 0:
            raise ValueError(f"factors must be positive, got {factors}")
        self.user_factors = nn.Embedding(n_users, factors)
        self.item_factors = nn.Embedding(n_items, factors)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.normal_(self.user_factors.weight, std=init_std)
        nn.init.normal_(self.item_factors.weight, std=init_std)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        dot = (self.user_factors(users) * self.item_factors(items)).sum(dim=-1)
        return dot + self.item_bias(items).squeeze(-1)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        users = users.to(self.user_factors.weight.device)
        return self.user_factors(users) @ self.item_factors.weight.T + self.item_bias.weight.T


def bpr_batches(
    users: np.ndarray, items: np.ndarray, n_items: int, batch_size: int, device: str
) -> Callable[[torch.Generator], Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]]:
    """A ``batches(generator)`` callable for :func:`fit`: shuffled positives with fresh negatives each epoch."""
    users_t = torch.as_tensor(users, dtype=torch.long, device=device)
    items_t = torch.as_tensor(items, dtype=torch.long, device=device)
    positive_keys = torch.unique(cell_codes(users_t, items_t, n_items))  # sorted

    def batches(generator: torch.Generator):
        order = torch.randperm(len(users_t), generator=generator, device="cpu").to(device)
        negatives = sample_unobserved_items(users_t, positive_keys, n_items, generator)
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            yield users_t[index], items_t[index], negatives[index]

    return batches


def bpr_loss(model: BPRMF, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], reg: float) -> torch.Tensor:
    users, positives, negatives = batch
    # each row is looked up once and reused by the score difference and the penalty
    user_vecs = model.user_factors(users)
    pos_vecs, neg_vecs = model.item_factors(positives), model.item_factors(negatives)
    pos_bias, neg_bias = model.item_bias(positives).squeeze(-1), model.item_bias(negatives).squeeze(-1)
    diff = (user_vecs * (pos_vecs - neg_vecs)).sum(dim=-1) + pos_bias - neg_bias
    penalty = (
        user_vecs.pow(2).sum() + pos_vecs.pow(2).sum() + neg_vecs.pow(2).sum() + pos_bias.pow(2).sum() + neg_bias.pow(2).sum()
    )
    return -F.logsigmoid(diff).mean() + reg * penalty / len(users)


def train_bpr(
    model: BPRMF, users: np.ndarray, items: np.ndarray, *, epochs: int = 30, batch_size: int = 4096, lr: float = 5e-3,
    reg: float = 1e-4, seed: int = 0, validate: Callable[[BPRMF], float] | None = None, patience: int | None = None,
    progress: bool = False,
) -> TrainHistory:
    """Train ``model`` in place on the positive pairs (users[k], items[k]); returns the shared trainer's history."""
    n_users, n_items = model.user_factors.num_embeddings, model.item_factors.num_embeddings
    users, items = check_pairs(users, items, n_users, n_items)
    if batch_size <= 0 or epochs <= 0 or lr <= 0 or reg < 0:
        raise ValueError(f"need batch_size, epochs, lr > 0 and reg >= 0, got {batch_size}, {epochs}, {lr}, {reg}")
    device = str(model.user_factors.weight.device)
    return fit(
        model, bpr_batches(users, items, n_items, batch_size, device), lambda m, b: bpr_loss(m, b, reg),
        epochs=epochs, lr=lr, seed=seed, validate=validate, patience=patience, progress=progress, desc="BPR-MF",
    )
