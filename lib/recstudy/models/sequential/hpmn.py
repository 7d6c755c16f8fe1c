"""HPMN (Ren et al., SIGIR 2019, "Lifelong Sequential Modeling with Personalized Memorization for User Response Prediction").

The paper's hierarchical periodic memory: J memory layers, each with its own GRU
cell; layer 1 reads the item embedding at every step; layer j > 1 updates only every
t_j steps, reading the memory of the layer below,

    m^j_i = GRU_j(m^{j-1}_i, m^j_{i-1})  if i mod t_j == 0,  otherwise  m^j_i = m^j_{i-1},

so higher layers keep slower, longer-range patterns. A query attends over the J layer
memories (weights = softmax over layers of an MLP score of [q, m, q - m, q * m] in the
authors' code), the weighted sum is the user representation, and an MLP on
[user representation, target item] predicts the click (binary log-loss), plus a
covariance regulariser that pushes the layers' memories apart.

Here (periods, ``stride ** j`` for j = 0..layers-1: 1, 2, 4, 8 by default; the authors'
code uses strides of 2 for the first layers as well) every position t gets the memories
after the real items at positions <= t. Periods count real positions from the first
real item (layer j updates at the p-th, 2p-th, ... real item), never absolute indices,
so the number of left pads cannot change which steps update (see :meth:`HPMN.update_mask`).

Vectorised: the real items are moved to the front of the window (as in GRU4Rec here);
layer j's update steps are then the fixed strided positions p-1, 2p-1, ... of that
layout, so each layer is one fused GRU run over the strided outputs of the layer below
(the pads, now at the back, come after every real step and cannot affect it); the state
at any position is the output of the layer's last update at or before it (zero before
its first update). Results are moved back under their inputs and zeroed under pads.

Departures from the paper, and why
- Query: the paper queries the memories with the *target* item (a CTR model scores one
  candidate at a time). A next-item ranker scores the whole catalogue with one vector
  per position, and the target is what is being predicted, so the query is the
  embedding of the current (last input) item: it is causal, it still lets the layer
  weighting depend on an item (as the paper's does), and it is what the authors' public
  code feeds the user-side read (``last = uinp[:, -1]``). ``hops`` repeats the read with
  q <- q H + read as in that code (hop = 3 there); default 1, the single read of the
  paper's description.
- Objective: the binary click log-loss becomes the study's shared full-softmax
  cross-entropy over all items. The paper's output MLP on [user representation, target]
  becomes a linear map of [read-out, current item embedding] (the authors' code's user
  representation) to a d-vector that is scored by inner product with every item's
  (tied) embedding, so a whole catalogue is scored by one matrix product.
- Covariance regularisation kept: ``cov_weight`` times, averaged over the trained
  positions, the Frobenius norm of the off-diagonal part of the J x J covariance of the
  layer memories (each layer's d-vector centred over its dimensions), as in the authors'
  code. Their weight is 1e-5 on a sum over a batch (~100 users); on our mean over
  positions that is about 1e-3, the default; 0 drops it.
- Dropout on item embeddings and the output instead of the code's batch-norm/dropout
  MLP; no lifelong incremental serving (windows of max_len items, like every model here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender, next_item_loss


def layer_periods(layers: int, stride: int) -> tuple[int, ...]:
    return tuple(stride**j for j in range(layers))


class HPMN(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.2, "lr": 3e-3}

    def __init__(self, n_items: int, dim: int = 64, dropout: float = 0.2, layers: int = 4, stride: int = 2,
                 hops: int = 1, cov_weight: float = 1e-3, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if layers < 1 or stride < 1 or hops < 1 or cov_weight < 0:
            raise ValueError(f"need layers, stride, hops >= 1 and cov_weight >= 0, got {layers}, {stride}, {hops}, {cov_weight}")
        self.periods = layer_periods(layers, stride)
        self.hops, self.cov_weight = hops, cov_weight
        self.grus = nn.ModuleList(nn.GRU(dim, dim, batch_first=True) for _ in self.periods)
        self.query = nn.Linear(dim, dim)
        self.hop_map = nn.Linear(dim, dim, bias=False) if hops > 1 else None  # H of q <- q H + read
        self.attention = nn.Sequential(nn.Linear(4 * dim, 80), nn.ReLU(), nn.Linear(80, 40), nn.ReLU(), nn.Linear(40, 1))
        self.out = nn.Linear(2 * dim, dim)
        self.dropout = nn.Dropout(dropout)

    def update_mask(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, L, J) True where layer j updates: at its p_j-th, 2p_j-th, ... real item (counted from the first)."""
        real = inputs > 0
        count = real.long().cumsum(1)  # 1 at the first real item
        periods = torch.tensor(self.periods, device=inputs.device)
        return real[..., None] & (count[..., None] % periods == 0)

    def _front(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Index that moves each row's real items to the front, and the one that moves them back."""
        length = inputs.shape[1]
        pads = length - (inputs > 0).sum(dim=1)
        positions = torch.arange(length, device=inputs.device)
        return (positions[None] + pads[:, None]) % length, (positions[None] - pads[:, None]) % length

    def memories(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, L, J, d) memory of every layer after the real items at positions <= t (zero under pads)."""
        length = inputs.shape[1]
        to_front, back = self._front(inputs)
        below = self.dropout(self.item_embedding(inputs.gather(1, to_front)))  # pads (zero vectors) at the back
        index = torch.arange(length, device=inputs.device)
        layers = []
        for period, gru in zip(self.periods, self.grus):
            if period > length:  # a window shorter than the period: this layer (and those above) never updates
                layers.append(torch.zeros_like(below))
                below = layers[-1]
                continue
            outputs = gru(below[:, period - 1 :: period])[0]  # one output per update: after real items p, 2p, ...
            done = (index + 1) // period  # updates done by front position i
            state = outputs[:, (done - 1).clamp(min=0)] * (done > 0)[None, :, None]
            layers.append(state)
            below = state
        memory = torch.stack(layers, dim=2)  # front layout
        memory = memory.gather(1, back[:, :, None, None].expand(-1, -1, *memory.shape[2:]))
        return memory * (inputs > 0)[..., None, None]

    def _read(self, inputs: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(B, L, d) output vector: attention over the layer memories queried by the current item."""
        current = self.dropout(self.item_embedding(inputs))
        query = self.query(current)
        first, rest = self.attention[0], self.attention[1:]
        w_q, w_m, w_diff, w_prod = first.weight.split(self.dim, dim=1)
        memory_term = memory @ (w_m - w_diff).T  # the memory part of the first layer does not change between hops
        for hop in range(self.hops):
            # the MLP score of [q, m, q - m, q * m], its first layer split by blocks: the query part once per position
            hidden = (query @ (w_q + w_diff).T + first.bias)[:, :, None] + memory_term + (query[:, :, None] * memory) @ w_prod.T
            weights = torch.softmax(rest(hidden), dim=2)
            read = (weights * memory).sum(dim=2)
            query = read if self.hop_map is None else self.hop_map(query) + read
        hidden = self.out(torch.cat([query, current], dim=-1))
        return self.dropout(hidden * (inputs > 0)[..., None])

    def encode(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self._read(inputs, self.memories(inputs))

    def covariance_penalty(self, memory: torch.Tensor) -> torch.Tensor:
        """(N,) Frobenius norm of the off-diagonal J x J covariance of each (J, d) set of layer memories."""
        centred = memory - memory.mean(dim=-1, keepdim=True)
        cov = centred @ centred.transpose(-1, -2) / memory.shape[-1]
        off = cov - torch.diag_embed(torch.diagonal(cov, dim1=-2, dim2=-1))
        return off.flatten(1).norm(dim=1)

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, inputs, targets = batch[:3]
        memory = self.memories(inputs)
        hidden = self._read(inputs, memory)
        valid = targets > 0
        loss = next_item_loss(hidden[valid], targets[valid] - 1, self.output_weights(), self.negatives, self.output_bias())
        if self.cov_weight > 0 and len(self.periods) > 1:
            loss = loss + self.cov_weight * self.covariance_penalty(memory[valid]).mean()
        return loss
