"""The MLP model of neural collaborative filtering (He et al., "Neural Collaborative Filtering", WWW 2017).

User and item embeddings are concatenated and fed through a tower of ReLU layers; a
linear layer on the last hidden layer gives the logit. ``layers`` follows the authors'
convention (their MLP.py): ``layers[0]`` is the width of the concatenation, so each
embedding has ``layers[0] // 2`` factors, and ``Linear(layers[i] -> layers[i+1])`` + ReLU
follow; the last width is the number of predictive factors. The paper's towers halve
each layer (e.g. 64, 32, 16, 8); other widths are accepted.

Departures: Adam with the study's one training loop (the paper also uses Adam); no L2
regularisation by default (their code exposes it as ``reg_layers``, all 0 by default);
embeddings initialised N(0, 0.01) as in the paper, linear layers with PyTorch's default
(their code uses Glorot uniform).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn

# Scoring every item for a block of users materialises (users x items x first layer)
# activations; blocks are cut so that stays below this many floats (~64 MB).
_SCORE_BLOCK_ELEMENTS = 16_000_000


class MLP(nn.Module):
    """Embeddings of ``layers[0] // 2`` factors per user and per item, concatenated, then a ReLU tower ``layers``."""

    # Library defaults: the first configuration every tuning budget tries (recstudy.experiments.tuning).
    defaults: dict = {"layers": (64, 32, 16), "lr": 5e-3}

    def __init__(self, n_users: int, n_items: int, layers: Sequence[int] = (16, 8), init_std: float = 0.01) -> None:
        super().__init__()
        layers = tuple(int(width) for width in layers)
        if len(layers) < 2 or min(layers) <= 0 or layers[0] % 2:
            raise ValueError(f"MLP layers must be >= 2 positive widths whose first (the concatenated user and item "
                             f"embeddings) is even, e.g. (16, 8), got {layers}")
        if min(n_users, n_items) <= 0:
            raise ValueError(f"MLP needs positive n_users and n_items, got {n_users}, {n_items}")
        factors = layers[0] // 2
        self.n_users, self.n_items, self.factors, self.layers = n_users, n_items, factors, layers
        self.user_embedding = nn.Embedding(n_users, factors)
        self.item_embedding = nn.Embedding(n_items, factors)
        nn.init.normal_(self.user_embedding.weight, std=init_std)
        nn.init.normal_(self.item_embedding.weight, std=init_std)
        self.tower = nn.ModuleList(nn.Linear(a, b) for a, b in zip(layers[:-1], layers[1:]))
        self.output = nn.Linear(layers[-1], 1)

    @property
    def hidden_size(self) -> int:
        return self.layers[-1]

    def _rest_of_tower(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.tower[1:]:
            x = torch.relu(layer(x))
        return x

    def hidden(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """The last hidden layer (B, layers[-1]): what NeuMF concatenates."""
        x = torch.cat([self.user_embedding(users), self.item_embedding(items)], dim=-1)
        return self._rest_of_tower(torch.relu(self.tower[0](x)))

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of the pairs (users[b], items[b])."""
        return self.output(self.hidden(users, items)).squeeze(-1)

    def _item_part(self) -> torch.Tensor:
        """The items' share of the first layer, (n_items, h1)."""
        return self.item_embedding.weight @ self.tower[0].weight[:, self.factors :].T

    @property
    def score_block_users(self) -> int:
        """How many users :meth:`hidden_blocks` takes at once within the memory bound."""
        return max(1, _SCORE_BLOCK_ELEMENTS // (self.n_items * self.tower[0].out_features))

    def hidden_blocks(self, users: torch.Tensor) -> Iterator[torch.Tensor]:
        """The last hidden layer for every item, (b, n_items, layers[-1]), for each block of ``users``, without autograd.

        The first layer is linear in the concatenation [p_u; q_i], so it splits into a user
        part and an item part computed once each and added by broadcasting. Full ranking
        scores every (user, item) pair, so the cost is memory traffic: the item part is
        computed once per call, every layer writes into one buffer reused by
        every block, and ReLU works in place. Each yielded block is a view of those buffers,
        overwritten by the next one: reduce it (the output layer) before asking for more.
        """
        if torch.is_grad_enabled():
            raise RuntimeError("MLP.hidden_blocks writes into reused buffers: call it under torch.no_grad()")
        step = self.score_block_users
        first = self.tower[0]
        item_part = self._item_part()
        user_parts = self.user_embedding(users) @ first.weight[:, : self.factors].T + first.bias
        buffers = [item_part.new_empty((min(step, len(users)) * self.n_items, layer.out_features)) for layer in self.tower]
        for start in range(0, len(users), step):
            block = user_parts[start : start + step]
            rows = len(block) * self.n_items
            x = torch.add(block[:, None, :], item_part[None, :, :],
                          out=buffers[0][:rows].view(len(block), self.n_items, -1)).view(rows, -1).relu_()
            for layer, buffer in zip(self.tower[1:], buffers[1:]):
                x = torch.addmm(layer.bias, x, layer.weight.T, out=buffer[:rows]).relu_()
            yield x.view(len(block), self.n_items, -1)

    @torch.no_grad()
    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_items) of every item for each user (no autograd), in blocks of users to bound memory."""
        blocks = [self.output(hidden).squeeze(-1) for hidden in self.hidden_blocks(users)]
        return torch.cat(blocks) if blocks else users.new_zeros((0, self.n_items), dtype=torch.float32)
