"""Non-neural next-item baselines: most popular, and a first-order Markov chain.

Both are fitted by counting over every user's whole training history (all
transitions, whatever the ``windows`` setting of the neural models) of a :class:`SequenceData`
and expose the same ``scores(users, inputs)`` as the neural models, so the same
evaluation code ranks them.
"""

from __future__ import annotations

import numpy as np
import torch

from .sequences import SequenceData


def _training_transitions(data: SequenceData) -> tuple[np.ndarray, np.ndarray]:
    """(previous token, next item index) of every transition in the training histories (without the last two items)."""
    histories = [s[:-2] for s in data.sequences]
    previous = np.concatenate([h[:-1] for h in histories]) + 1
    following = np.concatenate([h[1:] for h in histories])
    return previous, following


def _popularity(data: SequenceData) -> np.ndarray:
    """How often each item occurs in the training histories."""
    return np.bincount(np.concatenate([s[:-2] for s in data.sequences]), minlength=data.n_items).astype(float)


class MostPopular:
    """Every user gets the items most often seen in the training histories."""

    name = "most_popular"

    def __init__(self, data: SequenceData, device: str = "cpu") -> None:
        self.popularity = torch.as_tensor(_popularity(data), dtype=torch.float32, device=device)
        self.n_parameters = 0

    def scores(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.popularity.expand(len(users), -1)


class MarkovChain:
    """Score of item j after last item i = count of i -> j transitions in training, popularity to break ties.

    The popularity term is scaled below one count, so it only orders items with
    the same transition count (and ranks everything after an unseen last item).
    """

    name = "markov_chain"

    def __init__(self, data: SequenceData, device: str = "cpu") -> None:
        previous, following = _training_transitions(data)
        counts = np.zeros((data.n_items + 1, data.n_items))
        np.add.at(counts, (previous, following), 1.0)
        popularity = _popularity(data)
        counts += popularity / (popularity.max() + 1.0)
        self.transitions = torch.as_tensor(counts, dtype=torch.float32, device=device)
        self.n_parameters = 0

    def scores(self, users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.transitions[inputs[:, -1]]
