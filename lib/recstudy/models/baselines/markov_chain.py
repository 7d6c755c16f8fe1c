"""First-order Markov chain: the non-neural next-item baseline of the sequential study.

Fitted by counting over every user's whole training history (all transitions) of a
:class:`~recstudy.data.sequences.SequenceData`; it exposes the same
``scores(users, inputs)`` as the neural models, so the same evaluation code ranks it.
"""

from __future__ import annotations

import numpy as np
import torch

from recstudy.data.sequences import SequenceData
from recstudy.models.baselines.popularity import MostPopular


class MarkovChain:
    """Score of item j after last item i = count of i -> j transitions in training, popularity to break ties.

    The popularity term is scaled below one count, so it only orders items with
    the same transition count (and ranks everything after an unseen last item).
    """

    defaults: dict = {}

    n_parameters = 0

    def __init__(self, n_users: int, n_items: int, device: str = "cpu") -> None:
        self.n_users, self.n_items, self.device = n_users, n_items, device

    def fit(self, data: SequenceData) -> "MarkovChain":
        previous, following = data.training_transitions()
        counts = np.zeros((self.n_items + 1, self.n_items))
        np.add.at(counts, (previous, following), 1.0)
        popularity = MostPopular(self.n_users, self.n_items).fit(*data.training_pairs()).item_counts.numpy().astype(float)
        counts += popularity / (popularity.max() + 1.0)
        self.transitions = torch.as_tensor(counts, dtype=torch.float32, device=self.device)
        return self

    def scores(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.transitions[inputs[:, -1]]
