"""SASRec (Kang & McAuley, ICDM 2018): causal self-attention over the item sequence.

Item embedding (scaled by sqrt(d)) plus a learned position embedding, then
pre-norm transformer blocks in which position t attends only to real items at
positions <= t. Every position predicts its next item in one pass. Positions are
counted from the end of the window (the last input item always has position
max_len - 1, as in the paper's fixed-length left-padded input), and pads are masked
as keys and zeroed, so the model is padding-neutral. Difference from the paper:
full-softmax cross-entropy by default (the paper samples one negative per position;
``negatives=1`` in the trainer gives that loss).
"""

from __future__ import annotations

import torch
from torch import nn

from recstudy.models.layers import attention_mask, right_aligned_positions
from recstudy.models.sequential.base import SequentialRecommender


class SASRec(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.3, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, max_len: int = 50, blocks: int = 2, heads: int = 1,
                 dropout: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads, self.max_len = heads, max_len
        self.position = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        positions = right_aligned_positions(inputs, self.max_len)
        x = self.item_embedding(inputs) * self.dim**0.5 + self.position(positions)
        x = self.dropout(x) * (inputs > 0).unsqueeze(-1)
        return self.norm(self.encoder(x, mask=attention_mask(inputs, self.heads, causal=True)))
