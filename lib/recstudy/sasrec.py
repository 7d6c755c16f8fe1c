"""SASRec (Kang & McAuley, ICDM 2018): causal self-attention over the item sequence.

Item embedding (scaled by sqrt(d)) plus a learned position embedding, then
pre-norm transformer blocks in which position t attends only to real items at
positions <= t. Every position predicts its next item in one pass. Difference
from the paper: full-softmax cross-entropy by default (the paper samples one
negative per position; ``negatives=1`` in the trainer gives that loss).
"""

from __future__ import annotations

import torch
from torch import nn

from .seq_base import SequentialRecommender


def attention_mask(inputs: torch.Tensor, heads: int, causal: bool) -> torch.Tensor:
    """(B*heads, L, L) boolean mask, True = may not attend: padding keys (and future keys when causal).

    A position may always attend to itself, so no row is fully masked (which would give NaN).
    """
    length = inputs.shape[1]
    blocked = (inputs == 0)[:, None, :].expand(-1, length, -1)
    if causal:
        blocked = blocked | torch.ones(length, length, dtype=torch.bool, device=inputs.device).triu(1)
    blocked = blocked & ~torch.eye(length, dtype=torch.bool, device=inputs.device)
    return blocked.repeat_interleave(heads, dim=0)


class SASRec(SequentialRecommender):
    def __init__(self, n_items: int, dim: int = 64, max_len: int = 50, blocks: int = 2, heads: int = 1,
                 dropout: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads = heads
        self.position = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(inputs.shape[1], device=inputs.device)
        x = self.item_embedding(inputs) * self.dim**0.5 + self.position(positions)
        x = self.dropout(x) * (inputs > 0).unsqueeze(-1)
        return self.norm(self.encoder(x, mask=attention_mask(inputs, self.heads, causal=True)))
