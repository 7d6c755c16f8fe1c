"""SASRec (Kang & McAuley, ICDM 2018): causal self-attention over the item sequence.

Item embedding (scaled by sqrt(d)) plus a learned position embedding, then
transformer blocks in which position t attends only to real items at positions
<= t. Every position predicts its next item in one pass. Positions are counted
from the end of the window (the last input item always has position max_len - 1,
as in the paper's fixed-length left-padded input), and pads are masked as keys and
zeroed, so the model is padding-neutral.

Two block layouts (``block``):
- ``"paper"`` (the default): the paper's equation g(x) = x + Dropout(g(LayerNorm(x))) for the
  attention and the feed-forward alike, i.e. pre-LN transformer blocks (PyTorch's layer, with
  its attention output projection).
- ``"code"``: the block as the authors' code builds it (kang205/SASRec, ``model.py`` and
  ``modules.py``), which differs from the equation: the attention's query is the layer-normalised
  sequence and is also what its residual adds, while keys and values are the un-normalised sequence;
  the attention has no output projection and drops out attention weights; the feed-forward's
  normalised input is its residual; pads are zeroed after every block; layer norms use epsilon 1e-8.
  The paper's numbers come from this code (notebook 11 compares the two).

Difference from the paper: full-softmax cross-entropy by default (the paper samples one negative
per position; ``negatives=1`` in the trainer gives that loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.layers import attention_mask, right_aligned_positions
from recstudy.models.sequential.base import SequentialRecommender

BLOCKS = ("paper", "code")


class CodeBlock(nn.Module):
    """One self-attention block as the SASRec authors' code builds it (see the module docstring)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.attention_dropout = heads, dropout
        self.query_norm, self.feed_forward_norm = nn.LayerNorm(dim, eps=1e-8), nn.LayerNorm(dim, eps=1e-8)
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.feed_forward = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim),
                                          nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, blocked: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        queries = self.query_norm(x)

        def split(t: torch.Tensor) -> torch.Tensor:  # (B, L, d) -> (B, heads, L, d / heads)
            return t.view(batch, length, self.heads, dim // self.heads).transpose(1, 2)

        attended = F.scaled_dot_product_attention(
            split(self.query(queries)), split(self.key(x)), split(self.value(x)),
            attn_mask=~blocked.view(batch, self.heads, length, length),
            dropout_p=self.attention_dropout if self.training else 0.0)
        x = queries + attended.transpose(1, 2).reshape(batch, length, dim)
        normalised = self.feed_forward_norm(x)
        return (normalised + self.feed_forward(normalised)) * real


class SASRec(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.3, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, max_len: int = 50, blocks: int = 2, heads: int = 1,
                 dropout: float = 0.2, n_users: int = 0, block: str = "paper") -> None:
        super().__init__(n_items, dim, n_users)
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        if block not in BLOCKS:
            raise ValueError(f"block must be one of {BLOCKS}, got {block!r}")
        self.heads, self.max_len, self.block = heads, max_len, block
        self.position = nn.Embedding(max_len, dim)
        if block == "paper":
            layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout, batch_first=True,
                                               norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
        else:
            self.code_blocks = nn.ModuleList(CodeBlock(dim, heads, dropout) for _ in range(blocks))
            self.norm = nn.LayerNorm(dim, eps=1e-8)
        self.dropout = nn.Dropout(dropout)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        positions = right_aligned_positions(inputs, self.max_len)
        real = (inputs > 0).unsqueeze(-1)
        x = self.dropout(self.item_embedding(inputs) * self.dim**0.5 + self.position(positions)) * real
        blocked = attention_mask(inputs, self.heads, causal=True)
        if self.block == "paper":
            return self.norm(self.encoder(x, mask=blocked))
        for block in self.code_blocks:
            x = block(x, blocked, real)
        return self.norm(x)
