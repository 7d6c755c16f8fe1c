"""NextItNet (Yuan et al., WSDM 2019): stacked dilated causal 1-D convolutions with residual blocks.

Each residual block is two dilated causal convolutions (dilation d and 2d), each
followed by layer normalisation and ReLU, added to the block's input. Causality
(position t sees only positions <= t) comes from left padding, so every position
is a next-item training target in one pass, as in the paper.

Padding-neutral: pad positions are set back to zero after every convolution, so a
convolution reaching before the history's start reads zeros, exactly as the zero
padding of a shorter input would give (without it, a conv's bias, the layer norm and
the residual path fill the pads with values that depend on their number).
Departures: windows of the training history instead of whole sessions; the residual
block is the paper's two dilated convolutions with layer normalisation and ReLU, without
its optional 1x1 bottleneck variant.
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

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:  # (B, L, d), real: (B, L, 1)
        y = self.conv(F.pad(x.transpose(1, 2), (self.left, 0))).transpose(1, 2)
        return F.relu(self.norm(y)) * real


class ResidualBlock(nn.Module):
    def __init__(self, dim: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.first, self.second = CausalConv(dim, kernel, dilation), CausalConv(dim, kernel, 2 * dilation)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        return x + self.dropout(self.second(self.first(x, real), real))


class NextItNet(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.1, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, dilations: tuple[int, ...] = (1, 4), repeats: int = 2,
                 kernel: int = 3, dropout: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if kernel < 2 or repeats < 1 or not dilations:
            raise ValueError(f"need kernel >= 2, repeats >= 1 and at least one dilation, got {kernel}, {repeats}, {dilations}")
        self.blocks = nn.ModuleList(ResidualBlock(dim, kernel, d, dropout) for _ in range(repeats) for d in dilations)
        self.dropout = nn.Dropout(dropout)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        real = (inputs > 0).unsqueeze(-1).to(self.item_embedding.weight.dtype)
        x = self.dropout(self.item_embedding(inputs))
        for block in self.blocks:
            x = block(x, real)
        return x
