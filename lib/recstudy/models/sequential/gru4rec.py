"""GRU4Rec (Hidasi et al., ICLR 2016): a GRU over the item sequence, one next-item prediction per step.

Padding-neutral: the pads of the left-padded input are moved behind the history first,
so the GRU reads the real items from a zero state and only then the pads; the state at
every real position is the one a GRU starting at zero reaches after exactly the real
items before it, whatever the number of pads (the states it reaches on the pads are
discarded). A packed sequence would give the same states; on a CPU its backward costs
more than the whole plain GRU (a zero-filled copy of the input projection per time step:
the GRU's forward and backward over 128 windows of 50 took 0.58x the time without it).

Differences from the paper: trained on whole user sequences cut into windows (not
session-parallel mini-batches) with full-softmax cross-entropy by default (the paper's
follow-up, Hidasi & Karatzoglou 2018, also uses cross-entropy / BPR-max); the output
layer is tied to the input item embedding; no session structure (a user's history is
one sequence).
"""

from __future__ import annotations

import torch
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender


class GRU4Rec(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.1, "lr": 5e-3}

    def __init__(self, n_items: int, dim: int = 64, layers: int = 1, dropout: float = 0.2, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(dim, dim, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        length = inputs.shape[1]
        real = (inputs > 0).sum(dim=1)
        pads = length - real
        positions = torch.arange(length, device=inputs.device)
        # Move the history to the front (row r shifted left by its pad count), run the GRU (it reaches the
        # pads only after every real item), then move the outputs back under their inputs.
        to_front = (positions[None, :] + pads[:, None]) % length
        front, _ = self.gru(self.dropout(self.item_embedding(inputs.gather(1, to_front))))
        back = (positions[None, :] - pads[:, None]) % length
        hidden = front.gather(1, back[:, :, None].expand(-1, -1, front.shape[2]))
        return self.dropout(hidden * (inputs > 0).unsqueeze(-1))
