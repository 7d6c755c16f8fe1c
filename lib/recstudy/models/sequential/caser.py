"""Caser (Tang & Wang, WSDM 2018): the last L item embeddings as an L x d "image" read by convolutions.

Horizontal filters (heights 1..L, width d) followed by max-pooling over time catch
union-level and skip patterns; vertical filters (height L, width 1) are weighted
sums of the L embeddings. Their outputs go through a fully connected layer and are
joined with a user embedding (the general preference).

To train every position at once (the paper trains one window per sample), the
filters slide along the whole sequence: a horizontal filter of height h is a 1-D
convolution over time, and max-pooling its outputs over the L - h + 1 placements
inside the L-window ending at position t is a stride-1 max-pool; a vertical
filter is a convolution with kernel L shared by all embedding dimensions. This
gives, for every position t, exactly the paper's features of the window ending
at t (windows reaching before the start see zero padding), without copying the
windows. ``pooling=False`` is the ablation for Paper B's "information lost in pooling":
every placement of each horizontal filter is kept instead of its maximum. Differences from the paper: one next-item target
per window (the paper also allows T > 1 targets), full-softmax cross-entropy by
default instead of the paper's sampled binary loss. Padding-neutral: pads and the
zero padding before the sequence start are both zero embeddings, so a window reaching
before the history's start sees the same zeros whatever the number of pads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender


class Caser(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.3, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, n_users: int = 1, window: int = 5, horizontal: int = 16,
                 vertical: int = 4, dropout: float = 0.3, pooling: bool = True) -> None:
        super().__init__(n_items, dim, n_users)
        if window < 1 or horizontal < 1 or vertical < 1 or n_users < 1:
            raise ValueError(f"need window, horizontal, vertical and n_users >= 1, got {window}, {horizontal}, {vertical}, {n_users}")
        self.window, self.pooling = window, pooling
        self.horizontal = nn.ModuleList(nn.Conv1d(dim, horizontal, height) for height in range(1, window + 1))
        self.vertical = nn.Parameter(torch.randn(vertical, window) / window)
        # With pooling each horizontal filter gives one feature per window (its max over placements); the
        # ablation without pooling keeps every placement (window - height + 1 of them), losing nothing.
        placements = window if pooling else window * (window + 1) // 2
        self.fc = nn.Linear(horizontal * placements + vertical * dim, dim)
        self.user_embedding = nn.Embedding(n_users, dim)
        nn.init.normal_(self.user_embedding.weight, std=dim**-0.5)
        self.output = nn.Embedding(n_items, 2 * dim)  # item vectors for [sequence; user] of size 2d
        nn.init.normal_(self.output.weight, std=(2 * dim) ** -0.5)
        self.bias = nn.Parameter(torch.zeros(n_items))  # the paper's per-item b' in y = W'[z; P_u] + b'

        self.dropout = nn.Dropout(dropout)

    def output_weights(self) -> torch.Tensor:
        return self.output.weight

    def output_bias(self) -> torch.Tensor:
        return self.bias

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        batch, length = inputs.shape
        w = self.window
        # (B, d, L + w - 1): zero padding so the first windows reach before the sequence start
        emb = F.pad(self.item_embedding(inputs).transpose(1, 2), (w - 1, 0))
        pooled = []
        for height, conv in enumerate(self.horizontal, start=1):
            out = F.relu(conv(emb))  # (B, n_h, L + w - height): every placement of the filter
            if self.pooling:
                pooled.append(F.max_pool1d(out, kernel_size=w - height + 1, stride=1))  # (B, n_h, L)
            else:  # the w - height + 1 placements inside the window ending at each position, side by side
                pooled.extend(out[:, :, j : j + length] for j in range(w - height + 1))
        vertical = F.conv1d(emb.reshape(batch * self.dim, 1, -1), self.vertical[:, None, :])  # (B*d, n_v, L)
        vertical = vertical.view(batch, self.dim * self.vertical.shape[0], length)
        features = torch.cat(pooled + [vertical], dim=1).transpose(1, 2)  # (B, L, n_h*w + n_v*d)
        z = F.relu(self.fc(self.dropout(features)))
        user = self.user_embedding(users)[:, None, :].expand(batch, length, self.dim)
        return torch.cat([z, user], dim=2)
