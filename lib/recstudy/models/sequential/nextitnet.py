"""NextItNet (Yuan et al., WSDM 2019): stacked dilated causal 1-D convolutions with residual blocks.

Each residual block is two dilated causal convolutions (dilation d and 2d), each
followed by layer normalisation and ReLU, added to the block's input. Causality
(position t sees only positions <= t) comes from left padding, so every position
is a next-item training target in one pass, as in the paper.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender


class CausalConv(nn.Module):
    def __init__(self, dim: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.left = (kernel - 1) * dilation
        self.conv = nn.Conv1d(dim, dim, kernel, dilation=dilation)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, d)
        y = self.conv(F.pad(x.transpose(1, 2), (self.left, 0))).transpose(1, 2)
        return F.relu(self.norm(y))


class ResidualBlock(nn.Module):
    def __init__(self, dim: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.first, self.second = CausalConv(dim, kernel, dilation), CausalConv(dim, kernel, 2 * dilation)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dropout(self.second(self.first(x)))


class NextItNet(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate), from the validation grids of notebooks 06-09
    # (lr {0.002, 0.005} x dropout {0.1, 0.3}, seed 2022, max_len 50); the notebooks print whether
    # their grid still agrees.
    defaults: dict = {"dim": 64, "dropout": 0.1, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, dilations: tuple[int, ...] = (1, 4), repeats: int = 2,
                 kernel: int = 3, dropout: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if kernel < 2 or repeats < 1 or not dilations:
            raise ValueError(f"need kernel >= 2, repeats >= 1 and at least one dilation, got {kernel}, {repeats}, {dilations}")
        self.blocks = nn.Sequential(*[ResidualBlock(dim, kernel, d, dropout) for _ in range(repeats) for d in dilations])
        self.dropout = nn.Dropout(dropout)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.dropout(self.item_embedding(inputs)))
