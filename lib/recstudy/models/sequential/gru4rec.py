"""GRU4Rec (Hidasi et al., ICLR 2016): a GRU over the item sequence, one next-item prediction per step.

Differences from the paper: trained on whole user sequences (not session-parallel
mini-batches) with full-softmax cross-entropy by default (the paper's follow-up,
Hidasi & Karatzoglou 2018, also uses cross-entropy / BPR-max), and the output
layer is tied to the input item embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender


class GRU4Rec(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate), from the validation grids of notebooks 06-09
    # (lr {0.002, 0.005} x dropout {0.1, 0.3}, seed 2022, max_len 50); the notebooks print whether
    # their grid still agrees.
    defaults: dict = {"dim": 64, "dropout": 0.1, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, layers: int = 1, dropout: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(dim, dim, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        # Left padding: the GRU reads the zero vectors of the pads first, then the items,
        # so the state at the last position summarises the whole (truncated) history.
        hidden, _ = self.gru(self.dropout(self.item_embedding(inputs)))
        return self.dropout(hidden)
