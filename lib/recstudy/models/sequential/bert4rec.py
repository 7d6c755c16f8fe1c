"""BERT4Rec (Sun et al., CIKM 2019): a bidirectional transformer trained by masked-item prediction.

Training hides a random share ``mask_prob`` of the items of each sequence behind a
[mask] token (at least one per sequence) and predicts them from both sides.
Scoring appends [mask] after the user's history and reads the prediction there.
Differences from the paper: no extra projection layer before the tied output,
full-softmax cross-entropy over the masked positions; windows are the same
max_len chunks of the training history that the other models use.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.layers import attention_mask
from recstudy.models.sequential.base import SequentialRecommender, next_item_loss


class BERT4Rec(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate), from the validation grids of notebooks 06-09
    # (lr {0.002, 0.005} x dropout {0.1, 0.3}, seed 2022, max_len 50); the notebooks print whether
    # their grid still agrees.
    defaults: dict = {"dim": 64, "dropout": 0.3, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, max_len: int = 50, blocks: int = 2, heads: int = 2,
                 dropout: float = 0.2, mask_prob: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if not 0 < mask_prob < 1:
            raise ValueError(f"mask_prob must be in (0, 1), got {mask_prob}")
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads, self.mask_prob, self.mask_token = heads, mask_prob, n_items + 1
        self.mask_embedding = nn.Parameter(torch.randn(dim) * dim**-0.5)
        self.position = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=dropout, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        self.norm_in, self.norm_out = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        is_mask = inputs == self.mask_token
        emb = self.item_embedding(inputs.masked_fill(is_mask, 0))
        emb = torch.where(is_mask.unsqueeze(-1), self.mask_embedding.expand_as(emb), emb)
        positions = torch.arange(inputs.shape[1], device=inputs.device)
        x = self.dropout(self.norm_in(emb + self.position(positions)))
        return self.norm_out(self.encoder(x, mask=attention_mask(inputs, self.heads, causal=False)))

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, _, sequence = batch  # the target row is the window's item sequence
        real = sequence > 0
        masked = real & (torch.rand(sequence.shape, device=sequence.device) < self.mask_prob)
        # a sequence with nothing masked would teach nothing: mask its last item
        masked[:, -1] |= ~masked.any(dim=1)
        hidden = self.encode(users, sequence.masked_fill(masked, self.mask_token))
        return next_item_loss(hidden[masked], sequence[masked] - 1, self.output_weights(), self.negatives)

    def scores(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        query = F.pad(inputs[:, 1:], (0, 1), value=self.mask_token)
        return self.encode(users, query)[:, -1] @ self.output_weights().T
