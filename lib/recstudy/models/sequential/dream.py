"""DREAM (Yu et al., SIGIR 2016, "A Dynamic Recurrent Model for Next Basket Recommendation").

The paper: a user's history is a sequence of baskets; each basket is represented by
pooling the embeddings of its items (max pooling or average pooling, both offered in
the paper); a recurrent network reads the basket sequence,
h_k = f(X b_k + R h_{k-1}) with f the sigmoid; every item is scored by the inner
product of the hidden state with the item's embedding (the same matrix N that embeds
the items of the baskets).

Baskets from a log without baskets. MovieLens has no baskets, so a basket is the set
of a user's interactions that fall into the same calendar bucket
``floor(timestamp / basket_seconds)``: ``basket_seconds=1`` puts items rated in the same
second into one basket, ``basket_seconds=86400`` items rated on the same (UTC) day. A
bucket is a fixed calendar slot, not a window started by a basket's first item nor a gap
to the previous item: it is transitive, needs no sequential scan, and at 1 s all three
readings coincide (integer timestamps). Share of ML-100K interactions whose basket
holds more than one item (all 100,000 ratings, users' full histories, measured with
``basket_share`` below): 75.8 % at ``basket_seconds=1``, 90.1 % at 60, 99.4 % at 3600
and 99.6 % at ``basket_seconds=86400``. ML-100K users rate in bursts, so even same-second
baskets are the rule, and a one-day basket is usually a whole rating session.

Causality (every position predicts the next token). Position t may see only positions
<= t, yet its basket may go on after t. Its hidden state is therefore the recurrent
state after the *completed* earlier baskets, advanced by one step with the *partial*
basket: the items of t's basket at positions <= t, pooled. At the last position of a
basket this is exactly the paper's state after that basket, so the last input position
(which gives the ranking scores) is the paper's DREAM state after all input baskets.
Whole-tensor computation: basket ids from a cumulative sum of "new basket" flags;
partial-basket pooling by a segmented Hillis-Steele scan (log2 L steps of shifted
max / sum restricted to the same basket); the completed baskets are gathered to the
front of a (B, K, d) tensor and read by the recurrent cell (a loop over the at most L
basket steps, as any RNN needs); every position then takes one batched cell step from
the state before its basket.

Padding-neutral: basket ids count from the first real item, pads belong to no basket
and their timestamps are never read, the recurrent state starts at zero before the
first basket, and the hidden vector under a pad is zero. With ``pooling="max"`` the
representation of a basket does not depend on the order of its items (mean pooling
neither, up to float rounding), so the arbitrary order of same-second ratings matters
only inside a partial basket (for the training positions within a basket).

Choices and departures from the paper
- Pooling: ``pooling="max"`` by default: in the paper's experiments max pooling did
  better than average pooling, and it is exactly order-free and insensitive to how many
  copies of a taste a basket holds; ``"mean"`` (the paper's other variant) is an option.
- Recurrent cell: ``cell="rnn"`` is the paper's sigmoid Elman RNN (default);
  ``cell="gru"`` swaps in a GRU (as the public re-implementations offer GRU/LSTM).
- Loss: the paper trains with BPR against sampled negatives; this study trains every
  model with the shared full-softmax cross-entropy over all items (``negatives > 0`` in
  the trainer gives a sampled binary loss instead), with dropout on the pooled basket
  and on the hidden state instead of the paper's L2 penalty.
- Target: the paper predicts the whole next basket; here each position predicts the
  next single item (the study's next-item protocol), including the next item of the
  same basket.
- Output layer tied to the input item embedding (the paper's single matrix N).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from recstudy.models.sequential.base import SequentialRecommender


class SigmoidRNNCell(nn.Module):
    """The paper's recurrent step h' = sigmoid(X b + R h) (an Elman cell with the sigmoid)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.input = nn.Linear(dim, dim)
        self.recurrent = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.input(x) + self.recurrent(h))


def segmented_scan(values: torch.Tensor, segments: torch.Tensor, op) -> torch.Tensor:
    """Inclusive scan of ``values`` (B, L, d) along dim 1 with ``op``, restarted wherever ``segments`` (B, L) changes.

    Segments must be contiguous runs (as basket ids are). Hillis-Steele: after the step
    with shift s, position t holds op over the last 2s positions of its segment.
    """
    length = values.shape[1]
    shift = 1
    while shift < length:
        earlier = F.pad(values[:, :-shift], (0, 0, shift, 0))
        same = F.pad(segments[:, :-shift], (shift, 0), value=-2) == segments
        values = torch.where(same[..., None], op(values, earlier), values)
        shift *= 2
    return values


def basket_ids(inputs: torch.Tensor, times: torch.Tensor, basket_seconds: int) -> torch.Tensor:
    """(B, L) index of each real position's basket, counted from 0 at the first real item; -1 under pads."""
    real = inputs > 0
    bucket = torch.div(times, basket_seconds, rounding_mode="floor")
    previous_real = F.pad(real[:, :-1], (1, 0), value=False)
    new = real & (~previous_real | (bucket != F.pad(bucket[:, :-1], (1, 0))))
    return torch.where(real, new.long().cumsum(1) - 1, torch.full_like(inputs, -1))


def basket_share(table: pd.DataFrame, basket_seconds: int) -> float:
    """Share of the interactions of ``table`` (user, timestamp) whose basket has more than one item."""
    bucket = table["timestamp"].to_numpy() // basket_seconds
    sizes = pd.Series(1, index=pd.MultiIndex.from_arrays([table["user"].to_numpy(), bucket])).groupby(level=[0, 1]).transform("size")
    return float(np.mean(sizes.to_numpy() > 1))


class DREAM(SequentialRecommender):
    # Library defaults (hyper-parameters and learning rate) for a run that is not tuned; notebooks 06-10 tune
    # every model with the same Optuna budget instead (recstudy.experiments.optuna_tuning.SEARCH_SPACES).
    defaults: dict = {"dim": 64, "dropout": 0.2, "lr": 5e-3}
    uses_time = True

    def __init__(self, n_items: int, dim: int = 64, dropout: float = 0.2, pooling: str = "max", cell: str = "rnn",
                 basket_seconds: int = 1, n_users: int = 0) -> None:
        super().__init__(n_items, dim, n_users)
        if pooling not in ("max", "mean"):
            raise ValueError(f"pooling must be 'max' or 'mean', got {pooling!r}")
        if cell not in ("rnn", "gru"):
            raise ValueError(f"cell must be 'rnn' or 'gru', got {cell!r}")
        if basket_seconds < 1:
            raise ValueError(f"basket_seconds must be >= 1, got {basket_seconds}")
        self.pooling, self.basket_seconds = pooling, int(basket_seconds)
        self.cell = SigmoidRNNCell(dim) if cell == "rnn" else nn.GRUCell(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def baskets(self, inputs: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """(B, L) basket index of every real position (0 = the first basket), -1 under pads."""
        return basket_ids(inputs, times, self.basket_seconds)

    def partial_baskets(self, inputs: torch.Tensor, basket: torch.Tensor) -> torch.Tensor:
        """(B, L, d) pooled embedding of the items of each position's basket at positions <= t."""
        emb = self.item_embedding(inputs)
        if self.pooling == "max":
            return segmented_scan(emb, basket, torch.maximum)
        summed = segmented_scan(torch.cat([emb, torch.ones_like(emb[..., :1])], dim=-1), basket, torch.add)
        return summed[..., :-1] / summed[..., -1:]

    def encode(self, users: torch.Tensor, inputs: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        batch, length = inputs.shape
        real = inputs > 0
        basket = self.baskets(inputs, times)
        partial = self.dropout(self.partial_baskets(inputs, basket))
        # Completed baskets, gathered to the front: basket k of row b is the partial basket at its last position.
        last = real & (F.pad(basket[:, 1:], (0, 1), value=-2) != basket)
        n_baskets = int(basket.max().item()) + 1 if real.any() else 0
        complete = partial.new_zeros(batch, max(n_baskets, 1), self.dim)
        rows = torch.arange(batch, device=inputs.device)[:, None].expand(-1, length)
        complete = complete.index_put((rows[last], basket[last]), partial[last])
        # states[:, k] = recurrent state after the first k baskets (k = 0: zero). The last basket's own
        # state is never needed as "state before": the positions inside it take their own step below.
        state = partial.new_zeros(batch, self.dim)
        states = [state]
        for k in range(n_baskets - 1):
            state = self.cell(complete[:, k], state)
            states.append(state)
        states = torch.stack(states, dim=1)  # (B, max(K, 1), d)
        before = states.gather(1, basket.clamp(min=0)[..., None].expand(-1, -1, self.dim))
        hidden = self.cell(partial.reshape(-1, self.dim), before.reshape(-1, self.dim)).view(batch, length, self.dim)
        return self.dropout(hidden * real[..., None])
